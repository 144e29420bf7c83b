/* st2gguf: writes a GGUF test fixture from a safetensors fixture, the way city96's converter
 * (ComfyUI-GGUF tools/convert.py) or stable-diffusion.cpp lay their files out.
 *
 * Tensors keep their names (optionally with a prefix stripped), their dims reversed to ggml
 * order, and their data: F32/F16/BF16 converted as asked, weights of 2+ dims quantized with
 * --quant (Q8_0 and Q4_0 for real; other block types get made-up but well-formed blocks: every
 * 16-bit word, so every f16 scale, is finite). Key/values are written only when asked (no option:
 * an sd.cpp-style file with none at all). --sparse writes every float tensor's bytes as a hole, so
 * an SDXL-shaped GGUF costs no disk. Deterministic. Not part of the product: a generator for tests.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckptdb/atomic.h"
#include "ckptdb/fp.h"
#include "ckptdb/tensorset.h"

enum { KV_STR, KV_U32, KV_STRARR, KV_F32ARR, KV_I32ARR };

struct kv {
    char *key;
    int kind;
    char *s;          /* KV_STR value / KV_STRARR comma list */
    uint64_t n;       /* KV_U32 value / KV_F32ARR length */
    uint64_t ints[8]; /* KV_I32ARR */
    uint32_t nints;
};

static struct kv *kvs;
static size_t nkv;

static void die(const char *msg, const char *arg)
{
    fprintf(stderr, "st2gguf: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
    exit(1);
}

static void add_kv(const char *key, int kind, const char *s, uint64_t n)
{
    kvs = realloc(kvs, (nkv + 1) * sizeof *kvs);
    if (!kvs)
        die("out of memory", NULL);
    struct kv *k = &kvs[nkv++];
    memset(k, 0, sizeof *k);
    k->key = strdup(key);
    k->kind = kind;
    k->s = s ? strdup(s) : NULL;
    k->n = n;
}

/* ---- output -------------------------------------------------------------------------------- */

static struct ckpt_atomic_file *out;
static struct ckpt_error err;

static void put(const void *p, size_t n)
{
    if (ckpt_atomic_write(out, p, n, &err))
        die(err.msg, NULL);
}

static void put_u32(uint32_t v)
{
    unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 24)};
    put(b, 4);
}

static void put_u64(uint64_t v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    put(b, 8);
}

static void put_str(const char *s, size_t n)
{
    put_u64(n);
    put(s, n);
}

static void write_kv(const struct kv *k)
{
    put_str(k->key, strlen(k->key));
    switch (k->kind) {
    case KV_STR:
        put_u32(8);
        put_str(k->s, strlen(k->s));
        break;
    case KV_U32:
        put_u32(4);
        put_u32((uint32_t)k->n);
        break;
    case KV_STRARR: {
        uint64_t n = 1;
        for (const char *p = k->s; *p; p++)
            n += *p == ',';
        put_u32(9);
        put_u32(8);
        put_u64(n);
        const char *p = k->s;
        for (;;) {
            size_t l = strcspn(p, ",");
            put_str(p, l);
            if (!p[l])
                break;
            p += l + 1;
        }
        break;
    }
    case KV_F32ARR:
        put_u32(9);
        put_u32(6);
        put_u64(k->n);
        for (uint64_t i = 0; i < k->n; i++) {
            float f = -(float)i / 4.0f;
            put(&f, 4);
        }
        break;
    case KV_I32ARR:
        put_u32(9);
        put_u32(5);
        put_u64(k->nints);
        for (uint32_t i = 0; i < k->nints; i++)
            put_u32((uint32_t)k->ints[i]);
        break;
    }
}

/* ---- types --------------------------------------------------------------------------------- */

