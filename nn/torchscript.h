// Bring your own model: a TorchScript module whose forward is the sequence of its
// children (nn.Sequential style, containers flattened) of Conv2d, Linear, BatchNorm2d,
// ReLU, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d(1), Flatten (Dropout / Identity
// skipped). Anything else is named in an InputError; a forward that is not that
// sequence is detected by comparing outputs on a probe input.
#pragma once

#include <filesystem>
#include <string>

#include "nn/net.h"

namespace torch::jit {
struct Module;  // <torch/script.h>, needed only where a module is made
}  // namespace torch::jit

namespace lpsim::nn {

// The module as a Graph with its weights copied into a GraphNet, checked on a probe
// input of `in` (channels × height × width): its output width must be in.classes.
GraphNet import_torchscript(const std::filesystem::path& file, const InputShape& in = {});

// The same from a module in memory (the fuzz target builds them); `label` is what error
// messages name, `arch` the graph's name.
GraphNet import_torchscript_module(torch::jit::Module m, const std::string& label, const std::string& arch,
                                   const InputShape& in = {});

// Key of the imported model for result caches: the file's content hash and the data key.
std::string torchscript_key(const std::filesystem::path& file, const std::string& data_key);

}  // namespace lpsim::nn
