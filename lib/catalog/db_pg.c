/* The PostgreSQL backend of the catalog's database layer (db.h), through libpq: placeholders
 * rewritten from "?"/"?N" to $N, values sent as text with their types (int8, float8, text),
 * results read from the whole PGresult, SQLSTATEs mapped onto CKPT_DB_* (40001/40P01 are
 * CKPT_DB_ERETRY: the caller runs its transaction again), the PostgreSQL text of the
 * statements that differ between backends, the pipeline that sends a write transaction's
 * statements without waiting for each answer (with server-side prepared statements), and
 * COPY FROM STDIN for db copy. Messages never carry the connection URL's password
 * (ckpt_db_mask_url for the URL shown; libpq's own messages, which may quote the URL, are
 * scrubbed of it); a connection that sslmode wants encrypted and is not is refused; libpq's
 * notices are dropped, not printed. Not for the schema (schema.c) or any catalog query. */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/db.h"
#include "catalog/pq_load.h"

#define OID_INT8 20
#define OID_TEXT 25
#define OID_BYTEA 17
#define OID_FLOAT8 701

/* A statement sent in libpq's pipeline mode whose result has not been read yet (owner: the
   statement that reads it, or NULL when nobody will), or the sync that ends a segment. */
struct pend {
    struct pg_st *owner;
    int sync;
    int prep;   /* 1 + the slot of a statement being prepared on the server (see below) */
    int commit; /* a COMMIT: its answer tells whether the transaction was rolled back */
};

/* Statements sent down the pipeline are prepared on the server once per connection (by text
   and parameter types) and then only bound and executed: a scan sends the same few statements
   for every file, and parsing and planning them each time was half the server's work. */
#define N_PREP 48
struct prep {
    char *sql; /* NULL: free slot */
    unsigned *types;
    int nparams;
};

struct pg_db {
    struct ckpt_db base;
    PGconn *conn;
    char msg[512];
    /* the pipeline (only inside a transaction): statements sent, results not read yet */
    int piped;  /* libpq is in pipeline mode */
    int synced; /* a sync follows the last statement sent */
    int perr;   /* the first failure read from the pipeline (CKPT_DB_E*), 0 if none */
    int rolled; /* a COMMIT read from the pipeline answered ROLLBACK */
    struct pend *q;
    size_t qhead, qn, qcap; /* entries qhead .. qn-1 are pending */
    struct prep prep[N_PREP];
    /* the session's settings, sent with the first statement (the schema version's) rather
       than in a round trip of their own; NULL once sent */
    const char *setup;
    /* the URL's passwords (the user part's, a password= parameter's) as written and
       percent-decoded: scrubbed from every message (libpq quotes a malformed URL or token
       whole) */
    char *secret[4];
};

struct pg_st {
    struct ckpt_st base;
    char *sql;
    int nparams;
    char **vals;
    unsigned *types;
    PGresult *res;
    int executed, row, nrows;
    int sent;            /* its result is on the way through the pipeline */
    int err;             /* the failure the pipeline reported for it, returned by the next step */
    unsigned char *blob; /* the last column read by pg_blob */
};

#define PGD(db) ((struct pg_db *)(db))
#define PGS(st) ((struct pg_st *)(st))

int ckpt_db_is_pg_url(const char *path)
{
    return path &&
           (strncmp(path, "postgresql://", 13) == 0 || strncmp(path, "postgres://", 11) == 0);
}

char *ckpt_db_mask_url(const char *url)
{
    /* "***" can be longer than what it replaces (a password of 1 or 2 characters, an empty
       password= parameter): room for the text twice over */
    const char *in = url ? url : "";
    char *out = malloc(strlen(in) * 2 + 8);
    if (!out)
        return NULL;
    strcpy(out, in);
    /* scheme://user:password@host...: the password is what follows the first ':' of the
       authority when an '@' ends it */
    char *auth = strstr(out, "://");
    if (auth) {
        auth += 3;
        size_t alen = strcspn(auth, "/?#");
        char *at = memrchr(auth, '@', alen); /* a raw "@" in a password: the last one ends it */
        char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
        if (colon) {
            memmove(colon + 4, at, strlen(at) + 1);
            memcpy(colon + 1, "***", 3);
        }
    }
    /* ...?password=secret (a query parameter) */
    for (char *p = strstr(out, "password="); p; p = strstr(p + 1, "password=")) {
        if (p != out && p[-1] != '?' && p[-1] != '&')
            continue;
        char *v = p + 9;
        size_t vlen = strcspn(v, "&#");
        memmove(v + 3, v + vlen, strlen(v + vlen) + 1);
        memcpy(v, "***", 3);
    }
    return out;
}

static int hexval(char ch)
{
    return ch >= '0' && ch <= '9'   ? ch - '0'
           : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
           : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                    : -1;
}

