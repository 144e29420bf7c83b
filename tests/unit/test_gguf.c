/* Tests of the GGUF reader: the fixtures written by st2gguf (Flux/SD1/SDXL/sd.cpp-shaped),
 * tensor bytes against their safetensors source, and every hand-made case of gguf_cases.py
 * (accepted, or refused with the expected status and a one-line message naming the file). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckptdb/fp.h"
#include "ckptdb/tensorset.h"

static char path_buf[4096];

static const char *fx(const char *rel)
{
    const char *dir = getenv("CKPT_FIXTURES");
    snprintf(path_buf, sizeof path_buf, "%s/gguf/%s", dir ? dir : "fixtures", rel);
    return path_buf;
}

static struct ckpt_tensorset *open_ok(const char *rel)
{
    struct ckpt_tensorset *ts = NULL;
    struct ckpt_error err = {0};
    int rc = ckpt_tensorset_open(&ts, fx(rel), NULL, &err);
    if (rc)
        fail_msg("%s: %s", rel, err.msg);
    assert_int_equal(ckpt_tensorset_format(ts), CKPT_FMT_GGUF);
    return ts;
}

static void check_tensor(struct ckpt_tensorset *ts, const char *name, enum ckpt_dtype dt,
                         uint32_t ndim, uint64_t d0, uint64_t d1)
{
    const struct ckpt_tensor *t = ckpt_tensorset_find(ts, name);
    if (!t)
        fail_msg("no tensor %s", name);
    assert_string_equal(ckpt_dtype_name(t->dtype), ckpt_dtype_name(dt));
    assert_int_equal(t->ndim, ndim);
    assert_int_equal(t->shape[0], d0);
    if (ndim > 1)
        assert_int_equal(t->shape[1], d1);
}

static void test_flux(void **state)
{
    struct ckpt_tensorset *ts = open_ok("flux-Q8_0.gguf");
    assert_int_equal(ckpt_tensorset_count(ts), 84);
    check_tensor(ts, "double_blocks.0.img_attn.proj.weight", CKPT_DT_Q8_0, 2, 3072, 3072);
    check_tensor(ts, "single_blocks.1.linear2.weight", CKPT_DT_Q8_0, 2, 3072, 15360);
    check_tensor(ts, "img_in.bias", CKPT_DT_F32, 1, 3072, 0);
    const struct ckpt_tensor *t = ckpt_tensorset_find(ts, "img_in.weight");
    assert_int_equal(t->nbytes, 3072 * 64 / 32 * 34);
    assert_string_equal(ckpt_tensorset_meta_get(ts, "general.architecture"), "flux");
    assert_string_equal(ckpt_tensorset_meta_get(ts, "comfy.gguf.orig_shape.img_in.weight"),
                        "[3072,64]");
    assert_string_equal(ckpt_tensorset_meta_get(ts, "general.file_type"), "7");
    /* only the header was read (plus at most one read-ahead buffer) */
    uint64_t hb = ckpt_tensorset_header_bytes(ts);
    assert_true(hb > 4000 && hb % 32 == 0);
    assert_true(ckpt_tensorset_bytes_read(ts) <= hb + 65536 + 16);
    for (size_t i = 0; i < ckpt_tensorset_count(ts); i++)
        assert_int_equal(ckpt_tensorset_tensor(ts, i)->offset % 32, 0);
    ckpt_tensorset_close(ts);

    ts = open_ok("flux-Q4_K.gguf");
    check_tensor(ts, "double_blocks.1.txt_mlp.0.weight", CKPT_DT_Q4_K, 2, 12288, 3072);
    check_tensor(ts, "double_blocks.1.txt_mlp.0.bias", CKPT_DT_F16, 1, 12288, 0);
    ckpt_tensorset_close(ts);
}

