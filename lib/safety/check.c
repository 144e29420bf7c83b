/* The safety checker: walks a file's containers and pickles and turns what it finds into
 * findings and a verdict (include/ckptdb/safety.h).
 *
 * Detection is by content, never by extension (the extension only decides whether an archive
 * format is "hidden under a model file's name"): GGUF and safetensors go through their strict
 * readers (pass: safe; fail: invalid); a zip (PK at byte 0, or an end record ending the file
 * wherever the archive starts) is opened in the zip reader's survey mode, so the tricks strict
 * mode refuses become findings and the pickles behind them are still judged; 7z, gzip, bzip2,
 * xz, zstd, rar and tar are refused (dangerous under a model extension); anything else is run
 * through the pickle machine: torch's magic number as the first pickle means the legacy format
 * (five pickles, then storages that are never read), otherwise it is a raw pickle file.
 *
 * Every pickle is judged by its records (pickle.h): calls of anything not on the allow-list
 * (globals.c), known-dangerous or unresolvable imports, BUILD on a module or class, numpy
 * object arrays, persistent ids that are not torch storages, PROTO tricks, frame straddles,
 * resource limits, and what follows STOP (another pickle is judged too). Records made before a
 * parse error are judged as well: Python would have executed them before failing.
 * A file with no finding is finally opened with the strict reader (directory, data.pkl and
 * the 8-byte storage headers only) so that a malformed but harmless file is `invalid`.
 * Not for the tables themselves (globals.c) nor for output formatting (result.c). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ckptdb/pickle.h"
#include "ckptdb/safety.h"
#include "ckptdb/tensorset.h"
#include "ckptdb/zip.h"

#define MAX_FINDINGS 200
#define MAX_PICKLES 16
#define SNIFF_WINDOW 65536u

struct ck {
    struct ckpt_check_result *res;
    const struct ckpt_limits *lim;
    const char *fname;
    int nomem;
};

/* ---- findings ------------------------------------------------------------------------------ */

static char *clean_dup(const char *s)
{
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (!d)
        return NULL;
    for (size_t i = 0; i < n; i++)
        d[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
    d[n] = '\0';
    return d;
}

__attribute__((format(printf, 4, 5))) static void add(struct ck *c, enum ckpt_verdict sev,
                                                      const char *where, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    struct ckpt_check_result *r = c->res;
    for (size_t i = 0; i < r->n; i++)
        if (r->findings[i].severity == sev && strcmp(r->findings[i].what, what) == 0) {
            r->findings[i].count++;
            return;
        }
    if (r->n >= MAX_FINDINGS) {
        r->dropped++;
        if (sev > r->verdict)
            r->verdict = sev;
        return;
    }
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 8;
        struct ckpt_finding *q = realloc(r->findings, cap * sizeof *q);
        if (!q) {
            c->nomem = 1;
            return;
        }
        r->findings = q;
        r->cap = cap;
    }
    struct ckpt_finding *f = &r->findings[r->n];
    f->severity = sev;
    f->count = 1;
    f->what = clean_dup(what);
    f->where = clean_dup(where ? where : "");
    if (!f->what || !f->where) {
        free(f->what);
        free(f->where);
        c->nomem = 1;
        return;
    }
    r->n++;
    if (sev > r->verdict)
        r->verdict = sev;
}

/* Drop findings added after the first n (a pickle judged again with a larger window). */
static void rollback(struct ck *c, size_t n, enum ckpt_verdict v, size_t dropped)
{
    struct ckpt_check_result *r = c->res;
    while (r->n > n) {
        r->n--;
        free(r->findings[r->n].what);
        free(r->findings[r->n].where);
    }
    r->verdict = v;
    r->dropped = dropped;
}

static const char *where_at(char *buf, size_t cap, const char *member, uint64_t off)
{
    if (member)
        snprintf(buf, cap, "%.200s, byte %llu", member, (unsigned long long)off);
    else
        snprintf(buf, cap, "byte %llu", (unsigned long long)off);
    return buf;
}

/* An error message without the "FILE: " prefix ckpt_error_setf puts first. */
static const char *bare(const struct ck *c, const struct ckpt_error *e)
{
    size_t n = strlen(c->fname);
    if (strncmp(e->msg, c->fname, n) == 0 && e->msg[n] == ':' && e->msg[n + 1] == ' ')
        return e->msg + n + 2;
    return e->msg;
}

