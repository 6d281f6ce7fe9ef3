// The systolic-array accelerator in SystemC (interface: sim/accelerator.h).
//
// Structure: one SystemC top module, elaborated once per process (SystemC cannot add
// modules after the first sc_start), holding a clock, a controller thread that tiles the
// current GEMM into folds, and ONE array thread that runs a fold cycle by cycle — all
// R×C PEs of a cycle in one activation, not a process per PE (a process per PE costs
// 25–85× in context switches). Three SRAM buffer modules count their accesses and bill
// them, at the cycle they happen, to the power trace. A run() sets the job and calls
// sc_start(); the controller sc_pause()s when the last fold is done.
//
// Semantics per cycle, two-phase like the RTL: every PE's inputs are computed from the
// registers as they were before the clock edge (the left neighbour's forwarded
// activation, the upper neighbour's partial sum, the edge buffers), then every enabled
// PE updates its registers through the golden model (arith::mac_ws_golden /
// arith::AccumulatorModel). The same inputs drive the PE's synthesised netlist in the
// bit-parallel gate simulator (64 PEs per machine word): the energy of every PE-cycle,
// idle ones included, is the netlist's own transitions. A group of 64 PEs whose inputs
// did not change and whose registers did not change at the last edge is skipped: it
// would count no transition (clock gating of an idle group is assumed: no clock-tree
// energy is modelled).
#include "sim/accelerator.h"

#include <systemc>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <mutex>

#include "arith/atomic_file.h"
#include "arith/error.h"
#include "arith/format.h"
#include "arith/fp_units.h"
#include "arith/int_units.h"
#include "power_models/gate_energy.h"
#include "power_models/gate_sim.h"
#include "power_models/memory_energy.h"
#include "power_models/resources.h"
#include "power_models/unit_energy.h"

// Debian's libsystemc is a shared library whose main() calls sc_main; lpsim has its own
// main() and starts the kernel with sc_start(), so this is never called.
int sc_main(int, char**) { return 0; }

