/* SHA-256 through libcrypto's EVP interface, which uses SHA-NI (or the best assembly) the CPU
 * offers, plus the hex helper the hash modules share. Not a SHA-256 implementation of its own:
 * OpenSSL's is at the hardware limit. */
#include <openssl/evp.h>
#include <pthread.h>

#include "ckptdb/hash.h"

static EVP_MD *sha256_md;
static pthread_once_t md_once = PTHREAD_ONCE_INIT;

/* Fetch the algorithm once, so each init does not repeat the provider lookup. */
static void fetch_md(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

int ckpt_sha256_init(struct ckpt_sha256 *s, struct ckpt_error *err)
{
    pthread_once(&md_once, fetch_md);
    s->ctx = NULL;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx)
        return ckpt_error_set(err, CKPT_E_NOMEM, "out of memory for a SHA-256 context");
    const EVP_MD *md = sha256_md ? sha256_md : EVP_sha256();
    if (EVP_DigestInit_ex(ctx, md, NULL) != 1) {
        EVP_MD_CTX_free(ctx);
        return ckpt_error_set(err, CKPT_E_UNSUPPORTED, "libcrypto cannot compute SHA-256");
    }
    s->ctx = ctx;
    return CKPT_OK;
}

void ckpt_sha256_update(struct ckpt_sha256 *s, const void *data, size_t len)
{
    if (len)
        EVP_DigestUpdate((EVP_MD_CTX *)s->ctx, data, len);
}

void ckpt_sha256_final(struct ckpt_sha256 *s, uint8_t out[32])
{
    unsigned int n = 32;
    EVP_DigestFinal_ex((EVP_MD_CTX *)s->ctx, out, &n);
    ckpt_sha256_release(s);
}

void ckpt_sha256_release(struct ckpt_sha256 *s)
{
    EVP_MD_CTX_free((EVP_MD_CTX *)s->ctx);
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
