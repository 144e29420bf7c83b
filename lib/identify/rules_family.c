/* Rule tables: family, variant and prediction of diffusion models (full checkpoints, bare
 * UNets/transformers, and ControlNets, which copy their UNet's encoder half).
 *
 * Keys are normalised (prefix stripped, see rules_prefix.c). Sources for each signal are in
 * ../shared/research/identify.md §4 and §11 (A1111 sd_models_config, ComfyUI model_detection,
 * InvokeAI configs, kohya sd3_utils, sd.cpp). Choices where the tools disagree:
 * - SD2 prediction: A1111 runs the model and ComfyUI measures a bias's std (both need data),
 *   InvokeAI defaults to v; we say `unknown` unless metadata, a marker key or the ckpt's
 *   global_step says so.
 * - SDXL refiner vs SD2.1-Turbo in SGM layout share conditioner.embedders.0.model.*; we decide
 *   from the UNet's cross-attention width (1280 vs 1024), as A1111 does after its rename.
 * - Flux dev vs schnell: either guidance_in.in_layer or guidance_in.out_layer present = dev
 *   (ComfyUI tests one, InvokeAI the other; a stripped file may keep only one).
 * Not for LoRAs (rules_lora.c) nor the small add-on kinds (rules_kind.c). */
#include <stdlib.h>
#include <string.h>

#include "identify_impl.h"

#define M ROLE_MAIN
#define HAS(k)                                                                                     \
    {                                                                                              \
        OP_HAS, M, 0, 0, k                                                                         \
    }
#define ABSENT(k)                                                                                  \
    {                                                                                              \
        OP_ABSENT, M, 0, 0, k                                                                      \
    }
#define DIM(k, d, v)                                                                               \
    {                                                                                              \
        OP_DIM, M, d, v, k                                                                         \
    }

