#include "arith/lognormal_prune.h"

#include "arith/quantize.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <string>

#include "arith/error.h"
#include "arith/philox.h"

namespace lpsim::arith {

namespace {

double normal_cdf(double z) { return 0.5 * std::erfc(-z / std::numbers::sqrt2); }

// ln Φ(z). erfc keeps full relative accuracy in the lower tail until it underflows near
// z = -37.5; below that the asymptotic series Φ(z) ≈ φ(z)/(-z)·(1 - 1/z² + 3/z⁴ - 15/z⁶)
// is exact to < 1e-10 relative, and stays finite where Φ itself would be 0.
double log_normal_cdf(double z) {
  if (z > -37) return std::log(normal_cdf(z));
  const double r = 1 / (z * z);
  return -0.5 * z * z - std::log(-z) - 0.5 * std::log(2 * std::numbers::pi) + std::log1p(r * (-1 + r * (3 - 15 * r)));
}

}  // namespace

LognormalFit fit_lognormal(std::span<const float> g, int threads) {
  if (g.empty()) throw InputError("empty gradient tensor", {}, "tensor");
  // Sums of ln|g| − shift, shift = the log of the first non-zero: they stay O(σ) and
  // sum_sq − n·mean² does not cancel when |μ| >> σ (e.g. μ = −20, σ = 0.05). The float
  // log (≈ 1 ulp, 6e-8 relative: far below any estimate's sampling error) costs a third
  // of the double one. Fixed chunks, their sums added in chunk order: the same bits for
  // any thread count.
  size_t first = 0;
  while (first < g.size() && !(g[first] != 0.0f && std::isfinite(g[first]))) ++first;
  const double shift = first < g.size() ? double(std::log(std::fabs(g[first]))) : 0.0;
  constexpr size_t kChunk = 1 << 15;
  const size_t chunks = (g.size() + kChunk - 1) / kChunk;
  struct Part {
    double sum = 0, sum_sq = 0;
    size_t nz = 0, zeros = 0;
  };
  std::vector<Part> parts(chunks);
  parallel_chunks(g.size(), kChunk, threads, [&](size_t b, size_t e) {
    Part p;
    for (size_t i = b; i < e; ++i) {
      const float v = g[i];
      if (v == 0.0f) {
        ++p.zeros;
        continue;
      }
      if (!std::isfinite(v)) continue;
      const double l = double(std::log(std::fabs(v))) - shift;
      p.sum += l;
      p.sum_sq += l * l;
      ++p.nz;
    }
    parts[b / kChunk] = p;
  });
  double sum = 0, sum_sq = 0;
  size_t nz = 0, zeros = 0;
  for (const Part& p : parts) sum += p.sum, sum_sq += p.sum_sq, nz += p.nz, zeros += p.zeros;
  LognormalFit f;
  f.nonzeros = nz;
  f.zero_fraction = double(zeros) / double(g.size());
  if (nz == 0) return f;
  const double mean_shifted = sum / double(nz);
  f.mu = shift + mean_shifted;
  // Unbiased (n - 1) std, as torch.std in the reference code.
  f.sigma = nz > 1 ? std::sqrt(std::max(0.0, (sum_sq - double(nz) * mean_shifted * mean_shifted) / double(nz - 1))) : 0.0;
  return f;
}

double lognormal_expected_sparsity(double alpha, double sigma) {
  if (!(sigma >= 0)) throw InputError("sigma must be >= 0, got " + std::to_string(sigma), {}, "sigma");
  if (!(alpha > 0)) return 0.0;
  // σ = 0 is a point mass at x = 1: zeroed with probability 1 - 1/α when α > 1 (the limit of
  // the closed form, which would divide by σ).
  if (sigma == 0) return alpha > 1 ? 1 - 1 / alpha : 0.0;
  const double la = std::log(alpha);
  // The second term e^{σ²/2}/α · Φ((ln α - σ²)/σ) is formed in logs: for tiny α or large σ
  // the factors overflow/underflow separately (inf·0 = NaN) while the product is tiny.
  const double second = std::exp(sigma * sigma / 2 - la + log_normal_cdf((la - sigma * sigma) / sigma));
  // S >= 0 exactly; the subtraction of two nearly equal tails can round a hair below 0.
  return std::clamp(normal_cdf(la / sigma) - second, 0.0, 1.0);
}

double lognormal_threshold(double target, double sigma) {
  if (!(target > 0 && target < 1))
    throw InputError("target sparsity must be in (0, 1), got " + std::to_string(target), {}, "sparsity");
  if (!(sigma >= 0)) throw InputError("sigma must be >= 0, got " + std::to_string(sigma), {}, "sigma");
  if (sigma == 0) return 1 / (1 - target);  // point mass: S = 1 - 1/α
  double lo = -40, hi = 60;  // ln α; S is increasing in α
  for (int i = 0; i < 200; ++i) {
    const double mid = 0.5 * (lo + hi);
    (lognormal_expected_sparsity(std::exp(mid), sigma) < target ? lo : hi) = mid;
  }
  return std::exp(0.5 * (lo + hi));
}

PruneResult lognormal_prune(std::span<const float> g, std::span<float> out, double target, uint64_t seed,
                            uint32_t stream, const LognormalFit* given) {
  LPSIM_CHECK(g.size() == out.size());
  if (!(target >= 0 && target < 1))
    throw InputError("target sparsity must be in [0, 1), got " + std::to_string(target), {}, "sparsity");
  const LognormalFit fit = given ? *given : fit_lognormal(g);
  double tau = 0;
  if (fit.nonzeros > 0 && target > 0) {
    if (fit.zero_fraction >= target) {
      tau = std::numeric_limits<double>::infinity();
      for (float v : g)
        if (v != 0.0f && std::isfinite(v)) tau = std::min(tau, std::fabs(double(v)));
    } else {
      const double s_target = (target - fit.zero_fraction) / (1 - fit.zero_fraction);
      tau = lognormal_threshold(s_target, fit.sigma) * std::exp(fit.mu);
    }
  }
  const RandomStream rng(seed, stream);
  const float tau_f = float(tau);
  size_t zeros = 0;
  std::vector<uint32_t> words(kRandomBlock);
  for (size_t i0 = 0; i0 < g.size(); i0 += kRandomBlock) {
    const size_t n = std::min(kRandomBlock, g.size() - i0);
    random_words(rng, i0, n, words.data());  // element i draws rng.uniform(i), vectorised
    for (size_t j = 0; j < n; ++j) {
      const float v = g[i0 + j];
      float r = v;
      if (std::fabs(v) < tau_f) {
        // Unbiased: ±τ with probability |g|/τ, else 0 (papers.md §3 operator).
        r = words[j] * 0x1p-32 * tau < std::fabs(double(v)) ? std::copysign(tau_f, v) : 0.0f;
      }
      out[i0 + j] = r;
      zeros += r == 0.0f;
    }
  }
  return {tau, double(zeros) / double(g.size())};
}

}  // namespace lpsim::arith
