/* Computing a lineage fingerprint in one streaming pass over a model file's bytes.
 *
 * The tensorset's header says where each tensor's bytes lie; ckpt_lineage_stream_update is
 * handed the file's bytes in order (by the hasher's consumer thread, or by
 * ckpt_lineage_fingerprint_file) and routes each byte range to the tensors it covers. Per tensor
 * it keeps a CRC-32 and the value sum of its bytes (the identity digest), float64 moments, and,
 * for a name-seeded 1/8 of its 64-element chunks (all of them for tensors up to 16 Ki
 * elements), a count sketch of the block (kernel.c: linear in the weights); the expected squared
 * rounding error of the sketched values (the floor) follows from their sum of squares. Tensors the
 * stream cannot see (deflated zip members, strided views, the other files of a diffusers folder)
 * are read through the tensorset in _finish. Not for comparing fingerprints (compare.c, fit.c) nor
 * for storing them (store.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckptdb/fp.h"
#include "ckptdb/hash.h"
#include "ckptdb/identify.h"
#include "ckptdb/tensorset.h"
#include "identify/identify_impl.h"
#include "lineage_impl.h"

#define CHUNK 64
#define SAMPLE_ALL_MAX 16384 /* tensors this small are sketched whole */

uint64_t lin_mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

uint64_t lin_hash_str(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a, then mixed */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ull;
    }
    return lin_mix64(h);
}

const char *lin_comp_name(unsigned comp)
{
    static const char *const n[] = {"unet",           "vae",  "text-encoder", "text-encoder-2",
                                    "text-encoder-3", "other"};
    return comp < LC_COUNT ? n[comp] : "other";
}

/* ---- blocks ------------------------------------------------------------------------------------
 */

static int parse_index(const char *s, const char *prefix, int *out)
{
    size_t pl = strlen(prefix);
    if (strncmp(s, prefix, pl) != 0)
        return 0;
    s += pl;
    int v = 0, nd = 0;
    /* at most 4 digits */
    while (*s >= '0' && *s <= '9' && nd < 4)
        v = v * 10 + (*s++ - '0'), nd++;
    if (!nd || *s != '.')
        return 0;
    *out = v;
    return 1;
}

/* The merge block of a normalised key: name (<= 7 chars) and rank. Returns 0 for tensors that
 * are not sketched (EMA copies, schedule buffers, markers, junk). */
static int block_of(int family, int role, const char *key, char name[8], uint16_t *rank,
                    uint8_t *comp)
{
    int n;
    switch (role) {
    case ROLE_UNET: {
        *comp = LC_UNET;
        int xl = family == CKPT_FAM_SDXL || family == CKPT_FAM_SDXL_REFINER;
        if (parse_index(key, "input_blocks.", &n) && n < 100) {
            snprintf(name, 8, "IN%02d", n % 100);
            *rank = (uint16_t)(10 + n);
        } else if (!strncmp(key, "middle_block.", 13)) {
            strcpy(name, "M00");
            *rank = 200;
        } else if (parse_index(key, "output_blocks.", &n) && n < 100) {
            snprintf(name, 8, "OUT%02d", n % 100);
            *rank = (uint16_t)(300 + n);
        } else if (!strncmp(key, "time_embed.", 11) || !strncmp(key, "label_emb.", 10)) {
            strcpy(name, "IN00");
            *rank = 10;
        } else if (!strncmp(key, "out.", 4)) {
            strcpy(name, xl ? "OUT08" : "OUT11");
            *rank = xl ? 308 : 311;
        } else if (parse_index(key, "double_blocks.", &n) && n < 100) {
            snprintf(name, 8, "D%02d", n % 100);
            *rank = (uint16_t)(400 + n);
        } else if (parse_index(key, "single_blocks.", &n) && n < 100) {
            snprintf(name, 8, "S%02d", n % 100);
            *rank = (uint16_t)(500 + n);
        } else {
            strcpy(name, "UNET");
            *rank = 600;
        }
        return 1;
    }
    case ROLE_TE:
    case ROLE_TE_NAI:
    case ROLE_OPENCLIP0:
        strcpy(name, "TE");
        *rank = 700;
        *comp = LC_TE;
        return 1;
    case ROLE_TE2:
        strcpy(name, "TE2");
        *rank = 701;
        *comp = LC_TE2;
        return 1;
    case ROLE_T5:
        strcpy(name, "TE3");
        *rank = 702;
        *comp = LC_TE3;
        return 1;
    case ROLE_VAE:
        strcpy(name, "VAE");
        *rank = 800;
        *comp = LC_VAE;
        return 1;
    case ROLE_DEPTH:
    case ROLE_UNCLIP:
    case ROLE_IMGENC:
    case ROLE_CONTROL:
        strcpy(name, "BASE");
        *rank = 0;
        *comp = LC_OTHER;
        return 1;
    default:
        return 0;
    }
}

