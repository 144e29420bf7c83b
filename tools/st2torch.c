/* st2torch: writes a torch checkpoint test fixture from a safetensors fixture, byte for byte the
 * way torch.save (1.13, with torch >= 2.1's byteorder record) lays it out.
 *
 * Zip layout (default): records <folder>/data.pkl, byteorder, data/<key> (one storage per
 * tensor, keys "0", "1", ... written in sorted string order as torch does), version "3\n"; every
 * record STORED, its data aligned to 64 bytes with torch's "FB" extra-field padding, local
 * headers with flags 0x0808 and zero sizes followed by data descriptors, a central directory
 * with the real sizes and CRCs, and the ZIP64 end records torch always writes (plus ZIP64 extra
 * fields on records whose size or offset needs them, as miniz does); --no-byteorder leaves the
 * byteorder record out, as torch < 2.1 does (the whole file is then byte-identical to torch
 * 1.13's). --deflate deflates the storages (torch never does; other zip tools do). --legacy writes
 * the pre-1.6 stream instead: five pickles (magic number, 1001, sys_info, the object, the storage
 * keys) then each storage as an 8-byte element count and its bytes.
 *
 * data.pkl is what CPython's C pickler emits for torch.save of a module's state_dict: an
 * OrderedDict (GLOBAL/STACK_GLOBAL + EMPTY_TUPLE + REDUCE), items in MARK/SETITEMS batches of
 * 1000, each tensor as _rebuild_tensor_v2(persistent storage id, 0, size, stride, False,
 * OrderedDict()), then BUILD with {'_metadata': OrderedDict(module prefix -> {'version': 1})}
 * (the module prefixes are derived from the tensor names); memo puts/gets as the pickler makes
 * them (strings torch interns, classes and functions are reused); protocols 4/5 use FRAMEs of
 * 64 KiB cut where the pickler cuts them. --lightning N wraps it as {'epoch': 0, 'global_step':
 * N, 'pytorch-lightning_version': '1.4.2', 'state_dict': ...}.
 *
 * Tensor bytes are copied from the input in 1 MiB chunks; all-zero chunks (and holes, found
 * with SEEK_DATA) become holes in the output, so a sparse 4 GB checkpoint costs no disk.
 * Not part of the product: a generator for tests (tests/torch/check_st2torch.py proves the
 * output against the real torch). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "ckptdb/atomic.h"
#include "ckptdb/buf.h"
#include "ckptdb/tensorset.h"

#define CHUNK (1u << 20)
#define FRAME_TARGET (64u * 1024u)
#define BATCH 1000u
#define U32MAX 0xFFFFFFFFu

static struct ckpt_error err;
static struct ckpt_atomic_file *out;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("st2torch: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    if (out)
        ckpt_atomic_abort(out);
    exit(1);
}

/* ---- pickle writer (mirrors CPython's C pickler for the objects torch.save meets) --------- */

struct pk {
    struct ckpt_buf b;
    int proto;
    long frame_start; /* offset of the reserved 9-byte FRAME header, or -1 */
    uint32_t memo_next;
    char **keys; /* memo keys of the shared objects (interned strings, classes, functions) */
    uint32_t *ids;
    size_t nkeys;
};

static void pk_commit(struct pk *p)
{
    if (p->frame_start < 0)
        return;
    size_t fs = (size_t)p->frame_start, flen = p->b.len - fs - 9;
    if (flen >= 4) {
        p->b.data[fs] = (char)0x95;
        for (int i = 0; i < 8; i++)
            p->b.data[fs + 1 + i] = (char)(unsigned char)((uint64_t)flen >> (8 * i));
    } else {
        memmove(p->b.data + fs, p->b.data + fs + 9, flen);
        p->b.len -= 9;
    }
    p->frame_start = -1;
}

/* Called where the pickler's save() starts: a frame that has reached the target is closed. */
static void pk_boundary(struct pk *p)
{
    if (p->proto >= 4 && p->frame_start >= 0 &&
        p->b.len - (size_t)p->frame_start - 9 >= FRAME_TARGET)
        pk_commit(p);
}

static void pk_raw(struct pk *p, const void *d, size_t n)
{
    if (p->proto >= 4 && p->frame_start < 0) {
        p->frame_start = (long)p->b.len;
        ckpt_buf_put(&p->b, "\0\0\0\0\0\0\0\0\0", 9);
    }
    ckpt_buf_put(&p->b, d, n);
}

static void pk_op(struct pk *p, unsigned char op)
{
    pk_raw(p, &op, 1);
}

