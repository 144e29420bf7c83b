/* Reading many models at once: list (filters and sort), search (FTS5), choose (ranking for a
 * wish, with the reasons), dupes. Only reads; never changes the catalog. Not for one model's
 * record (model.c). */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/internal.h"
#include "catalog/words.h"
#include "ckptdb/buf.h"

static const struct {
    const char *field, *expr;
} sort_cols[] = {
    {"id", "m.id"},
    {"name", "lower(m.name)"},
    {"path", "f.path"},
    {"size", "f.size"},
    {"mtime", "f.mtime_ns"},
    {"format", "f.format"},
    {"kind", "m.kind"},
    {"network", "f.network"},
    {"family", "m.family"},
    {"ecosystem", "coalesce(m.ecosystem, f.ecosystem)"},
    {"variant", "f.variant"},
    {"prediction", "f.prediction"},
    {"precision", "f.precision"},
    {"components", "f.components"},
    {"sha256", "f.sha256"},
    {"autov1", "f.autov1"},
    {"autov2", "f.autov2"},
    {"autov3", "f.autov3"},
    {"crc32", "f.crc32"},
    {"blake3", "f.blake3"},
    {"safety", "f.safety"},
    {"origin", "m.origin"},
    {"output", "m.output"},
    {"realism", "m.realism"},
    {"subjects", "m.subjects"},
    {"tags", "(SELECT group_concat(tag) FROM tags t WHERE t.model_id = m.id)"},
    {"source", "m.source"},
    {"source_url", "m.source_url"},
    {"rating", "coalesce(m.rating, 0)"},
    {"note", "m.note"},
    {"trigger_words", "m.trigger_words"},
    {"missing", "f.missing"},
};

static int collect(struct ckpt_catalog *c, struct ckpt_st *q, int64_t **ids, size_t *n,
                   struct ckpt_error *err)
{
    size_t cap = 0;
    *ids = NULL;
    *n = 0;
    int s;
    while ((s = ckpt_st_step(q)) == CKPT_DB_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            int64_t *ni = realloc(*ids, cap * sizeof *ni);
            if (!ni) {
                free(*ids);
                *ids = NULL;
                return ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
            }
            *ids = ni;
        }
        (*ids)[(*n)++] = ckpt_st_i64(q, 0);
    }
    if (s != CKPT_DB_DONE) {
        free(*ids);
        *ids = NULL;
        *n = 0;
        return ckpt_cat_sqlerr(c, s, "reading the catalog", err);
    }
    return CKPT_OK;
}

static int cmp_pos(const void *a, const void *b)
{
    const int64_t *x = a, *y = b; /* {id, position} */
    if (x[0] != y[0])
        return x[0] < y[0] ? -1 : 1;
    return x[1] < y[1] ? -1 : x[1] > y[1];
}

/* A model with files on several machines comes once per file from the join: keep its first
   row (the order is the sort's). The common case, no repeats, costs one sorted copy. */
static int first_of_each(int64_t **ids, size_t *n, struct ckpt_error *err)
{
    if (*n < 2)
        return CKPT_OK;
    int64_t *pos = malloc(*n * 2 * sizeof *pos);
    if (!pos)
        return ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
    for (size_t i = 0; i < *n; i++) {
        pos[2 * i] = (*ids)[i];
        pos[2 * i + 1] = (int64_t)i;
    }
    qsort(pos, *n, 2 * sizeof *pos, cmp_pos);
    size_t repeats = 0;
    for (size_t i = 1; i < *n; i++)
        if (pos[2 * i] == pos[2 * i - 2]) {
            (*ids)[pos[2 * i + 1]] = -1; /* ids are positive */
            repeats++;
        }
    free(pos);
    if (repeats) {
        size_t k = 0;
        for (size_t i = 0; i < *n; i++)
            if ((*ids)[i] >= 0)
                (*ids)[k++] = (*ids)[i];
        *n = k;
    }
    return CKPT_OK;
}

