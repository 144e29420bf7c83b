#!/usr/bin/env bash
# Fingerprinting cost vs the hashing pass on one SD1-sized fp16 file (mkfixture, random data):
# `ckptdb hash FILE` against `ckptdb lineage FILE --candidates FILE` (two fingerprints of the
# same file). Not part of the pass/fail suite. usage: bench/lineage.sh [BUILD]
set -euo pipefail
b=${1:-build}
f=$(mktemp --suffix=.safetensors)
trap 'rm -f "$f"' EXIT
CKPT_SHARED=${CKPT_SHARED:-../shared} "$b/tools/mkfixture" -o "$f" --force --dtype F16 --data random \
  --keys UNET-v1-SD:model.diffusion_model. --keys VAE-v1-SD:first_stage_model. \
  --keys CLIP-v1-SD:cond_stage_model.transformer.text_model. >/dev/null
cat "$f" > /dev/null
t0=$(date +%s.%N); "$b/ckptdb" hash "$f" >/dev/null; t1=$(date +%s.%N)
"$b/ckptdb" lineage "$f" --candidates "$f" >/dev/null; t2=$(date +%s.%N)
echo "hash: $(echo "$t1 - $t0" | bc) s; one fingerprint: $(echo "($t2 - $t1) / 2" | bc -l | cut -c1-6) s"
