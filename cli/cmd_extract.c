/* ckptdb extract: one component of a checkpoint as a standalone file. */
#include <string.h>

#include "ckptdb/identify.h"
#include "ckptdb/ops.h"
#include "cli.h"

int cmd_extract(struct cli_ctx *ctx, int argc, char **argv)
{
    struct ckpt_extract_options o;
    memset(&o, 0, sizeof o);
    int rc, handled;
    struct ckpt_error err;
    for (int i = 1; i < argc; i++) {
        if ((rc = cli_ops_option(ctx, "extract", argc, argv, &i, &o.c, &handled)))
            return rc;
        if (handled)
            continue;
        if (!strcmp(argv[i], "--component") && i + 1 < argc) {
            unsigned m;
            if (ckpt_components_parse(argv[++i], &m, &err))
                return cli_usage_error("extract", "%s", err.msg);
            if (m & (m - 1))
                return cli_usage_error("extract", "--component takes one component");
            o.component = m;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_usage_error("extract", "unknown option '%s'", argv[i]);
        } else if (o.input) {
            return cli_usage_error("extract", "one input file only");
        } else {
            o.input = argv[i];
        }
    }
    if (!o.input || !o.c.output || !o.component)
        return cli_usage_error("extract", "usage: extract IN --component C -o OUT");
    cli_ops_progress(ctx, &o.c);
    struct ckpt_op_report rep;
    memset(&rep, 0, sizeof rep);
    rc = ckpt_extract(&o, &rep, &err);
    const char *paths[1] = {o.input};
    const double weights[1] = {1.0};
    const struct cli_ops_inputs in = {paths, weights, 1, NULL};
    rc = cli_ops_finish(ctx, "extract", rc, &err, &o.c, &rep, &in);
    ckpt_op_report_release(&rep);
    return rc;
}
