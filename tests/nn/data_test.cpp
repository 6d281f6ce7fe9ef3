// The user's own data end to end below the CLI: preprocessing (none, custom, the
// training set's statistics, Fashion-MNIST's constants bit for bit), a scenario's data
// (shape, classes, checks before any work, the model cache key following the content),
// and built-in graphs sized by the data.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "arith/error.h"
#include "nn/data.h"
#include "nn/net.h"
#include "nn/scenario.h"
#include "nn/train.h"

namespace fs = std::filesystem;
using namespace lpsim;
using namespace lpsim::nn;

namespace {

std::vector<uint8_t> idx_bytes(std::vector<uint32_t> dims, const std::vector<uint8_t>& payload) {
  std::vector<uint8_t> d = {0, 0, 0x08, uint8_t(dims.size())};
  for (uint32_t v : dims)
    for (int s = 24; s >= 0; s -= 8) d.push_back(uint8_t(v >> s));
  d.insert(d.end(), payload.begin(), payload.end());
  return d;
}

void put(const fs::path& p, const std::vector<uint8_t>& d) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(d.data()), std::streamsize(d.size()));
}

// n images C×H×W (N×C×H×W file, or N×H×W for one channel) with varied pixels; labels i mod k.
void put_dataset(const fs::path& dir, int c, int h, int w, int k, int ntrain = 12, int ntest = 6) {
  auto write = [&](const std::string& prefix, int n, int salt) {
    std::vector<uint8_t> px(size_t(n) * c * h * w), lb(n);
    for (size_t i = 0; i < px.size(); ++i) px[i] = uint8_t((i * 2654435761u + salt) >> 7);
    for (int i = 0; i < n; ++i) lb[i] = uint8_t(i % k);
    std::vector<uint32_t> dims = {uint32_t(n)};
    if (c == 1) dims.insert(dims.end(), {uint32_t(h), uint32_t(w)});
    else dims.insert(dims.end(), {uint32_t(c), uint32_t(h), uint32_t(w)});
    put(dir / (prefix + "-images-idx3-ubyte"), idx_bytes(dims, px));
    put(dir / (prefix + "-labels-idx1-ubyte"), idx_bytes({uint32_t(n)}, lb));
  };
  write("train", ntrain, 1);
  write("t10k", ntest, 2);
}

IdxImages images_of(int n, int c, int h, int w) {
  IdxImages im;
  im.count = n, im.channels = c, im.rows = h, im.cols = w;
  im.pixels.resize(size_t(n) * c * h * w);
  for (size_t i = 0; i < im.pixels.size(); ++i) im.pixels[i] = uint8_t(i * 37 + (i >> 8));
  return im;
}

IdxLabels labels_of(int n) {
  IdxLabels l;
  l.labels.assign(size_t(n), 0);
  return l;
}

template <class F>
std::string error_of(F f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

Scenario idx_scenario(const fs::path& dir, const std::string& extra = "") {
  return parse_scenario("dataset: {name: idx, path: " + dir.string() + extra + "}\nmodel: {arch: mlp}\n", "s.yaml");
}

}  // namespace

// Fashion-MNIST's constants give exactly the tensors of the expression lpsim has always
// used, so trained models and results do not move.
TEST(Data, FashionConstantsBitIdentical) {
  const IdxImages im = images_of(300, 1, 28, 28);
  const TensorDataset d = to_tensors(im, labels_of(300), 0);
  auto raw = torch::from_blob(const_cast<uint8_t*>(im.pixels.data()), {300, 1, 28, 28}, torch::kUInt8);
  const auto want = ((raw.to(torch::kFloat32) / 255.0f) - kFashionMean) / kFashionStd;
  EXPECT_TRUE(torch::equal(d.images, want));
  EXPECT_TRUE(torch::equal(to_tensors(im, labels_of(300), 0, fashion_preprocessing()).images, want));
  // The real files too, when installed (the test set: the training set is 6x larger).
  if (fs::exists(default_fashion_mnist_dir())) {
    const ImageDataset ds = load_fashion_mnist(default_fashion_mnist_dir());
    auto r = torch::from_blob(const_cast<uint8_t*>(ds.test_images.pixels.data()), {10000, 1, 28, 28}, torch::kUInt8);
    EXPECT_TRUE(torch::equal(to_tensors(ds.test_images, ds.test_labels).images,
                             ((r.to(torch::kFloat32) / 255.0f) - kFashionMean) / kFashionStd));
  }
}

