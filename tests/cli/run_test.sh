#!/usr/bin/env bash
# `lpsim run` end to end on a small scenario: outputs, resume, determinism, the
# TorchScript path, and bad input (exit 2, file:line and key in the message).
set -euo pipefail
LPSIM=$1
SRC=$2
CACHE=$3   # netlist cache shared between test runs
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# The small network both dataflow runs below price (one cached model).
small="name: small
seed: 3
dataset: {train_limit: 3000, test_limit: 500}
model: {arch: mlp, cache: $d/models, train: {epochs: 1}}"
cat > "$d/s.yaml" <<YAML
$small
hardware: {energy_vectors: 1024, energy_images: 8, netlist_cache: $CACHE}
quantization:
  calibration_images: 128
  configs:
    - name: fp32
    - name: int8
      weights: int8
      activations: int8
    - name: int4w16
      weights: int4
      activations: int4
      acc_bits: 16
      layers:
        fc3: {quantised: false}
    - name: int16
      weights: int16
      activations: int16
    - name: uint8
      weights: uint8
      activations: uint8
outputs: {dir: $d/out}
YAML
"$LPSIM" run -q "$d/s.yaml" > "$d/first.txt"
[ "$(wc -l < "$d/out/summary.csv")" -eq 6 ] || fail "summary.csv rows"
[ "$(wc -l < "$d/out/layers.csv")" -eq 16 ] || fail "layers.csv rows"
head -1 "$d/out/summary.csv" | grep -q "dataflow,energy_horowitz_pj_per_inference,acc_overflow_fraction,acc_bits_needed" \
  || fail "summary.csv columns: $(head -1 "$d/out/summary.csv")"
# Every row on the gate-level flow: the FP32 reference on fp_mac, Horowitz only as its column.
grep -q "^fp32,.*,fp_mac fp32," "$d/out/summary.csv" || fail "fp32 row not on fp_mac: $(grep ^fp32 "$d/out/summary.csv")"
# INT16 on the default 32-bit wrapping accumulator overflows: flagged, with the width that would not.
grep -q "^int16 .*ACCUMULATOR OVERFLOW\|ACCUMULATOR OVERFLOW" "$d/first.txt" || fail "overflow not flagged: $(cat "$d/first.txt")"
awk -F, '$1=="int16" { exit !($10 > 0 && $11 > 32) }' "$d/out/summary.csv" || fail "int16 overflow columns"
awk -F, '$1=="int8" { exit !($10 == 0) }' "$d/out/summary.csv" || fail "int8 must not overflow"
# Zero points: uint8 (asymmetric) close to int8.
awk -F, '$1=="int8" {a=$2} $1=="uint8" {b=$2} END { d=a-b; if (d<0) d=-d; exit !(b > 0.5 && d < 0.03) }' "$d/out/summary.csv" \
  || fail "uint8 accuracy: $(cat "$d/out/summary.csv")"
test -s "$d/out/report.json" || fail "report.json"
test -s "$d/out/energy_layers.png" || fail "plot"
[ -z "$(find "$d/out" -name '*.tmp*')" ] || fail "temporary files left"
grep -q "int4w16,fc3,fp32" "$d/out/layers.csv" || fail "per-layer override not applied"
grep -q "mac int4x4 acc16 array" "$d/out/layers.csv" || fail "int4 unit with 16-bit accumulator"
cp -r "$d/out" "$d/out1"
# Timing apart: speeds and wall times in timing.csv/json and configs/*.timing.json only.
head -1 "$d/out/timing.csv" | grep -qx "config,resumed,images_per_s,energy_seconds,train_seconds" || fail "timing.csv columns"
! grep -q "images_per_s\|seconds" "$d/out/report.json" "$d/out/summary.csv" "$d/out/configs/int8.json" \
  || fail "a volatile figure outside the timing files"
