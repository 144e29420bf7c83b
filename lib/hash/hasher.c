/* The one-pass multi-hasher: reads a file once and feeds every selected hash, in parallel.
 *
 * Per file, the calling thread is the reader: it fills a ring of a few large page-aligned
 * buffers with pread (the kernel's sequential read-ahead keeps the disk busy) and each hash
 * stream runs in its own consumer thread over the same buffers: the whole-file SHA-256, the
 * AutoV3 SHA-256 (bytes after the safetensors header), BLAKE3, and CRC-32 together with the
 * AutoV1 window (SHA-256 of the 64 KiB at 1 MiB, as A1111 reads it: whatever of that window the
 * file has). A buffer is reused when every consumer is done with it, so memory is the ring
 * (8 MiB with the defaults) whatever the file size. With only one stream (e.g. --only sha256)
 * the reader hashes each block itself. The file's size, mtime and identity are
 * checked before and after; a file that changed gives CKPT_E_CHANGED and no digest.
 * Not for choosing what to hash (the CLI and catalog decide) nor for printing. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ckptdb/blake3.h"
#include "ckptdb/hash.h"
#include "ckptdb/reader.h"
#include "ckptdb/tensorset.h"
#include "model/tensorset_impl.h"

#define AUTOV1_OFF 0x100000u
#define AUTOV1_LEN 0x10000u
#define DEFAULT_BLOCK (1u << 20) /* 256 KiB-1 MiB measured best; 8 MiB 20% slower */
#define MAX_BLOCK (8u << 20)
#define RING_SLOTS 8
#define MEMORY_BUDGET (56u << 20) /* all rings of concurrent files together */

static const char *const kind_names[] = {"sha256", "autov1", "autov2", "autov3", "crc32", "blake3"};

const char *ckpt_hash_name(unsigned kind)
{
    for (unsigned i = 0; i < 6; i++)
        if (kind == 1u << i)
            return kind_names[i];
    return "unknown";
}

int ckpt_hash_parse_list(const char *list, unsigned *mask, struct ckpt_error *err)
{
    unsigned m = 0;
    const char *p = list;
    while (*p) {
        size_t n = strcspn(p, ",");
        if (n == 3 && strncasecmp(p, "all", 3) == 0)
            m |= CKPT_HASH_ALL;
        else if (n) {
            unsigned i;
            for (i = 0; i < 6; i++)
                if (strlen(kind_names[i]) == n && strncasecmp(p, kind_names[i], n) == 0)
                    break;
            if (i == 6)
                return ckpt_error_set(err, CKPT_E_ARG,
                                      "unknown hash '%.*s' (valid: sha256, autov1, autov2, "
                                      "autov3, crc32, blake3, all)",
                                      (int)(n > 64 ? 64 : n), p);
            m |= 1u << i;
        }
        p += n;
        if (*p == ',')
            p++;
    }
    if (!m)
        return ckpt_error_set(err, CKPT_E_ARG, "empty hash list");
    *mask = m;
    return CKPT_OK;
}

void ckpt_hash_options_default(struct ckpt_hash_options *o)
{
    memset(o, 0, sizeof *o);
    o->want = CKPT_HASH_ALL;
}

/* ---- one file ----------------------------------------------------------------------------------
 */

enum consumer_kind { C_SHA256, C_AUTOV3, C_BLAKE3, C_CRC_AUTOV1, C_EXTRA };

struct job;

struct consumer {
    enum consumer_kind kind;
    struct job *job;
    pthread_t thread;
    int started;
    struct ckpt_sha256 sha; /* C_SHA256, C_AUTOV3; C_CRC_AUTOV1: the AutoV1 window */
    struct ckpt_blake3 b3;  /* C_BLAKE3 */
    uint32_t crc;           /* C_CRC_AUTOV1 */
    int do_crc, do_autov1;
};

struct slot {
    uint64_t off;
    size_t len;
    int pending; /* consumers still reading this buffer */
};

/* State shared by the files of one ckpt_hash_files call. */
struct run {
    const struct ckpt_hash_options *opts;
    pthread_mutex_t progress_mu;
    atomic_int cancelled;
};

