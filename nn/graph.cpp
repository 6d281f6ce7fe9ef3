#include "nn/graph.h"

#include "arith/error.h"

namespace lpsim::nn {

const char* op_name(OpKind k) {
  switch (k) {
    case OpKind::conv: return "conv";
    case OpKind::linear: return "linear";
    case OpKind::batchnorm: return "batchnorm";
    case OpKind::relu: return "relu";
    case OpKind::maxpool: return "maxpool";
    case OpKind::avgpool: return "avgpool";
    case OpKind::global_avgpool: return "global_avgpool";
    case OpKind::flatten: return "flatten";
    case OpKind::add: return "add";
  }
  return "?";
}

std::vector<int> Graph::consumers(int i) const {
  std::vector<int> out;
  for (size_t j = 0; j < nodes.size(); ++j)
    for (int in : nodes[j].inputs)
      if (in == i) out.push_back(int(j));
  return out;
}

namespace {

struct Builder {
  Graph g;
  int add(Node n) {
    g.nodes.push_back(std::move(n));
    return int(g.nodes.size()) - 1;
  }
  int conv(const std::string& name, int in, int cin, int cout, int k, int stride, int pad, bool bias) {
    Node n;
    n.name = name, n.kind = OpKind::conv, n.inputs = {in};
    n.in_channels = cin, n.out_channels = cout, n.kernel = k, n.stride = stride, n.padding = pad, n.bias = bias;
    return add(n);
  }
  int linear(const std::string& name, int in, int fin, int fout) {
    Node n;
    n.name = name, n.kind = OpKind::linear, n.inputs = {in}, n.in_channels = fin, n.out_channels = fout;
    return add(n);
  }
  int simple(const std::string& name, OpKind k, std::vector<int> in, int kernel = 0, int stride = 1, int ch = 0) {
    Node n;
    n.name = name, n.kind = k, n.inputs = std::move(in), n.kernel = kernel, n.stride = stride, n.out_channels = ch;
    return add(n);
  }
  int bn(const std::string& name, int in, int ch) { return simple(name, OpKind::batchnorm, {in}, 0, 1, ch); }
  int relu(const std::string& name, int in) { return simple(name, OpKind::relu, {in}); }
};

Graph resnet(int blocks_per_stage, const std::string& arch) {
  Builder b;
  int x = b.conv("conv1", -1, 1, 16, 3, 1, 1, false);
  x = b.relu("relu1", b.bn("bn1", x, 16));
  int cin = 16;
  const int widths[3] = {16, 32, 64};
  for (int s = 0; s < 3; ++s) {
    for (int k = 0; k < blocks_per_stage; ++k) {
      const int cout = widths[s], stride = (s > 0 && k == 0) ? 2 : 1;
      const std::string p = "s" + std::to_string(s + 1) + "b" + std::to_string(k + 1) + "_";
      int y = b.conv(p + "conv1", x, cin, cout, 3, stride, 1, false);
      y = b.relu(p + "relu1", b.bn(p + "bn1", y, cout));
      y = b.bn(p + "bn2", b.conv(p + "conv2", y, cout, cout, 3, 1, 1, false), cout);
      int shortcut = x;
      if (stride != 1 || cin != cout)
        shortcut = b.bn(p + "down_bn", b.conv(p + "down_conv", x, cin, cout, 1, stride, 0, false), cout);
      x = b.relu(p + "relu2", b.simple(p + "add", OpKind::add, {y, shortcut}));
      cin = cout;
    }
  }
  x = b.simple("pool", OpKind::global_avgpool, {x});
  x = b.simple("flatten", OpKind::flatten, {x});
  b.linear("fc", x, 64, 10);
  b.g.arch = arch;
  return b.g;
}

}  // namespace

std::vector<std::string> builtin_models() { return {"mlp", "lenet5", "resnet8", "resnet20"}; }

Graph make_builtin_model(const std::string& arch) {
  Builder b;
  if (arch == "mlp") {
    int x = b.simple("flatten", OpKind::flatten, {-1});
    x = b.relu("relu1", b.linear("fc1", x, 784, 256));
    x = b.relu("relu2", b.linear("fc2", x, 256, 128));
    b.linear("fc3", x, 128, 10);
  } else if (arch == "lenet5") {
    int x = b.relu("relu1", b.conv("conv1", -1, 1, 6, 5, 1, 2, true));
    x = b.simple("pool1", OpKind::maxpool, {x}, 2, 2);
    x = b.relu("relu2", b.conv("conv2", x, 6, 16, 5, 1, 0, true));
    x = b.simple("pool2", OpKind::maxpool, {x}, 2, 2);
    x = b.simple("flatten", OpKind::flatten, {x});
    x = b.relu("relu3", b.linear("fc1", x, 400, 120));
    x = b.relu("relu4", b.linear("fc2", x, 120, 84));
    b.linear("fc3", x, 84, 10);
  } else if (arch == "resnet8") {
    return resnet(1, arch);
  } else if (arch == "resnet20") {
    return resnet(3, arch);
  } else {
    throw InputError("unknown model '" + arch + "' (built in: mlp, lenet5, resnet8, resnet20)", {}, "model.arch");
  }
  b.g.arch = arch;
  return b.g;
}

}  // namespace lpsim::nn
