/* ckptdb's web server: the page and its JSON API over one catalog, on libmicrohttpd.
 *
 * What it guarantees (http.c): every request's Host header must name the listening address,
 * localhost, 127.0.0.1 or [::1] with the listening port (DNS rebinding); every write (POST) must
 * carry the per-process token the page receives in index.html and an Origin equal to the page's
 * own; request URLs, headers and bodies are bounded; connections are limited in number and time
 * out, and no handler blocks on a client (libmicrohttpd's event loop), so a slow or broken client
 * cannot stall the others. Preview images are looked up by model id through the catalog; no part
 * of a request path reaches the filesystem except one plain file name under --web-root.
 *
 * Ownership: ckpt_server_start returns an owned handle; ckpt_server_stop stops and frees it. */
#ifndef CKPT_SERVER_H
#define CKPT_SERVER_H

#include "ckptdb/error.h"

struct ckpt_server;

struct ckpt_server_options {
    const char *listen;   /* "ADDR:PORT" (IPv4 or [IPv6]); port 0 picks a free one */
    const char *db_path;  /* the catalog file */
    const char *web_root; /* NULL: the embedded page; else serve web/ files from this folder */
    unsigned threads;     /* request threads; 0 = 4 */
};

int ckpt_server_start(struct ckpt_server **out, const struct ckpt_server_options *o,
                      struct ckpt_error *err);
/* "http://ADDR:PORT/" (borrowed, valid until stop). */
const char *ckpt_server_url(const struct ckpt_server *s);
/* The per-process write token (borrowed). */
const char *ckpt_server_token(const struct ckpt_server *s);
/* 1 when the listening address is a loopback address. */
int ckpt_server_is_loopback(const struct ckpt_server *s);
void ckpt_server_stop(struct ckpt_server *s);

#endif
