/* ckptdb organize: lay the catalogued files out under --into by a layout template, plan first
 * (lib/organize does the work); this file parses the options and prints the plan and report. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckptdb/layout.h"
#include "ckptdb/organize.h"
#include "cli.h"

static void on_log(void *user, int level, const char *msg)
{
    struct cli_ctx *ctx = user;
    if (level == 0 || (level == 1 && !ctx->quiet) || (level == 2 && ctx->verbose))
        fprintf(stderr, "%s%s\n", level == 0 ? "ckptdb: " : "", msg);
}

/* path relative to into when it is under it */
static const char *rel(const struct ckpt_org_plan *p, const char *path)
{
    size_t n = strlen(p->into);
    if (path && strncmp(path, p->into, n) == 0 && path[n] == '/')
        return path + n + 1;
    return path ? path : "-";
}

static const char *base(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static void print_plan(struct cli_ctx *ctx, const struct ckpt_org_plan *p, int listing)
{
    printf("organize %zu file%s into %s\n  layout %s, mode %s\n\n", p->n, p->n == 1 ? "" : "s",
           p->into, p->layout, ckpt_org_mode_name(p->mode));
    for (size_t i = 0; listing && i < p->n; i++) {
        const struct ckpt_org_item *it = &p->items[i];
        if (it->status == CKPT_ORG_INPLACE) {
            if (ctx->verbose)
                printf("  in place  %s\n", it->from);
            continue;
        }
        if (it->status == CKPT_ORG_SKIP) {
            printf("  skip  %s\n        %s\n", it->from, it->reason ? it->reason : "");
            continue;
        }
        printf("  %s  %s\n     -> %s%s%s%s%s\n", ckpt_org_mode_name(p->mode), it->from,
               rel(p, it->to), it->reason ? "  (" : "", it->reason ? it->reason : "",
               it->reason ? ")" : "", it->cross_fs ? "  [other filesystem: copy + verify]" : "");
        for (size_t k = 0; k < it->n_side; k++)
            printf("%s%s%s", k == 0 ? "        + " : ", ", base(it->side[k].to),
                   k + 1 == it->n_side ? "\n" : "");
    }
    char hb[32];
    printf("%s%zu to %s (%zu sidecar%s), %zu in place, %zu skipped, %zu renamed; %s to copy "
           "across filesystems\n",
           listing ? "\n" : "", p->n_place, ckpt_org_mode_name(p->mode), p->n_side,
           p->n_side == 1 ? "" : "s", p->n_inplace, p->n_skip, p->n_renamed,
           cli_human_bytes(p->bytes_cross_fs, hb, sizeof hb));
}

static void report_json(struct ckpt_json *j, const struct ckpt_org_report *r)
{
    ckpt_json_obj_begin(j);
    ckpt_json_key(j, "id");
    ckpt_json_i64(j, r->run_id);
    ckpt_json_key(j, "steps");
    ckpt_json_u64(j, r->steps);
    ckpt_json_key(j, "done");
    ckpt_json_u64(j, r->done);
    ckpt_json_key(j, "already");
    ckpt_json_u64(j, r->already);
    ckpt_json_key(j, "failed");
    ckpt_json_u64(j, r->failed);
    ckpt_json_key(j, "bytes_copied");
    ckpt_json_u64(j, r->bytes_copied);
    ckpt_json_obj_end(j);
}

static void report_human(const char *what, const struct ckpt_org_report *r)
{
    char hb[32];
    printf("%s run %lld: %llu of %llu steps done now, %llu already done, %llu failed; %s "
           "copied\n",
           what, (long long)r->run_id, (unsigned long long)r->done, (unsigned long long)r->steps,
           (unsigned long long)r->already, (unsigned long long)r->failed,
           cli_human_bytes(r->bytes_copied, hb, sizeof hb));
}

int cmd_organize(struct cli_ctx *ctx, int argc, char **argv)
{
    struct ckpt_org_options o = {.mode = CKPT_ORG_MOVE, .on_conflict = CKPT_ORG_SUFFIX};
    int apply = 0, resume = 0, undo = 0;
    const char **paths = calloc((size_t)argc, sizeof *paths);
    size_t np = 0;
    if (!paths)
        return EXIT_INPUT;
    int ex = EXIT_OK;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        if (strcmp(a, "--into") == 0 && more)
            o.into = argv[++i];
        else if (strcmp(a, "--layout") == 0 && more)
            o.layout = argv[++i];
        else if (strcmp(a, "--mode") == 0 && more) {
            o.mode = ckpt_org_mode_parse(argv[++i]);
            if (o.mode < 0) {
                free(paths);
                return cli_usage_error("organize", "--mode is move, hardlink, symlink or copy");
            }
        } else if (strcmp(a, "--on-conflict") == 0 && more) {
            const char *v = argv[++i];
            if (strcmp(v, "suffix") == 0)
                o.on_conflict = CKPT_ORG_SUFFIX;
            else if (strcmp(v, "skip") == 0)
                o.on_conflict = CKPT_ORG_SKIP_TAKEN;
            else {
                free(paths);
                return cli_usage_error("organize", "--on-conflict is suffix or skip");
            }
        } else if (strcmp(a, "--apply") == 0)
            apply = 1;
        else if (strcmp(a, "--resume") == 0)
            resume = 1;
        else if (strcmp(a, "--undo") == 0)
            undo = 1;
        else if (a[0] == '-' && a[1]) {
            free(paths);
            return cli_usage_error("organize", "unknown option '%s'", a);
        } else
            paths[np++] = a;
    }
    if (resume + undo + apply > 1 || ((resume || undo) && (o.into || o.layout || np))) {
        free(paths);
        return cli_usage_error("organize", "--resume and --undo take no other options; "
                                           "--apply goes with --into and --layout");
    }
    if (!resume && !undo && (!o.into || !o.layout)) {
        free(paths);
        return cli_usage_error("organize", "--into DIR and --layout TEMPLATE are required");
    }
    struct ckpt_catalog *cat;
    if ((ex = cli_catalog_open(ctx, 0, &cat)) != EXIT_OK) {
        free(paths);
        return ex;
    }
    struct ckpt_buf b = {0};
    struct ckpt_json j;
    ckpt_json_init(&j, &b, 1);
    struct ckpt_error err = {0};
    struct ckpt_org_report r;
    int rc;
    if (resume || undo) {
        rc = resume ? ckpt_organize_resume(cat, on_log, ctx, &r, &err)
                    : ckpt_organize_undo(cat, on_log, ctx, &r, &err);
        if (rc == CKPT_E_NOTFOUND && resume) {
            if (ctx->json) {
                ckpt_json_obj_begin(&j);
                ckpt_json_key(&j, "run");
                ckpt_json_null(&j);
                ckpt_json_obj_end(&j);
                cli_flush(&b);
            } else if (!ctx->quiet) {
                printf("nothing to resume: %s\n", err.msg);
            }
            rc = CKPT_OK;
        } else if (rc == CKPT_OK || r.run_id) {
            if (ctx->json) {
                ckpt_json_obj_begin(&j);
                ckpt_json_key(&j, "run");
                report_json(&j, &r);
                ckpt_json_obj_end(&j);
                cli_flush(&b);
            } else if (!ctx->quiet) {
                report_human(resume ? "resumed" : "undid", &r);
            }
        }
        if (rc)
            cli_error("%s", err.msg);
        ex = rc ? cli_status_exit(rc) : EXIT_OK;
        goto out;
    }
    o.only_under = paths;
    o.n_only = np;
    struct ckpt_org_plan *p = NULL;
    rc = ckpt_organize_plan(cat, &o, &p, &err);
    if (rc) {
        cli_error("%s", err.msg);
        ex = cli_status_exit(rc);
        goto out;
    }
    if (!apply) {
        if (ctx->json) {
            ckpt_organize_plan_json(p, &j);
            cli_flush(&b);
        } else {
            print_plan(ctx, p, !ctx->quiet);
            printf("plan only: nothing changed (add --apply to carry it out)\n");
        }
        ckpt_organize_plan_free(p);
        goto out;
    }
    rc = ckpt_organize_apply(cat, p, on_log, ctx, &r, &err);
    if (ctx->json) {
        ckpt_json_obj_begin(&j);
        ckpt_json_key(&j, "plan");
        ckpt_organize_plan_json(p, &j);
        ckpt_json_key(&j, "run");
        if (r.run_id)
            report_json(&j, &r);
        else
            ckpt_json_null(&j);
        ckpt_json_obj_end(&j);
        cli_flush(&b);
    } else if (!ctx->quiet && r.run_id) {
        print_plan(ctx, p, ctx->verbose);
        report_human("applied", &r);
        printf("undo with: ckptdb organize --undo\n");
    }
    ckpt_organize_plan_free(p);
    if (rc)
        cli_error("%s", err.msg);
    ex = rc ? cli_status_exit(rc) : EXIT_OK;
out:
    ckpt_buf_free(&b);
    ckpt_catalog_close(cat);
    free(paths);
    return ex;
}
