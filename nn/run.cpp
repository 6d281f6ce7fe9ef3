#include "nn/run.h"
#include "nn/user_mac.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "arith/atomic_file.h"
#include "arith/error.h"
#include "arith/format.h"
#include "arith/hash.h"
#include "arith/process.h"
#include "nn/bn_synthesis.h"
#include "nn/data.h"
#include "nn/evaluate.h"
#include "nn/lowp_energy.h"
#include "nn/lowp_train.h"
#include "nn/executor.h"
#include "nn/pann_train.h"
#include "nn/prepare.h"
#include "nn/pricing.h"
#include "nn/progress.h"
#include "nn/report_files.h"
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

bool is_signed_int_format(const arith::NumberFormat& f) {
  const auto* i = std::get_if<arith::IntFormat>(&f);
  return i && i->is_signed;
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
    q.pann = c.method == "pann";
    q.pann_R = c.pann.R.front();
    std::string w = c.weights, a = c.activations;
    q.accumulator = c.accumulator;
    q.acc_bits = c.acc_bits;
    q.lns_alpha = c.lns_alpha, q.lns_acc_frac = c.lns_acc_frac;
    q.acc_overflow = overflow_of(c.overflow);
    q.per_channel = c.per_channel;
    if (auto it = c.layers.find(n.name); it != c.layers.end()) {
      const LayerOverride& o = it->second;
      if (o.quantised) q.quantised = *o.quantised;
      if (o.weights) w = *o.weights, q.quantised = o.quantised.value_or(true), q.pann = false;
      if (o.activations) a = *o.activations, q.quantised = o.quantised.value_or(true), q.pann = false;
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
      // Clipping, bit allocation and bias correction apply to every quantised layer of the
      // configuration (a layer's own formats included).
      q.clip = c.clip, q.prior = c.prior, q.per_channel_activations = c.per_channel_activations;
      q.bias_correction = c.bias_correction;
      q.activation_bias_correction = c.activation_bias_correction;
      q.bit_rounding = c.bit_allocation.rounding == "ceil" ? arith::BitRounding::ceil : arith::BitRounding::round;
      if (auto it = c.layers.find(n.name); it != c.layers.end() && it->second.clip) q.clip = *it->second.clip;
      // A layer with its own formats takes the allocation only where its format is no
      // wider than the target (operands: auto), e.g. a first layer kept at 8 bits.
      BitAllocationSpec alloc = c.bit_allocation;
      if (w != c.weights || a != c.activations) alloc.operands = "auto";
      if (bit_allocation_applies(alloc, w, true) && is_signed_int_format(q.weights)) q.weight_mean_bits = alloc.mean_bits;
      if (bit_allocation_applies(alloc, a, false) && std::holds_alternative<arith::IntFormat>(q.activations))
        q.activation_mean_bits = alloc.mean_bits;
      if (c.unsigned_mac && w == c.weights && a == c.activations) {  // not where a layer sets its own formats
        const int bits = std::get<arith::IntFormat>(q.weights).bits;
        q.offset_bits = bits;
        q.weights = q.activations = arith::IntFormat{bits, false};
      }
    }
    out[i] = q;
  }
  return out;
}


// configs/NAME.json's volatile companion (speed, wall times, reuse): configs/NAME.timing.json.
std::filesystem::path timing_file(const std::filesystem::path& cfg_file) {
  std::filesystem::path t = cfg_file;
  return t.replace_extension(".timing.json");
}

// An earlier run's timing, or {} where it is missing or unreadable (it is never needed).
json read_timing(const std::filesystem::path& file) {
  try {
    std::ifstream in(file);
    json t = json::parse(in);
    return t.is_object() ? t : json::object();
  } catch (const json::exception&) {
    return json::object();
  }
}

std::string config_key(const QuantConfigSpec& c, const Scenario& s, const std::string& model_key,
                       const std::string& basis) {
  json j;
  j["basis"] = basis;
  j["model"] = model_key;
  j["w"] = c.weights, j["a"] = c.activations, j["acc"] = c.accumulator, j["bits"] = c.acc_bits;
  j["ovf"] = c.overflow, j["pc"] = c.per_channel, j["fp32"] = c.fp32;
  if (c.unsigned_mac) j["umac"] = true;
  if (c.lns_alpha) j["lns_alpha"] = c.lns_alpha;
  if (c.lns_acc_frac) j["lns_acc_frac"] = c.lns_acc_frac;
  // Clipping keys (only when used, so that the keys of earlier results stay valid).
  if (c.clip != "max" && c.clip != "none") j["clip"] = c.clip, j["prior"] = c.prior;
  if (c.per_channel_activations) j["pca"] = true;
  if (c.bias_correction) j["bc"] = true;
  if (c.activation_bias_correction) j["abc"] = true;
  if (c.bit_allocation.mean_bits > 0)
    j["alloc"] = {c.bit_allocation.mean_bits, c.bit_allocation.rounding, c.bit_allocation.operands};
  if (c.has_training) {
    const GradientSpec& t = c.training;
    j["train"] = {lowp_version(t), t.method, t.smp, t.luq_levels, t.format, t.format_bits, t.rounding, t.sparsity, t.fnt_epochs, t.from,
                  c.training_epochs, c.training_lr, s.epochs, s.batch_size, s.lr, s.momentum, s.weight_decay, s.schedule,
                  s.threads};
  }
  const CalibrationSpec& cal = c.calibration;
  if (cal.source != "data" || cal.images > 0) {
    j["cal"] = {cal.source, cal.images};
    if (cal.source == "bn_statistics") j["cal"].push_back({cal.steps, cal.lr, cal.batch, s.threads});
    j["cal"].push_back("clamped to the input range");  // results before the projection are recomputed
  }
  for (const auto& [k, o] : c.layers) {
    j["layers"][k] = {o.quantised.value_or(true), o.weights.value_or(""), o.activations.value_or(""),
                      o.accumulator.value_or(""), o.acc_bits.value_or(0), o.overflow.value_or(""),
                      o.per_channel.value_or(true)};
    if (o.clip) j["layers"][k].push_back(*o.clip);
  }
  j["test_limit"] = s.test_limit, j["calib"] = s.calibration_images, j["seed"] = s.seed;
  j["hw"] = {s.mac_arch, s.energy_model, s.energy_vectors, s.energy_images, s.dataflow, s.ws_run};
  if (s.user_mac) {  // the user's MAC: its files' contents and every option
    const rtl::UserUnitSpec& u = *s.user_mac;
    std::string opts = fmt::format("{} {} {} {} {} {} {} {}", u.top, u.a_bits, u.b_bits, u.acc_bits, u.is_signed, u.overflow,
                                   u.latency, u.reset);
    for (const auto& [k, v] : u.params) opts += " " + k + "=" + v;
    for (const auto& [k, v] : u.ports) opts += " " + k + ":" + v;
    j["user_mac"] = rtl::user_unit_key(u, opts, "");
  }
  j["pricing"] = 2;  // chain pricing on one gate-level basis: results of older runs are recomputed
  if (c.method == "pann")
    j["pann"] = {c.pann.R, c.pann.activation_bits, c.pann.budget, c.pann.train_epochs, c.pann.train_lr,
                 s.batch_size, s.momentum, s.weight_decay, s.schedule, s.threads};
  return j.dump();
}

