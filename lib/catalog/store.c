/* Opening and closing the catalog database, and the small SQL helpers every catalog file uses
 * (errors that say what went wrong in words a user can act on, transactions, text columns).
 * Not for the schema (schema.c) or for any query of models (model.c, query.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "catalog/internal.h"
#include "ckptdb/buf.h"

int ckpt_cat_migrate(struct ckpt_catalog *c, struct ckpt_error *err);

int ckpt_catalog_default_path(const char *explicit_path, char *out, size_t outlen,
                              struct ckpt_error *err)
{
    const char *p = explicit_path && *explicit_path ? explicit_path : getenv("CKPTDB_DB");
    int n;
    if (p && *p) {
        n = snprintf(out, outlen, "%s", p);
    } else {
        const char *xdg = getenv("XDG_DATA_HOME");
        const char *home = getenv("HOME");
        if (xdg && *xdg)
            n = snprintf(out, outlen, "%s/ckptdb/catalog.sqlite", xdg);
        else if (home && *home)
            n = snprintf(out, outlen, "%s/.local/share/ckptdb/catalog.sqlite", home);
        else
            return ckpt_error_set(err, CKPT_E_ARG,
                                  "no catalog path: set --db, $CKPTDB_DB or $HOME");
    }
    if (n < 0 || (size_t)n >= outlen)
        return ckpt_error_set(err, CKPT_E_ARG, "catalog path is too long");
    return CKPT_OK;
}

const char *ckpt_catalog_host(void)
{
    static char host[256];
    const char *h = getenv("CKPTDB_HOST");
    if (h && *h)
        return h;
    if (!host[0] && gethostname(host, sizeof host - 1) != 0)
        snprintf(host, sizeof host, "localhost");
    return host;
}

/* mkdir -p of the folder that will hold path */
static int make_parent(const char *path, struct ckpt_error *err)
{
    char *d = strdup(path);
    if (!d)
        return ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
    char *slash = strrchr(d, '/');
    if (!slash || slash == d) {
        free(d);
        return CKPT_OK;
    }
    *slash = 0;
    for (char *p = d + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(d, 0777) != 0 && errno != EEXIST) {
            int rc =
                ckpt_error_setf(err, CKPT_E_IO, d, "cannot create folder: %s", strerror(errno));
            free(d);
            return rc;
        }
        *p = '/';
    }
    if (mkdir(d, 0777) != 0 && errno != EEXIST) {
        int rc = ckpt_error_setf(err, CKPT_E_IO, d, "cannot create folder: %s", strerror(errno));
        free(d);
        return rc;
    }
    free(d);
    return CKPT_OK;
}

/* why the catalog cannot be written, when the file or its folder is not writable (a read-only
   file system, permissions): SQLite itself then only says it cannot open the -wal/-shm files */
static const char *not_writable(const char *path)
{
    if (access(path, W_OK) != 0 && errno != ENOENT)
        return strerror(errno);
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else
        snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    return access(dir, W_OK) != 0 ? strerror(errno) : NULL;
}

/* 1 when the catalog's file system has no room left (SQLite then fails to create its -shm file
   before any write, with an I/O error that does not say why) */
static int disk_full(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    snprintf(dir, sizeof dir, "%.*s",
             !slash          ? 1
             : slash == path ? 1
                             : (int)(slash - path),
             !slash ? "." : path);
    struct statvfs vs;
    return statvfs(dir, &vs) == 0 && vs.f_bavail == 0;
}

int ckpt_cat_sqlerr(struct ckpt_catalog *c, int rc, const char *what, struct ckpt_error *err)
{
    const char *name = c && c->path ? c->path : "catalog";
    const char *msg = c && c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc);
    const char *ro = c && c->path && !c->readonly ? not_writable(c->path) : NULL;
    if (ro && ((rc & 0xff) == SQLITE_CANTOPEN || (rc & 0xff) == SQLITE_READONLY ||
               (rc & 0xff) == SQLITE_IOERR))
        return ckpt_error_setf(err, CKPT_E_IO, name,
                               "catalog is read-only here (%s, while %s): nothing was changed; "
                               "commands that only read it still work",
                               ro, what);
    if (c && c->path && ((rc & 0xff) == SQLITE_IOERR || (rc & 0xff) == SQLITE_CANTOPEN) &&
        disk_full(c->path))
        rc = SQLITE_FULL;
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return ckpt_error_setf(err, CKPT_E_IO, name,
                               "database is locked by another process (%s); try again when it "
                               "has finished",
                               what);
    case SQLITE_READONLY:
        return ckpt_error_setf(err, CKPT_E_IO, name,
                               "database is read-only (%s): check the file's and its folder's "
                               "permissions",
                               what);
    case SQLITE_FULL:
        return ckpt_error_setf(err, CKPT_E_IO, name,
                               "disk full while %s; nothing of this change was recorded", what);
    case SQLITE_CANTOPEN:
        return ckpt_error_setf(err, CKPT_E_IO, name, "cannot open the database (%s)", msg);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return ckpt_error_setf(err, CKPT_E_FORMAT, name, "not a valid catalog database (%s)", msg);
    case SQLITE_IOERR:
        return ckpt_error_setf(err, CKPT_E_IO, name, "I/O error while %s (%s)", what, msg);
    default:
        return ckpt_error_setf(err, CKPT_E_IO, name, "%s: %s", what, msg);
    }
}

