/* Rule tables: LoRA-type add-on networks: which network type, which family, which parts.
 *
 * Part names are LyCORIS's weight lists and A1111's module acceptors (lora/locon, loha, lokr,
 * ia3, glora, (b)oft, full/diff, norm, dora_scale), PEFT/diffusers (lora_A/lora_B, old
 * to_k_lora.down), kohya module prefixes (lora_unet_, lora_te_, lora_te1_/te2_, oft_unet_);
 * see ../shared/research/identify.md §5. Family comes from the layers touched and their widths
 * (InvokeAI's rule: the in-width of the cross-attention to_k/to_v = text context width, te1+te2
 * = SDXL, transformer_blocks index >= 2 = SDXL), then from metadata (A1111's only source).
 * Where shapes and metadata disagree, shapes win and the evidence says so. DyLoRA and LECO have
 * no structural marker: DyLoRA comes from ss_network_module, LECO from an attention-only UNet
 * LoRA whose name or metadata says LECO. Not for any other kind. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "identify_impl.h"

enum part {
    P_NONE = 0,
    P_LORA, /* lora_down/lora_up */
    P_MID,  /* lora_mid (CP decomposition of a conv) */
    P_PEFT, /* lora_A/lora_B */
    P_OLD,  /* old diffusers attention-processor LoRA */
    P_LOHA,
    P_LOKR,
    P_OFT,
    P_GLORA,
    P_IA3,
    P_FULL,
    P_NORM,
    P_DORA,
    P_AUX, /* alpha, scale, rescale, bias, bundled embeddings */
    P_COUNT
};

/* Part names: the last segment of a key ("hada_w1_a"), or the segment before ".weight"
 * ("lora_down" in "x.lora_down.weight"). Looked up by segment, not by trying every suffix:
 * this runs on every key of every file. */
struct part_name {
    const char *seg;
    uint8_t len;
    uint8_t part;
};
#define PN(s, p)                                                                                   \
    {                                                                                              \
        s, sizeof(s) - 1, p                                                                        \
    }
static const struct part_name tail_parts[] = {
    PN("hada_w1_a", P_LOHA),
    PN("hada_w1_b", P_LOHA),
    PN("hada_w2_a", P_LOHA),
    PN("hada_w2_b", P_LOHA),
    PN("hada_t1", P_LOHA),
    PN("hada_t2", P_LOHA),
    PN("lokr_w1", P_LOKR),
    PN("lokr_w1_a", P_LOKR),
    PN("lokr_w1_b", P_LOKR),
    PN("lokr_w2", P_LOKR),
    PN("lokr_w2_a", P_LOKR),
    PN("lokr_w2_b", P_LOKR),
    PN("lokr_t1", P_LOKR),
    PN("lokr_t2", P_LOKR),
    PN("oft_blocks", P_OFT),
    PN("oft_diag", P_OFT),
    PN("on_input", P_IA3),
    PN("diff", P_FULL),
    PN("diff_b", P_FULL),
    PN("w_norm", P_NORM),
    PN("b_norm", P_NORM),
    PN("dora_scale", P_DORA),
    PN("lora_magnitude_vector", P_DORA),
    PN("alpha", P_AUX),
};
static const struct part_name weight_parts[] = {
    PN("lora_down", P_LORA),
    PN("lora_up", P_LORA),
    PN("lora_mid", P_MID),
    PN("lora_A", P_PEFT),
    PN("lora_B", P_PEFT),
    PN("a1", P_GLORA),
    PN("a2", P_GLORA),
    PN("b1", P_GLORA),
    PN("b2", P_GLORA),
    PN("bm", P_GLORA),
    PN("lora_magnitude_vector", P_DORA),
};

/* Module prefixes of kohya / LyCORIS files: every key under them is part of the network. */
static const char *const module_prefixes[] = {
    "lora_unet_", "lora_te_",          "lora_te1_",        "lora_te2_",   "lora_te3_", "lycoris_",
    "oft_unet_",  "lora_transformer_", "lora_prior_unet_", "bundle_emb.", NULL};

