/* Copying a whole catalog from one store to another (ckptdb db copy): SQLite to PostgreSQL and
 * back. Tables and their columns are read from the stores themselves, so a table or column a
 * later migration adds is copied without a change here; values keep their type (integer, real,
 * text, NULL) and ids, and the search index is rebuilt on the destination from the copied
 * rows. Not for export/import of the user's fields by hash (transfer.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/internal.h"
#include "ckptdb/buf.h"

static int count_rows(struct ckpt_catalog *c, const char *table, int64_t *n, struct ckpt_error *err)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
    struct ckpt_st *q;
    int rc = ckpt_cat_prepare(c, sql, &q, err);
    if (rc)
        return rc;
    int s = ckpt_st_step(q);
    *n = s == CKPT_DB_ROW ? ckpt_st_i64(q, 0) : 0;
    ckpt_st_finalize(q);
    return s == CKPT_DB_ROW ? CKPT_OK : ckpt_cat_sqlerr(c, s, "counting records", err);
}

/* The catalog tables of c, in copy order (models, files, then the rest), as one malloc'd block
   of NUL-separated names. */
static int list_tables(struct ckpt_catalog *c, struct ckpt_buf *names, size_t *n,
                       struct ckpt_error *err)
{
    struct ckpt_st *q;
    int rc = ckpt_cat_prepare(c, ckpt_db_sql(c->db, CKPT_SQL_TABLES), &q, err);
    if (rc)
        return rc;
    int s;
    *n = 0;
    while ((s = ckpt_st_step(q)) == CKPT_DB_ROW) {
        const char *t = ckpt_st_text(q, 0);
        ckpt_buf_put(names, t, strlen(t) + 1);
        (*n)++;
    }
    ckpt_st_finalize(q);
    if (s != CKPT_DB_DONE)
        return ckpt_cat_sqlerr(c, s, "listing tables", err);
    return names->oom ? ckpt_error_set(err, CKPT_E_NOMEM, "out of memory") : CKPT_OK;
}

/* One value held between reading it and writing it (rows are written ROWS_PER_INSERT at a
   time: one statement and one round trip per batch instead of per row). */
struct value {
    int type;
    int64_t i;
    double d;
    char *t; /* text, or the bytes of a blob (n of them) */
    size_t n;
};

#define ROWS_PER_INSERT 64

static int insert_sql(struct ckpt_catalog *to, const char *table, char **names, int ncol, int rows,
                      struct ckpt_st **out, struct ckpt_error *err)
{
    struct ckpt_buf ins = {0};
    ckpt_buf_printf(&ins, "INSERT INTO \"%s\"(", table);
    for (int i = 0; i < ncol; i++)
        ckpt_buf_printf(&ins, "%s\"%s\"", i ? ", " : "", names[i]);
    ckpt_buf_puts(&ins, ") VALUES");
    for (int r = 0; r < rows; r++) {
        ckpt_buf_puts(&ins, r ? ", (" : " (");
        for (int i = 0; i < ncol; i++)
            ckpt_buf_printf(&ins, "%s?%d", i ? ", " : "", r * ncol + i + 1);
        ckpt_buf_puts(&ins, ")");
    }
    int rc = ins.oom ? ckpt_error_set(err, CKPT_E_NOMEM, "out of memory")
                     : ckpt_cat_prepare(to, ckpt_buf_cstr(&ins), out, err);
    ckpt_buf_free(&ins);
    return rc;
}

