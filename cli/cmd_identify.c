/* ckptdb identify: what each model file is (kind, network, family, ecosystem, variant,
 * prediction, precision, components, problems), from its header and metadata. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckptdb/identify.h"
#include "ckptdb/tensorset.h"
#include "cli.h"

#define SIDECAR_MAX (4u << 20)

/* Read <base>.civitai.info or <base>.cm-info.json next to path (Civitai Helper / Stability
 * Matrix); NULL when there is none. */
static char *read_sidecar(const char *path, size_t *len)
{
    static const char *const exts[] = {".civitai.info", ".cm-info.json", NULL};
    size_t pl = strlen(path);
    while (pl > 1 && path[pl - 1] == '/')
        pl--;
    const char *slash = NULL, *dot = NULL;
    for (size_t i = 0; i < pl; i++) {
        if (path[i] == '/')
            slash = path + i, dot = NULL;
        else if (path[i] == '.')
            dot = path + i;
    }
    (void)slash;
    size_t bl = dot ? (size_t)(dot - path) : pl;
    for (int i = 0; exts[i]; i++) {
        char name[4096];
        if ((size_t)snprintf(name, sizeof name, "%.*s%s", (int)bl, path, exts[i]) >= sizeof name)
            continue;
        FILE *f = fopen(name, "rb");
        if (!f)
            continue;
        char *buf = malloc(SIDECAR_MAX);
        size_t n = buf ? fread(buf, 1, SIDECAR_MAX, f) : 0;
        fclose(f);
        if (buf && n) {
            *len = n;
            return buf;
        }
        free(buf);
    }
    return NULL;
}

static const char *or_dash(const char *s)
{
    return s ? s : "-";
}

static void human_row(const char *path, const struct ckpt_identify_result *r, int verbose)
{
    char probs[256];
    size_t o = 0;
    probs[0] = 0;
    for (size_t i = 0; i < r->n_problems && o < sizeof probs - 1; i++) {
        int n = snprintf(probs + o, sizeof probs - o, "%s%s", i ? "," : "", r->problems[i].code);
        if (n > 0)
            o += (size_t)n;
    }
    char pred[24];
    snprintf(pred, sizeof pred, "%s%s", ckpt_prediction_name(r->prediction),
             r->ztsnr ? "+ztsnr" : "");
    const char *kind = ckpt_kind_name(r->kind);
    char kindbuf[40];
    if (r->network) {
        snprintf(kindbuf, sizeof kindbuf, "%s/%s", kind, ckpt_network_name(r->network));
        kind = kindbuf;
    }
    printf("%-15s %-12s %-11s %-8s %-10s %-9s %-16s %s\n", kind, ckpt_family_name(r->family),
           or_dash(ckpt_ecosystem_name(r->ecosystem)), or_dash(ckpt_variant_name(r->variant)), pred,
           or_dash(ckpt_precision_name(r->precision)), o ? probs : "-", path);
    if (verbose) {
        for (size_t i = 0; i < r->n_problems; i++)
            printf("    problem %s: %s\n", r->problems[i].code, r->problems[i].message);
        for (size_t i = 0; i < r->n_evidence; i++)
            printf("    - %s\n", r->evidence[i]);
    }
}

int cmd_identify(struct cli_ctx *ctx, int argc, char **argv)
{
    int nfiles = 0, dashdash = 0, stats = 0, no_sidecar = 0;
    for (int i = 1; i < argc; i++) {
        if (!dashdash && strcmp(argv[i], "--") == 0)
            dashdash = 1;
        else if (!dashdash && strcmp(argv[i], "--stats") == 0)
            stats = 1;
        else if (!dashdash && strcmp(argv[i], "--no-sidecar") == 0)
            no_sidecar = 1;
        else if (!dashdash && argv[i][0] == '-' && argv[i][1])
            return cli_usage_error("identify", "unknown option '%s'", argv[i]);
        else
            nfiles++;
    }
    if (!nfiles)
        return cli_usage_error("identify", "no FILE given");
    int rc = EXIT_OK;
    struct ckpt_buf b = {0};
    struct ckpt_json j;
    ckpt_json_init(&j, &b, 0);
    if (ctx->json)
        ckpt_json_arr_begin(&j);
    else if (!ctx->quiet)
        printf("%-15s %-12s %-11s %-8s %-10s %-9s %-16s %s\n", "KIND", "FAMILY", "ECOSYSTEM",
               "VARIANT", "PREDICTION", "PRECISION", "PROBLEMS", "PATH");
    uint64_t total_read = 0, total_size = 0, files_ok = 0;
    dashdash = 0;
    for (int i = 1; i < argc; i++) {
        if (!dashdash && strcmp(argv[i], "--") == 0) {
            dashdash = 1;
            continue;
        }
        if (!dashdash && argv[i][0] == '-' && argv[i][1])
            continue;
        struct ckpt_tensorset *ts;
        struct ckpt_error err;
        if (ckpt_tensorset_open(&ts, argv[i], NULL, &err)) {
            cli_error("%s", err.msg);
            rc = EXIT_INPUT;
            continue;
        }
        struct ckpt_identify_options opt = {0};
        char *side = no_sidecar ? NULL : read_sidecar(argv[i], &opt.sidecar_len);
        opt.sidecar_json = side;
        struct ckpt_identify_result r;
        if (ckpt_identify(ts, &opt, &r, &err)) {
            cli_error("%s", err.msg);
            rc = EXIT_INPUT;
        } else {
            if (ctx->json) {
                ckpt_identify_json(&r, argv[i], &j);
                if (b.len > (1u << 20))
                    cli_flush(&b);
            } else {
                human_row(argv[i], &r, ctx->verbose);
            }
            files_ok++;
            total_read += ckpt_tensorset_bytes_read(ts) + r.data_bytes_read;
            total_size += ckpt_tensorset_file_size(ts);
            ckpt_identify_result_release(&r);
        }
        free(side);
        ckpt_tensorset_close(ts);
    }
    if (ctx->json) {
        ckpt_json_arr_end(&j);
        ckpt_buf_putc(&b, '\n');
        cli_flush(&b);
    }
    ckpt_buf_free(&b);
    if (stats)
        fprintf(stderr,
                "identify: %" PRIu64 " files, %" PRIu64 " bytes read of %" PRIu64
                " (%.1f bytes per file)\n",
                files_ok, total_read, total_size,
                files_ok ? (double)total_read / (double)files_ok : 0.0);
    return rc;
}
