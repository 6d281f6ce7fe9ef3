#include "nn/executor.h"

#include <cmath>
#include <functional>
#include <limits>
#include <span>

#include "arith/error.h"
#include "arith/quantize.h"

namespace lpsim::nn {

namespace F = torch::nn::functional;

namespace {

bool is_int(const arith::NumberFormat& f) { return std::holds_alternative<arith::IntFormat>(f); }
bool is_signed_int(const arith::NumberFormat& f) {
  const auto* i = std::get_if<arith::IntFormat>(&f);
  return i && i->is_signed;
}
double levels(const arith::NumberFormat& f) { return std::ldexp(1.0, std::get<arith::IntFormat>(f).bits) - 1; }

// Asymmetric scale and zero point from a range [lo, hi] (widened to include 0, so that
// zero is exact): s = (hi − lo)/(2^b − 1), z = round(−lo/s) in [0, 2^b − 1].
std::pair<torch::Tensor, torch::Tensor> asymmetric_scale(torch::Tensor lo, torch::Tensor hi, double top) {
  lo = lo.clamp_max(0.0), hi = hi.clamp_min(0.0);
  auto s = (hi - lo) / top;
  s = torch::where(s > 0, s, torch::ones_like(s));
  auto z = torch::round(-lo / s).clamp(0.0, top);
  return {s, z};
}

// x / s (+ z) in float32 when 1/s is representable there (the common case, and the
// historical float32 arithmetic), else in double.
torch::Tensor scale_down(const torch::Tensor& x, double s, double z) {
  const bool normal = s >= double(std::numeric_limits<float>::min()) && s <= double(std::numeric_limits<float>::max());
  auto y = normal ? x.div(float(s)) : x.to(torch::kFloat64).div(s).to(torch::kFloat32);
  if (z != 0) y.add_(float(z));
  return y;
}

int bits_for(double max_abs, bool is_signed) {
  int b = 1;
  while (b < 64 && (is_signed ? std::ldexp(1.0, b - 1) - 1 : std::ldexp(1.0, b) - 1) < max_abs) ++b;
  return b;
}

// Σ_k a[m][k]·w[n][k] exactly, as int64, for integer grids whose sums do not fit a
// double's 53 bits: each operand splits as hi·2^12 + lo (|hi|, lo < 2^12 for |v| < 2^24),
// the four partial GEMMs are exact in float64 (K·2^24 < 2^53), recombined in int64.
torch::Tensor exact_int64_sums(const std::function<torch::Tensor(const torch::Tensor&, const torch::Tensor&, torch::ScalarType)>& gemm,
                               const torch::Tensor& a, const torch::Tensor& w) {
  auto split = [](const torch::Tensor& v) {
    auto d = v.to(torch::kFloat64);
    auto hi = torch::floor(d / 4096.0);
    return std::pair{hi, d - hi * 4096.0};
  };
  auto [ah, al] = split(a);
  auto [wh, wl] = split(w);
  auto i64 = [](const torch::Tensor& t) { return t.to(torch::kInt64); };
  auto hh = i64(gemm(ah, wh, torch::kFloat64)), hl = i64(gemm(ah, wl, torch::kFloat64));
  auto lh = i64(gemm(al, wh, torch::kFloat64)), ll = i64(gemm(al, wl, torch::kFloat64));
  return hh * (int64_t{1} << 24) + (hl + lh) * 4096 + ll;
}

}  // namespace

double pann_gamma(const float* w, int64_t n, double R) {
  if (n == 0) return 1.0;
  std::vector<double> a(static_cast<size_t>(n));
  double amax = 0;
  for (int64_t i = 0; i < n; ++i) a[size_t(i)] = std::fabs(double(w[i])), amax = std::max(amax, a[size_t(i)]);
  if (amax == 0) return 1.0;
  const double* ap = a.data();
  // mean|round(w/γ)| = Σ round(|w|/γ) / n (RNE is odd-symmetric). Round-half-even of
  // 0 ≤ v < 2^52 is (v + 2^52) − 2^52 (exactly nearbyint; it vectorises), and a sum of
  // integers below 2^53 is exact in any order: four partial sums. Training calls this
  // at every step (nn/pann_train.h).
  auto mean_abs = [&](double g) {
    constexpr double big = 0x1p52;
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
      s0 += (ap[i] / g + big) - big;
      s1 += (ap[i + 1] / g + big) - big;
      s2 += (ap[i + 2] / g + big) - big;
      s3 += (ap[i + 3] / g + big) - big;
    }
    for (; i < n; ++i) s0 += (ap[i] / g + big) - big;
    return ((s0 + s1) + (s2 + s3)) / double(n);
  };
  // mean|round(w/γ)| falls from ≥ 1 (γ small) to 0 (γ > 2·max|w|), in steps. |w|/γ stays
  // below 32767·(1 + ε) ≪ 2^52 on this range.
  double lo = std::log(amax / 32767.0), hi = std::log(4 * amax);
  // Once lo and hi are adjacent doubles the remaining halvings change nothing (hi always
  // has mean ≤ R; lo has mean > R once it has moved): stop there.
  bool lo_moved = false;
  for (int it = 0; it < 80; ++it) {
    const double mid = 0.5 * (lo + hi);
    if (mid == hi || (mid == lo && lo_moved)) break;
    if (mean_abs(std::exp(mid)) > R)
      lo = mid, lo_moved = true;
    else
      hi = mid;
  }
  // lo: mean > R (or the smallest γ); hi: mean ≤ R. The nearer of the two.
  const double x = mean_abs(std::exp(lo)), y = mean_abs(std::exp(hi));
  return std::fabs(x - R) < std::fabs(y - R) ? std::exp(lo) : std::exp(hi);
}

