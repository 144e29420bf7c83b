/* The streaming engine shared by merge, convert, prune, extract and bake.
 *
 * It declares every planned tensor in a safetensors writer, then produces each one in chunks:
 * read the chunk of each input with pread (or, for compressed zip members and strided torch
 * views, from the tensor gathered once into a buffer), convert to float64, compute, round once to
 * the output dtype, append. Tensors whose dtype is kept are copied byte for byte. Memory stays at
 * a few chunks plus, for the whole-tensor cases (channel-mismatched inpainting convs, baked
 * LoRA targets, gathered views), the largest such tensor. Not for deciding what to write: the
 * operations build the plan. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif
#include <sys/stat.h>
#include <unistd.h>
#include <fcntl.h>

#include "ckptdb/fp.h"
#include "ckptdb/safetensors.h"
#include "ops_impl.h"

#define CHUNK_ELEMS OPS_CHUNK

/* ---- plan bookkeeping ------------------------------------------------------------------------ */

struct ops_item *ops_add(struct ops_plan *p, const char *name, const struct ckpt_tensor *like)
{
    if (p->n == p->cap) {
        size_t c = p->cap ? p->cap * 2 : 256;
        struct ops_item *q = realloc(p->items, c * sizeof *q);
        if (!q)
            return NULL;
        p->items = q;
        p->cap = c;
    }
    struct ops_item *it = &p->items[p->n];
    memset(it, 0, sizeof *it);
    it->name = strdup(name);
    if (!it->name)
        return NULL;
    it->in[0] = it->in[1] = it->in[2] = -1;
    if (like) {
        it->dtype = like->dtype;
        it->ndim = like->ndim;
        memcpy(it->shape, like->shape, sizeof it->shape);
    }
    p->n++;
    return it;
}

struct ops_item *ops_add_copy(struct ops_plan *p, const char *name, const struct ckpt_tensor *t,
                              enum ckpt_dtype want)
{
    struct ops_item *it = ops_add(p, name, t);
    if (!it)
        return NULL;
    it->kind = OPS_COPY;
    it->in[0] = 0;
    it->src[0] = t;
    if (ops_numeric(t->dtype))
        it->dtype = ops_out_dtype(t->dtype, want);
    return it;
}

int ops_open_single(struct ops_plan *p, const char *input, const struct ckpt_op_common *c,
                    struct ckpt_error *err)
{
    const char *ins[1] = {input};
    memset(p, 0, sizeof *p);
    int rc = ops_check_output(c->output, ins, 1, err);
    if (!rc)
        rc = ops_open(&p->in[0], input, c, err);
    if (!rc)
        p->n_in = 1;
    return rc;
}

int ops_meta(struct ops_plan *p, const char *key, const char *value)
{
    for (size_t i = 0; i < p->n_meta; i++)
        if (!strcmp(p->meta[2 * i], key)) {
            char *v = strdup(value);
            if (!v)
                return CKPT_E_NOMEM;
            free(p->meta[2 * i + 1]);
            p->meta[2 * i + 1] = v;
            return CKPT_OK;
        }
    char **q = realloc(p->meta, (p->n_meta + 1) * 2 * sizeof *q);
    if (!q)
        return CKPT_E_NOMEM;
    p->meta = q;
    q[2 * p->n_meta] = strdup(key);
    q[2 * p->n_meta + 1] = strdup(value);
    if (!q[2 * p->n_meta] || !q[2 * p->n_meta + 1]) {
        free(q[2 * p->n_meta]);
        free(q[2 * p->n_meta + 1]);
        return CKPT_E_NOMEM;
    }
    p->n_meta++;
    return CKPT_OK;
}

void ops_plan_free(struct ops_plan *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free((char *)p->items[i].name);
        free(p->items[i].terms);
    }
    free(p->items);
    for (size_t i = 0; i < 2 * p->n_meta; i++)
        free(p->meta[i]);
    free(p->meta);
    memset(p, 0, sizeof *p);
}

/* ---- numbers --------------------------------------------------------------------------------- */

int ops_numeric(enum ckpt_dtype t)
{
    switch (t) {
    case CKPT_DT_F16:
    case CKPT_DT_BF16:
    case CKPT_DT_F32:
    case CKPT_DT_F64:
    case CKPT_DT_BOOL:
    case CKPT_DT_U8:
    case CKPT_DT_I8:
    case CKPT_DT_I16:
    case CKPT_DT_U16:
    case CKPT_DT_I32:
    case CKPT_DT_U32:
    case CKPT_DT_I64:
        return 1;
    default:
        return 0;
    }
}

