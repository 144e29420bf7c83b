/* ckptdb sidecars: write the catalog's facts into the sidecar files A1111, Civitai Helper and
 * Stability Matrix read (include/ckptdb/sidecars.h), or with --dry-run show the per-field diff.
 * Parsing and printing only; the merge is the library's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ckptdb/sidecars.h"
#include "cli.h"

struct tally {
    size_t written, unchanged, skipped, failed;
};

static void print_plan(struct cli_ctx *ctx, const struct ckpt_sidecar_plan *p, int dry)
{
    if (p->skip) {
        if (ctx->verbose)
            printf("%s: skipped: %s\n", p->path, p->skip);
        return;
    }
    if (!p->n_changes) {
        if (ctx->verbose)
            printf("%s: %s\n", p->path, p->exists ? "up to date" : "nothing to write");
        return;
    }
    printf("%s: %s%s\n", p->path, dry ? "would " : "",
           p->exists ? (dry ? "update" : "updated") : (dry ? "create" : "created"));
    for (size_t i = 0; i < p->n_changes; i++) {
        const struct ckpt_sidecar_change *c = &p->changes[i];
        if (c->before)
            printf("  ~ %s: %s -> %s\n", c->field, c->before, c->after);
        else
            printf("  + %s: %s\n", c->field, c->after);
    }
}

static void json_plan(struct ckpt_json *j, const struct ckpt_model *m, enum ckpt_sidecar_format f,
                      const struct ckpt_sidecar_plan *p, const char *action, const char *error)
{
    ckpt_json_obj_begin(j);
    ckpt_json_key(j, "model");
    ckpt_json_i64(j, m->id);
    ckpt_json_key(j, "name");
    ckpt_json_str(j, m->name);
    ckpt_json_key(j, "format");
    ckpt_json_str(j, ckpt_sidecar_format_name(f));
    ckpt_json_key(j, "path");
    ckpt_json_str(j, p->path);
    ckpt_json_key(j, "action");
    ckpt_json_str(j, action);
    ckpt_json_key(j, "reason");
    ckpt_json_str(j, error ? error : p->skip);
    ckpt_json_key(j, "changes");
    ckpt_json_arr_begin(j);
    for (size_t i = 0; i < p->n_changes; i++) {
        ckpt_json_obj_begin(j);
        ckpt_json_key(j, "field");
        ckpt_json_str(j, p->changes[i].field);
        ckpt_json_key(j, "before");
        if (p->changes[i].before)
            ckpt_json_raw(j, p->changes[i].before, strlen(p->changes[i].before));
        else
            ckpt_json_null(j);
        ckpt_json_key(j, "after");
        ckpt_json_raw(j, p->changes[i].after, strlen(p->changes[i].after));
        ckpt_json_obj_end(j);
    }
    ckpt_json_arr_end(j);
    ckpt_json_obj_end(j);
}

static void one(struct cli_ctx *ctx, const struct ckpt_model *m, enum ckpt_sidecar_format f,
                int64_t now, int dry, struct ckpt_json *j, struct tally *t)
{
    struct ckpt_sidecar_plan p;
    struct ckpt_error err;
    int rc = ckpt_sidecar_plan_make(f, m, now, &p, &err);
    const char *action;
    if (rc) {
        action = "error";
    } else if (p.skip) {
        action = "skip";
        t->skipped++;
    } else if (!p.n_changes) {
        action = "unchanged";
        t->unchanged++;
    } else {
        action = p.exists ? "update" : "create";
        if (!dry && (rc = ckpt_sidecar_plan_apply(&p, &err)))
            action = "error";
        else
            t->written++;
    }
    if (rc) {
        t->failed++;
        cli_error("%s", err.msg);
    }
    if (ctx->json)
        json_plan(j, m, f, &p, action, rc ? err.msg : NULL);
    else if (!rc)
        print_plan(ctx, &p, dry);
    ckpt_sidecar_plan_release(&p);
}

int cmd_sidecars(struct cli_ctx *ctx, int argc, char **argv)
{
    int dry = 0;
    int want[3] = {0};
    int nwant = 0;
    const char **refs = calloc((size_t)argc + 1, sizeof *refs);
    size_t nrefs = 0;
    if (!refs) {
        cli_error("out of memory");
        return EXIT_INPUT;
    }
    for (int i = 1; i < argc; i++) {
        const char *list = NULL;
        if (strcmp(argv[i], "--write") == 0) {
            if (i + 1 >= argc) {
                free(refs);
                return cli_usage_error("sidecars", "--write needs a format");
            }
            list = argv[++i];
        } else if (strncmp(argv[i], "--write=", 8) == 0) {
            list = argv[i] + 8;
        } else if (strcmp(argv[i], "--dry-run") == 0 || strcmp(argv[i], "-n") == 0) {
            dry = 1;
            continue;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            free(refs);
            return cli_usage_error("sidecars", "unknown argument '%s'", argv[i]);
        } else {
            refs[nrefs++] = argv[i];
            continue;
        }
        /* a comma list of formats */
        char *copy = strdup(list), *save = NULL;
        for (char *tok = copy ? strtok_r(copy, ",", &save) : NULL; tok;
             tok = strtok_r(NULL, ",", &save)) {
            enum ckpt_sidecar_format f;
            struct ckpt_error err;
            if (ckpt_sidecar_format_parse(tok, &f, &err)) {
                free(copy);
                free(refs);
                return cli_usage_error("sidecars", "%s", err.msg);
            }
            nwant += !want[f];
            want[f] = 1;
        }
        free(copy);
    }
    if (!nwant) {
        free(refs);
        return cli_usage_error("sidecars", "give --write a1111|civitai-helper|stability-matrix");
    }
    /* reproducible stamps for tests and builds: SOURCE_DATE_EPOCH when set */
    int64_t now = (int64_t)time(NULL);
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    if (sde && *sde)
        now = strtoll(sde, NULL, 10);

    struct ckpt_catalog *cat;
    int ex = cli_catalog_open(ctx, 1, &cat);
    if (ex) {
        free(refs);
        return ex;
    }
    int64_t *ids = NULL;
    size_t n = 0;
    struct ckpt_error err;
    if (nrefs) {
        ids = calloc(nrefs, sizeof *ids);
        for (size_t i = 0; ids && i < nrefs && !ex; i++)
            ex = cli_find_model(cat, refs[i], &ids[n++]);
    } else {
        struct ckpt_query q = {.include_missing = 0};
        if (ckpt_catalog_list(cat, &q, &ids, &n, &err)) {
            cli_error("%s", err.msg);
            ex = EXIT_INPUT;
        }
    }
    free(refs);
    if (ex || (!ids && nrefs)) {
        free(ids);
        ckpt_catalog_close(cat);
        return ex ? ex : EXIT_INPUT;
    }
    struct tally t = {0};
    struct ckpt_buf b = {0};
    struct ckpt_json j;
    ckpt_json_init(&j, &b, 1);
    if (ctx->json)
        ckpt_json_arr_begin(&j);
    for (size_t i = 0; i < n; i++) {
        struct ckpt_model m;
        if (ckpt_catalog_model_get(cat, ids[i], &m, &err)) {
            cli_error("%s", err.msg);
            t.failed++;
            continue;
        }
        if (m.missing || !m.path) {
            cli_error("%s: the file is missing; no sidecar written", m.path ? m.path : m.name);
            t.failed++;
        } else {
            for (int f = 0; f < 3; f++)
                if (want[f])
                    one(ctx, &m, (enum ckpt_sidecar_format)f, now, dry, &j, &t);
        }
        ckpt_model_release(&m);
    }
    if (ctx->json) {
        ckpt_json_arr_end(&j);
        cli_flush(&b);
    }
    ckpt_buf_free(&b);
    if (!ctx->quiet)
        fprintf(stderr, "%s %zu, up to date %zu, skipped %zu, failed %zu\n",
                dry ? "would write" : "wrote", t.written, t.unchanged, t.skipped, t.failed);
    free(ids);
    ckpt_catalog_close(cat);
    return t.failed ? EXIT_INPUT : EXIT_OK;
}
