// Bit-exact quantised execution of a Graph. Every conv/linear layer runs as the MAC
// hardware would: weights and activations rounded onto their formats by arith::quantize
// (the one quantiser in lpsim), products summed exactly in an integer accumulator of
// acc_bits (two's-complement wrap or saturate, as the rtl/ mac) or, for floating
// operands, in sequential FP32 (as the rtl/ fp8_mac / fp_mac), then rescaled. BatchNorm
// that follows a conv is folded into it first. Other layers run in float32.
//
// Scales: symmetric formats (intN, floating point) map max|x| onto the format's largest
// value (floating formats wider than 2^16 onto 2^16, so products and sums stay inside
// FP32); unsigned integer formats are asymmetric, as gemmlowp/TFLite: real = s·(q − z)
// with an integer zero point z, from [min(x, 0), max(x, 0)]. Scales are doubles; the
// rescale runs in float32 where the combined scale is a normal float, else in double.
//
// Accumulator semantics (what is bit-exact): the MAC multiplies raw codes q_a·q_w (an
// unsigned operand beside a signed one is zero-extended) into an acc_bits register of
// the MAC's signedness. With zero points the result is the centred sum
// C = Σ(q_a − z_a)(q_w − z_w) = Σq_a·q_w − z_w·Σq_a − z_a·Σq_w + K·z_a·z_w: the last two
// terms are per-channel constants (folded into the bias offline), z_w·Σq_a is a run-time
// correction (row sums of the activations). Wrap: everything modulo 2^acc_bits (as
// gemmlowp's int32 arithmetic), so the result is C wrapped into the output range (signed
// when there is a zero point or a signed operand). Saturate: the raw register saturates
// in the PE's k-order, the corrections are then applied exactly and the result clamped.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "arith/aciq.h"
#include "arith/format.h"
#include "arith/rounding.h"
#include "nn/net.h"
#include "nn/operand_formats.h"

