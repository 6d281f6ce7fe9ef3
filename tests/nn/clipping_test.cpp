// Clipped post-training quantisation in the executor (papers.md §4) on real LeNet-5
// layers: every quantity the executor chose — clips, priors, per-channel scales and
// shifts, bits per channel, corrected weights — against a direct computation of the
// formulas from the layer's own FP32 tensors, and the quantised network's outputs against
// a float re-computation from those dequantised operands.
#include <gtest/gtest.h>

#include <cmath>

#include "arith/aciq.h"
#include "arith/error.h"
#include "nn/executor.h"
#include "tests/nn/nn_fixtures.h"

using namespace lpsim;
using namespace lpsim::nn;
using namespace lpsim::nn::nntest;

namespace {

namespace F = torch::nn::functional;

LayerQuant base(const char* w = "int4", const char* a = "uint4") {
  LayerQuant q;
  q.quantised = true;
  q.weights = arith::parse_format(w);
  q.activations = arith::parse_format(a);
  return q;
}

torch::Tensor calib() { return data().train.images.slice(0, 0, 256); }

std::vector<float> values(const torch::Tensor& t) {
  auto c = t.to(torch::kFloat32).contiguous().flatten();
  return {c.data_ptr<float>(), c.data_ptr<float>() + c.numel()};
}

// Node i's output computed in double from the executor's dequantised operands:
// activations x̂ = s_c·codes (or s·(codes − z)), weights effective_weights (bias
// correction included), plus the layer's bias; the activation bias correction is not.
torch::Tensor direct_layer(GraphNet& net, QuantizedExecutor& ex, int i, const torch::Tensor& in) {
  const Node& nd = net->graph().nodes[i];
  auto codes = ex.input_codes(i, in).to(torch::kFloat64);
  torch::Tensor xh;
  if (ex.input_channel_scales(i).defined()) {
    const int64_t C = ex.input_channel_scales(i).size(0);
    xh = codes * ex.input_channel_scales(i).view(in.dim() == 4 ? std::vector<int64_t>{1, C, 1, 1} : std::vector<int64_t>{1, C});
  } else {
    xh = (codes - ex.input_zero(i)) * ex.input_scale(i);
  }
  auto w = ex.effective_weights(i);
  if (nd.kind == OpKind::conv) {
    auto b = net->conv(i)->bias.to(torch::kFloat64);
    return F::conv2d(xh, w.view({nd.out_channels, nd.in_channels, nd.kernel, nd.kernel}),
                     F::Conv2dFuncOptions().bias(b).stride(nd.stride).padding(nd.padding))
        .to(torch::kFloat32);
  }
  return F::linear(xh, w, net->linear(i)->bias.to(torch::kFloat64)).to(torch::kFloat32);
}

// The network run in double where node `layer` computes with the executor's dequantised
// operands: activations x̂ = s_c·codes, weights effective_weights (bias correction included).
torch::Tensor direct_forward(GraphNet& net, QuantizedExecutor& ex, int layer, const torch::Tensor& x) {
  torch::NoGradGuard ng;
  const Graph& g = net->graph();
  return net->run(x, [&](int i, const torch::Tensor& in) -> torch::Tensor {
    const Node& nd = g.nodes[i];
    if (i != layer) return nd.kind == OpKind::conv ? net->conv(i)->forward(in) : net->linear(i)->forward(in);
    return direct_layer(net, ex, i, in);
  });
}

// The executor (only `layer` quantised) against direct_forward: the integer path, shifts,
// rescale and correction terms compute exactly the dequantised layer (float32 rescale).
void expect_matches_direct(GraphNet& net, const LayerQuant& q, const char* layer) {
  const Graph& g = net->graph();
  std::vector<LayerQuant> layers(g.nodes.size());
  const int i = node_index(g, layer);
  layers[i] = q;
  QuantizedExecutor ex(net, layers, 1);
  ex.calibrate(calib());
  auto x = data().test.images.slice(0, 0, 16);
  auto y = ex.forward(x), yd = direct_forward(net, ex, i, x);
  const double err = (y - yd).abs().max().item<double>(), scale = yd.abs().max().item<double>();
  EXPECT_LT(err, 2e-5 * scale) << layer;
}

}  // namespace

