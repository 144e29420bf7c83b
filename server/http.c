/* The HTTP side of `ckptdb serve`: the libmicrohttpd daemon, its bounds (connections, time,
 * memory, bodies), the security checks every request passes (Host, then for writes the token and
 * the Origin), the route table, and turning api.c's replies into responses. Thin by design: the
 * data of every /api/ route comes from api.c, which calls the catalog library. Not for page
 * logic (web/) or data (api.c). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "api.h"
#include "assets.h"
#include "mhd.h"
#include "server.h"

#define MAX_BODY (64 * 1024) /* a POST body: a few fields of a model */
#define MAX_URL 4096         /* path + query string */
#define MAX_CONNECTIONS 256  /* open connections at once */
#define CONN_TIMEOUT_S 15    /* idle seconds before a connection is closed */
#define CONN_MEMORY                                                                                \
    (16 * 1024)                     /* per-connection buffer: request line + headers (reset, so    \
                                       zeroed, for every request: 64 KiB cost a tenth of a         \
                                       cached reply) */
#define MAX_ASSET (8 * 1024 * 1024) /* a --web-root file */

struct ckpt_server {
    struct MHD_Daemon *d;
    struct ckpt_api *api;
    char token[65];
    char url[128];
    char hosts[5][96]; /* allowed Host header values */
    size_t n_hosts;
    char *web_root;
    int loopback;
};

struct request {
    struct ckpt_buf body;
    int too_big;
};

/* ---- responses ----------------------------------------------------------------------------- */

static void common_headers(struct MHD_Response *resp, const char *mime, int api)
{
    MHD_add_response_header(resp, "Content-Type", mime);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Cache-Control", api ? "no-store" : "no-cache");
    if (!api)
        MHD_add_response_header(resp, "Content-Security-Policy",
                                "default-src 'self'; img-src 'self' data:; style-src 'self' "
                                "'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; "
                                "form-action 'none'");
}

static enum MHD_Result send_buf(struct MHD_Connection *c, int status, const char *mime, char *data,
                                size_t len, int api)
{
    /* MUST_FREE hands data to libmicrohttpd (free() when sent) */
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        len, data ? data : (char *)"", data ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        free(data);
        return MHD_NO;
    }
    common_headers(resp, mime, api);
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result send_reply(struct MHD_Connection *c, struct ckpt_api_reply *r)
{
    if (r->fd >= 0) {
        struct MHD_Response *resp = MHD_create_response_from_fd64(r->fd_size, r->fd);
        if (!resp) {
            close(r->fd);
            return MHD_NO;
        }
        common_headers(resp, r->mime, 1);
        MHD_add_response_header(resp, "Cache-Control", "private, max-age=300");
        enum MHD_Result ret = MHD_queue_response(c, (unsigned)r->status, resp);
        MHD_destroy_response(resp);
        return ret;
    }
    if (r->body.oom) {
        ckpt_buf_free(&r->body);
        return send_buf(c, 500, "application/json",
                        strdup("{\"error\":{\"status\":500,\"code\":\"nomem\",\"message\":\"out "
                               "of memory\"}}"),
                        74, 1);
    }
    char *data = r->body.data;
    size_t len = r->body.len;
    r->body.data = NULL;
    return send_buf(c, r->status, "application/json", data, len, 1);
}

