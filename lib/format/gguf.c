/* The GGUF reader (ggml's container, used by ComfyUI-GGUF and stable-diffusion.cpp for SD and
 * Flux models): header, key/values and tensor infos, every one checked before it is used, the
 * way ggml's gguf.cpp checks them (and where it trusts the input, more strictly).
 *
 * Decisions, each chosen so a file the UIs load reads here and a hostile file cannot make the
 * reader crash, loop or allocate more than the file or the limits allow:
 *  - versions 2 and 3 are read (they differ only in that v3 allows big-endian files); version 1
 *    (32-bit counts), versions above 3 and byte-swapped files (version whose low 16 bits are
 *    zero) are refused with a message saying which;
 *  - arrays of arrays are accepted, nested at most GGUF_MAX_NEST deep: the spec allows them
 *    and gguf-py (which ComfyUI-GGUF loads with) reads them, though ggml refuses them;
 *  - tensor names longer than ggml's 64 bytes are accepted up to limits->max_name_len (SD
 *    GGUFs use up to 128; city96's patched ggml raises the limit);
 *  - tensor offsets must be aligned, inside the data section and not overlap; unlike ggml they
 *    need not be the running sum of aligned sizes (gaps are harmless, overlap is not);
 *  - zero-length dimensions are accepted (an empty tensor): nothing here divides by a dim;
 *  - keys must be non-empty, unique and free of NUL bytes; top-level string values must be free
 *    of NUL bytes (they would silently truncate as C strings); booleans must be 0 or 1;
 *  - well-known keys must have their documented type (general.alignment u32, tokenizer arrays of
 *    the right element type, comfy.gguf.orig_shape.* arrays of integers, ...);
 *  - bytes after the last tensor are accepted (ggml ignores them too).
 * Metadata values become text: numbers in decimal, bools true/false, strings as they are, arrays
 * as compact JSON, or "[array of N <type>]" beyond 64 elements (tokenizer vocabularies).
 * Not for reading or dequantizing tensor data, nor for writing GGUF (tools/st2gguf.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../model/tensorset_impl.h"
#include "ckptdb/buf.h"

#define GGUF_MAX_NEST 8          /* arrays of arrays of ... */
#define GGUF_RENDER_MAX_ELEMS 64 /* longer arrays are summarised */
#define GGUF_MAX_DIMS 4          /* GGML_MAX_DIMS */
#define GGUF_DEFAULT_ALIGNMENT 32

enum gguf_type {
    GT_U8 = 0,
    GT_I8 = 1,
    GT_U16 = 2,
    GT_I16 = 3,
    GT_U32 = 4,
    GT_I32 = 5,
    GT_F32 = 6,
    GT_BOOL = 7,
    GT_STRING = 8,
    GT_ARRAY = 9,
    GT_U64 = 10,
    GT_I64 = 11,
    GT_F64 = 12,
    GT_COUNT
};

static const char *const type_names[GT_COUNT] = {
    "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64"};
/* bytes of one value; for string and array the least an element can take */
static const unsigned type_size[GT_COUNT] = {1, 1, 2, 2, 4, 4, 4, 1, 8, 12, 8, 8, 8};

/* ggml type id -> dtype; CKPT_DT_INVALID for ids ggml removed or never had */
static enum ckpt_dtype ggml_dtype(uint32_t id)
{
    static const enum ckpt_dtype map[] = {
        [0] = CKPT_DT_F32,     [1] = CKPT_DT_F16,      [2] = CKPT_DT_Q4_0,
        [3] = CKPT_DT_Q4_1,    [6] = CKPT_DT_Q5_0,     [7] = CKPT_DT_Q5_1,
        [8] = CKPT_DT_Q8_0,    [9] = CKPT_DT_Q8_1,     [10] = CKPT_DT_Q2_K,
        [11] = CKPT_DT_Q3_K,   [12] = CKPT_DT_Q4_K,    [13] = CKPT_DT_Q5_K,
        [14] = CKPT_DT_Q6_K,   [15] = CKPT_DT_Q8_K,    [16] = CKPT_DT_IQ2_XXS,
        [17] = CKPT_DT_IQ2_XS, [18] = CKPT_DT_IQ3_XXS, [19] = CKPT_DT_IQ1_S,
        [20] = CKPT_DT_IQ4_NL, [21] = CKPT_DT_IQ3_S,   [22] = CKPT_DT_IQ2_S,
        [23] = CKPT_DT_IQ4_XS, [24] = CKPT_DT_I8,      [25] = CKPT_DT_I16,
        [26] = CKPT_DT_I32,    [27] = CKPT_DT_I64,     [28] = CKPT_DT_F64,
        [29] = CKPT_DT_IQ1_M,  [30] = CKPT_DT_BF16,    [34] = CKPT_DT_TQ1_0,
        [35] = CKPT_DT_TQ2_0,  [39] = CKPT_DT_MXFP4,
    };
    if (id >= sizeof map / sizeof map[0])
        return CKPT_DT_INVALID;
    return map[id];
}

