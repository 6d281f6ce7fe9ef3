#include "power_models/unit_energy.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <sstream>

#include "arith/error.h"
#include "arith/format.h"
#include "arith/lns.h"
#include "arith/lns_rom.h"
#include "arith/philox.h"
#include "power_models/gate_sim.h"
#include "power_models/operand_file.h"
#include "power_models/synth.h"

namespace lpsim::power {

namespace {

bool is_lns_unit(const std::string& u) {
  return u == "lns_mac" || u == "lns_mac_bins" || u == "lns_log_acc" || u == "lns_mitchell_acc";
}

int ceil_log2(uint64_t k) {
  int n = 0;
  while ((uint64_t{1} << n) < k) ++n;
  return n;
}

// The LNS units' modules and parameters, checked by arith's own constructors (the golden
// models' ranges) and against the ROMs rtl/ holds (arith/lns_rom.h).
void prepare_lns_checked(const UnitEnergyRequest& req, UnitEnergyReport& rep);

// arith's errors name its own fields; the request's are the energy command's options.
void prepare_lns(const UnitEnergyRequest& req, UnitEnergyReport& rep) {
  try {
    prepare_lns_checked(req, rep);
  } catch (const InputError& e) {
    static const std::map<std::string, std::string> option = {
        {"format", "--format"}, {"alpha", "--alpha"}, {"acc_bits", "--acc-bits"}, {"acc_exp_bits", "--acc-bits"},
        {"acc_frac", "--acc-frac"}};
    const auto it = option.find(e.key());
    if (it == option.end()) throw;
    throw InputError(e.message(), e.where(), it->second);
  }
}

void prepare_lns_checked(const UnitEnergyRequest& req, UnitEnergyReport& rep) {
  const arith::LnsFormat f = arith::parse_lns_format(req.format);
  const std::string e = std::to_string(f.exp_bits), b = std::to_string(f.frac_bits);
  if (req.unit == "lns_mac" || req.unit == "lns_mac_bins") {
    const int alpha = req.lns_alpha >= 0 ? req.lns_alpha : arith::lns_default_alpha(f);
    if (f.frac_bits > arith::kLnsRomMaxFracBits || alpha < f.frac_bits + 1 || alpha > arith::kLnsRomMaxAlpha)
      throw InputError("the conversion ROM (rtl/lns_pow2_rom.sv) holds b = 0.." + std::to_string(arith::kLnsRomMaxFracBits) +
                           " and alpha = b+1.." + std::to_string(arith::kLnsRomMaxAlpha) + ", not " + f.name() +
                           " with alpha " + std::to_string(alpha),
                       {}, "--alpha");
    const int acc = req.acc_bits > 0 ? req.acc_bits : arith::lns_linear_acc_bits(f, alpha, kLnsDefaultTerms);
    const arith::LnsLinearAcc u(f, alpha, acc);  // InputError on a width out of range
    rep.module = req.unit;
    rep.params = {{"ExpBits", e}, {"FracBits", b}, {"Alpha", std::to_string(alpha)}, {"AccWidth", std::to_string(acc)}};
    if (req.unit == "lns_mac_bins")  // each bin holds kLnsDefaultTerms products of its residue
      rep.params["BinWidth"] = std::to_string(u.q_max - u.q_min + 2 + ceil_log2(kLnsDefaultTerms));
    return;
  }
  const int F = req.lns_acc_frac >= 0 ? req.lns_acc_frac : arith::lns_default_acc_frac(f);
  const bool mitchell = req.unit == "lns_mitchell_acc";
  if (F < f.frac_bits || (!mitchell && F > arith::kLnsRomMaxAccFrac))
    throw InputError("F_acc must be in [b, " + std::string(mitchell ? "20" : std::to_string(arith::kLnsRomMaxAccFrac) +
                                                                            " (the sb/db ROMs in rtl/lns_gauss_rom.sv)") +
                         "], got " + std::to_string(F) + " for " + f.name(),
                     {}, "--acc-frac");
  const int acc = req.acc_bits > 0 ? req.acc_bits : arith::lns_log_acc_bits(f, F, kLnsDefaultTerms);
  if (acc > 31) throw InputError("the log-domain sum's code is at most 31 bits, got " + std::to_string(acc), {}, "--acc-bits");
  const arith::LnsLogAcc u(f, F, acc, mitchell);  // InputError when the products do not fit
  rep.module = "lns_log_acc";
  rep.params = {{"ExpBits", e}, {"FracBits", b}, {"AccFrac", std::to_string(F)}, {"AccExpBits", std::to_string(acc)},
                {"Mitchell", mitchell ? "1" : "0"}};
}

// Checks the request and names the module and parameters to synthesise.
UnitEnergyReport prepare(const UnitEnergyRequest& req) {
  UnitEnergyReport rep;
  const int max_a = req.unit == "add" ? 64 : 32;
  if (req.a_bits < 2 || req.a_bits > max_a)
    throw InputError("operand width must be in [2, " + std::to_string(max_a) + "]" +
                         (req.unit == "add" ? "" : " (adders: up to 64)") + ", got " + std::to_string(req.a_bits),
                     {}, "--a-bits");
  if (req.b_bits < 2 || req.b_bits > 32)
    throw InputError("operand width must be in [2, 32], got " + std::to_string(req.b_bits), {}, "--b-bits");
  const std::string sgn = req.is_signed ? "1" : "0";
  if (req.unit == "mul") {
    if (req.arch != "array" && req.arch != "booth") throw InputError("arch must be array or booth", {}, "--arch");
    rep.module = "mul_" + req.arch;
    rep.params = {{"WidthA", std::to_string(req.a_bits)}, {"WidthB", std::to_string(req.b_bits)}, {"Signed", sgn}};
  } else if (req.unit == "mac" || req.unit == "mac_ws") {
    if (req.arch != "array" && req.arch != "booth") throw InputError("arch must be array or booth", {}, "--arch");
    if (req.acc_bits < req.a_bits + req.b_bits || req.acc_bits > 64)
      throw InputError("accumulator width must be in [a_bits + b_bits, 64] = [" + std::to_string(req.a_bits + req.b_bits) +
                           ", 64], got " + std::to_string(req.acc_bits),
                       {}, "--acc-bits");
    rep.module = req.unit;
    rep.params = {{"WidthA", std::to_string(req.a_bits)}, {"WidthB", std::to_string(req.b_bits)},
                  {"AccWidth", std::to_string(req.acc_bits)}, {"Signed", sgn},
                  {"Booth", req.arch == "booth" ? "1" : "0"}};
    if (req.unit == "mac_ws") rep.params["Saturate"] = "0";  // the psum wraps, as mac's accumulator
  } else if (req.unit == "add") {
    if (req.arch != "ripple" && req.arch != "kogge_stone")
      throw InputError("arch must be ripple or kogge_stone for add", {}, "--arch");
    rep.module = "add_" + req.arch;
    rep.params = {{"Width", std::to_string(req.a_bits)}};
  } else if (req.unit == "pann_add") {
    if (req.b_bits > 8) throw InputError("PANN repetition count width must be <= 8 bits", {}, "--b-bits");
    rep.module = "pann_add";
    rep.params = {{"WidthX", std::to_string(req.a_bits)}, {"RWidth", std::to_string(req.b_bits)}};
  } else if (req.unit == "pann_mac") {
    if (req.b_bits > 8) throw InputError("PANN weight magnitude width must be <= 8 bits", {}, "--b-bits");
    if (req.acc_bits < req.a_bits || req.acc_bits > 64)
      throw InputError("accumulator width must be in [a_bits, 64]", {}, "--acc-bits");
    if (req.stream != "uniform" && req.stream != "chains")
      throw InputError("pann_mac runs uniform jobs or chains, not '" + req.stream + "'", {}, "--stream");
    rep.module = "pann_mac";
    rep.params = {{"WidthX", std::to_string(req.a_bits)}, {"RWidth", std::to_string(req.b_bits)},
                  {"AccWidth", std::to_string(req.acc_bits)}, {"Saturate", "0"}};  // the sums wrap, as mac's
  } else if (req.unit == "acc") {
    if (req.acc_bits < req.a_bits || req.acc_bits > 64)
      throw InputError("accumulator width must be in [a_bits, 64] = [" + std::to_string(req.a_bits) + ", 64], got " +
                           std::to_string(req.acc_bits),
                       {}, "--acc-bits");
    rep.module = "accumulator";
    rep.params = {{"Width", std::to_string(req.acc_bits)}, {"InWidth", std::to_string(req.a_bits)}, {"Signed", sgn}};
  } else if (req.unit == "fp8_mac" || req.unit == "fp8_mac_ws" || req.unit == "fp_mul") {
    rep.module = req.unit;
    if (req.format == "fp8_e4m3")
      rep.params = {{"ExpBits", "4"}, {"ManBits", "3"}, {"Bias", "7"}, {"FnSpecials", "1"}};
    else if (req.format == "fp8_e5m2")
      rep.params = {{"ExpBits", "5"}, {"ManBits", "2"}, {"Bias", "15"}, {"FnSpecials", "0"}};
    else if (req.format == "fp16" && req.unit != "fp_mul")  // verified: the e7m21 product widens to FP32
      rep.params = {{"ExpBits", "5"}, {"ManBits", "10"}, {"Bias", "15"}, {"FnSpecials", "0"}};
    else if (req.unit == "fp8_mac" && (req.format == "e3m4" || req.format == "e6m1")) {
      // The IEEE-style formats the lognormal chooser picks (verified instances in rtl/).
      const arith::FloatFormat f = std::get<arith::FloatFormat>(arith::parse_format(req.format));
      rep.params = {{"ExpBits", std::to_string(f.exp_bits)}, {"ManBits", std::to_string(f.man_bits)},
                    {"Bias", std::to_string(f.bias)}, {"FnSpecials", "0"}};
    } else
      throw InputError(req.unit + " format must be fp8_e4m3 or fp8_e5m2" +
                           (req.unit == "fp8_mac" ? ", fp16, e3m4 or e6m1" : req.unit != "fp_mul" ? " or fp16" : ""),
                       {}, "--format");
  } else if (req.unit == "luq_mul") {
    rep.module = "luq_mul";
  } else if (req.unit == "luq_mac") {
    if (req.a_bits != 4 && req.a_bits != 5)
      throw InputError("luq_mac activations are 4-bit signed, or 5 bits (an unsigned 4-bit code zero-extended), got " +
                           std::to_string(req.a_bits),
                       {}, "--a-bits");
    if (req.acc_bits < req.a_bits + 7 || req.acc_bits > 64)
      throw InputError("accumulator width must be in [a_bits + 7, 64] = [" + std::to_string(req.a_bits + 7) + ", 64], got " +
                           std::to_string(req.acc_bits),
                       {}, "--acc-bits");
    rep.module = "luq_mac";
    rep.params = {{"AccWidth", std::to_string(req.acc_bits)}, {"Saturate", "0"}, {"WidthA", std::to_string(req.a_bits)}};
  } else if (req.unit == "fp_add" || req.unit == "fp_mul_rne") {
    // The formats the units are verified in (rtl/ check-rtl); IEEE-style only (no E4M3 or
    // LUQ specials), so anything else would silently build a different unit.
    if (req.format != "fp16" && req.format != "bf16" && req.format != "fp32")
      throw InputError(req.unit + " format must be fp16, bf16 or fp32, not '" + req.format + "'", {}, "--format");
    rep.module = req.unit;
    const arith::FloatFormat f = std::get<arith::FloatFormat>(arith::parse_format(req.format));
    rep.params = {{"ExpBits", std::to_string(f.exp_bits)}, {"ManBits", std::to_string(f.man_bits)}};
  } else if (req.unit == "fp_mac" || req.unit == "fp_mac_ws") {
    // IEEE-style formats only: fp_mul_rne and fp_add know no E4M3-style specials.
    if (req.format != "fp16" && req.format != "bf16" && req.format != "fp32")
      throw InputError(req.unit + " format must be fp16, bf16 or fp32", {}, "--format");
    rep.module = req.unit;
    const arith::FloatFormat f = std::get<arith::FloatFormat>(arith::parse_format(req.format));
    rep.params = {{"ExpBits", std::to_string(f.exp_bits)}, {"ManBits", std::to_string(f.man_bits)}};
  } else if (is_lns_unit(req.unit)) {
    prepare_lns(req, rep);
  } else {
    throw InputError("unknown unit '" + req.unit +
                         "' (known: mul, mac, mac_ws, acc, add, pann_add, pann_mac, luq_mul, luq_mac, fp_add, fp_mul, "
                         "fp_mul_rne, fp_mac, fp_mac_ws, fp8_mac, fp8_mac_ws, lns_mac, lns_mac_bins, lns_log_acc, "
                         "lns_mitchell_acc)",
                     {}, "--unit");
  }
  if (!req.top.empty()) {  // a user's unit of this kind: its wrapper, parameters already applied
    rep.module = req.top;
    rep.params.clear();
  }
  if (req.stream != "uniform" && req.stream != "gauss" && req.stream != "laplace" && req.stream != "operands" &&
      req.stream != "chains")
    throw InputError("unknown stream '" + req.stream + "' (known: uniform, gauss, laplace, a file of operands)", {},
                     "--stream");
  if (req.stream == "chains") {
    const bool ws = req.unit.size() > 3 && req.unit.compare(req.unit.size() - 3, 3, "_ws") == 0;
    if (!ws && req.unit != "mac" && req.unit != "fp8_mac" && req.unit != "fp_mac" && req.unit != "acc" &&
        req.unit != "pann_mac" && req.unit != "luq_mac" && !is_lns_unit(req.unit))
      throw InputError("chain streams drive sequential units (mac, fp8_mac, fp_mac, luq_mac, acc, pann_mac, lns_*, *_ws), "
                       "not " + req.unit);
    if (req.chain_len == 0 || req.chain_ops == 0 || req.chains.empty() || req.chains.size() % req.chain_len != 0)
      throw InputError("a chain stream needs whole chains of chain_len > 0 steps and chain_ops > 0");
  }
  if (req.unit == "pann_add" && req.stream != "uniform")
    throw InputError("pann_add draws its own uniform activations and repetition counts; other streams are not "
                     "supported for it",
                     {}, "--stream");
  if (!(req.cycle_ns > 0) || !std::isfinite(req.cycle_ns))
    throw InputError("clock period must be a positive finite number of ns", {}, "--cycle-ns");
  if (req.stream == "operands" && req.operands.size() < 128)
    throw InputError("need at least 128 operand pairs, got " + std::to_string(req.operands.size()), {}, "--stream");
  if (req.stream != "operands" && req.vectors < 128) throw InputError("need at least 128 vectors", {}, "--vectors");
  return rep;
}

// Energy per operation with a 95 % batch-means interval: 32 batches of consecutive
// steps, each batch's energy divided by the operations completed in it.
UnitEnergyReport finish(UnitEnergyReport rep, const GateSim& sim, const std::vector<uint64_t>& ops_per_step,
                        double cycle_ns) {
  const std::vector<double>& c = sim.step_costs();
  LPSIM_CHECK(c.size() == ops_per_step.size() && !c.empty());
  const size_t batches = std::min<size_t>(32, c.size());
  const size_t per = c.size() / batches;
  double sum = 0, sum_sq = 0, energy = 0;
  uint64_t ops = 0, steps = 0;
  for (size_t k = 0; k < batches; ++k) {
    double e = 0;
    uint64_t o = 0;
    for (size_t i = k * per; i < (k + 1) * per; ++i) e += c[i], o += ops_per_step[i];
    const double per_op = o ? e / double(o) : 0.0;  // fJ per operation in this batch
    sum += per_op;
    sum_sq += per_op * per_op;
  }
  for (size_t i = 0; i < c.size(); ++i) energy += c[i], ops += ops_per_step[i], ++steps;
  const double var = batches > 1 ? (sum_sq - sum * sum / double(batches)) / double(batches - 1) : 0;
  rep.operations = ops;
  uint64_t toggles = 0;
  for (uint64_t t : sim.toggles()) toggles += t;
  rep.toggles_per_op = double(toggles) / double(ops);
  // Leakage burns every cycle of every lane: nW·ns = 1e-18 J = 1e-6 pJ.
  rep.leakage_pj = rep.area.leakage_nw * cycle_ns * 1e-6 * double(steps * 64) / double(ops);
  rep.energy_pj = energy / double(ops) * 1e-3 + rep.leakage_pj;
  rep.energy_ci95_pj = 1.96 * std::sqrt(std::max(0.0, var) / double(batches)) * 1e-3;
  return rep;
}

}  // namespace

// A cache entry that does not read as a netlist (truncated, edited, a disk error) is
// synthesised again, not an error.
Netlist unit_netlist(const SynthRequest& request) {
  const std::filesystem::path file = synthesize(request);
  try {
    return load_yosys_json(file);
  } catch (const InputError&) {
    std::error_code ec;
    std::filesystem::remove(file, ec);
    return load_yosys_json(synthesize(request));
  }
}

UnitEnergyReport unit_module(const UnitEnergyRequest& req) { return prepare(req); }

namespace {

// A unit ready to price: its netlist (synthesised, or from the cache), its area in the
// report, and a simulator that prices every transition.
struct UnitSim {
  Netlist netlist;
  GateSim sim;  // holds a reference to netlist (declared first)
  UnitSim(const UnitEnergyRequest& req, const CellLibrary& lib, UnitEnergyReport& rep)
      : netlist(unit_netlist({rep.module, rep.params, req.rtl_dir, req.cache_dir, req.sources})), sim(netlist) {
    rep.area = unit_area(netlist, lib);
    sim.set_transition_costs(transition_energy_fj(netlist, lib));
    sim.set_unit_delay(req.unit_delay);
  }
  UnitSim(const UnitSim&) = delete;
  UnitSim& operator=(const UnitSim&) = delete;
};

// Operand-stream units: lane l evaluates a contiguous piece of the stream, one
// operation per lane and step.
UnitEnergyReport run_stream(const UnitEnergyRequest& req, const CellLibrary& lib, UnitEnergyReport rep) {
  UnitSim unit(req, lib, rep);
  GateSim& sim = unit.sim;
  const bool recorded = req.stream == "operands";
  // Weight-stationary PEs: one step in 64 of each lane loads a new weight (w_load_i = 1,
  // en_i = 0, no product), staggered over the lanes so that every step after the first
  // (when every lane loads) completes 63 products; psum_i is a fresh random partial sum.
  const bool ws = req.unit == "mac_ws" || req.unit == "fp8_mac_ws" || req.unit == "fp_mac_ws";
  const uint64_t n_ops = recorded ? req.operands.size() : req.vectors;
  const uint64_t steps = recorded ? n_ops / 64
                         : ws     ? (n_ops + 62) / 63 + 1
                                  : (n_ops + 63) / 64 + 1;  // +1: the first step has no "previous"
  const arith::RandomStream rng(req.seed, 0x454E47u);
  LaneValues a{}, b{}, ones{}, zeros{};
  ones.fill(1);
  const bool lns = is_lns_unit(req.unit);
  const bool sequential = req.unit == "mac" || req.unit == "fp8_mac" || req.unit == "fp_mac" || req.unit == "luq_mac" ||
                          req.unit == "acc" || lns;
  if (sequential) {
    sim.set_input("rst_ni", ones);
    sim.set_input("en_i", ones);
    sim.set_input("clear_i", zeros);
  }
  // Out of reset: the PEs, and a user's pipelined unit (its wrapper always has rst_ni).
  if (ws || unit.netlist.inputs.count("rst_ni")) sim.set_input("rst_ni", ones);
  const bool fp = req.unit == "fp_add" || req.unit == "fp8_mac" || req.unit == "fp_mul" || req.unit == "fp_mul_rne" ||
                  req.unit == "fp_mac" || req.unit == "fp8_mac_ws" || req.unit == "fp_mac_ws";
  const arith::FloatFormat ffmt = fp ? std::get<arith::FloatFormat>(arith::parse_format(req.format)) : arith::fp16();
  const arith::LnsFormat lfmt = lns ? arith::parse_lns_format(req.format) : arith::LnsFormat{};
  // Operand widths of the unit's ports (FP units: the format's width; add: both addends
  // have the adder's width). Recorded operands are checked against them by the reader
  // (operand_file.h); the mask only keeps a sign-extended negative value's low bits.
  const OperandWidths ow = operand_widths(req);
  const int wa = ow.a_bits, wb = ow.b_bits;
  const uint64_t ma = wa >= 64 ? ~uint64_t{0} : (uint64_t{1} << wa) - 1, mb = wb >= 64 ? ~uint64_t{0} : (uint64_t{1} << wb) - 1;
  // One operand from 32 random bits (and a second word for Box-Muller).
  auto operand = [&](uint32_t r0, uint32_t r1, int width, uint64_t mask) -> uint64_t {
    const double u = (r0 + 0.5) * 0x1p-32, v = (r1 + 0.5) * 0x1p-32;
    const double z = req.stream == "laplace" ? (u < 0.5 ? std::log(2 * u) : -std::log(2 * (1 - u)))
                                             : std::sqrt(-2 * std::log(u)) * std::cos(2 * M_PI * v);
    if (fp) return arith::encode(ffmt, z).code;  // N(0,1) (or Laplace) values in the FP format
    if (lns && req.stream != "uniform") return arith::lns_quantize_nearest(lfmt, z);  // nearest in the log domain
    if (req.stream == "uniform") return (width > 32 ? (uint64_t{r1} << 32) | r0 : uint64_t{r0}) & mask;  // adders to 64 b
    const double lo = req.is_signed ? -std::ldexp(1.0, width - 1) : -std::ldexp(1.0, width - 1);
    const double hi = std::ldexp(1.0, width - 1) - 1;
    const int64_t q = int64_t(std::clamp(std::nearbyint(z * std::ldexp(1.0, width - 2)), lo, hi));
    return uint64_t(req.is_signed ? q : q + (int64_t{1} << (width - 1))) & mask;
  };
  // Partial sums of the WS units: integer codes of the accumulator width (uniform codes,
  // or the quantised distribution at that width); FP values of N(0,1) (or Laplace)
  // magnitude in the psum format (FP32 for fp8_mac_ws, the operand format for fp_mac_ws).
  const arith::RandomStream psum_rng(req.seed, 0x50534Du /* "PSM" */);
  const arith::FloatFormat pfmt = req.unit == "fp8_mac_ws" ? arith::fp32() : ffmt;
  const uint64_t mp = req.acc_bits >= 64 ? ~uint64_t{0} : (uint64_t{1} << req.acc_bits) - 1;
  auto psum_value = [&](uint64_t i) -> uint64_t {
    const auto w = psum_rng.block(i);
    if (req.unit != "mac_ws") {
      const double u = (w[0] + 0.5) * 0x1p-32, v = (w[1] + 0.5) * 0x1p-32;
      const double z = req.stream == "laplace" ? (u < 0.5 ? std::log(2 * u) : -std::log(2 * (1 - u)))
                                               : std::sqrt(-2 * std::log(u)) * std::cos(2 * M_PI * v);
      return arith::encode(pfmt, z).code;
    }
    if (req.stream == "uniform" || recorded) return ((uint64_t{w[0]} << 32) | w[1]) & mp;
    return operand(w[2], w[3], req.acc_bits, mp);
  };
  LaneValues psum{}, en{}, load{}, a_held{}, w_bus{};
  std::vector<uint64_t> ops_per_step;
  for (uint64_t t = 0; t < steps; ++t) {
    for (int l = 0; l < 64; ++l) {
      // Lane l walks its own contiguous piece of the stream.
      if (recorded) {
        const auto& [x, y] = req.operands[size_t(l) * steps + t];
        a[l] = x & ma;
        b[l] = y & mb;
        continue;
      }
      const auto w = rng.block(uint64_t(l) * steps + t);
      a[l] = operand(w[0], w[2], wa, ma);
      b[l] = operand(w[1], w[3], wb, mb);
    }
    uint64_t ops = 64;
    if (ws) {
      // A load step brings only the new weight (this step's b); otherwise the weight bus
      // holds and a product is computed. On a load step the activation and psum hold.
      ops = 0;
      for (int l = 0; l < 64; ++l) {
        load[l] = t == 0 || (t + uint64_t(l)) % 64 == 0;
        en[l] = !load[l];
        if (load[l]) {
          w_bus[l] = b[l];
          a[l] = a_held[l];
        } else {
          a_held[l] = a[l];
          psum[l] = psum_value(uint64_t(l) * steps + t);
          ++ops;
        }
        b[l] = w_bus[l];
      }
      sim.set_input("w_load_i", load);
      sim.set_input("en_i", en);
      sim.set_input("psum_i", psum);
    }
    if (req.unit == "lns_mac_bins") {  // the read-out once per 64 products of each lane, staggered
      LaneValues read{};
      for (int l = 0; l < 64; ++l) read[l] = (t + uint64_t(l)) % 64 == 63;
      sim.set_input("read_i", read);
    }
    if (req.unit == "acc") {
      sim.set_input("in_i", a);  // one addend per operation
    } else {
      sim.set_input("a_i", a);
      sim.set_input(req.unit == "luq_mul" ? "w_i" : "b_i", b);
    }
    if (req.unit == "add") {
      LaneValues cin{};
      sim.set_input("cin_i", cin);
    }
    sim.step();
    if (t > 0) ops_per_step.push_back(ops);  // the first step is not priced (no "previous")
  }
  return finish(rep, sim, ops_per_step, req.cycle_ns);
}

// Chains: slot s runs chains 64s … 64s+63 in lanes 0 … 63, step by step; the slot's energy
// over its completed operations is one batch mean.
UnitEnergyReport run_chains(const UnitEnergyRequest& req, const CellLibrary& lib, UnitEnergyReport rep) {
  UnitSim unit(req, lib, rep);
  GateSim& sim = unit.sim;
  const bool ws = req.unit.size() > 3 && req.unit.compare(req.unit.size() - 3, 3, "_ws") == 0;
  const bool acc = req.unit == "acc";
  const bool pann = req.unit == "pann_mac";
  const uint32_t len = req.chain_len;
  const uint64_t n_chains = req.chains.size() / len;
  const uint64_t slots = (n_chains + 63) / 64;
  LaneValues a{}, b{}, c{}, clear{}, en{}, load{}, ones{};
  ones.fill(1);
  sim.set_input("rst_ni", ones);
  auto drive = [&](int l, const ChainStep& st) {
    a[l] = st.a, b[l] = st.b, c[l] = st.c;
    clear[l] = (st.ctrl & kStepClear) != 0;
    en[l] = (st.ctrl & kStepEnable) != 0;
    load[l] = (st.ctrl & kStepLoad) != 0;
  };
  auto apply = [&] {
    if (pann) {  // x = a, |w̃| = b, the sign = bit 0 of c (the port's one bit), start = kStepLoad
      sim.set_input("x_i", a);
      sim.set_input("r_i", b);
      sim.set_input("neg_i", c);
      sim.set_input("clear_i", clear);
      sim.set_input("start_i", load);
      return;
    }
    sim.set_input(acc ? "in_i" : "a_i", a);
    if (!acc) sim.set_input("b_i", b);
    sim.set_input("en_i", en);
    if (req.unit == "lns_mac_bins") sim.set_input("read_i", load);  // kStepLoad: the chain's read-out
    if (ws) {
      sim.set_input("psum_i", c);
      sim.set_input("w_load_i", load);
    } else {
      sim.set_input("clear_i", clear);
    }
  };
  // Warm-up (the simulator's first step counts no transitions): each lane starts from the
  // last step of its own last chain, as if it had just finished some other chain.
  for (int l = 0; l < 64; ++l) {
    if (uint64_t(l) >= n_chains) continue;
    const uint64_t last = l + 64 * ((n_chains - 1 - l) / 64);
    drive(l, req.chains[(last + 1) * len - 1]);
  }
  apply();
  sim.step();
  std::vector<double> slot_per_op;  // fJ per operation of each full slot
  double energy = 0;
  for (uint64_t s = 0; s < slots; ++s) {
    const size_t first_cost = sim.step_costs().size();
    for (uint32_t t = 0; t < len; ++t) {
      for (int l = 0; l < 64; ++l) {
        const uint64_t ch = s * 64 + l;
        if (ch < n_chains) {
          drive(l, req.chains[ch * len + t]);
        } else {
          clear[l] = en[l] = load[l] = 0;  // idle lane: inputs held, nothing enabled, cleared or started
        }
      }
      apply();
      sim.step();
    }
    double e = 0;
    for (size_t i = first_cost; i < sim.step_costs().size(); ++i) e += sim.step_costs()[i];
    energy += e;
    const uint64_t in_slot = std::min<uint64_t>(64, n_chains - s * 64);
    if (in_slot == 64) slot_per_op.push_back(e / double(64 * uint64_t(req.chain_ops)));
  }
  const uint64_t ops = n_chains * req.chain_ops;
  rep.operations = ops;
  uint64_t toggles = 0;
  for (uint64_t t : sim.toggles()) toggles += t;
  rep.toggles_per_op = double(toggles) / double(ops);
  rep.leakage_pj = rep.area.leakage_nw * req.cycle_ns * 1e-6 * double(n_chains * len) / double(ops);
  rep.energy_pj = energy / double(ops) * 1e-3 + rep.leakage_pj;
  const size_t S = slot_per_op.size();
  rep.batches = S;
  if (S >= 2) {
    double mean = 0, var = 0;
    for (double v : slot_per_op) mean += v;
    mean /= double(S);
    for (double v : slot_per_op) var += (v - mean) * (v - mean);
    var /= double(S - 1);
    rep.energy_ci95_pj = student_t95(S - 1) * std::sqrt(var / double(S)) * 1e-3;
  } else {
    rep.energy_ci95_pj = NAN;  // fewer than two full slots: no interval
  }
  return rep;
}

// The PANN PE on a uniform stream: each lane runs jobs back to back, each start (a fresh
// x, uniform a_bits code; |w̃| uniform in [0, 2^b_bits); a random sign) at the first edge
// done_o allows: on the last addition of the job before (count 1), or, after a job of
// w̃ = 0 or a clear, on an edge of its own. After every 64 jobs (an output) the last
// job's last addition takes an edge without a start, then one clear cycle. Inputs hold
// between starts. An operation is one addition: the figure is pJ per addition, the
// clear cycles and the starts with nothing to add included (they load registers and
// switch the adders' inputs, so they cost energy but add nothing).
UnitEnergyReport run_pann_mac(const UnitEnergyRequest& req, const CellLibrary& lib, UnitEnergyReport rep) {
  UnitSim unit(req, lib, rep);
  GateSim& sim = unit.sim;
  LaneValues ones{}, clear{}, start{}, x{}, r{}, neg{};
  ones.fill(1);
  sim.set_input("rst_ni", ones);
  std::array<uint64_t, 64> left{}, jobs{};  // the lane's count (additions left), jobs started
  std::array<bool, 64> cleared{};
  const arith::RandomStream rng(req.seed, 0x504D43u /* "PMC" */);
  const uint64_t mx = (uint64_t{1} << req.a_bits) - 1, mr = (uint64_t{1} << req.b_bits) - 1;
  std::vector<uint64_t> adds_per_step;
  uint64_t adds = 0;
  while (adds < req.vectors) {
    uint64_t now = 0;
    std::array<bool, 64> done{};
    for (int l = 0; l < 64; ++l) {
      clear[l] = start[l] = 0;
      done[l] = left[l] <= 1;
      const bool adding = left[l] != 0;  // the edge adds (no clear comes while counting)
      now += adding;
      const bool output_done = jobs[l] % 64 == 0 && jobs[l] > 0 && !cleared[l];  // its last job started
      if (output_done && !adding) {
        clear[l] = cleared[l] = true;
      } else if (!output_done && done[l]) {
        const auto w = rng.block((uint64_t(l) << 40) + jobs[l]++);
        start[l] = 1;
        cleared[l] = false;
        x[l] = w[0] & mx;
        r[l] = left[l] = w[1] & mr;
        neg[l] = w[2] & 1u;
      } else {  // an addition without a start (the output's last one included)
        --left[l];
      }
    }
    sim.set_input("clear_i", clear);
    sim.set_input("start_i", start);
    sim.set_input("x_i", x);
    sim.set_input("r_i", r);
    sim.set_input("neg_i", neg);
    sim.step();
    const LaneValues got = sim.output("done_o");  // before this edge: the netlist counts as we do
    for (int l = 0; l < 64; ++l) LPSIM_CHECK(got[l] == uint64_t(done[l]));
    if (sim.steps() > 1) {  // the first step is not priced (no "previous"); it only starts jobs
      adds_per_step.push_back(now);
      adds += now;
    }
  }
  return finish(rep, sim, adds_per_step, req.cycle_ns);
}

}  // namespace

double student_t95(uint64_t dof) {
  // Two-sided 97.5 % quantiles of Student's t; beyond 30 degrees of freedom the
  // Cornish-Fisher expansion around 1.96 is accurate to 1e-4.
  static const double table[] = {0,     12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                                 2.201, 2.179,  2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080,
                                 2.074, 2.069,  2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};
  if (dof == 0) return NAN;
  if (dof <= 30) return table[dof];
  const double z = 1.959964, v = double(dof);
  return z + (z * z * z + z) / (4 * v) + (5 * std::pow(z, 5) + 16 * z * z * z + 3 * z) / (96 * v * v);
}

UnitEnergyReport measure_unit_energy(const UnitEnergyRequest& req, const CellLibrary& lib) {
  UnitEnergyReport rep = prepare(req);
  if (req.stream == "chains") return run_chains(req, lib, rep);
  if (req.unit == "pann_mac") return run_pann_mac(req, lib, rep);
  if (req.unit != "pann_add") return run_stream(req, lib, rep);
  // PANN: each lane runs x·R jobs back to back (start, R additions, done); an operation is
  // one multiplication replaced, so its energy includes its R add cycles and the start.
  UnitSim unit(req, lib, rep);
  GateSim& sim = unit.sim;
  LaneValues ones{}, start{}, x{}, r{};
  ones.fill(1);
  sim.set_input("rst_ni", ones);
  std::array<bool, 64> busy{};
  std::array<uint64_t, 64> jobs{};
  const arith::RandomStream rng(req.seed, 0x50414Eu);
  const uint64_t mx = (uint64_t{1} << req.a_bits) - 1, mr = (uint64_t{1} << req.b_bits) - 1;
  std::vector<uint64_t> completed_per_step;
  uint64_t completed = 0;
  while (completed < req.vectors) {
    for (int l = 0; l < 64; ++l) {
      start[l] = !busy[l];
      if (start[l]) {
        const auto w = rng.block((uint64_t(l) << 40) + jobs[l]++);
        x[l] = w[0] & mx;
        r[l] = w[1] & mr;
        busy[l] = true;
      }
    }
    sim.set_input("start_i", start);
    sim.set_input("x_i", x);
    sim.set_input("r_i", r);
    sim.step();
    const LaneValues done = sim.output("done_o");
    uint64_t now = 0;
    for (int l = 0; l < 64; ++l)
      if (!start[l] && busy[l] && done[l]) {
        busy[l] = false;
        ++now;
      }
    completed += now;
    if (sim.steps() > 1) completed_per_step.push_back(now);
  }
  return finish(rep, sim, completed_per_step, req.cycle_ns);
}


}  // namespace lpsim::power

