/* The one pipeline step scan runs on every new or changed file: given a path, produce the file
 * record (tensorset facts and metadata, identify result, safety verdict, sidecar facts). Hashes
 * are not computed here: scan hashes whole batches of files in parallel with the hash engine and
 * fills them in. This file only gathers; it decides nothing (identify, safety, suggest.c do). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/internal.h"
#include "ckptdb/buf.h"
#include "ckptdb/tensorset.h"

static char *dupn(const char *s)
{
    return s ? strdup(s) : NULL;
}

void ckpt_analyze(const char *path, int is_dir, struct ckpt_analysis *a)
{
    memset(a, 0, sizeof *a);
    ckpt_sidecar_read(path, is_dir, &a->side);
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
