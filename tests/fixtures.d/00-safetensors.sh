#!/usr/bin/env bash
# safetensors fixtures: corrupt/odd files (tests/safetensors/make_corrupt.py) and real-shape
# checkpoints from the reference key lists (tools/mkfixture).
set -euo pipefail
build=$1 out=$2 shared=$3
src=$(cd "$(dirname "$0")/../.." && pwd)
python3 "$src/tests/safetensors/make_corrupt.py" "$out"
export CKPT_SHARED=$shared
mk=$build/tools/mkfixture
d=$out/models
mkdir -p "$d"
$mk -o "$d/sd15-pruned-fp16.safetensors" --seed 1 --data sparse \
  --keys UNET-v1-SD:model.diffusion_model. --keys VAE-v1-SD:first_stage_model. \
  --keys CLIP-v1-SD:cond_stage_model.transformer.text_model. \
  --meta "modelspec.architecture=stable-diffusion-v1" --meta "modelspec.title=Demo SD 1.5"
$mk -o "$d/sdxl-base-sparse.safetensors" --seed 2 --data sparse \
  --keys UNET-XL-SD:model.diffusion_model. --keys VAE-v1-SD:first_stage_model. \
  --keys CLIP-v1-SD:conditioner.embedders.0.transformer.text_model. \
  --keys CLIP-XL-SD:conditioner.embedders.1.model.
$mk -o "$d/lora-sd15-rank4.safetensors" --seed 3 --rank 4 --data random --dtype F16 \
  --keys LoRA-v1A-UNET --keys LoRA-v1A-CLIP --meta ss_network_dim=4 --meta ss_network_alpha=4
