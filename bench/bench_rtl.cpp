// Verilated RTL checks: vectors (or cycles) per second per unit, each vector evaluated
// by the model and compared with the golden model, and the time of the exhaustive
// check of every unit with operands of <= 8 bits (issue target: < 2 s on one core).
#include <benchmark/benchmark.h>

#include "rtl/units.h"

using namespace lpsim::rtl;

namespace {

void BM_unit(benchmark::State& state, const RtlUnit* u) {
  CheckOptions opt;
  opt.random_vectors = 200000;
  uint64_t vectors = 0;
  for (auto _ : state) {
    const CheckResult r = u->check(opt);
    if (r.mismatches) state.SkipWithError("mismatch");
    vectors += r.vectors;
  }
  state.counters["vectors_per_s"] = benchmark::Counter(double(vectors), benchmark::Counter::kIsRate);
}

void BM_exhaustive_all_narrow_units(benchmark::State& state) {
  uint64_t vectors = 0;
  for (auto _ : state)
    for (const RtlUnit& u : rtl_units())
      if (u.exhaustive) vectors += u.check({}).vectors;
  state.counters["vectors_per_s"] = benchmark::Counter(double(vectors), benchmark::Counter::kIsRate);
}

const int kRegistered = [] {
  for (const RtlUnit& u : rtl_units())
    benchmark::RegisterBenchmark(("BM_unit/" + u.name).c_str(), BM_unit, &u)->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("BM_exhaustive_all_narrow_units", BM_exhaustive_all_narrow_units)
      ->Unit(benchmark::kMillisecond);
  return 0;
}();

}  // namespace

BENCHMARK_MAIN();