static const struct id_rule family_rules[] = {
    /* MMDiT: SD3 / SD3.5 (kohya sd3_utils analyze_state_dict_state) */
    {{HAS("joint_blocks.0.context_block.attn.qkv.weight"),
      HAS("joint_blocks.0.x_block.attn2.qkv.weight")},
     CKPT_FAM_SD35_MEDIUM,
     0,
     "MMDiT with MMDiT-X self-attention blocks (x_block.attn2) = SD3.5 Medium"},
    {{HAS("joint_blocks.0.context_block.attn.qkv.weight"),
      HAS("joint_blocks.0.context_block.attn.ln_q.weight")},
     CKPT_FAM_SD35_LARGE,
     0,
     "MMDiT with qk-norm (attn.ln_q) and no x_block.attn2 = SD3.5 Large"},
    {{HAS("joint_blocks.0.context_block.attn.qkv.weight"),
      ABSENT("joint_blocks.0.context_block.attn.ln_q.weight")},
     CKPT_FAM_SD3_MEDIUM,
     0,
     "MMDiT without qk-norm = SD3 Medium"},
    /* Stable Cascade */
    {{HAS("clf.1.weight"), HAS("clip_txt_mapper.weight")},
     CKPT_FAM_CASCADE_C,
     0,
     "Stable Cascade (clf head) with a text mapper = stage C (prior)"},
    {{HAS("clf.1.weight"), HAS("clip_mapper.weight")},
     CKPT_FAM_CASCADE_B,
     0,
     "Stable Cascade (clf head) with clip_mapper = stage B (decoder)"},
    /* Flux.1 (BFL layout) */
    {{HAS("double_blocks.0.img_attn.norm.key_norm.scale"), HAS("guidance_in.in_layer.weight")},
     CKPT_FAM_FLUX_DEV,
     0,
     "Flux double-stream blocks with a guidance embedder = dev"},
    {{HAS("double_blocks.0.img_attn.norm.key_norm.scale"), HAS("guidance_in.out_layer.weight")},
     CKPT_FAM_FLUX_DEV,
     0,
     "Flux double-stream blocks with a guidance embedder = dev"},
    {{HAS("double_blocks.0.img_attn.norm.key_norm.scale")},
     CKPT_FAM_FLUX_SCHNELL,
     0,
     "Flux double-stream blocks and no guidance_in.* (not guidance-distilled) = schnell"},
    /* Flux.1 (diffusers layout) */
    {{HAS("single_transformer_blocks.0.attn.norm_k.weight"),
      HAS("time_text_embed.guidance_embedder.linear_1.weight")},
     CKPT_FAM_FLUX_DEV,
     0,
     "diffusers Flux transformer with a guidance embedder = dev"},
    {{HAS("single_transformer_blocks.0.attn.norm_k.weight"), HAS("x_embedder.weight")},
     CKPT_FAM_FLUX_SCHNELL,
     0,
     "diffusers Flux transformer without a guidance embedder = schnell"},
    /* SD3 (diffusers layout) */
    {{HAS("pos_embed.proj.weight"), HAS("transformer_blocks.0.attn2.to_q.weight"),
      HAS("transformer_blocks.0.attn.add_q_proj.weight")},
     CKPT_FAM_SD35_MEDIUM,
     0,
     "diffusers SD3 transformer with MMDiT-X attn2 = SD3.5 Medium"},
    {{HAS("pos_embed.proj.weight"), HAS("transformer_blocks.0.attn.norm_added_q.weight")},
     CKPT_FAM_SD35_LARGE,
     0,
     "diffusers SD3 transformer with qk-norm = SD3.5 Large"},
    {{HAS("pos_embed.proj.weight"), HAS("transformer_blocks.0.attn.add_q_proj.weight")},
     CKPT_FAM_SD3_MEDIUM,
     0,
     "diffusers SD3 transformer without qk-norm = SD3 Medium"},
    /* PixArt (ComfyUI: ar_embedder present = alpha) */
    {{HAS("t_block.1.weight"), HAS("ar_embedder.mlp.0.weight")},
     CKPT_FAM_PIXART_ALPHA,
     0,
     "PixArt DiT (t_block) with the aspect-ratio embedder = PixArt-alpha"},
    {{HAS("t_block.1.weight"), HAS("y_embedder.y_embedding")},
     CKPT_FAM_PIXART_SIGMA,
     0,
     "PixArt DiT (t_block) without the aspect-ratio embedder = PixArt-Sigma"},
    {{HAS("adaln_single.linear.weight"),
      HAS("adaln_single.emb.aspect_ratio_embedder.linear_1.weight")},
     CKPT_FAM_PIXART_ALPHA,
     0,
     "diffusers PixArt with micro-conditions = PixArt-alpha"},
    {{HAS("adaln_single.linear.weight"), HAS("caption_projection.linear_1.weight")},
     CKPT_FAM_PIXART_SIGMA,
     0,
     "diffusers PixArt without micro-conditions = PixArt-Sigma"},
    /* Stable Video Diffusion: temporal layers inside an SD2-like UNet */
    {{HAS("input_blocks.1.0.time_mixer.mix_factor")},
     CKPT_FAM_SVD,
     0,
     "UNet with temporal mixing (time_stack/time_mixer) = Stable Video Diffusion"},
    {{HAS("input_blocks.8.0.time_mixer.mix_factor")},
     CKPT_FAM_SVD,
     0,
     "UNet with temporal mixing (time_stack/time_mixer) = Stable Video Diffusion"},
    {{HAS("down_blocks.0.resnets.0.temporal_res_block.conv1.weight")},
     CKPT_FAM_SVD,
     0,
     "diffusers UNet with temporal res blocks = Stable Video Diffusion"},
    /* SDXL refiner / base (context width at level 2, ADM width) */
    {{DIM("input_blocks.4.1.transformer_blocks.0.attn2.to_k.weight", -1, 1280)},
     CKPT_FAM_SDXL_REFINER,
     0,
     "cross-attention over 1280-wide OpenCLIP bigG only = SDXL refiner"},
    {{DIM("label_emb.0.0.weight", 1, 2560)},
     CKPT_FAM_SDXL_REFINER,
     0,
     "ADM input 2560 (pooled bigG + aesthetic score) = SDXL refiner"},
    {{DIM("input_blocks.4.1.transformer_blocks.0.attn2.to_k.weight", -1, 2048)},
     CKPT_FAM_SDXL,
     0,
     "cross-attention over 2048 = CLIP-L 768 + OpenCLIP bigG 1280 = SDXL"},
    {{DIM("label_emb.0.0.weight", 1, 2816)},
     CKPT_FAM_SDXL,
     0,
     "ADM input 2816 (pooled bigG 1280 + 6 size/crop embeddings) = SDXL base"},
    /* SD2 / SD1: context width of the first attention */
    {{DIM("input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight", -1, 1024)},
     CKPT_FAM_SD2,
     0,
     "cross-attention over 1024-wide OpenCLIP-H = SD2"},
    {{DIM("input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight", -1, 768)},
     CKPT_FAM_SD1,
     0,
     "cross-attention over 768-wide CLIP ViT-L = SD1"},
    /* diffusers UNets */
    {{DIM("down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k.weight", -1, 1280),
      ABSENT("down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight")},
     CKPT_FAM_SDXL_REFINER,
     0,
     "diffusers UNet attending to 1280-wide bigG only = SDXL refiner"},
    {{DIM("down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k.weight", -1, 2048)},
     CKPT_FAM_SDXL,
     0,
     "diffusers UNet attending to 2048 (CLIP-L + bigG) = SDXL"},
    {{DIM("add_embedding.linear_1.weight", 1, 2816)},
     CKPT_FAM_SDXL,
     0,
     "diffusers UNet with ADM input 2816 = SDXL base"},
    {{DIM("down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight", -1, 1024)},
     CKPT_FAM_SD2,
     0,
     "diffusers UNet attending to 1024-wide OpenCLIP-H = SD2"},
    {{DIM("down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight", -1, 768)},
     CKPT_FAM_SD1,
     0,
     "diffusers UNet attending to 768-wide CLIP ViT-L = SD1"},
};

