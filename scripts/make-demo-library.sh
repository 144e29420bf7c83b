#!/usr/bin/env bash
# Generates the demo model library: files with realistic names, the real tensor names and shapes
# of each family (../shared/ref/keys), sparse data (a 7 GB SDXL checkpoint costs no disk), and
# the metadata real tools write. usage: make-demo-library.sh BUILD OUT
set -euo pipefail
build=$1 out=$2
src=$(cd "$(dirname "$0")/.." && pwd)
export CKPT_SHARED=${CKPT_SHARED:-$src/../shared}
mk=$build/tools/mkfixture
rm -rf "$out"
mkdir -p "$out/Stable-diffusion" "$out/Lora" "$out/VAE" "$out/embeddings"
S=$out/Stable-diffusion L=$out/Lora

SD1="--keys UNET-v1-SD:model.diffusion_model. --keys VAE-v1-SD:first_stage_model. --keys CLIP-v1-SD:cond_stage_model.transformer.text_model."
SDXL="--keys UNET-XL-SD:model.diffusion_model. --keys VAE-v1-SD:first_stage_model. --keys CLIP-v1-SD:conditioner.embedders.0.transformer.text_model. --keys CLIP-XL-SD:conditioner.embedders.1.model."

$mk -o "$S/v1-5-pruned-emaonly.safetensors" --data sparse --seed 1 $SD1
$mk -o "$S/realisticVision_v51.safetensors" --data sparse --seed 2 $SD1 \
  --meta "modelspec.title=Realistic Vision V5.1" --meta "modelspec.architecture=stable-diffusion-v1"
$mk -o "$S/dreamshaper_8Inpainting.safetensors" --data sparse --seed 3 \
  --keys UNET-v1-Inpainting:model.diffusion_model. --keys VAE-v1-SD:first_stage_model. \
  --keys CLIP-v1-SD:cond_stage_model.transformer.text_model.
$mk -o "$S/sd_xl_base_1.0.safetensors" --data sparse --seed 4 $SDXL \
  --meta "modelspec.architecture=stable-diffusion-xl-v1-base" --meta "modelspec.title=SDXL 1.0"
$mk -o "$S/ponyDiffusionV6XL.safetensors" --data sparse --seed 5 $SDXL \
  --meta "modelspec.title=Pony Diffusion V6 XL"
$mk -o "$S/animeMix_v3-fp32.safetensors" --data sparse --seed 6 --dtype F32 $SD1 \
  --meta 'sd_merge_recipe={"type":"webui","primary_model_hash":"aaaa","secondary_model_hash":"bbbb","interp_method":"Weighted sum","multiplier":0.3}'
$mk -o "$L/detailTweaker_sd15.safetensors" --data random --seed 7 --rank 8 \
  --keys LoRA-v1A-UNET --keys LoRA-v1A-CLIP \
  --meta ss_network_module=networks.lora --meta ss_network_dim=8 --meta ss_network_alpha=8 \
  --meta ss_base_model_version=sd_v1 --meta "ss_output_name=detailTweaker"
$mk -o "$out/VAE/vae-ft-mse-840000-ema-pruned.safetensors" --data sparse --seed 8 \
  --keys VAE-v1-SD
$mk -o "$out/embeddings/EasyNegative.safetensors" --data random --seed 9 \
  --tensor "emb_params:F32:8,768"
# other formats: a Lightning-era .ckpt (torch zip, as torch.save writes it), a city96-style
# Flux GGUF, and a diffusers pipeline folder
mkdir -p "$out/unet" "$out/diffusers"
$mk -o "$out/.sd-v1-4.src.safetensors" --data sparse --seed 10 $SD1
$build/tools/st2torch "$out/.sd-v1-4.src.safetensors" -o "$S/sd-v1-4.ckpt" --lightning 470000 \
  --archive-name archive
rm -f "$out/.sd-v1-4.src.safetensors"
$mk -o "$out/.flux.src.safetensors" --dtype BF16 --data sparse \
  --keys "$src/tests/data/flux-dev-2blocks.txt"
$build/tools/st2gguf -i "$out/.flux.src.safetensors" -o "$out/unet/flux1-dev-Q8_0.gguf" --sparse \
  --arch flux --quant Q8_0 --float F32
rm -f "$out/.flux.src.safetensors"
tmp=$(mktemp -d)
py=/usr/bin/python3
[ -x $py ] || py=python3
$py "$src/tests/fixtures.d/diffusers_folders.py" "$build" "$tmp" "$CKPT_SHARED" >/dev/null
mv "$tmp/diffusers/sd15" "$out/diffusers/stable-diffusion-v1-5"
rm -rf "$tmp"
echo "demo library: $(find "$out" -type f | wc -l) files in $out" >&2
