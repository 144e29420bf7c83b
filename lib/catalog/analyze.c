/* The one pipeline step scan runs on every new or changed file: given a path, produce the file
 * record (tensorset facts and metadata, identify result, safety verdict, sidecar facts). Hashes
 * are not computed here: scan hashes whole batches of files in parallel with the hash engine and
 * fills them in. This file only gathers; it decides nothing (identify, safety, suggest.c do). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/internal.h"
#include "ckptdb/buf.h"
#include "ckptdb/identify.h"
#include "ckptdb/safety.h"
#include "ckptdb/tensorset.h"

static char *dupn(const char *s)
{
    return s ? strdup(s) : NULL;
}

static char *dupn(const char *s);

/* The identify step: measured kind/family/... with the evidence behind them. */
static void identify(struct ckpt_tensorset *ts, const char *path, struct ckpt_analysis *a)
{
    struct ckpt_identify_options o = {0};
    o.sidecar_json = a->side.civitai_json;
    o.sidecar_len = a->side.civitai_json ? strlen(a->side.civitai_json) : 0;
    o.name_hint = path;
    struct ckpt_identify_result r;
    if (ckpt_identify(ts, &o, &r, NULL) != CKPT_OK)
        return;
    a->kind = dupn(ckpt_kind_name(r.kind));
    a->network = dupn(ckpt_network_name(r.network));
    a->family = dupn(ckpt_family_name(r.family));
    a->ecosystem = dupn(ckpt_ecosystem_name(r.ecosystem));
    a->variant = dupn(ckpt_variant_name(r.variant));
    a->prediction = dupn(ckpt_prediction_name(r.prediction));
    a->precision = dupn(ckpt_precision_name(r.precision));
    struct ckpt_buf b = {0};
    for (unsigned bit = 0; bit < 32; bit++) {
        if (!(r.components & (1u << bit)) || !ckpt_component_name(1u << bit))
            continue;
        if (b.len)
            ckpt_buf_putc(&b, ',');
        ckpt_buf_puts(&b, ckpt_component_name(1u << bit));
    }
    if (b.len && !b.oom)
        a->components = strdup(ckpt_buf_cstr(&b));
    ckpt_buf_reset(&b);
    struct ckpt_json j;
    ckpt_json_init(&j, &b, 0);
    ckpt_json_arr_begin(&j);
    for (size_t i = 0; i < r.n_problems; i++) {
        ckpt_json_obj_begin(&j);
        ckpt_json_key(&j, "code");
        ckpt_json_str(&j, r.problems[i].code);
        ckpt_json_key(&j, "message");
        ckpt_json_str(&j, r.problems[i].message);
        ckpt_json_obj_end(&j);
    }
    ckpt_json_arr_end(&j);
    if (!b.oom)
        a->problems = strdup(ckpt_buf_cstr(&b));
    ckpt_buf_reset(&b);
    ckpt_json_init(&j, &b, 0);
    ckpt_json_arr_begin(&j);
    for (size_t i = 0; i < r.n_evidence; i++)
        ckpt_json_str(&j, r.evidence[i]);
    ckpt_json_arr_end(&j);
    if (!b.oom)
        a->evidence = strdup(ckpt_buf_cstr(&b));
    ckpt_buf_free(&b);
    ckpt_identify_result_release(&r);
}

void ckpt_analyze(const char *path, int is_dir, struct ckpt_analysis *a)
{
    memset(a, 0, sizeof *a);
    ckpt_sidecar_read(path, is_dir, &a->side);
    /* the safety verdict is recorded even for a file that cannot be read as a model (a pickle
       that is not a checkpoint can still be dangerous) */
    struct ckpt_check_result cr;
    memset(&cr, 0, sizeof cr); /* ckpt_check_file releases what it is given first */
    if (!is_dir && ckpt_check_file(path, NULL, &cr, NULL) == CKPT_OK) {
        a->safety = dupn(ckpt_verdict_name(cr.verdict));
        struct ckpt_buf b = {0};
        struct ckpt_json j;
        ckpt_json_init(&j, &b, 0);
        ckpt_json_arr_begin(&j);
        for (size_t i = 0; i < cr.n; i++) {
            ckpt_json_obj_begin(&j);
            ckpt_json_key(&j, "severity");
            ckpt_json_str(&j, ckpt_verdict_name(cr.findings[i].severity));
            ckpt_json_key(&j, "what");
            ckpt_json_str(&j, cr.findings[i].what);
            ckpt_json_key(&j, "where");
            ckpt_json_str(&j, cr.findings[i].where);
            ckpt_json_obj_end(&j);
        }
        ckpt_json_arr_end(&j);
        if (!b.oom)
            a->safety_findings = strdup(ckpt_buf_cstr(&b));
        ckpt_buf_free(&b);
    }
    ckpt_check_result_release(&cr);
    struct ckpt_tensorset *ts = NULL;
    struct ckpt_error err;
    if (ckpt_tensorset_open(&ts, path, NULL, &err)) {
        a->error = strdup(err.msg);
        return;
    }
    a->ok = 1;
    a->format = ckpt_format_name(ckpt_tensorset_format(ts));
    a->tensor_count = ckpt_tensorset_count(ts);
    a->parameter_count = ckpt_tensorset_parameter_count(ts);
    size_t nm = ckpt_tensorset_meta_count(ts);
    a->meta = calloc(nm ? nm : 1, sizeof *a->meta);
    if (a->meta) {
        for (size_t i = 0; i < nm; i++) {
            a->meta[i].key = dupn(ckpt_tensorset_meta_key(ts, i));
            a->meta[i].value = dupn(ckpt_tensorset_meta_value(ts, i));
            if (a->meta[i].key && a->meta[i].value)
                a->n_meta++;
            else {
                free(a->meta[i].key);
                free(a->meta[i].value);
            }
        }
    }
    identify(ts, path, a);
    ckpt_tensorset_close(ts);
}

void ckpt_analysis_release(struct ckpt_analysis *a)
{
    free(a->error);
    free(a->kind);
    free(a->network);
    free(a->family);
    free(a->ecosystem);
    free(a->variant);
    free(a->prediction);
    free(a->precision);
    free(a->components);
    free(a->problems);
    free(a->evidence);
    free(a->safety);
    free(a->safety_findings);
    for (size_t i = 0; i < a->n_meta; i++) {
        free(a->meta[i].key);
        free(a->meta[i].value);
    }
    free(a->meta);
    ckpt_sidecar_release(&a->side);
    memset(a, 0, sizeof *a);
}

char *ckpt_analysis_meta_json(const struct ckpt_analysis *a)
{
    struct ckpt_buf b = {0};
    struct ckpt_json j;
    ckpt_json_init(&j, &b, 0);
    ckpt_json_obj_begin(&j);
    for (size_t i = 0; i < a->n_meta; i++) {
        ckpt_json_key(&j, a->meta[i].key);
        ckpt_json_str(&j, a->meta[i].value);
    }
    ckpt_json_obj_end(&j);
    char *s = b.oom ? NULL : strdup(ckpt_buf_cstr(&b));
    ckpt_buf_free(&b);
    return s;
}
