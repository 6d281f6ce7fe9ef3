#include "nn/dot_error.h"

#include <cmath>
#include <random>

#include "arith/lns.h"

namespace lpsim::nn {

std::vector<DotErrorPoint> dot_product_error(const LayerQuant& q, const LayerOperands& ops, double act_scale,
                                             const std::vector<int64_t>& Ks, int samples, uint64_t seed) {
  std::vector<DotErrorPoint> out;
  if (!q.quantised || ops.fp32 || !ops.cols.defined() || !ops.cols_real.defined() || q.pann ||
      q.per_channel_activations || !q.weight_channel_bits.empty() || !q.activation_channel_bits.empty() ||
      ops.weight_offset.defined())
    return out;
  const auto cols = ops.cols.to(torch::kFloat32).contiguous(), w = ops.w.to(torch::kFloat32).contiguous();
  const auto xr = ops.cols_real.to(torch::kFloat32).contiguous();
  const auto wr = ops.w_real.to(torch::kFloat64).contiguous();
  const auto ws = ops.weight_scale.to(torch::kFloat64).contiguous();
  const auto wz = ops.weight_zero.defined() ? ops.weight_zero.to(torch::kFloat64).contiguous() : torch::zeros_like(ws);
  const int64_t M = cols.size(0), KL = cols.size(1), N = w.size(1);
  const float *c = cols.data_ptr<float>(), *wc = w.data_ptr<float>(), *x = xr.data_ptr<float>();
  const double *wrp = wr.data_ptr<double>(), *wsp = ws.data_ptr<double>(), *wzp = wz.data_ptr<double>();
  const auto* lf = std::get_if<arith::LnsFormat>(&q.activations);
  const bool is_int = std::holds_alternative<arith::IntFormat>(q.activations);
  const double za = ops.act_zero;
  std::mt19937_64 rng(seed);
  for (const int64_t K : Ks) {
    std::optional<arith::LnsLinearAcc> ua;
    std::optional<arith::LnsLogAcc> ub;
    if (lf && q.accumulator == "linear") ua.emplace(lns_linear_unit(q, K));
    if (lf && q.accumulator != "linear") ub.emplace(lns_log_unit(q, K));
    double e_acc = 0, r_acc = 0, e_tot = 0, r_tot = 0;
    std::vector<uint32_t> a(static_cast<size_t>(K)), b(static_cast<size_t>(K));
    for (int s = 0; s < samples; ++s) {
      const int64_t n = std::uniform_int_distribution<int64_t>(0, N - 1)(rng);
      double decoded = 0, real = 0, unit = 0;
      float fsum = 0;
      for (int64_t j = 0; j < K; ++j) {
        const int64_t m = std::uniform_int_distribution<int64_t>(0, M - 1)(rng);
        const int64_t k = std::uniform_int_distribution<int64_t>(0, KL - 1)(rng);
        const float ca = c[m * KL + k], cw = wc[k * N + n];
        real += double(x[m * KL + k]) * wrp[k * N + n];
        if (lf) {
          a[size_t(j)] = uint32_t(ca), b[size_t(j)] = uint32_t(cw);
          decoded += arith::lns_decode(*lf, a[size_t(j)]) * arith::lns_decode(*lf, b[size_t(j)]);
        } else if (is_int) {
          decoded += (double(ca) - za) * (double(cw) - wzp[n]);  // exact: small integers
        } else {
          decoded += double(ca) * double(cw);
          fsum += ca * cw;  // sequential FP32, RNE product and sum (as the fp32 accumulator)
        }
      }
      if (ua)
        unit = arith::lns_linear_value(*ua, arith::lns_unit_a(*ua, a, b).sum);
      else if (ub)
        unit = arith::lns_log_value(*ub, arith::lns_unit_log(*ub, a, b));
      else
        unit = is_int ? decoded : double(fsum);
      const double scale = act_scale * wsp[n];
      e_acc += (unit - decoded) * (unit - decoded), r_acc += decoded * decoded;
      e_tot += (unit * scale - real) * (unit * scale - real), r_tot += real * real;
    }
    out.push_back({K, samples, r_acc > 0 ? std::sqrt(e_acc / r_acc) : 0.0, r_tot > 0 ? std::sqrt(e_tot / r_tot) : 0.0});
  }
  return out;
}

}  // namespace lpsim::nn
