// `lpsim run SCENARIO.yaml`: a network scenario end to end (nn/run.h) and its table.
#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "nn/run.h"

namespace lpsim::cli {
namespace {

// The printed table of one scenario run.
void print_table(const nn::RunSummary& r) {
  size_t w = 10;
  bool budgets = false;
  for (const auto& c : r.configs) w = std::max(w, c.name.size()), budgets |= !c.budget.empty();
  std::cout << fmt::format("{:<{}} {:>9} {:>22} {:>12} {:>10}  {}{}\n", "config", w, "top-1 %",
                           "energy/inference (nJ)", "area (um2)", "images/s", budgets ? "budget  " : "",
                           "unit");
  for (const auto& c : r.configs) {
    const std::string e = std::isfinite(c.energy_pj)
                              ? (c.energy_ci95_pj > 0 ? fmt::format("{:.2f} ± {:.2f}", c.energy_pj / 1e3,
                                                                    c.energy_ci95_pj / 1e3)
                                                      : fmt::format("{:.2f}", c.energy_pj / 1e3))
                              : std::string("n/a");
    // Over budget: more energy than the budget, beyond the interval.
    std::string b;
    if (budgets)
      b = !std::isfinite(c.energy_over_budget) ? "        "
          : c.energy_pj - c.energy_ci95_pj > c.budget_pj ? fmt::format("OVER{:>4.1f}x", c.energy_over_budget)
                                                          : fmt::format("ok {:>4.2f}x", c.energy_over_budget);
    std::cout << fmt::format("{:<{}} {:>9.2f} {:>22} {:>12.0f} {:>10.0f}  {}{}{}{}\n", c.name, w,
                             100 * c.accuracy, e, c.area_um2, c.images_per_s, budgets ? b + " " : "",
                             c.unit, c.pann.empty() ? "" : " [" + c.pann + "]", c.resumed ? " (reused)" : "");
    if (c.acc_overflow_fraction > 0)
      std::cout << fmt::format("{:<{}} ^ ACCUMULATOR OVERFLOW: {:.3g} % of outputs differ from the exact sum; "
                               "{} bits would not overflow\n",
                               "", w, 100 * c.acc_overflow_fraction, c.acc_bits_needed);
  }
  if (budgets)
    std::cout << "budget: energy / budget per inference; OVER marks a configuration above its budget "
                 "(beyond its 95 % interval)\n";
  std::cout << fmt::format("Energy: every row on the same gate-level flow (NanGate 45 nm). FP32 LibTorch "
                           "inference: {:.0f} images/s. Results: {}/summary.csv, layers.csv, report.json, "
                           "energy_layers.png\n",
                           r.fp32_images_per_s, r.output_dir);
}

}  // namespace


Command add_run(CLI::App& app, const bool& json) {
  struct Opts {
    std::string file;
    std::string out;
    bool fresh = false, quiet = false;
    int64_t test_limit = -1;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* sub = app.add_subcommand("run", "Run a scenario: train/load a network, evaluate quantised configurations, price them");
  sub->add_option("scenario", o->file, "scenario YAML file (e.g. scenarios/quickstart.yaml)")->required();
  sub->add_option("--out", o->out, "output directory (overrides outputs.dir)");
  sub->add_option("--test-limit", o->test_limit, "evaluate on the first N test images (overrides dataset.test_limit)");
  sub->add_flag("--fresh", o->fresh, "recompute configurations already finished under the output directory");
  sub->add_flag("--quiet,-q", o->quiet, "no progress bars");
  return {sub, [o, &json] {
            std::vector<nn::Scenario> all = nn::load_scenarios(o->file);
            nlohmann::json rows = nlohmann::json::array();
            std::vector<nn::RunSummary> runs;
            for (size_t m = 0; m < all.size(); ++m) {
              nn::Scenario& s = all[m];
              if (!o->out.empty()) s.output_dir = all.size() == 1 ? std::filesystem::path(o->out) : o->out / std::filesystem::path(s.model_name);
              if (o->test_limit >= 0) s.test_limit = o->test_limit;
              nn::RunOptions ro;
              ro.progress = !o->quiet && !json;
              ro.fresh = o->fresh;
              if (all.size() > 1 && !json) std::cout << (m ? "\n" : "") << "== " << s.model_name << " ==\n";
              const nn::RunSummary r = nn::run_scenario(s, ro);
              runs.push_back(r);
              if (json) {
                for (const auto& c : r.configs)
                  rows.push_back({{"model", r.model}, {"config", c.name}, {"accuracy", c.accuracy}, {"energy_pj", c.energy_pj},
                                  {"energy_ci95_pj", c.energy_ci95_pj}, {"unit", c.unit}, {"unit_area_um2", c.area_um2},
                                  {"images_per_s", c.images_per_s}, {"energy_horowitz_pj", c.horowitz_pj},
                                  {"acc_overflow_fraction", c.acc_overflow_fraction},
                                  {"acc_bits_needed", c.acc_bits_needed}, {"pann", c.pann}, {"budget", c.budget},
                                  {"budget_pj_per_inference", c.budget_pj}, {"energy_over_budget", c.energy_over_budget}});
              } else {
                print_table(r);
              }
            }
            if (all.size() > 1) {
              // The comparison across models, beside their folders (outputs.dir or --out).
              const std::filesystem::path dir = o->out.empty() ? all.front().output_dir.parent_path() : std::filesystem::path(o->out);
              nn::write_models_table(dir, runs, all.front().plot);
              if (!json) std::cout << "\nAcross models: " << (dir / "models.md").string() << ", models.csv"
                                   << (all.front().plot ? ", models_accuracy.png" : "") << "\n";
            }
            if (json) std::cout << rows.dump(2) << "\n";
            return 0;
          }};
}

}  // namespace lpsim::cli