TEST(Clipping, AciqClipIsTheClosedFormOnTheLayersCalibrationData) {
  GraphNet net = trained("lenet5");
  const Graph& g = net->graph();
  auto inputs = layer_inputs(net, calib());
  for (const char* prior : {"laplace", "gauss", "auto"}) {
    LayerQuant q = base();
    q.clip = "aciq", q.prior = prior;
    QuantizedExecutor ex(net, all_layers(g, q), 1);
    ex.calibrate(calib());
    for (const char* layer : {"conv2", "fc1", "fc2"}) {  // post-ReLU inputs: one-sided
      const int i = node_index(g, layer);
      const auto v = values(inputs.at(i));
      const bool one_sided = inputs.at(i).min().item<float>() >= 0;
      ASSERT_TRUE(one_sided) << layer;
      arith::ClipPrior p = std::string(prior) == "gauss" ? arith::ClipPrior::gauss : arith::ClipPrior::laplace;
      if (std::string(prior) == "auto") p = arith::best_fit_prior(v, true);
      const double alpha = std::min(arith::aciq_clip(v, p, 4, true), double(inputs.at(i).max().item<float>()));
      EXPECT_NEAR(ex.input_scale(i), alpha / 15, 1e-12 * alpha) << layer << " " << prior;  // [0, α] onto 0..15
      EXPECT_EQ(ex.input_zero(i), 0.0);
      const ActivationClip& c = ex.input_clip(i);
      EXPECT_TRUE(c.one_sided);
      EXPECT_EQ(c.laplace + c.gauss, 1);
      EXPECT_EQ(c.gauss == 1, p == arith::ClipPrior::gauss) << layer << " " << prior;
      // Codes: RNE of x/s saturated to 0..15.
      auto codes = ex.input_codes(i, inputs.at(i));
      auto ref = torch::round(inputs.at(i).to(torch::kFloat64) / ex.input_scale(i)).clamp(0, 15).to(torch::kFloat32);
      EXPECT_TRUE(torch::equal(codes, ref)) << layer;
    }
  }
}

TEST(Clipping, SignedGridOnAOneSidedInputUsesMMinusOneBits) {
  GraphNet net = trained("lenet5");
  const Graph& g = net->graph();
  auto inputs = layer_inputs(net, calib());
  LayerQuant q = base("int4", "int4");
  q.clip = "aciq";
  QuantizedExecutor ex(net, all_layers(g, q), 1);
  ex.calibrate(calib());
  int clipped = 0;
  for (const char* layer : {"conv2", "fc1", "fc2"}) {
    const int i = node_index(g, layer);
    const double a3 = arith::aciq_clip(values(inputs.at(i)), arith::ClipPrior::laplace, 3, true);
    const double alpha = std::min(a3, double(inputs.at(i).max().item<float>()));
    clipped += a3 < alpha + 1e-12 * a3;
    EXPECT_NEAR(ex.input_scale(i), alpha / 7, 1e-12 * alpha) << layer;  // 2^3 bins over [0, α]: codes 0..7
  }
  EXPECT_GT(clipped, 0);  // the closed form, not only the observed range, was checked
}

TEST(Clipping, MseSearchBeatsMaxAndAciqOnItsOwnData) {
  GraphNet net = trained("lenet5");
  const Graph& g = net->graph();
  auto inputs = layer_inputs(net, calib());
  auto mse_at = [&](QuantizedExecutor& ex, int i) {
    const auto& x = inputs.at(i);
    auto xh = (ex.input_codes(i, x).to(torch::kFloat64) - ex.input_zero(i)) * ex.input_scale(i);
    return (xh - x.to(torch::kFloat64)).pow(2).mean().item<double>();
  };
  std::map<std::string, std::unique_ptr<QuantizedExecutor>> ex;
  for (const char* clip : {"max", "aciq", "mse"}) {
    LayerQuant q = base();
    q.clip = clip;
    ex[clip] = std::make_unique<QuantizedExecutor>(net, all_layers(g, q), 1);
    ex[clip]->calibrate(calib());
  }
  for (const char* layer : {"conv2", "fc1", "fc2"}) {
    const int i = node_index(g, layer);
    const double m = mse_at(*ex["mse"], i);
    // The search runs on a strided sample: allow a hair of slack against the full tensor.
    EXPECT_LE(m, mse_at(*ex["max"], i) * 1.001) << layer;
    EXPECT_LE(m, mse_at(*ex["aciq"], i) * 1.001) << layer;
    EXPECT_LT(m, mse_at(*ex["max"], i)) << layer;  // clipping does help at 4 bits
  }
}

