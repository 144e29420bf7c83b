/* Precision, components and problems of an identified file.
 *
 * Precision: the dtype holding >= 90% of the floating-point bytes, else "mixed". Components:
 * which roles (rules_prefix.c) hold tensors, per family table of what a complete checkpoint
 * needs. Problems follow arenasys' model-toolkit report (EMA, junk, precision waste, CLIP
 * mislabelled, broken CLIP position ids) plus missing components and shapes that do not fit
 * the family. The position_ids check is the only place identification reads tensor data: a
 * tensor of at most a few hundred bytes. Not for deciding kind/family (rules_*.c). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckptdb/fp.h"
#include "identify_impl.h"

/* ---- precision ---------------------------------------------------------------------------- */

static int prec_of(enum ckpt_dtype t)
{
    if (ckpt_dtype_is_quantized(t))
        return CKPT_PREC_QUANTIZED;
    switch (t) {
    case CKPT_DT_F32:
    case CKPT_DT_F64:
        return CKPT_PREC_FP32;
    case CKPT_DT_F16:
        return CKPT_PREC_FP16;
    case CKPT_DT_BF16:
        return CKPT_PREC_BF16;
    case CKPT_DT_F8_E4M3:
    case CKPT_DT_F8_E5M2:
    case CKPT_DT_F8_E4M3FNUZ:
    case CKPT_DT_F8_E5M2FNUZ:
        return CKPT_PREC_FP8;
    default:
        return CKPT_PREC_UNKNOWN;
    }
}

void id_precision(struct id_ctx *c)
{
    uint64_t by[CKPT_PREC_COUNT] = {0}, total = 0;
    for (size_t i = 0; i < c->n; i++) {
        const struct ckpt_tensor *t = ckpt_tensorset_tensor(c->ts, i);
        int p = prec_of(t->dtype);
        if (p == CKPT_PREC_UNKNOWN || c->role[i] == ROLE_MARKER)
            continue;
        by[p] += t->nbytes;
        total += t->nbytes;
    }
    struct ckpt_identify_result *r = c->r;
    r->precision = CKPT_PREC_UNKNOWN;
    if (!total)
        return;
    int best = CKPT_PREC_FP32;
    for (int p = 1; p < CKPT_PREC_COUNT; p++)
        if (by[p] > by[best])
            best = p;
    /* block-quantized files keep norms/biases in F32: any majority of quantized bytes counts */
    if (by[CKPT_PREC_QUANTIZED] * 2 > total)
        best = CKPT_PREC_QUANTIZED;
    else if (by[best] < total - total / 10)
        best = CKPT_PREC_MIXED;
    r->precision = (enum ckpt_precision)best;
    char parts[256];
    size_t o = 0;
    parts[0] = 0;
    for (int p = 1; p < CKPT_PREC_COUNT; p++)
        if (by[p] && o < sizeof parts) {
            double pct = 100.0 * (double)by[p] / (double)total;
            int n = pct < 0.1 ? snprintf(parts + o, sizeof parts - o, "%s%s <0.1%%", o ? ", " : "",
                                         ckpt_precision_name((enum ckpt_precision)p))
                              : snprintf(parts + o, sizeof parts - o, "%s%s %.1f%%", o ? ", " : "",
                                         ckpt_precision_name((enum ckpt_precision)p), pct);
            if (n > 0)
                o += (size_t)n;
        }
    idc_evidence(c, "precision %s: floating-point bytes are %s", ckpt_precision_name(r->precision),
                 parts);
}

/* ---- components ------------------------------------------------------------------------------ */

static unsigned te_bit_openclip0(struct id_ctx *c)
{
    const struct ckpt_tensor *t = idc_find(c, ROLE_OPENCLIP0, "ln_final.weight");
    return t && t->ndim == 1 && t->shape[0] == 1280 ? CKPT_COMP_TE2 : CKPT_COMP_TE;
}

void id_components(struct id_ctx *c)
{
    struct ckpt_identify_result *r = c->r;
    if (r->kind == CKPT_KIND_LORA)
        return; /* set by rules_lora.c: the parts the network touches */
    if (r->kind != CKPT_KIND_CHECKPOINT && r->kind != CKPT_KIND_DIFFUSION_MODEL)
        return;
    unsigned m = 0;
    if (c->count[ROLE_UNET])
        m |= CKPT_COMP_UNET;
    if (c->count[ROLE_VAE])
        m |= CKPT_COMP_VAE;
    if (c->count[ROLE_TE] || c->count[ROLE_TE_NAI])
        m |= CKPT_COMP_TE;
    if (c->count[ROLE_OPENCLIP0])
        m |= te_bit_openclip0(c);
    if (c->count[ROLE_TE2])
        m |= CKPT_COMP_TE2;
    if (c->count[ROLE_T5])
        m |= (m & CKPT_COMP_TE2) ? CKPT_COMP_TE3 : CKPT_COMP_TE2;
    if (c->count[ROLE_EMA])
        m |= CKPT_COMP_EMA;
    r->components = m;
}

