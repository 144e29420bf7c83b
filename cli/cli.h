/* The CLI's shared pieces: global options, the command table, output helpers.
 * The CLI is thin: it parses arguments, calls the library, prints. */
#ifndef CKPTDB_CLI_H
#define CKPTDB_CLI_H

#include <stdio.h>

#include <stdint.h>

#include "ckptdb/buf.h"
#include "ckptdb/catalog.h"
#include "ckptdb/error.h"

enum { EXIT_OK = 0, EXIT_INPUT = 1, EXIT_USAGE = 2, EXIT_UNSAFE = 3 };

struct cli_ctx {
    const char *db;
    int json;
    int quiet;
    int verbose;
    int progress;   /* 1: --progress given; progress is also drawn when stderr is a terminal */
    int no_catalog; /* merge/convert/...: --no-catalog, do not record the output */
};

struct cli_command {
    const char *name;
    const char *summary;
    const char *usage; /* full help text after "usage: ckptdb " */
    int (*run)(struct cli_ctx *ctx, int argc, char **argv);
};

extern const struct cli_command cli_commands[];

/* "ckptdb: msg" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Usage error for cmd: message + hint; returns EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Write buf to stdout (and a newline), then reset it. */
void cli_flush(struct ckpt_buf *b);
/* Human-readable byte size ("6.94 GB"). */
const char *cli_human_bytes(unsigned long long n, char *out, size_t outlen);
/* True when arg is "--help" or "-h". */
int cli_is_help(const char *arg);
/* Print a command's help to stdout. */
void cli_print_help(const struct cli_command *c);
const struct cli_command *cli_find(const char *name);

int cmd_inspect(struct cli_ctx *ctx, int argc, char **argv);
int cmd_serve(struct cli_ctx *ctx, int argc, char **argv);
int cmd_identify(struct cli_ctx *ctx, int argc, char **argv);
int cmd_hash(struct cli_ctx *ctx, int argc, char **argv);
int cmd_check(struct cli_ctx *ctx, int argc, char **argv);
int cmd_scan(struct cli_ctx *ctx, int argc, char **argv);
int cmd_list(struct cli_ctx *ctx, int argc, char **argv);
int cmd_show(struct cli_ctx *ctx, int argc, char **argv);
int cmd_set(struct cli_ctx *ctx, int argc, char **argv);
int cmd_tag(struct cli_ctx *ctx, int argc, char **argv);
int cmd_accept(struct cli_ctx *ctx, int argc, char **argv);
int cmd_search(struct cli_ctx *ctx, int argc, char **argv);
int cmd_choose(struct cli_ctx *ctx, int argc, char **argv);
int cmd_dupes(struct cli_ctx *ctx, int argc, char **argv);
int cmd_export(struct cli_ctx *ctx, int argc, char **argv);
int cmd_import(struct cli_ctx *ctx, int argc, char **argv);
int cmd_forget(struct cli_ctx *ctx, int argc, char **argv);
int cmd_db(struct cli_ctx *ctx, int argc, char **argv);

/* models a `list` or `search` table shows unless --all or --limit N */
#define CLI_TABLE_TOP 50


/* catalog commands' shared pieces (catalog_cli.c) */
/* Open the catalog of --db / $CKPTDB_DB / the default path; prints the error; returns an exit
 * code (EXIT_OK when *out is open). */
int cli_catalog_open(struct cli_ctx *ctx, int readonly, struct ckpt_catalog **out);
/* Exit code for a library status: CKPT_E_ARG -> 2 (usage), other failures -> 1. */
int cli_status_exit(int status);
/* Resolve a MODEL argument, printing the error; returns an exit code. */
int cli_find_model(struct ckpt_catalog *cat, const char *ref, int64_t *id);
/* Models as a JSON array (--json), CSV, or the 80-column table. */
int cli_print_models(struct cli_ctx *ctx, struct ckpt_catalog *cat, const int64_t *ids, size_t n,
                     int csv);
void cli_table_header(void);
void cli_table_row(const struct ckpt_model *m);
int cmd_similar(struct cli_ctx *ctx, int argc, char **argv);
int cmd_lineage(struct cli_ctx *ctx, int argc, char **argv);
int cmd_merge(struct cli_ctx *ctx, int argc, char **argv);
int cmd_convert(struct cli_ctx *ctx, int argc, char **argv);
int cmd_prune(struct cli_ctx *ctx, int argc, char **argv);
int cmd_extract(struct cli_ctx *ctx, int argc, char **argv);
int cmd_bake(struct cli_ctx *ctx, int argc, char **argv);
int cmd_organize(struct cli_ctx *ctx, int argc, char **argv);

/* ops_common.c: the options merge/convert/prune/extract/bake share (-o, --force, --dtype,
 * --no-hash, --trust, --no-catalog); *handled is 0 when argv[*i] is not one of them. */
struct ckpt_op_common;
struct ckpt_op_report;
int cli_ops_option(struct cli_ctx *ctx, const char *cmd, int argc, char **argv, int *i,
                   struct ckpt_op_common *c, int *handled);
/* Draw the progress bar when stderr is a terminal or --progress was given (not with -q). */
void cli_ops_progress(struct cli_ctx *ctx, struct ckpt_op_common *c);
/* The inputs of a run as the catalog records the output's parents: paths[i] with weights[i] (NaN:
 * unknown); origin is the chosen origin to set ("merge"), or NULL to carry over the first input's
 * chosen origin (convert, prune, extract: the same model in another file). */
struct cli_ops_inputs {
    const char *const *paths;
    const double *weights;
    size_t n;
    const char *origin;
};
/* After a successful run, record the output in the catalog when one is in use (docs/merge.md:
 * --db or $CKPTDB_DB given, or the default catalog file exists; not with --no-catalog). Print
 * the error or the report (human or --json); returns the exit status. */
int cli_ops_finish(struct cli_ctx *ctx, const char *cmd, int rc, const struct ckpt_error *err,
                   const struct ckpt_op_common *c, const struct ckpt_op_report *r,
                   const struct cli_ops_inputs *in);
int cmd_sidecars(struct cli_ctx *ctx, int argc, char **argv);
int cmd_views(struct cli_ctx *ctx, int argc, char **argv);

#endif
