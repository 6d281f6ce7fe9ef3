// The low-precision training settings of a configuration (`training:` in a scenario;
// nn/lowp_train.h runs them). Torch-free, so the scenario parser stays light.
#pragma once

#include <string>

namespace lpsim::nn {

struct GradientSpec {
  std::string method = "fp32";       // fp32 | luq | fp8 | prune
  int smp = 1;                       // luq: samples averaged
  int luq_levels = 7;                // luq: 7 (a 4-bit code) or 8 (the reference code)
  std::string format = "auto";       // fp8: auto | a format name (fp8_e5m2, fp8_e4m3, e3m4, ...)
  int format_bits = 8;               // fp8 auto: the total width to choose within
  std::string rounding = "nearest";  // fp8: nearest | stochastic
  double sparsity = 0.85;            // prune: target fraction of zero gradients
  int fnt_epochs = 0;                // luq: FP32 fine-tuning epochs at the end (FNT)
  std::string from = "scratch";      // scratch (fresh seeded init) | fp32 (the cached FP32 model)
};

// The version of a method's numerics, in every key that caches its results (the trained
// model, a configuration's results): lowp-6 for fp8/prune (float32 forward, thread-
// independent backward reductions: a convolution's weight gradient per chunk of 16
// images, its input gradient in one call on the whole batch; the ln|g| fit by a vectorised
// log summed in 8 lanes per block), lowp-3 for LUQ (SAWB's sums in 8 lanes per block);
// fp32's bits are unchanged since lowp-2.
inline const char* lowp_version(const GradientSpec& spec) {
  if (spec.method == "fp8" || spec.method == "prune") return "lowp-6";
  return spec.method == "luq" ? "lowp-3" : "lowp-2";
}

}  // namespace lpsim::nn
