/* The API routes over models: the list (filters, search, sort, paging: the same library calls as
 * `ckptdb list` and `search`), one model (`show`), the writes (`set`, `tag`, `accept`, with the
 * library's own validation), `choose`, a model's lineage and similar models, and preview images
 * by model id. Also the per-thread catalog connections and the change generation that keys the
 * reply cache. Not for collection summaries (summary.c: facets, stats, dupes) or HTTP (http.c). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api_impl.h"

#define PAGE_DEFAULT 60
#define PAGE_MAX 500
#define MAX_FIELDS 64
#define MAX_PREVIEW (64ull << 20)

static _Thread_local struct ckpt_catalog *tl_cat;
static _Thread_local struct ckpt_api *tl_owner;

/* ---- replies ------------------------------------------------------------------------------- */

void ckpt_api_error(struct ckpt_api_reply *r, int status, const char *code, const char *fmt, ...)
{
    char msg[CKPT_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ckpt_buf_reset(&r->body);
    r->status = status;
    struct ckpt_json j;
    ckpt_json_init(&j, &r->body, 0);
    ckpt_json_obj_begin(&j);
    ckpt_json_key(&j, "error");
    ckpt_json_obj_begin(&j);
    ckpt_json_key(&j, "status");
    ckpt_json_i64(&j, status);
    ckpt_json_key(&j, "code");
    ckpt_json_str(&j, code);
    ckpt_json_key(&j, "message");
    ckpt_json_str(&j, msg);
    ckpt_json_obj_end(&j);
    ckpt_json_obj_end(&j);
}

void ckpt_api_status_error(struct ckpt_api_reply *r, int status, const struct ckpt_error *err)
{
    const char *msg = err && err->msg[0] ? err->msg : ckpt_status_str(status);
    switch (status) {
    case CKPT_E_ARG:
        ckpt_api_error(r, 400, "invalid", "%s", msg);
        break;
    case CKPT_E_NOTFOUND:
        ckpt_api_error(r, 404, "not-found", "%s", msg);
        break;
    case CKPT_E_NOMEM:
        ckpt_api_error(r, 503, "nomem", "%s", msg);
        break;
    default:
        ckpt_api_error(r, 500, "catalog", "%s", msg);
        break;
    }
}

int ckpt_api_list_has(const char *list, const char *item)
{
    if (!list || !item)
        return 0;
    size_t n = strlen(item);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ',');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == n && strncmp(p, item, n) == 0)
            return 1;
        if (!e)
            break;
        p = e + 1;
    }
    return 0;
}

/* ---- connections and generations ----------------------------------------------------------- */

int ckpt_api_new(struct ckpt_api **out, const char *db_path, struct ckpt_error *err)
{
    *out = NULL;
    /* open (creating and migrating if needed) once here so a bad path fails at start */
    struct ckpt_catalog *c;
    int rc = ckpt_catalog_open(&c, db_path, 0, err);
    if (rc)
        return rc;
    struct ckpt_api *a = calloc(1, sizeof *a);
    if (!a || !(a->db_path = strdup(db_path))) {
        free(a);
        ckpt_catalog_close(c);
        return ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
    }
    ckpt_catalog_close(c);
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->built, NULL);
    *out = a;
    return CKPT_OK;
}

void ckpt_api_free(struct ckpt_api *a)
{
    if (!a)
        return;
    if (a->prebuilding)
        pthread_join(a->prebuild, NULL);
    for (size_t i = 0; i < a->n_handles; i++)
        ckpt_catalog_close(a->handles[i]);
    free(a->handles);
    if (a->sum && a->sum->refs == 0)
        ckpt_api_summary_free(a->sum);
    for (size_t i = 0; i < RESPONSE_CACHE; i++) {
        free(a->cache[i].key);
        free(a->cache[i].body);
    }
    pthread_cond_destroy(&a->built);
    pthread_mutex_destroy(&a->mu);
    free(a->db_path);
    free(a);
}