torch::Tensor round_to_grid(const arith::NumberFormat& f, torch::Tensor x, int threads, bool in_place) {
  auto in = x.to(torch::kFloat32).contiguous();
  auto out = in_place ? in : torch::empty_like(in);  // the kernel is elementwise
  arith::QuantizeOptions opt;
  opt.scale = 1.0f;  // the caller divided by the scale: values land on the format's own grid
  opt.threads = threads;
  const size_t n = size_t(in.numel());
  arith::quantize(f, std::span<const float>(in.data_ptr<float>(), n), std::span<float>(out.data_ptr<float>(), n), opt);
  return out;
}

ActivationScale activation_scale(const arith::NumberFormat& f, double lo, double hi, double max_abs,
                                 int offset_bits) {
  ActivationScale a;
  if (offset_bits == 0 && is_asymmetric(f)) {
    auto [s, z] = asymmetric_scale(torch::tensor({lo}, torch::kFloat64), torch::tensor({hi}, torch::kFloat64), levels(f));
    a.scale = s.item<double>(), a.zero = z.item<double>();
    return a;
  }
  // Symmetric: max|x| onto the format's largest value (offset codes: that of the signed int grid).
  const arith::NumberFormat sym = offset_bits > 0 ? arith::NumberFormat{arith::IntFormat{offset_bits, true}} : f;
  a.scale = max_abs > 0 ? max_abs / scale_target(sym) : 1.0;
  if (offset_bits > 0 && lo < 0) a.zero = std::ldexp(1.0, offset_bits - 1);
  return a;
}

torch::Tensor activation_codes(const arith::NumberFormat& f, const torch::Tensor& x, double scale, double zero,
                               int threads, int offset_bits) {
  // Offset codes: the signed code, then + z — exactly the signed network's rounding.
  if (offset_bits > 0)
    return round_to_grid(arith::IntFormat{offset_bits, true}, scale_down(x, scale, 0), threads, true).add_(float(zero));
  return round_to_grid(f, scale_down(x, scale, zero), threads, true);
}

