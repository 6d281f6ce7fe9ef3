// A network as data: nodes in topological order, each naming its inputs. One graph
// drives LibTorch training (net.h), the quantised executor (executor.h) and the
// TorchScript importer, so a model is described once.
#pragma once

#include <string>
#include <vector>

namespace lpsim::nn {

enum class OpKind { conv, linear, batchnorm, relu, maxpool, avgpool, global_avgpool, flatten, add };

const char* op_name(OpKind k);

struct Node {
  std::string name;         // unique, a valid module name (letters, digits, '_')
  OpKind kind = OpKind::relu;
  std::vector<int> inputs;  // indices of earlier nodes; -1 is the network input
  // conv: channels, square kernel, stride, padding; linear: in/out features;
  // batchnorm: channels in out_channels; pools: kernel and stride.
  int in_channels = 0, out_channels = 0, kernel = 0, stride = 1, padding = 0;
  bool bias = true;
  double bn_eps = 1e-5;
};

struct Graph {
  std::string arch;
  std::vector<Node> nodes;  // the last node is the output (logits)
  int input_channels = 1, input_size = 28, classes = 10;

  // True for conv and linear: the layers that run on MAC units.
  static bool is_gemm(OpKind k) { return k == OpKind::conv || k == OpKind::linear; }
  // Indices of the nodes that read node i.
  std::vector<int> consumers(int i) const;
};

// mlp (784-256-128-10), lenet5 (ReLU, max pooling, 28×28 input), resnet8 / resnet20
// (CIFAR-style ResNet-6n+2, 16/32/64 channels, 1×1-conv shortcuts).
Graph make_builtin_model(const std::string& arch);
std::vector<std::string> builtin_models();

}  // namespace lpsim::nn
