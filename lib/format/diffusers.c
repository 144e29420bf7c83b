/* The diffusers-folder reader: a pipeline folder (model_index.json naming component sub-folders)
 * or a single component folder (config.json + weights) becomes one tensorset whose tensors are
 * named "<component>/<name>" and whose sources are the component files, each opened with the
 * ordinary file readers (so every check of safetensors/torch zip applies to them).
 *
 * Decisions:
 *  - in a component folder the weights are, in this order of preference:
 *    <stem>.safetensors, <stem>.safetensors.index.json (shards), the fp16 variants
 *    <stem>.fp16.safetensors and <stem>.safetensors.index.fp16.json, then the same four with
 *    .bin (torch zip); <stem> is diffusion_pytorch_model (diffusers) or model / pytorch_model
 *    (transformers). This is what diffusers loads by default, with fp16 as the fallback;
 *  - a component listed in model_index.json whose folder is missing is an error (diffusers
 *    cannot load the pipeline); [null, null] entries are skipped; a folder without weights
 *    (tokenizer, scheduler, or an interrupted download) is recorded as "<c>.weights": "(none)";
 *  - component and shard names may not contain '/', '\\' or NUL, nor be "." / ".." or start
 *    with '.', so no path leaves the folder by name (symlinked files, as in the Hugging Face
 *    cache, are followed);
 *  - a sharded index must agree with its shards: every tensor in a shard is listed for that
 *    shard and every listed tensor exists;
 *  - JSON files are bounded (model_index/config 1 MiB, shard index 16 MiB) and parsed strictly
 *    (duplicate keys refused).
 * Not for identifying what the pipeline is (lib/identify) nor for reading tensor data. */
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../model/tensorset_impl.h"

#define SMALL_JSON_MAX (1u << 20)
#define INDEX_JSON_MAX (16u << 20)

/* Sub-tensorsets kept open because their sources need their own opener (deflated zip members). */
struct dstate {
    struct ckpt_tensorset **subs;
    size_t n_subs;
    struct smap {
        struct ckpt_tensorset *sub; /* NULL: a plain file range */
        uint32_t sub_idx;
    } * map; /* per source of the diffusers tensorset */
    size_t n_map;
};

static void dstate_free(void *p)
{
    struct dstate *s = p;
    if (!s)
        return;
    for (size_t i = 0; i < s->n_subs; i++)
        ckpt_tensorset_close(s->subs[i]);
    free(s->subs);
    free(s->map);
    free(s);
}

static int open_source(struct ckpt_tensorset *ts, uint32_t idx, struct ckpt_reader **out,
                       struct ckpt_error *err)
{
    struct dstate *s = ts->parser_state;
    struct ts_source *src = &ts->sources[idx];
    if (idx < s->n_map && s->map[idx].sub && s->map[idx].sub->open_source)
        return s->map[idx].sub->open_source(s->map[idx].sub, s->map[idx].sub_idx, out, err);
    int rc = ckpt_reader_open_file(&src->file_rd, src->pub.path, err);
    if (rc)
        return rc;
    return ckpt_reader_open_slice(out, src->file_rd, src->pub.file_offset, src->pub.size,
                                  src->pub.path, err);
}

struct dctx {
    struct ckpt_tensorset *ts;
    const char *dir;
    struct ckpt_error *err;
    struct dstate *st;
};

static int safe_name(const char *n)
{
    return n[0] && n[0] != '.' && !strchr(n, '/') && !strchr(n, '\\');
}

static int join(struct dctx *c, char *out, size_t cap, const char *a, const char *b, const char *d)
{
    int n = snprintf(out, cap, "%s/%s%s%s", a, b, d ? "/" : "", d ? d : "");
    if (n < 0 || (size_t)n >= cap)
        return ckpt_error_setf(c->err, CKPT_E_LIMIT, c->dir, "path too long under the folder");
    return CKPT_OK;
}

static int is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static unsigned json_depth(const json_t *v)
{
    unsigned d = 0;
    if (json_is_object(v)) {
        const char *k;
        const json_t *x;
        json_object_foreach((json_t *)v, k, x)
        {
            unsigned e = json_depth(x);
            if (e > d)
                d = e;
        }
        return d + 1;
    }
    if (json_is_array(v)) {
        size_t i;
        const json_t *x;
        json_array_foreach(v, i, x)
        {
            unsigned e = json_depth(x);
            if (e > d)
                d = e;
        }
        return d + 1;
    }
    return 0;
}