/* Keep the password p[0..n) in d->secret as written and, when it holds %XX escapes, decoded. */
static void note_secret(struct pg_db *d, const char *p, size_t n)
{
    int k = 0;
    while (k < 4 && d->secret[k])
        k++;
    if (!n || k > 2 || !(d->secret[k] = strndup(p, n)))
        return;
    char *v = malloc(n + 1);
    size_t o = 0;
    int decoded = 0;
    for (size_t i = 0; v && i < n; i++) {
        if (p[i] == '%' && i + 2 < n && hexval(p[i + 1]) >= 0 && hexval(p[i + 2]) >= 0) {
            v[o++] = (char)(hexval(p[i + 1]) * 16 + hexval(p[i + 2]));
            i += 2;
            decoded = 1;
        } else {
            v[o++] = p[i];
        }
    }
    if (v)
        v[o] = 0;
    if (v && decoded && strlen(v) == o) { /* (libpq refuses a %00 anyway) */
        d->secret[k + 1] = v;
    } else {
        free(v);
    }
}

static void find_secrets(struct pg_db *d, const char *url)
{
    const char *auth = strstr(url, "://");
    if (auth) {
        auth += 3;
        size_t alen = strcspn(auth, "/?#");
        const char *at = memrchr(auth, '@', alen);
        const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
        if (colon)
            note_secret(d, colon + 1, (size_t)(at - colon - 1));
    }
    for (const char *p = strstr(url, "password="); p; p = strstr(p + 1, "password="))
        if (p != url && (p[-1] == '?' || p[-1] == '&'))
            note_secret(d, p + 9, strcspn(p + 9, "&#"));
}

/* Replace every occurrence of a secret in d->msg by "***". */
static void scrub(struct pg_db *d)
{
    for (int k = 0; k < 4 && d->secret[k]; k++) {
        size_t n = strlen(d->secret[k]);
        if (!n)
            continue;
        char out[sizeof d->msg];
        size_t o = 0;
        for (const char *m = d->msg; *m && o + 1 < sizeof out;) {
            if (strncmp(m, d->secret[k], n) == 0) {
                size_t r = o + 3 < sizeof out ? 3 : sizeof out - 1 - o;
                memcpy(out + o, "***", r);
                o += r;
                m += n;
            } else {
                out[o++] = *m++;
            }
        }
        out[o] = 0;
        memcpy(d->msg, out, o + 1);
    }
}

static int map_state(const char *state)
{
    if (!state)
        return CKPT_DB_ECONN;
    if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0)
        return CKPT_DB_ERETRY;
    if (strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0 ||
        strcmp(state, "57P02") == 0 || strcmp(state, "57P03") == 0)
        return CKPT_DB_ECONN;
    if (strcmp(state, "25006") == 0 || strcmp(state, "42501") == 0)
        return CKPT_DB_EREADONLY;
    if (strcmp(state, "53100") == 0)
        return CKPT_DB_EFULL;
    if (strncmp(state, "23", 2) == 0)
        return CKPT_DB_ECONSTRAINT;
    if (strncmp(state, "58", 2) == 0)
        return CKPT_DB_EIO;
    return CKPT_DB_EOTHER;
}

/* Remember the failure's words (first line, without "ERROR:  ") and map it. */
static int fail(struct pg_db *d, PGresult *res)
{
    const char *m = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (!m)
        m = PQerrorMessage(d->conn);
    if (!m || !*m)
        m = "no answer from the server";
    size_t n = strcspn(m, "\n");
    if (n >= sizeof d->msg)
        n = sizeof d->msg - 1;
    memcpy(d->msg, m, n);
    d->msg[n] = 0;
    scrub(d);
    if (!state && PQstatus(d->conn) == CONNECTION_OK && res)
        return CKPT_DB_EOTHER;
    return map_state(state);
}

/* ---- the pipeline ------------------------------------------------------------------------
 * Inside a write transaction, statements whose rows are not needed at once (ckpt_st_run,
 * ckpt_st_start) are sent without waiting for their answers; the next statement that needs
 * its answer (a step) sends a sync and reads every answer before its own in one round trip.
 * After a failure the server skips the rest of the segment (PGRES_PIPELINE_ABORTED) and the
 * transaction is aborted: the first failure is kept (perr) and returned by the next step or
 * exec, so the caller rolls back as if the failing statement had been run on its own. */

static int q_push(struct pg_db *d, struct pg_st *owner, int sync, int prep, int commit)
{
    if (d->qhead == d->qn)
        d->qhead = d->qn = 0;
    if (d->qn == d->qcap) {
        size_t nc = d->qcap ? d->qcap * 2 : 64;
        struct pend *nq = realloc(d->q, nc * sizeof *nq);
        if (!nq)
            return -1;
        d->q = nq;
        d->qcap = nc;
    }
    d->q[d->qn++] = (struct pend){owner, sync, prep, commit};
    return 0;
}

/* forget st as the reader of its pending answer (reset, finalize) */
static void q_detach(struct pg_db *d, struct pg_st *st)
{
    for (size_t i = d->qhead; i < d->qn; i++)
        if (d->q[i].owner == st)
            d->q[i].owner = NULL;
    st->sent = 0;
}

