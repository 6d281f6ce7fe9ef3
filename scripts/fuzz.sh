#!/usr/bin/env bash
# Builds the libFuzzer targets (clang with ASan + UBSan, CMakePresets.json "fuzz", folder
# build-fuzz/) and runs each on its seed corpus (tests/fuzz/corpus/TARGET/), in a fresh
# empty folder. Any crash, uncaught exception other than lpsim::InputError, leak, hang
# (-timeout) or sanitizer report fails; the input that did it is kept as
# build-fuzz/artifacts/TARGET-crash-*.
#   bash scripts/fuzz.sh                  20 000 executions per target, 300 for torchscript
#                                         (each of its inputs is loaded in a child process
#                                         first: ~0.1 s an execution under ASan) (CI)
#   bash scripts/fuzz.sh --runs 1000000   the long run (README: measured figures)
#   bash scripts/fuzz.sh --runs N TARGET  one target (format_name, number_lines, scenario,
#                                         unit_spec, idx, netlist, torchscript, torchscript_walker)
#   --timeout S                           seconds one input may take before it counts as a
#                                         hang (default 30; a long run beside other work
#                                         on a busy machine needs more)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
runs=
timeout=30
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    -*) echo "usage: bash scripts/fuzz.sh [--runs N] [--timeout S] [TARGET...]" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=(format_name number_lines scenario unit_spec idx netlist torchscript torchscript_walker)
cmake --preset fuzz > /dev/null
cmake --build --preset fuzz
mkdir -p build-fuzz/artifacts
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
for t in "${targets[@]}"; do
  exe=$root/build-fuzz/tests/fuzz/fuzz_$t
  [ -x "$exe" ] || { echo "fuzz.sh: no target '$t'" >&2; exit 2; }
  mkdir -p "$work/$t/corpus" "$work/$t/cwd" "$work/$t/tmp"
  log=$root/build-fuzz/artifacts/$t.log
  # The TorchScript importer loads a file in a child process first (LibTorch's loader can
  # crash on a corrupt archive; nn/torchscript.cpp): the child must die of its signal, not
  # be caught by libFuzzer's or ASan's handler, so SEGV/BUS are left unhandled there.
  extra=()
  [ "$t" = torchscript ] && extra=(-handle_segv=0 -handle_bus=0)
  # LibTorch's own archive reader leaks on some corrupt files (not lpsim's code): those
  # leaks, and only those, are suppressed by library name (tests/fuzz/lsan.supp).
  n=${runs:-20000}
  [ -z "$runs" ] && [ "$t" = torchscript ] && n=300
  if (cd "$work/$t/cwd" && TMPDIR="$work/$t/tmp" ASAN_OPTIONS="handle_segv=$([ "$t" = torchscript ] && echo 0 || echo 1)" LSAN_OPTIONS="suppressions=$root/tests/fuzz/lsan.supp" "$exe" "${extra[@]}" -runs="$n" -timeout="$timeout" -rss_limit_mb=4096 \
        -artifact_prefix="$root/build-fuzz/artifacts/$t-" "$work/$t/corpus" "$root/tests/fuzz/corpus/$t" > "$log" 2>&1); then
    printf 'fuzz %-13s %s\n' "$t" "$(grep -o 'Done [0-9]* runs in [0-9]* second(s)' "$log" | tail -1), no crash, leak or sanitizer report"
  else
    status=1
    echo "fuzz $t: FAILED (log: $log)"
    grep -m1 -A12 "ERROR\|==ERROR\|runtime error\|uncaught\|deadly signal" "$log" || tail -20 "$log"
  fi
done
exit $status
