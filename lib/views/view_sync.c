/* View sync: makes a view folder match the catalog (include/ckptdb/views.h). It computes every
 * link the view should hold (each present model in its UI folder and layout group, its preview
 * and, for A1111/Forge, the sidecars they read), compares with what is on disk and with the
 * manifest of links made before (.ckptdb-view.json in the root), then creates, repoints and
 * removes links, and rewrites the manifest atomically when it changed.
 *
 * Safety is the point of the manifest: a path is only ever replaced or removed when it is a link
 * ckptdb made and still is exactly that (a symlink whose text is the recorded target, or a
 * hardlink to the recorded inode while another name for the file exists). Anything else is
 * somebody's file and is left alone. Links are made with symlink()/link() and replaced by
 * rename() from a temporary name, so a killed sync leaves either the old or the new link; a
 * link made before the manifest was written is adopted on the next run because it already is
 * the link wanted. Not for deciding folders and names (ui_layout.c). */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ckptdb/atomic.h"
#include "ckptdb/buf.h"
#include "ckptdb/layout.h"
#include "ckptdb/views.h"

#define MANIFEST ".ckptdb-view.json"
#define MANIFEST_MAX (256u << 20) /* refuse to read a manifest larger than this */

enum { L_SYM, L_HARD };

struct want {
    char *rel, *target;
    int is_dir;
    int64_t model;
    /* model links only: what follows the link (previews, sidecars) */
    char *preview;
    char *side_json, *side_info, *side_yaml;
    char *autov2;
};

struct entry { /* a manifest entry */
    char *rel, *target;
    int link;
    long long dev, ino;
};

struct sync {
    const struct ckpt_view_options *o;
    struct ckpt_view_stats *st;
    struct want *w;
    size_t nw, cw;
    struct entry *old, *neu;
    size_t nold, nneu, cneu;
    char *last_dir; /* the folder the last link was made in */
    int oom;
};

static void say(struct sync *s, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say(struct sync *s, int level, const char *fmt, ...)
{
    if (!s->o->log)
        return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    s->o->log(s->o->log_user, level, msg);
}

static char *join(const char *a, const char *b)
{
    char *out;
    if (!*a)
        return strdup(b);
    if (!*b)
        return strdup(a);
    if (asprintf(&out, "%s/%s", a, b) < 0)
        return NULL;
    return out;
}

static char *dupn(const char *s)
{
    return s ? strdup(s) : NULL;
}

static int add_want(struct sync *s, char *rel, const char *target, int is_dir, int64_t model)
{
    if (!rel)
        return s->oom = 1, -1;
    if (s->nw == s->cw) {
        size_t c = s->cw ? s->cw * 2 : 64;
        struct want *w = realloc(s->w, c * sizeof *w);
        if (!w) {
            free(rel);
            return s->oom = 1, -1;
        }
        s->w = w;
        s->cw = c;
    }
    struct want *w = &s->w[s->nw++];
    memset(w, 0, sizeof *w);
    w->rel = rel;
    w->target = strdup(target);
    w->is_dir = is_dir;
    w->model = model;
    if (!w->target)
        s->oom = 1;
    return 0;
}

static int cmp_want(const void *a, const void *b)
{
    const struct want *x = a, *y = b;
    int c = strcmp(x->rel, y->rel);
    return c ? c : (x->model > y->model) - (x->model < y->model);
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const struct entry *)a)->rel, ((const struct entry *)b)->rel);
}

