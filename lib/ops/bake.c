/* ckpt_bake: LoRA-type networks (and a VAE) baked into a checkpoint.
 *
 * Which checkpoint tensor a network module changes: every UNet/text-encoder weight of the
 * checkpoint gets the module names trainers give it: kohya's LDM-style names (SDXL:
 * lora_unet_input_blocks_4_1_proj_in), the diffusers-style names of SD1/SD2 LoRAs
 * (lora_unet_down_blocks_0_attentions_0_proj_in, from the LDM <-> diffusers UNet map of
 * research/merge.md 5.3), CLIP-L as lora_te_/lora_te1_text_model_*, and OpenCLIP encoders
 * (SD2, SDXL's bigG) by their Hugging Face names, q/k/v_proj landing on row slices of the fused
 * in_proj_weight. A network for another family is refused; modules with no target are counted.
 * The math is in bake_math.c. Not for merging checkpoints (merge.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckptdb/buf.h"
#include "ckptdb/fp.h"
#include "ckptdb/identify.h"
#include "ops_impl.h"

struct target {
    char *name; /* module name, e.g. lora_unet_..._to_q */
    size_t item;
    uint64_t row0, rows;
};

struct tmap {
    struct target *t;
    size_t n, cap;
};

static int tmap_add(struct tmap *m, const char *name, size_t item, uint64_t row0, uint64_t rows)
{
    if (m->n == m->cap) {
        size_t c = m->cap ? m->cap * 2 : 1024;
        struct target *q = realloc(m->t, c * sizeof *q);
        if (!q)
            return CKPT_E_NOMEM;
        m->t = q;
        m->cap = c;
    }
    if (!(m->t[m->n].name = strdup(name)))
        return CKPT_E_NOMEM;
    m->t[m->n].item = item;
    m->t[m->n].row0 = row0;
    m->t[m->n].rows = rows;
    m->n++;
    return CKPT_OK;
}

static int tcmp(const void *a, const void *b)
{
    return strcmp(((const struct target *)a)->name, ((const struct target *)b)->name);
}

static const struct target *tmap_find(const struct tmap *m, const char *name)
{
    struct target key = {(char *)name, 0, 0, 0};
    return bsearch(&key, m->t, m->n, sizeof *m->t, tcmp);
}

/* prefix + s with dots as underscores */
static void us(char *out, size_t n, const char *prefix, const char *s)
{
    size_t o = (size_t)snprintf(out, n, "%s", prefix);
    for (; *s && o + 1 < n; s++)
        out[o++] = *s == '.' ? '_' : *s;
    out[o < n ? o : n - 1] = 0;
}

static int num(const char **s, int *v)
{
    if (**s < '0' || **s > '9')
        return 0;
    *v = 0;
    while (**s >= '0' && **s <= '9' && *v < 1000)
        *v = *v * 10 + (*(*s)++ - '0');
    return 1;
}

static void resnet_part(const char *p, char *out, size_t n)
{
    static const char *const map[][2] = {
        {"in_layers.0", "norm1"},          {"in_layers.2", "conv1"},
        {"out_layers.0", "norm2"},         {"out_layers.3", "conv2"},
        {"emb_layers.1", "time_emb_proj"}, {"skip_connection", "conv_shortcut"}};
    for (size_t i = 0; i < sizeof map / sizeof *map; i++)
        if (!strcmp(p, map[i][0])) {
            snprintf(out, n, "%s", map[i][1]);
            return;
        }
    snprintf(out, n, "%s", p);
}