namespace lpsim::nn {

struct LayerQuant {
  bool quantised = false;           // false: the layer runs in FP32
  arith::NumberFormat weights = arith::IntFormat{8, true};
  arith::NumberFormat activations = arith::IntFormat{8, true};
  // int (acc_bits, overflow) | fp32 (sequential RNE) | for LNS operands (arith/lns.h, both
  // the same L(W_e, b)): linear (unit A: log-multiply, exact Kulisch sum of width
  // arith::lns_linear_acc_bits: it cannot overflow; acc_bits does not
  // apply), log (unit B: the sum kept in the log domain with lns_acc_frac fraction bits,
  // sb/db tables) or mitchell (unit C: B with Mitchell's approximation, no table). B and C
  // add the K products in k order (the order is part of their result).
  std::string accumulator = "int";
  // The LNS units' parameters (0: arith::lns_default_alpha / lns_default_acc_frac); a unit
  // is sized for max(K, arith::kLnsUnitTerms) products, as the PE that is priced.
  int lns_alpha = 0;     // unit A's table fraction bits α
  int lns_acc_frac = 0;  // units B/C: fraction bits F_acc of the sum's log
  int acc_bits = 32;
  arith::Overflow acc_overflow = arith::Overflow::wrap;  // wrap | saturate
  bool per_channel = true;          // weight scale per output channel, else per tensor
  // PANN (papers.md §1): weights w ≈ γ·w̃ with integer w̃ and mean|w̃| = pann_R per output
  // channel (or per tensor); activations unsigned (a uintN format, zero point where the
  // input can be negative). x·w̃ is |w̃| additions of x into one of two unsigned
  // accumulators (positive / negative weights), subtracted once per output.
  bool pann = false;
  double pann_R = 1.0;
  // The signed network run on an unsigned MAC (papers.md §1, "unsigned arithmetic"):
  // weights and activations keep the symmetric intN grid of `offset_bits` bits and scale,
  // but their codes are offset by 2^(b−1) into uintN (activations only where the layer's
  // input can be negative; post-ReLU codes are already ≥ 0). The formats are then uintN
  // with those zero points, so the outputs are bit-identical to the signed network and the
  // offsets' corrections are priced like any zero point's. 0: off.
  int offset_bits = 0;
  // ---- Clipped post-training quantisation (papers.md §4)
  // Activation range: "max" (the calibration range, nothing clipped; "none" is the same
  // quantiser), "aciq" (α = α*(prior, M)·scale of the prior fitted to the calibration
  // data; one-sided — exponential / half-normal on the positive part — where the input is
  // never negative, e.g. after ReLU) or "mse" (the α that minimises the quantisation MSE
  // measured on the calibration data: the numerical reference for the closed form).
  // α never exceeds the observed range (clipping beyond it cannot help on that data).
  std::string clip = "max";
  std::string prior = "laplace";  // laplace | gauss | auto (the better likelihood, per tensor or channel)
  // A scale per input channel (per feature for linear layers). One integer sum cannot mix
  // arbitrary scales, so channel scales are powers of two below the largest,
  // s_c' = s_max·2^(−e_c) ≥ s_c (e_c ≤ 8): the MAC receives Q(x_c/s_c') and shifts it left
  // by e_max − e_c (a wire shift) into one exact sum with output scale s_max·2^(−e_max).
  // Weights are untouched. A two-sided input on an unsigned format (one zero point) stays
  // per tensor.
  bool per_channel_activations = false;
  // Per output channel: ŵ = ξ·(w_q − mean w_q) + mean w (arith::bias_correction). Run as a
  // scale ξ folded into the channel's weight scale and an offset o_n times the row sum of
  // the activations, added with the bias (priced as a run-time correction).
  bool bias_correction = false;
  // Activation bias correction (the reference code's -bca): per output channel, the mean
  // of (FP32 output − quantised output) over the calibration images, each layer fed its
  // FP32 input, added to the bias of the quantised layer (free at run time). Clipping
  // shrinks activations, so a clipped network's layer outputs drift low; in a residual
  // network the drift adds up along the skip connections.
  bool activation_bias_correction = false;
  // Per-channel bit allocation (eq. 10–11): > 0 is the target mean width. Weights: per
  // output channel (signed intN weights, widths 2..8: int1 has no positive level);
  // activations: per input channel (implies per_channel_activations; widths 0..8 on
  // unsigned formats, 2..8 on signed). A channel's width is its MAC's width.
  double weight_mean_bits = 0, activation_mean_bits = 0;
  arith::BitRounding bit_rounding = arith::BitRounding::round;
  // Filled in by the executor: the width of every output channel's weights and of every
  // input channel's activations (empty: the format's width throughout).
  std::vector<int> weight_channel_bits, activation_channel_bits;
};

// γ with mean|round(w/γ)| as close to R as the step function allows (the larger γ on a
// tie), by bisection on log γ; w̃ = round(w/γ) stays within ±32767.
double pann_gamma(const float* w, int64_t n, double R);

// ---- The quantiser arithmetic, shared by the executor and by quantisation-aware
// training (nn/pann_train.h): one definition, so that what is trained is what is run.

// x (already divided by its scale, zero point added) rounded onto f's grid by
// arith::quantize (float32 grid values: raw codes of integer formats). in_place: x is the
// caller's contiguous float32 temporary and is rounded where it lies.
torch::Tensor round_to_grid(const arith::NumberFormat& f, torch::Tensor x, int threads, bool in_place = false);

// A layer's activation scale and zero point from its input's range over the calibration
// images: unsigned formats asymmetric, s = (hi − lo)/(2^b − 1) and z = round(−lo/s) over
// [min(lo, 0), max(hi, 0)]; the others symmetric, max|x| onto scale_target(f).
struct ActivationScale {
  double scale = 1.0, zero = 0.0;
};

// What calibration chose for one layer's activations, for the report.
struct ActivationClip {
  std::string clip = "max";  // max | aciq | mse
  bool one_sided = false;    // the calibration input was never negative
  bool per_channel = false;
  int laplace = 0, gauss = 0;  // channels (or 1 for the tensor) clipped under each prior (aciq)
  double alpha_mean = 0, range_mean = 0;  // mean clip and mean observed max|x| (over channels)
  double bits_mean = 0;                  // mean activation width
  int shift_max = 0;                     // per channel: the largest left shift e_max
  std::string note;                      // e.g. why per-channel fell back to per tensor
};
// offset_bits > 0 (LayerQuant::offset_bits): the symmetric int<offset_bits> scale, zero
// point 2^(offset_bits−1) if lo < 0, else 0.
ActivationScale activation_scale(const arith::NumberFormat& f, double lo, double hi, double max_abs,
                                 int offset_bits = 0);

// Activation codes q = Q(x/s + z) (x/s in float32 where 1/s is a normal float, else in double).
// offset_bits > 0: the signed int<offset_bits> code of x/s, plus the zero point.
torch::Tensor activation_codes(const arith::NumberFormat& f, const torch::Tensor& x, double scale, double zero,
                               int threads, int offset_bits = 0);

// A quantised layer's N × K weights (float64) as the executor holds them: per output
// channel (or per tensor, repeated) a scale and a zero point (float64, N) and the grid
// codes (float32, N × K); real w ≈ scale·(code − zero). PANN: scale = γ (pann_gamma),
// codes w̃; asymmetric formats: [min, max] with a zero point; others: max|w| onto
// scale_target; per-channel widths (q.weight_channel_bits): max|w| onto 2^(M_n−1) − 1.
// Checks nothing (the executor validates the layer first).
struct WeightGrid {
  torch::Tensor scale, zero, codes;
};
WeightGrid quantise_weights(const LayerQuant& q, const torch::Tensor& w2, int threads);

// conv/linear node i's weight and bias (float64; a missing bias is zeros), with a
// BatchNorm that is the conv's only consumer folded in (eval-mode running statistics,
// BN parameters detached): w' = w·γ/√(σ²+ε), b' = (b − μ)·γ/√(σ²+ε) + β. Connected to
// the conv/linear parameters under autograd. bn: the folded BN node, or −1.
struct FoldedGemm {
  torch::Tensor w, b;
  int bn = -1;
};
FoldedGemm fold_gemm(GraphNetImpl& net, int i);

// What one conv/linear layer does per image, from its shapes.
struct LayerCost {
  std::string name;
  int node = -1;
  int64_t M = 0, K = 0, N = 0;  // output positions, reduction length, output channels
  int64_t macs = 0;             // M·K·N
  int64_t additions = 0;        // bias additions (one per output)
  int64_t pann_additions = 0;   // PANN: Σ|w̃| additions of activations (per image)
  int64_t pann_starts = 0;      // PANN: nonzero weights met (a start cycle each, per image)
  double pann_R = 0;            // PANN: the mean|w̃| achieved
  int64_t weight_bits = 0, input_bits = 0, output_bits = 0;  // memory traffic per image
};

// A conv/linear node's input as GEMM rows: (images · output positions) × K, rows in
// (image, position) order (im2col for a convolution, padding as zeros; a linear layer's
// input flattened per image).
torch::Tensor im2col_rows(const Node& nd, const torch::Tensor& x);

// The operands of one layer on one batch, as grid values (integers for int formats):
// cols (M_total × K, the im2col'ed activations) and w (K × N). For energy sampling and
// for checking against the golden MAC.
struct LayerOperands {
  // float32 grid values (raw codes of integer and LNS formats); FP32 layers: the float values
  torch::Tensor cols, w;
  bool fp32 = false;      // an unquantised (FP32) layer
  double act_zero = 0;    // zero point of the activations (asymmetric formats)
  torch::Tensor weight_zero;  // float64 (N): zero point of each output channel's weights
  // Bias correction: per output channel the offset in weight-code units (ζ_n = o_n/s_n),
  // multiplied by the activation row sums at run time. Undefined: none.
  torch::Tensor weight_offset;
  // LNS layers: the sticky overflow (A) or saturation (B, C) flag of each output (bool, M × N).
  torch::Tensor lns_flags;
  // The real operands behind the codes (quantised layers): the im2col'ed FP32 input
  // (M × K, float32), the folded weights (K × N, float64) and each output channel's weight
  // scale (float64, N); the activation scale is the executor's input_scale(). For
  // measuring a unit's error against FP64 (nn/dot_error.h).
  torch::Tensor cols_real, w_real, weight_scale;
  // Recorded by forward(): the layer's accumulator values as accumulate() returns them
  // (before rescaling), for checking another engine (sim/, the SystemC array) against them.
  torch::Tensor acc;
};

// Integer accumulator range of a quantised layer (see the semantics above).
// The LNS units of a layer with LNS operands (arith/lns.h), from its LayerQuant and K.
bool is_lns_accumulator(const std::string& accumulator);
arith::LnsLinearAcc lns_linear_unit(const LayerQuant& q, int64_t K);
arith::LnsLogAcc lns_log_unit(const LayerQuant& q, int64_t K);

struct AccRange {
  bool mac_signed = true;   // the MAC's register: signed if either operand format is
  bool out_signed = true;   // the corrected result: signed if there is a zero point too
  int bits = 32;
  double lo(bool is_signed) const;
  double hi(bool is_signed) const;
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
  // Outputs that differ from the exact sum because of the accumulator's width, per node,
  // since construction: wrap — the centred sum is outside the output range; saturate —
  // some partial sum (k-order) hit a rail, or the corrected result was clamped.
  const std::vector<int64_t>& out_of_range() const { return out_of_range_; }
  const std::vector<int64_t>& outputs_seen() const { return outputs_seen_; }
  // Largest |value| the accumulator had to hold, per node: wrap — the centred sums;
  // saturate — the exact (unclamped) raw partial sums where a rail was reachable, else the
  // centred sums. acc_bits_needed() turns it into a width.
  const std::vector<double>& acc_max_abs() const { return acc_max_abs_; }
  int acc_bits_needed(int node) const;
  AccRange acc_range(int node) const;

