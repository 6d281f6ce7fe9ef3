// Bit-for-bit checks of Verilated RTL units against the arith golden models
// (arith/int_units.h). Header-only templates over the Verilated class so that the
// ctest suite, `lpsim verify-rtl` and the mutation check drive the very same code.
// Narrow operands (both <= 8 bits) are checked exhaustively; wider ones with seeded
// random vectors plus corners (0, ±max, min, -2^(b-1)). Sequential units run random
// sequences of clear / enable / inputs biased towards overflow.
#pragma once

#include <verilated.h>
#include <verilated_vcd_c.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "arith/fp_units.h"
#include "arith/int_units.h"
#include "arith/lns.h"
#include "arith/philox.h"

namespace lpsim::rtl {

struct CheckResult {
  uint64_t vectors = 0;
  uint64_t mismatches = 0;
  double seconds = 0;
  std::string first_failure;  // the first failing vector, hex, with expected and actual
  std::string notes;          // what the sequences reached (LNS units: overflow, saturation, flush, cancellation)
};

struct CheckOptions {
  uint64_t random_vectors = 1000000;  // for operands wider than 8 bits / sequence length
  uint64_t seed = 1;
  std::string trace_path;  // VCD of the first failing vector ("" = none)
  // Self-test of the reporting path: pretend the golden value of vector number N
  // (0-based) differs in its LSB. Multipliers and accumulators honour it.
  uint64_t inject_mismatch_at = ~uint64_t{0};
  // A unit brought by the user (rtl/user_unit.h) may be pipelined and may lack ports the
  // built-in units all have. latency: clock edges from a vector's inputs to its result
  // (-1: the kind's own — 0 for the combinational kinds, each vector evaluated alone, 1
  // for the accumulating ones, the sum readable after the edge that took the step); a
  // pipelined combinational kind gets a new vector every cycle, so a stage that mixes two
  // vectors fails. Without a reset port no asynchronous reset is pulsed (the registers
  // start as Verilator initialises them, 0); without an enable every cycle accumulates;
  // without a clear none is asked for; an absent carry-in is 0, an absent carry-out or
  // overflow flag is not compared.
  int latency = -1;
  bool has_reset = true, has_enable = true, has_clear = true;
  bool sync_reset = false;  // the reset acts at a clock edge (the built-in units' is asynchronous)
  bool has_carry_in = true, has_carry_out = true, has_overflow = true;
};

inline std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

namespace detail {

inline uint64_t mask(int w) { return w >= 64 ? ~uint64_t{0} : (uint64_t{1} << w) - 1; }

// Operand values worth hitting whatever the random draw: 0, 1, all ones (-1), the
// signed extremes and the unsigned max.
inline std::vector<uint64_t> corners(int w) {
  const uint64_t m = mask(w);
  std::vector<uint64_t> c = {0, 1, m, m - 1, (uint64_t{1} << (w - 1)), (uint64_t{1} << (w - 1)) - 1, 2};
  for (auto& v : c) v &= m;
  return c;
}

// FP corners: ±0, the smallest and largest subnormal, the smallest normal, 1 and its
// neighbour, the largest finite value, ±inf and NaN where the format has them.
inline std::vector<uint64_t> fp_corners(const arith::FloatFormat& f) {
  const uint64_t m = (uint64_t{1} << f.man_bits) - 1, one = uint64_t(f.bias) << f.man_bits;
  std::vector<uint64_t> base = {0, 1, m, m + 1, one, one + 1, f.max_finite_magnitude()};
  if (f.has_inf()) base.push_back(f.inf_magnitude());
  if (f.has_nan()) base.push_back(f.nan_magnitude());
  std::vector<uint64_t> c;
  for (uint64_t v : base) {
    c.push_back(v);
    c.push_back(v | f.sign_bit());
  }
  return c;
}

// Runs check(a, b) over all pairs (narrow) or corners x corners plus random pairs.
template <typename F>
void operand_pairs(int wa, int wb, const CheckOptions& opt, F&& check, const std::vector<uint64_t>* corner_set = nullptr) {
  if (wa <= 8 && wb <= 8) {
    for (uint64_t a = 0; a <= mask(wa); ++a)
      for (uint64_t b = 0; b <= mask(wb); ++b)
        if (!check(a, b)) return;
    return;
  }
  const std::vector<uint64_t> ca = corner_set ? *corner_set : corners(wa), cb = corner_set ? *corner_set : corners(wb);
  for (uint64_t a : ca)
    for (uint64_t b : cb)
      if (!check(a, b)) return;
  const arith::RandomStream rng(opt.seed, 0x525431u /* "RT1" */);
  for (uint64_t i = 0; i < opt.random_vectors; ++i) {
    const auto w = rng.block(i);
    const uint64_t a = ((uint64_t{w[0]} << 32) | w[1]) & mask(wa), b = ((uint64_t{w[2]} << 32) | w[3]) & mask(wb);
    if (!check(a, b)) return;
  }
}

// A model that writes its own VCD (a user's unit, built and loaded at run time with its own
// copy of the Verilator runtime: rtl/user_unit.h) instead of through lpsim's VerilatedVcdC.
template <typename V>
concept TracesItself = requires(V& m) {
  m.trace_open(std::string());
  m.trace_dump(uint64_t{0});
  m.trace_close();
};

// Dumps one vector into a VCD: apply(model) then an evaluation, or for a pipelined unit
// (latency > 0) the vector held over `latency` clock cycles, until its result shows.
template <typename V, typename Apply>
void trace_comb(const std::string& path, int latency, Apply&& apply) {
  if (path.empty()) return;
  auto run = [&](V& model, auto&& dump) {
    uint64_t t = 0;
    model.eval();
    dump(t);
    apply(model);
    model.eval();
    dump(t += 5);
    if constexpr (requires { model.clk_i; }) {
      for (int c = 0; c < latency; ++c) {
        model.clk_i = 1;
        model.eval();
        dump(t += 5);
        model.clk_i = 0;
        model.eval();
        dump(t += 5);
      }
    }
  };
  if constexpr (TracesItself<V>) {
    V model(nullptr);
    model.trace_open(path);
    run(model, [&](uint64_t t) { model.trace_dump(t); });
    model.trace_close();
  } else {
    auto ctx = std::make_unique<VerilatedContext>();
    ctx->traceEverOn(true);
    V model(ctx.get());
    VerilatedVcdC vcd;
    model.trace(&vcd, 99);
    vcd.open(path.c_str());
    run(model, [&](uint64_t t) { vcd.dump(t); });
    vcd.close();
  }
}

inline double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Vectors through a combinational unit (latency 0: drive, evaluate, verify) or a
// pipelined one (latency L: a new vector every clock cycle, each verified after the L-th
// edge since it was driven, so that the stages must keep consecutive vectors apart).
// verify(model) returns "" or what differs; on_failure(vector index, what) records a
// mismatch and says whether to go on.
template <typename V>
class VectorStream {
 public:
  using Verify = std::function<std::string(V&)>;
  VectorStream(V& m, int latency) : m_(m), latency_(std::max(latency, 0)) {
    if constexpr (requires { m.clk_i; }) {
      if (latency_ > 0) {
        m_.clk_i = 0;
        if constexpr (requires { m.rst_ni; }) {  // a reset pulse clears the pipeline registers
          m_.rst_ni = 1;
          m_.eval();
          m_.rst_ni = 0;
          m_.eval();
          m_.rst_ni = 1;
        }
        m_.eval();
      }
    }
  }
  // Drives one vector; false once on_failure said stop.
  template <typename Drive, typename OnFailure>
  bool push(Drive&& drive, Verify verify, OnFailure&& on_failure) {
    drive(m_);
    if (latency_ == 0) {
      m_.eval();
      const std::string bad = verify(m_);
      const uint64_t i = next_++;
      return bad.empty() || on_failure(i, bad);
    }
    pending_.push_back(std::move(verify));
    return clock_and_check(on_failure);
  }
  // Clocks the vectors still in the pipeline out (inputs held) and verifies them.
  template <typename OnFailure>
  bool flush(OnFailure&& on_failure) {
    while (!pending_.empty())
      if (!clock_and_check(on_failure)) return false;
    return true;
  }