/* ---- judging one pickle's records ---------------------------------------------------------- */

static const char *call_op(unsigned char op)
{
    return ckpt_pickle_opname(op);
}

static int cmp_ptr(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t) * (const void *const *)a, y = (uintptr_t) * (const void *const *)b;
    return x < y ? -1 : x > y;
}

static const char *kind_name(enum ckpt_pv_kind k)
{
    switch (k) {
    case CKPT_PV_NONE:
        return "None";
    case CKPT_PV_BOOL:
        return "bool";
    case CKPT_PV_INT:
    case CKPT_PV_BIGINT:
        return "int";
    case CKPT_PV_FLOAT:
        return "float";
    case CKPT_PV_STR:
        return "str";
    case CKPT_PV_BYTES:
        return "bytes";
    case CKPT_PV_BYTEARRAY:
        return "bytearray";
    case CKPT_PV_TUPLE:
        return "tuple";
    case CKPT_PV_LIST:
        return "list";
    case CKPT_PV_SET:
        return "set";
    case CKPT_PV_FROZENSET:
        return "frozenset";
    case CKPT_PV_DICT:
        return "dict";
    case CKPT_PV_GLOBAL:
        return "global";
    case CKPT_PV_CALL:
        return "call result";
    case CKPT_PV_PERSID:
        return "persistent id";
    }
    return "?";
}

static void unresolved(struct ck *c, const struct ckpt_pv *g, const char *w, const char *verb)
{
    if (g->i > 0)
        add(c, CKPT_VERDICT_DANGEROUS, w,
            "%s extension code %lld (EXT opcode: the copyreg registry decides what is imported)",
            verb, (long long)g->i);
    else
        add(c, CKPT_VERDICT_DANGEROUS, w,
            "%s a STACK_GLOBAL whose module and name are not two strings (cannot be resolved "
            "statically)",
            verb);
}

static int is_numpy_dtype(const struct ckpt_pv *g)
{
    return g && g->kind == CKPT_PV_GLOBAL && g->s && g->s2 && strcmp(g->s2, "dtype") == 0 &&
           strcmp(g->s, "numpy") == 0;
}

static void judge_call(struct ck *c, const struct ckpt_pickle_call *call, const char *member)
{
    char w[300];
    where_at(w, sizeof w, member, call->offset);
    const struct ckpt_pv *f = call->callable;
    if (call->opcode == 'b') { /* BUILD: f is the object built */
        if (f->kind == CKPT_PV_GLOBAL)
            add(c, CKPT_VERDICT_DANGEROUS, w,
                "BUILD sets the state of %.100s.%.100s itself (overwrites attributes of a module "
                "or class)",
                f->s ? f->s : "?", f->s2 ? f->s2 : "?");
        else if (f->kind != CKPT_PV_CALL)
            add(c, CKPT_VERDICT_SUSPICIOUS, w, "BUILD on a %s value", kind_name(f->kind));
        return;
    }
    const char *op = call_op(call->opcode);
    if (f->kind == CKPT_PV_GLOBAL) {
        if (!f->s2) {
            unresolved(c, f, w, "calls");
            return;
        }
        switch (ckpt_safety_classify(f->s, f->s2)) {
        case CKPT_GLOBAL_ALLOWED:
            if (is_numpy_dtype(f) && call->args && call->args->kind == CKPT_PV_TUPLE &&
                call->args->n >= 1 && call->args->items[0]->kind == CKPT_PV_STR &&
                call->args->items[0]->len >= 1 && call->args->items[0]->s[0] == 'O')
                add(c, CKPT_VERDICT_SUSPICIOUS, w,
                    "numpy object array (dtype '%.20s'): its elements are arbitrary pickled "
                    "objects",
                    call->args->items[0]->s);
            return;
        case CKPT_GLOBAL_DANGEROUS:
            add(c, CKPT_VERDICT_DANGEROUS, w, "calls %.150s.%.150s (known dangerous, %s)", f->s,
                f->s2, op);
            return;
        case CKPT_GLOBAL_UNKNOWN:
            add(c, CKPT_VERDICT_DANGEROUS, w, "calls %.150s.%.150s (not on the allow-list, %s)",
                f->s, f->s2, op);
            return;
        }
    }
    if (f->kind == CKPT_PV_CALL)
        add(c, CKPT_VERDICT_DANGEROUS, w,
            "calls the result of another call (%s): a callable built while loading", op);
    else
        add(c, CKPT_VERDICT_SUSPICIOUS, w, "%s on a %s value", op, kind_name(f->kind));
}

