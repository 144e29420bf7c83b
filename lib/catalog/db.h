/* The catalog's small database layer: one connection (struct ckpt_db) and its statements
 * (struct ckpt_st) over two backends, SQLite (db_sqlite.c) and PostgreSQL through libpq
 * (db_pg.c). The catalog code writes its SQL once, with "?" / "?N" placeholders (rewritten to
 * $N for PostgreSQL), binds values, steps rows and reads columns the same way for both; the few
 * statements whose text must differ are named by enum ckpt_sql and kept, per backend, in the
 * backend's file. Not installed; nothing outside lib/catalog uses it.
 *
 * Status codes: step returns CKPT_DB_ROW or CKPT_DB_DONE, and every call that can fail returns
 * CKPT_DB_OK or one of the CKPT_DB_E* codes (each backend maps its own errors onto them);
 * ckpt_db_errmsg gives the backend's words for the last failure. */
#ifndef CKPT_CATALOG_DB_H
#define CKPT_CATALOG_DB_H

#include <stddef.h>
#include <stdint.h>

enum {
    CKPT_DB_OK = 0,
    CKPT_DB_ROW = 100,
    CKPT_DB_DONE = 101,
    CKPT_DB_EBUSY = -1,     /* locked by another writer (SQLite) */
    CKPT_DB_EREADONLY = -2, /* read-only database or transaction */
    CKPT_DB_EFULL = -3,     /* disk full */
    CKPT_DB_ECANTOPEN = -4, /* cannot open / connect */
    CKPT_DB_ECORRUPT = -5,  /* not a catalog database */
    CKPT_DB_EIO = -6,       /* I/O error */
    CKPT_DB_ERETRY = -7,    /* serialization failure or deadlock: run the transaction again */
    CKPT_DB_ECONN = -8,     /* the connection to the server was lost */
    CKPT_DB_ECONSTRAINT = -9,
    CKPT_DB_EOTHER = -10,
};

enum ckpt_db_kind { CKPT_DB_SQLITE, CKPT_DB_PG };

enum { CKPT_DB_T_NULL, CKPT_DB_T_INT, CKPT_DB_T_REAL, CKPT_DB_T_TEXT, CKPT_DB_T_BLOB };

/* Statements whose text differs between the backends. */
enum ckpt_sql {
    CKPT_SQL_BEGIN_WRITE,  /* a write transaction that will not fail half-way for a lock */
    CKPT_SQL_BEGIN_READ,   /* one snapshot for many reads */
    CKPT_SQL_FILE_ID,      /* id and model_id of the file record at (host ?1, path ?2), locked
                              for update */
    CKPT_SQL_SETTINGS_GET, /* settings text of model ?1, locked for update */
    CKPT_SQL_LOCK_KEY,     /* hold a lock named by the text ?1 until the transaction ends */
    CKPT_SQL_TABLES,       /* the catalog's tables (not search or schema bookkeeping), models
                              first, then files, then the others by name */
    CKPT_SQL_RESET_ID,     /* printf format (table, table): the next id after the largest, or
                              NULL when ids need no care */
    CKPT_SQL_FOR_UPDATE,   /* appended to a SELECT: lock the rows read until the transaction
                              ends ("" where the write transaction holds every lock) */
    CKPT_SQL_FTS_REBUILD,  /* the search rows of every model made again (after db copy), or
                              NULL for the portable statement (store.c) */
    CKPT_SQL_NEW_IDS,      /* ?1 ids for new models, reserved ahead (rows of one column), or
                              NULL when INSERT ... RETURNING id costs nothing */
    CKPT_SQL_SYNC_FULL,    /* the next commits survive a power cut (organize's journal) */
    CKPT_SQL_SYNC_NORMAL,  /* back to the connection's usual commits */
    CKPT_SQL_AFTER_LOAD,   /* printf format (table): run outside a transaction after a bulk
                              load of the table (db copy), or NULL when nothing is needed */
    CKPT_SQL_COUNT_
};

struct ckpt_db;
struct ckpt_st;

struct ckpt_db_ops {
    int (*exec)(struct ckpt_db *db, const char *sql);
    int (*prepare)(struct ckpt_db *db, const char *sql, struct ckpt_st **out);
    int (*step)(struct ckpt_st *st);
    void (*reset)(struct ckpt_st *st); /* keeps the bindings */
    void (*finalize)(struct ckpt_st *st);
    void (*bind_i64)(struct ckpt_st *st, int i, int64_t v);
    void (*bind_double)(struct ckpt_st *st, int i, double v);
    void (*bind_text)(struct ckpt_st *st, int i, const char *s); /* copied; NULL binds NULL */
    void (*bind_null)(struct ckpt_st *st, int i);
    int64_t (*col_i64)(struct ckpt_st *st, int col);
    double (*col_double)(struct ckpt_st *st, int col);
    const char *(*col_text)(struct ckpt_st *st, int col); /* valid until the next step/reset */
    int (*col_null)(struct ckpt_st *st, int col);
    int (*col_count)(struct ckpt_st *st);
    const char *(*col_name)(struct ckpt_st *st, int col);
    int (*col_type)(struct ckpt_st *st, int col); /* CKPT_DB_T_*, of the current row's value */
    int (*in_txn)(struct ckpt_db *db);
    const char *(*errmsg)(struct ckpt_db *db);
    int (*schema_version)(struct ckpt_db *db); /* -1: not a catalog database */
    int (*set_schema_version)(struct ckpt_db *db, int v);
    int (*integrity)(struct ckpt_db *db, char *msg, size_t len); /* 0 ok, 1 damaged, <0 error */
    void (*close)(struct ckpt_db *db);
    /* bytes (copied; SQLite BLOB, PostgreSQL bytea) */
    void (*bind_blob)(struct ckpt_st *st, int i, const void *p, size_t n);
    /* the bytes of a blob column, valid until the next step/reset; NULL (and *n = 0) for NULL */
    const void *(*col_blob)(struct ckpt_st *st, int col, size_t *n);
    /* optional (NULL: run steps to the end, start does nothing); see ckpt_st_run/start */
    int (*run)(struct ckpt_st *st);
    void (*start)(struct ckpt_st *st);
    /* optional bulk load (NULL: not offered): copy_begin runs a "COPY t(c, ...) FROM STDIN"
       statement, copy_put sends rows in PostgreSQL's text format (tab-separated, \N for NULL,
       backslash escapes), copy_end finishes it; the rows' failures come back from copy_end */
    int (*copy_begin)(struct ckpt_db *db, const char *sql);
    int (*copy_put)(struct ckpt_db *db, const char *data, size_t n);
    int (*copy_end)(struct ckpt_db *db);
};

