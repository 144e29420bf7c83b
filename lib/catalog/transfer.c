/* Export and import: the whole catalog as JSON (every model object: what import reads back),
 * CSV (one row per model), or a Markdown table like the lists collectors publish; and import,
 * which restores every chosen field of an export onto the models with the same sha256, in one
 * transaction. Not for scanning or for single-model changes (model.c). */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/internal.h"
#include "ckptdb/buf.h"

static void csv_field(struct ckpt_buf *b, const char *s)
{
    if (!s)
        return;
    if (!strpbrk(s, ",\"\n\r")) {
        ckpt_buf_puts(b, s);
        return;
    }
    ckpt_buf_putc(b, '"');
    for (; *s; s++) {
        if (*s == '"')
            ckpt_buf_putc(b, '"');
        ckpt_buf_putc(b, *s);
    }
    ckpt_buf_putc(b, '"');
}

static void md_cell(struct ckpt_buf *b, const char *s)
{
    ckpt_buf_puts(b, " ");
    for (; s && *s; s++) {
        if (*s == '|')
            ckpt_buf_puts(b, "\\|");
        else if (*s == '\n' || *s == '\r')
            ckpt_buf_putc(b, ' ');
        else
            ckpt_buf_putc(b, *s);
    }
    ckpt_buf_puts(b, " |");
}

int ckpt_catalog_export(struct ckpt_catalog *c, enum ckpt_export_format f, struct ckpt_buf *out,
                        struct ckpt_error *err)
{
    struct ckpt_query q = {.include_missing = 1};
    int64_t *ids;
    size_t n;
    int rc = ckpt_catalog_list(c, &q, &ids, &n, err);
    if (rc)
        return rc;
    struct ckpt_json j;
    ckpt_json_init(&j, out, 1);
    if (f == CKPT_EXPORT_JSON)
        ckpt_json_arr_begin(&j);
    else if (f == CKPT_EXPORT_CSV)
        ckpt_buf_puts(out, "id,name,path,size,format,kind,network,family,ecosystem,variant,"
                           "precision,origin,output,realism,subjects,tags,rating,source,"
                           "source_url,trigger_words,sha256,autov2,safety,missing,note\n");
    else
        ckpt_buf_puts(out, "| Name | Kind | Family | Origin | Output | Realism | Rating | "
                           "Source | AutoV2 |\n|---|---|---|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < n && !rc; i++) {
        struct ckpt_model m;
        if ((rc = ckpt_catalog_model_get(c, ids[i], &m, err)))
            break;
        if (f == CKPT_EXPORT_JSON) {
            ckpt_model_json(&m, &j);
        } else if (f == CKPT_EXPORT_CSV) {
            char num[32], sz[32], rt[8];
            snprintf(num, sizeof num, "%lld", (long long)m.id);
            snprintf(sz, sizeof sz, "%llu", (unsigned long long)m.size);
            snprintf(rt, sizeof rt, "%d", m.rating);
            const char *cols[] = {num,
                                  m.name,
                                  m.path,
                                  sz,
                                  m.format,
                                  m.kind,
                                  m.network,
                                  m.family,
                                  m.ecosystem,
                                  m.variant,
                                  m.precision,
                                  m.origin,
                                  m.output,
                                  m.realism,
                                  m.subjects,
                                  m.tags,
                                  m.rating ? rt : NULL,
                                  m.source,
                                  m.source_url,
                                  m.trigger_words,
                                  m.sha256,
                                  m.autov2,
                                  m.safety,
                                  m.missing ? "true" : "false",
                                  m.note};
            for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k++) {
                if (k)
                    ckpt_buf_putc(out, ',');
                csv_field(out, cols[k]);
            }
            ckpt_buf_putc(out, '\n');
        } else {
            char rt[16] = "";
            if (m.rating)
                snprintf(rt, sizeof rt, "%d/5", m.rating);
            ckpt_buf_putc(out, '|');
            char name[512];
            if (m.source_url)
                snprintf(name, sizeof name, "[%s](%s)", m.name, m.source_url);
            else
                snprintf(name, sizeof name, "%s", m.name);
            md_cell(out, name);
            md_cell(out, m.kind);
            md_cell(out, m.family);
            md_cell(out, m.origin);
            md_cell(out, m.output);
            md_cell(out, m.realism);
            md_cell(out, rt);
            md_cell(out, m.source);
            md_cell(out, m.autov2);
            ckpt_buf_putc(out, '\n');
        }
        ckpt_model_release(&m);
    }
    if (f == CKPT_EXPORT_JSON && !rc) {
        ckpt_json_arr_end(&j);
        ckpt_buf_putc(out, '\n');
    }
    free(ids);
    if (!rc && out->oom)
        rc = ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
    return rc;
}