static struct want *find_want(struct sync *s, const char *rel)
{
    size_t lo = 0, hi = s->nw;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(s->w[mid].rel, rel);
        if (c == 0)
            return &s->w[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static struct entry *find_old(struct sync *s, const char *rel)
{
    struct entry key = {.rel = (char *)rel};
    return s->nold ? bsearch(&key, s->old, s->nold, sizeof *s->old, cmp_entry) : NULL;
}

/* a manifest path must stay inside the root: relative, no "." or ".." component */
static int safe_rel(const char *rel)
{
    if (!*rel || rel[0] == '/')
        return 0;
    for (const char *p = rel; *p;) {
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return 0;
        p += n + (e ? 1 : 0);
    }
    return 1;
}

/* ---- the manifest ------------------------------------------------------------------------- */

static int read_manifest(struct sync *s, const char *root, char **text, struct ckpt_error *err)
{
    *text = NULL;
    char *path = join(root, MANIFEST);
    if (!path)
        return ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
    struct stat st;
    if (lstat(path, &st) != 0) {
        int e = errno;
        free(path);
        return e == ENOENT ? CKPT_OK
                           : ckpt_error_setf(err, CKPT_E_IO, root, "%s: %s", MANIFEST, strerror(e));
    }
    if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > MANIFEST_MAX) {
        free(path);
        return ckpt_error_setf(err, CKPT_E_FORMAT, root,
                               "%s is not a manifest ckptdb wrote; move it away", MANIFEST);
    }
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    free(path);
    json_t *ui = json_object_get(j, "ui"), *es = json_object_get(j, "links");
    if (!json_is_object(j) || !json_is_string(ui) || !json_is_array(es)) {
        json_decref(j);
        return ckpt_error_setf(err, CKPT_E_FORMAT, root,
                               "%s is not a manifest ckptdb wrote (%s); move it away", MANIFEST,
                               j ? "fields missing" : je.text);
    }
    if (strcmp(json_string_value(ui), ckpt_ui_name(s->o->ui)) != 0) {
        int rc = ckpt_error_setf(err, CKPT_E_ARG, root,
                                 "is a view for %s; give --ui %s or another --root",
                                 json_string_value(ui), json_string_value(ui));
        json_decref(j);
        return rc;
    }
    size_t n = json_array_size(es), i;
    s->old = calloc(n ? n : 1, sizeof *s->old);
    if (!s->old) {
        json_decref(j);
        return ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
    }
    json_t *e;
    json_array_foreach(es, i, e)
    {
        const char *rel = json_string_value(json_object_get(e, "path"));
        const char *target = json_string_value(json_object_get(e, "target"));
        const char *link = json_string_value(json_object_get(e, "link"));
        if (!rel || !target || !link || !safe_rel(rel) || target[0] != '/')
            continue; /* not one of ours: never acted upon */
        struct entry *x = &s->old[s->nold++];
        x->rel = strdup(rel);
        x->target = strdup(target);
        x->link = strcmp(link, "hardlink") == 0 ? L_HARD : L_SYM;
        x->dev = (long long)json_integer_value(json_object_get(e, "dev"));
        x->ino = (long long)json_integer_value(json_object_get(e, "ino"));
        if (!x->rel || !x->target)
            s->oom = 1;
    }
    json_decref(j);
    if (s->nold)
        qsort(s->old, s->nold, sizeof *s->old, cmp_entry);
    /* the raw text, to skip rewriting an unchanged manifest */
    char *p2 = join(root, MANIFEST);
    FILE *f = p2 ? fopen(p2, "rb") : NULL;
    free(p2);
    if (f) {
        char *d = malloc((size_t)st.st_size + 1);
        size_t got = d ? fread(d, 1, (size_t)st.st_size, f) : 0;
        if (d) {
            d[got] = 0;
            *text = d;
        }
        fclose(f);
    }
    return CKPT_OK;
}

static void keep_entry(struct sync *s, const char *rel, const char *target, int link,
                       const char *abs)
{
    if (s->nneu == s->cneu) {
        size_t c = s->cneu ? s->cneu * 2 : 64;
        struct entry *e = realloc(s->neu, c * sizeof *e);
        if (!e) {
            s->oom = 1;
            return;
        }
        s->neu = e;
        s->cneu = c;
    }
    struct entry *e = &s->neu[s->nneu++];
    memset(e, 0, sizeof *e);
    e->rel = strdup(rel);
    e->target = strdup(target);
    e->link = link;
    struct stat st;
    if (link == L_HARD && lstat(abs, &st) == 0) {
        e->dev = (long long)st.st_dev;
        e->ino = (long long)st.st_ino;
    }
    if (!e->rel || !e->target)
        s->oom = 1;
}

static int write_manifest(struct sync *s, const char *root, const char *old_text,
                          struct ckpt_error *err)
{
    qsort(s->neu, s->nneu, sizeof *s->neu, cmp_entry);
    struct ckpt_buf b = {0};
    struct ckpt_json j;
    ckpt_json_init(&j, &b, 1);
    ckpt_json_obj_begin(&j);
    ckpt_json_key(&j, "ckptdb_view");
    ckpt_json_i64(&j, 1);
    ckpt_json_key(&j, "ui");
    ckpt_json_str(&j, ckpt_ui_name(s->o->ui));
    ckpt_json_key(&j, "group_by");
    ckpt_json_str(&j, s->o->group_by);
    ckpt_json_key(&j, "links");
    ckpt_json_arr_begin(&j);
    for (size_t i = 0; i < s->nneu; i++) {
        const struct entry *e = &s->neu[i];
        ckpt_json_obj_begin(&j);
        ckpt_json_key(&j, "path");
        ckpt_json_str(&j, e->rel);
        ckpt_json_key(&j, "target");
        ckpt_json_str(&j, e->target);
        ckpt_json_key(&j, "link");
        ckpt_json_str(&j, e->link == L_HARD ? "hardlink" : "symlink");
        if (e->link == L_HARD) {
            ckpt_json_key(&j, "dev");
            ckpt_json_i64(&j, e->dev);
            ckpt_json_key(&j, "ino");
            ckpt_json_i64(&j, e->ino);
        }
        ckpt_json_obj_end(&j);
    }
    ckpt_json_arr_end(&j);
    ckpt_json_obj_end(&j);
    ckpt_buf_putc(&b, '\n');
    int rc = CKPT_OK;
    if (b.oom) {
        rc = ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
    } else if (!old_text || strcmp(old_text, ckpt_buf_cstr(&b)) != 0) {
        char *path = join(root, MANIFEST);
        struct ckpt_atomic_file *f;
        if (!path)
            rc = ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
        else if (!(rc = ckpt_atomic_open(&f, path, 1, err))) {
            if ((rc = ckpt_atomic_write(f, b.data, b.len, err)))
                ckpt_atomic_abort(f);
            else
                rc = ckpt_atomic_commit(f, err);
        }
        free(path);
    }
    ckpt_buf_free(&b);
    return rc;
}

/* ---- links on disk ---------------------------------------------------------------------- */

static int is_symlink_to(const char *abs, const char *target)
{
    char buf[PATH_MAX];
    ssize_t n = readlink(abs, buf, sizeof buf - 1);
    if (n < 0)
        return 0;
    buf[n] = 0;
    return strcmp(buf, target) == 0;
}

/* abs is already the link wanted (made by an earlier run, maybe before its manifest was
   written) */
static int is_wanted(const char *abs, const struct want *w, int link)
{
    struct stat a, t;
    if (lstat(abs, &a) != 0)
        return 0;
    if (link == L_SYM || w->is_dir)
        return S_ISLNK(a.st_mode) && is_symlink_to(abs, w->target);
    return S_ISREG(a.st_mode) && stat(w->target, &t) == 0 && a.st_dev == t.st_dev &&
           a.st_ino == t.st_ino;
}

/* abs is still the link an earlier run made (so it may be replaced or removed) */
static int is_ours(const char *abs, const struct entry *e)
{
    struct stat a;
    if (lstat(abs, &a) != 0)
        return 0;
    if (e->link == L_SYM)
        return S_ISLNK(a.st_mode) && is_symlink_to(abs, e->target);
    /* a hardlink is only ours while another name keeps the file: never remove the last one */
    return S_ISREG(a.st_mode) && (long long)a.st_dev == e->dev && (long long)a.st_ino == e->ino &&
           a.st_nlink > 1;
}

/* make the folders of rel_dir under root; each must be a real folder (a symlink or a file in
   the way would send links outside the view): -1 with errno otherwise */
static int mkdirs(const char *root, const char *rel_dir)
{
    if (!*rel_dir)
        return 0;
    char *p = join(root, rel_dir);
    if (!p)
        return -1;
    int rc = 0;
    for (char *q = p + strlen(root) + 1;; q++) {
        if (*q != '/' && *q != 0)
            continue;
        char c = *q;
        *q = 0;
        struct stat st;
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            rc = -1;
        } else if (lstat(p, &st) != 0 || !S_ISDIR(st.st_mode)) {
            errno = ENOTDIR;
            rc = -1;
        }
        *q = c;
        if (rc || !c)
            break;
    }
    free(p);
    return rc;
}

