/* The torch zip checkpoint reader (torch.save since 1.6): the archive layout, data.pkl through
 * the restricted pickle machine, and one source per storage record.
 *
 * Layout rules (as torch's reader, plus refusing what torch would silently ignore):
 *  - the archive folder is everything before the first '/' of the first member (torch writes
 *    the output's base name when saving to a path and "archive" through a file object);
 *  - every member lies in that folder and is one of data.pkl, version, byteorder,
 *    .format_version, .storage_alignment, data/<key>, .data/<anything>; code/ or constants.pkl
 *    mean a TorchScript archive (refused as unsupported); anything else is refused by name;
 *  - byteorder "big" is refused (storages would need byte swapping), absent means little;
 *  - each persistent id's key must name a data/<key> record whose size is exactly the storage's
 *    element count times its element size.
 * Only the directory, the local headers, data.pkl and the two tiny text records are read at
 * open; storages are read on demand (stored: a slice of the file; deflated: inflated, bounded).
 * Not for the pickle opcodes (pickle.c), tensor rebuilding (torchpickle.c) or the zip
 * structure (zip.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckptdb/zip.h"
#include "torchpickle.h"

struct tz {
    struct ckpt_zip *zip;
    struct ckpt_pickle *pk;
    char *prefix; /* "<folder>/" */
    size_t prefix_len;
    uint32_t *src;          /* per member: source index + 1, or 0 */
    enum ckpt_dtype *dtype; /* per member: the dtype its storage was first used with */
    char *scratch;
    size_t scratch_cap;
};

static void tz_free(void *v)
{
    struct tz *t = v;
    if (!t)
        return;
    ckpt_zip_close(t->zip);
    ckpt_pickle_free(t->pk);
    free(t->prefix);
    free(t->src);
    free(t->dtype);
    free(t->scratch);
    free(t);
}

static int open_source(struct ckpt_tensorset *ts, uint32_t idx, struct ckpt_reader **out,
                       struct ckpt_error *err)
{
    struct tz *t = ts->parser_state;
    struct ts_source *s = &ts->sources[idx];
    const struct ckpt_zip_member *m = s->parser_data;
    if (m->method == CKPT_ZIP_STORED)
        return ckpt_zip_open_member(t->zip, m, out, err);
    void *buf;
    size_t len;
    int rc = ckpt_zip_read(t->zip, m, ts->limits->zip_max_inflate, &buf, &len, err);
    if (rc)
        return rc;
    rc = ckpt_reader_open_memory(out, buf, len, m->name, err);
    if (rc) {
        free(buf);
        return rc;
    }
    s->owned_bytes = buf;
    return CKPT_OK;
}

