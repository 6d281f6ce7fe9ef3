#include "nn/idx.h"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "arith/error.h"
#include "arith/hash.h"

namespace lpsim::nn {
namespace {

namespace fs = std::filesystem;

constexpr int kMaxChannels = 64, kMaxSide = 4096;

using GzFile = std::unique_ptr<gzFile_s, int (*)(gzFile)>;

GzFile open_gz(const fs::path& path) {
  if (!fs::exists(path)) throw InputError("file not found", path.string());
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw InputError("cannot open", path.string());
  return GzFile(f, gzclose);
}

// Reads up to `limit` bytes (gzread passes plain files through unchanged).
std::vector<uint8_t> read_maybe_gzip(const fs::path& path, size_t limit = SIZE_MAX) {
  GzFile f = open_gz(path);
  std::vector<uint8_t> data;
  std::vector<uint8_t> buf(std::min<size_t>(limit, 1 << 16));
  while (data.size() < limit) {
    const int n = gzread(f.get(), buf.data(), unsigned(std::min(buf.size(), limit - data.size())));
    if (n < 0) {
      int err = 0;
      const char* msg = gzerror(f.get(), &err);
      throw InputError(std::string("corrupt gzip data (") + (msg ? msg : "unknown") + ")", path.string());
    }
    if (n == 0) break;
    data.insert(data.end(), buf.begin(), buf.begin() + n);
  }
  // A gzip stream cut short reads as a clean EOF on some zlib versions: check the
  // gzip trailer was reached.
  int err = 0;
  gzerror(f.get(), &err);
  if (err != Z_OK && err != Z_STREAM_END) throw InputError("truncated or corrupt gzip data", path.string());
  return data;
}

uint32_t be32(const std::vector<uint8_t>& d, size_t at) {
  return (uint32_t(d[at]) << 24) | (uint32_t(d[at + 1]) << 16) | (uint32_t(d[at + 2]) << 8) | d[at + 3];
}

// Checks the magic (0x00 0x00 type=0x08 unsigned byte, ndim one of `ndims`) and returns
// the dims. With check_length, the file must be exactly header + payload long.
std::vector<uint32_t> parse_header(const std::vector<uint8_t>& d, std::initializer_list<int> ndims,
                                   const fs::path& path, bool check_length) {
  if (d.size() < 4)
    throw InputError("too short for an IDX header (" + std::to_string(d.size()) + " bytes)", path.string());
  const bool ndim_ok = std::find(ndims.begin(), ndims.end(), int(d[3])) != ndims.end();
  if (d[0] != 0 || d[1] != 0 || d[2] != 0x08 || !ndim_ok) {
    char got[16];
    std::snprintf(got, sizeof got, "%02x%02x%02x%02x", d[0], d[1], d[2], d[3]);
    std::string want, dims;
    for (int n : ndims) {
      char w[16];
      std::snprintf(w, sizeof w, "0x000008%02x", n);
      want += (want.empty() ? "" : " or ") + std::string(w);
      dims += (dims.empty() ? "" : " or ") + std::to_string(n);
    }
    throw InputError(std::string("bad IDX magic 0x") + got + " (expected " + want + ", unsigned bytes, " + dims +
                         " dimensions)",
                     path.string());
  }
  const int ndim = d[3];
  const size_t header = 4 + 4 * size_t(ndim);
  if (d.size() < header)
    throw InputError("too short for an IDX header (" + std::to_string(d.size()) + " bytes)", path.string());
  std::vector<uint32_t> dims(ndim);
  uint64_t total = 1;
  for (int i = 0; i < ndim; ++i) {
    dims[i] = be32(d, 4 + 4 * size_t(i));
    total *= dims[i];
    if (total > (uint64_t{1} << 34)) throw InputError("IDX dimensions implausibly large", path.string());
  }
  if (check_length && d.size() != header + total)
    throw InputError("length " + std::to_string(d.size()) + " bytes does not match the header (" +
                         std::to_string(header + total) + " expected): truncated or corrupt",
                     path.string());
  return dims;
}

// Image dims → count, channels, rows, cols (checked).
IdxImages image_shape(const std::vector<uint32_t>& dims, ImageLayout layout, const fs::path& path) {
  IdxImages img;
  for (uint32_t v : dims)
    if (v == 0) throw InputError("empty image file (a zero dimension)", path.string());
  const bool four = dims.size() == 4, nhwc = four && layout == ImageLayout::nhwc;
  const uint64_t c = four ? (nhwc ? dims[3] : dims[1]) : 1;
  const uint64_t h = four && !nhwc ? dims[2] : dims[1], w = four && !nhwc ? dims[3] : dims[2];
  const std::string shape = std::to_string(c) + " channels of " + std::to_string(h) + "x" + std::to_string(w);
  if (c > uint64_t(kMaxChannels))
    throw InputError("images have " + shape + ": more than " + std::to_string(kMaxChannels) + " channels" +
                         (!nhwc && w <= 4 ? " (an N×H×W×C file? set dataset.layout: nhwc)" : ""),
                     path.string());
  if (h > uint64_t(kMaxSide) || w > uint64_t(kMaxSide))
    throw InputError("images have " + shape + ": height and width must be at most " + std::to_string(kMaxSide),
                     path.string());
  if (dims[0] > uint32_t(INT32_MAX)) throw InputError("more than 2^31 images", path.string());
  img.count = int(dims[0]), img.channels = int(c), img.rows = int(h), img.cols = int(w);
  return img;
}

std::string shape_text(const IdxImages& im) {
  return std::to_string(im.channels) + "x" + std::to_string(im.rows) + "x" + std::to_string(im.cols);
}

}  // namespace

IdxImages read_idx_image_header(const fs::path& path, ImageLayout layout) {
  auto d = read_maybe_gzip(path, 4);
  if (d.size() == 4 && d[0] == 0 && d[1] == 0 && (d[3] == 3 || d[3] == 4)) d = read_maybe_gzip(path, 4 + 4 * d[3]);
  return image_shape(parse_header(d, {3, 4}, path, false), layout, path);
}

IdxImages read_idx_images(const fs::path& path, ImageLayout layout) {
  const auto d = read_maybe_gzip(path);
  const auto dims = parse_header(d, {3, 4}, path, true);
  IdxImages img = image_shape(dims, layout, path);
  const size_t header = 4 + 4 * dims.size();
  if (dims.size() == 4 && layout == ImageLayout::nhwc && img.channels > 1) {
    // N×H×W×C → N×C×H×W.
    const size_t c = size_t(img.channels), hw = size_t(img.rows) * size_t(img.cols), per = c * hw;
    img.pixels.resize(size_t(img.count) * per);
    for (size_t n = 0; n < size_t(img.count); ++n) {
      const uint8_t* src = d.data() + header + n * per;
      uint8_t* dst = img.pixels.data() + n * per;
      for (size_t p = 0; p < hw; ++p)
        for (size_t k = 0; k < c; ++k) dst[k * hw + p] = src[p * c + k];
    }
  } else {
    img.pixels.assign(d.begin() + std::ptrdiff_t(header), d.end());
  }
  return img;
}

IdxLabels read_idx_labels(const fs::path& path, int num_classes) {
  const auto d = read_maybe_gzip(path);
  const auto dims = parse_header(d, {1}, path, true);
  if (dims[0] == 0) throw InputError("empty label file", path.string());
  IdxLabels l;
  l.labels.assign(d.begin() + 8, d.end());
  for (size_t i = 0; i < l.labels.size(); ++i)
    if (l.labels[i] >= num_classes)
      throw InputError("label " + std::to_string(l.labels[i]) + " of item " + std::to_string(i) +
                           " is outside [0, " + std::to_string(num_classes) + ")",
                       path.string());
  return l;
}

DatasetFiles resolve_dataset_files(const fs::path& dir, const DatasetFiles& names) {
  const bool need_dir = names.train_images.empty() || names.train_images.is_relative() ||
                        names.train_labels.empty() || names.train_labels.is_relative() ||
                        names.test_images.empty() || names.test_images.is_relative() ||
                        names.test_labels.empty() || names.test_labels.is_relative();
  if (need_dir && !fs::is_directory(dir))
    throw InputError("dataset directory not found (install dataset-fashion-mnist or set dataset.path)", dir.string());
  auto pick = [&](const fs::path& given, const std::string& stem) -> fs::path {
    if (!given.empty()) {
      const fs::path p = given.is_absolute() ? given : dir / given;
      if (!fs::exists(p)) throw InputError("file not found", p.string());
      return p;
    }
    for (const char* ext : {".gz", ""}) {
      const auto p = dir / (stem + ext);
      if (fs::exists(p)) return p;
    }
    throw InputError("missing " + stem + "[.gz]", dir.string());
  };
  return {pick(names.train_images, "train-images-idx3-ubyte"), pick(names.train_labels, "train-labels-idx1-ubyte"),
          pick(names.test_images, "t10k-images-idx3-ubyte"), pick(names.test_labels, "t10k-labels-idx1-ubyte")};
}

namespace {

void check_agree(const IdxImages& train, const IdxImages& test, const DatasetFiles& f) {
  if (train.channels != test.channels || train.rows != test.rows || train.cols != test.cols)
    throw InputError("test images are " + shape_text(test) + " but training images (" + f.train_images.string() +
                         ") are " + shape_text(train),
                     f.test_images.string());
}

void check_counts(const IdxImages& im, const IdxLabels& lb, const fs::path& p) {
  if (size_t(im.count) != lb.labels.size())
    throw InputError(std::to_string(lb.labels.size()) + " labels for " + std::to_string(im.count) + " images",
                     p.string());
}

int classes_of(const IdxLabels& train, const IdxLabels& test, const DatasetFiles& f) {
  const int max_train = *std::max_element(train.labels.begin(), train.labels.end());
  const int max_test = *std::max_element(test.labels.begin(), test.labels.end());
  const int classes = std::max(max_train, max_test) + 1;
  if (classes < 2)
    throw InputError("every label is 0: a classifier needs at least 2 classes", f.train_labels.string());
  return classes;
}

}  // namespace

DatasetInfo inspect_dataset(const DatasetFiles& f, ImageLayout layout) {
  const IdxImages tr = read_idx_image_header(f.train_images, layout);
  const IdxImages te = read_idx_image_header(f.test_images, layout);
  check_agree(tr, te, f);
  const IdxLabels trl = read_idx_labels(f.train_labels), tel = read_idx_labels(f.test_labels);
  check_counts(tr, trl, f.train_labels);
  check_counts(te, tel, f.test_labels);
  return {tr.count, te.count, tr.channels, tr.rows, tr.cols, classes_of(trl, tel, f)};
}

ImageDataset load_idx_dataset(const DatasetFiles& f, ImageLayout layout) {
  ImageDataset ds;
  ds.train_labels = read_idx_labels(f.train_labels);
  ds.test_labels = read_idx_labels(f.test_labels);
  ds.train_images = read_idx_images(f.train_images, layout);
  ds.test_images = read_idx_images(f.test_images, layout);
  check_counts(ds.train_images, ds.train_labels, f.train_labels);
  check_counts(ds.test_images, ds.test_labels, f.test_labels);
  check_agree(ds.train_images, ds.test_images, f);
  (void)classes_of(ds.train_labels, ds.test_labels, f);
  return ds;
}

uint64_t dataset_content_hash(const DatasetFiles& f) {
  uint64_t h = fnv1a("lpsim-idx-dataset");
  std::vector<char> buf(1 << 20);
  for (const fs::path& p : {f.train_images, f.train_labels, f.test_images, f.test_labels}) {
    std::ifstream in(p, std::ios::binary);
    if (!in) throw InputError("cannot read", p.string());
    uint64_t length = 0;
    while (in) {
      in.read(buf.data(), std::streamsize(buf.size()));
      const auto n = size_t(in.gcount());
      h = fnv1a(std::string_view(buf.data(), n), h);
      length += n;
    }
    h = fnv1a(std::to_string(length) + ";", h);  // file boundaries are part of the identity
  }
  return h;
}

ImageDataset load_fashion_mnist(const fs::path& dir) {
  const DatasetFiles f = resolve_dataset_files(dir);
  ImageDataset ds = load_idx_dataset(f);
  for (const auto& [im, p] : {std::pair{&ds.train_images, f.train_images}, std::pair{&ds.test_images, f.test_images}})
    if (im->channels != 1 || im->rows != 28 || im->cols != 28)
      throw InputError("images are " + shape_text(*im) + ", expected 1x28x28 (Fashion-MNIST; dataset.name: idx "
                                                         "reads other shapes)",
                       p.string());
  for (const auto& [lb, p] : {std::pair{&ds.train_labels, f.train_labels}, std::pair{&ds.test_labels, f.test_labels}})
    for (size_t i = 0; i < lb->labels.size(); ++i)
      if (lb->labels[i] >= 10)
        throw InputError("label " + std::to_string(lb->labels[i]) + " of item " + std::to_string(i) +
                             " is outside [0, 10) (Fashion-MNIST has 10 classes)",
                         p.string());
  return ds;
}

}  // namespace lpsim::nn