int ckpt_catalog_list(struct ckpt_catalog *c, const struct ckpt_query *q, int64_t **ids, size_t *n,
                      struct ckpt_error *err)
{
    /* on: 'm' a model column, 'f' a file column, 'x' both */
    const struct {
        const char *field, *value, *sql;
        char on;
    } filters[] = {
        {"kind", q->kind, "m.kind = ?", 'm'}, /* the model's file's (migration 9) */
        {"family", q->family, "m.family = ?", 'm'},
        {"ecosystem", q->ecosystem, "coalesce(m.ecosystem, f.ecosystem) = ?", 'x'},
        {"origin", q->origin, "m.origin = ?", 'm'},
        {"output", q->output, "m.output = ?", 'm'},
        {"realism", q->realism, "instr(',' || m.realism || ',', ',' || ? || ',') > 0", 'm'},
        {"subject", q->subject, "instr(',' || m.subjects || ',', ',' || ? || ',') > 0", 'm'},
        {"tag", q->tag, "EXISTS (SELECT 1 FROM tags t WHERE t.model_id = m.id AND t.tag = ?)", 'm'},
        {"source", q->source, "m.source = ?", 'm'},
        {"safety", q->safety, "f.safety = ?", 'f'},
        {"host", q->host, "f.host = ?", 'f'},
    };
    size_t nf = sizeof filters / sizeof filters[0];
    for (size_t i = 0; i < nf; i++)
        if (filters[i].value && strcmp(filters[i].field, "host") != 0) {
            int rc = ckpt_taxonomy_check(filters[i].field, filters[i].value, err);
            if (rc)
                return rc;
        }
    const char *order = "lower(m.name)";
    int desc = 0;
    if (q->sort && *q->sort) {
        const char *f = q->sort;
        if (*f == '-') {
            desc = 1;
            f++;
        }
        order = NULL;
        for (size_t i = 0; i < sizeof sort_cols / sizeof sort_cols[0]; i++)
            if (strcmp(sort_cols[i].field, f) == 0)
                order = sort_cols[i].expr;
        if (!order) {
            char valid[600];
            size_t o = 0;
            for (size_t i = 0; i < sizeof sort_cols / sizeof sort_cols[0]; i++)
                o += (size_t)snprintf(valid + o, sizeof valid - o, "%s%s", i ? ", " : "",
                                      sort_cols[i].field);
            return ckpt_error_set(err, CKPT_E_ARG, "--sort: '%s' is not one of %s", f, valid);
        }
    }
    /* A model is listed when one of its files passes the file filters (every model has a
       file: a record is made for a file and forgotten whole). When neither a filter nor the
       sort needs a model and its file side by side, the file filters are a semi-join
       (m.id IN (SELECT model_id FROM files ...)), and with none there is no file side: a
       model row is then read only once the model has passed its own filters, through their
       index (models_kind_family covers kind, family, output and the name the order needs).
       The join read a model row for every file that passed (at 1,000,000 records, --kind
       --family --output touched 55,000 model rows for 4,537 results: 280 ms). A model with
       files on several machines comes once per file from the join (first_of_each keeps one). */
    int joined = strncmp(order, "f.", 2) == 0 || strstr(order, "f.ecosystem") != NULL;
    int fileside = !q->include_missing;
    for (size_t i = 0; i < nf; i++) {
        if (filters[i].value && filters[i].on == 'x')
            joined = 1;
        if (filters[i].value && filters[i].on == 'f')
            fileside = 1;
    }
    struct ckpt_buf sql = {0};
    ckpt_buf_puts(&sql, joined ? "SELECT m.id FROM models m JOIN files f ON f.model_id = m.id"
                                 " WHERE 1 = 1"
                               : "SELECT m.id FROM models m WHERE 1 = 1");
    for (int side = 0; side < 2; side++) {
        /* side 0: the model filters (every filter when joined), side 1: the file filters */
        if (side == 1 && !joined && !fileside)
            break;
        if (side == 1 && !joined)
            ckpt_buf_puts(&sql, " AND m.id IN (SELECT f.model_id FROM files f WHERE 1 = 1");
        for (size_t i = 0; i < nf; i++)
            if (filters[i].value && (joined ? side == 0 : (filters[i].on == 'f') == side))
                ckpt_buf_printf(&sql, " AND %s", filters[i].sql);
        if (side == 0 && q->min_rating > 0)
            ckpt_buf_printf(&sql, " AND m.rating >= %d", q->min_rating);
        if (side == 1 && !q->include_missing)
            ckpt_buf_puts(&sql, " AND f.missing = 0");
        if (side == 1 && !joined)
            ckpt_buf_putc(&sql, ')');
    }
    ckpt_buf_printf(&sql, " ORDER BY %s%s, lower(m.name), m.id", order, desc ? " DESC" : "");
    if (sql.oom) {
        ckpt_buf_free(&sql);
        return ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
    }
    struct ckpt_st *st;
    int rc = ckpt_cat_prepare(c, ckpt_buf_cstr(&sql), &st, err);
    ckpt_buf_free(&sql);
    if (rc)
        return rc;
    int k = 1; /* the parameters in the order written: the model side's, then the file side's */
    for (int side = 0; side < 2; side++)
        for (size_t i = 0; i < nf; i++)
            if (filters[i].value && (joined ? side == 0 : (filters[i].on == 'f') == side))
                ckpt_st_bind_text(st, k++, filters[i].value);
    rc = collect(c, st, ids, n, err);
    ckpt_st_finalize(st);
    if (!rc && joined)
        rc = first_of_each(ids, n, err);
    return rc;
}

