/* Reading model records: one model whole (ckpt_catalog_model_get, for `show` and the writes),
 * and many models at once (ckpt_catalog_models_each, for list, search, export and the server's
 * pages and summary). A batch read fetches up to BATCH models with one query for their columns,
 * one for their suggestions and one for their parents (WHERE model_id IN (...)), instead of
 * three queries per model; the columns a listing does not show (metadata, evidence, settings,
 * ...) are read only when asked for. Plain SQL that PostgreSQL also accepts, apart from the
 * group_concat the rest of the catalog uses. Not for writes (model.c) or for choosing which
 * models to read (query.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/internal.h"
#include "ckptdb/buf.h"

#define BATCH                                                                                      \
    256 /* ids per query: well under SQLite's 32,766 parameters and PostgreSQL's 65,535            \
         */

/* The columns of a record, in the order fill() reads them. The detail columns are replaced by
 * NULL when a read does not ask for them (they are most of a record's bytes). */
#define COLS_HEAD                                                                                  \
    "m.id, m.name, f.path, f.size, f.mtime_ns, f.format, f.kind, f.network, f.family,"             \
    " coalesce(m.ecosystem, f.ecosystem), f.variant, f.prediction, f.precision, f.components,"     \
    " f.sha256, f.autov1, f.autov2, f.autov3, f.crc32, f.blake3, f.fingerprint, f.safety,"         \
    " m.origin, m.output, m.realism, m.subjects, NULL, m.source, m.source_url, m.note,"            \
    " m.trigger_words, m.rating, f.problems, m.preview, f.error, coalesce(f.missing, 1), "
#define COLS_DETAIL                                                                                \
    "m.settings, f.metadata, f.evidence, m.description, f.sidecars, f.safety_findings"
#define COLS_NO_DETAIL "NULL, NULL, NULL, NULL, NULL, NULL"
/* CKPT_MODEL_BRIEF: a table row's columns (fill_brief), then the host; its suggestions: output
   and realism only */
#define COLS_BRIEF                                                                                 \
    "m.id, m.name, f.kind, f.family, m.output, m.realism, m.rating, f.error,"                      \
    " coalesce(f.missing, 1)"
#define SQL_SUGG_BRIEF_ORDER " AND field IN ('output', 'realism')" SQL_SUGG_ORDER
/* last: the file's host, so that a model with files on several machines shows this machine's
   (read_batch) */
#define COLS_TAIL ", f.host"
/* the model with each of its files, the one to show first (present, then oldest): a model found
   twice keeps one record, and the reader keeps the first row of each model. (No correlated
   subquery: one per row cost more than the rest of the row.) The tags come from their own
   query (SQL_TAGS), as suggestions and parents do. */
#define FROM_FILES " FROM models m LEFT JOIN files f ON f.model_id = m.id"
#define ORDER_FILES " ORDER BY m.id, f.missing, f.id"
#define SQL_TAGS "SELECT model_id, tag FROM tags WHERE model_id"
#define SQL_TAGS_ORDER " ORDER BY model_id, tag"

#define SQL_SUGG "SELECT model_id, field, value, confidence, why FROM suggestions WHERE model_id"
/* in primary-key order (no sort); add_suggestion keeps the most confident of each field */
#define SQL_SUGG_ORDER " ORDER BY model_id, field, value"
#define SQL_PARENTS                                                                                \
    "SELECT p.model_id, p.sha256, coalesce(p.name, (SELECT m2.name FROM files f2 JOIN models m2"   \
    " ON m2.id = f2.model_id WHERE f2.sha256 = p.sha256 LIMIT 1)), p.weight FROM parents p"        \
    " WHERE p.model_id"
#define SQL_PARENTS_ORDER " ORDER BY p.model_id, p.seq"
/* every location of the model, this machine's first (the parameter after the ids) */
#define SQL_LOCATIONS "SELECT model_id, host, path, missing FROM files WHERE model_id"
#define SQL_LOCATIONS_ORDER " ORDER BY model_id, host <> ?, host, path"

