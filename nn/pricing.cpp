#include "nn/pricing.h"

#include <functional>
#include <random>

#include <fmt/format.h>

#include "arith/error.h"
#include "arith/format.h"

namespace lpsim::nn {

MacStream sample_mac_stream(const LayerQuant& q, const LayerOperands& ops, uint64_t n, int run_length,
                            uint64_t seed) {
  MacStream s;
  const bool ints = std::holds_alternative<arith::IntFormat>(q.activations) &&
                    std::holds_alternative<arith::IntFormat>(q.weights);
  const auto* fa = std::get_if<arith::FloatFormat>(&q.activations);
  const bool fp8 = fa && q.accumulator == "fp32" && arith::format_name(q.activations) == arith::format_name(q.weights) &&
                   (arith::format_name(q.activations) == "fp8_e4m3" || arith::format_name(q.activations) == "fp8_e5m2");
  if (ints && q.accumulator == "int") {
    s.key = {"mac", arith::format_name(q.activations), arith::format_name(q.weights), q.acc_bits, "array"};
  } else if (fp8) {
    s.key = {"fp8_mac", arith::format_name(q.activations), arith::format_name(q.weights), 32, "array"};
  } else {
    s.note = "no RTL unit for " + arith::format_name(q.activations) + " x " + arith::format_name(q.weights) +
             " with a " + q.accumulator + " accumulator (int x int with an int accumulator, or FP8 E4M3/E5M2 with fp32)";
    return s;
  }
  const power::UnitEnergyRequest r = power::request_for(s.key);
  std::function<uint64_t(float)> code_a, code_b;
  if (ints) {
    if (q.acc_bits < r.a_bits + r.b_bits) {
      s.note = fmt::format("no MAC RTL with an accumulator ({} b) narrower than the product ({} b)", q.acc_bits,
                           r.a_bits + r.b_bits);
      return s;
    }
    const uint64_t ma = (uint64_t{1} << r.a_bits) - 1, mb = (uint64_t{1} << r.b_bits) - 1;
    code_a = [ma](float v) { return uint64_t(int64_t(v)) & ma; };
    code_b = [mb](float v) { return uint64_t(int64_t(v)) & mb; };
  } else {
    const arith::FloatFormat f = *fa;
    code_a = code_b = [f](float v) { return uint64_t(arith::encode(f, double(v)).code); };
  }
  const int64_t M = ops.cols.size(0), K = ops.cols.size(1), N = ops.w.size(1);
  const float* c = ops.cols.data_ptr<float>();
  const float* w = ops.w.data_ptr<float>();
  std::mt19937_64 rng(seed);
  const int64_t run = std::min<int64_t>(run_length, M);
  s.operands.reserve(n);
  while (s.operands.size() < n) {
    // A held weight w[k][n] and activations a[m][k] for consecutive output positions m.
    const int64_t k = std::uniform_int_distribution<int64_t>(0, K - 1)(rng);
    const int64_t j = std::uniform_int_distribution<int64_t>(0, N - 1)(rng);
    const int64_t m0 = std::uniform_int_distribution<int64_t>(0, M - run)(rng);
    const uint64_t wc = code_b(w[k * N + j]);
    for (int64_t m = m0; m < m0 + run && s.operands.size() < n; ++m) s.operands.emplace_back(code_a(c[m * K + k]), wc);
  }
  s.ok = true;
  return s;
}

LayerPrice price_layer(const LayerQuant& q, const LayerOperands& ops, const HardwareConfig& hw,
                       power::GateLevelEnergyModel& gate, power::AnalyticPannEnergyModel* analytic) {
  LayerPrice p;
  if (!q.quantised) {
    p.priced = true;
    p.unit = "fp32 (Horowitz 45 nm table)";
    p.pj_per_mac = kHorowitzFp32MacPj;
    return p;
  }
  MacStream s = sample_mac_stream(q, ops, std::max<uint64_t>(hw.energy_vectors, 128), hw.run_length, hw.seed);
  if (!s.ok) {
    p.note = s.note;
    return p;
  }
  if (s.key.unit == "mac") s.key.arch = hw.mac_arch;
  const bool use_analytic = analytic && s.key.unit == "mac";
  const power::OpPrice op = use_analytic ? analytic->price(s.key) : gate.price(s.key, std::move(s.operands));
  const power::UnitEnergyRequest r = power::request_for(s.key);
  p.priced = true;
  p.unit = s.key.unit == "mac"
               ? fmt::format("mac {}{}x{} acc{} {}", r.is_signed ? "int" : "uint", r.a_bits, r.b_bits, q.acc_bits,
                             hw.mac_arch)
               : fmt::format("fp8_mac {} acc fp32", r.format);
  if (use_analytic) p.unit += " (analytic)";
  p.pj_per_mac = op.energy_pj;
  p.ci95_pj = op.energy_ci95_pj;
  p.area_um2 = op.area_um2;
  p.nand2 = op.nand2;
  return p;
}

}  // namespace lpsim::nn
