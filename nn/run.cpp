#include "nn/run.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "arith/atomic_file.h"
#include "arith/error.h"
#include "arith/format.h"
#include "arith/hash.h"
#include "nn/data.h"
#include "nn/executor.h"
#include "nn/pricing.h"
#include "nn/progress.h"
#include "nn/torchscript.h"
#include "nn/train.h"
#include "power_models/energy_model.h"
#include "power_models/resources.h"

namespace lpsim::nn {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

arith::Overflow overflow_of(const std::string& s) {
  return s == "saturate" ? arith::Overflow::saturate : arith::Overflow::wrap;
}

// Global settings plus per-layer overrides → one LayerQuant per node.
std::vector<LayerQuant> resolve(const QuantConfigSpec& c, const Graph& g) {
  std::vector<LayerQuant> out(g.nodes.size());
  for (const auto& [name, o] : c.layers) {
    bool found = false;
    for (const Node& n : g.nodes) found |= n.name == name && Graph::is_gemm(n.kind);
    if (!found) {
      std::string list;
      for (const Node& n : g.nodes)
        if (Graph::is_gemm(n.kind)) list += (list.empty() ? "" : ", ") + n.name;
      throw InputError("no conv/linear layer '" + name + "' in " + g.arch + " (layers: " + list + ")", o.where,
                       "layers." + name);
    }
  }
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    if (!Graph::is_gemm(n.kind)) continue;
    LayerQuant q;
    q.quantised = !c.fp32;
    std::string w = c.weights, a = c.activations;
    q.accumulator = c.accumulator;
    q.acc_bits = c.acc_bits;
    q.acc_overflow = overflow_of(c.overflow);
    q.per_channel = c.per_channel;
    if (auto it = c.layers.find(n.name); it != c.layers.end()) {
      const LayerOverride& o = it->second;
      if (o.quantised) q.quantised = *o.quantised;
      if (o.weights) w = *o.weights, q.quantised = o.quantised.value_or(true);
      if (o.activations) a = *o.activations, q.quantised = o.quantised.value_or(true);
      if (o.accumulator) q.accumulator = *o.accumulator;
      if (o.acc_bits) q.acc_bits = *o.acc_bits;
      if (o.overflow) q.acc_overflow = overflow_of(*o.overflow);
      if (o.per_channel) q.per_channel = *o.per_channel;
      if (q.quantised && (w.empty() || a.empty()))
        throw InputError("a quantised layer needs weights and activations formats", o.where, "layers." + n.name);
    }
    if (q.quantised) {
      q.weights = arith::parse_format(w);
      q.activations = arith::parse_format(a);
    }
    out[i] = q;
  }
  return out;
}

// What every price rests on: the RTL sources and the cell-library tables. A finished
// configuration priced on other sources or cells is recomputed, not reused.
std::string pricing_basis() {
  std::vector<std::filesystem::path> files;
  for (const auto& dir : {power::rtl_dir(), power::data_dir()})
    for (const auto& e : std::filesystem::directory_iterator(dir))
      if (e.is_regular_file()) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  uint64_t h = fnv1a("lpsim pricing basis");
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    h = fnv1a(f.filename().string() + ss.str(), h);
  }
  return fmt::format("{:016x}", h);
}

std::string config_key(const QuantConfigSpec& c, const Scenario& s, const std::string& model_key,
                       const std::string& basis) {
  json j;
  j["basis"] = basis;
  j["model"] = model_key;
  j["w"] = c.weights, j["a"] = c.activations, j["acc"] = c.accumulator, j["bits"] = c.acc_bits;
  j["ovf"] = c.overflow, j["pc"] = c.per_channel, j["fp32"] = c.fp32;
  for (const auto& [k, o] : c.layers)
    j["layers"][k] = {o.quantised.value_or(true), o.weights.value_or(""), o.activations.value_or(""),
                      o.accumulator.value_or(""), o.acc_bits.value_or(0), o.overflow.value_or(""),
                      o.per_channel.value_or(true)};
  j["test_limit"] = s.test_limit, j["calib"] = s.calibration_images, j["seed"] = s.seed;
  j["hw"] = {s.mac_arch, s.energy_model, s.energy_vectors, s.energy_images, s.dataflow, s.ws_run};
  j["pricing"] = 2;  // chain pricing on one gate-level basis: results of older runs are recomputed
  return j.dump();
}