static int flush_rows(struct ckpt_catalog *to, const char *table, char **names, int ncol,
                      struct value *v, int rows, struct ckpt_st **full, struct ckpt_error *err)
{
    struct ckpt_st *st = NULL;
    int rc;
    if (rows == ROWS_PER_INSERT && *full) {
        st = *full;
        ckpt_st_reset(st);
    } else if ((rc = insert_sql(to, table, names, ncol, rows, &st, err))) {
        return rc;
    }
    for (int k = 0; k < rows * ncol; k++) {
        switch (v[k].type) {
        case CKPT_DB_T_INT:
            ckpt_st_bind_i64(st, k + 1, v[k].i);
            break;
        case CKPT_DB_T_REAL:
            ckpt_st_bind_double(st, k + 1, v[k].d);
            break;
        case CKPT_DB_T_TEXT:
            ckpt_st_bind_text(st, k + 1, v[k].t);
            break;
        case CKPT_DB_T_BLOB:
            ckpt_st_bind_blob(st, k + 1, v[k].t, v[k].n);
            break;
        default:
            ckpt_st_bind_null(st, k + 1);
        }
    }
    int s = ckpt_st_step(st);
    rc = s == CKPT_DB_DONE ? CKPT_OK : ckpt_cat_sqlerr(to, s, "copying records", err);
    if (rows == ROWS_PER_INSERT)
        *full = st; /* kept for the next full batch */
    else
        ckpt_st_finalize(st);
    for (int k = 0; k < rows * ncol; k++) {
        free(v[k].t);
        v[k].t = NULL;
    }
    return rc;
}

/* ---- bulk load (PostgreSQL destination: COPY ... FROM STDIN) ------------------------------ */

#define COPY_CHUNK (256u << 10) /* bytes of rows gathered before they are sent */

/* one value in COPY's text format: \N for NULL, text with backslash, tab, newline and
   carriage return escaped, bytes as bytea's hex text (its backslash escaped too), numbers as
   text (a double with 17 digits reads back as the same double) */
static void copy_value(struct ckpt_buf *b, struct ckpt_st *rd, int col)
{
    switch (rd->db->ops->col_type(rd, col)) {
    case CKPT_DB_T_INT:
        ckpt_buf_printf(b, "%lld", (long long)ckpt_st_i64(rd, col));
        break;
    case CKPT_DB_T_REAL:
        ckpt_buf_printf(b, "%.17g", ckpt_st_double(rd, col));
        break;
    case CKPT_DB_T_TEXT: {
        const char *t = ckpt_st_text(rd, col), *run = t;
        for (const char *p = t; *p; p++) {
            char e = *p == '\\' ? '\\' : *p == '\t' ? 't' : *p == '\n' ? 'n' : *p == '\r' ? 'r' : 0;
            if (!e)
                continue;
            ckpt_buf_put(b, run, (size_t)(p - run));
            ckpt_buf_putc(b, '\\');
            ckpt_buf_putc(b, e);
            run = p + 1;
        }
        ckpt_buf_puts(b, run);
        break;
    }
    case CKPT_DB_T_BLOB: {
        static const char hex[] = "0123456789abcdef";
        size_t n = 0;
        const unsigned char *p = ckpt_st_blob(rd, col, &n);
        ckpt_buf_puts(b, "\\\\x");
        for (size_t k = 0; k < n; k++) {
            ckpt_buf_putc(b, hex[p[k] >> 4]);
            ckpt_buf_putc(b, hex[p[k] & 15]);
        }
        break;
    }
    default:
        ckpt_buf_puts(b, "\\N");
    }
}

