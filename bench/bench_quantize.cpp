// Buffer quantizer throughput vs memcpy of the same 64 Mi-element float32 buffer,
// single-threaded (issue: RNE casts >= 0.5x memcpy, stochastic >= 0.25x).
// Bytes counted: input bytes read per second (memcpy: bytes copied per second).
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "arith/luq.h"
#include "arith/philox.h"
#include "arith/quantize.h"

using namespace lpsim::arith;

namespace {

constexpr size_t kElements = size_t{64} << 20;

const std::vector<float>& input() {
  static const std::vector<float> x = [] {
    std::vector<float> v(kElements);
    const RandomStream rng(42);
    for (size_t i = 0; i < v.size(); ++i) v[i] = float((rng.uniform(i) - 0.5) * 8.0);
    return v;
  }();
  return x;
}

std::vector<float>& output() {
  static std::vector<float> y(kElements, 1.0f);  // touched once so page faults are not timed
  return y;
}

void finish(benchmark::State& state) {
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(kElements * sizeof(float)));
}

void BM_memcpy(benchmark::State& state) {
  const auto& x = input();
  auto& y = output();
  for (auto _ : state) {
    std::memcpy(y.data(), x.data(), kElements * sizeof(float));
    benchmark::ClobberMemory();
  }
  finish(state);
}

void run_quantize(benchmark::State& state, const NumberFormat& fmt, QuantizeOptions opt) {
  const auto& x = input();
  auto& y = output();
  for (auto _ : state) {
    quantize(fmt, x, y, opt);
    benchmark::ClobberMemory();
  }
  finish(state);
}

void BM_rne_fp8_e4m3(benchmark::State& state) { run_quantize(state, fp8_e4m3(), {}); }
void BM_rne_int8_clip(benchmark::State& state) {
  QuantizeOptions o;
  o.scale = 3.0f / 127;  // clip at 3.0: values beyond saturate
  run_quantize(state, IntFormat{8, true}, o);
}
void BM_stochastic_fp8_e4m3(benchmark::State& state) {
  QuantizeOptions o;
  o.rounding = RoundMode::stochastic;
  o.seed = 7;
  run_quantize(state, fp8_e4m3(), o);
}
void BM_luq4(benchmark::State& state) {
  const auto& x = input();
  auto& y = output();
  for (auto _ : state) {
    luq_quantize(x, y, {7, 7, 0, 0, 1});
    benchmark::ClobberMemory();
  }
  finish(state);
}

}  // namespace

BENCHMARK(BM_memcpy)->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK(BM_rne_fp8_e4m3)->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK(BM_rne_int8_clip)->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK(BM_stochastic_fp8_e4m3)->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK(BM_luq4)->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK_MAIN();
