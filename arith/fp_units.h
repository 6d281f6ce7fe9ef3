// Golden models of the floating-point RTL units: the exact FP8 multiplier (OCP E4M3 /
// E5M2 product, exact in a wider IEEE-style format, so no rounding happens at all), the
// round-to-nearest-even FP multiplier and adder, and the MACs built from them (FP8 with
// an FP32 accumulator; one-format FP MACs such as FP32).
// Built on FloatFormat::decode and encode (exact doubles), independent of the RTL's
// integer datapath.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <utility>

#include "arith/error.h"
#include "arith/float_format.h"

namespace lpsim::arith {

// The format that holds every product of two `in` values exactly: 2 more exponent bits
// and 2M+1 mantissa bits (E4M3 → e6m7, E5M2 → e7m5), IEEE-style, bias 2^(E+1)-1.
// FP16 operands give e7m21, wider than make_exmy's user limit of 10 mantissa bits but
// still exact in a double and a 29-bit code, so it is built directly (rtl/fp8_mac at FP16).
inline FloatFormat exact_product_format(const FloatFormat& in) {
  const int e = in.exp_bits + 2, m = 2 * in.man_bits + 1;
  if (m <= 10) return make_exmy(e, m);
  FloatFormat f{"e" + std::to_string(e) + "m" + std::to_string(m), e, m, (1 << (e - 1)) - 1, true, Specials::ieee};
  LPSIM_CHECK(e <= 8 && m <= 23);
  return f;
}

// a·b rounded (to nearest even) into `out`. NaN in, or inf·0, gives the canonical
// positive NaN; inf·x gives a signed inf; the sign of zero is the XOR of the signs.
// The double product is exact for operands of up to 26 significand bits.
inline uint32_t fp_mul_golden(const FloatFormat& in, const FloatFormat& out, uint32_t a, uint32_t b) {
  const double x = in.decode(a), y = in.decode(b);
  const bool inf_times_zero = (std::isinf(x) && y == 0) || (std::isinf(y) && x == 0);
  if (std::isnan(x) || std::isnan(y) || inf_times_zero) return out.nan_magnitude();
  const bool negative = ((a ^ b) & in.sign_bit()) != 0;
  const double p = std::fabs(x * y);
  const Encoded e = encode(out, p, RoundMode::nearest_even, Overflow::to_special);
  return (negative ? out.sign_bit() : 0u) | e.code;
}

// a·b as a code of exact_product_format(in): no rounding happens.
inline uint32_t fp_mul_exact_golden(const FloatFormat& in, uint32_t a, uint32_t b) {
  return fp_mul_golden(in, exact_product_format(in), a, b);
}

// a·b rounded to nearest even in the operand format (rtl/fp_mul_rne).
inline uint32_t fp_mul_rne_golden(const FloatFormat& f, uint32_t a, uint32_t b) { return fp_mul_golden(f, f, a, b); }

// a + b rounded to nearest even in `fmt` (IEEE-style specials), with subnormals. The
// significands are aligned with 3 extra bits and the bits shifted out of the smaller one
// jammed into its LSB (SoftFloat's shiftRightJam), which keeps enough information for
// correct rounding of sums and differences; round_pack does the rounding.
inline uint32_t fp_add_golden(const FloatFormat& fmt, uint32_t a, uint32_t b) {
  const uint32_t sign_bit = fmt.sign_bit();
  if (fmt.is_nan(a) || fmt.is_nan(b)) return fmt.nan_magnitude();
  if (fmt.is_inf(a) && fmt.is_inf(b) && ((a ^ b) & sign_bit)) return fmt.nan_magnitude();
  if (fmt.is_inf(a)) return a;
  if (fmt.is_inf(b)) return b;
  const int M = fmt.man_bits;
  struct Unpacked {
    bool negative;
    int exp;  // exponent of the significand's LSB
    uint64_t sig;
  };
  auto unpack = [&](uint32_t c) {
    const uint32_t e = (c & fmt.magnitude_mask()) >> M, m = c & ((1u << M) - 1);
    return Unpacked{(c & sign_bit) != 0, (e ? int(e) : 1) - fmt.bias - M, (e ? uint64_t{1} << M : 0) | m};
  };
  Unpacked x = unpack(a), y = unpack(b);
  if (x.sig == 0 && y.sig == 0) return (x.negative && y.negative) ? sign_bit : 0u;  // +0 unless both -0
  // x gets the larger magnitude.
  if ((a & fmt.magnitude_mask()) < (b & fmt.magnitude_mask())) std::swap(x, y);
  const int d = x.exp - y.exp;
  const uint64_t sx = x.sig << 3;
  uint64_t sy = y.sig << 3;
  if (d >= 64) {
    sy = sy != 0;
  } else if (d > 0) {
    const bool lost = (sy & ((uint64_t{1} << d) - 1)) != 0;
    sy = (sy >> d) | (lost ? 1 : 0);
  }
  const uint64_t r = x.negative == y.negative ? sx + sy : sx - sy;
  if (r == 0) return 0u;  // exact cancellation: +0 under round-to-nearest
  return round_pack(fmt, x.negative, x.exp - 3, r, false, RoundMode::nearest_even, Overflow::to_special).code;
}

// One step of the FP8 MAC: acc (FP32 code) + a·b, the exact FP8 product widened to FP32
// without rounding, one RNE rounding in the addition.
inline uint32_t fp8_mac_golden(const FloatFormat& in, uint32_t acc, uint32_t a, uint32_t b) {
  const FloatFormat f32 = fp32();
  const uint32_t p = fp_mul_exact_golden(in, a, b);
  const double v = exact_product_format(in).decode(p);
  const uint32_t p32 = std::isnan(v) ? f32.nan_magnitude() : encode(f32, v, RoundMode::nearest_even, Overflow::to_special).code;
  return fp_add_golden(f32, acc, p32);
}

// One step of the FP MAC in a single IEEE-style format (rtl/fp_mac, rtl/fp_mac_ws): the
// product rounded to nearest even in the format (fp_mul_rne), then acc + product rounded
// again (fp_add): two roundings, as an FP32 MAC without fused multiply-add does.
inline uint32_t fp_mac_golden(const FloatFormat& f, uint32_t acc, uint32_t a, uint32_t b) {
  return fp_add_golden(f, acc, fp_mul_rne_golden(f, a, b));
}

}  // namespace lpsim::arith
