/* ckptdb serve: start the web page and JSON API over the catalog (server/), print its URL, and
 * run until SIGINT/SIGTERM. Parses arguments and prints; the server is server/http.c. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckptdb/catalog.h"
#include "cli.h"
#include "server.h"

int cmd_serve(struct cli_ctx *ctx, int argc, char **argv)
{
    struct ckpt_server_options o = {.listen = "127.0.0.1:7861"};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if ((strcmp(a, "--listen") == 0 || strcmp(a, "--web-root") == 0) && i + 1 >= argc)
            return cli_usage_error("serve", "%s needs a value", a);
        if (strcmp(a, "--listen") == 0)
            o.listen = argv[++i];
        else if (strncmp(a, "--listen=", 9) == 0)
            o.listen = a + 9;
        else if (strcmp(a, "--web-root") == 0)
            o.web_root = argv[++i];
        else if (strncmp(a, "--web-root=", 11) == 0)
            o.web_root = a + 11;
        else
            return cli_usage_error("serve", "unknown argument '%s'", a);
    }
    char path[4096];
    struct ckpt_error err;
    if (ckpt_catalog_default_path(ctx->db, path, sizeof path, &err)) {
        cli_error("%s", err.msg);
        return EXIT_USAGE;
    }
    o.db_path = path;
    /* block the stop signals before the server's threads start, so only sigwait sees them */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    struct ckpt_server *s;
    int rc = ckpt_server_start(&s, &o, &err);
    if (rc) {
        cli_error("%s", err.msg);
        return rc == CKPT_E_ARG ? EXIT_USAGE : EXIT_INPUT;
    }
    if (!ckpt_server_is_loopback(s))
        cli_error("warning: listening on %s, which is not a loopback address: anyone who can "
                  "reach it can browse this catalog (writes still need the page's token)",
                  o.listen);
    char *shown = ckpt_catalog_display_name(path); /* never the password */
    if (ctx->json)
        printf("{\"url\": \"%s\", \"catalog\": \"%s\"}\n", ckpt_server_url(s), shown ? shown : "");
    else
        printf("ckptdb serve: %s (catalog %s; Ctrl-C stops)\n", ckpt_server_url(s),
               shown ? shown : "");
    free(shown);
    fflush(stdout);
    int sig = 0;
    sigwait(&stop, &sig);
    ckpt_server_stop(s);
    if (!ctx->quiet)
        fprintf(stderr, "ckptdb serve: stopped\n");
    return EXIT_OK;
}
