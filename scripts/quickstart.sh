#!/usr/bin/env bash
# Installs what is missing, builds mpisweep and runs the example sweep on 4 local MPI ranks.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
source scripts/mpi-env.sh
build=${MPISWEEP_BUILD_DIR:-build}
out=${1:-$PWD/quickstart.h5}
mpirun -n 4 "$build/examples/basic_sweep" --output "$out" --force
echo
echo "results: $out"
"$build/src/cli/mpisweep" status "$out"
