/* mkfixture: writes a safetensors test fixture with real tensor names and shapes.
 *
 * Tensors come from the reference key lists (../shared/ref/keys/NAME.txt: "key [d0,d1,...]" lines,
 * -1 meaning the LoRA rank) under a prefix, or one by one with --tensor. Data is zeros, holes
 * (sparse: a 7 GB SDXL-shaped file costs no disk), or seeded pseudo-random values; position_ids
 * tensors get 0..n-1 and LoRA alphas get the rank, as real files do. Deterministic for a seed.
 * Not part of the product: a generator for tests, benchmarks and the demo library. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckptdb/fp.h"
#include "ckptdb/limits.h"
#include "ckptdb/safetensors.h"

struct decl {
    char *name;
    enum ckpt_dtype dtype;
    uint32_t ndim;
    uint64_t shape[CKPT_MAX_DIMS];
};

static struct decl *decls;
static size_t ndecls, capdecls;
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rng(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

static double gauss(void)
{
    /* sum of 4 uniforms, centred: close enough to normal for fixtures, and cheap */
    double s = 0;
    for (int i = 0; i < 4; i++)
        s += (double)(rng() >> 11) / 9007199254740992.0;
    return (s - 2.0) * 1.7320508;
}

static void die(const char *fmt, const char *a)
{
    fprintf(stderr, "mkfixture: ");
    fprintf(stderr, fmt, a);
    fprintf(stderr, "\n");
    exit(2);
}

static void add(const char *name, enum ckpt_dtype dt, uint32_t ndim, const uint64_t *shape)
{
    if (ndecls == capdecls) {
        capdecls = capdecls ? capdecls * 2 : 256;
        decls = realloc(decls, capdecls * sizeof *decls);
        if (!decls)
            die("%s", "out of memory");
    }
    struct decl *d = &decls[ndecls++];
    d->name = strdup(name);
    d->dtype = dt;
    d->ndim = ndim;
    memcpy(d->shape, shape, ndim * sizeof *shape);
}

static enum ckpt_dtype parse_dtype(const char *s)
{
    enum ckpt_dtype t = ckpt_dtype_from_safetensors(s, strlen(s));
    if (t == CKPT_DT_INVALID)
        die("unknown dtype '%s'", s);
    return t;
}

static uint32_t parse_shape(const char *s, uint64_t *shape, uint64_t rank)
{
    uint32_t n = 0;
    while (*s == '[' || *s == ' ')
        s++;
    while (*s && *s != ']') {
        char *end;
        long long v = strtoll(s, &end, 10);
        if (end == s)
            die("bad shape '%s'", s);
        if (n >= CKPT_MAX_DIMS)
            die("too many dims in '%s'", s);
        shape[n++] = v < 0 ? rank : (uint64_t)v;
        s = end;
        while (*s == ',' || *s == ' ')
            s++;
    }
    return n;
}

static void load_keys(const char *spec, enum ckpt_dtype dt, uint64_t rank, const char *drop,
                      const char *only)
{
    char *copy = strdup(spec);
    char *file = copy, *prefix = "", *flags = "";
    char *c1 = strchr(copy, ':');
    if (c1) {
        *c1 = 0;
        prefix = c1 + 1;
        char *c2 = strchr(prefix, ':');
        if (c2) {
            *c2 = 0;
            flags = c2 + 1;
        }
    }
    char path[4096];
    if (strchr(file, '/')) {
        snprintf(path, sizeof path, "%s", file);
    } else {
        const char *shared = getenv("CKPT_SHARED");
        snprintf(path, sizeof path, "%s/ref/keys/%s%s", shared ? shared : "../shared", file,
                 strstr(file, ".txt") ? "" : ".txt");
    }
    FILE *f = fopen(path, "r");
    if (!f)
        die("cannot open key list %s", path);
    int nodots = strstr(flags, "nodots") != NULL;
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        char *sp = strchr(line, ' ');
        if (!sp)
            continue;
        *sp = 0;
        if (drop && strstr(line, drop))
            continue;
        if (only && !strstr(line, only))
            continue;
        uint64_t shape[CKPT_MAX_DIMS];
        uint32_t nd = parse_shape(sp + 1, shape, rank);
        char name[4096];
        char key[4096];
        snprintf(key, sizeof key, "%s", line);
        if (nodots) {
            char *o = key;
            for (char *p = line; *p; p++)
                if (*p != '.')
                    *o++ = *p;
            *o = 0;
        }
        snprintf(name, sizeof name, "%s%s", prefix, key);
        enum ckpt_dtype t = dt;
        if (strstr(name, "position_ids"))
            t = CKPT_DT_I64;
        add(name, t, nd, shape);
    }
    fclose(f);
    free(copy);
}

static void put_value(unsigned char *p, enum ckpt_dtype t, double v)
{
    switch (t) {
    case CKPT_DT_F32: {
        float f = (float)v;
        memcpy(p, &f, 4);
        break;
    }
    case CKPT_DT_F64:
        memcpy(p, &v, 8);
        break;
    case CKPT_DT_F16: {
        uint16_t h = ckpt_f64_to_f16(v);
        memcpy(p, &h, 2);
        break;
    }
    case CKPT_DT_BF16: {
        uint16_t h = ckpt_f64_to_bf16(v);
        memcpy(p, &h, 2);
        break;
    }
    case CKPT_DT_I64: {
        int64_t i = (int64_t)v;
        memcpy(p, &i, 8);
        break;
    }
    case CKPT_DT_I32: {
        int32_t i = (int32_t)v;
        memcpy(p, &i, 4);
        break;
    }
    default: {
        unsigned es = ckpt_dtype_bits(t) / 8;
        if (es)
            memset(p, 0, es);
    }
    }
}

