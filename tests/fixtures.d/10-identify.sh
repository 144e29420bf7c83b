#!/usr/bin/env bash
# Fixtures for `ckptdb identify`: one file per family, kind, network, variant and problem of
# issue 3, with real key names and shapes (../shared/ref/keys and tests/identify/keys), sparse
# data (holes), fixed seeds. Each OUT/identify/NAME has a golden tests/identify/golden/NAME.json.
set -euo pipefail
build=$1 out=$2/identify shared=$3
src=$(cd "$(dirname "$0")/../.." && pwd)
K=$src/tests/identify/keys
export CKPT_SHARED=$shared
mkdir -p "$out"
mk() { local name=$1; shift; "$build/tools/mkfixture" -o "$out/$name" --force --data sparse --seed 3 "$@"; }

U1=model.diffusion_model. V=first_stage_model. T1=cond_stage_model.transformer.text_model.
T2=cond_stage_model.model. XL0=conditioner.embedders.0.transformer.text_model. XL1=conditioner.embedders.1.model.
SD1="--keys UNET-v1-SD:$U1 --keys VAE-v1-SD:$V --keys CLIP-v1-SD:$T1"
SD2="--keys UNET-v2-SD:$U1 --keys VAE-v1-SD:$V --keys CLIP-v2-SD:$T2"
SDXL="--keys UNET-XL-SD:$U1 --keys VAE-v1-SD:$V --keys CLIP-v1-SD:$XL0 --keys CLIP-XL-SD:$XL1"

# ---- checkpoints: families, layouts, variants ----
mk sd15.safetensors $SD1
mk sd15-bare-unet.safetensors --keys UNET-v1-SD
mk sd15-comfy-model-prefix.safetensors --keys UNET-v1-SD:model.
mk sd15-inpainting.safetensors --keys UNET-v1-Inpainting:$U1 --keys VAE-v1-SD:$V --keys CLIP-v1-SD:$T1
mk sd15-pix2pix.safetensors --keys UNET-v1-Pix2Pix:$U1 --keys VAE-v1-SD:$V --keys CLIP-v1-SD:$T1
mk sd21.safetensors $SD2
mk sd21-768-v-modelspec.safetensors $SD2 --meta modelspec.sai_model_spec=1.0.0 \
   --meta modelspec.architecture=stable-diffusion-v2-768-v --meta modelspec.title=SD2.1-768
mk sd2-inpainting.safetensors --keys UNET-v2-Inpainting:$U1 --keys VAE-v1-SD:$V --keys CLIP-v2-SD:$T2
mk sd2-depth.safetensors --keys UNET-v2-Depth:$U1 --keys VAE-v1-SD:$V --keys CLIP-v2-SD:$T2 \
   --keys Depth-v2-SD:depth_model.model.
mk sd21-unclip-l.safetensors $SD2 --tensor $U1"label_emb.0.0.weight:F16:1280,1536" \
   --tensor $U1"label_emb.0.2.weight:F16:1280,1280" --tensor "embedder.model.ln_final.weight:F16:768"
mk sd21-turbo-sgm.safetensors --keys UNET-v2-SD:$U1 --keys VAE-v1-SD:$V \
   --keys CLIP-v2-SD:conditioner.embedders.0.model.
mk sdxl-base.safetensors $SDXL
mk sdxl-bare-unet.safetensors --keys UNET-XL-SD
mk sdxl-refiner.safetensors --keys UNET-XL-Refiner:$U1 --keys VAE-v1-SD:$V \
   --keys CLIP-XL-SD:conditioner.embedders.0.model.
mk sdxl-vpred-ztsnr.safetensors $SDXL --tensor v_pred:F16:0 --tensor ztsnr:F16:0
mk sdxl-edm.safetensors $SDXL --tensor edm_mean:F32:1,4,1,1 --tensor edm_std:F32:1,4,1,1
mk sdxl-pony-modelspec.safetensors $SDXL --meta modelspec.sai_model_spec=1.0.0 \
   --meta modelspec.architecture=stable-diffusion-xl-v1-base --meta "modelspec.title=Pony Diffusion V6 XL"
