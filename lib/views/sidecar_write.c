/* Sidecar writers: the catalog's facts about a model merged into the sidecar files A1111
 * (<stem>.json user metadata), Civitai Helper (<stem>.civitai.info, Civitai's model-version
 * object) and Stability Matrix (<stem>.cm-info.json, its ConnectedModelInfo) read next to a model.
 *
 * Each field is owned (the user's choice in the catalog replaces what the file says: trigger
 * words, notes, the user's title, ...) or filled (a site fact the file may already hold more
 * precisely: base model, type, ids, hashes; written only where the file has none). Fields ckptdb
 * does not know are never touched. Field names follow the tools' own readers and writers (A1111
 * extensions-builtin/Lora/ui_edit_user_metadata.py, Civitai's by-hash response as Civitai
 * Helper stores it, Stability Matrix ConnectedModelInfo.cs); docs/sidecars.md has the table.
 * Reading sidecars into the catalog is lib/catalog/sidecar.c, not here. */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "ckptdb/atomic.h"
#include "ckptdb/buf.h"
#include "ckptdb/sidecars.h"

#define SIDECAR_WRITE_MAX (4u << 20) /* a sidecar larger than this is not one a tool wrote */

static const char *const format_names[] = {"a1111", "civitai-helper", "stability-matrix"};
static const char *const suffixes[] = {".json", ".civitai.info", ".cm-info.json"};

int ckpt_sidecar_format_parse(const char *name, enum ckpt_sidecar_format *out,
                              struct ckpt_error *err)
{
    for (size_t i = 0; i < sizeof format_names / sizeof format_names[0]; i++) {
        if (name && strcmp(name, format_names[i]) == 0) {
            *out = (enum ckpt_sidecar_format)i;
            return CKPT_OK;
        }
    }
    return ckpt_error_set(err, CKPT_E_ARG,
                          "sidecar format '%s' is not one of a1111, civitai-helper, "
                          "stability-matrix",
                          name ? name : "");
}

const char *ckpt_sidecar_format_name(enum ckpt_sidecar_format f)
{
    return (unsigned)f < 3 ? format_names[f] : "?";
}

/* ---- what the catalog says, in the tools' words ------------------------------------------- */

static int is(const char *a, const char *b)
{
    return a && strcmp(a, b) == 0;
}

