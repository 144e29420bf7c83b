/* ckptdb inspect: a model file's format, tensors and metadata, from its header. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ckptdb/tensorset.h"
#include "cli.h"

static void human(const struct ckpt_tensorset *ts, int summary)
{
    char hb[32], hh[32];
    size_t n = ckpt_tensorset_count(ts);
    printf("path:        %s\n", ckpt_tensorset_path(ts));
    printf("format:      %s\n", ckpt_format_name(ckpt_tensorset_format(ts)));
    printf("size:        %s (%" PRIu64 " bytes)\n",
           cli_human_bytes(ckpt_tensorset_file_size(ts), hb, sizeof hb),
           ckpt_tensorset_file_size(ts));
    printf("header:      %s\n", cli_human_bytes(ckpt_tensorset_header_bytes(ts), hh, sizeof hh));
    uint64_t params = ckpt_tensorset_parameter_count(ts);
    printf("tensors:     %zu (%.3f M parameters)\n", n, (double)params / 1e6);
    uint64_t counts[CKPT_DT_COUNT] = {0};
    for (size_t i = 0; i < n; i++)
        counts[ckpt_tensorset_tensor(ts, i)->dtype]++;
    printf("dtypes:     ");
    for (int t = 0; t < CKPT_DT_COUNT; t++)
        if (counts[t])
            printf(" %s x %" PRIu64, ckpt_dtype_name((enum ckpt_dtype)t), counts[t]);
    printf("\n");
    size_t nm = ckpt_tensorset_meta_count(ts);
    printf("metadata:    %zu entr%s\n", nm, nm == 1 ? "y" : "ies");
    for (size_t i = 0; i < nm; i++) {
        const char *v = ckpt_tensorset_meta_value(ts, i);
        size_t vl = strcspn(v, "\n");
        int cut = vl > 100 || v[vl];
        printf("  %s: %.*s%s\n", ckpt_tensorset_meta_key(ts, i), (int)(vl > 100 ? 100 : vl), v,
               cut ? " ..." : "");
    }
    if (summary)
        return;
    printf("\n%-64s %-7s %-22s %14s %12s\n", "TENSOR", "DTYPE", "SHAPE", "OFFSET", "BYTES");
    for (size_t i = 0; i < n; i++) {
        const struct ckpt_tensor *t = ckpt_tensorset_tensor(ts, i);
        const struct ckpt_source *s = ckpt_tensorset_source(ts, t->source);
        char shape[96];
        size_t o = 0;
        shape[o++] = '[';
        for (uint32_t d = 0; d < t->ndim && o < sizeof shape - 24; d++)
            o += (size_t)snprintf(shape + o, sizeof shape - o, "%s%" PRIu64, d ? ", " : "",
                                  t->shape[d]);
        snprintf(shape + o, sizeof shape - o, "]");
        printf("%-64s %-7s %-22s %14" PRIu64 " %12" PRIu64 "%s\n", t->name,
               ckpt_dtype_name(t->dtype), shape,
               s->compressed ? t->offset : s->file_offset + t->offset, t->nbytes,
               t->contiguous ? "" : "  (strided)");
    }
}

int cmd_inspect(struct cli_ctx *ctx, int argc, char **argv)
{
    int summary = 0, nfiles = 0, dashdash = 0;
    for (int i = 1; i < argc; i++) {
        if (!dashdash && strcmp(argv[i], "--") == 0)
            dashdash = 1;
        else if (!dashdash && strcmp(argv[i], "--summary") == 0)
            summary = 1;
        else if (!dashdash && argv[i][0] == '-' && argv[i][1])
            return cli_usage_error("inspect", "unknown option '%s'", argv[i]);
        else
            nfiles++;
    }
    if (!nfiles)
        return cli_usage_error("inspect", "no FILE given");
    int rc = EXIT_OK, first = 1;
    struct ckpt_buf b = {0};
    struct ckpt_json j;
    ckpt_json_init(&j, &b, 0);
    if (ctx->json && nfiles > 1)
        ckpt_json_arr_begin(&j);
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
        if (ctx->json) {
            ckpt_tensorset_json(ts, &j);
            if (b.len > (1u << 20))
                cli_flush(&b);
        } else {
            if (!first)
                printf("\n");
            human(ts, summary);
        }
        first = 0;
        ckpt_tensorset_close(ts);
    }
    if (ctx->json) {
        if (nfiles > 1)
            ckpt_json_arr_end(&j);
        else if (first) /* the one file failed: still print valid JSON */
            ckpt_json_null(&j);
        ckpt_buf_putc(&b, '\n');
        cli_flush(&b);
    }
    ckpt_buf_free(&b);
    return rc;
}