TEST(Clipping, PerChannelScalesArePowerOfTwoShiftsAndComputeExactly) {
  GraphNet net = trained("lenet5");
  const Graph& g = net->graph();
  auto inputs = layer_inputs(net, calib());
  LayerQuant q = base();
  q.per_channel_activations = true;
  QuantizedExecutor ex(net, all_layers(g, q), 1);
  ex.calibrate(calib());
  const int i = node_index(g, "conv2");
  const auto& x = inputs.at(i);
  const int64_t C = x.size(1);
  auto s = ex.input_channel_scales(i), sh = ex.input_channel_shifts(i);
  ASSERT_TRUE(s.defined() && sh.defined());
  ASSERT_EQ(s.size(0), C);
  const double top = s.max().item<double>();
  EXPECT_DOUBLE_EQ(ex.input_scale(i), s.min().item<double>());
  for (int64_t c = 0; c < C; ++c) {
    const double want = x.select(1, c).max().item<double>() / 15;  // the channel's own max onto 15
    const double got = s[c].item<double>();
    const double e = std::log2(top / got);
    EXPECT_EQ(e, std::round(e)) << c;                 // a power-of-two fraction of the largest
    if (e < 8) {
      EXPECT_TRUE(got >= want && got < 2 * want) << c;  // never clips more; within 2x
    }
    EXPECT_DOUBLE_EQ(sh[c].item<float>(), got / ex.input_scale(i));  // the shift into the sum
  }
  expect_matches_direct(net, q, "conv2");
  expect_matches_direct(net, q, "fc1");
}

TEST(Clipping, BiasCorrectionRestoresEveryChannelsMeanAndStd) {
  GraphNet net = trained("lenet5");
  const Graph& g = net->graph();
  LayerQuant q = base("int4", "uint8");
  q.bias_correction = true;
  QuantizedExecutor ex(net, all_layers(g, q), 1);
  ex.calibrate(calib());
  for (const char* layer : {"conv1", "conv2", "fc1", "fc3"}) {
    const int i = node_index(g, layer);
    if (i < 0) continue;
    const Node& nd = g.nodes[i];
    auto w = (nd.kind == OpKind::conv ? net->conv(i)->weight : net->linear(i)->weight).to(torch::kFloat64).view({nd.out_channels, -1});
    auto wh = ex.effective_weights(i);
    EXPECT_LT((wh.mean(1) - w.mean(1)).abs().max().item<double>(), 1e-12) << layer;
    EXPECT_LT(((wh.std(1) - w.std(1)).abs() / w.std(1)).max().item<double>(), 1e-10) << layer;
    // Against the formula applied to the uncorrected grid (a plain int4 executor).
    LayerQuant p = base("int4", "uint8");
    QuantizedExecutor plain(net, all_layers(g, p), 1);
    auto wq = plain.effective_weights(i);
    for (int64_t n = 0; n < nd.out_channels; n += 3) {
      auto wn = w[n].contiguous(), qn = wq[n].contiguous();
      const arith::BiasCorrection bc = arith::bias_correction({wn.data_ptr<double>(), size_t(wn.numel())},
                                                              {qn.data_ptr<double>(), size_t(qn.numel())});
      for (int64_t k = 0; k < wn.numel(); k += 7) EXPECT_NEAR(wh[n][k].item<double>(), bc(qn[k].item<double>()), 1e-12) << layer;
    }
  }
  expect_matches_direct(net, q, "conv2");
  expect_matches_direct(net, q, "fc1");
}