int ckpt_cat_exec(struct ckpt_catalog *c, const char *sql, struct ckpt_error *err)
{
    int rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? CKPT_OK : ckpt_cat_sqlerr(c, rc, "writing", err);
}

int ckpt_cat_prepare(struct ckpt_catalog *c, const char *sql, sqlite3_stmt **st,
                     struct ckpt_error *err)
{
    int rc = sqlite3_prepare_v2(c->db, sql, -1, st, NULL);
    return rc == SQLITE_OK ? CKPT_OK : ckpt_cat_sqlerr(c, rc, "preparing a query", err);
}

int ckpt_cat_begin(struct ckpt_catalog *c, struct ckpt_error *err)
{
    /* IMMEDIATE: take the write lock now (waiting up to the busy timeout) rather than failing
       halfway through the change */
    int rc = sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    return rc == SQLITE_OK ? CKPT_OK : ckpt_cat_sqlerr(c, rc, "starting a change", err);
}

int ckpt_cat_commit(struct ckpt_catalog *c, struct ckpt_error *err)
{
    int rc = sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL);
    return rc == SQLITE_OK ? CKPT_OK : ckpt_cat_sqlerr(c, rc, "committing", err);
}

int ckpt_catalog_read_begin(struct ckpt_catalog *c, struct ckpt_error *err)
{
    /* a deferred transaction: one read lock and one snapshot for many statements, instead of
       a lock taken and dropped around each (measured: a fifth of a 440-row list) */
    int rc = sqlite3_exec(c->db, "BEGIN", NULL, NULL, NULL);
    return rc == SQLITE_OK ? CKPT_OK : ckpt_cat_sqlerr(c, rc, "starting a read", err);
}

void ckpt_catalog_read_end(struct ckpt_catalog *c)
{
    if (!sqlite3_get_autocommit(c->db))
        sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL);
}

void ckpt_cat_rollback(struct ckpt_catalog *c)
{
    if (!sqlite3_get_autocommit(c->db))
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
}

char *ckpt_cat_coldup(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? strdup((const char *)t) : NULL;
}

void ckpt_cat_bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

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

