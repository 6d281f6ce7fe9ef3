// LUQ (papers.md §2) and the uniform clipping quantizer (papers.md §4, integer grid),
// checked against their closed forms: unbiasedness, the variance formula, the support.
#include <gtest/gtest.h>

#include <cmath>
#include <bit>
#include <set>
#include <vector>

#include "arith/error.h"
#include "arith/luq.h"
#include "arith/philox.h"
#include "arith/uniform_quantizer.h"

using namespace lpsim::arith;

namespace {

// A gradient tensor whose max|g| pins α = 1: [anchor, r, r, ..., r] with anchor = 2^(levels-1).
struct LuqDraw {
  double mean = 0, var = 0;
  std::set<float> support;
};

LuqDraw luq_draws(double r, int levels, size_t n, uint64_t seed) {
  std::vector<float> g(n + 1, float(r)), q(n + 1);
  g[0] = -std::ldexp(1.0f, levels - 1);  // negative max: α must use max|g|
  const LuqResult res = luq_quantize(g, q, {levels, seed, 0, 0, 1});
  EXPECT_EQ(res.alpha, 1.0f);
  LuqDraw d;
  for (size_t i = 1; i <= n; ++i) {
    d.mean += q[i];
    d.support.insert(q[i]);
  }
  d.mean /= double(n);
  for (size_t i = 1; i <= n; ++i) d.var += (q[i] - d.mean) * (q[i] - d.mean);
  d.var /= double(n - 1);
  return d;
}

// papers.md §2 closed form: for r in [2^n, 2^(n+1)), Var = (r - 2^n)(2^(n+1) - r) α²;
// below α (stochastic underflow) Var = r(α - r).
double luq_variance(double r) {
  if (r < 1) return r * (1 - r);
  const double lo = std::exp2(std::floor(std::log2(r)));
  return (r - lo) * (2 * lo - r);
}

TEST(Luq, UnbiasedWithTheClosedFormVariance) {
  constexpr size_t kDraws = 200000;  // papers.md §2 verification: 2·10^5 draws per point
  for (double r : {0.3, 1.7, 2.5, 5.9, 100.0}) {
    const int levels = r > 64 ? 8 : 7;
    const LuqDraw d = luq_draws(r, levels, kDraws, 17);
    const double var = luq_variance(r);
    EXPECT_NEAR(d.mean, r, 4 * std::sqrt(var / kDraws)) << "r=" << r;
    EXPECT_NEAR(d.var, var, 0.02 * var) << "r=" << r;
    const double lo = r < 1 ? 0.0 : std::exp2(std::floor(std::log2(r)));
    EXPECT_EQ(d.support, (std::set<float>{float(lo), float(r < 1 ? 1.0 : 2 * lo)})) << "r=" << r;
  }
}

TEST(Luq, PowersOfTwoAreExactAndEveryOutputIsOnTheGrid) {
  for (int k = 0; k <= 6; ++k) {
    const LuqDraw d = luq_draws(std::ldexp(1.0, k), 7, 1000, 3);
    EXPECT_EQ(d.support, std::set<float>{std::ldexp(1.0f, k)});
  }
  // Random gradients: outputs are 0 or ±α·2^k, k in [0, 6], and E[Q(g)] = g per element.
  std::vector<float> g(50000), q(g.size());
  const RandomStream rng(5, 0);
  for (size_t i = 0; i < g.size(); ++i) g[i] = float(std::exp(8 * rng.uniform(i) - 6) * (i % 2 ? 1 : -1));
  const LuqResult res = luq_quantize(g, q, {7, 9, 0, 0, 1});
  for (float v : q) {
    if (v == 0) continue;
    const float m = std::fabs(v) / res.alpha;
    const int k = std::ilogb(m);
    ASSERT_EQ(m, std::ldexp(1.0f, k));
    ASSERT_GE(k, 0);
    ASSERT_LE(k, 6);
  }
}

TEST(Luq, EightLevelOptionUsesMaxOver128) {
  std::vector<float> g = {0.5f, -3.0f, 1.0f}, q(3);
  EXPECT_EQ(luq_quantize(g, q, {8, 1, 0, 0, 1}).alpha, 3.0f / 128);
  EXPECT_EQ(luq_quantize(g, q, {7, 1, 0, 0, 1}).alpha, 3.0f / 64);
  EXPECT_THROW(luq_quantize(g, q, {6, 1, 0, 0, 1}), lpsim::InputError);
  std::vector<float> zeros(4, 0.0f), out(4, 1.0f);
  luq_quantize(zeros, out, {});
  EXPECT_EQ(out, zeros);
}

TEST(Luq, DeterministicForASeed) {
  std::vector<float> g(10007), a(g.size()), b(g.size());
  const RandomStream rng(6, 0);
  for (size_t i = 0; i < g.size(); ++i) g[i] = float(rng.uniform(i) - 0.5);
  luq_quantize(g, a, {7, 42, 0, 0, 1});
  luq_quantize(g, b, {7, 42, 0, 0, 2});
  EXPECT_EQ(a, b);
  luq_quantize(g, b, {7, 43, 0, 0, 1});
  EXPECT_NE(a, b);
}

// The max|g| behind α is found in fixed blocks (in parallel): the largest magnitude in any
// block, NaN skipped, and the same output for any thread count.
TEST(Luq, MaxOverBlocksSkipsNanAndIsThreadIndependent) {
  std::vector<float> g(200003), a(g.size()), b(g.size());
  const RandomStream rng(9, 0);
  for (size_t i = 0; i < g.size(); ++i) g[i] = float(rng.uniform(i) - 0.5);
  g[150001] = -3.0f, g[3] = NAN;
  const LuqResult ra = luq_quantize(g, a, {7, 5, 0, 0, 1});
  const LuqResult rb = luq_quantize(g, b, {7, 5, 0, 0, 3});
  EXPECT_EQ(ra.max_abs, 3.0f);
  EXPECT_EQ(ra.alpha, 3.0f / 64);
  EXPECT_EQ(rb.max_abs, 3.0f);
  for (size_t i = 0; i < g.size(); ++i) {
    if (i == 3) continue;  // the NaN
    ASSERT_EQ(std::bit_cast<uint32_t>(a[i]), std::bit_cast<uint32_t>(b[i])) << i;
  }
  EXPECT_EQ(a[150001], -3.0f);  // the max is a grid point
}

TEST(Uniform, SymmetricGridClipsAtAlpha) {
  const UniformSpec spec{4, true};  // levels -7..7, scale = α/7
  std::vector<float> x = {-10.f, -1.0f, -0.1f, 0.0f, 0.2f, 0.3f, 0.99f, 5.0f}, q(x.size());
  uniform_quantize(spec, 0, 1.0f, x, q);
  const float s = 1.0f / 7;
  const std::vector<float> expect = {-7 * s, -7 * s, -1 * s, 0.0f, 1 * s, 2 * s, 7 * s, 7 * s};
  EXPECT_EQ(q[0], expect[0]);
  EXPECT_EQ(q[1], expect[1]);
  EXPECT_EQ(q[2], expect[2]);
  EXPECT_EQ(q[3], 0.0f);
  EXPECT_EQ(q[4], expect[4]);
  EXPECT_EQ(q[5], expect[5]);
  EXPECT_EQ(q[6], expect[6]);
  EXPECT_EQ(q[7], expect[7]);
  for (float v : q) {
    const float k = v / s;
    EXPECT_NEAR(k, std::nearbyint(k), 1e-5f);
    EXPECT_LE(std::fabs(k), 7.0f);
  }
}

TEST(Uniform, AsymmetricRepresentsZeroExactly) {
  const UniformSpec spec{8, false};
  const UniformGrid g = uniform_grid(spec, -0.37f, 2.9f);
  EXPECT_EQ(g.q_max, 255);
  std::vector<float> x = {0.0f, -0.37f, 2.9f, 100.0f, -100.0f}, q(x.size());
  uniform_quantize(spec, -0.37f, 2.9f, x, q);
  EXPECT_EQ(q[0], 0.0f);
  EXPECT_NEAR(q[1], -0.37f, g.scale);
  EXPECT_NEAR(q[2], 2.9f, g.scale);
  EXPECT_EQ(q[3], q[2]);
  EXPECT_EQ(q[4], q[1]);
}

TEST(Uniform, PerChannelEqualsPerTensorOnEachChannel) {
  const size_t channels = 3, inner = 100;
  std::vector<float> x(channels * inner), q(x.size()), ref(inner);
  const RandomStream rng(8, 0);
  for (size_t i = 0; i < x.size(); ++i) x[i] = float(4 * rng.uniform(i) - 2);
  const std::vector<float> alpha = {0.5f, 1.0f, 2.0f};
  const UniformSpec spec{3, true};
  uniform_quantize_per_channel(spec, {}, alpha, x, q);
  for (size_t c = 0; c < channels; ++c) {
    uniform_quantize(spec, 0, alpha[c], std::span(x).subspan(c * inner, inner), ref);
    for (size_t i = 0; i < inner; ++i) ASSERT_EQ(q[c * inner + i], ref[i]);
  }
  EXPECT_THROW(uniform_quantize_per_channel(spec, {}, std::vector<float>(7, 1.0f), x, q), lpsim::InputError);
}

TEST(Uniform, StochasticIsUnbiased) {
  const UniformSpec spec{4, true, RoundMode::stochastic, 11, 0};
  const size_t n = 200000;
  std::vector<float> x(n, 0.3f), q(n);
  uniform_quantize(spec, 0, 7.0f, x, q);  // scale 1: 0.3 between 0 and 1
  double mean = 0;
  for (float v : q) mean += v;
  mean /= n;
  EXPECT_NEAR(mean, 0.3, 4 * std::sqrt(0.21 / n));
}

TEST(Uniform, BadParametersAreInputErrors) {
  std::vector<float> x(4), q(4);
  EXPECT_THROW(uniform_quantize({1, true}, 0, 1.0f, x, q), lpsim::InputError);
  EXPECT_THROW(uniform_quantize({8, true}, 0, -1.0f, x, q), lpsim::InputError);
  EXPECT_THROW(uniform_quantize({8, false}, 1.0f, 1.0f, x, q), lpsim::InputError);
  EXPECT_THROW(uniform_quantize({33, true}, 0, 1.0f, x, q), lpsim::InputError);
}

}  // namespace

