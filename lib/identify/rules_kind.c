/* Rule tables: what kind of file it is, and the family of the small add-on kinds (ControlNet,
 * T2I-Adapter, IP-Adapter, hypernetwork, embedding, CLIP vision, VAE, text encoder).
 *
 * Marker keys come from ComfyUI (controlnet.py load_controlnet_state_dict, load_t2i_adapter,
 * clip_vision.py), InvokeAI (configs/ip_adapter.py, textual_inversion.py, vae.py) and A1111
 * (textual_inversion.py, hypernetwork.py); see ../shared/research/identify.md §5 and §11.
 * Order matters and is the table order: add-on kinds are tested before "has a UNet", because
 * ControlNets and T2I-Adapters carry UNet-like keys. The 4-channel VAEs of SD1/SD2/SDXL have
 * identical shapes; like InvokeAI we decide by name/metadata and default to sd1, saying so.
 * Not for LoRA-type files (rules_lora.c) nor diffusion-model families (rules_family.c). */
#include <stdio.h>
#include <string.h>

#include "identify_impl.h"

#define R ROLE_RAW
#define HAS(k)                                                                                     \
    {                                                                                              \
        OP_HAS, R, 0, 0, k                                                                         \
    }
#define DIM(k, d, v)                                                                               \
    {                                                                                              \
        OP_DIM, R, d, v, k                                                                         \
    }

static const struct id_rule kind_rules[] = {
    {{HAS("control_model.zero_convs.0.0.weight")},
     CKPT_KIND_CONTROLNET,
     0,
     "LDM ControlNet (zero convolutions under control_model.)"},
    {{HAS("zero_convs.0.0.weight"), HAS("input_hint_block.0.weight")},
     CKPT_KIND_CONTROLNET,
     0,
     "pruned LDM ControlNet (zero convolutions + hint encoder)"},
    {{HAS("controlnet_cond_embedding.conv_in.weight")},
     CKPT_KIND_CONTROLNET,
     0,
     "diffusers ControlNet (conditioning embedding)"},
    {{HAS("controlnet_x_embedder.weight")}, CKPT_KIND_CONTROLNET, 0, "InstantX Flux ControlNet"},
    {{HAS("controlnet_blocks.0.weight")},
     CKPT_KIND_CONTROLNET,
     0,
     "DiT ControlNet (XLabs Flux / SD3 controlnet_blocks)"},
    {{HAS("ip_adapter.1.to_k_ip.weight")},
     CKPT_KIND_IP_ADAPTER,
     0,
     "IP-Adapter (decoupled image cross-attention to_k_ip/to_v_ip)"},
    {{HAS("ip_adapter_proj_model.proj.weight")}, CKPT_KIND_IP_ADAPTER, 0, "XLabs Flux IP-Adapter"},
    {{HAS("adapter.body.0.resnets.0.block1.weight")},
     CKPT_KIND_T2I_ADAPTER,
     0,
     "diffusers T2I-Adapter"},
    {{HAS("body.0.in_conv.weight")}, CKPT_KIND_T2I_ADAPTER, 0, "light T2I-Adapter"},
    {{HAS("conv_in.weight"), HAS("body.0.block2.weight")},
     CKPT_KIND_T2I_ADAPTER,
     0,
     "full T2I-Adapter (TencentARC layout)"},
    {{HAS("vision_model.encoder.layers.0.layer_norm1.weight")},
     CKPT_KIND_CLIP_VISION,
     0,
     "CLIP vision tower (HF CLIPVisionModel)"},
    {{HAS("string_to_param.*")},
     CKPT_KIND_EMBEDDING,
     0,
     "A1111 textual inversion (string_to_param)"},
    {{HAS("emb_params")}, CKPT_KIND_EMBEDDING, 0, "kohya textual inversion (emb_params)"},
    {{HAS("clip_l"), HAS("clip_g")},
     CKPT_KIND_EMBEDDING,
     0,
     "SDXL textual inversion (one vector set per text encoder)"},
    {{HAS("768.0.linear.0.weight")},
     CKPT_KIND_HYPERNETWORK,
     0,
     "A1111 hypernetwork (per-width linear stacks for k and v)"},
    {{HAS("1024.0.linear.0.weight")},
     CKPT_KIND_HYPERNETWORK,
     0,
     "A1111 hypernetwork (per-width linear stacks for k and v)"},
    {{HAS("320.0.linear.0.weight")},
     CKPT_KIND_HYPERNETWORK,
     0,
     "A1111 hypernetwork (per-width linear stacks for k and v)"},
};

