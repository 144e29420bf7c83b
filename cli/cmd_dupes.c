/* ckptdb dupes: files with the same sha256, and files with the same quick fingerprint whose hash
 * is not known yet. */
#include <stdio.h>

#include "cli.h"

struct dupes_out {
    struct cli_ctx *ctx;
    struct ckpt_catalog *cat;
    struct ckpt_json *j;
    size_t groups;
};

static int on_group(void *user, const char *key, int confirmed, const int64_t *ids, size_t n)
{
    struct dupes_out *d = user;
    d->groups++;
    if (d->ctx->json) {
        ckpt_json_obj_begin(d->j);
        ckpt_json_key(d->j, confirmed ? "sha256" : "fingerprint");
        ckpt_json_str(d->j, key);
        ckpt_json_key(d->j, "confirmed");
        ckpt_json_bool(d->j, confirmed);
        ckpt_json_key(d->j, "models");
        ckpt_json_arr_begin(d->j);
    } else {
        printf("%s %s\n",
               confirmed ? "sha256"
                         : "fingerprint (same size, first and last MiB; "
                           "not hashed yet)",
               key);
    }
    for (size_t i = 0; i < n; i++) {
        struct ckpt_model m;
        struct ckpt_error err;
        if (ckpt_catalog_model_get(d->cat, ids[i], &m, &err))
            continue;
        if (d->ctx->json) {
            ckpt_json_obj_begin(d->j);
            ckpt_json_key(d->j, "id");
            ckpt_json_i64(d->j, m.id);
            ckpt_json_key(d->j, "name");
            ckpt_json_str(d->j, m.name);
            ckpt_json_key(d->j, "path");
            ckpt_json_str(d->j, m.path);
            ckpt_json_key(d->j, "missing");
            ckpt_json_bool(d->j, m.missing);
            ckpt_json_key(d->j, "hosts");
            ckpt_json_arr_begin(d->j);
            for (size_t k = 0; k < m.n_locations; k++)
                ckpt_json_str(d->j, m.locations[k].host);
            ckpt_json_arr_end(d->j);
            ckpt_json_obj_end(d->j);
        } else if (m.n_locations > 1) {
            /* a model on several machines: each machine's copy */
            for (size_t k = 0; k < m.n_locations; k++)
                printf("  %4lld  %s:%s%s\n", (long long)m.id, m.locations[k].host,
                       m.locations[k].path, m.locations[k].missing ? "  (missing)" : "");
        } else {
            printf("  %4lld  %s%s\n", (long long)m.id, m.path ? m.path : "-",
                   m.missing ? "  (missing)" : "");
        }
        ckpt_model_release(&m);
    }
    if (d->ctx->json) {
        ckpt_json_arr_end(d->j);
        ckpt_json_obj_end(d->j);
    }
    return 0;
}

int cmd_dupes(struct cli_ctx *ctx, int argc, char **argv)
{
    (void)argv;
    if (argc != 1)
        return cli_usage_error("dupes", "takes no arguments");
    struct ckpt_catalog *cat;
    int ex = cli_catalog_open(ctx, 1, &cat);
    if (ex)
        return ex;
    struct ckpt_buf b = {0};
    struct ckpt_json j;
    ckpt_json_init(&j, &b, 0);
    struct dupes_out d = {ctx, cat, &j, 0};
    if (ctx->json)
        ckpt_json_arr_begin(&j);
    struct ckpt_error err;
    int rc = ckpt_catalog_dupes(cat, on_group, &d, &err);
    if (rc)
        cli_error("%s", err.msg);
    if (ctx->json) {
        ckpt_json_arr_end(&j);
        ckpt_buf_putc(&b, '\n');
        cli_flush(&b);
    } else if (!d.groups && !ctx->quiet) {
        fprintf(stderr, "no duplicates\n");
    }
    ckpt_buf_free(&b);
    ckpt_catalog_close(cat);
    return cli_status_exit(rc);
}
