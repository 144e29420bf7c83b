/* The tensorset: format detection, the table of tensors/metadata/sources every parser fills,
 * lookup by name, and reading a (small) tensor's bytes. Not for parsing any particular format
 * (lib/format/) nor for interpreting what the tensors mean (lib/identify/). */
#include "tensorset_impl.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- arena ---------------------------------------------------------------------------------- */

struct ts_arena_block {
    struct ts_arena_block *next;
    size_t used, cap;
    char data[];
};

const char *ckpt_ts_strdup(struct ckpt_tensorset *ts, const char *s, size_t len)
{
    struct ts_arena_block *b = ts->arena;
    if (len >= SIZE_MAX / 2)
        return NULL;
    if (!b || b->cap - b->used < len + 1) {
        size_t cap = 64 * 1024;
        if (cap < len + 1)
            cap = len + 1;
        b = malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->cap = cap;
        b->used = 0;
        b->next = ts->arena;
        ts->arena = b;
    }
    char *p = b->data + b->used;
    if (len)
        memcpy(p, s, len);
    p[len] = '\0';
    b->used += len + 1;
    return p;
}

/* ---- construction ---------------------------------------------------------------------------- */

struct ckpt_tensorset *ckpt_ts_new(const char *path, const struct ckpt_limits *limits)
{
    struct ckpt_tensorset *ts = calloc(1, sizeof *ts);
    if (!ts)
        return NULL;
    ts->limits = limits ? limits : ckpt_limits_defaults();
    ts->path = strdup(path ? path : "(input)");
    if (!ts->path) {
        free(ts);
        return NULL;
    }
    return ts;
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 16;
    while (n < need) {
        if (n > SIZE_MAX / 2 / elem)
            return -1;
        n *= 2;
    }
    void *q = realloc(*p, n * elem);
    if (!q)
        return -1;
    *p = q;
    *cap = n;
    return 0;
}

int ckpt_ts_add_source(struct ckpt_tensorset *ts, const char *path, const char *member,
                       uint64_t file_offset, uint64_t size, int compressed, uint32_t *idx,
                       struct ckpt_error *err)
{
    if (ts->n_sources >= UINT32_MAX - 1 ||
        grow((void **)&ts->sources, &ts->cap_sources, ts->n_sources + 1, sizeof *ts->sources))
        return ckpt_error_setf(err, CKPT_E_NOMEM, ckpt_ts_name(ts), "out of memory");
    struct ts_source *s = &ts->sources[ts->n_sources];
    memset(s, 0, sizeof *s);
    s->pub.path = path ? ckpt_ts_strdup(ts, path, strlen(path)) : ts->path;
    s->pub.member = member ? ckpt_ts_strdup(ts, member, strlen(member)) : NULL;
    if (!s->pub.path || (member && !s->pub.member))
        return ckpt_error_setf(err, CKPT_E_NOMEM, ckpt_ts_name(ts), "out of memory");
    s->pub.file_offset = file_offset;
    s->pub.size = size;
    s->pub.compressed = compressed;
    *idx = (uint32_t)ts->n_sources++;
    return CKPT_OK;
}

/* A word-at-a-time hash of a tensor name (names are 20-120 bytes; this runs for every tensor
 * of every file opened). Not cryptographic; collisions only cost a strcmp. */
static uint64_t name_hash(const char *s, size_t len)
{
    uint64_t h = 0x9E3779B97F4A7C15ull ^ len;
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = (h ^ w) * 0xBF58476D1CE4E5B9ull;
        h ^= h >> 31;
        s += 8;
        len -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, s, len);
    h = (h ^ w) * 0x94D049BB133111EBull;
    h ^= h >> 29;
    return h;
}

