#include "nn/scenario.h"

#include "arith/lns_rom.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "arith/error.h"
#include "arith/format.h"
#include "nn/graph.h"
#include "nn/operand_formats.h"
#include "nn/scenario_schema.h"
#include "nn/scenario_yaml.h"

namespace lpsim::nn {

int SourceMap::add(const std::string& label, int lines) {
  files_.push_back({next_line_, label});
  next_line_ += lines + 1;
  return files_.back().first_line;
}

std::string SourceMap::where(int line, int column) const {
  const File* f = &files_.front();
  for (const File& x : files_)
    if (x.first_line <= line && x.first_line >= f->first_line) f = &x;
  return f->label + ":" + std::to_string(line - f->first_line + 1) + ":" + std::to_string(column + 1);
}

namespace {

class Reader {
 public:
  explicit Reader(const SourceMap& sources) : sources_(sources) {}

  std::string where(const YAML::Node& n) const {
    const YAML::Mark m = n.Mark();
    // A node made by a configuration's sweep ({var} substituted) has no place in a file:
    // its template's.
    if (m.line < 0) return fallback_.empty() ? sources_.label() : fallback_;
    return sources_.where(m.line, m.column);
  }
  [[noreturn]] void fail(const YAML::Node& n, const std::string& key, const std::string& msg) const {
    throw InputError(msg, where(n), key);
  }
  void set_fallback(std::string w) const { fallback_ = std::move(w); }
  const SourceMap& sources() const { return sources_; }

  // A mapping whose keys must all be in the schema's `section` (nn/scenario_schema.h),
  // less `except`.
  void expect_map(const YAML::Node& n, const std::string& key, const std::string& section,
                  std::initializer_list<const char*> except = {}) const {
    if (!n.IsMap()) fail(n, key, "expected a mapping");
    std::vector<std::string> allowed;
    for (const std::string& a : schema_keys(section))
      if (std::none_of(except.begin(), except.end(), [&](const char* e) { return a == e; })) allowed.push_back(a);
    for (const auto& kv : n) {
      if (!kv.first.IsScalar()) fail(kv.first, key, "a key must be a plain name, not a list or mapping");  // (fuzzing)
      const std::string k = kv.first.as<std::string>();
      if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) {
        std::string list;
        for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
        const std::string hint = did_you_mean(k, allowed);
        fail(kv.first, key.empty() ? k : key + "." + k,
             "unknown key" + (hint.empty() ? "" : ", " + hint) + " (allowed: " + list + ")");
      }
    }
  }

  template <class T>
  void get(const YAML::Node& parent, const char* name, const std::string& key, T& out) const {
    const YAML::Node n = parent[name];
    if (!n) return;
    const std::string path = key.empty() ? name : key + "." + name;
    if (!n.IsScalar()) fail(n, path, "expected a scalar value");
    try {
      if constexpr (std::is_same_v<T, std::filesystem::path>) {
        out = n.as<std::string>();
      } else if constexpr (std::is_same_v<T, bool>) {
        const std::string s = n.as<std::string>();
        if (s != "true" && s != "false") fail(n, path, "expected true or false, got '" + s + "'");
        out = s == "true";
      } else {
        out = n.as<T>();
      }
    } catch (const YAML::BadConversion&) {
      fail(n, path, std::string("expected ") + type_name<T>() + ", got '" + n.Scalar() + "'");
    }
  }

  template <class T>
  void get(const YAML::Node& parent, const char* name, const std::string& key, std::optional<T>& out) const {
    if (!parent[name]) return;
    T v{};
    get(parent, name, key, v);
    out = v;
  }

  template <class T>
  static const char* type_name() {
    if constexpr (std::is_integral_v<T>) return "an integer";
    if constexpr (std::is_floating_point_v<T>) return "a number";
    return "a string";
  }

  void one_of(const YAML::Node& parent, const char* name, const std::string& key, const std::string& value,
              std::initializer_list<const char*> allowed) const {
    for (const char* a : allowed)
      if (value == a) return;
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
    fail(parent[name] ? parent[name] : parent, key.empty() ? name : key + "." + name,
         "'" + value + "' is not one of: " + list);
  }
  void range(const YAML::Node& parent, const char* name, const std::string& key, double v, double lo, double hi) const {
    if (v < lo || v > hi)
      fail(parent[name] ? parent[name] : parent, key.empty() ? name : key + "." + name,
           fmt::format("value {:g} is outside [{:g}, {:g}]", v, lo, hi));  // 99, not 99.000000
  }
  void format(const YAML::Node& parent, const char* name, const std::string& key, const std::string& v) const {
    arith::NumberFormat f;
    try {
      f = arith::parse_format(v);
    } catch (const InputError& e) {
      fail(parent[name], key + "." + name, e.message());
    }
    if (const std::string why = operand_format_problem(f); !why.empty()) fail(parent[name], key + "." + name, why);
  }