/* Civitai's baseModel names (the site's "Base model" list) */
static const char *civitai_base_model(const struct ckpt_model *m)
{
    if (is(m->ecosystem, "pony"))
        return "Pony";
    if (is(m->ecosystem, "illustrious"))
        return "Illustrious";
    if (is(m->ecosystem, "noobai"))
        return "NoobAI";
    static const struct {
        const char *family, *base;
    } map[] = {
        {"sd1", "SD 1.5"},
        {"sd2", "SD 2.1"},
        {"sdxl", "SDXL 1.0"},
        {"sdxl-refiner", "SDXL 1.0"},
        {"sd3-medium", "SD 3"},
        {"sd3.5-medium", "SD 3.5 Medium"},
        {"sd3.5-large", "SD 3.5 Large"},
        {"flux-dev", "Flux.1 D"},
        {"flux-schnell", "Flux.1 S"},
        {"pixart-alpha", "PixArt a"},
        {"pixart-sigma", "PixArt E"},
        {"cascade-b", "Stable Cascade"},
        {"cascade-c", "Stable Cascade"},
        {"svd", "SVD"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (is(m->family, map[i].family))
            return map[i].base;
    return NULL;
}

/* A1111's "sd version" choices: SD1, SD2, SDXL, SD3 (Unknown is left unwritten) */
static const char *a1111_sd_version(const struct ckpt_model *m)
{
    if (is(m->family, "sd1"))
        return "SD1";
    if (is(m->family, "sd2"))
        return "SD2";
    if (m->family && strncmp(m->family, "sdxl", 4) == 0)
        return "SDXL";
    if (m->family && strncmp(m->family, "sd3", 3) == 0)
        return "SD3";
    return NULL;
}

/* Civitai's model types; sm = 1 keeps to those Stability Matrix's CivitModelType knows */
static const char *civitai_type(const struct ckpt_model *m, int sm)
{
    if (is(m->kind, "checkpoint"))
        return "Checkpoint";
    if (is(m->kind, "embedding"))
        return "TextualInversion";
    if (is(m->kind, "hypernetwork"))
        return "Hypernetwork";
    if (is(m->kind, "controlnet"))
        return "Controlnet";
    if (is(m->kind, "vae"))
        return sm ? NULL : "VAE";
    if (is(m->kind, "lora")) {
        if (is(m->network, "locon") || is(m->network, "loha") || is(m->network, "lokr"))
            return "LoCon";
        if (is(m->network, "dora") && !sm)
            return "DoRA";
        return "LORA";
    }
    return NULL;
}

/* the model and version ids in a Civitai page URL (…/models/123[/slug][?modelVersionId=456]) */
static void civitai_ids(const char *url, long long *model_id, long long *version_id)
{
    *model_id = *version_id = 0;
    if (!url)
        return;
    const char *p = strstr(url, "civitai.com/models/");
    size_t skip = strlen("civitai.com/models/");
    if (!p) {
        p = strstr(url, "civitai.green/models/");
        skip = strlen("civitai.green/models/");
    }
    if (!p)
        return;
    p += skip;
    if (!isdigit((unsigned char)*p))
        return;
    char *end;
    errno = 0;
    long long v = strtoll(p, &end, 10);
    if (errno || v <= 0)
        return;
    *model_id = v;
    const char *q = strstr(end, "modelVersionId=");
    if (q && isdigit((unsigned char)q[15])) {
        v = strtoll(q + 15, &end, 10);
        if (!errno && v > 0)
            *version_id = v;
    }
}

static int from_civitai(const struct ckpt_model *m)
{
    long long a, b;
    civitai_ids(m->source_url, &a, &b);
    return is(m->source, "civitai") || a > 0;
}

/* the comma list as a JSON array of trimmed words (NULL when there are none) */
static json_t *word_array(const char *list)
{
    if (!list)
        return NULL;
    json_t *a = json_array();
    const char *p = list;
    while (a && *p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        const char *s = p;
        while (n && isspace((unsigned char)*s)) {
            s++;
            n--;
        }
        while (n && isspace((unsigned char)s[n - 1]))
            n--;
        if (n)
            json_array_append_new(a, json_stringn(s, n));
        p = e ? e + 1 : p + strlen(p);
    }
    if (a && json_array_size(a) == 0) {
        json_decref(a);
        return NULL;
    }
    return a;
}

static json_t *upper_hex(const char *hex)
{
    if (!hex || !*hex)
        return NULL;
    char tmp[80];
    size_t n = strlen(hex);
    if (n >= sizeof tmp)
        return NULL;
    for (size_t i = 0; i <= n; i++)
        tmp[i] = (char)toupper((unsigned char)hex[i]);
    return json_string(tmp);
}

static json_t *str_or_null(const char *s)
{
    return s && *s ? json_string(s) : NULL;
}

/* ---- merging with change records ------------------------------------------------------------ */

enum { OWN, FILL };

struct merge {
    struct ckpt_sidecar_plan *p;
    int oom;
    int silent; /* building a new sub-document: its leaves are not separate changes */
};

static char *dump(const json_t *v)
{
    return v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15)) : NULL;
}

static void record(struct merge *mg, const char *field, const json_t *before, const json_t *after)
{
    struct ckpt_sidecar_plan *p = mg->p;
    struct ckpt_sidecar_change *c = realloc(p->changes, (p->n_changes + 1) * sizeof *p->changes);
    if (!c) {
        mg->oom = 1;
        return;
    }
    p->changes = c;
    c += p->n_changes++;
    c->field = strdup(field);
    c->before = dump(before);
    c->after = dump(after);
    if (!c->field || !c->after || (before && !c->before))
        mg->oom = 1;
}

/* the key as the object spells it (readers compare keys without case), or key */
static const char *spelling(json_t *obj, const char *key, json_t **val)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        if (strcasecmp(k, key) == 0) {
            *val = v;
            return k;
        }
    }
    *val = NULL;
    return key;
}

static int empty(const json_t *v)
{
    return !v || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0) ||
           (json_is_array(v) && json_array_size(v) == 0) ||
           (json_is_object(v) && json_object_size(v) == 0);
}

