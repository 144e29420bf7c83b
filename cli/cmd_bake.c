/* ckptdb bake: LoRA/LoCon/LoHa/LoKr networks and a VAE baked into a checkpoint. */
#include <stdlib.h>
#include <string.h>

#include "ckptdb/ops.h"
#include "cli.h"

int cmd_bake(struct cli_ctx *ctx, int argc, char **argv)
{
    struct ckpt_bake_options o;
    memset(&o, 0, sizeof o);
    struct ckpt_bake_lora *loras = calloc((size_t)argc, sizeof *loras);
    char **dups = calloc((size_t)argc, sizeof *dups);
    if (!loras || !dups) {
        free(loras);
        free(dups);
        cli_error("out of memory");
        return EXIT_INPUT;
    }
    int rc = EXIT_OK, handled, nd = 0;
    for (int i = 1; i < argc && !rc; i++) {
        if ((rc = cli_ops_option(ctx, "bake", argc, argv, &i, &o.c, &handled)) || handled)
            continue;
        if (!strcmp(argv[i], "--vae") && i + 1 < argc) {
            o.vae = argv[++i];
        } else if (!strcmp(argv[i], "--lora") && i + 1 < argc) {
            char *spec = dups[nd++] = strdup(argv[++i]);
            char *colon = spec ? strrchr(spec, ':') : NULL;
            double w = 1.0;
            if (colon) {
                char *end;
                w = strtod(colon + 1, &end);
                if (end == colon + 1 || *end)
                    colon = NULL, w = 1.0; /* a ':' inside the path, no weight */
                else
                    *colon = 0;
            }
            loras[o.n_loras].path = spec;
            loras[o.n_loras].weight = w;
            o.n_loras++;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            rc = cli_usage_error("bake", "unknown option '%s' (or missing value)", argv[i]);
        } else if (o.input) {
            rc = cli_usage_error("bake", "one checkpoint only");
        } else {
            o.input = argv[i];
        }
    }
    if (!rc && (!o.input || !o.c.output))
        rc = cli_usage_error("bake", "usage: bake CKPT -o OUT [--vae FILE] [--lora FILE:WEIGHT]");
    if (!rc && !o.vae && !o.n_loras)
        rc = cli_usage_error("bake", "nothing to bake: give --vae and/or --lora");
    if (!rc) {
        o.loras = loras;
        cli_ops_progress(ctx, &o.c);
        struct ckpt_op_report rep;
        struct ckpt_error err;
        memset(&rep, 0, sizeof rep);
        rc = ckpt_bake(&o, &rep, &err);
        /* a bake is a merge in A1111's sense: the checkpoint (weight 1), each network with
           its weight, the VAE (its tensors replace the checkpoint's: weight 1) */
        const char **paths = calloc(o.n_loras + 2, sizeof *paths);
        double *weights = calloc(o.n_loras + 2, sizeof *weights);
        struct cli_ops_inputs in = {paths, weights, 0, "merge"};
        if (paths && weights) {
            paths[in.n] = o.input;
            weights[in.n++] = 1.0;
            for (size_t l = 0; l < o.n_loras; l++) {
                paths[in.n] = o.loras[l].path;
                weights[in.n++] = o.loras[l].weight;
            }
            if (o.vae) {
                paths[in.n] = o.vae;
                weights[in.n++] = 1.0;
            }
        }
        rc = cli_ops_finish(ctx, "bake", rc, &err, &o.c, &rep, &in);
        free(paths);
        free(weights);
        ckpt_op_report_release(&rep);
    }
    for (int i = 0; i < nd; i++)
        free(dups[i]);
    free(dups);
    free(loras);
    return rc;
}
