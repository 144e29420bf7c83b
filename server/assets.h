/* The page's static files: the copy embedded at build time (tools/embed_assets.c writes the
 * table, sorted by name) or, for development, the same files read from a folder on disk.
 * Names are plain file names ("index.html", "app.js"); anything with a slash, a leading dot or
 * another character outside [A-Za-z0-9._-] is refused before any look-up, so no request path
 * reaches the filesystem beyond one file name inside the web root. */
#ifndef CKPT_SERVER_ASSETS_H
#define CKPT_SERVER_ASSETS_H

#include <stddef.h>

struct ckpt_asset {
    const char *name, *mime;
    const unsigned char *data;
    size_t len;
};

extern const struct ckpt_asset ckpt_assets[];
extern const size_t ckpt_assets_count;

/* 1 when name is a plain asset name (see above). */
int ckpt_asset_name_ok(const char *name);
/* The embedded asset, or NULL. */
const struct ckpt_asset *ckpt_asset_find(const char *name);
/* The MIME type for a file name by extension (text/html, ...), or NULL for an unknown one. */
const char *ckpt_asset_mime(const char *name);
/* Read web_root/name into a malloc'd buffer (at most max bytes). 0 on success, -1 otherwise. */
int ckpt_asset_read_disk(const char *web_root, const char *name, size_t max, unsigned char **data,
                         size_t *len);

#endif