static const struct {
    const char *name;
    uint32_t id;
    enum ckpt_dtype dt;
} types[] = {
    {"F32", 0, CKPT_DT_F32},        {"F16", 1, CKPT_DT_F16},        {"Q4_0", 2, CKPT_DT_Q4_0},
    {"Q4_1", 3, CKPT_DT_Q4_1},      {"Q5_0", 6, CKPT_DT_Q5_0},      {"Q5_1", 7, CKPT_DT_Q5_1},
    {"Q8_0", 8, CKPT_DT_Q8_0},      {"Q2_K", 10, CKPT_DT_Q2_K},     {"Q3_K", 11, CKPT_DT_Q3_K},
    {"Q4_K", 12, CKPT_DT_Q4_K},     {"Q5_K", 13, CKPT_DT_Q5_K},     {"Q6_K", 14, CKPT_DT_Q6_K},
    {"IQ4_NL", 20, CKPT_DT_IQ4_NL}, {"IQ4_XS", 23, CKPT_DT_IQ4_XS}, {"I8", 24, CKPT_DT_I8},
    {"I16", 25, CKPT_DT_I16},       {"I32", 26, CKPT_DT_I32},       {"I64", 27, CKPT_DT_I64},
    {"F64", 28, CKPT_DT_F64},       {"BF16", 30, CKPT_DT_BF16},     {"TQ2_0", 35, CKPT_DT_TQ2_0},
    {"MXFP4", 39, CKPT_DT_MXFP4},
};

static int type_index(const char *name)
{
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (!strcmp(types[i].name, name))
            return (int)i;
    return -1;
}

static int type_of(enum ckpt_dtype dt)
{
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (types[i].dt == dt)
            return (int)i;
    return -1;
}

static float to_f32(enum ckpt_dtype dt, const unsigned char *p)
{
    uint16_t h;
    float f;
    switch (dt) {
    case CKPT_DT_F32:
        memcpy(&f, p, 4);
        return f;
    case CKPT_DT_F16:
        memcpy(&h, p, 2);
        return ckpt_f16_to_f32(h);
    case CKPT_DT_BF16:
        memcpy(&h, p, 2);
        return ckpt_bf16_to_f32(h);
    default:
        return 0;
    }
}

/* Encode n floats as type t into o (which has room for the encoded size). */
static void encode(enum ckpt_dtype t, const float *x, uint64_t n, unsigned char *o, uint64_t nbytes,
                   uint64_t *rng)
{
    uint32_t be, bb;
    ckpt_dtype_block(t, &be, &bb);
    if (t == CKPT_DT_F32) {
        memcpy(o, x, n * 4);
    } else if (t == CKPT_DT_F16 || t == CKPT_DT_BF16) {
        for (uint64_t i = 0; i < n; i++) {
            uint16_t h = t == CKPT_DT_F16 ? ckpt_f32_to_f16(x[i]) : ckpt_f32_to_bf16(x[i]);
            memcpy(o + 2 * i, &h, 2);
        }
    } else if (t == CKPT_DT_Q8_0) {
        for (uint64_t b = 0; b < n / 32; b++, o += 34) {
            const float *v = x + b * 32;
            float amax = 0;
            for (int i = 0; i < 32; i++)
                amax = fmaxf(amax, fabsf(v[i]));
            float d = amax / 127.0f, id = d ? 1.0f / d : 0;
            uint16_t h = ckpt_f32_to_f16(d);
            memcpy(o, &h, 2);
            for (int i = 0; i < 32; i++)
                o[2 + i] = (unsigned char)(int8_t)lrintf(v[i] * id);
        }
    } else if (t == CKPT_DT_Q4_0) {
        for (uint64_t b = 0; b < n / 32; b++, o += 18) {
            const float *v = x + b * 32;
            float amax = 0, max = 0;
            for (int i = 0; i < 32; i++)
                if (fabsf(v[i]) > amax) {
                    amax = fabsf(v[i]);
                    max = v[i];
                }
            float d = max / -8.0f, id = d ? 1.0f / d : 0;
            uint16_t h = ckpt_f32_to_f16(d);
            memcpy(o, &h, 2);
            for (int i = 0; i < 16; i++) {
                int q0 = (int)(v[i] * id + 8.5f), q1 = (int)(v[i + 16] * id + 8.5f);
                q0 = q0 < 0 ? 0 : q0 > 15 ? 15 : q0;
                q1 = q1 < 0 ? 0 : q1 > 15 ? 15 : q1;
                o[2 + i] = (unsigned char)(q0 | q1 << 4);
            }
        }
    } else if (be == 1) { /* integer types: zeros */
        memset(o, 0, nbytes);
    } else { /* made-up blocks; every little-endian 16-bit word is a finite f16 below 2 */
        for (uint64_t i = 0; i < nbytes; i++) {
            uint64_t s = *rng;
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            *rng = s;
            o[i] = (unsigned char)(i % 2 ? (s & 0x3B) : s);
        }
    }
}

