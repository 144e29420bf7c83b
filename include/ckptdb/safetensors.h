/* Writing safetensors files by streaming.
 *
 * Declare every tensor (name, dtype, shape) and the metadata first, then write each tensor's
 * bytes in the order declared. The header is laid out like the reference writer: compact JSON,
 * __metadata__ first, tensors in declaration order with contiguous offsets, padded with spaces
 * to a multiple of 8. The file appears atomically at finish (see atomic.h).
 *
 * Ownership: _open returns an owned writer; _finish and _abort both free it. */
#ifndef CKPTDB_SAFETENSORS_H
#define CKPTDB_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "ckptdb/dtype.h"
#include "ckptdb/error.h"

struct ckpt_st_writer;

int ckpt_st_writer_open(struct ckpt_st_writer **out, const char *path, int force,
                        struct ckpt_error *err);
/* Before any data: write the file in streaming mode (ckpt_atomic_stream), for large outputs. */
void ckpt_st_writer_stream(struct ckpt_st_writer *w);
/* Metadata (string -> string); a repeated key replaces the earlier value. */
int ckpt_st_writer_meta(struct ckpt_st_writer *w, const char *key, const char *value,
                        struct ckpt_error *err);
int ckpt_st_writer_declare(struct ckpt_st_writer *w, const char *name, enum ckpt_dtype dtype,
                           uint32_t ndim, const uint64_t *shape, struct ckpt_error *err);
/* Write the header; after this only data calls are allowed. Called implicitly by the first
 * data call. */
int ckpt_st_writer_begin_data(struct ckpt_st_writer *w, struct ckpt_error *err);
/* Append bytes of the current tensor(s), in declaration order. */
int ckpt_st_writer_data(struct ckpt_st_writer *w, const void *p, size_t n, struct ckpt_error *err);
/* Append n zero bytes as a hole (sparse fixtures). */
int ckpt_st_writer_zeros(struct ckpt_st_writer *w, uint64_t n, struct ckpt_error *err);
/* Bytes of data expected in total, and written so far. */
uint64_t ckpt_st_writer_data_size(const struct ckpt_st_writer *w);
uint64_t ckpt_st_writer_data_written(const struct ckpt_st_writer *w);
/* Check every declared byte was written, then commit the file. */
int ckpt_st_writer_finish(struct ckpt_st_writer *w, struct ckpt_error *err);
void ckpt_st_writer_abort(struct ckpt_st_writer *w);

#endif
