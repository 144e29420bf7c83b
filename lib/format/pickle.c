/* The restricted pickle machine: every opcode of protocols 0-5, building only inert values.
 *
 * It follows CPython's Unpickler (Lib/pickle.py, `load_*`) for the structure of the stack,
 * marks, memo and frames, so a file this machine reads is read the same way by Python, and a
 * pickle Python would refuse as malformed is refused here with the byte offset of the opcode:
 * stack underflow (popping past the last MARK), a missing MARK, GET of a missing memo key, a
 * negative PUT, an unknown opcode, a protocol above 5, an argument that straddles the end of a
 * FRAME, a new FRAME before the current one is exhausted, NEXT_BUFFER without buffers, no STOP.
 *
 * Where Python would import or call, it records (see include/ckptdb/pickle.h). Resource use is
 * bounded by struct ckpt_limits: opcodes executed, stack depth, MARK nesting, memo entries,
 * string length and total bytes of values built; exhaustion is CKPT_E_LIMIT.
 *
 * Decisions: dict keys are kept in order without de-duplication (a repeated key stays twice;
 * the tensor walker refuses duplicate tensor names); unhashable keys (list, dict, set,
 * bytearray) are refused as Python refuses them; STRING/BINSTRING become str (torch.load
 * decodes them as UTF-8); INT/LONG text is read in base 10 only (Python's int(x, 0) also takes
 * 0x/0o/0b prefixes, which no pickler writes).
 * Not for interpreting what the values mean (torchpickle.c) or judging safety (lib/safety/). */
#include "ckptdb/pickle.h"
#include "ckptdb/utf8.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pk_block {
    struct pk_block *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
};

struct ckpt_pickle {
    const struct ckpt_limits *lim;
    char *name;
    struct pk_block *arena;
    uint64_t alloc;

    const struct ckpt_pv **globals;
    size_t nglobals, capglobals;
    struct ckpt_pickle_call *calls;
    size_t ncalls, capcalls;
    const struct ckpt_pv **persids;
    size_t npersids, cappersids;

    /* run state */
    struct ckpt_pv **stack;
    size_t sp, capstack;
    size_t *marks;
    size_t nmarks, capmarks;
    uint64_t *mkeys;
    struct ckpt_pv **mvals;
    size_t mcap, mcount;

    const unsigned char *d;
    size_t size, pos, op_pos, frame_end;
    int in_frame;
    uint64_t base;
    int truncated;
    int limit_hit;   /* the last failed palloc was refused by pickle_max_alloc */
    int keep_failed; /* a failed load keeps the records it made (the safety checker) */
    struct ckpt_pickle_info info;
    struct ckpt_error *err;
};

/* ---- errors, arena ------------------------------------------------------------------------- */

__attribute__((format(printf, 3, 4))) static int perr(struct ckpt_pickle *p, int code,
                                                      const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return ckpt_error_setf(p->err, code, p->name, "pickle: %s (byte %llu)", msg,
                           (unsigned long long)(p->base + p->op_pos));
}

static int trunc_err(struct ckpt_pickle *p, const char *what)
{
    p->truncated = 1;
    return perr(p, CKPT_E_FORMAT, "the pickle ends inside %s", what);
}

static void *palloc(struct ckpt_pickle *p, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (n == 0)
        n = 16;
    if (p->alloc + n > p->lim->pickle_max_alloc || n > SIZE_MAX / 2) {
        p->limit_hit = 1;
        return NULL;
    }
    struct pk_block *b = p->arena;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > 65536 ? n : 65536;
        b = malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->cap = cap;
        b->used = 0;
        b->next = p->arena;
        p->arena = b;
    }
    void *r = b->data + b->used;
    b->used += n;
    p->alloc += n;
    memset(r, 0, n);
    return r;
}

static int oom(struct ckpt_pickle *p)
{
    if (p->limit_hit)
        return perr(p, CKPT_E_LIMIT, "values built exceed %llu bytes",
                    (unsigned long long)p->lim->pickle_max_alloc);
    return perr(p, CKPT_E_NOMEM, "out of memory");
}

static struct ckpt_pv *newv(struct ckpt_pickle *p, enum ckpt_pv_kind k)
{
    struct ckpt_pv *v = palloc(p, sizeof *v);
    if (v) {
        v->kind = k;
        v->offset = p->base + p->op_pos;
        v->i = -1;
    }
    return v;
}

/* Grows an arena-backed pointer array to hold `need` pointers. */
static int grow_arr(struct ckpt_pickle *p, struct ckpt_pv ***arr, size_t *cap, size_t need)
{
    if (need <= *cap)
        return CKPT_OK;
    size_t n = *cap ? *cap * 2 : 8;
    while (n < need) {
        if (n > SIZE_MAX / 4 / sizeof **arr)
            return oom(p);
        n *= 2;
    }
    struct ckpt_pv **q = palloc(p, n * sizeof *q);
    if (!q)
        return oom(p);
    if (*cap)
        memcpy(q, *arr, *cap * sizeof *q);
    *arr = q;
    *cap = n;
    return CKPT_OK;
}

static int push_item(struct ckpt_pickle *p, struct ckpt_pv *c, struct ckpt_pv *x)
{
    int rc = grow_arr(p, &c->items, &c->cap, c->n + 1);
    if (rc)
        return rc;
    c->items[c->n++] = x;
    return CKPT_OK;
}

static int unhashable(const struct ckpt_pv *k)
{
    return k->kind == CKPT_PV_LIST || k->kind == CKPT_PV_DICT || k->kind == CKPT_PV_SET ||
           k->kind == CKPT_PV_BYTEARRAY;
}

static int push_pair(struct ckpt_pickle *p, struct ckpt_pv *c, struct ckpt_pv *k, struct ckpt_pv *v)
{
    if (c->kind == CKPT_PV_DICT && unhashable(k))
        return perr(p, CKPT_E_FORMAT, "unhashable dict key");
    int rc = grow_arr(p, &c->kv, &c->capkv, 2 * c->nkv + 2);
    if (rc)
        return rc;
    c->kv[2 * c->nkv] = k;
    c->kv[2 * c->nkv + 1] = v;
    c->nkv++;
    return CKPT_OK;
}

