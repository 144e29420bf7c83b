/* Loading libpq for a PostgreSQL catalog (see pq_load.h for why it is not linked): dlopen by
 * its soname on the first postgresql:// open, then each function db_pg.c calls by name. */
#define CKPT_PQ_LOAD_IMPL
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "catalog/pq_load.h"

#ifndef CKPT_PQ_SONAME
#define CKPT_PQ_SONAME "libpq.so.5"
#endif

struct ckpt_pq ckpt_pq;

static pthread_mutex_t load_mu = PTHREAD_MUTEX_INITIALIZER;
static void *handle;

int ckpt_pq_load(char *msg, size_t n)
{
#define CKPT_PQ_NAME(f) #f,
    static const char *const names[] = {CKPT_PQ_FUNCTIONS(CKPT_PQ_NAME)};
#undef CKPT_PQ_NAME
    int rc = 0;
    pthread_mutex_lock(&load_mu);
    if (handle)
        goto out;
    void *h = dlopen(CKPT_PQ_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(msg, n, "a postgresql:// catalog needs libpq (%s), which cannot be loaded: %s",
                 CKPT_PQ_SONAME, dlerror());
        rc = -1;
        goto out;
    }
    struct ckpt_pq t;
    void **slot = (void **)&t; /* the struct is one function pointer per name, in order */
    _Static_assert(sizeof t == sizeof names / sizeof names[0] * sizeof(void *),
                   "struct ckpt_pq holds one pointer per name");
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        void *f = dlsym(h, names[i]);
        if (!f) {
            dlclose(h);
            snprintf(msg, n, "%s has no %s (too old?)", CKPT_PQ_SONAME, names[i]);
            rc = -1;
            goto out;
        }
        /* POSIX: the object pointer dlsym returns holds the function's address */
        memcpy(&slot[i], &f, sizeof f);
    }
    ckpt_pq = t;
    handle = h;
out:
    pthread_mutex_unlock(&load_mu);
    return rc;
}
