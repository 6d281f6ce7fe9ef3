// Writes tests/nn/fixtures/tiny_cnn.pt: a TorchScript module shaped like a scripted
// PyTorch nn.Sequential (children typed Conv2d, BatchNorm2d, ReLU, MaxPool2d, Flatten,
// Linear under the torch.nn.modules names, attributes as PyTorch stores them: stride and
// padding as int tuples), built in C++ because the machines have no Python torch.
// Usage: make_torchscript_fixture OUT.pt [unsupported|nonsequential]
//        make_torchscript_fixture OUT.pt trained [FASHION_MNIST_DIR]
// `trained`: a small BN CNN trained here on Fashion-MNIST with its *own* preprocessing,
// (pixel/255 − 0.5)/0.5 (not lpsim's Fashion constants), then written as the scripted
// Sequential: a stand-in for a model someone trained elsewhere (scenarios/aciq.yaml).
#include <torch/script.h>
#include <torch/torch.h>

#include <iostream>
#include <string>

#include "nn/data.h"
#include "nn/idx.h"

using torch::jit::Module;

namespace {

c10::IValue pair(int64_t a) { return c10::ivalue::Tuple::create({c10::IValue(a), c10::IValue(a)}); }
c10::TypePtr pair_type() { return c10::TupleType::create({c10::IntType::get(), c10::IntType::get()}); }

Module conv(int cin, int cout, int k, int stride, int pad) {
  Module m("__torch__.torch.nn.modules.conv.Conv2d");
  m.register_parameter("weight", torch::randn({cout, cin, k, k}) * (1.0 / std::sqrt(cin * k * k)), false);
  m.register_parameter("bias", torch::randn({cout}) * 0.1, false);
  m.register_attribute("stride", pair_type(), pair(stride));
  m.register_attribute("padding", pair_type(), pair(pad));
  m.register_attribute("dilation", pair_type(), pair(1));
  m.register_attribute("groups", c10::IntType::get(), int64_t(1));
  m.define(R"(
def forward(self, x):
    return torch.conv2d(x, self.weight, self.bias, [self.stride[0], self.stride[1]], [self.padding[0], self.padding[1]])
)");
  return m;
}

Module batchnorm(int c) {
  Module m("__torch__.torch.nn.modules.batchnorm.BatchNorm2d");
  m.register_parameter("weight", torch::rand({c}) + 0.5, false);
  m.register_parameter("bias", torch::randn({c}) * 0.1, false);
  m.register_buffer("running_mean", torch::randn({c}) * 0.1);
  m.register_buffer("running_var", torch::rand({c}) + 0.5);
  m.register_attribute("eps", c10::FloatType::get(), 1e-5);
  m.define(R"(
def forward(self, x):
    return torch.batch_norm(x, self.weight, self.bias, self.running_mean, self.running_var, False, 0.1, self.eps, False)
)");
  return m;
}

Module simple(const std::string& type, const std::string& body) {
  Module m("__torch__.torch.nn.modules." + type);
  m.define("def forward(self, x):\n    return " + body + "\n");
  return m;
}

Module maxpool(int k) {
  Module m = simple("pooling.MaxPool2d", "torch.max_pool2d(x, [2, 2], [2, 2])");
  m.register_attribute("kernel_size", c10::IntType::get(), int64_t(k));
  m.register_attribute("stride", c10::IntType::get(), int64_t(k));
  m.register_attribute("padding", c10::IntType::get(), int64_t(0));
  return m;
}

Module linear(int in, int out) {
  Module m("__torch__.torch.nn.modules.linear.Linear");
  m.register_parameter("weight", torch::randn({out, in}) * (1.0 / std::sqrt(in)), false);
  m.register_parameter("bias", torch::randn({out}) * 0.1, false);
  m.define(R"(
def forward(self, x):
    return torch.linear(x, self.weight, self.bias)
)");
  return m;
}

}  // namespace

