// LibTorch module built from a Graph: one Conv2d/Linear/BatchNorm2d submodule per node
// (registered under the node's name, so checkpoints are keyed by layer name), forward
// walks the nodes in order. Training uses it as is; the executor calls run() with its
// own conv/linear evaluation and reuses eval_simple() for everything else.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <map>

#include "nn/graph.h"

namespace lpsim::nn {

class GraphNetImpl : public torch::nn::Module {
 public:
  explicit GraphNetImpl(Graph g);
  torch::Tensor forward(torch::Tensor x);

  // Evaluates the graph; gemm(i, input) computes conv/linear node i (BN nodes for which
  // skip(i) is true pass their input through: the executor folds them).
  using GemmFn = std::function<torch::Tensor(int, const torch::Tensor&)>;
  torch::Tensor run(torch::Tensor x, const GemmFn& gemm, const std::function<bool(int)>& skip = nullptr);

  const Graph& graph() const { return g_; }
  torch::nn::Conv2d& conv(int i) { return convs_.at(i); }
  torch::nn::Linear& linear(int i) { return linears_.at(i); }
  torch::nn::BatchNorm2d& bn(int i) { return bns_.at(i); }

 private:
  Graph g_;
  std::vector<int> last_reader_;  // per node: the last node reading its output (-1: none)
  std::map<int, torch::nn::Conv2d> convs_;
  std::map<int, torch::nn::Linear> linears_;
  std::map<int, torch::nn::BatchNorm2d> bns_;
};
TORCH_MODULE(GraphNet);

// A deep copy (parameters, buffers, mode) of a network on the same graph; draws no random numbers.
GraphNet clone_net(GraphNet& net);

// relu, pools, flatten, add (and batchnorm through the module): the non-MAC nodes.
torch::Tensor eval_simple(const Node& n, const std::vector<torch::Tensor>& in);

}  // namespace lpsim::nn