namespace lpsim::sim {

Dataflow parse_dataflow(const std::string& s) {
  if (s == "weight_stationary" || s == "ws") return Dataflow::weight_stationary;
  if (s == "output_stationary" || s == "os") return Dataflow::output_stationary;
  throw InputError("dataflow must be weight_stationary (ws) or output_stationary (os), got '" + s + "'");
}

const char* dataflow_name(Dataflow d) {
  return d == Dataflow::weight_stationary ? "weight_stationary" : "output_stationary";
}

std::string PeSpec::label() const {
  if (fp8()) return format + " acc fp32";
  if (pann())
    return "uint" + std::to_string(a_bits) + "xpann r" + std::to_string(w_bits - 1) + " 2xacc" + std::to_string(acc_bits) +
           (saturate ? " sat" : "");
  if (luq()) return (a_bits == 5 ? std::string("uint4") : "int4") + "xluq4 acc" + std::to_string(acc_bits) + " shift";
  const std::string t = is_signed ? "int" : "uint";
  return t + std::to_string(a_bits) + "x" + std::to_string(w_bits) + " acc" + std::to_string(acc_bits) +
         (saturate ? " sat" : "") + " " + arch;
}

void AcceleratorSpec::validate() const {
  auto need = [](bool ok, const std::string& key, const std::string& what) {
    if (!ok) throw InputError(what, {}, key);
  };
  need(rows >= 1 && rows <= 1024, "accelerator.rows", "must be in [1, 1024], got " + std::to_string(rows));
  need(cols >= 1 && cols <= 1024, "accelerator.cols", "must be in [1, 1024], got " + std::to_string(cols));
  need(std::isfinite(clock_mhz) && clock_mhz > 0 && clock_mhz <= 1e5, "accelerator.clock_mhz",
       "must be a clock frequency in (0, 100000] MHz");
  need(ifmap_sram_bytes > 0, "accelerator.ifmap_sram_kb", "must be above 0");
  need(filter_sram_bytes > 0, "accelerator.filter_sram_kb", "must be above 0");
  need(ofmap_sram_bytes > 0, "accelerator.ofmap_sram_kb", "must be above 0");
  need(sram_port_bits >= 8 && sram_port_bits <= 4096, "accelerator.sram_port_bits", "must be in [8, 4096]");
  need(window_cycles >= 1, "accelerator.window_cycles", "must be at least 1");
  if (pe.pann()) {
    need(dataflow == Dataflow::output_stationary, "accelerator.dataflow",
         "a PANN PE (rtl/pann_mac) accumulates in place: output_stationary only");
    need(pe.a_bits >= 1 && pe.a_bits <= 16, "accelerator.pe.a_bits",
         "a PANN PE's unsigned activations must be 1..16 bits, got " + std::to_string(pe.a_bits));
    need(pe.w_bits >= 2 && pe.w_bits <= 9, "accelerator.pe.w_bits",
         "a PANN PE's weights |w̃| must fit 1..8 bits (w_bits 2..9 with the sign), got w_bits " + std::to_string(pe.w_bits));
    need(!pe.is_signed && pe.arch == "array", "accelerator.pe", "a PANN PE adds unsigned activations (no multiplier)");
    need(pe.acc_bits >= pe.a_bits && pe.acc_bits <= 62, "accelerator.pe.acc_bits",
         "must be in [a_bits, 62] = [" + std::to_string(pe.a_bits) + ", 62], got " + std::to_string(pe.acc_bits));
    return;
  }
  if (pe.luq()) {
    need(dataflow == Dataflow::output_stationary, "accelerator.dataflow",
         "a LUQ PE (rtl/luq_mac) accumulates in place: output_stationary only");
    need(pe.a_bits == 4 || pe.a_bits == 5, "accelerator.pe.a_bits",
         "a LUQ PE takes 4-bit signed activations, or 5 bits (an unsigned 4-bit code zero-extended), got " +
             std::to_string(pe.a_bits));
    need(pe.w_bits == 4 && pe.is_signed && !pe.saturate && pe.arch == "array", "accelerator.pe",
         "a LUQ PE takes radix-2 FP4 weights (w_bits 4) into a signed, wrapping accumulator");
    need(pe.acc_bits >= pe.a_bits + 7 && pe.acc_bits <= 62, "accelerator.pe.acc_bits",
         "must be in [a_bits + 7, 62] = [" + std::to_string(pe.a_bits + 7) + ", 62], got " + std::to_string(pe.acc_bits));
    return;
  }
  if (pe.fp8()) {
    need(pe.format == "fp8_e4m3" || pe.format == "fp8_e5m2", "accelerator.pe.format",
         "must be fp8_e4m3, fp8_e5m2 or luq4, got '" + pe.format + "'");
    need(pe.a_bits == 8 && pe.w_bits == 8 && pe.acc_bits == 32, "accelerator.pe",
         "an FP8 PE takes 8-bit codes into an FP32 accumulator");
    return;
  }
  need(pe.a_bits >= 2 && pe.a_bits <= 16, "accelerator.pe.a_bits", "must be in [2, 16]");
  need(pe.w_bits >= 2 && pe.w_bits <= 16, "accelerator.pe.w_bits", "must be in [2, 16]");
  need(pe.acc_bits >= pe.a_bits + pe.w_bits && pe.acc_bits <= 62, "accelerator.pe.acc_bits",
       "must be in [a_bits + w_bits, 62] = [" + std::to_string(pe.a_bits + pe.w_bits) + ", 62], got " +
           std::to_string(pe.acc_bits));
  need(pe.arch == "array" || pe.arch == "booth", "accelerator.pe.arch", "must be array or booth, got '" + pe.arch + "'");
}

namespace {

uint64_t ceil_div(uint64_t a, uint64_t b) { return (a + b - 1) / b; }
uint64_t mask_of(int bits) { return bits >= 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1; }

// An integer PE's product of two codes: a·w, or the LUQ unit's shift of a by w's exponent.
int64_t int_product(const PeSpec& pe, uint64_t a, uint64_t w) {
  return pe.luq() ? arith::luq_mul_golden(uint32_t(a), uint32_t(w), pe.a_bits)
                  : arith::operand_value(a, pe.a_bits, pe.is_signed) * arith::operand_value(w, pe.w_bits, pe.is_signed);
}

// A PANN weight code (w_bits two's complement) as the PE's ports see it: |w̃| and its sign.
struct PannWeight {
  uint64_t r = 0;
  bool neg = false;
};
PannWeight pann_weight(const PeSpec& pe, uint64_t code) {
  const int64_t w = arith::operand_value(code, pe.w_bits, true);
  return {uint64_t(w < 0 ? -w : w), w < 0};
}

// A PANN PE's output from its two unsigned sums: wrapping sums wrap the difference to a
// signed acc_bits value (arithmetic modulo 2^acc_bits); saturated sums are subtracted as
// they are (each below 2^62).
int64_t pann_out(const PeSpec& pe, uint64_t pos, uint64_t neg) {
  if (pe.saturate) return int64_t(pos) - int64_t(neg);
  return arith::operand_value((pos - neg) & mask_of(pe.acc_bits), pe.acc_bits, true);
}

}  // namespace

uint64_t scalesim_paper_cycles(Dataflow d, int R, int C, int64_t M, int64_t K, int64_t N) {
  if (d == Dataflow::weight_stationary)
    return ceil_div(K, R) * ceil_div(N, C) * uint64_t(2 * R + C + M - 2);
  return ceil_div(M, R) * ceil_div(N, C) * uint64_t(2 * R + C + K - 2);
}

uint64_t scalesim_code_cycles(Dataflow d, int R, int C, int64_t M, int64_t K, int64_t N) {
  if (d == Dataflow::weight_stationary) return scalesim_paper_cycles(d, R, C, M, K, N) - 1;
  return ceil_div(M, R) * ceil_div(N, C) * uint64_t(R + C + K - 2) - 1;
}

std::vector<int64_t> reference_gemm(const Gemm& g, const PeSpec& pe, uint64_t* overflows) {
  std::vector<int64_t> out(size_t(g.M * g.N));
  uint64_t ovf = 0;
  if (pe.pann()) {  // the closed form: Σ x·w̃ over each sign, no repeated addition
    std::vector<arith::PannJob> jobs(size_t(g.K));
    for (int64_t m = 0; m < g.M; ++m)
      for (int64_t n = 0; n < g.N; ++n) {
        for (int64_t k = 0; k < g.K; ++k)
          jobs[size_t(k)] = {g.a[m * g.K + k], arith::operand_value(g.w[k * g.N + n], pe.w_bits, true)};
        const arith::PannMacSums s = arith::pann_mac_golden(jobs, pe.acc_bits, pe.saturate);
        out[m * g.N + n] = pann_out(pe, s.sum_pos, s.sum_neg);
        ovf += s.overflow;
      }
    if (overflows) *overflows = ovf;
    return out;
  }
  if (pe.fp8()) {
    const arith::FloatFormat f = std::get<arith::FloatFormat>(arith::parse_format(pe.format));
    for (int64_t m = 0; m < g.M; ++m)
      for (int64_t n = 0; n < g.N; ++n) {
        uint32_t acc = 0;  // +0
        for (int64_t k = 0; k < g.K; ++k) acc = arith::fp8_mac_golden(f, acc, uint32_t(g.a[m * g.K + k]), uint32_t(g.w[k * g.N + n]));
        out[m * g.N + n] = acc;
      }
    if (overflows) *overflows = 0;
    return out;
  }
  for (int64_t m = 0; m < g.M; ++m)
    for (int64_t n = 0; n < g.N; ++n) {
      arith::AccumulatorModel acc{pe.acc_bits, pe.is_signed, pe.saturate};
      for (int64_t k = 0; k < g.K; ++k) {
        acc.clock(false, true, int_product(pe, g.a[m * g.K + k], g.w[k * g.N + n]));
        ovf += acc.overflow;
      }
      out[m * g.N + n] = acc.value;
    }
  if (overflows) *overflows = ovf;
  return out;
}

uint64_t window_length(const GemmResult& r, size_t i, int window_cycles) {
  return std::min<uint64_t>(uint64_t(window_cycles), r.cycles - i * uint64_t(window_cycles));
}

PowerSummary power_summary(const GemmResult& r, int window_cycles, double clock_mhz) {
  PowerSummary s;
  if (r.cycles == 0) return s;
  const double ns_per_cycle = 1e3 / clock_mhz;
  s.avg_mw = r.energy_pj() / (double(r.cycles) * ns_per_cycle);  // pJ/ns = mW
  for (size_t i = 0; i < r.window_energy_pj.size(); ++i)
    s.peak_mw = std::max(s.peak_mw, r.window_energy_pj[i] / (double(window_length(r, i, window_cycles)) * ns_per_cycle));
  return s;
}

// ---------------------------------------------------------------------------------------
// The PE array: registers, golden updates, gate-level pricing.

struct PeInputs {  // what one PE's ports see in one cycle
  uint64_t a = 0, b = 0, psum = 0;
  bool en = false, load = false, clear = false;
  bool operator==(const PeInputs& o) const {
    return a == o.a && b == o.b && psum == o.psum && en == o.en && load == o.load && clear == o.clear;
  }
};

struct Accelerator::Impl {
  AcceleratorSpec spec;
  bool ws = true;
  // Gate level
  power::Netlist netlist;
  std::vector<std::unique_ptr<power::GateSim>> groups;  // 64 PEs each
  std::vector<char> group_dirty;
  double pe_area = 0, pe_nand2 = 0, pe_leak_nw = 0;
  // SRAM prices
  power::SramEnergy ifmap_e, filter_e, ofmap_e;
  // PE state
  int R = 0, C = 0;
  std::vector<uint64_t> w_reg, a_reg, b_reg, psum_reg;  // b_reg: output-stationary weight forwarding
  std::vector<arith::AccumulatorModel> acc;             // output-stationary accumulators (integer)
  std::vector<uint32_t> fp_acc;                         // output-stationary accumulators (FP8 PE: FP32 codes)
  std::vector<arith::PannMacModel> pann_pe;             // PANN PEs (two sums, the count of additions left)
  arith::FloatFormat fp8_format{};                      // FP8 PE: the operand format
  std::vector<PeInputs> in, prev_in;
  std::vector<uint64_t> golden_regs;  // verify_gates: the golden registers after the last edge
  std::vector<uint64_t> golden_neg;   // verify_gates, PANN: the negative-weight sums
  std::vector<uint64_t> left_in, top_in;  // edge buffers (skewed)
  // The job
  const Gemm* g = nullptr;
  GemmResult* res = nullptr;
  const std::function<void(uint64_t, uint64_t)>* progress = nullptr;
  std::vector<int64_t> partial;  // M×N: partial sums between K folds (weight-stationary), raw codes
  // Per-cycle accounting
  double cycle_energy_pj = 0;