static void pk_op_u32(struct pk *p, unsigned char op, uint32_t v)
{
    unsigned char b[5] = {op, (unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 24)};
    pk_raw(p, b, 5);
}

static void pk_begin(struct pk *p, int proto)
{
    memset(p, 0, sizeof *p);
    p->proto = proto;
    p->frame_start = -1;
    unsigned char h[2] = {0x80, (unsigned char)proto};
    ckpt_buf_put(&p->b, h, 2); /* PROTO precedes framing */
}

static void pk_end(struct pk *p)
{
    pk_op(p, '.');
    pk_commit(p);
    if (p->b.oom)
        die("out of memory");
    for (size_t i = 0; i < p->nkeys; i++)
        free(p->keys[i]);
    free(p->keys);
    free(p->ids);
    p->keys = NULL;
    p->ids = NULL;
    p->nkeys = 0;
}

static uint32_t pk_memoize(struct pk *p)
{
    uint32_t idx = p->memo_next++;
    if (p->proto >= 4)
        pk_op(p, 0x94);
    else if (idx < 256) {
        unsigned char b[2] = {'q', (unsigned char)idx};
        pk_raw(p, b, 2);
    } else
        pk_op_u32(p, 'r', idx);
    return idx;
}

static int pk_get(struct pk *p, const char *key)
{
    for (size_t i = 0; key && i < p->nkeys; i++)
        if (!strcmp(p->keys[i], key)) {
            uint32_t idx = p->ids[i];
            if (idx < 256) {
                unsigned char b[2] = {'h', (unsigned char)idx};
                pk_raw(p, b, 2);
            } else
                pk_op_u32(p, 'j', idx);
            return 1;
        }
    return 0;
}

static void pk_remember(struct pk *p, const char *key, uint32_t idx)
{
    if (!key)
        return;
    char **k = realloc(p->keys, (p->nkeys + 1) * sizeof *k);
    uint32_t *d = k ? realloc(p->ids, (p->nkeys + 1) * sizeof *d) : NULL;
    if (k)
        p->keys = k;
    if (!k || !d || !(p->keys[p->nkeys] = strdup(key)))
        die("out of memory");
    p->ids = d;
    p->ids[p->nkeys++] = idx;
}

/* A str; shared: the memo key of an object Python shares (interned), NULL for a fresh one. */
static void pk_strn(struct pk *p, const char *s, size_t n, const char *shared)
{
    pk_boundary(p);
    if (pk_get(p, shared))
        return;
    if (p->proto >= 4 && n <= 255) {
        unsigned char h[2] = {0x8c, (unsigned char)n};
        pk_raw(p, h, 2);
    } else {
        if (n > U32MAX)
            die("string too long");
        pk_op_u32(p, 'X', (uint32_t)n);
    }
    pk_raw(p, s, n);
    pk_remember(p, shared, pk_memoize(p));
}

static void pk_str(struct pk *p, const char *s, const char *shared)
{
    pk_strn(p, s, strlen(s), shared);
}

/* An interned identifier: its memo key is the string itself. */
static void pk_istr(struct pk *p, const char *s)
{
    char key[256];
    snprintf(key, sizeof key, "s:%s", s);
    pk_str(p, s, key);
}

static void pk_int(struct pk *p, uint64_t v)
{
    pk_boundary(p);
    if (v <= 0xff) {
        unsigned char b[2] = {'K', (unsigned char)v};
        pk_raw(p, b, 2);
    } else if (v <= 0xffff) {
        unsigned char b[3] = {'M', (unsigned char)v, (unsigned char)(v >> 8)};
        pk_raw(p, b, 3);
    } else if (v <= 0x7fffffff) {
        pk_op_u32(p, 'J', (uint32_t)v);
    } else { /* LONG1: minimal little-endian two's complement (bit_length / 8 + 1 bytes) */
        unsigned bits = 64 - (unsigned)__builtin_clzll(v);
        unsigned char b[11] = {0x8a, (unsigned char)(bits / 8 + 1)};
        for (unsigned i = 0; i < b[1]; i++)
            b[2 + i] = i < 8 ? (unsigned char)(v >> (8 * i)) : 0;
        pk_raw(p, b, 2u + b[1]);
    }
}

