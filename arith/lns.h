// Logarithmic number system (issue 17): the format L(W_e, b) and the golden models of the
// log-domain units, integer-only in their datapath (tables are generated once by
// lns_table(), the one routine that touches floating point, and tested against a
// high-precision reference).
//
// Format L(W_e, b): a sign s and a W_e-bit two's-complement log code e; the value is
// (-1)^s · 2^(e/γ), γ = 2^b (b fraction bits of the log). The most negative e is zero
// (either sign: -0 reads as zero). b = 0 is LUQ's radix-2 format (powers of two). Named
// "lns<N>_b<b>" with N = 1 + W_e bits in all (lns8_b3: 7-bit log code, 3 fraction bits).
// Code layout: bit W_e is the sign, bits W_e-1..0 the log code.
//
// Units (a product's log code is p = e_a + e_b, b fraction bits):
//  A  log-multiply, exact linear accumulation: q = p >> b, r = p mod γ, the term
//     ±LUT[r] << (q - q_min), LUT[r] = RNE(2^(r/γ) · 2^α), summed in a two's-complement
//     (Kulisch) register. Order-independent and exact: the sum is Σ ±2^(p/γ) with each
//     2^(r/γ) rounded to α fraction bits, scaled by 2^(α - q_min).
//  A' the same sum kept as γ bins of shifted one-hot increments P_r, Σ LUT[r]·P_r at the
//     end: bit-identical to A.
//  B  pure log-domain accumulator with F_acc fraction bits: same signs e = max + sb(d),
//     opposite signs e = max + db(d), d = |e_A - e_p|, sb(z) = log2(1 + 2^-z),
//     db(z) = log2|1 - 2^-z|, both tabulated (RNE to F_acc bits) up to their essential
//     zero; exact cancellation gives zero; saturation at the top, flush to zero below.
//     The terms are added in the order given: the order is part of the result.
//  C  B with Mitchell's approximations instead of tables: 2^-z ≈ (1 + f)·2^k (z = -(k + f),
//     0 <= f < 1) and log2(1 + y) ≈ y, log2 of (1 - y) = (1 + m)·2^k as k + m, all in
//     F_acc-bit fixed point with truncation (no ROM).
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lpsim::arith {

struct LnsFormat {
  int exp_bits = 7;   // W_e: bits of the log code (two's complement), 2..20
  int frac_bits = 3;  // b: fraction bits of the log code, 0..W_e-1
  int total_bits() const { return 1 + exp_bits; }
  int gamma() const { return 1 << frac_bits; }
  int32_t zero_code() const { return -(int32_t{1} << (exp_bits - 1)); }  // the reserved e
  int32_t e_min() const { return zero_code() + 1; }                       // smallest nonzero magnitude
  int32_t e_max() const { return (int32_t{1} << (exp_bits - 1)) - 1; }
  std::string name() const;  // lns<N>_b<b>
  void validate() const;     // InputError naming the field out of range
};

// "lns8_b3" -> {7, 3}; InputError naming the text otherwise.
LnsFormat parse_lns_format(std::string_view name);

// A code's parts: sign, and the log code (sign-extended); zero when e == zero_code().
struct LnsValue {
  bool negative = false;
  int32_t e = 0;
  bool zero = true;
};
LnsValue lns_unpack(const LnsFormat& f, uint32_t code);
uint32_t lns_pack(const LnsFormat& f, bool negative, int32_t e);  // e == zero_code(): zero
inline uint32_t lns_zero(const LnsFormat& f) { return lns_pack(f, false, f.zero_code()); }
double lns_decode(const LnsFormat& f, uint32_t code);  // exact for the tests (2^(e/γ) in double)

// Quantisation onto L(W_e, b). Nearest in the log domain: e = round(γ·log2|x|) (ties away
// from zero in the log), saturating at e_max; a magnitude below 2^((e_min - 1/2)/γ) is zero.
// Stochastic (unbiased in the linear domain, like LUQ): between the neighbouring
// magnitudes lo < |x| < hi the upper one with probability (|x| - lo)/(hi - lo); below the
// smallest magnitude m, m with probability |x|/m, else zero; above the largest, the
// largest. `u` is a uniform draw in [0, 1) (arith::RandomStream::uniform).
uint32_t lns_quantize_nearest(const LnsFormat& f, double x);
uint32_t lns_quantize_stochastic(const LnsFormat& f, double x, double u);

// The one routine that generates tables (double precision is exact enough: every entry is
// checked against a long-double reference by the tests). RNE of 2^(i/γ) · 2^alpha for
// i = 0..γ-1: the linear-conversion table of units A and A'.
std::vector<uint64_t> lns_pow2_table(int frac_bits, int alpha);

// --- unit A / A': log-multiply, exact linear accumulation ---------------------------
struct LnsLinearAcc {
  LnsFormat fmt;
  int alpha = 0;      // fraction bits of the conversion table (>= b + 1: no two entries equal)
  int acc_bits = 0;   // accumulator width; lns_linear_acc_bits() cannot overflow for K terms
  std::vector<uint64_t> lut;  // lns_pow2_table(b, alpha)
  int32_t q_min = 0, q_max = 0;  // floor(p / γ) over every product of two nonzero codes
  LnsLinearAcc(const LnsFormat& f, int alpha, int acc_bits);
};
// The defaults of the units' free parameters, one place for the executor, the RTL
// instances priced by power_models and the CLI: α = b + 4 (each table entry within
// 2^-(b+5) of 2^(r/γ), a twentieth of the format's log step), F_acc = b + 4 capped at 7
// (the largest F whose sb/db ROMs rtl/ holds, arith/lns_rom.h). A unit is sized for
// kLnsUnitTerms products (one PE serves every layer): identical sums for any K up to it.
inline constexpr uint64_t kLnsUnitTerms = 4096;
inline int lns_default_alpha(const LnsFormat& f) { return f.frac_bits + 4; }
inline int lns_default_acc_frac(const LnsFormat& f) { return f.frac_bits + 4 < 7 ? f.frac_bits + 4 : std::max(7, f.frac_bits); }
// The log-domain sum's code width for K products: the products' logs plus log2 K of growth,
// 2^(w-1) - 1 >= (2·e_max << (F - b)) + ceil(log2 K)·2^F.
int lns_log_acc_bits(const LnsFormat& f, int acc_frac, uint64_t K);

// The width that holds the sum of any K products exactly:
//   alpha + 2 + (q_max - q_min) + ceil(log2 K)
// (|term| <= LUT[γ-1] · 2^(q_max - q_min) < 2^(alpha + 1 + q_max - q_min), K of them, a sign bit).
int lns_linear_acc_bits(const LnsFormat& f, int alpha, uint64_t K);

struct LnsAccResult {
  __int128 sum = 0;       // two's complement, sign-extended from acc_bits
  bool overflow = false;  // sticky: the exact sum left the accumulator's range at some step
};
// Σ_k a_k · b_k in the order given (A is order-independent: the tests check that), in
// units of 2^(q_min - alpha).
LnsAccResult lns_unit_a(const LnsLinearAcc& u, const std::vector<uint32_t>& a, const std::vector<uint32_t>& b);
// One step: acc + a·b, wrapped to acc_bits, the flag sticky (lns_unit_a is these steps
// from zero; the RTL harness clocks it beside rtl/lns_mac.sv).
LnsAccResult lns_unit_a_step(const LnsLinearAcc& u, LnsAccResult acc, uint32_t a, uint32_t b);
// The same sum as γ bins of shifted one-hot increments, Σ LUT[r]·P_r at the end.
LnsAccResult lns_unit_a_bins(const LnsLinearAcc& u, const std::vector<uint32_t>& a, const std::vector<uint32_t>& b);
// The real value of an A/A' sum.
double lns_linear_value(const LnsLinearAcc& u, __int128 sum);

// --- units B and C: accumulation in the log domain -----------------------------------
struct LnsLogAcc {
  LnsFormat fmt;      // the operands'
  int acc_frac = 0;   // F_acc >= b: fraction bits of the sum's log
  int acc_exp_bits = 0;  // the sum's log code width (two's complement, F_acc fraction bits)
  bool mitchell = false;  // unit C
  std::vector<int64_t> sb, db;  // RNE(sb(d / 2^F)) · 2^F for d = 0.. up to the essential zero (B)
  LnsLogAcc(const LnsFormat& f, int acc_frac, int acc_exp_bits, bool mitchell);
  int64_t e_max() const { return (int64_t{1} << (acc_exp_bits - 1)) - 1; }
  int64_t e_min() const { return -(int64_t{1} << (acc_exp_bits - 1)) + 1; }  // the most negative is zero
};
struct LnsLogSum {
  bool zero = true, negative = false;
  int64_t e = 0;  // F_acc fraction bits
  bool saturated = false;  // sticky: the sum reached the top of its range
};
// One step: sum + (-1)^s · 2^(p / γ), p = e_a + e_b (the product of two operand codes).
LnsLogSum lns_log_add(const LnsLogAcc& u, LnsLogSum acc, bool negative, int64_t p_fixed);
// One step on two operand codes: acc + a·b, a zero operand leaving the sum (lns_unit_log is
// these steps from zero; the RTL harness clocks it beside rtl/lns_log_acc.sv).
LnsLogSum lns_log_step(const LnsLogAcc& u, LnsLogSum acc, uint32_t a, uint32_t b);
// Σ a_k · b_k in the order given.
LnsLogSum lns_unit_log(const LnsLogAcc& u, const std::vector<uint32_t>& a, const std::vector<uint32_t>& b);
double lns_log_value(const LnsLogAcc& u, const LnsLogSum& s);

}  // namespace lpsim::arith
