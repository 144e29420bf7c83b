/* ckptdb views: keep a folder tree of links in the layout a UI expects (include/ckptdb/views.h),
 * and give ComfyUI users the extra_model_paths.yaml section pointing at it. Parsing and printing
 * only. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ckptdb/atomic.h"
#include "ckptdb/layout.h"
#include "ckptdb/views.h"
#include "cli.h"

#define YAML_HEAD "# ComfyUI extra_model_paths.yaml section for the ckptdb view at "

static void log_line(void *user, int level, const char *msg)
{
    const struct cli_ctx *ctx = user;
    if (level == 0 ? !ctx->quiet : ctx->verbose)
        fprintf(stderr, "%s\n", msg);
}

/* write the YAML section to a new file, or over one this command wrote */
static int write_yaml(const char *path, struct ckpt_buf *y)
{
    FILE *f = fopen(path, "rb");
    if (f) {
        char head[sizeof YAML_HEAD] = {0};
        size_t n = fread(head, 1, sizeof head - 1, f);
        fclose(f);
        if (n != sizeof head - 1 || memcmp(head, YAML_HEAD, n) != 0) {
            cli_error("%s: exists and was not written by ckptdb views; add the section to it "
                      "yourself (--comfyui-yaml prints it)",
                      path);
            return EXIT_INPUT;
        }
    }
    struct ckpt_atomic_file *af;
    struct ckpt_error err;
    int rc = ckpt_atomic_open(&af, path, 1, &err);
    if (!rc && (rc = ckpt_atomic_write(af, y->data, y->len, &err)))
        ckpt_atomic_abort(af);
    else if (!rc)
        rc = ckpt_atomic_commit(af, &err);
    if (rc) {
        cli_error("%s", err.msg);
        return EXIT_INPUT;
    }
    return EXIT_OK;
}