mk noobaiXL_vpred10.safetensors $SDXL --tensor v_pred:F16:0
mk waiANIXL-civitai-sidecar.safetensors $SDXL
printf '{"id":1,"baseModel":"Illustrious","name":"v1"}' >"$out/waiANIXL-civitai-sidecar.civitai.info"
mk sd3-medium.safetensors --keys $K/MMDiT-SD3-Medium.txt:$U1 --keys $K/VAE-16ch.txt:$V \
   --keys CLIP-v1-SD:text_encoders.clip_l.transformer.text_model. \
   --keys $K/CLIP-G-HF.txt:text_encoders.clip_g.transformer. --keys $K/T5-XXL.txt:text_encoders.t5xxl.transformer.
mk sd35-large-transformer.safetensors --keys $K/MMDiT-SD35-Large.txt
mk sd35-medium-transformer.safetensors --keys $K/MMDiT-SD35-Medium.txt:$U1
mk flux1-dev.safetensors --dtype BF16 --keys $K/Flux-dev.txt
mk flux1-schnell-checkpoint.safetensors --drop guidance_in --dtype BF16 --keys $K/Flux-dev.txt:$U1 \
   --keys CLIP-v1-SD:text_encoders.clip_l.transformer.text_model. \
   --keys $K/T5-XXL.txt:text_encoders.t5xxl.transformer. --keys $K/VAE-16ch.txt:vae.
mk flux1-fill-dev.safetensors --drop img_in.weight --dtype BF16 --keys $K/Flux-dev.txt \
   --tensor img_in.weight:BF16:3072,384
mk flux1-canny-dev.safetensors --drop img_in.weight --dtype BF16 --keys $K/Flux-dev.txt \
   --tensor img_in.weight:BF16:3072,128
mk pixart-alpha-1024.safetensors --dtype F32 --keys $K/PixArt-alpha.txt
mk pixart-sigma-1024.safetensors --keys $K/PixArt-sigma.txt
mk stable-cascade-stage-c.safetensors --dtype BF16 --keys $K/Cascade-C.txt
mk stable-cascade-stage-b.safetensors --dtype BF16 --keys $K/Cascade-B.txt
mk svd-img2vid.safetensors --keys $K/SVD-UNet.txt:$U1 --keys VAE-v1-SD:$V
# ---- problems ----
mk sd15-ema-fp32.safetensors --dtype F32 $SD1 --keys UNET-v1-EMA:model_ema.diffusion_model:nodots \
   --tensor model_ema.decay:F32: --tensor model_ema.num_updates:I32:
mk sd15-junk-keys.safetensors $SD1 --tensor "first_stage_model.loss.discriminator.main.0.weight:F32:64,3,4,4" \
   --tensor "lora_te_text_model_encoder_layers_0_mlp_fc1.alpha:F16:" --tensor alphas_cumprod:F32:1000
mk sd15-broken-position-ids.safetensors $SD1 --position-ids broken
mk sd15-float-position-ids.safetensors $SD1 --position-ids float
mk sd15-nai-clip.safetensors --keys UNET-v1-SD:$U1 --keys VAE-v1-SD:$V --keys CLIP-v1-SD:cond_stage_model.transformer.
mk sd15-no-vae.safetensors --keys UNET-v1-SD:$U1 --keys CLIP-v1-SD:$T1
mk sd15-with-sd2-clip.safetensors --keys UNET-v1-SD:$U1 --keys VAE-v1-SD:$V --keys CLIP-v2-SD:$T2
# ---- LoRAs ----
mk lora-sd1-kohya.safetensors --keys LoRA-v1A-UNET --keys LoRA-v1A-CLIP --meta ss_network_module=networks.lora \
   --meta ss_base_model_version=sd_v1
