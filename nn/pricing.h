// Energy and area of a layer's processing element on the layer's own operands, in the
// order a dataflow feeds them, priced gate-level by power_models (or by the analytic
// PANN model). Every configuration, the FP32 reference included, is priced by the same
// flow: integer MACs on rtl/mac (mac_ws), FP8 on fp8_mac (fp8_mac_ws), FP32 on fp_mac
// (fp_mac_ws). Horowitz's 45 nm table is only a labelled extra column.
//
// Dataflows (hardware.dataflow):
//  * output_stationary (default): a PE accumulates one output's K products in k-order in
//    its own register, cleared between outputs — the semantics the executor computes
//    (the register, its width and its overflow are the accumulator the user configures).
//    A chain is one output: a clear cycle, then K multiply-accumulates.
//  * weight_stationary: a PE holds w[k][n] and adds its product to the partial sum
//    Σ_{k'<k} arriving from the PE above (in the accumulator's semantics), registering the
//    result and forwarding the activation; output positions stream past, ws_run per weight
//    load (for linear layers consecutive positions are consecutive images: a batch). A
//    chain is one weight load, then ws_run partial-sum updates.
// Chains are drawn at random (seeded) from every output position of the recorded images
// (which run_scenario draws across the test set); slots of 64 chains run in the 64 lanes
// of the gate simulator, and the 95 % interval is a Student-t interval over slot means.
#pragma once

#include <bit>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "arith/float_format.h"
#include "nn/executor.h"
#include "power_models/energy_model.h"

namespace lpsim::nn {

enum class Dataflow { output_stationary, weight_stationary };
Dataflow parse_dataflow(const std::string& s);  // InputError on anything else
const char* dataflow_name(Dataflow d);

struct HardwareConfig {
  std::string mac_arch = "array";      // array | booth (integer MACs)
  Dataflow dataflow = Dataflow::output_stationary;
  uint64_t energy_vectors = 1 << 14;   // sampled MACs per layer (at least min_slots × 64 chains)
  int ws_run = 64;                     // output positions per weight load (weight-stationary; see ws_run_length)
  int min_slots = 20;                  // batches of 64 chains behind each interval
  uint64_t seed = 1;
  // The user's own MAC (scenario hardware.mac: {rtl: ...}), verified, registered with the
  // gate-level model under the arch name "user": the integer configurations whose operand
  // widths, signedness, accumulator and overflow are its own are priced on it.
  struct UserMac {
    std::string top;
    int a_bits = 8, b_bits = 8, acc_bits = 32;
    bool is_signed = true;
    std::string overflow = "wrap";
  };
  std::optional<UserMac> user_mac;
};

struct LayerPrice {
  bool priced = false;
  std::string unit;        // e.g. "mac int8x8 acc32 array"
  std::string note;        // why a layer is not priced
  double pj_per_mac = 0, ci95_pj = 0;
  uint64_t batches = 0, sampled_macs = 0;
  double area_um2 = 0, nand2 = 0;
  // Run-time zero-point correction (z_w·Σ_k q_a per output; weights with a zero point):
  // energy per image, on the gate-level accumulator/multiplier/adder units.
  double correction_pj_per_image = 0, correction_ci95_pj = 0;
  std::string correction_unit;
  double horowitz_pj_per_mac = 0;  // Horowitz ISSCC 2014 45 nm, where the table has the operation (else NaN)
  // Per-channel widths: the share of the layer's MACs in each (activation, weight) width
  // group, e.g. "a4w4 62%, a3w4 20%" ("" for a uniform layer).
  std::string mix;
  double area_mixed_um2 = 0;  // per-channel widths: the MAC-weighted mean area of the groups' MACs
};

// The raw code of an operand value on a unit's port: the float's own bits (FP32 units),
// the code of a floating-point format for value / unit, or an integer's two's-complement
// low bits. One coder for every recorded stream (inference layers, training steps).
struct OperandCoder {
  bool float_bits = false;
  std::optional<arith::FloatFormat> fmt;
  double unit = 1;  // fmt: the value of one format unit
  uint64_t mask = ~uint64_t{0};
  static OperandCoder fp32() { return {true, std::nullopt, 1, ~uint64_t{0}}; }
  static OperandCoder integer(int bits) { return {false, std::nullopt, 1, (uint64_t{1} << bits) - 1}; }
  static OperandCoder format(const arith::FloatFormat& f, double unit = 1) { return {false, f, unit, ~uint64_t{0}}; }
  uint64_t operator()(float v) const {
    if (float_bits) return std::bit_cast<uint32_t>(v);
    if (fmt) return arith::encode(*fmt, double(v) / unit).code;
    return uint64_t(int64_t(v)) & mask;
  }
};

// The PE of a layer under a dataflow: the OpKey priced and the unit's label; ok = false
// with a note when no RTL unit implements the layer's arithmetic.
struct PeUnit {
  bool ok = false;
  std::string note;
  power::OpKey key;
  std::string label;
};
PeUnit pe_unit(const LayerQuant& q, const HardwareConfig& hw);

// Weight-stationary run: positions streamed per weight load — the largest divisor of the
// recorded positions not above hw.ws_run, so that runs tile the positions (as an array
// streams them) and every position is equally likely in a sample.
int64_t ws_run_length(const HardwareConfig& hw, int64_t positions);

// Chains of one layer for a sequential PE (power::ChainStep): `chains` drawn at random
// with `seed`, or every chain of the layer when chains == 0 (exhaustive).
struct LayerChains {
  std::vector<power::ChainStep> steps;
  uint32_t len = 0, ops = 0;
  uint64_t count = 0;
};
LayerChains layer_chains(const LayerQuant& q, const AccRange& range, const LayerOperands& ops, const PeUnit& pe,
                         const HardwareConfig& hw, uint64_t chains, uint64_t seed);

// PANN chains on pann_mac (one per output): a clear, then for every k with w̃ ≠ 0 a start
// (activation code, |w̃|, sign) and |w̃| addition cycles with the inputs held, each start
// after the first on the last addition of the job before (done_o at count 1), the last
// job's last addition a step without a start: 2 + Σ|w̃| steps (1 if every w̃ = 0); padded
// with idle cycles to the longest chain. ops = 1: the price is per output.
LayerChains pann_chains(const LayerQuant& q, const LayerOperands& ops, uint64_t chains, uint64_t seed);
// The width of pann_mac's count of additions for a layer whose largest |w̃| is max_abs_w
// (at least 2 bits): the PE both the executor's pricing and the SystemC array use.
int pann_r_bits(double max_abs_w);

// Prices a layer: rows_per_image = output positions per image (for the correction term).
LayerPrice price_layer(const LayerQuant& q, const AccRange& range, const LayerOperands& ops, int64_t rows_per_image,
                       const HardwareConfig& hw, power::GateLevelEnergyModel& gate,
                       power::AnalyticPannEnergyModel* analytic);

// Horowitz (ISSCC 2014, 45 nm) multiply + add per MAC where the table has both: FP32
// 3.7 + 0.9 pJ, FP16 × FP16 into an FP32 add 1.1 + 0.9, INT8 × INT8 into a 32-bit add
// 0.2 + 0.1; NaN otherwise.
double horowitz_mac_pj(const LayerQuant& q);

}  // namespace lpsim::nn
