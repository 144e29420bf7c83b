/* ckptdb choose: rank models for a wish (lib/catalog/query.c decides; this prints the ranking
 * and why). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cmd_choose(struct cli_ctx *ctx, int argc, char **argv)
{
    struct ckpt_wish w = {0};
    struct {
        const char *opt;
        const char **dst;
    } opts[] = {{"--output", &w.output},       {"--realism", &w.realism}, {"--family", &w.family},
                {"--ecosystem", &w.ecosystem}, {"--subject", &w.subject}, {"--kind", &w.kind}};
    for (int i = 1; i < argc; i++) {
        int done = 0;
        for (size_t k = 0; k < sizeof opts / sizeof opts[0] && !done; k++)
            if (strcmp(argv[i], opts[k].opt) == 0 && i + 1 < argc) {
                *opts[k].dst = argv[++i];
                done = 1;
            }
        if (done)
            continue;
        if (strcmp(argv[i], "--top") == 0 && i + 1 < argc) {
            long t = strtol(argv[++i], NULL, 10);
            if (t < 1 || t > 1000)
                return cli_usage_error("choose", "--top: give 1 to 1000");
            w.top = (size_t)t;
        } else {
            return cli_usage_error("choose", "unknown argument '%s'", argv[i]);
        }
    }
    struct ckpt_catalog *cat;
    int ex = cli_catalog_open(ctx, 1, &cat);
    if (ex)
        return ex;
    struct ckpt_choice *ch;
    size_t n;
    struct ckpt_error err;
    int rc = ckpt_catalog_choose(cat, &w, &ch, &n, &err);
    if (rc) {
        cli_error("%s", err.msg);
        ckpt_catalog_close(cat);
        return cli_status_exit(rc);
    }
    struct ckpt_buf b = {0};
    struct ckpt_json j;
    ckpt_json_init(&j, &b, 0);
    if (ctx->json)
        ckpt_json_arr_begin(&j);
    for (size_t i = 0; i < n; i++) {
        struct ckpt_model m;
        if (ckpt_catalog_model_get(cat, ch[i].id, &m, &err)) {
            cli_error("%s", err.msg);
            continue;
        }
        if (ctx->json) {
            ckpt_json_obj_begin(&j);
            ckpt_json_key(&j, "model");
            ckpt_model_json(&m, &j);
            ckpt_json_key(&j, "score");
            ckpt_json_double(&j, ch[i].score);
            ckpt_json_key(&j, "why");
            ckpt_json_str(&j, ch[i].why);
            ckpt_json_obj_end(&j);
        } else {
            printf("%2zu. %-40s score %5.2f  [id %lld, %s, %s]\n", i + 1, m.name, ch[i].score,
                   (long long)m.id, m.kind ? m.kind : "-", m.family ? m.family : "-");
            printf("    why: %s\n", ch[i].why);
        }
        ckpt_model_release(&m);
    }
    if (ctx->json) {
        ckpt_json_arr_end(&j);
        ckpt_buf_putc(&b, '\n');
        cli_flush(&b);
    } else if (!n && !ctx->quiet) {
        fprintf(stderr, "no model in the catalog fits that wish\n");
    }
    ckpt_buf_free(&b);
    ckpt_choices_free(ch, n);
    ckpt_catalog_close(cat);
    return EXIT_OK;
}
