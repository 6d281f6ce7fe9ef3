#!/usr/bin/env bash
# End-to-end checks of the lpsim CLI: outputs, exit codes, one-line errors on bad input.
# Usage: cli_test.sh <path-to-lpsim>
set -u
LPSIM="$1"
pass=0; fail=0
check() {  # check <name> <expected> <actual>
  if [ "$2" == "$3" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); printf 'FAIL %s\n  expected: %q\n  actual:   %q\n' "$1" "$2" "$3"; fi
}
run() {  # run <stdin> args... ; sets OUT ERR RC
  OUT=$(printf '%b' "$1" | "$LPSIM" "${@:2}" 2>/tmp/lpsim_cli_err.$$); RC=$?; ERR=$(cat /tmp/lpsim_cli_err.$$)
}

run "" --version
check version-rc 0 "$RC"
[[ "$OUT" == lpsim\ * ]] && check version-text ok ok || check version-text "lpsim x.y.z" "$OUT"

# OCP E4M3: 464 is the tie 448|480 → 448 (even); 465 saturates; tiny values keep their sign.
run "464\n465\n1e9\n-0.001953125\n0.0009765625\n" quantize --format fp8_e4m3
check e4m3-values "$(printf '448\n448\n448\n-0.001953125\n0')" "$OUT"
run "465\n-1e9\n" quantize --format fp8_e4m3 --overflow inf
check e4m3-nan "$(printf 'nan\n-nan')" "$OUT"
run "61440\n" quantize --format fp8_e5m2 --overflow inf
check e5m2-inf "inf" "$OUT"
run "1\n-1\n448\n" quantize --format fp8_e4m3 --codes
check e4m3-codes "$(printf '0x38\n0xb8\n0x7e')" "$OUT"
run "2.5\n3.5\n-2.5\n200\n" quantize --format int8
check int8-rne "$(printf '2\n4\n-2\n127')" "$OUT"
run "200\n" quantize --format int8 --overflow wrap
check int8-wrap "-56" "$OUT"
run "2.7\n" quantize --format int8 --rounding rtz
check int8-rtz "2" "$OUT"
run "0.3\n5\n100\n" quantize --format luq4 --scale 0.5 --rounding rne
check luq4-scaled "$(printf '0.5\n4\n32')" "$OUT"
run "0.1\n0.2\n0.3\n" quantize --format e3m2 --json
check json-rc 0 "$RC"
check json-parse ok "$(printf '%s' "$OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); print("ok" if len(d)==3 and "code" in d[0] else "bad")')"

# Stochastic rounding: same seed → same output, other seed → (almost surely) different.
SEQ=$(for i in $(seq 1 200); do echo 1.03; done)
run "$SEQ\n" quantize --format fp8_e4m3 --rounding stochastic --seed 7; A="$OUT"
run "$SEQ\n" quantize --format fp8_e4m3 --rounding stochastic --seed 7; B="$OUT"
run "$SEQ\n" quantize --format fp8_e4m3 --rounding stochastic --seed 8; C="$OUT"
check sr-same-seed "$A" "$B"
[ "$A" != "$C" ] && check sr-other-seed ok ok || check sr-other-seed different same

# Bad input: exit 2, nothing on stdout, one line on stderr naming the problem.
run "1\n" quantize --format int99
check bad-format-rc 2 "$RC"; check bad-format-stdout "" "$OUT"
[[ "$ERR" == *int99* && $(printf '%s\n' "$ERR" | wc -l) -eq 1 ]] && check bad-format-msg ok ok || check bad-format-msg "one line naming int99" "$ERR"
run "1\nabc\n3\n" quantize --format int8
check bad-line-rc 2 "$RC"; check bad-line-stdout "" "$OUT"
[[ "$ERR" == *stdin:2* && "$ERR" == *abc* ]] && check bad-line-msg ok ok || check bad-line-msg "stdin:2 ... abc" "$ERR"
run "1\n" quantize --format e9m2
check bad-exp-rc 2 "$RC"
run "1\n" quantize --format fp8_e4m3 --rounding up
check bad-rounding-rc 2 "$RC"
run "1\n" quantize --format fp8_e4m3 --scale -1
check bad-scale-rc 2 "$RC"
run "" clip --prior cauchy --bits 4
check bad-prior-rc 2 "$RC"
run "" clip --prior laplace --bits 12
check bad-bits-rc 2 "$RC"
run "" frobnicate
check bad-subcommand-rc 2 "$RC"

