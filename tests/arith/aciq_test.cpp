// ACIQ optimal clipping (papers.md §4) and SAWB (papers.md §2): closed forms, the
// one-sided/two-sided identity, and the analytic MSE against a simulated quantizer.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include "arith/aciq.h"
#include "arith/error.h"
#include "arith/philox.h"

using namespace lpsim::arith;

namespace {

// Inverse CDF of Laplace(0, b) from RandomStream uniforms, centred in their 2^-32 cells so
// that u is never 0 or 1.
std::vector<float> laplace_samples(size_t n, double b, uint64_t seed) {
  const RandomStream rng(seed, 0);
  std::vector<float> x(n);
  for (size_t i = 0; i < n; ++i) {
    const double u = (rng.bits(i) + 0.5) * 0x1p-32;
    x[i] = float(b * (u < 0.5 ? std::log(2 * u) : -std::log(2 * (1 - u))));
  }
  return x;
}

std::vector<float> gauss_samples(size_t n, uint64_t seed) {
  const RandomStream rng(seed, 1);
  std::vector<float> x(n);
  for (size_t i = 0; i < n; ++i) {
    const double u = (rng.bits(2 * i) + 0.5) * 0x1p-32, v = (rng.bits(2 * i + 1) + 0.5) * 0x1p-32;
    x[i] = float(std::sqrt(-2 * std::log(u)) * std::cos(2 * std::numbers::pi * v));
  }
  return x;
}

// papers.md §4 "Optimal α" table (recomputed there to 5 digits).
TEST(Aciq, OptimalAlphaMatchesThePaperTable) {
  const double laplace[] = {1.04991, 1.86282, 2.83068, 3.89723, 5.02864, 6.20477, 7.41313, 8.64562, 9.89676};
  for (int m = 0; m <= 8; ++m) EXPECT_NEAR(aciq_optimal_alpha(ClipPrior::laplace, m, false), laplace[m], 1e-4) << m;
  const double gauss[] = {0, 1.23991, 1.71064, 2.15159, 2.55914, 2.93620, 3.28691, 3.61511, 3.92404};
  for (int m = 1; m <= 8; ++m) EXPECT_NEAR(aciq_optimal_alpha(ClipPrior::gauss, m, false), gauss[m], 1e-4) << m;
  // The acceptance values, to 1e-3.
  EXPECT_NEAR(aciq_optimal_alpha(ClipPrior::laplace, 2, false), 2.831, 1e-3);
  EXPECT_NEAR(aciq_optimal_alpha(ClipPrior::laplace, 3, false), 3.897, 1e-3);
  EXPECT_NEAR(aciq_optimal_alpha(ClipPrior::laplace, 4, false), 5.029, 1e-3);
  EXPECT_NEAR(aciq_optimal_alpha(ClipPrior::gauss, 2, false), 1.711, 1e-3);
  EXPECT_NEAR(aciq_optimal_alpha(ClipPrior::gauss, 3, false), 2.152, 1e-3);
  EXPECT_NEAR(aciq_optimal_alpha(ClipPrior::gauss, 4, false), 2.559, 1e-3);
}

TEST(Aciq, MseAtTheOptimum) {  // papers.md §4 verification ideas
  EXPECT_NEAR(aciq_mse(ClipPrior::laplace, 4, aciq_optimal_alpha(ClipPrior::laplace, 4, false), false), 0.0460215, 1e-6);
  EXPECT_NEAR(aciq_mse(ClipPrior::laplace, 2, aciq_optimal_alpha(ClipPrior::laplace, 2, false), false), 0.284878, 1e-5);
  EXPECT_NEAR(aciq_mse(ClipPrior::gauss, 4, aciq_optimal_alpha(ClipPrior::gauss, 4, false), false), 0.0104933, 1e-6);
  // α* is a minimum: the MSE rises on both sides.
  for (ClipPrior p : {ClipPrior::laplace, ClipPrior::gauss})
    for (int m = 1; m <= 8; ++m)
      for (bool one : {false, true}) {
        const double a = aciq_optimal_alpha(p, m, one), f = aciq_mse(p, m, a, one);
        EXPECT_LT(f, aciq_mse(p, m, a * 0.99, one));
        EXPECT_LT(f, aciq_mse(p, m, a * 1.01, one));
      }
}

TEST(Aciq, OneSidedAtMEqualsTwoSidedAtMPlusOne) {  // alpha_laplace_positive[M] = alpha_laplace[M+1]
  for (int m = 1; m <= 7; ++m) {
    EXPECT_NEAR(aciq_optimal_alpha(ClipPrior::laplace, m, true), aciq_optimal_alpha(ClipPrior::laplace, m + 1, false), 1e-9);
    EXPECT_NEAR(aciq_optimal_alpha(ClipPrior::gauss, m, true), aciq_optimal_alpha(ClipPrior::gauss, m + 1, false), 1e-9);
  }
  EXPECT_NEAR(aciq_optimal_alpha(ClipPrior::gauss, 1, true), 1.71, 0.01);  // code dict {1: 1.71, ...}
  // alpha_laplace_positive[0] = 1.86 = alpha_laplace[1].
  EXPECT_NEAR(aciq_optimal_alpha(ClipPrior::laplace, 0, true), 1.86282, 1e-4);
  // The MSE itself: one-sided noise α²/(12·4^M) = two-sided α²/(3·4^{M+1}), same clip term.
  for (ClipPrior p : {ClipPrior::laplace, ClipPrior::gauss})
    for (double a : {0.5, 2.0, 7.0})
      EXPECT_NEAR(aciq_mse(p, 3, a, true), aciq_mse(p, 4, a, false), 1e-15);
}

TEST(Aciq, AnalyticMseMatchesASimulatedQuantizer) {
  // papers.md §4: 10^5 Laplace(b = 2) samples, M = 4; 2^M bins of width 2α/2^M with
  // mid-rise reconstruction, as in the MSE model.
  const double b = 2;
  const std::vector<float> x = laplace_samples(100000, b, 21);
  auto simulated = [&](double alpha) {
    const double delta = 2 * alpha / 16;
    double err = 0;
    for (float v : x) {
      const double c = std::clamp(double(v), -alpha, alpha - 1e-12);
      const double q = (std::floor(c / delta) + 0.5) * delta;
      const double e = (std::fabs(v) > alpha ? std::copysign(alpha, v) : q) - v;
      err += e * e;
    }
    return err / double(x.size());
  };
  const double a_star = aciq_optimal_alpha(ClipPrior::laplace, 4, false) * b;
  const double sim = simulated(a_star), model = aciq_mse(ClipPrior::laplace, 4, a_star / b, false) * b * b;
  EXPECT_NEAR(sim, model, 0.05 * model);
  EXPECT_LT(sim, simulated(0.8 * a_star));
  EXPECT_LT(sim, simulated(1.2 * a_star));
  // The fitted scale recovers b, so aciq_clip lands near α*·b.
  EXPECT_NEAR(fit_distribution(x).b, b, 0.02 * b);
  EXPECT_NEAR(aciq_clip(x, ClipPrior::laplace, 4, false), a_star, 0.02 * a_star);
}

TEST(Aciq, FitAndOneSidedScale) {
  const std::vector<float> g = gauss_samples(200000, 4);
  const DistributionFit f = fit_distribution(g);
  EXPECT_NEAR(f.sigma, 1.0, 0.01);
  EXPECT_NEAR(f.mean, 0.0, 0.01);
  EXPECT_NEAR(f.b, std::sqrt(2 / std::numbers::pi), 0.01);
  std::vector<float> relu(g.size());
  for (size_t i = 0; i < g.size(); ++i) relu[i] = std::fabs(g[i]);  // half-normal, σ = 1
  EXPECT_NEAR(aciq_clip(relu, ClipPrior::gauss, 3, true), aciq_optimal_alpha(ClipPrior::gauss, 3, true), 0.02);
}

TEST(Aciq, OneSidedScaleIgnoresReluZeros) {
  // A ReLU'd Laplace(b = 1.5) is half exact zeros, half Exponential(1.5). The zeros sit on the
  // one-sided grid's 0 level, so the clip is α*_one(M)·b of the positive part, not of mean(x).
  const double b = 1.5;
  std::vector<float> x = laplace_samples(200000, b, 8);
  for (float& v : x) v = std::max(v, 0.0f);
  const double a_one = aciq_optimal_alpha(ClipPrior::laplace, 4, true);
  EXPECT_NEAR(aciq_clip(x, ClipPrior::laplace, 4, true), a_one * b, 0.02 * a_one * b);
  EXPECT_EQ(aciq_clip(std::vector<float>(10, 0.0f), ClipPrior::laplace, 4, true), 0.0);
}

TEST(Sawb, ClosedFormsOfPapersSection2) {
  EXPECT_NEAR(sawb_clip(gauss_samples(400000, 5)), 12.1 - 12.2 * std::sqrt(2 / std::numbers::pi), 0.02);  // 2.3658
  EXPECT_NEAR(sawb_clip(laplace_samples(400000, 1.0, 6)), 12.1 * std::sqrt(2.0) - 12.2, 0.05);  // 4.9120
}

TEST(Aciq, BadInputIsAnInputError) {
  EXPECT_THROW(aciq_optimal_alpha(ClipPrior::laplace, 9, false), lpsim::InputError);
  EXPECT_THROW(aciq_optimal_alpha(ClipPrior::laplace, -1, true), lpsim::InputError);
  EXPECT_THROW(aciq_optimal_alpha(ClipPrior::gauss, 0, false), lpsim::InputError);
  EXPECT_THROW(aciq_mse(ClipPrior::gauss, 9, 1.0, true), lpsim::InputError);
  try {
    aciq_optimal_alpha(ClipPrior::gauss, 12, true);
    ADD_FAILURE() << "no throw";
  } catch (const lpsim::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("12"), std::string::npos) << e.what();  // names the value
    EXPECT_EQ(e.key(), "bits");
  }
  EXPECT_THROW(aciq_clip(std::vector<float>{}, ClipPrior::laplace, 4, true), lpsim::InputError);
  EXPECT_THROW(fit_distribution(std::vector<float>{1.0f}), lpsim::InputError);
  EXPECT_THROW(sawb_clip(std::vector<float>{}), lpsim::InputError);
}

}  // namespace
