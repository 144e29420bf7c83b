/* BLAKE3 hash_many with AVX2: 8 inputs (chunks or parent nodes) compressed at once, one per
 * 32-bit lane. Compiled for every build with a function target attribute and only called when
 * the CPU has AVX2 (lib/hash/blake3.c checks). Not for fewer than 8 inputs (SSE4.1 takes those). */
#include <immintrin.h>

#include "blake3_impl.h"

#define B3_W 8
#define B3_TARGET __attribute__((target("avx2")))
#define B3_V __m256i
#define B3_ADD _mm256_add_epi32
#define B3_XOR _mm256_xor_si256
#define B3_SET1 _mm256_set1_epi32
#define B3_LOADU(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
#define B3_STOREU(p, v) _mm256_storeu_si256((__m256i *)(void *)(p), v)
#define B3_FALLBACK ckpt_b3_hash_many_sse41
#define B3_NAME ckpt_b3_hash_many_avx2

static inline B3_TARGET __m256i rot16(__m256i x)
{
    return _mm256_shuffle_epi8(x, _mm256_setr_epi8(2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12,
                                                   13, 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15,
                                                   12, 13));
}
static inline B3_TARGET __m256i rot8(__m256i x)
{
    return _mm256_shuffle_epi8(x, _mm256_setr_epi8(1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15,
                                                   12, 1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14,
                                                   15, 12));
}
static inline B3_TARGET __m256i rot12(__m256i x)
{
    return _mm256_or_si256(_mm256_srli_epi32(x, 12), _mm256_slli_epi32(x, 20));
}
static inline B3_TARGET __m256i rot7(__m256i x)
{
    return _mm256_or_si256(_mm256_srli_epi32(x, 7), _mm256_slli_epi32(x, 25));
}
#define B3_ROT16 rot16
#define B3_ROT12 rot12
#define B3_ROT8 rot8
#define B3_ROT7 rot7

/* Words 4q..4q+3 of the 8 inputs: row j holds input j in its low 128 bits and input j+4 in its
 * high 128 bits; a 4x4 transpose inside each 128-bit half leaves input i in lane i. */
static inline B3_TARGET void b3_load_words(const uint8_t *in, size_t stride, size_t b, int q,
                                           __m256i m[4])
{
    const uint8_t *p = in + 64 * b + 16 * q;
    __m256i r[4];
    for (int j = 0; j < 4; j++)
        r[j] = _mm256_inserti128_si256(
            _mm256_castsi128_si256(
                _mm_loadu_si128((const __m128i *)(const void *)(p + j * stride))),
            _mm_loadu_si128((const __m128i *)(const void *)(p + (j + 4) * stride)), 1);
    __m256i ab_lo = _mm256_unpacklo_epi32(r[0], r[1]), ab_hi = _mm256_unpackhi_epi32(r[0], r[1]);
    __m256i cd_lo = _mm256_unpacklo_epi32(r[2], r[3]), cd_hi = _mm256_unpackhi_epi32(r[2], r[3]);
    m[0] = _mm256_unpacklo_epi64(ab_lo, cd_lo);
    m[1] = _mm256_unpackhi_epi64(ab_lo, cd_lo);
    m[2] = _mm256_unpacklo_epi64(ab_hi, cd_hi);
    m[3] = _mm256_unpackhi_epi64(ab_hi, cd_hi);
}

#include "blake3_simd_template.h"
