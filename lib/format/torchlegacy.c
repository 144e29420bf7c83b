/* The legacy torch reader (torch < 1.6, or torch.save(..., _use_new_zipfile_serialization=False)):
 * five pickles in a row, then the raw storages.
 *
 *   pickle 1  the magic number, exactly the int 0x1950a86a20f9469cfc6c
 *   pickle 2  the protocol version, 1001
 *   pickle 3  sys_info: a dict whose little_endian must be true
 *   pickle 4  the object; persistent ids ('storage', type, key, location, numel, view_metadata)
 *   pickle 5  the list of storage keys, in the order their data follows
 *   then, for each key: an 8-byte little-endian element count, then count * element size bytes
 *
 * Every pickle goes through the restricted machine; the element count of each storage must
 * equal the numel its persistent ids declare, the storages must end exactly at the end of the
 * file, and every key must be both listed and used. A file whose first pickle is not the magic
 * number is a plain pickle with no tensor storage: refused as such (the safety checker judges
 * those files). Pickles are read through a window that doubles until the pickle fits, so only
 * the pickles (and 8 bytes per storage) are read, never the tensor data.
 * Not for the zip format (torchzip.c) nor for tensor rebuilding (torchpickle.c). */
#include <stdlib.h>
#include <string.h>

#include "torchpickle.h"

static const unsigned char magic_le[10] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9,
                                           0x20, 0x6a, 0xa8, 0x50, 0x19};

struct lstorage {
    const char *key;
    size_t key_len;
    enum ckpt_dtype dtype;
    uint64_t numel;
    uint32_t source; /* valid once has_data */
    int has_data;
};

struct legacy {
    struct ckpt_pickle *pk;
    struct lstorage *st;
    size_t n, cap;
    uint32_t *index; /* open addressing, st index + 1 */
    size_t index_cap;
};

static void legacy_free(void *v)
{
    struct legacy *l = v;
    if (!l)
        return;
    ckpt_pickle_free(l->pk);
    free(l->st);
    free(l->index);
    free(l);
}

static uint64_t khash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

static struct lstorage *find(struct legacy *l, const char *k, size_t n)
{
    if (!l->index_cap)
        return NULL;
    size_t h = (size_t)khash(k, n) & (l->index_cap - 1);
    while (l->index[h]) {
        struct lstorage *s = &l->st[l->index[h] - 1];
        if (s->key_len == n && memcmp(s->key, k, n) == 0)
            return s;
        h = (h + 1) & (l->index_cap - 1);
    }
    return NULL;
}

static int add_storage(struct legacy *l, const struct torch_pid *pid)
{
    if (l->n + 1 > l->index_cap / 2) {
        size_t c = l->index_cap ? l->index_cap * 2 : 64;
        uint32_t *ni = calloc(c, sizeof *ni);
        struct lstorage *ns = realloc(l->st, c * sizeof *ns);
        if (!ni || !ns) {
            free(ni);
            if (ns)
                l->st = ns;
            return CKPT_E_NOMEM;
        }
        l->st = ns;
        for (size_t i = 0; i < l->n; i++) {
            size_t h = (size_t)khash(ns[i].key, ns[i].key_len) & (c - 1);
            while (ni[h])
                h = (h + 1) & (c - 1);
            ni[h] = (uint32_t)(i + 1);
        }
        free(l->index);
        l->index = ni;
        l->index_cap = c;
    }
    struct lstorage *s = &l->st[l->n];
    memset(s, 0, sizeof *s);
    s->key = pid->key;
    s->key_len = pid->key_len;
    s->dtype = pid->dtype;
    s->numel = pid->numel;
    size_t h = (size_t)khash(s->key, s->key_len) & (l->index_cap - 1);
    while (l->index[h])
        h = (h + 1) & (l->index_cap - 1);
    l->index[h] = (uint32_t)(++l->n);
    return CKPT_OK;
}

