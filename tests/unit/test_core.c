/* Unit tests: float conversions, the JSON emitter, dtype table, atomic files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckptdb/atomic.h"
#include "ckptdb/buf.h"
#include "ckptdb/dtype.h"
#include "ckptdb/fp.h"

/* Every finite half survives f16 -> f32 -> f16; NaNs stay NaN; and rounding from float is to
 * nearest, ties to even, overflowing to infinity at 65520 exactly as IEEE says. */
static void f16_exhaustive(void **state)
{
    (void)state;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = ckpt_f16_to_f32((uint16_t)h);
        if (isnan(f)) {
            assert_true(isnan(ckpt_f16_to_f32(ckpt_f32_to_f16(f))));
            continue;
        }
        assert_int_equal(ckpt_f32_to_f16(f), h);
    }
    assert_int_equal(ckpt_f32_to_f16(65504.0f), 0x7bff);
    assert_int_equal(ckpt_f32_to_f16(65519.99f), 0x7bff);
    assert_int_equal(ckpt_f32_to_f16(65520.0f), 0x7c00);
    assert_int_equal(ckpt_f32_to_f16(-1e9f), 0xfc00);
    /* 1 + 2^-11 is halfway between 1 and 1+2^-10: ties to even -> 1 */
    assert_int_equal(ckpt_f64_to_f16(1.0 + ldexp(1, -11)), 0x3c00);
    /* 1 + 3*2^-11 is halfway between 1+2^-10 and 1+2^-9: to even -> 1+2^-9 */
    assert_int_equal(ckpt_f64_to_f16(1.0 + 3 * ldexp(1, -11)), 0x3c02);
    /* smallest subnormal and half of it (tie to even -> 0) */
    assert_int_equal(ckpt_f64_to_f16(ldexp(1, -24)), 0x0001);
    assert_int_equal(ckpt_f64_to_f16(ldexp(1, -25)), 0x0000);
    assert_int_equal(ckpt_f64_to_f16(ldexp(1.5, -25)), 0x0001);
    assert_int_equal(ckpt_f64_to_f16(-0.0), 0x8000);
}

static void bf16_exhaustive(void **state)
{
    (void)state;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = ckpt_bf16_to_f32((uint16_t)h);
        if (isnan(f))
            continue;
        assert_int_equal(ckpt_f32_to_bf16(f), h);
        assert_int_equal(ckpt_f64_to_bf16((double)f), h);
    }
    /* ties to even */
    assert_int_equal(ckpt_f32_to_bf16(1.0f + ldexpf(1, -8)), 0x3f80);
    assert_int_equal(ckpt_f32_to_bf16(1.0f + 3 * ldexpf(1, -8)), 0x3f82);
    assert_int_equal(ckpt_f64_to_bf16(1.0 + ldexp(1, -8) + ldexp(1, -30)), 0x3f81);
    assert_int_equal(ckpt_f64_to_bf16(1e39), 0x7f80);
}

static void json_emitter(void **state)
{
    (void)state;
    struct ckpt_buf b = {0};
    struct ckpt_json j;
    ckpt_json_init(&j, &b, 0);
    ckpt_json_obj_begin(&j);
    ckpt_json_key(&j, "s");
    ckpt_json_str(&j, "a\"b\\c\n\x01\xff\xc3\xa9");
    ckpt_json_key(&j, "n");
    ckpt_json_u64(&j, 18446744073709551615ull);
    ckpt_json_key(&j, "i");
    ckpt_json_i64(&j, -5);
    ckpt_json_key(&j, "a");
    ckpt_json_arr_begin(&j);
    ckpt_json_bool(&j, 1);
    ckpt_json_null(&j);
    ckpt_json_double(&j, 0.5);
    ckpt_json_double(&j, NAN);
    ckpt_json_arr_end(&j);
    ckpt_json_key(&j, "e");
    ckpt_json_obj_begin(&j);
    ckpt_json_obj_end(&j);
    ckpt_json_obj_end(&j);
    assert_string_equal(ckpt_buf_cstr(&b),
                        "{\"s\":\"a\\\"b\\\\c\\n\\u0001\xef\xbf\xbd\xc3\xa9\","
                        "\"n\":18446744073709551615,\"i\":-5,\"a\":[true,null,0.5,null],\"e\":{}}");
    ckpt_buf_free(&b);
}

static void dtype_table(void **state)
{
    (void)state;
    assert_int_equal(ckpt_dtype_from_safetensors("F8_E4M3", 7), CKPT_DT_F8_E4M3);
    assert_int_equal(ckpt_dtype_from_safetensors("Q4_0", 4), CKPT_DT_INVALID);
    assert_int_equal(ckpt_dtype_from_safetensors("f16", 3), CKPT_DT_INVALID);
    uint64_t n;
    assert_int_equal(ckpt_dtype_nbytes(CKPT_DT_Q4_K, 512, &n), CKPT_OK);
    assert_int_equal(n, 288);
    assert_int_equal(ckpt_dtype_nbytes(CKPT_DT_Q4_K, 100, &n), CKPT_E_FORMAT);
    assert_int_equal(ckpt_dtype_nbytes(CKPT_DT_F4, 3, &n), CKPT_E_FORMAT);
    assert_int_equal(ckpt_dtype_nbytes(CKPT_DT_F6_E2M3, 4, &n), CKPT_OK);
    assert_int_equal(n, 3);
    assert_int_equal(ckpt_dtype_nbytes(CKPT_DT_F64, UINT64_MAX / 4, &n), CKPT_E_LIMIT);
    for (int t = 1; t < CKPT_DT_COUNT; t++)
        assert_string_not_equal(ckpt_dtype_name((enum ckpt_dtype)t), "?");
}

