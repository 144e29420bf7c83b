/* organize's plan: which catalogued files go where under --into, with which sidecars, and what
 * is in the way. Reads the catalog (one query) and the disk (a stat per file and destination, a
 * directory listing per source folder for sidecars); changes nothing. Also the plan as JSON.
 * Not for carrying the plan out (apply.c) or for the template language (layout.c). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog/internal.h"
#include "ckptdb/buf.h"
#include "ckptdb/layout.h"
#include "organize/organize_impl.h"

static const char *const mode_names[] = {"move", "hardlink", "symlink", "copy"};

int ckpt_org_mode_parse(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (s && strcmp(s, mode_names[i]) == 0)
            return i;
    return -1;
}

const char *ckpt_org_mode_name(int mode)
{
    return mode >= 0 && mode < 4 ? mode_names[mode] : "?";
}

/* ---- a string map (open addressing; keys are owned) ----------------------------------------- */

struct smap {
    char **keys;
    void **vals;
    size_t cap, n;
};

static uint64_t fnv(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static size_t smap_slot(const struct smap *m, const char *k)
{
    size_t i = (size_t)fnv(k) & (m->cap - 1);
    while (m->keys[i] && strcmp(m->keys[i], k) != 0)
        i = (i + 1) & (m->cap - 1);
    return i;
}

static void **smap_get(const struct smap *m, const char *k)
{
    if (!m->cap)
        return NULL;
    size_t i = smap_slot(m, k);
    return m->keys[i] ? &m->vals[i] : NULL;
}

static int smap_put(struct smap *m, const char *k, void *v)
{
    if ((m->n + 1) * 2 > m->cap) {
        size_t nc = m->cap ? m->cap * 2 : 256;
        struct smap nm = {calloc(nc, sizeof(char *)), calloc(nc, sizeof(void *)), nc, 0};
        if (!nm.keys || !nm.vals) {
            free(nm.keys);
            free(nm.vals);
            return CKPT_E_NOMEM;
        }
        for (size_t i = 0; i < m->cap; i++)
            if (m->keys[i]) {
                size_t s = smap_slot(&nm, m->keys[i]);
                nm.keys[s] = m->keys[i];
                nm.vals[s] = m->vals[i];
                nm.n++;
            }
        free(m->keys);
        free(m->vals);
        *m = nm;
    }
    size_t i = smap_slot(m, k);
    if (!m->keys[i]) {
        if (!(m->keys[i] = strdup(k)))
            return CKPT_E_NOMEM;
        m->n++;
    }
    m->vals[i] = v;
    return CKPT_OK;
}

static void smap_free(struct smap *m, void (*free_val)(void *))
{
    for (size_t i = 0; i < m->cap; i++)
        if (m->keys[i]) {
            free(m->keys[i]);
            if (free_val)
                free_val(m->vals[i]);
        }
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

/* ---- folder listings (for sidecars) --------------------------------------------------------- */

struct listing {
    char **names; /* sorted */
    size_t n;
};

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void listing_free(void *p)
{
    struct listing *l = p;
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        free(l->names[i]);
    free(l->names);
    free(l);
}

static struct listing *list_dir(const char *dir)
{
    struct listing *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    DIR *d = opendir(dir);
    if (!d)
        return l; /* an unreadable folder has no sidecars we can move */
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (l->n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nn = realloc(l->names, cap * sizeof *nn);
            if (!nn)
                break;
            l->names = nn;
        }
        if (!(l->names[l->n] = strdup(e->d_name)))
            break;
        l->n++;
    }
    closedir(d);
    qsort(l->names, l->n, sizeof *l->names, cmp_str);
    return l;
}

static int listed(const struct listing *l, const char *name)
{
    return l && bsearch(&name, l->names, l->n, sizeof *l->names, cmp_str) != NULL;
}

/* ---- the plan ---------------------------------------------------------------------------------
 */

struct planner {
    struct ckpt_catalog *c;
    const struct ckpt_org_options *o;
    struct ckpt_org_plan *p;
    struct smap catalogued; /* every path this host has a record for -> (void *)1 */
    struct smap planned;    /* destinations already given out */
    struct smap claimed;    /* sidecars already given to a model */
    struct smap dirs;       /* source folder -> struct listing * */
    struct smap devs;       /* destination folder -> (void *)(uintptr_t)(dev + 1) */
    size_t cap;
};

static void item_free(struct ckpt_org_item *it)
{
    free(it->name);
    free(it->from);
    free(it->to);
    free(it->reason);
    free(it->sha256);
    for (size_t i = 0; i < it->n_side; i++) {
        free(it->side[i].from);
        free(it->side[i].to);
    }
    free(it->side);
}

void ckpt_organize_plan_free(struct ckpt_org_plan *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++)
        item_free(&p->items[i]);
    free(p->items);
    free(p->into);
    free(p->layout);
    free(p);
}

