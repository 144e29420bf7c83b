/* The safetensors reader: every rule of the reference implementation (huggingface/safetensors
 * tensor.rs), checked on the header alone, with a purpose-built strict JSON parser (the header
 * of an SDXL checkpoint has 2,515 entries and is parsed on every inspect/identify/scan).
 *
 * Decisions where the reference is loose or silent, each chosen so a file the UIs load reads here
 * and a file that would confuse two parsers is refused:
 *  - duplicate tensor names are refused by name (the reference fails later, as InvalidOffset);
 *  - leading and trailing JSON whitespace is accepted (the reference accepts both);
 *  - unknown fields inside a tensor entry are skipped (the reference ignores them);
 *  - `__metadata__` may be null or an object of string values; anything else is refused;
 *  - numbers must be plain non-negative integers that fit 64 bits.
 * Not for writing (safetensors_write.c) nor for reading tensor data (the tensorset does). */
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "../model/tensorset_impl.h"
#include "ckptdb/utf8.h"

struct stp {
    const unsigned char *p, *end, *start;
    const char *fname;
    struct ckpt_error *err;
    char *scratch; /* decoded string */
    size_t scratch_cap, scratch_len;
    unsigned depth;
};

static int perr(struct stp *s, const char *what)
{
    return ckpt_error_setf(s->err, CKPT_E_FORMAT, s->fname,
                           "invalid safetensors header: %s (header byte %llu)", what,
                           (unsigned long long)(s->p - s->start));
}

static inline void ws(struct stp *s)
{
    if (s->p<s->end && * s->p> ' ')
        return; /* compact JSON: the common case */
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

static int expect(struct stp *s, char c, const char *what)
{
    ws(s);
    if (s->p >= s->end || *s->p != (unsigned char)c)
        return perr(s, what);
    s->p++;
    return CKPT_OK;
}

static int scratch_put(struct stp *s, const unsigned char *b, size_t n)
{
    if (s->scratch_len + n + 1 > s->scratch_cap) {
        size_t c = s->scratch_cap ? s->scratch_cap : 256;
        while (c < s->scratch_len + n + 1)
            c *= 2;
        char *q = realloc(s->scratch, c);
        if (!q)
            return ckpt_error_setf(s->err, CKPT_E_NOMEM, s->fname, "out of memory");
        s->scratch = q;
        s->scratch_cap = c;
    }
    memcpy(s->scratch + s->scratch_len, b, n);
    s->scratch_len += n;
    s->scratch[s->scratch_len] = '\0';
    return CKPT_OK;
}

static int hex4(const unsigned char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = p[i], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return -1;
        v = v * 16 + d;
    }
    *out = v;
    return 0;
}

/* Length of the run at p (up to end) free of '"', '\\' and control bytes. */
static size_t plain_run(const unsigned char *p, const unsigned char *end)
{
    const unsigned char *q = p;
#ifdef __SSE2__
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'),
                  ctl = _mm_set1_epi8(0x1f);
    while (end - q >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)q);
        __m128i m = _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash));
        /* bytes <= 0x1f (unsigned): min(v, 0x1f) == v */
        m = _mm_or_si128(m, _mm_cmpeq_epi8(_mm_min_epu8(v, ctl), v));
        int bits = _mm_movemask_epi8(m);
        if (bits)
            return (size_t)(q - p) + (size_t)__builtin_ctz((unsigned)bits);
        q += 16;
    }
#endif
    while (q < end && *q != '"' && *q != '\\' && *q >= 0x20)
        q++;
    return (size_t)(q - p);
}

/* Parse a JSON string at s->p (after whitespace). On success out and outlen give the decoded
 * text: into the header itself when the string has no escapes (the common case), else into
 * scratch (NUL-terminated there; header strings are not). UTF-8 was validated already. */