/* LDM UNet module path (no prefix, no .weight) -> diffusers path; 0 when unmapped. */
static int ldm_to_diffusers(const char *k, char *out, size_t n)
{
    char part[256];
    int b, s;
    const char *p;
    if (!strcmp(k, "time_embed.0"))
        return snprintf(out, n, "time_embedding.linear_1"), 1;
    if (!strcmp(k, "time_embed.2"))
        return snprintf(out, n, "time_embedding.linear_2"), 1;
    if (!strcmp(k, "input_blocks.0.0"))
        return snprintf(out, n, "conv_in"), 1;
    if (!strcmp(k, "out.0"))
        return snprintf(out, n, "conv_norm_out"), 1;
    if (!strcmp(k, "out.2"))
        return snprintf(out, n, "conv_out"), 1;
    if (!strncmp(k, "input_blocks.", 13)) {
        p = k + 13;
        if (!num(&p, &b) || *p++ != '.' || !num(&p, &s) || b < 1)
            return 0;
        int i = (b - 1) / 3, j = (b - 1) % 3;
        const char *rest = *p == '.' ? p + 1 : p;
        if (j == 2) /* downsampler */
            return snprintf(out, n, "down_blocks.%d.downsamplers.0.conv", i), !strcmp(rest, "op");
        if (s == 0) {
            resnet_part(rest, part, sizeof part);
            return snprintf(out, n, "down_blocks.%d.resnets.%d.%s", i, j, part), 1;
        }
        return snprintf(out, n, "down_blocks.%d.attentions.%d.%s", i, j, rest), 1;
    }
    if (!strncmp(k, "middle_block.", 13)) {
        p = k + 13;
        if (!num(&p, &s) || *p != '.')
            return 0;
        if (s == 1)
            return snprintf(out, n, "mid_block.attentions.0.%s", p + 1), 1;
        resnet_part(p + 1, part, sizeof part);
        return snprintf(out, n, "mid_block.resnets.%d.%s", s / 2, part), 1;
    }
    if (!strncmp(k, "output_blocks.", 14)) {
        p = k + 14;
        if (!num(&p, &b) || *p++ != '.' || !num(&p, &s))
            return 0;
        int i = b / 3, j = b % 3;
        const char *rest = *p == '.' ? p + 1 : p;
        if (s == 0) {
            resnet_part(rest, part, sizeof part);
            return snprintf(out, n, "up_blocks.%d.resnets.%d.%s", i, j, part), 1;
        }
        if (s == 1 && i > 0)
            return snprintf(out, n, "up_blocks.%d.attentions.%d.%s", i, j, rest), 1;
        return snprintf(out, n, "up_blocks.%d.upsamplers.0.%s", i, rest), 1;
    }
    return 0;
}

/* Names of every target in the checkpoint. */
static int build_targets(struct ckpt_tensorset *ts, const size_t *item_of, struct tmap *m)
{
    char name[1024], mod[1024], d[1024];
    for (size_t i = 0; i < ckpt_tensorset_count(ts); i++) {
        const struct ckpt_tensor *t = ckpt_tensorset_tensor(ts, i);
        const char *k = t->name;
        size_t kl = strlen(k);
        int rc = CKPT_OK;
        if (kl > 7 && !strcmp(k + kl - 7, ".weight")) {
            snprintf(mod, sizeof mod, "%.*s", (int)(kl - 7), k);
            const char *r;
            if (!strncmp(mod, "model.diffusion_model.", 22)) {
                r = mod + 22;
                us(name, sizeof name, "lora_unet_", r);
                rc = tmap_add(m, name, item_of[i], 0, t->shape[0]);
                if (!rc && ldm_to_diffusers(r, d, sizeof d)) {
                    us(name, sizeof name, "lora_unet_", d);
                    rc = tmap_add(m, name, item_of[i], 0, t->shape[0]);
                }
            } else if (!strncmp(mod, "cond_stage_model.transformer.", 29)) {
                r = mod + 29;
                us(name, sizeof name, "lora_te_", strncmp(r, "text_model.", 11) ? r : r);
                if (strncmp(r, "text_model.", 11)) { /* NovelAI-era names */
                    snprintf(d, sizeof d, "text_model.%s", r);
                    us(name, sizeof name, "lora_te_", d);
                }
                rc = tmap_add(m, name, item_of[i], 0, t->shape[0]);
            } else if (!strncmp(mod, "conditioner.embedders.0.transformer.", 36)) {
                us(name, sizeof name, "lora_te1_", mod + 36);
                rc = tmap_add(m, name, item_of[i], 0, t->shape[0]);
            }
        }
        /* OpenCLIP: SD2 (lora_te_) and SDXL bigG (lora_te2_) */
        const char *oc = NULL, *pre = NULL;
        if (!strncmp(k, "cond_stage_model.model.transformer.resblocks.", 45)) {
            oc = k + 45;
            pre = "lora_te_";
        } else if (!strncmp(k, "conditioner.embedders.1.model.transformer.resblocks.", 52)) {
            oc = k + 52;
            pre = "lora_te2_";
        }
        int layer;
        if (!rc && oc && num(&oc, &layer) && *oc == '.') {
            oc++;
            char base[128];
            snprintf(base, sizeof base, "%stext_model_encoder_layers_%d_", pre, layer);
            if (!strcmp(oc, "attn.in_proj_weight") && t->shape[0] % 3 == 0) {
                uint64_t dm = t->shape[0] / 3;
                static const char *const qkv[] = {"self_attn_q_proj", "self_attn_k_proj",
                                                  "self_attn_v_proj"};
                for (int q = 0; q < 3 && !rc; q++) {
                    snprintf(name, sizeof name, "%s%s", base, qkv[q]);
                    rc = tmap_add(m, name, item_of[i], dm * (uint64_t)q, dm);
                }
            } else {
                static const char *const map[][2] = {{"attn.out_proj.weight", "self_attn_out_proj"},
                                                     {"mlp.c_fc.weight", "mlp_fc1"},
                                                     {"mlp.c_proj.weight", "mlp_fc2"}};
                for (size_t q = 0; q < 3; q++)
                    if (!strcmp(oc, map[q][0])) {
                        snprintf(name, sizeof name, "%s%s", base, map[q][1]);
                        rc = tmap_add(m, name, item_of[i], 0, t->shape[0]);
                    }
            }
        }
        if (rc)
            return rc;
    }
    qsort(m->t, m->n, sizeof *m->t, tcmp);
    return CKPT_OK;
}