/* A cached statement, prepared on first use and reset for the next (finalized at close). */
static int cached(struct ckpt_catalog *c, struct ckpt_st **slot, const char *sql,
                  struct ckpt_st **st, struct ckpt_error *err)
{
    if (!*slot) {
        if (!sql)
            return ckpt_error_set(err, CKPT_E_ARG, "no statement");
        int rc = ckpt_cat_prepare(c, sql, slot, err);
        if (rc)
            return rc;
    }
    ckpt_st_reset(*slot);
    *st = *slot;
    return CKPT_OK;
}

/* one row of COLS_HEAD + detail into m (zeroed by the caller) */
static void fill(struct ckpt_st *q, struct ckpt_model *m)
{
    int k = 0;
    m->id = ckpt_st_i64(q, k++);
    m->name = ckpt_cat_coldup(q, k++);
    m->path = ckpt_cat_coldup(q, k++);
    m->size = (uint64_t)ckpt_st_i64(q, k++);
    m->mtime_ns = ckpt_st_i64(q, k++);
    char **strs[] = {&m->format,       &m->kind,       &m->network,   &m->family,     &m->ecosystem,
                     &m->variant,      &m->prediction, &m->precision, &m->components, &m->sha256,
                     &m->autov1,       &m->autov2,     &m->autov3,    &m->crc32,      &m->blake3,
                     &m->fingerprint,  &m->safety,     &m->origin,    &m->output,     &m->realism,
                     &m->subjects,     &m->tags,       &m->source,    &m->source_url, &m->note,
                     &m->trigger_words};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        *strs[i] = ckpt_cat_coldup(q, k++);
    m->rating = ckpt_st_int(q, k++);
    m->problems = ckpt_cat_coldup(q, k++);
    m->preview = ckpt_cat_coldup(q, k++);
    m->error = ckpt_cat_coldup(q, k++);
    m->missing = ckpt_st_int(q, k++);
    char **detail[] = {&m->settings,    &m->metadata, &m->evidence,
                       &m->description, &m->sidecars, &m->safety_findings};
    for (size_t i = 0; i < sizeof detail / sizeof detail[0]; i++)
        *detail[i] = ckpt_cat_coldup(q, k++);
}

/* one row of COLS_BRIEF into m (zeroed by the caller) */
static void fill_brief(struct ckpt_st *q, struct ckpt_model *m)
{
    m->id = ckpt_st_i64(q, 0);
    m->name = ckpt_cat_coldup(q, 1);
    m->kind = ckpt_cat_coldup(q, 2);
    m->family = ckpt_cat_coldup(q, 3);
    m->output = ckpt_cat_coldup(q, 4);
    m->realism = ckpt_cat_coldup(q, 5);
    m->rating = ckpt_st_int(q, 6);
    m->error = ckpt_cat_coldup(q, 7);
    m->missing = ckpt_st_int(q, 8);
}

/* a suggestion row (field, value, confidence, why from column col), rows ordered by field then
   value: the most confident of each field is kept, the first (smallest value) among equals */
static int add_suggestion(struct ckpt_model *m, struct ckpt_st *q, int col)
{
    const char *f = ckpt_st_text(q, col);
    if (!f)
        return CKPT_OK;
    struct ckpt_suggestion *sg = m->n_suggested ? &m->suggested[m->n_suggested - 1] : NULL;
    if (sg && strcmp(sg->field, f) == 0) {
        if (ckpt_st_double(q, col + 2) <= sg->confidence)
            return CKPT_OK;
        free(sg->value);
        free(sg->why);
    } else {
        struct ckpt_suggestion *ns = realloc(m->suggested, (m->n_suggested + 1) * sizeof *ns);
        if (!ns)
            return CKPT_E_NOMEM;
        m->suggested = ns;
        sg = &m->suggested[m->n_suggested++];
        sg->field = ckpt_cat_coldup(q, col);
    }
    sg->value = ckpt_cat_coldup(q, col + 1);
    sg->confidence = ckpt_st_double(q, col + 2);
    sg->why = ckpt_cat_coldup(q, col + 3);
    return CKPT_OK;
}

