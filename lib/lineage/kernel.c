/* The fingerprint's inner loop: float64 moments and the count sketch of a run of a tensor's
 * elements, 64-element chunk by chunk, in one pass over the bytes (fingerprint.c routes the
 * file's bytes here).
 *
 * Per chunk the sums and sums of squares are kept in eight float lanes (element k in lane k mod
 * 8) and reduced in a fixed order into doubles, so the portable loop and the AVX2/F16C loop
 * (chosen at run time) give the same bits. A name-seeded 1 chunk in 8 (every chunk of a small
 * tensor) is sketched: element k of the chunk goes to bucket seg + k of the block's 256, with
 * the sign of bit k of a hashed word; seg is one of four hashed segments, so two elements share
 * a bucket with probability 1/256 as in a count sketch, and the sketch stays linear in the
 * weights. Non-finite values count as 0. Not for routing bytes nor for blocks (fingerprint.c). */
#include <math.h>
#include <string.h>

#include "ckptdb/dtype.h"
#include "ckptdb/fp.h"
#include "lineage_impl.h"

#define CHUNK 64

static float f16_table[65536];
static int table_ready;

void lin_kernel_init(void)
{
    if (__atomic_load_n(&table_ready, __ATOMIC_ACQUIRE))
        return;
    for (uint32_t i = 0; i < 65536; i++)
        f16_table[i] = ckpt_f16_to_f32((uint16_t)i);
    __atomic_store_n(&table_ready, 1, __ATOMIC_RELEASE);
}

static inline float elem(int dtype, const uint8_t *p, unsigned k)
{
    float x;
    switch (dtype) {
    case CKPT_DT_F16:
        x = f16_table[(uint16_t)(p[2 * k] | p[2 * k + 1] << 8)];
        break;
    case CKPT_DT_BF16: {
        uint32_t b = (uint32_t)(p[2 * k] | p[2 * k + 1] << 8) << 16;
        memcpy(&x, &b, 4);
        break;
    }
    case CKPT_DT_F32:
        memcpy(&x, p + 4 * k, 4);
        break;
    default: {
        double d;
        memcpy(&d, p + 8 * k, 8);
        x = (float)d;
        break;
    }
    }
    return fabsf(x) < INFINITY ? x : 0.0f;
}

/* Whether chunk c is sketched, and where: segment and signs. */
static inline int chunk_plan(const struct lin_run *r, uint64_t c, double **acc, uint64_t *signs)
{
    if (!r->sample_all && (lin_mix64(r->seed ^ (c * 0x9e3779b97f4a7c15ull)) & 7u) != 0)
        return 0;
    uint64_t h = lin_mix64(r->seed + c * 0xd1342543de82ef95ull);
    *acc = r->acc + (h >> 62) * CHUNK;
    *signs = lin_mix64(h ^ 0x94d049bb133111ebull);
    return 1;
}

static inline void chunk_done(struct lin_run *r, const float *ls, const float *lq, int sampled,
                              unsigned m)
{
    double s = 0, q = 0;
    for (int l = 0; l < 8; l++)
        s += ls[l], q += lq[l];
    r->sum += s;
    r->sumsq += q;
    if (sampled) {
        r->ssq += q;
        r->floor2 += r->kappa * q;
        r->nsampled += m;
    }
}

/* The tail of a chunk (elements k..m) into the lanes, as the vector loop would. */
static inline void tail(int dtype, const uint8_t *p, unsigned k, unsigned m, float *ls, float *lq,
                        float *amax, double *acc, uint64_t signs)
{
    for (; k < m; k++) {
        float x = elem(dtype, p, k);
        ls[k & 7] += x;
        lq[k & 7] += x * x;
        float ax = fabsf(x);
        *amax = ax > *amax ? ax : *amax;
        if (acc)
            acc[k] += (signs >> k & 1) ? -(double)x : (double)x;
    }
}

static void kernel_portable(int dtype, const uint8_t *p, uint64_t n, struct lin_run *r)
{
    unsigned es = ckpt_dtype_bits(dtype) / 8;
    for (uint64_t c = r->chunk0; n; c++) {
        unsigned m = n < CHUNK ? (unsigned)n : CHUNK;
        float ls[8] = {0}, lq[8] = {0};
        double *acc = NULL;
        uint64_t signs = 0;
        int sampled = chunk_plan(r, c, &acc, &signs);
        tail(dtype, p, 0, m, ls, lq, &r->amax, sampled ? acc : NULL, signs);
        chunk_done(r, ls, lq, sampled, m);
        p += (size_t)m * es;
        n -= m;
    }
}

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