/* Read and parse a JSON file of at most max bytes; *out is an owned object. */
static int load_json(struct dctx *c, const char *path, uint64_t max, json_t **out)
{
    *out = NULL;
    struct ckpt_reader *r;
    int rc = ckpt_reader_open_file(&r, path, c->err);
    if (rc)
        return rc;
    uint64_t size = ckpt_reader_size(r);
    if (size > max) {
        ckpt_reader_close(r);
        return ckpt_error_setf(c->err, CKPT_E_LIMIT, path,
                               "%llu bytes of JSON, more than the limit of %llu",
                               (unsigned long long)size, (unsigned long long)max);
    }
    char *buf = malloc(size ? (size_t)size : 1);
    if (!buf) {
        ckpt_reader_close(r);
        return ckpt_error_setf(c->err, CKPT_E_NOMEM, path, "out of memory");
    }
    rc = ckpt_reader_read(r, 0, buf, (size_t)size, "JSON", c->err);
    c->ts->extra_bytes_read += ckpt_reader_bytes_read(r);
    ckpt_reader_close(r);
    if (rc) {
        free(buf);
        return rc;
    }
    json_error_t je;
    json_t *j = json_loadb(buf, (size_t)size, JSON_REJECT_DUPLICATES, &je);
    free(buf);
    if (!j)
        return ckpt_error_setf(c->err, CKPT_E_FORMAT, path, "malformed JSON: %s (line %d)", je.text,
                               je.line);
    if (!json_is_object(j)) {
        json_decref(j);
        return ckpt_error_setf(c->err, CKPT_E_FORMAT, path, "JSON is not an object");
    }
    if (json_depth(j) > c->ts->limits->json_max_depth) {
        json_decref(j);
        return ckpt_error_setf(c->err, CKPT_E_LIMIT, path, "JSON nested more than %llu deep",
                               (unsigned long long)c->ts->limits->json_max_depth);
    }
    *out = j;
    return CKPT_OK;
}

static int add_meta_str(struct dctx *c, const char *key, const char *val)
{
    return ckpt_ts_add_meta(c->ts, key, strlen(key), val, strlen(val), c->err);
}

/* A JSON value as metadata text: strings as they are, everything else as compact JSON. */
static int add_meta_json(struct dctx *c, const char *key, const json_t *v)
{
    if (json_is_string(v))
        return ckpt_ts_add_meta(c->ts, key, strlen(key), json_string_value(v),
                                json_string_length(v), c->err);
    if (json_is_real(v)) { /* shortest text that reads back as the same double */
        char t[40];
        double d = json_real_value(v);
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(t, sizeof t, "%.*g", prec, d);
            if (strtod(t, NULL) == d)
                break;
        }
        return add_meta_str(c, key, t);
    }
    char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
    if (!t)
        return ckpt_error_setf(c->err, CKPT_E_NOMEM, c->dir, "out of memory");
    int rc = add_meta_str(c, key, t);
    free(t);
    return rc;
}

static const char *const telling_keys[] = {
    "_class_name",         "_diffusers_version",  "in_channels",         "out_channels",
    "sample_size",         "cross_attention_dim", "latent_channels",     "scaling_factor",
    "prediction_type",     "beta_schedule",       "num_train_timesteps", "addition_embed_type",
    "joint_attention_dim", "num_layers",          "hidden_size",         "num_hidden_layers",
    "projection_dim",      "model_type",          "architectures",       "upcast_attention",
};

static int component_config(struct dctx *c, const char *comp)
{
    char p[4096];
    int rc;
    const char *names[] = {"config.json", "scheduler_config.json"};
    for (size_t i = 0; i < 2; i++) {
        if ((rc = join(c, p, sizeof p, c->dir, comp, names[i])))
            return rc;
        if (!is_file(p))
            continue;
        json_t *j;
        if ((rc = load_json(c, p, SMALL_JSON_MAX, &j)))
            return rc;
        for (size_t k = 0; k < sizeof telling_keys / sizeof telling_keys[0] && !rc; k++) {
            json_t *v = json_object_get(j, telling_keys[k]);
            if (!v)
                continue;
            char key[512];
            snprintf(key, sizeof key, "%s.config.%s", comp, telling_keys[k]);
            rc = add_meta_json(c, key, v);
        }
        json_decref(j);
        return rc;
    }
    return CKPT_OK;
}

