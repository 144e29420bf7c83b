/* Loading libmicrohttpd for `ckptdb serve` (see mhd.h for why it is not linked): dlopen by its
 * soname, then each function the server calls by name. Not for anything HTTP itself (http.c). */
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <string.h>

#include "mhd.h"

#ifndef CKPT_MHD_SONAME
#define CKPT_MHD_SONAME "libmicrohttpd.so.12"
#endif

struct ckpt_mhd ckpt_mhd;

static pthread_mutex_t load_mu = PTHREAD_MUTEX_INITIALIZER;
static void *handle;

int ckpt_mhd_load(struct ckpt_error *err)
{
    static const struct {
        const char *name;
        size_t off;
    } fns[] = {
        {"MHD_start_daemon", offsetof(struct ckpt_mhd, start_daemon)},
        {"MHD_stop_daemon", offsetof(struct ckpt_mhd, stop_daemon)},
        {"MHD_get_daemon_info", offsetof(struct ckpt_mhd, get_daemon_info)},
        {"MHD_create_response_from_buffer", offsetof(struct ckpt_mhd, create_response_from_buffer)},
        {"MHD_create_response_from_fd64", offsetof(struct ckpt_mhd, create_response_from_fd64)},
        {"MHD_add_response_header", offsetof(struct ckpt_mhd, add_response_header)},
        {"MHD_queue_response", offsetof(struct ckpt_mhd, queue_response)},
        {"MHD_destroy_response", offsetof(struct ckpt_mhd, destroy_response)},
        {"MHD_lookup_connection_value", offsetof(struct ckpt_mhd, lookup_connection_value)},
    };
    int rc = CKPT_OK;
    pthread_mutex_lock(&load_mu);
    if (handle)
        goto out;
    void *h = dlopen(CKPT_MHD_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        rc = ckpt_error_set(err, CKPT_E_UNSUPPORTED,
                            "serve needs libmicrohttpd (%s), which cannot be loaded: %s",
                            CKPT_MHD_SONAME, dlerror());
        goto out;
    }
    struct ckpt_mhd t;
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
        void *f = dlsym(h, fns[i].name);
        if (!f) {
            dlclose(h);
            rc = ckpt_error_set(err, CKPT_E_UNSUPPORTED, "%s has no %s (too old?)", CKPT_MHD_SONAME,
                                fns[i].name);
            goto out;
        }
        /* POSIX: the object pointer dlsym returns holds the function's address */
        memcpy((char *)&t + fns[i].off, &f, sizeof f);
    }
    ckpt_mhd = t;
    handle = h;
out:
    pthread_mutex_unlock(&load_mu);
    return rc;
}
