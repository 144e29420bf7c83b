/* Model records: writing what scan measured (files, suggestions, parents), a record in memory
 * (struct ckpt_model, releasing it, its JSON object), resolving MODEL arguments, and the user's
 * changes (set, tag, accept, forget), each one transaction. Not for reading records (read.c),
 * lists and rankings (query.c) or export/import (transfer.c). */
#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "catalog/internal.h"
#include "ckptdb/buf.h"

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int step_done(struct ckpt_catalog *c, struct ckpt_st *st, const char *what,
                     struct ckpt_error *err)
{
    int s = ckpt_st_step(st);
    ckpt_st_finalize(st);
    return s == CKPT_DB_DONE || s == CKPT_DB_ROW ? CKPT_OK : ckpt_cat_sqlerr(c, s, what, err);
}

/* a write whose answer is not needed at once (ckpt_st_run: PostgreSQL pipelines it inside a
   transaction; a failure comes back by the commit at the latest) */
static int run_done(struct ckpt_catalog *c, struct ckpt_st *st, const char *what,
                    struct ckpt_error *err)
{
    int s = ckpt_st_run(st);
    ckpt_st_finalize(st);
    return s == CKPT_DB_DONE || s == CKPT_DB_ROW ? CKPT_OK : ckpt_cat_sqlerr(c, s, what, err);
}

/* the model's default name: the file's base name without its extension */
static char *stem_name(const char *path, int is_dir)
{
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        n--;
    size_t b = n;
    while (b > 0 && path[b - 1] != '/')
        b--;
    size_t e = n;
    if (!is_dir)
        for (size_t i = n; i > b + 1; i--)
            if (path[i - 1] == '.') {
                e = i - 1;
                break;
            }
    return strndup(path + b, e - b);
}

/* The record at (host, path) recorded since the walk looked (*file_id, *model_id; the given
   record's model when *file_id is set) and, for a new file, the model of the same file on
   another machine to join (*join). */
static int lookup(struct ckpt_catalog *c, const char *host, const char *path,
                  const struct ckpt_analysis *a, int64_t *file_id_io, int64_t *model_id,
                  int64_t *join, struct ckpt_error *err)
{
    int64_t file_id = *file_id_io;
    struct ckpt_st *q;
    int rc = CKPT_OK;
    /* PostgreSQL: the lookups below are started together (one round trip, with the previous
       file's writes, which went down the pipeline unanswered) */
    struct ckpt_st *fq = NULL, *jq = NULL;
    if (!file_id) {
        /* another scanner (another process, or another machine's under the same host name)
           may have recorded this path since the walk looked: take its record */
        if ((rc = ckpt_cat_prepare(c, ckpt_db_sql(c->db, CKPT_SQL_FILE_ID), &fq, err)))
            goto done;
        ckpt_st_bind_text(fq, 1, host);
        ckpt_st_bind_text(fq, 2, path);
        ckpt_st_start(fq);
    } else {
        if ((rc = ckpt_cat_prepare(c, "SELECT id, model_id FROM files WHERE id = ?", &fq, err)))
            goto done;
        ckpt_st_bind_i64(fq, 1, file_id);
        ckpt_st_start(fq);
    }
    if (!file_id && a->fingerprint[0]) {
        /* a new file: the same file recorded by another machine meanwhile (its scan ran at
           the same time as ours) is this model's other location; the lock makes the two
           machines decide one after the other */
        if ((rc = ckpt_cat_prepare(c, ckpt_db_sql(c->db, CKPT_SQL_LOCK_KEY), &q, err)))
            goto done;
        ckpt_st_bind_text(q, 1, a->fingerprint);
        int s = ckpt_st_run(q);
        ckpt_st_finalize(q);
        if (s != CKPT_DB_DONE && s != CKPT_DB_ROW) {
            rc = ckpt_cat_sqlerr(c, s, "recording a file", err);
            goto done;
        }
        /* a model this machine has no file of yet, the one of the same file name first (two
           copies on one machine stay two models, as on the machine that saw them first) */
        if ((rc = ckpt_cat_prepare(
                 c,
                 "SELECT f.model_id FROM files f WHERE f.fingerprint = ?1 AND f.host <> ?2 AND"
                 " f.error IS NULL AND (f.sha256 IS NULL OR CAST(?3 AS TEXT) IS NULL OR f.sha256 = "
                 "?3) AND"
                 " NOT EXISTS (SELECT 1 FROM files h WHERE h.model_id = f.model_id AND"
                 " h.host = ?2) ORDER BY substr(f.path, length(f.path) - length(?4) + 1) = ?4"
                 " DESC, f.id LIMIT 1",
                 &jq, err)))
            goto done;
        const char *base = strrchr(path, '/');
        ckpt_st_bind_text(jq, 1, a->fingerprint);
        ckpt_st_bind_text(jq, 2, host);
        ckpt_st_bind_text(jq, 4, base ? base : path);
        const struct ckpt_hash_result *hr = &a->hash;
        ckpt_st_bind_text(jq, 3,
                          a->hashed && (hr->computed & CKPT_HASH_SHA256) ? hr->sha256 : NULL);
        ckpt_st_start(jq);
    }
    int s = ckpt_st_step(fq);
    if (s == CKPT_DB_ROW) {
        *file_id_io = ckpt_st_i64(fq, 0);
        *model_id = ckpt_st_i64(fq, 1);
    } else if (s != CKPT_DB_DONE) {
        rc = ckpt_cat_sqlerr(c, s, "recording a file", err);
        goto done;
    }
    if (jq) {
        s = ckpt_st_step(jq);
        if (s == CKPT_DB_ROW)
            *join = ckpt_st_i64(jq, 0);
        else if (s != CKPT_DB_DONE) {
            rc = ckpt_cat_sqlerr(c, s, "recording a file", err);
            goto done;
        }
    }
done:
    ckpt_st_finalize(fq);
    ckpt_st_finalize(jq);
    return rc;
}

