/* The dtype table: names, sizes and block geometry of every element type a reader reports.
 * Not for conversion between types (see lib/ops). */
#include "ckptdb/dtype.h"

#include <string.h>

#include "ckptdb/error.h"

struct dtype_info {
    const char *name;
    unsigned bits;        /* plain types */
    uint32_t block_elems; /* quantized types */
    uint32_t block_bytes;
    int is_float;
    int safetensors;
};

static const struct dtype_info table[CKPT_DT_COUNT] = {
    [CKPT_DT_INVALID] = {"?", 0, 0, 0, 0, 0},
    [CKPT_DT_BOOL] = {"BOOL", 8, 0, 0, 0, 1},
    [CKPT_DT_F4] = {"F4", 4, 0, 0, 1, 1},
    [CKPT_DT_F6_E2M3] = {"F6_E2M3", 6, 0, 0, 1, 1},
    [CKPT_DT_F6_E3M2] = {"F6_E3M2", 6, 0, 0, 1, 1},
    [CKPT_DT_U8] = {"U8", 8, 0, 0, 0, 1},
    [CKPT_DT_I8] = {"I8", 8, 0, 0, 0, 1},
    [CKPT_DT_F8_E5M2] = {"F8_E5M2", 8, 0, 0, 1, 1},
    [CKPT_DT_F8_E4M3] = {"F8_E4M3", 8, 0, 0, 1, 1},
    [CKPT_DT_F8_E8M0] = {"F8_E8M0", 8, 0, 0, 1, 1},
    [CKPT_DT_F8_E4M3FNUZ] = {"F8_E4M3FNUZ", 8, 0, 0, 1, 1},
    [CKPT_DT_F8_E5M2FNUZ] = {"F8_E5M2FNUZ", 8, 0, 0, 1, 1},
    [CKPT_DT_I16] = {"I16", 16, 0, 0, 0, 1},
    [CKPT_DT_U16] = {"U16", 16, 0, 0, 0, 1},
    [CKPT_DT_F16] = {"F16", 16, 0, 0, 1, 1},
    [CKPT_DT_BF16] = {"BF16", 16, 0, 0, 1, 1},
    [CKPT_DT_I32] = {"I32", 32, 0, 0, 0, 1},
    [CKPT_DT_U32] = {"U32", 32, 0, 0, 0, 1},
    [CKPT_DT_F32] = {"F32", 32, 0, 0, 1, 1},
    [CKPT_DT_C64] = {"C64", 64, 0, 0, 1, 1},
    [CKPT_DT_F64] = {"F64", 64, 0, 0, 1, 1},
    [CKPT_DT_I64] = {"I64", 64, 0, 0, 0, 1},
    [CKPT_DT_U64] = {"U64", 64, 0, 0, 0, 1},
    [CKPT_DT_C128] = {"C128", 128, 0, 0, 1, 0},
    [CKPT_DT_Q4_0] = {"Q4_0", 0, 32, 18, 1, 0},
    [CKPT_DT_Q4_1] = {"Q4_1", 0, 32, 20, 1, 0},
    [CKPT_DT_Q5_0] = {"Q5_0", 0, 32, 22, 1, 0},
    [CKPT_DT_Q5_1] = {"Q5_1", 0, 32, 24, 1, 0},
    [CKPT_DT_Q8_0] = {"Q8_0", 0, 32, 34, 1, 0},
    [CKPT_DT_Q8_1] = {"Q8_1", 0, 32, 36, 1, 0},
    [CKPT_DT_Q2_K] = {"Q2_K", 0, 256, 84, 1, 0},
    [CKPT_DT_Q3_K] = {"Q3_K", 0, 256, 110, 1, 0},
    [CKPT_DT_Q4_K] = {"Q4_K", 0, 256, 144, 1, 0},
    [CKPT_DT_Q5_K] = {"Q5_K", 0, 256, 176, 1, 0},
    [CKPT_DT_Q6_K] = {"Q6_K", 0, 256, 210, 1, 0},
    [CKPT_DT_Q8_K] = {"Q8_K", 0, 256, 292, 1, 0},
    [CKPT_DT_IQ2_XXS] = {"IQ2_XXS", 0, 256, 66, 1, 0},
    [CKPT_DT_IQ2_XS] = {"IQ2_XS", 0, 256, 74, 1, 0},
    [CKPT_DT_IQ3_XXS] = {"IQ3_XXS", 0, 256, 98, 1, 0},
    [CKPT_DT_IQ1_S] = {"IQ1_S", 0, 256, 50, 1, 0},
    [CKPT_DT_IQ4_NL] = {"IQ4_NL", 0, 32, 18, 1, 0},
    [CKPT_DT_IQ3_S] = {"IQ3_S", 0, 256, 110, 1, 0},
    [CKPT_DT_IQ2_S] = {"IQ2_S", 0, 256, 82, 1, 0},
    [CKPT_DT_IQ4_XS] = {"IQ4_XS", 0, 256, 136, 1, 0},
    [CKPT_DT_IQ1_M] = {"IQ1_M", 0, 256, 56, 1, 0},
    [CKPT_DT_TQ1_0] = {"TQ1_0", 0, 256, 54, 1, 0},
    [CKPT_DT_TQ2_0] = {"TQ2_0", 0, 256, 66, 1, 0},
    [CKPT_DT_MXFP4] = {"MXFP4", 0, 32, 17, 1, 0},
};