static void test_sd(void **state)
{
    struct ckpt_tensorset *ts = open_ok("sd1-Q4_0.gguf");
    assert_int_equal(ckpt_tensorset_count(ts), 686);
    check_tensor(ts, "input_blocks.1.1.transformer_blocks.0.attn1.to_q.weight", CKPT_DT_Q4_0, 2,
                 320, 320);
    check_tensor(ts, "input_blocks.0.0.weight", CKPT_DT_F16, 4, 320, 4); /* 3x3: not blocks */
    assert_null(ckpt_tensorset_find(ts, "model.diffusion_model.input_blocks.0.0.weight"));
    assert_string_equal(ckpt_tensorset_meta_get(ts, "ckptdb.test.tags"),
                        "[\"anime\",\"photo\",\"a b\"]");
    assert_string_equal(ckpt_tensorset_meta_get(ts, "ckptdb.test.scores"), "[array of 1000 f32]");
    ckpt_tensorset_close(ts);

    ts = open_ok("sdxl-Q5_K.gguf");
    assert_string_equal(ckpt_tensorset_meta_get(ts, "general.alignment"), "64");
    assert_int_equal(ckpt_tensorset_header_bytes(ts) % 64, 0);
    for (size_t i = 0; i < ckpt_tensorset_count(ts); i++)
        assert_int_equal(ckpt_tensorset_tensor(ts, i)->offset % 64, 0);
    check_tensor(ts, "label_emb.0.0.weight", CKPT_DT_Q5_K, 2, 1280, 2816);
    ckpt_tensorset_close(ts);

    /* stable-diffusion.cpp style: no key/values, full names longer than 64 bytes */
    ts = open_ok("sdcpp-sd1-F16.gguf");
    assert_int_equal(ckpt_tensorset_meta_count(ts), 0);
    assert_int_equal(ckpt_tensorset_count(ts), 1131);
    const char *longname =
        "cond_stage_model.transformer.text_model.encoder.layers.11.self_attn.out_proj.weight";
    assert_true(strlen(longname) > 64);
    check_tensor(ts, longname, CKPT_DT_F16, 2, 768, 768);
    check_tensor(ts, "cond_stage_model.transformer.text_model.embeddings.position_ids", CKPT_DT_I64,
                 2, 1, 77);
    ckpt_tensorset_close(ts);
}

static void *read_all(struct ckpt_tensorset *ts, const struct ckpt_tensor *t)
{
    void *b = malloc(t->nbytes ? t->nbytes : 1);
    struct ckpt_error err;
    assert_non_null(b);
    if (ckpt_tensorset_read_tensor(ts, t, b, t->nbytes, &err))
        fail_msg("%s", err.msg);
    return b;
}