static int index_insert(struct ckpt_tensorset *ts, size_t ti, size_t name_len)
{
    if ((ts->n_tensors + 1) * 2 > ts->index_cap) {
        size_t ncap = ts->index_cap ? ts->index_cap * 2 : 64;
        while ((ts->n_tensors + 1) * 2 > ncap)
            ncap *= 2;
        struct ts_slot *ni = calloc(ncap, sizeof *ni);
        if (!ni)
            return CKPT_E_NOMEM;
        for (size_t i = 0; i < ts->index_cap; i++) {
            if (!ts->index[i].idx1)
                continue;
            size_t h = ts->index[i].hash & (ncap - 1);
            while (ni[h].idx1)
                h = (h + 1) & (ncap - 1);
            ni[h] = ts->index[i];
        }
        free(ts->index);
        ts->index = ni;
        ts->index_cap = ncap;
    }
    const char *name = ts->tensors[ti].name;
    uint32_t full = (uint32_t)name_hash(name, name_len);
    size_t h = full & (ts->index_cap - 1);
    while (ts->index[h].idx1) {
        if (ts->index[h].hash == full && strcmp(ts->tensors[ts->index[h].idx1 - 1].name, name) == 0)
            return CKPT_E_FORMAT;
        h = (h + 1) & (ts->index_cap - 1);
    }
    ts->index[h].idx1 = (uint32_t)(ti + 1);
    ts->index[h].hash = full;
    return CKPT_OK;
}

int ckpt_ts_add_tensor(struct ckpt_tensorset *ts, const struct ckpt_tensor *t, size_t name_len,
                       struct ckpt_error *err)
{
    const char *fname = ckpt_ts_name(ts);
    if (ts->n_tensors >= ts->limits->max_tensors || ts->n_tensors >= UINT32_MAX - 1)
        return ckpt_error_setf(err, CKPT_E_LIMIT, fname, "more than %llu tensors",
                               (unsigned long long)ts->limits->max_tensors);
    if (name_len > ts->limits->max_name_len)
        return ckpt_error_setf(err, CKPT_E_LIMIT, fname, "tensor name of %zu bytes exceeds %llu",
                               name_len, (unsigned long long)ts->limits->max_name_len);
    if (t->ndim > CKPT_MAX_DIMS || t->ndim > ts->limits->max_dims)
        return ckpt_error_setf(err, CKPT_E_LIMIT, fname, "tensor '%.*s' has %u dimensions",
                               (int)(name_len > 200 ? 200 : name_len), t->name, t->ndim);
    if (t->source >= ts->n_sources)
        return ckpt_error_setf(err, CKPT_E_ARG, fname, "tensor '%.*s' names no source",
                               (int)(name_len > 200 ? 200 : name_len), t->name);
    if (memchr(t->name, '\0', name_len))
        return ckpt_error_setf(err, CKPT_E_FORMAT, fname, "tensor name contains a NUL byte");
    struct ckpt_tensor c = *t;
    int has_stride = 0;
    for (uint32_t d = 0; d < c.ndim; d++)
        if (c.stride[d])
            has_stride = 1;
    /* element count */
    uint64_t numel = 1;
    for (uint32_t d = 0; d < c.ndim; d++)
        if (__builtin_mul_overflow(numel, c.shape[d], &numel))
            return ckpt_error_setf(err, CKPT_E_FORMAT, fname,
                                   "tensor '%.*s': shape's element count overflows 64 bits",
                                   (int)(name_len > 200 ? 200 : name_len), t->name);
    c.numel = numel;
    int rc = ckpt_dtype_nbytes(c.dtype, numel, &c.nbytes);
    if (rc == CKPT_E_LIMIT)
        return ckpt_error_setf(err, CKPT_E_FORMAT, fname,
                               "tensor '%.*s': byte size overflows 64 bits",
                               (int)(name_len > 200 ? 200 : name_len), t->name);
    if (rc != CKPT_OK)
        return ckpt_error_setf(err, CKPT_E_FORMAT, fname,
                               "tensor '%.*s': %llu elements of %s do not fill whole bytes",
                               (int)(name_len > 200 ? 200 : name_len), t->name,
                               (unsigned long long)numel, ckpt_dtype_name(c.dtype));
    /* strides */
    int64_t rm[CKPT_MAX_DIMS];
    {
        int64_t s = 1;
        for (int d = (int)c.ndim - 1; d >= 0; d--) {
            rm[d] = s;
            int64_t dim = c.shape[d] > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)c.shape[d];
            if (dim && __builtin_mul_overflow(s, dim, &s))
                s = INT64_MAX;
        }
    }
    c.contiguous = 1;
    if (has_stride && numel > 0) {
        for (uint32_t d = 0; d < c.ndim; d++)
            if (c.shape[d] > 1 && c.stride[d] != rm[d])
                c.contiguous = 0;
    }
    if (!has_stride || c.contiguous)
        for (uint32_t d = 0; d < c.ndim; d++)
            c.stride[d] = rm[d];
    if (c.contiguous || numel == 0) {
        c.extent = c.nbytes;
    } else {
        uint32_t be, bb;
        if (!ckpt_dtype_block(c.dtype, &be, &bb) || be != 1)
            return ckpt_error_setf(err, CKPT_E_FORMAT, fname,
                                   "tensor '%.*s': strided view of a sub-byte or block type",
                                   (int)(name_len > 200 ? 200 : name_len), t->name);
        uint64_t last = 0;
        for (uint32_t d = 0; d < c.ndim; d++) {
            if (c.stride[d] < 0)
                return ckpt_error_setf(err, CKPT_E_FORMAT, fname, "tensor '%.*s': negative stride",
                                       (int)(name_len > 200 ? 200 : name_len), t->name);
            uint64_t term;
            if (__builtin_mul_overflow(c.shape[d] - 1, (uint64_t)c.stride[d], &term) ||
                __builtin_add_overflow(last, term, &last))
                return ckpt_error_setf(err, CKPT_E_FORMAT, fname, "tensor '%.*s': strides overflow",
                                       (int)(name_len > 200 ? 200 : name_len), t->name);
        }
        uint64_t ext;
        if (__builtin_add_overflow(last, 1, &ext) || __builtin_mul_overflow(ext, bb, &ext))
            return ckpt_error_setf(err, CKPT_E_FORMAT, fname, "tensor '%.*s': strides overflow",
                                   (int)(name_len > 200 ? 200 : name_len), t->name);
        c.extent = ext;
    }
    const struct ckpt_source *src = &ts->sources[c.source].pub;
    uint64_t end;
    if (__builtin_add_overflow(c.offset, c.extent, &end) || end > src->size)
        return ckpt_error_setf(err, CKPT_E_FORMAT, fname,
                               "tensor '%.*s' ends at byte %llu, past the end of its data "
                               "(%llu bytes%s%s)",
                               (int)(name_len > 200 ? 200 : name_len), t->name,
                               (unsigned long long)(c.offset + c.extent),
                               (unsigned long long)src->size, src->member ? " in " : "",
                               src->member ? src->member : "");
    c.name = ckpt_ts_strdup(ts, t->name, name_len);
    if (!c.name ||
        grow((void **)&ts->tensors, &ts->cap_tensors, ts->n_tensors + 1, sizeof *ts->tensors))
        return ckpt_error_setf(err, CKPT_E_NOMEM, fname, "out of memory");
    ts->tensors[ts->n_tensors] = c;
    rc = index_insert(ts, ts->n_tensors, name_len);
    if (rc == CKPT_E_FORMAT)
        return ckpt_error_setf(err, CKPT_E_FORMAT, fname, "duplicate tensor name '%.*s'",
                               (int)(name_len > 200 ? 200 : name_len), t->name);
    if (rc != CKPT_OK)
        return ckpt_error_setf(err, CKPT_E_NOMEM, fname, "out of memory");
    ts->n_tensors++;
    return CKPT_OK;
}

