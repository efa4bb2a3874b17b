#!/usr/bin/env bash
# Builds mpisweep and runs the whole test suite. Usage: bash scripts/test.sh [ctest args]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
build=${MPISWEEP_BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$(nproc)"
source scripts/mpi-env.sh
ctest --test-dir "$build" --output-on-failure -j "$(nproc)" "$@"
