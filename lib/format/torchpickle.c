/* Rebuilding tensors from a torch pickle without running it: the well-known call records
 * torch._utils._rebuild_tensor_v2 / _rebuild_tensor / _rebuild_parameter(_with_state) and
 * collections.OrderedDict are interpreted, storages come from persistent ids resolved by the
 * container (zip records or legacy storage blocks), and the object is walked for names.
 *
 * Decisions: only the top-level "state_dict" is unwrapped; other nested dicts are joined with
 * "." (a checkpoint keeps its names, and a nested dict cannot collide with the state dict's
 * names); a repeated name is refused (as the tensorset refuses it) rather than letting the
 * later value win as Python's dict would; an expanded view (every stride 0 over more than one
 * element) is refused because the tensorset reads all-zero strides as contiguous.
 * Not for the zip or legacy layouts (torchzip.c, torchlegacy.c) nor for safety verdicts. */
#include "torchpickle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NEST 32

static int fail(struct ckpt_tensorset *ts, struct ckpt_error *err, int code, uint64_t off,
                const char *what)
{
    return ckpt_error_setf(err, code, ckpt_ts_name(ts), "pickle: %s (byte %llu)", what,
                           (unsigned long long)off);
}

static const struct {
    const char *name;
    enum ckpt_dtype dt;
} storage_types[] = {
    {"FloatStorage", CKPT_DT_F32},
    {"HalfStorage", CKPT_DT_F16},
    {"BFloat16Storage", CKPT_DT_BF16},
    {"DoubleStorage", CKPT_DT_F64},
    {"LongStorage", CKPT_DT_I64},
    {"IntStorage", CKPT_DT_I32},
    {"ShortStorage", CKPT_DT_I16},
    {"CharStorage", CKPT_DT_I8},
    {"ByteStorage", CKPT_DT_U8},
    {"BoolStorage", CKPT_DT_BOOL},
    {"ComplexFloatStorage", CKPT_DT_C64},
    {"ComplexDoubleStorage", CKPT_DT_C128},
    {"float32", CKPT_DT_F32},
    {"float", CKPT_DT_F32},
    {"float16", CKPT_DT_F16},
    {"half", CKPT_DT_F16},
    {"bfloat16", CKPT_DT_BF16},
    {"float64", CKPT_DT_F64},
    {"double", CKPT_DT_F64},
    {"int64", CKPT_DT_I64},
    {"long", CKPT_DT_I64},
    {"int32", CKPT_DT_I32},
    {"int", CKPT_DT_I32},
    {"int16", CKPT_DT_I16},
    {"short", CKPT_DT_I16},
    {"int8", CKPT_DT_I8},
    {"uint8", CKPT_DT_U8},
    {"bool", CKPT_DT_BOOL},
    {"complex64", CKPT_DT_C64},
    {"cfloat", CKPT_DT_C64},
    {"complex128", CKPT_DT_C128},
    {"cdouble", CKPT_DT_C128},
    {"float8_e4m3fn", CKPT_DT_F8_E4M3},
    {"float8_e5m2", CKPT_DT_F8_E5M2},
    {"float8_e4m3fnuz", CKPT_DT_F8_E4M3FNUZ},
    {"float8_e5m2fnuz", CKPT_DT_F8_E5M2FNUZ},
    {"uint16", CKPT_DT_U16},
    {"uint32", CKPT_DT_U32},
    {"uint64", CKPT_DT_U64},
};

static int storage_dtype(const struct ckpt_pv *g, enum ckpt_dtype *dt)
{
    if (!g || g->kind != CKPT_PV_GLOBAL || !g->s || !g->s2)
        return CKPT_E_FORMAT;
    if (strcmp(g->s, "torch.storage") == 0 && strcmp(g->s2, "UntypedStorage") == 0) {
        *dt = CKPT_DT_U8;
        return CKPT_OK;
    }
    if (strcmp(g->s, "torch") != 0 && strcmp(g->s, "torch.cuda") != 0)
        return CKPT_E_FORMAT;
    if (strcmp(g->s2, "UntypedStorage") == 0) {
        *dt = CKPT_DT_U8;
        return CKPT_OK;
    }
    for (size_t i = 0; i < sizeof storage_types / sizeof storage_types[0]; i++)
        if (strcmp(g->s2, storage_types[i].name) == 0) {
            *dt = storage_types[i].dt;
            return CKPT_OK;
        }
    return CKPT_E_UNSUPPORTED;
}

