// Fuzz target: the TorchScript layer walker (nn/torchscript.h import_torchscript_module)
// on modules built from the fuzz input — nested containers and layers of every supported
// type and some others, each attribute present or not, of the right type or another, and
// tensors of any rank and small size — rather than on archive bytes, which LibTorch's
// loader rejects (or crashes on: fuzz_torchscript) before the walker sees them. Every
// module lpsim cannot import must be an InputError naming it.
#include <fuzzer/FuzzedDataProvider.h>
#include <torch/script.h>

#include <string>
#include <vector>

#include "arith/error.h"
#include "nn/torchscript.h"

namespace {

const char* const kTypes[] = {"Sequential", "ModuleList", "Dropout",  "Identity",          "Conv2d",  "Linear", "BatchNorm2d",
                              "ReLU",       "MaxPool2d",  "AvgPool2d", "AdaptiveAvgPool2d", "Flatten", "GELU"};
const char* const kAttrs[] = {"weight",    "bias",        "running_mean", "running_var", "stride", "padding",
                              "dilation",  "groups",      "kernel_size",  "output_size", "start_dim", "eps"};

void set_attr(torch::jit::Module& m, const char* name, FuzzedDataProvider& p) {
  switch (p.ConsumeIntegralInRange<int>(0, 7)) {
    case 0: return;  // absent
    case 1: {        // a tensor of rank 0..4, sizes 0..5
      std::vector<int64_t> shape(p.ConsumeIntegralInRange<int>(0, 4));
      for (auto& d : shape) d = p.ConsumeIntegralInRange<int64_t>(0, 5);
      const bool as_int = p.ConsumeBool();
      const auto t = torch::zeros(shape, as_int ? torch::kInt64 : torch::kFloat32);
      if (std::string(name) == "weight" || std::string(name) == "bias")
        m.register_parameter(name, t, false);
      else
        m.register_buffer(name, t);
      return;
    }
    case 2: m.register_attribute(name, c10::IntType::get(), p.ConsumeIntegralInRange<int64_t>(-3, 9)); return;
    case 3: {
      std::vector<int64_t> v(p.ConsumeIntegralInRange<int>(0, 3));
      for (auto& x : v) x = p.ConsumeIntegralInRange<int64_t>(-3, 9);
      m.register_attribute(name, c10::ListType::ofInts(), c10::IValue(v));
      return;
    }
    case 4: {
      std::vector<c10::IValue> v;
      std::vector<c10::TypePtr> types;
      for (int i = p.ConsumeIntegralInRange<int>(0, 3); i > 0; --i) {
        if (p.ConsumeBool()) {
          v.emplace_back(p.ConsumeIntegralInRange<int64_t>(-3, 9));
          types.push_back(c10::IntType::get());
        } else {
          v.emplace_back(p.ConsumeFloatingPoint<double>());
          types.push_back(c10::FloatType::get());
        }
      }
      m.register_attribute(name, c10::TupleType::create(types), c10::ivalue::Tuple::create(v));
      return;
    }
    case 5: m.register_attribute(name, c10::FloatType::get(), p.ConsumeFloatingPoint<double>()); return;
    case 6: m.register_attribute(name, c10::NoneType::get(), c10::IValue()); return;
    default: m.register_attribute(name, c10::StringType::get(), c10::IValue(p.ConsumeRandomLengthString(8))); return;
  }
}

int serial = 0;

torch::jit::Module make_module(FuzzedDataProvider& p, int depth) {
  const std::string type = kTypes[p.ConsumeIntegralInRange<int>(0, depth > 1 ? 3 : 12)];
  torch::jit::Module m(c10::QualifiedName("__torch__.fuzz" + std::to_string(serial++) + "." + type));
  if (type == "Sequential" || type == "ModuleList") {
    for (int i = p.ConsumeIntegralInRange<int>(0, 4); i > 0; --i)
      m.register_module(std::to_string(i), make_module(p, depth + 1));
    return m;
  }
  for (const char* a : kAttrs) set_attr(m, a, p);
  return m;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider p(data, size);
  lpsim::nn::InputShape in;
  in.channels = p.ConsumeIntegralInRange<int>(1, 3);
  in.height = in.width = p.ConsumeIntegralInRange<int>(1, 12);
  in.classes = p.ConsumeIntegralInRange<int>(1, 10);
  torch::jit::Module root(c10::QualifiedName("__torch__.fuzz_root" + std::to_string(serial++)));
  for (int i = p.ConsumeIntegralInRange<int>(0, 8); i > 0; --i) {
    const std::string name = p.ConsumeBool() ? "l" + std::to_string(i) : p.ConsumeRandomLengthString(6);
    if (name.empty() || root.hasattr(name)) continue;
    try {
      root.register_module(name, make_module(p, 0));
    } catch (const c10::Error&) {  // a name LibTorch will not take: not the walker's concern
    }
  }
  try {
    (void)lpsim::nn::import_torchscript_module(root, "fuzz.pt", "torchscript:fuzz", in);
  } catch (const lpsim::InputError&) {
  }
  return 0;
}