static double scalar(struct ckpt_tensorset *ts, const struct ckpt_tensor *t, int *ok)
{
    unsigned char buf[8];
    *ok = 0;
    if (!t || t->numel != 1 || t->nbytes > 8 || ckpt_tensorset_read_tensor(ts, t, buf, 8, NULL))
        return 0;
    *ok = 1;
    switch (t->dtype) {
    case CKPT_DT_F32: {
        float f;
        memcpy(&f, buf, 4);
        return f;
    }
    case CKPT_DT_F64: {
        double f;
        memcpy(&f, buf, 8);
        return f;
    }
    case CKPT_DT_F16: {
        uint16_t h;
        memcpy(&h, buf, 2);
        return ckpt_f16_to_f32(h);
    }
    case CKPT_DT_BF16: {
        uint16_t h;
        memcpy(&h, buf, 2);
        uint32_t u = (uint32_t)h << 16;
        float f;
        memcpy(&f, &u, 4);
        return f;
    }
    case CKPT_DT_I64: {
        int64_t v;
        memcpy(&v, buf, 8);
        return (double)v;
    }
    case CKPT_DT_I32: {
        int32_t v;
        memcpy(&v, buf, 4);
        return v;
    }
    default:
        *ok = 0;
        return 0;
    }
}

static const struct ckpt_tensor *part(struct ckpt_tensorset *ts, const char *mod, const char *p)
{
    char b[1100];
    if ((size_t)snprintf(b, sizeof b, "%s.%s", mod, p) >= sizeof b)
        return NULL;
    return ckpt_tensorset_find(ts, b);
}

static int add_term(struct ops_item *it, const struct ops_term *t)
{
    struct ops_term *q = realloc(it->terms, (it->n_terms + 1) * sizeof *q);
    if (!q)
        return CKPT_E_NOMEM;
    it->terms = q;
    q[it->n_terms++] = *t;
    it->kind = OPS_BAKE;
    return CKPT_OK;
}

