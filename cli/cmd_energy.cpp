// `lpsim energy`: gate-level energy per operation and area of an rtl/ unit.
#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "arith/error.h"
#include "cli/commands.h"
#include "power_models/analytic_pann.h"
#include "power_models/resources.h"
#include "power_models/unit_energy.h"

namespace lpsim::cli {

Command add_energy(CLI::App& app, const bool& json) {
  struct Opts {
    power::UnitEnergyRequest req;
    bool is_unsigned = false;
    std::string cache = "results/netlists";
    std::string model = "gate";
    std::string wire_load = power::kDefaultWireLoad;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* sub = app.add_subcommand("energy", "Gate-level energy per operation and area of an RTL unit (Yosys + switching)");
  sub->add_option("--unit", o->req.unit,
                  "mul | mac | mac_ws | acc | add | pann_add | pann_mac | luq_mul | fp_add | fp_mul | fp_mul_rne | fp_mac | "
                  "fp_mac_ws | fp8_mac | fp8_mac_ws (*_ws: weight-stationary systolic PEs; pann_mac: the PANN PE, "
                  "energy per addition)")
      ->capture_default_str();
  sub->add_option("--format", o->req.format,
                  "fp_add, fp_mul_rne, fp_mac, fp_mac_ws: fp16 | bf16 | fp32; fp_mul: fp8_e4m3 | fp8_e5m2; fp8_mac, "
                  "fp8_mac_ws: fp8_e4m3 | fp8_e5m2 | fp16")
      ->capture_default_str();
  sub->add_option("--stream", o->req.stream,
                  "uniform | gauss | laplace (quantised zero-mean) | FILE of operand pairs (two integers per line)")
      ->capture_default_str();
  sub->add_option("--arch", o->req.arch, "array | booth (mul, mac, mac_ws); ripple | kogge_stone (add)")->capture_default_str();
  sub->add_option("--a-bits", o->req.a_bits,
                  "operand A width (add: adder width; acc: input width; pann_add, pann_mac: activation width)")
      ->capture_default_str();
  sub->add_option("--b-bits", o->req.b_bits,
                  "operand B width (pann_add: width of the repetition count R; pann_mac: width of |weight|)")
      ->capture_default_str();
  sub->add_option("--acc-bits", o->req.acc_bits,
                  "accumulator width (mac; mac_ws: partial-sum width; pann_mac: each of its two sums)")
      ->capture_default_str();
  sub->add_flag("--signed,!--unsigned", o->req.is_signed, "two's complement operands (default) or unsigned");
  sub->add_option("--vectors,-n", o->req.vectors, "operations simulated (uniform random operands)")->capture_default_str();
  sub->add_option("--seed", o->req.seed, "seed of the operand stream")->capture_default_str();
  sub->add_option("--cycle-ns", o->req.cycle_ns, "clock period for leakage energy")->capture_default_str();
  sub->add_option("--netlist-cache", o->cache, "folder of cached Yosys netlists")->capture_default_str();
  sub->add_flag("--unit-delay", o->req.unit_delay, "unit-delay simulation: count glitches too (slower)");
  sub->add_option("--wire-load", o->wire_load, "NanGate wire-load model for net capacitance from fan-out (none: pins only)")
      ->capture_default_str();
  sub->add_option("--model", o->model, "gate (switching of the synthesised netlist) | analytic (PANN toggle model)")
      ->capture_default_str();
  return {sub, [o, &json] {
            o->req.rtl_dir = power::rtl_dir();
            o->req.cache_dir = o->cache;
            const std::string s = o->req.stream;
            if (s != "uniform" && s != "gauss" && s != "laplace") {  // anything else names a file
              o->req.operands = power::read_operand_file(s);
              o->req.stream = "operands";
            }
            power::CellLibrary lib = power::load_cell_library(power::default_cell_library_path());
            lib.wire_load = power::load_wire_load(power::default_wire_load_path(), o->wire_load);
            if (o->model == "analytic") {
              if (o->req.unit != "mul" && o->req.unit != "mac")
                throw InputError("the analytic model covers mul and mac", {}, "--model");
              // Coefficients fitted to the gate-level switching of array multipliers/MACs.
              const power::PannModel m = power::fit_pann_model(lib, o->req.rtl_dir, o->req.cache_dir);
              const int bx = o->req.a_bits, bw = o->req.b_bits;
              const double toggles = m.unit_toggles(o->req.unit == "mac", bx, bw, o->req.acc_bits, o->req.is_signed);
              const double e = toggles * m.pj_per_toggle;
              if (json) {
                std::cout << nlohmann::json{{"model", "analytic"}, {"unit", o->req.unit}, {"energy_pj", e},
                                            {"toggles_per_op", toggles}, {"pj_per_toggle", m.pj_per_toggle},
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
                std::cout << fmt::format("unit {} {}x{}{}, analytic PANN toggle model (fit R2: mul {:.3f}, signed acc {:.3f}, "
                                         "unsigned acc {:.3f})\nenergy/op   {:.4f} pJ\ntoggles/op  {:.1f} ({:.5f} pJ per toggle)\n",
                                         o->req.unit, bx, bw, o->req.unit == "mac" ? fmt::format(" acc {}", o->req.acc_bits) : "",
                                         m.r2_mul, m.r2_acc_signed, m.r2_acc_unsigned, e, toggles, m.pj_per_toggle);
              }
              return 0;
            }
            if (o->model != "gate") throw InputError("unknown model '" + o->model + "' (known: gate, analytic)", {}, "--model");
            const power::UnitEnergyReport r = power::measure_unit_energy(o->req, lib);
            std::string params;
            for (const auto& [k, v] : r.params) params += (params.empty() ? "" : " ") + k + "=" + v;
            if (json) {
              nlohmann::json j = {{"module", r.module}, {"parameters", r.params}, {"operations", r.operations},
                                  {"energy_pj", r.energy_pj}, {"energy_ci95_pj", r.energy_ci95_pj},
                                  {"leakage_pj", r.leakage_pj}, {"toggles_per_op", r.toggles_per_op},
                                  {"area_um2", r.area.area_um2}, {"nand2_eq", r.area.nand2_equivalents},
                                  {"cells", r.area.cells}, {"model", "gate"}, {"library", "NanGate45 typical 1.1 V"}};
              std::cout << j.dump(2) << "\n";
              return 0;
            }
            std::cout << fmt::format("unit {} ({}), {} {}, gate-level model, NanGate 45 nm typical, 1.1 V\n", r.module,
                                     params, r.operations, r.module == "pann_mac" ? "additions (op = one addition)" : "operations");
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
