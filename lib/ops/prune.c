/* ckpt_prune: a checkpoint without what inference does not need.
 *
 * Drops the EMA copies (model_ema.*, with their decay/num_updates counters) unless --keep-ema,
 * or with --ema-only makes the EMA weights the model weights (model.X.Y is replaced by
 * model_ema.XY, the dot-less name every trainer writes); drops junk keys (nothing in the
 * component tables explains them: optimizer and training state, loss/discriminator weights);
 * rewrites CLIP position_ids as exact int64 0..n-1. Every other tensor is copied byte for byte
 * (or converted with --dtype). Not for component extraction (extract.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckptdb/identify.h"
#include "ops_impl.h"

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

/* "model.diffusion_model.input_blocks.0.0.weight" ->
 * "model_ema.diffusion_modelinput_blocks00weight" */
static void ema_name(const char *name, char *out, size_t n)
{
    size_t o = (size_t)snprintf(out, n, "model_ema.");
    for (const char *s = name + 6; *s && o + 1 < n; s++)
        if (*s != '.')
            out[o++] = *s;
    out[o < n ? o : n - 1] = 0;
}

/* 1 when the int/float tensor holds exactly 0..numel-1 */
static int ids_ok(struct ckpt_tensorset *ts, const struct ckpt_tensor *t)
{
    if (t->nbytes > 65536 ||
        (t->dtype != CKPT_DT_I64 && t->dtype != CKPT_DT_F32 && t->dtype != CKPT_DT_I32))
        return 0;
    unsigned char buf[65536];
    if (ckpt_tensorset_read_tensor(ts, t, buf, sizeof buf, NULL))
        return 0;
    for (uint64_t i = 0; i < t->numel; i++) {
        double v;
        if (t->dtype == CKPT_DT_I64) {
            int64_t x;
            memcpy(&x, buf + i * 8, 8);
            v = (double)x;
        } else if (t->dtype == CKPT_DT_I32) {
            int32_t x;
            memcpy(&x, buf + i * 4, 4);
            v = x;
        } else {
            float x;
            memcpy(&x, buf + i * 4, 4);
            v = x;
        }
        if (v != (double)i)
            return 0;
    }
    return t->dtype == CKPT_DT_I64;
}

int ckpt_prune(const struct ckpt_prune_options *o, struct ckpt_op_report *rep,
               struct ckpt_error *err)
{
    struct ckpt_op_report local = {0};
    if (!rep)
        rep = &local;
    memset(rep, 0, sizeof *rep);
    if (o->ema_only && o->keep_ema)
        return ckpt_error_set(err, CKPT_E_ARG, "--ema-only and --keep-ema exclude each other");
    struct ops_plan p;
    int rc = ops_open_single(&p, o->input, &o->c, err);
    if (rc)
        return rc;
    struct ckpt_tensorset *ts = p.in[0];
    unsigned *roles = NULL;
    int fam = 0, var = 0;
    rc = ops_family(ts, &fam, &var, err);
    if (!rc)
        rc = ops_roles(ts, &roles, NULL, err);
    const char *fn = ckpt_family_name((enum ckpt_family)fam);
    snprintf(rep->family, sizeof rep->family, "%s", fn ? fn : "");
    size_t n = ckpt_tensorset_count(ts), n_ema = 0, ema_used = 0, ema_missing = 0, junk = 0;
    rep->tensors_in = n;
    rep->input_bytes = ckpt_tensorset_file_size(ts);
    for (size_t i = 0; i < n && !rc; i++)
        if (roles[i] == CKPT_COMP_EMA)
            n_ema++;
    if (!rc && o->ema_only && !n_ema)
        rc = ckpt_error_setf(err, CKPT_E_FORMAT, o->input,
                             "has no EMA weights (model_ema.*) to make the model weights");
    for (size_t i = 0; i < n && !rc; i++) {
        const struct ckpt_tensor *t = ckpt_tensorset_tensor(ts, i);
        int ema_counter = !strncmp(t->name, "model_ema.", 10);
        if ((roles[i] == CKPT_COMP_EMA || ema_counter) && !o->keep_ema) {
            rep->dropped++;
            continue;
        }
        if (roles[i] == OPS_ROLE_JUNK) {
            rep->dropped++;
            junk++;
            continue;
        }
        if (ckpt_dtype_is_quantized(t->dtype)) {
            rc = ckpt_error_setf(err, CKPT_E_UNSUPPORTED, o->input,
                                 "tensor '%s' is %s (GGUF block-quantized): not prunable to "
                                 "safetensors",
                                 t->name, ckpt_dtype_name(t->dtype));
            break;
        }
        struct ops_item *it = ops_add_copy(&p, t->name, t, o->c.dtype);
        if (!it) {
            rc = ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
            break;
        }
        rep->copied++;
        if (ends_with(t->name, "position_ids")) {
            if (!ids_ok(ts, t))
                rep->position_ids_fixed++;
            it->kind = OPS_ARANGE;
            it->dtype = CKPT_DT_I64;
            continue;
        }
        if (o->ema_only && roles[i] == CKPT_COMP_UNET && !strncmp(t->name, "model.", 6)) {
            char en[1024];
            ema_name(t->name, en, sizeof en);
            const struct ckpt_tensor *e = ckpt_tensorset_find(ts, en);
            if (e && e->numel == t->numel && ops_numeric(e->dtype)) {
                it->src[0] = e;
                if (!o->c.dtype)
                    it->dtype = e->dtype;
                ema_used++;
            } else {
                ema_missing++;
            }
        }
    }
    if (!rc && o->ema_only)
        ops_note(rep, "EMA weights used for %zu UNet tensors%s", ema_used,
                 ema_missing ? " (some had no EMA copy and kept their weights)" : "");
    if (!rc && ema_missing)
        ops_note(rep, "%zu UNet tensors had no EMA copy", ema_missing);
    if (!rc && junk)
        ops_note(rep, "%zu junk/training-state tensors dropped", junk);
    if (!rc) {
        char params[256];
        snprintf(params, sizeof params, "{\"ema_only\":%s,\"keep_ema\":%s}",
                 o->ema_only ? "true" : "false", o->keep_ema ? "true" : "false");
        struct ops_recipe r = {0};
        r.operation = "prune";
        r.inputs = &o->input;
        r.n_inputs = 1;
        r.ts = p.in;
        r.c = &o->c;
        r.params_json = params;
        r.family = fam;
        r.variant = var;
        r.copy_meta_from = 0;
        rc = ops_recipe_meta(&p, &r, rep, err);
    }
    if (!rc)
        rc = ops_run(&p, &o->c, rep, err);
    free(roles);
    ckpt_tensorset_close(ts);
    ops_plan_free(&p);
    if (rep == &local)
        ckpt_op_report_release(&local);
    return rc;
}
