/* ckptdb hash: every community hash of model files (sha256, autov1, autov2, autov3, crc32,
 * blake3) in one read per file, through lib/hash/hasher.c. Output only; the hashing, threading and
 * change detection are the library's. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ckptdb/hash.h"
#include "cli.h"

#define PROGRESS_MIN_SIZE (256ull << 20)

struct progress {
    size_t n;
    uint64_t *done;
    uint64_t total;
    double start, last;
    int drawn;
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void draw(struct progress *p, int final)
{
    uint64_t done = 0;
    for (size_t i = 0; i < p->n; i++)
        done += p->done[i];
    double t = now();
    if (!final && t - p->last < 0.1)
        return;
    p->last = t;
    double el = t - p->start, rate = el > 0 ? (double)done / el : 0;
    double frac = p->total ? (double)done / (double)p->total : 1;
    char bar[31], hd[32], ht[32], hr[32], eta[32] = "--:--";
    int fill = (int)(frac * 30);
    for (int i = 0; i < 30; i++)
        bar[i] = i < fill ? '#' : ' ';
    bar[30] = 0;
    if (rate > 0 && done < p->total) {
        unsigned long s = (unsigned long)((double)(p->total - done) / rate);
        snprintf(eta, sizeof eta, "%lu:%02lu", s / 60, s % 60);
    }
    fprintf(stderr, "\r[%s] %s / %s  %s/s  ETA %s ", bar, cli_human_bytes(done, hd, sizeof hd),
            cli_human_bytes(p->total, ht, sizeof ht),
            cli_human_bytes((unsigned long long)rate, hr, sizeof hr), eta);
    p->drawn = 1;
}

static int on_progress(void *user, size_t file, uint64_t done, uint64_t total)
{
    (void)total;
    struct progress *p = user;
    p->done[file] = done;
    draw(p, 0);
    return 0;
}

static const unsigned order[] = {CKPT_HASH_SHA256, CKPT_HASH_AUTOV1, CKPT_HASH_AUTOV2,
                                 CKPT_HASH_AUTOV3, CKPT_HASH_CRC32,  CKPT_HASH_BLAKE3};

/* The printed value of one hash, or NULL when there is none (autov3 of a non-safetensors file). */
static const char *value(const struct ckpt_hash_result *r, unsigned kind)
{
    switch (kind) {
    case CKPT_HASH_SHA256:
        return r->sha256;
    case CKPT_HASH_AUTOV1:
        return r->autov1;
    case CKPT_HASH_AUTOV2:
        return r->autov2;
    case CKPT_HASH_AUTOV3:
        return r->has_autov3 ? r->autov3 : NULL;
    case CKPT_HASH_CRC32:
        return r->crc32;
    default:
        return r->blake3;
    }
}

static int width(unsigned kind)
{
    switch (kind) {
    case CKPT_HASH_AUTOV1:
    case CKPT_HASH_CRC32:
        return 8;
    case CKPT_HASH_AUTOV2:
        return 10;
    case CKPT_HASH_AUTOV3:
        return 12;
    default:
        return 64;
    }
}