enum ckpt_dtype ops_out_dtype(enum ckpt_dtype t, enum ckpt_dtype want)
{
    if (want == CKPT_DT_INVALID)
        return t;
    if (t == CKPT_DT_F16 || t == CKPT_DT_BF16 || t == CKPT_DT_F32 || t == CKPT_DT_F64)
        return want;
    return t;
}

static float f16_table[65536];
static pthread_once_t f16_once = PTHREAD_ONCE_INIT;

static void f16_init(void)
{
    for (uint32_t i = 0; i < 65536; i++)
        f16_table[i] = ckpt_f16_to_f32((uint16_t)i);
}

uint16_t ops_f64_to_f16(double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    uint16_t sign = (uint16_t)((u >> 48) & 0x8000);
    uint64_t a = u & 0x7fffffffffffffffull;
    if (a >= 0x7ff0000000000000ull)
        return a > 0x7ff0000000000000ull ? (uint16_t)(sign | 0x7e00) : (uint16_t)(sign | 0x7c00);
    int e = (int)(a >> 52) - 1023;
    uint64_t m = a & ((1ull << 52) - 1);
    if (e >= 16)
        return sign | 0x7c00;
    if (e >= -14) {
        uint64_t h = ((uint64_t)(e + 15) << 10) | (m >> 42);
        uint64_t rem = m & ((1ull << 42) - 1), half = 1ull << 41;
        if (rem > half || (rem == half && (h & 1)))
            h++; /* a carry into the exponent is right, up to 0x7c00 = inf */
        return (uint16_t)(sign | h);
    }
    if (e < -25)
        return sign;
    m |= 1ull << 52; /* value = m * 2^(e-52); in units of 2^-24: m >> (28 - e) */
    int s = 28 - e;
    uint64_t n = m >> s, rem = m & ((1ull << s) - 1), half = 1ull << (s - 1);
    if (rem > half || (rem == half && (n & 1)))
        n++;
    return (uint16_t)(sign | n);
}

/* double -> float rounded to odd (truncate, then set the last bit when inexact): rounding that
 * to a format with at least 2 fewer significant bits gives the correctly rounded result. */
static inline uint32_t f64_to_f32_odd(double d)
{
    float f = (float)d;
    double back = (double)f;
    uint32_t b;
    memcpy(&b, &f, 4);
    b -= (uint32_t)(fabs(back) > fabs(d));
    b |= (uint32_t)(back != d);
    return b;
}

uint16_t ops_f64_to_bf16(double d)
{
    if (d != d)
        return signbit(d) ? 0xFFC0 : 0x7FC0;
    uint32_t b = f64_to_f32_odd(d);
    b += 0x7FFFu + ((b >> 16) & 1);
    return (uint16_t)(b >> 16);
}

#if defined(__x86_64__)
#include <immintrin.h>
/* four float64 lanes to four f16 (in the low 64 bits): rounded to float32 with round-to-odd
   (the sticky bit keeps the one rounding to f16 correct), then to f16 to nearest-even; the same
   result as ops_f64_to_f16 on each lane */
__attribute__((target("avx2,f16c"))) static inline __m128i f64x4_to_f16(__m256d d)
{
    const __m256d absmask = _mm256_castsi256_pd(_mm256_set1_epi64x(0x7fffffffffffffffll));
    const __m256i pick = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
    __m128 f = _mm256_cvtpd_ps(d);
    __m256d back = _mm256_cvtps_pd(f);
    __m256d over =
        _mm256_cmp_pd(_mm256_and_pd(back, absmask), _mm256_and_pd(d, absmask), _CMP_GT_OQ);
    __m256d inex = _mm256_cmp_pd(back, d, _CMP_NEQ_UQ);
    __m128i o32 =
        _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(_mm256_castpd_si256(over), pick));
    __m128i x32 =
        _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(_mm256_castpd_si256(inex), pick));
    __m128i b = _mm_add_epi32(_mm_castps_si128(f), o32);
    b = _mm_or_si128(b, _mm_and_si128(x32, _mm_set1_epi32(1)));
    return _mm_cvtps_ph(_mm_castsi128_ps(b), _MM_FROUND_TO_NEAREST_INT);
}

