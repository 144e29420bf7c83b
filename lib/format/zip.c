/* The zip reader: our own parser of the central directory, for torch's zip checkpoints.
 *
 * What it checks, so that every reader of the same bytes sees the same members:
 *  - the end-of-central-directory record is searched only in the last 64 KiB + 22 bytes and
 *    must end the file exactly (its comment reaches the last byte); ZIP64 locator and record are
 *    used when present or needed; one disk only;
 *  - the central directory ends where the end records begin, and the first local header is at
 *    byte 0 (no prepended data);
 *  - names: not empty, no NUL, no backslash, no leading '/', no ".." component, no drive letter,
 *    no duplicates;
 *  - flags: encryption (bits 0, 6), patched data (5) and masked directory (13) are refused; bit 3
 *    (data descriptor) is accepted because torch.save writes it on every member (with CRC and
 *    sizes 0 in the local header): sizes and CRC come from the central directory, and local
 *    values, when not 0, must agree with it;
 *  - every local header: signature, flags, method and name equal to the central ones;
 *  - members (local header through data) do not overlap each other or the central directory;
 *  - methods: stored and deflate only; inflating is bounded by size and ratio limits and checks
 *    the CRC-32.
 * Not for writing zips (tools/st2torch.c writes its own) nor for knowing what torch puts inside
 * (torchzip.c). */
#include "ckptdb/zip.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define EOCD_SIZE 22u
#define EOCD64_LOC_SIZE 20u
#define EOCD64_MIN 56u
#define CDH_SIZE 46u
#define LFH_SIZE 30u
#define MAX_COMMENT 65535u

struct ckpt_zip {
    struct ckpt_reader *r;
    const struct ckpt_limits *lim;
    const char *fname;
    struct ckpt_zip_member *m;
    size_t n;
    char *names;     /* all names, NUL-separated */
    uint32_t *index; /* open addressing over m, value = i + 1 */
    size_t index_cap;
    uint64_t structure_bytes;
    int survey; /* record soft failures as anomalies instead of refusing the archive */
    struct ckpt_zip_anomaly *anom;
    size_t nanom, capanom, anom_total;
};

/* A check that survey mode turns into an anomaly: in strict mode the error (code, message);
 * in survey mode the anomaly is recorded and CKPT_OK returned, so the caller continues. */
__attribute__((format(printf, 7, 8))) static int soft(struct ckpt_zip *z, int code,
                                                      enum ckpt_zip_anomaly_kind kind,
                                                      const char *member, uint64_t where,
                                                      struct ckpt_error *err, const char *fmt, ...)
{
    char msg[CKPT_ZIP_ANOMALY_MSG];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!z->survey)
        return ckpt_error_setf(err, code, z->fname, "%s", msg);
    z->anom_total++;
    if (z->nanom >= CKPT_ZIP_MAX_ANOMALIES)
        return CKPT_OK;
    if (z->nanom == z->capanom) {
        size_t c = z->capanom ? z->capanom * 2 : 8;
        struct ckpt_zip_anomaly *q = realloc(z->anom, c * sizeof *q);
        if (!q)
            return ckpt_error_setf(err, CKPT_E_NOMEM, z->fname, "out of memory");
        z->anom = q;
        z->capanom = c;
    }
    struct ckpt_zip_anomaly *a = &z->anom[z->nanom++];
    a->kind = kind;
    a->member = member;
    a->offset = where;
    memcpy(a->msg, msg, sizeof msg);
    return CKPT_OK;
}

