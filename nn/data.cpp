#include "nn/data.h"

#include <array>
#include <chrono>
#include <cmath>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "arith/error.h"
#include "nn/scenario.h"

namespace lpsim::nn {

Preprocessing channel_statistics(const IdxImages& images) {
  const size_t c = size_t(images.channels), hw = size_t(images.rows) * size_t(images.cols);
  std::vector<std::array<uint64_t, 256>> hist(c, std::array<uint64_t, 256>{});
  for (size_t n = 0; n < size_t(images.count); ++n)
    for (size_t k = 0; k < c; ++k) {
      const uint8_t* p = images.pixels.data() + (n * c + k) * hw;
      auto& h = hist[k];
      for (size_t i = 0; i < hw; ++i) ++h[p[i]];
    }
  Preprocessing out;
  out.source = "training-set statistics";
  for (size_t k = 0; k < c; ++k) {
    double count = 0, sum = 0;
    for (int v = 0; v < 256; ++v) count += double(hist[k][v]), sum += double(hist[k][v]) * (v / 255.0);
    const double mean = sum / count;
    double var = 0;
    for (int v = 0; v < 256; ++v) var += double(hist[k][v]) * (v / 255.0 - mean) * (v / 255.0 - mean);
    const double sd = std::sqrt(var / count);
    out.mean.push_back(float(mean));
    out.std.push_back(sd > 1e-6 ? float(sd) : 1.0f);  // a constant channel is only shifted
  }
  return out;
}

TensorDataset to_tensors(const IdxImages& images, const IdxLabels& labels, int64_t limit, const Preprocessing& p) {
  LPSIM_CHECK(size_t(images.count) == labels.labels.size());
  LPSIM_CHECK(images.pixels.size() == size_t(images.count) * images.image_size());
  LPSIM_CHECK(p.mean.empty() == p.std.empty());
  const int64_t n = limit > 0 ? std::min<int64_t>(limit, images.count) : images.count;
  auto raw = torch::from_blob(const_cast<uint8_t*>(images.pixels.data()),
                              {n, images.channels, images.rows, images.cols}, torch::kUInt8);
  TensorDataset d;
  d.images = raw.to(torch::kFloat32) / 255.0f;
  if (p.mean.size() == 1 && p.std.size() == 1) {
    // One mean/std for all channels: the expression Fashion-MNIST has always used
    // (scalar operands), so its tensors stay bit-identical.
    d.images = (d.images - p.mean[0]) / p.std[0];
  } else if (!p.mean.empty()) {
    for (int c = 0; c < images.channels; ++c) {
      const float m = p.mean[p.mean.size() == 1 ? 0 : size_t(c)], s = p.std[p.std.size() == 1 ? 0 : size_t(c)];
      d.images.select(1, c).sub_(m).div_(s);
    }
  }
  d.labels = torch::from_blob(const_cast<uint8_t*>(labels.labels.data()), {n}, torch::kUInt8).to(torch::kInt64);
  return d;
}

namespace {

std::string floats(const std::vector<float>& v) {
  std::string s;
  for (float x : v) {
    if (!s.empty()) s += ',';
    s += fmt::format("{:.9g}", x);
  }
  return s;
}

}  // namespace

ScenarioData load_scenario_data(const Scenario& s, bool progress) {
  using nlohmann::json;
  ScenarioData out;
  const bool fashion = s.dataset == "fashion-mnist";
  if (!fashion && s.dataset != "idx")
    throw InputError("unknown dataset '" + s.dataset + "' (fashion-mnist, idx)", {}, "dataset.name");
  const ImageLayout layout = s.layout == "nhwc" ? ImageLayout::nhwc : ImageLayout::nchw;
  // 1. Headers and labels only: every shape, count and class problem before any work.
  out.files = resolve_dataset_files(s.dataset_path, {s.train_images, s.train_labels, s.test_images, s.test_labels});
  const DatasetInfo info = inspect_dataset(out.files, layout);
  if (fashion) {
    if (info.channels != 1 || info.height != 28 || info.width != 28)
      throw InputError(fmt::format("images are {}x{}x{}, expected 1x28x28 (Fashion-MNIST; dataset.name: idx reads "
                                   "other shapes)",
                                   info.channels, info.height, info.width),
                       out.files.train_images.string());
    if (info.classes > 10)
      throw InputError(fmt::format("labels go up to {}: Fashion-MNIST has 10 classes (dataset.name: idx takes any)",
                                   info.classes - 1),
                       out.files.train_labels.string());
    out.shape = InputShape{};  // 1×28×28, 10 classes
  } else {
    out.shape = {info.channels, info.height, info.width, info.classes};
  }
  if (s.torchscript.empty()) (void)make_builtin_model(s.arch, out.shape);  // images too small: an error now
  if (s.normalize == "custom")
    for (const auto& [v, name] : {std::pair{&s.norm_mean, "mean"}, std::pair{&s.norm_std, "std"}})
      if (v->size() != 1 && v->size() != size_t(info.channels))
        throw InputError(fmt::format("{} entries for images of {} channel{} (give one per channel, or one for all)",
                                     v->size(), info.channels, info.channels == 1 ? "" : "s"),
                         s.norm_where, std::string("dataset.normalize.") + name);
  if (s.normalize == "default" && !s.torchscript.empty())
    throw InputError("required with model.torchscript (lpsim cannot know the model's preprocessing)", s.file.string(),
                     "dataset.normalize");
  if (layout == ImageLayout::nchw && info.channels > 4 && info.width <= 4)
    std::cerr << fmt::format("lpsim: warning: images read as {} channels of {}x{}; if {} is N×H×W×C, set "
                             "dataset.layout: nhwc\n",
                             info.channels, info.height, info.width, out.files.train_images.string());
  // 2. The images, their preprocessing and the content hash.
  const auto t_read = std::chrono::steady_clock::now();
  ImageDataset raw = load_idx_dataset(out.files, layout);
  const double read_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_read).count();
  if (s.normalize == "none") {
    out.preprocessing.source = "none";
  } else if (s.normalize == "custom") {
    out.preprocessing.source = "scenario";
    for (double m : s.norm_mean) out.preprocessing.mean.push_back(float(m));
    for (double d : s.norm_std) out.preprocessing.std.push_back(float(d));
  } else {
    out.preprocessing = fashion ? fashion_preprocessing() : channel_statistics(raw.train_images);
  }
  const auto t_hash = std::chrono::steady_clock::now();
  out.content_hash = dataset_content_hash(out.files);
  out.hash_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_hash).count();
  out.train = to_tensors(raw.train_images, raw.train_labels, s.train_limit, out.preprocessing);
  out.test = to_tensors(raw.test_images, raw.test_labels, s.test_limit, out.preprocessing);
  const Preprocessing& p = out.preprocessing;
  out.key = fmt::format("{}|{:016x}|{}|{}x{}x{}|c{}|mean{}|std{}|n{}", s.dataset, out.content_hash, s.layout,
                        out.shape.channels, out.shape.height, out.shape.width, out.shape.classes, floats(p.mean),
                        floats(p.std), out.train.size());
  json j = {{"name", s.dataset},
            {"path", s.dataset_path.string()},
            {"files",
             {{"train_images", out.files.train_images.string()}, {"train_labels", out.files.train_labels.string()},
              {"test_images", out.files.test_images.string()}, {"test_labels", out.files.test_labels.string()}}},
            {"content_hash", fmt::format("{:016x}", out.content_hash)},
            {"layout", s.layout},
            {"shape", {out.shape.channels, out.shape.height, out.shape.width}},
            {"classes", out.shape.classes},
            {"train_images", out.train.size()},
            {"test_images", out.test.size()},
            {"preprocessing", {{"scale", "1/255"}, {"mean", p.mean}, {"std", p.std}, {"source", p.source}}}};
  out.report_json = j.dump();
  if (progress)
    std::cerr << fmt::format("data: {} {}x{}x{}, {} classes, {} training / {} test images; pixel/255{}; read in {:.0f} ms; "
                             "hash {:016x} ({:.0f} ms)\n",
                             s.dataset, out.shape.channels, out.shape.height, out.shape.width, out.shape.classes,
                             out.train.size(), out.test.size(),
                             p.mean.empty() ? std::string(" only")
                                            : fmt::format(", then - mean [{}] / std [{}] ({})", floats(p.mean),
                                                          floats(p.std), p.source),
                             1e3 * read_s, out.content_hash, 1e3 * out.hash_seconds);
  return out;
}

}  // namespace lpsim::nn
