/* The identification engine: runs the rule tables over a tensorset and owns the result.
 *
 * It sets up the context (roles and prefixes, see rules_prefix.c), evaluates rule rows
 * (idc_match), records evidence and problems, and calls each concern's table in order: kind,
 * family/network, variant, prediction, precision, components, problems, ecosystem. It holds no
 * knowledge of any particular architecture: that lives in the rules_*.c tables. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "identify_impl.h"

/* ---- names (TAXONOMY.md) --------------------------------------------------------------------- */

static const char *const kind_names[CKPT_KIND_COUNT] = {
    "unknown",   "checkpoint",   "diffusion-model", "vae",         "text-encoder", "lora",
    "embedding", "hypernetwork", "controlnet",      "t2i-adapter", "ip-adapter",   "clip-vision"};
static const char *const net_names[CKPT_NET_COUNT] = {NULL,   "lora",   "locon", "loha", "lokr",
                                                      "ia3",  "glora",  "oft",   "boft", "dora",
                                                      "full", "dylora", "leco"};
static const char *const fam_names[CKPT_FAM_COUNT] = {
    "unknown",      "sd1",          "sd2",         "sdxl",      "sdxl-refiner",
    "sd3-medium",   "sd3.5-medium", "sd3.5-large", "flux-dev",  "flux-schnell",
    "pixart-alpha", "pixart-sigma", "cascade-b",   "cascade-c", "svd"};
static const char *const eco_names[CKPT_ECO_COUNT] = {NULL, "pony", "illustrious", "noobai"};
static const char *const var_names[CKPT_VAR_COUNT] = {NULL,    "normal", "inpaint", "pix2pix",
                                                      "depth", "unclip", "fill",    "control"};
static const char *const pred_names[CKPT_PRED_COUNT] = {"unknown", "eps", "v", "edm"};
static const char *const prec_names[CKPT_PREC_COUNT] = {NULL,  "fp32",  "fp16",     "bf16",
                                                        "fp8", "mixed", "quantized"};
static const char *const comp_names[] = {"unet",           "vae", "text-encoder", "text-encoder-2",
                                         "text-encoder-3", "ema"};

#define NAME_OF(tab, v, n) ((unsigned)(v) < (n) ? (tab)[v] : NULL)
const char *ckpt_kind_name(enum ckpt_kind k)
{
    return NAME_OF(kind_names, k, CKPT_KIND_COUNT);
}
const char *ckpt_network_name(enum ckpt_network n)
{
    return NAME_OF(net_names, n, CKPT_NET_COUNT);
}
const char *ckpt_family_name(enum ckpt_family f)
{
    return NAME_OF(fam_names, f, CKPT_FAM_COUNT);
}
const char *ckpt_ecosystem_name(enum ckpt_ecosystem e)
{
    return NAME_OF(eco_names, e, CKPT_ECO_COUNT);
}
const char *ckpt_variant_name(enum ckpt_variant v)
{
    return NAME_OF(var_names, v, CKPT_VAR_COUNT);
}
const char *ckpt_prediction_name(enum ckpt_prediction p)
{
    return NAME_OF(pred_names, p, CKPT_PRED_COUNT);
}
const char *ckpt_precision_name(enum ckpt_precision p)
{
    return NAME_OF(prec_names, p, CKPT_PREC_COUNT);
}
const char *ckpt_component_name(unsigned bit)
{
    for (unsigned i = 0; i < sizeof comp_names / sizeof *comp_names; i++)
        if (bit == (1u << i))
            return comp_names[i];
    return NULL;
}

const char *idc_role_name(int role)
{
    static const char *const n[ROLE_COUNT] = {"other",
                                              "unet",
                                              "vae",
                                              "text encoder",
                                              "text encoder (NAI prefix)",
                                              "text encoder",
                                              "text encoder 2",
                                              "T5",
                                              "ema",
                                              "buffer",
                                              "marker",
                                              "depth model",
                                              "unclip embedder",
                                              "image encoder",
                                              "controlnet"};
    return role >= 0 && role < ROLE_COUNT ? n[role] : "";
}

/* ---- lookups, rules, evidence ---------------------------------------------------------------- */

