/* The collection as a whole, for the page's filters and overview: an in-memory summary (one row
 * of taxonomy values per model, read through the catalog library and rebuilt only when the
 * catalog's generation changes), and the routes built on it: facet counts for every taxonomy
 * axis, stats (counts, output x realism, disk use, largest files), dupes with space to reclaim,
 * the taxonomy's values and the scan status. Not for lists of models or writes (api.c). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_impl.h"

const char *const ckpt_api_axis_names[AX_COUNT] = {"kind",   "family",  "ecosystem", "origin",
                                                   "output", "realism", "subjects",  "tags",
                                                   "source", "rating",  "safety",    "problems"};
const char *const ckpt_api_axis_params[AX_COUNT] = {"kind",   "family",     "ecosystem", "origin",
                                                    "output", "realism",    "subject",   "tag",
                                                    "source", "min_rating", "safety",    "problem"};
const int ckpt_api_axis_is_list[AX_COUNT] = {0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 1};

static char *dup_or_null(const char *s)
{
    return s && *s ? strdup(s) : NULL;
}

static int cmp_row(const void *x, const void *y)
{
    int64_t a = ((const struct summary_row *)x)->id, b = ((const struct summary_row *)y)->id;
    return (a > b) - (a < b);
}

void ckpt_api_summary_free(struct summary *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->rows[i].name);
        for (int k = 0; k < AX_COUNT; k++)
            free(s->rows[i].v[k]);
    }
    free(s->rows);
    free(s);
}

/* the problem codes of a problems JSON array, comma-joined */
static char *problem_codes(const char *json)
{
    if (!json)
        return NULL;
    json_t *doc = json_loads(json, 0, NULL);
    struct ckpt_buf b = {0};
    size_t i;
    json_t *p;
    if (json_is_array(doc))
        json_array_foreach(doc, i, p)
        {
            const char *code = json_string_value(json_object_get(p, "code"));
            if (code && !strchr(code, ',')) {
                if (b.len)
                    ckpt_buf_putc(&b, ',');
                ckpt_buf_puts(&b, code);
            }
        }
    json_decref(doc);
    char *out = b.len && !b.oom ? strdup(ckpt_buf_cstr(&b)) : NULL;
    ckpt_buf_free(&b);
    return out;
}

struct build_ctx {
    struct summary *s;
    size_t cap;
    int oom;
};

static int add_row(void *user, const struct ckpt_model *m)
{
    struct build_ctx *b = user;
    struct summary *s = b->s;
    if (s->n == b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 1024;
        struct summary_row *nr = realloc(s->rows, nc * sizeof *nr);
        if (!nr) {
            b->oom = 1;
            return 1;
        }
        s->rows = nr;
        b->cap = nc;
    }
    struct summary_row *row = &s->rows[s->n++];
    memset(row, 0, sizeof *row);
    row->id = m->id;
    row->name = dup_or_null(m->name);
    row->size = m->size;
    row->missing = m->missing;
    row->failed = m->error != NULL;
    const char *vals[AX_COUNT] = {m->kind,   m->family,  m->ecosystem, m->origin,
                                  m->output, m->realism, m->subjects,  m->tags,
                                  m->source, NULL,       m->safety,    NULL};
    for (int k = 0; k < AX_COUNT; k++)
        row->v[k] = dup_or_null(vals[k]);
    if (m->rating > 0) {
        char r[16];
        snprintf(r, sizeof r, "%d", m->rating);
        row->v[AX_RATING] = strdup(r);
    }
    row->v[AX_PROBLEMS] = problem_codes(m->problems);
    return 0;
}

/* one row per model, in id order, read in batches (the listing columns only) */
static int build(struct ckpt_catalog *cat, struct summary *s, struct ckpt_error *err)
{
    struct build_ctx b = {.s = s};
    int rc = ckpt_catalog_models_each(cat, NULL, 0, 0, add_row, &b, err);
    if (!rc && b.oom)
        rc = ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
    if (rc)
        return rc;
    qsort(s->rows, s->n, sizeof *s->rows, cmp_row); /* already in id order; kept as a guard */
    return CKPT_OK;
}

