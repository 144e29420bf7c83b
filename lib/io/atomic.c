/* Atomic file creation: temporary file in the same folder, fsync, rename, fsync the folder.
 * Every file ckptdb writes goes through here. Not for reading.
 *
 * Streaming mode (ckpt_atomic_stream, for multi-GB outputs written front to back): writes are
 * gathered into 8 MiB aligned blocks that a writer thread hands to the kernel while the caller
 * computes the next ones (up to 4 blocks queued). The blocks go through an O_DIRECT descriptor when
 * the filesystem allows it (no copy into the page cache, whose cost dominated a merge here: 2.1 GB
 * buffered took 3-5 s of system time, O_DIRECT 0.2 s), else through the ordinary descriptor
 * followed by sync_file_range(WRITE) so that write-back runs during the job instead of in the final
 * fsync. The last partial block goes through the ordinary descriptor; commit still fsyncs once
 * before the rename. */
#include "ckptdb/atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct ckpt_atomic_file {
    int fd;
    int force;
    char *path;
    char *tmp;
    uint64_t off;
    uint64_t size; /* high-water mark, for trailing holes */
    struct stream *st;
};

#define STREAM_BLOCK ((size_t)8 << 20) /* a multiple of every O_DIRECT alignment */
#define STREAM_NBUF 4 /* blocks queued: absorbs the disk's and scheduler's jitter */

struct stream {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int fd, dfd; /* ordinary and O_DIRECT (-1: none) descriptors */
    unsigned char *buf[STREAM_NBUF];
    uint64_t off[STREAM_NBUF]; /* file offset of each queued block */
    int cur;                   /* block being filled */
    size_t fill;               /* bytes in buf[cur] */
    uint64_t base;             /* file offset of buf[cur] */
    int head, queued;          /* the oldest block queued for the writer, how many are queued */
    int stop;                  /* the writer must end */
    int err_no;                /* first write error (errno) */
};

static int write_all(int fd, const unsigned char *p, size_t len, uint64_t off)
{
    while (len) {
        ssize_t w = pwrite(fd, p, len, (off_t)off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return errno;
        if (w == 0)
            return EIO;
        p += w;
        len -= (size_t)w;
        off += (uint64_t)w;
    }
    return 0;
}

static void *stream_main(void *arg)
{
    struct stream *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->queued && !s->stop)
            pthread_cond_wait(&s->cv, &s->mu);
        if (!s->queued)
            break;
        const unsigned char *p = s->buf[s->head];
        uint64_t off = s->off[s->head];
        pthread_mutex_unlock(&s->mu);
        int e = EINVAL;
        if (s->dfd >= 0 && (e = write_all(s->dfd, p, STREAM_BLOCK, off)) == EINVAL) {
            close(s->dfd); /* the filesystem refuses this alignment: buffered from now on */
            s->dfd = -1;
        }
        if (s->dfd < 0 && (e = write_all(s->fd, p, STREAM_BLOCK, off)) == 0)
            sync_file_range(s->fd, (off_t)off, (off_t)STREAM_BLOCK, SYNC_FILE_RANGE_WRITE);
        pthread_mutex_lock(&s->mu);
        if (e && !s->err_no)
            s->err_no = e;
        s->head = (s->head + 1) % STREAM_NBUF;
        s->queued--;
        pthread_cond_broadcast(&s->cv);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* Wait until the writer is idle; its first error, if any. */
static int stream_wait(struct stream *s)
{
    pthread_mutex_lock(&s->mu);
    while (s->queued)
        pthread_cond_wait(&s->cv, &s->mu);
    int e = s->err_no;
    pthread_mutex_unlock(&s->mu);
    return e;
}

static void stream_end(struct ckpt_atomic_file *f)
{
    struct stream *s = f->st;
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->stop = 1;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->th, NULL);
    if (s->dfd >= 0)
        close(s->dfd);
    for (int i = 0; i < STREAM_NBUF; i++)
        free(s->buf[i]);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
    f->st = NULL;
}