 private:
  // One clock edge; the oldest vector in flight is verified once its result is out: the
  // vector driven before edge i + 1 shows after edge i + latency.
  template <typename OnFailure>
  bool clock_and_check(OnFailure&& on_failure) {
    if constexpr (requires { m_.clk_i; }) {
      m_.clk_i = 1;
      m_.eval();
      m_.clk_i = 0;
      m_.eval();
    }
    ++edges_;
    if (edges_ < next_ + uint64_t(latency_)) return true;
    const Verify verify = std::move(pending_.front());
    pending_.pop_front();
    const std::string bad = verify(m_);
    const uint64_t i = next_++;
    return bad.empty() || on_failure(i, bad);
  }
  V& m_;
  int latency_;
  std::deque<Verify> pending_;
  uint64_t next_ = 0, edges_ = 0;  // the next vector to verify, clock edges so far
};

}  // namespace detail

// The shared loop of the two-operand combinational checks: drive (a, b) into ports
// a_i and `b` (b_i or w_i), evaluate (or clock, opt.latency), compare read(model) with
// golden(a, b).
template <typename V, typename Golden, typename Read, typename Drive>
CheckResult check_comb(int wa, int wb, const CheckOptions& opt, const char* port, Golden golden, Read read,
                       Drive drive, const std::vector<uint64_t>* corners = nullptr) {
  const auto t0 = std::chrono::steady_clock::now();
  auto ctx = std::make_unique<VerilatedContext>();
  V m(ctx.get());
  CheckResult r;
  detail::VectorStream<V> stream(m, opt.latency);
  std::vector<std::pair<uint64_t, uint64_t>> vectors;  // operands of the vectors in flight
  auto on_failure = [&](uint64_t i, const std::string& what) {
    if (r.mismatches++ == 0) {
      r.first_failure = what;
      const auto [a, b] = vectors[i % vectors.size()];
      detail::trace_comb<V>(opt.trace_path, std::max(opt.latency, 0), [&](V& t) { drive(t, a, b); });
    }
    return r.mismatches < 1000;
  };
  vectors.resize(size_t(std::max(opt.latency, 0)) + 1);
  uint64_t n = 0;
  bool go = true;
  detail::operand_pairs(wa, wb, opt, [&](uint64_t a, uint64_t b) {
    const uint64_t expect = golden(a, b) ^ (n == opt.inject_mismatch_at);
    vectors[n++ % vectors.size()] = {a, b};
    ++r.vectors;
    go = stream.push([&](V& t) { drive(t, a, b); },
                     [=](V& t) -> std::string {
                       const uint64_t got = uint64_t(read(t));
                       if (got == expect) return {};
                       return std::string("a=") + hex(a) + " b=" + hex(b) + " expected " + port + "=" + hex(expect) +
                              " got " + port + "=" + hex(got);
                     },
                     on_failure);
    return go;
  }, corners);
  if (go) stream.flush(on_failure);
  r.seconds = detail::since(t0);
  return r;
}

// Multiplier: a_i, b_i -> p_o (WidthA + WidthB bits).
template <typename V>
CheckResult check_mul(int wa, int wb, bool is_signed, const CheckOptions& opt) {
  return check_comb<V>(
      wa, wb, opt, "p", [&](uint64_t a, uint64_t b) { return arith::mul_golden(a, b, wa, wb, is_signed); },
      [](V& m) { return m.p_o; }, [](V& m, uint64_t a, uint64_t b) { m.a_i = a; m.b_i = b; });
}

// Adder: a_i, b_i, cin_i -> sum_o, cout_o (each pair with both carries in).
template <typename V>
CheckResult check_add(int width, const CheckOptions& opt) {
  const auto t0 = std::chrono::steady_clock::now();
  auto ctx = std::make_unique<VerilatedContext>();
  V m(ctx.get());
  CheckResult r;
  detail::VectorStream<V> stream(m, opt.latency);
  struct Vec {
    uint64_t a, b;
    int cin;
  };
  std::vector<Vec> vectors(size_t(std::max(opt.latency, 0)) + 1);
  auto drive = [](V& t, const Vec& v) {
    t.a_i = v.a;
    t.b_i = v.b;
    t.cin_i = v.cin;
  };
  auto on_failure = [&](uint64_t i, const std::string& what) {
    if (r.mismatches++ == 0) {
      r.first_failure = what;
      const Vec v = vectors[i % vectors.size()];
      detail::trace_comb<V>(opt.trace_path, std::max(opt.latency, 0), [&](V& t) { drive(t, v); });
    }
    return r.mismatches < 1000;
  };
  uint64_t n = 0;
  bool go = true;
  detail::operand_pairs(width, width, opt, [&](uint64_t a, uint64_t b) {
    for (int cin = 0; go && cin < (opt.has_carry_in ? 2 : 1); ++cin) {
      const Vec v{a, b, cin};
      vectors[n++ % vectors.size()] = v;
      ++r.vectors;
      const arith::AddResult e = arith::add_golden(a, b, cin, width);
      const bool carry_out = opt.has_carry_out;
      go = stream.push([&](V& t) { drive(t, v); },
                       [=](V& t) -> std::string {
                         const uint64_t sum = uint64_t(t.sum_o);
                         const bool cout = bool(t.cout_o);
                         if (sum == e.sum && (!carry_out || cout == e.carry)) return {};
                         return "a=" + hex(a) + " b=" + hex(b) + " cin=" + std::to_string(cin) + " expected sum=" +
                                hex(e.sum) + (carry_out ? " cout=" + std::to_string(e.carry) : "") + " got sum=" +
                                hex(sum) + (carry_out ? " cout=" + std::to_string(int(cout)) : "");
                       },
                       on_failure);
    }
    return go;
  });
  if (go) stream.flush(on_failure);
  r.seconds = detail::since(t0);
  return r;
}

// LUQ unit: a_i (INT4), w_i (FP4 code) -> p_o (11-bit signed). Exhaustive: 256 pairs.
template <typename V>
CheckResult check_luq_mul(int wa, const CheckOptions& opt) {
  return check_comb<V>(
      wa, 4, opt, "p",
      [wa](uint64_t a, uint64_t w) {
        return uint64_t(arith::luq_mul_golden(uint32_t(a), uint32_t(w), wa)) & detail::mask(wa + 7);
      },
      [](V& m) { return m.p_o; }, [](V& m, uint64_t a, uint64_t w) { m.a_i = a; m.w_i = w; });
}

// Exact FP multiplier: every pair of codes of the input format (2^16 for FP8).
template <typename V>
CheckResult check_fp_mul(const arith::FloatFormat& fmt, const CheckOptions& opt) {
  const int w = fmt.total_bits();
  return check_comb<V>(
      w, w, opt, "p", [&](uint64_t a, uint64_t b) { return arith::fp_mul_exact_golden(fmt, uint32_t(a), uint32_t(b)); },
      [](V& m) { return m.p_o; }, [](V& m, uint64_t a, uint64_t b) { m.a_i = a; m.b_i = b; });
}

// FP multiplier with RNE rounding: exhaustive for 8-bit formats, FP corners and random
// codes for wider ones.
template <typename V>
CheckResult check_fp_mul_rne(const arith::FloatFormat& fmt, const CheckOptions& opt) {
  const int w = fmt.total_bits();
  const std::vector<uint64_t> corners = detail::fp_corners(fmt);
  return check_comb<V>(
      w, w, opt, "p", [&](uint64_t a, uint64_t b) { return arith::fp_mul_rne_golden(fmt, uint32_t(a), uint32_t(b)); },
      [](V& m) { return m.p_o; }, [](V& m, uint64_t a, uint64_t b) { m.a_i = a; m.b_i = b; }, &corners);
}

// FP adder: exhaustive for 8-bit formats, FP corners and random codes for wider ones.
template <typename V>
CheckResult check_fp_add(const arith::FloatFormat& fmt, const CheckOptions& opt) {
  const int w = fmt.total_bits();
  const std::vector<uint64_t> corners = detail::fp_corners(fmt);
  return check_comb<V>(
      w, w, opt, "s", [&](uint64_t a, uint64_t b) { return arith::fp_add_golden(fmt, uint32_t(a), uint32_t(b)); },
      [](V& m) { return m.s_o; }, [](V& m, uint64_t a, uint64_t b) { m.a_i = a; m.b_i = b; }, &corners);
}

namespace detail {

// What a sequential unit's outputs must read while and right after its asynchronous
// reset: every register 0, and done_o (nothing left to do) 1. Returns the ports that
// differ ("" when all hold); a port the unit lacks is skipped.
template <typename V>
std::string reset_state_mismatch(V& m) {
  std::string bad;
  auto expect = [&](const char* port, uint64_t got, uint64_t want) {
    if (got != want) bad += std::string(bad.empty() ? "" : " ") + port + "=" + hex(got) + " (reset value " + hex(want) + ")";
  };
  if constexpr (requires { m.acc_o; }) expect("acc_o", uint64_t(m.acc_o), 0);
  if constexpr (requires { m.overflow_o; }) expect("overflow_o", uint64_t(m.overflow_o), 0);
  if constexpr (requires { m.a_o; }) expect("a_o", uint64_t(m.a_o), 0);
  if constexpr (requires { m.psum_o; }) expect("psum_o", uint64_t(m.psum_o), 0);
  if constexpr (requires { m.result_o; }) expect("result_o", uint64_t(m.result_o), 0);
  if constexpr (requires { m.sum_pos_o; }) expect("sum_pos_o", uint64_t(m.sum_pos_o), 0);
  if constexpr (requires { m.sum_neg_o; }) expect("sum_neg_o", uint64_t(m.sum_neg_o), 0);
  if constexpr (requires { m.done_o; }) expect("done_o", uint64_t(m.done_o), 1);
  return bad;
}

}  // namespace detail

// One clocked test bench: reset, then step() drives inputs and a full clock cycle.
// reset() pulses the asynchronous reset (also in the middle of a run: the random
// sequences do, so a register whose reset value is wrong shows even where no port
// reads it directly) and says which outputs did not take their reset value.
template <typename V>
struct Clocked {
  std::unique_ptr<VerilatedContext> ctx = std::make_unique<VerilatedContext>();
  std::unique_ptr<V> m;
  std::unique_ptr<VerilatedVcdC> vcd;
  bool own_trace = false;  // the model writes its VCD itself (detail::TracesItself)
  uint64_t time = 0;