static int as_u64(const struct ckpt_pv *v, uint64_t *out)
{
    if (!v || v->kind != CKPT_PV_INT || v->i < 0)
        return 0;
    *out = (uint64_t)v->i;
    return 1;
}

int torch_parse_pid(struct ckpt_tensorset *ts, const struct ckpt_pv *persid, struct torch_pid *out,
                    struct ckpt_error *err)
{
    memset(out, 0, sizeof *out);
    out->offset = persid->offset;
    const struct ckpt_pv *t = persid->args;
    if (!t || t->kind != CKPT_PV_TUPLE || t->n < 5 || t->n > 6 ||
        !ckpt_pv_is_str(t->items[0], "storage"))
        return fail(ts, err, CKPT_E_FORMAT, persid->offset,
                    "persistent id is not a ('storage', type, key, location, size) tuple");
    int rc = storage_dtype(t->items[1], &out->dtype);
    if (rc == CKPT_E_UNSUPPORTED) {
        char m[200];
        snprintf(m, sizeof m, "storage type %.60s.%.60s is not supported", t->items[1]->s,
                 t->items[1]->s2);
        return fail(ts, err, CKPT_E_UNSUPPORTED, persid->offset, m);
    }
    if (rc)
        return fail(ts, err, CKPT_E_FORMAT, persid->offset,
                    "persistent id's storage type is not a torch storage class");
    if (t->items[2]->kind != CKPT_PV_STR || t->items[2]->len == 0)
        return fail(ts, err, CKPT_E_FORMAT, persid->offset, "storage key is not a string");
    out->key = t->items[2]->s;
    out->key_len = t->items[2]->len;
    if (t->items[3]->kind != CKPT_PV_STR)
        return fail(ts, err, CKPT_E_FORMAT, persid->offset, "storage location is not a string");
    if (!as_u64(t->items[4], &out->numel))
        return fail(ts, err, CKPT_E_FORMAT, persid->offset,
                    "storage size is not a non-negative integer");
    if (t->n == 6 && t->items[5]->kind != CKPT_PV_NONE) {
        const struct ckpt_pv *vm = t->items[5];
        if (vm->kind != CKPT_PV_TUPLE || vm->n != 3 || vm->items[0]->kind != CKPT_PV_STR ||
            !as_u64(vm->items[1], &out->view_offset) || !as_u64(vm->items[2], &out->view_numel))
            return fail(ts, err, CKPT_E_FORMAT, persid->offset,
                        "storage view metadata is not (key, offset, size)");
        out->is_view = 1;
        out->view_key = vm->items[0]->s;
        out->view_key_len = vm->items[0]->len;
        uint64_t end;
        if (__builtin_add_overflow(out->view_offset, out->view_numel, &end) || end > out->numel)
            return fail(ts, err, CKPT_E_FORMAT, persid->offset,
                        "storage view lies outside its storage");
    }
    return CKPT_OK;
}

struct walk {
    struct ckpt_tensorset *ts;
    torch_storage_fn fn;
    void *user;
    struct ckpt_error *err;
    uint64_t visits, budget;
    char *name;
    size_t len, cap;
};

static int name_push(struct walk *w, const char *s, size_t n, int dot)
{
    size_t need = w->len + n + 2;
    if (need > w->cap) {
        size_t c = w->cap ? w->cap * 2 : 256;
        while (c < need)
            c *= 2;
        char *q = realloc(w->name, c);
        if (!q)
            return ckpt_error_setf(w->err, CKPT_E_NOMEM, ckpt_ts_name(w->ts), "out of memory");
        w->name = q;
        w->cap = c;
    }
    memcpy(w->name + w->len, s, n);
    w->len += n;
    if (dot)
        w->name[w->len++] = '.';
    w->name[w->len] = '\0';
    return CKPT_OK;
}