const struct ckpt_tensor *idc_find(struct id_ctx *c, int role, const char *key)
{
    const char *p = role >= 0 && role < ROLE_COUNT && c->prefix[role] ? c->prefix[role] : "";
    if (role == ROLE_RAW)
        p = "";
    int n = snprintf(c->kbuf, sizeof c->kbuf, "%s%s", p, key);
    if (n < 0 || (size_t)n >= sizeof c->kbuf)
        return NULL;
    return ckpt_tensorset_find(c->ts, c->kbuf);
}

static int cond_holds(struct id_ctx *c, const struct id_cond *k, int main_role)
{
    int role = k->role == ROLE_MAIN ? main_role : k->role;
    if (k->op == OP_ROLE)
        return role < ROLE_COUNT && c->count[role] > 0;
    if (k->op == OP_PREFIX)
        return role < ROLE_COUNT && c->prefix[role] && strcmp(c->prefix[role], k->key) == 0;
    if (role < ROLE_COUNT && !c->count[role] && k->op != OP_ABSENT)
        return 0;
    const struct ckpt_tensor *t = NULL;
    if (role == ROLE_RAW || (role < ROLE_COUNT && c->count[role]))
        t = idc_find(c, role, k->key);
    switch (k->op) {
    case OP_HAS:
        return t != NULL;
    case OP_ABSENT:
        return t == NULL;
    case OP_DIM: {
        if (!t)
            return 0;
        int d = k->dim < 0 ? (int)t->ndim + k->dim : k->dim;
        return d >= 0 && (uint32_t)d < t->ndim && t->shape[d] == (uint64_t)k->val;
    }
    case OP_NDIM:
        return t && t->ndim == (uint64_t)k->val;
    default:
        return 1;
    }
}

const struct id_rule *idc_match(struct id_ctx *c, const struct id_rule *rules, size_t n,
                                int main_role, enum ckpt_family fam)
{
    for (size_t i = 0; i < n; i++) {
        const struct id_rule *r = &rules[i];
        if (r->fams && !(r->fams & FAMBIT(fam)))
            continue;
        int ok = 1;
        for (int k = 0; k < ID_MAXC && ok && r->c[k].op != OP_END; k++)
            ok = cond_holds(c, &r->c[k], main_role);
        if (ok)
            return r;
    }
    return NULL;
}

void idc_shape_str(const struct ckpt_tensor *t, char *out, size_t outlen)
{
    size_t o = 0;
    if (outlen < 4) {
        if (outlen)
            out[0] = 0;
        return;
    }
    out[o++] = '[';
    for (uint32_t d = 0; d < t->ndim && o + 24 < outlen; d++)
        o += (size_t)snprintf(out + o, outlen - o, "%s%llu", d ? "," : "",
                              (unsigned long long)t->shape[d]);
    snprintf(out + o, outlen - o, "]");
}