/* Families of the add-on kinds; fams = the kind the row is for (reuses the mask field). */
#define K(kind) FAMBIT(kind)
static const struct id_rule addon_family_rules[] = {
    {{DIM("ip_adapter.1.to_k_ip.weight", -1, 768)},
     CKPT_FAM_SD1,
     K(CKPT_KIND_IP_ADAPTER),
     "image keys project from 768 = SD1 text context"},
    {{DIM("ip_adapter.1.to_k_ip.weight", -1, 1024)},
     CKPT_FAM_SD2,
     K(CKPT_KIND_IP_ADAPTER),
     "image keys project from 1024 = SD2 text context"},
    {{DIM("ip_adapter.1.to_k_ip.weight", -1, 2048)},
     CKPT_FAM_SDXL,
     K(CKPT_KIND_IP_ADAPTER),
     "image keys project from 2048 = SDXL text context"},
    {{HAS("ip_adapter_proj_model.proj.weight")},
     CKPT_FAM_FLUX_DEV,
     K(CKPT_KIND_IP_ADAPTER),
     "XLabs IP-Adapters are trained on Flux dev"},
    {{DIM("conv_in.weight", 1, 192)},
     CKPT_FAM_SD1,
     K(CKPT_KIND_T2I_ADAPTER),
     "3 x 8 x 8 pixel-unshuffled input (192) = SD1 adapter"},
    {{DIM("conv_in.weight", 1, 768)},
     CKPT_FAM_SDXL,
     K(CKPT_KIND_T2I_ADAPTER),
     "3 x 16 x 16 pixel-unshuffled input (768) = SDXL adapter"},
    {{DIM("conv_in.weight", 1, 256)},
     CKPT_FAM_SDXL,
     K(CKPT_KIND_T2I_ADAPTER),
     "256-channel input = SDXL adapter (ComfyUI)"},
    {{DIM("adapter.conv_in.weight", 1, 192)},
     CKPT_FAM_SD1,
     K(CKPT_KIND_T2I_ADAPTER),
     "3 x 8 x 8 pixel-unshuffled input (192) = SD1 adapter"},
    {{DIM("adapter.conv_in.weight", 1, 768)},
     CKPT_FAM_SDXL,
     K(CKPT_KIND_T2I_ADAPTER),
     "3 x 16 x 16 pixel-unshuffled input (768) = SDXL adapter"},
    {{DIM("body.0.in_conv.weight", 1, 192)},
     CKPT_FAM_SD1,
     K(CKPT_KIND_T2I_ADAPTER),
     "3 x 8 x 8 pixel-unshuffled input (192) = SD1 light adapter"},
    {{HAS("2048.0.linear.0.weight")},
     CKPT_FAM_SDXL,
     K(CKPT_KIND_HYPERNETWORK),
     "a layer for 2048-wide context = SDXL"},
    {{HAS("1024.0.linear.0.weight")},
     CKPT_FAM_SD2,
     K(CKPT_KIND_HYPERNETWORK),
     "a layer for 1024-wide context = SD2"},
    {{HAS("768.0.linear.0.weight")},
     CKPT_FAM_SD1,
     K(CKPT_KIND_HYPERNETWORK),
     "a layer for 768-wide context = SD1"},
    {{DIM("string_to_param.*", -1, 768)},
     CKPT_FAM_SD1,
     K(CKPT_KIND_EMBEDDING),
     "vectors 768 wide = CLIP ViT-L token space (SD1)"},
    {{DIM("string_to_param.*", -1, 1024)},
     CKPT_FAM_SD2,
     K(CKPT_KIND_EMBEDDING),
     "vectors 1024 wide = OpenCLIP-H token space (SD2)"},
    {{DIM("emb_params", -1, 768)},
     CKPT_FAM_SD1,
     K(CKPT_KIND_EMBEDDING),
     "vectors 768 wide = CLIP ViT-L token space (SD1)"},
    {{DIM("emb_params", -1, 1024)},
     CKPT_FAM_SD2,
     K(CKPT_KIND_EMBEDDING),
     "vectors 1024 wide = OpenCLIP-H token space (SD2)"},
    {{DIM("clip_l", -1, 768), DIM("clip_g", -1, 1280)},
     CKPT_FAM_SDXL,
     K(CKPT_KIND_EMBEDDING),
     "clip_l 768 + clip_g 1280 = SDXL's two text encoders"},
};

static enum ckpt_family addon_family(struct id_ctx *c, enum ckpt_kind kind)
{
    const struct id_rule *r =
        idc_match(c, addon_family_rules, sizeof addon_family_rules / sizeof *addon_family_rules,
                  ROLE_RAW, (enum ckpt_family)kind);
    if (!r)
        return CKPT_FAM_UNKNOWN;
    idc_evidence_rule(c, "family", ckpt_family_name((enum ckpt_family)r->value), r, ROLE_RAW);
    return (enum ckpt_family)r->value;
}