static int rec_grow(struct ckpt_pickle *p, void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return CKPT_OK;
    size_t n = *cap ? *cap * 2 : 16;
    if (n > SIZE_MAX / 2 / elem)
        return oom(p);
    if (p->alloc + (n - *cap) * elem > p->lim->pickle_max_alloc) {
        p->limit_hit = 1;
        return oom(p);
    }
    void *q = realloc(*arr, n * elem);
    if (!q)
        return oom(p);
    p->alloc += (n - *cap) * elem;
    *arr = q;
    *cap = n;
    return CKPT_OK;
}

static int rec_global(struct ckpt_pickle *p, const struct ckpt_pv *g)
{
    int rc = rec_grow(p, (void **)&p->globals, &p->capglobals, p->nglobals + 1, sizeof *p->globals);
    if (rc == CKPT_OK)
        p->globals[p->nglobals++] = g;
    return rc;
}

static int rec_call(struct ckpt_pickle *p, unsigned char op, const struct ckpt_pv *callable,
                    const struct ckpt_pv *args, const struct ckpt_pv *result)
{
    int rc = rec_grow(p, (void **)&p->calls, &p->capcalls, p->ncalls + 1, sizeof *p->calls);
    if (rc)
        return rc;
    struct ckpt_pickle_call *c = &p->calls[p->ncalls++];
    c->opcode = op;
    c->offset = p->base + p->op_pos;
    c->callable = callable;
    c->args = args;
    c->result = result;
    return CKPT_OK;
}

/* ---- the stack, marks, memo ------------------------------------------------------------------ */

static size_t seg_base(const struct ckpt_pickle *p)
{
    return p->nmarks ? p->marks[p->nmarks - 1] : 0;
}

static int push(struct ckpt_pickle *p, struct ckpt_pv *v)
{
    if (!v)
        return oom(p);
    if (p->sp >= p->lim->pickle_max_stack)
        return perr(p, CKPT_E_LIMIT, "stack deeper than %llu values",
                    (unsigned long long)p->lim->pickle_max_stack);
    if (p->sp == p->capstack) {
        size_t n = p->capstack ? p->capstack * 2 : 64;
        struct ckpt_pv **q = realloc(p->stack, n * sizeof *q);
        if (!q)
            return oom(p);
        p->stack = q;
        p->capstack = n;
    }
    p->stack[p->sp++] = v;
    return CKPT_OK;
}

static int pop(struct ckpt_pickle *p, struct ckpt_pv **v)
{
    if (p->sp <= seg_base(p))
        return perr(p, CKPT_E_FORMAT, "stack underflow");
    *v = p->stack[--p->sp];
    return CKPT_OK;
}

static int top(struct ckpt_pickle *p, struct ckpt_pv **v)
{
    if (p->sp <= seg_base(p))
        return perr(p, CKPT_E_FORMAT, "stack underflow");
    *v = p->stack[p->sp - 1];
    return CKPT_OK;
}

/* Pops the values above the last MARK, and the MARK: they are p->stack[*from .. *from + *n). */
static int pop_mark(struct ckpt_pickle *p, size_t *from, size_t *n)
{
    if (!p->nmarks)
        return perr(p, CKPT_E_FORMAT, "no MARK on the stack");
    size_t b = p->marks[--p->nmarks];
    *from = b;
    *n = p->sp - b;
    p->sp = b;
    return CKPT_OK;
}

static size_t memo_slot(const struct ckpt_pickle *p, uint64_t key)
{
    size_t h = (size_t)(key * 0x9E3779B97F4A7C15ull) & (p->mcap - 1);
    while (p->mvals[h] && p->mkeys[h] != key)
        h = (h + 1) & (p->mcap - 1);
    return h;
}

static int memo_put(struct ckpt_pickle *p, uint64_t key, struct ckpt_pv *v)
{
    if (p->mcap && p->mvals[memo_slot(p, key)]) {
        p->mvals[memo_slot(p, key)] = v; /* Python lets a PUT replace an entry */
        return CKPT_OK;
    }
    if (p->mcount >= p->lim->pickle_max_memo)
        return perr(p, CKPT_E_LIMIT, "more than %llu memo entries",
                    (unsigned long long)p->lim->pickle_max_memo);
    if (p->mcount + 1 > p->mcap / 2) {
        size_t n = p->mcap ? p->mcap * 2 : 256;
        uint64_t *nk = malloc(n * sizeof *nk);
        struct ckpt_pv **nv = calloc(n, sizeof *nv);
        if (!nk || !nv) {
            free(nk);
            free(nv);
            return oom(p);
        }
        uint64_t *ok = p->mkeys;
        struct ckpt_pv **ov = p->mvals;
        size_t oc = p->mcap;
        p->mkeys = nk;
        p->mvals = nv;
        p->mcap = n;
        for (size_t i = 0; i < oc; i++) {
            if (!ov[i])
                continue;
            size_t h = memo_slot(p, ok[i]);
            p->mkeys[h] = ok[i];
            p->mvals[h] = ov[i];
        }
        free(ok);
        free(ov);
    }
    size_t h = memo_slot(p, key);
    p->mkeys[h] = key;
    p->mvals[h] = v;
    p->mcount++;
    return CKPT_OK;
}

static int memo_get(struct ckpt_pickle *p, uint64_t key)
{
    if (p->mcap) {
        size_t h = (size_t)(key * 0x9E3779B97F4A7C15ull) & (p->mcap - 1);
        while (p->mvals[h]) {
            if (p->mkeys[h] == key)
                return push(p, p->mvals[h]);
            h = (h + 1) & (p->mcap - 1);
        }
    }
    return perr(p, CKPT_E_FORMAT, "GET of memo key %llu, which was never PUT",
                (unsigned long long)key);
}

