// The SystemC systolic array (sim/accelerator.h) against independent references:
// outputs against a k-order sum through the accumulator model (arith), cycles against
// the SCALE-Sim closed forms per fold (papers: SCALE-Sim, Samajdar et al. 2018/2020, as
// stated in issue 15), the synthesised PE netlist against the golden PE on every
// simulated cycle, and the energy bookkeeping against itself (windows sum to the total).
#include <gtest/gtest.h>

#include <filesystem>
#include <numeric>

#include "arith/error.h"
#include "arith/philox.h"
#include "power_models/cell_library.h"
#include "power_models/unit_energy.h"
#include "sim/accelerator.h"

using namespace lpsim;
using namespace lpsim::sim;

namespace {

const power::CellLibrary& lib() {
  static const power::CellLibrary l = power::load_cell_library(power::default_cell_library_path());
  return l;
}
std::filesystem::path rtl() { return std::filesystem::path(LPSIM_SOURCE_DIR) / "rtl"; }
std::filesystem::path cache() { return std::filesystem::path(LPSIM_BINARY_DIR) / "netlists"; }

Gemm random_gemm(int64_t M, int64_t K, int64_t N, int a_bits, int w_bits, uint64_t seed) {
  Gemm g;
  g.name = "random";
  g.M = M, g.K = K, g.N = N;
  const arith::RandomStream rng(seed);
  uint64_t i = 0;
  for (int64_t j = 0; j < M * K; ++j) g.a.push_back(rng.bits(i++) & ((uint64_t{1} << a_bits) - 1));
  for (int64_t j = 0; j < K * N; ++j) g.w.push_back(rng.bits(i++) & ((uint64_t{1} << w_bits) - 1));
  return g;
}

AcceleratorSpec spec(int R, int C, Dataflow d, bool gates = false) {
  AcceleratorSpec s;
  s.rows = R, s.cols = C, s.dataflow = d, s.gate_level = gates;
  s.window_cycles = 16;
  return s;
}

// Cycles of the model: per fold, weight-stationary R (load) + M + R + C' − 2, output-
// stationary K + R' + C' − 2 + R (drain), C'/R' the columns/rows in use.
uint64_t expected_cycles(Dataflow d, int R, int C, int64_t M, int64_t K, int64_t N) {
  uint64_t total = 0;
  for (int64_t n0 = 0; n0 < N; n0 += C) {
    const int64_t Cu = std::min<int64_t>(C, N - n0);
    if (d == Dataflow::weight_stationary) {
      for (int64_t k0 = 0; k0 < K; k0 += R) total += R + M + R + Cu - 2;
    } else {
      for (int64_t m0 = 0; m0 < M; m0 += R) total += K + std::min<int64_t>(R, M - m0) + Cu - 2 + R;
    }
  }
  return total;
}

}  // namespace

class Dataflows : public ::testing::TestWithParam<Dataflow> {};

TEST_P(Dataflows, OutputsEqualTheKOrderAccumulatorAndCyclesTheClosedForm) {
  const Dataflow d = GetParam();
  for (auto [R, C, M, K, N] : std::vector<std::array<int, 5>>{{4, 5, 37, 23, 13}, {8, 8, 16, 64, 16}, {3, 2, 1, 1, 1},
                                                                {1, 1, 5, 7, 3}, {16, 16, 50, 25, 6}}) {
    Accelerator acc(spec(R, C, d), lib(), rtl(), cache());
    const Gemm g = random_gemm(M, K, N, 8, 8, uint64_t(R * 1000 + M));
    const GemmResult r = acc.run(g);
    uint64_t ref_ovf = 0;
    EXPECT_EQ(r.out, reference_gemm(g, acc.spec().pe, &ref_ovf)) << R << "x" << C << " " << M << "," << K << "," << N;
    EXPECT_EQ(r.overflows, ref_ovf);
    EXPECT_EQ(r.macs, uint64_t(M) * K * N);
    EXPECT_EQ(r.cycles, expected_cycles(d, R, C, M, K, N));
    if (N % C == 0 && (d == Dataflow::weight_stationary || M % R == 0)) {
      // Every fold uses the whole array: the SCALE-Sim paper's count exactly, its code one less (WS).
      EXPECT_EQ(r.cycles, scalesim_paper_cycles(d, R, C, M, K, N));
      if (d == Dataflow::weight_stationary) {
        EXPECT_EQ(r.scalesim_cycles + 1, r.cycles);
      }
    }
    EXPECT_NEAR(r.utilization, double(r.macs) / (double(r.cycles) * R * C), 1e-12);
  }
}