static void pk_global(struct pk *p, const char *module, const char *name)
{
    char key[256];
    snprintf(key, sizeof key, "g:%s %s", module, name);
    pk_boundary(p);
    if (pk_get(p, key))
        return;
    if (p->proto >= 4) {
        pk_istr(p, module);
        pk_istr(p, name);
        pk_op(p, 0x93);
    } else {
        pk_op(p, 'c');
        pk_raw(p, module, strlen(module));
        pk_op(p, '\n');
        pk_raw(p, name, strlen(name));
        pk_op(p, '\n');
    }
    pk_remember(p, key, pk_memoize(p));
}

/* Tuples: save() starts, then MARK (n > 3), the items, then TUPLE/TUPLE1-3 and a memo put. */
static void pk_tuple_begin(struct pk *p, size_t n)
{
    pk_boundary(p);
    if (n == 0)
        pk_op(p, ')');
    else if (n > 3)
        pk_op(p, '(');
}

static void pk_tuple_end(struct pk *p, size_t n)
{
    static const unsigned char small[4] = {0, 0x85, 0x86, 0x87};
    if (n == 0)
        return;
    pk_op(p, n > 3 ? 't' : small[n]);
    pk_memoize(p);
}

static void pk_u64_tuple(struct pk *p, const uint64_t *v, size_t n)
{
    pk_tuple_begin(p, n);
    for (size_t i = 0; i < n; i++)
        pk_int(p, v[i]);
    pk_tuple_end(p, n);
}

/* collections.OrderedDict() as the pickler reduces it: class, (), REDUCE, memo put. */
static void pk_ordereddict(struct pk *p)
{
    pk_boundary(p);
    pk_global(p, "collections", "OrderedDict");
    pk_tuple_begin(p, 0);
    pk_op(p, 'R');
    pk_memoize(p);
}

/* Dict items: MARK ... SETITEMS per batch of 1000; a batch of one is key, value, SETITEM. */
static void pk_item_begin(struct pk *p, size_t i, size_t n)
{
    if (i % BATCH == 0 && n - i > 1)
        pk_op(p, '(');
}

static void pk_item_end(struct pk *p, size_t i, size_t n)
{
    size_t start = i - i % BATCH, size = n - start < BATCH ? n - start : BATCH;
    if (i == start + size - 1)
        pk_op(p, size > 1 ? 'u' : 's');
}

static void pk_empty_dict(struct pk *p)
{
    pk_boundary(p);
    pk_op(p, '}');
    pk_memoize(p);
}

/* ---- the checkpoint object --------------------------------------------------------------- */

struct item {
    const struct ckpt_tensor *t;
    const char *cls; /* torch storage class */
    char key[32];    /* storage key */
};

static struct item *items;
static size_t nitems;
static char **modules; /* module prefixes for _metadata, in first-seen order */
static size_t nmodules;

static const char *storage_class(enum ckpt_dtype dt)
{
    switch (dt) {
    case CKPT_DT_F32:
        return "FloatStorage";
    case CKPT_DT_F16:
        return "HalfStorage";
    case CKPT_DT_BF16:
        return "BFloat16Storage";
    case CKPT_DT_F64:
        return "DoubleStorage";
    case CKPT_DT_I64:
        return "LongStorage";
    case CKPT_DT_I32:
        return "IntStorage";
    case CKPT_DT_I16:
        return "ShortStorage";
    case CKPT_DT_I8:
        return "CharStorage";
    case CKPT_DT_U8:
        return "ByteStorage";
    case CKPT_DT_BOOL:
        return "BoolStorage";
    case CKPT_DT_C64:
        return "ComplexFloatStorage";
    case CKPT_DT_C128:
        return "ComplexDoubleStorage";
    default:
        return NULL;
    }
}

/* Module prefixes: '' and every dotted prefix of each name but the last component. */
static void derive_modules(void)
{
    size_t cap = 1024, hcap = 1, prefixes = 1;
    for (size_t i = 0; i < nitems; i++)
        for (const char *c = items[i].t->name; *c; c++)
            prefixes += *c == '.';
    while (hcap < 2 * (prefixes + 1))
        hcap *= 2;
    size_t *hash = calloc(hcap, sizeof *hash);
    modules = malloc(cap * sizeof *modules);
    if (!hash || !modules)
        die("out of memory");
    for (size_t i = 0; i < nitems; i++) {
        const char *name = items[i].t->name;
        size_t len = strlen(name);
        for (size_t end = 0;; end++) {
            int is_prefix = end == 0 || name[end] == '.';
            if (end >= len)
                break;
            if (!is_prefix)
                continue;
            uint64_t h = 1469598103934665603ull;
            for (size_t k = 0; k < end; k++)
                h = (h ^ (unsigned char)name[k]) * 1099511628211ull;
            size_t slot = (size_t)h & (hcap - 1);
            int found = 0;
            while (hash[slot]) {
                const char *m = modules[hash[slot] - 1];
                if (strlen(m) == end && !memcmp(m, name, end)) {
                    found = 1;
                    break;
                }
                slot = (slot + 1) & (hcap - 1);
            }
            if (found)
                continue;
            if (nmodules + 1 > hcap / 2)
                die("too many module prefixes");
            if (nmodules == cap) {
                cap *= 2;
                char **nm = realloc(modules, cap * sizeof *nm);
                if (!nm)
                    die("out of memory");
                modules = nm;
            }
            if (!(modules[nmodules] = strndup(name, end)))
                die("out of memory");
            hash[slot] = ++nmodules;
        }
    }
    free(hash);
}