const char *ckpt_dtype_name(enum ckpt_dtype t)
{
    if ((unsigned)t >= CKPT_DT_COUNT)
        return "?";
    return table[t].name;
}

enum ckpt_dtype ckpt_dtype_from_safetensors(const char *s, size_t len)
{
    /* the common ones first: this runs once per tensor of every header */
    if (len == 3 && s[0] == 'F') {
        if (s[1] == '1' && s[2] == '6')
            return CKPT_DT_F16;
        if (s[1] == '3' && s[2] == '2')
            return CKPT_DT_F32;
    } else if (len == 4 && !memcmp(s, "BF16", 4)) {
        return CKPT_DT_BF16;
    }
    for (int t = 1; t < CKPT_DT_COUNT; t++) {
        if (!table[t].safetensors)
            continue;
        const char *n = table[t].name;
        if (strlen(n) == len && memcmp(n, s, len) == 0)
            return (enum ckpt_dtype)t;
    }
    return CKPT_DT_INVALID;
}

unsigned ckpt_dtype_bits(enum ckpt_dtype t)
{
    if ((unsigned)t >= CKPT_DT_COUNT)
        return 0;
    return table[t].bits;
}

int ckpt_dtype_block(enum ckpt_dtype t, uint32_t *block_elems, uint32_t *block_bytes)
{
    if ((unsigned)t >= CKPT_DT_COUNT || t == CKPT_DT_INVALID)
        return 0;
    if (table[t].block_elems) {
        *block_elems = table[t].block_elems;
        *block_bytes = table[t].block_bytes;
        return 1;
    }
    if (table[t].bits % 8)
        return 0;
    *block_elems = 1;
    *block_bytes = table[t].bits / 8;
    return 1;
}

int ckpt_dtype_is_quantized(enum ckpt_dtype t)
{
    return (unsigned)t < CKPT_DT_COUNT && table[t].block_elems != 0;
}

int ckpt_dtype_is_float(enum ckpt_dtype t)
{
    return (unsigned)t < CKPT_DT_COUNT && table[t].is_float;
}

int ckpt_dtype_nbytes(enum ckpt_dtype t, uint64_t n, uint64_t *out)
{
    if ((unsigned)t >= CKPT_DT_COUNT || t == CKPT_DT_INVALID)
        return CKPT_E_ARG;
    if (table[t].block_elems) {
        if (n % table[t].block_elems)
            return CKPT_E_FORMAT;
        uint64_t blocks = n / table[t].block_elems;
        if (__builtin_mul_overflow(blocks, (uint64_t)table[t].block_bytes, out))
            return CKPT_E_LIMIT;
        return CKPT_OK;
    }
    uint64_t bits;
    if (__builtin_mul_overflow(n, (uint64_t)table[t].bits, &bits))
        return CKPT_E_LIMIT;
    if (bits % 8)
        return CKPT_E_FORMAT;
    *out = bits / 8;
    return CKPT_OK;
}
