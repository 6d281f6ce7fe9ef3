#include "arith/aciq.h"

#include <cmath>
#include <numbers>
#include <string>

#include "arith/error.h"

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

double sawb_clip(std::span<const float> x, double c1, double c2) {
  if (x.empty()) throw InputError("empty tensor", {}, "tensor");
  double s2 = 0, s1 = 0;
  for (float v : x) {
    s2 += double(v) * v;
    s1 += std::fabs(double(v));
  }
  const double n = double(x.size());
  return c1 * std::sqrt(s2 / n) - c2 * s1 / n;
}

}  // namespace lpsim::arith
