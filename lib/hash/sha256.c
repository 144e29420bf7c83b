/* SHA-256 through libcrypto's EVP interface, which uses SHA-NI (or the best assembly) the CPU
 * offers, plus the hex helper the hash modules share. Not a SHA-256 implementation of its own:
 * OpenSSL's is at the hardware limit. libcrypto is loaded (dlopen) on the first SHA-256, not
 * linked: linked, it cost every command ~120 page faults and ~3.5 ms at start (its 21,000
 * relocations and its initialisers), while list, search, show and serve never hash. */
#include <dlfcn.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "ckptdb/hash.h"

#ifndef CKPT_CRYPTO_SONAME
#define CKPT_CRYPTO_SONAME "libcrypto.so.3"
#endif

/* the libcrypto functions used here, by name */
#define CKPT_CRYPTO_FUNCTIONS(X)                                                                   \
    X(EVP_MD_fetch)                                                                                \
    X(EVP_sha256)                                                                                  \
    X(EVP_MD_CTX_new)                                                                              \
    X(EVP_MD_CTX_free)                                                                             \
    X(EVP_DigestInit_ex)                                                                           \
    X(EVP_DigestUpdate)                                                                            \
    X(EVP_DigestFinal_ex)

#define CKPT_CRYPTO_FIELD(f) __typeof__(f) *f;
static struct {
    CKPT_CRYPTO_FUNCTIONS(CKPT_CRYPTO_FIELD)
} crypto;
#undef CKPT_CRYPTO_FIELD

static EVP_MD *sha256_md;
static char load_error[300]; /* empty when libcrypto is loaded */
static pthread_once_t load_once = PTHREAD_ONCE_INIT;

/* Load libcrypto and fetch the algorithm once, so each init does not repeat the provider
   lookup. */
static void load(void)
{
#define CKPT_CRYPTO_NAME(f) #f,
    static const char *const names[] = {CKPT_CRYPTO_FUNCTIONS(CKPT_CRYPTO_NAME)};
#undef CKPT_CRYPTO_NAME
    void *h = dlopen(CKPT_CRYPTO_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(load_error, sizeof load_error,
                 "SHA-256 needs libcrypto (%s), which cannot be loaded: %s", CKPT_CRYPTO_SONAME,
                 dlerror());
        return;
    }
    void **slot = (void **)&crypto; /* one function pointer per name, in order */
    _Static_assert(sizeof crypto == sizeof names / sizeof names[0] * sizeof(void *),
                   "one pointer per name");
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        void *f = dlsym(h, names[i]);
        if (!f) {
            snprintf(load_error, sizeof load_error, "%s has no %s (too old?)", CKPT_CRYPTO_SONAME,
                     names[i]);
            return; /* the handle stays open: the pointers already read are never used */
        }
        /* POSIX: the object pointer dlsym returns holds the function's address */
        memcpy(&slot[i], &f, sizeof f);
    }
    sha256_md = crypto.EVP_MD_fetch(NULL, "SHA256", NULL);
}

int ckpt_sha256_init(struct ckpt_sha256 *s, struct ckpt_error *err)
{
    pthread_once(&load_once, load);
    s->ctx = NULL;
    if (load_error[0])
        return ckpt_error_set(err, CKPT_E_UNSUPPORTED, "%s", load_error);
    EVP_MD_CTX *ctx = crypto.EVP_MD_CTX_new();
    if (!ctx)
        return ckpt_error_set(err, CKPT_E_NOMEM, "out of memory for a SHA-256 context");
    const EVP_MD *md = sha256_md ? sha256_md : crypto.EVP_sha256();
    if (crypto.EVP_DigestInit_ex(ctx, md, NULL) != 1) {
        crypto.EVP_MD_CTX_free(ctx);
        return ckpt_error_set(err, CKPT_E_UNSUPPORTED, "libcrypto cannot compute SHA-256");
    }
    s->ctx = ctx;
    return CKPT_OK;
}

void ckpt_sha256_update(struct ckpt_sha256 *s, const void *data, size_t len)
{
    if (len)
        crypto.EVP_DigestUpdate((EVP_MD_CTX *)s->ctx, data, len);
}

void ckpt_sha256_final(struct ckpt_sha256 *s, uint8_t out[32])
{
    unsigned int n = 32;
    crypto.EVP_DigestFinal_ex((EVP_MD_CTX *)s->ctx, out, &n);
    ckpt_sha256_release(s);
}

void ckpt_sha256_release(struct ckpt_sha256 *s)
{
    if (s->ctx)
        crypto.EVP_MD_CTX_free((EVP_MD_CTX *)s->ctx);
    s->ctx = NULL;
}

int ckpt_sha256(const void *data, size_t len, uint8_t out[32], struct ckpt_error *err)
{
    struct ckpt_sha256 s;
    int rc = ckpt_sha256_init(&s, err);
    if (rc)
        return rc;
    ckpt_sha256_update(&s, data, len);
    ckpt_sha256_final(&s, out);
    return CKPT_OK;
}

void ckpt_hex(const uint8_t *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}
