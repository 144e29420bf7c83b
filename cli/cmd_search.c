/* ckptdb search: full-text search of the catalog (SQLite FTS5, lib/catalog/query.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cmd_search(struct cli_ctx *ctx, int argc, char **argv)
{
    struct ckpt_buf text = {0};
    int csv = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--csv") == 0) {
            csv = 1;
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
    int rc = ckpt_catalog_search(cat, ckpt_buf_cstr(&text), &ids, &n, &err);
    ckpt_buf_free(&text);
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