struct ckpt_catalog *ckpt_api_catalog(struct ckpt_api *a, struct ckpt_api_reply *r)
{
    if (tl_cat && tl_owner == a)
        return tl_cat;
    struct ckpt_error err;
    struct ckpt_catalog *c;
    int rc = ckpt_catalog_open(&c, a->db_path, 0, &err);
    if (rc) {
        ckpt_api_error(r, 503, "catalog", "%s", err.msg);
        return NULL;
    }
    pthread_mutex_lock(&a->mu);
    if (a->n_handles == a->cap_handles) {
        size_t nc = a->cap_handles ? a->cap_handles * 2 : 8;
        struct ckpt_catalog **nh = realloc(a->handles, nc * sizeof *nh);
        if (!nh) {
            pthread_mutex_unlock(&a->mu);
            ckpt_catalog_close(c);
            ckpt_api_error(r, 503, "nomem", "out of memory");
            return NULL;
        }
        a->handles = nh;
        a->cap_handles = nc;
    }
    a->handles[a->n_handles++] = c;
    pthread_mutex_unlock(&a->mu);
    tl_cat = c;
    tl_owner = a;
    return c;
}

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    return h;
}

uint64_t ckpt_api_generation(struct ckpt_api *a)
{
    uint64_t h = 1469598103934665603ull;
    struct ckpt_api_reply tmp = {0};
    struct ckpt_catalog *c = ckpt_api_catalog(a, &tmp);
    ckpt_buf_free(&tmp.body);
    uint64_t changes = 0;
    if (c && ckpt_catalog_changes(c, &changes, NULL) == CKPT_OK)
        h = mix(h, changes);
    if (ckpt_catalog_is_remote(a->db_path)) {
        /* other machines write a shared catalog, and its counter moves as their statements
           run, a moment before they commit: what is cached expires within 2 seconds */
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        h = mix(h, (uint64_t)ts.tv_sec / 2);
    }
    pthread_mutex_lock(&a->mu);
    h = mix(h, a->writes);
    pthread_mutex_unlock(&a->mu);
    return h;
}

static void bump_writes(struct ckpt_api *a)
{
    pthread_mutex_lock(&a->mu);
    a->writes++;
    pthread_mutex_unlock(&a->mu);
}

/* reply cache for GET lists: the same view asked again before anything changed */
static int cache_get(struct ckpt_api *a, const char *key, uint64_t gen, struct ckpt_api_reply *r)
{
    int hit = 0;
    pthread_mutex_lock(&a->mu);
    for (size_t i = 0; i < RESPONSE_CACHE && !hit; i++) {
        struct cached_reply *c = &a->cache[i];
        if (c->key && c->gen == gen && strcmp(c->key, key) == 0) {
            ckpt_buf_reset(&r->body);
            ckpt_buf_put(&r->body, c->body, c->len);
            r->status = c->status;
            hit = 1;
        }
    }
    pthread_mutex_unlock(&a->mu);
    return hit;
}

static void cache_put(struct ckpt_api *a, const char *key, uint64_t gen,
                      const struct ckpt_api_reply *r)
{
    if (r->body.oom || r->status != 200)
        return;
    char *k = strdup(key), *b = malloc(r->body.len ? r->body.len : 1);
    if (!k || !b) {
        free(k);
        free(b);
        return;
    }
    memcpy(b, r->body.data, r->body.len);
    pthread_mutex_lock(&a->mu);
    struct cached_reply *c = &a->cache[a->cache_next++ % RESPONSE_CACHE];
    free(c->key);
    free(c->body);
    *c = (struct cached_reply){k, gen, r->status, b, r->body.len};
    pthread_mutex_unlock(&a->mu);
}

/* ---- the model list ------------------------------------------------------------------------ */

