#!/usr/bin/env bash
# Installs what is missing, builds mpisweep and runs the example sweep on 4 local MPI ranks.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
build=${MPISWEEP_BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$(nproc)"
source scripts/mpi-env.sh
out=${1:-$PWD/quickstart.h5}
mpirun -n 4 "$build/examples/basic_sweep" --output "$out" --force
echo
echo "results: $out"
"$build/src/mpisweep" status "$out"