/* the connection is gone: nothing pending will answer */
static void q_broken(struct pg_db *d)
{
    if (!d->perr)
        d->perr = fail(d, NULL);
    for (size_t i = d->qhead; i < d->qn; i++)
        if (d->q[i].owner) {
            d->q[i].owner->sent = 0;
            d->q[i].owner->err = d->perr;
        }
    d->qhead = d->qn = 0;
    d->piped = 0;
}

/* read the answer at the head of the queue */
static void q_read(struct pg_db *d)
{
    struct pend e = d->q[d->qhead++];
    PGresult *r = PQgetResult(d->conn);
    if (!r) {
        q_broken(d);
        return;
    }
    if (e.sync) {
        PQclear(r);
        return;
    }
    for (PGresult *more; (more = PQgetResult(d->conn));)
        PQclear(more); /* a statement has one result; the NULL ends it */
    ExecStatusType s = PQresultStatus(r);
    int ok = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
    if (!ok && s != PGRES_PIPELINE_ABORTED && !d->perr)
        d->perr = fail(d, r);
    if (ok && e.commit && strcmp(PQcmdStatus(r), "ROLLBACK") == 0)
        d->rolled = 1;
    if (e.prep && !ok) {
        /* not prepared after all: the slot is free again */
        struct prep *p = &d->prep[e.prep - 1];
        free(p->sql);
        free(p->types);
        *p = (struct prep){0};
    }
    struct pg_st *st = e.owner;
    if (st) {
        st->sent = 0;
        PQclear(st->res);
        st->res = NULL;
        if (ok) {
            st->res = r;
            st->executed = 1;
            st->row = -1;
            st->nrows = s == PGRES_TUPLES_OK ? PQntuples(r) : 0;
            r = NULL;
        } else {
            st->err = d->perr ? d->perr : CKPT_DB_EOTHER;
        }
    }
    PQclear(r);
    if (!ok && PQstatus(d->conn) == CONNECTION_BAD)
        q_broken(d);
}

static int q_sync(struct pg_db *d)
{
    if (d->synced || d->qhead == d->qn)
        return 0;
    if (PQpipelineSync(d->conn) != 1 || q_push(d, NULL, 1, 0, 0)) {
        q_broken(d);
        return -1;
    }
    d->synced = 1;
    return 0;
}

/* The session's settings, on their own: a connection whose first statement is not the schema
   version's (which carries them). They go before any transaction is begun (a SET inside one
   would be undone by its rollback). */
static int run_setup(struct pg_db *d)
{
    if (!d->setup)
        return CKPT_DB_OK;
    const char *sql = d->setup;
    d->setup = NULL;
    PGresult *r = PQexec(d->conn, sql);
    int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? CKPT_DB_OK : fail(d, r);
    PQclear(r);
    return rc;
}

/* Bring the connection to rest before a statement of its own: the settings if still owed, or
   every pending answer read and pipeline mode left; the first failure among them, if any. */
static int settle(struct pg_db *d)
{
    if (!d->piped)
        return run_setup(d);
    q_sync(d);
    while (d->piped && d->qhead < d->qn)
        q_read(d);
    if (d->piped && PQexitPipelineMode(d->conn) != 1)
        q_broken(d);
    d->piped = 0;
    int rc = d->perr;
    d->perr = 0;
    return rc;
}

/* Into pipeline mode, the settings first if still owed. */
static int enter_pipe(struct pg_db *d)
{
    if (d->piped)
        return CKPT_DB_OK;
    int rc = run_setup(d);
    if (rc)
        return rc;
    if (PQenterPipelineMode(d->conn) != 1)
        return fail(d, NULL);
    d->piped = 1;
    d->perr = 0;
    return CKPT_DB_OK;
}

/* Send st's statement down the pipeline (owner: whether st reads the answer). */
static int q_send(struct pg_db *d, struct pg_st *st, int owner)
{
    int rc = enter_pipe(d);
    if (rc)
        return rc;
    /* prepared on the server already, or to be prepared now in a free slot */
    int slot = -1, fresh = 0;
    for (int i = 0; i < N_PREP && slot < 0; i++) {
        struct prep *p = &d->prep[i];
        if (p->sql && p->nparams == st->nparams && strcmp(p->sql, st->sql) == 0 &&
            (!st->nparams ||
             memcmp(p->types, st->types, (size_t)st->nparams * sizeof *p->types) == 0))
            slot = i;
    }
    for (int i = 0; i < N_PREP && slot < 0; i++) {
        struct prep *p = &d->prep[i];
        if (p->sql)
            continue;
        p->sql = strdup(st->sql);
        p->types = malloc(st->nparams ? (size_t)st->nparams * sizeof *p->types : 1);
        p->nparams = st->nparams;
        if (!p->sql || !p->types) {
            free(p->sql);
            free(p->types);
            *p = (struct prep){0};
            break;
        }
        if (st->nparams)
            memcpy(p->types, st->types, (size_t)st->nparams * sizeof *p->types);
        slot = i;
        fresh = 1;
    }
    char name[24];
    snprintf(name, sizeof name, "ckpt_p%d", slot);
    int sent;
    if (fresh && (PQsendPrepare(d->conn, name, st->sql, st->nparams, st->types) != 1 ||
                  q_push(d, NULL, 0, slot + 1, 0))) {
        q_broken(d);
        return d->perr ? d->perr : CKPT_DB_ECONN;
    }
    if (slot >= 0)
        sent = PQsendQueryPrepared(d->conn, name, st->nparams, (const char *const *)st->vals, NULL,
                                   NULL, 0);
    else
        sent = PQsendQueryParams(d->conn, st->sql, st->nparams, st->types,
                                 (const char *const *)st->vals, NULL, NULL, 0);
    if (sent != 1) {
        q_broken(d);
        return d->perr ? d->perr : CKPT_DB_ECONN;
    }
    if (q_push(d, owner ? st : NULL, 0, 0, 0)) {
        q_broken(d);
        return CKPT_DB_EOTHER;
    }
    d->synced = 0;
    if (owner)
        st->sent = 1;
    return CKPT_DB_OK;
}

