/* Making new checkpoints by streaming: merge, convert, prune, extract, bake.
 *
 * Every operation reads its inputs (any format the tensorset readers open) tensor by tensor, in
 * chunks, computes in float64, rounds once (round-to-nearest-even) to the output dtype and streams
 * the result into a safetensors file written atomically (temporary file, fsync, rename): memory
 * stays at a few tensors' worth whatever the model size, and a failed or interrupted run leaves no
 * output. The output's __metadata__ records the recipe (A1111's sd_merge_recipe and
 * sd_merge_models keyed by sha256, modelspec fields, and ckptdb's own "ckptdb.recipe" JSON).
 *
 * Ownership: options are caller-owned and only read. A report filled by a call owns its strings;
 * release it with ckpt_op_report_release (safe on a zeroed or released report). */
#ifndef CKPTDB_OPS_H
#define CKPTDB_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "ckptdb/dtype.h"
#include "ckptdb/error.h"
#include "ckptdb/limits.h"

enum ckpt_merge_method {
    CKPT_MERGE_WEIGHTED_SUM = 1, /* (1-a)A + aB (A1111's multiplier; ComfyUI ratio = 1-a) */
    CKPT_MERGE_ADD_DIFFERENCE,   /* A + a(B - C) */
    CKPT_MERGE_TRIPLE_SUM,       /* (1-a-b)A + aB + bC */
    CKPT_MERGE_TIES,             /* C + a * TIES(A-C, B-C; keep top k, elect sign by mass) */
    CKPT_MERGE_DARE,             /* C + a * (drop_p(A-C) + drop_p(B-C)), survivors / (1-p) */
};

/* "weighted-sum", "add-difference", "triple-sum", "ties", "dare". */
const char *ckpt_merge_method_name(enum ckpt_merge_method m);
/* CKPT_E_ARG with the list of valid names for an unknown one. */
int ckpt_merge_method_parse(const char *s, enum ckpt_merge_method *out, struct ckpt_error *err);
/* Number of models the method needs (2 or 3). */
int ckpt_merge_method_inputs(enum ckpt_merge_method m);

/* Progress: tensors and output bytes done so far, and their totals. Nonzero cancels the run
 * (CKPT_E_CANCELLED, no output file). */
typedef int (*ckpt_op_progress_fn)(void *user, uint64_t tensors_done, uint64_t tensors_total,
                                   uint64_t bytes_done, uint64_t bytes_total);

/* What every operation shares. */
struct ckpt_op_common {
    const char *output;    /* the safetensors file to create */
    int force;             /* replace an existing output (never an input) */
    enum ckpt_dtype dtype; /* F16, BF16, F32 for floating tensors; CKPT_DT_INVALID: keep */
    int no_hash;           /* 1: do not hash inputs for the recipe (sha256 fields are null) */
    int trust;             /* 1: accept inputs whose safety verdict (safety.h) is not safe */
    ckpt_op_progress_fn progress;
    void *progress_user;
    const struct ckpt_limits *limits; /* NULL: defaults */
};

/* What a run did, for the CLI to print. */
struct ckpt_op_report {
    uint64_t tensors_in;   /* tensors in the (first) input */
    uint64_t tensors_out;  /* tensors written */
    uint64_t merged;       /* tensors computed from several inputs (or baked) */
    uint64_t copied;       /* tensors copied from one input (possibly converted) */
    uint64_t dropped;      /* input tensors not written */
    uint64_t input_bytes;  /* size of the (first) input file */
    uint64_t output_bytes; /* size of the file written */
    uint64_t only_b;       /* merge: keys only in B (not written), see only_b_names */
    char **only_b_names;   /* the first few of them */
    size_t n_only_b_names;
    uint64_t position_ids_fixed; /* position_ids written as exact integers that were not */
    uint64_t vae_replaced;       /* tensors taken from --vae */
    uint64_t lora_modules;       /* bake: modules applied */
    uint64_t lora_unmatched;     /* bake: modules with no target in the checkpoint */
    char **notes;                /* one-line remarks (inpainting handling, ...) */
    size_t n_notes;
    char family[32];    /* family of the (first) input, "" if unknown */
    char sha256[4][65]; /* inputs' sha256 ("" when not hashed) */
};

