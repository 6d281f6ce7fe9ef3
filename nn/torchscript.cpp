#include "nn/torchscript.h"

#include <torch/script.h>

#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <thread>

#include "arith/error.h"
#include "arith/hash.h"

namespace lpsim::nn {
namespace {

struct Importer {
  std::string file;
  Graph g;
  std::vector<std::pair<std::string, torch::jit::Module>> layers;  // node name → module

  [[noreturn]] void fail(const std::string& layer, const std::string& msg) const {
    throw InputError(msg, file, layer);
  }

  std::vector<int64_t> ints(const torch::jit::Module& m, const char* attr, const std::string& layer) const {
    if (!m.hasattr(attr)) fail(layer, std::string("missing attribute ") + attr);
    const c10::IValue v = m.attr(attr);
    if (v.isInt()) return {v.toInt()};
    if (v.isIntList()) return v.toIntVector();
    if (v.isTuple()) {
      std::vector<int64_t> out;
      for (const auto& e : v.toTupleRef().elements()) {
        if (!e.isInt()) fail(layer, std::string("attribute ") + attr + " is not a tuple of ints");
        out.push_back(e.toInt());
      }
      return out;
    }
    fail(layer, std::string("attribute ") + attr + " has an unsupported type (string padding modes are not supported)");
  }
  int square(const torch::jit::Module& m, const char* attr, const std::string& layer) const {
    const auto v = ints(m, attr, layer);
    if (v.empty() || v.size() > 2 || (v.size() == 2 && v[0] != v[1]))
      fail(layer, std::string("only square ") + attr + " is supported");
    if (v[0] < 0 || v[0] > 4096) fail(layer, std::string("attribute ") + attr + " out of range: " + std::to_string(v[0]));
    return int(v[0]);
  }
  torch::Tensor tensor(const torch::jit::Module& m, const char* attr, const std::string& layer, int64_t dims = -1) const {
    if (!m.hasattr(attr) || !m.attr(attr).isTensor()) fail(layer, std::string("missing tensor ") + attr);
    const torch::Tensor t = m.attr(attr).toTensor();
    if (dims >= 0 && t.dim() != dims)
      fail(layer, std::string("tensor ") + attr + " has " + std::to_string(t.dim()) + " dimensions, expected " +
                      std::to_string(dims));
    if (t.numel() == 0) fail(layer, std::string("tensor ") + attr + " is empty");
    if (!t.is_floating_point()) fail(layer, std::string("tensor ") + attr + " is not floating point");
    return t.detach().to(torch::kFloat32);
  }
  // An optional tensor (a layer's bias): present as a tensor, or absent / None.
  bool has_tensor(const torch::jit::Module& m, const char* attr) const { return m.hasattr(attr) && m.attr(attr).isTensor(); }
  // An optional int (groups, start_dim), `def` when absent.
  int64_t opt_int(const torch::jit::Module& m, const char* attr, const std::string& layer, int64_t def) const {
    if (!m.hasattr(attr)) return def;
    const auto v = ints(m, attr, layer);
    if (v.size() != 1) fail(layer, std::string("attribute ") + attr + " is not one int");
    return v[0];
  }