namespace lpsim::power {

namespace {

std::string fmt_hex(unsigned __int128 v) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  do s.insert(s.begin(), digits[int(v & 15)]), v >>= 4; while (v);
  return s;
}

// One integer operand as written: decimal (base 10, optional sign) or 0x hex (a code).
struct Operand {
  __int128 value = 0;
  bool hex = false;
};

// Reads every pair with its line; `check(a, b, where)` sees each one.
template <class Check>
std::vector<std::pair<uint64_t, uint64_t>> read_pairs(const std::filesystem::path& path, Check check) {
  if (std::filesystem::is_directory(path))
    throw InputError("is a directory, not a file of operand pairs", path.string(), "--stream");
  std::ifstream in(path);
  if (!in)
    throw InputError("cannot open operand file (--stream takes uniform, gauss, laplace or a file of operand pairs)",
                     path.string(), "--stream");
  std::vector<std::pair<uint64_t, uint64_t>> ops;
  std::string line;
  for (size_t n = 1; std::getline(in, line); ++n) {
    if (const size_t h = line.find('#'); h != std::string::npos) line.resize(h);
    std::istringstream ss(line);
    std::string a, b, extra;
    if (!(ss >> a)) continue;  // blank or comment line
    const std::string where = path.string() + ":" + std::to_string(n);
    auto parse = [&](const std::string& t) -> Operand {
      auto bad = [&]() -> InputError {
        return InputError("not an integer operand: '" + (t.size() > 40 ? t.substr(0, 40) + "…" : t) + "'", where);
      };
      Operand o;
      size_t i = 0;
      const bool neg = t[0] == '-';
      if (t[0] == '-' || t[0] == '+') ++i;
      int base = 10;
      if (t.size() > i + 1 && t[i] == '0' && (t[i + 1] == 'x' || t[i + 1] == 'X')) {
        if (neg) throw bad();  // a hex operand is a code: no sign
        base = 16, i += 2, o.hex = true;
      }
      if (i == t.size()) throw bad();
      unsigned __int128 v = 0;
      for (; i < t.size(); ++i) {
        const char c = t[i];
        const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : 99;
        if (d >= base) throw bad();
        v = v * unsigned(base) + unsigned(d);
        if (v > (unsigned __int128)1 << 64) break;  // beyond any operand; reported below
      }
      if (neg ? v > (unsigned __int128)1 << 63 : v > ~uint64_t{0})
        throw InputError("operand out of range of 64 bits: '" + (t.size() > 40 ? t.substr(0, 40) + "…" : t) + "'", where);
      o.value = neg ? -(__int128)v : (__int128)v;
      return o;
    };
    if (!(ss >> b) || (ss >> extra)) throw InputError("expected two operands per line", where);
    const Operand x = parse(a), y = parse(b);
    check(x, y, where);
    ops.emplace_back(uint64_t(x.value), uint64_t(y.value));  // two's complement of a negative value
  }
  return ops;
}

std::string fits_text(int bits, bool is_signed, bool either) {
  const __int128 one = 1;
  auto num = [](__int128 v) { return v < 0 ? "-" + std::to_string(uint64_t(-v)) : std::to_string(uint64_t(v)); };
  if (either)
    return std::to_string(bits) + "-bit operand ([" + num(-(one << (bits - 1))) + ", " + num((one << bits) - 1) + "])";
  if (is_signed)
    return std::to_string(bits) + "-bit signed operand ([" + num(-(one << (bits - 1))) + ", " +
           num((one << (bits - 1)) - 1) + "], or a code 0x0..0x" + fmt_hex((one << bits) - 1) + ")";
  return std::to_string(bits) + "-bit unsigned operand or code ([0, " + num((one << bits) - 1) + "])";
}

}  // namespace

