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
  EXPECT_NE(error_of([&] { read_idx_labels(p, 10); }).find("label 10 of item 1"), std::string::npos);
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

// The user's own data: 3-D and 4-D images in both layouts, classes from the labels,
// file names, shape checks and the content hash.
namespace {

fs::path put(const fs::path& dir, const std::string& n, const std::vector<uint8_t>& d) {
  fs::create_directories(dir);
  std::ofstream(dir / n, std::ios::binary).write(reinterpret_cast<const char*>(d.data()), std::streamsize(d.size()));
  return dir / n;
}

// A dataset of `n` images C×H×W with pixel (i, c, y, x) = i + 7c + 3y + x (mod 256),
// stored 3-D (C = 1, nchw), N×C×H×W or N×H×W×C.
void put_dataset(const fs::path& dir, int c, int h, int w, ImageLayout layout, std::vector<uint8_t> train_labels,
                 std::vector<uint8_t> test_labels) {
  auto images = [&](int n) {
    std::vector<uint8_t> px(size_t(n) * c * h * w);
    for (int i = 0; i < n; ++i)
      for (int ch = 0; ch < c; ++ch)
        for (int y = 0; y < h; ++y)
          for (int x = 0; x < w; ++x) {
            const size_t at = layout == ImageLayout::nhwc ? ((size_t(i) * h + y) * w + x) * c + ch
                                                          : ((size_t(i) * c + ch) * h + y) * w + x;
            px[at] = uint8_t(i + 7 * ch + 3 * y + x);
          }
    std::vector<uint32_t> dims = {uint32_t(n)};
    if (c == 1 && layout == ImageLayout::nchw) dims.insert(dims.end(), {uint32_t(h), uint32_t(w)});
    else if (layout == ImageLayout::nhwc) dims.insert(dims.end(), {uint32_t(h), uint32_t(w), uint32_t(c)});
    else dims.insert(dims.end(), {uint32_t(c), uint32_t(h), uint32_t(w)});
    return idx_bytes(dims, px);
  };
  put(dir, "train-images-idx3-ubyte", images(int(train_labels.size())));
  put(dir, "train-labels-idx1-ubyte", idx_bytes({uint32_t(train_labels.size())}, train_labels));
  put(dir, "t10k-images-idx3-ubyte", images(int(test_labels.size())));
  put(dir, "t10k-labels-idx1-ubyte", idx_bytes({uint32_t(test_labels.size())}, test_labels));
}

}  // namespace

TEST(Idx, ThreeAndFourDimensionsBothLayouts) {
  const fs::path base = fs::temp_directory_path() / "lpsim_idx_layouts";
  fs::remove_all(base);
  for (ImageLayout layout : {ImageLayout::nchw, ImageLayout::nhwc})
    for (int c : {1, 3}) {
      const fs::path dir = base / ((layout == ImageLayout::nhwc ? "nhwc" : "nchw") + std::to_string(c));
      put_dataset(dir, c, 5, 6, layout, {0, 1, 2, 1}, {2, 0});
      const DatasetFiles f = resolve_dataset_files(dir);
      const DatasetInfo info = inspect_dataset(f, layout);
      EXPECT_EQ(info.channels, c);
      EXPECT_EQ(info.height, 5);
      EXPECT_EQ(info.width, 6);
      EXPECT_EQ(info.classes, 3);
      EXPECT_EQ(info.train_count, 4);
      EXPECT_EQ(info.test_count, 2);
      const ImageDataset ds = load_idx_dataset(f, layout);
      ASSERT_EQ(ds.train_images.pixels.size(), size_t(4 * c * 30));
      // Always N×C×H×W in memory.
      bool ok = true;
      for (int i = 0; i < 4; ++i)
        for (int ch = 0; ch < c; ++ch)
          for (int y = 0; y < 5; ++y)
            for (int x = 0; x < 6; ++x)
              ok &= ds.train_images.pixels[((size_t(i) * c + ch) * 5 + y) * 6 + x] == uint8_t(i + 7 * ch + 3 * y + x);
      EXPECT_TRUE(ok) << "layout " << int(layout) << " channels " << c;
      const IdxImages head = read_idx_image_header(f.test_images, layout);
      EXPECT_EQ(head.count, 2);
      EXPECT_EQ(head.channels, c);
      EXPECT_TRUE(head.pixels.empty());
    }
}

TEST(Idx, ClassesComeFromTrainAndTestLabels) {
  const fs::path dir = fs::temp_directory_path() / "lpsim_idx_classes";
  put_dataset(dir, 1, 4, 4, ImageLayout::nchw, {0, 1, 1, 0}, {4, 0});
  EXPECT_EQ(inspect_dataset(resolve_dataset_files(dir)).classes, 5);  // the test set's 4 counts
  put_dataset(dir, 1, 4, 4, ImageLayout::nchw, {0, 0}, {0});
  const std::string e = error_of([&] { inspect_dataset(resolve_dataset_files(dir)); });
  EXPECT_NE(e.find("at least 2 classes"), std::string::npos) << e;
  EXPECT_NE(e.find("train-labels-idx1-ubyte"), std::string::npos) << e;
}