  void reset_state() {
    const size_t P = size_t(R) * C;
    w_reg.assign(P, 0), a_reg.assign(P, 0), b_reg.assign(P, 0), psum_reg.assign(P, 0);
    acc.assign(P, arith::AccumulatorModel{spec.pe.acc_bits, spec.pe.is_signed, spec.pe.saturate});
    fp_acc.assign(P, 0);
    pann_pe.assign(P, arith::PannMacModel{spec.pe.acc_bits, spec.pe.saturate});
    in.assign(P, {}), prev_in.assign(P, {}), golden_regs.assign(P, 0), golden_neg.assign(P, 0);
    left_in.assign(R, 0), top_in.assign(C, 0);
  }

  void sram(SramTraffic& t, const power::SramEnergy& e, uint64_t read_bits, uint64_t write_bits) {
    const uint64_t r = ceil_div(read_bits, uint64_t(spec.sram_port_bits));
    const uint64_t w = ceil_div(write_bits, uint64_t(spec.sram_port_bits));
    t.reads += r, t.writes += w;
    const double pj = double(r) * e.read_pj + double(w) * e.write_pj;
    t.energy_pj += pj;
    cycle_energy_pj += pj;
  }

  // Prices this cycle's inputs at the gates, then closes the cycle's accounting.
  void price_and_close_cycle() {
    if (spec.gate_level) {
      const size_t P = in.size();
      std::fill(group_dirty.begin(), group_dirty.end(), 0);
      for (size_t p = 0; p < P; ++p)
        if (!(in[p] == prev_in[p])) group_dirty[p / 64] = 1;
      for (size_t gi = 0; gi < groups.size(); ++gi) {
        power::GateSim& s = *groups[gi];
        if (!group_dirty[gi] && !s.state_changed()) continue;
        power::LaneValues a{}, b{}, c{}, en{}, ld{};
        const size_t p0 = gi * 64;
        for (size_t l = 0; l < 64; ++l) {
          const size_t p = p0 + l;
          const PeInputs& x = p < P ? in[p] : PeInputs{};
          a[l] = x.a, b[l] = x.b, c[l] = x.psum, en[l] = x.en, ld[l] = ws ? x.load : x.clear;
          if (spec.pe.pann()) {  // pann_mac's ports: x_i = a, r_i = |w̃| and neg_i (b), start_i = en
            const PannWeight pw = pann_weight(spec.pe, x.b);
            b[l] = pw.r, c[l] = pw.neg;
          }
        }
        if (spec.pe.pann()) {
          s.set_input("x_i", a);
          s.set_input("r_i", b);
          s.set_input("neg_i", c);
          s.set_input("start_i", en);
          s.set_input("clear_i", ld);
        } else {
          s.set_input("a_i", a);
          s.set_input("b_i", b);
          s.set_input("en_i", en);
          if (ws) {
            s.set_input("psum_i", c);
            s.set_input("w_load_i", ld);
          } else {
            s.set_input("clear_i", ld);
          }
        }
        s.step();
        res->pe_steps_simulated += 64;
        if (spec.verify_gates) {  // this step evaluated the registers of the edge before
          const power::LaneValues q = s.output(ws ? "psum_o" : spec.pe.pann() ? "sum_pos_o" : "acc_o");
          for (size_t l = 0; l < 64 && p0 + l < P; ++l) res->gate_mismatches += q[l] != golden_regs[p0 + l];
          if (spec.pe.pann()) {
            const power::LaneValues qn = s.output("sum_neg_o");
            for (size_t l = 0; l < 64 && p0 + l < P; ++l) res->gate_mismatches += qn[l] != golden_neg[p0 + l];
          }
        }
        const double pj = s.last_step_cost() * 1e-3;
        res->mac_energy_pj += pj;
        cycle_energy_pj += pj;
      }
      if (spec.verify_gates)
        for (size_t p = 0; p < P; ++p) golden_regs[p] = out_reg(p), golden_neg[p] = pann_pe[p].sum_neg;
      prev_in = in;  // inputs hold (in is kept) unless the next cycle changes them
      const double leak = pe_leak_nw * double(P) * (1e3 / spec.clock_mhz) * 1e-6;  // nW·ns = 1e-6 pJ
      res->leakage_pj += leak;
      cycle_energy_pj += leak;
    }
    if (spec.trace_pes > 0) {
      std::vector<PeTrace> row;
      for (size_t p = 0; p < std::min(in.size(), size_t(spec.trace_pes)); ++p) {
        const PeInputs& x = in[p];  // this cycle's inputs
        row.push_back({x.a, x.b, x.psum, out_reg(p), pann_pe[p].sum_neg, x.en, x.load, x.clear});
      }
      res->trace.push_back(std::move(row));
    }
    if (res->cycles % uint64_t(spec.window_cycles) == 0) res->window_energy_pj.push_back(0);  // a window starts
    res->window_energy_pj.back() += cycle_energy_pj;
    cycle_energy_pj = 0;
    ++res->cycles;
  }