/* 1 when statements may go down the pipeline: inside a transaction this connection began */
static int may_pipe(struct pg_db *d)
{
    return d->piped || PQtransactionStatus(d->conn) == PQTRANS_INTRANS;
}

/* BEGIN or COMMIT down the pipeline; nobody reads its answer (a failure is the pipeline's) */
static int q_send_text(struct pg_db *d, const char *sql, int commit)
{
    int rc = enter_pipe(d);
    if (rc)
        return rc;
    if (PQsendQueryParams(d->conn, sql, 0, NULL, NULL, NULL, NULL, 0) != 1 ||
        q_push(d, NULL, 0, 0, commit)) {
        q_broken(d);
        return d->perr ? d->perr : CKPT_DB_ECONN;
    }
    d->synced = 0;
    return CKPT_DB_OK;
}

static int pg_exec(struct ckpt_db *db, const char *sql)
{
    struct pg_db *d = PGD(db);
    /* A transaction's BEGIN goes down the pipeline ahead of its first statement (answered
       with the first one whose rows are needed) and its COMMIT after its last, under the same
       sync: a read of two statements is one round trip instead of four, a scan's batch saves
       two. After a failure the server skips the rest up to the sync, COMMIT included, and the
       transaction waits, failed, for the caller's ROLLBACK. */
    if (strncmp(sql, "BEGIN", 5) == 0 && !d->piped && PQtransactionStatus(d->conn) == PQTRANS_IDLE)
        return q_send_text(d, sql, 0);
    if (strcmp(sql, "COMMIT") == 0) {
        d->rolled = 0;
        int rc = q_send_text(d, sql, 1);
        int pending = settle(d);
        if (!rc)
            rc = pending;
        if (!rc && d->rolled) {
            /* a COMMIT of a transaction a failed statement had aborted: nothing recorded */
            snprintf(d->msg, sizeof d->msg, "the change was rolled back");
            rc = CKPT_DB_EOTHER;
        }
        return rc;
    }
    int pending = settle(d);
    if (pending && strncmp(sql, "ROLLBACK", 8) != 0)
        return pending; /* the transaction failed: a COMMIT would only roll it back */
    PGresult *r = PQexec(d->conn, sql);
    ExecStatusType s = PQresultStatus(r);
    int rc = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK ? CKPT_DB_OK : fail(d, r);
    PQclear(r);
    return rc;
}

/* "?" and "?N" outside quotes become $N ("?" takes the highest number so far + 1, as SQLite
   numbers them); *nparams receives the highest number. */
static char *rewrite(const char *sql, int *nparams, unsigned char *used, size_t nused)
{
    size_t n = strlen(sql);
    char *out = malloc(n * 4 + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    int max = 0;
    char quote = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = sql[i];
        if (quote) {
            if (ch == quote)
                quote = 0;
            out[o++] = ch;
        } else if (ch == '\'' || ch == '"') {
            quote = ch;
            out[o++] = ch;
        } else if (ch == '?') {
            int num = 0;
            size_t k = i + 1;
            while (k < n && sql[k] >= '0' && sql[k] <= '9' && num < 10000)
                num = num * 10 + (sql[k++] - '0');
            if (k == i + 1)
                num = max + 1;
            i = k - 1;
            if (num > max)
                max = num;
            if ((size_t)num < nused)
                used[num] = 1;
            o += (size_t)sprintf(out + o, "$%d", num);
        } else {
            out[o++] = ch;
        }
    }
    out[o] = 0;
    *nparams = max;
    return out;
}

