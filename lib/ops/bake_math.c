/* The weight deltas of LoRA-type networks, added to a target tensor in float64.
 *
 * LoRA / LoCon (kohya): delta = up @ down, for linear layers, 1x1 convs (squeezed) and 3x3 convs
 * (down [r, in, k, k] flattened: contracting the rank for every kernel position is what kohya's
 * convolution of the permuted down weight computes); with a Tucker mid [r, r, k, k] (LoCon
 * "cp"): delta[o,i,:,:] = sum_a,b up[o,a] mid[a,b,:,:] down[b,i] (1x1 down and up around the
 * kxk mid, composed). LoHa (LyCORIS): (w1a @ w1b) * (w2a @ w2b) elementwise. LoKr (LyCORIS):
 * kron(w1, w2) with each factor given whole or as a @ b. Each delta is multiplied by
 * weight * alpha / rank and added to rows [row0, row0+rows) of the target. Not for finding which
 * module goes where (bake.c). */
#include <stdlib.h>
#include <string.h>

#include "ops_impl.h"

static int oom(struct ops_ctx *r)
{
    return ckpt_error_setf(ops_ctx_err(r), CKPT_E_NOMEM, ops_ctx_output(r), "out of memory");
}

/* d[rows x cols] += a[rows x k] @ b[k x cols] */
static void matmul_add(double *d, const double *a, const double *b, uint64_t rows, uint64_t k,
                       uint64_t cols)
{
    for (uint64_t o = 0; o < rows; o++) {
        double *dr = d + o * cols;
        for (uint64_t j = 0; j < k; j++) {
            double u = a[o * k + j];
            const double *br = b + j * cols;
            for (uint64_t c = 0; c < cols; c++)
                dr[c] += u * br[c];
        }
    }
}

static uint64_t inner(const struct ckpt_tensor *t)
{
    return t->shape[0] ? t->numel / t->shape[0] : 0;
}

/* A product a @ b of two factors (a [m, k], b [k, ...]) or the single tensor `whole`; the result
 * is malloc'd with *m rows and *n = numel/rows columns. */
static int factor(struct ops_ctx *r, int in, int slot, const struct ckpt_tensor *whole,
                  const struct ckpt_tensor *a, const struct ckpt_tensor *b, double **out,
                  uint64_t *m, uint64_t *n)
{
    *out = NULL;
    if (whole) {
        *m = whole->shape[0];
        *n = inner(whole);
        return ops_read_all(r, in, slot, whole, out);
    }
    double *va = NULL, *vb = NULL;
    int rc = ops_read_all(r, in, slot, a, &va);
    if (!rc)
        rc = ops_read_all(r, in, slot + 1, b, &vb);
    if (!rc && inner(a) != b->shape[0])
        rc = ckpt_error_setf(ops_ctx_err(r), CKPT_E_FORMAT, ops_ctx_output(r),
                             "'%s' and '%s' do not multiply", a->name, b->name);
    if (!rc) {
        *m = a->shape[0];
        *n = inner(b);
        uint64_t cnt = *m * *n;
        *out = calloc((size_t)(cnt ? cnt : 1), sizeof **out);
        if (!*out)
            rc = oom(r);
        else
            matmul_add(*out, va, vb, *m, b->shape[0], *n);
    }
    free(va);
    free(vb);
    return rc;
}

static int bad(struct ops_ctx *r, const struct ops_item *it, const struct ops_term *t)
{
    const struct ckpt_tensor *any = t->t[0] ? t->t[0] : t->t[1] ? t->t[1] : t->t[3];
    return ckpt_error_setf(ops_ctx_err(r), CKPT_E_FORMAT, ops_ctx_output(r),
                           "network module '%s' does not fit '%s'", any ? any->name : "?",
                           it->name);
}

