#!/usr/bin/env bash
# Hardened inputs (issue 14): edge cases of quantize, energy and run give exit 2 and one
# line naming what is wrong and where; external tools run without a shell (paths with
# ';' and spaces stay literal); yosys missing, failing or killed is said so; every
# command has --help.
# Usage: hardening_test.sh <path-to-lpsim> [shared netlist cache]
set -u
LPSIM="$1"
SHARED="${2:-}"
pass=0; fail=0
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
check() {  # check <name> <expected> <actual>
  if [ "$2" == "$3" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); printf 'FAIL %s\n  expected: %q\n  actual:   %q\n' "$1" "$2" "$3"; fi
}
ok() {  # ok <name> <condition result 0/1> <what was seen>
  if [ "$2" -eq 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); printf 'FAIL %s\n  seen: %s\n' "$1" "$3"; fi
}
has() { [[ "$1" == *"$2"* ]]; }
run() {  # run <stdin> args... ; sets OUT ERR RC
  OUT=$(printf '%b' "$1" | "$LPSIM" "${@:2}" 2>"$W/err"); RC=$?; ERR=$(cat "$W/err")
}
one_line() { [ "$(printf '%s\n' "$1" | wc -l)" -eq 1 ]; }
# A failure: exit 2, nothing on stdout, one line on stderr holding every given fragment.
fails() {  # fails <name> <fragment>...
  local name="$1" f good=0; shift
  check "$name-rc" 2 "$RC"
  check "$name-stdout" "" "$OUT"
  one_line "$ERR" || good=1
  for f in "$@"; do has "$ERR" "$f" || good=1; done
  ok "$name-msg" $good "$ERR"
}

# ---- quantize -------------------------------------------------------------------------
run "1\nnan\n" quantize --format int8
fails q-nan-int "stdin:2" "NaN" "int8"
run "nan\n" quantize --format fp4_e2m1
fails q-nan-e2m1 "stdin:1" "NaN" "no NaN"
run "nan\n" quantize --format luq4
fails q-nan-luq "stdin:1" "NaN"
run "nan\n" quantize --format fp8_e4m3
check q-nan-fp8 "nan" "$OUT"
run "1e400\n" quantize --format int8
fails q-1e400 "stdin:1" "out of range" "1e400"
! has "$ERR" "not a decimal number"; ok q-1e400-not-called-non-decimal $? "$ERR"
run "-1e400\n" quantize --format fp16
fails q-neg-1e400 "out of range"
run "1e-400\n-1e-400\n" quantize --format fp16 --codes  # below the smallest double: a signed zero
check q-underflow "$(printf '0x0000\n0x8000')" "$OUT"
run "inf\n" quantize --format int8 --overflow wrap
fails q-wrap-inf "stdin:1" "wrap"
run "+-5\n" quantize --format int8
fails q-plus-minus "stdin:1" "not a decimal number"
run "1\n\n3\n" quantize --format int8
fails q-blank "stdin:2" "blank line"
run "1\n  \t\n" quantize --format int8
fails q-blank-ws "stdin:2" "blank line"
run "" quantize --format int8
fails q-empty "no input"
run "3\n" quantize --format int8
check q-no-trailing-newline-ok 3 "$OUT"
# A 5 MB bad line is not echoed whole: at most 80 bytes of it and its length.
head -c 5000000 /dev/zero | tr '\0' 'x' > "$W/big"
OUT=$("$LPSIM" quantize --format int8 < "$W/big" 2>"$W/err"); RC=$?; ERR=$(cat "$W/err")
fails q-huge-line "stdin:1" "(5000000 bytes)"
[ "$(wc -c < "$W/err")" -lt 300 ]; ok q-huge-line-short $? "$(wc -c < "$W/err") bytes on stderr"

# ---- energy: checks that fail before any synthesis -------------------------------------
CACHE="$W/cache"
run "" energy --unit fp_add --format int8 --netlist-cache "$CACHE"
fails e-fp-add-int8 "--format" "fp16, bf16 or fp32"
run "" energy --unit fp_add --format luq4 --netlist-cache "$CACHE"
fails e-fp-add-luq4 "--format" "luq4"
run "" energy --unit fp_mul_rne --format fp8_e4m3 --netlist-cache "$CACHE"
fails e-fp-mul-rne-fp8 "--format"
for c in -5 0 nan inf; do
  run "" energy --unit mul --cycle-ns "$c" --netlist-cache "$CACHE"
  fails "e-cycle-ns-$c" "--cycle-ns" "positive finite"