std::vector<std::pair<uint64_t, uint64_t>> read_operand_file(const std::filesystem::path& path) {
  return read_pairs(path, [](const Operand&, const Operand&, const std::string&) {});
}

OperandWidths operand_widths(const UnitEnergyRequest& req) {
  OperandWidths w;
  const std::string& u = req.unit;
  const bool fp = u == "fp_add" || u == "fp8_mac" || u == "fp_mul" || u == "fp_mul_rne" || u == "fp_mac" ||
                  u == "fp8_mac_ws" || u == "fp_mac_ws";
  if (fp) {
    const arith::NumberFormat f = arith::parse_format(req.format);
    const auto* ff = std::get_if<arith::FloatFormat>(&f);
    if (!ff) throw InputError(u + " takes a floating-point format, not '" + req.format + "'", {}, "--format");
    w.a_bits = w.b_bits = ff->total_bits();
    w.a_signed = w.b_signed = false;  // codes
  } else if (is_lns_unit(u)) {
    w.a_bits = w.b_bits = arith::parse_lns_format(req.format).total_bits();
    w.a_signed = w.b_signed = false;  // codes {sign, e}
  } else if (u == "luq_mul" || u == "luq_mac") {
    w.a_bits = u == "luq_mac" ? req.a_bits : 4, w.b_bits = 4;
    w.a_signed = true;    // INT4 activation (luq_mac: or 5 bits)
    w.b_signed = false;   // FP4 weight code
  } else if (u == "add") {
    w.a_bits = w.b_bits = req.a_bits;
    w.either = true;
  } else if (u == "acc") {
    w.a_bits = req.a_bits;
    w.a_signed = req.is_signed;
    w.b_used = false;
  } else if (u == "mul" || u == "mac" || u == "mac_ws" || u == "pann_add") {
    w.a_bits = req.a_bits, w.b_bits = req.b_bits;
    w.a_signed = w.b_signed = req.is_signed && u != "pann_add";
  } else if (u == "pann_mac") {
    throw InputError("pann_mac runs its own uniform jobs (or a network's chains); a file of operand pairs is not "
                     "supported for it",
                     {}, "--stream");
  } else {
    throw InputError("unknown unit '" + u + "'", {}, "--unit");
  }
  return w;
}

