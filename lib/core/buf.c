/* Growable buffers and the JSON emitter used for every JSON document ckptdb writes (CLI
 * output, safetensors headers, recipes). Not a JSON parser (jansson reads general JSON; the
 * safetensors header has its own parser). */
#include "ckptdb/buf.h"
#include "ckptdb/utf8.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

static int reserve(struct ckpt_buf *b, size_t extra)
{
    if (b->oom)
        return -1;
    if (b->len + extra + 1 <= b->cap)
        return 0;
    size_t c = b->cap ? b->cap : 256;
    while (c < b->len + extra + 1) {
        if (c > SIZE_MAX / 2) {
            b->oom = 1;
            return -1;
        }
        c *= 2;
    }
    char *q = realloc(b->data, c);
    if (!q) {
        b->oom = 1;
        return -1;
    }
    b->data = q;
    b->cap = c;
    return 0;
}

void ckpt_buf_put(struct ckpt_buf *b, const void *p, size_t n)
{
    if (reserve(b, n))
        return;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
}

void ckpt_buf_puts(struct ckpt_buf *b, const char *s)
{
    ckpt_buf_put(b, s, strlen(s));
}

void ckpt_buf_putc(struct ckpt_buf *b, char c)
{
    if (reserve(b, 1))
        return;
    b->data[b->len++] = c;
}

void ckpt_buf_printf(struct ckpt_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char tmp[256];
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) {
        va_end(ap2);
        return;
    }
    if ((size_t)n < sizeof tmp) {
        ckpt_buf_put(b, tmp, (size_t)n);
    } else if (reserve(b, (size_t)n) == 0) {
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
        b->len += (size_t)n;
    }
    va_end(ap2);
}

void ckpt_buf_reset(struct ckpt_buf *b)
{
    b->len = 0;
}

void ckpt_buf_free(struct ckpt_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->oom = 0;
}

const char *ckpt_buf_cstr(struct ckpt_buf *b)
{
    if (reserve(b, 0))
        return "";
    b->data[b->len] = '\0';
    return b->data;
}

/* ---- JSON ------------------------------------------------------------------------------------ */

/* Bytes at p that need no escaping: printable ASCII other than '"' and '\\'. */
static size_t plain_ascii(const unsigned char *p, const unsigned char *end)
{
    const unsigned char *q = p;
#ifdef __SSE2__
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'),
                  ctl = _mm_set1_epi8(0x1f);
    while (end - q >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)q);
        __m128i m = _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash));
        m = _mm_or_si128(m, _mm_cmpeq_epi8(_mm_min_epu8(v, ctl), v));
        int bits = _mm_movemask_epi8(m) | _mm_movemask_epi8(v); /* high bit: non-ASCII */
        if (bits)
            return (size_t)(q - p) + (size_t)__builtin_ctz((unsigned)bits);
        q += 16;
    }
#endif
    while (q < end && *q >= 0x20 && *q != '"' && *q != '\\' && *q < 0x80)
        q++;
    return (size_t)(q - p);
}

void ckpt_json_escape(struct ckpt_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    ckpt_buf_putc(b, '"');
    while (p < end) {
        const unsigned char *run = p;
        p += plain_ascii(p, end);
        if (p > run)
            ckpt_buf_put(b, run, (size_t)(p - run));
        if (p >= end)
            break;
        unsigned char c = *p;
        if (c >= 0x80) {
            size_t l = ckpt_utf8_seq(p, (size_t)(end - p));
            if (l) {
                ckpt_buf_put(b, p, l);
                p += l;
            } else {
                ckpt_buf_put(b, "\xEF\xBF\xBD", 3);
                p++;
            }
            continue;
        }
        p++;
        switch (c) {
        case '"':
            ckpt_buf_put(b, "\\\"", 2);
            break;
        case '\\':
            ckpt_buf_put(b, "\\\\", 2);
            break;
        case '\n':
            ckpt_buf_put(b, "\\n", 2);
            break;
        case '\r':
            ckpt_buf_put(b, "\\r", 2);
            break;
        case '\t':
            ckpt_buf_put(b, "\\t", 2);
            break;
        default: {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            ckpt_buf_put(b, e, 6);
        }
        }
    }
    ckpt_buf_putc(b, '"');
}

