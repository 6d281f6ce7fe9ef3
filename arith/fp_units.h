// Golden models of the floating-point RTL units: the exact FP8 multiplier (OCP E4M3 /
// E5M2 product, exact in a wider IEEE-style format, so no rounding happens at all).
// Built on FloatFormat::decode and encode (exact doubles), independent of the RTL's
// integer datapath.
#pragma once

#include <cmath>
#include <cstdint>

#include "arith/float_format.h"

namespace lpsim::arith {

// The format that holds every product of two `in` values exactly: 2 more exponent bits
// and 2M+1 mantissa bits (E4M3 → e6m7, E5M2 → e7m5), IEEE-style, bias 2^(E+1)-1.
inline FloatFormat exact_product_format(const FloatFormat& in) { return make_exmy(in.exp_bits + 2, 2 * in.man_bits + 1); }

// a·b as a code of exact_product_format(in). NaN in, or inf·0, gives the canonical
// positive NaN; inf·x gives a signed inf; the sign of zero is the XOR of the signs.
inline uint32_t fp_mul_exact_golden(const FloatFormat& in, uint32_t a, uint32_t b) {
  const FloatFormat out = exact_product_format(in);
  const double x = in.decode(a), y = in.decode(b);
  const bool inf_times_zero = (std::isinf(x) && y == 0) || (std::isinf(y) && x == 0);
  if (std::isnan(x) || std::isnan(y) || inf_times_zero) return out.nan_magnitude();
  const bool negative = ((a ^ b) & in.sign_bit()) != 0;
  const double p = std::fabs(x * y);  // exact: at most 2(M+1) significant bits
  const Encoded e = encode(out, p, RoundMode::nearest_even, Overflow::to_special);
  return (negative ? out.sign_bit() : 0u) | e.code;
}

}  // namespace lpsim::arith
