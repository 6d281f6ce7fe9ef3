#include "nn/sweep.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "arith/atomic_file.h"
#include "arith/error.h"
#include "arith/hash.h"
#include "nn/report_files.h"
#include "nn/scenario_schema.h"
#include "nn/scenario_yaml.h"

namespace lpsim::nn {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

// Bumped when result.json changes meaning: older results are recomputed.
constexpr int kPointResultVersion = 1;

// pricing_basis() once per process (it reads every RTL source and cell table).
const std::string& basis() {
  static const std::string b = pricing_basis();
  return b;
}

std::string where_of(const ScenarioTree& t, const YAML::Node& n) {
  const YAML::Mark m = n.Mark();
  return m.line < 0 ? t.sources.label() : t.sources.where(m.line, m.column);
}

struct Segment {
  std::string name;
  int index = -1;  // name[index]
};

std::vector<Segment> split_path(const std::string& path, const std::string& where) {
  std::vector<Segment> out;
  size_t start = 0;
  for (size_t i = 0; i <= path.size(); ++i) {
    if (i < path.size() && path[i] != '.') continue;
    std::string seg = path.substr(start, i - start);
    start = i + 1;
    Segment s;
    if (const auto b = seg.find('['); b != std::string::npos) {
      const auto e = seg.find(']', b);
      if (e != seg.size() - 1 || e == b + 1 || seg.substr(b + 1, e - b - 1).find_first_not_of("0123456789") != std::string::npos)
        throw InputError("a key path segment is name or name[index], got '" + seg + "'", where, path);
      s.index = std::stoi(seg.substr(b + 1, e - b - 1));
      seg = seg.substr(0, b);
    }
    if (seg.empty()) throw InputError("an empty segment in the key path", where, path);
    s.name = seg;
    out.push_back(s);
  }
  return out;
}

// Sets the key at path to value (a node of the sweep list: errors on it name its place).
void set_path(YAML::Node node, const std::vector<Segment>& segs, size_t i, const YAML::Node& value,
              const std::string& path, const std::string& where) {
  const Segment& s = segs[i];
  const bool last = i + 1 == segs.size();
  if (!node.IsMap() && !node.IsNull())
    throw InputError("'" + s.name + "' is under a value that is not a mapping", where, path);
  if (s.index >= 0) {
    YAML::Node list = node[s.name];
    if (!list || !list.IsSequence() || int(list.size()) <= s.index)
      throw InputError(fmt::format("the scenario has no {}[{}] (it has {} entries)", s.name, s.index,
                                   list && list.IsSequence() ? list.size() : 0),
                       where, path);
    if (last) throw InputError("a sweep sets scalar keys, not whole list entries", where, path);
    set_path(list[size_t(s.index)], segs, i + 1, value, path, where);
    return;
  }
  if (last) {
    node[s.name] = value;
    return;
  }
  if (!node[s.name]) node[s.name] = YAML::Node(YAML::NodeType::Map);
  set_path(node[s.name], segs, i + 1, value, path, where);
}

struct Axis {
  std::string path;
  std::vector<Segment> segs;
  size_t size = 0;
  bool zipped = false;
};

// The axes of sweep: and zip:, checked against the schema (values typed where it says).
std::vector<Axis> read_axes(const ScenarioTree& t) {
  std::vector<Axis> axes;
  std::set<std::string> seen;
  size_t zip_len = 0;
  for (const char* section : {"sweep", "zip"}) {
    const YAML::Node sec = t.root[section];
    if (!sec) continue;
    if (!sec.IsMap() || sec.size() == 0)
      throw InputError("expected a mapping of dotted key path to a list of values", where_of(t, sec), section);
    for (const auto& kv : sec) {
      const std::string path = kv.first.as<std::string>();
      const std::string where = where_of(t, kv.first);
      Axis a{path, split_path(path, where), 0, std::string(section) == "zip"};
      const SchemaKey* e = schema_entry(path);
      if (!e) {
        std::vector<Segment> parent = a.segs;
        parent.pop_back();
        std::vector<std::string> names;
        for (const Segment& s : parent) names.push_back(s.index >= 0 ? s.name + "[" + std::to_string(s.index) + "]" : s.name);
        const std::string hint = did_you_mean(a.segs.back().name, schema_keys(schema_section_of(names)));
        throw InputError("no such scenario key" + (hint.empty() ? "" : ", " + hint) + " (docs/scenario-schema.md lists them)",
                         where, path);
      }
      if (e->type == "mapping" || e->type == "list" || e->type == "mapping | list" || path == "extends" ||
          path == "sweep" || path == "zip" || path == "outputs.dir")
        throw InputError("a sweep sets scalar keys; " + path +
                             (path == "outputs.dir" ? " is set per point (outputs.dir/points/<id>)" : " is a " + e->type),
                         where, path);
      if (!seen.insert(path).second) throw InputError("swept twice (in sweep and zip)", where, path);
      const YAML::Node list = kv.second;
      if (!list.IsSequence() || list.size() == 0)
        throw InputError("expected a non-empty list of values", where_of(t, list), path);
      for (const auto& v : list) {
        const std::string vw = where_of(t, v);
        if (!v.IsScalar() && e->type.find("list") == std::string::npos)
          throw InputError("expected a " + e->type + " value", vw, path);
        if (!v.IsScalar()) continue;
        try {
          if (e->type == "integer") (void)v.as<int64_t>();
          if (e->type == "number") (void)v.as<double>();
        } catch (const YAML::BadConversion&) {
          throw InputError("expected " + std::string(e->type == "integer" ? "an integer" : "a number") + ", got '" +
                               v.Scalar() + "'",
                           vw, path);
        }
        if (e->type == "bool" && v.Scalar() != "true" && v.Scalar() != "false")
          throw InputError("expected true or false, got '" + v.Scalar() + "'", vw, path);
      }
      a.size = list.size();
      if (a.zipped) {
        if (zip_len && a.size != zip_len)
          throw InputError(fmt::format("zip lists must have one length: this one has {}, the first {}", a.size, zip_len),
                           where, path);
        zip_len = a.size;
      }
      axes.push_back(std::move(a));
    }
  }
  return axes;
}

std::string scalar_text(const YAML::Node& n) {
  if (n.IsScalar()) return n.Scalar();
  YAML::Emitter e;
  e << YAML::Flow << n;
  return e.c_str();
}

json read_json(const fs::path& f) {
  std::ifstream in(f);
  return json::parse(in);
}

}  // namespace