struct job {
    struct run *run;
    size_t index;
    uint64_t size;
    uint64_t v3_off;
    int has_v3;
    unsigned want;
    uint8_t *mem;
    size_t block;
    struct slot slots[RING_SLOTS];
    pthread_mutex_t mu;
    pthread_cond_t data_cv, free_cv;
    uint64_t produced; /* blocks handed out so far */
    int done, abort;
    struct consumer cons[5];
    const struct ckpt_hash_consumer *extra;
    int ncons;
    int inline_one; /* one stream only: the reader hashes each block itself */
};

/* The part of [off, off+len) that lies in [lo, hi), as a pointer and length into p. */
static size_t clip(const uint8_t *p, uint64_t off, size_t len, uint64_t lo, uint64_t hi,
                   const uint8_t **out)
{
    uint64_t a = off > lo ? off : lo, b = off + len < hi ? off + len : hi;
    if (a >= b)
        return 0;
    *out = p + (a - off);
    return (size_t)(b - a);
}

static void consume(struct consumer *c, const uint8_t *p, uint64_t off, size_t len)
{
    const uint8_t *q;
    size_t n;
    switch (c->kind) {
    case C_SHA256:
        ckpt_sha256_update(&c->sha, p, len);
        break;
    case C_AUTOV3:
        n = clip(p, off, len, c->job->v3_off, UINT64_MAX, &q);
        if (n)
            ckpt_sha256_update(&c->sha, q, n);
        break;
    case C_BLAKE3:
        ckpt_blake3_update(&c->b3, p, len);
        break;
    case C_EXTRA:
        c->job->extra->update(c->job->extra->user, p, off, len);
        break;
    case C_CRC_AUTOV1:
        if (c->do_crc)
            c->crc = ckpt_crc32_update(c->crc, p, len);
        if (c->do_autov1 && (n = clip(p, off, len, AUTOV1_OFF, AUTOV1_OFF + AUTOV1_LEN, &q)))
            ckpt_sha256_update(&c->sha, q, n);
        break;
    }
}

static void *consumer_main(void *arg)
{
    struct consumer *c = arg;
    struct job *j = c->job;
    for (uint64_t s = 0;; s++) {
        pthread_mutex_lock(&j->mu);
        while (s >= j->produced && !j->done && !j->abort)
            pthread_cond_wait(&j->data_cv, &j->mu);
        if (j->abort || s >= j->produced) {
            pthread_mutex_unlock(&j->mu);
            break;
        }
        struct slot *sl = &j->slots[s % RING_SLOTS];
        uint64_t off = sl->off;
        size_t len = sl->len;
        pthread_mutex_unlock(&j->mu);
        consume(c, j->mem + (s % RING_SLOTS) * j->block, off, len);
        pthread_mutex_lock(&j->mu);
        if (--sl->pending == 0)
            pthread_cond_broadcast(&j->free_cv);
        pthread_mutex_unlock(&j->mu);
    }
    return NULL;
}

static int add_consumer(struct job *j, enum consumer_kind kind, struct ckpt_error *err)
{
    struct consumer *c = &j->cons[j->ncons];
    memset(c, 0, sizeof *c);
    c->kind = kind;
    c->job = j;
    int rc = CKPT_OK;
    if (kind == C_SHA256 || kind == C_AUTOV3)
        rc = ckpt_sha256_init(&c->sha, err);
    else if (kind == C_BLAKE3)
        ckpt_blake3_init(&c->b3);
    else if (kind == C_EXTRA)
        ;
    else {
        c->do_crc = !!(j->want & CKPT_HASH_CRC32);
        c->do_autov1 = !!(j->want & CKPT_HASH_AUTOV1);
        if (c->do_autov1)
            rc = ckpt_sha256_init(&c->sha, err);
    }
    if (rc)
        return rc;
    j->ncons++;
    return CKPT_OK;
}

static void release_consumers(struct job *j)
{
    for (int i = 0; i < j->ncons; i++)
        ckpt_sha256_release(&j->cons[i].sha);
}