static void pk_tensor(struct pk *p, const struct item *it, int legacy)
{
    const struct ckpt_tensor *t = it->t;
    pk_boundary(p); /* save(tensor) */
    pk_global(p, "torch._utils", "_rebuild_tensor_v2");
    pk_tuple_begin(p, 6);
    pk_boundary(p); /* save(storage) -> persistent id */
    pk_tuple_begin(p, legacy ? 6 : 5);
    pk_istr(p, "storage");
    pk_global(p, "torch", it->cls);
    pk_str(p, it->key, NULL);
    pk_istr(p, "cpu");
    pk_int(p, t->numel);
    if (legacy) {
        pk_boundary(p);
        pk_op(p, 'N');
    }
    pk_tuple_end(p, legacy ? 6 : 5);
    pk_op(p, 'Q');
    pk_int(p, 0);
    uint64_t stride[CKPT_MAX_DIMS];
    for (uint32_t d = t->ndim; d-- > 0;)
        stride[d] = d + 1 == t->ndim ? 1 : stride[d + 1] * (t->shape[d + 1] ? t->shape[d + 1] : 1);
    pk_u64_tuple(p, t->shape, t->ndim);
    pk_u64_tuple(p, stride, t->ndim);
    pk_boundary(p);
    pk_op(p, 0x89); /* requires_grad False */
    pk_ordereddict(p);
    pk_tuple_end(p, 6);
    pk_op(p, 'R');
    pk_memoize(p);
}

static void pk_state_dict(struct pk *p, int legacy)
{
    pk_ordereddict(p);
    for (size_t i = 0; i < nitems; i++) {
        pk_item_begin(p, i, nitems);
        pk_str(p, items[i].t->name, NULL);
        pk_tensor(p, &items[i], legacy);
        pk_item_end(p, i, nitems);
    }
    /* state: {'_metadata': OrderedDict(prefix -> {'version': 1})}, then BUILD */
    pk_empty_dict(p);
    pk_istr(p, "_metadata");
    pk_ordereddict(p);
    for (size_t i = 0; i < nmodules; i++) {
        pk_item_begin(p, i, nmodules);
        pk_str(p, modules[i], NULL);
        pk_empty_dict(p);
        pk_istr(p, "version");
        pk_int(p, 1);
        pk_op(p, 's');
        pk_item_end(p, i, nmodules);
    }
    pk_op(p, 's');
    pk_op(p, 'b');
}

static void pk_object(struct pk *p, int legacy, int lightning, uint64_t step)
{
    if (!lightning) {
        pk_state_dict(p, legacy);
        return;
    }
    pk_empty_dict(p);
    pk_op(p, '(');
    pk_istr(p, "epoch");
    pk_int(p, 0);
    pk_istr(p, "global_step");
    pk_int(p, step);
    pk_istr(p, "pytorch-lightning_version");
    pk_str(p, "1.4.2", NULL);
    pk_istr(p, "state_dict");
    pk_state_dict(p, legacy);
    pk_op(p, 'u');
}

/* ---- output ------------------------------------------------------------------------------- */

static void put(const void *d, size_t n)
{
    if (ckpt_atomic_write(out, d, n, &err))
        die("%s", err.msg);
}

static void le(unsigned char *b, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        b[i] = (unsigned char)(v >> (8 * i));
}

static void put_le(uint64_t v, int n)
{
    unsigned char b[8];
    le(b, v, n);
    put(b, (size_t)n);
}

static unsigned char zeros[CHUNK];
static unsigned char chunk[CHUNK];
static uLong zero_crc; /* CRC-32 of CHUNK zero bytes */

static int in_fd = -1;
static const char *in_path;

