/* ckptdb similar / ckptdb lineage over files given on the command line: fingerprints every file
 * (lib/lineage), then ranks the candidates by similarity or explains the model from them.
 * Output only; fingerprints, ranking and the fit are the library's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckptdb/lineage.h"
#include "cli.h"

struct args {
    const char *model;
    const char *base;
    const char **cands;
    size_t n;
    size_t top;
};

static int parse(const char *cmd, int argc, char **argv, struct args *a, int allow_top)
{
    memset(a, 0, sizeof *a);
    a->cands = calloc((size_t)argc, sizeof *a->cands);
    if (!a->cands) {
        cli_error("out of memory");
        return EXIT_INPUT;
    }
    int in_cands = 0;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (!strcmp(s, "--candidates")) {
            in_cands = 1;
        } else if (allow_top && !strcmp(s, "--top")) {
            if (i + 1 >= argc)
                return cli_usage_error(cmd, "--top needs a number");
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*end || v < 1)
                return cli_usage_error(cmd, "--top needs a positive number, not '%s'", argv[i]);
            a->top = (size_t)v;
        } else if (!strcmp(s, "--base")) {
            if (i + 1 >= argc)
                return cli_usage_error(cmd, "--base needs a file");
            a->base = argv[++i];
        } else if (s[0] == '-' && s[1]) {
            return cli_usage_error(cmd, "unknown option '%s'", s);
        } else if (in_cands || a->model) {
            a->cands[a->n++] = s;
        } else {
            a->model = s;
        }
    }
    if (!a->model)
        return cli_usage_error(cmd, "no MODEL given");
    if (!a->n)
        return cli_usage_error(cmd, "no candidates given (--candidates FILE...; the catalog is "
                                    "not available in this build)");
    return EXIT_OK;
}

/* Fingerprints of the model (slot 0), the candidates (1..n) and the base (n+1, may stay NULL). */
static int fingerprint_all(struct args *a, struct ckpt_lineage_fp **fps, int *failed)
{
    *failed = 0;
    for (size_t i = 0; i < a->n + 2; i++) {
        const char *p = i == 0 ? a->model : i <= a->n ? a->cands[i - 1] : a->base;
        if (!p)
            continue;
        struct ckpt_error e;
        ckpt_error_clear(&e);
        if (ckpt_lineage_fingerprint_file(p, NULL, &fps[i], &e)) {
            cli_error("%s", e.msg);
            if (i == 0 || i == a->n + 1)
                return EXIT_INPUT;
            *failed = 1;
        }
    }
    return EXIT_OK;
}

static void free_all(struct args *a, struct ckpt_lineage_fp **fps)
{
    for (size_t i = 0; i < a->n + 2; i++)
        ckpt_lineage_fp_free(fps[i]);
    free(fps);
    free(a->cands);
}

int cmd_similar(struct cli_ctx *ctx, int argc, char **argv)
{
    struct args a;
    int rc = parse("similar", argc, argv, &a, 1);
    if (rc) {
        free(a.cands);
        return rc;
    }
    struct ckpt_lineage_fp **fps = calloc(a.n + 2, sizeof *fps);
    int failed = 0;
    if (!fps || (rc = fingerprint_all(&a, fps, &failed))) {
        if (!fps)
            cli_error("out of memory");
        free_all(&a, fps);
        return EXIT_INPUT;
    }
    struct ckpt_lineage_similar_result r;
    struct ckpt_error e;
    ckpt_error_clear(&e);
    if (ckpt_lineage_similar(fps[0], (const struct ckpt_lineage_fp *const *)fps + 1, a.n,
                             fps[a.n + 1], a.top ? a.top : 10, &r, &e)) {
        cli_error("%s", e.msg);
        free_all(&a, fps);
        return EXIT_INPUT;
    }
    struct ckpt_buf b = {0};
    if (ctx->json) {
        struct ckpt_json j;
        ckpt_json_init(&j, &b, 1);
        ckpt_lineage_similar_json(&r, a.cands, &j);
        cli_flush(&b);
    } else {
        printf("%-8s  %s\n", "SIMILAR", "MODEL (shared byte for byte)");
        for (size_t i = 0; i < r.n; i++) {
            const struct ckpt_lineage_match *m = &r.matches[i];
            printf("%8.4f  %s", m->similarity, a.cands[m->index]);
            for (size_t k = 0; k < m->n_shared; k++)
                printf("%s%s", k ? ", " : " (", m->shared[k]);
            printf("%s\n", m->n_shared ? ")" : "");
            if (ctx->verbose) {
                printf("          ");
                for (size_t k = 0; k < m->n_blocks; k++)
                    printf(" %s=%.3f", m->blocks[k].block, m->blocks[k].value);
                printf("\n");
            }
        }
    }
    ckpt_buf_free(&b);
    ckpt_lineage_similar_release(&r);
    free_all(&a, fps);
    return failed ? EXIT_INPUT : EXIT_OK;
}

int cmd_lineage(struct cli_ctx *ctx, int argc, char **argv)
{
    struct args a;
    int rc = parse("lineage", argc, argv, &a, 0);
    if (rc) {
        free(a.cands);
        return rc;
    }
    struct ckpt_lineage_fp **fps = calloc(a.n + 2, sizeof *fps);
    int failed = 0;
    if (!fps || (rc = fingerprint_all(&a, fps, &failed))) {
        if (!fps)
            cli_error("out of memory");
        free_all(&a, fps);
        return EXIT_INPUT;
    }
    struct ckpt_lineage_result r;
    struct ckpt_error e;
    ckpt_error_clear(&e);
    if (ckpt_lineage_explain(fps[0], (const struct ckpt_lineage_fp *const *)fps + 1, a.n, NULL, &r,
                             &e)) {
        cli_error("%s", e.msg);
        free_all(&a, fps);
        return EXIT_INPUT;
    }
    struct ckpt_buf b = {0};
    if (ctx->json) {
        struct ckpt_json j;
        ckpt_json_init(&j, &b, 1);
        ckpt_lineage_result_json(&r, a.model, a.cands, NULL, &j);
        cli_flush(&b);
    } else {
        printf("%s: %s (confidence %.2f)\n  %s\n", a.model, ckpt_lineage_origin_name(r.origin),
               r.confidence, r.why);
        if (r.base >= 0)
            printf("  base: %s\n", a.cands[r.base]);
        for (size_t i = 0; i < r.n_parents; i++) {
            const struct ckpt_lineage_parent *p = &r.parents[i];
            printf("  %+8.4f  %s\n", p->weight, a.cands[p->index]);
            if (ctx->verbose) {
                printf("           ");
                for (size_t k = 0; k < p->n_blocks; k++)
                    printf(" %s=%.3f", p->blocks[k].block, p->blocks[k].value);
                printf("\n");
            }
        }
        printf("  residual %.2f x rounding floor, %.1f%% explained\n", r.residual,
               100 * r.explained);
    }
    ckpt_buf_free(&b);
    ckpt_lineage_result_release(&r);
    free_all(&a, fps);
    return failed ? EXIT_INPUT : EXIT_OK;
}