static int term_delta(struct ops_ctx *r, const struct ops_item *it, const struct ops_term *t,
                      uint64_t cols, double *d)
{
    int rc = CKPT_OK;
    uint64_t rows = t->rows;
    if (t->net == OPS_NET_LORA) {
        const struct ckpt_tensor *up = t->t[0], *down = t->t[1], *mid = t->t[2];
        double *vu = NULL, *vd = NULL, *vm = NULL, *m2 = NULL;
        uint64_t rk = down->shape[0];
        if (up->shape[0] != rows || inner(up) != rk)
            return bad(r, it, t);
        rc = ops_read_all(r, t->in, 1, up, &vu);
        if (!rc)
            rc = ops_read_all(r, t->in, 2, down, &vd);
        if (!rc && mid) {
            /* mid [rk, rk, k, k], down [rk, in, 1, 1]: m2[a, i, s] = sum_b mid[a,b,s] down[b,i] */
            uint64_t kk = mid->ndim == 4 ? mid->shape[2] * mid->shape[3] : 1;
            uint64_t in = inner(down);
            if (mid->shape[0] != rk || mid->ndim < 2 || mid->shape[1] != rk || in * kk != cols) {
                rc = bad(r, it, t);
            } else {
                rc = ops_read_all(r, t->in, 3, mid, &vm);
                if (!rc && !(m2 = calloc((size_t)(rk * cols), sizeof *m2)))
                    rc = oom(r);
                for (uint64_t a = 0; !rc && a < rk; a++)
                    for (uint64_t b = 0; b < rk; b++)
                        for (uint64_t i = 0; i < in; i++) {
                            double db = vd[b * in + i];
                            for (uint64_t s = 0; s < kk; s++)
                                m2[(a * in + i) * kk + s] += vm[(a * rk + b) * kk + s] * db;
                        }
                if (!rc)
                    matmul_add(d, vu, m2, rows, rk, cols);
            }
        } else if (!rc) {
            if (inner(down) != cols)
                rc = bad(r, it, t);
            else
                matmul_add(d, vu, vd, rows, rk, cols);
        }
        free(vu);
        free(vd);
        free(vm);
        free(m2);
        return rc;
    }
    if (t->net == OPS_NET_LOHA) {
        double *p1 = NULL, *p2 = NULL;
        uint64_t m1, n1, m2, n2;
        rc = factor(r, t->in, 1, NULL, t->t[0], t->t[1], &p1, &m1, &n1);
        if (!rc)
            rc = factor(r, t->in, 3, NULL, t->t[2], t->t[3], &p2, &m2, &n2);
        if (!rc && (m1 != rows || m2 != rows || n1 != cols || n2 != cols))
            rc = bad(r, it, t);
        for (uint64_t i = 0; !rc && i < rows * cols; i++)
            d[i] = p1[i] * p2[i];
        free(p1);
        free(p2);
        return rc;
    }
    /* LoKr: kron(w1 [o1, i1], w2 [o2, i2 (, k, k)]) */
    double *w1 = NULL, *w2 = NULL;
    uint64_t o1, i1, o2, n2;
    rc = factor(r, t->in, 1, t->t[0], t->t[1], t->t[2], &w1, &o1, &i1);
    if (!rc)
        rc = factor(r, t->in, 4, t->t[3], t->t[4], t->t[5], &w2, &o2, &n2);
    const struct ckpt_tensor *tgt = it->src[0];
    uint64_t kk = tgt->ndim == 4 ? tgt->shape[2] * tgt->shape[3] : 1;
    uint64_t i2 = kk ? n2 / kk : 0;
    if (!rc && (o1 * o2 != rows || i1 * i2 * kk != cols || i2 * kk != n2))
        rc = bad(r, it, t);
    for (uint64_t a = 0; !rc && a < o1; a++)
        for (uint64_t b = 0; b < i1; b++) {
            double s1 = w1[a * i1 + b];
            for (uint64_t c = 0; c < o2; c++)
                for (uint64_t dd = 0; dd < i2; dd++)
                    for (uint64_t s = 0; s < kk; s++)
                        d[((a * o2 + c) * (i1 * i2) + (b * i2 + dd)) * kk + s] =
                            s1 * w2[(c * i2 + dd) * kk + s];
        }
    free(w1);
    free(w2);
    return rc;
}

int ops_bake_item(struct ops_ctx *r, const struct ops_item *it, double *w)
{
    const struct ckpt_tensor *tgt = it->src[0];
    uint64_t cols = inner(tgt);
    for (size_t k = 0; k < it->n_terms; k++) {
        const struct ops_term *t = &it->terms[k];
        if (t->row0 + t->rows > tgt->shape[0])
            return bad(r, it, t);
        uint64_t cnt = t->rows * cols;
        double *d = calloc((size_t)(cnt ? cnt : 1), sizeof *d);
        if (!d)
            return oom(r);
        int rc = term_delta(r, it, t, cols, d);
        if (!rc) {
            double *wr = w + t->row0 * cols;
            for (uint64_t i = 0; i < t->rows * cols; i++)
                wr[i] += t->scale * d[i];
        }
        free(d);
        if (rc)
            return rc;
    }
    return CKPT_OK;
}