  const Graph& graph() const { return net_->graph(); }
  const LayerQuant& layer(int i) const { return layers_.at(i); }
  double input_scale(int i) const { return act_scale_.at(i); }
  double input_zero(int i) const { return act_zero_.at(i); }
  const ActivationClip& input_clip(int i) const { return act_clip_.at(i); }
  // Per channel: each input channel's scale s_c' (float64) and the left shift of its
  // codes into the sum, 2^(e_max − e_c) (float32); undefined when per tensor. The sum's
  // scale is input_scale(i) = s_max·2^(−e_max).
  const torch::Tensor& input_channel_scales(int i) const { return act_chscale_.at(i); }
  const torch::Tensor& input_channel_shifts(int i) const { return act_shift_.at(i); }
  // Bias correction of node i: ξ_n and the offsets o_n (float64, N); undefined when off.
  const torch::Tensor& bias_correction_offsets(int i) const { return wcorr_.at(i); }
  // Activation bias correction of node i (added to its bias, float32 N); undefined when off.
  const torch::Tensor& activation_bias_correction(int i) const { return abias_.at(i); }
  // Node i's weights as the hardware holds them: scale·(code − zero) (+ the bias
  // correction offset), N × K float64.
  torch::Tensor effective_weights(int i) const;
  // Activation codes of node i for its (FP32) input x, as the MAC receives them.
  torch::Tensor input_codes(int i, const torch::Tensor& x) const;

