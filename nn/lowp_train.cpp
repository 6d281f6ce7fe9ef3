#include "nn/lowp_train.h"

#include <algorithm>
#include <optional>
#include <cmath>
#include <fstream>
#include <map>
#include <mutex>
#include <span>
#include <tuple>

#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <omp.h>
#include <ATen/ops/convolution_backward.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include "arith/aciq.h"
#include "arith/atomic_file.h"
#include "arith/error.h"
#include "arith/file_lock.h"
#include "arith/hash.h"
#include "arith/format.h"
#include "arith/lognormal_format.h"
#include "arith/lognormal_prune.h"
#include "arith/luq.h"
#include "arith/quantize.h"

namespace lpsim::nn {

namespace F = torch::nn::functional;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

namespace {

uint64_t mix(uint64_t a, uint64_t b) {  // splitmix64 of a combined with b
  uint64_t z = a + 0x9E3779B97F4A7C15ull * (b + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

std::span<const float> span_of(const torch::Tensor& t) { return {t.data_ptr<float>(), size_t(t.numel())}; }
std::span<float> mspan_of(torch::Tensor& t) { return {t.data_ptr<float>(), size_t(t.numel())}; }

// float(double(t) · k) element by element (t float32 or float64): the bits of
// (t.to(kFloat64) * k).to(kFloat32) in one pass instead of three. A float32 t that the
// caller owns alone (fresh from a kernel) is scaled in place: no new buffer (a large one
// costs its page faults at every step).
torch::Tensor scaled_to_float(const torch::Tensor& t_in, double k, bool in_place = false) {
  RECORD_FUNCTION("lpsim::scaled_to_float", std::vector<c10::IValue>());
  if (k == 1 && t_in.scalar_type() == torch::kFloat32) return t_in;
  const auto t = t_in.contiguous();
  const bool same = in_place && t.scalar_type() == torch::kFloat32 && t.is_same(t_in);
  auto out = same ? t : torch::empty(t.sizes(), torch::kFloat32);
  float* o = out.data_ptr<float>();
  const auto run = [&](const auto* in) {
    at::parallel_for(0, t.numel(), 1 << 15, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) o[i] = float(double(in[i]) * k);
    });
  };
  if (t.scalar_type() == torch::kFloat64) run(t.data_ptr<double>());
  else run(t.to(torch::kFloat32).data_ptr<float>());
  return out;
}

}  // namespace

uint64_t lowp_step_seed(uint64_t seed, int64_t step) { return mix(seed, uint64_t(step)); }

std::pair<torch::Tensor, double> sawb_int4(const torch::Tensor& x, bool is_weight) {
  RECORD_FUNCTION("lpsim::sawb_int4", std::vector<c10::IValue>());
  auto f = x.detach().to(torch::kFloat32).contiguous();
  const arith::SawbStats st = arith::sawb_stats(span_of(f), 12.1, 12.2, torch::get_num_threads());  // clip, min, max|x|
  if (st.max_abs == 0) return {torch::zeros_like(f), 1.0};
  const double clip = st.clip > 0 ? st.clip : double(st.max_abs);  // near-constant magnitudes: SAWB's formula goes ≤ 0
  const bool unsigned_codes = !is_weight && st.min >= 0;
  const double qn = unsigned_codes ? 0 : -7, qp = unsigned_codes ? 15 : 7;
  const double scale = 2 * clip / (qp - qn);
  // x/scale, clamped, then rounded half to even, as the reference code (torch.round of
  // torch.clamp): the division as LibTorch's by a scalar, a multiplication by the float
  // reciprocal; one pass, element-wise (any chunking gives the same bits). Rounding: for
  // |v| ≤ 2^22, v + 1.5·2^23 lands where a float's unit is 1, so the addition rounds v
  // to an integer, half to even (the default rounding mode, as nearbyint), and the
  // subtraction is exact: the vectorisable form of nearbyint.
  auto out = torch::empty_like(f);
  const float inv = 1.0f / float(scale), lo = float(qn), hi = float(qp);
  const float* in = f.data_ptr<float>();
  float* o = out.data_ptr<float>();
  arith::parallel_chunks(size_t(f.numel()), 1 << 16, torch::get_num_threads(), [&](size_t b, size_t e) {
    constexpr float kRound = 0x1.8p23f;
    for (size_t i = b; i < e; ++i) o[i] = (std::clamp(in[i] * inv, lo, hi) + kRound) - kRound;
  });
  return {out, scale};
}

// arith::choose_lognormal_format (an exact error integral per candidate: milliseconds)
// memoised on σ to 4 significant digits: the choice can differ from the exact σ's only
// within 0.05 % of a boundary between two formats, where their errors agree to ~0.1 %.
arith::FloatFormat chosen_format(int bits, double sigma) {
  static std::mutex m;
  static std::map<std::pair<int, double>, arith::FloatFormat> memo;
  const double s = std::max(sigma, 1e-3);
  const double key = std::stod(fmt::format("{:.4g}", s));
  std::lock_guard<std::mutex> lock(m);
  auto it = memo.find({bits, key});
  if (it == memo.end()) it = memo.emplace(std::pair{bits, key}, arith::choose_lognormal_format(bits, key).format).first;
  return it->second;
}

torch::Tensor quantise_gradient(const GradientSpec& spec, const torch::Tensor& g_in, uint64_t seed, uint32_t stream,
                                arith::FloatFormat* format, GradientLog* log, bool fit_for_log) {
  RECORD_FUNCTION("lpsim::quantise_gradient", std::vector<c10::IValue>());
  auto g = g_in.detach().to(torch::kFloat32).contiguous();
  auto out = torch::empty_like(g);
  const auto gs = span_of(g);
  auto os = mspan_of(out);
  // fp8/prune need the fit at every step (the scale, the threshold); LUQ only for the log.
  arith::LognormalFit fit;
  if ((log && fit_for_log) || spec.method != "luq") fit = arith::fit_lognormal(gs, torch::get_num_threads());
  // A value to quantise: a non-zero and no NaN (as max|g| > 0: a NaN makes the max NaN).
  // LUQ finds its max itself.
  const bool any = spec.method == "luq" || (fit.nans == 0 && fit.zero_fraction < 1);
  if (log) log->mu = fit.mu, log->sigma = fit.sigma;
  if (spec.method == "luq") {
    arith::LuqOptions o;
    o.levels = spec.luq_levels, o.seed = seed, o.stream = stream;
    o.threads = torch::get_num_threads();  // results do not depend on it (arith/luq.h)
    const arith::LuqResult r = arith::luq_quantize(gs, os, o);
    if (log) log->alpha = r.alpha;
  } else if (spec.method == "fp8") {
    LPSIM_CHECK(format != nullptr);
    // auto: chosen at every step from this gradient's own fit (chosen once per epoch, a
    // layer whose spread grew within the epoch saturated and LeNet-5 diverged).
    if (spec.format == "auto" && any) *format = chosen_format(spec.format_bits, fit.sigma);
    if (!any) {
      out.zero_();
    } else {
      arith::QuantizeOptions o;
      o.scale = float(1.0 / arith::lognormal_centring_scale(fit));  // value of one unit: e^μ
      o.rounding = spec.rounding == "stochastic" ? arith::RoundMode::stochastic : arith::RoundMode::nearest_even;
      o.overflow = arith::Overflow::saturate;
      o.seed = seed, o.stream = stream;
      o.threads = torch::get_num_threads();  // results do not depend on it (arith/quantize.h)
      arith::quantize(*format, gs, os, o);
    }
    if (log) log->format = format->name;
  } else if (spec.method == "prune") {
    if (any) arith::lognormal_prune(gs, os, spec.sparsity, seed, stream, &fit, torch::get_num_threads());
    else out.zero_();
  } else {
    out.copy_(g);
  }
  if (log && fit_for_log)
    log->sparsity = double((out == 0).sum().item<int64_t>()) / double(std::max<int64_t>(1, out.numel()));
  return out;
}

// A convolution's gradients with a fixed reduction order. The weight gradient sums over
// the batch, and LibTorch's kernel (oneDNN) splits the batch over its threads, so its bits
// would depend on their number: the batch is cut into fixed chunks instead, each chunk's
// weight gradient by the kernel inside a parallel task on one thread, the chunks' added in
// order in sum_type. The input gradient sums over no image: with want_dx it is one call on
// the whole batch, on all threads (its bits do not depend on their number: checked on
// LeNet-5's and ResNet-8's layer shapes by LowpTrain.ConvolutionInputGradientIsTheSameOnAnyThreadCount).
// Returns {dx or an undefined tensor, dw}.
std::pair<torch::Tensor, torch::Tensor> conv_grads_in_chunks(const Node& nd, const torch::Tensor& x,
                                                             const torch::Tensor& w, const torch::Tensor& g,
                                                             int64_t chunk, torch::ScalarType sum_type, bool want_dx) {
  const std::vector<int64_t> stride{nd.stride, nd.stride}, pad{nd.padding, nd.padding}, dil{1, 1}, outpad{0, 0};
  const int64_t B = x.size(0), n = (B + chunk - 1) / chunk;
  std::vector<torch::Tensor> parts(static_cast<size_t>(n));
  const torch::Tensor dx =
      want_dx ? std::get<0>(at::convolution_backward(g, x, w, c10::nullopt, stride, pad, dil, false, outpad, 1, {true, false, false}))
              : torch::Tensor();
  at::parallel_for(0, n, 1, [&](int64_t b, int64_t e) {
    // One thread per chunk: the kernel's own OpenMP team would otherwise be as wide as this
    // task's nthreads setting (a per-task value, restored when the task ends).
    const int prev = omp_get_max_threads();
    omp_set_num_threads(1);
    for (int64_t i = b; i < e; ++i) {
      const int64_t lo = i * chunk, hi = std::min(B, lo + chunk);
      const torch::Tensor gw = std::get<1>(at::convolution_backward(g.slice(0, lo, hi), x.slice(0, lo, hi), w, c10::nullopt,
                                                                     stride, pad, dil, false, outpad, 1, {false, true, false}));
      parts[size_t(i)] = gw.to(sum_type);
    }
    omp_set_num_threads(prev);
  });
  auto dw = parts[0];
  for (int64_t i = 1; i < n; ++i) dw = dw + parts[size_t(i)];
  return {dx, dw};
}

// LUQ's gradient ±α·2^k → the codes ±2^k, in place (a float division, exact: LibTorch's
// division by a scalar multiplies by the rounded reciprocal), in the same pass the largest
// Σ|code| of one output channel over images and positions (integers: exact in double in
// any order). g: B × N × … float32, contiguous.
double to_codes(torch::Tensor& g, float alpha) {
  RECORD_FUNCTION("lpsim::to_codes", std::vector<c10::IValue>());
  const int64_t B = g.size(0), N = g.size(1), P = g.numel() / std::max<int64_t>(1, B * N);
  float* p = g.data_ptr<float>();
  std::vector<double> l1(size_t(N), 0.0);
  at::parallel_for(0, N, 1, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n) {
      double sum = 0;
      for (int64_t b = 0; b < B; ++b) {
        float* q = p + (b * N + n) * P;
        int64_t run = 0;  // |code| ≤ 2^7, integers: an integer sum (vectorised)
        for (int64_t i = 0; i < P; ++i) {
          q[i] /= alpha;
          const float a = std::fabs(q[i]);
          run += a < 256.0f ? int32_t(a) : 256;  // a NaN (from a NaN gradient) counts as large
        }
        sum += double(run);
      }
      l1[size_t(n)] = sum;
    }
  });
  return l1.empty() ? 0.0 : *std::max_element(l1.begin(), l1.end());
}

