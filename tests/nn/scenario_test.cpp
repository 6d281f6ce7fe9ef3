// Scenario YAML: defaults, and every kind of bad input reported with file:line:col and
// the key path.
#include <gtest/gtest.h>

#include "arith/error.h"
#include "nn/scenario.h"

using namespace lpsim;
using namespace lpsim::nn;

namespace {
std::string error_of(const std::string& yaml) {
  try {
    parse_scenario(yaml, "s.yaml");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(Scenario, ParsesAndDefaults) {
  const Scenario s = parse_scenario(R"(
name: t
model: {arch: mlp, train: {epochs: 2}}
hardware: {acc_bits: 24, overflow: saturate}
quantization:
  configs:
    - name: fp
    - name: q
      weights: int4
      activations: int8
      layers:
        fc1: {weights: int8, acc_bits: 20}
)", "s.yaml");
  EXPECT_EQ(s.arch, "mlp");
  EXPECT_EQ(s.epochs, 2);
  ASSERT_EQ(s.configs.size(), 2u);
  EXPECT_TRUE(s.configs[0].fp32);
  EXPECT_FALSE(s.configs[1].fp32);
  EXPECT_EQ(s.configs[1].acc_bits, 24);  // inherited from hardware
  EXPECT_EQ(s.configs[1].overflow, "saturate");
  EXPECT_EQ(*s.configs[1].layers.at("fc1").acc_bits, 20);
  EXPECT_EQ(s.output_dir, "results/scenario");
}

TEST(Scenario, ErrorsNameFileLineAndKey) {
  // Unknown key, with its line and the allowed keys.
  std::string e = error_of("name: t\nmodel:\n  arch: lenet5\n  epochs: 3\n");
  EXPECT_NE(e.find("s.yaml:4:3"), std::string::npos) << e;
  EXPECT_NE(e.find("model.epochs"), std::string::npos) << e;
  EXPECT_NE(e.find("unknown key"), std::string::npos) << e;
  // Wrong type.
  e = error_of("model:\n  train:\n    epochs: many\n");
  EXPECT_NE(e.find("s.yaml:3:13"), std::string::npos) << e;
  EXPECT_NE(e.find("model.train.epochs"), std::string::npos) << e;
  // Out of range.
  e = error_of("hardware:\n  acc_bits: 80\n");
  EXPECT_NE(e.find("s.yaml:2:13"), std::string::npos) << e;
  EXPECT_NE(e.find("hardware.acc_bits"), std::string::npos) << e;
  // Bad format name inside a list item.
  e = error_of("quantization:\n  configs:\n    - name: a\n      weights: int99\n      activations: int8\n");
  EXPECT_NE(e.find("s.yaml:4:16"), std::string::npos) << e;
  EXPECT_NE(e.find("quantization.configs[0].weights"), std::string::npos) << e;
  // Arithmetic that cannot run or has no unit, found at parse time (layer overrides too).
  e = error_of("quantization:\n  configs:\n    - name: a\n      weights: int1\n      activations: int8\n");
  EXPECT_NE(e.find("s.yaml:4:16: quantization.configs[0].weights: int1 has no positive level"), std::string::npos) << e;
  e = error_of("quantization:\n  configs:\n    - name: a\n      weights: uint25\n      activations: int8\n");
  EXPECT_NE(e.find("wider than 24 bits"), std::string::npos) << e;
  e = error_of("quantization:\n  configs:\n    - name: a\n      weights: bf16\n      activations: bf16\n");
  EXPECT_NE(e.find("s.yaml:3:7: quantization.configs[0].accumulator: floating-point operands"), std::string::npos) << e;
  e = error_of("quantization:\n  configs:\n    - name: a\n      weights: uint8\n      activations: int8\n      acc_bits: 16\n");
  EXPECT_NE(e.find("quantization.configs[0].acc_bits: an accumulator of 16 bits is narrower than the int8 x uint8 "
                   "product (17 bits)"),
            std::string::npos)
      << e;
  e = error_of("quantization:\n  configs:\n    - name: a\n      weights: int8\n      activations: int8\n"
               "      layers: {fc1: {acc_bits: 12}}\n");
  EXPECT_NE(e.find("s.yaml:6:32: quantization.configs[0].layers.fc1.acc_bits: an accumulator of 12 bits"),
            std::string::npos)
      << e;
  e = error_of("hardware: {dataflow: diagonal}\n");
  EXPECT_NE(e.find("hardware.dataflow: 'diagonal' is not one of: output_stationary, weight_stationary"),
            std::string::npos)
      << e;
  // Enumerations.
  e = error_of("hardware: {mac: wallace}\n");
  EXPECT_NE(e.find("hardware.mac"), std::string::npos) << e;
  EXPECT_NE(e.find("array, booth"), std::string::npos) << e;
  e = error_of("model: {arch: vgg16}\n");
  EXPECT_NE(e.find("unknown model 'vgg16'"), std::string::npos) << e;
  // Only one of weights/activations.
  e = error_of("quantization:\n  configs:\n    - {name: a, weights: int8}\n");
  EXPECT_NE(e.find("give both"), std::string::npos) << e;
  // Duplicate names, YAML syntax errors.
  e = error_of("quantization:\n  configs:\n    - {name: a}\n    - {name: a}\n");
  EXPECT_NE(e.find("duplicate"), std::string::npos) << e;
  e = error_of("model: {arch: [lenet5\n");
  EXPECT_NE(e.find("YAML syntax error"), std::string::npos) << e;
  EXPECT_NE(e.find("s.yaml:"), std::string::npos) << e;
  // Unknown key in a per-layer override.
  e = error_of("quantization:\n  configs:\n    - name: a\n      weights: int8\n      activations: int8\n"
               "      layers:\n        conv1: {bits: 3}\n");
  EXPECT_NE(e.find("quantization.configs[0].layers.conv1.bits"), std::string::npos) << e;
}

TEST(Scenario, ShippedScenariosParse) {
  for (const char* f : {"quickstart.yaml", "resnet8.yaml", "pann.yaml"})
    for (const Scenario& s : load_scenarios(std::string(LPSIM_SOURCE_DIR) + "/scenarios/" + f))
      EXPECT_FALSE(s.configs.empty()) << f;
}

TEST(Scenario, DatasetKeys) {
  const Scenario s = parse_scenario(R"(
dataset:
  name: idx
  path: /data/mine
  train_images: imgs-train
  test_labels: /elsewhere/labels
  layout: nhwc
  normalize: {mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.243, 0.261]}
  train_limit: 100
model: {arch: lenet5}
)", "s.yaml");
  EXPECT_EQ(s.dataset, "idx");
  EXPECT_EQ(s.dataset_path, "/data/mine");
  EXPECT_EQ(s.train_images, "imgs-train");
  EXPECT_TRUE(s.train_labels.empty());
  EXPECT_EQ(s.test_labels, "/elsewhere/labels");
  EXPECT_EQ(s.layout, "nhwc");
  EXPECT_EQ(s.normalize, "custom");
  EXPECT_EQ(s.norm_mean.size(), 3u);
  EXPECT_DOUBLE_EQ(s.norm_std[2], 0.261);
  EXPECT_EQ(s.norm_where, "s.yaml:8:14");
  EXPECT_EQ(parse_scenario("dataset: {normalize: none}\n", "s.yaml").normalize, "none");
  const Scenario one = parse_scenario("dataset: {normalize: {mean: 0.5, std: 0.5}}\n", "s.yaml");
  EXPECT_EQ(one.norm_mean, std::vector<double>{0.5});
  EXPECT_EQ(parse_scenario("name: t\n", "s.yaml").normalize, "default");
  // A TorchScript model with explicit preprocessing.
  const Scenario ts = parse_scenario("dataset: {normalize: none}\nmodel: {torchscript: m.pt}\n", "s.yaml");
  EXPECT_EQ(ts.torchscript, "m.pt");
}

TEST(Scenario, DatasetErrorsNameFileLineAndKey) {
  // TorchScript needs dataset.normalize: lpsim cannot know the model's preprocessing.
  std::string e = error_of("model: {torchscript: m.pt}\n");
  EXPECT_NE(e.find("s.yaml:1:22: dataset.normalize: required with model.torchscript"), std::string::npos) << e;
  e = error_of("dataset: {train_limit: 10}\nmodel: {torchscript: m.pt}\n");
  EXPECT_NE(e.find("s.yaml:1:10: dataset.normalize: required"), std::string::npos) << e;
  // std must be > 0; lists are numbers; both are given; lengths agree.
  e = error_of("dataset:\n  normalize: {mean: [0.5], std: [0]}\n");
  EXPECT_NE(e.find("s.yaml:2:34: dataset.normalize.std: every std must be a finite number > 0"), std::string::npos) << e;
  e = error_of("dataset:\n  normalize: {mean: [a], std: [1]}\n");
  EXPECT_NE(e.find("s.yaml:2:22: dataset.normalize.mean: expected a number, got 'a'"), std::string::npos) << e;
  e = error_of("dataset:\n  normalize: {mean: [0.5]}\n");
  EXPECT_NE(e.find("dataset.normalize.std: missing"), std::string::npos) << e;
  e = error_of("dataset:\n  normalize: {mean: [0.1, 0.2, 0.3], std: [1, 2]}\n");
  EXPECT_NE(e.find("dataset.normalize.std: 2 entries for 3 means"), std::string::npos) << e;
  e = error_of("dataset:\n  normalize: imagenet\n");
  EXPECT_NE(e.find("s.yaml:2:14: dataset.normalize: expected none or {mean"), std::string::npos) << e;
  e = error_of("dataset:\n  normalize: {mean: [], std: [1]}\n");
  EXPECT_NE(e.find("dataset.normalize.mean: expected a number or a non-empty list"), std::string::npos) << e;
  e = error_of("dataset:\n  normalize: {mean: 0, std: 1, scale: 2}\n");
  EXPECT_NE(e.find("dataset.normalize.scale: unknown key"), std::string::npos) << e;
  // Names, layouts, and idx without a folder.
  e = error_of("dataset: {name: cifar10}\n");
  EXPECT_NE(e.find("dataset.name: 'cifar10' is not one of: fashion-mnist, idx"), std::string::npos) << e;
  e = error_of("dataset: {name: idx, path: d, layout: chw}\n");
  EXPECT_NE(e.find("dataset.layout: 'chw' is not one of: nchw, nhwc"), std::string::npos) << e;
  e = error_of("dataset: {name: idx}\n");
  EXPECT_NE(e.find("s.yaml:1:10: dataset.path: required for name: idx"), std::string::npos) << e;
  const Scenario all = parse_scenario(
      "dataset: {name: idx, train_images: a, train_labels: b, test_images: c, test_labels: d}\n", "s.yaml");
  EXPECT_EQ(all.dataset_path, ".");
}

// PANN configurations (papers.md §1) and power budgets: a grid without a budget expands
// into the dial's points, a grid with a budget stays one configuration that searches it.
TEST(Scenario, PannAndPowerBudgets) {
  const Scenario s = parse_scenario(R"(
power_budget:
  - {name: two, like: {weights: int2, activations: int2, signed: false}}
  - {name: mac2, mac: {weights: int2, activations: int2}}
  - {name: fixed, nj_per_inference: 50}
  - {name: per_mac, pj_per_mac: 0.2}
quantization:
  validation_images: 100
  configs:
    - {name: p, method: pann, pann: {budget: two, R: [0.5, 1], activation_bits: [3, 4], train: {epochs: 2, lr: 0.01}}}
    - {name: d, method: pann, pann: {R: [1, 2], activation_bits: [4, 8]}}
    - {name: one, method: pann, pann: {R: 2, activation_bits: 6}}
)", "s.yaml");
  ASSERT_EQ(s.budgets.size(), 4u);
  EXPECT_EQ(s.budgets[0].kind, "like");
  EXPECT_EQ(s.budgets[0].like_weights, "uint2");  // signed: false
  EXPECT_EQ(s.budgets[0].like_activations, "uint2");
  EXPECT_EQ(s.budgets[1].kind, "mac");
  EXPECT_EQ(s.budgets[1].like_weights, "int2");
  EXPECT_EQ(s.budgets[2].kind, "nj_per_inference");
  EXPECT_DOUBLE_EQ(s.budgets[2].value, 50);
  EXPECT_EQ(s.budgets[3].kind, "pj_per_mac");
  EXPECT_EQ(s.validation_images, 100);
  ASSERT_EQ(s.configs.size(), 1u + 4u + 1u);
  const QuantConfigSpec& p = s.configs[0];
  EXPECT_EQ(p.method, "pann");
  EXPECT_EQ(p.pann.budget, "two");
  EXPECT_EQ(p.pann.R, (std::vector<double>{0.5, 1}));
  EXPECT_EQ(p.pann.activation_bits, (std::vector<int>{3, 4}));
  EXPECT_EQ(p.pann.train_epochs, 2);
  EXPECT_DOUBLE_EQ(p.pann.train_lr, 0.01);
  std::vector<std::string> names;
  for (size_t i = 1; i < 5; ++i) {
    names.push_back(s.configs[i].name);
    EXPECT_EQ(s.configs[i].pann.dial, "d");
  }
  EXPECT_EQ(names, (std::vector<std::string>{"d_R1_b4", "d_R2_b4", "d_R1_b8", "d_R2_b8"}));
  EXPECT_EQ(s.configs[3].activations, "uint8");
  EXPECT_EQ(s.configs[3].pann.R, (std::vector<double>{1}));
  EXPECT_EQ(s.configs[5].name, "one");
  EXPECT_TRUE(s.configs[5].pann.dial.empty());
  EXPECT_EQ(s.configs[5].activations, "uint6");
  // A single unnamed budget is called "budget".
  const Scenario u = parse_scenario("power_budget: {pj_per_mac: 0.3}\n", "s.yaml");
  ASSERT_EQ(u.budgets.size(), 1u);
  EXPECT_EQ(u.budgets[0].name, "budget");
}

TEST(Scenario, PannAndBudgetErrorsNameFileLineAndKey) {
  const std::string cfg = "quantization:\n  validation_images: 10\n  configs:\n    - name: p\n      method: pann\n";
  std::string e = error_of(cfg + "      pann: {R: 1}\n");
  EXPECT_NE(e.find("quantization.configs[0].pann.activation_bits: missing"), std::string::npos) << e;
  e = error_of(cfg + "      pann: {R: 1, activation_bits: 1}\n");
  EXPECT_NE(e.find("s.yaml:6:"), std::string::npos) << e;
  EXPECT_NE(e.find("quantization.configs[0].pann.activation_bits"), std::string::npos) << e;
  e = error_of(cfg + "      pann: {R: -1, activation_bits: 4}\n");
  EXPECT_NE(e.find("quantization.configs[0].pann.R"), std::string::npos) << e;
  e = error_of(cfg + "      pann: {R: 1, activation_bits: 4, budget: nope}\n");
  EXPECT_NE(e.find("no power budget named 'nope'"), std::string::npos) << e;
  e = error_of(cfg + "      weights: int8\n      pann: {R: 1, activation_bits: 4}\n");
  EXPECT_NE(e.find("method: pann sets its own formats"), std::string::npos) << e;
  e = error_of("quantization:\n  configs:\n    - {name: p, method: fancy}\n");
  EXPECT_NE(e.find("quantization.configs[0].method"), std::string::npos) << e;
  e = error_of("quantization:\n  configs:\n    - {name: p, pann: {R: 1, activation_bits: 4}}\n");
  EXPECT_NE(e.find("only with method: pann"), std::string::npos) << e;
  // A budget search needs a held-out validation slice, never the test set.
  e = error_of("power_budget: {nj_per_inference: 5}\nquantization:\n  configs:\n"
               "    - {name: p, method: pann, pann: {R: 1, activation_bits: 4, budget: budget}}\n");
  EXPECT_NE(e.find("quantization.validation_images"), std::string::npos) << e;
  // Budget forms.
  e = error_of("power_budget: {nj_per_inference: 5, pj_per_mac: 1}\n");
  EXPECT_NE(e.find("s.yaml:1:15: power_budget: give exactly one of"), std::string::npos) << e;
  e = error_of("power_budget: {watts: 5}\n");
  EXPECT_NE(e.find("power_budget.watts: unknown key"), std::string::npos) << e;
  e = error_of("power_budget: {nj_per_inference: -5}\n");
  EXPECT_NE(e.find("power_budget.nj_per_inference"), std::string::npos) << e;
  e = error_of("power_budget:\n  - {like: {weights: int2, activations: int2}}\n");
  EXPECT_NE(e.find("power_budget[0].name: missing"), std::string::npos) << e;
  e = error_of("power_budget:\n  - {name: a, pj_per_mac: 1}\n  - {name: a, pj_per_mac: 2}\n");
  EXPECT_NE(e.find("duplicate budget name 'a'"), std::string::npos) << e;
  e = error_of("power_budget: {like: {weights: fp8_e4m3, activations: int2}}\n");
  EXPECT_NE(e.find("power_budget.like.weights"), std::string::npos) << e;
  // unsigned_mac runs a signed intN network on unsigned MACs: only same-width intN operands.
  EXPECT_TRUE(parse_scenario("quantization:\n  configs:\n    - {name: u, weights: int4, activations: int4, unsigned_mac: true}\n",
                             "s.yaml").configs[0].unsigned_mac);
  e = error_of("quantization:\n  configs:\n    - {name: u, weights: uint4, activations: uint4, unsigned_mac: true}\n");
  EXPECT_NE(e.find("s.yaml:3:67: quantization.configs[0].unsigned_mac: runs a signed network"), std::string::npos) << e;
  e = error_of("quantization:\n  configs:\n    - {name: u, weights: int4, activations: int8, unsigned_mac: true}\n");
  EXPECT_NE(e.find("quantization.configs[0].unsigned_mac"), std::string::npos) << e;
  e = error_of("power_budget: {like: {weights: int2}}\n");
  EXPECT_NE(e.find("give weights and activations"), std::string::npos) << e;
}

// models: the same study on several networks, each into outputs.dir/<name>.
TEST(Scenario, ModelsList) {
  const std::string yaml = R"(
name: m
models:
  - {arch: lenet5, train: {epochs: 3}}
  - {arch: resnet8, name: rn, train: {epochs: 5, lr: 0.1}}
quantization: {configs: [{name: fp}]}
outputs: {dir: out}
)";
  const auto all = parse_scenarios(yaml, "s.yaml");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].arch, "lenet5");
  EXPECT_EQ(all[0].epochs, 3);
  EXPECT_EQ(all[0].output_dir, std::filesystem::path("out") / "lenet5");
  EXPECT_EQ(all[0].name, "m/lenet5");
  EXPECT_EQ(all[1].arch, "resnet8");
  EXPECT_EQ(all[1].model_name, "rn");
  EXPECT_EQ(all[1].epochs, 5);
  EXPECT_DOUBLE_EQ(all[1].lr, 0.1);
  EXPECT_EQ(all[1].output_dir, std::filesystem::path("out") / "rn");
  EXPECT_EQ(all[1].configs.size(), 1u);
  // One model through parse_scenario, as before.
  EXPECT_EQ(parse_scenarios("model: {arch: mlp}\n", "s.yaml").size(), 1u);
  std::string e = error_of(yaml);
  EXPECT_NE(e.find("lists 2 models"), std::string::npos) << e;
  e = error_of("model: {arch: mlp}\nmodels: [{arch: mlp}]\n");
  EXPECT_NE(e.find("give either model"), std::string::npos) << e;
  e = error_of("models: [{arch: mlp}, {arch: mlp}]\n");
  EXPECT_NE(e.find("models[1]: two models named 'mlp'"), std::string::npos) << e;
  e = error_of("models:\n  - {arch: lenet5}\n  - {arch: vgg}\n");
  EXPECT_NE(e.find("s.yaml:3:"), std::string::npos) << e;
  EXPECT_NE(e.find("models[1].arch"), std::string::npos) << e;
  e = error_of("models: []\n");
  EXPECT_NE(e.find("non-empty list"), std::string::npos) << e;
}

