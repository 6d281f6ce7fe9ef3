// What `lpsim sim` streams through the SystemC array (sim/accelerator.h): for one
// quantisation configuration of a scenario's network, every conv/linear layer as an
// integer GEMM on real test images — the operand codes exactly as the executor's MAC
// receives them (im2col'ed activations, M = images × output positions), the executor's
// own accumulator values for the bit-exact check, and the executor's gate-level price of
// the layer on the same dataflow (nn/pricing.h) for the reconciliation. Torch-free.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "nn/scenario.h"

namespace lpsim::nn {

struct SimLayer {
  std::string name;
  std::string kind;             // conv | linear
  int64_t M = 0, K = 0, N = 0;  // M = images × positions
  int64_t positions = 0;        // output positions per image
  int a_bits = 8, w_bits = 8, acc_bits = 32;
  bool is_signed = true, saturate = false;
  std::string format;                  // "" integer operands; fp8_e4m3 | fp8_e5m2 (FP32 accumulation);
                                       // pann: unsigned a, w̃ in w_bits (sign + |w̃|), two unsigned sums;
                                       // luq4: INT4 a (5 bits: an unsigned code), radix-2 FP4 w codes
  std::vector<uint64_t> a, w;          // operand codes (low a_bits / w_bits), M×K and K×N
  std::vector<int64_t> executor_acc;   // M×N: the executor's accumulator values (FP8: FP32 codes)
  // Zero points (asymmetric uintN; PANN's activations): the array computes the raw Σ q_a·q_w in the MAC's
  // register; the executor's result is the centred sum (nn/executor.h) — raw plus
  // correction[m][n] = −z_w[n]·Σ_k q_a[m][k] − z_a·Σ_k q_w[k][n] + K·z_a·z_w[n], wrapped to a
  // signed acc_bits value (wrap) or, after the raw register saturated, clamped to it.
  std::vector<int64_t> correction;     // M×N, empty without zero points
  int64_t centred(int64_t raw, size_t j) const;  // the executor's value from the array's raw one
  bool simulable = true;
  std::string note;                    // why a layer is not simulated
  // The executor's gate-level price of the layer's PE on the same dataflow (sampled chains).
  double executor_pj_per_mac = 0, executor_ci95_pj = 0;
  std::string executor_unit;
};

struct SimWorkload {
  std::string model, config;
  int images = 0;
  std::vector<SimLayer> layers;
};

// The configuration named `config` of scenario s (its model trained or loaded from the
// cache, calibrated as `lpsim run` does). A LUQ training configuration (training: {method:
// luq}) is one training step on `images` training images from the trained FP32 network:
// per layer its forward, input-gradient and weight-gradient GEMMs (layers named
// "<layer>.forward" etc.; nn/sim_workload.cpp says which operand goes where). InputError (naming the configuration's place in
// the file) when the configuration is not one the array runs: FP32 or floating formats
// other than FP8, a PANN search or PANN-aware training, mixed signedness (PANN aside),
// low-precision training, non-data calibration.
// price: also price each layer as the executor does (gate-level, hardware.energy_vectors).
SimWorkload sim_workload(const Scenario& s, const std::string& config, int images, const std::string& dataflow,
                         bool price, bool progress);

// Whether configuration c is one the array can run ("" if so, else why not).
std::string sim_config_problem(const QuantConfigSpec& c);

}  // namespace lpsim::nn
