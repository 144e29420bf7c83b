/* The reader: bounded pread/mmap access to a file, a memory buffer, or a slice of either.
 * It knows nothing about formats; it only guarantees that no read escapes the input and counts
 * what it delivered. Not for writing (see lib/io/atomic.c). */
#include "ckptdb/reader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

enum reader_kind { R_FILE, R_MEMORY, R_SLICE };

struct ckpt_reader {
    enum reader_kind kind;
    char *name;
    uint64_t size;
    uint64_t bytes_read;
    /* file */
    int fd;
    void *map;
    /* memory */
    const unsigned char *data;
    /* slice */
    struct ckpt_reader *parent;
    uint64_t off;
};

static struct ckpt_reader *reader_new(enum reader_kind kind, const char *name)
{
    struct ckpt_reader *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->kind = kind;
    r->fd = -1;
    r->name = strdup(name ? name : "(input)");
    if (!r->name) {
        free(r);
        return NULL;
    }
    return r;
}

int ckpt_reader_open_file(struct ckpt_reader **out, const char *path, struct ckpt_error *err)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ckpt_error_setf(err, CKPT_E_IO, path, "cannot open: %s", strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return ckpt_error_setf(err, CKPT_E_IO, path, "cannot stat: %s", strerror(e));
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return ckpt_error_setf(err, CKPT_E_IO, path, "is a directory");
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return ckpt_error_setf(err, CKPT_E_IO, path, "not a regular file");
    }
    struct ckpt_reader *r = reader_new(R_FILE, path);
    if (!r) {
        close(fd);
        return ckpt_error_setf(err, CKPT_E_NOMEM, path, "out of memory");
    }
    r->fd = fd;
    r->size = (uint64_t)st.st_size;
    *out = r;
    return CKPT_OK;
}

int ckpt_reader_open_memory(struct ckpt_reader **out, const void *data, size_t size,
                            const char *name, struct ckpt_error *err)
{
    *out = NULL;
    struct ckpt_reader *r = reader_new(R_MEMORY, name);
    if (!r)
        return ckpt_error_setf(err, CKPT_E_NOMEM, name, "out of memory");
    r->data = data;
    r->size = size;
    *out = r;
    return CKPT_OK;
}

int ckpt_reader_open_slice(struct ckpt_reader **out, struct ckpt_reader *parent, uint64_t off,
                           uint64_t len, const char *name, struct ckpt_error *err)
{
    *out = NULL;
    if (off > parent->size || len > parent->size - off)
        return ckpt_error_setf(err, CKPT_E_FORMAT, parent->name,
                               "%s: bytes %llu..%llu lie past the end of the file (%llu bytes)",
                               name ? name : "slice", (unsigned long long)off,
                               (unsigned long long)(off + len), (unsigned long long)parent->size);
    struct ckpt_reader *r = reader_new(R_SLICE, name ? name : parent->name);
    if (!r)
        return ckpt_error_setf(err, CKPT_E_NOMEM, parent->name, "out of memory");
    r->parent = parent;
    r->off = off;
    r->size = len;
    *out = r;
    return CKPT_OK;
}

void ckpt_reader_close(struct ckpt_reader *r)
{
    if (!r)
        return;
    if (r->map)
        munmap(r->map, (size_t)r->size);
    if (r->fd >= 0)
        close(r->fd);
    free(r->name);
    free(r);
}

uint64_t ckpt_reader_size(const struct ckpt_reader *r)
{
    return r->size;
}

const char *ckpt_reader_name(const struct ckpt_reader *r)
{
    return r->name;
}

static struct ckpt_reader *root_of(const struct ckpt_reader *r, uint64_t *base)
{
    uint64_t b = 0;
    while (r->kind == R_SLICE) {
        b += r->off;
        r = r->parent;
    }
    if (base)
        *base = b;
    return (struct ckpt_reader *)r;
}

int ckpt_reader_read(struct ckpt_reader *r, uint64_t off, void *buf, size_t len, const char *what,
                     struct ckpt_error *err)
{
    if (off > r->size || len > r->size - off)
        return ckpt_error_setf(err, CKPT_E_FORMAT, r->name,
                               "%s at byte %llu needs %zu bytes but the input ends at %llu",
                               what ? what : "data", (unsigned long long)off, len,
                               (unsigned long long)r->size);
    uint64_t base;
    struct ckpt_reader *root = root_of(r, &base);
    off += base;
    if (root->kind == R_MEMORY) {
        if (len)
            memcpy(buf, root->data + off, len);
    } else {
        unsigned char *p = buf;
        size_t left = len;
        while (left) {
            ssize_t n = pread(root->fd, p, left, (off_t)off);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                return ckpt_error_setf(err, CKPT_E_IO, r->name, "read failed at byte %llu: %s",
                                       (unsigned long long)off, strerror(errno));
            }
            if (n == 0)
                return ckpt_error_setf(err, CKPT_E_CHANGED, r->name,
                                       "file shrank while reading (byte %llu)",
                                       (unsigned long long)off);
            p += n;
            off += (uint64_t)n;
            left -= (size_t)n;
        }
    }
    root->bytes_read += len;
    return CKPT_OK;
}

int ckpt_reader_view(struct ckpt_reader *r, uint64_t off, size_t len, const void **out,
                     struct ckpt_error *err)
{
    *out = NULL;
    if (off > r->size || len > r->size - off)
        return ckpt_error_setf(err, CKPT_E_FORMAT, r->name,
                               "bytes %llu..%llu lie past the end of the input (%llu bytes)",
                               (unsigned long long)off, (unsigned long long)(off + len),
                               (unsigned long long)r->size);
    uint64_t base;
    struct ckpt_reader *root = root_of(r, &base);
    off += base;
    if (root->kind == R_MEMORY) {
        *out = root->data + off;
        return CKPT_OK;
    }
    if (!root->map) {
        if (root->size == 0) {
            static const unsigned char empty[1];
            *out = empty;
            return CKPT_OK;
        }
        if (root->size > SIZE_MAX)
            return ckpt_error_setf(err, CKPT_E_LIMIT, r->name, "file too large to map");
        void *m = mmap(NULL, (size_t)root->size, PROT_READ, MAP_PRIVATE, root->fd, 0);
        if (m == MAP_FAILED)
            return ckpt_error_setf(err, CKPT_E_IO, r->name, "cannot map: %s", strerror(errno));
        root->map = m;
    }
    *out = (const unsigned char *)root->map + off;
    return CKPT_OK;
}

int ckpt_reader_fd(const struct ckpt_reader *r)
{
    return root_of(r, NULL)->fd;
}

uint64_t ckpt_reader_base(const struct ckpt_reader *r)
{
    uint64_t base;
    root_of(r, &base);
    return base;
}

uint64_t ckpt_reader_bytes_read(const struct ckpt_reader *r)
{
    return root_of(r, NULL)->bytes_read;
}