static void open_input(const char *path)
{
    if (in_path && !strcmp(in_path, path))
        return;
    if (in_fd >= 0)
        close(in_fd);
    in_fd = open(path, O_RDONLY | O_CLOEXEC);
    if (in_fd < 0)
        die("%s: %s", path, strerror(errno));
    in_path = path;
}

/* Is [pos, pos+n) of the input a hole? */
static int is_hole(off_t pos, size_t n)
{
    off_t d = lseek(in_fd, pos, SEEK_DATA);
    if (d < 0)
        return errno == ENXIO;
    return d >= pos + (off_t)n;
}

struct sink {
    int deflate;
    z_stream z;
    uLong crc;
    uint64_t csize;
    unsigned char zout[CHUNK];
};

static void sink_zip(struct sink *s, const unsigned char *d, size_t n, int finish)
{
    s->z.next_in = (unsigned char *)d;
    s->z.avail_in = (uInt)n;
    for (;;) {
        s->z.next_out = s->zout;
        s->z.avail_out = sizeof s->zout;
        int rc = deflate(&s->z, finish ? Z_FINISH : Z_NO_FLUSH);
        if (rc == Z_STREAM_ERROR)
            die("deflate failed");
        size_t got = sizeof s->zout - s->z.avail_out;
        put(s->zout, got);
        s->csize += got;
        if (finish ? rc == Z_STREAM_END : s->z.avail_in == 0 && s->z.avail_out != 0)
            break;
    }
}

/* Copies a tensor's bytes to the output (a hole for every all-zero chunk when not deflating);
 * updates s->crc when s is given. */
static void copy_tensor(struct ckpt_tensorset *ts, const struct ckpt_tensor *t, struct sink *s)
{
    const struct ckpt_source *src = ckpt_tensorset_source(ts, t->source);
    if (!t->contiguous || t->extent != t->nbytes)
        die("%s: tensor '%s' is not contiguous", ckpt_tensorset_path(ts), t->name);
    unsigned char *whole = NULL;
    if (src->compressed) { /* a deflated zip member: read through the tensorset */
        if (t->nbytes > (256u << 20))
            die("%s: tensor '%s' is compressed and too large for this tool",
                ckpt_tensorset_path(ts), t->name);
        whole = malloc(t->nbytes ? t->nbytes : 1);
        if (!whole)
            die("out of memory");
        if (ckpt_tensorset_read_tensor(ts, t, whole, t->nbytes, &err))
            die("%s", err.msg);
    } else
        open_input(src->path);
    uint64_t base = src->file_offset + t->offset;
    for (uint64_t done = 0; done < t->nbytes;) {
        size_t n = t->nbytes - done < CHUNK ? (size_t)(t->nbytes - done) : CHUNK;
        const unsigned char *d = chunk;
        int zero;
        if (whole) {
            d = whole + done;
            zero = !memcmp(d, zeros, n);
        } else if (is_hole((off_t)(base + done), n)) {
            d = zeros;
            zero = 1;
        } else {
            ssize_t got = pread(in_fd, chunk, n, (off_t)(base + done));
            if (got != (ssize_t)n)
                die("%s: short read of tensor '%s'", src->path, t->name);
            zero = !memcmp(chunk, zeros, n);
        }
        if (s && s->deflate) {
            sink_zip(s, d, n, 0);
        } else if (zero) {
            if (ckpt_atomic_skip(out, n, &err))
                die("%s", err.msg);
        } else
            put(d, n);
        if (s)
            s->crc = zero && n == CHUNK ? crc32_combine(s->crc, zero_crc, (z_off_t)n)
                                        : crc32(s->crc, d, (uInt)n);
        done += n;
    }
    free(whole);
}

/* ---- zip ---------------------------------------------------------------------------------- */

struct zent {
    char *name;
    uint64_t off, csize, usize;
    uint32_t crc;
    int method;
};

static struct zent *zents;
static size_t nzents;
static const char *folder;

/* Writes a local header (torch's padding) and returns the entry; big: the local header carries
 * a ZIP64 extra field and the descriptor 64-bit sizes. */