SweepPlan load_sweep(const fs::path& file, const SweepOverrides& ov) {
  const ScenarioTree base = load_scenario_tree(file);
  if (!base.root || !base.root.IsMap()) throw InputError("empty scenario or not a mapping", file.string());
  SweepPlan plan;
  plan.file = file;
  plan.name = base.root["name"] && base.root["name"].IsScalar() ? base.root["name"].Scalar() : file.stem().string();
  const YAML::Node out = base.root["outputs"];
  plan.output_dir = out && out.IsMap() && out["dir"] && out["dir"].IsScalar() ? fs::path(out["dir"].Scalar())
                                                                              : fs::path("results") / plan.name;
  if (!ov.output_dir.empty()) plan.output_dir = ov.output_dir;
  if (out && out.IsMap() && out["plot"] && out["plot"].IsScalar()) plan.plot = out["plot"].Scalar() != "false";
  if (out && out.IsMap() && out["resume"] && out["resume"].IsScalar()) plan.resume = out["resume"].Scalar() != "false";
  const std::vector<Axis> axes = read_axes(base);
  for (const Axis& a : axes) plan.keys.push_back(a.path);
  // Points: the product of the sweep axes (the first outermost), each crossed with the
  // zip rows.
  std::vector<size_t> radix;
  size_t zip_len = 0;
  for (const Axis& a : axes)
    if (a.zipped) zip_len = a.size;
    else radix.push_back(a.size);
  if (zip_len) radix.push_back(zip_len);
  double n_points = 1;  // in floating point: a product of many axes must not wrap around
  for (size_t r : radix) n_points *= double(r);
  if (n_points > 100000)
    throw InputError(fmt::format("the sweep makes {:.0f} points, more than 100000: split it", n_points), file.string(),
                     "sweep");
  const size_t n = size_t(n_points);
  std::set<std::string> ids;
  for (size_t k = 0; k < n; ++k) {
    std::vector<size_t> digit(radix.size());
    for (size_t r = radix.size(), rest = k; r-- > 0;) digit[r] = rest % radix[r], rest /= radix[r];
    // A fresh tree per point: assignments change it in place; the sweep's value nodes
    // keep their file positions, so an error on one names its line in the sweep list.
    ScenarioTree t = load_scenario_tree(file);
    SweepPoint p;
    size_t d = 0;
    for (const Axis& a : axes) {
      const size_t i = a.zipped ? digit.back() : digit[d++];
      const YAML::Node v = t.root[a.zipped ? "zip" : "sweep"][a.path][i];
      p.values.push_back({a.path, scalar_text(v)});
      set_path(t.root, a.segs, 0, v, a.path, where_of(t, v));
    }
    t.root.remove("sweep");
    t.root.remove("zip");
    if (ov.test_limit >= 0) {
      if (!t.root["dataset"]) t.root["dataset"] = YAML::Node(YAML::NodeType::Map);
      t.root["dataset"]["test_limit"] = ov.test_limit;
    }
    // The id: a hash of the resolved scenario without its outputs (where it is written
    // does not change what it computes).
    YAML::Node outputs = t.root["outputs"];
    YAML::Node key = YAML::Clone(t.root);
    key.remove("outputs");
    p.id = fmt::format("{:016x}", fnv1a(YAML::Dump(key)));
    if (!ids.insert(p.id).second) continue;  // two combinations that resolve alike are one point
    if (!outputs) t.root["outputs"] = YAML::Node(YAML::NodeType::Map);
    t.root["outputs"]["dir"] = (plan.output_dir / "points" / p.id).string();
    std::string header = "# Point " + p.id + " of the sweep " + file.string() + ":";
    for (const auto& [kk, vv] : p.values) header += " " + kk + "=" + vv;
    p.yaml = header + "\n" + YAML::Dump(t.root) + "\n";
    try {
      p.scenarios = parse_scenario_tree(t);
      for (const Scenario& s : p.scenarios)
        for (const QuantConfigSpec& c : s.configs)
          for (const auto& [var, val] : c.sweep_values)
            if (std::find(plan.config_vars.begin(), plan.config_vars.end(), var) == plan.config_vars.end())
              plan.config_vars.push_back(var);
    } catch (const InputError& e) {
      const YAML::Node oi = t.root["on_invalid"];
      if (!(oi && oi.IsScalar() && oi.Scalar() == "skip")) throw;
      p.invalid = e.what();
      p.scenarios.clear();
    }
    plan.points.push_back(std::move(p));
  }
  return plan;
}

