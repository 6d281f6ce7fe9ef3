// IDX bytes → preprocessed float tensors (N, C, H, W) and int64 labels, and the data of
// a scenario: validated before any work, preprocessed, hashed for the model cache key.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "nn/graph.h"
#include "nn/idx.h"

namespace lpsim::nn {

struct Scenario;

struct TensorDataset {
  torch::Tensor images;  // float32 (N, C, H, W), preprocessed
  torch::Tensor labels;  // int64 (N)
  int64_t size() const { return images.size(0); }
};

// Fashion-MNIST training-set statistics (pixels / 255).
inline constexpr float kFashionMean = 0.2860f, kFashionStd = 0.3530f;

// x = pixel / 255, then per channel (x - mean[c]) / std[c] in float32. Empty mean/std:
// pixel / 255 only; one entry: the same for every channel.
struct Preprocessing {
  std::vector<float> mean, std;
  std::string source;  // fashion-mnist constants | training-set statistics | scenario | none
};
inline Preprocessing fashion_preprocessing() { return {{kFashionMean}, {kFashionStd}, "fashion-mnist constants"}; }

// Per-channel mean and population standard deviation of pixel / 255 over every image
// (exact: from per-channel byte histograms, in double, then rounded to float).
Preprocessing channel_statistics(const IdxImages& images);

// First `limit` items (0: all).
TensorDataset to_tensors(const IdxImages& images, const IdxLabels& labels, int64_t limit, const Preprocessing& p);
inline TensorDataset to_tensors(const IdxImages& images, const IdxLabels& labels, int64_t limit = 0) {
  return to_tensors(images, labels, limit, fashion_preprocessing());
}

// A scenario's data, ready to train and evaluate on.
struct ScenarioData {
  TensorDataset train, test;
  InputShape shape;            // what the model must take: channels, height, width, classes
  Preprocessing preprocessing;
  DatasetFiles files;
  uint64_t content_hash = 0;   // dataset_content_hash of the four files
  double hash_seconds = 0;
  // The dataset's identity for model cache keys: name, content hash, layout,
  // preprocessing, training-set limit (the test limit is part of each configuration's key).
  std::string key;
  std::string report_json;     // the `dataset` object of report.json
};

// Resolves and inspects the files (headers and labels: every shape, count and class
// problem is found before the images are read), checks dataset.normalize against the
// channels, reads, preprocesses and hashes. progress: a line on stderr.
ScenarioData load_scenario_data(const Scenario& s, bool progress);

}  // namespace lpsim::nn
