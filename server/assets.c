/* Finding the page's files: a binary search over the embedded table, or one read from the
 * --web-root folder (development). Only plain names are looked up (ckpt_asset_name_ok). Not for
 * preview images: those are found by model id through the catalog (api.c). */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "assets.h"

int ckpt_asset_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 64 || name[0] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static int cmp(const void *key, const void *elem)
{
    return strcmp(key, ((const struct ckpt_asset *)elem)->name);
}

const struct ckpt_asset *ckpt_asset_find(const char *name)
{
    if (!ckpt_asset_name_ok(name))
        return NULL;
    return bsearch(name, ckpt_assets, ckpt_assets_count, sizeof ckpt_assets[0], cmp);
}

const char *ckpt_asset_mime(const char *name)
{
    static const struct {
        const char *ext, *mime;
    } types[] = {{".html", "text/html; charset=utf-8"},
                 {".css", "text/css; charset=utf-8"},
                 {".js", "text/javascript; charset=utf-8"},
                 {".svg", "image/svg+xml"}};
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        size_t e = strlen(types[i].ext);
        if (n > e && strcmp(name + n - e, types[i].ext) == 0)
            return types[i].mime;
    }
    return NULL;
}

int ckpt_asset_read_disk(const char *web_root, const char *name, size_t max, unsigned char **data,
                         size_t *len)
{
    if (!ckpt_asset_name_ok(name) || !ckpt_asset_mime(name))
        return -1;
    int dfd = open(web_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -1;
    int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    close(dfd);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
        close(fd);
        return -1;
    }
    size_t n = (size_t)st.st_size;
    unsigned char *p = malloc(n + 1);
    size_t got = 0;
    while (p && got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (!p || got != n) {
        free(p);
        return -1;
    }
    p[n] = 0;
    *data = p;
    *len = n;
    return 0;
}
