#include "nn/data.h"

#include "arith/error.h"

namespace lpsim::nn {

TensorDataset to_tensors(const IdxImages& images, const IdxLabels& labels, int64_t limit) {
  LPSIM_CHECK(size_t(images.count) == labels.labels.size());
  const int64_t n = limit > 0 ? std::min<int64_t>(limit, images.count) : images.count;
  auto raw = torch::from_blob(const_cast<uint8_t*>(images.pixels.data()), {n, 1, images.rows, images.cols},
                              torch::kUInt8);
  TensorDataset d;
  d.images = ((raw.to(torch::kFloat32) / 255.0f) - kFashionMean) / kFashionStd;
  d.labels = torch::from_blob(const_cast<uint8_t*>(labels.labels.data()), {n}, torch::kUInt8).to(torch::kInt64);
  return d;
}

}  // namespace lpsim::nn
