/* Rule table: which component each tensor belongs to, and which checkpoint prefix to strip.
 *
 * One table of prefixes (LDM/SGM single files, ComfyUI SD3/Flux files, diffusers folders as
 * read by the diffusers reader: "unet/", "vae/", ...) and one table of bare stems (the first
 * segment of an unprefixed key) per component, so a bare UNet file, a `model.`-prefixed
 * ComfyUI file and a full LDM checkpoint all normalise to the same keys. Not for deciding what
 * the file is: the other rules_*.c tables do that on the normalised keys. */
#include <string.h>

#include "identify_impl.h"

struct prefix_row {
    const char *prefix;
    uint8_t len;
    uint8_t role;
    uint8_t need_stem; /* the rest must start with one of the role's bare stems */
};

/* First match wins: longer, more specific prefixes first. */
static const struct prefix_row prefixes[] = {
    {"model.diffusion_model.", sizeof("model.diffusion_model.") - 1, ROLE_UNET, 0},
    {"model_ema.", sizeof("model_ema.") - 1, ROLE_EMA, 0},
    {"first_stage_model.", sizeof("first_stage_model.") - 1, ROLE_VAE, 0},
    {"cond_stage_model.transformer.text_model.",
     sizeof("cond_stage_model.transformer.text_model.") - 1, ROLE_TE, 0},
    {"cond_stage_model.transformer.", sizeof("cond_stage_model.transformer.") - 1, ROLE_TE_NAI,
     0}, /* NovelAI-era files: no text_model. */
    {"cond_stage_model.model.", sizeof("cond_stage_model.model.") - 1, ROLE_TE, 0},
    {"conditioner.embedders.0.transformer.text_model.",
     sizeof("conditioner.embedders.0.transformer.text_model.") - 1, ROLE_TE, 0},
    {"conditioner.embedders.0.model.", sizeof("conditioner.embedders.0.model.") - 1, ROLE_OPENCLIP0,
     0},
    {"conditioner.embedders.1.model.", sizeof("conditioner.embedders.1.model.") - 1, ROLE_TE2, 0},
    {"conditioner.embedders.0.open_clip.", sizeof("conditioner.embedders.0.open_clip.") - 1,
     ROLE_IMGENC, 0}, /* SVD's OpenCLIP-H image encoder */
    {"depth_model.", sizeof("depth_model.") - 1, ROLE_DEPTH, 0},
    {"embedder.", sizeof("embedder.") - 1, ROLE_UNCLIP, 0},
    {"noise_augmentor.", sizeof("noise_augmentor.") - 1, ROLE_UNCLIP, 0},
    {"control_model.", sizeof("control_model.") - 1, ROLE_CONTROL, 0},
    {"text_encoders.clip_l.transformer.", sizeof("text_encoders.clip_l.transformer.") - 1, ROLE_TE,
     0},
    {"text_encoders.clip_g.transformer.", sizeof("text_encoders.clip_g.transformer.") - 1, ROLE_TE2,
     0},
    {"text_encoders.t5xxl.transformer.", sizeof("text_encoders.t5xxl.transformer.") - 1, ROLE_T5,
     0},
    /* diffusers folders (names as the diffusers reader gives them) */
    {"unet/", sizeof("unet/") - 1, ROLE_UNET, 0},
    {"transformer/", sizeof("transformer/") - 1, ROLE_UNET, 0},
    {"prior/", sizeof("prior/") - 1, ROLE_UNET, 0},
    {"decoder/", sizeof("decoder/") - 1, ROLE_UNET, 0},
    {"vae/", sizeof("vae/") - 1, ROLE_VAE, 0},
    {"text_encoder/", sizeof("text_encoder/") - 1, ROLE_TE, 0},
    {"text_encoder_2/", sizeof("text_encoder_2/") - 1, ROLE_TE2, 0},
    {"text_encoder_3/", sizeof("text_encoder_3/") - 1, ROLE_T5, 0},
    /* ComfyUI / Forge / Cascade-style short prefixes: only in front of real stems */
    {"model.", sizeof("model.") - 1, ROLE_UNET, 1},
    {"diffusion_model.", sizeof("diffusion_model.") - 1, ROLE_UNET, 1},
    {"vae.", sizeof("vae.") - 1, ROLE_VAE, 1},
    {"text_encoder.", sizeof("text_encoder.") - 1, ROLE_TE, 1},
};

/* Bare stems, checked in this order (T5 before VAE: both start "encoder."). */
static const char *const stems_t5[] = {"encoder.block.", "encoder.final_layer_norm.",
                                       "encoder.embed_tokens.", "shared.weight", NULL};
static const char *const stems_te[] = {
    "text_model.", "transformer.resblocks.", "token_embedding.", "positional_embedding",
    "ln_final.",   "text_projection",        "logit_scale",      NULL};
static const char *const stems_vae[] = {"encoder.", "decoder.", "quant_conv.", "post_quant_conv.",
                                        NULL};
