#!/usr/bin/env bash
# `lpsim sim` end to end on a small scenario (issue 15): a LeNet-5 streamed through 8x8
# arrays, weight- and output-stationary; every layer bit-exact with the executor (a
# saturating 9-bit accumulator, FP8 operands into FP32 and zero points (uint8, and uint4
# into a saturating 12-bit register) included, where the order of the sum matters); the
# netlist equal to the golden PE on every simulated cycle; cycles as the closed form;
# the outputs and their columns; a VCD; reruns bit-identical; bad input named.
set -euo pipefail
LPSIM=$1
CACHE=$2   # netlist cache shared between test runs
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

cat > "$d/s.yaml" <<YAML
name: small_sim
seed: 3
dataset: {train_limit: 2000, test_limit: 200}
model: {arch: lenet5, cache: $d/models, train: {epochs: 1}}
hardware: {energy_vectors: 1024, netlist_cache: $CACHE}
quantization:
  calibration_images: 64
  configs:
    - name: fp32
    - name: int8
      weights: int8
      activations: int8
    - name: int4s9
      weights: int4
      activations: int4
      acc_bits: 9
      overflow: saturate
    - name: fp8
      weights: fp8_e4m3
      activations: fp8_e4m3
      accumulator: fp32
    - name: uint8zp
      weights: uint8
      activations: uint8
    - name: u4sat
      weights: uint4
      activations: uint4
      acc_bits: 12
      overflow: saturate
    - {name: pann, method: pann, pann: {R: 1.5, activation_bits: 5}}
    - {name: pannsat, method: pann, pann: {R: 2, activation_bits: 6}, acc_bits: 11, overflow: saturate}
    - {name: pannsearch, method: pann, pann: {R: [1, 2], activation_bits: 4}}
    - {name: luq, training: {method: luq}}
    - {name: fp8train, training: {method: fp8}}
accelerator:
  rows: 8
  cols: 8
  dataflow: weight_stationary
  clock_mhz: 400
  images: 1
  window_cycles: 32
  verify_gates: true
  vcd: $d/pe.vcd
  vcd_pes: 3
  peak_power_budget_mw: 60
  budget_sizes: [4]
outputs: {dir: $d/out}
YAML
"$LPSIM" sim "$d/s.yaml" > "$d/first.txt" 2> "$d/first.err" || { cat "$d/first.err"; fail "lpsim sim failed"; }
grep -q "configuration fp32 left out: an FP32 configuration" "$d/first.err" || fail "fp32 not reported as left out: $(cat "$d/first.err")"
grep -q "configuration pann left out: PANN's PE (rtl/pann_mac) accumulates in place: output_stationary only" "$d/first.err" \
  || fail "PANN on weight-stationary not reported as left out: $(cat "$d/first.err")"
grep -q "configuration luq left out: LUQ's shift PE (rtl/luq_mac) accumulates in place: output_stationary only" "$d/first.err" \
  || fail "LUQ on weight-stationary not reported as left out: $(cat "$d/first.err")"
grep -q "configuration fp8train left out: low-precision training with method fp8" "$d/first.err" || fail "fp8 training: $(cat "$d/first.err")"
head -1 "$d/out/sim_layers.csv" | grep -q "^layer,M,K,N,rows,cols,dataflow,folds,cycles,scalesim_cycles,utilization,mac_energy_pj,sram_energy_pj,leakage_pj,avg_power_mw,peak_power_mw,bit_exact," \
  || fail "sim_layers.csv columns: $(head -1 "$d/out/sim_layers.csv")"
[ "$(wc -l < "$d/out/sim_layers.csv")" -eq 26 ] || fail "sim_layers.csv: 5 configurations x 5 layers expected: $(cat "$d/out/sim_layers.csv")"
# Every layer bit-exact with the executor's accumulators (column 17).
awk -F, 'NR > 1 && $17 != "true" { bad = 1 } END { exit bad }' "$d/out/sim_layers.csv" || fail "not bit-exact: $(cat "$d/out/sim_layers.csv")"
grep -q "every layer bit-exact with the executor" "$d/first.txt" || fail "console: $(cat "$d/first.txt")"
# The saturating configuration really saturates somewhere (overflows column 26 > 0).
awk -F, '$18 == "int4s9" { o += $26 } END { exit !(o > 0) }' "$d/out/sim_layers.csv" || fail "int4s9 never overflowed"
# Cycles: the SCALE-Sim paper's count where every fold uses all 8 columns (N = 16: conv2,
# fc layers do not), SCALE-Sim's code one less; utilization = MACs / (cycles x 64).
awk -F, '$1 == "conv2" && !($9 == $20 && $10 == $9 - 1) { bad = 1 } END { exit bad }' "$d/out/sim_layers.csv" || fail "conv2 cycles"
awk -F, 'NR > 1 { u = $19 / ($9 * 64); d = u - $11; if (d < 0) d = -d; if (d > 1e-5 * u) bad = 1 } END { exit bad }' "$d/out/sim_layers.csv" \
  || fail "utilization"
