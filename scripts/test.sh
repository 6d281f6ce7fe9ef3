#!/usr/bin/env bash
# Installs what is missing, builds, and runs the test suite (ctest, GoogleTest).
#   bash scripts/test.sh          everything but the slow stage (ctest -LE slow)
#   bash scripts/test.sh --all    also the slow stage (ctest -L slow: the RTL mutation check,
#                                 the README quickstart figures) — what CI runs
set -euo pipefail
cd "$(dirname "$0")/.."
stage=fast
case "${1:-}" in
  "") ;;
  --all) stage=all ;;
  *) echo "usage: bash scripts/test.sh [--all]" >&2; exit 2 ;;
esac
bash scripts/install-deps.sh
# The same configuration as scripts/quickstart.sh, so nothing it built is compiled again.
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
# The build is warning-free (-Wall -Wextra, GCC 12) and a new warning fails this script. The
# compiler's output is the record: -DLPSIM_WERROR=ON would change every compile command and
# so rebuild all that quickstart.sh built.
cmake --build build -j2 2>&1 | tee build/build.log
if grep -n "warning:" build/build.log >&2; then
  echo "scripts/test.sh: the build printed compiler warnings (above); it must stay warning-free" >&2
  exit 1
fi
cd build
ctest --output-on-failure -j2 -LE slow
if [ "$stage" = all ]; then
  ctest --output-on-failure -j2 -L slow
fi
