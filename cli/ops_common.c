/* What the five file-making commands (merge, convert, prune, extract, bake) share: the common
 * options, the progress bar on stderr, recording the output in the catalog, and printing the
 * report. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "ckptdb/ops.h"

int cli_ops_option(struct cli_ctx *ctx, const char *cmd, int argc, char **argv, int *i,
                   struct ckpt_op_common *c, int *handled)
{
    const char *a = argv[*i];
    *handled = 1;
    if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
        if (*i + 1 >= argc)
            return cli_usage_error(cmd, "%s needs a file", a);
        c->output = argv[++*i];
    } else if (!strncmp(a, "--output=", 9)) {
        c->output = a + 9;
    } else if (!strcmp(a, "--force")) {
        c->force = 1;
    } else if (!strcmp(a, "--trust")) {
        c->trust = 1;
    } else if (!strcmp(a, "--no-hash")) {
        c->no_hash = 1;
    } else if (!strcmp(a, "--no-catalog")) {
        ctx->no_catalog = 1;
    } else if (!strcmp(a, "--dtype")) {
        if (*i + 1 >= argc)
            return cli_usage_error(cmd, "--dtype needs fp16, bf16 or fp32");
        const char *d = argv[++*i];
        if (!strcmp(d, "fp16") || !strcmp(d, "f16") || !strcmp(d, "F16"))
            c->dtype = CKPT_DT_F16;
        else if (!strcmp(d, "bf16") || !strcmp(d, "BF16"))
            c->dtype = CKPT_DT_BF16;
        else if (!strcmp(d, "fp32") || !strcmp(d, "f32") || !strcmp(d, "F32"))
            c->dtype = CKPT_DT_F32;
        else
            return cli_usage_error(cmd, "--dtype '%s': use fp16, bf16 or fp32", d);
    } else {
        *handled = 0;
    }
    return EXIT_OK;
}

struct bar {
    time_t start;
    int drawn;
};
static struct bar bar;

static int draw(void *user, uint64_t td, uint64_t tt, uint64_t bd, uint64_t bt)
{
    (void)user;
    if (!bar.start)
        bar.start = time(NULL);
    double f = bt ? (double)bd / (double)bt : 0;
    int w = 30, filled = (int)(f * w);
    char hb[32], ht[32], eta[32] = "";
    double el = difftime(time(NULL), bar.start);
    if (f > 0.02 && el >= 1)
        snprintf(eta, sizeof eta, " ETA %.0fs", el / f - el);
    fprintf(stderr, "\r[%.*s%*s] %llu/%llu tensors %s/%s%s   ", filled,
            "##############################", w - filled, "", (unsigned long long)td,
            (unsigned long long)tt, cli_human_bytes(bd, hb, sizeof hb),
            cli_human_bytes(bt, ht, sizeof ht), eta);
    bar.drawn = 1;
    return 0;
}

void cli_ops_progress(struct cli_ctx *ctx, struct ckpt_op_common *c)
{
    if (!ctx->quiet && (ctx->progress || isatty(2))) {
        c->progress = draw;
        bar.start = 0;
        bar.drawn = 0;
    }
}

static void progress_end(void)
{
    if (bar.drawn)
        fputc('\n', stderr);
    bar.drawn = 0;
}

/* A catalog is in use when --db or $CKPTDB_DB names one, or the default catalog file exists. */
static int catalog_in_use(const struct cli_ctx *ctx)
{
    if (ctx->no_catalog)
        return 0;
    if (ctx->db && *ctx->db)
        return 1;
    char path[4096];
    struct ckpt_error err;
    struct stat st;
    return ckpt_catalog_default_path(NULL, path, sizeof path, &err) == CKPT_OK &&
           stat(path, &st) == 0;
}

static void stem(const char *path, char *out, size_t n)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    snprintf(out, n, "%s", b);
    char *dot = strrchr(out, '.');
    if (dot && dot != out)
        *dot = 0;
}

