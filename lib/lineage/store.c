/* Storing lineage fingerprints: the compact binary blob the catalog keeps, its parser, and the
 * small getters over an in-memory fingerprint.
 *
 * Blob (little-endian): "CKLF", u32 version (1), u32 family, u32 k (256), u32 blocks, u32
 * tensors; per block: name[8] (NUL-padded), u16 rank, u8 component, u8 0, f64 floor2, f64 sumsq,
 * u64 sampled, f32 sketch[k]; per tensor: u64 name hash, u64 digest, u64 numel, f64 mean, std,
 * l2, absmax, u16 block (0xffff none), u8 component, u8 dtype. About 99 KB for a full SD1
 * checkpoint (1,131 tensors, 29 blocks), 170 KB for SDXL. Derived values (block and component
 * digests, folded sketches) are recomputed on load, never stored. Not for computing or
 * comparing fingerprints. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ckptdb/buf.h"
#include "ckptdb/identify.h"
#include "lineage_impl.h"

#define MAGIC "CKLF"
#define VERSION 1u
#define BLOCK_BYTES (8 + 2 + 1 + 1 + 8 + 8 + 8 + 4 * CKPT_LINEAGE_K)
#define TENSOR_BYTES (8 * 7 + 2 + 1 + 1)

void ckpt_lineage_fp_free(struct ckpt_lineage_fp *fp)
{
    if (!fp)
        return;
    free(fp->label);
    free(fp->blocks);
    free(fp->tensors);
    free(fp);
}

int ckpt_lineage_fp_set_label(struct ckpt_lineage_fp *fp, const char *label)
{
    char *l = NULL;
    if (label && !(l = strdup(label)))
        return CKPT_E_NOMEM;
    free(fp->label);
    fp->label = l;
    return CKPT_OK;
}

const char *ckpt_lineage_fp_label(const struct ckpt_lineage_fp *fp)
{
    return fp->label ? fp->label : "";
}

const char *ckpt_lineage_fp_family(const struct ckpt_lineage_fp *fp)
{
    const char *n = ckpt_family_name((enum ckpt_family)fp->family);
    return n ? n : "unknown";
}

size_t ckpt_lineage_fp_tensor_count(const struct ckpt_lineage_fp *fp)
{
    return fp->nt;
}

size_t ckpt_lineage_fp_block_count(const struct ckpt_lineage_fp *fp)
{
    return fp->nb;
}

const char *ckpt_lineage_fp_block_name(const struct ckpt_lineage_fp *fp, size_t i)
{
    return i < fp->nb ? fp->blocks[i].name : NULL;
}

uint64_t ckpt_lineage_fp_block_digest(const struct ckpt_lineage_fp *fp, size_t i)
{
    return i < fp->nb ? fp->blocks[i].digest : 0;
}

uint64_t ckpt_lineage_fp_component_digest(const struct ckpt_lineage_fp *fp, const char *name)
{
    for (unsigned c = 0; c < LC_COUNT; c++)
        if (!strcmp(lin_comp_name(c), name))
            return fp->comp_digest[c];
    return 0;
}

long lin_fp_find_block(const struct ckpt_lineage_fp *fp, const char *name)
{
    for (size_t i = 0; i < fp->nb; i++)
        if (!strcmp(fp->blocks[i].name, name))
            return (long)i;
    return -1;
}

int ckpt_lineage_fp_tensor(const struct ckpt_lineage_fp *fp, const char *name,
                           struct ckpt_lineage_tensor_stats *out)
{
    uint64_t h = lin_hash_str(name, strlen(name));
    size_t lo = 0, hi = fp->nt;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (fp->tensors[mid].name_hash < h)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo >= fp->nt || fp->tensors[lo].name_hash != h)
        return CKPT_E_NOTFOUND;
    const struct lin_tensor *t = &fp->tensors[lo];
    out->name_hash = t->name_hash;
    out->digest = t->digest;
    out->numel = t->numel;
    out->mean = t->mean;
    out->std = t->std;
    out->l2 = t->l2;
    out->absmax = t->absmax;
    out->block = t->block < fp->nb ? fp->blocks[t->block].name : NULL;
    return CKPT_OK;
}

static int cmp_tensor(const void *a, const void *b)
{
    const struct lin_tensor *x = a, *y = b;
    return x->name_hash < y->name_hash ? -1 : x->name_hash > y->name_hash;
}

void lin_fp_derive(struct ckpt_lineage_fp *fp)
{
    size_t i0 = 1;
    while (i0 < fp->nt && fp->tensors[i0 - 1].name_hash <= fp->tensors[i0].name_hash)
        i0++;
    if (i0 < fp->nt) /* a saved blob is in order already */
        qsort(fp->tensors, fp->nt, sizeof *fp->tensors, cmp_tensor);
    for (size_t b = 0; b < fp->nb; b++) {
        fp->blocks[b].digest = 0x6c696e65616765ull;
        memset(fp->blocks[b].fold, 0, sizeof fp->blocks[b].fold);
        for (int k = 0; k < CKPT_LINEAGE_K; k++)
            fp->blocks[b].fold[k % LIN_FOLD] += fp->blocks[b].sketch[k];
    }
    for (unsigned c = 0; c < LC_COUNT; c++)
        fp->comp_digest[c] = 0;
    for (size_t i = 0; i < fp->nt; i++) {
        const struct lin_tensor *t = &fp->tensors[i];
        uint64_t v = lin_mix64(t->name_hash ^ lin_mix64(t->digest));
        if (t->block < fp->nb)
            fp->blocks[t->block].digest = lin_mix64(fp->blocks[t->block].digest ^ v);
        if (t->comp < LC_COUNT)
            fp->comp_digest[t->comp] = lin_mix64((fp->comp_digest[t->comp] | 1) ^ v);
    }
}

