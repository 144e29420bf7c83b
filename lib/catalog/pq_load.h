/* libpq, loaded when a catalog URL is postgresql:// (pq_load.c), not linked: linking it made
 * every command load 17 more shared libraries (Kerberos, LDAP, GnuTLS, ...) at start, about
 * 7 M instructions and a few hundred page faults before any work, for a backend most users
 * never select. db_pg.c includes this header after <libpq-fe.h>; each libpq function it calls
 * is a macro for a pointer in ckpt_pq, filled by ckpt_pq_load. A function db_pg.c starts to
 * use must be added to CKPT_PQ_FUNCTIONS (the link fails otherwise: libpq is not linked). */
#ifndef CKPT_CATALOG_PQ_LOAD_H
#define CKPT_CATALOG_PQ_LOAD_H

#include <libpq-fe.h>

#define CKPT_PQ_FUNCTIONS(X)                                                                       \
    X(PQclear)                                                                                     \
    X(PQcmdStatus)                                                                                 \
    X(PQconnectdb)                                                                                 \
    X(PQconninfo)                                                                                  \
    X(PQconninfoFree)                                                                              \
    X(PQenterPipelineMode)                                                                         \
    X(PQerrorMessage)                                                                              \
    X(PQexec)                                                                                      \
    X(PQexecParams)                                                                                \
    X(PQexitPipelineMode)                                                                          \
    X(PQfinish)                                                                                    \
    X(PQfname)                                                                                     \
    X(PQfreemem)                                                                                   \
    X(PQftype)                                                                                     \
    X(PQgetResult)                                                                                 \
    X(PQgetisnull)                                                                                 \
    X(PQgetvalue)                                                                                  \
    X(PQhost)                                                                                      \
    X(PQnfields)                                                                                   \
    X(PQntuples)                                                                                   \
    X(PQpipelineSync)                                                                              \
    X(PQputCopyData)                                                                               \
    X(PQputCopyEnd)                                                                                \
    X(PQresultErrorField)                                                                          \
    X(PQresultStatus)                                                                              \
    X(PQsendPrepare)                                                                               \
    X(PQsendQueryParams)                                                                           \
    X(PQsendQueryPrepared)                                                                         \
    X(PQsetNoticeProcessor)                                                                        \
    X(PQsslInUse)                                                                                  \
    X(PQstatus)                                                                                    \
    X(PQtransactionStatus)                                                                         \
    X(PQunescapeBytea)

#define CKPT_PQ_FIELD(f) __typeof__(f) *f;
struct ckpt_pq {
    CKPT_PQ_FUNCTIONS(CKPT_PQ_FIELD)
};
#undef CKPT_PQ_FIELD
extern struct ckpt_pq ckpt_pq;

/* Load libpq once (thread-safe); 0 when loaded, else -1 with a one-line reason in msg. */
int ckpt_pq_load(char *msg, size_t n);

#ifndef CKPT_PQ_LOAD_IMPL
#define PQclear (ckpt_pq.PQclear)
#define PQcmdStatus (ckpt_pq.PQcmdStatus)
#define PQconnectdb (ckpt_pq.PQconnectdb)
#define PQconninfo (ckpt_pq.PQconninfo)
#define PQconninfoFree (ckpt_pq.PQconninfoFree)
#define PQenterPipelineMode (ckpt_pq.PQenterPipelineMode)
#define PQerrorMessage (ckpt_pq.PQerrorMessage)
#define PQexec (ckpt_pq.PQexec)
#define PQexecParams (ckpt_pq.PQexecParams)
#define PQexitPipelineMode (ckpt_pq.PQexitPipelineMode)
#define PQfinish (ckpt_pq.PQfinish)
#define PQfname (ckpt_pq.PQfname)
#define PQfreemem (ckpt_pq.PQfreemem)
#define PQftype (ckpt_pq.PQftype)
#define PQgetResult (ckpt_pq.PQgetResult)
#define PQgetisnull (ckpt_pq.PQgetisnull)
#define PQgetvalue (ckpt_pq.PQgetvalue)
#define PQhost (ckpt_pq.PQhost)
#define PQnfields (ckpt_pq.PQnfields)
#define PQntuples (ckpt_pq.PQntuples)
#define PQpipelineSync (ckpt_pq.PQpipelineSync)
#define PQputCopyData (ckpt_pq.PQputCopyData)
#define PQputCopyEnd (ckpt_pq.PQputCopyEnd)
#define PQresultErrorField (ckpt_pq.PQresultErrorField)
#define PQresultStatus (ckpt_pq.PQresultStatus)
#define PQsendPrepare (ckpt_pq.PQsendPrepare)
#define PQsendQueryParams (ckpt_pq.PQsendQueryParams)
#define PQsendQueryPrepared (ckpt_pq.PQsendQueryPrepared)
#define PQsetNoticeProcessor (ckpt_pq.PQsetNoticeProcessor)
#define PQsslInUse (ckpt_pq.PQsslInUse)
#define PQstatus (ckpt_pq.PQstatus)
#define PQtransactionStatus (ckpt_pq.PQtransactionStatus)
#define PQunescapeBytea (ckpt_pq.PQunescapeBytea)
#endif

#endif