 private:
  const SourceMap& sources_;
  mutable std::string fallback_;
};

// A configuration's (or layer's) arithmetic must be executable and have a unit: an integer
// accumulator needs integer operands at least as wide together as the product.
void check_arithmetic(const Reader& r, const YAML::Node& n, const std::string& key, const std::string& w,
                      const std::string& a, const std::string& acc, int acc_bits) {
  const arith::NumberFormat fw = arith::parse_format(w), fa = arith::parse_format(a);
  const auto* iw = std::get_if<arith::IntFormat>(&fw);
  const auto* ia = std::get_if<arith::IntFormat>(&fa);
  // Point at the key itself where the node has it (else it came from a default above).
  auto at = [&](const char* k) { return n[k] ? n[k] : n; };
  const auto* lw = std::get_if<arith::LnsFormat>(&fw);
  const auto* la = std::get_if<arith::LnsFormat>(&fa);
  const bool lns_acc = acc == "linear" || acc == "log" || acc == "mitchell";
  if ((lw || la) && !lns_acc)
    r.fail(at("accumulator"), key + ".accumulator",
           "LNS operands (" + w + " x " + a + ") need accumulator: linear, log or mitchell");
  if (lns_acc && !(lw && la && w == a))
    r.fail(at("accumulator"), key + ".accumulator",
           "accumulator " + acc + " is an LNS unit: it takes weights and activations of one LNS format (e.g. lns8_b3), got " +
               w + " x " + a);
  if (lns_acc) return;
  if (acc == "int" && (!iw || !ia))
    r.fail(at("accumulator"), key + ".accumulator",
           "floating-point operands (" + w + " x " + a + ") need accumulator: fp32, not an integer accumulator");
  if (acc == "int") {
    const bool any_signed = iw->is_signed || ia->is_signed;
    const int product = iw->bits + ia->bits + (any_signed && !iw->is_signed) + (any_signed && !ia->is_signed);
    if (acc_bits < product)
      r.fail(at("acc_bits"), key + ".acc_bits",
             "an accumulator of " + std::to_string(acc_bits) + " bits is narrower than the " + a + " x " + w +
                 " product (" + std::to_string(product) + " bits): use acc_bits >= " + std::to_string(product));
  }
}

// normalize: none | {mean: [...], std: [...]} (dataset.normalize, or a models entry's own).
void parse_normalize(const Reader& r, const YAML::Node& n, const std::string& nkey, Scenario& s) {
  {
    s.norm_where = r.where(n);
    s.norm_mean.clear(), s.norm_std.clear();
    if (n.IsScalar()) {
      if (n.Scalar() != "none") r.fail(n, nkey, "expected none or {mean: [...], std: [...]}");
      s.normalize = "none";
    } else {
      r.expect_map(n, nkey, "dataset.normalize");
      s.normalize = "custom";
      auto list = [&](const char* name, std::vector<double>& out, bool positive) {
        const std::string key = nkey + "." + name;
        const YAML::Node v = n[name];
        if (!v) r.fail(n, key, "missing (give mean and std, one entry per channel or one for all)");
        std::vector<YAML::Node> items;
        if (v.IsScalar()) {
          items.push_back(v);
        } else if (v.IsSequence() && v.size() > 0) {
          for (const auto& e : v) items.push_back(e);
        } else {
          r.fail(v, key, "expected a number or a non-empty list of numbers");
        }
        for (const YAML::Node& e : items) {
          double x = 0;
          try {
            if (!e.IsScalar()) throw YAML::BadConversion(e.Mark());
            x = e.as<double>();
          } catch (const YAML::BadConversion&) {
            r.fail(e, key, "expected a number, got '" + (e.IsScalar() ? e.Scalar() : std::string("a collection")) + "'");
          }
          if (!std::isfinite(x) || (positive && !(x > 0)))
            r.fail(e, key, positive ? "every std must be a finite number > 0" : "not a finite number");
          out.push_back(x);
        }
      };
      list("mean", s.norm_mean, false);
      list("std", s.norm_std, true);
      if (s.norm_mean.size() > 1 && s.norm_std.size() > 1 && s.norm_mean.size() != s.norm_std.size())
        r.fail(n["std"], nkey + ".std",
               std::to_string(s.norm_std.size()) + " entries for " + std::to_string(s.norm_mean.size()) +
                   " means (give one per channel, or one for all)");
    }
  }
}

// dataset: {name, path, train_images, train_labels, test_images, test_labels, layout,
// normalize: none | {mean: [...], std: [...]}, train_limit, test_limit}.
void parse_dataset(const Reader& r, const YAML::Node& d, Scenario& s) {
  r.expect_map(d, "dataset", "dataset");
  r.get(d, "name", "dataset", s.dataset);
  r.one_of(d, "name", "dataset", s.dataset, {"fashion-mnist", "idx"});
  r.get(d, "path", "dataset", s.dataset_path);
  r.get(d, "train_images", "dataset", s.train_images);
  r.get(d, "train_labels", "dataset", s.train_labels);
  r.get(d, "test_images", "dataset", s.test_images);
  r.get(d, "test_labels", "dataset", s.test_labels);
  if (s.dataset == "idx" && !d["path"]) {
    // Without a folder, every file must be named (relative names: to the current directory).
    if (s.train_images.empty() || s.train_labels.empty() || s.test_images.empty() || s.test_labels.empty())
      r.fail(d, "dataset.path", "required for name: idx (the folder of the IDX files), unless all four files are named");
    s.dataset_path = ".";
  }
  r.get(d, "layout", "dataset", s.layout);
  r.one_of(d, "layout", "dataset", s.layout, {"nchw", "nhwc"});
  if (const auto n = d["normalize"]) parse_normalize(r, n, "dataset.normalize", s);
  r.get(d, "train_limit", "dataset", s.train_limit);
  r.get(d, "test_limit", "dataset", s.test_limit);
  r.range(d, "train_limit", "dataset", double(s.train_limit), 0, 1e9);
  r.range(d, "test_limit", "dataset", double(s.test_limit), 0, 1e9);
}

// A number or a non-empty list of numbers.
template <class T>
std::vector<T> number_list(const Reader& r, const YAML::Node& n, const std::string& key, double lo, double hi) {
  std::vector<YAML::Node> items;
  if (n.IsScalar()) {
    items.push_back(n);
  } else if (n.IsSequence() && n.size() > 0) {
    for (const auto& e : n) items.push_back(e);
  } else {
    r.fail(n, key, "expected a number or a non-empty list of numbers");
  }
  std::vector<T> out;
  for (const YAML::Node& e : items) {
    T v{};
    try {
      if (!e.IsScalar()) throw YAML::BadConversion(e.Mark());
      v = e.as<T>();
    } catch (const YAML::BadConversion&) {
      r.fail(e, key, std::string("expected ") + (std::is_integral_v<T> ? "an integer" : "a number") + ", got '" +
                         (e.IsScalar() ? e.Scalar() : std::string("a collection")) + "'");
    }
    if (!(double(v) >= lo && double(v) <= hi))
      r.fail(e, key, "value " + e.Scalar() + " is outside [" + fmt::format("{:g}", lo) + ", " + fmt::format("{:g}", hi) + "]");
    out.push_back(v);
  }
  return out;
}

}  // namespace

bool bit_allocation_applies(const BitAllocationSpec& b, const std::string& format, bool weights) {
  if (b.mean_bits <= 0) return false;
  if (b.operands == "both" || b.operands == (weights ? "weights" : "activations")) return true;
  if (b.operands != "auto") return false;
  const arith::NumberFormat f = arith::parse_format(format);
  const auto* i = std::get_if<arith::IntFormat>(&f);
  return i && i->bits <= b.mean_bits;
}

