// Gate-level energy per operation of an rtl/ unit on an operand stream: synthesise
// (cached), simulate bit-parallel (64 lanes, each a contiguous piece of the stream),
// price every transition, and report the mean with a 95 % batch-means interval.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "arith/lns.h"
#include "power_models/gate_energy.h"
#include "power_models/netlist.h"
#include "power_models/synth.h"

namespace lpsim::power {

// One step of one lane of a chain stream (stream == "chains"): the operands and control
// inputs of a sequential unit for one clock cycle. pann_mac: x_i = a, r_i = b (|w̃|),
// neg_i = bit 0 of c, clear_i = kStepClear, start_i = kStepLoad (kStepEnable unused).
struct ChainStep {
  uint64_t a = 0, b = 0;  // a_i, b_i (acc: in_i = a)
  uint64_t c = 0;         // psum_i of a weight-stationary PE
  uint8_t ctrl = 0;       // kStepClear | kStepEnable | kStepLoad
};
inline constexpr uint8_t kStepClear = 1, kStepEnable = 2, kStepLoad = 4;

inline constexpr uint64_t kLnsDefaultTerms = arith::kLnsUnitTerms;  // (arith/lns.h)

struct UnitEnergyRequest {
  std::string unit = "mul";   // mul | mac | mac_ws | acc | add | pann_add | pann_mac | luq_mul | luq_mac | fp_add | fp_mul |
                              // fp_mul_rne | fp_mac | fp_mac_ws | fp8_mac | fp8_mac_ws | lns_mac | lns_mac_bins |
                              // lns_log_acc | lns_mitchell_acc
  std::string arch = "array"; // array | booth (mul, mac, mac_ws); ripple | kogge_stone (add)
  std::string format = "fp16";   // fp_add, fp_mul_rne, fp_mac, fp_mac_ws: fp16 | bf16 | fp32; fp_mul: fp8_e4m3 |
                                 // fp8_e5m2; fp8_mac, fp8_mac_ws: fp8_e4m3 | fp8_e5m2 | fp16;
                                 // the LNS units (issue 17): lns<N>_b<b> (arith::parse_lns_format)
  // The LNS units: lns_mac (A: log-multiply, exact linear accumulation), lns_mac_bins (A':
  // γ bins, read out once per 64 products of a lane, or on a chain step with kStepLoad),
  // lns_log_acc (B: log-domain sum with sb/db tables), lns_mitchell_acc (C: Mitchell, no
  // ROM). acc_bits is lns_mac's AccWidth, or the log-domain sum's AccExpBits; 0 takes the
  // width for K = kLnsDefaultTerms products (lns_linear_acc_bits; the products' log range
  // plus log2 K of growth). lns_mac_bins' bins hold kLnsDefaultTerms products.
  int lns_alpha = -1;     // A, A': the conversion table's fraction bits (-1: arith::lns_default_alpha)
  int lns_acc_frac = -1;  // B, C: F_acc, the sum's log fraction bits (-1: arith::lns_default_acc_frac)
  // The weight-stationary units (mac_ws, fp8_mac_ws, fp_mac_ws) load a new weight every
  // 64 steps per lane (no product on that step) and get a random partial sum psum_i every
  // step: uniform codes of acc_bits (mac_ws, uniform and recorded streams), the stream's
  // distribution at acc_bits (gauss, laplace), or an N(0,1) / Laplace value (FP units).
  std::string stream = "uniform";  // uniform codes | gauss / laplace: quantised zero-mean
                                   // N(0, (2^(b-2))²) / Laplace(b = 2^(b-2)), offset by
                                   // 2^(b-1) for unsigned units (a zero point) | operands
  // stream == "operands": the operand pairs (raw codes, in stream order), e.g. recorded
  // from real tensors by the executor or read by read_operand_file().
  std::vector<std::pair<uint64_t, uint64_t>> operands;
  // stream == "chains": independent chains of chain_len steps each, back to back (chain i
  // at [i·chain_len, (i+1)·chain_len)), each completing chain_ops operations — e.g. one
  // output's K products after a clear (output-stationary) or one held weight's run of
  // partial-sum updates after a load (weight-stationary). Lane l runs chains l, l+64, …
  // in lock step, so a slot of 64 chains is an independent batch: the 95 % interval is a
  // Student-t interval over slot means, honest however long the chains are. Lanes
  // without a chain in the last slot idle (inputs held, no enable, clear or start).
  // pann_mac on a uniform stream (not chains) runs random jobs back to back (each start
  // on the last addition of the job before), clears every 64 jobs, and prices one
  // addition as its operation.
  std::vector<ChainStep> chains;
  uint32_t chain_len = 0, chain_ops = 0;
  int a_bits = 8, b_bits = 8, acc_bits = 32;
  bool is_signed = true;
  uint64_t vectors = 1 << 16;  // operations simulated
  uint64_t seed = 1;
  double cycle_ns = 1.0;       // for leakage
  bool unit_delay = false;     // count glitches (unit-delay simulation) instead of zero-delay
  std::filesystem::path rtl_dir, cache_dir;
  // A user's unit (`lpsim energy --rtl`): module `top` (the generated wrapper, whose ports
  // are named as the built-in unit's) from exactly these files, driven as `unit`. Empty:
  // the built-in unit of rtl_dir.
  std::string top = {};
  std::vector<std::filesystem::path> sources = {};
};

struct UnitEnergyReport {
  std::string module;
  std::map<std::string, std::string> params;
  double energy_pj = 0;         // per operation, dynamic + leakage
  double energy_ci95_pj = 0;    // half-width of the 95 % interval of the dynamic part
  uint64_t batches = 0;         // independent batches behind the interval
  double leakage_pj = 0;        // per operation
  double toggles_per_op = 0;
  UnitArea area;
  uint64_t operations = 0;
};

UnitEnergyReport measure_unit_energy(const UnitEnergyRequest& req, const CellLibrary& lib);

// The module and parameters a request synthesises (report.module, report.params; nothing
// measured). InputError as measure_unit_energy on a request no unit takes.
UnitEnergyReport unit_module(const UnitEnergyRequest& req);

// The netlist of a module from the synthesis cache, or synthesised (synthesize()); a cache
// entry that does not read as a netlist is synthesised again, not an error.
Netlist unit_netlist(const SynthRequest& request);

// Two-sided 95 % Student-t quantile with `dof` degrees of freedom.
double student_t95(uint64_t dof);

// Operand pairs from a text file: two integers per line (decimal, or hex with 0x; a
// negative decimal is taken as two's complement), '#' starts a comment. InputError
// names file:line on anything else.
std::vector<std::pair<uint64_t, uint64_t>> read_operand_file(const std::filesystem::path& path);

}  // namespace lpsim::power