/* ---- a buffered cursor over the reader ------------------------------------------------------ */

struct gcur {
    struct ckpt_reader *r;
    uint64_t size, pos;
    uint64_t boff; /* file offset of buf[0] */
    size_t blen;
    const char *fname;
    struct ckpt_error *err;
    const struct ckpt_limits *lim;
    struct ckpt_tensorset *ts;
    char *str; /* last string read (NUL-terminated) */
    size_t str_len, str_cap;
    unsigned char buf[64 * 1024];
};

static uint64_t remaining(const struct gcur *c)
{
    return c->size - c->pos;
}

static int truncated(struct gcur *c, const char *what, uint64_t need)
{
    return ckpt_error_setf(c->err, CKPT_E_FORMAT, c->fname,
                           "truncated GGUF: %s at byte %llu needs %llu bytes but the file has "
                           "%llu",
                           what, (unsigned long long)c->pos, (unsigned long long)need,
                           (unsigned long long)c->size);
}

static int get(struct gcur *c, void *dst, size_t n, const char *what)
{
    if (n > remaining(c))
        return truncated(c, what, n);
    if (n > sizeof c->buf) {
        int rc = ckpt_reader_read(c->r, c->pos, dst, n, what, c->err);
        if (rc)
            return rc;
        c->pos += n;
        return CKPT_OK;
    }
    if (c->pos < c->boff || c->pos + n > c->boff + c->blen) {
        uint64_t left = remaining(c);
        size_t want = left < sizeof c->buf ? (size_t)left : sizeof c->buf;
        int rc = ckpt_reader_read(c->r, c->pos, c->buf, want, what, c->err);
        if (rc)
            return rc;
        c->boff = c->pos;
        c->blen = want;
    }
    memcpy(dst, c->buf + (c->pos - c->boff), n);
    c->pos += n;
    return CKPT_OK;
}

static int skip(struct gcur *c, uint64_t n, const char *what)
{
    if (n > remaining(c))
        return truncated(c, what, n);
    c->pos += n;
    return CKPT_OK;
}

static int get_u32(struct gcur *c, uint32_t *v, const char *what)
{
    unsigned char b[4];
    int rc = get(c, b, 4, what);
    if (rc)
        return rc;
    *v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    return CKPT_OK;
}

static int get_u64(struct gcur *c, uint64_t *v, const char *what)
{
    unsigned char b[8];
    int rc = get(c, b, 8, what);
    if (rc)
        return rc;
    uint64_t x = 0;
    for (int i = 7; i >= 0; i--)
        x = x << 8 | b[i];
    *v = x;
    return CKPT_OK;
}

/* Read a gguf string (u64 length + bytes) into c->str, refusing lengths beyond max. */
static int get_str(struct gcur *c, uint64_t max, const char *what)
{
    uint64_t n;
    int rc = get_u64(c, &n, what);
    if (rc)
        return rc;
    if (n > max)
        return ckpt_error_setf(c->err, CKPT_E_LIMIT, c->fname,
                               "%s at byte %llu is %llu bytes long, more than the limit of %llu",
                               what, (unsigned long long)(c->pos - 8), (unsigned long long)n,
                               (unsigned long long)max);
    if (n > remaining(c))
        return truncated(c, what, n);
    if (n + 1 > c->str_cap) {
        size_t cap = c->str_cap ? c->str_cap : 256;
        while (cap < n + 1)
            cap *= 2;
        char *q = realloc(c->str, cap);
        if (!q)
            return ckpt_error_setf(c->err, CKPT_E_NOMEM, c->fname, "out of memory");
        c->str = q;
        c->str_cap = cap;
    }
    if ((rc = get(c, c->str, (size_t)n, what)))
        return rc;
    c->str[n] = '\0';
    c->str_len = (size_t)n;
    return CKPT_OK;
}