static const char *arg(const struct ckpt_api_args *q, const char *key)
{
    const char *v = q->get(q->user, key);
    return v && *v ? v : NULL;
}

/* a non-negative integer query parameter, or def; -1 when malformed */
static long num_arg(const struct ckpt_api_args *q, const char *key, long def, long max)
{
    const char *v = arg(q, key);
    if (!v)
        return def;
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || *end || n < 0 || n > max)
        return -1;
    return n;
}

static int cmp_i64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return (a > b) - (a < b);
}

/* keep the ids of keep[] that are in set[] (sorted), in keep's order */
static size_t intersect(int64_t *keep, size_t n, const int64_t *set, size_t ns)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++)
        if (bsearch(&keep[i], set, ns, sizeof *set, cmp_i64))
            keep[o++] = keep[i];
    return o;
}

static void cache_key(const struct ckpt_api_args *q, const char *route, const char *const *params,
                      size_t n, struct ckpt_buf *key)
{
    ckpt_buf_puts(key, route);
    for (size_t i = 0; i < n; i++) {
        const char *v = arg(q, params[i]);
        if (v)
            ckpt_buf_printf(key, "&%s=%s", params[i], v);
    }
}

/* the ids matching the list filters and the search text, in order; CKPT_OK or a reply sent */
static int select_ids(struct ckpt_api *a, struct ckpt_catalog *cat, const struct ckpt_api_args *q,
                      int64_t **ids, size_t *n, struct ckpt_api_reply *r)
{
    struct ckpt_query cq = {.include_missing = 1};
    cq.kind = arg(q, "kind");
    cq.family = arg(q, "family");
    cq.ecosystem = arg(q, "ecosystem");
    cq.origin = arg(q, "origin");
    cq.output = arg(q, "output");
    cq.realism = arg(q, "realism");
    cq.subject = arg(q, "subject");
    cq.tag = arg(q, "tag");
    cq.source = arg(q, "source");
    cq.safety = arg(q, "safety");
    cq.sort = arg(q, "sort");
    long rating = num_arg(q, "min_rating", 0, 5);
    if (rating < 0) {
        ckpt_api_error(r, 400, "invalid", "min_rating: '%s' is not one of 1, 2, 3, 4, 5",
                       arg(q, "min_rating"));
        return -1;
    }
    cq.min_rating = (int)rating;
    const char *missing = arg(q, "missing");
    if (missing && strcmp(missing, "0") == 0)
        cq.include_missing = 0;
    struct ckpt_error err;
    int rc = ckpt_catalog_list(cat, &cq, ids, n, &err);
    if (rc) {
        ckpt_api_status_error(r, rc, &err);
        return -1;
    }
    const char *text = arg(q, "q");
    if (text) {
        int64_t *found;
        size_t nf;
        rc = ckpt_catalog_search(cat, text, &found, &nf, &err);
        if (rc) {
            free(*ids);
            ckpt_api_status_error(r, rc, &err);
            return -1;
        }
        if (cq.sort) { /* the asked order, restricted to the matches */
            qsort(found, nf, sizeof *found, cmp_i64);
            *n = intersect(*ids, *n, found, nf);
            free(found);
        } else { /* best matches first */
            qsort(*ids, *n, sizeof **ids, cmp_i64);
            nf = intersect(found, nf, *ids, *n);
            free(*ids);
            *ids = found;
            *n = nf;
        }
    }
    const char *problem = arg(q, "problem");
    if (problem) { /* problems are measured facts kept in the summary */
        struct summary *s = ckpt_api_summary(a, r);
        if (!s) {
            free(*ids);
            return -1;
        }
        size_t o = 0;
        for (size_t i = 0; i < *n; i++) {
            const struct summary_row *row = ckpt_api_summary_find(s, (*ids)[i]);
            const char *codes = row ? row->v[AX_PROBLEMS] : NULL;
            if (row && (strcmp(problem, "none") == 0 ? !codes : ckpt_api_list_has(codes, problem)))
                (*ids)[o++] = (*ids)[i];
        }
        *n = o;
        ckpt_api_summary_release(a, s);
    }
    return CKPT_OK;
}