static void finish_consumers(struct job *j, struct ckpt_hash_result *out)
{
    uint8_t d[32];
    for (int i = 0; i < j->ncons; i++) {
        struct consumer *c = &j->cons[i];
        switch (c->kind) {
        case C_SHA256:
            ckpt_sha256_final(&c->sha, d);
            ckpt_hex(d, 32, out->sha256);
            memcpy(out->autov2, out->sha256, 10);
            out->autov2[10] = 0;
            out->computed |= j->want & (CKPT_HASH_SHA256 | CKPT_HASH_AUTOV2);
            break;
        case C_AUTOV3:
            ckpt_sha256_final(&c->sha, d);
            ckpt_hex(d, 32, out->autov3_full);
            memcpy(out->autov3, out->autov3_full, 12);
            out->autov3[12] = 0;
            break;
        case C_BLAKE3:
            ckpt_blake3_finalize(&c->b3, d, 32);
            ckpt_hex(d, 32, out->blake3);
            out->computed |= CKPT_HASH_BLAKE3;
            break;
        case C_EXTRA:
            break;
        case C_CRC_AUTOV1:
            if (c->do_crc) {
                uint8_t be[4] = {(uint8_t)(c->crc >> 24), (uint8_t)(c->crc >> 16),
                                 (uint8_t)(c->crc >> 8), (uint8_t)c->crc};
                ckpt_hex(be, 4, out->crc32);
                out->computed |= CKPT_HASH_CRC32;
            }
            if (c->do_autov1) {
                ckpt_sha256_final(&c->sha, d);
                char hex[65];
                ckpt_hex(d, 32, hex);
                memcpy(out->autov1, hex, 8);
                out->autov1[8] = 0;
                out->computed |= CKPT_HASH_AUTOV1;
            }
            break;
        }
    }
    if (j->want & CKPT_HASH_AUTOV3) {
        out->computed |= CKPT_HASH_AUTOV3;
        out->has_autov3 = j->has_v3;
        out->autov3_offset = j->has_v3 ? j->v3_off : 0;
    }
}

/* AutoV3 applies to safetensors files only: a cheap look at the first bytes, then the real
 * header parser (lib/format/safetensors.c), so a file that merely starts like one is not taken
 * for one. Sets j->has_v3 and j->v3_off; a file that is not safetensors is not an error. */
static void check_safetensors(struct job *j, const char *path, int fd)
{
    uint8_t b[9];
    if (j->size < 10 || pread(fd, b, 9, 0) != 9)
        return;
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = (n << 8) | b[i];
    if (n < 2 || n > j->size - 8 ||
        (b[8] != '{' && b[8] != ' ' && b[8] != '\t' && b[8] != '\n' && b[8] != '\r'))
        return;
    struct ckpt_reader *r;
    if (ckpt_reader_open_file(&r, path, NULL))
        return;
    struct ckpt_tensorset *ts = ckpt_ts_new(path, j->run->opts->limits);
    if (ts && ckpt_reader_size(r) == j->size && ckpt_safetensors_parse(ts, r, NULL) == CKPT_OK) {
        j->has_v3 = 1;
        j->v3_off = ckpt_tensorset_header_bytes(ts);
    }
    ckpt_tensorset_close(ts);
    ckpt_reader_close(r);
}

static int cancelled(struct run *run)
{
    if (atomic_load(&run->cancelled))
        return 1;
    if (run->opts->cancel && *run->opts->cancel) {
        atomic_store(&run->cancelled, 1);
        return 1;
    }
    return 0;
}

static int report(struct job *j, uint64_t done)
{
    const struct ckpt_hash_options *o = j->run->opts;
    if (!o->progress)
        return 0;
    pthread_mutex_lock(&j->run->progress_mu);
    int stop = o->progress(o->progress_user, j->index, done, j->size);
    pthread_mutex_unlock(&j->run->progress_mu);
    if (stop)
        atomic_store(&j->run->cancelled, 1);
    return stop;
}

static int same_file_state(const struct stat *a, const struct stat *b)
{
    return a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
           a->st_mtim.tv_nsec == b->st_mtim.tv_nsec && a->st_ino == b->st_ino &&
           a->st_dev == b->st_dev;
}