/* ---- reading arguments ----------------------------------------------------------------------- */

static size_t limit_end(struct ckpt_pickle *p)
{
    if (p->in_frame && p->pos >= p->frame_end)
        p->in_frame = 0;
    return p->in_frame ? p->frame_end : p->size;
}

static int take(struct ckpt_pickle *p, size_t n, const char *what, const unsigned char **out)
{
    size_t end = limit_end(p);
    if (n > end - p->pos) {
        if (p->in_frame && n <= p->size - p->pos) {
            p->info.frame_straddle = 1;
            return perr(p, CKPT_E_FORMAT, "the argument of %s straddles the end of a frame", what);
        }
        return trunc_err(p, what);
    }
    *out = p->d + p->pos;
    p->pos += n;
    return CKPT_OK;
}

static int readline(struct ckpt_pickle *p, const char *what, const char **s, size_t *len)
{
    size_t end = limit_end(p);
    const unsigned char *start = p->d + p->pos;
    size_t avail = end - p->pos;
    size_t maxl = p->lim->max_string_len < avail ? (size_t)p->lim->max_string_len + 1 : avail;
    const unsigned char *nl = memchr(start, '\n', maxl);
    if (!nl) {
        if (maxl < avail)
            return perr(p, CKPT_E_LIMIT, "line of %s longer than %llu bytes", what,
                        (unsigned long long)p->lim->max_string_len);
        if (p->in_frame && memchr(start, '\n', p->size - p->pos)) {
            p->info.frame_straddle = 1;
            return perr(p, CKPT_E_FORMAT, "the argument of %s straddles the end of a frame", what);
        }
        return trunc_err(p, what);
    }
    *s = (const char *)start;
    *len = (size_t)(nl - start);
    p->pos += *len + 1;
    return CKPT_OK;
}

static uint64_t rd_le(const unsigned char *b, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = (v << 8) | b[i];
    return v;
}

static int take_len(struct ckpt_pickle *p, int width, const char *what, int signed32,
                    const unsigned char **data, size_t *len)
{
    const unsigned char *b;
    int rc = take(p, (size_t)width, what, &b);
    if (rc)
        return rc;
    uint64_t n = rd_le(b, width);
    if (signed32 && (n & 0x80000000u))
        return perr(p, CKPT_E_FORMAT, "%s with a negative length", what);
    if (n > p->lim->max_string_len)
        return perr(p, CKPT_E_LIMIT, "%s of %llu bytes exceeds the limit of %llu", what,
                    (unsigned long long)n, (unsigned long long)p->lim->max_string_len);
    *len = (size_t)n;
    return take(p, (size_t)n, what, data);
}

static struct ckpt_pv *mkstr(struct ckpt_pickle *p, enum ckpt_pv_kind k, const void *s, size_t n)
{
    struct ckpt_pv *v = newv(p, k);
    if (!v)
        return NULL;
    char *c = palloc(p, n + 1);
    if (!c)
        return NULL;
    if (n)
        memcpy(c, s, n);
    c[n] = '\0';
    v->s = c;
    v->len = n;
    return v;
}

static struct ckpt_pv *mkint(struct ckpt_pickle *p, int64_t i)
{
    struct ckpt_pv *v = newv(p, CKPT_PV_INT);
    if (v)
        v->i = i;
    return v;
}

/* Decimal text (INT, LONG, GET, PUT): optional sign, digits; overflow -> BIGINT text. */
static int parse_decimal(struct ckpt_pickle *p, const char *s, size_t n, const char *what,
                         struct ckpt_pv **out)
{
    size_t i = 0;
    int neg = 0;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\r'))
        n--;
    while (i < n && s[i] == ' ')
        i++;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        neg = s[i++] == '-';
    if (i >= n)
        return perr(p, CKPT_E_FORMAT, "%s: '%.*s' is not a number", what, (int)(n > 40 ? 40 : n),
                    s);
    uint64_t v = 0;
    int big = 0;
    for (size_t j = i; j < n; j++) {
        if (s[j] < '0' || s[j] > '9')
            return perr(p, CKPT_E_FORMAT, "%s: '%.*s' is not a number", what,
                        (int)(n > 40 ? 40 : n), s);
        if (!big && (__builtin_mul_overflow(v, 10, &v) ||
                     __builtin_add_overflow(v, (uint64_t)(s[j] - '0'), &v)))
            big = 1;
    }
    if (!big && (neg ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX))
        big = 1;
    if (big) {
        *out = mkstr(p, CKPT_PV_BIGINT, s, n);
        if (*out)
            (*out)->text = 1;
    } else {
        *out = mkint(p, neg ? (int64_t)(0 - v) : (int64_t)v);
    }
    return *out ? CKPT_OK : oom(p);
}