int ckpt_catalog_open(struct ckpt_catalog **out, const char *path, unsigned flags,
                      struct ckpt_error *err)
{
    *out = NULL;
    struct ckpt_catalog *c = calloc(1, sizeof *c);
    if (!c || !(c->path = strdup(path))) {
        free(c);
        return ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
    }
    c->readonly = (flags & CKPT_CATALOG_READONLY) != 0;
    int rc;
    if (c->readonly) {
        if (access(path, F_OK) != 0) {
            rc = ckpt_error_setf(err, CKPT_E_NOTFOUND, path,
                                 "no catalog here yet (run 'ckptdb scan FOLDER' first)");
            goto fail;
        }
    } else if ((rc = make_parent(path, err))) {
        goto fail;
    }
    int sflags = c->readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    int src = sqlite3_open_v2(path, &c->db, sflags | SQLITE_OPEN_NOMUTEX, NULL);
    if (src == SQLITE_OK && c->readonly && !wal_readable(c->db) && !wal_pending(path)) {
        /* a WAL catalog whose -shm file cannot be created (read-only media, a full disk) and
           with no -wal content: the file holds every record and nobody can be writing it
           there, so read it as immutable */
        sqlite3_close_v2(c->db);
        c->db = NULL;
        src = open_immutable(path, &c->db);
    }
    if (src != SQLITE_OK) {
        rc = ckpt_cat_sqlerr(c, src, "opening", err);
        goto fail;
    }
    sqlite3_extended_result_codes(c->db, 0);
    const char *bt = getenv("CKPTDB_BUSY_TIMEOUT_MS");
    sqlite3_busy_timeout(c->db, bt && *bt ? atoi(bt) : 5000);
    /* WAL: readers never block the writer (a list while a scan runs); synchronous=NORMAL is
       durable across process kills (only a power loss can drop the last commits) */
    if (!c->readonly) {
        src = sqlite3_exec(c->db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
        if (src != SQLITE_OK) {
            rc = ckpt_cat_sqlerr(c, src, "opening", err);
            goto fail;
        }
    }
    /* mmap: reading thousands of records costs memory copies, not a pread per page */
    if ((rc = ckpt_cat_exec(c,
                            "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;"
                            " PRAGMA mmap_size = 268435456; PRAGMA cache_size = -32768",
                            err)))
        goto fail;
    if (c->readonly && ckpt_catalog_schema_version(c) >= 0 &&
        ckpt_catalog_schema_version(c) < ckpt_catalog_schema_current() && access(path, W_OK) == 0) {
        /* an older catalog opened by a reading command (a list right after an upgrade):
           upgrade it through a read-write connection first, then read as asked */
        struct ckpt_catalog *w;
        if ((rc = ckpt_catalog_open(&w, path, flags & ~(unsigned)CKPT_CATALOG_READONLY, err)))
            goto fail;
        ckpt_catalog_close(w);
    }
    if ((rc = ckpt_cat_migrate(c, err)))
        goto fail;
    *out = c;
    return CKPT_OK;
fail:
    ckpt_catalog_close(c);
    return rc;
}

void ckpt_catalog_close(struct ckpt_catalog *c)
{
    if (!c)
        return;
    sqlite3_finalize(c->st_model);
    for (size_t i = 0; i < sizeof c->st_one / sizeof c->st_one[0]; i++)
        sqlite3_finalize(c->st_one[i]);
    for (size_t i = 0; i < sizeof c->st_batch / sizeof c->st_batch[0]; i++)
        sqlite3_finalize(c->st_batch[i]);
    for (size_t i = 0; i < sizeof c->cache_st / sizeof c->cache_st[0]; i++)
        sqlite3_finalize(c->cache_st[i]);
    if (c->db)
        sqlite3_close_v2(c->db);
    free(c->path);
    free(c);
}

int ckpt_catalog_compact(struct ckpt_catalog *c, struct ckpt_error *err)
{
    if (c->readonly)
        return ckpt_error_setf(err, CKPT_E_ARG, c->path, "catalog opened read-only");
    int rc = sqlite3_exec(c->db, "VACUUM", NULL, NULL, NULL);
    return rc == SQLITE_OK ? CKPT_OK : ckpt_cat_sqlerr(c, rc, "compacting", err);
}

int ckpt_catalog_integrity(struct ckpt_catalog *c, struct ckpt_error *err)
{
    sqlite3_stmt *st;
    int rc = ckpt_cat_prepare(c, "PRAGMA integrity_check", &st, err);
    if (rc)
        return rc;
    int s = sqlite3_step(st);
    const char *t = s == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
    if (t && strcmp(t, "ok") == 0)
        rc = CKPT_OK;
    else if (t)
        rc = ckpt_error_setf(err, CKPT_E_FORMAT, c->path, "integrity check: %s", t);
    else
        rc = ckpt_cat_sqlerr(c, s, "checking integrity", err);
    sqlite3_finalize(st);
    return rc;
}

int ckpt_cat_cached(struct ckpt_catalog *c, const char *sql, sqlite3_stmt **st,
                    struct ckpt_error *err)
{
    size_t n = sizeof c->cache_st / sizeof c->cache_st[0], i = 0;
    while (i < n && c->cache_sql[i] && c->cache_sql[i] != sql)
        i++;
    if (i == n)
        return ckpt_error_set(err, CKPT_E_LIMIT, "%s: more than %zu cached statements", c->path, n);
    if (!c->cache_sql[i]) {
        int rc =
            sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &c->cache_st[i], NULL);
        if (rc != SQLITE_OK)
            return ckpt_cat_sqlerr(c, rc, "preparing a query", err);
        c->cache_sql[i] = sql;
    }
    sqlite3_reset(c->cache_st[i]);
    sqlite3_clear_bindings(c->cache_st[i]);
    *st = c->cache_st[i];
    return CKPT_OK;
}

int ckpt_cat_fts_refresh(struct ckpt_catalog *c, int64_t model_id, struct ckpt_error *err)
{
    static const char *const sql[] = {
        "DELETE FROM model_fts WHERE rowid = ?1",
        "INSERT INTO model_fts(rowid, name, note, tags, trigger_words, description, metadata)\n"
        "  SELECT m.id,\n"
        "    m.name || ' ' || coalesce((SELECT group_concat(path, ' ') FROM files f\n"
        "                              WHERE f.model_id = m.id), ''),\n"
        "    m.note, (SELECT group_concat(tag, ' ') FROM tags t WHERE t.model_id = m.id),\n"
        "    m.trigger_words, m.description,\n"
        "    (SELECT group_concat(coalesce(metadata, '') || ' ' || coalesce(site_tags, ''), ' ')\n"
        "       FROM files f WHERE f.model_id = m.id)\n"
        "  FROM models m WHERE m.id = ?1",
    };
    for (size_t i = 0; i < 2; i++) {
        sqlite3_stmt *st;
        int rc = ckpt_cat_cached(c, sql[i], &st, err);
        if (rc)
            return rc;
        sqlite3_bind_int64(st, 1, model_id);
        int s = sqlite3_step(st);
        sqlite3_reset(st);
        if (s != SQLITE_DONE)
            return ckpt_cat_sqlerr(c, s, "updating the search index", err);
    }
    return CKPT_OK;
}