/* Apply one LoRA file (input slot `in`) to the plan. */
static int apply_lora(struct ops_plan *p, int in, double weight, const struct tmap *m,
                      struct ckpt_op_report *rep, struct ckpt_error *err)
{
    struct ckpt_tensorset *ts = p->in[in];
    const char *path = ckpt_tensorset_path(ts);
    uint64_t applied = 0;
    for (size_t i = 0; i < ckpt_tensorset_count(ts); i++) {
        const struct ckpt_tensor *t = ckpt_tensorset_tensor(ts, i);
        const char *dot = strchr(t->name, '.');
        if (!dot)
            continue;
        char mod[1024];
        snprintf(mod, sizeof mod, "%.*s", (int)(dot - t->name), t->name);
        const char *what = dot + 1;
        /* one entry per module: its "primary" tensor */
        struct ops_term term;
        memset(&term, 0, sizeof term);
        term.in = in;
        uint64_t rank = 0;
        if (!strcmp(what, "lora_down.weight")) {
            term.net = OPS_NET_LORA;
            term.t[0] = part(ts, mod, "lora_up.weight");
            term.t[1] = t;
            term.t[2] = part(ts, mod, "lora_mid.weight");
            if (!term.t[0])
                return ckpt_error_setf(err, CKPT_E_FORMAT, path, "module '%s' has no lora_up", mod);
            rank = t->shape[0];
        } else if (!strcmp(what, "hada_w1_a")) {
            term.net = OPS_NET_LOHA;
            term.t[0] = t;
            term.t[1] = part(ts, mod, "hada_w1_b");
            term.t[2] = part(ts, mod, "hada_w2_a");
            term.t[3] = part(ts, mod, "hada_w2_b");
            if (!term.t[1] || !term.t[2] || !term.t[3])
                return ckpt_error_setf(err, CKPT_E_FORMAT, path, "LoHa module '%s' is incomplete",
                                       mod);
            if (part(ts, mod, "hada_t1") || part(ts, mod, "hada_t2"))
                return ckpt_error_setf(err, CKPT_E_UNSUPPORTED, path,
                                       "LoHa module '%s' uses Tucker factors (hada_t1/t2), "
                                       "which ckptdb does not bake",
                                       mod);
            rank = term.t[1]->shape[0];
        } else if (!strcmp(what, "lokr_w1") || !strcmp(what, "lokr_w1_a")) {
            term.net = OPS_NET_LOKR;
            term.t[0] = part(ts, mod, "lokr_w1");
            term.t[1] = part(ts, mod, "lokr_w1_a");
            term.t[2] = part(ts, mod, "lokr_w1_b");
            term.t[3] = part(ts, mod, "lokr_w2");
            term.t[4] = part(ts, mod, "lokr_w2_a");
            term.t[5] = part(ts, mod, "lokr_w2_b");
            if ((!term.t[0] && !(term.t[1] && term.t[2])) ||
                (!term.t[3] && !(term.t[4] && term.t[5])))
                return ckpt_error_setf(err, CKPT_E_FORMAT, path, "LoKr module '%s' is incomplete",
                                       mod);
            if (part(ts, mod, "lokr_t2"))
                return ckpt_error_setf(err, CKPT_E_UNSUPPORTED, path,
                                       "LoKr module '%s' uses a Tucker factor (lokr_t2), which "
                                       "ckptdb does not bake",
                                       mod);
            if (term.t[0] && term.t[1])
                continue; /* counted once, at lokr_w1 */
            rank = term.t[2] ? term.t[2]->shape[0] : term.t[5] ? term.t[5]->shape[0] : 0;
        } else {
            continue;
        }
        int ok;
        double alpha = scalar(ts, part(ts, mod, "alpha"), &ok);
        double sc = 1.0;
        if (ok && rank)
            sc = alpha / (double)rank;
        else if (!ok && term.net != OPS_NET_LOKR)
            sc = 1.0; /* no alpha: alpha = rank */
        term.scale = weight * sc;
        const struct target *tg = tmap_find(m, mod);
        if (!tg) {
            rep->lora_unmatched++;
            continue;
        }
        term.row0 = tg->row0;
        term.rows = tg->rows;
        if (add_term(&p->items[tg->item], &term))
            return ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
        applied++;
        rep->lora_modules++;
    }
    if (!applied)
        return ckpt_error_setf(err, CKPT_E_FORMAT, path,
                               "no module of this network matches a tensor of the checkpoint");
    return CKPT_OK;
}