static int is_storage_pid(const struct ckpt_pv *pid)
{
    const struct ckpt_pv *a = pid->args;
    return a && a->kind == CKPT_PV_TUPLE && a->n >= 5 && ckpt_pv_is_str(a->items[0], "storage") &&
           a->items[1]->kind == CKPT_PV_GLOBAL && a->items[1]->s2 &&
           ckpt_safety_classify(a->items[1]->s, a->items[1]->s2) == CKPT_GLOBAL_ALLOWED;
}

static void judge_records(struct ck *c, struct ckpt_pickle *pk, size_t g0, size_t c0, size_t p0,
                          const char *member)
{
    size_t gn = ckpt_pickle_global_count(pk), cn = ckpt_pickle_call_count(pk);
    size_t pn = ckpt_pickle_persid_count(pk);
    char w[300];
    /* the globals that are called (their call findings say it; no import finding) */
    const void **called = malloc((cn - c0 + 1) * sizeof *called);
    if (!called) {
        c->nomem = 1;
        return;
    }
    size_t nc = 0;
    for (size_t i = c0; i < cn; i++) {
        const struct ckpt_pickle_call *call = ckpt_pickle_call(pk, i);
        if (call->opcode != 'b')
            called[nc++] = call->callable;
        judge_call(c, call, member);
    }
    qsort(called, nc, sizeof *called, cmp_ptr);
    for (size_t i = g0; i < gn; i++) {
        const struct ckpt_pv *g = ckpt_pickle_global(pk, i);
        int is_called = bsearch(&g, called, nc, sizeof *called, cmp_ptr) != NULL;
        where_at(w, sizeof w, member, g->offset);
        if (!g->s2) {
            if (!is_called)
                unresolved(c, g, w, "imports");
            continue;
        }
        enum ckpt_global_class cls = ckpt_safety_classify(g->s, g->s2);
        if (is_called || cls == CKPT_GLOBAL_ALLOWED)
            continue;
        if (cls == CKPT_GLOBAL_DANGEROUS)
            add(c, CKPT_VERDICT_DANGEROUS, w, "imports %.150s.%.150s (known dangerous)", g->s,
                g->s2);
        else
            add(c, CKPT_VERDICT_SUSPICIOUS, w, "imports %.150s.%.150s (not on the allow-list)",
                g->s, g->s2);
    }
    free(called);
    for (size_t i = p0; i < pn; i++) {
        const struct ckpt_pv *pid = ckpt_pickle_persid(pk, i);
        if (!is_storage_pid(pid))
            add(c, CKPT_VERDICT_SUSPICIOUS, where_at(w, sizeof w, member, pid->offset),
                "persistent id that is not a torch storage reference");
    }
}

/* ---- judging a run of pickles -------------------------------------------------------------- */

static const unsigned char magic_le[10] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9,
                                           0x20, 0x6a, 0xa8, 0x50, 0x19};

static int is_magic(const struct ckpt_pv *v)
{
    if (!v || v->kind != CKPT_PV_BIGINT)
        return 0;
    if (v->text)
        return v->len == 24 && memcmp(v->s, "119547037146038801333356", 24) == 0;
    return v->len == 10 && memcmp(v->s, magic_le, 10) == 0;
}

enum { PK_ONE = 0, PK_DETECT_LEGACY = 1 };

/* Judges the pickles in buf. The format expects one pickle (five for legacy torch, detected by
 * the magic number when mode is PK_DETECT_LEGACY; storages follow them and are not read);
 * whatever follows is a finding, and is judged as a pickle when it is one. `whole` says buf
 * holds everything there is: otherwise an early end sets *more and judges nothing (the caller
 * retries with a larger window). *legacy is set when the legacy layout was found. */
