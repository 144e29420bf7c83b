/* The body of a SIMD hash_many, included by blake3_sse41.c, blake3_avx2.c and blake3_avx512.c
 * after they define, for their vector width:
 *   B3_W              lanes (inputs hashed at once): 4, 8 or 16
 *   B3_TARGET         the function target attribute
 *   B3_V              the vector type of B3_W 32-bit lanes
 *   B3_ADD, B3_XOR, B3_SET1, B3_LOADU(p), B3_STOREU(p, v)
 *   B3_ROT16/12/8/7   rotate each lane right by that many bits
 *   b3_load_words     (static B3_TARGET function) the 4 message vectors of words 4q..4q+3 of
 *                     block b of the B3_W inputs: lane i of m[k] = word 4q+k of input i
 *   B3_FALLBACK       the hash_many used for the last n % B3_W inputs
 *   B3_NAME           the name of the exported hash_many
 * Each lane runs the compression function of the specification on its own input; lanes never
 * mix. Not a public header. */

static inline B3_TARGET void b3_g(B3_V *v, int a, int b, int c, int d, B3_V x, B3_V y)
{
    v[a] = B3_ADD(B3_ADD(v[a], v[b]), x);
    v[d] = B3_ROT16(B3_XOR(v[d], v[a]));
    v[c] = B3_ADD(v[c], v[d]);
    v[b] = B3_ROT12(B3_XOR(v[b], v[c]));
    v[a] = B3_ADD(B3_ADD(v[a], v[b]), y);
    v[d] = B3_ROT8(B3_XOR(v[d], v[a]));
    v[c] = B3_ADD(v[c], v[d]);
    v[b] = B3_ROT7(B3_XOR(v[b], v[c]));
}

#define B3_ROUND(r)                                                                                \
    do {                                                                                           \
        const uint8_t *s_ = ckpt_b3_schedule[r];                                                   \
        b3_g(v, 0, 4, 8, 12, m[s_[0]], m[s_[1]]);                                                  \
        b3_g(v, 1, 5, 9, 13, m[s_[2]], m[s_[3]]);                                                  \
        b3_g(v, 2, 6, 10, 14, m[s_[4]], m[s_[5]]);                                                 \
        b3_g(v, 3, 7, 11, 15, m[s_[6]], m[s_[7]]);                                                 \
        b3_g(v, 0, 5, 10, 15, m[s_[8]], m[s_[9]]);                                                 \
        b3_g(v, 1, 6, 11, 12, m[s_[10]], m[s_[11]]);                                               \
        b3_g(v, 2, 7, 8, 13, m[s_[12]], m[s_[13]]);                                                \
        b3_g(v, 3, 4, 9, 14, m[s_[14]], m[s_[15]]);                                                \
    } while (0)

static B3_TARGET void b3_hash_lanes(const uint8_t *input, size_t stride, size_t blocks,
                                    const uint32_t key[8], uint64_t counter, int increment,
                                    uint8_t flags, uint8_t flags_start, uint8_t flags_end,
                                    uint8_t *out)
{
    B3_V h[8];
    for (int i = 0; i < 8; i++)
        h[i] = B3_SET1((int)key[i]);
    uint32_t lo[B3_W] __attribute__((aligned(64))), hi[B3_W] __attribute__((aligned(64)));
    ckpt_b3_lane_counters(lo, hi, B3_W, counter, increment);
    const B3_V clo = B3_LOADU(lo), chi = B3_LOADU(hi);
    for (size_t b = 0; b < blocks; b++) {
        B3_V m[16];
        for (int q = 0; q < 4; q++)
            b3_load_words(input, stride, b, q, m + 4 * q);
        uint8_t f = flags;
        if (b == 0)
            f |= flags_start;
        if (b + 1 == blocks)
            f |= flags_end;
        B3_V v[16] = {
            h[0],
            h[1],
            h[2],
            h[3],
            h[4],
            h[5],
            h[6],
            h[7],
            B3_SET1((int)ckpt_b3_iv[0]),
            B3_SET1((int)ckpt_b3_iv[1]),
            B3_SET1((int)ckpt_b3_iv[2]),
            B3_SET1((int)ckpt_b3_iv[3]),
            clo,
            chi,
            B3_SET1(64),
            B3_SET1((int)f),
        };
        B3_ROUND(0);
        B3_ROUND(1);
        B3_ROUND(2);
        B3_ROUND(3);
        B3_ROUND(4);
        B3_ROUND(5);
        B3_ROUND(6);
        for (int i = 0; i < 8; i++)
            h[i] = B3_XOR(v[i], v[i + 8]);
    }
    uint32_t t[8][B3_W] __attribute__((aligned(64)));
    for (int i = 0; i < 8; i++)
        B3_STOREU(t[i], h[i]);
    for (int j = 0; j < B3_W; j++)
        for (int i = 0; i < 8; i++)
            ckpt_b3_store32(out + 32 * j + 4 * i, t[i][j]);
}

#undef B3_ROUND

void B3_NAME(const uint8_t *input, size_t stride, size_t n, size_t blocks, const uint32_t key[8],
             uint64_t counter, int increment, uint8_t flags, uint8_t flags_start, uint8_t flags_end,
             uint8_t *out)
{
    while (n >= B3_W) {
        b3_hash_lanes(input, stride, blocks, key, counter, increment, flags, flags_start, flags_end,
                      out);
        input += B3_W * stride;
        out += B3_W * 32;
        n -= B3_W;
        if (increment)
            counter += B3_W;
    }
    if (n)
        B3_FALLBACK(input, stride, n, blocks, key, counter, increment, flags, flags_start,
                    flags_end, out);
}
