#include "nn/executor.h"

#include <cmath>
#include <span>

#include "arith/error.h"
#include "arith/quantize.h"

namespace lpsim::nn {

namespace F = torch::nn::functional;

double format_max(const arith::NumberFormat& f) {
  if (const auto* i = std::get_if<arith::IntFormat>(&f)) return double(i->max_value());
  return std::get<arith::FloatFormat>(f).max_value();
}

namespace {

bool is_int(const arith::NumberFormat& f) { return std::holds_alternative<arith::IntFormat>(f); }
bool is_unsigned_int(const arith::NumberFormat& f) {
  const auto* i = std::get_if<arith::IntFormat>(&f);
  return i && !i->is_signed;
}

}  // namespace

QuantizedExecutor::QuantizedExecutor(GraphNet net, std::vector<LayerQuant> layers, int threads)
    : net_(std::move(net)), layers_(std::move(layers)), threads_(threads) {
  const Graph& g = net_->graph();
  const size_t n = g.nodes.size();
  if (layers_.size() != n) throw InputError("quantisation config has " + std::to_string(layers_.size()) +
                                            " entries for a graph of " + std::to_string(n) + " nodes");
  net_->eval();
  torch::NoGradGuard ng;
  folded_bn_.assign(n, false);
  weight_.resize(n), bias_.resize(n), wgrid_.resize(n), wscale_.resize(n);
  act_scale_.assign(n, 0.0f);
  in_shape_.resize(n), out_shape_.resize(n);
  out_of_range_.assign(n, 0), outputs_seen_.assign(n, 0);
  recorded_.resize(n);
  for (int i = 0; i < int(n); ++i) {
    const Node& nd = g.nodes[i];
    if (!Graph::is_gemm(nd.kind)) continue;
    torch::Tensor w, b;
    if (nd.kind == OpKind::conv) {
      w = net_->conv(i)->weight.detach().to(torch::kFloat64);
      b = nd.bias ? net_->conv(i)->bias.detach().to(torch::kFloat64) : torch::zeros({nd.out_channels}, torch::kFloat64);
      const auto cons = g.consumers(i);
      if (cons.size() == 1 && g.nodes[cons[0]].kind == OpKind::batchnorm) {
        // BN folding: w' = w·γ/√(σ²+ε), b' = (b − μ)·γ/√(σ²+ε) + β.
        auto& bn = net_->bn(cons[0]);
        auto inv = bn->weight.detach().to(torch::kFloat64) /
                   torch::sqrt(bn->running_var.to(torch::kFloat64) + bn->options.eps());
        w = w * inv.view({-1, 1, 1, 1});
        b = (b - bn->running_mean.to(torch::kFloat64)) * inv + bn->bias.detach().to(torch::kFloat64);
        folded_bn_[cons[0]] = true;
      }
    } else {
      w = net_->linear(i)->weight.detach().to(torch::kFloat64);
      b = nd.bias ? net_->linear(i)->bias.detach().to(torch::kFloat64) : torch::zeros({nd.out_channels}, torch::kFloat64);
    }
    weight_[i] = w.to(torch::kFloat32).contiguous();
    bias_[i] = b.to(torch::kFloat32).contiguous();
    const LayerQuant& q = layers_[i];
    if (!q.quantised) continue;
    const bool fa = is_int(q.activations), fw = is_int(q.weights);
    if (q.accumulator == "int" && (!fa || !fw))
      throw InputError("layer " + nd.name + ": floating-point operands need accumulator fp32", {}, "accumulator");
    if (q.accumulator != "int" && q.accumulator != "fp32")
      throw InputError("layer " + nd.name + ": accumulator must be int or fp32", {}, "accumulator");
    if (q.accumulator == "int" && (q.acc_bits < 2 || q.acc_bits > 62))
      throw InputError("layer " + nd.name + ": acc_bits must be in [2, 62]", {}, "acc_bits");
    if (q.acc_overflow != arith::Overflow::wrap && q.acc_overflow != arith::Overflow::saturate)
      throw InputError("layer " + nd.name + ": accumulator overflow must be wrap or saturate", {}, "overflow");
    // Weight scale: max |w| (per output channel or per tensor) onto the format's max.
    auto w2 = weight_[i].view({nd.out_channels, -1});
    auto amax = q.per_channel ? w2.abs().amax(1) : w2.abs().max().expand({nd.out_channels});
    auto scale = amax / float(format_max(q.weights));
    scale = torch::where(scale > 0, scale, torch::ones_like(scale)).contiguous();
    wscale_[i] = scale;
    wgrid_[i] = to_grid(q.weights, (w2 / scale.view({-1, 1})).contiguous(), true);
  }
}

torch::Tensor QuantizedExecutor::to_grid(const arith::NumberFormat& f, torch::Tensor x, bool in_place) const {
  auto in = x.to(torch::kFloat32).contiguous();
  // in_place: x is the caller's temporary, rounded where it lies (the kernel is elementwise).
  auto out = in_place ? in : torch::empty_like(in);
  arith::QuantizeOptions opt;
  opt.scale = 1.0f;  // the caller divided by the scale: values land on the format's own grid
  opt.threads = threads_;
  const size_t n = size_t(in.numel());
  arith::quantize(f, std::span<const float>(in.data_ptr<float>(), n), std::span<float>(out.data_ptr<float>(), n), opt);
  return out;
}

void QuantizedExecutor::calibrate(const torch::Tensor& images) {
  torch::NoGradGuard ng;
  std::vector<float> amax(graph().nodes.size(), 0.0f);
  net_->run(
      images,
      [&](int i, const torch::Tensor& x) {
        amax[i] = std::max(amax[i], x.abs().max().item<float>());
        return gemm(i, x, false);
      },
      [&](int i) { return bool(folded_bn_[i]); });
  for (size_t i = 0; i < amax.size(); ++i)
    if (Graph::is_gemm(graph().nodes[i].kind) && layers_[i].quantised)
      act_scale_[i] = amax[i] > 0 ? float(amax[i] / format_max(layers_[i].activations)) : 1.0f;
}

torch::Tensor QuantizedExecutor::forward(const torch::Tensor& images) {
  torch::NoGradGuard ng;
  auto y = net_->run(
      images, [&](int i, const torch::Tensor& x) { return gemm(i, x, true); },
      [&](int i) { return bool(folded_bn_[i]); });
  record_ = false;
  return y;
}

torch::Tensor QuantizedExecutor::gemm(int i, const torch::Tensor& x, bool quantise) {
  const Node& nd = graph().nodes[i];
  in_shape_[i] = std::vector<int64_t>(x.sizes().begin() + 1, x.sizes().end());
  torch::Tensor y;
  if (!quantise || !layers_[i].quantised) {
    if (nd.kind == OpKind::conv)
      y = F::conv2d(x, weight_[i].view({nd.out_channels, nd.in_channels, nd.kernel, nd.kernel}),
                    F::Conv2dFuncOptions().bias(bias_[i]).stride(nd.stride).padding(nd.padding));
    else
      y = F::linear(x, weight_[i], bias_[i]);
  } else {
    LPSIM_CHECK(act_scale_[i] > 0);  // calibrate() first
    auto acc = accumulate(i, x, record_ ? &recorded_[i] : nullptr);
    const auto shape = nd.kind == OpKind::conv ? std::vector<int64_t>{1, -1, 1, 1} : std::vector<int64_t>{1, -1};
    // Rescale in float32: the accumulator is exact, y = acc · s_x·s_w[n] + bias.
    auto s = (wscale_[i] * act_scale_[i]).view(shape);
    y = torch::addcmul(bias_[i].view(shape), acc.to(torch::kFloat32), s);
  }
  out_shape_[i] = std::vector<int64_t>(y.sizes().begin() + 1, y.sizes().end());
  return y;
}

torch::Tensor QuantizedExecutor::accumulate(int i, const torch::Tensor& input, LayerOperands* ops) {
  const Node& nd = graph().nodes[i];
  const LayerQuant& q = layers_[i];
  LPSIM_CHECK(q.quantised && act_scale_[i] > 0);
  auto qx = to_grid(q.activations, input.div(act_scale_[i]), true);
  const auto& wq = wgrid_[i];  // N × K
  const int64_t N = nd.out_channels, K = wq.size(1), B = qx.size(0);
  const bool conv = nd.kind == OpKind::conv;
  auto im2col = [&](const torch::Tensor& t) {  // (M_total × K), rows in (image, position) order
    if (!conv) return t.reshape({B, K});
    auto c = F::unfold(t, F::UnfoldFuncOptions({nd.kernel, nd.kernel}).padding(nd.padding).stride(nd.stride));
    return c.transpose(1, 2).reshape({-1, K});
  };
  auto to_output = [&](const torch::Tensor& mn) {  // (M_total × N) back to the layer's output shape
    if (!conv) return mn.view({B, N});
    const int64_t hw = mn.size(0) / B;
    const int64_t ho = (qx.size(2) + 2 * nd.padding - nd.kernel) / nd.stride + 1;
    return mn.view({B, hw, N}).transpose(1, 2).reshape({B, N, ho, hw / ho});
  };
  // The im2col'ed activations and K × N weights: built once, for recording and for the
  // sequential path.
  torch::Tensor cols_kn, w_kn;
  auto operands = [&] {
    if (!cols_kn.defined()) cols_kn = im2col(qx).contiguous(), w_kn = wq.t().contiguous();
  };
  if (ops) {
    operands();
    ops->cols = cols_kn;
    ops->w = w_kn;
  }
  auto gemm_exact = [&](const torch::Tensor& a, const torch::Tensor& w, torch::ScalarType t) {
    if (conv)
      return F::conv2d(a.to(t), w.to(t).view({N, nd.in_channels, nd.kernel, nd.kernel}),
                       F::Conv2dFuncOptions().stride(nd.stride).padding(nd.padding));
    return F::linear(a.to(t), w.to(t));
  };
  // Sequential accumulation in the PE's order (k = 0 … K−1), for saturation (whose result
  // depends on the order) and FP32 accumulators.
  auto sequential = [&](bool fp32, int64_t lo, int64_t hi) {
    operands();
    const int64_t M = cols_kn.size(0);
    const float* c = cols_kn.data_ptr<float>();
    const float* wp = w_kn.data_ptr<float>();
    if (fp32) {
      auto out = torch::zeros({M, N}, torch::kFloat32);
      float* o = out.data_ptr<float>();
      for (int64_t m = 0; m < M; ++m) {
        float* acc = o + m * N;
        for (int64_t k = 0; k < K; ++k) {
          const float a = c[m * K + k];
          const float* wr = wp + k * N;
          for (int64_t n = 0; n < N; ++n) acc[n] += a * wr[n];  // exact product, one RNE rounding
        }
      }
      return to_output(out);
    }
    auto out = torch::zeros({M, N}, torch::kInt64);
    int64_t* o = out.data_ptr<int64_t>();
    for (int64_t m = 0; m < M; ++m) {
      int64_t* acc = o + m * N;
      for (int64_t k = 0; k < K; ++k) {
        const int64_t a = int64_t(c[m * K + k]);
        const float* wr = wp + k * N;
        for (int64_t n = 0; n < N; ++n) acc[n] = std::clamp<int64_t>(acc[n] + a * int64_t(wr[n]), lo, hi);
      }
    }
    return to_output(out.to(torch::kFloat64));
  };
  if (q.accumulator == "fp32") {
    auto r = sequential(true, 0, 0);
    outputs_seen_[i] += r.numel();
    return r;
  }
  const bool acc_signed = !(is_unsigned_int(q.activations) && is_unsigned_int(q.weights));
  const int B_ = q.acc_bits;
  const double lo = acc_signed ? -std::ldexp(1.0, B_ - 1) : 0.0;
  const double hi = acc_signed ? std::ldexp(1.0, B_ - 1) - 1 : std::ldexp(1.0, B_) - 1;
  // Every partial sum is an integer bounded by Σ|a||w| ≤ K·max|a|·max|w|: below 2^24 any
  // float32 summation order is exact, below 2^53 any float64 order is. The formats'
  // largest magnitudes bound it without a pass over the data.
  double bound = double(K) * format_max(q.activations) * format_max(q.weights);
  if (bound > std::ldexp(1.0, 24)) bound = double(K) * qx.abs().max().item<double>() * wq.abs().max().item<double>();
  LPSIM_CHECK(bound < std::ldexp(1.0, 53));
  const bool fits_float = bound <= std::ldexp(1.0, 24);
  auto acc = gemm_exact(qx, wq, fits_float ? torch::kFloat32 : torch::kFloat64);
  outputs_seen_[i] += acc.numel();
  if (bound <= hi) return acc;  // no partial sum can leave the range
  acc = acc.to(torch::kFloat64);
  out_of_range_[i] += ((acc < lo) | (acc > hi)).sum().item<int64_t>();
  if (q.acc_overflow == arith::Overflow::wrap) {
    // Two's-complement wrap is addition modulo 2^B: wrapping each partial sum and
    // wrapping the exact total agree.
    const double span = std::ldexp(1.0, B_);
    return acc - span * torch::floor((acc - lo) / span);
  }
  // Saturation: outputs whose |partial sums| may reach the rails need the sequential order.
  auto absb = gemm_exact(qx.abs(), wq.abs(), torch::kFloat64);
  if ((absb > hi).any().item<bool>() || (acc_signed && (-absb < lo).any().item<bool>()))
    return sequential(false, int64_t(lo), int64_t(hi));
  return acc;
}

std::vector<LayerCost> QuantizedExecutor::costs() const {
  std::vector<LayerCost> out;
  const Graph& g = graph();
  for (int i = 0; i < int(g.nodes.size()); ++i) {
    const Node& nd = g.nodes[i];
    if (!Graph::is_gemm(nd.kind) || out_shape_[i].empty()) continue;
    const LayerQuant& q = layers_[i];
    LayerCost c;
    c.name = nd.name, c.node = i;
    c.N = nd.out_channels;
    int64_t outs = 1, ins = 1;
    for (auto d : out_shape_[i]) outs *= d;
    for (auto d : in_shape_[i]) ins *= d;
    c.M = outs / c.N;
    c.K = nd.kind == OpKind::conv ? int64_t(nd.in_channels) * nd.kernel * nd.kernel : nd.in_channels;
    c.macs = c.M * c.K * c.N;
    c.additions = outs;
    const int wb = q.quantised ? arith::format_bits(q.weights) : 32;
    const int ab = q.quantised ? arith::format_bits(q.activations) : 32;
    const int ob = q.quantised && q.accumulator == "int" ? q.acc_bits : 32;
    c.weight_bits = c.K * c.N * wb;
    c.input_bits = ins * ab;
    c.output_bits = outs * ob;
    out.push_back(c);
  }
  return out;
}

}  // namespace lpsim::nn
