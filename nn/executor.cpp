#include "nn/executor.h"

#include <cmath>
#include <functional>
#include <numeric>
#include <optional>
#include <limits>
#include <span>

#include "arith/error.h"
#include "arith/quantize.h"

namespace lpsim::nn {

namespace F = torch::nn::functional;

namespace {

std::string fmt_range(const std::string& what, double lo) {
  return what + " must be in [" + std::to_string(int(lo)) + ", 8]";
}

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

// LNS grid values (2^(e/γ) rounded to float32, as arith::quantize writes them) back to
// their codes, exactly: a float32 value lies within 2^-24 of its code's magnitude, far
// inside half a log step. Returned as float32 (codes of at most 21 bits are exact there).
torch::Tensor lns_codes_of(const arith::LnsFormat& f, const torch::Tensor& values) {
  auto v = values.to(torch::kFloat32).contiguous();
  auto out = torch::empty_like(v);
  const float* in = v.data_ptr<float>();
  float* o = out.data_ptr<float>();
  for (int64_t i = 0; i < v.numel(); ++i) o[i] = float(arith::lns_quantize_nearest(f, double(in[i])));
  return out;
}

// The LNS units on every output of a GEMM: a (M × K codes) times w (K × N codes), each
// output's K products added in k order by the golden unit's own step (arith/lns.h).
// Returns the sums' real values (float64, M × N, in units of the operands' grids), the
// flags (overflow for A, saturation for B/C) and the largest |A sum| in table units.
struct LnsGemm {
  torch::Tensor values, flags;
  double max_abs = 0;
};
LnsGemm lns_gemm(const LayerQuant& q, const torch::Tensor& a, const torch::Tensor& w, int threads) {
  const int64_t M = a.size(0), K = a.size(1), N = w.size(1);
  auto codes = [](const torch::Tensor& t) {
    auto c = t.to(torch::kInt64).contiguous();
    return std::vector<uint32_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
  };
  const std::vector<uint32_t> ac = codes(a), wc = codes(w.t());  // M × K and N × K
  LnsGemm g;
  g.values = torch::empty({M, N}, torch::kFloat64);
  g.flags = torch::zeros({M, N}, torch::kBool);
  double* val = g.values.data_ptr<double>();
  bool* flag = g.flags.data_ptr<bool>();
  std::vector<double> max_abs(size_t(M), 0.0);
  // Every output (m, n) from its two code rows: one(x, y) -> {value, flag, |register|}.
  struct Out {
    double value;
    bool flag;
    double magnitude;
  };
  auto each_output = [&](const auto& one) {
    arith::parallel_chunks(size_t(M), 16, threads, [&](size_t m0, size_t m1) {
      for (size_t m = m0; m < m1; ++m)
        for (int64_t n = 0; n < N; ++n) {
          const Out o = one(&ac[m * size_t(K)], &wc[size_t(n * K)]);
          val[int64_t(m) * N + n] = o.value, flag[int64_t(m) * N + n] = o.flag;
          max_abs[m] = std::max(max_abs[m], o.magnitude);
        }
    });
  };
  if (q.accumulator != "linear") {
    const arith::LnsLogAcc u = lns_log_unit(q, K);
    each_output([&](const uint32_t* x, const uint32_t* y) {
      arith::LnsLogSum r;
      for (int64_t k = 0; k < K; ++k) r = arith::lns_log_step(u, r, x[k], y[k]);
      return Out{arith::lns_log_value(u, r), r.saturated, 0.0};
    });
  } else if (const arith::LnsLinearAcc u = lns_linear_unit(q, K); u.fmt.total_bits() <= 9 && u.acc_bits <= 63) {
    // Narrow codes: every product's term, as the golden step adds it to zero, in a table;
    // the unit's width holds any K of them (lns_linear_acc_bits), so no partial sum wraps
    // and the int64 sum of the terms is the unit's register, bit for bit.
    const int bits = u.fmt.total_bits();
    std::vector<int64_t> term(size_t{1} << (2 * bits));
    for (uint32_t a = 0; a < (1u << bits); ++a)
      for (uint32_t b = 0; b < (1u << bits); ++b)
        term[(size_t(a) << bits) | b] = int64_t(arith::lns_unit_a_step(u, {}, a, b).sum);
    each_output([&](const uint32_t* x, const uint32_t* y) {
      int64_t sum = 0;
      for (int64_t k = 0; k < K; ++k) sum += term[(size_t(x[k]) << bits) | y[k]];
      return Out{arith::lns_linear_value(u, sum), false, std::fabs(double(sum))};
    });
  } else {
    each_output([&](const uint32_t* x, const uint32_t* y) {
      arith::LnsAccResult r;
      for (int64_t k = 0; k < K; ++k) r = arith::lns_unit_a_step(u, r, x[k], y[k]);
      return Out{arith::lns_linear_value(u, r.sum), r.overflow, std::fabs(double(r.sum))};
    });
  }
  for (double v : max_abs) g.max_abs = std::max(g.max_abs, v);
  return g;
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

// Activations quantised by calibrate_layer (clipped, per channel or allocated), not by the plain range.
bool custom_activations(const LayerQuant& q) {
  return q.clip == "aciq" || q.clip == "mse" || q.per_channel_activations || q.activation_mean_bits > 0;
}

// The clipping / allocation / correction settings of a quantised layer, checked before any work.
void check_clipping(const Node& nd, const LayerQuant& q) {
  auto bad = [&](const std::string& why, const char* key) { throw InputError("layer " + nd.name + ": " + why, {}, key); };
  if (q.clip != "max" && q.clip != "none" && q.clip != "aciq" && q.clip != "mse")
    bad("clip must be one of: none, max, aciq, mse (got '" + q.clip + "')", "clip");
  if (q.prior != "laplace" && q.prior != "gauss" && q.prior != "auto")
    bad("prior must be one of: laplace, gauss, auto (got '" + q.prior + "')", "prior");
  const bool act_custom = custom_activations(q);
  if (act_custom && (!is_int(q.activations) || q.pann || q.offset_bits > 0))
    bad("clip aciq/mse, per-channel activations and activation bit allocation need integer activations "
        "(intN or uintN, not PANN or unsigned_mac)", "clip");
  if (q.weight_mean_bits > 0 && (!is_signed_int(q.weights) || q.pann || q.offset_bits > 0))
    bad("weight bit allocation needs signed intN weights", "bit_allocation");
  if (q.weight_mean_bits > 0 && !(q.weight_mean_bits >= 2 && q.weight_mean_bits <= 8))
    bad("bit_allocation.mean_bits for weights must be in [2, 8]", "bit_allocation.mean_bits");
  const double amin = is_signed_int(q.activations) ? 2 : 0;
  if (q.activation_mean_bits > 0 && !(q.activation_mean_bits >= amin && q.activation_mean_bits <= 8))
    bad(fmt_range("bit_allocation.mean_bits for activations", amin), "bit_allocation.mean_bits");
  if (act_custom && q.accumulator != "int") bad("clipped or per-channel activations need an int accumulator", "accumulator");
  if (q.bias_correction && (q.pann || q.offset_bits > 0 || !is_int(q.weights)))
    bad("bias_correction needs integer weights (not PANN or unsigned_mac)", "bias_correction");
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
  } else if (!q.weight_channel_bits.empty()) {
    // Channel n on int<M_n>: max|w_n| onto 2^(M_n−1) − 1 (so its codes stay inside that
    // width when rounded on the layer's widest grid).
    std::vector<double> top(static_cast<size_t>(N));
    for (int64_t n = 0; n < N; ++n) top[size_t(n)] = std::ldexp(1.0, q.weight_channel_bits[size_t(n)] - 1) - 1;
    auto scale = w2.abs().amax(1) / torch::tensor(top, torch::kFloat64);
    g.scale = torch::where(scale > 0, scale, torch::ones_like(scale));
    g.zero = torch::zeros_like(g.scale);
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
  wfold_.resize(n), wcorr_.resize(n), abias_.resize(n);
  act_scale_.assign(n, 0.0), act_zero_.assign(n, 0.0);
  act_chscale_.resize(n), act_shift_.resize(n), act_lo_.resize(n), act_hi_.resize(n), act_clip_.resize(n);
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
    const auto* la = std::get_if<arith::LnsFormat>(&q.activations);
    const auto* lw = std::get_if<arith::LnsFormat>(&q.weights);
    if (la || lw || is_lns_accumulator(q.accumulator)) {
      if (!la || !lw || la->name() != lw->name() || !is_lns_accumulator(q.accumulator))
        throw InputError("layer " + nd.name + ": LNS units take weights and activations of one LNS format (e.g. lns8_b3) "
                         "with accumulator linear, log or mitchell, got " + arith::format_name(q.weights) + " x " +
                         arith::format_name(q.activations) + " on " + q.accumulator,
                         {}, "accumulator");
      // The unit's parameters in range (α for A, F_acc for B/C), or an InputError naming them;
      // only the named unit is built (B's sb/db tables are thousands of entries).
      if (q.accumulator == "linear")
        (void)lns_linear_unit(q, 1);
      else
        (void)lns_log_unit(q, 1);
      // The integer-grid methods (their closed forms assume a uniform grid) do not apply.
      const char* grid_only = q.pann ? "method pann" : q.offset_bits ? "unsigned offsets" : q.clip != "max" && q.clip != "none" ? "clip"
                              : q.bias_correction ? "bias_correction" : q.per_channel_activations ? "per-channel activations"
                              : q.weight_mean_bits > 0 || q.activation_mean_bits > 0 ? "bit_allocation" : nullptr;
      if (grid_only)
        throw InputError("layer " + nd.name + ": " + grid_only + " applies to integer grids, not to LNS operands", {}, grid_only);
      wfold_[i] = w.view({nd.out_channels, -1}).contiguous();
      quantise_layer_weights(i);
      continue;
    }
    const bool fa = is_int(q.activations), fw = is_int(q.weights);
    if (q.accumulator == "int" && (!fa || !fw))
      throw InputError("layer " + nd.name + ": floating-point operands need accumulator fp32", {}, "accumulator");
    if (q.accumulator != "int" && q.accumulator != "fp32")
      throw InputError("layer " + nd.name + ": accumulator must be int or fp32 (linear, log, mitchell: LNS operands)", {},
                       "accumulator");
    if (q.accumulator == "int" && (q.acc_bits < 2 || q.acc_bits > 62))
      throw InputError("layer " + nd.name + ": acc_bits must be in [2, 62]", {}, "acc_bits");
    if (q.acc_overflow != arith::Overflow::wrap && q.acc_overflow != arith::Overflow::saturate)
      throw InputError("layer " + nd.name + ": accumulator overflow must be wrap or saturate", {}, "overflow");
    if (q.pann && !is_asymmetric(q.activations))
      throw InputError("layer " + nd.name + ": PANN needs unsigned activations (uintN)", {}, "activation_bits");
    check_clipping(nd, q);
    wfold_[i] = w.view({nd.out_channels, -1}).contiguous();
    quantise_layer_weights(i);
  }
}

void QuantizedExecutor::quantise_layer_weights(int i) {
  LayerQuant& q = layers_[i];
  const int64_t N = wfold_[i].size(0);
  auto w2 = wfold_[i];
  if (q.weight_mean_bits > 0) {
    // α_n ∝ the channel's spread: σ (the reference code's default 'gaus'), b for laplace.
    std::vector<double> alpha(static_cast<size_t>(N));
    auto centred = w2 - w2.mean(1, true);
    auto spread = q.prior == "laplace" ? centred.abs().mean(1) : centred.pow(2).mean(1).sqrt();
    for (int64_t n = 0; n < N; ++n) alpha[size_t(n)] = spread[n].item<double>();
    q.weight_channel_bits = arith::allocate_bits(alpha, q.weight_mean_bits, q.bit_rounding, 2, 8);
    q.weights = arith::IntFormat{*std::max_element(q.weight_channel_bits.begin(), q.weight_channel_bits.end()), true};
  }
  WeightGrid wg = quantise_weights(q, w2, threads_);
  wscale_[i] = wg.scale.contiguous();
  wzero_[i] = wg.zero.contiguous();
  wgrid_[i] = wg.codes;
  wcorr_[i] = torch::Tensor();
  if (q.bias_correction) {
    // ŵ = ξ·(w_q − mean w_q) + mean w = ξ·w_q + o, per output channel: ξ joins the scale.
    auto real = wscale_[i].view({-1, 1}) * (wgrid_[i].to(torch::kFloat64) - wzero_[i].view({-1, 1}));
    auto wc = w2.to(torch::kFloat64).contiguous();
    real = real.contiguous();
    std::vector<double> xi(static_cast<size_t>(N)), off(static_cast<size_t>(N));
    const int64_t K = wc.size(1);
    for (int64_t n = 0; n < N; ++n) {
      const arith::BiasCorrection bc =
          arith::bias_correction(std::span<const double>(wc.data_ptr<double>() + n * K, size_t(K)),
                                 std::span<const double>(real.data_ptr<double>() + n * K, size_t(K)));
      xi[size_t(n)] = bc.xi, off[size_t(n)] = bc.mean_w - bc.xi * bc.mean_wq;
    }
    wscale_[i] = (wscale_[i] * torch::tensor(xi, torch::kFloat64)).contiguous();
    wcorr_[i] = torch::tensor(off, torch::kFloat64);
  }
}

torch::Tensor QuantizedExecutor::effective_weights(int i) const {
  auto w = wscale_.at(i).view({-1, 1}) * (wgrid_.at(i).to(torch::kFloat64) - wzero_.at(i).view({-1, 1}));
  return wcorr_.at(i).defined() ? w + wcorr_[i].view({-1, 1}) : w;
}

namespace {

std::vector<int64_t> channel_shape(const torch::Tensor& x, int64_t C) {
  return x.dim() == 4 ? std::vector<int64_t>{1, C, 1, 1} : std::vector<int64_t>{1, C};
}

// Values of one channel (or of the tensor), at most `cap` of them, evenly strided: the
// data of the numerical MSE search (deterministic, no random draw).
torch::Tensor strided_sample(const torch::Tensor& v, int64_t cap) {
  if (v.numel() <= cap) return v;
  const int64_t step = (v.numel() + cap - 1) / cap;
  return v.slice(0, 0, v.numel(), step).contiguous();
}

// The quantiser of one group of activations (a channel, or the tensor) with a clip α,
// on an integer format of `bits`: its scale and zero point, through activation_scale (the
// executor's own rule), from the clipped range. Symmetric formats: max|x| → min(α, max|x|);
// unsigned one-sided: [0, min(α, hi)]; unsigned two-sided: [max(lo, m − α), min(hi, m + α)].
ActivationScale clipped_scale(const arith::IntFormat& f, double alpha, double lo, double hi, double mean) {
  const double amax = std::max(std::fabs(lo), std::fabs(hi));
  if (f.is_signed) return activation_scale(f, lo, hi, std::min(alpha, amax));
  if (lo >= 0) return activation_scale(f, 0.0, std::min(alpha, hi), amax);
  return activation_scale(f, std::max(lo, mean - alpha), std::min(hi, mean + alpha), amax);
}

// Measured MSE of quantising v with clip α (the executor's grid, RNE as arith rounds).
double measured_mse(const torch::Tensor& v, const arith::IntFormat& f, double alpha, double lo, double hi, double mean) {
  const ActivationScale a = clipped_scale(f, alpha, lo, hi, mean);
  auto q = torch::round(v.to(torch::kFloat64) / a.scale + a.zero).clamp(double(f.min_value()), double(f.max_value()));
  return ((q - a.zero) * a.scale - v.to(torch::kFloat64)).pow(2).mean().item<double>();
}

}  // namespace

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
        if (layers_[i].quantised && custom_activations(layers_[i])) calibrate_layer(i, x);
        return gemm(i, x, false);
      },
      [&](int i) { return bool(folded_bn_[i]); });
  for (size_t i = 0; i < n; ++i) {
    if (!Graph::is_gemm(graph().nodes[i].kind) || !layers_[i].quantised) continue;
    if (custom_activations(layers_[i])) {
      continue;
    }
    const ActivationScale a = activation_scale(layers_[i].activations, lo[i], hi[i], amax[i], layers_[i].offset_bits);
    act_scale_[i] = a.scale, act_zero_[i] = a.zero;
    ActivationClip& info = act_clip_[i];
    info = {};
    info.one_sided = lo[i] >= 0;
    info.alpha_mean = info.range_mean = amax[i];
    info.bits_mean = arith::format_bits(layers_[i].activations);
  }
  bool abc = false;
  for (size_t i = 0; i < n; ++i) abc |= layers_[i].quantised && layers_[i].activation_bias_correction;
  if (!abc) return;
  // Activation bias correction: each layer on its FP32 input, quantised and not; the
  // counters of the quantised path are restored (calibration is not inference).
  const auto seen = outputs_seen_, oor = out_of_range_;
  const auto amx = acc_max_abs_;
  std::vector<torch::Tensor> err(n);
  net_->run(
      images,
      [&](int i, const torch::Tensor& x) {
        auto yf = gemm(i, x, false);
        if (layers_[i].quantised && layers_[i].activation_bias_correction) {
          abias_[i] = torch::Tensor();
          auto d = (yf - gemm(i, x, true)).to(torch::kFloat64);
          err[i] = d.dim() == 4 ? d.mean({0, 2, 3}) : d.mean(0);
        }
        return yf;
      },
      [&](int i) { return bool(folded_bn_[i]); });
  outputs_seen_ = seen, out_of_range_ = oor, acc_max_abs_ = amx;
  for (size_t i = 0; i < n; ++i)
    if (err[i].defined()) abias_[i] = err[i].to(torch::kFloat32).contiguous();
}