static int pstring_view(struct stp *s, const char **out, size_t *outlen)
{
    ws(s);
    if (s->p >= s->end || *s->p != '"')
        return perr(s, "expected a string");
    s->p++;
    size_t run = plain_run(s->p, s->end);
    if (s->p + run < s->end && s->p[run] == '"') {
        *out = (const char *)s->p;
        *outlen = run;
        s->p += run + 1;
        return CKPT_OK;
    }
    s->scratch_len = 0;
    for (;;) {
        const unsigned char *start = s->p;
        s->p += plain_run(s->p, s->end);
        if (s->p > start && scratch_put(s, start, (size_t)(s->p - start)))
            return CKPT_E_NOMEM;
        if (s->p >= s->end)
            return perr(s, "unterminated string");
        unsigned char c = *s->p;
        if (c == '"') {
            s->p++;
            if (scratch_put(s, (const unsigned char *)"", 0))
                return CKPT_E_NOMEM;
            *out = s->scratch;
            *outlen = s->scratch_len;
            return CKPT_OK;
        }
        if (c < 0x20)
            return perr(s, "control character inside a string");
        /* escape */
        if (s->end - s->p < 2)
            return perr(s, "unterminated escape");
        unsigned char e = s->p[1];
        unsigned char outb[4];
        size_t on = 1;
        s->p += 2;
        switch (e) {
        case '"':
        case '\\':
        case '/':
            outb[0] = e;
            break;
        case 'b':
            outb[0] = '\b';
            break;
        case 'f':
            outb[0] = '\f';
            break;
        case 'n':
            outb[0] = '\n';
            break;
        case 'r':
            outb[0] = '\r';
            break;
        case 't':
            outb[0] = '\t';
            break;
        case 'u': {
            unsigned cp;
            if (s->end - s->p < 4 || hex4(s->p, &cp))
                return perr(s, "bad \\u escape");
            s->p += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned lo;
                if (s->end - s->p < 6 || s->p[0] != '\\' || s->p[1] != 'u' || hex4(s->p + 2, &lo) ||
                    lo < 0xDC00 || lo > 0xDFFF)
                    return perr(s, "unpaired surrogate in \\u escape");
                s->p += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                return perr(s, "unpaired surrogate in \\u escape");
            }
            on = ckpt_utf8_put(outb, cp);
            break;
        }
        default:
            s->p -= 2;
            return perr(s, "bad escape in string");
        }
        if (scratch_put(s, outb, on))
            return CKPT_E_NOMEM;
    }
}

/* Parse a string into scratch (NUL-terminated), for callers that need a C string. */
static int pstring(struct stp *s)
{
    const char *v;
    size_t n;
    int rc = pstring_view(s, &v, &n);
    if (rc)
        return rc;
    if (v != s->scratch) {
        s->scratch_len = 0;
        if (scratch_put(s, (const unsigned char *)v, n))
            return CKPT_E_NOMEM;
    }
    return CKPT_OK;
}

static int puint(struct stp *s, uint64_t *out)
{
    ws(s);
    if (s->p >= s->end)
        return perr(s, "expected a number");
    if (*s->p == '-')
        return perr(s, "negative number");
    if (*s->p < '0' || *s->p > '9')
        return perr(s, "expected a non-negative integer");
    if (*s->p == '0' && s->end - s->p > 1 && s->p[1] >= '0' && s->p[1] <= '9')
        return perr(s, "number with a leading zero");
    /* local pointers: through s the compiler must reload them after every store */
    const unsigned char *p = s->p, *end = s->end;
    const unsigned char *fast_end = end - p > 19 ? p + 19 : end;
    uint64_t v = 0;
    /* up to 19 digits cannot overflow 64 bits: no checks needed */
    while (p < fast_end && (unsigned)(*p - '0') < 10)
        v = v * 10 + (unsigned)(*p++ - '0');
    while (p < end && (unsigned)(*p - '0') < 10) {
        if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, *p - '0', &v)) {
            s->p = p;
            return perr(s, "number larger than 64 bits");
        }
        p++;
    }
    s->p = p;
    if (s->p < s->end && (*s->p == '.' || *s->p == 'e' || *s->p == 'E'))
        return perr(s, "expected an integer, found a fraction or exponent");
    *out = v;
    return CKPT_OK;
}

