#include "power_models/energy_model.h"

#include "arith/error.h"
#include "arith/format.h"

namespace lpsim::power {

std::string OpKey::str() const {
  std::string s = unit + " " + fmt_a + "x" + fmt_b + " acc" + std::to_string(acc_bits) + " " + arch;
  if (lns_alpha >= 0) s += " alpha" + std::to_string(lns_alpha);
  if (lns_acc_frac >= 0) s += " F" + std::to_string(lns_acc_frac);
  return s;
}

UnitEnergyRequest request_for(const OpKey& key) {
  UnitEnergyRequest r;
  r.unit = key.unit;
  r.arch = key.arch;
  r.acc_bits = key.acc_bits;
  const arith::NumberFormat fa = arith::parse_format(key.fmt_a), fb = arith::parse_format(key.fmt_b);
  const auto* ia = std::get_if<arith::IntFormat>(&fa);
  const auto* ib = std::get_if<arith::IntFormat>(&fb);
  if (ia && ib) {
    r.format.clear();
    r.is_signed = ia->is_signed || ib->is_signed;
    r.a_bits = ia->bits + (r.is_signed && !ia->is_signed ? 1 : 0);
    r.b_bits = ib->bits + (r.is_signed && !ib->is_signed ? 1 : 0);
    return r;
  }
  const auto* la = std::get_if<arith::LnsFormat>(&fa);
  if (la && key.fmt_a == key.fmt_b && key.unit.rfind("lns_", 0) == 0) {
    r.format = key.fmt_a;
    r.a_bits = r.b_bits = la->total_bits();
    r.lns_alpha = key.lns_alpha, r.lns_acc_frac = key.lns_acc_frac;
    return r;
  }
  const auto* ffa = std::get_if<arith::FloatFormat>(&fa);
  const auto* ffb = std::get_if<arith::FloatFormat>(&fb);
  if ((key.unit == "luq_mul" || key.unit == "luq_mac") && ia && ia->bits == 4 && ffb && ffb->name == "luq4") {
    // The shift unit: a signed INT4 (an unsigned 4-bit code zero-extended to 5 bits, on
    // luq_mac) times a radix-2 FP4 code.
    r.format.clear();
    r.is_signed = true;
    r.a_bits = ia->is_signed ? 4 : 5, r.b_bits = 4;
    if (key.unit == "luq_mul" && r.a_bits != 4) throw InputError("luq_mul takes a signed INT4 activation, not uint4");
    return r;
  }
  if (ffa && ffb && key.fmt_a == key.fmt_b) {
    r.format = key.fmt_a;
    r.a_bits = r.b_bits = ffa->total_bits();
    return r;
  }
  throw InputError("no RTL unit for " + key.fmt_a + " x " + key.fmt_b +
                   " (integer x integer, int4/uint4 x luq4 on luq_mac, one floating-point format for both operands, or one LNS "
                   "format on lns_mac, lns_mac_bins, lns_log_acc, lns_mitchell_acc)");
}

GateLevelEnergyModel::GateLevelEnergyModel(CellLibrary lib, std::filesystem::path rtl_dir,
                                           std::filesystem::path cache_dir, uint64_t vectors, uint64_t seed)
    : lib_(std::move(lib)), rtl_dir_(std::move(rtl_dir)), cache_dir_(std::move(cache_dir)), vectors_(vectors),
      seed_(seed) {}

void GateLevelEnergyModel::set_user_unit(const std::string& arch, std::string top,
                                         std::vector<std::filesystem::path> sources) {
  user_units_[arch] = {std::move(top), std::move(sources)};
}

UnitEnergyRequest GateLevelEnergyModel::request(const OpKey& key) const {
  const auto user = user_units_.find(key.arch);
  OpKey k = key;
  if (user != user_units_.end()) k.arch = "array";  // the built-in unit's checks; the user's module replaces it
  UnitEnergyRequest r = request_for(k);
  if (user != user_units_.end()) r.top = user->second.first, r.sources = user->second.second;
  r.rtl_dir = rtl_dir_;
  r.cache_dir = cache_dir_;
  r.seed = seed_;
  r.vectors = vectors_;
  return r;
}

namespace {
OpPrice to_price(const UnitEnergyReport& rep) {
  OpPrice p;
  p.energy_pj = rep.energy_pj, p.energy_ci95_pj = rep.energy_ci95_pj, p.batches = rep.batches;
  p.operations = rep.operations, p.leakage_pj = rep.leakage_pj, p.toggles_per_op = rep.toggles_per_op;
  p.area_um2 = rep.area.area_um2, p.nand2 = rep.area.nand2_equivalents;
  return p;
}
}  // namespace

OpPrice GateLevelEnergyModel::price(const OpKey& key) {
  const std::string k = key.str();
  if (auto it = memo_.find(k); it != memo_.end()) return it->second;
  return memo_[k] = to_price(measure_unit_energy(request(key), lib_));
}

OpPrice GateLevelEnergyModel::price(const OpKey& key, std::vector<std::pair<uint64_t, uint64_t>> operands) {
  UnitEnergyRequest r = request(key);
  r.stream = "operands";
  r.operands = std::move(operands);
  return to_price(measure_unit_energy(r, lib_));
}

OpPrice GateLevelEnergyModel::price_chains(const OpKey& key, std::vector<ChainStep> chains, uint32_t chain_len,
                                           uint32_t chain_ops) {
  UnitEnergyRequest r = request(key);
  r.stream = "chains";
  r.chains = std::move(chains);
  r.chain_len = chain_len;
  r.chain_ops = chain_ops;
  return to_price(measure_unit_energy(r, lib_));
}

AnalyticPannEnergyModel::AnalyticPannEnergyModel(std::shared_ptr<GateLevelEnergyModel> gate)
    : gate_(std::move(gate)) {}

const PannModel& AnalyticPannEnergyModel::model() {
  if (!pann_)
    pann_ = std::make_unique<PannModel>(fit_pann_model(gate_->library(), gate_->rtl_dir(), gate_->cache_dir()));
  return *pann_;
}

OpPrice AnalyticPannEnergyModel::price(const OpKey& key) {
  if (key.unit != "mac" && key.unit != "mul")
    throw InputError("the analytic PANN model prices integer mul and mac only, not " + key.unit);
  const UnitEnergyRequest r = request_for(key);
  if (!r.format.empty()) throw InputError("the analytic PANN model covers integer operands only, not " + key.fmt_a);
  const PannModel& m = model();
  // Area (and leakage) from the netlist: a short uniform run of the same unit.
  OpPrice p = gate_->price(key);
  p.toggles_per_op = m.unit_toggles(key.unit == "mac", r.a_bits, r.b_bits, r.acc_bits, r.is_signed);
  p.energy_pj = p.toggles_per_op * m.pj_per_toggle + p.leakage_pj;
  p.energy_ci95_pj = 0;
  return p;
}

}  // namespace lpsim::power
