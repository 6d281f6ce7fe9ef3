#include "arith/float_format.h"

#include <bit>
#include <cmath>
#include <limits>

#include "arith/error.h"

namespace lpsim::arith {

uint32_t FloatFormat::max_finite_magnitude() const {
  switch (specials) {
    case Specials::ieee: return (((1u << exp_bits) - 1u) << man_bits) - 1u;
    case Specials::fn: return magnitude_mask() - 1u;
    case Specials::none: return magnitude_mask();
  }
  return 0;
}

uint32_t FloatFormat::inf_magnitude() const {
  LPSIM_CHECK(specials == Specials::ieee);
  return ((1u << exp_bits) - 1u) << man_bits;
}

uint32_t FloatFormat::nan_magnitude() const {
  LPSIM_CHECK(has_nan());
  if (specials == Specials::fn) return magnitude_mask();
  return inf_magnitude() | (1u << (man_bits - 1));  // quiet NaN: top mantissa bit set
}

bool FloatFormat::is_nan(uint32_t code) const {
  const uint32_t mag = code & magnitude_mask();
  switch (specials) {
    case Specials::ieee: return man_bits > 0 && mag > inf_magnitude();
    case Specials::fn: return mag == magnitude_mask();
    case Specials::none: return false;
  }
  return false;
}

bool FloatFormat::is_inf(uint32_t code) const {
  return specials == Specials::ieee && (code & magnitude_mask()) == inf_magnitude();
}

bool FloatFormat::is_canonical(uint32_t code) const {
  const uint32_t mag = code & magnitude_mask();
  if (is_nan(code)) return mag == nan_magnitude();
  if (!subnormals && (mag >> man_bits) == 0) return mag == 0;
  return true;
}

double FloatFormat::decode(uint32_t code) const {
  const bool negative = (code & sign_bit()) != 0;
  const uint32_t mag = code & magnitude_mask();
  double v;
  if (is_nan(code)) {
    v = std::numeric_limits<double>::quiet_NaN();
  } else if (is_inf(code)) {
    v = std::numeric_limits<double>::infinity();
  } else {
    const uint32_t e = mag >> man_bits, m = mag & ((1u << man_bits) - 1u);
    if (e == 0)
      v = subnormals ? std::ldexp(double(m), min_exponent() - man_bits) : 0.0;
    else
      v = std::ldexp(double((1u << man_bits) | m), int(e) - bias - man_bits);
  }
  return negative ? -v : v;
}

double FloatFormat::max_value() const { return decode(max_finite_magnitude()); }
double FloatFormat::min_normal() const { return std::ldexp(1.0, min_exponent()); }
double FloatFormat::min_subnormal() const {
  return subnormals ? std::ldexp(1.0, min_exponent() - man_bits) : min_normal();
}

void FloatFormat::validate() const {
  if (exp_bits < 1 || exp_bits > 8)
    throw InputError("exponent bits must be in [1, 8], got " + std::to_string(exp_bits), {}, name);
  const int max_man = name == "fp32" ? 23 : 10;
  if (man_bits < 0 || man_bits > max_man)
    throw InputError("mantissa bits must be in [0, 10], got " + std::to_string(man_bits), {}, name);
  if (bias < -127 || bias > 254)
    throw InputError("bias must be in [-127, 254], got " + std::to_string(bias), {}, name);
  if (specials == Specials::ieee && exp_bits < 2)
    throw InputError("an IEEE-style format needs at least 2 exponent bits", {}, name);
}

bool operator==(const FloatFormat& a, const FloatFormat& b) {
  return a.exp_bits == b.exp_bits && a.man_bits == b.man_bits && a.bias == b.bias &&
         a.subnormals == b.subnormals && a.specials == b.specials;
}

FloatFormat fp8_e4m3() { return {"fp8_e4m3", 4, 3, 7, true, Specials::fn}; }
FloatFormat fp8_e5m2() { return {"fp8_e5m2", 5, 2, 15, true, Specials::ieee}; }
FloatFormat fp4_e2m1() { return {"fp4_e2m1", 2, 1, 1, true, Specials::none}; }
FloatFormat fp16() { return {"fp16", 5, 10, 15, true, Specials::ieee}; }
FloatFormat bf16() { return {"bf16", 8, 7, 127, true, Specials::ieee}; }
FloatFormat fp32() { return {"fp32", 8, 23, 127, true, Specials::ieee}; }
FloatFormat luq_fp4() { return {"luq4", 3, 0, 1, false, Specials::none}; }
FloatFormat luq_fp5_8levels() { return {"luq5", 4, 0, 1, false, Specials::none}; }

FloatFormat make_exmy(int exp_bits, int man_bits) {
  // (fmt-style assembly: GCC 12 -Wrestrict misfires on "e" + std::to_string(...).)
  std::string name = "e";
  name.append(std::to_string(exp_bits)).append(1, 'm').append(std::to_string(man_bits));
  FloatFormat f{name, exp_bits, man_bits,
                exp_bits >= 1 && exp_bits <= 8 ? (1 << (exp_bits - 1)) - 1 : 0, true,
                exp_bits >= 2 ? Specials::ieee : Specials::none};
  f.validate();
  return f;
}

namespace {

Encoded overflowed(const FloatFormat& fmt, uint32_t sign, RoundMode mode, Overflow overflow) {
  uint32_t mag = fmt.max_finite_magnitude();
  // IEEE 754 §7.4: toward-zero rounding never overflows to infinity.
  if (overflow == Overflow::to_special && mode != RoundMode::toward_zero) {
    if (fmt.has_inf())
      mag = fmt.inf_magnitude();
    else if (fmt.has_nan())
      mag = fmt.nan_magnitude();
  }
  return {sign | mag, uint8_t(kOverflow | kInexact)};
}

}  // namespace

Encoded round_pack(const FloatFormat& fmt, bool negative, int exp, uint64_t sig, bool sticky,
                   RoundMode mode, Overflow overflow, uint32_t random_bits) {
  LPSIM_CHECK(overflow != Overflow::wrap);
  const uint32_t sign = negative ? fmt.sign_bit() : 0u;
  if (sig == 0) return {sign, uint8_t(sticky ? kInexact | kUnderflow : 0)};

  const int M = fmt.man_bits;
  const int emin = fmt.min_exponent();
  const int msb = 63 - std::countl_zero(sig);
  const int e = exp + msb;  // the value lies in [2^e, 2^(e+1))
  // Quantum (weight of the LSB of the result) and the code of the grid point at or below.
  int quantum_exp;
  bool flushed_range = false;  // below min normal without subnormals: grid {0, 2^emin}
  if (e >= emin) {
    quantum_exp = e - M;
  } else if (fmt.subnormals) {
    quantum_exp = emin - M;
  } else {
    quantum_exp = emin;
    flushed_range = true;
  }
  const int E = e >= emin ? e : emin;
  // A value far above the format would make the code arithmetic below overflow.
  if (E > (1 << fmt.exp_bits) + 1 - fmt.bias) return overflowed(fmt, sign, mode, overflow);

  const int shift = quantum_exp - exp;  // number of low bits of sig below the quantum
  uint64_t kept;
  uint32_t frac32;           // the dropped part as a 0.32 fixed-point fraction of a quantum
  bool exact_frac32 = true;  // false if bits below frac32 are non-zero
  if (shift <= 0) {
    kept = sig << -shift;
    frac32 = 0;
  } else if (shift >= 64) {
    kept = 0;
    // sig < 2^64 <= 2^shift: the whole of sig is a fraction below 2^(64-shift) <= 1.
    frac32 = shift >= 96 ? 0u : uint32_t(sig >> (shift - 32));
    exact_frac32 = shift >= 96 ? false : (sig & ((uint64_t{1} << (shift - 32)) - 1)) == 0;
  } else {
    kept = sig >> shift;
    const uint64_t rem = sig & ((uint64_t{1} << shift) - 1);
    if (shift <= 32) {
      frac32 = uint32_t(rem << (32 - shift));
    } else {
      frac32 = uint32_t(rem >> (shift - 32));
      exact_frac32 = (rem & ((uint64_t{1} << (shift - 32)) - 1)) == 0;
    }
  }
  const bool below_bits = sticky || !exact_frac32;  // any weight strictly below frac32's LSB
  const bool inexact = frac32 != 0 || below_bits;

  // Code of the grid point at or below the value; the next grid point is code_down + 1.
  const int64_t code_down = flushed_range ? 0 : (int64_t(E + fmt.bias - 1) << M) + int64_t(kept);
  bool up = false;
  switch (mode) {
    case RoundMode::nearest_even:
      if (frac32 > 0x80000000u || (frac32 == 0x80000000u && below_bits))
        up = true;
      else if (frac32 == 0x80000000u)
        up = (code_down & 1) != 0;  // tie: take the even code
      break;
    case RoundMode::toward_zero: break;
    case RoundMode::stochastic: up = random_bits < frac32; break;
  }
  // In the flushed range the grid points are codes 0 and (1 << M), not 0 and 1.
  const int64_t code = flushed_range ? (up ? int64_t{1} << M : 0) : code_down + (up ? 1 : 0);
  if (code > int64_t(fmt.max_finite_magnitude())) return overflowed(fmt, sign, mode, overflow);

  uint8_t flags = inexact ? kInexact : 0;
  if (inexact && (code >> M) == 0) flags |= kUnderflow;  // tiny after rounding
  if (inexact && flushed_range) flags |= kUnderflow;
  return {sign | uint32_t(code), flags};
}

Encoded encode(const FloatFormat& fmt, double x, RoundMode mode, Overflow overflow, uint32_t random_bits) {
  const bool negative = std::signbit(x);
  const uint32_t sign = negative ? fmt.sign_bit() : 0u;
  if (std::isnan(x)) {
    // Formats without NaN (E2M1, LUQ) have no faithful code: 0 and the invalid flag.
    return {fmt.has_nan() ? sign | fmt.nan_magnitude() : 0u, kInvalid};
  }
  if (std::isinf(x)) {
    if (overflow == Overflow::to_special && fmt.has_inf()) return {sign | fmt.inf_magnitude(), 0};
    if (overflow == Overflow::to_special && fmt.has_nan()) return {sign | fmt.nan_magnitude(), kOverflow};
    return {sign | fmt.max_finite_magnitude(), kOverflow};
  }
  if (x == 0.0) return {sign, 0};
  int e2;
  const double m = std::frexp(std::fabs(x), &e2);  // |x| = m·2^e2, m ∈ [0.5, 1)
  const uint64_t sig = uint64_t(std::ldexp(m, 53));  // exact: 53-bit significand
  return round_pack(fmt, negative, e2 - 53, sig, false, mode, overflow, random_bits);
}

}  // namespace lpsim::arith
