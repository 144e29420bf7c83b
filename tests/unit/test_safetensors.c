/* Unit tests: the safetensors reader and writer, the tensorset table, the reader counters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckptdb/safetensors.h"
#include "ckptdb/tensorset.h"

static char tmpdir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ckpt-test-st-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    return system(cmd);
}

static void write_and_read_back(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof path, "%s/rt.safetensors", tmpdir);
    struct ckpt_error err;
    struct ckpt_st_writer *w;
    assert_int_equal(ckpt_st_writer_open(&w, path, 0, &err), CKPT_OK);
    assert_int_equal(ckpt_st_writer_meta(w, "title", "line1\n\"q\" \xc3\xa9", &err), CKPT_OK);
    uint64_t s1[2] = {2, 3}, s2[1] = {4};
    assert_int_equal(ckpt_st_writer_declare(w, "w.weight", CKPT_DT_F32, 2, s1, &err), CKPT_OK);
    assert_int_equal(ckpt_st_writer_declare(w, "b", CKPT_DT_I64, 1, s2, &err), CKPT_OK);
    assert_int_equal(ckpt_st_writer_declare(w, "scalar", CKPT_DT_BF16, 0, NULL, &err), CKPT_OK);
    float wv[6] = {1, 2, 3, 4, 5, 6};
    int64_t bv[4] = {0, 1, 2, -3};
    uint16_t sv = 0x3f80;
    assert_int_equal(ckpt_st_writer_data(w, wv, sizeof wv, &err), CKPT_OK);
    assert_int_equal(ckpt_st_writer_data(w, bv, sizeof bv, &err), CKPT_OK);
    /* finishing early is refused */
    assert_int_equal(ckpt_st_writer_data(w, &sv, 2, &err), CKPT_OK);
    assert_int_equal(ckpt_st_writer_finish(w, &err), CKPT_OK);

    struct ckpt_tensorset *ts;
    assert_int_equal(ckpt_tensorset_open(&ts, path, NULL, &err), CKPT_OK);
    assert_int_equal(ckpt_tensorset_format(ts), CKPT_FMT_SAFETENSORS);
    assert_int_equal(ckpt_tensorset_count(ts), 3);
    assert_string_equal(ckpt_tensorset_meta_get(ts, "title"), "line1\n\"q\" \xc3\xa9");
    assert_int_equal(ckpt_tensorset_header_bytes(ts) % 8, 0);
    const struct ckpt_tensor *t = ckpt_tensorset_find(ts, "w.weight");
    assert_non_null(t);
    assert_int_equal(t->ndim, 2);
    assert_int_equal(t->shape[1], 3);
    assert_int_equal(t->nbytes, 24);
    assert_true(t->contiguous);
    float back[6];
    assert_int_equal(ckpt_tensorset_read_tensor(ts, t, back, sizeof back, &err), CKPT_OK);
    assert_memory_equal(back, wv, sizeof wv);
    t = ckpt_tensorset_find(ts, "b");
    int64_t bb[4];
    assert_int_equal(ckpt_tensorset_read_tensor(ts, t, bb, sizeof bb, &err), CKPT_OK);
    assert_memory_equal(bb, bv, sizeof bv);
    t = ckpt_tensorset_find(ts, "scalar");
    assert_int_equal(t->ndim, 0);
    assert_int_equal(t->numel, 1);
    assert_null(ckpt_tensorset_find(ts, "missing"));
    assert_int_equal(ckpt_tensorset_parameter_count(ts), 11);
    ckpt_tensorset_close(ts);
}

static void writer_refuses_existing_and_short(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof path, "%s/exists.safetensors", tmpdir);
    FILE *f = fopen(path, "w");
    fputs("keep", f);
    fclose(f);
    struct ckpt_error err;
    struct ckpt_st_writer *w;
    assert_int_equal(ckpt_st_writer_open(&w, path, 0, &err), CKPT_E_IO);
    assert_non_null(strstr(err.msg, "already exists"));

    snprintf(path, sizeof path, "%s/short.safetensors", tmpdir);
    assert_int_equal(ckpt_st_writer_open(&w, path, 0, &err), CKPT_OK);
    uint64_t s[1] = {4};
    assert_int_equal(ckpt_st_writer_declare(w, "x", CKPT_DT_F32, 1, s, &err), CKPT_OK);
    float v[2] = {0};
    assert_int_equal(ckpt_st_writer_data(w, v, sizeof v, &err), CKPT_OK);
    assert_int_not_equal(ckpt_st_writer_finish(w, &err), CKPT_OK);
    /* nothing left behind: neither the target nor a temporary file */
    assert_int_not_equal(access(path, F_OK), 0);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "! ls -A %s | grep -q tmp", tmpdir);
    assert_int_equal(system(cmd), 0);
}

