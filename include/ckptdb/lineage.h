/* Lineage from the weights: fingerprints of a checkpoint and what they say about how it was made.
 *
 * A fingerprint holds, per tensor, an identity digest of its bytes (equal bytes, equal digest:
 * shared VAE, text encoder, untouched blocks are seen at once) and float64 moments (mean, std,
 * L2, absmax); and per block (SD1/SD2: BASE, IN00-IN11, M00, OUT00-OUT11; SDXL: IN00-IN08, M00,
 * OUT00-OUT08; TE, TE2 and VAE as blocks of their own; Flux: D00.., S00..; else one UNET block)
 * a linear random-projection sketch: a count sketch of a fixed, name-seeded subset of the
 * block's elements (lib/lineage/kernel.c). Because it is linear, the sketch of a linear merge of
 * parents is the same linear merge of their sketches; every file of a family is sketched alike
 * because the projection of each tensor depends only on its normalised name and element index.
 *
 * Fingerprints are computed in one streaming pass over the file's bytes: either fed by the
 * hasher (ckpt_hash_options.extra, so the hashes and the fingerprint share one read) or by
 * ckpt_lineage_fingerprint_file. They serialise to a compact blob (about 100 KB for SD1) for
 * the catalog.
 *
 * Questions: ckpt_lineage_similar (per-block cosine of deltas to a base, identical components)
 * and ckpt_lineage_explain (affine least-squares fits of the model's sketches on small subsets
 * of candidate parents, one weight per parent first, then per block: weighted sum,
 * add-difference with signed weights, block weights; the residual against the fp16/bf16
 * rounding floor says whether the merge is linear; docs/lineage.md).
 *
 * Ownership: _new/_load/_file return owned handles freed by ckpt_lineage_fp_free (NULL is a
 * no-op); results are freed by their _release. Getters return borrowed pointers. */
#ifndef CKPTDB_LINEAGE_H
#define CKPTDB_LINEAGE_H

#include <stddef.h>
#include <stdint.h>

#include "ckptdb/error.h"
#include "ckptdb/limits.h"

struct ckpt_tensorset;
struct ckpt_json;
struct ckpt_buf;

#define CKPT_LINEAGE_K 256 /* sketch length per block */
#define CKPT_LINEAGE_MAX_BLOCKS 96
#define CKPT_LINEAGE_MAX_PARENTS 6

struct ckpt_lineage_fp;

/* ---- computing -------------------------------------------------------------------------------
 */

/* A fingerprint being computed from a file's bytes. Create it from the opened tensorset (its
 * header tells where each tensor lies), feed it the file's bytes in order with _update (any
 * block sizes; bytes outside tensors are ignored), then _finish: tensors that could not be seen
 * in the stream (deflated zip members, strided views, other files of a diffusers folder) are
 * read there through the tensorset. The tensorset must stay open until _finish. */
struct ckpt_lineage_stream;

int ckpt_lineage_stream_new(struct ckpt_tensorset *ts, struct ckpt_lineage_stream **out,
                            struct ckpt_error *err);
/* Bytes [off, off+len) of the tensorset's main file (ckpt_tensorset_path). Never fails. */
void ckpt_lineage_stream_update(struct ckpt_lineage_stream *s, const uint8_t *p, uint64_t off,
                                size_t len);
/* Completes the fingerprint (owned by the caller) and frees the stream, also on error. */
int ckpt_lineage_stream_finish(struct ckpt_lineage_stream *s, struct ckpt_lineage_fp **out,
                               struct ckpt_error *err);
/* Frees a stream without finishing (error paths). */
void ckpt_lineage_stream_free(struct ckpt_lineage_stream *s);

/* Fingerprint a model file (or diffusers folder) on its own: opens it, reads every tensor once.
 * The scan computes fingerprints through the hasher instead (one read for both). */
