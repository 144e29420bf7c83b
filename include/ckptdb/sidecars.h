/* Writing the catalog's facts into the sidecar files other tools read next to a model:
 * A1111's <name>.json user metadata, Civitai Helper's <name>.civitai.info and Stability Matrix's
 * <name>.cm-info.json (lib/views/sidecar_write.c; docs/sidecars.md lists every field).
 *
 * A write is planned first: the existing sidecar (if any) is read, the catalog's values are
 * merged into it field by field and every change is listed (the --dry-run diff). Fields ckptdb
 * does not own are never removed or changed; fields it owns are only set when the catalog has a
 * value. Applying a plan writes the merged document atomically, and refuses when the sidecar
 * changed since it was planned.
 *
 * Ownership: a plan is caller storage filled by ckpt_sidecar_plan_make and released by
 * ckpt_sidecar_plan_release (safe on a zeroed struct). */
#ifndef CKPTDB_SIDECARS_H
#define CKPTDB_SIDECARS_H

#include <stddef.h>
#include <stdint.h>

#include "ckptdb/catalog.h"
#include "ckptdb/error.h"

enum ckpt_sidecar_format {
    CKPT_SIDECAR_A1111,            /* <stem>.json */
    CKPT_SIDECAR_CIVITAI_HELPER,   /* <stem>.civitai.info */
    CKPT_SIDECAR_STABILITY_MATRIX, /* <stem>.cm-info.json */
};

/* "a1111", "civitai-helper", "stability-matrix"; CKPT_E_ARG listing them otherwise. */
int ckpt_sidecar_format_parse(const char *name, enum ckpt_sidecar_format *out,
                              struct ckpt_error *err);
const char *ckpt_sidecar_format_name(enum ckpt_sidecar_format f);

struct ckpt_sidecar_change {
    char *field;  /* dotted path: "activation text", "model.type", "files[0].hashes.SHA256" */
    char *before; /* compact JSON text, NULL when the field was not there */
    char *after;  /* compact JSON text */
};

struct ckpt_sidecar_plan {
    char *path; /* the sidecar file */
    int exists; /* it is there now */
    char *skip; /* why this model gets no sidecar of this format (nothing to write), or NULL */
    struct ckpt_sidecar_change *changes;
    size_t n_changes; /* 0: the sidecar already says everything (nothing to write) */
    char *text;       /* the merged document (when n_changes > 0) */
    char *orig;       /* the sidecar's bytes when planned (to detect a change before writing) */
    size_t orig_len;
};

/* Plan the sidecar of format f for model m (m->path must be set). now: seconds since the epoch
 * stamped into fields that record when a sidecar was made (Stability Matrix's ImportedAt), only
 * for a new file. CKPT_E_FORMAT when the existing sidecar is not a JSON object (it is left
 * alone), CKPT_E_IO when it cannot be read. */
int ckpt_sidecar_plan_make(enum ckpt_sidecar_format f, const struct ckpt_model *m, int64_t now,
                           struct ckpt_sidecar_plan *p, struct ckpt_error *err);
/* Write the plan's document atomically (nothing when there are no changes). CKPT_E_CHANGED when
 * the sidecar is no longer what was planned from. */
int ckpt_sidecar_plan_apply(const struct ckpt_sidecar_plan *p, struct ckpt_error *err);
void ckpt_sidecar_plan_release(struct ckpt_sidecar_plan *p);

#endif
