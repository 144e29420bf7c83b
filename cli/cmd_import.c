/* ckptdb import: restore the chosen fields of an export (JSON) onto the models with the same
 * sha256. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define IMPORT_MAX (1u << 30)

int cmd_import(struct cli_ctx *ctx, int argc, char **argv)
{
    if (argc != 2)
        return cli_usage_error("import", "give one FILE (what 'ckptdb export' wrote; - for stdin)");
    FILE *f = strcmp(argv[1], "-") == 0 ? stdin : fopen(argv[1], "rb");
    if (!f) {
        cli_error("%s: cannot open", argv[1]);
        return EXIT_INPUT;
    }
    struct ckpt_buf b = {0};
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && b.len < IMPORT_MAX)
        ckpt_buf_put(&b, chunk, n);
    int bad = ferror(f) || b.oom || b.len >= IMPORT_MAX;
    if (f != stdin)
        fclose(f);
    if (bad) {
        cli_error("%s: cannot read (or larger than 1 GiB)", argv[1]);
        ckpt_buf_free(&b);
        return EXIT_INPUT;
    }
    struct ckpt_catalog *cat;
    int ex = cli_catalog_open(ctx, 0, &cat);
    if (ex) {
        ckpt_buf_free(&b);
        return ex;
    }
    struct ckpt_import_stats st;
    struct ckpt_error err;
    int rc = ckpt_catalog_import(cat, b.data ? b.data : "", b.len, &st, &err);
    ckpt_buf_free(&b);
    ckpt_catalog_close(cat);
    if (rc) {
        cli_error("%s: %s (nothing was changed)", argv[1], err.msg);
        return EXIT_INPUT;
    }
    if (ctx->json)
        printf("{\"records\":%llu,\"matched\":%llu,\"unmatched\":%llu,\"updated\":%llu}\n",
               (unsigned long long)st.records, (unsigned long long)st.matched,
               (unsigned long long)st.unmatched, (unsigned long long)st.updated);
    else if (!ctx->quiet)
        printf("%llu records: %llu matched by sha256 (%llu models updated), %llu not in this "
               "catalog\n",
               (unsigned long long)st.records, (unsigned long long)st.matched,
               (unsigned long long)st.updated, (unsigned long long)st.unmatched);
    return EXIT_OK;
}
