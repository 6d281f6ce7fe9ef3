// What a number format means as a layer's operand format: its range for exactness
// bounds, the value a symmetric scale maps max|x| onto, whether it is quantised with a
// zero point, and whether lpsim can execute it at all. Torch-free: the scenario parser
// rejects unusable formats with these before anything runs.
#pragma once

#include <string>

#include "arith/format.h"

namespace lpsim::nn {

// Largest value of a format.
double format_max(const arith::NumberFormat& f);
// Largest magnitude a grid value can have (int8: 128; uint8: 255), for exactness bounds.
double format_max_magnitude(const arith::NumberFormat& f);
// The value max|x| is mapped onto by a symmetric scale: the format's largest value,
// capped at 2^16 for wide floating formats (bf16, e8mY), so products and sums of K
// products stay far inside FP32 while the format keeps its full relative precision.
double scale_target(const arith::NumberFormat& f);
// Unsigned integer formats are quantised asymmetrically, with an integer zero point.
bool is_asymmetric(const arith::NumberFormat& f);
// Why a format cannot serve as a layer's operand format ("" if it can).
std::string operand_format_problem(const arith::NumberFormat& f);
// Widest integer operand: grid values live in float32 tensors, exact up to 2^24.
inline constexpr int kMaxIntOperandBits = 24;

}  // namespace lpsim::nn