static int make_link(const struct want *w, int how, const char *abs)
{
    if (how == L_HARD && !w->is_dir)
        return link(w->target, abs);
    return symlink(w->target, abs);
}

/* remove the folders a removed link leaves empty, up to the UI's own folders */
static void prune_dirs(struct sync *s, const char *root, const char *rel)
{
    char *d = strdup(rel);
    if (!d)
        return;
    const char *const *keep = ckpt_ui_folders(s->o->ui);
    for (char *slash = strrchr(d, '/'); slash; slash = strrchr(d, '/')) {
        *slash = 0;
        int ui_dir = 0;
        for (size_t i = 0; keep[i]; i++)
            ui_dir |= strcmp(keep[i], d) == 0;
        if (ui_dir)
            break;
        char *abs = join(root, d);
        int gone = abs && rmdir(abs) == 0; /* fails, harmlessly, unless empty */
        free(abs);
        if (!gone)
            break;
    }
    free(d);
}

/* ---- what the view should hold ---------------------------------------------------------- */

static char *sidecar_path(json_t *sides, const char *kind)
{
    return dupn(json_string_value(json_object_get(sides, kind)));
}

static int collect(struct sync *s, struct ckpt_catalog *c, struct ckpt_layout *layout,
                   struct ckpt_error *err)
{
    struct ckpt_query q = {.include_missing = 0};
    int64_t *ids;
    size_t n;
    int rc = ckpt_catalog_list(c, &q, &ids, &n, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < n && !rc && !s->oom; i++) {
        struct ckpt_model m;
        if ((rc = ckpt_catalog_model_get(c, ids[i], &m, err)))
            break;
        const char *folder = m.path && !m.missing && !m.error ? ckpt_ui_folder(s->o->ui, &m) : NULL;
        if (m.path && !m.missing && m.safety &&
            (strcmp(m.safety, "dangerous") == 0 || strcmp(m.safety, "suspicious") == 0)) {
            /* a UI would unpickle it: never hand it one */
            s->st->unsafe++;
            say(s, 0, "%s: not linked: `ckptdb check` finds it %s", m.path, m.safety);
            ckpt_model_release(&m);
            continue;
        }
        if (!folder) {
            s->st->no_place++;
            say(s, 2, "%s: no place in %s for a %s", m.path ? m.path : m.name,
                ckpt_ui_name(s->o->ui), m.kind ? m.kind : "file that could not be read");
            ckpt_model_release(&m);
            continue;
        }
        char *group = NULL, *dir = NULL, *name = ckpt_ui_link_name(&m);
        if (layout && (rc = ckpt_layout_expand(layout, &m, &group, err))) {
            free(name);
            ckpt_model_release(&m);
            break;
        }
        dir = join(folder, group ? group : "");
        if (dir && name &&
            add_want(s, join(dir, name), m.path, strcmp(m.format ? m.format : "", "diffusers") == 0,
                     m.id) == 0) {
            struct want *w = &s->w[s->nw - 1];
            w->preview = dupn(m.preview);
            w->autov2 = dupn(m.autov2);
            json_t *sides = m.sidecars ? json_loads(m.sidecars, 0, NULL) : NULL;
            if (s->o->ui == CKPT_UI_A1111 || s->o->ui == CKPT_UI_FORGE) {
                w->side_json = sidecar_path(sides, "a1111.json");
                w->side_info = sidecar_path(sides, "civitai.info");
                w->side_yaml = sidecar_path(sides, "yaml");
            }
            json_decref(sides);
        } else if (!dir || !name) {
            s->oom = 1;
        }
        s->st->models++;
        free(group);
        free(dir);
        free(name);
        ckpt_model_release(&m);
    }
    free(ids);
    return rc;
}