/* The reader loop: fill the ring, hand blocks out, notice a file that shrinks or grows. */
static int read_all(struct job *j, int fd, const char *path, struct ckpt_error *err)
{
    uint64_t off = 0, last_report = 0;
    for (uint64_t s = 0; off < j->size; s++) {
        if (cancelled(j->run))
            return ckpt_error_setf(err, CKPT_E_CANCELLED, path, "hashing cancelled");
        struct slot *sl = &j->slots[s % RING_SLOTS];
        pthread_mutex_lock(&j->mu);
        while (sl->pending)
            pthread_cond_wait(&j->free_cv, &j->mu);
        pthread_mutex_unlock(&j->mu);
        uint8_t *buf = j->mem + (s % RING_SLOTS) * j->block;
        size_t want = j->size - off < j->block ? (size_t)(j->size - off) : j->block, got = 0;
        while (got < want) {
            ssize_t r = pread(fd, buf + got, want - got, (off_t)(off + got));
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0)
                return ckpt_error_setf(err, CKPT_E_IO, path, "read failed at byte %llu: %s",
                                       (unsigned long long)(off + got), strerror(errno));
            if (r == 0)
                return ckpt_error_setf(err, CKPT_E_CHANGED, path,
                                       "file shrank while being hashed (ended at byte %llu, "
                                       "was %llu bytes)",
                                       (unsigned long long)(off + got),
                                       (unsigned long long)j->size);
            got += (size_t)r;
        }
        if (j->inline_one) {
            consume(&j->cons[0], buf, off, want);
            off += want;
            if (off - last_report >= (8u << 20) || off == j->size) {
                last_report = off;
                if (report(j, off))
                    return ckpt_error_setf(err, CKPT_E_CANCELLED, path, "hashing cancelled");
            }
            continue;
        }
        pthread_mutex_lock(&j->mu);
        sl->off = off;
        sl->len = want;
        sl->pending = j->ncons;
        j->produced = s + 1;
        pthread_cond_broadcast(&j->data_cv);
        pthread_mutex_unlock(&j->mu);
        off += want;
        if (off - last_report >= (8u << 20) || off == j->size) {
            last_report = off;
            if (report(j, off))
                return ckpt_error_setf(err, CKPT_E_CANCELLED, path, "hashing cancelled");
        }
    }
    uint8_t extra;
    ssize_t r;
    do
        r = pread(fd, &extra, 1, (off_t)j->size);
    while (r < 0 && errno == EINTR);
    if (r > 0)
        return ckpt_error_setf(err, CKPT_E_CHANGED, path,
                               "file grew while being hashed (past %llu bytes)",
                               (unsigned long long)j->size);
    return CKPT_OK;
}