/* Record the output with its parents; *id its catalog record. The exit status. */
static int record(struct cli_ctx *ctx, const struct ckpt_op_common *c,
                  const struct ckpt_op_report *r, const struct cli_ops_inputs *in, int64_t *id)
{
    struct ckpt_catalog *cat;
    int rc = cli_catalog_open(ctx, 0, &cat);
    if (rc) {
        cli_error("%s was written but not recorded in the catalog", c->output);
        return rc;
    }
    struct ckpt_parent *ps = calloc(in->n ? in->n : 1, sizeof *ps);
    struct ckpt_model *ms = calloc(in->n ? in->n : 1, sizeof *ms);
    char(*names)[256] = calloc(in->n ? in->n : 1, sizeof *names);
    const char *origin = in->origin;
    struct ckpt_error err;
    if (!ps || !ms || !names) {
        cli_error("out of memory");
        rc = EXIT_INPUT;
    }
    for (size_t i = 0; i < in->n && !rc; i++) {
        /* a parent known to the catalog gives its name (and hash when not hashed now) */
        int64_t pid;
        int known = ckpt_catalog_find_model(cat, in->paths[i], &pid, &err) == CKPT_OK &&
                    ckpt_catalog_model_get(cat, pid, &ms[i], &err) == CKPT_OK;
        stem(in->paths[i], names[i], sizeof names[i]);
        ps[i].name = known && ms[i].name ? ms[i].name : names[i];
        ps[i].sha256 = i < 4 && r->sha256[i][0] ? (char *)r->sha256[i]
                       : known                  ? ms[i].sha256
                                                : NULL;
        ps[i].weight = in->weights ? in->weights[i] : NAN;
        if (i == 0 && !in->origin && known)
            origin = ms[0].origin;
    }
    if (!rc && ckpt_catalog_record_output(cat, c->output, origin, ps, in->n, c->no_hash, id,
                                          &err) != CKPT_OK) {
        cli_error("%s was written but not recorded in the catalog: %s", c->output, err.msg);
        rc = EXIT_INPUT;
    }
    for (size_t i = 0; ms && i < in->n; i++)
        ckpt_model_release(&ms[i]);
    free(ms);
    free(ps);
    free(names);
    ckpt_catalog_close(cat);
    return rc;
}

