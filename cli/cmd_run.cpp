// `lpsim run SCENARIO.yaml`: a network scenario end to end (nn/run.h) and its table.
#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <fstream>
#include <functional>
#include <mutex>
#include <thread>

#include "arith/error.h"
#include "arith/atomic_file.h"
#include "arith/process.h"
#include "cli/commands.h"
#include "cli/mpi.h"
#include "nn/progress.h"
#include "nn/run.h"
#include "nn/sweep.h"

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

struct RunOpts {
  std::string file;
  std::string out;
  std::string point, config;
  bool fresh = false, quiet = false;
  int64_t test_limit = -1;
  int jobs = 1;
};

// Work for --jobs: `lpsim run` child processes, `jobs` at a time (threads waiting on
// them), each with its log file; done(k, how it ended) as each ends (from those threads).
struct Child {
  std::vector<std::string> argv;
  std::filesystem::path log;
};
void run_children(const std::vector<Child>& children, int jobs,
                  const std::function<void(size_t, const ProcessResult&)>& done) {
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t k; (k = next++) < children.size();) {
      ProcessResult pr;
      try {
        std::filesystem::create_directories(children[k].log.parent_path());
        pr = run_process(children[k].argv, {std::string("/dev/null"), children[k].log, children[k].log});
      } catch (const std::exception&) {
        pr.status = ProcessResult::Status::failed;
      }
      done(k, pr);
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < std::min<int>(jobs, int(children.size())); ++t) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
}

// The configuration names of these scenarios (one per name across models), in order:
// what `--config NAME` children run.
std::vector<std::string> config_names(const std::vector<nn::Scenario>& scenarios) {
  std::vector<std::string> names;
  for (const auto& s : scenarios)
    for (const auto& c : s.configs)
      if (std::find(names.begin(), names.end(), c.name) == names.end()) names.push_back(c.name);
  return names;
}