static int storage_source(void *user, struct ckpt_tensorset *ts, const struct torch_pid *pid,
                          uint32_t *source, struct ckpt_error *err)
{
    struct tz *t = user;
    const char *fname = ckpt_ts_name(ts);
    if (pid->is_view)
        return ckpt_error_setf(err, CKPT_E_FORMAT, fname,
                               "pickle: storage views belong to the legacy format, not a zip "
                               "archive (byte %llu)",
                               (unsigned long long)pid->offset);
    size_t need = t->prefix_len + 5 + pid->key_len + 1;
    if (need > t->scratch_cap) {
        char *q = realloc(t->scratch, need);
        if (!q)
            return ckpt_error_setf(err, CKPT_E_NOMEM, fname, "out of memory");
        t->scratch = q;
        t->scratch_cap = need;
    }
    memcpy(t->scratch, t->prefix, t->prefix_len);
    memcpy(t->scratch + t->prefix_len, "data/", 5);
    memcpy(t->scratch + t->prefix_len + 5, pid->key, pid->key_len);
    t->scratch[need - 1] = '\0';
    const struct ckpt_zip_member *m =
        memchr(pid->key, '\0', pid->key_len) ? NULL : ckpt_zip_find(t->zip, t->scratch);
    if (!m)
        return ckpt_error_setf(err, CKPT_E_FORMAT, fname,
                               "pickle: persistent id names storage '%.100s' but the archive has "
                               "no record '%.200s' (byte %llu)",
                               pid->key, t->scratch, (unsigned long long)pid->offset);
    size_t mi = (size_t)(m - ckpt_zip_member(t->zip, 0));
    uint64_t bytes;
    if (__builtin_mul_overflow(pid->numel, (uint64_t)(ckpt_dtype_bits(pid->dtype) / 8), &bytes) ||
        bytes != m->usize)
        return ckpt_error_setf(err, CKPT_E_FORMAT, fname,
                               "storage '%.200s' holds %llu bytes but the pickle declares %llu "
                               "elements of %s (byte %llu)",
                               m->name, (unsigned long long)m->usize,
                               (unsigned long long)pid->numel, ckpt_dtype_name(pid->dtype),
                               (unsigned long long)pid->offset);
    if (t->src[mi]) {
        if (t->dtype[mi] != pid->dtype)
            return ckpt_error_setf(err, CKPT_E_FORMAT, fname,
                                   "storage '%.200s' is used as both %s and %s (byte %llu)",
                                   m->name, ckpt_dtype_name(t->dtype[mi]),
                                   ckpt_dtype_name(pid->dtype), (unsigned long long)pid->offset);
        *source = t->src[mi] - 1;
        return CKPT_OK;
    }
    int deflated = m->method != CKPT_ZIP_STORED;
    uint32_t idx;
    int rc = ckpt_ts_add_source(ts, NULL, m->name, deflated ? 0 : m->data_offset, m->usize,
                                deflated, &idx, err);
    if (rc)
        return rc;
    ts->sources[idx].parser_data = (void *)m;
    t->src[mi] = idx + 1;
    t->dtype[mi] = pid->dtype;
    *source = idx;
    return CKPT_OK;
}

/* Reads a tiny text record (version, byteorder) into buf, without a trailing newline. */
static int small_record(struct tz *t, struct ckpt_tensorset *ts, const char *rec, char *buf,
                        size_t cap, int *found, struct ckpt_error *err)
{
    *found = 0;
    char name[512];
    snprintf(name, sizeof name, "%s%s", t->prefix, rec);
    const struct ckpt_zip_member *m = ckpt_zip_find(t->zip, name);
    if (!m)
        return CKPT_OK;
    if (m->usize >= cap)
        return ckpt_error_setf(err, CKPT_E_FORMAT, ckpt_ts_name(ts),
                               "torch archive record '%s' is %llu bytes, too long", name,
                               (unsigned long long)m->usize);
    void *data;
    size_t len;
    int rc = ckpt_zip_read(t->zip, m, cap, &data, &len, err);
    if (rc)
        return rc;
    memcpy(buf, data, len);
    free(data);
    while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
        len--;
    buf[len] = '\0';
    if (memchr(buf, '\0', len))
        return ckpt_error_setf(err, CKPT_E_FORMAT, ckpt_ts_name(ts),
                               "torch archive record '%s' contains a NUL byte", name);
    *found = 1;
    return CKPT_OK;
}

static int check_members(struct tz *t, struct ckpt_tensorset *ts, struct ckpt_error *err)
{
    const char *fname = ckpt_ts_name(ts);
    size_t n = ckpt_zip_count(t->zip);
    for (size_t i = 0; i < n; i++) {
        const struct ckpt_zip_member *m = ckpt_zip_member(t->zip, i);
        if (m->name_len < t->prefix_len || memcmp(m->name, t->prefix, t->prefix_len) != 0)
            return ckpt_error_setf(err, CKPT_E_FORMAT, fname,
                                   "torch archive member '%.200s' is outside the archive folder "
                                   "'%.*s'",
                                   m->name, (int)(t->prefix_len - 1), t->prefix);
        const char *r = m->name + t->prefix_len;
        if (strcmp(r, "constants.pkl") == 0 || strncmp(r, "code/", 5) == 0)
            return ckpt_error_setf(err, CKPT_E_UNSUPPORTED, fname,
                                   "a TorchScript archive (torch.jit.save), not a torch.save "
                                   "checkpoint");
        int ok = strcmp(r, "data.pkl") == 0 || strcmp(r, "version") == 0 ||
                 strcmp(r, "byteorder") == 0 || strcmp(r, ".format_version") == 0 ||
                 strcmp(r, ".storage_alignment") == 0 || (strncmp(r, ".data/", 6) == 0 && r[6]) ||
                 (strncmp(r, "data/", 5) == 0 && r[5] && !strchr(r + 5, '/'));
        if (!ok)
            return ckpt_error_setf(err, CKPT_E_FORMAT, fname,
                                   "unexpected member '%.200s' in a torch archive", m->name);
    }
    return CKPT_OK;
}

