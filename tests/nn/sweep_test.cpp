// Sweeps and the scenario schema (issue 13): points of sweep × zip and of a
// configuration's own sweep, stable ids, extends:, every structural mistake with
// file:line:col and the key path before anything runs, "did you mean", and the schema
// reference page generated from the table the parser checks keys against.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "arith/error.h"
#include "nn/scenario.h"
#include "nn/scenario_schema.h"
#include "nn/sweep.h"

using namespace lpsim;
using namespace lpsim::nn;
namespace fs = std::filesystem;

namespace {

class Files {
 public:
  Files() : dir_(fs::temp_directory_path() / ("lpsim-sweep-test-" + std::to_string(::getpid()))) {
    fs::create_directories(dir_);
  }
  ~Files() { fs::remove_all(dir_); }
  fs::path write(const std::string& name, const std::string& text) const {
    std::ofstream(dir_ / name) << text;
    return dir_ / name;
  }
  const fs::path& dir() const { return dir_; }

 private:
  fs::path dir_;
};

std::string sweep_error(const fs::path& f) {
  try {
    load_sweep(f);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

std::string parse_error(const std::string& yaml) {
  try {
    parse_scenarios(yaml, "s.yaml");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Sweep, ProductTimesZipWithStableDistinctIds) {
  Files f;
  const auto file = f.write("s.yaml", R"(name: g
sweep:
  hardware.acc_bits: [16, 20, 24]
  model.arch: [mlp, lenet5]
zip:
  hardware.overflow: [wrap, saturate]
  hardware.mac: [array, booth]
quantization: {configs: [{name: q, weights: int4, activations: int4}]}
)");
  const SweepPlan p = load_sweep(file);
  ASSERT_EQ(p.points.size(), 3u * 2u * 2u);
  EXPECT_EQ(p.keys, (std::vector<std::string>{"hardware.acc_bits", "model.arch", "hardware.overflow", "hardware.mac"}));
  EXPECT_EQ(p.output_dir, fs::path("results/g"));
  std::set<std::string> ids;
  for (const SweepPoint& pt : p.points) {
    ids.insert(pt.id);
    ASSERT_EQ(pt.scenarios.size(), 1u);
    const Scenario& s = pt.scenarios[0];
    // Each point's scenario has its values, and zip walks its lists together.
    EXPECT_EQ(std::to_string(s.acc_bits), pt.values[0].second);
    EXPECT_EQ(s.arch, pt.values[1].second);
    EXPECT_EQ(s.overflow == "wrap", s.mac_arch == "array");
    EXPECT_EQ(s.configs[0].acc_bits, s.acc_bits);  // the default follows hardware
    EXPECT_EQ(s.output_dir, p.output_dir / "points" / pt.id);
  }
  EXPECT_EQ(ids.size(), p.points.size());
  // The first axis is outermost.
  EXPECT_EQ(p.points[0].values[0].second, "16");
  EXPECT_EQ(p.points[4].values[0].second, "20");
  // Stable: the same file gives the same ids; where results go does not change them.
  const SweepPlan again = load_sweep(file);
  for (size_t i = 0; i < p.points.size(); ++i) EXPECT_EQ(again.points[i].id, p.points[i].id);
  SweepOverrides ov;
  ov.output_dir = f.dir() / "elsewhere";
  EXPECT_EQ(load_sweep(file, ov).points[0].id, p.points[0].id);
  ov.test_limit = 100;  // fewer test images: another point
  EXPECT_NE(load_sweep(file, ov).points[0].id, p.points[0].id);
}

TEST(Sweep, ConfigurationSweepSubstitutesVariables) {
  const auto all = parse_scenarios(R"(quantization:
  configs:
    - name: fp32
    - name: "w{w}a{a}"
      weights: "int{w}"
      activations: "int{a}"
      acc_bits: "{acc}"
      sweep: {w: [2, 4], a: [3, 8], acc: [20]}
)", "s.yaml");
  const Scenario& s = all.at(0);
  ASSERT_EQ(s.configs.size(), 5u);
  EXPECT_EQ(s.configs[1].name, "w2a3");
  EXPECT_EQ(s.configs[2].name, "w2a8");
  EXPECT_EQ(s.configs[4].name, "w4a8");
  EXPECT_EQ(s.configs[4].weights, "int4");
  EXPECT_EQ(s.configs[4].activations, "int8");
  EXPECT_EQ(s.configs[4].acc_bits, 20);
  EXPECT_EQ(s.configs[4].sweep_values,
            (std::vector<std::pair<std::string, std::string>>{{"w", "4"}, {"a", "8"}, {"acc", "20"}}));
}

TEST(Sweep, ConfigurationSweepErrorsNameTheTemplate) {
  // An unknown {var}: its scalar's position and key path.
  std::string e = parse_error("quantization:\n  configs:\n    - name: \"w{w}\"\n      weights: \"int{x}\"\n"
                              "      activations: int8\n      sweep: {w: [2]}\n");
  EXPECT_NE(e.find("s.yaml:4:16"), std::string::npos) << e;
  EXPECT_NE(e.find("quantization.configs[0].weights"), std::string::npos) << e;
  EXPECT_NE(e.find("unknown sweep variable {x}"), std::string::npos) << e;
  // A name without the variable: duplicates.
  e = parse_error("quantization:\n  configs:\n    - name: same\n      weights: \"int{w}\"\n      activations: int8\n"
                  "      sweep: {w: [2, 4]}\n");
  EXPECT_NE(e.find("duplicate configuration name"), std::string::npos) << e;
  // A combination that does not go together: the position of the value at fault (a
  // substituted value has none of its own: its configuration's); skipped and recorded
  // under on_invalid: skip.
  const std::string bad = "quantization:\n  configs:\n    - name: \"w{w}\"\n      weights: \"int{w}\"\n      activations: int8\n"
                          "      acc_bits: 12\n      sweep: {w: [2, 8]}\n";
  e = parse_error(bad);
  EXPECT_NE(e.find("s.yaml:6:17: quantization.configs[0].acc_bits"), std::string::npos) << e;
  EXPECT_NE(e.find("narrower than the int8 x int8 product"), std::string::npos) << e;
  e = parse_error("quantization:\n  configs:\n    - name: \"w{w}\"\n      weights: \"int{w}\"\n      activations: int8\n"
                  "      sweep: {w: [2, 99]}\n");
  EXPECT_NE(e.find("s.yaml:3:7: quantization.configs[0].weights"), std::string::npos) << e;
  const Scenario s = parse_scenarios("on_invalid: skip\n" + bad, "s.yaml").at(0);
  ASSERT_EQ(s.configs.size(), 1u);
  EXPECT_EQ(s.configs[0].name, "w2");
  ASSERT_EQ(s.skipped_configs.size(), 1u);
  EXPECT_EQ(s.skipped_configs[0].name, "w8");
  EXPECT_NE(s.skipped_configs[0].reason.find("s.yaml:7:17"), std::string::npos) << s.skipped_configs[0].reason;
}

TEST(Sweep, StructuralMistakesBeforeAnythingRuns) {
  Files f;
  // A key path the schema does not know: its position, the path, a suggestion.
  std::string e = sweep_error(f.write("a.yaml", "sweep:\n  hardware.acc_bit: [16]\n"));
  EXPECT_NE(e.find("a.yaml:2:3: hardware.acc_bit: no such scenario key, did you mean 'acc_bits'?"), std::string::npos) << e;
  // A value of the wrong type: the value's position.
  e = sweep_error(f.write("b.yaml", "sweep:\n  hardware.acc_bits: [16, sixteen]\n"));
  EXPECT_NE(e.find("b.yaml:2:27: hardware.acc_bits: expected an integer, got 'sixteen'"), std::string::npos) << e;
  // zip lists of unequal length.
  e = sweep_error(f.write("c.yaml", "zip:\n  hardware.overflow: [wrap, saturate]\n  hardware.mac: [array]\n"));
  EXPECT_NE(e.find("c.yaml:3:3: hardware.mac: zip lists must have one length"), std::string::npos) << e;
  // A list index past the list.
  e = sweep_error(f.write("d.yaml", "sweep:\n  quantization.configs[3].acc_bits: [16]\n"
                                    "quantization: {configs: [{name: q, weights: int4, activations: int4}]}\n"));
  EXPECT_NE(e.find("quantization.configs[3].acc_bits: the scenario has no configs[3]"), std::string::npos) << e;
  // A whole mapping is not a scalar key.
  e = sweep_error(f.write("e.yaml", "sweep:\n  hardware: [1]\n"));
  EXPECT_NE(e.find("a sweep sets scalar keys"), std::string::npos) << e;
  // A value the parser rejects: its position in the sweep list, unless on_invalid: skip.
  const std::string range = "sweep:\n  hardware.acc_bits: [16, 99]\n";
  e = sweep_error(f.write("g.yaml", range));
  EXPECT_NE(e.find("g.yaml:2:27: hardware.acc_bits: value 99"), std::string::npos) << e;
  const SweepPlan p = load_sweep(f.write("h.yaml", "on_invalid: skip\n" + range));
  ASSERT_EQ(p.points.size(), 2u);
  EXPECT_TRUE(p.points[0].invalid.empty());
  EXPECT_NE(p.points[1].invalid.find("h.yaml:3:27"), std::string::npos) << p.points[1].invalid;
  // Indexed paths reach list entries.
  const SweepPlan q = load_sweep(f.write("i.yaml", "sweep:\n  quantization.configs[0].acc_bits: [16, 20]\n"
                                                   "quantization: {configs: [{name: q, weights: int4, activations: int4}]}\n"));
  EXPECT_EQ(q.points[1].scenarios[0].configs[0].acc_bits, 20);
}

TEST(Sweep, ExtendsMergesAndErrorsNameTheRightFile) {
  Files f;
  f.write("base.yaml", "name: base\nseed: 5\nhardware: {acc_bits: 20, overflow: saturate}\n"
                       "quantization: {configs: [{name: q, weights: int4, activations: int4}]}\n");
  const auto child = f.write("child.yaml", "extends: base.yaml\nname: child\nhardware: {acc_bits: 24}\n");
  const Scenario s = load_scenario(child);
  EXPECT_EQ(s.name, "child");
  EXPECT_EQ(s.seed, 5u);
  EXPECT_EQ(s.acc_bits, 24);            // overridden
  EXPECT_EQ(s.overflow, "saturate");    // merged key by key
  ASSERT_EQ(s.configs.size(), 1u);      // lists replaced or kept whole
  auto load_error = [](const fs::path& file) -> std::string {
    try {
      load_scenario(file);
    } catch (const InputError& x) {
      return x.what();
    }
    return "";
  };
  // A mistake in the base file is reported in the base file, at its own line.
  f.write("bad_base.yaml", "seed: 1\nhardware:\n  overflow: clamp\n");
  std::string e = load_error(f.write("c2.yaml", "extends: bad_base.yaml\nname: x\n"));
  EXPECT_NE(e.find("bad_base.yaml:3:13: hardware.overflow"), std::string::npos) << e;
  // ... and one in the extending file at its own line.
  e = load_error(f.write("c3.yaml", "extends: base.yaml\n\nhardware: {acc_bits: 1}\n"));
  EXPECT_NE(e.find("c3.yaml:3:22: hardware.acc_bits"), std::string::npos) << e;
  // A cycle and a missing file.
  f.write("x.yaml", "extends: y.yaml\n");
  f.write("y.yaml", "extends: x.yaml\n");
  e = load_error(f.dir() / "x.yaml");
  EXPECT_NE(e.find("a cycle"), std::string::npos) << e;
  e = load_error(f.write("m.yaml", "extends: missing.yaml\n"));
  EXPECT_NE(e.find("m.yaml:1:10: extends: no such file"), std::string::npos) << e;
}

TEST(Schema, UnknownKeysGetASuggestion) {
  std::string e = parse_error("hardware: {acc_bit: 16}\n");
  EXPECT_NE(e.find("s.yaml:1:12: hardware.acc_bit: unknown key, did you mean 'acc_bits'?"), std::string::npos) << e;
  e = parse_error("quantization: {configs: [{name: q, weigths: int4, activations: int4}]}\n");
  EXPECT_NE(e.find("did you mean 'weights'?"), std::string::npos) << e;
  e = parse_error("outptus: {dir: x}\n");
  EXPECT_NE(e.find("did you mean 'outputs'?"), std::string::npos) << e;
  e = parse_error("hardware: {zzzz: 1}\n");  // nothing near: no suggestion, the list
  EXPECT_EQ(e.find("did you mean"), std::string::npos) << e;
  EXPECT_NE(e.find("allowed: mac, dataflow"), std::string::npos) << e;
}

// Every key of the schema is accepted by the parser with its documented example value
// (in the smallest context its section needs), and every key a section accepts is in the
// schema (the parser's expect_map reads the same table): the reference cannot drift.
TEST(Schema, EveryDocumentedKeyParsesWithItsExample) {
  const std::map<std::string, std::string> context = {
      {"", "{}"},
      {"dataset", "{dataset: {}}"},
      {"dataset.normalize", "{dataset: {normalize: {mean: [0.5], std: [0.25]}}}"},
      {"model", "{model: {}}"},
      {"model.train", "{model: {train: {}}}"},
      {"power_budget", "{power_budget: [{name: b0}]}"},
      {"power_budget.like", "{power_budget: {like: {weights: int2, activations: int2}}}"},
      {"quantization", "{quantization: {configs: [{name: c}]}}"},
      {"quantization.calibration", "{quantization: {calibration: {}, configs: [{name: c}]}}"},
      {"quantization.configs[]", "{quantization: {configs: [{name: c, weights: int8, activations: int8}]}}"},
      {"quantization.configs[].pann",
       "{power_budget: [{name: b1, nj_per_inference: 5}], quantization: {validation_images: 100, configs: [{name: c, "
       "method: pann, pann: {R: 1, activation_bits: 4}}]}}"},
      {"quantization.configs[].pann.train",
       "{quantization: {configs: [{name: c, method: pann, pann: {R: 1, activation_bits: 4, train: {}}}]}}"},
      {"quantization.configs[].bit_allocation",
       "{quantization: {configs: [{name: c, weights: int4, activations: int4, bit_allocation: {operands: both}}]}}"},
      {"quantization.configs[].training",
       "{quantization: {configs: [{name: c, weights: int4, activations: int4, training: {method: luq}}]}}"},
      {"quantization.configs[].layers.*",
       "{quantization: {configs: [{name: c, weights: int8, activations: int8, layers: {fc1: {}}}]}}"},
      {"hardware", "{hardware: {}}"},
      {"hardware.mac", "{hardware: {mac: {rtl: [u.sv], top: my_mac}}}"},
      {"accelerator", "{accelerator: {peak_power_budget_mw: 50}}"},  // budget_sizes needs a budget
      {"accelerator.pe", "{accelerator: {pe: {}}}"},
      {"outputs", "{outputs: {}}"},
  };
  int checked = 0;
  for (const SchemaKey& k : scenario_schema()) {
    if (k.example.empty()) continue;
    ASSERT_TRUE(context.count(k.section)) << "no test context for section " << k.section;
    YAML::Node root = YAML::Load(context.at(k.section));
    // The section's mapping inside the context.
    YAML::Node at = root;
    std::stringstream path(k.section);
    for (std::string seg; std::getline(path, seg, '.');) {
      if (seg == "*") seg = "fc1";
      const bool list = seg.size() > 2 && seg.substr(seg.size() - 2) == "[]";
      if (list) seg = seg.substr(0, seg.size() - 2);
      // reset(), not =: assigning a yaml-cpp node writes through to the tree.
      YAML::Node next = at[seg];
      if (next.IsSequence()) {
        YAML::Node first = next[0];
        next.reset(first);
      }
      at.reset(next);
    }
    if (k.section == "power_budget") {
      YAML::Node first = root["power_budget"][0];
      at.reset(first);
    }
    at[k.key] = YAML::Load(k.example);
    if (k.section == "power_budget" && k.key == "name") at["nj_per_inference"] = 5;  // a budget needs its form
    const std::string text = YAML::Dump(root);
    EXPECT_EQ(parse_error(text), "") << k.section << "." << k.key << " = " << k.example << "\n" << text;
    ++checked;
  }
  EXPECT_GT(checked, 80);
  // The table holds every section's keys once.
  std::set<std::string> seen;
  for (const SchemaKey& k : scenario_schema()) EXPECT_TRUE(seen.insert(k.section + "/" + k.key).second) << k.key;
}

TEST(Schema, ReferencePageIsGeneratedFromTheTable) {
  std::ifstream in(std::string(LPSIM_SOURCE_DIR) + "/docs/scenario-schema.md");
  ASSERT_TRUE(in) << "docs/scenario-schema.md missing";
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str(), schema_markdown()) << "docs/scenario-schema.md is stale: regenerate it with "
                                            "`lpsim schema > docs/scenario-schema.md`";
  // Dotted paths resolve to entries, through list indices, layer names and aliases.
  EXPECT_NE(schema_entry("quantization.configs[4].layers.conv1.acc_bits"), nullptr);
  EXPECT_NE(schema_entry("models[1].train.epochs"), nullptr);
  EXPECT_NE(schema_entry("power_budget.mac.acc_bits"), nullptr);
  EXPECT_NE(schema_entry("quantization.configs[0].calibration.source"), nullptr);
  EXPECT_EQ(schema_entry("hardware.nope"), nullptr);
}

// scenarios/sweep-bits.yaml: 8 points (accumulator width × overflow) of 36 configurations,
// the 12-bit points skipping the 5 products wider than 12 bits; through extends: it is
// the quickstart (same model, data, hardware).
TEST(Sweep, ShippedSweepBits) {
  const fs::path dir = fs::path(LPSIM_SOURCE_DIR) / "scenarios";
  const SweepPlan p = load_sweep(dir / "sweep-bits.yaml");
  ASSERT_EQ(p.points.size(), 8u);
  EXPECT_EQ(p.config_vars, (std::vector<std::string>{"w", "a"}));
  const Scenario q = load_scenario(dir / "quickstart.yaml");
  size_t configs = 0, skipped = 0;
  for (const SweepPoint& pt : p.points) {
    ASSERT_TRUE(pt.invalid.empty()) << pt.invalid;
    const Scenario& s = pt.scenarios.at(0);
    configs += s.configs.size(), skipped += s.skipped_configs.size();
    EXPECT_EQ(s.skipped_configs.size(), s.acc_bits == 12 ? 5u : 0u);
    EXPECT_EQ(s.arch, q.arch);
    EXPECT_EQ(s.epochs, q.epochs);
    EXPECT_EQ(s.threads, q.threads);  // the same cached model as the quickstart
    EXPECT_EQ(s.energy_vectors, q.energy_vectors);
  }
  EXPECT_EQ(configs, 278u);
  EXPECT_EQ(skipped, 10u);
}
