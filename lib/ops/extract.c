/* ckpt_extract: one component of a checkpoint as a standalone file, with the key names the UIs
 * load standalone components by: a bare LDM UNet (input_blocks.*, ComfyUI's diffusion_models
 * loader), a bare VAE (encoder.*, decoder.*, as vae-ft-mse-840000), CLIP-L as Hugging Face
 * names (text_model.*), OpenCLIP encoders (SD2's, SDXL's bigG) in their OpenCLIP layout
 * (transformer.resblocks.*). Roles come from identify's prefix table. Not for pruning. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckptdb/identify.h"
#include "ops_impl.h"

int ckpt_extract(const struct ckpt_extract_options *o, struct ckpt_op_report *rep,
                 struct ckpt_error *err)
{
    struct ckpt_op_report local = {0};
    if (!rep)
        rep = &local;
    memset(rep, 0, sizeof *rep);
    unsigned want = o->component;
    if (want != CKPT_COMP_UNET && want != CKPT_COMP_VAE && want != CKPT_COMP_TE &&
        want != CKPT_COMP_TE2)
        return ckpt_error_set(err, CKPT_E_ARG,
                              "extract one component: unet, vae, text-encoder or text-encoder-2");
    struct ops_plan p;
    int rc = ops_open_single(&p, o->input, &o->c, err);
    if (rc)
        return rc;
    struct ckpt_tensorset *ts = p.in[0];
    unsigned *roles = NULL;
    uint16_t *strip = NULL;
    int fam = 0, var = 0;
    rc = ops_family(ts, &fam, &var, err);
    if (!rc)
        rc = ops_roles(ts, &roles, &strip, err);
    const char *fn = ckpt_family_name((enum ckpt_family)fam);
    snprintf(rep->family, sizeof rep->family, "%s", fn ? fn : "");
    size_t n = ckpt_tensorset_count(ts);
    rep->tensors_in = n;
    rep->input_bytes = ckpt_tensorset_file_size(ts);
    for (size_t i = 0; i < n && !rc; i++) {
        const struct ckpt_tensor *t = ckpt_tensorset_tensor(ts, i);
        if (roles[i] != want) {
            rep->dropped++;
            continue;
        }
        char name[1024];
        const char *rest = t->name + strip[i];
        size_t s = strip[i];
        if (want == CKPT_COMP_TE && s >= 11 && !strncmp(t->name + s - 11, "text_model.", 11))
            snprintf(name, sizeof name, "text_model.%s", rest); /* keep HF's text_model. */
        else if (want == CKPT_COMP_TE && s >= 12 && !strncmp(t->name + s - 12, "transformer.", 12))
            snprintf(name, sizeof name, "text_model.%s", rest); /* NovelAI-era names */
        else
            snprintf(name, sizeof name, "%s", rest);
        struct ops_item *it = ops_add_copy(&p, name, t, o->c.dtype);
        if (!it) {
            rc = ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
            break;
        }
        size_t nl = strlen(t->name);
        if (nl >= 12 && !strcmp(t->name + nl - 12, "position_ids") && t->dtype != CKPT_DT_I64 &&
            ops_numeric(t->dtype)) {
            it->kind = OPS_INT_ROUND;
            it->dtype = CKPT_DT_I64;
            rep->position_ids_fixed++;
        }
        rep->copied++;
    }
    if (!rc && p.n == 0)
        rc = ckpt_error_setf(err, CKPT_E_NOTFOUND, o->input, "has no %s tensors",
                             ckpt_component_name(want));
    if (!rc) {
        char params[128];
        snprintf(params, sizeof params, "{\"component\":\"%s\"}", ckpt_component_name(want));
        struct ops_recipe r = {0};
        r.operation = "extract";
        r.inputs = &o->input;
        r.n_inputs = 1;
        r.ts = p.in;
        r.c = &o->c;
        r.params_json = params;
        r.family = want == CKPT_COMP_UNET ? fam : 0;
        r.variant = var;
        r.copy_meta_from = -1;
        rc = ops_recipe_meta(&p, &r, rep, err);
    }
    if (!rc)
        rc = ops_run(&p, &o->c, rep, err);
    free(roles);
    free(strip);
    ckpt_tensorset_close(ts);
    ops_plan_free(&p);
    if (rep == &local)
        ckpt_op_report_release(&local);
    return rc;
}
