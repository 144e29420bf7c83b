/* Default limits for every parser. Values are generous for real model files (an SDXL
 * checkpoint has 2,515 tensors and a ~250 KB header; a Flux GGUF ~800 tensors) and small enough
 * that a hostile file cannot make ckptdb allocate more than a few hundred MiB. */
#include "ckptdb/limits.h"

static const struct ckpt_limits defaults = {
    .safetensors_header_max = 100000000u,
    .max_tensors = 1000000u,
    .max_metadata = 1000000u,
    .max_name_len = 65536u,
    .max_string_len = 100000000u,
    .max_dims = CKPT_MAX_DIMS,
    .pickle_max_bytes = 256u << 20,
    .pickle_max_ops = 50000000u,
    .pickle_max_stack = 100000u,
    .pickle_max_memo = 10000000u,
    .pickle_max_alloc = 1024u << 20,
    .zip_max_entries = 2000000u,
    .zip_max_inflate = 256u << 20,
    .zip_max_ratio = 1000u,
    .gguf_max_kv = 1000000u,
    .gguf_max_array = 1u << 30,
    .gguf_max_alignment = 1u << 16,
    .json_max_depth = 64,
};

void ckpt_limits_default(struct ckpt_limits *l)
{
    *l = defaults;
}

const struct ckpt_limits *ckpt_limits_defaults(void)
{
    return &defaults;
}