/* Every row of table into a PostgreSQL destination with one COPY. */
static int copy_bulk(struct ckpt_catalog *from, struct ckpt_catalog *to, struct ckpt_st *rd,
                     const char *table, struct ckpt_copy_stats *st, int *has_id,
                     struct ckpt_error *err)
{
    const struct ckpt_db_ops *ops = to->db->ops;
    struct ckpt_buf b = {0};
    int s, ncol = 0, rc = CKPT_OK, started = 0;
    while (!rc && (s = ckpt_st_step(rd)) == CKPT_DB_ROW) {
        if (!started) {
            /* the statement is made from the first row's column names */
            ncol = rd->db->ops->col_count(rd);
            ckpt_buf_printf(&b, "COPY \"%s\"(", table);
            for (int i = 0; i < ncol; i++) {
                const char *name = rd->db->ops->col_name(rd, i);
                ckpt_buf_printf(&b, "%s\"%s\"", i ? ", " : "", name);
                *has_id |= strcmp(name, "id") == 0;
            }
            ckpt_buf_puts(&b, ") FROM STDIN");
            if (b.oom) {
                rc = ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
                break;
            }
            int d = ops->copy_begin(to->db, ckpt_buf_cstr(&b));
            if (d) {
                rc = ckpt_cat_sqlerr(to, d, "copying records", err);
                break;
            }
            started = 1;
            ckpt_buf_reset(&b);
        }
        for (int i = 0; i < ncol; i++) {
            if (i)
                ckpt_buf_putc(&b, '\t');
            copy_value(&b, rd, i);
        }
        ckpt_buf_putc(&b, '\n');
        st->rows++;
        if (b.oom)
            rc = ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
        else if (b.len >= COPY_CHUNK) {
            int d = ops->copy_put(to->db, b.data, b.len);
            if (d)
                rc = ckpt_cat_sqlerr(to, d, "copying records", err);
            ckpt_buf_reset(&b);
        }
    }
    if (!rc && s != CKPT_DB_DONE)
        rc = ckpt_cat_sqlerr(from, s, "reading records", err);
    if (started) {
        /* ended also after a failure, so that the connection is usable for the rollback */
        int d = !rc && b.len ? ops->copy_put(to->db, b.data, b.len) : CKPT_DB_OK;
        int e = ops->copy_end(to->db);
        if (!rc && (d || e))
            rc = ckpt_cat_sqlerr(to, d ? d : e, "copying records", err);
    }
    ckpt_buf_free(&b);
    return rc;
}

static int copy_table(struct ckpt_catalog *from, struct ckpt_catalog *to, const char *table,
                      struct ckpt_copy_stats *st, struct ckpt_error *err)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT * FROM \"%s\" ORDER BY 1", table);
    struct ckpt_st *rd, *full = NULL;
    int rc = ckpt_cat_prepare(from, sql, &rd, err);
    if (rc)
        return rc;
    int s = CKPT_DB_DONE, ncol = 0, has_id = 0, rows = 0;
    if (to->db->ops->copy_begin) {
        rc = copy_bulk(from, to, rd, table, st, &has_id, err);
        ckpt_st_finalize(rd);
        goto reset_ids;
    }
    char **names = NULL;
    struct value *v = NULL;
    while (!rc && (s = ckpt_st_step(rd)) == CKPT_DB_ROW) {
        if (!names) {
            /* the statement is made from the first row's column names */
            ncol = rd->db->ops->col_count(rd);
            names = calloc((size_t)ncol, sizeof *names);
            v = calloc((size_t)ncol * ROWS_PER_INSERT, sizeof *v);
            if (!names || !v) {
                rc = ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
                break;
            }
            for (int i = 0; i < ncol && !rc; i++) {
                names[i] = strdup(rd->db->ops->col_name(rd, i));
                if (!names[i])
                    rc = ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
                else
                    has_id |= strcmp(names[i], "id") == 0;
            }
        }
        for (int i = 0; i < ncol && !rc; i++) {
            struct value *x = &v[rows * ncol + i];
            x->type = rd->db->ops->col_type(rd, i);
            if (x->type == CKPT_DB_T_INT)
                x->i = ckpt_st_i64(rd, i);
            else if (x->type == CKPT_DB_T_REAL)
                x->d = ckpt_st_double(rd, i);
            else if (x->type == CKPT_DB_T_TEXT && !(x->t = strdup(ckpt_st_text(rd, i))))
                rc = ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
            else if (x->type == CKPT_DB_T_BLOB) {
                const void *p = ckpt_st_blob(rd, i, &x->n);
                if (!(x->t = malloc(x->n ? x->n : 1)))
                    rc = ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
                else if (x->n)
                    memcpy(x->t, p, x->n);
            }
        }
        st->rows++;
        if (!rc && ++rows == ROWS_PER_INSERT) {
            rc = flush_rows(to, table, names, ncol, v, rows, &full, err);
            rows = 0;
        }
    }
    if (!rc && s != CKPT_DB_DONE)
        rc = ckpt_cat_sqlerr(from, s, "reading records", err);
    if (!rc && rows)
        rc = flush_rows(to, table, names, ncol, v, rows, &full, err);
    ckpt_st_finalize(rd);
    ckpt_st_finalize(full);
    for (int k = 0; v && k < ncol * ROWS_PER_INSERT; k++)
        free(v[k].t);
    free(v);
    for (int i = 0; names && i < ncol; i++)
        free(names[i]);
    free(names);
