/* The safetensors writer: declare, write the header, stream the data, commit atomically.
 * Used by the fixture generator and by every command that makes a new file. Not a reader. */
#include "ckptdb/safetensors.h"

#include <stdlib.h>
#include <string.h>

#include "ckptdb/atomic.h"
#include "ckptdb/buf.h"
#include "ckptdb/limits.h"

struct st_decl {
    char *name;
    enum ckpt_dtype dtype;
    uint32_t ndim;
    uint64_t shape[CKPT_MAX_DIMS];
    uint64_t nbytes;
};

struct st_meta {
    char *key, *value;
};

struct ckpt_st_writer {
    struct ckpt_atomic_file *f;
    char *path;
    struct st_decl *t;
    size_t n, cap;
    struct st_meta *m;
    size_t nm, capm;
    uint64_t data_size, written;
    int header_done;
};

int ckpt_st_writer_open(struct ckpt_st_writer **out, const char *path, int force,
                        struct ckpt_error *err)
{
    *out = NULL;
    struct ckpt_st_writer *w = calloc(1, sizeof *w);
    if (!w || !(w->path = strdup(path))) {
        free(w);
        return ckpt_error_setf(err, CKPT_E_NOMEM, path, "out of memory");
    }
    int rc = ckpt_atomic_open(&w->f, path, force, err);
    if (rc) {
        free(w->path);
        free(w);
        return rc;
    }
    *out = w;
    return CKPT_OK;
}

void ckpt_st_writer_stream(struct ckpt_st_writer *w)
{
    if (!w->header_done)
        ckpt_atomic_stream(w->f);
}

int ckpt_st_writer_meta(struct ckpt_st_writer *w, const char *key, const char *value,
                        struct ckpt_error *err)
{
    if (w->header_done)
        return ckpt_error_setf(err, CKPT_E_ARG, w->path, "metadata after the header");
    for (size_t i = 0; i < w->nm; i++)
        if (strcmp(w->m[i].key, key) == 0) {
            char *v = strdup(value);
            if (!v)
                return ckpt_error_setf(err, CKPT_E_NOMEM, w->path, "out of memory");
            free(w->m[i].value);
            w->m[i].value = v;
            return CKPT_OK;
        }
    if (w->nm == w->capm) {
        size_t c = w->capm ? w->capm * 2 : 16;
        struct st_meta *q = realloc(w->m, c * sizeof *q);
        if (!q)
            return ckpt_error_setf(err, CKPT_E_NOMEM, w->path, "out of memory");
        w->m = q;
        w->capm = c;
    }
    w->m[w->nm].key = strdup(key);
    w->m[w->nm].value = strdup(value);
    if (!w->m[w->nm].key || !w->m[w->nm].value) {
        free(w->m[w->nm].key);
        free(w->m[w->nm].value);
        return ckpt_error_setf(err, CKPT_E_NOMEM, w->path, "out of memory");
    }
    w->nm++;
    return CKPT_OK;
}

int ckpt_st_writer_declare(struct ckpt_st_writer *w, const char *name, enum ckpt_dtype dtype,
                           uint32_t ndim, const uint64_t *shape, struct ckpt_error *err)
{
    if (w->header_done)
        return ckpt_error_setf(err, CKPT_E_ARG, w->path, "tensor declared after the header");
    if (ndim > CKPT_MAX_DIMS || ckpt_dtype_is_quantized(dtype) || dtype == CKPT_DT_INVALID ||
        dtype == CKPT_DT_C128)
        return ckpt_error_setf(err, CKPT_E_ARG, w->path, "tensor '%s': cannot be stored", name);
    if (strcmp(name, "__metadata__") == 0)
        return ckpt_error_setf(err, CKPT_E_ARG, w->path, "a tensor cannot be named __metadata__");
    uint64_t numel = 1, nb;
    for (uint32_t d = 0; d < ndim; d++)
        if (__builtin_mul_overflow(numel, shape[d], &numel))
            return ckpt_error_setf(err, CKPT_E_ARG, w->path, "tensor '%s': shape overflows", name);
    if (ckpt_dtype_nbytes(dtype, numel, &nb) ||
        __builtin_add_overflow(w->data_size, nb, &w->data_size))
        return ckpt_error_setf(err, CKPT_E_ARG, w->path, "tensor '%s': bad size", name);
    if (w->n == w->cap) {
        size_t c = w->cap ? w->cap * 2 : 64;
        struct st_decl *q = realloc(w->t, c * sizeof *q);
        if (!q)
            return ckpt_error_setf(err, CKPT_E_NOMEM, w->path, "out of memory");
        w->t = q;
        w->cap = c;
    }
    struct st_decl *t = &w->t[w->n];
    memset(t, 0, sizeof *t);
    t->name = strdup(name);
    if (!t->name)
        return ckpt_error_setf(err, CKPT_E_NOMEM, w->path, "out of memory");
    t->dtype = dtype;
    t->ndim = ndim;
    if (ndim)
        memcpy(t->shape, shape, ndim * sizeof *shape);
    t->nbytes = nb;
    w->n++;
    return CKPT_OK;
}