/* Runs the pickle starting at *pos, growing the read window until it fits. */
static int next_pickle(struct ckpt_tensorset *ts, struct ckpt_reader *r, struct legacy *l,
                       uint64_t *pos, const struct ckpt_pv **out, struct ckpt_error *err)
{
    uint64_t size = ckpt_reader_size(r);
    uint64_t win = 64 * 1024;
    for (;;) {
        uint64_t avail = size - *pos;
        uint64_t n = avail < win ? avail : win;
        if (n > ts->limits->pickle_max_bytes)
            n = ts->limits->pickle_max_bytes;
        unsigned char *buf = malloc(n ? (size_t)n : 1);
        if (!buf)
            return ckpt_error_setf(err, CKPT_E_NOMEM, ckpt_ts_name(ts), "out of memory");
        int rc = ckpt_reader_read(r, *pos, buf, (size_t)n, "legacy pickle", err);
        size_t used = 0;
        if (rc == CKPT_OK)
            rc = ckpt_pickle_load(l->pk, buf, (size_t)n, *pos, 0, out, &used, err);
        free(buf);
        if (rc == CKPT_OK) {
            *pos += used;
            ts->header_bytes += used;
            return CKPT_OK;
        }
        if (!ckpt_pickle_truncated(l->pk) || n == avail || n >= ts->limits->pickle_max_bytes)
            return rc;
        win *= 4;
    }
}

static int is_magic(const struct ckpt_pv *v)
{
    if (!v || v->kind != CKPT_PV_BIGINT)
        return 0;
    if (v->text)
        return v->len == 24 && memcmp(v->s, "119547037146038801333356", 24) == 0;
    return v->len == 10 && memcmp(v->s, magic_le, 10) == 0;
}

static int storage_source(void *user, struct ckpt_tensorset *ts, const struct torch_pid *pid,
                          uint32_t *source, struct ckpt_error *err)
{
    struct legacy *l = user;
    struct lstorage *s = find(l, pid->key, pid->key_len);
    if (!s || !s->has_data)
        return ckpt_error_setf(err, CKPT_E_FORMAT, ckpt_ts_name(ts),
                               "pickle: storage '%.100s' has no data in the file (byte %llu)",
                               pid->key, (unsigned long long)pid->offset);
    if (!pid->is_view) {
        *source = s->source;
        return CKPT_OK;
    }
    /* a view: a source of its own over part of the root storage */
    const struct ckpt_source *root = ckpt_tensorset_source(ts, s->source);
    uint64_t es = ckpt_dtype_bits(pid->dtype) / 8, off, len;
    if (__builtin_mul_overflow(pid->view_offset, es, &off) ||
        __builtin_mul_overflow(pid->view_numel, es, &len) || off > root->size ||
        len > root->size - off)
        return ckpt_error_setf(err, CKPT_E_FORMAT, ckpt_ts_name(ts),
                               "pickle: storage view lies outside storage '%.100s' (byte %llu)",
                               pid->key, (unsigned long long)pid->offset);
    return ckpt_ts_add_source(ts, NULL, NULL, root->file_offset + off, len, 0, source, err);
}

static int collect_storages(struct ckpt_tensorset *ts, struct legacy *l, size_t first_pid,
                            struct ckpt_error *err)
{
    const char *fname = ckpt_ts_name(ts);
    size_t np = ckpt_pickle_persid_count(l->pk);
    for (size_t i = first_pid; i < np; i++) {
        struct torch_pid pid;
        int rc = torch_parse_pid(ts, ckpt_pickle_persid(l->pk, i), &pid, err);
        if (rc)
            return rc;
        struct lstorage *s = find(l, pid.key, pid.key_len);
        if (s) {
            if (s->dtype != pid.dtype || s->numel != pid.numel)
                return ckpt_error_setf(err, CKPT_E_FORMAT, fname,
                                       "pickle: storage '%.100s' is declared twice with different "
                                       "types or sizes (byte %llu)",
                                       pid.key, (unsigned long long)pid.offset);
            continue;
        }
        if (l->n >= ts->limits->max_tensors)
            return ckpt_error_setf(err, CKPT_E_LIMIT, fname, "more than %llu storages",
                                   (unsigned long long)ts->limits->max_tensors);
        if (add_storage(l, &pid))
            return ckpt_error_setf(err, CKPT_E_NOMEM, fname, "out of memory");
    }
    return CKPT_OK;
}

