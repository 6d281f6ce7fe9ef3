// A number format is data: either an integer or an ExMy floating format. This is what
// the CLI, the scenario files and the executors name ("int8", "fp8_e4m3", "e3m2", ...).
#pragma once

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "arith/float_format.h"
#include "arith/int_format.h"

namespace lpsim::arith {

using NumberFormat = std::variant<IntFormat, FloatFormat>;

// int<b>, uint<b> (b = 1..32), fp8_e4m3, fp8_e5m2, fp4_e2m1, fp16, bf16, luq4, luq5,
// eXmY (E = 1..8, M = 0..10). InputError names the text and what is wrong.
NumberFormat parse_format(std::string_view name);
std::string format_name(const NumberFormat& fmt);
int format_bits(const NumberFormat& fmt);
// Value of a code of fmt (two's complement for integers), before any scale.
double code_value(const NumberFormat& fmt, uint32_t code);

// The named floating formats, for `lpsim formats`.
std::vector<FloatFormat> named_float_formats();

}  // namespace lpsim::arith
