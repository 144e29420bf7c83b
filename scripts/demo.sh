#!/usr/bin/env bash
# make demo: generate the demo model library and run ckptdb's main job over it.
set -euo pipefail
build=${1:-build}
cd "$(dirname "$0")/.."
ck=$build/ckptdb
lib=demo/models
bash scripts/make-demo-library.sh "$build" "$lib"
files="$(find "$lib" -type f -not -path '*/diffusers/*' | sort) $lib/diffusers/stable-diffusion-v1-5"
echo
echo "== ckptdb inspect --summary (headers only; the library is $(du -sh --apparent-size "$lib" | cut -f1) of sparse files)"
$ck inspect --summary "$lib/Stable-diffusion/sd_xl_base_1.0.safetensors"
echo
echo "== ckptdb identify: what every file is"
$ck identify $files
echo
echo "== ckptdb hash (every community hash in one pass)"
$ck hash "$lib"/Lora/* "$lib"/VAE/* "$lib"/embeddings/* "$lib/Stable-diffusion/v1-5-pruned-emaonly.safetensors"
