/* Internals shared by the BLAKE3 implementations (lib/hash/blake3*.c); not a public header. */
#ifndef CKPTDB_BLAKE3_IMPL_H
#define CKPTDB_BLAKE3_IMPL_H

#include <stddef.h>
#include <stdint.h>

enum {
    B3_CHUNK_START = 1 << 0,
    B3_CHUNK_END = 1 << 1,
    B3_PARENT = 1 << 2,
    B3_ROOT = 1 << 3,
    B3_KEYED_HASH = 1 << 4,
    B3_DERIVE_KEY_CONTEXT = 1 << 5,
    B3_DERIVE_KEY_MATERIAL = 1 << 6,
};

extern const uint32_t ckpt_b3_iv[8];
/* Message word order of each of the 7 rounds (the permutation applied r times). */
extern const uint8_t ckpt_b3_schedule[7][16];

static inline uint32_t ckpt_b3_load32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void ckpt_b3_store32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* The compression function: the full 16-word state after the 7 rounds, before the feed-forward. */
void ckpt_b3_compress_state(uint32_t state[16], const uint32_t cv[8], const uint8_t block[64],
                            uint8_t block_len, uint64_t counter, uint8_t flags);

/* Hash n inputs that lie `stride` bytes apart, each `blocks` whole 64-byte blocks, starting
 * from chaining value key; input i uses counter + (increment ? i : 0); its first block gets
 * flags|flags_start, its last flags|flags_end. Writes n 32-byte chaining values to out.
 * Used with blocks = 16 for chunks and blocks = 1 for parent nodes. */
typedef void (*ckpt_b3_hash_many_fn)(const uint8_t *input, size_t stride, size_t n, size_t blocks,
                                     const uint32_t key[8], uint64_t counter, int increment,
                                     uint8_t flags, uint8_t flags_start, uint8_t flags_end,
                                     uint8_t *out);

void ckpt_b3_hash_many_portable(const uint8_t *input, size_t stride, size_t n, size_t blocks,
                                const uint32_t key[8], uint64_t counter, int increment,
                                uint8_t flags, uint8_t flags_start, uint8_t flags_end,
                                uint8_t *out);
void ckpt_b3_hash_many_sse41(const uint8_t *input, size_t stride, size_t n, size_t blocks,
                             const uint32_t key[8], uint64_t counter, int increment, uint8_t flags,
                             uint8_t flags_start, uint8_t flags_end, uint8_t *out);
void ckpt_b3_hash_many_avx2(const uint8_t *input, size_t stride, size_t n, size_t blocks,
                            const uint32_t key[8], uint64_t counter, int increment, uint8_t flags,
                            uint8_t flags_start, uint8_t flags_end, uint8_t *out);
void ckpt_b3_hash_many_avx512(const uint8_t *input, size_t stride, size_t n, size_t blocks,
                              const uint32_t key[8], uint64_t counter, int increment, uint8_t flags,
                              uint8_t flags_start, uint8_t flags_end, uint8_t *out);

/* Per-lane counters for a SIMD batch of w inputs. */
static inline void ckpt_b3_lane_counters(uint32_t *lo, uint32_t *hi, size_t w, uint64_t counter,
                                         int increment)
{
    for (size_t i = 0; i < w; i++) {
        uint64_t c = counter + (increment ? i : 0);
        lo[i] = (uint32_t)c;
        hi[i] = (uint32_t)(c >> 32);
    }
}

/* Returns the state's chosen hash_many (after the CPU check / CKPTDB_BLAKE3_IMPL). */
ckpt_b3_hash_many_fn ckpt_b3_dispatch(void);

#endif