enum ckpt_family id_family_unet(struct id_ctx *c, int role)
{
    const struct id_rule *r =
        idc_match(c, family_rules, sizeof family_rules / sizeof *family_rules, role, 0);
    if (!r)
        return CKPT_FAM_UNKNOWN;
    idc_evidence_rule(c, "family", ckpt_family_name((enum ckpt_family)r->value), r, role);
    return (enum ckpt_family)r->value;
}

/* ---- text encoders alone (or a checkpoint whose UNet is missing) ---------------------------- */

static const struct id_rule te_rules[] = {
    {{{OP_DIM, ROLE_TE2, 0, 1280, "ln_final.weight"},
      {OP_PREFIX, ROLE_TE2, 0, 0, "conditioner.embedders.1.model."}},
     CKPT_FAM_SDXL,
     0,
     "OpenCLIP bigG (1280 wide) at SGM conditioner.embedders.1 = SDXL base"},
    {{{OP_DIM, ROLE_OPENCLIP0, 0, 1280, "ln_final.weight"}},
     CKPT_FAM_SDXL_REFINER,
     0,
     "only OpenCLIP bigG at conditioner.embedders.0 = SDXL refiner"},
    {{{OP_DIM, ROLE_OPENCLIP0, 0, 1024, "ln_final.weight"}},
     CKPT_FAM_SD2,
     0,
     "OpenCLIP-H at conditioner.embedders.0 = SD2.x in SGM layout"},
    {{{OP_DIM, ROLE_TE, 0, 1024, "ln_final.weight"}},
     CKPT_FAM_SD2,
     0,
     "OpenCLIP ViT-H/14 (1024 wide) = SD2"},
    {{{OP_DIM, ROLE_TE, -1, 1024, "transformer.resblocks.0.attn.in_proj_weight"}},
     CKPT_FAM_SD2,
     0,
     "OpenCLIP ViT-H/14 (1024 wide) = SD2"},
    {{{OP_DIM, ROLE_TE, 0, 1280, "ln_final.weight"}},
     CKPT_FAM_SDXL,
     0,
     "OpenCLIP bigG (1280 wide) = SDXL's second encoder"},
    {{{OP_DIM, ROLE_TE, -1, 768, "embeddings.token_embedding.weight"},
      {OP_PREFIX, ROLE_TE, 0, 0, "cond_stage_model.transformer.text_model."}},
     CKPT_FAM_SD1,
     0,
     "LDM cond_stage_model with CLIP ViT-L (768) = SD1"},
    {{{OP_DIM, ROLE_TE_NAI, -1, 768, "embeddings.token_embedding.weight"}},
     CKPT_FAM_SD1,
     0,
     "CLIP ViT-L (768) under the NovelAI-era prefix = SD1"},
};