  void visit(const torch::jit::Module& mod, const std::string& prefix) {
    for (const auto& child : mod.named_children()) {
      const std::string path = prefix.empty() ? child.name : prefix + "." + child.name;
      std::string node_name = path;
      for (auto& ch : node_name)
        if (ch == '.') ch = '_';
      const std::string type = child.value.type()->name() ? child.value.type()->name()->name() : "?";
      const int prev = int(g.nodes.size()) - 1;
      Node n;
      n.name = node_name;
      n.inputs = {prev};
      if (type == "Sequential" || type == "ModuleList") {
        visit(child.value, path);
        continue;
      } else if (type == "Dropout" || type == "Identity") {
        continue;
      } else if (type == "Conv2d") {
        const auto w = tensor(child.value, "weight", path, 4);
        if (square(child.value, "dilation", path) != 1) fail(path, "dilation other than 1 is not supported");
        if (opt_int(child.value, "groups", path, 1) != 1) fail(path, "grouped convolution is not supported");
        n.kind = OpKind::conv;
        n.out_channels = int(w.size(0)), n.in_channels = int(w.size(1)), n.kernel = int(w.size(2));
        if (w.size(2) != w.size(3)) fail(path, "only square kernels are supported");
        n.stride = square(child.value, "stride", path);
        n.padding = square(child.value, "padding", path);
        n.bias = has_tensor(child.value, "bias");
      } else if (type == "Linear") {
        const auto w = tensor(child.value, "weight", path, 2);
        n.kind = OpKind::linear;
        n.out_channels = int(w.size(0)), n.in_channels = int(w.size(1));
        n.bias = has_tensor(child.value, "bias");
      } else if (type == "BatchNorm2d") {
        n.kind = OpKind::batchnorm;
        n.out_channels = int(tensor(child.value, "running_mean", path, 1).size(0));
        if (child.value.hasattr("eps")) {
          if (!child.value.attr("eps").isDouble()) fail(path, "attribute eps is not a number");
          n.bn_eps = child.value.attr("eps").toDouble();
        }
      } else if (type == "ReLU") {
        n.kind = OpKind::relu;
      } else if (type == "MaxPool2d" || type == "AvgPool2d") {
        n.kind = type == "MaxPool2d" ? OpKind::maxpool : OpKind::avgpool;
        n.kernel = square(child.value, "kernel_size", path);
        n.stride = !child.value.hasattr("stride") || child.value.attr("stride").isNone() ? n.kernel
                                                                                         : square(child.value, "stride", path);
        if (child.value.hasattr("padding") && square(child.value, "padding", path) != 0)
          fail(path, "padded pooling is not supported");
      } else if (type == "AdaptiveAvgPool2d") {
        if (square(child.value, "output_size", path) != 1) fail(path, "only AdaptiveAvgPool2d(1) is supported");
        n.kind = OpKind::global_avgpool;
      } else if (type == "Flatten") {
        if (opt_int(child.value, "start_dim", path, 1) != 1) fail(path, "only Flatten(start_dim=1) is supported");
        n.kind = OpKind::flatten;
      } else {
        fail(path, "unsupported layer type '" + type +
                       "' (supported: Conv2d, Linear, BatchNorm2d, ReLU, MaxPool2d, AvgPool2d, "
                       "AdaptiveAvgPool2d(1), Flatten, Dropout, Identity, Sequential)");
      }
      g.nodes.push_back(n);
      layers.emplace_back(node_name, child.value);
    }
  }
};

// LibTorch's loader is not safe on a corrupt archive: the fuzzer (tests/fuzz) finds files
// that make it read a wild address within seconds. So the file is first loaded in a child
// process; a child killed by a signal means the file crashes LibTorch, which is the file's
// fault (exit 2), not a crash of lpsim. A child that cannot be made, or that has not
// finished after a minute, leaves the load to this process as before.
void load_in_child_first(const std::filesystem::path& file) {
  const pid_t pid = ::fork();
  if (pid < 0) return;
  if (pid == 0) {
    int code = 0;
    try {
      (void)torch::jit::load(file.string());
    } catch (...) {
      code = 3;  // an exception: this process will catch it and say what it was
    }
    ::_exit(code);
  }
  int status = 0;
  for (int waited_ms = 0;; waited_ms += 5) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0) return;
    if (waited_ms > 60000) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != 3))
    throw InputError(fmt::format("not a loadable TorchScript module: LibTorch's loader crashed on it ({})",
                                 WIFSIGNALED(status) ? fmt::format("signal {}", WTERMSIG(status))
                                                     : fmt::format("exit {}", WEXITSTATUS(status))),
                     file.string());
}

}  // namespace

GraphNet import_torchscript(const std::filesystem::path& file, const InputShape& in) {
  if (!std::filesystem::exists(file)) throw InputError("TorchScript file not found", file.string());
  load_in_child_first(file);
  torch::jit::Module m;
  try {
    m = torch::jit::load(file.string());
  } catch (const c10::Error& e) {
    throw InputError(std::string("not a loadable TorchScript module: ") + e.what_without_backtrace(), file.string());
  } catch (const std::exception& e) {  // torch::jit::ErrorReport and others (found by fuzzing)
    std::string what = e.what();
    if (const size_t nl = what.find('\n'); nl != std::string::npos) what.resize(nl);
    throw InputError("not a loadable TorchScript module: " + (what.empty() ? std::string("its code does not compile") : what),
                     file.string());
  }
  return import_torchscript_module(m, file.string(), "torchscript:" + file.filename().string(), in);
}