struct summary *ckpt_api_summary(struct ckpt_api *a, struct ckpt_api_reply *r)
{
    uint64_t gen = ckpt_api_generation(a);
    pthread_mutex_lock(&a->mu);
    for (;;) {
        if (a->sum && a->sum->gen == gen) {
            a->sum->refs++;
            struct summary *s = a->sum;
            pthread_mutex_unlock(&a->mu);
            return s;
        }
        if (!a->building)
            break;
        /* another thread (the start-up prebuild, or a request) is building it: wait for that
           rather than reading the whole catalog twice at once */
        pthread_cond_wait(&a->built, &a->mu);
    }
    a->building = 1;
    pthread_mutex_unlock(&a->mu);
    struct ckpt_catalog *cat = ckpt_api_catalog(a, r);
    struct summary *s = cat ? calloc(1, sizeof *s) : NULL;
    struct ckpt_error err;
    int rc = !cat ? CKPT_E_IO
             : s  ? build(cat, s, &err)
                  : ckpt_error_set(&err, CKPT_E_NOMEM, "out of memory");
    pthread_mutex_lock(&a->mu);
    a->building = 0;
    pthread_cond_broadcast(&a->built);
    if (rc) {
        pthread_mutex_unlock(&a->mu);
        ckpt_api_summary_free(s);
        if (cat)
            ckpt_api_status_error(r, rc, &err);
        return NULL;
    }
    s->gen = gen;
    s->refs = 2; /* the caller's and the api's own */
    struct summary *old = a->sum;
    a->sum = s;
    if (old && --old->refs == 0)
        ckpt_api_summary_free(old);
    pthread_mutex_unlock(&a->mu);
    return s;
}

static void *prebuild(void *user)
{
    struct ckpt_api *a = user;
    struct ckpt_api_reply r = {.fd = -1};
    struct summary *s = ckpt_api_summary(a, &r);
    if (s)
        ckpt_api_summary_release(a, s);
    ckpt_buf_free(&r.body);
    return NULL;
}

void ckpt_api_prebuild(struct ckpt_api *a)
{
    pthread_mutex_lock(&a->mu);
    if (!a->prebuilding && pthread_create(&a->prebuild, NULL, prebuild, a) == 0)
        a->prebuilding = 1;
    pthread_mutex_unlock(&a->mu);
}

void ckpt_api_summary_release(struct ckpt_api *a, struct summary *s)
{
    pthread_mutex_lock(&a->mu);
    int last = --s->refs == 0;
    pthread_mutex_unlock(&a->mu);
    if (last)
        ckpt_api_summary_free(s);
}

const struct summary_row *ckpt_api_summary_find(const struct summary *s, int64_t id)
{
    struct summary_row key = {.id = id};
    return bsearch(&key, s->rows, s->n, sizeof *s->rows, cmp_row);
}

/* ---- facets -------------------------------------------------------------------------------- */

struct count {
    const char *value;
    uint64_t n, bytes;
};

struct counts {
    struct count *c;
    size_t n, cap;
};

static void count_add(struct counts *cs, const char *value, uint64_t bytes)
{
    for (size_t i = 0; i < cs->n; i++)
        if (strcmp(cs->c[i].value, value) == 0) {
            cs->c[i].n++;
            cs->c[i].bytes += bytes;
            return;
        }
    if (cs->n == cs->cap) {
        size_t nc = cs->cap ? cs->cap * 2 : 16;
        struct count *p = realloc(cs->c, nc * sizeof *p);
        if (!p)
            return;
        cs->c = p;
        cs->cap = nc;
    }
    cs->c[cs->n++] = (struct count){value, 1, bytes};
}

