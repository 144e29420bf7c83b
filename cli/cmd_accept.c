/* ckptdb accept: turn a model's suggestions into chosen values. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cmd_accept(struct cli_ctx *ctx, int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error("accept", "give a MODEL");
    struct ckpt_catalog *cat;
    int ex = cli_catalog_open(ctx, 0, &cat);
    if (ex)
        return ex;
    int64_t id;
    if (!(ex = cli_find_model(cat, argv[1], &id))) {
        struct ckpt_error err;
        size_t n = 0;
        int rc =
            ckpt_catalog_accept(cat, id, (const char *const *)argv + 2, (size_t)argc - 2, &n, &err);
        if (rc)
            cli_error("%s", err.msg);
        else if (ctx->json)
            printf("{\"id\":%lld,\"accepted\":%zu}\n", (long long)id, n);
        else if (!ctx->quiet)
            printf("accepted %zu suggestion%s for model %lld\n", n, n == 1 ? "" : "s",
                   (long long)id);
        ex = cli_status_exit(rc);
    }
    ckpt_catalog_close(cat);
    return ex;
}