static int pg_prepare(struct ckpt_db *db, const char *sql, struct ckpt_st **out)
{
    *out = NULL;
    struct pg_st *st = calloc(1, sizeof *st);
    if (!st)
        return CKPT_DB_EOTHER;
    st->base.db = db;
    size_t nused = strlen(sql) + 2; /* more than any parameter number the text can hold */
    unsigned char *used = calloc(nused, 1);
    st->sql = used ? rewrite(sql, &st->nparams, used, nused) : NULL;
    if (st->sql && st->nparams) {
        st->vals = calloc((size_t)st->nparams, sizeof *st->vals);
        st->types = calloc((size_t)st->nparams, sizeof *st->types);
    }
    if (!st->sql || (st->nparams && (!st->vals || !st->types))) {
        free(used);
        free(st->sql);
        free(st->vals);
        free(st->types);
        free(st);
        snprintf(PGD(db)->msg, sizeof PGD(db)->msg, "out of memory");
        return CKPT_DB_EOTHER;
    }
    /* a parameter left unbound is NULL, its type inferred by the server where the statement
       uses it; a number the statement skips (?1 and ?3 only) is a NULL text */
    for (int i = 0; i < st->nparams; i++)
        st->types[i] = (size_t)i + 1 < nused && used[i + 1] ? 0 : OID_TEXT;
    free(used);
    *out = &st->base;
    return CKPT_DB_OK;
}

static int pg_step(struct ckpt_st *sst)
{
    struct pg_st *st = PGS(sst);
    struct pg_db *d = PGD(sst->db);
    if (!st->executed && !st->sent && !st->err && d->piped)
        st->err = q_send(d, st, 1);
    if (st->sent && !q_sync(d))
        while (st->sent && d->qhead < d->qn)
            q_read(d);
    if (st->err) {
        int rc = st->err;
        st->err = 0;
        return rc;
    }
    if (!st->executed) {
        int setup_rc = run_setup(d);
        if (setup_rc)
            return setup_rc;
        PQclear(st->res);
        st->res = PQexecParams(d->conn, st->sql, st->nparams, st->types,
                               (const char *const *)st->vals, NULL, NULL, 0);
        ExecStatusType s = PQresultStatus(st->res);
        if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
            int rc = fail(d, st->res);
            PQclear(st->res);
            st->res = NULL;
            return rc;
        }
        st->executed = 1;
        st->row = -1;
        st->nrows = s == PGRES_TUPLES_OK ? PQntuples(st->res) : 0;
    }
    if (st->row + 1 < st->nrows) {
        st->row++;
        return CKPT_DB_ROW;
    }
    st->row = st->nrows;
    return CKPT_DB_DONE;
}

static void pg_reset(struct ckpt_st *sst)
{
    struct pg_st *st = PGS(sst);
    if (st->sent)
        q_detach(PGD(sst->db), st);
    PQclear(st->res);
    st->res = NULL;
    st->executed = 0;
    st->err = 0;
}

static void pg_finalize(struct ckpt_st *sst)
{
    struct pg_st *st = PGS(sst);
    if (st->sent)
        q_detach(PGD(sst->db), st);
    PQclear(st->res);
    PQfreemem(st->blob);
    for (int i = 0; i < st->nparams; i++)
        free(st->vals[i]);
    free(st->vals);
    free(st->types);
    free(st->sql);
    free(st);
}

static void put(struct ckpt_st *sst, int i, char *v, unsigned type)
{
    struct pg_st *st = PGS(sst);
    if (i < 1 || i > st->nparams) {
        free(v);
        return;
    }
    free(st->vals[i - 1]);
    st->vals[i - 1] = v;
    st->types[i - 1] = type;
}

static void pg_bind_i64(struct ckpt_st *st, int i, int64_t v)
{
    char b[32];
    snprintf(b, sizeof b, "%lld", (long long)v);
    put(st, i, strdup(b), OID_INT8);
}

static void pg_bind_double(struct ckpt_st *st, int i, double v)
{
    char b[40];
    snprintf(b, sizeof b, "%.17g", v);
    put(st, i, strdup(b), OID_FLOAT8);
}

static void pg_bind_text(struct ckpt_st *st, int i, const char *s)
{
    put(st, i, s ? strdup(s) : NULL, s ? OID_TEXT : 0);
}

static void pg_bind_null(struct ckpt_st *st, int i)
{
    put(st, i, NULL, 0);
}

static const char *cell(struct ckpt_st *sst, int col)
{
    struct pg_st *st = PGS(sst);
    if (!st->res || st->row < 0 || st->row >= st->nrows || col < 0 || col >= PQnfields(st->res) ||
        PQgetisnull(st->res, st->row, col))
        return NULL;
    return PQgetvalue(st->res, st->row, col);
}

static int64_t pg_i64(struct ckpt_st *st, int col)
{
    const char *v = cell(st, col);
    if (!v)
        return 0;
    if (v[0] == 't' && !v[1])
        return 1; /* a boolean */
    return strtoll(v, NULL, 10);
}

static double pg_double(struct ckpt_st *st, int col)
{
    const char *v = cell(st, col);
    return v ? strtod(v, NULL) : 0.0;
}

static const char *pg_text(struct ckpt_st *st, int col)
{
    return cell(st, col);
}

static int pg_null(struct ckpt_st *st, int col)
{
    return cell(st, col) == NULL;
}

static int pg_count(struct ckpt_st *st)
{
    return PGS(st)->res ? PQnfields(PGS(st)->res) : 0;
}

static const char *pg_name(struct ckpt_st *st, int col)
{
    return PGS(st)->res ? PQfname(PGS(st)->res, col) : NULL;
}

