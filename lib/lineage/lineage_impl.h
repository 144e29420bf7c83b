/* Internal: the in-memory fingerprint shared by the lineage modules (compute, store, compare,
 * fit). Not part of the public face. */
#ifndef CKPTDB_LINEAGE_IMPL_H
#define CKPTDB_LINEAGE_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "ckptdb/lineage.h"

#define LIN_FOLD 32 /* the pre-filter's folded sketch length per block */

enum lin_comp { LC_UNET, LC_VAE, LC_TE, LC_TE2, LC_TE3, LC_OTHER, LC_COUNT };

struct lin_block {
    char name[8];
    uint16_t rank; /* canonical order */
    uint8_t comp;  /* enum lin_comp */
    double floor2; /* expected squared norm of the stored precision's rounding noise in sketch */
    double sumsq;  /* squared norm of the sketched elements */
    uint64_t nsampled;
    uint64_t digest; /* identity of the block's tensors (names and digests) */
    float sketch[CKPT_LINEAGE_K];
    float fold[LIN_FOLD]; /* sketch folded to LIN_FOLD buckets (derived on load) */
};

struct lin_tensor {
    uint64_t name_hash, digest, numel;
    double mean, std, l2, absmax;
    uint16_t block; /* index into blocks, or 0xffff when not sketched */
    uint8_t comp;
    uint8_t dtype;
};

struct ckpt_lineage_fp {
    int family; /* enum ckpt_family */
    char *label;
    struct lin_block *blocks;
    size_t nb;
    struct lin_tensor *tensors; /* sorted by name_hash */
    size_t nt;
    uint64_t comp_digest[LC_COUNT];
};

uint64_t lin_hash_str(const char *s, size_t n);
uint64_t lin_mix64(uint64_t x);
const char *lin_comp_name(unsigned comp);
/* Sort tensors, derive block and component digests and folded sketches (after compute/load). */
void lin_fp_derive(struct ckpt_lineage_fp *fp);
/* Index of block `name` in fp, or -1. */
long lin_fp_find_block(const struct ckpt_lineage_fp *fp, const char *name);

/* A run of one tensor's elements through the kernel (kernel.c). */
struct lin_run {
    uint64_t seed;      /* the tensor's normalised-name hash */
    uint64_t chunk0;    /* index of the first 64-element chunk of the run */
    int sample_all;     /* sketch every chunk (small tensors) */
    double *acc;        /* the block's CKPT_LINEAGE_K accumulators */
    double kappa;       /* expected squared rounding error per x^2 of the dtype */
    double sum, sumsq;  /* the tensor's running sums (continued, never restarted, so
                           the result does not depend on how the bytes were split) */
    double ssq, floor2; /* the block's: squares of the sketched elements, their floor */
    float amax;
    uint64_t nsampled;
};
void lin_kernel_init(void);
/* n elements of dtype (F16, BF16, F32, F64) at p, starting at a chunk boundary; n is a multiple
 * of 64 unless the run ends the tensor. */
void lin_kernel(int dtype, const uint8_t *p, uint64_t n, struct lin_run *r);
extern int lin_kernel_portable_only; /* tests: force the portable loop */

#endif