TEST(Scenario, ClippingKeys) {
  const Scenario s = parse_scenario(R"(
quantization:
  calibration: {source: noise, images: 64}
  configs:
    - {name: a, weights: int4, activations: uint4, clip: aciq, prior: auto, per_channel_activations: true,
       bias_correction: true, bit_allocation: {mean_bits: 3.5, rounding: ceil, operands: both}}
    - {name: b, weights: int8, activations: uint4, calibration: {source: bn_statistics, steps: 10, lr: 0.05, batch: 8}}
    - {name: c, weights: int8, activations: uint4, bit_allocation: {}}
)", "s.yaml");
  ASSERT_EQ(s.configs.size(), 3u);
  const QuantConfigSpec& a = s.configs[0];
  EXPECT_EQ(a.clip, "aciq");
  EXPECT_EQ(a.prior, "auto");
  EXPECT_TRUE(a.per_channel_activations);
  EXPECT_TRUE(a.bias_correction);
  EXPECT_EQ(a.bit_allocation.mean_bits, 3.5);
  EXPECT_EQ(a.bit_allocation.rounding, "ceil");
  EXPECT_EQ(a.bit_allocation.operands, "both");
  EXPECT_EQ(a.calibration.source, "noise");  // the quantization-level default
  EXPECT_EQ(a.calibration.images, 64);
  EXPECT_EQ(s.configs[1].calibration.source, "bn_statistics");
  EXPECT_EQ(s.configs[1].calibration.steps, 10);
  EXPECT_EQ(s.configs[1].calibration.batch, 8);
  EXPECT_EQ(s.configs[1].clip, "max");
  EXPECT_EQ(s.configs[2].bit_allocation.mean_bits, 4);  // the default target
}