static const char *const stems_unet[] = {
    /* LDM / SGM UNet, ControlNet */
    "input_blocks.", "middle_block.", "output_blocks.", "out.", "time_embed.", "label_emb.",
    "zero_convs.", "input_hint_block.", "middle_block_out.",
    /* MMDiT (SD3) */
    "joint_blocks.", "x_embedder.", "context_embedder.", "t_embedder.", "y_embedder.", "pos_embed",
    "final_layer.",
    /* Flux */
    "double_blocks.", "single_blocks.", "img_in.", "txt_in.", "time_in.", "vector_in.",
    "guidance_in.",
    /* PixArt */
    "t_block.", "blocks.", "ar_embedder.", "csize_embedder.",
    /* Stable Cascade */
    "clf.", "clip_txt_mapper.", "clip_txt_pooled_mapper.", "clip_img_mapper.", "clip_mapper.",
    "effnet_mapper.", "pixels_mapper.", "embedding.",
    /* diffusers UNet / transformers / ControlNet */
    "down_blocks.", "up_blocks.", "mid_block.", "conv_in.", "conv_norm_out.", "conv_out.",
    "time_embedding.", "add_embedding.", "class_embedding.", "transformer_blocks.",
    "single_transformer_blocks.", "adaln_single.", "caption_projection.", "proj_out.", "norm_out.",
    "time_text_embed.", "controlnet_cond_embedding.", "controlnet_down_blocks.",
    "controlnet_mid_block.", "scaled_fp8", NULL};

/* Tensors every LDM checkpoint may carry besides its components (arenasys OPTIONAL list). */
static const char *const buffers[] = {"alphas_cumprod",
                                      "alphas_cumprod_prev",
                                      "betas",
                                      "log_one_minus_alphas_cumprod",
                                      "posterior_log_variance_clipped",
                                      "posterior_mean_coef1",
                                      "posterior_mean_coef2",
                                      "posterior_variance",
                                      "sqrt_alphas_cumprod",
                                      "sqrt_one_minus_alphas_cumprod",
                                      "sqrt_recip_alphas_cumprod",
                                      "sqrt_recipm1_alphas_cumprod",
                                      "logvar",
                                      "model_ema.decay",
                                      "model_ema.num_updates",
                                      NULL};
static const char *const markers[] = {"v_pred", "ztsnr", "edm_mean", "edm_std", NULL};

static int in_list(const char *s, const char *const *list)
{
    for (int i = 0; list[i]; i++)
        if (s[0] == list[i][0] && !strcmp(s, list[i]))
            return 1;
    return 0;
}

static int starts_any(const char *s, const char *const *list)
{
    for (int i = 0; list[i]; i++)
        if (s[0] == list[i][0] && !strncmp(s, list[i], strlen(list[i])))
            return 1;
    return 0;
}

static int bare_role(const char *s)
{
    if (starts_any(s, stems_t5))
        return ROLE_T5;
    if (starts_any(s, stems_te))
        return ROLE_TE;
    if (starts_any(s, stems_vae))
        return ROLE_VAE;
    if (starts_any(s, stems_unet))
        return ROLE_UNET;
    return ROLE_OTHER;
}

static int stem_ok(int role, const char *s)
{
    switch (role) {
    case ROLE_UNET:
        return starts_any(s, stems_unet);
    case ROLE_VAE:
        return starts_any(s, stems_vae);
    case ROLE_TE:
        return starts_any(s, stems_te);
    default:
        return 1;
    }
}

void id_assign_roles(struct id_ctx *c)
{
    for (size_t i = 0; i < c->n; i++) {
        const struct ckpt_tensor *t = ckpt_tensorset_tensor(c->ts, i);
        const char *name = t->name;
        int role = ROLE_OTHER;
        size_t strip = 0;
        const char *prefix = "";
        if (in_list(name, buffers)) {
            role = ROLE_BUFFER;
        } else if (in_list(name, markers)) {
            role = ROLE_MARKER;
        } else {
            for (size_t k = 0; k < sizeof prefixes / sizeof *prefixes; k++) {
                const struct prefix_row *p = &prefixes[k];
                size_t pl = p->len;
                if (name[0] != p->prefix[0])
                    continue;
                if (strncmp(name, p->prefix, pl) != 0)
                    continue;
                if (p->need_stem && !stem_ok(p->role, name + pl))
                    continue;
                role = p->role;
                strip = pl;
                prefix = p->prefix;
                break;
            }
            if (role == ROLE_OTHER)
                role = bare_role(name);
            /* the autoencoder's training-loss discriminator is not part of the VAE */
            if (role == ROLE_VAE && !strncmp(name + strip, "loss.", 5))
                role = ROLE_OTHER;
        }
        c->role[i] = (uint8_t)role;
        c->strip[i] = (uint16_t)(strip < 0xffff ? strip : 0);
        if (!c->prefix[role])
            c->prefix[role] = prefix;
        c->count[role]++;
        c->bytes[role] += t->nbytes;
    }
}
