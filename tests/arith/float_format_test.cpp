// Exhaustive checks of every ExMy format of <= 16 bits against an independent reference:
// the sorted grid of values enumerated from the codes (decode is a closed-form ldexp,
// round_pack never looks at it). Named constants follow the OCP 8-bit FP spec (v1.0)
// and OCP MX spec (E2M1); LUQ FP4 follows papers.md §2.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "arith/error.h"
#include "arith/float_format.h"
#include "arith/format.h"
#include "arith/philox.h"

using namespace lpsim::arith;

namespace {

std::vector<FloatFormat> formats_up_to_16_bits() {
  std::vector<FloatFormat> fs = named_float_formats();
  for (int e = 1; e <= 8; ++e)
    for (int m = 0; m <= 10 && 1 + e + m <= 16; ++m) fs.push_back(make_exmy(e, m));
  // Variants the generic constructor does not produce: no subnormals, saturating fn.
  FloatFormat nosub = make_exmy(4, 3);
  nosub.name = "e4m3_nosub";
  nosub.subnormals = false;
  fs.push_back(nosub);
  FloatFormat e5fn{"e5m2_fn", 5, 2, 15, true, Specials::fn};
  fs.push_back(e5fn);
  return fs;
}

struct GridPoint {
  double value;
  uint32_t code;
};

// Non-negative finite canonical grid, sorted by value (the reference).
std::vector<GridPoint> positive_grid(const FloatFormat& f) {
  std::vector<GridPoint> g;
  for (uint32_t c = 0; c <= f.magnitude_mask(); ++c) {
    if (f.is_nan(c) || f.is_inf(c) || !f.is_canonical(c)) continue;
    g.push_back({f.decode(c), c});
  }
  std::sort(g.begin(), g.end(), [](auto& a, auto& b) { return a.value < b.value; });
  return g;
}

}  // namespace

namespace lpsim::arith {
void PrintTo(const FloatFormat& f, std::ostream* os) { *os << f.name; }
}  // namespace lpsim::arith

