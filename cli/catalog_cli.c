/* What the catalog commands share: opening the catalog named by --db / $CKPTDB_DB / the default
 * path, mapping library statuses to exit codes, and printing models as JSON, CSV or an 80-column
 * table. Printing only; every decision is the library's (include/ckptdb/catalog.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_catalog_open(struct cli_ctx *ctx, int readonly, struct ckpt_catalog **out)
{
    char path[4096];
    struct ckpt_error err;
    *out = NULL;
    if (ckpt_catalog_default_path(ctx->db, path, sizeof path, &err)) {
        cli_error("%s", err.msg);
        return EXIT_USAGE;
    }
    if (ckpt_catalog_open(out, path, readonly ? CKPT_CATALOG_READONLY : 0, &err)) {
        cli_error("%s", err.msg);
        return EXIT_INPUT;
    }
    return EXIT_OK;
}

int cli_status_exit(int status)
{
    switch (status) {
    case CKPT_OK:
        return EXIT_OK;
    case CKPT_E_ARG:
        return EXIT_USAGE;
    default:
        return EXIT_INPUT;
    }
}

int cli_find_model(struct ckpt_catalog *cat, const char *ref, int64_t *id)
{
    struct ckpt_error err;
    int rc = ckpt_catalog_find_model(cat, ref, id, &err);
    if (rc)
        cli_error("%s", err.msg);
    return cli_status_exit(rc == CKPT_E_NOTFOUND ? CKPT_E_IO : rc);
}

/* the chosen value, else "~" + the best suggestion (never shown as if chosen) */
static const char *shown(const struct ckpt_model *m, const char *chosen, const char *field,
                         char *buf, size_t n)
{
    if (chosen && *chosen)
        return chosen;
    for (size_t i = 0; i < m->n_suggested; i++)
        if (strcmp(m->suggested[i].field, field) == 0) {
            snprintf(buf, n, "~%s", m->suggested[i].value);
            return buf;
        }
    return "-";
}

/* s in a column of width w (cut with ".." when longer), then a space unless last. Written
   with fwrite/putchar: printf's format parsing was a fifth of a 3,000-row listing. */
static void cell(const char *s, int w, int last)
{
    size_t n = strlen(s);
    if (n > (size_t)w) {
        fwrite(s, 1, (size_t)w - 2, stdout);
        fputs("..", stdout);
    } else {
        fwrite(s, 1, n, stdout);
        if (!last)
            for (size_t i = n; i < (size_t)w; i++)
                putchar(' ');
    }
    if (!last)
        putchar(' ');
}

void cli_table_header(void)
{
    printf("%-4s %c %-22s %-10s %-9s %-15s %-10s %s\n", "ID", ' ', "NAME", "KIND", "FAMILY",
           "OUTPUT", "REALISM", "R");
}

void cli_table_row(const struct ckpt_model *m)
{
    char id[24], o[64], r[64], rt[4];
    /* the id is how a user names the model in the next command: never cut (a catalog past
       9,999 models makes the row a little wider instead) */
    char *e = id + sizeof id - 1, *p = e;
    *e = 0;
    uint64_t v = m->id < 0 ? 0 : (uint64_t)m->id;
    do
        *--p = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    cell(p, e - p > 4 ? (int)(e - p) : 4, 0);
    putchar(m->missing ? 'M' : m->error ? 'E' : ' ');
    putchar(' ');
    cell(m->name ? m->name : "-", 22, 0);
    cell(m->kind ? m->kind : "-", 10, 0);
    cell(m->family ? m->family : "-", 9, 0);
    cell(shown(m, m->output, "output", o, sizeof o), 15, 0);
    cell(shown(m, m->realism, "realism", r, sizeof r), 10, 0);
    rt[0] = (char)('0' + (m->rating > 0 && m->rating <= 9 ? m->rating : 0));
    rt[1] = 0;
    cell(m->rating ? rt : "-", 1, 1);
    putchar('\n');
}

static void csv_cell(const char *s)
{
    if (!s)
        return;
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, stdout);
        return;
    }
    putchar('"');
    for (; *s; s++) {
        if (*s == '"')
            putchar('"');
        putchar(*s);
    }
    putchar('"');
}

struct print_ctx {
    struct cli_ctx *ctx;
    struct ckpt_json j;
    struct ckpt_buf b;
    int csv;
};

static void csv_row(const struct ckpt_model *m)
{
    char rt[8], id[24];
    snprintf(rt, sizeof rt, "%d", m->rating);
    snprintf(id, sizeof id, "%" PRId64, m->id);
    const char *cols[] = {id,
                          m->name,
                          m->path,
                          m->kind,
                          m->family,
                          m->ecosystem,
                          m->origin,
                          m->output,
                          m->realism,
                          m->subjects,
                          m->tags,
                          m->rating ? rt : NULL,
                          m->source,
                          m->sha256,
                          m->autov2,
                          m->safety,
                          m->missing ? "true" : "false"};
    for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k++) {
        if (k)
            putchar(',');
        csv_cell(cols[k]);
    }
    putchar('\n');
}

static int print_one(void *user, const struct ckpt_model *m)
{
    struct print_ctx *p = user;
    if (p->ctx->json) {
        ckpt_model_json(m, &p->j);
        if (p->b.len > (1u << 20))
            cli_flush(&p->b);
    } else if (p->csv) {
        csv_row(m);
    } else {
        cli_table_row(m);
    }
    return 0;
}

int cli_print_models(struct cli_ctx *ctx, struct ckpt_catalog *cat, const int64_t *ids, size_t n,
                     int csv)
{
    struct print_ctx p = {.ctx = ctx, .csv = csv};
    ckpt_json_init(&p.j, &p.b, 0);
    if (ctx->json)
        ckpt_json_arr_begin(&p.j);
    else if (csv)
        printf("id,name,path,kind,family,ecosystem,origin,output,realism,subjects,tags,rating,"
               "source,sha256,autov2,safety,missing\n");
    else if (n)
        cli_table_header();
    /* the table shows the best suggestion where nothing is chosen; CSV only chosen values;
       JSON the whole record */
    unsigned parts = ctx->json ? CKPT_MODEL_ALL : csv ? 0 : CKPT_MODEL_BRIEF | CKPT_MODEL_SUGGESTED;
    struct ckpt_error err;
    /* n == 0: nothing matched (ids may then be NULL, which models_each reads as "every model") */
    if (n && ckpt_catalog_models_each(cat, ids, n, parts, print_one, &p, &err)) {
        cli_error("%s", err.msg);
        ckpt_buf_free(&p.b);
        return EXIT_INPUT;
    }
    if (ctx->json) {
        ckpt_json_arr_end(&p.j);
        ckpt_buf_putc(&p.b, '\n');
        cli_flush(&p.b);
    } else if (!csv && !ctx->quiet) {
        fprintf(stderr,
                "%zu model%s (~value: suggested, not chosen; M: file missing, E: "
                "unreadable)\n",
                n, n == 1 ? "" : "s");
    }
    ckpt_buf_free(&p.b);
    return EXIT_OK;
}