static int pg_type(struct ckpt_st *st, int col)
{
    if (!cell(st, col))
        return CKPT_DB_T_NULL;
    switch (PQftype(PGS(st)->res, col)) {
    case 16: /* bool */
    case 20: /* int8 */
    case 21: /* int2 */
    case 23: /* int4 */
        return CKPT_DB_T_INT;
    case 700:  /* float4 */
    case 701:  /* float8 */
    case 1700: /* numeric */
        return CKPT_DB_T_REAL;
    case OID_BYTEA:
        return CKPT_DB_T_BLOB;
    default:
        return CKPT_DB_T_TEXT;
    }
}

static int pg_in_txn(struct ckpt_db *db)
{
    PGTransactionStatusType t = PQtransactionStatus(PGD(db)->conn);
    return t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
}

static const char *pg_errmsg(struct ckpt_db *db)
{
    return PGD(db)->msg[0] ? PGD(db)->msg : "unknown error";
}

static int pg_in_txn(struct ckpt_db *db);

static int pg_version(struct ckpt_db *db)
{
    struct pg_db *d = PGD(db);
    /* settings still owed ride with the statement below rather than settle on their own (owed
       only before anything else was sent: never inside a transaction) */
    const char *setup = d->setup;
    d->setup = NULL;
    settle(d);
    PGresult *r;
    if (!pg_in_txn(db)) {
        /* one statement (each costs a fresh server process its catalog lookups: 2 ms for
           to_regclass alone), sent with the session's settings in one message; a catalog not
           made yet has no table, which fails the message whole, settings included: they go
           again on their own. Inside a transaction (the migrations' check under their lock)
           a failure would abort it: the two statements below. */
        char sql[256];
        snprintf(sql, sizeof sql, "%s%sSELECT coalesce(max(v), 0) FROM ckpt_schema",
                 setup ? setup : "", setup ? "; " : "");
        r = PQexec(d->conn, sql);
        const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        int ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
        int v = ok                                     ? atoi(PQgetvalue(r, 0, 0))
                : state && strcmp(state, "42P01") == 0 ? 0 /* undefined_table */
                                                       : -1;
        if (v < 0)
            fail(d, r);
        PQclear(r);
        if (!ok && setup) {
            d->setup = setup;
            if (v == 0 && run_setup(d))
                v = -1;
        }
        return v;
    }
    r = PQexec(PGD(db)->conn, "SELECT to_regclass('ckpt_schema') IS NOT NULL");
    int have = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
               strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    int ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok)
        fail(PGD(db), r);
    PQclear(r);
    if (!ok)
        return -1;
    if (!have)
        return 0;
    r = PQexec(PGD(db)->conn, "SELECT coalesce(max(v), 0) FROM ckpt_schema");
    int v =
        PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 ? atoi(PQgetvalue(r, 0, 0)) : -1;
    if (v < 0)
        fail(PGD(db), r);
    PQclear(r);
    return v;
}

static int pg_set_version(struct ckpt_db *db, int v)
{
    char sql[160];
    snprintf(sql, sizeof sql,
             "CREATE TABLE IF NOT EXISTS ckpt_schema(v integer NOT NULL);"
             " DELETE FROM ckpt_schema; INSERT INTO ckpt_schema VALUES(%d)",
             v);
    return pg_exec(db, sql);
}

static int pg_integrity(struct ckpt_db *db, char *msg, size_t len)
{
    int pending = settle(PGD(db));
    if (pending)
        return pending;
    /* the server keeps its own pages consistent; what can be wrong is a catalog whose rows
       break the model/file relation */
    PGresult *r = PQexec(PGD(db)->conn, "SELECT count(*) FROM files f WHERE NOT EXISTS"
                                        " (SELECT 1 FROM models m WHERE m.id = f.model_id)");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        int rc = fail(PGD(db), r);
        PQclear(r);
        return rc;
    }
    long bad = atol(PQgetvalue(r, 0, 0));
    PQclear(r);
    if (bad)
        snprintf(msg, len, "%ld file records belong to no model", bad);
    return bad ? 1 : 0;
}

static void pg_close(struct ckpt_db *db)
{
    if (PGD(db)->conn)
        PQfinish(PGD(db)->conn);
    free(PGD(db)->q);
    for (int i = 0; i < N_PREP; i++) {
        free(PGD(db)->prep[i].sql);
        free(PGD(db)->prep[i].types);
    }
    for (int k = 0; k < 4; k++) {
        if (PGD(db)->secret[k])
            explicit_bzero(PGD(db)->secret[k], strlen(PGD(db)->secret[k]));
        free(PGD(db)->secret[k]);
    }
    free(db);
}

/* bytes go as bytea's hex text ("\\x0a1b...") */
static void pg_bind_blob(struct ckpt_st *st, int i, const void *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    char *v = n < (SIZE_MAX - 3) / 2 ? malloc(2 * n + 3) : NULL;
    if (v) {
        const unsigned char *b = p;
        v[0] = '\\';
        v[1] = 'x';
        for (size_t k = 0; k < n; k++) {
            v[2 + 2 * k] = hex[b[k] >> 4];
            v[3 + 2 * k] = hex[b[k] & 15];
        }
        v[2 + 2 * n] = 0;
    }
    put(st, i, v, v ? OID_BYTEA : 0);
}