std::string finished_point(const SweepPlan& plan, const SweepPoint& p, const RunOptions& opt) {
  if (!plan.resume || opt.fresh) return "";
  const fs::path f = plan.output_dir / "points" / p.id / "result.json";
  std::error_code ec;
  if (!fs::exists(f, ec)) return "";
  try {
    const json j = read_json(f);
    if (j.value("id", "") == p.id && j.value("version", 0) == kPointResultVersion && j.value("status", "") == "done" &&
        j.value("pricing_basis", "") == basis())
      return j.dump();
  } catch (const json::exception&) {
    // unreadable: run again
  }
  return "";
}

namespace {
json point_head(const SweepPoint& p) {
  json values = json::object();
  for (const auto& [k, v] : p.values) values[k] = v;
  return {{"id", p.id}, {"version", kPointResultVersion}, {"pricing_basis", basis()}, {"values", values},
          {"rows", json::array()}};
}
}  // namespace

std::string failed_point(const SweepPoint& p, const std::string& error) {
  json j = point_head(p);
  j["status"] = "failed", j["error"] = error;
  return j.dump();
}

std::string run_point(const SweepPlan& plan, const SweepPoint& p, const RunOptions& opt) {
  const auto t0 = std::chrono::steady_clock::now();
  const fs::path dir = plan.output_dir / "points" / p.id;
  json j = point_head(p);
  auto unix_now = [] {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  };
  const double started = unix_now();
  try {
    atomic_write_file(dir / "point.yaml", p.yaml);
    if (!p.invalid.empty()) {
      j["status"] = "skipped", j["error"] = p.invalid;
    } else {
      for (const Scenario& s : p.scenarios) {
        const RunSummary sum = run_scenario(s, opt);
        const json report = read_json(s.output_dir / "report.json");
        std::map<std::string, const json*> by_name;
        for (const auto& c : report["configs"]) by_name[c["name"].get<std::string>()] = &c;
        for (const ConfigResult& c : sum.configs) {
          json values = json::object();
          for (const QuantConfigSpec& spec : s.configs)
            if (spec.name == c.name)
              for (const auto& [var, val] : spec.sweep_values) values[var] = val;
          json layers = json::array();
          if (by_name.count(c.name))
            for (const auto& l : (*by_name[c.name])["layers"])
              layers.push_back({{"layer", l["layer"]}, {"energy_pj", l.value("energy_pj", json())}});
          auto fin = [](double x) { return std::isfinite(x) ? json(x) : json(); };
          j["rows"].push_back({{"model", sum.model}, {"config", c.name}, {"config_values", values},
                               {"status", "done"}, {"accuracy", c.accuracy}, {"energy_pj", fin(c.energy_pj)},
                               {"energy_ci95_pj", fin(c.energy_ci95_pj)}, {"unit", c.unit},
                               {"unit_area_um2", c.area_um2}, {"unit_area_mac_weighted_um2", fin(c.area_mac_weighted_um2)},
                               {"budget", c.budget}, {"budget_pj_per_inference", fin(c.budget_pj)},
                               {"energy_over_budget", fin(c.energy_over_budget)},
                               {"acc_overflow_fraction", fin(c.acc_overflow_fraction)},
                               {"acc_bits_needed", c.acc_bits_needed}, {"layers", layers}});
        }
        for (const auto& sk : s.skipped_configs) {
          json values = json::object();
          for (const auto& [var, val] : sk.sweep_values) values[var] = val;
          j["rows"].push_back({{"model", sum.model}, {"config", sk.name}, {"config_values", values},
                               {"status", "skipped"}, {"error", sk.reason}});
        }
      }
      j["status"] = "done";
    }
  } catch (const std::exception& e) {
    j["status"] = "failed", j["error"] = e.what();
  }
  // Times apart (timing.json), so that result.json is the same bytes for the same point.
  const json timing = {{"started_unix", started},
                       {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()},
                       {"finished_unix", unix_now()}};
  const std::string text = j.dump(2);
  try {
    atomic_write_file(dir / "timing.json", timing.dump(2));
    atomic_write_file(dir / "result.json", text);
  } catch (const std::exception& e) {
    j["status"] = "failed", j["error"] = std::string("cannot write result.json: ") + e.what();
  }
  return j.dump();
}