mk lora-sd1-no-metadata.safetensors --keys LoRA-v1-UNET
mk lora-sdxl-kohya.safetensors --keys $K/LoRA-XL-kohya.txt --meta ss_base_model_version=sdxl_base_v1-0
mk lora-sdxl-illustrious.safetensors --keys $K/LoRA-XL-kohya.txt \
   --meta "ss_sd_model_name=illustriousXL_v01.safetensors" --meta ss_base_model_version=sdxl_base_v1-0
mk lora-sdxl-te-only.safetensors --only lora_te --keys $K/LoRA-XL-kohya.txt
mk lora-sdxl-mislabelled-sd1.safetensors --keys $K/LoRA-XL-kohya.txt --meta ss_base_model_version=sd_v1
mk locon-sd1.safetensors --keys $K/LoCon-v1.txt
mk loha-sd1.safetensors --keys $K/LoHa-v1.txt
mk lokr-sd1.safetensors --keys $K/LoKr-v1.txt
mk ia3-sd1.safetensors --keys $K/IA3-v1.txt
mk glora-sd1.safetensors --keys $K/GLoRA-v1.txt
mk oft-sd1.safetensors --keys $K/OFT-v1.txt --meta ss_network_module=networks.oft \
   --meta ss_base_model_version=sd_v1
mk boft-sd1.safetensors --keys $K/BOFT-v1.txt
mk full-diff-sd1.safetensors --keys $K/Full-v1.txt
mk dora-sd1.safetensors --keys $K/DoRA-v1.txt
mk dylora-sd1.safetensors --keys LoRA-v1A-UNET --meta ss_network_module=networks.dylora \
   --meta 'ss_network_args={"unit": "4"}'
mk leco-erase-vangogh.safetensors --keys $K/LECO-v1.txt
mk peft-lora-sd1.safetensors --keys $K/PEFT-v1.txt
mk peft-lora-sdxl.safetensors --keys $K/PEFT-XL.txt
mk diffusers-old-lora-sd1.bin.safetensors --keys $K/OldDiffusers-v1.txt
mk lora-flux-kohya.safetensors --dtype BF16 --keys $K/LoRA-Flux-kohya.txt --meta ss_base_model_version=flux1
# ---- embeddings, hypernetwork, VAEs, add-ons ----
mk emb-sd1-a1111.safetensors --dtype F32 --tensor 'string_to_param.*:F32:4,768'
mk emb-sd2-kohya.safetensors --dtype F32 --tensor emb_params:F32:8,1024
mk emb-sdxl.safetensors --tensor clip_l:F16:8,768 --tensor clip_g:F16:8,1280
mk emb-learned-embeds.safetensors --tensor '<my-concept>:F32:768'
mk hypernetwork-sd1.safetensors --dtype F32 --keys $K/Hypernetwork-v1.txt
mk vae-ft-mse-840000.safetensors --keys VAE-v1-SD
mk sdxl_vae.safetensors --keys VAE-v1-SD
mk ae.safetensors --dtype BF16 --keys $K/VAE-16ch.txt
mk controlnet-sd15-canny.safetensors --keys ControlNet-v1-SD:control_model.
mk controlnet-sd15-pruned.safetensors --keys ControlNet-v1-SD
mk controlnet-sdxl-diffusers.safetensors --keys $K/ControlNet-XL-diffusers.txt
mk t2i-adapter-sd1.safetensors --keys $K/T2IAdapter-v1.txt
mk t2i-adapter-sdxl.safetensors --keys $K/T2IAdapter-XL.txt
mk ip-adapter-sd15.safetensors --keys $K/IPAdapter-v1.txt
mk ip-adapter-sdxl.safetensors --keys $K/IPAdapter-XL.txt
mk clip-vision-h.safetensors --keys $K/CLIPVision-H.txt
mk clip-l-text-encoder.safetensors --keys CLIP-v1-SD:text_model.
mk t5xxl-text-encoder.safetensors --keys $K/T5-XXL.txt
mk unknown-tensors.safetensors --tensor foo.weight:F32:10,10 --tensor bar.bias:F32:10