/* a tag row: tags come in order and are kept comma-joined */
static int add_tag(struct ckpt_model *m, struct ckpt_st *q, int col)
{
    const char *t = ckpt_st_text(q, col);
    if (!t)
        return CKPT_OK;
    size_t old = m->tags ? strlen(m->tags) : 0, n = strlen(t);
    char *nt = realloc(m->tags, old + n + 2);
    if (!nt)
        return CKPT_E_NOMEM;
    if (old)
        nt[old++] = ',';
    memcpy(nt + old, t, n + 1);
    m->tags = nt;
    return CKPT_OK;
}

static int add_location(struct ckpt_model *m, struct ckpt_st *q, int col)
{
    struct ckpt_location *nl = realloc(m->locations, (m->n_locations + 1) * sizeof *nl);
    if (!nl)
        return CKPT_E_NOMEM;
    m->locations = nl;
    struct ckpt_location *l = &m->locations[m->n_locations++];
    l->host = ckpt_cat_coldup(q, col);
    l->path = ckpt_cat_coldup(q, col + 1);
    l->missing = ckpt_st_int(q, col + 2);
    return CKPT_OK;
}

static int add_parent(struct ckpt_model *m, struct ckpt_st *q, int col)
{
    struct ckpt_parent *np = realloc(m->parents, (m->n_parents + 1) * sizeof *np);
    if (!np)
        return CKPT_E_NOMEM;
    m->parents = np;
    struct ckpt_parent *p = &m->parents[m->n_parents++];
    p->sha256 = ckpt_cat_coldup(q, col);
    p->name = ckpt_cat_coldup(q, col + 1);
    p->weight = ckpt_st_null(q, col + 2) ? NAN : ckpt_st_double(q, col + 2);
    return CKPT_OK;
}

/* what is read beside a record's row, one query each: tags always (a listing column), the
   others when asked for */
static const struct {
    unsigned part; /* 0: always */
    const char *head, *order;
    int (*add)(struct ckpt_model *m, struct ckpt_st *q, int col);
    int host; /* 1: the parameter after the ids is this machine's name */
} extras[] = {
    {0, SQL_TAGS, SQL_TAGS_ORDER, add_tag, 0},
    {CKPT_MODEL_SUGGESTED, SQL_SUGG, SQL_SUGG_ORDER, add_suggestion, 0},
    {CKPT_MODEL_PARENTS, SQL_PARENTS, SQL_PARENTS_ORDER, add_parent, 0},
    {CKPT_MODEL_DETAIL, SQL_LOCATIONS, SQL_LOCATIONS_ORDER, add_location, 1},
};
#define N_EXTRAS (sizeof extras / sizeof extras[0])

int ckpt_catalog_model_get(struct ckpt_catalog *c, int64_t id, struct ckpt_model *m,
                           struct ckpt_error *err)
{
    memset(m, 0, sizeof *m);
    struct ckpt_st *q = NULL;
    int rc = cached(c, &c->st_model,
                    "SELECT " COLS_HEAD COLS_DETAIL COLS_TAIL FROM_FILES
                    " WHERE m.id = ? ORDER BY f.missing, f.host <> ?, f.id LIMIT 1",
                    &q, err);
    if (rc)
        return rc;
    ckpt_st_bind_i64(q, 1, id);
    ckpt_st_bind_text(q, 2, ckpt_catalog_host());
    int s = ckpt_st_step(q);
    if (s != CKPT_DB_ROW) {
        ckpt_st_reset(q);
        if (s == CKPT_DB_DONE)
            return ckpt_error_set(err, CKPT_E_NOTFOUND, "no model with id %lld", (long long)id);
        return ckpt_cat_sqlerr(c, s, "reading a model", err);
    }
    fill(q, m);
    ckpt_st_reset(q);
    for (size_t x = 0; x < N_EXTRAS; x++) {
        if (!c->st_one[x]) {
            char sql[512];
            snprintf(sql, sizeof sql, "%s = ?%s", extras[x].head, extras[x].order);
            if ((rc = cached(c, &c->st_one[x], sql, &q, err)))
                goto fail;
        } else if ((rc = cached(c, &c->st_one[x], NULL, &q, err))) {
            goto fail;
        }
        ckpt_st_bind_i64(q, 1, id);
        if (extras[x].host)
            ckpt_st_bind_text(q, 2, ckpt_catalog_host());
        while ((s = ckpt_st_step(q)) == CKPT_DB_ROW)
            if (extras[x].add(m, q, 1) != CKPT_OK) {
                ckpt_st_reset(q);
                rc = ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
                goto fail;
            }
        ckpt_st_reset(q);
        if (s != CKPT_DB_DONE) {
            rc = ckpt_cat_sqlerr(c, s, "reading a model", err);
            goto fail;
        }
    }
    return CKPT_OK;
fail:
    ckpt_model_release(m);
    return rc;
}