int cli_ops_finish(struct cli_ctx *ctx, const char *cmd, int rc, const struct ckpt_error *err,
                   const struct ckpt_op_common *c, const struct ckpt_op_report *r,
                   const struct cli_ops_inputs *in)
{
    progress_end();
    if (rc) {
        cli_error("%s: %s", cmd, err->msg);
        return rc == CKPT_E_ARG ? EXIT_USAGE : EXIT_INPUT;
    }
    int64_t id = 0;
    if (in && catalog_in_use(ctx) && (rc = record(ctx, c, r, in, &id)))
        return rc;
    if (ctx->json) {
        struct ckpt_buf b = {0};
        struct ckpt_json j;
        ckpt_json_init(&j, &b, 0);
        ckpt_json_obj_begin(&j);
        ckpt_json_key(&j, "output");
        ckpt_json_str(&j, c->output);
        ckpt_json_key(&j, "family");
        ckpt_json_str(&j, r->family[0] ? r->family : NULL);
        ckpt_json_key(&j, "catalog_id");
        if (id)
            ckpt_json_i64(&j, id);
        else
            ckpt_json_null(&j);
        ckpt_json_key(&j, "tensors_in");
        ckpt_json_u64(&j, r->tensors_in);
        ckpt_json_key(&j, "tensors_out");
        ckpt_json_u64(&j, r->tensors_out);
        ckpt_json_key(&j, "merged");
        ckpt_json_u64(&j, r->merged);
        ckpt_json_key(&j, "copied");
        ckpt_json_u64(&j, r->copied);
        ckpt_json_key(&j, "dropped");
        ckpt_json_u64(&j, r->dropped);
        ckpt_json_key(&j, "input_bytes");
        ckpt_json_u64(&j, r->input_bytes);
        ckpt_json_key(&j, "output_bytes");
        ckpt_json_u64(&j, r->output_bytes);
        ckpt_json_key(&j, "bytes_saved");
        ckpt_json_i64(&j, (int64_t)r->input_bytes - (int64_t)r->output_bytes);
        ckpt_json_key(&j, "only_in_b");
        ckpt_json_u64(&j, r->only_b);
        ckpt_json_key(&j, "only_in_b_names");
        ckpt_json_arr_begin(&j);
        for (size_t i = 0; i < r->n_only_b_names; i++)
            ckpt_json_str(&j, r->only_b_names[i]);
        ckpt_json_arr_end(&j);
        ckpt_json_key(&j, "position_ids_fixed");
        ckpt_json_u64(&j, r->position_ids_fixed);
        ckpt_json_key(&j, "vae_replaced");
        ckpt_json_u64(&j, r->vae_replaced);
        ckpt_json_key(&j, "lora_modules");
        ckpt_json_u64(&j, r->lora_modules);
        ckpt_json_key(&j, "lora_unmatched");
        ckpt_json_u64(&j, r->lora_unmatched);
        ckpt_json_key(&j, "input_sha256");
        ckpt_json_arr_begin(&j);
        for (int i = 0; i < 4; i++)
            if (r->sha256[i][0])
                ckpt_json_str(&j, r->sha256[i]);
        ckpt_json_arr_end(&j);
        ckpt_json_key(&j, "notes");
        ckpt_json_arr_begin(&j);
        for (size_t i = 0; i < r->n_notes; i++)
            ckpt_json_str(&j, r->notes[i]);
        ckpt_json_arr_end(&j);
        ckpt_json_obj_end(&j);
        ckpt_buf_putc(&b, '\n');
        cli_flush(&b);
        ckpt_buf_free(&b);
        return EXIT_OK;
    }
    if (ctx->quiet)
        return EXIT_OK;
    char ho[32], hi[32], hs[32];
    printf("wrote %s: %llu tensors (%llu computed, %llu copied, %llu dropped), %s\n", c->output,
           (unsigned long long)r->tensors_out, (unsigned long long)r->merged,
           (unsigned long long)r->copied, (unsigned long long)r->dropped,
           cli_human_bytes(r->output_bytes, ho, sizeof ho));
    if (!strcmp(cmd, "prune") || !strcmp(cmd, "convert") || !strcmp(cmd, "extract")) {
        long long saved = (long long)r->input_bytes - (long long)r->output_bytes;
        printf("input %s, %s %s\n", cli_human_bytes(r->input_bytes, hi, sizeof hi),
               saved >= 0 ? "saved" : "grew by",
               cli_human_bytes((unsigned long long)(saved >= 0 ? saved : -saved), hs, sizeof hs));
    }
    if (r->only_b) {
        printf("%llu keys only in B (not written):", (unsigned long long)r->only_b);
        for (size_t i = 0; i < r->n_only_b_names; i++)
            printf(" %s", r->only_b_names[i]);
        printf("%s\n", r->only_b > r->n_only_b_names ? " ..." : "");
    }
    if (r->position_ids_fixed)
        printf("position_ids written as exact int64: %llu\n",
               (unsigned long long)r->position_ids_fixed);
    if (r->vae_replaced)
        printf("VAE tensors baked: %llu\n", (unsigned long long)r->vae_replaced);
    if (r->lora_modules || r->lora_unmatched)
        printf("network modules applied: %llu, without a target: %llu\n",
               (unsigned long long)r->lora_modules, (unsigned long long)r->lora_unmatched);
    for (size_t i = 0; i < r->n_notes; i++)
        printf("note: %s\n", r->notes[i]);
    if (id)
        printf("recorded in the catalog as model %lld (origin %s, %zu parent%s)\n", (long long)id,
               in->origin ? in->origin : "kept", in->n, in->n == 1 ? "" : "s");
    return EXIT_OK;
}
