#!/usr/bin/env bash
# Lineage fixtures: synthetic SD1 and SDXL families with ground truth (tests/lineage/make_family.py).
set -euo pipefail
/usr/bin/python3 "$(dirname "$0")/../lineage/make_family.py" "$3" "$2/lineage"
