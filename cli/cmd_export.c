/* ckptdb export: the whole catalog as JSON (what import reads), CSV or a Markdown table. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cmd_export(struct cli_ctx *ctx, int argc, char **argv)
{
    enum ckpt_export_format f = CKPT_EXPORT_JSON;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        if (strcmp(argv[i], "--format") == 0 && i + 1 < argc)
            v = argv[++i];
        else if (strncmp(argv[i], "--format=", 9) == 0)
            v = argv[i] + 9;
        else if (strcmp(argv[i], "--csv") == 0)
            v = "csv";
        else
            return cli_usage_error("export", "unknown argument '%s'", argv[i]);
        if (strcmp(v, "json") == 0)
            f = CKPT_EXPORT_JSON;
        else if (strcmp(v, "csv") == 0)
            f = CKPT_EXPORT_CSV;
        else if (strcmp(v, "md") == 0 || strcmp(v, "markdown") == 0)
            f = CKPT_EXPORT_MD;
        else
            return cli_usage_error("export", "--format: '%s' is not one of json, csv, md", v);
    }
    (void)ctx;
    struct ckpt_catalog *cat;
    int ex = cli_catalog_open(ctx, 1, &cat);
    if (ex)
        return ex;
    struct ckpt_buf b = {0};
    struct ckpt_error err;
    int rc = ckpt_catalog_export(cat, f, &b, &err);
    if (rc)
        cli_error("%s", err.msg);
    else
        fwrite(b.data, 1, b.len, stdout);
    ckpt_buf_free(&b);
    ckpt_catalog_close(cat);
    return cli_status_exit(rc);
}