enum ckpt_family id_family_te(struct id_ctx *c)
{
    const struct id_rule *r =
        idc_match(c, te_rules, sizeof te_rules / sizeof *te_rules, ROLE_TE, 0);
    if (!r)
        return CKPT_FAM_UNKNOWN;
    idc_evidence_rule(c, "family", ckpt_family_name((enum ckpt_family)r->value), r, ROLE_TE);
    return (enum ckpt_family)r->value;
}

/* ---- variant --------------------------------------------------------------------------------- */

#define NOT_SVD (~FAMBIT(CKPT_FAM_SVD) & ((1u << CKPT_FAM_COUNT) - 1))
#define FLUX (FAMBIT(CKPT_FAM_FLUX_DEV) | FAMBIT(CKPT_FAM_FLUX_SCHNELL))

static const struct id_rule variant_rules[] = {
    {{DIM("input_blocks.0.0.weight", 1, 9)},
     CKPT_VAR_INPAINT,
     0,
     "9 input channels (4 latent + 4 masked-image latent + 1 mask) -> inpaint"},
    {{DIM("conv_in.weight", 1, 9)},
     CKPT_VAR_INPAINT,
     0,
     "9 input channels (4 latent + 4 masked-image latent + 1 mask) -> inpaint"},
    {{DIM("input_blocks.0.0.weight", 1, 8)},
     CKPT_VAR_PIX2PIX,
     NOT_SVD,
     "8 input channels (4 latent + 4 source-image latent) -> instruct-pix2pix"},
    {{DIM("conv_in.weight", 1, 8)},
     CKPT_VAR_PIX2PIX,
     NOT_SVD,
     "8 input channels (4 latent + 4 source-image latent) -> instruct-pix2pix"},
    {{DIM("input_blocks.0.0.weight", 1, 5), {OP_ROLE, ROLE_DEPTH, 0, 0, "depth_model."}},
     CKPT_VAR_DEPTH,
     0,
     "5 input channels (4 latent + depth) and a MiDaS depth_model -> depth"},
    {{DIM("input_blocks.0.0.weight", 1, 5)},
     CKPT_VAR_DEPTH,
     0,
     "5 input channels (4 latent + depth map) -> depth"},
    {{DIM("conv_in.weight", 1, 5)},
     CKPT_VAR_DEPTH,
     0,
     "5 input channels (4 latent + depth map) -> depth"},
    {{{OP_ROLE, ROLE_UNCLIP, 0, 0, "embedder."}, DIM("label_emb.0.0.weight", 1, 1536)},
     CKPT_VAR_UNCLIP,
     0,
     "CLIP image embedder + ADM 1536 (ViT-L image embedding) -> unCLIP-L"},
    {{{OP_ROLE, ROLE_UNCLIP, 0, 0, "embedder."}},
     CKPT_VAR_UNCLIP,
     0,
     "CLIP image embedder (embedder.*) -> unCLIP"},
    {{DIM("label_emb.0.0.weight", 1, 1536)},
     CKPT_VAR_UNCLIP,
     FAMBIT(CKPT_FAM_SD2),
     "SD2 UNet with ADM 1536 (noise-augmented ViT-L image embedding) -> unCLIP-L"},
    {{DIM("label_emb.0.0.weight", 1, 2048)},
     CKPT_VAR_UNCLIP,
     FAMBIT(CKPT_FAM_SD2),
     "SD2 UNet with ADM 2048 (noise-augmented ViT-H image embedding) -> unCLIP-H"},
    {{DIM("img_in.weight", 1, 384)},
     CKPT_VAR_FILL,
     FLUX,
     "img_in takes 384 = 64 latent + 64 masked image + 256 mask -> Flux Fill"},
    {{DIM("img_in.weight", 1, 128)},
     CKPT_VAR_CONTROL,
     FLUX,
     "img_in takes 128 = 64 latent + 64 control-image latent -> Flux depth/canny control"},
    {{DIM("x_embedder.weight", 1, 384)},
     CKPT_VAR_FILL,
     FLUX,
     "x_embedder takes 384 -> Flux Fill (diffusers layout)"},
    {{DIM("x_embedder.weight", 1, 128)},
     CKPT_VAR_CONTROL,
     FLUX,
     "x_embedder takes 128 -> Flux control (diffusers layout)"},
};