static int is_dict(const struct ckpt_pv *v)
{
    if (!v)
        return 0;
    if (v->kind == CKPT_PV_DICT)
        return 1;
    return v->kind == CKPT_PV_CALL && v->opcode == 'R' &&
           ckpt_pv_is_global(v->callable, "collections", "OrderedDict") && v->args &&
           v->args->kind == CKPT_PV_TUPLE && v->args->n == 0 && v->n == 0;
}

/* The _rebuild_tensor call inside v (through _rebuild_parameter), or NULL. */
static const struct ckpt_pv *tensor_call(const struct ckpt_pv *v)
{
    for (int hop = 0; hop < 4 && v && v->kind == CKPT_PV_CALL; hop++) {
        const struct ckpt_pv *c = v->callable;
        if (v->opcode != 'R' || !v->args || v->args->kind != CKPT_PV_TUPLE)
            return NULL;
        if (ckpt_pv_is_global(c, "torch._utils", "_rebuild_tensor_v2") ||
            ckpt_pv_is_global(c, "torch._utils", "_rebuild_tensor"))
            return v;
        if ((ckpt_pv_is_global(c, "torch._utils", "_rebuild_parameter") ||
             ckpt_pv_is_global(c, "torch._utils", "_rebuild_parameter_with_state")) &&
            v->args->n >= 1)
            v = v->args->items[0];
        else
            return NULL;
    }
    return NULL;
}

static int add_tensor(struct walk *w, const struct ckpt_pv *call)
{
    struct ckpt_tensorset *ts = w->ts;
    const struct ckpt_pv *a = call->args;
    char m[160];
    if (a->n < 4)
        return fail(ts, w->err, CKPT_E_FORMAT, call->offset,
                    "tensor rebuild call with fewer than 4 arguments");
    const struct ckpt_pv *st = a->items[0], *so = a->items[1], *sz = a->items[2], *sd = a->items[3];
    if (st->kind != CKPT_PV_PERSID)
        return fail(ts, w->err, CKPT_E_FORMAT, call->offset,
                    "tensor rebuild call whose storage is not a persistent id");
    struct torch_pid pid;
    int rc = torch_parse_pid(ts, st, &pid, w->err);
    if (rc)
        return rc;
    uint64_t off;
    if (!as_u64(so, &off))
        return fail(ts, w->err, CKPT_E_FORMAT, call->offset,
                    "tensor storage offset is not a non-negative integer");
    if (sz->kind != CKPT_PV_TUPLE || sd->kind != CKPT_PV_TUPLE || sz->n != sd->n)
        return fail(ts, w->err, CKPT_E_FORMAT, call->offset,
                    "tensor size and stride are not tuples of one length");
    if (sz->n > CKPT_MAX_DIMS || sz->n > ts->limits->max_dims) {
        snprintf(m, sizeof m, "tensor '%.100s' has %zu dimensions", w->name, sz->n);
        return fail(ts, w->err, CKPT_E_LIMIT, call->offset, m);
    }
    struct ckpt_tensor t;
    memset(&t, 0, sizeof t);
    t.name = w->name;
    t.dtype = pid.dtype;
    t.ndim = (uint32_t)sz->n;
    int any = 0;
    uint64_t numel = 1;
    for (size_t d = 0; d < sz->n; d++) {
        uint64_t s;
        if (!as_u64(sz->items[d], &t.shape[d]) || !as_u64(sd->items[d], &s) ||
            s > (uint64_t)INT64_MAX)
            return fail(ts, w->err, CKPT_E_FORMAT, call->offset,
                        "tensor size or stride is not a non-negative integer");
        t.stride[d] = (int64_t)s;
        any |= s != 0;
        if (__builtin_mul_overflow(numel, t.shape[d], &numel))
            numel = UINT64_MAX;
    }
    if (!any && numel > 1) {
        snprintf(m, sizeof m, "tensor '%.100s' is an expanded view (every stride 0)", w->name);
        return fail(ts, w->err, CKPT_E_UNSUPPORTED, call->offset, m);
    }
    unsigned bits = ckpt_dtype_bits(pid.dtype);
    if (__builtin_mul_overflow(off, (uint64_t)(bits / 8), &t.offset))
        return fail(ts, w->err, CKPT_E_FORMAT, call->offset, "tensor storage offset overflows");
    rc = w->fn(w->user, ts, &pid, &t.source, w->err);
    if (rc)
        return rc;
    return ckpt_ts_add_tensor(ts, &t, w->len, w->err);
}