# ACIQ (papers.md §4): α* = 5.02864 b at 4 bits; MSE there 0.0460215.
run "" clip --prior laplace --bits 4 --json
check clip-alpha 5.0286 "$(printf '%s' "$OUT" | python3 -c 'import json,sys; print("%.4f" % json.load(sys.stdin)["alpha"])')"
run "" clip --prior gauss --bits 3 --one-sided
[[ "$OUT" == *2.559* ]] && check clip-one-sided ok ok || check clip-one-sided "alpha*=2.559" "$OUT"

run "" formats
[[ "$OUT" == *fp8_e4m3*448* && "$OUT" == *fp8_e5m2*57344* && "$OUT" == *fp4_e2m1* && "$OUT" == *luq4* ]] \
  && check formats ok ok || check formats "table" "$OUT"

# verify-rtl: a clean unit passes; the checker's self-test reports a mismatch with the
# failing vector in hex and a VCD; an unknown unit is an input error.
run "" verify-rtl --unit mul_booth_s8x8 --unit luq_mul
check verify-rtl-rc 0 "$RC"
[[ "$OUT" == *mul_booth_s8x8*65536*" 0 "* ]] && check verify-rtl-table ok ok || check verify-rtl-table "65536 vectors, 0 mismatches" "$OUT"
VCD=$(mktemp --suffix=.vcd)
run "" verify-rtl --unit mul_array_u8x8 --inject-mismatch 7 --trace "$VCD"
check verify-rtl-mismatch-rc 1 "$RC"
[[ "$ERR" == *"a=0x0 b=0x7 expected p=0x1 got p=0x0"* ]] && check verify-rtl-first-failure ok ok || check verify-rtl-first-failure "a=0x0 b=0x7 ..." "$ERR"
grep -q 'enddefinitions' "$VCD" && check verify-rtl-vcd ok ok || check verify-rtl-vcd "a VCD file" "missing"
rm -f "$VCD"
run "" verify-rtl --unit no_such_unit
check verify-rtl-unknown-rc 2 "$RC"

# energy: gate-level figure with its interval and area; bad unit is an input error.
CACHE=$(mktemp -d)
run "" energy --unit mul --arch booth --a-bits 4 --b-bits 4 --vectors 4096 --netlist-cache "$CACHE" --json
check energy-rc 0 "$RC"
check energy-json ok "$(printf '%s' "$OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); print("ok" if d["energy_pj"] > 0 and d["area_um2"] > 0 and d["energy_ci95_pj"] >= 0 else "bad")')"
run "" energy --unit fp_mul --format fp8_e4m3 --vectors 1024 --netlist-cache "$CACHE"
check energy-fp-mul-rc 0 "$RC"
run "" energy --unit acc --a-bits 8 --acc-bits 16 --vectors 1024 --netlist-cache "$CACHE"
check energy-acc-rc 0 "$RC"
run "" energy --unit pann_add --a-bits 8 --b-bits 3 --vectors 1024 --netlist-cache "$CACHE" --json
check energy-pann-rc 0 "$RC"
run "" energy --unit pann_mac --a-bits 4 --b-bits 3 --acc-bits 16 --vectors 1024 --netlist-cache "$CACHE" --json
check energy-pann-mac-rc 0 "$RC"
check energy-pann-mac-json ok "$(printf '%s' "$OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); print("ok" if d["module"] == "pann_mac" and d["operations"] >= 1024 and d["energy_pj"] > 0 else "bad")')"
run "" energy --unit mul --arch wallace --netlist-cache "$CACHE"
check energy-bad-arch-rc 2 "$RC"
OPS=$(mktemp)
{ echo "# a b"; for i in $(seq 1 300); do echo "$((i % 256 - 128)) 0x$(printf %x $((i * 7 % 256)))"; done; } > "$OPS"
run "" energy --unit mul --stream "$OPS" --netlist-cache "$CACHE" --json
check energy-file-rc 0 "$RC"
printf '1 2\n3 x\n' > "$OPS"
run "" energy --unit mul --stream "$OPS" --netlist-cache "$CACHE"
check energy-file-bad-rc 2 "$RC"
[[ "$ERR" == *":2: not an integer operand: 'x'"* ]] && check energy-file-bad-msg ok ok || check energy-file-bad-msg "file:2 names x" "$ERR"
rm -f "$OPS"
rm -rf "$CACHE"

rm -f /tmp/lpsim_cli_err.$$
echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