done
run "" energy --unit mac --acc-bits 65 --netlist-cache "$CACHE"
fails e-acc-65 "--acc-bits" ", 64]" "got 65"
run "" energy --unit mac --acc-bits 15 --netlist-cache "$CACHE"
fails e-acc-15 "--acc-bits" "[16, 64]"
run "" energy --unit mul --a-bits 40 --netlist-cache "$CACHE"
fails e-a-bits-40 "--a-bits" "got 40"
run "" energy --unit mul --format fp16 --netlist-cache "$CACHE"
fails e-format-int-unit "--format" "does not apply to --unit mul"
run "" energy --unit add --b-bits 4 --netlist-cache "$CACHE"
fails e-b-bits-add "--b-bits" "does not apply"
run "" energy --unit fp_add --a-bits 16 --netlist-cache "$CACHE"
fails e-a-bits-fp "--a-bits" "does not apply"
run "" energy --unit luq_mul --signed --netlist-cache "$CACHE"
fails e-signed-luq "--signed" "does not apply"
run "" energy --unit pann_add --stream gauss --netlist-cache "$CACHE"
fails e-pann-stream "--stream" "pann_add"
# The analytic model: out-of-range widths and options it would ignore are errors.
run "" energy --unit mac --model analytic --a-bits 40 --acc-bits 8 --netlist-cache "$CACHE"
fails e-analytic-a40 "--a-bits" "got 40"
run "" energy --unit mul --model analytic --stream gauss --netlist-cache "$CACHE"
fails e-analytic-stream "--stream" "analytic"
run "" energy --unit mul --model analytic --arch booth --netlist-cache "$CACHE"
fails e-analytic-arch "--arch" "analytic"
run "" energy --unit add --model analytic --netlist-cache "$CACHE"
fails e-analytic-unit "--model" "mul and mac"
run "" energy --unit mul --model exact --netlist-cache "$CACHE"
fails e-model "--model" "exact"
# Operand files: every operand must fit the unit; file:line names the first that does not.
OPS="$W/ops.txt"
{ echo "# a b"; for i in $(seq 1 256); do echo "$((i % 256 - 128)) 0x$(printf %x $((i * 7 % 256)))"; done; } > "$OPS"
sed -i '18s/.*/300 5/' "$OPS"
run "" energy --unit mul --stream "$OPS" --netlist-cache "$CACHE"
fails e-ops-range-a "$OPS:18" "operand a = 300" "8-bit signed"
sed -i '18s/.*/5 0x100/' "$OPS"
run "" energy --unit mul --stream "$OPS" --netlist-cache "$CACHE"
fails e-ops-range-b "$OPS:18" "operand b = 0x100"
sed -i '18s/.*/5 5/' "$OPS"
run "" energy --unit mul --unsigned --stream "$OPS" --netlist-cache "$CACHE"
fails e-ops-unsigned-negative "$OPS:2" "unsigned"
run "" energy --unit mul --stream "$OPS" --vectors 4096 --netlist-cache "$CACHE"
fails e-ops-vectors "--vectors"
run "" energy --unit mul --stream "$W" --netlist-cache "$CACHE"
fails e-ops-directory "is a directory"
run "" energy --unit mul --stream gaus --netlist-cache "$CACHE"
fails e-ops-typo "gaus" "cannot open"
[ -z "$(ls "$CACHE" 2>/dev/null)" ]; ok e-nothing-synthesised-yet $? "$(ls "$CACHE" 2>/dev/null)"

# ---- energy: runs (small units) --------------------------------------------------------
run "" energy --unit add --a-bits 4 --vectors 1024 --netlist-cache "$CACHE" --json  # no --arch: ripple
check e-add-default-arch-rc 0 "$RC"
check e-add-default-arch "add_ripple" "$(printf '%s' "$OUT" | python3 -c 'import json,sys; print(json.load(sys.stdin)["module"])')"
run "" energy --unit mac --a-bits 2 --b-bits 2 --acc-bits 63 --vectors 1024 --netlist-cache "$CACHE" --json
check e-acc-63-rc 0 "$RC"
# A netlist cache folder that cannot be created: the user's path, exit 2 (was 3).
run '' energy --unit mul --a-bits 3 --b-bits 3 --vectors 256 --netlist-cache /proc/lpsim-no-such/netlists
fails e-cache-unwritable "cannot create the netlist cache folder" "/proc/lpsim-no-such/netlists"
# 256 pairs: 192 operations priced, and the output says why.
run "" energy --unit mul --stream "$OPS" --netlist-cache "$CACHE"
check e-ops-rc 0 "$RC"
has "$OUT" "192 operations" && has "$OUT" "from 256 operand pairs"; ok e-ops-explained $? "$OUT"
# Leakage is part of the analytic figure as of the gate-level one (the fit synthesises
# 2..8-bit multipliers and MACs: the shared cache when given).
run "" energy --unit mul --a-bits 2 --b-bits 2 --model analytic --vectors 1024 --netlist-cache "${SHARED:-$CACHE}" --json
check e-analytic-rc 0 "$RC"
check e-analytic-leakage ok "$(printf '%s' "$OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); print("ok" if d["leakage_pj"] > 0 and abs(d["energy_pj"] - d["dynamic_pj"] - d["leakage_pj"]) < 1e-12 and d["area_um2"] > 0 else d)')"