/* Set obj[key] = val (stolen; NULL: nothing to say). FILL leaves a value that is there. */
static void put(struct merge *mg, json_t *obj, const char *prefix, const char *key, json_t *val,
                int mode)
{
    if (!val)
        return;
    json_t *old;
    const char *k = spelling(obj, key, &old);
    if ((mode == FILL && !empty(old)) || (old && json_equal(old, val))) {
        json_decref(val);
        return;
    }
    if (!mg->silent) {
        char field[256];
        snprintf(field, sizeof field, "%s%s", prefix, key);
        record(mg, field, old, val);
    }
    char *kcopy = strdup(k); /* k may belong to the entry being replaced */
    if (!kcopy || json_object_set_new(obj, kcopy, val) != 0)
        mg->oom = 1;
    free(kcopy);
}

/* obj[key] as an object to fill (created when absent; NULL when it holds something else) */
static json_t *sub(json_t *obj, const char *key)
{
    json_t *v;
    const char *k = spelling(obj, key, &v);
    if (v)
        return json_is_object(v) ? v : NULL;
    v = json_object();
    if (!v || json_object_set_new(obj, k, v) != 0)
        return NULL;
    return v;
}

/* drop sub-objects sub() created that stayed empty */
static void prune_empty(json_t *obj, const char *key, int existed)
{
    json_t *v;
    const char *k = spelling(obj, key, &v);
    if (!existed && v && json_is_object(v) && json_object_size(v) == 0)
        json_object_del(obj, k);
}

static int has_key(json_t *obj, const char *key)
{
    json_t *v;
    spelling(obj, key, &v);
    return v != NULL;
}

/* ---- the three formats ---------------------------------------------------------------------- */

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static json_t *setting(const struct ckpt_model *m, const char *key)
{
    if (!m->settings)
        return NULL;
    json_t *root = json_loads(m->settings, 0, NULL);
    json_t *v = json_is_object(root) ? json_object_get(root, key) : NULL;
    json_t *out = v ? json_deep_copy(v) : NULL;
    json_decref(root);
    return out;
}

static void merge_a1111(struct merge *mg, json_t *root, const struct ckpt_model *m)
{
    put(mg, root, "", "description", str_or_null(m->description), FILL);
    put(mg, root, "", "sd version", str_or_null(a1111_sd_version(m)), OWN);
    json_t *words = word_array(m->trigger_words);
    if (words) {
        struct ckpt_buf b = {0};
        size_t i;
        json_t *w;
        json_array_foreach(words, i, w)
        {
            if (i)
                ckpt_buf_puts(&b, ", ");
            ckpt_buf_puts(&b, json_string_value(w));
        }
        /* the same words joined with A1111's other separator, " || ", are left as written */
        json_t *old;
        spelling(root, "activation text", &old);
        int same = 0;
        if (json_is_string(old) && !b.oom) {
            struct ckpt_buf o = {0};
            for (const char *s = json_string_value(old); *s;) {
                if (strncmp(s, " || ", 4) == 0) {
                    ckpt_buf_puts(&o, ", ");
                    s += 4;
                } else {
                    ckpt_buf_putc(&o, *s++);
                }
            }
            same = !o.oom && strcmp(ckpt_buf_cstr(&o), ckpt_buf_cstr(&b)) == 0;
            ckpt_buf_free(&o);
        }
        if (!same)
            put(mg, root, "", "activation text", b.oom ? NULL : json_string(ckpt_buf_cstr(&b)),
                OWN);
        ckpt_buf_free(&b);
        json_decref(words);
    }
    json_t *w = setting(m, "weight");
    if (json_is_string(w)) { /* a weight typed as text: A1111 stores a number */
        const char *s = json_string_value(w);
        char *end;
        double d = strtod(s, &end);
        json_t *num = *s && *end == 0 ? json_real(d) : NULL;
        json_decref(w);
        w = num;
    }
    if (w && !json_is_number(w)) {
        json_decref(w);
        w = NULL;
    }
    put(mg, root, "", "preferred weight", w, OWN);
    json_t *neg = setting(m, "negative");
    if (neg && !json_is_string(neg)) {
        json_decref(neg);
        neg = NULL;
    }
    put(mg, root, "", "negative text", neg, OWN); /* put takes neg */
    put(mg, root, "", "notes", str_or_null(m->note), OWN);
}