/* add each item of a comma list (they live in the summary, so point into a copy kept here) */
static void count_items(struct counts *cs, const char *v, int is_list, uint64_t bytes,
                        char *scratch, size_t sn, const char ***interned, size_t *ni)
{
    if (!v) {
        count_add(cs, "none", bytes);
        return;
    }
    if (!is_list) {
        count_add(cs, v, bytes);
        return;
    }
    for (const char *p = v; *p;) {
        const char *e = strchr(p, ',');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l && l < sn) {
            memcpy(scratch, p, l);
            scratch[l] = 0;
            const char *found = NULL;
            for (size_t i = 0; i < *ni && !found; i++)
                if (strcmp((*interned)[i], scratch) == 0)
                    found = (*interned)[i];
            if (!found) {
                const char **g = realloc(*interned, (*ni + 1) * sizeof *g);
                char *d = strdup(scratch);
                if (g)
                    *interned = g;
                if (g && d) {
                    (*interned)[(*ni)++] = d;
                    found = d;
                } else {
                    free(d);
                }
            }
            if (found)
                count_add(cs, found, bytes);
        }
        if (!e)
            break;
        p = e + 1;
    }
}

static int by_count(const void *x, const void *y)
{
    const struct count *a = x, *b = y;
    if (a->n != b->n)
        return a->n < b->n ? 1 : -1;
    return strcmp(a->value, b->value);
}

static int row_passes(const struct summary_row *row, const char *const *want, int except)
{
    for (int k = 0; k < AX_COUNT; k++) {
        if (k == except || !want[k])
            continue;
        const char *v = row->v[k];
        if (k == AX_RATING) {
            if (!v || atoi(v) < atoi(want[k]))
                return 0;
        } else if (strcmp(want[k], "none") == 0 && (k == AX_PROBLEMS || k == AX_TAGS)) {
            if (v)
                return 0;
        } else if (ckpt_api_axis_is_list[k] ? !ckpt_api_list_has(v, want[k])
                                            : !v || strcmp(v, want[k]) != 0) {
            return 0;
        }
    }
    return 1;
}

static void emit_counts(struct ckpt_json *j, struct counts *cs, int with_bytes)
{
    qsort(cs->c, cs->n, sizeof *cs->c, by_count);
    ckpt_json_arr_begin(j);
    for (size_t i = 0; i < cs->n; i++) {
        ckpt_json_obj_begin(j);
        ckpt_json_key(j, "value");
        ckpt_json_str(j, cs->c[i].value);
        ckpt_json_key(j, "count");
        ckpt_json_u64(j, cs->c[i].n);
        if (with_bytes) {
            ckpt_json_key(j, "bytes");
            ckpt_json_u64(j, cs->c[i].bytes);
        }
        ckpt_json_obj_end(j);
    }
    ckpt_json_arr_end(j);
}

static int cmp_i64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return (a > b) - (a < b);
}

/* Counts of each value of each axis among the models that pass every other axis's filter (so a
 * chosen filter still shows its alternatives), plus the text search and missing=0. */