# Second run reuses every finished configuration.
"$LPSIM" run -q "$d/s.yaml" > "$d/second.txt"
[ "$(grep -c '(reused)' "$d/second.txt")" -eq 5 ] || fail "resume: $(cat "$d/second.txt")"
grep -q "^int8,true," "$d/out/timing.csv" || fail "reuse not in timing.csv: $(cat "$d/out/timing.csv")"
# --fresh recomputes (the model now from its cache, not trained): every results file the
# same bytes as the first run's (same seed), plots included; only the timing files differ.
"$LPSIM" run -q --fresh "$d/s.yaml" > /dev/null
diff -r --exclude='timing.*' --exclude='*.timing.json' "$d/out1" "$d/out" > "$d/diff.txt" \
  || fail "a second run of the same scenario and seed differs: $(head -c 2000 "$d/diff.txt")"
# Bring your own model: the TorchScript fixture through the same pipeline.
cat > "$d/ts.yaml" <<YAML
dataset: {train_limit: 1000, test_limit: 200, normalize: {mean: [0.2860], std: [0.3530]}}
model: {torchscript: $SRC/tests/nn/fixtures/tiny_cnn.pt}
hardware: {energy_model: none}
quantization: {configs: [{name: int8, weights: int8, activations: int8}]}
outputs: {dir: $d/ts, plot: false}
YAML
"$LPSIM" run -q "$d/ts.yaml" > /dev/null || fail "torchscript scenario"
grep -q "int8,conv2,int8,int8,int32,49,36,8" "$d/ts/layers.csv" || fail "torchscript layer shapes"
grep -q '"source": "scenario"' "$d/ts/report.json" || fail "torchscript preprocessing not recorded"
# Bad input: exit 2 naming file:line and key.
expect_error() {  # yaml, expected substring
  printf '%s\n' "$1" > "$d/bad.yaml"
  set +e
  out=$("$LPSIM" run -q "$d/bad.yaml" 2>&1)
  rc=$?
  set -e
  [ $rc -eq 2 ] || fail "exit $rc for: $1"
  echo "$out" | grep -qF "$2" || fail "message '$out' lacks '$2'"
}
expect_error "model: {arch: lenet5, layers: 3}" "bad.yaml:1:23: model.layers: unknown key"
expect_error "dataset: {path: /nonexistent}" "/nonexistent: dataset directory not found"
expect_error $'model: {arch: mlp, cache: '"$d"$'/m}\nquantization:\n  configs:\n    - name: a\n      weights: int8\n      activations: int8\n      layers: {conv9: {weights: int4}}' "bad.yaml:7:16: layers.conv9: no conv/linear layer 'conv9'"
expect_error "dataset: {normalize: none}
model: {torchscript: /nonexistent.pt}" "/nonexistent.pt: TorchScript file not found"
expect_error "model: {torchscript: /nonexistent.pt}" "bad.yaml:1:22: dataset.normalize: required with model.torchscript"
# Validation before any work: formats, accumulators, widths and the output directory.
expect_error $'quantization:\n  configs:\n    - name: a\n      weights: int1\n      activations: int8' "bad.yaml:4:16: quantization.configs[0].weights: int1 has no positive level"
expect_error $'quantization:\n  configs:\n    - name: a\n      weights: int32\n      activations: int8' "quantization.configs[0].weights: int32: integer operands wider than 24 bits"
expect_error $'quantization:\n  configs:\n    - name: a\n      weights: fp8_e4m3\n      activations: fp8_e4m3' "quantization.configs[0].accumulator: floating-point operands (fp8_e4m3 x fp8_e4m3) need accumulator: fp32"
expect_error $'quantization:\n  configs:\n    - name: a\n      weights: int8\n      activations: int8\n      acc_bits: 12' "quantization.configs[0].acc_bits: an accumulator of 12 bits is narrower than the int8 x int8 product (16 bits)"
expect_error $'quantization:\n  configs:\n    - name: a\n      weights: int8\n      activations: int8\n      layers: {fc1: {weights: bf16}}' "quantization.configs[0].layers.fc1.accumulator: floating-point operands"
expect_error "hardware: {dataflow: row_stationary}" "hardware.dataflow: 'row_stationary' is not one of: output_stationary, weight_stationary"
touch "$d/afile"
expect_error "outputs: {dir: $d/afile/sub}" "bad.yaml:1:16: outputs.dir: cannot create output directory"
# Weight-stationary pricing of the same network (its cached model): every layer on the WS
# PE, for the FP32 reference and INT8 (the other rows would only synthesise more WS PEs).
cat > "$d/ws.yaml" <<YAML
$small
hardware: {dataflow: weight_stationary, energy_vectors: 1024, energy_images: 8, netlist_cache: $CACHE}
quantization:
  calibration_images: 128
  configs:
    - name: fp32
    - name: int8
      weights: int8
      activations: int8
