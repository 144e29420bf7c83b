/* Recording a file ckptdb itself made (merge, convert, prune, extract, bake) in the catalog.
 *
 * The output is scanned in exactly as `scan` records one file (analysis, sidecars, hashes,
 * suggestions), then what ckptdb knows for certain replaces what scan could only suggest: the
 * origin becomes a chosen value and the parents rows are the operation's real inputs with their
 * weights. The SQL is in one function (record_facts) so that another store backend has one
 * place to mirror. Not for scanning folders (scan.c) or reading records (model.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog/internal.h"

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int step(struct ckpt_catalog *c, struct ckpt_st *q, const char *what, struct ckpt_error *err)
{
    int s = ckpt_st_step(q);
    ckpt_st_finalize(q);
    return s == CKPT_DB_DONE || s == CKPT_DB_ROW ? CKPT_OK : ckpt_cat_sqlerr(c, s, what, err);
}

/* The model of the file at real path rp on this host, the chosen origin and the parents, in
 * one transaction. */
static int record_facts(struct ckpt_catalog *c, const char *rp, const char *origin,
                        const struct ckpt_parent *parents, size_t n, int64_t *model_id,
                        struct ckpt_error *err)
{
    struct ckpt_st *q = NULL;
    int rc = ckpt_cat_begin(c, err);
    if (rc)
        return rc;
    int64_t id = 0;
    if (!(rc = ckpt_cat_prepare(c,
                                "SELECT model_id FROM files WHERE host = ? AND path = ?"
                                " AND missing = 0",
                                &q, err))) {
        ckpt_st_bind_text(q, 1, ckpt_catalog_host());
        ckpt_st_bind_text(q, 2, rp);
        int s = ckpt_st_step(q);
        if (s == CKPT_DB_ROW)
            id = ckpt_st_i64(q, 0);
        else if (s != CKPT_DB_DONE)
            rc = ckpt_cat_sqlerr(c, s, "finding the recorded output", err);
        ckpt_st_finalize(q);
        if (!rc && !id)
            rc = ckpt_error_setf(err, CKPT_E_NOTFOUND, rp, "not in the catalog after scanning it");
    }
    if (!rc && origin &&
        !(rc = ckpt_cat_prepare(c,
                                "UPDATE models SET origin = ?2, updated_ns = ?3"
                                " WHERE id = ?1",
                                &q, err))) {
        ckpt_st_bind_i64(q, 1, id);
        ckpt_st_bind_text(q, 2, origin);
        ckpt_st_bind_i64(q, 3, now_ns());
        rc = step(c, q, "recording the origin", err);
    }
    if (!rc && !(rc = ckpt_cat_prepare(c, "DELETE FROM parents WHERE model_id = ?", &q, err))) {
        ckpt_st_bind_i64(q, 1, id);
        rc = step(c, q, "replacing the parents", err);
    }
    for (size_t i = 0; i < n && !rc; i++) {
        if ((rc = ckpt_cat_prepare(c,
                                   "INSERT INTO parents(model_id, seq, sha256, name, weight)"
                                   " VALUES(?, ?, ?, ?, ?)",
                                   &q, err)))
            break;
        ckpt_st_bind_i64(q, 1, id);
        ckpt_st_bind_i64(q, 2, (int64_t)i);
        ckpt_st_bind_text(q, 3, parents[i].sha256 && *parents[i].sha256 ? parents[i].sha256 : NULL);
        ckpt_st_bind_text(q, 4, parents[i].name);
        if (!isnan(parents[i].weight))
            ckpt_st_bind_double(q, 5, parents[i].weight);
        rc = step(c, q, "recording the parents", err);
    }
    if (rc) {
        ckpt_cat_rollback(c);
        return rc;
    }
    rc = ckpt_cat_commit(c, err);
    if (!rc && model_id)
        *model_id = id;
    return rc;
}

int ckpt_catalog_record_output(struct ckpt_catalog *c, const char *path, const char *origin,
                               const struct ckpt_parent *parents, size_t n, int no_hash,
                               int64_t *model_id, struct ckpt_error *err)
{
    if (origin && *origin && ckpt_taxonomy_check("origin", origin, err) != CKPT_OK)
        return CKPT_E_ARG;
    if (origin && !*origin)
        origin = NULL;
    struct ckpt_scan_options o = {.no_hash = no_hash, .jobs = 1};
    struct ckpt_scan_stats st;
    memset(&st, 0, sizeof st);
    const char *paths[1] = {path};
    int rc = ckpt_catalog_scan(c, paths, 1, &o, &st, err);
    if (rc)
        return rc;
    char *rp = realpath(path, NULL);
    if (!rp)
        return ckpt_error_setf(err, CKPT_E_NOTFOUND, path, "gone after it was written");
    rc = record_facts(c, rp, origin, parents, n, model_id, err);
    free(rp);
    return rc;
}
