/* BLAKE3 (hash, keyed_hash, derive_key; extendable output), written from the specification
 * (the BLAKE3 paper, sections 2.1-2.6): the portable compression function, the chunk state, the
 * tree of chaining values kept as a stack, the root output node, and the choice of SIMD path.
 *
 * Whole subtrees of input (up to 128 chunks, aligned to their size in the tree) are hashed in
 * one go: their chunks with the widest hash_many the CPU has (16/8/4 chunks at once), then their
 * parent nodes level by level with the same function, so the tree levels are SIMD too.
 * Not for threading: one state is one sequential stream (lib/hash/hasher.c runs BLAKE3 in its own
 * thread beside the other hashes). */
#include "ckptdb/blake3.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ckptdb/error.h"
#include "blake3_impl.h"

const uint32_t ckpt_b3_iv[8] = {0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A,
                                0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19};

/* Round r uses message word schedule[r][k] in position k: the permutation
 * (2,6,3,10,7,0,4,13,1,11,12,5,9,14,15,8) applied r times. */
const uint8_t ckpt_b3_schedule[7][16] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8},
    {3, 4, 10, 12, 13, 2, 7, 14, 6, 5, 9, 0, 11, 15, 8, 1},
    {10, 7, 12, 9, 14, 3, 13, 15, 4, 0, 11, 2, 5, 8, 1, 6},
    {12, 13, 9, 11, 15, 10, 14, 8, 7, 2, 5, 3, 0, 1, 6, 4},
    {9, 14, 11, 5, 8, 12, 15, 1, 13, 3, 0, 10, 2, 6, 4, 7},
    {11, 15, 5, 0, 1, 9, 8, 6, 14, 10, 2, 12, 3, 4, 7, 13},
};

#define MAX_SUBTREE_CHUNKS 128

/* ---- portable compression ------------------------------------------------------------------- */

static inline uint32_t rotr32(uint32_t x, unsigned n)
{
    return (x >> n) | (x << (32 - n));
}

#define G(a, b, c, d, x, y)                                                                        \
    do {                                                                                           \
        s[a] = s[a] + s[b] + (x);                                                                  \
        s[d] = rotr32(s[d] ^ s[a], 16);                                                            \
        s[c] = s[c] + s[d];                                                                        \
        s[b] = rotr32(s[b] ^ s[c], 12);                                                            \
        s[a] = s[a] + s[b] + (y);                                                                  \
        s[d] = rotr32(s[d] ^ s[a], 8);                                                             \
        s[c] = s[c] + s[d];                                                                        \
        s[b] = rotr32(s[b] ^ s[c], 7);                                                             \
    } while (0)

void ckpt_b3_compress_state(uint32_t s[16], const uint32_t cv[8], const uint8_t block[64],
                            uint8_t block_len, uint64_t counter, uint8_t flags)
{
    uint32_t m[16];
    for (int i = 0; i < 16; i++)
        m[i] = ckpt_b3_load32(block + 4 * i);
    for (int i = 0; i < 8; i++)
        s[i] = cv[i];
    for (int i = 0; i < 4; i++)
        s[8 + i] = ckpt_b3_iv[i];
    s[12] = (uint32_t)counter;
    s[13] = (uint32_t)(counter >> 32);
    s[14] = block_len;
    s[15] = flags;
    for (int r = 0; r < 7; r++) {
        const uint8_t *k = ckpt_b3_schedule[r];
        G(0, 4, 8, 12, m[k[0]], m[k[1]]);
        G(1, 5, 9, 13, m[k[2]], m[k[3]]);
        G(2, 6, 10, 14, m[k[4]], m[k[5]]);
        G(3, 7, 11, 15, m[k[6]], m[k[7]]);
        G(0, 5, 10, 15, m[k[8]], m[k[9]]);
        G(1, 6, 11, 12, m[k[10]], m[k[11]]);
        G(2, 7, 8, 13, m[k[12]], m[k[13]]);
        G(3, 4, 9, 14, m[k[14]], m[k[15]]);
    }
}

/* cv <- the first 8 words of the compression output (a non-root node's chaining value). */
static void compress_cv(uint32_t cv[8], const uint8_t block[64], uint8_t block_len,
                        uint64_t counter, uint8_t flags)
{
    uint32_t s[16];
    ckpt_b3_compress_state(s, cv, block, block_len, counter, flags);
    for (int i = 0; i < 8; i++)
        cv[i] = s[i] ^ s[i + 8];
}