int ckpt_ts_add_meta(struct ckpt_tensorset *ts, const char *key, size_t klen, const char *value,
                     size_t vlen, struct ckpt_error *err)
{
    if (ts->n_meta >= ts->limits->max_metadata)
        return ckpt_error_setf(err, CKPT_E_LIMIT, ckpt_ts_name(ts),
                               "more than %llu metadata entries",
                               (unsigned long long)ts->limits->max_metadata);
    if (grow((void **)&ts->meta, &ts->cap_meta, ts->n_meta + 1, sizeof *ts->meta))
        return ckpt_error_setf(err, CKPT_E_NOMEM, ckpt_ts_name(ts), "out of memory");
    const char *k = ckpt_ts_strdup(ts, key, klen);
    const char *v = ckpt_ts_strdup(ts, value, vlen);
    if (!k || !v)
        return ckpt_error_setf(err, CKPT_E_NOMEM, ckpt_ts_name(ts), "out of memory");
    ts->meta[ts->n_meta].key = k;
    ts->meta[ts->n_meta].value = v;
    ts->n_meta++;
    return CKPT_OK;
}

/* ---- detection and opening ------------------------------------------------------------------- */

const char *ckpt_format_name(enum ckpt_format f)
{
    switch (f) {
    case CKPT_FMT_SAFETENSORS:
        return "safetensors";
    case CKPT_FMT_TORCH_ZIP:
        return "torch-zip";
    case CKPT_FMT_TORCH_LEGACY:
        return "torch-legacy";
    case CKPT_FMT_GGUF:
        return "gguf";
    case CKPT_FMT_DIFFUSERS:
        return "diffusers";
    case CKPT_FMT_UNKNOWN:
        break;
    }
    return "unknown";
}