static const void *pg_blob(struct ckpt_st *sst, int col, size_t *n)
{
    struct pg_st *st = PGS(sst);
    *n = 0;
    PQfreemem(st->blob);
    st->blob = NULL;
    const char *v = cell(sst, col);
    if (!v)
        return NULL;
    size_t len = 0;
    st->blob = PQunescapeBytea((const unsigned char *)v, &len);
    if (!st->blob)
        return NULL;
    *n = len;
    return st->blob;
}

static int pg_run(struct ckpt_st *sst)
{
    struct pg_st *st = PGS(sst);
    struct pg_db *d = PGD(sst->db);
    if (!may_pipe(d)) {
        int s;
        while ((s = pg_step(sst)) == CKPT_DB_ROW)
            ;
        return s;
    }
    if (st->sent)
        q_detach(d, st);
    int rc = q_send(d, st, 0);
    return rc ? rc : CKPT_DB_DONE;
}

static void pg_start(struct ckpt_st *sst)
{
    struct pg_st *st = PGS(sst);
    struct pg_db *d = PGD(sst->db);
    if (!st->executed && !st->sent && !st->err && may_pipe(d))
        st->err = q_send(d, st, 1);
}

/* db copy's bulk load: COPY ... FROM STDIN, rows sent as they come */
static int pg_copy_begin(struct ckpt_db *db, const char *sql)
{
    struct pg_db *d = PGD(db);
    int pending = settle(d);
    if (pending)
        return pending;
    PGresult *r = PQexec(d->conn, sql);
    int rc = PQresultStatus(r) == PGRES_COPY_IN ? CKPT_DB_OK : fail(d, r);
    PQclear(r);
    return rc;
}

static int pg_copy_put(struct ckpt_db *db, const char *data, size_t n)
{
    struct pg_db *d = PGD(db);
    while (n) {
        int part = n > (1u << 20) ? 1 << 20 : (int)n;
        if (PQputCopyData(d->conn, data, part) != 1)
            return fail(d, NULL);
        data += part;
        n -= (size_t)part;
    }
    return CKPT_DB_OK;
}

static int pg_copy_end(struct ckpt_db *db)
{
    struct pg_db *d = PGD(db);
    if (PQputCopyEnd(d->conn, NULL) != 1)
        return fail(d, NULL);
    int rc = CKPT_DB_OK;
    for (PGresult *r; (r = PQgetResult(d->conn));) {
        if (!rc && PQresultStatus(r) != PGRES_COMMAND_OK)
            rc = fail(d, r);
        PQclear(r);
    }
    return rc;
}

static const struct ckpt_db_ops pg_ops = {
    pg_exec,        pg_prepare,     pg_step,       pg_reset,    pg_finalize,  pg_bind_i64,
    pg_bind_double, pg_bind_text,   pg_bind_null,  pg_i64,      pg_double,    pg_text,
    pg_null,        pg_count,       pg_name,       pg_type,     pg_in_txn,    pg_errmsg,
    pg_version,     pg_set_version, pg_integrity,  pg_close,    pg_bind_blob, pg_blob,
    pg_run,         pg_start,       pg_copy_begin, pg_copy_put, pg_copy_end,
};