void ckpt_b3_hash_many_portable(const uint8_t *input, size_t stride, size_t n, size_t blocks,
                                const uint32_t key[8], uint64_t counter, int increment,
                                uint8_t flags, uint8_t flags_start, uint8_t flags_end, uint8_t *out)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t cv[8];
        memcpy(cv, key, sizeof cv);
        const uint8_t *in = input + i * stride;
        for (size_t b = 0; b < blocks; b++) {
            uint8_t f = flags;
            if (b == 0)
                f |= flags_start;
            if (b + 1 == blocks)
                f |= flags_end;
            compress_cv(cv, in + 64 * b, 64, counter + (increment ? i : 0), f);
        }
        for (int w = 0; w < 8; w++)
            ckpt_b3_store32(out + 32 * i + 4 * w, cv[w]);
    }
}

/* ---- choice of implementation ---------------------------------------------------------------- */

struct b3_impl {
    const char *name;
    ckpt_b3_hash_many_fn fn;
    int (*supported)(void);
};

static int cpu_avx512(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx2") && __builtin_cpu_supports("sse4.1");
}
static int cpu_avx2(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("sse4.1");
}
static int cpu_sse41(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("sse4.1");
}
static int cpu_any(void)
{
    return 1;
}

static const struct b3_impl impls[] = {
    {"avx512", ckpt_b3_hash_many_avx512, cpu_avx512},
    {"avx2", ckpt_b3_hash_many_avx2, cpu_avx2},
    {"sse41", ckpt_b3_hash_many_sse41, cpu_sse41},
    {"portable", ckpt_b3_hash_many_portable, cpu_any},
};

static const struct b3_impl *current;
static pthread_once_t choose_once = PTHREAD_ONCE_INIT;

static void choose(void)
{
    const char *want = getenv("CKPTDB_BLAKE3_IMPL");
    for (size_t i = 0; i < sizeof impls / sizeof impls[0]; i++) {
        if (want && *want && strcmp(want, impls[i].name) != 0)
            continue;
        if (impls[i].supported()) {
            current = &impls[i];
            return;
        }
    }
    /* an unknown or unsupported name: the best the CPU has */
    for (size_t i = 0; i < sizeof impls / sizeof impls[0]; i++)
        if (impls[i].supported()) {
            current = &impls[i];
            return;
        }
}

ckpt_b3_hash_many_fn ckpt_b3_dispatch(void)
{
    pthread_once(&choose_once, choose);
    return current->fn;
}

const char *ckpt_blake3_impl(void)
{
    pthread_once(&choose_once, choose);
    return current->name;
}

int ckpt_blake3_set_impl(const char *name)
{
    pthread_once(&choose_once, choose);
    for (size_t i = 0; i < sizeof impls / sizeof impls[0]; i++)
        if (strcmp(name, impls[i].name) == 0) {
            if (!impls[i].supported())
                return CKPT_E_UNSUPPORTED;
            current = &impls[i];
            return CKPT_OK;
        }
    return CKPT_E_ARG;
}

/* ---- the streaming state ----------------------------------------------------------------------
 */

static void init_with(struct ckpt_blake3 *h, const uint32_t key[8], uint8_t flags)
{
    memcpy(h->key, key, sizeof h->key);
    memcpy(h->cv, key, sizeof h->cv);
    h->chunk_counter = 0;
    h->buf_len = 0;
    h->blocks_done = 0;
    h->flags = flags;
    h->stack_len = 0;
}

void ckpt_blake3_init(struct ckpt_blake3 *h)
{
    init_with(h, ckpt_b3_iv, 0);
}

void ckpt_blake3_init_keyed(struct ckpt_blake3 *h, const uint8_t key[CKPT_BLAKE3_KEY_LEN])
{
    uint32_t k[8];
    for (int i = 0; i < 8; i++)
        k[i] = ckpt_b3_load32(key + 4 * i);
    init_with(h, k, B3_KEYED_HASH);
}

void ckpt_blake3_init_derive_key(struct ckpt_blake3 *h, const void *context, size_t len)
{
    struct ckpt_blake3 ctx;
    init_with(&ctx, ckpt_b3_iv, B3_DERIVE_KEY_CONTEXT);
    ckpt_blake3_update(&ctx, context, len);
    uint8_t ck[32];
    ckpt_blake3_finalize(&ctx, ck, sizeof ck);
    uint32_t k[8];
    for (int i = 0; i < 8; i++)
        k[i] = ckpt_b3_load32(ck + 4 * i);
    init_with(h, k, B3_DERIVE_KEY_MATERIAL);
}

