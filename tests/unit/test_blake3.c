/* BLAKE3 against every official test vector ($CKPT_SHARED/ref/blake3/test_vectors.json: hash,
 * keyed_hash and derive_key, extended output, seeking into the output), with every
 * implementation the CPU has, fed in one piece and in awkward pieces; and the SIMD hash_many
 * paths against the portable one on random inputs. (b3sum on files: test_hash.c and
 * tests/cli/hash.sh.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "ckptdb/blake3.h"
#include "ckptdb/error.h"
#include "hash/blake3_impl.h"

static const char *impl_names[] = {"portable", "sse41", "avx2", "avx512"};

static json_t *load_vectors(void)
{
    const char *shared = getenv("CKPT_SHARED");
    char path[4096];
    snprintf(path, sizeof path, "%s/ref/blake3/test_vectors.json", shared ? shared : "../shared");
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root)
        fail_msg("cannot read %s: %s", path, je.text);
    return root;
}

static void to_hex(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", p[i]);
    out[2 * n] = 0;
}

enum mode { M_HASH, M_KEYED, M_DERIVE };

static void init_mode(struct ckpt_blake3 *h, enum mode m, const char *key, const char *ctx)
{
    if (m == M_HASH)
        ckpt_blake3_init(h);
    else if (m == M_KEYED)
        ckpt_blake3_init_keyed(h, (const uint8_t *)key);
    else
        ckpt_blake3_init_derive_key(h, ctx, strlen(ctx));
}

/* Feed input split at the given piece sizes (cycled); 0 = one piece. */
static void feed(struct ckpt_blake3 *h, const uint8_t *in, size_t len, const size_t *pieces,
                 size_t npieces)
{
    if (!npieces) {
        ckpt_blake3_update(h, in, len);
        return;
    }
    size_t i = 0;
    while (len) {
        size_t n = pieces[i++ % npieces];
        if (n > len)
            n = len;
        ckpt_blake3_update(h, in, n);
        in += n;
        len -= n;
    }
}

static int check_case(json_t *c, const char *key, const char *ctx, const size_t *pieces,
                      size_t npieces)
{
    size_t len = (size_t)json_integer_value(json_object_get(c, "input_len"));
    uint8_t *in = malloc(len + 1);
    assert_non_null(in);
    for (size_t i = 0; i < len; i++)
        in[i] = (uint8_t)(i % 251);
    static const char *fields[] = {"hash", "keyed_hash", "derive_key"};
    int checked = 0;
    for (int m = 0; m < 3; m++) {
        const char *want = json_string_value(json_object_get(c, fields[m]));
        assert_non_null(want);
        size_t outlen = strlen(want) / 2;
        uint8_t *out = malloc(outlen);
        char *hex = malloc(2 * outlen + 1);
        assert_non_null(out);
        assert_non_null(hex);
        struct ckpt_blake3 h;
        init_mode(&h, (enum mode)m, key, ctx);
        feed(&h, in, len, pieces, npieces);
        /* the default 32-byte digest is the prefix of the extended output */
        uint8_t d[32];
        ckpt_blake3_finalize(&h, d, 32);
        to_hex(d, 32, hex);
        if (strncmp(hex, want, 64) != 0)
            fail_msg("%s len %zu (%s, impl %s): got %s want %.64s", fields[m], len,
                     npieces ? "pieces" : "one piece", ckpt_blake3_impl(), hex, want);
        ckpt_blake3_finalize(&h, out, outlen);
        to_hex(out, outlen, hex);
        if (strcmp(hex, want) != 0)
            fail_msg("%s len %zu extended (impl %s): got %s want %s", fields[m], len,
                     ckpt_blake3_impl(), hex, want);
        /* seeking into the output stream: bytes 37.. */
        ckpt_blake3_finalize_seek(&h, 37, out, outlen - 37);
        to_hex(out, outlen - 37, hex);
        assert_string_equal(hex, want + 74);
        free(out);
        free(hex);
        checked++;
    }
    free(in);
    return checked;
}

