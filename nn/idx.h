// Reader of the IDX files of (Fashion-)MNIST, gzipped or plain. Every header field and
// length is validated: a truncated, corrupt or mismatched file is an InputError naming
// the file, never a crash or a silently short dataset.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

namespace lpsim::nn {

struct IdxImages {
  int count = 0, rows = 0, cols = 0;
  std::vector<uint8_t> pixels;  // count × rows × cols, row-major
};

struct IdxLabels {
  std::vector<uint8_t> labels;
};

IdxImages read_idx_images(const std::filesystem::path& path);
IdxLabels read_idx_labels(const std::filesystem::path& path, int num_classes = 10);

struct ImageDataset {
  IdxImages train_images, test_images;
  IdxLabels train_labels, test_labels;
};

// dir holds train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-… ; image
// and label counts must agree and images must be 28×28.
ImageDataset load_fashion_mnist(const std::filesystem::path& dir);

// The Debian package's location (dataset-fashion-mnist).
inline std::filesystem::path default_fashion_mnist_dir() { return "/usr/share/datasets/fashion-mnist"; }

}  // namespace lpsim::nn