  size_t pe(int r, int c) const { return size_t(r) * C + c; }

  // The PE's arithmetic, integer or FP8 (the golden models of arith).
  arith::MacWsResult ws_step(uint64_t a, uint64_t w, uint64_t psum) const {
    const PeSpec& S = spec.pe;
    if (S.fp8()) return {arith::fp8_mac_golden(fp8_format, uint32_t(psum), uint32_t(a), uint32_t(w)), false};
    return arith::mac_ws_golden(a, w, psum, S.a_bits, S.w_bits, S.acc_bits, S.is_signed, S.saturate);
  }
  bool os_step(size_t p, uint64_t a, uint64_t b) {  // returns the overflow flag
    const PeSpec& S = spec.pe;
    if (S.fp8()) {
      fp_acc[p] = arith::fp8_mac_golden(fp8_format, fp_acc[p], uint32_t(a), uint32_t(b));
      return false;
    }
    acc[p].clock(false, true, int_product(S, a, b));
    return acc[p].overflow;
  }
  void os_clear(size_t p) {
    if (spec.pe.pann())
      pann_pe[p].clock(true, false, 0, 0, false);
    else if (spec.pe.fp8())
      fp_acc[p] = 0;
    else
      acc[p].clock(true, false, 0);
  }
  uint64_t os_code(size_t p) const {  // the accumulator register's bits
    return spec.pe.fp8() ? fp_acc[p] : uint64_t(acc[p].value) & mask_of(spec.pe.acc_bits);
  }
  uint64_t out_reg(size_t p) const {  // the PE's output register (PANN: the positive-weight sum)
    return ws ? psum_reg[p] : spec.pe.pann() ? pann_pe[p].sum_pos : os_code(p);
  }
  int64_t value_of(uint64_t code) const {  // an output: integer value, or the FP32 code
    return spec.pe.fp8() ? int64_t(code) : arith::operand_value(code, spec.pe.acc_bits, spec.pe.is_signed);
  }
  int64_t os_result(size_t p) const {  // an output-stationary PE's result (PANN: pos − neg)
    return spec.pe.pann() ? pann_out(spec.pe, pann_pe[p].sum_pos, pann_pe[p].sum_neg) : value_of(os_code(p));
  }

