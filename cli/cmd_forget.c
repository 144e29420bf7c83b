/* ckptdb forget: drop a model's record from the catalog. The file is never touched. */
#include <stdio.h>

#include "cli.h"

int cmd_forget(struct cli_ctx *ctx, int argc, char **argv)
{
    if (argc != 2)
        return cli_usage_error("forget", "give one MODEL");
    struct ckpt_catalog *cat;
    int ex = cli_catalog_open(ctx, 0, &cat);
    if (ex)
        return ex;
    int64_t id;
    if (!(ex = cli_find_model(cat, argv[1], &id))) {
        struct ckpt_error err;
        int rc = ckpt_catalog_forget(cat, id, &err);
        if (rc)
            cli_error("%s", err.msg);
        else if (!ctx->quiet)
            fprintf(stderr, "forgot model %lld (its file, if any, is untouched)\n", (long long)id);
        ex = cli_status_exit(rc);
    }
    ckpt_catalog_close(cat);
    return ex;
}
