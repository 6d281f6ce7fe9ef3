#!/usr/bin/env bash
# cmake --install into a temporary prefix: bin/lpsim plus its run-time data
# (share/lpsim/rtl/*.sv, share/lpsim/data/*.csv). The installed binary, run from another
# directory, finds them next to itself (also when the prefix is moved), honours
# LPSIM_DATA_DIR, and says clearly when the data is missing.
set -euo pipefail
CMAKE=$1
BUILD=$(realpath "$2")
MAKE_IDX=$(realpath "$3")
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
unset LPSIM_DATA_DIR

"$CMAKE" --install "$BUILD" --prefix "$d/prefix" > "$d/install.log" || fail "cmake --install: $(cat "$d/install.log")"
P=$d/prefix
test -x "$P/bin/lpsim" || fail "no bin/lpsim"
# verify-rtl is its own program, installed beside lpsim and run by `lpsim verify-rtl`.
"$P/bin/lpsim" verify-rtl --unit luq_mul > "$d/verify.txt" || fail "installed lpsim verify-rtl: $(cat "$d/verify.txt")"
grep -q "2 unit(s), no mismatch" "$d/verify.txt" || fail "installed verify-rtl output: $(cat "$d/verify.txt")"
# sim too (lpsim-sim): its data (the memory-energy table) comes from share/lpsim/data.
"$P/bin/lpsim" sim --help > "$d/simhelp.txt" 2>&1 || fail "installed lpsim sim --help: $(cat "$d/simhelp.txt")"
grep -q "accelerator" "$d/simhelp.txt" || fail "installed lpsim sim --help output"
test -s "$P/share/lpsim/data/memory_45nm.csv" || fail "memory_45nm.csv not installed"
(cd "$d" && "$P/bin/lpsim" verify-rtl --array 2x2 > "$d/array.txt") || fail "installed verify-rtl --array: $(cat "$d/array.txt")"
for f in rtl/mac.sv rtl/fp8_mac.sv data/nangate45_typ_cells.csv data/nangate45_wire_load.csv; do
  test -s "$P/share/lpsim/$f" || fail "no share/lpsim/$f"
done
mkdir "$d/work"
cd "$d/work"
"$P/bin/lpsim" energy --unit mac --a-bits 4 --b-bits 4 --acc-bits 16 --vectors 4096 --netlist-cache "$d/netlists" \
  > energy.txt || fail "installed lpsim energy"
grep -q "area" energy.txt || fail "energy output: $(cat energy.txt)"
# A tiny scenario, gate-level energy included (RTL from the prefix), outputs under the cwd.
"$MAKE_IDX" "$d/data" --channels 1 --height 12 --width 12 --classes 3 --train 200 --test 50
cat > tiny.yaml <<YAML
dataset: {name: idx, path: $d/data}
model: {arch: mlp, cache: models, train: {epochs: 1, batch_size: 32}}
hardware: {energy_vectors: 1024, energy_images: 4, netlist_cache: $d/netlists}
quantization:
  calibration_images: 32
  configs: [{name: int4, weights: int4, activations: int4, acc_bits: 16}]
outputs: {dir: results/tiny, plot: false}
YAML
"$P/bin/lpsim" run -q tiny.yaml > run.txt || fail "installed lpsim run"
grep -q "mac int4x4 acc16" results/tiny/summary.csv || fail "run summary: $(cat results/tiny/summary.csv)"
# The prefix moved elsewhere still works, and reads its own data: a wire-load table
# without the default model is reported at the moved location.
cp -r "$P" "$d/moved"
grep -v 5K_hvratio_1_1 "$P/share/lpsim/data/nangate45_wire_load.csv" > "$d/moved/share/lpsim/data/nangate45_wire_load.csv"
set +e
out=$("$d/moved/bin/lpsim" energy --unit mac --a-bits 4 --b-bits 4 --acc-bits 16 --vectors 4096 \
        --netlist-cache "$d/netlists" 2>&1)
rc=$?
set -e
[ $rc -eq 2 ] || fail "moved prefix: exit $rc ($out)"
echo "$out" | grep -qF "$d/moved/share/lpsim/data/nangate45_wire_load.csv" || fail "moved prefix not used: $out"
# LPSIM_DATA_DIR overrides; a wrong one is a clear error naming it.
LPSIM_DATA_DIR="$P/share/lpsim" "$d/moved/bin/lpsim" energy --unit mac --a-bits 4 --b-bits 4 --acc-bits 16 \
  --vectors 4096 --netlist-cache "$d/netlists" > /dev/null || fail "LPSIM_DATA_DIR override"
for cmd in "energy --unit mac --a-bits 4 --b-bits 4 --acc-bits 16 --vectors 4096" "run tiny.yaml"; do
  set +e
  out=$(LPSIM_DATA_DIR=/nonexistent "$P/bin/lpsim" $cmd 2>&1)
  rc=$?
  set -e
  [ $rc -eq 2 ] || fail "LPSIM_DATA_DIR=/nonexistent $cmd: exit $rc ($out)"
  echo "$out" | grep -qF "/nonexistent: LPSIM_DATA_DIR does not hold lpsim's run-time data" || fail "message: $out"
done
echo "install_test: all checks passed"
