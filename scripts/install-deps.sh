#!/usr/bin/env bash
# Installs every Debian 12 package lpsim needs, skipping what is already there.
# Idempotent: a second run does nothing but check.
set -euo pipefail
PKGS=(
  build-essential cmake ninja-build ccache pkg-config
  libfmt-dev libcli11-dev nlohmann-json3-dev libspdlog-dev libyaml-cpp-dev
  libeigen3-dev libboost-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  verilator yosys libsystemc-dev
  libtorch-dev libopenmpi-dev openmpi-bin
  dataset-fashion-mnist gnuplot-nox python3 zlib1g-dev libssl-dev
  clang libclang-rt-14-dev  # libFuzzer (scripts/fuzz.sh)
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PKGS[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
