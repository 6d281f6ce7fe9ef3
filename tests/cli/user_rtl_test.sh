#!/usr/bin/env bash
# A hardware designer's own RTL (issue 16): `lpsim verify-rtl --rtl`, `lpsim energy --rtl`
# and a scenario's hardware.mac on three units written unlike lpsim's (tests/rtl/user_units: a sign-magnitude
# multiplier around a behavioural `*`, a 2-stage pipelined MAC, a fixed-point FP16 adder),
# each passing, and each with one injected fault (a flipped operator, a dropped carry, a
# wrong rounding tie) caught with its failing vector; a wrong latency told; bad input
# named (file:line, the port at fault); the cache keyed by content, nothing half-built
# left; a YAML spec; the energy beside lpsim's own unit. Files and cache sit in folders
# whose names hold a space.
set -euo pipefail
LPSIM=$1
UNITS=$2   # tests/rtl/user_units
NETLISTS=$3
PART=${4:-designer}  # designer: sections 1-7 (the fast suite); kinds: section 8 (the slow stage)
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
mkdir -p "$d/my rtl"
cp "$UNITS"/*.sv "$d/my rtl/"
src="$d/my rtl"
cache="$d/rtl cache"
v() { "$LPSIM" verify-rtl --cache "$cache" "$@"; }
json_field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }

if [ "$PART" = designer ]; then
# 1. The multiplier: every operand pair, cold (Verilate + build + check) then warm.
t0=$(date +%s.%N)
v --json --rtl "$src/sm_mul.sv" --top sm_mul --kind mul --ports b=y_in > "$d/mul.json" || fail "sm_mul: $(cat "$d/mul.json")"
t1=$(date +%s.%N)
v --json --rtl "$src/sm_mul.sv" --top sm_mul --kind mul --ports b=y_in > "$d/mul2.json" || fail "sm_mul warm"
t2=$(date +%s.%N)
[ "$(json_field "$d/mul.json" vectors)" = 65536 ] || fail "sm_mul: not every pair: $(cat "$d/mul.json")"
[ "$(json_field "$d/mul.json" mismatches)" = 0 ] || fail "sm_mul mismatches"
[ "$(json_field "$d/mul.json" cached)" = False ] && [ "$(json_field "$d/mul2.json" cached)" = True ] || fail "cache not used"
python3 - "$t0" "$t1" "$t2" <<'PY' || fail "verdict too slow"
import sys
t0, t1, t2 = map(float, sys.argv[1:])
print(f"sm_mul 8x8 verdict: cold {t1 - t0:.1f} s, warm {t2 - t1:.2f} s")
assert t1 - t0 <= 30 and t2 - t1 <= 2, "issue 16: cold <= 30 s, warm <= 2 s"
PY
# Its fault (the sign's ^ flipped to |): the same file changed, so rebuilt, and caught.
sed -i 's/x\[W-1\] ^ y_in\[W-1\]/x[W-1] | y_in[W-1]/' "$src/sm_mul.sv"
if v --rtl "$src/sm_mul.sv" --top sm_mul --kind mul --ports b=y_in --trace "$d/fail.vcd" > "$d/out" 2> "$d/err"; then
  fail "flipped operator not caught"
fi
grep -q "built in" "$d/out" || fail "changed file not rebuilt: $(cat "$d/out")"
grep -Eq "first failing vector: a=0x[0-9a-f]+ b=0x[0-9a-f]+ expected p=0x[0-9a-f]+ got p=0x[0-9a-f]+" "$d/err" ||
  fail "no failing vector: $(cat "$d/err")"
grep -q '\$enddefinitions' "$d/fail.vcd" && grep -q ' prod ' "$d/fail.vcd" || fail "no VCD of the failing vector"

# 2. The pipelined MAC at its latency, 10^5 random cycles (clear, enable, resets); a wrong
# latency names the right one; the dropped carry is caught.
v --rtl "$src/pipe_mac.sv" --top pipe_mac --kind mac --latency 2 -n 100000 > "$d/out" || fail "pipe_mac: $(cat "$d/out")"
grep -q "ports clk=clk, rst_n=rst_n, clear=clr, en=ce, a=a, b=b, y=acc; latency 2" "$d/out" || fail "roles: $(cat "$d/out")"
if v --rtl "$src/pipe_mac.sv" --top pipe_mac --kind mac -n 1000 > "$d/out" 2> "$d/err"; then fail "latency 1 passed"; fi
grep -q "with --latency 2 it matches" "$d/err" || fail "no latency hint: $(cat "$d/err")"
sed -i 's/ + {{(ACC - H - 1){1.b0}}, lo\[H\]}//' "$src/pipe_mac.sv"
if v --rtl "$src/pipe_mac.sv" --top pipe_mac --kind mac --latency 2 > "$d/out" 2> "$d/err"; then fail "dropped carry not caught"; fi
grep -Eq "first failing vector: cycle [0-9]+: clear=. en=. a=0x[0-9a-f]+ b=0x[0-9a-f]+ expected acc=0x[0-9a-f]+" "$d/err" ||
  fail "dropped carry: $(cat "$d/err")"

# 3. The FP16 adder: corners and 10^5 random pairs; ties away from zero caught.
v --rtl "$src/fx_fp16_add.sv" --top fx_fp16_add --kind fp_add --format fp16 -n 100000 > "$d/out" || fail "fx_fp16_add: $(cat "$d/out")"
sed -i 's/guard \&\& (sticky || keep\[0\])/guard/' "$src/fx_fp16_add.sv"
if v --rtl "$src/fx_fp16_add.sv" --top fx_fp16_add --kind fp_add -n 100000 > "$d/out" 2> "$d/err"; then fail "rounding tie not caught"; fi
grep -Eq "expected s=0x[0-9a-f]+ got s=0x[0-9a-f]+" "$d/err" || fail "rounding tie: $(cat "$d/err")"

# 4. Bad input: one clear error each (exit 2), the file:line or the port named.
expect_error() {  # expect_error PATTERN ARGS...
  local pat=$1
  shift
  set +e
  v "$@" > "$d/out" 2> "$d/err"
  local rc=$?
  set -e
  [ $rc = 2 ] || fail "exit $rc (not 2) for $*: $(cat "$d/err")"
  grep -q -- "$pat" "$d/err" || fail "for $*: expected '$pat' in: $(cat "$d/err")"
}
printf 'module bad(input logic [7:0] a, input logic [7:0] b, output logic [15:0] p);\n  assign p = a * b\nendmodule\n' > "$src/bad.sv"
expect_error "bad.sv:3:1: syntax error" --rtl "$src/bad.sv" --top bad --kind mul
printf 'module ext(input logic [7:0] a, b, input logic mode, output logic [15:0] p);\n  assign p = mode ? a * b : 0;\nendmodule\n' > "$src/ext.sv"
expect_error "input port 'mode' of ext has no role in kind mul" --rtl "$src/ext.sv" --top ext --kind mul
printf 'module nop(input logic [7:0] a, b, output logic [15:0] q2);\n  assign q2 = a * b;\nendmodule\n' > "$src/nop.sv"
expect_error "output port 'q2' of nop has no role" --rtl "$src/nop.sv" --top nop --kind mul
expect_error "no port for role 'y'" --rtl "$src/nop.sv" --top nop --kind mul --ports unused=q2
expect_error "port 'a' (role a) is 8 bits wide; mul with these options needs 6" --rtl "$src/nop.sv" --top nop --kind mul --a-bits 6 --ports y=q2
expect_error "no port 'qq' in module nop" --rtl "$src/nop.sv" --top nop --kind mul --ports y=qq
expect_error "unknown kind 'divider'" --rtl "$src/nop.sv" --top nop --kind divider
expect_error "Parameters from the command line were not found in the design: Q" --rtl "$src/nop.sv" --top nop --kind mul --ports y=q2 --param Q=3
printf 'module pm(input logic clk, input logic [7:0] a, b, output logic [15:0] p);\n  always_ff @(posedge clk) p <= a * b;\nendmodule\n' > "$src/pm.sv"
expect_error "has a clock (clk) but mul is combinational" --rtl "$src/pm.sv" --top pm --kind mul --unsigned
v --rtl "$src/pm.sv" --top pm --kind mul --unsigned --latency 1 > "$d/out" || fail "registered multiplier: $(cat "$d/out")"
[ -z "$(find "$cache" -name '*.tmp*')" ] || fail "half-built entries left in the cache: $(find "$cache" -name '*.tmp*')"

# 5. The same unit from a YAML spec (paths relative to it); a bad key named with file:line.
cp "$UNITS/sm_mul.sv" "$src/sm_mul.sv"
cat > "$src/unit.yaml" <<YAML
rtl: [sm_mul.sv]
top: sm_mul
kind: mul
a_bits: 8
signed: true
ports: {b: y_in}
YAML
v --spec "$src/unit.yaml" > "$d/out" || fail "spec: $(cat "$d/out")"
grep -q "sm_mul matches the golden mul" "$d/out" || fail "spec verdict: $(cat "$d/out")"
printf 'rtl: sm_mul.sv\ntop: sm_mul\nkind: mul\nwidth: 8\n' > "$src/bad.yaml"
expect_error "unit.yaml\|bad.yaml:4:1: width: unknown key" --spec "$src/bad.yaml"

# 6. Energy beside lpsim's array multiplier of the same widths, the same stream and flow.
"$LPSIM" --json energy --rtl "$src/sm_mul.sv" --top sm_mul --kind mul --ports b=y_in --netlist-cache "$NETLISTS" \
  -n 8192 > "$d/e.json" || fail "energy --rtl: $(cat "$d/e.json")"
python3 - "$d/e.json" <<'PY' || fail "energy ratio"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["lpsim"]["module"] == "mul_array" and j["yours"]["module"] == "sm_mul", j
r = j["energy_ratio"]
print(f"sm_mul / mul_array: energy {r:.3f}, area {j['area_ratio']:.3f}")
assert 0.5 < r < 2.0, "a behavioural multiplier within the ballpark of the array multiplier"
assert abs(r - j["yours"]["energy_pj"] / j["lpsim"]["energy_pj"]) < 1e-12
PY
# 7. A network priced on the user's MAC (scenario hardware.mac): verified first; the int8
# configuration on it, the int4 one not (its widths), said per layer; a faulty MAC stops
# the run before anything trains.
cp "$UNITS/pipe_mac.sv" "$src/pipe_mac.sv"
scenario() {
  cat > "$d/s.yaml" <<YAML
name: user_mac
seed: 3
dataset: {train_limit: 1000, test_limit: 100}
model: {arch: lenet5, cache: "$d/models", train: {epochs: 1}}
hardware:
  energy_vectors: 1024
  netlist_cache: "$NETLISTS"
  mac: {rtl: ["$src/$1"], top: pipe_mac, latency: 2}
quantization:
  calibration_images: 64
  configs:
    - {name: int8, weights: int8, activations: int8}
    - {name: int4, weights: int4, activations: int4}
outputs: {dir: "$d/results"}
YAML
}
scenario pipe_mac.sv
"$LPSIM" run "$d/s.yaml" > "$d/out.txt" 2> "$d/err.txt" || fail "scenario on the user's MAC: $(tail -5 "$d/err.txt")"
python3 - "$d/results" <<'PY' || fail "scenario results"
import csv, json, math, sys
out = sys.argv[1]
rows = {r["config"]: r for r in csv.DictReader(open(out + "/summary.csv"))}
assert rows["int8"]["unit"] == "mac pipe_mac (your RTL) int8x8 acc32 wrap", rows["int8"]["unit"]
assert float(rows["int8"]["energy_pj_per_inference"]) > 0
assert math.isnan(float(rows["int4"]["energy_pj_per_inference"]))
notes = {r["note"] for r in csv.DictReader(open(out + "/layers.csv")) if r["config"] == "int4"}
assert notes == {"your MAC pipe_mac (hardware.mac) is int8x8 acc32 wrap; this configuration needs int4x4 acc32 wrap"}, notes
v = json.load(open(out + "/report.json"))["hardware"]["user_mac"]["verification"]
assert v["mismatches"] == 0 and v["vectors"] >= 1000000, v
print(f"int8 LeNet-5 on pipe_mac: {float(rows['int8']['energy_pj_per_inference']) / 1e3:.1f} nJ per inference")
PY
sed 's/ + {{(ACC - H - 1){1.b0}}, lo\[H\]}//' "$UNITS/pipe_mac.sv" > "$src/bad_mac.sv"
scenario bad_mac.sv
set +e
"$LPSIM" run "$d/s.yaml" > "$d/out.txt" 2> "$d/err.txt"
rc=$?
set -e
[ $rc = 2 ] || fail "a faulty hardware.mac: exit $rc"
grep -q "s.yaml:8:.*hardware.mac: your MAC pipe_mac differs from the golden mac" "$d/err.txt" || fail "faulty MAC: $(cat "$d/err.txt")"
! grep -q "train" "$d/err.txt" || fail "trained before the MAC was checked: $(cat "$d/err.txt")"
echo "user RTL: the designer's units, faults, errors, spec, energy and scenario checks passed"
exit 0
fi

# 8. Every kind through the user path, on lpsim's own units given as a designer would give
# them (the top file only: the modules it instantiates are found beside it), each
# matching its golden model; and lpsim's MAC priced through --rtl as it is priced built in.
R="$(dirname "$UNITS")/../../rtl"
own() { v -n 20000 "$@" > "$d/out" 2>&1 || fail "lpsim's own unit through --rtl $*: $(cat "$d/out")"; }
own --rtl "$R/add_kogge_stone.sv" --top add_kogge_stone --kind add --param Width=13 --a-bits 13
own --rtl "$R/accumulator.sv" --top accumulator --kind acc --param Width=12 --param InWidth=8 --param Signed=1 \
  --param Saturate=1 --a-bits 8 --acc-bits 12 --overflow saturate
own --rtl "$R/mac.sv" --top mac --kind mac --param WidthA=8 --param WidthB=8 --param AccWidth=20 --param Signed=1 \
  --param Saturate=1 --param Booth=1 --acc-bits 20 --overflow saturate
own --rtl "$R/fp_add.sv" --top fp_add --kind fp_add --param ExpBits=8 --param ManBits=7 --format bf16
own --rtl "$R/fp_mul_rne.sv" --top fp_mul_rne --kind fp_mul_rne --param ExpBits=5 --param ManBits=10 --format fp16
own --rtl "$R/fp8_mac.sv" --top fp8_mac --kind fp8_mac --param ExpBits=5 --param ManBits=2 --param Bias=15 \
  --param FnSpecials=0 --format e5m2
own --rtl "$R/luq_mul.sv" --top luq_mul --kind luq_mul
own --rtl "$R/pann_add.sv" --top pann_add --kind pann_add --param WidthX=6 --param RWidth=3 --a-bits 6 --b-bits 3
"$LPSIM" --json energy --rtl "$R/mac.sv" --top mac --kind mac --param WidthA=8 --param WidthB=8 --param AccWidth=32 \
  --param Signed=1 --param Saturate=0 --param Booth=0 --netlist-cache "$NETLISTS" -n 8192 > "$d/e.json" || fail "own mac energy"
python3 - "$d/e.json" <<'PY' || fail "lpsim's mac through --rtl is priced unlike the built-in one"
import json, sys
j = json.load(open(sys.argv[1]))
print(f"lpsim's mac through --rtl / built in: energy {j['energy_ratio']:.3f}, area {j['area_ratio']:.3f}")
# The same RTL: only ABC's handling of the wrapped netlist differs (a few per cent).
assert abs(j["energy_ratio"] - 1) < 0.08 and abs(j["area_ratio"] - 1) < 0.02, j
PY
echo "user RTL: every kind through --rtl passed"