/* Copy a sub-tensorset's sources and tensors into ts, names prefixed with "comp/". */
static int absorb(struct dctx *c, const char *comp, struct ckpt_tensorset *sub)
{
    struct ckpt_tensorset *ts = c->ts;
    int keep = sub->open_source != NULL, rc = CKPT_OK;
    uint32_t base = (uint32_t)ts->n_sources;
    for (size_t i = 0; i < sub->n_sources; i++) {
        const struct ckpt_source *s = &sub->sources[i].pub;
        uint32_t idx;
        if ((rc = ckpt_ts_add_source(ts, s->path, s->member, s->file_offset, s->size, s->compressed,
                                     &idx, c->err)))
            goto out;
        if (keep) {
            struct smap *m = realloc(c->st->map, ts->n_sources * sizeof *m);
            if (!m) {
                rc = ckpt_error_setf(c->err, CKPT_E_NOMEM, c->dir, "out of memory");
                goto out;
            }
            c->st->map = m;
            for (size_t k = c->st->n_map; k < ts->n_sources; k++)
                m[k].sub = NULL;
            c->st->n_map = ts->n_sources;
            m[idx].sub = sub;
            m[idx].sub_idx = (uint32_t)i;
            ts->open_source = open_source;
        }
    }
    size_t clen = strlen(comp);
    char *name = NULL;
    size_t cap = 0;
    for (size_t i = 0; i < sub->n_tensors; i++) {
        struct ckpt_tensor t = sub->tensors[i];
        size_t nl = strlen(t.name), tot = clen + 1 + nl;
        if (tot + 1 > cap) {
            cap = tot + 64;
            char *q = realloc(name, cap);
            if (!q) {
                free(name);
                rc = ckpt_error_setf(c->err, CKPT_E_NOMEM, c->dir, "out of memory");
                goto out;
            }
            name = q;
        }
        memcpy(name, comp, clen);
        name[clen] = '/';
        memcpy(name + clen + 1, t.name, nl + 1);
        t.name = name;
        t.source = base + t.source;
        if ((rc = ckpt_ts_add_tensor(ts, &t, tot, c->err)))
            break;
    }
    free(name);
    ts->file_size += sub->file_size;
    ts->header_bytes += sub->header_bytes;
out:
    ts->extra_bytes_read += ckpt_tensorset_bytes_read(sub);
    if (keep) {
        struct ckpt_tensorset **q = realloc(c->st->subs, (c->st->n_subs + 1) * sizeof *q);
        if (!q) {
            ckpt_tensorset_close(sub);
            return rc ? rc : ckpt_error_setf(c->err, CKPT_E_NOMEM, c->dir, "out of memory");
        }
        c->st->subs = q;
        q[c->st->n_subs++] = sub;
    } else {
        ckpt_tensorset_close(sub);
    }
    return rc;
}

static int open_file(struct dctx *c, const char *path, struct ckpt_tensorset **sub)
{
    return ckpt_tensorset_open(sub, path, c->ts->limits, c->err);
}

