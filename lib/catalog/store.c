/* Opening and closing the catalog database, and the small SQL helpers every catalog file uses
 * (errors that say what went wrong in words a user can act on, transactions, text columns).
 * Not for the schema (schema.c) or for any query of models (model.c, query.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "catalog/internal.h"
#include "ckptdb/buf.h"

int ckpt_cat_migrate(struct ckpt_catalog *c, int v, struct ckpt_error *err);

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
    const char *msg = c && c->db ? c->db->ops->errmsg(c->db) : "out of memory";
    if (c)
        c->last_db_rc = rc;
    int sqlite_file = c && c->path && !ckpt_db_is_pg_url(c->path);
    const char *ro = sqlite_file && !c->readonly ? not_writable(c->path) : NULL;
    if (ro && (rc == CKPT_DB_ECANTOPEN || rc == CKPT_DB_EREADONLY || rc == CKPT_DB_EIO))
        return ckpt_error_setf(err, CKPT_E_IO, name,
                               "catalog is read-only here (%s, while %s): nothing was changed; "
                               "commands that only read it still work",
                               ro, what);
    if (sqlite_file && (rc == CKPT_DB_EIO || rc == CKPT_DB_ECANTOPEN) && disk_full(c->path))
        rc = CKPT_DB_EFULL;
    switch (rc) {
    case CKPT_DB_EBUSY:
        return ckpt_error_setf(err, CKPT_E_IO, name,
                               "database is locked by another process (%s); try again when it "
                               "has finished",
                               what);
    case CKPT_DB_EREADONLY:
        return ckpt_error_setf(err, CKPT_E_IO, name,
                               c && c->db && c->db->kind == CKPT_DB_PG
                                   ? "database is read-only (%s): check the user's privileges"
                                   : "database is read-only (%s): check the file's and its "
                                     "folder's permissions",
                               what);
    case CKPT_DB_EFULL:
        return ckpt_error_setf(err, CKPT_E_IO, name,
                               "disk full while %s; nothing of this change was recorded", what);
    case CKPT_DB_ECANTOPEN:
        return ckpt_error_setf(err, CKPT_E_IO, name, "cannot open the database (%s)", msg);
    case CKPT_DB_ECORRUPT:
        return ckpt_error_setf(err, CKPT_E_FORMAT, name, "not a valid catalog database (%s)", msg);
    case CKPT_DB_EIO:
        return ckpt_error_setf(err, CKPT_E_IO, name, "I/O error while %s (%s)", what, msg);
    case CKPT_DB_ECONN:
        return ckpt_error_setf(err, CKPT_E_IO, name,
                               "connection to the database lost while %s (%s); nothing of the "
                               "unfinished change was recorded",
                               what, msg);
    case CKPT_DB_ERETRY:
        return ckpt_error_setf(err, CKPT_E_IO, name,
                               "%s conflicted with another change too many times (%s); try again",
                               what, msg);
    default:
        return ckpt_error_setf(err, CKPT_E_IO, name, "%s: %s", what, msg);
    }
}

int ckpt_cat_exec(struct ckpt_catalog *c, const char *sql, struct ckpt_error *err)
{
    int rc = ckpt_db_exec(c->db, sql);
    return rc == CKPT_DB_OK ? CKPT_OK : ckpt_cat_sqlerr(c, rc, "writing", err);
}

int ckpt_cat_prepare(struct ckpt_catalog *c, const char *sql, struct ckpt_st **st,
                     struct ckpt_error *err)
{
    int rc = ckpt_db_prepare(c->db, sql, st);
    return rc == CKPT_DB_OK ? CKPT_OK : ckpt_cat_sqlerr(c, rc, "preparing a query", err);
}

int ckpt_cat_begin(struct ckpt_catalog *c, struct ckpt_error *err)
{
    c->last_db_rc = 0;
    int rc = ckpt_db_exec(c->db, ckpt_db_sql(c->db, CKPT_SQL_BEGIN_WRITE));
    return rc == CKPT_DB_OK ? CKPT_OK : ckpt_cat_sqlerr(c, rc, "starting a change", err);
}

int ckpt_cat_commit(struct ckpt_catalog *c, struct ckpt_error *err)
{
    int rc = ckpt_db_exec(c->db, "COMMIT");
    return rc == CKPT_DB_OK ? CKPT_OK : ckpt_cat_sqlerr(c, rc, "committing", err);
}

int ckpt_catalog_read_begin(struct ckpt_catalog *c, struct ckpt_error *err)
{
    int rc = ckpt_db_exec(c->db, ckpt_db_sql(c->db, CKPT_SQL_BEGIN_READ));
    return rc == CKPT_DB_OK ? CKPT_OK : ckpt_cat_sqlerr(c, rc, "starting a read", err);
}

void ckpt_catalog_read_end(struct ckpt_catalog *c)
{
    if (c->db->ops->in_txn(c->db))
        ckpt_db_exec(c->db, "COMMIT");
}

void ckpt_cat_rollback(struct ckpt_catalog *c)
{
    if (c->db->ops->in_txn(c->db))
        ckpt_db_exec(c->db, "ROLLBACK");
}

int ckpt_cat_again(struct ckpt_catalog *c, int rc, int *attempt)
{
    if (!rc || c->last_db_rc != CKPT_DB_ERETRY || *attempt >= 8)
        return 0;
    ckpt_cat_rollback(c);
    (*attempt)++;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    long ms = (2L << *attempt) + (long)((unsigned long)ts.tv_nsec % (4UL << *attempt));
    struct timespec nap = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&nap, NULL);
    return 1;
}

int ckpt_cat_reserve_model_ids(struct ckpt_catalog *c, size_t n, struct ckpt_error *err)
{
    const char *sql = ckpt_db_sql(c->db, CKPT_SQL_NEW_IDS);
    size_t cap = sizeof c->new_ids / sizeof c->new_ids[0];
    if (!sql || c->n_new_ids >= n || c->n_new_ids >= cap)
        return CKPT_OK;
    size_t want = (n < cap ? n : cap) - c->n_new_ids;
    struct ckpt_st *q;
    int rc = ckpt_cat_prepare(c, sql, &q, err), s = CKPT_DB_DONE;
    if (rc)
        return rc;
    ckpt_st_bind_i64(q, 1, (int64_t)want);
    /* kept largest first: new models take them from the end, smallest first */
    int64_t got[sizeof c->new_ids / sizeof c->new_ids[0]];
    size_t ng = 0;
    while (ng < want && (s = ckpt_st_step(q)) == CKPT_DB_ROW)
        got[ng++] = ckpt_st_i64(q, 0);
    ckpt_st_finalize(q);
    if (s != CKPT_DB_ROW && s != CKPT_DB_DONE)
        return ckpt_cat_sqlerr(c, s, "adding models", err);
    memmove(c->new_ids + ng, c->new_ids, c->n_new_ids * sizeof *c->new_ids);
    for (size_t i = 0; i < ng; i++)
        c->new_ids[i] = got[ng - 1 - i];
    c->n_new_ids += ng;
    return CKPT_OK;
}

