/* Explaining a checkpoint from candidate parents: the per-block affine least-squares fit of its
 * sketches (lineage.md section 3.5).
 *
 * The candidates of the query's family are pre-filtered by the distance of their folded
 * sketches (32 numbers per block), so a 10,000-model catalog costs one linear scan. The nearest
 * candidate P0 is the reference; parents are then chosen greedily over all blocks at once
 * (orthogonal matching pursuit: the candidate whose difference to P0 removes most of the
 * remaining residual energy, per block weights free) while each removes at least min_gain of
 * what remains, until the residual reaches the rounding floor. Per block the weights solve
 * y_b = S_b(Q) - S_b(P0) = sum_i w_bi (S_b(P_i) - S_b(P0)); P0's weight is 1 - sum w_bi, so
 * weighted sums, add-differences (negative weights) and block-weighted merges are all affine
 * fits. The residual divided by the expected rounding noise of the query's stored precision
 * (the floor, summed while sketching) says whether the merge is linear: TIES and DARE leave a
 * residual far above it while their parents still explain a large part of the departure.
 * Not for the nearest-model ranking (compare.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckptdb/buf.h"
#include "lineage_impl.h"

#define DEFAULT_PREFILTER 24
#define DEFAULT_LINEAR_MAX 3.0
#define DEFAULT_MIN_GAIN 0.015 /* an unrelated candidate removes ~1/K = 0.4% */
#define K CKPT_LINEAGE_K

const char *ckpt_lineage_origin_name(enum ckpt_lineage_origin o)
{
    switch (o) {
    case CKPT_LINEAGE_DUPLICATE:
        return "duplicate";
    case CKPT_LINEAGE_FINETUNE:
        return "fine-tune";
    case CKPT_LINEAGE_MERGE:
        return "merge";
    default:
        return "unknown";
    }
}

/* Candidate c's block for each of the query's blocks (-1 when absent); 0 when c lacks any. */
static int map_blocks(const struct ckpt_lineage_fp *q, const struct ckpt_lineage_fp *c, long *map)
{
    for (size_t b = 0; b < q->nb; b++) {
        map[b] = (b < c->nb && !strcmp(c->blocks[b].name, q->blocks[b].name))
                     ? (long)b
                     : lin_fp_find_block(c, q->blocks[b].name);
        if (map[b] < 0)
            return 0;
    }
    return 1;
}

struct cand {
    size_t index;
    double dist;
    long map[CKPT_LINEAGE_MAX_BLOCKS];
};

static int cmp_cand(const void *a, const void *b)
{
    const struct cand *x = a, *y = b;
    return x->dist < y->dist ? -1 : x->dist > y->dist;
}

static double dist_full(const struct ckpt_lineage_fp *q, const struct ckpt_lineage_fp *c,
                        const long *map)
{
    double d = 0;
    for (size_t b = 0; b < q->nb; b++) {
        const float *x = q->blocks[b].sketch, *y = c->blocks[map[b]].sketch;
        for (int k = 0; k < K; k++) {
            double t = (double)x[k] - y[k];
            d += t * t;
        }
    }
    return d;
}

/* Keep the candidates of q's family with q's blocks, nearest first by folded distance. */
static int prefilter(const struct ckpt_lineage_fp *q, const struct ckpt_lineage_fp *const *cands,
                     size_t n, size_t keep, struct cand **out, size_t *nout)
{
    struct cand *v = malloc((n ? n : 1) * sizeof *v);
    if (!v)
        return CKPT_E_NOMEM;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        const struct ckpt_lineage_fp *c = cands[i];
        if (!c || c == q || c->family != q->family || !map_blocks(q, c, v[m].map))
            continue;
        double d = 0;
        for (size_t b = 0; b < q->nb; b++) {
            const float *x = q->blocks[b].fold, *y = c->blocks[v[m].map[b]].fold;
            for (int k = 0; k < LIN_FOLD; k++) {
                double t = (double)x[k] - y[k];
                d += t * t;
            }
        }
        v[m].index = i;
        v[m].dist = d;
        m++;
    }
    qsort(v, m, sizeof *v, cmp_cand);
    if (m > keep)
        m = keep;
    /* re-rank the survivors by the full sketches */
    for (size_t i = 0; i < m; i++)
        v[i].dist = dist_full(q, cands[v[i].index], v[i].map);
    qsort(v, m, sizeof *v, cmp_cand);
    *out = v;
    *nout = m;
    return CKPT_OK;
}