static int has_module_prefix(const char *name)
{
    if (name[0] != 'l' && name[0] != 'o' && name[0] != 'b')
        return 0;
    for (int i = 0; module_prefixes[i]; i++)
        if (!strncmp(name, module_prefixes[i], strlen(module_prefixes[i])))
            return 1;
    return 0;
}

static int seg_lookup(const struct part_name *t, size_t n, const char *seg, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].len == len && !memcmp(t[i].seg, seg, len))
            return t[i].part;
    return P_NONE;
}

/* Part type of a tensor name (P_NONE when it is not a network part); *suffix = where the part
 * begins (the '.' or '_' before it), so name..suffix is the module. */
static int part_of(const char *name, const char **suffix)
{
    size_t l = strlen(name);
    const char *last = memrchr(name, '.', l);
    int best = P_NONE;
    const char *at = name + l;
    if (last) {
        const char *tail = last + 1;
        size_t tl = (size_t)(name + l - tail);
        if (tl == 6 && !memcmp(tail, "weight", 6)) {
            const char *prev = last > name ? memrchr(name, '.', (size_t)(last - name)) : NULL;
            if (prev) {
                const char *seg = prev + 1;
                size_t sl = (size_t)(last - seg);
                best =
                    seg_lookup(weight_parts, sizeof weight_parts / sizeof *weight_parts, seg, sl);
                at = prev;
                if (best == P_NONE &&
                    ((sl == 4 && !memcmp(seg, "down", 4)) || (sl == 2 && !memcmp(seg, "up", 2)))) {
                    /* old diffusers: "to_k_lora.down.weight" or "to_k.lora.down.weight" */
                    if (prev - name >= 5 && !memcmp(prev - 4, "lora", 4) &&
                        (prev[-5] == '_' || prev[-5] == '.')) {
                        best = P_OLD;
                        at = prev - 5;
                    }
                }
            }
        } else {
            best = seg_lookup(tail_parts, sizeof tail_parts / sizeof *tail_parts, tail, tl);
            at = last;
        }
    }
    if (best == P_NONE && has_module_prefix(name)) {
        /* IA3 "weight" and the generic parts under a kohya module name */
        if (l >= 7 && !memcmp(name + l - 7, ".weight", 7))
            best = strncmp(name, "bundle_emb.", 11) ? P_IA3 : P_AUX;
        else
            best = P_AUX;
        const char *dot = strchr(name, '.');
        at = dot ? dot : name + l;
    }
    if (suffix)
        *suffix = best == P_NONE ? name + l : at;
    return best;
}

int id_is_lora_name(const char *name, const char **part)
{
    return part_of(name, part);
}

size_t id_lora_count(struct id_ctx *c)
{
    size_t n = 0;
    for (size_t i = 0; i < c->n; i++)
        if (part_of(ckpt_tensorset_tensor(c->ts, i)->name, NULL) != P_NONE)
            n++;
    return n;
}

/* ---- module widths ----------------------------------------------------------------------- */

static const struct ckpt_tensor *find2(struct id_ctx *c, const char *base, const char *suf)
{
    char k[1024];
    int n = snprintf(k, sizeof k, "%s%s", base, suf);
    if (n < 0 || (size_t)n >= sizeof k)
        return NULL;
    return ckpt_tensorset_find(c->ts, k);
}

static uint64_t dim_of(const struct ckpt_tensor *t, uint32_t d)
{
    return t && t->ndim > d ? t->shape[d] : 0;
}

/* The input width of the layer a network module adapts (0 when its parts do not show it). */
static uint64_t module_in_width(struct id_ctx *c, const char *base)
{
    static const char *const in1[] = {
        ".lora_down.weight", ".lora_A.weight", "_lora.down.weight", ".lora.down.weight",
        ".hada_w1_b",        ".diff",          ".a1.weight",        NULL};
    for (int i = 0; in1[i]; i++) {
        uint64_t w = dim_of(find2(c, base, in1[i]), 1);
        if (w)
            return w;
    }
    const struct ckpt_tensor *w1 = find2(c, base, ".lokr_w1");
    if (!w1)
        w1 = find2(c, base, ".lokr_w1_b");
    const struct ckpt_tensor *w2 = find2(c, base, ".lokr_w2");
    if (!w2)
        w2 = find2(c, base, ".lokr_w2_b");
    if (w1 && w2 && w1->ndim == 2 && w2->ndim >= 2)
        return w1->shape[1] * w2->shape[1];
    return 0;
}