/* the device of the nearest existing folder at or above dir */
static int dest_dev(struct planner *pl, const char *dir, dev_t *dev)
{
    void **v = smap_get(&pl->devs, dir);
    if (v) {
        *dev = (dev_t)((uintptr_t)*v - 1);
        return CKPT_OK;
    }
    char *d = strdup(dir);
    if (!d)
        return CKPT_E_NOMEM;
    struct stat st;
    while (stat(d, &st) != 0) {
        char *s = strrchr(d, '/');
        if (!s || s == d) {
            strcpy(d, "/");
            if (stat(d, &st) != 0)
                st.st_dev = 0;
            break;
        }
        *s = 0;
    }
    free(d);
    *dev = st.st_dev;
    return smap_put(&pl->devs, dir, (void *)((uintptr_t)st.st_dev + 1));
}

static int taken(struct planner *pl, const char *path)
{
    struct stat st;
    return smap_get(&pl->planned, path) || smap_get(&pl->catalogued, path) ||
           lstat(path, &st) == 0 || errno != ENOENT;
}

static char *path_join3(const char *a, const char *b, const char *c)
{
    char *out = NULL;
    if (asprintf(&out, "%s%s%s%s%s", a, *b ? "/" : "", b, *c ? "/" : "", c) < 0)
        return NULL;
    return out;
}

/* the stem of a file name (without its extension) and the extension (with its dot) */
static void split_name(const char *base, int is_dir, size_t *stem)
{
    const char *dot = is_dir ? NULL : strrchr(base, '.');
    *stem = dot && dot != base ? (size_t)(dot - base) : strlen(base);
}

/* sha256 of the catalogued file at path, or NULL */
static char *catalog_sha(struct planner *pl, const char *path)
{
    struct ckpt_st *q;
    if (ckpt_cat_prepare(pl->c, "SELECT sha256 FROM files WHERE host = ? AND path = ?", &q, NULL))
        return NULL;
    ckpt_st_bind_text(q, 1, ckpt_catalog_host());
    ckpt_st_bind_text(q, 2, path);
    char *s = ckpt_st_step(q) == CKPT_DB_ROW ? ckpt_cat_coldup(q, 0) : NULL;
    ckpt_st_finalize(q);
    return s;
}

static void set_skip(struct ckpt_org_item *it, const char *fmt, const char *arg)
{
    it->status = CKPT_ORG_SKIP;
    free(it->reason);
    if (asprintf(&it->reason, fmt, arg) < 0)
        it->reason = NULL;
}

