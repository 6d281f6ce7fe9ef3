// A systolic-array accelerator, simulated cycle by cycle in SystemC (sim/accelerator.cpp):
// an R×C array of integer MAC PEs with weight-stationary or output-stationary dataflow,
// input/weight/output SRAM buffers and a controller that tiles a layer's GEMM onto the
// array. Every PE operation is priced at the gates: the PE's synthesised netlist (rtl/
// mac_ws, rtl/mac) is simulated bit-parallel, 64 PEs per machine word, on the operands
// each PE really sees cycle by cycle; SRAM accesses are priced per access from the 45 nm
// memory table (power_models/memory_energy.h); leakage over the cycles a layer takes.
//
// This header is SystemC-free (and C++17, as Debian's libsystemc): the kernel, the
// modules and the clock stay inside sim/accelerator.cpp.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "power_models/cell_library.h"

namespace lpsim::sim {

// weight_stationary: PE(r, c) holds w[k0 + r][n0 + c]; activation rows a[m][k0..] enter
// from the left (row r skewed by r cycles) and move right one PE per cycle; partial sums
// move down one PE per cycle and leave the bottom row; a fold is R weight-load cycles,
// then M + R + C' − 2 streaming cycles (C' = columns in use). Folds over K add the fold
// before's partial sums, read back from the output buffer, at the top of the column, so
// each output is summed in k-order.
// output_stationary: PE(r, c) accumulates out[m0 + r][n0 + c] in its own register;
// a[m][k] enter from the left, w[k][n] from the top, both skewed; a fold streams K + R' +
// C' − 2 cycles and drains the R rows of results in R cycles.
enum class Dataflow { weight_stationary, output_stationary };
Dataflow parse_dataflow(const std::string& s);  // InputError on anything else
const char* dataflow_name(Dataflow d);

// The PE. Integer (format empty): a MAC (rtl/mac_ws for weight-stationary, rtl/mac for
// output-stationary) — operands of a_bits and w_bits, both signed or both unsigned, an
// acc_bits accumulator that wraps or saturates (arith::AccumulatorModel's semantics).
// FP8 (format fp8_e4m3 | fp8_e5m2): rtl/fp8_mac_ws / rtl/fp8_mac — FP8 codes in, the exact
// product widened to FP32, one RNE FP32 addition per MAC (arith::fp8_mac_golden); outputs
// are FP32 codes; a_bits = w_bits = 8, acc_bits = 32.
// LUQ (format luq4): rtl/luq_mac, the multiplier-free shift unit of 4-bit training — a
// signed a_bits activation (4, or 5: an unsigned 4-bit code zero-extended) times a radix-2
// FP4 code w ({sign, e}: 0 or ±2^(e−1)), shifted and negated (arith::luq_mul_golden), into
// a wrapping acc_bits accumulator; output-stationary only (it accumulates in place: no
// partial-sum port for weight-stationary).
// PANN (format pann): rtl/pann_mac, the multiplier-free PE of papers.md §1 — an unsigned
// a_bits activation x times a signed integer weight w̃ (a w_bits two's-complement code,
// |w̃| ≤ 2^(w_bits−1) − 1) as |w̃| additions of x, one per cycle, into one of two unsigned
// acc_bits sums (positive and negative weights; arith::PannMacModel), wrapping or
// saturating; the output is sum_pos − sum_neg (GemmResult::out). Output-stationary only.
// The array moves in lock-step beats: every PE starts its next job together, so a beat
// lasts as long as the largest |w̃| among the PEs working in it (at least one cycle) —
// the AND of the PEs' done_o; a PE with w̃ = 0 is not started (it only forwards).
struct PeSpec {
  int a_bits = 8, w_bits = 8, acc_bits = 32;
  bool is_signed = true;
  bool saturate = false;
  std::string arch = "array";  // array | booth multiplier (integer PEs)
  std::string format;          // "" integer | fp8_e4m3 | fp8_e5m2 | luq4 | pann
  bool fp8() const { return !format.empty() && !luq() && !pann(); }  // any other format is checked as FP8
  bool luq() const { return format == "luq4"; }
  bool pann() const { return format == "pann"; }
  static PeSpec fp8_pe(const std::string& fmt) { return {8, 8, 32, true, false, "array", fmt}; }
  static PeSpec luq_pe(int a_bits = 4, int acc_bits = 32) { return {a_bits, 4, acc_bits, true, false, "array", "luq4"}; }
  // x_bits unsigned activations, |w̃| < 2^r_bits (weight codes of r_bits + 1 bits).
  static PeSpec pann_pe(int x_bits, int r_bits, int acc_bits = 32, bool saturate = false) {
    return {x_bits, r_bits + 1, acc_bits, false, saturate, "array", "pann"};
  }
  std::string label() const;   // e.g. "int8x8 acc32 array", "fp8_e4m3 acc fp32"
};

struct AcceleratorSpec {
  int rows = 16, cols = 16;
  Dataflow dataflow = Dataflow::weight_stationary;
  double clock_mhz = 500;
  uint64_t ifmap_sram_bytes = 64 * 1024, filter_sram_bytes = 64 * 1024, ofmap_sram_bytes = 64 * 1024;
  int sram_port_bits = 64;
  std::string sram_source = "cacti7-itrs-lstp";  // a source of power_models/data/memory_45nm.csv
  int window_cycles = 64;                        // power-trace window
  bool gate_level = true;                        // false: outputs and timing only (no PE energy)
  // Compare the netlist's registered outputs with the golden PE's after every simulated
  // gate step (GemmResult::gate_mismatches): the synthesised PE checked on every cycle of
  // a real layer. Slower (outputs are read back from the bit-parallel simulator).
  bool verify_gates = false;
  // Record the ports and output register of the first trace_pes PEs (row-major: PE(r, c)
  // is r·cols + c) every cycle (GemmResult::trace), e.g. for a VCD (write_vcd) or to
  // replay them on the Verilated RTL. 0: none.
  int trace_pes = 0;
  PeSpec pe;
  // InputError naming the key (accelerator.rows, ...) on a value out of range.
  void validate() const;
};

// One layer as a GEMM: out[m][n] = Σ_k a[m][k]·w[k][n] in the PE's accumulator, k in order.
struct Gemm {
  std::string name;
  int64_t M = 0, K = 0, N = 0;
  std::vector<uint64_t> a;  // M×K operand codes (low a_bits bits), row-major
  std::vector<uint64_t> w;  // K×N operand codes (low w_bits bits), row-major
};

struct SramTraffic {
  uint64_t reads = 0, writes = 0;  // accesses of sram_port_bits
  double energy_pj = 0;
};

// One traced cycle of one PE: its input ports and its output register after the edge.
struct PeTrace {
  uint64_t a = 0, b = 0, psum_in = 0, out = 0;
  uint64_t out_neg = 0;  // PANN: the negative-weight sum (out is the positive one)
  bool en = false, load = false, clear = false;
};

struct GemmResult {
  std::vector<int64_t> out;   // M×N accumulator values (signed if the PE is; FP8 PEs: FP32 codes;
                              // PANN: sum_pos − sum_neg, wrapped to a signed acc_bits value when the
                              // sums wrap, the plain difference when they saturate)
  uint64_t overflows = 0;     // additions that left the accumulator's range (PANN: outputs whose sums did)
  uint64_t pann_additions = 0;  // PANN: additions done (Σ|w̃| over every output)
  uint64_t folds = 0, cycles = 0, macs = 0;
  uint64_t scalesim_cycles = 0;  // what SCALE-Sim's code reports for this mapping
  uint64_t paper_cycles = 0;     // the closed form of the SCALE-Sim paper
  double utilization = 0;        // macs / (cycles · rows · cols)
  double mac_energy_pj = 0;      // PE dynamic energy, gate-level (multiplier, adder, registers)
  double leakage_pj = 0;         // PE leakage over all cycles, every PE
  SramTraffic ifmap, filter, ofmap;
  std::vector<double> window_energy_pj;  // energy of each window of window_cycles (the last may be shorter)
  uint64_t pe_steps_simulated = 0;       // PE-cycles evaluated at the gates (idle groups skipped)
  uint64_t gate_mismatches = 0;          // verify_gates: PE-cycles where netlist and golden differ
  std::vector<std::vector<PeTrace>> trace;  // trace_pes > 0: per cycle, the traced PEs
  double seconds = 0;                    // wall time of the simulation
  double sram_energy_pj() const { return ifmap.energy_pj + filter.energy_pj + ofmap.energy_pj; }
  double energy_pj() const { return mac_energy_pj + leakage_pj + sram_energy_pj(); }
};

// Cycles in window i of r's power trace (the last window may be shorter).
uint64_t window_length(const GemmResult& r, size_t i, int window_cycles);

struct PowerSummary {
  double avg_mw = 0, peak_mw = 0;
};
// Average over all cycles and the largest window's power at clock_mhz (pJ per ns = W).
PowerSummary power_summary(const GemmResult& r, int window_cycles, double clock_mhz);

class Accelerator {
 public:
  // Synthesises (or loads from cache_dir) the PE netlist when spec.gate_level.
  Accelerator(AcceleratorSpec spec, const power::CellLibrary& lib, std::filesystem::path rtl_dir,
              std::filesystem::path cache_dir);
  ~Accelerator();
  Accelerator(const Accelerator&) = delete;
  Accelerator& operator=(const Accelerator&) = delete;