static void hashes(struct merge *mg, json_t *h, const char *prefix, const struct ckpt_model *m,
                   int sm)
{
    put(mg, h, prefix, "SHA256", upper_hex(m->sha256), FILL);
    put(mg, h, prefix, "CRC32", upper_hex(m->crc32), FILL);
    put(mg, h, prefix, "BLAKE3", upper_hex(m->blake3), FILL);
    if (!sm) {
        put(mg, h, prefix, "AutoV1", upper_hex(m->autov1), FILL);
        put(mg, h, prefix, "AutoV2", upper_hex(m->autov2), FILL);
        put(mg, h, prefix, "AutoV3", upper_hex(m->autov3), FILL);
    }
}

static void merge_civitai(struct merge *mg, json_t *root, const struct ckpt_model *m)
{
    long long mid, vid;
    civitai_ids(m->source_url, &mid, &vid);
    put(mg, root, "", "id", vid > 0 ? json_integer(vid) : NULL, FILL);
    put(mg, root, "", "modelId", mid > 0 ? json_integer(mid) : NULL, FILL);
    put(mg, root, "", "baseModel", str_or_null(civitai_base_model(m)), FILL);
    put(mg, root, "", "trainedWords", word_array(m->trigger_words), OWN);
    put(mg, root, "", "description", str_or_null(m->description), FILL);
    int had = has_key(root, "model");
    json_t *model = sub(root, "model");
    if (model) {
        put(mg, model, "model.", "name", str_or_null(m->name), FILL);
        put(mg, model, "model.", "type", str_or_null(civitai_type(m, 0)), FILL);
        prune_empty(root, "model", had);
    }
    /* the file entry: ours (same name or same SHA256) gets the hashes it lacks; a new sidecar
       gets one entry like Civitai's */
    json_t *files;
    spelling(root, "files", &files);
    const char *fname = base_name(m->path);
    if (!files && !m->sha256)
        return; /* an entry without hashes says nothing Civitai Helper can use */
    if (!files) {
        json_t *f = json_object(), *h = json_object(), *arr = json_array();
        if (!f || !h || !arr) {
            json_decref(f), json_decref(h), json_decref(arr);
            mg->oom = 1;
            return;
        }
        json_object_set_new(f, "name", json_string(fname));
        json_object_set_new(f, "sizeKB", json_real((double)m->size / 1024.0));
        json_object_set_new(f, "type", json_string("Model"));
        json_object_set_new(f, "primary", json_true());
        mg->silent = 1; /* the new entry is one change: "files" */
        hashes(mg, h, "", m, 0);
        mg->silent = 0;
        json_object_set_new(f, "hashes", h);
        json_array_append_new(arr, f);
        put(mg, root, "", "files", arr, FILL);
        return;
    }
    if (!json_is_array(files))
        return;
    size_t i;
    json_t *f;
    json_array_foreach(files, i, f)
    {
        json_t *n, *h, *sha = NULL;
        spelling(f, "name", &n);
        spelling(f, "hashes", &h);
        if (json_is_object(h))
            spelling(h, "SHA256", &sha);
        int mine = (json_is_string(n) && strcmp(json_string_value(n), fname) == 0) ||
                   (json_is_string(sha) && m->sha256 &&
                    strcasecmp(json_string_value(sha), m->sha256) == 0);
        if (!mine || !json_is_object(f))
            continue;
        int hhad = has_key(f, "hashes");
        json_t *hh = sub(f, "hashes");
        if (hh) {
            char prefix[64];
            snprintf(prefix, sizeof prefix, "files[%zu].hashes.", i);
            hashes(mg, hh, prefix, m, 0);
            prune_empty(f, "hashes", hhad);
        }
        break;
    }
}

