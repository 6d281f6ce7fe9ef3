// Sweeps: a scenario with a top-level `sweep:` (cartesian product) and/or `zip:` (lists
// walked together) of dotted key paths is a set of points, each a whole scenario with
// those keys set. Every point has a stable id (a hash of its resolved scenario) and its
// own folder outputs.dir/points/<id>/ holding point.yaml (runnable alone), its results
// and result.json — written atomically when the point ends, so a killed sweep loses no
// finished point and a rerun skips them. The sweep's summary.csv/json, Pareto front,
// heat maps and report.md are assembled from the points' result.json. Who runs which
// point (this process, --jobs child processes, MPI ranks) is the CLI's business
// (cli/cmd_run.cpp); the results do not depend on it. Torch-free interface.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "nn/run.h"
#include "nn/scenario.h"

namespace lpsim::nn {

struct SweepPoint {
  std::string id;                                           // 16 hex digits
  std::vector<std::pair<std::string, std::string>> values;  // swept key path → value
  std::string yaml;                                         // point.yaml
  std::vector<Scenario> scenarios;                          // empty when invalid
  std::string invalid;                                      // on_invalid: skip — why it cannot run
};

struct SweepPlan {
  std::string name;
  std::filesystem::path file, output_dir;
  std::vector<std::string> keys;         // swept key paths: sweep's, then zip's
  std::vector<std::string> config_vars;  // the configurations' own sweep variables
  std::vector<SweepPoint> points;
  bool plot = true, resume = true;
};

// Expands a sweep file. Every structural mistake — a key path the schema does not know,
// a list index past the list, a value of the wrong type, zip lists of unequal length, a
// point that does not parse (unless on_invalid: skip) — is an InputError with
// file:line:col and the key path, before anything runs.
// Command-line overrides, applied to every point before its id is computed (a point run
// on fewer test images is another point).
struct SweepOverrides {
  std::filesystem::path output_dir;  // --out (else outputs.dir, else results/<name>)
  int64_t test_limit = -1;           // --test-limit
};
SweepPlan load_sweep(const std::filesystem::path& file, const SweepOverrides& ov = {});

// The point's result.json if it finished earlier (with resume and not fresh), else "".
std::string finished_point(const SweepPlan& plan, const SweepPoint& p, const RunOptions& opt);

// Runs one point (every model and configuration in it) and returns its result.json text,
// also written to points/<id>/result.json. A failure is caught and recorded there with
// its error (status "failed"), never thrown: the other points go on.
std::string run_point(const SweepPlan& plan, const SweepPoint& p, const RunOptions& opt);

// The result.json of a point that did not run at all (status "failed" with `error`, e.g.
// a child process or rank that died).
std::string failed_point(const SweepPoint& p, const std::string& error);

struct SweepReport {
  int points = 0, done = 0, failed = 0, skipped = 0;  // points
  int rows = 0, skipped_configs = 0;
  std::filesystem::path dir;
};

// summary.csv and summary.json (one row per point × configuration), pareto.png (the
// accuracy-energy front highlighted), heatmap_accuracy.png and heatmap_energy.png (when
// the configurations sweep two variables), energy_layers.png (per layer, the front's
// rows) and report.md. results: result.json texts, one per point, in plan order.
SweepReport write_sweep_report(const SweepPlan& plan, const std::vector<std::string>& results);

}  // namespace lpsim::nn
