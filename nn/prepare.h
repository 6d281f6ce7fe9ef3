// The part of a scenario every command that runs its network shares (`lpsim run`,
// `lpsim sim`): the data, the validation slice, the FP32 model (trained once and cached,
// or imported) and the seeded calibration images. Includes Torch: for nn's own sources.
#pragma once

#include <torch/torch.h>

#include <algorithm>
#include <functional>
#include <string>

#include "nn/data.h"
#include "nn/executor.h"
#include "nn/graph.h"
#include "nn/net.h"
#include "nn/scenario.h"
#include "nn/train.h"

namespace lpsim::nn {

struct PreparedModel {
  ScenarioData data;
  TensorDataset train, validation;  // train: without the validation slice
  GraphNet model{nullptr};
  std::string model_key;            // the model cache key (training or TorchScript file + data)
  TrainConfig tc;                   // model.train
  torch::Tensor calib_order;        // seeded permutation of the training images
  torch::Tensor calib;              // the first calibration_images of it
  // The first n training images of the seeded permutation (calibration source `data`):
  // calib itself when n is its size.
  torch::Tensor data_calibration(int64_t n) const {
    return n == calib.size(0) ? calib : train.images.index_select(0, calib_order.slice(0, 0, std::min<int64_t>(n, train.size())));
  }
};

// A configuration's per-layer quantisation on graph g (its layer overrides resolved and
// checked): what `lpsim run` executes.
std::vector<LayerQuant> resolve_config(const QuantConfigSpec& c, const Graph& g);

// check_layers(graph) runs before any training (e.g. resolving the configurations'
// layer names), so a bad layer name fails before the work.
PreparedModel prepare_model(const Scenario& s, bool progress,
                            const std::function<void(const Graph&)>& check_layers = {});

}  // namespace lpsim::nn
