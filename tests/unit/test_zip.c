/* Unit tests: the zip reader's API over hand-made and real torch archives: listing, lookup,
 * whole-member reads with CRC and size checks, member readers, and the structure counters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckptdb/zip.h"

static struct ckpt_reader *open_fx(const char *rel)
{
    const char *f = getenv("CKPT_FIXTURES");
    char p[1200];
    snprintf(p, sizeof p, "%s/torch/%s", f ? f : "fixtures", rel);
    struct ckpt_reader *r = NULL;
    if (ckpt_reader_open_file(&r, p, NULL))
        return NULL;
    return r;
}

static void handmade_listing(void **state)
{
    (void)state;
    const char *files[] = {"bad/good/handmade.ckpt", "bad/good/deflated.ckpt"};
    for (int i = 0; i < 2; i++) {
        struct ckpt_reader *r = open_fx(files[i]);
        assert_non_null(r);
        struct ckpt_zip *z;
        struct ckpt_error err;
        assert_int_equal(ckpt_zip_open(&z, r, NULL, &err), CKPT_OK);
        assert_int_equal(ckpt_zip_count(z), 4);
        assert_string_equal(ckpt_zip_member(z, 0)->name, "archive/data.pkl");
        assert_null(ckpt_zip_member(z, 4));
        assert_null(ckpt_zip_find(z, "archive/nope"));
        const struct ckpt_zip_member *m = ckpt_zip_find(z, "archive/data/0");
        assert_non_null(m);
        assert_int_equal(m->method, i ? CKPT_ZIP_DEFLATED : CKPT_ZIP_STORED);
        assert_int_equal(m->usize, 24);
        assert_int_equal(m->flags, 0x0808);
        void *buf;
        size_t len;
        assert_int_equal(ckpt_zip_read(z, m, 1 << 20, &buf, &len, &err), CKPT_OK);
        assert_int_equal(len, 24);
        float f[6];
        memcpy(f, buf, 24);
        assert_true(f[5] == 5.0f);
        free(buf);
        assert_int_equal(ckpt_zip_read(z, m, 10, &buf, &len, &err), CKPT_E_LIMIT);
        assert_null(buf);
        struct ckpt_reader *mr;
        if (i == 0) {
            assert_int_equal(ckpt_zip_open_member(z, m, &mr, &err), CKPT_OK);
            assert_int_equal(ckpt_reader_size(mr), 24);
            assert_int_equal(ckpt_reader_base(mr), m->data_offset);
            ckpt_reader_close(mr);
        } else {
            assert_int_equal(ckpt_zip_open_member(z, m, &mr, &err), CKPT_E_ARG);
        }
        assert_true(ckpt_zip_structure_bytes(z) > 4 * 46);
        ckpt_zip_close(z);
        ckpt_reader_close(r);
    }
}

static void real_torch_layout(void **state)
{
    (void)state;
    struct ckpt_reader *r = open_fx("real/big.ckpt");
    if (!r)
        skip();
    struct ckpt_zip *z;
    struct ckpt_error err;
    assert_int_equal(ckpt_zip_open(&z, r, NULL, &err), CKPT_OK);
    for (size_t i = 0; i < ckpt_zip_count(z); i++) {
        const struct ckpt_zip_member *m = ckpt_zip_member(z, i);
        assert_int_equal(strncmp(m->name, "big/", 4), 0); /* folder = the file's base name */
        assert_int_equal(m->method, CKPT_ZIP_STORED);
        assert_int_equal(m->data_offset % 64, 0); /* torch aligns records to 64 bytes */
    }
    const struct ckpt_zip_member *pk = ckpt_zip_find(z, "big/data.pkl");
    assert_non_null(pk);
    void *buf;
    size_t len;
    assert_int_equal(ckpt_zip_read(z, pk, 1 << 20, &buf, &len, &err), CKPT_OK);
    assert_int_equal(((unsigned char *)buf)[0], 0x80);
    free(buf);
    ckpt_zip_close(z);
    ckpt_reader_close(r);
}

static void memory_garbage(void **state)
{
    (void)state;
    static const unsigned char eocd_only[22] = {'P', 'K', 5, 6};
    struct ckpt_reader *r;
    struct ckpt_zip *z;
    struct ckpt_error err;
    assert_int_equal(ckpt_reader_open_memory(&r, eocd_only, sizeof eocd_only, "m.zip", &err),
                     CKPT_OK);
    assert_int_equal(ckpt_zip_open(&z, r, NULL, &err), CKPT_OK); /* an empty archive */
    assert_int_equal(ckpt_zip_count(z), 0);
    ckpt_zip_close(z);
    ckpt_reader_close(r);
    static const unsigned char bad[22] = {'P', 'K', 5, 6, 0, 0, 0, 0, 5, 0, 5, 0};
    assert_int_equal(ckpt_reader_open_memory(&r, bad, sizeof bad, "m.zip", &err), CKPT_OK);
    assert_int_equal(ckpt_zip_open(&z, r, NULL, &err), CKPT_E_FORMAT);
    assert_non_null(strstr(err.msg, "m.zip: zip: "));
    ckpt_reader_close(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(handmade_listing),
        cmocka_unit_test(real_torch_layout),
        cmocka_unit_test(memory_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