// The backward GEMMs on integer operands (INT4 codes, LUQ gradient ±2^k with |k| < levels),
// exactly: every partial sum is an integer, so float32 adds it exactly wherever its
// magnitude stays below 2^24, and then any summation order, any thread count, gives the
// same bits. The input gradient sums N·k² terms of at most top·7 (a static bound). The
// weight gradient w.r.t. output channel n sums B·positions terms g·x, bounded by
// Σ_{b,p} |g[b,n,p]| · 15: measured on the step's own gradient (LUQ's is mostly zeros and
// small powers of two), under 2^24 it is one LibTorch call on all threads like FP32's;
// else the batch is cut into chunks whose static bound (positions·top·15 per image) stays
// below, each exact in float32, the chunks added in float64
// (conv_grads_in_chunks), or float64 throughout.
std::pair<torch::Tensor, torch::Tensor> exact_code_grads(const Node& nd, const torch::Tensor& xo, const torch::Tensor& wo,
                                                         const torch::Tensor& gq, double top, double channel_l1,
                                                         bool want_dx) {
  RECORD_FUNCTION("lpsim::exact_code_grads", std::vector<c10::IValue>());
  const bool conv = nd.kind == OpKind::conv;
  const int64_t B = xo.size(0), N = nd.out_channels;
  const int64_t taps = conv ? int64_t(nd.kernel) * nd.kernel : 1;
  const int64_t positions = conv ? gq.size(2) * gq.size(3) : 1;
  const auto tx = double(N * taps) * top * 7 < 0x1p24 ? torch::kFloat32 : torch::kFloat64;
  const bool one_call = channel_l1 * 15 < 0x1p24;
  const int64_t chunk = std::max<int64_t>(1, int64_t(0x1p24 / (double(positions) * top * 15)) - 1);
  const auto tw = one_call || double(positions) * top * 15 < 0x1p24 ? torch::kFloat32 : torch::kFloat64;
  auto w4 = conv ? wo.view({N, nd.in_channels, nd.kernel, nd.kernel}) : wo.view({N, -1});
  const auto gx_in = gq.to(tx), gw_in = gq.to(tw);  // gq: the codes in float32 (no copy when kept)
  torch::Tensor dx, dw;
  if (conv) {
    const std::vector<int64_t> stride{nd.stride, nd.stride}, pad{nd.padding, nd.padding}, dil{1, 1}, outpad{0, 0};
    if (one_call && tx == torch::kFloat32) {
      // Both gradients in one call (as LibTorch's own layer does): operands and type agree.
      auto [gi, gw, unused_gb] = at::convolution_backward(gq, xo, w4, c10::nullopt, stride, pad, dil, false, outpad, 1,
                                                   {want_dx, true, false});
      return {gi, gw.view(wo.sizes())};  // float32, exact integers: scaled_to_float reads them as they are
    }
    if (want_dx)
      dx = std::get<0>(at::convolution_backward(gx_in, xo.to(tx), w4.to(tx), c10::nullopt, stride, pad, dil, false,
                                                outpad, 1, {true, false, false}));
    if (one_call) {
      dw = std::get<1>(at::convolution_backward(gw_in, xo.to(tw), w4.to(tw), c10::nullopt, stride, pad, dil, false, outpad,
                                                1, {false, true, false}))
               .to(torch::kFloat64);
    } else {
      dw = conv_grads_in_chunks(nd, xo.to(tw), w4.to(tw), gw_in, chunk, torch::kFloat64, false).second;
    }
  } else {
    if (want_dx) dx = gx_in.mm(w4.to(tx));
    auto xr = xo.reshape({B, -1});
    const int64_t step = one_call ? B : chunk;
    for (int64_t b0 = 0; b0 < B; b0 += step) {
      const int64_t b1 = std::min(B, b0 + step);
      auto part = gw_in.slice(0, b0, b1).t().mm(xr.slice(0, b0, b1).to(tw)).to(torch::kFloat64);
      dw = dw.defined() ? dw + part : part;
    }
  }
  return {dx, dw.view(wo.sizes())};  // dx float32 or float64 as computed (exact either way)
}

