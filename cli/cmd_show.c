/* ckptdb show: everything the catalog knows about one model, including why each suggestion. */
#include <inttypes.h>
#include <math.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void line(const char *k, const char *v)
{
    if (v && *v)
        printf("%-14s %s\n", k, v);
}

/* The safety checker's findings, one a line under the verdict. */
static void show_findings(const char *json)
{
    json_error_t e;
    json_t *a = json ? json_loads(json, 0, &e) : NULL;
    size_t i;
    json_t *f;
    if (json_is_array(a))
        json_array_foreach(a, i, f)
        {
            const char *sev = json_string_value(json_object_get(f, "severity"));
            const char *what = json_string_value(json_object_get(f, "what"));
            const char *where = json_string_value(json_object_get(f, "where"));
            printf("  %-12s %s%s%s\n", sev ? sev : "", what ? what : "",
                   where && *where ? " at " : "", where && *where ? where : "");
        }
    json_decref(a);
}

int cmd_show(struct cli_ctx *ctx, int argc, char **argv)
{
    if (argc != 2)
        return cli_usage_error("show", "give one MODEL");
    struct ckpt_catalog *cat;
    int ex = cli_catalog_open(ctx, 1, &cat);
    if (ex)
        return ex;
    int64_t id;
    if ((ex = cli_find_model(cat, argv[1], &id))) {
        ckpt_catalog_close(cat);
        return ex;
    }
    struct ckpt_model m;
    struct ckpt_error err;
    if (ckpt_catalog_model_get(cat, id, &m, &err)) {
        cli_error("%s", err.msg);
        ckpt_catalog_close(cat);
        return EXIT_INPUT;
    }
    if (ctx->json) {
        struct ckpt_buf b = {0};
        struct ckpt_json j;
        ckpt_json_init(&j, &b, 0);
        ckpt_model_json(&m, &j);
        ckpt_buf_putc(&b, '\n');
        cli_flush(&b);
        ckpt_buf_free(&b);
    } else {
        char num[32], hb[32];
        snprintf(num, sizeof num, "%" PRId64, m.id);
        line("id", num);
        line("name", m.name);
        line("path", m.path);
        if (m.missing)
            line("missing", "yes: the file is gone; the record is kept");
        line("error", m.error);
        snprintf(num, sizeof num, "%s (%" PRIu64 " bytes)", cli_human_bytes(m.size, hb, sizeof hb),
                 m.size);
        line("size", m.size ? num : NULL);
        printf("-- measured\n");
        line("format", m.format);
        line("kind", m.kind);
        line("network", m.network);
        line("family", m.family);
        line("ecosystem", m.ecosystem);
        line("variant", m.variant);
        line("prediction", m.prediction);
        line("precision", m.precision);
        line("components", m.components);
        line("safety", m.safety);
        show_findings(m.safety_findings);
        line("sha256", m.sha256);
        line("autov1", m.autov1);
        line("autov2", m.autov2);
        line("autov3", m.autov3);
        line("crc32", m.crc32);
        line("blake3", m.blake3);
        if (m.problems && strcmp(m.problems, "[]") != 0)
            line("problems", m.problems);
        printf("-- chosen\n");
        line("origin", m.origin);
        line("output", m.output);
        line("realism", m.realism);
        line("subjects", m.subjects);
        line("tags", m.tags);
        line("source", m.source);
        line("source_url", m.source_url);
        snprintf(num, sizeof num, "%d/5", m.rating);
        line("rating", m.rating ? num : NULL);
        line("note", m.note);
        line("trigger_words", m.trigger_words);
        if (m.settings && strcmp(m.settings, "{}") != 0)
            line("settings", m.settings);
        if (m.n_suggested) {
            printf("-- suggested (not chosen; 'ckptdb accept %" PRId64 "' takes them)\n", m.id);
            for (size_t i = 0; i < m.n_suggested; i++)
                printf("%-14s %s  (%.2f: %s)\n", m.suggested[i].field, m.suggested[i].value,
                       m.suggested[i].confidence, m.suggested[i].why);
        }
        if (m.n_parents) {
            printf("-- merge parents\n");
            for (size_t i = 0; i < m.n_parents; i++) {
                printf("  %s", m.parents[i].name ? m.parents[i].name : "?");
                if (m.parents[i].sha256)
                    printf("  %.12s", m.parents[i].sha256);
                if (!isnan(m.parents[i].weight))
                    printf("  weight %.3g", m.parents[i].weight);
                printf("\n");
            }
        }
        /* every machine's copy, when it is not just this machine's one file */
        if (m.n_locations > 1 ||
            (m.n_locations == 1 && strcmp(m.locations[0].host, ckpt_catalog_host()) != 0)) {
            printf("-- locations\n");
            for (size_t i = 0; i < m.n_locations; i++)
                printf("  %s:%s%s\n", m.locations[i].host, m.locations[i].path,
                       m.locations[i].missing ? "  (missing)" : "");
        }
        if (m.description || m.preview || m.sidecars)
            printf("-- sidecars\n");
        if (m.description) {
            size_t n = strcspn(m.description, "\n");
            printf("%-14s %.*s%s\n", "description", (int)(n > 200 ? 200 : n), m.description,
                   n > 200 || m.description[n] ? " ..." : "");
        }
        line("preview", m.preview);
        line("files", m.sidecars);
        if (m.metadata && strcmp(m.metadata, "{}") != 0) {
            size_t n = strlen(m.metadata);
            printf("-- metadata\n  %.*s%s\n", (int)(n > 300 ? 300 : n), m.metadata,
                   n > 300 ? " ..." : "");
        }
    }
    ckpt_model_release(&m);
    ckpt_catalog_close(cat);
    return EXIT_OK;
}
