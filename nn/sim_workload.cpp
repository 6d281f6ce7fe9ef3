#include "nn/sim_workload.h"

#include <bit>
#include <cmath>
#include <iostream>
#include <optional>

#include <fmt/format.h>

#include "arith/error.h"
#include "arith/float_format.h"
#include "arith/format.h"
#include "nn/executor.h"
#include "nn/lowp_energy.h"
#include "nn/lowp_train.h"
#include "nn/prepare.h"
#include "nn/pricing.h"
#include "power_models/cell_library.h"
#include "power_models/energy_model.h"
#include "power_models/resources.h"

namespace lpsim::nn {

int64_t SimLayer::centred(int64_t raw, size_t j) const {
  // PANN: saturated sums can leave pos − neg outside the signed acc_bits range even
  // without a zero point; the executor clamps it like a corrected sum.
  if (correction.empty() && format != "pann") return raw;
  const __int128 c = __int128(raw) + (correction.empty() ? 0 : correction[j]);
  const int64_t lo = -(int64_t{1} << (acc_bits - 1)), hi = (int64_t{1} << (acc_bits - 1)) - 1;
  if (saturate) return int64_t(c < lo ? lo : c > hi ? hi : c);
  const unsigned __int128 m = (unsigned __int128)c & (((unsigned __int128)1 << acc_bits) - 1);
  return int64_t(m) > hi ? int64_t(m) - (int64_t{1} << acc_bits) : int64_t(m);
}

std::string sim_config_problem(const QuantConfigSpec& c) {
  if (c.has_training) {
    if (c.training.method != "luq")
      return "low-precision training with method " + c.training.method +
             " (its backward GEMMs run in float32; the array runs LUQ's integer training step)";
    if (c.training.luq_levels != 7) return "LUQ with 8 levels (a 4-bit exponent: no RTL shift unit)";
    return "";
  }
  if (c.fp32) return "an FP32 configuration (the array's PEs are integer MACs)";
  const bool pann = c.method == "pann";
  if (c.method != "uniform" && !pann) return "method " + c.method + " (the array runs uniform integer configurations and PANN)";
  if (pann && (c.pann.R.size() != 1 || c.pann.activation_bits.size() != 1 || !c.pann.budget.empty()))
    return "a PANN search (several R or activation_bits, or a budget, chosen by lpsim run): the array runs one point, "
           "e.g. {method: pann, pann: {R: 1, activation_bits: 6}}";
  if (pann && c.pann.train_epochs > 0) return "PANN-aware training (pann.train): the array runs post-training PANN";
  const arith::NumberFormat fw = arith::parse_format(c.weights), fa = arith::parse_format(c.activations);
  const auto* iw = std::get_if<arith::IntFormat>(&fw);
  const auto* ia = std::get_if<arith::IntFormat>(&fa);
  if (!iw || !ia) {
    // FP8 × FP8 of one format into FP32: the fp8_mac PEs.
    const bool fp8 = (c.weights == "fp8_e4m3" || c.weights == "fp8_e5m2") && c.activations == c.weights;
    if (!fp8)
      return "operands other than integers or one FP8 format for both (" + c.weights + " x " + c.activations +
             "; LNS units are not array PEs yet)";
    if (c.accumulator != "fp32") return "FP8 operands need accumulator: fp32";
  } else {
    if (c.accumulator != "int") return "accumulator " + c.accumulator + " (integer operands accumulate in integers)";
  }
  if (iw && ia && iw->is_signed != ia->is_signed && !pann) return "mixed signedness (" + c.weights + " x " + c.activations + ")";
  if (iw && ia && (iw->bits < 2 || ia->bits < 2 || iw->bits > 16 || ia->bits > 16)) return "operand widths outside 2..16 bits";
  if (c.per_channel_activations || c.bit_allocation.mean_bits > 0)
    return "per-channel activation scales or bit allocation (operands of several widths)";
  if (c.bias_correction) return "bias correction (a run-time correction outside the array)";
  if (!c.layers.empty()) return "per-layer overrides (one PE for the whole network)";
  if (c.calibration.source != "data") return "calibration source " + c.calibration.source;
  return "";
}

namespace {

// The network's name in the outputs: the scenario's, the built-in architecture, or the TorchScript file's stem.
std::string model_name(const Scenario& s) {
  return !s.model_name.empty() ? s.model_name : s.torchscript.empty() ? s.arch : s.torchscript.stem().string();
}

// A code of the LUQ gradient (±2^k, k in 0..6) as rtl/luq_mac takes it: {sign, k + 1}; 0 → 0.
// Anything else (a non-finite gradient) has no code: nullopt.
std::optional<uint64_t> luq_code(float g) {
  if (g == 0) return 0;
  const float m = std::fabs(g);
  if (!(m >= 1 && m <= 64) || std::exp2(float(std::ilogb(m))) != m) return std::nullopt;
  return uint64_t(std::ilogb(m) + 1) | (g < 0 ? 8u : 0u);
}

// One LUQ training step (config c) on the scenario's trained FP32 network: its three GEMMs
// per layer as array GEMMs out[m][n] = Σ_k a[m][k]·w[k][n] (nn/lowp_energy.h names them):
//   forward          a = X (INT4 codes, R×K), w = Wᵀ (INT4)          → Y (R×OC), integer MAC PE
//   input_gradient   a = Wᵀ (K×OC), w = Gᵀ (radix-2 FP4 codes)        → dXᵀ (K×R), LUQ PE
//   weight_gradient  a = Xᵀ (K×R),  w = G (R×OC)                      → dWᵀ (K×OC), LUQ PE
// X = the im2col'ed layer input, R = images × positions. The INT4 operand is the PE's
// activation port (an unsigned activation code zero-extended to 5 bits), the gradient its
// FP4 weight port. Reference: the same codes' products summed exactly in float64 (every sum
// is an integer below 2^53), what LowpNet's exact code GEMMs compute. The network's first
// layer has no input gradient (LowpNet does not compute one for the images). With SMP the
// step runs the backward GEMMs once per sample; the array runs the first sample's.
SimWorkload training_workload(const Scenario& s, const QuantConfigSpec& cfg, int images, bool price, bool progress) {
  torch::set_num_threads(s.threads);
  PreparedModel pm = prepare_model(s, progress);
  const int64_t n = std::min<int64_t>(images, pm.train.size());
  const torch::Tensor idx = pm.calib_order.slice(0, 0, n);
  const torch::Tensor x = pm.train.images.index_select(0, idx), y = pm.train.labels.index_select(0, idx);
  const RecordedStep step = record_training_step(pm.model, cfg.training, s.seed, x, y);
  const std::vector<LowpNet::GemmRecord>& rec = step.gemms;
  StepEnergy priced;  // nn/lowp_energy's price of these very operands
  if (price) {
    power::GateLevelEnergyModel gate(power::load_cell_library(power::default_cell_library_path()), power::rtl_dir(),
                                     s.netlist_cache, 1 << 12, s.seed);
    StepEnergyOptions opt;
    opt.images = n, opt.seed = s.seed;
    priced = price_training_step(step, cfg.training, gate, opt);
  }

  SimWorkload w;
  w.model = model_name(s);
  w.config = cfg.name;
  w.images = int(n);
  const Graph& g = step.net->graph();
  for (size_t li = 0; li < rec.size(); ++li) {
    const auto& r = rec[li];
    const Node& nd = g.nodes[size_t(r.node)];
    const int64_t OC = nd.out_channels;
    const torch::Tensor cols = im2col_rows(nd, r.x.to(torch::kFloat32)).to(torch::kFloat64).contiguous();  // R × K
    const torch::Tensor wk = r.w.to(torch::kFloat64).reshape({OC, -1}).t().contiguous();                    // K × OC
    torch::Tensor gs = r.g.to(torch::kFloat32);
    gs = (nd.kind == OpKind::conv ? gs.permute({0, 2, 3, 1}) : gs).reshape({-1, OC}).contiguous();          // R × OC
    const int64_t R = cols.size(0);
    const bool act_unsigned = r.x.min().item<float>() >= 0;
    const int x_bits = act_unsigned ? 5 : 4;
    auto gemm = [&](const std::string& what, const torch::Tensor& a, int a_bits, const torch::Tensor& b, bool b_luq,
                    const torch::Tensor& ref) {
      SimLayer L;
      L.name = nd.name + "." + what;
      L.kind = nd.kind == OpKind::conv ? "conv" : "linear";
      L.positions = R / n;
      L.M = a.size(0), L.K = a.size(1), L.N = b.size(1);
      L.a_bits = a_bits, L.w_bits = 4, L.acc_bits = 32, L.is_signed = true;
      L.format = b_luq ? "luq4" : "";
      const torch::Tensor ac = a.to(torch::kInt64).contiguous(), rc = ref.to(torch::kInt64).contiguous();
      const torch::Tensor bf = b.to(torch::kFloat32).contiguous();
      L.a.resize(size_t(ac.numel())), L.w.resize(size_t(bf.numel())), L.executor_acc.resize(size_t(rc.numel()));
      for (size_t j = 0; j < L.a.size(); ++j) L.a[j] = uint64_t(ac.data_ptr<int64_t>()[j]) & ((uint64_t{1} << a_bits) - 1);
      for (size_t j = 0; j < L.w.size() && L.simulable; ++j) {
        const float v = bf.data_ptr<float>()[j];
        const std::optional<uint64_t> code = b_luq ? luq_code(v) : std::optional<uint64_t>(uint64_t(int64_t(v)) & 15);
        if (code) L.w[j] = *code;
        else L.simulable = false, L.note = "a gradient value off LUQ's grid ±2^0..2^6 (a non-finite gradient?)";
      }
      for (size_t j = 0; j < L.executor_acc.size(); ++j) L.executor_acc[j] = rc.data_ptr<int64_t>()[j];
      if (price && li < priced.layers.size())
        for (const GemmEnergy& ge : priced.layers[li].gemms)
          if (ge.gemm == what && ge.priced)
            L.executor_pj_per_mac = ge.pj_per_mac, L.executor_ci95_pj = ge.ci95_pj, L.executor_unit = ge.unit;
      w.layers.push_back(std::move(L));
    };
    const torch::Tensor g64 = gs.to(torch::kFloat64);
    gemm("forward", cols, x_bits, wk, false, cols.mm(wk));
    if (li > 0) gemm("input_gradient", wk, 4, g64.t(), true, wk.mm(g64.t()));
    gemm("weight_gradient", cols.t(), x_bits, g64, true, cols.t().mm(g64));
  }
  return w;
}

}  // namespace

SimWorkload sim_workload(const Scenario& s, const std::string& config, int images, const std::string& dataflow,
                         bool price, bool progress) {
  const QuantConfigSpec* cfg = nullptr;
  for (const QuantConfigSpec& c : s.configs)
    if (c.name == config) cfg = &c;
  if (!cfg) {
    std::string points;  // a PANN dial is its points
    for (const QuantConfigSpec& c : s.configs)
      if (c.pann.dial == config) points += (points.empty() ? "" : ", ") + c.name;
    if (!points.empty())
      throw InputError("configuration '" + config + "' is a PANN dial; the array runs its points one by one: " + points,
                       s.accelerator.where, "accelerator.configs");
    throw InputError("no configuration '" + config + "' in quantization.configs", s.accelerator.where, "accelerator.configs");
  }
  if (const std::string why = sim_config_problem(*cfg); !why.empty())
    throw InputError("configuration " + config + " cannot run on the array: " + why, cfg->where, "accelerator.configs");
  if (cfg->has_training) return training_workload(s, *cfg, images, price, progress);
  torch::set_num_threads(s.threads);
  std::vector<LayerQuant> layers;
  PreparedModel pm = prepare_model(s, progress, [&](const Graph& g) { layers = resolve_config(*cfg, g); });
  const Graph& g = pm.model->graph();
  const torch::Tensor calib = pm.data_calibration(cfg->calibration.images > 0 ? cfg->calibration.images : pm.calib.size(0));
  QuantizedExecutor ex(pm.model, layers, s.threads);
  ex.calibrate(calib);
  // The test images: the energy images' seeded choice (nn/run.cpp), its first `images`.
  const TensorDataset& test = pm.data.test;
  torch::manual_seed(s.seed + 0x656E65);
  const int64_t n = std::min<int64_t>(images, test.size());
  const torch::Tensor x = test.images.index_select(0, torch::randperm(test.size()).slice(0, 0, n));
  ex.record_next_forward();
  ex.forward(x);
  const std::vector<LayerCost> costs = ex.costs();

  std::shared_ptr<power::GateLevelEnergyModel> gate;
  HardwareConfig hw;
  if (price) {
    hw.mac_arch = s.accelerator.pe_arch.empty() ? s.mac_arch : s.accelerator.pe_arch;
    hw.energy_vectors = s.energy_vectors;
    hw.dataflow = parse_dataflow(dataflow);
    hw.ws_run = s.ws_run;
    hw.seed = s.seed;
    gate = std::make_shared<power::GateLevelEnergyModel>(power::load_cell_library(power::default_cell_library_path()),
                                                         power::rtl_dir(), s.netlist_cache, 1 << 12, s.seed);
  }
  SimWorkload w;
  w.model = model_name(s);
  w.config = config;
  w.images = int(n);
  for (const LayerCost& lc : costs) {
    const int i = lc.node;
    const Node& nd = g.nodes[size_t(i)];
    const LayerQuant& q = ex.layer(i);
    const LayerOperands& ops = ex.recorded()[size_t(i)];
    SimLayer L;
    L.name = nd.name;
    L.kind = nd.kind == OpKind::conv ? "conv" : "linear";
    L.positions = lc.M;
    const auto* iw = std::get_if<arith::IntFormat>(&q.weights);
    const auto* ia = std::get_if<arith::IntFormat>(&q.activations);
    const auto* fw = std::get_if<arith::FloatFormat>(&q.weights);
    if (iw && ia) {
      L.a_bits = ia->bits, L.w_bits = iw->bits, L.acc_bits = q.acc_bits;
      L.is_signed = ia->is_signed;
      L.saturate = q.acc_overflow == arith::Overflow::saturate;
      if (q.pann && ops.w.defined()) {  // pann_mac: unsigned x, |w̃| counted in pann_r_bits bits, a sign
        L.format = "pann";
        L.w_bits = pann_r_bits(ops.w.abs().max().item<double>()) + 1;
      }
    } else {
      L.format = cfg->weights;  // one FP8 format for both (sim_config_problem)
      L.a_bits = L.w_bits = 8, L.acc_bits = 32;
    }
    if (!q.quantised || ops.fp32 || !ops.cols.defined()) {
      L.simulable = false, L.note = "not quantised";
      w.layers.push_back(std::move(L));
      continue;
    }
    L.M = ops.cols.size(0), L.K = ops.cols.size(1), L.N = ops.w.size(1);
    // The executor's accumulators as M×N rows (a convolution's come as images × N × H × W).
    const torch::Tensor acc_rows =
        ops.acc.dim() == 2 ? ops.acc : ops.acc.flatten(2).transpose(1, 2).reshape({-1, ops.acc.size(1)});
    if (acc_rows.size(0) != L.M || acc_rows.size(1) != L.N) {
      L.simulable = false, L.note = "recorded accumulator shape does not match the GEMM";
      w.layers.push_back(std::move(L));
      continue;
    }
    L.executor_acc.resize(size_t(L.M * L.N));
    if (fw) {  // FP8: the grid values' codes; the executor's FP32 sums as their bits
      const torch::Tensor cf = ops.cols.to(torch::kFloat32).contiguous(), wf = ops.w.to(torch::kFloat32).contiguous();
      const float* pa = cf.data_ptr<float>();
      const float* pw = wf.data_ptr<float>();
      L.a.resize(size_t(L.M * L.K)), L.w.resize(size_t(L.K * L.N));
      bool on_grid = true;
      for (size_t j = 0; j < L.a.size(); ++j) {
        L.a[j] = arith::encode(*fw, double(pa[j])).code;
        on_grid &= double(pa[j]) == fw->decode(uint32_t(L.a[j])) || std::isnan(pa[j]);
      }
      for (size_t j = 0; j < L.w.size(); ++j) {
        L.w[j] = arith::encode(*fw, double(pw[j])).code;
        on_grid &= double(pw[j]) == fw->decode(uint32_t(L.w[j])) || std::isnan(pw[j]);
      }
      const torch::Tensor acc32 = acc_rows.to(torch::kFloat32).contiguous();
      const float* pacc = acc32.data_ptr<float>();
      for (size_t j = 0; j < L.executor_acc.size(); ++j) L.executor_acc[j] = int64_t(std::bit_cast<uint32_t>(pacc[j]));
      if (!on_grid) L.simulable = false, L.note = "operands off the FP8 grid";
    } else {
      const torch::Tensor cols = ops.cols.to(torch::kInt64).contiguous(), wt = ops.w.to(torch::kInt64).contiguous();
      const int64_t lo_a = ia->is_signed ? -(int64_t{1} << (ia->bits - 1)) : 0, hi_a = ia->is_signed ? -lo_a - 1 : (int64_t{1} << ia->bits) - 1;
      int64_t lo_w = iw->is_signed ? -(int64_t{1} << (iw->bits - 1)) : 0, hi_w = iw->is_signed ? -lo_w - 1 : (int64_t{1} << iw->bits) - 1;
      if (q.pann) hi_w = (int64_t{1} << (L.w_bits - 1)) - 1, lo_w = -hi_w;  // |w̃| within the PE's count
      const int64_t* pa = cols.data_ptr<int64_t>();
      const int64_t* pw = wt.data_ptr<int64_t>();
      bool fits = true;
      L.a.resize(size_t(L.M * L.K)), L.w.resize(size_t(L.K * L.N));
      for (size_t j = 0; j < L.a.size(); ++j) {
        fits &= pa[j] >= lo_a && pa[j] <= hi_a;
        L.a[j] = uint64_t(pa[j]) & ((uint64_t{1} << ia->bits) - 1);
      }
      for (size_t j = 0; j < L.w.size(); ++j) {
        fits &= pw[j] >= lo_w && pw[j] <= hi_w;
        L.w[j] = uint64_t(pw[j]) & ((uint64_t{1} << L.w_bits) - 1);
      }
      const bool zero_points = ops.act_zero != 0 ||
                               (ops.weight_zero.defined() && ops.weight_zero.abs().max().item<double>() > 0);
      if (ops.weight_offset.defined()) {
        L.simulable = false, L.note = "bias correction (a run-time correction outside the array)";
      } else if (zero_points && (ia->is_signed || iw->is_signed) && !q.pann) {
        L.simulable = false, L.note = "zero points on a signed format";
      } else if (zero_points) {
        // The corrections the executor applies to the raw sum, per output (exact integers:
        // the zero points are integers, the sums of codes below 2^40).
        const int64_t za = int64_t(std::llround(ops.act_zero));
        const torch::Tensor zw = ops.weight_zero.defined() ? ops.weight_zero.to(torch::kFloat64).contiguous()
                                                           : torch::zeros({L.N}, torch::kFloat64);
        const double* pzw = zw.data_ptr<double>();
        std::vector<int64_t> row_sum(size_t(L.M), 0), col_sum(size_t(L.N), 0);
        for (int64_t m = 0; m < L.M; ++m)
          for (int64_t k = 0; k < L.K; ++k) row_sum[size_t(m)] += pa[m * L.K + k];
        for (int64_t k = 0; k < L.K; ++k)
          for (int64_t n = 0; n < L.N; ++n) col_sum[size_t(n)] += pw[k * L.N + n];
        L.correction.resize(size_t(L.M * L.N));
        for (int64_t m = 0; m < L.M; ++m)
          for (int64_t n = 0; n < L.N; ++n) {
            const int64_t z = int64_t(std::llround(pzw[n]));
            L.correction[size_t(m * L.N + n)] = -z * row_sum[size_t(m)] - za * col_sum[size_t(n)] + L.K * za * z;
          }
      }
      if (L.simulable && !fits) {
        L.simulable = false, L.note = "operand codes outside the formats' ranges";
      }
      const torch::Tensor acc64 = acc_rows.to(torch::kFloat64).contiguous();
      const double* pacc = acc64.data_ptr<double>();
      for (size_t j = 0; j < L.executor_acc.size(); ++j) L.executor_acc[j] = int64_t(pacc[j]);
    }
    if (price && L.simulable) {
      const LayerPrice p = price_layer(q, ex.acc_range(i), ops, lc.M, hw, *gate, nullptr);
      if (p.priced) L.executor_pj_per_mac = p.pj_per_mac, L.executor_ci95_pj = p.ci95_pj, L.executor_unit = p.unit;
    }
    w.layers.push_back(std::move(L));
  }
  return w;
}

}  // namespace lpsim::nn
