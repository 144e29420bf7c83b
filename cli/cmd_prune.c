/* ckptdb prune: drop EMA copies, junk keys and training state; repair position_ids. */
#include <string.h>

#include "ckptdb/ops.h"
#include "cli.h"

int cmd_prune(struct cli_ctx *ctx, int argc, char **argv)
{
    struct ckpt_prune_options o;
    memset(&o, 0, sizeof o);
    int rc, handled;
    for (int i = 1; i < argc; i++) {
        if ((rc = cli_ops_option(ctx, "prune", argc, argv, &i, &o.c, &handled)))
            return rc;
        if (handled)
            continue;
        if (!strcmp(argv[i], "--ema-only"))
            o.ema_only = 1;
        else if (!strcmp(argv[i], "--keep-ema"))
            o.keep_ema = 1;
        else if (argv[i][0] == '-' && argv[i][1])
            return cli_usage_error("prune", "unknown option '%s'", argv[i]);
        else if (o.input)
            return cli_usage_error("prune", "one input file only");
        else
            o.input = argv[i];
    }
    if (!o.input || !o.c.output)
        return cli_usage_error("prune", "usage: prune IN -o OUT");
    if (o.ema_only && o.keep_ema)
        return cli_usage_error("prune", "--ema-only and --keep-ema exclude each other");
    cli_ops_progress(ctx, &o.c);
    struct ckpt_op_report rep;
    struct ckpt_error err;
    memset(&rep, 0, sizeof rep);
    rc = ckpt_prune(&o, &rep, &err);
    const char *paths[1] = {o.input};
    const double weights[1] = {1.0};
    const struct cli_ops_inputs in = {paths, weights, 1, NULL};
    rc = cli_ops_finish(ctx, "prune", rc, &err, &o.c, &rep, &in);
    ckpt_op_report_release(&rep);
    return rc;
}
