#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite (ctest, GoogleTest).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DLPSIM_WERROR=ON  # a new warning fails the build
cmake --build build -j2
cd build && ctest --output-on-failure -j2
