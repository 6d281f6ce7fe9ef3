// ACIQ analytical clipping (papers.md §4, Banner et al., NeurIPS 2019) and SAWB clipping
// (papers.md §2, LUQ forward quantizer). The optimal clip α* is the root of dMSE/dα = 0
// for a Laplace(b) or Gaussian(σ) prior with 2^M uniform bins, solved numerically.
#pragma once

#include <span>
#include <vector>

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

// sawb_clip with the same sums in the same order (the same bits), plus the range of x,
// in one pass (the SAWB quantisers of training need all three). The sums run over fixed
// blocks of 16 384 values, each in 8 interleaved lanes (vectorised), lanes and blocks
// added in order: the same bits for any thread count.
struct SawbStats {
  double clip = 0;
  float min = 0, max_abs = 0;
};
SawbStats sawb_stats(std::span<const float> x, double c1 = 12.1, double c2 = 12.2, int threads = 1);

}  // namespace lpsim::arith

namespace lpsim::arith {

// ---- Prior choice (clip prior: auto) -------------------------------------------------
// The prior whose maximum-likelihood fit explains x better: the larger mean
// log-likelihood per value. Two-sided, about the mean: Laplace −ln(2b) − 1 with
// b = mean|x − mean|, Gauss −½·ln(2πσ²) − ½ with σ² the MLE variance. One-sided
// (post-ReLU: only the x > 0 entries, as aciq_clip): exponential −ln b − 1 with b = mean x,
// half-normal ½·ln(2/(πσ²)) − ½ with σ² = mean x². A tie (or fewer than 2 values) is Laplace.
ClipPrior best_fit_prior(std::span<const float> x, bool one_sided);
double mean_log_likelihood(std::span<const float> x, ClipPrior prior, bool one_sided);

// ---- Per-channel bit allocation (papers.md §4, eq. 10–11) ------------------------------
enum class BitRounding { round, ceil };

// Eq. 11 for a bin budget B: M_i = round|ceil(log2(α_i^{2/3} / Σ_j α_j^{2/3} · B)), clipped
// to [min_bits, max_bits] (α_i = 0 gets min_bits). α_i ≥ 0; not all zero.
std::vector<int> bits_for_bin_budget(std::span<const double> alpha, double bins, BitRounding rounding, int min_bits,
                                     int max_bits);

// Bit widths with mean as close to mean_bits as the rounding allows: eq. 11 with the
// budget B found by bisection on log2 B (the reference code iterates ≤ 10 times towards
// the target; the bisection reaches the same fixed point exactly). Among budgets whose
// mean is equally close, the smaller mean (never over the target on a tie). All α equal
// (or all zero): every channel gets the nearest width to mean_bits. InputError on an
// empty or negative α, a mean outside [min_bits, max_bits] or min_bits > max_bits.
std::vector<int> allocate_bits(std::span<const double> alpha, double mean_bits, BitRounding rounding, int min_bits,
                               int max_bits);

// ---- Bias correction of weights (papers.md §4, the reference code's -bcw -vcw form) ------
// For one output channel: ŵ = ξ·(w_q − mean w_q) + mean w with ξ = std(w)/std(w_q)
// (ξ = 1 when w_q is constant), so mean ŵ = mean w and std ŵ = std w.
struct BiasCorrection {
  double xi = 1, mean_w = 0, mean_wq = 0;
  double operator()(double wq) const { return xi * (wq - mean_wq) + mean_w; }
};
BiasCorrection bias_correction(std::span<const double> w, std::span<const double> wq);

}  // namespace lpsim::arith
