#!/usr/bin/env bash
# Formats every C++ source with the root .clang-format; --check only reports (exit 1 if any
# file would change).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null || bash scripts/install-deps.sh --format
mode=(-i)
[ "${1:-}" = "--check" ] && mode=(--dry-run -Werror)
git ls-files '*.cpp' '*.hpp' '*.cu' '*.h' | xargs clang-format "${mode[@]}"