int64_t ckpt_cat_new_model_id(struct ckpt_catalog *c)
{
    return c->n_new_ids ? c->new_ids[--c->n_new_ids] : 0;
}

char *ckpt_cat_coldup(struct ckpt_st *st, int col)
{
    const char *t = ckpt_st_text(st, col);
    return t ? strdup(t) : NULL;
}

int ckpt_catalog_open(struct ckpt_catalog **out, const char *path, unsigned flags,
                      struct ckpt_error *err)
{
    *out = NULL;
    struct ckpt_catalog *c = calloc(1, sizeof *c);
    int pg = ckpt_db_is_pg_url(path);
    if (!c || !(c->path = pg ? ckpt_db_mask_url(path) : strdup(path))) {
        free(c);
        return ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
    }
    c->readonly = (flags & CKPT_CATALOG_READONLY) != 0;
    int rc;
    if (pg) {
        int src = ckpt_db_pg_open(path, c->readonly, &c->db);
        if (src != CKPT_DB_OK) {
            rc = ckpt_cat_sqlerr(c, src, "connecting", err);
            goto fail;
        }
        int v = ckpt_catalog_schema_version(c);
        if (c->readonly && v == 0) {
            rc = ckpt_error_setf(err, CKPT_E_NOTFOUND, c->path,
                                 "no catalog here yet (run 'ckptdb scan FOLDER' first)");
            goto fail;
        }
        if (c->readonly && v > 0 && v < ckpt_catalog_schema_current()) {
            /* an older catalog opened by a reading command (a list right after an upgrade of
               ckptdb): upgrade it through a read-write connection first, as for SQLite (a
               role that may not change the schema gets the server's refusal) */
            struct ckpt_catalog *w;
            if ((rc = ckpt_catalog_open(&w, path, flags & ~(unsigned)CKPT_CATALOG_READONLY, err)))
                goto fail;
            ckpt_catalog_close(w);
            v = ckpt_catalog_schema_version(c);
        }
        if ((rc = ckpt_cat_migrate(c, v, err)))
            goto fail;
        *out = c;
        return CKPT_OK;
    }
    if (c->readonly) {
        if (access(path, F_OK) != 0) {
            rc = ckpt_error_setf(err, CKPT_E_NOTFOUND, path,
                                 "no catalog here yet (run 'ckptdb scan FOLDER' first)");
            goto fail;
        }
    } else if ((rc = make_parent(path, err))) {
        goto fail;
    }
    int src = ckpt_db_sqlite_open(path, c->readonly, &c->db);
    if (src != CKPT_DB_OK) {
        rc = ckpt_cat_sqlerr(c, src, "opening", err);
        goto fail;
    }
    if (c->readonly && ckpt_catalog_schema_version(c) >= 0 &&
        ckpt_catalog_schema_version(c) < ckpt_catalog_schema_current() && access(path, W_OK) == 0) {
        /* an older catalog opened by a reading command (a list right after an upgrade):
           upgrade it through a read-write connection first, then read as asked */
        struct ckpt_catalog *w;
        if ((rc = ckpt_catalog_open(&w, path, flags & ~(unsigned)CKPT_CATALOG_READONLY, err)))
            goto fail;
        ckpt_catalog_close(w);
    }
    if ((rc = ckpt_cat_migrate(c, ckpt_catalog_schema_version(c), err)))
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
    ckpt_st_finalize(c->st_model);
    for (size_t i = 0; i < sizeof c->st_one / sizeof c->st_one[0]; i++)
        ckpt_st_finalize(c->st_one[i]);
    for (size_t i = 0; i < sizeof c->st_batch / sizeof c->st_batch[0]; i++)
        ckpt_st_finalize(c->st_batch[i]);
    for (size_t i = 0; i < sizeof c->cache_st / sizeof c->cache_st[0]; i++)
        ckpt_st_finalize(c->cache_st[i]);
    if (c->db)
        c->db->ops->close(c->db);
    free(c->path);
    free(c);
}