void id_variant(struct id_ctx *c, int role)
{
    const struct id_rule *r = idc_match(
        c, variant_rules, sizeof variant_rules / sizeof *variant_rules, role, c->r->family);
    if (!r) {
        c->r->variant = CKPT_VAR_NORMAL;
        return;
    }
    c->r->variant = (enum ckpt_variant)r->value;
    idc_evidence_rule(c, "variant", ckpt_variant_name(c->r->variant), r, role);
}

/* ---- family from metadata (modelspec, kohya) ------------------------------------------------ */

struct meta_fam {
    const char *key;
    const char *prefix; /* value starts with */
    enum ckpt_family fam;
};

static const struct meta_fam meta_fams[] = {
    {"modelspec.architecture", "stable-diffusion-xl-v1-refiner", CKPT_FAM_SDXL_REFINER},
    {"modelspec.architecture", "stable-diffusion-xl", CKPT_FAM_SDXL},
    {"modelspec.architecture", "stable-diffusion-v1", CKPT_FAM_SD1},
    {"modelspec.architecture", "stable-diffusion-v2", CKPT_FAM_SD2},
    {"modelspec.architecture", "stable-diffusion-3-5-medium", CKPT_FAM_SD35_MEDIUM},
    {"modelspec.architecture", "stable-diffusion-3.5-medium", CKPT_FAM_SD35_MEDIUM},
    {"modelspec.architecture", "stable-diffusion-3-5-large", CKPT_FAM_SD35_LARGE},
    {"modelspec.architecture", "stable-diffusion-3.5-large", CKPT_FAM_SD35_LARGE},
    {"modelspec.architecture", "stable-diffusion-3", CKPT_FAM_SD3_MEDIUM},
    {"modelspec.architecture", "stable-diffusion-v3", CKPT_FAM_SD3_MEDIUM},
    {"modelspec.architecture", "flux-1-dev", CKPT_FAM_FLUX_DEV},
    {"modelspec.architecture", "flux-1-schnell", CKPT_FAM_FLUX_SCHNELL},
    {"modelspec.architecture", "stable-cascade-v1-stage-b", CKPT_FAM_CASCADE_B},
    {"modelspec.architecture", "stable-cascade-v1-stage-c", CKPT_FAM_CASCADE_C},
    {"modelspec.architecture", "stable-video-diffusion", CKPT_FAM_SVD},
    {"ss_base_model_version", "sdxl_", CKPT_FAM_SDXL},
    {"ss_base_model_version", "sd_v1", CKPT_FAM_SD1},
    {"ss_base_model_version", "sd_v2", CKPT_FAM_SD2},
    {"ss_base_model_version", "flux1", CKPT_FAM_FLUX_DEV},
    {"ss_v2", "True", CKPT_FAM_SD2},
};

enum ckpt_family id_family_metadata(struct id_ctx *c, const char **why)
{
    for (size_t i = 0; i < sizeof meta_fams / sizeof *meta_fams; i++) {
        const char *v = ckpt_tensorset_meta_get(c->ts, meta_fams[i].key);
        if (v && !strncmp(v, meta_fams[i].prefix, strlen(meta_fams[i].prefix))) {
            if (why)
                *why = meta_fams[i].key;
            return meta_fams[i].fam;
        }
    }
    return CKPT_FAM_UNKNOWN;
}

/* ---- prediction ------------------------------------------------------------------------------ */

struct meta_pred {
    const char *key;
    const char *value; /* exact, or suffix when it starts with '*' */
    enum ckpt_prediction pred;
};

static const struct meta_pred meta_preds[] = {
    {"modelspec.prediction_type", "v", CKPT_PRED_V},
    {"modelspec.prediction_type", "v_prediction", CKPT_PRED_V},
    {"modelspec.prediction_type", "epsilon", CKPT_PRED_EPS},
    {"modelspec.prediction_type", "edm", CKPT_PRED_EDM},
    {"modelspec.architecture", "*-768-v", CKPT_PRED_V},
    {"modelspec.architecture", "*-768-v/lora", CKPT_PRED_V},
    {"ss_v_parameterization", "True", CKPT_PRED_V},
    {"ss_base_model_version", "*_v", CKPT_PRED_V},
};