/* Skip any JSON value (for unknown fields inside tensor entries). */
static int pskip(struct stp *s)
{
    ws(s);
    if (s->p >= s->end)
        return perr(s, "expected a value");
    if (++s->depth > 64)
        return perr(s, "values nested too deeply");
    unsigned char c = *s->p;
    int rc = CKPT_OK;
    if (c == '"') {
        const char *v;
        size_t vn;
        rc = pstring_view(s, &v, &vn);
    } else if (c == '{' || c == '[') {
        unsigned char close = c == '{' ? '}' : ']';
        s->p++;
        ws(s);
        if (s->p < s->end && *s->p == close) {
            s->p++;
        } else {
            for (;;) {
                if (c == '{') {
                    const char *v;
                    size_t vn;
                    if ((rc = pstring_view(s, &v, &vn)) || (rc = expect(s, ':', "expected ':'")))
                        break;
                }
                if ((rc = pskip(s)))
                    break;
                ws(s);
                if (s->p < s->end && *s->p == ',') {
                    s->p++;
                    continue;
                }
                rc = expect(s, (char)close, "expected ',' or the end of a container");
                break;
            }
        }
    } else if (c == 't' && s->end - s->p >= 4 && !memcmp(s->p, "true", 4)) {
        s->p += 4;
    } else if (c == 'f' && s->end - s->p >= 5 && !memcmp(s->p, "false", 5)) {
        s->p += 5;
    } else if (c == 'n' && s->end - s->p >= 4 && !memcmp(s->p, "null", 4)) {
        s->p += 4;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
        if (c == '-')
            s->p++;
        int digits = 0;
        while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
            s->p++, digits++;
        if (!digits)
            rc = perr(s, "bad number");
        if (!rc && s->p < s->end && *s->p == '.') {
            s->p++;
            digits = 0;
            while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
                s->p++, digits++;
            if (!digits)
                rc = perr(s, "bad number");
        }
        if (!rc && s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
            s->p++;
            if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
                s->p++;
            digits = 0;
            while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
                s->p++, digits++;
            if (!digits)
                rc = perr(s, "bad number");
        }
    } else {
        rc = perr(s, "expected a value");
    }
    s->depth--;
    return rc;
}

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

static int parse_metadata(struct stp *s, struct ckpt_tensorset *ts)
{
    ws(s);
    if (s->end - s->p >= 4 && !memcmp(s->p, "null", 4)) {
        s->p += 4;
        return CKPT_OK;
    }
    int rc = expect(s, '{', "__metadata__ must be an object of strings");
    if (rc)
        return rc;
    ws(s);
    if (s->p < s->end && *s->p == '}') {
        s->p++;
        return CKPT_OK;
    }
    char *key = NULL;
    for (;;) {
        if ((rc = pstring(s)))
            break;
        free(key);
        key = malloc(s->scratch_len + 1);
        if (!key) {
            rc = ckpt_error_setf(s->err, CKPT_E_NOMEM, s->fname, "out of memory");
            break;
        }
        memcpy(key, s->scratch, s->scratch_len + 1);
        size_t klen = s->scratch_len;
        if ((rc = expect(s, ':', "expected ':' in __metadata__")))
            break;
        ws(s);
        if (s->p >= s->end || *s->p != '"') {
            rc = ckpt_error_setf(s->err, CKPT_E_FORMAT, s->fname,
                                 "invalid safetensors header: __metadata__ value for '%.100s' is "
                                 "not a string (header byte %llu)",
                                 key, (unsigned long long)(s->p - s->start));
            break;
        }
        if ((rc = pstring(s)))
            break;
        if ((rc = ckpt_ts_add_meta(ts, key, klen, s->scratch, s->scratch_len, s->err)))
            break;
        ws(s);
        if (s->p < s->end && *s->p == ',') {
            s->p++;
            continue;
        }
        rc = expect(s, '}', "expected ',' or '}' in __metadata__");
        break;
    }
    free(key);
    if (rc || ts->n_meta < 2)
        return rc;
    /* duplicate keys: sort a copy of the key pointers (linear scans would be quadratic) */
    const char **keys = malloc(ts->n_meta * sizeof *keys);
    if (!keys)
        return ckpt_error_setf(s->err, CKPT_E_NOMEM, s->fname, "out of memory");
    for (size_t i = 0; i < ts->n_meta; i++)
        keys[i] = ts->meta[i].key;
    qsort(keys, ts->n_meta, sizeof *keys, str_cmp);
    for (size_t i = 1; i < ts->n_meta; i++)
        if (strcmp(keys[i - 1], keys[i]) == 0) {
            rc = ckpt_error_setf(s->err, CKPT_E_FORMAT, s->fname,
                                 "invalid safetensors header: duplicate __metadata__ key '%.100s'",
                                 keys[i]);
            break;
        }
    free(keys);
    return rc;
}