static int judge_pickles(struct ck *c, const unsigned char *buf, size_t len, const char *member,
                         int mode, int whole, int *more, int *legacy)
{
    struct ckpt_pickle *pk;
    struct ckpt_error e;
    *more = 0;
    if (ckpt_pickle_new(&pk, c->lim, c->fname, &e)) {
        c->nomem = 1;
        return CKPT_E_NOMEM;
    }
    ckpt_pickle_keep_failed(pk, 1);
    size_t pos = 0, expected = 1;
    size_t g0 = 0, c0 = 0, p0 = 0;
    char w[300];
    for (size_t k = 0;; k++) {
        if (k >= MAX_PICKLES) {
            add(c, CKPT_VERDICT_SUSPICIOUS, where_at(w, sizeof w, member, pos),
                "more than %d pickles in a row; the rest was not judged", MAX_PICKLES);
            break;
        }
        const struct ckpt_pv *res = NULL;
        size_t used = 0;
        int rc = ckpt_pickle_load(pk, buf + pos, len - pos, pos, 0, &res, &used, &e);
        if (rc && ckpt_pickle_truncated(pk) && !whole) {
            *more = 1;
            break;
        }
        int records = ckpt_pickle_global_count(pk) > g0 || ckpt_pickle_call_count(pk) > c0;
        if (k >= expected && (rc == CKPT_OK || records))
            add(c, CKPT_VERDICT_SUSPICIOUS, where_at(w, sizeof w, member, pos),
                "another pickle follows the STOP opcode (a loader that reads on would run it)");
        judge_records(c, pk, g0, c0, p0, member);
        g0 = ckpt_pickle_global_count(pk);
        c0 = ckpt_pickle_call_count(pk);
        p0 = ckpt_pickle_persid_count(pk);
        struct ckpt_pickle_info info;
        ckpt_pickle_info(pk, &info);
        if (info.proto_count > 1)
            add(c, CKPT_VERDICT_SUSPICIOUS, where_at(w, sizeof w, member, pos),
                "PROTO appears %u times in one pickle", info.proto_count);
        else if (info.proto_misplaced)
            add(c, CKPT_VERDICT_SUSPICIOUS, where_at(w, sizeof w, member, pos),
                "PROTO is not the first opcode");
        if (rc) {
            const char *msg = bare(c, &e);
            if (rc == CKPT_E_NOMEM)
                c->nomem = 1;
            else if (info.frame_straddle)
                add(c, CKPT_VERDICT_DANGEROUS, "",
                    "frame trick: %s (Python's C unpickler reads across frames, so readers see "
                    "different opcodes)",
                    msg);
            else if (rc == CKPT_E_LIMIT)
                add(c, CKPT_VERDICT_SUSPICIOUS, "", "resource limit: %s", msg);
            else if (k < expected)
                add(c, CKPT_VERDICT_INVALID, "", "%s", msg);
            else if (!records)
                add(c, CKPT_VERDICT_SUSPICIOUS, where_at(w, sizeof w, member, pos),
                    "%zu bytes of trailing data after the STOP opcode", len - pos);
            else
                add(c, CKPT_VERDICT_SUSPICIOUS, "", "trailing pickle is malformed: %s", msg);
            break;
        }
        if (k == 0 && mode == PK_DETECT_LEGACY && is_magic(res)) {
            *legacy = 1;
            expected = 5;
        }
        pos += used;
        if (k + 1 < expected)
            continue;
        if (*legacy && k + 1 == expected)
            break; /* storages follow */
        if (pos == len)
            break;
    }
    ckpt_pickle_free(pk);
    return CKPT_OK;
}

/* Pickles at the start of a reader: a window that grows until they fit (never the whole file
 * unless the pickles are the whole file). */
