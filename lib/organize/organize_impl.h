/* Private pieces shared by lib/organize: the file operations (fsops.c), the journal in the
 * catalog (journal.c), a small string map (plan.c), and the kill points the crash tests use.
 * Not installed; front ends use organize.h. */
#ifndef CKPT_ORGANIZE_IMPL_H
#define CKPT_ORGANIZE_IMPL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ckptdb/organize.h"

struct ckpt_catalog;

/* ---- file operations (fsops.c) ---------------------------------------------------------- */

#define ORG_PART_SUFFIX ".ckptdb-part"

/* mkdir -p of the folder holding path. */
int org_make_parent(const char *path, struct ckpt_error *err);
/* rename that never replaces: 0, or the errno (EXDEV across filesystems, EEXIST). */
int org_rename_noreplace(const char *from, const char *to);
/* Copy a file to `to` through to.ckptdb-part: hash while copying, fsync, drop the pages, re-read
 * and compare the SHA-256 with the source's (and with expect_sha256 when given), keep mode and
 * mtime, rename into place without replacing, fsync the folder. Never leaves `to` half written.
 * *bytes += the bytes copied. */
int org_copy_verified(const char *from, const char *to, const char *expect_sha256, uint64_t *bytes,
                      struct ckpt_error *err);
/* SHA-256 of a file as 64 hex. */
int org_sha256_file(const char *path, char hex[65], struct ckpt_error *err);
/* fsync the folder that holds path (best effort). */
void org_fsync_parent(const char *path);
/* The test kill points: with CKPTDB_TEST_KILL_AFTER_STEPS=N in the environment, the process
 * SIGKILLs itself at the Nth point (file operations and journal commits count). */
void org_kill_point(void);

/* ---- the journal (journal.c) ------------------------------------------------------------- */

enum org_step_state { ORG_PENDING, ORG_DONE, ORG_FAILED, ORG_UNDONE };
enum org_role { ORG_ROLE_MODEL, ORG_ROLE_SIDECAR };

struct org_step {
    int64_t seq, file_id, model_id;
    int role, is_dir, state;
    char *src, *dst, *sha256;
};

struct org_run {
    int64_t id;
    int mode;
    char *state; /* applying, applied, undoing, undone */
    char *into;  /* the --into folder (undo removes the folders it left empty below it) */
    struct org_step *steps;
    size_t n;
};

/* The last run of this host that is unfinished (state applying/undoing): CKPT_OK with run->id,
 * or CKPT_E_NOTFOUND. With undoable = 1: the last run that is not undone. Steps not loaded. */
int org_journal_last(struct ckpt_catalog *c, int undoable, struct org_run *run,
                     struct ckpt_error *err);
int org_journal_load_steps(struct ckpt_catalog *c, struct org_run *run, struct ckpt_error *err);
void org_run_release(struct org_run *run);
/* Write the plan's steps (state pending) and the run (state applying) in one durable
 * transaction. */
int org_journal_create(struct ckpt_catalog *c, const struct ckpt_org_plan *p, int64_t *run_id,
                       struct ckpt_error *err);
int org_journal_set_run_state(struct ckpt_catalog *c, int64_t run_id, const char *state,
                              struct ckpt_error *err);
/* Inside the caller's transaction: record the step's new state and, for a move, point the
 * catalog at where the file now is (forward: dst; undo: src). */
int org_journal_mark(struct ckpt_catalog *c, int64_t run_id, int mode, const struct org_step *s,
                     int new_state, const char *note, struct ckpt_error *err);
/* Rebuild full-text rows of the models whose paths changed (after the batch). */
int org_journal_refresh_models(struct ckpt_catalog *c, const int64_t *ids, size_t n,
                               struct ckpt_error *err);

#endif
