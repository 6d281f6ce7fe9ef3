// Gate-level switching simulation: gate evaluations per second per core on an 8x8 MAC
// netlist (64 bit-parallel lanes), and the end-to-end energy of a 10^6-operation stream
// (synthesis cached beforehand, so the time is simulation + pricing).
#include <benchmark/benchmark.h>

#include <filesystem>

#include "arith/philox.h"
#include "power_models/cell_library.h"
#include "power_models/gate_sim.h"
#include "power_models/synth.h"
#include "power_models/unit_energy.h"

using namespace lpsim::power;

namespace {

const std::filesystem::path kRtl = std::filesystem::path(LPSIM_SOURCE_DIR) / "rtl";
const std::filesystem::path kCache = std::filesystem::path(LPSIM_BINARY_DIR) / "netlists";

void BM_gate_sim_mac8x8(benchmark::State& state) {
  const Netlist n = load_yosys_json(synthesize({"mac", {{"WidthA", "8"}, {"WidthB", "8"}, {"AccWidth", "32"}}, kRtl, kCache}));
  GateSim sim(n);
  LaneValues ones{}, zeros{}, a{}, b{};
  ones.fill(1);
  sim.set_input("rst_ni", ones);
  sim.set_input("en_i", ones);
  sim.set_input("clear_i", zeros);
  uint64_t x = 88172645463325252ull;  // xorshift64: operand generation must not dominate
  for (auto _ : state) {
    for (int l = 0; l < 64; ++l) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      a[l] = x & 255;
      b[l] = (x >> 8) & 255;
    }
    sim.set_input("a_i", a);
    sim.set_input("b_i", b);
    sim.step();
  }
  state.counters["gate_evals_per_s"] = benchmark::Counter(double(sim.gate_evaluations()), benchmark::Counter::kIsRate);
  state.counters["gates"] = double(n.num_comb);
}

void BM_energy_1M_ops_mac8x8(benchmark::State& state) {
  const CellLibrary lib = load_cell_library(default_cell_library_path());
  UnitEnergyRequest req;
  req.unit = "mac";
  req.vectors = 1000000;
  req.rtl_dir = kRtl;
  req.cache_dir = kCache;
  measure_unit_energy(req, lib);  // warm the netlist cache outside the timing
  for (auto _ : state) benchmark::DoNotOptimize(measure_unit_energy(req, lib).energy_pj);
}

}  // namespace

BENCHMARK(BM_gate_sim_mac8x8)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_energy_1M_ops_mac8x8)->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
