/* The SQLite backend of the catalog's database layer (db.h): a thin wrapper over sqlite3 that
 * maps its result codes onto CKPT_DB_*, and the SQLite text of the statements that differ
 * between backends. WAL mode, foreign keys and the busy timeout are set here at open. Not for
 * the schema (schema.c) or any catalog query. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "catalog/db.h"
#include "catalog/db_sqlite_words.h"
#include "ckptdb/buf.h"

struct sq_db {
    struct ckpt_db base;
    sqlite3 *h;
};

struct sq_st {
    struct ckpt_st base;
    sqlite3_stmt *s;
};

#define H(db) (((struct sq_db *)(db))->h)
#define S(st) (((struct sq_st *)(st))->s)

static int map(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
        return CKPT_DB_OK;
    case SQLITE_ROW:
        return CKPT_DB_ROW;
    case SQLITE_DONE:
        return CKPT_DB_DONE;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return CKPT_DB_EBUSY;
    case SQLITE_READONLY:
        return CKPT_DB_EREADONLY;
    case SQLITE_FULL:
        return CKPT_DB_EFULL;
    case SQLITE_CANTOPEN:
        return CKPT_DB_ECANTOPEN;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return CKPT_DB_ECORRUPT;
    case SQLITE_IOERR:
        return CKPT_DB_EIO;
    case SQLITE_CONSTRAINT:
        return CKPT_DB_ECONSTRAINT;
    default:
        return CKPT_DB_EOTHER;
    }
}

static int sq_exec(struct ckpt_db *db, const char *sql)
{
    return map(sqlite3_exec(H(db), sql, NULL, NULL, NULL));
}

static int sq_prepare(struct ckpt_db *db, const char *sql, struct ckpt_st **out)
{
    *out = NULL;
    struct sq_st *st = calloc(1, sizeof *st);
    if (!st)
        return CKPT_DB_EOTHER;
    int rc = sqlite3_prepare_v3(H(db), sql, -1, SQLITE_PREPARE_PERSISTENT, &st->s, NULL);
    if (rc != SQLITE_OK) {
        free(st);
        return map(rc);
    }
    st->base.db = db;
    *out = &st->base;
    return CKPT_DB_OK;
}

static int sq_step(struct ckpt_st *st)
{
    return map(sqlite3_step(S(st)));
}

static void sq_reset(struct ckpt_st *st)
{
    sqlite3_reset(S(st));
}

static void sq_finalize(struct ckpt_st *st)
{
    sqlite3_finalize(S(st));
    free(st);
}

static void sq_bind_i64(struct ckpt_st *st, int i, int64_t v)
{
    sqlite3_bind_int64(S(st), i, v);
}

static void sq_bind_double(struct ckpt_st *st, int i, double v)
{
    sqlite3_bind_double(S(st), i, v);
}

static void sq_bind_text(struct ckpt_st *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(S(st), i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(S(st), i);
}

static void sq_bind_null(struct ckpt_st *st, int i)
{
    sqlite3_bind_null(S(st), i);
}

static int64_t sq_i64(struct ckpt_st *st, int col)
{
    return sqlite3_column_int64(S(st), col);
}

static double sq_double(struct ckpt_st *st, int col)
{
    return sqlite3_column_double(S(st), col);
}

static const char *sq_text(struct ckpt_st *st, int col)
{
    return (const char *)sqlite3_column_text(S(st), col);
}

static int sq_null(struct ckpt_st *st, int col)
{
    return sqlite3_column_type(S(st), col) == SQLITE_NULL;
}

static int sq_count(struct ckpt_st *st)
{
    return sqlite3_column_count(S(st));
}

static const char *sq_name(struct ckpt_st *st, int col)
{
    return sqlite3_column_name(S(st), col);
}

static int sq_type(struct ckpt_st *st, int col)
{
    switch (sqlite3_column_type(S(st), col)) {
    case SQLITE_INTEGER:
        return CKPT_DB_T_INT;
    case SQLITE_FLOAT:
        return CKPT_DB_T_REAL;
    case SQLITE_NULL:
        return CKPT_DB_T_NULL;
    case SQLITE_BLOB:
        return CKPT_DB_T_BLOB;
    default:
        return CKPT_DB_T_TEXT;
    }
}

static int sq_in_txn(struct ckpt_db *db)
{
    return !sqlite3_get_autocommit(H(db));
}

static const char *sq_errmsg(struct ckpt_db *db)
{
    return H(db) ? sqlite3_errmsg(H(db)) : "out of memory";
}

static int sq_version(struct ckpt_db *db)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(H(db), "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return -1;
    int v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    return v;
}

static int sq_set_version(struct ckpt_db *db, int v)
{
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v);
    return sq_exec(db, sql);
}

static int sq_integrity(struct ckpt_db *db, char *msg, size_t len)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(H(db), "PRAGMA integrity_check", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return map(rc);
    int s = sqlite3_step(st);
    const char *t = s == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
    if (t)
        snprintf(msg, len, "%s", t);
    rc = !t ? map(s) : strcmp(t, "ok") == 0 ? 0 : 1;
    sqlite3_finalize(st);
    return rc;
}

static void sq_close(struct ckpt_db *db)
{
    if (H(db))
        sqlite3_close_v2(H(db));
    free(db);
}

static void sq_bind_blob(struct ckpt_st *st, int i, const void *p, size_t n)
{
    sqlite3_bind_blob64(S(st), i, p ? p : "", (sqlite3_uint64)n, SQLITE_TRANSIENT);
}

static const void *sq_blob(struct ckpt_st *st, int col, size_t *n)
{
    const void *p = sqlite3_column_blob(S(st), col);
    *n = p ? (size_t)sqlite3_column_bytes(S(st), col) : 0;
    return p;
}

/* no run/start: ckpt_st_run steps at once, ckpt_st_start has nothing to do; no bulk load:
   db copy inserts many rows per statement */
