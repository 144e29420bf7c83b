/* ckptdb check: safety verdicts for model files, without executing anything. */
#include <stdio.h>
#include <string.h>

#include "ckptdb/safety.h"
#include "cli.h"

static void human(const struct ckpt_check_result *r, const char *path, int verbose)
{
    printf("%-10s %s", ckpt_verdict_name(r->verdict), path);
    if (r->n) {
        const struct ckpt_finding *f = &r->findings[0];
        printf(": %s%s%s%s", f->what, f->where[0] ? " (" : "", f->where, f->where[0] ? ")" : "");
        if (!verbose && r->n > 1)
            printf(" [+%zu more, -v lists them]", r->n - 1);
    }
    printf("\n");
    if (!verbose)
        return;
    for (size_t i = 0; i < r->n; i++) {
        const struct ckpt_finding *f = &r->findings[i];
        printf("    %-10s %s", ckpt_verdict_name(f->severity), f->what);
        if (f->where[0])
            printf(" (%s)", f->where);
        if (f->count > 1)
            printf(" x%u", f->count);
        printf("\n");
    }
    if (r->dropped)
        printf("    ... %zu more findings not listed\n", r->dropped);
}

int cmd_check(struct cli_ctx *ctx, int argc, char **argv)
{
    int nfiles = 0, dashdash = 0;
    for (int i = 1; i < argc; i++) {
        if (!dashdash && strcmp(argv[i], "--") == 0)
            dashdash = 1;
        else if (!dashdash && argv[i][0] == '-' && argv[i][1])
            return cli_usage_error("check", "unknown option '%s'", argv[i]);
        else
            nfiles++;
    }
    if (!nfiles)
        return cli_usage_error("check", "no FILE given");
    int any_unsafe = 0, any_invalid = 0;
    struct ckpt_buf b = {0};
    struct ckpt_json j;
    ckpt_json_init(&j, &b, 0);
    if (ctx->json)
        ckpt_json_arr_begin(&j);
    dashdash = 0;
    for (int i = 1; i < argc; i++) {
        if (!dashdash && strcmp(argv[i], "--") == 0) {
            dashdash = 1;
            continue;
        }
        if (!dashdash && argv[i][0] == '-' && argv[i][1])
            continue;
        struct ckpt_check_result res = {0};
        struct ckpt_error err;
        if (ckpt_check_file(argv[i], NULL, &res, &err) != CKPT_OK && !ctx->json)
            cli_error("%s", err.msg);
        if (res.verdict == CKPT_VERDICT_DANGEROUS || res.verdict == CKPT_VERDICT_SUSPICIOUS)
            any_unsafe = 1;
        else if (res.verdict == CKPT_VERDICT_INVALID)
            any_invalid = 1;
        if (ctx->json) {
            ckpt_check_json(&res, argv[i], &j);
            if (b.len > (1u << 20))
                cli_flush(&b);
        } else if (!ctx->quiet || res.verdict != CKPT_VERDICT_SAFE) {
            human(&res, argv[i], ctx->verbose);
        }
        ckpt_check_result_release(&res);
    }
    if (ctx->json) {
        ckpt_json_arr_end(&j);
        ckpt_buf_putc(&b, '\n');
        cli_flush(&b);
    }
    ckpt_buf_free(&b);
    return any_unsafe ? EXIT_UNSAFE : any_invalid ? EXIT_INPUT : EXIT_OK;
}
