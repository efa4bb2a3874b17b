#!/usr/bin/env bash
# Installs what mpisweep needs from Debian 12 packages, only what is missing. Idempotent.
# With --bench, also the peers that bench/run.py measures against (GNU Parallel; mpi4py is
# always installed). PyTorch (python3-torch, large) is not: examples/python/torch_train.py and
# its test are skipped without it. With --format, only clang-format (scripts/format.sh).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  openmpi-bin libopenmpi-dev
  libboost-mpi-dev libboost-serialization-dev
  libhdf5-dev hdf5-tools
  libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev nlohmann-json3-dev
  python3-h5py python3-numpy python3-pandas python3-matplotlib
  # The Python package: its engine binding, and what its tests and examples use.
  python3-dev pybind11-dev python3-pybind11 python3-mpi4py python3-sklearn
)
if [ "${1:-}" = "--bench" ]; then
  packages+=(parallel)
fi
if [ "${1:-}" = "--format" ]; then
  packages=(clang-format)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
