/* Lineage fingerprints in the catalog: computed by scan in the hashing pass (the fingerprint
 * stream is the hasher's extra consumer, so the file is read once), stored per file (table
 * lineage: family and the folded sketches for the pre-filter; lineage_fp: the full blob), and
 * read back for
 * `similar` and `lineage` over the catalog: every model's fold of the query's family is read
 * and measured, only the nearest models' blobs are loaded. Not for the fits themselves
 * (lib/lineage) nor for the walk (scan.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/internal.h"
#include "ckptdb/buf.h"
#include "ckptdb/lineage.h"
#include "ckptdb/tensorset.h"

struct ckpt_cat_fp {
    struct ckpt_tensorset *ts;
    struct ckpt_lineage_stream *s;
};

int ckpt_cat_fp_start(const char *path, const struct ckpt_analysis *a, struct ckpt_cat_fp **out)
{
    *out = NULL;
    if (!a->ok || !a->kind || (strcmp(a->kind, "checkpoint") && strcmp(a->kind, "diffusion-model")))
        return 0;
    struct ckpt_cat_fp *f = calloc(1, sizeof *f);
    if (!f)
        return 0;
    if (ckpt_tensorset_open(&f->ts, path, NULL, NULL)) {
        free(f);
        return 0;
    }
    if (ckpt_lineage_stream_new(f->ts, &f->s, NULL)) {
        ckpt_tensorset_close(f->ts);
        free(f);
        return 0;
    }
    *out = f;
    return 1;
}

void ckpt_cat_fp_update(void *user, const uint8_t *p, uint64_t off, size_t len)
{
    ckpt_lineage_stream_update(((struct ckpt_cat_fp *)user)->s, p, off, len);
}

struct ckpt_lineage_fp *ckpt_cat_fp_finish(struct ckpt_cat_fp *f, int ok)
{
    if (!f)
        return NULL;
    struct ckpt_lineage_fp *fp = NULL;
    if (ok) {
        if (ckpt_lineage_stream_finish(f->s, &fp, NULL))
            fp = NULL;
    } else {
        ckpt_lineage_stream_free(f->s);
    }
    ckpt_tensorset_close(f->ts);
    free(f);
    return fp;
}

int ckpt_cat_fp_store(struct ckpt_catalog *c, const char *host, const char *path,
                      const struct ckpt_lineage_fp *fp, struct ckpt_error *err)
{
    struct ckpt_buf fold = {0}, blob = {0};
    ckpt_lineage_fp_fold_save(fp, &fold);
    ckpt_lineage_fp_save(fp, &blob);
    int rc = CKPT_OK;
    struct ckpt_st *q = NULL;
    if (fold.oom || blob.oom) {
        rc = ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
        goto out;
    }
    static const char *const sql[2] = {
        "INSERT INTO lineage(file_id, family, fold)"
        " SELECT id, ?3, ?4 FROM files WHERE host = ?1 AND path = ?2"
        " ON CONFLICT(file_id) DO UPDATE SET family = excluded.family, fold = excluded.fold",
        "INSERT INTO lineage_fp(file_id, fp)"
        " SELECT id, ?4 FROM files WHERE host = ?1 AND path = ?2"
        " ON CONFLICT(file_id) DO UPDATE SET fp = excluded.fp"};
    for (int k = 0; k < 2 && !rc; k++) {
        if ((rc = ckpt_cat_prepare(c, sql[k], &q, err)))
            break;
        ckpt_st_bind_text(q, 1, host);
        ckpt_st_bind_text(q, 2, path);
        if (k == 0) {
            ckpt_st_bind_text(q, 3, ckpt_lineage_fp_family(fp));
            ckpt_st_bind_blob(q, 4, fold.data, fold.len);
        } else {
            ckpt_st_bind_blob(q, 4, blob.data, blob.len);
        }
        int s = ckpt_st_step(q);
        if (s != CKPT_DB_DONE)
            rc = ckpt_cat_sqlerr(c, s, "storing a fingerprint", err);
        ckpt_st_finalize(q);
        q = NULL;
    }
out:
    ckpt_st_finalize(q);
    ckpt_buf_free(&fold);
    ckpt_buf_free(&blob);
    return rc;
}

/* ---- reading -------------------------------------------------------------------------------- */

