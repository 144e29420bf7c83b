#!/usr/bin/env bash
# GGUF fixtures (OUT/gguf/): Flux-, SD1- and SDXL-like files as city96's converter writes them
# (bare UNet names, general.architecture, quantized weights + F32/F16 rest, orig_shape KVs), an
# sd.cpp-style file (full checkpoint names, no KV at all), a tiny file with real data, and the
# hand-made edge and failure cases of gguf_cases.py (cases/EXPECT.tsv). Big ones are sparse.
set -euo pipefail
build=$1 out=$2 shared=$3
here=$(cd "$(dirname "$0")" && pwd)
mk=$build/tools/mkfixture st2gguf=$build/tools/st2gguf
export CKPT_SHARED=$shared
d=$out/gguf
mkdir -p "$d/src"
py=/usr/bin/python3
[ -x $py ] || py=python3

# sources (safetensors)
"$mk" -o "$d/src/flux.safetensors" --dtype BF16 --data sparse --keys "$here/../data/flux-dev-2blocks.txt"
"$mk" -o "$d/src/sd1-unet.safetensors" --data sparse --keys UNET-v1-SD:model.diffusion_model.
"$mk" -o "$d/src/sdxl-unet.safetensors" --data sparse --keys UNET-XL-SD:model.diffusion_model.
"$mk" -o "$d/src/sd1-full.safetensors" --data sparse --keys UNET-v1-SD:model.diffusion_model. \
  --keys VAE-v1-SD:first_stage_model. --keys CLIP-v1-SD:cond_stage_model.transformer.text_model.
"$mk" -o "$d/src/tiny.safetensors" --dtype F32 --seed 7 --tensor blk.0.weight:F32:64,256 \
  --tensor blk.0.bias:F32:64 --tensor blk.1.weight:F16:32,64 --tensor emb.weight:BF16:16,32 \
  --tensor pos:I64:1,77

# city96-style
"$st2gguf" -i "$d/src/flux.safetensors" -o "$d/flux-Q8_0.gguf" --sparse --arch flux \
  --quant Q8_0 --float F32 --u32 general.file_type=7 --orig-shape img_in.weight
"$st2gguf" -i "$d/src/flux.safetensors" -o "$d/flux-Q4_K.gguf" --sparse --arch flux \
  --quant Q4_K --float F16 --version 2
"$st2gguf" -i "$d/src/sd1-unet.safetensors" -o "$d/sd1-Q4_0.gguf" --sparse --arch sd1 \
  --strip model.diffusion_model. --quant Q4_0 --orig-shape time_embed.0.weight \
  --string-array ckptdb.test.tags=anime,photo,"a b" --f32-array ckptdb.test.scores=1000
"$st2gguf" -i "$d/src/sdxl-unet.safetensors" -o "$d/sdxl-Q5_K.gguf" --sparse --arch sdxl \
  --strip model.diffusion_model. --quant Q5_K --alignment 64
# stable-diffusion.cpp-style: full names (many longer than 64 bytes), no key/values
"$st2gguf" -i "$d/src/sd1-full.safetensors" -o "$d/sdcpp-sd1-F16.gguf" --sparse
# tiny, with real data (the tests compare tensor bytes with the source)
"$st2gguf" -i "$d/src/tiny.safetensors" -o "$d/tiny-Q8_0.gguf" --arch sd1 --quant Q8_0 \
  --meta general.name=tiny
"$st2gguf" -i "$d/src/tiny.safetensors" -o "$d/tiny-plain.gguf" --alignment 16

$py "$here/gguf_cases.py" "$out"
