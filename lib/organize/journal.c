/* organize's journal in the catalog: a run (organize_runs) and its steps (organize_steps), written
 * whole before the first file is touched; each step marked done, failed or undone in the same
 * transaction that points the catalog's file record, sidecar paths and preview at where the file
 * now is. Not for touching files (fsops.c) or deciding what a step does (apply.c). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "catalog/internal.h"
#include "organize/organize_impl.h"

static const char *const state_names[] = {"pending", "done", "failed", "undone"};

static int state_parse(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (s && strcmp(s, state_names[i]) == 0)
            return i;
    return ORG_PENDING;
}

void org_run_release(struct org_run *run)
{
    for (size_t i = 0; i < run->n; i++) {
        free(run->steps[i].src);
        free(run->steps[i].dst);
        free(run->steps[i].sha256);
    }
    free(run->steps);
    free(run->state);
    free(run->into);
    memset(run, 0, sizeof *run);
}

int org_journal_last(struct ckpt_catalog *c, int undoable, struct org_run *run,
                     struct ckpt_error *err)
{
    memset(run, 0, sizeof *run);
    struct ckpt_st *q;
    int rc = ckpt_cat_prepare(
        c,
        undoable ? "SELECT id, mode, state, into_dir FROM organize_runs WHERE host = ? AND"
                   " state != 'undone'"
                   " ORDER BY id DESC LIMIT 1"
                 : "SELECT id, mode, state, into_dir FROM organize_runs WHERE host = ? AND state IN"
                   " ('applying', 'undoing') ORDER BY id DESC LIMIT 1",
        &q, err);
    if (rc)
        return rc;
    ckpt_st_bind_text(q, 1, ckpt_catalog_host());
    int s = ckpt_st_step(q);
    if (s == CKPT_DB_ROW) {
        run->id = ckpt_st_i64(q, 0);
        run->mode = ckpt_org_mode_parse(ckpt_st_text(q, 1));
        run->state = ckpt_cat_coldup(q, 2);
        run->into = ckpt_cat_coldup(q, 3);
        rc = run->state && run->into ? CKPT_OK : ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
    } else if (s == CKPT_DB_DONE) {
        rc = ckpt_error_set(err, CKPT_E_NOTFOUND,
                            undoable ? "no organize run to undo" : "no unfinished organize run");
    } else {
        rc = ckpt_cat_sqlerr(c, s, "reading the organize journal", err);
    }
    ckpt_st_finalize(q);
    return rc;
}

int org_journal_load_steps(struct ckpt_catalog *c, struct org_run *run, struct ckpt_error *err)
{
    struct ckpt_st *q;
    int rc = ckpt_cat_prepare(c,
                              "SELECT seq, file_id, model_id, role, is_dir, src, dst, sha256,"
                              " state FROM organize_steps WHERE run_id = ? ORDER BY seq",
                              &q, err);
    if (rc)
        return rc;
    ckpt_st_bind_i64(q, 1, run->id);
    size_t cap = 0;
    int s;
    while ((s = ckpt_st_step(q)) == CKPT_DB_ROW) {
        if (run->n == cap) {
            cap = cap ? cap * 2 : 256;
            struct org_step *ns = realloc(run->steps, cap * sizeof *ns);
            if (!ns) {
                ckpt_st_finalize(q);
                return ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
            }
            run->steps = ns;
        }
        struct org_step *st = &run->steps[run->n++];
        st->seq = ckpt_st_i64(q, 0);
        st->file_id = ckpt_st_i64(q, 1);
        st->model_id = ckpt_st_i64(q, 2);
        const char *role = ckpt_st_text(q, 3);
        st->role = role && strcmp(role, "sidecar") == 0 ? ORG_ROLE_SIDECAR : ORG_ROLE_MODEL;
        st->is_dir = ckpt_st_int(q, 4);
        st->src = ckpt_cat_coldup(q, 5);
        st->dst = ckpt_cat_coldup(q, 6);
        st->sha256 = ckpt_cat_coldup(q, 7);
        st->state = state_parse(ckpt_st_text(q, 8));
        if (!st->src || !st->dst) {
            ckpt_st_finalize(q);
            return ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
        }
    }
    ckpt_st_finalize(q);
    return s == CKPT_DB_DONE ? CKPT_OK : ckpt_cat_sqlerr(c, s, "reading the organize journal", err);
}

static int insert_step(struct ckpt_st *q, int64_t run, int64_t seq, const struct ckpt_org_item *it,
                       const char *role, const char *src, const char *dst, const char *sha)
{
    ckpt_st_reset(q);
    ckpt_st_bind_i64(q, 1, run);
    ckpt_st_bind_i64(q, 2, seq);
    ckpt_st_bind_i64(q, 3, it->file_id);
    ckpt_st_bind_i64(q, 4, it->model_id);
    ckpt_st_bind_text(q, 5, role);
    ckpt_st_bind_i64(q, 6, it->is_dir && strcmp(role, "model") == 0);
    ckpt_st_bind_text(q, 7, src);
    ckpt_st_bind_text(q, 8, dst);
    ckpt_st_bind_text(q, 9, sha);
    return ckpt_st_step(q);
}

int org_journal_create(struct ckpt_catalog *c, const struct ckpt_org_plan *p, int64_t *run_id,
                       struct ckpt_error *err)
{
    /* this commit must survive a power cut before any file moves: sync it fully */
    int rc = ckpt_cat_exec(c, ckpt_db_sql(c->db, CKPT_SQL_SYNC_FULL), err);
    if (rc == CKPT_OK)
        rc = ckpt_cat_begin(c, err);
    if (rc) {
        ckpt_cat_exec(c, ckpt_db_sql(c->db, CKPT_SQL_SYNC_NORMAL), NULL);
        return rc;
    }
    struct ckpt_st *q = NULL;
    /* an unfinished run is checked inside the write transaction: two organize processes cannot
       both start */
    struct org_run busy;
    rc = org_journal_last(c, 0, &busy, err);
    if (rc == CKPT_OK) {
        rc = ckpt_error_set(err, CKPT_E_ARG,
                            "organize run %lld did not finish; finish it with --resume or "
                            "revert it with --undo first",
                            (long long)busy.id);
        org_run_release(&busy);
        goto fail;
    }
    if (rc != CKPT_E_NOTFOUND)
        goto fail;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    rc = ckpt_cat_prepare(c,
                          "INSERT INTO organize_runs(host, started_ns, into_dir, layout, mode,"
                          " state) VALUES (?, ?, ?, ?, ?, 'applying') RETURNING id",
                          &q, err);
    if (rc)
        goto fail;
    ckpt_st_bind_text(q, 1, ckpt_catalog_host());
    ckpt_st_bind_i64(q, 2, (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec);
    ckpt_st_bind_text(q, 3, p->into);
    ckpt_st_bind_text(q, 4, p->layout);
    ckpt_st_bind_text(q, 5, ckpt_org_mode_name(p->mode));
    int s = ckpt_st_step(q);
    if (s == CKPT_DB_ROW)
        *run_id = ckpt_st_i64(q, 0);
    ckpt_st_finalize(q);
    q = NULL;
    if (s != CKPT_DB_ROW) {
        rc = ckpt_cat_sqlerr(c, s, "writing the organize journal", err);
        goto fail;
    }
    rc = ckpt_cat_prepare(c,
                          "INSERT INTO organize_steps(run_id, seq, file_id, model_id, role,"
                          " is_dir, src, dst, sha256, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?,"
                          " 'pending')",
                          &q, err);
    if (rc)
        goto fail;
    int64_t seq = 0;
    s = CKPT_DB_DONE;
    for (size_t i = 0; i < p->n && s == CKPT_DB_DONE; i++) {
        const struct ckpt_org_item *it = &p->items[i];
        if (it->status != CKPT_ORG_PLACE)
            continue;
        s = insert_step(q, *run_id, seq++, it, "model", it->from, it->to, it->sha256);
        for (size_t k = 0; k < it->n_side && s == CKPT_DB_DONE; k++)
            s = insert_step(q, *run_id, seq++, it, "sidecar", it->side[k].from, it->side[k].to,
                            NULL);
    }
    ckpt_st_finalize(q);
    q = NULL;
    if (s != CKPT_DB_DONE) {
        rc = ckpt_cat_sqlerr(c, s, "writing the organize journal", err);
        goto fail;
    }
    rc = ckpt_cat_commit(c, err);
    if (rc)
        goto fail;
    ckpt_cat_exec(c, ckpt_db_sql(c->db, CKPT_SQL_SYNC_NORMAL), NULL);
    org_kill_point();
    return CKPT_OK;
fail:
    ckpt_st_finalize(q);
    ckpt_cat_rollback(c);
    ckpt_cat_exec(c, ckpt_db_sql(c->db, CKPT_SQL_SYNC_NORMAL), NULL);
    return rc;
}