static void test_vectors_every_impl(void **state)
{
    (void)state;
    json_t *root = load_vectors();
    const char *key = json_string_value(json_object_get(root, "key"));
    const char *ctx = json_string_value(json_object_get(root, "context_string"));
    assert_non_null(key);
    assert_int_equal(strlen(key), 32);
    assert_non_null(ctx);
    json_t *cases = json_object_get(root, "cases");
    assert_true(json_array_size(cases) >= 35);
    static const size_t odd[] = {1, 63, 64, 65, 1000, 1024, 3, 4097};
    static const size_t big[] = {2048 * 3 + 1, 65536};
    int impls = 0, checked = 0;
    for (size_t k = 0; k < sizeof impl_names / sizeof impl_names[0]; k++) {
        if (ckpt_blake3_set_impl(impl_names[k]) != CKPT_OK)
            continue; /* the CPU lacks it */
        impls++;
        size_t i;
        json_t *c;
        json_array_foreach(cases, i, c)
        {
            checked += check_case(c, key, ctx, NULL, 0);
            checked += check_case(c, key, ctx, odd, sizeof odd / sizeof odd[0]);
            checked += check_case(c, key, ctx, big, sizeof big / sizeof big[0]);
        }
    }
    print_message("checked %d outputs with %d implementations\n", checked, impls);
    assert_true(impls >= 1);
    assert_int_equal(checked, impls * 3 * 3 * (int)json_array_size(cases));
    json_decref(root);
    assert_int_equal(ckpt_blake3_set_impl("nonsense"), CKPT_E_ARG);
    ckpt_blake3_set_impl("portable");
    assert_string_equal(ckpt_blake3_impl(), "portable");
}

/* hash_many of each SIMD path == the portable one, for chunk and parent shapes, every count
 * 1..40 (whole SIMD batches plus remainders) and a counter that carries into the high word. */
static void test_hash_many_agree(void **state)
{
    (void)state;
    static const ckpt_b3_hash_many_fn fns[] = {ckpt_b3_hash_many_sse41, ckpt_b3_hash_many_avx2,
                                               ckpt_b3_hash_many_avx512};
    size_t n_in = 40;
    uint8_t *in = malloc(n_in * 1024);
    assert_non_null(in);
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < n_in * 1024; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        in[i] = (uint8_t)x;
    }
    uint8_t want[40 * 32], got[40 * 32];
    uint64_t counter = 0xFFFFFFF8ull; /* lanes cross 2^32 */
    for (size_t k = 0; k < 3; k++) {
        if (ckpt_blake3_set_impl(impl_names[k + 1]) != CKPT_OK)
            continue;
        for (size_t n = 1; n <= n_in; n++) {
            ckpt_b3_hash_many_portable(in, 1024, n, 16, ckpt_b3_iv, counter, 1, 0, B3_CHUNK_START,
                                       B3_CHUNK_END, want);
            fns[k](in, 1024, n, 16, ckpt_b3_iv, counter, 1, 0, B3_CHUNK_START, B3_CHUNK_END, got);
            assert_memory_equal(want, got, 32 * n);
            ckpt_b3_hash_many_portable(in, 64, n, 1, ckpt_b3_iv, 0, 0, B3_PARENT | B3_KEYED_HASH, 0,
                                       0, want);
            fns[k](in, 64, n, 1, ckpt_b3_iv, 0, 0, B3_PARENT | B3_KEYED_HASH, 0, 0, got);
            assert_memory_equal(want, got, 32 * n);
        }
    }
    free(in);
}

/* A large input (9 MiB + 1001 bytes) hashed by every implementation and every feeding pattern
 * gives one answer (the vectors stop at 100 KiB; this crosses full 128-chunk subtrees). */
static void test_large_agree(void **state)
{
    (void)state;
    size_t len = 9 * 1024 * 1024 + 1001;
    uint8_t *in = malloc(len);
    assert_non_null(in);
    for (size_t i = 0; i < len; i++)
        in[i] = (uint8_t)(i * 2654435761u >> 13);
    uint8_t ref[32], got[32];
    ckpt_blake3_set_impl("portable");
    ckpt_blake3_hash(in, len, ref);
    static const size_t pieces[] = {1 << 20, 1, 131072, 1023, 5000};
    for (size_t k = 0; k < 4; k++) {
        if (ckpt_blake3_set_impl(impl_names[k]) != CKPT_OK)
            continue;
        ckpt_blake3_hash(in, len, got);
        assert_memory_equal(ref, got, 32);
        struct ckpt_blake3 h;
        ckpt_blake3_init(&h);
        feed(&h, in, len, pieces, sizeof pieces / sizeof pieces[0]);
        ckpt_blake3_finalize(&h, got, 32);
        assert_memory_equal(ref, got, 32);
    }
    /* a one-bit change anywhere changes the digest */
    in[len / 2] ^= 1;
    ckpt_blake3_hash(in, len, got);
    assert_memory_not_equal(ref, got, 32);
    free(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors_every_impl),
        cmocka_unit_test(test_hash_many_agree),
        cmocka_unit_test(test_large_agree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
