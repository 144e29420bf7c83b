/* The multi-hasher against answers computed by Python's hashlib/zlib and b3sum
 * ($CKPT_FIXTURES/hash/expected.tsv, written by tests/fixtures.d/40-hash.sh): files of awkward
 * sizes, safetensors files for AutoV3, a sparse 4 GiB + 1 file; with several block sizes so reads
 * split the AutoV1 window and the AutoV3 start; subsets (--only); several files at once; the
 * quick fingerprint; and the error cases: directory, missing file, a file that grows, shrinks or
 * is rewritten while being hashed, cancellation. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ckptdb/blake3.h"
#include "ckptdb/hash.h"

struct expect {
    char name[64], path[4200];
    unsigned long long size;
    char sha256[65], autov1[9], autov2[11], autov3[13], crc32[9], blake3[65];
};

static struct expect ex[64];
static size_t nex;
static char dir[4096 - 100];

static void load_expected(void)
{
    if (nex)
        return;
    const char *fx = getenv("CKPT_FIXTURES");
    assert_non_null(fx);
    snprintf(dir, sizeof dir, "%s/hash", fx);
    char p[4200];
    snprintf(p, sizeof p, "%s/expected.tsv", dir);
    FILE *f = fopen(p, "r");
    if (!f)
        fail_msg("cannot open %s", p);
    struct expect e;
    while (nex < 64 && fscanf(f, "%63s %llu %64s %8s %10s %12s %8s %64s", e.name, &e.size, e.sha256,
                              e.autov1, e.autov2, e.autov3, e.crc32, e.blake3) == 8) {
        snprintf(e.path, sizeof e.path, "%s/%s", dir, e.name);
        ex[nex++] = e;
    }
    fclose(f);
    assert_true(nex >= 17);
}

static void check(const struct expect *e, const struct ckpt_hash_result *r, unsigned want)
{
    assert_int_equal(r->size, e->size);
    if (want & CKPT_HASH_SHA256)
        assert_string_equal(r->sha256, e->sha256);
    if (want & CKPT_HASH_AUTOV1)
        assert_string_equal(r->autov1, e->autov1);
    if (want & CKPT_HASH_AUTOV2)
        assert_string_equal(r->autov2, e->autov2);
    if (want & CKPT_HASH_AUTOV3) {
        assert_int_equal(r->has_autov3, strcmp(e->autov3, "-") != 0);
        if (r->has_autov3)
            assert_string_equal(r->autov3, e->autov3);
    }
    if (want & CKPT_HASH_CRC32)
        assert_string_equal(r->crc32, e->crc32);
    if (want & CKPT_HASH_BLAKE3)
        assert_string_equal(r->blake3, e->blake3);
    assert_int_equal(r->computed & want, want);
}

static int is_sparse(const struct expect *e)
{
    return e->size > (1ull << 32);
}

/* Every small file, all hashes, with block sizes that cut the file at many places. */
static void test_known_answers(void **state)
{
    (void)state;
    load_expected();
    static const size_t blocks[] = {0, 65536, 3 * 65536, 8u << 20};
    for (size_t b = 0; b < sizeof blocks / sizeof blocks[0]; b++)
        for (size_t i = 0; i < nex; i++) {
            if (is_sparse(&ex[i]))
                continue;
            struct ckpt_hash_options o;
            ckpt_hash_options_default(&o);
            o.block_size = blocks[b];
            struct ckpt_hash_result r;
            struct ckpt_error err;
            int rc = ckpt_hash_file(ex[i].path, &o, &r, &err);
            if (rc)
                fail_msg("%s: %s", ex[i].name, err.msg);
            check(&ex[i], &r, CKPT_HASH_ALL);
        }
}

