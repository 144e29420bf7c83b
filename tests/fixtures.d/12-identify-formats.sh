#!/usr/bin/env bash
# identify across formats: the same models as torch zip (.ckpt, Lightning wrapper), legacy
# torch, GGUF (city96-style bare UNet names with general.architecture; sd.cpp-style full names
# and no key/values) and a diffusers folder, into OUT/identify/ beside the safetensors fixtures
# of 10-identify.sh (each with a golden in tests/identify/golden/).
set -euo pipefail
build=$1 out=$2 shared=$3
src=$(cd "$(dirname "$0")/../.." && pwd)
export CKPT_SHARED=$shared
mk=$build/tools/mkfixture st2torch=$build/tools/st2torch st2gguf=$build/tools/st2gguf
d=$out/identify
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$d"
SD1="--keys UNET-v1-SD:model.diffusion_model. --keys VAE-v1-SD:first_stage_model. --keys CLIP-v1-SD:cond_stage_model.transformer.text_model."
$mk -o "$tmp/sd1.safetensors" --data sparse --seed 21 $SD1
$st2torch "$tmp/sd1.safetensors" -o "$d/format-sd15-lightning.ckpt" --lightning 470000 --archive-name archive
$st2torch "$tmp/sd1.safetensors" -o "$d/format-sd15-legacy.pt" --legacy
$mk -o "$tmp/v2.safetensors" --data sparse --seed 22 --keys UNET-v2-Inpainting:model.diffusion_model. \
  --keys VAE-v1-SD:first_stage_model. --keys CLIP-v2-SD:cond_stage_model.model.
$st2torch "$tmp/v2.safetensors" -o "$d/format-sd2-inpainting.ckpt" --protocol 4
$mk -o "$tmp/sdxl-unet.safetensors" --data sparse --seed 23 --keys UNET-XL-SD:
$st2gguf -i "$tmp/sdxl-unet.safetensors" -o "$d/format-sdxl-unet-Q5_K.gguf" --sparse --arch sdxl --quant Q5_K
$st2gguf -i "$tmp/sd1.safetensors" -o "$d/format-sdcpp-sd1-F16.gguf" --sparse
$mk -o "$tmp/flux.safetensors" --dtype BF16 --data sparse --keys "$src/tests/data/flux-dev-2blocks.txt"
$st2gguf -i "$tmp/flux.safetensors" -o "$d/format-flux-dev-Q8_0.gguf" --sparse --arch flux --quant Q8_0 --float F32
py=/usr/bin/python3
[ -x $py ] || py=python3
$py "$src/tests/fixtures.d/diffusers_folders.py" "$build" "$tmp/df" "$shared" >/dev/null
mv "$tmp/df/diffusers/sd15" "$d/format-diffusers-sd15"