/* ---- import -------------------------------------------------------------------------------- */

static int bind_field(struct ckpt_st *q, int i, json_t *v)
{
    if (!v || json_is_null(v)) {
        ckpt_st_bind_null(q, i);
    } else if (json_is_string(v)) {
        ckpt_st_bind_text(q, i, json_string_value(v));
    } else if (json_is_array(v)) {
        struct ckpt_buf b = {0};
        size_t k;
        json_t *e;
        json_array_foreach(v, k, e)
        {
            if (!json_is_string(e))
                return -1;
            if (b.len)
                ckpt_buf_putc(&b, ',');
            ckpt_buf_puts(&b, json_string_value(e));
        }
        if (b.len)
            ckpt_st_bind_text(q, i, ckpt_buf_cstr(&b));
        else
            ckpt_st_bind_null(q, i);
        ckpt_buf_free(&b);
    } else {
        return -1;
    }
    return 0;
}

static int validate(json_t *rec, size_t idx, struct ckpt_error *err)
{
    static const char *const tax[] = {"origin", "output", "realism", "subjects", "source", NULL};
    for (const char *const *f = tax; *f; f++) {
        json_t *v = json_object_get(rec, *f);
        if (!v || json_is_null(v))
            continue;
        if (json_is_string(v)) {
            if (ckpt_taxonomy_check(*f, json_string_value(v), err))
                goto bad;
        } else if (json_is_array(v)) {
            size_t k;
            json_t *e;
            json_array_foreach(v, k, e)
            {
                if (!json_is_string(e) || ckpt_taxonomy_check(*f, json_string_value(e), err))
                    goto bad;
            }
        } else {
            ckpt_error_set(err, CKPT_E_FORMAT, "%s is neither text nor a list", *f);
            goto bad;
        }
    }
    json_t *r = json_object_get(rec, "rating");
    if (r && !json_is_null(r) &&
        (!json_is_integer(r) || json_integer_value(r) < 1 || json_integer_value(r) > 5))
        return ckpt_error_set(err, CKPT_E_FORMAT, "record %zu: rating is not 1-5", idx + 1);
    json_t *s = json_object_get(rec, "settings");
    if (s && !json_is_null(s) && !json_is_object(s))
        return ckpt_error_set(err, CKPT_E_FORMAT, "record %zu: settings is not an object", idx + 1);
    return CKPT_OK;
bad : {
    char msg[CKPT_ERROR_MSG_MAX];
    snprintf(msg, sizeof msg, "%s", err ? err->msg : "");
    return ckpt_error_set(err, CKPT_E_FORMAT, "record %zu: %s", idx + 1, msg);
}
}

