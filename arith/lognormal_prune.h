// Stochastic pruning of neural gradients with an analytic threshold (papers.md §3,
// Chmiel et al., ICLR 2021): |g| is near-lognormal, ln|g| ~ N(μ, σ²) over the non-zeros;
// the threshold τ that zeroes a target fraction under the unbiased stochastic operator
// (|g| < τ → ±τ with probability |g|/τ, else 0) solves S(τ/e^μ; σ) = target.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace lpsim::arith {

struct LognormalFit {
  double mu = 0;
  double sigma = 0;
  double zero_fraction = 0;  // s0: zeros already present (e.g. ReLU masks)
  size_t nonzeros = 0;       // finite, non-zero entries (the fit's sample)
  size_t nans = 0;           // NaN entries (the rest of the non-zeros are ±inf)
};

// μ, σ (unbiased std) of ln|g| over the non-zero, finite entries; zero_fraction counts
// exact zeros over all entries. Throws InputError on an empty tensor.
// threads: the work's split only (the result is the same for any count).
LognormalFit fit_lognormal(std::span<const float> g, int threads = 1);

// Expected fraction zeroed by the stochastic operator at normalised threshold α = τ/e^μ:
// S(α; σ) = Φ(ln α/σ) − (e^{σ²/2}/α)·Φ((ln α − σ²)/σ); σ = 0 gives the point-mass limit
// max(0, 1 − 1/α). Throws InputError for σ < 0.
double lognormal_expected_sparsity(double alpha, double sigma);

// Normalised α with S(α; σ) = target, target in (0, 1), σ >= 0; bisection in ln α over
// [−40, 60] (α is clamped to that bracket). τ = α·e^μ.
double lognormal_threshold(double target_sparsity, double sigma);

struct PruneResult {
  double tau = 0;                // threshold applied
  double achieved_sparsity = 0;  // fraction of zeros in the output
};

// Prunes g into out (out may be the very span g: in place) to an overall sparsity target p: existing zeros count,
// s_target = (p − s0)/(1 − s0); if s0 >= p, τ is the smallest non-zero |g| (nothing is
// pruned). p in [0, 1), else InputError. Element i draws RandomStream(seed, stream).uniform(i),
// so out[i] is a function of (g[i], τ, seed, stream, i) only. τ itself is fitted on the whole
// span, so pruning sub-spans separately is NOT equivalent to pruning the whole.
// fit: fit_lognormal(g) when the caller has it already (nullptr: fitted here).
// threads: the work's split only (the result is the same for any count).
PruneResult lognormal_prune(std::span<const float> g, std::span<float> out, double target_sparsity, uint64_t seed,
                            uint32_t stream = 0, const LognormalFit* fit = nullptr, int threads = 1);

}  // namespace lpsim::arith
