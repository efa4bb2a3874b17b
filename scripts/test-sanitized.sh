#!/usr/bin/env bash
# Builds mpisweep with sanitizers into ${MPISWEEP_SANITIZE_BUILD_DIR:-build-<kind>} and runs
# the unit and MPI tests there. Usage: bash scripts/test-sanitized.sh [address|thread] [ctest args]
#   address: ASan + UBSan, the unit tests and the MPI tests (tests/unit, tests/mpi, tests/e2e)
#   thread:  TSan, the unit tests
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-address}
shift || true
case "$kind" in
  address) sanitize=address,undefined; labels='unit|mpi' ;;
  thread) sanitize=thread; labels='unit' ;;
  *) echo "test-sanitized.sh: unknown kind '$kind'; expected address or thread" >&2; exit 2 ;;
esac
build=${MPISWEEP_SANITIZE_BUILD_DIR:-build-$kind}
# Examples and benchmarks are not tested here; the Python tests load modules into an
# interpreter that is not sanitized.
MPISWEEP_BUILD_DIR=$build bash scripts/build.sh -DMPISWEEP_SANITIZE=$sanitize \
  -DMPISWEEP_BUILD_BENCH=OFF -DMPISWEEP_WITH_CUDA=OFF
source scripts/mpi-env.sh
# Open MPI keeps allocations until exit: leak reports there are not ours.
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=0:detect_stack_use_after_return=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
ctest --test-dir "$build" --output-on-failure -j "$(nproc)" -L "$labels" -LE 'python|install|slurm' "$@"
