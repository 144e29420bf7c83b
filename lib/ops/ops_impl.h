/* Internal: the plan every streaming operation builds, and the engine that runs it.
 *
 * An operation (merge, convert, prune, extract, bake) opens its inputs, decides for every output
 * tensor where its values come from (an ops_item), adds recipe metadata, and hands the plan to
 * ops_run, which writes the safetensors file tensor by tensor in chunks. Not part of the public
 * face. */
#ifndef CKPTDB_OPS_IMPL_H
#define CKPTDB_OPS_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "ckptdb/ops.h"
#include "ckptdb/tensorset.h"

#define OPS_MAX_IN 64

enum ops_kind {
    OPS_COPY = 1,  /* src[0] of in[0], converted to dtype if it differs */
    OPS_MERGE,     /* plan->method over src[0..2] (shapes equal, or A wider in dim 1) */
    OPS_INT_ROUND, /* src[0] rounded to the nearest integer, written as I64 (position_ids) */
    OPS_ARANGE,    /* 0, 1, ..., numel-1 as I64 (repaired position_ids) */
    OPS_BAKE,      /* src[0] plus the LoRA terms */
};

enum ops_net { OPS_NET_LORA = 1, OPS_NET_LOHA, OPS_NET_LOKR };

/* One network module applied to a target tensor: delta rows [row0, row0 + rows) of the target
 * (a q/k/v slice of a fused in_proj) get scale * module delta. */
struct ops_term {
    enum ops_net net;
    int in; /* input slot of the LoRA file */
    /* LORA: up, down, mid. LOHA: w1a, w1b, w2a, w2b, t1, t2. LOKR: w1, w1a, w1b, w2, w2a, w2b,
     * t2. Missing ones NULL. */
    const struct ckpt_tensor *t[7];
    double scale;
    uint64_t row0, rows;
};

struct ops_item {
    const char *name; /* owned by the plan */
    enum ckpt_dtype dtype;
    uint32_t ndim;
    uint64_t shape[CKPT_MAX_DIMS];
    enum ops_kind kind;
    int in[3];
    const struct ckpt_tensor *src[3];
    double alpha, beta;
    struct ops_term *terms;
    size_t n_terms;
};

struct ops_plan {
    struct ckpt_tensorset *in[OPS_MAX_IN]; /* borrowed */
    size_t n_in;
    struct ops_item *items;
    size_t n, cap;
    enum ckpt_merge_method method;
    double ties_k, dare_p;
    uint64_t seed;
    char **meta; /* key, value, key, value, ... */
    size_t n_meta;
};

/* Append an item (name copied). Returns the item or NULL when out of memory. */
struct ops_item *ops_add(struct ops_plan *p, const char *name, const struct ckpt_tensor *like);
int ops_meta(struct ops_plan *p, const char *key, const char *value);
void ops_plan_free(struct ops_plan *p);

/* Write the plan to c->output. rep->tensors_out/output_bytes are filled. */
int ops_run(struct ops_plan *p, const struct ckpt_op_common *c, struct ckpt_op_report *rep,
            struct ckpt_error *err);

/* Inside a run (pipeline.c), for the math files: read elements of an input tensor as doubles
 * (slot: operand position 0..7, used to cache gathered tensors), write an item's values. */
struct ops_ctx;
int ops_read_f64(struct ops_ctx *r, int in, int slot, const struct ckpt_tensor *t, uint64_t e0,
                 size_t n, double *out);
/* The whole tensor into a malloc'd array (free it). */
int ops_read_all(struct ops_ctx *r, int in, int slot, const struct ckpt_tensor *t, double **out);
int ops_put_f64(struct ops_ctx *r, const struct ops_item *it, const double *v, size_t n);
int ops_put_all_f64(struct ops_ctx *r, const struct ops_item *it, const double *v, uint64_t numel);
const struct ops_plan *ops_ctx_plan(const struct ops_ctx *r);
struct ckpt_error *ops_ctx_err(struct ops_ctx *r);
const char *ops_ctx_output(const struct ops_ctx *r);
/* Scratch arrays of OPS_CHUNK doubles, k = 0..3. */
double *ops_ctx_buf(struct ops_ctx *r, int k);
#define OPS_CHUNK (1u << 20)