  // ---- weight-stationary fold: rows k0.., columns n0..
  template <typename Wait>
  void ws_fold(int64_t k0, int64_t n0, int kt, Wait wait_cycle) {
    const Gemm& G = *g;
    const PeSpec& S = spec.pe;
    const int Ru = int(std::min<int64_t>(R, G.K - k0)), Cu = int(std::min<int64_t>(C, G.N - n0));
    // Weight load: row j in cycle j (padding rows beyond K load zero).
    for (int j = 0; j < R; ++j) {
      for (PeInputs& x : in) x.en = false, x.load = false;
      for (int c = 0; c < Cu; ++c) {
        const size_t p = pe(j, c);
        in[p].b = j < Ru ? G.w[(k0 + j) * G.N + n0 + c] : 0;  // the weight bus holds it after
        in[p].load = true;
        w_reg[p] = in[p].b;  // used from the next cycle on
      }
      if (j < Ru) sram(res->filter, filter_e, uint64_t(Cu) * S.w_bits, 0);
      price_and_close_cycle();
      wait_cycle();
    }
    for (auto& x : in) x.load = false;
    // Streaming: PE(r, c) works on input row m = t − r − c.
    const int64_t T = G.M + R + Cu - 2;
    for (int64_t t = 0; t < T; ++t) {
      if (t < G.M) sram(res->ifmap, ifmap_e, uint64_t(Ru) * S.a_bits, 0);
      for (int r = 0; r < R; ++r) {
        const int64_t m = t - r;
        if (m >= 0 && m < G.M) left_in[r] = r < Ru ? G.a[m * G.K + k0 + r] : 0;
      }
      uint64_t psum_reads = 0;
      for (int c = 0; c < Cu; ++c) {
        const int64_t m = t - c;
        if (m >= 0 && m < G.M) {
          top_in[c] = kt == 0 ? 0 : uint64_t(partial[m * G.N + n0 + c]) & mask_of(S.acc_bits);
          psum_reads += kt > 0;
        }
      }
      if (psum_reads) sram(res->ofmap, ofmap_e, psum_reads * S.acc_bits, 0);
      // Inputs from the registers before the edge.
      for (int r = 0; r < R; ++r)
        for (int c = 0; c < C; ++c) {
          PeInputs& x = in[pe(r, c)];
          x.a = c == 0 ? left_in[r] : a_reg[pe(r, c - 1)];
          x.psum = r == 0 ? (c < Cu ? top_in[c] : x.psum) : psum_reg[pe(r - 1, c)];
          const int64_t m = t - r - c;
          x.en = c < Cu && m >= 0 && m < G.M;
        }
      // The edge: every enabled PE through the golden model.
      uint64_t writes = 0;
      for (int r = 0; r < R; ++r)
        for (int c = 0; c < Cu; ++c) {
          const PeInputs& x = in[pe(r, c)];
          if (!x.en) continue;
          const arith::MacWsResult o = ws_step(x.a, w_reg[pe(r, c)], x.psum);
          psum_reg[pe(r, c)] = o.psum;
          a_reg[pe(r, c)] = x.a;
          if (r < Ru) {
            ++res->macs;
            res->overflows += o.overflow;
          }
          if (r == R - 1) {  // leaves the column: the output buffer holds it
            partial[(t - r - c) * G.N + n0 + c] = value_of(o.psum);
            ++writes;
          }
        }
      if (writes) sram(res->ofmap, ofmap_e, 0, writes * S.acc_bits);
      price_and_close_cycle();
      wait_cycle();
    }
  }

  // ---- output-stationary step t of the fold m0.. × n0.. (Ru × Cu PEs in use): the
  // buffers' reads, the skewed edge values, and every PE's ports from its neighbours'
  // forwarding registers; en: PE(r, c) has the job k = t − r − c.
  void os_inputs(int64_t t, int64_t m0, int64_t n0, int Ru, int Cu) {
    const Gemm& G = *g;
    const PeSpec& S = spec.pe;
    if (t < G.K) {
      sram(res->ifmap, ifmap_e, uint64_t(Ru) * S.a_bits, 0);
      sram(res->filter, filter_e, uint64_t(Cu) * S.w_bits, 0);
    }
    for (int r = 0; r < Ru; ++r) {
      const int64_t k = t - r;
      if (k >= 0 && k < G.K) left_in[r] = G.a[(m0 + r) * G.K + k];
    }
    for (int c = 0; c < Cu; ++c) {
      const int64_t k = t - c;
      if (k >= 0 && k < G.K) top_in[c] = G.w[k * G.N + n0 + c];
    }
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < C; ++c) {
        PeInputs& x = in[pe(r, c)];
        x.a = c == 0 ? left_in[r] : a_reg[pe(r, c - 1)];
        x.b = r == 0 ? top_in[c] : b_reg[pe(r - 1, c)];
        const int64_t k = t - r - c;
        x.en = r < Ru && c < Cu && k >= 0 && k < G.K;
        x.clear = false;
      }
  }

  // ---- output-stationary fold: outputs m0.. × n0..
  template <typename Wait>
  void os_fold(int64_t m0, int64_t n0, Wait wait_cycle) {
    const Gemm& G = *g;
    const int Ru = int(std::min<int64_t>(R, G.M - m0)), Cu = int(std::min<int64_t>(C, G.N - n0));
    const int64_t T = G.K + Ru + Cu - 2;
    for (int64_t t = 0; t < T; ++t) {
      os_inputs(t, m0, n0, Ru, Cu);
      for (int r = 0; r < Ru; ++r)
        for (int c = 0; c < Cu; ++c) {
          const PeInputs& x = in[pe(r, c)];
          if (!x.en) continue;
          res->overflows += os_step(pe(r, c), x.a, x.b);
          ++res->macs;
          a_reg[pe(r, c)] = x.a;
          b_reg[pe(r, c)] = x.b;
        }
      price_and_close_cycle();
      wait_cycle();
    }
    os_drain(m0, n0, Ru, Cu, wait_cycle);
  }

