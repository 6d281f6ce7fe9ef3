// Rounding and overflow policies shared by every conversion in lpsim (the single
// round_pack of float_format.h, the integer conversion of int_format.h and the buffer
// quantizers of quantize.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace lpsim::arith {

enum class RoundMode : uint8_t {
  nearest_even,  // IEEE roundTiesToEven; a tie goes to the neighbour whose code is even
  toward_zero,   // truncation
  stochastic,    // up with probability (x - lo) / (hi - lo), from 32 seeded random bits
};

enum class Overflow : uint8_t {
  saturate,    // clamp to the largest finite magnitude (OCP "saturating" conversion)
  to_special,  // inf where the format has one, else NaN where it has one, else saturate
  wrap,        // integers only: modulo 2^bits (two's complement wrap-around)
};

// Exception flags of one conversion, IEEE-style, returned rather than kept in global state.
enum Flag : uint8_t { kInexact = 1, kOverflow = 2, kUnderflow = 4, kInvalid = 8 };

RoundMode parse_round_mode(std::string_view name);  // rne|rtz|stochastic; InputError otherwise
Overflow parse_overflow(std::string_view name);     // saturate|inf|wrap
std::string to_string(RoundMode mode);
std::string to_string(Overflow overflow);

}  // namespace lpsim::arith