static int long_bytes(struct ckpt_pickle *p, const unsigned char *b, size_t n, struct ckpt_pv **out)
{
    if (n <= 8) {
        uint64_t v = 0;
        for (size_t i = n; i-- > 0;)
            v = (v << 8) | b[i];
        if (n && n < 8 && (b[n - 1] & 0x80))
            v |= ~(uint64_t)0 << (8 * n);
        *out = mkint(p, (int64_t)v);
    } else {
        *out = mkstr(p, CKPT_PV_BIGINT, b, n);
    }
    return *out ? CKPT_OK : oom(p);
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* STRING: a quoted Python 2 repr with backslash escapes (codecs.escape_decode). */
static int decode_string(struct ckpt_pickle *p, const char *s, size_t n, struct ckpt_pv **out)
{
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\r'))
        n--;
    if (n < 2 || (s[0] != '"' && s[0] != '\'') || s[n - 1] != s[0])
        return perr(p, CKPT_E_FORMAT, "STRING argument is not a quoted string");
    unsigned char *o = palloc(p, n);
    if (!o)
        return oom(p);
    size_t k = 0;
    for (size_t i = 1; i < n - 1; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c != '\\') {
            o[k++] = c;
            continue;
        }
        if (++i >= n - 1)
            return perr(p, CKPT_E_FORMAT, "STRING ends with a lone backslash");
        c = (unsigned char)s[i];
        switch (c) {
        case 'n':
            o[k++] = '\n';
            break;
        case 't':
            o[k++] = '\t';
            break;
        case 'r':
            o[k++] = '\r';
            break;
        case 'a':
            o[k++] = 7;
            break;
        case 'b':
            o[k++] = 8;
            break;
        case 'f':
            o[k++] = 12;
            break;
        case 'v':
            o[k++] = 11;
            break;
        case '\n':
            break;
        case 'x': {
            int h1 = i + 1 < n - 1 ? hexval(s[i + 1]) : -1;
            int h2 = i + 2 < n - 1 ? hexval(s[i + 2]) : -1;
            if (h1 < 0 || h2 < 0)
                return perr(p, CKPT_E_FORMAT, "STRING has an invalid \\x escape");
            o[k++] = (unsigned char)(h1 * 16 + h2);
            i += 2;
            break;
        }
        default:
            if (c >= '0' && c <= '7') {
                unsigned v = c - '0';
                for (int d = 0; d < 2 && i + 1 < n - 1 && s[i + 1] >= '0' && s[i + 1] <= '7'; d++)
                    v = v * 8 + (unsigned)(s[++i] - '0');
                o[k++] = (unsigned char)v;
            } else if (c == '\\' || c == '\'' || c == '"') {
                o[k++] = c;
            } else {
                o[k++] = '\\';
                o[k++] = c;
            }
        }
    }
    *out = mkstr(p, CKPT_PV_STR, o, k);
    return *out ? CKPT_OK : oom(p);
}

/* UNICODE: raw-unicode-escape (latin-1 bytes plus \uXXXX and \UXXXXXXXX). */
static int decode_raw_unicode(struct ckpt_pickle *p, const char *s, size_t n, struct ckpt_pv **out)
{
    if (n > SIZE_MAX / 4)
        return oom(p);
    unsigned char *o = palloc(p, n * 4 + 1);
    if (!o)
        return oom(p);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\\' && i + 1 < n && (s[i + 1] == 'u' || s[i + 1] == 'U')) {
            /* an odd run of backslashes escapes; Python counts them, as here */
            size_t run = 0;
            while (run < i && s[i - 1 - run] == '\\')
                run++;
            if (run % 2 == 0) {
                int w = s[i + 1] == 'u' ? 4 : 8;
                if (i + 2 + (size_t)w > n)
                    return perr(p, CKPT_E_FORMAT, "UNICODE has a truncated \\u escape");
                uint32_t cp = 0;
                for (int d = 0; d < w; d++) {
                    int h = hexval(s[i + 2 + (size_t)d]);
                    if (h < 0)
                        return perr(p, CKPT_E_FORMAT, "UNICODE has an invalid \\u escape");
                    cp = cp * 16 + (uint32_t)h;
                }
                if (cp > 0x10FFFF)
                    return perr(p, CKPT_E_FORMAT, "UNICODE escape beyond U+10FFFF");
                k += ckpt_utf8_put(o + k, cp);
                i += 1 + (size_t)w;
                continue;
            }
        }
        k += ckpt_utf8_put(o + k, c);
    }
    *out = mkstr(p, CKPT_PV_STR, o, k);
    return *out ? CKPT_OK : oom(p);
}

/* ---- building ----------------------------------------------------------------------------------
 */

static struct ckpt_pv *seq_from(struct ckpt_pickle *p, enum ckpt_pv_kind k, size_t from, size_t n)
{
    struct ckpt_pv *v = newv(p, k);
    if (!v)
        return NULL;
    if (n) {
        v->items = palloc(p, n * sizeof *v->items);
        if (!v->items)
            return NULL;
        memcpy(v->items, p->stack + from, n * sizeof *v->items);
        v->n = v->cap = n;
    }
    return v;
}

static struct ckpt_pv *mkglobal(struct ckpt_pickle *p, const char *m, size_t ml, const char *nm,
                                size_t nl)
{
    struct ckpt_pv *v = mkstr(p, CKPT_PV_GLOBAL, m, ml);
    if (!v)
        return NULL;
    char *c = palloc(p, nl + 1);
    if (!c)
        return NULL;
    memcpy(c, nm, nl);
    c[nl] = '\0';
    v->s2 = c;
    v->len2 = nl;
    return v;
}

static int do_call(struct ckpt_pickle *p, unsigned char op, struct ckpt_pv *callable,
                   struct ckpt_pv *args, struct ckpt_pv *kwargs)
{
    struct ckpt_pv *v = newv(p, CKPT_PV_CALL);
    if (!v)
        return oom(p);
    v->opcode = op;
    v->callable = callable;
    v->args = args;
    v->kwargs = kwargs;
    int rc = rec_call(p, op, callable, args, v);
    return rc ? rc : push(p, v);
}

static int ext_global(struct ckpt_pickle *p, int width)
{
    const unsigned char *b;
    int rc = take(p, (size_t)width, "EXT", &b);
    if (rc)
        return rc;
    int64_t code = (int64_t)rd_le(b, width);
    if (width == 4)
        code = (int32_t)(uint32_t)code;
    if (code <= 0)
        return perr(p, CKPT_E_FORMAT, "EXT code %lld is not positive", (long long)code);
    struct ckpt_pv *g = newv(p, CKPT_PV_GLOBAL);
    if (!g)
        return oom(p);
    g->i = code;
    rc = rec_global(p, g);
    return rc ? rc : push(p, g);
}