static int judge_reader_pickles(struct ck *c, struct ckpt_reader *r, int *legacy)
{
    uint64_t size = ckpt_reader_size(r), win = SNIFF_WINDOW;
    size_t n0 = c->res->n, d0 = c->res->dropped;
    enum ckpt_verdict v0 = c->res->verdict;
    for (;;) {
        uint64_t n = size < win ? size : win;
        int capped = 0;
        if (n > c->lim->pickle_max_bytes) {
            n = c->lim->pickle_max_bytes;
            capped = 1;
        }
        unsigned char *buf = malloc(n ? (size_t)n : 1);
        if (!buf) {
            c->nomem = 1;
            return CKPT_E_NOMEM;
        }
        struct ckpt_error e;
        int rc = ckpt_reader_read(r, 0, buf, (size_t)n, "pickle", &e);
        if (rc) {
            free(buf);
            add(c, CKPT_VERDICT_INVALID, "", "%s", bare(c, &e));
            return rc;
        }
        int more = 0;
        *legacy = 0;
        judge_pickles(c, buf, (size_t)n, NULL, PK_DETECT_LEGACY, n == size || capped, &more,
                      legacy);
        free(buf);
        if (!more) {
            if (capped && n < size && !*legacy)
                add(c, CKPT_VERDICT_SUSPICIOUS, "",
                    "only the first %llu bytes were judged (the pickle limit)",
                    (unsigned long long)n);
            return CKPT_OK;
        }
        rollback(c, n0, v0, d0);
        win *= 4;
    }
}

/* ---- containers ---------------------------------------------------------------------------- */

static int has_ext(const char *name, const char *ext)
{
    size_t n = strlen(name), e = strlen(ext);
    if (n < e)
        return 0;
    for (size_t i = 0; i < e; i++) {
        char ch = name[n - e + i];
        if (ch >= 'A' && ch <= 'Z')
            ch = (char)(ch - 'A' + 'a');
        if (ch != ext[i])
            return 0;
    }
    return 1;
}

static int model_ext(const char *name)
{
    static const char *const exts[] = {".ckpt", ".pt",  ".pth",    ".bin",   ".safetensors", ".sft",
                                       ".gguf", ".pkl", ".pickle", ".model", ".pt2"};
    for (size_t i = 0; i < sizeof exts / sizeof *exts; i++)
        if (has_ext(name, exts[i]))
            return 1;
    return 0;
}

/* An archive or compressed format by its first bytes (n of them in h), or NULL. */
static const char *archive_kind(const unsigned char *h, size_t n)
{
    if (n >= 6 && memcmp(h, "7z\xBC\xAF\x27\x1C", 6) == 0)
        return "7-Zip archive";
    if (n >= 2 && h[0] == 0x1f && h[1] == 0x8b)
        return "gzip stream";
    if (n >= 3 && memcmp(h, "BZh", 3) == 0)
        return "bzip2 stream";
    if (n >= 6 && memcmp(h,
                         "\xFD"
                         "7zXZ\0",
                         6) == 0)
        return "xz stream";
    if (n >= 4 && memcmp(h, "\x28\xB5\x2F\xFD", 4) == 0)
        return "zstd stream";
    if (n >= 4 && memcmp(h, "Rar!", 4) == 0)
        return "RAR archive";
    if (n >= 4 && h[0] == 'P' && h[1] == 'K' &&
        ((h[2] == 3 && h[3] == 4) || (h[2] == 5 && h[3] == 6) || (h[2] == 7 && h[3] == 8)))
        return "zip archive";
    return NULL;
}

static void anomaly_finding(struct ck *c, const struct ckpt_zip_anomaly *a)
{
    char w[300];
    const char *msg = strncmp(a->msg, "zip: ", 5) == 0 ? a->msg + 5 : a->msg;
    if (a->member)
        snprintf(w, sizeof w, "%.200s, byte %llu", a->member, (unsigned long long)a->offset);
    else
        snprintf(w, sizeof w, "byte %llu", (unsigned long long)a->offset);
    switch (a->kind) {
    case CKPT_ZIP_METHOD:
        add(c, CKPT_VERDICT_SUSPICIOUS, w, "member cannot be read: %s", msg);
        return;
    case CKPT_ZIP_CRC:
        add(c, CKPT_VERDICT_SUSPICIOUS, w,
            "CRC mismatch (torch ignores CRCs: corrupted, or edited to stop scanners): %s", msg);
        return;
    default:
        add(c, CKPT_VERDICT_DANGEROUS, w, "container trick: %s", msg);
        return;
    }
}

static int looks_like_pickle_head(const unsigned char *h, size_t n)
{
    if (n == 0)
        return 0;
    if (h[0] == 0x80)
        return n >= 2 && h[1] <= 5;
    /* protocol 0/1 first opcodes: MARK, GLOBAL, INST, EMPTY_*, INT, STRING, UNICODE, NONE... */
    return strchr("(c]}ISVNFLTUXJKMGe)", h[0]) != NULL;
}

