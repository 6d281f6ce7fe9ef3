// Data-free calibration images ("The Knowledge Within", Haroush et al., CVPR 2020;
// shared/papers.md §5): Gaussian noise (method 1), and noise optimised so that the batch
// statistics at every BatchNorm layer's input match the layer's running statistics (BNS,
// method 3). A trained BN network remembers the mean and variance of its training data at
// every BN layer; inputs that reproduce them stand in for the data when calibrating
// quantisation ranges, and the same loss on a real batch measures how much a candidate
// dataset resembles the training data.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>

#include "nn/graph.h"
#include "nn/net.h"

namespace lpsim::nn {

// Gaussian-noise calibration images: n × C × H × W, N(0, 1) in the network's input space
// (the preprocessed space: inputs are already normalised), from `seed` (bit-identical per seed).
torch::Tensor noise_images(int64_t n, const InputShape& shape, uint64_t seed);

// L_BNS = Σ_l Σ_c KL(N(μ̂, σ̂²) ‖ N(μ, σ²)) = Σ [log(σ/σ̂) + (σ̂² + (μ̂ − μ)²)/(2σ²) − ½] over every
// BatchNorm layer l and channel c, μ̂/σ̂² the batch mean / biased variance of the BN layer's
// *input* over (N, H, W), μ/σ² its running statistics (σ² = running_var + eps, σ̂² = batch
// var + eps). Differentiable w.r.t. x (a scalar of x's dtype). The network is put in eval
// mode (BN normalises with, and never updates, its running statistics). A network without
// BN: InputError (key `calibration`).
torch::Tensor bn_statistics_loss(GraphNetImpl& net, const torch::Tensor& x);

struct BnSynthesisOptions {
  int64_t images = 256;  // synthetic images returned
  int64_t batch = 64;    // images optimised together (the statistics are per batch)
  int steps = 200;       // Adam steps per batch
  double lr = 0.1;
  uint64_t seed = 1;
  // The valid input range per channel (C values each; undefined: unbounded): the images
  // of pixel values 0 and 1 after the dataset's normalisation. The start and every Adam
  // step are projected into it, so the images stay images the preprocessing could make.
  torch::Tensor input_lo, input_hi;
};

struct BnSynthesisResult {
  torch::Tensor images;                     // images × C × H × W (float32, detached)
  double initial_loss = 0, final_loss = 0;  // mean over batches of L_BNS at the start and the end
};

// Batches of noise (noise_images(images, shape, seed), cut into batches in order) optimised
// with Adam so that L_BNS → 0 (papers.md §5, method 3). The last batch holds the remainder
// when batch does not divide images. progress(done_steps, total_steps) is called now and
// then (may be empty). Bit-identical for a seed at a fixed at::get_num_threads() (which
// this leaves alone). The net's parameters and buffers are not modified, no gradient is
// accumulated into them, and the net is left in eval mode. InputError on bad options
// (keys calibration.images / .batch / .steps / .lr), a shape other than the graph's input
// (key dataset) or a network without BN (key calibration).
BnSynthesisResult synthesise_bn_images(GraphNetImpl& net, const InputShape& shape, const BnSynthesisOptions& opt,
                                       const std::function<void(int64_t, int64_t)>& progress = {});

}  // namespace lpsim::nn