WeightGrid quantise_weights(const LayerQuant& q, const torch::Tensor& w2, int threads) {
  const int64_t N = w2.size(0);
  WeightGrid g;
  // max |w| (per output channel or per tensor) onto f's largest value; an all-zero channel keeps scale 1.
  auto symmetric_scale = [&](const arith::NumberFormat& f) {
    auto amax = q.per_channel ? w2.abs().amax(1) : w2.abs().max().expand({N});
    auto scale = amax / scale_target(f);
    return torch::where(scale > 0, scale, torch::ones_like(scale));
  };
  if (q.pann) {
    auto wf = w2.to(torch::kFloat32).contiguous();
    const int64_t per = wf.size(1);
    std::vector<double> gammas(static_cast<size_t>(N));
    if (q.per_channel) {
      for (int64_t c = 0; c < N; ++c) gammas[size_t(c)] = pann_gamma(wf.data_ptr<float>() + c * per, per, q.pann_R);
    } else {
      std::fill(gammas.begin(), gammas.end(), pann_gamma(wf.data_ptr<float>(), wf.numel(), q.pann_R));
    }
    g.scale = torch::tensor(gammas, torch::kFloat64);
    g.zero = torch::zeros_like(g.scale);
  } else if (q.offset_bits > 0) {
    // The symmetric signed grid, codes offset by 2^(b−1) (even for b ≥ 2, so rounding
    // w/s + z equals rounding w/s, then adding z).
    const arith::NumberFormat sf = arith::IntFormat{q.offset_bits, true};
    g.scale = symmetric_scale(sf);
    g.zero = torch::full_like(g.scale, std::ldexp(1.0, q.offset_bits - 1));
    g.codes = round_to_grid(sf, (w2 / g.scale.view({-1, 1})).to(torch::kFloat32).contiguous(), threads, true)
                  .add_(float(std::ldexp(1.0, q.offset_bits - 1)));
    return g;
  } else if (is_asymmetric(q.weights)) {
    auto lo = q.per_channel ? w2.amin(1) : w2.min().expand({N});
    auto hi = q.per_channel ? w2.amax(1) : w2.max().expand({N});
    std::tie(g.scale, g.zero) = asymmetric_scale(lo, hi, levels(q.weights));
  } else {
    g.scale = symmetric_scale(q.weights);
    g.zero = torch::zeros_like(g.scale);
  }
  g.codes = round_to_grid(q.weights, (w2 / g.scale.view({-1, 1}) + g.zero.view({-1, 1})).to(torch::kFloat32).contiguous(),
                          threads, true);
  return g;
}

FoldedGemm fold_gemm(GraphNetImpl& net, int i) {
  const Graph& gr = net.graph();
  const Node& nd = gr.nodes.at(i);
  FoldedGemm f;
  if (nd.kind == OpKind::conv) {
    f.w = net.conv(i)->weight.to(torch::kFloat64);
    f.b = nd.bias ? net.conv(i)->bias.to(torch::kFloat64) : torch::zeros({nd.out_channels}, torch::kFloat64);
    const auto cons = gr.consumers(i);
    if (cons.size() == 1 && gr.nodes[cons[0]].kind == OpKind::batchnorm) {
      auto& bn = net.bn(cons[0]);
      auto inv = bn->weight.detach().to(torch::kFloat64) /
                 torch::sqrt(bn->running_var.to(torch::kFloat64) + bn->options.eps());
      f.w = f.w * inv.view({-1, 1, 1, 1});
      f.b = (f.b - bn->running_mean.to(torch::kFloat64)) * inv + bn->bias.detach().to(torch::kFloat64);
      f.bn = cons[0];
    }
  } else {
    LPSIM_CHECK(nd.kind == OpKind::linear);
    f.w = net.linear(i)->weight.to(torch::kFloat64);
    f.b = nd.bias ? net.linear(i)->bias.to(torch::kFloat64) : torch::zeros({nd.out_channels}, torch::kFloat64);
  }
  return f;
}

double AccRange::lo(bool s) const { return s ? -std::ldexp(1.0, bits - 1) : 0.0; }
double AccRange::hi(bool s) const { return s ? std::ldexp(1.0, bits - 1) - 1 : std::ldexp(1.0, bits) - 1; }