  // ---- output-stationary drain of the fold m0.. × n0..: the results shift down the
  // columns, a row per cycle; the first drain cycle clears the accumulators (their values
  // are in the drain registers).
  template <typename Wait>
  void os_drain(int64_t m0, int64_t n0, int Ru, int Cu, Wait wait_cycle) {
    const Gemm& G = *g;
    const PeSpec& S = spec.pe;
    for (int d = 0; d < R; ++d) {
      for (int r = 0; r < R; ++r)
        for (int c = 0; c < C; ++c) {
          PeInputs& x = in[pe(r, c)];
          x.en = false;
          x.clear = d == 0 && r < Ru && c < Cu;
        }
      if (d == 0)
        for (int r = 0; r < Ru; ++r)
          for (int c = 0; c < Cu; ++c) {
            res->out[(m0 + r) * G.N + n0 + c] = os_result(pe(r, c));
            os_clear(pe(r, c));
          }
      if (d < Ru) sram(res->ofmap, ofmap_e, 0, uint64_t(Cu) * S.acc_bits);
      price_and_close_cycle();
      wait_cycle();
    }
    for (auto& x : in) x.clear = false;
  }

  // ---- PANN, output-stationary: outputs m0.. × n0.., in lock-step beats. Beat t starts
  // every working PE's job k = t − r − c together (start_i), and lasts the largest |w̃|
  // among them, at least one cycle: the array waits for every PE's done_o. pann_mac takes
  // a start on a job's last addition, so a PE whose |w̃| fills the beat adds on every cycle.
  // After the last beat, one edge for the last additions; then the drain, as os_fold's.
  // overflows: outputs whose sums wrapped or saturated (the PE's sticky flag rising).
  template <typename Wait>
  void pann_fold(int64_t m0, int64_t n0, Wait wait_cycle) {
    const Gemm& G = *g;
    const PeSpec& S = spec.pe;
    const int Ru = int(std::min<int64_t>(R, G.M - m0)), Cu = int(std::min<int64_t>(C, G.N - n0));
    const size_t P = in.size();
    auto edge = [&] {  // every PE's registers through the golden model, this cycle's inputs
      for (size_t p = 0; p < P; ++p) {
        const PannWeight pw = pann_weight(S, in[p].b);
        const bool flagged = pann_pe[p].overflow;
        res->pann_additions += pann_pe[p].clock(in[p].clear, in[p].en, in[p].a, pw.r, pw.neg);
        res->overflows += !flagged && pann_pe[p].overflow;
      }
      price_and_close_cycle();
      wait_cycle();
    };
    const int64_t T = G.K + Ru + Cu - 2;
    for (int64_t t = 0; t < T; ++t) {
      os_inputs(t, m0, n0, Ru, Cu);
      uint64_t beat = 1;
      for (size_t p = 0; p < P; ++p) {
        PeInputs& x = in[p];
        if (!x.en) continue;  // en: PE p has a job this beat
        a_reg[p] = x.a, b_reg[p] = x.b;  // the forwarding registers move once per beat
        const uint64_t mag = pann_weight(S, x.b).r;
        beat = std::max(beat, mag), ++res->macs;
        x.en = mag > 0;  // start_i: a zero weight is not started, its PE only forwards
      }
      edge();
      for (auto& x : in) x.en = false;  // the rest of the beat: the PEs count their additions
      for (uint64_t j = 1; j < beat; ++j) edge();
    }
    edge();  // the jobs of the last beat: their last additions
    os_drain(m0, n0, Ru, Cu, wait_cycle);
  }

  uint64_t fold_count() const {
    const Gemm& G = *g;
    return ws ? ceil_div(G.K, R) * ceil_div(G.N, C) : ceil_div(G.M, R) * ceil_div(G.N, C);
  }

  template <typename Wait>
  void run_fold(uint64_t f, Wait wait_cycle) {
    const Gemm& G = *g;
    if (ws) {  // N tiles outer, K folds inner: a column's partial sums finish before the next tile
      const uint64_t kf = ceil_div(G.K, R);
      const int64_t nt = int64_t(f / kf), kt = int64_t(f % kf);
      ws_fold(kt * R, nt * C, int(kt), wait_cycle);
      if (kt + 1 == int64_t(kf))
        for (int64_t m = 0; m < G.M; ++m)
          for (int64_t n = nt * C; n < std::min<int64_t>(G.N, (nt + 1) * C); ++n) res->out[m * G.N + n] = partial[m * G.N + n];
    } else {
      const uint64_t nf = ceil_div(G.N, C);
      if (spec.pe.pann())
        pann_fold(int64_t(f / nf) * R, int64_t(f % nf) * C, wait_cycle);
      else
        os_fold(int64_t(f / nf) * R, int64_t(f % nf) * C, wait_cycle);
    }
  }
};

// ---------------------------------------------------------------------------------------
// SystemC structure.