static void merge_cminfo(struct merge *mg, json_t *root, const struct ckpt_model *m, int64_t now,
                         int is_new)
{
    long long mid, vid;
    civitai_ids(m->source_url, &mid, &vid);
    put(mg, root, "", "ModelId", mid > 0 ? json_integer(mid) : NULL, FILL);
    put(mg, root, "", "ModelName", str_or_null(m->name), FILL);
    put(mg, root, "", "ModelDescription", str_or_null(m->description), FILL);
    /* user tags join the site's (none is removed) */
    json_t *tags = word_array(m->tags);
    if (tags) {
        json_t *old;
        spelling(root, "Tags", &old);
        json_t *merged = json_is_array(old) ? json_deep_copy(old) : json_array();
        size_t i;
        json_t *t;
        json_array_foreach(tags, i, t)
        {
            int seen = 0;
            size_t j;
            json_t *o;
            json_array_foreach(merged, j, o) seen |= json_equal(o, t);
            if (!seen)
                json_array_append(merged, t);
        }
        json_decref(tags);
        put(mg, root, "", "Tags", merged, json_is_array(old) || !old ? OWN : FILL);
    }
    put(mg, root, "", "ModelType", str_or_null(civitai_type(m, 1)), FILL);
    put(mg, root, "", "VersionId", vid > 0 ? json_integer(vid) : NULL, FILL);
    put(mg, root, "", "BaseModel", str_or_null(civitai_base_model(m)), FILL);
    if (is_new) {
        char when[64];
        time_t t = (time_t)now;
        struct tm tm;
        if (gmtime_r(&t, &tm) && strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S+00:00", &tm))
            put(mg, root, "", "ImportedAt", json_string(when), FILL);
    }
    int had = has_key(root, "Hashes");
    json_t *h = sub(root, "Hashes");
    if (h) {
        hashes(mg, h, "Hashes.", m, 1);
        prune_empty(root, "Hashes", had);
    }
    put(mg, root, "", "TrainedWords", word_array(m->trigger_words), OWN);
    put(mg, root, "", "UserTitle", str_or_null(m->name), OWN);
    if (m->source)
        put(mg, root, "", "Source", json_string(is(m->source, "civitai") ? "Civitai" : "Other"),
            OWN);
}

/* ---- plan / apply ---------------------------------------------------------------------------- */

static int read_existing(const char *path, char **out, size_t *len, int *exists,
                         struct ckpt_error *err)
{
    *out = NULL;
    *len = 0;
    *exists = 0;
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT)
            return CKPT_OK;
        return ckpt_error_setf(err, CKPT_E_IO, path, "%s", strerror(errno));
    }
    if (!S_ISREG(st.st_mode))
        return ckpt_error_setf(err, CKPT_E_FORMAT, path, "is not a regular file; left alone");
    if ((uint64_t)st.st_size > SIDECAR_WRITE_MAX)
        return ckpt_error_setf(err, CKPT_E_LIMIT, path,
                               "is %lld bytes, more than a sidecar's %u; left alone",
                               (long long)st.st_size, SIDECAR_WRITE_MAX);
    FILE *f = fopen(path, "rb");
    if (!f)
        return ckpt_error_setf(err, CKPT_E_IO, path, "%s", strerror(errno));
    char *d = malloc((size_t)st.st_size + 1);
    size_t n = d ? fread(d, 1, (size_t)st.st_size + 1, f) : 0;
    int bad = ferror(f);
    fclose(f);
    if (!d)
        return ckpt_error_setf(err, CKPT_E_NOMEM, path, "out of memory");
    if (bad || n > (size_t)st.st_size) {
        free(d);
        return ckpt_error_setf(err, CKPT_E_CHANGED, path, "changed while being read");
    }
    d[n] = 0;
    *out = d;
    *len = n;
    *exists = 1;
    return CKPT_OK;
}

static int blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isspace((unsigned char)s[i]))
            return 0;
    return 1;
}

/* why model m gets no sidecar of format f (NULL: it does) */
static const char *skip_reason(enum ckpt_sidecar_format f, const struct ckpt_model *m, int exists)
{
    if (m->error)
        return "the file could not be read as a model";
    int extra_network = is(m->kind, "checkpoint") || is(m->kind, "lora") ||
                        is(m->kind, "embedding") || is(m->kind, "hypernetwork");
    if (f == CKPT_SIDECAR_A1111 && !extra_network && !exists)
        return "A1111 keeps user metadata only for checkpoints, LoRAs, embeddings and "
               "hypernetworks";
    if (f == CKPT_SIDECAR_CIVITAI_HELPER && !exists && !from_civitai(m))
        return "not from Civitai (source is not civitai and no Civitai URL): Civitai Helper "
               "would take the file for a Civitai model";
    return NULL;
}