QuantizedExecutor::QuantizedExecutor(GraphNet net, std::vector<LayerQuant> layers, int threads)
    : net_(std::move(net)), layers_(std::move(layers)), threads_(threads) {
  const Graph& g = net_->graph();
  const size_t n = g.nodes.size();
  if (layers_.size() != n) throw InputError("quantisation config has " + std::to_string(layers_.size()) +
                                            " entries for a graph of " + std::to_string(n) + " nodes");
  net_->eval();
  torch::NoGradGuard ng;
  folded_bn_.assign(n, false);
  weight_.resize(n), bias_.resize(n), wgrid_.resize(n), wscale_.resize(n), wzero_.resize(n);
  act_scale_.assign(n, 0.0), act_zero_.assign(n, 0.0);
  in_shape_.resize(n), out_shape_.resize(n);
  out_of_range_.assign(n, 0), outputs_seen_.assign(n, 0);
  acc_max_abs_.assign(n, 0.0);
  recorded_.resize(n);
  for (int i = 0; i < int(n); ++i) {
    const Node& nd = g.nodes[i];
    if (!Graph::is_gemm(nd.kind)) continue;
    FoldedGemm fg = fold_gemm(*net_, i);
    if (fg.bn >= 0) folded_bn_[fg.bn] = true;
    const torch::Tensor &w = fg.w, &b = fg.b;
    weight_[i] = w.to(torch::kFloat32).contiguous();
    bias_[i] = b.to(torch::kFloat32).contiguous();
    const LayerQuant& q = layers_[i];
    if (!q.quantised) continue;
    for (const auto* f : {&q.weights, &q.activations})
      if (const std::string why = operand_format_problem(*f); !why.empty())
        throw InputError("layer " + nd.name + ": " + why, {}, "weights/activations");
    const bool fa = is_int(q.activations), fw = is_int(q.weights);
    if (q.accumulator == "int" && (!fa || !fw))
      throw InputError("layer " + nd.name + ": floating-point operands need accumulator fp32", {}, "accumulator");
    if (q.accumulator != "int" && q.accumulator != "fp32")
      throw InputError("layer " + nd.name + ": accumulator must be int or fp32", {}, "accumulator");
    if (q.accumulator == "int" && (q.acc_bits < 2 || q.acc_bits > 62))
      throw InputError("layer " + nd.name + ": acc_bits must be in [2, 62]", {}, "acc_bits");
    if (q.acc_overflow != arith::Overflow::wrap && q.acc_overflow != arith::Overflow::saturate)
      throw InputError("layer " + nd.name + ": accumulator overflow must be wrap or saturate", {}, "overflow");
    if (q.pann && !is_asymmetric(q.activations))
      throw InputError("layer " + nd.name + ": PANN needs unsigned activations (uintN)", {}, "activation_bits");
    WeightGrid wg = quantise_weights(q, w.view({nd.out_channels, -1}), threads_);
    wscale_[i] = wg.scale.contiguous();
    wzero_[i] = wg.zero.contiguous();
    wgrid_[i] = wg.codes;
  }
}

void QuantizedExecutor::calibrate(const torch::Tensor& images) {
  torch::NoGradGuard ng;
  const size_t n = graph().nodes.size();
  std::vector<double> amax(n, 0.0), lo(n, 0.0), hi(n, 0.0);
  net_->run(
      images,
      [&](int i, const torch::Tensor& x) {
        amax[i] = std::max(amax[i], x.abs().max().item<double>());
        lo[i] = std::min(lo[i], x.min().item<double>());
        hi[i] = std::max(hi[i], x.max().item<double>());
        return gemm(i, x, false);
      },
      [&](int i) { return bool(folded_bn_[i]); });
  for (size_t i = 0; i < n; ++i) {
    if (!Graph::is_gemm(graph().nodes[i].kind) || !layers_[i].quantised) continue;
    const ActivationScale a = activation_scale(layers_[i].activations, lo[i], hi[i], amax[i], layers_[i].offset_bits);
    act_scale_[i] = a.scale, act_zero_[i] = a.zero;
  }
}

torch::Tensor QuantizedExecutor::forward(const torch::Tensor& images) {
  torch::NoGradGuard ng;
  auto y = net_->run(
      images, [&](int i, const torch::Tensor& x) { return gemm(i, x, true); },
      [&](int i) { return bool(folded_bn_[i]); });
  record_ = false;
  return y;
}