namespace {

SC_MODULE(AcceleratorTop) {
  sc_core::sc_clock clk;
  sc_core::sc_fifo<uint64_t> fold_cmd;   // controller → array: fold index
  sc_core::sc_fifo<uint64_t> fold_done;  // array → controller
  Accelerator::Impl* job = nullptr;

  SC_CTOR(AcceleratorTop) : clk("clk", 1, sc_core::SC_NS), fold_cmd(1), fold_done(1) {
    SC_THREAD(controller);
    SC_THREAD(array);
    sensitive << clk.posedge_event();
    dont_initialize();
  }

  // Tiles the job into folds, one at a time, then pauses the kernel until the next run().
  void controller() {
    for (;;) {
      if (job) {
        const uint64_t folds = job->fold_count();
        for (uint64_t f = 0; f < folds; ++f) {
          fold_cmd.write(f);
          fold_done.read();
          ++job->res->folds;
          if (job->progress && *job->progress) (*job->progress)(f + 1, folds);
        }
        job = nullptr;
      }
      sc_core::sc_pause();
      wait(sc_core::SC_ZERO_TIME);
    }
  }

  // The whole array: one activation per clock cycle.
  void array() {
    for (;;) {
      const uint64_t f = fold_cmd.read();
      wait();  // align to a clock edge
      job->run_fold(f, [this] { wait(); });
      fold_done.write(f);
    }
  }
};

std::mutex g_kernel_mutex;  // one SystemC kernel per process: runs are serialised

AcceleratorTop& top() {
  static AcceleratorTop* t = [] {
    setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
    // SystemC's report handler would print "Info: (I804) /IEEE_Std_1666/deprecated" etc.
    sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
    sc_core::sc_report_handler::set_actions(sc_core::SC_WARNING, sc_core::SC_DO_NOTHING);
    return new AcceleratorTop("lpsim_accelerator");
  }();
  return *t;
}

}  // namespace

Accelerator::Accelerator(AcceleratorSpec spec, const power::CellLibrary& lib, std::filesystem::path rtl_dir,
                         std::filesystem::path cache_dir)
    : impl_(std::make_unique<Impl>()) {
  spec.validate();
  Impl& I = *impl_;
  I.spec = spec;
  I.ws = spec.dataflow == Dataflow::weight_stationary;
  I.R = spec.rows, I.C = spec.cols;
  if (spec.pe.fp8()) I.fp8_format = std::get<arith::FloatFormat>(arith::parse_format(spec.pe.format));
  I.reset_state();
  const power::MemoryTable table = power::load_memory_table(power::default_memory_table_path());
  I.ifmap_e = power::sram_energy(table, spec.ifmap_sram_bytes, spec.sram_port_bits, spec.sram_source);
  I.filter_e = power::sram_energy(table, spec.filter_sram_bytes, spec.sram_port_bits, spec.sram_source);
  I.ofmap_e = power::sram_energy(table, spec.ofmap_sram_bytes, spec.sram_port_bits, spec.sram_source);
  if (spec.gate_level) {
    power::UnitEnergyRequest req;
    req.unit = spec.pe.pann() ? "pann_mac" : spec.pe.luq() ? "luq_mac" : spec.pe.fp8() ? (I.ws ? "fp8_mac_ws" : "fp8_mac") : (I.ws ? "mac_ws" : "mac");
    req.format = spec.pe.format;
    req.arch = spec.pe.arch;
    req.a_bits = spec.pe.a_bits, req.b_bits = spec.pe.pann() ? spec.pe.w_bits - 1 : spec.pe.w_bits;
    req.acc_bits = spec.pe.acc_bits;
    req.is_signed = spec.pe.is_signed;
    power::UnitEnergyReport mod = power::unit_module(req);
    if (!spec.pe.fp8()) mod.params["Saturate"] = spec.pe.saturate ? "1" : "0";
    I.netlist = power::unit_netlist({mod.module, mod.params, rtl_dir, cache_dir});
    const power::UnitArea area = power::unit_area(I.netlist, lib);
    I.pe_area = area.area_um2, I.pe_nand2 = area.nand2_equivalents, I.pe_leak_nw = area.leakage_nw;
    const std::vector<double> cost = power::transition_energy_fj(I.netlist, lib);
    const size_t n_groups = ceil_div(uint64_t(I.R) * I.C, 64);
    power::LaneValues ones{};
    ones.fill(1);
    for (size_t i = 0; i < n_groups; ++i) {
      auto s = std::make_unique<power::GateSim>(I.netlist);
      s->set_transition_costs(cost);
      s->set_input("rst_ni", ones);
      s->step();  // the registers' reset state, all inputs 0 (the first step counts nothing)
      I.groups.push_back(std::move(s));
    }
    I.group_dirty.assign(n_groups, 0);
  }
}

Accelerator::~Accelerator() = default;
const AcceleratorSpec& Accelerator::spec() const { return impl_->spec; }
double Accelerator::pe_area_um2() const { return impl_->pe_area; }
double Accelerator::pe_nand2() const { return impl_->pe_nand2; }
double Accelerator::pe_leakage_nw() const { return impl_->pe_leak_nw; }
std::string Accelerator::sram_citation() const {
  const Impl& I = *impl_;
  return "ifmap " + I.ifmap_e.citation + "; filter " + I.filter_e.citation + "; ofmap " + I.ofmap_e.citation;
}