void ckpt_api_facets(struct ckpt_api *a, const struct ckpt_api_args *q, struct ckpt_api_reply *r)
{
    const char *want[AX_COUNT];
    for (int k = 0; k < AX_COUNT; k++) {
        const char *v = q->get(q->user, ckpt_api_axis_params[k]);
        want[k] = v && *v ? v : NULL;
    }
    /* the same validation as the list, so a bad value is a 400 here too */
    static const char *const checked[] = {"kind",   "family",  "ecosystem", "origin",
                                          "output", "realism", "subjects",  NULL,
                                          "source", NULL,      "safety",    NULL};
    for (int k = 0; k < AX_COUNT; k++) {
        struct ckpt_error err;
        if (want[k] && checked[k] && ckpt_taxonomy_check(checked[k], want[k], &err)) {
            ckpt_api_status_error(r, CKPT_E_ARG, &err);
            return;
        }
    }
    if (want[AX_RATING] &&
        (strlen(want[AX_RATING]) != 1 || want[AX_RATING][0] < '1' || want[AX_RATING][0] > '5')) {
        ckpt_api_error(r, 400, "invalid", "min_rating: '%s' is not one of 1, 2, 3, 4, 5",
                       want[AX_RATING]);
        return;
    }
    const char *text = q->get(q->user, "q");
    const char *missing = q->get(q->user, "missing");
    int present_only = missing && strcmp(missing, "0") == 0;
    int64_t *found = NULL;
    size_t nf = 0;
    if (text && *text) {
        struct ckpt_catalog *cat = ckpt_api_catalog(a, r);
        struct ckpt_error err;
        if (!cat)
            return;
        int rc = ckpt_catalog_search(cat, text, &found, &nf, &err);
        if (rc) {
            ckpt_api_status_error(r, rc, &err);
            return;
        }
        qsort(found, nf, sizeof *found, cmp_i64);
    }
    struct summary *s = ckpt_api_summary(a, r);
    if (!s) {
        free(found);
        return;
    }
    struct counts cs[AX_COUNT] = {0};
    const char **interned = NULL;
    size_t ni = 0, total = 0;
    char scratch[256];
    for (size_t i = 0; i < s->n; i++) {
        const struct summary_row *row = &s->rows[i];
        if (present_only && row->missing)
            continue;
        if (text && *text && !bsearch(&row->id, found, nf, sizeof *found, cmp_i64))
            continue;
        if (row_passes(row, want, -1))
            total++;
        for (int k = 0; k < AX_COUNT; k++)
            if (row_passes(row, want, k))
                count_items(&cs[k], row->v[k], ckpt_api_axis_is_list[k], row->size, scratch,
                            sizeof scratch, &interned, &ni);
    }
    r->status = 200;
    struct ckpt_json j;
    ckpt_json_init(&j, &r->body, 0);
    ckpt_json_obj_begin(&j);
    ckpt_json_key(&j, "total");
    ckpt_json_u64(&j, total);
    ckpt_json_key(&j, "facets");
    ckpt_json_obj_begin(&j);
    for (int k = 0; k < AX_COUNT; k++) {
        ckpt_json_key(&j, ckpt_api_axis_names[k]);
        emit_counts(&j, &cs[k], 0);
        free(cs[k].c);
    }
    ckpt_json_obj_end(&j);
    ckpt_json_obj_end(&j);
    for (size_t i = 0; i < ni; i++)
        free((char *)interned[i]);
    free(interned);
    free(found);
    ckpt_api_summary_release(a, s);
}

/* ---- dupes --------------------------------------------------------------------------------- */

struct dupes_ctx {
    struct ckpt_json *j;
    const struct summary *s;
    uint64_t groups, reclaim;
    int emit;
};

static int on_dupe(void *user, const char *key, int confirmed, const int64_t *ids, size_t n)
{
    struct dupes_ctx *d = user;
    uint64_t size = 0;
    for (size_t i = 0; i < n; i++) {
        const struct summary_row *row = ckpt_api_summary_find(d->s, ids[i]);
        if (row && row->size > size)
            size = row->size;
    }
    d->groups++;
    if (confirmed)
        d->reclaim += size * (n - 1);
    if (!d->emit)
        return 0;
    struct ckpt_json *j = d->j;
    ckpt_json_obj_begin(j);
    ckpt_json_key(j, "key");
    ckpt_json_str(j, key);
    ckpt_json_key(j, "confirmed");
    ckpt_json_bool(j, confirmed);
    ckpt_json_key(j, "size");
    ckpt_json_u64(j, size);
    ckpt_json_key(j, "reclaim");
    ckpt_json_u64(j, confirmed ? size * (n - 1) : 0);
    ckpt_json_key(j, "models");
    ckpt_json_arr_begin(j);
    for (size_t i = 0; i < n; i++) {
        const struct summary_row *row = ckpt_api_summary_find(d->s, ids[i]);
        ckpt_json_obj_begin(j);
        ckpt_json_key(j, "id");
        ckpt_json_i64(j, ids[i]);
        ckpt_json_key(j, "name");
        ckpt_json_str(j, row ? row->name : NULL);
        ckpt_json_obj_end(j);
    }
    ckpt_json_arr_end(j);
    ckpt_json_obj_end(j);
    return 0;
}

void ckpt_api_dupes(struct ckpt_api *a, struct ckpt_api_reply *r)
{
    struct ckpt_catalog *cat = ckpt_api_catalog(a, r);
    struct summary *s = cat ? ckpt_api_summary(a, r) : NULL;
    if (!s)
        return;
    struct ckpt_json j;
    ckpt_json_init(&j, &r->body, 0);
    struct dupes_ctx d = {&j, s, 0, 0, 1};
    ckpt_json_arr_begin(&j);
    struct ckpt_error err;
    int rc = ckpt_catalog_dupes(cat, on_dupe, &d, &err);
    ckpt_json_arr_end(&j);
    ckpt_api_summary_release(a, s);
    if (rc)
        ckpt_api_status_error(r, rc, &err);
    else
        r->status = 200;
}