static struct zent *zip_begin(const char *rec, uint64_t usize, int method, int *big)
{
    struct zent *e;
    struct zent *nz = realloc(zents, (nzents + 1) * sizeof *nz);
    if (!nz)
        die("out of memory");
    zents = nz;
    e = &zents[nzents++];
    memset(e, 0, sizeof *e);
    size_t nl = strlen(folder) + 1 + strlen(rec);
    if (nl > 0xffff || !(e->name = malloc(nl + 1)))
        die("record name too long");
    snprintf(e->name, nl + 1, "%s/%s", folder, rec);
    e->off = ckpt_atomic_offset(out);
    e->usize = usize;
    e->method = method;
    int ubig = usize >= U32MAX, obig = e->off >= U32MAX;
    *big = ubig || obig;
    size_t z64 = *big ? 4u + (ubig ? 16u : 0u) + (obig ? 8u : 0u) : 0;
    uint64_t start = e->off + 30 + nl + 4 + z64;
    size_t pad = (size_t)((64 - start % 64) % 64);
    unsigned char h[30];
    le(h, 0x04034b50u, 4);
    le(h + 4, method ? 20 : 0, 2);
    le(h + 6, 0x0808, 2);
    le(h + 8, (uint64_t)method, 2);
    memset(h + 10, 0, 16); /* time, date, crc, sizes: in the data descriptor */
    le(h + 26, nl, 2);
    le(h + 28, z64 + 4 + pad, 2);
    put(h, 30);
    put(e->name, nl);
    if (*big) {
        put_le(1, 2);
        put_le(z64 - 4, 2);
        if (ubig) {
            put_le(usize, 8);
            put_le(method ? 0 : usize, 8);
        }
        if (obig)
            put_le(e->off, 8);
    }
    put("FB", 2);
    put_le(pad, 2);
    static const char zz[64] = "ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ";
    put(zz, pad);
    return e;
}

static void zip_end(struct zent *e, uint32_t crc, uint64_t csize, int big)
{
    e->crc = crc;
    e->csize = csize;
    if (!big && (csize >= U32MAX || e->usize >= U32MAX))
        die("record '%s' outgrew 32-bit sizes", e->name);
    put_le(0x08074b50u, 4);
    put_le(crc, 4);
    put_le(csize, big ? 8 : 4);
    put_le(e->usize, big ? 8 : 4);
}

static void zip_record(const char *rec, const void *d, size_t n)
{
    int big;
    struct zent *e = zip_begin(rec, n, 0, &big);
    put(d, n);
    zip_end(e, (uint32_t)crc32(0, d, (uInt)n), n, big);
}

static void zip_finish(void)
{
    uint64_t cd_off = ckpt_atomic_offset(out);
    for (size_t i = 0; i < nzents; i++) {
        struct zent *e = &zents[i];
        int ubig = e->usize >= U32MAX, obig = e->off >= U32MAX;
        size_t nl = strlen(e->name), xl = (ubig || obig) ? 4u + 16u * ubig + 8u * obig : 0;
        unsigned char h[46];
        le(h, 0x02014b50u, 4);
        le(h + 4, 0, 2);
        le(h + 6, e->method ? 20 : 0, 2);
        le(h + 8, 0x0808, 2);
        le(h + 10, (uint64_t)e->method, 2);
        le(h + 12, 0, 4);
        le(h + 16, e->crc, 4);
        le(h + 20, ubig ? U32MAX : e->csize, 4);
        le(h + 24, ubig ? U32MAX : e->usize, 4);
        le(h + 28, nl, 2);
        le(h + 30, xl, 2);
        memset(h + 32, 0, 10); /* comment length, disk, attributes */
        le(h + 42, obig ? U32MAX : e->off, 4);
        put(h, 46);
        put(e->name, nl);
        if (xl) {
            put_le(1, 2);
            put_le(xl - 4, 2);
            if (ubig) {
                put_le(e->usize, 8);
                put_le(e->csize, 8);
            }
            if (obig)
                put_le(e->off, 8);
        }
    }
    uint64_t eocd64 = ckpt_atomic_offset(out), cd_size = eocd64 - cd_off;
    put_le(0x06064b50u, 4);
    put_le(44, 8);
    put_le(0x031e, 2);
    put_le(0x002d, 2);
    put_le(0, 4);
    put_le(0, 4);
    put_le(nzents, 8);
    put_le(nzents, 8);
    put_le(cd_size, 8);
    put_le(cd_off, 8);
    put_le(0x07064b50u, 4);
    put_le(0, 4);
    put_le(eocd64, 8);
    put_le(1, 4);
    put_le(0x06054b50u, 4);
    put_le(0, 4);
    put_le(nzents < 0xffff ? nzents : 0xffff, 2);
    put_le(nzents < 0xffff ? nzents : 0xffff, 2);
    put_le(cd_size < U32MAX ? cd_size : U32MAX, 4);
    put_le(cd_off < U32MAX ? cd_off : U32MAX, 4);
    put_le(0, 2);
}

