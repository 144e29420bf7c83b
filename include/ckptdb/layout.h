/* Layout templates: the folder a catalogued model belongs in, computed from the catalog's facts.
 * `organize` moves files into these folders, `views` groups links by them.
 *
 * A template is a '/'-separated relative path whose components mix literal text and fields in
 * braces: "{output|unsorted}/{realism}", "{family}-{kind}". Fields:
 *   kind family ecosystem   measured by identify (facts, so they count even though the user
 *                           never chose them)
 *   origin output realism   chosen by the user (realism/subject: the first value of the list);
 *   subject source          suggestions never count: a folder never shows a guess as chosen
 *   name                    the model's name in the catalog
 *   a1111                   the folder A1111/Forge keeps this kind in, relative to the webui
 *                           root ("models/Stable-diffusion", "models/Lora", "embeddings", ...);
 *                           it must be a component on its own and may expand to several
 * "{f|fallback}" gives the literal fallback when the field is empty. A component that expands to
 * nothing is dropped, so "{output}/{realism}" gives "anime" for a model without realism.
 *
 * Each expanded component is made safe on every filesystem the UIs run on (ext4, APFS, NTFS,
 * exFAT, SMB shares): '/', '\\', NUL, control characters, the Windows-reserved characters
 * <>:"|?* and invalid UTF-8 become '_'; leading/trailing spaces and trailing dots are trimmed;
 * "." and ".." become empty; Windows device names (CON, PRN, AUX, NUL, COM1-9, LPT1-9, with or
 * without an extension) get a trailing '_'; a component is cut to CKPT_LAYOUT_COMPONENT_MAX bytes
 * at a character boundary.
 *
 * Presets (ckpt_layout_presets): "by-output", "by-output-realism", "by-family-output", "a1111".
 *
 * Ownership: ckpt_layout_compile returns an owned handle freed by ckpt_layout_free (NULL is a
 * no-op). ckpt_layout_expand returns a malloc'd string; free() it. */
#ifndef CKPTDB_LAYOUT_H
#define CKPTDB_LAYOUT_H

#include "ckptdb/catalog.h"
#include "ckptdb/error.h"

#define CKPT_LAYOUT_COMPONENT_MAX 96

struct ckpt_layout; /* a compiled template */

/* TEMPLATE: "{output|unsorted}/{realism}" etc., or a preset name (listed by
 * ckpt_layout_presets()). An unknown field, an unclosed brace, a literal that is not a safe path
 * component, or an absolute path give CKPT_E_ARG (the library's usage error) with a message
 * listing the valid fields. */
int ckpt_layout_compile(const char *template_or_preset, struct ckpt_layout **out,
                        struct ckpt_error *err);
/* Relative folder path for model m (no leading/trailing '/'; "" allowed); each expanded component
 * sanitised as described above. malloc'd. */
int ckpt_layout_expand(const struct ckpt_layout *l, const struct ckpt_model *m, char **out,
                       struct ckpt_error *err);
void ckpt_layout_free(struct ckpt_layout *l);
/* NULL-terminated preset names. */
const char *const *ckpt_layout_presets(void);
/* The template a preset name stands for, or NULL when name is not a preset. */
const char *ckpt_layout_preset_template(const char *name);
/* The template text the layout was compiled from (a preset is resolved). Borrowed. */
const char *ckpt_layout_template(const struct ckpt_layout *l);

#endif