int org_journal_set_run_state(struct ckpt_catalog *c, int64_t run_id, const char *state,
                              struct ckpt_error *err)
{
    struct ckpt_st *q;
    int rc = ckpt_cat_prepare(c, "UPDATE organize_runs SET state = ? WHERE id = ?", &q, err);
    if (rc)
        return rc;
    ckpt_st_bind_text(q, 1, state);
    ckpt_st_bind_i64(q, 2, run_id);
    int s = ckpt_st_step(q);
    ckpt_st_finalize(q);
    return s == CKPT_DB_DONE ? CKPT_OK : ckpt_cat_sqlerr(c, s, "writing the organize journal", err);
}

/* replace the sidecar path old by new in the file's sidecars JSON and the model's preview */
static int move_sidecar_record(struct ckpt_catalog *c, const struct org_step *s, const char *old,
                               const char *new, struct ckpt_error *err)
{
    struct ckpt_st *q;
    int rc = ckpt_cat_cached(c, "SELECT sidecars FROM files WHERE id = ?", &q, err);
    if (rc)
        return rc;
    ckpt_st_bind_i64(q, 1, s->file_id);
    char *text = ckpt_st_step(q) == CKPT_DB_ROW ? ckpt_cat_coldup(q, 0) : NULL;
    ckpt_st_reset(q);
    if (text) {
        json_t *o = json_loads(text, 0, NULL);
        free(text);
        int changed = 0;
        const char *k;
        json_t *v;
        json_object_foreach(o, k, v)
        {
            if (json_is_string(v) && strcmp(json_string_value(v), old) == 0) {
                json_string_set(v, new);
                changed = 1;
            }
        }
        char *out = changed ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        if (out) {
            rc = ckpt_cat_cached(c, "UPDATE files SET sidecars = ? WHERE id = ?", &q, err);
            if (rc) {
                free(out);
                return rc;
            }
            ckpt_st_bind_text(q, 1, out);
            ckpt_st_bind_i64(q, 2, s->file_id);
            int st = ckpt_st_step(q);
            ckpt_st_reset(q);
            free(out);
            if (st != CKPT_DB_DONE)
                return ckpt_cat_sqlerr(c, st, "updating sidecar paths", err);
        }
    }
    rc = ckpt_cat_cached(c, "UPDATE models SET preview = ?1 WHERE id = ?2 AND preview = ?3", &q,
                         err);
    if (rc)
        return rc;
    ckpt_st_bind_text(q, 1, new);
    ckpt_st_bind_i64(q, 2, s->model_id);
    ckpt_st_bind_text(q, 3, old);
    int st = ckpt_st_step(q);
    ckpt_st_reset(q);
    return st == CKPT_DB_DONE ? CKPT_OK : ckpt_cat_sqlerr(c, st, "updating the preview", err);
}