/* Output width of an OFT module: blocks x block size (OFT rotates the output). */
static uint64_t module_oft_width(struct id_ctx *c, const char *base)
{
    const struct ckpt_tensor *t = find2(c, base, ".oft_blocks");
    if (t && t->ndim == 3)
        return t->shape[0] * t->shape[1];
    if (t && t->ndim == 4)
        return t->shape[1] * t->shape[2];
    return 0;
}

/* ---- the pass over the keys ------------------------------------------------------------- */

struct lora_scan {
    size_t n[P_COUNT];
    const char *example[P_COUNT];
    int te, te1, te2, unet;
    int unet_non_attn;
    const char *conv_example; /* a part on a convolution / resnet layer */
    const char *sdxl_hint, *flux_hint, *sd3_hint, *sd35m_hint;
    char xattn[512]; /* module base of a cross-attention to_k/to_v */
    char tattn[512]; /* module base of a text-encoder attention projection */
    char jqkv[512];  /* module base of an MMDiT qkv */
    uint32_t oft_ndim;
};

static int contains_any(const char *s, const char *const *list)
{
    for (int i = 0; list[i]; i++)
        if (strstr(s, list[i]))
            return 1;
    return 0;
}

static void module_base(const char *name, const char *suffix, char *out, size_t outlen)
{
    size_t l = (size_t)(suffix - name);
    if (l >= outlen)
        l = outlen - 1;
    memcpy(out, name, l);
    out[l] = 0;
}

static int block_index_ge2(const char *s)
{
    /* kohya SDXL names: ..._transformer_blocks_N_...; diffusers: .transformer_blocks.N. */
    const char *p = s;
    while ((p = strstr(p, "transformer_blocks")) != NULL) {
        p += 18;
        if ((*p == '_' || *p == '.') && p[1] >= '0' && p[1] <= '9') {
            long v = strtol(p + 1, NULL, 10);
            if (v >= 2)
                return 1;
        }
    }
    return 0;
}