int ckpt_torchlegacy_parse(struct ckpt_tensorset *ts, struct ckpt_reader *r, struct ckpt_error *err)
{
    const char *fname = ckpt_ts_name(ts);
    ts->format = CKPT_FMT_TORCH_LEGACY;
    struct legacy *l = calloc(1, sizeof *l);
    if (!l)
        return ckpt_error_setf(err, CKPT_E_NOMEM, fname, "out of memory");
    ts->parser_state = l;
    ts->parser_free = legacy_free;
    int rc = ckpt_pickle_new(&l->pk, ts->limits, fname, err);
    if (rc)
        return rc;
    uint64_t pos = 0, size = ckpt_reader_size(r);
    const struct ckpt_pv *v, *obj, *keys;
    if ((rc = next_pickle(ts, r, l, &pos, &v, err)))
        return rc;
    if (!is_magic(v))
        return ckpt_error_setf(err, CKPT_E_UNSUPPORTED, fname,
                               "a plain pickle with no tensor storage (not a torch checkpoint: "
                               "its first pickle is not torch's magic number)");
    if ((rc = next_pickle(ts, r, l, &pos, &v, err)))
        return rc;
    if (v->kind != CKPT_PV_INT || v->i != 1001)
        return ckpt_error_setf(err, CKPT_E_FORMAT, fname,
                               "legacy torch file: protocol version is not 1001 (byte %llu)",
                               (unsigned long long)v->offset);
    if ((rc = next_pickle(ts, r, l, &pos, &v, err)))
        return rc;
    int little = -1;
    if (v->kind == CKPT_PV_DICT)
        for (size_t i = 0; i < v->nkv; i++)
            if (ckpt_pv_is_str(v->kv[2 * i], "little_endian") &&
                v->kv[2 * i + 1]->kind == CKPT_PV_BOOL)
                little = (int)v->kv[2 * i + 1]->i;
    if (little < 0)
        return ckpt_error_setf(err, CKPT_E_FORMAT, fname,
                               "legacy torch file: sys_info has no little_endian flag (byte %llu)",
                               (unsigned long long)v->offset);
    if (!little)
        return ckpt_error_setf(err, CKPT_E_UNSUPPORTED, fname,
                               "big-endian storages (legacy sys_info says little_endian=False)");
    size_t first_pid = ckpt_pickle_persid_count(l->pk);
    if ((rc = next_pickle(ts, r, l, &pos, &obj, err)))
        return rc;
    if ((rc = collect_storages(ts, l, first_pid, err)))
        return rc;
    size_t after_obj = ckpt_pickle_persid_count(l->pk);
    if ((rc = next_pickle(ts, r, l, &pos, &keys, err)))
        return rc;
    if (keys->kind != CKPT_PV_LIST || ckpt_pickle_persid_count(l->pk) != after_obj)
        return ckpt_error_setf(err, CKPT_E_FORMAT, fname,
                               "legacy torch file: the storage key list is not a list of "
                               "strings (byte %llu)",
                               (unsigned long long)keys->offset);
    for (size_t i = 0; i < keys->n; i++) {
        const struct ckpt_pv *k = keys->items[i];
        struct lstorage *s = k->kind == CKPT_PV_STR ? find(l, k->s, k->len) : NULL;
        if (!s || s->has_data)
            return ckpt_error_setf(err, CKPT_E_FORMAT, fname,
                                   "legacy torch file: storage key %zu of the key list is %s "
                                   "(byte %llu)",
                                   i, !s ? "not a storage the object uses" : "listed twice",
                                   (unsigned long long)k->offset);
        unsigned char hb[8];
        if ((rc = ckpt_reader_read(r, pos, hb, 8, "storage size", err)))
            return rc;
        uint64_t count = 0;
        for (int b = 7; b >= 0; b--)
            count = (count << 8) | hb[b];
        uint64_t bytes;
        if (count != s->numel ||
            __builtin_mul_overflow(count, (uint64_t)(ckpt_dtype_bits(s->dtype) / 8), &bytes))
            return ckpt_error_setf(err, CKPT_E_FORMAT, fname,
                                   "storage '%.100s' at byte %llu holds %llu elements but the "
                                   "pickle declares %llu",
                                   s->key, (unsigned long long)pos, (unsigned long long)count,
                                   (unsigned long long)s->numel);
        if (bytes > size - pos - 8)
            return ckpt_error_setf(err, CKPT_E_FORMAT, fname,
                                   "storage '%.100s' (%llu bytes at byte %llu) runs past the end "
                                   "of the file (%llu bytes)",
                                   s->key, (unsigned long long)bytes, (unsigned long long)(pos + 8),
                                   (unsigned long long)size);
        if ((rc = ckpt_ts_add_source(ts, NULL, NULL, pos + 8, bytes, 0, &s->source, err)))
            return rc;
        s->has_data = 1;
        ts->header_bytes += 8;
        pos += 8 + bytes;
    }
    if (pos != size)
        return ckpt_error_setf(err, CKPT_E_FORMAT, fname,
                               "%llu bytes after the last storage (byte %llu)",
                               (unsigned long long)(size - pos), (unsigned long long)pos);
    return torch_collect(ts, obj, storage_source, l, err);
}
