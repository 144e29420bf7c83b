#!/usr/bin/env bash
# Lineage fixtures: synthetic SD1 and SDXL families with ground truth (tests/lineage/make_family.py),
# and a mixed-dtype file (BF16 VAE, F32 UNet tensors of odd sizes) for the kernel test.
set -euo pipefail
build=$1 out=$2 shared=$3
/usr/bin/python3 "$(dirname "$0")/../lineage/make_family.py" "$shared" "$out/lineage"
CKPT_SHARED=$shared "$build/tools/mkfixture" -o "$out/lineage/mixed.safetensors" --force --seed 5 \
  --data random --dtype BF16 --only decoder.up.0 --keys VAE-v1-SD:first_stage_model. \
  --tensor model.diffusion_model.input_blocks.1.0.in_layers.0.weight:F32:37,3 \
  --tensor model.diffusion_model.input_blocks.1.0.in_layers.2.weight:F32:320,321 \
  --tensor model.diffusion_model.middle_block.0.in_layers.2.weight:F32:1281,1283 >/dev/null