AccRange QuantizedExecutor::acc_range(int i) const {
  const LayerQuant& q = layers_.at(i);
  AccRange r;
  r.bits = q.acc_bits;
  // PANN: two unsigned accumulators (the signed weight only chooses which one adds).
  r.mac_signed = !q.pann && (is_signed_int(q.activations) || is_signed_int(q.weights));
  const bool zero_points = act_zero_.at(i) != 0 || (wzero_.at(i).defined() && wzero_[i].abs().max().item<double>() > 0);
  r.out_signed = r.mac_signed || zero_points || q.pann;
  return r;
}

int QuantizedExecutor::acc_bits_needed(int i) const {
  const AccRange r = acc_range(i);
  return bits_for(acc_max_abs_.at(i), layers_[i].acc_overflow == arith::Overflow::saturate ? r.mac_signed : r.out_signed);
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
    if (quantise && record_) {  // the FP32 layer's operands, for pricing on the FP32 MAC
      LayerOperands& ops = recorded_[i];
      ops.fp32 = true;
      ops.cols = nd.kind == OpKind::conv
                     ? F::unfold(x, F::UnfoldFuncOptions({nd.kernel, nd.kernel}).padding(nd.padding).stride(nd.stride))
                           .transpose(1, 2)
                           .reshape({-1, weight_[i][0].numel()})
                           .contiguous()
                     : x.reshape({x.size(0), -1}).contiguous();
      ops.w = weight_[i].reshape({nd.out_channels, -1}).t().contiguous();
    }
  } else {
    LPSIM_CHECK(act_scale_[i] > 0);  // calibrate() first
    auto acc = accumulate(i, x, record_ ? &recorded_[i] : nullptr);
    const auto shape = nd.kind == OpKind::conv ? std::vector<int64_t>{1, -1, 1, 1} : std::vector<int64_t>{1, -1};
    // y = acc · s_x·s_w[n] + bias: in float32 when the combined scales are normal floats.
    auto s = wscale_[i] * act_scale_[i];
    const double smin = s.min().item<double>(), smax = s.max().item<double>();
    if (smin >= double(std::numeric_limits<float>::min()) && smax <= double(std::numeric_limits<float>::max())) {
      y = torch::addcmul(bias_[i].view(shape), acc.to(torch::kFloat32), s.to(torch::kFloat32).view(shape));
    } else {
      y = torch::addcmul(bias_[i].to(torch::kFloat64).view(shape), acc.to(torch::kFloat64), s.view(shape))
              .to(torch::kFloat32);
    }
  }
  out_shape_[i] = std::vector<int64_t>(y.sizes().begin() + 1, y.sizes().end());
  return y;
}

