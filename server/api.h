/* The server's data layer: one function per API route, each calling the catalog library (the
 * same functions the CLI commands use) and writing a JSON document. http.c does the HTTP side
 * (routing, security, bounds); nothing here knows about sockets or headers.
 *
 * Every function fills a struct ckpt_api_reply: an HTTP status and a JSON body (or, for a
 * preview, an open file descriptor and its MIME type). Errors are {"error": {"status", "code",
 * "message"}} with a status that fits: 400 bad argument, 404 unknown model, 413/415 for bodies,
 * 500/503 for the catalog itself.
 *
 * Each request thread keeps its own catalog connection (SQLite handles are not shared between
 * threads); ckpt_api_free closes them all once the threads are gone. */
#ifndef CKPT_SERVER_API_H
#define CKPT_SERVER_API_H

#include <stddef.h>
#include <stdint.h>

#include "ckptdb/buf.h"
#include "ckptdb/error.h"

struct ckpt_api;

/* Query-string access for a request: the value of key, or NULL. */
struct ckpt_api_args {
    const char *(*get)(void *user, const char *key);
    void *user;
    const char *body; /* POST body (JSON), NUL-terminated; NULL for GET */
    size_t body_len;
};

struct ckpt_api_reply {
    int status;
    struct ckpt_buf body; /* JSON unless fd >= 0 */
    int fd;               /* preview: an open image file, -1 otherwise */
    uint64_t fd_size;
    const char *mime; /* preview's MIME type */
};

int ckpt_api_new(struct ckpt_api **out, const char *db_path, struct ckpt_error *err);
void ckpt_api_free(struct ckpt_api *a);
/* Build the collection summary behind facets and stats in a background thread now, so that the
 * page's first request does not wait for a read of the whole catalog (a request that comes
 * while it is being built waits for that build instead of starting another). */
void ckpt_api_prebuild(struct ckpt_api *a);

/* Route handlers. id is a model id already parsed from the path (digits only). */
void ckpt_api_models(struct ckpt_api *a, const struct ckpt_api_args *q, struct ckpt_api_reply *r);
void ckpt_api_facets(struct ckpt_api *a, const struct ckpt_api_args *q, struct ckpt_api_reply *r);
void ckpt_api_model(struct ckpt_api *a, int64_t id, struct ckpt_api_reply *r);
void ckpt_api_set(struct ckpt_api *a, int64_t id, const struct ckpt_api_args *q,
                  struct ckpt_api_reply *r);
void ckpt_api_tag(struct ckpt_api *a, int64_t id, const struct ckpt_api_args *q,
                  struct ckpt_api_reply *r);
void ckpt_api_accept(struct ckpt_api *a, int64_t id, const struct ckpt_api_args *q,
                     struct ckpt_api_reply *r);
void ckpt_api_choose(struct ckpt_api *a, const struct ckpt_api_args *q, struct ckpt_api_reply *r);
void ckpt_api_dupes(struct ckpt_api *a, struct ckpt_api_reply *r);
void ckpt_api_stats(struct ckpt_api *a, struct ckpt_api_reply *r);
void ckpt_api_taxonomy(struct ckpt_api *a, struct ckpt_api_reply *r);
void ckpt_api_scan_status(struct ckpt_api *a, struct ckpt_api_reply *r);
void ckpt_api_preview(struct ckpt_api *a, int64_t id, struct ckpt_api_reply *r);

/* An error reply: {"error": {"status": S, "code": CODE, "message": MSG}}. */
void ckpt_api_error(struct ckpt_api_reply *r, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
