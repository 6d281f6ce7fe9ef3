// Simulated MACs per second of the SystemC systolic array (sim/accelerator.h) on one
// core: a dense 16×16 weight-stationary layer (M = 1024 positions, K = 144, N = 32: a
// 3×3×16 → 32 convolution on a 32×32 map), every PE-cycle priced at the gates, against
// the same array without gate-level pricing (outputs and timing only) — the baseline in
// the same run. Also the output-stationary array with the multiplier-free PEs on the same
// layer: PANN (8-bit x, |w̃| ≤ 7: a MAC takes a beat of up to 7 PE-cycles) and the LUQ
// shift unit. Counters "MAC/s": simulated multiply-accumulates per wall second;
// "PE-cycles/s": simulated PE-cycles (cycles × 256) per wall second.
#include <benchmark/benchmark.h>

#include <filesystem>

#include "arith/philox.h"
#include "power_models/cell_library.h"
#include "sim/accelerator.h"

using namespace lpsim;

namespace {

// Random codes of the PE's widths; PANN weights: w̃ uniform in [−7, 7].
sim::Gemm layer(const sim::PeSpec& pe) {
  sim::Gemm g;
  g.name = "conv3x3_16_32";
  g.M = 1024, g.K = 144, g.N = 32;
  const arith::RandomStream rng(5);
  uint64_t i = 0;
  const uint64_t amask = (uint64_t{1} << pe.a_bits) - 1, wmask = (uint64_t{1} << pe.w_bits) - 1;
  for (int64_t j = 0; j < g.M * g.K; ++j) g.a.push_back(rng.bits(i++) & amask);
  for (int64_t j = 0; j < g.K * g.N; ++j)
    g.w.push_back(pe.pann() ? uint64_t(int64_t(rng.bits(i++) % 15) - 7) & wmask : rng.bits(i++) & wmask);
  return g;
}

void run(benchmark::State& state, bool gates, sim::Dataflow d, const sim::PeSpec& pe = {}) {
  static const power::CellLibrary lib = power::load_cell_library(power::default_cell_library_path());
  sim::AcceleratorSpec s;
  s.rows = s.cols = 16;
  s.dataflow = d;
  s.gate_level = gates;
  s.pe = pe;
  sim::Accelerator acc(s, lib, std::filesystem::path(LPSIM_SOURCE_DIR) / "rtl",
                       std::filesystem::path(LPSIM_BINARY_DIR) / "netlists");
  const sim::Gemm g = layer(pe);
  uint64_t macs = 0, cycles = 0;
  for (auto _ : state) {
    const sim::GemmResult r = acc.run(g);
    macs += r.macs, cycles += r.cycles;
    benchmark::DoNotOptimize(r.mac_energy_pj);
  }
  state.counters["MAC/s"] = benchmark::Counter(double(macs), benchmark::Counter::kIsRate);
  state.counters["cycles/s"] = benchmark::Counter(double(cycles), benchmark::Counter::kIsRate);
  state.counters["PE-cycles/s"] = benchmark::Counter(double(cycles) * s.rows * s.cols, benchmark::Counter::kIsRate);
}

void BM_ArrayGateLevelWS(benchmark::State& s) { run(s, true, sim::Dataflow::weight_stationary); }
void BM_ArrayGateLevelOS(benchmark::State& s) { run(s, true, sim::Dataflow::output_stationary); }
void BM_ArrayFunctionalWS(benchmark::State& s) { run(s, false, sim::Dataflow::weight_stationary); }
void BM_ArrayGateLevelPannOS(benchmark::State& s) {
  run(s, true, sim::Dataflow::output_stationary, sim::PeSpec::pann_pe(8, 3));
}
void BM_ArrayGateLevelLuqOS(benchmark::State& s) { run(s, true, sim::Dataflow::output_stationary, sim::PeSpec::luq_pe()); }

}  // namespace

BENCHMARK(BM_ArrayFunctionalWS)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ArrayGateLevelWS)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ArrayGateLevelOS)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ArrayGateLevelPannOS)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ArrayGateLevelLuqOS)->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
