/* ckptdb similar / ckptdb lineage: over files given with --candidates (every file fingerprinted
 * here), or over the catalog (MODEL a catalog model or a file; the catalog's stored fingerprints
 * are the candidates, the nearest read in full). Output only; fingerprints, ranking and the fit
 * are the library's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ckptdb/catalog.h"
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
    if (a->base && !a->n)
        return cli_usage_error(cmd, "--base goes with --candidates");
    return EXIT_OK;
}

/* The model, the candidates and their labels: from files, or from the catalog. */
struct set {
    struct ckpt_lineage_fp **fps; /* files: model (0), candidates (1..n), base (n+1) */
    struct ckpt_lineage_fp *q, *base;
    struct ckpt_lineage_fp *const *c;
    const char *const *names;
    const char *const *shas;
    size_t n;
    const char *model;
    struct ckpt_catalog *db;
    struct ckpt_lineage_cands cat;
};

static void set_free(struct args *a, struct set *s)
{
    if (s->fps) {
        for (size_t i = 0; i < a->n + 2; i++)
            ckpt_lineage_fp_free(s->fps[i]);
        free(s->fps);
    } else {
        ckpt_lineage_fp_free(s->q);
    }
    ckpt_lineage_cands_release(&s->cat);
    ckpt_catalog_close(s->db);
    free(a->cands);
}

static int from_files(struct args *a, struct set *s, int *failed)
{
    s->fps = calloc(a->n + 2, sizeof *s->fps);
    if (!s->fps) {
        cli_error("out of memory");
        return EXIT_INPUT;
    }
    for (size_t i = 0; i < a->n + 2; i++) {
        const char *p = i == 0 ? a->model : i <= a->n ? a->cands[i - 1] : a->base;
        if (!p)
            continue;
        struct ckpt_error e;
        ckpt_error_clear(&e);
        if (ckpt_lineage_fingerprint_file(p, NULL, &s->fps[i], &e)) {
            cli_error("%s", e.msg);
            if (i == 0 || i == a->n + 1)
                return EXIT_INPUT;
            *failed = 1;
        }
    }
    s->q = s->fps[0];
    s->base = s->fps[a->n + 1];
    s->c = s->fps + 1;
    s->names = a->cands;
    s->n = a->n;
    s->model = a->model;
    return EXIT_OK;
}

/* MODEL from the catalog (or a file outside it), the `keep` nearest catalog models. */
static int from_catalog(struct cli_ctx *ctx, struct args *a, size_t keep, struct set *s)
{
    int rc = cli_catalog_open(ctx, 1, &s->db);
    if (rc)
        return rc;
    struct ckpt_error e;
    ckpt_error_clear(&e);
    int64_t id = -1;
    struct stat st;
    int st_rc = ckpt_catalog_find_model(s->db, a->model, &id, &e);
    if (st_rc == CKPT_OK) {
        st_rc = ckpt_catalog_lineage_fp(s->db, id, &s->q, &e);
    } else if (st_rc == CKPT_E_NOTFOUND && stat(a->model, &st) == 0) {
        id = -1; /* a file outside the catalog: fingerprint it here */
        st_rc = ckpt_lineage_fingerprint_file(a->model, NULL, &s->q, &e);
    }
    if (st_rc) {
        cli_error("%s", e.msg);
        return cli_status_exit(st_rc);
    }
    if ((st_rc = ckpt_catalog_lineage_nearest(s->db, s->q, id, keep, &s->cat, &e))) {
        cli_error("%s", e.msg);
        return EXIT_INPUT;
    }
    s->c = s->cat.fps;
    s->names = (const char *const *)s->cat.names;
    s->shas = (const char *const *)s->cat.shas;
    s->n = s->cat.n;
    s->model = id >= 0 ? ckpt_lineage_fp_label(s->q) : a->model;
    return EXIT_OK;
}

static int gather(struct cli_ctx *ctx, struct args *a, size_t keep, struct set *s, int *failed)
{
    memset(s, 0, sizeof *s);
    *failed = 0;
    return a->n ? from_files(a, s, failed) : from_catalog(ctx, a, keep, s);
}

int cmd_similar(struct cli_ctx *ctx, int argc, char **argv)
{
    struct args a;
    int rc = parse("similar", argc, argv, &a, 1);
    if (rc) {
        free(a.cands);
        return rc;
    }
    size_t top = a.top ? a.top : 10;
    struct set s;
    int failed;
    if ((rc = gather(ctx, &a, top * 4 > 64 ? top * 4 : 64, &s, &failed))) {
        set_free(&a, &s);
        return rc;
    }
    struct ckpt_lineage_similar_result r;
    struct ckpt_error e;
    ckpt_error_clear(&e);
    if (ckpt_lineage_similar(s.q, (const struct ckpt_lineage_fp *const *)s.c, s.n, s.base, top, &r,
                             &e)) {
        cli_error("%s", e.msg);
        set_free(&a, &s);
        return EXIT_INPUT;
    }
    struct ckpt_buf b = {0};
    if (ctx->json) {
        struct ckpt_json j;
        ckpt_json_init(&j, &b, 1);
        ckpt_lineage_similar_json(&r, s.names, &j);
        cli_flush(&b);
    } else {
        printf("%-8s  %s\n", "SIMILAR", "MODEL (shared byte for byte)");
        for (size_t i = 0; i < r.n; i++) {
            const struct ckpt_lineage_match *m = &r.matches[i];
            printf("%8.4f  %s", m->similarity, s.names[m->index]);
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
    set_free(&a, &s);
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
    struct set s;
    int failed;
    if ((rc = gather(ctx, &a, 32, &s, &failed))) {
        set_free(&a, &s);
        return rc;
    }
    struct ckpt_lineage_result r;
    struct ckpt_error e;
    ckpt_error_clear(&e);
    if (ckpt_lineage_explain(s.q, (const struct ckpt_lineage_fp *const *)s.c, s.n, NULL, &r, &e)) {
        cli_error("%s", e.msg);
        set_free(&a, &s);
        return EXIT_INPUT;
    }
    struct ckpt_buf b = {0};
    if (ctx->json) {
        struct ckpt_json j;
        ckpt_json_init(&j, &b, 1);
        ckpt_lineage_result_json(&r, s.model, s.names, s.shas, &j);
        cli_flush(&b);
    } else {
        printf("%s: %s (confidence %.2f)\n  %s\n", s.model, ckpt_lineage_origin_name(r.origin),
               r.confidence, r.why);
        if (r.base >= 0)
            printf("  base: %s\n", s.names[r.base]);
        for (size_t i = 0; i < r.n_parents; i++) {
            const struct ckpt_lineage_parent *p = &r.parents[i];
            printf("  %+8.4f  %s\n", p->weight, s.names[p->index]);
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
    set_free(&a, &s);
    return failed ? EXIT_INPUT : EXIT_OK;
}
