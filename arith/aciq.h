// ACIQ analytical clipping (papers.md §4, Banner et al., NeurIPS 2019) and SAWB clipping
// (papers.md §2, LUQ forward quantizer). The optimal clip α* is the root of dMSE/dα = 0
// for a Laplace(b) or Gaussian(σ) prior with 2^M uniform bins, solved numerically.
#pragma once

#include <span>

namespace lpsim::arith {

enum class ClipPrior { laplace, gauss };

// MSE of clipping at α (in units of b or σ = 1) plus the uniform-noise term.
// Two-sided, 2^M bins over [-α, α]:
//   Laplace  2e^{-α} + α²/(3·4^M)
//   Gauss    (α²+1)(1 - erf(α/√2)) - √(2/π)·α·e^{-α²/2} + α²/(3·4^M)
// One-sided (post-ReLU), 2^M bins over [0, α]: exponential prior 2e^{-α} + α²/(12·4^M),
// half-normal with the same clip term as the two-sided Gaussian and noise α²/(12·4^M).
// So one-sided at M equals two-sided at M+1 (papers.md §4 notes).
double aciq_mse(ClipPrior prior, int bits, double alpha, bool one_sided);

// α* in units of b (Laplace) or σ (Gauss): the root of the analytic dMSE/dα, by bisection
// to < 1e-12. bits M in 1..8, and also 0 for Laplace; else InputError.
double aciq_optimal_alpha(ClipPrior prior, int bits, bool one_sided);

struct DistributionFit {
  double mean = 0;
  double b = 0;      // Laplace scale: mean |x - mean| (its MLE about the mean)
  double sigma = 0;  // unbiased standard deviation
};
DistributionFit fit_distribution(std::span<const float> x);

// α for a tensor: α*·b or α*·σ (two-sided: fit_distribution, needs >= 2 values). For
// one_sided tensors (post-ReLU) the scale is the MLE of the one-sided prior over the
// positive entries x > 0 only: b = mean(x) (exponential), σ = sqrt(mean(x²)) (half-normal).
// Zeros are exact grid points, so they neither add error nor should shrink the scale.
// Returns 0 if no entry is positive. Empty tensor: InputError.
double aciq_clip(std::span<const float> x, ClipPrior prior, int bits, bool one_sided);

// SAWB (Choi et al. 2018; 4-bit coefficients c1 = 12.1, c2 = 12.2):
// clip = c1·sqrt(mean(x²)) - c2·mean|x|. It is <= 0 when rms/mean|x| <= c2/c1 (near-constant
// magnitudes); callers must handle that. Empty tensor: InputError.
double sawb_clip(std::span<const float> x, double c1 = 12.1, double c2 = 12.2);

}  // namespace lpsim::arith