static double dot(const double *a, const double *b)
{
    double s = 0;
    for (int k = 0; k < K; k++)
        s += a[k] * b[k];
    return s;
}

/* Solve the p x p system A w = r (A symmetric positive semi-definite) by Gaussian elimination
 * with partial pivoting; returns 0 when singular. */
static int solve(double *A, double *r, int p, double *w)
{
    for (int c = 0; c < p; c++) {
        int piv = c;
        for (int i = c + 1; i < p; i++)
            if (fabs(A[i * p + c]) > fabs(A[piv * p + c]))
                piv = i;
        if (fabs(A[piv * p + c]) < 1e-300)
            return 0;
        if (piv != c) {
            for (int j = 0; j < p; j++) {
                double t = A[c * p + j];
                A[c * p + j] = A[piv * p + j];
                A[piv * p + j] = t;
            }
            double t = r[c];
            r[c] = r[piv];
            r[piv] = t;
        }
        for (int i = c + 1; i < p; i++) {
            double f = A[i * p + c] / A[c * p + c];
            for (int j = c; j < p; j++)
                A[i * p + j] -= f * A[c * p + j];
            r[i] -= f * r[c];
        }
    }
    for (int c = p - 1; c >= 0; c--) {
        double s = r[c];
        for (int j = c + 1; j < p; j++)
            s -= A[c * p + j] * w[j];
        w[c] = s / A[c * p + c];
    }
    return 1;
}

void ckpt_lineage_result_release(struct ckpt_lineage_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_parents; i++)
        free(r->parents[i].blocks);
    free(r->distance);
    memset(r, 0, sizeof *r);
    r->base = -1;
}

struct work {
    const struct ckpt_lineage_fp *q;
    const struct ckpt_lineage_fp *const *cands;
    struct cand *cv;
    size_t nc;
    size_t nb;
    double *y;     /* nb x K: query minus P0 */
    double *basis; /* nb x MAXP x K orthonormal directions */
    int *nbasis;   /* per block */
    double *floorb;
};

#define MAXP (CKPT_LINEAGE_MAX_PARENTS - 1)

/* The difference of candidate ci to P0 in block b. */
static void diff_vec(struct work *w, size_t ci, size_t b, double *out)
{
    const float *x = w->cands[w->cv[ci].index]->blocks[w->cv[ci].map[b]].sketch;
    const float *z = w->cands[w->cv[0].index]->blocks[w->cv[0].map[b]].sketch;
    for (int k = 0; k < K; k++)
        out[k] = (double)x[k] - z[k];
}

/* Whether a difference vector is above the rounding floor (else its weight is undetermined). */
static int usable(const struct work *w, size_t b, const double *v)
{
    return dot(v, v) > 25.0 * w->floorb[b] + 1e-30;
}

/* Energy candidate ci would remove, orthogonalised against the chosen directions. */
static double gain_of(struct work *w, size_t ci, double *tmp)
{
    double g = 0;
    for (size_t b = 0; b < w->nb; b++) {
        diff_vec(w, ci, b, tmp);
        if (!usable(w, b, tmp))
            continue;
        double n0 = dot(tmp, tmp);
        for (int j = 0; j < w->nbasis[b]; j++) {
            const double *e = w->basis + (b * MAXP + (size_t)j) * K;
            double c = dot(tmp, e);
            for (int k = 0; k < K; k++)
                tmp[k] -= c * e[k];
        }
        double n = dot(tmp, tmp);
        if (n < 1e-6 * n0)
            continue; /* (almost) in the span already: a merge of chosen parents */
        double c = dot(w->y + b * K, tmp);
        g += c * c / n;
    }
    return g;
}

static void add_direction(struct work *w, size_t ci, double *tmp)
{
    for (size_t b = 0; b < w->nb; b++) {
        diff_vec(w, ci, b, tmp);
        if (!usable(w, b, tmp))
            continue;
        double n0 = dot(tmp, tmp);
        for (int j = 0; j < w->nbasis[b]; j++) {
            const double *e = w->basis + (b * MAXP + (size_t)j) * K;
            double c = dot(tmp, e);
            for (int k = 0; k < K; k++)
                tmp[k] -= c * e[k];
        }
        double n = dot(tmp, tmp);
        if (n < 1e-6 * n0)
            continue;
        double *e = w->basis + (b * MAXP + (size_t)w->nbasis[b]) * K;
        double s = 1 / sqrt(n);
        for (int k = 0; k < K; k++)
            e[k] = tmp[k] * s;
        w->nbasis[b]++;
    }
}

