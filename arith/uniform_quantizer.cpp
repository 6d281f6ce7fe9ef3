#include "arith/uniform_quantizer.h"

#include <algorithm>
#include <cmath>

#include "arith/error.h"
#include "arith/int_format.h"
#include "arith/philox.h"

namespace lpsim::arith {

UniformGrid uniform_grid(const UniformSpec& spec, float lo, float hi) {
  const int min_bits = spec.symmetric ? 2 : 1;
  if (spec.bits < min_bits || spec.bits > 24)
    throw InputError("uniform quantizer bits must be in [" + std::to_string(min_bits) + ", 24], got " +
                         std::to_string(spec.bits), {}, "bits");
  UniformGrid g;
  if (spec.symmetric) {
    if (!(hi > 0) || !std::isfinite(hi)) throw InputError("clip value must be positive and finite", {}, "alpha");
    g.q_max = (int64_t{1} << (spec.bits - 1)) - 1;
    g.q_min = -g.q_max;
    g.scale = hi / float(g.q_max);
    return g;
  }
  if (!(hi > lo) || !std::isfinite(lo) || !std::isfinite(hi))
    throw InputError("asymmetric range needs finite lo < hi", {}, "range");
  g.q_min = 0;
  g.q_max = (int64_t{1} << spec.bits) - 1;
  g.scale = (hi - lo) / float(g.q_max);
  // The zero point is an integer so that 0.0 is exactly representable (zero padding).
  g.zero_point = std::clamp<int64_t>(int64_t(std::nearbyint(-lo / g.scale)), g.q_min, g.q_max);
  return g;
}

namespace {

void quantize_range(const UniformSpec& spec, const UniformGrid& g, float lo, float hi, std::span<const float> in,
                    std::span<float> out, uint64_t index_offset) {
  const RandomStream rng(spec.seed, spec.stream);
  const IntFormat wide{32, true};
  const bool stochastic = spec.rounding == RoundMode::stochastic;
  for (size_t i = 0; i < in.size(); ++i) {
    const float x = std::clamp(in[i], lo, hi);
    const uint32_t r = stochastic ? rng.bits(index_offset + i) : 0u;
    const int64_t q = int_encode(wide, x / g.scale, spec.rounding, Overflow::saturate, r).value + g.zero_point;
    out[i] = float(std::clamp(q, g.q_min, g.q_max) - g.zero_point) * g.scale;
  }
}

}  // namespace

void uniform_quantize(const UniformSpec& spec, float lo, float hi, std::span<const float> in, std::span<float> out) {
  LPSIM_CHECK(in.size() == out.size());
  if (spec.symmetric) lo = -hi;
  const UniformGrid g = uniform_grid(spec, lo, hi);
  quantize_range(spec, g, lo, hi, in, out, 0);
}

void uniform_quantize_per_channel(const UniformSpec& spec, std::span<const float> lo, std::span<const float> hi,
                                  std::span<const float> in, std::span<float> out) {
  LPSIM_CHECK(in.size() == out.size());
  const size_t channels = hi.size();
  if (channels == 0 || in.size() % channels != 0)
    throw InputError("tensor of " + std::to_string(in.size()) + " elements does not split into " +
                     std::to_string(channels) + " channels", {}, "channels");
  if (!spec.symmetric && lo.size() != channels) throw InputError("need one lo per channel", {}, "range");
  const size_t inner = in.size() / channels;
  for (size_t c = 0; c < channels; ++c) {
    const float l = spec.symmetric ? -hi[c] : lo[c];
    const UniformGrid g = uniform_grid(spec, l, hi[c]);
    quantize_range(spec, g, l, hi[c], in.subspan(c * inner, inner), out.subspan(c * inner, inner), c * inner);
  }
}

}  // namespace lpsim::arith
