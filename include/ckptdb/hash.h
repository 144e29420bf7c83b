/* Every community hash of a model file in one read: SHA-256, AutoV1, AutoV2, AutoV3, CRC-32 and
 * BLAKE3 (definitions in ../shared/CONTRACT.md and ../shared/research/identify.md section 7),
 * plus the quick fingerprint the catalog uses to recognise a moved file.
 *
 * ckpt_hash_file reads the file once, in large preads into a small ring of buffers (memory stays
 * under 64 MiB whatever the file size), and hands each block to every selected hasher; the
 * hashers run in their own threads (the whole-file SHA-256, the AutoV3 SHA-256 and BLAKE3 are
 * independent streams). ckpt_hash_files hashes several files at once. A file whose size or
 * modification time changes while it is read gives CKPT_E_CHANGED and no digests.
 *
 * Ownership: results are plain structs filled by the call; nothing to free. The small SHA-256
 * and CRC-32 helpers at the end are for other modules (catalog, sidecars, tests). */
#ifndef CKPTDB_HASH_H
#define CKPTDB_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "ckptdb/error.h"
#include "ckptdb/limits.h"

enum ckpt_hash_kind {
    CKPT_HASH_SHA256 = 1u << 0, /* whole file, 64 hex */
    CKPT_HASH_AUTOV1 = 1u << 1, /* SHA-256 of the 0x10000 bytes at 0x100000, 8 hex */
    CKPT_HASH_AUTOV2 = 1u << 2, /* first 10 hex of sha256 (computing it computes sha256) */
    CKPT_HASH_AUTOV3 = 1u << 3, /* SHA-256 after a safetensors header, 12 hex; none otherwise */
    CKPT_HASH_CRC32 = 1u << 4,  /* zlib CRC-32 of the whole file, 8 hex */
    CKPT_HASH_BLAKE3 = 1u << 5, /* whole file, 64 hex */
    CKPT_HASH_ALL = 0x3fu,
};

/* "sha256", "autov1", ... for one kind bit. */
const char *ckpt_hash_name(unsigned kind);
/* Parse a comma-separated list of names (case-insensitive) into a mask; "all" is every hash.
 * CKPT_E_ARG with a message listing the valid names for an unknown one. */
int ckpt_hash_parse_list(const char *list, unsigned *mask, struct ckpt_error *err);

struct ckpt_hash_result {
    uint64_t size;     /* bytes hashed (the file's size) */
    unsigned computed; /* CKPT_HASH_* bits whose fields below are filled */
    int has_autov3;    /* 1 when AUTOV3 was asked for and the file is a valid safetensors file */
    uint64_t autov3_offset; /* where the AutoV3 stream starts (8 + header length) */
    char sha256[65];
    char autov1[9];
    char autov2[11];
    char autov3[13];
    char autov3_full[65]; /* the whole SHA-256 behind autov3 (kohya's sshs_model_hash form) */
    char crc32[9];
    char blake3[65];
};

/* Progress: called from the hashing threads, never concurrently (a lock is held), at most every
 * few MiB per file. Return nonzero to cancel: the calls then fail with CKPT_E_CANCELLED. */
typedef int (*ckpt_hash_progress_fn)(void *user, size_t file_index, uint64_t done, uint64_t total);

/* An extra consumer of the bytes read (e.g. the lineage fingerprint): called in order with every
 * block of the file from its own thread, while the hashes run. It must not fail; it keeps its
 * own state in user. */
struct ckpt_hash_consumer {
    void (*update)(void *user, const uint8_t *p, uint64_t off, size_t len);
    void *user;
};

struct ckpt_hash_options {
    unsigned want;                  /* CKPT_HASH_* mask; 0 means all */
    ckpt_hash_progress_fn progress; /* may be NULL */
    void *progress_user;
    volatile int *cancel;             /* if not NULL, a nonzero value cancels (checked per block) */
    unsigned jobs;                    /* files hashed at once by ckpt_hash_files; 0 = automatic */
    size_t block_size;                /* bytes per read; 0 = 1 MiB (rounded to 64 KiB, <= 8 MiB) */
    const struct ckpt_limits *limits; /* for the safetensors header check; NULL = defaults */
    /* One extra consumer per file (indexed like the paths), or NULL. An entry whose update is
     * NULL is skipped. */
    const struct ckpt_hash_consumer *extra;
};

void ckpt_hash_options_default(struct ckpt_hash_options *o);

/* Hash one file. opts may be NULL (all hashes, no progress). */
int ckpt_hash_file(const char *path, const struct ckpt_hash_options *opts,
                   struct ckpt_hash_result *out, struct ckpt_error *err);

/* Hash n files, up to opts->jobs at once (automatic: as many as fit the memory budget and the
 * cores, at most 4). status[i] and errs[i] (errs may be NULL) receive each file's outcome; the
 * return value is CKPT_OK when every file was hashed, else the first failing file's status.
 * progress is called with the file's index. */
int ckpt_hash_files(const char *const *paths, size_t n, const struct ckpt_hash_options *opts,
                    struct ckpt_hash_result *results, int *status, struct ckpt_error *errs);

/* The quick fingerprint: the size plus BLAKE3 of the first MiB followed by the last MiB (of the
 * whole file when it is at most 2 MiB), so a moved or renamed file is recognised by reading at
 * most 2 MiB. `hex` is "SIZE-BLAKE3HEX" (decimal size), what the catalog stores. */
struct ckpt_fingerprint {
    uint64_t size;
    uint8_t digest[32];
    char hex[21 + 1 + 64 + 1];
};
#define CKPT_FINGERPRINT_SPAN (1024 * 1024)
int ckpt_hash_fingerprint(const char *path, struct ckpt_fingerprint *out, struct ckpt_error *err);

/* ---- single-stream helpers --------------------------------------------------------------------
 */

/* SHA-256 through libcrypto's EVP interface (SHA-NI when the CPU has it). */
struct ckpt_sha256 {
    void *ctx; /* EVP_MD_CTX */
};
int ckpt_sha256_init(struct ckpt_sha256 *s, struct ckpt_error *err);
void ckpt_sha256_update(struct ckpt_sha256 *s, const void *data, size_t len);
/* Writes the digest and releases the context. */
void ckpt_sha256_final(struct ckpt_sha256 *s, uint8_t out[32]);
/* Releases without a digest (error paths); a no-op after final. */
void ckpt_sha256_release(struct ckpt_sha256 *s);
int ckpt_sha256(const void *data, size_t len, uint8_t out[32], struct ckpt_error *err);

/* CRC-32 as zlib computes it (crc32_z): start from 0, feed in order. Uses isa-l's folding CRC
 * when built with it (4x zlib's speed on this project's benchmark machine). */
uint32_t ckpt_crc32_update(uint32_t crc, const void *data, size_t len);
/* Which implementation: "isa-l" or "zlib". */
const char *ckpt_crc32_impl(void);

/* Lower-case hex of n bytes into out (2n+1 bytes). */
void ckpt_hex(const uint8_t *p, size_t n, char *out);

#endif