outputs: {dir: $d/ws, plot: false}
YAML
"$LPSIM" run -q "$d/ws.yaml" > /dev/null || fail "weight-stationary scenario"
[ "$(grep -c "^int8,.*,mac int8x8 acc32 array ws" "$d/ws/layers.csv")" -eq 3 ] || fail "ws unit: $(cat "$d/ws/layers.csv")"
[ "$(grep -c "^fp32,.*,fp_mac fp32 ws" "$d/ws/layers.csv")" -eq 3 ] || fail "ws fp32 unit: $(cat "$d/ws/layers.csv")"
# PANN under power budgets (papers.md §1) on two models of one file: a search under a
# budget on the held-out slice, PANN-aware fine-tuning, the dial, budget columns.
cat > "$d/p.yaml" <<YAML
name: pann
seed: 3
dataset: {train_limit: 1000, test_limit: 100}
models:
  - {arch: mlp, name: a, cache: $d/models, train: {epochs: 1}}
  - {arch: mlp, name: b, cache: $d/models, train: {epochs: 1, lr: 0.02}}
hardware: {energy_vectors: 1024, energy_images: 4, netlist_cache: $CACHE}
power_budget:
  - {name: i8, like: {weights: int8, activations: int8}}
  - {name: tiny, nj_per_inference: 0.001}
quantization:
  calibration_images: 128
  validation_images: 200
  configs:
    - {name: int8, weights: int8, activations: int8}
    - {name: fit, method: pann, pann: {budget: i8, R: [0.5, 2], activation_bits: [4, 8]}}
    - {name: none_fits, method: pann, pann: {budget: tiny, R: [0.5, 2], activation_bits: [4]}}
    - {name: tuned, method: pann, pann: {budget: i8, R: [0.5, 2], activation_bits: [4, 8], train: {epochs: 1}}}
    - {name: dial, method: pann, pann: {R: [1, 2], activation_bits: 4}}
outputs: {dir: $d/pann}
YAML
"$LPSIM" run -q "$d/p.yaml" > "$d/pann.txt" || fail "pann scenario: $(cat "$d/pann.txt")"
grep -q "^== a ==" "$d/pann.txt" && grep -q "^== b ==" "$d/pann.txt" || fail "models not both run: $(cat "$d/pann.txt")"
for m in a b; do
  s="$d/pann/$m/summary.csv"
  [ "$(wc -l < "$s")" -eq 7 ] || fail "$m: summary rows: $(cat "$s")"
  col() { head -1 "$s" | tr , '\n' | grep -nx "$1" | cut -d: -f1; }
  B=$(col budget_pj_per_inference); O=$(col energy_over_budget); E=$(col energy_pj_per_inference); A=$(col pann_additions)
  [ -n "$B" ] && [ -n "$O" ] && [ -n "$A" ] || fail "budget columns missing: $(head -1 "$s")"
  # The chosen point fits its budget (the search priced it on the same flow); the ratio is energy / budget.
  awk -F, -v b="$B" -v o="$O" -v e="$E" -v a="$A" '$1=="fit" { exit !($o <= 1 && $o > 0 && $a > 0 && (($e / $b) / $o - 1) ^ 2 < 1e-8) }' "$s" \
    || fail "$m: fit row: $(grep ^fit "$s")"
  awk -F, -v o="$O" '$1=="none_fits" { exit !($o > 1) }' "$s" || fail "$m: none_fits must be over budget"
  # Rows without a budget of their own are compared with the first one.
  awk -F, -v c="$(col budget)" '$1=="dial_R1_b4" || $1=="int8" { n++; if ($c != "i8") exit 1 } END { exit n != 2 }' "$s" \
    || fail "$m: rows without a budget of their own"
  python3 - "$d/pann/$m/report.json" <<'PY' || fail "$m: report.json PANN records"