/* Parse one tensor entry; the name is in name/name_len (owned by caller). */
static int parse_entry(struct stp *s, struct ckpt_tensorset *ts, const char *name, size_t name_len,
                       uint64_t *begin, uint64_t *end, uint32_t src)
{
    int rc = expect(s, '{', "a tensor entry must be an object");
    if (rc)
        return rc;
    struct ckpt_tensor t;
    memset(&t, 0, sizeof t);
    t.name = name;
    t.source = src;
    int have_dtype = 0, have_shape = 0, have_off = 0;
    ws(s);
    if (s->p < s->end && *s->p == '}') {
        s->p++;
    } else {
        for (;;) {
            const char *k, *v;
            size_t kn, vn;
            if ((rc = pstring_view(s, &k, &kn)))
                return rc;
            if ((rc = expect(s, ':', "expected ':'")))
                return rc;
            if (kn == 5 && !memcmp(k, "dtype", 5)) {
                if (have_dtype)
                    return perr(s, "duplicate 'dtype'");
                if ((rc = pstring_view(s, &v, &vn)))
                    return rc;
                t.dtype = ckpt_dtype_from_safetensors(v, vn);
                if (t.dtype == CKPT_DT_INVALID)
                    return ckpt_error_setf(
                        s->err, CKPT_E_FORMAT, s->fname, "tensor '%.*s': unknown dtype '%.*s'",
                        (int)(name_len > 200 ? 200 : name_len), name, (int)(vn > 40 ? 40 : vn), v);
                have_dtype = 1;
            } else if (kn == 5 && !memcmp(k, "shape", 5)) {
                if (have_shape)
                    return perr(s, "duplicate 'shape'");
                if ((rc = expect(s, '[', "'shape' must be an array")))
                    return rc;
                ws(s);
                if (s->p < s->end && *s->p == ']') {
                    s->p++;
                } else {
                    for (;;) {
                        uint64_t d;
                        if ((rc = puint(s, &d)))
                            return rc;
                        if (t.ndim >= CKPT_MAX_DIMS || t.ndim >= ts->limits->max_dims)
                            return ckpt_error_setf(s->err, CKPT_E_LIMIT, s->fname,
                                                   "tensor '%.*s' has more than %u dimensions",
                                                   (int)(name_len > 200 ? 200 : name_len), name,
                                                   ts->limits->max_dims);
                        t.shape[t.ndim++] = d;
                        ws(s);
                        if (s->p < s->end && *s->p == ',') {
                            s->p++;
                            continue;
                        }
                        if ((rc = expect(s, ']', "expected ',' or ']' in shape")))
                            return rc;
                        break;
                    }
                }
                have_shape = 1;
            } else if (kn == 12 && !memcmp(k, "data_offsets", 12)) {
                if (have_off)
                    return perr(s, "duplicate 'data_offsets'");
                if ((rc = expect(s, '[', "'data_offsets' must be [begin, end]")) ||
                    (rc = puint(s, begin)) || (rc = expect(s, ',', "'data_offsets' needs 2")) ||
                    (rc = puint(s, end)) ||
                    (rc = expect(s, ']', "'data_offsets' must have exactly 2 numbers")))
                    return rc;
                have_off = 1;
            } else {
                if ((rc = pskip(s)))
                    return rc;
            }
            ws(s);
            if (s->p < s->end && *s->p == ',') {
                s->p++;
                continue;
            }
            if ((rc = expect(s, '}', "expected ',' or '}' in a tensor entry")))
                return rc;
            break;
        }
    }
    if (!have_dtype || !have_shape || !have_off)
        return ckpt_error_setf(s->err, CKPT_E_FORMAT, s->fname, "tensor '%.*s' lacks %s",
                               (int)(name_len > 200 ? 200 : name_len), name,
                               !have_dtype   ? "'dtype'"
                               : !have_shape ? "'shape'"
                                             : "'data_offsets'");
    if (*end < *begin)
        return ckpt_error_setf(s->err, CKPT_E_FORMAT, s->fname,
                               "tensor '%.*s': data_offsets end %llu before begin %llu",
                               (int)(name_len > 200 ? 200 : name_len), name,
                               (unsigned long long)*end, (unsigned long long)*begin);
    /* byte size must match shape x dtype (checked here, before the source bound, so the
       message names the real problem) */
    uint64_t numel = 1, bytes;
    for (uint32_t d = 0; d < t.ndim; d++)
        if (__builtin_mul_overflow(numel, t.shape[d], &numel))
            return ckpt_error_setf(s->err, CKPT_E_FORMAT, s->fname,
                                   "tensor '%.*s': shape's element count overflows 64 bits",
                                   (int)(name_len > 200 ? 200 : name_len), name);
    rc = ckpt_dtype_nbytes(t.dtype, numel, &bytes);
    if (rc == CKPT_E_LIMIT)
        return ckpt_error_setf(s->err, CKPT_E_FORMAT, s->fname,
                               "tensor '%.*s': byte size overflows 64 bits",
                               (int)(name_len > 200 ? 200 : name_len), name);
    if (rc)
        return ckpt_error_setf(s->err, CKPT_E_FORMAT, s->fname,
                               "tensor '%.*s': %llu elements of %s do not fill whole bytes",
                               (int)(name_len > 200 ? 200 : name_len), name,
                               (unsigned long long)numel, ckpt_dtype_name(t.dtype));
    if (bytes != *end - *begin)
        return ckpt_error_setf(s->err, CKPT_E_FORMAT, s->fname,
                               "tensor '%.*s': %s of %llu elements needs %llu bytes but "
                               "data_offsets [%llu, %llu] give %llu",
                               (int)(name_len > 200 ? 200 : name_len), name,
                               ckpt_dtype_name(t.dtype), (unsigned long long)numel,
                               (unsigned long long)bytes, (unsigned long long)*begin,
                               (unsigned long long)*end, (unsigned long long)(*end - *begin));
    t.offset = *begin;
    return ckpt_ts_add_tensor(ts, &t, name_len, s->err);
}