/* find the sidecars next to it->from (unclaimed, not catalogued models themselves) */
static int find_sidecars(struct planner *pl, struct ckpt_org_item *it, const char *srcdir,
                         const char *base, size_t stem)
{
    void **v = smap_get(&pl->dirs, srcdir);
    struct listing *l = v ? *v : NULL;
    if (!v) {
        l = list_dir(srcdir);
        if (!l || smap_put(&pl->dirs, srcdir, l) != CKPT_OK) {
            listing_free(l);
            return CKPT_E_NOMEM;
        }
    }
    const struct ckpt_sidecar_name *sn = ckpt_sidecar_names();
    for (size_t i = 0; sn[i].suffix; i++) {
        char name[4352];
        if (stem + strlen(sn[i].suffix) >= sizeof name - 1)
            continue;
        snprintf(name, sizeof name, "%.*s%s", (int)stem, base, sn[i].suffix);
        if (strcmp(name, base) == 0 || !listed(l, name))
            continue;
        char *full = path_join3(srcdir, name, "");
        if (!full)
            return CKPT_E_NOMEM;
        if (smap_get(&pl->catalogued, full) || smap_get(&pl->claimed, full)) {
            free(full);
            continue;
        }
        struct ckpt_org_side *ns = realloc(it->side, (it->n_side + 1) * sizeof *ns);
        if (!ns || smap_put(&pl->claimed, full, (void *)1) != CKPT_OK) {
            free(full);
            if (ns)
                it->side = ns;
            return CKPT_E_NOMEM;
        }
        it->side = ns;
        it->side[it->n_side].from = full;
        it->side[it->n_side].to = NULL;
        it->n_side++;
    }
    return CKPT_OK;
}

/* Destinations for the item and its sidecars under dstdir, with "-K" on the stem when K > 1.
 * Returns 1 when every one is free. */
static int try_names(struct planner *pl, struct ckpt_org_item *it, const char *dstdir,
                     const char *base, size_t stem, int k)
{
    char suffix[16] = "";
    if (k > 1)
        snprintf(suffix, sizeof suffix, "-%d", k);
    char name[4352];
    snprintf(name, sizeof name, "%.*s%s%s", (int)stem, base, suffix, base + stem);
    free(it->to);
    it->to = path_join3(dstdir, name, "");
    if (!it->to)
        return -1;
    int ok = !taken(pl, it->to);
    for (size_t i = 0; i < it->n_side; i++) {
        const char *sb = strrchr(it->side[i].from, '/') + 1;
        snprintf(name, sizeof name, "%.*s%s%s", (int)stem, base, suffix, sb + stem);
        free(it->side[i].to);
        it->side[i].to = path_join3(dstdir, name, "");
        if (!it->side[i].to)
            return -1;
        if (ok && taken(pl, it->side[i].to))
            ok = 0;
    }
    return ok;
}

