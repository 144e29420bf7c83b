/* The tensorset: one view over every model file format.
 *
 * Opening a file (or a diffusers folder) reads its header only and yields the tensors it holds:
 * name, dtype, shape (PyTorch order), strides, and where the bytes are (a source, which is a file
 * or a member inside a zip, plus a byte offset in it), and the file's metadata as string pairs.
 * No tensor data is read at open time.
 *
 * Ownership: ckpt_tensorset_open returns an owned handle freed by ckpt_tensorset_close (NULL is
 * a no-op). Every pointer a getter returns (tensors, names, metadata, sources) is borrowed and
 * valid until the tensorset is closed. */
#ifndef CKPTDB_TENSORSET_H
#define CKPTDB_TENSORSET_H

#include <stddef.h>
#include <stdint.h>

#include "ckptdb/dtype.h"
#include "ckptdb/error.h"
#include "ckptdb/limits.h"
#include "ckptdb/reader.h"

enum ckpt_format {
    CKPT_FMT_UNKNOWN = 0,
    CKPT_FMT_SAFETENSORS,
    CKPT_FMT_TORCH_ZIP,
    CKPT_FMT_TORCH_LEGACY,
    CKPT_FMT_GGUF,
    CKPT_FMT_DIFFUSERS,
};

/* "safetensors", "torch-zip", "torch-legacy", "gguf", "diffusers", "unknown" (TAXONOMY.md). */
const char *ckpt_format_name(enum ckpt_format f);

/* Where tensor bytes live. */
struct ckpt_source {
    const char *path;     /* the file on disk */
    const char *member;   /* zip member name, or NULL when the bytes are directly in the file */
    uint64_t file_offset; /* absolute offset in path of the source's byte 0 (0 if compressed) */
    uint64_t size;        /* bytes in the source (inflated size for compressed members) */
    int compressed;       /* 1: a deflated zip member; offsets are into its inflated bytes */
};

struct ckpt_tensor {
    const char *name;
    enum ckpt_dtype dtype;
    uint32_t ndim;
    uint64_t shape[CKPT_MAX_DIMS]; /* PyTorch order (GGUF dims are reversed on reading) */
    int64_t stride[CKPT_MAX_DIMS]; /* in elements; row-major values when contiguous */
    int contiguous;                /* 1 when stride is row-major for shape */
    uint32_t source;               /* index of its ckpt_source */
    uint64_t offset;               /* byte offset of element 0 inside the source */
    uint64_t nbytes;               /* bytes of its elements laid out contiguously */
    uint64_t extent;               /* bytes from offset that its elements span (== nbytes when
                                      contiguous; larger or smaller for strided views) */
    uint64_t numel;                /* number of elements */
};

struct ckpt_tensorset;

/* Open a model file or a diffusers folder by path, detecting the format from its content. */
int ckpt_tensorset_open(struct ckpt_tensorset **out, const char *path,
                        const struct ckpt_limits *limits, struct ckpt_error *err);

/* Parse from an already-open reader (e.g. a memory buffer in the fuzzers). The reader is
 * borrowed and must outlive the tensorset. */
int ckpt_tensorset_open_reader(struct ckpt_tensorset **out, struct ckpt_reader *r,
                               const struct ckpt_limits *limits, struct ckpt_error *err);

void ckpt_tensorset_close(struct ckpt_tensorset *ts);

enum ckpt_format ckpt_tensorset_format(const struct ckpt_tensorset *ts);
const char *ckpt_tensorset_path(const struct ckpt_tensorset *ts);
/* Total bytes of the file (for a diffusers folder: of every file it reads). */
uint64_t ckpt_tensorset_file_size(const struct ckpt_tensorset *ts);
/* Bytes of headers/directories/pickles (everything that is not tensor data). */
uint64_t ckpt_tensorset_header_bytes(const struct ckpt_tensorset *ts);
/* Bytes the readers actually read while opening (for the benchmarks and tests). */
uint64_t ckpt_tensorset_bytes_read(const struct ckpt_tensorset *ts);

size_t ckpt_tensorset_count(const struct ckpt_tensorset *ts);
const struct ckpt_tensor *ckpt_tensorset_tensor(const struct ckpt_tensorset *ts, size_t i);
/* Lookup by exact name; NULL if absent. */
const struct ckpt_tensor *ckpt_tensorset_find(const struct ckpt_tensorset *ts, const char *name);

size_t ckpt_tensorset_source_count(const struct ckpt_tensorset *ts);
const struct ckpt_source *ckpt_tensorset_source(const struct ckpt_tensorset *ts, uint32_t i);

/* Metadata, in file order: safetensors __metadata__, GGUF key/values (rendered as text), the
 * pickle's non-tensor scalars (e.g. "global_step"), diffusers config values. */
size_t ckpt_tensorset_meta_count(const struct ckpt_tensorset *ts);
const char *ckpt_tensorset_meta_key(const struct ckpt_tensorset *ts, size_t i);
const char *ckpt_tensorset_meta_value(const struct ckpt_tensorset *ts, size_t i);
/* Value for key, or NULL. */
const char *ckpt_tensorset_meta_get(const struct ckpt_tensorset *ts, const char *key);

/* Sum of the element counts of every tensor (saturating). */
uint64_t ckpt_tensorset_parameter_count(const struct ckpt_tensorset *ts);

/* Copy a tensor's elements, laid out contiguously, into buf (buflen >= t->nbytes). Strided
 * views are gathered; zip members (stored or deflated) are handled. For small tensors
 * (position_ids, probes); bulk readers use the sources directly. */
int ckpt_tensorset_read_tensor(struct ckpt_tensorset *ts, const struct ckpt_tensor *t, void *buf,
                               size_t buflen, struct ckpt_error *err);

struct ckpt_json;
/* The `inspect --json` object of ../shared/CONTRACT.md: path, format, size, header_bytes,
 * tensor_count, parameter_count, dtypes, metadata, tensors (each {name, dtype, shape, offset,
 * nbytes}, plus stride when not contiguous and member when inside a zip). */
void ckpt_tensorset_json(const struct ckpt_tensorset *ts, struct ckpt_json *j);

#endif
