#include "arith/lognormal_prune.h"

#include <cmath>
#include <limits>
#include <string>

#include "arith/error.h"
#include "arith/philox.h"

namespace lpsim::arith {

namespace {

double normal_cdf(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }

}  // namespace

LognormalFit fit_lognormal(std::span<const float> g) {
  if (g.empty()) throw InputError("empty gradient tensor", {}, "tensor");
  double sum = 0, sum_sq = 0;
  size_t nz = 0, zeros = 0;
  for (float v : g) {
    if (v == 0.0f) {
      ++zeros;
      continue;
    }
    if (!std::isfinite(v)) continue;
    const double l = std::log(std::fabs(double(v)));
    sum += l;
    sum_sq += l * l;
    ++nz;
  }
  LognormalFit f;
  f.nonzeros = nz;
  f.zero_fraction = double(zeros) / double(g.size());
  if (nz == 0) return f;
  f.mu = sum / double(nz);
  f.sigma = nz > 1 ? std::sqrt(std::max(0.0, (sum_sq - double(nz) * f.mu * f.mu) / double(nz - 1))) : 0.0;
  return f;
}

double lognormal_expected_sparsity(double alpha, double sigma) {
  if (!(alpha > 0)) return 0.0;
  const double la = std::log(alpha);
  // The second term is e^{σ²/2}/α · Φ(...): evaluated in logs so that large σ or tiny α
  // do not overflow before the product shrinks.
  const double second = std::exp(sigma * sigma / 2 - la) * normal_cdf((la - sigma * sigma) / sigma);
  return normal_cdf(la / sigma) - second;
}

double lognormal_threshold(double target, double sigma) {
  if (!(target > 0 && target < 1))
    throw InputError("target sparsity must be in (0, 1), got " + std::to_string(target), {}, "sparsity");
  if (!(sigma > 0)) throw InputError("sigma must be positive", {}, "sigma");
  double lo = -40, hi = 60;  // ln α; S is increasing in α
  for (int i = 0; i < 200; ++i) {
    const double mid = 0.5 * (lo + hi);
    (lognormal_expected_sparsity(std::exp(mid), sigma) < target ? lo : hi) = mid;
  }
  return std::exp(0.5 * (lo + hi));
}

PruneResult lognormal_prune(std::span<const float> g, std::span<float> out, double target, uint64_t seed,
                            uint32_t stream) {
  LPSIM_CHECK(g.size() == out.size());
  if (!(target >= 0 && target < 1))
    throw InputError("target sparsity must be in [0, 1), got " + std::to_string(target), {}, "sparsity");
  const LognormalFit fit = fit_lognormal(g);
  double tau = 0;
  if (fit.nonzeros > 0 && target > 0) {
    if (fit.zero_fraction >= target) {
      tau = std::numeric_limits<double>::infinity();
      for (float v : g)
        if (v != 0.0f && std::isfinite(v)) tau = std::min(tau, std::fabs(double(v)));
    } else if (fit.sigma > 0) {
      const double s_target = (target - fit.zero_fraction) / (1 - fit.zero_fraction);
      tau = lognormal_threshold(s_target, fit.sigma) * std::exp(fit.mu);
    }
  }
  const RandomStream rng(seed, stream);
  const float tau_f = float(tau);
  size_t zeros = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    const float v = g[i];
    float r = v;
    if (std::fabs(v) < tau_f) {
      // Unbiased: ±τ with probability |g|/τ, else 0 (papers.md §3 operator).
      r = rng.uniform(i) * tau < std::fabs(double(v)) ? std::copysign(tau_f, v) : 0.0f;
    }
    out[i] = r;
    zeros += r == 0.0f;
  }
  return {tau, double(zeros) / double(g.size())};
}

}  // namespace lpsim::arith