# ---- yosys: no shell, and missing / failing / killed said so ----------------------------
EVIL="$W/c;echo INJECTED \$(touch $W/pwned)"
run "" energy --unit mul --a-bits 2 --b-bits 2 --vectors 1024 --netlist-cache "$EVIL"
check y-evil-cache-rc 0 "$RC"
ls "$EVIL"/mul_array-*.json >/dev/null 2>&1; ok y-evil-cache-netlist $? "$(ls "$EVIL" 2>&1)"
[ ! -e "$W/pwned" ] && ! has "$OUT$ERR" $'\nINJECTED'; ok y-evil-no-injection $? "$OUT $ERR"
FAKE="$W/fakebin"; mkdir -p "$FAKE"
OUT=$(PATH="$FAKE" "$LPSIM" energy --unit mul --a-bits 3 --b-bits 3 --netlist-cache "$W/c2" 2>"$W/err"); RC=$?; ERR=$(cat "$W/err")
fails y-missing "yosys not found on PATH"
printf '#!/bin/sh\n# fake yosys: writes an error to its log (-l FILE) and fails\nwhile [ $# -gt 0 ]; do [ "$1" = -l ] && echo "ERROR: fake failure" > "$2"; shift; done\nexit 1\n' > "$FAKE/yosys"
chmod +x "$FAKE/yosys"
OUT=$(PATH="$FAKE:$PATH" "$LPSIM" energy --unit mul --a-bits 3 --b-bits 3 --netlist-cache "$W/c3" 2>"$W/err"); RC=$?; ERR=$(cat "$W/err")
fails y-failing "yosys failed on mul_array" "exited with status 1" "ERROR: fake failure"
printf '#!/bin/sh\nkill -KILL $$\n' > "$FAKE/yosys"
OUT=$(PATH="$FAKE:$PATH" "$LPSIM" energy --unit mul --a-bits 3 --b-bits 3 --netlist-cache "$W/c3" 2>"$W/err"); RC=$?; ERR=$(cat "$W/err")
fails y-killed "yosys failed on mul_array" "killed by signal 9"
! ls "$W/c3" | grep -q '\.json$'; ok y-nothing-cached-after-failures $? "$(ls "$W/c3")"

# ---- demo: gnuplot without a shell; a PNG is listed only if written ----------------------
D="$W/out;echo INJECTED \$(touch $W/pwned2)"
run "" demo --samples 4096 --out "$D"
check d-evil-rc 0 "$RC"
[ -s "$D/formats.csv" ] && [ ! -e "$W/pwned2" ]; ok d-evil-files $? "$(ls "$W")"
if command -v gnuplot >/dev/null; then
  has "$OUT" "formats.png" && [ -s "$D/formats.png" ]; ok d-png-listed-and-written $? "$OUT"
fi
! ls "$D" | grep -q tmp; ok d-no-tmp $? "$(ls "$D")"
printf '#!/bin/sh\nexit 1\n' > "$FAKE/gnuplot"; chmod +x "$FAKE/gnuplot"
OUT=$(PATH="$FAKE:$PATH" "$LPSIM" demo --samples 4096 --out "$D" 2>"$W/err"); RC=$?; ERR=$(cat "$W/err")
check d-gnuplot-fails-rc 0 "$RC"
! has "$OUT" "formats.png" && [ ! -e "$D/formats.png" ] && has "$ERR" "gnuplot exited with status 1"
ok d-gnuplot-fails-no-png $? "$OUT / $ERR / $(ls "$D")"
! ls "$D" | grep -q tmp; ok d-gnuplot-fails-no-tmp $? "$(ls "$D")"

# ---- run: a directory is named as one -------------------------------------------------
run "" run "$W"
fails r-directory "is a directory" "scenario"

# ---- --help everywhere ---------------------------------------------------------------
run "" --help
check help-rc 0 "$RC"
TOP="$OUT"
CMDS="quantize clip formats demo verify-rtl energy energy-findings run"
for c in $CMDS; do
  printf '%s\n' "$TOP" | grep -qE "^  $c +[A-Z]"; ok "help-lists-$c" $? "$TOP"
  run "" "$c" --help
  check "help-$c-rc" 0 "$RC"
  has "$OUT" "Usage:"; ok "help-$c-usage" $? "$OUT"
done
run "" energy --bogus
fails parse-error-points-to-help "--bogus" "lpsim energy --help"

# ---- verify-rtl is a program of its own: without it, lpsim says how to build it ------------
mkdir "$W/alone" && cp "$LPSIM" "$W/alone/lpsim"
SAVED="$LPSIM"; LPSIM="$W/alone/lpsim"
run "" verify-rtl --unit luq_mul
fails verify-rtl-not-built "lpsim-verify-rtl is not built" "--target lpsim-verify-rtl"
LPSIM="$SAVED"

echo "hardening: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