torch::Tensor QuantizedExecutor::accumulate(int i, const torch::Tensor& input, LayerOperands* ops) {
  const Node& nd = graph().nodes[i];
  const LayerQuant& q = layers_[i];
  LPSIM_CHECK(q.quantised && act_scale_[i] > 0);
  const double za = act_zero_[i];
  auto qx = activation_codes(q.activations, input, act_scale_[i], za, threads_, q.offset_bits);
  const auto& wq = wgrid_[i];  // N × K raw codes
  const int64_t N = nd.out_channels, K = wq.size(1), B = qx.size(0);
  const bool conv = nd.kind == OpKind::conv;
  const bool wzeros = wzero_[i].abs().max().item<double>() > 0;
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
  // Padding holds real zero: the raw code z_a (im2col pads with 0, hence the shift).
  auto operands = [&] {
    if (cols_kn.defined()) return;
    cols_kn = (za != 0 && conv && nd.padding > 0 ? im2col(qx - float(za)) + float(za) : im2col(qx)).contiguous();
    w_kn = wq.t().contiguous();
  };
  if (ops) {
    operands();
    ops->cols = cols_kn;
    ops->w = w_kn;
    ops->fp32 = false;
    ops->act_zero = za;
    ops->weight_zero = wzero_[i];
  }
  auto gemm_exact = [&](const torch::Tensor& a, const torch::Tensor& w, torch::ScalarType t) {
    if (conv)
      return F::conv2d(a.to(t), w.to(t).view({N, nd.in_channels, nd.kernel, nd.kernel}),
                       F::Conv2dFuncOptions().stride(nd.stride).padding(nd.padding));
    return F::linear(a.to(t), w.to(t));
  };
  if (q.accumulator == "fp32") {
    // Sequential FP32 in the PE's order (k = 0 … K−1): one RNE rounding of each product
    // (exact for operands of up to 12 significand bits) and of each addition.
    operands();
    const int64_t M = cols_kn.size(0);
    const float* c = cols_kn.data_ptr<float>();
    const float* wp = w_kn.data_ptr<float>();
    auto out = torch::zeros({M, N}, torch::kFloat32);
    float* o = out.data_ptr<float>();
    for (int64_t m = 0; m < M; ++m) {
      float* acc = o + m * N;
      for (int64_t k = 0; k < K; ++k) {
        const float a = c[m * K + k];
        const float* wr = wp + k * N;
        for (int64_t n = 0; n < N; ++n) acc[n] += a * wr[n];
      }
    }
    outputs_seen_[i] += out.numel();
    return to_output(out);
  }
  const AccRange range = acc_range(i);
  // Centred operands q − z (exact small integers in float32).
  auto ca = za != 0 ? qx - float(za) : qx;
  auto cw = wzeros ? wq - wzero_[i].to(torch::kFloat32).view({-1, 1}) : wq;
  // Every partial sum is an integer bounded by Σ|a||w| ≤ K·max|a|·max|w|: below 2^24 any
  // float32 summation order is exact, below 2^53 any float64 order is; beyond, the
  // operands are split (exact_int64_sums). The formats bound it without a data pass.
  const double mag_a = za != 0 ? std::max(za, levels(q.activations) - za) : format_max_magnitude(q.activations);
  const double mag_w = wzeros ? std::max(wzero_[i].max().item<double>(),
                                         levels(q.weights) - wzero_[i].min().item<double>())
                              : format_max_magnitude(q.weights);
  double bound = double(K) * mag_a * mag_w;
  if (bound > std::ldexp(1.0, 24)) bound = double(K) * ca.abs().max().item<double>() * cw.abs().max().item<double>();
  torch::Tensor C;
  if (bound <= std::ldexp(1.0, 24))
    C = gemm_exact(ca, cw, torch::kFloat32);
  else if (bound < std::ldexp(1.0, 53))
    C = gemm_exact(ca, cw, torch::kFloat64);
  else
    C = exact_int64_sums(gemm_exact, ca, cw);
  outputs_seen_[i] += C.numel();
  const bool saturate = q.acc_overflow == arith::Overflow::saturate;
  if (q.pann && saturate) {
    // Two unsigned accumulators only ever grow: each saturates iff its exact sum exceeds
    // the rail, whatever the order. pos − neg − z_a·Σw̃ is then clamped to the output range.
    auto pos = exact_int64_sums(gemm_exact, qx, wq.clamp_min(0)), neg = exact_int64_sums(gemm_exact, qx, (-wq).clamp_min(0));
    const int64_t rail = (int64_t{1} << q.acc_bits) - 1;
    acc_max_abs_[i] = std::max(acc_max_abs_[i], double(torch::maximum(pos, neg).max().item<int64_t>()));
    auto corrected = pos.clamp_max(rail) - neg.clamp_max(rail) - ((pos - neg) - C.to(torch::kInt64));
    const int64_t olo = -(int64_t{1} << (q.acc_bits - 1)), ohi = (int64_t{1} << (q.acc_bits - 1)) - 1;
    out_of_range_[i] += ((pos > rail) | (neg > rail) | (corrected < olo) | (corrected > ohi)).sum().item<int64_t>();
    return corrected.clamp(olo, ohi);
  }
  const double out_lo = range.lo(range.out_signed), out_hi = range.hi(range.out_signed);
  const double mac_lo = range.lo(range.mac_signed), mac_hi = range.hi(range.mac_signed);
  // Raw register bound (what the MAC holds before the corrections).
  const double raw_bound = (za == 0 && !wzeros) ? bound
                                                : double(K) * format_max_magnitude(q.activations) *
                                                      format_max_magnitude(q.weights);
  const bool raw_reachable = !q.pann && saturate && raw_bound > std::min(mac_hi, -mac_lo > 0 ? -mac_lo : mac_hi);
  if (bound <= std::min(out_hi, -out_lo > 0 ? -out_lo : out_hi) && !raw_reachable) {
    // No value can leave the range: the exact sums are the result.
    acc_max_abs_[i] = std::max(acc_max_abs_[i], C.abs().max().item<double>());
    return C;
  }
  auto Ci = C.to(torch::kInt64);
  acc_max_abs_[i] = std::max(acc_max_abs_[i], double(Ci.abs().max().item<int64_t>()));
  const int64_t olo = int64_t(out_lo), ohi = int64_t(out_hi);
  if (!saturate) {
    // Two's-complement wrap is arithmetic modulo 2^B: wrapping every partial sum and the
    // corrections, or wrapping the exact centred sum, agree.
    out_of_range_[i] += ((Ci < olo) | (Ci > ohi)).sum().item<int64_t>();
    const int64_t mask = (int64_t{1} << q.acc_bits) - 1;
    return torch::bitwise_and(Ci - olo, mask) + olo;
  }
  if (!raw_reachable) {
    out_of_range_[i] += ((Ci < olo) | (Ci > ohi)).sum().item<int64_t>();
    return Ci.clamp(olo, ohi);
  }
  // Saturation reachable: the raw register in the PE's k-order, every partial sum clamped
  // to the MAC's range; the exact (unclamped) running sums give the width that would not
  // saturate. Then the corrections, exactly, and the output clamp.
  operands();
  const int64_t M = cols_kn.size(0);
  const float* c = cols_kn.data_ptr<float>();
  const float* wp = w_kn.data_ptr<float>();
  const int64_t lo = int64_t(mac_lo), hi = int64_t(mac_hi);
  auto raw = torch::zeros({M, N}, torch::kInt64), raw_exact = torch::zeros({M, N}, torch::kInt64);
  std::vector<uint8_t> hit(size_t(M * N), 0);
  int64_t* o = raw.data_ptr<int64_t>();
  int64_t max_abs = 0;
  for (int64_t m = 0; m < M; ++m) {
    int64_t* acc = o + m * N;
    int64_t* e = raw_exact.data_ptr<int64_t>() + m * N;
    for (int64_t k = 0; k < K; ++k) {
      const int64_t a = int64_t(c[m * K + k]);
      const float* wr = wp + k * N;
      for (int64_t n = 0; n < N; ++n) {
        const int64_t p = a * int64_t(wr[n]);
        const int64_t s = acc[n] + p;
        e[n] += p;
        max_abs = std::max(max_abs, e[n] < 0 ? -e[n] : e[n]);
        if (s < lo || s > hi) hit[size_t(m * N + n)] = 1;
        acc[n] = std::clamp(s, lo, hi);
      }
    }
  }
  acc_max_abs_[i] = std::max(acc_max_abs_[i], double(max_abs));
  // Corrections: C = raw_exact − corr, so corr = raw_exact − C; the result is raw − corr.
  auto Crows = conv ? Ci.flatten(2).transpose(1, 2).reshape({-1, N}) : Ci;
  auto corrected = raw - (raw_exact - Crows);
  auto result = corrected.clamp(olo, ohi);
  auto hit_t = torch::from_blob(hit.data(), {M, N}, torch::kUInt8).to(torch::kBool);
  out_of_range_[i] += (hit_t | (corrected < olo) | (corrected > ohi)).sum().item<int64_t>();
  return to_output(result);
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
    if (q.quantised && q.pann) {
      const auto a = wgrid_[i].abs();
      c.pann_additions = c.M * a.sum().item<int64_t>();
      c.pann_starts = c.M * (a > 0).sum().item<int64_t>();
      c.pann_R = a.mean().item<double>();
    }
    int wb = q.quantised ? arith::format_bits(q.weights) : 32;
    if (q.quantised && q.pann) wb = 1 + bits_for(wgrid_[i].abs().max().item<double>(), false);  // sign + |w̃|
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
