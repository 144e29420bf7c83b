#!/usr/bin/env bash
# safety fixtures: adversarial pickles and containers assembled from bytes by
# tests/safety/make_malicious.py (never pickled by Python, never unpickled) under OUT/safety/.
set -euo pipefail
out=$2/safety
rm -rf "$out"
mkdir -p "$out"
/usr/bin/python3 "$(dirname "$0")/../safety/make_malicious.py" "$out"