/* The words of a search text (split at white space), each passed to fn; 0 when there are none. */
static size_t words(const char *text, void (*fn)(void *u, const char *w, size_t len), void *u)
{
    size_t n = 0;
    for (const char *p = text; *p;) {
        while (*p && isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        size_t len = 0;
        while (p[len] && !isspace((unsigned char)p[len]))
            len++;
        fn(u, p, len);
        n++;
        p += len;
    }
    return n;
}

/* SQLite: every word quoted (FTS5 syntax characters in a user's text are literal), matched as
   a prefix of the index's words or exactly as a whole compound token (the tokenizer of
   db_sqlite_words.c: "\x01" marks the whole form), all words required */
static void fts5_quoted(struct ckpt_buf *m, const char *mark, const char *w, size_t len)
{
    ckpt_buf_putc(m, '"');
    ckpt_buf_puts(m, mark);
    for (size_t i = 0; i < len; i++) {
        if (w[i] == '"')
            ckpt_buf_putc(m, '"');
        ckpt_buf_putc(m, w[i]);
    }
    ckpt_buf_putc(m, '"');
}

static void fts5_word(void *u, const char *w, size_t len)
{
    struct ckpt_buf *m = u;
    if (m->len)
        ckpt_buf_puts(m, " AND ");
    ckpt_buf_putc(m, '(');
    fts5_quoted(m, "", w, len);
    ckpt_buf_puts(m, "* OR ");
    fts5_quoted(m, "\x01", w, len);
    ckpt_buf_putc(m, ')');
}

/* A piece or whole word as a tsquery lexeme: quoted, a quote doubled and a backslash escaped
   (the tokenizing leaves neither in a piece; the quoting holds whatever a piece holds) */
static void tsq_lexeme(struct ckpt_buf *m, const char *mark, const char *p, size_t len)
{
    ckpt_buf_putc(m, '\'');
    ckpt_buf_puts(m, mark);
    for (size_t i = 0; i < len; i++) {
        if (p[i] == '\'' || p[i] == '\\')
            ckpt_buf_putc(m, p[i] == '\'' ? '\'' : '\\');
        ckpt_buf_putc(m, (char)tolower((unsigned char)p[i]));
    }
    ckpt_buf_putc(m, '\'');
}

static int is_word_char(unsigned char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

/* PostgreSQL: each word is a tsquery asking for what fts5_word's FTS5 query asks for in the
   words PostgreSQL's index holds (schema.c migration 11): its pieces in a row, the last as a
   prefix, or its whole lower-cased form marked with CKPT_WORDS_WHOLE_MARK exactly. An ASCII
   word is made here ('q' + tsquery text, cast by the server): the server then plans with the
   query as a constant and nothing to evaluate. A word with other bytes (lower-cased by the
   database's collation), no piece, a piece over tsvector's 2047 bytes or more than
   CKPT_WORDS_MAX_PIECES pieces (a phrase that long is nested as deep: the server's stack
   limit) goes to the server's ckpt_word_query as typed ('w' + word; the same rules, NULL: no
   match, for the last three). Words separated by NUL in the buffer. */
static void pg_word(void *u, const char *w, size_t len)
{
    struct ckpt_buf *m = u;
    int ascii = 1, pieces = 0, too_long = 0;
    size_t whole = 0, from = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)w[i];
        ascii = ascii && ch < 0x80;
        if (is_word_char(ch)) {
            whole++;
            if (i + 1 == len || !is_word_char((unsigned char)w[i + 1]))
                too_long = too_long || i + 1 - from >= 2047;
        } else {
            from = i + 1;
        }
        pieces += is_word_char(ch) && (i == 0 || !is_word_char((unsigned char)w[i - 1]));
    }
    for (size_t i = 0; ascii && i < len;) { /* count the pieces: the tokens' cuts added */
        size_t n = 0;
        while (i + n < len && is_word_char((unsigned char)w[i + n]))
            n++;
        for (size_t k = 1; k < n && !too_long; k++)
            pieces += ckpt_words_cut_before(w + i, (int)n, (int)k);
        i += n ? n : 1;
    }
    if (!ascii || !pieces || too_long || pieces > CKPT_WORDS_MAX_PIECES) {
        ckpt_buf_putc(m, 'w');
        ckpt_buf_put(m, w, len);
        ckpt_buf_putc(m, 0);
        return;
    }
    ckpt_buf_puts(m, "q(");
    int first = 1;
    for (size_t i = 0; i < len;) {
        if (!is_word_char((unsigned char)w[i])) {
            i++;
            continue;
        }
        size_t n = 0;
        while (i + n < len && is_word_char((unsigned char)w[i + n]))
            n++;
        size_t p0 = 0;
        for (size_t k = 1; k <= n; k++) {
            if (k < n && !ckpt_words_cut_before(w + i, (int)n, (int)k))
                continue;
            if (!first)
                ckpt_buf_puts(m, " <-> ");
            tsq_lexeme(m, "", w + i + p0, k - p0);
            first = 0;
            p0 = k;
        }
        i += n;
    }
    ckpt_buf_puts(m, ":*)");
    if (whole < 256) {
        ckpt_buf_puts(m, " | '");
        ckpt_buf_putc(m, CKPT_WORDS_WHOLE_MARK);
        for (size_t i = 0; i < len; i++)
            if (is_word_char((unsigned char)w[i]))
                ckpt_buf_putc(m, (char)tolower((unsigned char)w[i]));
        ckpt_buf_putc(m, '\'');
    }
    ckpt_buf_putc(m, 0);
}