int ckpt_catalog_import(struct ckpt_catalog *c, const char *text, size_t len,
                        struct ckpt_import_stats *st, struct ckpt_error *err)
{
    memset(st, 0, sizeof *st);
    json_error_t je;
    json_t *root = json_loadb(text, len, 0, &je);
    if (!root)
        return ckpt_error_set(err, CKPT_E_FORMAT, "not JSON: %s (line %d)", je.text, je.line);
    json_t *arr = json_is_object(root) ? json_object_get(root, "models") : root;
    int rc = CKPT_OK;
    if (!json_is_array(arr)) {
        json_decref(root);
        return ckpt_error_set(err, CKPT_E_FORMAT,
                              "not a ckptdb export (expected an array of model objects)");
    }
    size_t i;
    json_t *rec;
    json_array_foreach(arr, i, rec)
    {
        if (!json_is_object(rec)) {
            json_decref(root);
            return ckpt_error_set(err, CKPT_E_FORMAT, "record %zu is not an object", i + 1);
        }
        if ((rc = validate(rec, i, err))) {
            json_decref(root);
            return rc;
        }
    }
    if ((rc = ckpt_cat_begin(c, err))) {
        json_decref(root);
        return rc;
    }
    json_array_foreach(arr, i, rec)
    {
        if (rc)
            break;
        st->records++;
        const char *sha = json_string_value(json_object_get(rec, "sha256"));
        if (!sha) {
            st->unmatched++;
            continue;
        }
        char lower[65];
        snprintf(lower, sizeof lower, "%s", sha);
        for (char *p = lower; *p; p++)
            if (*p >= 'A' && *p <= 'F')
                *p = (char)(*p - 'A' + 'a');
        struct ckpt_st *q;
        /* several models can share a sha256 (copies): the one at the record's path, else the
           one with the record's name, else all of them */
        if ((rc = ckpt_cat_prepare(c,
                                   "WITH cand AS (SELECT f.model_id, f.ecosystem, f.path = ?2 AS"
                                   " same_path, m.name = ?3 AS same_name FROM files f JOIN models"
                                   " m ON m.id = f.model_id WHERE f.sha256 = ?1)"
                                   " SELECT DISTINCT model_id, ecosystem FROM cand WHERE"
                                   " same_path OR (NOT EXISTS (SELECT 1 FROM cand WHERE same_path)"
                                   " AND (same_name OR NOT EXISTS (SELECT 1 FROM cand WHERE"
                                   " same_name)))",
                                   &q, err)))
            break;
        ckpt_st_bind_text(q, 1, lower);
        ckpt_st_bind_text(q, 2, json_string_value(json_object_get(rec, "path")));
        ckpt_st_bind_text(q, 3, json_string_value(json_object_get(rec, "name")));
        int64_t ids[64];
        char *measured_eco[64];
        size_t n = 0;
        while (ckpt_st_step(q) == CKPT_DB_ROW && n < 64) {
            measured_eco[n] = ckpt_cat_coldup(q, 1);
            ids[n++] = ckpt_st_i64(q, 0);
        }
        ckpt_st_finalize(q);
        if (!n) {
            st->unmatched++;
            continue;
        }
        st->matched++;
        json_t *eco = json_object_get(rec, "ecosystem");
        for (size_t k = 0; k < n && !rc; k++) {
            if ((rc = ckpt_cat_prepare(c,
                                       "UPDATE models SET name = coalesce(?2, name), origin = ?3,"
                                       " output = ?4, realism = ?5, subjects = ?6, source = ?7,"
                                       " source_url = ?8, rating = ?9, note = ?10,"
                                       " trigger_words = ?11, settings = coalesce(?12, '{}'),"
                                       " ecosystem = ?13 WHERE id = ?1",
                                       &q, err)))
                break;
            ckpt_st_bind_i64(q, 1, ids[k]);
            static const char *const fields[] = {"name",     "origin", "output",    "realism",
                                                 "subjects", "source", "source_url"};
            for (int f = 0; f < 7; f++)
                bind_field(q, 2 + f, json_object_get(rec, fields[f]));
            json_t *r = json_object_get(rec, "rating");
            if (json_is_integer(r))
                ckpt_st_bind_i64(q, 9, json_integer_value(r));
            bind_field(q, 10, json_object_get(rec, "note"));
            bind_field(q, 11, json_object_get(rec, "trigger_words"));
            json_t *s = json_object_get(rec, "settings");
            char *stext = json_is_object(s) ? json_dumps(s, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
            ckpt_st_bind_text(q, 12, stext);
            /* the ecosystem is chosen only where it differs from what the file measured */
            const char *ev = json_string_value(eco);
            if (ev && !(measured_eco[k] && strcmp(ev, measured_eco[k]) == 0))
                ckpt_st_bind_text(q, 13, ev);
            int s2 = ckpt_st_step(q);
            ckpt_st_finalize(q);
            free(stext);
            if (s2 != CKPT_DB_DONE) {
                rc = ckpt_cat_sqlerr(c, s2, "importing", err);
                break;
            }
            /* tags: the export's set replaces the model's */
            if ((rc = ckpt_cat_prepare(c, "DELETE FROM tags WHERE model_id = ?", &q, err)))
                break;
            ckpt_st_bind_i64(q, 1, ids[k]);
            ckpt_st_step(q);
            ckpt_st_finalize(q);
            json_t *tags = json_object_get(rec, "tags");
            size_t t;
            json_t *tag;
            json_array_foreach(tags, t, tag)
            {
                if (!json_is_string(tag))
                    continue;
                if ((rc = ckpt_cat_prepare(
                         c, "INSERT INTO tags(model_id, tag) VALUES(?, ?) ON CONFLICT DO NOTHING",
                         &q, err)))
                    break;
                ckpt_st_bind_i64(q, 1, ids[k]);
                ckpt_st_bind_text(q, 2, json_string_value(tag));
                ckpt_st_step(q);
                ckpt_st_finalize(q);
            }
            if (!rc)
                rc = ckpt_cat_fts_refresh(c, ids[k], err);
            st->updated++;
        }
        for (size_t k = 0; k < n; k++)
            free(measured_eco[k]);
    }
    if (!rc)
        rc = ckpt_cat_commit(c, err);
    if (rc)
        ckpt_cat_rollback(c);
    json_decref(root);
    return rc;
}
