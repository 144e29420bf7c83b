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
# and one hostile file, the kind that has been published as a "model": a legacy torch pickle
# whose object calls posix.system (assembled from bytes by the safety tests' generator; nothing
# ever runs it)
$py "$src/tests/safety/make_malicious.py" "$tmp" >/dev/null
cp "$tmp/legacy_payload_in_object.pt" "$S/uberRealisticPornMerge_leaked.ckpt"
rm -rf "$tmp"

# ---- the collector's part: more checkpoints and LoRAs with the sidecars and metadata that
# Civitai Helper, Stability Matrix, A1111 and kohya leave behind (for `ckptdb scan`)
png() { echo 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==' | base64 -d > "$1"; }
civitai() { # FILE MODELID VERSIONID NAME CKPTTYPE BASEMODEL TAGS(json) WORDS(json)
  cat > "$1" <<J
{"id": $3, "modelId": $2, "name": "v1", "baseModel": "$6", "trainedWords": $8,
 "description": "<p>$4 from Civitai</p>",
 "model": {"name": "$4", "type": "Checkpoint", "checkpointType": "$5", "tags": $7}}
J
}
$mk -o "$S/juggernautXL_v9.safetensors" --data sparse --seed 21 $SDXL
civitai "$S/juggernautXL_v9.civitai.info" 133005 348913 "Juggernaut XL" Trained "SDXL 1.0" \
  '["photorealistic", "portraits", "base model"]' '[]'
png "$S/juggernautXL_v9.preview.png"
$mk -o "$S/RealVisXL_V4.0.safetensors" --data sparse --seed 22 $SDXL
$mk -o "$S/counterfeitV30.safetensors" --data sparse --seed 23 $SD1
civitai "$S/counterfeitV30.civitai.info" 4468 57618 "Counterfeit-V3.0" Trained "SD 1.5" \
  '["anime", "illustration"]' '[]'
png "$S/counterfeitV30.png"
$mk -o "$S/majicmixRealistic_v7.safetensors" --data sparse --seed 24 $SD1 \
  --meta 'sd_merge_recipe={"type":"webui","primary_model_hash":"1111111111111111111111111111111111111111111111111111111111111111","secondary_model_hash":"2222222222222222222222222222222222222222222222222222222222222222","interp_method":"Weighted sum","multiplier":0.45}' \
  --meta 'sd_merge_models={"1111111111111111111111111111111111111111111111111111111111111111":{"name":"chilloutmix_NiPrunedFp32Fix","legacy_hash":"fc2511737a"},"2222222222222222222222222222222222222222222222222222222222222222":{"name":"realisticVision_v51","legacy_hash":"a0f13c83"}}'
civitai "$S/majicmixRealistic_v7.civitai.info" 43331 176425 "majicMIX realistic" Merge "SD 1.5" \
  '["photorealistic", "portraits", "asian"]' '[]'
$mk -o "$S/revAnimated_v122.safetensors" --data sparse --seed 25 $SD1
civitai "$S/revAnimated_v122.civitai.info" 7371 46846 "ReV Animated" Merge "SD 1.5" \
  '["anime", "2.5d", "fantasy art", "illustration"]' '[]'
$mk -o "$S/disneyPixarCartoon_v10.safetensors" --data sparse --seed 26 $SD1
cat > "$S/disneyPixarCartoon_v10.json" <<'J'
{"description": "Pixar-like 3D cartoon characters", "activation text": "3d cartoon || pixar style",
 "sd version": "SD1", "notes": "cfg 6, 25 steps"}
J
$mk -o "$S/AOM3A1B_orangemixs.safetensors" --data sparse --seed 27 $SD1 \
  --meta 'sd_merge_models={"3333333333333333333333333333333333333333333333333333333333333333":{"name":"AbyssOrangeMix2_hard","legacy_hash":"0fc198c4"},"4444444444444444444444444444444444444444444444444444444444444444":{"name":"EerieOrangeMix","legacy_hash":"ab1d3f6e"}}'
$mk -o "$S/waiIllustriousSDXL_v110.safetensors" --data sparse --seed 28 $SDXL
cat > "$S/waiIllustriousSDXL_v110.cm-info.json" <<'J'
{"ModelId": 827184, "VersionId": 1183765, "ModelName": "WAI-NSFW-illustrious-SDXL",
 "ModelDescription": "Illustrious anime merge", "Tags": ["anime", "2d"], "ModelType": "Checkpoint",
 "BaseModel": "Illustrious", "TrainedWords": [], "Source": "Civitai"}
J
png "$S/waiIllustriousSDXL_v110.preview.png"
$mk -o "$S/epicrealism_naturalSinRC1VAE.safetensors" --data sparse --seed 29 $SD1 \
  --meta "modelspec.title=epiCRealism natural Sin" --meta "modelspec.tags=photorealistic, photo"
$mk -o "$S/dreamshaperXL_v21TurboDPMSDE.safetensors" --data sparse --seed 30 $SDXL
cat > "$S/dreamshaperXL_v21TurboDPMSDE.cm-info.json" <<'J'
{"ModelId": 112902, "VersionId": 351306, "ModelName": "DreamShaper XL",
 "ModelDescription": "general purpose SDXL, turbo", "Tags": ["base model", "fantasy art", "3d"],
 "ModelType": "Checkpoint", "BaseModel": "SDXL Turbo", "TrainedWords": [], "Source": "Civitai"}
J
echo "Recommended: DPM++ SDE Karras, 6 steps, cfg 2" > "$S/dreamshaperXL_v21TurboDPMSDE.txt"
$mk -o "$L/animeLineartStyle.safetensors" --data random --seed 31 --rank 4 \
  --keys LoRA-v1A-UNET --keys LoRA-v1A-CLIP \
  --meta ss_network_module=networks.lora --meta ss_network_dim=4 --meta ss_base_model_version=sd_v1 \
  --meta ss_training_started_at=1701000000 --meta ss_output_name=animeLineartStyle \
  --meta 'ss_tag_frequency={"10_lineart":{"1girl":120,"solo":110,"monochrome":80,"lineart":95,"long hair":40,"looking at viewer":30}}'
$mk -o "$L/filmGrainPhoto.safetensors" --data random --seed 32 --rank 4 --keys LoRA-v1A-UNET \
  --meta ss_network_module=networks.lora --meta ss_network_dim=4 --meta ss_base_model_version=sd_v1 \
  --meta ss_training_started_at=1702000000 --meta "modelspec.trigger_phrase=film grain photo" \
  --meta 'ss_tag_frequency={"8_film":{"raw photo":60,"film grain":58,"dslr":30,"a woman":12,"bokeh":20}}'
cat > "$L/filmGrainPhoto.civitai.info" <<'J'
{"id": 210021, "modelId": 187000, "baseModel": "SD 1.5", "trainedWords": ["film grain photo"],
 "model": {"name": "Film Grain Photo", "type": "LORA", "tags": ["photography", "style"]}}
J
# a small family tree with real (random) values, for `ckptdb lineage`: a base, two fine-tunes of
# it and their weighted sum (0.3/0.7), SD1 tensor names and shapes, reduced in number
$py "$src/tests/lineage/make_family.py" "$CKPT_SHARED" "$S/family" --demo
echo "demo library: $(find "$out" -type f | wc -l) files in $out" >&2
