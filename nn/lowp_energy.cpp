#include "nn/lowp_energy.h"

#include <cmath>
#include <functional>
#include <random>

#include <fmt/format.h>

#include "arith/error.h"
#include "arith/format.h"
#include "nn/lowp_train.h"
#include "nn/pricing.h"

namespace lpsim::nn {

namespace F = torch::nn::functional;

namespace {

// A power-of-two unit that puts the tensor's largest magnitude within f's finite range.
double pow2_unit(const torch::Tensor& t, const arith::FloatFormat& f) {
  const double amax = t.abs().max().item<double>();
  if (!(amax > 0)) return 1;
  const double maxf = f.decode(f.max_finite_magnitude());
  return std::exp2(std::ceil(std::log2(amax / maxf)));
}

// Output-stationary chains of C = Σ_j a(m, j, n) ⊙ b(m, j, n) over j < J: `count` outputs
// (m, n) at random, each a window of at most max_len consecutive terms after a clear.
LayerChains sample_chains(int64_t M, int64_t N, int64_t J, uint64_t count, uint32_t max_len, uint64_t seed,
                       const std::function<std::pair<uint64_t, uint64_t>(int64_t m, int64_t j, int64_t n)>& ab) {
  LayerChains cs;
  cs.count = count;
  const int64_t L = std::min<int64_t>(J, max_len);
  cs.len = uint32_t(L + 1), cs.ops = uint32_t(L);
  std::mt19937_64 rng(seed);
  auto pick = [&](int64_t hi) { return std::uniform_int_distribution<int64_t>(0, hi)(rng); };
  cs.steps.reserve(count * cs.len);
  for (uint64_t i = 0; i < count; ++i) {
    const int64_t m = pick(M - 1), n = pick(N - 1), j0 = pick(J - L);
    const auto [a0, b0] = ab(m, j0, n);
    cs.steps.push_back({a0, b0, 0, power::kStepClear});
    for (int64_t j = j0; j < j0 + L; ++j) {
      const auto [a, b] = ab(m, j, n);
      cs.steps.push_back({a, b, 0, power::kStepEnable});
    }
  }
  return cs;
}

}  // namespace

RecordedStep record_training_step(GraphNet& net_in, const GradientSpec& spec, uint64_t seed, const torch::Tensor& x,
                                  const torch::Tensor& y) {
  // A copy: the step's BatchNorm statistics and gradients must not touch the caller's model.
  RecordedStep step{clone_net(net_in), {}};
  step.net->train();
  LowpNet lp(step.net, spec, seed);
  lp.record_operands(&step.gemms);
  lp.set_step(0);
  auto loss = F::cross_entropy(lp.forward(x), y);
  loss.backward();
  lp.record_operands(nullptr);
  return step;
}

StepEnergy training_step_energy(GraphNet& net, const GradientSpec& spec, uint64_t seed, const torch::Tensor& x,
                                const torch::Tensor& y, power::GateLevelEnergyModel& gate, const StepEnergyOptions& opt) {
  return price_training_step(record_training_step(net, spec, seed, x, y), spec, gate, opt);
}

StepEnergy price_training_step(const RecordedStep& step, const GradientSpec& spec, power::GateLevelEnergyModel& gate,
                               const StepEnergyOptions& opt) {
  const std::vector<LowpNet::GemmRecord>& rec = step.gemms;
  StepEnergy out;
  out.batch = rec.empty() ? 0 : rec.front().x.size(0);
  const bool luq = spec.method == "luq";
  const int backward_runs = luq ? spec.smp : 1;
  double var = 0;
  const Graph& g = step.net->graph();
  for (size_t li = 0; li < rec.size(); ++li) {
    const auto& r = rec[li];
    LPSIM_CHECK(r.node >= 0 && r.g.defined());
    const Node& nd = g.nodes[size_t(r.node)];
    const bool conv = nd.kind == OpKind::conv;
    const int64_t B = r.x.size(0), n_img = std::min<int64_t>(B, opt.images);
    const int64_t OC = nd.out_channels;
    // The operands as matrices over the sampled images: cols (R × K), w (OC × K), g (R × OC).
    const auto cols = im2col_rows(nd, r.x.slice(0, 0, n_img).to(torch::kFloat32)).contiguous();
    const auto w = r.w.to(torch::kFloat32).reshape({OC, -1}).contiguous();
    auto gs = r.g.slice(0, 0, n_img).to(torch::kFloat32);
    gs = (conv ? gs.permute({0, 2, 3, 1}) : gs).reshape({-1, OC}).contiguous();
    const int64_t R = cols.size(0), K = cols.size(1);
    const int64_t positions = R / n_img;
    const int64_t macs = B * positions * K * OC;

    // The PE of each GEMM and the coders of its two ports.
    // Forward (act, wt); backward: the other operand (act_b, wt_b) and the gradient.
    OperandCoder act = OperandCoder::fp32(), wt = act, grad_c = act, act_b = act, wt_b = act;
    bool act_unsigned = false;
    power::OpKey fwd_key{"fp_mac", "fp32", "fp32", 32, "array"}, bwd_key = fwd_key;
    std::string fwd_note, bwd_note;
    bool bwd_ok = true;
    if (luq) {
      act_unsigned = r.x.min().item<float>() >= 0;
      act = OperandCoder::integer(act_unsigned ? 5 : 4);
      wt = OperandCoder::integer(4);
      fwd_key = {"mac", act_unsigned ? "uint4" : "int4", "int4", opt.acc_bits, "array"};
      act_b = act, wt_b = wt;
      grad_c = OperandCoder::format(arith::luq_fp4());  // ±2^k → {sign, k + 1}: luq_mul's code
      bwd_key = {"luq_mac", "", "luq4", opt.acc_bits, "array"};
      if (spec.luq_levels != 7) bwd_ok = false, bwd_note = "8 LUQ levels need a 4-bit exponent: no RTL unit";
    } else if (spec.method == "fp8") {
      const arith::FloatFormat f = r.format;
      std::string unit_fmt;
      for (const auto& named : {arith::fp8_e4m3(), arith::fp8_e5m2(), arith::make_exmy(3, 4),
                                 arith::make_exmy(6, 1)})
        if (f == named) unit_fmt = named.name;
      if (f.name.empty()) {
        bwd_ok = false, bwd_note = "no gradient format: the step's gradient was zero or not finite";
      } else if (unit_fmt.empty()) {
        bwd_ok = false, bwd_note = "no RTL FP8 MAC in " + f.name + " (fp8_mac: fp8_e4m3, fp8_e5m2, e3m4, e6m1)";
      } else {
        bwd_key = {"fp8_mac", unit_fmt, unit_fmt, 32, "array"};
        grad_c = OperandCoder::format(f, r.g_unit);
        act_b = OperandCoder::format(f, pow2_unit(cols, f));
        wt_b = OperandCoder::format(f, pow2_unit(w, f));
        bwd_note = "weights and activations rounded to " + f.name + " for the price (the step used FP32)";
      }
    }
    const float* pc = cols.data_ptr<float>();
    const float* pw = w.data_ptr<float>();
    const float* pg = gs.data_ptr<float>();
    LayerStepEnergy le;
    le.layer = nd.name;
    auto price = [&](const std::string& name, const power::OpKey& key0, bool ok, const std::string& note, int64_t n,
                     int64_t M, int64_t N, int64_t J, uint64_t salt,
                     const std::function<std::pair<uint64_t, uint64_t>(int64_t, int64_t, int64_t)>& ab) {
      GemmEnergy ge;
      ge.gemm = name, ge.macs = n, ge.note = note;
      power::OpKey key = key0;
      if (key.unit == "luq_mac") key.fmt_a = name == "weight_gradient" && act_unsigned ? "uint4" : "int4";
      ge.unit = key.str();
      if (ok) {
        const LayerChains cs = sample_chains(M, N, J, opt.chains, opt.max_chain, opt.seed * 1000003 + li * 8 + salt, ab);
        const power::OpPrice p = gate.price_chains(key, cs.steps, cs.len, cs.ops);
        ge.priced = true;
        ge.pj_per_mac = p.energy_pj, ge.ci95_pj = p.energy_ci95_pj, ge.area_um2 = p.area_um2;
        ge.energy_pj = double(n) * p.energy_pj, ge.energy_ci95_pj = double(n) * p.energy_ci95_pj;
      } else {
        out.complete = false;
      }
      le.gemms.push_back(ge);
    };
    // Forward: output (row m, channel n), reduction over k: a = activation, b = weight.
    price("forward", fwd_key, true, fwd_note, macs, R, OC, K, 0, [&](int64_t m, int64_t k, int64_t n) {
      return std::pair{act(pc[m * K + k]), wt(pw[n * K + k])};
    });
    // Input gradient dX_col (row m, tap k), reduction over output channels j: a = weight, b = gradient.
    price("input_gradient", bwd_key, bwd_ok, bwd_note, macs * backward_runs, R, K, OC, 1,
          [&](int64_t m, int64_t j, int64_t k) { return std::pair{wt_b(pw[j * K + k]), grad_c(pg[m * OC + j])}; });
    // Weight gradient dW (channel n, tap k), reduction over rows m: a = activation, b = gradient.
    price("weight_gradient", bwd_key, bwd_ok, bwd_note, macs * backward_runs, OC, K, R, 2,
          [&](int64_t n, int64_t m, int64_t k) { return std::pair{act_b(pc[m * K + k]), grad_c(pg[m * OC + n])}; });
    for (const auto& ge : le.gemms) {
      if (!ge.priced) continue;
      out.energy_pj += ge.energy_pj;
      (ge.gemm == "forward" ? out.forward_pj : out.backward_pj) += ge.energy_pj;
      var += ge.energy_ci95_pj * ge.energy_ci95_pj;
    }
    out.layers.push_back(std::move(le));
  }
  out.energy_ci95_pj = std::sqrt(var);
  return out;
}

}  // namespace lpsim::nn
