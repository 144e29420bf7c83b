#!/usr/bin/env bash
# make demo: generate the demo model library and run ckptdb's main job over it.
set -euo pipefail
build=${1:-build}
cd "$(dirname "$0")/.."
ck=$build/ckptdb
lib=demo/models
bash scripts/make-demo-library.sh "$build" "$lib"
echo
echo "== ckptdb inspect --summary (headers only; the files are $(du -sh --apparent-size "$lib" | cut -f1) of sparse data)"
for f in $(find "$lib" -type f | sort); do
  $ck inspect --summary "$f" | sed -n '1,5p'
  echo
done

echo "== ckptdb hash (every community hash in one pass)"
$ck hash "$lib"/Lora/* "$lib"/VAE/* "$lib"/embeddings/* "$lib/Stable-diffusion/v1-5-pruned-emaonly.safetensors"