TEST_P(Dataflows, SaturatingNarrowAccumulatorMatchesInKOrder) {
  // int4 × int4 into 8 bits: sums leave the range often; saturation is order-dependent,
  // so equality shows the array sums each output in k-order, folds over K included.
  AcceleratorSpec s = spec(3, 4, GetParam());
  s.pe = {4, 4, 8, true, true, "array", ""};
  Accelerator acc(s, lib(), rtl(), cache());
  const Gemm g = random_gemm(20, 17, 9, 4, 4, 7);
  const GemmResult r = acc.run(g);
  uint64_t ref_ovf = 0;
  EXPECT_EQ(r.out, reference_gemm(g, s.pe, &ref_ovf));
  EXPECT_GT(ref_ovf, 0u);
  EXPECT_EQ(r.overflows, ref_ovf);
  // Unsigned wrap.
  s.pe = {4, 4, 8, false, false, "array", ""};
  Accelerator acc2(s, lib(), rtl(), cache());
  EXPECT_EQ(acc2.run(g).out, reference_gemm(g, s.pe));
}

TEST_P(Dataflows, GateLevelPeEqualsGoldenOnEveryCycleAndEnergyAddsUp) {
  AcceleratorSpec s = spec(4, 20, GetParam(), true);  // 80 PEs: two groups of 64 lanes, the second part-filled
  s.verify_gates = true;
  Accelerator acc(s, lib(), rtl(), cache());
  const Gemm g = random_gemm(30, 11, 25, 8, 8, 3);
  const GemmResult r = acc.run(g);
  EXPECT_EQ(r.out, reference_gemm(g, s.pe));
  EXPECT_GT(r.pe_steps_simulated, 0u);
  EXPECT_EQ(r.gate_mismatches, 0u);
  EXPECT_GT(r.mac_energy_pj, 0);
  EXPECT_GT(r.leakage_pj, 0);
  EXPECT_GT(r.sram_energy_pj(), 0);
  const double windows = std::accumulate(r.window_energy_pj.begin(), r.window_energy_pj.end(), 0.0);
  EXPECT_NEAR(windows, r.energy_pj(), 1e-9 * r.energy_pj());
  EXPECT_EQ(r.window_energy_pj.size(), (r.cycles + 15) / 16);
  const PowerSummary p = power_summary(r, 16, s.clock_mhz);
  EXPECT_GT(p.peak_mw, p.avg_mw);
  EXPECT_NEAR(p.avg_mw, r.energy_pj() / (double(r.cycles) * 1e3 / s.clock_mhz), 1e-9 * p.avg_mw);
  // Leakage: every PE, every cycle.
  EXPECT_NEAR(r.leakage_pj, acc.pe_leakage_nw() * 80 * double(r.cycles) * (1e3 / s.clock_mhz) * 1e-6, 1e-9 * r.leakage_pj);
  // The same run again: bit-identical energy (no randomness anywhere).
  Accelerator again(s, lib(), rtl(), cache());
  EXPECT_EQ(again.run(g).mac_energy_pj, r.mac_energy_pj);
}