import json, sys
c = {x["name"]: x for x in json.load(open(sys.argv[1]))["configs"]}
assert c["fit"]["pann"]["budget_fitted"] and len(c["fit"]["pann"]["search"]) == 4
assert not c["none_fits"]["pann"]["budget_fitted"]
assert c["tuned"]["pann"]["trained_epochs"] == 1 and c["fit"]["pann"]["trained_epochs"] == 0
# the fine-tuned row starts from the point the same search chose
assert (c["tuned"]["pann"]["R"], c["tuned"]["pann"]["activation_bits"]) == (c["fit"]["pann"]["R"], c["fit"]["pann"]["activation_bits"])
PY
  [ "$(wc -l < "$d/pann/$m/dial_dial.csv")" -eq 3 ] || fail "$m: dial curve"
  test -s "$d/pann/$m/pareto.png" && test -s "$d/pann/$m/dial_dial.png" || fail "$m: pann plots"
done
grep -q "OVER" "$d/pann.txt" || fail "over-budget rows not marked: $(cat "$d/pann.txt")"
# Clipped post-training quantisation (papers.md §4, §5) on two models of one file, one of
# them imported with its own preprocessing and BatchNorm: methods, calibration sources,
# the data-free row skipped where there is no BatchNorm, the table across models.
cat > "$d/a.yaml" <<YAML
name: aciq
seed: 3
dataset: {train_limit: 3000, test_limit: 100}
models:
  - {arch: mlp, name: m, cache: $d/models, train: {epochs: 1}}
  - {name: t, torchscript: $SRC/tests/nn/fixtures/tiny_cnn.pt, normalize: {mean: [0.5], std: [0.5]}}
hardware: {energy_vectors: 1024, energy_images: 4, netlist_cache: $CACHE}
quantization:
  calibration_images: 128
  configs:
    - name: fp32
    - {name: naive, weights: int4, activations: uint4}
    - {name: aciq, weights: int4, activations: uint4, clip: aciq, prior: auto}
    - {name: all, weights: int4, activations: uint4, clip: aciq, prior: auto, bias_correction: true,
       activation_bias_correction: true, bit_allocation: {mean_bits: 4, operands: both}}
    - {name: noise, weights: int4, activations: uint4, clip: mse, calibration: {source: noise, images: 64}}
    - {name: bns, weights: int4, activations: uint4, clip: aciq, calibration: {source: bn_statistics, images: 16, steps: 5, batch: 8}}
outputs: {dir: $d/aciq}
YAML
"$LPSIM" run -q "$d/a.yaml" > "$d/aciq.txt" 2> "$d/aciq.err" || fail "aciq scenario: $(cat "$d/aciq.txt" "$d/aciq.err")"
grep -q "configuration bns skipped: calibration source bn_statistics needs BatchNorm layers; m has none" "$d/aciq.err" \
  || fail "skipped data-free row not announced: $(cat "$d/aciq.err")"
