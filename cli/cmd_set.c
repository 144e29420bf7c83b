/* ckptdb set: the user's values for a model (validated against the taxonomy by the library; a bad
 * value changes nothing). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cmd_set(struct cli_ctx *ctx, int argc, char **argv)
{
    if (argc < 3)
        return cli_usage_error("set", "give a MODEL and FIELD=VALUE...");
    size_t n = (size_t)argc - 2;
    const char **f = calloc(n, sizeof *f), **v = calloc(n, sizeof *v);
    char **owned = calloc(n, sizeof *owned);
    int ex = EXIT_OK;
    if (!f || !v || !owned) {
        ex = EXIT_INPUT;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const char *a = argv[i + 2];
        const char *eq = strchr(a, '=');
        if (!eq || eq == a) {
            ex = cli_usage_error("set", "'%s' is not FIELD=VALUE", a);
            goto out;
        }
        owned[i] = strndup(a, (size_t)(eq - a));
        f[i] = owned[i];
        v[i] = eq + 1;
    }
    struct ckpt_catalog *cat;
    if ((ex = cli_catalog_open(ctx, 0, &cat)))
        goto out;
    int64_t id;
    if (!(ex = cli_find_model(cat, argv[1], &id))) {
        struct ckpt_error err;
        int rc = ckpt_catalog_set(cat, id, f, v, n, &err);
        if (rc)
            cli_error("%s", err.msg);
        else if (!ctx->quiet)
            fprintf(stderr, "set %zu field%s of model %lld\n", n, n == 1 ? "" : "s", (long long)id);
        ex = cli_status_exit(rc);
    }
    ckpt_catalog_close(cat);
out:
    for (size_t i = 0; owned && i < n; i++)
        free(owned[i]);
    free(owned);
    free(f);
    free(v);
    return ex;
}
