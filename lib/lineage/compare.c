/* Nearest models: similarity of two fingerprints' departures from a common base, per block,
 * and the components they share byte for byte.
 *
 * Raw weights of one family all point the same way (cosine ~1), so the similarity is the cosine
 * of the deltas to a base: the family's base when the caller knows it, else the mean of the
 * query and the candidates. Candidates are ranked by the folded sketches (32 numbers per block,
 * one linear scan for a 10,000-model catalog), the top ones re-measured with the full sketches.
 * Identical components and blocks come from the identity digests. Not for explaining how a
 * model was made (fit.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckptdb/buf.h"
#include "lineage_impl.h"

#define K CKPT_LINEAGE_K

void ckpt_lineage_similar_release(struct ckpt_lineage_similar_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        free(r->matches[i].blocks);
        for (size_t k = 0; k < r->matches[i].n_shared; k++)
            free(r->matches[i].shared[k]);
        free(r->matches[i].shared);
    }
    free(r->matches);
    memset(r, 0, sizeof *r);
}

struct ranked {
    size_t index;
    double score;
};

static int cmp_ranked(const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;
    return x->score > y->score ? -1 : x->score < y->score;
}

static int same_blocks(const struct ckpt_lineage_fp *q, const struct ckpt_lineage_fp *c)
{
    if (c->nb != q->nb)
        return 0;
    for (size_t b = 0; b < q->nb; b++)
        if (strcmp(c->blocks[b].name, q->blocks[b].name))
            return 0;
    return 1;
}

static int add_shared(struct ckpt_lineage_match *m, const char *s)
{
    char **v = realloc(m->shared, (m->n_shared + 1) * sizeof *v);
    if (!v)
        return 0;
    m->shared = v;
    if (!(v[m->n_shared] = strdup(s)))
        return 0;
    m->n_shared++;
    return 1;
}

/* Squared folded distance of two fingerprints with the same blocks. */
static double fold_d2(const struct ckpt_lineage_fp *a, const struct ckpt_lineage_fp *b)
{
    double d = 0;
    for (size_t i = 0; i < a->nb; i++)
        for (int k = 0; k < LIN_FOLD; k++) {
            double t = (double)a->blocks[i].fold[k] - b->blocks[i].fold[k];
            d += t * t;
        }
    return d;
}

/* The family base among the query's 16 nearest candidates: the one from which the departures
 * of the others (and the query) are most nearly orthogonal on average. Fine-tunes of a base
 * depart from it in independent directions; from a fine-tune or a merge their departures share
 * a part. NULL with fewer than 3 models. */
static const struct ckpt_lineage_fp *guess_base(const struct ckpt_lineage_fp *q,
                                                const struct ckpt_lineage_fp *const *cands,
                                                const struct ranked *rk, size_t m)
{
    enum { NN = 16 };
    const struct ckpt_lineage_fp *p[NN + 1];
    double dist[NN + 1];
    size_t np = 0;
    for (size_t i = 0; i < m; i++) {
        const struct ckpt_lineage_fp *c = cands[rk[i].index];
        double d = fold_d2(q, c);
        size_t j = np < NN ? np++ : NN;
        if (j == NN && d >= dist[NN - 1])
            continue;
        while (j > 0 && dist[j - 1] > d) {
            if (j < NN)
                p[j] = p[j - 1], dist[j] = dist[j - 1];
            j--;
        }
        if (j < NN)
            p[j] = c, dist[j] = d;
    }
    if (np < 2)
        return NULL;
    p[np] = q;
    const struct ckpt_lineage_fp *best = NULL;
    double best_s = INFINITY;
    size_t nb = q->nb, dim = nb * LIN_FOLD;
    double *dv = malloc((np + 1) * dim * sizeof *dv);
    if (!dv)
        return NULL;
    for (size_t b = 0; b < np; b++) {
        size_t nv = 0;
        for (size_t i = 0; i <= np; i++) {
            if (i == b)
                continue;
            for (size_t k = 0; k < nb; k++)
                for (int f = 0; f < LIN_FOLD; f++)
                    dv[nv * dim + k * LIN_FOLD + f] =
                        (double)p[i]->blocks[k].fold[f] - p[b]->blocks[k].fold[f];
            nv++;
        }
        double s = 0, nn[NN + 1];
        size_t cnt = 0;
        for (size_t i = 0; i < nv; i++) { /* the squared norms, summed in the same order */
            nn[i] = 0;
            for (size_t k = 0; k < dim; k++)
                nn[i] += dv[i * dim + k] * dv[i * dim + k];
        }
        for (size_t i = 0; i < nv; i++)
            for (size_t j = i + 1; j < nv; j++) {
                double xy = 0, xx = nn[i], yy = nn[j];
                for (size_t k = 0; k < dim; k++)
                    xy += dv[i * dim + k] * dv[j * dim + k];
                s += xx > 0 && yy > 0 ? fabs(xy) / sqrt(xx * yy) : 1;
                cnt++;
            }
        if (cnt && s / cnt < best_s)
            best_s = s / cnt, best = p[b];
    }
    free(dv);
    return best;
}

