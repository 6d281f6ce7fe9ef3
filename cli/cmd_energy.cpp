// `lpsim energy`: gate-level energy per operation and area of an rtl/ unit.
#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "arith/error.h"
#include "cli/commands.h"
#include "cli/user_unit_options.h"
#include "power_models/analytic_pann.h"
#include "power_models/operand_file.h"
#include "power_models/resources.h"
#include "power_models/unit_energy.h"

namespace lpsim::cli {

namespace {

// `energy --rtl`: the user's unit (its generated wrapper and files) and lpsim's unit of the
// same kind and widths, synthesised by the same Yosys flow and priced on the same operand
// stream, side by side.
int price_user_unit(const rtl::UserUnitSpec& spec0, power::UnitEnergyRequest req, const std::string& cache,
                    const std::string& wire_load, bool arch_given, bool json) {
  const rtl::UserUnitSpec spec = rtl::resolved(spec0);
  const rtl::UserUnitWrapper w = rtl::write_user_unit_wrapper(spec, cache);
  const std::map<std::string, std::string>& mapping = w.mapping;
  req.unit = spec.kind;
  req.a_bits = spec.a_bits;
  req.b_bits = spec.b_bits;
  req.acc_bits = spec.acc_bits;
  req.is_signed = spec.is_signed;
  if (!arch_given) req.arch = spec.kind == "add" ? "ripple" : "array";
  // The format as the built-in unit names it (fp8_mac's e4m3 is fp8_e4m3): the spec's one reader.
  const bool fp = spec.kind == "fp_add" || spec.kind == "fp_mul_rne" || spec.kind == "fp8_mac";
  req.format = fp ? rtl::user_unit_float_format(spec).name : spec.format;
  req.rtl_dir = power::rtl_dir();
  req.cache_dir = cache;
  if (req.stream != "uniform" && req.stream != "gauss" && req.stream != "laplace") {
    req.operands = power::read_operand_file(req.stream, req);
    req.stream = "operands";
  }
  power::CellLibrary lib = power::load_cell_library(power::default_cell_library_path());
  lib.wire_load = power::load_wire_load(power::default_wire_load_path(), wire_load);
  const power::UnitEnergyReport ours = power::measure_unit_energy(req, lib);
  power::UnitEnergyRequest theirs_req = req;
  theirs_req.top = rtl::kWrapperModule;
  theirs_req.sources = w.sources;
  const power::UnitEnergyReport theirs = power::measure_unit_energy(theirs_req, lib);
  auto row = [](const power::UnitEnergyReport& r) {
    return nlohmann::json{{"module", r.module},         {"energy_pj", r.energy_pj},   {"energy_ci95_pj", r.energy_ci95_pj},
                          {"leakage_pj", r.leakage_pj}, {"toggles_per_op", r.toggles_per_op},
                          {"area_um2", r.area.area_um2}, {"nand2_eq", r.area.nand2_equivalents}, {"cells", r.area.cells}};
  };
  nlohmann::json mine = row(theirs);
  mine["module"] = spec.top;
  const double e_ratio = theirs.energy_pj / ours.energy_pj, a_ratio = theirs.area.area_um2 / ours.area.area_um2;
  if (json) {
    std::cout << nlohmann::json{{"kind", spec.kind}, {"operations", theirs.operations}, {"stream", req.stream},
                                {"yours", mine}, {"lpsim", row(ours)}, {"energy_ratio", e_ratio},
                                {"area_ratio", a_ratio}, {"ports", describe_ports(spec, mapping)},
                                {"library", "NanGate45 typical 1.1 V"}}
                     .dump(2)
              << "\n";
    return 0;
  }
  std::string params;
  for (const auto& [k, v] : ours.params) params += (params.empty() ? "" : " ") + k + "=" + v;
  std::cout << fmt::format("{}; {} operations of the {} stream, gate-level, NanGate 45 nm typical, 1.1 V\n",
                           describe_ports(spec, mapping), theirs.operations, req.stream);
  std::cout << fmt::format("{:<44} {:>14} {:>10} {:>12} {:>10} {:>9}\n", "", "energy/op pJ", "± 95 %", "toggles/op",
                           "area um2", "NAND2-eq");
  auto line = [&](const std::string& name, const power::UnitEnergyReport& r) {
    std::cout << fmt::format("{:<44} {:>14.4f} {:>10.4f} {:>12.1f} {:>10.1f} {:>9.0f}\n", name, r.energy_pj,
                             r.energy_ci95_pj, r.toggles_per_op, r.area.area_um2, r.area.nand2_equivalents);
  };
  line("yours: " + spec.top, theirs);
  line("lpsim: " + ours.module + (params.empty() ? "" : " (" + params + ")"), ours);
  std::cout << fmt::format("{:<44} {:>14.3f} {:>10} {:>12} {:>10.3f}\n", "ratio yours / lpsim", e_ratio, "", "", a_ratio);
  std::cout << "(priced, not verified: `lpsim verify-rtl` with the same options checks it against the golden model)\n";
  return 0;
}

}  // namespace

Command add_energy(CLI::App& app, const bool& json) {
  struct Opts {
    power::UnitEnergyRequest req;
    bool is_unsigned = false;
    std::string cache = "results/netlists";
    std::string model = "gate";
    std::string wire_load = power::kDefaultWireLoad;
    UserUnitOptions user;  // --rtl: a user's unit priced beside the built-in one of its kind
  };
  auto o = std::make_shared<Opts>();
  o->req.format.clear();  // per unit (set_defaults)
  CLI::App* sub = app.add_subcommand("energy", "Gate-level energy per operation and area of an RTL unit (Yosys + switching)");
  sub->add_option("--unit", o->req.unit,
                  "mul | mac | mac_ws | acc | add | pann_add | pann_mac | luq_mul | luq_mac | fp_add | fp_mul | fp_mul_rne | fp_mac | "
                  "fp_mac_ws | fp8_mac | fp8_mac_ws | lns_mac | lns_mac_bins | lns_log_acc | lns_mitchell_acc (*_ws: "
                  "weight-stationary systolic PEs; pann_mac: the PANN PE, energy per addition; luq_mac: the LUQ shift unit "
                  "into an accumulator, --a-bits 4 (INT4) or 5 (a uint4 code); lns_*: log-number-system MACs of "
                  "--format lns<N>_b<b>: A log-multiply + exact linear sum, A' the same in 2^b bins read out once per 64 "
                  "products, B log-domain sum with sb/db tables, C the same with Mitchell's approximation)")
      ->capture_default_str();
  CLI::Option* format = sub->add_option(
      "--format", o->req.format,
      "FP and LNS units only. fp_add, fp_mul_rne, fp_mac, fp_mac_ws: fp16 (default) | bf16 | fp32; fp_mul: fp8_e4m3 "
      "(default) | fp8_e5m2; fp8_mac, fp8_mac_ws: fp8_e4m3 (default) | fp8_e5m2 | fp16; lns_*: lns<N>_b<b> (default "
      "lns8_b3: sign + 7-bit log code with 3 fraction bits)");
  CLI::Option* alpha = sub->add_option("--alpha", o->req.lns_alpha,
                                       "lns_mac, lns_mac_bins: fraction bits of the 2^(r/2^b) table (default: lpsim's for the format, printed with the "
                                       "unit's parameters)");
  CLI::Option* acc_frac = sub->add_option("--acc-frac", o->req.lns_acc_frac,
                                          "lns_log_acc, lns_mitchell_acc: fraction bits of the sum's log (default: lpsim's for the "
                                          "format, printed with the unit's parameters)");
  CLI::Option* stream = sub->add_option(
      "--stream", o->req.stream,
      "uniform | gauss | laplace (quantised zero-mean) | FILE of operand pairs (two integers per line, each must fit "
      "the unit's operand width)")
      ->capture_default_str();
  CLI::Option* arch = sub->add_option("--arch", o->req.arch,
                                      "array (default) | booth for mul, mac, mac_ws; ripple (default) | kogge_stone for add");
  CLI::Option* a_bits = sub->add_option(
      "--a-bits", o->req.a_bits,
      "operand A width, 2..32 (add: adder width, 2..64; acc: input width; pann_add, pann_mac: activation width)")
      ->capture_default_str();
  CLI::Option* b_bits = sub->add_option("--b-bits", o->req.b_bits,
                                        "operand B width, 2..32 (pann_add: width of the repetition count R, 2..8; pann_mac: width of |weight|)")
                            ->capture_default_str();
  CLI::Option* acc_bits =
      sub->add_option("--acc-bits", o->req.acc_bits,
                      "accumulator width (mac: a_bits + b_bits .. 64; mac_ws: partial-sum width; acc: a_bits .. 64; pann_mac: each of its two sums; "
                      "lns_mac, lns_mac_bins: the linear sum, default exact for 4096 products; lns_log_acc, lns_mitchell_acc: "
                      "the sum's log code, default the products' range plus 12 octaves)")
          ->capture_default_str();
  CLI::Option* sign = sub->add_flag("--signed,!--unsigned", o->req.is_signed,
                                    "two's complement operands (default) or unsigned (mul, mac, mac_ws, acc)");
  CLI::Option* vectors = sub->add_option("--vectors,-n", o->req.vectors, "operations simulated (generated streams)")
                             ->capture_default_str();
  sub->add_option("--seed", o->req.seed, "seed of the operand stream")->capture_default_str();
  sub->add_option("--cycle-ns", o->req.cycle_ns, "clock period for leakage energy (positive, finite)")->capture_default_str();
  sub->add_option("--netlist-cache", o->cache, "folder of cached Yosys netlists")->capture_default_str();
  CLI::Option* unit_delay = sub->add_flag("--unit-delay", o->req.unit_delay, "unit-delay simulation: count glitches too (slower)");
  sub->add_option("--wire-load", o->wire_load, "NanGate wire-load model for net capacitance from fan-out (none: pins only)")
      ->capture_default_str();
  sub->add_option("--model", o->model,
                  "gate (switching of the synthesised netlist) | analytic (PANN toggle model: mul and mac, array, "
                  "uniform operands)")
      ->capture_default_str();
  CLI::Option_group* own =
      sub->add_option_group("your own unit", "price your RTL beside lpsim's unit of the same kind (same flow, same stream)");
  o->user.add_to(own);
  CLI::Option* unit_opt = sub->get_option("--unit");
  return {sub, [o, &json, format, stream, arch, a_bits, b_bits, acc_bits, sign, vectors, unit_delay, unit_opt, alpha,
                acc_frac] {
            auto given = [](const CLI::Option* opt) { return opt->count() > 0; };
            if (o->user.used()) {
              if (given(unit_opt))
                throw InputError("names one of lpsim's units; with --rtl your unit's kind is --kind (lpsim's unit of "
                                 "that kind is priced beside it)",
                                 {}, "--unit");
              UserUnitOptions::Given g;
              if (given(a_bits)) g.a_bits = o->req.a_bits;
              if (given(b_bits)) g.b_bits = o->req.b_bits;
              if (given(acc_bits)) g.acc_bits = o->req.acc_bits;
              if (given(sign)) g.is_signed = o->req.is_signed;
              if (given(format)) g.format = o->req.format;
              if (o->model != "gate") throw InputError("a user's unit is priced at the gates only", {}, "--model");
              return price_user_unit(o->user.spec(g), o->req, o->cache, o->wire_load, given(arch), json);
            }
            o->user.check_not_orphaned();
            const std::string& unit = o->req.unit;
            if (o->model != "gate" && o->model != "analytic")
              throw InputError("unknown model '" + o->model + "' (known: gate, analytic)", {}, "--model");
            const bool fp = unit == "fp_add" || unit == "fp_mul" || unit == "fp_mul_rne" || unit == "fp_mac" ||
                            unit == "fp_mac_ws" || unit == "fp8_mac" || unit == "fp8_mac_ws";
            const bool lns = unit == "lns_mac" || unit == "lns_mac_bins" || unit == "lns_log_acc" || unit == "lns_mitchell_acc";
            // Natural defaults per unit: the first architecture and format each takes.
            if (!given(arch)) o->req.arch = unit == "add" ? "ripple" : "array";
            if (!given(a_bits) && unit == "luq_mac") o->req.a_bits = 4;
            if (!given(format))
              o->req.format = lns ? "lns8_b3" : unit == "fp_mul" || unit == "fp8_mac" || unit == "fp8_mac_ws" ? "fp8_e4m3" : "fp16";
            if (!given(acc_bits) && lns) o->req.acc_bits = 0;  // the unit's own default width
            // An option the unit does not take is an error, not silently ignored.
            auto takes = [&](const CLI::Option* opt) -> bool {
              if (opt == format) return fp || lns;
              if (opt == alpha) return unit == "lns_mac" || unit == "lns_mac_bins";
              if (opt == acc_frac) return unit == "lns_log_acc" || unit == "lns_mitchell_acc";
              if (opt == arch) return unit == "mul" || unit == "mac" || unit == "mac_ws" || unit == "add";
              if (opt == a_bits) return !fp && !lns && unit != "luq_mul";
              if (opt == b_bits)
                return unit == "mul" || unit == "mac" || unit == "mac_ws" || unit == "pann_add" || unit == "pann_mac";
              if (opt == acc_bits)
                return unit == "mac" || unit == "mac_ws" || unit == "acc" || unit == "pann_mac" || unit == "luq_mac" || lns;
              if (opt == sign) return unit == "mul" || unit == "mac" || unit == "mac_ws" || unit == "acc";
              return true;
            };
            for (const CLI::Option* opt : {format, arch, a_bits, b_bits, acc_bits, sign, alpha, acc_frac})
              if (given(opt) && !takes(opt))
                throw InputError("does not apply to --unit " + unit + (fp || lns ? " (its operands are given by --format)" : ""),
                                 {}, opt->get_name());
            o->req.rtl_dir = power::rtl_dir();
            o->req.cache_dir = o->cache;
            const std::string s = o->req.stream;
            uint64_t pairs = 0;
            if (o->model == "analytic") {
              // The PANN toggle model is fitted on array multipliers/MACs with uniform operands
              // (zero-delay): anything else it would silently ignore is an error.
              if (unit != "mul" && unit != "mac")
                throw InputError("the analytic model covers mul and mac, not " + unit, {}, "--model");
              if (o->req.arch != "array")
                throw InputError("the analytic model is fitted on array multipliers; --arch " + o->req.arch +
                                     " needs --model gate",
                                 {}, "--arch");
              if (s != "uniform")
                throw InputError("the analytic model assumes uniform operands; --stream " + s + " needs --model gate", {},
                                 "--stream");
              if (o->req.unit_delay) throw InputError("the analytic model is zero-delay; needs --model gate", {}, "--unit-delay");
            } else if (s != "uniform" && s != "gauss" && s != "laplace") {  // anything else names a file
              if (given(vectors))
                throw InputError("a file stream prices its own operand pairs; --vectors applies to generated streams", {},
                                 "--vectors");
              o->req.operands = power::read_operand_file(s, o->req);
              o->req.stream = "operands";
              pairs = o->req.operands.size();
            }
            power::CellLibrary lib = power::load_cell_library(power::default_cell_library_path());
            lib.wire_load = power::load_wire_load(power::default_wire_load_path(), o->wire_load);
            if (o->model == "analytic") {
              // Leakage and area from the netlist, as the library's analytic model adds them:
              // a gate-level run of the same unit (which also validates the widths).
              const power::UnitEnergyReport g = power::measure_unit_energy(o->req, lib);
              // Coefficients fitted to the gate-level switching of array multipliers/MACs.
              const power::PannModel m = power::fit_pann_model(lib, o->req.rtl_dir, o->req.cache_dir);
              const int bx = o->req.a_bits, bw = o->req.b_bits;
              const double toggles = m.unit_toggles(unit == "mac", bx, bw, o->req.acc_bits, o->req.is_signed);
              const double dynamic = toggles * m.pj_per_toggle;
              const double e = dynamic + g.leakage_pj;
              const bool extrapolated = bx > 8 || bw > 8 || (unit == "mac" && o->req.acc_bits != 16 && o->req.acc_bits != 32);
              if (json) {
                std::cout << nlohmann::json{{"model", "analytic"}, {"unit", unit}, {"energy_pj", e},
                                            {"dynamic_pj", dynamic}, {"leakage_pj", g.leakage_pj},
                                            {"area_um2", g.area.area_um2}, {"nand2_eq", g.area.nand2_equivalents},
                                            {"toggles_per_op", toggles}, {"pj_per_toggle", m.pj_per_toggle},
                                            {"extrapolated", extrapolated},
                                            {"r2_mul", m.r2_mul}, {"r2_acc_signed", m.r2_acc_signed},
                                            {"r2_acc_unsigned", m.r2_acc_unsigned},
                                            {"coefficients", {{"mul_bb", m.mul_bb}, {"mul_b", m.mul_b}, {"mul_0", m.mul_0},
                                                              {"acc_signed_B", m.acc_signed_B},
                                                              {"acc_signed_b", m.acc_signed_b},
                                                              {"acc_signed_0", m.acc_signed_0},
                                                              {"acc_unsigned_b", m.acc_unsigned_b},
                                                              {"acc_unsigned_0", m.acc_unsigned_0}}}}
                                 .dump(2)
                          << "\n";
              } else {
                std::cout << fmt::format("unit {} {}x{}{} {}, analytic PANN toggle model (fit R2: mul {:.3f}, signed acc "
                                         "{:.3f}, unsigned acc {:.3f}){}\n"
                                         "energy/op   {:.4f} pJ, of which leakage {:.5f} pJ (from the netlist)\n"
                                         "toggles/op  {:.1f} ({:.5f} pJ per toggle)\narea        {:.1f} um2 = {:.0f} "
                                         "NAND2-eq\n",
                                         unit, bx, bw, unit == "mac" ? fmt::format(" acc {}", o->req.acc_bits) : "",
                                         o->req.is_signed ? "signed" : "unsigned", m.r2_mul, m.r2_acc_signed,
                                         m.r2_acc_unsigned,
                                         extrapolated ? "\nnote: extrapolated beyond the fit (operands 2..8 bits, "
                                                        "accumulators of 16 and 32 bits)"
                                                      : "",
                                         e, g.leakage_pj, toggles, m.pj_per_toggle, g.area.area_um2,
                                         g.area.nand2_equivalents);
              }
              return 0;
            }
            const power::UnitEnergyReport r = power::measure_unit_energy(o->req, lib);
            std::string params;
            for (const auto& [k, v] : r.params) params += (params.empty() ? "" : " ") + k + "=" + v;
            if (json) {
              nlohmann::json j = {{"module", r.module}, {"parameters", r.params}, {"operations", r.operations},
                                  {"energy_pj", r.energy_pj}, {"energy_ci95_pj", r.energy_ci95_pj},
                                  {"leakage_pj", r.leakage_pj}, {"toggles_per_op", r.toggles_per_op},
                                  {"area_um2", r.area.area_um2}, {"nand2_eq", r.area.nand2_equivalents},
                                  {"cells", r.area.cells}, {"model", "gate"}, {"library", "NanGate45 typical 1.1 V"}};
              if (pairs) j["operand_pairs"] = pairs;
              std::cout << j.dump(2) << "\n";
              return 0;
            }
            std::cout << fmt::format("unit {} ({}), {} {}, gate-level model, NanGate 45 nm typical, 1.1 V\n", r.module,
                                     params, r.operations,
                                     r.module == "pann_mac" ? "additions (op = one addition)" : "operations");
            if (pairs)  // a recorded stream: say why fewer operations than pairs were priced
              std::cout << fmt::format("            from {} operand pairs in {}: each of the 64 simulation lanes starts "
                                       "from its first pair{}\n",
                                       pairs, s,
                                       pairs % 64 ? fmt::format("; the last {} (beyond a multiple of 64) are not used",
                                                                pairs % 64)
                                                  : "");
            std::cout << fmt::format("energy/op   {:.4f} pJ ± {:.4f} (95 %), of which leakage {:.5f} pJ\n", r.energy_pj,
                                     r.energy_ci95_pj, r.leakage_pj);
            std::cout << fmt::format("toggles/op  {:.1f}\narea        {:.1f} um2 = {:.0f} NAND2-eq\ncells      ",
                                     r.toggles_per_op, r.area.area_um2, r.area.nand2_equivalents);
            for (const auto& [cell, n] : r.area.cells) std::cout << " " << cell << "=" << n;
            std::cout << "\n";
            return 0;
          }};
}

}  // namespace lpsim::cli
