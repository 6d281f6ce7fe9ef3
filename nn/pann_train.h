// PANN-aware training (papers.md §1: PANN "can be applied to a pre-trained network or used
// during training"): the trained FP32 model fine-tuned for a few epochs with the
// configuration's quantiser in the forward pass and straight-through gradients, so that
// the weights settle where the converted network (QuantizedExecutor) is accurate.
//
// What is trained is what is converted: every conv/linear layer is evaluated on
//  * its weight with a following BatchNorm folded in (nn/executor.h fold_gemm: frozen
//    eval-mode statistics; gradients reach the conv weight and bias through the fold),
//    rounded as the executor rounds it (quantise_weights: for PANN γ = pann_gamma per
//    output channel or per tensor, w̃ = round(w/γ) on the int16 grid), recomputed from
//    the current weights at every step: w_q = γ·(w̃ − z);
//  * its input rounded onto the activation format with the executor's scale and zero
//    point (activation_codes: unsigned b̃_x bits, asymmetric): x_q = s·(q − z);
// with the straight-through estimator v + (Q(v) − v).detach() for both (plain STE: the
// gradient passes unchanged, also where the rounding saturates). All rounding is
// arith::quantize's. The activation scales come from the executor's own calibration on the
// calibration images, recomputed on the current weights at the start of every epoch (the
// executor recalibrates the fine-tuned model the same way when it converts it). Not
// modelled: accumulator overflow (wrap/saturate) and sequential FP32 accumulation — the
// forward sums the quantised operands in float32.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "nn/data.h"
#include "nn/executor.h"
#include "nn/train.h"

namespace lpsim::nn {

// A network with fake-quantised conv/linear operands and straight-through gradients.
// Works on the caller's module (its parameters are trained); BN nodes folded into a conv
// are skipped, the others run in eval mode.
class FakeQuantNet {
 public:
  FakeQuantNet(GraphNet net, std::vector<LayerQuant> layers, int threads = 2);

  // Activation scales and zero points of the quantised layers: QuantizedExecutor::calibrate
  // on `images` with the current weights (the same function the conversion uses).
  void calibrate(const torch::Tensor& images);

  // Logits, differentiable with respect to the conv/linear parameters. Puts the module in eval mode.
  torch::Tensor forward(const torch::Tensor& x);

  double input_scale(int i) const { return act_scale_.at(i); }
  double input_zero(int i) const { return act_zero_.at(i); }
  const std::vector<bool>& folded_bn() const { return folded_bn_; }

 private:
  torch::Tensor gemm(int i, const torch::Tensor& x);

  GraphNet net_;
  std::vector<LayerQuant> layers_;
  int threads_;
  std::vector<bool> folded_bn_;
  std::vector<double> act_scale_, act_zero_;
  bool calibrated_ = false;
};

// Cache key of a fine-tuned model: the FP32 model's key, every layer's quantisation (PANN
// R, formats, per-channel), the fine-tuning hyper-parameters (epochs, lr, batch, momentum,
// weight decay, schedule, seed, threads), the training-set size and the calibration images' bytes.
std::string pann_training_key(const std::string& fp32_key, const Graph& g, const std::vector<LayerQuant>& layers,
                              const TrainConfig& cfg, const torch::Tensor& calib, int64_t train_size);

// Fine-tunes net (a copy of the trained FP32 model; changed in place) with cfg (epochs
// and lr are the fine-tuning's) through FakeQuantNet, SGD + momentum on the conv/linear
// weights and biases (BN frozen), or loads the result from
// cache_dir/<pann_training_key>/model.pt. Resumable per epoch (nn/train.h run_epochs);
// same seed and thread count, same bits.
TrainResult pann_train_or_load(GraphNet& net, const TensorDataset& train, const torch::Tensor& calib,
                               const std::vector<LayerQuant>& layers, const TrainConfig& cfg,
                               const std::string& fp32_key, const std::filesystem::path& cache_dir,
                               const Progress& progress = nullptr);

}  // namespace lpsim::nn
