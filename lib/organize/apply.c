/* organize's apply, resume and undo: carry out (or revert) a journaled run step by step. Each
 * step first looks at the disk, so a step that a killed run carried out but did not mark is
 * recognised as done rather than repeated: a run can be resumed or undone from any point. Marks
 * are committed in batches (each mark in the same transaction as the catalog's path change).
 * Not for deciding where files go (plan.c) or how bytes are copied (fsops.c). */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog/internal.h"
#include "organize/organize_impl.h"

#define BATCH 512

enum { R_DONE, R_ALREADY, R_FAILED };

struct runner {
    struct ckpt_catalog *c;
    struct org_run *run;
    ckpt_org_log_fn log;
    void *log_user;
    struct ckpt_org_report *r;
    int64_t *models; /* models whose paths changed in the open batch */
    size_t n_models, cap_models;
};

static void logf_(struct runner *ru, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void logf_(struct runner *ru, int level, const char *fmt, ...)
{
    if (!ru->log)
        return;
    char msg[2 * PATH_MAX + 256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ru->log(ru->log_user, level, msg);
}

static int exists(const char *p, struct stat *st)
{
    return lstat(p, st) == 0;
}

static void set_note(char **note, const char *fmt, const char *a, const char *b)
{
    free(*note);
    if (asprintf(note, fmt, a, b) < 0)
        *note = NULL;
}

/* the same bytes (same inode, or the same SHA-256) */
static int same_content(const char *a, const char *b, const struct stat *sa, const struct stat *sb)
{
    if (sa->st_dev == sb->st_dev && sa->st_ino == sb->st_ino)
        return 1;
    if (!S_ISREG(sa->st_mode) || !S_ISREG(sb->st_mode) || sa->st_size != sb->st_size)
        return 0;
    char ha[65], hb[65];
    return org_sha256_file(a, ha, NULL) == CKPT_OK && org_sha256_file(b, hb, NULL) == CKPT_OK &&
           strcmp(ha, hb) == 0;
}

/* Move from -> to, whatever part of it a killed run already did. */
static int do_move(struct runner *ru, const char *from, const char *to, const char *sha, int is_dir,
                   char **note)
{
    struct stat sf, st;
    int f = exists(from, &sf), t = exists(to, &st);
    /* half copies of a killed run, towards either end (forward or undo): the other end is
       still whole, and a copy starts its part file afresh */
    const char *ends[] = {from, to};
    for (size_t i = 0; i < 2; i++) {
        char *part = NULL;
        if (asprintf(&part, "%s%s", ends[i], ORG_PART_SUFFIX) >= 0) {
            unlink(part);
            free(part);
        }
    }
    if (!f && t)
        return R_ALREADY;
    if (!f && !t) {
        set_note(note, "neither %s nor %s exists (moved by hand?)", from, to);
        return R_FAILED;
    }
    if (f && t) {
        /* a copy across filesystems that was put in place but whose source was not removed
           yet, or a link + unlink fallback killed in between */
        if (!is_dir && same_content(from, to, &sf, &st)) {
            if (unlink(from) != 0) {
                set_note(note, "%s: cannot remove the source: %s", from, strerror(errno));
                return R_FAILED;
            }
            org_fsync_parent(from);
            return R_DONE;
        }
        set_note(note, "%s is in the way (a different file); %s left where it is", to, from);
        return R_FAILED;
    }
    struct ckpt_error err = {0};
    if (org_make_parent(to, &err) != CKPT_OK) {
        set_note(note, "%s%s", err.msg, "");
        return R_FAILED;
    }
    int e = org_rename_noreplace(from, to);
    if (e == 0) {
        org_kill_point();
        return R_DONE;
    }
    if (e != EXDEV) {
        set_note(note, "%s: %s", to, strerror(e));
        return R_FAILED;
    }
    if (is_dir) {
        set_note(note, "%s: %s", from, "a folder is only moved within one filesystem");
        return R_FAILED;
    }
    if (org_copy_verified(from, to, sha, &ru->r->bytes_copied, &err) != CKPT_OK) {
        set_note(note, "%s%s", err.msg, "");
        return R_FAILED;
    }
    org_kill_point();
    if (unlink(from) != 0) {
        set_note(note, "%s: copied and verified, but the source cannot be removed: %s", from,
                 strerror(errno));
        return R_FAILED;
    }
    org_fsync_parent(from);
    return R_DONE;
}

/* hardlink / symlink / copy: make `to` from `from` */
static int do_make(struct runner *ru, int mode, const struct org_step *s, char **note)
{
    struct stat sf, st;
    if (!exists(s->src, &sf)) {
        set_note(note, "%s: %s", s->src, "not there any more");
        return R_FAILED;
    }
    if (exists(s->dst, &st)) {
        char buf[PATH_MAX + 1];
        ssize_t n;
        int ours = 0;
        if (mode == CKPT_ORG_SYMLINK)
            ours = S_ISLNK(st.st_mode) && (n = readlink(s->dst, buf, PATH_MAX)) >= 0 &&
                   ((buf[n] = 0), strcmp(buf, s->src) == 0);
        else
            ours = same_content(s->src, s->dst, &sf, &st) &&
                   (mode == CKPT_ORG_COPY || sf.st_ino == st.st_ino);
        if (ours)
            return R_ALREADY;
        set_note(note, "%s is in the way; %s%s", s->dst, "nothing made");
        return R_FAILED;
    }
    struct ckpt_error err = {0};
    if (org_make_parent(s->dst, &err) != CKPT_OK) {
        set_note(note, "%s%s", err.msg, "");
        return R_FAILED;
    }
    int rc = 0;
    if (mode == CKPT_ORG_HARDLINK)
        rc = link(s->src, s->dst);
    else if (mode == CKPT_ORG_SYMLINK)
        rc = symlink(s->src, s->dst);
    else if (org_copy_verified(s->src, s->dst, s->sha256, &ru->r->bytes_copied, &err) != 0) {
        set_note(note, "%s%s", err.msg, "");
        return R_FAILED;
    }
    if (rc != 0) {
        set_note(note, "%s: %s", s->dst, strerror(errno));
        return R_FAILED;
    }
    org_kill_point();
    return R_DONE;
}

/* undo of hardlink / symlink / copy: remove `to` when it is still what organize made */
static int do_unmake(int mode, const struct org_step *s, char **note)
{
    struct stat sf, st;
    char *part = NULL;
    if (asprintf(&part, "%s%s", s->dst, ORG_PART_SUFFIX) >= 0) {
        unlink(part);
        free(part);
    }
    if (!exists(s->dst, &st))
        return R_ALREADY;
    int ours = 0;
    if (mode == CKPT_ORG_SYMLINK) {
        char buf[PATH_MAX + 1];
        ssize_t n = S_ISLNK(st.st_mode) ? readlink(s->dst, buf, PATH_MAX) : -1;
        if (n >= 0) {
            buf[n] = 0;
            ours = strcmp(buf, s->src) == 0;
        }
    } else if (exists(s->src, &sf)) {
        ours = same_content(s->src, s->dst, &sf, &st) &&
               (mode == CKPT_ORG_COPY || sf.st_ino == st.st_ino);
    }
    if (!ours) {
        set_note(note, "%s is no longer what organize made%s; left alone", s->dst, "");
        return R_FAILED;
    }
    if (unlink(s->dst) != 0) {
        set_note(note, "%s: %s", s->dst, strerror(errno));
        return R_FAILED;
    }
    org_kill_point();
    return R_DONE;
}

/* after an undo: remove the folders under into that the run left empty */
static void prune_empty(const char *into, const char *path)
{
    size_t il = strlen(into);
    char *d = strdup(path);
    if (!d)
        return;
    for (;;) {
        char *slash = strrchr(d, '/');
        if (!slash)
            break;
        *slash = 0;
        if (strlen(d) <= il || strncmp(d, into, il) != 0 || d[il] != '/')
            break;
        if (rmdir(d) != 0)
            break;
    }
    free(d);
}

static int flush_batch(struct runner *ru, struct ckpt_error *err)
{
    int rc = org_journal_refresh_models(ru->c, ru->models, ru->n_models, err);
    ru->n_models = 0;
    if (rc == CKPT_OK)
        rc = ckpt_cat_commit(ru->c, err);
    if (rc)
        ckpt_cat_rollback(ru->c);
    else
        org_kill_point();
    return rc;
}

static int execute(struct runner *ru, int undo, struct ckpt_error *err)
{
    struct org_run *run = ru->run;
    int rc = org_journal_load_steps(ru->c, run, err);
    if (rc)
        return rc;
    ru->r->run_id = run->id;
    ru->r->steps = run->n;
    size_t in_batch = 0;
    int open_tx = 0;
    for (size_t k = 0; k < run->n; k++) {
        struct org_step *s = &run->steps[undo ? run->n - 1 - k : k];
        if (!undo && s->state != ORG_PENDING) {
            ru->r->already += s->state == ORG_DONE;
            continue;
        }
        if (undo && s->state != ORG_PENDING && s->state != ORG_DONE) {
            ru->r->already += s->state == ORG_UNDONE;
            continue;
        }
        char *note = NULL;
        int res;
        if (run->mode == CKPT_ORG_MOVE)
            res = undo ? do_move(ru, s->dst, s->src, s->sha256, s->is_dir, &note)
                       : do_move(ru, s->src, s->dst, s->sha256, s->is_dir, &note);
        else
            res = undo ? do_unmake(run->mode, s, &note) : do_make(ru, run->mode, s, &note);
        if (!open_tx) {
            if ((rc = ckpt_cat_begin(ru->c, err)) != CKPT_OK) {
                free(note);
                return rc;
            }
            open_tx = 1;
        }
        int new_state = res == R_FAILED ? ORG_FAILED : undo ? ORG_UNDONE : ORG_DONE;
        if (res == R_FAILED && undo)
            new_state = s->state; /* an undo that could not happen leaves the step as it was */
        rc = org_journal_mark(ru->c, run->id, run->mode, s, new_state, note, err);
        if (res == R_FAILED) {
            ru->r->failed++;
            logf_(ru, 0, "%s", note ? note : s->src);
        } else {
            if (res == R_DONE)
                ru->r->done++;
            else
                ru->r->already++;
            logf_(ru, 2, "%s %s -> %s", undo ? "back" : ckpt_org_mode_name(run->mode),
                  undo ? s->dst : s->src, undo ? s->src : s->dst);
            if (undo)
                prune_empty(run->into, s->dst);
            if (run->mode == CKPT_ORG_MOVE) {
                if (ru->n_models == ru->cap_models) {
                    size_t nc = ru->cap_models ? ru->cap_models * 2 : 64;
                    int64_t *nm = realloc(ru->models, nc * sizeof *nm);
                    if (nm) {
                        ru->models = nm;
                        ru->cap_models = nc;
                    }
                }
                if (ru->n_models < ru->cap_models &&
                    (ru->n_models == 0 || ru->models[ru->n_models - 1] != s->model_id))
                    ru->models[ru->n_models++] = s->model_id;
            }
        }
        s->state = new_state;
        free(note);
        if (rc) {
            ckpt_cat_rollback(ru->c);
            return rc;
        }
        if (++in_batch >= BATCH) {
            if ((rc = flush_batch(ru, err)) != CKPT_OK)
                return rc;
            open_tx = 0;
            in_batch = 0;
        }
    }
    if (!open_tx && (rc = ckpt_cat_begin(ru->c, err)) != CKPT_OK)
        return rc;
    /* an undo with steps it could not revert stays "undoing": --undo or --resume again */
    rc = org_journal_set_run_state(ru->c, run->id,
                                   undo ? (ru->r->failed ? "undoing" : "undone") : "applied", err);
    if (rc) {
        ckpt_cat_rollback(ru->c);
        return rc;
    }
    if ((rc = flush_batch(ru, err)) != CKPT_OK)
        return rc;
    if (ru->r->failed)
        return ckpt_error_set(err, CKPT_E_IO, "organize: %llu of %llu steps failed (see above)",
                              (unsigned long long)ru->r->failed, (unsigned long long)run->n);
    return CKPT_OK;
}

static int run_with(struct ckpt_catalog *c, struct org_run *run, int undo, ckpt_org_log_fn log,
                    void *log_user, struct ckpt_org_report *r, struct ckpt_error *err)
{
    struct runner ru = {.c = c, .run = run, .log = log, .log_user = log_user, .r = r};
    int rc = execute(&ru, undo, err);
    free(ru.models);
    return rc;
}

int ckpt_organize_apply(struct ckpt_catalog *c, const struct ckpt_org_plan *p, ckpt_org_log_fn log,
                        void *log_user, struct ckpt_org_report *r, struct ckpt_error *err)
{
    memset(r, 0, sizeof *r);
    struct org_run run = {0};
    int rc = org_journal_create(c, p, &run.id, err);
    if (rc)
        return rc;
    run.mode = p->mode;
    run.into = strdup(p->into);
    if (!run.into)
        return ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
    rc = run_with(c, &run, 0, log, log_user, r, err);
    org_run_release(&run);
    return rc;
}

int ckpt_organize_resume(struct ckpt_catalog *c, ckpt_org_log_fn log, void *log_user,
                         struct ckpt_org_report *r, struct ckpt_error *err)
{
    memset(r, 0, sizeof *r);
    struct org_run run;
    int rc = org_journal_last(c, 0, &run, err);
    if (rc)
        return rc;
    int undo = strcmp(run.state, "undoing") == 0;
    if (undo && log)
        log(log_user, 1, "the last run was being undone; finishing the undo");
    rc = run_with(c, &run, undo, log, log_user, r, err);
    org_run_release(&run);
    return rc;
}

int ckpt_organize_undo(struct ckpt_catalog *c, ckpt_org_log_fn log, void *log_user,
                       struct ckpt_org_report *r, struct ckpt_error *err)
{
    memset(r, 0, sizeof *r);
    struct org_run run;
    int rc = org_journal_last(c, 1, &run, err);
    if (rc)
        return rc;
    if ((rc = ckpt_cat_begin(c, err)) != CKPT_OK)
        goto out;
    rc = org_journal_set_run_state(c, run.id, "undoing", err);
    if (rc == CKPT_OK)
        rc = ckpt_cat_commit(c, err);
    if (rc) {
        ckpt_cat_rollback(c);
        goto out;
    }
    rc = run_with(c, &run, 1, log, log_user, r, err);
out:
    org_run_release(&run);
    return rc;
}