/* A diffusers learned_embeds.bin or a single-vector .safetensors: a handful of tensors, all of
 * them rows of a text encoder's token width. */
static int small_embedding(struct id_ctx *c, enum ckpt_family *fam)
{
    if (c->n == 0 || c->n > 4)
        return 0;
    uint64_t w = 0;
    for (size_t i = 0; i < c->n; i++) {
        const struct ckpt_tensor *t = ckpt_tensorset_tensor(c->ts, i);
        if (t->ndim < 1 || t->ndim > 2 || !ckpt_dtype_is_float(t->dtype))
            return 0;
        uint64_t last = t->shape[t->ndim - 1];
        if ((last != 768 && last != 1024) || (w && w != last))
            return 0;
        if (t->ndim == 2 && t->shape[0] > 256)
            return 0;
        w = last;
    }
    *fam = w == 768 ? CKPT_FAM_SD1 : CKPT_FAM_SD2;
    idc_evidence(c,
                 "kind embedding: %zu tensor%s of %llu-wide token vectors ('%s') = "
                 "textual inversion",
                 c->n, c->n == 1 ? "" : "s", (unsigned long long)w,
                 ckpt_tensorset_tensor(c->ts, 0)->name);
    idc_evidence(c, "family %s: %llu = %s token width", ckpt_family_name(*fam),
                 (unsigned long long)w, w == 768 ? "CLIP ViT-L (SD1)" : "OpenCLIP-H (SD2)");
    return 1;
}

static void vae_family(struct id_ctx *c)
{
    struct ckpt_identify_result *r = c->r;
    const struct ckpt_tensor *t = idc_find(c, ROLE_VAE, "decoder.conv_in.weight");
    if (!t || t->ndim < 2) {
        idc_evidence(c, "family unknown: no decoder.conv_in.weight to read the latent channels");
        return;
    }
    uint64_t ch = t->shape[1];
    const char *arch = ckpt_tensorset_meta_get(c->ts, "modelspec.architecture");
    if (ch == 16) {
        if (idc_name_has(c, "flux") || !strcmp(c->name_lc, "ae.safetensors") ||
            !strcmp(c->name_lc, "ae.sft")) {
            r->family = CKPT_FAM_FLUX_DEV;
            idc_evidence(c, "family flux-dev: 16-channel latent VAE named like the Flux VAE "
                            "(dev and schnell share it)");
        } else if (idc_name_has(c, "sd3")) {
            r->family = CKPT_FAM_SD3_MEDIUM;
            idc_evidence(c, "family sd3-medium: 16-channel latent VAE named sd3 (all SD3/3.5 "
                            "models share it)");
        } else {
            idc_evidence(c, "family unknown: 16-channel latent VAE (SD3 and Flux VAEs have the "
                            "same shapes; no name or metadata says which)");
        }
        return;
    }
    if (ch != 4) {
        idc_evidence(c, "family unknown: %llu-channel latent VAE", (unsigned long long)ch);
        return;
    }
    if (arch && !strncmp(arch, "stable-diffusion-xl", 19)) {
        r->family = CKPT_FAM_SDXL;
        idc_evidence(c, "family sdxl: 4-channel VAE with modelspec.architecture = %s", arch);
    } else if (idc_name_has(c, "xl")) {
        r->family = CKPT_FAM_SDXL;
        idc_evidence(c, "family sdxl: 4-channel VAE (shapes shared by SD1/SD2/SDXL) whose file "
                        "name says xl");
    } else {
        r->family = CKPT_FAM_SD1;
        idc_evidence(c, "family sd1: 4-channel VAE; SD1/SD2/SDXL VAEs have identical shapes and "
                        "neither name nor metadata says SDXL, so sd1 (InvokeAI's default)");
    }
}

static void te_family(struct id_ctx *c)
{
    struct ckpt_identify_result *r = c->r;
    r->family = id_family_te(c);
    if (r->family != CKPT_FAM_UNKNOWN)
        return;
    const struct ckpt_tensor *t =
        idc_find(c, ROLE_TE, "text_model.embeddings.token_embedding.weight");
    if (c->count[ROLE_T5])
        idc_evidence(c, "family unknown: T5-XXL encoder (used by SD3, Flux and PixArt alike)");
    else if (t && t->ndim == 2 && t->shape[1] == 768)
        idc_evidence(c, "family unknown: standalone CLIP ViT-L text encoder (SD1, SDXL's first "
                        "encoder, SD3 and Flux all use it)");
    else
        idc_evidence(c, "family unknown: text encoder of no known width");
}

static int has_te(const struct id_ctx *c)
{
    return c->count[ROLE_TE] || c->count[ROLE_TE_NAI] || c->count[ROLE_OPENCLIP0] ||
           c->count[ROLE_TE2] || c->count[ROLE_T5];
}