namespace {

class EveryFormat : public ::testing::TestWithParam<FloatFormat> {};

TEST_P(EveryFormat, DecodeEncodeIsIdentityOnCanonicalCodes) {
  const FloatFormat& f = GetParam();
  for (uint32_t c = 0; c < (f.sign_bit() << 1); ++c) {
    if (!f.is_canonical(c)) continue;
    const double v = f.decode(c);
    for (RoundMode mode : {RoundMode::nearest_even, RoundMode::toward_zero, RoundMode::stochastic}) {
      const Encoded e = encode(f, v, mode, Overflow::to_special, 0xFFFFFFFFu);
      ASSERT_EQ(e.code, c) << f.name << " value " << v << " mode " << to_string(mode);
      if (!std::isnan(v)) {
        ASSERT_EQ(e.flags & kInexact, 0);
      }
    }
  }
}

TEST_P(EveryFormat, GridIsStrictlyIncreasingInCode) {
  // Sign-magnitude codes must be monotone in value: round_pack relies on code+1 being
  // the next grid point up.
  const FloatFormat& f = GetParam();
  const auto g = positive_grid(f);
  for (size_t i = 1; i < g.size(); ++i) {
    ASSERT_LT(g[i - 1].value, g[i].value) << f.name;
    ASSERT_LT(g[i - 1].code, g[i].code) << f.name;
  }
  EXPECT_EQ(g.back().code, f.max_finite_magnitude()) << f.name;
  EXPECT_EQ(g.back().value, f.max_value()) << f.name;
}

TEST_P(EveryFormat, MidpointsRoundToEvenCodeAndNeighboursToNearest) {
  const FloatFormat& f = GetParam();
  const auto g = positive_grid(f);
  for (size_t i = 0; i + 1 < g.size(); ++i) {
    const GridPoint lo = g[i], hi = g[i + 1];
    const double mid = (lo.value + hi.value) / 2;  // exact in double
    for (double sign : {1.0, -1.0}) {
      const uint32_t s = sign < 0 ? f.sign_bit() : 0u;
      const uint32_t even = (lo.code & 1u) == 0 ? lo.code : hi.code;
      ASSERT_EQ(encode(f, sign * mid).code, s | even) << f.name << " mid " << mid;
      ASSERT_EQ(encode(f, sign * std::nextafter(mid, 0.0)).code, s | lo.code) << f.name;
      ASSERT_EQ(encode(f, sign * std::nextafter(mid, 1e300)).code, s | hi.code) << f.name;
      ASSERT_EQ(encode(f, sign * mid, RoundMode::toward_zero).code, s | lo.code) << f.name;
      ASSERT_EQ(encode(f, sign * std::nextafter(hi.value, 0.0), RoundMode::toward_zero).code, s | lo.code);
      // Stochastic: frac = 1/2 exactly, so 2^31 is the threshold of the random bits.
      ASSERT_EQ(encode(f, sign * mid, RoundMode::stochastic, Overflow::saturate, 0x7FFFFFFFu).code, s | hi.code);
      ASSERT_EQ(encode(f, sign * mid, RoundMode::stochastic, Overflow::saturate, 0x80000000u).code, s | lo.code);
    }
  }
}

TEST_P(EveryFormat, SaturationAndSpecialsAboveMax) {
  const FloatFormat& f = GetParam();
  const double max = f.max_value();
  // Spacing of the grid at max: the next value an unbounded-exponent format would have.
  const double ulp = std::ldexp(1.0, std::ilogb(max) - f.man_bits);
  const double beyond = max + ulp;
  const uint32_t max_code = f.max_finite_magnitude();
  for (double x : {beyond, 2 * max, 1e300, std::numeric_limits<double>::infinity()}) {
    ASSERT_EQ(encode(f, x, RoundMode::nearest_even, Overflow::saturate).code, max_code) << f.name << " " << x;
    ASSERT_EQ(encode(f, -x, RoundMode::nearest_even, Overflow::saturate).code, f.sign_bit() | max_code);
    if (!std::isinf(x)) {  // an infinite input is exact, not an overflow
      ASSERT_EQ(encode(f, x, RoundMode::toward_zero, Overflow::to_special).code, max_code) << "IEEE 7.4: rtz never overflows";
    }
    const uint32_t special = encode(f, x, RoundMode::nearest_even, Overflow::to_special).code;
    if (f.specials == Specials::ieee) {
      ASSERT_TRUE(f.is_inf(special)) << f.name;
    } else if (f.specials == Specials::fn) {
      ASSERT_TRUE(f.is_nan(special)) << f.name;
    } else {
      ASSERT_EQ(special, max_code) << f.name << ": a format without specials saturates";
    }
  }
  // Half an ulp above max is a tie between max and the overflow value: to-even decides.
  const uint32_t tie = encode(f, max + ulp / 2, RoundMode::nearest_even, Overflow::to_special).code;
  if ((max_code & 1u) == 0 || f.specials == Specials::none)
    EXPECT_EQ(tie, max_code) << f.name;
  else
    EXPECT_NE(tie, max_code) << f.name;
  EXPECT_EQ(encode(f, std::nextafter(max + ulp / 2, 0.0), RoundMode::nearest_even, Overflow::to_special).code, max_code);
}

TEST_P(EveryFormat, NaNPolicy) {
  const FloatFormat& f = GetParam();
  const Encoded e = encode(f, std::numeric_limits<double>::quiet_NaN());
  EXPECT_TRUE(e.flags & kInvalid);
  if (f.has_nan())
    EXPECT_TRUE(f.is_nan(e.code)) << f.name;
  else
    EXPECT_EQ(e.code, 0u) << f.name;
}

TEST_P(EveryFormat, RandomValuesRoundToNearestGridPoint) {
  // Independent reference: binary search of the enumerated grid.
  const FloatFormat& f = GetParam();
  const auto g = positive_grid(f);
  const RandomStream rng(11, 0);
  const double lo_exp = std::log2(f.min_subnormal()) - 3, hi_exp = std::log2(f.max_value()) + 0.5;
  for (uint64_t i = 0; i < 4000; ++i) {
    const double x = std::exp2(lo_exp + (hi_exp - lo_exp) * rng.uniform(i));
    auto it = std::upper_bound(g.begin(), g.end(), x, [](double v, const GridPoint& p) { return v < p.value; });
    const GridPoint down = *(it - 1);
    const uint32_t rtz = encode(f, x, RoundMode::toward_zero).code;
    ASSERT_EQ(rtz, down.code) << f.name << " x=" << x;
    if (it == g.end()) continue;  // above max: covered by the saturation test
    const GridPoint up = *it;
    const uint32_t expect = (x - down.value < up.value - x) ? down.code
                            : (x - down.value > up.value - x) ? up.code
                            : ((down.code & 1u) ? up.code : down.code);
    ASSERT_EQ(encode(f, x).code, expect) << f.name << " x=" << x;
    const uint32_t sr = encode(f, x, RoundMode::stochastic, Overflow::saturate, rng.bits(i + 99999)).code;
    ASSERT_TRUE(sr == down.code || sr == up.code) << f.name;
  }
}

INSTANTIATE_TEST_SUITE_P(Formats, EveryFormat, ::testing::ValuesIn(formats_up_to_16_bits()),
                         [](const auto& info) { return info.param.name; });

// Constants from the OCP 8-bit floating point specification v1.0, Table 1, and the OCP
// MX v1.0 spec (E2M1), IEEE 754 binary16, bfloat16.
TEST(NamedFormats, RangesMatchTheSpecifications) {
  EXPECT_EQ(fp8_e4m3().max_value(), 448.0);
  EXPECT_EQ(fp8_e4m3().min_normal(), std::ldexp(1.0, -6));
  EXPECT_EQ(fp8_e4m3().min_subnormal(), std::ldexp(1.0, -9));
  EXPECT_EQ(fp8_e5m2().max_value(), 57344.0);
  EXPECT_EQ(fp8_e5m2().min_normal(), std::ldexp(1.0, -14));
  EXPECT_EQ(fp8_e5m2().min_subnormal(), std::ldexp(1.0, -16));
  EXPECT_EQ(fp4_e2m1().max_value(), 6.0);
  EXPECT_EQ(fp4_e2m1().min_subnormal(), 0.5);
  EXPECT_EQ(fp16().max_value(), 65504.0);
  EXPECT_EQ(fp16().min_subnormal(), std::ldexp(1.0, -24));
  EXPECT_EQ(bf16().max_value(), std::ldexp(255.0, 120));
  // E4M3: only S.1111.111 is NaN; S.1111.110 = 448 is finite; there is no infinity.
  EXPECT_TRUE(fp8_e4m3().is_nan(0x7F));
  EXPECT_TRUE(fp8_e4m3().is_nan(0xFF));
  EXPECT_FALSE(fp8_e4m3().is_nan(0x7E));
  EXPECT_FALSE(fp8_e4m3().is_inf(0x78));
  EXPECT_EQ(fp8_e4m3().decode(0x78), 256.0);
  // E5M2: IEEE-style.
  EXPECT_TRUE(fp8_e5m2().is_inf(0x7C));
  EXPECT_TRUE(fp8_e5m2().is_nan(0x7D));
  std::vector<double> e2m1;
  for (uint32_t c = 0; c < 8; ++c) e2m1.push_back(fp4_e2m1().decode(c));
  EXPECT_EQ(e2m1, (std::vector<double>{0, 0.5, 1, 1.5, 2, 3, 4, 6}));
  // LUQ FP4 (papers.md §2): zero plus 7 powers of two per sign in 4 bits.
  std::vector<double> luq;
  for (uint32_t c = 0; c < 16; ++c) luq.push_back(luq_fp4().decode(c));
  EXPECT_EQ(luq, (std::vector<double>{0, 1, 2, 4, 8, 16, 32, 64, -0.0, -1, -2, -4, -8, -16, -32, -64}));
  EXPECT_EQ(luq_fp5_8levels().max_value(), 16384.0);  // E4M0: 2^0..2^14; LUQ uses codes 0..8
}

TEST(NamedFormats, OcpE4M3OverflowExamples) {
  const FloatFormat f = fp8_e4m3();
  EXPECT_EQ(encode(f, 464.0).code, 0x7Eu);  // tie 448|480: 448 has the even code
  EXPECT_EQ(encode(f, 465.0, RoundMode::nearest_even, Overflow::saturate).code, 0x7Eu);
  EXPECT_EQ(encode(f, 465.0, RoundMode::nearest_even, Overflow::to_special).code, 0x7Fu);
  const FloatFormat g = fp8_e5m2();
  EXPECT_EQ(encode(g, 61440.0, RoundMode::nearest_even, Overflow::to_special).code, 0x7Cu);  // tie → inf
  EXPECT_EQ(encode(g, 61439.0, RoundMode::nearest_even, Overflow::to_special).code, 0x7Bu);
}

TEST(RoundPack, StickyBreaksTiesUpwardAndFlagsInexact) {
  const FloatFormat f = fp8_e4m3();
  // 1 + 2^-4 is the midpoint of 1 and 1.125; with sticky it is above the midpoint.
  const Encoded tie = round_pack(f, false, -4, 17, false, RoundMode::nearest_even, Overflow::saturate);
  const Encoded above = round_pack(f, false, -4, 17, true, RoundMode::nearest_even, Overflow::saturate);
  EXPECT_EQ(f.decode(tie.code), 1.0);
  EXPECT_EQ(f.decode(above.code), 1.125);
  EXPECT_TRUE(above.flags & kInexact);
  const Encoded exact = round_pack(f, false, -3, 9, true, RoundMode::toward_zero, Overflow::saturate);
  EXPECT_EQ(f.decode(exact.code), 1.125);
  EXPECT_TRUE(exact.flags & kInexact);
}

TEST(ParseFormat, NamesAndErrors) {
  EXPECT_EQ(format_name(parse_format("int8")), "int8");
  EXPECT_EQ(format_name(parse_format("uint4")), "uint4");
  EXPECT_EQ(format_name(parse_format("int32")), "int32");
  EXPECT_EQ(std::get<FloatFormat>(parse_format("e3m2")).bias, 3);
  EXPECT_TRUE(std::get<FloatFormat>(parse_format("fp8_e4m3")) == fp8_e4m3());
  for (const char* bad : {"int0", "int33", "uint64", "e9m2", "e4m11", "e0m3", "fp8", "int", "e4m", "", "luq3"})
    EXPECT_THROW(parse_format(bad), lpsim::InputError) << bad;
}

}  // namespace
