#!/usr/bin/env bash
# Runs the quantizer benchmark (single thread, 64 Mi float32 elements, 3 repetitions)
# and prints the README table: median GB/s and the ratio to memcpy in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --build build --target bench_quantize > /dev/null
out=$(mktemp)
./build/bench/bench_quantize --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
  --benchmark_format=json > "$out"
python3 - "$out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
med = {b["run_name"].split("/")[0]: b["bytes_per_second"] for b in d["benchmarks"] if b.get("aggregate_name") == "median"}
base = med["BM_memcpy"]
targets = {"BM_rne_fp8_e4m3": 0.5, "BM_rne_int8_clip": 0.5, "BM_stochastic_fp8_e4m3": 0.25}
print(f"CPU: {d['context'].get('num_cpus')} x {d['context'].get('mhz_per_cpu')} MHz; 64 Mi float32 elements, 1 thread, median of 3")
print("| benchmark | GiB/s | ratio to memcpy | target |")
print("|---|---|---|---|")
for name, bps in med.items():
    t = targets.get(name)
    print(f"| {name[3:]} | {bps / 2**30:.2f} | {bps / base:.2f}x | {'>= %.2fx' % t if t else ''} |")
PY
rm -f "$out"