/* ---- values ------------------------------------------------------------------------------- */

/* Shortest decimal text that reads back as the same float/double. */
static void put_float(struct ckpt_buf *b, double v, int is_f32, int json)
{
    if (isnan(v) || isinf(v)) {
        if (json)
            ckpt_buf_puts(b, "null");
        else
            ckpt_buf_puts(b, isnan(v) ? "nan" : v < 0 ? "-inf" : "inf");
        return;
    }
    char t[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(t, sizeof t, "%.*g", prec, v);
        if (is_f32 ? strtof(t, NULL) == (float)v : strtod(t, NULL) == v)
            break;
    }
    ckpt_buf_puts(b, t);
}

struct vctx {
    struct gcur *c;
    const char *key; /* for messages */
};

static int bad_value(struct vctx *v, const char *what)
{
    return ckpt_error_setf(v->c->err, CKPT_E_FORMAT, v->c->fname, "key '%.200s': %s (byte %llu)",
                           v->key, what, (unsigned long long)v->c->pos);
}

static int value(struct vctx *v, uint32_t type, unsigned depth, struct ckpt_buf *out, int json);

/* An array's header was read; walk (and, when out != NULL, render) its elements. */
static int array_body(struct vctx *v, uint32_t et, uint64_t n, unsigned depth, struct ckpt_buf *out)
{
    struct gcur *c = v->c;
    if (n > GGUF_RENDER_MAX_ELEMS && out) {
        ckpt_buf_printf(out, "[array of %llu %s]", (unsigned long long)n, type_names[et]);
        out = NULL;
    }
    if (!out && et != GT_BOOL && et != GT_STRING && et != GT_ARRAY)
        return skip(c, n * type_size[et], "array elements"); /* product checked by caller */
    if (out)
        ckpt_buf_putc(out, '[');
    for (uint64_t i = 0; i < n; i++) {
        if (out && i)
            ckpt_buf_putc(out, ',');
        int rc = value(v, et, depth, out, 1);
        if (rc)
            return rc;
    }
    if (out)
        ckpt_buf_putc(out, ']');
    return CKPT_OK;
}

/* Read one value of type `type`; render it into out (NULL: only validate and skip). json: the
 * value is inside an array (strings quoted, non-finite numbers null). */