static void scan(struct id_ctx *c, struct lora_scan *s)
{
    static const char *const te_marks[] = {"lora_te", "text_encoder", "te_text_model", NULL};
    static const char *const te2_marks[] = {"lora_te2_", "text_encoder_2", NULL};
    static const char *const conv_marks[] = {
        "resnets",       "in_layers",  "out_layers", "skip_connection",
        "downsamplers",  "upsamplers", "_op.",       "_op_",
        "conv_shortcut", "emb_layers", NULL};
    static const char *const attn_marks[] = {"attn1", "attn2", "_attn_", ".attn.", NULL};
    static const char *const sdxl_marks[] = {"lora_unet_input_blocks", "lora_unet_output_blocks",
                                             "lora_unet_middle_block", NULL};
    static const char *const flux_marks[] = {"double_blocks", "single_blocks",
                                             "single_transformer_blocks", NULL};
    static const char *const sd3_marks[] = {"joint_blocks", "context_block", NULL};
    static const char *const xattn_marks[] = {
        "attn2_to_k.", "attn2.to_k.", "attn2_to_v.", "attn2.to_v.", "attn2.processor.to_k_lora",
        NULL};
    static const char *const tattn_marks[] = {"self_attn_q_proj", "self_attn.q_proj",
                                              "self_attn_k_proj", "self_attn.k_proj", NULL};
    memset(s, 0, sizeof *s);
    /* the parts of one module (lora_down, lora_up, alpha, ...) follow each other and share the
       module name, and every mark below lies in the module name: judge each module once */
    const char *prev = NULL;
    size_t prev_len = 0;
    int prev_te = 0;
    for (size_t i = 0; i < c->n; i++) {
        const struct ckpt_tensor *t = ckpt_tensorset_tensor(c->ts, i);
        const char *suffix;
        int p = part_of(t->name, &suffix);
        if (p == P_NONE)
            continue;
        s->n[p]++;
        if (!s->example[p])
            s->example[p] = t->name;
        if (p == P_AUX)
            continue;
        const char *nm = t->name;
        size_t base_len = (size_t)(suffix - nm);
        if (prev && base_len == prev_len && memcmp(nm, prev, base_len) == 0) {
            if (!prev_te) { /* what depends on the tensor itself, not its name */
                if (!s->conv_example && (p == P_MID || (p == P_LORA && t->ndim == 4 &&
                                                        (t->shape[2] > 1 || t->shape[3] > 1))))
                    s->conv_example = nm;
                if (p == P_OFT && t->ndim > s->oft_ndim)
                    s->oft_ndim = t->ndim;
            }
            continue;
        }
        prev = nm;
        prev_len = base_len;
        prev_te = contains_any(nm, te_marks);
        if (prev_te) {
            s->te = 1;
            if (contains_any(nm, te2_marks))
                s->te2 = 1;
            else if (strstr(nm, "lora_te1_") || strstr(nm, "text_encoder."))
                s->te1 = 1;
            if (!s->tattn[0] && contains_any(nm, tattn_marks))
                module_base(nm, suffix, s->tattn, sizeof s->tattn);
            continue;
        }
        s->unet = 1;
        if (!contains_any(nm, attn_marks))
            s->unet_non_attn = 1;
        if (!s->conv_example &&
            (contains_any(nm, conv_marks) || p == P_MID ||
             (p == P_LORA && t->ndim == 4 && (t->shape[2] > 1 || t->shape[3] > 1))))
            s->conv_example = nm;
        if (!s->sdxl_hint && (contains_any(nm, sdxl_marks) || block_index_ge2(nm)))
            s->sdxl_hint = nm;
        if (!s->flux_hint && contains_any(nm, flux_marks))
            s->flux_hint = nm;
        if (!s->sd3_hint && contains_any(nm, sd3_marks) && !contains_any(nm, flux_marks))
            s->sd3_hint = nm;
        if (!s->sd35m_hint && (strstr(nm, "x_block_attn2") || strstr(nm, "x_block.attn2")))
            s->sd35m_hint = nm;
        if (!s->xattn[0] && contains_any(nm, xattn_marks))
            module_base(nm, suffix, s->xattn, sizeof s->xattn);
        if (!s->jqkv[0] && strstr(nm, "joint_blocks") && strstr(nm, "qkv"))
            module_base(nm, suffix, s->jqkv, sizeof s->jqkv);
        if (p == P_OFT && t->ndim > s->oft_ndim)
            s->oft_ndim = t->ndim;
    }
}

/* ---- network type ------------------------------------------------------------------------- */

static int meta_mentions(struct id_ctx *c, const char *needle)
{
    size_t nm = ckpt_tensorset_meta_count(c->ts);
    for (size_t i = 0; i < nm; i++) {
        const char *k = ckpt_tensorset_meta_key(c->ts, i);
        const char *v = ckpt_tensorset_meta_value(c->ts, i);
        if (!strcmp(k, "ss_tag_frequency") || !strcmp(k, "ss_dataset_dirs"))
            continue; /* training captions say nothing about the method */
        if (strcasestr(k, needle) || (strlen(v) < 4096 && strcasestr(v, needle)))
            return 1;
    }
    return 0;
}