void QuantizedExecutor::calibrate_layer(int i, const torch::Tensor& x_in) {
  LayerQuant& q = layers_[i];
  ActivationClip& info = act_clip_[i];
  info = {};
  info.clip = q.clip == "none" ? "max" : q.clip;
  const auto fmt = std::get<arith::IntFormat>(q.activations);
  auto x = x_in.to(torch::kFloat32);
  const int64_t C = x.size(1);
  info.one_sided = x.min().item<double>() >= 0;
  bool per_channel = q.per_channel_activations || q.activation_mean_bits > 0;
  if (per_channel && !fmt.is_signed && !info.one_sided) {
    per_channel = false;  // one zero point for a two-sided input on an unsigned format
    if (C > 1) info.note = "per tensor: a two-sided input on an unsigned format has one zero point";
  }
  info.per_channel = per_channel;
  // Groups: C × values (channel-major), or the whole tensor.
  auto groups = !per_channel ? x.reshape({1, -1}).contiguous()
                : x.dim() == 4 ? x.transpose(0, 1).reshape({C, -1}).contiguous()
                               : x.t().contiguous();
  const int64_t G = groups.size(0), V = groups.size(1);
  std::vector<double> glo(static_cast<size_t>(G)), ghi(static_cast<size_t>(G)), gmean(static_cast<size_t>(G));
  for (int64_t g = 0; g < G; ++g) {
    glo[size_t(g)] = std::min(0.0, groups[g].min().item<double>());
    ghi[size_t(g)] = std::max(0.0, groups[g].max().item<double>());
    gmean[size_t(g)] = groups[g].to(torch::kFloat64).mean().item<double>();
  }
  std::vector<arith::ClipPrior> prior(static_cast<size_t>(G), q.prior == "gauss" ? arith::ClipPrior::gauss : arith::ClipPrior::laplace);
  auto span_of = [&](int64_t g) { return std::span<const float>(groups.data_ptr<float>() + g * V, size_t(V)); };
  if (info.clip == "aciq" && q.prior == "auto")
    for (int64_t g = 0; g < G; ++g) prior[size_t(g)] = arith::best_fit_prior(span_of(g), info.one_sided);
  // Group g's clip on an integer grid of `bits` bits.
  auto clip_of = [&](int64_t g, int bits) -> double {
    const double bound = std::max(-glo[size_t(g)], ghi[size_t(g)]);
    const arith::IntFormat f{bits, fmt.is_signed};
    if (info.clip == "max" || bits == 0 || bound == 0) return bound;
    if (info.clip == "aciq") {
      // 2^M bins over the clipped range: a signed grid spends half its levels on the
      // negative side, so a one-sided input sees M − 1 bits there.
      const bool one_sided = info.one_sided;
      const int M = fmt.is_signed && one_sided ? bits - 1 : bits;
      const arith::ClipPrior p = M == 0 ? arith::ClipPrior::laplace : prior[size_t(g)];
      const double a = arith::aciq_clip(span_of(g), p, M, one_sided);
      return a > 0 ? std::min(a, bound) : bound;
    }
    // mse: a grid of α over (0, bound], refined around the best.
    const auto v = strided_sample(groups[g], 1 << 16);
    auto mse = [&](double a) { return measured_mse(v, f, a, glo[size_t(g)], ghi[size_t(g)], gmean[size_t(g)]); };
    double best = bound, best_e = mse(bound);
    for (int t = 1; t < 100; ++t)
      if (const double a = bound * t / 100.0, e = mse(a); e < best_e) best = a, best_e = e;
    const double step = bound / 100.0;
    for (int t = -20; t <= 20; ++t)
      if (const double a = best + step * t / 20.0; a > 0 && a <= bound)
        if (const double e = mse(a); e < best_e) best = a, best_e = e;
    return best;
  };
  // Widths: the format's, or allocated per channel (eq. 10–11 on each channel's clip at the mean width).
  std::vector<int> bits(static_cast<size_t>(G), fmt.bits);
  if (q.activation_mean_bits > 0) {
    std::vector<double> alpha(static_cast<size_t>(G));
    const int mid = std::max(fmt.is_signed ? 2 : 1, int(std::lround(q.activation_mean_bits)));
    for (int64_t g = 0; g < G; ++g) alpha[size_t(g)] = clip_of(g, mid);
    bits = arith::allocate_bits(alpha, q.activation_mean_bits, q.bit_rounding, fmt.is_signed ? 2 : 0, 8);
    q.activation_channel_bits = bits;
    if (!per_channel) q.activation_channel_bits.clear();
    q.activations = arith::IntFormat{std::max(1, *std::max_element(bits.begin(), bits.end())), fmt.is_signed};
  }
  std::vector<double> scale(static_cast<size_t>(G), 1.0);
  double zero = 0, alpha_sum = 0, range_sum = 0, bits_sum = 0;
  for (int64_t g = 0; g < G; ++g) {
    const int b = bits[size_t(g)];
    bits_sum += b;
    range_sum += std::max(-glo[size_t(g)], ghi[size_t(g)]);
    if (b == 0) continue;  // a dropped channel: codes all zero
    const double a = clip_of(g, b);
    alpha_sum += a;
    const ActivationScale s = clipped_scale(arith::IntFormat{b, fmt.is_signed}, a, glo[size_t(g)], ghi[size_t(g)],
                                            gmean[size_t(g)]);
    scale[size_t(g)] = s.scale, zero = s.zero;
    if (info.clip == "aciq") ++(prior[size_t(g)] == arith::ClipPrior::gauss ? info.gauss : info.laplace);
  }
  info.alpha_mean = alpha_sum / double(G), info.range_mean = range_sum / double(G), info.bits_mean = bits_sum / double(G);
  const double top = *std::max_element(scale.begin(), scale.end());
  act_scale_[i] = top, act_zero_[i] = per_channel ? 0.0 : zero;
  act_chscale_[i] = act_shift_[i] = act_lo_[i] = act_hi_[i] = torch::Tensor();
  if (per_channel) {
    // Power-of-two channel scales s_c' = top·2^(−e_c) ≥ s_c (never more clipping than
    // asked; e_c ≤ 8), so that the MAC adds channel c's codes shifted left by
    // e_max − e_c into one exact integer sum with the output scale top·2^(−e_max): the
    // weights are untouched. A zero-width channel: codes 0, no shift.
    std::vector<double> cs(static_cast<size_t>(G));
    std::vector<int> e(static_cast<size_t>(G), 0);
    for (int64_t g = 0; g < G; ++g)
      if (bits[size_t(g)] > 0 && scale[size_t(g)] > 0)
        e[size_t(g)] = std::clamp(int(std::floor(std::log2(top / scale[size_t(g)]))), 0, 8);
    const int emax = *std::max_element(e.begin(), e.end());
    std::vector<float> shift(static_cast<size_t>(G));
    for (int64_t g = 0; g < G; ++g) {
      cs[size_t(g)] = std::ldexp(top, -e[size_t(g)]);
      shift[size_t(g)] = float(std::ldexp(1.0, emax - e[size_t(g)]));
    }
    act_scale_[i] = std::ldexp(top, -emax);
    act_chscale_[i] = torch::tensor(cs, torch::kFloat64);
    act_shift_[i] = torch::tensor(shift);
    info.shift_max = emax;
    if (q.activation_mean_bits > 0) {
      std::vector<float> lo_c, hi_c;
      for (int b : bits) {
        const arith::IntFormat f{std::max(b, 1), fmt.is_signed};
        lo_c.push_back(b == 0 ? 0.0f : float(f.min_value())), hi_c.push_back(b == 0 ? 0.0f : float(f.max_value()));
      }
      act_lo_[i] = torch::tensor(lo_c), act_hi_[i] = torch::tensor(hi_c);
    }
  } else if (q.activation_mean_bits > 0) {
    // One group: the whole tensor at the allocated (= target) width.
    q.activations = arith::IntFormat{std::max(1, bits[0]), fmt.is_signed};
  }
}