static void usage(void)
{
    fprintf(stderr,
            "usage: st2gguf -i IN.safetensors -o OUT.gguf [--force] [--strip PREFIX]\n"
            "         [--arch NAME] [--quant TYPE] [--float F32|F16|BF16] [--alignment N]\n"
            "         [--version 2|3] [--meta KEY=VALUE] [--u32 KEY=N]\n"
            "         [--string-array KEY=a,b,c] [--f32-array KEY=N] [--orig-shape SUBSTR]\n"
            "         [--sparse]\n"
            "  --quant applies to tensors of 2+ dims whose name ends in 'weight' and whose last\n"
            "  dim is a multiple of the block size; Q8_0 and Q4_0 are real, others made up.\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *in = NULL, *outp = NULL, *strip = NULL, *quant = NULL, *flt = NULL, *orig = NULL;
    uint32_t alignment = 0, version = 3;
    int force = 0, sparse = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--force")) {
            force = 1;
            continue;
        }
        if (!strcmp(a, "--sparse")) {
            sparse = 1;
            continue;
        }
        if (!v)
            usage();
        i++;
        if (!strcmp(a, "-i"))
            in = v;
        else if (!strcmp(a, "-o"))
            outp = v;
        else if (!strcmp(a, "--strip"))
            strip = v;
        else if (!strcmp(a, "--arch"))
            add_kv("general.architecture", KV_STR, v, 0);
        else if (!strcmp(a, "--quant"))
            quant = v;
        else if (!strcmp(a, "--float"))
            flt = v;
        else if (!strcmp(a, "--alignment"))
            alignment = (uint32_t)strtoul(v, NULL, 10);
        else if (!strcmp(a, "--version"))
            version = (uint32_t)strtoul(v, NULL, 10);
        else if (!strcmp(a, "--orig-shape"))
            orig = v;
        else if (!strcmp(a, "--meta") || !strcmp(a, "--u32") || !strcmp(a, "--string-array") ||
                 !strcmp(a, "--f32-array")) {
            char *k = strdup(v), *eq = strchr(k, '=');
            if (!eq)
                usage();
            *eq = 0;
            if (!strcmp(a, "--meta"))
                add_kv(k, KV_STR, eq + 1, 0);
            else if (!strcmp(a, "--string-array"))
                add_kv(k, KV_STRARR, eq + 1, 0);
            else
                add_kv(k, !strcmp(a, "--u32") ? KV_U32 : KV_F32ARR, NULL,
                       strtoull(eq + 1, NULL, 10));
            free(k);
        } else
            usage();
    }
    if (!in || !outp)
        usage();
    int qi = quant ? type_index(quant) : -1, fi = flt ? type_index(flt) : -1;
    if ((quant && qi < 0) || (flt && fi < 0))
        die("unknown type", quant && qi < 0 ? quant : flt);
    struct ckpt_tensorset *ts;
    if (ckpt_tensorset_open(&ts, in, NULL, &err))
        die(err.msg, NULL);
    size_t n = ckpt_tensorset_count(ts);
    int *tix = calloc(n ? n : 1, sizeof *tix);
    uint64_t *offs = calloc(n ? n : 1, sizeof *offs), *sizes = calloc(n ? n : 1, sizeof *sizes);
    const char **names = calloc(n ? n : 1, sizeof *names);
    if (!tix || !offs || !sizes || !names)
        die("out of memory", NULL);
    uint32_t align = alignment ? alignment : 32;
    int any_quant = 0;
    uint64_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        const struct ckpt_tensor *t = ckpt_tensorset_tensor(ts, i);
        names[i] = t->name;
        if (strip && !strncmp(t->name, strip, strlen(strip)))
            names[i] = t->name + strlen(strip);
        int k = type_of(t->dtype);
        if (k < 0)
            die("input dtype has no ggml type", ckpt_dtype_name(t->dtype));
        if (fi >= 0 && ckpt_dtype_is_float(t->dtype))
            k = fi;
        size_t nl = strlen(t->name);
        uint32_t be, bb;
        if (qi >= 0 && t->ndim >= 2 && nl >= 6 && !strcmp(t->name + nl - 6, "weight") &&
            ckpt_dtype_block(types[qi].dt, &be, &bb) && t->shape[t->ndim - 1] % be == 0) {
            k = qi;
            any_quant |= ckpt_dtype_is_quantized(types[qi].dt);
        }
        tix[i] = k;
        ckpt_dtype_nbytes(types[k].dt, t->numel, &sizes[i]);
        pos = (pos + align - 1) / align * align;
        offs[i] = pos;
        pos += sizes[i];
        if (orig && strstr(t->name, orig) && t->ndim <= 8) {
            char key[1024];
            snprintf(key, sizeof key, "comfy.gguf.orig_shape.%s", names[i]);
            add_kv(key, KV_I32ARR, NULL, 0);
            kvs[nkv - 1].nints = t->ndim;
            memcpy(kvs[nkv - 1].ints, t->shape, t->ndim * sizeof t->shape[0]);
        }
    }
    if (any_quant)
        add_kv("general.quantization_version", KV_U32, NULL, 2);
    if (alignment)
        add_kv("general.alignment", KV_U32, NULL, alignment);
    if (ckpt_atomic_open(&out, outp, force, &err))
        die(err.msg, NULL);
    put("GGUF", 4);
    put_u32(version);
    put_u64(n);
    put_u64(nkv);
    for (size_t i = 0; i < nkv; i++)
        write_kv(&kvs[i]);
    for (size_t i = 0; i < n; i++) {
        const struct ckpt_tensor *t = ckpt_tensorset_tensor(ts, i);
        put_str(names[i], strlen(names[i]));
        put_u32(t->ndim);
        for (uint32_t d = 0; d < t->ndim; d++)
            put_u64(t->shape[t->ndim - 1 - d]);
        put_u32(types[tix[i]].id);
        put_u64(offs[i]);
    }
    uint64_t hdr = ckpt_atomic_offset(out);
    uint64_t data_start = (hdr + align - 1) / align * align;
    static const unsigned char zeros[4096];
    if (data_start - hdr > sizeof zeros)
        die("alignment too large for this tool", NULL);
    put(zeros, data_start - hdr);
    uint64_t rng = 0x243F6A8885A308D3ull, at = 0;
    for (size_t i = 0; i < n; i++) {
        const struct ckpt_tensor *t = ckpt_tensorset_tensor(ts, i);
        if (offs[i] > at && ckpt_atomic_skip(out, offs[i] - at, &err))
            die(err.msg, NULL);
        at = offs[i] + sizes[i];
        if (sparse && ckpt_dtype_is_float(t->dtype)) { /* integer tensors (position_ids) keep
                                                            their values, as mkfixture does */
            if (ckpt_atomic_skip(out, sizes[i], &err))
                die(err.msg, NULL);
            continue;
        }
        unsigned char *src = malloc(t->nbytes ? t->nbytes : 1);
        unsigned char *dst = malloc(sizes[i] ? sizes[i] : 1);
        float *x = malloc((t->numel ? t->numel : 1) * sizeof *x);
        if (!src || !dst || !x)
            die("out of memory", NULL);
        if (ckpt_tensorset_read_tensor(ts, t, src, t->nbytes, &err))
            die(err.msg, NULL);
        enum ckpt_dtype od = types[tix[i]].dt;
        if (od == t->dtype) {
            memcpy(dst, src, sizes[i]);
        } else {
            unsigned es = ckpt_dtype_bits(t->dtype) / 8;
            for (uint64_t e = 0; e < t->numel; e++)
                x[e] = to_f32(t->dtype, src + e * es);
            encode(od, x, t->numel, dst, sizes[i], &rng);
        }
        put(dst, sizes[i]);
        free(src);
        free(dst);
        free(x);
    }
    if (ckpt_atomic_commit(out, &err))
        die(err.msg, NULL);
    ckpt_tensorset_close(ts);
    for (size_t i = 0; i < nkv; i++) {
        free(kvs[i].key);
        free(kvs[i].s);
    }
    free(kvs);
    free(tix);
    free(offs);
    free(sizes);
    free(names);
    return 0;
}
