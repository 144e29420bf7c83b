/* Atomic file creation: temporary file in the same folder, fsync, rename, fsync the folder.
 * Every file ckptdb writes goes through here. Not for reading. */
#include "ckptdb/atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
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
};

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
    int rc = CKPT_OK;
    if (ftruncate(f->fd, (off_t)f->size) != 0)
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
    if (f->fd >= 0)
        close(f->fd);
    unlink(f->tmp);
    release(f);
}