torch::Tensor QuantizedExecutor::input_codes(int i, const torch::Tensor& x) const {
  const LayerQuant& q = layers_.at(i);
  if (!act_chscale_[i].defined())
    return activation_codes(q.activations, x, act_scale_[i], act_zero_[i], threads_, q.offset_bits);
  // Per channel: x_c / s_c' in float32, rounded on the layer's widest grid, then each
  // channel clamped to its own width (RNE is the same on every integer grid; only the
  // range differs).
  const int64_t C = act_chscale_[i].size(0);
  auto codes = round_to_grid(q.activations, x.to(torch::kFloat32) / act_chscale_[i].to(torch::kFloat32).view(channel_shape(x, C)),
                             threads_, true);
  if (act_lo_[i].defined())
    codes = torch::max(torch::min(codes, act_hi_[i].view(channel_shape(x, C))), act_lo_[i].view(channel_shape(x, C)));
  return codes.view(x.sizes());
}

torch::Tensor QuantizedExecutor::forward(const torch::Tensor& images) {
  torch::NoGradGuard ng;
  auto y = net_->run(
      images, [&](int i, const torch::Tensor& x) { return gemm(i, x, true); },
      [&](int i) { return bool(folded_bn_[i]); });
  record_ = false;
  return y;
}

bool is_lns_accumulator(const std::string& a) { return a == "linear" || a == "log" || a == "mitchell"; }

