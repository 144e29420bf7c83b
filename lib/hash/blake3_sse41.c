/* BLAKE3 hash_many with SSE4.1: 4 inputs (chunks or parent nodes) compressed at once, one per
 * 32-bit lane. Compiled for every build with a function target attribute and only called when
 * the CPU has SSE4.1 (lib/hash/blake3.c checks). Not for a single input (the portable code is). */
#include <immintrin.h>

#include "blake3_impl.h"

#define B3_W 4
#define B3_TARGET __attribute__((target("sse4.1")))
#define B3_V __m128i
#define B3_ADD _mm_add_epi32
#define B3_XOR _mm_xor_si128
#define B3_SET1 _mm_set1_epi32
#define B3_LOADU(p) _mm_loadu_si128((const __m128i *)(const void *)(p))
#define B3_STOREU(p, v) _mm_storeu_si128((__m128i *)(void *)(p), v)
#define B3_FALLBACK ckpt_b3_hash_many_portable
#define B3_NAME ckpt_b3_hash_many_sse41

static inline B3_TARGET __m128i rot16(__m128i x)
{
    return _mm_shuffle_epi8(x, _mm_setr_epi8(2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13));
}
static inline B3_TARGET __m128i rot8(__m128i x)
{
    return _mm_shuffle_epi8(x, _mm_setr_epi8(1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12));
}
static inline B3_TARGET __m128i rot12(__m128i x)
{
    return _mm_or_si128(_mm_srli_epi32(x, 12), _mm_slli_epi32(x, 20));
}
static inline B3_TARGET __m128i rot7(__m128i x)
{
    return _mm_or_si128(_mm_srli_epi32(x, 7), _mm_slli_epi32(x, 25));
}
#define B3_ROT16 rot16
#define B3_ROT12 rot12
#define B3_ROT8 rot8
#define B3_ROT7 rot7

/* 4x4 transpose of words 4q..4q+3 of the 4 inputs. */
static inline B3_TARGET void b3_load_words(const uint8_t *in, size_t stride, size_t b, int q,
                                           __m128i m[4])
{
    const uint8_t *p = in + 64 * b + 16 * q;
    __m128i r0 = B3_LOADU(p), r1 = B3_LOADU(p + stride), r2 = B3_LOADU(p + 2 * stride),
            r3 = B3_LOADU(p + 3 * stride);
    __m128i ab_lo = _mm_unpacklo_epi32(r0, r1), ab_hi = _mm_unpackhi_epi32(r0, r1);
    __m128i cd_lo = _mm_unpacklo_epi32(r2, r3), cd_hi = _mm_unpackhi_epi32(r2, r3);
    m[0] = _mm_unpacklo_epi64(ab_lo, cd_lo);
    m[1] = _mm_unpackhi_epi64(ab_lo, cd_lo);
    m[2] = _mm_unpacklo_epi64(ab_hi, cd_hi);
    m[3] = _mm_unpackhi_epi64(ab_hi, cd_hi);
}

#include "blake3_simd_template.h"
