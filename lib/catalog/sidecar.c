/* Sidecar files the popular tools write next to a model, read into facts: Civitai Helper's
 * <name>.civitai.info (Civitai's model-version object), Stability Matrix's <name>.cm-info.json,
 * A1111's <name>.json user metadata, <name>.yaml configs, <name>.txt / <name>.description.txt,
 * and preview images. Every sidecar is optional and may be malformed: a bad one is ignored (its
 * path is still recorded). Not for deciding what the facts mean (suggest.c). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "catalog/internal.h"
#include "ckptdb/buf.h"

#define SIDECAR_MAX (4u << 20) /* a sidecar larger than this is not one a tool wrote */

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (off_t)SIDECAR_MAX) {
        fclose(f);
        return NULL;
    }
    char *d = malloc((size_t)st.st_size + 1);
    size_t n = d ? fread(d, 1, (size_t)st.st_size, f) : 0;
    fclose(f);
    if (!d)
        return NULL;
    d[n] = 0;
    *len = n;
    return d;
}

static int exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* case-insensitive object lookup (Civitai spells keys camelCase, Stability Matrix PascalCase) */
static json_t *jget(json_t *o, const char *key)
{
    if (!json_is_object(o))
        return NULL;
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        if (strcasecmp(k, key) == 0)
            return v;
    }
    return NULL;
}

static void set_str(char **dst, json_t *v)
{
    if (*dst || !v)
        return;
    if (json_is_string(v) && json_string_length(v) > 0)
        *dst = strndup(json_string_value(v), json_string_length(v));
    else if (json_is_integer(v)) {
        char tmp[32];
        snprintf(tmp, sizeof tmp, "%lld", (long long)json_integer_value(v));
        *dst = strdup(tmp);
    }
}

/* a JSON array of strings (or one string) joined with ", " */
static void set_list(char **dst, json_t *v)
{
    if (*dst || !v)
        return;
    if (json_is_string(v)) {
        set_str(dst, v);
        return;
    }
    if (!json_is_array(v) || json_array_size(v) == 0)
        return;
    struct ckpt_buf b = {0};
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e)
    {
        const char *s = json_is_string(e) ? json_string_value(e) : NULL;
        if (!s && json_is_object(e)) /* Civitai tag objects: {"name": ...} */
            s = json_string_value(jget(e, "name"));
        if (!s || !*s)
            continue;
        if (b.len)
            ckpt_buf_puts(&b, ", ");
        ckpt_buf_puts(&b, s);
    }
    if (b.len && !b.oom)
        *dst = strdup(ckpt_buf_cstr(&b));
    ckpt_buf_free(&b);
}

static void add_path(struct ckpt_buf *b, struct ckpt_json *j, const char *kind, const char *p)
{
    (void)b;
    ckpt_json_key(j, kind);
    ckpt_json_str(j, p);
}

static void read_civitai(struct ckpt_sidecar_facts *f, json_t *root, const char *text)
{
    if (!json_is_object(root) || json_object_size(root) == 0)
        return; /* Civitai Helper writes {} when Civitai does not know the file */
    json_t *model = jget(root, "model");
    if (!f->civitai_json)
        f->civitai_json = strdup(text);
    set_str(&f->name, jget(model, "name"));
    set_str(&f->type, jget(model, "type"));
    set_str(&f->checkpoint_type, jget(model, "checkpointType"));
    set_str(&f->checkpoint_type, jget(root, "checkpointType"));
    set_str(&f->base_model, jget(root, "baseModel"));
    set_list(&f->trigger_words, jget(root, "trainedWords"));
    set_list(&f->tags, jget(model, "tags"));
    set_list(&f->tags, jget(root, "tags"));
    set_str(&f->description, jget(model, "description"));
    set_str(&f->description, jget(root, "description"));
    json_t *mid = jget(root, "modelId"), *vid = jget(root, "id");
    if (!f->source_url && json_is_integer(mid)) {
        if (json_is_integer(vid)) {
            if (asprintf(&f->source_url, "https://civitai.com/models/%lld?modelVersionId=%lld",
                         (long long)json_integer_value(mid),
                         (long long)json_integer_value(vid)) < 0)
                f->source_url = NULL;
        } else if (asprintf(&f->source_url, "https://civitai.com/models/%lld",
                            (long long)json_integer_value(mid)) < 0) {
            f->source_url = NULL;
        }
    }
    if (!f->source)
        f->source = strdup("civitai");
}

static void read_cminfo(struct ckpt_sidecar_facts *f, json_t *root, const char *text)
{
    if (!json_is_object(root))
        return;
    if (!f->civitai_json)
        f->civitai_json = strdup(text);
    set_str(&f->name, jget(root, "UserTitle"));
    set_str(&f->name, jget(root, "ModelName"));
    set_str(&f->type, jget(root, "ModelType"));
    set_str(&f->base_model, jget(root, "BaseModel"));
    set_list(&f->trigger_words, jget(root, "TrainedWords"));
    set_list(&f->tags, jget(root, "Tags"));
    set_str(&f->description, jget(root, "ModelDescription"));
    set_str(&f->source_url, jget(root, "SourceUrl"));
    json_t *src = jget(root, "Source");
    if (!f->source && json_is_string(src)) {
        const char *s = json_string_value(src);
        f->source = strdup(strcasecmp(s, "civitai") == 0 ? "civitai" : "other");
    }
    json_t *mid = jget(root, "ModelId"), *vid = jget(root, "VersionId");
    if (!f->source_url && json_is_integer(mid) && json_is_integer(vid) &&
        asprintf(&f->source_url, "https://civitai.com/models/%lld?modelVersionId=%lld",
                 (long long)json_integer_value(mid), (long long)json_integer_value(vid)) < 0)
        f->source_url = NULL;
    if (!f->source && json_is_integer(mid))
        f->source = strdup("civitai");
}