arith::LnsLinearAcc lns_linear_unit(const LayerQuant& q, int64_t K) {
  const auto& f = std::get<arith::LnsFormat>(q.weights);
  const int alpha = q.lns_alpha > 0 ? q.lns_alpha : arith::lns_default_alpha(f);
  if (alpha < f.frac_bits + 1 || alpha > 40)
    throw InputError(f.name() + ": lns_alpha " + std::to_string(alpha) + " outside " + std::to_string(f.frac_bits + 1) +
                         "..40 (fewer than b + 1 table bits make neighbouring entries equal)",
                     {}, "lns_alpha");
  const uint64_t terms = std::max<uint64_t>(uint64_t(std::max<int64_t>(K, 1)), arith::kLnsUnitTerms);
  const int bits = arith::lns_linear_acc_bits(f, alpha, terms);
  if (bits > 126) throw InputError(f.name() + ": its exact linear sum needs " + std::to_string(bits) + " bits (at most 126)", {}, "weights");
  return arith::LnsLinearAcc(f, alpha, bits);
}

arith::LnsLogAcc lns_log_unit(const LayerQuant& q, int64_t K) {
  const auto& f = std::get<arith::LnsFormat>(q.weights);
  const int F = q.lns_acc_frac > 0 ? q.lns_acc_frac : arith::lns_default_acc_frac(f);
  if (F < f.frac_bits || F > 20)
    throw InputError(f.name() + ": lns_acc_frac " + std::to_string(F) + " outside " + std::to_string(f.frac_bits) + "..20",
                     {}, "lns_acc_frac");
  const uint64_t terms = std::max<uint64_t>(uint64_t(std::max<int64_t>(K, 1)), arith::kLnsUnitTerms);
  return arith::LnsLogAcc(f, F, arith::lns_log_acc_bits(f, F, terms), q.accumulator == "mitchell");
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
    if (record_) recorded_[i].acc = acc;
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
    if (wcorr_[i].defined()) y = y + rowsum_.to(torch::kFloat32) * (wcorr_[i] * act_scale_[i]).to(torch::kFloat32).view(shape);
    if (abias_[i].defined()) y = y + abias_[i].view(shape);
  }
  out_shape_[i] = std::vector<int64_t>(y.sizes().begin() + 1, y.sizes().end());
  return y;
}