static int cmp_i64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return (a > b) - (a < b);
}

/* the tsqueries q[0..n) ANDed, nested in halves */
static void tsq_and(struct ckpt_buf *b, const char **q, size_t n)
{
    ckpt_buf_putc(b, '(');
    if (n == 1) {
        ckpt_buf_puts(b, q[0]);
    } else {
        tsq_and(b, q, n / 2);
        ckpt_buf_puts(b, " & ");
        tsq_and(b, q + n / 2, n - n / 2);
    }
    ckpt_buf_putc(b, ')');
}

/* One tier of a search, in catalogue (id) order, at most limit ids (0: all): every word
   matched anywhere, or (name_only) in the name or path. SQLite: one FTS5 MATCH of the prepared
   expression m; PostgreSQL: the tsvector of every column or of the name matched against the
   words' queries ANDed (m holds the words NUL-separated). With a limit the planner may walk
   rowid order and stop at the limit (dense matches) or take the GIN index and sort (rare
   ones); it knows which from the columns' statistics. */
static int search_tier(struct ckpt_catalog *c, const struct ckpt_buf *m, size_t nw, int name_only,
                       size_t limit, int64_t **ids, size_t *n, struct ckpt_error *err)
{
    int pg = ckpt_cat_is_pg(c);
    struct ckpt_buf sql = {0}, expr = {0};
    if (!pg) {
        ckpt_buf_puts(&sql, "SELECT rowid FROM model_fts WHERE model_fts MATCH ?1 ORDER BY rowid");
        if (name_only)
            ckpt_buf_printf(&expr, "{name} : (%s)", (const char *)m->data);
        else
            ckpt_buf_puts(&expr, (const char *)m->data);
    } else {
        /* the words made here ANDed into one tsquery, as a balanced tree (a chain of 5,000
           words nested as deep exceeded the server's stack limit), the others one condition
           each */
        const char *col = name_only ? "name_words" : "words";
        const char **qw = calloc(nw ? nw : 1, sizeof *qw);
        size_t nq = 0, k = 1;
        const char *w = (const char *)m->data;
        for (size_t i = 0; qw && i < nw; i++, w += strlen(w) + 1)
            if (*w == 'q')
                qw[nq++] = w + 1;
        if (!qw)
            sql.oom = 1;
        ckpt_buf_puts(&sql, "SELECT rowid FROM model_fts WHERE TRUE");
        if (nq) {
            ckpt_buf_printf(&sql, " AND %s @@ CAST(?%zu AS tsquery)", col, k++);
            tsq_and(&expr, qw, nq);
        }
        w = (const char *)m->data;
        for (size_t i = 0; i < nw; i++, w += strlen(w) + 1)
            if (*w == 'w')
                ckpt_buf_printf(&sql, " AND %s @@ ckpt_word_query(?%zu)", col, k++);
        ckpt_buf_puts(&sql, " ORDER BY rowid");
        free(qw);
    }
    if (limit)
        ckpt_buf_printf(&sql, " LIMIT %zu", limit);
    struct ckpt_st *st = NULL;
    int rc = sql.oom || expr.oom ? ckpt_error_set(err, CKPT_E_NOMEM, "out of memory")
                                 : ckpt_cat_prepare(c, ckpt_buf_cstr(&sql), &st, err);
    if (!rc && !pg) {
        ckpt_st_bind_text(st, 1, ckpt_buf_cstr(&expr));
    } else if (!rc) {
        int k = 1;
        if (expr.len)
            ckpt_st_bind_text(st, k++, ckpt_buf_cstr(&expr));
        const char *w = (const char *)m->data;
        for (size_t i = 0; i < nw; i++, w += strlen(w) + 1)
            if (*w == 'w')
                ckpt_st_bind_text(st, k++, w + 1);
    }
    if (!rc)
        rc = collect(c, st, ids, n, err);
    if (st)
        ckpt_st_finalize(st);
    ckpt_buf_free(&sql);
    ckpt_buf_free(&expr);
    return rc;
}

