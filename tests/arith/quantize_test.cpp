// The float32 buffer quantizer against the reference conversion round_pack (encode on
// the exact double value), and the determinism of stochastic rounding across threads
// and chunkings (issue: "(seed, element index) fixes the random bits").
#include <gtest/gtest.h>

#include <atomic>
#include <bit>
#include <cstring>
#include <cmath>
#include <vector>

#include "arith/error.h"
#include "arith/format.h"
#include "arith/philox.h"
#include "arith/quantize.h"

using namespace lpsim::arith;

namespace {

// Inputs that stress the kernel: every float16 value (all binades incl. subnormals, and
// the grid midpoints of narrower formats), random float32 bit patterns, specials.
std::vector<float> stress_inputs() {
  std::vector<float> x;
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const FloatFormat f16 = fp16();
    x.push_back(float(f16.decode(h)));
  }
  const RandomStream rng(3, 0);
  for (uint64_t i = 0; i < 200000; ++i) x.push_back(std::bit_cast<float>(rng.bits(i)));
  for (float v : {0.0f, -0.0f, 1e-45f, -1e-45f, 1e-38f, 3.4e38f, -3.4e38f, INFINITY, -INFINITY, NAN})
    x.push_back(v);
  return x;
}

std::vector<NumberFormat> kernel_formats() {
  std::vector<NumberFormat> fs;
  for (const auto& f : named_float_formats()) fs.push_back(f);
  for (const char* n : {"e3m2", "e2m3", "e5m10", "e8m0", "e1m2", "e6m4"}) fs.push_back(parse_format(n));
  FloatFormat nosub = fp8_e4m3();
  nosub.name = "e4m3_nosub";
  nosub.subnormals = false;
  fs.push_back(nosub);
  fs.push_back(IntFormat{8, true});
  fs.push_back(IntFormat{4, false});
  fs.push_back(IntFormat{32, true});
  return fs;
}

uint32_t reference_code(const NumberFormat& fmt, float y, RoundMode mode, Overflow ov, uint32_t r) {
  if (const auto* i = std::get_if<IntFormat>(&fmt)) return i->to_code(int_encode(*i, y, mode, ov, r).value);
  return encode(std::get<FloatFormat>(fmt), y, mode, ov, r).code;
}

TEST(Quantize, KernelEqualsReferenceConversion) {
  const std::vector<float> x = stress_inputs();
  std::vector<float> out(x.size());
  std::vector<uint32_t> codes(x.size());
  for (const NumberFormat& fmt : kernel_formats()) {
    for (RoundMode mode : {RoundMode::nearest_even, RoundMode::toward_zero, RoundMode::stochastic}) {
      for (Overflow ov : {Overflow::saturate, Overflow::to_special}) {
        for (float scale : {1.0f, 0.375f}) {
          QuantizeOptions opt;
          opt.rounding = mode;
          opt.overflow = ov;
          opt.seed = 5;
          opt.scale = scale;
          quantize(fmt, x, out, opt);
          quantize_codes(fmt, x, codes, opt);
          const RandomStream rng(5, 0);
          for (size_t i = 0; i < x.size(); ++i) {
            const float y = x[i] / scale;
            const uint32_t r = mode == RoundMode::stochastic ? rng.bits(i) : 0u;
            const uint32_t code = reference_code(fmt, y, mode, ov, r);
            ASSERT_EQ(codes[i], code) << format_name(fmt) << " x=" << x[i] << " mode=" << to_string(mode);
            const float expect = float(code_value(fmt, code)) * scale;
            if (std::isnan(expect))
              ASSERT_TRUE(std::isnan(out[i]));
            else
              ASSERT_EQ(std::bit_cast<uint32_t>(out[i]), std::bit_cast<uint32_t>(scale == 1.0f ? float(code_value(fmt, code)) : expect))
                  << format_name(fmt) << " x=" << x[i] << " mode=" << to_string(mode);
          }
        }
      }
    }
  }
}

