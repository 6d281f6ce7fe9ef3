#include "nn/pricing.h"

#include <random>

#include <fmt/format.h>

#include "arith/error.h"
#include "power_models/unit_energy.h"

namespace lpsim::nn {

MacStream sample_mac_stream(const LayerQuant& q, const LayerOperands& ops, uint64_t n, int run_length,
                            uint64_t seed) {
  MacStream s;
  const auto* ia = std::get_if<arith::IntFormat>(&q.activations);
  const auto* iw = std::get_if<arith::IntFormat>(&q.weights);
  const auto* fa = std::get_if<arith::FloatFormat>(&q.activations);
  const auto* fw = std::get_if<arith::FloatFormat>(&q.weights);
  std::function<uint64_t(float)> code_a, code_b;
  if (ia && iw && q.accumulator == "int") {
    // One signedness per MAC: an unsigned operand next to a signed one is zero-extended
    // by a bit (a uint8 is an int9), as the hardware would.
    s.is_signed = ia->is_signed || iw->is_signed;
    s.a_bits = ia->bits + (s.is_signed && !ia->is_signed ? 1 : 0);
    s.b_bits = iw->bits + (s.is_signed && !iw->is_signed ? 1 : 0);
    if (q.acc_bits < s.a_bits + s.b_bits) {
      s.note = fmt::format("no MAC RTL with an accumulator ({} b) narrower than the product ({} b)", q.acc_bits,
                           s.a_bits + s.b_bits);
      return s;
    }
    s.unit = "mac";
    const uint64_t ma = (uint64_t{1} << s.a_bits) - 1, mb = (uint64_t{1} << s.b_bits) - 1;
    code_a = [ma](float v) { return uint64_t(int64_t(v)) & ma; };
    code_b = [mb](float v) { return uint64_t(int64_t(v)) & mb; };
  } else if (fa && fw && q.accumulator == "fp32" && fa->total_bits() == 8 && fa->exp_bits == fw->exp_bits &&
             fa->man_bits == fw->man_bits && (fa->exp_bits == 4 || fa->exp_bits == 5)) {
    s.unit = "fp8_mac";
    s.format = fa->exp_bits == 4 ? "fp8_e4m3" : "fp8_e5m2";
    const arith::FloatFormat f = *fa;
    code_a = code_b = [f](float v) { return uint64_t(arith::encode(f, double(v)).code); };
  } else {
    s.note = "no RTL unit for " + arith::format_name(q.activations) + " x " + arith::format_name(q.weights) +
             " with a " + q.accumulator + " accumulator (int x int with an int accumulator, or FP8 E4M3/E5M2 with fp32)";
    return s;
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
                       const power::CellLibrary& lib, const power::PannModel* analytic) {
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
  power::UnitEnergyRequest r;
  r.unit = s.unit;
  r.arch = hw.mac_arch;
  r.format = s.format;
  r.a_bits = s.a_bits, r.b_bits = s.b_bits, r.acc_bits = q.acc_bits;
  r.is_signed = s.is_signed;
  r.seed = hw.seed;
  r.rtl_dir = hw.rtl_dir, r.cache_dir = hw.netlist_cache;
  r.stream = "operands";
  const bool use_analytic = hw.energy_model == "analytic" && s.unit == "mac";
  if (use_analytic) s.operands.resize(128);  // the netlist is still needed for the area
  r.operands = std::move(s.operands);
  const power::UnitEnergyReport rep = power::measure_unit_energy(r, lib);
  p.priced = true;
  p.unit = s.unit == "mac" ? fmt::format("mac {}{}x{} acc{} {}", s.is_signed ? "int" : "uint", s.a_bits, s.b_bits,
                                         q.acc_bits, hw.mac_arch)
                           : fmt::format("fp8_mac {} acc fp32", s.format);
  p.area_um2 = rep.area.area_um2;
  p.nand2 = rep.area.nand2_equivalents;
  if (use_analytic) {
    LPSIM_CHECK(analytic != nullptr);
    p.pj_per_mac = analytic->mac_energy_pj(s.a_bits, s.b_bits, q.acc_bits, s.is_signed) + rep.leakage_pj;
    p.unit += " (analytic)";
  } else {
    p.pj_per_mac = rep.energy_pj;
    p.ci95_pj = rep.energy_ci95_pj;
  }
  return p;
}

}  // namespace lpsim::nn