void id_kind(struct id_ctx *c)
{
    struct ckpt_identify_result *r = c->r;
    r->kind = CKPT_KIND_UNKNOWN;
    r->family = CKPT_FAM_UNKNOWN;
    size_t nl = id_lora_count(c);
    if (nl && nl * 2 >= c->n) {
        r->kind = CKPT_KIND_LORA;
        idc_evidence(c, "kind lora: %zu of %zu tensors are add-on network parts (e.g. '%s')", nl,
                     c->n, ckpt_tensorset_tensor(c->ts, 0)->name);
        id_lora(c);
        id_prediction(c);
        return;
    }
    const struct id_rule *k =
        idc_match(c, kind_rules, sizeof kind_rules / sizeof *kind_rules, ROLE_RAW, 0);
    enum ckpt_family fam;
    if (k) {
        r->kind = (enum ckpt_kind)k->value;
        idc_evidence_rule(c, "kind", ckpt_kind_name(r->kind), k, ROLE_RAW);
        switch (r->kind) {
        case CKPT_KIND_CONTROLNET: {
            int role = c->count[ROLE_CONTROL] ? ROLE_CONTROL : ROLE_UNET;
            r->family = id_family_unet(c, role);
            id_variant(c, role);
            break;
        }
        case CKPT_KIND_CLIP_VISION: {
            static const struct {
                const char *key;
                const char *what;
            } towers[] = {{"vision_model.encoder.layers.47.layer_norm1.weight", "ViT-bigG/14"},
                          {"vision_model.encoder.layers.31.layer_norm1.weight", "ViT-H/14"},
                          {"vision_model.encoder.layers.23.layer_norm1.weight", "ViT-L/14"}};
            for (size_t i = 0; i < sizeof towers / sizeof *towers; i++)
                if (ckpt_tensorset_find(c->ts, towers[i].key)) {
                    idc_evidence(c, "clip-vision %s: %s present", towers[i].what, towers[i].key);
                    break;
                }
            idc_evidence(c, "family unknown: image encoders serve several families");
            break;
        }
        default:
            r->family = addon_family(c, r->kind);
            break;
        }
    } else if (small_embedding(c, &fam)) {
        r->kind = CKPT_KIND_EMBEDDING;
        r->family = fam;
    } else if (c->count[ROLE_UNET] >= 8) {
        r->kind =
            c->count[ROLE_VAE] || has_te(c) ? CKPT_KIND_CHECKPOINT : CKPT_KIND_DIFFUSION_MODEL;
        idc_evidence(c, "kind %s: %zu diffusion-model tensors under '%s'%s",
                     ckpt_kind_name(r->kind), c->count[ROLE_UNET],
                     c->prefix[ROLE_UNET][0] ? c->prefix[ROLE_UNET] : "(no prefix)",
                     r->kind == CKPT_KIND_CHECKPOINT ? " plus VAE/text-encoder tensors"
                                                     : " and no VAE or text encoder");
        r->family = id_family_unet(c, ROLE_UNET);
        if (r->family == CKPT_FAM_UNKNOWN)
            r->family = id_family_te(c);
        id_variant(c, ROLE_UNET);
    } else if (c->count[ROLE_VAE] >= 8 && has_te(c)) {
        r->kind = CKPT_KIND_CHECKPOINT;
        idc_evidence(c, "kind checkpoint: VAE and text-encoder tensors but no diffusion model");
        r->family = id_family_te(c);
        r->variant = CKPT_VAR_NORMAL;
    } else if (c->count[ROLE_VAE] >= 8) {
        r->kind = CKPT_KIND_VAE;
        idc_evidence(c, "kind vae: %zu autoencoder tensors (encoder.*/decoder.*) under '%s'",
                     c->count[ROLE_VAE],
                     c->prefix[ROLE_VAE][0] ? c->prefix[ROLE_VAE] : "(no prefix)");
        vae_family(c);
    } else if (has_te(c) && c->count[ROLE_OTHER] * 4 < c->n) {
        r->kind = CKPT_KIND_TEXT_ENCODER;
        idc_evidence(c, "kind text-encoder: text-encoder tensors only");
        te_family(c);
    } else {
        idc_evidence(c, "kind unknown: no rule matches these %zu tensors", c->n);
    }
    if (r->family == CKPT_FAM_UNKNOWN && r->kind != CKPT_KIND_UNKNOWN &&
        r->kind != CKPT_KIND_CLIP_VISION) {
        const char *why = NULL;
        r->family = id_family_metadata(c, &why);
        if (r->family != CKPT_FAM_UNKNOWN)
            idc_evidence(c, "family %s: metadata %s = %s", ckpt_family_name(r->family), why,
                         ckpt_tensorset_meta_get(c->ts, why));
    }
    id_prediction(c);
}