static int has_ext(const char *name, const char *ext)
{
    size_t n = strlen(name), e = strlen(ext);
    if (n < e)
        return 0;
    const char *p = name + n - e;
    for (size_t i = 0; i < e; i++) {
        char c = p[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != ext[i])
            return 0;
    }
    return 1;
}

static int parse_reader(struct ckpt_tensorset *ts, struct ckpt_reader *r, struct ckpt_error *err)
{
    const char *name = ckpt_ts_name(ts);
    uint64_t size = ckpt_reader_size(r);
    unsigned char head[16] = {0};
    size_t hn = size < sizeof head ? (size_t)size : sizeof head;
    int rc = ckpt_reader_read(r, 0, head, hn, "file signature", err);
    if (rc)
        return rc;
    ts->file_size = size;
    if (size == 0)
        return ckpt_error_setf(err, CKPT_E_FORMAT, name, "empty file (0 bytes)");
    if (hn >= 4 && memcmp(head, "GGUF", 4) == 0)
        return ckpt_gguf_parse(ts, r, err);
    if (hn >= 2 && head[0] == 'P' && head[1] == 'K')
        return ckpt_torchzip_parse(ts, r, err);
    if (hn >= 6 && memcmp(head, "7z\xBC\xAF\x27\x1C", 6) == 0)
        return ckpt_error_setf(err, CKPT_E_UNSUPPORTED, name,
                               "a 7-Zip archive, not a model file (refusing to unpack it)");
    if (hn >= 2 && head[0] == 0x1f && head[1] == 0x8b)
        return ckpt_error_setf(err, CKPT_E_UNSUPPORTED, name,
                               "a gzip stream, not a model file (refusing to unpack it)");
    if (hn >= 8 && memcmp(head, "PYTORCH1", 8) == 0)
        return ckpt_error_setf(err, CKPT_E_UNSUPPORTED, name,
                               "a PyTorch preview-release archive (PYTORCH1), which no current "
                               "tool reads");
    if (size >= 262) {
        char ustar[5];
        rc = ckpt_reader_read(r, 257, ustar, 5, "tar signature", err);
        if (rc)
            return rc;
        if (memcmp(ustar, "ustar", 5) == 0)
            return ckpt_error_setf(err, CKPT_E_UNSUPPORTED, name,
                                   "a tar archive (the pre-2018 torch format), not supported");
    }
    /* safetensors before pickle: a header length whose low byte is 0x80 (1 file in 256) must
     * not be taken for a pickle PROTO opcode; a pickle never has '{' at offset 8 (the legacy
     * torch magic puts 0xa8 there) */
    if (hn >= 9) {
        uint64_t n = 0;
        for (int i = 7; i >= 0; i--)
            n = (n << 8) | head[i];
        unsigned char c = head[8];
        if (n <= size - 8 && (c == '{' || c == ' ' || c == '\t' || c == '\n' || c == '\r'))
            return ckpt_safetensors_parse(ts, r, err);
    }
    if (head[0] == 0x80 || has_ext(name, ".ckpt") || has_ext(name, ".pt") ||
        has_ext(name, ".pth")) {
        if (head[0] == 0x80)
            return ckpt_torchlegacy_parse(ts, r, err);
    }
    if (has_ext(name, ".safetensors") || has_ext(name, ".sft"))
        return ckpt_safetensors_parse(ts, r, err);
    return ckpt_error_setf(err, CKPT_E_UNSUPPORTED, name,
                           "not a model file ckptdb recognises (starts with %02x %02x %02x %02x)",
                           head[0], hn > 1 ? head[1] : 0, hn > 2 ? head[2] : 0,
                           hn > 3 ? head[3] : 0);
}

