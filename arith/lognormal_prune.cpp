#include "arith/lognormal_prune.h"

#include "arith/quantize.h"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cmath>
#include <cstring>
#include <limits>
#include <numbers>
#include <string>
#include <vector>

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

namespace {

// ln x for finite x > 0 (subnormals included), in a form GCC vectorises: x = m·2^e with
// m in [√½, √2), ln m by Cephes' logf polynomial in m − 1 (error ≈ 1 ulp of float over
// the range, as logf; the fit only needs far less), plus e·ln 2 in double.
[[gnu::always_inline]] inline double ln_positive(float x) {
  const bool sub = x < 0x1p-126f;
  const uint32_t bits = std::bit_cast<uint32_t>(sub ? x * 0x1p23f : x);
  int e = int(bits >> 23) - 127 - (sub ? 23 : 0);
  float m = std::bit_cast<float>((bits & 0x007FFFFFu) | 0x3F800000u);  // [1, 2)
  const bool high = m > 1.41421356237f;
  m = high ? m * 0.5f : m;
  e += high ? 1 : 0;
  const float f = m - 1.0f, z = f * f;
  float y = 7.0376836292e-2f;
  y = y * f - 1.1514610310e-1f;
  y = y * f + 1.1676998740e-1f;
  y = y * f - 1.2420140846e-1f;
  y = y * f + 1.4249322787e-1f;
  y = y * f - 1.6668057665e-1f;
  y = y * f + 2.0000714765e-1f;
  y = y * f - 2.4999993993e-1f;
  y = y * f + 3.3333331174e-1f;
  y = y * f * z - 0.5f * z;
  return double(e) * std::numbers::ln2 + double(f + y);
}

struct FitPart {
  double sum = 0, sum_sq = 0;
  size_t nz = 0, zeros = 0, nans = 0;
};

// One chunk of fit_lognormal: ln|g| − shift element-wise (vectorised), summed in 8
// interleaved lanes, the lanes added in order. Compiled for AVX2 and for the baseline, the
// same bits on both: every lane's operations are the same IEEE operations in the same
// order (no reassociation, no contraction: -ffp-contract=off).
__attribute__((target_clones("avx2", "default"))) FitPart fit_chunk(const float* g, size_t count, double shift) {
  constexpr size_t kLanes = 8, kPiece = 512;  // element-wise logs first, then the lanes' sums
  using v4d = double __attribute__((vector_size(32)));  // lane-wise IEEE adds on every clone
  v4d sum_a = {}, sum_b = {}, sq_a = {}, sq_b = {};
  uint32_t nz[kLanes] = {}, zeros[kLanes] = {}, nans[kLanes] = {};
  double x[kPiece];
  uint32_t use[kPiece], zero[kPiece], nan[kPiece];
  for (size_t p0 = 0; p0 < count; p0 += kPiece) {
    const size_t n = std::min(kPiece, count - p0);
    for (size_t j = 0; j < n; ++j) {
      const float a = std::fabs(g[p0 + j]);
      const uint32_t u = uint32_t(a != 0.0f) & uint32_t(a <= 0x1.fffffep127f);  // non-zero, finite (not NaN)
      const double lv = ln_positive(u ? a : 1.0f) - shift;  // computed for every element: no branch
      x[j] = u ? lv : 0.0;
      use[j] = u, zero[j] = a == 0.0f, nan[j] = a != a;
    }
    for (size_t j = n; j < kPiece; ++j) x[j] = 0, use[j] = 0, zero[j] = 0, nan[j] = 0;
    for (size_t j = 0; j < kPiece; j += kLanes) {  // lane l of a vector: element j + l
      v4d a, b;
      std::memcpy(&a, x + j, sizeof a), std::memcpy(&b, x + j + 4, sizeof b);
      sum_a += a, sum_b += b, sq_a += a * a, sq_b += b * b;
      for (size_t l = 0; l < kLanes; ++l) nz[l] += use[j + l], zeros[l] += zero[j + l], nans[l] += nan[j + l];
    }
  }
  FitPart p;
  for (int l = 0; l < 4; ++l) p.sum += sum_a[l], p.sum_sq += sq_a[l];  // lanes 0-3, then 4-7: in order
  for (int l = 0; l < 4; ++l) p.sum += sum_b[l], p.sum_sq += sq_b[l];
  for (size_t l = 0; l < kLanes; ++l) p.nz += nz[l], p.zeros += zeros[l], p.nans += nans[l];
  return p;
}

}  // namespace

LognormalFit fit_lognormal(std::span<const float> g, int threads) {
  if (g.empty()) throw InputError("empty gradient tensor", {}, "tensor");
  // Sums of ln|g| − shift, shift = the log of the first non-zero: they stay O(σ) and
  // sum_sq − n·mean² does not cancel when |μ| >> σ (e.g. μ = −20, σ = 0.05). The log is
  // ln_positive (≈ 1 ulp of float, 6e-8 relative: far below any estimate's sampling
  // error), branch-free so that the loop vectorises. Fixed chunks, each summed in 8
  // interleaved lanes, lanes and chunks added in order: the same bits for any thread count.
  size_t first = 0;
  while (first < g.size() && !(g[first] != 0.0f && std::isfinite(g[first]))) ++first;
  const double shift = first < g.size() ? ln_positive(std::fabs(g[first])) : 0.0;
  constexpr size_t kChunk = 1 << 15;
  double sum = 0, sum_sq = 0;
  size_t nz = 0, zeros = 0, nans = 0;
  for (const FitPart& p :
       per_block(g.size(), kChunk, threads, [&](size_t b, size_t e) { return fit_chunk(g.data() + b, e - b, shift); })) sum += p.sum, sum_sq += p.sum_sq, nz += p.nz, zeros += p.zeros, nans += p.nans;
  LognormalFit f;
  f.nonzeros = nz;
  f.nans = nans;
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
                            uint32_t stream, const LognormalFit* given, int threads) {
  LPSIM_CHECK(g.size() == out.size());
  if (!(target >= 0 && target < 1))
    throw InputError("target sparsity must be in [0, 1), got " + std::to_string(target), {}, "sparsity");
  const LognormalFit fit = given ? *given : fit_lognormal(g, threads);
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
  // Blocks of kRandomBlock elements, each on one thread; element i's draw depends on i only.
  const auto block_zeros = per_block(g.size(), kRandomBlock, threads, [&](size_t i0, size_t i1) {
    uint32_t words[kRandomBlock];
    const size_t n = i1 - i0;
    random_words(rng, i0, n, words);  // element i draws rng.uniform(i), vectorised
    uint32_t zeros = 0;
    const float* in = g.data() + i0;
    float* o = out.data() + i0;  // may be in: each element is read before it is written
    const double t = tau;
    for (size_t j = 0; j < n; ++j) {
      const float v = in[j];
      // Unbiased below τ: ±τ with probability |g|/τ, else 0 (papers.md §3 operator). The
      // word as 2·(w >> 1) + (w & 1), exactly w: signed 32-bit conversions vectorise.
      const double w = double(int32_t(words[j] >> 1)) * 2 + double(int32_t(words[j] & 1u));
      const bool up = w * 0x1p-32 * t < std::fabs(double(v));
      const float r = std::fabs(v) < tau_f ? (up ? std::copysign(tau_f, v) : 0.0f) : v;
      o[j] = r;
      zeros += r == 0.0f;
    }
    return zeros;
  });
  size_t zeros = 0;
  for (uint32_t z : block_zeros) zeros += z;
  return {tau, double(zeros) / double(g.size())};
}

}  // namespace lpsim::arith
