/* ckptdb scan: record every model file under the given paths in the catalog (lib/catalog/scan.c
 * does the work); this file draws the progress bar and prints the summary. */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

struct scan_ui {
    struct cli_ctx *ctx;
    int bar;
    int drawn;
    double start, last;
};

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int on_progress(void *user, const struct ckpt_scan_stats *s, int final)
{
    struct scan_ui *u = user;
    if (!u->bar)
        return 0;
    double t = mono();
    if (!final && t - u->last < 0.1)
        return 0;
    u->last = t;
    double el = t - u->start;
    double frac = s->bytes_total   ? (double)s->bytes_hashed / (double)s->bytes_total
                  : s->files_total ? (double)s->files_done / (double)s->files_total
                                   : 1;
    if (frac > 1)
        frac = 1;
    char bar[21], hd[32], ht[32], hr[32], eta[32] = "--:--";
    for (int i = 0; i < 20; i++)
        bar[i] = i < (int)(frac * 20) ? '#' : ' ';
    bar[20] = 0;
    double rate = el > 0 ? (double)s->bytes_hashed / el : 0;
    if (frac > 0.01 && frac < 1 && el > 0.5) {
        unsigned long r = (unsigned long)(el / frac - el);
        snprintf(eta, sizeof eta, "%lu:%02lu", r / 60, r % 60);
    }
    fprintf(stderr, "\r[%s] %" PRIu64 "/%" PRIu64 " files  %s / %s  %s/s  ETA %s \033[K", bar,
            s->files_done, s->files_total, cli_human_bytes(s->bytes_hashed, hd, sizeof hd),
            cli_human_bytes(s->bytes_total, ht, sizeof ht),
            cli_human_bytes((unsigned long long)rate, hr, sizeof hr), eta);
    u->drawn = 1;
    if (final)
        fputc('\n', stderr);
    return 0;
}

static void on_log(void *user, int level, const char *msg)
{
    struct scan_ui *u = user;
    if (u->ctx->quiet && level > 0)
        return;
    if (level >= 2 && !u->ctx->verbose)
        return;
    if (u->drawn)
        fputs("\r\033[K", stderr);
    cli_error("%s", msg);
}

static volatile int cancelled;
static void on_signal(int sig)
{
    (void)sig;
    cancelled = 1;
}

int cmd_scan(struct cli_ctx *ctx, int argc, char **argv)
{
    struct ckpt_scan_options o = {0};
    const char **paths = calloc((size_t)argc, sizeof *paths);
    size_t n = 0;
    if (!paths)
        return EXIT_INPUT;
    int dashdash = 0;
    for (int i = 1; i < argc; i++) {
        if (!dashdash && strcmp(argv[i], "--") == 0) {
            dashdash = 1;
        } else if (!dashdash && strcmp(argv[i], "--no-hash") == 0) {
            o.no_hash = 1;
        } else if (!dashdash && strcmp(argv[i], "--verify") == 0) {
            o.verify = 1;
        } else if (!dashdash && strcmp(argv[i], "--no-lineage") == 0) {
            o.no_lineage = 1;
        } else if (!dashdash && strcmp(argv[i], "--jobs") == 0 && i + 1 < argc) {
            o.jobs = (unsigned)atoi(argv[++i]);
        } else if (!dashdash && argv[i][0] == '-' && argv[i][1]) {
            free(paths);
            return cli_usage_error("scan", "unknown option '%s'", argv[i]);
        } else {
            paths[n++] = argv[i];
        }
    }
    if (!n) {
        free(paths);
        return cli_usage_error("scan", "no PATH given");
    }
    struct ckpt_catalog *cat;
    int ex = cli_catalog_open(ctx, 0, &cat);
    if (ex) {
        free(paths);
        return ex;
    }
    struct scan_ui ui = {ctx, ctx->progress || isatty(2), 0, mono(), 0};
    if (ctx->quiet)
        ui.bar = 0;
    o.progress = on_progress;
    o.progress_user = &ui;
    o.log = on_log;
    o.log_user = &ui;
    o.cancel = &cancelled;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    struct ckpt_scan_stats s;
    struct ckpt_error err;
    int rc = ckpt_catalog_scan(cat, paths, n, &o, &s, &err);
    free(paths);
    ckpt_catalog_close(cat);
    if (rc && rc != CKPT_E_FORMAT && rc != CKPT_E_IO) {
        cli_error("%s", err.msg);
        return cli_status_exit(rc);
    }
    /* an I/O failure that is not a file's (already logged): the catalog's, which stopped the
       scan before every file was handled */
    if (rc == CKPT_E_IO && (!s.failed || s.files_done < s.files_total)) {
        cli_error("%s", err.msg);
        return EXIT_INPUT;
    }
    char hb[32];
    if (ctx->json) {
        printf("{\"seen\":%" PRIu64 ",\"new\":%" PRIu64 ",\"changed\":%" PRIu64
               ",\"unchanged\":%" PRIu64 ",\"moved\":%" PRIu64 ",\"missing\":%" PRIu64
               ",\"failed\":%" PRIu64 ",\"bytes_hashed\":%" PRIu64 ",\"seconds\":%.3f}\n",
               s.seen, s.added, s.changed, s.unchanged, s.moved, s.missing, s.failed,
               s.bytes_hashed, s.seconds);
    } else if (!ctx->quiet) {
        printf("%" PRIu64 " seen, %" PRIu64 " new, %" PRIu64 " changed, %" PRIu64
               " unchanged, %" PRIu64 " moved, %" PRIu64 " missing, %" PRIu64
               " failed; %s hashed in %.2f s\n",
               s.seen, s.added, s.changed, s.unchanged, s.moved, s.missing, s.failed,
               cli_human_bytes(s.bytes_hashed, hb, sizeof hb), s.seconds);
    }
    return s.failed ? EXIT_INPUT : EXIT_OK;
}