int ckpt_safetensors_parse(struct ckpt_tensorset *ts, struct ckpt_reader *r, struct ckpt_error *err)
{
    const char *fname = ckpt_ts_name(ts);
    uint64_t size = ckpt_reader_size(r);
    ts->format = CKPT_FMT_SAFETENSORS;
    if (size < 8)
        return ckpt_error_setf(err, CKPT_E_FORMAT, fname,
                               "too small for safetensors (%llu bytes; the header length alone "
                               "takes 8)",
                               (unsigned long long)size);
    unsigned char lb[8];
    int rc = ckpt_reader_read(r, 0, lb, 8, "header length", err);
    if (rc)
        return rc;
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = (n << 8) | lb[i];
    if (n > ts->limits->safetensors_header_max)
        return ckpt_error_setf(err, CKPT_E_FORMAT, fname,
                               "safetensors header length %llu exceeds the limit of %llu bytes",
                               (unsigned long long)n,
                               (unsigned long long)ts->limits->safetensors_header_max);
    if (n > size - 8)
        return ckpt_error_setf(err, CKPT_E_FORMAT, fname,
                               "safetensors header length %llu runs past the end of the file "
                               "(%llu bytes)",
                               (unsigned long long)n, (unsigned long long)size);
    if (n < 2)
        return ckpt_error_setf(err, CKPT_E_FORMAT, fname,
                               "safetensors header of %llu bytes cannot hold a JSON object",
                               (unsigned long long)n);
    ts->header_bytes = 8 + n;
    unsigned char *hdr = malloc((size_t)n);
    if (!hdr)
        return ckpt_error_setf(err, CKPT_E_NOMEM, fname, "out of memory for a %llu-byte header",
                               (unsigned long long)n);
    rc = ckpt_reader_read(r, 8, hdr, (size_t)n, "safetensors header", err);
    if (rc) {
        free(hdr);
        return rc;
    }
    size_t bad;
    if (!ckpt_utf8_valid(hdr, (size_t)n, &bad)) {
        free(hdr);
        return ckpt_error_setf(err, CKPT_E_FORMAT, fname,
                               "safetensors header is not valid UTF-8 (header byte %zu)", bad);
    }
    uint64_t data_size = size - 8 - n;
    uint32_t src;
    rc = ckpt_ts_add_source(ts, NULL, NULL, 8 + n, data_size, 0, &src, err);
    if (rc) {
        free(hdr);
        return rc;
    }
    struct stp s = {.p = hdr, .end = hdr + n, .start = hdr, .fname = fname, .err = err};
    struct span *spans = NULL;
    size_t nspans = 0, capspans = 0;
    char *name = NULL;
    size_t name_cap = 0;
    int seen_meta = 0;
    rc = expect(&s, '{', "the header must be a JSON object");
    if (rc)
        goto out;
    ws(&s);
    if (s.p < s.end && *s.p == '}') {
        s.p++;
    } else {
        for (;;) {
            const char *nv;
            size_t name_len;
            if ((rc = pstring_view(&s, &nv, &name_len)))
                goto out;
            if (nv == s.scratch) { /* decoded escapes: keep a copy, scratch is reused */
                if (name_len + 1 > name_cap) {
                    name_cap = name_len + 64;
                    char *q = realloc(name, name_cap);
                    if (!q) {
                        rc = ckpt_error_setf(err, CKPT_E_NOMEM, fname, "out of memory");
                        goto out;
                    }
                    name = q;
                }
                memcpy(name, nv, name_len + 1);
                nv = name;
            }
            if ((rc = expect(&s, ':', "expected ':' after a key")))
                goto out;
            if (name_len == 12 && !memcmp(nv, "__metadata__", 12)) {
                if (seen_meta) {
                    rc =
                        ckpt_error_setf(err, CKPT_E_FORMAT, fname,
                                        "invalid safetensors header: '__metadata__' appears twice");
                    goto out;
                }
                seen_meta = 1;
                if ((rc = parse_metadata(&s, ts)))
                    goto out;
            } else {
                if (nspans + 1 > capspans) {
                    size_t c = capspans ? capspans * 2 : 256;
                    struct span *q = realloc(spans, c * sizeof *q);
                    if (!q) {
                        rc = ckpt_error_setf(err, CKPT_E_NOMEM, fname, "out of memory");
                        goto out;
                    }
                    spans = q;
                    capspans = c;
                }
                uint64_t b = 0, e = 0;
                if ((rc = parse_entry(&s, ts, nv, name_len, &b, &e, src)))
                    goto out;
                spans[nspans].begin = b;
                spans[nspans].end = e;
                spans[nspans].idx = nspans;
                nspans++;
            }
            ws(&s);
            if (s.p < s.end && *s.p == ',') {
                s.p++;
                continue;
            }
            if ((rc = expect(&s, '}', "expected ',' or '}' after an entry")))
                goto out;
            break;
        }
    }
    ws(&s);
    if (s.p != s.end) {
        rc = perr(&s, "unexpected bytes after the JSON object");
        goto out;
    }
    /* offsets: contiguous from 0, no gap or overlap, ending exactly at the end of the file */
    int sorted = 1;
    for (size_t i = 1; i < nspans && sorted; i++)
        if (span_cmp(&spans[i - 1], &spans[i]) > 0)
            sorted = 0;
    if (!sorted)
        qsort(spans, nspans, sizeof *spans, span_cmp);
    uint64_t pos = 0;
    for (size_t i = 0; i < nspans; i++) {
        const struct ckpt_tensor *t = ckpt_tensorset_tensor(ts, spans[i].idx);
        if (spans[i].begin != pos) {
            rc = ckpt_error_setf(err, CKPT_E_FORMAT, fname,
                                 "tensor '%.200s' starts at data byte %llu but the previous "
                                 "tensor ends at %llu (%s)",
                                 t->name, (unsigned long long)spans[i].begin,
                                 (unsigned long long)pos, spans[i].begin < pos ? "overlap" : "gap");
            goto out;
        }
        pos = spans[i].end;
    }
    if (pos != data_size) {
        rc = ckpt_error_setf(err, CKPT_E_FORMAT, fname,
                             pos < data_size
                                 ? "the tensors end at data byte %llu but the file has %llu data "
                                   "bytes (trailing data)"
                                 : "the tensors end at data byte %llu but the file has only %llu "
                                   "data bytes (truncated)",
                             (unsigned long long)pos, (unsigned long long)data_size);
        goto out;
    }
    rc = CKPT_OK;
out:
    free(spans);
    free(name);
    free(s.scratch);
    free(hdr);
    return rc;
}