// parallel_chunks: every element visited once, in the fixed chunks, on any thread count;
// an exception from a chunk (on any thread) reaches the caller instead of terminating.
TEST(ParallelChunks, CoversEveryChunkOnceAndRethrows) {
  for (int threads : {1, 2, 3}) {
    std::vector<std::atomic<int>> seen(1000);
    std::vector<std::atomic<int>> starts(1000);
    parallel_chunks(1000, 64, threads, [&](size_t b, size_t e) {
      ++starts[b];
      for (size_t i = b; i < e; ++i) ++seen[i];
    });
    for (size_t i = 0; i < seen.size(); ++i) {
      ASSERT_EQ(seen[i].load(), 1) << i;
      ASSERT_EQ(starts[i].load(), i % 64 == 0 ? 1 : 0) << i;
    }
    EXPECT_THROW(parallel_chunks(1000, 10, threads,
                                 [](size_t b, size_t) {
                                   if (b == 570) throw lpsim::InputError("chunk 57", {}, "test");
                                 }),
                 lpsim::InputError)
        << threads;
  }
}

TEST(Quantize, StochasticIsBitIdenticalAcrossThreadsAndChunkings) {
  std::vector<float> x(300007);
  const RandomStream rng(9, 0);
  for (size_t i = 0; i < x.size(); ++i) x[i] = float(rng.uniform(i) * 10 - 5);
  QuantizeOptions opt;
  opt.rounding = RoundMode::stochastic;
  opt.seed = 1234;
  std::vector<float> base(x.size()), other(x.size());
  quantize(fp8_e4m3(), x, base, opt);
  for (int threads : {1, 2, 3})
    for (size_t chunk : {size_t{1} << 16, size_t{4093}, size_t{7}}) {
      opt.threads = threads;
      opt.chunk = chunk;
      quantize(fp8_e4m3(), x, other, opt);
      ASSERT_EQ(0, std::memcmp(base.data(), other.data(), x.size() * sizeof(float))) << threads << " " << chunk;
    }
  // A caller chunking by hand passes the global index of its first element.
  opt.threads = 1;
  for (size_t split : {size_t{1}, size_t{2}, size_t{150001}}) {
    QuantizeOptions a = opt, b = opt;
    b.index_offset = split;
    quantize(fp8_e4m3(), std::span(x).first(split), std::span(other).first(split), a);
    quantize(fp8_e4m3(), std::span(x).subspan(split), std::span(other).subspan(split), b);
    ASSERT_EQ(0, std::memcmp(base.data(), other.data(), x.size() * sizeof(float))) << split;
  }
  // Block counters whose low word wraps (global index near 4·2^32) still match the
  // scalar RandomStream: the vector Philox carries into the high word.
  {
    QuantizeOptions far = opt;
    far.index_offset = (uint64_t{1} << 34) - 4000;
    std::vector<float> y(8000, 1.03f), q(y.size());
    quantize(fp8_e4m3(), y, q, far);
    const RandomStream rng(far.seed, far.stream);
    for (size_t i = 0; i < y.size(); ++i) {
      const uint32_t code = encode(fp8_e4m3(), 1.03f, RoundMode::stochastic, Overflow::saturate,
                                   rng.bits(far.index_offset + i)).code;
      ASSERT_EQ(q[i], float(fp8_e4m3().decode(code))) << i;
    }
  }
  // A different seed changes the draw.
  opt.seed = 1235;
  quantize(fp8_e4m3(), x, other, opt);
  EXPECT_NE(0, std::memcmp(base.data(), other.data(), x.size() * sizeof(float)));
}

TEST(Quantize, StochasticRoundingIsUnbiased) {
  // x = 1 + 0.3·2^-3 lies 30 % of the way from 1 to 1.125 in E4M3: E[Q] = x.
  const float x0 = 1.0f + 0.3f * 0.125f;
  const size_t n = 200000;
  std::vector<float> x(n, x0), q(n);
  QuantizeOptions opt;
  opt.rounding = RoundMode::stochastic;
  opt.seed = 77;
  quantize(fp8_e4m3(), x, q, opt);
  double mean = 0;
  for (float v : q) mean += v;
  mean /= n;
  const double p = 0.3, sd = 0.125 * std::sqrt(p * (1 - p) / n);
  EXPECT_NEAR(mean, x0, 4 * sd);
}