[ "$(wc -l < "$d/aciq/m/summary.csv")" -eq 6 ] && [ "$(wc -l < "$d/aciq/t/summary.csv")" -eq 7 ] || fail "aciq rows"
python3 - "$d/aciq" <<'PY' || fail "aciq records"
import csv, json, sys
root = sys.argv[1]
t = {r["config"]: r for r in csv.DictReader(open(f"{root}/t/summary.csv"))}
assert t["aciq"]["clip"] == "aciq" and t["aciq"]["prior"] == "auto", t["aciq"]
assert t["all"]["bias_correction"] == "true" and t["bns"]["calibration"] == "bn_statistics" and t["noise"]["calibration"] == "noise"
assert float(t["all"]["unit_area_mac_weighted_um2"]) > 0
layers = [r for r in csv.DictReader(open(f"{root}/t/layers.csv")) if r["config"] == "all"]
assert any(r["bit_mix"] for r in layers) and all(r["bias_corrected"] == "true" for r in layers), layers
assert any(r["clip_prior"] for r in layers)
m = json.load(open(f"{root}/m/report.json"))
assert [s["config"] for s in m["skipped"]] == ["bns"], m["skipped"]
c = {x["name"]: x for x in json.load(open(f"{root}/t/report.json"))["configs"]}
assert c["bns"]["calibration"]["bn_loss_final"] < c["bns"]["calibration"]["bn_loss_initial"]
md = open(f"{root}/models.md").read()
assert "| bns | skipped |" in md and " m top-1 %" in md and " t top-1 %" in md, md
PY
test -s "$d/aciq/models_accuracy.png" && test -s "$d/aciq/models.csv" || fail "table across models"
# Low-precision training (papers.md §2, §3): a seed gives the same final weights (SHA-256)
# on a fresh run, another seed others; the gradient log per layer per epoch is reported.
cat > "$d/t.yaml" <<YAML
name: lowp
seed: 5
dataset: {train_limit: 500, test_limit: 100}
model: {arch: mlp, cache: $d/models, train: {epochs: 1}}
hardware: {energy_model: none}
quantization:
  configs:
    - {name: luq, training: {method: luq, smp: 2}}
    - {name: fp8, training: {method: fp8, gradients: auto, epochs: 2}}
    - {name: prune, training: {method: prune, sparsity: 0.8}}
outputs: {dir: $d/lowp}
YAML
"$LPSIM" run -q "$d/t.yaml" > /dev/null 2>&1 || fail "training scenario"
cp "$d/lowp/summary.csv" "$d/lowp1.csv"
rm -rf "$d/models"/mlp-luq-* "$d/models"/mlp-fp8-* "$d/models"/mlp-prune-*
"$LPSIM" run -q --fresh "$d/t.yaml" > /dev/null 2>&1 || fail "training scenario (again)"
sed -e 's/^seed: 5/seed: 6/' -e "s#dir: $d/lowp#dir: $d/lowp6#" "$d/t.yaml" > "$d/t6.yaml"
"$LPSIM" run -q "$d/t6.yaml" > /dev/null 2>&1 || fail "training scenario (seed 6)"
python3 - "$d/lowp1.csv" "$d/lowp/summary.csv" "$d/lowp6/summary.csv" "$d/lowp/report.json" <<'PY' || fail "training records"
import csv, json, sys
a, b, c = ({r["config"]: r for r in csv.DictReader(open(f))} for f in sys.argv[1:4])
for k in ("luq", "fp8", "prune"):
    assert len(a[k]["weights_sha256"]) == 64 and a[k]["training"] == k, a[k]
    assert a[k]["weights_sha256"] == b[k]["weights_sha256"], (k, "retrained weights differ")
    assert a[k]["weights_sha256"] != c[k]["weights_sha256"], (k, "another seed gave the same weights")
rep = {x["name"]: x for x in json.load(open(sys.argv[4]))["configs"]}
log = rep["fp8"]["training"]["gradient_log"]
assert [e["epoch"] for e in log] == [1, 2] and all(l["format"] for l in log[-1]["layers"]), log
assert abs(rep["prune"]["training"]["gradient_log"][-1]["layers"][0]["sparsity"] - 0.8) < 0.1
PY
echo "run_test: all checks passed"