static int plan_one(struct planner *pl, struct ckpt_org_item *it, const char *rel,
                    const struct stat *st, struct ckpt_error *err)
{
    int rc = CKPT_OK;
    char *slash = strrchr(it->from, '/');
    const char *base = slash + 1;
    char *srcdir = strndup(it->from, (size_t)(slash - it->from));
    char *dstdir = path_join3(pl->p->into, rel, "");
    if (!srcdir || !dstdir) {
        free(srcdir);
        free(dstdir);
        return ckpt_error_set(err, CKPT_E_NOMEM, "organize: out of memory");
    }
    size_t stem;
    split_name(base, it->is_dir, &stem);
    rc = find_sidecars(pl, it, srcdir, base, stem);
    if (rc)
        goto out;
    if (strcmp(srcdir, dstdir) == 0) {
        it->status = CKPT_ORG_INPLACE;
        it->to = strdup(it->from);
        for (size_t i = 0; i < it->n_side; i++)
            it->side[i].to = strdup(it->side[i].from);
        goto out;
    }
    size_t dl = strlen(it->from);
    if (it->is_dir && strncmp(dstdir, it->from, dl) == 0 && dstdir[dl] == '/') {
        set_skip(it, "%s", "the destination is inside this folder");
        goto out;
    }
    dev_t dev;
    if ((rc = dest_dev(pl, dstdir, &dev)) != CKPT_OK)
        goto out;
    it->cross_fs = dev != st->st_dev;
    int mode = pl->o->mode;
    if (mode == CKPT_ORG_HARDLINK && it->is_dir) {
        set_skip(it, "%s", "a folder cannot be hardlinked; use --mode symlink");
        goto out;
    }
    if (mode == CKPT_ORG_HARDLINK && it->cross_fs) {
        set_skip(it, "hardlinks cannot cross filesystems (%s is on another one)", pl->p->into);
        goto out;
    }
    if (it->is_dir && (mode == CKPT_ORG_COPY || (mode == CKPT_ORG_MOVE && it->cross_fs))) {
        set_skip(it, "%s",
                 "a diffusers folder is only moved within one filesystem; use --mode symlink");
        goto out;
    }
    int ok = 0;
    for (int k = 1; k < 1000 && ok == 0; k++) {
        ok = try_names(pl, it, dstdir, base, stem, k);
        if (ok == 0 && k == 1) {
            /* an identical copy already there is a duplicate, not a name clash */
            char *there = it->sha256 ? catalog_sha(pl, it->to) : NULL;
            int same = there && strcmp(there, it->sha256) == 0;
            free(there);
            if (same) {
                set_skip(it, "an identical copy is already there: %s", it->to);
                goto out;
            }
            if (pl->o->on_conflict == CKPT_ORG_SKIP_TAKEN) {
                set_skip(it, "a file of that name (or of a sidecar's) is already in %s", dstdir);
                goto out;
            }
        }
        if (ok > 0 && k > 1) {
            if (asprintf(&it->reason, "renamed: %s is taken there", base) < 0)
                it->reason = NULL;
            pl->p->n_renamed++;
        }
    }
    if (ok < 0) {
        rc = ckpt_error_set(err, CKPT_E_NOMEM, "organize: out of memory");
        goto out;
    }
    if (ok == 0) {
        set_skip(it, "no free name for it in %s", dstdir);
        goto out;
    }
    it->status = CKPT_ORG_PLACE;
    if (smap_put(&pl->planned, it->to, (void *)1) != CKPT_OK)
        rc = CKPT_E_NOMEM;
    for (size_t i = 0; i < it->n_side && rc == CKPT_OK; i++)
        if (smap_put(&pl->planned, it->side[i].to, (void *)1) != CKPT_OK)
            rc = CKPT_E_NOMEM;
    if (rc)
        rc = ckpt_error_set(err, rc, "organize: out of memory");
out:
    free(srcdir);
    free(dstdir);
    return rc;
}

/* DIR made absolute, whether or not it exists yet: the nearest existing ancestor resolved by
 * realpath, then the rest (which may not contain "." or ".."). */
static int absolute_into(const char *into, char **out, struct ckpt_error *err)
{
    *out = NULL;
    if (!into || !*into)
        return ckpt_error_set(err, CKPT_E_ARG, "organize: --into DIR is required");
    char *full = NULL;
    if (into[0] == '/')
        full = strdup(into);
    else {
        char cwd[4096];
        if (!getcwd(cwd, sizeof cwd))
            return ckpt_error_set(err, CKPT_E_IO, "organize: cannot read the current folder");
        if (asprintf(&full, "%s/%s", cwd, into) < 0)
            full = NULL;
    }
    if (!full)
        return ckpt_error_set(err, CKPT_E_NOMEM, "organize: out of memory");
    size_t n = strlen(full);
    while (n > 1 && full[n - 1] == '/')
        full[--n] = 0;
    /* split at the longest existing prefix */
    char *cut = full + n;
    char *real = NULL;
    for (;;) {
        char save = *cut;
        *cut = 0;
        real = realpath(*full ? full : "/", NULL);
        *cut = save;
        if (real)
            break;
        char *s = cut;
        while (s > full && *(s - 1) != '/')
            s--;
        if (s <= full + 1) {
            cut = full + 1;
            real = strdup("/");
            break;
        }
        cut = s - 1;
    }
    const char *rest = *cut == '/' ? cut + 1 : cut;
    for (const char *r = rest; *r;) {
        size_t k = strcspn(r, "/");
        if ((k == 1 && r[0] == '.') || (k == 2 && r[0] == '.' && r[1] == '.')) {
            free(full);
            free(real);
            return ckpt_error_set(err, CKPT_E_ARG,
                                  "%s: '.' and '..' are not allowed in a folder that does not "
                                  "exist yet",
                                  into);
        }
        r += k + (r[k] == '/');
    }
    struct stat st;
    if (!*rest && (stat(real, &st) != 0 || !S_ISDIR(st.st_mode))) {
        free(full);
        free(real);
        return ckpt_error_set(err, CKPT_E_ARG, "%s: not a folder", into);
    }
    char *res = NULL;
    if (asprintf(&res, "%s%s%s", strcmp(real, "/") == 0 ? "" : real, *rest ? "/" : "", rest) < 0)
        res = NULL;
    free(full);
    free(real);
    if (!res)
        return ckpt_error_set(err, CKPT_E_NOMEM, "organize: out of memory");
    if (!*res) {
        free(res);
        res = strdup("/");
    }
    *out = res;
    return res ? CKPT_OK : ckpt_error_set(err, CKPT_E_NOMEM, "organize: out of memory");
}