int cmd_views(struct cli_ctx *ctx, int argc, char **argv)
{
    struct ckpt_view_options o = {.log = log_line, .log_user = ctx};
    const char *ui = NULL, *root = NULL, *yaml_out = NULL;
    int yaml = 0;
    for (int i = 1; i < argc; i++) {
        const char **dst = NULL;
        const char *a = argv[i];
        if (strcmp(a, "--ui") == 0)
            dst = &ui;
        else if (strcmp(a, "--root") == 0)
            dst = &root;
        else if (strcmp(a, "--group-by") == 0)
            dst = &o.group_by;
        if (dst) {
            if (i + 1 >= argc)
                return cli_usage_error("views", "%s needs a value", a);
            *dst = argv[++i];
        } else if (strncmp(a, "--ui=", 5) == 0) {
            ui = a + 5;
        } else if (strncmp(a, "--root=", 7) == 0) {
            root = a + 7;
        } else if (strncmp(a, "--group-by=", 11) == 0) {
            o.group_by = a + 11;
        } else if (strcmp(a, "--hardlink") == 0) {
            o.hardlink = 1;
        } else if (strcmp(a, "--dry-run") == 0) {
            o.dry_run = 1;
        } else if (strcmp(a, "--comfyui-yaml") == 0) {
            yaml = 1;
        } else if (strncmp(a, "--comfyui-yaml=", 15) == 0 && a[15]) {
            yaml = 1;
            yaml_out = a + 15;
        } else {
            return cli_usage_error("views", "unknown argument '%s'", a);
        }
    }
    if (!ui || !root || !*root)
        return cli_usage_error("views", "give --ui a1111|forge|comfyui|invokeai and --root DIR");
    struct ckpt_error err;
    if (ckpt_ui_parse(ui, &o.ui, &err))
        return cli_usage_error("views", "%s", err.msg);
    if (yaml && o.ui != CKPT_UI_COMFYUI)
        return cli_usage_error("views", "--comfyui-yaml goes with --ui comfyui");
    if (o.group_by) { /* a bad template is a usage error, before anything is created */
        struct ckpt_layout *l;
        if (ckpt_layout_compile(o.group_by, &l, &err))
            return cli_usage_error("views", "%s", err.msg);
        ckpt_layout_free(l);
    }
    /* links name the real files by absolute path; the root (and its parents) is made and
       resolved too */
    char *p = o.dry_run ? NULL : strdup(root);
    for (char *q = p ? p + 1 : NULL; q && *q; q++) {
        if (*q == '/') {
            *q = 0;
            mkdir(p, 0777); /* an error shows at the last step */
            *q = '/';
        }
    }
    free(p);
    if (!o.dry_run && mkdir(root, 0777) != 0 && errno != EEXIST) {
        cli_error("%s: cannot create: %s", root, strerror(errno));
        return EXIT_INPUT;
    }
    char abs[PATH_MAX];
    if (!realpath(root, abs)) {
        /* --dry-run of a view not made yet: the absolute name it would have */
        char cwd[PATH_MAX];
        if (!o.dry_run || errno != ENOENT || (root[0] != '/' && !getcwd(cwd, sizeof cwd)) ||
            snprintf(abs, sizeof abs, "%s%s%s", root[0] == '/' ? "" : cwd,
                     root[0] == '/' ? "" : "/", root) >= (int)sizeof abs) {
            cli_error("%s: %s", root, strerror(errno));
            return EXIT_INPUT;
        }
    }
    o.root = abs;

    struct ckpt_catalog *cat;
    int ex = cli_catalog_open(ctx, 1, &cat);
    if (ex)
        return ex;
    struct ckpt_view_stats st;
    int rc = ckpt_view_sync(cat, &o, &st, &err);
    ckpt_catalog_close(cat);
    if (rc && rc != CKPT_E_IO) {
        cli_error("%s", err.msg);
        return cli_status_exit(rc);
    }
    if (rc)
        cli_error("%s", err.msg);
    struct ckpt_buf y = {0}, b = {0};
    if (yaml) {
        ckpt_ui_comfyui_yaml(abs, &y);
        if (yaml_out && !o.dry_run)
            ex = write_yaml(yaml_out, &y);
    }
    if (ctx->json) {
        struct ckpt_json j;
        ckpt_json_init(&j, &b, 1);
        ckpt_json_obj_begin(&j);
        ckpt_json_key(&j, "root");
        ckpt_json_str(&j, abs);
        ckpt_json_key(&j, "ui");
        ckpt_json_str(&j, ckpt_ui_name(o.ui));
        ckpt_json_key(&j, "dry_run");
        ckpt_json_bool(&j, o.dry_run);
        const struct {
            const char *k;
            size_t v;
        } f[] = {{"models", st.models},     {"created", st.created}, {"updated", st.updated},
                 {"kept", st.kept},         {"removed", st.removed}, {"foreign", st.foreign},
                 {"no_place", st.no_place}, {"unsafe", st.unsafe},   {"failed", st.failed}};
        for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
            ckpt_json_key(&j, f[i].k);
            ckpt_json_u64(&j, f[i].v);
        }
        if (yaml && !yaml_out) {
            ckpt_json_key(&j, "comfyui_yaml");
            ckpt_json_strn(&j, y.data, y.len);
        }
        ckpt_json_obj_end(&j);
        cli_flush(&b);
    } else {
        if (!ctx->quiet && o.dry_run)
            fprintf(stderr,
                    "dry run, nothing changed: %s view %s: %zu models; links to create %zu, to "
                    "repoint %zu, kept %zu, to remove %zu; %zu with no place in %s, %zu unsafe "
                    "(not linked); %zu paths left alone\n",
                    ckpt_ui_name(o.ui), abs, st.models, st.created, st.updated, st.kept, st.removed,
                    st.no_place, ckpt_ui_name(o.ui), st.unsafe, st.foreign);
        else if (!ctx->quiet)
            fprintf(stderr,
                    "%s view %s: %zu models; links created %zu, repointed %zu, kept %zu, "
                    "removed %zu; %zu with no place in %s, %zu unsafe (not linked); %zu paths "
                    "left alone; %zu failed\n",
                    ckpt_ui_name(o.ui), abs, st.models, st.created, st.updated, st.kept, st.removed,
                    st.no_place, ckpt_ui_name(o.ui), st.unsafe, st.foreign, st.failed);
        if (yaml && !yaml_out)
            fwrite(y.data, 1, y.len, stdout);
    }
    ckpt_buf_free(&y);
    ckpt_buf_free(&b);
    return rc ? EXIT_INPUT : ex;
}