TEST(IntFormat, ExhaustiveRoundTripMidpointsAndOverflow) {
  for (int bits = 1; bits <= 16; ++bits) {
    for (bool is_signed : {true, false}) {
      const IntFormat f{bits, is_signed};
      for (int64_t v = f.min_value(); v <= f.max_value(); ++v) {
        ASSERT_EQ(int_encode(f, double(v), RoundMode::nearest_even, Overflow::saturate).value, v);
        ASSERT_EQ(f.from_code(f.to_code(v)), v);
        if (v < f.max_value()) {  // midpoint v + 1/2 goes to the even neighbour
          const int64_t even = (v % 2 == 0) ? v : v + 1;
          ASSERT_EQ(int_encode(f, v + 0.5, RoundMode::nearest_even, Overflow::saturate).value, even) << bits;
          ASSERT_EQ(int_encode(f, v + 0.5, RoundMode::toward_zero, Overflow::saturate).value, v >= 0 ? v : v + 1);
        }
      }
      ASSERT_EQ(int_encode(f, double(f.max_value()) + 1, RoundMode::nearest_even, Overflow::saturate).value, f.max_value());
      ASSERT_EQ(int_encode(f, double(f.min_value()) - 1, RoundMode::nearest_even, Overflow::saturate).value, f.min_value());
      // Wrap: max + 1 → min, min - 1 → max (two's complement modulo 2^bits).
      ASSERT_EQ(int_encode(f, double(f.max_value()) + 1, RoundMode::nearest_even, Overflow::wrap).value, f.min_value());
      ASSERT_EQ(int_encode(f, double(f.min_value()) - 1, RoundMode::nearest_even, Overflow::wrap).value, f.max_value());
    }
  }
  const IntFormat i32{32, true};
  EXPECT_EQ(int_encode(i32, 4294967296.0 + 5, RoundMode::nearest_even, Overflow::wrap).value, 5);
  EXPECT_EQ(int_encode(i32, 1e30, RoundMode::nearest_even, Overflow::wrap).value, i32.max_value());
  EXPECT_TRUE(int_encode(i32, NAN, RoundMode::nearest_even, Overflow::saturate).flags & kInvalid);
}

TEST(Philox, EveryVectorPathMatchesTheScalarGenerator) {
  const RandomStream rng(0xDEADBEEFCAFEull, 5);
  std::vector<uint32_t> got(1024);
  for (int isa : {0, 1, 2})
    for (uint64_t first : {uint64_t{0}, uint64_t{3}, (uint64_t{1} << 34) - 1001}) {
      detail::philox_words(rng, first, got.size(), got.data(), isa);
      for (size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], rng.bits(first + i)) << isa << " " << first << " " << i;
    }
}

TEST(Philox, KnownAnswerFromRandom123) {
  // Random123 kat_vectors: philox4x32-10, counter = key = 0 and counter = key = all ones.
  auto z = Philox4x32::block({0, 0, 0, 0}, 0, 0);
  EXPECT_EQ(z, (std::array<uint32_t, 4>{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}));
  auto f = Philox4x32::block({~0u, ~0u, ~0u, ~0u}, ~0u, ~0u);
  EXPECT_EQ(f, (std::array<uint32_t, 4>{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}));
}

}  // namespace