int ckpt_lineage_explain(const struct ckpt_lineage_fp *query,
                         const struct ckpt_lineage_fp *const *cands, size_t n,
                         const struct ckpt_lineage_options *opt, struct ckpt_lineage_result *out,
                         struct ckpt_error *err)
{
    memset(out, 0, sizeof *out);
    out->base = -1;
    size_t keep = opt && opt->prefilter ? opt->prefilter : DEFAULT_PREFILTER;
    double linear_max = opt && opt->linear_max > 0 ? opt->linear_max : DEFAULT_LINEAR_MAX;
    double min_gain = opt && opt->min_gain > 0 ? opt->min_gain : DEFAULT_MIN_GAIN;
    const char *name = ckpt_lineage_fp_label(query);
    struct work w = {.q = query, .cands = cands, .nb = query->nb};
    if (prefilter(query, cands, n, keep, &w.cv, &w.nc))
        return ckpt_error_setf(err, CKPT_E_NOMEM, name, "out of memory");
    if (!w.nc) {
        free(w.cv);
        out->origin = CKPT_LINEAGE_UNKNOWN;
        out->confidence = 0.3;
        snprintf(out->why, sizeof out->why,
                 "no candidate of the same family (%s) with the same blocks",
                 ckpt_lineage_fp_family(query));
        return CKPT_OK;
    }
    size_t nb = w.nb ? w.nb : 1;
    w.y = calloc(nb * K, sizeof *w.y);
    w.basis = calloc(nb * MAXP * K, sizeof *w.basis);
    w.nbasis = calloc(nb, sizeof *w.nbasis);
    w.floorb = calloc(nb, sizeof *w.floorb);
    double *tmp = calloc(K, sizeof *tmp);
    int rc = CKPT_OK;
    if (!w.y || !w.basis || !w.nbasis || !w.floorb || !tmp) {
        rc = ckpt_error_setf(err, CKPT_E_NOMEM, name, "out of memory");
        goto done;
    }
    /* reference P0 = the nearest candidate */
    double floor_total = 0, sumsq = 0, r0 = 0;
    for (size_t b = 0; b < w.nb; b++) {
        const struct lin_block *qb = &query->blocks[b];
        const struct lin_block *pb = &cands[w.cv[0].index]->blocks[w.cv[0].map[b]];
        w.floorb[b] = qb->floor2 > pb->floor2 ? qb->floor2 : pb->floor2;
        floor_total += qb->floor2;
        sumsq += qb->sumsq;
        for (int k = 0; k < K; k++)
            w.y[b * K + k] = (double)qb->sketch[k] - pb->sketch[k];
        r0 += dot(w.y + b * K, w.y + b * K);
    }
    double floor_eff = floor_total > 1e-12 * sumsq ? floor_total : 1e-12 * sumsq + 1e-300;
    size_t chosen[MAXP];
    int nchosen = 0;
    double r = r0;
    /* greedy selection */
    while (nchosen < MAXP && r > linear_max * linear_max * floor_eff) {
        double best = 0;
        size_t bi = 0;
        for (size_t c = 1; c < w.nc; c++) {
            int dup = 0;
            for (int j = 0; j < nchosen; j++)
                dup |= chosen[j] == c;
            if (dup)
                continue;
            double g = gain_of(&w, c, tmp);
            if (g > best)
                best = g, bi = c;
        }
        if (best < min_gain * r)
            break;
        add_direction(&w, bi, tmp);
        chosen[nchosen++] = bi;
        r -= best;
    }
    /* per-block weights of the chosen parents */
    int p = nchosen;
    out->parents[0].index = w.cv[0].index;
    for (int j = 0; j < p; j++)
        out->parents[j + 1].index = w.cv[chosen[j]].index;
    out->n_parents = (size_t)p + 1;
    for (int j = 0; j <= p; j++) {
        out->parents[j].blocks = calloc(nb, sizeof *out->parents[j].blocks);
        if (!out->parents[j].blocks) {
            rc = ckpt_error_setf(err, CKPT_E_NOMEM, name, "out of memory");
            goto done;
        }
        out->parents[j].n_blocks = w.nb;
    }
    double rfinal = 0;
    double X[MAXP][K];
    for (size_t b = 0; b < w.nb; b++) {
        const double *y = w.y + b * K;
        int cols[MAXP], nc = 0;
        for (int j = 0; j < p; j++) {
            diff_vec(&w, chosen[j], b, X[nc]);
            if (usable(&w, b, X[nc]))
                cols[nc++] = j;
        }
        double A[MAXP * MAXP], rhs[MAXP], wt[MAXP];
        for (int i = 0; i < nc; i++) {
            rhs[i] = dot(X[i], y);
            for (int j = 0; j < nc; j++)
                A[i * nc + j] = dot(X[i], X[j]);
        }
        int ok = nc ? solve(A, rhs, nc, wt) : 0;
        double res = dot(y, y);
        if (ok) {
            double e[K];
            for (int k = 0; k < K; k++) {
                e[k] = y[k];
                for (int i = 0; i < nc; i++)
                    e[k] -= wt[i] * X[i][k];
            }
            res = dot(e, e);
        }
        rfinal += res;
        double sum = 0;
        for (int j = 0; j <= p; j++) {
            out->parents[j].blocks[b].block = query->blocks[b].name;
            out->parents[j].blocks[b].value = NAN;
        }
        for (int i = 0; ok && i < nc; i++) {
            out->parents[cols[i] + 1].blocks[b].value = wt[i];
            sum += wt[i];
        }
        /* the reference's weight: determined when the block differs from it at all */
        if (ok || usable(&w, b, y) || p == 0)
            out->parents[0].blocks[b].value = 1 - sum;
    }
    for (size_t j = 0; j < out->n_parents; j++) {
        double s = 0;
        int m = 0;
        for (size_t b = 0; b < w.nb; b++)
            if (!isnan(out->parents[j].blocks[b].value))
                s += out->parents[j].blocks[b].value, m++;
        out->parents[j].weight = m ? s / m : NAN;
    }
    out->residual = sqrt(rfinal / floor_eff);
    out->explained = r0 > 0 ? 1 - rfinal / r0 : 1;
    double rel = sumsq > 0 ? sqrt(r0 / sumsq) : 0;
    const char *p0 = ckpt_lineage_fp_label(cands[w.cv[0].index]);
    int same = 1; /* every block within rounding of P0 */
    for (size_t b = 0; b < w.nb; b++)
        same &= dot(w.y + b * K, w.y + b * K) <=
                linear_max * linear_max * (w.floorb[b] > 0 ? w.floorb[b] : 1e-12 * sumsq + 1e-300);
    if (same) {
        out->origin = CKPT_LINEAGE_DUPLICATE;
        out->confidence = 0.95;
        out->linear = 1;
        out->base = (long)w.cv[0].index;
        snprintf(out->why, sizeof out->why,
                 "the same weights as %s up to rounding (difference %.2f x the rounding floor)", p0,
                 sqrt(r0 / floor_eff));
    } else if (p == 0) {
        out->distance = calloc(nb, sizeof *out->distance);
        if (!out->distance) {
            rc = ckpt_error_setf(err, CKPT_E_NOMEM, name, "out of memory");
            goto done;
        }
        out->n_distance = w.nb;
        size_t changed = 0;
        for (size_t b = 0; b < w.nb; b++) {
            const struct lin_block *pb = &cands[w.cv[0].index]->blocks[w.cv[0].map[b]];
            double d = sqrt(dot(w.y + b * K, w.y + b * K));
            out->distance[b].block = query->blocks[b].name;
            out->distance[b].value = pb->sumsq > 0 ? d / sqrt(pb->sumsq) : NAN;
            changed += d * d > 25 * w.floorb[b];
        }
        if (rel < 0.5) {
            out->origin = CKPT_LINEAGE_FINETUNE;
            out->confidence = 0.7;
            out->base = (long)w.cv[0].index;
            snprintf(out->why, sizeof out->why,
                     "departs from %s by %.1f%% (in %zu of %zu blocks) and no other candidate "
                     "explains the change",
                     p0, 100 * rel, changed, w.nb);
        } else {
            out->origin = CKPT_LINEAGE_UNKNOWN;
            out->confidence = 0.3;
            snprintf(out->why, sizeof out->why,
                     "nearest candidate %s differs by %.0f%%: not derived from any candidate", p0,
                     100 * rel);
        }
    } else {
        out->origin = CKPT_LINEAGE_MERGE;
        out->linear = out->residual <= linear_max;
        out->confidence = out->linear ? 0.9 : 0.6;
        for (size_t j = 0; j < out->n_parents; j++)
            if (out->parents[j].weight < -0.05 &&
                (out->base < 0 || out->parents[j].weight < out->parents[out->base].weight))
                out->base = (long)j; /* a position for now; made a candidate index below */
        if (out->base >= 0)
            out->base = (long)out->parents[out->base].index;
        if (out->linear)
            snprintf(out->why, sizeof out->why,
                     "a linear merge of %zu candidates: the per-block fit leaves %.2f x the "
                     "rounding floor",
                     out->n_parents, out->residual);
        else
            snprintf(out->why, sizeof out->why,
                     "a non-linear merge (TIES, DARE or similar) of %zu candidates: they explain "
                     "%.0f%% of its departure from %s, the rest is %.0f x the rounding floor",
                     out->n_parents, 100 * out->explained, p0, out->residual);
    }
    /* parents by |weight|, largest first */
    for (size_t i = 1; i < out->n_parents; i++)
        for (size_t j = i; j > 0 && fabs(out->parents[j].weight) > fabs(out->parents[j - 1].weight);
             j--) {
            struct ckpt_lineage_parent t = out->parents[j];
            out->parents[j] = out->parents[j - 1];
            out->parents[j - 1] = t;
        }
    if (out->origin == CKPT_LINEAGE_UNKNOWN) {
        for (size_t j = 0; j < out->n_parents; j++)
            free(out->parents[j].blocks);
        out->n_parents = 0;
    }
done:
    free(tmp);
    free(w.cv);
    free(w.y);
    free(w.basis);
    free(w.nbasis);
    free(w.floorb);
    if (rc)
        ckpt_lineage_result_release(out);
    return rc;
}