/* ---- many models --------------------------------------------------------------------------- */

static int cmp_model(const void *x, const void *y)
{
    int64_t a = ((const struct ckpt_model *)x)->id, b = ((const struct ckpt_model *)y)->id;
    return (a > b) - (a < b);
}

/* "SELECT ... WHERE m.id IN (?1, ..., ?BATCH)" and its suggestion/parent siblings; on
   PostgreSQL "= ANY(CAST(? AS BIGINT[]))", the ids one array parameter: the server bound 256
   parameters in 2.5 ms (cold, as every command's connection is) */
static char *batch_sql(const char *head, const char *tail, int pg)
{
    struct ckpt_buf b = {0};
    ckpt_buf_puts(&b, head);
    if (pg) {
        ckpt_buf_puts(&b, " = ANY(CAST(? AS BIGINT[]))");
    } else {
        ckpt_buf_puts(&b, " IN (");
        for (int i = 1; i <= BATCH; i++)
            ckpt_buf_puts(&b, i > 1 ? ",?" : "?"); /* "?NNN": a name lookup each in SQLite */
        ckpt_buf_putc(&b, ')');
    }
    ckpt_buf_puts(&b, tail);
    if (b.oom) {
        ckpt_buf_free(&b);
        return NULL;
    }
    char *s = strdup(ckpt_buf_cstr(&b));
    ckpt_buf_free(&b);
    return s;
}

/* the statement kinds of batch_stmt beyond 2 + N_EXTRAS */
enum { ST_BRIEF = 2 + N_EXTRAS, ST_BRIEF_SUGG };

/* prepare (once per handle) the batch statement of kind k: 0 records, 1 records with details,
   2 + x extras[x], ST_BRIEF, ST_BRIEF_SUGG; bind ids[0..n) and NULL to the rest */