int ckpt_torchzip_parse(struct ckpt_tensorset *ts, struct ckpt_reader *r, struct ckpt_error *err)
{
    const char *fname = ckpt_ts_name(ts);
    ts->format = CKPT_FMT_TORCH_ZIP;
    struct tz *t = calloc(1, sizeof *t);
    if (!t)
        return ckpt_error_setf(err, CKPT_E_NOMEM, fname, "out of memory");
    ts->parser_state = t;
    ts->parser_free = tz_free;
    int rc = ckpt_zip_open(&t->zip, r, ts->limits, err);
    if (rc)
        return rc;
    size_t n = ckpt_zip_count(t->zip);
    if (n == 0)
        return ckpt_error_setf(err, CKPT_E_FORMAT, fname, "an empty zip archive");
    const struct ckpt_zip_member *first = ckpt_zip_member(t->zip, 0);
    const char *slash = memchr(first->name, '/', first->name_len);
    if (!slash || slash == first->name)
        return ckpt_error_setf(err, CKPT_E_FORMAT, fname,
                               "zip member '%.200s' is not inside a folder (a torch archive keeps "
                               "every record under one folder)",
                               first->name);
    t->prefix_len = (size_t)(slash - first->name) + 1;
    t->prefix = strndup(first->name, t->prefix_len);
    t->src = calloc(n, sizeof *t->src);
    t->dtype = calloc(n, sizeof *t->dtype);
    if (!t->prefix || !t->src || !t->dtype)
        return ckpt_error_setf(err, CKPT_E_NOMEM, fname, "out of memory");
    if ((rc = check_members(t, ts, err)))
        return rc;
    char buf[64];
    int found;
    if ((rc = small_record(t, ts, "byteorder", buf, sizeof buf, &found, err)))
        return rc;
    if (found && strcmp(buf, "big") == 0)
        return ckpt_error_setf(err, CKPT_E_UNSUPPORTED, fname,
                               "big-endian storages (byteorder record says 'big')");
    if (found && strcmp(buf, "little") != 0)
        return ckpt_error_setf(err, CKPT_E_FORMAT, fname,
                               "byteorder record says '%.20s' (expected 'little' or 'big')", buf);
    if ((rc = small_record(t, ts, "version", buf, sizeof buf, &found, err)))
        return rc;
    if (found && (buf[0] == '\0' || strspn(buf, "0123456789") != strlen(buf)))
        return ckpt_error_setf(err, CKPT_E_FORMAT, fname, "version record '%.20s' is not a number",
                               buf);
    char pkl[600];
    snprintf(pkl, sizeof pkl, "%sdata.pkl", t->prefix);
    const struct ckpt_zip_member *pm = ckpt_zip_find(t->zip, pkl);
    if (!pm)
        return ckpt_error_setf(err, CKPT_E_FORMAT, fname,
                               "torch archive has no '%.200s' record (the pickle)", pkl);
    void *data;
    size_t len;
    if ((rc = ckpt_zip_read(t->zip, pm, ts->limits->pickle_max_bytes, &data, &len, err)))
        return rc;
    ts->header_bytes = ckpt_zip_structure_bytes(t->zip) + pm->csize;
    rc = ckpt_pickle_new(&t->pk, ts->limits, fname, err);
    const struct ckpt_pv *root = NULL;
    if (rc == CKPT_OK)
        rc = ckpt_pickle_load(t->pk, data, len, pm->method == CKPT_ZIP_STORED ? pm->data_offset : 0,
                              1, &root, NULL, err);
    free(data);
    if (rc)
        return rc;
    ts->open_source = open_source;
    return torch_collect(ts, root, storage_source, t, err);
}