/* two models wanting one name: the later one (by id) gets "-<autov2 or id>" before its
   extension */
static void dedupe(struct sync *s)
{
    qsort(s->w, s->nw, sizeof *s->w, cmp_want);
    for (size_t i = 1; i < s->nw; i++) {
        if (strcmp(s->w[i].rel, s->w[i - 1].rel) != 0)
            continue;
        struct want *w = &s->w[i];
        const char *slash = strrchr(w->rel, '/');
        const char *dot = strrchr(slash ? slash : w->rel, '.');
        size_t stem = dot && !w->is_dir ? (size_t)(dot - w->rel) : strlen(w->rel);
        char tag[32];
        if (w->autov2)
            snprintf(tag, sizeof tag, "%s", w->autov2);
        else
            snprintf(tag, sizeof tag, "%lld", (long long)w->model);
        char *rel;
        if (asprintf(&rel, "%.*s-%s%s", (int)stem, w->rel, tag, w->rel + stem) < 0) {
            s->oom = 1;
            return;
        }
        free(w->rel);
        w->rel = rel;
    }
    qsort(s->w, s->nw, sizeof *s->w, cmp_want);
}

/* previews and sidecars follow each model link's final name */
static void add_followers(struct sync *s)
{
    size_t n = s->nw;
    for (size_t i = 0; i < n && !s->oom; i++) {
        struct want w = s->w[i]; /* a copy: add_want may move the array */
        if (w.model == 0)
            continue;
        const char *slash = strrchr(w.rel, '/');
        const char *name = slash ? slash + 1 : w.rel;
        size_t dirlen = slash ? (size_t)(slash - w.rel) : 0;
        char *pname = ckpt_ui_preview_name(s->o->ui, name, w.preview);
        if (pname) {
            char *rel;
            if (asprintf(&rel, "%.*s/%s", (int)dirlen, w.rel, pname) >= 0)
                add_want(s, rel, w.preview, 0, 0);
            else
                s->oom = 1;
            free(pname);
        }
        const char *dot = w.is_dir ? NULL : strrchr(name, '.');
        size_t stem = dot ? (size_t)(dot - w.rel) : strlen(w.rel);
        const struct {
            const char *path, *suffix;
        } sides[] = {
            {w.side_json, ".json"}, {w.side_info, ".civitai.info"}, {w.side_yaml, ".yaml"}};
        for (size_t k = 0; k < 3; k++) {
            if (!sides[k].path)
                continue;
            char *rel;
            if (asprintf(&rel, "%.*s%s", (int)stem, w.rel, sides[k].suffix) >= 0)
                add_want(s, rel, sides[k].path, 0, 0);
            else
                s->oom = 1;
        }
    }
    qsort(s->w, s->nw, sizeof *s->w, cmp_want);
    /* a follower's name taken by another model's file: the model keeps it */
    size_t out = 0;
    for (size_t i = 0; i < s->nw; i++) {
        if (out && strcmp(s->w[out - 1].rel, s->w[i].rel) == 0) {
            say(s, 0,
                "%s: wanted twice (a model and another model's preview or sidecar); "
                "kept the first",
                s->w[i].rel);
            free(s->w[i].rel);
            free(s->w[i].target);
            free(s->w[i].preview);
            free(s->w[i].side_json);
            free(s->w[i].side_info);
            free(s->w[i].side_yaml);
            free(s->w[i].autov2);
            continue;
        }
        s->w[out++] = s->w[i];
    }
    s->nw = out;
}

