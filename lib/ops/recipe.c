/* The recipe an output carries in its safetensors __metadata__.
 *
 * - A1111's sd_merge_recipe (a JSON string with the same fields its merger writes; type "ckptdb")
 *   and sd_merge_models (keyed by each input's sha256: name, legacy_hash, the input's own recipe;
 *   the inputs' own sd_merge_models are folded in so the ancestry accumulates, as A1111 does).
 * - modelspec.sai_model_spec / architecture / title / date.
 * - ckptdb.recipe: the whole recipe (operation, inputs with sha256 and size, parameters, tool
 *   version), enough to redo the run.
 * Inputs are hashed here (sha256 + A1111's legacy hash) unless the caller opts out. Not for
 * tensor data. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ckptdb/hash.h"
#include "ckptdb/identify.h"
#include "ops_impl.h"

#ifndef CKPT_VERSION
#define CKPT_VERSION "0"
#endif

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s && s[1] ? s + 1 : p;
}

/* file name without its extension */
static void stem(const char *p, char *out, size_t n)
{
    snprintf(out, n, "%s", base_name(p));
    char *dot = strrchr(out, '.');
    if (dot && dot != out)
        *dot = 0;
}

static const char *architecture(int family)
{
    switch ((enum ckpt_family)family) {
    case CKPT_FAM_SD1:
        return "stable-diffusion-v1";
    case CKPT_FAM_SD2:
        return "stable-diffusion-v2";
    case CKPT_FAM_SDXL:
        return "stable-diffusion-xl-v1-base";
    case CKPT_FAM_SDXL_REFINER:
        return "stable-diffusion-xl-v1-refiner";
    default:
        return NULL;
    }
}

static int set_json(struct ops_plan *p, const char *key, json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII);
    if (!s)
        return CKPT_E_NOMEM;
    int rc = ops_meta(p, key, s);
    free(s);
    return rc;
}

int ops_recipe_meta(struct ops_plan *p, const struct ops_recipe *r, struct ckpt_op_report *rep,
                    struct ckpt_error *err)
{
    const char *out = r->c->output;
    size_t n = r->n_inputs;
    struct ckpt_hash_result *h = calloc(n ? n : 1, sizeof *h);
    int *st = calloc(n ? n : 1, sizeof *st);
    if (!h || !st) {
        free(h);
        free(st);
        return ckpt_error_setf(err, CKPT_E_NOMEM, out, "out of memory");
    }
    if (!r->c->no_hash) {
        struct ckpt_hash_options ho;
        ckpt_hash_options_default(&ho);
        ho.want = CKPT_HASH_SHA256 | CKPT_HASH_AUTOV1;
        struct stat sb;
        for (size_t i = 0; i < n; i++) {
            /* diffusers folders have no single-file hash */
            if (stat(r->inputs[i], &sb) != 0 || !S_ISREG(sb.st_mode))
                continue;
            if (ckpt_hash_file(r->inputs[i], &ho, &h[i], NULL) != CKPT_OK)
                h[i].computed = 0;
        }
    }
    int rc = CKPT_OK;
    if (r->copy_meta_from >= 0 && (size_t)r->copy_meta_from < n) {
        struct ckpt_tensorset *ts = r->ts[r->copy_meta_from];
        for (size_t i = 0; i < ckpt_tensorset_meta_count(ts) && !rc; i++)
            rc = ops_meta(p, ckpt_tensorset_meta_key(ts, i), ckpt_tensorset_meta_value(ts, i));
    }
    json_t *inputs = json_array();
    for (size_t i = 0; i < n; i++) {
        const char *sha = (h[i].computed & CKPT_HASH_SHA256) ? h[i].sha256 : NULL;
        if (rep && i < 4)
            snprintf(rep->sha256[i], sizeof rep->sha256[i], "%s", sha ? sha : "");
        json_array_append_new(inputs, json_pack("{s:s, s:s, s:o, s:I}", "path", r->inputs[i],
                                                "name", base_name(r->inputs[i]), "sha256",
                                                sha ? json_string(sha) : json_null(), "size",
                                                (json_int_t)ckpt_tensorset_file_size(r->ts[i])));
    }
    json_error_t je;
    json_t *params = r->params_json ? json_loads(r->params_json, 0, &je) : json_object();
    if (!params)
        params = json_object();
    json_t *recipe =
        json_pack("{s:s, s:s, s:s, s:o, s:o, s:s}", "tool", "ckptdb", "version", CKPT_VERSION,
                  "operation", r->operation, "inputs", inputs, "parameters", params, "dtype",
                  r->c->dtype ? ckpt_dtype_name(r->c->dtype) : "keep");
    if (!rc)
        rc = recipe ? set_json(p, "ckptdb.recipe", recipe) : CKPT_E_NOMEM;
    json_decref(recipe);