TEST(Scenario, ClippingErrorsNameFileLineAndKey) {
  std::string e = error_of("quantization:\n  configs:\n    - {name: a, weights: int4, activations: uint4, clip: sigma}\n");
  EXPECT_NE(e.find("s.yaml:3:58: quantization.configs[0].clip: 'sigma' is not one of: none, max, aciq, mse"), std::string::npos) << e;
  e = error_of("quantization:\n  configs:\n    - {name: a, weights: int4, activations: uint4, prior: cauchy}\n");
  EXPECT_NE(e.find("quantization.configs[0].prior"), std::string::npos) << e;
  e = error_of("quantization:\n  configs:\n    - {name: a, weights: fp8_e4m3, activations: fp8_e4m3, accumulator: fp32, clip: aciq}\n");
  EXPECT_NE(e.find("quantization.configs[0].activations: clipping activations needs an integer format"), std::string::npos) << e;
  e = error_of("quantization:\n  configs:\n    - {name: a, clip: aciq}\n");
  EXPECT_NE(e.find("quantization.configs[0].clip: clipping, bit allocation and bias correction apply"), std::string::npos) << e;
  e = error_of("quantization:\n  configs:\n    - {name: a, weights: int8, activations: uint8, bit_allocation: {mean_bits: 4}}\n");
  EXPECT_NE(e.find("quantization.configs[0].bit_allocation: operands: auto allocates only"), std::string::npos) << e;
  e = error_of("quantization:\n  configs:\n    - {name: a, weights: uint4, activations: uint4, bit_allocation: {operands: weights}}\n");
  EXPECT_NE(e.find("weight bit allocation needs signed intN weights"), std::string::npos) << e;
  e = error_of("quantization:\n  configs:\n    - {name: a, weights: int4, activations: uint4, bit_allocation: {mean: 4}}\n");
  EXPECT_NE(e.find("quantization.configs[0].bit_allocation.mean: unknown key"), std::string::npos) << e;
  e = error_of("quantization:\n  configs:\n    - {name: a, weights: int4, activations: uint4, calibration: {source: web}}\n");
  EXPECT_NE(e.find("quantization.configs[0].calibration.source: 'web' is not one of: data, noise, bn_statistics"), std::string::npos) << e;
  e = error_of("quantization:\n  calibration: {images: 0}\n  configs:\n    - {name: a}\n");
  EXPECT_NE(e.find("s.yaml:2:25: quantization.calibration.images"), std::string::npos) << e;
  e = error_of("quantization:\n  configs:\n    - {name: a, weights: int4, activations: uint4, bias_correction: yes}\n");
  EXPECT_NE(e.find("quantization.configs[0].bias_correction: expected true or false"), std::string::npos) << e;
}

