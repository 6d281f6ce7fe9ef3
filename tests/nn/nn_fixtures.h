// Shared fixtures of the network tests: real Fashion-MNIST images and briefly trained
// built-in models (real, non-random weights), and helpers to address layers.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "nn/data.h"
#include "nn/executor.h"
#include "nn/train.h"

namespace lpsim::nn::nntest {

namespace fs = std::filesystem;

struct Fixture {
  TensorDataset train, test;
};

inline const Fixture& data() {
  static Fixture f = [] {
    Fixture x;
    const ImageDataset ds = load_fashion_mnist(default_fashion_mnist_dir());
    x.train = to_tensors(ds.train_images, ds.train_labels, 4096);
    x.test = to_tensors(ds.test_images, ds.test_labels, 1000);
    return x;
  }();
  return f;
}

inline fs::path fresh_dir(const std::string& name) {
  // Per process: ctest runs the tests of one executable as parallel processes.
  const fs::path d = fs::temp_directory_path() / ("lpsim_exec_" + std::to_string(::getpid()) + "_" + name);
  fs::remove_all(d);
  return d;
}

// A LeNet-5 trained for one short epoch on real images: real, non-random weights. Trained
// once per build and shared by every test process through the model cache (keyed by
// graph, settings, seed and data; a lock per entry), as `lpsim run` shares its models.
inline GraphNet trained(const std::string& arch, uint64_t seed = 3) {
  GraphNet net(make_builtin_model(arch));
  TrainConfig c;
  c.epochs = 1, c.seed = seed, c.lr = 0.05;
  train_or_load(net, data().train, c, LPSIM_TEST_MODEL_CACHE);
  net->eval();
  return net;
}

// Inputs each gemm node sees in FP32 (with the module's own layers).
inline std::map<int, torch::Tensor> layer_inputs(GraphNet& net, const torch::Tensor& x) {
  std::map<int, torch::Tensor> in;
  torch::NoGradGuard ng;
  net->run(x, [&](int i, const torch::Tensor& t) {
    in[i] = t;
    return net->graph().nodes[i].kind == OpKind::conv ? net->conv(i)->forward(t) : net->linear(i)->forward(t);
  });
  return in;
}

inline int node_index(const Graph& g, const std::string& name) {
  for (size_t i = 0; i < g.nodes.size(); ++i)
    if (g.nodes[i].name == name) return int(i);
  return -1;
}

inline std::vector<LayerQuant> all_layers(const Graph& g, LayerQuant q) {
  std::vector<LayerQuant> v(g.nodes.size());
  for (size_t i = 0; i < g.nodes.size(); ++i)
    if (Graph::is_gemm(g.nodes[i].kind)) v[i] = q;
  return v;
}

// Accumulator outputs as an (M_total × N) matrix in the executor's row order.
inline torch::Tensor as_rows(const torch::Tensor& acc) {
  if (acc.dim() == 2) return acc;
  return acc.flatten(2).transpose(1, 2).reshape({-1, acc.size(1)});
}

}  // namespace lpsim::nn::nntest