int ckpt_catalog_compact(struct ckpt_catalog *c, struct ckpt_error *err)
{
    if (c->readonly)
        return ckpt_error_setf(err, CKPT_E_ARG, c->path, "catalog opened read-only");
    int rc = ckpt_db_exec(c->db, "VACUUM");
    return rc == CKPT_DB_OK ? CKPT_OK : ckpt_cat_sqlerr(c, rc, "compacting", err);
}

int ckpt_catalog_integrity(struct ckpt_catalog *c, struct ckpt_error *err)
{
    char msg[512] = "";
    int rc = c->db->ops->integrity(c->db, msg, sizeof msg);
    if (rc == 0)
        return CKPT_OK;
    if (rc == 1)
        return ckpt_error_setf(err, CKPT_E_FORMAT, c->path, "integrity check: %s", msg);
    return ckpt_cat_sqlerr(c, rc, "checking integrity", err);
}

int ckpt_cat_cached(struct ckpt_catalog *c, const char *sql, struct ckpt_st **st,
                    struct ckpt_error *err)
{
    size_t n = sizeof c->cache_st / sizeof c->cache_st[0], i = 0;
    while (i < n && c->cache_sql[i] && c->cache_sql[i] != sql)
        i++;
    if (i == n)
        return ckpt_error_set(err, CKPT_E_LIMIT, "%s: more than %zu cached statements", c->path, n);
    if (!c->cache_sql[i]) {
        int rc = ckpt_cat_prepare(c, sql, &c->cache_st[i], err);
        if (rc)
            return rc;
        c->cache_sql[i] = sql;
    }
    ckpt_st_reset(c->cache_st[i]);
    *st = c->cache_st[i];
    return CKPT_OK;
}