/* Subsets compute what was asked (AutoV2 alone still needs the SHA-256 stream). */
static void test_subsets(void **state)
{
    (void)state;
    load_expected();
    static const unsigned subsets[] = {CKPT_HASH_SHA256,
                                       CKPT_HASH_AUTOV1,
                                       CKPT_HASH_AUTOV2,
                                       CKPT_HASH_AUTOV3,
                                       CKPT_HASH_CRC32,
                                       CKPT_HASH_BLAKE3,
                                       CKPT_HASH_AUTOV1 | CKPT_HASH_BLAKE3};
    for (size_t s = 0; s < sizeof subsets / sizeof subsets[0]; s++)
        for (size_t i = 0; i < nex; i++) {
            if (is_sparse(&ex[i]))
                continue;
            struct ckpt_hash_options o;
            ckpt_hash_options_default(&o);
            o.want = subsets[s];
            struct ckpt_hash_result r;
            assert_int_equal(ckpt_hash_file(ex[i].path, &o, &r, NULL), CKPT_OK);
            check(&ex[i], &r, subsets[s]);
            if (!(subsets[s] & CKPT_HASH_BLAKE3))
                assert_false(r.computed & CKPT_HASH_BLAKE3);
            if (!(subsets[s] & (CKPT_HASH_SHA256 | CKPT_HASH_AUTOV2)))
                assert_false(r.computed & CKPT_HASH_SHA256);
        }
    unsigned m = 0;
    assert_int_equal(ckpt_hash_parse_list("SHA256,blake3", &m, NULL), CKPT_OK);
    assert_int_equal(m, CKPT_HASH_SHA256 | CKPT_HASH_BLAKE3);
    assert_int_equal(ckpt_hash_parse_list("all", &m, NULL), CKPT_OK);
    assert_int_equal(m, CKPT_HASH_ALL);
    struct ckpt_error err;
    assert_int_equal(ckpt_hash_parse_list("sha256,md5", &m, &err), CKPT_E_ARG);
    assert_non_null(strstr(err.msg, "md5"));
    assert_int_equal(ckpt_hash_parse_list("", &m, NULL), CKPT_E_ARG);
}

/* Every file at once (3 jobs), the sparse 4 GiB + 1 file included, plus a directory and a
 * missing file whose failures do not stop the others. */
static void test_many_files(void **state)
{
    (void)state;
    load_expected();
    const char *paths[66];
    size_t n = 0;
    for (size_t i = 0; i < nex; i++)
        paths[n++] = ex[i].path;
    paths[n++] = dir;
    char missing[4200];
    snprintf(missing, sizeof missing, "%s/no-such-file", dir);
    paths[n++] = missing;
    struct ckpt_hash_result *r = calloc(n, sizeof *r);
    int *st = calloc(n, sizeof *st);
    struct ckpt_error *errs = calloc(n, sizeof *errs);
    assert_non_null(r);
    struct ckpt_hash_options o;
    ckpt_hash_options_default(&o);
    o.jobs = 3;
    int rc = ckpt_hash_files(paths, n, &o, r, st, errs);
    assert_int_equal(rc, CKPT_E_IO);
    for (size_t i = 0; i < nex; i++) {
        if (st[i])
            fail_msg("%s", errs[i].msg);
        check(&ex[i], &r[i], CKPT_HASH_ALL);
    }
    assert_int_equal(st[nex], CKPT_E_IO);
    assert_non_null(strstr(errs[nex].msg, "is a directory"));
    assert_int_equal(st[nex + 1], CKPT_E_IO);
    assert_non_null(strstr(errs[nex + 1].msg, "no-such-file"));
    assert_int_equal(r[nex].computed, 0);
    free(r);
    free(st);
    free(errs);
}

/* ---- files that change while hashed --------------------------------------------------------- */

enum mutation { GROW, SHRINK, REWRITE, CANCEL };

struct mut {
    const char *path;
    enum mutation how;
    int calls;
};

static int mutate(void *user, size_t file, uint64_t done, uint64_t total)
{
    (void)file;
    (void)total;
    struct mut *m = user;
    if (m->calls++)
        return 0;
    int fd = open(m->path, O_WRONLY);
    assert_true(fd >= 0);
    switch (m->how) {
    case GROW:
        assert_int_equal(pwrite(fd, "x", 1, (off_t)(done + 100u * 1024 * 1024)), 1);
        break;
    case SHRINK:
        assert_int_equal(ftruncate(fd, (off_t)done), 0);
        break;
    case REWRITE:
        assert_int_equal(pwrite(fd, "y", 1, 0), 1);
        break;
    case CANCEL:
        close(fd);
        return 1;
    }
    close(fd);
    return 0;
}

/* Files this test writes live in a private temporary folder, never among the shared fixtures
 * (other tests read those concurrently). */
static const char *scratch_dir(void)
{
    static char d[64];
    if (!d[0]) {
        snprintf(d, sizeof d, "/tmp/ckpt-test-hash-XXXXXX");
        assert_non_null(mkdtemp(d));
    }
    return d;
}