static void atomic_files(void **state)
{
    (void)state;
    char dir[] = "/tmp/ckpt-test-atomic-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/out.bin", dir);
    struct ckpt_atomic_file *f;
    struct ckpt_error err;
    assert_int_equal(ckpt_atomic_open(&f, path, 0, &err), CKPT_OK);
    assert_int_equal(ckpt_atomic_write(f, "abc", 3, &err), CKPT_OK);
    assert_int_not_equal(access(path, F_OK), 0); /* invisible until commit */
    assert_int_equal(ckpt_atomic_skip(f, 5, &err), CKPT_OK);
    assert_int_equal(ckpt_atomic_commit(f, &err), CKPT_OK);
    FILE *fp = fopen(path, "rb");
    char buf[16];
    assert_int_equal(fread(buf, 1, sizeof buf, fp), 8);
    fclose(fp);
    assert_memory_equal(buf, "abc\0\0\0\0\0", 8);
    /* without force an existing target is refused; with force it is replaced */
    assert_int_equal(ckpt_atomic_open(&f, path, 0, &err), CKPT_E_IO);
    assert_int_equal(ckpt_atomic_open(&f, path, 1, &err), CKPT_OK);
    assert_int_equal(ckpt_atomic_write(f, "z", 1, &err), CKPT_OK);
    assert_int_equal(ckpt_atomic_commit(f, &err), CKPT_OK);
    /* abort leaves nothing */
    char p2[128];
    snprintf(p2, sizeof p2, "%s/gone.bin", dir);
    assert_int_equal(ckpt_atomic_open(&f, p2, 0, &err), CKPT_OK);
    ckpt_atomic_abort(f);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "test \"$(ls -A %s)\" = out.bin && rm -rf %s", dir, dir);
    assert_int_equal(system(cmd), 0);
}

/* Streaming mode: odd-sized writes and a zero run across 8 MiB block boundaries, a partial last
 * block; the file reads back exactly; an aborted stream leaves no file. */
static void atomic_stream(void **state)
{
    (void)state;
    char dir[] = "/tmp/ckpt-test-stream-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/s.bin", dir);
    const size_t total = (size_t)19 << 20, piece = 1000003, hole0 = 9000000, hole = 5000000;
    unsigned char *want = malloc(total), *got = malloc(total + 1);
    assert_non_null(want);
    assert_non_null(got);
    for (size_t i = 0; i < total; i++)
        want[i] = (unsigned char)(i * 2654435761u >> 13);
    memset(want + hole0, 0, hole);
    struct ckpt_atomic_file *f;
    struct ckpt_error err;
    assert_int_equal(ckpt_atomic_open(&f, path, 0, &err), CKPT_OK);
    assert_int_equal(ckpt_atomic_stream(f), CKPT_OK);
    size_t off = 0;
    while (off < total) {
        if (off == hole0) {
            assert_int_equal(ckpt_atomic_skip(f, hole, &err), CKPT_OK);
            off += hole;
            continue;
        }
        size_t n = total - off < piece ? total - off : piece;
        if (off < hole0 && off + n > hole0)
            n = hole0 - off;
        assert_int_equal(ckpt_atomic_write(f, want + off, n, &err), CKPT_OK);
        off += n;
    }
    assert_int_equal(ckpt_atomic_offset(f), total);
    assert_int_equal(ckpt_atomic_commit(f, &err), CKPT_OK);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    assert_int_equal(fread(got, 1, total + 1, fp), total);
    fclose(fp);
    assert_memory_equal(got, want, total);
    char p2[128];
    snprintf(p2, sizeof p2, "%s/gone.bin", dir);
    assert_int_equal(ckpt_atomic_open(&f, p2, 0, &err), CKPT_OK);
    assert_int_equal(ckpt_atomic_stream(f), CKPT_OK);
    assert_int_equal(ckpt_atomic_write(f, want, (size_t)9 << 20, &err), CKPT_OK);
    ckpt_atomic_abort(f);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "test \"$(ls -A %s)\" = s.bin && rm -rf %s", dir, dir);
    assert_int_equal(system(cmd), 0);
    free(want);
    free(got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(f16_exhaustive), cmocka_unit_test(bf16_exhaustive),
        cmocka_unit_test(json_emitter),   cmocka_unit_test(dtype_table),
        cmocka_unit_test(atomic_files),   cmocka_unit_test(atomic_stream),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
