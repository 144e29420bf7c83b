/* ckptdb tag: add (+word or word) and remove (-word) a model's free-word tags. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cmd_tag(struct cli_ctx *ctx, int argc, char **argv)
{
    if (argc < 3)
        return cli_usage_error("tag", "give a MODEL and +word / -word...");
    const char **add = calloc((size_t)argc, sizeof *add), **del = calloc((size_t)argc, sizeof *del);
    size_t na = 0, nd = 0;
    if (!add || !del) {
        free(add);
        free(del);
        return EXIT_INPUT;
    }
    for (int i = 2; i < argc; i++) {
        if (argv[i][0] == '-')
            del[nd++] = argv[i] + 1;
        else
            add[na++] = argv[i] + (argv[i][0] == '+');
    }
    struct ckpt_catalog *cat;
    int ex = cli_catalog_open(ctx, 0, &cat);
    if (!ex) {
        int64_t id;
        if (!(ex = cli_find_model(cat, argv[1], &id))) {
            struct ckpt_error err;
            int rc = ckpt_catalog_tag(cat, id, add, na, del, nd, &err);
            if (rc)
                cli_error("%s", err.msg);
            ex = cli_status_exit(rc);
        }
        ckpt_catalog_close(cat);
    }
    free(add);
    free(del);
    return ex;
}