static int batch_stmt(struct ckpt_catalog *c, size_t k, const int64_t *ids, size_t n,
                      struct ckpt_st **st, struct ckpt_error *err)
{
    int pg = ckpt_cat_is_pg(c);
    if (!c->st_batch[k]) {
        char *sql =
            k == 0
                ? batch_sql("SELECT " COLS_HEAD COLS_NO_DETAIL COLS_TAIL FROM_FILES " WHERE m.id",
                            ORDER_FILES, pg)
            : k == 1 ? batch_sql("SELECT " COLS_HEAD COLS_DETAIL COLS_TAIL FROM_FILES " WHERE m.id",
                                 ORDER_FILES, pg)
            : k == ST_BRIEF ? batch_sql("SELECT " COLS_BRIEF COLS_TAIL FROM_FILES " WHERE m.id",
                                        ORDER_FILES, pg)
            : k == ST_BRIEF_SUGG ? batch_sql(SQL_SUGG, SQL_SUGG_BRIEF_ORDER, pg)
                                 : batch_sql(extras[k - 2].head, extras[k - 2].order, pg);
        if (!sql)
            return ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
        int rc = ckpt_cat_prepare(c, sql, &c->st_batch[k], err);
        free(sql);
        if (rc)
            return rc;
    }
    struct ckpt_st *q = c->st_batch[k];
    ckpt_st_reset(q); /* keeps the last batch's values: every parameter is bound again */
    if (pg) {
        char arr[BATCH * 21 + 3]; /* "{id,...}": 20 digits and a comma each */
        size_t o = 0;
        arr[o++] = '{';
        for (size_t i = 0; i < n; i++)
            o += (size_t)snprintf(arr + o, sizeof arr - o, "%s%lld", i ? "," : "",
                                  (long long)ids[i]);
        snprintf(arr + o, sizeof arr - o, "}");
        ckpt_st_bind_text(q, 1, arr);
    } else {
        for (size_t i = 0; i < n; i++)
            ckpt_st_bind_i64(q, (int)i + 1, ids[i]);
        for (size_t i = n; i < BATCH; i++)
            ckpt_st_bind_null(q, (int)i + 1);
    }
    if (k >= 2 && k < ST_BRIEF && extras[k - 2].host)
        ckpt_st_bind_text(q, pg ? 2 : BATCH + 1, ckpt_catalog_host());
    *st = q;
    return CKPT_OK;
}

/* a batch's statements back to unsent (their answers, if on the way, read by nobody) */
static void reset_batch(struct ckpt_st *q, struct ckpt_st *const *xq)
{
    if (q)
        ckpt_st_reset(q);
    for (size_t x = 0; x < N_EXTRAS; x++)
        if (xq[x])
            ckpt_st_reset(xq[x]);
}

/* read one batch of up to BATCH ids into rows (sorted by id); *nrows of them found */
static int read_batch(struct ckpt_catalog *c, const int64_t *ids, size_t n, unsigned parts,
                      struct ckpt_model *rows, size_t *nrows, struct ckpt_error *err)
{
    struct ckpt_st *q, *xq[N_EXTRAS] = {0};
    *nrows = 0;
    int brief = (parts & CKPT_MODEL_BRIEF) != 0;
    int rc = batch_stmt(c, brief ? ST_BRIEF : (parts & CKPT_MODEL_DETAIL) ? 1 : 0, ids, n, &q, err);
    if (rc)
        return rc;
    /* the records and every extra asked for are sent before the first row is read: inside a
       PostgreSQL read transaction they go down the pipeline together, one round trip for the
       batch (SQLite: start does nothing) */
    ckpt_st_start(q);
    for (size_t x = 0; x < N_EXTRAS; x++) {
        if (brief ? extras[x].part != CKPT_MODEL_SUGGESTED || !(parts & CKPT_MODEL_SUGGESTED)
                  : extras[x].part && !(parts & extras[x].part))
            continue;
        if ((rc = batch_stmt(c, brief ? ST_BRIEF_SUGG : 2 + x, ids, n, &xq[x], err))) {
            reset_batch(q, xq);
            return rc;
        }
        ckpt_st_start(xq[x]);
    }
    int s;
    /* rows come by model id, the file to show first (present, then oldest); a model's other
       files are skipped, except that a file on this machine is shown before another machine's
       (last_mine: the kept row's file is this machine's) */
    const char *me = ckpt_catalog_host();
    int hostcol = q->db->ops->col_count(q) - 1, last_mine = 0;
    int misscol = brief ? hostcol - 1 : hostcol - 7; /* the coalesce(f.missing, 1) column */
    while ((s = ckpt_st_step(q)) == CKPT_DB_ROW) {
        int64_t id = ckpt_st_i64(q, 0);
        const char *h = ckpt_st_text(q, hostcol);
        int mine = h && strcmp(h, me) == 0;
        if (*nrows && rows[*nrows - 1].id == id) {
            if (last_mine || !mine || ckpt_st_int(q, misscol) != rows[*nrows - 1].missing)
                continue;
            ckpt_model_release(&rows[--(*nrows)]);
        } else if (*nrows == BATCH) {
            continue;
        }
        memset(&rows[*nrows], 0, sizeof *rows);
        if (brief)
            fill_brief(q, &rows[(*nrows)++]);
        else
            fill(q, &rows[(*nrows)++]);
        last_mine = mine;
    }
    ckpt_st_reset(q);
    if (s != CKPT_DB_DONE) {
        reset_batch(NULL, xq);
        return ckpt_cat_sqlerr(c, s, "reading models", err);
    }
    for (size_t x = 0; x < N_EXTRAS; x++) {
        if (!xq[x])
            continue;
        q = xq[x];
        struct ckpt_model *m = NULL;
        while ((s = ckpt_st_step(q)) == CKPT_DB_ROW) {
            int64_t id = ckpt_st_i64(q, 0);
            if (!m || m->id != id) {
                struct ckpt_model key = {.id = id};
                m = bsearch(&key, rows, *nrows, sizeof *rows, cmp_model);
                if (!m)
                    continue;
            }
            if (extras[x].add(m, q, 1) != CKPT_OK) {
                ckpt_st_reset(q);
                return ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
            }
        }
        ckpt_st_reset(q);
        if (s != CKPT_DB_DONE)
            return ckpt_cat_sqlerr(c, s, "reading models", err);
    }
    return CKPT_OK;
}