/* ---- problems ------------------------------------------------------------------------------ */

static const char *hb(uint64_t n, char *out, size_t len)
{
    if (n >= 1000000000ull)
        snprintf(out, len, "%.2f GB", (double)n / 1e9);
    else if (n >= 1000000ull)
        snprintf(out, len, "%.1f MB", (double)n / 1e6);
    else if (n >= 1000ull)
        snprintf(out, len, "%.1f KB", (double)n / 1e3);
    else
        snprintf(out, len, "%" PRIu64 " B", n);
    return out;
}

/* What a complete checkpoint of each family holds (the T5 of SD3 is optional: Stability ships
 * files with and without it). */
static const struct {
    enum ckpt_family fam;
    unsigned need;
} needs[] = {
    {CKPT_FAM_SD1, CKPT_COMP_UNET | CKPT_COMP_VAE | CKPT_COMP_TE},
    {CKPT_FAM_SD2, CKPT_COMP_UNET | CKPT_COMP_VAE | CKPT_COMP_TE},
    {CKPT_FAM_SDXL, CKPT_COMP_UNET | CKPT_COMP_VAE | CKPT_COMP_TE | CKPT_COMP_TE2},
    {CKPT_FAM_SDXL_REFINER, CKPT_COMP_UNET | CKPT_COMP_VAE | CKPT_COMP_TE2},
    {CKPT_FAM_SD3_MEDIUM, CKPT_COMP_UNET | CKPT_COMP_VAE | CKPT_COMP_TE | CKPT_COMP_TE2},
    {CKPT_FAM_SD35_MEDIUM, CKPT_COMP_UNET | CKPT_COMP_VAE | CKPT_COMP_TE | CKPT_COMP_TE2},
    {CKPT_FAM_SD35_LARGE, CKPT_COMP_UNET | CKPT_COMP_VAE | CKPT_COMP_TE | CKPT_COMP_TE2},
    {CKPT_FAM_FLUX_DEV, CKPT_COMP_UNET | CKPT_COMP_VAE | CKPT_COMP_TE | CKPT_COMP_TE2},
    {CKPT_FAM_FLUX_SCHNELL, CKPT_COMP_UNET | CKPT_COMP_VAE | CKPT_COMP_TE | CKPT_COMP_TE2},
};

static void missing_components(struct id_ctx *c)
{
    struct ckpt_identify_result *r = c->r;
    if (r->kind != CKPT_KIND_CHECKPOINT)
        return;
    for (size_t i = 0; i < sizeof needs / sizeof *needs; i++) {
        if (needs[i].fam != r->family)
            continue;
        unsigned miss = needs[i].need & ~r->components;
        char list[128];
        size_t o = 0;
        list[0] = 0;
        for (unsigned b = 1; b <= CKPT_COMP_EMA; b <<= 1)
            if (miss & b) {
                int n = snprintf(list + o, sizeof list - o, "%s%s", o ? ", " : "",
                                 ckpt_component_name(b));
                if (n > 0 && (size_t)n < sizeof list - o)
                    o += (size_t)n;
            }
        if (miss)
            idc_problem(c, "missing-component",
                        "a %s checkpoint has no %s; UIs will silently keep the previously "
                        "loaded one",
                        ckpt_family_name(r->family), list);
    }
}

static void ema_and_junk(struct id_ctx *c)
{
    char b[32];
    if (c->count[ROLE_EMA])
        idc_problem(c, "ema-present",
                    "%zu EMA tensors (model_ema.*, %s) are kept beside the weights; pruning them "
                    "saves that much",
                    c->count[ROLE_EMA], hb(c->bytes[ROLE_EMA], b, sizeof b));
    if (c->r->kind != CKPT_KIND_CHECKPOINT && c->r->kind != CKPT_KIND_DIFFUSION_MODEL &&
        c->r->kind != CKPT_KIND_VAE && c->r->kind != CKPT_KIND_TEXT_ENCODER)
        return;
    size_t n = c->count[ROLE_OTHER];
    if (c->r->kind != CKPT_KIND_CHECKPOINT)
        n += c->count[ROLE_CONTROL];
    if (!n)
        return;
    const char *example = NULL;
    for (size_t i = 0; i < c->n && !example; i++)
        if (c->role[i] == ROLE_OTHER)
            example = ckpt_tensorset_tensor(c->ts, i)->name;
    idc_problem(c, "junk-keys", "%zu tensor%s (%s) belong%s to no component, e.g. '%s'", n,
                n == 1 ? "" : "s", hb(c->bytes[ROLE_OTHER], b, sizeof b), n == 1 ? "s" : "",
                example ? example : "?");
}