/* One member that is not the archive's data.pkl: a nested archive, a hidden pickle, or (for
 * names outside torch's layout) unexpected. */
static void judge_member(struct ck *c, struct ckpt_zip *z, const struct ckpt_zip_member *m,
                         const char *rel, int expected_name, int is_storage)
{
    unsigned char head[16];
    size_t got = 0;
    struct ckpt_error e;
    char w[300];
    if (ckpt_zip_read_head(z, m, head, sizeof head, &got, &e)) {
        if (e.code != CKPT_E_UNSUPPORTED) /* method anomalies are reported already */
            add(c, CKPT_VERDICT_INVALID, m->name, "%s", bare(c, &e));
        return;
    }
    const char *ak = archive_kind(head, got);
    if (ak) {
        add(c, CKPT_VERDICT_DANGEROUS, where_at(w, sizeof w, m->name, 0),
            "nested archive: member '%.200s' is a %s", m->name, ak);
        return;
    }
    int sniff = is_storage ? got >= 2 && head[0] == 0x80 && head[1] <= 5
                           : looks_like_pickle_head(head, got);
    int is_pickle = 0;
    if (sniff) {
        /* a trial run over the first bytes decides whether it is a pickle at all */
        unsigned char *buf = malloc(SNIFF_WINDOW);
        size_t n = 0;
        if (!buf) {
            c->nomem = 1;
            return;
        }
        if (ckpt_zip_read_head(z, m, buf, SNIFF_WINDOW, &n, &e) == CKPT_OK) {
            struct ckpt_pickle *pk;
            if (ckpt_pickle_new(&pk, c->lim, c->fname, &e) == CKPT_OK) {
                ckpt_pickle_keep_failed(pk, 1);
                const struct ckpt_pv *res;
                size_t used;
                int rc = ckpt_pickle_load(pk, buf, n, 0, 0, &res, &used, &e);
                int records = ckpt_pickle_global_count(pk) || ckpt_pickle_call_count(pk);
                is_pickle =
                    rc == CKPT_OK || (!is_storage && (records || ckpt_pickle_truncated(pk)));
                ckpt_pickle_free(pk);
            }
        }
        free(buf);
    }
    if (is_pickle) {
        add(c, CKPT_VERDICT_DANGEROUS, where_at(w, sizeof w, m->name, 0),
            "a second pickle in member '%.200s' (only data.pkl is torch's; a pickle elsewhere "
            "is there to be loaded by something else)",
            m->name);
        void *data;
        size_t len;
        if (ckpt_zip_read(z, m, c->lim->pickle_max_bytes, &data, &len, &e)) {
            add(c, CKPT_VERDICT_SUSPICIOUS, m->name, "%s", bare(c, &e));
            return;
        }
        int more, legacy = 0;
        judge_pickles(c, data, len, m->name, PK_ONE, 1, &more, &legacy);
        free(data);
        return;
    }
    if (!expected_name) {
        if (rel && (strcmp(rel, "constants.pkl") == 0 || strncmp(rel, "code/", 5) == 0))
            add(c, CKPT_VERDICT_SUSPICIOUS, m->name,
                "TorchScript archive: torch.jit.load runs the code it carries");
        else
            add(c, CKPT_VERDICT_SUSPICIOUS, m->name,
                "unexpected member '%.200s' in a torch archive", m->name);
    }
}