reset_ids:;
    const char *reset = ckpt_db_sql(to->db, CKPT_SQL_RESET_ID);
    if (!rc && has_id && reset) {
        snprintf(sql, sizeof sql, reset, table, table);
        rc = ckpt_cat_exec(to, sql, err);
    }
    st->tables++;
    return rc;
}

/* the store's upkeep after a bulk load of table (CKPT_SQL_AFTER_LOAD), if it needs any */
static int after_load(struct ckpt_catalog *to, const char *table, struct ckpt_error *err)
{
    const char *fmt = ckpt_db_sql(to->db, CKPT_SQL_AFTER_LOAD);
    if (!fmt)
        return CKPT_OK;
    char sql[200];
    snprintf(sql, sizeof sql, fmt, table);
    return ckpt_cat_exec(to, sql, err);
}

int ckpt_catalog_copy(struct ckpt_catalog *from, struct ckpt_catalog *to,
                      struct ckpt_copy_stats *st, struct ckpt_error *err)
{
    memset(st, 0, sizeof *st);
    if (to->readonly)
        return ckpt_error_setf(err, CKPT_E_ARG, to->path, "catalog opened read-only");
    int vf = ckpt_catalog_schema_version(from), vt = ckpt_catalog_schema_version(to);
    if (vf != vt)
        return ckpt_error_setf(err, CKPT_E_ARG, to->path,
                               "schema version %d differs from the source's (%d); open both "
                               "with this ckptdb first",
                               vt, vf);
    int64_t have = 0, files = 0;
    int rc = count_rows(to, "models", &have, err);
    if (!rc)
        rc = count_rows(to, "files", &files, err);
    if (rc)
        return rc;
    if (have || files)
        return ckpt_error_setf(err, CKPT_E_ARG, to->path,
                               "already holds %lld models; copy into an empty catalog",
                               (long long)have);
    struct ckpt_buf names = {0};
    size_t n = 0;
    if ((rc = list_tables(from, &names, &n, err))) {
        ckpt_buf_free(&names);
        return rc;
    }
    if ((rc = ckpt_catalog_read_begin(from, err))) {
        ckpt_buf_free(&names);
        return rc;
    }
    rc = ckpt_cat_begin(to, err);
    const char *t = names.data;
    for (size_t i = 0; i < n && !rc; i++, t += strlen(t) + 1)
        rc = copy_table(from, to, t, st, err);
    if (!rc)
        rc = ckpt_cat_fts_rebuild(to, err);
    if (!rc)
        rc = count_rows(to, "models", &have, err);
    if (!rc)
        rc = ckpt_cat_commit(to, err);
    if (rc)
        ckpt_cat_rollback(to);
    ckpt_catalog_read_end(from);
    /* after the commit, each table on its own (a vacuum runs outside transactions), then the
       search rows rebuilt above */
    t = names.data;
    for (size_t i = 0; i < n && !rc; i++, t += strlen(t) + 1)
        rc = after_load(to, t, err);
    if (!rc)
        rc = after_load(to, "model_fts", err);
    ckpt_buf_free(&names);
    st->models = (uint64_t)have;
    return rc;
}
