// Bring your own model: a TorchScript module whose forward is the sequence of its
// children (nn.Sequential style, containers flattened) of Conv2d, Linear, BatchNorm2d,
// ReLU, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d(1), Flatten (Dropout / Identity
// skipped). Anything else is named in an InputError; a forward that is not that
// sequence is detected by comparing outputs on a probe input.
#pragma once

#include <filesystem>

#include "nn/net.h"

namespace lpsim::nn {

// The module as a Graph with its weights copied into a GraphNet (input 1×28×28).
GraphNet import_torchscript(const std::filesystem::path& file);

}  // namespace lpsim::nn
