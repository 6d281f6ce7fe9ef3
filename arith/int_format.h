// Integer formats int<b> / uint<b>, b = 1..32, and the conversion of a real value
// (already divided by its scale) into them: rounding, then saturation or wrap-around.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>

#include "arith/rounding.h"

namespace lpsim::arith {

struct IntFormat {
  int bits = 8;
  bool is_signed = true;

  int64_t min_value() const { return is_signed ? -(int64_t{1} << (bits - 1)) : 0; }
  int64_t max_value() const { return is_signed ? (int64_t{1} << (bits - 1)) - 1 : (int64_t{1} << bits) - 1; }
  uint32_t code_mask() const { return bits == 32 ? 0xFFFFFFFFu : (1u << bits) - 1u; }
  std::string name() const { return (is_signed ? "int" : "uint") + std::to_string(bits); }
  // Two's complement code of an in-range value, and back.
  uint32_t to_code(int64_t v) const { return uint32_t(uint64_t(v)) & code_mask(); }
  int64_t from_code(uint32_t code) const {
    const uint64_t c = code & code_mask();
    if (is_signed && (c >> (bits - 1)) != 0) return int64_t(c) - (int64_t{1} << bits);
    return int64_t(c);
  }
  void validate() const;  // InputError unless 1 <= bits <= 32
};

struct IntEncoded {
  int64_t value = 0;
  uint8_t flags = 0;
};

// Rounds x to an integer (stochastic: up iff random_bits < frac·2^32) and fits it into
// fmt: Overflow::saturate clamps, Overflow::wrap reduces modulo 2^bits (values beyond
// ±2^62 saturate: there is no exact integer to wrap), to_special behaves as saturate.
// NaN gives 0 with kInvalid.
// Inline: it is the inner loop of the integer buffer quantizer.
inline IntEncoded int_encode(const IntFormat& fmt, double x, RoundMode mode, Overflow overflow,
                             uint32_t random_bits = 0);

// Reduce an exact integer into fmt by the overflow policy (the accumulator semantics).
inline int64_t int_fit(const IntFormat& fmt, int64_t v, Overflow overflow, uint8_t* flags = nullptr) {
  if (v >= fmt.min_value() && v <= fmt.max_value()) return v;
  if (flags) *flags |= kOverflow;
  // Two's complement wrap keeps the low `bits` bits and reinterprets them.
  if (overflow == Overflow::wrap) return fmt.from_code(uint32_t(uint64_t(v)));
  return v < fmt.min_value() ? fmt.min_value() : fmt.max_value();
}

inline IntEncoded int_encode(const IntFormat& fmt, double x, RoundMode mode, Overflow overflow,
                             uint32_t random_bits) {
  if (std::isnan(x)) return {0, kInvalid};
  double r = x;
  switch (mode) {
    case RoundMode::nearest_even: r = std::nearbyint(x); break;  // default FP env: ties to even
    case RoundMode::toward_zero: r = std::trunc(x); break;
    case RoundMode::stochastic: {
      const double lo = std::floor(x);
      // x - lo is exact for |x| < 2^52 (beyond that x is an integer and frac is 0).
      r = lo + (double(random_bits) < std::ldexp(x - lo, 32) ? 1.0 : 0.0);
      break;
    }
  }
  uint8_t flags = r != x ? kInexact : 0;
  if (!(std::fabs(r) < 0x1p62)) {  // no exact int64 to wrap: saturate
    flags |= kOverflow;
    return {r < 0 ? fmt.min_value() : fmt.max_value(), flags};
  }
  const int64_t v = int_fit(fmt, int64_t(r), overflow, &flags);
  return {v, flags};
}

}  // namespace lpsim::arith
