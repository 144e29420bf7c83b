/* What every operation shares besides the engine: opening inputs, component roles (from
 * identify's prefix table, not re-derived), family checks, method and component names, and the
 * report. Not for tensor data (pipeline.c) or metadata (recipe.c). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckptdb/identify.h"
#include "ckptdb/safety.h"
#include <sys/stat.h>
#include "identify/identify_impl.h"
#include "ops_impl.h"

static const char *const method_names[] = {NULL,         "weighted-sum", "add-difference",
                                           "triple-sum", "ties",         "dare"};

const char *ckpt_merge_method_name(enum ckpt_merge_method m)
{
    return m >= CKPT_MERGE_WEIGHTED_SUM && m <= CKPT_MERGE_DARE ? method_names[m] : "?";
}

int ckpt_merge_method_parse(const char *s, enum ckpt_merge_method *out, struct ckpt_error *err)
{
    for (int m = CKPT_MERGE_WEIGHTED_SUM; m <= CKPT_MERGE_DARE; m++)
        if (!strcmp(s, method_names[m])) {
            *out = (enum ckpt_merge_method)m;
            return CKPT_OK;
        }
    return ckpt_error_set(err, CKPT_E_ARG,
                          "unknown method '%s' (methods: weighted-sum, add-difference, "
                          "triple-sum, ties, dare)",
                          s);
}

int ckpt_merge_method_inputs(enum ckpt_merge_method m)
{
    return m == CKPT_MERGE_WEIGHTED_SUM ? 2 : 3;
}

int ckpt_components_parse(const char *list, unsigned *mask, struct ckpt_error *err)
{
    static const struct {
        const char *name;
        unsigned bit;
    } comps[] = {{"unet", CKPT_COMP_UNET},
                 {"text-encoder", CKPT_COMP_TE},
                 {"text-encoder-2", CKPT_COMP_TE2},
                 {"vae", CKPT_COMP_VAE}};
    *mask = 0;
    const char *p = list;
    while (*p) {
        size_t n = strcspn(p, ",");
        unsigned bit = 0;
        for (size_t i = 0; i < sizeof comps / sizeof *comps; i++)
            if (strlen(comps[i].name) == n && !strncmp(p, comps[i].name, n))
                bit = comps[i].bit;
        if (!bit)
            return ckpt_error_set(err, CKPT_E_ARG,
                                  "unknown component '%.*s' (components: unet, text-encoder, "
                                  "text-encoder-2, vae)",
                                  (int)n, p);
        *mask |= bit;
        p += n;
        if (*p == ',')
            p++;
    }
    if (!*mask)
        return ckpt_error_set(err, CKPT_E_ARG, "no component given");
    return CKPT_OK;
}

int ops_roles(struct ckpt_tensorset *ts, unsigned **out, uint16_t **strip, struct ckpt_error *err)
{
    *out = NULL;
    if (strip)
        *strip = NULL;
    struct id_ctx c;
    memset(&c, 0, sizeof c);
    c.ts = ts;
    c.n = ckpt_tensorset_count(ts);
    c.role = malloc(c.n ? c.n : 1);
    c.strip = malloc((c.n ? c.n : 1) * sizeof *c.strip);
    unsigned *r = malloc((c.n ? c.n : 1) * sizeof *r);
    if (!c.role || !c.strip || !r) {
        free(c.role);
        free(c.strip);
        free(r);
        return ckpt_error_setf(err, CKPT_E_NOMEM, ckpt_tensorset_path(ts), "out of memory");
    }
    id_assign_roles(&c);
    for (size_t i = 0; i < c.n; i++) {
        switch (c.role[i]) {
        case ROLE_UNET:
            r[i] = CKPT_COMP_UNET;
            break;
        case ROLE_VAE:
            r[i] = CKPT_COMP_VAE;
            break;
        case ROLE_TE:
        case ROLE_TE_NAI:
        case ROLE_OPENCLIP0:
            r[i] = CKPT_COMP_TE;
            break;
        case ROLE_TE2:
            r[i] = CKPT_COMP_TE2;
            break;
        case ROLE_T5:
            r[i] = CKPT_COMP_TE3;
            break;
        case ROLE_EMA:
            r[i] = CKPT_COMP_EMA;
            break;
        case ROLE_BUFFER:
        case ROLE_MARKER:
            r[i] = OPS_ROLE_BUFFER;
            break;
        case ROLE_OTHER:
            r[i] = OPS_ROLE_JUNK;
            break;
        default: /* depth model, unCLIP embedder, image encoder, control model: parts of it */
            r[i] = OPS_ROLE_BUFFER;
        }
    }
    free(c.role);
    if (strip)
        *strip = c.strip;
    else
        free(c.strip);
    *out = r;
    return CKPT_OK;
}

int ops_family(struct ckpt_tensorset *ts, int *family, int *variant, struct ckpt_error *err)
{
    struct ckpt_identify_result res;
    struct ckpt_identify_options opt = {0};
    opt.no_data = 1;
    int rc = ckpt_identify(ts, &opt, &res, err);
    if (rc)
        return rc;
    *family = (int)res.family;
    if (variant)
        *variant = (int)res.variant;
    ckpt_identify_result_release(&res);
    return CKPT_OK;
}

int ops_open(struct ckpt_tensorset **ts, const char *path, const struct ckpt_op_common *c,
             struct ckpt_error *err)
{
    struct stat sb;
    if (!c->trust && stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
        struct ckpt_check_result res;
        memset(&res, 0, sizeof res);
        int rc = ckpt_check_file(path, c->limits, &res, err);
        if (rc) {
            ckpt_check_result_release(&res);
            return rc;
        }
        if (res.verdict != CKPT_VERDICT_SAFE) {
            rc = ckpt_error_setf(err, CKPT_E_FORMAT, path,
                                 "safety verdict is %s (%s); refused (--trust to use it anyway)",
                                 ckpt_verdict_name(res.verdict),
                                 res.n ? res.findings[0].what : "no detail");
            ckpt_check_result_release(&res);
            return rc;
        }
        ckpt_check_result_release(&res);
    }
    return ckpt_tensorset_open(ts, path, c->limits, err);
}

void ops_note(struct ckpt_op_report *rep, const char *fmt, ...)
{
    if (!rep)
        return;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char **q = realloc(rep->notes, (rep->n_notes + 1) * sizeof *q);
    if (!q)
        return;
    rep->notes = q;
    if ((q[rep->n_notes] = strdup(buf)))
        rep->n_notes++;
}

void ckpt_op_report_release(struct ckpt_op_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_only_b_names; i++)
        free(r->only_b_names[i]);
    free(r->only_b_names);
    for (size_t i = 0; i < r->n_notes; i++)
        free(r->notes[i]);
    free(r->notes);
    memset(r, 0, sizeof *r);
}
