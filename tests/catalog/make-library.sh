#!/usr/bin/env bash
# A small model library for the catalog tests: tiny safetensors files (a few KB each) with the
# metadata real tools write (modelspec, A1111 merge recipes, kohya ss_* with caption tag
# frequencies), Civitai Helper / Stability Matrix / A1111 sidecars, previews, an extension-less
# model, a broken file, a duplicate, a symlink loop and files that are not models.
# usage: make-library.sh BUILD OUT
set -euo pipefail
build=$1 out=$2
mk=$build/tools/mkfixture
rm -rf "$out"
mkdir -p "$out/Stable-diffusion/sub" "$out/Lora/styles" "$out/embeddings" "$out/misc"
S=$out/Stable-diffusion L=$out/Lora
t() { echo "--tensor model.diffusion_model.input_blocks.0.0.weight:F16:$1"; }
png() { echo 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==' | base64 -d > "$1"; }

$mk -o "$S/realisticVision_v51.safetensors" --seed 11 $(t 8,4,3,3) \
  --meta "modelspec.title=Realistic Vision V5.1" --meta "modelspec.architecture=stable-diffusion-v1"
cat > "$S/realisticVision_v51.civitai.info" <<'J'
{"id": 130072, "modelId": 4201, "name": "V5.1 (VAE)", "baseModel": "SD 1.5",
 "trainedWords": ["analog style", "modelshoot style"],
 "description": "<p>Photorealistic portraits</p>",
 "model": {"name": "Realistic Vision V5.1", "type": "Checkpoint", "checkpointType": "Trained",
           "tags": ["photorealistic", "portraits", "base model"]}}
J
png "$S/realisticVision_v51.preview.png"

$mk -o "$S/animeMix_v3.safetensors" --seed 12 $(t 8,4,3,5) \
  --meta 'sd_merge_recipe={"type":"webui","primary_model_hash":"aaaa000000000000000000000000000000000000000000000000000000000001","secondary_model_hash":"bbbb000000000000000000000000000000000000000000000000000000000002","tertiary_model_hash":null,"interp_method":"Weighted sum","multiplier":0.3}' \
  --meta 'sd_merge_models={"aaaa000000000000000000000000000000000000000000000000000000000001":{"name":"anything-v5","legacy_hash":"11111111"},"bbbb000000000000000000000000000000000000000000000000000000000002":{"name":"counterfeit-v3","legacy_hash":"22222222"}}'
png "$S/animeMix_v3.png"

$mk -o "$S/sub/ponyDiffusionV6XL.safetensors" --seed 13 $(t 8,4,3,7)
cat > "$S/sub/ponyDiffusionV6XL.cm-info.json" <<'J'
{"ModelId": 257749, "VersionId": 290640, "ModelName": "Pony Diffusion V6 XL",
 "ModelDescription": "A versatile SDXL fine-tune", "Tags": ["anime", "base model"],
 "ModelType": "Checkpoint", "BaseModel": "Pony", "TrainedWords": ["score_9"], "Source": "Civitai"}
J

$mk -o "$S/pixarDream3D_v2.safetensors" --seed 14 $(t 8,4,3,9)
cat > "$S/pixarDream3D_v2.json" <<'J'
{"description": "3D cartoon characters", "activation text": "pixar style || 3d render",
 "sd version": "SD1", "notes": "good at cfg 5"}
J
echo "A render-look checkpoint." > "$S/pixarDream3D_v2.description.txt"

$mk -o "$L/detailTweaker.safetensors" --seed 15 --tensor lora_unet_down.lora_down.weight:F16:4,32 \
  --meta ss_network_module=networks.lora --meta ss_network_dim=4 --meta ss_output_name=detailTweaker \
  --meta ss_training_started_at=1700000000 \
  --meta 'ss_tag_frequency={"10_chars":{"1girl":40,"solo":35,"long hair":20,"smile":12,"looking_at_viewer":9}}'
$mk -o "$L/styles/filmLook.safetensors" --seed 16 --tensor lora_unet_up.lora_up.weight:F16:32,4 \
  --meta ss_network_module=networks.lora --meta ss_training_started_at=1700000500 \
  --meta 'ss_tag_frequency={"5_photos":{"raw photo":30,"dslr":22,"film grain":10,"a man":5}}' \
  --meta "modelspec.trigger_phrase=filmlook"

$mk -o "$out/embeddings/EasyNegative.safetensors" --seed 17 --tensor emb_params:F32:8,16
echo "negative embedding for anime models" > "$out/embeddings/EasyNegative.txt"
# a model without a model extension: found by its content
$mk -o "$out/misc/watercolorLandscape" --seed 18 $(t 8,4,3,11)
# a duplicate (same bytes, another name) and a broken file
cp "$L/detailTweaker.safetensors" "$out/misc/detailTweaker-copy.safetensors"
printf 'this is not a model at all, just text with a model extension' > "$out/misc/broken.safetensors"
# things that are not models, and a symlink loop
echo "readme" > "$out/README.md"
echo "not a model" > "$out/misc/notes.bin.txt"
ln -s .. "$out/misc/loop"
