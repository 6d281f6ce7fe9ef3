// ACIQ optimal clipping (papers.md §4) and SAWB (papers.md §2): closed forms, the
// one-sided/two-sided identity, and the analytic MSE against a simulated quantizer.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
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

// sawb_stats (blocked, 8 lanes, AVX2 or baseline) against a direct double sum, the range
// against std::minmax over the non-NaN values, and the same bits for any thread count.
TEST(Sawb, StatsMatchADirectSumAndAreThreadIndependent) {
  std::vector<float> x = laplace_samples(100003, 0.3, 12);  // not a multiple of the block or the lanes
  x[5] = NAN, x[17] = -0.0f, x[99999] = -7.5f, x[50000] = 9.25f;
  double s2 = 0, s1 = 0;
  float lo = INFINITY, hi = 0;
  for (float v : x) {
    if (std::isnan(v)) continue;
    s2 += double(v) * v, s1 += std::fabs(double(v)), lo = std::min(lo, v), hi = std::max(hi, std::fabs(v));
  }
  std::vector<float> finite = x;
  finite[5] = 0;  // the clip compared without the NaN (which makes both sums NaN)
  double f2 = 0, f1 = 0;
  for (float v : finite) f2 += double(v) * v, f1 += std::fabs(double(v));
  const double n = double(x.size());
  const SawbStats one = sawb_stats(finite, 12.1, 12.2, 1);
  EXPECT_NEAR(one.clip, 12.1 * std::sqrt(f2 / n) - 12.2 * f1 / n, 1e-12);
  const SawbStats with_nan = sawb_stats(x, 12.1, 12.2, 1);
  EXPECT_EQ(with_nan.min, lo);  // -7.5: the NaN skipped
  EXPECT_EQ(with_nan.max_abs, hi);
  EXPECT_EQ(lo, -7.5f);
  for (int t : {2, 3}) {
    const SawbStats s = sawb_stats(finite, 12.1, 12.2, t);
    EXPECT_EQ(std::bit_cast<uint64_t>(s.clip), std::bit_cast<uint64_t>(one.clip)) << t;
    EXPECT_EQ(s.min, one.min);
    EXPECT_EQ(s.max_abs, one.max_abs);
  }
  const SawbStats positive = sawb_stats(std::vector<float>{3.0f, 0.5f, 2.0f}, 12.1, 12.2, 1);
  EXPECT_EQ(positive.min, 0.5f);
  EXPECT_EQ(positive.max_abs, 3.0f);
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


// ---- Prior choice, bit allocation, bias correction (papers.md §4) ------------------------

TEST(AciqPrior, MeanLogLikelihoodIsTheDirectSumOfLogDensities) {
  const auto x = laplace_samples(4001, 1.7, 11);
  double mean = 0;
  for (float v : x) mean += v;
  mean /= double(x.size());
  double b = 0, var = 0;
  for (float v : x) b += std::fabs(v - mean), var += (v - mean) * (v - mean);
  b /= double(x.size()), var /= double(x.size());
  double ll_l = 0, ll_g = 0;
  for (float v : x) {
    ll_l += -std::log(2 * b) - std::fabs(v - mean) / b;
    ll_g += -0.5 * std::log(2 * std::numbers::pi * var) - (v - mean) * (v - mean) / (2 * var);
  }
  EXPECT_NEAR(mean_log_likelihood(x, ClipPrior::laplace, false), ll_l / double(x.size()), 1e-9);
  EXPECT_NEAR(mean_log_likelihood(x, ClipPrior::gauss, false), ll_g / double(x.size()), 1e-9);
  // One-sided: the positive entries under the exponential and the half-normal.
  double s1 = 0, s2 = 0, n = 0;
  for (float v : x)
    if (v > 0) s1 += v, s2 += double(v) * v, n += 1;
  double le = 0, lh = 0;
  for (float v : x)
    if (v > 0) {
      le += -std::log(s1 / n) - v / (s1 / n);
      lh += std::log(std::sqrt(2 / (std::numbers::pi * (s2 / n)))) - double(v) * v / (2 * s2 / n);
    }
  EXPECT_NEAR(mean_log_likelihood(x, ClipPrior::laplace, true), le / n, 1e-9);
  EXPECT_NEAR(mean_log_likelihood(x, ClipPrior::gauss, true), lh / n, 1e-9);
}

TEST(AciqPrior, AutoPicksTheDistributionTheSamplesCameFrom) {
  const auto l = laplace_samples(20000, 0.3, 5), g = gauss_samples(20000, 6);
  EXPECT_EQ(best_fit_prior(l, false), ClipPrior::laplace);
  EXPECT_EQ(best_fit_prior(g, false), ClipPrior::gauss);
  // ReLU'd: the positive half of a Laplace is exponential, of a Gaussian half-normal; zeros ignored.
  auto relu = [](std::vector<float> v) {
    for (float& e : v) e = std::max(e, 0.0f);
    return v;
  };
  EXPECT_EQ(best_fit_prior(relu(l), true), ClipPrior::laplace);
  EXPECT_EQ(best_fit_prior(relu(g), true), ClipPrior::gauss);
}

TEST(BitAllocation, PapersExampleRoundAndCeil) {
  // papers.md §4 verification: α^{2/3} = 1 and 2, B = 32 bins -> B* = 10.67 / 21.33,
  // log2 = 3.415 / 4.415 -> round (3, 4), ceil (4, 5).
  const std::vector<double> alpha = {1.0, std::pow(2.0, 1.5)};
  EXPECT_EQ(bits_for_bin_budget(alpha, 32, BitRounding::round, 0, 8), (std::vector<int>{3, 4}));
  EXPECT_EQ(bits_for_bin_budget(alpha, 32, BitRounding::ceil, 0, 8), (std::vector<int>{4, 5}));
  // Eq. 10 directly: B_i ∝ α_i^{2/3}, summing to B.
  EXPECT_NEAR(std::log2(32.0 / 3), 3.415, 1e-3);
  // Clipped to [min, max]; a zero scale gets the minimum.
  EXPECT_EQ(bits_for_bin_budget(std::vector<double>{0.0, 1e-9, 1.0, 1e9}, 0x1p40, BitRounding::round, 0, 8),
            (std::vector<int>{0, 0, 8, 8}));
}

TEST(BitAllocation, TheIteratedTargetIsTheClosestMeanAnyBudgetGives) {
  const RandomStream rng(3, 0);
  for (int trial = 0; trial < 6; ++trial) {
    std::vector<double> alpha(37 + 11 * trial);
    for (size_t i = 0; i < alpha.size(); ++i) alpha[i] = std::exp(3.0 * ((rng.bits(trial * 1000 + i) + 0.5) * 0x1p-32 - 0.5));
    for (BitRounding r : {BitRounding::round, BitRounding::ceil})
      for (double target : {2.0, 3.0, 4.0, 4.3}) {
        const auto bits = allocate_bits(alpha, target, r, 0, 8);
        double mean = 0;
        for (int b : bits) {
          mean += b;
          EXPECT_TRUE(b >= 0 && b <= 8);
        }
        mean /= double(bits.size());
        // Brute force over budgets 2^(t/64): nothing gets closer to the target.
        double best = INFINITY;
        for (int t = 0; t < 64 * 20; ++t) {
          const auto b2 = bits_for_bin_budget(alpha, std::exp2(t / 64.0), r, 0, 8);
          double m2 = 0;
          for (int b : b2) m2 += b;
          best = std::min(best, std::fabs(m2 / double(b2.size()) - target));
        }
        EXPECT_LE(std::fabs(mean - target), best + 1e-12) << "trial " << trial << " target " << target;
        // Larger scales never get fewer bits.
        for (size_t i = 0; i < alpha.size(); ++i)
          for (size_t j = 0; j < alpha.size(); ++j)
            if (alpha[i] > alpha[j]) {
              EXPECT_GE(bits[i], bits[j]);
            }
      }
  }
  // Equal scales: every channel the target width.
  EXPECT_EQ(allocate_bits(std::vector<double>(5, 2.0), 4, BitRounding::round, 0, 8), std::vector<int>(5, 4));
  EXPECT_THROW(allocate_bits(std::vector<double>{1.0}, 9, BitRounding::round, 0, 8), lpsim::InputError);
  EXPECT_THROW(allocate_bits(std::vector<double>{}, 4, BitRounding::round, 0, 8), lpsim::InputError);
  EXPECT_THROW(allocate_bits(std::vector<double>{-1.0}, 4, BitRounding::round, 0, 8), lpsim::InputError);
}

TEST(BiasCorrectionTest, RestoresMeanAndStdExactly) {
  // papers.md §4: after correction, mean(Ŵ) == mean(W) and std(Ŵ) == std(W) per channel.
  const auto x = laplace_samples(257, 0.05, 9);
  std::vector<double> w(x.begin(), x.end()), wq(w.size()), corrected(w.size());
  const double s = 0.04;  // a coarse 4-bit-like grid, biased by clipping at ±3 steps
  for (size_t i = 0; i < w.size(); ++i) wq[i] = s * std::clamp(std::nearbyint(w[i] / s), -3.0, 3.0);
  const BiasCorrection c = bias_correction(w, wq);
  for (size_t i = 0; i < w.size(); ++i) corrected[i] = c(wq[i]);
  auto stats = [](const std::vector<double>& v) {
    double m = 0, q = 0;
    for (double e : v) m += e;
    m /= double(v.size());
    for (double e : v) q += (e - m) * (e - m);
    return std::pair{m, std::sqrt(q / double(v.size()))};
  };
  const auto [mw, sw] = stats(w);
  const auto [mq, sq] = stats(wq);
  const auto [mc, sc] = stats(corrected);
  EXPECT_GT(std::fabs(sq - sw), 1e-3);  // the grid did change the statistics
  EXPECT_NEAR(mc, mw, 1e-15);
  EXPECT_NEAR(sc, sw, 1e-15);
  EXPECT_DOUBLE_EQ(c.xi, sw / sq);
  // The code's form ξ(W_q − mean W_q) + mean W, not eq. 13 as printed.
  EXPECT_DOUBLE_EQ(corrected[0], sw / sq * (wq[0] - mq) + mw);
  // A constant quantised channel keeps ξ = 1 (nothing to stretch).
  const BiasCorrection k = bias_correction(std::vector<double>{0.1, 0.2}, std::vector<double>{0.0, 0.0});
  EXPECT_EQ(k.xi, 1.0);
  EXPECT_NEAR(k(0.0), 0.15, 1e-15);
}

}  // namespace
