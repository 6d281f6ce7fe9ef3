#include "arith/luq.h"

#include <bit>
#include <cmath>

#include "arith/error.h"
#include "arith/quantize.h"

namespace lpsim::arith {

float luq_alpha(float max_abs, int levels) {
  if (levels != 7 && levels != 8) throw InputError("LUQ levels must be 7 or 8, got " + std::to_string(levels), {}, "levels");
  return std::ldexp(max_abs, -(levels - 1));
}

LuqResult luq_quantize(std::span<const float> g, std::span<float> out, const LuqOptions& opt) {
  LPSIM_CHECK(g.size() == out.size());
  // max|g| on the raw bits: for non-negative floats the integer order is the value
  // order, and an integer max reduction vectorises. NaN (bits above inf) is skipped.
  uint32_t max_bits = 0;
  for (float v : g) {
    const uint32_t a = std::bit_cast<uint32_t>(v) & 0x7FFFFFFFu;
    max_bits = (a > max_bits && a <= 0x7F800000u) ? a : max_bits;
  }
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
