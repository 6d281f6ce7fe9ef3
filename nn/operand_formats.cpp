#include "nn/operand_formats.h"

#include <cmath>

namespace lpsim::nn {

double format_max(const arith::NumberFormat& f) {
  if (const auto* i = std::get_if<arith::IntFormat>(&f)) return double(i->max_value());
  if (const auto* l = std::get_if<arith::LnsFormat>(&f)) return std::exp2(double(l->e_max()) / l->gamma());
  return std::get<arith::FloatFormat>(f).max_value();
}

double format_max_magnitude(const arith::NumberFormat& f) {
  if (const auto* i = std::get_if<arith::IntFormat>(&f))
    return i->is_signed ? std::ldexp(1.0, i->bits - 1) : std::ldexp(1.0, i->bits) - 1;
  return format_max(f);
}

double scale_target(const arith::NumberFormat& f) {
  if (std::holds_alternative<arith::IntFormat>(f)) return format_max(f);
  return std::min(format_max(f), 65536.0);
}

bool is_asymmetric(const arith::NumberFormat& f) {
  const auto* i = std::get_if<arith::IntFormat>(&f);
  return i && !i->is_signed;
}

std::string operand_format_problem(const arith::NumberFormat& f) {
  if (const auto* i = std::get_if<arith::IntFormat>(&f)) {
    if (i->is_signed && i->bits < 2) return "int1 has no positive level (use uint1 or int2 and wider)";
    if (i->bits > kMaxIntOperandBits)
      return i->name() + ": integer operands wider than " + std::to_string(kMaxIntOperandBits) +
             " bits are not exact in lpsim's float32 tensors (use int" + std::to_string(kMaxIntOperandBits) +
             " or narrower, or fp32)";
    return "";
  }
  const double m = format_max(f);
  if (!std::isfinite(m) || m <= 0) return arith::format_name(f) + " has no positive finite value";
  return "";
}

}  // namespace lpsim::nn
