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

#endif
