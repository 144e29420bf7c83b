/* BLAKE3 hash_many with AVX-512F/VL: 16 inputs (chunks or parent nodes) compressed at once, one
 * per 32-bit lane, with the native lane rotate (vprord). Compiled for every build with a function
 * target attribute and only called when the CPU has AVX-512F and VL (lib/hash/blake3.c checks).
 * Not for fewer than 16 inputs (AVX2 takes those). */
#include <immintrin.h>

#include "blake3_impl.h"

#define B3_W 16
#define B3_TARGET __attribute__((target("avx512f,avx512vl,avx2")))
#define B3_V __m512i
#define B3_ADD _mm512_add_epi32
#define B3_XOR _mm512_xor_si512
#define B3_SET1 _mm512_set1_epi32
#define B3_LOADU(p) _mm512_loadu_si512((const void *)(p))
#define B3_STOREU(p, v) _mm512_storeu_si512((void *)(p), v)
#define B3_FALLBACK ckpt_b3_hash_many_avx2
#define B3_NAME ckpt_b3_hash_many_avx512
#define B3_ROT16(x) _mm512_ror_epi32(x, 16)
#define B3_ROT12(x) _mm512_ror_epi32(x, 12)
#define B3_ROT8(x) _mm512_ror_epi32(x, 8)
#define B3_ROT7(x) _mm512_ror_epi32(x, 7)

/* Words 4q..4q+3 of the 16 inputs: row j holds inputs j, j+4, j+8, j+12 in its four 128-bit
 * parts; a 4x4 transpose inside each part leaves input i in lane i. */
static inline B3_TARGET void b3_load_words(const uint8_t *in, size_t stride, size_t b, int q,
                                           __m512i m[4])
{
    const uint8_t *p = in + 64 * b + 16 * q;
    __m512i r[4];
    for (int j = 0; j < 4; j++) {
        __m512i x = _mm512_castsi128_si512(
            _mm_loadu_si128((const __m128i *)(const void *)(p + j * stride)));
        x = _mm512_inserti32x4(
            x, _mm_loadu_si128((const __m128i *)(const void *)(p + (j + 4) * stride)), 1);
        x = _mm512_inserti32x4(
            x, _mm_loadu_si128((const __m128i *)(const void *)(p + (j + 8) * stride)), 2);
        r[j] = _mm512_inserti32x4(
            x, _mm_loadu_si128((const __m128i *)(const void *)(p + (j + 12) * stride)), 3);
    }
    __m512i ab_lo = _mm512_unpacklo_epi32(r[0], r[1]), ab_hi = _mm512_unpackhi_epi32(r[0], r[1]);
    __m512i cd_lo = _mm512_unpacklo_epi32(r[2], r[3]), cd_hi = _mm512_unpackhi_epi32(r[2], r[3]);
    m[0] = _mm512_unpacklo_epi64(ab_lo, cd_lo);
    m[1] = _mm512_unpackhi_epi64(ab_lo, cd_lo);
    m[2] = _mm512_unpacklo_epi64(ab_hi, cd_hi);
    m[3] = _mm512_unpackhi_epi64(ab_hi, cd_hi);
}

#include "blake3_simd_template.h"