int ckpt_atomic_stream(struct ckpt_atomic_file *f)
{
    if (f->st || f->off || f->size)
        return CKPT_OK;
    struct stream *s = calloc(1, sizeof *s);
    if (!s)
        return CKPT_OK;
    s->fd = f->fd;
    for (int i = 0; i < STREAM_NBUF; i++)
        if (posix_memalign((void **)&s->buf[i], 4096, STREAM_BLOCK)) {
            while (i--)
                free(s->buf[i]);
            free(s);
            return CKPT_OK;
        }
    s->dfd = open(f->tmp, O_WRONLY | O_DIRECT | O_CLOEXEC);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    if (pthread_create(&s->th, NULL, stream_main, s) != 0) {
        if (s->dfd >= 0)
            close(s->dfd);
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->cv);
        for (int i = 0; i < STREAM_NBUF; i++)
            free(s->buf[i]);
        free(s);
        return CKPT_OK;
    }
    f->st = s;
    return CKPT_OK;
}

static int stream_write(struct ckpt_atomic_file *f, const unsigned char *p, size_t len,
                        struct ckpt_error *err)
{
    struct stream *s = f->st;
    while (len) {
        size_t n = STREAM_BLOCK - s->fill < len ? STREAM_BLOCK - s->fill : len;
        if (p)
            memcpy(s->buf[s->cur] + s->fill, p, n);
        else
            memset(s->buf[s->cur] + s->fill, 0, n);
        s->fill += n;
        len -= n;
        if (p)
            p += n;
        f->off += n;
        if (s->fill < STREAM_BLOCK)
            break;
        /* queue the full block (it is the one after the queued ones), then wait until the next
           buffer is free */
        pthread_mutex_lock(&s->mu);
        s->off[s->cur] = s->base;
        s->queued++;
        pthread_cond_broadcast(&s->cv);
        while (s->queued == STREAM_NBUF)
            pthread_cond_wait(&s->cv, &s->mu);
        int e = s->err_no;
        pthread_mutex_unlock(&s->mu);
        s->cur = (s->cur + 1) % STREAM_NBUF;
        s->base += STREAM_BLOCK;
        s->fill = 0;
        if (e)
            return ckpt_error_setf(err, CKPT_E_IO, f->path, "write failed: %s", strerror(e));
    }
    if (f->off > f->size)
        f->size = f->off;
    return CKPT_OK;
}

/* Write the partial last block and stop the writer. */
static int stream_flush(struct ckpt_atomic_file *f, struct ckpt_error *err)
{
    struct stream *s = f->st;
    int e = stream_wait(s);
    if (!e && s->fill)
        e = write_all(f->fd, s->buf[s->cur], s->fill, s->base);
    stream_end(f);
    if (e)
        return ckpt_error_setf(err, CKPT_E_IO, f->path, "write failed: %s", strerror(e));
    return CKPT_OK;
}

int ckpt_atomic_open(struct ckpt_atomic_file **out, const char *path, int force,
                     struct ckpt_error *err)
{
    *out = NULL;
    struct stat st;
    if (!force && lstat(path, &st) == 0)
        return ckpt_error_setf(err, CKPT_E_IO, path, "already exists (use --force to replace it)");
    struct ckpt_atomic_file *f = calloc(1, sizeof *f);
    if (!f)
        return ckpt_error_setf(err, CKPT_E_NOMEM, path, "out of memory");
    f->force = force;
    f->path = strdup(path);
    size_t n = strlen(path) + 32;
    f->tmp = malloc(n);
    if (!f->path || !f->tmp) {
        free(f->path);
        free(f->tmp);
        free(f);
        return ckpt_error_setf(err, CKPT_E_NOMEM, path, "out of memory");
    }
    /* temp name: same folder, hidden, unique */
    char *dcopy = strdup(path), *bcopy = strdup(path);
    if (!dcopy || !bcopy) {
        free(dcopy);
        free(bcopy);
        free(f->path);
        free(f->tmp);
        free(f);
        return ckpt_error_setf(err, CKPT_E_NOMEM, path, "out of memory");
    }
    const char *dir = dirname(dcopy), *base = basename(bcopy);
    free(f->tmp);
    n = strlen(dir) + strlen(base) + 40;
    f->tmp = malloc(n);
    int fd = -1;
    for (int attempt = 0; f->tmp && attempt < 100; attempt++) {
        snprintf(f->tmp, n, "%s/.%s.%ld.%d.tmp", dir, base, (long)getpid(), attempt);
        fd = open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd >= 0 || errno != EEXIST)
            break;
    }
    int e = errno;
    free(dcopy);
    free(bcopy);
    if (fd < 0) {
        free(f->path);
        free(f->tmp);
        free(f);
        return ckpt_error_setf(err, CKPT_E_IO, path, "cannot create a temporary file: %s",
                               strerror(e));
    }
    f->fd = fd;
    *out = f;
    return CKPT_OK;
}

