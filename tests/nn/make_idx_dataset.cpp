// Writes a small synthetic IDX dataset with a learnable pattern, for the tests of
// `dataset.name: idx`: class k brightens horizontal band k of channel k mod C over
// uniform noise. Files: train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-… (plain).
// Usage: make_idx_dataset DIR [--channels C] [--height H] [--width W] [--classes K]
//                             [--train N] [--test M] [--layout nchw|nhwc] [--seed S]
// (one channel and --layout nchw: 3-D N×H×W files; otherwise 4-D in the given layout).
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <vector>

namespace {

void write_idx(const std::filesystem::path& p, const std::vector<uint32_t>& dims, const std::vector<uint8_t>& data) {
  std::vector<uint8_t> d = {0, 0, 0x08, uint8_t(dims.size())};
  for (uint32_t v : dims)
    for (int s = 24; s >= 0; s -= 8) d.push_back(uint8_t(v >> s));
  d.insert(d.end(), data.begin(), data.end());
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char*>(d.data()), std::streamsize(d.size()));
  if (!out) {
    std::cerr << "make_idx_dataset: cannot write " << p << "\n";
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: make_idx_dataset DIR [--channels C] [--height H] [--width W] [--classes K] [--train N] "
                 "[--test M] [--layout nchw|nhwc] [--seed S]\n";
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  int c = 3, h = 20, w = 24, k = 4, ntrain = 400, ntest = 200;
  unsigned seed = 1;
  std::string layout = "nchw";
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    if (a == "--channels") c = std::stoi(v);
    else if (a == "--height") h = std::stoi(v);
    else if (a == "--width") w = std::stoi(v);
    else if (a == "--classes") k = std::stoi(v);
    else if (a == "--train") ntrain = std::stoi(v);
    else if (a == "--test") ntest = std::stoi(v);
    else if (a == "--layout") layout = v;
    else if (a == "--seed") seed = unsigned(std::stoul(v));
    else {
      std::cerr << "make_idx_dataset: unknown option " << a << "\n";
      return 2;
    }
  }
  std::filesystem::create_directories(dir);
  std::mt19937 rng(seed);
  auto make = [&](int n, const std::string& prefix) {
    std::vector<uint8_t> px(size_t(n) * c * h * w), labels(n);
    for (int i = 0; i < n; ++i) {
      const int label = int(rng() % unsigned(k));
      labels[i] = uint8_t(label);
      const int band0 = label * h / k, band1 = (label + 1) * h / k;
      for (int ch = 0; ch < c; ++ch)
        for (int y = 0; y < h; ++y)
          for (int x = 0; x < w; ++x) {
            int v = int(rng() % 80u);
            if (ch == label % c && y >= band0 && y < band1) v += 150;
            const size_t at = layout == "nhwc" ? ((size_t(i) * h + y) * w + x) * c + ch
                                               : ((size_t(i) * c + ch) * h + y) * w + x;
            px[at] = uint8_t(v);
          }
    }
    std::vector<uint32_t> dims = {uint32_t(n)};
    if (c == 1 && layout == "nchw") dims.insert(dims.end(), {uint32_t(h), uint32_t(w)});
    else if (layout == "nhwc") dims.insert(dims.end(), {uint32_t(h), uint32_t(w), uint32_t(c)});
    else dims.insert(dims.end(), {uint32_t(c), uint32_t(h), uint32_t(w)});
    write_idx(dir / (prefix + "-images-idx3-ubyte"), dims, px);
    write_idx(dir / (prefix + "-labels-idx1-ubyte"), {uint32_t(n)}, labels);
  };
  make(ntrain, "train");
  make(ntest, "t10k");
  return 0;
}