static int under(const char *path, char *const *roots, size_t n)
{
    if (n == 0)
        return 1;
    for (size_t i = 0; i < n; i++) {
        size_t k = strlen(roots[i]);
        if (strncmp(path, roots[i], k) == 0 && (path[k] == 0 || path[k] == '/' || k == 1))
            return 1;
    }
    return 0;
}

static int cmp_item(const void *a, const void *b)
{
    return strcmp(((const struct ckpt_org_item *)a)->from, ((const struct ckpt_org_item *)b)->from);
}

int ckpt_organize_plan(struct ckpt_catalog *c, const struct ckpt_org_options *o,
                       struct ckpt_org_plan **out, struct ckpt_error *err)
{
    *out = NULL;
    if (o->mode < 0 || o->mode > CKPT_ORG_COPY)
        return ckpt_error_set(err, CKPT_E_ARG,
                              "organize: --mode is move, hardlink, symlink or "
                              "copy");
    struct ckpt_layout *lay = NULL;
    int rc = ckpt_layout_compile(o->layout, &lay, err);
    if (rc)
        return rc;
    struct planner pl = {.c = c, .o = o};
    char **roots = calloc(o->n_only + 1, sizeof *roots);
    struct ckpt_st *q = NULL;
    pl.p = calloc(1, sizeof *pl.p);
    if (!pl.p || !roots) {
        rc = ckpt_error_set(err, CKPT_E_NOMEM, "organize: out of memory");
        goto fail;
    }
    pl.p->mode = o->mode;
    if ((rc = absolute_into(o->into, &pl.p->into, err)) != CKPT_OK)
        goto fail;
    if (!(pl.p->layout = strdup(ckpt_layout_template(lay)))) {
        rc = ckpt_error_set(err, CKPT_E_NOMEM, "organize: out of memory");
        goto fail;
    }
    for (size_t i = 0; i < o->n_only; i++) {
        roots[i] = realpath(o->only_under[i], NULL);
        if (!roots[i]) {
            rc = ckpt_error_set(err, CKPT_E_NOTFOUND, "%s: %s", o->only_under[i], strerror(errno));
            goto fail;
        }
    }
    rc = ckpt_cat_prepare(
        c,
        "SELECT f.id, f.model_id, f.path, f.is_dir, f.size, f.sha256, f.missing, f.kind,"
        " f.family, coalesce(m.ecosystem, f.ecosystem), m.origin, m.output, m.realism,"
        " m.subjects, m.source, m.name FROM files f JOIN models m ON m.id = f.model_id"
        " WHERE f.host = ?",
        &q, err);
    if (rc)
        goto fail;
    ckpt_st_bind_text(q, 1, ckpt_catalog_host());
    struct ckpt_org_plan *p = pl.p;
    int s;
    while ((s = ckpt_st_step(q)) == CKPT_DB_ROW) {
        const char *path = ckpt_st_text(q, 2);
        if (!path)
            continue;
        if (smap_put(&pl.catalogued, path, (void *)1) != CKPT_OK) {
            rc = ckpt_error_set(err, CKPT_E_NOMEM, "organize: out of memory");
            goto fail;
        }
        if (ckpt_st_int(q, 6) || path[0] != '/' || !under(path, roots, o->n_only))
            continue;
        if (p->n == pl.cap) {
            pl.cap = pl.cap ? pl.cap * 2 : 256;
            struct ckpt_org_item *ni = realloc(p->items, pl.cap * sizeof *ni);
            if (!ni) {
                rc = ckpt_error_set(err, CKPT_E_NOMEM, "organize: out of memory");
                goto fail;
            }
            p->items = ni;
        }
        struct ckpt_org_item *it = &p->items[p->n++];
        memset(it, 0, sizeof *it);
        it->file_id = ckpt_st_i64(q, 0);
        it->model_id = ckpt_st_i64(q, 1);
        it->from = strdup(path);
        it->is_dir = ckpt_st_int(q, 3);
        it->size = (uint64_t)ckpt_st_i64(q, 4);
        it->sha256 = ckpt_cat_coldup(q, 5);
        it->name = ckpt_cat_coldup(q, 15);
        if (!it->from) {
            rc = ckpt_error_set(err, CKPT_E_NOMEM, "organize: out of memory");
            goto fail;
        }
        struct ckpt_model m = {0};
        m.kind = (char *)ckpt_st_text(q, 7);
        m.family = (char *)ckpt_st_text(q, 8);
        m.ecosystem = (char *)ckpt_st_text(q, 9);
        m.origin = (char *)ckpt_st_text(q, 10);
        m.output = (char *)ckpt_st_text(q, 11);
        m.realism = (char *)ckpt_st_text(q, 12);
        m.subjects = (char *)ckpt_st_text(q, 13);
        m.source = (char *)ckpt_st_text(q, 14);
        m.name = (char *)ckpt_st_text(q, 15);
        /* it->to holds the relative folder until plan_one */
        if ((rc = ckpt_layout_expand(lay, &m, &it->to, err)) != CKPT_OK)
            goto fail;
    }
    if (s != CKPT_DB_DONE) {
        rc = ckpt_cat_sqlerr(c, s, "reading the catalog", err);
        goto fail;
    }
    qsort(p->items, p->n, sizeof *p->items, cmp_item);
    ckpt_st_finalize(q);
    q = NULL;
    for (size_t i = 0; i < p->n; i++) {
        struct ckpt_org_item *it = &p->items[i];
        struct stat st;
        char *rel = it->to;
        it->to = NULL;
        if (lstat(it->from, &st) != 0) {
            set_skip(it, "%s", "not on disk (run scan to update the catalog)");
        } else if (S_ISLNK(st.st_mode)) {
            set_skip(it, "%s", "a symbolic link; organize the file it points to");
        } else if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
            set_skip(it, "%s", "not a regular file");
        } else {
            if ((rc = plan_one(&pl, it, rel, &st, err)) != CKPT_OK) {
                free(rel);
                goto fail;
            }
        }
        free(rel);
        if (it->status == CKPT_ORG_PLACE) {
            p->n_place++;
            p->n_side += it->n_side;
            if (it->cross_fs && (p->mode == CKPT_ORG_MOVE || p->mode == CKPT_ORG_COPY))
                p->bytes_cross_fs += it->size;
        } else if (it->status == CKPT_ORG_INPLACE) {
            p->n_inplace++;
        } else {
            p->n_skip++;
        }
    }
    ckpt_layout_free(lay);
    for (size_t i = 0; i < o->n_only; i++)
        free(roots[i]);
    free(roots);
    smap_free(&pl.catalogued, NULL);
    smap_free(&pl.planned, NULL);
    smap_free(&pl.claimed, NULL);
    smap_free(&pl.dirs, listing_free);
    smap_free(&pl.devs, NULL);
    *out = p;
    return CKPT_OK;