static void precision_waste(struct id_ctx *c)
{
    struct ckpt_identify_result *r = c->r;
    if (r->kind == CKPT_KIND_EMBEDDING || r->kind == CKPT_KIND_UNKNOWN)
        return;
    uint64_t f32 = 0, f64 = 0;
    for (size_t i = 0; i < c->n; i++) {
        const struct ckpt_tensor *t = ckpt_tensorset_tensor(c->ts, i);
        if (c->role[i] == ROLE_BUFFER || c->role[i] == ROLE_MARKER)
            continue;
        if (t->dtype == CKPT_DT_F32)
            f32 += t->nbytes;
        else if (t->dtype == CKPT_DT_F64)
            f64 += t->nbytes;
    }
    uint64_t saved = f32 / 2 + f64 / 4 * 3;
    if (saved < (1u << 20))
        return;
    char b1[32], b2[32];
    idc_problem(c, "precision-waste",
                "%s of fp32/fp64 weights where fp16 is the norm; converting saves %s",
                hb(f32 + f64, b1, sizeof b1), hb(saved, b2, sizeof b2));
}

static void clip_mislabelled(struct id_ctx *c)
{
    if (c->count[ROLE_TE_NAI])
        idc_problem(c, "clip-mislabelled",
                    "%zu text-encoder tensors use the old NovelAI-era prefix "
                    "cond_stage_model.transformer.* without text_model.; A1111 renames them, "
                    "other tools may not load them",
                    c->count[ROLE_TE_NAI]);
}

static double pos_value(enum ckpt_dtype dt, const unsigned char *buf, uint64_t k)
{
    switch (dt) {
    case CKPT_DT_I64: {
        int64_t x;
        memcpy(&x, buf + k * 8, 8);
        return (double)x;
    }
    case CKPT_DT_I32: {
        int32_t x;
        memcpy(&x, buf + k * 4, 4);
        return x;
    }
    case CKPT_DT_F32: {
        float x;
        memcpy(&x, buf + k * 4, 4);
        return x;
    }
    case CKPT_DT_F64: {
        double x;
        memcpy(&x, buf + k * 8, 8);
        return x;
    }
    default: {
        uint16_t h;
        memcpy(&h, buf + k * 2, 2);
        return dt == CKPT_DT_F16 ? ckpt_f16_to_f32(h) : ckpt_bf16_to_f32(h);
    }
    }
}

/* Right when what torch's .long() makes of it (truncation) is k and nothing was cut off. */
static int pos_ok(double v, uint64_t k)
{
    return v == (double)k;
}

static void position_ids(struct id_ctx *c)
{
    for (size_t i = 0; i < c->n; i++) {
        int role = c->role[i];
        if (role != ROLE_TE && role != ROLE_TE_NAI && role != ROLE_TE2)
            continue;
        const struct ckpt_tensor *t = ckpt_tensorset_tensor(c->ts, i);
        size_t l = strlen(t->name);
        if (l < 12 || strcmp(t->name + l - 12, "position_ids"))
            continue;
        uint64_t n = t->ndim ? t->shape[t->ndim - 1] : 0;
        if (t->ndim < 1 || t->ndim > 2 || (t->ndim == 2 && t->shape[0] != 1) || n != 77) {
            char sh[96];
            idc_shape_str(t, sh, sizeof sh);
            idc_problem(c, "unexpected-shape", "%s is %s, expected [1,77]", t->name, sh);
            continue;
        }
        int is_int = t->dtype == CKPT_DT_I64 || t->dtype == CKPT_DT_I32;
        int is_float = t->dtype == CKPT_DT_F32 || t->dtype == CKPT_DT_F16 ||
                       t->dtype == CKPT_DT_BF16 || t->dtype == CKPT_DT_F64;
        if (!is_int && !is_float) {
            idc_problem(c, "broken-clip-position-ids", "%s is stored as %s, not int64", t->name,
                        ckpt_dtype_name(t->dtype));
            continue;
        }
        if (c->opt->no_data)
            continue;
        unsigned char buf[77 * 8];
        struct ckpt_error err;
        if (t->nbytes > sizeof buf || ckpt_tensorset_read_tensor(c->ts, t, buf, sizeof buf, &err)) {
            idc_problem(c, "broken-clip-position-ids", "%s could not be read", t->name);
            continue;
        }
        c->r->data_bytes_read += t->nbytes;
        /* runs of wrong positions with the same error print as one range */
        char list[240];
        size_t o = 0, bad = 0, runs = 0;
        list[0] = 0;
        double vals[77];
        for (uint64_t k = 0; k < 77; k++)
            vals[k] = pos_value(t->dtype, buf, k);
        for (uint64_t k = 0; k < 77; k++) {
            if (pos_ok(vals[k], k))
                continue;
            uint64_t e = k;
            while (e + 1 < 77 && !pos_ok(vals[e + 1], e + 1) &&
                   vals[e + 1] - (double)(e + 1) == vals[k] - (double)k)
                e++;
            bad += e - k + 1;
            if (++runs <= 6 && o < sizeof list - 60) {
                int nn = e == k
                             ? snprintf(list + o, sizeof list - o, "%s%llu holds %.6g",
                                        o ? ", " : "", (unsigned long long)k, vals[k])
                             : snprintf(list + o, sizeof list - o, "%s%llu..%llu hold %.6g..%.6g",
                                        o ? ", " : "", (unsigned long long)k, (unsigned long long)e,
                                        vals[k], vals[e]);
                if (nn > 0)
                    o += (size_t)nn;
            } else if (runs == 7 && o < sizeof list - 6) {
                o += (size_t)snprintf(list + o, sizeof list - o, ", ...");
            }
            k = e;
        }
        if (bad)
            idc_problem(c, "broken-clip-position-ids",
                        "%s is not 0..76%s: %zu wrong position%s (%s); tokens at those "
                        "positions get the wrong position embedding",
                        t->name, is_float ? " (stored as float, as merges leave it)" : "", bad,
                        bad == 1 ? "" : "s", list);
        else if (is_float)
            idc_evidence(c, "position_ids: %s is stored as %s but every value is exact", t->name,
                         ckpt_dtype_name(t->dtype));
    }
}