TEST_P(Dataflows, Fp8PeSumsInKOrderInFp32AndItsNetlistAgrees) {
  // FP8 E4M3 codes (every code, NaN and the largest values included, at random) into FP32:
  // FP32 addition is not associative, so equality with the k-order golden sum shows the
  // order, folds over K included; the fp8_mac(_ws) netlist equals the golden PE every cycle.
  for (const char* fmt : {"fp8_e4m3", "fp8_e5m2"}) {
    AcceleratorSpec s = spec(3, 5, GetParam(), true);
    s.pe = PeSpec::fp8_pe(fmt);
    s.verify_gates = true;
    Accelerator acc(s, lib(), rtl(), cache());
    const Gemm g = random_gemm(11, 13, 7, 8, 8, 21);
    const GemmResult r = acc.run(g);
    EXPECT_EQ(r.out, reference_gemm(g, s.pe)) << fmt;
    EXPECT_EQ(r.gate_mismatches, 0u) << fmt;
    EXPECT_GT(r.mac_energy_pj, 0);
    // Not the integer sum of the same codes (the test would pass for a wrong PE otherwise).
    AcceleratorSpec si = spec(3, 5, GetParam());
    EXPECT_NE(reference_gemm(g, si.pe), r.out);
  }
}

INSTANTIATE_TEST_SUITE_P(Sim, Dataflows, ::testing::Values(Dataflow::weight_stationary, Dataflow::output_stationary),
                         [](const auto& i) { return std::string(dataflow_name(i.param)); });

// The LUQ shift PE (rtl/luq_mac) in an output-stationary array: every output against an
// independent reference — each product written out as a·(±2^(e−1)) in int64, the sum
// wrapped to the accumulator's width at the end (a wrapping sum is the same in any
// order) — for signed INT4 and zero-extended 5-bit activations, with a 32-bit and a
// narrow (a_bits + 7) accumulator that wraps; the netlist equals the golden PE on every
// cycle; weight-stationary is refused naming the key.
TEST(Sim, LuqShiftPeSumsShiftedActivationsAndItsNetlistAgrees) {
  for (int a_bits : {4, 5})
    for (int acc_bits : {32, a_bits + 7}) {
      AcceleratorSpec s = spec(3, 5, Dataflow::output_stationary, true);
      s.pe = PeSpec::luq_pe(a_bits, acc_bits);
      s.verify_gates = true;
      Accelerator acc(s, lib(), rtl(), cache());
      const Gemm g = random_gemm(11, 40, 7, a_bits, 4, 31 + uint64_t(a_bits));
      const GemmResult r = acc.run(g);
      std::vector<int64_t> want(size_t(g.M * g.N));
      for (int64_t m = 0; m < g.M; ++m)
        for (int64_t n = 0; n < g.N; ++n) {
          int64_t sum = 0;
          for (int64_t k = 0; k < g.K; ++k) {
            const int64_t code = int64_t(g.a[m * g.K + k]);
            const int64_t a = code >= (int64_t{1} << (a_bits - 1)) ? code - (int64_t{1} << a_bits) : code;
            const uint64_t w = g.w[k * g.N + n], e = w & 7;
            sum += e == 0 ? 0 : ((w & 8) ? -1 : 1) * a * (int64_t{1} << (e - 1));
          }
          const uint64_t wrapped = uint64_t(sum) & ((uint64_t{1} << acc_bits) - 1);
          want[m * g.N + n] = wrapped >> (acc_bits - 1) ? int64_t(wrapped) - (int64_t{1} << acc_bits) : int64_t(wrapped);
        }
      EXPECT_EQ(r.out, want) << a_bits << " " << acc_bits;
      EXPECT_EQ(r.out, reference_gemm(g, s.pe));
      EXPECT_EQ(r.gate_mismatches, 0u);
      EXPECT_GT(r.mac_energy_pj, 0);
      if (acc_bits < 32) {
        EXPECT_GT(r.overflows, 0u) << "the narrow accumulator must wrap";
      }
    }
  AcceleratorSpec ws = spec(3, 5, Dataflow::weight_stationary);
  ws.pe = PeSpec::luq_pe();
  try {
    Accelerator acc(ws, lib(), rtl(), cache());
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("accelerator.dataflow"), std::string::npos) << e.what();
  }
}