__attribute__((target("avx2,f16c"))) static void f64_to_f16_avx2(const double *in, size_t n,
                                                                 uint16_t *out)
{
    size_t i = 0;
    for (; i + 4 <= n; i += 4)
        _mm_storel_epi64((__m128i *)(out + i), f64x4_to_f16(_mm256_loadu_pd(in + i)));
    for (; i < n; i++)
        out[i] = ops_f64_to_f16(in[i]);
}

__attribute__((target("avx2,f16c"))) static void f16_to_f64_avx2(const uint16_t *in, size_t n,
                                                                 double *out)
{
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        __m128i h = _mm_loadl_epi64((const __m128i *)(in + i));
        _mm256_storeu_pd(out + i, _mm256_cvtps_pd(_mm_cvtph_ps(h)));
    }
    for (; i < n; i++)
        out[i] = f16_table[in[i]];
}

/* Weighted sum of two f16 arrays straight to f16, in one pass: the same float64 operations as
 * ops_merge_chunk ((1-a)*x + a*y, no fused multiply-add) and the same rounding as
 * f64_to_f16_avx2, without the intermediate float64 arrays. */
__attribute__((target("avx2,f16c"))) static void ws_f16_avx2(const uint16_t *x, const uint16_t *y,
                                                             size_t n, double al, uint16_t *out)
{
    const __m256d wa = _mm256_set1_pd(1.0 - al), wb = _mm256_set1_pd(al);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        __m256d a = _mm256_cvtps_pd(_mm_cvtph_ps(_mm_loadl_epi64((const __m128i *)(x + i))));
        __m256d b = _mm256_cvtps_pd(_mm_cvtph_ps(_mm_loadl_epi64((const __m128i *)(y + i))));
        __m256d d = _mm256_add_pd(_mm256_mul_pd(wa, a), _mm256_mul_pd(wb, b));
        _mm_storel_epi64((__m128i *)(out + i), f64x4_to_f16(d));
    }
    for (; i < n; i++)
        out[i] =
            ops_f64_to_f16((1.0 - al) * (double)f16_table[x[i]] + al * (double)f16_table[y[i]]);
}

static int have_f16c(void)
{
    static int v = -1;
    if (v < 0) {
        /* F16C through CPUID (leaf 1, ECX bit 29): clang 14's __builtin_cpu_supports does not
           know "f16c" */
        unsigned a, b, c, d;
        int f16c = __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 29));
        v = __builtin_cpu_supports("avx2") && f16c;
    }
    return v;
}
#else
static int have_f16c(void)
{
    return 0;
}
static void ws_f16_avx2(const uint16_t *x, const uint16_t *y, size_t n, double al, uint16_t *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] =
            ops_f64_to_f16((1.0 - al) * (double)f16_table[x[i]] + al * (double)f16_table[y[i]]);
}
static void f64_to_f16_avx2(const double *in, size_t n, uint16_t *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = ops_f64_to_f16(in[i]);
}
static void f16_to_f64_avx2(const uint16_t *in, size_t n, double *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = f16_table[in[i]];
}
#endif

void ops_f64_to_f16_array(const double *in, size_t n, uint16_t *out)
{
    pthread_once(&f16_once, f16_init);
    if (have_f16c()) {
        f64_to_f16_avx2(in, n, out);
        return;
    }
    for (size_t i = 0; i < n; i++)
        out[i] = ops_f64_to_f16(in[i]);
}

static void to_f64(enum ckpt_dtype t, const void *src, size_t n, double *out)
{
    const unsigned char *s = src;
    switch (t) {
    case CKPT_DT_F16: {
        const uint16_t *h = src;
        if (have_f16c()) {
            f16_to_f64_avx2(h, n, out);
            return;
        }
        for (size_t i = 0; i < n; i++)
            out[i] = f16_table[h[i]];
        return;
    }
    case CKPT_DT_BF16: {
        const uint16_t *h = src;
        for (size_t i = 0; i < n; i++) {
            uint32_t b = (uint32_t)h[i] << 16;
            float f;
            memcpy(&f, &b, 4);
            out[i] = f;
        }
        return;
    }
    case CKPT_DT_F32: {
        const float *f = src;
        for (size_t i = 0; i < n; i++)
            out[i] = f[i];
        return;
    }
    case CKPT_DT_F64:
        memcpy(out, src, n * 8);
        return;
#define INTS(DT, CT)                                                                               \
    case DT:                                                                                       \
        for (size_t i = 0; i < n; i++) {                                                           \
            CT v;                                                                                  \
            memcpy(&v, s + i * sizeof(CT), sizeof(CT));                                            \
            out[i] = (double)v;                                                                    \
        }                                                                                          \
        return;
        INTS(CKPT_DT_BOOL, uint8_t)
        INTS(CKPT_DT_U8, uint8_t)
        INTS(CKPT_DT_I8, int8_t)
        INTS(CKPT_DT_I16, int16_t)
        INTS(CKPT_DT_U16, uint16_t)
        INTS(CKPT_DT_I32, int32_t)
        INTS(CKPT_DT_U32, uint32_t)
        INTS(CKPT_DT_I64, int64_t)
#undef INTS
    default:
        memset(out, 0, n * 8);
    }
}

