// IDX reader: round trip of files written here (plain and gzip), and every corruption
// the validation promises to catch, each an InputError naming the file.
#include <gtest/gtest.h>
#include <zlib.h>

#include <array>
#include <filesystem>
#include <fstream>

#include "arith/error.h"
#include "nn/idx.h"

namespace fs = std::filesystem;
using lpsim::InputError;
using namespace lpsim::nn;

namespace {

std::vector<uint8_t> idx_bytes(std::vector<uint32_t> dims, const std::vector<uint8_t>& payload) {
  std::vector<uint8_t> d = {0, 0, 0x08, uint8_t(dims.size())};
  for (uint32_t v : dims)
    for (int s = 24; s >= 0; s -= 8) d.push_back(uint8_t(v >> s));
  d.insert(d.end(), payload.begin(), payload.end());
  return d;
}

fs::path write(const std::string& name, const std::vector<uint8_t>& d, bool gz) {
  const fs::path dir = fs::temp_directory_path() / "lpsim_idx_test";
  fs::create_directories(dir);
  const fs::path p = dir / name;
  if (gz) {
    gzFile f = gzopen(p.c_str(), "wb");
    gzwrite(f, d.data(), unsigned(d.size()));
    gzclose(f);
  } else {
    std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(d.data()), std::streamsize(d.size()));
  }
  return p;
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

}  // namespace

TEST(Idx, RoundTripPlainAndGzip) {
  std::vector<uint8_t> px(3 * 4 * 5);
  for (size_t i = 0; i < px.size(); ++i) px[i] = uint8_t(i * 7);
  for (bool gz : {false, true}) {
    const auto p = write(gz ? "img.gz" : "img", idx_bytes({3, 4, 5}, px), gz);
    const IdxImages im = read_idx_images(p);
    EXPECT_EQ(im.count, 3);
    EXPECT_EQ(im.rows, 4);
    EXPECT_EQ(im.cols, 5);
    EXPECT_EQ(im.pixels, px);
  }
  const auto l = read_idx_labels(write("lab.gz", idx_bytes({4}, {0, 9, 3, 3}), true));
  EXPECT_EQ(l.labels, (std::vector<uint8_t>{0, 9, 3, 3}));
}

TEST(Idx, CorruptionsAreNamedErrors) {
  std::vector<uint8_t> px(2 * 3 * 3, 1);
  auto good = idx_bytes({2, 3, 3}, px);
  // Bad magic (int32 data type 0x0C).
  auto bad = good;
  bad[2] = 0x0C;
  auto p = write("badmagic", bad, false);
  EXPECT_NE(error_of([&] { read_idx_images(p); }).find("bad IDX magic"), std::string::npos);
  EXPECT_NE(error_of([&] { read_idx_images(p); }).find(p.string()), std::string::npos);
  // Labels file given where images are expected (ndim 1 vs 3).
  p = write("dims", idx_bytes({5}, {1, 2, 3, 4, 5}), false);
  EXPECT_NE(error_of([&] { read_idx_images(p); }).find("bad IDX magic"), std::string::npos);
  // Truncated payload, plain and gzip.
  for (bool gz : {false, true}) {
    auto t = good;
    t.resize(t.size() - 5);
    p = write(gz ? "trunc.gz" : "trunc", t, gz);
    EXPECT_NE(error_of([&] { read_idx_images(p); }).find("does not match the header"), std::string::npos);
  }
  // A gzip stream cut in the middle (the compressed file itself truncated).
  {
    std::vector<uint8_t> big(16 + 100 * 28 * 28);
    for (size_t i = 0; i < big.size(); ++i) big[i] = uint8_t((i * 2654435761u) >> 13);
    auto full = write("cut.gz", idx_bytes({100, 28, 28}, std::vector<uint8_t>(big.begin() + 16, big.end())), true);
    std::ifstream in(full, std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), {});
    std::ofstream(full, std::ios::binary | std::ios::trunc).write(bytes.data(), std::streamsize(bytes.size() / 2));
    EXPECT_NE(error_of([&] { read_idx_images(full); }), "");
  }
  // Header shorter than its dimensions.
  p = write("short", {0, 0, 8, 3, 0, 0}, false);
  EXPECT_NE(error_of([&] { read_idx_images(p); }).find("too short"), std::string::npos);
  // Label out of range.
  p = write("labels", idx_bytes({3}, {1, 10, 2}), false);
  EXPECT_NE(error_of([&] { read_idx_labels(p); }).find("label 10 of item 1"), std::string::npos);
  // Missing file.
  EXPECT_NE(error_of([&] { read_idx_images("/nonexistent/x.gz"); }).find("not found"), std::string::npos);
}

TEST(Idx, DatasetCountsMustAgree) {
  const fs::path dir = fs::temp_directory_path() / "lpsim_idx_ds";
  fs::create_directories(dir);
  std::vector<uint8_t> px(3 * 28 * 28, 5);
  auto put = [&](const std::string& n, const std::vector<uint8_t>& d) {
    std::ofstream(dir / n, std::ios::binary).write(reinterpret_cast<const char*>(d.data()), std::streamsize(d.size()));
  };
  put("train-images-idx3-ubyte", idx_bytes({3, 28, 28}, px));
  put("train-labels-idx1-ubyte", idx_bytes({3}, {1, 2, 3}));
  put("t10k-images-idx3-ubyte", idx_bytes({3, 28, 28}, px));
  put("t10k-labels-idx1-ubyte", idx_bytes({2}, {1, 2}));
  const std::string e = error_of([&] { load_fashion_mnist(dir); });
  EXPECT_NE(e.find("2 labels for 3 images"), std::string::npos) << e;
  EXPECT_NE(e.find("t10k-labels"), std::string::npos) << e;
  put("t10k-labels-idx1-ubyte", idx_bytes({3}, {1, 2, 0}));
  EXPECT_EQ(load_fashion_mnist(dir).test_images.count, 3);
}

// The real Debian dataset: sizes, and Fashion-MNIST's balanced classes (6000 training
// and 1000 test images per class).
TEST(Idx, FashionMnistFromDebian) {
  if (!fs::exists(default_fashion_mnist_dir())) GTEST_SKIP() << "dataset-fashion-mnist not installed";
  const ImageDataset ds = load_fashion_mnist(default_fashion_mnist_dir());
  EXPECT_EQ(ds.train_images.count, 60000);
  EXPECT_EQ(ds.test_images.count, 10000);
  std::array<int, 10> tr{}, te{};
  for (uint8_t l : ds.train_labels.labels) ++tr[l];
  for (uint8_t l : ds.test_labels.labels) ++te[l];
  for (int c = 0; c < 10; ++c) {
    EXPECT_EQ(tr[c], 6000);
    EXPECT_EQ(te[c], 1000);
  }
}
