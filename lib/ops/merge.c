/* ckpt_merge: decides, tensor by tensor, what the merged checkpoint holds.
 *
 * Keys follow A (in A's order). A key is merged when its component is selected, it is not
 * excluded, it is floating point, and B (and C) hold it; otherwise it is copied from A. Keys only
 * in B are reported, not written (A1111's behaviour). position_ids are never merged and are
 * written as exact integers (A's values rounded). A 9- or 8-channel A (inpainting, pix2pix) with
 * a 4-channel B merges the first 4 input channels, as A1111 does; the reverse order is refused.
 * Families must match and every merged shape must agree before anything is written. Not for the
 * arithmetic (merge_math.c) or the streaming (pipeline.c). */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckptdb/buf.h"
#include "ckptdb/identify.h"
#include "ops_impl.h"

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

static int is_float(enum ckpt_dtype t)
{
    return t == CKPT_DT_F16 || t == CKPT_DT_BF16 || t == CKPT_DT_F32 || t == CKPT_DT_F64;
}

static void shape_str(const struct ckpt_tensor *t, char *out, size_t n)
{
    size_t o = (size_t)snprintf(out, n, "[");
    for (uint32_t d = 0; d < t->ndim && o < n; d++)
        o += (size_t)snprintf(out + o, n - o, "%s%llu", d ? "," : "",
                              (unsigned long long)t->shape[d]);
    if (o < n)
        snprintf(out + o, n - o, "]");
}

const struct ckpt_tensor *ops_vae_find(struct ckpt_tensorset *vae, const char *stripped)
{
    static const char *const pre[] = {"", "first_stage_model.", "vae.", NULL};
    char buf[1024];
    for (int i = 0; pre[i]; i++) {
        snprintf(buf, sizeof buf, "%s%s", pre[i], stripped);
        const struct ckpt_tensor *t = ckpt_tensorset_find(vae, buf);
        if (t)
            return t;
    }
    return NULL;
}

/* Plan a tensor of the VAE file in place of the checkpoint's. */
int ops_vae_item(struct ops_plan *p, int vae_in, const struct ckpt_tensor *target,
                 const struct ckpt_tensor *vt, enum ckpt_dtype want, struct ckpt_error *err)
{
    if (vt->numel != target->numel || !is_float(vt->dtype)) {
        char a[96], b[96];
        shape_str(target, a, sizeof a);
        shape_str(vt, b, sizeof b);
        return ckpt_error_setf(err, CKPT_E_FORMAT, ckpt_tensorset_path(p->in[vae_in]),
                               "VAE tensor '%s' %s does not fit the checkpoint's %s %s", vt->name,
                               b, target->name, a);
    }
    struct ops_item *it = ops_add(p, target->name, target);
    if (!it)
        return ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
    it->kind = OPS_COPY;
    it->in[0] = vae_in;
    it->src[0] = vt;
    it->dtype = ops_out_dtype(is_float(target->dtype) ? target->dtype : vt->dtype, want);
    return CKPT_OK;
}

int ckpt_merge(const struct ckpt_merge_options *o, struct ckpt_op_report *rep,
               struct ckpt_error *err)
{
    struct ckpt_op_report local = {0};
    if (!rep)
        rep = &local;
    memset(rep, 0, sizeof *rep);
    int need = ckpt_merge_method_inputs(o->method);
    if (o->method < CKPT_MERGE_WEIGHTED_SUM || o->method > CKPT_MERGE_DARE)
        return ckpt_error_set(err, CKPT_E_ARG, "unknown merge method");
    if ((int)o->n_inputs != need)
        return ckpt_error_set(err, CKPT_E_ARG, "method %s takes %d models, %zu given",
                              ckpt_merge_method_name(o->method), need, o->n_inputs);
    if (o->method == CKPT_MERGE_DARE && !(o->dare_p >= 0 && o->dare_p < 1))
        return ckpt_error_set(err, CKPT_E_ARG, "dare: drop probability must be in [0, 1)");
    if (o->method == CKPT_MERGE_TIES && !(o->ties_k >= 0 && o->ties_k <= 1))
        return ckpt_error_set(err, CKPT_E_ARG, "ties: k must be in (0, 1]");
    const char *all[4] = {o->inputs[0], o->inputs[1], o->n_inputs > 2 ? o->inputs[2] : NULL,
                          o->vae};
    int rc = ops_check_output(o->c.output, all, 4, err);
    if (rc)
        return rc;