static void from_f64(enum ckpt_dtype t, const double *in, size_t n, void *dst)
{
    unsigned char *d = dst;
    switch (t) {
    case CKPT_DT_F16:
        if (have_f16c()) {
            f64_to_f16_avx2(in, n, dst);
            return;
        }
        for (size_t i = 0; i < n; i++)
            ((uint16_t *)dst)[i] = ops_f64_to_f16(in[i]);
        return;
    case CKPT_DT_BF16: {
        uint16_t *h = dst;
        for (size_t i = 0; i < n; i++)
            h[i] = ops_f64_to_bf16(in[i]);
        return;
    }
    case CKPT_DT_F32: {
        float *f = dst;
        for (size_t i = 0; i < n; i++)
            f[i] = (float)in[i];
        return;
    }
    case CKPT_DT_F64:
        memcpy(dst, in, n * 8);
        return;
#define INTS(DT, CT)                                                                               \
    case DT:                                                                                       \
        for (size_t i = 0; i < n; i++) {                                                           \
            CT v = (CT)llround(in[i]);                                                             \
            memcpy(d + i * sizeof(CT), &v, sizeof(CT));                                            \
        }                                                                                          \
        return;
        INTS(CKPT_DT_BOOL, uint8_t)
        INTS(CKPT_DT_U8, uint8_t)
        INTS(CKPT_DT_I8, int8_t)
        INTS(CKPT_DT_I16, int16_t)
        INTS(CKPT_DT_U16, uint16_t)
        INTS(CKPT_DT_I32, int32_t)
        INTS(CKPT_DT_U32, uint32_t)
        INTS(CKPT_DT_I64, int64_t)
#undef INTS
    default:
        memset(dst, 0, n);
    }
}

/* ---- reading inputs -------------------------------------------------------------------------- */

struct fdslot {
    const char *path;
    int fd;
};

/* A tensor gathered whole (compressed member, strided view) for one operand position. */
struct gathered {
    const struct ckpt_tensor *t;
    unsigned char *buf;
    size_t cap;
};

struct ops_ctx {
    struct ops_plan *p;
    const struct ckpt_op_common *c;
    struct ckpt_st_writer *w;
    struct fdslot fds[OPS_MAX_IN * 2];
    size_t n_fds;
    struct gathered g[8];
    unsigned char *raw;     /* CHUNK_ELEMS * 8 bytes of input bytes */
    unsigned char *rawk[3]; /* per operand, for the blocked merge */
    unsigned char *outb;    /* CHUNK_ELEMS * 8 bytes of output bytes */
    double *v[4];           /* CHUNK_ELEMS doubles per operand + result */
    uint64_t tensors_done, bytes_done, bytes_total;
    struct ckpt_error *err;
};

static int fd_for(struct ops_ctx *r, const char *path, int *fd)
{
    for (size_t i = 0; i < r->n_fds; i++)
        if (r->fds[i].path == path || !strcmp(r->fds[i].path, path)) {
            *fd = r->fds[i].fd;
            return CKPT_OK;
        }
    if (r->n_fds == sizeof r->fds / sizeof *r->fds)
        return ckpt_error_setf(r->err, CKPT_E_LIMIT, path, "too many input files");
    int f = open(path, O_RDONLY | O_CLOEXEC);
    if (f < 0)
        return ckpt_error_setf(r->err, CKPT_E_IO, path, "cannot open: %s", strerror(errno));
    posix_fadvise(f, 0, 0, POSIX_FADV_SEQUENTIAL);
    r->fds[r->n_fds].path = path;
    r->fds[r->n_fds].fd = f;
    r->n_fds++;
    *fd = f;
    return CKPT_OK;
}

