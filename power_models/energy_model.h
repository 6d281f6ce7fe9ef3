// The pricing interface (timeloop/DRAMsim3 habit): executors count operations as
// OpCount records and never compute an energy; an EnergyModel prices an OpKey.
// Implementations: gate-level (Yosys netlist + measured toggles, on uniform operands or
// on a recorded operand stream) and the analytic PANN bit-toggle model (papers.md §1).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "power_models/analytic_pann.h"
#include "power_models/cell_library.h"
#include "power_models/unit_energy.h"

namespace lpsim::power {

// What kind of operation on which operand formats.
struct OpKey {
  std::string unit;    // mac, mul, add, acc, pann_add, fp_mul, fp_mul_rne, fp_add, fp8_mac, luq_mul
  std::string fmt_a;   // arith format names, e.g. "int8", "uint4", "fp8_e4m3"
  std::string fmt_b;
  int acc_bits = 32;
  std::string arch = "array";  // array | booth | ripple | kogge_stone
  // The LNS units (lns_mac, lns_mac_bins, lns_log_acc, lns_mitchell_acc; fmt_a == fmt_b an
  // lns<N>_b<b>): α and F_acc, -1 for arith's defaults; acc_bits 0: sized for kLnsUnitTerms.
  int lns_alpha = -1, lns_acc_frac = -1;
  std::string str() const;
};

struct OpCount {
  std::string layer;
  OpKey key;
  uint64_t n = 0;
};

struct OpPrice {
  double energy_pj = 0;       // per operation
  double energy_ci95_pj = 0;  // half-width of the 95 % interval (gate-level), 0 if analytic
  uint64_t batches = 0;       // independent batches behind the interval (chains: slots of 64)
  uint64_t operations = 0;    // operations simulated
  double leakage_pj = 0;      // included in energy_pj
  double toggles_per_op = 0;
  double area_um2 = 0;
  double nand2 = 0;
};

// The unit request for a key: integer formats give widths and signedness (an unsigned
// operand next to a signed one is zero-extended by a bit: a uint8 is an int9, as the
// hardware would do it), FP formats the `format`. InputError for a combination no RTL
// unit implements.
UnitEnergyRequest request_for(const OpKey& key);

class EnergyModel {
 public:
  virtual ~EnergyModel() = default;
  virtual std::string name() const = 0;
  // Price on the model's own operand statistics (uniform codes).
  virtual OpPrice price(const OpKey& key) = 0;
};

// Gate-level: the synthesised unit simulated on `vectors` uniform operations (memoised
// per key) or on a recorded stream of operand codes.
class GateLevelEnergyModel : public EnergyModel {
 public:
  GateLevelEnergyModel(CellLibrary lib, std::filesystem::path rtl_dir, std::filesystem::path cache_dir,
                       uint64_t vectors = 1 << 16, uint64_t seed = 1);
  std::string name() const override { return "gate"; }
  OpPrice price(const OpKey& key) override;
  OpPrice price(const OpKey& key, std::vector<std::pair<uint64_t, uint64_t>> operands);
  // On independent chains of a sequential unit (see UnitEnergyRequest::chains).
  OpPrice price_chains(const OpKey& key, std::vector<ChainStep> chains, uint32_t chain_len, uint32_t chain_ops);
  const CellLibrary& library() const { return lib_; }
  const std::filesystem::path& rtl_dir() const { return rtl_dir_; }
  const std::filesystem::path& cache_dir() const { return cache_dir_; }
  // Keys with this arch are priced on a user's unit: module `top` of exactly `sources`
  // (UnitEnergyRequest::top, sources), driven as the key's unit.
  void set_user_unit(const std::string& arch, std::string top, std::vector<std::filesystem::path> sources);

 private:
  UnitEnergyRequest request(const OpKey& key) const;
  std::map<std::string, std::pair<std::string, std::vector<std::filesystem::path>>> user_units_;
  CellLibrary lib_;
  std::filesystem::path rtl_dir_, cache_dir_;
  uint64_t vectors_, seed_;
  std::map<std::string, OpPrice> memo_;
};

// Analytic PANN model for integer mul/mac keys (fitted on first use, from cached
// netlists); area from the synthesised netlist.
class AnalyticPannEnergyModel : public EnergyModel {
 public:
  explicit AnalyticPannEnergyModel(std::shared_ptr<GateLevelEnergyModel> gate);
  std::string name() const override { return "analytic"; }
  OpPrice price(const OpKey& key) override;
  const PannModel& model();

 private:
  std::shared_ptr<GateLevelEnergyModel> gate_;
  std::unique_ptr<PannModel> pann_;
};

}  // namespace lpsim::power