static const char *const list_params[] = {
    "kind",   "family", "ecosystem",  "origin",  "output", "realism", "subject", "tag",  "source",
    "safety", "sort",   "min_rating", "missing", "q",      "problem", "offset",  "limit"};

static int page_model(void *user, const struct ckpt_model *m)
{
    ckpt_model_json(m, user);
    return 0;
}

void ckpt_api_models(struct ckpt_api *a, const struct ckpt_api_args *q, struct ckpt_api_reply *r)
{
    long offset = num_arg(q, "offset", 0, 1L << 30),
         limit = num_arg(q, "limit", PAGE_DEFAULT, PAGE_MAX);
    if (offset < 0 || limit < 0) {
        ckpt_api_error(r, 400, "invalid", "offset and limit are numbers (limit at most %d)",
                       PAGE_MAX);
        return;
    }
    uint64_t gen = ckpt_api_generation(a);
    struct ckpt_buf key = {0};
    cache_key(q, "models?", list_params, sizeof list_params / sizeof list_params[0], &key);
    const char *k = ckpt_buf_cstr(&key);
    if (!key.oom && cache_get(a, k, gen, r)) {
        ckpt_buf_free(&key);
        return;
    }
    struct ckpt_catalog *cat = ckpt_api_catalog(a, r);
    int64_t *ids = NULL;
    size_t n = 0;
    if (!cat || select_ids(a, cat, q, &ids, &n, r)) {
        ckpt_buf_free(&key);
        return;
    }
    r->status = 200;
    struct ckpt_json j;
    ckpt_json_init(&j, &r->body, 0);
    ckpt_json_obj_begin(&j);
    ckpt_json_key(&j, "total");
    ckpt_json_u64(&j, n);
    ckpt_json_key(&j, "offset");
    ckpt_json_i64(&j, offset);
    ckpt_json_key(&j, "limit");
    ckpt_json_i64(&j, limit);
    ckpt_json_key(&j, "models");
    ckpt_json_arr_begin(&j);
    if ((size_t)offset < n) {
        size_t cnt = n - (size_t)offset < (size_t)limit ? n - (size_t)offset : (size_t)limit;
        struct ckpt_error err;
        int rc =
            ckpt_catalog_models_each(cat, ids + offset, cnt, CKPT_MODEL_ALL, page_model, &j, &err);
        if (rc) {
            free(ids);
            ckpt_buf_free(&key);
            ckpt_api_status_error(r, rc, &err);
            return;
        }
    }
    ckpt_json_arr_end(&j);
    ckpt_json_obj_end(&j);
    free(ids);
    if (!key.oom)
        cache_put(a, k, gen, r);
    ckpt_buf_free(&key);
}

/* ---- one model and its changes ------------------------------------------------------------- */

static void model_reply(struct ckpt_catalog *cat, int64_t id, struct ckpt_api_reply *r)
{
    struct ckpt_model m = {0};
    struct ckpt_error err;
    int rc = ckpt_catalog_model_get(cat, id, &m, &err);
    if (rc) {
        ckpt_model_release(&m);
        if (rc == CKPT_E_NOTFOUND)
            ckpt_api_error(r, 404, "not-found", "no model %lld in the catalog", (long long)id);
        else
            ckpt_api_status_error(r, rc, &err);
        return;
    }
    ckpt_buf_reset(&r->body);
    r->status = 200;
    struct ckpt_json j;
    ckpt_json_init(&j, &r->body, 0);
    ckpt_model_json(&m, &j);
    ckpt_model_release(&m);
}

void ckpt_api_model(struct ckpt_api *a, int64_t id, struct ckpt_api_reply *r)
{
    struct ckpt_catalog *cat = ckpt_api_catalog(a, r);
    if (cat)
        model_reply(cat, id, r);
}

