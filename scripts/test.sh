#!/usr/bin/env bash
# Builds mpisweep and runs the whole test suite. Usage: bash scripts/test.sh [ctest args]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
source scripts/mpi-env.sh
ctest --test-dir "${MPISWEEP_BUILD_DIR:-build}" --output-on-failure -j "$(nproc)" "$@"