// Σ of g (B × C × …) over images and positions per channel, in one fixed order in
// float64: the same bits whatever the thread count (a parallel reduction's partial sums
// depend on it).
torch::Tensor ordered_channel_sum(const torch::Tensor& g) {
  const auto c = g.detach().to(torch::kFloat64).contiguous();
  const int64_t B = c.size(0), C = c.size(1), P = c.numel() / std::max<int64_t>(1, B * C);
  auto out = torch::zeros({C}, torch::kFloat64);
  double* o = out.data_ptr<double>();
  const double* p = c.data_ptr<double>();
  for (int64_t b = 0; b < B; ++b)
    for (int64_t ch = 0; ch < C; ++ch)
      for (int64_t i = 0; i < P; ++i) o[ch] += p[(b * C + ch) * P + i];
  return out;
}

// One conv/linear of LowpNet: forward and the backward GEMMs in the method's precision.
struct LowpGemmFn : public torch::autograd::Function<LowpGemmFn> {
  static torch::Tensor forward(AutogradContext* ctx, torch::Tensor x, torch::Tensor w, torch::Tensor b, int64_t layer) {
    auto* L = reinterpret_cast<LowpNet::Layer*>(layer);
    const Node& nd = L->owner->net_->graph().nodes[size_t(L->node)];
    const bool luq = L->owner->spec_.method == "luq";
    ctx->saved_data["layer"] = layer;
    torch::Tensor xo, wo;  // the operands the GEMMs use: INT4 codes (LUQ, float32) or float64 values
    double sx = 1, sw = 1;
    if (luq) {
      auto [xi, a] = sawb_int4(x, false);
      auto [wi, c] = sawb_int4(w, true);
      xo = xi, wo = wi, sx = a, sw = c;
    } else {
      xo = x.detach(), wo = w.detach();  // FP32 forward (as LibTorch's)
    }
    ctx->saved_data["sx"] = sx, ctx->saved_data["sw"] = sw;
    ctx->saved_data["has_bias"] = b.numel() > 0;
    ctx->save_for_backward({xo, wo});
    if (auto* rec = L->owner->record_) {
      auto& r = (*rec)[size_t(L->index)];
      r.node = L->node, r.x = xo, r.w = wo;
    }
    torch::Tensor y;
    // Integer codes: every partial sum is an integer below K·15·7; under 2^24 float32 adds
    // them exactly in any order (else float64, exact below 2^53). fp32/fp8/prune: the FP32
    // forward in float32, as LibTorch's own layer.
    const int64_t K = wo.numel() / nd.out_channels;
    const auto t = !luq || double(K) * 15 * 7 < 0x1p24 ? torch::kFloat32 : torch::kFloat64;
    if (nd.kind == OpKind::conv)
      y = F::conv2d(xo.to(t), wo.to(t).view({nd.out_channels, nd.in_channels, nd.kernel, nd.kernel}),
                    F::Conv2dFuncOptions().stride(nd.stride).padding(nd.padding));
    else
      y = F::linear(xo.to(t), wo.to(t).view({nd.out_channels, -1}));
    if (luq) y = scaled_to_float(y, sx * sw, true);
    if (b.numel() > 0) y = y + (nd.kind == OpKind::conv ? b.view({1, -1, 1, 1}) : b.view({1, -1}));
    return y;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto* L = reinterpret_cast<LowpNet::Layer*>(ctx->saved_data["layer"].toInt());
    LowpNet& net = *L->owner;
    const GradientSpec& spec = net.spec_;
    const Node& nd = net.net_->graph().nodes[size_t(L->node)];
    const auto saved = ctx->get_saved_variables();
    const auto& xo = saved[0];
    const auto& wo = saved[1];
    const double sx = ctx->saved_data["sx"].toDouble(), sw = ctx->saved_data["sw"].toDouble();
    const bool has_bias = ctx->saved_data["has_bias"].toBool();
    const auto g = grads[0];
    // The network's first layer: no gradient w.r.t. the images (LibTorch's own layers skip
    // it too).
    const bool want_dx = ctx->needs_input_grad(0);
    GradientLog& log = net.log_[size_t(L->index)];
    if (spec.method == "fp8" && spec.format != "auto" && L->format.name.empty())
      L->format = std::get<arith::FloatFormat>(arith::parse_format(spec.format));
    const int samples = spec.method == "luq" ? spec.smp : 1;
    torch::Tensor gx, gw, gb;
    for (int s = 0; s < samples; ++s) {
      const uint64_t seed = lowp_step_seed(net.seed_, net.step_);
      const uint32_t stream = uint32_t(L->index * 16 + s);
      // LUQ: the gradient as integers ±2^k (exact sums) in float32, times α; fp8/prune:
      // float32 GEMMs, as the FP32 baseline's.
      GradientLog step_log;  // a step whose statistics are not logged
      GradientLog& slog = net.log_stats_ ? log : step_log;
      auto gq = quantise_gradient(spec, g, seed, stream, &L->format, &slog, net.log_stats_);
      double unit = 1, channel_l1 = 0;
      if (spec.method == "luq") {
        if (slog.alpha > 0) unit = slog.alpha;
        channel_l1 = to_codes(gq, float(unit));
      }
      if (net.record_ && s == 0) {
        auto& r = (*net.record_)[size_t(L->index)];
        r.g = gq, r.format = L->format;
        r.g_unit = spec.method == "luq" ? unit
                   : spec.method == "fp8" ? 1 / arith::lognormal_centring_scale(arith::LognormalFit{slog.mu, slog.sigma})
                                          : 1;
      }
      torch::Tensor dx, dw;
      if (spec.method == "luq") {
        std::tie(dx, dw) = exact_code_grads(nd, xo, wo, gq, double(1 << (spec.luq_levels - 1)), channel_l1, want_dx);
      } else if (nd.kind == OpKind::conv) {
        // The weight gradient per chunk of 16 images (measured on ResNet-8, 2 threads: 16
        // and 32 equally fast, 8 slower; 16 leaves more chunks to more threads).
        std::tie(dx, dw) = conv_grads_in_chunks(nd, xo, wo.view({nd.out_channels, nd.in_channels, nd.kernel, nd.kernel}),
                                                gq, 16, torch::kFloat32, want_dx);
        dw = dw.view(wo.sizes());
      } else {
        if (want_dx) dx = gq.mm(wo.view({nd.out_channels, -1}));
        dw = gq.t().mm(xo.reshape({xo.size(0), -1})).view(wo.sizes());
      }
      // Straight-through: the real gradients are the code gradients times the other scale,
      // in float64 (one sample: rounded to float32 in the same pass).
      const double kx = unit * sw, kw = unit * sx;
      auto db = has_bias ? ordered_channel_sum(gq) * unit : torch::Tensor();
      if (samples == 1) {
        gx = want_dx ? scaled_to_float(dx, kx, true) : dx, gw = scaled_to_float(dw, kw, true), gb = db;
      } else {
        if (want_dx) dx = dx.to(torch::kFloat64) * kx, gx = s == 0 ? dx : gx + dx;
        dw = dw.to(torch::kFloat64) * kw;
        gw = s == 0 ? dw : gw + dw;
        if (has_bias) gb = s == 0 ? db : gb + db;
      }
    }
    if (samples > 1) gx = want_dx ? gx / samples : gx, gw = gw / samples, gb = has_bias ? gb / samples : gb;
    ++log.steps;
    return {want_dx ? gx.to(torch::kFloat32) : torch::Tensor(), gw.to(torch::kFloat32), has_bias ? gb.to(torch::kFloat32) : torch::Tensor(),
            torch::Tensor()};
  }
};

