#!/usr/bin/env bash
# torch checkpoints written by tools/st2torch from mkfixture safetensors inputs, under OUT/st2torch/:
# every mode (protocols 2-5, --lightning, --archive-name, --legacy, --deflate, --no-byteorder) on
# small random inputs (F16, F32 + odd shapes, BF16, a >1000-tensor LoRA), SD 1.5 full key lists
# with sparse data, and > 4 GiB sparse F32 SD 1.5 with EMA and a 4 GiB storage (ZIP64; no disk).
# OUT/st2torch/pairs.tsv lists: output, its safetensors input, "torch" when the output is small
# enough for tests/torch/check_st2torch.py to load with the real torch, else "-".
set -euo pipefail
build=$(cd "$1" && pwd) out=$2/st2torch shared=$3
export CKPT_SHARED=$shared
mk=$build/tools/mkfixture st=$build/tools/st2torch
mkdir -p "$out"
cd "$out"
: > pairs.tsv
sd15=(--keys UNET-v1-SD:model.diffusion_model. --keys VAE-v1-SD:first_stage_model.
      --keys CLIP-v1-SD:cond_stage_model.transformer.text_model.)
# (mkfixture applies --dtype/--only to the --keys that follow them)
$mk -o in-f16.safetensors --force --seed 11 --data random --dtype F16 --only encoder.down.0 \
  --keys VAE-v1-SD
$mk -o in-f32.safetensors --force --seed 12 --data random --dtype F32 --only encoder.down.0 \
  --keys VAE-v1-SD --tensor extra.ids:I64:1,77 --tensor extra.empty:F32:0,4 \
  --tensor extra.vec:I32:5
$mk -o in-bf16.safetensors --force --seed 13 --data random --dtype BF16 --only encoder.down.0 \
  --keys VAE-v1-SD
$mk -o in-lora.safetensors --force --seed 14 --rank 4 --data random --dtype F16 \
  --keys LoRA-v1A-UNET --keys LoRA-v1A-CLIP --keys LoRA-v1A-UNET:te2_
$mk -o in-sd15-f16.safetensors --force --seed 15 --data sparse --dtype F16 "${sd15[@]}"
# one storage of more than 4 GiB (a ZIP64 size, not only offsets), then one after it
$mk -o in-huge.safetensors --force --data sparse --tensor a.huge:F32:1074000000 \
  --tensor b.small:F16:3,5
# SD 1.5 fp32 with its EMA weights (as the original sd-v1-5.ckpt): 7.7 GB, past 4 GiB
$mk -o in-sd15-ema-f32.safetensors --force --seed 16 --data sparse --dtype F32 "${sd15[@]}" \
  --keys UNET-v1-EMA:model_ema.

w() { # w INPUT OUTPUT TORCH ARGS...
  local in=$1 o=$2 t=$3
  shift 3
  "$st" "$in" -o "$o" --force "$@"
  printf '%s\t%s\t%s\n' "$o" "$in" "$t" >> pairs.tsv
}
for p in 2 3 4 5; do
  w in-f16.safetensors f16-p$p.ckpt torch --protocol $p
  w in-f16.safetensors f16-legacy-p$p.pt torch --legacy --protocol $p
done
w in-f16.safetensors f16-lightning.ckpt torch --lightning 470000 --archive-name archive
w in-f16.safetensors f16-lightning-legacy.ckpt torch --lightning 470000 --legacy
w in-f16.safetensors f16-deflate.ckpt torch --deflate
w in-f16.safetensors f16-torch113.ckpt torch --no-byteorder
w in-f32.safetensors f32.ckpt torch
w in-f32.safetensors f32-legacy.pt torch --legacy
w in-f32.safetensors f32-deflate-p4.ckpt torch --deflate --protocol 4
w in-bf16.safetensors bf16.ckpt torch
w in-bf16.safetensors bf16-p5-lightning.ckpt torch --protocol 5 --lightning 1000
w in-lora.safetensors lora-p2.pt torch --no-byteorder
w in-lora.safetensors lora-p4.pt torch --protocol 4
w in-sd15-f16.safetensors sd15-f16.ckpt - --archive-name archive --lightning 470000
w in-sd15-f16.safetensors sd15-f16-legacy.ckpt - --legacy
w in-sd15-ema-f32.safetensors sd15-ema-f32-zip64.ckpt -
w in-huge.safetensors huge-zip64.ckpt -
w in-huge.safetensors huge-legacy.pt - --legacy
