// A network as data: nodes in topological order, each naming its inputs. One graph
// drives LibTorch training (net.h), the quantised executor (executor.h) and the
// TorchScript importer, so a model is described once.
#pragma once

#include <cstdint>
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

// What a network is built for: images of channels × height × width, `classes` logits.
// The defaults are Fashion-MNIST's.
struct InputShape {
  int channels = 1, height = 28, width = 28, classes = 10;
};

struct Graph {
  std::string arch;
  std::vector<Node> nodes;  // the last node is the output (logits)
  int input_channels = 1, input_height = 28, input_width = 28, classes = 10;

  // True for conv and linear: the layers that run on MAC units.
  static bool is_gemm(OpKind k) { return k == OpKind::conv || k == OpKind::linear; }
  // Indices of the nodes that read node i.
  std::vector<int> consumers(int i) const;
};

// Output shape of a node: channels × height × width, or `features` after flatten/linear.
struct NodeShape {
  int channels = 0, height = 0, width = 0;
  int64_t features = 0;  // > 0: a flat vector
  bool flat() const { return features > 0; }
};

// Shapes of every node's output for the graph's input shape. InputError (key `dataset`)
// naming the layer when the images are too small for it (a kernel larger than its padded
// input) or the channel/feature counts do not chain.
std::vector<NodeShape> infer_shapes(const Graph& g);

// mlp (C·H·W-256-128-classes), lenet5 (C→6 5×5 conv with padding 2, max pooling, fc1 sized
// by shape inference; images of at least 12×12), resnet8 / resnet20 (CIFAR-style
// ResNet-6n+2, C→16/32/64 channels, 1×1-conv shortcuts, fc 64→classes). On the default
// shape these are the Fashion-MNIST graphs (784-256-128-10, fc1 400→120).
Graph make_builtin_model(const std::string& arch, const InputShape& in = {});
std::vector<std::string> builtin_models();

}  // namespace lpsim::nn