static int cmp_key(const void *a, const void *b)
{
    return strcmp((*(const struct item *const *)a)->key, (*(const struct item *const *)b)->key);
}

static void write_zip(struct ckpt_tensorset *ts, struct pk *p, int deflate_storages, int byteorder)
{
    zip_record("data.pkl", p->b.data, p->b.len);
    if (byteorder) /* torch >= 2.1 */
        zip_record("byteorder", "little", 6);
    struct item **order = malloc((nitems ? nitems : 1) * sizeof *order);
    if (!order)
        die("out of memory");
    for (size_t i = 0; i < nitems; i++)
        order[i] = &items[i];
    qsort(order, nitems, sizeof *order, cmp_key); /* torch: sorted(serialized_storages) */
    static struct sink s;
    for (size_t i = 0; i < nitems; i++) {
        const struct ckpt_tensor *t = order[i]->t;
        char rec[40];
        snprintf(rec, sizeof rec, "data/%s", order[i]->key);
        int big;
        struct zent *e = zip_begin(rec, t->nbytes, deflate_storages ? 8 : 0, &big);
        memset(&s.z, 0, sizeof s.z);
        s.deflate = deflate_storages;
        s.crc = crc32(0, NULL, 0);
        s.csize = 0;
        if (deflate_storages && deflateInit2(&s.z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8,
                                             Z_DEFAULT_STRATEGY) != Z_OK)
            die("deflateInit failed");
        copy_tensor(ts, t, &s);
        if (deflate_storages) {
            sink_zip(&s, NULL, 0, 1);
            deflateEnd(&s.z);
        }
        zip_end(e, (uint32_t)s.crc, deflate_storages ? s.csize : t->nbytes, big);
    }
    free(order);
    zip_record("version", "3\n", 2);
    zip_finish();
}

/* ---- legacy ------------------------------------------------------------------------------- */

static void write_legacy(struct ckpt_tensorset *ts, int proto, int lightning, uint64_t step)
{
    struct pk p;
    /* magic number 0x1950a86a20f9469cfc6c */
    static const unsigned char magic[12] = {0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46,
                                            0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
    pk_begin(&p, proto);
    pk_boundary(&p);
    pk_raw(&p, magic, sizeof magic);
    pk_end(&p);
    put(p.b.data, p.b.len);
    ckpt_buf_free(&p.b);

    pk_begin(&p, proto);
    pk_int(&p, 1001);
    pk_end(&p);
    put(p.b.data, p.b.len);
    ckpt_buf_free(&p.b);

    pk_begin(&p, proto); /* sys_info */
    pk_empty_dict(&p);
    pk_op(&p, '(');
    pk_istr(&p, "protocol_version");
    pk_int(&p, 1001);
    pk_istr(&p, "little_endian");
    pk_boundary(&p);
    pk_op(&p, 0x88);
    pk_istr(&p, "type_sizes");
    pk_empty_dict(&p);
    pk_op(&p, '(');
    pk_istr(&p, "short");
    pk_int(&p, 2);
    pk_istr(&p, "int");
    pk_int(&p, 4);
    pk_istr(&p, "long");
    pk_int(&p, 4);
    pk_op(&p, 'u');
    pk_op(&p, 'u');
    pk_end(&p);
    put(p.b.data, p.b.len);
    ckpt_buf_free(&p.b);

    pk_begin(&p, proto);
    pk_object(&p, 1, lightning, step);
    pk_end(&p);
    put(p.b.data, p.b.len);
    ckpt_buf_free(&p.b);

    pk_begin(&p, proto); /* the storage keys, sorted (all keys have the same length) */
    pk_boundary(&p);
    pk_op(&p, ']');
    pk_memoize(&p);
    for (size_t i = 0; i < nitems; i++) {
        if (i % BATCH == 0 && nitems - i > 1)
            pk_op(&p, '(');
        pk_str(&p, items[i].key, NULL);
        size_t start = i - i % BATCH, size = nitems - start < BATCH ? nitems - start : BATCH;
        if (i == start + size - 1)
            pk_op(&p, size > 1 ? 'e' : 'a');
    }
    pk_end(&p);
    put(p.b.data, p.b.len);
    ckpt_buf_free(&p.b);

    for (size_t i = 0; i < nitems; i++) {
        put_le(items[i].t->numel, 8);
        copy_tensor(ts, items[i].t, NULL);
    }
}

/* ---- main --------------------------------------------------------------------------------- */

static void usage(void)
{
    fprintf(stderr,
            "usage: st2torch IN.safetensors -o OUT [--protocol 2..5] [--legacy] [--deflate]\n"
            "         [--lightning GLOBAL_STEP] [--archive-name NAME] [--no-byteorder] [--force]\n"
            "  Writes what torch.save writes (zip layout; --legacy: the pre-1.6 stream).\n"
            "  --no-byteorder leaves out the byteorder record, as torch < 2.1 does.\n"
            "  The archive folder is OUT's base name without extension unless --archive-name\n"
            "  (torch.save through a file object uses 'archive').\n");
    exit(2);
}

static uint64_t parse_u64(const char *s)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end || errno || *s == '-')
        usage();
    return v;
}