namespace {

std::string num_or_empty(const json& v, const char* fmtstr = "{:.6g}") {
  return v.is_number() ? fmt::format(fmt::runtime(fmtstr), v.get<double>()) : std::string();
}

struct Row {
  const json* point;
  const json* row;  // nullptr: a point with no rows (failed or skipped as a whole)
};

// "acc_bits=12 overflow=wrap w4a4" (tables); short: "12/wrap w4a4" (labels in plots).
std::string label_of(const SweepPlan& plan, const json& point, const json& row, bool short_form = false) {
  std::string l;
  for (const std::string& k : plan.keys) {
    if (!l.empty()) l.append(1, short_form ? '/' : ' ');
    if (!short_form) l.append(k.substr(k.rfind('.') + 1)).append(1, '=');
    l.append(point["values"].value(k, ""));
  }
  const std::string c = row.value("config", "");
  return l.empty() ? c : c.empty() ? l : l + " " + c;
}

}  // namespace

SweepReport write_sweep_report(const SweepPlan& plan, const std::vector<std::string>& results) {
  SweepReport rep;
  rep.dir = plan.output_dir;
  std::vector<json> points;
  for (const std::string& r : results) points.push_back(json::parse(r));
  std::vector<Row> rows;
  for (const json& p : points) {
    ++rep.points;
    const std::string st = p.value("status", "failed");
    rep.done += st == "done", rep.failed += st == "failed", rep.skipped += st == "skipped";
    if (p["rows"].empty()) rows.push_back({&p, nullptr});
    for (const auto& r : p["rows"]) {
      rows.push_back({&p, &r});
      if (r.value("status", "") == "skipped") ++rep.skipped_configs;
      else ++rep.rows;
    }
  }
  // summary.csv / summary.json: one row per (point, configuration).
  std::string csv = "point";
  for (const auto& k : plan.keys) csv.append(1, ',').append(csv_escape(k));
  csv += ",model,config";
  for (const auto& v : plan.config_vars) csv.append(1, ',').append(csv_escape(v));
  csv += ",status,accuracy,energy_pj_per_inference,energy_ci95_pj,unit,unit_area_um2,unit_area_mac_weighted_um2,budget,"
         "budget_pj_per_inference,energy_over_budget,acc_overflow_fraction,acc_bits_needed,error\n";
  json jrows = json::array();
  for (const Row& x : rows) {
    const json& p = *x.point;
    const json empty = json::object();
    const json& r = x.row ? *x.row : empty;
    const std::string status = x.row ? r.value("status", "done") : p.value("status", "failed");
    const std::string error = x.row ? r.value("error", "") : p.value("error", "");
    json jr = {{"point", p["id"]}, {"status", status}};
    csv += p["id"].get<std::string>();
    for (const auto& k : plan.keys) {
      const std::string v = p["values"].value(k, "");
      csv.append(1, ',').append(csv_escape(v));
      jr[k] = v;
    }
    csv += "," + csv_escape(r.value("model", "")) + "," + csv_escape(r.value("config", ""));
    jr["model"] = r.value("model", ""), jr["config"] = r.value("config", "");
    const json cv = r.value("config_values", json::object());
    for (const auto& v : plan.config_vars) {
      const std::string s = cv.value(v, "");
      csv.append(1, ',').append(csv_escape(s));
      jr[v] = s;
    }
    csv += fmt::format(",{},{},{},{},{},{},{},{},{},{},{},{},{}\n", status, num_or_empty(r.value("accuracy", json()), "{:.4f}"),
                       num_or_empty(r.value("energy_pj", json())), num_or_empty(r.value("energy_ci95_pj", json()), "{:.3g}"),
                       csv_escape(r.value("unit", "")), num_or_empty(r.value("unit_area_um2", json()), "{:.1f}"),
                       num_or_empty(r.value("unit_area_mac_weighted_um2", json()), "{:.1f}"), csv_escape(r.value("budget", "")),
                       num_or_empty(r.value("budget_pj_per_inference", json())), num_or_empty(r.value("energy_over_budget", json())),
                       num_or_empty(r.value("acc_overflow_fraction", json())),
                       r.value("acc_bits_needed", 0) ? std::to_string(r.value("acc_bits_needed", 0)) : std::string(),
                       csv_escape(error));
    for (const char* k : {"accuracy", "energy_pj", "energy_ci95_pj", "unit", "unit_area_um2", "unit_area_mac_weighted_um2",
                          "budget", "budget_pj_per_inference", "energy_over_budget", "acc_overflow_fraction", "acc_bits_needed"})
      if (r.contains(k)) jr[k] = r[k];
    if (!error.empty()) jr["error"] = error;
    jrows.push_back(jr);
  }
  atomic_write_file(plan.output_dir / "summary.csv", csv);
  atomic_write_file(plan.output_dir / "summary.json",
                    json({{"sweep", plan.name}, {"file", plan.file.string()}, {"keys", plan.keys},
                          {"config_variables", plan.config_vars}, {"points", rep.points}, {"points_done", rep.done},
                          {"points_failed", rep.failed}, {"points_skipped", rep.skipped}, {"rows", jrows}})
                        .dump(2));
  // The Pareto front over every priced row: no cheaper row is as accurate.
  std::vector<Row> priced;
  for (const Row& x : rows)
    if (x.row && x.row->value("status", "") == "done" && (*x.row)["energy_pj"].is_number()) priced.push_back(x);
  std::sort(priced.begin(), priced.end(), [](const Row& a, const Row& b) {
    const double ea = (*a.row)["energy_pj"], eb = (*b.row)["energy_pj"];
    return ea < eb || (ea == eb && (*a.row)["accuracy"].get<double>() > (*b.row)["accuracy"].get<double>());
  });
  std::vector<Row> front;
  double best = -1;
  for (const Row& x : priced)
    if ((*x.row)["accuracy"].get<double>() > best) best = (*x.row)["accuracy"], front.push_back(x);
  std::vector<std::string> images;
  if (plan.plot && !priced.empty()) {
    std::string dat = "# all rows: label\tenergy_nJ\ttop1_percent\n";
    for (const Row& x : priced)
      dat += fmt::format("{}\t{:.6g}\t{:.4f}\n", label_of(plan, *x.point, *x.row), (*x.row)["energy_pj"].get<double>() / 1e3,
                         100 * (*x.row)["accuracy"].get<double>());
    dat += "\n\n# Pareto front: label, energy_nJ, top1_percent\n";
    for (const Row& x : front)
      dat += fmt::format("{}\t{:.6g}\t{:.4f}\n", label_of(plan, *x.point, *x.row, true),
                         (*x.row)["energy_pj"].get<double>() / 1e3, 100 * (*x.row)["accuracy"].get<double>());
    atomic_write_file(plan.output_dir / "pareto.dat", dat);
    const std::string f = gpq(plan.output_dir / "pareto.dat");
    if (plot_png(plan.output_dir, "pareto",
                 fmt::format("set title {}\nset xlabel 'nJ per inference (log scale)'\nset ylabel 'top-1 %'\nset logscale x\n"
                             "set grid\nset key bottom right box opaque\nset datafile separator '\\t'\nset offsets 0, graph 0.15, graph 0.12, 0\n"
                             "plot {} index 0 using 2:3 with points pt 7 ps 0.6 lc rgb '#aaaaaa' title 'all rows ({})', "
                             "{} index 1 using 2:3 with linespoints pt 7 ps 1.1 lw 2 lc rgb '#cc0000' title 'Pareto front ({})', "
                             "{} index 1 using 2:3:1 with labels left rotate by 40 offset 0.5,0.4 font ',7' tc rgb '#cc0000' notitle\n",
                             gpq("Accuracy against energy per inference: " + plan.name), f, priced.size(), f, front.size(), f),
                 1200, 720))
      images.push_back("pareto.png");
  }
  // Heat maps: the configurations sweep two variables — a panel per (point, model).
  if (plan.plot && plan.config_vars.size() == 2 && rep.rows > 0) {
    const std::string vx = plan.config_vars[0], vy = plan.config_vars[1];
    std::vector<std::string> xs, ys;
    auto add = [](std::vector<std::string>& v, const std::string& s) {
      if (std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
    };
    std::vector<std::pair<std::string, std::vector<const json*>>> panels;  // title -> rows
    for (const Row& x : rows) {
      if (!x.row || x.row->value("status", "") != "done") continue;
      const json cv = x.row->value("config_values", json::object());
      if (!cv.contains(vx) || !cv.contains(vy)) continue;
      add(xs, cv[vx]), add(ys, cv[vy]);
      std::string title = label_of(plan, *x.point, json::object());
      if (title.empty()) title = x.row->value("model", "");
      auto it = std::find_if(panels.begin(), panels.end(), [&](const auto& pp) { return pp.first == title; });
      if (it == panels.end()) panels.push_back({title, {}}), it = panels.end() - 1;
      it->second.push_back(x.row);
    }
    auto numeric_sort = [](std::vector<std::string>& v) {
      std::sort(v.begin(), v.end(), [](const std::string& a, const std::string& b) {
        char* ea = nullptr;
        char* eb = nullptr;
        const double da = std::strtod(a.c_str(), &ea), db = std::strtod(b.c_str(), &eb);
        return (*ea == 0 && *eb == 0) ? da < db : a < b;
      });
    };
    numeric_sort(xs), numeric_sort(ys);
    const int cols = int(std::ceil(std::sqrt(double(panels.size())))), nrows = int((panels.size() + cols - 1) / cols);
    for (const char* what : {"accuracy", "energy"}) {
      const bool acc = std::string(what) == "accuracy";
      // A full grid per panel (NaN where a combination was skipped), one colour scale.
      std::string dat;
      double lo = INFINITY, hi = -INFINITY;
      for (const auto& [title, prow] : panels) {
        dat += "# " + title + "\n";
        std::vector<double> grid(xs.size() * ys.size(), NAN);
        for (const json* r : prow) {
          const json cv = (*r)["config_values"];
          const size_t ix = std::find(xs.begin(), xs.end(), cv[vx].get<std::string>()) - xs.begin();
          const size_t iy = std::find(ys.begin(), ys.end(), cv[vy].get<std::string>()) - ys.begin();
          const json& v = acc ? (*r)["accuracy"] : (*r)["energy_pj"];
          if (!v.is_number()) continue;
          const double z = acc ? 100 * v.get<double>() : v.get<double>() / 1e3;
          grid[iy * xs.size() + ix] = z, lo = std::min(lo, z), hi = std::max(hi, z);
        }
        for (size_t iy = 0; iy < ys.size(); ++iy)
          for (size_t ix = 0; ix < xs.size(); ++ix)
          {
            const double z = grid[iy * xs.size() + ix];
            dat += std::isfinite(z) ? fmt::format("{}\t{}\t{:.6g}\t{}\n", ix, iy, z, fmt::format(fmt::runtime(acc ? "{:.1f}" : "{:.3g}"), z))
                                    : fmt::format("{}\t{}\tNaN\tskipped\n", ix, iy);
          }
        dat += "\n\n";
      }
      if (!(lo <= hi)) continue;
      // Labels dark on the light half of the palette, white on the dark half.
      const double mid = acc ? (lo + hi) / 2 : std::sqrt(lo * hi);
      const std::string stem = std::string("heatmap_") + what;
      atomic_write_file(plan.output_dir / (stem + ".dat"), dat);
      std::string xt, yt;
      for (size_t i = 0; i < xs.size(); ++i) xt += fmt::format("{}{} {}", i ? ", " : "", gpq(xs[i]), i);
      for (size_t i = 0; i < ys.size(); ++i) yt += fmt::format("{}{} {}", i ? ", " : "", gpq(ys[i]), i);
      std::string body = fmt::format(
          "set datafile separator '\\t'\nset multiplot layout {},{} title {}\nset xtics ({})\nset ytics ({})\n"
          "set xlabel {}\nset ylabel {}\nset xrange [-0.5:{}]\nset yrange [-0.5:{}]\nset palette {}\n{}unset key\n"
          "set cbrange [{:.6g}:{:.6g}]\n",
          nrows, cols, gpq(acc ? "Top-1 % by " + vx + " x " + vy : "Energy per inference (nJ, log colour) by " + vx + " x " + vy),
          xt, yt, gpq(vx), gpq(vy), xs.size() - 0.5, ys.size() - 0.5,
          acc ? "defined (0 '#440154', 0.5 '#21918c', 1 '#fde725')" : "defined (0 '#fde725', 0.5 '#21918c', 1 '#440154')",
          acc ? "" : "set logscale cb\nset format cb '%g'\n", lo, lo < hi ? hi : lo * 1.001 + 1e-9);
      for (size_t k = 0; k < panels.size(); ++k)
        body += fmt::format("set title {} font ',9'\nplot {} index {} using 1:2:3 with image, '' index {} using "
                            "1:2:4:(strcol(4) eq 'skipped' ? 8947848 : ({} ? 0 : 16777215)) "
                            "with labels font ',8' tc rgb variable\n",
                            gpq(panels[k].first), gpq(plan.output_dir / (stem + ".dat")), k, k,
                            acc ? fmt::format("$3 > {:.6g}", mid) : fmt::format("$3 < {:.6g}", mid));
      body += "unset multiplot\n";
      if (plot_png(plan.output_dir, stem, body, std::max(700, 420 * cols), std::max(450, 360 * nrows))) images.push_back(stem + ".png");
    }
  }
  // Energy per layer of the front's rows (stacked).
  if (plan.plot && !front.empty()) {
    std::vector<std::string> layer_names;
    for (const Row& x : front)
      for (const auto& l : (*x.row)["layers"])
        if (std::find(layer_names.begin(), layer_names.end(), l["layer"].get<std::string>()) == layer_names.end())
          layer_names.push_back(l["layer"]);
    if (!layer_names.empty()) {
      std::string dat = "row";
      for (const auto& l : layer_names) dat += "\t" + l;
      dat += "\n";
      for (const Row& x : front) {
        dat += label_of(plan, *x.point, *x.row);
        for (const auto& ln : layer_names) {
          double e = 0;
          for (const auto& l : (*x.row)["layers"])
            if (l["layer"] == ln && l["energy_pj"].is_number()) e = l["energy_pj"].get<double>() / 1e3;
          dat += fmt::format("\t{:.6g}", e);
        }
        dat += "\n";
      }
      atomic_write_file(plan.output_dir / "energy_layers.dat", dat);
      if (plot_png(plan.output_dir, "energy_layers",
                   fmt::format("set title 'Energy per inference by layer, the Pareto front'\nset ylabel 'nJ per inference'\n"
                               "set style data histograms\nset style histogram rowstacked\nset style fill solid 0.8 border -1\n"
                               "set boxwidth 0.75\nset xtics rotate by -35 font ',8'\nset key outside right\nset grid ytics\n"
                               "set datafile separator '\\t'\nplot for [i=2:{}] {} using i:xtic(1) title columnheader(i)\n",
                               layer_names.size() + 1, gpq(plan.output_dir / "energy_layers.dat")),
                   1200, 640))
        images.push_back("energy_layers.png");
    }
  }
  // report.md: what ran, the files, the top of the front.
  std::string md = "# Sweep " + plan.name + "\n\n";
  md += fmt::format("{} points ({} done, {} failed, {} skipped as invalid); {} configurations evaluated, {} skipped as "
                    "invalid. Swept: {}{}.\n\n",
                    rep.points, rep.done, rep.failed, rep.skipped, rep.rows, rep.skipped_configs,
                    plan.keys.empty() ? std::string("(configurations only)") : [&] {
                      std::string k;
                      for (const auto& x : plan.keys) k += (k.empty() ? "`" : ", `") + x + "`";
                      return k;
                    }(),
                    plan.config_vars.empty() ? "" : [&] {
                      std::string k = "; per configuration: ";
                      for (size_t i = 0; i < plan.config_vars.size(); ++i) k += (i ? ", `" : "`") + plan.config_vars[i] + "`";
                      return k;
                    }());
  md += "Data: [summary.csv](summary.csv), [summary.json](summary.json); each point's folder `points/<id>/` holds "
        "`point.yaml` (runnable alone) and its own results.\n\n";
  for (const auto& im : images) md += "![" + im + "](" + im + ")\n\n";
  if (!front.empty()) {
    md += "## Pareto front (most accurate first)\n\n| point | configuration | top-1 % | energy / inference (nJ) | MAC area (µm²) |\n"
          "|---|---|---:|---:|---:|\n";
    for (size_t i = front.size(); i-- > 0 && front.size() - i <= 12;) {
      const json& r = *front[i].row;
      md += fmt::format("| {} | {} | {:.2f} | {:.4g} | {:.0f} |\n", label_of(plan, *front[i].point, json::object()),
                        r.value("config", ""), 100 * r["accuracy"].get<double>(), r["energy_pj"].get<double>() / 1e3,
                        r.value("unit_area_um2", 0.0));
    }
  }
  bool any_failed = false;
  for (const json& p : points)
    if (p.value("status", "") == "failed") {
      if (!any_failed) md += "\n## Failed points\n\n";
      any_failed = true;
      md += "- `" + p["id"].get<std::string>() + "`: " + p.value("error", "") + "\n";
    }
  atomic_write_file(plan.output_dir / "report.md", md);
  return rep;
}

}  // namespace lpsim::nn