static int add_scalar(struct walk *w, const struct ckpt_pv *v)
{
    char buf[64];
    const char *s = buf;
    size_t n;
    switch (v->kind) {
    case CKPT_PV_INT:
        n = (size_t)snprintf(buf, sizeof buf, "%lld", (long long)v->i);
        break;
    case CKPT_PV_BOOL:
        s = v->i ? "true" : "false";
        n = strlen(s);
        break;
    case CKPT_PV_FLOAT:
        n = (size_t)snprintf(buf, sizeof buf, "%.17g", v->f);
        break;
    case CKPT_PV_STR:
        if (v->len > w->ts->limits->max_string_len)
            return CKPT_OK;
        s = v->s;
        n = v->len;
        break;
    case CKPT_PV_BIGINT:
        if (!v->text)
            return CKPT_OK;
        s = v->s;
        n = v->len;
        break;
    default:
        return CKPT_OK;
    }
    return ckpt_ts_add_meta(w->ts, w->name, w->len, s, n, w->err);
}

static int walk_dict(struct walk *w, const struct ckpt_pv *d, int depth)
{
    if (depth > MAX_NEST)
        return ckpt_error_setf(w->err, CKPT_E_LIMIT, ckpt_ts_name(w->ts),
                               "pickle: dicts nested deeper than %d (byte %llu)", MAX_NEST,
                               (unsigned long long)d->offset);
    size_t base = w->len;
    for (size_t i = 0; i < d->nkv; i++) {
        if (++w->visits > w->budget)
            return ckpt_error_setf(w->err, CKPT_E_LIMIT, ckpt_ts_name(w->ts),
                                   "pickle: more than %llu dict entries to walk (shared dicts "
                                   "repeated too often)",
                                   (unsigned long long)w->budget);
        const struct ckpt_pv *k = d->kv[2 * i], *v = d->kv[2 * i + 1];
        if (k->kind != CKPT_PV_STR)
            continue;
        int rc;
        const struct ckpt_pv *tc = tensor_call(v);
        if (tc) {
            if ((rc = name_push(w, k->s, k->len, 0)) || (rc = add_tensor(w, tc)))
                return rc;
        } else if (is_dict(v)) {
            if (depth == 0 && ckpt_pv_is_str(k, "state_dict"))
                rc = walk_dict(w, v, depth + 1);
            else if (!(rc = name_push(w, k->s, k->len, 1)))
                rc = walk_dict(w, v, depth + 1);
            if (rc)
                return rc;
        } else {
            if ((rc = name_push(w, k->s, k->len, 0)) || (rc = add_scalar(w, v)))
                return rc;
        }
        w->len = base;
        if (w->name)
            w->name[base] = '\0';
    }
    return CKPT_OK;
}

int torch_collect(struct ckpt_tensorset *ts, const struct ckpt_pv *root, torch_storage_fn fn,
                  void *user, struct ckpt_error *err)
{
    if (!is_dict(root))
        return CKPT_OK;
    struct walk w = {.ts = ts, .fn = fn, .user = user, .err = err};
    w.budget = ts->limits->pickle_max_ops;
    int rc = name_push(&w, "", 0, 0);
    if (rc == CKPT_OK)
        rc = walk_dict(&w, root, 0);
    free(w.name);
    return rc;
}