/* ---- the sync ---------------------------------------------------------------------------- */

static void apply_want(struct sync *s, const char *root, const struct want *w)
{
    int link = s->o->hardlink && !w->is_dir ? L_HARD : L_SYM;
    char *abs = join(root, w->rel);
    if (!abs) {
        s->oom = 1;
        return;
    }
    struct stat st;
    int dry = s->o->dry_run, absent = lstat(abs, &st) != 0;
    if (absent && dry) {
        s->st->created++;
        say(s, 1, "would create %s -> %s", w->rel, w->target);
    } else if (absent) {
        const char *slash = strrchr(w->rel, '/');
        char *dir = slash ? strndup(w->rel, (size_t)(slash - w->rel)) : strdup("");
        /* links come sorted by path: a folder made for the previous one is not made again */
        int made = dir && s->last_dir && strcmp(dir, s->last_dir) == 0;
        if (!dir || (*dir && !made && mkdirs(root, dir) != 0) || make_link(w, link, abs) != 0) {
            s->st->failed++;
            say(s, 0, "%s: cannot %s to %s: %s", abs, link == L_HARD ? "hardlink" : "symlink",
                w->target,
                errno == EXDEV     ? "another filesystem (hardlinks cannot cross; use symlinks)"
                : errno == ENOTDIR ? "a folder on its path is a file or a symlink"
                                   : strerror(errno));
        } else {
            s->st->created++;
            say(s, 1, "created %s -> %s", w->rel, w->target);
            keep_entry(s, w->rel, w->target, link, abs);
            if (!made) {
                free(s->last_dir);
                s->last_dir = dir;
                dir = NULL;
            }
        }
        free(dir);
    } else if (is_wanted(abs, w, link)) {
        s->st->kept++;
        say(s, 2, "kept %s", w->rel);
        keep_entry(s, w->rel, w->target, link, abs);
    } else {
        struct entry *old = find_old(s, w->rel);
        if (old && is_ours(abs, old) && dry) {
            s->st->updated++;
            say(s, 1, "would repoint %s -> %s", w->rel, w->target);
        } else if (old && is_ours(abs, old)) {
            char *tmp;
            if (asprintf(&tmp, "%s.ckptdb-tmp", abs) < 0) {
                s->oom = 1;
                free(abs);
                return;
            }
            struct stat ts;
            if (lstat(tmp, &ts) == 0 && S_ISLNK(ts.st_mode))
                unlink(tmp); /* a symlink left by a killed run */
            if (make_link(w, link, tmp) != 0 || rename(tmp, abs) != 0) {
                s->st->failed++;
                say(s, 0, "%s: cannot repoint to %s: %s", abs, w->target, strerror(errno));
                struct stat t2;
                if (lstat(tmp, &t2) == 0 && (S_ISLNK(t2.st_mode) || t2.st_nlink > 1))
                    unlink(tmp);
                keep_entry(s, old->rel, old->target, old->link, abs);
            } else {
                s->st->updated++;
                say(s, 1, "repointed %s -> %s", w->rel, w->target);
                keep_entry(s, w->rel, w->target, link, abs);
            }
            free(tmp);
        } else {
            s->st->foreign++;
            say(s, 0, "%s: exists and is not a link ckptdb made; left alone", abs);
        }
    }
    free(abs);
}