/* ---- stats --------------------------------------------------------------------------------- */

static int by_size(const void *x, const void *y)
{
    const struct summary_row *a = *(const struct summary_row *const *)x;
    const struct summary_row *b = *(const struct summary_row *const *)y;
    if (a->size != b->size)
        return a->size < b->size ? 1 : -1;
    return cmp_row(a, b);
}

void ckpt_api_stats(struct ckpt_api *a, struct ckpt_api_reply *r)
{
    struct ckpt_catalog *cat = ckpt_api_catalog(a, r);
    struct summary *s = cat ? ckpt_api_summary(a, r) : NULL;
    if (!s)
        return;
    struct counts fam = {0}, kind = {0}, origin = {0}, cells = {0};
    const char **interned = NULL;
    size_t ni = 0;
    char scratch[256], cell[300];
    uint64_t bytes = 0, missing = 0, failed = 0;
    for (size_t i = 0; i < s->n; i++) {
        const struct summary_row *row = &s->rows[i];
        bytes += row->size;
        missing += row->missing != 0;
        failed += row->failed != 0;
        count_items(&fam, row->v[AX_FAMILY], 0, row->size, scratch, sizeof scratch, &interned, &ni);
        count_items(&kind, row->v[AX_KIND], 0, row->size, scratch, sizeof scratch, &interned, &ni);
        count_items(&origin, row->v[AX_ORIGIN], 0, row->size, scratch, sizeof scratch, &interned,
                    &ni);
        /* output x realism cells "output|realism", one per realism item */
        const char *out = row->v[AX_OUTPUT] ? row->v[AX_OUTPUT] : "none";
        const char *re = row->v[AX_REALISM] ? row->v[AX_REALISM] : "none";
        for (const char *p = re; *p;) {
            const char *e = strchr(p, ',');
            int l = e ? (int)(e - p) : (int)strlen(p);
            snprintf(cell, sizeof cell, "%s|%.*s", out, l, p);
            count_items(&cells, cell, 1, row->size, scratch, sizeof scratch, &interned, &ni);
            if (!e)
                break;
            p = e + 1;
        }
    }
    r->status = 200;
    struct ckpt_json j;
    ckpt_json_init(&j, &r->body, 0);
    ckpt_json_obj_begin(&j);
    ckpt_json_key(&j, "models");
    ckpt_json_u64(&j, s->n);
    ckpt_json_key(&j, "bytes");
    ckpt_json_u64(&j, bytes);
    ckpt_json_key(&j, "missing");
    ckpt_json_u64(&j, missing);
    ckpt_json_key(&j, "failed");
    ckpt_json_u64(&j, failed);
    ckpt_json_key(&j, "by_family");
    emit_counts(&j, &fam, 1);
    ckpt_json_key(&j, "by_kind");
    emit_counts(&j, &kind, 1);
    ckpt_json_key(&j, "by_origin");
    emit_counts(&j, &origin, 1);
    ckpt_json_key(&j, "output_realism");
    qsort(cells.c, cells.n, sizeof *cells.c, by_count);
    ckpt_json_arr_begin(&j);
    for (size_t i = 0; i < cells.n; i++) {
        const char *bar = strchr(cells.c[i].value, '|');
        ckpt_json_obj_begin(&j);
        ckpt_json_key(&j, "output");
        ckpt_json_strn(&j, cells.c[i].value, bar ? (size_t)(bar - cells.c[i].value) : 0);
        ckpt_json_key(&j, "realism");
        ckpt_json_str(&j, bar ? bar + 1 : "none");
        ckpt_json_key(&j, "count");
        ckpt_json_u64(&j, cells.c[i].n);
        ckpt_json_obj_end(&j);
    }
    ckpt_json_arr_end(&j);
    ckpt_json_key(&j, "largest");
    ckpt_json_arr_begin(&j);
    const struct summary_row **order = malloc((s->n ? s->n : 1) * sizeof *order);
    if (order) {
        for (size_t i = 0; i < s->n; i++)
            order[i] = &s->rows[i];
        qsort(order, s->n, sizeof *order, by_size);
        for (size_t i = 0; i < s->n && i < 10; i++) {
            ckpt_json_obj_begin(&j);
            ckpt_json_key(&j, "id");
            ckpt_json_i64(&j, order[i]->id);
            ckpt_json_key(&j, "name");
            ckpt_json_str(&j, order[i]->name);
            ckpt_json_key(&j, "size");
            ckpt_json_u64(&j, order[i]->size);
            ckpt_json_key(&j, "family");
            ckpt_json_str(&j, order[i]->v[AX_FAMILY]);
            ckpt_json_obj_end(&j);
        }
        free(order);
    }
    ckpt_json_arr_end(&j);
    struct dupes_ctx d = {&j, s, 0, 0, 0};
    struct ckpt_error err;
    int rc = ckpt_catalog_dupes(cat, on_dupe, &d, &err);
    ckpt_json_key(&j, "dupes");
    ckpt_json_obj_begin(&j);
    ckpt_json_key(&j, "groups");
    ckpt_json_u64(&j, d.groups);
    ckpt_json_key(&j, "reclaim");
    ckpt_json_u64(&j, d.reclaim);
    ckpt_json_obj_end(&j);
    ckpt_json_obj_end(&j);
    free(fam.c);
    free(kind.c);
    free(origin.c);
    free(cells.c);
    for (size_t i = 0; i < ni; i++)
        free((char *)interned[i]);
    free(interned);
    ckpt_api_summary_release(a, s);
    if (rc)
        ckpt_api_status_error(r, rc, &err);
}

