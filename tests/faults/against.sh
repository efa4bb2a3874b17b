#!/usr/bin/env bash
# Runs this build's fault tests against another mpisweep binary (an older commit's build),
# as FAIL_BEFORE.md records them: each ctest test matching REGEX, run as ctest would run it
# but with its --mpisweep swapped, one line per test: name, exit status, seconds, and the
# first error line. A failing test may leave its background sweep waiting at a gate; what
# runs the other binary is killed after each test (by pid, in the sessions that hold it).
# usage: bash tests/faults/against.sh OTHER_MPISWEEP [REGEX] [BUILD]   (from the checkout)
set -uo pipefail
other=$(readlink -f "$1")
regex=${2:-'^(fault_|nodes\.)'}
build=${3:-build}
cd "$(dirname "$0")/../.."
source scripts/mpi-env.sh
export OMPI_MCA_mpi_yield_when_idle=1
ours=$(readlink -f "$build/src/cli/mpisweep")
logs=$(mktemp -d /tmp/mpisweep-against-XXXXXX)
echo "logs in $logs"

reap() {
  local mine sid p c
  mine=$(ps -o sid= -p $$ | tr -d ' ')
  for p in $(ps -eo pid --no-headers); do
    [ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$other" ] || continue
    sid=$(ps -o sid= -p "$p" | tr -d ' ')
    if [ -z "$sid" ] || [ "$sid" = "$mine" ]; then
      kill -9 "$p" 2>/dev/null
      continue
    fi
    for c in $(ps -eo pid,sid --no-headers | awk -v s="$sid" '$2 == s {print $1}'); do kill -9 "$c" 2>/dev/null; done
  done
}

ctest --test-dir "$build" -N -V -R "$regex" | sed -n 's/^[0-9]*: Test command: //p' >"$logs/commands"
ctest --test-dir "$build" -N -R "$regex" | sed -n 's/^ *Test *#[0-9]*: //p' >"$logs/names"
paste -d '\t' "$logs/names" "$logs/commands" | while IFS=$'\t' read -r name command; do
  command=${command//$ours/$other}
  folder=$build/tests/faults
  [[ $name == nodes.* ]] && folder=$build/tests/nodes
  start=$(date +%s)
  (cd "$folder" && eval timeout 400 "$command") >"$logs/$name.log" 2>&1 </dev/null
  status=$?
  reap
  first=$(grep -m1 -E '^[A-Za-z.]*(Error|Exception)|^skipped' "$logs/$name.log" | cut -c1-300)
  echo "$name exit=$status $(($(date +%s) - start))s ${first:-(passed)}"
done