std::vector<std::pair<uint64_t, uint64_t>> read_operand_file(const std::filesystem::path& path,
                                                             const UnitEnergyRequest& req) {
  const OperandWidths w = operand_widths(req);
  auto check = [&](const char* name, const Operand& o, int bits, bool is_signed, const std::string& where) {
    const __int128 one = 1;
    const bool decimal_signed = !o.hex && (is_signed || w.either);
    const __int128 lo = decimal_signed ? -(one << (bits - 1)) : 0;
    const __int128 hi = (!o.hex && is_signed && !w.either) ? (one << (bits - 1)) - 1 : (one << bits) - 1;
    if (o.value < lo || o.value > hi) {
      const std::string v = o.hex ? "0x" + fmt_hex((unsigned __int128)o.value)
                                  : (o.value < 0 ? "-" + std::to_string(uint64_t(-o.value)) : std::to_string(uint64_t(o.value)));
      throw InputError(std::string("operand ") + name + " = " + v + " does not fit " + req.unit + "'s " +
                           fits_text(bits, is_signed, w.either),
                       where);
    }
  };
  return read_pairs(path, [&](const Operand& a, const Operand& b, const std::string& where) {
    check("a", a, w.a_bits, w.a_signed, where);
    if (w.b_used) check("b", b, w.b_bits, w.b_signed, where);
  });
}

}  // namespace lpsim::power
