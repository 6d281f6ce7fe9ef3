// TorchScript import: the committed fixture (a scripted-PyTorch-shaped module) runs
// through the executor with the same outputs as torch::jit; unsupported layers and
// non-sequential forwards are named errors.
#include <gtest/gtest.h>
#include <torch/script.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "arith/error.h"
#include "arith/process.h"
#include "nn/executor.h"
#include "nn/torchscript.h"

namespace fs = std::filesystem;
using namespace lpsim;
using namespace lpsim::nn;

namespace {
const fs::path kFixture = fs::path(LPSIM_SOURCE_DIR) / "tests/nn/fixtures/tiny_cnn.pt";

fs::path make_variant(const std::string& v) {
  const fs::path p = fs::temp_directory_path() / ("lpsim_ts_" + v + ".pt");
  // An argument vector, no shell: the build folder's path may hold a space.
  const ProcessResult r = run_process({FIXTURE_TOOL, p.string(), v});
  EXPECT_TRUE(r.ok()) << r.describe();
  return p;
}
}  // namespace

TEST(TorchScript, FixtureImportsAndMatchesJit) {
  GraphNet net = import_torchscript(kFixture);
  const Graph& g = net->graph();
  std::vector<std::string> kinds;
  for (const Node& n : g.nodes) kinds.push_back(op_name(n.kind));
  EXPECT_EQ(kinds, (std::vector<std::string>{"conv", "batchnorm", "relu", "maxpool", "conv", "relu", "flatten", "linear"}));
  EXPECT_EQ(g.nodes[4].stride, 2);
  torch::jit::Module m = torch::jit::load(kFixture.string());
  m.eval();
  torch::manual_seed(5);
  auto x = torch::randn({8, 1, 28, 28});
  torch::NoGradGuard ng;
  auto want = m.forward({x}).toTensor();
  // Executor in FP32 (BN folded) equals the scripted module.
  QuantizedExecutor fp(net, std::vector<LayerQuant>(g.nodes.size()), 1);
  EXPECT_LT((fp.forward(x) - want).abs().max().item<double>(), 1e-4 * (1 + want.abs().max().item<double>()));
  // INT8 stays close to it (the layers really run quantised: not equal).
  std::vector<LayerQuant> q8(g.nodes.size());
  for (size_t i = 0; i < g.nodes.size(); ++i) q8[i].quantised = Graph::is_gemm(g.nodes[i].kind);
  QuantizedExecutor ex(net, q8, 1);
  ex.calibrate(x);
  auto got = ex.forward(x);
  const double err = (got - want).abs().max().item<double>(), scale = want.abs().max().item<double>();
  EXPECT_GT(err, 0);
  EXPECT_LT(err, 0.05 * scale);
}

TEST(TorchScript, UnsupportedLayerIsNamed) {
  const auto p = make_variant("unsupported");
  try {
    import_torchscript(p);
    FAIL() << "expected an error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("act1"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("GELU"), std::string::npos) << e.what();
  }
}

TEST(TorchScript, NonSequentialForwardIsDetected) {
  const auto p = make_variant("nonsequential");
  try {
    import_torchscript(p);
    FAIL() << "expected an error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("not the sequence"), std::string::npos) << e.what();
  }
}

TEST(TorchScript, BadFilesAreErrors) {
  EXPECT_THROW(import_torchscript("/nonexistent.pt"), InputError);
  const fs::path junk = fs::temp_directory_path() / "lpsim_junk.pt";
  { std::ofstream(junk) << "not a zip"; }
  EXPECT_THROW(import_torchscript(junk), InputError);
}

// The probe input has the dataset's shape; a model whose output width is not the number
// of classes is an error naming both.
TEST(TorchScript, ProbeTakesTheDataShape) {
  auto error_of = [](const InputShape& in) -> std::string {
    try {
      import_torchscript(kFixture, in);
    } catch (const InputError& e) {
      return e.what();
    }
    return "";
  };
  std::string e = error_of({3, 28, 28, 10});
  EXPECT_NE(e.find("does not run on the dataset's 3x28x28 images"), std::string::npos) << e;
  e = error_of({1, 28, 28, 5});
  EXPECT_NE(e.find("outputs 10 values per image but the dataset has 5 classes"), std::string::npos) << e;
  EXPECT_NE(e.find(kFixture.string()), std::string::npos) << e;
  EXPECT_EQ(import_torchscript(kFixture, {1, 28, 28, 10})->graph().input_height, 28);
}

TEST(TorchScript, KeyFollowsContentAndData) {
  const std::string k = torchscript_key(kFixture, "d1");
  EXPECT_EQ(torchscript_key(kFixture, "d1"), k);
  EXPECT_NE(torchscript_key(kFixture, "d2"), k);
  const fs::path copy = fs::temp_directory_path() / "tiny_cnn.pt";
  fs::copy_file(kFixture, copy, fs::copy_options::overwrite_existing);
  EXPECT_EQ(torchscript_key(copy, "d1"), k);  // the content, not the path or the time
  { std::ofstream(copy, std::ios::app) << ' '; }
  EXPECT_NE(torchscript_key(copy, "d1"), k);
}
