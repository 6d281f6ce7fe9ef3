#include "arith/aciq.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <numbers>
#include <string>
#include <vector>

#include "arith/error.h"
#include "arith/quantize.h"  // per_block

namespace lpsim::arith {

namespace {

void check_bits(ClipPrior prior, int bits) {
  // M = 0 (one bin) only for Laplace, as in the reference code's alpha_laplace{,_positive}
  // dicts; the Gaussian tables start at M = 1.
  const int lo = prior == ClipPrior::laplace ? 0 : 1;
  if (bits < lo || bits > 8)
    throw InputError("bits must be in [" + std::to_string(lo) + ", 8], got " + std::to_string(bits), {}, "bits");
}

// Quantization-noise coefficient: noise = α²·c.
double noise_coefficient(int bits, bool one_sided) { return 1.0 / ((one_sided ? 12.0 : 3.0) * std::pow(4.0, bits)); }

// dMSE/dα, derived by hand from aciq_mse (unit scale):
//   Laplace: -2e^{-α} + 2cα
//   Gauss:   2α(1 - erf(α/√2)) - 2√(2/π)e^{-α²/2} + 2cα
// Both are negative near 0 and positive for large α, with a single root.
double mse_derivative(ClipPrior prior, double alpha, double c) {
  if (prior == ClipPrior::laplace) return -2 * std::exp(-alpha) + 2 * c * alpha;
  return 2 * alpha * std::erfc(alpha / std::numbers::sqrt2) -
         2 * std::sqrt(2 / std::numbers::pi) * std::exp(-alpha * alpha / 2) + 2 * c * alpha;
}

}  // namespace

double aciq_mse(ClipPrior prior, int bits, double alpha, bool one_sided) {
  check_bits(prior, bits);
  const double noise = alpha * alpha * noise_coefficient(bits, one_sided);
  if (prior == ClipPrior::laplace) return 2 * std::exp(-alpha) + noise;
  // erfc keeps the tail accurate where 1 - erf would cancel.
  return (alpha * alpha + 1) * std::erfc(alpha / std::numbers::sqrt2) -
         std::sqrt(2 / std::numbers::pi) * alpha * std::exp(-alpha * alpha / 2) + noise;
}

double aciq_optimal_alpha(ClipPrior prior, int bits, bool one_sided) {
  check_bits(prior, bits);
  const double c = noise_coefficient(bits, one_sided);
  double lo = 1e-9, hi = 64;  // derivative < 0 at lo, > 0 at hi for every M <= 8
  LPSIM_CHECK(mse_derivative(prior, lo, c) < 0 && mse_derivative(prior, hi, c) > 0);
  for (int i = 0; i < 200 && hi - lo > 1e-13; ++i) {
    const double mid = 0.5 * (lo + hi);
    (mse_derivative(prior, mid, c) < 0 ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

DistributionFit fit_distribution(std::span<const float> x) {
  if (x.size() < 2) throw InputError("need at least 2 values to fit a distribution", {}, "tensor");
  double sum = 0;
  for (float v : x) sum += v;
  const double mean = sum / double(x.size());
  double abs_dev = 0, sq_dev = 0;
  for (float v : x) {
    const double d = double(v) - mean;
    abs_dev += std::fabs(d);
    sq_dev += d * d;
  }
  return {mean, abs_dev / double(x.size()), std::sqrt(sq_dev / double(x.size() - 1))};
}

double aciq_clip(std::span<const float> x, ClipPrior prior, int bits, bool one_sided) {
  const double alpha = aciq_optimal_alpha(prior, bits, one_sided);
  if (!one_sided) {
    const DistributionFit f = fit_distribution(x);
    return alpha * (prior == ClipPrior::laplace ? f.b : f.sigma);
  }
  if (x.empty()) throw InputError("empty tensor", {}, "tensor");
  // Scale of the positive part only: the one-sided grid has a level at exactly 0, so ReLU
  // zeros cost nothing and do not move the optimum. Counting them would shrink b by the
  // positive fraction (b/2 for a ReLU'd Laplace) and over-clip. Negatives lie outside the
  // one-sided model and are ignored too.
  double s1 = 0, s2 = 0;
  size_t n = 0;
  for (float v : x) {
    if (!(v > 0)) continue;
    s1 += v;
    s2 += double(v) * v;
    ++n;
  }
  if (n == 0) return 0.0;  // all zero: a zero range, as for a constant two-sided tensor
  return alpha * (prior == ClipPrior::laplace ? s1 / double(n) : std::sqrt(s2 / double(n)));
}

namespace {

struct SawbPart {
  double s2 = 0, s1 = 0;
  float lo = INFINITY, amax = 0;
};

// One block of sawb_stats: Σx², Σ|x| in 8 interleaved lanes (element i of the block in
// lane i mod 8; the lanes added in order at the end), min and max|x|. Written with GCC's
// vector types so that both clones (AVX2 and the x86-64 baseline) run lane-wise IEEE
// operations: the same bits on both (and -ffp-contract=off: no fused multiply-add).
__attribute__((target_clones("avx2", "default"))) SawbPart sawb_block(const float* x, size_t count) {
  using v4d = double __attribute__((vector_size(32)));
  using v8i = int32_t __attribute__((vector_size(32)));
  constexpr size_t kLanes = 8;
  v4d s2a = {}, s2b = {}, s1a = {}, s1b = {};
  const v8i inf = {0x7F800000, 0x7F800000, 0x7F800000, 0x7F800000, 0x7F800000, 0x7F800000, 0x7F800000, 0x7F800000};
  const v8i magnitude = inf | 0x007FFFFF;  // 0x7FFFFFFF
  v8i lo_key = inf, amax_bits = {};        // +inf, +0
  const auto sums = [&](const float* g) {
    const v4d a = {g[0], g[1], g[2], g[3]}, b = {g[4], g[5], g[6], g[7]};
    s2a += a * a, s2b += b * b;
    s1a += a < 0 ? -a : a, s1b += b < 0 ? -b : b;
  };
  // The range on the bits, as integers: |x| orders as its bits; x orders as the key
  // bits ^ (sign ? 0x7FFFFFFF : 0), a signed integer. NaN (|bits| above inf's) skipped,
  // as by std::min / std::max.
  const auto range = [&](const float* g) {
    v8i bits;
    std::memcpy(&bits, g, sizeof bits);
    const v8i abs_bits = bits & magnitude;
    const v8i nan = abs_bits > inf;  // all ones where NaN
    const v8i key = bits ^ ((bits >> 31) & magnitude);
    const v8i key_or_inf = nan ? inf : key, abs_or_zero = nan ? v8i{} : abs_bits;
    lo_key = key_or_inf < lo_key ? key_or_inf : lo_key;
    amax_bits = abs_or_zero > amax_bits ? abs_or_zero : amax_bits;
  };
  size_t i = 0;
  for (; i + kLanes <= count; i += kLanes) sums(x + i), range(x + i);
  int32_t lo = 0x7F800000, am = 0;
  if (i < count) {  // the tail: zero-padded for the sums (+0 changes no sum), its range directly
    float g[kLanes] = {};
    std::memcpy(g, x + i, (count - i) * sizeof(float));
    sums(g);
    for (size_t j = i; j < count; ++j) {
      const int32_t b = std::bit_cast<int32_t>(x[j]), a = b & 0x7FFFFFFF;
      if (a <= 0x7F800000) lo = std::min(lo, b ^ ((b >> 31) & 0x7FFFFFFF)), am = std::max(am, a);
    }
  }
  SawbPart p;
  for (int l = 0; l < 4; ++l) p.s2 += s2a[l], p.s1 += s1a[l];  // lanes 0-3, then 4-7: in order
  for (int l = 0; l < 4; ++l) p.s2 += s2b[l], p.s1 += s1b[l];
  for (int l = 0; l < 8; ++l) lo = std::min(lo, lo_key[l]), am = std::max(am, amax_bits[l]);
  p.lo = std::bit_cast<float>(lo ^ ((lo >> 31) & 0x7FFFFFFF));  // the key's inverse is itself
  p.amax = std::bit_cast<float>(am);
  return p;
}

}  // namespace

SawbStats sawb_stats(std::span<const float> x, double c1, double c2, int threads) {
  if (x.empty()) throw InputError("empty tensor", {}, "tensor");
  constexpr size_t kBlock = 1 << 14;
  double s2 = 0, s1 = 0;
  float lo = INFINITY, amax = 0;
  for (const SawbPart& p : per_block(x.size(), kBlock, threads, [&](size_t b, size_t e) { return sawb_block(x.data() + b, e - b); })) s2 += p.s2, s1 += p.s1, lo = std::min(lo, p.lo), amax = std::max(amax, p.amax);
  const double n = double(x.size());
  return {c1 * std::sqrt(s2 / n) - c2 * s1 / n, lo, amax};
}

double sawb_clip(std::span<const float> x, double c1, double c2) { return sawb_stats(x, c1, c2).clip; }

}  // namespace lpsim::arith

namespace lpsim::arith {

double mean_log_likelihood(std::span<const float> x, ClipPrior prior, bool one_sided) {
  double s1 = 0, s2 = 0, n = 0;
  if (one_sided) {
    for (float v : x)
      if (v > 0) s1 += v, s2 += double(v) * v, n += 1;
    if (n < 2) return -INFINITY;
    const double b = s1 / n, var = s2 / n;
    return prior == ClipPrior::laplace ? -std::log(b) - 1 : 0.5 * std::log(2 / (std::numbers::pi * var)) - 0.5;
  }
  if (x.size() < 2) return -INFINITY;
  for (float v : x) s1 += v;
  n = double(x.size());
  const double mean = s1 / n;
  double ad = 0, sq = 0;
  for (float v : x) ad += std::fabs(v - mean), sq += (v - mean) * (v - mean);
  const double b = ad / n, var = sq / n;
  if (!(b > 0) || !(var > 0)) return -INFINITY;
  return prior == ClipPrior::laplace ? -std::log(2 * b) - 1 : -0.5 * std::log(2 * std::numbers::pi * var) - 0.5;
}

ClipPrior best_fit_prior(std::span<const float> x, bool one_sided) {
  return mean_log_likelihood(x, ClipPrior::gauss, one_sided) > mean_log_likelihood(x, ClipPrior::laplace, one_sided)
             ? ClipPrior::gauss
             : ClipPrior::laplace;
}

namespace {
void check_alloc(std::span<const double> alpha, int min_bits, int max_bits) {
  if (alpha.empty()) throw InputError("bit allocation needs at least one channel", {}, "bit_allocation");
  for (double a : alpha)
    if (!(a >= 0) || !std::isfinite(a)) throw InputError("bit allocation: channel scales must be finite and >= 0", {}, "bit_allocation");
  if (min_bits < 0 || max_bits > 30 || min_bits > max_bits)
    throw InputError("bit allocation: need 0 <= min_bits <= max_bits <= 30", {}, "bit_allocation");
}
}  // namespace

std::vector<int> bits_for_bin_budget(std::span<const double> alpha, double bins, BitRounding rounding, int min_bits,
                                     int max_bits) {
  check_alloc(alpha, min_bits, max_bits);
  double total = 0;
  for (double a : alpha) total += std::cbrt(a * a);
  std::vector<int> out;
  out.reserve(alpha.size());
  for (double a : alpha) {
    if (!(a > 0) || !(total > 0)) {
      out.push_back(min_bits);
      continue;
    }
    const double m = std::log2(std::cbrt(a * a) / total * bins);
    const double r = rounding == BitRounding::round ? std::round(m) : std::ceil(m);
    out.push_back(int(std::clamp(r, double(min_bits), double(max_bits))));
  }
  return out;
}

std::vector<int> allocate_bits(std::span<const double> alpha, double mean_bits, BitRounding rounding, int min_bits,
                               int max_bits) {
  check_alloc(alpha, min_bits, max_bits);
  if (!(mean_bits >= min_bits && mean_bits <= max_bits))
    throw InputError("bit allocation: mean_bits must be in [" + std::to_string(min_bits) + ", " + std::to_string(max_bits) + "]",
                     {}, "bit_allocation.mean_bits");
  const double C = double(alpha.size());
  auto mean_of = [&](const std::vector<int>& b) {
    double s = 0;
    for (int v : b) s += v;
    return s / C;
  };
  // The mean is a non-decreasing step function of log2 B; with equal α it jumps straight
  // from one width to the next, so the bracket's two ends are compared at the end.
  double lo = std::log2(C) + min_bits - 80, hi = std::log2(C) + max_bits + 80;
  for (int it = 0; it < 200 && hi - lo > 1e-12; ++it) {
    const double mid = 0.5 * (lo + hi);
    (mean_of(bits_for_bin_budget(alpha, std::exp2(mid), rounding, min_bits, max_bits)) < mean_bits ? lo : hi) = mid;
  }
  auto below = bits_for_bin_budget(alpha, std::exp2(lo), rounding, min_bits, max_bits);
  auto above = bits_for_bin_budget(alpha, std::exp2(hi), rounding, min_bits, max_bits);
  const double db = std::fabs(mean_of(below) - mean_bits), da = std::fabs(mean_of(above) - mean_bits);
  return da < db ? above : below;
}

BiasCorrection bias_correction(std::span<const double> w, std::span<const double> wq) {
  if (w.size() != wq.size() || w.empty()) throw InputError("bias correction: weights and quantised weights must be equal, non-empty", {}, "bias_correction");
  const double n = double(w.size());
  BiasCorrection c;
  for (size_t i = 0; i < w.size(); ++i) c.mean_w += w[i], c.mean_wq += wq[i];
  c.mean_w /= n, c.mean_wq /= n;
  double vw = 0, vq = 0;
  for (size_t i = 0; i < w.size(); ++i)
    vw += (w[i] - c.mean_w) * (w[i] - c.mean_w), vq += (wq[i] - c.mean_wq) * (wq[i] - c.mean_wq);
  c.xi = vq > 0 ? std::sqrt(vw / vq) : 1.0;
  return c;
}

}  // namespace lpsim::arith
