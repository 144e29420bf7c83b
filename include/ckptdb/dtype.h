/* Element types of tensors, as every reader reports them.
 *
 * Plain types are spelled as safetensors spells them (F32, F16, BF16, F8_E4M3, ...). GGUF's
 * block-quantized types keep their ggml names (Q4_0, Q8_0, Q4_K, ...) and are marked quantized:
 * their size is per block of elements, not per element. */
#ifndef CKPTDB_DTYPE_H
#define CKPTDB_DTYPE_H

#include <stddef.h>
#include <stdint.h>

enum ckpt_dtype {
    CKPT_DT_INVALID = 0,
    CKPT_DT_BOOL,
    CKPT_DT_F4,
    CKPT_DT_F6_E2M3,
    CKPT_DT_F6_E3M2,
    CKPT_DT_U8,
    CKPT_DT_I8,
    CKPT_DT_F8_E5M2,
    CKPT_DT_F8_E4M3,
    CKPT_DT_F8_E8M0,
    CKPT_DT_F8_E4M3FNUZ,
    CKPT_DT_F8_E5M2FNUZ,
    CKPT_DT_I16,
    CKPT_DT_U16,
    CKPT_DT_F16,
    CKPT_DT_BF16,
    CKPT_DT_I32,
    CKPT_DT_U32,
    CKPT_DT_F32,
    CKPT_DT_C64,
    CKPT_DT_F64,
    CKPT_DT_I64,
    CKPT_DT_U64,
    CKPT_DT_C128,
    /* ggml block-quantized types (GGUF) */
    CKPT_DT_Q4_0,
    CKPT_DT_Q4_1,
    CKPT_DT_Q5_0,
    CKPT_DT_Q5_1,
    CKPT_DT_Q8_0,
    CKPT_DT_Q8_1,
    CKPT_DT_Q2_K,
    CKPT_DT_Q3_K,
    CKPT_DT_Q4_K,
    CKPT_DT_Q5_K,
    CKPT_DT_Q6_K,
    CKPT_DT_Q8_K,
    CKPT_DT_IQ2_XXS,
    CKPT_DT_IQ2_XS,
    CKPT_DT_IQ3_XXS,
    CKPT_DT_IQ1_S,
    CKPT_DT_IQ4_NL,
    CKPT_DT_IQ3_S,
    CKPT_DT_IQ2_S,
    CKPT_DT_IQ4_XS,
    CKPT_DT_IQ1_M,
    CKPT_DT_TQ1_0,
    CKPT_DT_TQ2_0,
    CKPT_DT_MXFP4,
    CKPT_DT_COUNT
};

/* Name as printed ("F16"), or "?" for an invalid value. */
const char *ckpt_dtype_name(enum ckpt_dtype t);

/* Parse a safetensors dtype string (exact, upper case); CKPT_DT_INVALID if unknown.
 * Only plain types are accepted here (quantized ggml names are not safetensors dtypes). */
enum ckpt_dtype ckpt_dtype_from_safetensors(const char *s, size_t len);

/* Bits per element for plain types; 0 for quantized types. */
unsigned ckpt_dtype_bits(enum ckpt_dtype t);

/* For quantized types: elements per block and bytes per block; 1 and bits/8 for byte-sized plain
 * types. Returns 0 for types whose size is not a whole number of bytes per block. */
int ckpt_dtype_block(enum ckpt_dtype t, uint32_t *block_elems, uint32_t *block_bytes);

int ckpt_dtype_is_quantized(enum ckpt_dtype t);
int ckpt_dtype_is_float(enum ckpt_dtype t);

/* Byte size of n elements; returns CKPT_OK, or CKPT_E_LIMIT on overflow, CKPT_E_FORMAT when n
 * does not fill whole bytes/blocks. */
int ckpt_dtype_nbytes(enum ckpt_dtype t, uint64_t n, uint64_t *out);

#endif
