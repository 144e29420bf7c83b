/* Unit tests: organize's file operations (lib/organize/fsops.c): renames never replace, the
 * verified copy never leaves a half-written target or a part file, refuses a source whose hash
 * is not the catalog's, keeps the mtime; folders are made on demand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ckptdb/organize.h"
#include "organize/organize_impl.h"

static char dir[64], shm[64];

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static char *get(const char *path)
{
    static char buf[256];
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    return buf;
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/ckpt-test-organize.XXXXXX");
    snprintf(shm, sizeof shm, "/dev/shm/ckpt-test-organize.XXXXXX");
    if (!mkdtemp(dir) || !mkdtemp(shm))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s %s", dir, shm);
    return system(cmd) == 0 ? 0 : -1;
}

static void rename_never_replaces(void **state)
{
    (void)state;
    char a[128], b[128], c[128];
    snprintf(a, sizeof a, "%s/a", dir);
    snprintf(b, sizeof b, "%s/b", dir);
    snprintf(c, sizeof c, "%s/c", dir);
    put(a, "alpha");
    put(b, "beta");
    assert_int_equal(org_rename_noreplace(a, b), EEXIST);
    assert_string_equal(get(a), "alpha");
    assert_string_equal(get(b), "beta");
    assert_int_equal(org_rename_noreplace(a, c), 0);
    assert_null(get(a));
    assert_string_equal(get(c), "alpha");
    /* across filesystems a rename says so, and nothing moves */
    char x[128];
    snprintf(x, sizeof x, "%s/c", shm);
    assert_int_equal(org_rename_noreplace(c, x), EXDEV);
    assert_string_equal(get(c), "alpha");
}

static void copy_verified(void **state)
{
    (void)state;
    char src[128], dst[128], part[160];
    snprintf(src, sizeof src, "%s/model.safetensors", dir);
    snprintf(dst, sizeof dst, "%s/deep/er/model.safetensors", shm);
    snprintf(part, sizeof part, "%s%s", dst, ORG_PART_SUFFIX);
    put(src, "some model bytes");
    struct stat s1, s2;
    assert_int_equal(stat(src, &s1), 0);
    struct ckpt_error err = {0};
    uint64_t bytes = 0;
    /* a source that is not what the catalog hashed is refused, and nothing is left behind */
    assert_int_equal(org_make_parent(dst, &err), CKPT_OK);
    put(part, "a leftover of a killed run");
    assert_int_equal(org_copy_verified(src, dst, "00aa", &bytes, &err), CKPT_E_IO);
    assert_non_null(strstr(err.msg, "changed since it was catalogued"));
    assert_null(get(dst));
    assert_null(get(part));
    assert_int_equal(bytes, 0);
    /* with the right hash (or none) the copy appears whole, mtime kept */
    char hex[65];
    assert_int_equal(org_sha256_file(src, hex, &err), CKPT_OK);
    assert_int_equal(org_copy_verified(src, dst, hex, &bytes, &err), CKPT_OK);
    assert_string_equal(get(dst), "some model bytes");
    assert_null(get(part));
    assert_int_equal(bytes, strlen("some model bytes"));
    assert_int_equal(stat(dst, &s2), 0);
    assert_int_equal(s1.st_mtim.tv_sec, s2.st_mtim.tv_sec);
    assert_int_equal(s1.st_mtim.tv_nsec, s2.st_mtim.tv_nsec);
    assert_string_equal(get(src), "some model bytes"); /* the caller removes the source */
    /* an existing target is never replaced */
    put(src, "other bytes");
    assert_int_equal(org_copy_verified(src, dst, NULL, &bytes, &err), CKPT_E_IO);
    assert_string_equal(get(dst), "some model bytes");
    assert_null(get(part));
}

static void folders(void **state)
{
    (void)state;
    char p[160], f[160];
    struct ckpt_error err = {0};
    snprintf(p, sizeof p, "%s/x/y/z/file", dir);
    assert_int_equal(org_make_parent(p, &err), CKPT_OK);
    snprintf(f, sizeof f, "%s/x/y/z", dir);
    struct stat st;
    assert_int_equal(stat(f, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    /* a file where a folder must go */
    snprintf(f, sizeof f, "%s/plain", dir);
    put(f, "x");
    snprintf(p, sizeof p, "%s/plain/sub/file", dir);
    assert_int_not_equal(org_make_parent(p, &err), CKPT_OK);
    assert_true(strlen(err.msg) > 0);
}

static void modes(void **state)
{
    (void)state;
    const char *names[] = {"move", "hardlink", "symlink", "copy"};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(ckpt_org_mode_parse(names[i]), i);
        assert_string_equal(ckpt_org_mode_name(i), names[i]);
    }
    assert_int_equal(ckpt_org_mode_parse("teleport"), -1);
    assert_int_equal(ckpt_org_mode_parse(NULL), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rename_never_replaces),
        cmocka_unit_test(copy_verified),
        cmocka_unit_test(folders),
        cmocka_unit_test(modes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