int ckpt_catalog_search_top(struct ckpt_catalog *c, const char *text, size_t limit, int64_t **ids,
                            size_t *n, struct ckpt_error *err)
{
    struct ckpt_buf m = {0};
    *ids = NULL;
    *n = 0;
    int pg = ckpt_cat_is_pg(c);
    size_t nw = words(text, pg ? pg_word : fts5_word, &m);
    if (!pg)
        ckpt_buf_putc(&m, 0);
    if (!nw || m.oom) {
        ckpt_buf_free(&m);
        return nw ? ckpt_error_set(err, CKPT_E_NOMEM, "out of memory")
                  : ckpt_error_set(err, CKPT_E_ARG, "search needs some words");
    }
    /* the models whose name (or path) holds every word, then the others, each tier in
       catalogue order; two queries in id order that each stop at the limit, so the cost follows
       what is returned, not how many models match. (FTS5's bm25 `ORDER BY rank` had to score
       every match: two thirds of a 3,000-match search; on PostgreSQL one ORDER BY over every
       match re-checked the regex on each candidate.) */
    int64_t *first = NULL, *rest = NULL;
    size_t nfirst = 0, nrest = 0;
    int rc = search_tier(c, &m, nw, 1, limit, &first, &nfirst, err);
    if (!rc && (!limit || nfirst < limit))
        rc = search_tier(c, &m, nw, 0, limit ? limit + nfirst : 0, &rest, &nrest, err);
    ckpt_buf_free(&m);
    /* first, then rest without first's ids (both ascending), up to the limit */
    size_t total = nfirst;
    if (!rc && nrest) {
        int64_t *all = realloc(first, (nfirst + nrest) * sizeof *all);
        if (!all) {
            rc = ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
        } else {
            first = all;
            for (size_t i = 0; i < nrest && (!limit || total < limit); i++)
                if (!nfirst || !bsearch(&rest[i], first, nfirst, sizeof *first, cmp_i64))
                    first[total++] = rest[i];
        }
    }
    free(rest);
    if (rc) {
        free(first);
        return rc;
    }
    *ids = first;
    *n = total;
    return CKPT_OK;
}

