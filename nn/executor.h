// Bit-exact quantised execution of a Graph. Every conv/linear layer runs as the MAC
// hardware would: weights and activations rounded onto their formats by arith::quantize
// (the one quantiser in lpsim), products summed exactly in an integer accumulator of
// acc_bits (two's-complement wrap or saturate, as the rtl/ mac) or, for floating
// operands, in sequential FP32 (as the rtl/ fp8_mac), then rescaled. BatchNorm that
// follows a conv is folded into it first. Other layers run in float32.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "arith/format.h"
#include "arith/rounding.h"
#include "nn/net.h"

namespace lpsim::nn {

struct LayerQuant {
  bool quantised = false;           // false: the layer runs in FP32
  arith::NumberFormat weights = arith::IntFormat{8, true};
  arith::NumberFormat activations = arith::IntFormat{8, true};
  std::string accumulator = "int";  // int (acc_bits, overflow) | fp32 (sequential RNE)
  int acc_bits = 32;
  arith::Overflow acc_overflow = arith::Overflow::wrap;  // wrap | saturate
  bool per_channel = true;          // weight scale per output channel, else per tensor
};

// What one conv/linear layer does per image, from its shapes.
struct LayerCost {
  std::string name;
  int node = -1;
  int64_t M = 0, K = 0, N = 0;  // output positions, reduction length, output channels
  int64_t macs = 0;             // M·K·N
  int64_t additions = 0;        // bias additions (one per output)
  int64_t weight_bits = 0, input_bits = 0, output_bits = 0;  // memory traffic per image
};

// The operands of one layer on one batch, as grid values (integers for int formats):
// cols (M_total × K, the im2col'ed activations) and w (K × N). For energy sampling and
// for checking against the golden MAC.
struct LayerOperands {
  torch::Tensor cols, w;
};

class QuantizedExecutor {
 public:
  // net must be trained; layers[i] configures node i (entries for non-gemm nodes ignored).
  QuantizedExecutor(GraphNet net, std::vector<LayerQuant> layers, int threads = 2);

  // Activation scales: max |input| of each quantised layer over `images` (run in FP32
  // with BN folded) mapped onto the format's largest magnitude.
  void calibrate(const torch::Tensor& images);

  torch::Tensor forward(const torch::Tensor& images);

  // Accumulator values (before rescaling; float32 when exact in it, else float64) of gemm
  // node i on its input, with the operands.
  torch::Tensor accumulate(int node, const torch::Tensor& input, LayerOperands* operands = nullptr);

  // Records each quantised layer's operands during the next forward() call.
  void record_next_forward() { record_ = true; }
  const std::vector<LayerOperands>& recorded() const { return recorded_; }  // indexed by node

  // Per-layer costs per image (valid after a forward call).
  std::vector<LayerCost> costs() const;
  // Outputs whose exact sum left the accumulator range, per node, since construction.
  const std::vector<int64_t>& out_of_range() const { return out_of_range_; }
  const std::vector<int64_t>& outputs_seen() const { return outputs_seen_; }

  const Graph& graph() const { return net_->graph(); }
  const LayerQuant& layer(int i) const { return layers_.at(i); }
  float input_scale(int i) const { return act_scale_.at(i); }

 private:
  torch::Tensor gemm(int i, const torch::Tensor& x, bool quantise);
  torch::Tensor to_grid(const arith::NumberFormat& f, torch::Tensor x, bool in_place) const;

  GraphNet net_;
  std::vector<LayerQuant> layers_;
  int threads_;
  std::vector<bool> folded_bn_;                 // BN nodes folded into their conv
  std::vector<torch::Tensor> weight_, bias_;    // folded float weights (N × K) and bias
  std::vector<torch::Tensor> wgrid_, wscale_;   // weight grid values (N × K) and scales (N)
  std::vector<float> act_scale_;
  std::vector<std::vector<int64_t>> in_shape_;  // per-image input shape seen at each node
  std::vector<std::vector<int64_t>> out_shape_;
  std::vector<int64_t> out_of_range_, outputs_seen_;
  std::vector<LayerOperands> recorded_;
  bool record_ = false;
};

// Largest magnitude of a format (the value max|x| is mapped to).
double format_max(const arith::NumberFormat& f);

}  // namespace lpsim::nn