/* a model that exists, or a 404 reply */
static int check_model(struct ckpt_catalog *cat, int64_t id, struct ckpt_api_reply *r)
{
    struct ckpt_model m = {0};
    struct ckpt_error err;
    int rc = ckpt_catalog_model_get(cat, id, &m, &err);
    ckpt_model_release(&m);
    if (rc == CKPT_E_NOTFOUND)
        ckpt_api_error(r, 404, "not-found", "no model %lld in the catalog", (long long)id);
    else if (rc)
        ckpt_api_status_error(r, rc, &err);
    return rc;
}

/* The detail panel's Lineage section: lineage and the 5 most similar models (the library call
 * behind `ckptdb lineage` and `similar` over the catalog). 404 not-found for an unknown model,
 * 404 no-fingerprints for one scanned without hashing or not a checkpoint. */
void ckpt_api_lineage(struct ckpt_api *a, int64_t id, struct ckpt_api_reply *r)
{
    struct ckpt_catalog *cat = ckpt_api_catalog(a, r);
    if (!cat || check_model(cat, id, r))
        return;
    ckpt_buf_reset(&r->body);
    struct ckpt_json j;
    ckpt_json_init(&j, &r->body, 0);
    struct ckpt_error err;
    int rc = ckpt_catalog_lineage_report(cat, id, 5, &j, &err);
    if (rc == CKPT_E_NOTFOUND)
        ckpt_api_error(r, 404, "no-fingerprints", "%s", err.msg);
    else if (rc)
        ckpt_api_status_error(r, rc, &err);
    else
        r->status = 200;
}

/* parse a write's body: a JSON object; NULL with r filled when it is not one */
static json_t *parse_body(const struct ckpt_api_args *q, struct ckpt_api_reply *r)
{
    json_error_t je;
    json_t *doc = q->body ? json_loadb(q->body, q->body_len, JSON_REJECT_DUPLICATES, &je) : NULL;
    if (!doc || !json_is_object(doc)) {
        ckpt_api_error(r, 400, "bad-json", "the body is not a JSON object%s%s", doc ? "" : ": ",
                       doc ? "" : (q->body ? je.text : "(empty)"));
        json_decref(doc);
        return NULL;
    }
    return doc;
}

/* {"field": value, ...}: strings as they are, numbers as text, arrays joined with commas
 * (realism, subjects), null as "" (clears the field) */
void ckpt_api_set(struct ckpt_api *a, int64_t id, const struct ckpt_api_args *q,
                  struct ckpt_api_reply *r)
{
    struct ckpt_catalog *cat = ckpt_api_catalog(a, r);
    json_t *doc = cat ? parse_body(q, r) : NULL;
    if (!doc)
        return;
    const char *fields[MAX_FIELDS];
    char *values[MAX_FIELDS];
    size_t n = 0;
    const char *key;
    json_t *v;
    int bad = 0;
    json_object_foreach(doc, key, v)
    {
        if (n == MAX_FIELDS) {
            ckpt_api_error(r, 400, "invalid", "at most %d fields at once", MAX_FIELDS);
            bad = 1;
            break;
        }
        struct ckpt_buf b = {0};
        if (json_is_string(v)) {
            ckpt_buf_put(&b, json_string_value(v), json_string_length(v));
        } else if (json_is_integer(v)) {
            ckpt_buf_printf(&b, "%lld", (long long)json_integer_value(v));
        } else if (json_is_null(v)) {
            ckpt_buf_puts(&b, "");
        } else if (json_is_array(v)) {
            size_t i;
            json_t *item;
            json_array_foreach(v, i, item)
            {
                if (!json_is_string(item)) {
                    bad = 1;
                    break;
                }
                if (i)
                    ckpt_buf_putc(&b, ',');
                ckpt_buf_puts(&b, json_string_value(item));
            }
        } else {
            bad = 1;
        }
        if (bad || b.oom || memchr(ckpt_buf_cstr(&b), 0, b.len)) {
            ckpt_buf_free(&b);
            ckpt_api_error(r, 400, "invalid",
                           "%s: a value is a string, a number, null or an array of strings", key);
            bad = 1;
            break;
        }
        fields[n] = key;
        values[n++] = strdup(ckpt_buf_cstr(&b));
        ckpt_buf_free(&b);
        if (!values[n - 1]) {
            ckpt_api_error(r, 503, "nomem", "out of memory");
            bad = 1;
            break;
        }
    }
    if (!bad && n == 0) {
        ckpt_api_error(r, 400, "invalid", "nothing to set: give {\"field\": \"value\", ...}");
        bad = 1;
    }
    if (!bad && !check_model(cat, id, r)) {
        struct ckpt_error err;
        int rc = ckpt_catalog_set(cat, id, fields, (const char *const *)values, n, &err);
        if (rc) {
            ckpt_api_status_error(r, rc, &err);
        } else {
            bump_writes(a);
            model_reply(cat, id, r);
        }
    }
    for (size_t i = 0; i < n; i++)
        free(values[i]);
    json_decref(doc);
}

