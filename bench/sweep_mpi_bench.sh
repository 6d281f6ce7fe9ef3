#!/usr/bin/env bash
# Sweep scaling on MPI (issue 13): the same 16-point sweep (or 8 with POINTS=8; LeNet-5 on the full
# Fashion-MNIST test set, 2 configurations per point, one thread per rank) on 1 and on 2
# MPI ranks, timed end to end in the same run, after a warm-up that trains the model and
# synthesises the netlists (shared caches, as on a cluster after the first sweep).
# Prints wall time, the speed-up and the overhead per point: wall x ranks minus the
# points' own run time (result.json "seconds"), per point — process start, MPI, data
# and model loading outside run_scenario, the gather and the report.
# Points differ in cost (a saturating accumulator that reaches its rail runs in k-order):
# ranks take the next point when free, and the last point's length is the tail.
#   [POINTS=8|16] bash bench/sweep_mpi_bench.sh [build/cli/lpsim] [repeats]
set -euo pipefail
LPSIM=$(realpath "${1:-build/cli/lpsim}")
REPEATS=${2:-2}
POINTS=${POINTS:-16}
case $POINTS in 8) MACS="[array]" ;; 16) MACS="[array, booth]" ;; *) echo "POINTS: 8 or 16"; exit 2 ;; esac
SRC=$(cd "$(dirname "$0")/.." && pwd)
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
root=(); [ "$(id -u)" -eq 0 ] && root=(--allow-run-as-root)
cat > "$d/bench.yaml" <<YAML
extends: $SRC/scenarios/quickstart.yaml
name: mpi-bench
threads: 1
sweep:
  hardware.acc_bits: [16, 20, 24, 32]
  hardware.overflow: [wrap, saturate]
  hardware.mac: $MACS
quantization:
  configs:
    - {name: w4a4, weights: int4, activations: int4}
    - {name: w8a8, weights: int8, activations: int8}
hardware: {netlist_cache: $SRC/results/netlists}
model: {cache: $SRC/results/cache/models}
YAML
cd "$SRC"
echo "warm-up (trains the 1-thread LeNet-5 once, synthesises the netlists)..."
"$LPSIM" run -q --out "$d/warm" "$d/bench.yaml" > /dev/null
sum_seconds() { python3 -c "import json,glob,sys; print(sum(json.load(open(f))['seconds'] for f in glob.glob(sys.argv[1]+'/points/*/result.json')))" "$1"; }
printf "%-6s %-6s %10s %12s %20s\n" ranks repeat "wall (s)" "sum points" "overhead/point (s)"
declare -A best
for r in $(seq "$REPEATS"); do
  for np in 1 2; do
    out="$d/np$np-$r"
    t0=$(date +%s.%N)
    mpirun --oversubscribe "${root[@]}" -np $np "$LPSIM" run -q --fresh --out "$out" "$d/bench.yaml" > /dev/null
    t1=$(date +%s.%N)
    wall=$(python3 -c "print(f'{$t1 - $t0:.2f}')")
    s=$(sum_seconds "$out")
    over=$(python3 -c "print(f'{($wall * $np - $s) / $POINTS:.2f}')")
    printf "%-6s %-6s %10s %12.2f %20s\n" $np $r "$wall" "$s" "$over"
    if [ -z "${best[$np]:-}" ] || python3 -c "import sys; sys.exit(0 if $wall < ${best[$np]} else 1)"; then best[$np]=$wall; fi
    cmp <(cut -d, -f2- "$d/np1-1/summary.csv") <(cut -d, -f2- "$out/summary.csv") || { echo "results differ between 1 and $np ranks"; exit 1; }
  done
done
python3 -c "print(f'$POINTS points: speed-up, 2 ranks vs 1 (best of $REPEATS each): {${best[1]} / ${best[2]}:.2f}x (target >= 1.8x)')"
echo "identical summary.csv on 1 and 2 ranks"