static enum MHD_Result send_error(struct MHD_Connection *c, int status, const char *code,
                                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static enum MHD_Result send_error(struct MHD_Connection *c, int status, const char *code,
                                  const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    struct ckpt_api_reply r = {.fd = -1};
    ckpt_api_error(&r, status, code, "%s", msg);
    return send_reply(c, &r);
}

/* ---- security ------------------------------------------------------------------------------ */

static int host_allowed(const struct ckpt_server *s, const char *host)
{
    if (!host)
        return 0;
    for (size_t i = 0; i < s->n_hosts; i++)
        if (strcasecmp(host, s->hosts[i]) == 0)
            return 1;
    return 0;
}

/* constant-time comparison of the token */
static int token_ok(const struct ckpt_server *s, const char *given)
{
    if (!given || strlen(given) != 64)
        return 0;
    unsigned char diff = 0;
    for (size_t i = 0; i < 64; i++)
        diff |= (unsigned char)(given[i] ^ s->token[i]);
    return diff == 0;
}

/* a write must come from the page itself: Origin is "http://" + the (already checked) Host */
static int origin_ok(const char *origin, const char *host)
{
    if (!origin || !host || strncmp(origin, "http://", 7) != 0)
        return 0;
    return strcasecmp(origin + 7, host) == 0;
}

/* ---- routes -------------------------------------------------------------------------------- */

static const char *arg_get(void *user, const char *key)
{
    return MHD_lookup_connection_value(user, MHD_GET_ARGUMENT_KIND, key);
}

/* "123" -> 123; anything else (empty, signs, dots, slashes, over 18 digits) -> -1 */
static int64_t parse_id(const char *s, size_t n)
{
    if (n == 0 || n > 18)
        return -1;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static enum MHD_Result api_route(struct ckpt_server *s, struct MHD_Connection *c, const char *path,
                                 int post, struct request *rq)
{
    struct ckpt_api_args args = {arg_get, c, post ? ckpt_buf_cstr(&rq->body) : NULL,
                                 post ? rq->body.len : 0};
    struct ckpt_api_reply r = {.fd = -1};
    const char *rest;
    if (!post && strcmp(path, "models") == 0) {
        ckpt_api_models(s->api, &args, &r);
    } else if (!post && strcmp(path, "facets") == 0) {
        ckpt_api_facets(s->api, &args, &r);
    } else if (!post && strcmp(path, "choose") == 0) {
        ckpt_api_choose(s->api, &args, &r);
    } else if (!post && strcmp(path, "dupes") == 0) {
        ckpt_api_dupes(s->api, &r);
    } else if (!post && strcmp(path, "stats") == 0) {
        ckpt_api_stats(s->api, &r);
    } else if (!post && strcmp(path, "taxonomy") == 0) {
        ckpt_api_taxonomy(s->api, &r);
    } else if (!post && strcmp(path, "scan") == 0) {
        ckpt_api_scan_status(s->api, &r);
    } else if (!post && strncmp(path, "preview/", 8) == 0) {
        int64_t id = parse_id(path + 8, strlen(path + 8));
        if (id < 0)
            return send_error(c, 400, "bad-id", "a preview is asked for by model id (digits)");
        ckpt_api_preview(s->api, id, &r);
    } else if (strncmp(path, "models/", 7) == 0) {
        const char *idp = path + 7;
        rest = strchr(idp, '/');
        size_t idn = rest ? (size_t)(rest - idp) : strlen(idp);
        int64_t id = parse_id(idp, idn);
        if (id < 0)
            return send_error(c, 400, "bad-id", "a model is named by its id (digits)");
        if (!rest && !post)
            ckpt_api_model(s->api, id, &r);
        else if (rest && post && strcmp(rest, "/set") == 0)
            ckpt_api_set(s->api, id, &args, &r);
        else if (rest && post && strcmp(rest, "/tag") == 0)
            ckpt_api_tag(s->api, id, &args, &r);
        else if (rest && post && strcmp(rest, "/accept") == 0)
            ckpt_api_accept(s->api, id, &args, &r);
        else
            return send_error(c, post ? 405 : 404, post ? "method" : "not-found",
                              "no such route: %s /api/%s", post ? "POST" : "GET", path);
    } else {
        return send_error(c, 404, "not-found", "no such route: %s /api/%s", post ? "POST" : "GET",
                          path);
    }
    return send_reply(c, &r);
}

/* index.html with the write token put where the page reads it */
static enum MHD_Result send_asset(struct ckpt_server *s, struct MHD_Connection *c, const char *name)
{
    const unsigned char *data;
    size_t len;
    unsigned char *disk = NULL;
    const char *mime;
    if (s->web_root) {
        if (ckpt_asset_read_disk(s->web_root, name, MAX_ASSET, &disk, &len) != 0)
            return send_error(c, 404, "not-found", "no such file: /%s", name);
        data = disk;
        mime = ckpt_asset_mime(name);
    } else {
        const struct ckpt_asset *a = ckpt_asset_find(name);
        if (!a)
            return send_error(c, 404, "not-found", "no such file: /%s", name);
        data = a->data;
        len = a->len;
        mime = a->mime;
    }
    static const char mark[] = "__CKPT_TOKEN__";
    const size_t ml = sizeof mark - 1;
    struct ckpt_buf out = {0};
    if (strcmp(name, "index.html") == 0) {
        const unsigned char *p = data, *end = data + len;
        while (p < end) {
            const unsigned char *hit = memmem(p, (size_t)(end - p), mark, ml);
            if (!hit) {
                ckpt_buf_put(&out, p, (size_t)(end - p));
                break;
            }
            ckpt_buf_put(&out, p, (size_t)(hit - p));
            ckpt_buf_puts(&out, s->token);
            p = hit + ml;
        }
    } else {
        ckpt_buf_put(&out, data, len);
    }
    free(disk);
    if (out.oom) {
        ckpt_buf_free(&out);
        return send_error(c, 500, "nomem", "out of memory");
    }
    return send_buf(c, 200, mime, out.data, out.len, 0);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **con_cls)
{
    (void)version;
    struct ckpt_server *s = cls;
    struct request *rq = *con_cls;
    if (!rq) {
        rq = calloc(1, sizeof *rq);
        if (!rq)
            return MHD_NO;
        *con_cls = rq;
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (rq->body.len + *upload_data_size > MAX_BODY)
            rq->too_big = 1;
        else
            ckpt_buf_put(&rq->body, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
    if (!host_allowed(s, host))
        return send_error(c, 403, "host",
                          "Host '%.100s' is not this server's address (DNS rebinding guard)",
                          host ? host : "");
    int post = strcmp(method, "POST") == 0;
    if (!post && strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return send_error(c, 405, "method", "method %.16s is not allowed", method);
    if (strlen(url) > MAX_URL)
        return send_error(c, 414, "uri-too-long", "the request path is longer than %d bytes",
                          MAX_URL);
    if (strncmp(url, "/api/", 5) == 0) {
        if (post) {
            if (!token_ok(s, MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Ckpt-Token")))
                return send_error(c, 403, "token", "a write needs the page's token");
            if (!origin_ok(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin"), host))
                return send_error(c, 403, "origin", "a write must come from the page itself");
            if (rq->too_big)
                return send_error(c, 413, "too-large", "the request body is over %d bytes",
                                  MAX_BODY);
            const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
            if (!ct || strncmp(ct, "application/json", 16) != 0)
                return send_error(c, 415, "content-type", "a write's body is application/json");
        }
        return api_route(s, c, url + 5, post, rq);
    }
    if (post)
        return send_error(c, 405, "method", "POST is only for /api/ routes");
    const char *name = url[0] == '/' ? url + 1 : url;
    if (!*name)
        name = "index.html";
    return send_asset(s, c, name);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    struct request *rq = *con_cls;
    if (rq) {
        ckpt_buf_free(&rq->body);
        free(rq);
        *con_cls = NULL;
    }
}

/* ---- start / stop -------------------------------------------------------------------------- */

static int parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *sl,
                        char *addr_text, size_t atn, struct ckpt_error *err)
{
    const char *colon = strrchr(listen, ':');
    if (!colon || colon == listen)
        return ckpt_error_set(err, CKPT_E_ARG, "--listen '%s': expected ADDR:PORT", listen);
    char *end;
    errno = 0;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (errno || *end || colon[1] == 0 || port > 65535)
        return ckpt_error_set(err, CKPT_E_ARG, "--listen '%s': bad port", listen);
    size_t al = (size_t)(colon - listen);
    char a[INET6_ADDRSTRLEN + 2];
    if (al >= sizeof a)
        return ckpt_error_set(err, CKPT_E_ARG, "--listen '%s': bad address", listen);
    memcpy(a, listen, al);
    a[al] = 0;
    memset(ss, 0, sizeof *ss);
    if (a[0] == '[' && al > 2 && a[al - 1] == ']') {
        a[al - 1] = 0;
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
        if (inet_pton(AF_INET6, a + 1, &s6->sin6_addr) != 1)
            return ckpt_error_set(err, CKPT_E_ARG, "--listen '%s': bad IPv6 address", listen);
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        *sl = sizeof *s6;
        snprintf(addr_text, atn, "[%s]", a + 1);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
        if (strcmp(a, "localhost") == 0)
            strcpy(a, "127.0.0.1");
        if (inet_pton(AF_INET, a, &s4->sin_addr) != 1)
            return ckpt_error_set(
                err, CKPT_E_ARG, "--listen '%s': bad IPv4 address (IPv6 goes in brackets)", listen);
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        *sl = sizeof *s4;
        snprintf(addr_text, atn, "%s", a);
    }
    return CKPT_OK;
}

static int is_loopback(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
    return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

int ckpt_server_start(struct ckpt_server **out, const struct ckpt_server_options *o,
                      struct ckpt_error *err)
{
    *out = NULL;
    struct sockaddr_storage ss;
    socklen_t sl;
    char addr[INET6_ADDRSTRLEN + 4];
    int rc =
        parse_listen(o->listen ? o->listen : "127.0.0.1:7861", &ss, &sl, addr, sizeof addr, err);
    if (rc)
        return rc;
    if ((rc = ckpt_mhd_load(err)))
        return rc;
    struct ckpt_server *s = calloc(1, sizeof *s);
    if (!s)
        return ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
    unsigned char rnd[32];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
        free(s);
        return ckpt_error_set(err, CKPT_E_IO, "getrandom: %s", strerror(errno));
    }
    for (size_t i = 0; i < sizeof rnd; i++)
        snprintf(s->token + 2 * i, 3, "%02x", rnd[i]);
    s->loopback = is_loopback(&ss);
    if (o->web_root && !(s->web_root = strdup(o->web_root))) {
        free(s);
        return ckpt_error_set(err, CKPT_E_NOMEM, "out of memory");
    }
    rc = ckpt_api_new(&s->api, o->db_path, err);
    if (rc) {
        free(s->web_root);
        free(s);
        return rc;
    }
    unsigned threads = o->threads ? o->threads : 4;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    s->d = MHD_start_daemon(flags, 0, NULL, NULL, handle, s, MHD_OPTION_SOCK_ADDR,
                            (struct sockaddr *)&ss, MHD_OPTION_THREAD_POOL_SIZE, threads,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)MAX_CONNECTIONS,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONN_TIMEOUT_S,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
                            MHD_OPTION_NOTIFY_COMPLETED, completed, s, MHD_OPTION_END);
    if (!s->d) {
        ckpt_api_free(s->api);
        free(s->web_root);
        free(s);
        return ckpt_error_set(err, CKPT_E_IO,
                              "cannot listen on %s (in use, or not an address "
                              "of this machine?)",
                              o->listen ? o->listen : "127.0.0.1:7861");
    }
    ckpt_api_prebuild(s->api); /* facets and stats need it; the first page comes sooner */
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    unsigned port = di ? di->port : 0;
    snprintf(s->url, sizeof s->url, "http://%s:%u/", addr, port);
    const char *names[] = {addr, "localhost", "127.0.0.1", "[::1]"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        snprintf(s->hosts[s->n_hosts++], sizeof s->hosts[0], "%s:%u", names[i], port);
    *out = s;
    return CKPT_OK;
}

const char *ckpt_server_url(const struct ckpt_server *s)
{
    return s->url;
}

const char *ckpt_server_token(const struct ckpt_server *s)
{
    return s->token;
}

int ckpt_server_is_loopback(const struct ckpt_server *s)
{
    return s->loopback;
}

void ckpt_server_stop(struct ckpt_server *s)
{
    if (!s)
        return;
    MHD_stop_daemon(s->d);
    ckpt_api_free(s->api);
    free(s->web_root);
    free(s);
}
