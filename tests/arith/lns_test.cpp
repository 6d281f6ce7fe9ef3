// The logarithmic number system golden models (arith/lns.h, issue 17) against independent
// references: long-double tables, exact 128-bit sums, FP64 dot products, the LUQ shift
// unit, closed forms for the stagnation of a log-domain accumulator.
#include "arith/lns.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "arith/error.h"
#include "arith/int_units.h"
#include "arith/philox.h"

namespace lpsim::arith {
namespace {

const LnsFormat kL8{7, 3};  // lns8_b3: 7-bit log code, 3 fraction bits

std::vector<uint32_t> random_codes(const LnsFormat& f, size_t n, uint64_t seed, int32_t e_lo, int32_t e_hi) {
  const RandomStream rng(seed, 0x4C4E53u);
  std::vector<uint32_t> c(n);
  for (size_t i = 0; i < n; ++i) {
    const uint32_t w = rng.bits(2 * i), s = rng.bits(2 * i + 1);
    const int32_t e = e_lo + int32_t(w % uint32_t(e_hi - e_lo + 1));
    c[i] = lns_pack(f, s & 1u, e);
  }
  return c;
}

TEST(LnsFormat, NamesAndCodes) {
  EXPECT_EQ(parse_lns_format("lns8_b3").exp_bits, 7);
  EXPECT_EQ(parse_lns_format("lns8_b3").frac_bits, 3);
  EXPECT_EQ(parse_lns_format("lns5_b0").name(), "lns5_b0");
  for (const char* bad : {"lns8", "lns8_b7", "lns2_b0", "lns22_b3", "lns8_b3x", "int8", "lns08_b3"})
    EXPECT_THROW(parse_lns_format(bad), InputError) << bad;
  // Every code of lns8_b3: zero for the reserved e (either sign), else ±2^(e/8).
  int zeros = 0;
  for (uint32_t c = 0; c < 256; ++c) {
    const LnsValue v = lns_unpack(kL8, c);
    const double x = lns_decode(kL8, c);
    if (v.zero) {
      ++zeros;
      EXPECT_EQ(x, 0.0);
      continue;
    }
    EXPECT_EQ(std::fabs(x), std::exp2(v.e / 8.0));
    EXPECT_EQ(x < 0, bool(c & 0x80));
    EXPECT_EQ(lns_pack(kL8, v.negative, v.e), c);
  }
  EXPECT_EQ(zeros, 2);  // +0 and -0
  EXPECT_EQ(kL8.e_min(), -63);
  EXPECT_EQ(kL8.e_max(), 63);
}

TEST(LnsQuantize, NearestInTheLogDomain) {
  // Every nonzero code is its own nearest; just below / above the log-domain midpoint of
  // two neighbours goes to the lower / upper one.
  for (uint32_t c = 0; c < 256; ++c) {
    const LnsValue v = lns_unpack(kL8, c);
    if (v.zero) continue;
    EXPECT_EQ(lns_quantize_nearest(kL8, lns_decode(kL8, c)), c);
    if (v.e == kL8.e_max()) continue;
    const double s = v.negative ? -1 : 1;
    EXPECT_EQ(lns_quantize_nearest(kL8, s * std::exp2((v.e + 0.49) / 8.0)), c);
    EXPECT_EQ(lns_quantize_nearest(kL8, s * std::exp2((v.e + 0.51) / 8.0)), lns_pack(kL8, v.negative, v.e + 1));
  }
  EXPECT_EQ(lns_quantize_nearest(kL8, 0.0), lns_zero(kL8));
  EXPECT_EQ(lns_quantize_nearest(kL8, std::exp2((-63 - 0.51) / 8.0)), lns_zero(kL8));  // below: zero
  EXPECT_EQ(lns_quantize_nearest(kL8, std::exp2((-63 - 0.49) / 8.0)), lns_pack(kL8, false, -63));
  EXPECT_EQ(lns_quantize_nearest(kL8, -1e30), lns_pack(kL8, true, 63));  // saturates
  EXPECT_EQ(lns_quantize_nearest(kL8, INFINITY), lns_pack(kL8, false, 63));
  EXPECT_THROW(lns_quantize_nearest(kL8, NAN), InputError);
}

TEST(LnsQuantize, StochasticIsUnbiasedInTheLinearDomainAndSeeded) {
  const RandomStream rng(7, 0x535121u);
  for (double x : {0.3, -1.7, 5.5, 0.0123, std::exp2(-63 / 8.0) * 0.4 /* below the smallest */, -200.0}) {
    const int n = 200000;
    double mean = 0;
    for (int i = 0; i < n; ++i) {
      const uint32_t c = lns_quantize_stochastic(kL8, x, rng.uniform(uint64_t(i)));
      const double q = lns_decode(kL8, c);
      // Only the two neighbours (or zero below the smallest magnitude) come out.
      const double lo_mag = std::fabs(x) < std::exp2(-63 / 8.0) ? 0.0 : std::exp2(std::floor(std::log2(std::fabs(x)) * 8) / 8);
      const double hi_mag = std::fabs(x) < std::exp2(-63 / 8.0) ? std::exp2(-63 / 8.0) : lo_mag * std::exp2(1 / 8.0);
      EXPECT_TRUE(std::fabs(q) == lo_mag || std::fabs(q) == hi_mag) << x << " -> " << q;
      mean += q;
    }
    mean /= n;
    // Standard error of the mean of a draw between two points: at most (hi - lo)/2/sqrt(n).
    const double lo_mag = std::fabs(x) < std::exp2(-63 / 8.0) ? 0.0 : std::exp2(std::floor(std::log2(std::fabs(x)) * 8) / 8);
    const double hi_mag = std::fabs(x) < std::exp2(-63 / 8.0) ? std::exp2(-63 / 8.0) : lo_mag * std::exp2(1 / 8.0);
    EXPECT_NEAR(mean, x, 5 * (hi_mag - lo_mag) / 2 / std::sqrt(double(n))) << x;
  }
  // Same seed, same codes.
  EXPECT_EQ(lns_quantize_stochastic(kL8, 0.3, rng.uniform(5)), lns_quantize_stochastic(kL8, 0.3, rng.uniform(5)));
}

TEST(LnsTables, ConversionTableAgainstLongDouble) {
  for (int b : {0, 1, 3, 5}) {
    for (int alpha : {b + 1, b + 4, 20}) {
      const std::vector<uint64_t> t = lns_pow2_table(b, alpha);
      ASSERT_EQ(t.size(), size_t(1) << b);
      EXPECT_EQ(t[0], uint64_t{1} << alpha);  // LUT[0] = 2^alpha
      for (size_t r = 0; r < t.size(); ++r) {
        const long double ref = std::nearbyintl(std::exp2l((long double)r / (1 << b)) * std::ldexp(1.0L, alpha));
        EXPECT_EQ(t[r], uint64_t(ref)) << "b " << b << " alpha " << alpha << " r " << r;
        if (r) {
          EXPECT_GT(t[r], t[r - 1]);  // monotone, no duplicate entries
        }
      }
      EXPECT_LT(t.back(), uint64_t{1} << (alpha + 1));
    }
  }
}

TEST(LnsTables, GaussianLogTablesAgainstLongDoubleUpToTheirEssentialZero) {
  for (int F : {3, 5, 8}) {
    const LnsLogAcc u(LnsFormat{7, 3}, F, 20, false);
    const long double one = std::ldexp(1.0L, F);
    auto sb_ref = [&](int64_t d) { return std::nearbyintl(std::log2l(1 + std::exp2l(-d / one)) * one); };
    auto db_ref = [&](int64_t d) { return std::nearbyintl(std::log2l(1 - std::exp2l(-d / one)) * one); };
    EXPECT_EQ(u.sb[0], int64_t{1} << F);  // log2(1 + 1) = 1
    for (size_t d = 0; d < u.sb.size(); ++d) {
      EXPECT_EQ(u.sb[d], int64_t(sb_ref(int64_t(d)))) << "F " << F << " d " << d;
      if (d) {
        EXPECT_LE(u.sb[d], u.sb[d - 1]);
      }
      EXPECT_GT(u.sb[d], 0);
    }
    EXPECT_EQ(sb_ref(int64_t(u.sb.size())), 0.0L);  // the essential zero: the table ends there
    for (size_t d = 1; d < u.db.size(); ++d) {
      EXPECT_EQ(u.db[d], int64_t(db_ref(int64_t(d)))) << "F " << F << " d " << d;
      EXPECT_LT(u.db[d], 0);
      if (d > 1) {
        EXPECT_GE(u.db[d], u.db[d - 1]);
      }
    }
    EXPECT_EQ(db_ref(int64_t(u.db.size())), 0.0L);
    // The essential zero of sb is near z = F + 1 + log2(1/ln 2) (2^-z/ln 2 = 2^-(F+1)).
    EXPECT_NEAR(double(u.sb.size()) / double(one), F + 1 + std::log2(1 / std::log(2.0)), 0.05);
  }
}

// A: the sum equals an exact 128-bit sum of the products converted one by one in long
// double (an independent route), equals A' bit for bit, and does not depend on the order.
TEST(LnsUnitA, ExactSumEqualsBinsAndIsOrderIndependent) {
  const int alpha = 6;
  const uint64_t K = 4096;
  const int width = lns_linear_acc_bits(kL8, alpha, K);
  const LnsLinearAcc u(kL8, alpha, width);
  EXPECT_EQ(width, alpha + 2 + (u.q_max - u.q_min) + 12);
  auto a = random_codes(kL8, K, 1, kL8.zero_code(), kL8.e_max());  // zeros included
  auto b = random_codes(kL8, K, 2, kL8.zero_code(), kL8.e_max());
  const LnsAccResult r = lns_unit_a(u, a, b);
  EXPECT_FALSE(r.overflow);
  __int128 ref = 0;
  double fp64 = 0, bound = 0;
  for (size_t k = 0; k < K; ++k) {
    const double x = lns_decode(kL8, a[k]), y = lns_decode(kL8, b[k]);
    fp64 += x * y;
    if (x == 0 || y == 0) continue;
    const LnsValue va = lns_unpack(kL8, a[k]), vb = lns_unpack(kL8, b[k]);
    const int p = va.e + vb.e;
    const int q = int(std::floor(p / 8.0L)), rr = p - 8 * q;
    const long double conv = std::nearbyintl(std::exp2l(rr / 8.0L) * std::ldexp(1.0L, alpha));
    const __int128 term = (__int128)(uint64_t)conv << (q - u.q_min);
    ref += (va.negative != vb.negative) ? -term : term;
    bound += std::ldexp(0.5, q - alpha);  // one conversion rounding per product
  }
  EXPECT_TRUE(r.sum == ref);
  EXPECT_TRUE(lns_unit_a_bins(u, a, b).sum == r.sum);
  // Against FP64: only the conversion table's rounding (<= half a unit of 2^(q - alpha)).
  EXPECT_LE(std::fabs(lns_linear_value(u, r.sum) - fp64), bound * 1.0000001);
  // Any order: the same bits.
  std::vector<size_t> idx(K);
  std::iota(idx.begin(), idx.end(), 0);
  std::shuffle(idx.begin(), idx.end(), std::mt19937(3));
  std::vector<uint32_t> a2(K), b2(K);
  for (size_t k = 0; k < K; ++k) a2[k] = a[idx[k]], b2[k] = b[idx[k]];
  EXPECT_TRUE(lns_unit_a(u, a2, b2).sum == r.sum);
}

TEST(LnsUnitA, NarrowAccumulatorWrapsWithAStickyFlagAndBinsAgreeModulo) {
  const LnsLinearAcc u(kL8, 5, 24);  // far below the width formula
  const auto a = random_codes(kL8, 2000, 5, 40, 63), b = random_codes(kL8, 2000, 6, 40, 63);  // large products
  const LnsAccResult r = lns_unit_a(u, a, b);
  EXPECT_TRUE(r.overflow);
  EXPECT_TRUE(lns_unit_a_bins(u, a, b).sum == r.sum);  // bit-identical modulo 2^24
  const LnsLinearAcc wide(kL8, 5, lns_linear_acc_bits(kL8, 5, 2000));
  const __int128 full = lns_unit_a(wide, a, b).sum;
  const __int128 m = (__int128)1 << 24;
  EXPECT_TRUE(((full - r.sum) % m) == 0);
}

// γ = 1 (b = 0) is LUQ's radix-2 format: on every pair of a power-of-two INT4 activation
// (the INT4 values a radix-2 code holds: 0, ±1, ±2, ±4, -8) and a LUQ FP4 weight code,
// unit A's term is the LUQ shift unit's product, bit for bit.
TEST(LnsUnitA, RadixTwoIsTheLuqShiftUnit) {
  const LnsFormat f{5, 0};  // lns6_b0: e in -15..15
  const LnsLinearAcc u(f, 1, lns_linear_acc_bits(f, 1, 1));
  int checked = 0;
  for (int a = -8; a <= 7; ++a) {
    const bool pow2 = a != 0 && (std::abs(a) & (std::abs(a) - 1)) == 0;
    if (!pow2 && a != 0) continue;
    const uint32_t ca = a == 0 ? lns_zero(f) : lns_pack(f, a < 0, int32_t(std::log2(std::abs(a))));
    for (uint32_t w = 0; w < 16; ++w) {
      const int e = int(w & 7u);  // LUQ FP4: e = 0 is zero, else ±2^(e-1)
      const uint32_t cw = e == 0 ? lns_zero(f) : lns_pack(f, w & 8u, e - 1);
      const LnsAccResult r = lns_unit_a(u, {ca}, {cw});
      const int64_t luq = luq_mul_golden(uint32_t(a) & 15u, w);
      // The sum is in units of 2^(q_min - alpha).
      EXPECT_TRUE(r.sum == (__int128)luq << (u.alpha - u.q_min)) << a << " x " << w;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 8 * 16);
}

// B: the order given is part of the result (reproduced exactly), cancellation is exact,
// and for positive terms the log-domain error stays within half a unit of F_acc per
// addition (log2(2^x + 2^y) moves by at most the larger of the moves of x and y).
TEST(LnsUnitB, LogDomainSumErrorOrderAndCancellation) {
  for (int F : {3, 6, 10}) {
    const LnsLogAcc u(kL8, F, 24, false);
    const auto a = random_codes(kL8, 512, 11, -20, 20), b = random_codes(kL8, 512, 12, -20, 20);
    std::vector<uint32_t> ap = a, bp = b;
    for (auto& c : ap) c &= 0x7fu;  // positive operands
    for (auto& c : bp) c &= 0x7fu;
    for (size_t K : {2, 16, 512}) {
      std::vector<uint32_t> x(ap.begin(), ap.begin() + long(K)), y(bp.begin(), bp.begin() + long(K));
      double exact = 0;
      for (size_t k = 0; k < K; ++k) exact += lns_decode(kL8, x[k]) * lns_decode(kL8, y[k]);
      const LnsLogSum s = lns_unit_log(u, x, y);
      const LnsLogSum again = lns_unit_log(u, x, y);
      EXPECT_EQ(s.e, again.e);
      const double err = std::fabs(std::log2(lns_log_value(u, s)) - std::log2(exact));
      EXPECT_LE(err, double(K - 1) * std::ldexp(0.5, -F) + 1e-12) << "F " << F << " K " << K;
    }
    // x + (-x) = 0 exactly; then the sum restarts from the next term.
    const uint32_t one = lns_pack(kL8, false, 0), m = lns_pack(kL8, true, 12), p = lns_pack(kL8, false, 12);
    const LnsLogSum z = lns_unit_log(u, {p, m}, {one, one});
    EXPECT_TRUE(z.zero);
    EXPECT_EQ(lns_log_value(u, lns_unit_log(u, {p, m, p}, {one, one, one})), lns_decode(kL8, p));
  }
}

TEST(LnsUnitB, SaturatesAtTheTopAndFlushesToZeroBelow) {
  const LnsLogAcc u(kL8, 3, 12, false);  // sum logs in [-2047, 2047] / 8
  LnsLogSum s;
  s = lns_log_add(u, s, false, 2040);
  for (int i = 0; i < 8; ++i) s = lns_log_add(u, s, false, 2040);
  EXPECT_EQ(s.e, u.e_max());
  EXPECT_TRUE(s.saturated);
  // 2^(-2040/8) - 2^(-2046/8) is 2^(-2050.4/8): below the smallest magnitude 2^(-2047/8), so zero.
  LnsLogSum t = lns_log_add(u, lns_log_add(u, {}, false, -2040), true, -2046);
  EXPECT_TRUE(t.zero);
  // Higher up the same difference is kept: 2^(-2000/8)·(1 - 2^(-6/8)), db rounded to 1/8.
  t = lns_log_add(u, lns_log_add(u, {}, false, -2000), true, -2006);
  ASSERT_FALSE(t.zero);
  EXPECT_FALSE(t.negative);
  EXPECT_EQ(t.e, -2000 + std::lround(std::log2(1 - std::exp2(-6 / 8.0)) * 8));
  // And equal magnitudes of opposite signs cancel exactly.
  EXPECT_TRUE(lns_log_add(u, lns_log_add(u, {}, false, -2046), true, -2046).zero);
}

// Stagnation: adding 1.0 again and again stops changing the sum once log2(n) reaches the
// essential zero of sb (log2(1 + 1/n) rounds to 0 at F_acc bits): at n ≈ 2^(F + 1.53),
// i.e. 2^(F+1)/ln 2, whatever the number of terms after that.
TEST(LnsUnitB, RepeatedOnesStagnateWhereSbRoundsToZero) {
  for (int F : {2, 4, 6, 8}) {
    const LnsLogAcc u(LnsFormat{7, 0}, F, 24, false);
    const uint32_t one = lns_pack(u.fmt, false, 0);
    LnsLogSum s;
    int64_t last = INT64_MIN;
    uint64_t n = 0, stuck_at = 0;
    for (; n < (uint64_t{1} << (F + 4)); ++n) {
      s = lns_log_add(u, s, false, 0);
      if (s.e == last && !stuck_at) stuck_at = n;  // the (n+1)-th 1.0 changed nothing
      last = s.e;
    }
    ASSERT_GT(stuck_at, 0u) << F;
    const double value = lns_log_value(u, s);
    // Stuck where d = e_A reaches sb's table end (the essential zero)...
    EXPECT_GE(s.e, int64_t(u.sb.size()));
    // ...which is near 2^(F+1)/ln 2 in value, far below the 2^(F+4) ones added.
    EXPECT_NEAR(std::log2(value), F + 1 + std::log2(1 / std::log(2.0)), 0.2) << "F " << F << " n " << stuck_at;
    (void)one;
  }
}

// C (Mitchell): no table; reproducible in its fixed order; its error against FP64 stays
// within Mitchell's bound per addition (log2(1 + y) ≈ y and 2^f ≈ 1 + f each err by at
// most 0.0861 in log2).
TEST(LnsUnitC, MitchellWithoutTablesWithinItsBound) {
  const LnsLogAcc c(kL8, 6, 24, true);
  EXPECT_TRUE(c.sb.empty() && c.db.empty());
  const auto a = random_codes(kL8, 256, 21, -20, 20), b = random_codes(kL8, 256, 22, -20, 20);
  std::vector<uint32_t> ap = a, bp = b;
  for (auto& x : ap) x &= 0x7fu;
  for (auto& x : bp) x &= 0x7fu;
  for (size_t K : {2, 8, 64, 256}) {
    std::vector<uint32_t> x(ap.begin(), ap.begin() + long(K)), y(bp.begin(), bp.begin() + long(K));
    double exact = 0;
    for (size_t k = 0; k < K; ++k) exact += lns_decode(kL8, x[k]) * lns_decode(kL8, y[k]);
    const LnsLogSum s = lns_unit_log(c, x, y);
    EXPECT_EQ(s.e, lns_unit_log(c, x, y).e);
    const double err = std::fabs(std::log2(lns_log_value(c, s)) - std::log2(exact));
    EXPECT_LE(err, double(K - 1) * (2 * 0.0861 + std::ldexp(1.0, -6))) << K;
  }
  // Opposite signs: x - x/2 on Mitchell is within its bound of x/2; x - x is zero.
  const uint32_t one = lns_pack(kL8, false, 0);
  const LnsLogSum d = lns_unit_log(c, {lns_pack(kL8, false, 16), lns_pack(kL8, true, 8)}, {one, one});
  EXPECT_NEAR(std::log2(lns_log_value(c, d)), 1.0, 2 * 0.0861 + 0.02);
  EXPECT_TRUE(lns_unit_log(c, {lns_pack(kL8, false, 16), lns_pack(kL8, true, 16)}, {one, one}).zero);
}

}  // namespace
}  // namespace lpsim::arith