static int op_setitems(struct ckpt_pickle *p)
{
    size_t from = 0, n = 0;
    int rc = pop_mark(p, &from, &n);
    if (rc)
        return rc;
    struct ckpt_pv *d;
    if ((rc = top(p, &d)))
        return rc;
    if (d->kind != CKPT_PV_DICT && d->kind != CKPT_PV_CALL)
        return perr(p, CKPT_E_FORMAT, "SETITEMS on a value that is not a dict");
    if (n % 2)
        return perr(p, CKPT_E_FORMAT, "SETITEMS with an odd number of values");
    for (size_t i = 0; i < n; i += 2)
        if ((rc = push_pair(p, d, p->stack[from + i], p->stack[from + i + 1])))
            return rc;
    return CKPT_OK;
}

static int op_appends(struct ckpt_pickle *p, int additems)
{
    size_t from = 0, n = 0;
    int rc = pop_mark(p, &from, &n);
    if (rc)
        return rc;
    struct ckpt_pv *l;
    if ((rc = top(p, &l)))
        return rc;
    if (additems ? l->kind != CKPT_PV_SET && l->kind != CKPT_PV_CALL
                 : l->kind != CKPT_PV_LIST && l->kind != CKPT_PV_CALL)
        return perr(p, CKPT_E_FORMAT, "%s on a value that is not a %s",
                    additems ? "ADDITEMS" : "APPENDS", additems ? "set" : "list");
    for (size_t i = 0; i < n; i++) {
        if (additems && l->kind == CKPT_PV_SET && unhashable(p->stack[from + i]))
            return perr(p, CKPT_E_FORMAT, "unhashable set element");
        if ((rc = push_item(p, l, p->stack[from + i])))
            return rc;
    }
    return CKPT_OK;
}