int ckpt_lineage_fingerprint_file(const char *path, const struct ckpt_limits *limits,
                                  struct ckpt_lineage_fp **out, struct ckpt_error *err);

void ckpt_lineage_fp_free(struct ckpt_lineage_fp *fp);

/* ---- storing ---------------------------------------------------------------------------------
 */

/* Append the compact binary form to b (check b->oom). */
void ckpt_lineage_fp_save(const struct ckpt_lineage_fp *fp, struct ckpt_buf *b);
/* Parse a blob written by _save; CKPT_E_FORMAT naming `name` for anything malformed. */
int ckpt_lineage_fp_load(const void *data, size_t len, const char *name,
                         struct ckpt_lineage_fp **out, struct ckpt_error *err);

/* The compact pre-filter form (the folded sketches folded once more: 16 floats per block, about
 * 1.9 KB for SD1) that the catalog keeps beside the blob, so a query reads every model's fold
 * and only the nearest models' blobs. */
void ckpt_lineage_fp_fold_save(const struct ckpt_lineage_fp *fp, struct ckpt_buf *b);
/* Squared distance between fp's folded sketches and a saved fold; -1 when the fold is malformed
 * or has other blocks. */
double ckpt_lineage_fold_distance(const struct ckpt_lineage_fp *fp, const void *fold, size_t len);
/* The same over many folds: the query's side prepared once (NULL when out of memory). The
 * distance stops adding blocks once it exceeds `bound` (returning a value above it; INFINITY
 * computes it in full); -1 as above. */
struct ckpt_lineage_foldq;
struct ckpt_lineage_foldq *ckpt_lineage_foldq_new(const struct ckpt_lineage_fp *fp);
double ckpt_lineage_foldq_distance(const struct ckpt_lineage_foldq *fq, const void *fold,
                                   size_t len, double bound);
void ckpt_lineage_foldq_free(struct ckpt_lineage_foldq *fq);

/* ---- reading a fingerprint -------------------------------------------------------------------
 */

/* A label the caller attaches (path, catalog name); copied. NULL clears it. */
int ckpt_lineage_fp_set_label(struct ckpt_lineage_fp *fp, const char *label);
const char *ckpt_lineage_fp_label(const struct ckpt_lineage_fp *fp);
/* The family as identify names it ("sd1", "sdxl", ...), or "unknown". */
const char *ckpt_lineage_fp_family(const struct ckpt_lineage_fp *fp);
size_t ckpt_lineage_fp_tensor_count(const struct ckpt_lineage_fp *fp);
size_t ckpt_lineage_fp_block_count(const struct ckpt_lineage_fp *fp);
const char *ckpt_lineage_fp_block_name(const struct ckpt_lineage_fp *fp, size_t i);
/* Identity digest of a component ("unet", "vae", "text-encoder", "text-encoder-2") or of a
 * block: a hash of its tensors' names and digests; 0 when the file has no such part. */
uint64_t ckpt_lineage_fp_component_digest(const struct ckpt_lineage_fp *fp, const char *name);
uint64_t ckpt_lineage_fp_block_digest(const struct ckpt_lineage_fp *fp, size_t i);

struct ckpt_lineage_tensor_stats {
    uint64_t name_hash; /* of the normalised name */
    uint64_t digest;    /* identity of the bytes */
    uint64_t numel;
    double mean, std, l2, absmax;
    const char *block; /* borrowed block name */
};
/* Stats of the tensor whose normalised name is `name` ("unet:input_blocks.1.0.in_layers.0.weight"
 * etc.); CKPT_E_NOTFOUND if absent. */
int ckpt_lineage_fp_tensor(const struct ckpt_lineage_fp *fp, const char *name,
                           struct ckpt_lineage_tensor_stats *out);

/* ---- questions -------------------------------------------------------------------------------
 */

struct ckpt_lineage_block_value {
    const char *block; /* borrowed from the query fingerprint */
    double value;      /* similarity, or a weight; NAN when not determined (block equal
                          everywhere, or absent) */
};