/* ---- blob --------------------------------------------------------------------------------------
 */

static void put_u16(struct ckpt_buf *b, uint16_t v)
{
    uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    ckpt_buf_put(b, x, 2);
}

static void put_u32(struct ckpt_buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    ckpt_buf_put(b, x, 4);
}

static void put_u64(struct ckpt_buf *b, uint64_t v)
{
    put_u32(b, (uint32_t)v);
    put_u32(b, (uint32_t)(v >> 32));
}

static void put_f64(struct ckpt_buf *b, double d)
{
    uint64_t v;
    memcpy(&v, &d, 8);
    put_u64(b, v);
}

void ckpt_lineage_fp_save(const struct ckpt_lineage_fp *fp, struct ckpt_buf *b)
{
    ckpt_buf_put(b, MAGIC, 4);
    put_u32(b, VERSION);
    put_u32(b, (uint32_t)fp->family);
    put_u32(b, CKPT_LINEAGE_K);
    put_u32(b, (uint32_t)fp->nb);
    put_u32(b, (uint32_t)fp->nt);
    for (size_t i = 0; i < fp->nb; i++) {
        const struct lin_block *k = &fp->blocks[i];
        char name[8] = {0};
        memcpy(name, k->name, strnlen(k->name, 7));
        ckpt_buf_put(b, name, 8);
        put_u16(b, k->rank);
        ckpt_buf_putc(b, (char)k->comp);
        ckpt_buf_putc(b, 0);
        put_f64(b, k->floor2);
        put_f64(b, k->sumsq);
        put_u64(b, k->nsampled);
        for (int j = 0; j < CKPT_LINEAGE_K; j++) {
            uint32_t v;
            memcpy(&v, &k->sketch[j], 4);
            put_u32(b, v);
        }
    }
    for (size_t i = 0; i < fp->nt; i++) {
        const struct lin_tensor *t = &fp->tensors[i];
        put_u64(b, t->name_hash);
        put_u64(b, t->digest);
        put_u64(b, t->numel);
        put_f64(b, t->mean);
        put_f64(b, t->std);
        put_f64(b, t->l2);
        put_f64(b, t->absmax);
        put_u16(b, t->block);
        ckpt_buf_putc(b, (char)t->comp);
        ckpt_buf_putc(b, (char)t->dtype);
    }
}

static uint64_t get_le(const uint8_t *p, int n)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (n == 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        return v;
    }
    if (n == 4) {
        uint32_t v;
        memcpy(&v, p, 4);
        return v;
    }
#endif
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static double get_f64(const uint8_t *p)
{
    uint64_t v = get_le(p, 8);
    double d;
    memcpy(&d, &v, 8);
    return d;
}

