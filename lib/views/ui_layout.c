/* The UI layouts table: where A1111, Forge, ComfyUI and InvokeAI read each kind of model from,
 * the folders of each UI's tree, the file names they list and how they name previews. Sources:
 * A1111's and Forge's models/ folders and command-line dirs, ComfyUI's folder_paths.py names,
 * InvokeAI's model types (its 3.x autoimport folders; 4.x+ "scan folder, install in place"
 * probes each file, so the folders are for people). ../shared/research/catalog.md §0 has the
 * references. Not for making the links (view_sync.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ckptdb/views.h"

static const char *const ui_names[] = {"a1111", "forge", "comfyui", "invokeai"};

int ckpt_ui_parse(const char *name, enum ckpt_ui *out, struct ckpt_error *err)
{
    for (size_t i = 0; i < sizeof ui_names / sizeof ui_names[0]; i++) {
        if (name && strcmp(name, ui_names[i]) == 0) {
            *out = (enum ckpt_ui)i;
            return CKPT_OK;
        }
    }
    return ckpt_error_set(err, CKPT_E_ARG, "UI '%s' is not one of a1111, forge, comfyui, invokeai",
                          name ? name : "");
}

const char *ckpt_ui_name(enum ckpt_ui ui)
{
    return (unsigned)ui < 4 ? ui_names[ui] : "?";
}

/* kind -> folder, per UI; NULL: the UI does not load that kind (from its own folders) */
static const struct {
    const char *kind;
    const char *dir[4]; /* a1111, forge, comfyui, invokeai */
} table[] = {
    {"checkpoint",
     {"models/Stable-diffusion", "models/Stable-diffusion", "models/checkpoints", "main"}},
    /* Forge loads UNet/transformer-only files from its checkpoint folder; A1111 cannot */
    {"diffusion-model", {NULL, "models/Stable-diffusion", "models/diffusion_models", "main"}},
    {"vae", {"models/VAE", "models/VAE", "models/vae", "vae"}},
    {"text-encoder", {NULL, "models/text_encoder", "models/text_encoders", "text_encoder"}},
    /* A1111 1.5+ loads LyCORIS networks from models/Lora too */
    {"lora", {"models/Lora", "models/Lora", "models/loras", "lora"}},
    {"embedding", {"embeddings", "embeddings", "models/embeddings", "embedding"}},
    {"hypernetwork",
     {"models/hypernetworks", "models/hypernetworks", "models/hypernetworks", NULL}},
    /* the sd-webui-controlnet extension (built into Forge) reads all three from ControlNet */
    {"controlnet", {"models/ControlNet", "models/ControlNet", "models/controlnet", "controlnet"}},
    {"t2i-adapter", {"models/ControlNet", "models/ControlNet", "models/controlnet", "t2i_adapter"}},
    {"ip-adapter", {"models/ControlNet", "models/ControlNet", "models/ipadapter", "ip_adapter"}},
    {"clip-vision", {NULL, NULL, "models/clip_vision", "clip_vision"}},
};

const char *ckpt_ui_folder(enum ckpt_ui ui, const struct ckpt_model *m)
{
    if ((unsigned)ui > CKPT_UI_INVOKEAI || !m || !m->kind)
        return NULL;
    if (m->format && strcmp(m->format, "diffusers") == 0) {
        /* a diffusers folder: ComfyUI's diffusers loader and InvokeAI read it; A1111 and Forge
           load single files only */
        if (ui == CKPT_UI_COMFYUI)
            return "models/diffusers";
        if (ui == CKPT_UI_INVOKEAI)
            return strcmp(m->kind, "checkpoint") == 0 ? "main" : NULL;
        return NULL;
    }
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(table[i].kind, m->kind) == 0)
            return table[i].dir[ui];
    return NULL;
}

const char *const *ckpt_ui_folders(enum ckpt_ui ui)
{
    static const char *const a1111[] = {
        "models/Stable-diffusion", "models/Lora", "models/VAE", "models/hypernetworks",
        "models/ControlNet",       "embeddings",  NULL};
    static const char *const forge[] = {
        "models/Stable-diffusion", "models/Lora",       "models/VAE", "models/text_encoder",
        "models/hypernetworks",    "models/ControlNet", "embeddings", NULL};
    static const char *const comfyui[] = {
        "models/checkpoints", "models/diffusion_models", "models/loras",
        "models/vae",         "models/text_encoders",    "models/embeddings",
        "models/controlnet",  "models/clip_vision",      "models/hypernetworks",
        "models/ipadapter",   "models/diffusers",        NULL};
    static const char *const invokeai[] = {
        "main",        "vae",        "lora",        "embedding",    "controlnet",
        "t2i_adapter", "ip_adapter", "clip_vision", "text_encoder", NULL};
    static const char *const *const all[] = {a1111, forge, comfyui, invokeai};
    return (unsigned)ui <= CKPT_UI_INVOKEAI ? all[ui] : NULL;
}