LowpNet::LowpNet(GraphNet net, GradientSpec spec, uint64_t seed) : net_(std::move(net)), spec_(std::move(spec)), seed_(seed) {
  const auto& m = spec_.method;
  if (m != "fp32" && m != "luq" && m != "fp8" && m != "prune")
    throw InputError("training method must be one of: fp32, luq, fp8, prune (got '" + m + "')", {}, "training.method");
  if (spec_.smp < 1 || spec_.smp > 16) throw InputError("smp must be in [1, 16]", {}, "training.smp");
  if (spec_.luq_levels != 7 && spec_.luq_levels != 8) throw InputError("LUQ levels must be 7 or 8", {}, "training.levels");
  if (spec_.rounding != "nearest" && spec_.rounding != "stochastic")
    throw InputError("rounding must be nearest or stochastic", {}, "training.rounding");
  if (!(spec_.sparsity >= 0 && spec_.sparsity < 1)) throw InputError("sparsity must be in [0, 1)", {}, "training.sparsity");
  if (m == "fp8" && spec_.format != "auto") {
    const auto f = arith::parse_format(spec_.format);  // InputError names a bad format
    if (!std::holds_alternative<arith::FloatFormat>(f))
      throw InputError("gradient format '" + spec_.format + "' is not a floating-point format", {}, "training.gradients");
  }
  if (m == "fp8" && spec_.format == "auto" && (spec_.format_bits < 4 || spec_.format_bits > 16))
    throw InputError("gradient format width must be in [4, 16]", {}, "training.bits");
  const Graph& g = net_->graph();
  layers_.resize(g.nodes.size());
  int index = 0;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    if (!Graph::is_gemm(g.nodes[i].kind)) continue;
    layers_[i].owner = this, layers_[i].node = int(i), layers_[i].index = index++;
    GradientLog l;
    l.layer = g.nodes[i].name;
    log_.push_back(l);
  }
}

