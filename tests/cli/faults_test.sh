#!/usr/bin/env bash
# Faults injected into real runs (issue 14): a corrupted netlist cache entry, per-config
# result, model cache file and checkpoint; a full disk (a file size limit); an output
# folder that cannot be created; SIGKILL during a run. Each gives a clear error (exit 2,
# naming the file) or a silent recompute, nothing finished is lost, no temporary file is
# left, and the next run recovers with the same bytes as an undisturbed run.
# Usage: faults_test.sh <path-to-lpsim>
set -euo pipefail
LPSIM=$1
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
no_tmp() { [ -z "$(find "$1" -name '*.tmp*' 2>/dev/null)" ] || fail "temporary files left under $1: $(find "$1" -name '*.tmp*')"; }
same() { diff -r --exclude='timing.*' --exclude='*.timing.json' "$1" "$2" > "$d/diff.txt" || fail "$3: $(head -c 1500 "$d/diff.txt")"; }

# ---- the netlist cache: a truncated entry is synthesised again --------------------------
"$LPSIM" energy --unit mul --a-bits 3 --b-bits 5 --vectors 2048 --netlist-cache "$d/nl" > "$d/e1.txt"
f=$(ls "$d"/nl/*.json | head -1)
head -c 100 "$f" > "$f.cut" && mv "$f.cut" "$f"
"$LPSIM" energy --unit mul --a-bits 3 --b-bits 5 --vectors 2048 --netlist-cache "$d/nl" > "$d/e2.txt" \
  || fail "a truncated netlist cache entry is an error, not a recompute"
cmp -s "$d/e1.txt" "$d/e2.txt" || fail "recomputed netlist prices differently: $(diff "$d/e1.txt" "$d/e2.txt")"
echo '{"modules": {"m": {"ports": 7}}}' > "$f"   # valid JSON, not a netlist
"$LPSIM" energy --unit mul --a-bits 3 --b-bits 5 --vectors 2048 --netlist-cache "$d/nl" > "$d/e3.txt" \
  || fail "a netlist cache entry of the wrong shape is an error, not a recompute"
cmp -s "$d/e1.txt" "$d/e3.txt" || fail "recomputed netlist prices differently"

# ---- a small scenario, run once undisturbed ----------------------------------------------
cat > "$d/s.yaml" <<YAML
name: faults
seed: 5
dataset: {train_limit: 1000, test_limit: 200}
model: {arch: mlp, cache: $d/models, train: {epochs: 2}}
hardware: {energy_vectors: 512, energy_images: 2, netlist_cache: $d/nl}
quantization:
  calibration_images: 64
  configs:
    - {name: int8, weights: int8, activations: int8}
    - {name: int4, weights: int4, activations: int4, acc_bits: 16}
outputs: {dir: $d/out, plot: false}
YAML
"$LPSIM" run -q "$d/s.yaml" > /dev/null || fail "undisturbed run"
cp -r "$d/out" "$d/ref"

# ---- a corrupted per-configuration result is recomputed ----------------------------------
head -c 50 "$d/out/configs/int8.json" > "$d/cut" && mv "$d/cut" "$d/out/configs/int8.json"
"$LPSIM" run -q "$d/s.yaml" > "$d/rerun.txt" || fail "run over a corrupted configs/int8.json"
grep -q "int8 .*(reused)" "$d/rerun.txt" && fail "a corrupted result was reused: $(cat "$d/rerun.txt")"
grep -q "int4 .*(reused)" "$d/rerun.txt" || fail "the intact result was not reused: $(cat "$d/rerun.txt")"
same "$d/ref" "$d/out" "recomputed configuration differs"

# ---- a full disk: writes fail with a clear error; what was there stays whole -------------
# (a file size limit: writes beyond 4 KB fail with EFBIG; SIGXFSZ ignored as a disk-full
# write would not signal). report.json and layers.csv are larger than that.
set +e
(trap '' XFSZ; ulimit -f 4; exec "$LPSIM" run -q --fresh "$d/s.yaml") > /dev/null 2> "$d/full.err"
rc=$?
set -e
[ $rc -eq 2 ] || fail "full disk: exit $rc, $(cat "$d/full.err")"
grep -q "cannot write (File too large); the previous file, if any, is unchanged" "$d/full.err" || fail "full disk message: $(cat "$d/full.err")"
[ "$(wc -l < "$d/full.err")" -eq 1 ] || fail "full disk: one line expected: $(cat "$d/full.err")"
no_tmp "$d/out"
for f in summary.csv layers.csv report.json; do
  cmp -s "$d/ref/$f" "$d/out/$f" || fail "full disk: $f is not the previous complete file"
done
"$LPSIM" run -q "$d/s.yaml" > /dev/null || fail "run after the disk was freed"
same "$d/ref" "$d/out" "after a full disk"

# ---- an output folder that cannot be created ----------------------------------------------
sed "s#dir: $d/out#dir: /proc/lpsim-cannot-write#" "$d/s.yaml" > "$d/ro.yaml"
set +e
err=$("$LPSIM" run -q "$d/ro.yaml" 2>&1 >/dev/null)
rc=$?
set -e
[ $rc -eq 2 ] && [[ "$err" == *"ro.yaml:"*"outputs.dir: cannot create output directory /proc/lpsim-cannot-write"* ]] \
  || fail "unwritable output folder: exit $rc, $err"

# ---- SIGKILL during a run: the rerun finishes with the same bytes --------------------------
rm -rf "$d/out"
"$LPSIM" run -q "$d/s.yaml" > /dev/null 2>&1 &
pid=$!
for _ in $(seq 1 400); do  # until the first configuration is written (or the run ends)
  [ -e "$d/out/configs/int8.json" ] || [ -e "$d/out/configs/int4.json" ] && break
  kill -0 $pid 2>/dev/null || break
  sleep 0.05
done
kill -9 $pid 2>/dev/null || true
wait $pid 2>/dev/null || true
no_tmp "$d/out"
for f in "$d"/out/configs/*.json; do [ -e "$f" ] && python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$f" \
  || fail "unreadable after SIGKILL: $f"; done
"$LPSIM" run -q "$d/s.yaml" > /dev/null || fail "run after SIGKILL"
same "$d/ref" "$d/out" "after SIGKILL"

# ---- a corrupted checkpoint and model cache file: exit 2 naming the file -------------------
model=$(find "$d/models" -name model.pt | head -1)
echo "not a model" > "$model"
set +e
err=$("$LPSIM" run -q --fresh "$d/s.yaml" 2>&1 >/dev/null)
rc=$?
set -e
[ $rc -eq 2 ] && [[ "$err" == *"$model: cached model is unreadable (delete it to retrain)"* ]] \
  || fail "corrupted model cache: exit $rc, $err"
rm "$model"
# A training interrupted after epoch 1 leaves epoch-1.pt and epoch-1.optim.pt (a finished
# one removes them); a corrupted pair of those:
ck=$(dirname "$model")/epoch-1.pt
echo "not a checkpoint" > "$ck"
echo "not a checkpoint" > "$(dirname "$model")/epoch-1.optim.pt"
set +e
err=$("$LPSIM" run -q --fresh "$d/s.yaml" 2>&1 >/dev/null)
rc=$?
set -e
[ $rc -eq 2 ] && [[ "$err" == *"$ck: checkpoint is unreadable"* ]] || fail "corrupted checkpoint: exit $rc, $err"
rm "$ck" "$(dirname "$model")/epoch-1.optim.pt"
"$LPSIM" run -q --fresh "$d/s.yaml" > /dev/null || fail "retraining after the corrupt files were removed"
same "$d/ref" "$d/out" "retrained model"
echo "faults_test: all checks passed"