static size_t chunk_len(const struct ckpt_blake3 *h)
{
    return (size_t)h->blocks_done * 64 + h->buf_len;
}

static uint8_t chunk_start_flag(const struct ckpt_blake3 *h)
{
    return h->blocks_done == 0 ? B3_CHUNK_START : 0;
}

/* Add bytes to the current chunk (the caller keeps the chunk at or under 1024 bytes). The last
 * block stays in buf until more bytes arrive, because it may need the CHUNK_END/ROOT flags. */
static void chunk_update(struct ckpt_blake3 *h, const uint8_t *p, size_t len)
{
    if (h->buf_len) {
        size_t take = 64 - h->buf_len;
        if (take > len)
            take = len;
        memcpy(h->buf + h->buf_len, p, take);
        h->buf_len = (uint8_t)(h->buf_len + take);
        p += take;
        len -= take;
        if (!len)
            return;
        compress_cv(h->cv, h->buf, 64, h->chunk_counter, h->flags | chunk_start_flag(h));
        h->blocks_done++;
        h->buf_len = 0;
    }
    while (len > 64) {
        compress_cv(h->cv, p, 64, h->chunk_counter, h->flags | chunk_start_flag(h));
        h->blocks_done++;
        p += 64;
        len -= 64;
    }
    memcpy(h->buf, p, len);
    h->buf_len = (uint8_t)len;
}

static void parent_cv(const struct ckpt_blake3 *h, const uint8_t left[32], const uint8_t right[32],
                      uint8_t out[32])
{
    uint8_t block[64];
    memcpy(block, left, 32);
    memcpy(block + 32, right, 32);
    uint32_t cv[8];
    memcpy(cv, h->key, sizeof cv);
    compress_cv(cv, block, 64, 0, h->flags | B3_PARENT);
    for (int i = 0; i < 8; i++)
        ckpt_b3_store32(out + 4 * i, cv[i]);
}

/* Push the chaining value of the subtree of `chunks` chunks that starts at chunk_counter, then
 * merge equal-sized subtrees: afterwards the stack holds one entry per set bit of the count of
 * chunks done (the binary-counter view of the tree, paper section 5.1.2). Only called when more
 * input is known to follow, so none of these nodes can be the root. */
static void push_subtree(struct ckpt_blake3 *h, const uint8_t cv[32], uint64_t chunks)
{
    memcpy(h->stack[h->stack_len++], cv, 32);
    h->chunk_counter += chunks;
    while (h->stack_len > (unsigned)__builtin_popcountll(h->chunk_counter)) {
        uint8_t *left = h->stack[h->stack_len - 2], *right = h->stack[h->stack_len - 1];
        parent_cv(h, left, right, left);
        h->stack_len--;
    }
}

/* The chaining value of n (a power of two, <= MAX_SUBTREE_CHUNKS) whole chunks at p, the first
 * being chunk number chunk_counter. */
static void subtree_cv(struct ckpt_blake3 *h, const uint8_t *p, size_t n, uint8_t out[32])
{
    ckpt_b3_hash_many_fn many = ckpt_b3_dispatch();
    uint8_t a[MAX_SUBTREE_CHUNKS * 32] __attribute__((aligned(64)));
    uint8_t b[MAX_SUBTREE_CHUNKS / 2 * 32] __attribute__((aligned(64)));
    if (n == 1) {
        many(p, 1024, 1, 16, h->key, h->chunk_counter, 1, h->flags, B3_CHUNK_START, B3_CHUNK_END,
             out);
        return;
    }
    many(p, 1024, n, 16, h->key, h->chunk_counter, 1, h->flags, B3_CHUNK_START, B3_CHUNK_END, a);
    uint8_t *src = a, *dst = b;
    while (n > 2) {
        many(src, 64, n / 2, 1, h->key, 0, 0, h->flags | B3_PARENT, 0, 0, dst);
        uint8_t *t = src;
        src = dst;
        dst = t;
        n /= 2;
    }
    many(src, 64, 1, 1, h->key, 0, 0, h->flags | B3_PARENT, 0, 0, out);
}