// PANN (papers.md §1): the dot product by repeated addition equals the integer dot
// product (its "Verification ideas": Σ x·w̃ over each sign, exactly Σ|w̃| additions).
// Written out here with int64 sums, independent of arith::pann_mac_golden.
TEST(Sim, PannPeAddsEachProductAsRepeatedAdditionsAndItsNetlistAgrees) {
  struct Case {
    int x_bits, r_bits, acc_bits;
    bool saturate;
  };
  for (const Case& cs : {Case{4, 3, 32, false}, Case{8, 2, 12, false}, Case{6, 3, 10, true}}) {
    AcceleratorSpec s = spec(3, 4, Dataflow::output_stationary, true);
    s.pe = PeSpec::pann_pe(cs.x_bits, cs.r_bits, cs.acc_bits, cs.saturate);
    s.verify_gates = true;
    Accelerator acc(s, lib(), rtl(), cache());
    Gemm g = random_gemm(7, 30, 6, cs.x_bits, 8, 77 + uint64_t(cs.x_bits));
    const int64_t rmax = (int64_t{1} << cs.r_bits) - 1;
    for (uint64_t& w : g.w) {  // w̃ in [−rmax, rmax], about one in five zero
      const int64_t v = int64_t(w % uint64_t(2 * rmax + 1)) - rmax;
      w = uint64_t(w % 5 == 0 ? 0 : v) & ((uint64_t{1} << (cs.r_bits + 1)) - 1);
    }
    const GemmResult r = acc.run(g);
    std::vector<int64_t> want(size_t(g.M * g.N));
    uint64_t additions = 0;
    const int64_t rail = (int64_t{1} << cs.acc_bits) - 1;
    for (int64_t m = 0; m < g.M; ++m)
      for (int64_t n = 0; n < g.N; ++n) {
        int64_t pos = 0, neg = 0;
        for (int64_t k = 0; k < g.K; ++k) {
          const uint64_t code = g.w[k * g.N + n];
          const int64_t w = code >> cs.r_bits ? int64_t(code) - (int64_t{1} << (cs.r_bits + 1)) : int64_t(code);
          (w < 0 ? neg : pos) += int64_t(g.a[m * g.K + k]) * (w < 0 ? -w : w);
          additions += uint64_t(w < 0 ? -w : w);
        }
        if (cs.saturate) {
          want[m * g.N + n] = std::min(pos, rail) - std::min(neg, rail);
        } else {
          const uint64_t d = uint64_t(pos - neg) & uint64_t(rail);
          want[m * g.N + n] = d >> (cs.acc_bits - 1) ? int64_t(d) - (rail + 1) : int64_t(d);
        }
      }
    EXPECT_EQ(r.out, want) << cs.x_bits << " " << cs.acc_bits;
    EXPECT_EQ(r.out, reference_gemm(g, s.pe));
    EXPECT_EQ(r.pann_additions, additions);
    EXPECT_EQ(r.macs, uint64_t(g.M * g.K * g.N));
    EXPECT_EQ(r.gate_mismatches, 0u);
    EXPECT_GT(r.mac_energy_pj, 0);
    if (cs.acc_bits < 16) {
      EXPECT_GT(r.overflows, 0u) << "the narrow sums must wrap or saturate";
    }
  }
}

