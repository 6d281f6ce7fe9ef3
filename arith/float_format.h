// ExMy floating-point formats as data (SoftFloat/FPnew style): a value is its raw code,
// decoded exactly, and every conversion into a format goes through one round_pack.
// OCP FP8 (E4M3 "fn", E5M2), OCP FP4 E2M1, FP16, BF16, generic eXmY, and the LUQ
// radix-2 logarithmic FP4 (papers.md §2: sign + 3 exponent bits, values ±α·2^k).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "arith/rounding.h"

namespace lpsim::arith {

enum class Specials : uint8_t {
  ieee,  // all-ones exponent: mantissa 0 = inf, otherwise NaN (E5M2, FP16, BF16, eXmY)
  fn,    // "finite, NaN": no inf; only the all-ones magnitude S.1111.111 is NaN (OCP E4M3)
  none,  // every code is a finite number (OCP E2M1, LUQ FP4)
};

struct FloatFormat {
  std::string name;
  int exp_bits = 0;  // 1..8
  int man_bits = 0;  // 0..10 for user formats (23 allowed internally for fp32)
  int bias = 0;
  bool subnormals = true;  // false: exponent field 0 means zero (flush), and rounding
                           // below the smallest normal goes to 0 or the smallest normal
  Specials specials = Specials::ieee;

  int total_bits() const { return 1 + exp_bits + man_bits; }
  uint32_t sign_bit() const { return 1u << (exp_bits + man_bits); }
  uint32_t magnitude_mask() const { return sign_bit() - 1; }
  int min_exponent() const { return 1 - bias; }  // unbiased exponent of the smallest normal
  uint32_t max_finite_magnitude() const;         // largest magnitude code that is finite
  uint32_t inf_magnitude() const;                // only for Specials::ieee
  uint32_t nan_magnitude() const;                // canonical quiet NaN; ieee and fn only
  bool has_inf() const { return specials == Specials::ieee; }
  // IEEE-style eXm0 has inf but no NaN code.
  bool has_nan() const { return specials == Specials::fn || (specials == Specials::ieee && man_bits > 0); }

  bool is_nan(uint32_t code) const;
  bool is_inf(uint32_t code) const;
  // False for codes that never come out of round_pack: the non-zero exponent-0 codes of a
  // format without subnormals, and every NaN code other than the canonical one.
  bool is_canonical(uint32_t code) const;

  double max_value() const;
  double min_normal() const;
  double min_subnormal() const;  // equals min_normal() when subnormals are off

  // Exact value of a code (every ExMy value with exp_bits <= 8 is a double).
  double decode(uint32_t code) const;

  void validate() const;  // InputError if a field is out of range
};

bool operator==(const FloatFormat& a, const FloatFormat& b);

// Named formats. The LUQ format is E3M0, bias 1, no subnormals: code 0 is zero and
// codes 1..7 are 2^0..2^6, so with α = max|g|/2^6 the 4-bit code holds {0, ±α·2^k, k<7}.
FloatFormat fp8_e4m3();
FloatFormat fp8_e5m2();
FloatFormat fp4_e2m1();
FloatFormat fp16();
FloatFormat bf16();
FloatFormat fp32();
FloatFormat luq_fp4();
// LUQ's reference code keeps 8 magnitudes (α = max|g|/2^7): a 5-bit E4M0 code holds them.
FloatFormat luq_fp5_8levels();
// Generic IEEE-style eXmY with bias 2^(E-1)-1 (E = 1 has no room for specials: none).
FloatFormat make_exmy(int exp_bits, int man_bits);

struct Encoded {
  uint32_t code = 0;
  uint8_t flags = 0;  // arith::Flag bits
};

// The single rounding routine. Rounds (-1)^sign · sig · 2^exp into `fmt`. `sticky`
// says the true magnitude is slightly above sig·2^exp (bits already shifted out below
// the LSB of sig); it turns ties into round-ups and marks the result inexact.
// `random_bits` drives RoundMode::stochastic: round up iff random_bits < frac·2^32,
// where frac ∈ [0,1) is the position of the value between its two grid neighbours
// (unbiased up to the 2^-32 resolution of frac). Overflow::wrap is not valid here.
Encoded round_pack(const FloatFormat& fmt, bool sign, int exp, uint64_t sig, bool sticky,
                   RoundMode mode, Overflow overflow, uint32_t random_bits = 0);

// Converts a double (exactly, no intermediate rounding) into fmt.
Encoded encode(const FloatFormat& fmt, double x, RoundMode mode = RoundMode::nearest_even,
               Overflow overflow = Overflow::saturate, uint32_t random_bits = 0);

}  // namespace lpsim::arith
