// `lpsim energy-findings`: the gate-level comparisons of the energy/area issue, measured
// on the synthesised RTL, as a table, CSV and JSON under results/energy/.
#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "arith/atomic_file.h"
#include "cli/commands.h"
#include "power_models/resources.h"
#include "power_models/unit_energy.h"

namespace lpsim::cli {

Command add_energy_findings(CLI::App& app, const bool& json) {
  struct Opts {
    std::string out = "results/energy";
    uint64_t vectors = 1 << 16;
    uint64_t seed = 1;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* sub = app.add_subcommand("energy-findings", "Gate-level energy/area comparisons (signed vs unsigned, Booth vs array, ...)");
  sub->add_option("--out", o->out, "output directory")->capture_default_str();
  sub->add_option("--vectors,-n", o->vectors, "operations per measurement")->capture_default_str();
  sub->add_option("--seed", o->seed, "seed of the operand streams")->capture_default_str();
  return {sub, [o, &json] {
            const power::CellLibrary lib = power::load_cell_library(power::default_cell_library_path());
            struct Row {
              std::string finding, config;
              power::UnitEnergyReport r;
              std::string reference;
            };
            std::vector<Row> rows;
            auto measure = [&](const std::string& finding, const std::string& config, power::UnitEnergyRequest q,
                               const std::string& reference = "") {
              q.vectors = o->vectors;
              q.seed = o->seed;
              q.rtl_dir = power::rtl_dir();
              q.cache_dir = std::filesystem::path(o->out) / "netlists";
              rows.push_back({finding, config, power::measure_unit_energy(q, lib), reference});
              std::cerr << "." << std::flush;
            };
            using Req = power::UnitEnergyRequest;
            auto req = [](const char* unit, const char* arch = "array") {  // every other field at its default
              Req r;
              r.unit = unit, r.arch = arch;
              return r;
            };
            for (int bits : {2, 4, 8})
              for (bool s : {true, false}) {
                const std::string sg = s ? "signed" : "unsigned";
                Req mul = req("mul", "array");
                mul.a_bits = mul.b_bits = bits;
                mul.is_signed = s;
                Req mac = mul;
                mac.unit = "mac";
                mac.acc_bits = 32;
                measure("1 split", fmt::format("{} {}b multiplier (array)", sg, bits), mul);
                measure("1 split", fmt::format("{} {}b MAC, 32b accumulator", sg, bits), mac);
              }
            for (int bits : {4, 8})
              for (bool s : {true, false}) {
                Req mac = req("mac", "array");
                mac.a_bits = mac.b_bits = bits;
                mac.acc_bits = 32;
                mac.is_signed = s;
                mac.stream = "gauss";
                measure("2 signed vs unsigned", fmt::format("{} {}b MAC, zero-mean Gaussian operands{}",
                                                            s ? "signed" : "unsigned", bits, s ? "" : " (zero point 2^(b-1))"), mac);
              }
            for (int bits : {8, 16})
              for (const char* arch : {"array", "booth"}) {
                Req m = req("mul", arch);
                m.a_bits = m.b_bits = bits;
                measure("3 booth vs array", fmt::format("signed {}b multiplier, {}", bits, arch), m);
              }
            for (const char* arch : {"array", "booth"}) {
              Req zd = req("mul", arch);
              measure("glitches", fmt::format("signed 8b {} multiplier, zero-delay", arch), zd);
              Req ud = zd;
              ud.unit_delay = true;
              ud.vectors = std::min<uint64_t>(o->vectors, 8192);
              measure("glitches", fmt::format("signed 8b {} multiplier, unit-delay (with glitches)", arch), ud);
            }
            for (const char* f : {"fp8_e4m3", "fp8_e5m2"}) {
              Req fm = req("fp8_mac");
              fm.format = f;
              measure("4 FP8 vs INT8 MAC", fmt::format("{} MAC, FP32 accumulator, N(0,1) operands", f), fm);
            }
            Req i8 = req("mac", "array");
            i8.stream = "gauss";
            measure("4 FP8 vs INT8 MAC", "signed INT8 MAC, 32b accumulator, quantised Gaussian operands", i8);
            Req luq = req("luq_mul");
            measure("5 LUQ vs INT4", "LUQ INT4 x FP4 shift unit", luq, "paper: ~5x less multiplier area");
            Req i4 = req("mul", "array");
            i4.a_bits = i4.b_bits = 4;
            measure("5 LUQ vs INT4", "signed INT4 x INT4 array multiplier", i4);
            // Log-domain units against integer MACs (issue 17), N(0,1) operands on both
            // (quantised onto the integer grid, nearest in the log domain for LNS). Formats
            // of matched dynamic range: lns4_b1 spans 2^3 as INT4 spans 7, lns6_b2 2^7.5 as
            // INT8 127; lns8_b3 matches INT8's width. Linear units sized for 4096 products.
            for (const int bits : {4, 8}) {
              Req im = req("mac", "array");
              im.a_bits = im.b_bits = bits;
              im.stream = "gauss";
              measure("7 LNS vs INT", fmt::format("signed INT{} MAC, 32b accumulator, quantised Gaussian operands", bits), im);
            }
            for (const char* f : {"lns4_b1", "lns6_b2", "lns8_b3"})
              for (const auto& [unit, what] : {std::pair{"lns_mac", "A log-multiply, exact linear sum"},
                                               std::pair{"lns_mac_bins", "A' gamma bins, read out per 64"},
                                               std::pair{"lns_log_acc", "B log-domain sum, sb/db ROMs"},
                                               std::pair{"lns_mitchell_acc", "C Mitchell, no ROM"}}) {
                Req l = req(unit);
                l.format = f;
                l.acc_bits = 0;  // the width for arith::kLnsUnitTerms products
                l.stream = "gauss";
                measure("7 LNS vs INT", fmt::format("{} {}", f, what), l);
              }
            Req a8 = req("add", "ripple");
            a8.a_bits = 8;
            measure("6 Horowitz", "int8 add (ripple)", a8, "0.03 pJ");
            Req a32 = a8;
            a32.a_bits = 32;
            measure("6 Horowitz", "int32 add (ripple)", a32, "0.1 pJ");
            Req m8 = req("mul", "array");
            measure("6 Horowitz", "int8 mult (array)", m8, "0.2 pJ");
            Req m32 = req("mul", "array");
            m32.a_bits = m32.b_bits = 32;
            measure("6 Horowitz", "int32 mult (array)", m32, "3.1 pJ");
            Req f16 = req("fp_add");
            f16.format = "fp16";
            measure("6 Horowitz", "fp16 add", f16, "0.4 pJ");
            Req f32 = f16;
            f32.format = "fp32";
            measure("6 Horowitz", "fp32 add", f32, "0.9 pJ");
            Req fm16 = req("fp_mul_rne");
            fm16.format = "fp16";
            measure("6 Horowitz", "fp16 mult (RNE, array significands)", fm16, "1.1 pJ");
            Req fm32 = fm16;
            fm32.format = "fp32";
            measure("6 Horowitz", "fp32 mult (RNE, array significands)", fm32, "3.7 pJ");
            std::cerr << "\n";

            std::string csv = "finding,configuration,module,energy_pj,energy_ci95_pj,toggles_per_op,area_um2,nand2_eq,reference\n";
            nlohmann::json j = nlohmann::json::array();
            std::string table = fmt::format("{:<22} {:<62} {:>9} {:>8} {:>9} {:>8}  {}\n", "finding", "configuration",
                                            "pJ/op", "±95%", "area_um2", "NAND2eq", "reference");
            for (const Row& row : rows) {
              const auto& r = row.r;
              csv += fmt::format("{},\"{}\",{},{:.6f},{:.6f},{:.2f},{:.2f},{:.1f},\"{}\"\n", row.finding, row.config,
                                 r.module, r.energy_pj, r.energy_ci95_pj, r.toggles_per_op, r.area.area_um2,
                                 r.area.nand2_equivalents, row.reference);
              j.push_back({{"finding", row.finding}, {"configuration", row.config}, {"module", r.module},
                           {"parameters", r.params}, {"energy_pj", r.energy_pj}, {"energy_ci95_pj", r.energy_ci95_pj},
                           {"toggles_per_op", r.toggles_per_op}, {"area_um2", r.area.area_um2},
                           {"nand2_eq", r.area.nand2_equivalents}, {"reference", row.reference}});
              table += fmt::format("{:<22} {:<62} {:>9.4f} {:>8.4f} {:>9.1f} {:>8.0f}  {}\n", row.finding, row.config,
                                   r.energy_pj, r.energy_ci95_pj, r.area.area_um2, r.area.nand2_equivalents,
                                   row.reference);
            }
            const std::filesystem::path dir(o->out);
            atomic_write_file(dir / "findings.csv", csv);
            atomic_write_file(dir / "findings.json", j.dump(2) + "\n");
            std::cout << (json ? j.dump(2) + "\n" : table + "wrote " + dir.string() + "/findings.csv, findings.json\n");
            return 0;
          }};
}

}  // namespace lpsim::cli
