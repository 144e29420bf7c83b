/* Rule table: the ecosystem (Pony, Illustrious, NoobAI) of an SDXL-family file.
 *
 * These lineages are plain SDXL fine-tunes: no key or shape shows them (identify.md §4.8). The
 * sources, strongest first: a Civitai / Stability Matrix sidecar's baseModel, then metadata
 * that names the base (modelspec title/description/tags, kohya ss_sd_model_name and
 * ss_output_name), then the file name. Matching is case-insensitive on whole-ish words
 * ("ponytail" is not Pony). Only for families that can be SDXL (sdxl or unknown). */
#include <ctype.h>
#include <jansson.h>
#include <string.h>

#include "identify_impl.h"

static const struct {
    const char *needle;
    const char *unless; /* a longer word that contains needle but means something else */
    enum ckpt_ecosystem eco;
} words[] = {
    {"noobai", NULL, CKPT_ECO_NOOBAI},           {"noob", NULL, CKPT_ECO_NOOBAI},
    {"illustrious", NULL, CKPT_ECO_ILLUSTRIOUS}, {"ilxl", NULL, CKPT_ECO_ILLUSTRIOUS},
    {"pony", "ponytail", CKPT_ECO_PONY},
};

static enum ckpt_ecosystem match_text(const char *s, size_t len, const char **which)
{
    char low[1024];
    if (len >= sizeof low)
        len = sizeof low - 1;
    for (size_t i = 0; i < len; i++)
        low[i] = (char)tolower((unsigned char)s[i]);
    low[len] = 0;
    for (size_t i = 0; i < sizeof words / sizeof *words; i++) {
        const char *p = low;
        while ((p = strstr(p, words[i].needle)) != NULL) {
            if (!words[i].unless || strncmp(p, words[i].unless, strlen(words[i].unless))) {
                *which = words[i].needle;
                return words[i].eco;
            }
            p++;
        }
    }
    return CKPT_ECO_NONE;
}

static enum ckpt_ecosystem from_sidecar(struct id_ctx *c)
{
    if (!c->opt->sidecar_json || !c->opt->sidecar_len)
        return CKPT_ECO_NONE;
    json_error_t jerr;
    json_t *root = json_loadb(c->opt->sidecar_json, c->opt->sidecar_len, 0, &jerr);
    if (!root)
        return CKPT_ECO_NONE;
    enum ckpt_ecosystem e = CKPT_ECO_NONE;
    static const char *const keys[] = {"baseModel", "BaseModel", NULL};
    for (int i = 0; keys[i] && e == CKPT_ECO_NONE; i++) {
        json_t *v = json_is_object(root) ? json_object_get(root, keys[i]) : NULL;
        if (!json_is_string(v))
            continue;
        const char *which;
        e = match_text(json_string_value(v), json_string_length(v), &which);
        if (e)
            idc_evidence(c, "ecosystem %s: sidecar %s = \"%s\"", ckpt_ecosystem_name(e), keys[i],
                         json_string_value(v));
    }
    json_decref(root);
    return e;
}

void id_ecosystem(struct id_ctx *c)
{
    struct ckpt_identify_result *r = c->r;
    r->ecosystem = CKPT_ECO_NONE;
    if (r->family != CKPT_FAM_SDXL && r->family != CKPT_FAM_UNKNOWN)
        return;
    if (r->kind == CKPT_KIND_UNKNOWN)
        return;
    r->ecosystem = from_sidecar(c);
    if (r->ecosystem)
        return;
    static const char *const meta_keys[] = {"modelspec.title",
                                            "modelspec.tags",
                                            "modelspec.description",
                                            "ss_sd_model_name",
                                            "ss_output_name",
                                            "ss_training_comment",
                                            NULL};
    for (int i = 0; meta_keys[i]; i++) {
        const char *v = ckpt_tensorset_meta_get(c->ts, meta_keys[i]);
        const char *which;
        if (v && (r->ecosystem = match_text(v, strlen(v), &which)) != CKPT_ECO_NONE) {
            idc_evidence(c, "ecosystem %s: metadata %s mentions '%s'",
                         ckpt_ecosystem_name(r->ecosystem), meta_keys[i], which);
            return;
        }
    }
    const char *which;
    r->ecosystem = match_text(c->name_lc, strlen(c->name_lc), &which);
    if (r->ecosystem)
        idc_evidence(c, "ecosystem %s: file name contains '%s' (no structural signal exists)",
                     ckpt_ecosystem_name(r->ecosystem), which);
}
