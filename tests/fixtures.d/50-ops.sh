#!/usr/bin/env bash
# Fixtures for merge/convert/prune/extract/bake (issue 7), under OUT/ops/: three small SD1.5-shaped
# checkpoints with real key names and shapes (a subset of the key lists: the first input
# blocks, the middle block's attention, the output conv, a VAE block, two CLIP layers), random
# fp16 data with different seeds; one with float position_ids; one with EMA copies and junk; a
# torch .ckpt of the first (st2torch, lightning layout with global_step, deflated and not).
set -euo pipefail
build=$(cd "$1" && pwd) out=$2/ops shared=$3
export CKPT_SHARED=$shared
mkdir -p "$out"
mk=$build/tools/mkfixture st=$build/tools/st2torch
U=model.diffusion_model. V=first_stage_model. T=cond_stage_model.transformer.text_model.
sub() {
  echo --only input_blocks.1. --keys UNET-v1-SD:$U --only input_blocks.0. --keys UNET-v1-SD:$U \
    --only time_embed --keys UNET-v1-SD:$U --only middle_block.1.proj --keys UNET-v1-SD:$U \
    --only out.2.weight --keys UNET-v1-SD:$U --only decoder.conv_out --keys VAE-v1-SD:$V \
    --only encoder.layers.0. --keys CLIP-v1-SD:$T --only embeddings.position --keys CLIP-v1-SD:$T
}
for s in 1 2 3; do
  "$mk" -o "$out/m$s.safetensors" --force --data random --dtype F16 --seed $s $(sub) >/dev/null
done
"$mk" -o "$out/m1-f32.safetensors" --force --data random --dtype F32 --seed 1 $(sub) >/dev/null
"$mk" -o "$out/brokenpos.safetensors" --force --data random --dtype F16 --seed 4 \
  --position-ids broken $(sub) >/dev/null
"$mk" -o "$out/ema.safetensors" --force --data random --dtype F32 --seed 5 $(sub) \
  --only input_blocks1 --keys UNET-v1-EMA:model_ema.diffusion_model:nodots \
  --tensor optimizer_states.0.exp_avg:F32:16 --tensor model_ema.decay:F32:0 >/dev/null
"$st" "$out/m1-f32.safetensors" -o "$out/m1.ckpt" --force --lightning 1234 >/dev/null
"$st" "$out/m1-f32.safetensors" -o "$out/m1-deflate.ckpt" --force --deflate >/dev/null
