#!/usr/bin/env bash
# make demo: generate the demo model library and run ckptdb's main job over it.
set -euo pipefail
build=${1:-build}
cd "$(dirname "$0")/.."
ck=$build/ckptdb
lib=demo/models
bash scripts/make-demo-library.sh "$build" "$lib"
models=$(find "$lib" -type f -not -path '*/diffusers/*' \( -name '*.safetensors' -o -name '*.ckpt' \
  -o -name '*.gguf' \) | sort)
files="$models $lib/diffusers/stable-diffusion-v1-5"
echo
echo "== ckptdb inspect --summary (headers only; the library is $(du -sh --apparent-size "$lib" | cut -f1) of sparse files)"
$ck inspect --summary "$lib/Stable-diffusion/sd_xl_base_1.0.safetensors"
echo
echo "== ckptdb identify: what every file is"
$ck identify $files || echo "(exit status $?: a file could not be read as a model; 'check' below says why)"
echo
echo "== ckptdb check: is each file safe to open in a Python UI?"
$ck check $models || echo "(exit status $?: a file is not safe)"
echo
echo "== ckptdb hash (every community hash in one pass)"
$ck hash $(find "$lib/Lora" "$lib/VAE" "$lib/embeddings" -name '*.safetensors' | sort) "$lib/Stable-diffusion/v1-5-pruned-emaonly.safetensors"

echo
echo "== ckptdb scan: the catalog (demo/catalog.sqlite; --no-hash: the sparse library is tens of GB)"
rm -f demo/catalog.sqlite demo/catalog.sqlite-*
export CKPTDB_DB=demo/catalog.sqlite
# the family tree first, hashed: its lineage fingerprints ride on the hashing pass (the
# --no-hash scan after it finds these files unchanged and keeps what was measured)
$ck scan "$lib/Stable-diffusion/family" >/dev/null
$ck scan --no-hash "$lib" || echo "(exit status $?: a file could not be read as a model; it is recorded with its safety verdict)"
echo
echo "== ckptdb list (~value: suggested, not chosen)"
$ck list
echo
echo "== ckptdb choose --output photorealistic --family sdxl"
$ck choose --output photorealistic --family sdxl --top 3
echo
echo "== ckptdb show majicmixRealistic_v7"
$ck show majicmixRealistic_v7
echo
echo "== ckptdb lineage lineageBlendMix_v10 (from the weights alone)"
$ck lineage lineageBlendMix_v10
echo
echo "== ckptdb similar lineagePortraitTune_v10"
$ck similar --top 3 lineagePortraitTune_v10
echo
echo "== ckptdb show lineageBlendMix_v10 (the finding as a suggestion, with its parents)"
$ck show lineageBlendMix_v10 | sed -n '/-- suggested/,$p'
echo "== ckptdb organize: a plan that lays the checkpoints and LoRAs out by output and realism"
echo "   (the suggested output/realism accepted first; nothing moves without --apply)"
for id in $($ck list --csv | tail -n +2 | cut -d, -f1); do
  $ck accept "$id" output realism >/dev/null 2>&1 || true
done
$ck organize --into demo/sorted --layout by-output-realism "$lib/Stable-diffusion" "$lib/Lora"
echo
echo "== ckptdb serve: the page over this catalog"
echo "Run:  $ck --db demo/catalog.sqlite serve"
echo "then open http://127.0.0.1:7861/ (set CKPT_DEMO_SERVE=1 to start it here; Ctrl-C stops)"
if [ "${CKPT_DEMO_SERVE:-0}" = 1 ]; then
  exec "$ck" --db demo/catalog.sqlite serve
fi