static void usage(void)
{
    fprintf(
        stderr,
        "usage: mkfixture -o OUT [--force] [--dtype F16] [--rank N] [--data random|zero|sparse]\n"
        "         [--seed N] [--drop SUBSTR] [--only SUBSTR] [--meta KEY=VALUE]...\n"
        "         [--keys LIST[:PREFIX[:nodots]]]... [--tensor NAME:DTYPE:d0,d1]...\n"
        "         [--position-ids ok|float|broken]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *out = NULL, *data = "random", *drop = NULL, *only = NULL, *posmode = "ok";
    enum ckpt_dtype dt = CKPT_DT_F16;
    uint64_t rank = 8;
    int force = 0;
    char **metas = calloc((size_t)argc, sizeof *metas);
    size_t nmeta = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-o") && v)
            out = argv[++i];
        else if (!strcmp(a, "--force"))
            force = 1;
        else if (!strcmp(a, "--dtype") && v)
            dt = parse_dtype(argv[++i]);
        else if (!strcmp(a, "--rank") && v)
            rank = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(a, "--data") && v)
            data = argv[++i];
        else if (!strcmp(a, "--seed") && v)
            rng_state = strtoull(argv[++i], NULL, 10) * 0x9E3779B97F4A7C15ull + 1;
        else if (!strcmp(a, "--drop") && v)
            drop = argv[++i];
        else if (!strcmp(a, "--only") && v)
            only = argv[++i];
        else if (!strcmp(a, "--position-ids") && v)
            posmode = argv[++i];
        else if (!strcmp(a, "--meta") && v)
            metas[nmeta++] = argv[++i];
        else if (!strcmp(a, "--keys") && v)
            load_keys(argv[++i], dt, rank, drop, only);
        else if (!strcmp(a, "--tensor") && v) {
            char *s = strdup(argv[++i]);
            char *c2 = strrchr(s, ':');
            if (!c2)
                usage();
            *c2 = 0;
            char *c1 = strrchr(s, ':');
            if (!c1)
                usage();
            *c1 = 0;
            uint64_t shape[CKPT_MAX_DIMS];
            uint32_t nd = parse_shape(c2 + 1, shape, rank);
            add(s, parse_dtype(c1 + 1), nd, shape);
            free(s);
        } else
            usage();
    }
    if (!out)
        usage();
    struct ckpt_error err;
    struct ckpt_st_writer *w;
    if (ckpt_st_writer_open(&w, out, force, &err)) {
        fprintf(stderr, "mkfixture: %s\n", err.msg);
        return 1;
    }
    for (size_t i = 0; i < nmeta; i++) {
        char *eq = strchr(metas[i], '=');
        if (!eq)
            usage();
        *eq = 0;
        if (ckpt_st_writer_meta(w, metas[i], eq + 1, &err))
            goto fail;
    }
    for (size_t i = 0; i < ndecls; i++) {
        if (strstr(decls[i].name, "position_ids") && !strcmp(posmode, "float"))
            decls[i].dtype = CKPT_DT_F32;
        if (ckpt_st_writer_declare(w, decls[i].name, decls[i].dtype, decls[i].ndim, decls[i].shape,
                                   &err))
            goto fail;
    }
    int sparse = !strcmp(data, "sparse"), zero = !strcmp(data, "zero");
    for (size_t i = 0; i < ndecls; i++) {
        const struct decl *d = &decls[i];
        uint64_t numel = 1, nb;
        for (uint32_t k = 0; k < d->ndim; k++)
            numel *= d->shape[k];
        ckpt_dtype_nbytes(d->dtype, numel, &nb);
        int is_pos = strstr(d->name, "position_ids") != NULL;
        int is_alpha = strlen(d->name) > 6 && !strcmp(d->name + strlen(d->name) - 6, ".alpha");
        if (sparse && !is_pos && !is_alpha) {
            if (ckpt_st_writer_zeros(w, nb, &err))
                goto fail;
            continue;
        }
        unsigned char *buf = calloc(1, nb ? nb : 1);
        if (!buf) {
            fprintf(stderr, "mkfixture: out of memory\n");
            return 1;
        }
        unsigned es = ckpt_dtype_bits(d->dtype) / 8;
        if (es) {
            for (uint64_t k = 0; k < numel; k++) {
                double v;
                if (is_pos) {
                    v = (double)k;
                    if (!strcmp(posmode, "broken") && k >= 60)
                        v = (double)k - 1; /* the classic off-by-one tail */
                    if (!strcmp(posmode, "float") && k % 7 == 3)
                        v = (double)k - 0.0001; /* fp16 round-trip damage */
                } else if (is_alpha) {
                    v = (double)rank;
                } else if (zero || !ckpt_dtype_is_float(d->dtype)) {
                    v = 0;
                } else {
                    v = gauss() * 0.02;
                }
                put_value(buf + k * es, d->dtype, v);
            }
        }
        int rc = ckpt_st_writer_data(w, buf, nb, &err);
        free(buf);
        if (rc)
            goto fail;
    }
    if (ckpt_st_writer_finish(w, &err)) {
        fprintf(stderr, "mkfixture: %s\n", err.msg);
        return 1;
    }
    for (size_t i = 0; i < ndecls; i++)
        free(decls[i].name);
    free(decls);
    free(metas);
    return 0;
fail:
    fprintf(stderr, "mkfixture: %s\n", err.msg);
    ckpt_st_writer_abort(w);
    return 1;
}
