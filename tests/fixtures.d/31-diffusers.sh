#!/usr/bin/env bash
# diffusers folders (OUT/diffusers/): SD 1.5-shaped pipelines (plain, fp16 variant, sharded)
# and the broken folders of bad/EXPECT.tsv. See diffusers_folders.py.
set -euo pipefail
build=$1 out=$2 shared=$3
py=/usr/bin/python3
[ -x $py ] || py=python3
$py "$(dirname "$0")/diffusers_folders.py" "$build" "$out" "$shared"