int ckpt_atomic_write(struct ckpt_atomic_file *f, const void *data, size_t len,
                      struct ckpt_error *err)
{
    const unsigned char *p = data;
    if (f->st)
        return stream_write(f, p, len, err);
    while (len) {
        ssize_t w = pwrite(f->fd, p, len, (off_t)f->off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return ckpt_error_setf(err, CKPT_E_IO, f->path, "write failed: %s", strerror(errno));
        }
        p += w;
        len -= (size_t)w;
        f->off += (uint64_t)w;
    }
    if (f->off > f->size)
        f->size = f->off;
    return CKPT_OK;
}

int ckpt_atomic_skip(struct ckpt_atomic_file *f, uint64_t len, struct ckpt_error *err)
{
    if (f->st) { /* blocks are written whole: zeros instead of a hole */
        if (len > UINT64_MAX - f->off)
            return ckpt_error_setf(err, CKPT_E_ARG, f->path, "file offset overflows");
        for (; len; len -= len < STREAM_BLOCK ? len : STREAM_BLOCK) {
            int rc = stream_write(f, NULL, (size_t)(len < STREAM_BLOCK ? len : STREAM_BLOCK), err);
            if (rc)
                return rc;
        }
        return CKPT_OK;
    }
    if (__builtin_add_overflow(f->off, len, &f->off))
        return ckpt_error_setf(err, CKPT_E_ARG, f->path, "file offset overflows");
    (void)err;
    if (f->off > f->size)
        f->size = f->off;
    return CKPT_OK;
}

uint64_t ckpt_atomic_offset(const struct ckpt_atomic_file *f)
{
    return f->off;
}

const char *ckpt_atomic_path(const struct ckpt_atomic_file *f)
{
    return f->path;
}

static void fsync_dir(const char *path)
{
    char *d = strdup(path);
    if (!d)
        return;
    int fd = open(dirname(d), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(d);
}

static void release(struct ckpt_atomic_file *f)
{
    free(f->path);
    free(f->tmp);
    free(f);
}

int ckpt_atomic_commit(struct ckpt_atomic_file *f, struct ckpt_error *err)
{
    int rc = f->st ? stream_flush(f, err) : CKPT_OK;
    if (!rc && ftruncate(f->fd, (off_t)f->size) != 0)
        rc = ckpt_error_setf(err, CKPT_E_IO, f->path, "cannot set the file size: %s",
                             strerror(errno));
    if (!rc && fsync(f->fd) != 0)
        rc = ckpt_error_setf(err, CKPT_E_IO, f->path, "fsync failed: %s", strerror(errno));
    if (close(f->fd) != 0 && !rc)
        rc = ckpt_error_setf(err, CKPT_E_IO, f->path, "close failed: %s", strerror(errno));
    f->fd = -1;
    if (!rc) {
        int r;
        if (f->force)
            r = rename(f->tmp, f->path);
        else
            r = renameat2(AT_FDCWD, f->tmp, AT_FDCWD, f->path, RENAME_NOREPLACE);
        if (r != 0) {
            if (errno == EEXIST)
                rc = ckpt_error_setf(err, CKPT_E_IO, f->path,
                                     "already exists (use --force to replace it)");
            else
                rc = ckpt_error_setf(err, CKPT_E_IO, f->path, "cannot rename into place: %s",
                                     strerror(errno));
        }
    }
    if (rc)
        unlink(f->tmp);
    else
        fsync_dir(f->path);
    release(f);
    return rc;
}

void ckpt_atomic_abort(struct ckpt_atomic_file *f)
{
    if (!f)
        return;
    stream_end(f);
    if (f->fd >= 0)
        close(f->fd);
    unlink(f->tmp);
    release(f);
}
