/* Views: one collection served to every UI. A view is a folder tree in the layout a UI expects
 * (A1111/Forge, ComfyUI, InvokeAI), filled with links (symlinks, or hardlinks) to the real model
 * files the catalog knows, grouped in sub-folders by a layout template (include/ckptdb/layout.h),
 * with each model's preview (and, for A1111/Forge, the sidecars it reads) linked next to it.
 *
 * The UI tables (which folder each kind goes to, how previews are named) are
 * lib/views/ui_layout.c; the sync with its manifest is lib/views/view_sync.c.
 *
 * A view root holds a manifest (.ckptdb-view.json, written atomically) of the links ckptdb made.
 * A sync creates what is missing, repoints links whose model moved, and removes only links the
 * manifest lists that still are what ckptdb made (a symlink to the recorded target, or a
 * hardlink to the recorded inode while another name for it exists). Anything else in the view (a
 * user's own file, a link changed by hand) is left alone and reported. Real model files are
 * never opened, moved or removed, and a file `check` finds dangerous or suspicious is never
 * linked (a UI would unpickle it). */
#ifndef CKPTDB_VIEWS_H
#define CKPTDB_VIEWS_H

#include <stddef.h>

#include "ckptdb/buf.h"
#include "ckptdb/catalog.h"
#include "ckptdb/error.h"

enum ckpt_ui { CKPT_UI_A1111, CKPT_UI_FORGE, CKPT_UI_COMFYUI, CKPT_UI_INVOKEAI };

/* "a1111", "forge", "comfyui", "invokeai"; CKPT_E_ARG listing them otherwise. */
int ckpt_ui_parse(const char *name, enum ckpt_ui *out, struct ckpt_error *err);
const char *ckpt_ui_name(enum ckpt_ui ui);
/* The folder (relative to the view root) where ui reads model m from, or NULL when the UI has no
 * place for it (a kind it does not load, an unknown kind). Static storage. */
const char *ckpt_ui_folder(enum ckpt_ui ui, const struct ckpt_model *m);
/* Every folder of the UI's tree (relative), NULL-terminated: created in each view. */
const char *const *ckpt_ui_folders(enum ckpt_ui ui);

/* The name the model's link gets in a view: its file name, with the extension the UIs list
 * added when the file has none they recognise ("watercolor" -> "watercolor.safetensors").
 * malloc'd. */
char *ckpt_ui_link_name(const struct ckpt_model *m);
/* The name ui looks for a preview under, next to link_name ("x.safetensors" + ".png" ->
 * "x.preview.png" for A1111/Forge, "x.png" for ComfyUI); NULL when the UI reads no preview
 * files (InvokeAI). malloc'd. */
char *ckpt_ui_preview_name(enum ckpt_ui ui, const char *link_name, const char *preview_path);

/* An extra_model_paths.yaml section named "ckptdb" that points ComfyUI at a ComfyUI view. */
void ckpt_ui_comfyui_yaml(const char *root, struct ckpt_buf *out);

struct ckpt_view_options {
    enum ckpt_ui ui;
    const char *root;     /* the view's folder (created when missing) */
    const char *group_by; /* layout template or preset for sub-folders; NULL: none */
    int hardlink;         /* hardlinks instead of symlinks (folders are always symlinked) */
    int dry_run;          /* count and log what a sync would change; touch nothing (the root
                             need not exist) */
    /* one line per event: level 0 = a problem (foreign file left alone, link that failed),
       1 = a change (created, repointed, removed), 2 = verbose (kept, no place in this UI) */
    void (*log)(void *user, int level, const char *msg);
    void *log_user;
};

struct ckpt_view_stats {
    size_t models;   /* models placed in the view */
    size_t created;  /* links made */
    size_t updated;  /* links repointed (the model moved, or its group changed) */
    size_t kept;     /* links already right */
    size_t removed;  /* links removed (model forgotten, missing, or regrouped) */
    size_t foreign;  /* paths the view wanted that hold something ckptdb did not make */
    size_t no_place; /* models the UI has no folder for */
    size_t unsafe;   /* models not linked because check found them dangerous or suspicious */
    size_t failed;   /* links that could not be made */
};

/* Bring the view at o->root up to date with the catalog's present models. CKPT_OK when every
 * link could be made (foreign files left alone count as OK: they are reported); CKPT_E_IO when
 * some could not (the others are made, the manifest records what exists); CKPT_E_ARG for a bad
 * template or a root that is another UI's view. */
int ckpt_view_sync(struct ckpt_catalog *c, const struct ckpt_view_options *o,
                   struct ckpt_view_stats *st, struct ckpt_error *err);

#endif
