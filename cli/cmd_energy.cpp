// `lpsim energy`: gate-level energy per operation and area of an rtl/ unit.
#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "arith/error.h"
#include "cli/commands.h"
#include "power_models/unit_energy.h"

namespace lpsim::cli {

Command add_energy(CLI::App& app, const bool& json) {
  struct Opts {
    power::UnitEnergyRequest req;
    bool is_unsigned = false;
    std::string cache = "results/netlists";
  };
  auto o = std::make_shared<Opts>();
  CLI::App* sub = app.add_subcommand("energy", "Gate-level energy per operation and area of an RTL unit (Yosys + switching)");
  sub->add_option("--unit", o->req.unit, "mul | mac | add | luq_mul | fp_add")->capture_default_str();
  sub->add_option("--format", o->req.format, "fp_add format: fp16 | bf16 | fp32")->capture_default_str();
  sub->add_option("--stream", o->req.stream, "uniform | gauss (quantised zero-mean Gaussian)")->capture_default_str();
  sub->add_option("--arch", o->req.arch, "array | booth (mul, mac); ripple | kogge_stone (add)")->capture_default_str();
  sub->add_option("--a-bits", o->req.a_bits, "operand A width (add: adder width)")->capture_default_str();
  sub->add_option("--b-bits", o->req.b_bits, "operand B width")->capture_default_str();
  sub->add_option("--acc-bits", o->req.acc_bits, "accumulator width (mac)")->capture_default_str();
  sub->add_flag("--signed,!--unsigned", o->req.is_signed, "two's complement operands (default) or unsigned");
  sub->add_option("--vectors,-n", o->req.vectors, "operations simulated (uniform random operands)")->capture_default_str();
  sub->add_option("--seed", o->req.seed, "seed of the operand stream")->capture_default_str();
  sub->add_option("--cycle-ns", o->req.cycle_ns, "clock period for leakage energy")->capture_default_str();
  sub->add_option("--netlist-cache", o->cache, "folder of cached Yosys netlists")->capture_default_str();
  return {sub, [o, &json] {
            o->req.rtl_dir = std::filesystem::path(LPSIM_SOURCE_DIR) / "rtl";
            o->req.cache_dir = o->cache;
            const power::CellLibrary lib = power::load_cell_library(power::default_cell_library_path());
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
            std::cout << fmt::format("unit {} ({}), {} operations, gate-level model, NanGate 45 nm typical, 1.1 V\n",
                                     r.module, params, r.operations);
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