std::string csv_escape(const std::string& s) {
  if (s.find_first_of(",\"") == std::string::npos) return s;
  std::string o = "\"";
  for (char c : s) o += c == '"' ? std::string("\"\"") : std::string(1, c);
  return o + "\"";
}

void write_plot(const std::filesystem::path& dir, const json& configs) {
  // Per-layer energy per inference, one bar group per layer, one bar per configuration.
  std::vector<std::string> layers;
  for (const auto& l : configs.at(0)["layers"]) layers.push_back(l["layer"]);
  std::string dat = "layer";
  for (const auto& c : configs) dat += "\t" + c["name"].get<std::string>();
  dat += "\n";
  for (size_t i = 0; i < layers.size(); ++i) {
    dat += layers[i];
    for (const auto& c : configs) {
      const double e = c["layers"].size() > i ? c["layers"][i]["energy_pj"].get<double>() : NAN;
      dat += "\t" + (std::isfinite(e) ? fmt::format("{:.6g}", e / 1e3) : std::string("NaN"));
    }
    dat += "\n";
  }
  atomic_write_file(dir / "energy_layers.dat", dat);
  std::string gp = fmt::format(
      "set terminal pngcairo size 1000,560 noenhanced\nset output '{}.tmp.png'\n"
      "set title 'Energy per inference by layer'\nset ylabel 'nJ per inference (log scale)'\nset logscale y\n"
      "set style data histograms\nset style histogram clustered gap 1\nset style fill solid 0.8 border -1\n"
      "set key top right\nset grid ytics\nset xtics rotate by -30\n"
      "plot for [i=2:{}] '{}' using i:xtic(1) title columnheader(i)\n",
      (dir / "energy_layers").string(), configs.size() + 1, (dir / "energy_layers.dat").string());
  atomic_write_file(dir / "energy_layers.gp", gp);
  const std::string cmd = "gnuplot " + (dir / "energy_layers.gp").string() + " 2>/dev/null";
  if (std::system(cmd.c_str()) != 0) {
    // pngcairo is missing from some gnuplot builds: fall back to the plain png terminal.
    std::string alt = gp;
    alt.replace(alt.find("pngcairo"), 8, "png");
    atomic_write_file(dir / "energy_layers.gp", alt);
    if (std::system(cmd.c_str()) != 0) {
      std::cerr << "lpsim: warning: gnuplot failed or is missing; the plot data is in "
                << (dir / "energy_layers.dat").string() << "\n";
      return;
    }
  }
  std::filesystem::rename(dir / "energy_layers.tmp.png", dir / "energy_layers.png");
}

}  // namespace

// The output directory must be creatable and writable before any work starts.
void check_output_dir(const Scenario& s) {
  const std::string where = s.output_dir_where.empty() ? s.file.string() : s.output_dir_where;
  std::error_code ec;
  std::filesystem::create_directories(s.output_dir / "configs", ec);
  if (ec) throw InputError("cannot create output directory " + s.output_dir.string() + ": " + ec.message(), where, "outputs.dir");
  const auto probe = s.output_dir / ".lpsim-write-test.tmp";
  {
    std::ofstream out(probe);
    out << "ok";
    if (!out) throw InputError("output directory " + s.output_dir.string() + " is not writable", where, "outputs.dir");
  }
  std::filesystem::remove(probe, ec);
}