int ckpt_catalog_search(struct ckpt_catalog *c, const char *text, int64_t **ids, size_t *n,
                        struct ckpt_error *err)
{
    return ckpt_catalog_search_top(c, text, 0, ids, n, err);
}

/* ---- choose -------------------------------------------------------------------------------- */

struct cand {
    int64_t id;
    char *name, *output, *realism, *subjects;
    int rating;
    double score;
    struct ckpt_buf why;
    int matched;
};

static int in_list(const char *list, const char *v)
{
    if (!list || !v)
        return 0;
    size_t n = strlen(v);
    for (const char *p = list; *p;) {
        size_t k = strcspn(p, ",");
        if (k == n && strncmp(p, v, n) == 0)
            return 1;
        p += k;
        if (*p)
            p++;
    }
    return 0;
}

static void reason(struct cand *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reason(struct cand *c, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (c->why.len)
        ckpt_buf_puts(&c->why, "; ");
    ckpt_buf_puts(&c->why, tmp);
}

static int cmp_cand(const void *a, const void *b)
{
    const struct cand *x = a, *y = b;
    if (x->score != y->score)
        return x->score < y->score ? 1 : -1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int cmp_id(const void *key, const void *elem)
{
    int64_t k = *(const int64_t *)key, e = ((const struct cand *)elem)->id;
    return k < e ? -1 : k > e;
}

int ckpt_catalog_choose(struct ckpt_catalog *c, const struct ckpt_wish *w, struct ckpt_choice **out,
                        size_t *nout, struct ckpt_error *err)
{
    *out = NULL;
    *nout = 0;
    const struct {
        const char *f, *v;
    } checks[] = {{"output", w->output},       {"realism", w->realism}, {"family", w->family},
                  {"ecosystem", w->ecosystem}, {"subject", w->subject}, {"kind", w->kind}};
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++)
        if (checks[i].v) {
            int rc = ckpt_taxonomy_check(checks[i].f, checks[i].v, err);
            if (rc)
                return rc;
        }
    struct ckpt_buf sql = {0};
    ckpt_buf_puts(&sql, "SELECT m.id, m.name, m.output, m.realism, m.subjects,"
                        " coalesce(m.rating, 0) FROM models m JOIN files f ON f.model_id = m.id"
                        " WHERE f.missing = 0 AND f.error IS NULL");
    if (w->family)
        ckpt_buf_puts(&sql, " AND f.family = ?1");
    if (w->ecosystem)
        ckpt_buf_puts(&sql, " AND coalesce(m.ecosystem, f.ecosystem) = ?2");
    if (w->kind)
        ckpt_buf_puts(&sql, " AND f.kind = ?3");
    ckpt_buf_puts(&sql, " GROUP BY m.id ORDER BY m.id");
    struct ckpt_st *st;
    int rc = ckpt_cat_prepare(c, ckpt_buf_cstr(&sql), &st, err);
    ckpt_buf_free(&sql);
    if (rc)
        return rc;
    if (w->family)
        ckpt_st_bind_text(st, 1, w->family);
    if (w->ecosystem)
        ckpt_st_bind_text(st, 2, w->ecosystem);
    if (w->kind)
        ckpt_st_bind_text(st, 3, w->kind);
    struct cand *cs = NULL;
    size_t n = 0, cap = 0;
    while (ckpt_st_step(st) == CKPT_DB_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            struct cand *nc = realloc(cs, cap * sizeof *nc);
            if (!nc)
                break;
            cs = nc;
        }
        struct cand *cd = &cs[n++];
        memset(cd, 0, sizeof *cd);
        cd->id = ckpt_st_i64(st, 0);
        cd->name = ckpt_cat_coldup(st, 1);
        cd->output = ckpt_cat_coldup(st, 2);
        cd->realism = ckpt_cat_coldup(st, 3);
        cd->subjects = ckpt_cat_coldup(st, 4);
        cd->rating = ckpt_st_int(st, 5);
    }
    ckpt_st_finalize(st);
    int soft = w->output || w->realism || w->subject;
    /* chosen values first */
    for (size_t i = 0; i < n; i++) {
        struct cand *cd = &cs[i];
        if (w->family)
            reason(cd, "family %s (measured)", w->family);
        if (w->ecosystem)
            reason(cd, "ecosystem %s", w->ecosystem);
        if (w->output && cd->output) {
            if (strcmp(cd->output, w->output) == 0) {
                cd->score += 3;
                cd->matched = 1;
                reason(cd, "output %s (chosen)", w->output);
            } else {
                cd->score -= 2;
                reason(cd, "output is %s (chosen), not %s", cd->output, w->output);
            }
        }
        if (w->realism && cd->realism) {
            if (in_list(cd->realism, w->realism)) {
                cd->score += 2;
                cd->matched = 1;
                reason(cd, "realism %s (chosen)", w->realism);
            } else {
                cd->score -= 1;
                reason(cd, "realism is %s (chosen), not %s", cd->realism, w->realism);
            }
        }
        if (w->subject && in_list(cd->subjects, w->subject)) {
            cd->score += 1;
            cd->matched = 1;
            reason(cd, "subject %s (chosen)", w->subject);
        }
    }
    /* then suggestions, at lower weight, for fields the user has not chosen */
    if (soft && n) {
        rc = ckpt_cat_prepare(c,
                              "SELECT model_id, field, value, confidence, why FROM suggestions"
                              " WHERE (field = 'output' AND value = ?1) OR (field = 'realism'"
                              " AND value = ?2) OR (field = 'subjects' AND value = ?3)"
                              " ORDER BY model_id, field",
                              &st, err);
        if (rc)
            goto out;
        ckpt_st_bind_text(st, 1, w->output);
        ckpt_st_bind_text(st, 2, w->realism);
        ckpt_st_bind_text(st, 3, w->subject);
        while (ckpt_st_step(st) == CKPT_DB_ROW) {
            int64_t id = ckpt_st_i64(st, 0);
            struct cand *cd = bsearch(&id, cs, n, sizeof *cs, cmp_id);
            if (!cd)
                continue;
            const char *field = ckpt_st_text(st, 1);
            const char *value = ckpt_st_text(st, 2);
            double conf = ckpt_st_double(st, 3);
            const char *why = ckpt_st_text(st, 4);
            double weight;
            if (strcmp(field, "output") == 0) {
                if (cd->output)
                    continue;
                weight = 1.5;
            } else if (strcmp(field, "realism") == 0) {
                if (cd->realism)
                    continue;
                weight = 1.0;
            } else {
                if (in_list(cd->subjects, value))
                    continue;
                weight = 0.5;
            }
            cd->score += weight * conf;
            cd->matched = 1;
            reason(cd, "%s %s suggested (%.2f: %s)", field, value, conf, why);
        }
        ckpt_st_finalize(st);
    }
    /* then rating */
    for (size_t i = 0; i < n; i++) {
        struct cand *cd = &cs[i];
        if (cd->rating) {
            cd->score += (cd->rating - 3) * 0.25;
            reason(cd, "rated %d", cd->rating);
        }
    }
    if (n)
        qsort(cs, n, sizeof *cs, cmp_cand);
    size_t top = w->top ? w->top : 10;
    struct ckpt_choice *ch = calloc(top, sizeof *ch);
    if (!ch) {
        rc = ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
        goto out;
    }
    size_t k = 0;
    for (size_t i = 0; i < n && k < top; i++) {
        if (soft && !cs[i].matched)
            continue;
        ch[k].id = cs[i].id;
        ch[k].score = round(cs[i].score * 100) / 100;
        ch[k].why = strdup(cs[i].why.len ? ckpt_buf_cstr(&cs[i].why) : "no preference given");
        k++;
    }
    *out = ch;
    *nout = k;
out:
    for (size_t i = 0; i < n; i++) {
        free(cs[i].name);
        free(cs[i].output);
        free(cs[i].realism);
        free(cs[i].subjects);
        ckpt_buf_free(&cs[i].why);
    }
    free(cs);
    return rc;
}