  enum class Reset { none, async, sync };  // CheckOptions::has_reset, sync_reset
  static Reset reset_of(const CheckOptions& opt) {
    return !opt.has_reset ? Reset::none : opt.sync_reset ? Reset::sync : Reset::async;
  }
  Reset reset_kind = Reset::async;

  // Reset::none: a unit without a reset port; no pulse. Reset::sync: the pulse spans a
  // clock edge.
  explicit Clocked(const std::string& trace_path, Reset reset_kind = Reset::async) : reset_kind(reset_kind) {
    if (!trace_path.empty()) ctx->traceEverOn(true);
    m = std::make_unique<V>(ctx.get());
    if (!trace_path.empty()) {
      if constexpr (detail::TracesItself<V>) {
        m->trace_open(trace_path);
        own_trace = true;
      } else {
        vcd = std::make_unique<VerilatedVcdC>();
        m->trace(vcd.get(), 99);
        vcd->open(trace_path.c_str());
      }
    }
    m->clk_i = 0;
    if (reset_kind != Reset::none)
      after_first_reset = reset();
    else
      settle();
  }
  std::string after_first_reset;  // reset_state_mismatch right after construction
  std::string reset() {
    // A falling edge of rst_ni: from 1 first, since at time 0 the model's inputs are
    // already 0 and a reset asserted there would never trigger (the registers would just
    // keep Verilator's zero initial values, hiding a wrong reset value).
    m->rst_ni = 1;
    settle();
    m->rst_ni = 0;
    settle();
    if (reset_kind == Reset::sync) clock();
    std::string bad = detail::reset_state_mismatch(*m);
    m->rst_ni = 1;
    settle();
    const std::string after = detail::reset_state_mismatch(*m);  // released: still the reset values
    if (bad.empty()) bad = after;
    return bad;
  }
  // Counts the check of the reset state as one vector of r; false (and a mismatch
  // described at `where`) when an output is not at its reset value.
  bool reset_holds(const std::string& bad, const std::string& where, CheckResult& r) {
    ++r.vectors;
    if (bad.empty()) return true;
    if (r.mismatches++ == 0) r.first_failure = where + ": after reset " + bad;
    return false;
  }
  ~Clocked() {
    if (vcd) vcd->close();
    if constexpr (detail::TracesItself<V>)
      if (own_trace) m->trace_close();
  }
  void settle() {
    m->eval();
    if (vcd) vcd->dump(time);
    if constexpr (detail::TracesItself<V>)
      if (own_trace) m->trace_dump(time);
    time += 5;
  }
  void clock() {
    m->clk_i = 1;
    settle();
    m->clk_i = 0;
    settle();
  }
};

// A random cycle of a sequential unit: clear 1/64, enable 7/8, operands biased to their
// extremes 1/4 of the time so that overflow happens.
struct SeqStep {
  bool clear, enable;
  uint64_t a, b;
  bool reset;  // 1/1024: an asynchronous reset before the cycle
};

namespace detail {

// An integer operand biased to its extremes 3/8 of the time.
inline uint64_t biased_operand(uint32_t r, uint32_t pick, int width) {
  const uint64_t m = mask(width);
  switch (pick & 7u) {
    case 0: return m;                                  // all ones: -1 or unsigned max
    case 1: return (uint64_t{1} << (width - 1)) & m;   // most negative
    case 2: return ((uint64_t{1} << (width - 1)) - 1) & m;  // most positive
    default: return uint64_t(r) & m;
  }
}

// A partial sum (width bits) that a product of product_width bits pushes out of range
// half of the time: just below the unsigned max / -1, just below the signed max, just
// above the most negative value; otherwise 0 or random.
inline uint64_t biased_psum(uint64_t r, uint32_t pick, int width, int product_width) {
  const uint64_t m = mask(width), small = (r >> 32) & mask(product_width), half = uint64_t{1} << (width - 1);
  switch (pick & 7u) {
    case 0: return m;
    case 1: return (m - small) & m;
    case 2: return (half - 1 - small) & m;
    case 3: return (half + small) & m;
    case 4: return 0;
    default: return r & m;
  }
}

// A random FP code: every code equally likely for formats of <= 8 bits (the sequence
// covers them all); for wider ones 1/8 FP corners, 3/8 uniform codes (any exponent, so
// overflow, underflow, subnormals, inf and NaN) and 1/2 values within 2^±16 of 1 with a
// random mantissa and sign (products and sums in range, where rounding and cancellation
// decide the result).
inline uint64_t fp_operand(const arith::FloatFormat& f, uint32_t r0, uint32_t r1) {
  const uint64_t m = mask(f.total_bits()), man = mask(f.man_bits);
  if (f.total_bits() <= 8) return r0 & m;
  switch (r1 & 7u) {
    case 0: {
      const std::vector<uint64_t> c = fp_corners(f);
      return c[r0 % c.size()];
    }
    case 1:
    case 2:
    case 3: return r0 & m;
    default: {
      const int e = std::clamp(f.bias + int(r1 >> 3 & 31u) - 16, 0, (1 << f.exp_bits) - 2);
      return (r0 & f.sign_bit()) | (uint64_t(e) << f.man_bits) | (r0 & man);
    }
  }
}

}  // namespace detail

inline SeqStep random_step(const arith::RandomStream& rng, uint64_t i, int wa, int wb) {
  const auto w = rng.block(i);
  return {(w[0] & 63u) == 0, (w[0] >> 6 & 7u) != 0, detail::biased_operand(w[1], w[0] >> 9, wa),
          detail::biased_operand(w[2], w[0] >> 12, wb), (w[3] & 1023u) == 0};
}

// random_step with the unit's optional ports (CheckOptions::has_*): no clear without a
// clear port, every cycle enabled without an enable port, no reset without a reset port.
inline SeqStep random_step(const arith::RandomStream& rng, uint64_t i, int wa, int wb, const CheckOptions& opt) {
  SeqStep s = random_step(rng, i, wa, wb);
  s.clear = s.clear && opt.has_clear;
  s.enable = s.enable || !opt.has_enable;
  s.reset = s.reset && opt.has_reset;
  return s;
}

namespace detail {

// The accumulating kinds' latency: the sum of a step readable `latency` edges after the
// step (1 when the output is the accumulator register itself). Keeps the golden states
// still on their way through a pipelined unit; before the first one arrives (and after a
// reset) the unit shows its reset state.
template <typename State>
class Delayed {
 public:
  Delayed(int latency, State reset_state) : depth_(size_t(std::max(latency, 1) - 1)), reset_(reset_state) { reset(); }
  void reset() { q_.assign(depth_, reset_); }
  // The state the unit shows after the edge that took step `now`.
  const State& push(const State& now) {
    q_.push_back(now);
    out_ = q_.front();
    q_.pop_front();
    return out_;
  }

