/* Identification: what a model file is, from names, shapes, dtypes and metadata alone.
 *
 * ckpt_identify works on any tensorset (every format reads into one), normalises the
 * checkpoint prefixes (LDM, SGM, ComfyUI, diffusers folders, bare files) and matches rule
 * tables to decide kind, LoRA network type, family, ecosystem, variant, prediction, precision,
 * components and problems. Every decided field leaves an evidence string saying which key,
 * shape or metadata decided it. The only tensor data ever read is the tiny CLIP position_ids
 * tensor (for the broken-clip-position-ids check).
 *
 * Ownership: the result is caller-owned storage filled by ckpt_identify; its strings and
 * arrays are released by ckpt_identify_result_release (safe on a zeroed or released result). */
#ifndef CKPTDB_IDENTIFY_H
#define CKPTDB_IDENTIFY_H

#include <stddef.h>
#include <stdint.h>

#include "ckptdb/error.h"

struct ckpt_tensorset;
struct ckpt_json;

enum ckpt_kind {
    CKPT_KIND_UNKNOWN = 0,
    CKPT_KIND_CHECKPOINT,
    CKPT_KIND_DIFFUSION_MODEL,
    CKPT_KIND_VAE,
    CKPT_KIND_TEXT_ENCODER,
    CKPT_KIND_LORA,
    CKPT_KIND_EMBEDDING,
    CKPT_KIND_HYPERNETWORK,
    CKPT_KIND_CONTROLNET,
    CKPT_KIND_T2I_ADAPTER,
    CKPT_KIND_IP_ADAPTER,
    CKPT_KIND_CLIP_VISION,
    CKPT_KIND_COUNT
};

enum ckpt_network {
    CKPT_NET_NONE = 0, /* not a LoRA-type file (JSON null) */
    CKPT_NET_LORA,
    CKPT_NET_LOCON,
    CKPT_NET_LOHA,
    CKPT_NET_LOKR,
    CKPT_NET_IA3,
    CKPT_NET_GLORA,
    CKPT_NET_OFT,
    CKPT_NET_BOFT,
    CKPT_NET_DORA,
    CKPT_NET_FULL,
    CKPT_NET_DYLORA,
    CKPT_NET_LECO,
    CKPT_NET_COUNT
};

enum ckpt_family {
    CKPT_FAM_UNKNOWN = 0,
    CKPT_FAM_SD1,
    CKPT_FAM_SD2,
    CKPT_FAM_SDXL,
    CKPT_FAM_SDXL_REFINER,
    CKPT_FAM_SD3_MEDIUM,
    CKPT_FAM_SD35_MEDIUM,
    CKPT_FAM_SD35_LARGE,
    CKPT_FAM_FLUX_DEV,
    CKPT_FAM_FLUX_SCHNELL,
    CKPT_FAM_PIXART_ALPHA,
    CKPT_FAM_PIXART_SIGMA,
    CKPT_FAM_CASCADE_B,
    CKPT_FAM_CASCADE_C,
    CKPT_FAM_SVD,
    CKPT_FAM_COUNT
};

enum ckpt_ecosystem {
    CKPT_ECO_NONE = 0, /* JSON null */
    CKPT_ECO_PONY,
    CKPT_ECO_ILLUSTRIOUS,
    CKPT_ECO_NOOBAI,
    CKPT_ECO_COUNT
};

enum ckpt_variant {
    CKPT_VAR_NONE = 0, /* not measured for this kind (JSON null) */
    CKPT_VAR_NORMAL,
    CKPT_VAR_INPAINT,
    CKPT_VAR_PIX2PIX,
    CKPT_VAR_DEPTH,
    CKPT_VAR_UNCLIP,
    CKPT_VAR_FILL,
    CKPT_VAR_CONTROL,
    CKPT_VAR_COUNT
};

enum ckpt_prediction {
    CKPT_PRED_UNKNOWN = 0,
    CKPT_PRED_EPS,
    CKPT_PRED_V,
    CKPT_PRED_EDM,
    CKPT_PRED_COUNT
};

enum ckpt_precision {
    CKPT_PREC_UNKNOWN = 0, /* no floating-point tensors (JSON null) */
    CKPT_PREC_FP32,
    CKPT_PREC_FP16,
    CKPT_PREC_BF16,
    CKPT_PREC_FP8,
    CKPT_PREC_MIXED,
    CKPT_PREC_QUANTIZED,
    CKPT_PREC_COUNT
};

/* Components bitset (for checkpoints; for LoRAs: the parts the network touches). */
enum {
    CKPT_COMP_UNET = 1u << 0,
    CKPT_COMP_VAE = 1u << 1,
    CKPT_COMP_TE = 1u << 2,
    CKPT_COMP_TE2 = 1u << 3,
    CKPT_COMP_TE3 = 1u << 4, /* the third encoder of SD3 (T5-XXL) */
    CKPT_COMP_EMA = 1u << 5,
};

struct ckpt_identify_problem {
    char *code;    /* "ema-present", "junk-keys", "missing-component", "precision-waste",
                      "clip-mislabelled", "broken-clip-position-ids", "unexpected-shape" */
    char *message; /* one line */
};

struct ckpt_identify_result {
    const char *format; /* static: "safetensors", ... */
    enum ckpt_kind kind;
    enum ckpt_network network;
    enum ckpt_family family;
    enum ckpt_ecosystem ecosystem;
    enum ckpt_variant variant;
    enum ckpt_prediction prediction;
    int ztsnr; /* 1 when the file marks zero-terminal-SNR training */
    enum ckpt_precision precision;
    unsigned components;
    struct ckpt_identify_problem *problems;
    size_t n_problems;
    char **evidence;
    size_t n_evidence;
    uint64_t data_bytes_read; /* tensor bytes read for problem checks (position_ids) */
};

struct ckpt_identify_options {
    /* Optional text of a sidecar JSON (Civitai .civitai.info, Stability Matrix .cm-info.json)
     * whose baseModel/BaseModel names the ecosystem. NULL: none. */
    const char *sidecar_json;
    size_t sidecar_len;
    /* File name used for name hints; NULL: the tensorset's path. */
    const char *name_hint;
    /* 1: do not read position_ids (header-only identification). */
    int no_data;
};

/* Identify ts. out is cleared first; on CKPT_OK it is filled (release it). Fails only on
 * allocation failure; an unrecognised file is kind "unknown", not an error. */
int ckpt_identify(struct ckpt_tensorset *ts, const struct ckpt_identify_options *opt,
                  struct ckpt_identify_result *out, struct ckpt_error *err);

void ckpt_identify_result_release(struct ckpt_identify_result *r);

/* The `identify --json` object of CONTRACT.md: path, format, kind, network, family,
 * ecosystem, variant, prediction, ztsnr, precision, components, problems, evidence. */
void ckpt_identify_json(const struct ckpt_identify_result *r, const char *path,
                        struct ckpt_json *j);

/* Names as TAXONOMY.md spells them; NULL for the "none" values that print as JSON null. */
const char *ckpt_kind_name(enum ckpt_kind k);
const char *ckpt_network_name(enum ckpt_network n);
const char *ckpt_family_name(enum ckpt_family f);
const char *ckpt_ecosystem_name(enum ckpt_ecosystem e);
const char *ckpt_variant_name(enum ckpt_variant v);
const char *ckpt_prediction_name(enum ckpt_prediction p);
const char *ckpt_precision_name(enum ckpt_precision p);
/* Component names, in bit order: "unet", "vae", "text-encoder", "text-encoder-2",
 * "text-encoder-3", "ema". */
const char *ckpt_component_name(unsigned bit);

#endif