// training_curves.csv (config, phase, epoch, loss, test_accuracy) and, with plots, two
// panels (loss; test top-1) with a line per trained configuration.
void write_training_curves(const std::filesystem::path& dir, const json& configs, bool plot) {
  std::string csv = "config,phase,epoch,loss,test_accuracy\n", dat;
  int curves = 0;
  for (const auto& c : configs) {
    if (!c.contains("training") || c["training"]["curve"].empty()) continue;
    ++curves;
    dat += "\"" + c["name"].get<std::string>() + "\"\n";
    for (const EpochPoint& p : c["training"]["curve"].get<std::vector<EpochPoint>>()) {
      const double acc = p.test_accuracy;
      csv += fmt::format("{},{},{},{:.6g},{}\n", c["name"].get<std::string>(), p.phase, p.epoch, p.loss,
                         std::isnan(acc) ? "" : fmt::format("{:.4f}", acc));
      dat += fmt::format("{} {:.6g} {}\n", p.epoch, p.loss, std::isnan(acc) ? "NaN" : fmt::format("{:.4f}", 100 * acc));
    }
    dat += "\n\n";  // a gnuplot data block per configuration
  }
  if (curves == 0) return;
  atomic_write_file(dir / "training_curves.csv", csv);
  if (!plot) return;
  // Energy per training step by GEMM (stacked), where priced.
  std::string edat = "config\tforward\tinput_gradient\tweight_gradient\n";
  int priced = 0;
  for (const auto& c : configs) {
    if (!c.contains("training") || !c["training"].contains("step_energy")) continue;
    double e[3] = {0, 0, 0};
    for (const auto& l : c["training"]["step_energy"]["layers"])
      for (const auto& ge : l["gemms"]) {
        const std::string k = ge["gemm"];
        if (ge["energy_pj"].is_number()) e[k == "forward" ? 0 : k == "input_gradient" ? 1 : 2] += ge["energy_pj"].get<double>();
      }
    edat += fmt::format("{}{}\t{:.6g}\t{:.6g}\t{:.6g}\n", c["name"].get<std::string>(),
                        c["training"]["step_energy"].value("complete", true) ? "" : "*", e[0] * 1e-6, e[1] * 1e-6, e[2] * 1e-6);
    ++priced;
  }
  if (priced > 0) {
    atomic_write_file(dir / "training_energy.dat", edat);
    plot_png(dir, "training_energy",
             fmt::format("set title 'Energy per training step by GEMM (gate level; * = some GEMMs have no RTL unit)'\n"
                         "set ylabel 'uJ per step'\nset style data histograms\nset style histogram rowstacked\n"
                         "set style fill solid 0.8 border -1\nset boxwidth 0.7\nset key outside right top\nset grid ytics\n"
                         "set xtics rotate by -30\nplot for [i=2:4] {} using i:xtic(1) title columnheader(i)\n",
                         gpq(dir / "training_energy.dat")));
  }
  atomic_write_file(dir / "training_curves.dat", dat);
  const std::string d = gpq(dir / "training_curves.dat");
  plot_png(dir, "training_curves",
           fmt::format("set multiplot layout 1,2 title 'Training curves'\nset grid\nset key top right\n"
                       "set xlabel 'epoch'\nset xtics 1\nset ylabel 'training loss (mean over the epoch)'\nset logscale y\n"
                       "plot for [i=0:{0}] {1} index i using 1:2 with linespoints title columnheader(1)\n"
                       "unset logscale y\nset key bottom right\nset ylabel 'test top-1 (%)'\n"
                       "plot for [i=0:{0}] {1} index i using 1:3 with linespoints title columnheader(1)\n"
                       "unset multiplot\n",
                       curves - 1, d),
           1400, 600);
}

void write_plot(const std::filesystem::path& dir, const json& configs) {
  // Per-layer energy per inference, one bar group per layer, one bar per configuration.
  std::vector<std::string> layers;
  for (const auto& l : configs.at(0)["layers"]) layers.push_back(l["layer"]);
  std::string dat = "layer";
  for (const auto& c : configs) dat.append(1, '\t').append(c["name"].get<std::string>());
  dat += "\n";
  for (size_t i = 0; i < layers.size(); ++i) {
    dat += layers[i];
    for (const auto& c : configs) {
      const double e = c["layers"].size() > i && c["layers"][i]["energy_pj"].is_number()
                           ? c["layers"][i]["energy_pj"].get<double>()
                           : NAN;
      dat += '\t';
      dat += std::isfinite(e) ? fmt::format("{:.6g}", e / 1e3) : std::string("NaN");
    }
    dat += "\n";
  }
  atomic_write_file(dir / "energy_layers.dat", dat);
  plot_png(dir, "energy_layers",
           fmt::format("set title 'Energy per inference by layer'\nset ylabel 'nJ per inference (log scale)'\n"
                       "set logscale y\nset style data histograms\nset style histogram clustered gap 1\n"
                       "set style fill solid 0.8 border -1\nset key top right\nset grid ytics\n"
                       "set xtics rotate by -30\nplot for [i=2:{}] {} using i:xtic(1) title columnheader(i)\n",
                       configs.size() + 1, gpq(dir / "energy_layers.dat")));
}

// Accuracy against energy per inference: one series per kind of arithmetic, every point
// but the dial's labelled, the Pareto frontier (no cheaper row is as accurate) as a
// line, each power budget a vertical line.
void write_pareto_plot(const std::filesystem::path& dir, const json& configs, const json& budgets) {
  auto kind_of = [](const json& c) -> std::string {
    const std::string unit = c.value("unit", ""), key = c.value("key", "");
    if (c.contains("pann")) {
      const json& p = c["pann"];
      if (!p.value("dial", "").empty()) return "PANN dial";
      return p.value("trained_epochs", 0) > 0 ? "PANN fine-tuned" : "PANN post-training";
    }
    if (unit.rfind("fp", 0) == 0) return "floating point";
    if (key.find("\"umac\":true") != std::string::npos) return "signed network, unsigned MAC";
    if (unit.find("uint") != std::string::npos) return "unsigned, zero points";
    return "signed";
  };
  const std::vector<std::string> kinds = {"floating point", "signed", "signed network, unsigned MAC",
                                          "unsigned, zero points", "PANN post-training", "PANN fine-tuned",
                                          "PANN dial"};
  std::string dat;
  struct Point {
    double e, a;
  };
  std::vector<Point> pts;
  for (const auto& kind : kinds) {
    dat += "# " + kind + "\n# config\tenergy_nJ\ttop1_percent\n";
    for (const auto& c : configs)
      if (c["energy_pj"].is_number() && kind_of(c) == kind) {
        const double e = c["energy_pj"].get<double>() / 1e3, a = 100 * c["accuracy"].get<double>();
        dat += fmt::format("{}\t{:.6g}\t{:.4f}\n", kind == "PANN dial" ? "" : c["name"].get<std::string>(), e, a);
        pts.push_back({e, a});
      }
    dat += "\n\n";  // a gnuplot data block per kind
  }
  if (pts.empty()) return;  // no priced configuration: nothing to plot
  std::sort(pts.begin(), pts.end(), [](const Point& x, const Point& y) { return x.e < y.e || (x.e == y.e && x.a > y.a); });
  dat += "# Pareto frontier\n";
  double best = -1;
  for (const Point& p : pts)
    if (p.a > best) best = p.a, dat += fmt::format("frontier\t{:.6g}\t{:.4f}\n", p.e, p.a);
  atomic_write_file(dir / "pareto.dat", dat);
  std::string arrows;
  int n = 0;
  for (const auto& b : budgets) {
    ++n;
    const double x = b["pj_per_inference"].get<double>() / 1e3;
    arrows += fmt::format("set arrow {} from {:.6g}, graph 0 to {:.6g}, graph 1 nohead dt 2 lc rgb 'red'\n"
                          "set label {} {} at {:.6g}, graph 0.03 rotate by 90 offset -0.8,0 tc rgb 'red'\n",
                          n, x, x, n + 100, gpq("budget " + b["name"].get<std::string>()), x);
  }
  const std::string f = gpq(dir / "pareto.dat");
  std::string plot = fmt::format("plot {} index {} using 2:3 with steps lw 1.5 lc rgb '#999999' title 'Pareto frontier'",
                                 f, kinds.size());
  for (size_t k = 0; k < kinds.size(); ++k)
    plot += fmt::format(", {0} index {1} using 2:3 with points pt {2} ps 1.3 title {3}, {0} index {1} using "
                        "2:3:1 with labels offset 0,0.7 font ',7' notitle",
                        f, k, 5 + 2 * int(k % 4) + int(k / 4), gpq(kinds[k]));
  plot_png(dir, "pareto",
           "set title 'Top-1 accuracy against energy per inference'\nset xlabel 'nJ per inference (log scale)'\n"
           "set ylabel 'top-1 %'\nset logscale x\nset grid\nset key bottom right box opaque\n"
           "set datafile separator '\\t'\n" +
               arrows + plot + "\n",
           1200, 720);
}

