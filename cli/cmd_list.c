/* ckptdb list: the catalog's models, filtered and sorted (lib/catalog/query.c), as a table,
 * JSON or CSV. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cmd_list(struct cli_ctx *ctx, int argc, char **argv)
{
    struct ckpt_query q = {.include_missing = 1};
    int csv = 0;
    struct {
        const char *opt;
        const char **dst;
    } opts[] = {{"--kind", &q.kind},       {"--family", &q.family}, {"--ecosystem", &q.ecosystem},
                {"--origin", &q.origin},   {"--output", &q.output}, {"--realism", &q.realism},
                {"--subject", &q.subject}, {"--tag", &q.tag},       {"--source", &q.source},
                {"--safety", &q.safety},   {"--sort", &q.sort},     {"--host", &q.host}};
    for (int i = 1; i < argc; i++) {
        int done = 0;
        for (size_t k = 0; k < sizeof opts / sizeof opts[0] && !done; k++) {
            size_t ol = strlen(opts[k].opt);
            if (strcmp(argv[i], opts[k].opt) == 0) {
                if (i + 1 >= argc)
                    return cli_usage_error("list", "%s needs a value", opts[k].opt);
                *opts[k].dst = argv[++i];
                done = 1;
            } else if (strncmp(argv[i], opts[k].opt, ol) == 0 && argv[i][ol] == '=') {
                *opts[k].dst = argv[i] + ol + 1;
                done = 1;
            }
        }
        if (done)
            continue;
        if (strcmp(argv[i], "--min-rating") == 0 && i + 1 < argc) {
            char *end;
            long r = strtol(argv[++i], &end, 10);
            if (*end || r < 1 || r > 5)
                return cli_usage_error("list", "--min-rating: '%s' is not one of 1, 2, 3, 4, 5",
                                       argv[i]);
            q.min_rating = (int)r;
        } else if (strcmp(argv[i], "--csv") == 0) {
            csv = 1;
        } else if (strcmp(argv[i], "--present") == 0) {
            q.include_missing = 0;
        } else {
            return cli_usage_error("list", "unknown argument '%s'", argv[i]);
        }
    }
    struct ckpt_catalog *cat;
    int ex = cli_catalog_open(ctx, 1, &cat);
    if (ex)
        return ex;
    int64_t *ids;
    size_t n;
    struct ckpt_error err;
    int rc = ckpt_catalog_list(cat, &q, &ids, &n, &err);
    if (rc) {
        cli_error("%s", err.msg);
        ckpt_catalog_close(cat);
        return cli_status_exit(rc);
    }
    ex = cli_print_models(ctx, cat, ids, n, csv);
    free(ids);
    ckpt_catalog_close(cat);
    return ex;
}