#include "arith/float_format.h"
#include "arith/int_units.h"

namespace {

// papers.md §2 "Multiplier-free PE": for all 16×16 (int4, fp4) pairs the shift-based
// product equals the exact product of the decoded values.
TEST(IntUnits, LuqShiftProductIsExactForAllPairs) {
  const FloatFormat fp4 = luq_fp4();
  for (uint32_t a = 0; a < 16; ++a)
    for (uint32_t w = 0; w < 16; ++w)
      ASSERT_EQ(double(luq_mul_golden(a, w)), double(operand_value(a, 4, true)) * fp4.decode(w)) << a << " " << w;
}

TEST(IntUnits, AccumulatorWrapsAndSaturates) {
  AccumulatorModel wrap{8, true, false};
  AccumulatorModel sat{8, true, true};
  for (int i = 0; i < 3; ++i) {
    wrap.clock(false, true, 50);
    sat.clock(false, true, 50);
  }
  EXPECT_EQ(wrap.value, 150 - 256);
  EXPECT_TRUE(wrap.overflow);
  EXPECT_EQ(sat.value, 127);
  sat.clock(false, false, 5);
  EXPECT_EQ(sat.value, 127);
  sat.clock(true, true, 5);
  EXPECT_EQ(sat.value, 0);
  EXPECT_EQ(mul_golden(0xFF, 0xFF, 8, 8, true), 1u);        // (-1)·(-1)
  EXPECT_EQ(mul_golden(0x80, 0x7F, 8, 8, true), 0xC080u);   // -128·127 = -16256
  EXPECT_EQ(mul_golden(0xFF, 0xFF, 8, 8, false), 0xFE01u);  // 255·255
  const AddResult r = add_golden(~uint64_t{0}, 1, false, 64);
  EXPECT_EQ(r.sum, 0u);
  EXPECT_TRUE(r.carry);
}

// The PANN PE's cycle model: a start on the last addition (count 1) overlaps it, so a
// run of jobs issued as soon as done() allows takes 1 + Σ max(|w̃|, 1) edges, traced by
// hand here; then random runs against the closed form (sums, flag, additions, cycles),
// and the edges that drop work: a start while counting (adds once, drops the rest), a
// clear at count 1 (drops the last addition), a clear with a start (loads nothing).
TEST(IntUnits, PannMacModelOverlapsStartsWithTheLastAddition) {
  PannMacModel m{8, false};
  struct Edge {
    bool start;
    uint64_t x, r;
    bool neg;
    bool adds;  // the edge adds
    uint64_t pos, neg_sum;
    bool done;  // after the edge
  };
  // Jobs (3, +2), (5, −1), (7, 0), (2, +3): 1 + 2 + 1 + 1 + 3 = 8 edges.
  const Edge trace[] = {
      {true, 3, 2, false, false, 0, 0, false},  // first start: nothing to add yet
      {false, 0, 0, false, true, 3, 0, true},   // count 2 → 1: done, the next start may come
      {true, 5, 1, true, true, 6, 0, true},     // last addition of x = 3 and the start of (5, −1)
      {true, 7, 0, false, true, 6, 5, true},    // (5, −1)'s only addition into sum_neg; start (7, 0)
      {true, 2, 3, false, false, 6, 5, false},  // (7, 0) took its start cycle only
      {false, 0, 0, false, true, 8, 5, false},
      {false, 0, 0, false, true, 10, 5, true},
      {false, 0, 0, false, true, 12, 5, true},  // the last addition, no start: the run is complete
  };
  for (size_t i = 0; i < std::size(trace); ++i) {
    const Edge& e = trace[i];
    EXPECT_EQ(m.clock(false, e.start, e.x, e.r, e.neg), e.adds) << "edge " << i;
    EXPECT_EQ(m.sum_pos, e.pos) << "edge " << i;
    EXPECT_EQ(m.sum_neg, e.neg_sum) << "edge " << i;
    EXPECT_EQ(m.done(), e.done) << "edge " << i;
  }
  EXPECT_EQ(m.count, 0u);
  const std::vector<PannJob> jobs{{3, 2}, {5, -1}, {7, 0}, {2, 3}};
  const PannMacSums g = pann_mac_golden(jobs, 8, false);
  EXPECT_EQ(g.sum_pos, 12u);
  EXPECT_EQ(g.sum_neg, 5u);
  EXPECT_EQ(g.add_cycles, 6u);
  EXPECT_EQ(g.cycles, std::size(trace));
  EXPECT_EQ(pann_mac_golden(std::vector<PannJob>{}, 8, false).cycles, 0u);
  EXPECT_EQ(pann_mac_golden(std::vector<PannJob>{{9, 0}}, 8, false).cycles, 2u);  // its start, then an idle edge

  // Random runs, back to back, 8-bit sums wrapping or saturating.
  const RandomStream rng(5, 0);
  uint64_t draw = 0, overflowed = 0;
  for (const bool sat : {false, true})
    for (int run = 0; run < 2000; ++run) {
      PannMacModel p{8, sat};
      p.clock(true, false, 0, 0, false);
      std::vector<PannJob> js;
      uint64_t cycles = 0, adds = 0;
      const uint64_t n = 1 + rng.block(draw++)[0] % 12;
      for (uint64_t j = 0; j < n; ++j) {
        const auto w = rng.block(draw++);
        const uint64_t x = w[0] & 31u, r = w[1] % 8u;
        const bool neg = w[2] & 1u;
        js.push_back({x, neg ? -int64_t(r) : int64_t(r)});
        ASSERT_TRUE(p.done());
        adds += p.clock(false, true, x, r, neg);
        ++cycles;
        for (; !p.done(); ++cycles) adds += p.clock(false, false, w[3] & 31u, w[3] >> 8 & 7u, w[3] >> 16 & 1u);
      }
      adds += p.clock(false, false, 0, 0, false);  // the last addition
      ++cycles;
      ASSERT_EQ(p.count, 0u);
      const PannMacSums e = pann_mac_golden(js, 8, sat);
      ASSERT_EQ(p.sum_pos, e.sum_pos) << run;
      ASSERT_EQ(p.sum_neg, e.sum_neg) << run;
      ASSERT_EQ(p.overflow, e.overflow) << run;
      ASSERT_EQ(adds, e.add_cycles) << run;
      ASSERT_EQ(cycles, e.cycles) << run;
      overflowed += e.overflow;
    }
  EXPECT_GT(overflowed, 400u);
  EXPECT_LT(overflowed, 3600u);

  // A start at count 3 adds once and drops the other two additions.
  PannMacModel d{8, false};
  d.clock(false, true, 4, 3, false);
  EXPECT_TRUE(d.clock(false, true, 1, 1, true));
  EXPECT_EQ(d.sum_pos, 4u);
  EXPECT_TRUE(d.clock(false, false, 0, 0, false));
  EXPECT_EQ(d.sum_neg, 1u);
  EXPECT_EQ(d.count, 0u);
  // A clear at count 1 wins over the last addition; a clear with a start loads nothing.
  d.clock(false, true, 6, 1, false);
  EXPECT_FALSE(d.clock(true, true, 9, 5, false));
  EXPECT_EQ(d.sum_pos, 0u);
  EXPECT_EQ(d.sum_neg, 0u);
  EXPECT_EQ(d.count, 0u);
  EXPECT_TRUE(d.done());
}

}  // namespace

