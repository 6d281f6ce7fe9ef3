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

#include "power_models/gate_energy.h"

namespace lpsim::power {

struct UnitEnergyRequest {
  std::string unit = "mul";   // mul | mac | mac_ws | acc | add | pann_add | luq_mul | fp_add | fp_mul | fp_mul_rne |
                              // fp_mac | fp_mac_ws | fp8_mac | fp8_mac_ws
  std::string arch = "array"; // array | booth (mul, mac, mac_ws); ripple | kogge_stone (add)
  std::string format = "fp16";   // fp_add, fp_mul_rne, fp_mac, fp_mac_ws: fp16 | bf16 | fp32; fp_mul: fp8_e4m3 |
                                 // fp8_e5m2; fp8_mac, fp8_mac_ws: fp8_e4m3 | fp8_e5m2 | fp16
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
  int a_bits = 8, b_bits = 8, acc_bits = 32;
  bool is_signed = true;
  uint64_t vectors = 1 << 16;  // operations simulated
  uint64_t seed = 1;
  double cycle_ns = 1.0;       // for leakage
  bool unit_delay = false;     // count glitches (unit-delay simulation) instead of zero-delay
  std::filesystem::path rtl_dir, cache_dir;
};

struct UnitEnergyReport {
  std::string module;
  std::map<std::string, std::string> params;
  double energy_pj = 0;         // per operation, dynamic + leakage
  double energy_ci95_pj = 0;    // half-width of the 95 % interval of the dynamic part
  double leakage_pj = 0;        // per operation
  double toggles_per_op = 0;
  UnitArea area;
  uint64_t operations = 0;
};

UnitEnergyReport measure_unit_energy(const UnitEnergyRequest& req, const CellLibrary& lib);

// Operand pairs from a text file: two integers per line (decimal, or hex with 0x; a
// negative decimal is taken as two's complement), '#' starts a comment. InputError
// names file:line on anything else.
std::vector<std::pair<uint64_t, uint64_t>> read_operand_file(const std::filesystem::path& path);

}  // namespace lpsim::power