int ckpt_cat_fts_refresh(struct ckpt_catalog *c, int64_t model_id, struct ckpt_error *err)
{
    return ckpt_cat_fts_refresh_new(c, model_id, 0, err);
}

int ckpt_cat_fts_refresh_new(struct ckpt_catalog *c, int64_t model_id, int created,
                             struct ckpt_error *err)
{
    static const char *const sql[] = {
        "DELETE FROM model_fts WHERE rowid = ?1",
        CKPT_FTS_FILL " WHERE m.id = ?1",
    };
    for (size_t i = created ? 1 : 0; i < 2; i++) {
        struct ckpt_st *st;
        int rc = ckpt_cat_cached(c, sql[i], &st, err);
        if (rc)
            return rc;
        ckpt_st_bind_i64(st, 1, model_id);
        int s = ckpt_st_run(st); /* pipelined on PostgreSQL inside a transaction */
        ckpt_st_reset(st);
        if (s != CKPT_DB_DONE)
            return ckpt_cat_sqlerr(c, s, "updating the search index", err);
    }
    return CKPT_OK;
}

int ckpt_cat_fts_rebuild(struct ckpt_catalog *c, struct ckpt_error *err)
{
    const char *bulk = ckpt_db_sql(c->db, CKPT_SQL_FTS_REBUILD);
    if (bulk)
        return ckpt_cat_exec(c, bulk, err);
    return ckpt_cat_exec(c, "DELETE FROM model_fts;\n" CKPT_FTS_FILL, err);
}

char *ckpt_catalog_display_name(const char *path)
{
    return ckpt_db_is_pg_url(path) ? ckpt_db_mask_url(path) : strdup(path ? path : "");
}

int ckpt_catalog_is_remote(const char *path)
{
    return ckpt_db_is_pg_url(path);
}

static uint64_t mix(uint64_t h, uint64_t v)
{
    return h ^ (v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2));
}

int ckpt_catalog_changes(struct ckpt_catalog *c, uint64_t *n, struct ckpt_error *err)
{
    uint64_t h = 1469598103934665603ull;
    if (ckpt_cat_is_pg(c)) {
        struct ckpt_st *q;
        int rc = ckpt_cat_prepare(c, "SELECT last_value FROM ckpt_changes", &q, err);
        if (rc)
            return rc;
        int s = ckpt_st_step(q);
        if (s == CKPT_DB_ROW)
            h = mix(h, (uint64_t)ckpt_st_i64(q, 0));
        ckpt_st_finalize(q);
        if (s != CKPT_DB_ROW)
            return ckpt_cat_sqlerr(c, s, "reading the change counter", err);
        *n = h;
        return CKPT_OK;
    }
    static const char *const suffix[] = {"", "-wal"};
    char p[4200];
    for (size_t i = 0; i < 2; i++) {
        struct stat st;
        snprintf(p, sizeof p, "%s%s", c->path, suffix[i]);
        if (stat(p, &st) == 0) {
            h = mix(h, (uint64_t)st.st_size);
            h = mix(h, (uint64_t)st.st_mtim.tv_sec * 1000000000ull + (uint64_t)st.st_mtim.tv_nsec);
            h = mix(h, (uint64_t)st.st_ino);
        }
    }
    *n = h;
    return CKPT_OK;
}