static int is_direct(struct ckpt_tensorset *ts, const struct ckpt_tensor *t)
{
    const struct ckpt_source *s = ckpt_tensorset_source(ts, t->source);
    return t->contiguous && !s->compressed;
}

/* Bytes [off, off+len) of tensor t (laid out contiguously) of input `in`, operand slot `slot`. */
static int read_bytes(struct ops_ctx *r, int in, int slot, const struct ckpt_tensor *t,
                      uint64_t off, size_t len, void *dst)
{
    struct ckpt_tensorset *ts = r->p->in[in];
    if (off > t->nbytes || len > t->nbytes - off)
        return ckpt_error_setf(r->err, CKPT_E_ARG, ckpt_tensorset_path(ts),
                               "tensor '%s': read past its end", t->name);
    if (is_direct(ts, t)) {
        const struct ckpt_source *s = ckpt_tensorset_source(ts, t->source);
        int fd = -1;
        int rc = fd_for(r, s->path, &fd);
        if (rc)
            return rc;
        uint64_t pos = s->file_offset + t->offset + off;
        unsigned char *d = dst;
        while (len) {
            ssize_t got = pread(fd, d, len, (off_t)pos);
            if (got < 0 && errno == EINTR)
                continue;
            if (got < 0)
                return ckpt_error_setf(r->err, CKPT_E_IO, s->path, "read failed: %s",
                                       strerror(errno));
            if (got == 0)
                return ckpt_error_setf(r->err, CKPT_E_CHANGED, s->path,
                                       "file ended early (tensor '%s'): changed while read?",
                                       t->name);
            d += got;
            len -= (size_t)got;
            pos += (uint64_t)got;
        }
        return CKPT_OK;
    }
    struct gathered *g = &r->g[slot];
    if (g->t != t) {
        if (t->nbytes > SIZE_MAX)
            return ckpt_error_setf(r->err, CKPT_E_LIMIT, ckpt_tensorset_path(ts),
                                   "tensor '%s' too large", t->name);
        if (g->cap < t->nbytes) {
            unsigned char *b = realloc(g->buf, (size_t)t->nbytes);
            if (!b)
                return ckpt_error_setf(r->err, CKPT_E_NOMEM, ckpt_tensorset_path(ts),
                                       "out of memory for tensor '%s'", t->name);
            g->buf = b;
            g->cap = (size_t)t->nbytes;
        }
        g->t = NULL;
        int rc = ckpt_tensorset_read_tensor(ts, t, g->buf, g->cap, r->err);
        if (rc)
            return rc;
        g->t = t;
    }
    memcpy(dst, g->buf + off, len);
    return CKPT_OK;
}

/* Elements [e0, e0+n) of t as doubles. */
int ops_read_f64(struct ops_ctx *r, int in, int slot, const struct ckpt_tensor *t, uint64_t e0,
                 size_t n, double *out)
{
    size_t es = ckpt_dtype_bits(t->dtype) / 8;
    int rc = read_bytes(r, in, slot, t, e0 * es, n * es, r->raw);
    if (!rc)
        to_f64(t->dtype, r->raw, n, out);
    return rc;
}

/* Whole tensor as a malloc'd double array. */
int ops_read_all(struct ops_ctx *r, int in, int slot, const struct ckpt_tensor *t, double **out)
{
    *out = NULL;
    if (t->numel > SIZE_MAX / 8)
        return ckpt_error_setf(r->err, CKPT_E_LIMIT, ckpt_tensorset_path(r->p->in[in]),
                               "tensor '%s' too large", t->name);
    double *a = malloc(t->numel ? (size_t)t->numel * 8 : 8);
    if (!a)
        return ckpt_error_setf(r->err, CKPT_E_NOMEM, ckpt_tensorset_path(r->p->in[in]),
                               "out of memory for tensor '%s'", t->name);
    for (uint64_t e = 0; e < t->numel; e += CHUNK_ELEMS) {
        size_t n = (size_t)(t->numel - e < CHUNK_ELEMS ? t->numel - e : CHUNK_ELEMS);
        int rc = ops_read_f64(r, in, slot, t, e, n, a + e);
        if (rc) {
            free(a);
            return rc;
        }
    }
    *out = a;
    return CKPT_OK;
}

/* ---- writing --------------------------------------------------------------------------------- */

