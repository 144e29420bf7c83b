/* organize's file operations: folders made on demand, renames that never replace anything, and
 * the verified cross-filesystem copy (temporary name, fsync, re-read from disk, SHA-256 compare,
 * rename into place), plus the kill points the crash tests place between them. Not for deciding
 * what to do (plan.c, apply.c) or for the catalog (journal.c). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ckptdb/hash.h"
#include "organize/organize_impl.h"

#define COPY_CHUNK (1u << 20)

void org_kill_point(void)
{
    static long left = -2; /* -2: not read yet, -1: off */
    if (left == -2) {
        const char *e = getenv("CKPTDB_TEST_KILL_AFTER_STEPS");
        left = e && *e ? strtol(e, NULL, 10) : -1;
        if (left <= 0)
            left = -1;
    }
    if (left > 0 && --left == 0)
        kill(getpid(), SIGKILL);
}

int org_make_parent(const char *path, struct ckpt_error *err)
{
    char *d = strdup(path);
    if (!d)
        return ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
    char *slash = strrchr(d, '/');
    if (!slash || slash == d) {
        free(d);
        return CKPT_OK;
    }
    *slash = 0;
    struct stat st;
    if (stat(d, &st) == 0 && S_ISDIR(st.st_mode)) {
        free(d);
        return CKPT_OK;
    }
    for (char *p = d + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(d, 0777) != 0 && errno != EEXIST) {
            int e = errno;
            int rc = ckpt_error_setf(err, CKPT_E_IO, d, "cannot make the folder: %s", strerror(e));
            free(d);
            return rc;
        }
        *p = '/';
    }
    if (mkdir(d, 0777) != 0 && errno != EEXIST) {
        int rc = ckpt_error_setf(err, CKPT_E_IO, d, "cannot make the folder: %s", strerror(errno));
        free(d);
        return rc;
    }
    if (stat(d, &st) != 0 || !S_ISDIR(st.st_mode)) {
        int rc = ckpt_error_setf(err, CKPT_E_IO, d, "is in the way: not a folder");
        free(d);
        return rc;
    }
    free(d);
    return CKPT_OK;
}

int org_rename_noreplace(const char *from, const char *to)
{
    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return errno;
    /* a filesystem without RENAME_NOREPLACE: link + unlink for files (link never replaces) */
    struct stat st;
    if (lstat(from, &st) != 0)
        return errno;
    if (S_ISDIR(st.st_mode)) {
        if (lstat(to, &st) == 0)
            return EEXIST;
        return rename(from, to) == 0 ? 0 : errno;
    }
    if (link(from, to) == 0)
        return unlink(from) == 0 ? 0 : errno;
    if (errno != EPERM && errno != ENOTSUP && errno != EOPNOTSUPP)
        return errno;
    /* no hard links either (FAT, exFAT): check, then rename (only this process writes DST's
       name; the window is the one any copy tool has there) */
    if (lstat(to, &st) == 0)
        return EEXIST;
    return rename(from, to) == 0 ? 0 : errno;
}

void org_fsync_parent(const char *path)
{
    char *d = strdup(path);
    if (!d)
        return;
    char *slash = strrchr(d, '/');
    if (slash) {
        if (slash == d)
            slash[1] = 0;
        else
            *slash = 0;
        int fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0) {
            fsync(fd);
            close(fd);
        }
    }
    free(d);
}

static int hash_fd(int fd, const char *path, char hex[65], struct ckpt_error *err)
{
    struct ckpt_sha256 s;
    int rc = ckpt_sha256_init(&s, err);
    if (rc)
        return rc;
    unsigned char *buf = malloc(COPY_CHUNK);
    if (!buf) {
        ckpt_sha256_release(&s);
        return ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
    }
    off_t off = 0;
    for (;;) {
        ssize_t n = pread(fd, buf, COPY_CHUNK, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = ckpt_error_setf(err, CKPT_E_IO, path, "cannot read: %s", strerror(errno));
            break;
        }
        if (n == 0)
            break;
        ckpt_sha256_update(&s, buf, (size_t)n);
        off += n;
    }
    uint8_t d[32];
    ckpt_sha256_final(&s, d);
    ckpt_sha256_release(&s);
    free(buf);
    if (rc == CKPT_OK)
        ckpt_hex(d, 32, hex);
    return rc;
}