RunSummary run_scenario(const Scenario& s, const RunOptions& opt) {
  const auto t_start = Clock::now();
  check_output_dir(s);
  torch::set_num_threads(s.threads);
  RunSummary summary;
  summary.output_dir = s.output_dir.string();
  (void)power::resource_dirs();  // rtl/ and cell data found (or an error) before any work
  // Data (nn/data.h): checked before any work, preprocessed, hashed for the model key.
  ScenarioData data = load_scenario_data(s, opt.progress);
  TensorDataset &train = data.train, &test = data.test;
  // Model: imported, or built in and trained (or loaded) after the configurations have
  // been checked against its layers, so a bad layer name fails before any work.
  GraphNet model = s.torchscript.empty() ? GraphNet(make_builtin_model(s.arch, data.shape))
                                         : import_torchscript(s.torchscript, data.shape);
  const Graph& g = model->graph();
  std::vector<std::vector<LayerQuant>> layer_configs;
  for (const QuantConfigSpec& c : s.configs) layer_configs.push_back(resolve(c, g));
  std::string model_key;
  if (!s.torchscript.empty()) {
    model_key = torchscript_key(s.torchscript, data.key);
  } else {
    TrainConfig tc;
    tc.epochs = s.epochs, tc.batch_size = s.batch_size, tc.lr = s.lr, tc.momentum = s.momentum;
    tc.weight_decay = s.weight_decay, tc.schedule = s.schedule, tc.seed = s.seed, tc.threads = s.threads;
    tc.data_key = data.key;
    model_key = training_key(g, tc, train.size());
    ProgressBar bar(opt.progress, "train " + s.arch);
    const TrainResult tr = train_or_load(model, train, tc, s.model_cache,
                                         [&](int64_t d, int64_t t, const std::string& m) { bar.update(d, t, m); });
    bar.finish();
    if (opt.progress)
      std::cerr << (tr.from_cache ? "model: cached " : fmt::format("model: trained in {:.1f} s ", tr.seconds))
                << tr.model_file.string() << "\n";
  }
  // Calibration set: the first images of a seeded permutation of the training set.
  torch::manual_seed(s.seed);
  const int64_t ncal = std::min<int64_t>(s.calibration_images, train.size());
  auto calib = train.images.index_select(0, torch::randperm(train.size()).slice(0, 0, ncal));
  // Energy images: drawn across the whole test set (seeded), not its first images.
  torch::manual_seed(s.seed + 0x656E65);
  const int64_t n_energy = std::min<int64_t>(s.energy_images, test.size());
  auto energy_images = test.images.index_select(0, torch::randperm(test.size()).slice(0, 0, n_energy));
  HardwareConfig hw;
  hw.mac_arch = s.mac_arch, hw.energy_vectors = s.energy_vectors;
  hw.dataflow = parse_dataflow(s.dataflow);
  hw.ws_run = s.ws_run;
  hw.seed = s.seed;
  auto gate = std::make_shared<power::GateLevelEnergyModel>(power::load_cell_library(power::default_cell_library_path()),
                                                            power::rtl_dir(),
                                                            s.netlist_cache, 1 << 12, s.seed);
  std::optional<power::AnalyticPannEnergyModel> analytic;
  if (s.energy_model == "analytic") analytic.emplace(gate);
  const auto cfg_dir = s.output_dir / "configs";
  const std::string basis = pricing_basis();
  json all = json::array();
  const int batch = 500;
  for (size_t ci = 0; ci < s.configs.size(); ++ci) {
    const QuantConfigSpec& c = s.configs[ci];
    const std::string key = config_key(c, s, model_key, basis);
    const auto cfg_file = cfg_dir / (c.name + ".json");
    if (s.resume && !opt.fresh && std::filesystem::exists(cfg_file)) {
      try {
        std::ifstream in(cfg_file);
        json j = json::parse(in);
        if (j.value("key", "") == key) {
          j["resumed"] = true;
          all.push_back(j);
          if (opt.progress) std::cerr << "config " << c.name << ": finished earlier, reusing " << cfg_file.string() << "\n";
          continue;
        }
      } catch (const json::exception&) {
        // An unreadable earlier result is recomputed.
      }
    }
    QuantizedExecutor ex(model, layer_configs[ci], s.threads);
    ex.calibrate(calib);
    // Accuracy over the test set, timed (quantised throughput).
    int64_t correct = 0;
    ProgressBar bar(opt.progress, "eval " + c.name);
    const auto t_eval = Clock::now();
    for (int64_t b = 0; b < test.size(); b += batch) {
      const int64_t e = std::min(test.size(), b + batch);
      correct += ex.forward(test.images.slice(0, b, e)).argmax(1).eq(test.labels.slice(0, b, e)).sum().item<int64_t>();
      bar.update(e, test.size(), fmt::format("acc {:.2f} %", 100.0 * double(correct) / double(e)));
    }
    const double eval_s = since(t_eval);
    bar.finish();
    // Energy: operands of the first test images, sampled and priced per layer.
    const auto t_energy = Clock::now();
    ex.record_next_forward();
    ex.forward(energy_images);
    const auto costs = ex.costs();
    json jl = json::array();
    double energy = 0, var = 0, area = 0, nand2 = 0, horowitz = 0;
    int64_t overflowed = 0, outputs = 0;
    int bits_needed = 0;
    std::string units;
    bool all_priced = true;
    ProgressBar ebar(opt.progress && s.energy_model != "none", "energy " + c.name);
    for (size_t li = 0; li < costs.size(); ++li) {
      const LayerCost& lc = costs[li];
      const LayerQuant& q = ex.layer(lc.node);
      LayerPrice p;
      if (s.energy_model == "none") {
        p.note = "energy_model: none";
      } else {
        const AccRange range = q.quantised ? ex.acc_range(lc.node) : AccRange{};
        p = price_layer(q, range, ex.recorded()[lc.node], lc.M, hw, *gate, analytic ? &*analytic : nullptr);
      }
      ebar.update(int64_t(li + 1), int64_t(costs.size()), lc.name);
      const double e = p.priced ? p.pj_per_mac * double(lc.macs) + p.correction_pj_per_image : NAN;
      all_priced &= p.priced;
      horowitz += p.horowitz_pj_per_mac * double(lc.macs);
      if (p.priced) {
        energy += e;
        var += std::pow(p.ci95_pj * double(lc.macs), 2) + std::pow(p.correction_ci95_pj, 2);
        if (p.area_um2 > area) area = p.area_um2, nand2 = p.nand2;
        if (units.find(p.unit) == std::string::npos) units += (units.empty() ? "" : "; ") + p.unit;
      }
      const int64_t outs = ex.outputs_seen()[lc.node];
      const bool int_acc = q.quantised && q.accumulator == "int";
      if (int_acc) {
        overflowed += ex.out_of_range()[lc.node], outputs += outs;
        bits_needed = std::max(bits_needed, ex.acc_bits_needed(lc.node));
      }
      jl.push_back({{"layer", lc.name},
                    {"M", lc.M}, {"K", lc.K}, {"N", lc.N},
                    {"macs", lc.macs}, {"additions", lc.additions},
                    {"weight_bits", lc.weight_bits}, {"input_bits", lc.input_bits}, {"output_bits", lc.output_bits},
                    {"weights", q.quantised ? arith::format_name(q.weights) : "fp32"},
                    {"activations", q.quantised ? arith::format_name(q.activations) : "fp32"},
                    {"accumulator", q.quantised ? (q.accumulator == "int" ? fmt::format("int{}", q.acc_bits) : "fp32") : "fp32"},
                    {"acc_out_of_range_fraction", outs ? double(ex.out_of_range()[lc.node]) / double(outs) : 0.0},
                    {"acc_bits_needed", int_acc ? ex.acc_bits_needed(lc.node) : 0},
                    {"act_zero_point", q.quantised ? ex.input_zero(lc.node) : 0.0},
                    {"unit", p.unit}, {"note", p.note},
                    {"pj_per_mac", p.priced ? p.pj_per_mac : NAN}, {"ci95_pj_per_mac", p.ci95_pj},
                    {"energy_batches", p.batches}, {"sampled_macs", p.sampled_macs},
                    {"correction_pj", p.correction_pj_per_image}, {"correction_unit", p.correction_unit},
                    {"energy_pj", e}, {"unit_area_um2", p.area_um2},
                    {"horowitz_pj_per_mac", p.horowitz_pj_per_mac}});
    }
    ebar.finish();
    json j = {{"name", c.name}, {"key", key}, {"accuracy", double(correct) / double(test.size())},
              {"test_images", test.size()},
              {"energy_pj", all_priced ? energy : NAN}, {"energy_ci95_pj", std::sqrt(var)},
              {"energy_model", s.energy_model}, {"dataflow", s.dataflow}, {"unit", units},
              {"energy_horowitz_pj", horowitz},
              {"acc_overflow_fraction", outputs ? double(overflowed) / double(outputs) : 0.0},
              {"acc_bits_needed", bits_needed},
              {"unit_area_um2", area}, {"unit_nand2", nand2},
              {"images_per_s", double(test.size()) / eval_s}, {"energy_seconds", since(t_energy)},
              {"layers", jl}, {"resumed", false}};
    atomic_write_file(cfg_file, j.dump(2));
    all.push_back(j);
  }
  // FP32 LibTorch throughput, measured now on the same images (the baseline of the
  // quantised throughput).
  {
    torch::NoGradGuard ng;
    model->eval();
    const auto t = Clock::now();
    for (int64_t b = 0; b < test.size(); b += batch) model->forward(test.images.slice(0, b, std::min(test.size(), b + batch)));
    summary.fp32_images_per_s = double(test.size()) / since(t);
  }
  // Reports.
  std::string csv =
      "config,accuracy,energy_pj_per_inference,energy_ci95_pj,unit,unit_area_um2,unit_nand2,images_per_s,dataflow,"
      "energy_horowitz_pj_per_inference,acc_overflow_fraction,acc_bits_needed\n";
  std::string lcsv =
      "config,layer,weights,activations,accumulator,M,K,N,macs,additions,weight_bits,input_bits,output_bits,"
      "acc_out_of_range_fraction,unit,pj_per_mac,ci95_pj_per_mac,energy_pj,unit_area_um2,acc_bits_needed,act_zero_point,"
      "energy_batches,sampled_macs,correction_pj,horowitz_pj_per_mac,note\n";
  auto num = [](const json& o, const char* k) { return o.contains(k) && o[k].is_number() ? o[k].get<double>() : NAN; };
  for (const auto& j : all) {
    ConfigResult r;
    r.name = j["name"], r.accuracy = j["accuracy"];
    r.energy_pj = num(j, "energy_pj");
    r.energy_ci95_pj = num(j, "energy_ci95_pj"), r.unit = j["unit"], r.area_um2 = j["unit_area_um2"];
    r.nand2 = j["unit_nand2"], r.images_per_s = j["images_per_s"], r.resumed = j["resumed"];
    r.horowitz_pj = num(j, "energy_horowitz_pj");
    r.acc_overflow_fraction = num(j, "acc_overflow_fraction");
    r.acc_bits_needed = j.value("acc_bits_needed", 0);
    summary.configs.push_back(r);
    csv += fmt::format("{},{:.4f},{:.6g},{:.3g},{},{:.1f},{:.1f},{:.0f},{},{:.6g},{:.6g},{}\n", r.name, r.accuracy,
                       r.energy_pj, r.energy_ci95_pj, csv_escape(r.unit), r.area_um2, r.nand2, r.images_per_s,
                       j.value("dataflow", ""), r.horowitz_pj, r.acc_overflow_fraction,
                       r.acc_bits_needed ? std::to_string(r.acc_bits_needed) : std::string());
    for (const auto& l : j["layers"]) {
      lcsv += fmt::format(
          "{},{},{},{},{},{},{},{},{},{},{},{},{},{:.6g},{},{:.6g},{:.3g},{:.6g},{:.1f},{},{:.6g},{},{},{:.6g},{:.6g},{}\n",
          r.name, l["layer"].get<std::string>(), l["weights"].get<std::string>(), l["activations"].get<std::string>(),
          l["accumulator"].get<std::string>(), l["M"].get<int64_t>(), l["K"].get<int64_t>(), l["N"].get<int64_t>(),
          l["macs"].get<int64_t>(), l["additions"].get<int64_t>(), l["weight_bits"].get<int64_t>(),
          l["input_bits"].get<int64_t>(), l["output_bits"].get<int64_t>(), num(l, "acc_out_of_range_fraction"),
          csv_escape(l["unit"]), num(l, "pj_per_mac"), num(l, "ci95_pj_per_mac"), num(l, "energy_pj"),
          num(l, "unit_area_um2"), l.value("acc_bits_needed", 0) ? std::to_string(l.value("acc_bits_needed", 0)) : "",
          num(l, "act_zero_point"), l.value("energy_batches", uint64_t{0}), l.value("sampled_macs", uint64_t{0}),
          num(l, "correction_pj"), num(l, "horowitz_pj_per_mac"), csv_escape(l["note"]));
    }
  }
  json report = {{"scenario", s.name}, {"file", s.file.string()}, {"model", g.arch}, {"model_key", model_key},
                 {"test_images", test.size()}, {"fp32_libtorch_images_per_s", summary.fp32_images_per_s},
                 {"seconds", since(t_start)}, {"configs", all}};
  report["dataset"] = json::parse(data.report_json);  // the data and its preprocessing (nn/data.h)
  atomic_write_file(s.output_dir / "summary.csv", csv);
  atomic_write_file(s.output_dir / "layers.csv", lcsv);
  atomic_write_file(s.output_dir / "report.json", report.dump(2));
  if (s.plot) write_plot(s.output_dir, all);
  return summary;
}

}  // namespace lpsim::nn