int main(int argc, char **argv)
{
    const char *in = NULL, *outp = NULL, *arch = NULL;
    int proto = 2, legacy = 0, deflate_storages = 0, force = 0, lightning = 0, byteorder = 1;
    uint64_t step = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--force"))
            force = 1;
        else if (!strcmp(a, "--legacy"))
            legacy = 1;
        else if (!strcmp(a, "--deflate"))
            deflate_storages = 1;
        else if (!strcmp(a, "--no-byteorder"))
            byteorder = 0;
        else if (a[0] == '-' && a[1]) {
            if (!v)
                usage();
            i++;
            if (!strcmp(a, "-o"))
                outp = v;
            else if (!strcmp(a, "--protocol"))
                proto = (int)parse_u64(v);
            else if (!strcmp(a, "--lightning")) {
                lightning = 1;
                step = parse_u64(v);
            } else if (!strcmp(a, "--archive-name"))
                arch = v;
            else
                usage();
        } else if (!in)
            in = a;
        else
            usage();
    }
    if (!in || !outp || proto < 2 || proto > 5 ||
        (legacy && (deflate_storages || arch || !byteorder)))
        usage();
    char *base = NULL;
    if (!legacy) {
        if (arch) {
            folder = arch;
        } else {
            const char *b = strrchr(outp, '/');
            base = strdup(b ? b + 1 : outp);
            if (!base)
                die("out of memory");
            char *dot = strrchr(base, '.');
            if (dot)
                *dot = '\0';
            folder = base;
        }
        if (!*folder || strchr(folder, '/'))
            die("archive folder name '%s' is empty or has a '/' (use --archive-name)", folder);
    }
    struct ckpt_tensorset *ts;
    if (ckpt_tensorset_open(&ts, in, NULL, &err))
        die("%s", err.msg);
    nitems = ckpt_tensorset_count(ts);
    items = calloc(nitems ? nitems : 1, sizeof *items);
    if (!items)
        die("out of memory");
    for (size_t i = 0; i < nitems; i++) {
        items[i].t = ckpt_tensorset_tensor(ts, i);
        items[i].cls = storage_class(items[i].t->dtype);
        if (!items[i].cls)
            die("%s: tensor '%s' has dtype %s, which has no torch storage class", in,
                items[i].t->name, ckpt_dtype_name(items[i].t->dtype));
        if (legacy) /* stands for str(storage._cdata): same length, so sorted = tensor order */
            snprintf(items[i].key, sizeof items[i].key, "%llu",
                     140000000000000ull + 64ull * (unsigned long long)i);
        else
            snprintf(items[i].key, sizeof items[i].key, "%zu", i);
    }
    derive_modules();
    zero_crc = crc32(0, zeros, CHUNK);
    if (ckpt_atomic_open(&out, outp, force, &err)) {
        out = NULL;
        die("%s", err.msg);
    }
    if (legacy) {
        write_legacy(ts, proto, lightning, step);
    } else {
        struct pk p;
        pk_begin(&p, proto);
        pk_object(&p, 0, lightning, step);
        pk_end(&p);
        write_zip(ts, &p, deflate_storages, byteorder);
        ckpt_buf_free(&p.b);
    }
    if (ckpt_atomic_commit(out, &err)) {
        out = NULL;
        die("%s", err.msg);
    }
    out = NULL;
    if (in_fd >= 0)
        close(in_fd);
    ckpt_tensorset_close(ts);
    for (size_t i = 0; i < nzents; i++)
        free(zents[i].name);
    free(zents);
    for (size_t i = 0; i < nmodules; i++)
        free(modules[i]);
    free(modules);
    free(items);
    free(base);
    return 0;
}