static int check_zip(struct ck *c, struct ckpt_reader *r)
{
    struct ckpt_zip *z;
    struct ckpt_error e;
    c->res->format = "torch-zip";
    int rc = ckpt_zip_open_survey(&z, r, c->lim, &e);
    if (rc) {
        if (rc == CKPT_E_NOMEM)
            c->nomem = 1;
        add(c, CKPT_VERDICT_INVALID, "", "%s", bare(c, &e));
        return CKPT_OK;
    }
    size_t n = ckpt_zip_count(z);
    if (n == 0)
        add(c, CKPT_VERDICT_INVALID, "", "an empty zip archive");
    const char *prefix = "";
    size_t plen = 0;
    char *pfx = NULL;
    if (n) {
        const struct ckpt_zip_member *first = ckpt_zip_member(z, 0);
        const char *slash = strchr(first->name, '/');
        if (slash && slash != first->name) {
            plen = (size_t)(slash - first->name) + 1;
            pfx = strndup(first->name, plen);
            if (!pfx)
                c->nomem = 1;
            else
                prefix = pfx;
        } else {
            plen = 0;
            add(c, CKPT_VERDICT_INVALID, first->name,
                "member '%.200s' is not inside a folder (torch keeps every record under one "
                "folder)",
                first->name);
        }
    }
    /* the tricks found at open first: they are why the rest cannot be trusted */
    size_t na = ckpt_zip_anomaly_count(z);
    for (size_t i = 0; i < na; i++)
        anomaly_finding(c, ckpt_zip_anomaly(z, i));
    int have_pkl = 0;
    for (size_t i = 0; i < n && !c->nomem; i++) {
        const struct ckpt_zip_member *m = ckpt_zip_member(z, i);
        int inside = plen == 0 || strncmp(m->name, prefix, plen) == 0;
        const char *rel = inside ? m->name + plen : NULL;
        if (rel && strcmp(rel, "data.pkl") == 0 && !have_pkl) {
            have_pkl = 1;
            void *data;
            size_t len;
            if ((rc = ckpt_zip_read(z, m, c->lim->pickle_max_bytes, &data, &len, &e))) {
                add(c, rc == CKPT_E_LIMIT ? CKPT_VERDICT_SUSPICIOUS : CKPT_VERDICT_INVALID, m->name,
                    "%s", bare(c, &e));
                continue;
            }
            int more, legacy = 0;
            judge_pickles(c, data, len, m->name, PK_ONE, 1, &more, &legacy);
            free(data);
            continue;
        }
        int storage = rel && strncmp(rel, "data/", 5) == 0 && rel[5] && !strchr(rel + 5, '/');
        int expected =
            rel && (storage || strcmp(rel, "version") == 0 || strcmp(rel, "byteorder") == 0 ||
                    strcmp(rel, ".format_version") == 0 || strcmp(rel, ".storage_alignment") == 0 ||
                    (strncmp(rel, ".data/", 6) == 0 && rel[6]));
        judge_member(c, z, m, rel, expected, storage);
    }
    if (n && !have_pkl)
        add(c, CKPT_VERDICT_INVALID, "", "no %.200sdata.pkl record (the pickle)", prefix);
    for (size_t i = na; i < ckpt_zip_anomaly_count(z); i++) /* found while reading (CRC) */
        anomaly_finding(c, ckpt_zip_anomaly(z, i));
    if (ckpt_zip_anomaly_total(z) > ckpt_zip_anomaly_count(z))
        add(c, CKPT_VERDICT_DANGEROUS, "", "%zu more container anomalies",
            ckpt_zip_anomaly_total(z) - ckpt_zip_anomaly_count(z));
    free(pfx);
    ckpt_zip_close(z);
    return CKPT_OK;
}

/* No finding so far: the strict reader must accept the file too (structure, storages). */
static void strict_read(struct ck *c, struct ckpt_reader *r)
{
    struct ckpt_tensorset *ts;
    struct ckpt_error e;
    int rc = ckpt_tensorset_open_reader(&ts, r, c->lim, &e);
    if (rc) {
        if (rc == CKPT_E_NOMEM)
            c->nomem = 1;
        add(c, CKPT_VERDICT_INVALID, "", "%s", bare(c, &e));
        return;
    }
    ckpt_tensorset_close(ts);
}

