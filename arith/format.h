// A number format is data: an integer, an ExMy floating format or a logarithmic format
// L(W_e, b) (arith/lns.h). This is what the CLI, the scenario files and the executors name
// ("int8", "fp8_e4m3", "e3m2", "lns8_b3", ...).
#pragma once

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "arith/float_format.h"
#include "arith/int_format.h"
#include "arith/lns.h"

namespace lpsim::arith {

using NumberFormat = std::variant<IntFormat, FloatFormat, LnsFormat>;

// int<b>, uint<b> (b = 1..32), fp8_e4m3, fp8_e5m2, fp4_e2m1, fp16, bf16, luq4, luq5,
// eXmY (E = 1..8, M = 0..10), lns<N>_b<b> (N = 3..21 bits, b = 0..N-2). InputError names
// the text and what is wrong.
NumberFormat parse_format(std::string_view name);
std::string format_name(const NumberFormat& fmt);
int format_bits(const NumberFormat& fmt);
// Value of a code of fmt (two's complement for integers), before any scale (LNS: 2^(e/γ)
// in double, rounded).
double code_value(const NumberFormat& fmt, uint32_t code);

// The named floating formats, for `lpsim formats`.
std::vector<FloatFormat> named_float_formats();

}  // namespace lpsim::arith
