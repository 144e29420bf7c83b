/* ckptdb db copy: move a whole catalog between stores (an SQLite file and a PostgreSQL
 * database, either way) with every record and field (lib/catalog/copy.c). Printing only. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cmd_db(struct cli_ctx *ctx, int argc, char **argv)
{
    const char *from = NULL, *to = NULL;
    if (argc < 2 || strcmp(argv[1], "copy") != 0)
        return cli_usage_error("db", "give a subcommand: copy --from CATALOG --to CATALOG");
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--from") == 0 && i + 1 < argc)
            from = argv[++i];
        else if (strncmp(argv[i], "--from=", 7) == 0)
            from = argv[i] + 7;
        else if (strcmp(argv[i], "--to") == 0 && i + 1 < argc)
            to = argv[++i];
        else if (strncmp(argv[i], "--to=", 5) == 0)
            to = argv[i] + 5;
        else
            return cli_usage_error("db", "unknown argument '%s'", argv[i]);
    }
    if (!from || !to || !*from || !*to)
        return cli_usage_error("db", "copy needs --from CATALOG and --to CATALOG");
    struct ckpt_error err;
    struct ckpt_catalog *src = NULL, *dst = NULL;
    int rc = ckpt_catalog_open(&src, from, CKPT_CATALOG_READONLY, &err);
    if (!rc)
        rc = ckpt_catalog_open(&dst, to, 0, &err);
    struct ckpt_copy_stats st = {0};
    if (!rc)
        rc = ckpt_catalog_copy(src, dst, &st, &err);
    ckpt_catalog_close(src);
    ckpt_catalog_close(dst);
    if (rc) {
        cli_error("%s", err.msg);
        return cli_status_exit(rc == CKPT_E_NOTFOUND ? CKPT_E_IO : rc);
    }
    if (ctx->json)
        printf("{\"tables\":%" PRIu64 ",\"rows\":%" PRIu64 ",\"models\":%" PRIu64 "}\n", st.tables,
               st.rows, st.models);
    else if (!ctx->quiet)
        printf("copied %" PRIu64 " models (%" PRIu64 " rows in %" PRIu64 " tables)\n", st.models,
               st.rows, st.tables);
    return EXIT_OK;
}