void ckpt_choices_free(struct ckpt_choice *ch, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(ch[i].why);
    free(ch);
}

/* ---- dupes --------------------------------------------------------------------------------- */

int ckpt_catalog_dupes(struct ckpt_catalog *c, ckpt_dupes_fn fn, void *user, struct ckpt_error *err)
{
    static const char *const sql[] = {
        /* one row per model: a model's copies on several machines are its locations, not
           duplicates of each other */
        "SELECT sha256, model_id FROM files WHERE sha256 IN (SELECT sha256 FROM files WHERE"
        " sha256 IS NOT NULL GROUP BY sha256 HAVING count(DISTINCT model_id) > 1)"
        " GROUP BY sha256, model_id ORDER BY sha256, model_id",
        "SELECT fingerprint, model_id FROM files WHERE fingerprint IN (SELECT fingerprint FROM"
        " files WHERE fingerprint IS NOT NULL GROUP BY fingerprint HAVING"
        " count(DISTINCT model_id) > 1 AND count(sha256) < count(*))"
        " GROUP BY fingerprint, model_id ORDER BY fingerprint, model_id",
    };
    for (int pass = 0; pass < 2; pass++) {
        struct ckpt_st *st;
        int rc = ckpt_cat_prepare(c, sql[pass], &st, err);
        if (rc)
            return rc;
        char key[128] = "";
        int64_t ids[256];
        size_t n = 0;
        int stop = 0, s;
        while (!stop && (s = ckpt_st_step(st)) == CKPT_DB_ROW) {
            const char *k = ckpt_st_text(st, 0);
            if (strcmp(k, key) != 0) {
                if (n > 1)
                    stop = fn(user, key, pass == 0, ids, n);
                snprintf(key, sizeof key, "%s", k);
                n = 0;
            }
            if (n < 256)
                ids[n++] = ckpt_st_i64(st, 1);
        }
        if (!stop && n > 1)
            stop = fn(user, key, pass == 0, ids, n);
        ckpt_st_finalize(st);
        if (stop)
            break;
    }
    return CKPT_OK;
}