int ckpt_check_reader(struct ckpt_reader *r, const struct ckpt_limits *limits,
                      struct ckpt_check_result *out, struct ckpt_error *err)
{
    ckpt_check_result_release(out);
    struct ck c = {out, limits ? limits : ckpt_limits_defaults(), ckpt_reader_name(r), 0};
    out->format = "unknown";
    uint64_t size = ckpt_reader_size(r);
    unsigned char head[16] = {0};
    size_t hn = size < sizeof head ? (size_t)size : sizeof head;
    struct ckpt_error e;
    int rc = ckpt_reader_read(r, 0, head, hn, "file signature", &e);
    if (rc) {
        add(&c, CKPT_VERDICT_INVALID, "", "%s", bare(&c, &e));
        ckpt_error_setf(err, rc, c.fname, "%s", bare(&c, &e));
        return rc;
    }
    const char *ak = archive_kind(head, hn);
    int tar = 0;
    if (!ak && size >= 262) {
        char ustar[5];
        if (ckpt_reader_read(r, 257, ustar, 5, "tar signature", &e) == CKPT_OK &&
            memcmp(ustar, "ustar", 5) == 0)
            tar = 1;
    }
    if (size == 0) {
        add(&c, CKPT_VERDICT_INVALID, "", "empty file (0 bytes)");
    } else if (hn >= 4 && memcmp(head, "GGUF", 4) == 0) {
        out->format = "gguf";
        strict_read(&c, r);
    } else if ((ak && strcmp(ak, "zip archive") == 0) || ckpt_zip_locate(r)) {
        check_zip(&c, r);
        if (out->n == 0)
            strict_read(&c, r);
    } else if (ak || tar) {
        out->format = "archive";
        const char *what = ak ? ak : "tar archive";
        if (model_ext(c.fname))
            add(&c, CKPT_VERDICT_DANGEROUS, "",
                "a %s under a model file's name (torch cannot load it; it hides what it "
                "carries from scanners, as the nullifAI models did)",
                what);
        else
            add(&c, CKPT_VERDICT_INVALID, "", "a %s, not a model file", what);
    } else if (hn >= 8 && memcmp(head, "PYTORCH1", 8) == 0) {
        add(&c, CKPT_VERDICT_INVALID, "",
            "a PyTorch preview-release archive (PYTORCH1), which no current tool reads");
    } else {
        uint64_t hl = 0;
        for (int i = 7; i >= 0; i--)
            hl = (hl << 8) | head[i];
        int st = hn >= 9 && hl <= size - 8 &&
                 (head[8] == '{' || head[8] == ' ' || head[8] == '\t' || head[8] == '\n' ||
                  head[8] == '\r');
        if (st || has_ext(c.fname, ".safetensors") || has_ext(c.fname, ".sft")) {
            out->format = "safetensors";
            strict_read(&c, r);
        } else if (looks_like_pickle_head(head, hn) || head[0] == 'c' || head[0] == 'i') {
            int legacy = 0;
            out->format = "pickle";
            judge_reader_pickles(&c, r, &legacy);
            if (legacy)
                out->format = "torch-legacy";
            if (legacy && out->n == 0)
                strict_read(&c, r);
        } else {
            add(&c, CKPT_VERDICT_INVALID, "",
                "not a model file ckptdb recognises (starts with %02x %02x %02x %02x)", head[0],
                hn > 1 ? head[1] : 0, hn > 2 ? head[2] : 0, hn > 3 ? head[3] : 0);
        }
    }
    if (c.nomem) {
        add(&c, CKPT_VERDICT_INVALID, "", "out of memory");
        return ckpt_error_setf(err, CKPT_E_NOMEM, c.fname, "out of memory");
    }
    /* worst first, stable */
    for (size_t i = 1; i < out->n; i++) {
        struct ckpt_finding f = out->findings[i];
        size_t j = i;
        while (j > 0 && out->findings[j - 1].severity < f.severity) {
            out->findings[j] = out->findings[j - 1];
            j--;
        }
        out->findings[j] = f;
    }
    return CKPT_OK;
}

int ckpt_check_file(const char *path, const struct ckpt_limits *limits,
                    struct ckpt_check_result *out, struct ckpt_error *err)
{
    ckpt_check_result_release(out);
    struct stat st;
    struct ck c = {out, limits ? limits : ckpt_limits_defaults(), path, 0};
    out->format = "unknown";
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        out->format = "directory";
        add(&c, CKPT_VERDICT_INVALID, "",
            "a directory: check the model files inside it (each .bin, .ckpt, .safetensors)");
        return CKPT_OK;
    }
    struct ckpt_reader *r;
    struct ckpt_error e;
    int rc = ckpt_reader_open_file(&r, path, &e);
    if (rc) {
        add(&c, CKPT_VERDICT_INVALID, "", "%s", bare(&c, &e));
        if (err)
            *err = e;
        return rc;
    }
    rc = ckpt_check_reader(r, limits, out, err);
    ckpt_reader_close(r);
    return rc;
}
