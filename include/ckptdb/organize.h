/* organize: lay the catalogued model files out under one folder by a layout template (layout.h),
 * their sidecars travelling with them, safely and undoably.
 *
 * Plan first: ckpt_organize_plan reads the catalog and the disk and decides, for every present
 * file of this host (or those under the given source paths), where it goes (DIR/<layout>/<its
 * file name>), which sidecars go with it (catalog.h's ckpt_sidecar_names, renamed with the model
 * when the model is), and what is in the way: a name already taken there is resolved by a
 * "-2", "-3", ... suffix on the stem (or the file is skipped, with the reason); a file already
 * where the layout puts it is "in place". Planning changes nothing.
 *
 * Apply: the whole plan is written to the catalog's journal (organize_runs/organize_steps) before
 * the first file is touched. Then each step: same filesystem, rename (never replacing anything);
 * across filesystems, copy to DST.ckptdb-part, fsync, drop it from the page cache, re-read it and
 * compare its SHA-256 with the source's (and the catalog's), rename into place, fsync the folder,
 * then remove the source. A step is marked done in the same transaction that points the catalog's
 * file record (and its sidecar paths and preview) at the new place. A run killed at any moment
 * therefore leaves every file in its old or its new place, never lost, never half copied;
 * ckpt_organize_resume finishes the last unfinished run (looking at the disk for steps that were
 * done but not yet marked), ckpt_organize_undo reverts the last run that is not undone (runs
 * form a stack).
 *
 * Modes: move (the catalog follows the files); hardlink, symlink and copy leave the originals
 * and the catalog where they are (a later scan of DIR records the new paths). A diffusers folder
 * is moved by rename only: across filesystems, or as a hardlink/copy, it is skipped with the
 * reason.
 *
 * Ownership: a plan from ckpt_organize_plan is freed by ckpt_organize_plan_free. */
#ifndef CKPTDB_ORGANIZE_H
#define CKPTDB_ORGANIZE_H

#include <stddef.h>
#include <stdint.h>

#include "ckptdb/catalog.h"
#include "ckptdb/error.h"

struct ckpt_json;

enum ckpt_org_mode { CKPT_ORG_MOVE, CKPT_ORG_HARDLINK, CKPT_ORG_SYMLINK, CKPT_ORG_COPY };
/* "move", "hardlink", "symlink", "copy"; -1 for anything else. */
int ckpt_org_mode_parse(const char *s);
const char *ckpt_org_mode_name(int mode);

enum ckpt_org_status {
    CKPT_ORG_PLACE,   /* to be moved/linked/copied */
    CKPT_ORG_INPLACE, /* already where the layout puts it */
    CKPT_ORG_SKIP,    /* left alone; reason says why */
};

struct ckpt_org_side {
    char *from, *to; /* absolute paths */
};

struct ckpt_org_item {
    int64_t model_id, file_id;
    char *name;   /* the model's name */
    char *from;   /* absolute path now */
    char *to;     /* absolute path it goes to (NULL for a skip before a place was found) */
    int status;   /* enum ckpt_org_status */
    char *reason; /* skip: why; place: a note ("renamed: NAME is taken there"), or NULL */
    int is_dir;   /* a diffusers folder */
    int cross_fs; /* the destination is on another filesystem (copy + verify) */
    char *sha256; /* from the catalog, or NULL */
    uint64_t size;
    struct ckpt_org_side *side;
    size_t n_side;
};

struct ckpt_org_plan {
    char *into;   /* absolute */
    char *layout; /* the template (a preset resolved) */
    int mode;
    struct ckpt_org_item *items; /* sorted by from */
    size_t n;
    size_t n_place, n_inplace, n_skip, n_renamed, n_side;
    uint64_t bytes_cross_fs; /* bytes a move/copy has to copy */
};

enum ckpt_org_conflict { CKPT_ORG_SUFFIX, CKPT_ORG_SKIP_TAKEN };

struct ckpt_org_options {
    const char *into;              /* required */
    const char *layout;            /* template or preset name; required */
    int mode;                      /* enum ckpt_org_mode */
    int on_conflict;               /* enum ckpt_org_conflict */
    const char *const *only_under; /* source folders/files to take; NULL/0 = every present file */
    size_t n_only;
};

int ckpt_organize_plan(struct ckpt_catalog *c, const struct ckpt_org_options *o,
                       struct ckpt_org_plan **out, struct ckpt_error *err);
void ckpt_organize_plan_free(struct ckpt_org_plan *p);
/* The plan as data: {into, layout, mode, summary: {...}, items: [{model_id, name, from, to,
 * status, reason, cross_filesystem, sidecars: [{from, to}]}]}. */
void ckpt_organize_plan_json(const struct ckpt_org_plan *p, struct ckpt_json *j);

struct ckpt_org_report {
    int64_t run_id;
    uint64_t steps;   /* steps in the run (models + sidecars) */
    uint64_t done;    /* carried out (or found carried out) this time */
    uint64_t already; /* were already done before this call (resume/undo of a partial run) */
    uint64_t failed;  /* left where they were; log says why */
    uint64_t bytes_copied;
};

/* level 0 = a step failed ("PATH: reason"), 1 = a note, 2 = each step (verbose) */
typedef void (*ckpt_org_log_fn)(void *user, int level, const char *msg);

/* Carry out a plan. Refused (CKPT_E_ARG) while an earlier run of this host is unfinished.
 * CKPT_OK when every step was carried out, CKPT_E_IO when some failed (the rest still were). */
int ckpt_organize_apply(struct ckpt_catalog *c, const struct ckpt_org_plan *p, ckpt_org_log_fn log,
                        void *log_user, struct ckpt_org_report *r, struct ckpt_error *err);
/* Finish this host's last unfinished run; CKPT_E_NOTFOUND when there is none. */
int ckpt_organize_resume(struct ckpt_catalog *c, ckpt_org_log_fn log, void *log_user,
                         struct ckpt_org_report *r, struct ckpt_error *err);
/* Revert this host's last run that is not undone; CKPT_E_NOTFOUND when there is none. */
int ckpt_organize_undo(struct ckpt_catalog *c, ckpt_org_log_fn log, void *log_user,
                       struct ckpt_org_report *r, struct ckpt_error *err);

#endif
