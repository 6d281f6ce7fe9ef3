#!/usr/bin/env bash
# Baseline for the gate-level simulator: the same synthesised 8x8 MAC netlist simulated
# by Verilator with toggle coverage (--coverage-toggle --coverage-underscore), one
# random vector per cycle, timed end to end; then bench_power's bit-parallel simulator
# on the same netlist in the same run. Prints both rates and the ratio.
# Usage: bench/verilator_toggle_bench.sh [build-dir] [cycles]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${1:-$ROOT/build}"
CYCLES="${2:-2000000}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
"$BUILD/bench/bench_power" --benchmark_filter=gate_sim --benchmark_format=json > "$WORK/ours.json"
NET=$(ls -t "$BUILD"/netlists/mac-*.json | head -1)
yosys -q -p "read_json $NET; write_verilog -noattr $WORK/mac_net.v"
TOP=$(grep -m1 '^module' "$WORK/mac_net.v" | sed -E 's/module ([^ (]+).*/\1/')
cat > "$WORK/main.cpp" <<CPP
#include <chrono>
#include <cstdint>
#include <cstdio>
#include "Vnet.h"
#include "verilated.h"
#include "verilated_cov.h"
int main() {
  VerilatedContext ctx;
  Vnet m(&ctx);
  m.rst_ni = 1; m.en_i = 1; m.clear_i = 0; m.clk_i = 0;
  uint64_t x = 88172645463325252ull;
  const auto t0 = std::chrono::steady_clock::now();
  for (uint64_t c = 0; c < $CYCLES; ++c) {
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    m.a_i = x & 255; m.b_i = (x >> 8) & 255;
    m.clk_i = 0; m.eval(); m.clk_i = 1; m.eval();
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%.6e\n", s / $CYCLES);
  return 0;
}
CPP
verilator --cc --exe --build -j 2 -O3 --coverage-toggle --coverage-underscore -Wno-fatal -Wno-lint -Wno-style \
  --Mdir "$WORK/obj" --prefix Vnet --top-module "$TOP" "$WORK/mac_net.v" "$WORK/main.cpp" -o sim >/dev/null 2>&1
VER=$("$WORK/obj/sim")
python3 - "$WORK/ours.json" "$VER" <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))["benchmarks"][0]
ours = b["real_time"] * 1e-6 / 64            # seconds per vector (64 lanes per step)
ver = float(sys.argv[2])                     # seconds per vector (one cycle)
gates = b["gates"]
print(f"8x8 MAC netlist, {gates:.0f} gates, one core")
print(f"verilator --coverage-toggle : {1/ver/1e6:8.2f} M vectors/s  ({gates/ver/1e9:6.2f} G gate-evals/s)")
print(f"lpsim bit-parallel GateSim  : {1/ours/1e6:8.2f} M vectors/s  ({gates/ours/1e9:6.2f} G gate-evals/s)")
print(f"ratio: {ver/ours:.1f}x (target >= 30x)")
PY
