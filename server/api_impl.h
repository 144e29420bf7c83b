/* What api.c (routes over one model or a list) and summary.c (the in-memory summary of the whole
 * collection behind facets and stats) share: the per-thread catalog connection, the change
 * generation, and the summary rows. Internal to server/. */
#ifndef CKPT_SERVER_API_IMPL_H
#define CKPT_SERVER_API_IMPL_H

#include <pthread.h>
#include <stdint.h>

#include "api.h"
#include "ckptdb/catalog.h"

/* The taxonomy axes the page filters on, in the order facets are listed. The list axes
 * (realism, subjects, tags, problems) hold comma-separated values. */
enum {
    AX_KIND,
    AX_FAMILY,
    AX_ECOSYSTEM,
    AX_ORIGIN,
    AX_OUTPUT,
    AX_REALISM,
    AX_SUBJECTS,
    AX_TAGS,
    AX_SOURCE,
    AX_RATING,
    AX_SAFETY,
    AX_PROBLEMS,
    AX_COUNT
};
extern const char *const ckpt_api_axis_names[AX_COUNT];  /* the facet names */
extern const char *const ckpt_api_axis_params[AX_COUNT]; /* the query parameter names */
extern const int ckpt_api_axis_is_list[AX_COUNT];

struct summary_row {
    int64_t id;
    char *name;
    uint64_t size;
    int missing, failed;
    char *v[AX_COUNT]; /* NULL when unset */
};

struct summary {
    uint64_t gen;
    struct summary_row *rows;
    size_t n;
    size_t refs; /* readers holding it; freed when 0 after being replaced */
};

#define RESPONSE_CACHE 32

struct cached_reply {
    char *key;
    uint64_t gen;
    int status;
    char *body;
    size_t len;
};

struct ckpt_api {
    char *db_path;
    pthread_mutex_t mu; /* guards everything below */
    struct ckpt_catalog **handles;
    size_t n_handles, cap_handles;
    uint64_t writes; /* bumped by every write through this server */
    struct summary *sum;
    int building; /* a thread is building the summary; the others wait on built */
    pthread_cond_t built;
    pthread_t prebuild; /* the start-up build (joined by ckpt_api_free) */
    int prebuilding;
    struct cached_reply cache[RESPONSE_CACHE];
    size_t cache_next;
};

/* This thread's catalog connection (opened on first use), or NULL with r filled. */
struct ckpt_catalog *ckpt_api_catalog(struct ckpt_api *a, struct ckpt_api_reply *r);
/* A number that changes whenever the catalog may have changed (db and -wal file size/mtime and
 * this server's writes). */
uint64_t ckpt_api_generation(struct ckpt_api *a);
/* The summary for the current generation (rebuilt when stale); release it when done. NULL with
 * r filled on failure. */
struct summary *ckpt_api_summary(struct ckpt_api *a, struct ckpt_api_reply *r);
void ckpt_api_summary_release(struct ckpt_api *a, struct summary *s);
void ckpt_api_summary_free(struct summary *s);
/* The row of model id (rows are sorted by id), or NULL. */
const struct summary_row *ckpt_api_summary_find(const struct summary *s, int64_t id);
/* Reply with a library status: CKPT_E_ARG 400, NOTFOUND 404, else 500/503. */
void ckpt_api_status_error(struct ckpt_api_reply *r, int status, const struct ckpt_error *err);
/* 1 when comma list has item. */
int ckpt_api_list_has(const char *list, const char *item);

#endif
