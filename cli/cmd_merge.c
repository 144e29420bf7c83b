/* ckptdb merge: two or three checkpoints into a new one, streamed tensor by tensor. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ckptdb/identify.h"
#include "ckptdb/ops.h"
#include "cli.h"

static int parse_num(const char *cmd, const char *opt, const char *s, double *out)
{
    char *end;
    *out = strtod(s, &end);
    if (end == s || *end)
        return cli_usage_error(cmd, "%s '%s' is not a number", opt, s);
    return EXIT_OK;
}

int cmd_merge(struct cli_ctx *ctx, int argc, char **argv)
{
    struct ckpt_merge_options o;
    memset(&o, 0, sizeof o);
    o.method = CKPT_MERGE_WEIGHTED_SUM;
    o.alpha = 0.5;
    double blocks[CKPT_BLOCKS_MAX];
    int rc, handled, have_alpha = 0;
    struct ckpt_error err;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if ((rc = cli_ops_option(ctx, "merge", argc, argv, &i, &o.c, &handled)))
            return rc;
        if (handled)
            continue;
        int has_val = i + 1 < argc;
        if (!strcmp(a, "--method") && has_val) {
            if (ckpt_merge_method_parse(argv[++i], &o.method, &err))
                return cli_usage_error("merge", "%s", err.msg);
        } else if ((!strcmp(a, "--alpha") || !strcmp(a, "-a")) && has_val) {
            if ((rc = parse_num("merge", a, argv[++i], &o.alpha)))
                return rc;
            have_alpha = 1;
        } else if ((!strcmp(a, "--beta") || !strcmp(a, "-b")) && has_val) {
            if ((rc = parse_num("merge", a, argv[++i], &o.beta)))
                return rc;
        } else if (!strcmp(a, "--k") && has_val) {
            if ((rc = parse_num("merge", a, argv[++i], &o.ties_k)))
                return rc;
        } else if (!strcmp(a, "--p") && has_val) {
            if ((rc = parse_num("merge", a, argv[++i], &o.dare_p)))
                return rc;
        } else if (!strcmp(a, "--seed") && has_val) {
            o.seed = strtoull(argv[++i], NULL, 10);
        } else if (!strcmp(a, "--blocks") && has_val) {
            const char *v = argv[++i];
            if ((v[0] >= '0' && v[0] <= '9') || v[0] == '.' || v[0] == '-') {
                size_t n = 0;
                char *dup = strdup(v), *save = NULL;
                for (char *t = strtok_r(dup, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
                    double x;
                    if (n == CKPT_BLOCKS_MAX || parse_num("merge", "--blocks", t, &x)) {
                        free(dup);
                        return cli_usage_error("merge", "--blocks takes 26 (SD1/SD2) or 20 "
                                                        "(SDXL) comma-separated values");
                    }
                    blocks[n++] = x;
                }
                free(dup);
                if (n != CKPT_BLOCKS_SD1 && n != CKPT_BLOCKS_SDXL)
                    return cli_usage_error("merge",
                                           "--blocks takes 26 (SD1/SD2) or 20 (SDXL) values, "
                                           "%zu given",
                                           n);
                o.n_blocks = n;
            } else {
                if (ckpt_blocks_preset(v, blocks, &err))
                    return cli_usage_error("merge", "%s", err.msg);
                o.n_blocks = CKPT_BLOCKS_SD1;
                o.blocks_name = v;
            }
            o.blocks = blocks;
        } else if (!strcmp(a, "--components") && has_val) {
            if (ckpt_components_parse(argv[++i], &o.components, &err))
                return cli_usage_error("merge", "%s", err.msg);
        } else if (!strcmp(a, "--exclude") && has_val) {
            o.exclude = argv[++i];
        } else if (!strcmp(a, "--vae") && has_val) {
            o.vae = argv[++i];
        } else if (a[0] == '-' && a[1]) {
            return cli_usage_error("merge", "unknown option '%s' (or missing value)", a);
        } else {
            if (o.n_inputs == 3)
                return cli_usage_error("merge", "at most three models (A B C)");
            o.inputs[o.n_inputs++] = a;
        }
    }
    (void)have_alpha;
    int need = ckpt_merge_method_inputs(o.method);
    if ((int)o.n_inputs != need)
        return cli_usage_error("merge", "method %s needs %d models, %zu given",
                               ckpt_merge_method_name(o.method), need, o.n_inputs);
    if (!o.c.output)
        return cli_usage_error("merge", "no output file (-o FILE)");
    cli_ops_progress(ctx, &o.c);
    struct ckpt_op_report rep;
    memset(&rep, 0, sizeof rep);
    rc = ckpt_merge(&o, &rep, &err);
    /* the parents' weights: each model's coefficient in the result; unknown (NaN) for TIES and
       DARE (not linear) and with per-block weights (the recipe holds them) */
    double a = o.alpha, b = o.beta, w[3] = {NAN, NAN, NAN};
    if (!o.n_blocks && o.method == CKPT_MERGE_WEIGHTED_SUM)
        w[0] = 1 - a, w[1] = a;
    else if (!o.n_blocks && o.method == CKPT_MERGE_ADD_DIFFERENCE)
        w[0] = 1, w[1] = a, w[2] = -a;
    else if (!o.n_blocks && o.method == CKPT_MERGE_TRIPLE_SUM)
        w[0] = 1 - a - b, w[1] = a, w[2] = b;
    const struct cli_ops_inputs in = {o.inputs, w, o.n_inputs, "merge"};
    rc = cli_ops_finish(ctx, "merge", rc, &err, &o.c, &rep, &in);
    ckpt_op_report_release(&rep);
    return rc;
}
