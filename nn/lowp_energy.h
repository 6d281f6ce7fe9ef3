// Energy of one training step (papers.md §2: "LUQ removes the multiplier from two thirds
// of training"), priced gate-level like every inference row (nn/pricing.h): the three
// GEMMs of every conv/linear — forward Y = X·Wᵀ, input gradient dX = G·W, weight gradient
// dW = Gᵀ·X — counted per layer and priced on the PE that computes them, on the operands
// of a real step (recorded through LowpNet::record_operands):
//
//   method   forward                  input / weight gradient
//   fp32     fp_mac fp32              fp_mac fp32
//   luq      mac int4 × int4 (an      luq_mac: INT4 weight / activation code (an unsigned
//            unsigned activation       code zero-extended to 5 bits) × radix-2 FP4 gradient
//            code is a uint4)          code — a shift and an add, no multiplier
//   fp8      fp_mac fp32              fp8_mac in the gradient's format (E4M3 or E5M2; other
//                                      formats have no RTL unit: unpriced)
//   prune    fp_mac fp32              fp_mac fp32 (the pruned zeros switch less; no skipping)
//
// Under fp8 the step computes the backward GEMMs with FP32 weights and activations; an
// FP8 MAC takes both operands in the format, so the price rounds them onto it (with a
// power-of-two scale that puts the tensor's largest magnitude in range) — the one priced
// quantity that is not the computed one, and labelled so. With SMP the backward GEMMs run
// once per sample. Every PE accumulates in its own register (integer units: 32 bits,
// output-stationary chains: a clear, then one output's products in reduction order). A
// weight-gradient reduction (batch × positions terms) is priced on windows of at most
// max_chain consecutive terms, as a tiled array would cut it. The col2im additions of
// the input gradient of a convolution are not counted (the same for every method).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "nn/gradient_spec.h"
#include "nn/lowp_train.h"
#include "nn/net.h"
#include "power_models/energy_model.h"

namespace lpsim::nn {

struct GemmEnergy {
  std::string gemm;   // forward | input_gradient | weight_gradient
  std::string unit;   // e.g. "luq_mac uint4xluq4 acc32"
  bool priced = false;
  std::string note;   // why not priced, or what the price assumes
  int64_t macs = 0;   // per step
  double pj_per_mac = 0, ci95_pj = 0;
  double area_um2 = 0;
  double energy_pj = 0, energy_ci95_pj = 0;  // per step
};

struct LayerStepEnergy {
  std::string layer;
  std::vector<GemmEnergy> gemms;  // forward, input_gradient, weight_gradient
};

struct StepEnergy {
  int64_t batch = 0;
  std::vector<LayerStepEnergy> layers;
  bool complete = true;                     // every GEMM priced
  double energy_pj = 0, energy_ci95_pj = 0;  // per step, the priced GEMMs
  double forward_pj = 0, backward_pj = 0;   // of energy_pj
};

struct StepEnergyOptions {
  int acc_bits = 32;          // integer PEs' accumulator
  uint64_t chains = 64 * 12;  // sampled output chains per GEMM
  uint32_t max_chain = 128;   // the longest reduction priced as one chain
  int64_t images = 8;         // images of the batch whose operands are sampled
  uint64_t seed = 1;          // the chain draws
};

// One forward + backward of a copy of net on (x, y) under spec's GEMMs (no weight update),
// every gemm layer's operands recorded (LowpNet::record_operands). seed: the gradient
// quantisers' draws.
struct RecordedStep {
  GraphNet net;                                // the copy the step ran on (its graph)
  std::vector<LowpNet::GemmRecord> gemms;      // per gemm layer, in LowpNet's order
};
RecordedStep record_training_step(GraphNet& net, const GradientSpec& spec, uint64_t seed, const torch::Tensor& x,
                                  const torch::Tensor& y);

// A recorded step's GEMMs priced; training_step_energy records and prices.
StepEnergy price_training_step(const RecordedStep& step, const GradientSpec& spec, power::GateLevelEnergyModel& gate,
                               const StepEnergyOptions& opt = {});
StepEnergy training_step_energy(GraphNet& net, const GradientSpec& spec, uint64_t seed, const torch::Tensor& x,
                                const torch::Tensor& y, power::GateLevelEnergyModel& gate,
                                const StepEnergyOptions& opt = {});

}  // namespace lpsim::nn