static void remove_stale(struct sync *s, const char *root)
{
    for (size_t i = 0; i < s->nold; i++) {
        const struct entry *e = &s->old[i];
        if (find_want(s, e->rel))
            continue;
        char *abs = join(root, e->rel);
        if (!abs) {
            s->oom = 1;
            return;
        }
        struct stat st;
        if (lstat(abs, &st) != 0) {
            /* already gone */
        } else if (is_ours(abs, e) && s->o->dry_run) {
            s->st->removed++;
            say(s, 1, "would remove %s", e->rel);
        } else if (is_ours(abs, e)) {
            if (unlink(abs) == 0) {
                s->st->removed++;
                say(s, 1, "removed %s", e->rel);
                prune_dirs(s, root, e->rel);
            } else {
                s->st->failed++;
                say(s, 0, "%s: cannot remove: %s", abs, strerror(errno));
                keep_entry(s, e->rel, e->target, e->link, abs);
            }
        } else {
            say(s, 0,
                "%s: no longer the link ckptdb made (changed by hand, or the last name of "
                "its file); left alone",
                abs);
        }
        free(abs);
    }
}

static void free_all(struct sync *s)
{
    for (size_t i = 0; i < s->nw; i++) {
        free(s->w[i].rel);
        free(s->w[i].target);
        free(s->w[i].preview);
        free(s->w[i].side_json);
        free(s->w[i].side_info);
        free(s->w[i].side_yaml);
        free(s->w[i].autov2);
    }
    free(s->w);
    for (size_t i = 0; i < s->nold; i++) {
        free(s->old[i].rel);
        free(s->old[i].target);
    }
    free(s->old);
    for (size_t i = 0; i < s->nneu; i++) {
        free(s->neu[i].rel);
        free(s->neu[i].target);
    }
    free(s->neu);
    free(s->last_dir);
}