static void memory_reader_and_counters(void **state)
{
    (void)state;
    static const char file[] = "\x37\x00\x00\x00\x00\x00\x00\x00"
                               "{\"a\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[0,3]}}"
                               "  \x01\x02\x03";
    struct ckpt_reader *r;
    struct ckpt_error err;
    assert_int_equal(ckpt_reader_open_memory(&r, file, sizeof file - 1, "mem", &err), CKPT_OK);
    struct ckpt_tensorset *ts;
    assert_int_equal(ckpt_tensorset_open_reader(&ts, r, NULL, &err), CKPT_OK);
    const struct ckpt_tensor *t = ckpt_tensorset_tensor(ts, 0);
    unsigned char b[3];
    assert_int_equal(ckpt_tensorset_read_tensor(ts, t, b, 3, &err), CKPT_OK);
    assert_memory_equal(b, "\x01\x02\x03", 3);
    assert_int_equal(ckpt_tensorset_source(ts, 0)->file_offset, 63);
    ckpt_tensorset_close(ts);
    ckpt_reader_close(r);
}

/* A 7 GB sparse SDXL file: 2,515 tensors, and opening reads the header and nothing more. */
static void sdxl_header_only(void **state)
{
    (void)state;
    const char *fx = getenv("CKPT_FIXTURES");
    char path[1024];
    snprintf(path, sizeof path, "%s/models/sdxl-base-sparse.safetensors", fx ? fx : ".");
    struct ckpt_tensorset *ts;
    struct ckpt_error err;
    assert_int_equal(ckpt_tensorset_open(&ts, path, NULL, &err), CKPT_OK);
    assert_int_equal(ckpt_tensorset_count(ts), 2515);
    assert_true(ckpt_tensorset_file_size(ts) > 6000000000ull);
    uint64_t read = ckpt_tensorset_bytes_read(ts);
    assert_true(read <= ckpt_tensorset_header_bytes(ts) + 65536);
    assert_true(read >= ckpt_tensorset_header_bytes(ts));
    assert_non_null(ckpt_tensorset_find(
        ts, "conditioner.embedders.1.model.transformer.resblocks.31.attn.in_proj_weight"));
    ckpt_tensorset_close(ts);
}

static void errors_name_the_file(void **state)
{
    (void)state;
    struct ckpt_tensorset *ts;
    struct ckpt_error err;
    assert_int_equal(ckpt_tensorset_open(&ts, "/nonexistent/x.safetensors", NULL, &err), CKPT_E_IO);
    assert_non_null(strstr(err.msg, "/nonexistent/x.safetensors: cannot open"));
    assert_int_equal(ckpt_tensorset_open(&ts, "/tmp", NULL, &err) != CKPT_OK, 1);
    /* limits are honoured */
    static const char file[] = "\x37\x00\x00\x00\x00\x00\x00\x00"
                               "{\"a\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[0,3]}}"
                               "  \x01\x02\x03";
    struct ckpt_limits lim;
    ckpt_limits_default(&lim);
    lim.safetensors_header_max = 16;
    struct ckpt_reader *r;
    assert_int_equal(ckpt_reader_open_memory(&r, file, sizeof file - 1, "lim", &err), CKPT_OK);
    assert_int_equal(ckpt_tensorset_open_reader(&ts, r, &lim, &err), CKPT_E_FORMAT);
    assert_non_null(strstr(err.msg, "lim: safetensors header length 55 exceeds the limit"));
    ckpt_reader_close(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(write_and_read_back),
        cmocka_unit_test(writer_refuses_existing_and_short),
        cmocka_unit_test(memory_reader_and_counters),
        cmocka_unit_test(sdxl_header_only),
        cmocka_unit_test(errors_name_the_file),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