    if (!rc && r->a1111_method) {
        char name[256];
        stem(out, name, sizeof name);
        json_t *a = json_object();
        json_object_set_new(a, "type", json_string("ckptdb"));
        static const char *const slots[] = {"primary_model_hash", "secondary_model_hash",
                                            "tertiary_model_hash"};
        for (size_t i = 0; i < 3; i++)
            json_object_set_new(a, slots[i],
                                i < n && (h[i].computed & CKPT_HASH_SHA256)
                                    ? json_string(h[i].sha256)
                                    : json_null());
        json_object_set_new(a, "interp_method", json_string(r->a1111_method));
        json_object_set_new(a, "multiplier", json_real(r->multiplier));
        json_object_set_new(a, "save_as_half", json_boolean(r->c->dtype == CKPT_DT_F16));
        json_object_set_new(a, "custom_name", json_string(name));
        json_object_set_new(a, "config_source", json_integer(0));
        json_object_set_new(a, "bake_in_vae", json_string(r->vae ? base_name(r->vae) : "None"));
        json_object_set_new(a, "discard_weights", json_string(""));
        json_object_set_new(a, "is_inpainting", json_boolean(r->is_inpainting));
        json_object_set_new(a, "is_instruct_pix2pix", json_boolean(r->is_pix2pix));
        rc = set_json(p, "sd_merge_recipe", a);
        json_decref(a);

        json_t *models = json_object();
        for (size_t i = 0; i < n && !rc; i++) {
            if (!(h[i].computed & CKPT_HASH_SHA256))
                continue;
            struct ckpt_tensorset *ts = r->ts[i];
            const char *their = ckpt_tensorset_meta_get(ts, "sd_merge_recipe");
            const char *anc = ckpt_tensorset_meta_get(ts, "sd_merge_models");
            json_t *tr = their ? json_loads(their, 0, &je) : NULL;
            json_t *ta = anc ? json_loads(anc, 0, &je) : NULL;
            if (ta && json_is_object(ta)) {
                const char *k;
                json_t *v;
                json_object_foreach(ta, k, v) json_object_set(models, k, v);
            }
            json_decref(ta);
            char nm[256];
            stem(r->inputs[i], nm, sizeof nm);
            json_object_set_new(models, h[i].sha256,
                                json_pack("{s:s, s:s, s:o}", "name", nm, "legacy_hash", h[i].autov1,
                                          "sd_merge_recipe", tr ? tr : json_null()));
        }
        if (!rc)
            rc = set_json(p, "sd_merge_models", models);
        json_decref(models);
    }
    const char *arch = architecture(r->family);
    char title[256], date[32];
    stem(out, title, sizeof title);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%Y-%m-%d", &tm);
    if (!rc)
        rc = ops_meta(p, "modelspec.sai_model_spec", "1.0.0");
    if (!rc && arch)
        rc = ops_meta(p, "modelspec.architecture", arch);
    if (!rc)
        rc = ops_meta(p, "modelspec.title", title);
    if (!rc)
        rc = ops_meta(p, "modelspec.date", date);
    if (!rc)
        rc = ops_meta(p, "format", "pt");
    free(h);
    free(st);
    if (rc)
        return ckpt_error_setf(err, CKPT_E_NOMEM, out, "out of memory building the recipe");
    return CKPT_OK;
}