int ckpt_tensorset_open_reader(struct ckpt_tensorset **out, struct ckpt_reader *r,
                               const struct ckpt_limits *limits, struct ckpt_error *err)
{
    *out = NULL;
    struct ckpt_tensorset *ts = ckpt_ts_new(ckpt_reader_name(r), limits);
    if (!ts)
        return ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
    ts->reader = r;
    int rc = parse_reader(ts, r, err);
    if (rc) {
        ckpt_tensorset_close(ts);
        return rc;
    }
    *out = ts;
    return CKPT_OK;
}

int ckpt_tensorset_open(struct ckpt_tensorset **out, const char *path,
                        const struct ckpt_limits *limits, struct ckpt_error *err)
{
    *out = NULL;
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        struct ckpt_tensorset *ts = ckpt_ts_new(path, limits);
        if (!ts)
            return ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
        int rc = ckpt_diffusers_parse(ts, path, err);
        if (rc) {
            ckpt_tensorset_close(ts);
            return rc;
        }
        ts->format = CKPT_FMT_DIFFUSERS;
        *out = ts;
        return CKPT_OK;
    }
    struct ckpt_reader *r;
    int rc = ckpt_reader_open_file(&r, path, err);
    if (rc)
        return rc;
    rc = ckpt_tensorset_open_reader(out, r, limits, err);
    if (rc) {
        ckpt_reader_close(r);
        return rc;
    }
    (*out)->owns_reader = 1;
    return CKPT_OK;
}

void ckpt_tensorset_close(struct ckpt_tensorset *ts)
{
    if (!ts)
        return;
    for (size_t i = 0; i < ts->n_sources; i++) {
        ckpt_reader_close(ts->sources[i].rd);
        ckpt_reader_close(ts->sources[i].file_rd);
        free(ts->sources[i].owned_bytes);
    }
    if (ts->parser_free)
        ts->parser_free(ts->parser_state);
    if (ts->owns_reader)
        ckpt_reader_close(ts->reader);
    struct ts_arena_block *b = ts->arena;
    while (b) {
        struct ts_arena_block *n = b->next;
        free(b);
        b = n;
    }
    free(ts->sources);
    free(ts->tensors);
    free(ts->index);
    free(ts->meta);
    free(ts->path);
    free(ts);
}

/* ---- getters -------------------------------------------------------------------------------- */

enum ckpt_format ckpt_tensorset_format(const struct ckpt_tensorset *ts)
{
    return ts->format;
}

const char *ckpt_tensorset_path(const struct ckpt_tensorset *ts)
{
    return ts->path;
}

uint64_t ckpt_tensorset_file_size(const struct ckpt_tensorset *ts)
{
    return ts->file_size;
}

uint64_t ckpt_tensorset_header_bytes(const struct ckpt_tensorset *ts)
{
    return ts->header_bytes;
}

uint64_t ckpt_tensorset_bytes_read(const struct ckpt_tensorset *ts)
{
    return (ts->reader ? ckpt_reader_bytes_read(ts->reader) : 0) + ts->extra_bytes_read;
}

size_t ckpt_tensorset_count(const struct ckpt_tensorset *ts)
{
    return ts->n_tensors;
}

const struct ckpt_tensor *ckpt_tensorset_tensor(const struct ckpt_tensorset *ts, size_t i)
{
    return i < ts->n_tensors ? &ts->tensors[i] : NULL;
}

const struct ckpt_tensor *ckpt_tensorset_find(const struct ckpt_tensorset *ts, const char *name)
{
    if (!ts->index_cap)
        return NULL;
    uint32_t full = (uint32_t)name_hash(name, strlen(name));
    size_t h = full & (ts->index_cap - 1);
    while (ts->index[h].idx1) {
        const struct ckpt_tensor *t = &ts->tensors[ts->index[h].idx1 - 1];
        if (ts->index[h].hash == full && strcmp(t->name, name) == 0)
            return t;
        h = (h + 1) & (ts->index_cap - 1);
    }
    return NULL;
}

size_t ckpt_tensorset_source_count(const struct ckpt_tensorset *ts)
{
    return ts->n_sources;
}

