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

std::vector<NodeShape> infer_shapes(const Graph& g) {
  const NodeShape input{g.input_channels, g.input_height, g.input_width, 0};
  const std::string image = std::to_string(g.input_channels) + "x" + std::to_string(g.input_height) + "x" +
                            std::to_string(g.input_width);
  auto fail = [&](const Node& n, const std::string& msg) -> void {
    throw InputError("images of " + image + " do not fit " + g.arch + ": layer " + n.name + " " + msg, {}, "dataset");
  };
  auto dims = [](const NodeShape& s) {
    return s.flat() ? std::to_string(s.features) + " features"
                    : std::to_string(s.channels) + "x" + std::to_string(s.height) + "x" + std::to_string(s.width);
  };
  std::vector<NodeShape> out(g.nodes.size());
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    std::vector<NodeShape> in;
    for (int j : n.inputs) in.push_back(j < 0 ? input : out.at(size_t(j)));
    LPSIM_CHECK(!in.empty());
    const NodeShape x = in[0];
    NodeShape y = x;
    const bool spatial = n.kind == OpKind::conv || n.kind == OpKind::maxpool || n.kind == OpKind::avgpool ||
                         n.kind == OpKind::batchnorm || n.kind == OpKind::global_avgpool;
    if (spatial && x.flat()) fail(n, "needs an image input, gets " + dims(x));
    switch (n.kind) {
      case OpKind::conv:
      case OpKind::maxpool:
      case OpKind::avgpool: {
        if (n.kind == OpKind::conv && x.channels != n.in_channels)
          fail(n, "expects " + std::to_string(n.in_channels) + " input channels, gets " + dims(x));
        const int ph = x.height + 2 * n.padding, pw = x.width + 2 * n.padding;
        if (ph < n.kernel || pw < n.kernel)
          fail(n, "(" + std::to_string(n.kernel) + "x" + std::to_string(n.kernel) + " kernel, padding " +
                      std::to_string(n.padding) + ") gets a " + std::to_string(x.height) + "x" +
                      std::to_string(x.width) + " input: the images are too small");
        y.height = (ph - n.kernel) / n.stride + 1, y.width = (pw - n.kernel) / n.stride + 1;
        if (n.kind == OpKind::conv) y.channels = n.out_channels;
        break;
      }
      case OpKind::batchnorm:
        if (x.channels != n.out_channels)
          fail(n, "expects " + std::to_string(n.out_channels) + " channels, gets " + dims(x));
        break;
      case OpKind::global_avgpool: y.height = y.width = 1; break;
      case OpKind::flatten:
        if (!x.flat()) y = {0, 0, 0, int64_t(x.channels) * x.height * x.width};
        break;
      case OpKind::linear:
        if (!x.flat()) fail(n, "needs a flattened input, gets " + dims(x));
        if (x.features != n.in_channels)
          fail(n, "expects " + std::to_string(n.in_channels) + " input features, gets " + dims(x));
        y = {0, 0, 0, n.out_channels};
        break;
      case OpKind::add:
        for (const NodeShape& o : in)
          if (o.flat() != x.flat() || o.features != x.features || o.channels != x.channels ||
              o.height != x.height || o.width != x.width)
            fail(n, "adds " + dims(x) + " to " + dims(o));
        break;
      case OpKind::relu: break;
    }
    out[i] = y;
  }
  return out;
}

namespace {

struct Builder {
  Graph g;
  Builder(const std::string& arch, const InputShape& in) {
    g.arch = arch;
    g.input_channels = in.channels, g.input_height = in.height, g.input_width = in.width, g.classes = in.classes;
  }
  // Features entering the next linear layer (shape inference of the graph so far).
  int64_t features() const { return infer_shapes(g).back().features; }
  Graph done() const {
    (void)infer_shapes(g);  // images too small for the architecture: an error now
    return g;
  }
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

Graph resnet(int blocks_per_stage, const std::string& arch, const InputShape& in) {
  Builder b(arch, in);
  int x = b.conv("conv1", -1, in.channels, 16, 3, 1, 1, false);
  x = b.relu("relu1", b.bn("bn1", x, 16));
  int cin = 16;
  const int widths[3] = {16, 32, 64};
  for (int s = 0; s < 3; ++s) {
    for (int k = 0; k < blocks_per_stage; ++k) {
      const int cout = widths[s], stride = (s > 0 && k == 0) ? 2 : 1;
      std::string p = "s";  // s<stage>b<block>_ (appended: GCC 12 -Wrestrict misfires on "s" + ...)
      p.append(std::to_string(s + 1)).append(1, 'b').append(std::to_string(k + 1)).append(1, '_');
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
  b.linear("fc", x, 64, in.classes);
  return b.done();
}

}  // namespace

std::vector<std::string> builtin_models() { return {"mlp", "lenet5", "resnet8", "resnet20"}; }

Graph make_builtin_model(const std::string& arch, const InputShape& in) {
  if (in.channels < 1 || in.height < 1 || in.width < 1 || in.classes < 2)
    throw InputError("bad input shape " + std::to_string(in.channels) + "x" + std::to_string(in.height) + "x" +
                         std::to_string(in.width) + ", " + std::to_string(in.classes) + " classes",
                     {}, "dataset");
  Builder b(arch, in);
  if (arch == "mlp") {
    int x = b.simple("flatten", OpKind::flatten, {-1});
    x = b.relu("relu1", b.linear("fc1", x, in.channels * in.height * in.width, 256));
    x = b.relu("relu2", b.linear("fc2", x, 256, 128));
    b.linear("fc3", x, 128, in.classes);
  } else if (arch == "lenet5") {
    int x = b.relu("relu1", b.conv("conv1", -1, in.channels, 6, 5, 1, 2, true));
    x = b.simple("pool1", OpKind::maxpool, {x}, 2, 2);
    x = b.relu("relu2", b.conv("conv2", x, 6, 16, 5, 1, 0, true));
    x = b.simple("pool2", OpKind::maxpool, {x}, 2, 2);
    x = b.simple("flatten", OpKind::flatten, {x});
    x = b.relu("relu3", b.linear("fc1", x, int(b.features()), 120));
    x = b.relu("relu4", b.linear("fc2", x, 120, 84));
    b.linear("fc3", x, 84, in.classes);
  } else if (arch == "resnet8") {
    return resnet(1, arch, in);
  } else if (arch == "resnet20") {
    return resnet(3, arch, in);
  } else {
    throw InputError("unknown model '" + arch + "' (built in: mlp, lenet5, resnet8, resnet20)", {}, "model.arch");
  }
  return b.done();
}

}  // namespace lpsim::nn