int ckpt_cat_record_file(struct ckpt_catalog *c, int64_t file_id, const char *host,
                         const char *path, const void *stp, int is_dir,
                         const struct ckpt_analysis *a, const struct ckpt_record_hint *hint,
                         struct ckpt_error *err)
{
    const struct stat *st = stp;
    int64_t model_id = 0;
    int created = 0;
    struct ckpt_st *q;
    int rc;
    char *name = stem_name(path, is_dir);
    if (!name)
        return ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
    int64_t t = now_ns();
    int64_t join = 0;
    if (hint && !file_id) {
        file_id = hint->file_id;
        model_id = hint->model_id;
        join = hint->join;
    } else if ((rc = lookup(c, host, path, a, &file_id, &model_id, &join, err))) {
        goto out;
    }
    if (!model_id && join) {
        /* joins the record of the same file on another machine, if it is still there */
        if ((rc = ckpt_cat_prepare(c, "SELECT id FROM models WHERE id = ?", &q, err)))
            goto out;
        ckpt_st_bind_i64(q, 1, join);
        if (ckpt_st_step(q) == CKPT_DB_ROW)
            model_id = join;
        ckpt_st_finalize(q);
    }
    if (!model_id) {
        /* with the sidecar facts (see below) at once: a new model has no user fields yet */
        model_id = ckpt_cat_new_model_id(c); /* 0: none reserved (SQLite) */
        int s;
        if ((rc = ckpt_cat_prepare(c,
                                   model_id ? "INSERT INTO models(name, created_ns, updated_ns,"
                                              " description, preview, source, source_url,"
                                              " trigger_words, kind, family, id)"
                                              " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                                            : "INSERT INTO models(name, created_ns, updated_ns,"
                                              " description, preview, source, source_url,"
                                              " trigger_words, kind, family)"
                                              " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                                   &q, err)))
            goto out;
        ckpt_st_bind_text(q, 1, name);
        ckpt_st_bind_i64(q, 2, t);
        ckpt_st_bind_i64(q, 3, t);
        ckpt_st_bind_text(q, 4, a->side.description);
        ckpt_st_bind_text(q, 5, a->side.preview);
        ckpt_st_bind_text(q, 6, a->side.source);
        ckpt_st_bind_text(q, 7, a->side.source_url);
        ckpt_st_bind_text(q, 8, a->side.trigger_words);
        ckpt_st_bind_text(q, 9, a->kind);
        ckpt_st_bind_text(q, 10, a->family);
        if (model_id) {
            ckpt_st_bind_i64(q, 11, model_id);
            s = ckpt_st_run(q);
        } else {
            s = ckpt_st_step(q);
            if (s == CKPT_DB_ROW)
                model_id = ckpt_st_i64(q, 0);
        }
        ckpt_st_finalize(q);
        if (s != CKPT_DB_ROW && (s != CKPT_DB_DONE || !model_id)) {
            rc = ckpt_cat_sqlerr(c, s, "adding a model", err);
            goto out;
        }
        created = 1;
    }
    char *meta = a->ok ? ckpt_analysis_meta_json(a) : NULL;
    const char *sql_new =
        "INSERT INTO files(model_id, host, path, is_dir, size, mtime_ns, dev, ino, format, kind,"
        " network, family, ecosystem, variant, prediction, precision, components, tensor_count,"
        " parameter_count, fingerprint, sha256, autov1, autov2, autov3, crc32, blake3, safety,"
        " problems, evidence, metadata, error, sidecars, site_tags, site_base_model, missing,"
        " scanned_ns, safety_findings) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,"
        "?15,?16,?17,?18,?19,?20,?21,?22,?23,?24,?25,?26,?27,?28,?29,?30,?31,?32,?33,?34,0,?35,"
        "?37)";
    const char *sql_upd =
        "UPDATE files SET model_id=?1, host=?2, path=?3, is_dir=?4, size=?5, mtime_ns=?6, dev=?7,"
        " ino=?8, format=?9, kind=?10, network=?11, family=?12, ecosystem=?13, variant=?14,"
        " prediction=?15, precision=?16, components=?17, tensor_count=?18, parameter_count=?19,"
        " fingerprint=?20, sha256=?21, autov1=?22, autov2=?23, autov3=?24, crc32=?25, blake3=?26,"
        " safety=?27, problems=?28, evidence=?29, metadata=?30, error=?31, sidecars=?32,"
        " site_tags=?33, site_base_model=?34, missing=0, scanned_ns=?35, safety_findings=?37"
        " WHERE id=?36";
    rc = ckpt_cat_prepare(c, file_id ? sql_upd : sql_new, &q, err);
    if (rc) {
        free(meta);
        goto out;
    }
    const struct ckpt_hash_result *h = &a->hash;
    ckpt_st_bind_i64(q, 1, model_id);
    ckpt_st_bind_text(q, 2, host);
    ckpt_st_bind_text(q, 3, path);
    ckpt_st_bind_i64(q, 4, is_dir);
    ckpt_st_bind_i64(q, 5, (int64_t)st->st_size);
    ckpt_st_bind_i64(q, 6, (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec);
    ckpt_st_bind_i64(q, 7, (int64_t)st->st_dev);
    ckpt_st_bind_i64(q, 8, (int64_t)st->st_ino);
    ckpt_st_bind_text(q, 9, a->format);
    ckpt_st_bind_text(q, 10, a->kind);
    ckpt_st_bind_text(q, 11, a->network);
    ckpt_st_bind_text(q, 12, a->family);
    ckpt_st_bind_text(q, 13, a->ecosystem);
    ckpt_st_bind_text(q, 14, a->variant);
    ckpt_st_bind_text(q, 15, a->prediction);
    ckpt_st_bind_text(q, 16, a->precision);
    ckpt_st_bind_text(q, 17, a->components);
    if (a->ok) {
        ckpt_st_bind_i64(q, 18, (int64_t)a->tensor_count);
        ckpt_st_bind_i64(q, 19, (int64_t)a->parameter_count);
    }
    ckpt_st_bind_text(q, 20, a->fingerprint[0] ? a->fingerprint : NULL);
    int hs = a->hashed;
    ckpt_st_bind_text(q, 21, hs && (h->computed & CKPT_HASH_SHA256) ? h->sha256 : NULL);
    ckpt_st_bind_text(q, 22, hs && (h->computed & CKPT_HASH_AUTOV1) ? h->autov1 : NULL);
    ckpt_st_bind_text(q, 23, hs && (h->computed & CKPT_HASH_AUTOV2) ? h->autov2 : NULL);
    ckpt_st_bind_text(q, 24, hs && h->has_autov3 ? h->autov3 : NULL);
    ckpt_st_bind_text(q, 25, hs && (h->computed & CKPT_HASH_CRC32) ? h->crc32 : NULL);
    ckpt_st_bind_text(q, 26, hs && (h->computed & CKPT_HASH_BLAKE3) ? h->blake3 : NULL);
    ckpt_st_bind_text(q, 27, a->safety);
    ckpt_st_bind_text(q, 37, a->safety_findings);
    ckpt_st_bind_text(q, 28, a->problems);
    ckpt_st_bind_text(q, 29, a->evidence);
    ckpt_st_bind_text(q, 30, meta);
    ckpt_st_bind_text(q, 31, a->ok ? NULL : (a->error ? a->error : "could not be read"));
    ckpt_st_bind_text(q, 32, a->side.paths);
    ckpt_st_bind_text(q, 33, a->side.tags);
    ckpt_st_bind_text(q, 34, a->side.base_model);
    ckpt_st_bind_i64(q, 35, t);
    if (file_id)
        ckpt_st_bind_i64(q, 36, file_id);
    rc = run_done(c, q, "recording a file", err);
    free(meta);
    if (rc)
        goto out;
    /* sidecar facts: description and preview belong to the sidecars; source, URL and trigger
       words fill the user's fields only while those are empty (and are suggestions too); the
       model's kind and family are its file's (every file of a model is the same content) */
    if (!created &&
        (rc = ckpt_cat_prepare(c,
                               "UPDATE models SET description = ?2, preview = ?3,"
                               " source = coalesce(source, ?4),"
                               " source_url = coalesce(source_url, ?5),"
                               " trigger_words = coalesce(trigger_words, ?6), updated_ns = ?7,"
                               " kind = ?8, family = ?9 WHERE id = ?1",
                               &q, err)))
        goto out;
    if (!created) {
        ckpt_st_bind_i64(q, 1, model_id);
        ckpt_st_bind_text(q, 2, a->side.description);
        ckpt_st_bind_text(q, 3, a->side.preview);
        ckpt_st_bind_text(q, 4, a->side.source);
        ckpt_st_bind_text(q, 5, a->side.source_url);
        ckpt_st_bind_text(q, 6, a->side.trigger_words);
        ckpt_st_bind_i64(q, 7, t);
        ckpt_st_bind_text(q, 8, a->kind);
        ckpt_st_bind_text(q, 9, a->family);
        if ((rc = run_done(c, q, "recording sidecar facts", err)))
            goto out;
    }
    /* suggestions and parents are recomputed from what the file says now */
    struct ckpt_suggest_input in = {
        .name = name, .filename = path, .meta = a->meta, .n_meta = a->n_meta, .side = &a->side};
    const char *slash = strrchr(path, '/');
    in.filename = slash ? slash + 1 : path;
    struct ckpt_suggest_out so;
    ckpt_suggest(&in, &so);
    static const char *const clear[] = {"DELETE FROM suggestions WHERE model_id = ?",
                                        "DELETE FROM parents WHERE model_id = ?"};
    /* a model made just now has none to clear (each statement is a round trip to a
       PostgreSQL server) */
    for (int i = 0; i < 2 && !rc && !created; i++) {
        if ((rc = ckpt_cat_prepare(c, clear[i], &q, err)))
            break;
        ckpt_st_bind_i64(q, 1, model_id);
        rc = run_done(c, q, "replacing suggestions", err);
    }
    for (size_t i = 0; i < so.n && !rc; i++) {
        if ((rc = ckpt_cat_prepare(c,
                                   "INSERT INTO suggestions(model_id, field, value, confidence,"
                                   " why) VALUES(?, ?, ?, ?, ?)",
                                   &q, err)))
            break;
        ckpt_st_bind_i64(q, 1, model_id);
        ckpt_st_bind_text(q, 2, so.s[i].field);
        ckpt_st_bind_text(q, 3, so.s[i].value);
        ckpt_st_bind_double(q, 4, so.s[i].confidence);
        ckpt_st_bind_text(q, 5, so.s[i].why);
        rc = run_done(c, q, "recording suggestions", err);
    }
    for (size_t i = 0; i < so.n_parents && !rc; i++) {
        if ((rc = ckpt_cat_prepare(c,
                                   "INSERT INTO parents(model_id, seq, sha256, name, weight)"
                                   " VALUES(?, ?, ?, ?, ?)",
                                   &q, err)))
            break;
        ckpt_st_bind_i64(q, 1, model_id);
        ckpt_st_bind_i64(q, 2, (int64_t)i);
        ckpt_st_bind_text(q, 3, so.parents[i].sha256);
        ckpt_st_bind_text(q, 4, so.parents[i].name);
        if (!isnan(so.parents[i].weight))
            ckpt_st_bind_double(q, 5, so.parents[i].weight);
        rc = run_done(c, q, "recording merge parents", err);
    }
    ckpt_suggest_release(&so);
    if (!rc)
        rc = ckpt_cat_fts_refresh_new(c, model_id, created, err);
out:
    free(name);
    return rc;
}

/* ---- records in memory ----------------------------------------------------------------- */

void ckpt_model_release(struct ckpt_model *m)
{
    char *strs[] = {m->name,       m->path,           m->format,        m->kind,       m->network,
                    m->family,     m->ecosystem,      m->variant,       m->prediction, m->precision,
                    m->components, m->sha256,         m->autov1,        m->autov2,     m->autov3,
                    m->crc32,      m->blake3,         m->fingerprint,   m->safety,     m->origin,
                    m->output,     m->realism,        m->subjects,      m->tags,       m->source,
                    m->source_url, m->note,           m->trigger_words, m->settings,   m->metadata,
                    m->problems,   m->evidence,       m->description,   m->preview,    m->sidecars,
                    m->error,      m->safety_findings};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        free(strs[i]);
    for (size_t i = 0; i < m->n_suggested; i++) {
        free(m->suggested[i].field);
        free(m->suggested[i].value);
        free(m->suggested[i].why);
    }
    free(m->suggested);
    for (size_t i = 0; i < m->n_parents; i++) {
        free(m->parents[i].sha256);
        free(m->parents[i].name);
    }
    free(m->parents);
    for (size_t i = 0; i < m->n_locations; i++) {
        free(m->locations[i].host);
        free(m->locations[i].path);
    }
    free(m->locations);
    memset(m, 0, sizeof *m);
}

static void json_list(struct ckpt_json *j, const char *key, const char *comma)
{
    ckpt_json_key(j, key);
    ckpt_json_arr_begin(j);
    for (const char *p = comma; p && *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t n = strcspn(p, ",");
        size_t e = n;
        while (e && p[e - 1] == ' ')
            e--;
        if (e)
            ckpt_json_strn(j, p, e);
        p += n;
    }
    ckpt_json_arr_end(j);
}

static void json_rawobj(struct ckpt_json *j, const char *key, const char *text, int arr)
{
    ckpt_json_key(j, key);
    if (text && *text)
        ckpt_json_raw(j, text, strlen(text));
    else if (arr)
        ckpt_json_raw(j, "[]", 2);
    else
        ckpt_json_raw(j, "{}", 2);
}

void ckpt_model_json(const struct ckpt_model *m, struct ckpt_json *j)
{
    ckpt_json_obj_begin(j);
    ckpt_json_key(j, "id");
    ckpt_json_i64(j, m->id);
    const struct {
        const char *k, *v;
    } a[] = {{"name", m->name}, {"path", m->path}};
    for (size_t i = 0; i < 2; i++) {
        ckpt_json_key(j, a[i].k);
        ckpt_json_str(j, a[i].v);
    }
    ckpt_json_key(j, "size");
    ckpt_json_u64(j, m->size);
    ckpt_json_key(j, "mtime");
    ckpt_json_double(j, (double)m->mtime_ns / 1e9);
    const struct {
        const char *k, *v;
    } b[] = {{"format", m->format},         {"kind", m->kind},           {"network", m->network},
             {"family", m->family},         {"ecosystem", m->ecosystem}, {"variant", m->variant},
             {"prediction", m->prediction}, {"precision", m->precision}};
    for (size_t i = 0; i < sizeof b / sizeof b[0]; i++) {
        ckpt_json_key(j, b[i].k);
        ckpt_json_str(j, b[i].v);
    }
    json_list(j, "components", m->components);
    const struct {
        const char *k, *v;
    } h[] = {{"sha256", m->sha256}, {"autov1", m->autov1}, {"autov2", m->autov2},
             {"autov3", m->autov3}, {"crc32", m->crc32},   {"blake3", m->blake3},
             {"safety", m->safety}, {"origin", m->origin}, {"output", m->output}};
    for (size_t i = 0; i < sizeof h / sizeof h[0]; i++) {
        ckpt_json_key(j, h[i].k);
        ckpt_json_str(j, h[i].v);
    }
    json_list(j, "realism", m->realism);
    json_list(j, "subjects", m->subjects);
    json_list(j, "tags", m->tags);
    const struct {
        const char *k, *v;
    } u[] = {{"source", m->source}, {"source_url", m->source_url}};
    for (size_t i = 0; i < 2; i++) {
        ckpt_json_key(j, u[i].k);
        ckpt_json_str(j, u[i].v);
    }
    ckpt_json_key(j, "rating");
    if (m->rating)
        ckpt_json_i64(j, m->rating);
    else
        ckpt_json_null(j);
    ckpt_json_key(j, "note");
    ckpt_json_str(j, m->note);
    ckpt_json_key(j, "trigger_words");
    ckpt_json_str(j, m->trigger_words);
    json_rawobj(j, "settings", m->settings, 0);
    json_rawobj(j, "metadata", m->metadata, 0);
    ckpt_json_key(j, "parents");
    ckpt_json_arr_begin(j);
    for (size_t i = 0; i < m->n_parents; i++) {
        ckpt_json_obj_begin(j);
        ckpt_json_key(j, "sha256");
        ckpt_json_str(j, m->parents[i].sha256);
        ckpt_json_key(j, "name");
        ckpt_json_str(j, m->parents[i].name);
        ckpt_json_key(j, "weight");
        ckpt_json_double(j, m->parents[i].weight);
        ckpt_json_obj_end(j);
    }
    ckpt_json_arr_end(j);
    ckpt_json_key(j, "suggested");
    ckpt_json_obj_begin(j);
    for (size_t i = 0; i < m->n_suggested; i++) {
        ckpt_json_key(j, m->suggested[i].field);
        ckpt_json_obj_begin(j);
        ckpt_json_key(j, "value");
        ckpt_json_str(j, m->suggested[i].value);
        ckpt_json_key(j, "confidence");
        ckpt_json_double(j, round(m->suggested[i].confidence * 100) / 100);
        ckpt_json_key(j, "why");
        ckpt_json_str(j, m->suggested[i].why);
        ckpt_json_obj_end(j);
    }
    ckpt_json_obj_end(j);
    ckpt_json_key(j, "missing");
    ckpt_json_bool(j, m->missing);
    ckpt_json_key(j, "locations");
    ckpt_json_arr_begin(j);
    for (size_t i = 0; i < m->n_locations; i++) {
        ckpt_json_obj_begin(j);
        ckpt_json_key(j, "host");
        ckpt_json_str(j, m->locations[i].host);
        ckpt_json_key(j, "path");
        ckpt_json_str(j, m->locations[i].path);
        ckpt_json_key(j, "missing");
        ckpt_json_bool(j, m->locations[i].missing);
        ckpt_json_obj_end(j);
    }
    ckpt_json_arr_end(j);
    json_rawobj(j, "problems", m->problems, 1);
    json_rawobj(j, "safety_findings", m->safety_findings, 1);
    ckpt_json_key(j, "description");
    ckpt_json_str(j, m->description);
    ckpt_json_key(j, "preview");
    ckpt_json_str(j, m->preview);
    json_rawobj(j, "sidecars", m->sidecars, 0);
    ckpt_json_key(j, "error");
    ckpt_json_str(j, m->error);
    ckpt_json_obj_end(j);
}

/* ---- resolving MODEL arguments -------------------------------------------------------------- */

static int collect_ids(struct ckpt_catalog *c, const char *sql, const char *arg, int64_t *ids,
                       size_t max, size_t *n, struct ckpt_error *err)
{
    struct ckpt_st *q;
    int rc = ckpt_cat_prepare(c, sql, &q, err);
    if (rc)
        return rc;
    ckpt_st_bind_text(q, 1, arg);
    *n = 0;
    while (ckpt_st_step(q) == CKPT_DB_ROW)
        if (*n < max)
            ids[(*n)++] = ckpt_st_i64(q, 0);
    ckpt_st_finalize(q);
    return CKPT_OK;
}

int ckpt_catalog_find_model(struct ckpt_catalog *c, const char *ref, int64_t *id,
                            struct ckpt_error *err)
{
    int64_t ids[8];
    size_t n = 0;
    int rc;
    int numeric = *ref != 0;
    for (const char *p = ref; *p; p++)
        numeric &= isdigit((unsigned char)*p) != 0;
    if (numeric && strlen(ref) < 15) {
        rc = collect_ids(c, "SELECT id FROM models WHERE id = CAST(? AS INTEGER)", ref, ids, 8, &n,
                         err);
        if (rc || n == 1)
            goto done;
    }
    rc = collect_ids(c, "SELECT id FROM models WHERE name = ?", ref, ids, 8, &n, err);
    if (rc || n)
        goto done;
    char *rp = realpath(ref, NULL);
    rc =
        collect_ids(c, "SELECT model_id FROM files WHERE path = ?", rp ? rp : ref, ids, 8, &n, err);
    free(rp);
    if (rc || n)
        goto done;
    size_t len = strlen(ref);
    int hex = len >= 6 && len <= 64;
    for (const char *p = ref; *p && hex; p++)
        hex = isxdigit((unsigned char)*p) != 0;
    if (hex) {
        char pat[80];
        snprintf(pat, sizeof pat, "%s", ref);
        for (char *p = pat; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        rc = collect_ids(c,
                         "SELECT DISTINCT model_id FROM files WHERE substr(sha256, 1, length(?1))"
                         " = ?1 OR substr(autov2, 1, length(?1)) = ?1",
                         pat, ids, 8, &n, err);
        if (rc || n)
            goto done;
    }
    rc = collect_ids(c, "SELECT id FROM models WHERE lower(name) = lower(?)", ref, ids, 8, &n, err);
done:
    if (rc)
        return rc;
    if (n == 0)
        return ckpt_error_set(err, CKPT_E_NOTFOUND,
                              "no model '%s' in the catalog (give an id, a name, a path, or 6+ "
                              "hex digits of its sha256)",
                              ref);
    if (n > 1) {
        char list[200];
        size_t o = 0;
        for (size_t i = 0; i < n && i < 8 && o < sizeof list - 24; i++)
            o += (size_t)snprintf(list + o, sizeof list - o, "%s%lld", i ? ", " : "",
                                  (long long)ids[i]);
        return ckpt_error_set(err, CKPT_E_ARG, "'%s' matches several models (ids %s); give an id",
                              ref, list);
    }
    *id = ids[0];
    return CKPT_OK;
}

/* ---- the user's changes -------------------------------------------------------------------- */

static const char *const settable[] = {"name",     "origin",    "output",        "realism",
                                       "subjects", "source",    "source_url",    "rating",
                                       "note",     "ecosystem", "trigger_words", NULL};

static int check_assignment(const char *field, const char *value, struct ckpt_error *err)
{
    if (strncmp(field, "settings.", 9) == 0) {
        if (!field[9] || strlen(field) > 64)
            return ckpt_error_set(err, CKPT_E_ARG, "settings needs a key: settings.cfg=7");
        return CKPT_OK;
    }
    int known = 0;
    for (const char *const *f = settable; *f; f++)
        known |= strcmp(*f, field) == 0;
    if (!known)
        return ckpt_error_set(err, CKPT_E_ARG,
                              "'%s' cannot be set; fields: name, origin, output, realism, "
                              "subjects, ecosystem, source, source_url, rating, note, "
                              "trigger_words, settings.KEY",
                              field);
    if (!*value)
        return strcmp(field, "name") == 0
                   ? ckpt_error_set(err, CKPT_E_ARG, "name: a model needs a name")
                   : CKPT_OK;
    if (strcmp(field, "rating") == 0) {
        if (strlen(value) != 1 || value[0] < '1' || value[0] > '5')
            return ckpt_error_set(err, CKPT_E_ARG, "rating: '%s' is not one of 1, 2, 3, 4, 5",
                                  value);
        return CKPT_OK;
    }
    return ckpt_taxonomy_check(field, value, err);
}

static int touch(struct ckpt_catalog *c, int64_t id, struct ckpt_error *err)
{
    struct ckpt_st *q;
    int rc = ckpt_cat_prepare(c, "UPDATE models SET updated_ns = ? WHERE id = ?", &q, err);
    if (rc)
        return rc;
    ckpt_st_bind_i64(q, 1, now_ns());
    ckpt_st_bind_i64(q, 2, id);
    rc = step_done(c, q, "updating a model", err);
    return rc ? rc : ckpt_cat_fts_refresh(c, id, err);
}

/* settings.KEY on PostgreSQL: the object is read under a row lock, changed with jansson and
   written back, compact and in key order as SQLite's json_set leaves it (a number stays a
   number) */
static int set_setting_pg(struct ckpt_catalog *c, int64_t id, const char *key, const char *value,
                          struct ckpt_error *err)
{
    struct ckpt_st *q;
    int rc = ckpt_cat_prepare(c, ckpt_db_sql(c->db, CKPT_SQL_SETTINGS_GET), &q, err);
    if (rc)
        return rc;
    ckpt_st_bind_i64(q, 1, id);
    int s = ckpt_st_step(q);
    json_t *o = s == CKPT_DB_ROW
                    ? json_loads(ckpt_st_text(q, 0) ? ckpt_st_text(q, 0) : "{}", 0, NULL)
                    : NULL;
    ckpt_st_finalize(q);
    if (s != CKPT_DB_ROW && s != CKPT_DB_DONE)
        return ckpt_cat_sqlerr(c, s, "setting", err);
    if (s == CKPT_DB_DONE)
        return ckpt_error_set(err, CKPT_E_NOTFOUND, "no model with id %lld", (long long)id);
    if (!json_is_object(o)) {
        json_decref(o);
        o = json_object();
    }
    if (*value) {
        char *end;
        double d = strtod(value, &end);
        int num = *end == 0 && end != value && isfinite(d);
        json_t *v = num ? json_loads(value, JSON_DECODE_ANY, NULL) : NULL;
        if (!v)
            v = num ? json_real(d) : json_string(value);
        json_object_set_new(o, key, v);
    } else {
        json_object_del(o, key);
    }
    char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
    json_decref(o);
    if (!text)
        return ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
    if (!(rc = ckpt_cat_prepare(c, "UPDATE models SET settings = ?2 WHERE id = ?1", &q, err))) {
        ckpt_st_bind_i64(q, 1, id);
        ckpt_st_bind_text(q, 2, text);
        rc = step_done(c, q, "setting", err);
    }
    free(text);
    return rc;
}

static int set_one(struct ckpt_catalog *c, int64_t id, const char *field, const char *value,
                   struct ckpt_error *err)
{
    struct ckpt_st *q;
    int rc;
    if (strncmp(field, "settings.", 9) == 0 && ckpt_cat_is_pg(c))
        return set_setting_pg(c, id, field + 9, value, err);
    if (strncmp(field, "settings.", 9) == 0) {
        const char *key = field + 9;
        if (*value) {
            char *end;
            double d = strtod(value, &end);
            int num = *end == 0 && end != value && isfinite(d);
            rc = ckpt_cat_prepare(c,
                                  num ? "UPDATE models SET settings = json_set(settings, '$.\"' ||"
                                        " ?2 || '\"', json(?3)) WHERE id = ?1"
                                      : "UPDATE models SET settings = json_set(settings, '$.\"' ||"
                                        " ?2 || '\"', ?3) WHERE id = ?1",
                                  &q, err);
        } else {
            rc = ckpt_cat_prepare(c,
                                  "UPDATE models SET settings = json_remove(settings, '$.\"' ||"
                                  " ?2 || '\"') WHERE id = ?1",
                                  &q, err);
        }
        if (rc)
            return rc;
        ckpt_st_bind_i64(q, 1, id);
        ckpt_st_bind_text(q, 2, key);
        if (*value)
            ckpt_st_bind_text(q, 3, value);
        return step_done(c, q, "setting", err);
    }
    char sql[128];
    snprintf(sql, sizeof sql, "UPDATE models SET %s = ?2 WHERE id = ?1", field);
    if ((rc = ckpt_cat_prepare(c, sql, &q, err)))
        return rc;
    ckpt_st_bind_i64(q, 1, id);
    if (!*value)
        ckpt_st_bind_null(q, 2);
    else if (strcmp(field, "rating") == 0)
        ckpt_st_bind_i64(q, 2, value[0] - '0');
    else
        ckpt_st_bind_text(q, 2, value);
    return step_done(c, q, "setting", err);
}

int ckpt_catalog_set(struct ckpt_catalog *c, int64_t id, const char *const *fields,
                     const char *const *values, size_t n, struct ckpt_error *err)
{
    for (size_t i = 0; i < n; i++) {
        int rc = check_assignment(fields[i], values[i], err);
        if (rc)
            return rc;
    }
    int rc, attempt = 0;
    do {
        rc = ckpt_cat_begin(c, err);
        for (size_t i = 0; i < n && !rc; i++)
            rc = set_one(c, id, fields[i], values[i], err);
        if (!rc)
            rc = touch(c, id, err);
        if (!rc)
            rc = ckpt_cat_commit(c, err);
    } while (ckpt_cat_again(c, rc, &attempt));
    if (rc)
        ckpt_cat_rollback(c);
    return rc;
}

int ckpt_catalog_tag(struct ckpt_catalog *c, int64_t id, const char *const *add, size_t nadd,
                     const char *const *del, size_t ndel, struct ckpt_error *err)
{
    for (size_t i = 0; i < nadd; i++)
        if (!*add[i] || strchr(add[i], ',') || strlen(add[i]) > 100)
            return ckpt_error_set(err, CKPT_E_ARG,
                                  "tag '%s': a tag is 1-100 characters without commas", add[i]);
    int rc, attempt = 0;
    struct ckpt_st *q;
again:
    rc = ckpt_cat_begin(c, err);
    for (size_t i = 0; i < nadd && !rc; i++) {
        if ((rc = ckpt_cat_prepare(
                 c, "INSERT INTO tags(model_id, tag) VALUES(?, ?) ON CONFLICT DO NOTHING", &q,
                 err)))
            break;
        ckpt_st_bind_i64(q, 1, id);
        ckpt_st_bind_text(q, 2, add[i]);
        rc = step_done(c, q, "tagging", err);
    }
    for (size_t i = 0; i < ndel && !rc; i++) {
        if ((rc = ckpt_cat_prepare(c, "DELETE FROM tags WHERE model_id = ? AND tag = ?", &q, err)))
            break;
        ckpt_st_bind_i64(q, 1, id);
        ckpt_st_bind_text(q, 2, del[i]);
        rc = step_done(c, q, "untagging", err);
    }
    if (!rc)
        rc = touch(c, id, err);
    if (!rc)
        rc = ckpt_cat_commit(c, err);
    if (ckpt_cat_again(c, rc, &attempt))
        goto again;
    if (rc)
        ckpt_cat_rollback(c);
    return rc;
}

static const char *const acceptable[] = {"origin",     "output",        "realism",
                                         "subjects",   "ecosystem",     "source",
                                         "source_url", "trigger_words", NULL};

int ckpt_catalog_accept(struct ckpt_catalog *c, int64_t id, const char *const *fields, size_t n,
                        size_t *accepted, struct ckpt_error *err)
{
    *accepted = 0;
    for (size_t i = 0; i < n; i++) {
        int ok = 0;
        for (const char *const *a = acceptable; *a; a++)
            ok |= strcmp(*a, fields[i]) == 0;
        if (!ok)
            return ckpt_error_set(err, CKPT_E_ARG,
                                  "'%s' has no suggestions; fields: origin, output, realism, "
                                  "subjects, ecosystem, source, source_url, trigger_words",
                                  fields[i]);
    }
    struct ckpt_model m;
    int rc = ckpt_catalog_model_get(c, id, &m, err);
    if (rc)
        return rc;
    int attempt = 0;
again:
    *accepted = 0;
    rc = ckpt_cat_begin(c, err);
    for (size_t i = 0; i < m.n_suggested && !rc; i++) {
        const struct ckpt_suggestion *s = &m.suggested[i];
        int named = n == 0;
        for (size_t k = 0; k < n; k++)
            named |= strcmp(fields[k], s->field) == 0;
        if (!named)
            continue;
        /* without field names, accept fills only what the user has not chosen */
        if (n == 0) {
            const char *cur = NULL;
            const struct {
                const char *f, *v;
            } now[] = {{"origin", m.origin},
                       {"output", m.output},
                       {"realism", m.realism},
                       {"subjects", m.subjects},
                       {"source", m.source},
                       {"source_url", m.source_url},
                       {"trigger_words", m.trigger_words}};
            for (size_t k = 0; k < sizeof now / sizeof now[0]; k++)
                if (strcmp(now[k].f, s->field) == 0)
                    cur = now[k].v;
            if (cur && *cur)
                continue;
            if (strcmp(s->field, "ecosystem") == 0 && m.ecosystem)
                continue;
        }
        if (ckpt_taxonomy_check(s->field, s->value, NULL) != CKPT_OK)
            continue;
        rc = set_one(c, id, s->field, s->value, err);
        if (!rc)
            (*accepted)++;
    }
    if (!rc)
        rc = touch(c, id, err);
    if (!rc)
        rc = ckpt_cat_commit(c, err);
    if (ckpt_cat_again(c, rc, &attempt))
        goto again;
    if (rc)
        ckpt_cat_rollback(c);
    ckpt_model_release(&m);
    return rc;
}

int ckpt_catalog_forget(struct ckpt_catalog *c, int64_t id, struct ckpt_error *err)
{
    int rc, attempt = 0;
    struct ckpt_st *q;
    static const char *const sql[] = {"DELETE FROM model_fts WHERE rowid = ?",
                                      "DELETE FROM models WHERE id = ?"};
    do {
        rc = ckpt_cat_begin(c, err);
        for (int i = 0; i < 2 && !rc; i++) {
            if ((rc = ckpt_cat_prepare(c, sql[i], &q, err)))
                break;
            ckpt_st_bind_i64(q, 1, id);
            rc = step_done(c, q, "forgetting a model", err);
        }
        if (!rc)
            rc = ckpt_cat_commit(c, err);
    } while (ckpt_cat_again(c, rc, &attempt));
    if (rc)
        ckpt_cat_rollback(c);
    return rc;
}