static const char *const pg_sql[CKPT_SQL_COUNT_] = {
    /* READ COMMITTED: every statement sees the latest commits, and rows a transaction changes
       are locked until it ends; lost updates are avoided by changing rows in place (UPDATE
       ... SET x = ...) or by locking what is read before it is rewritten (FOR UPDATE). */
    [CKPT_SQL_BEGIN_WRITE] = "BEGIN ISOLATION LEVEL READ COMMITTED",
    [CKPT_SQL_BEGIN_READ] = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
    [CKPT_SQL_FILE_ID] = "SELECT id, model_id FROM files WHERE host = ?1 AND path = ?2 FOR UPDATE",
    [CKPT_SQL_SETTINGS_GET] = "SELECT settings FROM models WHERE id = ?1 FOR UPDATE",
    /* an advisory lock: two machines recording the same new file serialise on its
       fingerprint, so the second sees the first's model and joins it */
    [CKPT_SQL_LOCK_KEY] = "SELECT pg_advisory_xact_lock(hashtext(?1))",
    [CKPT_SQL_TABLES] = "SELECT table_name::text FROM information_schema.tables WHERE"
                        " table_schema = current_schema() AND table_type = 'BASE TABLE' AND"
                        " table_name NOT IN ('model_fts', 'ckpt_schema') ORDER BY"
                        " table_name = 'models' DESC, table_name = 'files' DESC, table_name",
    /* rows copied with their ids leave the identity's sequence behind */
    [CKPT_SQL_RESET_ID] = ("SELECT setval(pg_get_serial_sequence('%s', 'id'),"
                           " coalesce((SELECT max(id) FROM %s), 0) + 1, false)"),
    [CKPT_SQL_FOR_UPDATE] = " FOR UPDATE",
    /* the search rows in bulk: the word indexes are dropped and built again over the filled
       table (built at once they take a fraction of the time their row-by-row upkeep does; the
       definitions are migration 11's), the documents are gathered by joins with the native
       string_agg instead of a correlated group_concat per model */
    [CKPT_SQL_FTS_REBUILD] =
        "SET LOCAL maintenance_work_mem = '256MB';\n"
        "DROP INDEX model_fts_name_words;\n"
        "DROP INDEX model_fts_words;\n"
        "DELETE FROM model_fts;\n"
        "INSERT INTO model_fts(rowid, name, note, tags, trigger_words, description, metadata)\n"
        "  SELECT m.id, m.name || ' ' || coalesce(f.paths, ''), m.note, t.tags,\n"
        "    m.trigger_words, m.description, f.meta\n"
        "  FROM models m\n"
        "  LEFT JOIN (SELECT model_id, string_agg(path, ' ' ORDER BY id) AS paths,\n"
        "      string_agg(coalesce(metadata, '') || ' ' || coalesce(site_tags, ''), ' '\n"
        "                 ORDER BY id) AS meta\n"
        "    FROM files GROUP BY model_id) f ON f.model_id = m.id\n"
        "  LEFT JOIN (SELECT model_id, string_agg(tag, ' ' ORDER BY tag) AS tags FROM tags\n"
        "    GROUP BY model_id) t ON t.model_id = m.id;\n"
        "CREATE INDEX model_fts_name_words ON model_fts USING gin (name_words);\n"
        "CREATE INDEX model_fts_words ON model_fts USING gin (words);\n"
        /* search's plan (walk rowid order or take the index) follows the words' statistics */
        "ANALYZE model_fts",
    /* ids for new models taken ahead from the identity's sequence, so that inserting a model
       needs no answer and can go down the pipeline (an id taken and not used is a gap) */
    [CKPT_SQL_NEW_IDS] = "SELECT nextval(pg_get_serial_sequence('models', 'id'))"
                         " FROM generate_series(1, ?1)",
    /* a commit returns once its WAL record is flushed, whatever the server's default */
    [CKPT_SQL_SYNC_FULL] = "SET synchronous_commit = on",
    [CKPT_SQL_SYNC_NORMAL] = "RESET synchronous_commit",
    /* rows just loaded are not yet marked visible to every transaction: until a vacuum sets
       the visibility map, an index-only scan visits the table for each row and the planner
       prefers reading the table and sorting (list at 1,000,000 copied models: 42 ms of server
       time, against 1-2 ms once vacuumed); statistics for the planner in the same pass */
    [CKPT_SQL_AFTER_LOAD] = "VACUUM (ANALYZE) %s",
};

static void no_notices(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

int ckpt_db_pg_open(const char *url, int readonly, struct ckpt_db **out)
{
    struct pg_db *d = calloc(1, sizeof *d);
    *out = d ? &d->base : NULL;
    if (!d)
        return CKPT_DB_EOTHER;
    d->base.ops = &pg_ops;
    d->base.kind = CKPT_DB_PG;
    d->base.sql = pg_sql;
    find_secrets(d, url);
    if (ckpt_pq_load(d->msg, sizeof d->msg))
        return CKPT_DB_ECANTOPEN;
    d->conn = PQconnectdb(url);
    if (!d->conn) {
        snprintf(d->msg, sizeof d->msg, "out of memory");
        return CKPT_DB_ECANTOPEN;
    }
    if (PQstatus(d->conn) != CONNECTION_OK) {
        fail(d, NULL);
        return CKPT_DB_ECANTOPEN;
    }
    /* libpq refuses a TCP server without TLS when sslmode asks for it, but takes a unix socket
       as it is, unencrypted: a connection that sslmode (the URL's, or PGSSLMODE) wants
       encrypted and is not, is refused here rather than used */
    const char *mode = NULL;
    PQconninfoOption *opts = PQconninfo(d->conn);
    for (PQconninfoOption *o = opts; o && o->keyword; o++)
        if (strcmp(o->keyword, "sslmode") == 0)
            mode = o->val;
    int want_tls = mode && (strcmp(mode, "require") == 0 || strcmp(mode, "verify-ca") == 0 ||
                            strcmp(mode, "verify-full") == 0);
    if (want_tls && !PQsslInUse(d->conn)) {
        snprintf(d->msg, sizeof d->msg,
                 "sslmode=%s asks for TLS, which the unix socket %s does not carry: connect"
                 " to a host name or drop sslmode",
                 mode, PQhost(d->conn) ? PQhost(d->conn) : "the server");
        PQconninfoFree(opts);
        return CKPT_DB_ECANTOPEN;
    }
    PQconninfoFree(opts);
    PQsetNoticeProcessor(d->conn, no_notices, NULL);
    d->setup = readonly
                   ? "SET default_transaction_read_only = on; SET client_min_messages = warning"
                   : "SET client_min_messages = warning";
    return CKPT_DB_OK;
}