int ckpt_bake(const struct ckpt_bake_options *o, struct ckpt_op_report *rep, struct ckpt_error *err)
{
    struct ckpt_op_report local = {0};
    if (!rep)
        rep = &local;
    memset(rep, 0, sizeof *rep);
    if (!o->vae && !o->n_loras)
        return ckpt_error_set(err, CKPT_E_ARG, "nothing to bake: give --vae and/or --lora");
    if (o->n_loras + 2 > OPS_MAX_IN)
        return ckpt_error_set(err, CKPT_E_ARG, "too many LoRAs (at most %d)", OPS_MAX_IN - 2);
    const char *ins[OPS_MAX_IN];
    size_t nin = 0;
    ins[nin++] = o->input;
    for (size_t i = 0; i < o->n_loras; i++)
        ins[nin++] = o->loras[i].path;
    if (o->vae)
        ins[nin++] = o->vae;
    int rc = ops_check_output(o->c.output, ins, nin, err);
    if (rc)
        return rc;
    struct ops_plan p;
    memset(&p, 0, sizeof p);
    unsigned *roles = NULL;
    size_t *item_of = NULL;
    struct tmap m = {0};
    for (size_t i = 0; i < nin && !rc; i++) {
        rc = ops_open(&p.in[i], ins[i], &o->c, err);
        if (!rc)
            p.n_in++;
    }
    int fam = 0, var = 0;
    if (!rc)
        rc = ops_family(p.in[0], &fam, &var, err);
    const char *fn = ckpt_family_name((enum ckpt_family)fam);
    snprintf(rep->family, sizeof rep->family, "%s", fn ? fn : "");
    for (size_t l = 0; l < o->n_loras && !rc; l++) {
        struct ckpt_identify_result res;
        struct ckpt_identify_options io = {0};
        io.no_data = 1;
        rc = ckpt_identify(p.in[1 + l], &io, &res, err);
        if (rc)
            break;
        const char *lf = ckpt_family_name(res.family);
        if (res.kind != CKPT_KIND_LORA)
            rc = ckpt_error_setf(err, CKPT_E_FORMAT, o->loras[l].path,
                                 "is not a LoRA-type network (identified as %s)",
                                 ckpt_kind_name(res.kind) ? ckpt_kind_name(res.kind) : "unknown");
        else if (res.network != CKPT_NET_LORA && res.network != CKPT_NET_LOCON &&
                 res.network != CKPT_NET_LOHA && res.network != CKPT_NET_LOKR)
            rc = ckpt_error_setf(err, CKPT_E_UNSUPPORTED, o->loras[l].path,
                                 "is a %s network; ckptdb bakes lora, locon, loha and lokr",
                                 ckpt_network_name(res.network));
        else if (res.family && fam && res.family != (enum ckpt_family)fam)
            rc = ckpt_error_setf(err, CKPT_E_FORMAT, o->loras[l].path,
                                 "is a %s network but %s is %s: refused (nothing was written)",
                                 lf ? lf : "?", o->input, fn ? fn : "?");
        ckpt_identify_result_release(&res);
    }
    if (!rc)
        rc = ops_roles(p.in[0], &roles, NULL, err);
    struct ckpt_tensorset *ts = p.in[0];
    size_t n = ckpt_tensorset_count(ts);
    rep->tensors_in = n;
    rep->input_bytes = ckpt_tensorset_file_size(ts);
    int vae_in = o->vae ? (int)(nin - 1) : -1;
    if (!rc && !(item_of = calloc(n ? n : 1, sizeof *item_of)))
        rc = ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
    for (size_t i = 0; i < n && !rc; i++) {
        const struct ckpt_tensor *t = ckpt_tensorset_tensor(ts, i);
        item_of[i] = p.n;
        if (vae_in >= 0 && roles[i] == CKPT_COMP_VAE) {
            const char *s = strncmp(t->name, "first_stage_model.", 18) ? t->name : t->name + 18;
            const struct ckpt_tensor *vt = ops_vae_find(p.in[vae_in], s);
            if (vt) {
                rc = ops_vae_item(&p, vae_in, t, vt, o->c.dtype, err);
                rep->vae_replaced++;
                rep->copied++;
                continue;
            }
        }
        if (ckpt_dtype_is_quantized(t->dtype)) {
            rc = ckpt_error_setf(err, CKPT_E_UNSUPPORTED, o->input,
                                 "tensor '%s' is %s (GGUF block-quantized): cannot bake into it",
                                 t->name, ckpt_dtype_name(t->dtype));
            break;
        }
        struct ops_item *it = ops_add(&p, t->name, t);
        if (!it) {
            rc = ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
            break;
        }
        it->kind = OPS_COPY;
        it->in[0] = 0;
        it->src[0] = t;
        if (ops_numeric(t->dtype))
            it->dtype = ops_out_dtype(t->dtype, o->c.dtype);
    }
    if (!rc && o->vae && !rep->vae_replaced)
        rc = ckpt_error_setf(err, CKPT_E_FORMAT, o->vae,
                             "no tensor matches the checkpoint's VAE keys (first_stage_model.*)");
    if (!rc && o->n_loras)
        rc = build_targets(ts, item_of, &m);
    for (size_t l = 0; l < o->n_loras && !rc; l++)
        rc = apply_lora(&p, (int)(1 + l), o->loras[l].weight, &m, rep, err);
    for (size_t i = 0; i < p.n && !rc; i++) {
        if (p.items[i].kind == OPS_BAKE) {
            rep->merged++;
            const struct ckpt_tensor *t = p.items[i].src[0];
            if (t->dtype != CKPT_DT_F16 && t->dtype != CKPT_DT_BF16 && t->dtype != CKPT_DT_F32 &&
                t->dtype != CKPT_DT_F64)
                rc = ckpt_error_setf(err, CKPT_E_FORMAT, o->input,
                                     "network target '%s' is not floating point", t->name);
        } else if (p.items[i].in[0] == 0) {
            rep->copied++;
        }
    }
    if (!rc) {
        struct ckpt_buf pb = {0};
        struct ckpt_json j;
        ckpt_json_init(&j, &pb, 0);
        ckpt_json_obj_begin(&j);
        ckpt_json_key(&j, "loras");
        ckpt_json_arr_begin(&j);
        for (size_t l = 0; l < o->n_loras; l++) {
            ckpt_json_obj_begin(&j);
            ckpt_json_key(&j, "path");
            ckpt_json_str(&j, o->loras[l].path);
            ckpt_json_key(&j, "weight");
            ckpt_json_double(&j, o->loras[l].weight);
            ckpt_json_obj_end(&j);
        }
        ckpt_json_arr_end(&j);
        ckpt_json_key(&j, "vae");
        ckpt_json_str(&j, o->vae);
        ckpt_json_key(&j, "formula");
        ckpt_json_str(&j, "kohya: W += weight * up @ down * alpha / rank; LyCORIS LoHa/LoKr");
        ckpt_json_obj_end(&j);
        struct ops_recipe r = {0};
        r.operation = "bake";
        r.inputs = ins;
        r.n_inputs = nin;
        r.ts = p.in;
        r.c = &o->c;
        r.params_json = ckpt_buf_cstr(&pb);
        r.a1111_method = NULL;
        r.vae = o->vae;
        r.family = fam;
        r.variant = var;
        r.copy_meta_from = 0;
        rc = ops_recipe_meta(&p, &r, rep, err);
        ckpt_buf_free(&pb);
    }
    if (!rc)
        rc = ops_run(&p, &o->c, rep, err);
    for (size_t i = 0; i < m.n; i++)
        free(m.t[i].name);
    free(m.t);
    free(item_of);
    free(roles);
    for (size_t i = 0; i < p.n_in; i++)
        ckpt_tensorset_close(p.in[i]);
    ops_plan_free(&p);
    if (rep == &local)
        ckpt_op_report_release(&local);
    return rc;
}