int org_journal_mark(struct ckpt_catalog *c, int64_t run_id, int mode, const struct org_step *s,
                     int new_state, const char *note, struct ckpt_error *err)
{
    struct ckpt_st *q;
    int rc = ckpt_cat_cached(
        c, "UPDATE organize_steps SET state = ?, note = ? WHERE run_id = ? AND seq = ?", &q, err);
    if (rc)
        return rc;
    ckpt_st_bind_text(q, 1, state_names[new_state]);
    ckpt_st_bind_text(q, 2, note);
    ckpt_st_bind_i64(q, 3, run_id);
    ckpt_st_bind_i64(q, 4, s->seq);
    int st = ckpt_st_step(q);
    ckpt_st_reset(q);
    if (st != CKPT_DB_DONE)
        return ckpt_cat_sqlerr(c, st, "writing the organize journal", err);
    if (mode != CKPT_ORG_MOVE || (new_state != ORG_DONE && new_state != ORG_UNDONE))
        return CKPT_OK;
    const char *now = new_state == ORG_DONE ? s->dst : s->src;
    const char *was = new_state == ORG_DONE ? s->src : s->dst;
    if (s->role == ORG_ROLE_SIDECAR)
        return move_sidecar_record(c, s, was, now, err);
    /* NOT EXISTS: should another record already claim the path (a scan ran in between), the
       next scan sorts the two out by fingerprint; the move itself stands */
    rc = ckpt_cat_cached(c,
                         "UPDATE files SET path = ?1, dev = coalesce(?2, dev),"
                         " ino = coalesce(?3, ino) WHERE id = ?4 AND path = ?5 AND NOT EXISTS"
                         " (SELECT 1 FROM files o WHERE o.host = files.host AND o.path = ?1"
                         " AND o.id <> files.id)",
                         &q, err);
    if (rc)
        return rc;
    struct stat sb;
    ckpt_st_bind_text(q, 1, now);
    if (lstat(now, &sb) == 0) {
        ckpt_st_bind_i64(q, 2, (int64_t)sb.st_dev);
        ckpt_st_bind_i64(q, 3, (int64_t)sb.st_ino);
    } else { /* the cached statement keeps the last call's values */
        ckpt_st_bind_null(q, 2);
        ckpt_st_bind_null(q, 3);
    }
    ckpt_st_bind_i64(q, 4, s->file_id);
    ckpt_st_bind_text(q, 5, was);
    st = ckpt_st_step(q);
    ckpt_st_reset(q);
    return st == CKPT_DB_DONE ? CKPT_OK : ckpt_cat_sqlerr(c, st, "updating the file's path", err);
}

int org_journal_refresh_models(struct ckpt_catalog *c, const int64_t *ids, size_t n,
                               struct ckpt_error *err)
{
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && ids[i] == ids[i - 1])
            continue;
        int rc = ckpt_cat_fts_refresh(c, ids[i], err);
        if (rc)
            return rc;
    }
    return CKPT_OK;
}