// PANN's deployment-time dial: for each dial, accuracy and energy at every (R, activation
// bits) point, as dial_NAME.csv and a curve per activation width in dial_NAME.png.
void write_dials(const std::filesystem::path& dir, const json& configs, bool plot) {
  std::map<std::string, std::vector<const json*>> dials;
  for (const auto& c : configs)
    if (c.contains("pann") && !c["pann"].value("dial", "").empty()) dials[c["pann"]["dial"]].push_back(&c);
  for (const auto& [name, points] : dials) {
    std::string csv = "R,activation_bits,accuracy,energy_pj_per_inference,energy_ci95_pj,pann_additions\n";
    std::map<int, std::string> curves;  // bits -> "energy accuracy R" lines
    for (const json* c : points) {
      const double R = (*c)["pann"]["R"].get<double>(), e = (*c)["energy_pj"].is_number() ? (*c)["energy_pj"].get<double>() : NAN;
      const int b = (*c)["pann"]["activation_bits"].get<int>();
      csv += fmt::format("{:g},{},{:.4f},{:.6g},{:.3g},{}\n", R, b, (*c)["accuracy"].get<double>(), e,
                         (*c)["energy_ci95_pj"].is_number() ? (*c)["energy_ci95_pj"].get<double>() : NAN,
                         c->value("pann_additions", int64_t{0}));
      curves[b] += fmt::format("{:.6g}\t{:.4f}\t{:g}\n", e / 1e3, 100 * (*c)["accuracy"].get<double>(), R);
    }
    atomic_write_file(dir / ("dial_" + name + ".csv"), csv);
    bool priced = false;
    for (const json* c : points) priced |= (*c)["energy_pj"].is_number() && std::isfinite((*c)["energy_pj"].get<double>());
    if (!plot || !priced) continue;
    std::string dat, plots;
    int index = 0;
    for (const auto& [b, lines] : curves) {
      dat += fmt::format("# activation bits {}\n{}\n\n", b, lines);
      plots += fmt::format("{}{} index {} using 1:2 with linespoints title '{} activation bits', '' index {} using "
                           "1:2:(sprintf(\"R=%g\", $3)) with labels offset 0,0.8 font ',8' notitle",
                           plots.empty() ? "" : ", ", gpq(dir / ("dial_" + name + ".dat")), index, b, index);
      ++index;
    }
    atomic_write_file(dir / ("dial_" + name + ".dat"), dat);
    plot_png(dir, "dial_" + name,
             "set title " + gpq("PANN dial " + name + ": accuracy against energy as R moves") +
                 "\nset xlabel 'nJ per inference (log scale)'\n"
                 "set ylabel 'top-1 %'\nset logscale x\nset grid\nset key bottom right\nplot " +
                 plots + "\n");
  }
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

// (run.h) What every price rests on: the RTL sources and the cell-library tables. A finished
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

std::vector<LayerQuant> resolve_config(const QuantConfigSpec& c, const Graph& g) { return resolve(c, g); }

PreparedModel prepare_model(const Scenario& s, bool progress, const std::function<void(const Graph&)>& check_layers) {
  (void)power::resource_dirs();  // rtl/ and cell data found (or an error) before any work
  PreparedModel pm;
  // Data (nn/data.h): checked before any work, preprocessed, hashed for the model key.
  pm.data = load_scenario_data(s, progress);
  ScenarioData& data = pm.data;
  pm.train = data.train;
  TensorDataset& train = pm.train;
  // The validation slice: the last validation_images training images, held out from
  // training and calibration (budget searches choose on it, never on the test set).
  if (s.validation_images > 0) {
    if (s.validation_images >= train.size())
      throw InputError(fmt::format("validation_images ({}) must leave training images (the training set has {})",
                                   s.validation_images, train.size()),
                       s.file.string(), "quantization.validation_images");
    const int64_t n = train.size() - s.validation_images;
    pm.validation = {train.images.slice(0, n), train.labels.slice(0, n)};
    train = {train.images.slice(0, 0, n), train.labels.slice(0, 0, n)};
  }
  // Model: imported, or built in and trained (or loaded) after the configurations have
  // been checked against its layers, so a bad layer name fails before any work.
  pm.model = s.torchscript.empty() ? GraphNet(make_builtin_model(s.arch, data.shape))
                                   : import_torchscript(s.torchscript, data.shape);
  GraphNet& model = pm.model;
  const Graph& g = model->graph();
  if (check_layers) check_layers(g);
  TrainConfig& tc = pm.tc;  // model.train (PANN-aware fine-tuning takes its epochs and lr from pann.train)
  tc.epochs = s.epochs, tc.batch_size = s.batch_size, tc.lr = s.lr, tc.momentum = s.momentum;
  tc.weight_decay = s.weight_decay, tc.schedule = s.schedule, tc.seed = s.seed, tc.threads = s.threads;
  tc.data_key = data.key;
  if (!s.torchscript.empty()) {
    pm.model_key = torchscript_key(s.torchscript, data.key);
  } else {
    pm.model_key = training_key(g, tc, train.size());
    ProgressBar bar(progress, "train " + s.arch);
    const TrainResult tr = train_or_load(model, train, tc, s.model_cache,
                                         [&](int64_t d, int64_t t, const std::string& m) { bar.update(d, t, m); });
    bar.finish();
    if (progress)
      std::cerr << (tr.from_cache ? "model: cached " : fmt::format("model: trained in {:.1f} s ", tr.seconds))
                << tr.model_file.string() << "\n";
  }
  // Calibration set: the first images of a seeded permutation of the training set.
  torch::manual_seed(s.seed);
  pm.calib_order = torch::randperm(train.size());
  const int64_t ncal = std::min<int64_t>(s.calibration_images, train.size());
  pm.calib = train.images.index_select(0, pm.calib_order.slice(0, 0, ncal));
  return pm;
}

RunSummary run_scenario(const Scenario& s, const RunOptions& opt) {
  const auto t_start = Clock::now();
  check_output_dir(s);
  // The user's MAC is checked before anything trains or runs: a unit that fails stops here.
  std::optional<UserMacSetup> user_mac;
  if (s.user_mac && s.energy_model != "none") user_mac = prepare_user_mac(s, opt.progress);
  torch::set_num_threads(s.threads);
  RunSummary summary;
  summary.output_dir = s.output_dir.string();
  summary.model = !s.model_name.empty() ? s.model_name : s.torchscript.empty() ? s.arch : s.torchscript.stem().string();
  std::vector<std::vector<LayerQuant>> layer_configs;
  PreparedModel pm = prepare_model(s, opt.progress, [&](const Graph& g) {
    for (const QuantConfigSpec& c : s.configs) layer_configs.push_back(resolve(c, g));
  });
  ScenarioData& data = pm.data;
  TensorDataset &train = pm.train, &test = pm.data.test, &validation = pm.validation;
  GraphNet model = pm.model;
  const Graph& g = model->graph();
  const std::string& model_key = pm.model_key;
  const TrainConfig& tc = pm.tc;
  const torch::Tensor& calib = pm.calib;
  // A configuration's own calibration images (papers.md §5): real, noise or synthesised
  // from the BatchNorm statistics; made once per distinct setting.
  bool has_bn = false;
  for (const Node& nd : g.nodes) has_bn |= nd.kind == OpKind::batchnorm;
  // A data-free row on a network without BatchNorm has nothing to match: it is skipped,
  // said on the console and in report.json (a scenario may list several models).
  json skipped = json::array();
  for (const QuantConfigSpec& c : s.configs)
    if (c.calibration.source == "bn_statistics" && !has_bn) {
      const std::string why = "calibration source bn_statistics needs BatchNorm layers; " + summary.model + " has none";
      std::cerr << "lpsim: warning: " << c.where << ": configuration " << c.name << " skipped: " << why << "\n";
      skipped.push_back({{"config", c.name}, {"reason", why}});
    }
  std::map<std::string, std::pair<torch::Tensor, json>> calib_sets;
  auto calibration_for = [&](const CalibrationSpec& cs) -> std::pair<torch::Tensor, json> {
    const int64_t n = cs.images > 0 ? cs.images : s.calibration_images;
    const std::string k = fmt::format("{} {} {} {} {}", cs.source, n, cs.steps, cs.lr, cs.batch);
    if (auto it = calib_sets.find(k); it != calib_sets.end()) return it->second;
    json info = {{"source", cs.source}, {"images", n}};
    torch::Tensor images;
    const InputShape shape{int(train.images.size(1)), int(train.images.size(2)), int(train.images.size(3)), g.classes};
    // The valid input range: pixels 0 and 1 through the dataset's normalisation (known to
    // whoever deploys the model; no training image is read).
    const auto& pp = data.preprocessing;
    std::vector<float> in_lo, in_hi;
    for (int ch = 0; ch < shape.channels; ++ch) {
      const float m = pp.mean.empty() ? 0.0f : pp.mean[pp.mean.size() == 1 ? 0 : size_t(ch)];
      const float sd = pp.std.empty() ? 1.0f : pp.std[pp.std.size() == 1 ? 0 : size_t(ch)];
      in_lo.push_back((0.0f - m) / sd), in_hi.push_back((1.0f - m) / sd);
    }
    auto clamp_to_inputs = [&](torch::Tensor t) {
      return torch::max(torch::min(t, torch::tensor(in_hi).view({1, -1, 1, 1})), torch::tensor(in_lo).view({1, -1, 1, 1}));
    };
    if (cs.source == "data") {
      images = pm.data_calibration(n);
      info["images"] = images.size(0);
    } else if (cs.source == "noise") {
      images = clamp_to_inputs(noise_images(n, shape, s.seed ^ 0x6E6F697365ull));
    } else {
      BnSynthesisOptions o;
      o.images = n, o.batch = cs.batch, o.steps = cs.steps, o.lr = cs.lr, o.seed = s.seed ^ 0x626E73ull;
      o.input_lo = torch::tensor(in_lo), o.input_hi = torch::tensor(in_hi);
      ProgressBar bar(opt.progress, "bn-statistics images");
      const auto t = Clock::now();
      const BnSynthesisResult r = synthesise_bn_images(*model, shape, o, [&](int64_t d, int64_t tot) { bar.update(d, tot, ""); });
      bar.finish();
      images = r.images;
      info["steps"] = cs.steps, info["lr"] = cs.lr, info["batch"] = cs.batch;
      info["bn_loss_initial"] = r.initial_loss, info["bn_loss_final"] = r.final_loss;
      if (opt.progress)
        std::cerr << fmt::format("bn-statistics images: {} images, BN loss {:.4g} -> {:.4g} in {:.1f} s\n", n,
                                 r.initial_loss, r.final_loss, since(t));
    }
    return calib_sets[k] = {images, info};
  };
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
  if (user_mac) {
    gate->set_user_unit("user", rtl::kWrapperModule, user_mac->sources);
    hw.user_mac = user_mac->mac;
  }
  std::optional<power::AnalyticPannEnergyModel> analytic;
  if (s.energy_model == "analytic") analytic.emplace(gate);
  const auto cfg_dir = s.output_dir / "configs";
  const std::string basis = pricing_basis();
  PricingContext pc;
  pc.hw = hw, pc.gate = gate.get(), pc.analytic = analytic ? &*analytic : nullptr;
  pc.price = s.energy_model != "none", pc.energy_images = energy_images;
  // Power budgets, in pJ per inference: measured on this network ("like" a uniform one),
  // or given.
  std::map<std::string, double> budget_pj;
  json jbudgets = json::array();
  if (!s.budgets.empty()) {
    QuantizedExecutor fp(model, std::vector<LayerQuant>(g.nodes.size()), s.threads);
    fp.forward(energy_images.slice(0, 0, 1));
    int64_t macs = 0;
    for (const LayerCost& lc : fp.costs()) macs += lc.macs;
    for (const PowerBudget& b : s.budgets) {
      double pj = 0;
      if (b.kind == "like") {
        if (!pc.price) throw InputError("a budget 'like' a network needs energy_model gate or analytic", b.where, "power_budget");
        std::vector<LayerQuant> lq(g.nodes.size());
        for (size_t i = 0; i < g.nodes.size(); ++i) {
          if (!Graph::is_gemm(g.nodes[i].kind)) continue;
          lq[i].quantised = true;
          lq[i].weights = arith::parse_format(b.like_weights);
          lq[i].activations = arith::parse_format(b.like_activations);
          lq[i].acc_bits = b.like_acc_bits;
        }
        QuantizedExecutor ex(model, lq, s.threads);
        ex.calibrate(calib);
        pj = price_inference(ex, pc, "budget " + b.name, opt.progress)["energy_pj"].get<double>();
      } else if (b.kind == "mac") {
        if (!pc.price) throw InputError("a budget of a MAC needs energy_model gate or analytic", b.where, "power_budget");
        const power::OpKey key{"mac", b.like_activations, b.like_weights, b.like_acc_bits, s.mac_arch};
        pj = (pc.analytic ? pc.analytic->price(key) : gate->price(key)).energy_pj * double(macs);
      } else {
        pj = b.kind == "nj_per_inference" ? b.value * 1e3 : b.value * double(macs);
      }
      budget_pj[b.name] = pj;
      jbudgets.push_back({{"name", b.name}, {"kind", b.kind}, {"pj_per_inference", pj},
                          {"like", b.kind == "like" || b.kind == "mac" ? b.like_weights + " x " + b.like_activations +
                                                                             " acc" + std::to_string(b.like_acc_bits)
                                                                       : ""}});
      if (opt.progress) std::cerr << fmt::format("budget {}: {:.4g} nJ per inference\n", b.name, pj / 1e3);
    }
  }
  json all = json::array();
  std::map<std::string, std::pair<double, double>> search_memo;  // candidate key -> (validation top-1, pJ)
  for (size_t ci = 0; ci < s.configs.size(); ++ci) {
    const QuantConfigSpec& c = s.configs[ci];
    if (c.calibration.source == "bn_statistics" && !has_bn) continue;
    if (!opt.only_config.empty() && c.name != opt.only_config) continue;
    std::string key = config_key(c, s, model_key, basis);
    if (!c.pann.budget.empty()) key += fmt::format(" budget={:.17g} validation={}", budget_pj[c.pann.budget], validation.size());
    const auto cfg_file = cfg_dir / (c.name + ".json");
    if (s.resume && !opt.fresh && std::filesystem::exists(cfg_file)) {
      try {
        std::ifstream in(cfg_file);
        json j = json::parse(in);
        if (j.value("key", "") == key) {
          j["timing"] = read_timing(timing_file(cfg_file));
          j["timing"]["resumed"] = true;
          all.push_back(j);
          if (opt.progress) std::cerr << "config " << c.name << ": finished earlier, reusing " << cfg_file.string() << "\n";
          continue;
        }
      } catch (const json::exception&) {
        // An unreadable earlier result is recomputed.
      }
    }
    std::vector<LayerQuant> layers = layer_configs[ci];
    GraphNet net = model;  // the network this configuration converts: the FP32 model or its fine-tuned copy
    json jpann;
    json timing = json::object();  // volatile figures: configs/NAME.timing.json, timing.csv, timing.json
    if (c.method == "pann") {
      QuantConfigSpec point = c;
      if (!c.pann.budget.empty()) {
        // Choose (activation bits, R) under the budget on the validation slice: the best
        // validation accuracy among the points whose energy fits (ties: less energy).
        const double budget = budget_pj.at(c.pann.budget);
        json search = json::array();
        int best = -1;
        double best_acc = -1, best_e = INFINITY;
        for (const int bits : c.pann.activation_bits)
          for (const double R : c.pann.R) {
            QuantConfigSpec cand = c;
            cand.pann.R = {R}, cand.pann.activation_bits = {bits}, cand.activations = "uint" + std::to_string(bits);
            // Several budgets search the same grid: a point is evaluated once per run.
            QuantConfigSpec bare = cand;  // the point itself: no budget, no training
            bare.pann.budget.clear(), bare.pann.train_epochs = 0;
            const std::string memo_key = config_key(bare, s, model_key, basis) + fmt::format(" v{}", validation.size());
            auto memo = search_memo.find(memo_key);
            if (memo == search_memo.end()) {
              QuantizedExecutor ex(model, resolve(cand, g), s.threads);
              ex.calibrate(calib);
              const std::string tag = fmt::format("{} R={:g} b={}", c.name, R, bits);
              const double acc = top1(ex, validation, "search " + tag, opt.progress);
              const double e = price_inference(ex, pc, "energy " + tag, opt.progress)["energy_pj"].get<double>();
              memo = search_memo.emplace(memo_key, std::make_pair(acc, e)).first;
            }
            const auto [acc, e] = memo->second;
            const bool fits = e <= budget;
            search.push_back({{"R", R}, {"activation_bits", bits}, {"validation_accuracy", acc}, {"energy_pj", e},
                              {"fits", fits}});
            if (fits && (acc > best_acc || (acc == best_acc && e < best_e))) best = int(search.size()) - 1, best_acc = acc, best_e = e;
          }
        bool fitted = best >= 0;
        if (!fitted) {  // nothing fits: the least energy, flagged
          for (size_t i = 0; i < search.size(); ++i)
            if (best < 0 || search[i]["energy_pj"].get<double>() < search[size_t(best)]["energy_pj"].get<double>()) best = int(i);
        }
        const json& chosen = search[size_t(best)];
        point.pann.R = {chosen["R"].get<double>()};
        point.pann.activation_bits = {chosen["activation_bits"].get<int>()};
        point.activations = "uint" + std::to_string(point.pann.activation_bits.front());
        layers = resolve(point, g);
        jpann["search"] = search;
        jpann["budget_fitted"] = fitted;
        if (opt.progress)
          std::cerr << fmt::format("{}: chose R = {:g}, {} activation bits (validation {:.2f} %{})\n", c.name,
                                   point.pann.R.front(), point.pann.activation_bits.front(),
                                   100 * chosen["validation_accuracy"].get<double>(),
                                   fitted ? "" : "; no point fits the budget: the least energy");
      }
      jpann["R"] = point.pann.R.front();
      jpann["activation_bits"] = point.pann.activation_bits.front();
      jpann["dial"] = c.pann.dial;
      jpann["budget"] = c.pann.budget;
      if (c.pann.train_epochs > 0) {
        // PANN-aware training (nn/pann_train.h): a copy of the FP32 model fine-tuned with
        // this point's quantiser in the loop, then converted like any model. Under a budget
        // only the chosen point is fine-tuned: the search compares post-training conversions
        // (fine-tuning every candidate would multiply the cost by the grid's size), so the
        // fine-tuned point can only gain on the one the search saw.
        TrainConfig ft = tc;
        ft.epochs = c.pann.train_epochs, ft.lr = c.pann.train_lr;
        net = clone_net(model);
        ProgressBar bar(opt.progress, "pann-train " + c.name);
        const TrainResult tr = pann_train_or_load(net, train, calib, layers, ft, model_key, s.model_cache,
                                                  [&](int64_t d, int64_t t, const std::string& m) { bar.update(d, t, m); });
        bar.finish();
        if (opt.progress)
          std::cerr << (tr.from_cache ? "pann model: cached " : fmt::format("pann model: fine-tuned in {:.1f} s ", tr.seconds))
                    << tr.model_file.string() << "\n";
        jpann["trained_epochs"] = ft.epochs;
        jpann["train_lr"] = ft.lr;
        jpann["model_file"] = tr.model_file.string();
        if (!tr.from_cache) timing["pann_train_seconds"] = tr.seconds;
      } else {
        jpann["trained_epochs"] = 0;
      }
    }
    json jtrain;
    if (c.has_training) {
      // Low-precision training (nn/lowp_train.h): from a fresh seeded initialisation or
      // from the FP32 model, then deployed as the configuration says.
      const GradientSpec& gs = c.training;
      if (gs.from == "scratch" && !s.torchscript.empty())
        throw InputError("training from scratch needs a built-in model; an imported one can only be fine-tuned (from: fp32)",
                         c.where, "training.from");
      TrainConfig lt = tc;
      if (c.training_epochs > 0) lt.epochs = c.training_epochs;
      if (c.training_lr > 0) lt.lr = c.training_lr;
      torch::manual_seed(s.seed);
      GraphNet tnet = gs.from == "fp32" ? clone_net(model) : GraphNet(make_builtin_model(s.arch, data.shape));
      const std::string base = gs.from == "fp32" ? model_key : "scratch|" + training_key(tnet->graph(), lt, train.size());
      std::vector<EpochGradients> logs;
      ProgressBar bar(opt.progress, "train " + c.name + " (" + gs.method + ")");
      const TrainResult tr = lowp_train_or_load(tnet, train, lt, gs, base, s.model_cache,
                                                [&](int64_t d, int64_t t, const std::string& m) { bar.update(d, t, m); }, &logs,
                                                &test);
      bar.finish();
      net = tnet;
      jtrain = {{"method", gs.method}, {"from", gs.from}, {"epochs", lt.epochs}, {"lr", lt.lr}, {"smp", gs.smp},
                {"fnt_epochs", gs.fnt_epochs}, {"model_file", tr.model_file.string()},
                {"weights_sha256", weights_sha256(tnet)}};
      timing["training_from_cache"] = tr.from_cache;
      if (gs.method == "fp8") jtrain["gradients"] = gs.format, jtrain["rounding"] = gs.rounding;
      if (gs.method == "prune") jtrain["sparsity"] = gs.sparsity;
      if (!tr.from_cache) timing["train_seconds"] = tr.seconds;
      json je = json::array();
      for (const EpochGradients& e : logs) {
        json jl = json::array();
        for (const GradientLog& l : e.layers)
          jl.push_back({{"layer", l.layer}, {"mu", l.mu}, {"sigma", l.sigma}, {"format", l.format},
                        {"sparsity", l.sparsity}, {"alpha", l.alpha}});
        je.push_back({{"epoch", e.epoch + 1}, {"layers", jl}});
      }
      jtrain["gradient_log"] = je;
      jtrain["curve"] = tr.curve;
      // Divergence (a non-finite epoch loss, or chance-level top-1 at the end) is said, not
      // left to be read off a 10 % row.
      bool diverged = false;
      for (const EpochPoint& p : tr.curve) diverged |= !std::isfinite(p.loss);
      const double chance = 1.0 / double(std::max<int64_t>(2, test.labels.max().item<int64_t>() + 1));
      if (!tr.curve.empty() && tr.curve.back().test_accuracy <= chance + 0.02) diverged = true;
      jtrain["diverged"] = diverged;
      if (diverged) {
        std::string losses;
        for (const EpochPoint& p : tr.curve) losses += (losses.empty() ? "" : ", ") + fmt::format("{:.3g}", p.loss);
        std::cerr << fmt::format("lpsim: warning: {}: {} training diverged (epoch losses {}; final top-1 {:.2f} %)\n",
                                 c.name, gs.method, losses, 100 * tr.curve.back().test_accuracy);
      }
      // The top-1 of the network as trained (LUQ: its INT4 SAWB forward; after FNT: FP32),
      // beside `accuracy` (the network as the configuration deploys it).
      if (!tr.curve.empty() && !std::isnan(tr.curve.back().test_accuracy))
        jtrain["test_accuracy"] = tr.curve.back().test_accuracy;
      if (pc.price) {
        // Energy of one training step (nn/lowp_energy.h) on the first batch of training
        // images, through the trained weights; per epoch: scaled by the steps of an epoch.
        const auto t_step = Clock::now();
        const int64_t bs = std::min<int64_t>(lt.batch_size, train.size());
        StepEnergyOptions so;
        so.seed = s.seed;
        const StepEnergy se = training_step_energy(tnet, gs, lowp_step_seed(s.seed, 0), train.images.slice(0, 0, bs),
                                                   train.labels.slice(0, 0, bs), *gate, so);
        const double steps_per_epoch = std::ceil(double(train.size()) / double(lt.batch_size));
        json jl = json::array();
        for (const auto& l : se.layers) {
          json jg = json::array();
          for (const auto& ge : l.gemms)
            jg.push_back({{"gemm", ge.gemm}, {"unit", ge.unit}, {"priced", ge.priced}, {"note", ge.note},
                          {"macs", ge.macs}, {"pj_per_mac", ge.priced ? json(ge.pj_per_mac) : json()},
                          {"ci95_pj_per_mac", ge.priced ? json(ge.ci95_pj) : json()},
                          {"unit_area_um2", ge.priced ? json(ge.area_um2) : json()},
                          {"energy_pj", ge.priced ? json(ge.energy_pj) : json()}});
          jl.push_back({{"layer", l.layer}, {"gemms", jg}});
        }
        jtrain["step_energy"] = {{"batch", se.batch}, {"complete", se.complete},
                                 {"energy_pj", se.energy_pj}, {"energy_ci95_pj", se.energy_ci95_pj},
                                 {"forward_pj", se.forward_pj}, {"backward_pj", se.backward_pj},
                                 {"steps_per_epoch", steps_per_epoch},
                                 {"energy_per_epoch_pj", se.energy_pj * steps_per_epoch},
                                 {"layers", jl}};
        timing["train_step_energy_seconds"] = since(t_step);
        if (opt.progress)
          std::cerr << fmt::format("{}: training step {:.4g} uJ ± {:.2g} (forward {:.3g}, backward {:.3g}){}\n", c.name,
                                   se.energy_pj * 1e-6, se.energy_ci95_pj * 1e-6, se.forward_pj * 1e-6,
                                   se.backward_pj * 1e-6, se.complete ? "" : " — some GEMMs have no RTL unit");
      }
      if (opt.progress)
        std::cerr << fmt::format("{}: {} training {} (weights sha256 {})\n", c.name, gs.method,
                                 tr.from_cache ? "cached" : fmt::format("took {:.1f} s", tr.seconds),
                                 jtrain["weights_sha256"].get<std::string>());
    }
    QuantizedExecutor ex(net, layers, s.threads);
    const auto [cal_images, cal_info] = calibration_for(c.calibration);
    ex.calibrate(cal_images);
    double eval_s = 0;
    const double accuracy = top1(ex, test, "eval " + c.name, opt.progress, &eval_s);
    const auto t_energy = Clock::now();
    json j = price_inference(ex, pc, "energy " + c.name, opt.progress);
    j["name"] = c.name, j["key"] = key, j["accuracy"] = accuracy, j["test_images"] = test.size();
    j["energy_model"] = s.energy_model, j["dataflow"] = s.dataflow;
    timing["images_per_s"] = double(test.size()) / eval_s, timing["energy_seconds"] = since(t_energy);
    j["method"] = c.method;
    if (!jpann.is_null()) j["pann"] = jpann;
    j["calibration"] = cal_info;
    if (!jtrain.is_null()) j["training"] = jtrain, j["weights_sha256"] = jtrain["weights_sha256"];
    j["clip"] = c.clip == "none" ? "max" : c.clip;
    j["prior"] = c.clip == "aciq" ? c.prior : "";
    j["per_channel_activations"] = c.per_channel_activations;
    j["bias_correction"] = c.bias_correction;
    j["activation_bias_correction"] = c.activation_bias_correction;
    if (c.bit_allocation.mean_bits > 0)
      j["bit_allocation"] = {{"mean_bits", c.bit_allocation.mean_bits}, {"rounding", c.bit_allocation.rounding},
                             {"operands", c.bit_allocation.operands}};
    // The result apart from its timing, so that the same scenario and seed give the same
    // bytes; the timing beside it.
    atomic_write_file(cfg_file, j.dump(2));
    timing["resumed"] = false;
    atomic_write_file(timing_file(cfg_file), timing.dump(2));
    j["timing"] = timing;
    all.push_back(j);
  }
  // One configuration for a parallel run (--jobs): its configs/NAME.json is the result;
  // the reports are the parent's, written once every configuration is in.
  if (!opt.only_config.empty()) return summary;
  // Budget columns: a row's own budget (PANN under a budget), else the first one.
  for (auto& j : all) {
    std::string name = j.contains("pann") ? j["pann"].value("budget", "") : "";
    if (name.empty() && !s.budgets.empty()) name = s.budgets.front().name;
    if (name.empty()) continue;
    j["budget"] = name;
    j["budget_pj_per_inference"] = budget_pj.at(name);
    const double e = j["energy_pj"].is_number() ? j["energy_pj"].get<double>() : NAN;
    j["energy_over_budget"] = e / budget_pj.at(name);
  }
  // FP32 LibTorch throughput, measured now on the same images (the baseline of the
  // quantised throughput).
  {
    torch::NoGradGuard ng;
    model->eval();
    const auto t = Clock::now();
    const int64_t batch = 500;
    for (int64_t b = 0; b < test.size(); b += batch) model->forward(test.images.slice(0, b, std::min(test.size(), b + batch)));
    summary.fp32_images_per_s = double(test.size()) / since(t);
  }
  // Reports.
  std::string csv =
      "config,accuracy,energy_pj_per_inference,energy_ci95_pj,unit,unit_area_um2,unit_nand2,dataflow,"
      "energy_horowitz_pj_per_inference,acc_overflow_fraction,acc_bits_needed,method,pann_R,pann_activation_bits,"
      "pann_additions,budget,budget_pj_per_inference,energy_over_budget,clip,prior,per_channel_activations,bias_correction,"
      "weight_bits_mean,activation_bits_mean,calibration,unit_area_mac_weighted_um2,training,weights_sha256,"
      "train_test_accuracy,train_step_energy_pj,train_step_energy_ci95_pj,train_step_forward_pj,train_step_backward_pj,"
      "train_epoch_energy_pj,train_diverged\n";
  std::string lcsv =
      "config,layer,weights,activations,accumulator,M,K,N,macs,additions,weight_bits,input_bits,output_bits,"
      "acc_out_of_range_fraction,unit,pj_per_mac,ci95_pj_per_mac,energy_pj,unit_area_um2,acc_bits_needed,act_zero_point,"
      "energy_batches,sampled_macs,correction_pj,horowitz_pj_per_mac,pann_R,pann_additions,clip,clip_prior,clip_alpha_mean,"
      "clip_range_mean,weight_bits_mean,activation_bits_mean,bias_corrected,bit_mix,note\n";
  auto num = [](const json& o, const char* k) { return o.contains(k) && o[k].is_number() ? o[k].get<double>() : NAN; };
  for (const auto& j : all) {
    ConfigResult r;
    r.name = j["name"], r.accuracy = j["accuracy"];
    r.energy_pj = num(j, "energy_pj");
    r.energy_ci95_pj = num(j, "energy_ci95_pj"), r.unit = j["unit"], r.area_um2 = j["unit_area_um2"];
    r.nand2 = j["unit_nand2"];
    const json& jtime = j["timing"];
    r.images_per_s = jtime.value("images_per_s", NAN), r.resumed = jtime.value("resumed", false);
    r.area_mac_weighted_um2 = num(j, "unit_area_mac_weighted_um2");
    r.horowitz_pj = num(j, "energy_horowitz_pj");
    r.acc_overflow_fraction = num(j, "acc_overflow_fraction");
    r.acc_bits_needed = j.value("acc_bits_needed", 0);
    r.budget = j.value("budget", "");
    r.budget_pj = num(j, "budget_pj_per_inference");
    r.energy_over_budget = num(j, "energy_over_budget");
    const json jp = j.value("pann", json::object());
    if (!jp.empty()) r.pann = fmt::format("R={:g} b={}", jp.value("R", 0.0), jp.value("activation_bits", 0));
    summary.configs.push_back(r);
    auto opt_num = [](double v) { return std::isfinite(v) ? fmt::format("{:.6g}", v) : std::string(); };
    const json cal = j.value("calibration", json::object());
    const json jt = j.value("training", json::object());
    const json jse = jt.value("step_energy", json::object());
    auto se_num = [&](const char* k) { return jse.contains(k) && jse[k].is_number() ? opt_num(jse[k].get<double>()) : std::string(); };
    const std::string train_cols = fmt::format(
        ",{},{},{},{},{},{},{}", jt.contains("test_accuracy") ? fmt::format("{:.4f}", jt["test_accuracy"].get<double>()) : "",
        se_num("energy_pj"), se_num("energy_ci95_pj"), se_num("forward_pj"), se_num("backward_pj"), se_num("energy_per_epoch_pj"),
        jt.contains("diverged") ? (jt["diverged"].get<bool>() ? "true" : "false") : "");
    csv += fmt::format("{},{:.4f},{:.6g},{:.3g},{},{:.1f},{:.1f},{},{:.6g},{:.6g},{},{},{},{},{},{},{},{},{},{},{},{},{:.4g},{:.4g},{},{:.1f},{},{}{}\n", r.name,
                       r.accuracy, r.energy_pj, r.energy_ci95_pj, csv_escape(r.unit), r.area_um2, r.nand2,
                       j.value("dataflow", ""), r.horowitz_pj, r.acc_overflow_fraction,
                       r.acc_bits_needed ? std::to_string(r.acc_bits_needed) : std::string(),
                       j.value("method", "uniform"), jp.empty() ? "" : fmt::format("{:g}", jp.value("R", 0.0)),
                       jp.empty() ? "" : std::to_string(jp.value("activation_bits", 0)),
                       jp.empty() ? "" : std::to_string(j.value("pann_additions", int64_t{0})), r.budget,
                       opt_num(r.budget_pj), opt_num(r.energy_over_budget), j.value("clip", "max"), j.value("prior", ""),
                       j.value("per_channel_activations", false), j.value("bias_correction", false),
                       num(j, "weight_bits_mean"), num(j, "activation_bits_mean"), cal.value("source", "data"),
                       num(j, "unit_area_mac_weighted_um2"),
                       j.contains("training") ? j["training"].value("method", "") : std::string(), j.value("weights_sha256", ""),
                       train_cols);
    for (const auto& l : j["layers"]) {
      lcsv += fmt::format(
          "{},{},{},{},{},{},{},{},{},{},{},{},{},{:.6g},{},{:.6g},{:.3g},{:.6g},{:.1f},{},{:.6g},{},{},{:.6g},{:.6g},{},{},{},{},{},{},{},{},{},{},{}\n",
          r.name, l["layer"].get<std::string>(), l["weights"].get<std::string>(), l["activations"].get<std::string>(),
          l["accumulator"].get<std::string>(), l["M"].get<int64_t>(), l["K"].get<int64_t>(), l["N"].get<int64_t>(),
          l["macs"].get<int64_t>(), l["additions"].get<int64_t>(), l["weight_bits"].get<int64_t>(),
          l["input_bits"].get<int64_t>(), l["output_bits"].get<int64_t>(), num(l, "acc_out_of_range_fraction"),
          csv_escape(l["unit"]), num(l, "pj_per_mac"), num(l, "ci95_pj_per_mac"), num(l, "energy_pj"),
          num(l, "unit_area_um2"), l.value("acc_bits_needed", 0) ? std::to_string(l.value("acc_bits_needed", 0)) : "",
          num(l, "act_zero_point"), l.value("energy_batches", uint64_t{0}), l.value("sampled_macs", uint64_t{0}),
          num(l, "correction_pj"), num(l, "horowitz_pj_per_mac"),
          l.value("pann_additions", int64_t{0}) ? fmt::format("{:.4g}", num(l, "pann_R")) : "",
          l.value("pann_additions", int64_t{0}) ? std::to_string(l.value("pann_additions", int64_t{0})) : "",
          l.value("clip", ""), csv_escape(l.value("clip_prior", "")), opt_num(num(l, "clip_alpha_mean")),
          opt_num(num(l, "clip_range_mean")), opt_num(num(l, "weight_bits_mean")), opt_num(num(l, "activation_bits_mean")),
          l.contains("bias_corrected") ? (l["bias_corrected"].get<bool>() ? "true" : "false") : "",
          csv_escape(l.value("bit_mix", "")), csv_escape(l["note"]));
    }
  }
  // Timing (speeds, wall times, what was reused) in timing.json and timing.csv; every other
  // report is the same bytes for the same scenario and seed.
  json timing_all = {{"seconds", since(t_start)}, {"fp32_libtorch_images_per_s", summary.fp32_images_per_s},
                     {"configs", json::object()}};
  std::string tcsv = "config,resumed,images_per_s,energy_seconds,train_seconds\n";
  json configs = json::array();
  for (const auto& j : all) {
    const json& t = j["timing"];
    timing_all["configs"][j["name"].get<std::string>()] = t;
    auto opt_num = [&](const char* k) { return t.contains(k) && t[k].is_number() ? fmt::format("{:.6g}", t[k].get<double>()) : ""; };
    tcsv += fmt::format("{},{},{},{},{}\n", csv_escape(j["name"].get<std::string>()), t.value("resumed", false),
                        opt_num("images_per_s"), opt_num("energy_seconds"),
                        t.contains("train_seconds") ? opt_num("train_seconds") : opt_num("pann_train_seconds"));
    json c = j;
    c.erase("timing");
    configs.push_back(c);
  }
  json report = {{"scenario", s.name}, {"file", s.file.string()}, {"model", g.arch}, {"model_key", model_key},
                 {"test_images", test.size()}, {"budgets", jbudgets}, {"validation_images", validation.size()},
                 {"skipped", skipped},
                 {"configs", configs}};
  if (user_mac) report["hardware"] = {{"user_mac", user_mac->report}};
  report["dataset"] = json::parse(data.report_json);  // the data and its preprocessing (nn/data.h)
  atomic_write_file(s.output_dir / "summary.csv", csv);
  atomic_write_file(s.output_dir / "layers.csv", lcsv);
  {  // the units' dot-product error as K grows, per configuration and layer (nn/dot_error.h)
    std::string dcsv = "config,layer,weights,activations,accumulator,K,samples,rel_rms_accumulation,rel_rms_total\n";
    for (const auto& j : all)
      for (const auto& l : j["layers"])
        if (l.contains("dot_error"))
          for (const auto& d : l["dot_error"])
            dcsv += fmt::format("{},{},{},{},{},{},{},{:.6g},{:.6g}\n", csv_escape(j["name"].get<std::string>()),
                                l["layer"].get<std::string>(), l["weights"].get<std::string>(),
                                l["activations"].get<std::string>(), l["accumulator"].get<std::string>(),
                                d["K"].get<int64_t>(), d["samples"].get<int>(), d["rel_rms_accumulation"].get<double>(),
                                d["rel_rms_total"].get<double>());
    atomic_write_file(s.output_dir / "dot_error.csv", dcsv);
  }
  atomic_write_file(s.output_dir / "report.json", report.dump(2));
  atomic_write_file(s.output_dir / "timing.json", timing_all.dump(2));
  atomic_write_file(s.output_dir / "timing.csv", tcsv);
  if (s.plot && !all.empty() && s.energy_model != "none") {
    write_plot(s.output_dir, all);
    write_pareto_plot(s.output_dir, all, jbudgets);
  }
  write_training_curves(s.output_dir, all, s.plot);
  write_dials(s.output_dir, all, s.plot);
  return summary;
}

void write_models_table(const std::filesystem::path& dir, const std::vector<RunSummary>& runs, bool plot) {
  if (runs.empty()) return;
  // Configurations in scenario order: one a model skipped comes in after its predecessor
  // in the models that ran it.
  std::vector<std::string> order;
  for (const auto& r : runs) {
    auto at = order.begin();
    for (const auto& c : r.configs) {
      auto it = std::find(order.begin(), order.end(), c.name);
      if (it == order.end()) it = order.insert(at, c.name);
      at = it + 1;
    }
  }
  auto find = [](const RunSummary& r, const std::string& name) -> const ConfigResult* {
    for (const auto& c : r.configs)
      if (c.name == name) return &c;
    return nullptr;
  };
  std::string csv = "config", md = "| config |", rule = "|---|", dat = "config";
  for (const auto& r : runs) {
    csv += fmt::format(",{0}_top1,{0}_gap_to_fp32,{0}_nj_per_inference,{0}_pe_area_mac_weighted_um2", r.model);
    md += fmt::format(" {0} top-1 % (vs FP32) | {0} nJ/inference | {0} PE µm² |", r.model);
    rule += "---|---|---|";
    dat += "\t" + r.model;
  }
  csv += "\n", md += "\n" + rule + "\n", dat += "\n";
  for (const auto& name : order) {
    csv += csv_escape(name), md += "| " + name + " |", dat += name;
    for (const auto& r : runs) {
      const ConfigResult* c = find(r, name);
      const ConfigResult* fp = find(r, "fp32");
      if (!c) {
        csv += ",,,,", md += " skipped | | |", dat += "\tNaN";
        continue;
      }
      const double acc = 100 * c->accuracy, gap = fp ? acc - 100 * fp->accuracy : NAN;
      const std::string gaps = std::isfinite(gap) ? fmt::format("{:+.2f}", gap) : std::string();
      csv += fmt::format(",{:.2f},{},{:.6g},{:.1f}", acc, gaps, c->energy_pj / 1e3, c->area_mac_weighted_um2);
      md += fmt::format(" {:.2f}{} | {:.4g} | {:.0f} |", acc, name == "fp32" || gaps.empty() ? "" : " (" + gaps + ")",
                        c->energy_pj / 1e3, c->area_mac_weighted_um2);
      dat += fmt::format("\t{:.3f}", acc);
    }
    csv += "\n", md += "\n", dat += "\n";
  }
  std::filesystem::create_directories(dir);
  atomic_write_file(dir / "models.csv", csv);
  atomic_write_file(dir / "models.md", md);
  if (!plot) return;
  atomic_write_file(dir / "models_accuracy.dat", dat);
  double lo = 100;
  for (const auto& r : runs)
    for (const auto& c : r.configs) lo = std::min(lo, 100 * c.accuracy);
  plot_png(dir, "models_accuracy",
           fmt::format("set title 'Top-1 accuracy by configuration and model'\nset ylabel 'top-1 %'\nset yrange [{:.0f}:*]\n"
                       "set style data histograms\nset style histogram clustered gap 1\nset style fill solid 0.8 border -1\n"
                       "set grid ytics\nset key outside top center horizontal\nset xtics rotate by -35\nset datafile separator '\\t'\n"
                       "plot for [i=2:{}] {} using i:xtic(1) title columnheader(i)\n",
                       std::max(0.0, std::floor(lo - 2)), runs.size() + 1, gpq(dir / "models_accuracy.dat")),
           1300, 600);
}

}  // namespace lpsim::nn
