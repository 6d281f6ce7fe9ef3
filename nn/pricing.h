// Energy and area of a quantised layer's MAC unit on the layer's own operands: a stream
// sampled from the real tensors in the order a weight-stationary PE sees them (one weight
// held, a run of consecutive activations streaming past), priced gate-level by
// power_models (mean and 95 % interval) or by the analytic PANN model.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "nn/executor.h"
#include "power_models/energy_model.h"

namespace lpsim::nn {

struct HardwareConfig {
  std::string mac_arch = "array";      // array | booth (integer MACs)
  uint64_t energy_vectors = 1 << 14;   // sampled operations per layer (gate)
  int run_length = 64;                 // activations streamed per held weight
  uint64_t seed = 1;
};

struct LayerPrice {
  bool priced = false;
  std::string unit;        // e.g. "mac int8x8 acc32 array"
  std::string note;        // why a layer is not priced
  double pj_per_mac = 0, ci95_pj = 0;
  double area_um2 = 0, nand2 = 0;
};

// The MAC unit of a layer's formats (OpKey for power_models) and the raw operand codes
// (activation, weight) of a weight-stationary sample of its operands.
struct MacStream {
  bool ok = false;
  std::string note;  // why there is no unit
  power::OpKey key;
  std::vector<std::pair<uint64_t, uint64_t>> operands;
};
MacStream sample_mac_stream(const LayerQuant& q, const LayerOperands& ops, uint64_t n, int run_length, uint64_t seed);

// gate prices the sampled stream; analytic (optional) prices by the PANN model instead.
LayerPrice price_layer(const LayerQuant& q, const LayerOperands& ops, const HardwareConfig& hw,
                       power::GateLevelEnergyModel& gate, power::AnalyticPannEnergyModel* analytic);

// Horowitz (ISSCC 2014, 45 nm) FP32 multiply + add: the FP32 reference's price per MAC
// (lpsim has no FP32 multiplier RTL).
inline constexpr double kHorowitzFp32MacPj = 3.7 + 0.9;

}  // namespace lpsim::nn