__attribute__((target("avx2,f16c"))) static void kernel_avx2(int dtype, const uint8_t *p,
                                                             uint64_t n, struct lin_run *r)
{
    unsigned es = ckpt_dtype_bits(dtype) / 8;
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    const __m256 inf = _mm256_set1_ps(INFINITY);
    const __m256 neg0 = _mm256_set1_ps(-0.0f);
    const __m256i lanebit = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    __m256 va = _mm256_setzero_ps();
    float amax = r->amax;
    for (uint64_t c = r->chunk0; n; c++) {
        unsigned m = n < CHUNK ? (unsigned)n : CHUNK, k = 0;
        double *acc = NULL;
        uint64_t signs = 0;
        int sampled = chunk_plan(r, c, &acc, &signs);
        __m256 vs = _mm256_setzero_ps(), vq = _mm256_setzero_ps();
        for (; k + 8 <= m; k += 8) {
            __m256 x;
            if (dtype == CKPT_DT_F16)
                x = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p + 2 * k)));
            else if (dtype == CKPT_DT_BF16)
                x = _mm256_castsi256_ps(_mm256_slli_epi32(
                    _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(p + 2 * k))), 16));
            else
                x = _mm256_loadu_ps((const float *)(const void *)(p + 4 * k));
            __m256 ax = _mm256_and_ps(x, absmask);
            __m256 fin = _mm256_cmp_ps(ax, inf, _CMP_LT_OQ);
            x = _mm256_and_ps(x, fin);
            ax = _mm256_and_ps(ax, fin);
            vs = _mm256_add_ps(vs, x);
            vq = _mm256_add_ps(vq, _mm256_mul_ps(x, x));
            va = _mm256_max_ps(va, ax);
            if (sampled) {
                __m256i bits = _mm256_set1_epi32((int)((signs >> k) & 0xff));
                __m256i on = _mm256_cmpeq_epi32(_mm256_and_si256(bits, lanebit), lanebit);
                __m256 sx = _mm256_xor_ps(x, _mm256_and_ps(_mm256_castsi256_ps(on), neg0));
                __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(sx));
                __m256d hi = _mm256_cvtps_pd(_mm256_extractf128_ps(sx, 1));
                _mm256_storeu_pd(acc + k, _mm256_add_pd(_mm256_loadu_pd(acc + k), lo));
                _mm256_storeu_pd(acc + k + 4, _mm256_add_pd(_mm256_loadu_pd(acc + k + 4), hi));
            }
        }
        float ls[8], lq[8];
        _mm256_storeu_ps(ls, vs);
        _mm256_storeu_ps(lq, vq);
        tail(dtype, p, k, m, ls, lq, &amax, sampled ? acc : NULL, signs);
        chunk_done(r, ls, lq, sampled, m);
        p += (size_t)m * es;
        n -= m;
    }
    float la[8];
    _mm256_storeu_ps(la, va);
    for (int l = 0; l < 8; l++)
        amax = la[l] > amax ? la[l] : amax;
    r->amax = amax;
}

static int have_avx2_f16c(void)
{
    static int v = -1;
    int cur = __atomic_load_n(&v, __ATOMIC_RELAXED);
    if (cur < 0) {
        /* F16C through CPUID (leaf 1, ECX bit 29): clang 14's __builtin_cpu_supports does not
           know "f16c" */
        unsigned a, b, c, d;
        int f16c = __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 29));
        cur = __builtin_cpu_supports("avx2") && f16c;
        __atomic_store_n(&v, cur, __ATOMIC_RELAXED);
    }
    return cur;
}
#endif

void lin_kernel(int dtype, const uint8_t *p, uint64_t n, struct lin_run *r)
{
#if defined(__x86_64__)
    if (dtype != CKPT_DT_F64 && have_avx2_f16c() && !lin_kernel_portable_only) {
        kernel_avx2(dtype, p, n, r);
        return;
    }
#endif
    kernel_portable(dtype, p, n, r);
}

int lin_kernel_portable_only;
