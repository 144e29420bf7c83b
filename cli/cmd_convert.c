/* ckptdb convert: any readable model file to safetensors. */
#include <string.h>

#include "ckptdb/ops.h"
#include "cli.h"

int cmd_convert(struct cli_ctx *ctx, int argc, char **argv)
{
    struct ckpt_convert_options o;
    memset(&o, 0, sizeof o);
    int rc, handled;
    for (int i = 1; i < argc; i++) {
        if ((rc = cli_ops_option(ctx, "convert", argc, argv, &i, &o.c, &handled)))
            return rc;
        if (handled)
            continue;
        if (argv[i][0] == '-' && argv[i][1])
            return cli_usage_error("convert", "unknown option '%s'", argv[i]);
        if (o.input)
            return cli_usage_error("convert", "one input file only");
        o.input = argv[i];
    }
    if (!o.input || !o.c.output)
        return cli_usage_error("convert", "usage: convert IN -o OUT");
    cli_ops_progress(ctx, &o.c);
    struct ckpt_op_report rep;
    struct ckpt_error err;
    memset(&rep, 0, sizeof rep);
    rc = ckpt_convert(&o, &rep, &err);
    const char *paths[1] = {o.input};
    const double weights[1] = {1.0};
    const struct cli_ops_inputs in = {paths, weights, 1, NULL};
    rc = cli_ops_finish(ctx, "convert", rc, &err, &o.c, &rep, &in);
    ckpt_op_report_release(&rep);
    return rc;
}
