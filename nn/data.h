// IDX bytes → normalised float tensors (N, 1, 28, 28) and int64 labels.
#pragma once

#include <torch/torch.h>

#include "nn/idx.h"

namespace lpsim::nn {

struct TensorDataset {
  torch::Tensor images;  // float32 (N, C, H, W), normalised with the dataset mean/std
  torch::Tensor labels;  // int64 (N)
  int64_t size() const { return images.size(0); }
};

// Fashion-MNIST training-set statistics (pixels / 255).
inline constexpr float kFashionMean = 0.2860f, kFashionStd = 0.3530f;

// First `limit` items (0: all).
TensorDataset to_tensors(const IdxImages& images, const IdxLabels& labels, int64_t limit = 0);

}  // namespace lpsim::nn
