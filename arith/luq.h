// LUQ: logarithmic unbiased quantization of neural gradients (papers.md §2, Chmiel et al.,
// ICLR 2023). Stochastic underflow below α and stochastic rounding between neighbouring
// powers of two are both plain stochastic rounding onto the grid {0, α·2^k}, so LUQ is
// the buffer quantizer with the radix-2 FP4 format (arith/float_format.h) and scale α.
//
// Level count: the 4-bit code holds zero plus 7 magnitudes per sign, α = max|g|/2^6
// (default, levels = 7). The reference code keeps 8 magnitudes, α = max|g|/2^7, which
// needs a 5-bit code (levels = 8). α uses max|g|, not the signed max of the reference.
#pragma once

#include <cstdint>
#include <span>

namespace lpsim::arith {

struct LuqOptions {
  int levels = 7;             // 7 (fits 4 bits) or 8 (reference code)
  uint64_t seed = 0;
  uint32_t stream = 0;
  uint64_t index_offset = 0;  // global index of element 0 (for chunked calls)
  int threads = 1;
};

struct LuqResult {
  float max_abs = 0;  // max|g| over the buffer
  float alpha = 0;    // smallest non-zero magnitude; levels are α·2^k, k = 0..levels-1
};

// α for a given max|g|: max|g| / 2^(levels-1), exact (a power-of-two division).
float luq_alpha(float max_abs, int levels);

// Quantizes g into out (may alias). Every output is 0 or ±α·2^k, and E[out] = g.
LuqResult luq_quantize(std::span<const float> g, std::span<float> out, const LuqOptions& opt = {});

}  // namespace lpsim::arith