TEST(Idx, ShapeErrorsNameTheFile) {
  const fs::path dir = fs::temp_directory_path() / "lpsim_idx_shapes";
  fs::remove_all(dir);
  put_dataset(dir, 3, 8, 8, ImageLayout::nchw, {0, 1}, {1, 0});
  // Test images of another shape than the training images.
  put(dir, "t10k-images-idx3-ubyte", idx_bytes({2, 3, 8, 9}, std::vector<uint8_t>(2 * 3 * 8 * 9)));
  std::string e = error_of([&] { inspect_dataset(resolve_dataset_files(dir)); });
  EXPECT_NE(e.find("t10k-images-idx3-ubyte: test images are 3x8x9 but training images"), std::string::npos) << e;
  EXPECT_NE(e.find("are 3x8x8"), std::string::npos) << e;
  e = error_of([&] { load_idx_dataset(resolve_dataset_files(dir)); });
  EXPECT_NE(e.find("test images are 3x8x9"), std::string::npos) << e;
  // N×H×W×C read as N×C×H×W: 32 "channels" of 32×3 is caught by the channel bound, with a hint.
  put(dir, "t10k-images-idx3-ubyte", idx_bytes({1, 100, 32, 3}, std::vector<uint8_t>(100 * 32 * 3)));
  e = error_of([&] { read_idx_image_header(dir / "t10k-images-idx3-ubyte"); });
  EXPECT_NE(e.find("more than 64 channels"), std::string::npos) << e;
  EXPECT_NE(e.find("layout: nhwc"), std::string::npos) << e;
  // Too large, zero, and 2-D or 5-D files.
  put(dir, "big", idx_bytes({1, 5000, 2}, std::vector<uint8_t>(10000)));
  EXPECT_NE(error_of([&] { read_idx_images(dir / "big"); }).find("at most 4096"), std::string::npos);
  put(dir, "zero", idx_bytes({1, 0, 2}, {}));
  EXPECT_NE(error_of([&] { read_idx_images(dir / "zero"); }).find("zero dimension"), std::string::npos);
  put(dir, "five", idx_bytes({1, 1, 1, 1, 1}, {0}));
  e = error_of([&] { read_idx_images(dir / "five"); });
  EXPECT_NE(e.find("bad IDX magic"), std::string::npos) << e;
  EXPECT_NE(e.find("3 or 4 dimensions"), std::string::npos) << e;
  EXPECT_NE(e.find((dir / "five").string()), std::string::npos) << e;
}

TEST(Idx, FileNamesRelativeAbsoluteAndMissing) {
  const fs::path dir = fs::temp_directory_path() / "lpsim_idx_names";
  fs::remove_all(dir);
  put_dataset(dir / "a", 1, 4, 4, ImageLayout::nchw, {0, 1}, {1, 0});
  fs::rename(dir / "a" / "t10k-labels-idx1-ubyte", dir / "a" / "my-test-labels");
  fs::create_directories(dir / "b");
  fs::rename(dir / "a" / "t10k-images-idx3-ubyte", dir / "b" / "imgs");
  std::string e = error_of([&] { resolve_dataset_files(dir / "a"); });
  EXPECT_NE(e.find("missing t10k-images-idx3-ubyte[.gz]"), std::string::npos) << e;
  const DatasetFiles f = resolve_dataset_files(dir / "a", {{}, {}, dir / "b" / "imgs", "my-test-labels"});
  EXPECT_EQ(f.test_labels, dir / "a" / "my-test-labels");
  EXPECT_EQ(f.test_images, dir / "b" / "imgs");
  EXPECT_EQ(inspect_dataset(f).test_count, 2);
  e = error_of([&] { resolve_dataset_files(dir / "a", {{}, {}, dir / "b" / "imgs", "nope"}); });
  EXPECT_NE(e.find((dir / "a" / "nope").string() + ": file not found"), std::string::npos) << e;
  // Every file given absolutely: no folder needed.
  const DatasetFiles g = resolve_dataset_files("/nonexistent", f);
  EXPECT_EQ(g.train_images, f.train_images);
}

TEST(Idx, ContentHashFollowsTheBytes) {
  const fs::path dir = fs::temp_directory_path() / "lpsim_idx_hash";
  fs::remove_all(dir);
  put_dataset(dir, 2, 4, 4, ImageLayout::nchw, {0, 1, 1}, {1, 0});
  const DatasetFiles f = resolve_dataset_files(dir);
  const uint64_t h0 = dataset_content_hash(f);
  EXPECT_EQ(dataset_content_hash(f), h0);
  put(dir, "t10k-labels-idx1-ubyte", idx_bytes({2}, {0, 0}));  // one label changed
  const uint64_t h1 = dataset_content_hash(f);
  EXPECT_NE(h1, h0);
  put(dir, "t10k-labels-idx1-ubyte", idx_bytes({2}, {1, 0}));
  EXPECT_EQ(dataset_content_hash(f), h0);
  // Swapping which file is which changes it too.
  DatasetFiles swapped = f;
  std::swap(swapped.train_images, swapped.test_images);
  EXPECT_NE(dataset_content_hash(swapped), h0);
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