namespace {

// calibration: {source: data | noise | bn_statistics, images: N, steps, lr, batch}
void parse_calibration(const Reader& r, const YAML::Node& n, const std::string& key, CalibrationSpec& c) {
  r.expect_map(n, key, "quantization.calibration");
  r.get(n, "source", key, c.source);
  r.one_of(n, "source", key, c.source, {"data", "noise", "bn_statistics"});
  r.get(n, "images", key, c.images);
  if (n["images"]) r.range(n, "images", key, c.images, 1, 60000);
  r.get(n, "steps", key, c.steps);
  r.range(n, "steps", key, c.steps, 1, 100000);
  r.get(n, "lr", key, c.lr);
  if (!(c.lr > 0 && c.lr <= 100)) r.fail(n["lr"] ? n["lr"] : n, key + ".lr", "must be in (0, 100]");
  r.get(n, "batch", key, c.batch);
  r.range(n, "batch", key, c.batch, 2, 4096);
}

// pann: {R: x | [..], activation_bits: b | [..], budget: NAME, train: {epochs, lr}}
void parse_pann(const Reader& r, const YAML::Node& c, const std::string& key, const Scenario& s, PannSpec& p) {
  const YAML::Node n = c["pann"];
  if (!n) r.fail(c, key + ".pann", "method: pann needs pann: {R: ..., activation_bits: ...}");
  const std::string k = key + ".pann";
  r.expect_map(n, k, "quantization.configs[].pann");
  if (!n["R"]) r.fail(n, k + ".R", "missing (additions per input: mean |w̃|, e.g. 1 or [0.5, 1, 2, 4])");
  if (!n["activation_bits"]) r.fail(n, k + ".activation_bits", "missing (unsigned activation width, e.g. 4 or [4, 6, 8])");
  p.R = number_list<double>(r, n["R"], k + ".R", 0.01, 1000);
  p.activation_bits = number_list<int>(r, n["activation_bits"], k + ".activation_bits", 2, kMaxIntOperandBits);
  r.get(n, "budget", k, p.budget);
  if (const auto t = n["train"]) {
    r.expect_map(t, k + ".train", "quantization.configs[].pann.train");
    r.get(t, "epochs", k + ".train", p.train_epochs);
    r.range(t, "epochs", k + ".train", p.train_epochs, 0, 1000);
    r.get(t, "lr", k + ".train", p.train_lr);
    r.range(t, "lr", k + ".train", p.train_lr, 1e-9, 10);
  }
  (void)s;
}

// {like: {weights, activations, signed, acc_bits}} | {nj_per_inference: X} | {pj_per_mac: X}, with a
// name when in a list.
PowerBudget parse_budget(const Reader& r, const YAML::Node& n, const std::string& key, bool named) {
  PowerBudget b;
  b.where = r.where(n);
  if (named)
    r.expect_map(n, key, "power_budget");
  else
    r.expect_map(n, key, "power_budget", {"name"});
  b.name = "budget";
  if (named) {
    if (!n["name"]) r.fail(n, key + ".name", "missing (budgets in a list are named)");
    r.get(n, "name", key, b.name);
  }
  int forms = 0;
  for (const char* f : {"like", "mac", "nj_per_inference", "pj_per_mac"}) forms += n[f] ? 1 : 0;
  if (forms != 1) r.fail(n, key, "give exactly one of like, mac, nj_per_inference, pj_per_mac");
  if (const auto l = n["like"] ? n["like"] : n["mac"]) {
    b.kind = n["like"] ? "like" : "mac";
    const std::string lk = key + "." + b.kind;
    r.expect_map(l, lk, "power_budget.like");
    if (!l["weights"] || !l["activations"]) r.fail(l, lk, "give weights and activations (e.g. int2)");
    std::string w, a;
    bool is_signed = true;
    r.get(l, "weights", lk, w);
    r.get(l, "activations", lk, a);
    r.get(l, "signed", lk, is_signed);
    r.get(l, "acc_bits", lk, b.like_acc_bits);
    r.range(l, "acc_bits", lk, b.like_acc_bits, 2, 62);
    r.format(l, "weights", lk, w);
    r.format(l, "activations", lk, a);
    auto as_signedness = [&](const std::string& f, const char* which) {
      const arith::NumberFormat nf = arith::parse_format(f);
      const auto* i = std::get_if<arith::IntFormat>(&nf);
      if (!i) r.fail(l[which], lk + "." + which, "a budget 'like' a uniform network takes integer formats (e.g. int2)");
      return (is_signed ? "int" : "uint") + std::to_string(i->bits);
    };
    b.like_weights = as_signedness(w, "weights");
    b.like_activations = as_signedness(a, "activations");
    check_arithmetic(r, l, lk, b.like_weights, b.like_activations, "int", b.like_acc_bits);
  } else {
    b.kind = n["nj_per_inference"] ? "nj_per_inference" : "pj_per_mac";
    r.get(n, b.kind.c_str(), key, b.value);
    r.range(n, b.kind.c_str(), key, b.value, 1e-12, 1e15);
  }
  return b;
}

}  // namespace