 private:
  size_t depth_;
  State reset_, out_{};
  std::deque<State> q_;
};

}  // namespace detail

// Accumulator / MAC: the golden AccumulatorModel clocked alongside the RTL. For an
// accumulator b is unused and a is the input; for a MAC the input is a·b (kMac = 1), for
// the LUQ MAC the shift product of an INT4 a and an FP4 code b (kMac = 2). A pipelined
// unit (opt.latency > 1) shows each step's sum latency - 1 cycles later; the last ones
// are clocked out with idle cycles.
template <typename V, int kMac>
CheckResult check_accumulate(int wa, int wb, int acc_width, bool is_signed, bool saturate, const CheckOptions& opt) {
  const auto t0 = std::chrono::steady_clock::now();
  const arith::RandomStream rng(opt.seed, 0x414343u + kMac);
  const int latency = std::max(opt.latency, 1);
  CheckResult r;
  uint64_t fail_step = 0;
  auto run = [&](const std::string& trace, uint64_t steps) {
    Clocked<V> tb(trace, Clocked<V>::reset_of(opt));
    if (trace.empty() && !tb.reset_holds(tb.after_first_reset, "start", r)) return;
    arith::AccumulatorModel gold{acc_width, is_signed, saturate};
    struct Shown {
      uint64_t value = 0;
      bool overflow = false;
      uint64_t step = ~uint64_t{0};  // the step whose sum it is (none: the reset state)
    };
    detail::Delayed<Shown> shown(latency, Shown{});
    // Steps after `steps`: idle cycles (no clear; no enable, or zero operands without an
    // enable port) that clock the pipeline's last sums out.
    for (uint64_t i = 0; i < steps + uint64_t(latency - 1); ++i) {
      SeqStep s = random_step(rng, i, wa, wb, opt);
      if (i >= steps) s = {false, !opt.has_enable, 0, 0, false};
      if (s.reset) {
        const std::string bad = tb.reset();
        gold = arith::AccumulatorModel{acc_width, is_signed, saturate};
        shown.reset();
        if (trace.empty() && !tb.reset_holds(bad, "cycle " + std::to_string(i), r)) {
          fail_step = i;
          return;
        }
      }
      const int64_t in = kMac == 2   ? arith::luq_mul_golden(uint32_t(s.a), uint32_t(s.b), wa)
                         : kMac == 1 ? arith::operand_value(s.a, wa, is_signed) * arith::operand_value(s.b, wb, is_signed)
                                     : arith::operand_value(s.a, wa, is_signed);
      tb.m->clear_i = s.clear;
      tb.m->en_i = s.enable;
      if constexpr (kMac != 0) {
        tb.m->a_i = s.a;
        tb.m->b_i = s.b;
      } else {
        tb.m->in_i = s.a;
      }
      tb.clock();
      gold.clock(s.clear, s.enable, in);
      const Shown e = shown.push({uint64_t(gold.value) & detail::mask(acc_width), gold.overflow, i});
      if (!trace.empty()) continue;
      const uint64_t expect = e.value ^ (r.vectors == opt.inject_mismatch_at), got = uint64_t(tb.m->acc_o);
      const bool got_ovf = bool(tb.m->overflow_o);
      ++r.vectors;
      if (got == expect && (!opt.has_overflow || got_ovf == e.overflow)) continue;
      if (r.mismatches++ == 0) {
        fail_step = i;
        const std::string ovf_e = opt.has_overflow ? " ovf=" + std::to_string(e.overflow) : "",
                          ovf_g = opt.has_overflow ? " ovf=" + std::to_string(int(got_ovf)) : "";
        const std::string which =
            latency == 1 ? "" : e.step == ~uint64_t{0} ? " (the reset state: no step has reached the output yet)"
                                                       : " (the sum after cycle " + std::to_string(e.step) + ")";
        r.first_failure = "cycle " + std::to_string(i) + ": clear=" + std::to_string(s.clear) + " en=" +
                          std::to_string(s.enable) + " a=" + hex(s.a) + (kMac != 0 ? " b=" + hex(s.b) : std::string()) +
                          " expected acc=" + hex(expect) + ovf_e + which + " got acc=" + hex(got) + ovf_g;
      }
      if (r.mismatches >= 1000) return;
    }
  };
  run("", opt.random_vectors);
  if (r.mismatches && !opt.trace_path.empty()) run(opt.trace_path, fail_step + 1);  // replay into the VCD
  r.seconds = detail::since(t0);
  return r;
}

// FP MAC (fp8_mac, fp_mac): random sequences of clear / enable / operand pairs into an
// accumulator of acc_fmt; golden(acc, a, b) is one enabled step. FP8 operands: all codes
// equally likely, so NaN, inf, subnormals and cancellation all occur; wider operands:
// detail::fp_operand. A NaN sum is cleared on the next cycle (it would stick).
template <typename V, typename Golden>
CheckResult check_fp_mac_seq(const arith::FloatFormat& fmt, const arith::FloatFormat& acc_fmt, uint32_t tag,
                             const CheckOptions& opt, Golden golden) {
  const auto t0 = std::chrono::steady_clock::now();
  const arith::RandomStream rng(opt.seed, tag);
  const int latency = std::max(opt.latency, 1);
  CheckResult r;
  Clocked<V> tb(opt.trace_path, Clocked<V>::reset_of(opt));
  uint32_t gold = 0;
  detail::Delayed<uint32_t> shown(latency, 0);
  const bool reset_ok = tb.reset_holds(tb.after_first_reset, "start", r);
  // After the random cycles, latency - 1 idle ones clock a pipelined unit's last sums out.
  for (uint64_t i = 0; reset_ok && i < opt.random_vectors + uint64_t(latency - 1); ++i) {
    const bool idle = i >= opt.random_vectors;
    const auto w = rng.block(i);
    if (!idle && opt.has_reset && (w[0] >> 9 & 1023u) == 0) {  // an asynchronous reset before the cycle, 1/1024
      gold = 0;
      shown.reset();
      if (!tb.reset_holds(tb.reset(), "cycle " + std::to_string(i), r)) break;
    }
    // A NaN sum is cleared (it would stick); without a clear port the sequence goes on
    // with it (the unit must keep the NaN too).
    const bool clear = !idle && opt.has_clear && ((w[0] & 63u) == 0 || acc_fmt.is_nan(gold));
    const bool enable = !opt.has_enable || (!idle && (w[0] >> 6 & 7u) != 0);
    const uint64_t a = idle ? 0 : detail::fp_operand(fmt, w[1], w[3]), b = idle ? 0 : detail::fp_operand(fmt, w[2], w[3] >> 16);
    tb.m->clear_i = clear;
    tb.m->en_i = enable;
    tb.m->a_i = a;
    tb.m->b_i = b;
    tb.clock();
    if (clear)
      gold = 0;
    else if (enable)
      gold = golden(gold, uint32_t(a), uint32_t(b));
    const uint64_t expect = shown.push(gold) ^ (r.vectors == opt.inject_mismatch_at), got = uint64_t(tb.m->acc_o);
    ++r.vectors;
    if (got == expect) continue;
    ++r.mismatches;
    r.first_failure = "cycle " + std::to_string(i) + ": clear=" + std::to_string(clear) + " en=" + std::to_string(enable) +
                      " a=" + hex(a) + " b=" + hex(b) + " expected acc=" + hex(expect) +
                      (latency > 1 ? " (the sum " + std::to_string(latency - 1) + " cycles earlier)" : "") + " got acc=" +
                      hex(got);
    break;  // the sequence diverged
  }
  r.seconds = detail::since(t0);
  return r;
}

// FP8 MAC (also FP16 operands): the exact product widened to an FP32 accumulator.
template <typename V>
CheckResult check_fp8_mac(const arith::FloatFormat& fmt, const CheckOptions& opt) {
  return check_fp_mac_seq<V>(fmt, arith::fp32(), 0x464D43u, opt, [&](uint32_t acc, uint32_t a, uint32_t b) {
    return arith::fp8_mac_golden(fmt, acc, a, b);
  });
}

// FP MAC in one format: product and sum each rounded to nearest even in fmt.
template <typename V>
CheckResult check_fp_mac(const arith::FloatFormat& fmt, const CheckOptions& opt) {
  return check_fp_mac_seq<V>(fmt, fmt, 0x46504Du, opt, [&](uint32_t acc, uint32_t a, uint32_t b) {
    return arith::fp_mac_golden(fmt, acc, a, b);
  });
}

// Weight-stationary PE (mac_ws, fp8_mac_ws, fp_mac_ws): the weight register, the
// forwarded activation a_o, the registered psum_o (and overflow_o where the unit has it)
// clocked alongside golden(a, w, psum_in) -> arith::MacWsResult. For operands of <= 8
// bits every weight is loaded in turn and every activation multiplied by it (each with a
// drawn psum_i), then opt.random_vectors random cycles follow: load 1/8, enable 7/8,
// independently, so a load and a product at the same edge (the old weight is used)
// happen too. b_i is random on cycles without a load, so a unit that multiplies b_i
// instead of its weight register fails. draw(words, w, a) gives {a, b, psum_i} from
// eight random words and the current weight w; a non-null a fixes the activation (the
// exhaustive part), so that FP units can still put psum_i near the product.
template <typename V, typename Draw, typename Golden>
CheckResult check_ws(int wa, int wb, uint32_t tag, const CheckOptions& opt, Draw draw, Golden golden) {
  const auto t0 = std::chrono::steady_clock::now();
  const arith::RandomStream rng(opt.seed, tag);
  const uint64_t per_weight = (uint64_t{1} << wa) + 1;  // one load, then every activation
  const uint64_t n_exh = wa <= 8 && wb <= 8 ? (uint64_t{1} << wb) * per_weight : 0;
  CheckResult r;
  uint64_t fail_step = 0;
  auto run = [&](const std::string& trace, uint64_t steps) {
    Clocked<V> tb(trace);
    if (trace.empty() && !tb.reset_holds(tb.after_first_reset, "start", r)) return;
    uint64_t w = 0, a_o = 0, psum_o = 0;  // the golden registers (reset to 0)
    bool ovf_o = false;
    for (uint64_t i = 0; i < steps; ++i) {
      const auto w0 = rng.block(2 * i), w1 = rng.block(2 * i + 1);
      const std::array<uint32_t, 8> words = {w0[0], w0[1], w0[2], w0[3], w1[0], w1[1], w1[2], w1[3]};
      if (i >= n_exh && (words[6] & 1023u) == 0) {  // an asynchronous reset before the cycle, 1/1024
        const std::string bad = tb.reset();
        w = a_o = psum_o = 0;
        ovf_o = false;
        if (trace.empty() && !tb.reset_holds(bad, "cycle " + std::to_string(i), r)) {
          fail_step = i;
          return;
        }
      }
      bool load = (words[0] & 7u) == 0, enable = (words[0] >> 3 & 7u) != 0;
      uint64_t a_fixed = 0;
      if (i < n_exh) {  // exhaustive part: load weight i / per_weight, then every activation
        load = i % per_weight == 0;
        enable = !load;
        a_fixed = load ? 0 : i % per_weight - 1;
      }
      auto [a, b, psum] = draw(words, w, i < n_exh ? &a_fixed : nullptr);
      if (i < n_exh && load) b = i / per_weight;
      tb.m->w_load_i = load;
      tb.m->en_i = enable;
      tb.m->a_i = a;
      tb.m->b_i = b;
      tb.m->psum_i = psum;
      tb.clock();
      ovf_o = false;
      const uint64_t w_used = w;
      if (enable) {
        const arith::MacWsResult g = golden(a, w, psum);
        psum_o = g.psum;
        ovf_o = g.overflow;
        a_o = a;
      }
      if (load) w = b;  // after the product: this edge still multiplies by the old weight
      if (!trace.empty()) continue;
      const uint64_t expect = psum_o ^ (r.vectors == opt.inject_mismatch_at), got = uint64_t(tb.m->psum_o);
      const uint64_t got_a = uint64_t(tb.m->a_o);
      bool got_ovf = false;
      if constexpr (requires(V& v) { v.overflow_o; }) got_ovf = tb.m->overflow_o;
      ++r.vectors;
      if (got == expect && got_a == a_o && got_ovf == ovf_o) continue;
      if (r.mismatches++ == 0) {
        fail_step = i;
        r.first_failure = "cycle " + std::to_string(i) + ": w_load=" + std::to_string(load) + " en=" +
                          std::to_string(enable) + " a=" + hex(a) + " b=" + hex(b) + " psum_i=" + hex(psum) +
                          " w=" + hex(w_used) + " expected psum=" + hex(expect) + " a_o=" + hex(a_o) + " ovf=" +
                          std::to_string(ovf_o) + " got psum=" + hex(got) + " a_o=" + hex(got_a) + " ovf=" +
                          std::to_string(got_ovf);
      }
      if (r.mismatches >= 1000) return;
    }
  };
  run("", n_exh + opt.random_vectors);
  if (r.mismatches && !opt.trace_path.empty()) run(opt.trace_path, fail_step + 1);  // replay into the VCD
  r.seconds = detail::since(t0);
  return r;
}

// Integer weight-stationary PE: biased operands (detail::biased_operand) and partial
// sums that overflow half of the time (detail::biased_psum).
template <typename V>
CheckResult check_mac_ws(int wa, int wb, int acc_width, bool is_signed, bool saturate, const CheckOptions& opt) {
  return check_ws<V>(
      wa, wb, 0x4D5753u /* "MWS" */, opt,
      [=](const std::array<uint32_t, 8>& r, uint64_t, const uint64_t* a_fixed) {
        return std::array<uint64_t, 3>{a_fixed ? *a_fixed : detail::biased_operand(r[1], r[0] >> 9, wa),
                                       detail::biased_operand(r[2], r[0] >> 12, wb),
                                       detail::biased_psum(uint64_t{r[3]} << 32 | r[4], r[0] >> 15, acc_width, wa + wb)};
      },
      [=](uint64_t a, uint64_t w, uint64_t psum) {
        return arith::mac_ws_golden(a, w, psum, wa, wb, acc_width, is_signed, saturate);
      });
}

namespace detail {

// An FP partial sum for the weight-stationary FP PEs, given the product p (in psum_fmt)
// that will be added to it: 1/8 FP corners, 1/8 uniform codes, 1/8 exactly -p (exact
// cancellation to +0), 3/8 p's exponent with a random mantissa and sign (near
// cancellation, renormalisation, rounding carries), 1/4 detail::fp_operand.
inline uint64_t fp_psum(const arith::FloatFormat& f, uint64_t p, uint32_t r0, uint32_t r1) {
  const uint64_t m = mask(f.total_bits()), man = mask(f.man_bits), exp = m & ~man & ~uint64_t{f.sign_bit()};
  switch (r1 & 7u) {
    case 0: {
      const std::vector<uint64_t> c = fp_corners(f);
      return c[r0 % c.size()];
    }
    case 1: return r0 & m;
    case 2: return p ^ f.sign_bit();
    case 3:
    case 4:
    case 5: return (p & exp) | (r0 & (man | f.sign_bit()));
    default: return fp_operand(f, r0, r1 >> 3);
  }
}

}  // namespace detail

// FP8 weight-stationary PE: the exact product widened to FP32 plus an FP32 psum_i.
template <typename V>
CheckResult check_fp8_mac_ws(const arith::FloatFormat& fmt, const CheckOptions& opt) {
  const int w = fmt.total_bits();
  const arith::FloatFormat f32 = arith::fp32();
  return check_ws<V>(
      w, w, 0x465753u /* "FWS" */, opt,
      [&](const std::array<uint32_t, 8>& r, uint64_t wt, const uint64_t* a_fixed) {
        const uint64_t a = a_fixed ? *a_fixed : detail::fp_operand(fmt, r[1], r[4]), b = detail::fp_operand(fmt, r[2], r[4] >> 8);
        const uint64_t p = arith::fp_mul_golden(fmt, f32, uint32_t(a), uint32_t(wt));  // exact
        return std::array<uint64_t, 3>{a, b, detail::fp_psum(f32, p, r[3], r[5])};
      },
      [&](uint64_t a, uint64_t wt, uint64_t psum) {
        return arith::MacWsResult{arith::fp8_mac_golden(fmt, uint32_t(psum), uint32_t(a), uint32_t(wt)), false};
      });
}

// FP weight-stationary PE in one format: product and sum rounded to nearest even.
template <typename V>
CheckResult check_fp_mac_ws(const arith::FloatFormat& fmt, const CheckOptions& opt) {
  const int w = fmt.total_bits();
  return check_ws<V>(
      w, w, 0x505753u /* "PWS" */, opt,
      [&](const std::array<uint32_t, 8>& r, uint64_t wt, const uint64_t* a_fixed) {
        const uint64_t a = a_fixed ? *a_fixed : detail::fp_operand(fmt, r[1], r[4]), b = detail::fp_operand(fmt, r[2], r[4] >> 8);
        const uint64_t p = arith::fp_mul_rne_golden(fmt, uint32_t(a), uint32_t(wt));
        return std::array<uint64_t, 3>{a, b, detail::fp_psum(fmt, p, r[3], r[5])};
      },
      [&](uint64_t a, uint64_t wt, uint64_t psum) {
        return arith::MacWsResult{arith::fp_mac_golden(fmt, uint32_t(psum), uint32_t(a), uint32_t(wt)), false};
      });
}

// FP accumulator: random sequences of clear / enable / addends (random codes, half of
// them with the running sum's exponent so that cancellation and rounding happen).
template <typename V>
CheckResult check_fp_acc(const arith::FloatFormat& fmt, const CheckOptions& opt) {
  const auto t0 = std::chrono::steady_clock::now();
  const arith::RandomStream rng(opt.seed, 0x464143u);
  CheckResult r;
  uint64_t fail_step = 0;
  const uint64_t mask = detail::mask(fmt.total_bits());
  auto run = [&](const std::string& trace, uint64_t steps) {
    Clocked<V> tb(trace);
    if (trace.empty() && !tb.reset_holds(tb.after_first_reset, "start", r)) return;
    uint32_t gold = 0;
    for (uint64_t i = 0; i < steps; ++i) {
      const auto w = rng.block(i);
      if ((w[3] & 1023u) == 0) {  // an asynchronous reset before the cycle, 1/1024
        const std::string bad = tb.reset();
        gold = 0;
        if (trace.empty() && !tb.reset_holds(bad, "cycle " + std::to_string(i), r)) {
          fail_step = i;
          return;
        }
      }
      const bool clear = (w[0] & 63u) == 0, enable = (w[0] >> 6 & 7u) != 0;
      uint64_t in = w[1] & mask;
      if (w[0] >> 9 & 1u) in = ((gold ^ w[2]) & ((uint64_t{1} << fmt.man_bits) - 1)) | (gold & ~((uint64_t{1} << fmt.man_bits) - 1)) | (w[2] & fmt.sign_bit());
      tb.m->clear_i = clear;
      tb.m->en_i = enable;
      tb.m->in_i = in;
      tb.clock();
      if (clear)
        gold = 0;
      else if (enable)
        gold = arith::fp_add_golden(fmt, gold, uint32_t(in));
      if (!trace.empty()) continue;
      const uint64_t expect = gold ^ (r.vectors == opt.inject_mismatch_at), got = uint64_t(tb.m->acc_o);
      ++r.vectors;
      if (got == expect) continue;
      if (r.mismatches++ == 0) {
        fail_step = i;
        r.first_failure = "cycle " + std::to_string(i) + ": clear=" + std::to_string(clear) + " en=" +
                          std::to_string(enable) + " in=" + hex(in) + " expected acc=" + hex(expect) + " got acc=" + hex(got);
      }
      return;  // the sequence diverged: later cycles say nothing new
    }
  };
  run("", opt.random_vectors);
  if (r.mismatches && !opt.trace_path.empty()) run(opt.trace_path, fail_step + 1);
  r.seconds = detail::since(t0);
  return r;
}

// PANN unit: start with (x, R), clock until done, compare x·R and the cycle count R.
template <typename V>
CheckResult check_pann(int wx, int wr, const CheckOptions& opt) {
  const auto t0 = std::chrono::steady_clock::now();
  CheckResult r;
  Clocked<V> tb(opt.trace_path, Clocked<V>::reset_of(opt));
  if (!tb.reset_holds(tb.after_first_reset, "start", r)) {
    r.seconds = detail::since(t0);
    return r;
  }
  detail::operand_pairs(wx, wr, opt, [&](uint64_t x, uint64_t rep) {
    tb.m->start_i = 1;
    tb.m->x_i = x;
    tb.m->r_i = rep;
    tb.clock();
    tb.m->start_i = 0;
    uint64_t cycles = 0;
    while (!tb.m->done_o && cycles <= detail::mask(wr) + 1) {
      tb.clock();
      ++cycles;
    }
    ++r.vectors;
    const uint64_t expect = arith::pann_golden(x, rep), got = uint64_t(tb.m->result_o);
    if (got == expect && cycles == rep) return true;
    if (r.mismatches++ == 0)
      r.first_failure = "x=" + hex(x) + " R=" + hex(rep) + " expected result=" + hex(expect) + " after " +
                        std::to_string(rep) + " cycles, got result=" + hex(got) + " after " + std::to_string(cycles);
    return r.mismatches < 1000 && opt.trace_path.empty();  // with a trace, stop at the failure
  });
  r.seconds = detail::since(t0);
  return r;
}

// Whether check_pann_mac runs every (x, |w̃|, sign) job: when the two passes over them
// take no more than about 2^18 cycles.
inline bool pann_mac_exhaustive(int wx, int wr) { return wx + 2 * wr + 1 <= 18; }

// PANN processing element (pann_mac): every cycle's sums, done_o and the sticky
// overflow flag against arith::PannMacModel, and after every run of whole jobs since a
// clear the closed form (arith::pann_mac_golden: Σ x·w̃ per sign, wrapped or clamped,
// and 1 + Σ max(|w̃|, 1) cycles from the first start through the last addition, here
// the cycles the RTL took less the idle ones put between jobs). A job starts at the
// first edge done_o allows: on the last addition of the job before (count 1), or at a
// count of 0 after a job of w̃ = 0 or an idle cycle; a run ends with one edge without a
// start or clear (the last addition) before its sums are checked.
//  1. every (x, |w̃|, sign) as a job (pann_mac_exhaustive), back to back, twice over
//     without a clear, the second pass in another order, so that narrow sums wrap or
//     saturate;
//  2. runs of 1..512 random jobs after a clear, back to back with an idle cycle now and
//     then, x biased to its extremes and |w̃| to 0 and its maximum so that sums overflow;
//  3. random cycles: clear 1/512 (a start at the same edge half of those times), start
//     7/8 of the cycles when done (count 1: overlapping the last addition, or 0) and
//     1/32 while counting (count >= 2: one more addition, the rest dropped), fresh
//     random x_i, r_i, neg_i every cycle (a unit reading an input instead of its
//     register fails).
// Parts 2 and 3 share opt.random_vectors cycles.
template <typename V>
CheckResult check_pann_mac(int wx, int wr, int acc_width, bool saturate, const CheckOptions& opt) {
  const auto t0 = std::chrono::steady_clock::now();
  const arith::RandomStream rng(opt.seed, 0x504D43u /* "PMC" */);
  const uint64_t acc_mask = detail::mask(acc_width), x_mask = detail::mask(wx), r_max = detail::mask(wr);
  CheckResult r;
  Clocked<V> tb(opt.trace_path);
  arith::PannMacModel gold{acc_width, saturate};
  uint64_t cycle = 0, draw = 0;
  bool stop = false;
  auto fail = [&](const std::string& what) {
    if (r.mismatches++ == 0) r.first_failure = "cycle " + std::to_string(cycle) + ": " + what;
    stop = stop || r.mismatches >= 1000 || !opt.trace_path.empty();  // with a trace, stop at the failure
  };
  auto check_reset = [&](const std::string& bad) {
    ++r.vectors;
    if (!bad.empty()) fail("after reset " + bad);
  };
  check_reset(tb.after_first_reset);
  // One clock cycle, every output compared after the edge.
  auto step = [&](bool clear, bool start, uint64_t x, uint64_t rep, bool neg) {
    tb.m->clear_i = clear;
    tb.m->start_i = start;
    tb.m->x_i = x;
    tb.m->r_i = rep;
    tb.m->neg_i = neg;
    tb.clock();
    gold.clock(clear, start, x, rep, neg);
    const uint64_t e_pos = (gold.sum_pos & acc_mask) ^ (r.vectors == opt.inject_mismatch_at), e_neg = gold.sum_neg;
    const uint64_t g_pos = uint64_t(tb.m->sum_pos_o), g_neg = uint64_t(tb.m->sum_neg_o);
    const bool g_done = tb.m->done_o, g_ovf = tb.m->overflow_o;
    ++r.vectors;
    if (g_pos != e_pos || g_neg != e_neg || g_done != gold.done() || g_ovf != gold.overflow)
      fail("clear=" + std::to_string(clear) + " start=" + std::to_string(start) + " x=" + hex(x) + " r=" + hex(rep) +
           " neg=" + std::to_string(neg) + " expected sum_pos=" + hex(e_pos) + " sum_neg=" + hex(e_neg) + " done=" +
           std::to_string(gold.done()) + " ovf=" + std::to_string(gold.overflow) + " got sum_pos=" + hex(g_pos) +
           " sum_neg=" + hex(g_neg) + " done=" + std::to_string(g_done) + " ovf=" + std::to_string(g_ovf));
    ++cycle;
  };
  // Jobs since the last clear; the cycles from the run's first start, the idle cycles
  // between its jobs, and the idle cycles since its last job (the first is its end).
  std::vector<arith::PannJob> jobs;
  uint64_t run_cycles = 0, idles = 0, trailing = 0;
  auto clear = [&] {
    step(true, false, 0, 0, false);
    jobs.clear();
    run_cycles = idles = trailing = 0;
  };
  // A cycle without clear or start (inputs random, ignored).
  auto no_start = [&] {
    const auto w = rng.block(draw++);
    step(false, false, w[1] & x_mask, w[2] & r_max, w[3] & 1);
    if (!jobs.empty()) ++run_cycles;
  };
  // An idle cycle: once the run has begun, one cycle more than the closed form counts,
  // unless it is the run's last addition.
  auto idle = [&] {
    no_start();
    if (!jobs.empty()) ++trailing;
  };
  // One job: the start, then cycles without a start until done_o (its next start may come).
  auto job = [&](uint64_t x, uint64_t rep, bool neg) {
    idles += trailing;
    trailing = 0;
    step(false, true, x, rep, neg);
    jobs.push_back({x, neg ? -int64_t(rep) : int64_t(rep)});
    ++run_cycles;
    for (uint64_t n = 0; !tb.m->done_o && !stop; ++n) {
      if (n > r_max) {
        fail("job x=" + hex(x) + " r=" + hex(rep) + " not done after " + std::to_string(n) + " cycles");
        return;
      }
      no_start();
    }
  };
  // The run's last addition (an edge without a start), then the closed form.
  auto end_run = [&] {
    idle();
    if (stop) return;
    const arith::PannMacSums e = arith::pann_mac_golden(jobs, acc_width, saturate);
    const uint64_t g_pos = uint64_t(tb.m->sum_pos_o), g_neg = uint64_t(tb.m->sum_neg_o), cycles = run_cycles - idles;
    if (g_pos != e.sum_pos || g_neg != e.sum_neg || bool(tb.m->overflow_o) != e.overflow || cycles != e.cycles)
      fail("after " + std::to_string(jobs.size()) + " jobs since the clear, closed form sum_pos=" + hex(e.sum_pos) +
           " sum_neg=" + hex(e.sum_neg) + " ovf=" + std::to_string(e.overflow) + " in " + std::to_string(e.cycles) +
           " cycles, got sum_pos=" + hex(g_pos) + " sum_neg=" + hex(g_neg) + " ovf=" +
           std::to_string(int(tb.m->overflow_o)) + " in " + std::to_string(cycles) + " (" + std::to_string(idles) +
           " idle cycles between jobs not counted)");
  };
  auto magnitude = [&](uint32_t pick, uint32_t v) -> uint64_t {  // |w̃|: 1/8 zero, 1/4 max
    switch (pick & 7u) {
      case 0: return 0;
      case 1:
      case 2: return r_max;
      default: return v & r_max;
    }
  };

  // 1. Every job, twice.
  if (pann_mac_exhaustive(wx, wr)) {
    clear();
    const uint64_t n = uint64_t{1} << (wx + wr + 1);
    for (int pass = 0; pass < 2 && !stop; ++pass) {
      for (uint64_t i = 0; i < n && !stop; ++i) {
        const uint64_t k = pass == 0 ? i : (i * 0x9E3779B1u) & (n - 1);  // odd factor: a permutation
        job(k >> (wr + 1), k >> 1 & r_max, k & 1);
      }
      end_run();  // after the first pass an idle cycle between jobs
    }
  }
  // 2. Runs of random jobs after a clear.
  const uint64_t part3_from = cycle + opt.random_vectors / 2, end = cycle + opt.random_vectors;
  while (cycle < part3_from && !stop) {
    clear();
    const uint64_t n = 1 + (rng.block(draw++)[0] & 511u);
    for (uint64_t j = 0; j < n && !stop; ++j) {
      const auto w = rng.block(draw++);
      if ((w[0] >> 9 & 15u) == 0) idle();
      job(detail::biased_operand(w[1], w[0], wx), magnitude(w[0] >> 3, w[2]), w[0] >> 6 & 1);
    }
    end_run();
  }
  // 3. Random cycles, an asynchronous reset before 1/1024 of them.
  while (cycle < end && !stop) {
    const auto w = rng.block(draw++);
    if ((w[3] & 1023u) == 0) {
      gold = arith::PannMacModel{acc_width, saturate};
      check_reset(tb.reset());
      if (stop) break;
    }
    const bool clr = (w[0] & 511u) == 0;
    const bool start = clr ? (w[0] >> 9 & 1u) != 0 : gold.done() ? (w[0] >> 10 & 7u) != 0 : (w[0] >> 13 & 31u) == 0;
    step(clr, start, detail::biased_operand(w[1], w[0] >> 18, wx), magnitude(w[0] >> 21, w[2]), w[0] >> 24 & 1);
  }
  r.seconds = detail::since(t0);
  return r;
}

// --- LNS units (issue 17): lns_mac (A), lns_mac_bins (A'), lns_log_acc (B, C) ---------------
// Clocked beside arith's golden steps (lns_unit_a_step, lns_unit_a_bins, lns_log_step).
// Operands of <= 8 bits are covered exhaustively first (every code pair; for the log-domain
// sum also every pair of product values, the second added to the first), then
// opt.random_vectors random cycles: clear 1/64, enable 7/8, an asynchronous reset before
// 1/1024 of them (reset values checked), operands biased to zero, the largest and the
// smallest magnitudes so that the range ends are reached. A check that requires the
// overflow (A, A') or saturation, flush and cancellation paths (B, C) fails when its
// sequences never reached them; CheckResult::notes counts them.

namespace detail {

// A random L(W_e, b) code: 1/8 zero (+0 or -0), 1/8 the largest magnitude, 1/8 the
// smallest nonzero one, else any code.
inline uint64_t lns_operand(const arith::LnsFormat& f, uint32_t r, uint32_t pick) {
  const bool sign = (r >> 31) & 1u;
  switch (pick & 7u) {
    case 0: return (uint64_t(sign) << f.exp_bits) | arith::lns_zero(f);
    case 1: return arith::lns_pack(f, sign, f.e_max());
    case 2: return arith::lns_pack(f, sign, f.e_min());
    default: return r & mask(f.total_bits());
  }
}

// Operand codes whose product has log p (2·e_min <= p <= 2·e_max) and the given sign.
inline std::pair<uint64_t, uint64_t> lns_product_codes(const arith::LnsFormat& f, int64_t p, bool negative) {
  const int32_t ea = int32_t(std::max<int64_t>(f.e_min(), p - f.e_max())), eb = int32_t(p - ea);
  return {arith::lns_pack(f, negative, ea), arith::lns_pack(f, false, eb)};
}

inline std::string lns_notes(const std::vector<std::pair<const char*, uint64_t>>& events) {
  std::string s;
  for (const auto& [name, n] : events) s += (s.empty() ? "" : ", ") + std::string(name) + " " + std::to_string(n);
  return s;
}

}  // namespace detail

// Unit A: acc_o (AccWidth bits, wrapping) and the sticky overflow_o against
// arith::lns_unit_a_step. Exhaustive part: every (a, b) pair once, accumulated without a
// clear (each step checks acc + term, so every term is checked).
template <typename V>
CheckResult check_lns_mac(const arith::LnsFormat& f, int alpha, int acc_bits, bool require_overflow,
                          const CheckOptions& opt) {
  const auto t0 = std::chrono::steady_clock::now();
  const arith::LnsLinearAcc u(f, alpha, acc_bits);
  const int w = f.total_bits();
  const uint64_t n_exh = w <= 8 ? uint64_t{1} << (2 * w) : 0;
  const arith::RandomStream rng(opt.seed, 0x4C4E41u /* "LNA" */);
  CheckResult r;
  uint64_t fail_step = 0, overflowed = 0;
  auto run = [&](const std::string& trace, uint64_t steps) {
    Clocked<V> tb(trace);
    if (trace.empty() && !tb.reset_holds(tb.after_first_reset, "start", r)) return;
    arith::LnsAccResult gold;
    for (uint64_t i = 0; i < steps; ++i) {
      bool clear = false, en = true;
      uint64_t a = i >> w, b = i & detail::mask(w);
      if (i >= n_exh) {
        const auto x = rng.block(i);
        if ((x[3] & 1023u) == 0) {
          const std::string bad = tb.reset();
          gold = {};
          if (trace.empty() && !tb.reset_holds(bad, "cycle " + std::to_string(i), r)) {
            fail_step = i;
            return;
          }
        }
        clear = (x[0] & 63u) == 0;
        en = (x[0] >> 6 & 7u) != 0;
        a = detail::lns_operand(f, x[1], x[0] >> 9);
        b = detail::lns_operand(f, x[2], x[0] >> 12);
      }
      tb.m->clear_i = clear;
      tb.m->en_i = en;
      tb.m->a_i = a;
      tb.m->b_i = b;
      tb.clock();
      if (clear)
        gold = {};
      else if (en)
        gold = arith::lns_unit_a_step(u, gold, uint32_t(a), uint32_t(b));
      if (!trace.empty()) continue;
      overflowed += gold.overflow;
      const uint64_t expect = (uint64_t(gold.sum) & detail::mask(acc_bits)) ^ (r.vectors == opt.inject_mismatch_at);
      const uint64_t got = uint64_t(tb.m->acc_o);
      const bool got_ovf = tb.m->overflow_o;
      ++r.vectors;
      if (got == expect && got_ovf == gold.overflow) continue;
      if (r.mismatches++ == 0) {
        fail_step = i;
        r.first_failure = "cycle " + std::to_string(i) + ": clear=" + std::to_string(clear) + " en=" + std::to_string(en) +
                          " a=" + hex(a) + " b=" + hex(b) + " expected acc=" + hex(expect) + " ovf=" +
                          std::to_string(gold.overflow) + " got acc=" + hex(got) + " ovf=" + std::to_string(got_ovf);
      }
      if (r.mismatches >= 1000) return;
    }
  };
  run("", n_exh + opt.random_vectors);
  if (r.mismatches && !opt.trace_path.empty()) run(opt.trace_path, fail_step + 1);
  r.notes = detail::lns_notes({{"cycles with the overflow flag set", overflowed}});
  if (require_overflow && !overflowed && !r.mismatches) {
    r.mismatches = 1;
    r.first_failure = "coverage: no sequence overflowed the accumulator";
  }
  r.seconds = detail::since(t0);
  return r;
}

// Unit A': the read-out (acc_o, overflow_o, with read_i) against arith::lns_unit_a_bins of
// the products since the last clear or reset; 0 on both while read_i is low. A run is cut
// by a clear before its bins could wrap (2^(BinWidth-1-(q_max-q_min)) - 1 products, the
// capacity the unit is sized for). Exhaustive part: every (a, b) pair, in runs of that
// length, read every cycle. Random part: read 3/4 of the cycles; read_i is high across each
// reset, so that the reset bins show through the read-out.
template <typename V>
CheckResult check_lns_mac_bins(const arith::LnsFormat& f, int alpha, int acc_bits, int bin_bits, bool require_overflow,
                               const CheckOptions& opt) {
  const auto t0 = std::chrono::steady_clock::now();
  const arith::LnsLinearAcc u(f, alpha, acc_bits);
  const int w = f.total_bits();
  const int headroom = bin_bits - 1 - (u.q_max - u.q_min);
  CheckResult r;
  if (headroom < 1) {
    r.mismatches = 1;
    r.first_failure = "BinWidth " + std::to_string(bin_bits) + " holds no product of " + f.name();
    return r;
  }
  const uint64_t max_run = (uint64_t{1} << std::min(headroom, 20)) - 1;
  const uint64_t n_pairs = w <= 8 ? uint64_t{1} << (2 * w) : 0;
  const arith::RandomStream rng(opt.seed, 0x4C4E42u /* "LNB" */);
  uint64_t fail_step = 0, overflowed = 0;
  auto run = [&](const std::string& trace, uint64_t steps) {
    Clocked<V> tb(trace);
    tb.m->read_i = 1;
    if (trace.empty() && !tb.reset_holds(tb.reset(), "start", r)) return;
    std::vector<uint32_t> run_a, run_b;  // the enabled products since the last clear
    uint64_t pair = 0;
    for (uint64_t i = 0; i < steps; ++i) {
      bool clear = false, en = true, read = true;
      uint64_t a = 0, b = 0;
      if (pair < n_pairs) {
        if (run_a.size() == max_run) {
          clear = true;  // a cycle of its own: clear wins over the pair
        } else {
          a = pair >> w, b = pair & detail::mask(w);
          ++pair;
        }
      } else {
        const auto x = rng.block(i);
        if ((x[3] & 1023u) == 0) {
          tb.m->read_i = 1;
          const std::string bad = tb.reset();
          run_a.clear(), run_b.clear();
          if (trace.empty() && !tb.reset_holds(bad, "cycle " + std::to_string(i), r)) {
            fail_step = i;
            return;
          }
        }
        clear = (x[0] & 63u) == 0 || run_a.size() == max_run;
        en = (x[0] >> 6 & 7u) != 0;
        read = (x[0] >> 15 & 3u) != 0;
        a = detail::lns_operand(f, x[1], x[0] >> 9);
        b = detail::lns_operand(f, x[2], x[0] >> 12);
      }
      tb.m->clear_i = clear;
      tb.m->en_i = en;
      tb.m->read_i = read;
      tb.m->a_i = a;
      tb.m->b_i = b;
      tb.clock();
      if (clear) {
        run_a.clear(), run_b.clear();
      } else if (en) {
        run_a.push_back(uint32_t(a));
        run_b.push_back(uint32_t(b));
      }
      if (!trace.empty()) continue;
      arith::LnsAccResult gold;
      if (read) gold = arith::lns_unit_a_bins(u, run_a, run_b);
      overflowed += gold.overflow;
      const uint64_t expect = (uint64_t(gold.sum) & detail::mask(acc_bits)) ^ (r.vectors == opt.inject_mismatch_at);
      const uint64_t got = uint64_t(tb.m->acc_o);
      const bool got_ovf = tb.m->overflow_o;
      ++r.vectors;
      if (got == expect && got_ovf == gold.overflow) continue;
      if (r.mismatches++ == 0) {
        fail_step = i;
        r.first_failure = "cycle " + std::to_string(i) + ": clear=" + std::to_string(clear) + " en=" + std::to_string(en) +
                          " read=" + std::to_string(read) + " a=" + hex(a) + " b=" + hex(b) + " after " +
                          std::to_string(run_a.size()) + " products since the clear: expected acc=" + hex(expect) +
                          " ovf=" + std::to_string(gold.overflow) + " got acc=" + hex(got) + " ovf=" +
                          std::to_string(got_ovf);
      }
      if (r.mismatches >= 1000) return;
    }
  };
  // The exhaustive part's cycles: every pair plus one clear per full run.
  const uint64_t exh_cycles = n_pairs ? n_pairs + (n_pairs - 1) / max_run : 0;
  run("", exh_cycles + opt.random_vectors);
  if (r.mismatches && !opt.trace_path.empty()) run(opt.trace_path, fail_step + 1);
  r.notes = detail::lns_notes({{"reads with the overflow flag set", overflowed}, {"products per run at most", max_run}});
  if (require_overflow && !overflowed && !r.mismatches) {
    r.mismatches = 1;
    r.first_failure = "coverage: no read-out overflowed AccWidth";
  }
  r.seconds = detail::since(t0);
  return r;
}

// Units B and C: sum_o ({sign, e}, the most negative e = zero) and the sticky saturated_o
// against arith::lns_log_step. Exhaustive part (operands <= 8 bits): every (a, b) pair as
// the first term after a clear, then every ordered pair of product values (sign, p) as two
// terms after a clear. Random part: 1/8 of the products the exact negation of the sum
// (cancellation), 1/8 within two log steps of it with the opposite sign (near cancellation,
// flush to zero near the bottom), else biased random operands.
template <typename V>
CheckResult check_lns_log(const arith::LnsFormat& f, int acc_frac, int acc_exp_bits, bool mitchell, bool require_events,
                          const CheckOptions& opt) {
  const auto t0 = std::chrono::steady_clock::now();
  const arith::LnsLogAcc u(f, acc_frac, acc_exp_bits, mitchell);
  const int w = f.total_bits(), sh = acc_frac - f.frac_bits;
  const uint64_t zero_code = uint64_t{1} << (acc_exp_bits - 1);
  auto code = [&](const arith::LnsLogSum& s) {
    return s.zero ? zero_code : (uint64_t(s.negative) << acc_exp_bits) | (uint64_t(s.e) & detail::mask(acc_exp_bits));
  };
  const int64_t p_lo = 2 * int64_t(f.e_min()), p_hi = 2 * int64_t(f.e_max());
  const uint64_t n_values = 2 * uint64_t(p_hi - p_lo + 1);  // (sign, p) of a nonzero product
  const uint64_t n_pairs = w <= 8 ? uint64_t{1} << (2 * w) : 0;
  const uint64_t n_two = w <= 8 ? n_values * n_values : 0;
  const uint64_t exh_cycles = 2 * n_pairs + 3 * n_two;
  const arith::RandomStream rng(opt.seed, mitchell ? 0x4C4E43u : 0x4C4E44u);
  CheckResult r;
  uint64_t fail_step = 0, saturations = 0, flushes = 0, cancellations = 0;
  auto value_codes = [&](uint64_t v) { return detail::lns_product_codes(f, p_lo + int64_t(v >> 1), v & 1u); };
  auto run = [&](const std::string& trace, uint64_t steps) {
    Clocked<V> tb(trace);
    auto reset_ok = [&](const std::string& where) {  // the generic ports, then the sum's zero and the flag
      std::string bad = tb.reset();
      if (uint64_t(tb.m->sum_o) != zero_code || tb.m->saturated_o)
        bad += " sum_o=" + hex(uint64_t(tb.m->sum_o)) + " saturated_o=" + std::to_string(int(tb.m->saturated_o)) +
               " (reset values " + hex(zero_code) + ", 0)";
      return !trace.empty() || tb.reset_holds(bad, where, r);
    };
    if (!reset_ok("start")) return;
    arith::LnsLogSum gold;
    for (uint64_t i = 0; i < steps; ++i) {
      bool clear = false, en = true;
      uint64_t a = 0, b = 0;
      if (i < 2 * n_pairs) {
        clear = i % 2 == 0;
        a = (i / 2) >> w, b = (i / 2) & detail::mask(w);
      } else if (i < exh_cycles) {
        const uint64_t k = (i - 2 * n_pairs) / 3, phase = (i - 2 * n_pairs) % 3;
        clear = phase == 0;
        if (phase) std::tie(a, b) = value_codes(phase == 1 ? k / n_values : k % n_values);
      } else {
        const auto x = rng.block(i);
        if ((x[3] & 1023u) == 0) {
          gold = {};
          if (!reset_ok("cycle " + std::to_string(i))) {
            fail_step = i;
            return;
          }
        }
        clear = (x[0] & 63u) == 0;
        en = (x[0] >> 6 & 7u) != 0;
        a = detail::lns_operand(f, x[1], x[0] >> 9);
        b = detail::lns_operand(f, x[2], x[0] >> 12);
        const uint32_t pick = x[0] >> 15 & 7u;
        if (!gold.zero && pick <= 1) {  // (near) cancellation: the sum's log in product units
          const int64_t t = (gold.e >> sh) + (pick == 1 ? int64_t(x[3] >> 10 & 3u) - 1 - int64_t(x[3] >> 12 & 1u) : 0);
          if ((pick == 1 || (gold.e & ((int64_t{1} << sh) - 1)) == 0) && t >= p_lo && t <= p_hi)
            std::tie(a, b) = detail::lns_product_codes(f, t, !gold.negative);
        }
      }
      tb.m->clear_i = clear;
      tb.m->en_i = en;
      tb.m->a_i = a;
      tb.m->b_i = b;
      tb.clock();
      const arith::LnsLogSum before = gold;
      if (clear)
        gold = {};
      else if (en)
        gold = arith::lns_log_step(u, gold, uint32_t(a), uint32_t(b));
      if (!trace.empty()) continue;
      if (!clear && en && !before.zero && gold.zero) {
        const arith::LnsValue x = arith::lns_unpack(f, uint32_t(a)), y = arith::lns_unpack(f, uint32_t(b));
        ++(int64_t(x.e + y.e) << sh == before.e ? cancellations : flushes);
      }
      saturations += gold.saturated && !before.saturated;
      const uint64_t expect = code(gold) ^ (r.vectors == opt.inject_mismatch_at), got = uint64_t(tb.m->sum_o);
      const bool got_sat = tb.m->saturated_o;
      ++r.vectors;
      if (got == expect && got_sat == gold.saturated) continue;
      if (r.mismatches++ == 0) {
        fail_step = i;
        r.first_failure = "cycle " + std::to_string(i) + ": clear=" + std::to_string(clear) + " en=" + std::to_string(en) +
                          " a=" + hex(a) + " b=" + hex(b) + " on sum=" + hex(code(before)) + " expected sum=" +
                          hex(expect) + " sat=" + std::to_string(gold.saturated) + " got sum=" + hex(got) + " sat=" +
                          std::to_string(got_sat);
      }
      return;  // the sequence diverged: later cycles say nothing new
    }
  };
  run("", exh_cycles + opt.random_vectors);
  if (r.mismatches && !opt.trace_path.empty()) run(opt.trace_path, fail_step + 1);
  r.notes = detail::lns_notes({{"saturations", saturations}, {"flushes to zero", flushes}, {"cancellations", cancellations}});
  if (require_events && (!saturations || !flushes || !cancellations) && !r.mismatches) {
    r.mismatches = 1;
    r.first_failure = "coverage: the sequences did not reach every range path (" + r.notes + ")";
  }
  r.seconds = detail::since(t0);
  return r;
}

}  // namespace lpsim::rtl
