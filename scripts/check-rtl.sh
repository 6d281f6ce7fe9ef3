#!/usr/bin/env bash
# Lint (verilator --lint-only -Wall, zero warnings) and synthesise (yosys synth) every
# RTL unit at several parameter sets. Exits non-zero on the first failure.
set -uo pipefail
RTL="$(cd "$(dirname "$0")/../rtl" && pwd)"
declare -A SETS=(
  [fa]=""
  [add_ripple]="Width=1|Width=8|Width=64"
  [add_kogge_stone]="Width=1|Width=13|Width=64"
  [csa_tree]="Rows=1|Rows=2|Rows=5|Rows=9 Width=16"
  [mul_array]="WidthA=2 WidthB=2|WidthA=8 WidthB=8 Signed=1|WidthA=3 WidthB=7 Signed=1|WidthA=16 WidthB=16"
  [mul_booth]="WidthA=2 WidthB=2 Signed=1|WidthA=8 WidthB=8|WidthA=5 WidthB=4 Signed=1|WidthA=16 WidthB=16 Signed=1"
  [accumulator]="Width=32 InWidth=16|Width=12 InWidth=8 Saturate=1|Width=10 InWidth=8 Signed=0 Saturate=1"
  [acc_add]="Width=32 InWidth=16|Width=12 InWidth=8 Saturate=1|Width=10 InWidth=8 Signed=0 Saturate=1|Width=10 InWidth=8 Signed=0"
  [mac]="Booth=0|Booth=1 Saturate=1|Signed=0 WidthA=4 WidthB=4 AccWidth=10"
  [pann_add]="WidthX=8 RWidth=4"
  [pann_mac]="WidthX=4 RWidth=3 AccWidth=12|WidthX=8 RWidth=4 AccWidth=16 Saturate=1|WidthX=8 RWidth=4 AccWidth=32|WidthX=8 RWidth=1 AccWidth=8 Saturate=1"
  [luq_mul]=""
  [luq_mac]="AccWidth=24|AccWidth=12 Saturate=1"
  [fp_add]="ExpBits=5 ManBits=10|ExpBits=8 ManBits=23|ExpBits=5 ManBits=2|ExpBits=8 ManBits=7"
  [fp_mul_rne]="ExpBits=5 ManBits=10|ExpBits=8 ManBits=23|ExpBits=5 ManBits=2|ExpBits=8 ManBits=7"
  [fp_acc]="ExpBits=5 ManBits=10|ExpBits=8 ManBits=23"
  [fp8_mac]="ExpBits=4 ManBits=3 Bias=7 FnSpecials=1|ExpBits=5 ManBits=2 Bias=15 FnSpecials=0|ExpBits=5 ManBits=10 Bias=15 FnSpecials=0"
  [fp_mac]="ExpBits=8 ManBits=23|ExpBits=5 ManBits=10|ExpBits=8 ManBits=7"
  [mac_ws]="Booth=0|Booth=1 Saturate=1|Signed=0 WidthA=4 WidthB=4 AccWidth=10 Saturate=1|WidthA=4 WidthB=5 AccWidth=12 Booth=1 Saturate=1"
  [fp8_mac_ws]="ExpBits=4 ManBits=3 Bias=7 FnSpecials=1|ExpBits=5 ManBits=2 Bias=15 FnSpecials=0|ExpBits=5 ManBits=10 Bias=15 FnSpecials=0"
  [fp_mac_ws]="ExpBits=8 ManBits=23|ExpBits=5 ManBits=10"
  [fp_mul_fp32]="ExpBits=4 ManBits=3 Bias=7 FnSpecials=1|ExpBits=5 ManBits=2 Bias=15 FnSpecials=0|ExpBits=5 ManBits=10 Bias=15 FnSpecials=0"
  [fp_mul]="ExpBits=4 ManBits=3 Bias=7 FnSpecials=1|ExpBits=5 ManBits=2 Bias=15 FnSpecials=0"
  [lns_mac]="ExpBits=7 FracBits=3 Alpha=6 AccWidth=51|ExpBits=7 FracBits=3 Alpha=5 AccWidth=24|ExpBits=4 FracBits=0 Alpha=1 AccWidth=20|ExpBits=9 FracBits=5 Alpha=7 AccWidth=52"
  [lns_mac_bins]="ExpBits=7 FracBits=3 Alpha=6 AccWidth=51 BinWidth=45|ExpBits=4 FracBits=0 Alpha=1 AccWidth=20 BinWidth=34|ExpBits=9 FracBits=5 Alpha=7 AccWidth=52 BinWidth=45"
  [lns_log_acc]="AccFrac=3 AccExpBits=8|AccFrac=3 AccExpBits=8 Mitchell=1|AccFrac=5 AccExpBits=10|ExpBits=4 FracBits=0 AccFrac=1 AccExpBits=6|ExpBits=4 FracBits=0 AccFrac=1 AccExpBits=6 Mitchell=1|ExpBits=9 FracBits=4 AccFrac=7 AccExpBits=12|ExpBits=9 FracBits=4 AccFrac=6 AccExpBits=12 Mitchell=1"
  # Generated ROMs (arith/lns_rom.h): the corners of their parameter ranges.
  [lns_pow2_rom]="FracBits=0 Alpha=1|FracBits=3 Alpha=6|FracBits=5 Alpha=16"
  [lns_gauss_rom]="AccFrac=0|AccFrac=3|AccFrac=7"
)
fail=0; n=0
for unit in $(ls "$RTL"/*.sv | xargs -n1 basename | sed 's/\.sv$//'); do
  if [ -z "${SETS[$unit]+x}" ]; then echo "check-rtl: $unit.sv has no parameter sets listed here"; fail=1; continue; fi
  IFS='|' read -ra sets <<< "${SETS[$unit]}"
  [ ${#sets[@]} -eq 0 ] && sets=("")
  for set in "${sets[@]}"; do
    n=$((n + 1))
    gargs=""; chp=""
    for kv in $set; do gargs="$gargs -G$kv"; chp="$chp chparam -set ${kv%%=*} ${kv#*=} $unit;"; done
    if ! out=$(verilator --lint-only -Wall -y "$RTL" $gargs --top-module "$unit" "$RTL/$unit.sv" 2>&1); then
      echo "LINT FAIL $unit [$set]"; echo "$out" | head -20; fail=1; continue
    fi
    if ! out=$(yosys -q -p "read_verilog -sv $(ls "$RTL"/*.sv | tr '\n' ' '); $chp synth -top $unit" 2>&1); then
      echo "SYNTH FAIL $unit [$set]"; echo "$out" | tail -20; fail=1; continue
    fi
  done
done
echo "check-rtl: $n unit/parameter sets linted and synthesised, $([ $fail -eq 0 ] && echo ok || echo FAILED)"
exit $fail