namespace {

// A configuration of quantization.configs after its own `sweep` is expanded: one per
// combination of the variables' values (the first variable outermost), {var} substituted
// in every string value.
struct SweptConfig {
  YAML::Node node;
  std::string key;    // quantization.configs[i]
  std::string where;  // the template's file:line:col
  std::vector<std::pair<std::string, std::string>> values;
};

bool has_brace(const YAML::Node& n) {
  if (n.IsScalar()) return n.Scalar().find('{') != std::string::npos;
  if (n.IsMap())
    for (const auto& kv : n)
      if (has_brace(kv.second)) return true;
  if (n.IsSequence())
    for (const auto& e : n)
      if (has_brace(e)) return true;
  return false;
}

// n with {var} replaced in its scalars (subtrees without a brace shared, keeping their
// file positions for later errors).
YAML::Node substitute(const Reader& r, const YAML::Node& n, const std::string& key,
                      const std::vector<std::pair<std::string, std::string>>& values) {
  if (!has_brace(n)) return n;
  if (n.IsScalar()) {
    const std::string& text = n.Scalar();
    if (text.find('{') == std::string::npos) return n;
    std::string out;
    for (size_t i = 0; i < text.size();) {
      if (text[i] != '{') {
        out += text[i++];
        continue;
      }
      const size_t close = text.find('}', i);
      if (close == std::string::npos) r.fail(n, key, "unclosed '{' in '" + text + "'");
      const std::string var = text.substr(i + 1, close - i - 1);
      auto it = std::find_if(values.begin(), values.end(), [&](const auto& v) { return v.first == var; });
      if (it == values.end()) {
        std::vector<std::string> names;
        for (const auto& v : values) names.push_back(v.first);
        std::string list;
        for (const auto& v : names) list += (list.empty() ? "" : ", ") + v;
        const std::string hint = did_you_mean(var, names);
        r.fail(n, key, "unknown sweep variable {" + var + "}" + (hint.empty() ? "" : ", " + hint) +
                           (values.empty() ? " (this configuration has no sweep:)" : " (its sweep has: " + list + ")"));
      }
      out += it->second;
      i = close + 1;
    }
    return YAML::Node(out);
  }
  if (n.IsMap()) {
    YAML::Node m(YAML::NodeType::Map);
    for (const auto& kv : n) {
      const std::string k = kv.first.as<std::string>();
      m[k] = substitute(r, kv.second, key + "." + k, values);
    }
    return m;
  }
  if (n.IsSequence()) {
    YAML::Node l(YAML::NodeType::Sequence);
    for (size_t i = 0; i < n.size(); ++i) l.push_back(substitute(r, n[i], key + "[" + std::to_string(i) + "]", values));
    return l;
  }
  return n;
}

std::vector<SweptConfig> expand_config_sweeps(const Reader& r, const YAML::Node& cs) {
  std::vector<SweptConfig> out;
  for (size_t i = 0; i < cs.size(); ++i) {
    const YAML::Node c = cs[i];
    const std::string key = "quantization.configs[" + std::to_string(i) + "]";
    r.expect_map(c, key, "quantization.configs[]");
    const YAML::Node sw = c["sweep"];
    if (!sw) {
      // No sweep: a brace is still a mistake worth naming (an unknown {var}).
      out.push_back({substitute(r, c, key, {}), key, r.where(c), {}});
      continue;
    }
    if (!sw.IsMap() || sw.size() == 0) r.fail(sw, key + ".sweep", "expected a mapping of variable to a list of values");
    std::vector<std::pair<std::string, std::vector<std::string>>> vars;
    for (const auto& kv : sw) {
      const std::string v = kv.first.as<std::string>();
      const std::string vk = key + ".sweep." + v;
      if (v.empty() || v.find_first_of("{}. ") != std::string::npos)
        r.fail(kv.first, vk, "a variable name without braces, dots or spaces");
      const YAML::Node list = kv.second;
      if (!list.IsSequence() || list.size() == 0) r.fail(list, vk, "expected a non-empty list of values");
      std::vector<std::string> vals;
      for (const auto& e : list) {
        if (!e.IsScalar()) r.fail(e, vk, "expected scalar values");
        vals.push_back(e.Scalar());
      }
      vars.push_back({v, vals});
    }
    // A product beyond any real study (the fuzzer's 20 lists of 20 values would never
    // finish expanding) is refused before it is built.
    constexpr double kMaxConfigs = 2000;
    double product = 1;
    for (const auto& v : vars) product *= double(v.second.size());
    if (product + double(out.size()) > kMaxConfigs)
      r.fail(sw, key + ".sweep",
             fmt::format("this sweep makes {:.0f} configurations, more than {:.0f}: split the scenario", product,
                         kMaxConfigs));
    std::vector<size_t> idx(vars.size(), 0);
    while (true) {
      std::vector<std::pair<std::string, std::string>> values;
      for (size_t k = 0; k < vars.size(); ++k) values.push_back({vars[k].first, vars[k].second[idx[k]]});
      YAML::Node t(YAML::NodeType::Map);
      for (const auto& kv : c) {
        const std::string k = kv.first.as<std::string>();
        if (k != "sweep") t[k] = substitute(r, kv.second, key + "." + k, values);
      }
      out.push_back({t, key, r.where(c), values});
      size_t k = vars.size();
      while (k > 0 && ++idx[k - 1] == vars[k - 1].second.size()) idx[--k] = 0;
      if (k == 0) break;
    }
  }
  return out;
}

int count_lines(const std::string& text) { return int(std::count(text.begin(), text.end(), '\n')) + 1; }

std::string read_text(const std::filesystem::path& file, const std::string& what) {
  std::ifstream in(file);
  if (!in) throw InputError("cannot read " + what, file.string());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

YAML::Node load_yaml(const std::string& text, const std::string& label, SourceMap& sources) {
  const int first = sources.add(label, count_lines(text));
  try {
    return YAML::Load(std::string(size_t(first), '\n') + text);
  } catch (const YAML::ParserException& e) {
    throw InputError("YAML syntax error: " + e.msg, sources.where(e.mark.line, e.mark.column));
  }
}

// over merged into base: mappings key by key (over wins), anything else replaced.
YAML::Node merge(YAML::Node base, const YAML::Node& over) {
  if (!base.IsMap() || !over.IsMap()) return over;
  for (const auto& kv : over) {
    const std::string k = kv.first.as<std::string>();
    base[k] = base[k] ? merge(base[k], kv.second) : kv.second;
  }
  return base;
}

// root with its extends: chain merged in (cycles and depth checked).
YAML::Node resolve_extends(YAML::Node root, const std::filesystem::path& dir, SourceMap& sources,
                           std::vector<std::filesystem::path>& chain) {
  if (!root.IsMap() || !root["extends"]) return root;
  const YAML::Node e = root["extends"];
  const Reader r(sources);
  if (!e.IsScalar() || e.Scalar().empty()) r.fail(e, "extends", "expected the path of a scenario file");
  const std::filesystem::path base_file = dir / e.Scalar();
  if (!std::filesystem::is_regular_file(base_file)) r.fail(e, "extends", "no such file: " + base_file.string());
  const auto canon = std::filesystem::weakly_canonical(base_file);
  if (std::find(chain.begin(), chain.end(), canon) != chain.end())
    r.fail(e, "extends", "a cycle: " + base_file.string() + " extends this file again");
  chain.push_back(canon);
  YAML::Node base = load_yaml(read_text(base_file, "scenario file (extends)"), base_file.string(), sources);
  if (!base || !base.IsMap()) r.fail(e, "extends", base_file.string() + " is not a scenario (a mapping)");
  base = resolve_extends(base, base_file.parent_path(), sources, chain);
  YAML::Node own(YAML::NodeType::Map);
  for (const auto& kv : root)
    if (kv.first.as<std::string>() != "extends") own[kv.first.as<std::string>()] = kv.second;
  return merge(base, own);
}

}  // namespace

ScenarioTree scenario_tree_from_text(const std::string& text, const std::string& label) {
  ScenarioTree t;
  t.root = load_yaml(text, label, t.sources);
  std::vector<std::filesystem::path> chain;
  t.root = resolve_extends(t.root, std::filesystem::path(label).parent_path(), t.sources, chain);
  return t;
}

ScenarioTree load_scenario_tree(const std::filesystem::path& file) {
  return scenario_tree_from_text(read_text(file, "scenario file"), file.string());
}

bool is_sweep_file(const std::filesystem::path& file) {
  const ScenarioTree t = load_scenario_tree(file);
  return t.root.IsMap() && (t.root["sweep"] || t.root["zip"]);
}

// One model entry (`model:` or an item of `models:`), into s. key: its path for errors.
void parse_model(const Reader& r, const YAML::Node& root, const YAML::Node& m, const std::string& key, Scenario& s) {
    r.expect_map(m, key, "model");
    // The model's own preprocessing (an imported model was trained on its own): overrides
    // dataset.normalize for this model.
    if (m["normalize"]) parse_normalize(r, m["normalize"], key + ".normalize", s);
    r.get(m, "name", key, s.model_name);
    r.get(m, "arch", key, s.arch);
    if (m["arch"]) {
      bool known = false;
      for (const auto& a : builtin_models()) known |= a == s.arch;
      if (!known) r.fail(m["arch"], key + ".arch", "unknown model '" + s.arch + "' (built in: mlp, lenet5, resnet8, resnet20)");
    }
    r.get(m, "torchscript", key, s.torchscript);
    if (m["torchscript"] && m["arch"]) r.fail(m["torchscript"], key + ".torchscript", "give either arch or torchscript");
    r.get(m, "cache", key, s.model_cache);
    if (m["torchscript"] && s.normalize == "default")
      r.fail(root["dataset"] ? root["dataset"] : m["torchscript"], "dataset.normalize",
             "required with model.torchscript: lpsim cannot know how the model's inputs were preprocessed (give "
             "none for pixel/255, or {mean: [...], std: [...]} per channel, applied to pixel/255)");
    if (const auto t = m["train"]) {
      r.expect_map(t, key + ".train", "model.train");
      r.get(t, "epochs", key + ".train", s.epochs);
      r.range(t, "epochs", key + ".train", s.epochs, 1, 1000);
      r.get(t, "batch_size", key + ".train", s.batch_size);
      r.range(t, "batch_size", key + ".train", s.batch_size, 1, 65536);
      r.get(t, "lr", key + ".train", s.lr);
      r.range(t, "lr", key + ".train", s.lr, 1e-9, 10);
      r.get(t, "momentum", key + ".train", s.momentum);
      r.range(t, "momentum", key + ".train", s.momentum, 0, 0.999999);
      r.get(t, "weight_decay", key + ".train", s.weight_decay);
      r.range(t, "weight_decay", key + ".train", s.weight_decay, 0, 1);
      r.get(t, "schedule", key + ".train", s.schedule);
      r.one_of(t, "schedule", key + ".train", s.schedule, {"cosine", "step", "constant"});
    }
  }

std::vector<Scenario> parse_scenario_tree_checked(const ScenarioTree& tree);

// Any yaml-cpp conversion the checks above did not foresee (a key that is a list, a
// value of an odd shape: the fuzzer finds them) is still the file's fault, at its place.
std::vector<Scenario> parse_scenario_tree(const ScenarioTree& tree) {
  try {
    return parse_scenario_tree_checked(tree);
  } catch (const YAML::Exception& e) {
    throw InputError("unexpected YAML here: " + e.msg, e.mark.is_null() ? tree.sources.label()
                                                                        : tree.sources.where(e.mark.line, e.mark.column));
  }
}

// hardware.mac: {rtl: ..., top: ...}: the user's MAC (checked and built at run time).
void parse_user_mac(const Reader& r, const YAML::Node& m, Scenario& s) {
  const std::string k = "hardware.mac";
  r.expect_map(m, k, k);
  rtl::UserUnitSpec u;
  u.kind = "mac";
  u.where = r.where(m);
  const YAML::Node files = m["rtl"];
  if (!files) r.fail(m, k, "missing rtl: your MAC's Verilog files");
  if (files.IsScalar()) {
    u.rtl.push_back(files.as<std::string>());
  } else if (files.IsSequence() && files.size() > 0) {
    for (const auto& f : files) {
      if (!f.IsScalar()) r.fail(f, k + ".rtl", "expected a file name");
      u.rtl.push_back(f.as<std::string>());
    }
  } else {
    r.fail(files, k + ".rtl", "expected a file or a non-empty list of files");
  }
  if (!m["top"]) r.fail(m, k, "missing top: your MAC's module");
  r.get(m, "top", k, u.top);
  u.a_bits = 8;
  r.get(m, "a_bits", k, u.a_bits);
  r.range(m, "a_bits", k, u.a_bits, 2, 32);
  u.b_bits = u.a_bits;
  r.get(m, "b_bits", k, u.b_bits);
  r.range(m, "b_bits", k, u.b_bits, 2, 32);
  r.get(m, "acc_bits", k, u.acc_bits);
  r.range(m, "acc_bits", k, u.acc_bits, u.a_bits + u.b_bits, 64);
  r.get(m, "signed", k, u.is_signed);
  r.get(m, "overflow", k, u.overflow);
  r.one_of(m, "overflow", k, u.overflow, {"wrap", "saturate"});
  u.latency = 1;
  r.get(m, "latency", k, u.latency);
  r.range(m, "latency", k, u.latency, 1, 64);
  r.get(m, "reset", k, u.reset);
  r.one_of(m, "reset", k, u.reset, {"async", "sync"});
  for (const char* map_key : {"params", "ports"}) {
    const YAML::Node n = m[map_key];
    if (!n) continue;
    if (!n.IsMap()) r.fail(n, k + "." + map_key, "expected a mapping of NAME: value");
    for (const auto& kv : n) {
      if (!kv.first.IsScalar() || !kv.second.IsScalar())
        r.fail(kv.first, k + "." + map_key, "expected NAME: value (plain values)");
      const std::string name = kv.first.as<std::string>(), value = kv.second.as<std::string>();
      if (std::string(map_key) == "params")
        u.params[name] = value;
      else
        u.ports.emplace_back(name, value);
    }
  }
  s.user_mac = u;
  s.user_mac_where = u.where;
}

std::vector<Scenario> parse_scenario_tree_checked(const ScenarioTree& tree) {
  const YAML::Node& root = tree.root;
  const std::string& label = tree.sources.label();
  Reader r(tree.sources);
  if (!root || root.IsNull()) throw InputError("empty scenario", label);
  r.expect_map(root, "", "");
  if (root["sweep"] || root["zip"])
    r.fail(root["sweep"] ? root["sweep"] : root["zip"], root["sweep"] ? "sweep" : "zip",
           "this scenario is a sweep: run it with lpsim run (its points are expanded there)");
  Scenario s;
  s.file = label;
  r.get(root, "name", "", s.name);
  std::string on_invalid = "error";
  r.get(root, "on_invalid", "", on_invalid);
  r.one_of(root, "on_invalid", "", on_invalid, {"error", "skip"});
  s.skip_invalid = on_invalid == "skip";
  r.get(root, "seed", "", s.seed);
  r.get(root, "threads", "", s.threads);
  r.range(root, "threads", "", s.threads, 1, 256);
  if (const auto d = root["dataset"]) parse_dataset(r, d, s);
  if (root["model"] && root["models"])
    r.fail(root["models"], "models", "give either model (one network) or models (a list of networks)");
  if (const auto m = root["model"]) parse_model(r, root, m, "model", s);
  if (const auto h = root["hardware"]) {
    r.expect_map(h, "hardware", "hardware");
    if (h["mac"] && h["mac"].IsMap()) {
      parse_user_mac(r, h["mac"], s);
    } else {
      r.get(h, "mac", "hardware", s.mac_arch);
      r.one_of(h, "mac", "hardware", s.mac_arch, {"array", "booth"});
    }
    r.get(h, "dataflow", "hardware", s.dataflow);
    r.one_of(h, "dataflow", "hardware", s.dataflow, {"output_stationary", "weight_stationary"});
    r.get(h, "ws_run", "hardware", s.ws_run);
    r.range(h, "ws_run", "hardware", s.ws_run, 1, 4096);
    r.get(h, "acc_bits", "hardware", s.acc_bits);
    r.range(h, "acc_bits", "hardware", s.acc_bits, 2, 62);
    r.get(h, "overflow", "hardware", s.overflow);
    r.one_of(h, "overflow", "hardware", s.overflow, {"wrap", "saturate"});
    r.get(h, "energy_model", "hardware", s.energy_model);
    r.one_of(h, "energy_model", "hardware", s.energy_model, {"gate", "analytic", "none"});
    r.get(h, "energy_vectors", "hardware", s.energy_vectors);
    r.range(h, "energy_vectors", "hardware", double(s.energy_vectors), 128, 1e9);
    r.get(h, "energy_images", "hardware", s.energy_images);
    r.range(h, "energy_images", "hardware", s.energy_images, 1, 10000);
    r.get(h, "netlist_cache", "hardware", s.netlist_cache);
    if (s.user_mac) {  // the hardware-wide defaults of its accumulator
      if (!h["mac"]["acc_bits"]) s.user_mac->acc_bits = s.acc_bits;
      if (!h["mac"]["overflow"]) s.user_mac->overflow = s.overflow;
    }
  }
  if (const auto a = root["accelerator"]) {
    AcceleratorSection& A = s.accelerator;
    const std::string k = "accelerator";
    r.expect_map(a, k, k);
    A.present = true;
    A.where = r.where(a);
    r.get(a, "rows", k, A.rows);
    r.range(a, "rows", k, A.rows, 1, 1024);
    r.get(a, "cols", k, A.cols);
    r.range(a, "cols", k, A.cols, 1, 1024);
    r.get(a, "dataflow", k, A.dataflow);
    r.one_of(a, "dataflow", k, A.dataflow, {"weight_stationary", "output_stationary"});
    r.get(a, "clock_mhz", k, A.clock_mhz);
    r.range(a, "clock_mhz", k, A.clock_mhz, 1e-3, 1e5);
    for (auto [name, v] : {std::pair{"ifmap_sram_kb", &A.ifmap_sram_kb}, std::pair{"filter_sram_kb", &A.filter_sram_kb},
                           std::pair{"ofmap_sram_kb", &A.ofmap_sram_kb}}) {
      r.get(a, name, k, *v);
      r.range(a, name, k, *v, 0.125, 1048576);
    }
    r.get(a, "sram_port_bits", k, A.sram_port_bits);
    r.range(a, "sram_port_bits", k, A.sram_port_bits, 8, 4096);
    r.get(a, "sram_energy", k, A.sram_energy);
    r.get(a, "window_cycles", k, A.window_cycles);
    r.range(a, "window_cycles", k, A.window_cycles, 1, 1e9);
    r.get(a, "images", k, A.images);
    r.range(a, "images", k, A.images, 1, 10000);
    if (const auto c = a["configs"]) {
      if (!c.IsSequence() || c.size() == 0) r.fail(c, k + ".configs", "expected a non-empty list of configuration names");
      for (const auto& e : c) {
        if (!e.IsScalar()) r.fail(e, k + ".configs", "expected a configuration name");
        A.configs.push_back(e.Scalar());
      }
    }
    if (const auto pe = a["pe"]) {
      r.expect_map(pe, k + ".pe", "accelerator.pe");
      r.get(pe, "unit", k + ".pe", A.pe_unit);
      r.one_of(pe, "unit", k + ".pe", A.pe_unit, {"mac"});
      r.get(pe, "arch", k + ".pe", A.pe_arch);
      if (pe["arch"]) r.one_of(pe, "arch", k + ".pe", A.pe_arch, {"array", "booth"});  // absent: hardware.mac
    }
    r.get(a, "peak_power_budget_mw", k, A.peak_power_budget_mw);
    r.range(a, "peak_power_budget_mw", k, A.peak_power_budget_mw, 0, 1e9);
    if (const auto b = a["budget_sizes"]) {
      if (!b.IsSequence() || b.size() == 0) r.fail(b, k + ".budget_sizes", "expected a non-empty list of array sizes");
      for (const auto& e : b) {
        int v = 0;
        try {
          if (!e.IsScalar()) throw YAML::BadConversion(e.Mark());
          v = e.as<int>();
        } catch (const YAML::BadConversion&) {
          r.fail(e, k + ".budget_sizes", "expected an integer array size");
        }
        if (v < 1 || v > 1024) r.fail(e, k + ".budget_sizes", "an array size must be in [1, 1024]");
        A.budget_sizes.push_back(v);
      }
      if (A.peak_power_budget_mw <= 0) r.fail(b, k + ".budget_sizes", "needs accelerator.peak_power_budget_mw");
    }
    r.get(a, "verify_gates", k, A.verify_gates);
    r.get(a, "vcd", k, A.vcd);
    r.get(a, "vcd_pes", k, A.vcd_pes);
    r.range(a, "vcd_pes", k, A.vcd_pes, 1, 64);
  }
  if (const auto b = root["power_budget"]) {
    if (b.IsSequence()) {
      if (b.size() == 0) r.fail(b, "power_budget", "expected a budget or a non-empty list of named budgets");
      for (size_t i = 0; i < b.size(); ++i) s.budgets.push_back(parse_budget(r, b[i], "power_budget[" + std::to_string(i) + "]", true));
    } else {
      s.budgets.push_back(parse_budget(r, b, "power_budget", false));
    }
    std::set<std::string> bn;
    for (const PowerBudget& x : s.budgets)
      if (!bn.insert(x.name).second) throw InputError("duplicate budget name '" + x.name + "'", x.where, "power_budget");
  }
  if (const auto q = root["quantization"]) {
    r.expect_map(q, "quantization", "quantization");
    r.get(q, "calibration_images", "quantization", s.calibration_images);
    r.range(q, "calibration_images", "quantization", s.calibration_images, 1, 60000);
    if (q["calibration"]) parse_calibration(r, q["calibration"], "quantization.calibration", s.calibration);
    r.get(q, "validation_images", "quantization", s.validation_images);
    r.range(q, "validation_images", "quantization", s.validation_images, 0, 1000000);
    const auto cs = q["configs"];
    if (!cs || !cs.IsSequence() || cs.size() == 0) r.fail(cs ? cs : q, "quantization.configs", "expected a non-empty list");
    std::set<std::string> names;
    for (const SweptConfig& sc : expand_config_sweeps(r, cs)) {
      const YAML::Node& c = sc.node;
      const std::string& key = sc.key;
      r.set_fallback(sc.where);
      QuantConfigSpec spec;
      spec.calibration = s.calibration;
      spec.where = sc.where;
      spec.acc_bits = s.acc_bits;
      spec.overflow = s.overflow;
      spec.sweep_values = sc.values;
      if (!c["name"]) r.fail(c, key + ".name", "missing");
      r.get(c, "name", key, spec.name);
      if (spec.name.empty() || spec.name.find_first_of("/\\ ") != std::string::npos)
        r.fail(c["name"], key + ".name", "must be non-empty, without spaces or slashes");
      if (!names.insert(spec.name).second) r.fail(c["name"], key + ".name", "duplicate configuration name");
      // on_invalid: skip — a configuration whose settings do not go together (under a sweep,
      // e.g. an accumulator narrower than its product) is recorded and left out; its keys
      // and their types were checked above and below by the same parser.
      try {
      r.get(c, "method", key, spec.method);
      r.one_of(c, "method", key, spec.method, {"uniform", "pann"});
      if (c["pann"] && spec.method != "pann") r.fail(c["pann"], key + ".pann", "only with method: pann");
      if (spec.method == "pann") {
        parse_pann(r, c, key, s, spec.pann);
        if (c["weights"] || c["activations"])
          r.fail(c["weights"] ? c["weights"] : c["activations"], key,
                 "method: pann sets its own formats (integer weights w̃, unsigned activations of pann.activation_bits)");
        spec.weights = "int16";
        spec.activations = "uint" + std::to_string(spec.pann.activation_bits.front());
      }
      r.get(c, "weights", key, spec.weights);
      r.get(c, "activations", key, spec.activations);
      spec.fp32 = spec.weights.empty() && spec.activations.empty();
      if (!spec.fp32 && (spec.weights.empty() || spec.activations.empty()))
        r.fail(c, key, "give both weights and activations (or neither for the FP32 reference)");
      if (!spec.fp32) {
        r.format(c, "weights", key, spec.weights);
        r.format(c, "activations", key, spec.activations);
      }
      r.get(c, "accumulator", key, spec.accumulator);
      r.one_of(c, "accumulator", key, spec.accumulator, {"int", "fp32", "linear", "log", "mitchell"});
      // The ranges of the RTL every row is priced on (arith/lns_rom.h): the conversion ROM
      // holds alpha up to 16, the sb/db ROMs of unit B F_acc up to 7 (C has no ROM).
      r.get(c, "lns_alpha", key, spec.lns_alpha);
      r.range(c, "lns_alpha", key, spec.lns_alpha, 0, arith::kLnsRomMaxAlpha);
      r.get(c, "lns_acc_frac", key, spec.lns_acc_frac);
      r.range(c, "lns_acc_frac", key, spec.lns_acc_frac, 0, spec.accumulator == "log" ? arith::kLnsRomMaxAccFrac : 20);
      r.get(c, "acc_bits", key, spec.acc_bits);
      r.range(c, "acc_bits", key, spec.acc_bits, 2, 62);
      r.get(c, "overflow", key, spec.overflow);
      r.one_of(c, "overflow", key, spec.overflow, {"wrap", "saturate"});
      r.get(c, "per_channel", key, spec.per_channel);
      r.get(c, "unsigned_mac", key, spec.unsigned_mac);
      if (spec.unsigned_mac) {
        const bool has = !spec.fp32 && !spec.weights.empty() && !spec.activations.empty();
        const arith::NumberFormat wf = has ? arith::parse_format(spec.weights) : arith::NumberFormat{};
        const arith::NumberFormat af = has ? arith::parse_format(spec.activations) : arith::NumberFormat{};
        const auto* wi = has ? std::get_if<arith::IntFormat>(&wf) : nullptr;
        const auto* ai = has ? std::get_if<arith::IntFormat>(&af) : nullptr;
        if (spec.method != "uniform" || !wi || !ai || !wi->is_signed || !ai->is_signed || wi->bits != ai->bits ||
            spec.accumulator != "int")
          r.fail(c["unsigned_mac"], key + ".unsigned_mac",
                 "runs a signed network on an unsigned MAC: needs weights and activations of the same intN format and "
                 "an int accumulator");
      }
      r.get(c, "clip", key, spec.clip);
      r.one_of(c, "clip", key, spec.clip, {"none", "max", "aciq", "mse"});
      r.get(c, "prior", key, spec.prior);
      r.one_of(c, "prior", key, spec.prior, {"laplace", "gauss", "auto"});
      r.get(c, "per_channel_activations", key, spec.per_channel_activations);
      r.get(c, "bias_correction", key, spec.bias_correction);
      r.get(c, "activation_bias_correction", key, spec.activation_bias_correction);
      if (spec.activation_bias_correction && spec.fp32)
        r.fail(c["activation_bias_correction"], key + ".activation_bias_correction", "needs a quantised configuration");
      if (const auto b = c["bit_allocation"]) {
        const std::string bk = key + ".bit_allocation";
        r.expect_map(b, bk, "quantization.configs[].bit_allocation");
        spec.bit_allocation.mean_bits = 4;
        r.get(b, "mean_bits", bk, spec.bit_allocation.mean_bits);
        r.range(b, "mean_bits", bk, spec.bit_allocation.mean_bits, 0, 8);
        r.get(b, "rounding", bk, spec.bit_allocation.rounding);
        r.one_of(b, "rounding", bk, spec.bit_allocation.rounding, {"round", "ceil"});
        r.get(b, "operands", bk, spec.bit_allocation.operands);
        r.one_of(b, "operands", bk, spec.bit_allocation.operands, {"auto", "weights", "activations", "both"});
      }
      if (c["calibration"]) parse_calibration(r, c["calibration"], key + ".calibration", spec.calibration);
      if (const auto t = c["training"]) {
        const std::string tk = key + ".training";
        r.expect_map(t, tk, "quantization.configs[].training");
        spec.has_training = true;
        GradientSpec& g = spec.training;
        if (!t["method"]) r.fail(t, tk + ".method", "missing (luq, fp8, prune or fp32)");
        r.get(t, "method", tk, g.method);
        r.one_of(t, "method", tk, g.method, {"fp32", "luq", "fp8", "prune"});
        r.get(t, "smp", tk, g.smp);
        r.range(t, "smp", tk, g.smp, 1, 16);
        r.get(t, "levels", tk, g.luq_levels);
        if (g.luq_levels != 7 && g.luq_levels != 8) r.fail(t["levels"], tk + ".levels", "7 (a 4-bit code) or 8 (the reference code)");
        r.get(t, "fnt_epochs", tk, g.fnt_epochs);
        r.range(t, "fnt_epochs", tk, g.fnt_epochs, 0, 1000);
        r.get(t, "gradients", tk, g.format);
        if (g.format != "auto") {
          r.format(t, "gradients", tk, g.format);
          if (!std::holds_alternative<arith::FloatFormat>(arith::parse_format(g.format)))
            r.fail(t["gradients"], tk + ".gradients", "a floating-point format (fp8_e5m2, fp8_e4m3, eXmY) or auto");
        }
        r.get(t, "bits", tk, g.format_bits);
        r.range(t, "bits", tk, g.format_bits, 4, 16);
        r.get(t, "rounding", tk, g.rounding);
        r.one_of(t, "rounding", tk, g.rounding, {"nearest", "stochastic"});
        r.get(t, "sparsity", tk, g.sparsity);
        if (!(g.sparsity >= 0 && g.sparsity < 1)) r.fail(t["sparsity"] ? t["sparsity"] : t, tk + ".sparsity", "must be in [0, 1)");
        r.get(t, "from", tk, g.from);
        r.one_of(t, "from", tk, g.from, {"scratch", "fp32"});
        r.get(t, "epochs", tk, spec.training_epochs);
        if (t["epochs"]) r.range(t, "epochs", tk, spec.training_epochs, 1, 1000);
        r.get(t, "lr", tk, spec.training_lr);
        if (t["lr"] && !(spec.training_lr > 0 && spec.training_lr <= 10)) r.fail(t["lr"], tk + ".lr", "must be in (0, 10]");
        if (spec.method != "uniform") r.fail(t, tk, "training applies to uniform configurations (not PANN)");
      }
      const bool clipping = spec.clip == "aciq" || spec.clip == "mse" || spec.per_channel_activations ||
                            spec.bias_correction || spec.bit_allocation.mean_bits > 0;
      if (clipping && (spec.fp32 || spec.method != "uniform" || spec.unsigned_mac)) {
        const char* k = c["clip"] ? "clip" : c["bias_correction"] ? "bias_correction" : c["bit_allocation"] ? "bit_allocation" : "per_channel_activations";
        r.fail(c[k], key + "." + k, "clipping, bit allocation and bias correction apply to a uniform integer configuration "
                                    "(weights and activations given, not PANN or unsigned_mac)");
      }
      if (clipping) {
        const arith::NumberFormat wf = arith::parse_format(spec.weights), af = arith::parse_format(spec.activations);
        const auto* wi = std::get_if<arith::IntFormat>(&wf);
        const auto* ai = std::get_if<arith::IntFormat>(&af);
        const bool act_side = spec.clip == "aciq" || spec.clip == "mse" || spec.per_channel_activations;
        if (act_side && !ai) r.fail(c["activations"], key + ".activations", "clipping activations needs an integer format (intN or uintN)");
        if (spec.bias_correction && !wi) r.fail(c["weights"], key + ".weights", "bias_correction needs integer weights");
        if (spec.bit_allocation.mean_bits > 0) {
          const double m = spec.bit_allocation.mean_bits;
          const bool w_on = bit_allocation_applies(spec.bit_allocation, spec.weights, true);
          const bool a_on = bit_allocation_applies(spec.bit_allocation, spec.activations, false);
          const YAML::Node at = c["bit_allocation"];
          if (!w_on && !a_on)
            r.fail(at, key + ".bit_allocation", "operands: auto allocates only to formats no wider than mean_bits; "
                                                 "neither " + spec.weights + " nor " + spec.activations + " is (say operands: weights/activations/both)");
          if (w_on && (!wi || !wi->is_signed)) r.fail(at, key + ".bit_allocation", "weight bit allocation needs signed intN weights");
          if (w_on && m < 2) r.fail(at, key + ".bit_allocation.mean_bits", "weights need at least 2 bits on average (int1 has no positive level)");
          if (a_on && !ai) r.fail(at, key + ".bit_allocation", "activation bit allocation needs integer activations");
          if (a_on && ai->is_signed && m < 2) r.fail(at, key + ".bit_allocation.mean_bits", "signed activations need at least 2 bits on average");
        }
      }
      if (!spec.fp32 && spec.method == "uniform")
        check_arithmetic(r, c, key, spec.weights, spec.activations, spec.accumulator, spec.acc_bits);
      if (spec.method == "pann") {
        if (spec.accumulator != "int") r.fail(c["accumulator"], key + ".accumulator", "PANN accumulates integers: int");
        for (const int b : spec.pann.activation_bits)
          if (spec.acc_bits < b + 1)
            r.fail(c["acc_bits"] ? c["acc_bits"] : c, key + ".acc_bits",
                   "narrower than a PANN sum of " + std::to_string(b) + "-bit activations can be");
      }
      if (const auto ls = c["layers"]) {
        if (!ls.IsMap()) r.fail(ls, key + ".layers", "expected a mapping of layer name to settings");
        for (const auto& kv : ls) {
          const std::string lname = kv.first.as<std::string>();
          const std::string lkey = key + ".layers." + lname;
          const YAML::Node& ln = kv.second;
          r.expect_map(ln, lkey, "quantization.configs[].layers.*");
          LayerOverride o;
          o.where = r.where(kv.first);
          r.get(ln, "quantised", lkey, o.quantised);
          r.get(ln, "weights", lkey, o.weights);
          if (o.weights) r.format(ln, "weights", lkey, *o.weights);
          r.get(ln, "activations", lkey, o.activations);
          if (o.activations) r.format(ln, "activations", lkey, *o.activations);
          r.get(ln, "accumulator", lkey, o.accumulator);
          if (o.accumulator) r.one_of(ln, "accumulator", lkey, *o.accumulator, {"int", "fp32", "linear", "log", "mitchell"});
          r.get(ln, "acc_bits", lkey, o.acc_bits);
          if (o.acc_bits) r.range(ln, "acc_bits", lkey, *o.acc_bits, 2, 62);
          r.get(ln, "overflow", lkey, o.overflow);
          if (o.overflow) r.one_of(ln, "overflow", lkey, *o.overflow, {"wrap", "saturate"});
          r.get(ln, "per_channel", lkey, o.per_channel);
          r.get(ln, "clip", lkey, o.clip);
          if (o.clip) r.one_of(ln, "clip", lkey, *o.clip, {"none", "max", "aciq", "mse"});
          // The layer's effective arithmetic: its own keys over the configuration's.
          const bool quantised = o.quantised ? *o.quantised : (o.weights || o.activations || !spec.fp32);
          if (quantised) {
            const std::string w = o.weights.value_or(spec.weights), a = o.activations.value_or(spec.activations);
            if (w.empty() || a.empty())
              r.fail(ln, lkey, "a quantised layer needs weights and activations formats");
            check_arithmetic(r, ln, lkey, w, a, o.accumulator.value_or(spec.accumulator), o.acc_bits.value_or(spec.acc_bits));
          }
          spec.layers[lname] = o;
        }
      }
      // A PANN grid without a budget is the deployment-time dial: one configuration per point.
      const bool grid = spec.pann.R.size() > 1 || spec.pann.activation_bits.size() > 1;
      if (spec.method == "pann" && grid && spec.pann.budget.empty()) {
        for (const int b : spec.pann.activation_bits)
          for (const double R : spec.pann.R) {
            QuantConfigSpec point = spec;
            point.pann.R = {R};
            point.pann.activation_bits = {b};
            point.pann.dial = spec.name;
            point.activations = "uint" + std::to_string(b);
            point.name = spec.name + "_R" + fmt::format("{:g}", R) + "_b" + std::to_string(b);
            if (!names.insert(point.name).second) r.fail(c["name"], key + ".name", "duplicate configuration name " + point.name);
            s.configs.push_back(std::move(point));
          }
        continue;
      }
      s.configs.push_back(std::move(spec));
      } catch (const InputError& e) {
        if (!s.skip_invalid) throw;
        s.skipped_configs.push_back({spec.name, e.what(), spec.sweep_values});
      }
    }
    r.set_fallback("");
    if (s.configs.empty() && !s.skipped_configs.empty())
      r.fail(cs, "quantization.configs", "every configuration is invalid (on_invalid: skip): first: " +
                                             s.skipped_configs.front().reason);
  }
  for (const QuantConfigSpec& c : s.configs) {
    if (c.pann.budget.empty()) continue;
    bool known = false;
    for (const PowerBudget& b : s.budgets) known |= b.name == c.pann.budget;
    if (!known) throw InputError("no power budget named '" + c.pann.budget + "' (power_budget)", c.where, "pann.budget");
    if (s.validation_images == 0)
      throw InputError("choosing under a budget needs quantization.validation_images > 0 (a held-out slice of the "
                       "training set; never the test set)",
                       c.where, "quantization.validation_images");
  }
  if (s.configs.empty()) {
    QuantConfigSpec fp;
    fp.name = "fp32";
    fp.fp32 = true;
    s.configs.push_back(fp);
  }
  if (const auto o = root["outputs"]) {
    r.expect_map(o, "outputs", "outputs");
    r.get(o, "dir", "outputs", s.output_dir);
    if (o["dir"]) s.output_dir_where = r.where(o["dir"]);
    r.get(o, "plot", "outputs", s.plot);
    r.get(o, "resume", "outputs", s.resume);
  }
  if (s.name.empty()) s.name = std::filesystem::path(label).stem().string();
  if (!root["models"]) return {s};
  // models: the same study on every network, each into outputs.dir/<name>.
  const YAML::Node ms = root["models"];
  if (!ms.IsSequence() || ms.size() == 0)
    r.fail(ms, "models", "expected a non-empty list of models ({arch: ..., train: ...} each)");
  std::vector<Scenario> out;
  for (size_t i = 0; i < ms.size(); ++i) {
    const std::string key = "models[" + std::to_string(i) + "]";
    if (!ms[i].IsMap()) r.fail(ms[i], key, "expected a model ({arch: ..., train: ...})");
    Scenario m = s;
    parse_model(r, root, ms[i], key, m);
    if (m.model_name.empty()) m.model_name = m.torchscript.empty() ? m.arch : m.torchscript.stem().string();
    for (const auto& o : out)
      if (o.model_name == m.model_name)
        r.fail(ms[i], key, "two models named '" + m.model_name + "' (give each a distinct name:, it names its output folder)");
    m.output_dir = s.output_dir / m.model_name;
    m.name = s.name.empty() ? m.model_name : s.name + "/" + m.model_name;
    out.push_back(std::move(m));
  }
  return out;
}

std::vector<Scenario> parse_scenarios(const std::string& text, const std::string& label) {
  return parse_scenario_tree(scenario_tree_from_text(text, label));
}

Scenario parse_scenario(const std::string& text, const std::string& label) {
  auto all = parse_scenarios(text, label);
  if (all.size() != 1)
    throw InputError("the scenario lists " + std::to_string(all.size()) + " models; expected one here", label, "models");
  return std::move(all.front());
}

std::vector<Scenario> load_scenarios(const std::filesystem::path& file) {
  return parse_scenario_tree(load_scenario_tree(file));
}

Scenario load_scenario(const std::filesystem::path& file) {
  auto all = load_scenarios(file);
  if (all.size() != 1)
    throw InputError("the scenario lists " + std::to_string(all.size()) + " models; expected one here", file.string(), "models");
  return std::move(all.front());
}

}  // namespace lpsim::nn