/* every model id, in id order (ids == NULL) */
static int all_ids(struct ckpt_catalog *c, int64_t **ids, size_t *n, struct ckpt_error *err)
{
    struct ckpt_st *q;
    int rc = ckpt_cat_prepare(c, "SELECT id FROM models ORDER BY id", &q, err);
    if (rc)
        return rc;
    size_t cap = 0;
    *ids = NULL;
    *n = 0;
    int s;
    while ((s = ckpt_st_step(q)) == CKPT_DB_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 1024;
            int64_t *ni = realloc(*ids, cap * sizeof *ni);
            if (!ni) {
                rc = ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
                break;
            }
            *ids = ni;
        }
        (*ids)[(*n)++] = ckpt_st_i64(q, 0);
    }
    ckpt_st_finalize(q);
    if (!rc && s != CKPT_DB_DONE)
        rc = ckpt_cat_sqlerr(c, s, "reading the catalog", err);
    if (rc) {
        free(*ids);
        *ids = NULL;
        *n = 0;
    }
    return rc;
}

int ckpt_catalog_models_each(struct ckpt_catalog *c, const int64_t *ids, size_t n, unsigned parts,
                             ckpt_model_fn fn, void *user, struct ckpt_error *err)
{
    /* one snapshot for the whole read, unless the caller already holds one */
    int own = !c->db->ops->in_txn(c->db);
    int rc = own ? ckpt_catalog_read_begin(c, err) : CKPT_OK;
    if (rc)
        return rc;
    int64_t *every = NULL;
    if (!ids && (rc = all_ids(c, &every, &n, err)) == CKPT_OK)
        ids = every;
    struct ckpt_model *rows = rc ? NULL : calloc(BATCH, sizeof *rows);
    if (!rc && !rows)
        rc = ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
    int stop = 0;
    for (size_t at = 0; !rc && !stop && at < n; at += BATCH) {
        size_t k = n - at < BATCH ? n - at : BATCH, nrows = 0;
        rc = read_batch(c, ids + at, k, parts, rows, &nrows, err);
        for (size_t i = 0; !rc && !stop && i < k; i++) {
            struct ckpt_model key = {.id = ids[at + i]};
            const struct ckpt_model *m = bsearch(&key, rows, nrows, sizeof *rows, cmp_model);
            if (m) /* else forgotten since the ids were chosen */
                stop = fn(user, m) != 0;
        }
        for (size_t i = 0; i < nrows; i++)
            ckpt_model_release(&rows[i]);
    }
    free(rows);
    free(every);
    if (own)
        ckpt_catalog_read_end(c);
    return rc;
}