static void test_data(void **state)
{
    struct ckpt_tensorset *src, *plain = open_ok("tiny-plain.gguf"), *q = open_ok("tiny-Q8_0.gguf");
    struct ckpt_error err;
    if (ckpt_tensorset_open(&src, fx("src/tiny.safetensors"), NULL, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(ckpt_tensorset_count(plain), ckpt_tensorset_count(src));
    for (size_t i = 0; i < ckpt_tensorset_count(src); i++) {
        const struct ckpt_tensor *a = ckpt_tensorset_tensor(src, i);
        const struct ckpt_tensor *b = ckpt_tensorset_find(plain, a->name);
        assert_non_null(b);
        assert_int_equal(a->dtype, b->dtype);
        assert_int_equal(a->ndim, b->ndim);
        assert_memory_equal(a->shape, b->shape, a->ndim * sizeof a->shape[0]);
        void *x = read_all(src, a), *y = read_all(plain, b);
        assert_memory_equal(x, y, a->nbytes);
        free(x);
        free(y);
    }
    /* Q8_0: dequantize and compare with the F32 source */
    const struct ckpt_tensor *a = ckpt_tensorset_find(src, "blk.0.weight");
    const struct ckpt_tensor *b = ckpt_tensorset_find(q, "blk.0.weight");
    assert_int_equal(b->dtype, CKPT_DT_Q8_0);
    assert_int_equal(b->nbytes, 64 * 256 / 32 * 34);
    float *x = read_all(src, a);
    unsigned char *y = read_all(q, b);
    double maxerr = 0, maxabs = 0;
    for (uint64_t k = 0; k < a->numel; k++) {
        const unsigned char *blk = y + (k / 32) * 34;
        uint16_t h;
        memcpy(&h, blk, 2);
        float v = ckpt_f16_to_f32(h) * (float)(int8_t)blk[2 + k % 32];
        maxerr = fmax(maxerr, fabs(v - x[k]));
        maxabs = fmax(maxabs, fabs(x[k]));
    }
    assert_true(maxabs > 0.01);
    assert_true(maxerr <= maxabs / 127.0 * 0.51 + 1e-6);
    free(x);
    free(y);
    ckpt_tensorset_close(src);
    ckpt_tensorset_close(plain);
    ckpt_tensorset_close(q);
}

static int code_of(const char *name)
{
    static const struct {
        const char *n;
        int c;
    } t[] = {{"OK", CKPT_OK},
             {"CKPT_E_FORMAT", CKPT_E_FORMAT},
             {"CKPT_E_LIMIT", CKPT_E_LIMIT},
             {"CKPT_E_UNSUPPORTED", CKPT_E_UNSUPPORTED}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (!strcmp(t[i].n, name))
            return t[i].c;
    fail_msg("unknown code %s", name);
    return 1;
}

static void test_cases(void **state)
{
    char manifest[4096];
    snprintf(manifest, sizeof manifest, "%s", fx("cases/EXPECT.tsv"));
    FILE *f = fopen(manifest, "r");
    assert_non_null(f);
    char line[1024];
    int n = 0, refused = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        char *file = line, *code = strchr(file, '\t');
        assert_non_null(code);
        *code++ = 0;
        char *msg = strchr(code, '\t');
        assert_non_null(msg);
        *msg++ = 0;
        char rel[1100];
        snprintf(rel, sizeof rel, "cases/%s", file);
        const char *path = fx(rel);
        struct ckpt_tensorset *ts = NULL;
        struct ckpt_error err = {0};
        int want = code_of(code);
        int rc = ckpt_tensorset_open(&ts, path, NULL, &err);
        if (rc != want)
            fail_msg("%s: expected %s, got %d (%s)", file, code, rc, rc ? err.msg : "accepted");
        if (rc) {
            refused++;
            assert_null(ts);
            if (strncmp(err.msg, path, strlen(path)) || strncmp(err.msg + strlen(path), ": ", 2))
                fail_msg("%s: message does not name the file: %s", file, err.msg);
            if (!strstr(err.msg, msg))
                fail_msg("%s: message lacks '%s': %s", file, msg, err.msg);
            assert_null(strchr(err.msg, '\n'));
        } else {
            assert_int_equal(ckpt_tensorset_format(ts), CKPT_FMT_GGUF);
        }
        ckpt_tensorset_close(ts);
        n++;
    }
    fclose(f);
    assert_true(n >= 50);
    assert_true(refused >= 40);
}

static void test_edge_values(void **state)
{
    struct ckpt_tensorset *ts = open_ok("cases/ok-all-scalars.gguf");
    const char *kv[][2] = {{"u8", "255"},
                           {"i8", "-1"},
                           {"u16", "65535"},
                           {"i16", "-32768"},
                           {"u32", "4000000000"},
                           {"i32", "-5"},
                           {"f32", "0.1"},
                           {"bool", "true"},
                           {"u64", "18446744073709551615"},
                           {"i64", "-9223372036854775808"},
                           {"f64", "1e+300"},
                           {"long", "[array of 65 u8]"}};
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++) {
        const char *v = ckpt_tensorset_meta_get(ts, kv[i][0]);
        assert_non_null(v);
        assert_string_equal(v, kv[i][1]);
    }
    check_tensor(ts, "w", CKPT_DT_F32, 2, 4, 8); /* ggml (8,4) -> PyTorch [4, 8] */
    ckpt_tensorset_close(ts);

    ts = open_ok("cases/ok-nested-array.gguf");
    assert_string_equal(ckpt_tensorset_meta_get(ts, "nested"), "[[1,-2],[\"x\\\"y\"]]");
    ckpt_tensorset_close(ts);

    ts = open_ok("cases/ok-zero-dim.gguf");
    check_tensor(ts, "empty", CKPT_DT_F32, 2, 4, 0);
    assert_int_equal(ckpt_tensorset_find(ts, "empty")->nbytes, 0);
    ckpt_tensorset_close(ts);
}

static void test_limits_from_memory(void **state)
{
    /* the same file, from memory, with tighter limits */
    FILE *f = fopen(fx("tiny-Q8_0.gguf"), "rb");
    assert_non_null(f);
    static unsigned char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    struct ckpt_limits lim;
    ckpt_limits_default(&lim);
    struct ckpt_reader *r;
    struct ckpt_tensorset *ts;
    struct ckpt_error err;
    assert_int_equal(ckpt_reader_open_memory(&r, buf, n, "mem.gguf", &err), CKPT_OK);
    assert_int_equal(ckpt_tensorset_open_reader(&ts, r, &lim, &err), CKPT_OK);
    assert_int_equal(ckpt_tensorset_count(ts), 5);
    ckpt_tensorset_close(ts);
    lim.max_tensors = 4;
    assert_int_equal(ckpt_tensorset_open_reader(&ts, r, &lim, &err), CKPT_E_LIMIT);
    lim.max_tensors = 100;
    lim.max_name_len = 8;
    assert_int_equal(ckpt_tensorset_open_reader(&ts, r, &lim, &err), CKPT_E_LIMIT);
    assert_non_null(strstr(err.msg, "mem.gguf: "));
    lim.max_name_len = 100;
    lim.gguf_max_kv = 2;
    assert_int_equal(ckpt_tensorset_open_reader(&ts, r, &lim, &err), CKPT_E_LIMIT);
    /* every truncation of the file is refused, none crashes */
    for (size_t cut = 0; cut < 416; cut++) {
        struct ckpt_reader *r2;
        assert_int_equal(ckpt_reader_open_memory(&r2, buf, cut, "cut.gguf", &err), CKPT_OK);
        int rc = ckpt_tensorset_open_reader(&ts, r2, NULL, &err);
        assert_int_not_equal(rc, CKPT_OK);
        ckpt_reader_close(r2);
    }
    ckpt_reader_close(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flux),        cmocka_unit_test(test_sd),
        cmocka_unit_test(test_data),        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_edge_values), cmocka_unit_test(test_limits_from_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