#include "arith/fp_units.h"

namespace {

// The exact FP8 product: the product format holds every product of two codes without
// rounding (checked against the double product for all 2^16 pairs), and the specials.
TEST(FpUnits, Fp8ProductIsExactForAllPairs) {
  for (const FloatFormat& f : {fp8_e4m3(), fp8_e5m2()}) {
    const FloatFormat out = exact_product_format(f);
    for (uint32_t a = 0; a < 256; ++a)
      for (uint32_t b = 0; b < 256; ++b) {
        const double x = f.decode(a), y = f.decode(b);
        const double p = out.decode(fp_mul_exact_golden(f, a, b));
        if (std::isnan(x) || std::isnan(y) || (std::isinf(x) && y == 0) || (std::isinf(y) && x == 0))
          ASSERT_TRUE(std::isnan(p));
        else
          ASSERT_EQ(p, x * y) << f.name << " " << a << " " << b;
      }
  }
  EXPECT_EQ(exact_product_format(fp8_e4m3()).name, "e6m7");
  EXPECT_EQ(exact_product_format(fp8_e5m2()).name, "e7m5");
  const FloatFormat e4 = fp8_e4m3(), o4 = exact_product_format(e4);
  EXPECT_EQ(o4.decode(fp_mul_exact_golden(e4, 0x7E, 0x7E)), 448.0 * 448.0);
  EXPECT_EQ(o4.decode(fp_mul_exact_golden(e4, 0x01, 0x81)), -std::ldexp(1.0, -18));  // min subnormal²
  const FloatFormat e5 = fp8_e5m2(), o5 = exact_product_format(e5);
  EXPECT_TRUE(o5.is_inf(fp_mul_exact_golden(e5, 0x7C, 0xC0)));                           // inf · -2
  EXPECT_TRUE(fp_mul_exact_golden(e5, 0x7C, 0xC0) & o5.sign_bit());
  EXPECT_EQ(fp_mul_exact_golden(e5, 0x7C, 0x00), o5.nan_magnitude());                   // inf · 0
}

}  // namespace

