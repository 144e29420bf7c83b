/* Block weights: which merge block a checkpoint key belongs to, and the named presets.
 *
 * The mapping is SuperMerger's (research/merge.md 2.4): time_embed and label_emb belong to IN00,
 * input_blocks.N to INnn, middle_block to M00, output_blocks.N to OUTnn, the final out.* to the
 * last OUT block, and everything else (text encoders, VAE) to BASE. sd-mecha differs: it puts
 * time_embed/label_emb in BASE and gives the SDXL VAE its own block. Presets carry SuperMerger's
 * names; their values are defined here by formula (docs/merge.md lists them). Not for the merge
 * arithmetic (merge_math.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ckptdb/ops.h"

static int num_after(const char *s, const char *prefix, int *n)
{
    size_t pl = strlen(prefix);
    if (strncmp(s, prefix, pl) != 0)
        return 0;
    s += pl;
    if (*s < '0' || *s > '9')
        return 0;
    int v = 0;
    while (*s >= '0' && *s <= '9' && v < 1000)
        v = v * 10 + (*s++ - '0');
    if (*s != '.')
        return 0;
    *n = v;
    return 1;
}

int ckpt_block_of_key(const char *key, int sdxl)
{
    const char *rest = NULL;
    static const char *const prefixes[] = {"model.diffusion_model.", "diffusion_model.", NULL};
    for (int i = 0; prefixes[i]; i++)
        if (!strncmp(key, prefixes[i], strlen(prefixes[i]))) {
            rest = key + strlen(prefixes[i]);
            break;
        }
    if (!rest)
        return 0;
    int nin = sdxl ? 9 : 12, n;
    if (!strncmp(rest, "time_embed.", 11) || !strncmp(rest, "label_emb.", 10))
        return 1;
    if (num_after(rest, "input_blocks.", &n))
        return n < nin ? 1 + n : 0;
    if (!strncmp(rest, "middle_block.", 13))
        return 1 + nin;
    if (num_after(rest, "output_blocks.", &n))
        return n < nin ? 2 + nin + n : 0;
    if (!strncmp(rest, "out.", 4))
        return 1 + nin + nin;
    return 0;
}

const char *ckpt_block_name(int index, int sdxl)
{
    static const char *const sd1[CKPT_BLOCKS_SD1] = {
        "BASE",  "IN00",  "IN01",  "IN02",  "IN03",  "IN04",  "IN05",  "IN06",  "IN07",
        "IN08",  "IN09",  "IN10",  "IN11",  "M00",   "OUT00", "OUT01", "OUT02", "OUT03",
        "OUT04", "OUT05", "OUT06", "OUT07", "OUT08", "OUT09", "OUT10", "OUT11"};
    static const char *const xl[CKPT_BLOCKS_SDXL] = {
        "BASE", "IN00",  "IN01",  "IN02",  "IN03",  "IN04",  "IN05",  "IN06",  "IN07",  "IN08",
        "M00",  "OUT00", "OUT01", "OUT02", "OUT03", "OUT04", "OUT05", "OUT06", "OUT07", "OUT08"};
    if (sdxl)
        return index >= 0 && index < CKPT_BLOCKS_SDXL ? xl[index] : "?";
    return index >= 0 && index < CKPT_BLOCKS_SD1 ? sd1[index] : "?";
}

/* Presets over the 25 UNet positions x = 0 (IN00) .. 24 (OUT11), M00 at 12; BASE separately. */
enum {
    P_ALL_A,
    P_ALL_B,
    P_FLAT_25,
    P_FLAT_75,
    P_GRAD_V,
    P_GRAD_A,
    P_SMOOTHSTEP,
    P_COSINE,
    P_REVERSE_COSINE,
    P_IN_ONLY,
    P_OUT_ONLY,
    P_MID_ONLY,
    P_COUNT
};
static const char *const names[] = {
    "ALL_A",  "ALL_B",          "FLAT_25", "FLAT_75",  "GRAD_V",   "GRAD_A", "SMOOTHSTEP",
    "COSINE", "REVERSE_COSINE", "IN_ONLY", "OUT_ONLY", "MID_ONLY", NULL};

const char *const *ckpt_blocks_preset_names(void)
{
    return names;
}

int ckpt_blocks_preset(const char *name, double out[CKPT_BLOCKS_SD1], struct ckpt_error *err)
{
    int id = -1;
    for (int i = 0; names[i]; i++)
        if (!strcasecmp(name, names[i]))
            id = i;
    if (id < 0) {
        char list[256] = "";
        for (int i = 0; names[i]; i++) {
            strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
            strncat(list, names[i], sizeof list - strlen(list) - 1);
        }
        return ckpt_error_set(err, CKPT_E_NOTFOUND, "unknown block preset '%s' (presets: %s)", name,
                              list);
    }
    const double pi = 3.14159265358979323846;
    double base = 0.5;
    for (int x = 0; x < 25; x++) {
        double t = x / 24.0, d = fabs((double)x - 12.0) / 12.0, v = 0;
        switch (id) {
        case P_ALL_A:
            v = 0;
            break;
        case P_ALL_B:
            v = 1;
            break;
        case P_FLAT_25:
            v = 0.25;
            break;
        case P_FLAT_75:
            v = 0.75;
            break;
        case P_GRAD_V:
            v = d;
            break; /* 1 at IN00 and OUT11, 0 at M00 */
        case P_GRAD_A:
            v = 1 - d;
            break; /* 0 at the ends, 1 at M00 */
        case P_SMOOTHSTEP:
            v = t * t * (3 - 2 * t);
            break;
        case P_COSINE:
            v = (1 - cos(pi * t)) / 2;
            break;
        case P_REVERSE_COSINE:
            v = (1 + cos(pi * t)) / 2;
            break;
        case P_IN_ONLY:
            v = x < 12;
            break;
        case P_OUT_ONLY:
            v = x > 12;
            break;
        case P_MID_ONLY:
            v = x == 12;
            break;
        }
        out[1 + x] = v;
    }
    if (id == P_ALL_A)
        base = 0;
    else if (id == P_ALL_B)
        base = 1;
    else if (id == P_FLAT_25)
        base = 0.25;
    else if (id == P_FLAT_75)
        base = 0.75;
    else if (id >= P_IN_ONLY)
        base = 0;
    out[0] = base;
    return CKPT_OK;
}