GemmResult Accelerator::run(const Gemm& g, const std::function<void(uint64_t, uint64_t)>& progress) {
  Impl& I = *impl_;
  const PeSpec& S = I.spec.pe;
  const std::string where = g.name.empty() ? std::string("GEMM") : "layer " + g.name;
  if (g.M <= 0 || g.K <= 0 || g.N <= 0) throw InputError("M, K and N must be positive", where);
  if (g.a.size() != size_t(g.M * g.K) || g.w.size() != size_t(g.K * g.N))
    throw InputError("operands are not M×K and K×N (" + std::to_string(g.a.size()) + " and " +
                         std::to_string(g.w.size()) + " codes)", where);
  for (uint64_t v : g.a)
    if (v & ~mask_of(S.a_bits)) throw InputError("an activation code does not fit a_bits = " + std::to_string(S.a_bits), where);
  for (uint64_t v : g.w) {
    if (v & ~mask_of(S.w_bits)) throw InputError("a weight code does not fit w_bits = " + std::to_string(S.w_bits), where);
    if (S.pann() && pann_weight(S, v).r > mask_of(S.w_bits - 1))
      throw InputError("a PANN weight |w̃| = " + std::to_string(pann_weight(S, v).r) + " does not fit the PE's " +
                           std::to_string(S.w_bits - 1) + "-bit count of additions",
                       where);
  }

  std::lock_guard<std::mutex> lock(g_kernel_mutex);
  GemmResult res;
  res.out.assign(size_t(g.M * g.N), 0);
  I.g = &g, I.res = &res, I.progress = &progress;
  I.partial.assign(I.ws ? size_t(g.M * g.N) : 0, 0);  // the PE registers keep their values across runs
  I.cycle_energy_pj = 0;
  const auto t0 = std::chrono::steady_clock::now();
  AcceleratorTop& t = top();
  t.job = &I;
  sc_core::sc_start();
  if (t.job) throw std::logic_error("the SystemC kernel paused before the layer finished");
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  res.scalesim_cycles = scalesim_code_cycles(I.spec.dataflow, I.R, I.C, g.M, g.K, g.N);
  res.paper_cycles = scalesim_paper_cycles(I.spec.dataflow, I.R, I.C, g.M, g.K, g.N);
  res.utilization = double(res.macs) / (double(res.cycles) * I.R * I.C);
  I.g = nullptr, I.res = nullptr, I.progress = nullptr;
  return res;
}

void write_vcd(const std::filesystem::path& file, const GemmResult& r, const AcceleratorSpec& spec) {
  const bool ws = spec.dataflow == Dataflow::weight_stationary;
  const int pes = r.trace.empty() ? 0 : int(r.trace.front().size());
  struct Sig {
    std::string name;
    int width;
    std::function<uint64_t(const PeTrace&)> get;
  };
  std::vector<Sig> sigs = {{"a_i", spec.pe.a_bits, [](const PeTrace& t) { return t.a; }},
                           {"b_i", spec.pe.w_bits, [](const PeTrace& t) { return t.b; }},
                           {"en_i", 1, [](const PeTrace& t) { return uint64_t(t.en); }}};
  if (spec.pe.pann()) {  // rtl/pann_mac's ports
    const PeSpec pe = spec.pe;
    sigs = {{"x_i", pe.a_bits, [](const PeTrace& t) { return t.a; }},
            {"r_i", pe.w_bits - 1, [pe](const PeTrace& t) { return pann_weight(pe, t.b).r; }},
            {"neg_i", 1, [pe](const PeTrace& t) { return uint64_t(pann_weight(pe, t.b).neg); }},
            {"start_i", 1, [](const PeTrace& t) { return uint64_t(t.en); }},
            {"clear_i", 1, [](const PeTrace& t) { return uint64_t(t.clear); }},
            {"sum_pos_o", pe.acc_bits, [](const PeTrace& t) { return t.out; }},
            {"sum_neg_o", pe.acc_bits, [](const PeTrace& t) { return t.out_neg; }}};
  } else if (ws) {
    sigs.push_back({"psum_i", spec.pe.acc_bits, [](const PeTrace& t) { return t.psum_in; }});
    sigs.push_back({"w_load_i", 1, [](const PeTrace& t) { return uint64_t(t.load); }});
    sigs.push_back({"psum_o", spec.pe.acc_bits, [](const PeTrace& t) { return t.out; }});
  } else {
    sigs.push_back({"clear_i", 1, [](const PeTrace& t) { return uint64_t(t.clear); }});
    sigs.push_back({"acc_o", spec.pe.acc_bits, [](const PeTrace& t) { return t.out; }});
  }
  auto id = [&](int pe, size_t s) {  // printable VCD identifiers
    std::string out;
    for (size_t v = size_t(pe) * sigs.size() + s + 1; v; v /= 94) out += char('!' + v % 94);
    return out;
  };
  auto value = [](uint64_t v, int width) {
    if (width == 1) return std::string(1, char('0' + (v & 1)));
    std::string b = "b";
    for (int i = width - 1; i >= 0; --i) b += char('0' + ((v >> i) & 1));
    return b + " ";
  };
  std::string o = "$timescale 1ps $end\n$scope module lpsim_array $end\n";
  for (int p = 0; p < pes; ++p) {
    o += "$scope module pe_" + std::to_string(p / spec.cols) + "_" + std::to_string(p % spec.cols) + " $end\n";
    for (size_t s = 0; s < sigs.size(); ++s)
      o += "$var wire " + std::to_string(sigs[s].width) + " " + id(p, s) + " " + sigs[s].name + " $end\n";
    o += "$upscope $end\n";
  }
  o += "$var wire 1 ! clk $end\n$upscope $end\n$enddefinitions $end\n";
  const uint64_t period_ps = uint64_t(std::llround(1e6 / spec.clock_mhz));
  std::vector<std::vector<uint64_t>> last(size_t(pes), std::vector<uint64_t>(sigs.size(), ~uint64_t{0}));
  for (size_t c = 0; c < r.trace.size(); ++c) {
    o += "#" + std::to_string(c * period_ps) + "\n0!\n";
    for (int p = 0; p < pes; ++p)
      for (size_t s = 0; s < sigs.size(); ++s) {
        const uint64_t v = sigs[s].get(r.trace[c][size_t(p)]);
        if (v != last[size_t(p)][s]) o += value(v, sigs[s].width) + id(p, s) + "\n", last[size_t(p)][s] = v;
      }
    o += "#" + std::to_string(c * period_ps + period_ps / 2) + "\n1!\n";
  }
  atomic_write_file(file, o);
}

}  // namespace lpsim::sim
