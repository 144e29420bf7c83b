/* Explaining a checkpoint from candidate parents: affine least-squares fits of its sketches on
 * small subsets of candidates (lineage.md section 3.5).
 *
 * The candidates of the query's family are pre-filtered by the distance of their folded
 * sketches (32 numbers per block), so a 10,000-model catalog costs one linear scan; the nearest
 * POOL of them (by the full sketches) form the pool, and every fit below works on their Gram
 * matrices (per block and summed), so a subset's fit costs a few hundred operations.
 *
 * A subset S explains the query Q when Q = sum w_i S_i with sum w_i = 1 (weighted sums, and
 * add-differences with their negative weights, are such affine combinations). Subsets are tried
 * smallest first, up to PMAX models: first with one weight per parent across all blocks (the
 * global fit), then with weights per block (block-weighted merges). The first size at which
 * some subset leaves a residual at the rounding floor of the query's stored precision (in total
 * and in every block) wins; among those, the smallest sum of |weights| (the sparsest, least
 * cancelling recipe: a merge of parents is preferred to its parents' other merges). That is a
 * linear merge (one model: a duplicate).
 *
 * When no subset reaches the floor, candidates that are themselves linear merges of others in
 * the pool are set aside and the elementary ones are fitted with global weights, adding a parent
 * while it removes a significant part of what remains (min_gain, and far above what an unrelated
 * direction removes by chance). One model left: a fine-tune of it (or unknown when far); more: a
 * non-linear merge (TIES, DARE), whose residual stays well above the floor while its parents
 * explain part of the departure. Not for the nearest-model ranking (compare.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckptdb/buf.h"
#include "lineage_impl.h"

#define DEFAULT_PREFILTER 24
#define DEFAULT_LINEAR_MAX 3.0
#define DEFAULT_MIN_GAIN 0.02 /* an unrelated candidate removes ~1/(K x blocks) */
#define POOL 16               /* candidates the subset search draws from */
#define PMAX 5                /* models in one fit */
#define NPRE 32               /* nearest candidates whose Gram matrices are formed */
#define NV (NPRE + 1)
#define FMAX POOL /* columns fit_gram takes */
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

/* ---- fits on Gram matrices ---------------------------------------------------------------------
 *
 * Vector 0 is the query, vectors 1..np the pool, all as differences to the nearest candidate
 * (pool member 1), so the Gram entries are small numbers without cancellation. */

struct gram {
    size_t nb;
    int nv;
    double *gb; /* nb x NV x NV, per block */
    double g[NV * NV];
};

#define G_(G, i, j) ((G)[(i)*NV + (j)])

/* Affine least squares of vector t on S[0..p) (S[0] the reference): t - S0 = sum_i w_i (Si - S0)
 * over the Gram G. Columns whose energy, or whose part orthogonal to the columns before them, is
 * at most 25 x floor are not determined: their weight is NAN and *ndrop counts them. w[0] is
 * 1 - the sum of the others. Returns the residual energy. */
static double fit_gram(const double *G, int t, const int *S, int p, double floor, double *w,
                       int *ndrop)
{
    int a = S[0], m = p - 1, nk = 0;
    double A[FMAX * FMAX], rhs[FMAX], L[FMAX][FMAX], z[FMAX], row[FMAX];
    int kidx[FMAX];
    double yy = G_(G, t, t) - 2 * G_(G, t, a) + G_(G, a, a);
    for (int i = 0; i < m; i++) {
        int si = S[i + 1];
        rhs[i] = G_(G, t, si) - G_(G, t, a) - G_(G, si, a) + G_(G, a, a);
        for (int j = 0; j < m; j++) {
            int sj = S[j + 1];
            A[i * m + j] = G_(G, si, sj) - G_(G, si, a) - G_(G, a, sj) + G_(G, a, a);
        }
    }
    *ndrop = 0;
    for (int i = 0; i < p; i++)
        w[i] = NAN;
    for (int j = 0; j < m; j++) {
        double d = A[j * m + j];
        for (int k = 0; k < nk; k++) {
            double c = A[j * m + kidx[k]];
            for (int l = 0; l < k; l++)
                c -= row[l] * L[k][l];
            row[k] = c / L[k][k];
            d -= row[k] * row[k];
        }
        if (A[j * m + j] <= 25 * floor || d <= 25 * floor || d <= 1e-9 * A[j * m + j]) {
            (*ndrop)++;
            continue;
        }
        for (int k = 0; k < nk; k++)
            L[nk][k] = row[k];
        L[nk][nk] = sqrt(d);
        kidx[nk++] = j;
    }
    double res = yy;
    for (int k = 0; k < nk; k++) {
        double s = rhs[kidx[k]];
        for (int l = 0; l < k; l++)
            s -= L[k][l] * z[l];
        z[k] = s / L[k][k];
        res -= z[k] * z[k];
    }
    double sum = 0;
    for (int k = nk - 1; k >= 0; k--) {
        double s = z[k];
        for (int l = k + 1; l < nk; l++)
            s -= L[l][k] * w[kidx[l] + 1];
        w[kidx[k] + 1] = s / L[k][k];
        sum += w[kidx[k] + 1];
    }
    w[0] = 1 - sum;
    return res > 0 ? res : 0;
}

