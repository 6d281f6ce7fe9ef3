// Uniform integer quantization with a clipping range, per tensor or per channel — the
// baseline of PANN/ACIQ experiments (papers.md §4 "Integer grid actually used").
// Symmetric: grid scale·{-(2^(b-1)-1) .. 2^(b-1)-1}, scale = α/(2^(b-1)-1).
// Asymmetric: 2^b levels over [lo, hi] with an integer zero point (GEMMLOWP style).
// Values are clipped first, then rounded by the arith integer conversion.
#pragma once

#include <cstdint>
#include <span>

#include "arith/rounding.h"

namespace lpsim::arith {

struct UniformSpec {
  int bits = 8;
  bool symmetric = true;
  RoundMode rounding = RoundMode::nearest_even;
  uint64_t seed = 0;
  uint32_t stream = 0;
};

struct UniformGrid {
  float scale = 1;
  int64_t zero_point = 0;
  int64_t q_min = 0, q_max = 0;  // integer codes (before the zero point is removed)
};

// Symmetric grid for clip α (lo = -α, hi = α) or asymmetric grid for [lo, hi].
UniformGrid uniform_grid(const UniformSpec& spec, float lo, float hi);

// Per tensor. For symmetric specs lo is ignored and hi is α.
void uniform_quantize(const UniformSpec& spec, float lo, float hi, std::span<const float> in, std::span<float> out);

// Per channel: in is [channels][inner] row-major; lo/hi hold one value per channel.
void uniform_quantize_per_channel(const UniformSpec& spec, std::span<const float> lo, std::span<const float> hi,
                                  std::span<const float> in, std::span<float> out);

}  // namespace lpsim::arith