/* ---- the stream --------------------------------------------------------------------------------
 */

struct tstate {
    const struct ckpt_tensor *t;
    uint64_t start, end; /* absolute byte range in the main file (in_stream only) */
    uint64_t pos;        /* next byte expected */
    uint64_t elem;       /* next element index */
    uint64_t seed;
    uint32_t esize;
    uint32_t crc;
    int in_stream, sample_all, sketch;
    uint32_t cfill; /* bytes of the current chunk held in cbuf (it straddled two feeds) */
    double sum, sumsq, absmax;
    size_t out; /* index into fp->tensors */
    uint8_t cbuf[CHUNK * 8];
};

struct ckpt_lineage_stream {
    struct ckpt_tensorset *ts;
    struct ckpt_lineage_fp *fp;
    double (*acc)[CKPT_LINEAGE_K]; /* per block, double accumulators */
    double *floor2, *sumsq;
    uint64_t *nsampled;
    struct tstate *st;
    size_t nst;
    struct span *order; /* in_stream states sorted by start */
    size_t norder, cursor;
};

/* The expected squared rounding error of a stored value x, as a multiple of x^2: half an ulp
 * uniform, ulp/x = 2^-mantissa_bits / m with the significand m log-uniform in [1, 2), whose mean
 * of 1/m^2 is 0.375 / ln 2. Summed over the sketched elements it is the fit's floor. */
static double kappa(int dtype)
{
    const double m = 0.375 / 0.69314718055994531 / 12;
    return dtype == CKPT_DT_F16 ? m * 0x1p-20 : dtype == CKPT_DT_BF16 ? m * 0x1p-14 : 0;
}

struct span {
    uint64_t start;
    size_t idx;
};