TEST(Scenario, ModelPreprocessingLayerClipAndActivationBiasCorrection) {
  const auto all = parse_scenarios(R"(
dataset: {name: fashion-mnist}
models:
  - arch: lenet5
  - {name: theirs, torchscript: m.pt, normalize: {mean: [0.5], std: [0.5]}}
quantization:
  configs:
    - {name: a, weights: int4, activations: uint4, clip: aciq, activation_bias_correction: true,
       layers: {conv1: {weights: int8, activations: uint8, clip: max}}}
)", "s.yaml");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].normalize, "default");  // the dataset's
  EXPECT_EQ(all[1].normalize, "custom");   // the model's own
  EXPECT_EQ(all[1].norm_mean, std::vector<double>{0.5});
  EXPECT_EQ(all[1].norm_std, std::vector<double>{0.5});
  EXPECT_TRUE(all[0].configs[0].activation_bias_correction);
  EXPECT_EQ(*all[0].configs[0].layers.at("conv1").clip, "max");
  std::string e = error_of("models:\n  - {arch: lenet5, normalize: {mean: [0.5]}}\n");
  EXPECT_NE(e.find("models[0].normalize.std: missing"), std::string::npos) << e;
  e = error_of("quantization:\n  configs:\n    - {name: a, weights: int4, activations: uint4, layers: {conv1: {clip: wide}}}\n");
  EXPECT_NE(e.find("quantization.configs[0].layers.conv1.clip: 'wide' is not one of"), std::string::npos) << e;
}