static int meta_matches(const char *v, const char *want)
{
    if (want[0] == '*') {
        size_t lv = strlen(v), lw = strlen(want + 1);
        return lv >= lw && !strcmp(v + lv - lw, want + 1);
    }
    return !strcmp(v, want);
}

void id_prediction(struct id_ctx *c)
{
    struct ckpt_identify_result *r = c->r;
    r->prediction = CKPT_PRED_UNKNOWN;
    const struct ckpt_tensor *zt = ckpt_tensorset_find(c->ts, "ztsnr");
    const char *zm = ckpt_tensorset_meta_get(c->ts, "ss_zero_terminal_snr");
    if (zt) {
        r->ztsnr = 1;
        idc_evidence(c, "ztsnr: marker key 'ztsnr' (zero-terminal-SNR training, A1111/ComfyUI "
                        "convention)");
    } else if (zm && !strcmp(zm, "True")) {
        r->ztsnr = 1;
        idc_evidence(c, "ztsnr: metadata ss_zero_terminal_snr = True");
    }
    if (ckpt_tensorset_find(c->ts, "edm_mean") && ckpt_tensorset_find(c->ts, "edm_std")) {
        r->prediction = CKPT_PRED_EDM;
        idc_evidence(c, "prediction edm: marker keys edm_mean + edm_std (Playground v2.5 style "
                        "EDM latents)");
        return;
    }
    if (ckpt_tensorset_find(c->ts, "v_pred")) {
        r->prediction = CKPT_PRED_V;
        idc_evidence(c, "prediction v: marker key 'v_pred' (A1111 PR #16567 / ComfyUI)");
        return;
    }
    for (size_t i = 0; i < sizeof meta_preds / sizeof *meta_preds; i++) {
        const char *v = ckpt_tensorset_meta_get(c->ts, meta_preds[i].key);
        if (v && meta_matches(v, meta_preds[i].value)) {
            r->prediction = meta_preds[i].pred;
            idc_evidence(c, "prediction %s: metadata %s = %s", ckpt_prediction_name(r->prediction),
                         meta_preds[i].key, v);
            return;
        }
    }
    const char *gs = ckpt_tensorset_meta_get(c->ts, "global_step");
    if (gs && r->family == CKPT_FAM_SD2) {
        long step = strtol(gs, NULL, 10);
        if (step == 110000 || step == 220000) {
            r->prediction = step == 110000 ? CKPT_PRED_V : CKPT_PRED_EPS;
            idc_evidence(c,
                         "prediction %s: global_step %ld is the %s release of SD2 (InvokeAI's "
                         "table)",
                         ckpt_prediction_name(r->prediction), step,
                         step == 110000 ? "768-v" : "512 eps");
            return;
        }
    }
    if (r->kind != CKPT_KIND_CHECKPOINT && r->kind != CKPT_KIND_DIFFUSION_MODEL)
        return;
    switch (r->family) {
    case CKPT_FAM_SD1:
    case CKPT_FAM_SDXL:
    case CKPT_FAM_SDXL_REFINER:
    case CKPT_FAM_PIXART_ALPHA:
    case CKPT_FAM_PIXART_SIGMA:
        r->prediction = CKPT_PRED_EPS;
        idc_evidence(c,
                     "prediction eps: %s is trained for epsilon and no v_pred/edm marker or "
                     "metadata says otherwise",
                     ckpt_family_name(r->family));
        break;
    case CKPT_FAM_SVD:
        r->prediction = CKPT_PRED_V;
        idc_evidence(c, "prediction v: Stable Video Diffusion uses EDM-preconditioned "
                        "v-prediction");
        break;
    case CKPT_FAM_SD2:
        idc_evidence(c, "prediction unknown: SD2 512 (eps) and 768-v (v) have identical shapes "
                        "and nothing in the file says which");
        break;
    case CKPT_FAM_SD3_MEDIUM:
    case CKPT_FAM_SD35_MEDIUM:
    case CKPT_FAM_SD35_LARGE:
    case CKPT_FAM_FLUX_DEV:
    case CKPT_FAM_FLUX_SCHNELL:
        idc_evidence(c, "prediction unknown: %s is a rectified-flow model (none of eps/v/edm)",
                     ckpt_family_name(r->family));
        break;
    default:
        break;
    }
}