python3 - "$d/out/sim.json" <<'PY' || fail "sim.json"
import json, sys
r = json.load(open(sys.argv[1]))
for c in r["configs"]:
    assert c["bit_exact"], c["config"]
    for l in c["layers"]:
        assert l["gate_mismatches"] == 0, l
        assert l["mac_energy_pj"] > 0 and l["sram_energy_pj"] > 0 and l["leakage_pj"] > 0, l
    b = c["budget"]
    assert [z["rows"] for z in b["sizes"]] == [4], b
    assert all(z["bit_exact"] for z in b["sizes"]), b
    assert b["max_clock_mhz"] > 0, b
assert r["accelerator"]["pe_area_um2"] > 0
PY
# The power trace: windows of 32 cycles summing to each layer's energy.
python3 - "$d/out/power_trace.csv" "$d/out/sim_layers.csv" <<'PY' || fail "power_trace.csv"
import csv, sys
trace = list(csv.DictReader(open(sys.argv[1])))
layers = list(csv.DictReader(open(sys.argv[2])))
for l in layers:
    w = [t for t in trace if t["config"] == l["config"] and t["layer"] == l["layer"]]
    assert len(w) == (int(l["cycles"]) + 31) // 32, (l["layer"], len(w))
    total = sum(float(t["energy_pj"]) for t in w)
    want = float(l["mac_energy_pj"]) + float(l["sram_energy_pj"]) + float(l["leakage_pj"])
    assert abs(total - want) <= 1e-4 * want, (l["layer"], total, want)
    assert max(float(t["power_mw"]) for t in w) >= float(l["avg_power_mw"]) * 0.999
PY
test -s "$d/out/power_trace.png" || fail "power_trace.png"
grep -q '\$enddefinitions' "$d/pe.vcd" && grep -q "pe_0_2" "$d/pe.vcd" && grep -q "psum_o" "$d/pe.vcd" || fail "VCD"
[ -z "$(find "$d/out" -name '*.tmp*')" ] || fail "temporary files left"
sed -e 's/dataflow: weight_stationary/dataflow: output_stationary/' -e "s|dir: $d/out|dir: $d/os|" "$d/s.yaml" > "$d/os.yaml"
# PANN on the output-stationary array (rtl/pann_mac): bit-exact with the executor's PANN
# sums (zero point of the unsigned activations corrected after pos − neg), the saturating
# narrow sums included; lock-step beats: more cycles than MACs per PE; netlist = golden.
"$LPSIM" sim -q --config pann --config pannsat --out "$d/pann" "$d/os.yaml" > "$d/pann.txt" 2>&1 || { cat "$d/pann.txt"; fail "PANN"; }
awk -F, 'NR > 1 && ($17 != "true" || $7 != "output_stationary") { bad = 1 } END { exit bad || NR != 11 }' "$d/pann/sim_layers.csv" \
  || fail "PANN rows: $(cat "$d/pann/sim_layers.csv")"
awk -F, '$18 == "pannsat" { o += $26 } END { exit !(o > 0) }' "$d/pann/sim_layers.csv" || fail "pannsat never saturated"
python3 - "$d/pann/sim.json" <<'PY' || fail "PANN sim.json"
import json, sys
r = json.load(open(sys.argv[1]))
for c in r["configs"]:
    for l in c["layers"]:
        assert l["gate_mismatches"] == 0 and l["pann_additions"] > 0, l
        assert l["executor_unit"].startswith("pann_mac"), l
PY
rc=0; "$LPSIM" sim --config pannsearch "$d/os.yaml" > /dev/null 2> "$d/e5" || rc=$?; [ $rc -eq 2 ] || fail "PANN search: exit $rc"
grep -q "configuration 'pannsearch' is a PANN dial; the array runs its points one by one: pannsearch_R1_b4, pannsearch_R2_b4" "$d/e5" \
  || fail "PANN dial: $(cat "$d/e5")"