TEST(Data, NoneAndPerChannel) {
  const IdxImages im = images_of(5, 3, 4, 6);
  const TensorDataset none = to_tensors(im, labels_of(5), 0, Preprocessing{{}, {}, "none"});
  const Preprocessing p{{0.1f, 0.5f, 0.9f}, {0.2f, 0.3f, 0.4f}, "scenario"};
  const TensorDataset d = to_tensors(im, labels_of(5), 3, p);
  ASSERT_EQ(d.images.sizes(), (std::vector<int64_t>{3, 3, 4, 6}));
  auto a = none.images.accessor<float, 4>();
  auto b = d.images.accessor<float, 4>();
  for (int n = 0; n < 3; ++n)
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < 4; ++y)
        for (int x = 0; x < 6; ++x) {
          const uint8_t px = im.pixels[((size_t(n) * 3 + c) * 4 + y) * 6 + x];
          ASSERT_EQ(a[n][c][y][x], float(px) / 255.0f);
          ASSERT_EQ(b[n][c][y][x], (float(px) / 255.0f - p.mean[c]) / p.std[c]);
        }
}

TEST(Data, TrainingSetStatistics) {
  const IdxImages im = images_of(7, 2, 5, 3);
  const Preprocessing p = channel_statistics(im);
  ASSERT_EQ(p.mean.size(), 2u);
  for (int c = 0; c < 2; ++c) {
    double s = 0, ss = 0, n = 0;
    for (int i = 0; i < 7; ++i)
      for (int j = 0; j < 15; ++j) {
        const double v = im.pixels[(size_t(i) * 2 + c) * 15 + j] / 255.0;
        s += v, ss += v * v, ++n;
      }
    const double mean = s / n, sd = std::sqrt(ss / n - mean * mean);
    EXPECT_NEAR(p.mean[c], mean, 1e-6);
    EXPECT_NEAR(p.std[c], sd, 1e-6);
  }
  // Normalised with its own statistics, each channel has mean ~0 and std ~1.
  const TensorDataset d = to_tensors(im, labels_of(7), 0, p);
  for (int c = 0; c < 2; ++c) {
    auto ch = d.images.select(1, c);
    EXPECT_NEAR(ch.mean().item<double>(), 0, 1e-5);
    EXPECT_NEAR(ch.std(/*unbiased=*/false).item<double>(), 1, 1e-4);
  }
}

TEST(Data, ScenarioDataShapeClassesAndDefaults) {
  const fs::path dir = fs::temp_directory_path() / "lpsim_data_scn";
  fs::remove_all(dir);
  put_dataset(dir, 3, 20, 24, 4);
  const ScenarioData d = load_scenario_data(idx_scenario(dir, ", train_limit: 8"), false);
  EXPECT_EQ(d.shape.channels, 3);
  EXPECT_EQ(d.shape.height, 20);
  EXPECT_EQ(d.shape.width, 24);
  EXPECT_EQ(d.shape.classes, 4);
  EXPECT_EQ(d.train.size(), 8);
  EXPECT_EQ(d.test.size(), 6);
  EXPECT_EQ(d.preprocessing.source, "training-set statistics");
  EXPECT_EQ(d.preprocessing.mean.size(), 3u);
  EXPECT_NE(d.report_json.find("\"source\":\"training-set statistics\""), std::string::npos) << d.report_json;
  // normalize: none and custom.
  EXPECT_TRUE(load_scenario_data(idx_scenario(dir, ", normalize: none"), false).preprocessing.mean.empty());
  const ScenarioData c = load_scenario_data(idx_scenario(dir, ", normalize: {mean: [0.5], std: [0.25]}"), false);
  EXPECT_EQ(c.preprocessing.source, "scenario");
  // Test image 0, channel 2, pixel (0, 0): flat index 2·20·24 of the test file.
  const uint8_t px = uint8_t((size_t(2 * 20 * 24) * 2654435761u + 2) >> 7);
  EXPECT_EQ(c.test.images[0][2][0][0].item<float>(), (float(px) / 255.0f - 0.5f) / 0.25f);
}

TEST(Data, ChecksBeforeAnyWork) {
  const fs::path dir = fs::temp_directory_path() / "lpsim_data_checks";
  fs::remove_all(dir);
  put_dataset(dir, 3, 8, 8, 3);
  // Images too small for LeNet-5: found from the headers, before the (here truncated,
  // so unreadable) image payload.
  {
    std::ifstream in(dir / "train-images-idx3-ubyte", std::ios::binary);
    std::vector<char> b((std::istreambuf_iterator<char>(in)), {});
    b.resize(b.size() - 10);
    std::ofstream(dir / "train-images-idx3-ubyte", std::ios::binary).write(b.data(), std::streamsize(b.size()));
  }
  Scenario s = idx_scenario(dir);
  s.arch = "lenet5";
  std::string e = error_of([&] { load_scenario_data(s, false); });
  EXPECT_NE(e.find("images of 3x8x8 do not fit lenet5"), std::string::npos) << e;
  EXPECT_NE(e.find("layer conv2"), std::string::npos) << e;
  s.arch = "mlp";  // fits: now the truncated file is found
  e = error_of([&] { load_scenario_data(s, false); });
  EXPECT_NE(e.find("does not match the header"), std::string::npos) << e;
  put_dataset(dir, 3, 8, 8, 3);
  // A mean list of the wrong length: file:line:col and key.
  e = error_of([&] { load_scenario_data(idx_scenario(dir, ", normalize: {mean: [0.1, 0.2], std: 0.3}"), false); });
  EXPECT_NE(e.find("s.yaml:1:"), std::string::npos) << e;
  EXPECT_NE(e.find("dataset.normalize.mean: 2 entries for images of 3 channels"), std::string::npos) << e;
  // fashion-mnist insists on its shape.
  Scenario f = idx_scenario(dir);
  f.dataset = "fashion-mnist";
  e = error_of([&] { load_scenario_data(f, false); });
  EXPECT_NE(e.find("expected 1x28x28"), std::string::npos) << e;
  EXPECT_NE(e.find("train-images-idx3-ubyte"), std::string::npos) << e;
}

