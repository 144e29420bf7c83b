#!/usr/bin/env bash
# The issue 9 evaluation: `ckptdb lineage` on every synthetic SD1 and SDXL model
# (tests/lineage/make_family.py, ground truth in truth.json) against the rest of its family.
# tests/lineage/evaluate.py asserts the targets: linear merges (weighted sum, add-difference,
# block-weighted, merge of merges) with exactly the recipe's parents and every determined
# per-block weight within 0.01; TIES/DARE flagged non-linear with a recipe parent named; every
# fine-tune (and the baked LoRA) a fine-tune of the right base, never a merge; right parents
# top-1 in at least 95% of merges.
set -uo pipefail
. "$(dirname "$0")/common.bash"
if out=$(/usr/bin/python3 "$CKPT_SRC/tests/lineage/evaluate.py" "$CKPT_BIN" "$CKPT_FIXTURES/lineage" 2>&1); then
  ok evaluation
else
  fail evaluation "$out"
fi
echo "$out" | tail -1
finish