const struct ckpt_source *ckpt_tensorset_source(const struct ckpt_tensorset *ts, uint32_t i)
{
    return i < ts->n_sources ? &ts->sources[i].pub : NULL;
}

size_t ckpt_tensorset_meta_count(const struct ckpt_tensorset *ts)
{
    return ts->n_meta;
}

const char *ckpt_tensorset_meta_key(const struct ckpt_tensorset *ts, size_t i)
{
    return i < ts->n_meta ? ts->meta[i].key : NULL;
}

const char *ckpt_tensorset_meta_value(const struct ckpt_tensorset *ts, size_t i)
{
    return i < ts->n_meta ? ts->meta[i].value : NULL;
}

const char *ckpt_tensorset_meta_get(const struct ckpt_tensorset *ts, const char *key)
{
    for (size_t i = 0; i < ts->n_meta; i++)
        if (strcmp(ts->meta[i].key, key) == 0)
            return ts->meta[i].value;
    return NULL;
}

uint64_t ckpt_tensorset_parameter_count(const struct ckpt_tensorset *ts)
{
    uint64_t n = 0;
    for (size_t i = 0; i < ts->n_tensors; i++)
        if (__builtin_add_overflow(n, ts->tensors[i].numel, &n))
            return UINT64_MAX;
    return n;
}

/* ---- reading tensor bytes ---------------------------------------------------------------------
 */

static int source_reader(struct ckpt_tensorset *ts, uint32_t idx, struct ckpt_reader **out,
                         struct ckpt_error *err)
{
    struct ts_source *s = &ts->sources[idx];
    int rc = CKPT_OK;
    if (!s->rd) {
        if (ts->open_source) {
            rc = ts->open_source(ts, idx, &s->rd, err);
        } else {
            struct ckpt_reader *parent = ts->reader;
            if (!parent || s->pub.path != ts->path) {
                rc = ckpt_reader_open_file(&s->file_rd, s->pub.path, err);
                parent = s->file_rd;
            }
            if (rc == CKPT_OK)
                rc = ckpt_reader_open_slice(&s->rd, parent, s->pub.file_offset, s->pub.size,
                                            s->pub.path, err);
        }
    }
    *out = s->rd;
    return rc;
}

int ckpt_tensorset_read_tensor(struct ckpt_tensorset *ts, const struct ckpt_tensor *t, void *buf,
                               size_t buflen, struct ckpt_error *err)
{
    const char *fname = ckpt_ts_name(ts);
    if (t->nbytes > buflen)
        return ckpt_error_setf(err, CKPT_E_ARG, fname, "buffer too small for tensor '%s'", t->name);
    struct ckpt_reader *rd;
    int rc = source_reader(ts, t->source, &rd, err);
    if (rc)
        return rc;
    if (t->contiguous || t->numel == 0)
        return ckpt_reader_read(rd, t->offset, buf, (size_t)t->nbytes, t->name, err);
    /* strided: read the span and gather */
    if (t->extent > ts->limits->zip_max_inflate)
        return ckpt_error_setf(err, CKPT_E_LIMIT, fname,
                               "tensor '%s' spans %llu bytes, too many to gather", t->name,
                               (unsigned long long)t->extent);
    unsigned char *span = malloc(t->extent ? (size_t)t->extent : 1);
    if (!span)
        return ckpt_error_setf(err, CKPT_E_NOMEM, fname, "out of memory");
    rc = ckpt_reader_read(rd, t->offset, span, (size_t)t->extent, t->name, err);
    if (rc) {
        free(span);
        return rc;
    }
    size_t es = ckpt_dtype_bits(t->dtype) / 8;
    uint64_t idx[CKPT_MAX_DIMS] = {0};
    unsigned char *o = buf;
    for (uint64_t n = 0; n < t->numel; n++) {
        uint64_t off = 0;
        for (uint32_t d = 0; d < t->ndim; d++)
            off += idx[d] * (uint64_t)t->stride[d];
        memcpy(o, span + off * es, es);
        o += es;
        for (int d = (int)t->ndim - 1; d >= 0; d--) {
            if (++idx[d] < t->shape[d])
                break;
            idx[d] = 0;
        }
    }
    free(span);
    return CKPT_OK;
}