TEST(Clipping, BitAllocationFollowsEquationElevenOnRealChannels) {
  GraphNet net = trained("lenet5");
  const Graph& g = net->graph();
  auto inputs = layer_inputs(net, calib());
  LayerQuant q = base("int4", "uint4");
  q.weight_mean_bits = 4, q.activation_mean_bits = 4, q.prior = "gauss";
  QuantizedExecutor ex(net, all_layers(g, q), 1);
  ex.calibrate(calib());
  for (const char* layer : {"conv2", "fc1"}) {
    const int i = node_index(g, layer);
    const Node& nd = g.nodes[i];
    const LayerQuant& L = ex.layer(i);
    // Weights: α_n = the channel's σ (gauss), eq. 11 iterated to a mean of 4, widths 2..8.
    auto w = (nd.kind == OpKind::conv ? net->conv(i)->weight : net->linear(i)->weight).to(torch::kFloat64).view({nd.out_channels, -1});
    std::vector<double> sigma;
    for (int64_t n = 0; n < nd.out_channels; ++n) sigma.push_back((w[n] - w[n].mean()).pow(2).mean().sqrt().item<double>());
    EXPECT_EQ(L.weight_channel_bits, arith::allocate_bits(sigma, 4, arith::BitRounding::round, 2, 8)) << layer;
    auto wq = ex.effective_weights(i);
    for (int64_t n = 0; n < nd.out_channels; ++n) {
      const double top = std::ldexp(1.0, L.weight_channel_bits[size_t(n)] - 1) - 1;
      const double s = w[n].abs().max().item<double>() / top;
      auto codes = wq[n] / s;
      EXPECT_LT((codes - codes.round()).abs().max().item<double>(), 1e-9) << layer << " " << n;
      EXPECT_LE(codes.abs().max().item<double>(), top + 1e-9);
    }
    // Activations: α_c = the channel's clip (max) at 4 bits, eq. 11 to a mean of 4, widths 0..8;
    // channel c's codes stay inside its width.
    const auto& x = inputs.at(i);
    const int64_t C = x.size(1);
    std::vector<double> amax;
    for (int64_t c = 0; c < C; ++c) amax.push_back(x.select(1, c).max().item<double>());
    EXPECT_EQ(L.activation_channel_bits, arith::allocate_bits(amax, 4, arith::BitRounding::round, 0, 8)) << layer;
    auto codes = ex.input_codes(i, x);
    for (int64_t c = 0; c < C; ++c) {
      const int b = L.activation_channel_bits[size_t(c)];
      EXPECT_LE(codes.select(1, c).max().item<float>(), std::ldexp(1.0, b) - 1) << layer << " " << c;
    }
    double mean = 0;
    for (int b : L.activation_channel_bits) mean += b;
    EXPECT_NEAR(mean / double(C), 4.0, 0.5 + 1.0 / double(C));
  }
  LayerQuant all = q;
  all.clip = "aciq", all.bias_correction = true, all.prior = "auto";
  expect_matches_direct(net, all, "conv2");
  expect_matches_direct(net, all, "fc1");
}

TEST(Clipping, ActivationBiasCorrectionIsTheMeanOutputErrorOnCalibration) {
  GraphNet net = trained("lenet5");
  const Graph& g = net->graph();
  LayerQuant q = base("int4", "uint4");
  q.clip = "aciq", q.activation_bias_correction = true;
  QuantizedExecutor ex(net, all_layers(g, q), 1);
  ex.calibrate(calib());
  auto inputs = layer_inputs(net, calib());
  for (const char* layer : {"conv2", "fc1", "fc2"}) {
    const int i = node_index(g, layer);
    const Node& nd = g.nodes[i];
    const auto& x = inputs.at(i);
    torch::NoGradGuard ng;
    auto yf = (nd.kind == OpKind::conv ? net->conv(i)->forward(x) : net->linear(i)->forward(x)).to(torch::kFloat64);
    // The uncorrected quantised layer, recomputed from its dequantised operands.
    auto yq = direct_layer(net, ex, i, x).to(torch::kFloat64);
    auto d = yf - yq;
    auto want = d.dim() == 4 ? d.mean({0, 2, 3}) : d.mean(0);
    const auto& abc = ex.activation_bias_correction(i);
    ASSERT_TRUE(abc.defined()) << layer;
    EXPECT_LT((abc.to(torch::kFloat64) - want).abs().max().item<double>(), 1e-4 * (1 + want.abs().max().item<double>())) << layer;
    EXPECT_GT(want.abs().max().item<double>(), 1e-3) << layer;  // clipping did bias the layer
  }
}

TEST(Clipping, BadSettingsNameTheLayerAndKey) {
  GraphNet net = trained("lenet5");
  const Graph& g = net->graph();
  auto expect_key = [&](LayerQuant q, const char* key) {
    try {
      QuantizedExecutor ex(net, all_layers(g, q), 1);
      ADD_FAILURE() << "no throw for " << key;
    } catch (const InputError& e) {
      EXPECT_EQ(e.key(), key) << e.what();
      EXPECT_NE(std::string(e.what()).find("conv1"), std::string::npos) << e.what();
    }
  };
  LayerQuant q = base();
  q.clip = "sigma";
  expect_key(q, "clip");
  q = base("int4", "fp8_e4m3");
  q.accumulator = "fp32", q.clip = "aciq";
  expect_key(q, "clip");
  q = base("uint4", "uint4");
  q.weight_mean_bits = 4;
  expect_key(q, "bit_allocation");
  q = base();
  q.prior = "cauchy";
  expect_key(q, "prior");
}