// `lpsim run FILE` with this run's --out, --test-limit and --fresh, plus `extra`.
std::vector<std::string> child_argv(const RunOpts& o, std::vector<std::string> extra) {
  std::vector<std::string> argv = {std::filesystem::read_symlink("/proc/self/exe").string(), "run", o.file, "--quiet"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  if (!o.out.empty()) argv.insert(argv.end(), {"--out", o.out});
  if (o.test_limit >= 0) argv.insert(argv.end(), {"--test-limit", std::to_string(o.test_limit)});
  if (o.fresh) argv.push_back("--fresh");
  return argv;
}

// A sweep (nn/sweep.h): its points run here one after another, in `jobs` child processes
// (`lpsim run FILE --point ID`, each logging to points/<id>/log.txt), or scattered over
// MPI ranks; finished points are reused. Exit status: the number of failed points.
int run_sweep(const RunOpts& o, bool json) {
  nn::SweepOverrides ov;
  ov.output_dir = o.out;
  ov.test_limit = o.test_limit;
  const nn::SweepPlan plan = nn::load_sweep(o.file, ov);
  nn::RunOptions ro;
  ro.progress = false;
  ro.fresh = o.fresh;
  if (!o.point.empty()) {  // one point, as a --jobs child (or by hand)
    for (const auto& p : plan.points)
      if (p.id == o.point) {
        if (!o.config.empty()) {  // one configuration of it: its configs/NAME.json, no reports
          ro.only_config = o.config;
          for (const nn::Scenario& s : p.scenarios) nn::run_scenario(s, ro);
          return 0;
        }
        const auto r = nlohmann::json::parse(nn::run_point(plan, p, ro));
        return r.value("status", "") == "failed" ? 1 : 0;
      }
    throw InputError("no point " + o.point + " in this sweep (ids: outputs.dir/summary.csv)", o.file, "--point");
  }
  const bool root = MpiSession::rank() == 0;
  std::vector<std::string> results(plan.points.size());
  std::vector<size_t> pending;
  for (size_t i = 0; i < plan.points.size(); ++i) {
    results[i] = nn::finished_point(plan, plan.points[i], ro);
    if (results[i].empty()) pending.push_back(i);
  }
  const size_t reused = plan.points.size() - pending.size();
  const bool progress = root && !o.quiet && !json;
  if (progress)
    std::cerr << fmt::format("sweep {}: {} points ({} finished earlier), {} ranks x {} jobs -> {}\n", plan.name,
                             plan.points.size(), reused, MpiSession::size(), o.jobs, plan.output_dir.string());
  // Progress over the whole sweep in configurations (a point holds many): finished points
  // count whole, running ones by the configurations they have written (configs/*.json,
  // polled once a second), so the ETA moves within long points too.
  nn::ProgressBar bar(progress, "sweep " + plan.name);
  std::mutex mu;
  size_t finished = reused, failed_now = 0;
  std::vector<char> point_done(plan.points.size(), 1);
  for (const size_t i : pending) point_done[i] = 0;
  std::vector<int64_t> configs_of(plan.points.size(), 0);
  int64_t total_configs = 0;
  for (size_t i = 0; i < plan.points.size(); ++i) {
    for (const auto& sc : plan.points[i].scenarios) configs_of[i] += int64_t(sc.configs.size());
    configs_of[i] = std::max<int64_t>(configs_of[i], 1);
    total_configs += configs_of[i];
  }
  std::string last_point;
  const auto started = std::filesystem::file_time_type::clock::now();
  auto refresh = [&] {  // under mu
    int64_t configs_done = 0;
    for (size_t i = 0; i < plan.points.size(); ++i) {
      if (point_done[i]) {
        configs_done += configs_of[i];
        continue;
      }
      int64_t n = 0;
      std::error_code ec;
      for (const auto& sc : plan.points[i].scenarios)
        for (auto it = std::filesystem::directory_iterator(sc.output_dir / "configs", ec);
             !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
          // With --fresh, results of earlier runs are there until recomputed: not counted.
          n += it->path().extension() == ".json" && (!o.fresh || it->last_write_time(ec) >= started);
      configs_done += std::min(n, configs_of[i]);
    }
    bar.update(configs_done, total_configs,
               fmt::format("points {}/{}{}{}", finished, plan.points.size(),
                           failed_now ? fmt::format(", {} failed", failed_now) : std::string(),
                           last_point.empty() ? std::string() : ", last " + last_point));
  };
  auto done = [&](size_t i, const std::string& text) {
    const std::lock_guard<std::mutex> lock(mu);
    results[i] = text;
    ++finished;
    const auto j = nlohmann::json::parse(text);
    const bool failed = j.value("status", "") == "failed";
    failed_now += failed;
    if (failed && root)
      std::cerr << "\nlpsim: point " << plan.points[i].id << " failed: " << j.value("error", "") << "\n";
    // A result from another node (no shared file system) is kept here too.
    const auto f = plan.output_dir / "points" / plan.points[i].id / "result.json";
    if (root && !std::filesystem::exists(f)) atomic_write_file(f, j.dump(2));
    point_done[i] = 1;
    last_point = plan.points[i].id;
    refresh();
  };
  {
    const std::lock_guard<std::mutex> lock(mu);
    refresh();
  }
  std::atomic<bool> stop{false};
  std::thread monitor([&] {
    while (progress && !stop) {
      for (int k = 0; k < 10 && !stop; ++k) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      const std::lock_guard<std::mutex> lock(mu);
      if (!stop) refresh();
    }
  });
  struct StopMonitor {  // joined on every way out (an MPI error throws)
    std::atomic<bool>& stop;
    std::thread& t;
    ~StopMonitor() {
      stop = true;
      if (t.joinable()) t.join();
    }
  } stop_monitor{stop, monitor};
  if (MpiSession::size() > 1) {
    mpi_run_items(pending, [&](size_t i) { return nn::run_point(plan, plan.points[i], ro); }, done);
  } else if (o.jobs > 1) {
    // Fewer points than jobs: their configurations in parallel (`--point ID --config NAME`),
    // then each point here, every configuration reused. Else a child per point.
    if (pending.size() < size_t(o.jobs)) {
      std::vector<Child> children;
      for (const size_t i : pending) {
        for (const auto& n : config_names(plan.points[i].scenarios))
          children.push_back({child_argv(o, {"--point", plan.points[i].id, "--config", n}),
                              plan.output_dir / "points" / plan.points[i].id / "logs" / (n + ".txt")});
      }
      run_children(children, o.jobs, [](size_t, const ProcessResult&) {});
      nn::RunOptions again = ro;
      again.fresh = false;
      for (const size_t i : pending) done(i, nn::run_point(plan, plan.points[i], again));
    } else {
      std::vector<Child> children;
      for (const size_t i : pending)
        children.push_back({child_argv(o, {"--point", plan.points[i].id}),
                            plan.output_dir / "points" / plan.points[i].id / "log.txt"});
      run_children(children, o.jobs, [&](size_t k, const ProcessResult& pr) {
        // The child's result.json (exit 0: done, 1: failed and recorded), else how it ended.
        const auto& p = plan.points[pending[k]];
        std::string text;
        try {
          std::ifstream in(plan.output_dir / "points" / p.id / "result.json");
          const auto j = nlohmann::json::parse(in);
          if (j.value("id", "") == p.id && pr.status == ProcessResult::Status::exited && (pr.code == 0 || pr.code == 1))
            text = j.dump();
        } catch (const std::exception&) {
        }
        if (text.empty())
          text = nn::failed_point(p, "worker process " + pr.describe() + " (log: " + children[k].log.string() + ")");
        done(pending[k], text);
      });
    }
  } else {
    for (const size_t i : pending) done(i, nn::run_point(plan, plan.points[i], ro));
  }
  stop = true;
  if (monitor.joinable()) monitor.join();
  bar.finish();
  if (!root) return 0;
  const nn::SweepReport rep = nn::write_sweep_report(plan, results);
  if (json) {
    std::ifstream in(plan.output_dir / "summary.json");
    std::cout << nlohmann::json::parse(in).dump(2) << "\n";
  } else {
    std::cout << fmt::format("sweep {}: {} points — {} done ({} reused), {} failed, {} skipped as invalid; {} "
                             "configurations evaluated, {} skipped as invalid\nResults: {}/summary.csv, summary.json, "
                             "report.md{}\n",
                             plan.name, rep.points, rep.done, reused, rep.failed, rep.skipped, rep.rows,
                             rep.skipped_configs, plan.output_dir.string(), plan.plot ? ", pareto.png" : "");
  }
  return std::min(rep.failed, 125);
}

// --jobs N on a scenario without sweep: each configuration (of every model) in its own
// child process, N at a time (`lpsim run FILE --config NAME`, logs under
// outputs.dir/logs/); the caller then reports them all, reused. Returns whether the
// caller must still recompute (--fresh when nothing ran in children).
bool run_configs_in_children(const RunOpts& o, const std::vector<nn::Scenario>& all, bool json) {
  const std::vector<std::string> names = config_names(all);
  bool resume = true;
  for (const auto& s : all) resume &= s.resume;
  if (o.jobs <= 1 || names.size() <= 1) return o.fresh;
  if (!resume) {
    std::cerr << "lpsim: note: outputs.resume is false: --jobs runs configurations in parallel through their saved "
                 "results, so this run is sequential\n";
    return o.fresh;
  }
  const std::filesystem::path logs =
      (o.out.empty() ? (all.size() > 1 ? all.front().output_dir.parent_path() : all.front().output_dir)
                     : std::filesystem::path(o.out)) / "logs";
  std::filesystem::create_directories(logs);
  nn::ProgressBar bar(!o.quiet && !json, "configurations");
  std::mutex mu;
  size_t done = 0;
  std::vector<Child> children;
  for (const auto& n : names) children.push_back({child_argv(o, {"--config", n}), logs / (n + ".txt")});
  run_children(children, o.jobs, [&](size_t k, const ProcessResult& pr) {
    const std::lock_guard<std::mutex> lock(mu);
    if (!pr.ok())  // the sequential pass after this runs it again and reports the error
      std::cerr << "\nlpsim: configuration " << names[k] << ": worker " << pr.describe() << " (log: "
                << children[k].log.string() << ")\n";
    bar.update(int64_t(++done), int64_t(names.size()), names[k]);
  });
  bar.finish();
  return false;
}

}  // namespace


Command add_run(CLI::App& app, const bool& json) {
  auto o = std::make_shared<RunOpts>();
  CLI::App* sub = app.add_subcommand("run", "Run a scenario: train/load a network, evaluate quantised configurations, price them");
  sub->add_option("scenario", o->file, "scenario YAML file (e.g. scenarios/quickstart.yaml)")->required();
  sub->add_option("--out", o->out, "output directory (overrides outputs.dir)");
  sub->add_option("--test-limit", o->test_limit, "evaluate on the first N test images (overrides dataset.test_limit)");
  sub->add_flag("--fresh", o->fresh, "recompute configurations already finished under the output directory");
  sub->add_flag("--quiet,-q", o->quiet, "no progress bars");
  sub->add_option("--jobs,-j", o->jobs, "run this many points of a sweep (or configurations: of a scenario without "
                                         "sweep:, or of a sweep with fewer points) at once, each in its own process with "
                                         "the scenario's thread count (results do not depend on it)")
      ->check(CLI::Range(1, 1024));
  sub->add_option("--point", o->point, "sweeps: run only the point with this id (what --jobs runs in each child)");
  sub->add_option("--config", o->config, "run only this configuration, no reports (what --jobs runs in each child "
                                         "for a scenario without sweep:)");
  return {sub, [o, &json] {
            const int launched = MpiSession::launched_ranks();
            if (launched > 1 && !MpiSession::built_in())
              throw InputError(fmt::format("launched on {} MPI ranks, but this lpsim was built without MPI: each rank "
                                           "would run the whole scenario. Install libopenmpi-dev (scripts/install-deps.sh) "
                                           "and rebuild, or run without mpirun (--jobs N on one machine)",
                                           launched),
                               o->file, "mpirun");
            if (nn::is_sweep_file(o->file)) return run_sweep(*o, json);
            if (!o->point.empty()) throw InputError("--point applies to sweeps (a scenario with sweep: or zip:)", o->file, "--point");
            if (!o->config.empty()) {  // a --jobs child: one configuration of every model
              bool known = false;
              std::vector<nn::Scenario> all = nn::load_scenarios(o->file);
              for (const nn::Scenario& s : all)
                for (const auto& c : s.configs) known |= c.name == o->config;
              if (!known) throw InputError("no configuration named '" + o->config + "'", o->file, "--config");
              for (nn::Scenario& s : all) {
                // Where the parent writes (below): --out, or --out/<model> for several models.
                if (!o->out.empty()) s.output_dir = all.size() == 1 ? std::filesystem::path(o->out) : o->out / std::filesystem::path(s.model_name);
                if (o->test_limit >= 0) s.test_limit = o->test_limit;
                nn::RunOptions ro;
                ro.progress = false, ro.fresh = o->fresh, ro.only_config = o->config;
                nn::run_scenario(s, ro);
              }
              return 0;
            }
            if (MpiSession::size() > 1 && MpiSession::rank() != 0) {
              std::cerr << "lpsim: rank " << MpiSession::rank() << ": a scenario without sweep: runs on rank 0; "
                                                                 "MPI scatters the points of sweeps\n";
              return 0;
            }
            std::vector<nn::Scenario> all = nn::load_scenarios(o->file);
            const bool fresh = run_configs_in_children(*o, all, json);
            nlohmann::json rows = nlohmann::json::array();
            std::vector<nn::RunSummary> runs;
            for (size_t m = 0; m < all.size(); ++m) {
              nn::Scenario& s = all[m];
              if (!o->out.empty()) s.output_dir = all.size() == 1 ? std::filesystem::path(o->out) : o->out / std::filesystem::path(s.model_name);
              if (o->test_limit >= 0) s.test_limit = o->test_limit;
              nn::RunOptions ro;
              ro.progress = !o->quiet && !json;
              ro.fresh = fresh;
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
