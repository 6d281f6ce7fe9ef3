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
      activations: fp8_e4m3
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