int org_sha256_file(const char *path, char hex[65], struct ckpt_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ckpt_error_setf(err, CKPT_E_IO, path, "cannot open: %s", strerror(errno));
    int rc = hash_fd(fd, path, hex, err);
    close(fd);
    return rc;
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int org_copy_verified(const char *from, const char *to, const char *expect_sha256, uint64_t *bytes,
                      struct ckpt_error *err)
{
    char *part = NULL;
    if (asprintf(&part, "%s%s", to, ORG_PART_SUFFIX) < 0)
        return ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        int rc = ckpt_error_setf(err, CKPT_E_IO, from, "cannot open: %s", strerror(errno));
        free(part);
        return rc;
    }
    struct stat st;
    if (fstat(in, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(in);
        free(part);
        return ckpt_error_setf(err, CKPT_E_IO, from, "not a regular file");
    }
    unlink(part); /* a leftover of a killed run: never a file anyone else named */
    int out = open(part, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st.st_mode & 07777);
    if (out < 0) {
        int rc = ckpt_error_setf(err, CKPT_E_IO, part, "cannot create: %s", strerror(errno));
        close(in);
        free(part);
        return rc;
    }
    int rc = CKPT_OK;
    struct ckpt_sha256 s;
    unsigned char *buf = malloc(COPY_CHUNK);
    if (!buf) {
        rc = ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = ckpt_sha256_init(&s, err)) != CKPT_OK)
        goto out;
    uint64_t copied = 0;
    for (;;) {
        ssize_t n = read(in, buf, COPY_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = ckpt_error_setf(err, CKPT_E_IO, from, "cannot read: %s", strerror(errno));
            break;
        }
        if (n == 0)
            break;
        ckpt_sha256_update(&s, buf, (size_t)n);
        if (write_all(out, buf, (size_t)n) != 0) {
            rc = ckpt_error_setf(err, CKPT_E_IO, part, "cannot write: %s", strerror(errno));
            break;
        }
        copied += (uint64_t)n;
    }
    uint8_t d[32];
    ckpt_sha256_final(&s, d);
    ckpt_sha256_release(&s);
    if (rc)
        goto out;
    char src_hex[65], dst_hex[65];
    ckpt_hex(d, 32, src_hex);
    if (expect_sha256 && *expect_sha256 && strcasecmp(expect_sha256, src_hex) != 0) {
        rc = ckpt_error_setf(err, CKPT_E_IO, from,
                             "changed since it was catalogued (sha256 %.12s..., catalog says "
                             "%.12s...); run scan first",
                             src_hex, expect_sha256);
        goto out;
    }
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    futimens(out, times);
    if (fsync(out) != 0) {
        rc = ckpt_error_setf(err, CKPT_E_IO, part, "cannot sync: %s", strerror(errno));
        goto out;
    }
    org_kill_point();
    /* the pages are clean now: drop them so the check reads what reached the disk */
    posix_fadvise(out, 0, 0, POSIX_FADV_DONTNEED);
    int ver = open(part, O_RDONLY | O_CLOEXEC);
    if (ver < 0) {
        rc = ckpt_error_setf(err, CKPT_E_IO, part, "cannot reopen: %s", strerror(errno));
        goto out;
    }
    rc = hash_fd(ver, part, dst_hex, err);
    close(ver);
    if (rc)
        goto out;
    if (strcmp(src_hex, dst_hex) != 0) {
        rc = ckpt_error_setf(err, CKPT_E_IO, to,
                             "the copy does not read back the same (sha256 %.12s... vs "
                             "%.12s...); the source is kept",
                             dst_hex, src_hex);
        goto out;
    }
    int e = org_rename_noreplace(part, to);
    if (e) {
        rc = ckpt_error_setf(err, CKPT_E_IO, to, "cannot put the copy in place: %s", strerror(e));
        goto out;
    }
    org_fsync_parent(to);
    *bytes += copied;
out:
    free(buf);
    close(in);
    close(out);
    if (rc)
        unlink(part);
    free(part);
    return rc;
}
