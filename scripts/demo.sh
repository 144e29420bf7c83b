#!/usr/bin/env bash
# make demo: generate the demo model library and run ckptdb's main job over it.
set -euo pipefail
build=${1:-build}
cd "$(dirname "$0")/.."
ck=$build/ckptdb
lib=demo/models
bash scripts/make-demo-library.sh "$build" "$lib"
files="$(find "$lib" -type f -not -path '*/diffusers/*' \( -name '*.safetensors' -o -name '*.ckpt' \
  -o -name '*.gguf' \) | sort) $lib/diffusers/stable-diffusion-v1-5"
echo
echo "== ckptdb inspect --summary (headers only; the library is $(du -sh --apparent-size "$lib" | cut -f1) of sparse files)"
$ck inspect --summary "$lib/Stable-diffusion/sd_xl_base_1.0.safetensors"
echo
echo "== ckptdb identify: what every file is"
$ck identify $files || echo "(exit status $?: a file could not be read as a model; 'check' below says why)"
echo
echo "== ckptdb check: is each file safe to open in a Python UI?"
$ck check $(find "$lib" -type f -not -path '*/diffusers/*' | sort) || echo "(exit status $?: a file is not safe)"
echo
echo "== ckptdb hash (every community hash in one pass)"
$ck hash "$lib"/Lora/* "$lib"/VAE/* "$lib"/embeddings/* "$lib/Stable-diffusion/v1-5-pruned-emaonly.safetensors"

echo
echo "== ckptdb scan: the catalog (demo/catalog.sqlite; --no-hash: the sparse library is tens of GB)"
rm -f demo/catalog.sqlite demo/catalog.sqlite-*
export CKPTDB_DB=demo/catalog.sqlite
$ck scan --no-hash "$lib"
echo
echo "== ckptdb list (~value: suggested, not chosen)"
$ck list
echo
echo "== ckptdb choose --output photorealistic --family sdxl"
$ck choose --output photorealistic --family sdxl --top 3
echo
echo "== ckptdb show majicmixRealistic_v7"
$ck show majicmixRealistic_v7
