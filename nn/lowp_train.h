// Low-precision training (papers.md §2 LUQ, §3 lognormal gradients): every conv/linear's
// three GEMMs in low precision, through LibTorch autograd, with the quantisers of arith/
// (no second implementation).
//
//  * luq:   forward INT4 SAWB weights and activations (papers.md §2: clip c1·rms − c2·mean|x|,
//           weights on [−7, 7], activations on [0, 15] when never negative, else [−7, 7];
//           round half to even; straight-through backward); the neural gradient (w.r.t. the
//           layer output) LUQ-quantised onto {0, ±α·2^k} (arith::luq_quantize), `smp`
//           independent samples each through its own backward GEMMs, averaged.
//  * fp8:   FP32 forward; the neural gradient scaled by the centring scale e^(−μ) of its
//           lognormal fit, rounded (nearest or seeded stochastic) onto an ExMy — fixed, or
//           chosen per layer once per epoch by the least relative MSE for the fitted σ
//           (arith::choose_lognormal_format) — and scaled back.
//  * prune: FP32 forward; the neural gradient stochastically pruned to a target sparsity
//           with the lognormal threshold (arith::lognormal_prune).
//
// Determinism (the same bits on 1 and 2 threads; tested on LeNet-5 and ResNet-8): under
// LUQ the GEMM operands are integers times one scale each (INT4 codes, ±2^k), so every
// sum is exact (float32 where partial sums stay below 2^24, else float64) whatever the
// summation order, and equal to the shift-and-add golden unit (luq_mul/luq_mac
// semantics). Under fp8/prune the GEMMs are float32 with reductions in a fixed order: the
// forward and input-gradient convolutions reduce each output within one thread (one
// LibTorch call on the whole batch; its bits are checked not to depend on the thread
// count), the weight gradient is summed over fixed chunks of 16 images in order, each
// chunk reduced by one thread (LibTorch's kernel on the whole batch splits the batch over
// the threads), the bias gradient is a sequential float64 sum.
// The method fp32 is LibTorch's own module (the baseline): bit-identical at a fixed thread
// count only. Random draws: element i of the gradient of layer l at step t under seed s
// draws RandomStream(mix(s, t), l·16 + sample).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "arith/float_format.h"
#include "nn/data.h"
#include "nn/gradient_spec.h"
#include "nn/net.h"
#include "nn/train.h"

namespace lpsim::nn {


// One layer's gradient statistics at its last backward pass.
struct GradientLog {
  std::string layer;
  double mu = 0, sigma = 0;        // ln|g| over the non-zeros
  std::string format;              // fp8: the format used
  double sparsity = 0;             // fraction of zeros after quantisation/pruning
  double alpha = 0;                // luq: the smallest level
  int64_t steps = 0;
};

// The seed of every draw at optimizer step `step` (the streams separate layers and samples).
uint64_t lowp_step_seed(uint64_t seed, int64_t step);

// SAWB INT4 codes of x (integer-valued float tensor) and the scale: real ≈ scale·codes.
// is_weight: [−7, 7]; else [0, 15] when x ≥ 0, [−7, 7] otherwise.
std::pair<torch::Tensor, double> sawb_int4(const torch::Tensor& x, bool is_weight);

class LowpNet {
 public:
  LowpNet(GraphNet net, GradientSpec spec, uint64_t seed);
  // The network's logits under autograd, with every conv/linear as a low-precision GEMM.
  torch::Tensor forward(const torch::Tensor& x);
  // log_stats: fill the gradient log at this step (LUQ fits ln|g| only for the log; fp8
  // and prune fit at every step, the fit is their scale and threshold).
  void set_step(int64_t step, bool log_stats = true) { step_ = step, log_stats_ = log_stats; }
  const std::vector<GradientLog>& log() const { return log_; }
  const GradientSpec& spec() const { return spec_; }
  GraphNet& net() { return net_; }

  // The operands of one gemm layer's three GEMMs at a step, for energy accounting
  // (nn/lowp_energy.h): x, w as the GEMMs use them (LUQ: INT4 codes; else float values,
  // x as the layer's input, w as the weight tensor), g the quantised neural gradient of
  // the first sample in units of g_unit (LUQ: ±2^k with g_unit = α; fp8: format values
  // with g_unit = e^μ, the format's unit; else float values, g_unit = 1).
  struct GemmRecord {
    int node = -1;
    torch::Tensor x, w, g;
    double g_unit = 1;
    arith::FloatFormat format;  // fp8: the gradient's format at this step
  };
  // While set, every step's operands land in (*r)[gemm index] (fp32 too goes through the
  // autograd function then).
  void record_operands(std::vector<GemmRecord>* r) {
    record_ = r;
    if (r) r->assign(log_.size(), GemmRecord{});
  }

  // Internal state of one layer, shared with its autograd node.
  struct Layer {
    LowpNet* owner = nullptr;
    int node = -1, index = 0;  // graph node, and position among the gemm layers
    arith::FloatFormat format;  // fp8: the format of the last step
  };

 private:
  friend struct LowpGemmFn;
  torch::Tensor gemm(int i, const torch::Tensor& x);
  GraphNet net_;
  GradientSpec spec_;
  uint64_t seed_;
  int64_t step_ = 0;
  bool log_stats_ = true;
  std::vector<Layer> layers_;  // per node
  std::vector<GradientLog> log_;  // per gemm layer
  std::vector<GemmRecord>* record_ = nullptr;
};

// SHA-256 (hex) of a network's parameters and buffers in name order, as raw float bytes:
// the identity of the final weights of a training run.
std::string weights_sha256(GraphNet& net);

// Per epoch: every layer's gradient statistics at its last step of the epoch.
struct EpochGradients {
  int epoch = 0;
  std::vector<GradientLog> layers;
};

// Top-1 (0..1) of lp's network on test in eval mode, through the training forward
// (lowp_forward: INT4 SAWB GEMMs under luq, with per-batch activation scales) or FP32.
double lowp_test_accuracy(LowpNet& lp, const TensorDataset& test, bool lowp_forward, int batch = 1000);

// Trains net (already initialised: fresh, or the FP32 model) with spec's GEMMs for
// cfg.epochs (then spec.fnt_epochs in FP32), cached and resumable under cache_dir like the
// FP32 model (nn/train.h). base_key names the starting point. Logs: the gradient
// statistics of the epochs run in this call (a cached result has none). With a test set,
// the result's curve holds every epoch's loss and test top-1 through the training forward
// (FNT epochs: FP32), stored beside the cached model (a cached result has it too).
TrainResult lowp_train_or_load(GraphNet& net, const TensorDataset& train, const TrainConfig& cfg,
                               const GradientSpec& spec, const std::string& base_key,
                               const std::filesystem::path& cache_dir, const Progress& progress,
                               std::vector<EpochGradients>* logs = nullptr, const TensorDataset* test = nullptr);

// The quantised neural gradient of one layer (the values the backward GEMMs use), for
// tests: luq → {0, ±α·2^k}; fp8 → format values / scale (with gradients: auto, *format is
// first chosen for this gradient's fit); prune → pruned. Fills the log.
// log (optional) gets μ, σ of ln|g|, sparsity, α and the format. fit_for_log false (a
// step whose statistics are not logged): no sparsity count, and under luq, where the fit
// serves only the log, no fit (μ = σ = 0).
torch::Tensor quantise_gradient(const GradientSpec& spec, const torch::Tensor& g, uint64_t seed, uint32_t stream,
                                arith::FloatFormat* format, GradientLog* log, bool fit_for_log = true);

}  // namespace lpsim::nn
