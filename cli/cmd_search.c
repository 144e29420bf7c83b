/* ckptdb search: full-text search of the catalog (SQLite FTS5, lib/catalog/query.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cmd_search(struct cli_ctx *ctx, int argc, char **argv)
{
    struct ckpt_buf text = {0};
    int csv = 0, all = 0;
    long limit = -1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--csv") == 0) {
            csv = 1;
            continue;
        }
        if (strcmp(argv[i], "--all") == 0) {
            all = 1;
            continue;
        }
        if (strcmp(argv[i], "--limit") == 0) {
            char *end = NULL;
            if (i + 1 < argc)
                limit = strtol(argv[++i], &end, 10);
            if (!end || *end || limit < 1) {
                ckpt_buf_free(&text);
                return cli_usage_error("search", "--limit needs a number of models, 1 or more");
            }
            continue;
        }
        if (text.len)
            ckpt_buf_putc(&text, ' ');
        ckpt_buf_puts(&text, argv[i]);
    }
    if (!text.len)
        return cli_usage_error("search", "no TEXT given");
    struct ckpt_catalog *cat;
    int ex = cli_catalog_open(ctx, 1, &cat);
    if (ex) {
        ckpt_buf_free(&text);
        return ex;
    }
    int64_t *ids;
    size_t n;
    struct ckpt_error err;
    /* the table is for finding a model: the best CLI_TABLE_TOP unless asked otherwise; JSON and
       CSV (for scripts) every match */
    size_t top = limit > 0 ? (size_t)limit : all || ctx->json || csv ? 0 : CLI_TABLE_TOP + 1;
    int rc = ckpt_catalog_search_top(cat, ckpt_buf_cstr(&text), top, &ids, &n, &err);
    ckpt_buf_free(&text);
    if (rc) {
        cli_error("%s", err.msg);
        ckpt_catalog_close(cat);
        return cli_status_exit(rc);
    }
    int more = limit < 0 && top && n > CLI_TABLE_TOP;
    ex = cli_print_models(ctx, cat, ids, more ? CLI_TABLE_TOP : n, csv);
    if (!ex && more && !ctx->quiet)
        fprintf(stderr,
                "the best %d shown; more models match (--all shows every one, --limit N "
                "the best N)\n",
                CLI_TABLE_TOP);
    free(ids);
    ckpt_catalog_close(cat);
    return ex;
}