    struct ops_plan p;
    memset(&p, 0, sizeof p);
    p.method = o->method;
    p.ties_k = o->ties_k > 0 ? o->ties_k : 0.2;
    p.dare_p = o->dare_p;
    p.seed = o->seed;
    unsigned *roles = NULL;
    regex_t re;
    int have_re = 0, fam[3] = {0}, var[3] = {0};
    char **only_b = NULL;
    for (size_t i = 0; i < o->n_inputs && !rc; i++) {
        rc = ops_open(&p.in[i], o->inputs[i], &o->c, err);
        if (!rc) {
            p.n_in++;
            rc = ops_family(p.in[i], &fam[i], &var[i], err);
        }
    }
    int vae_in = -1;
    if (!rc && o->vae) {
        rc = ops_open(&p.in[p.n_in], o->vae, &o->c, err);
        if (!rc)
            vae_in = (int)p.n_in++;
    }
    if (rc)
        goto out;
    const char *fa = ckpt_family_name((enum ckpt_family)fam[0]);
    snprintf(rep->family, sizeof rep->family, "%s", fa ? fa : "");
    for (size_t i = 1; i < o->n_inputs; i++) {
        if (fam[i] != fam[0]) {
            const char *fb = ckpt_family_name((enum ckpt_family)fam[i]);
            rc = ckpt_error_set(err, CKPT_E_FORMAT,
                                "%s is %s but %s is %s: models of different families cannot be "
                                "merged (nothing was written)",
                                o->inputs[0], fa ? fa : "of unknown family", o->inputs[i],
                                fb ? fb : "of unknown family");
            goto out;
        }
    }
    if (o->exclude) {
        int e = regcomp(&re, o->exclude, REG_EXTENDED | REG_NOSUB);
        if (e) {
            char m[128];
            regerror(e, &re, m, sizeof m);
            rc = ckpt_error_set(err, CKPT_E_ARG, "--exclude '%s': %s", o->exclude, m);
            goto out;
        }
        have_re = 1;
    }
    int sdxl = fam[0] == CKPT_FAM_SDXL || fam[0] == CKPT_FAM_SDXL_REFINER;
    double blocks[CKPT_BLOCKS_MAX];
    size_t nb = 0;
    if (o->n_blocks) {
        size_t want = sdxl ? CKPT_BLOCKS_SDXL : CKPT_BLOCKS_SD1;
        if (o->n_blocks == want) {
            memcpy(blocks, o->blocks, want * sizeof *blocks);
        } else if (sdxl && o->n_blocks == CKPT_BLOCKS_SD1) {
            /* SuperMerger's weighttoxl: keep BASE, IN00-IN08, M00, OUT00-OUT08 */
            blocks[0] = o->blocks[0];
            for (int i = 0; i < 9; i++) {
                blocks[1 + i] = o->blocks[1 + i];
                blocks[11 + i] = o->blocks[14 + i];
            }
            blocks[10] = o->blocks[13];
        } else {
            rc = ckpt_error_set(err, CKPT_E_ARG,
                                "--blocks needs %zu values for %s (BASE, IN.., M00, OUT..), "
                                "%zu given",
                                want, sdxl ? "SDXL" : "SD1/SD2", o->n_blocks);
            goto out;
        }
        nb = want;
    }
    unsigned comps = o->components
                         ? o->components
                         : (CKPT_COMP_UNET | CKPT_COMP_TE | CKPT_COMP_TE2 | CKPT_COMP_VAE);
    rc = ops_roles(p.in[0], &roles, NULL, err);
    if (rc)
        goto out;
    struct ckpt_tensorset *A = p.in[0];
    size_t n = ckpt_tensorset_count(A);
    rep->tensors_in = n;
    rep->input_bytes = ckpt_tensorset_file_size(A);
    int inpaint = 0, pix2pix = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        const struct ckpt_tensor *ta = ckpt_tensorset_tensor(A, i);
        enum ckpt_dtype want = o->c.dtype;
        if (vae_in >= 0 && roles[i] == CKPT_COMP_VAE) {
            const char *s = strncmp(ta->name, "first_stage_model.", 18) ? ta->name : ta->name + 18;
            const struct ckpt_tensor *vt = ops_vae_find(p.in[vae_in], s);
            if (vt) {
                rc = ops_vae_item(&p, vae_in, ta, vt, want, err);
                rep->vae_replaced++;
                rep->copied++;
                continue;
            }
        }
        struct ops_item *it = ops_add(&p, ta->name, ta);
        if (!it) {
            rc = ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
            break;
        }
        it->in[0] = 0;
        it->src[0] = ta;
        it->kind = OPS_COPY;
        if (!ops_numeric(ta->dtype)) {
            if (want && is_float(ta->dtype) == 0 && ckpt_dtype_is_float(ta->dtype) &&
                want != ta->dtype)
                ops_note(rep, "%s: %s tensor copied as is (no conversion for this dtype)", ta->name,
                         ckpt_dtype_name(ta->dtype));
            rep->copied++;
            continue;
        }
        it->dtype = ops_out_dtype(ta->dtype, want);
        if (ends_with(ta->name, "position_ids")) {
            if (ta->dtype != CKPT_DT_I64) {
                it->kind = OPS_INT_ROUND;
                it->dtype = CKPT_DT_I64;
                rep->position_ids_fixed++;
            }
            rep->copied++;
            continue;
        }
        int mergeable = (roles[i] & comps) && is_float(ta->dtype) &&
                        !(have_re && regexec(&re, ta->name, 0, NULL, 0) == 0);
        const struct ckpt_tensor *src[3] = {ta, NULL, NULL};
        for (int k = 1; k < need && mergeable; k++) {
            src[k] = ckpt_tensorset_find(p.in[k], ta->name);
            if (!src[k] || !is_float(src[k]->dtype))
                mergeable = 0;
        }
        if (!mergeable) {
            rep->copied++;
            continue;
        }
        for (int k = 1; k < need && !rc; k++) {
            const struct ckpt_tensor *tb = src[k];
            if (tb->ndim == ta->ndim && !memcmp(tb->shape, ta->shape, ta->ndim * 8))
                continue;
            int only_dim1 = tb->ndim == ta->ndim && ta->ndim >= 2;
            for (uint32_t d = 0; d < ta->ndim && only_dim1; d++)
                if (d != 1 && tb->shape[d] != ta->shape[d])
                    only_dim1 = 0;
            char sa[96], sb[96];
            shape_str(ta, sa, sizeof sa);
            shape_str(tb, sb, sizeof sb);
            if (only_dim1 && ta->shape[1] > tb->shape[1] && tb->shape[1] == 4 &&
                (ta->shape[1] == 9 || ta->shape[1] == 8)) {
                if (ta->shape[1] == 9)
                    inpaint = 1;
                else
                    pix2pix = 1;
                ops_note(rep,
                         "%s: A has %llu input channels, %s has 4: merged the first 4, kept A's "
                         "%s channels (as A1111)",
                         ta->name, (unsigned long long)ta->shape[1], k == 1 ? "B" : "C",
                         ta->shape[1] == 9 ? "inpainting" : "instruct-pix2pix");
                continue;
            }
            if (only_dim1 && tb->shape[1] > ta->shape[1])
                rc = ckpt_error_set(err, CKPT_E_FORMAT,
                                    "%s: %s has %llu input channels but A has %llu: put the "
                                    "inpainting/instruct-pix2pix model first (A) (nothing was "
                                    "written)",
                                    ta->name, o->inputs[k], (unsigned long long)tb->shape[1],
                                    (unsigned long long)ta->shape[1]);
            else
                rc = ckpt_error_set(err, CKPT_E_FORMAT,
                                    "%s: shape %s in %s but %s in %s: the models have different "
                                    "architectures (nothing was written)",
                                    ta->name, sa, o->inputs[0], sb, o->inputs[k]);
        }
        if (rc)
            break;
        it->kind = OPS_MERGE;
        for (int k = 1; k < need; k++) {
            it->in[k] = k;
            it->src[k] = src[k];
        }
        it->alpha = nb ? blocks[ckpt_block_of_key(ta->name, sdxl)] : o->alpha;
        it->beta = o->beta;
        rep->merged++;
    }
    if (rc)
        goto out;
    if (o->vae && !rep->vae_replaced) {
        rc = ckpt_error_setf(err, CKPT_E_FORMAT, o->vae,
                             "no tensor matches the checkpoint's VAE keys (first_stage_model.*)");
        goto out;
    }
    /* keys only in B */
    for (size_t i = 0; i < ckpt_tensorset_count(p.in[1]); i++) {
        const struct ckpt_tensor *tb = ckpt_tensorset_tensor(p.in[1], i);
        if (ckpt_tensorset_find(A, tb->name))
            continue;
        if (rep->n_only_b_names < 8) {
            char **q = realloc(only_b, (rep->n_only_b_names + 1) * sizeof *q);
            if (q) {
                only_b = q;
                rep->only_b_names = q;
                if ((q[rep->n_only_b_names] = strdup(tb->name)))
                    rep->n_only_b_names++;
            }
        }
        rep->only_b++;
    }
    {
        char params[1024];
        size_t pl = (size_t)snprintf(
            params, sizeof params,
            "{\"method\":\"%s\",\"alpha\":%.17g,\"beta\":%.17g,\"ties_k\":%.17g,\"dare_p\":%.17g,"
            "\"seed\":%llu,\"components\":%u,\"block_map\":\"supermerger\"",
            ckpt_merge_method_name(o->method), o->alpha, o->beta, p.ties_k, p.dare_p,
            (unsigned long long)p.seed, comps);
        if (nb && pl < sizeof params) {
            pl += (size_t)snprintf(params + pl, sizeof params - pl, ",\"blocks\":[");
            for (size_t b = 0; b < nb && pl < sizeof params; b++)
                pl += (size_t)snprintf(params + pl, sizeof params - pl, "%s%.17g", b ? "," : "",
                                       blocks[b]);
            if (pl < sizeof params)
                pl += (size_t)snprintf(params + pl, sizeof params - pl, "]");
            if (o->blocks_name && pl < sizeof params)
                pl += (size_t)snprintf(params + pl, sizeof params - pl, ",\"blocks_preset\":\"%s\"",
                                       o->blocks_name);
        }
        if (o->exclude && pl < sizeof params) {
            pl += (size_t)snprintf(params + pl, sizeof params - pl, ",\"exclude\":");
            struct ckpt_buf eb = {0};
            ckpt_json_escape(&eb, o->exclude, strlen(o->exclude));
            if (pl < sizeof params)
                pl += (size_t)snprintf(params + pl, sizeof params - pl, "%s", ckpt_buf_cstr(&eb));
            ckpt_buf_free(&eb);
        }
        if (pl < sizeof params - 1)
            snprintf(params + pl, sizeof params - pl, "}");
        static const char *const a1111[] = {NULL,         "Weighted sum", "Add difference",
                                            "Triple sum", "TIES",         "DARE"};
        struct ops_recipe r = {0};
        r.operation = "merge";
        r.inputs = o->inputs;
        r.n_inputs = o->n_inputs;
        r.ts = p.in;
        r.c = &o->c;
        r.params_json = params;
        r.a1111_method = a1111[o->method];
        r.multiplier = o->alpha;
        r.vae = o->vae;
        r.is_inpainting = inpaint;
        r.is_pix2pix = pix2pix;
        r.family = fam[0];
        r.variant = var[0];
        r.copy_meta_from = -1;
        rc = ops_recipe_meta(&p, &r, rep, err);
    }
    if (!rc)
        rc = ops_run(&p, &o->c, rep, err);
out:
    if (have_re)
        regfree(&re);
    free(roles);
    for (size_t i = 0; i < p.n_in; i++)
        ckpt_tensorset_close(p.in[i]);
    ops_plan_free(&p);
    if (rep == &local)
        ckpt_op_report_release(&local);
    return rc;
}
