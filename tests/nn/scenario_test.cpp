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
  for (const char* f : {"quickstart.yaml"}) {
    const Scenario s = load_scenario(std::string(LPSIM_SOURCE_DIR) + "/scenarios/" + f);
    EXPECT_FALSE(s.configs.empty()) << f;
  }
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
