#include "arith/lognormal_format.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "arith/error.h"

namespace lpsim::arith {

namespace {

double Phi(double z) { return 0.5 * std::erfc(-z / std::numbers::sqrt2); }

// Truncated moments of X with ln X ~ N(m, σ²): E[X^k; a ≤ X < b] = e^(km + k²σ²/2)·
// (Φ(z_b) − Φ(z_a)), z_t = (ln t − m − kσ²)/σ; the difference is taken on the side of the
// smaller tail so that narrow intervals far out keep their digits.
double moment(int k, double a, double b, double m, double s) {
  const double scale = std::exp(k * m + 0.5 * k * k * s * s);
  const double za = a <= 0 ? -INFINITY : (std::log(a) - m - k * s * s) / s;
  const double zb = std::isinf(b) ? INFINITY : (std::log(b) - m - k * s * s) / s;
  if (za > 0) return scale * (Phi(-za) - Phi(-zb));
  return scale * (Phi(zb) - Phi(za));
}

// Σ over the rounding intervals of f's finite magnitudes v (to nearest: between the
// midpoints; 0 below half the smallest nonzero value; the largest finite value up to
// infinity, i.e. saturation) of E[w(X, v); interval], for w = (X − v)² or (1 − v/X)².
double grid_error(const FloatFormat& f, double sigma, double m, bool relative) {
  f.validate();
  if (!(sigma > 0) || !std::isfinite(sigma)) throw InputError("lognormal sigma must be finite and > 0", {}, "sigma");
  if (f.total_bits() > 16) throw InputError("format " + f.name + " is wider than 16 bits", {}, "format");
  std::vector<double> v;
  for (uint32_t c = 0; c <= f.max_finite_magnitude(); ++c)
    if (f.is_canonical(c) && !f.is_nan(c) && !f.is_inf(c)) v.push_back(f.decode(c));
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  // The moment form cancels badly on a narrow interval (three terms of size P·v² whose sum
  // is P·Δ²/12, 2^−22 of them at M = 10), so interior intervals are integrated directly:
  // 8-point Gauss–Legendre of f(x)·w(x) (smooth there: a step is a small fraction of x).
  // The two unbounded ends keep the closed moments: below half the smallest nonzero value
  // Q = 0 (w = X² or 1), above the last midpoint Q = max (saturation).
  static const double gx[4] = {0.1834346424956498, 0.5255324099163290, 0.7966664774136267, 0.9602898564975363};
  static const double gw[4] = {0.3626837833783620, 0.3137066678831081, 0.2223810344533745, 0.1012285362903763};
  const double norm = 1 / (sigma * std::sqrt(2 * std::numbers::pi));
  auto density = [&](double x) {
    const double z = (std::log(x) - m) / sigma;
    return norm * std::exp(-0.5 * z * z) / x;
  };
  auto weight = [&](double x, double q) { return relative ? (1 - q / x) * (1 - q / x) : (x - q) * (x - q); };
  double sum = 0;
  const size_t last = v.size() - 1;
  for (size_t j = 0; j < v.size(); ++j) {
    const double lo = j == 0 ? 0.0 : 0.5 * (v[j - 1] + v[j]);
    const double hi = j == last ? INFINITY : 0.5 * (v[j] + v[j + 1]);
    const double q = v[j];
    if (j == 0 && q == 0) {
      sum += relative ? moment(0, 0, hi, m, sigma) : moment(2, 0, hi, m, sigma);
    } else if (j == last) {
      sum += relative ? moment(0, lo, hi, m, sigma) - 2 * q * moment(-1, lo, hi, m, sigma) + q * q * moment(-2, lo, hi, m, sigma)
                      : moment(2, lo, hi, m, sigma) - 2 * q * moment(1, lo, hi, m, sigma) + q * q * moment(0, lo, hi, m, sigma);
    } else {
      const double c = 0.5 * (lo + hi), h = 0.5 * (hi - lo);
      double part = 0;
      for (int i = 0; i < 4; ++i)
        for (const double sgn : {-1.0, 1.0}) {
          const double x = c + sgn * h * gx[i];
          part += gw[i] * density(x) * weight(x, q);
        }
      sum += h * part;
    }
  }
  return std::max(sum, 0.0);
}

}  // namespace

double lognormal_centring_scale(const LognormalFit& fit) { return std::exp(-fit.mu); }

double lognormal_quantization_mse(const FloatFormat& f, double sigma, double m) { return grid_error(f, sigma, m, false); }

double lognormal_relative_mse(const FloatFormat& f, double sigma, double m) { return grid_error(f, sigma, m, true); }

FormatChoice choose_lognormal_format(int total_bits, double sigma) {  if (total_bits < 4 || total_bits > 16)
    throw InputError("a gradient format of " + std::to_string(total_bits) + " bits: give 4 to 16", {}, "bits");
  std::vector<FloatFormat> cands;
  for (int E = 2; E <= std::min(8, total_bits - 2); ++E)
    if (total_bits - 1 - E <= 10) cands.push_back(make_exmy(E, total_bits - 1 - E));
  if (total_bits == 8) cands.push_back(fp8_e4m3());
  FormatChoice best;
  best.mse = INFINITY;
  for (const FloatFormat& f : cands) {
    const double e = lognormal_relative_mse(f, sigma);
    best.candidates.emplace_back(f.name, e);
    if (e < best.mse) best.mse = e, best.format = f;
  }
  return best;
}

}  // namespace lpsim::arith
