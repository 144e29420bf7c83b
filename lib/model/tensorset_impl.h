/* Internal: how format parsers build a tensorset. Not part of the public face.
 *
 * A parser receives a fresh tensorset (format unset, no tensors) and the reader of the input,
 * adds sources, tensors and metadata, and sets header_bytes. Strings are copied into the
 * tensorset's arena, so parsers may pass pointers into their own temporary buffers. */
#ifndef CKPTDB_TENSORSET_IMPL_H
#define CKPTDB_TENSORSET_IMPL_H

#include "ckptdb/tensorset.h"

struct ckpt_tensorset;

/* Opens a reader over source idx's bytes (for compressed members: inflates them). The returned
 * reader is owned by the tensorset once stored. */
typedef int (*ckpt_source_opener)(struct ckpt_tensorset *ts, uint32_t idx, struct ckpt_reader **out,
                                  struct ckpt_error *err);

struct ts_source {
    struct ckpt_source pub;
    struct ckpt_reader *rd;      /* the source's bytes, opened lazily by read_tensor */
    struct ckpt_reader *file_rd; /* the file under rd when it is not the main input */
    void *owned_bytes;           /* inflated member bytes backing rd, freed at close */
    void *parser_data;           /* what the opener needs (e.g. zip member description) */
};

struct ts_meta {
    const char *key;
    const char *value;
};

struct ts_arena_block;

struct ckpt_tensorset {
    enum ckpt_format format;
    char *path;
    uint64_t file_size;
    uint64_t header_bytes;
    uint64_t extra_bytes_read; /* bytes read through readers other than `reader` */
    const struct ckpt_limits *limits;
    struct ckpt_reader *reader; /* the main input */
    int owns_reader;

    struct ckpt_tensor *tensors;
    size_t n_tensors, cap_tensors;
    struct ts_slot {
        uint32_t idx1; /* tensor index + 1; 0 = empty */
        uint32_t hash; /* low 32 bits of the name's hash */
    } * index;         /* open-addressing table over tensor names */
    size_t index_cap;

    struct ts_meta *meta;
    size_t n_meta, cap_meta;

    struct ts_source *sources;
    size_t n_sources, cap_sources;
    ckpt_source_opener open_source; /* NULL: sources are ranges of files, opened by path */

    struct ts_arena_block *arena;

    void *parser_state; /* freed with parser_free at close */
    void (*parser_free)(void *);
};

/* Copy len bytes of s (plus NUL) into the arena. */
const char *ckpt_ts_strdup(struct ckpt_tensorset *ts, const char *s, size_t len);

/* Add a source; returns its index through idx. path NULL means the tensorset's own path. */
int ckpt_ts_add_source(struct ckpt_tensorset *ts, const char *path, const char *member,
                       uint64_t file_offset, uint64_t size, int compressed, uint32_t *idx,
                       struct ckpt_error *err);

/* Add a tensor. t->name may point anywhere (it is copied, name_len bytes). The caller fills
 * dtype, ndim, shape, source, offset, and either leaves stride all zero (contiguous) or sets
 * it; numel, nbytes, extent and contiguous are computed here with overflow checks, and the
 * extent is checked against the source's size. A duplicate name is refused (CKPT_E_FORMAT). */
int ckpt_ts_add_tensor(struct ckpt_tensorset *ts, const struct ckpt_tensor *t, size_t name_len,
                       struct ckpt_error *err);

int ckpt_ts_add_meta(struct ckpt_tensorset *ts, const char *key, size_t klen, const char *value,
                     size_t vlen, struct ckpt_error *err);

/* The name used in messages. */
static inline const char *ckpt_ts_name(const struct ckpt_tensorset *ts)
{
    return ts->path ? ts->path : "(input)";
}

/* Format parsers (lib/format/). Each fills ts from r, or returns an error naming the file. */
int ckpt_safetensors_parse(struct ckpt_tensorset *ts, struct ckpt_reader *r,
                           struct ckpt_error *err);
int ckpt_torchzip_parse(struct ckpt_tensorset *ts, struct ckpt_reader *r, struct ckpt_error *err);
int ckpt_torchlegacy_parse(struct ckpt_tensorset *ts, struct ckpt_reader *r,
                           struct ckpt_error *err);
int ckpt_gguf_parse(struct ckpt_tensorset *ts, struct ckpt_reader *r, struct ckpt_error *err);
int ckpt_diffusers_parse(struct ckpt_tensorset *ts, const char *dir, struct ckpt_error *err);

/* Create an empty tensorset (used by the diffusers reader to open each component). */
struct ckpt_tensorset *ckpt_ts_new(const char *path, const struct ckpt_limits *limits);

#endif
