#!/usr/bin/env bash
# Runs one libFuzzer target for a fixed time over a scratch corpus seeded with its saved corpus
# (fuzz/corpus/NAME) and the small generated fixtures. New crashes land in ARTIFACTS and fail
# the run; add them to fuzz/corpus/NAME once fixed so the replay test keeps them fixed.
# usage: run.sh TARGET_BINARY NAME SECONDS FIXTURES_DIR ARTIFACTS_DIR
set -euo pipefail
bin=$1 name=$2 secs=$3 fixtures=$4 artifacts=$5
src=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$artifacts"
if [ -d "$src/corpus/$name" ]; then cp -r "$src/corpus/$name/." "$work/corpus/"; fi
if [ -d "$fixtures" ]; then
  find "$fixtures" -type f -size -256k | head -n 500 | while read -r f; do
    cp "$f" "$work/corpus/fx-$(echo "$f" | md5sum | cut -c1-12)"
  done
fi
"$bin" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -max_len=262144 \
  -print_final_stats=1 -artifact_prefix="$artifacts/$name-" "$work/corpus" 2>"$work/log" || {
  tail -n 40 "$work/log" >&2
  echo "fuzz $name: crash or limit hit; artifacts in $artifacts" >&2
  exit 1
}
grep -E '^stat::number_of_executed_units|^Done' "$work/log" | tr '\n' ' '
echo
