// `lpsim sim SCENARIO.yaml`: the scenario's network streamed through the SystemC systolic
// array of its `accelerator:` section (sim/accelerator.h), layer by layer, on real test
// images: outputs checked bit for bit against the network executor, cycles against
// SCALE-Sim's counts, every PE-cycle priced at the gates, SRAM and leakage, a power trace.
#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "arith/atomic_file.h"
#include "arith/error.h"
#include "cli/commands.h"
#include "nn/progress.h"
#include "nn/report_files.h"
#include "nn/scenario.h"
#include "nn/sim_workload.h"
#include "power_models/cell_library.h"
#include "power_models/resources.h"
#include "sim/accelerator.h"

namespace lpsim::cli {
namespace {

using json = nlohmann::json;

struct SimOpts {
  std::string file, out;
  std::vector<std::string> configs;
  int images = 0;
  bool quiet = false, verify_gates = false;
};

struct LayerRow {
  std::string config, layer, pe;
  int64_t M = 0, K = 0, N = 0, macs = 0;
  sim::GemmResult r;
  bool bit_exact = false;
  double executor_pj_per_mac = NAN, executor_ci95 = NAN;
  sim::PowerSummary p;
  uint64_t start_cycle = 0;  // in the network's run (layers back to back)
};

sim::AcceleratorSpec spec_of(const nn::Scenario& s, const nn::SimLayer& L) {
  const nn::AcceleratorSection& A = s.accelerator;
  sim::AcceleratorSpec spec;
  spec.rows = A.rows, spec.cols = A.cols;
  spec.dataflow = sim::parse_dataflow(A.dataflow);
  spec.clock_mhz = A.clock_mhz;
  spec.ifmap_sram_bytes = uint64_t(std::llround(A.ifmap_sram_kb * 1024));
  spec.filter_sram_bytes = uint64_t(std::llround(A.filter_sram_kb * 1024));
  spec.ofmap_sram_bytes = uint64_t(std::llround(A.ofmap_sram_kb * 1024));
  spec.sram_port_bits = A.sram_port_bits;
  spec.sram_source = A.sram_energy;
  spec.window_cycles = A.window_cycles;
  spec.verify_gates = A.verify_gates;
  spec.pe = L.format.empty()     ? sim::PeSpec{L.a_bits, L.w_bits, L.acc_bits, L.is_signed, L.saturate,
                                               A.pe_arch.empty() ? s.mac_arch : A.pe_arch, ""}
            : L.format == "pann" ? sim::PeSpec::pann_pe(L.a_bits, L.w_bits - 1, L.acc_bits, L.saturate)
            : L.format == "luq4" ? sim::PeSpec::luq_pe(L.a_bits, L.acc_bits)
                                 : sim::PeSpec::fp8_pe(L.format);
  return spec;
}

// Why configuration c cannot run on a weight-stationary array ("" if it can): the PANN
// and LUQ PEs accumulate in place.
std::string dataflow_problem(const nn::QuantConfigSpec& c, bool ws) {
  if (ws && c.method == "pann") return "PANN's PE (rtl/pann_mac) accumulates in place: output_stationary only";
  if (ws && c.has_training) return "LUQ's shift PE (rtl/luq_mac) accumulates in place: output_stationary only";
  return "";
}

// Whether an array's outputs equal the executor's accumulators (zero points: the
// executor's corrections applied to the array's raw sums first).
bool equals_executor(const nn::SimLayer& L, const std::vector<int64_t>& out) {
  if (out.size() != L.executor_acc.size()) return false;
  for (size_t j = 0; j < out.size(); ++j)
    if (L.centred(out[j], j) != L.executor_acc[j]) return false;
  return true;
}

std::string f6(double v) { return std::isfinite(v) ? fmt::format("{:.6g}", v) : std::string(""); }

void write_outputs(const nn::Scenario& s, const std::filesystem::path& dir, const std::vector<LayerRow>& rows,
                   const json& report) {
  std::filesystem::create_directories(dir);
  std::string csv =
      "layer,M,K,N,rows,cols,dataflow,folds,cycles,scalesim_cycles,utilization,mac_energy_pj,sram_energy_pj,"
      "leakage_pj,avg_power_mw,peak_power_mw,bit_exact,config,macs,paper_cycles,peak_to_avg,inv_utilization,"
      "pj_per_mac,executor_pj_per_mac,executor_ci95_pj,overflows,ifmap_reads,filter_reads,ofmap_reads,ofmap_writes,pe,"
      "pann_additions\n";
  const nn::AcceleratorSection& A = s.accelerator;
  for (const LayerRow& x : rows) {
    const sim::GemmResult& r = x.r;
    csv += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
                       nn::csv_escape(x.layer), x.M, x.K, x.N, A.rows, A.cols, A.dataflow, r.folds, r.cycles,
                       r.scalesim_cycles, f6(r.utilization), f6(r.mac_energy_pj), f6(r.sram_energy_pj()),
                       f6(r.leakage_pj), f6(x.p.avg_mw), f6(x.p.peak_mw), x.bit_exact ? "true" : "false",
                       nn::csv_escape(x.config), r.macs, r.paper_cycles, f6(x.p.peak_mw / x.p.avg_mw),
                       f6(1 / r.utilization), f6(r.mac_energy_pj / double(r.macs)), f6(x.executor_pj_per_mac),
                       f6(x.executor_ci95), r.overflows, r.ifmap.reads, r.filter.reads, r.ofmap.reads, r.ofmap.writes,
                       nn::csv_escape(x.pe), r.pann_additions);
  }
  atomic_write_file(dir / "sim_layers.csv", csv);
  // Wall times apart (the results above are bit-identical from run to run; these are not).
  std::string timing = "config,layer,sim_seconds,sim_mac_per_s,pe_cycles_at_gates\n";
  for (const LayerRow& x : rows)
    timing += fmt::format("{},{},{},{},{}\n", nn::csv_escape(x.config), nn::csv_escape(x.layer), f6(x.r.seconds),
                          f6(double(x.r.macs) / x.r.seconds), x.r.pe_steps_simulated);
  atomic_write_file(dir / "sim_timing.csv", timing);
  // The power trace: power_trace.csv, and its gnuplot data (one block per configuration;
  // rows hold a configuration's layers back to back, configurations one after another).
  std::string trace = "config,layer,window,start_cycle,cycles,energy_pj,power_mw\n", dat;
  std::vector<std::string> cfgs;
  const double ns = 1e3 / A.clock_mhz;
  for (const LayerRow& x : rows) {
    if (cfgs.empty() || cfgs.back() != x.config) {
      if (!cfgs.empty()) dat += "\n\n";
      cfgs.push_back(x.config);
    }
    for (size_t w = 0; w < x.r.window_energy_pj.size(); ++w) {
      const uint64_t len = sim::window_length(x.r, w, A.window_cycles), start = x.start_cycle + w * uint64_t(A.window_cycles);
      const double mw = x.r.window_energy_pj[w] / (double(len) * ns);
      trace += fmt::format("{},{},{},{},{},{},{}\n", nn::csv_escape(x.config), nn::csv_escape(x.layer), w, start, len,
                           f6(x.r.window_energy_pj[w]), f6(mw));
      dat += fmt::format("{} {}\n", double(start) * ns * 1e-3, mw);
    }
  }
  atomic_write_file(dir / "power_trace.csv", trace);
  atomic_write_file(dir / "sim.json", report.dump(2) + "\n");
  if (!s.plot || rows.empty()) return;
  // Power over time per configuration (layers back to back).
  atomic_write_file(dir / "power_trace.dat", dat);
  std::string body = fmt::format("set title {}\nset xlabel 'time (us) at {:g} MHz'\nset ylabel 'power (mW), windows of {} cycles'\n"
                     "set grid\nset key top right\n",
                     nn::gpq(fmt::format("{} on a {}x{} {} array: power over time", s.model_name.empty() ? s.arch : s.model_name,
                                         A.rows, A.cols, A.dataflow)),
                     A.clock_mhz, A.window_cycles);
  for (const LayerRow& x : rows)  // layer boundaries (the first configuration's)
    if (x.config == cfgs.front()) {
      const double t = double(x.start_cycle) * ns * 1e-3;
      body += fmt::format("set arrow from {0},graph 0 to {0},graph 1 nohead dt 3 lc rgb '#aaaaaa'\n"
                          "set label {1} at {0},graph 0.98 right rotate by 90 font ',8' tc rgb '#666666'\n",
                          t, nn::gpq(" " + x.layer));
    }
  body += "plot ";
  for (size_t c = 0; c < cfgs.size(); ++c)
    body += fmt::format("{}{} index {} using 1:2 with steps title {}", c ? ", " : "", nn::gpq(dir / "power_trace.dat"), c,
                        nn::gpq(cfgs[c]));
  body += "\n";
  nn::plot_png(dir, "power_trace", body, 1100, 520);
}

// Peak power at another clock: dynamic energy per cycle scales with f, leakage power does not.
double f_max_mhz(const std::vector<LayerRow>& rows, const std::string& config, double budget_mw, double leak_mw,
                 int window) {
  double peak_dyn_pj_per_cycle = 0;
  for (const LayerRow& x : rows)
    if (x.config == config)
      for (size_t w = 0; w < x.r.window_energy_pj.size(); ++w) {
        const uint64_t len = sim::window_length(x.r, w, window);
        const double leak_per_cycle = x.r.leakage_pj / double(x.r.cycles);
        peak_dyn_pj_per_cycle = std::max(peak_dyn_pj_per_cycle, x.r.window_energy_pj[w] / double(len) - leak_per_cycle);
      }
  if (budget_mw <= leak_mw) return 0;
  return (budget_mw - leak_mw) / (peak_dyn_pj_per_cycle * 1e-3);  // pJ/cycle × MHz = 1e-3 mW
}

int run_sim(const SimOpts& o, bool json_out) {
  std::vector<nn::Scenario> all = nn::load_scenarios(o.file);
  const power::CellLibrary lib = power::load_cell_library(power::default_cell_library_path());
  json out_rows = json::array();
  for (size_t mi = 0; mi < all.size(); ++mi) {
    nn::Scenario& s = all[mi];
    if (!s.accelerator.present)
      throw InputError("lpsim sim needs an accelerator: section (rows, cols, dataflow, clock_mhz, ...; see "
                       "scenarios/accelerator.yaml)",
                       s.file.string(), "accelerator");
    nn::AcceleratorSection& A = s.accelerator;
    if (o.verify_gates) A.verify_gates = true;
    if (!o.out.empty()) s.output_dir = all.size() == 1 ? std::filesystem::path(o.out) : o.out / std::filesystem::path(s.model_name);
    const int images = o.images > 0 ? o.images : A.images;
    // The configurations: named (flag or accelerator.configs), else every integer one.
    std::vector<std::string> names = !o.configs.empty() ? o.configs : A.configs;
    const bool ws = sim::parse_dataflow(A.dataflow) == sim::Dataflow::weight_stationary;
    for (const std::string& name : names)
      for (const auto& c : s.configs)
        if (const std::string d = dataflow_problem(c, ws); c.name == name && !d.empty())
          throw InputError("configuration " + name + ": " + d, A.where, "accelerator.dataflow");
    if (names.empty()) {
      for (const auto& c : s.configs) {
        std::string why = nn::sim_config_problem(c);
        if (const std::string d = dataflow_problem(c, ws); why.empty() && !d.empty()) why = d + " (accelerator.dataflow)";
        if (why.empty())
          names.push_back(c.name);
        else if (!o.quiet && !json_out)
          std::cerr << "lpsim sim: configuration " << c.name << " left out: " << why << "\n";
      }
      if (names.empty())
        throw InputError("no configuration of quantization.configs runs on the array (integer weights and activations "
                         "of one signedness, an integer accumulator)",
                         s.file.string(), "quantization.configs");
    }
    const bool progress = !o.quiet && !json_out;
    if (all.size() > 1 && !json_out) std::cout << (mi ? "\n" : "") << "== " << s.model_name << " ==\n";
    std::vector<LayerRow> rows;
    json jconfigs = json::array();
    uint64_t network_cycle = 0;
    std::string citation;
    double pe_area = 0, pe_leak_nw = 0;
    for (const std::string& name : names) {
      const nn::SimWorkload wl = nn::sim_workload(s, name, images, A.dataflow, s.energy_model != "none", progress);
      network_cycle = 0;
      std::unique_ptr<sim::Accelerator> acc;
      json jl = json::array();
      bool all_exact = true;
      double energy = 0;
      uint64_t cycles = 0;
      // Each simulable layer's GEMM, made once: the budget sizes below stream them again.
      std::vector<sim::Gemm> gemms(wl.layers.size());
      for (size_t li = 0; li < wl.layers.size(); ++li) {
        const nn::SimLayer& L = wl.layers[li];
        if (L.simulable) gemms[li] = {L.name, L.M, L.K, L.N, L.a, L.w};
      }
      for (size_t li = 0; li < wl.layers.size(); ++li) {
        const nn::SimLayer& L = wl.layers[li];
        if (!L.simulable) {
          if (progress) std::cerr << "lpsim sim: " << name << " " << L.name << " not simulated: " << L.note << "\n";
          jl.push_back({{"layer", L.name}, {"simulated", false}, {"note", L.note}});
          all_exact = false;
          continue;
        }
        sim::AcceleratorSpec spec = spec_of(s, L);
        if (!A.vcd.empty() && rows.empty()) spec.trace_pes = A.vcd_pes;
        if (!acc || acc->spec().pe.label() != spec.pe.label() || spec.trace_pes != acc->spec().trace_pes)
          acc = std::make_unique<sim::Accelerator>(spec, lib, power::rtl_dir(), s.netlist_cache);
        citation = acc->sram_citation(), pe_area = acc->pe_area_um2(), pe_leak_nw = acc->pe_leakage_nw();
        nn::ProgressBar bar(progress, "sim " + name + " " + L.name);
        LayerRow x;
        x.r = acc->run(gemms[li], [&](uint64_t d, uint64_t t) { bar.update(int64_t(d), int64_t(t), fmt::format("fold {}/{}", d, t)); });
        bar.finish();
        if (spec.trace_pes > 0) {
          sim::write_vcd(A.vcd, x.r, spec);
          if (progress) std::cerr << "lpsim sim: VCD of " << name << " " << L.name << " (" << spec.trace_pes
                                  << " PEs, row by row from PE(0,0)): " << A.vcd.string() << "\n";
        }
        x.pe = spec.pe.label();
        x.config = name, x.layer = L.name, x.M = L.M, x.K = L.K, x.N = L.N, x.macs = int64_t(x.r.macs);
        x.bit_exact = equals_executor(L, x.r.out);
        all_exact &= x.bit_exact;
        x.executor_pj_per_mac = L.executor_unit.empty() ? NAN : L.executor_pj_per_mac;
        x.executor_ci95 = L.executor_unit.empty() ? NAN : L.executor_ci95_pj;
        x.p = sim::power_summary(x.r, A.window_cycles, A.clock_mhz);
        x.start_cycle = network_cycle;
        network_cycle += x.r.cycles;
        energy += x.r.energy_pj(), cycles += x.r.cycles;
        jl.push_back({{"layer", L.name}, {"simulated", true}, {"M", L.M}, {"K", L.K}, {"N", L.N}, {"macs", x.r.macs},
                      {"folds", x.r.folds}, {"cycles", x.r.cycles}, {"scalesim_cycles", x.r.scalesim_cycles},
                      {"paper_cycles", x.r.paper_cycles}, {"utilization", x.r.utilization},
                      {"mac_energy_pj", x.r.mac_energy_pj}, {"sram_energy_pj", x.r.sram_energy_pj()},
                      {"leakage_pj", x.r.leakage_pj}, {"avg_power_mw", x.p.avg_mw}, {"peak_power_mw", x.p.peak_mw},
                      {"bit_exact", x.bit_exact}, {"overflows", x.r.overflows}, {"gate_mismatches", x.r.gate_mismatches},
                      {"pe", spec.pe.label()}, {"pann_additions", x.r.pann_additions},
                      {"executor_pj_per_mac", L.executor_pj_per_mac}, {"executor_ci95_pj", L.executor_ci95_pj},
                      {"executor_unit", L.executor_unit}});
        if (A.verify_gates && x.r.gate_mismatches > 0) all_exact = false;
        rows.push_back(std::move(x));
      }
      // The network: layers back to back.
      double peak = 0;
      for (const LayerRow& x : rows)
        if (x.config == name) peak = std::max(peak, x.p.peak_mw);
      const double avg = cycles ? energy / (double(cycles) * 1e3 / A.clock_mhz) : 0;
      uint64_t macs = 0;
      for (const LayerRow& x : rows)
        if (x.config == name) macs += x.r.macs;
      const double util = cycles ? double(macs) / (double(cycles) * A.rows * A.cols) : 0;
      json jc = {{"config", name}, {"images", wl.images}, {"layers", jl}, {"cycles", cycles}, {"energy_pj", energy},
                 {"macs", macs}, {"utilization", util}, {"inv_utilization", util > 0 ? 1 / util : 0},
                 {"energy_pj_per_image", energy / wl.images}, {"avg_power_mw", avg}, {"peak_power_mw", peak},
                 {"peak_to_avg", avg > 0 ? peak / avg : 0}, {"bit_exact", all_exact},
                 {"latency_us", double(cycles) / A.clock_mhz}};
      if (A.peak_power_budget_mw > 0) {
        const double leak_mw = pe_leak_nw * A.rows * A.cols * 1e-6;
        jc["budget"] = {{"peak_power_budget_mw", A.peak_power_budget_mw}, {"meets", peak <= A.peak_power_budget_mw},
                        {"max_clock_mhz", f_max_mhz(rows, name, A.peak_power_budget_mw, leak_mw, A.window_cycles)}};
        // Square arrays of other sizes at the same clock: the largest whose peak fits.
        json sizes = json::array();
        int largest = 0;
        for (const int n : A.budget_sizes) {
          double pk = 0;
          uint64_t cyc = 0;
          double e = 0;
          bool exact = true;  // the same outputs on any array size
          std::unique_ptr<sim::Accelerator> other;
          for (size_t li = 0; li < wl.layers.size(); ++li) {
            const nn::SimLayer& L = wl.layers[li];
            if (!L.simulable) continue;
            sim::AcceleratorSpec spec = spec_of(s, L);
            spec.rows = spec.cols = n, spec.verify_gates = false;
            if (!other || other->spec().pe.label() != spec.pe.label())  // a LUQ step or PANN layers change PE
              other = std::make_unique<sim::Accelerator>(spec, lib, power::rtl_dir(), s.netlist_cache);
            nn::ProgressBar bar(progress, fmt::format("budget {} {}x{} {}", name, n, n, L.name));
            const sim::GemmResult r = other->run(gemms[li], [&](uint64_t d, uint64_t t) { bar.update(int64_t(d), int64_t(t)); });
            bar.finish();
            pk = std::max(pk, sim::power_summary(r, A.window_cycles, A.clock_mhz).peak_mw);
            cyc += r.cycles, e += r.energy_pj();
            exact &= equals_executor(L, r.out);
          }
          const bool meets = pk <= A.peak_power_budget_mw;
          if (meets) largest = std::max(largest, n);
          sizes.push_back({{"rows", n}, {"cols", n}, {"peak_power_mw", pk}, {"cycles", cyc}, {"energy_pj", e},
                           {"latency_us", double(cyc) / A.clock_mhz}, {"meets", meets}, {"bit_exact", exact}});
        }
        if (!A.budget_sizes.empty()) jc["budget"]["sizes"] = sizes, jc["budget"]["largest_array"] = largest;
      }
      jconfigs.push_back(jc);
      if (!json_out) {
        std::cout << fmt::format("{} on {}x{} {} @ {:g} MHz, {} image(s): {}\n", name, A.rows, A.cols, A.dataflow,
                                 A.clock_mhz, wl.images, all_exact ? "every layer bit-exact with the executor" : "NOT all layers bit-exact");
        size_t lw = 8;  // the layer column: as wide as the longest name
        for (const LayerRow& x : rows) lw = std::max(lw, x.layer.size());
        std::cout << fmt::format("  {:<{}} {:>10} {:>10} {:>10} {:>6} {:>11} {:>10} {:>10} {:>9} {:>9}  {}\n", "layer", lw, "cycles",
                                 "scale-sim", "MACs", "util", "PE pJ/MAC", "exec pJ", "SRAM nJ", "avg mW", "peak mW", "exact");
        for (const LayerRow& x : rows)
          if (x.config == name)
            std::cout << fmt::format("  {:<{}} {:>10} {:>10} {:>10} {:>6.3f} {:>11.4f} {:>10} {:>10.3f} {:>9.2f} {:>9.2f}  {}\n",
                                     x.layer, lw, x.r.cycles, x.r.scalesim_cycles, x.r.macs, x.r.utilization,
                                     x.r.mac_energy_pj / double(x.r.macs),
                                     std::isfinite(x.executor_pj_per_mac) ? fmt::format("{:.4f}", x.executor_pj_per_mac) : "n/a",
                                     x.r.sram_energy_pj() * 1e-3, x.p.avg_mw, x.p.peak_mw, x.bit_exact ? "yes" : "NO");
        std::cout << fmt::format("  network: {} cycles ({:.1f} us), {:.2f} nJ/image, avg {:.2f} mW, peak {:.2f} mW "
                                 "(peak/avg {:.2f}; utilization {:.3f}, 1/utilization {:.2f})\n",
                                 cycles, double(cycles) / A.clock_mhz, energy / wl.images * 1e-3, avg, peak,
                                 avg > 0 ? peak / avg : 0, util, util > 0 ? 1 / util : 0);
        if (jc.contains("budget"))
          std::cout << fmt::format("  peak-power budget {:g} mW: {}; highest clock within it {:.0f} MHz\n",
                                   A.peak_power_budget_mw, jc["budget"]["meets"].get<bool>() ? "met" : "EXCEEDED",
                                   jc["budget"]["max_clock_mhz"].get<double>());
        if (jc.contains("budget") && jc["budget"].contains("sizes")) {
          for (const auto& z : jc["budget"]["sizes"])
            std::cout << fmt::format("    {}x{} array: peak {:.2f} mW, {:.1f} us latency  {}\n", z["rows"].get<int>(),
                                     z["cols"].get<int>(), z["peak_power_mw"].get<double>(), z["latency_us"].get<double>(),
                                     z["meets"].get<bool>() ? "meets" : "over");
          const int l = jc["budget"]["largest_array"].get<int>();
          std::cout << (l ? fmt::format("    largest square array within the budget: {}x{}\n", l, l)
                          : std::string("    no listed array size meets the budget\n"));
        }
      }
      out_rows.push_back({{"model", wl.model}, {"config", name}, {"cycles", cycles}, {"energy_pj", energy},
                          {"avg_power_mw", avg}, {"peak_power_mw", peak}, {"bit_exact", all_exact}});
    }
    json report = {{"scenario", s.name}, {"file", s.file.string()}, {"model", s.model_name.empty() ? s.arch : s.model_name},
                   {"accelerator", {{"rows", A.rows}, {"cols", A.cols}, {"dataflow", A.dataflow}, {"clock_mhz", A.clock_mhz},
                                    {"ifmap_sram_kb", A.ifmap_sram_kb}, {"filter_sram_kb", A.filter_sram_kb},
                                    {"ofmap_sram_kb", A.ofmap_sram_kb}, {"sram_port_bits", A.sram_port_bits},
                                    {"sram_energy", citation}, {"window_cycles", A.window_cycles},
                                    {"pe_area_um2", pe_area}, {"pe_leakage_nw", pe_leak_nw},
                                    {"array_pe_area_um2", pe_area * A.rows * A.cols}}},
                   {"configs", jconfigs}};
    write_outputs(s, s.output_dir, rows, report);
    if (!json_out)
      std::cout << "Results: " << (s.output_dir / "sim_layers.csv").string() << ", power_trace.csv"
                << (s.plot ? ", power_trace.png" : "") << ", sim.json, sim_timing.csv\n";
  }
  if (json_out) std::cout << out_rows.dump(2) << "\n";
  return 0;
}

}  // namespace

Command add_sim(CLI::App& app, const bool& json) {
  auto o = std::make_shared<SimOpts>();
  CLI::App* sub = app.add_subcommand(
      "sim", "Stream a scenario's network through the SystemC systolic array of its accelerator: section, cycle by cycle");
  sub->add_option("scenario", o->file, "scenario YAML file with an accelerator: section (e.g. scenarios/accelerator.yaml)")
      ->required();
  sub->add_option("--out", o->out, "output directory (overrides outputs.dir)");
  sub->add_option("--config", o->configs, "simulate this configuration (repeatable; overrides accelerator.configs)");
  sub->add_option("--images", o->images, "test images streamed through (overrides accelerator.images)")
      ->check(CLI::Range(1, 10000));
  sub->add_flag("--verify-gates", o->verify_gates,
                "check the PE netlist against the golden PE on every simulated cycle (accelerator.verify_gates)");
  sub->add_flag("--quiet,-q", o->quiet, "no progress bars");
  return {sub, [o, &json] { return run_sim(*o, json); }};
}

}  // namespace lpsim::cli
