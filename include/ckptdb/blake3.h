/* BLAKE3: the hash, keyed-hash and key-derivation modes with extendable output, implemented in
 * the project from the BLAKE3 specification (portable C plus SSE4.1/AVX2/AVX-512 paths chosen at
 * run time).
 *
 * Streaming: init (one of the three modes), update any number of times with any lengths, then
 * finalize (finalize does not change the state, so it can be called again, e.g. with a longer
 * output). One state is used by one thread at a time; the state is a plain struct (about 1.9 KB)
 * that owns nothing and needs no freeing. */
#ifndef CKPTDB_BLAKE3_H
#define CKPTDB_BLAKE3_H

#include <stddef.h>
#include <stdint.h>

#define CKPT_BLAKE3_OUT_LEN 32
#define CKPT_BLAKE3_KEY_LEN 32
#define CKPT_BLAKE3_BLOCK_LEN 64
#define CKPT_BLAKE3_CHUNK_LEN 1024
#define CKPT_BLAKE3_MAX_DEPTH 54 /* 2^54 chunks of 1 KiB = 2^64 bytes */

struct ckpt_blake3 {
    uint32_t key[8];
    uint32_t cv[8];         /* chaining value of the chunk being filled */
    uint64_t chunk_counter; /* index of the chunk being filled */
    uint8_t buf[64];        /* the chunk's last, not yet compressed, block */
    uint8_t buf_len;        /* bytes in buf */
    uint8_t blocks_done;    /* blocks of the current chunk already compressed */
    uint8_t flags;          /* mode flags (keyed, derive-key) */
    uint8_t stack_len;      /* entries in stack */
    uint8_t stack[CKPT_BLAKE3_MAX_DEPTH + 1][32]; /* chaining values of complete subtrees */
};

void ckpt_blake3_init(struct ckpt_blake3 *h);
void ckpt_blake3_init_keyed(struct ckpt_blake3 *h, const uint8_t key[CKPT_BLAKE3_KEY_LEN]);
/* The derive_key mode: context is the application's context string (len bytes). */
void ckpt_blake3_init_derive_key(struct ckpt_blake3 *h, const void *context, size_t len);
void ckpt_blake3_update(struct ckpt_blake3 *h, const void *data, size_t len);
/* Write out_len bytes of output (32 for the ordinary digest; any length for extended output). */
void ckpt_blake3_finalize(const struct ckpt_blake3 *h, uint8_t *out, size_t out_len);
/* The same output stream starting at byte `seek`. */
void ckpt_blake3_finalize_seek(const struct ckpt_blake3 *h, uint64_t seek, uint8_t *out,
                               size_t out_len);

/* One-shot BLAKE3 of a buffer, 32 bytes out. */
void ckpt_blake3_hash(const void *data, size_t len, uint8_t out[CKPT_BLAKE3_OUT_LEN]);

/* Name of the implementation in use: "avx512", "avx2", "sse41" or "portable". */
const char *ckpt_blake3_impl(void);
/* Use the named implementation (for tests and benchmarks); CKPT_E_UNSUPPORTED when the CPU lacks
 * it, CKPT_E_ARG for an unknown name. Not thread-safe against concurrent hashing. The environment
 * variable CKPTDB_BLAKE3_IMPL does the same at first use. */
int ckpt_blake3_set_impl(const char *name);

#endif