/* the strings of doc[key] (an array of strings, or absent) */
static int string_list(json_t *doc, const char *key, const char **out, size_t *n,
                       struct ckpt_api_reply *r)
{
    *n = 0;
    json_t *arr = json_object_get(doc, key);
    if (!arr)
        return 0;
    if (!json_is_array(arr) || json_array_size(arr) > MAX_FIELDS) {
        ckpt_api_error(r, 400, "invalid", "%s: an array of at most %d strings", key, MAX_FIELDS);
        return -1;
    }
    size_t i;
    json_t *item;
    json_array_foreach(arr, i, item)
    {
        if (!json_is_string(item) || strlen(json_string_value(item)) != json_string_length(item)) {
            ckpt_api_error(r, 400, "invalid", "%s: an array of strings", key);
            return -1;
        }
        out[(*n)++] = json_string_value(item);
    }
    return 0;
}

void ckpt_api_tag(struct ckpt_api *a, int64_t id, const struct ckpt_api_args *q,
                  struct ckpt_api_reply *r)
{
    struct ckpt_catalog *cat = ckpt_api_catalog(a, r);
    json_t *doc = cat ? parse_body(q, r) : NULL;
    if (!doc)
        return;
    const char *add[MAX_FIELDS], *del[MAX_FIELDS];
    size_t nadd, ndel;
    if (!string_list(doc, "add", add, &nadd, r) && !string_list(doc, "remove", del, &ndel, r) &&
        !check_model(cat, id, r)) {
        struct ckpt_error err;
        int rc = ckpt_catalog_tag(cat, id, add, nadd, del, ndel, &err);
        if (rc) {
            ckpt_api_status_error(r, rc, &err);
        } else {
            bump_writes(a);
            model_reply(cat, id, r);
        }
    }
    json_decref(doc);
}

void ckpt_api_accept(struct ckpt_api *a, int64_t id, const struct ckpt_api_args *q,
                     struct ckpt_api_reply *r)
{
    struct ckpt_catalog *cat = ckpt_api_catalog(a, r);
    json_t *doc = cat ? parse_body(q, r) : NULL;
    if (!doc)
        return;
    const char *fields[MAX_FIELDS];
    size_t n;
    if (!string_list(doc, "fields", fields, &n, r) && !check_model(cat, id, r)) {
        struct ckpt_error err;
        size_t accepted = 0;
        int rc = ckpt_catalog_accept(cat, id, fields, n, &accepted, &err);
        if (rc) {
            ckpt_api_status_error(r, rc, &err);
        } else {
            bump_writes(a);
            model_reply(cat, id, r);
        }
    }
    json_decref(doc);
}

