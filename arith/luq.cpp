#include "arith/luq.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <vector>

#include "arith/error.h"
#include "arith/quantize.h"

namespace lpsim::arith {

float luq_alpha(float max_abs, int levels) {
  if (levels != 7 && levels != 8) throw InputError("LUQ levels must be 7 or 8, got " + std::to_string(levels), {}, "levels");
  return std::ldexp(max_abs, -(levels - 1));
}

namespace {

// The largest |x| of a block as bits (NaN, whose bits exceed inf's, skipped): a max of
// signed integers (the sign bit cleared), which vectorises.
__attribute__((target_clones("avx2", "default"))) uint32_t max_abs_bits(const float* x, size_t n) {
  int32_t m = 0;
  for (size_t i = 0; i < n; ++i) {
    const int32_t a = std::bit_cast<int32_t>(x[i]) & 0x7FFFFFFF;
    m = std::max(m, a <= 0x7F800000 ? a : 0);
  }
  return uint32_t(m);
}

}  // namespace

LuqResult luq_quantize(std::span<const float> g, std::span<float> out, const LuqOptions& opt) {
  LPSIM_CHECK(g.size() == out.size());
  // max|g| on the raw bits: for non-negative floats the integer order is the value
  // order, and an integer max reduction vectorises. NaN (bits above inf) is skipped.
  // Fixed blocks, each on one thread: a max is the same in any order.
  constexpr size_t kBlock = 1 << 16;
  uint32_t max_bits = 0;
  for (uint32_t m : per_block(g.size(), kBlock, opt.threads, [&](size_t b, size_t e) { return max_abs_bits(g.data() + b, e - b); }))
    max_bits = std::max(max_bits, m);
  const float max_abs = std::bit_cast<float>(max_bits);
  const float alpha = luq_alpha(max_abs, opt.levels);
  if (!(alpha > 0) || !std::isfinite(alpha)) {
    for (size_t i = 0; i < g.size(); ++i) out[i] = 0.0f;
    return {max_abs, alpha};
  }
  QuantizeOptions q;
  q.rounding = RoundMode::stochastic;
  q.overflow = Overflow::saturate;  // max|g| = α·2^(levels-1) is a grid point: never hit
  q.scale = alpha;
  q.seed = opt.seed;
  q.stream = opt.stream;
  q.index_offset = opt.index_offset;
  q.threads = opt.threads;
  quantize(opt.levels == 7 ? NumberFormat{luq_fp4()} : NumberFormat{luq_fp5_8levels()}, g, out, q);
  return {max_abs, alpha};
}

}  // namespace lpsim::arith