torch::Tensor LowpNet::gemm(int i, const torch::Tensor& x) {
  const Node& nd = net_->graph().nodes[size_t(i)];
  torch::Tensor w, b;
  if (nd.kind == OpKind::conv) {
    w = net_->conv(i)->weight;
    if (nd.bias) b = net_->conv(i)->bias;
  } else {
    w = net_->linear(i)->weight;
    if (nd.bias) b = net_->linear(i)->bias;
  }
  // A bias-free layer passes an empty tensor (autograd functions take defined tensors).
  if (!b.defined()) b = torch::empty({0});
  return LowpGemmFn::apply(x, w, b, reinterpret_cast<int64_t>(&layers_[size_t(i)]));
}

torch::Tensor LowpNet::forward(const torch::Tensor& x) {
  if (spec_.method == "fp32" && !record_) return net_->forward(x);
  return net_->run(x, [&](int i, const torch::Tensor& t) { return gemm(i, t); });
}

double lowp_test_accuracy(LowpNet& lp, const TensorDataset& test, bool lowp_forward, int batch) {
  torch::NoGradGuard ng;
  GraphNet& net = lp.net();
  net->eval();
  int64_t correct = 0;
  for (int64_t b = 0; b < test.size(); b += batch) {
    const int64_t e = std::min(test.size(), b + batch);
    const auto x = test.images.slice(0, b, e);
    const auto logits = lowp_forward ? lp.forward(x) : net->forward(x);
    correct += (logits.argmax(1) == test.labels.slice(0, b, e)).sum().item<int64_t>();
  }
  return double(correct) / double(std::max<int64_t>(1, test.size()));
}