static int progress(struct ops_ctx *r)
{
    if (r->c->progress && r->c->progress(r->c->progress_user, r->tensors_done, r->p->n,
                                         r->bytes_done, r->bytes_total))
        return ckpt_error_setf(r->err, CKPT_E_CANCELLED, r->c->output, "cancelled");
    return CKPT_OK;
}

static int put(struct ops_ctx *r, const void *p, size_t n)
{
    int rc = ckpt_st_writer_data(r->w, p, n, r->err);
    if (rc)
        return rc;
    r->bytes_done += n;
    if ((r->bytes_done >> 26) != ((r->bytes_done - n) >> 26))
        return progress(r);
    return CKPT_OK;
}

/* Write n doubles as the item's dtype. */
int ops_put_f64(struct ops_ctx *r, const struct ops_item *it, const double *v, size_t n)
{
    size_t es = ckpt_dtype_bits(it->dtype) / 8;
    from_f64(it->dtype, v, n, r->outb);
    return put(r, r->outb, n * es);
}

int ops_put_all_f64(struct ops_ctx *r, const struct ops_item *it, const double *v, uint64_t numel)
{
    for (uint64_t e = 0; e < numel; e += CHUNK_ELEMS) {
        size_t n = (size_t)(numel - e < CHUNK_ELEMS ? numel - e : CHUNK_ELEMS);
        int rc = ops_put_f64(r, it, v + e, n);
        if (rc)
            return rc;
    }
    return CKPT_OK;
}

static int do_copy(struct ops_ctx *r, const struct ops_item *it)
{
    const struct ckpt_tensor *t = it->src[0];
    if (it->dtype == t->dtype) {
        size_t step = (size_t)CHUNK_ELEMS * 8;
        for (uint64_t off = 0; off < t->nbytes; off += step) {
            size_t n = (size_t)(t->nbytes - off < step ? t->nbytes - off : step);
            int rc = read_bytes(r, it->in[0], 0, t, off, n, r->raw);
            if (!rc)
                rc = put(r, r->raw, n);
            if (rc)
                return rc;
        }
        return CKPT_OK;
    }
    for (uint64_t e = 0; e < t->numel; e += CHUNK_ELEMS) {
        size_t n = (size_t)(t->numel - e < CHUNK_ELEMS ? t->numel - e : CHUNK_ELEMS);
        int rc = ops_read_f64(r, it->in[0], 0, t, e, n, r->v[0]);
        if (!rc)
            rc = ops_put_f64(r, it, r->v[0], n);
        if (rc)
            return rc;
    }
    return CKPT_OK;
}

static int same_shape(const struct ckpt_tensor *a, const struct ckpt_tensor *b)
{
    return a->ndim == b->ndim && !memcmp(a->shape, b->shape, a->ndim * sizeof *a->shape);
}

/* A is wider than B (and C) in dim 1 (inpainting 9 / pix2pix 8 input channels vs 4): merge the
 * first channels B has, keep A's extra ones. */
static int do_merge_wide(struct ops_ctx *r, const struct ops_item *it)
{
    int nops = ckpt_merge_method_inputs(r->p->method);
    double *v[3] = {0};
    int rc = CKPT_OK;
    for (int k = 0; k < nops && !rc; k++)
        rc = ops_read_all(r, it->in[k], k, it->src[k], &v[k]);
    double *out = NULL;
    if (!rc && !(out = malloc(it->src[0]->numel ? (size_t)it->src[0]->numel * 8 : 8)))
        rc = ckpt_error_setf(r->err, CKPT_E_NOMEM, r->c->output, "out of memory");
    if (!rc) {
        const struct ckpt_tensor *A = it->src[0];
        uint64_t outer = A->shape[0], ca = A->shape[1], inner = 1;
        for (uint32_t d = 2; d < A->ndim; d++)
            inner *= A->shape[d];
        memcpy(out, v[0], (size_t)A->numel * 8);
        uint64_t cb = it->src[1]->shape[1];
        double tmp_b[1], tmp_c[1], res[1];
        for (uint64_t o = 0; o < outer; o++)
            for (uint64_t ch = 0; ch < cb; ch++)
                for (uint64_t i = 0; i < inner; i++) {
                    uint64_t ia = (o * ca + ch) * inner + i, ib = (o * cb + ch) * inner + i;
                    tmp_b[0] = v[1][ib];
                    tmp_c[0] = nops > 2 ? v[2][ib] : 0;
                    ops_merge_chunk(r->p, it, &v[0][ia], tmp_b, tmp_c, 1, ia, res);
                    out[ia] = res[0];
                }
        rc = ops_put_all_f64(r, it, out, A->numel);
    }
    free(out);
    for (int k = 0; k < 3; k++)
        free(v[k]);
    return rc;
}