static int value(struct vctx *v, uint32_t type, unsigned depth, struct ckpt_buf *out, int json)
{
    struct gcur *c = v->c;
    unsigned char b[8];
    int rc;
    switch (type) {
    case GT_U8:
    case GT_I8:
    case GT_U16:
    case GT_I16:
    case GT_U32:
    case GT_I32:
    case GT_U64:
    case GT_I64:
    case GT_F32:
    case GT_F64: {
        size_t n = type_size[type];
        if ((rc = get(c, b, n, "a metadata value")))
            return rc;
        if (!out)
            return CKPT_OK;
        uint64_t x = 0;
        for (int i = (int)n - 1; i >= 0; i--)
            x = x << 8 | b[i];
        switch (type) {
        case GT_U8:
        case GT_U16:
        case GT_U32:
        case GT_U64:
            ckpt_buf_printf(out, "%llu", (unsigned long long)x);
            break;
        case GT_I8:
            ckpt_buf_printf(out, "%d", (int)(int8_t)x);
            break;
        case GT_I16:
            ckpt_buf_printf(out, "%d", (int)(int16_t)x);
            break;
        case GT_I32:
            ckpt_buf_printf(out, "%ld", (long)(int32_t)x);
            break;
        case GT_I64:
            ckpt_buf_printf(out, "%lld", (long long)(int64_t)x);
            break;
        case GT_F32: {
            uint32_t u = (uint32_t)x;
            float f;
            memcpy(&f, &u, 4);
            put_float(out, f, 1, json);
            break;
        }
        default: {
            double d;
            memcpy(&d, &x, 8);
            put_float(out, d, 0, json);
            break;
        }
        }
        return CKPT_OK;
    }
    case GT_BOOL:
        if ((rc = get(c, b, 1, "a bool value")))
            return rc;
        if (b[0] > 1)
            return bad_value(v, "bool value is neither 0 nor 1");
        if (out)
            ckpt_buf_puts(out, b[0] ? "true" : "false");
        return CKPT_OK;
    case GT_STRING:
        if (!out) {
            uint64_t n;
            if ((rc = get_u64(c, &n, "a string length")))
                return rc;
            if (n > c->lim->max_string_len)
                return ckpt_error_setf(c->err, CKPT_E_LIMIT, c->fname,
                                       "key '%.200s': string of %llu bytes exceeds the limit of "
                                       "%llu",
                                       v->key, (unsigned long long)n,
                                       (unsigned long long)c->lim->max_string_len);
            return skip(c, n, "a string");
        }
        if ((rc = get_str(c, c->lim->max_string_len, "a string value")))
            return rc;
        if (json) {
            ckpt_json_escape(out, c->str, c->str_len);
        } else {
            if (memchr(c->str, '\0', c->str_len))
                return bad_value(v, "string value contains a NUL byte");
            ckpt_buf_put(out, c->str, c->str_len);
        }
        return CKPT_OK;
    case GT_ARRAY: {
        uint32_t et;
        uint64_t n;
        if ((rc = get_u32(c, &et, "an array element type")) ||
            (rc = get_u64(c, &n, "an array length")))
            return rc;
        if (et >= GT_COUNT) {
            char m[64];
            snprintf(m, sizeof m, "unknown array element type %lu", (unsigned long)et);
            return bad_value(v, m);
        }
        if (et == GT_ARRAY && depth + 1 >= GGUF_MAX_NEST)
            return ckpt_error_setf(c->err, CKPT_E_LIMIT, c->fname,
                                   "key '%.200s': arrays nested more than %d deep", v->key,
                                   GGUF_MAX_NEST);
        if (n > c->lim->gguf_max_array)
            return ckpt_error_setf(c->err, CKPT_E_LIMIT, c->fname,
                                   "key '%.200s': array of %llu elements exceeds the limit of "
                                   "%llu",
                                   v->key, (unsigned long long)n,
                                   (unsigned long long)c->lim->gguf_max_array);
        uint64_t least;
        if (__builtin_mul_overflow(n, (uint64_t)type_size[et], &least) || least > remaining(c))
            return ckpt_error_setf(c->err, CKPT_E_FORMAT, c->fname,
                                   "key '%.200s': array of %llu %s elements cannot fit in the "
                                   "%llu bytes left (byte %llu)",
                                   v->key, (unsigned long long)n, type_names[et],
                                   (unsigned long long)remaining(c), (unsigned long long)c->pos);
        return array_body(v, et, n, depth + 1, out);
    }
    default: {
        char m[64];
        snprintf(m, sizeof m, "unknown value type %lu", (unsigned long)type);
        return bad_value(v, m);
    }
    }
}

/* ---- well-known keys ------------------------------------------------------------------------ */

#define ANY_INT (-2)

struct known_key {
    const char *key;
    int type;      /* required value type */
    int elem_type; /* for arrays: required element type, ANY_INT, or -1 */
    int prefix;    /* key is a prefix */
};

static const struct known_key known_keys[] = {
    {"general.architecture", GT_STRING, -1, 0},
    {"general.alignment", GT_U32, -1, 0},
    {"general.quantization_version", GT_U32, -1, 0},
    {"general.file_type", GT_U32, -1, 0},
    {"general.name", GT_STRING, -1, 0},
    {"tokenizer.ggml.model", GT_STRING, -1, 0},
    {"tokenizer.ggml.tokens", GT_ARRAY, GT_STRING, 0},
    {"tokenizer.ggml.scores", GT_ARRAY, GT_F32, 0},
    {"tokenizer.ggml.token_type", GT_ARRAY, GT_I32, 0},
    {"tokenizer.ggml.merges", GT_ARRAY, GT_STRING, 0},
    {"tokenizer.ggml.bos_token_id", GT_U32, -1, 0},
    {"tokenizer.ggml.eos_token_id", GT_U32, -1, 0},
    {"tokenizer.ggml.unknown_token_id", GT_U32, -1, 0},
    {"tokenizer.ggml.padding_token_id", GT_U32, -1, 0},
    {"comfy.gguf.orig_shape.", GT_ARRAY, ANY_INT, 1},
};

