// The pricing interface (timeloop/DRAMsim3 habit): executors count operations as
// OpCount records and never compute an energy; an EnergyModel prices an OpKey.
// Implementations: gate-level (Yosys netlist + measured toggles) and analytic PANN
// bit-toggle model (papers.md §1) — both land with the energy/area issue.
#pragma once

#include <cstdint>
#include <string>

namespace lpsim::power {

// What kind of operation on which operand formats.
struct OpKey {
  std::string unit;    // mac, mul, add, acc, pann_add, fp_mul, fp_add, luq_mul
  std::string fmt_a;   // arith format names, e.g. "int8", "fp8_e4m3"
  std::string fmt_b;
  int acc_bits = 32;
  std::string arch;    // array | booth | ...
};

struct OpCount {
  std::string layer;
  OpKey key;
  uint64_t n = 0;
};

struct OpPrice {
  double energy_pj = 0;     // per operation
  double energy_ci95_pj = 0;  // half-width of the 95 % interval (gate-level), 0 if analytic
  double area_um2 = 0;
};

class EnergyModel {
 public:
  virtual ~EnergyModel() = default;
  virtual std::string name() const = 0;
  virtual OpPrice price(const OpKey& key) = 0;
};

}  // namespace lpsim::power