static uint16_t le16(const unsigned char *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static uint64_t le64(const unsigned char *p)
{
    return (uint64_t)le32(p) | ((uint64_t)le32(p + 4) << 32);
}

static uint64_t hash_name(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

/* Finds the EOCD; on success *eocd_off is its offset and eocd[] its 22 bytes. */
static int find_eocd(struct ckpt_zip *z, uint64_t size, uint64_t *eocd_off,
                     unsigned char eocd[EOCD_SIZE], struct ckpt_error *err)
{
    if (size < EOCD_SIZE)
        return ckpt_error_setf(err, CKPT_E_FORMAT, z->fname,
                               "zip: %llu bytes is too small to hold an end-of-directory record",
                               (unsigned long long)size);
    uint64_t tail = size < EOCD_SIZE + MAX_COMMENT ? size : EOCD_SIZE + MAX_COMMENT;
    unsigned char *buf = malloc((size_t)tail);
    if (!buf)
        return ckpt_error_setf(err, CKPT_E_NOMEM, z->fname, "out of memory");
    int rc = ckpt_reader_read(z->r, size - tail, buf, (size_t)tail, "zip end record", err);
    if (rc) {
        free(buf);
        return rc;
    }
    for (uint64_t i = tail - EOCD_SIZE + 1; i-- > 0;) {
        const unsigned char *p = buf + i;
        if (p[0] != 'P' || p[1] != 'K' || p[2] != 5 || p[3] != 6)
            continue;
        uint16_t clen = le16(p + 20);
        if (i + EOCD_SIZE + clen != tail)
            continue; /* the comment must end the file */
        memcpy(eocd, p, EOCD_SIZE);
        *eocd_off = size - tail + i;
        free(buf);
        return CKPT_OK;
    }
    free(buf);
    return ckpt_error_setf(err, CKPT_E_FORMAT, z->fname,
                           "zip: no end-of-central-directory record ending the file (truncated, "
                           "or data appended after the archive)");
}

static int check_name(struct ckpt_zip *z, const char *s, size_t n, uint64_t where,
                      struct ckpt_error *err)
{
    const char *why = NULL;
    if (n == 0)
        why = "is empty";
    else if (memchr(s, '\0', n))
        why = "contains a NUL byte";
    else if (memchr(s, '\\', n))
        why = "contains a backslash";
    else if (s[0] == '/')
        why = "is an absolute path";
    else if (n >= 2 && s[1] == ':')
        why = "starts with a drive letter";
    else {
        size_t i = 0;
        while (i <= n) {
            size_t j = i;
            while (j < n && s[j] != '/')
                j++;
            if (j - i == 2 && s[i] == '.' && s[i + 1] == '.') {
                why = "contains a '..' component";
                break;
            }
            i = j + 1;
        }
    }
    if (why)
        return soft(z, CKPT_E_FORMAT, CKPT_ZIP_BAD_NAME, NULL, where, err,
                    "zip: member name '%.*s' %s", (int)(n > 200 ? 200 : n), s, why);
    return CKPT_OK;
}

/* ZIP64 extended information extra field: replaces the 32-bit values that are all-ones. */
static int parse_extra(struct ckpt_zip *z, const unsigned char *x, size_t xlen,
                       struct ckpt_zip_member *m, int need_u, int need_c, int need_o, int need_d,
                       struct ckpt_error *err)
{
    int seen64 = 0;
    size_t i = 0;
    while (i < xlen) {
        if (xlen - i < 4)
            return ckpt_error_setf(err, CKPT_E_FORMAT, z->fname,
                                   "zip: member '%s': truncated extra field", m->name);
        uint16_t id = le16(x + i), sz = le16(x + i + 2);
        if (sz > xlen - i - 4)
            return ckpt_error_setf(err, CKPT_E_FORMAT, z->fname,
                                   "zip: member '%s': extra field 0x%04x runs past its end",
                                   m->name, id);
        const unsigned char *d = x + i + 4;
        if (id == 0x0001) {
            if (seen64)
                return ckpt_error_setf(err, CKPT_E_FORMAT, z->fname,
                                       "zip: member '%s': two ZIP64 extra fields", m->name);
            seen64 = 1;
            size_t k = 0;
            size_t want = 8u * (size_t)(need_u + need_c + need_o) + 4u * (size_t)need_d;
            if (sz < want)
                return ckpt_error_setf(err, CKPT_E_FORMAT, z->fname,
                                       "zip: member '%s': ZIP64 extra field of %u bytes lacks "
                                       "the values its header defers to it",
                                       m->name, sz);
            if (need_u) {
                m->usize = le64(d + k);
                k += 8;
            }
            if (need_c) {
                m->csize = le64(d + k);
                k += 8;
            }
            if (need_o) {
                m->local_offset = le64(d + k);
                k += 8;
            }
            if (need_d && le32(d + k) != 0)
                return ckpt_error_setf(err, CKPT_E_UNSUPPORTED, z->fname,
                                       "zip: member '%s' is on another disk (multi-disk archive)",
                                       m->name);
        }
        i += 4u + sz;
    }
    if ((need_u || need_c || need_o || need_d) && !seen64)
        return ckpt_error_setf(err, CKPT_E_FORMAT, z->fname,
                               "zip: member '%s' defers its sizes to a ZIP64 extra field it "
                               "does not have",
                               m->name);
    return CKPT_OK;
}

static int cmp_local(const void *a, const void *b)
{
    const struct ckpt_zip_member *x = *(const struct ckpt_zip_member *const *)a;
    const struct ckpt_zip_member *y = *(const struct ckpt_zip_member *const *)b;
    return x->local_offset < y->local_offset ? -1 : x->local_offset > y->local_offset;
}

static int index_add(struct ckpt_zip *z, size_t i, struct ckpt_error *err)
{
    const struct ckpt_zip_member *m = &z->m[i];
    size_t h = (size_t)hash_name(m->name, m->name_len) & (z->index_cap - 1);
    while (z->index[h]) {
        const struct ckpt_zip_member *o = &z->m[z->index[h] - 1];
        if (o->name_len == m->name_len && memcmp(o->name, m->name, m->name_len) == 0)
            return soft(z, CKPT_E_FORMAT, CKPT_ZIP_DUPLICATE_NAME, m->name, m->local_offset, err,
                        "zip: member name '%.200s' appears twice", m->name);
        h = (h + 1) & (z->index_cap - 1);
    }
    z->index[h] = (uint32_t)(i + 1);
    return CKPT_OK;
}

/* Read one local header and cross-check it with the central entry; sets data_offset. */
static int check_local(struct ckpt_zip *z, struct ckpt_zip_member *m, uint64_t cd_off,
                       struct ckpt_error *err)
{
    unsigned char h[LFH_SIZE];
    if (m->local_offset > cd_off || cd_off - m->local_offset < LFH_SIZE)
        return ckpt_error_setf(err, CKPT_E_FORMAT, z->fname,
                               "zip: member '%s': local header offset %llu is not before the "
                               "central directory (%llu)",
                               m->name, (unsigned long long)m->local_offset,
                               (unsigned long long)cd_off);
    int rc = ckpt_reader_read(z->r, m->local_offset, h, LFH_SIZE, "zip local header", err);
    if (rc)
        return rc;
    if (le32(h) != 0x04034b50u)
        return ckpt_error_setf(err, CKPT_E_FORMAT, z->fname,
                               "zip: member '%s': no local header signature at byte %llu", m->name,
                               (unsigned long long)m->local_offset);
    uint16_t flags = le16(h + 6), method = le16(h + 8);
    uint32_t crc = le32(h + 14), cs = le32(h + 18), us = le32(h + 22);
    uint16_t nlen = le16(h + 26), xlen = le16(h + 28);
    uint64_t lo = m->local_offset;
    if (flags != m->flags &&
        (rc = soft(z, CKPT_E_FORMAT, CKPT_ZIP_LOCAL_MISMATCH, m->name, lo, err,
                   "zip: member '%s': local flags 0x%04x differ from the central "
                   "directory's 0x%04x",
                   m->name, flags, m->flags)))
        return rc;
    if (method != m->method &&
        (rc = soft(z, CKPT_E_FORMAT, CKPT_ZIP_LOCAL_MISMATCH, m->name, lo, err,
                   "zip: member '%s': local method %u differs from the central "
                   "directory's %u",
                   m->name, method, m->method)))
        return rc;
    if (crc != 0 && crc != m->crc &&
        (rc = soft(z, CKPT_E_FORMAT, CKPT_ZIP_LOCAL_MISMATCH, m->name, lo, err,
                   "zip: member '%s': local CRC %08x differs from the central "
                   "directory's %08x",
                   m->name, crc, m->crc)))
        return rc;
    if (((cs != 0 && cs != 0xFFFFFFFFu && cs != m->csize) ||
         (us != 0 && us != 0xFFFFFFFFu && us != m->usize)) &&
        (rc = soft(z, CKPT_E_FORMAT, CKPT_ZIP_LOCAL_MISMATCH, m->name, lo, err,
                   "zip: member '%s': local sizes %u/%u differ from the central "
                   "directory's %llu/%llu",
                   m->name, cs, us, (unsigned long long)m->csize, (unsigned long long)m->usize)))
        return rc;
    if ((cs == 0 || us == 0) && !(flags & 0x0008) && (m->csize != 0 || m->usize != 0) &&
        (rc = soft(z, CKPT_E_FORMAT, CKPT_ZIP_LOCAL_MISMATCH, m->name, lo, err,
                   "zip: member '%s': local header has zero sizes without a data "
                   "descriptor",
                   m->name)))
        return rc;
    if (nlen != m->name_len &&
        (rc = soft(z, CKPT_E_FORMAT, CKPT_ZIP_NAME_MISMATCH, m->name, lo, err,
                   "zip: member '%s': local header names a different member", m->name)))
        return rc;
    uint64_t end = m->local_offset + LFH_SIZE;
    if ((uint64_t)nlen + xlen > cd_off - end)
        return ckpt_error_setf(err, CKPT_E_FORMAT, z->fname,
                               "zip: member '%s': local header runs into the central directory",
                               m->name);
    char stackbuf[512];
    char *ln = nlen <= sizeof stackbuf ? stackbuf : malloc(nlen);
    if (!ln)
        return ckpt_error_setf(err, CKPT_E_NOMEM, z->fname, "out of memory");
    rc = ckpt_reader_read(z->r, end, ln, nlen, "zip local name", err);
    int same = rc == CKPT_OK && nlen == m->name_len && memcmp(ln, m->name, nlen) == 0;
    if (ln != stackbuf)
        free(ln);
    if (rc)
        return rc;
    if (!same && nlen == m->name_len &&
        (rc = soft(z, CKPT_E_FORMAT, CKPT_ZIP_NAME_MISMATCH, m->name, lo, err,
                   "zip: member '%s': local header names a different member", m->name)))
        return rc;
    m->data_offset = end + nlen + xlen;
    if (m->csize > cd_off - m->data_offset)
        return ckpt_error_setf(err, CKPT_E_FORMAT, z->fname,
                               "zip: member '%s': its %llu bytes of data at byte %llu run into "
                               "the central directory (byte %llu)",
                               m->name, (unsigned long long)m->csize,
                               (unsigned long long)m->data_offset, (unsigned long long)cd_off);
    z->structure_bytes += LFH_SIZE + (uint64_t)nlen + xlen;
    return CKPT_OK;
}

static int parse_directory(struct ckpt_zip *z, const unsigned char *cd, uint64_t cd_size,
                           uint64_t cd_off, uint64_t count, struct ckpt_error *err)
{
    z->m = calloc(count ? (size_t)count : 1, sizeof *z->m);
    z->names = malloc((size_t)cd_size + 1);
    size_t cap = 16;
    while (cap < count * 2)
        cap *= 2;
    z->index = calloc(cap, sizeof *z->index);
    z->index_cap = cap;
    if (!z->m || !z->names || !z->index)
        return ckpt_error_setf(err, CKPT_E_NOMEM, z->fname, "out of memory");
    size_t pos = 0, npos = 0;
    for (uint64_t i = 0; i < count; i++) {
        if (cd_size - pos < CDH_SIZE)
            return ckpt_error_setf(err, CKPT_E_FORMAT, z->fname,
                                   "zip: central directory ends inside entry %llu of %llu",
                                   (unsigned long long)i, (unsigned long long)count);
        const unsigned char *h = cd + pos;
        if (le32(h) != 0x02014b50u)
            return ckpt_error_setf(err, CKPT_E_FORMAT, z->fname,
                                   "zip: bad central directory signature at byte %llu",
                                   (unsigned long long)(cd_off + pos));
        struct ckpt_zip_member *m = &z->m[i];
        m->flags = le16(h + 8);
        m->method = le16(h + 10);
        m->crc = le32(h + 16);
        uint32_t cs = le32(h + 20), us = le32(h + 24);
        uint16_t nlen = le16(h + 28), xlen = le16(h + 30), clen = le16(h + 32);
        uint16_t disk = le16(h + 34);
        uint32_t lo = le32(h + 42);
        if ((uint64_t)nlen + xlen + clen > cd_size - pos - CDH_SIZE)
            return ckpt_error_setf(err, CKPT_E_FORMAT, z->fname,
                                   "zip: central entry %llu runs past the directory's end",
                                   (unsigned long long)i);
        const char *nm = (const char *)h + CDH_SIZE;
        int rc = check_name(z, nm, nlen, lo, err);
        if (rc)
            return rc;
        memcpy(z->names + npos, nm, nlen);
        z->names[npos + nlen] = '\0';
        m->name = z->names + npos;
        m->name_len = nlen;
        npos += (size_t)nlen + 1;
        m->csize = cs;
        m->usize = us;
        m->local_offset = lo;
        rc = parse_extra(z, h + CDH_SIZE + nlen, xlen, m, us == 0xFFFFFFFFu, cs == 0xFFFFFFFFu,
                         lo == 0xFFFFFFFFu, disk == 0xFFFF, err);
        if (rc)
            return rc;
        if (disk != 0 && disk != 0xFFFF)
            return ckpt_error_setf(err, CKPT_E_UNSUPPORTED, z->fname,
                                   "zip: member '%s' is on disk %u (multi-disk archive)", m->name,
                                   disk);
        if ((m->flags & 0x0001 || m->flags & 0x0040) &&
            (rc = soft(z, CKPT_E_UNSUPPORTED, CKPT_ZIP_FLAGS, m->name, m->local_offset, err,
                       "zip: member '%s' is encrypted", m->name)))
            return rc;
        if (m->flags & 0x2020 &&
            (rc = soft(z, CKPT_E_UNSUPPORTED, CKPT_ZIP_FLAGS, m->name, m->local_offset, err,
                       "zip: member '%s' uses flags 0x%04x (patched data or masked "
                       "directory)",
                       m->name, m->flags)))
            return rc;
        if (m->method != CKPT_ZIP_STORED && m->method != CKPT_ZIP_DEFLATED &&
            (rc = soft(z, CKPT_E_UNSUPPORTED, CKPT_ZIP_METHOD, m->name, m->local_offset, err,
                       "zip: member '%s' uses compression method %u (only stored "
                       "and deflate are read)",
                       m->name, m->method)))
            return rc;
        if (m->method == CKPT_ZIP_STORED && m->csize != m->usize) {
            if ((rc = soft(z, CKPT_E_FORMAT, CKPT_ZIP_SIZE_MISMATCH, m->name, m->local_offset, err,
                           "zip: stored member '%s' has compressed size %llu but size "
                           "%llu",
                           m->name, (unsigned long long)m->csize, (unsigned long long)m->usize)))
                return rc;
            m->usize = m->csize; /* survey: read what is stored, never past it */
        }
        rc = index_add(z, (size_t)i, err);
        if (rc)
            return rc;
        pos += CDH_SIZE + (size_t)nlen + xlen + clen;
        z->n++;
    }
    if (pos != cd_size)
        return ckpt_error_setf(err, CKPT_E_FORMAT, z->fname,
                               "zip: %llu unexplained bytes at the end of the central directory",
                               (unsigned long long)(cd_size - pos));
    return CKPT_OK;
}

static int check_layout(struct ckpt_zip *z, uint64_t cd_off, struct ckpt_error *err)
{
    if (z->n == 0)
        return CKPT_OK;
    for (size_t i = 0; i < z->n; i++) {
        int rc = check_local(z, &z->m[i], cd_off, err);
        if (rc)
            return rc;
    }
    struct ckpt_zip_member **by = malloc(z->n * sizeof *by);
    if (!by)
        return ckpt_error_setf(err, CKPT_E_NOMEM, z->fname, "out of memory");
    for (size_t i = 0; i < z->n; i++)
        by[i] = &z->m[i];
    qsort(by, z->n, sizeof *by, cmp_local);
    int rc = CKPT_OK;
    if (by[0]->local_offset != 0)
        rc = soft(z, CKPT_E_FORMAT, CKPT_ZIP_PREPENDED, NULL, 0, err,
                  "zip: the first member starts at byte %llu, not 0 (data prepended "
                  "to the archive)",
                  (unsigned long long)by[0]->local_offset);
    for (size_t i = 0; rc == CKPT_OK && i + 1 < z->n; i++) {
        uint64_t end = by[i]->data_offset + by[i]->csize;
        if (end > by[i + 1]->local_offset)
            rc = soft(z, CKPT_E_FORMAT, CKPT_ZIP_OVERLAP, by[i + 1]->name, by[i + 1]->local_offset,
                      err, "zip: members '%.200s' and '%.200s' overlap (byte %llu)", by[i]->name,
                      by[i + 1]->name, (unsigned long long)by[i + 1]->local_offset);
    }
    free(by);
    return rc;
}

static int zip_open(struct ckpt_zip **out, struct ckpt_reader *r, const struct ckpt_limits *limits,
                    int survey, struct ckpt_error *err)
{
    *out = NULL;
    struct ckpt_zip *z = calloc(1, sizeof *z);
    if (!z)
        return ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
    z->r = r;
    z->survey = survey;
    z->lim = limits ? limits : ckpt_limits_defaults();
    z->fname = ckpt_reader_name(r);
    uint64_t size = ckpt_reader_size(r);
    unsigned char e[EOCD_SIZE] = {0};
    uint64_t eocd_off = 0;
    unsigned char *cd = NULL;
    int rc = find_eocd(z, size, &eocd_off, e, err);
    if (rc)
        goto fail;
    uint16_t disk = le16(e + 4), cd_disk = le16(e + 6);
    uint64_t n_disk = le16(e + 8), n_total = le16(e + 10);
    uint64_t cd_size = le32(e + 12), cd_off = le32(e + 16);
    uint64_t end_of_cd = eocd_off; /* where the central directory must end */
    z->structure_bytes = EOCD_SIZE + le16(e + 20);
    int want64 = disk == 0xFFFF || cd_disk == 0xFFFF || n_disk == 0xFFFF || n_total == 0xFFFF ||
                 cd_size == 0xFFFFFFFFu || cd_off == 0xFFFFFFFFu;
    unsigned char loc[EOCD64_LOC_SIZE];
    int have_loc = 0;
    if (eocd_off >= EOCD64_LOC_SIZE) {
        rc = ckpt_reader_read(r, eocd_off - EOCD64_LOC_SIZE, loc, EOCD64_LOC_SIZE, "zip64 locator",
                              err);
        if (rc)
            goto fail;
        have_loc = le32(loc) == 0x07064b50u;
    }
    if (want64 && !have_loc) {
        rc = ckpt_error_setf(err, CKPT_E_FORMAT, z->fname,
                             "zip: end record defers to ZIP64 but there is no ZIP64 locator");
        goto fail;
    }
    if (have_loc) {
        uint64_t rec_off = le64(loc + 8);
        uint64_t loc_off = eocd_off - EOCD64_LOC_SIZE;
        if (le32(loc + 4) != 0 || le32(loc + 16) != 1) {
            rc = ckpt_error_setf(err, CKPT_E_UNSUPPORTED, z->fname,
                                 "zip: multi-disk archive (ZIP64 locator)");
            goto fail;
        }
        if (rec_off > loc_off || loc_off - rec_off < EOCD64_MIN) {
            rc = ckpt_error_setf(err, CKPT_E_FORMAT, z->fname,
                                 "zip: ZIP64 end record offset %llu is not before its locator "
                                 "(byte %llu)",
                                 (unsigned long long)rec_off, (unsigned long long)loc_off);
            goto fail;
        }
        unsigned char r64[EOCD64_MIN];
        rc = ckpt_reader_read(r, rec_off, r64, EOCD64_MIN, "zip64 end record", err);
        if (rc)
            goto fail;
        uint64_t rec_size = le64(r64 + 4);
        if (le32(r64) != 0x06064b50u || rec_size < EOCD64_MIN - 12 ||
            rec_size != loc_off - rec_off - 12) {
            rc = ckpt_error_setf(err, CKPT_E_FORMAT, z->fname,
                                 "zip: bad ZIP64 end record at byte %llu",
                                 (unsigned long long)rec_off);
            goto fail;
        }
        if (le32(r64 + 16) != 0 || le32(r64 + 20) != 0) {
            rc = ckpt_error_setf(err, CKPT_E_UNSUPPORTED, z->fname,
                                 "zip: multi-disk archive (ZIP64 end record)");
            goto fail;
        }
        n_disk = le64(r64 + 24);
        n_total = le64(r64 + 32);
        cd_size = le64(r64 + 40);
        cd_off = le64(r64 + 48);
        end_of_cd = rec_off;
        z->structure_bytes += EOCD64_LOC_SIZE + 12 + rec_size;
    } else if (disk != 0 || cd_disk != 0) {
        rc = ckpt_error_setf(err, CKPT_E_UNSUPPORTED, z->fname, "zip: multi-disk archive");
        goto fail;
    }
    if (n_disk != n_total) {
        rc = ckpt_error_setf(err, CKPT_E_FORMAT, z->fname,
                             "zip: end record counts %llu entries on this disk but %llu in total",
                             (unsigned long long)n_disk, (unsigned long long)n_total);
        goto fail;
    }
    if (n_total > z->lim->zip_max_entries) {
        rc = ckpt_error_setf(err, CKPT_E_LIMIT, z->fname, "zip: %llu members exceed the limit %llu",
                             (unsigned long long)n_total,
                             (unsigned long long)z->lim->zip_max_entries);
        goto fail;
    }
    if (cd_off > end_of_cd || cd_size != end_of_cd - cd_off) {
        rc = ckpt_error_setf(err, CKPT_E_FORMAT, z->fname,
                             "zip: central directory (%llu bytes at %llu) does not end where the "
                             "end record begins (byte %llu)",
                             (unsigned long long)cd_size, (unsigned long long)cd_off,
                             (unsigned long long)end_of_cd);
        goto fail;
    }
    if (n_total > cd_size / CDH_SIZE) {
        rc = ckpt_error_setf(err, CKPT_E_FORMAT, z->fname,
                             "zip: %llu entries cannot fit in a %llu-byte central directory",
                             (unsigned long long)n_total, (unsigned long long)cd_size);
        goto fail;
    }
    if (cd_size > SIZE_MAX - 1) {
        rc = ckpt_error_setf(err, CKPT_E_LIMIT, z->fname, "zip: central directory too large");
        goto fail;
    }
    cd = malloc(cd_size ? (size_t)cd_size : 1);
    if (!cd) {
        rc = ckpt_error_setf(err, CKPT_E_NOMEM, z->fname, "out of memory");
        goto fail;
    }
    rc = ckpt_reader_read(r, cd_off, cd, (size_t)cd_size, "zip central directory", err);
    if (rc)
        goto fail;
    z->structure_bytes += cd_size;
    rc = parse_directory(z, cd, cd_size, cd_off, n_total, err);
    if (rc)
        goto fail;
    rc = check_layout(z, cd_off, err);
    if (rc)
        goto fail;
    free(cd);
    *out = z;
    return CKPT_OK;
fail:
    free(cd);
    ckpt_zip_close(z);
    return rc;
}

int ckpt_zip_open(struct ckpt_zip **out, struct ckpt_reader *r, const struct ckpt_limits *limits,
                  struct ckpt_error *err)
{
    return zip_open(out, r, limits, 0, err);
}

int ckpt_zip_open_survey(struct ckpt_zip **out, struct ckpt_reader *r,
                         const struct ckpt_limits *limits, struct ckpt_error *err)
{
    return zip_open(out, r, limits, 1, err);
}

size_t ckpt_zip_anomaly_count(const struct ckpt_zip *z)
{
    return z->nanom;
}

size_t ckpt_zip_anomaly_total(const struct ckpt_zip *z)
{
    return z->anom_total;
}

const struct ckpt_zip_anomaly *ckpt_zip_anomaly(const struct ckpt_zip *z, size_t i)
{
    return i < z->nanom ? &z->anom[i] : NULL;
}

int ckpt_zip_locate(struct ckpt_reader *r)
{
    struct ckpt_zip z = {0};
    z.r = r;
    z.fname = ckpt_reader_name(r);
    unsigned char e[EOCD_SIZE];
    uint64_t off;
    return find_eocd(&z, ckpt_reader_size(r), &off, e, NULL) == CKPT_OK;
}

void ckpt_zip_close(struct ckpt_zip *z)
{
    if (!z)
        return;
    free(z->anom);
    free(z->m);
    free(z->names);
    free(z->index);
    free(z);
}

size_t ckpt_zip_count(const struct ckpt_zip *z)
{
    return z->n;
}

const struct ckpt_zip_member *ckpt_zip_member(const struct ckpt_zip *z, size_t i)
{
    return i < z->n ? &z->m[i] : NULL;
}

const struct ckpt_zip_member *ckpt_zip_find(const struct ckpt_zip *z, const char *name)
{
    size_t n = strlen(name);
    size_t h = (size_t)hash_name(name, n) & (z->index_cap - 1);
    while (z->index[h]) {
        const struct ckpt_zip_member *m = &z->m[z->index[h] - 1];
        if (m->name_len == n && memcmp(m->name, name, n) == 0)
            return m;
        h = (h + 1) & (z->index_cap - 1);
    }
    return NULL;
}

uint64_t ckpt_zip_structure_bytes(const struct ckpt_zip *z)
{
    return z->structure_bytes;
}

static int inflate_member(struct ckpt_zip *z, const struct ckpt_zip_member *m, unsigned char *dst,
                          struct ckpt_error *err)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, -MAX_WBITS) != Z_OK)
        return ckpt_error_setf(err, CKPT_E_NOMEM, z->fname, "zip: cannot start inflating");
    unsigned char in[65536];
    uint64_t left = m->csize, pos = m->data_offset;
    zs.next_out = dst;
    uint64_t out_left = m->usize;
    int rc = CKPT_OK, zr = Z_OK;
    while (zr != Z_STREAM_END) {
        if (zs.avail_in == 0 && left) {
            size_t n = left < sizeof in ? (size_t)left : sizeof in;
            rc = ckpt_reader_read(z->r, pos, in, n, m->name, err);
            if (rc)
                break;
            pos += n;
            left -= n;
            zs.next_in = in;
            zs.avail_in = (uInt)n;
        }
        uInt chunk = out_left > (1u << 30) ? (1u << 30) : (uInt)out_left;
        zs.avail_out = chunk;
        zr = inflate(&zs, Z_NO_FLUSH);
        out_left -= chunk - zs.avail_out;
        if (zr == Z_STREAM_END)
            break;
        if (zr == Z_BUF_ERROR && zs.avail_in == 0 && left == 0) {
            rc = ckpt_error_setf(err, CKPT_E_FORMAT, z->fname,
                                 "zip: member '%s': deflate stream ends early", m->name);
            break;
        }
        if (zr == Z_BUF_ERROR && out_left == 0 && zs.avail_in != 0) {
            rc = ckpt_error_setf(err, CKPT_E_FORMAT, z->fname,
                                 "zip: member '%s' inflates to more than its declared %llu bytes",
                                 m->name, (unsigned long long)m->usize);
            break;
        }
        if (zr != Z_OK && zr != Z_BUF_ERROR) {
            rc = ckpt_error_setf(err, CKPT_E_FORMAT, z->fname,
                                 "zip: member '%s': corrupt deflate data (%s)", m->name,
                                 zs.msg ? zs.msg : "inflate error");
            break;
        }
    }
    if (rc == CKPT_OK && (out_left != 0 || left != 0 || zs.avail_in != 0))
        rc = ckpt_error_setf(err, CKPT_E_FORMAT, z->fname,
                             "zip: member '%s': deflate stream does not match its sizes "
                             "(%llu/%llu bytes)",
                             m->name, (unsigned long long)m->csize, (unsigned long long)m->usize);
    inflateEnd(&zs);
    return rc;
}