static int load_row(struct ckpt_st *q, int col, const char *label, struct ckpt_lineage_fp **out,
                    struct ckpt_error *err)
{
    size_t len = 0;
    const void *data = ckpt_st_blob(q, col, &len);
    int rc = ckpt_lineage_fp_load(data, len, label, out, err);
    if (!rc && (rc = ckpt_lineage_fp_set_label(*out, label))) {
        ckpt_lineage_fp_free(*out);
        *out = NULL;
    }
    return rc;
}

int ckpt_catalog_lineage_fp(struct ckpt_catalog *c, int64_t id, struct ckpt_lineage_fp **out,
                            struct ckpt_error *err)
{
    *out = NULL;
    struct ckpt_st *q;
    int rc =
        ckpt_cat_prepare(c,
                         "SELECT m.name, l.fp FROM lineage_fp l JOIN files f ON f.id = l.file_id"
                         " JOIN models m ON m.id = f.model_id WHERE m.id = ?"
                         " ORDER BY f.missing, f.id LIMIT 1",
                         &q, err);
    if (rc)
        return rc;
    ckpt_st_bind_i64(q, 1, id);
    if (ckpt_st_step(q) == CKPT_DB_ROW)
        rc = load_row(q, 1, ckpt_st_text(q, 0), out, err);
    else
        rc = ckpt_error_setf(err, CKPT_E_NOTFOUND, c->path,
                             "model %lld has no lineage fingerprint (only checkpoints and "
                             "diffusion models scanned with hashing have one)",
                             (long long)id);
    ckpt_st_finalize(q);
    return rc;
}

void ckpt_lineage_cands_release(struct ckpt_lineage_cands *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        ckpt_lineage_fp_free(r->fps[i]);
        free(r->names[i]);
        free(r->shas[i]);
    }
    free(r->fps);
    free(r->names);
    free(r->shas);
    free(r->ids);
    memset(r, 0, sizeof *r);
}

struct near {
    int64_t file_id;
    double d;
    size_t seq; /* row order: ties keep it, as a stable sort of every row would */
};

static int near_before(const struct near *x, const struct near *y)
{
    return x->d < y->d || (x->d == y->d && x->seq < y->seq);
}

static int cmp_near(const void *a, const void *b)
{
    const struct near *x = a, *y = b;
    return near_before(x, y) ? -1 : near_before(y, x);
}

/* v[0..n) is a max-heap by near_before (its root the farthest kept); sift v[i] down. */
static void heap_down(struct near *v, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < n && near_before(&v[m], &v[l]))
            m = l;
        if (l + 1 < n && near_before(&v[m], &v[l + 1]))
            m = l + 1;
        if (m == i)
            return;
        struct near t = v[i];
        v[i] = v[m];
        v[m] = t;
        i = m;
    }
}