/* merge_math.c: out = method(a, b, c) for n elements starting at element e0 of the item. */
void ops_merge_chunk(const struct ops_plan *p, const struct ops_item *it, const double *a,
                     const double *b, const double *c, size_t n, uint64_t e0, double *out);
/* TIES over a whole item, streaming (radix-selects the top-k thresholds in passes). */
int ops_merge_ties(struct ops_ctx *r, const struct ops_item *it);
/* bake_math.c: w += every term's delta. */
int ops_bake_item(struct ops_ctx *r, const struct ops_item *it, double *w);

/* The output dtype of a tensor of type t under the requested dtype (floats only change). */
enum ckpt_dtype ops_out_dtype(enum ckpt_dtype t, enum ckpt_dtype want);
/* 1 when values of type t can be computed with (F16, BF16, F32, F64, integers, BOOL). */
int ops_numeric(enum ckpt_dtype t);
/* Correctly rounded double -> f16 (bit-exact with ckpt_f64_to_f16, faster). */
uint16_t ops_f64_to_f16(double d);
/* The same over an array (F16C/AVX2 when the CPU has them: round to odd in float32, then the
 * hardware's round-to-nearest-even); and double -> bf16 the same way. */
void ops_f64_to_f16_array(const double *in, size_t n, uint16_t *out);
uint16_t ops_f64_to_bf16(double d);

/* Component role of every tensor of ts (identify's prefix table): one of the CKPT_COMP_* bits,
 * OPS_ROLE_BUFFER for schedule buffers and markers, OPS_ROLE_JUNK for keys nothing explains.
 * *out is malloc'd (free it); strip[i] (optional) is the prefix length identify strips. */
#define OPS_ROLE_BUFFER (1u << 8)
#define OPS_ROLE_JUNK (1u << 9)
int ops_roles(struct ckpt_tensorset *ts, unsigned **out, uint16_t **strip, struct ckpt_error *err);

/* The family of ts by identify, and its name ("" when unknown). */
int ops_family(struct ckpt_tensorset *ts, int *family, int *variant, struct ckpt_error *err);

/* Report helpers. */
void ops_note(struct ckpt_op_report *rep, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Recipe metadata (recipe.c). */
struct ops_recipe {
    const char *operation; /* "merge", "convert", ... */
    const char *const *inputs;
    size_t n_inputs;
    struct ckpt_tensorset *const *ts; /* the inputs' tensorsets (their metadata is folded in) */
    const struct ckpt_op_common *c;
    const char *params_json;  /* the operation's parameters as a JSON object text */
    const char *a1111_method; /* sd_merge_recipe interp_method, NULL: no A1111 recipe */
    double multiplier;
    const char *vae;
    int is_inpainting, is_pix2pix;
    int family; /* enum ckpt_family of the output */
    int variant;
    int copy_meta_from; /* index of the input whose metadata is carried over, -1: none */
};
int ops_recipe_meta(struct ops_plan *p, const struct ops_recipe *r, struct ckpt_op_report *rep,
                    struct ckpt_error *err);

/* Guard: refuse an output that is one of the inputs (same inode). */
int ops_check_output(const char *output, const char *const *inputs, size_t n,
                     struct ckpt_error *err);

/* merge.c: find a VAE tensor by its key without prefix; plan it in place of target. */
const struct ckpt_tensor *ops_vae_find(struct ckpt_tensorset *vae, const char *stripped);
int ops_vae_item(struct ops_plan *p, int vae_in, const struct ckpt_tensor *target,
                 const struct ckpt_tensor *vt, enum ckpt_dtype want, struct ckpt_error *err);

/* Plan tensor t of input 0 to be copied under name, converted to `want` when numeric (as
 * ops_out_dtype decides); NULL when out of memory. */
struct ops_item *ops_add_copy(struct ops_plan *p, const char *name, const struct ckpt_tensor *t,
                              enum ckpt_dtype want);

/* The one-input operations' start (convert, prune, extract): refuse an output that is the
 * input, then open the input into p->in[0] with the safety policy applied. */
int ops_open_single(struct ops_plan *p, const char *input, const struct ckpt_op_common *c,
                    struct ckpt_error *err);

/* Open a tensorset with the safety policy applied. */
int ops_open(struct ckpt_tensorset **ts, const char *path, const struct ckpt_op_common *c,
             struct ckpt_error *err);

#endif