static void make_file(const char *path, size_t size)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    char buf[65536];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (char)(i * 7);
    for (size_t done = 0; done < size; done += sizeof buf)
        fwrite(buf, 1, size - done < sizeof buf ? size - done : sizeof buf, f);
    fclose(f);
    /* an old mtime, so a rewrite within the same clock tick still changes it */
    struct timespec ts[2] = {{1000000000, 0}, {1000000000, 0}};
    assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static void test_changed_while_hashing(void **state)
{
    (void)state;
    load_expected();
    char path[4200];
    snprintf(path, sizeof path, "%s/mutating-%d.bin", scratch_dir(), (int)getpid());
    static const enum mutation hows[] = {GROW, SHRINK, REWRITE, CANCEL};
    static const int want_rc[] = {CKPT_E_CHANGED, CKPT_E_CHANGED, CKPT_E_CHANGED, CKPT_E_CANCELLED};
    for (size_t k = 0; k < 4; k++) {
        make_file(path, 40u << 20); /* progress is reported every 8 MiB */
        struct mut m = {.path = path, .how = hows[k]};
        struct ckpt_hash_options o;
        ckpt_hash_options_default(&o);
        o.block_size = 1u << 20;
        o.progress = mutate;
        o.progress_user = &m;
        struct ckpt_hash_result r;
        struct ckpt_error err;
        int rc = ckpt_hash_file(path, &o, &r, &err);
        assert_int_equal(rc, want_rc[k]);
        assert_non_null(strstr(err.msg, path));
        assert_int_equal(r.computed, 0);
        assert_string_equal(r.sha256, "");
    }
    /* unchanged, the same file hashes fine, and the cancel flag stops it */
    make_file(path, 3u << 20);
    struct ckpt_hash_result r;
    assert_int_equal(ckpt_hash_file(path, NULL, &r, NULL), CKPT_OK);
    volatile int stop = 1;
    struct ckpt_hash_options o;
    ckpt_hash_options_default(&o);
    o.cancel = &stop;
    assert_int_equal(ckpt_hash_file(path, &o, &r, NULL), CKPT_E_CANCELLED);
    unlink(path);
}

/* ---- quick fingerprint ------------------------------------------------------------------------
 */

static void test_fingerprint(void **state)
{
    (void)state;
    load_expected();
    for (size_t i = 0; i < nex; i++) {
        struct ckpt_fingerprint fp;
        assert_int_equal(ckpt_hash_fingerprint(ex[i].path, &fp, NULL), CKPT_OK);
        assert_int_equal(fp.size, ex[i].size);
        if (ex[i].size <= 2u * CKPT_FINGERPRINT_SPAN) {
            /* small files: BLAKE3 of the whole file */
            char want[100];
            snprintf(want, sizeof want, "%llu-%s", ex[i].size, ex[i].blake3);
            assert_string_equal(fp.hex, want);
        } else if (!is_sparse(&ex[i])) {
            /* BLAKE3 of the first MiB then the last MiB, read here independently */
            FILE *f = fopen(ex[i].path, "rb");
            assert_non_null(f);
            uint8_t *buf = malloc(2u * CKPT_FINGERPRINT_SPAN);
            assert_non_null(buf);
            assert_int_equal(fread(buf, 1, CKPT_FINGERPRINT_SPAN, f), CKPT_FINGERPRINT_SPAN);
            fseek(f, -(long)CKPT_FINGERPRINT_SPAN, SEEK_END);
            assert_int_equal(fread(buf + CKPT_FINGERPRINT_SPAN, 1, CKPT_FINGERPRINT_SPAN, f),
                             CKPT_FINGERPRINT_SPAN);
            fclose(f);
            uint8_t d[32];
            ckpt_blake3_hash(buf, 2u * CKPT_FINGERPRINT_SPAN, d);
            assert_memory_equal(d, fp.digest, 32);
            free(buf);
        }
    }
    /* a change in the last MiB changes it; a change in the middle of a big file does not */
    char path[4200];
    snprintf(path, sizeof path, "%s/fp-%d.bin", scratch_dir(), (int)getpid());
    make_file(path, 5u << 20);
    struct ckpt_fingerprint a, b, c;
    assert_int_equal(ckpt_hash_fingerprint(path, &a, NULL), CKPT_OK);
    int fd = open(path, O_WRONLY);
    assert_int_equal(pwrite(fd, "!", 1, 5 * 512 * 1024), 1);
    assert_int_equal(ckpt_hash_fingerprint(path, &b, NULL), CKPT_OK);
    assert_string_equal(a.hex, b.hex);
    assert_int_equal(pwrite(fd, "!", 1, (5u << 20) - 3), 1);
    close(fd);
    assert_int_equal(ckpt_hash_fingerprint(path, &c, NULL), CKPT_OK);
    assert_string_not_equal(a.hex, c.hex);
    unlink(path);
    struct ckpt_error err;
    assert_int_equal(ckpt_hash_fingerprint(dir, &a, &err), CKPT_E_IO);
    assert_non_null(strstr(err.msg, "is a directory"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_answers), cmocka_unit_test(test_subsets),
        cmocka_unit_test(test_many_files),    cmocka_unit_test(test_changed_while_hashing),
        cmocka_unit_test(test_fingerprint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