/* ---- JSON --------------------------------------------------------------------------------------
 */

static void blocks_json(const struct ckpt_lineage_block_value *v, size_t n, struct ckpt_json *j)
{
    ckpt_json_obj_begin(j);
    for (size_t i = 0; i < n; i++) {
        ckpt_json_key(j, v[i].block);
        if (isnan(v[i].value))
            ckpt_json_null(j);
        else
            ckpt_json_double(j, round(v[i].value * 1e4) / 1e4);
    }
    ckpt_json_obj_end(j);
}

void ckpt_lineage_result_json(const struct ckpt_lineage_result *r, const char *model,
                              const char *const *names, const char *const *shas,
                              struct ckpt_json *j)
{
    ckpt_json_obj_begin(j);
    ckpt_json_key(j, "model");
    ckpt_json_str(j, model);
    ckpt_json_key(j, "origin");
    ckpt_json_obj_begin(j);
    ckpt_json_key(j, "value");
    ckpt_json_str(j, ckpt_lineage_origin_name(r->origin));
    ckpt_json_key(j, "confidence");
    ckpt_json_double(j, r->confidence);
    ckpt_json_key(j, "why");
    ckpt_json_str(j, r->why);
    ckpt_json_obj_end(j);
    ckpt_json_key(j, "parents");
    ckpt_json_arr_begin(j);
    for (size_t i = 0; i < r->n_parents; i++) {
        const struct ckpt_lineage_parent *p = &r->parents[i];
        ckpt_json_obj_begin(j);
        ckpt_json_key(j, "sha256");
        ckpt_json_str(j, shas ? shas[p->index] : NULL);
        ckpt_json_key(j, "name");
        ckpt_json_str(j, names[p->index]);
        ckpt_json_key(j, "weight");
        if (isnan(p->weight))
            ckpt_json_null(j);
        else
            ckpt_json_double(j, round(p->weight * 1e4) / 1e4);
        ckpt_json_key(j, "blocks");
        blocks_json(p->blocks, p->n_blocks, j);
        ckpt_json_obj_end(j);
    }
    ckpt_json_arr_end(j);
    ckpt_json_key(j, "base");
    if (r->base >= 0)
        ckpt_json_str(j, names[r->base]);
    else
        ckpt_json_null(j);
    ckpt_json_key(j, "residual");
    ckpt_json_double(j, round(r->residual * 100) / 100);
    ckpt_json_key(j, "explained");
    ckpt_json_double(j, round(r->explained * 1e4) / 1e4);
    ckpt_json_key(j, "linear");
    if (r->origin == CKPT_LINEAGE_MERGE || r->origin == CKPT_LINEAGE_DUPLICATE)
        ckpt_json_bool(j, r->linear);
    else
        ckpt_json_null(j);
    if (r->n_distance) {
        ckpt_json_key(j, "distance");
        blocks_json(r->distance, r->n_distance, j);
    }
    ckpt_json_obj_end(j);
}