static void network(struct id_ctx *c, const struct lora_scan *s)
{
    struct ckpt_identify_result *r = c->r;
    const char *mod = ckpt_tensorset_meta_get(c->ts, "ss_network_module");
    const char *args = ckpt_tensorset_meta_get(c->ts, "ss_network_args");
    if (mod && !strcmp(mod, "networks.dylora")) {
        r->network = CKPT_NET_DYLORA;
        idc_evidence(c, "network dylora: plain lora_down/lora_up parts, and metadata "
                        "ss_network_module = networks.dylora (DyLoRA saves ordinary LoRA keys)");
        return;
    }
    if (s->n[P_DORA]) {
        r->network = CKPT_NET_DORA;
        idc_evidence(c,
                     "network dora: weight-decomposed LoRA, a magnitude vector per module "
                     "('%s')",
                     s->example[P_DORA]);
        return;
    }
    static const struct {
        int part;
        enum ckpt_network net;
        const char *why;
    } by_part[] = {
        {P_LOHA, CKPT_NET_LOHA, "Hadamard-product parts hada_w1_a/b, hada_w2_a/b"},
        {P_LOKR, CKPT_NET_LOKR, "Kronecker-product parts lokr_w1/lokr_w2"},
        {P_GLORA, CKPT_NET_GLORA, "generalised LoRA parts a1/a2/b1/b2"},
        {P_IA3, CKPT_NET_IA3, "IA3 scaling vectors (weight + on_input), no low-rank pair"},
        {P_FULL, CKPT_NET_FULL, "full weight differences (diff/diff_b)"},
        {P_NORM, CKPT_NET_FULL, "full normalisation-layer differences (w_norm/b_norm)"},
    };
    if (s->n[P_OFT]) {
        int boft = s->oft_ndim == 4 || (args && strstr(args, "boft"));
        r->network = boft ? CKPT_NET_BOFT : CKPT_NET_OFT;
        idc_evidence(c, "network %s: orthogonal fine-tuning blocks ('%s')%s",
                     ckpt_network_name(r->network), s->example[P_OFT],
                     boft ? ", butterfly-factored (4-D oft_blocks or algo boft)"
                          : ", block-diagonal (3-D oft_blocks)");
        return;
    }
    for (size_t i = 0; i < sizeof by_part / sizeof *by_part; i++)
        if (s->n[by_part[i].part]) {
            r->network = by_part[i].net;
            idc_evidence(c, "network %s: %s ('%s')", ckpt_network_name(r->network), by_part[i].why,
                         s->example[by_part[i].part]);
            return;
        }
    int lp = s->n[P_LORA] ? P_LORA : s->n[P_PEFT] ? P_PEFT : s->n[P_OLD] ? P_OLD : P_NONE;
    if (lp == P_NONE) {
        r->network = CKPT_NET_LORA;
        idc_evidence(c, "network lora: add-on module parts only (no decomposition recognised)");
        return;
    }
    const char *style = lp == P_LORA   ? "kohya/LyCORIS lora_down/lora_up"
                        : lp == P_PEFT ? "PEFT/diffusers lora_A/lora_B"
                                       : "old diffusers attention-processor to_*_lora";
    if (s->conv_example) {
        r->network = CKPT_NET_LOCON;
        idc_evidence(c, "network locon: %s pairs also on convolution/resnet layers ('%s')", style,
                     s->conv_example);
        return;
    }
    if (s->unet && !s->te && !s->unet_non_attn &&
        (idc_name_has(c, "leco") || meta_mentions(c, "leco"))) {
        r->network = CKPT_NET_LECO;
        idc_evidence(c,
                     "network leco: UNet-attention-only %s pairs (no text encoder) and the "
                     "%s says LECO (concept erasing)",
                     style, idc_name_has(c, "leco") ? "file name" : "metadata");
        return;
    }
    r->network = CKPT_NET_LORA;
    idc_evidence(c, "network lora: %s pairs on linear/attention layers only ('%s')", style,
                 s->example[lp]);
}

/* ---- family ------------------------------------------------------------------------------- */

static enum ckpt_family width_family(uint64_t w)
{
    switch (w) {
    case 768:
        return CKPT_FAM_SD1;
    case 1024:
        return CKPT_FAM_SD2;
    case 2048:
        return CKPT_FAM_SDXL;
    case 1280:
        return CKPT_FAM_SDXL_REFINER;
    default:
        return CKPT_FAM_UNKNOWN;
    }
}

