// Golden models of the integer arithmetic units in rtl/: multiplier, adder, accumulator,
// MAC, the weight-stationary PE of a systolic array, the PANN repeated-addition unit and
// processing element (papers.md §1) and the LUQ multiplier-free INT4 × radix-2 FP4 unit
// (papers.md §2). The RTL is checked bit-for-bit against these.
#pragma once

#include <cstdint>

#include "arith/int_format.h"

namespace lpsim::arith {

// Two's complement / unsigned value of the low `width` bits of `bits`.
inline int64_t operand_value(uint64_t bits, int width, bool is_signed) {
  const uint64_t mask = width >= 64 ? ~uint64_t{0} : (uint64_t{1} << width) - 1;
  const uint64_t v = bits & mask;
  if (is_signed && width < 64 && (v >> (width - 1)) != 0) return int64_t(v) - (int64_t{1} << width);
  return int64_t(v);
}

// Exact product of a WidthA-bit and a WidthB-bit operand, as the low WidthA+WidthB bits.
inline uint64_t mul_golden(uint64_t a, uint64_t b, int width_a, int width_b, bool is_signed) {
  const int64_t p = operand_value(a, width_a, is_signed) * operand_value(b, width_b, is_signed);
  const int w = width_a + width_b;
  return uint64_t(p) & (w >= 64 ? ~uint64_t{0} : (uint64_t{1} << w) - 1);
}

struct AddResult {
  uint64_t sum;  // low `width` bits
  bool carry;
};

inline AddResult add_golden(uint64_t a, uint64_t b, bool cin, int width) {
  const uint64_t mask = width >= 64 ? ~uint64_t{0} : (uint64_t{1} << width) - 1;
  const unsigned __int128 s = (unsigned __int128)(a & mask) + (b & mask) + (cin ? 1 : 0);
  return {uint64_t(s) & mask, ((s >> width) & 1) != 0};
}

// The accumulator register: each enabled cycle adds a (sign-extended) input; clear wins
// over enable. Wrap keeps the low `width` bits, saturate clamps to the width's range.
// Widths up to 62 bits (the unit energy driver allows accumulators wider than IntFormat's
// 32 bits): with |in| < 2^61 the exact sum still fits an int64.
struct AccumulatorModel {
  int width = 32;
  bool is_signed = true;
  bool saturate = false;
  int64_t value = 0;
  bool overflow = false;  // this cycle's addition left the range (before wrap/clamp)

  void clock(bool clear, bool enable, int64_t in) {
    overflow = false;
    if (clear) {
      value = 0;
      return;
    }
    if (!enable) return;
    const int64_t lo = is_signed ? -(int64_t{1} << (width - 1)) : 0;
    const int64_t hi = is_signed ? (int64_t{1} << (width - 1)) - 1 : (int64_t{1} << width) - 1;
    const int64_t v = value + in;
    overflow = v < lo || v > hi;
    if (!overflow)
      value = v;
    else if (saturate)
      value = v < lo ? lo : hi;
    else
      value = operand_value(uint64_t(v), width, is_signed);  // the low `width` bits, reinterpreted
  }
};

// One step of the weight-stationary PE (rtl/mac_ws): the partial sum arriving from the
// PE above (psum_in, an acc_width-bit code) plus the product a·w, wrapped or saturated
// exactly as the accumulator does (the same AccumulatorModel, started at psum_in instead
// of its own register). Returns the acc_width-bit code and whether the addition left the
// range. The weight register and the forwarded activation are plain registers.
struct MacWsResult {
  uint64_t psum;  // low acc_width bits
  bool overflow;
};

inline MacWsResult mac_ws_golden(uint64_t a, uint64_t w, uint64_t psum_in, int width_a, int width_b, int acc_width,
                                 bool is_signed, bool saturate) {
  AccumulatorModel acc{acc_width, is_signed, saturate, operand_value(psum_in, acc_width, is_signed)};
  acc.clock(false, true, operand_value(a, width_a, is_signed) * operand_value(w, width_b, is_signed));
  const uint64_t mask = acc_width >= 64 ? ~uint64_t{0} : (uint64_t{1} << acc_width) - 1;
  return {uint64_t(acc.value) & mask, acc.overflow};
}

// PANN: x·R computed as R additions of an unsigned activation x (no multiplier).
inline uint64_t pann_golden(uint64_t x, uint64_t r) { return x * r; }

// The PANN processing element (rtl/pann_mac), cycle by cycle: two unsigned acc_width-bit
// sums (positive and negative weights). Every edge with a non-zero count adds x into the
// sum the sign selects and counts down, unless a start loads x, r = |w̃| and the sign at
// that edge (the count becomes r): a start on the last addition (count 1) overlaps it,
// the addition using the old x and sign. done() (count <= 1): the next start may come at
// this edge. A start while the count is above 1 still adds once and drops the rest of
// the job. Clear wins over start and addition; the overflow flag is sticky until a
// clear. Registers reset to 0. Widths up to 64 bits.
struct PannMacModel {
  int acc_width = 32;
  bool saturate = false;
  uint64_t x = 0, count = 0;  // the loaded activation and the additions left
  bool neg = false;
  uint64_t sum_pos = 0, sum_neg = 0;
  bool overflow = false;