int ckpt_sidecar_plan_make(enum ckpt_sidecar_format f, const struct ckpt_model *m, int64_t now,
                           struct ckpt_sidecar_plan *p, struct ckpt_error *err)
{
    memset(p, 0, sizeof *p);
    if ((unsigned)f > CKPT_SIDECAR_STABILITY_MATRIX || !m || !m->path || !*m->path)
        return ckpt_error_set(err, CKPT_E_ARG, "a sidecar needs a format and a model with a path");
    /* the stem as the readers compute it: the path without its extension; a folder model
       (diffusers) keeps its whole name */
    size_t n = strlen(m->path);
    while (n > 1 && m->path[n - 1] == '/')
        n--;
    size_t stem = n;
    if (!is(m->format, "diffusers")) {
        for (size_t i = n; i > 0; i--) {
            if (m->path[i - 1] == '/')
                break;
            if (m->path[i - 1] == '.') {
                stem = i - 1;
                break;
            }
        }
    }
    if (asprintf(&p->path, "%.*s%s", (int)stem, m->path, suffixes[f]) < 0) {
        p->path = NULL;
        return ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
    }
    int rc = read_existing(p->path, &p->orig, &p->orig_len, &p->exists, err);
    if (rc)
        return rc;
    const char *why = skip_reason(f, m, p->exists);
    if (why) {
        p->skip = strdup(why);
        return p->skip ? CKPT_OK : ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
    }
    json_t *root;
    if (!p->exists || blank(p->orig, p->orig_len)) {
        root = json_object();
    } else {
        json_error_t je;
        root = json_loadb(p->orig, p->orig_len, JSON_DECODE_ANY, &je);
        if (!root)
            return ckpt_error_setf(err, CKPT_E_FORMAT, p->path,
                                   "not valid JSON (line %d: %s); left alone", je.line, je.text);
        if (!json_is_object(root)) {
            json_decref(root);
            return ckpt_error_setf(err, CKPT_E_FORMAT, p->path,
                                   "is JSON but not an object; left alone");
        }
    }
    if (!root)
        return ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
    struct merge mg = {.p = p};
    if (f == CKPT_SIDECAR_A1111)
        merge_a1111(&mg, root, m);
    else if (f == CKPT_SIDECAR_CIVITAI_HELPER)
        merge_civitai(&mg, root, m);
    else
        merge_cminfo(&mg, root, m, now, !p->exists);
    if (!mg.oom && p->n_changes) {
        /* A1111 and Stability Matrix write indented JSON; so do we, keys in the file's order */
        p->text = json_dumps(root, JSON_INDENT(4) | JSON_REAL_PRECISION(15));
        mg.oom = !p->text;
    }
    json_decref(root);
    if (mg.oom)
        return ckpt_error_setf(err, CKPT_E_NOMEM, p->path, "out of memory");
    return CKPT_OK;
}

int ckpt_sidecar_plan_apply(const struct ckpt_sidecar_plan *p, struct ckpt_error *err)
{
    if (!p->path || p->skip || !p->n_changes || !p->text)
        return CKPT_OK;
    char *now = NULL;
    size_t len;
    int exists;
    int rc = read_existing(p->path, &now, &len, &exists, err);
    if (rc)
        return rc;
    int same =
        exists == p->exists && len == p->orig_len && (len == 0 || memcmp(now, p->orig, len) == 0);
    free(now);
    if (!same)
        return ckpt_error_setf(err, CKPT_E_CHANGED, p->path,
                               "changed since it was read; nothing written (run again)");
    struct ckpt_atomic_file *af;
    if ((rc = ckpt_atomic_open(&af, p->path, 1, err)))
        return rc;
    if ((rc = ckpt_atomic_write(af, p->text, strlen(p->text), err)) ||
        (rc = ckpt_atomic_write(af, "\n", 1, err))) {
        ckpt_atomic_abort(af);
        return rc;
    }
    return ckpt_atomic_commit(af, err);
}

void ckpt_sidecar_plan_release(struct ckpt_sidecar_plan *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_changes; i++) {
        free(p->changes[i].field);
        free(p->changes[i].before);
        free(p->changes[i].after);
    }
    free(p->changes);
    free(p->path);
    free(p->skip);
    free(p->text);
    free(p->orig);
    memset(p, 0, sizeof *p);
}
