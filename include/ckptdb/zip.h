/* A strict, read-only zip reader driven by the central directory (the container of torch .ckpt
 * and .pt files).
 *
 * Opening reads the end-of-central-directory record (and its ZIP64 forms), the central
 * directory and every member's local header, and refuses anything two readers could disagree
 * on: prepended data, encrypted entries, duplicate or unsafe names, local headers that disagree
 * with the central directory, and overlapping members. Member data is never read at open time.
 *
 * Ownership: ckpt_zip_open returns an owned handle freed by ckpt_zip_close (NULL is a no-op);
 * the reader it was opened over is borrowed and must outlive it. Member pointers and names are
 * borrowed and valid until close. Buffers returned by ckpt_zip_read are owned by the caller
 * (free()). */
#ifndef CKPTDB_ZIP_H
#define CKPTDB_ZIP_H

#include <stddef.h>
#include <stdint.h>

#include "ckptdb/error.h"
#include "ckptdb/limits.h"
#include "ckptdb/reader.h"

enum { CKPT_ZIP_STORED = 0, CKPT_ZIP_DEFLATED = 8 };

struct ckpt_zip_member {
    const char *name; /* NUL-terminated; never contains a NUL, "..", "\\" or a leading '/' */
    size_t name_len;
    uint16_t method;       /* CKPT_ZIP_STORED or CKPT_ZIP_DEFLATED */
    uint16_t flags;        /* general-purpose bit flags (central directory) */
    uint32_t crc;          /* CRC-32 from the central directory */
    uint64_t csize;        /* compressed size (== usize when stored) */
    uint64_t usize;        /* uncompressed size */
    uint64_t local_offset; /* offset of the local header in the file */
    uint64_t data_offset;  /* offset of the member's first data byte in the file */
};

struct ckpt_zip;

/* Read the directory of the zip in r. limits NULL means the defaults. */
int ckpt_zip_open(struct ckpt_zip **out, struct ckpt_reader *r, const struct ckpt_limits *limits,
                  struct ckpt_error *err);
void ckpt_zip_close(struct ckpt_zip *z);

/* Members in central-directory order. */
size_t ckpt_zip_count(const struct ckpt_zip *z);
const struct ckpt_zip_member *ckpt_zip_member(const struct ckpt_zip *z, size_t i);
/* Exact-name lookup; NULL when absent. */
const struct ckpt_zip_member *ckpt_zip_find(const struct ckpt_zip *z, const char *name);

/* Bytes of the archive's structure: central directory, end records and local headers. */
uint64_t ckpt_zip_structure_bytes(const struct ckpt_zip *z);

/* Read a member whole into a new buffer (*out, *len; free() it), inflating deflated members.
 * Refused with CKPT_E_LIMIT when it is larger than max bytes or than limits->zip_max_inflate,
 * or when a deflated member's ratio exceeds limits->zip_max_ratio; the CRC-32 is checked. */
int ckpt_zip_read(struct ckpt_zip *z, const struct ckpt_zip_member *m, uint64_t max, void **out,
                  size_t *len, struct ckpt_error *err);

/* A reader over a stored member's bytes (a slice of the zip's reader, which must outlive it).
 * CKPT_E_ARG for a deflated member (use ckpt_zip_read). The CRC is not checked. */
int ckpt_zip_open_member(struct ckpt_zip *z, const struct ckpt_zip_member *m,
                         struct ckpt_reader **out, struct ckpt_error *err);

#endif