struct ckpt_db {
    const struct ckpt_db_ops *ops;
    enum ckpt_db_kind kind;
    const char *const *sql; /* indexed by enum ckpt_sql */
};

struct ckpt_st {
    struct ckpt_db *db;
};

/* Open a backend. sqlite: path, creating the file unless readonly. pg: a libpq connection URL
 * (postgresql://... or postgres://...). On failure *out may hold a connection whose errmsg says
 * why (close it). */
int ckpt_db_sqlite_open(const char *path, int readonly, struct ckpt_db **out);
int ckpt_db_pg_open(const char *url, int readonly, struct ckpt_db **out);
/* 1 when path names a PostgreSQL database (postgresql:// or postgres://). */
int ckpt_db_is_pg_url(const char *path);
/* A copy of a connection URL with its password replaced by "***" (malloc'd; NULL on OOM). */
char *ckpt_db_mask_url(const char *url);
/* The schema migrations of each backend (schema.c): same count, same meaning. */
const char *ckpt_db_migration(enum ckpt_db_kind kind, int n);
int ckpt_db_migration_count(void);

static inline int ckpt_db_exec(struct ckpt_db *db, const char *sql)
{
    return db->ops->exec(db, sql);
}
static inline int ckpt_db_prepare(struct ckpt_db *db, const char *sql, struct ckpt_st **out)
{
    return db->ops->prepare(db, sql, out);
}
static inline int ckpt_st_step(struct ckpt_st *st)
{
    return st->db->ops->step(st);
}
/* Run a statement whose rows are not read (a write). Inside a write transaction PostgreSQL
 * sends it without waiting for the answer (pipeline mode): CKPT_DB_DONE then means "sent", and a
 * failure is returned by the next step or exec on the connection (the COMMIT at the latest), so
 * the transaction fails as a whole. The statement may be reset, rebound or finalized at once.
 * SQLite runs it now. */
static inline int ckpt_st_run(struct ckpt_st *st)
{
    if (st->db->ops->run)
        return st->db->ops->run(st);
    int s;
    while ((s = st->db->ops->step(st)) == CKPT_DB_ROW)
        ;
    return s;
}
/* Start a statement whose rows will be read later with ckpt_st_step: inside a write
 * transaction PostgreSQL sends it at once, so several statements started one after the other
 * cost one round trip. Nothing for SQLite. */
static inline void ckpt_st_start(struct ckpt_st *st)
{
    if (st->db->ops->start)
        st->db->ops->start(st);
}
static inline void ckpt_st_reset(struct ckpt_st *st)
{
    st->db->ops->reset(st);
}
static inline void ckpt_st_finalize(struct ckpt_st *st)
{
    if (st)
        st->db->ops->finalize(st);
}
static inline void ckpt_st_bind_i64(struct ckpt_st *st, int i, int64_t v)
{
    st->db->ops->bind_i64(st, i, v);
}
static inline void ckpt_st_bind_double(struct ckpt_st *st, int i, double v)
{
    st->db->ops->bind_double(st, i, v);
}
static inline void ckpt_st_bind_text(struct ckpt_st *st, int i, const char *s)
{
    st->db->ops->bind_text(st, i, s);
}
static inline void ckpt_st_bind_null(struct ckpt_st *st, int i)
{
    st->db->ops->bind_null(st, i);
}
static inline void ckpt_st_bind_blob(struct ckpt_st *st, int i, const void *p, size_t n)
{
    st->db->ops->bind_blob(st, i, p, n);
}
static inline const void *ckpt_st_blob(struct ckpt_st *st, int col, size_t *n)
{
    return st->db->ops->col_blob(st, col, n);
}
static inline int64_t ckpt_st_i64(struct ckpt_st *st, int col)
{
    return st->db->ops->col_i64(st, col);
}
static inline int ckpt_st_int(struct ckpt_st *st, int col)
{
    return (int)st->db->ops->col_i64(st, col);
}
static inline double ckpt_st_double(struct ckpt_st *st, int col)
{
    return st->db->ops->col_double(st, col);
}
static inline const char *ckpt_st_text(struct ckpt_st *st, int col)
{
    return st->db->ops->col_text(st, col);
}
static inline int ckpt_st_null(struct ckpt_st *st, int col)
{
    return st->db->ops->col_null(st, col);
}
static inline const char *ckpt_db_sql(struct ckpt_db *db, enum ckpt_sql which)
{
    return db->sql[which];
}

#endif