  // Streams the GEMM through the array. progress(folds done, folds) after every fold.
  // InputError if the operands do not match M, K, N or do not fit their widths.
  GemmResult run(const Gemm& g, const std::function<void(uint64_t, uint64_t)>& progress = {});

  const AcceleratorSpec& spec() const;
  double pe_area_um2() const;     // one PE (0 without gate_level)
  double pe_nand2() const;
  double pe_leakage_nw() const;
  std::string sram_citation() const;  // which memory-table rows price the buffers

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// A Value Change Dump of a trace (GemmResult::trace) at clock_mhz: per PE its ports a_i,
// b_i, psum_i (weight-stationary), en_i, w_load_i / clear_i and its output register.
// Written atomically. InputError naming the file if it cannot be written.
void write_vcd(const std::filesystem::path& file, const GemmResult& r, const AcceleratorSpec& spec);

// The reference: every output summed in k-order through arith::AccumulatorModel (FP8:
// arith::fp8_mac_golden from +0) — the semantics of the network executor's accumulator.
std::vector<int64_t> reference_gemm(const Gemm& g, const PeSpec& pe, uint64_t* overflows = nullptr);

// SCALE-Sim's cycle counts for an M×K×N GEMM on R×C (folds of the full array):
//  weight-stationary ⌈K/R⌉·⌈N/C⌉ folds of 2R + C + M − 2 (paper and code; the code
//  reports the total minus one); output-stationary ⌈M/R⌉·⌈N/C⌉ folds of 2R + C + K − 2
//  in the paper, R + C + K − 2 in the code (minus one).
uint64_t scalesim_paper_cycles(Dataflow d, int rows, int cols, int64_t M, int64_t K, int64_t N);
uint64_t scalesim_code_cycles(Dataflow d, int rows, int cols, int64_t M, int64_t K, int64_t N);

}  // namespace lpsim::sim
