// Buffer quantizers over float32 spans: the only quantization code in lpsim. The
// golden models, the LibTorch executor and the SystemC model all call these.
// out[i] = Q(in[i] / scale) · scale, Q rounding onto the grid of the format.
// Stochastic rounding draws 32 bits for global element index (index_offset + i) from
// RandomStream(seed, stream): results do not depend on threads or chunking.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "arith/format.h"
#include "arith/philox.h"
#include "arith/rounding.h"

namespace lpsim::arith {

struct QuantizeOptions {
  RoundMode rounding = RoundMode::nearest_even;
  Overflow overflow = Overflow::saturate;
  float scale = 1.0f;         // real value of one unit of the format
  uint64_t seed = 0;          // stochastic rounding only
  uint32_t stream = 0;        // separates independent draws under one seed
  uint64_t index_offset = 0;  // global index of element 0 of the span
  int threads = 1;            // worker threads (results are identical for any count)
  size_t chunk = size_t{1} << 16;  // elements per work item
};

// Fake quantization: the quantized value as float32 (exact: every value of a format
// with <= 8 exponent bits that is a float32 is representable).
void quantize(const NumberFormat& fmt, std::span<const float> in, std::span<float> out,
              const QuantizeOptions& opt = {});

// The same rounding, writing bit codes (two's complement for integers).
void quantize_codes(const NumberFormat& fmt, std::span<const float> in, std::span<uint32_t> codes,
                    const QuantizeOptions& opt = {});

// LNS (arith/lns.h): quantize() and quantize_codes() take L(W_e, b) too, element by
// element on the golden model's functions. quantize() writes 2^(e/γ)·scale rounded to
// float32 (not exact for b > 0; distinct codes stay distinct). The format has neither NaN
// nor infinity: a NaN input becomes zero (as for integer formats), ±inf and overflow the
// largest magnitude (saturate and to_special alike); wrap is refused.
// lns_encode: one value's code — nearest in the log domain (RoundMode::nearest_even),
// stochastic unbiased in the linear domain with u = r / 2^32, toward zero the largest
// magnitude not above |y| (the stochastic rule with u = 1: never up). NaN: InputError.
uint32_t lns_encode(const LnsFormat& f, double y, RoundMode mode, uint32_t r);

// Runs body(begin, end) over [0, n) in chunks on `threads` threads (OpenMP where the
// compiler has it: LibTorch's pool); chunk boundaries depend only on n and chunk, never on
// the thread count. An exception thrown by body is rethrown here (the first one; chunks
// not yet started are skipped).
void parallel_chunks(size_t n, size_t chunk, int threads, const std::function<void(size_t, size_t)>& body);

// f(begin, end) for every fixed block of [0, n) (parallel_chunks), the results in block
// order: a reduction over them in that order gives the same bits for any thread count.
template <typename F>
auto per_block(size_t n, size_t block, int threads, F&& f) {
  std::vector<decltype(f(size_t{}, size_t{}))> out((n + block - 1) / block);
  parallel_chunks(n, block, threads, [&](size_t b, size_t e) { out[b / block] = f(b, e); });
  return out;
}

namespace detail {
// Test hook: the vectorised Philox behind stochastic rounding, forced to a code path
// (0 portable, 1 AVX2, 2 AVX-512; a path the CPU lacks falls back to the next lower).
void philox_words(const RandomStream& rng, uint64_t first, size_t n, uint32_t* out, int isa);
}  // namespace detail

// The words RandomStream::bits(first … first + n − 1) of rng into out, n ≤ kRandomBlock,
// vectorised (AVX-512 / AVX2 Philox, as the stochastic quantisers draw them).
inline constexpr size_t kRandomBlock = 4096;
void random_words(const RandomStream& rng, uint64_t first, size_t n, uint32_t* out);

}  // namespace lpsim::arith
