/* Internal: the identification context shared by the rule tables and the engine.
 *
 * The engine first gives every tensor a role (which component it belongs to) and the length of
 * the checkpoint prefix to strip, so rules speak of normalised keys ("input_blocks.0.0.weight")
 * whatever the layout (LDM, SGM, ComfyUI, diffusers folder, bare). Rules are rows of
 * conditions on (role, key, shape) evaluated by idc_match; adding a family is adding rows. */
#ifndef CKPTDB_IDENTIFY_IMPL_H
#define CKPTDB_IDENTIFY_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "ckptdb/identify.h"
#include "ckptdb/tensorset.h"

enum id_role {
    ROLE_OTHER = 0, /* nothing explains it: junk in a checkpoint */
    ROLE_UNET,      /* diffusion model (UNet or transformer) */
    ROLE_VAE,
    ROLE_TE,        /* CLIP-L (HF layout) or OpenCLIP-H as the only/first encoder */
    ROLE_TE_NAI,    /* CLIP-L under the old NovelAI prefix (no text_model.) */
    ROLE_OPENCLIP0, /* SGM conditioner.embedders.0.model.: bigG (refiner) or H (SD2.1-Turbo) */
    ROLE_TE2,       /* OpenCLIP bigG / CLIP-G as the second encoder */
    ROLE_T5,        /* T5-XXL */
    ROLE_EMA,
    ROLE_BUFFER,  /* LDM schedule buffers, EMA counters, logvar */
    ROLE_MARKER,  /* v_pred, ztsnr, edm_mean, edm_std */
    ROLE_DEPTH,   /* MiDaS depth model of SD2-depth */
    ROLE_UNCLIP,  /* unCLIP image embedder and noise augmentor */
    ROLE_IMGENC,  /* SVD image conditioner (OpenCLIP-H visual) */
    ROLE_CONTROL, /* control_model.* */
    ROLE_COUNT,
    ROLE_RAW = 0xfe, /* in a rule: the key is a full tensor name, no prefix */
    ROLE_MAIN = 0xff /* in a rule: the role the caller matches against */
};

struct id_ctx {
    struct ckpt_tensorset *ts;
    const struct ckpt_identify_options *opt;
    struct ckpt_identify_result *r;
    size_t n;
    uint8_t *role;   /* per tensor */
    uint16_t *strip; /* bytes of prefix to strip from the name */
    const char *prefix[ROLE_COUNT];
    size_t count[ROLE_COUNT];
    uint64_t bytes[ROLE_COUNT];
    char name_lc[512]; /* lower-case base name of the file, for hints */
    int oom;
    char kbuf[1024]; /* scratch for prefix + key */
};

/* ---- conditions and rules ------------------------------------------------------------------ */

enum id_op {
    OP_END = 0, /* unused condition slot */
    OP_HAS,     /* key present */
    OP_ABSENT,  /* key absent */
    OP_DIM,     /* key present and shape[dim] == val (dim < 0 counts from the end) */
    OP_NDIM,    /* key present and ndim == val */
    OP_ROLE,    /* role (not key) has at least one tensor */
    OP_PREFIX,  /* the role's prefix equals key */
};

struct id_cond {
    uint8_t op;
    uint8_t role;
    int8_t dim;
    int64_t val;
    const char *key;
};

#define ID_MAXC 3

struct id_rule {
    struct id_cond c[ID_MAXC];
    int value;     /* the enum value the rule decides */
    uint32_t fams; /* bitmask of families it applies to (0: any) */
    const char *why;
};

#define FAMBIT(f) (1u << (f))

const struct ckpt_tensor *idc_find(struct id_ctx *c, int role, const char *key);
/* First rule whose conditions all hold (and whose fams include fam when set), or NULL. */
const struct id_rule *idc_match(struct id_ctx *c, const struct id_rule *rules, size_t n,
                                int main_role, enum ckpt_family fam);
/* "FIELD VALUE: role key [shape] + ...: why" */
void idc_evidence_rule(struct id_ctx *c, const char *field, const char *value,
                       const struct id_rule *rule, int main_role);
void idc_evidence(struct id_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void idc_problem(struct id_ctx *c, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "[320,4,3,3]" */
void idc_shape_str(const struct ckpt_tensor *t, char *out, size_t outlen);
const char *idc_role_name(int role);
/* Case-insensitive substring test on the file's base name. */
int idc_name_has(const struct id_ctx *c, const char *needle);

/* ---- the rule tables (one file per concern) ------------------------------------------------ */

/* rules_prefix.c: roles and prefixes */
void id_assign_roles(struct id_ctx *c);

/* rules_family.c: family/variant/prediction of diffusion models (also controlnets) */
enum ckpt_family id_family_unet(struct id_ctx *c, int role);
enum ckpt_family id_family_te(struct id_ctx *c);
void id_variant(struct id_ctx *c, int role);
void id_prediction(struct id_ctx *c);
/* family from modelspec.architecture / ss_base_model_version; UNKNOWN when absent */
enum ckpt_family id_family_metadata(struct id_ctx *c, const char **why);

/* rules_kind.c: kind, and the families of the small add-on kinds */
void id_kind(struct id_ctx *c);

/* rules_lora.c: network type and family of LoRA-type files */
int id_is_lora_name(const char *name, const char **part);
size_t id_lora_count(struct id_ctx *c);
void id_lora(struct id_ctx *c);

/* problems.c: precision, components, problems */
void id_precision(struct id_ctx *c);
void id_components(struct id_ctx *c);
void id_problems(struct id_ctx *c);

/* ecosystem.c */
void id_ecosystem(struct id_ctx *c);

#endif
