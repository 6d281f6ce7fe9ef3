// Writes tests/nn/fixtures/tiny_cnn.pt: a TorchScript module shaped like a scripted
// PyTorch nn.Sequential (children typed Conv2d, BatchNorm2d, ReLU, MaxPool2d, Flatten,
// Linear under the torch.nn.modules names, attributes as PyTorch stores them: stride and
// padding as int tuples), built in C++ because the machines have no Python torch.
// Usage: make_torchscript_fixture OUT.pt [unsupported|nonsequential]
#include <torch/script.h>
#include <torch/torch.h>

#include <iostream>
#include <string>

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

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: make_torchscript_fixture OUT.pt [unsupported|nonsequential]\n";
    return 2;
  }
  const std::string variant = argc > 2 ? argv[2] : "";
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
