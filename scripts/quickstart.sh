#!/usr/bin/env bash
# Installs what is missing, builds, and runs the main job (scenarios/quickstart.yaml).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build -j2 --target lpsim
./build/cli/lpsim run scenarios/quickstart.yaml "$@"