struct ckpt_lineage_match {
    size_t index;      /* into the candidates array */
    double similarity; /* cosine of the deltas to the base over all sketched blocks */
    struct ckpt_lineage_block_value *blocks;
    size_t n_blocks;
    char **shared; /* components and blocks identical byte for byte ("vae", "block:IN04") */
    size_t n_shared;
};

struct ckpt_lineage_similar_result {
    struct ckpt_lineage_match *matches; /* best first */
    size_t n;
};

/* Nearest candidates of the same family by the similarity of their sketches' differences to
 * `base` (NULL: to the mean of the query and the candidates). Candidates of another family, and
 * the query itself (same pointer), are skipped. top 0 means all. */
int ckpt_lineage_similar(const struct ckpt_lineage_fp *query,
                         const struct ckpt_lineage_fp *const *cands, size_t n,
                         const struct ckpt_lineage_fp *base, size_t top,
                         struct ckpt_lineage_similar_result *out, struct ckpt_error *err);
void ckpt_lineage_similar_release(struct ckpt_lineage_similar_result *r);

enum ckpt_lineage_origin {
    CKPT_LINEAGE_UNKNOWN = 0, /* nothing among the candidates explains it */
    CKPT_LINEAGE_DUPLICATE,   /* the same weights as a candidate (re-saved, renamed) */
    CKPT_LINEAGE_FINETUNE,    /* departs from one candidate by changes nothing else explains */
    CKPT_LINEAGE_MERGE,       /* a combination of several candidates */
};
const char *ckpt_lineage_origin_name(enum ckpt_lineage_origin o); /* "fine-tune", ... */

struct ckpt_lineage_parent {
    size_t index;  /* into the candidates array */
    double weight; /* the mean of its per-block weights over the determined blocks */
    struct ckpt_lineage_block_value *blocks;
    size_t n_blocks;
};

struct ckpt_lineage_result {
    enum ckpt_lineage_origin origin;
    double confidence; /* 0..1 */
    char why[512];     /* one sentence */
    struct ckpt_lineage_parent parents[CKPT_LINEAGE_MAX_PARENTS];
    size_t n_parents; /* sorted by |weight|, largest first */
    long base;        /* candidate index of the base (fine-tune's base; the negatively
                         weighted root of an add-difference), or -1 */
    double residual;  /* fit residual divided by the expected rounding floor (1 = at it) */
    double explained; /* fraction of the departure from the nearest candidate explained */
    int linear;       /* merge: 1 when the residual is at the floor */
    struct ckpt_lineage_block_value *distance; /* fine-tune: per block relative change vs base */
    size_t n_distance;
};

struct ckpt_lineage_options {
    size_t prefilter;  /* candidates kept after the distance pre-filter; 0 = 24 */
    double linear_max; /* residual/floor at or below which a fit is linear; 0 = 3.0 */
    double min_gain;   /* fraction of remaining residual energy a parent must remove; 0 = 0.015 */
};

/* Explain `query` from the candidates (same family only; the query itself is skipped). */
int ckpt_lineage_explain(const struct ckpt_lineage_fp *query,
                         const struct ckpt_lineage_fp *const *cands, size_t n,
                         const struct ckpt_lineage_options *opt, struct ckpt_lineage_result *out,
                         struct ckpt_error *err);
void ckpt_lineage_result_release(struct ckpt_lineage_result *r);

/* JSON of CONTRACT.md. `names[i]` / `shas[i]` label candidate i (shas may be NULL). */
void ckpt_lineage_similar_json(const struct ckpt_lineage_similar_result *r,
                               const char *const *names, struct ckpt_json *j);
void ckpt_lineage_result_json(const struct ckpt_lineage_result *r, const char *model,
                              const char *const *names, const char *const *shas,
                              struct ckpt_json *j);

#endif