/* One opcode at p->pos. Sets *stop at STOP. */
static int step(struct ckpt_pickle *p, int *stop, const struct ckpt_pv **result)
{
    const unsigned char *b;
    const char *s, *s2;
    size_t n = 0, n2 = 0, from = 0;
    struct ckpt_pv *v = NULL, *x, *y, *z;
    int rc;
    p->op_pos = p->pos;
    if ((rc = take(p, 1, "an opcode", &b))) {
        if (p->truncated)
            return perr(p, CKPT_E_FORMAT, "no STOP opcode before the end of the input");
        return rc;
    }
    unsigned char op = *b;
    if (++p->info.ops > p->lim->pickle_max_ops)
        return perr(p, CKPT_E_LIMIT, "more than %llu opcodes",
                    (unsigned long long)p->lim->pickle_max_ops);
    switch (op) {
    case '(': /* MARK */
        if (p->nmarks >= p->lim->pickle_max_stack)
            return perr(p, CKPT_E_LIMIT, "MARKs nested deeper than %llu",
                        (unsigned long long)p->lim->pickle_max_stack);
        if (p->nmarks == p->capmarks) {
            size_t c = p->capmarks ? p->capmarks * 2 : 32;
            size_t *q = realloc(p->marks, c * sizeof *q);
            if (!q)
                return oom(p);
            p->marks = q;
            p->capmarks = c;
        }
        p->marks[p->nmarks++] = p->sp;
        return CKPT_OK;
    case '.': /* STOP */
        if ((rc = pop(p, &v)))
            return rc;
        *result = v;
        *stop = 1;
        p->info.stack_left = p->sp;
        return CKPT_OK;
    case '0': /* POP */
        if (p->sp == seg_base(p) && p->nmarks)
            return pop_mark(p, &from, &n);
        return pop(p, &v);
    case '1': /* POP_MARK */
        return pop_mark(p, &from, &n);
    case '2': /* DUP */
        if ((rc = top(p, &v)))
            return rc;
        return push(p, v);
    case 'F': /* FLOAT */
        if ((rc = readline(p, "FLOAT", &s, &n)))
            return rc;
        {
            char tmp[64];
            if (n >= sizeof tmp)
                return perr(p, CKPT_E_FORMAT, "FLOAT argument too long");
            memcpy(tmp, s, n);
            tmp[n] = '\0';
            char *e;
            double d = strtod(tmp, &e);
            while (*e == ' ' || *e == '\r')
                e++;
            if (e == tmp || *e)
                return perr(p, CKPT_E_FORMAT, "FLOAT argument '%s' is not a number", tmp);
            v = newv(p, CKPT_PV_FLOAT);
            if (v)
                v->f = d;
        }
        return push(p, v);
    case 'G': /* BINFLOAT */
        if ((rc = take(p, 8, "BINFLOAT", &b)))
            return rc;
        {
            uint64_t u = 0;
            for (int i = 0; i < 8; i++)
                u = (u << 8) | b[i];
            double d;
            memcpy(&d, &u, sizeof d);
            v = newv(p, CKPT_PV_FLOAT);
            if (v)
                v->f = d;
        }
        return push(p, v);
    case 'I': /* INT */
        if ((rc = readline(p, "INT", &s, &n)))
            return rc;
        if (n == 2 && s[0] == '0' && (s[1] == '0' || s[1] == '1')) {
            v = newv(p, CKPT_PV_BOOL);
            if (v)
                v->i = s[1] == '1';
            return push(p, v);
        }
        if ((rc = parse_decimal(p, s, n, "INT", &v)))
            return rc;
        return push(p, v);
    case 'L': /* LONG */
        if ((rc = readline(p, "LONG", &s, &n)))
            return rc;
        if (n && s[n - 1] == 'L')
            n--;
        if ((rc = parse_decimal(p, s, n, "LONG", &v)))
            return rc;
        return push(p, v);
    case 'J': /* BININT */
        if ((rc = take(p, 4, "BININT", &b)))
            return rc;
        return push(p, mkint(p, (int32_t)(uint32_t)rd_le(b, 4)));
    case 'K': /* BININT1 */
        if ((rc = take(p, 1, "BININT1", &b)))
            return rc;
        return push(p, mkint(p, b[0]));
    case 'M': /* BININT2 */
        if ((rc = take(p, 2, "BININT2", &b)))
            return rc;
        return push(p, mkint(p, (int64_t)rd_le(b, 2)));
    case 0x8a: /* LONG1 */
        if ((rc = take_len(p, 1, "LONG1", 0, &b, &n)) || (rc = long_bytes(p, b, n, &v)))
            return rc;
        return push(p, v);
    case 0x8b: /* LONG4 */
        if ((rc = take_len(p, 4, "LONG4", 1, &b, &n)) || (rc = long_bytes(p, b, n, &v)))
            return rc;
        return push(p, v);
    case 'N': /* NONE */
        return push(p, newv(p, CKPT_PV_NONE));
    case 0x88: /* NEWTRUE */
    case 0x89: /* NEWFALSE */
        v = newv(p, CKPT_PV_BOOL);
        if (v)
            v->i = op == 0x88;
        return push(p, v);
    case 'S': /* STRING */
        if ((rc = readline(p, "STRING", &s, &n)) || (rc = decode_string(p, s, n, &v)))
            return rc;
        return push(p, v);
    case 'T': /* BINSTRING */
        if ((rc = take_len(p, 4, "BINSTRING", 1, &b, &n)))
            return rc;
        return push(p, mkstr(p, CKPT_PV_STR, b, n));
    case 'U': /* SHORT_BINSTRING */
        if ((rc = take_len(p, 1, "SHORT_BINSTRING", 0, &b, &n)))
            return rc;
        return push(p, mkstr(p, CKPT_PV_STR, b, n));
    case 'V': /* UNICODE */
        if ((rc = readline(p, "UNICODE", &s, &n)) || (rc = decode_raw_unicode(p, s, n, &v)))
            return rc;
        return push(p, v);
    case 'X': /* BINUNICODE */
        if ((rc = take_len(p, 4, "BINUNICODE", 0, &b, &n)))
            return rc;
        return push(p, mkstr(p, CKPT_PV_STR, b, n));
    case 0x8c: /* SHORT_BINUNICODE */
        if ((rc = take_len(p, 1, "SHORT_BINUNICODE", 0, &b, &n)))
            return rc;
        return push(p, mkstr(p, CKPT_PV_STR, b, n));
    case 0x8d: /* BINUNICODE8 */
        if ((rc = take_len(p, 8, "BINUNICODE8", 0, &b, &n)))
            return rc;
        return push(p, mkstr(p, CKPT_PV_STR, b, n));
    case 'B': /* BINBYTES */
        if ((rc = take_len(p, 4, "BINBYTES", 0, &b, &n)))
            return rc;
        return push(p, mkstr(p, CKPT_PV_BYTES, b, n));
    case 'C': /* SHORT_BINBYTES */
        if ((rc = take_len(p, 1, "SHORT_BINBYTES", 0, &b, &n)))
            return rc;
        return push(p, mkstr(p, CKPT_PV_BYTES, b, n));
    case 0x8e: /* BINBYTES8 */
        if ((rc = take_len(p, 8, "BINBYTES8", 0, &b, &n)))
            return rc;
        return push(p, mkstr(p, CKPT_PV_BYTES, b, n));
    case 0x96: /* BYTEARRAY8 */
        if ((rc = take_len(p, 8, "BYTEARRAY8", 0, &b, &n)))
            return rc;
        return push(p, mkstr(p, CKPT_PV_BYTEARRAY, b, n));
    case 0x97: /* NEXT_BUFFER */
        return perr(p, CKPT_E_FORMAT,
                    "NEXT_BUFFER refers to out-of-band data, but a file carries none");
    case 0x98: /* READONLY_BUFFER */
        return top(p, &v);
    case ')': /* EMPTY_TUPLE */
        return push(p, newv(p, CKPT_PV_TUPLE));
    case ']': /* EMPTY_LIST */
        return push(p, newv(p, CKPT_PV_LIST));
    case '}': /* EMPTY_DICT */
        return push(p, newv(p, CKPT_PV_DICT));
    case 0x8f: /* EMPTY_SET */
        return push(p, newv(p, CKPT_PV_SET));
    case 't':  /* TUPLE */
    case 'l':  /* LIST */
    case 0x91: /* FROZENSET */
        if ((rc = pop_mark(p, &from, &n)))
            return rc;
        if (op == 0x91)
            for (size_t i = 0; i < n; i++)
                if (unhashable(p->stack[from + i]))
                    return perr(p, CKPT_E_FORMAT, "unhashable frozenset element");
        return push(p, seq_from(p,
                                op == 't'   ? CKPT_PV_TUPLE
                                : op == 'l' ? CKPT_PV_LIST
                                            : CKPT_PV_FROZENSET,
                                from, n));
    case 0x85: /* TUPLE1 */
    case 0x86: /* TUPLE2 */
    case 0x87: /* TUPLE3 */
        n = (size_t)(op - 0x84);
        if (p->sp - seg_base(p) < n)
            return perr(p, CKPT_E_FORMAT, "stack underflow");
        p->sp -= n;
        return push(p, seq_from(p, CKPT_PV_TUPLE, p->sp, n));
    case 'd': /* DICT */
        if ((rc = pop_mark(p, &from, &n)))
            return rc;
        if (n % 2)
            return perr(p, CKPT_E_FORMAT, "DICT with an odd number of values");
        if (!(v = newv(p, CKPT_PV_DICT)))
            return oom(p);
        for (size_t i = 0; i < n; i += 2)
            if ((rc = push_pair(p, v, p->stack[from + i], p->stack[from + i + 1])))
                return rc;
        return push(p, v);
    case 'a': /* APPEND */
        if ((rc = pop(p, &x)) || (rc = top(p, &v)))
            return rc;
        if (v->kind != CKPT_PV_LIST && v->kind != CKPT_PV_CALL)
            return perr(p, CKPT_E_FORMAT, "APPEND on a value that is not a list");
        return push_item(p, v, x);
    case 'e': /* APPENDS */
        return op_appends(p, 0);
    case 0x90: /* ADDITEMS */
        return op_appends(p, 1);
    case 's': /* SETITEM */
        if ((rc = pop(p, &y)) || (rc = pop(p, &x)) || (rc = top(p, &v)))
            return rc;
        if (v->kind != CKPT_PV_DICT && v->kind != CKPT_PV_CALL)
            return perr(p, CKPT_E_FORMAT, "SETITEM on a value that is not a dict");
        return push_pair(p, v, x, y);
    case 'u': /* SETITEMS */
        return op_setitems(p);
    case 'g': /* GET */
    case 'p': /* PUT */
        if ((rc = readline(p, op == 'g' ? "GET" : "PUT", &s, &n)) ||
            (rc = parse_decimal(p, s, n, op == 'g' ? "GET" : "PUT", &x)))
            return rc;
        if (x->kind != CKPT_PV_INT || x->i < 0)
            return perr(p, CKPT_E_FORMAT, "%s with a negative or huge memo key",
                        op == 'g' ? "GET" : "PUT");
        if (op == 'g')
            return memo_get(p, (uint64_t)x->i);
        if ((rc = top(p, &v)))
            return rc;
        return memo_put(p, (uint64_t)x->i, v);
    case 'h': /* BINGET */
    case 'j': /* LONG_BINGET */
        if ((rc = take(p, op == 'h' ? 1 : 4, "BINGET", &b)))
            return rc;
        return memo_get(p, rd_le(b, op == 'h' ? 1 : 4));
    case 'q': /* BINPUT */
    case 'r': /* LONG_BINPUT */
        if ((rc = take(p, op == 'q' ? 1 : 4, "BINPUT", &b)) || (rc = top(p, &v)))
            return rc;
        return memo_put(p, rd_le(b, op == 'q' ? 1 : 4), v);
    case 0x94: /* MEMOIZE */
        if ((rc = top(p, &v)))
            return rc;
        return memo_put(p, p->mcount, v);
    case 'c': /* GLOBAL */
        if ((rc = readline(p, "GLOBAL", &s, &n)) || (rc = readline(p, "GLOBAL", &s2, &n2)))
            return rc;
        if (!(v = mkglobal(p, s, n, s2, n2)))
            return oom(p);
        if ((rc = rec_global(p, v)))
            return rc;
        return push(p, v);
    case 0x93: /* STACK_GLOBAL */
        if ((rc = pop(p, &y)) || (rc = pop(p, &x)))
            return rc;
        if (x->kind == CKPT_PV_STR && y->kind == CKPT_PV_STR)
            v = mkglobal(p, x->s, x->len, y->s, y->len);
        else
            v = newv(p, CKPT_PV_GLOBAL); /* unresolvable: operands are not two strings */
        if (!v)
            return oom(p);
        if ((rc = rec_global(p, v)))
            return rc;
        return push(p, v);
    case 0x82: /* EXT1 */
        return ext_global(p, 1);
    case 0x83: /* EXT2 */
        return ext_global(p, 2);
    case 0x84: /* EXT4 */
        return ext_global(p, 4);
    case 'R':  /* REDUCE */
    case 0x81: /* NEWOBJ */
        if ((rc = pop(p, &y)) || (rc = pop(p, &x)))
            return rc;
        return do_call(p, op, x, y, NULL);
    case 0x92: /* NEWOBJ_EX */
        if ((rc = pop(p, &z)) || (rc = pop(p, &y)) || (rc = pop(p, &x)))
            return rc;
        return do_call(p, op, x, y, z);
    case 'i': /* INST */
        if ((rc = readline(p, "INST", &s, &n)) || (rc = readline(p, "INST", &s2, &n2)))
            return rc;
        {
            size_t nargs = 0; /* n still holds the module name's length */
            if ((rc = pop_mark(p, &from, &nargs)))
                return rc;
            if (!(x = mkglobal(p, s, n, s2, n2)) || !(y = seq_from(p, CKPT_PV_TUPLE, from, nargs)))
                return oom(p);
        }
        if ((rc = rec_global(p, x)))
            return rc;
        return do_call(p, op, x, y, NULL);
    case 'o': /* OBJ */
        if ((rc = pop_mark(p, &from, &n)))
            return rc;
        if (n == 0)
            return perr(p, CKPT_E_FORMAT, "OBJ without a class");
        if (!(y = seq_from(p, CKPT_PV_TUPLE, from + 1, n - 1)))
            return oom(p);
        return do_call(p, op, p->stack[from], y, NULL);
    case 'b': /* BUILD */
        if ((rc = pop(p, &y)) || (rc = top(p, &v)))
            return rc;
        v->state = y;
        return rec_call(p, op, v, y, v);
    case 'P': /* PERSID */
        if ((rc = readline(p, "PERSID", &s, &n)))
            return rc;
        if (!(x = mkstr(p, CKPT_PV_STR, s, n)))
            return oom(p);
        goto persid;
    case 'Q': /* BINPERSID */
        if ((rc = pop(p, &x)))
            return rc;
    persid:
        if (!(v = newv(p, CKPT_PV_PERSID)))
            return oom(p);
        v->args = x;
        if ((rc = rec_grow(p, (void **)&p->persids, &p->cappersids, p->npersids + 1,
                           sizeof *p->persids)))
            return rc;
        p->persids[p->npersids++] = v;
        return push(p, v);
    case 0x80: /* PROTO */
        if ((rc = take(p, 1, "PROTO", &b)))
            return rc;
        if (b[0] > 5)
            return perr(p, CKPT_E_UNSUPPORTED, "unsupported pickle protocol %u", b[0]);
        if (p->info.ops != 1)
            p->info.proto_misplaced = 1;
        p->info.proto = b[0];
        p->info.proto_count++;
        return CKPT_OK;
    case 0x95: /* FRAME */
        if ((rc = take(p, 8, "FRAME", &b)))
            return rc;
        {
            uint64_t len = rd_le(b, 8);
            if (p->in_frame && p->pos < p->frame_end) {
                p->info.frame_straddle = 1;
                return perr(p, CKPT_E_FORMAT, "a new FRAME begins before the current one ends");
            }
            if (len > p->size - p->pos)
                return trunc_err(p, "a FRAME");
            p->frame_end = p->pos + (size_t)len;
            p->in_frame = len > 0;
        }
        return CKPT_OK;
    default:
        return perr(p, CKPT_E_FORMAT, "unknown opcode 0x%02x", op);
    }
}