int ckpt_lineage_similar(const struct ckpt_lineage_fp *query,
                         const struct ckpt_lineage_fp *const *cands, size_t n,
                         const struct ckpt_lineage_fp *base, size_t top,
                         struct ckpt_lineage_similar_result *out, struct ckpt_error *err)
{
    memset(out, 0, sizeof *out);
    const char *name = ckpt_lineage_fp_label(query);
    size_t nb = query->nb;
    if (base && (base->family != query->family || !same_blocks(query, base)))
        base = NULL;
    struct ranked *rk = malloc((n ? n : 1) * sizeof *rk);
    double *center = calloc((nb ? nb : 1) * K, sizeof *center);
    double *cfold = calloc((nb ? nb : 1) * LIN_FOLD, sizeof *cfold);
    if (!rk || !center || !cfold) {
        free(rk);
        free(center);
        free(cfold);
        return ckpt_error_setf(err, CKPT_E_NOMEM, name, "out of memory");
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (cands[i] && cands[i] != query && cands[i]->family == query->family &&
            same_blocks(query, cands[i]))
            rk[m++].index = i;
    /* the centre deltas are taken from: the base given, else the one guessed, else the mean */
    if (base) {
    } else if (!(base = guess_base(query, cands, rk, m))) {
        double wgt = 1.0 / (double)(m + 1);
        for (size_t i = 0; i <= m; i++) {
            const struct ckpt_lineage_fp *c = i < m ? cands[rk[i].index] : query;
            for (size_t b = 0; b < nb; b++) {
                for (int k = 0; k < K; k++)
                    center[b * K + k] += wgt * c->blocks[b].sketch[k];
                for (int k = 0; k < LIN_FOLD; k++)
                    cfold[b * LIN_FOLD + k] += wgt * c->blocks[b].fold[k];
            }
        }
    }
    if (base) {
        for (size_t b = 0; b < nb; b++) {
            for (int k = 0; k < K; k++)
                center[b * K + k] = base->blocks[b].sketch[k];
            for (int k = 0; k < LIN_FOLD; k++)
                cfold[b * LIN_FOLD + k] = base->blocks[b].fold[k];
        }
    }
    /* rank by the folded cosine */
    for (size_t i = 0; i < m; i++) {
        const struct ckpt_lineage_fp *c = cands[rk[i].index];
        double xy = 0, xx = 0, yy = 0;
        for (size_t b = 0; b < nb; b++)
            for (int k = 0; k < LIN_FOLD; k++) {
                double x = query->blocks[b].fold[k] - cfold[b * LIN_FOLD + k];
                double y = c->blocks[b].fold[k] - cfold[b * LIN_FOLD + k];
                xy += x * y, xx += x * x, yy += y * y;
            }
        rk[i].score = xx > 0 && yy > 0 ? xy / sqrt(xx * yy) : 0;
    }
    qsort(rk, m, sizeof *rk, cmp_ranked);
    size_t keep = top && top < m ? top : m;
    /* re-measure more than asked so the full-sketch order is right at the cut */
    size_t measure = keep * 2 + 8 < m ? keep * 2 + 8 : m;
    out->matches = calloc(measure ? measure : 1, sizeof *out->matches);
    if (!out->matches)
        goto oom;
    for (size_t i = 0; i < measure; i++) {
        const struct ckpt_lineage_fp *c = cands[rk[i].index];
        struct ckpt_lineage_match *mt = &out->matches[out->n++];
        mt->index = rk[i].index;
        mt->blocks = calloc(nb ? nb : 1, sizeof *mt->blocks);
        if (!mt->blocks)
            goto oom;
        mt->n_blocks = nb;
        double XY = 0, XX = 0, YY = 0;
        for (size_t b = 0; b < nb; b++) {
            double xy = 0, xx = 0, yy = 0;
            for (int k = 0; k < K; k++) {
                double x = query->blocks[b].sketch[k] - center[b * K + k];
                double y = c->blocks[b].sketch[k] - center[b * K + k];
                xy += x * y, xx += x * x, yy += y * y;
            }
            mt->blocks[b].block = query->blocks[b].name;
            mt->blocks[b].value = query->blocks[b].digest == c->blocks[b].digest ? 1.0
                                  : xx > 0 && yy > 0 ? xy / sqrt(xx * yy)
                                                     : NAN;
            XY += xy, XX += xx, YY += yy;
        }
        mt->similarity = XX > 0 && YY > 0 ? XY / sqrt(XX * YY) : XX == YY ? 1.0 : 0.0;
        unsigned comps = 0;
        for (unsigned cp = 0; cp < LC_COUNT; cp++)
            if (query->comp_digest[cp] && query->comp_digest[cp] == c->comp_digest[cp]) {
                comps |= 1u << cp;
                if (!add_shared(mt, lin_comp_name(cp)))
                    goto oom;
            }
        for (size_t b = 0; b < nb; b++) {
            if (comps & (1u << query->blocks[b].comp) ||
                query->blocks[b].digest != c->blocks[b].digest)
                continue;
            char s[32];
            snprintf(s, sizeof s, "block:%s", query->blocks[b].name);
            if (!add_shared(mt, s))
                goto oom;
        }
    }
    /* best first by the full similarity, then cut */
    for (size_t i = 1; i < out->n; i++)
        for (size_t j = i; j > 0 && out->matches[j].similarity > out->matches[j - 1].similarity;
             j--) {
            struct ckpt_lineage_match t = out->matches[j];
            out->matches[j] = out->matches[j - 1];
            out->matches[j - 1] = t;
        }
    while (out->n > keep) {
        struct ckpt_lineage_match *mt = &out->matches[--out->n];
        free(mt->blocks);
        for (size_t k = 0; k < mt->n_shared; k++)
            free(mt->shared[k]);
        free(mt->shared);
    }
    free(rk);
    free(center);
    free(cfold);
    return CKPT_OK;
oom:
    free(rk);
    free(center);
    free(cfold);
    ckpt_lineage_similar_release(out);
    return ckpt_error_setf(err, CKPT_E_NOMEM, name, "out of memory");
}

void ckpt_lineage_similar_json(const struct ckpt_lineage_similar_result *r,
                               const char *const *names, struct ckpt_json *j)
{
    ckpt_json_arr_begin(j);
    for (size_t i = 0; i < r->n; i++) {
        const struct ckpt_lineage_match *m = &r->matches[i];
        ckpt_json_obj_begin(j);
        ckpt_json_key(j, "model");
        ckpt_json_str(j, names[m->index]);
        ckpt_json_key(j, "similarity");
        ckpt_json_double(j, round(m->similarity * 1e4) / 1e4);
        ckpt_json_key(j, "blocks");
        ckpt_json_obj_begin(j);
        for (size_t b = 0; b < m->n_blocks; b++) {
            ckpt_json_key(j, m->blocks[b].block);
            if (isnan(m->blocks[b].value))
                ckpt_json_null(j);
            else
                ckpt_json_double(j, round(m->blocks[b].value * 1e4) / 1e4);
        }
        ckpt_json_obj_end(j);
        ckpt_json_key(j, "shared_components");
        ckpt_json_arr_begin(j);
        for (size_t k = 0; k < m->n_shared; k++)
            ckpt_json_str(j, m->shared[k]);
        ckpt_json_arr_end(j);
        ckpt_json_obj_end(j);
    }
    ckpt_json_arr_end(j);
}