// Trains conv(1→16)-BN-ReLU-pool-conv(16→32)-BN-ReLU-pool-flatten-fc(1568→10) for three
// epochs (SGD, seed 7, one thread: reproducible) and copies it into scripted modules.
int make_trained(const std::string& out, const std::string& dir) {
  torch::manual_seed(7);
  torch::set_num_threads(1);
  const auto ds = lpsim::nn::load_fashion_mnist(dir);
  lpsim::nn::Preprocessing own{{0.5f}, {0.5f}, "scenario"};
  const auto train = lpsim::nn::to_tensors(ds.train_images, ds.train_labels, 0, own);
  namespace tnn = torch::nn;
  tnn::Conv2d c1(tnn::Conv2dOptions(1, 16, 3).padding(1)), c2(tnn::Conv2dOptions(16, 32, 3).padding(1));
  tnn::BatchNorm2d b1(16), b2(32);
  tnn::Linear fc(32 * 7 * 7, 10);
  tnn::Sequential seq(c1, b1, tnn::ReLU(), tnn::MaxPool2d(2), c2, b2, tnn::ReLU(), tnn::MaxPool2d(2), tnn::Flatten(), fc);
  torch::optim::SGD opt(seq->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9).weight_decay(5e-4));
  const int64_t n = train.images.size(0), batch = 128;
  for (int epoch = 0; epoch < 3; ++epoch) {
    seq->train();
    const auto perm = torch::randperm(n);
    for (int64_t b = 0; b + batch <= n; b += batch) {
      const auto idx = perm.slice(0, b, b + batch);
      opt.zero_grad();
      const auto loss = torch::nn::functional::cross_entropy(seq->forward(train.images.index_select(0, idx)),
                                                             train.labels.index_select(0, idx));
      loss.backward();
      opt.step();
    }
    std::cerr << "epoch " << epoch + 1 << " done\n";
  }
  seq->eval();
  torch::NoGradGuard ng;
  auto copy_conv = [](Module m, tnn::Conv2d& c) {
    m.attr("weight").toTensor().copy_(c->weight), m.attr("bias").toTensor().copy_(c->bias);
  };
  auto copy_bn = [](Module m, tnn::BatchNorm2d& b) {
    m.attr("weight").toTensor().copy_(b->weight), m.attr("bias").toTensor().copy_(b->bias);
    m.attr("running_mean").toTensor().copy_(b->running_mean), m.attr("running_var").toTensor().copy_(b->running_var);
  };
  Module net("__torch__.FashionCnn");
  Module m1 = conv(1, 16, 3, 1, 1), m2 = conv(16, 32, 3, 1, 1), n1 = batchnorm(16), n2 = batchnorm(32);
  copy_conv(m1, c1), copy_conv(m2, c2), copy_bn(n1, b1), copy_bn(n2, b2);
  Module l = linear(32 * 7 * 7, 10);
  l.attr("weight").toTensor().copy_(fc->weight), l.attr("bias").toTensor().copy_(fc->bias);
  net.register_module("conv1", m1);
  net.register_module("bn1", n1);
  net.register_module("relu1", simple("activation.ReLU", "torch.relu(x)"));
  net.register_module("pool1", maxpool(2));
  net.register_module("conv2", m2);
  net.register_module("bn2", n2);
  net.register_module("relu2", simple("activation.ReLU", "torch.relu(x)"));
  net.register_module("pool2", maxpool(2));
  Module flat = simple("flatten.Flatten", "torch.flatten(x, 1)");
  flat.register_attribute("start_dim", c10::IntType::get(), int64_t(1));
  net.register_module("flatten", flat);
  net.register_module("fc", l);
  net.define(
      "def forward(self, x):\n    return self.fc.forward(self.flatten.forward(self.pool2.forward(self.relu2.forward("
      "self.bn2.forward(self.conv2.forward(self.pool1.forward(self.relu1.forward(self.bn1.forward(self.conv1.forward(x)"
      ")))))))))\n");
  net.save(out);
  return 0;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: make_torchscript_fixture OUT.pt [unsupported|nonsequential|trained [FASHION_MNIST_DIR]]\n";
    return 2;
  }
  const std::string variant = argc > 2 ? argv[2] : "";
  if (variant == "trained") return make_trained(argv[1], argc > 3 ? argv[3] : "/usr/share/datasets/fashion-mnist");
  torch::manual_seed(7);
  Module net("__torch__.TinyCnn");
  net.register_module("conv1", conv(1, 4, 3, 1, 1));
  net.register_module("bn1", batchnorm(4));
  if (variant == "unsupported")
    net.register_module("act1", simple("activation.GELU", "torch.gelu(x)"));
  else
    net.register_module("act1", simple("activation.ReLU", "torch.relu(x)"));
  net.register_module("pool1", maxpool(2));
  net.register_module("conv2", conv(4, 8, 3, 2, 1));
  net.register_module("act2", simple("activation.ReLU", "torch.relu(x)"));
  Module flat = simple("flatten.Flatten", "torch.flatten(x, 1)");
  flat.register_attribute("start_dim", c10::IntType::get(), int64_t(1));
  net.register_module("flatten", flat);
  net.register_module("fc", linear(8 * 7 * 7, 10));
  const std::string tail = variant == "nonsequential" ? "    return self.fc.forward(self.flatten.forward(self.act2.forward(self.conv2.forward(self.pool1.forward(self.act1.forward(self.conv1.forward(x))))))) * 2.0\n"
                                                      : "    return self.fc.forward(self.flatten.forward(self.act2.forward(self.conv2.forward(self.pool1.forward(self.act1.forward(self.bn1.forward(self.conv1.forward(x))))))))\n";
  net.define("def forward(self, x):\n" + tail);
  net.save(argv[1]);
  return 0;
}