static const struct ckpt_db_ops sq_ops = {
    sq_exec,        sq_prepare,     sq_step,      sq_reset, sq_finalize,  sq_bind_i64,
    sq_bind_double, sq_bind_text,   sq_bind_null, sq_i64,   sq_double,    sq_text,
    sq_null,        sq_count,       sq_name,      sq_type,  sq_in_txn,    sq_errmsg,
    sq_version,     sq_set_version, sq_integrity, sq_close, sq_bind_blob, sq_blob,
    NULL,           NULL,           NULL,         NULL,     NULL,
};

static const char *const sq_sql[CKPT_SQL_COUNT_] = {
    /* IMMEDIATE: take the write lock now (waiting up to the busy timeout) rather than failing
       halfway through the change */
    [CKPT_SQL_BEGIN_WRITE] = "BEGIN IMMEDIATE",
    /* a deferred transaction: one read lock and one snapshot for many statements, instead of
       a lock taken and dropped around each (measured: a fifth of a 440-row list) */
    [CKPT_SQL_BEGIN_READ] = "BEGIN",
    [CKPT_SQL_FILE_ID] = "SELECT id, model_id FROM files WHERE host = ?1 AND path = ?2",
    [CKPT_SQL_SETTINGS_GET] = "SELECT settings FROM models WHERE id = ?1",
    /* BEGIN IMMEDIATE already holds the only write lock there is */
    [CKPT_SQL_LOCK_KEY] = "SELECT ?1",
    [CKPT_SQL_TABLES] = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE"
                        " 'sqlite%' AND name NOT LIKE 'model_fts%' ORDER BY name = 'models' DESC,"
                        " name = 'files' DESC, name",
    /* INTEGER PRIMARY KEY takes the largest + 1 by itself */
    [CKPT_SQL_RESET_ID] = NULL,
    [CKPT_SQL_FOR_UPDATE] = "",
    [CKPT_SQL_FTS_REBUILD] = NULL,
    /* the in-process RETURNING id costs nothing */
    [CKPT_SQL_NEW_IDS] = NULL,
    /* WAL's NORMAL may lose the last commits (never consistency) on a power cut; FULL syncs
       the WAL at each commit */
    [CKPT_SQL_SYNC_FULL] = "PRAGMA synchronous = FULL",
    [CKPT_SQL_SYNC_NORMAL] = "PRAGMA synchronous = NORMAL",
    [CKPT_SQL_AFTER_LOAD] = NULL,
};