static int cmp_span(const void *a, const void *b)
{
    const struct span *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

void ckpt_lineage_stream_free(struct ckpt_lineage_stream *s)
{
    if (!s)
        return;
    ckpt_lineage_fp_free(s->fp);
    free(s->acc);
    free(s->floor2);
    free(s->sumsq);
    free(s->nsampled);
    free(s->st);
    free(s->order);
    free(s);
}

static long add_block(struct ckpt_lineage_stream *s, const char *name, uint16_t rank, uint8_t comp)
{
    struct ckpt_lineage_fp *fp = s->fp;
    for (size_t i = 0; i < fp->nb; i++)
        if (!strcmp(fp->blocks[i].name, name))
            return (long)i;
    if (fp->nb >= CKPT_LINEAGE_MAX_BLOCKS)
        return -1;
    struct lin_block *b = &fp->blocks[fp->nb];
    memset(b, 0, sizeof *b);
    memcpy(b->name, name, strlen(name) + 1);
    b->rank = rank;
    b->comp = comp;
    return (long)fp->nb++;
}

int ckpt_lineage_stream_new(struct ckpt_tensorset *ts, struct ckpt_lineage_stream **out,
                            struct ckpt_error *err)
{
    *out = NULL;
    lin_kernel_init();
    const char *path = ckpt_tensorset_path(ts);
    struct ckpt_lineage_stream *s = calloc(1, sizeof *s);
    size_t n = ckpt_tensorset_count(ts);
    struct ckpt_identify_options io = {.no_data = 1};
    struct ckpt_identify_result ir;
    struct id_ctx *c = calloc(1, sizeof *c);
    if (!s || !c)
        goto oom;
    s->ts = ts;
    s->fp = calloc(1, sizeof *s->fp);
    if (!s->fp)
        goto oom;
    if (ckpt_identify(ts, &io, &ir, err)) {
        free(c);
        ckpt_lineage_stream_free(s);
        return err ? err->code : CKPT_E_NOMEM;
    }
    s->fp->family = (int)ir.family;
    ckpt_identify_result_release(&ir);
    c->ts = ts;
    c->n = n;
    c->role = calloc(n ? n : 1, 1);
    c->strip = calloc(n ? n : 1, sizeof *c->strip);
    s->fp->blocks = calloc(CKPT_LINEAGE_MAX_BLOCKS, sizeof *s->fp->blocks);
    s->fp->tensors = calloc(n ? n : 1, sizeof *s->fp->tensors);
    s->st = calloc(n ? n : 1, sizeof *s->st);
    s->order = calloc(n ? n : 1, sizeof *s->order);
    if (!c->role || !c->strip || !s->fp->blocks || !s->fp->tensors || !s->st || !s->order)
        goto oom;
    id_assign_roles(c);

    const struct ckpt_source *main_src = NULL;
    for (size_t i = 0; i < n; i++) {
        const struct ckpt_tensor *t = ckpt_tensorset_tensor(ts, i);
        int role = c->role[i];
        const char *key = t->name + c->strip[i];
        char bname[8];
        uint16_t rank;
        uint8_t comp;
        if (!block_of(s->fp->family, role, key, bname, &rank, &comp))
            continue;
        unsigned bits = ckpt_dtype_bits(t->dtype);
        int numeric = t->dtype == CKPT_DT_F16 || t->dtype == CKPT_DT_BF16 ||
                      t->dtype == CKPT_DT_F32 || t->dtype == CKPT_DT_F64;
        if (!numeric || strstr(key, "position_ids"))
            continue; /* integers, quantized types, the CLIP position ids */
        long bi = add_block(s, bname, rank, comp);
        if (bi < 0)
            continue;
        /* normalised name: component + key, so layouts that differ only by prefix agree */
        char nm[1024];
        int nl = snprintf(nm, sizeof nm, "%s:%s", lin_comp_name(comp), key);
        if (nl < 0 || (size_t)nl >= sizeof nm)
            continue;
        struct tstate *st = &s->st[s->nst];
        struct lin_tensor *lt = &s->fp->tensors[s->fp->nt];
        st->t = t;
        st->esize = bits / 8;
        st->seed = lin_hash_str(nm, (size_t)nl);
        st->sample_all = t->numel <= SAMPLE_ALL_MAX;
        st->sketch = 1;
        st->out = s->fp->nt;
        lt->name_hash = st->seed;
        lt->numel = t->numel;
        lt->block = (uint16_t)bi;
        lt->comp = comp;
        lt->dtype = (uint8_t)t->dtype;
        const struct ckpt_source *src = ckpt_tensorset_source(ts, t->source);
        if (!main_src && !src->compressed && src->path && path && !strcmp(src->path, path))
            main_src = src;
        if (!src->compressed && t->contiguous && src->path && path && !strcmp(src->path, path) &&
            !__builtin_add_overflow(src->file_offset, t->offset, &st->start) &&
            !__builtin_add_overflow(st->start, t->nbytes, &st->end)) {
            st->in_stream = 1;
            st->pos = st->start;
            s->order[s->norder].start = st->start;
            s->order[s->norder++].idx = s->nst;
        }
        s->nst++;
        s->fp->nt++;
    }
    size_t nb = s->fp->nb ? s->fp->nb : 1;
    s->acc = calloc(nb, sizeof *s->acc);
    s->floor2 = calloc(nb, sizeof *s->floor2);
    s->sumsq = calloc(nb, sizeof *s->sumsq);
    s->nsampled = calloc(nb, sizeof *s->nsampled);
    if (!s->acc || !s->floor2 || !s->sumsq || !s->nsampled)
        goto oom;
    qsort(s->order, s->norder, sizeof *s->order, cmp_span);
    free(c->role);
    free(c->strip);
    free(c);
    *out = s;
    return CKPT_OK;
oom:
    if (c) {
        free(c->role);
        free(c->strip);
        free(c);
    }
    ckpt_lineage_stream_free(s);
    return ckpt_error_setf(err, CKPT_E_NOMEM, path, "out of memory for the fingerprint");
}

/* n elements at p, from element st->elem (a chunk boundary) on. */
static void run(struct ckpt_lineage_stream *s, struct tstate *st, const uint8_t *p, uint64_t n)
{
    uint16_t bi = s->fp->tensors[st->out].block;
    struct lin_run r = {.seed = st->seed,
                        .chunk0 = st->elem / CHUNK,
                        .sample_all = st->sample_all,
                        .acc = s->acc[bi],
                        .kappa = kappa(st->t->dtype),
                        .sum = st->sum,
                        .sumsq = st->sumsq,
                        .ssq = s->sumsq[bi],
                        .floor2 = s->floor2[bi],
                        .amax = (float)st->absmax};
    lin_kernel(st->t->dtype, p, n, &r);
    st->sum = r.sum;
    st->sumsq = r.sumsq;
    st->absmax = r.amax;
    s->sumsq[bi] = r.ssq;
    s->floor2[bi] = r.floor2;
    s->nsampled[bi] += r.nsampled;
    st->elem += n;
}

/* Bytes p[0, len) of the tensor, in order. Whole chunks go to the kernel straight from p; a
 * chunk split between two feeds is assembled in cbuf first, so the result does not depend on
 * how the bytes were split. */
static void feed_bytes(struct ckpt_lineage_stream *s, struct tstate *st, const uint8_t *p,
                       size_t len)
{
    st->crc = ckpt_crc32_update(st->crc, p, len);
    uint32_t es = st->esize;
    while (len) {
        uint64_t left = st->t->numel - st->elem;                  /* elements not yet run */
        size_t want = (size_t)(left < CHUNK ? left : CHUNK) * es; /* bytes of this chunk */
        if (!want)
            return; /* bytes past the tensor's elements (none in a consistent header) */
        if (st->cfill || len < want) {
            size_t take = want - st->cfill < len ? want - st->cfill : len;
            memcpy(st->cbuf + st->cfill, p, take);
            st->cfill += (uint32_t)take;
            p += take;
            len -= take;
            if (st->cfill == want) {
                run(s, st, st->cbuf, want / es);
                st->cfill = 0;
            }
            continue;
        }
        /* as many whole chunks as are here (and the tensor's last, partial one) */
        uint64_t nel = len / es;
        if (nel > left)
            nel = left;
        if (nel < left)
            nel -= nel % CHUNK;
        run(s, st, p, nel);
        p += nel * es;
        len -= (size_t)(nel * es);
    }
}

void ckpt_lineage_stream_update(struct ckpt_lineage_stream *s, const uint8_t *p, uint64_t off,
                                size_t len)
{
    uint64_t end = off + len;
    while (s->cursor < s->norder && s->st[s->order[s->cursor].idx].end <= off)
        s->cursor++;
    for (size_t j = s->cursor; j < s->norder; j++) {
        struct tstate *st = &s->st[s->order[j].idx];
        if (st->start >= end)
            break;
        uint64_t a = st->pos > off ? st->pos : off, b = st->end < end ? st->end : end;
        if (a >= b || a != st->pos)
            continue; /* already seen, or a gap (out-of-order feeding): finish re-reads it */
        feed_bytes(s, st, p + (a - off), (size_t)(b - a));
        st->pos = b;
    }
}

static void finish_tensor(struct ckpt_lineage_stream *s, struct tstate *st)
{
    struct lin_tensor *lt = &s->fp->tensors[st->out];
    double n = (double)(lt->numel ? lt->numel : 1);
    lt->mean = st->sum / n;
    double var = st->sumsq / n - lt->mean * lt->mean;
    lt->std = var > 0 ? sqrt(var) : 0;
    lt->l2 = sqrt(st->sumsq);
    lt->absmax = st->absmax;
    uint64_t sb, qb;
    memcpy(&sb, &st->sum, 8);
    memcpy(&qb, &st->sumsq, 8);
    lt->digest =
        ((uint64_t)st->crc << 32) ^
        (lin_mix64(sb ^ lin_mix64(qb ^ lt->numel ^ ((uint64_t)lt->dtype << 56))) & 0xffffffffull);
}

int ckpt_lineage_stream_finish(struct ckpt_lineage_stream *s, struct ckpt_lineage_fp **out,
                               struct ckpt_error *err)
{
    *out = NULL;
    int rc = CKPT_OK;
    void *buf = NULL;
    size_t cap = 0;
    for (size_t i = 0; i < s->nst && !rc; i++) {
        struct tstate *st = &s->st[i];
        if (st->in_stream && st->pos == st->end && !st->cfill)
            continue;
        /* not (wholly) seen in the stream: read it through the tensorset, from the start */
        const struct ckpt_tensor *t = st->t;
        if (t->nbytes > SIZE_MAX / 2) {
            rc = ckpt_error_setf(err, CKPT_E_LIMIT, ckpt_tensorset_path(s->ts),
                                 "tensor '%s' too large to fingerprint", t->name);
            break;
        }
        if (t->nbytes > cap) {
            free(buf);
            cap = (size_t)t->nbytes;
            buf = malloc(cap ? cap : 1);
            if (!buf) {
                rc = ckpt_error_setf(err, CKPT_E_NOMEM, ckpt_tensorset_path(s->ts),
                                     "out of memory for tensor '%s'", t->name);
                break;
            }
        }
        /* undo what the stream fed: the per-block sums are re-added from scratch below, so only
         * a tensor never fed at all may be read here; a partly fed one means the caller skipped
         * bytes, which the streaming sources never do */
        if (st->elem || st->cfill) {
            rc = ckpt_error_setf(err, CKPT_E_ARG, ckpt_tensorset_path(s->ts),
                                 "tensor '%s' was fed only in part", t->name);
            break;
        }
        rc = ckpt_tensorset_read_tensor(s->ts, t, buf, cap, err);
        if (!rc)
            feed_bytes(s, st, buf, (size_t)t->nbytes);
    }
    free(buf);
    if (rc) {
        ckpt_lineage_stream_free(s);
        return rc;
    }
    for (size_t i = 0; i < s->nst; i++)
        finish_tensor(s, &s->st[i]);
    struct ckpt_lineage_fp *fp = s->fp;
    for (size_t b = 0; b < fp->nb; b++) {
        for (int k = 0; k < CKPT_LINEAGE_K; k++)
            fp->blocks[b].sketch[k] = (float)s->acc[b][k];
        fp->blocks[b].floor2 = s->floor2[b];
        fp->blocks[b].sumsq = s->sumsq[b];
        fp->blocks[b].nsampled = s->nsampled[b];
    }
    lin_fp_derive(fp);
    s->fp = NULL;
    ckpt_lineage_stream_free(s);
    *out = fp;
    return CKPT_OK;
}

int ckpt_lineage_fingerprint_file(const char *path, const struct ckpt_limits *limits,
                                  struct ckpt_lineage_fp **out, struct ckpt_error *err)
{
    *out = NULL;
    struct ckpt_tensorset *ts;
    int rc = ckpt_tensorset_open(&ts, path, limits, err);
    if (rc)
        return rc;
    struct ckpt_lineage_stream *s;
    rc = ckpt_lineage_stream_new(ts, &s, err);
    if (rc) {
        ckpt_tensorset_close(ts);
        return rc;
    }
    /* the main file's bytes in order, through a read-only mapping, 8 MiB at a time */
    struct ckpt_reader *r = NULL;
    if (ckpt_tensorset_format(ts) != CKPT_FMT_DIFFUSERS &&
        ckpt_reader_open_file(&r, path, NULL) == CKPT_OK) {
        uint64_t size = ckpt_reader_size(r);
        for (uint64_t off = 0; off < size && !rc;) {
            size_t len = size - off < (8u << 20) ? (size_t)(size - off) : (8u << 20);
            const void *p;
            rc = ckpt_reader_view(r, off, len, &p, err);
            if (!rc)
                ckpt_lineage_stream_update(s, p, off, len);
            off += len;
        }
        ckpt_reader_close(r);
    }
    if (rc) {
        ckpt_lineage_stream_free(s);
        ckpt_tensorset_close(ts);
        return rc;
    }
    struct ckpt_lineage_fp *fp;
    rc = ckpt_lineage_stream_finish(s, &fp, err);
    if (!rc)
        rc = ckpt_lineage_fp_set_label(fp, path);
    ckpt_tensorset_close(ts);
    if (rc) {
        ckpt_lineage_fp_free(fp);
        return rc;
    }
    *out = fp;
    return CKPT_OK;
}
