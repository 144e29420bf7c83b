/* Files that appear whole or not at all.
 *
 * ckpt_atomic_open creates a temporary file in the target's folder; data is written to it;
 * ckpt_atomic_commit fsyncs it, renames it over (or, without force, next to nothing: an existing
 * target is refused) the target and fsyncs the folder. ckpt_atomic_abort removes the temporary
 * file. Either commit or abort frees the handle. */
#ifndef CKPTDB_ATOMIC_H
#define CKPTDB_ATOMIC_H

#include <stddef.h>
#include <stdint.h>

#include "ckptdb/error.h"

struct ckpt_atomic_file;

/* force: 0 refuses an existing target (checked at open and again, race-free, at commit). */
int ckpt_atomic_open(struct ckpt_atomic_file **out, const char *path, int force,
                     struct ckpt_error *err);
/* Streaming mode for a large file written front to back, called before the first write: writes
 * are gathered into aligned blocks written by a background thread (O_DIRECT where the filesystem
 * allows it); holes become zeros. Falls back to ordinary writes when it cannot be set up. */
int ckpt_atomic_stream(struct ckpt_atomic_file *f);
int ckpt_atomic_write(struct ckpt_atomic_file *f, const void *data, size_t len,
                      struct ckpt_error *err);
/* Leave a hole of len zero bytes (sparse where the filesystem supports it). */
int ckpt_atomic_skip(struct ckpt_atomic_file *f, uint64_t len, struct ckpt_error *err);
uint64_t ckpt_atomic_offset(const struct ckpt_atomic_file *f);
int ckpt_atomic_commit(struct ckpt_atomic_file *f, struct ckpt_error *err);
void ckpt_atomic_abort(struct ckpt_atomic_file *f);
const char *ckpt_atomic_path(const struct ckpt_atomic_file *f);

#endif