/* 1 when a -wal file with content is beside the catalog */
static int wal_pending(const char *path)
{
    char wal[4200];
    struct stat st;
    snprintf(wal, sizeof wal, "%s-wal", path);
    return stat(wal, &st) == 0 && st.st_size > 0;
}

/* 1 when the schema can be read through this connection */
static int wal_readable(sqlite3 *db)
{
    return sqlite3_exec(db, "SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL) == SQLITE_OK;
}

static int open_immutable(const char *path, sqlite3 **db)
{
    /* the path goes into a URI: '?' and '#' (and '%') in it must be escaped */
    struct ckpt_buf b = {0};
    ckpt_buf_puts(&b, "file:");
    for (const char *p = path; *p; p++) {
        if (*p == '?' || *p == '#' || *p == '%')
            ckpt_buf_printf(&b, "%%%02X", (unsigned char)*p);
        else
            ckpt_buf_putc(&b, *p);
    }
    ckpt_buf_puts(&b, "?immutable=1");
    if (b.oom) {
        ckpt_buf_free(&b);
        return SQLITE_NOMEM;
    }
    int rc = sqlite3_open_v2(ckpt_buf_cstr(&b), db,
                             SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, NULL);
    ckpt_buf_free(&b);
    return rc;
}

int ckpt_db_sqlite_open(const char *path, int readonly, struct ckpt_db **out)
{
    struct sq_db *d = calloc(1, sizeof *d);
    *out = d ? &d->base : NULL;
    if (!d)
        return CKPT_DB_EOTHER;
    d->base.ops = &sq_ops;
    d->base.kind = CKPT_DB_SQLITE;
    d->base.sql = sq_sql;
    int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    int rc = sqlite3_open_v2(path, &d->h, flags | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK && readonly && !wal_readable(d->h) && !wal_pending(path)) {
        /* a WAL catalog whose -shm file cannot be created (read-only media, a full disk) and
           with no -wal content: the file holds every record and nobody can be writing it
           there, so read it as immutable */
        sqlite3_close_v2(d->h);
        d->h = NULL;
        rc = open_immutable(path, &d->h);
    }
    if (rc != SQLITE_OK)
        return map(rc);
    sqlite3_extended_result_codes(d->h, 0);
    /* the search index's tokenizer, before anything reads or writes model_fts */
    if ((rc = ckpt_db_sqlite_words_register(d->h)) != SQLITE_OK)
        return map(rc);
    const char *bt = getenv("CKPTDB_BUSY_TIMEOUT_MS");
    sqlite3_busy_timeout(d->h, bt && *bt ? atoi(bt) : 5000);
    /* WAL: readers never block the writer (a list while a scan runs); synchronous=NORMAL is
       durable across process kills (only a power loss can drop the last commits) */
    if (!readonly && (rc = sq_exec(&d->base, "PRAGMA journal_mode = WAL")))
        return rc;
    /* mmap: reading thousands of records costs memory copies, not a pread per page; the whole
       file (up to SQLite's 2 GB cap): a 10,000-model catalog with lineage fingerprints is ~1 GB,
       and pages beyond the window each cost a fresh page-cache buffer (page faults: a lineage
       query over it took twice the CPU with a 256 MB window) */
    return sq_exec(&d->base, "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;"
                             " PRAGMA mmap_size = 2147418112; PRAGMA cache_size = -32768");
}