static int is_int_type(uint32_t t)
{
    return t <= GT_I32 || t == GT_U64 || t == GT_I64;
}

static int peek_u32(struct gcur *c, uint32_t *v)
{
    uint64_t at = c->pos;
    int rc = get_u32(c, v, "an array element type");
    c->pos = at;
    return rc;
}

static int check_known(struct gcur *c, const char *key, size_t klen, uint32_t type)
{
    for (size_t i = 0; i < sizeof known_keys / sizeof known_keys[0]; i++) {
        const struct known_key *k = &known_keys[i];
        size_t n = strlen(k->key);
        if (k->prefix ? klen < n || memcmp(key, k->key, n) != 0
                      : klen != n || memcmp(key, k->key, n) != 0)
            continue;
        if ((int)type != k->type)
            return ckpt_error_setf(
                c->err, CKPT_E_FORMAT, c->fname, "key '%.200s' must be of type %s, found %s", key,
                type_names[k->type], type < GT_COUNT ? type_names[type] : "(unknown)");
        if (k->type == GT_ARRAY) {
            uint32_t et;
            int rc = peek_u32(c, &et);
            if (rc)
                return rc;
            int ok = k->elem_type == ANY_INT ? is_int_type(et) : (int)et == k->elem_type;
            if (!ok)
                return ckpt_error_setf(
                    c->err, CKPT_E_FORMAT, c->fname,
                    "key '%.200s' must be an array of %s, found an array of "
                    "%s",
                    key, k->elem_type == ANY_INT ? "integers" : type_names[k->elem_type],
                    et < GT_COUNT ? type_names[et] : "(unknown type)");
        }
        return CKPT_OK;
    }
    return CKPT_OK;
}

/* ---- the file ------------------------------------------------------------------------------ */

struct span {
    uint64_t begin, end;
    size_t idx;
};