int ckpt_zip_read(struct ckpt_zip *z, const struct ckpt_zip_member *m, uint64_t max, void **out,
                  size_t *len, struct ckpt_error *err)
{
    *out = NULL;
    *len = 0;
    if (m->method != CKPT_ZIP_STORED && m->method != CKPT_ZIP_DEFLATED)
        return ckpt_error_setf(err, CKPT_E_UNSUPPORTED, z->fname,
                               "zip: member '%s' uses compression method %u", m->name, m->method);
    if (m->usize > max || m->usize > z->lim->zip_max_inflate || m->usize > SIZE_MAX - 1)
        return ckpt_error_setf(
            err, CKPT_E_LIMIT, z->fname,
            "zip: member '%s' of %llu bytes is larger than the %llu bytes "
            "allowed in memory",
            m->name, (unsigned long long)m->usize,
            (unsigned long long)(max < z->lim->zip_max_inflate ? max : z->lim->zip_max_inflate));
    if (m->method == CKPT_ZIP_DEFLATED && m->usize > 65536 &&
        m->usize / (m->csize ? m->csize : 1) > z->lim->zip_max_ratio)
        return ckpt_error_setf(err, CKPT_E_LIMIT, z->fname,
                               "zip: member '%s' would inflate %llu bytes to %llu (ratio above "
                               "%u: possible zip bomb)",
                               m->name, (unsigned long long)m->csize, (unsigned long long)m->usize,
                               z->lim->zip_max_ratio);
    unsigned char *buf = malloc(m->usize ? (size_t)m->usize : 1);
    if (!buf)
        return ckpt_error_setf(err, CKPT_E_NOMEM, z->fname, "out of memory");
    int rc;
    if (m->method == CKPT_ZIP_STORED)
        rc = ckpt_reader_read(z->r, m->data_offset, buf, (size_t)m->usize, m->name, err);
    else
        rc = inflate_member(z, m, buf, err);
    if (rc == CKPT_OK) {
        uLong crc = crc32(0L, Z_NULL, 0);
        uint64_t done = 0;
        while (done < m->usize) {
            uInt n = m->usize - done > (1u << 30) ? (1u << 30) : (uInt)(m->usize - done);
            crc = crc32(crc, buf + done, n);
            done += n;
        }
        if ((uint32_t)crc != m->crc)
            rc = soft(z, CKPT_E_FORMAT, CKPT_ZIP_CRC, m->name, m->local_offset, err,
                      "zip: member '%s': CRC-32 %08x does not match the directory's "
                      "%08x",
                      m->name, (unsigned)crc, m->crc);
    }
    if (rc) {
        free(buf);
        return rc;
    }
    *out = buf;
    *len = (size_t)m->usize;
    return CKPT_OK;
}

