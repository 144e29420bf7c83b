/* The limits every parser checks counts, lengths and sizes against.
 *
 * One struct, filled with defaults by ckpt_limits_default(); callers may tighten or loosen any
 * field (the fuzzers tighten them). Parsers take a const pointer; NULL means the defaults. */
#ifndef CKPTDB_LIMITS_H
#define CKPTDB_LIMITS_H

#include <stdint.h>

struct ckpt_limits {
    uint64_t safetensors_header_max; /* bytes of JSON header (reference: 100,000,000) */
    uint64_t max_tensors;            /* tensors in one file */
    uint64_t max_metadata;           /* metadata entries in one file */
    uint64_t max_name_len;           /* bytes of a tensor name or metadata key */
    uint64_t max_string_len;         /* bytes of one metadata value / pickle string */
    uint32_t max_dims;               /* dimensions of one tensor (<= CKPT_MAX_DIMS) */
    uint64_t pickle_max_bytes;       /* size of one pickle (data.pkl) */
    uint64_t pickle_max_ops;         /* opcodes executed in one pickle */
    uint64_t pickle_max_stack;       /* stack depth and MARK nesting */
    uint64_t pickle_max_memo;        /* memo entries */
    uint64_t pickle_max_alloc;       /* total bytes of values the pickle machine builds */
    uint64_t zip_max_entries;        /* members in a zip archive */
    uint64_t zip_max_inflate;        /* bytes one deflated member may inflate to in memory */
    uint32_t zip_max_ratio;          /* inflated/compressed ratio above which a member is refused */
    uint64_t gguf_max_kv;            /* GGUF key/value pairs */
    uint64_t gguf_max_array;         /* elements of one GGUF array */
    uint32_t gguf_max_alignment;     /* largest general.alignment accepted */
    uint64_t json_max_depth;         /* nesting of JSON documents (diffusers configs) */
};

#define CKPT_MAX_DIMS 8

void ckpt_limits_default(struct ckpt_limits *l);

/* The defaults, as a shared read-only instance (for parsers given NULL). */
const struct ckpt_limits *ckpt_limits_defaults(void);

#endif