// Lock-step beats: with every |w̃| = L a beat is L cycles, so a fold takes
// (K + R' + C' − 2)·L streaming cycles, one for the last additions and R to drain.
TEST(Sim, PannArrayBeatsLastTheLargestWeight) {
  for (const int L : {1, 3, 7}) {
    AcceleratorSpec s = spec(4, 3, Dataflow::output_stationary);
    s.pe = PeSpec::pann_pe(4, 3);
    Accelerator acc(s, lib(), rtl(), cache());
    Gemm g = random_gemm(10, 9, 5, 4, 1, 5);
    for (uint64_t& w : g.w) w = w ? uint64_t(L) : uint64_t(-L) & 15;  // ±L
    const GemmResult r = acc.run(g);
    uint64_t cycles = 0;
    for (int64_t m0 = 0; m0 < g.M; m0 += 4)
      for (int64_t n0 = 0; n0 < g.N; n0 += 3)
        cycles += uint64_t(g.K + std::min<int64_t>(4, g.M - m0) + std::min<int64_t>(3, g.N - n0) - 2) * L + 1 + 4;
    EXPECT_EQ(r.cycles, cycles) << L;
    EXPECT_EQ(r.pann_additions, uint64_t(g.M * g.N * g.K * L));
    EXPECT_EQ(r.out, reference_gemm(g, s.pe));
  }
  AcceleratorSpec ws = spec(3, 3, Dataflow::weight_stationary);
  ws.pe = PeSpec::pann_pe(4, 3);
  try {
    Accelerator acc(ws, lib(), rtl(), cache());
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("accelerator.dataflow"), std::string::npos) << e.what();
  }
  AcceleratorSpec os = spec(3, 3, Dataflow::output_stationary);
  os.pe = PeSpec::pann_pe(4, 3);
  Accelerator acc(os, lib(), rtl(), cache());
  Gemm g = random_gemm(2, 2, 2, 4, 3, 9);
  g.w[0] = 8;  // −8: |w̃| does not fit 3 bits
  try {
    acc.run(g);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("|w̃| = 8"), std::string::npos) << e.what();
  }
}

TEST(Sim, EnergyPerMacOfADenseLayerIsTheUnitsOwnFigure) {
  // A dense weight-stationary layer (every fold uses the whole array, M ≫ R + C) on
  // uniform codes: the array's PE energy per MAC should be close to the same netlist's
  // figure on uniform weight-stationary chains from power_models (independent driver).
  AcceleratorSpec s = spec(8, 8, Dataflow::weight_stationary, true);
  Accelerator acc(s, lib(), rtl(), cache());
  const Gemm g = random_gemm(512, 16, 16, 8, 8, 11);
  const GemmResult r = acc.run(g);
  power::UnitEnergyRequest req;
  req.unit = "mac_ws";
  req.rtl_dir = rtl(), req.cache_dir = cache();
  req.vectors = 1 << 14;
  const power::UnitEnergyReport u = power::measure_unit_energy(req, lib());
  const double per_mac = r.mac_energy_pj / double(r.macs);
  const double unit_dyn = u.energy_pj - u.leakage_pj;
  // The unit driver's psum_i is a uniform random code each step; in the array it is the
  // real partial sum (small values, fewer toggles). Same order, array lower.
  EXPECT_GT(per_mac, 0.3 * unit_dyn) << per_mac << " vs " << unit_dyn;
  EXPECT_LT(per_mac, 1.2 * unit_dyn) << per_mac << " vs " << unit_dyn;
}

TEST(Sim, BadInputNamesTheKey) {
  AcceleratorSpec s = spec(0, 4, Dataflow::weight_stationary);
  try {
    Accelerator acc(s, lib(), rtl(), cache());
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("accelerator.rows"), std::string::npos) << e.what();
  }
  s = spec(4, 4, Dataflow::weight_stationary);
  s.pe.acc_bits = 12;
  EXPECT_THROW(Accelerator(s, lib(), rtl(), cache()), InputError);
  EXPECT_THROW(parse_dataflow("row_stationary"), InputError);
  Accelerator acc(spec(4, 4, Dataflow::weight_stationary), lib(), rtl(), cache());
  Gemm g = random_gemm(3, 3, 3, 8, 8, 1);
  g.a[4] = 256;  // does not fit int8
  try {
    acc.run(g);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("a_bits"), std::string::npos) << e.what();
  }
  g.a.pop_back();
  EXPECT_THROW(acc.run(g), InputError);
}