/* ---- choose -------------------------------------------------------------------------------- */

void ckpt_api_choose(struct ckpt_api *a, const struct ckpt_api_args *q, struct ckpt_api_reply *r)
{
    struct ckpt_catalog *cat = ckpt_api_catalog(a, r);
    if (!cat)
        return;
    struct ckpt_wish w = {0};
    w.output = arg(q, "output");
    w.realism = arg(q, "realism");
    w.family = arg(q, "family");
    w.ecosystem = arg(q, "ecosystem");
    w.subject = arg(q, "subject");
    w.kind = arg(q, "kind");
    long top = num_arg(q, "top", 10, 100);
    if (top < 0) {
        ckpt_api_error(r, 400, "invalid", "top: a number up to 100");
        return;
    }
    w.top = (size_t)top;
    struct ckpt_choice *ch;
    size_t n;
    struct ckpt_error err;
    int rc = ckpt_catalog_choose(cat, &w, &ch, &n, &err);
    if (rc) {
        ckpt_api_status_error(r, rc, &err);
        return;
    }
    r->status = 200;
    struct ckpt_json j;
    ckpt_json_init(&j, &r->body, 0);
    ckpt_json_arr_begin(&j);
    for (size_t i = 0; i < n; i++) {
        struct ckpt_model m = {0};
        if (ckpt_catalog_model_get(cat, ch[i].id, &m, &err) == CKPT_OK) {
            ckpt_json_obj_begin(&j);
            ckpt_json_key(&j, "model");
            ckpt_model_json(&m, &j);
            ckpt_json_key(&j, "score");
            ckpt_json_double(&j, ch[i].score);
            ckpt_json_key(&j, "why");
            ckpt_json_str(&j, ch[i].why);
            ckpt_json_obj_end(&j);
        }
        ckpt_model_release(&m);
    }
    ckpt_json_arr_end(&j);
    ckpt_choices_free(ch, n);
}

/* ---- previews ------------------------------------------------------------------------------ */

static const char *image_mime(const char *path)
{
    static const struct {
        const char *ext, *mime;
    } t[] = {{".png", "image/png"},
             {".jpg", "image/jpeg"},
             {".jpeg", "image/jpeg"},
             {".webp", "image/webp"},
             {".gif", "image/gif"}};
    size_t n = strlen(path);
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        size_t e = strlen(t[i].ext);
        if (n > e && strcasecmp(path + n - e, t[i].ext) == 0)
            return t[i].mime;
    }
    return NULL;
}

/* The image path comes from the catalog (what scan found next to the model), never from the
 * request: the request only names a model id. */
void ckpt_api_preview(struct ckpt_api *a, int64_t id, struct ckpt_api_reply *r)
{
    struct ckpt_catalog *cat = ckpt_api_catalog(a, r);
    if (!cat)
        return;
    struct ckpt_model m = {0};
    struct ckpt_error err;
    int rc = ckpt_catalog_model_get(cat, id, &m, &err);
    if (rc) {
        ckpt_model_release(&m);
        ckpt_api_error(r, 404, "not-found", "no model %lld in the catalog", (long long)id);
        return;
    }
    const char *mime = m.preview ? image_mime(m.preview) : NULL;
    if (!mime) {
        ckpt_api_error(r, 404, "no-preview", "model %lld has no preview image", (long long)id);
        ckpt_model_release(&m);
        return;
    }
    int fd = open(m.preview, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    ckpt_model_release(&m);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        (uint64_t)st.st_size > MAX_PREVIEW) {
        if (fd >= 0)
            close(fd);
        ckpt_api_error(r, 404, "no-preview", "model %lld's preview image cannot be read",
                       (long long)id);
        return;
    }
    r->status = 200;
    r->fd = fd;
    r->fd_size = (uint64_t)st.st_size;
    r->mime = mime;
}