static void read_a1111(struct ckpt_sidecar_facts *f, json_t *root)
{
    if (!json_is_object(root))
        return;
    set_str(&f->description, jget(root, "description"));
    set_str(&f->description, jget(root, "notes"));
    json_t *act = jget(root, "activation text");
    if (json_is_string(act) && !f->trigger_words) {
        /* A1111 joins trigger words with ", " or " || " */
        const char *s = json_string_value(act);
        if (*s) {
            struct ckpt_buf b = {0};
            for (const char *p = s; *p;) {
                if (strncmp(p, " || ", 4) == 0) {
                    ckpt_buf_puts(&b, ", ");
                    p += 4;
                } else {
                    ckpt_buf_putc(&b, *p++);
                }
            }
            if (!b.oom)
                f->trigger_words = strdup(ckpt_buf_cstr(&b));
            ckpt_buf_free(&b);
        }
    }
}

static void trim_text(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = 0;
}

/* The one list of sidecar names (scan reads them, organize moves them, views links previews).
 * Metadata first in the order scan reads them (the first file that gives a fact wins), then
 * previews: A1111's user-made <name>.png wins over the downloaded <name>.preview.png. */
static const struct ckpt_sidecar_name sidecar_names[] = {
    {".civitai.info", "civitai.info", 0},
    {".cm-info.json", "cm-info.json", 0},
    {".json", "a1111.json", 0},
    {".yaml", "yaml", 0},
    {".description.txt", "description.txt", 0},
    {".txt", "txt", 0},
    {".png", "preview", 1},
    {".preview.png", "preview", 1},
    {".jpg", "preview", 1},
    {".jpeg", "preview", 1},
    {".webp", "preview", 1},
    {".preview.jpg", "preview", 1},
    {".preview.jpeg", "preview", 1},
    {".preview.webp", "preview", 1},
    {NULL, NULL, 0},
};

const struct ckpt_sidecar_name *ckpt_sidecar_names(void)
{
    return sidecar_names;
}

void ckpt_sidecar_read(const char *model_path, int is_dir, struct ckpt_sidecar_facts *f)
{
    memset(f, 0, sizeof *f);
    size_t n = strlen(model_path);
    while (n > 1 && model_path[n - 1] == '/')
        n--;
    /* the stem: the path without its extension (a diffusers folder keeps its whole name) */
    size_t stem = n;
    if (!is_dir) {
        for (size_t i = n; i > 0; i--) {
            if (model_path[i - 1] == '/')
                break;
            if (model_path[i - 1] == '.') {
                stem = i - 1;
                break;
            }
        }
    }
    if (stem > 4000)
        return;
    char p[4200];
    struct ckpt_buf pb = {0};
    struct ckpt_json pj;
    ckpt_json_init(&pj, &pb, 0);
    ckpt_json_obj_begin(&pj);
    const struct ckpt_sidecar_name *files = ckpt_sidecar_names();
    for (size_t i = 0; files[i].suffix; i++) {
        if (files[i].preview)
            continue;
        snprintf(p, sizeof p, "%.*s%s", (int)stem, model_path, files[i].suffix);
        if (!exists(p))
            continue;
        add_path(&pb, &pj, files[i].kind, p);
        size_t len = 0;
        char *text = slurp(p, &len);
        if (!text)
            continue;
        if (strstr(files[i].suffix, ".txt")) {
            trim_text(text);
            if (!f->description && *text)
                f->description = strdup(text);
        } else if (strcmp(files[i].suffix, ".yaml") != 0) {
            json_t *root = json_loadb(text, len, JSON_DECODE_ANY, NULL);
            if (root) {
                if (strcmp(files[i].kind, "civitai.info") == 0)
                    read_civitai(f, root, text);
                else if (strcmp(files[i].kind, "cm-info.json") == 0)
                    read_cminfo(f, root, text);
                else
                    read_a1111(f, root);
                json_decref(root);
            }
        }
        free(text);
    }
    /* previews, in the list's order: A1111's user-made <name>.png wins */
    for (size_t i = 0; files[i].suffix && !f->preview; i++) {
        if (!files[i].preview)
            continue;
        snprintf(p, sizeof p, "%.*s%s", (int)stem, model_path, files[i].suffix);
        if (exists(p)) {
            f->preview = strdup(p);
            add_path(&pb, &pj, "preview", p);
        }
    }
    ckpt_json_obj_end(&pj);
    if (!pb.oom && pb.len > 2)
        f->paths = strdup(ckpt_buf_cstr(&pb));
    ckpt_buf_free(&pb);
}

void ckpt_sidecar_release(struct ckpt_sidecar_facts *f)
{
    free(f->civitai_json);
    free(f->name);
    free(f->type);
    free(f->checkpoint_type);
    free(f->base_model);
    free(f->source);
    free(f->source_url);
    free(f->trigger_words);
    free(f->tags);
    free(f->description);
    free(f->preview);
    free(f->paths);
    memset(f, 0, sizeof *f);
}