static int hash_one(struct run *run, size_t index, const char *path, size_t block,
                    struct ckpt_hash_result *out, struct ckpt_error *err)
{
    memset(out, 0, sizeof *out);
    const struct ckpt_hash_options *o = run->opts;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ckpt_error_setf(err, CKPT_E_IO, path, "cannot open: %s", strerror(errno));
    struct stat st0, st1, st2;
    if (fstat(fd, &st0) != 0) {
        int e = errno;
        close(fd);
        return ckpt_error_setf(err, CKPT_E_IO, path, "cannot stat: %s", strerror(e));
    }
    if (S_ISDIR(st0.st_mode)) {
        close(fd);
        return ckpt_error_setf(err, CKPT_E_IO, path, "is a directory");
    }
    if (!S_ISREG(st0.st_mode)) {
        close(fd);
        return ckpt_error_setf(err, CKPT_E_IO, path, "not a regular file");
    }
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);

    struct job *j = calloc(1, sizeof *j);
    if (!j) {
        close(fd);
        return ckpt_error_setf(err, CKPT_E_NOMEM, path, "out of memory");
    }
    j->run = run;
    j->index = index;
    j->size = (uint64_t)st0.st_size;
    j->want = o->want ? o->want : CKPT_HASH_ALL;
    if (j->want & CKPT_HASH_AUTOV2)
        j->want |= CKPT_HASH_SHA256; /* AutoV2 is a prefix of it */
    j->block = block;
    pthread_mutex_init(&j->mu, NULL);
    pthread_cond_init(&j->data_cv, NULL);
    pthread_cond_init(&j->free_cv, NULL);
    int rc = CKPT_OK;
    if (j->want & CKPT_HASH_AUTOV3)
        check_safetensors(j, path, fd);
    if (j->want & CKPT_HASH_SHA256)
        rc = add_consumer(j, C_SHA256, err);
    if (!rc && j->has_v3)
        rc = add_consumer(j, C_AUTOV3, err);
    if (!rc && (j->want & CKPT_HASH_BLAKE3))
        rc = add_consumer(j, C_BLAKE3, err);
    if (!rc && (j->want & (CKPT_HASH_CRC32 | CKPT_HASH_AUTOV1)))
        rc = add_consumer(j, C_CRC_AUTOV1, err);
    if (!rc && o->extra && o->extra[index].update) {
        j->extra = &o->extra[index];
        rc = add_consumer(j, C_EXTRA, err);
    }
    if (!rc && j->ncons && j->size) {
        size_t memlen = RING_SLOTS * block;
        void *mem = NULL;
        if (posix_memalign(&mem, 4096, memlen) != 0)
            rc = ckpt_error_setf(err, CKPT_E_NOMEM, path, "out of memory for %zu bytes of buffers",
                                 memlen);
        j->mem = mem;
    }
    /* a single stream is hashed by the reader itself: no hand-off between cores, and with several
     * files at once each file keeps to one core (measured faster on the shared 2-core machine) */
    j->inline_one = j->ncons == 1;
    /* start the consumers (with nothing to read they finish at once) */
    for (int i = 0; !rc && !j->inline_one && i < j->ncons; i++) {
        if (pthread_create(&j->cons[i].thread, NULL, consumer_main, &j->cons[i]) != 0)
            rc = ckpt_error_setf(err, CKPT_E_NOMEM, path, "cannot start a hashing thread");
        else
            j->cons[i].started = 1;
    }
    /* nothing to read when no stream is needed (autov3 alone of a file that is not safetensors) */
    if (!rc && j->ncons)
        rc = read_all(j, fd, path, err);
    pthread_mutex_lock(&j->mu);
    j->done = 1;
    if (rc)
        j->abort = 1;
    pthread_cond_broadcast(&j->data_cv);
    pthread_mutex_unlock(&j->mu);
    for (int i = 0; i < j->ncons; i++)
        if (j->cons[i].started)
            pthread_join(j->cons[i].thread, NULL);
    if (!rc) {
        /* the same file, unchanged: same size and mtime through our descriptor, and the path
         * still names it */
        if (fstat(fd, &st1) != 0 || stat(path, &st2) != 0 || !same_file_state(&st0, &st1) ||
            !same_file_state(&st0, &st2))
            rc = ckpt_error_setf(err, CKPT_E_CHANGED, path,
                                 "file changed while being hashed (size, mtime or identity)");
    }
    if (!rc) {
        out->size = j->size;
        finish_consumers(j, out);
    }
    release_consumers(j);
    free(j->mem);
    pthread_cond_destroy(&j->data_cv);
    pthread_cond_destroy(&j->free_cv);
    pthread_mutex_destroy(&j->mu);
    free(j);
    close(fd);
    if (rc)
        memset(out, 0, sizeof *out);
    return rc;
}

/* ---- several files -----------------------------------------------------------------------------
 */

struct multi {
    struct run *run;
    const char *const *paths;
    size_t n;
    size_t block;
    atomic_size_t next;
    struct ckpt_hash_result *results;
    int *status;
    struct ckpt_error *errs;
};

static void *multi_worker(void *arg)
{
    struct multi *m = arg;
    for (;;) {
        size_t i = atomic_fetch_add(&m->next, 1);
        if (i >= m->n)
            break;
        struct ckpt_error e;
        ckpt_error_clear(&e);
        int rc = hash_one(m->run, i, m->paths[i], m->block, &m->results[i], &e);
        if (m->status)
            m->status[i] = rc;
        if (m->errs)
            m->errs[i] = e;
    }
    return NULL;
}

static size_t block_size(const struct ckpt_hash_options *o)
{
    size_t b = o->block_size ? o->block_size : DEFAULT_BLOCK;
    b = (b + 65535) & ~(size_t)65535;
    if (b > MAX_BLOCK)
        b = MAX_BLOCK;
    return b;
}