void ckpt_op_report_release(struct ckpt_op_report *r);

/* Component bits as identify.h defines them (CKPT_COMP_UNET, _VAE, _TE, _TE2); parse
 * "unet,text-encoder,text-encoder-2,vae" (CKPT_E_ARG names the valid ones). */
int ckpt_components_parse(const char *list, unsigned *mask, struct ckpt_error *err);

/* ---- merge ----------------------------------------------------------------------------------- */

#define CKPT_BLOCKS_SD1 26  /* BASE, IN00-IN11, M00, OUT00-OUT11 */
#define CKPT_BLOCKS_SDXL 20 /* BASE, IN00-IN08, M00, OUT00-OUT08 */
#define CKPT_BLOCKS_MAX 26

struct ckpt_merge_options {
    struct ckpt_op_common c;
    const char *inputs[3]; /* A, B, C */
    size_t n_inputs;
    enum ckpt_merge_method method;
    double alpha, beta;
    double ties_k; /* TIES: fraction of each task vector kept (top |delta|), (0,1]; 0 -> 0.2 */
    double dare_p; /* DARE: drop probability [0,1); */
    uint64_t seed; /* DARE: seed of the deterministic per-element draw */
    const double *blocks; /* per-block alpha (26 SD1/SD2, 20 SDXL, or 26 cut to 20 for SDXL) */
    size_t n_blocks;
    const char *blocks_name; /* the preset's name, for the recipe (or NULL) */
    unsigned components;     /* 0: unet + text encoders + vae; others are copied from A */
    const char *exclude;     /* POSIX extended regex: matching keys are copied from A */
    const char *vae;         /* a VAE file baked into the output */
};

int ckpt_merge(const struct ckpt_merge_options *o, struct ckpt_op_report *rep,
               struct ckpt_error *err);

/* Block presets (names as SuperMerger's, values as docs/merge.md defines them): fills out[26]
 * (SD1 order); CKPT_E_NOTFOUND lists the names. */
int ckpt_blocks_preset(const char *name, double out[CKPT_BLOCKS_SD1], struct ckpt_error *err);
const char *const *ckpt_blocks_preset_names(void);
/* Block index of a checkpoint key (0 = BASE), SuperMerger's mapping; sdxl selects the 20-block
 * layout. Names are "BASE", "IN00", ..., "M00", "OUT00", ... */
int ckpt_block_of_key(const char *key, int sdxl);
const char *ckpt_block_name(int index, int sdxl);

/* ---- convert, prune, extract ----------------------------------------------------------------- */

struct ckpt_convert_options {
    struct ckpt_op_common c;
    const char *input;
};
int ckpt_convert(const struct ckpt_convert_options *o, struct ckpt_op_report *rep,
                 struct ckpt_error *err);

struct ckpt_prune_options {
    struct ckpt_op_common c;
    const char *input;
    int ema_only; /* the EMA weights become the model weights */
    int keep_ema; /* keep model_ema.* (still drops junk and training state) */
};
int ckpt_prune(const struct ckpt_prune_options *o, struct ckpt_op_report *rep,
               struct ckpt_error *err);

struct ckpt_extract_options {
    struct ckpt_op_common c;
    const char *input;
    unsigned component; /* one of CKPT_COMP_UNET, _VAE, _TE, _TE2 */
};
int ckpt_extract(const struct ckpt_extract_options *o, struct ckpt_op_report *rep,
                 struct ckpt_error *err);

/* ---- bake ------------------------------------------------------------------------------------ */

struct ckpt_bake_lora {
    const char *path;
    double weight;
};

struct ckpt_bake_options {
    struct ckpt_op_common c;
    const char *input;
    const char *vae; /* may be NULL */
    const struct ckpt_bake_lora *loras;
    size_t n_loras;
};
int ckpt_bake(const struct ckpt_bake_options *o, struct ckpt_op_report *rep,
              struct ckpt_error *err);

#endif