GraphNet import_torchscript_module(torch::jit::Module m, const std::string& label, const std::string& arch,
                                   const InputShape& in) {
  const std::filesystem::path file = label;  // what the messages name
  // Any LibTorch error below (an attribute of an unexpected type or shape) is the
  // module's fault: the layer being read is named where known.
  try {
  m.eval();
  Importer imp{label, {}, {}};
  imp.g.arch = arch;
  imp.g.input_channels = in.channels, imp.g.input_height = in.height, imp.g.input_width = in.width;
  imp.g.classes = in.classes;
  imp.visit(m, "");
  if (imp.g.nodes.empty()) throw InputError("module has no supported layers", file.string());
  for (const Node& n : imp.g.nodes)
    if (n.name.empty()) throw InputError("unnamed layer", file.string());
  GraphNet net(imp.g);
  {
    torch::NoGradGuard ng;
    for (size_t i = 0; i < imp.layers.size(); ++i) {
      const Node& n = imp.g.nodes[i];
      const auto& src = imp.layers[i].second;
      auto copy = [&](torch::Tensor& dst, const char* attr) { dst.copy_(imp.tensor(src, attr, n.name)); };
      if (n.kind == OpKind::conv) {
        copy(net->conv(int(i))->weight, "weight");
        if (n.bias) copy(net->conv(int(i))->bias, "bias");
      } else if (n.kind == OpKind::linear) {
        copy(net->linear(int(i))->weight, "weight");
        if (n.bias) copy(net->linear(int(i))->bias, "bias");
      } else if (n.kind == OpKind::batchnorm) {
        auto& bn = net->bn(int(i));
        copy(bn->weight, "weight"), copy(bn->bias, "bias");
        copy(bn->running_mean, "running_mean"), copy(bn->running_var, "running_var");
      }
    }
  }
  net->eval();
  // The importer assumes forward() is the children in order: check on a probe input.
  torch::NoGradGuard ng;
  torch::manual_seed(0);
  auto probe = torch::randn({4, in.channels, in.height, in.width});
  const std::string shape =
      std::to_string(in.channels) + "x" + std::to_string(in.height) + "x" + std::to_string(in.width);
  torch::Tensor want, got;
  try {
    want = m.forward({probe}).toTensor();
    got = net->forward(probe);
  } catch (const std::exception& e) {
    throw InputError("module does not run on the dataset's " + shape + " images as a sequence of its layers: " +
                         e.what(),
                     file.string());
  }
  if (want.dim() != 2 || want.size(0) != probe.size(0))
    throw InputError("module's output on " + shape + " images has shape " + c10::str(want.sizes()) +
                         ", expected (batch, classes)",
                     file.string());
  if (want.size(1) != in.classes)
    throw InputError("module outputs " + std::to_string(want.size(1)) + " values per image but the dataset has " +
                         std::to_string(in.classes) + " classes",
                     file.string());
  if (!want.sizes().equals(got.sizes()) ||
      (want - got).abs().max().item<double>() > 1e-4 * (1 + want.abs().max().item<double>()))
    throw InputError("forward() is not the sequence of the module's children (lpsim imports sequential models)",
                     file.string());
  return net;
  } catch (const c10::Error& e) {
    throw InputError(std::string("unexpected module content: ") + e.what_without_backtrace(), label);
  }
}

std::string torchscript_key(const std::filesystem::path& file, const std::string& data_key) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError("cannot read", file.string());
  uint64_t h = fnv1a("lpsim-torchscript");
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), std::streamsize(buf.size()));
    h = fnv1a(std::string_view(buf.data(), size_t(in.gcount())), h);
  }
  return fmt::format("torchscript:{}:{:016x}|data:{}", file.filename().string(), h, data_key);
}

}  // namespace lpsim::nn