/* Shapes a family fixes: a mismatch means a mis-assembled or mislabelled file. */
struct shape_rule {
    uint32_t fams;
    uint8_t role;
    const char *key;
    int8_t dim;
    uint64_t want;
    const char *what;
};

#define F(x) FAMBIT(CKPT_FAM_##x)
static const struct shape_rule shape_rules[] = {
    {F(SD1), ROLE_TE, "embeddings.token_embedding.weight", 1, 768,
     "SD1's UNet attends to a 768-wide CLIP ViT-L"},
    {F(SD1) | F(SD2) | F(SDXL) | F(SDXL_REFINER), ROLE_VAE, "decoder.conv_in.weight", 1, 4,
     "this family's UNet works on 4-channel latents"},
    {F(SD3_MEDIUM) | F(SD35_MEDIUM) | F(SD35_LARGE) | F(FLUX_DEV) | F(FLUX_SCHNELL), ROLE_VAE,
     "decoder.conv_in.weight", 1, 16, "this family works on 16-channel latents"},
    {F(SD1), ROLE_TE, "token_embedding.weight", 1, 768,
     "SD1's UNet attends to a 768-wide CLIP ViT-L"},
    {F(SD2), ROLE_TE, "embeddings.token_embedding.weight", 1, 1024,
     "SD2's UNet attends to a 1024-wide OpenCLIP-H"},
    {F(SD2), ROLE_TE, "token_embedding.weight", 1, 1024,
     "SD2's UNet attends to a 1024-wide OpenCLIP-H"},
    {F(SDXL), ROLE_TE2, "token_embedding.weight", 1, 1280, "SDXL's second encoder is bigG (1280)"},
    {F(SDXL), ROLE_TE, "embeddings.token_embedding.weight", 1, 768,
     "SDXL's first encoder is CLIP ViT-L (768)"},
    {F(SD1) | F(SD2) | F(SDXL), ROLE_UNET, "out.2.weight", 0, 4,
     "the UNet predicts 4 latent channels"},
};

static void unexpected_shapes(struct id_ctx *c)
{
    enum ckpt_family fam = c->r->family;
    if (c->r->kind != CKPT_KIND_CHECKPOINT && c->r->kind != CKPT_KIND_DIFFUSION_MODEL)
        return;
    for (size_t i = 0; i < sizeof shape_rules / sizeof *shape_rules; i++) {
        const struct shape_rule *s = &shape_rules[i];
        if (!(s->fams & FAMBIT(fam)) || !c->count[s->role])
            continue;
        const struct ckpt_tensor *t = idc_find(c, s->role, s->key);
        if (!t)
            continue;
        if (t->ndim > (uint32_t)s->dim && t->shape[s->dim] == s->want)
            continue;
        char sh[96];
        idc_shape_str(t, sh, sizeof sh);
        idc_problem(c, "unexpected-shape", "%s %s is %s, expected dim %d = %llu: %s",
                    idc_role_name(s->role), s->key, sh, s->dim, (unsigned long long)s->want,
                    s->what);
    }
}

void id_problems(struct id_ctx *c)
{
    missing_components(c);
    ema_and_junk(c);
    precision_waste(c);
    clip_mislabelled(c);
    position_ids(c);
    unexpected_shapes(c);
}