static enum ckpt_family family(struct id_ctx *c, const struct lora_scan *s)
{
    const char *why = NULL;
    enum ckpt_family meta = id_family_metadata(c, &why);
    if (s->flux_hint) {
        enum ckpt_family f =
            meta == CKPT_FAM_FLUX_SCHNELL ? CKPT_FAM_FLUX_SCHNELL : CKPT_FAM_FLUX_DEV;
        idc_evidence(c, "family %s: adapts Flux blocks ('%s')%s", ckpt_family_name(f), s->flux_hint,
                     meta == CKPT_FAM_FLUX_SCHNELL || meta == CKPT_FAM_FLUX_DEV
                         ? "; metadata names the variant"
                         : "; dev and schnell share these layers, dev assumed (LoRAs are "
                           "trained on dev)");
        return f;
    }
    if (s->sd3_hint) {
        if (s->sd35m_hint) {
            idc_evidence(c, "family sd3.5-medium: adapts MMDiT-X attn2 layers ('%s')",
                         s->sd35m_hint);
            return CKPT_FAM_SD35_MEDIUM;
        }
        uint64_t w = s->jqkv[0] ? module_in_width(c, s->jqkv) : 0;
        if (w == 2432) {
            idc_evidence(c, "family sd3.5-large: MMDiT qkv in-width 2432 ('%s')", s->jqkv);
            return CKPT_FAM_SD35_LARGE;
        }
        enum ckpt_family f = meta == CKPT_FAM_SD35_MEDIUM ? meta : CKPT_FAM_SD3_MEDIUM;
        idc_evidence(c, "family %s: adapts MMDiT joint blocks ('%s')%s", ckpt_family_name(f),
                     s->sd3_hint, w == 1536 ? " 1536 wide" : "");
        return f;
    }
    uint64_t xw = s->xattn[0] ? module_in_width(c, s->xattn) : 0;
    enum ckpt_family f = width_family(xw);
    if (f != CKPT_FAM_UNKNOWN) {
        idc_evidence(c, "family %s: cross-attention module %s reads a %llu-wide text context",
                     ckpt_family_name(f), s->xattn, (unsigned long long)xw);
        if (meta != CKPT_FAM_UNKNOWN && meta != f)
            idc_evidence(c, "note: metadata %s says %s; the shapes win", why,
                         ckpt_family_name(meta));
        return f;
    }
    if (s->te1 && s->te2) {
        idc_evidence(c, "family sdxl: adapts both text encoders (lora_te1_/lora_te2_)");
        return CKPT_FAM_SDXL;
    }
    if (s->sdxl_hint) {
        idc_evidence(c, "family sdxl: SDXL-only layer layout ('%s')", s->sdxl_hint);
        return CKPT_FAM_SDXL;
    }
    if (s->tattn[0]) {
        uint64_t tw = module_in_width(c, s->tattn);
        if (!tw)
            tw = module_oft_width(c, s->tattn);
        if (s->te2 && tw == 1280) {
            idc_evidence(c, "family sdxl: second text encoder 1280 wide ('%s')", s->tattn);
            return CKPT_FAM_SDXL;
        }
        if (tw == 768 || tw == 1024) {
            f = tw == 768 ? CKPT_FAM_SD1 : CKPT_FAM_SD2;
            idc_evidence(c, "family %s: text-encoder attention %s is %llu wide",
                         ckpt_family_name(f), s->tattn, (unsigned long long)tw);
            return f;
        }
    }
    if (meta != CKPT_FAM_UNKNOWN) {
        idc_evidence(c, "family %s: metadata %s = %s (the shapes do not decide)",
                     ckpt_family_name(meta), why, ckpt_tensorset_meta_get(c->ts, why));
        return meta;
    }
    idc_evidence(c, "family unknown: the adapted layers exist in several families and no "
                    "width or metadata decides");
    return CKPT_FAM_UNKNOWN;
}

void id_lora(struct id_ctx *c)
{
    struct lora_scan *s = calloc(1, sizeof *s);
    if (!s) {
        c->oom = 1;
        return;
    }
    scan(c, s);
    network(c, s);
    c->r->family = family(c, s);
    if (s->unet)
        c->r->components |= CKPT_COMP_UNET;
    if (s->te && (!s->te2 || s->te1))
        c->r->components |= CKPT_COMP_TE;
    if (s->te2)
        c->r->components |= CKPT_COMP_TE2;
    free(s);
}