/* extensions the UIs list (ComfyUI's folder_paths, A1111's and Stability Matrix's lists) */
static const char *const model_exts[] = {".safetensors", ".sft", ".ckpt", ".pt",
                                         ".pth",         ".bin", ".gguf"};

char *ckpt_ui_link_name(const struct ckpt_model *m)
{
    const char *path = m->path ? m->path : "";
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        n--;
    const char *base = path;
    for (size_t i = 0; i < n; i++)
        if (path[i] == '/')
            base = path + i + 1;
    size_t bn = (size_t)(path + n - base);
    const char *add = "";
    int dir = m->format && strcmp(m->format, "diffusers") == 0;
    if (!dir) {
        int known = 0;
        for (size_t i = 0; i < sizeof model_exts / sizeof model_exts[0] && !known; i++) {
            size_t el = strlen(model_exts[i]);
            known = bn > el && strncasecmp(base + bn - el, model_exts[i], el) == 0;
        }
        if (!known) {
            if (m->format && strcmp(m->format, "gguf") == 0)
                add = ".gguf";
            else if (m->format && strncmp(m->format, "torch", 5) == 0)
                add = m->kind && strcmp(m->kind, "checkpoint") == 0 ? ".ckpt" : ".pt";
            else
                add = ".safetensors";
        }
    }
    char *out;
    if (asprintf(&out, "%.*s%s", (int)bn, base, add) < 0)
        return NULL;
    return out;
}

char *ckpt_ui_preview_name(enum ckpt_ui ui, const char *link_name, const char *preview_path)
{
    if (ui == CKPT_UI_INVOKEAI || !link_name || !preview_path)
        return NULL;
    const char *slash = strrchr(preview_path, '/');
    const char *pbase = slash ? slash + 1 : preview_path;
    const char *ext = strrchr(pbase, '.');
    if (!ext)
        return NULL;
    /* the link's stem: without the model extension (a folder keeps its whole name) */
    size_t stem = strlen(link_name);
    for (size_t i = 0; i < sizeof model_exts / sizeof model_exts[0]; i++) {
        size_t el = strlen(model_exts[i]);
        size_t ln = strlen(link_name);
        if (ln > el && strcasecmp(link_name + ln - el, model_exts[i]) == 0) {
            stem = ln - el;
            break;
        }
    }
    char *out;
    /* A1111/Forge: <stem>.preview.<ext> (a user's own <stem>.png wins over it there);
       ComfyUI's model previews (app/model_manager.py: <stem>.<image ext> or
       <stem>.preview.<image ext>) and the preview nodes of its extensions read <stem>.<ext> */
    if (asprintf(&out, "%.*s%s%s", (int)stem, link_name, ui == CKPT_UI_COMFYUI ? "" : ".preview",
                 ext) < 0)
        return NULL;
    return out;
}

static void yaml_str(struct ckpt_buf *b, const char *s)
{
    ckpt_buf_putc(b, '"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            ckpt_buf_putc(b, '\\');
        ckpt_buf_putc(b, *s);
    }
    ckpt_buf_putc(b, '"');
}

void ckpt_ui_comfyui_yaml(const char *root, struct ckpt_buf *out)
{
    static const struct {
        const char *key, *dir;
    } keys[] = {
        {"checkpoints", "models/checkpoints"},
        {"diffusion_models", "models/diffusion_models"},
        {"loras", "models/loras"},
        {"vae", "models/vae"},
        {"text_encoders", "models/text_encoders"},
        {"embeddings", "models/embeddings"},
        {"controlnet", "models/controlnet"},
        {"clip_vision", "models/clip_vision"},
        {"hypernetworks", "models/hypernetworks"},
        {"ipadapter", "models/ipadapter"},
        {"diffusers", "models/diffusers"},
    };
    ckpt_buf_puts(out, "# ComfyUI extra_model_paths.yaml section for the ckptdb view at ");
    ckpt_buf_puts(out, root);
    ckpt_buf_puts(out, "\nckptdb:\n    base_path: ");
    yaml_str(out, root);
    ckpt_buf_putc(out, '\n');
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        ckpt_buf_printf(out, "    %s: %s\n", keys[i].key, keys[i].dir);
}
