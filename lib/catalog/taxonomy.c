/* The vocabulary of ../shared/TAXONOMY.md as data: the valid values of every field the catalog
 * stores or filters on, and the check that refuses anything else with the list of valid values.
 * Not for deciding values (identify, suggest.c do that). */
#include <stdio.h>
#include <string.h>

#include "catalog/internal.h"

static const char *const v_format[] = {"safetensors", "torch-zip", "torch-legacy",
                                       "gguf",        "diffusers", NULL};
static const char *const v_kind[] = {
    "checkpoint",  "diffusion-model", "vae",        "text-encoder", "lora",
    "embedding",   "hypernetwork",    "controlnet", "t2i-adapter",  "ip-adapter",
    "clip-vision", "unknown",         NULL};
static const char *const v_network[] = {"lora", "locon", "loha", "lokr",   "ia3",  "glora", "oft",
                                        "boft", "dora",  "full", "dylora", "leco", NULL};
static const char *const v_family[] = {
    "sd1",          "sd2",          "sdxl",         "sdxl-refiner",
    "sd3-medium",   "sd3.5-medium", "sd3.5-large",  "flux-dev",
    "flux-schnell", "pixart-alpha", "pixart-sigma", "cascade-b",
    "cascade-c",    "svd",          "unknown",      NULL};
static const char *const v_ecosystem[] = {"pony", "illustrious", "noobai", NULL};
static const char *const v_variant[] = {"normal", "inpaint", "pix2pix", "depth",
                                        "unclip", "fill",    "control", NULL};
static const char *const v_prediction[] = {"eps", "v", "edm", "unknown", NULL};
static const char *const v_precision[] = {"fp32",  "fp16",      "bf16", "fp8",
                                          "mixed", "quantized", NULL};
static const char *const v_origin[] = {"base", "fine-tune", "merge", "unknown", NULL};
static const char *const v_output[] = {"photorealistic", "digital-painting", "render", "anime",
                                       "illustration",   "general-purpose",  NULL};
static const char *const v_subjects[] = {"portraits", "environments", "icons",
                                         "logos",     "backgrounds",  NULL};
static const char *const v_realism[] = {"realistic", "semi-realistic", "2.8D", "2.5D", "2D", NULL};
static const char *const v_source[] = {"civitai", "huggingface", "liblib", "local", "other", NULL};
static const char *const v_safety[] = {"safe", "suspicious", "dangerous", "invalid", NULL};

static const struct {
    const char *field;
    const char *const *values;
    int list; /* comma lists allowed */
} fields[] = {
    {"format", v_format, 0},         {"kind", v_kind, 0},           {"network", v_network, 0},
    {"family", v_family, 0},         {"ecosystem", v_ecosystem, 0}, {"variant", v_variant, 0},
    {"prediction", v_prediction, 0}, {"precision", v_precision, 0}, {"origin", v_origin, 0},
    {"output", v_output, 0},         {"subjects", v_subjects, 1},   {"subject", v_subjects, 0},
    {"realism", v_realism, 1},       {"source", v_source, 0},       {"safety", v_safety, 0},
};

const char *const *ckpt_taxonomy_values(const char *field)
{
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (strcmp(fields[i].field, field) == 0)
            return fields[i].values;
    return NULL;
}

static int one(const char *const *vals, const char *v, size_t n)
{
    for (; *vals; vals++)
        if (strlen(*vals) == n && strncmp(*vals, v, n) == 0)
            return 1;
    return 0;
}

int ckpt_taxonomy_check(const char *field, const char *value, struct ckpt_error *err)
{
    const char *const *vals = NULL;
    int list = 0;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (strcmp(fields[i].field, field) == 0) {
            vals = fields[i].values;
            list = fields[i].list;
        }
    if (!vals)
        return CKPT_OK;
    const char *p = value;
    for (;;) {
        size_t n = list ? strcspn(p, ",") : strlen(p);
        if (n == 0 || !one(vals, p, n)) {
            char valid[512];
            size_t o = 0;
            for (const char *const *v = vals; *v && o < sizeof valid - 64; v++)
                o += (size_t)snprintf(valid + o, sizeof valid - o, "%s%s", v == vals ? "" : ", ",
                                      *v);
            return ckpt_error_set(err, CKPT_E_ARG, "%s: '%.*s' is not one of %s", field,
                                  (int)(n > 100 ? 100 : n), p, valid);
        }
        if (!list || !p[n])
            break;
        p += n + 1;
    }
    return CKPT_OK;
}