void ckpt_json_init(struct ckpt_json *j, struct ckpt_buf *b, int pretty)
{
    memset(j, 0, sizeof *j);
    j->b = b;
    j->pretty = pretty;
}

static void newline(struct ckpt_json *j)
{
    if (!j->pretty)
        return;
    ckpt_buf_putc(j->b, '\n');
    for (int i = 0; i < j->depth; i++)
        ckpt_buf_put(j->b, "  ", 2);
}

static void pre_value(struct ckpt_json *j)
{
    if (j->after_key) {
        j->after_key = 0;
        return;
    }
    if (j->depth > 0) {
        if (j->count[j->depth - 1])
            ckpt_buf_putc(j->b, ',');
        newline(j);
        if (j->count[j->depth - 1] < 255)
            j->count[j->depth - 1]++;
    }
}

static void open_c(struct ckpt_json *j, char c)
{
    pre_value(j);
    ckpt_buf_putc(j->b, c);
    if (j->depth < CKPT_JSON_MAX_DEPTH) {
        j->count[j->depth] = 0;
        j->depth++;
    }
}

static void close_c(struct ckpt_json *j, char c)
{
    if (j->depth > 0) {
        j->depth--;
        if (j->count[j->depth])
            newline(j);
    }
    ckpt_buf_putc(j->b, c);
}

void ckpt_json_obj_begin(struct ckpt_json *j)
{
    open_c(j, '{');
}

void ckpt_json_obj_end(struct ckpt_json *j)
{
    close_c(j, '}');
}

void ckpt_json_arr_begin(struct ckpt_json *j)
{
    open_c(j, '[');
}

void ckpt_json_arr_end(struct ckpt_json *j)
{
    close_c(j, ']');
}

void ckpt_json_key(struct ckpt_json *j, const char *k)
{
    pre_value(j);
    ckpt_json_escape(j->b, k, strlen(k));
    ckpt_buf_put(j->b, j->pretty ? ": " : ":", j->pretty ? 2 : 1);
    j->after_key = 1;
}

void ckpt_json_strn(struct ckpt_json *j, const char *s, size_t n)
{
    pre_value(j);
    ckpt_json_escape(j->b, s, n);
}

void ckpt_json_str(struct ckpt_json *j, const char *s)
{
    if (!s) {
        ckpt_json_null(j);
        return;
    }
    ckpt_json_strn(j, s, strlen(s));
}

void ckpt_json_u64(struct ckpt_json *j, uint64_t v)
{
    pre_value(j);
    char t[24];
    int i = 23;
    t[i] = '\0';
    do {
        t[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    ckpt_buf_put(j->b, t + i, (size_t)(23 - i));
}

void ckpt_json_i64(struct ckpt_json *j, int64_t v)
{
    if (v >= 0) {
        ckpt_json_u64(j, (uint64_t)v);
        return;
    }
    pre_value(j);
    ckpt_buf_printf(j->b, "%lld", (long long)v);
}

void ckpt_json_double(struct ckpt_json *j, double v)
{
    if (!isfinite(v)) {
        ckpt_json_null(j);
        return;
    }
    pre_value(j);
    /* the shortest form that reads back as the same double (0.7, not 0.69999999999999996) */
    char t[32];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(t, sizeof t, "%.*g", prec, v);
        if (prec == 17 || strtod(t, NULL) == v)
            break;
    }
    ckpt_buf_puts(j->b, t);
}

void ckpt_json_bool(struct ckpt_json *j, int v)
{
    pre_value(j);
    ckpt_buf_puts(j->b, v ? "true" : "false");
}

void ckpt_json_null(struct ckpt_json *j)
{
    pre_value(j);
    ckpt_buf_puts(j->b, "null");
}

void ckpt_json_raw(struct ckpt_json *j, const char *text, size_t n)
{
    pre_value(j);
    ckpt_buf_put(j->b, text, n);
}