int ckpt_zip_open_member(struct ckpt_zip *z, const struct ckpt_zip_member *m,
                         struct ckpt_reader **out, struct ckpt_error *err)
{
    *out = NULL;
    if (m->method != CKPT_ZIP_STORED)
        return ckpt_error_setf(err, CKPT_E_ARG, z->fname,
                               "zip: member '%s' is compressed; read it whole", m->name);
    return ckpt_reader_open_slice(out, z->r, m->data_offset, m->csize, m->name, err);
}

int ckpt_zip_read_head(struct ckpt_zip *z, const struct ckpt_zip_member *m, void *buf, size_t n,
                       size_t *got, struct ckpt_error *err)
{
    *got = 0;
    if (m->method == CKPT_ZIP_STORED) {
        size_t k = m->csize < n ? (size_t)m->csize : n;
        int rc = ckpt_reader_read(z->r, m->data_offset, buf, k, m->name, err);
        if (rc == CKPT_OK)
            *got = k;
        return rc;
    }
    if (m->method != CKPT_ZIP_DEFLATED)
        return ckpt_error_setf(err, CKPT_E_UNSUPPORTED, z->fname,
                               "zip: member '%s' uses compression method %u", m->name, m->method);
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, -MAX_WBITS) != Z_OK)
        return ckpt_error_setf(err, CKPT_E_NOMEM, z->fname, "zip: cannot start inflating");
    unsigned char in[4096];
    uint64_t left = m->csize, pos = m->data_offset;
    zs.next_out = buf;
    zs.avail_out = (uInt)(n > (1u << 30) ? (1u << 30) : n);
    int rc = CKPT_OK;
    /* bounded: at most 64 input chunks (256 KiB of compressed data) for a head */
    for (int round = 0; round < 64 && zs.avail_out > 0; round++) {
        if (zs.avail_in == 0) {
            if (!left)
                break;
            size_t k = left < sizeof in ? (size_t)left : sizeof in;
            rc = ckpt_reader_read(z->r, pos, in, k, m->name, err);
            if (rc)
                break;
            pos += k;
            left -= k;
            zs.next_in = in;
            zs.avail_in = (uInt)k;
        }
        int zr = inflate(&zs, Z_NO_FLUSH);
        if (zr == Z_STREAM_END)
            break;
        if (zr != Z_OK && zr != Z_BUF_ERROR) {
            rc = ckpt_error_setf(err, CKPT_E_FORMAT, z->fname,
                                 "zip: member '%s': corrupt deflate data (%s)", m->name,
                                 zs.msg ? zs.msg : "inflate error");
            break;
        }
    }
    if (rc == CKPT_OK)
        *got = (size_t)((unsigned char *)zs.next_out - (unsigned char *)buf);
    inflateEnd(&zs);
    return rc;
}
