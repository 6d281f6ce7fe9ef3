#include "nn/idx.h"

#include <zlib.h>

#include <memory>
#include <string>

#include "arith/error.h"

namespace lpsim::nn {
namespace {

// Whole-file reader; gzread passes plain files through unchanged.
std::vector<uint8_t> read_maybe_gzip(const std::filesystem::path& path) {
  if (!std::filesystem::exists(path)) throw InputError("file not found", path.string());
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw InputError("cannot open", path.string());
  std::unique_ptr<gzFile_s, int (*)(gzFile)> guard(f, gzclose);
  std::vector<uint8_t> data;
  std::vector<uint8_t> buf(1 << 20);
  for (;;) {
    const int n = gzread(f, buf.data(), unsigned(buf.size()));
    if (n < 0) {
      int err = 0;
      const char* msg = gzerror(f, &err);
      throw InputError(std::string("corrupt gzip data (") + (msg ? msg : "unknown") + ")", path.string());
    }
    if (n == 0) break;
    data.insert(data.end(), buf.begin(), buf.begin() + n);
  }
  // A gzip stream cut short reads as a clean EOF on some zlib versions: check the
  // gzip trailer was reached.
  int err = 0;
  gzerror(f, &err);
  if (err != Z_OK && err != Z_STREAM_END)
    throw InputError("truncated or corrupt gzip data", path.string());
  return data;
}

uint32_t be32(const std::vector<uint8_t>& d, size_t at) {
  return (uint32_t(d[at]) << 24) | (uint32_t(d[at + 1]) << 16) | (uint32_t(d[at + 2]) << 8) | d[at + 3];
}

// Checks the magic (0x00 0x00 type=0x08 unsigned byte, ndim) and returns the dims.
std::vector<uint32_t> parse_header(const std::vector<uint8_t>& d, int ndim, const std::filesystem::path& path) {
  const size_t header = 4 + 4 * size_t(ndim);
  if (d.size() < 4)
    throw InputError("too short for an IDX header (" + std::to_string(d.size()) + " bytes)", path.string());
  if (d[0] != 0 || d[1] != 0 || d[2] != 0x08 || d[3] != ndim) {
    char got[16];
    std::snprintf(got, sizeof got, "%02x%02x%02x%02x", d[0], d[1], d[2], d[3]);
    char want[16];
    std::snprintf(want, sizeof want, "000008%02x", ndim);
    throw InputError(std::string("bad IDX magic 0x") + got + " (expected 0x" + want + ", unsigned bytes, " +
                         std::to_string(ndim) + " dimensions)",
                     path.string());
  }
  if (d.size() < header)
    throw InputError("too short for an IDX header (" + std::to_string(d.size()) + " bytes)", path.string());
  std::vector<uint32_t> dims(ndim);
  uint64_t total = 1;
  for (int i = 0; i < ndim; ++i) {
    dims[i] = be32(d, 4 + 4 * size_t(i));
    total *= dims[i];
    if (total > (uint64_t{1} << 34)) throw InputError("IDX dimensions implausibly large", path.string());
  }
  if (d.size() != header + total)
    throw InputError("length " + std::to_string(d.size()) + " bytes does not match the header (" +
                         std::to_string(header + total) + " expected): truncated or corrupt",
                     path.string());
  return dims;
}

}  // namespace

IdxImages read_idx_images(const std::filesystem::path& path) {
  const auto d = read_maybe_gzip(path);
  const auto dims = parse_header(d, 3, path);
  if (dims[0] == 0 || dims[1] == 0 || dims[2] == 0) throw InputError("empty image file", path.string());
  IdxImages img;
  img.count = int(dims[0]);
  img.rows = int(dims[1]);
  img.cols = int(dims[2]);
  img.pixels.assign(d.begin() + 16, d.end());
  return img;
}

IdxLabels read_idx_labels(const std::filesystem::path& path, int num_classes) {
  const auto d = read_maybe_gzip(path);
  const auto dims = parse_header(d, 1, path);
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

ImageDataset load_fashion_mnist(const std::filesystem::path& dir) {
  if (!std::filesystem::is_directory(dir))
    throw InputError("dataset directory not found (install dataset-fashion-mnist or set dataset.path)",
                     dir.string());
  auto pick = [&](const std::string& stem) {
    for (const char* ext : {".gz", ""}) {
      const auto p = dir / (stem + ext);
      if (std::filesystem::exists(p)) return p;
    }
    throw InputError("missing " + stem + "[.gz]", dir.string());
  };
  ImageDataset ds;
  const auto tri = pick("train-images-idx3-ubyte"), trl = pick("train-labels-idx1-ubyte");
  const auto tei = pick("t10k-images-idx3-ubyte"), tel = pick("t10k-labels-idx1-ubyte");
  ds.train_images = read_idx_images(tri);
  ds.train_labels = read_idx_labels(trl);
  ds.test_images = read_idx_images(tei);
  ds.test_labels = read_idx_labels(tel);
  auto agree = [](const IdxImages& im, const IdxLabels& lb, const std::filesystem::path& p) {
    if (size_t(im.count) != lb.labels.size())
      throw InputError(std::to_string(lb.labels.size()) + " labels for " + std::to_string(im.count) + " images",
                       p.string());
    if (im.rows != 28 || im.cols != 28)
      throw InputError("images are " + std::to_string(im.rows) + "x" + std::to_string(im.cols) + ", expected 28x28",
                       p.string());
  };
  agree(ds.train_images, ds.train_labels, trl);
  agree(ds.test_images, ds.test_labels, tel);
  return ds;
}

}  // namespace lpsim::nn