 private:
  torch::Tensor gemm(int i, const torch::Tensor& x, bool quantise);
  // Quantises node i's weights: bit allocation, bias correction.
  void quantise_layer_weights(int i);
  // Chooses node i's activation quantiser from its calibration input x.
  void calibrate_layer(int i, const torch::Tensor& x);

  GraphNet net_;
  std::vector<LayerQuant> layers_;
  int threads_;
  std::vector<bool> folded_bn_;                 // BN nodes folded into their conv
  std::vector<torch::Tensor> weight_, bias_;    // folded float weights (N × K) and bias
  std::vector<torch::Tensor> wgrid_, wscale_, wzero_;  // weight grid values (N × K), scales and zero points (N, double)
  std::vector<double> act_scale_, act_zero_;
  std::vector<torch::Tensor> act_chscale_, act_shift_;  // per-channel scales (float64) and code shifts (float32), or undefined
  std::vector<torch::Tensor> act_lo_, act_hi_;   // per-channel code bounds (bit allocation, float32), or undefined
  std::vector<ActivationClip> act_clip_;
  std::vector<torch::Tensor> wcorr_;             // bias-correction offsets o_n (float64, N), or undefined
  std::vector<torch::Tensor> abias_;             // activation bias correction (float32, N), or undefined
  std::vector<torch::Tensor> wfold_;             // folded weights, N × K float64 (what is quantised)
  mutable torch::Tensor rowsum_;                 // Σ_k (q_a − z_a) per output position of the last layer (bias correction)
  std::vector<std::vector<int64_t>> in_shape_;  // per-image input shape seen at each node
  std::vector<std::vector<int64_t>> out_shape_;
  std::vector<int64_t> out_of_range_, outputs_seen_;
  std::vector<double> acc_max_abs_;
  std::vector<LayerOperands> recorded_;
  bool record_ = false;
};



}  // namespace lpsim::nn