int ckpt_lineage_fp_load(const void *data, size_t len, const char *name,
                         struct ckpt_lineage_fp **out, struct ckpt_error *err)
{
    *out = NULL;
    const uint8_t *p = data;
    if (!name)
        name = "fingerprint";
    if (len < 24 || memcmp(p, MAGIC, 4) != 0)
        return ckpt_error_setf(err, CKPT_E_FORMAT, name, "not a lineage fingerprint (magic)");
    uint32_t ver = (uint32_t)get_le(p + 4, 4), fam = (uint32_t)get_le(p + 8, 4),
             k = (uint32_t)get_le(p + 12, 4), nb = (uint32_t)get_le(p + 16, 4),
             nt = (uint32_t)get_le(p + 20, 4);
    if (ver != VERSION)
        return ckpt_error_setf(err, CKPT_E_UNSUPPORTED, name,
                               "fingerprint version %u (this build reads %u)", ver, VERSION);
    if (k != CKPT_LINEAGE_K || fam >= CKPT_FAM_COUNT || nb > CKPT_LINEAGE_MAX_BLOCKS)
        return ckpt_error_setf(err, CKPT_E_FORMAT, name,
                               "bad fingerprint header (k %u, family %u, %u blocks)", k, fam, nb);
    uint64_t need = 24 + (uint64_t)nb * BLOCK_BYTES + (uint64_t)nt * TENSOR_BYTES;
    if (need != len)
        return ckpt_error_setf(err, CKPT_E_FORMAT, name,
                               "fingerprint of %zu bytes, its counts say %llu", len,
                               (unsigned long long)need);
    struct ckpt_lineage_fp *fp = calloc(1, sizeof *fp);
    if (fp) {
        /* every field is set below or by lin_fp_derive: no zeroing (a query loads 64 blobs) */
        fp->blocks = malloc((nb ? nb : 1) * sizeof *fp->blocks);
        fp->tensors = malloc((nt ? nt : 1) * sizeof *fp->tensors);
    }
    if (!fp || !fp->blocks || !fp->tensors) {
        ckpt_lineage_fp_free(fp);
        return ckpt_error_setf(err, CKPT_E_NOMEM, name, "out of memory");
    }
    fp->family = (int)fam;
    fp->nb = nb;
    fp->nt = nt;
    const uint8_t *q = p + 24;
    const char *bad = NULL;
    for (uint32_t i = 0; i < nb && !bad; i++, q += BLOCK_BYTES) {
        struct lin_block *b = &fp->blocks[i];
        if (q[7] != 0 || q[0] == 0)
            bad = "block name";
        memcpy(b->name, q, 8);
        b->rank = (uint16_t)get_le(q + 8, 2);
        b->comp = q[10];
        b->floor2 = get_f64(q + 12);
        b->sumsq = get_f64(q + 20);
        b->nsampled = get_le(q + 28, 8);
        if (b->comp >= LC_COUNT)
            bad = "block component";
        if (!isfinite(b->floor2) || !isfinite(b->sumsq) || b->floor2 < 0 || b->sumsq < 0)
            bad = "block norms";
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        memcpy(b->sketch, q + 36, sizeof b->sketch);
#else
        for (int j = 0; j < CKPT_LINEAGE_K; j++) {
            uint32_t v = (uint32_t)get_le(q + 36 + 4 * j, 4);
            memcpy(&b->sketch[j], &v, 4);
        }
#endif
        for (int j = 0; j < CKPT_LINEAGE_K; j++)
            if (!isfinite(b->sketch[j]))
                bad = "sketch value";
        for (uint32_t j = 0; j < i && !bad; j++)
            if (!strcmp(fp->blocks[j].name, b->name))
                bad = "duplicate block";
    }
    for (uint32_t i = 0; i < nt && !bad; i++, q += TENSOR_BYTES) {
        struct lin_tensor *t = &fp->tensors[i];
        t->name_hash = get_le(q, 8);
        t->digest = get_le(q + 8, 8);
        t->numel = get_le(q + 16, 8);
        t->mean = get_f64(q + 24);
        t->std = get_f64(q + 32);
        t->l2 = get_f64(q + 40);
        t->absmax = get_f64(q + 48);
        t->block = (uint16_t)get_le(q + 56, 2);
        t->comp = q[58];
        t->dtype = q[59];
        if ((t->block >= nb && t->block != 0xffff) || t->comp >= LC_COUNT)
            bad = "tensor block or component";
    }
    if (bad) {
        ckpt_lineage_fp_free(fp);
        return ckpt_error_setf(err, CKPT_E_FORMAT, name, "bad fingerprint: %s", bad);
    }
    lin_fp_derive(fp);
    *out = fp;
    return CKPT_OK;
}

/* ---- the pre-filter form -------------------------------------------------------------------
 * "LF2" 0, u32 block count, then per block its name (8 bytes, NUL padded) and SAVE_FOLD floats
 * (little-endian IEEE): the folded sketch folded once more (bucket k + SAVE_FOLD added to k),
 * still linear, half the bytes for the one pass over every model's row. */

#define SAVE_FOLD (LIN_FOLD / 2)

static void fold_half(const struct lin_block *b, float *out)
{
    for (int k = 0; k < SAVE_FOLD; k++)
        out[k] = b->fold[k] + b->fold[k + SAVE_FOLD];
}