static void heap_up(struct near *v, size_t i)
{
    while (i > 0 && near_before(&v[(i - 1) / 2], &v[i])) {
        struct near t = v[i];
        v[i] = v[(i - 1) / 2];
        v[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* The first column of every row of q, sorted. */
static int collect_i64(struct ckpt_catalog *c, struct ckpt_st *q, int64_t **out, size_t *n,
                       struct ckpt_error *err)
{
    size_t cap = 0;
    int s;
    while ((s = ckpt_st_step(q)) == CKPT_DB_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 1024;
            int64_t *nv = realloc(*out, cap * sizeof *nv);
            if (!nv)
                return ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
            *out = nv;
        }
        (*out)[(*n)++] = ckpt_st_i64(q, 0);
    }
    if (s != CKPT_DB_DONE)
        return ckpt_cat_sqlerr(c, s, "reading files", err);
    size_t i = 1;
    while (i < *n && (*out)[i - 1] <= (*out)[i])
        i++;
    if (i < *n) /* often in order already */
        qsort(*out, *n, sizeof **out, cmp_i64);
    return CKPT_OK;
}

int ckpt_catalog_lineage_nearest(struct ckpt_catalog *c, const struct ckpt_lineage_fp *qf,
                                 int64_t self, size_t keep, struct ckpt_lineage_cands *out,
                                 struct ckpt_error *err)
{
    memset(out, 0, sizeof *out);
    struct ckpt_lineage_foldq *fq = ckpt_lineage_foldq_new(qf);
    struct near *v = calloc(keep ? keep : 1, sizeof *v);
    if (!fq || !v) {
        ckpt_lineage_foldq_free(fq);
        free(v);
        return ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
    }
    /* the files that count: present, of another model (ids from the covering index
     * files_model_missing, sorted, so the pass below needs no join per row) */
    int64_t *ok = NULL;
    size_t nok = 0;
    struct ckpt_st *q;
    int rc =
        ckpt_cat_prepare(c, "SELECT id FROM files WHERE missing = 0 AND model_id != ?", &q, err);
    if (!rc) {
        ckpt_st_bind_i64(q, 1, self);
        rc = collect_i64(c, q, &ok, &nok, err);
        ckpt_st_finalize(q);
    }
    /* the lineage rows of the query's family, in table order (an index on family costs a
     * lookup per row and most rows are of the family queried), its fold read only on a match;
     * the `keep` nearest kept in a heap (a row farther than all of them stops being measured
     * half-way) */
    if (!rc)
        rc = ckpt_cat_prepare(c, "SELECT file_id, family, fold FROM lineage ORDER BY file_id", &q,
                              err);
    if (rc) {
        ckpt_lineage_foldq_free(fq);
        free(v);
        free(ok);
        return rc;
    }
    const char *family = ckpt_lineage_fp_family(qf);
    size_t n = 0, seq = 0;
    int s;
    while ((s = ckpt_st_step(q)) == CKPT_DB_ROW) {
        int64_t fid = ckpt_st_i64(q, 0);
        if (!nok || !bsearch(&fid, ok, nok, sizeof *ok, cmp_i64))
            continue; /* missing, or the query's own model */
        const char *fam = ckpt_st_text(q, 1);
        if (!fam || strcmp(fam, family))
            continue;
        size_t flen = 0;
        const void *fold = ckpt_st_blob(q, 2, &flen);
        double bound = n == keep ? v[0].d : INFINITY;
        double d = ckpt_lineage_foldq_distance(fq, fold, flen, bound);
        if (!(d >= 0) || !keep) /* other blocks (or a damaged fold): not comparable */
            continue;
        struct near e = {fid, d, seq++};
        if (n < keep) {
            v[n] = e;
            heap_up(v, n++);
        } else if (near_before(&e, &v[0])) {
            v[0] = e;
            heap_down(v, n, 0);
        }
    }
    if (s != CKPT_DB_DONE && s != CKPT_DB_ROW)
        rc = ckpt_cat_sqlerr(c, s, "reading fingerprints", err);
    ckpt_st_finalize(q);
    ckpt_lineage_foldq_free(fq);
    free(ok);
    if (rc) {
        free(v);
        return rc;
    }
    if (n)
        qsort(v, n, sizeof *v, cmp_near);
    out->fps = calloc(n ? n : 1, sizeof *out->fps);
    out->names = calloc(n ? n : 1, sizeof *out->names);
    out->shas = calloc(n ? n : 1, sizeof *out->shas);
    out->ids = calloc(n ? n : 1, sizeof *out->ids);
    if (!out->fps || !out->names || !out->shas || !out->ids) {
        free(v);
        ckpt_lineage_cands_release(out);
        return ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
    }
    rc = ckpt_cat_prepare(c,
                          "SELECT m.id, m.name, f.sha256, l.fp FROM lineage_fp l JOIN files f"
                          " ON f.id = l.file_id JOIN models m ON m.id = f.model_id"
                          " WHERE l.file_id = ?",
                          &q, err);
    for (size_t i = 0; i < n && !rc; i++) {
        ckpt_st_reset(q);
        ckpt_st_bind_i64(q, 1, v[i].file_id);
        if (ckpt_st_step(q) != CKPT_DB_ROW)
            continue;
        int64_t mid = ckpt_st_i64(q, 0);
        int dup = 0;
        for (size_t k = 0; k < out->n; k++)
            dup |= out->ids[k] == mid;
        if (dup)
            continue; /* a second copy of a model already in */
        const char *name = ckpt_st_text(q, 1);
        struct ckpt_lineage_fp *fp;
        if (load_row(q, 3, name ? name : "?", &fp, NULL))
            continue; /* a damaged blob: that model is not compared */
        out->fps[out->n] = fp;
        out->names[out->n] = strdup(name ? name : "?");
        out->shas[out->n] = ckpt_cat_coldup(q, 2);
        out->ids[out->n++] = mid;
    }
    if (!rc)
        ckpt_st_finalize(q);
    free(v);
    if (rc)
        ckpt_lineage_cands_release(out);
    return rc;
}

/* ---- findings as suggestions ------------------------------------------------------------------
 * After a scan, each model fingerprinted by it is explained from the catalog's nearest models:
 * a merge or fine-tune becomes an origin suggestion (at 0.8 x the finding's confidence, the
 * reason naming the parents), a merge's parents are recorded when the model has none from its
 * recipe, and output, realism and ecosystem chosen on a parent weighing at least 0.3 (or on a
 * fine-tune's base) are carried over at lower confidence. */

static int suggest_row(struct ckpt_catalog *c, int64_t mid, const char *field, const char *value,
                       double conf, const char *why, struct ckpt_error *err)
{
    struct ckpt_st *q;
    int rc = ckpt_cat_prepare(
        c,
        "INSERT INTO suggestions(model_id, field, value, confidence, why) VALUES(?,?,?,?,?)"
        " ON CONFLICT(model_id, field, value) DO UPDATE SET"
        /* portable: the table named on every column (PostgreSQL finds a bare one ambiguous
           with excluded's), a CASE for the larger value (max() of two is SQLite's) */
        " confidence = CASE WHEN excluded.confidence > suggestions.confidence"
        " THEN excluded.confidence ELSE suggestions.confidence END,"
        " why = CASE WHEN instr(suggestions.why, excluded.why) > 0 THEN suggestions.why"
        " ELSE suggestions.why || '; ' || excluded.why END",
        &q, err);
    if (rc)
        return rc;
    ckpt_st_bind_i64(q, 1, mid);
    ckpt_st_bind_text(q, 2, field);
    ckpt_st_bind_text(q, 3, value);
    ckpt_st_bind_double(q, 4, conf);
    ckpt_st_bind_text(q, 5, why);
    int s = ckpt_st_step(q);
    ckpt_st_finalize(q);
    return s == CKPT_DB_DONE ? CKPT_OK : ckpt_cat_sqlerr(c, s, "storing a suggestion", err);
}

static int explain_one(struct ckpt_catalog *c, int64_t mid, struct ckpt_error *err)
{
    struct ckpt_lineage_fp *q;
    if (ckpt_catalog_lineage_fp(c, mid, &q, NULL))
        return CKPT_OK;
    struct ckpt_lineage_cands cd;
    int rc = ckpt_catalog_lineage_nearest(c, q, mid, 32, &cd, err);
    struct ckpt_lineage_result r;
    if (!rc && cd.n &&
        !(rc = ckpt_lineage_explain(q, (const struct ckpt_lineage_fp *const *)cd.fps, cd.n, NULL,
                                    &r, err))) {
        int merge = r.origin == CKPT_LINEAGE_MERGE, ft = r.origin == CKPT_LINEAGE_FINETUNE;
        if (merge || ft) {
            char why[1024];
            int off =
                snprintf(why, sizeof why, "lineage: %s", merge ? "a merge of" : "departs from");
            for (size_t i = 0; i < r.n_parents && off > 0 && (size_t)off < sizeof why; i++)
                off += snprintf(why + off, sizeof why - (size_t)off, "%s %s (%.2f)", i ? "," : "",
                                cd.names[r.parents[i].index], r.parents[i].weight);
            if (off > 0 && (size_t)off < sizeof why)
                snprintf(why + off, sizeof why - (size_t)off, "%s",
                         merge ? (r.linear ? ", linear fit at the rounding floor"
                                           : ", non-linear (TIES/DARE-like)")
                               : " by fine-tuning");
            rc = suggest_row(c, mid, "origin", merge ? "merge" : "fine-tune", 0.8 * r.confidence,
                             why, err);
            /* parents, when the recipe gave none */
            struct ckpt_st *st;
            int have = 1;
            if (!rc && merge &&
                !ckpt_cat_prepare(c, "SELECT count(*) FROM parents WHERE model_id = ?", &st,
                                  NULL)) {
                ckpt_st_bind_i64(st, 1, mid);
                have = ckpt_st_step(st) == CKPT_DB_ROW && ckpt_st_int(st, 0) > 0;
                ckpt_st_finalize(st);
            }
            for (size_t i = 0; !rc && !have && i < r.n_parents; i++) {
                if ((rc = ckpt_cat_prepare(c,
                                           "INSERT INTO parents(model_id, seq, sha256, name,"
                                           " weight) VALUES(?,?,?,?,?) ON CONFLICT(model_id,"
                                           " seq) DO UPDATE SET sha256 = excluded.sha256,"
                                           " name = excluded.name, weight = excluded.weight",
                                           &st, err)))
                    break;
                const struct ckpt_lineage_parent *p = &r.parents[i];
                ckpt_st_bind_i64(st, 1, mid);
                ckpt_st_bind_i64(st, 2, (int64_t)i);
                ckpt_st_bind_text(st, 3, cd.shas[p->index]);
                ckpt_st_bind_text(st, 4, cd.names[p->index]);
                if (isnan(p->weight))
                    ckpt_st_bind_null(st, 5);
                else
                    ckpt_st_bind_double(st, 5, p->weight);
                int s = ckpt_st_step(st);
                ckpt_st_finalize(st);
                if (s != CKPT_DB_DONE)
                    rc = ckpt_cat_sqlerr(c, s, "storing parents", err);
            }
            /* chosen values of close parents */
            static const char *const fields[] = {"output", "realism", "ecosystem"};
            for (size_t i = 0; !rc && i < r.n_parents; i++) {
                const struct ckpt_lineage_parent *p = &r.parents[i];
                if (merge && !(p->weight >= 0.3))
                    continue;
                if (ft && (long)p->index != r.base)
                    continue;
                for (int f = 0; f < 3 && !rc; f++) {
                    char sql[128];
                    snprintf(sql, sizeof sql, "SELECT %s FROM models WHERE id = ?", fields[f]);
                    if ((rc = ckpt_cat_prepare(c, sql, &st, err)))
                        break;
                    ckpt_st_bind_i64(st, 1, cd.ids[p->index]);
                    char *v = ckpt_st_step(st) == CKPT_DB_ROW ? ckpt_cat_coldup(st, 0) : NULL;
                    ckpt_st_finalize(st);
                    if (v && *v) {
                        char w2[512];
                        snprintf(w2, sizeof w2, "lineage: %s %s has %s %s",
                                 merge ? "parent" : "base", cd.names[p->index], fields[f], v);
                        rc = suggest_row(c, mid, fields[f], v,
                                         0.5 * r.confidence * (merge ? p->weight : 1.0), w2, err);
                    }
                    free(v);
                }
            }
        }
        ckpt_lineage_result_release(&r);
    }
    ckpt_lineage_cands_release(&cd);
    ckpt_lineage_fp_free(q);
    return rc;
}

int ckpt_cat_lineage_suggest(struct ckpt_catalog *c, int64_t since_ns, struct ckpt_error *err)
{
    struct ckpt_st *q;
    int rc = ckpt_cat_prepare(c,
                              "SELECT DISTINCT f.model_id FROM lineage l JOIN files f"
                              " ON f.id = l.file_id WHERE f.scanned_ns >= ? AND f.missing = 0",
                              &q, err);
    if (rc)
        return rc;
    ckpt_st_bind_i64(q, 1, since_ns);
    int64_t *ids = NULL;
    size_t n = 0, cap = 0;
    while (ckpt_st_step(q) == CKPT_DB_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            int64_t *ni = realloc(ids, cap * sizeof *ni);
            if (!ni)
                break;
            ids = ni;
        }
        ids[n++] = ckpt_st_i64(q, 0);
    }
    ckpt_st_finalize(q);
    rc = n ? ckpt_cat_begin(c, err) : CKPT_OK;
    for (size_t i = 0; i < n && !rc; i++)
        if (!(rc = explain_one(c, ids[i], err)))
            rc = ckpt_cat_fts_refresh(c, ids[i], err);
    if (n) {
        if (!rc)
            rc = ckpt_cat_commit(c, err);
        if (rc)
            ckpt_cat_rollback(c);
    }
    free(ids);
    return rc;
}

/* ---- lineage and similar of one catalog model, together (the web page's detail panel) ---- */

static void ids_json(struct ckpt_json *j, const char *key, const struct ckpt_lineage_cands *c,
                     const size_t *idx, size_t n)
{
    ckpt_json_key(j, key);
    ckpt_json_arr_begin(j);
    for (size_t i = 0; i < n; i++)
        ckpt_json_i64(j, c->ids[idx[i]]);
    ckpt_json_arr_end(j);
}

int ckpt_catalog_lineage_report(struct ckpt_catalog *c, int64_t id, size_t top, struct ckpt_json *j,
                                struct ckpt_error *err)
{
    struct ckpt_lineage_fp *q = NULL;
    struct ckpt_lineage_cands cands = {0};
    struct ckpt_lineage_result lr;
    struct ckpt_lineage_similar_result sr = {0};
    memset(&lr, 0, sizeof lr);
    int have_lr = 0;
    if (top < 1 || top > 64)
        return ckpt_error_set(err, CKPT_E_ARG, "similar: between 1 and 64 models");
    int rc = ckpt_catalog_lineage_fp(c, id, &q, err);
    /* the same candidate sets as `ckptdb lineage` (32 nearest) and `similar` (64 or 4 x top) */
    size_t keep = top * 4 > 64 ? top * 4 : 64;
    if (!rc)
        rc = ckpt_catalog_lineage_nearest(c, q, id, keep, &cands, err);
    if (!rc) {
        rc = ckpt_lineage_explain(q, (const struct ckpt_lineage_fp *const *)cands.fps,
                                  cands.n < 32 ? cands.n : 32, NULL, &lr, err);
        have_lr = rc == CKPT_OK;
    }
    if (!rc)
        rc = ckpt_lineage_similar(q, (const struct ckpt_lineage_fp *const *)cands.fps, cands.n,
                                  NULL, top, &sr, err);
    if (!rc) {
        size_t idx[CKPT_LINEAGE_MAX_PARENTS > 64 ? CKPT_LINEAGE_MAX_PARENTS : 64];
        ckpt_json_obj_begin(j);
        ckpt_json_key(j, "id");
        ckpt_json_i64(j, id);
        ckpt_json_key(j, "lineage");
        ckpt_lineage_result_json(&lr, ckpt_lineage_fp_label(q), (const char *const *)cands.names,
                                 (const char *const *)cands.shas, j);
        ckpt_json_key(j, "similar");
        ckpt_lineage_similar_json(&sr, (const char *const *)cands.names, j);
        for (size_t i = 0; i < lr.n_parents; i++)
            idx[i] = lr.parents[i].index;
        ids_json(j, "parent_ids", &cands, idx, lr.n_parents);
        ckpt_json_key(j, "base_id");
        if (lr.base >= 0)
            ckpt_json_i64(j, cands.ids[lr.base]);
        else
            ckpt_json_null(j);
        for (size_t i = 0; i < sr.n; i++)
            idx[i] = sr.matches[i].index;
        ids_json(j, "similar_ids", &cands, idx, sr.n);
        ckpt_json_obj_end(j);
    }
    ckpt_lineage_similar_release(&sr);
    if (have_lr)
        ckpt_lineage_result_release(&lr);
    ckpt_lineage_cands_release(&cands);
    ckpt_lineage_fp_free(q);
    return rc;
}