static char *vfmt(const char *fmt, va_list ap)
{
    va_list aq;
    va_copy(aq, ap);
    int n = vsnprintf(NULL, 0, fmt, aq);
    va_end(aq);
    if (n < 0)
        return NULL;
    char *s = malloc((size_t)n + 1);
    if (s)
        vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

static int grow(void **p, size_t n, size_t elem)
{
    /* capacity is 4, 8, 16, ...: grow when the count reaches it */
    if (n != 0 && (n < 4 || (n & (n - 1)) != 0))
        return 0;
    size_t cap = n ? n * 2 : 4;
    void *q = realloc(*p, cap * elem);
    if (!q)
        return -1;
    *p = q;
    return 0;
}

void idc_evidence(struct id_ctx *c, const char *fmt, ...)
{
    struct ckpt_identify_result *r = c->r;
    if (c->oom || r->n_evidence >= 64)
        return;
    if (grow((void **)&r->evidence, r->n_evidence, sizeof *r->evidence)) {
        c->oom = 1;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    char *s = vfmt(fmt, ap);
    va_end(ap);
    if (!s) {
        c->oom = 1;
        return;
    }
    r->evidence[r->n_evidence++] = s;
}

void idc_problem(struct id_ctx *c, const char *code, const char *fmt, ...)
{
    struct ckpt_identify_result *r = c->r;
    if (c->oom || r->n_problems >= 32)
        return;
    if (grow((void **)&r->problems, r->n_problems, sizeof *r->problems)) {
        c->oom = 1;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    char *s = vfmt(fmt, ap);
    va_end(ap);
    char *k = strdup(code);
    if (!s || !k) {
        free(s);
        free(k);
        c->oom = 1;
        return;
    }
    r->problems[r->n_problems].code = k;
    r->problems[r->n_problems].message = s;
    r->n_problems++;
}

void idc_evidence_rule(struct id_ctx *c, const char *field, const char *value,
                       const struct id_rule *rule, int main_role)
{
    char keys[768];
    size_t o = 0;
    keys[0] = 0;
    int last_role = -1;
    for (int k = 0; k < ID_MAXC && rule->c[k].op != OP_END; k++) {
        const struct id_cond *cd = &rule->c[k];
        if (cd->op == OP_ABSENT || cd->op == OP_ROLE || cd->op == OP_PREFIX)
            continue;
        int role = cd->role == ROLE_MAIN ? main_role : cd->role;
        const struct ckpt_tensor *t = idc_find(c, role, cd->key);
        char sh[96] = "";
        if (t)
            idc_shape_str(t, sh, sizeof sh);
        int n = snprintf(keys + o, sizeof keys - o, "%s%s%s%s", o ? " + " : "",
                         role != last_role ? idc_role_name(role) : "",
                         role != last_role && role < ROLE_COUNT ? " " : "", cd->key);
        if (n < 0 || (size_t)n >= sizeof keys - o)
            break;
        o += (size_t)n;
        if (sh[0]) {
            n = snprintf(keys + o, sizeof keys - o, " %s", sh);
            if (n < 0 || (size_t)n >= sizeof keys - o)
                break;
            o += (size_t)n;
        }
        last_role = role;
    }
    if (o)
        idc_evidence(c, "%s %s: %s: %s", field, value, keys, rule->why);
    else
        idc_evidence(c, "%s %s: %s", field, value, rule->why);
}

int idc_name_has(const struct id_ctx *c, const char *needle)
{
    return strstr(c->name_lc, needle) != NULL;
}

/* ---- the driver ------------------------------------------------------------------------------ */

void ckpt_identify_result_release(struct ckpt_identify_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_problems; i++) {
        free(r->problems[i].code);
        free(r->problems[i].message);
    }
    free(r->problems);
    for (size_t i = 0; i < r->n_evidence; i++)
        free(r->evidence[i]);
    free(r->evidence);
    memset(r, 0, sizeof *r);
}

int ckpt_identify(struct ckpt_tensorset *ts, const struct ckpt_identify_options *opt,
                  struct ckpt_identify_result *out, struct ckpt_error *err)
{
    static const struct ckpt_identify_options no_opt;
    memset(out, 0, sizeof *out);
    if (!ts)
        return ckpt_error_set(err, CKPT_E_ARG, "ckpt_identify: no tensorset");
    struct id_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return ckpt_error_setf(err, CKPT_E_NOMEM, ckpt_tensorset_path(ts), "out of memory");
    c->ts = ts;
    c->opt = opt ? opt : &no_opt;
    c->r = out;
    c->n = ckpt_tensorset_count(ts);
    c->role = calloc(c->n ? c->n : 1, 1);
    c->strip = calloc(c->n ? c->n : 1, sizeof *c->strip);
    const char *path = c->opt->name_hint ? c->opt->name_hint : ckpt_tensorset_path(ts);
    if (path) {
        const char *base = path;
        size_t len = strlen(path);
        while (len > 1 && path[len - 1] == '/')
            len--; /* a diffusers folder given as "dir/" */
        for (size_t i = 0; i + 1 < len; i++)
            if (path[i] == '/')
                base = path + i + 1;
        size_t bl = (size_t)(path + len - base);
        if (bl >= sizeof c->name_lc)
            bl = sizeof c->name_lc - 1;
        for (size_t i = 0; i < bl; i++)
            c->name_lc[i] = (char)tolower((unsigned char)base[i]);
        c->name_lc[bl] = 0;
    }
    out->format = ckpt_format_name(ckpt_tensorset_format(ts));
    if (!c->role || !c->strip) {
        c->oom = 1;
    } else {
        id_assign_roles(c);
        id_kind(c);
        id_precision(c);
        id_components(c);
        id_problems(c);
        id_ecosystem(c);
    }
    int oom = c->oom;
    free(c->role);
    free(c->strip);
    free(c);
    if (oom) {
        ckpt_identify_result_release(out);
        return ckpt_error_setf(err, CKPT_E_NOMEM, ckpt_tensorset_path(ts), "out of memory");
    }
    return CKPT_OK;
}
