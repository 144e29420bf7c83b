#!/usr/bin/env bash
# bench/views.sh BUILD: `ckptdb views` over N (default 10,000) generated catalog records (made
# by tools/catalog_gen, written in bulk; their paths need not exist, since symlinks
# do not look at their target), against `cp -rs` making the same number of symlinks from a tree
# of empty files, measured in the same run (CPU time: user + system). Not part of the pass/fail suite.
#  1. first view (every link created, grouped by output)
#  2. a re-run with nothing to change (every link checked, manifest not rewritten)
set -euo pipefail
build=${1:-build}
bin=$(realpath "$build/ckptdb")
gen=$(realpath "$build/tools/catalog_gen")
n=${N:-10000}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ckptdb-bench-views.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export CKPTDB_HOST=bench CKPTDB_DB=$tmp/catalog.sqlite
"$gen" "$CKPTDB_DB" "$n" >/dev/null
# CPU time (user + system, ms) of one run: on a shared machine the wall time is mostly waiting
ms() { /usr/bin/time -f "%U %S" -o "$tmp/cpu" "$@" >/dev/null 2>&1 || true
  awk '{ printf "%d", ($1 + $2) * 1000 }' "$tmp/cpu"; }
first=$(ms "$bin" views --ui comfyui --root "$tmp/view" --group-by by-output)
links=$(find "$tmp/view" -type l | wc -l)
again=$(ms "$bin" views --ui comfyui --root "$tmp/view" --group-by by-output)
mkdir -p "$tmp/tree"
(cd "$tmp/tree" && for i in $(seq 1 "$links"); do d=d$((i % 20)); [ -d $d ] || mkdir $d; : > $d/f$i; done)
peer=$(ms cp -rs "$tmp/tree" "$tmp/peer")
echo "views over $n records: $links links"
echo "  first view   ${first} ms   (cp -rs of $links files: ${peer} ms; ratio $(awk "BEGIN{printf \"%.2f\", $first/($peer?$peer:1)}"))"
echo "  re-run       ${again} ms   (ratio to cp -rs $(awk "BEGIN{printf \"%.2f\", $again/($peer?$peer:1)}"))"