void ckpt_lineage_fp_fold_save(const struct ckpt_lineage_fp *fp, struct ckpt_buf *b)
{
    ckpt_buf_put(b, "LF2", 4);
    put_u32(b, (uint32_t)fp->nb);
    for (size_t i = 0; i < fp->nb; i++) {
        char name[8] = {0};
        float f[SAVE_FOLD];
        memcpy(name, fp->blocks[i].name, strnlen(fp->blocks[i].name, 7));
        ckpt_buf_put(b, name, 8);
        fold_half(&fp->blocks[i], f);
        for (int k = 0; k < SAVE_FOLD; k++) {
            uint32_t v;
            memcpy(&v, &f[k], 4);
            put_u32(b, v);
        }
    }
}

struct ckpt_lineage_foldq {
    size_t nb;
    char (*names)[8];   /* the query's block names, NUL padded */
    const char **cname; /* the same, as the fingerprint holds them */
    float *q;           /* nb x SAVE_FOLD: the query's saved-form fold */
};

struct ckpt_lineage_foldq *ckpt_lineage_foldq_new(const struct ckpt_lineage_fp *fp)
{
    struct ckpt_lineage_foldq *fq = calloc(1, sizeof *fq);
    size_t nb = fp->nb ? fp->nb : 1;
    if (!fq || !(fq->names = calloc(nb, sizeof *fq->names)) ||
        !(fq->cname = calloc(nb, sizeof *fq->cname)) ||
        !(fq->q = calloc(nb * SAVE_FOLD, sizeof *fq->q))) {
        ckpt_lineage_foldq_free(fq);
        return NULL;
    }
    fq->nb = fp->nb;
    for (size_t i = 0; i < fp->nb; i++) {
        memcpy(fq->names[i], fp->blocks[i].name, strnlen(fp->blocks[i].name, 8));
        fq->cname[i] = fp->blocks[i].name;
        fold_half(&fp->blocks[i], fq->q + i * SAVE_FOLD);
    }
    return fq;
}

void ckpt_lineage_foldq_free(struct ckpt_lineage_foldq *fq)
{
    if (!fq)
        return;
    free(fq->names);
    free(fq->cname);
    free(fq->q);
    free(fq);
}

/* The row's block of the query's block i (its name compared as strncmp does), or NULL. */
static const uint8_t *fold_row(const struct ckpt_lineage_foldq *fq, const uint8_t *p, size_t i)
{
    const size_t per = 8 + 4 * SAVE_FOLD;
    const uint8_t *r = p + 8 + i * per;
    if (!memcmp(r, fq->names[i], 8) || !strncmp((const char *)r, fq->cname[i], 8))
        return r;
    /* another order: find it */
    for (size_t j = 0; j < fq->nb; j++)
        if (!strncmp((const char *)(p + 8 + j * per), fq->cname[i], 8))
            return p + 8 + j * per;
    return NULL;
}

double ckpt_lineage_foldq_distance(const struct ckpt_lineage_foldq *fq, const void *fold,
                                   size_t len, double bound)
{
    const uint8_t *p = fold;
    const size_t per = 8 + 4 * SAVE_FOLD;
    if (!p || len < 8 || memcmp(p, "LF2", 4))
        return -1;
    uint64_t nb = get_le(p + 4, 4);
    if (nb != fq->nb || len != 8 + nb * per)
        return -1;
    double d = 0;
    for (size_t i = 0; i < fq->nb; i++) {
        const uint8_t *r = fold_row(fq, p, i);
        if (!r)
            return -1;
        const float *q = fq->q + i * SAVE_FOLD;
        float f[SAVE_FOLD];
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        memcpy(f, r + 8, sizeof f);
#else
        for (int k = 0; k < SAVE_FOLD; k++) {
            uint32_t v = (uint32_t)get_le(r + 8 + 4 * k, 4);
            memcpy(&f[k], &v, 4);
        }
#endif
        double tt[SAVE_FOLD]; /* the squares apart (vectorised), summed in order (same bits) */
        for (int k = 0; k < SAVE_FOLD; k++) {
            double t = (double)q[k] - f[k];
            tt[k] = t * t;
        }
        for (int k = 0; k < SAVE_FOLD; k++)
            d += tt[k];
        if (d > bound) /* the rest only adds: already farther than the caller needs */
            return d;
    }
    return d;
}

double ckpt_lineage_fold_distance(const struct ckpt_lineage_fp *fp, const void *fold, size_t len)
{
    struct ckpt_lineage_foldq *fq = ckpt_lineage_foldq_new(fp);
    double d = fq ? ckpt_lineage_foldq_distance(fq, fold, len, INFINITY) : -1;
    ckpt_lineage_foldq_free(fq);
    return d;
}