/* A sharded component: the index's weight_map names the shards. */
static int load_sharded(struct dctx *c, const char *comp, const char *index_path)
{
    json_t *j;
    int rc = load_json(c, index_path, INDEX_JSON_MAX, &j);
    if (rc)
        return rc;
    json_t *wm = json_object_get(j, "weight_map");
    if (!json_is_object(wm)) {
        json_decref(j);
        return ckpt_error_setf(c->err, CKPT_E_FORMAT, index_path, "no \"weight_map\" object");
    }
    /* distinct shard names, in sorted order */
    const char **shards = NULL;
    size_t n = 0;
    const char *k;
    json_t *v;
    json_object_foreach(wm, k, v)
    {
        if (!json_is_string(v) || !safe_name(json_string_value(v))) {
            rc = ckpt_error_setf(c->err, CKPT_E_FORMAT, index_path,
                                 "weight_map entry '%.200s' does not name a shard file in the "
                                 "folder",
                                 k);
            goto out;
        }
        const char *s = json_string_value(v);
        size_t i = 0;
        while (i < n && strcmp(shards[i], s))
            i++;
        if (i < n)
            continue;
        const char **q = realloc(shards, (n + 1) * sizeof *q);
        if (!q) {
            rc = ckpt_error_setf(c->err, CKPT_E_NOMEM, c->dir, "out of memory");
            goto out;
        }
        shards = q;
        shards[n++] = s;
    }
    for (size_t i = 1; i < n; i++)
        for (size_t m = i; m > 0 && strcmp(shards[m - 1], shards[m]) > 0; m--) {
            const char *t = shards[m];
            shards[m] = shards[m - 1];
            shards[m - 1] = t;
        }
    size_t total = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        char p[4096];
        if ((rc = join(c, p, sizeof p, c->dir, comp, shards[i])))
            break;
        struct ckpt_tensorset *sub;
        if ((rc = open_file(c, p, &sub)))
            break;
        for (size_t t = 0; t < sub->n_tensors; t++) {
            json_t *e = json_object_get(wm, sub->tensors[t].name);
            if (!e || strcmp(json_string_value(e), shards[i]) != 0) {
                rc = ckpt_error_setf(c->err, CKPT_E_FORMAT, index_path,
                                     "shard %s holds '%.200s', which the index %s", shards[i],
                                     sub->tensors[t].name,
                                     e ? "places in another shard" : "does not list");
                break;
            }
        }
        total += sub->n_tensors;
        if (rc) {
            ckpt_tensorset_close(sub);
            break;
        }
        rc = absorb(c, comp, sub);
    }
    if (!rc && total != json_object_size(wm))
        rc = ckpt_error_setf(c->err, CKPT_E_FORMAT, index_path,
                             "the index lists %zu tensors but its shards hold %zu",
                             json_object_size(wm), total);
out:
    free(shards);
    json_decref(j);
    return rc;
}

static int load_weights(struct dctx *c, const char *comp)
{
    static const char *const stems[] = {"diffusion_pytorch_model", "model", "pytorch_model"};
    static const char *const forms[] = {"%s.safetensors",
                                        "%s.safetensors.index.json",
                                        "%s.fp16.safetensors",
                                        "%s.safetensors.index.fp16.json",
                                        "%s.bin",
                                        "%s.bin.index.json",
                                        "%s.fp16.bin",
                                        "%s.bin.index.fp16.json"};
    char file[256], p[4096], key[512];
    int rc;
    snprintf(key, sizeof key, "%s.weights", comp);
    for (size_t f = 0; f < sizeof forms / sizeof forms[0]; f++)
        for (size_t s = 0; s < sizeof stems / sizeof stems[0]; s++) {
            snprintf(file, sizeof file, forms[f], stems[s]);
            if ((rc = join(c, p, sizeof p, c->dir, comp, file)))
                return rc;
            if (!is_file(p))
                continue;
            if ((rc = add_meta_str(c, key, file)))
                return rc;
            if (strstr(file, ".index."))
                return load_sharded(c, comp, p);
            struct ckpt_tensorset *sub;
            if ((rc = open_file(c, p, &sub)))
                return rc;
            return absorb(c, comp, sub);
        }
    return add_meta_str(c, key, "(none)");
}

