// Reader of IDX image/label files ((Fashion-)MNIST and the user's own), gzipped or plain.
// Every header field and length is validated: a truncated, corrupt or mismatched file is
// an InputError naming the file, never a crash or a silently short dataset.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace lpsim::nn {

// Axis order of 4-D image files: N×C×H×W (nchw) or N×H×W×C (nhwc). 3-D files are N×H×W.
enum class ImageLayout { nchw, nhwc };

struct IdxImages {
  int count = 0, channels = 1, rows = 0, cols = 0;
  std::vector<uint8_t> pixels;  // count × channels × rows × cols, row-major (NCHW)
  size_t image_size() const { return size_t(channels) * size_t(rows) * size_t(cols); }
};

struct IdxLabels {
  std::vector<uint8_t> labels;
};

// Unsigned-byte images, 3-D (one channel) or 4-D (converted to NCHW). Channels 1..64,
// height and width 1..4096.
IdxImages read_idx_images(const std::filesystem::path& path, ImageLayout layout = ImageLayout::nchw);
// Labels must lie in [0, num_classes).
IdxLabels read_idx_labels(const std::filesystem::path& path, int num_classes = 256);

// The header alone (cheap, also for gzip): count, channels, height, width of an image
// file, with the same checks as read_idx_images except the file length.
IdxImages read_idx_image_header(const std::filesystem::path& path, ImageLayout layout = ImageLayout::nchw);

struct DatasetFiles {
  std::filesystem::path train_images, train_labels, test_images, test_labels;
};

// dir + names: an empty name is the MNIST one (train-images-idx3-ubyte[.gz],
// train-labels-idx1-ubyte[.gz], t10k-…); a relative name is under dir, an absolute one
// is taken as is. InputError naming the missing file (or dir).
DatasetFiles resolve_dataset_files(const std::filesystem::path& dir, const DatasetFiles& names = {});

// Shape and classes of a dataset from its headers and labels (cheap): image and label
// counts agree, train and test images have the same channels × height × width, classes
// = max label + 1 over train and test (at least 2). Errors name the file at fault.
struct DatasetInfo {
  int64_t train_count = 0, test_count = 0;
  int channels = 1, height = 0, width = 0, classes = 0;
};
DatasetInfo inspect_dataset(const DatasetFiles& files, ImageLayout layout = ImageLayout::nchw);

// FNV-1a (arith/hash.h) over the four files' bytes as stored (compressed or not), with
// their order and lengths: the dataset's identity in model cache keys.
uint64_t dataset_content_hash(const DatasetFiles& files);

struct ImageDataset {
  IdxImages train_images, test_images;
  IdxLabels train_labels, test_labels;
};

// The four files read in full and checked as inspect_dataset does.
ImageDataset load_idx_dataset(const DatasetFiles& files, ImageLayout layout = ImageLayout::nchw);

// dir holds train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-… ; image
// and label counts must agree, images must be 28×28 with one channel, labels in 0..9.
ImageDataset load_fashion_mnist(const std::filesystem::path& dir);

// The Debian package's location (dataset-fashion-mnist).
inline std::filesystem::path default_fashion_mnist_dir() { return "/usr/share/datasets/fashion-mnist"; }

}  // namespace lpsim::nn
