#!/usr/bin/env bash
# The library reports through Options::observer and never writes to stdout or stderr itself
# (docs/api.md, "Observing a sweep"). Only the CLI and the StderrObserver, the default
# observer that a user may replace, name a standard stream.
set -euo pipefail
src=$1
hits=$(grep -rnE 'std::(cerr|cout|clog)|(^|[^a-z_])(printf|puts|perror|fputs|fprintf)\(' \
         "$src" --include='*.cpp' --include='*.hpp' --include='*.cu' |
       grep -v "^$src/cli/" | grep -v "^$src/runtime/stderr_observer.cpp:" || true)
if [[ -n $hits ]]; then
  echo "library code that writes to a standard stream (report through the observer instead):"
  echo "$hits"
  exit 1
fi