# A LUQ training step (papers.md §2) on the output-stationary array: per layer the forward
# GEMM on the INT4 MAC and both gradient GEMMs on the shift PE (rtl/luq_mac), each equal
# to the exact sums of the same codes; conv1 (the images' layer) has no input gradient.
"$LPSIM" sim -q --config luq --out "$d/luq" "$d/os.yaml" > "$d/luq.txt" 2>&1 || { cat "$d/luq.txt"; fail "LUQ"; }
python3 - "$d/luq/sim_layers.csv" "$d/luq/sim.json" <<'PY' || fail "LUQ rows: $(cat "$d/luq/sim_layers.csv")"
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))
names = [r["layer"] for r in rows]
want = ["conv1.forward", "conv1.weight_gradient"] + [f"{l}.{g}" for l in ["conv2", "fc1", "fc2", "fc3"]
                                                      for g in ["forward", "input_gradient", "weight_gradient"]]
assert names == want, names
for r in rows:
    assert r["bit_exact"] == "true", r
    assert ("luq4" in r["pe"]) == (not r["layer"].endswith(".forward")), r
    assert float(r["mac_energy_pj"]) > 0 and r["executor_pj_per_mac"] != "", r
c = json.load(open(sys.argv[2]))["configs"][0]
for l in c["layers"]:
    assert l["gate_mismatches"] == 0, l
assert all(z["bit_exact"] for z in c["budget"]["sizes"]), c["budget"]  # the 4x4 array: each GEMM on its own PE
PY
# Output-stationary: also bit-exact; and run twice, bit-identical (wall times only in
# sim_timing.csv).
"$LPSIM" sim -q --config int8 --config uint8zp "$d/os.yaml" > "$d/os.txt" 2>&1 || { cat "$d/os.txt"; fail "output-stationary"; }
awk -F, 'NR > 1 && ($17 != "true" || $7 != "output_stationary") { bad = 1 } END { exit bad || NR != 11 }' "$d/os/sim_layers.csv" \
  || fail "output-stationary rows: $(cat "$d/os/sim_layers.csv")"
cp -r "$d/os" "$d/os1"
"$LPSIM" sim -q --config int8 --config uint8zp "$d/os.yaml" > /dev/null 2>&1 || fail "rerun"
for f in sim_layers.csv power_trace.csv sim.json; do cmp -s "$d/os/$f" "$d/os1/$f" || fail "$f differs on a rerun"; done
# Bad input: exit 2, the key and the file named.
set +e
sed -e '/^accelerator:/,/^outputs:/{/^outputs:/!d}' "$d/s.yaml" > "$d/noacc.yaml"
"$LPSIM" sim "$d/noacc.yaml" > /dev/null 2> "$d/e1"; [ $? -eq 2 ] || fail "no accelerator section: exit"
grep -q "noacc.yaml.*accelerator.*needs an accelerator: section" "$d/e1" || fail "no accelerator section: $(cat "$d/e1")"
sed -e 's/  rows: 8/  rowz: 8/' "$d/s.yaml" > "$d/typo.yaml"
"$LPSIM" sim "$d/typo.yaml" > /dev/null 2> "$d/e2"; [ $? -eq 2 ] || fail "typo: exit"
grep -q "typo.yaml:[0-9]*:[0-9]*.*accelerator.rowz.*unknown key, did you mean 'rows'" "$d/e2" || fail "typo: $(cat "$d/e2")"
"$LPSIM" sim --config fp32 "$d/s.yaml" > /dev/null 2> "$d/e3"; [ $? -eq 2 ] || fail "fp32 config: exit"
grep -q "configuration fp32 cannot run on the array: an FP32 configuration" "$d/e3" || fail "fp32 config: $(cat "$d/e3")"
"$LPSIM" sim --config nosuch "$d/s.yaml" > /dev/null 2> "$d/e4"; [ $? -eq 2 ] || fail "unknown config: exit"
grep -q "no configuration 'nosuch'" "$d/e4" || fail "unknown config: $(cat "$d/e4")"
"$LPSIM" sim --config luq "$d/s.yaml" > /dev/null 2> "$d/e6"; [ $? -eq 2 ] || fail "LUQ on weight-stationary: exit"
grep -q "s.yaml:[0-9]*:[0-9]*: accelerator.dataflow: configuration luq: LUQ's shift PE (rtl/luq_mac) accumulates in place" "$d/e6" \
  || fail "LUQ on weight-stationary: $(cat "$d/e6")"
echo "sim_test: ok"