#define SUB 4096 /* elements converted and computed at a time (stays in L1/L2) */

/* n elements of the chunk at element e of the item: convert, compute, round, SUB at a time. */
static void merge_sub(struct ops_ctx *r, const struct ops_item *it, int nops, size_t n, uint64_t e)
{
    size_t oes = ckpt_dtype_bits(it->dtype) / 8;
    for (size_t s = 0; s < n; s += SUB) {
        size_t m = n - s < SUB ? n - s : SUB;
        for (int k = 0; k < nops; k++) {
            size_t es = ckpt_dtype_bits(it->src[k]->dtype) / 8;
            to_f64(it->src[k]->dtype, r->rawk[k] + s * es, m, r->v[k]);
        }
        ops_merge_chunk(r->p, it, r->v[0], r->v[1], nops > 2 ? r->v[2] : NULL, m, e + s, r->v[3]);
        from_f64(it->dtype, r->v[3], m, r->outb + s * oes);
    }
}

static int do_merge(struct ops_ctx *r, const struct ops_item *it)
{
    int nops = ckpt_merge_method_inputs(r->p->method);
    const struct ckpt_tensor *A = it->src[0];
    for (int k = 1; k < nops; k++)
        if (!same_shape(A, it->src[k]))
            return do_merge_wide(r, it);
    if (r->p->method == CKPT_MERGE_TIES)
        return ops_merge_ties(r, it);
    size_t oes = ckpt_dtype_bits(it->dtype) / 8;
    for (uint64_t e = 0; e < A->numel; e += CHUNK_ELEMS) {
        size_t n = (size_t)(A->numel - e < CHUNK_ELEMS ? A->numel - e : CHUNK_ELEMS);
        int rc = CKPT_OK;
        for (int k = 0; k < nops && !rc; k++) {
            size_t es = ckpt_dtype_bits(it->src[k]->dtype) / 8;
            rc = read_bytes(r, it->in[k], k, it->src[k], e * es, n * es, r->rawk[k]);
        }
        if (rc)
            return rc;
        if (r->p->method == CKPT_MERGE_WEIGHTED_SUM && it->dtype == CKPT_DT_F16 &&
            it->src[0]->dtype == CKPT_DT_F16 && it->src[1]->dtype == CKPT_DT_F16 &&
            have_f16c()) /* the common case in one pass */
            ws_f16_avx2((const uint16_t *)r->rawk[0], (const uint16_t *)r->rawk[1], n, it->alpha,
                        (uint16_t *)r->outb);
        else
            merge_sub(r, it, nops, n, e);
        rc = put(r, r->outb, n * oes);
        if (rc)
            return rc;
    }
    return CKPT_OK;
}

static int do_item(struct ops_ctx *r, const struct ops_item *it)
{
    switch (it->kind) {
    case OPS_COPY:
        return do_copy(r, it);
    case OPS_MERGE:
        return do_merge(r, it);
    case OPS_INT_ROUND:
    case OPS_ARANGE: {
        uint64_t numel = 1;
        for (uint32_t d = 0; d < it->ndim; d++)
            numel *= it->shape[d];
        for (uint64_t e = 0; e < numel; e += CHUNK_ELEMS) {
            size_t n = (size_t)(numel - e < CHUNK_ELEMS ? numel - e : CHUNK_ELEMS);
            if (it->kind == OPS_ARANGE) {
                for (size_t i = 0; i < n; i++)
                    r->v[0][i] = (double)(e + i);
            } else {
                int rc = ops_read_f64(r, it->in[0], 0, it->src[0], e, n, r->v[0]);
                if (rc)
                    return rc;
                for (size_t i = 0; i < n; i++)
                    r->v[0][i] = nearbyint(r->v[0][i]);
            }
            int rc = ops_put_f64(r, it, r->v[0], n);
            if (rc)
                return rc;
        }
        return CKPT_OK;
    }
    case OPS_BAKE: {
        double *w;
        int rc = ops_read_all(r, it->in[0], 0, it->src[0], &w);
        if (rc)
            return rc;
        rc = ops_bake_item(r, it, w);
        if (!rc)
            rc = ops_put_all_f64(r, it, w, it->src[0]->numel);
        free(w);
        return rc;
    }
    }
    return ckpt_error_setf(r->err, CKPT_E_ARG, r->c->output, "bad plan item '%s'", it->name);
}

