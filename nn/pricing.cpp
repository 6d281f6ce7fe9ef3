#include "nn/pricing.h"

#include <bit>
#include <cmath>
#include <map>
#include <optional>
#include <random>

#include <fmt/format.h>

#include "arith/error.h"
#include "arith/format.h"

namespace lpsim::nn {

Dataflow parse_dataflow(const std::string& s) {
  if (s == "output_stationary") return Dataflow::output_stationary;
  if (s == "weight_stationary") return Dataflow::weight_stationary;
  throw InputError("'" + s + "' is not one of: output_stationary, weight_stationary", {}, "hardware.dataflow");
}

const char* dataflow_name(Dataflow d) {
  return d == Dataflow::output_stationary ? "output_stationary" : "weight_stationary";
}

namespace {

bool is_fp8(const std::string& f) { return f == "fp8_e4m3" || f == "fp8_e5m2"; }
}  // namespace

int64_t ws_run_length(const HardwareConfig& hw, int64_t positions) {
  int64_t R = std::max<int64_t>(1, std::min<int64_t>(hw.ws_run, positions));
  while (positions % R) --R;
  return R;
}

PeUnit pe_unit(const LayerQuant& q, const HardwareConfig& hw) {
  PeUnit pe;
  const bool ws = hw.dataflow == Dataflow::weight_stationary;
  const std::string sfx = ws ? "_ws" : "";
  if (!q.quantised) {
    pe.key = {"fp_mac" + sfx, "fp32", "fp32", 32, "array"};
    pe.label = "fp_mac fp32" + std::string(ws ? " ws" : "");
    pe.ok = true;
    return pe;
  }
  const std::string fa = arith::format_name(q.activations), fw = arith::format_name(q.weights);
  if (is_lns_accumulator(q.accumulator)) {
    // The LNS units accumulate in place: output-stationary PEs. Sized for kLnsUnitTerms
    // products (acc_bits 0), as the executor's unit for every K up to it.
    if (ws) {
      pe.note = "LNS units are priced output-stationary only";
      return pe;
    }
    const std::string unit = q.accumulator == "linear" ? "lns_mac" : q.accumulator == "log" ? "lns_log_acc" : "lns_mitchell_acc";
    pe.key = {unit, fa, fw, 0, "array"};
    pe.key.lns_alpha = q.lns_alpha > 0 ? q.lns_alpha : -1;
    pe.key.lns_acc_frac = q.lns_acc_frac > 0 ? q.lns_acc_frac : -1;
    pe.label = unit + " " + fa;
    pe.ok = true;
    return pe;
  }
  const bool ints = std::holds_alternative<arith::IntFormat>(q.activations) &&
                    std::holds_alternative<arith::IntFormat>(q.weights);
  if (ints && q.accumulator == "int" && hw.user_mac) {
    // The user's MAC, where it is the unit the configuration asks for.
    const HardwareConfig::UserMac& u = *hw.user_mac;
    const power::UnitEnergyRequest r = power::request_for({"mac", fa, fw, q.acc_bits, "array"});
    const std::string theirs = fmt::format("{}{}x{} acc{} {}", r.is_signed ? "int" : "uint", r.a_bits, r.b_bits,
                                           q.acc_bits, q.acc_overflow == arith::Overflow::saturate ? "saturate" : "wrap");
    const std::string yours = fmt::format("{}{}x{} acc{} {}", u.is_signed ? "int" : "uint", u.a_bits, u.b_bits,
                                          u.acc_bits, u.overflow);
    if (ws) {
      pe.note = "your MAC " + u.top + " (hardware.mac) accumulates in place; a weight-stationary PE passes partial sums";
      return pe;
    }
    if (theirs != yours) {
      pe.note = "your MAC " + u.top + " (hardware.mac) is " + yours + "; this configuration needs " + theirs;
      return pe;
    }
    pe.key = {"mac", fa, fw, q.acc_bits, "user"};
    pe.label = "mac " + u.top + " (your RTL) " + yours;
    pe.ok = true;
    return pe;
  }
  if (ints && q.accumulator == "int") {
    pe.key = {"mac" + sfx, fa, fw, q.acc_bits, hw.mac_arch};
    const power::UnitEnergyRequest r = power::request_for(pe.key);
    if (q.acc_bits < r.a_bits + r.b_bits) {
      pe.note = fmt::format("no MAC RTL with an accumulator ({} b) narrower than the product ({} b)", q.acc_bits,
                            r.a_bits + r.b_bits);
      return pe;
    }
    pe.label = fmt::format("mac {}{}x{} acc{} {}{}", r.is_signed ? "int" : "uint", r.a_bits, r.b_bits, q.acc_bits,
                           hw.mac_arch, ws ? " ws" : "");
    pe.ok = true;
    return pe;
  }
  if (q.accumulator == "fp32" && fa == fw && (is_fp8(fa) || fa == "fp16")) {
    pe.key = {"fp8_mac" + sfx, fa, fw, 32, "array"};
    pe.label = fmt::format("fp8_mac {} acc fp32{}", fa, ws ? " ws" : "");
    pe.ok = true;
    return pe;
  }
  if (q.accumulator == "fp32" && fa == "fp32" && fw == "fp32") {
    pe.key = {"fp_mac" + sfx, "fp32", "fp32", 32, "array"};
    pe.label = "fp_mac fp32" + std::string(ws ? " ws" : "");
    pe.ok = true;
    return pe;
  }
  pe.note = "no RTL unit for " + fa + " x " + fw + " with a " + q.accumulator +
            " accumulator (int x int with an int accumulator, FP8 E4M3/E5M2 or FP16 with fp32, or fp32)";
  return pe;
}

LayerChains layer_chains(const LayerQuant& q, const AccRange& range, const LayerOperands& ops, const PeUnit& pe,
                         const HardwareConfig& hw, uint64_t chains, uint64_t seed) {
  LayerChains out;
  const power::UnitEnergyRequest r = power::request_for(pe.key);
  OperandCoder ca, cw;
  const bool fp_acc = ops.fp32 || q.accumulator == "fp32";
  if (ops.fp32) {
    ca = cw = OperandCoder::fp32();
  } else if (std::holds_alternative<arith::LnsFormat>(q.activations)) {
    ca = cw = OperandCoder::integer(r.a_bits);  // the recorded operands are LNS codes
  } else if (!r.format.empty()) {
    ca = OperandCoder::format(std::get<arith::FloatFormat>(q.activations));
    cw = OperandCoder::format(std::get<arith::FloatFormat>(q.weights));
  } else {
    ca = OperandCoder::integer(r.a_bits), cw = OperandCoder::integer(r.b_bits);
  }
  const int64_t M = ops.cols.size(0), K = ops.cols.size(1), N = ops.w.size(1);
  const float* c = ops.cols.data_ptr<float>();
  const float* w = ops.w.data_ptr<float>();
  std::mt19937_64 rng(seed);
  auto pick = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  if (hw.dataflow == Dataflow::output_stationary) {
    // One output (m, n): a clear cycle presenting the first operands, then K MACs.
    out.len = uint32_t(K + 1), out.ops = uint32_t(K);
    out.count = chains ? chains : uint64_t(M * N);
    out.steps.reserve(out.count * out.len);
    for (uint64_t i = 0; i < out.count; ++i) {
      const int64_t m = chains ? pick(0, M - 1) : int64_t(i) / N;
      const int64_t n = chains ? pick(0, N - 1) : int64_t(i) % N;
      out.steps.push_back({ca(c[m * K]), cw(w[n]), 0, power::kStepClear});
      for (int64_t k = 0; k < K; ++k) out.steps.push_back({ca(c[m * K + k]), cw(w[k * N + n]), 0, power::kStepEnable});
    }
    return out;
  }
  // Weight-stationary: PE (k, n) holds w[k][n]; positions m0 … m0+R−1 stream past, each
  // with the partial sum of k' < k arriving from above, in the accumulator's semantics.
  const int64_t R = ws_run_length(hw, M);
  const int bits = q.acc_bits;
  const int64_t lo = range.mac_signed ? -(int64_t{1} << (bits - 1)) : 0;
  const int64_t hi = range.mac_signed ? (int64_t{1} << (bits - 1)) - 1 : (int64_t{1} << bits) - 1;
  const uint64_t psum_mask = fp_acc ? 0xFFFFFFFFu : (bits >= 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1);
  const bool saturate = q.acc_overflow == arith::Overflow::saturate;
  auto psum = [&](int64_t m, int64_t n, int64_t k) -> uint64_t {
    if (fp_acc) {
      float s = 0;
      for (int64_t j = 0; j < k; ++j) s += c[m * K + j] * w[j * N + n];  // RNE product, RNE add
      return std::bit_cast<uint32_t>(s);
    }
    int64_t s = 0;
    for (int64_t j = 0; j < k; ++j) {
      s += int64_t(c[m * K + j]) * int64_t(w[j * N + n]);
      if (saturate) s = std::clamp(s, lo, hi);
    }
    return uint64_t(s) & psum_mask;  // wrap: the low bits are the register's value
  };
  const int64_t runs = M / R;
  out.len = uint32_t(R + 1), out.ops = uint32_t(R);
  out.count = chains ? chains : uint64_t(K * N * runs);
  out.steps.reserve(out.count * out.len);
  for (uint64_t i = 0; i < out.count; ++i) {
    int64_t k, n, m0;
    if (chains) {
      k = pick(0, K - 1), n = pick(0, N - 1), m0 = pick(0, runs - 1) * R;
    } else {
      const int64_t run = int64_t(i) % runs, kn = int64_t(i) / runs;
      k = kn % K, n = kn / K, m0 = run * R;
    }
    const uint64_t wc = cw(w[k * N + n]);
    out.steps.push_back({ca(c[m0 * K + k]), wc, psum(m0, n, k), power::kStepLoad});
    for (int64_t m = m0; m < m0 + R; ++m) out.steps.push_back({ca(c[m * K + k]), wc, psum(m, n, k), power::kStepEnable});
  }
  return out;
}

double horowitz_mac_pj(const LayerQuant& q) {
  if (!q.quantised) return 3.7 + 0.9;
  const std::string fa = arith::format_name(q.activations), fw = arith::format_name(q.weights);
  if (q.accumulator == "fp32" && fa == "fp32" && fw == "fp32") return 3.7 + 0.9;
  if (q.accumulator == "fp32" && fa == "fp16" && fw == "fp16") return 1.1 + 0.9;
  if (q.accumulator == "int" && fa == "int8" && fw == "int8" && q.acc_bits <= 32) return 0.2 + 0.1;
  return NAN;
}

namespace {

uint64_t chains_for(const HardwareConfig& hw, uint32_t ops_per_chain) {
  const uint64_t slots = std::max<uint64_t>(hw.min_slots, (hw.energy_vectors + 64 * ops_per_chain - 1) / (64 * ops_per_chain));
  return 64 * slots;
}

// z_w·Σ_k q_a for every output (weights with a zero point): the row sums of the
// activation codes on an accumulator (a clear, then K additions per row), and per output
// one multiplication z_w × row sum and one addition into the result.
void price_correction(const LayerQuant& q, const LayerOperands& ops, int64_t rows_per_image, const HardwareConfig& hw,
                      power::GateLevelEnergyModel& gate, LayerPrice& p) {
  const int64_t M = ops.cols.size(0), K = ops.cols.size(1), N = ops.w.size(1);
  const auto& ia = std::get<arith::IntFormat>(q.activations);
  const auto& iw = std::get<arith::IntFormat>(q.weights);
  const int sum_bits = ia.bits + int(std::ceil(std::log2(double(K)))) + (ia.is_signed ? 1 : 0);
  if (sum_bits > 32) {
    p.correction_unit = "not priced: row sums wider than 32 bits";
    p.correction_pj_per_image = NAN;
    return;
  }
  const std::string sum_fmt = (ia.is_signed ? "int" : "uint") + std::to_string(sum_bits);
  const float* c = ops.cols.data_ptr<float>();
  std::mt19937_64 rng(hw.seed ^ 0x636F7272ull);
  // Row sums on the `acc` unit.
  const power::OpKey acc_key{"acc", ia.name(), ia.name(), sum_bits, "ripple"};
  const uint64_t n_chains = chains_for(hw, uint32_t(K));
  std::vector<power::ChainStep> steps;
  steps.reserve(n_chains * (K + 1));
  const uint64_t amask = (uint64_t{1} << ia.bits) - 1;
  std::vector<int64_t> sums;
  for (uint64_t i = 0; i < n_chains; ++i) {
    const int64_t m = std::uniform_int_distribution<int64_t>(0, M - 1)(rng);
    steps.push_back({uint64_t(int64_t(c[m * K])) & amask, 0, 0, power::kStepClear});
    int64_t s = 0;
    for (int64_t k = 0; k < K; ++k) {
      steps.push_back({uint64_t(int64_t(c[m * K + k])) & amask, 0, 0, power::kStepEnable});
      s += int64_t(c[m * K + k]);
    }
    sums.push_back(s);
  }
  const power::OpPrice add = gate.price_chains(acc_key, std::move(steps), uint32_t(K + 1), uint32_t(K));
  // z_w × row sum on a multiplier (real pairs), plus one adder of the accumulator's width.
  // The coefficient: the weights' integer zero point, or with bias correction the offset in
  // weight-code units as a Q8.8 fixed-point int16 (the float rescale stage adds it exactly;
  // the multiplier priced is what a fixed-point datapath would use).
  const bool offset = ops.weight_offset.defined();
  const std::string coef_fmt = offset ? "int16" : iw.name();
  const int coef_bits = offset ? 16 : iw.bits;
  const power::OpKey mul_key{"mul", sum_fmt, coef_fmt, 32, hw.mac_arch};
  std::vector<std::pair<uint64_t, uint64_t>> pairs;
  const uint64_t smask = (uint64_t{1} << sum_bits) - 1, wmask = (uint64_t{1} << coef_bits) - 1;
  const auto coef = offset ? ops.weight_offset.to(torch::kFloat64).mul(256.0).round().clamp(-32768, 32767).contiguous()
                           : ops.weight_zero.to(torch::kFloat64).contiguous();
  const double* zw = coef.data_ptr<double>();
  for (size_t i = 0; i < std::max<size_t>(sums.size(), 4096); ++i) {
    const int64_t n = std::uniform_int_distribution<int64_t>(0, N - 1)(rng);
    pairs.emplace_back(uint64_t(sums[i % sums.size()]) & smask, uint64_t(int64_t(zw[n])) & wmask);
  }
  const power::OpPrice mul = gate.price(mul_key, std::move(pairs));
  const std::string acc_fmt = "int" + std::to_string(std::min(q.acc_bits, 32));
  const power::OpPrice out_add = gate.price({"add", acc_fmt, acc_fmt, 32, "ripple"});
  const double rows = double(rows_per_image), outs = double(rows_per_image) * double(N);
  p.correction_pj_per_image = rows * double(K) * add.energy_pj + outs * (mul.energy_pj + out_add.energy_pj);
  p.correction_ci95_pj = std::hypot(rows * double(K) * add.energy_ci95_pj, outs * mul.energy_ci95_pj,
                                    outs * out_add.energy_ci95_pj);
  p.correction_unit = fmt::format("acc {} +{} b (row sums) + mul {}x{} + add{}", ia.name(), sum_bits - ia.bits, sum_fmt,
                                  coef_fmt, std::min(q.acc_bits, 32));
}

}  // namespace

int pann_r_bits(double max_abs_w) {
  int rw = 2;
  while (std::ldexp(1.0, rw) - 1 < max_abs_w) ++rw;
  return rw;
}

LayerChains pann_chains(const LayerQuant& q, const LayerOperands& ops, uint64_t chains, uint64_t seed) {
  LayerChains out;
  const int bx = std::get<arith::IntFormat>(q.activations).bits;
  const uint64_t xmask = (uint64_t{1} << bx) - 1;
  const int64_t M = ops.cols.size(0), K = ops.cols.size(1), N = ops.w.size(1);
  const float* c = ops.cols.data_ptr<float>();
  const float* w = ops.w.data_ptr<float>();
  std::mt19937_64 rng(seed);
  auto pick = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  out.count = chains ? chains : uint64_t(M * N);
  std::vector<std::pair<int64_t, int64_t>> outs(out.count);
  for (uint64_t i = 0; i < out.count; ++i)
    outs[i] = chains ? std::pair{pick(0, M - 1), pick(0, N - 1)} : std::pair{int64_t(i) / N, int64_t(i) % N};
  // The longest chain sets the length: 1 clear, then (if some w̃ ≠ 0) the first start and
  // Σ|w̃| additions: every later start comes on the last addition of the job before
  // (done_o at count 1), the last job's last addition without one: 2 + Σ|w̃| steps.
  std::vector<int64_t> length(size_t(N), 1);
  for (int64_t n = 0; n < N; ++n) {
    int64_t adds = 0;
    for (int64_t k = 0; k < K; ++k) adds += int64_t(std::fabs(w[k * N + n]));
    if (adds) length[size_t(n)] = 2 + adds;
  }
  int64_t len = 1;
  for (const auto& [m, n] : outs) len = std::max(len, length[size_t(n)]);
  out.len = uint32_t(len), out.ops = 1;  // priced per output
  out.steps.reserve(out.count * out.len);
  for (const auto& [m, n] : outs) {
    const size_t begin = out.steps.size();
    out.steps.push_back({uint64_t(int64_t(c[m * K])) & xmask, 0, 0, power::kStepClear});
    bool any = false;
    for (int64_t k = 0; k < K; ++k) {
      const int64_t wt = int64_t(w[k * N + n]);
      if (!wt) continue;
      const power::ChainStep start{uint64_t(int64_t(c[m * K + k])) & xmask, uint64_t(wt < 0 ? -wt : wt),
                                   uint64_t(wt < 0), power::kStepLoad};
      out.steps.push_back(start);  // the first: a step of its own; later ones: the last addition of the job before
      power::ChainStep hold = start;
      hold.ctrl = 0;  // the unit counts the additions itself; inputs held
      for (int64_t r = 1; r < (wt < 0 ? -wt : wt); ++r) out.steps.push_back(hold);  // all but its last addition
      any = true;
    }
    if (any) {  // the last job's last addition, no start
      power::ChainStep last = out.steps.back();
      last.ctrl = 0;
      out.steps.push_back(last);
    }
    power::ChainStep idle = out.steps.back();
    idle.ctrl = 0;
    while (out.steps.size() - begin < size_t(len)) out.steps.push_back(idle);
  }
  return out;
}

namespace {

// PANN on pann_mac: energy per output over the layer's K MACs for the table; the
// subtraction pos − neg once per output on an acc_bits adder.
void price_pann(const LayerQuant& q, const LayerOperands& ops, int64_t rows_per_image, const HardwareConfig& hw,
                power::GateLevelEnergyModel& gate, LayerPrice& p) {
  const int bx = std::get<arith::IntFormat>(q.activations).bits;
  const int rw = pann_r_bits(ops.w.abs().max().item<double>());
  const power::OpKey key{"pann_mac", "uint" + std::to_string(bx), "uint" + std::to_string(rw), q.acc_bits, "array"};
  const int64_t K = ops.cols.size(1), N = ops.w.size(1);
  const uint64_t slots = std::max<uint64_t>(hw.min_slots, (hw.energy_vectors + 64 * K - 1) / (64 * K));
  LayerChains ch = pann_chains(q, ops, 64 * slots, hw.seed);
  const power::OpPrice op = gate.price_chains(key, std::move(ch.steps), ch.len, ch.ops);
  p.unit = fmt::format("pann_mac x{} r{} 2xacc{}", bx, rw, q.acc_bits);
  p.priced = true;
  p.pj_per_mac = op.energy_pj / double(K);  // per output, spread over its K MACs
  p.ci95_pj = op.energy_ci95_pj / double(K);
  p.batches = op.batches;
  p.sampled_macs = op.operations * uint64_t(K);
  p.area_um2 = op.area_um2, p.nand2 = op.nand2;
  const std::string acc = "int" + std::to_string(std::min(q.acc_bits, 62));
  const power::OpPrice sub = gate.price({"add", acc, acc, 32, "ripple"});
  p.correction_pj_per_image = double(rows_per_image * N) * sub.energy_pj;
  p.correction_ci95_pj = double(rows_per_image * N) * sub.energy_ci95_pj;
  p.correction_unit = fmt::format("add{} (pos - neg, once per output)", std::min(q.acc_bits, 62));
}

// Per-channel widths (bit allocation): the layer's MACs split into groups of one
// (activation width, weight width) pair — input channels of that activation width ×
// output channels of that weight width — each priced on its own MAC with its own
// operands; a zero-width activation channel's MACs are skipped (no energy). The price per
// MAC is the MAC-weighted mean; the area is the widest group's MAC.
void price_mixed(const LayerQuant& q, const AccRange& range, const LayerOperands& ops, int64_t rows_per_image,
                 const HardwareConfig& hw, power::GateLevelEnergyModel& gate, power::AnalyticPannEnergyModel* analytic,
                 LayerPrice& p) {
  p.horowitz_pj_per_mac = NAN;
  if (!ops.cols.defined()) {
    p.note = "no operands recorded";
    return;
  }
  const auto& ia = std::get<arith::IntFormat>(q.activations);
  const auto& iw = std::get<arith::IntFormat>(q.weights);
  const int64_t K = ops.cols.size(1), N = ops.w.size(1);
  std::vector<int> kbits(size_t(K), ia.bits), nbits(size_t(N), iw.bits);
  if (!q.activation_channel_bits.empty()) {
    const int64_t per = K / int64_t(q.activation_channel_bits.size());
    for (int64_t k = 0; k < K; ++k) kbits[size_t(k)] = q.activation_channel_bits[size_t(k / per)];
  }
  if (!q.weight_channel_bits.empty()) nbits = q.weight_channel_bits;
  std::map<int, std::vector<int64_t>> ks, ns;
  for (int64_t k = 0; k < K; ++k) ks[kbits[size_t(k)]].push_back(k);
  for (int64_t n = 0; n < N; ++n) ns[nbits[size_t(n)]].push_back(n);
  double pj = 0, var = 0;
  std::string mix;
  std::string widest;
  for (const auto& [a, kidx] : ks)
    for (const auto& [w, nidx] : ns) {
      const double frac = double(kidx.size()) * double(nidx.size()) / (double(K) * double(N));
      mix += fmt::format("{}a{}w{} {:.0f}%", mix.empty() ? "" : ", ", a, w, 100 * frac);
      if (a == 0) continue;  // a dropped channel: no MACs
      LayerQuant sub = q;
      sub.activations = arith::IntFormat{a, ia.is_signed};
      sub.weights = arith::IntFormat{w, true};
      sub.weight_channel_bits.clear(), sub.activation_channel_bits.clear();
      LayerOperands so;
      const auto kt = torch::tensor(kidx, torch::kInt64), nt = torch::tensor(nidx, torch::kInt64);
      so.cols = ops.cols.index_select(1, kt).contiguous();
      so.w = ops.w.index_select(0, kt).index_select(1, nt).contiguous();
      so.act_zero = ops.act_zero;
      LayerPrice gp = price_layer(sub, range, so, rows_per_image, hw, gate, analytic);
      if (!gp.priced) {
        p.note = fmt::format("group a{}w{}: {}", a, w, gp.note);
        return;
      }
      pj += frac * gp.pj_per_mac;
      p.area_mixed_um2 += frac * gp.area_um2;
      var += std::pow(frac * gp.ci95_pj, 2);
      p.batches += gp.batches, p.sampled_macs += gp.sampled_macs;
      if (gp.area_um2 > p.area_um2) p.area_um2 = gp.area_um2, p.nand2 = gp.nand2, widest = gp.unit;
    }
  p.priced = true;
  p.pj_per_mac = pj, p.ci95_pj = std::sqrt(var);
  p.unit = "mixed widths, widest " + widest;
  p.mix = mix;
  const bool zp = ops.weight_zero.defined() && ops.weight_zero.abs().max().item<double>() > 0;
  if (zp || ops.weight_offset.defined()) price_correction(q, ops, rows_per_image, hw, gate, p);
}

}  // namespace

LayerPrice price_layer(const LayerQuant& q, const AccRange& range, const LayerOperands& ops, int64_t rows_per_image,
                       const HardwareConfig& hw, power::GateLevelEnergyModel& gate,
                       power::AnalyticPannEnergyModel* analytic) {
  LayerPrice p;
  if (q.quantised && q.pann) {
    p.horowitz_pj_per_mac = NAN;
    if (!ops.cols.defined()) {
      p.note = "no operands recorded";
      return p;
    }
    if (hw.dataflow != Dataflow::output_stationary) {
      p.note = "PANN is priced output-stationary only";
      return p;
    }
    price_pann(q, ops, rows_per_image, hw, gate, p);
    return p;
  }
  if (q.quantised && (!q.weight_channel_bits.empty() || !q.activation_channel_bits.empty())) {
    price_mixed(q, range, ops, rows_per_image, hw, gate, analytic, p);
    return p;
  }
  p.horowitz_pj_per_mac = horowitz_mac_pj(q);
  const PeUnit pe = pe_unit(q, hw);
  if (!pe.ok) {
    p.note = pe.note;
    return p;
  }
  if (!ops.cols.defined()) {
    p.note = "no operands recorded";
    return p;
  }
  p.unit = pe.label;
  const bool int_mac = pe.key.unit == "mac" || pe.key.unit == "mac_ws";
  power::OpPrice op;
  if (analytic && int_mac) {
    power::OpKey k = pe.key;
    k.unit = "mac";  // the PANN model knows the MAC; the dataflow does not enter it
    op = analytic->price(k);
    p.unit += " (analytic)";
  } else {
    const uint32_t ops_per_chain =
        hw.dataflow == Dataflow::output_stationary ? uint32_t(ops.cols.size(1))
                                                   : uint32_t(ws_run_length(hw, ops.cols.size(0)));
    LayerChains ch = layer_chains(q, range, ops, pe, hw, chains_for(hw, ops_per_chain), hw.seed);
    op = gate.price_chains(pe.key, std::move(ch.steps), ch.len, ch.ops);
  }
  p.priced = true;
  p.pj_per_mac = op.energy_pj;
  p.ci95_pj = op.energy_ci95_pj;
  p.batches = op.batches;
  p.sampled_macs = op.operations;
  p.area_um2 = op.area_um2;
  p.nand2 = op.nand2;
  if (!ops.fp32 && ((ops.weight_zero.defined() && ops.weight_zero.abs().max().item<double>() > 0) ||
                    ops.weight_offset.defined()))
    price_correction(q, ops, rows_per_image, hw, gate, p);
  return p;
}

}  // namespace lpsim::nn
