/* The arithmetic of every merge method, element by element in float64 (the caller rounds once to
 * the output dtype): weighted sum, add difference, triple sum, DARE (seeded per-element drop and
 * rescale), and TIES (trim to the top k by magnitude, elect the sign by mass, disjoint mean),
 * whose per-tensor thresholds are found by a streaming radix select so memory stays flat. Not for
 * choosing which tensors are merged (merge.c) or reading and writing them (pipeline.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops_impl.h"

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static uint64_t name_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

/* 1 when DARE keeps element e of model m: a draw in [0,1) from (seed, tensor name, model, e). */
static int dare_keep(uint64_t key, int m, uint64_t e, double p)
{
    uint64_t u = splitmix64(key ^ splitmix64(e * 2 + (uint64_t)m));
    return (double)(u >> 11) * 0x1p-53 >= p;
}

void ops_merge_chunk(const struct ops_plan *p, const struct ops_item *it, const double *a,
                     const double *b, const double *c, size_t n, uint64_t e0, double *out)
{
    double al = it->alpha, be = it->beta;
    switch (p->method) {
    case CKPT_MERGE_WEIGHTED_SUM:
        for (size_t i = 0; i < n; i++)
            out[i] = (1.0 - al) * a[i] + al * b[i];
        return;
    case CKPT_MERGE_ADD_DIFFERENCE:
        for (size_t i = 0; i < n; i++)
            out[i] = a[i] + al * (b[i] - c[i]);
        return;
    case CKPT_MERGE_TRIPLE_SUM:
        for (size_t i = 0; i < n; i++)
            out[i] = (1.0 - al - be) * a[i] + al * b[i] + be * c[i];
        return;
    case CKPT_MERGE_DARE: {
        uint64_t key = splitmix64(p->seed) ^ name_hash(it->name);
        double keep = 1.0 / (1.0 - p->dare_p);
        for (size_t i = 0; i < n; i++) {
            double da = dare_keep(key, 0, e0 + i, p->dare_p) ? (a[i] - c[i]) * keep : 0.0;
            double db = dare_keep(key, 1, e0 + i, p->dare_p) ? (b[i] - c[i]) * keep : 0.0;
            out[i] = c[i] + al * (da + db);
        }
        return;
    }
    case CKPT_MERGE_TIES:
        /* reached only for channel-mismatched convs element by element: no trimming there
           (thresholds are per tensor); elect and average */
        for (size_t i = 0; i < n; i++) {
            double da = a[i] - c[i], db = b[i] - c[i], s = da + db, m = 0;
            if (s > 0)
                m = (da > 0 && db > 0) ? (da + db) / 2 : (da > 0 ? da : db);
            else if (s < 0)
                m = (da < 0 && db < 0) ? (da + db) / 2 : (da < 0 ? da : db);
            out[i] = c[i] + al * m;
        }
        return;
    }
}

static uint64_t key_of(double d)
{
    uint64_t u;
    d = fabs(d);
    memcpy(&u, &d, 8);
    return u;
}

/* TIES for one tensor: pass 1-4 radix-select the threshold of |A-C| and |B-C| (16 bits of the
 * magnitude's bit pattern per pass; non-negative doubles order like their bits), pass 5 writes
 * C + alpha * disjoint mean of the kept deltas that agree with the elected sign. */
int ops_merge_ties(struct ops_ctx *r, const struct ops_item *it)
{
    const struct ops_plan *p = ops_ctx_plan(r);
    const struct ckpt_tensor *A = it->src[0];
    uint64_t N = A->numel;
    double *v[4];
    for (int k = 0; k < 4; k++)
        v[k] = ops_ctx_buf(r, k);
    uint64_t thr[2] = {0, 0};
    double kf = p->ties_k;
    if (kf < 1.0 && N > 0) {
        uint64_t K = (uint64_t)ceil(kf * (double)N);
        if (K < 1)
            K = 1;
        uint64_t *hist = malloc(2 * 65536 * sizeof *hist);
        if (!hist)
            return ckpt_error_setf(ops_ctx_err(r), CKPT_E_NOMEM, ops_ctx_output(r),
                                   "out of memory");
        uint64_t prefix[2] = {0, 0}, want[2] = {K, K};
        for (int shift = 48; shift >= 0; shift -= 16) {
            memset(hist, 0, 2 * 65536 * sizeof *hist);
            for (uint64_t e = 0; e < N; e += OPS_CHUNK) {
                size_t n = (size_t)(N - e < OPS_CHUNK ? N - e : OPS_CHUNK);
                int rc = CKPT_OK;
                for (int k = 0; k < 3 && !rc; k++)
                    rc = ops_read_f64(r, it->in[k], k, it->src[k], e, n, v[k]);
                if (rc) {
                    free(hist);
                    return rc;
                }
                for (int m = 0; m < 2; m++) {
                    uint64_t *h = hist + m * 65536;
                    for (size_t i = 0; i < n; i++) {
                        uint64_t key = key_of(v[m][i] - v[2][i]);
                        if (shift == 48 || (key >> (shift + 16)) == prefix[m])
                            h[(key >> shift) & 0xffff]++;
                    }
                }
            }
            for (int m = 0; m < 2; m++) {
                uint64_t *h = hist + m * 65536, acc = 0;
                int bin = 65535;
                for (; bin > 0; bin--) {
                    if (acc + h[bin] >= want[m])
                        break;
                    acc += h[bin];
                }
                want[m] -= acc;
                prefix[m] = (prefix[m] << 16) | (uint64_t)bin;
            }
        }
        free(hist);
        thr[0] = prefix[0];
        thr[1] = prefix[1];
    }
    for (uint64_t e = 0; e < N; e += OPS_CHUNK) {
        size_t n = (size_t)(N - e < OPS_CHUNK ? N - e : OPS_CHUNK);
        int rc = CKPT_OK;
        for (int k = 0; k < 3 && !rc; k++)
            rc = ops_read_f64(r, it->in[k], k, it->src[k], e, n, v[k]);
        if (rc)
            return rc;
        for (size_t i = 0; i < n; i++) {
            double c = v[2][i], da = v[0][i] - c, db = v[1][i] - c;
            if (key_of(da) < thr[0])
                da = 0;
            if (key_of(db) < thr[1])
                db = 0;
            double s = da + db, m = 0;
            if (s > 0)
                m = (da > 0 && db > 0) ? (da + db) / 2 : (da > 0 ? da : db);
            else if (s < 0)
                m = (da < 0 && db < 0) ? (da + db) / 2 : (da < 0 ? da : db);
            v[3][i] = c + it->alpha * m;
        }
        rc = ops_put_f64(r, it, v[3], n);
        if (rc)
            return rc;
    }
    return CKPT_OK;
}