std::string weights_sha256(GraphNet& net) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  auto add = [&](const std::string& name, const torch::Tensor& t) {
    EVP_DigestUpdate(ctx, name.data(), name.size());
    auto c = t.detach().contiguous();
    EVP_DigestUpdate(ctx, c.data_ptr(), size_t(c.numel()) * c.element_size());
  };
  for (const auto& p : net->named_parameters()) add(p.key(), p.value());
  for (const auto& b : net->named_buffers()) add(b.key(), b.value());
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, md, &len);
  EVP_MD_CTX_free(ctx);
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) hex += fmt::format("{:02x}", md[i]);
  return hex;
}

TrainResult lowp_train_or_load(GraphNet& net, const TensorDataset& train, const TrainConfig& cfg,
                               const GradientSpec& spec, const std::string& base_key,
                               const std::filesystem::path& cache_dir, const Progress& progress,
                               std::vector<EpochGradients>* logs, const TensorDataset* test) {
  torch::set_num_threads(cfg.threads);
  const std::string key = fmt::format("{}|{}|{}|smp{}|lv{}|{}|b{}|{}|sp{:.17g}|fnt{}|{}|e{}|bs{}|lr{:.17g}|m{:.17g}|wd{:.17g}|{}|s{}|t{}|n{}",
                                      base_key, lowp_version(spec), spec.method, spec.smp, spec.luq_levels, spec.format, spec.format_bits,
                                      spec.rounding, spec.sparsity, spec.fnt_epochs, spec.from, cfg.epochs,
                                      cfg.batch_size, cfg.lr, cfg.momentum, cfg.weight_decay, cfg.schedule, cfg.seed,
                                      cfg.threads, train.size());
  const auto dir = cache_dir / fmt::format("{}-{}-{:016x}", net->graph().arch, spec.method, fnv1a(key));
  // One process trains this model; others (parallel jobs, MPI ranks) wait, then load it.
  // A finished model (written atomically) is read without the lock.
  std::optional<FileLock> lock;
  if (!std::filesystem::exists(dir / "final" / "model.pt")) lock.emplace(dir / ".lock", say_waiting_for_model);
  const auto final_file = dir / "final" / "model.pt";
  // The training curve, one point per finished epoch, beside the checkpoints: a resumed or
  // cached run reports the epochs an earlier process ran.
  const auto curve_file = dir / "curve.json";
  std::vector<EpochPoint> curve;
  if (std::filesystem::exists(curve_file)) {
    try {
      curve = nlohmann::json::parse(std::ifstream(curve_file)).get<std::vector<EpochPoint>>();
    } catch (const nlohmann::json::exception& e) {
      throw InputError(std::string("unreadable training curve (delete it to retrain): ") + e.what(), curve_file.string());
    }
  }
  if (load_cached_model(net, final_file)) {
    TrainResult r;
    r.model_file = final_file, r.from_cache = true, r.curve = curve;
    return r;
  }
  LowpNet lp(net, spec, cfg.seed);
  const int64_t steps_per_epoch = (train.size() + cfg.batch_size - 1) / cfg.batch_size;
  auto record = [&](const std::string& phase, int epoch, double loss, bool lowp_forward) {
    EpochPoint p{phase, epoch, loss, NAN};
    if (test) p.test_accuracy = lowp_test_accuracy(lp, *test, lowp_forward);
    std::erase_if(curve, [&](const EpochPoint& q) { return q.epoch == epoch; });  // a resumed epoch's earlier try
    curve.push_back(p);
    std::sort(curve.begin(), curve.end(), [](const EpochPoint& a, const EpochPoint& b) { return a.epoch < b.epoch; });
    std::filesystem::create_directories(dir);
    atomic_write_file(curve_file, nlohmann::json(curve).dump(1));
  };
  int64_t batch = 0;
  int epoch_now = 0;
  EpochLoop loop;
  loop.label = spec.method;
  loop.epoch_start = [&](int e) {
    if (logs && e > epoch_now && !lp.log().empty() && lp.log().front().steps > 0) logs->push_back({epoch_now, lp.log()});
    epoch_now = e, batch = 0;
    net->train();
  };
  // The step of a batch: its (epoch, position), so a resumed run draws what an
  // uninterrupted one would.
  loop.forward = [&](const torch::Tensor& x) {
    const int64_t b = batch++;
    lp.set_step(int64_t(epoch_now) * 1000003 + b, b + 1 == steps_per_epoch);  // the log: each epoch's last step
    return lp.forward(x);
  };
  loop.epoch_end = [&](int e, double loss) { record(spec.method, e + 1, loss, true); };
  std::vector<torch::Tensor> params = net->parameters();
  TrainResult r;
  if (load_cached_model(net, dir / "lowp" / "model.pt")) {  // interrupted during FNT: the low-precision part is done
    r.model_file = dir / "lowp" / "model.pt";
  } else {
    r = run_epochs(net, params, train, cfg, dir / "lowp", loop, progress);
    if (logs && !lp.log().empty() && lp.log().front().steps > 0) logs->push_back({epoch_now, lp.log()});
  }
  if (spec.fnt_epochs > 0) {
    // FNT: a few FP32 epochs from the low-precision weights (the LR schedule restarts).
    TrainConfig f = cfg;
    f.epochs = spec.fnt_epochs;
    EpochLoop fl;
    fl.label = "fnt";
    fl.epoch_start = [&](int) { net->train(); };
    fl.forward = [&](const torch::Tensor& x) { return net->forward(x); };
    fl.epoch_end = [&](int e, double loss) { record("fnt", cfg.epochs + e + 1, loss, false); };
    const TrainResult fr = run_epochs(net, params, train, f, dir / "fnt", fl, progress);
    r.seconds += fr.seconds, r.last_epoch_loss = fr.last_epoch_loss;
  }
  std::filesystem::create_directories(final_file.parent_path());
  save_atomically([&](const std::string& path) { torch::save(net, path); }, final_file);
  r.model_file = final_file;
  r.curve = curve;
  return r;
}

}  // namespace lpsim::nn