/* ---- taxonomy and scan status -------------------------------------------------------------- */

void ckpt_api_taxonomy(struct ckpt_api *a, struct ckpt_api_reply *r)
{
    (void)a;
    static const char *const fields[] = {"kind",    "family",   "ecosystem",  "origin",   "output",
                                         "realism", "subjects", "source",     "safety",   "format",
                                         "network", "variant",  "prediction", "precision"};
    r->status = 200;
    struct ckpt_json j;
    ckpt_json_init(&j, &r->body, 0);
    ckpt_json_obj_begin(&j);
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const char *const *v = ckpt_taxonomy_values(fields[i]);
        if (!v)
            continue;
        ckpt_json_key(&j, fields[i]);
        ckpt_json_arr_begin(&j);
        for (; *v; v++)
            ckpt_json_str(&j, *v);
        ckpt_json_arr_end(&j);
    }
    ckpt_json_obj_end(&j);
}

void ckpt_api_scan_status(struct ckpt_api *a, struct ckpt_api_reply *r)
{
    struct ckpt_catalog *cat = ckpt_api_catalog(a, r);
    struct summary *s = cat ? ckpt_api_summary(a, r) : NULL;
    if (!s)
        return;
    uint64_t missing = 0, failed = 0;
    for (size_t i = 0; i < s->n; i++) {
        missing += s->rows[i].missing != 0;
        failed += s->rows[i].failed != 0;
    }
    r->status = 200;
    struct ckpt_json j;
    ckpt_json_init(&j, &r->body, 0);
    ckpt_json_obj_begin(&j);
    ckpt_json_key(&j, "catalog");
    char *shown = ckpt_catalog_display_name(a->db_path);
    ckpt_json_str(&j, shown ? shown : "");
    free(shown);
    ckpt_json_key(&j, "schema_version");
    ckpt_json_i64(&j, ckpt_catalog_schema_version(cat));
    ckpt_json_key(&j, "models");
    ckpt_json_u64(&j, s->n);
    ckpt_json_key(&j, "missing");
    ckpt_json_u64(&j, missing);
    ckpt_json_key(&j, "failed");
    ckpt_json_u64(&j, failed);
    ckpt_json_key(&j, "generation");
    char g[24];
    snprintf(g, sizeof g, "%016llx", (unsigned long long)s->gen);
    ckpt_json_str(&j, g);
    ckpt_json_obj_end(&j);
    ckpt_api_summary_release(a, s);
}