int ckpt_st_writer_begin_data(struct ckpt_st_writer *w, struct ckpt_error *err)
{
    if (w->header_done)
        return CKPT_OK;
    struct ckpt_buf b = {0};
    ckpt_buf_putc(&b, '{');
    int first = 1;
    if (w->nm) {
        ckpt_buf_puts(&b, "\"__metadata__\":{");
        for (size_t i = 0; i < w->nm; i++) {
            if (i)
                ckpt_buf_putc(&b, ',');
            ckpt_json_escape(&b, w->m[i].key, strlen(w->m[i].key));
            ckpt_buf_putc(&b, ':');
            ckpt_json_escape(&b, w->m[i].value, strlen(w->m[i].value));
        }
        ckpt_buf_putc(&b, '}');
        first = 0;
    }
    uint64_t off = 0;
    for (size_t i = 0; i < w->n; i++) {
        const struct st_decl *t = &w->t[i];
        if (!first)
            ckpt_buf_putc(&b, ',');
        first = 0;
        ckpt_json_escape(&b, t->name, strlen(t->name));
        ckpt_buf_printf(&b, ":{\"dtype\":\"%s\",\"shape\":[", ckpt_dtype_name(t->dtype));
        for (uint32_t d = 0; d < t->ndim; d++)
            ckpt_buf_printf(&b, d ? ",%llu" : "%llu", (unsigned long long)t->shape[d]);
        ckpt_buf_printf(&b, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)off,
                        (unsigned long long)(off + t->nbytes));
        off += t->nbytes;
    }
    ckpt_buf_putc(&b, '}');
    while (b.len % 8)
        ckpt_buf_putc(&b, ' ');
    if (b.oom) {
        ckpt_buf_free(&b);
        return ckpt_error_setf(err, CKPT_E_NOMEM, w->path, "out of memory");
    }
    if (b.len > ckpt_limits_defaults()->safetensors_header_max) {
        ckpt_buf_free(&b);
        return ckpt_error_setf(err, CKPT_E_LIMIT, w->path,
                               "header of %zu bytes exceeds the safetensors limit", b.len);
    }
    unsigned char lb[8];
    uint64_t n = b.len;
    for (int i = 0; i < 8; i++)
        lb[i] = (unsigned char)(n >> (8 * i));
    int rc = ckpt_atomic_write(w->f, lb, 8, err);
    if (!rc)
        rc = ckpt_atomic_write(w->f, b.data, b.len, err);
    ckpt_buf_free(&b);
    if (!rc)
        w->header_done = 1;
    return rc;
}

int ckpt_st_writer_data(struct ckpt_st_writer *w, const void *p, size_t n, struct ckpt_error *err)
{
    int rc = ckpt_st_writer_begin_data(w, err);
    if (rc)
        return rc;
    if (n > w->data_size - w->written)
        return ckpt_error_setf(err, CKPT_E_ARG, w->path, "more data than the tensors declared");
    rc = ckpt_atomic_write(w->f, p, n, err);
    if (!rc)
        w->written += n;
    return rc;
}

int ckpt_st_writer_zeros(struct ckpt_st_writer *w, uint64_t n, struct ckpt_error *err)
{
    int rc = ckpt_st_writer_begin_data(w, err);
    if (rc)
        return rc;
    if (n > w->data_size - w->written)
        return ckpt_error_setf(err, CKPT_E_ARG, w->path, "more data than the tensors declared");
    rc = ckpt_atomic_skip(w->f, n, err);
    if (!rc)
        w->written += n;
    return rc;
}

uint64_t ckpt_st_writer_data_size(const struct ckpt_st_writer *w)
{
    return w->data_size;
}

uint64_t ckpt_st_writer_data_written(const struct ckpt_st_writer *w)
{
    return w->written;
}

static void free_writer(struct ckpt_st_writer *w)
{
    for (size_t i = 0; i < w->n; i++)
        free(w->t[i].name);
    for (size_t i = 0; i < w->nm; i++) {
        free(w->m[i].key);
        free(w->m[i].value);
    }
    free(w->t);
    free(w->m);
    free(w->path);
    free(w);
}

int ckpt_st_writer_finish(struct ckpt_st_writer *w, struct ckpt_error *err)
{
    int rc = ckpt_st_writer_begin_data(w, err);
    if (!rc && w->written != w->data_size)
        rc = ckpt_error_setf(err, CKPT_E_ARG, w->path, "%llu of %llu data bytes written",
                             (unsigned long long)w->written, (unsigned long long)w->data_size);
    if (rc) {
        ckpt_atomic_abort(w->f);
        free_writer(w);
        return rc;
    }
    rc = ckpt_atomic_commit(w->f, err);
    free_writer(w);
    return rc;
}

void ckpt_st_writer_abort(struct ckpt_st_writer *w)
{
    if (!w)
        return;
    ckpt_atomic_abort(w->f);
    free_writer(w);
}