/* Residual energy of t - S0 - sum w_i (Si - S0) with the weights given (NAN counts as 0). */
static double resid_with(const double *G, int t, const int *S, int p, const double *w)
{
    int a = S[0];
    double r = G_(G, t, t) - 2 * G_(G, t, a) + G_(G, a, a);
    for (int i = 1; i < p; i++) {
        if (isnan(w[i]))
            continue;
        int si = S[i];
        r -= 2 * w[i] * (G_(G, t, si) - G_(G, t, a) - G_(G, si, a) + G_(G, a, a));
        for (int j = 1; j < p; j++)
            if (!isnan(w[j]))
                r += w[i] * w[j] * (G_(G, si, S[j]) - G_(G, si, a) - G_(G, a, S[j]) + G_(G, a, a));
    }
    return r > 0 ? r : 0;
}

static int comb_first(int *c, int p, int n)
{
    if (p > n)
        return 0;
    for (int i = 0; i < p; i++)
        c[i] = i;
    return 1;
}

static int comb_next(int *c, int p, int n)
{
    int i = p - 1;
    while (i >= 0 && c[i] == n - p + i)
        i--;
    if (i < 0)
        return 0;
    c[i]++;
    for (int j = i + 1; j < p; j++)
        c[j] = c[j - 1] + 1;
    return 1;
}

/* A target's floors: per block (bf, nb of them) and in total. */
struct floors {
    const double *fb;
    double total;
    double lm2;  /* linear_max squared */
    double wmax; /* the largest weight a parent may take (merges do not extrapolate) */
};

/* A subset's fit: global weights (perblock 0) or per-block weights (1). */
struct fitres {
    int S[PMAX], p, perblock;
    double res, l1;
};

/* Global fit of t on S; 0 when degenerate. With `strict`, also every block at its floor; with
 * `convex`, only non-negative weights (a weighted sum). */
static int try_global_c(const struct gram *g, int t, const int *S, int p, const struct floors *f,
                        int strict, int convex, struct fitres *out)
{
    double w[PMAX];
    int nd;
    double r = fit_gram(g->g, t, S, p, f->total, w, &nd);
    if (nd)
        return 0;
    for (int i = 0; i < p; i++)
        if ((convex && w[i] < -0.01) || w[i] > f->wmax)
            return 0;
    if (strict) {
        if (r > f->lm2 * f->total)
            return 0;
        for (size_t b = 0; b < g->nb; b++)
            if (resid_with(g->gb + b * NV * NV, t, S, p, w) > f->lm2 * f->fb[b])
                return 0;
    }
    double l1 = 0;
    for (int i = 0; i < p; i++)
        l1 += fabs(w[i]);
    memcpy(out->S, S, sizeof(int) * (size_t)p);
    out->p = p;
    out->perblock = 0;
    out->res = r;
    out->l1 = l1;
    return 1;
}

static int try_global(const struct gram *g, int t, const int *S, int p, const struct floors *f,
                      int strict, struct fitres *out)
{
    return try_global_c(g, t, S, p, f, strict, 0, out);
}

/* Per-block fit of t on S, accepted only when every block is at its floor and every member is
 * determined somewhere (else a smaller subset says the same). */