static int load_component(struct dctx *c, const char *comp)
{
    int rc = component_config(c, comp);
    if (rc)
        return rc;
    return load_weights(c, comp);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int pipeline(struct dctx *c, const char *index_path)
{
    json_t *j;
    int rc = load_json(c, index_path, SMALL_JSON_MAX, &j);
    if (rc)
        return rc;
    const char *k;
    json_t *v;
    const char **comps = NULL;
    size_t n = 0;
    json_t *cls = json_object_get(j, "_class_name");
    json_t *ver = json_object_get(j, "_diffusers_version");
    if (cls && (rc = add_meta_json(c, "model_index._class_name", cls)))
        goto out;
    if (ver && (rc = add_meta_json(c, "model_index._diffusers_version", ver)))
        goto out;
    json_object_foreach(j, k, v)
    {
        if (k[0] == '_' || !json_is_array(v))
            continue;
        if (json_array_size(v) != 2 || json_is_null(json_array_get(v, 0)) ||
            json_is_null(json_array_get(v, 1)))
            continue;
        if (!json_is_string(json_array_get(v, 0)) || !json_is_string(json_array_get(v, 1))) {
            rc = ckpt_error_setf(c->err, CKPT_E_FORMAT, index_path,
                                 "component '%.200s' is not [library, class]", k);
            goto out;
        }
        if (!safe_name(k)) {
            rc = ckpt_error_setf(c->err, CKPT_E_FORMAT, index_path,
                                 "component name '%.200s' would leave the folder", k);
            goto out;
        }
        const char **q = realloc(comps, (n + 1) * sizeof *q);
        if (!q) {
            rc = ckpt_error_setf(c->err, CKPT_E_NOMEM, c->dir, "out of memory");
            goto out;
        }
        comps = q;
        comps[n++] = k;
    }
    if (n == 0) {
        rc = ckpt_error_setf(c->err, CKPT_E_FORMAT, index_path, "names no components");
        goto out;
    }
    qsort(comps, n, sizeof *comps, cmp_str);
    for (size_t i = 0; i < n && !rc; i++) {
        char p[4096];
        if ((rc = join(c, p, sizeof p, c->dir, comps[i], NULL)))
            break;
        if (!is_dir(p)) {
            rc = ckpt_error_setf(c->err, CKPT_E_FORMAT, c->dir,
                                 "model_index.json names component '%.200s' but the folder has "
                                 "no %.200s/",
                                 comps[i], comps[i]);
            break;
        }
        char key[512];
        json_t *e = json_object_get(j, comps[i]);
        snprintf(key, sizeof key, "%s.class", comps[i]);
        if ((rc = add_meta_json(c, key, json_array_get(e, 1))))
            break;
        rc = load_component(c, comps[i]);
    }
out:
    free(comps);
    json_decref(j);
    return rc;
}

int ckpt_diffusers_parse(struct ckpt_tensorset *ts, const char *dir, struct ckpt_error *err)
{
    struct dstate *st = calloc(1, sizeof *st);
    if (!st)
        return ckpt_error_setf(err, CKPT_E_NOMEM, dir, "out of memory");
    ts->parser_state = st;
    ts->parser_free = dstate_free;
    ts->format = CKPT_FMT_DIFFUSERS;
    /* the folder without trailing slashes: messages and the single-component name use it */
    size_t dl = strlen(dir);
    while (dl > 1 && dir[dl - 1] == '/')
        dl--;
    char *d = strndup(dir, dl);
    if (!d)
        return ckpt_error_setf(err, CKPT_E_NOMEM, dir, "out of memory");
    struct dctx c = {ts, d, err, st};
    char p[4096];
    int rc = join(&c, p, sizeof p, d, "model_index.json", NULL);
    if (!rc && is_file(p)) {
        rc = pipeline(&c, p);
    } else if (!rc) {
        rc = join(&c, p, sizeof p, d, "config.json", NULL);
        if (!rc && is_file(p)) {
            /* one component: the folder itself, named by its last path element */
            const char *slash = strrchr(d, '/');
            const char *comp = slash ? slash + 1 : d;
            char *parent = slash ? strndup(d, (size_t)(slash - d)) : strdup(".");
            if (!parent) {
                rc = ckpt_error_setf(err, CKPT_E_NOMEM, dir, "out of memory");
            } else if (!safe_name(comp)) {
                rc = ckpt_error_setf(err, CKPT_E_FORMAT, d,
                                     "cannot name a component after the folder '%s'", comp);
            } else {
                c.dir = parent[0] ? parent : "/";
                rc = add_meta_str(&c, "diffusers.component", comp);
                if (!rc)
                    rc = load_component(&c, comp);
                c.dir = d;
            }
            free(parent);
        } else if (!rc) {
            rc = ckpt_error_setf(err, CKPT_E_FORMAT, d,
                                 "not a diffusers folder (no model_index.json or config.json)");
        }
    }
    free(d);
    return rc;
}