  bool done() const { return count <= 1; }

  // One clock edge; returns whether it added (an addition cycle).
  bool clock(bool clear, bool start, uint64_t x_in, uint64_t r_in, bool neg_in) {
    if (clear) {
      sum_pos = sum_neg = 0;
      count = 0;
      overflow = false;
      return false;
    }
    const bool adding = count != 0;
    if (adding) {
      uint64_t& s = neg ? sum_neg : sum_pos;
      const uint64_t max = acc_width >= 64 ? ~uint64_t{0} : (uint64_t{1} << acc_width) - 1;
      const unsigned __int128 v = (unsigned __int128)s + x;
      const bool ovf = v > max;
      s = !ovf ? uint64_t(v) : saturate ? max : uint64_t(v) & max;
      overflow = overflow || ovf;
    }
    if (start) {
      x = x_in;
      count = r_in;
      neg = neg_in;
    } else if (adding) {
      --count;
    }
    return adding;
  }
};

// What the PE must hold after a clear and a run of jobs (x_k, w̃_k), the first started at
// any edge after the clear, each later one at the first edge done() allows, and one edge
// without a start or clear after the last job's done() rose (its last addition), stated without
// repeated addition: sum_pos = Σ_{w̃>0} x·w̃ and sum_neg = Σ_{w̃<0} x·|w̃|, each modulo
// 2^acc_width (wrap) or clamped to 2^acc_width − 1 (saturate: the additions are
// non-negative, so a saturated sum stays saturated); overflow iff either exact sum
// exceeds 2^acc_width − 1; Σ|w̃| additions; and 1 + Σ max(|w̃|, 1) cycles from the first
// start through that last edge (1 + Σ|w̃| when no weight is zero: the first start, then
// only additions, each later start overlapping the previous job's last addition; a zero
// weight still takes its start cycle), 0 for no jobs.
struct PannJob {
  uint64_t x;  // unsigned activation
  int64_t w;   // signed integer weight w̃
};
struct PannMacSums {
  uint64_t sum_pos = 0, sum_neg = 0;
  bool overflow = false;
  uint64_t add_cycles = 0;  // Σ|w̃|: the edges that add
  uint64_t cycles = 0;      // 1 + Σ max(|w̃|, 1): the run's edges, first start to last addition
};

template <typename Jobs>
PannMacSums pann_mac_golden(const Jobs& jobs, int acc_width, bool saturate) {
  unsigned __int128 pos = 0, neg = 0;
  PannMacSums r;
  for (const PannJob& j : jobs) {
    const uint64_t mag = j.w < 0 ? uint64_t(0) - uint64_t(j.w) : uint64_t(j.w);
    (j.w < 0 ? neg : pos) += (unsigned __int128)j.x * mag;
    r.add_cycles += mag;
    r.cycles += mag ? mag : 1;
  }
  if (r.cycles) ++r.cycles;  // the first start
  const uint64_t max = acc_width >= 64 ? ~uint64_t{0} : (uint64_t{1} << acc_width) - 1;
  auto fit = [&](unsigned __int128 v) { return v <= max ? uint64_t(v) : saturate ? max : uint64_t(v) & max; };
  r.sum_pos = fit(pos);
  r.sum_neg = fit(neg);
  r.overflow = pos > max || neg > max;
  return r;
}

// LUQ multiplier-free product: signed a (INT4, or a_bits wide) times radix-2 FP4 code w
// (bit 3 = sign, bits 2..0 = e; e = 0 is zero, otherwise magnitude 2^(e-1)): a shifted
// left by e-1.
inline int64_t luq_mul_golden(uint32_t a_code, uint32_t w_code, int a_bits = 4) {
  const int64_t a = operand_value(a_code, a_bits, true);
  const uint32_t e = w_code & 7u;
  if (e == 0) return 0;
  const int64_t mag = a * (int64_t{1} << (e - 1));
  return (w_code & 8u) ? -mag : mag;
}

}  // namespace lpsim::arith