namespace {

// The FP adder golden model against independent references: exact double sums for
// E5M2 (all 2^16 pairs) and FP16 (random pairs), the CPU's own float addition for FP32.
TEST(FpUnits, AdderMatchesIndependentReferences) {
  for (const FloatFormat& f : {fp8_e5m2(), fp16()}) {
    const RandomStream rng(31, 0);
    const uint64_t n = f.total_bits() == 8 ? 65536 : 400000;
    for (uint64_t i = 0; i < n; ++i) {
      const uint32_t a = f.total_bits() == 8 ? uint32_t(i >> 8) : rng.bits(i) & 0xFFFF;
      const uint32_t b = f.total_bits() == 8 ? uint32_t(i & 255) : rng.bits(i) >> 16;
      const double x = f.decode(a), y = f.decode(b);
      const uint32_t got = fp_add_golden(f, a, b);
      if (std::isnan(x + y)) {
        ASSERT_TRUE(f.is_nan(got)) << f.name << " " << a << " " << b;
        continue;
      }
      const uint32_t expect = encode(f, x + y, RoundMode::nearest_even, Overflow::to_special).code;  // x+y exact
      ASSERT_EQ(got, (x + y == 0 && !(std::signbit(x) && std::signbit(y))) ? 0u : expect)
          << f.name << " a=" << a << " b=" << b;
    }
  }
  const FloatFormat f32 = fp32();
  const RandomStream rng(32, 0);
  for (uint64_t i = 0; i < 400000; ++i) {
    // Mix of nearby and far exponents: random bit patterns, half with b near a.
    const uint32_t a = rng.bits(2 * i), b = (i & 1) ? rng.bits(2 * i + 1) : (a ^ (rng.bits(2 * i + 1) & 0x81FFFFFFu));
    const float x = std::bit_cast<float>(a), y = std::bit_cast<float>(b);
    const float s = x + y;  // IEEE binary32 addition, round to nearest even
    const uint32_t got = fp_add_golden(f32, a, b);
    if (std::isnan(s))
      ASSERT_TRUE(f32.is_nan(got));
    else
      ASSERT_EQ(got, std::bit_cast<uint32_t>(s)) << std::hex << a << " + " << b;
  }
}

}  // namespace