void ckpt_blake3_update(struct ckpt_blake3 *h, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len) {
        size_t have = chunk_len(h);
        if (have == CKPT_BLAKE3_CHUNK_LEN) {
            /* the chunk is full and more input follows: it is not the last chunk */
            uint32_t s[16];
            ckpt_b3_compress_state(s, h->cv, h->buf, 64, h->chunk_counter,
                                   h->flags | chunk_start_flag(h) | B3_CHUNK_END);
            uint8_t cv[32];
            for (int i = 0; i < 8; i++)
                ckpt_b3_store32(cv + 4 * i, s[i] ^ s[i + 8]);
            memcpy(h->cv, h->key, sizeof h->cv);
            h->blocks_done = 0;
            h->buf_len = 0;
            push_subtree(h, cv, 1);
            continue;
        }
        if (have || len <= CKPT_BLAKE3_CHUNK_LEN) {
            size_t take = CKPT_BLAKE3_CHUNK_LEN - have;
            if (take > len)
                take = len;
            chunk_update(h, p, take);
            p += take;
            len -= take;
            continue;
        }
        /* at a chunk boundary with more than one chunk left: the largest whole subtree that
         * keeps at least one byte back and is aligned to its size in the tree */
        size_t n = MAX_SUBTREE_CHUNKS;
        while ((uint64_t)n * CKPT_BLAKE3_CHUNK_LEN >= len)
            n /= 2;
        while (h->chunk_counter & (n - 1))
            n /= 2;
        uint8_t cv[32];
        subtree_cv(h, p, n, cv);
        push_subtree(h, cv, n);
        p += n * CKPT_BLAKE3_CHUNK_LEN;
        len -= n * CKPT_BLAKE3_CHUNK_LEN;
    }
}

/* The node whose compression (with ROOT) gives the output. */
struct b3_output {
    uint32_t cv[8];
    uint8_t block[64];
    uint8_t block_len;
    uint64_t counter;
    uint8_t flags;
};

static void root_node(const struct ckpt_blake3 *h, struct b3_output *o)
{
    memcpy(o->cv, h->cv, sizeof o->cv);
    memset(o->block, 0, sizeof o->block);
    memcpy(o->block, h->buf, h->buf_len);
    o->block_len = h->buf_len;
    o->counter = h->chunk_counter;
    o->flags = h->flags | chunk_start_flag(h) | B3_CHUNK_END;
    for (size_t i = h->stack_len; i-- > 0;) {
        /* the node so far becomes the right child of a parent with stack[i] on the left */
        uint32_t s[16];
        ckpt_b3_compress_state(s, o->cv, o->block, o->block_len, o->counter, o->flags);
        memcpy(o->block, h->stack[i], 32);
        for (int w = 0; w < 8; w++)
            ckpt_b3_store32(o->block + 32 + 4 * w, s[w] ^ s[w + 8]);
        memcpy(o->cv, h->key, sizeof o->cv);
        o->block_len = 64;
        o->counter = 0;
        o->flags = h->flags | B3_PARENT;
    }
}

void ckpt_blake3_finalize_seek(const struct ckpt_blake3 *h, uint64_t seek, uint8_t *out,
                               size_t out_len)
{
    struct b3_output o;
    root_node(h, &o);
    uint64_t block = seek / 64;
    size_t skip = (size_t)(seek % 64);
    while (out_len) {
        uint32_t s[16];
        ckpt_b3_compress_state(s, o.cv, o.block, o.block_len, block, o.flags | B3_ROOT);
        uint8_t bytes[64];
        for (int i = 0; i < 8; i++) {
            ckpt_b3_store32(bytes + 4 * i, s[i] ^ s[i + 8]);
            ckpt_b3_store32(bytes + 32 + 4 * i, s[i + 8] ^ o.cv[i]);
        }
        size_t take = 64 - skip;
        if (take > out_len)
            take = out_len;
        memcpy(out, bytes + skip, take);
        out += take;
        out_len -= take;
        skip = 0;
        block++;
    }
}

void ckpt_blake3_finalize(const struct ckpt_blake3 *h, uint8_t *out, size_t out_len)
{
    ckpt_blake3_finalize_seek(h, 0, out, out_len);
}

void ckpt_blake3_hash(const void *data, size_t len, uint8_t out[CKPT_BLAKE3_OUT_LEN])
{
    struct ckpt_blake3 h;
    ckpt_blake3_init(&h);
    ckpt_blake3_update(&h, data, len);
    ckpt_blake3_finalize(&h, out, CKPT_BLAKE3_OUT_LEN);
}
