/* A reader over a file or a memory buffer: the only way parsers touch input bytes.
 *
 * Files are read with pread (header parsing) or mapped read-only on demand (bulk data); nothing
 * is ever read whole into malloc'd memory. Every read is bounds-checked against the size seen at
 * open time, and the reader counts the bytes it delivered so tests and benchmarks can prove a
 * parser read only what it needed.
 *
 * Ownership: ckpt_reader_open_* return an owned handle freed by ckpt_reader_close (NULL is a
 * no-op). A memory reader borrows the caller's buffer, which must outlive it. Pointers returned
 * by ckpt_reader_view stay valid until the reader is closed. */
#ifndef CKPTDB_READER_H
#define CKPTDB_READER_H

#include <stddef.h>
#include <stdint.h>

#include "ckptdb/error.h"

struct ckpt_reader;

int ckpt_reader_open_file(struct ckpt_reader **out, const char *path, struct ckpt_error *err);
int ckpt_reader_open_memory(struct ckpt_reader **out, const void *data, size_t size,
                            const char *name, struct ckpt_error *err);
/* A reader over the byte range [off, off+len) of another reader (which must outlive it). */
int ckpt_reader_open_slice(struct ckpt_reader **out, struct ckpt_reader *parent, uint64_t off,
                           uint64_t len, const char *name, struct ckpt_error *err);
void ckpt_reader_close(struct ckpt_reader *r);

/* Size in bytes, and the name used in error messages (the path as given). */
uint64_t ckpt_reader_size(const struct ckpt_reader *r);
const char *ckpt_reader_name(const struct ckpt_reader *r);

/* Copy exactly len bytes at off into buf; CKPT_E_FORMAT naming `what` if the range is outside
 * the input, CKPT_E_IO if the system read fails. */
int ckpt_reader_read(struct ckpt_reader *r, uint64_t off, void *buf, size_t len, const char *what,
                     struct ckpt_error *err);

/* A read-only pointer to len bytes at off (mapped for files, borrowed for memory), valid until
 * close. For bulk data (hashing, merging); header parsers use ckpt_reader_read. */
int ckpt_reader_view(struct ckpt_reader *r, uint64_t off, size_t len, const void **out,
                     struct ckpt_error *err);

/* The file descriptor of a file reader (or of the file under a slice), -1 for memory readers;
 * and the absolute offset of this reader's byte 0 in that file. */
int ckpt_reader_fd(const struct ckpt_reader *r);
uint64_t ckpt_reader_base(const struct ckpt_reader *r);

/* Bytes delivered by ckpt_reader_read since open (views are not counted; they are for bulk). */
uint64_t ckpt_reader_bytes_read(const struct ckpt_reader *r);

#endif