// LNS through the one quantiser (issue 17): parse_format names L(W_e, b); quantize_codes
// gives the golden model's codes (nearest in the log domain, by an independent search over
// every code here), toward zero the largest magnitude not above |x| and stochastic
// rounding unbiased in the linear domain; quantize() writes the codes' values.
TEST(QuantizeLns, NearestTowardZeroAndStochasticAgainstEveryCode) {
  const NumberFormat fmt = parse_format("lns6_b2");
  const LnsFormat& f = std::get<LnsFormat>(fmt);
  EXPECT_EQ(format_name(fmt), "lns6_b2");
  EXPECT_EQ(format_bits(fmt), 6);
  EXPECT_THROW(parse_format("lns6_b5"), lpsim::InputError);
  EXPECT_THROW(parse_format("lns"), lpsim::InputError);
  for (const char* bad : {"lns-2147483648_b0", "lns08_b3", "lns8_b", "lns8_b-1", "lns123_b1", "lns0_b0", "lns8_b3x"})
    EXPECT_THROW(parse_format(bad), lpsim::InputError) << bad;
  std::vector<float> x;
  const RandomStream rng(11, 0);
  for (uint64_t i = 0; i < 20000; ++i)
    x.push_back(float((rng.bits(i) & 1 ? -1 : 1) * std::exp2(rng.uniform(2 * i + 1) * 24 - 12)));
  x.push_back(0.0f), x.push_back(INFINITY), x.push_back(-INFINITY), x.push_back(NAN);
  std::vector<uint32_t> nearest(x.size()), down(x.size());
  QuantizeOptions opt;
  quantize_codes(fmt, x, nearest, opt);
  opt.rounding = RoundMode::toward_zero;
  quantize_codes(fmt, x, down, opt);
  const uint32_t codes = 1u << f.total_bits();
  for (size_t i = 0; i < x.size(); ++i) {
    if (std::isnan(x[i])) {
      EXPECT_TRUE(lns_unpack(f, nearest[i]).zero);
      continue;
    }
    // The reference: the code whose log2|value| is nearest to log2|x| (ties: the larger),
    // zero where |x| is below half a log step under the smallest magnitude; toward zero:
    // the largest magnitude <= |x|.
    const double ax = std::fabs(double(x[i]));
    double best = -1, best_d = INFINITY, floor_v = 0;
    for (uint32_t c = 0; c < codes; ++c) {
      const double v = std::fabs(lns_decode(f, c));
      if (v == 0) continue;
      const double d = std::fabs(std::log2(v) - std::log2(ax));
      if (d < best_d - 1e-12 || (std::fabs(d - best_d) <= 1e-12 && v > best)) best = v, best_d = d;
      if (v <= ax) floor_v = std::max(floor_v, v);
    }
    const double smallest = std::exp2(double(f.e_min()) / f.gamma());
    if (ax < smallest * std::exp2(-0.5 / f.gamma())) best = 0;
    if (std::isinf(ax)) best = floor_v;  // saturates at the largest magnitude
    EXPECT_EQ(std::fabs(lns_decode(f, nearest[i])), best) << x[i];
    EXPECT_EQ(std::fabs(lns_decode(f, down[i])), std::isinf(ax) ? std::fabs(lns_decode(f, nearest[i])) : floor_v) << x[i];
    if (best != 0) {
      EXPECT_EQ(lns_decode(f, nearest[i]) < 0, x[i] < 0) << x[i];
    }
  }
  // quantize(): the same codes' values, times the scale.
  std::vector<float> y(x.size());
  QuantizeOptions s;
  s.scale = 0.25f;
  std::vector<float> xs(x.size());
  for (size_t i = 0; i < x.size(); ++i) xs[i] = x[i] * 0.25f;
  quantize(fmt, xs, y, s);
  for (size_t i = 0; i + 1 < x.size(); ++i) EXPECT_EQ(y[i], float(lns_decode(f, nearest[i])) * 0.25f) << x[i];
  EXPECT_EQ(y.back(), 0.0f);  // NaN
  opt.overflow = Overflow::wrap;
  EXPECT_THROW(quantize(fmt, x, y, opt), lpsim::InputError);
}

TEST(QuantizeLns, StochasticIsUnbiasedAndThreadIndependent) {
  const NumberFormat fmt = parse_format("lns8_b3");
  const LnsFormat& f = std::get<LnsFormat>(fmt);
  for (const float v : {0.3f, -5.7f, 1e-4f}) {  // between two codes; below the smallest magnitude
    std::vector<float> x(200000, v), y(x.size()), y2(x.size());
    QuantizeOptions opt;
    opt.rounding = RoundMode::stochastic;
    opt.seed = 4;
    quantize(fmt, x, y, opt);
    opt.threads = 3, opt.chunk = 1000;
    quantize(fmt, x, y2, opt);
    EXPECT_EQ(y, y2);
    double sum = 0;
    for (float q : y) sum += q;
    const double mean = sum / double(y.size());
    const double smallest = std::exp2(double(f.e_min()) / f.gamma());
    const double hi = std::max<double>(smallest, std::exp2(std::ceil(std::log2(std::fabs(v)) * f.gamma()) / f.gamma()));
    // Two outcomes at most hi apart: the standard error of the mean is below hi/(2·sqrt(n)).
    EXPECT_NEAR(mean, v, 5 * hi / (2 * std::sqrt(double(y.size())))) << v;
  }
}