int ops_run(struct ops_plan *p, const struct ckpt_op_common *c, struct ckpt_op_report *rep,
            struct ckpt_error *err)
{
    pthread_once(&f16_once, f16_init);
    struct ops_ctx r = {0};
    r.p = p;
    r.c = c;
    r.err = err;
    int rc = ckpt_st_writer_open(&r.w, c->output, c->force, err);
    if (rc)
        return rc;
    ckpt_st_writer_stream(r.w);
    for (size_t i = 0; i < p->n_meta && !rc; i++)
        rc = ckpt_st_writer_meta(r.w, p->meta[2 * i], p->meta[2 * i + 1], err);
    for (size_t i = 0; i < p->n && !rc; i++) {
        const struct ops_item *it = &p->items[i];
        rc = ckpt_st_writer_declare(r.w, it->name, it->dtype, it->ndim, it->shape, err);
    }
    r.raw = malloc((size_t)CHUNK_ELEMS * 8);
    r.outb = malloc((size_t)CHUNK_ELEMS * 8);
    for (int k = 0; k < 4; k++)
        r.v[k] = malloc((size_t)CHUNK_ELEMS * sizeof(double));
    for (int k = 0; k < 3; k++)
        r.rawk[k] = malloc((size_t)CHUNK_ELEMS * 8);
    if (!rc && (!r.raw || !r.outb || !r.v[0] || !r.v[1] || !r.v[2] || !r.v[3] || !r.rawk[0] ||
                !r.rawk[1] || !r.rawk[2]))
        rc = ckpt_error_setf(err, CKPT_E_NOMEM, c->output, "out of memory");
    if (!rc) {
        r.bytes_total = ckpt_st_writer_data_size(r.w);
        rc = ckpt_st_writer_begin_data(r.w, err);
    }
    if (!rc)
        rc = progress(&r);
    for (size_t i = 0; i < p->n && !rc; i++) {
        rc = do_item(&r, &p->items[i]);
        r.tensors_done++;
        if (!rc && (i + 1 == p->n || (i & 15) == 15))
            rc = progress(&r);
    }
    uint64_t data = ckpt_st_writer_data_size(r.w);
    if (rc)
        ckpt_st_writer_abort(r.w);
    else
        rc = ckpt_st_writer_finish(r.w, err);
    for (size_t i = 0; i < r.n_fds; i++)
        close(r.fds[i].fd);
    for (size_t i = 0; i < sizeof r.g / sizeof *r.g; i++)
        free(r.g[i].buf);
    free(r.raw);
    free(r.outb);
    for (int k = 0; k < 4; k++)
        free(r.v[k]);
    for (int k = 0; k < 3; k++)
        free(r.rawk[k]);
    if (!rc && rep) {
        struct stat st;
        rep->tensors_out = p->n;
        rep->output_bytes = stat(c->output, &st) == 0 ? (uint64_t)st.st_size : data;
    }
    return rc;
}

int ops_check_output(const char *output, const char *const *inputs, size_t n,
                     struct ckpt_error *err)
{
    if (!output || !*output)
        return ckpt_error_set(err, CKPT_E_ARG, "no output file given (-o FILE)");
    struct stat so;
    if (stat(output, &so) != 0)
        return CKPT_OK;
    for (size_t i = 0; i < n; i++) {
        struct stat si;
        if (inputs[i] && stat(inputs[i], &si) == 0 && si.st_dev == so.st_dev &&
            si.st_ino == so.st_ino)
            return ckpt_error_setf(err, CKPT_E_ARG, output,
                                   "is an input of this operation; it is never overwritten");
    }
    return CKPT_OK;
}

const struct ops_plan *ops_ctx_plan(const struct ops_ctx *r)
{
    return r->p;
}

struct ckpt_error *ops_ctx_err(struct ops_ctx *r)
{
    return r->err;
}

const char *ops_ctx_output(const struct ops_ctx *r)
{
    return r->c->output;
}

double *ops_ctx_buf(struct ops_ctx *r, int k)
{
    return r->v[k];
}