fail:
    ckpt_st_finalize(q);
    ckpt_layout_free(lay);
    if (roots)
        for (size_t i = 0; i < o->n_only; i++)
            free(roots[i]);
    free(roots);
    smap_free(&pl.catalogued, NULL);
    smap_free(&pl.planned, NULL);
    smap_free(&pl.claimed, NULL);
    smap_free(&pl.dirs, listing_free);
    smap_free(&pl.devs, NULL);
    ckpt_organize_plan_free(pl.p);
    return rc;
}

static const char *status_name(int s)
{
    return s == CKPT_ORG_PLACE ? "place" : s == CKPT_ORG_INPLACE ? "in-place" : "skip";
}

void ckpt_organize_plan_json(const struct ckpt_org_plan *p, struct ckpt_json *j)
{
    ckpt_json_obj_begin(j);
    ckpt_json_key(j, "into");
    ckpt_json_str(j, p->into);
    ckpt_json_key(j, "layout");
    ckpt_json_str(j, p->layout);
    ckpt_json_key(j, "mode");
    ckpt_json_str(j, ckpt_org_mode_name(p->mode));
    ckpt_json_key(j, "summary");
    ckpt_json_obj_begin(j);
    ckpt_json_key(j, "files");
    ckpt_json_u64(j, p->n);
    ckpt_json_key(j, "place");
    ckpt_json_u64(j, p->n_place);
    ckpt_json_key(j, "in_place");
    ckpt_json_u64(j, p->n_inplace);
    ckpt_json_key(j, "skip");
    ckpt_json_u64(j, p->n_skip);
    ckpt_json_key(j, "renamed");
    ckpt_json_u64(j, p->n_renamed);
    ckpt_json_key(j, "sidecars");
    ckpt_json_u64(j, p->n_side);
    ckpt_json_key(j, "bytes_to_copy");
    ckpt_json_u64(j, p->bytes_cross_fs);
    ckpt_json_obj_end(j);
    ckpt_json_key(j, "items");
    ckpt_json_arr_begin(j);
    for (size_t i = 0; i < p->n; i++) {
        const struct ckpt_org_item *it = &p->items[i];
        ckpt_json_obj_begin(j);
        ckpt_json_key(j, "model_id");
        ckpt_json_i64(j, it->model_id);
        ckpt_json_key(j, "name");
        ckpt_json_str(j, it->name);
        ckpt_json_key(j, "from");
        ckpt_json_str(j, it->from);
        ckpt_json_key(j, "to");
        ckpt_json_str(j, it->status == CKPT_ORG_SKIP ? NULL : it->to);
        ckpt_json_key(j, "status");
        ckpt_json_str(j, status_name(it->status));
        ckpt_json_key(j, "reason");
        ckpt_json_str(j, it->reason);
        ckpt_json_key(j, "cross_filesystem");
        ckpt_json_bool(j, it->cross_fs);
        ckpt_json_key(j, "sidecars");
        ckpt_json_arr_begin(j);
        for (size_t k = 0; k < it->n_side; k++) {
            ckpt_json_obj_begin(j);
            ckpt_json_key(j, "from");
            ckpt_json_str(j, it->side[k].from);
            ckpt_json_key(j, "to");
            ckpt_json_str(j, it->status == CKPT_ORG_SKIP ? NULL : it->side[k].to);
            ckpt_json_obj_end(j);
        }
        ckpt_json_arr_end(j);
        ckpt_json_obj_end(j);
    }
    ckpt_json_arr_end(j);
    ckpt_json_obj_end(j);
}