// The model cache key follows the dataset's content, preprocessing and limit.
TEST(Data, CacheKeyFollowsContent) {
  const fs::path dir = fs::temp_directory_path() / "lpsim_data_key";
  fs::remove_all(dir);
  put_dataset(dir, 1, 12, 12, 3);
  auto key = [&](const std::string& extra) {
    const ScenarioData d = load_scenario_data(idx_scenario(dir, extra), false);
    TrainConfig tc;
    tc.data_key = d.key;
    return training_key(make_builtin_model("mlp", d.shape), tc, d.train.size());
  };
  const std::string k0 = key("");
  EXPECT_EQ(key(""), k0);
  EXPECT_NE(key(", normalize: none"), k0);
  EXPECT_NE(key(", train_limit: 5"), k0);
  EXPECT_EQ(key(", test_limit: 5"), k0);  // the test limit keys each configuration, not the model
  // One test label changed (train images, labels and statistics untouched).
  std::ifstream in(dir / "t10k-labels-idx1-ubyte", std::ios::binary);
  std::vector<char> b((std::istreambuf_iterator<char>(in)), {});
  in.close();
  b.back() = char(b.back() == 0 ? 1 : 0);
  std::ofstream(dir / "t10k-labels-idx1-ubyte", std::ios::binary).write(b.data(), std::streamsize(b.size()));
  EXPECT_NE(key(""), k0);
}

TEST(Graph, BuiltinsOnFashionShapeUnchanged) {
  const Graph mlp = make_builtin_model("mlp"), lenet = make_builtin_model("lenet5");
  auto node = [](const Graph& g, const std::string& n) -> const Node& {
    for (const Node& x : g.nodes)
      if (x.name == n) return x;
    throw std::runtime_error("no " + n);
  };
  EXPECT_EQ(node(mlp, "fc1").in_channels, 784);
  EXPECT_EQ(node(mlp, "fc3").out_channels, 10);
  EXPECT_EQ(node(lenet, "conv1").in_channels, 1);
  EXPECT_EQ(node(lenet, "fc1").in_channels, 400);
  EXPECT_EQ(lenet.nodes.size(), 12u);
  for (const char* a : {"resnet8", "resnet20"}) {
    const Graph r = make_builtin_model(a);
    EXPECT_EQ(node(r, "conv1").in_channels, 1);
    EXPECT_EQ(node(r, "fc").out_channels, 10);
  }
}

TEST(Graph, BuiltinsTakeTheDataShape) {
  const InputShape in{3, 20, 24, 4};
  for (const std::string& a : builtin_models()) {
    GraphNet net(make_builtin_model(a, in));
    net->eval();
    torch::NoGradGuard ng;
    const auto y = net->forward(torch::randn({2, 3, 20, 24}));
    EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, 4})) << a;
    const auto shapes = infer_shapes(net->graph());
    EXPECT_EQ(shapes.back().features, 4) << a;
  }
  const Graph lenet = make_builtin_model("lenet5", in);
  EXPECT_EQ(lenet.nodes[0].in_channels, 3);
  EXPECT_EQ(lenet.nodes[7].name, "fc1");
  EXPECT_EQ(lenet.nodes[7].in_channels, 16 * 3 * 4);  // 20x24 → 10x12 → 6x8 → 3x4
  EXPECT_EQ(make_builtin_model("mlp", in).nodes[1].in_channels, 3 * 20 * 24);
  // Smallest LeNet-5 input is 12×12.
  EXPECT_NO_THROW(make_builtin_model("lenet5", {1, 12, 12, 2}));
  const std::string e = error_of([] { make_builtin_model("lenet5", {1, 11, 30, 2}); });
  EXPECT_NE(e.find("images of 1x11x30 do not fit lenet5: layer pool2"), std::string::npos) << e;
  EXPECT_NE(e.find("too small"), std::string::npos) << e;
}