TEST(Scenario, TrainingKeys) {
  const Scenario s = parse_scenario(R"(
quantization:
  configs:
    - {name: a, training: {method: luq, smp: 2, fnt_epochs: 1, levels: 8, from: fp32, epochs: 3, lr: 0.01}}
    - {name: b, weights: int8, activations: int8, training: {method: fp8, gradients: e3m4, rounding: stochastic}}
    - {name: c, training: {method: prune, sparsity: 0.9}}
)", "s.yaml");
  ASSERT_EQ(s.configs.size(), 3u);
  EXPECT_TRUE(s.configs[0].has_training);
  EXPECT_EQ(s.configs[0].training.method, "luq");
  EXPECT_EQ(s.configs[0].training.smp, 2);
  EXPECT_EQ(s.configs[0].training.fnt_epochs, 1);
  EXPECT_EQ(s.configs[0].training.luq_levels, 8);
  EXPECT_EQ(s.configs[0].training.from, "fp32");
  EXPECT_EQ(s.configs[0].training_epochs, 3);
  EXPECT_TRUE(s.configs[0].fp32);  // trained in low precision, evaluated in FP32
  EXPECT_EQ(s.configs[1].training.format, "e3m4");
  EXPECT_EQ(s.configs[1].training.rounding, "stochastic");
  EXPECT_EQ(s.configs[2].training.sparsity, 0.9);
  std::string e = error_of("quantization:\n  configs:\n    - {name: a, training: {method: fp4}}\n");
  EXPECT_NE(e.find("quantization.configs[0].training.method: 'fp4' is not one of: fp32, luq, fp8, prune"), std::string::npos) << e;
  e = error_of("quantization:\n  configs:\n    - {name: a, training: {method: fp8, gradients: int8}}\n");
  EXPECT_NE(e.find("quantization.configs[0].training.gradients: a floating-point format"), std::string::npos) << e;
  e = error_of("quantization:\n  configs:\n    - {name: a, training: {method: prune, sparsity: 1.0}}\n");
  EXPECT_NE(e.find("quantization.configs[0].training.sparsity: must be in [0, 1)"), std::string::npos) << e;
  e = error_of("quantization:\n  configs:\n    - {name: a, training: {smp: 2}}\n");
  EXPECT_NE(e.find("quantization.configs[0].training.method: missing"), std::string::npos) << e;
  e = error_of("quantization:\n  configs:\n    - {name: a, training: {method: luq, sampels: 2}}\n");
  EXPECT_NE(e.find("quantization.configs[0].training.sampels: unknown key"), std::string::npos) << e;
}

// A configuration sweep whose product is beyond any real study (found by fuzzing: 20 lists
// of 20 values never finished expanding) is refused before it is built, at its place.
TEST(Scenario, HugeConfigurationSweepIsRefused) {
  std::string lists;
  for (const char* v : {"a", "b", "c", "d", "e"}) lists += std::string(lists.empty() ? "" : ", ") + v + ": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]";
  const std::string e = error_of("quantization:\n  configs:\n    - name: \"c{a}{b}{c}{d}{e}\"\n      weights: int8\n"
                                 "      activations: int8\n      sweep: {" + lists + "}\n");
  EXPECT_NE(e.find("quantization.configs[0].sweep: this sweep makes 100000 configurations, more than 2000"),
            std::string::npos) << e;
}