int ckpt_view_sync(struct ckpt_catalog *c, const struct ckpt_view_options *o,
                   struct ckpt_view_stats *st, struct ckpt_error *err)
{
    memset(st, 0, sizeof *st);
    if (!o || !o->root || o->root[0] != '/' || (unsigned)o->ui > CKPT_UI_INVOKEAI)
        return ckpt_error_set(err, CKPT_E_ARG, "a view needs a UI and an absolute root folder");
    struct ckpt_layout *layout = NULL;
    int rc;
    if (o->group_by && *o->group_by && (rc = ckpt_layout_compile(o->group_by, &layout, err)))
        return rc;
    struct sync s = {.o = o, .st = st};
    char *old_text = NULL;
    struct stat rs;
    if (o->dry_run && stat(o->root, &rs) != 0 && errno == ENOENT) {
        /* a view not made yet: everything would be created */
    } else if (!o->dry_run && mkdir(o->root, 0777) != 0 && errno != EEXIST) {
        rc = ckpt_error_setf(err, CKPT_E_IO, o->root, "cannot create: %s", strerror(errno));
        goto out;
    } else if (stat(o->root, &rs) != 0 || !S_ISDIR(rs.st_mode)) {
        rc = ckpt_error_setf(err, CKPT_E_IO, o->root, "is not a folder");
        goto out;
    }
    if ((rc = read_manifest(&s, o->root, &old_text, err)))
        goto out;
    /* one snapshot for the whole listing (and one read transaction instead of thousands) */
    if ((rc = ckpt_catalog_read_begin(c, err)))
        goto out;
    rc = collect(&s, c, layout, err);
    ckpt_catalog_read_end(c);
    if (rc)
        goto out;
    dedupe(&s);
    add_followers(&s);
    if (s.oom) {
        rc = ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
        goto out;
    }
    const char *const *dirs = ckpt_ui_folders(o->ui);
    for (size_t i = 0; dirs[i] && !o->dry_run; i++)
        if (mkdirs(o->root, dirs[i]) != 0) {
            rc = ckpt_error_setf(err, CKPT_E_IO, o->root, "cannot create %s: %s", dirs[i],
                                 strerror(errno));
            goto out;
        }
    for (size_t i = 0; i < s.nw && !s.oom; i++)
        apply_want(&s, o->root, &s.w[i]);
    remove_stale(&s, o->root);
    if (s.oom) {
        rc = ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
        goto out;
    }
    /* the manifest records what exists now, even when some links failed */
    if (!o->dry_run && (rc = write_manifest(&s, o->root, old_text, err)))
        goto out;
    if (st->failed)
        rc = ckpt_error_setf(err, CKPT_E_IO, o->root, "%zu link%s could not be made", st->failed,
                             st->failed == 1 ? "" : "s");
out:
    free(old_text);
    free_all(&s);
    ckpt_layout_free(layout);
    return rc;
}