/* ---- public ------------------------------------------------------------------------------------
 */

int ckpt_pickle_new(struct ckpt_pickle **out, const struct ckpt_limits *limits, const char *name,
                    struct ckpt_error *err)
{
    *out = NULL;
    struct ckpt_pickle *p = calloc(1, sizeof *p);
    if (!p || !(p->name = strdup(name ? name : "(pickle)"))) {
        free(p);
        return ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
    }
    p->lim = limits ? limits : ckpt_limits_defaults();
    p->info.proto = -1;
    *out = p;
    return CKPT_OK;
}

void ckpt_pickle_free(struct ckpt_pickle *p)
{
    if (!p)
        return;
    struct pk_block *b = p->arena;
    while (b) {
        struct pk_block *n = b->next;
        free(b);
        b = n;
    }
    free(p->globals);
    free(p->calls);
    free(p->persids);
    free(p->stack);
    free(p->marks);
    free(p->mkeys);
    free(p->mvals);
    free(p->name);
    free(p);
}

int ckpt_pickle_load(struct ckpt_pickle *p, const void *data, size_t size, uint64_t base, int exact,
                     const struct ckpt_pv **result, size_t *consumed, struct ckpt_error *err)
{
    *result = NULL;
    if (consumed)
        *consumed = 0;
    p->err = err;
    p->d = data;
    p->size = size;
    p->pos = p->op_pos = 0;
    p->base = base;
    p->in_frame = 0;
    p->frame_end = 0;
    p->truncated = 0;
    p->limit_hit = 0;
    p->sp = 0;
    p->nmarks = 0;
    p->mcount = 0;
    if (p->mvals)
        memset(p->mvals, 0, p->mcap * sizeof *p->mvals);
    memset(&p->info, 0, sizeof p->info);
    p->info.proto = -1;
    if (size > p->lim->pickle_max_bytes)
        return ckpt_error_setf(err, CKPT_E_LIMIT, p->name,
                               "pickle of %zu bytes exceeds the limit of %llu", size,
                               (unsigned long long)p->lim->pickle_max_bytes);
    int stop = 0, rc = CKPT_OK;
    const struct ckpt_pv *res = NULL;
    size_t ng = p->nglobals, nc = p->ncalls, np = p->npersids;
    while (!stop && rc == CKPT_OK)
        rc = step(p, &stop, &res);
    if (rc == CKPT_OK && p->in_frame && p->pos < p->frame_end) {
        p->op_pos = p->pos;
        p->info.frame_straddle = 1;
        rc = perr(p, CKPT_E_FORMAT, "STOP before the end of its frame");
    }
    if (rc == CKPT_OK && exact && p->pos != size) {
        p->op_pos = p->pos;
        rc = perr(p, CKPT_E_FORMAT, "%zu bytes of data after the STOP opcode", size - p->pos);
    }
    if (rc && p->keep_failed) {
        if (consumed)
            *consumed = p->op_pos;
        return rc;
    }
    if (rc) {
        /* a failed load leaves no records behind (the caller may retry with more input) */
        p->nglobals = ng;
        p->ncalls = nc;
        p->npersids = np;
        return rc;
    }
    *result = res;
    if (consumed)
        *consumed = p->pos;
    return CKPT_OK;
}