torch::Tensor QuantizedExecutor::accumulate(int i, const torch::Tensor& input, LayerOperands* ops) {
  const Node& nd = graph().nodes[i];
  const LayerQuant& q = layers_[i];
  LPSIM_CHECK(q.quantised && act_scale_[i] > 0);
  const double za = act_zero_[i];
  auto qx = input_codes(i, input);
  // Per-channel scales: the codes the sum adds, shifted left per channel (exact integers).
  const bool shifted = act_shift_[i].defined();
  const double max_shift = shifted ? act_shift_[i].max().item<double>() : 1.0;
  auto qs = shifted ? qx * act_shift_[i].view(channel_shape(qx, act_shift_[i].size(0))) : qx;
  if (wcorr_[i].defined()) {
    // Bias correction's run-time term: Σ_k (q_a − z_a) over each output's receptive field
    // (padding is real zero), exact in float32 below 2^24.
    auto cq = za != 0 ? qs - float(za) : qs;
    rowsum_ = nd.kind == OpKind::conv
                  ? F::conv2d(cq, torch::ones({1, nd.in_channels, nd.kernel, nd.kernel}),
                              F::Conv2dFuncOptions().stride(nd.stride).padding(nd.padding))
                  : cq.reshape({cq.size(0), -1}).sum(1, true);
  }
  const auto& wq = wgrid_[i];  // N × K raw codes
  const int64_t N = nd.out_channels, K = wq.size(1), B = qx.size(0);
  const bool conv = nd.kind == OpKind::conv;
  const bool wzeros = wzero_[i].abs().max().item<double>() > 0;
  auto to_output = [&](const torch::Tensor& mn) {  // (M_total × N) back to the layer's output shape
    if (!conv) return mn.view({B, N});
    const int64_t hw = mn.size(0) / B;
    const int64_t ho = (qx.size(2) + 2 * nd.padding - nd.kernel) / nd.stride + 1;
    return mn.view({B, hw, N}).transpose(1, 2).reshape({B, N, ho, hw / ho});
  };
  if (const auto* lf = std::get_if<arith::LnsFormat>(&q.activations)) {
    // LNS: codes (padding is the zero code), the golden units on every output.
    const float zc = float(arith::lns_zero(*lf));
    auto cols = im2col_rows(nd, lns_codes_of(*lf, qx) - zc) + zc;
    auto w = lns_codes_of(*lf, wgrid_[i]).t().contiguous();
    LnsGemm g = lns_gemm(q, cols, w, threads_);
    outputs_seen_[i] += g.values.numel();
    out_of_range_[i] += g.flags.sum().item<int64_t>();
    acc_max_abs_[i] = std::max(acc_max_abs_[i], g.max_abs);
    if (ops) {
      ops->cols = cols.contiguous(), ops->w = w, ops->fp32 = false, ops->act_zero = 0;
      ops->weight_zero = wzero_[i], ops->weight_offset = torch::Tensor(), ops->lns_flags = g.flags;
      ops->cols_real = im2col_rows(nd, input.to(torch::kFloat32)).contiguous();
      ops->w_real = wfold_[i].t().contiguous(), ops->weight_scale = wscale_[i];
    }
    return to_output(g.values);
  }
  // The im2col'ed activations and K × N weights: built once, for recording and for the
  // sequential path.
  torch::Tensor cols_kn, w_kn;
  // Padding holds real zero: the raw code z_a (im2col pads with 0, hence the shift).
  auto operands = [&] {
    if (cols_kn.defined()) return;
    cols_kn = (za != 0 && conv && nd.padding > 0 ? im2col_rows(nd, qx - float(za)) + float(za) : im2col_rows(nd, qx))
                  .contiguous();
    w_kn = wq.t().contiguous();
  };
  if (ops) {
    operands();
    ops->cols = cols_kn;
    ops->w = w_kn;
    ops->fp32 = false;
    ops->act_zero = za;
    ops->weight_zero = wzero_[i];
    ops->weight_offset = wcorr_[i].defined() ? wcorr_[i] / wscale_[i] : torch::Tensor();
    ops->cols_real = im2col_rows(nd, input.to(torch::kFloat32)).contiguous();
    ops->w_real = wfold_[i].t().contiguous(), ops->weight_scale = wscale_[i];
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
  auto ca = za != 0 ? qs - float(za) : qs;
  auto cw = wzeros ? wq - wzero_[i].to(torch::kFloat32).view({-1, 1}) : wq;
  // Every partial sum is an integer bounded by Σ|a||w| ≤ K·max|a|·max|w|: below 2^24 any
  // float32 summation order is exact, below 2^53 any float64 order is; beyond, the
  // operands are split (exact_int64_sums). The formats bound it without a data pass.
  const double mag_a = (za != 0 ? std::max(za, levels(q.activations) - za) : format_max_magnitude(q.activations)) * max_shift;
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
                                                : double(K) * format_max_magnitude(q.activations) * max_shift *
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
  const auto cols_mac = shifted ? im2col_rows(nd, qs).contiguous() : cols_kn;  // what the register adds
  const int64_t M = cols_mac.size(0);
  const float* c = cols_mac.data_ptr<float>();
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
    double wb = q.quantised ? arith::format_bits(q.weights) : 32;
    if (q.quantised && q.pann) wb = 1 + bits_for(wgrid_[i].abs().max().item<double>(), false);  // sign + |w̃|
    double ab = q.quantised ? arith::format_bits(q.activations) : 32;
    auto mean = [](const std::vector<int>& v) { return double(std::accumulate(v.begin(), v.end(), 0)) / double(v.size()); };
    if (q.quantised && !q.weight_channel_bits.empty()) wb = mean(q.weight_channel_bits);
    if (q.quantised && !q.activation_channel_bits.empty()) ab = mean(q.activation_channel_bits);
    const int ob = q.quantised && q.accumulator == "int" ? q.acc_bits : 32;
    c.weight_bits = int64_t(std::llround(double(c.K * c.N) * wb));
    c.input_bits = int64_t(std::llround(double(ins) * ab));
    c.output_bits = outs * ob;
    out.push_back(c);
  }
  return out;
}

torch::Tensor im2col_rows(const Node& nd, const torch::Tensor& x) {
  if (nd.kind != OpKind::conv) return x.reshape({x.size(0), -1});
  auto c = F::unfold(x, F::UnfoldFuncOptions({nd.kernel, nd.kernel}).padding(nd.padding).stride(nd.stride));
  return c.transpose(1, 2).reshape({-1, c.size(1)});
}

}  // namespace lpsim::nn