int cmd_hash(struct cli_ctx *ctx, int argc, char **argv)
{
    unsigned want = CKPT_HASH_ALL;
    unsigned jobs = 0;
    int dashdash = 0;
    const char **files = calloc((size_t)argc, sizeof *files);
    if (!files) {
        cli_error("out of memory");
        return EXIT_INPUT;
    }
    size_t n = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!dashdash && strcmp(a, "--") == 0) {
            dashdash = 1;
        } else if (!dashdash && (strcmp(a, "--only") == 0 || strncmp(a, "--only=", 7) == 0)) {
            const char *list = a[6] == '=' ? a + 7 : (i + 1 < argc ? argv[++i] : NULL);
            struct ckpt_error e;
            if (!list) {
                free(files);
                return cli_usage_error("hash", "--only needs a list");
            }
            if (ckpt_hash_parse_list(list, &want, &e)) {
                free(files);
                return cli_usage_error("hash", "%s", e.msg);
            }
        } else if (!dashdash && (strcmp(a, "--jobs") == 0 || strcmp(a, "-j") == 0)) {
            char *end;
            long v = i + 1 < argc ? strtol(argv[i + 1], &end, 10) : 0;
            if (i + 1 >= argc || *end || v < 1 || v > 16) {
                free(files);
                return cli_usage_error("hash", "--jobs needs a number from 1 to 16");
            }
            jobs = (unsigned)v;
            i++;
        } else if (!dashdash && a[0] == '-' && a[1]) {
            free(files);
            return cli_usage_error("hash", "unknown option '%s'", a);
        } else {
            files[n++] = a;
        }
    }
    if (!n) {
        free(files);
        return cli_usage_error("hash", "no FILE given");
    }
    struct ckpt_hash_result *res = calloc(n, sizeof *res);
    int *status = calloc(n, sizeof *status);
    struct ckpt_error *errs = calloc(n, sizeof *errs);
    struct progress pg = {.n = n, .done = calloc(n, sizeof(uint64_t))};
    if (!res || !status || !errs || !pg.done) {
        cli_error("out of memory");
        free(files), free(res), free(status), free(errs), free(pg.done);
        return EXIT_INPUT;
    }
    struct ckpt_hash_options o;
    ckpt_hash_options_default(&o);
    o.want = want;
    o.jobs = jobs;
    int big = 0;
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (stat(files[i], &st) == 0 && S_ISREG(st.st_mode)) {
            pg.total += (uint64_t)st.st_size;
            big |= (uint64_t)st.st_size > PROGRESS_MIN_SIZE;
        }
    }
    if (big && !ctx->quiet && (ctx->progress || isatty(STDERR_FILENO))) {
        pg.start = pg.last = now();
        o.progress = on_progress;
        o.progress_user = &pg;
    }
    ckpt_hash_files(files, n, &o, res, status, errs);
    if (pg.drawn) {
        draw(&pg, 1);
        fputc('\n', stderr);
    }

    int rc = EXIT_OK;
    for (size_t i = 0; i < n; i++)
        if (status[i]) {
            cli_error("%s", errs[i].msg);
            rc = EXIT_INPUT;
        }
    int single = __builtin_popcount(want) == 1;
    struct ckpt_buf b = {0};
    if (ctx->json) {
        struct ckpt_json j;
        ckpt_json_init(&j, &b, 0);
        ckpt_json_arr_begin(&j);
        for (size_t i = 0; i < n; i++) {
            ckpt_json_obj_begin(&j);
            ckpt_json_key(&j, "path");
            ckpt_json_str(&j, files[i]);
            if (status[i]) {
                ckpt_json_key(&j, "error");
                ckpt_json_str(&j, errs[i].msg);
            } else {
                ckpt_json_key(&j, "size");
                ckpt_json_u64(&j, res[i].size);
                for (size_t k = 0; k < sizeof order / sizeof order[0]; k++)
                    if (want & order[k]) {
                        ckpt_json_key(&j, ckpt_hash_name(order[k]));
                        ckpt_json_str(&j, value(&res[i], order[k]));
                    }
            }
            ckpt_json_obj_end(&j);
        }
        ckpt_json_arr_end(&j);
        ckpt_buf_putc(&b, '\n');
    } else if (single) {
        /* sha256sum / b3sum style: "HEX  PATH" */
        for (size_t i = 0; i < n; i++)
            if (!status[i]) {
                const char *v = value(&res[i], want);
                ckpt_buf_printf(&b, "%s  %s\n", v ? v : "-", files[i]);
            }
    } else {
        for (size_t k = 0; k < sizeof order / sizeof order[0]; k++)
            if (want & order[k]) {
                char up[16];
                const char *nm = ckpt_hash_name(order[k]);
                size_t l = 0;
                for (; nm[l] && l < sizeof up - 1; l++)
                    up[l] = (char)(nm[l] >= 'a' && nm[l] <= 'z' ? nm[l] - 32 : nm[l]);
                up[l] = 0;
                ckpt_buf_printf(&b, "%-*s  ", width(order[k]), up);
            }
        ckpt_buf_puts(&b, "PATH\n");
        for (size_t i = 0; i < n; i++) {
            if (status[i])
                continue;
            for (size_t k = 0; k < sizeof order / sizeof order[0]; k++)
                if (want & order[k]) {
                    const char *v = value(&res[i], order[k]);
                    ckpt_buf_printf(&b, "%-*s  ", width(order[k]), v ? v : "-");
                }
            ckpt_buf_printf(&b, "%s\n", files[i]);
        }
    }
    cli_flush(&b);
    ckpt_buf_free(&b);
    free(files);
    free(res);
    free(status);
    free(errs);
    free(pg.done);
    return rc;
}
