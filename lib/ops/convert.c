/* ckpt_convert: any readable format to safetensors, tensor values bit-identical when the dtype is
 * kept (bytes copied), correctly rounded when --dtype changes it; strided torch views are written
 * contiguous; the input's metadata (safetensors __metadata__, pickle scalars such as global_step,
 * GGUF key/values) is carried into __metadata__. Not for choosing tensors (prune.c, extract.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckptdb/identify.h"
#include "ops_impl.h"

int ckpt_convert(const struct ckpt_convert_options *o, struct ckpt_op_report *rep,
                 struct ckpt_error *err)
{
    struct ckpt_op_report local = {0};
    if (!rep)
        rep = &local;
    memset(rep, 0, sizeof *rep);
    struct ops_plan p;
    int rc = ops_open_single(&p, o->input, &o->c, err);
    if (rc)
        return rc;
    int fam = 0, var = 0;
    struct ckpt_tensorset *ts = p.in[0];
    rc = ops_family(ts, &fam, &var, err);
    const char *fn = ckpt_family_name((enum ckpt_family)fam);
    snprintf(rep->family, sizeof rep->family, "%s", fn ? fn : "");
    size_t n = ckpt_tensorset_count(ts);
    rep->tensors_in = n;
    rep->input_bytes = ckpt_tensorset_file_size(ts);
    for (size_t i = 0; i < n && !rc; i++) {
        const struct ckpt_tensor *t = ckpt_tensorset_tensor(ts, i);
        if (ckpt_dtype_is_quantized(t->dtype)) {
            rc = ckpt_error_setf(err, CKPT_E_UNSUPPORTED, o->input,
                                 "tensor '%s' is %s (GGUF block-quantized): safetensors has no "
                                 "such dtype and ckptdb does not dequantize",
                                 t->name, ckpt_dtype_name(t->dtype));
            break;
        }
        struct ops_item *it = ops_add_copy(&p, t->name, t, o->c.dtype);
        if (!it) {
            rc = ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
            break;
        }
        rep->copied++;
    }
    if (!rc) {
        struct ops_recipe r = {0};
        r.operation = "convert";
        r.inputs = &o->input;
        r.n_inputs = 1;
        r.ts = p.in;
        r.c = &o->c;
        r.family = fam;
        r.variant = var;
        r.copy_meta_from = 0;
        rc = ops_recipe_meta(&p, &r, rep, err);
    }
    if (!rc)
        rc = ops_run(&p, &o->c, rep, err);
    ckpt_tensorset_close(ts);
    ops_plan_free(&p);
    if (rep == &local)
        ckpt_op_report_release(&local);
    return rc;
}
