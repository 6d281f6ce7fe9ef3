// `lpsim run`: a scenario end to end — data, FP32 model (trained or cached), each
// quantisation configuration evaluated bit-exactly, priced per layer, reported as CSV,
// JSON and a gnuplot PNG. Torch-free interface.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "nn/scenario.h"

namespace lpsim::nn {

struct RunOptions {
  bool progress = true;
  bool fresh = false;  // ignore finished configurations under the output dir
  // Run only this configuration and write no reports (what `lpsim run --jobs N` runs in
  // each child process; the parent then reports every configuration, all reused).
  std::string only_config;
};

struct ConfigResult {
  std::string name;
  double accuracy = 0;          // top-1, 0..1
  double energy_pj = 0;         // per inference (NaN when a layer has no priced unit)
  double energy_ci95_pj = 0;
  std::string unit;             // MAC unit(s)
  double area_um2 = 0, nand2 = 0;
  double area_mac_weighted_um2 = 0;  // the layers' PE areas weighted by their MACs
  double images_per_s = 0;
  double horowitz_pj = 0;            // labelled extra: Horowitz's 45 nm table (NaN where it lacks an operation)
  double acc_overflow_fraction = 0;  // outputs whose accumulator result differs from the exact sum
  int acc_bits_needed = 0;           // narrowest integer accumulator with no overflow (0: no integer layer)
  std::string pann;                  // PANN point "R=… b=…" ("" for uniform configurations)
  std::string budget;                // the power budget this row is compared with ("" none)
  double budget_pj = 0, energy_over_budget = 0;
  bool resumed = false;
};

struct RunSummary {
  std::vector<ConfigResult> configs;
  double fp32_images_per_s = 0;
  std::string output_dir;
  std::string model;  // the network's name (models[i].name, else its arch or TorchScript file)
};

RunSummary run_scenario(const Scenario& s, const RunOptions& opt);

// A hash of what every price rests on (the RTL sources and cell tables lpsim reads):
// results priced on another basis are recomputed, not reused.
std::string pricing_basis();

// The comparison across the models of a `models:` scenario, in dir (outputs.dir): one row
// per configuration, per model its top-1, the gap to that model's fp32 row, energy per
// inference and MAC-weighted PE area — models.csv, models.md (a Markdown table) and
// models_accuracy.png (grouped bars; with plot). Written atomically.
void write_models_table(const std::filesystem::path& dir, const std::vector<RunSummary>& runs, bool plot);

}  // namespace lpsim::nn
