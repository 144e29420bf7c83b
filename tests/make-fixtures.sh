#!/usr/bin/env bash
# Generates every test fixture into $2 with the project's own tools (built in $1/tools), from the
# real key lists in $3/ref/keys. Deterministic: fixed seeds, no network, no downloaded weights.
set -euo pipefail
build=$1 out=$2 shared=$3
rm -rf "$out"
mkdir -p "$out"
for gen in "$(dirname "$0")"/fixtures.d/*.sh; do
  [ -e "$gen" ] || continue
  bash "$gen" "$build" "$out" "$shared"
done
echo "fixtures: $(find "$out" -type f | wc -l) files in $out"