int ckpt_hash_files(const char *const *paths, size_t n, const struct ckpt_hash_options *opts,
                    struct ckpt_hash_result *results, int *status, struct ckpt_error *errs)
{
    struct ckpt_hash_options def;
    if (!opts) {
        ckpt_hash_options_default(&def);
        opts = &def;
    }
    struct run run = {.opts = opts};
    pthread_mutex_init(&run.progress_mu, NULL);
    atomic_init(&run.cancelled, 0);
    struct multi m = {.run = &run,
                      .paths = paths,
                      .n = n,
                      .block = block_size(opts),
                      .results = results,
                      .status = status,
                      .errs = errs};
    atomic_init(&m.next, 0);
    size_t jobs = opts->jobs;
    if (!jobs) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        jobs = cpus > 0 ? (size_t)cpus : 1;
        if (jobs > 4)
            jobs = 4;
    }
    size_t max_jobs = MEMORY_BUDGET / (RING_SLOTS * m.block);
    if (jobs > max_jobs)
        jobs = max_jobs ? max_jobs : 1;
    if (jobs > n)
        jobs = n;
    pthread_t threads[16];
    size_t started = 0;
    if (jobs > 16)
        jobs = 16;
    for (size_t i = 1; i < jobs; i++) {
        if (pthread_create(&threads[started], NULL, multi_worker, &m) != 0)
            break; /* fewer workers: the files still get hashed */
        started++;
    }
    multi_worker(&m);
    for (size_t i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    pthread_mutex_destroy(&run.progress_mu);
    if (status)
        for (size_t i = 0; i < n; i++)
            if (status[i])
                return status[i];
    return CKPT_OK;
}

int ckpt_hash_file(const char *path, const struct ckpt_hash_options *opts,
                   struct ckpt_hash_result *out, struct ckpt_error *err)
{
    int st = CKPT_OK;
    struct ckpt_error e;
    ckpt_error_clear(&e);
    ckpt_hash_files(&path, 1, opts, out, &st, &e);
    if (st && err)
        *err = e;
    return st;
}

/* ---- quick fingerprint -------------------------------------------------------------------------
 */

static int pread_full(int fd, uint8_t *buf, size_t len, uint64_t off)
{
    size_t got = 0;
    while (got < len) {
        ssize_t r = pread(fd, buf + got, len - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return r < 0 ? -1 : 1;
        got += (size_t)r;
    }
    return 0;
}

int ckpt_hash_fingerprint(const char *path, struct ckpt_fingerprint *out, struct ckpt_error *err)
{
    memset(out, 0, sizeof *out);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ckpt_error_setf(err, CKPT_E_IO, path, "cannot open: %s", strerror(errno));
    struct stat st0, st1;
    if (fstat(fd, &st0) != 0) {
        int e = errno;
        close(fd);
        return ckpt_error_setf(err, CKPT_E_IO, path, "cannot stat: %s", strerror(e));
    }
    if (!S_ISREG(st0.st_mode)) {
        close(fd);
        return ckpt_error_setf(err, CKPT_E_IO, path, "%s",
                               S_ISDIR(st0.st_mode) ? "is a directory" : "not a regular file");
    }
    uint64_t size = (uint64_t)st0.st_size;
    uint8_t *buf = malloc(CKPT_FINGERPRINT_SPAN);
    if (!buf) {
        close(fd);
        return ckpt_error_setf(err, CKPT_E_NOMEM, path, "out of memory");
    }
    struct ckpt_blake3 h;
    ckpt_blake3_init(&h);
    int rc = CKPT_OK;
    /* [0, first) then [tail, size): the whole file when it is at most two spans */
    uint64_t first = size < CKPT_FINGERPRINT_SPAN ? size : CKPT_FINGERPRINT_SPAN;
    uint64_t tail = size <= 2ull * CKPT_FINGERPRINT_SPAN ? first : size - CKPT_FINGERPRINT_SPAN;
    int r = pread_full(fd, buf, (size_t)first, 0);
    if (!r) {
        ckpt_blake3_update(&h, buf, (size_t)first);
        r = pread_full(fd, buf, (size_t)(size - tail), tail);
        if (!r)
            ckpt_blake3_update(&h, buf, (size_t)(size - tail));
    }
    if (r < 0)
        rc = ckpt_error_setf(err, CKPT_E_IO, path, "read failed: %s", strerror(errno));
    else if (r > 0 || fstat(fd, &st1) != 0 || !same_file_state(&st0, &st1))
        rc = ckpt_error_setf(err, CKPT_E_CHANGED, path, "file changed while being read");
    free(buf);
    close(fd);
    if (rc)
        return rc;
    out->size = size;
    ckpt_blake3_finalize(&h, out->digest, 32);
    char hex[65];
    ckpt_hex(out->digest, 32, hex);
    snprintf(out->hex, sizeof out->hex, "%llu-%s", (unsigned long long)size, hex);
    return CKPT_OK;
}
