#!/usr/bin/env bash
# The core (arith, power_models) and its tests built with AddressSanitizer and
# UndefinedBehaviorSanitizer (GCC; CMakePresets.json "asan", folder build-asan/) and run:
# any sanitizer report fails a test. CI runs this after scripts/test.sh --all.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset asan > /dev/null
cmake --build --preset asan
ctest --preset asan