static int span_cmp(const void *a, const void *b)
{
    const struct span *x = a, *y = b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    return 0;
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int read_kvs(struct gcur *c, uint64_t n_kv, uint32_t *alignment)
{
    struct ckpt_tensorset *ts = c->ts;
    struct ckpt_buf val = {0};
    char *key = NULL;
    size_t key_cap = 0;
    int rc = CKPT_OK;
    for (uint64_t i = 0; i < n_kv; i++) {
        if ((rc = get_str(c, c->lim->max_name_len, "a metadata key")))
            break;
        size_t klen = c->str_len;
        if (klen == 0) {
            rc = ckpt_error_setf(c->err, CKPT_E_FORMAT, c->fname,
                                 "metadata key %llu is empty (byte %llu)", (unsigned long long)i,
                                 (unsigned long long)c->pos);
            break;
        }
        if (memchr(c->str, '\0', klen)) {
            rc = ckpt_error_setf(c->err, CKPT_E_FORMAT, c->fname,
                                 "metadata key %llu contains a NUL byte", (unsigned long long)i);
            break;
        }
        if (klen + 1 > key_cap) {
            char *q = realloc(key, klen + 1);
            if (!q) {
                rc = ckpt_error_setf(c->err, CKPT_E_NOMEM, c->fname, "out of memory");
                break;
            }
            key = q;
            key_cap = klen + 1;
        }
        memcpy(key, c->str, klen + 1);
        uint32_t type;
        if ((rc = get_u32(c, &type, "a value type")))
            break;
        if (type >= GT_COUNT) {
            rc = ckpt_error_setf(c->err, CKPT_E_FORMAT, c->fname,
                                 "key '%.200s' has unknown value type %lu", key,
                                 (unsigned long)type);
            break;
        }
        if ((rc = check_known(c, key, klen, type)))
            break;
        uint64_t at = c->pos;
        ckpt_buf_reset(&val);
        struct vctx v = {c, key};
        if ((rc = value(&v, type, 0, &val, 0)))
            break;
        if (val.oom) {
            rc = ckpt_error_setf(c->err, CKPT_E_NOMEM, c->fname, "out of memory");
            break;
        }
        if (klen == 17 && memcmp(key, "general.alignment", 17) == 0) {
            unsigned char b[4];
            uint64_t after = c->pos;
            c->pos = at;
            rc = get(c, b, 4, "general.alignment");
            c->pos = after;
            if (rc)
                break;
            uint32_t a =
                (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
            if (a == 0 || (a & (a - 1)) != 0) {
                rc = ckpt_error_setf(c->err, CKPT_E_FORMAT, c->fname,
                                     "general.alignment %lu is not a power of two",
                                     (unsigned long)a);
                break;
            }
            if (a > c->lim->gguf_max_alignment) {
                rc = ckpt_error_setf(c->err, CKPT_E_LIMIT, c->fname,
                                     "general.alignment %lu exceeds the limit of %lu",
                                     (unsigned long)a, (unsigned long)c->lim->gguf_max_alignment);
                break;
            }
            *alignment = a;
        }
        if ((rc = ckpt_ts_add_meta(ts, key, klen, val.len ? val.data : "", val.len, c->err)))
            break;
    }
    free(key);
    ckpt_buf_free(&val);
    if (rc || ts->n_meta < 2)
        return rc;
    const char **keys = malloc(ts->n_meta * sizeof *keys);
    if (!keys)
        return ckpt_error_setf(c->err, CKPT_E_NOMEM, c->fname, "out of memory");
    for (size_t i = 0; i < ts->n_meta; i++)
        keys[i] = ts->meta[i].key;
    qsort(keys, ts->n_meta, sizeof *keys, str_cmp);
    for (size_t i = 1; i < ts->n_meta; i++)
        if (strcmp(keys[i - 1], keys[i]) == 0) {
            rc = ckpt_error_setf(c->err, CKPT_E_FORMAT, c->fname, "duplicate metadata key '%.200s'",
                                 keys[i]);
            break;
        }
    free(keys);
    return rc;
}

struct tinfo {
    uint64_t name_off; /* file offset of the name bytes */
    uint64_t name_len;
    uint32_t ndim;
    uint64_t ne[GGUF_MAX_DIMS];
    enum ckpt_dtype dtype;
    uint64_t offset;
};

static int read_tensor_info(struct gcur *c, uint64_t i, struct tinfo *ti, char **name)
{
    int rc = get_str(c, c->lim->max_name_len, "a tensor name");
    if (rc)
        return rc;
    *name = c->str;
    ti->name_len = c->str_len;
    const char *nm = c->str;
    int nl = (int)(c->str_len > 200 ? 200 : c->str_len);
    uint32_t nd;
    if ((rc = get_u32(c, &nd, "a tensor's dimension count")))
        return rc;
    if (nd > GGUF_MAX_DIMS || nd > c->lim->max_dims)
        return ckpt_error_setf(c->err, CKPT_E_FORMAT, c->fname,
                               "tensor %llu '%.*s' has %lu dimensions (at most %d)",
                               (unsigned long long)i, nl, nm, (unsigned long)nd, GGUF_MAX_DIMS);
    ti->ndim = nd;
    for (uint32_t d = 0; d < nd; d++) {
        if ((rc = get_u64(c, &ti->ne[d], "a tensor dimension")))
            return rc;
        if (ti->ne[d] > (uint64_t)INT64_MAX)
            return ckpt_error_setf(c->err, CKPT_E_FORMAT, c->fname,
                                   "tensor '%.*s': dimension %lu is negative (%lld)", nl, nm,
                                   (unsigned long)d, (long long)(int64_t)ti->ne[d]);
    }
    uint64_t numel = 1;
    for (uint32_t d = 0; d < nd; d++)
        if (__builtin_mul_overflow(numel, ti->ne[d], &numel) || numel > (uint64_t)INT64_MAX)
            return ckpt_error_setf(c->err, CKPT_E_FORMAT, c->fname,
                                   "tensor '%.*s': element count overflows 63 bits", nl, nm);
    uint32_t type;
    if ((rc = get_u32(c, &type, "a tensor type")))
        return rc;
    ti->dtype = ggml_dtype(type);
    if (ti->dtype == CKPT_DT_INVALID)
        return ckpt_error_setf(c->err, CKPT_E_FORMAT, c->fname,
                               "tensor '%.*s' has unknown ggml type %lu", nl, nm,
                               (unsigned long)type);
    uint32_t be, bb;
    if (!ckpt_dtype_block(ti->dtype, &be, &bb))
        return ckpt_error_setf(c->err, CKPT_E_FORMAT, c->fname,
                               "tensor '%.*s': type %s has no byte size", nl, nm,
                               ckpt_dtype_name(ti->dtype));
    if (nd > 0 && ti->ne[0] % be != 0)
        return ckpt_error_setf(c->err, CKPT_E_FORMAT, c->fname,
                               "tensor '%.*s': row length %llu is not a multiple of the %s block "
                               "size %lu",
                               nl, nm, (unsigned long long)ti->ne[0], ckpt_dtype_name(ti->dtype),
                               (unsigned long)be);
    if (nd == 0 && be != 1)
        return ckpt_error_setf(c->err, CKPT_E_FORMAT, c->fname,
                               "tensor '%.*s': a scalar cannot be of block type %s", nl, nm,
                               ckpt_dtype_name(ti->dtype));
    return get_u64(c, &ti->offset, "a tensor offset");
}

static int parse(struct gcur *c)
{
    struct ckpt_tensorset *ts = c->ts;
    unsigned char magic[4];
    uint32_t version;
    uint64_t n_tensors, n_kv;
    int rc;
    if ((rc = get(c, magic, 4, "the GGUF magic")))
        return rc;
    if ((rc = get_u32(c, &version, "the GGUF version")))
        return rc;
    if (version != 0 && (version & 0xFFFF) == 0)
        return ckpt_error_setf(c->err, CKPT_E_UNSUPPORTED, c->fname,
                               "a big-endian GGUF file (version field %08lx), which ckptdb does "
                               "not read",
                               (unsigned long)version);
    if (version == 1)
        return ckpt_error_setf(c->err, CKPT_E_UNSUPPORTED, c->fname,
                               "GGUF version 1 (pre-release format with 32-bit counts) is not "
                               "supported");
    if (version < 2 || version > 3)
        return ckpt_error_setf(c->err, CKPT_E_UNSUPPORTED, c->fname,
                               "GGUF version %lu is not supported (2 and 3 are)",
                               (unsigned long)version);
    if ((rc = get_u64(c, &n_tensors, "the tensor count")) ||
        (rc = get_u64(c, &n_kv, "the metadata count")))
        return rc;
    /* each KV takes at least 14 bytes (non-empty key), each tensor info at least 24 */
    if (n_kv > c->lim->gguf_max_kv || n_kv > c->lim->max_metadata)
        return ckpt_error_setf(c->err, CKPT_E_LIMIT, c->fname,
                               "GGUF declares %llu key/values, more than the limit of %llu",
                               (unsigned long long)n_kv, (unsigned long long)c->lim->gguf_max_kv);
    if (n_tensors > c->lim->max_tensors)
        return ckpt_error_setf(c->err, CKPT_E_LIMIT, c->fname,
                               "GGUF declares %llu tensors, more than the limit of %llu",
                               (unsigned long long)n_tensors,
                               (unsigned long long)c->lim->max_tensors);
    if (n_kv > remaining(c) / 14 || n_tensors > (remaining(c) - n_kv * 14) / 24)
        return ckpt_error_setf(c->err, CKPT_E_FORMAT, c->fname,
                               "GGUF declares %llu key/values and %llu tensors, more than the "
                               "%llu-byte file can hold",
                               (unsigned long long)n_kv, (unsigned long long)n_tensors,
                               (unsigned long long)c->size);
    ts->format = CKPT_FMT_GGUF;
    uint32_t alignment = GGUF_DEFAULT_ALIGNMENT;
    if ((rc = read_kvs(c, n_kv, &alignment)))
        return rc;

    /* tensor infos: validated now, added once the data section's start is known */
    struct tinfo *infos = NULL;
    if (n_tensors) {
        infos = calloc((size_t)n_tensors, sizeof *infos);
        if (!infos)
            return ckpt_error_setf(c->err, CKPT_E_NOMEM, c->fname, "out of memory");
    }
    for (uint64_t i = 0; i < n_tensors; i++) {
        char *name;
        uint64_t at = c->pos;
        if ((rc = read_tensor_info(c, i, &infos[i], &name)))
            goto out;
        infos[i].name_off = at + 8;
        if (infos[i].offset % alignment) {
            rc = ckpt_error_setf(c->err, CKPT_E_FORMAT, c->fname,
                                 "tensor '%.200s': offset %llu is not a multiple of the "
                                 "alignment %lu",
                                 name, (unsigned long long)infos[i].offset,
                                 (unsigned long)alignment);
            goto out;
        }
    }
    uint64_t data_start = c->pos;
    uint64_t pad = (alignment - data_start % alignment) % alignment;
    data_start += pad; /* cannot wrap: pos <= size and alignment <= 2^32 */
    if (data_start > c->size) {
        if (n_tensors) {
            rc = ckpt_error_setf(c->err, CKPT_E_FORMAT, c->fname,
                                 "the tensor data would start at byte %llu, past the end of the "
                                 "file (%llu bytes)",
                                 (unsigned long long)data_start, (unsigned long long)c->size);
            goto out;
        }
        data_start = c->size;
    }
    ts->header_bytes = data_start;
    uint32_t src;
    if ((rc =
             ckpt_ts_add_source(ts, NULL, NULL, data_start, c->size - data_start, 0, &src, c->err)))
        goto out;
    struct span *spans = NULL;
    if (n_tensors) {
        spans = malloc((size_t)n_tensors * sizeof *spans);
        if (!spans) {
            rc = ckpt_error_setf(c->err, CKPT_E_NOMEM, c->fname, "out of memory");
            goto out;
        }
    }
    for (uint64_t i = 0; i < n_tensors; i++) {
        const struct tinfo *ti = &infos[i];
        c->pos = ti->name_off - 8;
        if ((rc = get_str(c, c->lim->max_name_len, "a tensor name")))
            break;
        struct ckpt_tensor t;
        memset(&t, 0, sizeof t);
        t.name = c->str;
        t.dtype = ti->dtype;
        t.ndim = ti->ndim;
        for (uint32_t d = 0; d < ti->ndim; d++)
            t.shape[d] = ti->ne[ti->ndim - 1 - d]; /* ggml order is innermost first */
        t.source = src;
        t.offset = ti->offset;
        if ((rc = ckpt_ts_add_tensor(ts, &t, c->str_len, c->err)))
            break;
        const struct ckpt_tensor *added = ckpt_tensorset_tensor(ts, ts->n_tensors - 1);
        spans[i].begin = added->offset;
        spans[i].end = added->offset + added->extent; /* checked by add_tensor */
        spans[i].idx = ts->n_tensors - 1;
    }
    if (!rc && n_tensors > 1) {
        qsort(spans, (size_t)n_tensors, sizeof *spans, span_cmp);
        for (uint64_t i = 1; i < n_tensors; i++)
            if (spans[i].begin < spans[i - 1].end) {
                rc = ckpt_error_setf(
                    c->err, CKPT_E_FORMAT, c->fname,
                    "tensor '%.200s' (data bytes %llu-%llu) overlaps tensor '%.200s' (%llu-%llu)",
                    ckpt_tensorset_tensor(ts, spans[i].idx)->name,
                    (unsigned long long)spans[i].begin, (unsigned long long)spans[i].end,
                    ckpt_tensorset_tensor(ts, spans[i - 1].idx)->name,
                    (unsigned long long)spans[i - 1].begin, (unsigned long long)spans[i - 1].end);
                break;
            }
    }
    free(spans);
out:
    free(infos);
    return rc;
}

int ckpt_gguf_parse(struct ckpt_tensorset *ts, struct ckpt_reader *r, struct ckpt_error *err)
{
    struct gcur *c = calloc(1, sizeof *c);
    if (!c)
        return ckpt_error_setf(err, CKPT_E_NOMEM, ckpt_ts_name(ts), "out of memory");
    c->r = r;
    c->size = ckpt_reader_size(r);
    c->fname = ckpt_ts_name(ts);
    c->err = err;
    c->lim = ts->limits;
    c->ts = ts;
    int rc = parse(c);
    free(c->str);
    free(c);
    return rc;
}