void ckpt_pickle_keep_failed(struct ckpt_pickle *p, int on)
{
    p->keep_failed = on;
}

int ckpt_pickle_truncated(const struct ckpt_pickle *p)
{
    return p->truncated;
}

size_t ckpt_pickle_global_count(const struct ckpt_pickle *p)
{
    return p->nglobals;
}

const struct ckpt_pv *ckpt_pickle_global(const struct ckpt_pickle *p, size_t i)
{
    return i < p->nglobals ? p->globals[i] : NULL;
}

size_t ckpt_pickle_call_count(const struct ckpt_pickle *p)
{
    return p->ncalls;
}

const struct ckpt_pickle_call *ckpt_pickle_call(const struct ckpt_pickle *p, size_t i)
{
    return i < p->ncalls ? &p->calls[i] : NULL;
}

size_t ckpt_pickle_persid_count(const struct ckpt_pickle *p)
{
    return p->npersids;
}

const struct ckpt_pv *ckpt_pickle_persid(const struct ckpt_pickle *p, size_t i)
{
    return i < p->npersids ? p->persids[i] : NULL;
}

void ckpt_pickle_info(const struct ckpt_pickle *p, struct ckpt_pickle_info *out)
{
    *out = p->info;
}

int ckpt_pv_is_str(const struct ckpt_pv *v, const char *s)
{
    return v && v->kind == CKPT_PV_STR && v->len == strlen(s) && memcmp(v->s, s, v->len) == 0;
}

int ckpt_pv_is_global(const struct ckpt_pv *v, const char *module, const char *name)
{
    return v && v->kind == CKPT_PV_GLOBAL && v->s && v->s2 && strcmp(v->s, module) == 0 &&
           v->len == strlen(module) && strcmp(v->s2, name) == 0 && v->len2 == strlen(name);
}

const char *ckpt_pickle_opname(unsigned char op)
{
    switch (op) {
    case 'R':
        return "REDUCE";
    case 0x81:
        return "NEWOBJ";
    case 0x92:
        return "NEWOBJ_EX";
    case 'i':
        return "INST";
    case 'o':
        return "OBJ";
    case 'b':
        return "BUILD";
    case 'c':
        return "GLOBAL";
    case 0x93:
        return "STACK_GLOBAL";
    case 'Q':
        return "BINPERSID";
    case 'P':
        return "PERSID";
    default:
        return "?";
    }
}