static int try_perblock(const struct gram *g, int t, const int *S, int p, const struct floors *f,
                        int convex, struct fitres *out)
{
    double w[PMAX], r = 0, l1 = 0;
    int seen[PMAX] = {0}, nd, nl = 0;
    for (size_t b = 0; b < g->nb; b++) {
        double rb = fit_gram(g->gb + b * NV * NV, t, S, p, f->fb[b], w, &nd);
        if (rb > f->lm2 * f->fb[b])
            return 0;
        r += rb;
        if (nd)
            continue;
        double s = 0;
        for (int i = 0; i < p; i++) {
            if ((convex && w[i] < -0.01) || w[i] > f->wmax)
                return 0;
            s += fabs(w[i]), seen[i] = 1;
        }
        l1 += s;
        nl++;
    }
    for (int i = 1; i < p; i++)
        if (!seen[i])
            return 0;
    memcpy(out->S, S, sizeof(int) * (size_t)p);
    out->p = p;
    out->perblock = 1;
    out->res = r;
    out->l1 = nl ? l1 / nl : INFINITY;
    return 1;
}

/* The smallest subset of ids[0..n) (at most pmax models) that explains t linearly; the sparsest
 * (least sum of |weights|) among those of that size. 0 when none does. */
static int search_linear(const struct gram *g, int t, const int *ids, int n, int pmax,
                         const struct floors *f, int convex, struct fitres *best)
{
    int c[PMAX], S[PMAX];
    struct fitres cur;
    for (int p = 1; p <= pmax; p++) {
        int found = 0;
        for (int pass = 0; pass < 2 && !found; pass++) {
            if (pass == 1 && p == 1)
                break; /* one model: no weights to free per block */
            for (int ok = comb_first(c, p, n); ok; ok = comb_next(c, p, n)) {
                for (int i = 0; i < p; i++)
                    S[i] = ids[c[i]];
                int hit = pass == 0 ? try_global_c(g, t, S, p, f, 1, convex, &cur)
                                    : try_perblock(g, t, S, p, f, convex, &cur);
                if (hit && (!found || cur.l1 < best->l1 - 1e-9)) {
                    *best = cur;
                    found = 1;
                }
            }
        }
        if (found)
            return 1;
    }
    return 0;
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

/* Per-block values of the chosen fit into out->parents (NAN where the split is not determined:
 * the parents are equal there, or a block-weighted fit drops a member). */
static int fill_parents(const struct gram *g, const struct ckpt_lineage_fp *q,
                        const struct cand *cv, const struct fitres *fr, const struct floors *f,
                        struct ckpt_lineage_result *out)
{
    double wg[PMAX], w[PMAX];
    int nd;
    if (!fr->perblock)
        fit_gram(g->g, 0, fr->S, fr->p, f->total, wg, &nd);
    out->n_parents = (size_t)fr->p;
    for (int j = 0; j < fr->p; j++) {
        out->parents[j].index = cv[fr->S[j] - 1].index;
        out->parents[j].n_blocks = g->nb;
        out->parents[j].blocks = calloc(g->nb ? g->nb : 1, sizeof *out->parents[j].blocks);
        if (!out->parents[j].blocks)
            return CKPT_E_NOMEM;
    }
    for (size_t b = 0; b < g->nb; b++) {
        fit_gram(g->gb + b * NV * NV, 0, fr->S, fr->p, f->fb[b], w, &nd);
        for (int j = 0; j < fr->p; j++) {
            double v = fr->p == 1 ? 1.0 : nd ? NAN : fr->perblock ? w[j] : wg[j];
            out->parents[j].blocks[b].block = q->blocks[b].name;
            out->parents[j].blocks[b].value = v;
        }
    }
    for (int j = 0; j < fr->p; j++) {
        double s = 0;
        int m = 0;
        if (!fr->perblock) {
            out->parents[j].weight = fr->p == 1 ? 1.0 : wg[j];
            continue;
        }
        for (size_t b = 0; b < g->nb; b++)
            if (!isnan(out->parents[j].blocks[b].value))
                s += out->parents[j].blocks[b].value, m++;
        out->parents[j].weight = m ? s / m : NAN;
    }
    return CKPT_OK;
}

/* The share of the remaining residual a new direction must remove to count: min_gain, and far
 * above chance (an unrelated direction removes about 1/N of it, the best of a pool some 6/N; N the
 * effective number of sketch entries holding the residual). */
static double chance(const struct gram *g, const struct fitres *cur, double floor, double min_gain)
{
    double wv[PMAX], e1 = 0, e2 = 0;
    int nd;
    fit_gram(g->g, 0, cur->S, cur->p, floor, wv, &nd);
    for (size_t b = 0; b < g->nb; b++) {
        double e = resid_with(g->gb + b * NV * NV, 0, cur->S, cur->p, wv);
        e1 += e, e2 += e * e;
    }
    double neff = e2 > 0 ? K * e1 * e1 / e2 : K;
    return min_gain > 10 / neff ? min_gain : 10 / neff;
}

static int negatives(const struct gram *g, const struct fitres *f, double floor, double *w)
{
    int nd, n = 0;
    fit_gram(g->g, 0, f->S, f->p, floor, w, &nd);
    for (int i = 0; i < f->p; i++)
        n += w[i] < -0.05;
    return n;
}

/* A non-linear fit's members that are signed combinations of other candidates (add-differences)
 * are replaced by those candidates when that lowers the residual by more than chance without
 * adding negative weights (TIES and DARE add positive multiples of task vectors to a base); then
 * members left with a negligible weight are dropped. Each original member is tried once. */
static void expand(const struct gram *g, struct fitres *cur, const struct fitres *expl,
                   const int *has_expl, const struct floors *f)
{
    double floor = f->total;
    int orig[PMAX], no = cur->p;
    memcpy(orig, cur->S, sizeof orig);
    for (int o = 0; o < no; o++) {
        int c = orig[o], in = 0;
        for (int i = 0; i < cur->p; i++)
            in |= cur->S[i] == c;
        if (!in || !has_expl[c])
            continue;
        int S[2 * PMAX], p = 0;
        for (int i = 0; i < cur->p; i++)
            if (cur->S[i] != c)
                S[p++] = cur->S[i];
        for (int j = 0; j < expl[c].p; j++) {
            int dup = 0;
            for (int i = 0; i < p; i++)
                dup |= S[i] == expl[c].S[j];
            if (!dup)
                S[p++] = expl[c].S[j];
        }
        struct fitres nf;
        double w[PMAX];
        if (p > PMAX || !try_global(g, 0, S, p, f, 0, &nf))
            continue;
        double need = chance(g, cur, floor, 0) / 10 * 4 * (p - cur->p > 0 ? p - cur->p : 0);
        /* or no worse, with the new members nearer than c to a member the two share (the
         * base C of an add-difference A + (B - C): A and B lie nearer C than the merge does) */
        int nearer = 0;
        for (int i = 0; i < cur->p && !nearer; i++) {
            int an = cur->S[i];
            if (an == c)
                continue;
            int shared = 0;
            for (int j = 0; j < expl[c].p; j++)
                shared |= expl[c].S[j] == an;
            if (!shared)
                continue;
            double dc = G_(g->g, c, c) - 2 * G_(g->g, c, an) + G_(g->g, an, an);
            nearer = 1;
            for (int j = 0; j < expl[c].p; j++) {
                int m = expl[c].S[j];
                double dm = G_(g->g, m, m) - 2 * G_(g->g, m, an) + G_(g->g, an, an);
                if (m != an && dm >= dc)
                    nearer = 0;
            }
        }
        int better = nf.res < cur->res * (1 - need) - 1e-300;
        int no_worse = nf.res <= cur->res * (1 + 1e-4);
        if ((better || (no_worse && nearer)) &&
            negatives(g, &nf, floor, w) <= negatives(g, cur, floor, w))
            *cur = nf;
    }
    /* drop negligible members */
    for (int again = 1; again && cur->p > 2;) {
        double w[PMAX];
        again = 0;
        negatives(g, cur, floor, w);
        for (int i = 0; i < cur->p; i++) {
            if (fabs(w[i]) >= 0.02)
                continue;
            struct fitres nf;
            int S[PMAX], p = 0;
            for (int j = 0; j < cur->p; j++)
                if (j != i)
                    S[p++] = cur->S[j];
            if (try_global(g, 0, S, p, f, 0, &nf)) {
                *cur = nf;
                again = 1;
                break;
            }
        }
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
    struct cand *cv;
    size_t nc;
    if (keep < NPRE)
        keep = NPRE;
    if (prefilter(query, cands, n, keep, &cv, &nc))
        return ckpt_error_setf(err, CKPT_E_NOMEM, name, "out of memory");
    if (!nc) {
        free(cv);
        out->origin = CKPT_LINEAGE_UNKNOWN;
        out->confidence = 0.3;
        snprintf(out->why, sizeof out->why,
                 "no candidate of the same family (%s) with the same blocks",
                 ckpt_lineage_fp_family(query));
        return CKPT_OK;
    }
    int na = nc < NPRE ? (int)nc : NPRE, np;
    size_t nb = query->nb;
    struct gram g = {.nb = nb, .nv = na + 1};
    g.gb = calloc((nb ? nb : 1) * NV * NV, sizeof *g.gb);
    double *vec = calloc((size_t)(na + 1) * K, sizeof *vec);
    double *fq = calloc(nb ? nb : 1, sizeof *fq);
    double *fc = calloc((nb ? nb : 1) * (size_t)na, sizeof *fc); /* candidates' floors */
    int rc = CKPT_OK;
    if (!g.gb || !vec || !fq || !fc) {
        rc = ckpt_error_setf(err, CKPT_E_NOMEM, name, "out of memory");
        goto done;
    }
    /* Gram matrices of the differences to the nearest candidate */
    const struct ckpt_lineage_fp *ref = cands[cv[0].index];
    double floor_total = 0, sumsq = 0;
    for (size_t b = 0; b < nb; b++) {
        const float *r = ref->blocks[cv[0].map[b]].sketch;
        for (int i = 0; i <= na; i++) {
            const struct lin_block *lb =
                i == 0 ? &query->blocks[b] : &cands[cv[i - 1].index]->blocks[cv[i - 1].map[b]];
            for (int k = 0; k < K; k++)
                vec[(size_t)i * K + k] = (double)lb->sketch[k] - r[k];
            double fl = lb->floor2 > 0 ? lb->floor2 : 1e-12 * lb->sumsq + 1e-300;
            if (i == 0)
                fq[b] = fl;
            else
                fc[(size_t)(i - 1) * nb + b] = fl;
        }
        floor_total += fq[b];
        sumsq += query->blocks[b].sumsq;
        double *G = g.gb + b * NV * NV;
        for (int i = 0; i <= na; i++)
            for (int j = 0; j <= i; j++) {
                double d = dot(vec + (size_t)i * K, vec + (size_t)j * K);
                G_(G, i, j) = G_(G, j, i) = d;
                G_(g.g, i, j) += d;
                if (i != j)
                    G_(g.g, j, i) += d;
            }
    }
    struct floors fqs = {fq, floor_total, linear_max * linear_max, 1.02};
    double r0 = G_(g.g, 0, 0); /* to the nearest candidate */
    /* the pool: the nearest candidate, then (matching pursuit with weights per block) the one
     * that most lowers what the pool so far leaves unexplained, while that is more than 0.1%
     * (up to half the pool); the nearest fill up the rest */
    int ids[POOL], used[NV] = {0};
    ids[0] = 1;
    used[1] = 1;
    np = 1;
    for (double rcur = r0; np < POOL && np < na;) {
        int best = -1;
        double bestr = rcur, w[FMAX];
        for (int c = 2; c <= na; c++) {
            if (used[c])
                continue;
            ids[np] = c;
            double r = 0;
            int nd;
            for (size_t b = 0; b < nb; b++)
                r += fit_gram(g.gb + b * NV * NV, 0, ids, np + 1, fq[b], w, &nd);
            if (r < bestr)
                best = c, bestr = r;
        }
        if (np >= POOL / 2 || bestr > rcur * (1 - 1e-3))
            best = -1;
        if (best < 0)
            for (int c = 2; c <= na && best < 0; c++)
                if (!used[c])
                    best = c;
        ids[np++] = best;
        used[best] = 1;
        if (bestr < rcur)
            rcur = bestr;
    }
    /* candidates made from the query (a weighted sum of it and others: its descendants, which a
     * catalog holds too) are no parents of it */
    int keepn = 0, kept[POOL];
    for (int i = 0; i < np; i++) {
        int v = ids[i], desc = 0, others[POOL], no = 0, c[PMAX], S[PMAX];
        for (int j = 0; j < np; j++)
            if (j != i)
                others[no++] = ids[j];
        struct floors fcs = {fc + (size_t)(v - 1) * nb, 0, fqs.lm2, fqs.wmax};
        for (size_t b = 0; b < nb; b++)
            fcs.total += fcs.fb[b];
        for (int p = 2; p <= 3 && !desc; p++)
            for (int ok = comb_first(c, p - 1, no); ok && !desc; ok = comb_next(c, p - 1, no)) {
                struct fitres tmp;
                double w[PMAX];
                int nd;
                S[0] = 0;
                for (int j = 1; j < p; j++)
                    S[j] = others[c[j - 1]];
                if (!try_global_c(&g, v, S, p, &fcs, 1, 1, &tmp) &&
                    !try_perblock(&g, v, S, p, &fcs, 1, &tmp))
                    continue;
                fit_gram(g.g, v, S, p, fcs.total, w, &nd);
                desc = w[0] > 0.02 && w[0] < 0.98;
            }
        if (!desc)
            kept[keepn++] = v;
    }
    if (keepn) {
        memcpy(ids, kept, sizeof(int) * (size_t)keepn);
        np = keepn;
    }
    struct fitres fr;
    const char *p0 = ckpt_lineage_fp_label(ref);
    if (search_linear(&g, 0, ids, np, PMAX, &fqs, 0, &fr)) {
        if ((rc = fill_parents(&g, query, cv, &fr, &fqs, out)))
            goto oom;
        out->residual = sqrt(fr.res / floor_total);
        out->explained = r0 > 0 ? 1 - fr.res / r0 : 1;
        out->linear = 1;
        if (fr.p == 1) {
            out->origin = CKPT_LINEAGE_DUPLICATE;
            out->confidence = 0.95;
            out->base = (long)out->parents[0].index;
            snprintf(out->why, sizeof out->why,
                     "the same weights as %s up to rounding (difference %.2f x the rounding floor)",
                     ckpt_lineage_fp_label(cands[out->parents[0].index]), out->residual);
        } else {
            out->origin = CKPT_LINEAGE_MERGE;
            out->confidence = 0.9;
            snprintf(out->why, sizeof out->why,
                     "a linear merge of %d candidates (%s): the fit leaves %.2f x the rounding "
                     "floor",
                     fr.p, fr.perblock ? "weights per block" : "one weight each across blocks",
                     out->residual);
        }
    } else {
        /* the elementary candidates: not a weighted sum (non-negative weights, globally or per
         * block) of up to 3 others in the pool. A signed combination (an add-difference) is
         * kept in expl[] for the expansion below: A + (B - C) and A are symmetric in a linear
         * relation, so only the fit of the query can tell which one it needs. */
        int el[POOL], ne = 0, has_expl[NV] = {0};
        struct fitres expl[NV];
        for (int i = 0; i < np; i++) {
            int others[POOL], no = 0, v = ids[i];
            for (int j = 0; j < np; j++)
                if (j != i)
                    others[no++] = ids[j];
            struct floors fcs = {fc + (size_t)(v - 1) * nb, 0, fqs.lm2, fqs.wmax};
            for (size_t b = 0; b < nb; b++)
                fcs.total += fcs.fb[b];
            if (search_linear(&g, v, others, no, 3, &fcs, 1, &expl[v]))
                continue;
            el[ne++] = v;
            has_expl[v] = search_linear(&g, v, others, no, 3, &fcs, 0, &expl[v]);
        }
        /* best single, then grow while a parent removes a significant share */
        struct fitres cur = {.p = 0}, cand;
        int c[PMAX], S[PMAX];
        for (int p = 1; p <= PMAX && p <= ne; p++) {
            struct fitres bestp = {.p = 0};
            for (int ok = comb_first(c, p, ne); ok; ok = comb_next(c, p, ne)) {
                for (int i = 0; i < p; i++)
                    S[i] = el[c[i]];
                if (try_global(&g, 0, S, p, &fqs, 0, &cand) && (!bestp.p || cand.res < bestp.res))
                    bestp = cand;
            }
            if (!bestp.p)
                break;
            if (cur.p) {
                double need = chance(&g, &cur, floor_total, min_gain);
                if (cur.res - bestp.res < need * cur.res)
                    break;
            }
            cur = bestp;
        }
        if (!cur.p) {
            cur.p = 1;
            cur.S[0] = 1;
            cur.res = r0;
        }
        if (cur.p >= 2)
            expand(&g, &cur, expl, has_expl, &fqs);
        /* the query nearer to most of its "parents" than any other elementary candidate is:
         * their base (their
         * mean lies near it), not their merge; a merge lies nearer to the base they share */
        int nearest_of = 0;
        for (int i = 0; cur.p >= 2 && i < cur.p; i++) {
            int v = cur.S[i], mine = 1;
            double dq = G_(g.g, v, v) - 2 * G_(g.g, v, 0) + G_(g.g, 0, 0);
            for (int k = 0; k < ne && mine; k++) {
                int j = el[k]; /* weighted sums of others are no one's base */
                if (j != v && G_(g.g, v, v) - 2 * G_(g.g, v, j) + G_(g.g, j, j) < dq)
                    mine = 0;
            }
            nearest_of += mine;
        }
        if (cur.p >= 2 && 2 * nearest_of > cur.p) {
            out->origin = CKPT_LINEAGE_UNKNOWN;
            out->confidence = 0.4;
            out->residual = sqrt(r0 / floor_total);
            snprintf(out->why, sizeof out->why,
                     "the nearest model of %d of the %d candidates that best explain it: more "
                     "likely their base than a merge of them",
                     nearest_of, cur.p);
            goto done;
        }
        if ((rc = fill_parents(&g, query, cv, &cur, &fqs, out)))
            goto oom;
        out->residual = sqrt(cur.res / floor_total);
        out->explained = r0 > 0 && cur.res < r0 ? 1 - cur.res / r0 : r0 > 0 ? 0 : 1;
        const char *pn = ckpt_lineage_fp_label(cands[out->parents[0].index]);
        if (cur.p == 1) {
            double rel = sumsq > 0 ? sqrt(cur.res / sumsq) : 0;
            int s0 = cur.S[0];
            const struct ckpt_lineage_fp *pf = cands[cv[s0 - 1].index];
            out->distance = calloc(nb ? nb : 1, sizeof *out->distance);
            if (!out->distance)
                goto oom;
            out->n_distance = nb;
            size_t changed = 0;
            for (size_t b = 0; b < nb; b++) {
                const double *G = g.gb + b * NV * NV;
                double e = G_(G, 0, 0) - 2 * G_(G, 0, s0) + G_(G, s0, s0);
                const struct lin_block *pb = &pf->blocks[cv[s0 - 1].map[b]];
                out->distance[b].block = query->blocks[b].name;
                out->distance[b].value =
                    pb->sumsq > 0 ? sqrt(e > 0 ? e : 0) / sqrt(pb->sumsq) : NAN;
                changed += e > 25 * fq[b];
            }
            if (rel < 0.5) {
                out->origin = CKPT_LINEAGE_FINETUNE;
                out->confidence = 0.7;
                out->base = (long)out->parents[0].index;
                snprintf(out->why, sizeof out->why,
                         "departs from %s by %.1f%% (in %zu of %zu blocks) and no other "
                         "candidate explains the change",
                         pn, 100 * rel, changed, nb);
            } else {
                out->origin = CKPT_LINEAGE_UNKNOWN;
                out->confidence = 0.3;
                snprintf(out->why, sizeof out->why,
                         "nearest candidate %s differs by %.0f%%: not derived from any "
                         "candidate",
                         pn, 100 * rel);
            }
        } else {
            out->origin = CKPT_LINEAGE_MERGE;
            out->confidence = 0.6;
            out->linear = 0;
            snprintf(out->why, sizeof out->why,
                     "a non-linear merge (TIES, DARE or similar) of %d candidates: they explain "
                     "%.0f%% of its departure from %s, the rest is %.0f x the rounding floor",
                     cur.p, 100 * out->explained, p0, out->residual);
        }
    }
    if (out->origin == CKPT_LINEAGE_MERGE) {
        /* the base of an add-difference: its most negatively weighted parent */
        long bi = -1;
        for (size_t j = 0; j < out->n_parents; j++)
            if (out->parents[j].weight < -0.05 &&
                (bi < 0 || out->parents[j].weight < out->parents[bi].weight))
                bi = (long)j;
        if (bi >= 0)
            out->base = (long)out->parents[bi].index;
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
    goto done;
oom:
    rc = ckpt_error_setf(err, CKPT_E_NOMEM, name, "out of memory");
done:
    free(cv);
    free(g.gb);
    free(vec);
    free(fq);
    free(fc);
    if (rc)
        ckpt_lineage_result_release(out);
    return rc;
}

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
