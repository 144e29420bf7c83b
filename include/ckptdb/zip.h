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

/* What survey mode found instead of refusing (the safety checker turns these into findings). */
enum ckpt_zip_anomaly_kind {
    CKPT_ZIP_BAD_NAME,       /* empty, NUL, backslash, absolute, drive letter or '..' */
    CKPT_ZIP_DUPLICATE_NAME, /* a name seen before (lookups find the first) */
    CKPT_ZIP_FLAGS,          /* encryption (bits 0, 6), patched data (5), masked directory (13) */
    CKPT_ZIP_METHOD,         /* a compression method other than stored and deflate */
    CKPT_ZIP_SIZE_MISMATCH,  /* a stored member whose two sizes differ */
    CKPT_ZIP_LOCAL_MISMATCH, /* local flags, method, CRC or sizes differ from the central ones */
    CKPT_ZIP_NAME_MISMATCH,  /* the local header names a different member */
    CKPT_ZIP_PREPENDED,      /* data before the first member */
    CKPT_ZIP_OVERLAP,        /* two members share bytes */
    CKPT_ZIP_CRC,            /* a member read does not match its CRC-32 */
};

#define CKPT_ZIP_ANOMALY_MSG 320
#define CKPT_ZIP_MAX_ANOMALIES 64

struct ckpt_zip_anomaly {
    enum ckpt_zip_anomaly_kind kind;
    const char *member;             /* borrowed; NULL when the anomaly is not about one member */
    uint64_t offset;                /* byte in the file (the member's local header) */
    char msg[CKPT_ZIP_ANOMALY_MSG]; /* the message strict mode would have failed with */
};

/* Read the directory of the zip in r. limits NULL means the defaults. */
int ckpt_zip_open(struct ckpt_zip **out, struct ckpt_reader *r, const struct ckpt_limits *limits,
                  struct ckpt_error *err);
void ckpt_zip_close(struct ckpt_zip *z);

/* Survey mode, for the safety checker: the checks two readers could disagree on (names, flags,
 * local/central differences, prepended data, overlaps, methods, and CRC-32 when a member is
 * read) are recorded as anomalies instead of refusing; the archive then reads as torch's
 * reader would (central names, local header lengths, flags ignored, CRC not enforced).
 * Structural failures (no end record, a directory that does not parse, data past the end)
 * still fail. Every size and offset is still bounds-checked. */
int ckpt_zip_open_survey(struct ckpt_zip **out, struct ckpt_reader *r,
                         const struct ckpt_limits *limits, struct ckpt_error *err);
/* Anomalies recorded (at most CKPT_ZIP_MAX_ANOMALIES kept; _total counts all). */
size_t ckpt_zip_anomaly_count(const struct ckpt_zip *z);
size_t ckpt_zip_anomaly_total(const struct ckpt_zip *z);
const struct ckpt_zip_anomaly *ckpt_zip_anomaly(const struct ckpt_zip *z, size_t i);

/* 1 when an end-of-central-directory record ends the file in r (a zip, wherever it starts). */
int ckpt_zip_locate(struct ckpt_reader *r);

/* The first bytes of a member (up to n; *got says how many), inflating only what they need and
 * without checking the CRC: for sniffing what a member holds without reading it whole. */
int ckpt_zip_read_head(struct ckpt_zip *z, const struct ckpt_zip_member *m, void *buf, size_t n,
                       size_t *got, struct ckpt_error *err);

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
