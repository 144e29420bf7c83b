/* Lineage fingerprints: the one computed alongside the hashes (hasher extra consumer) equals the
 * one computed on its own, byte for byte; the blob round-trips; a damaged blob is refused with
 * CKPT_E_FORMAT; a linear merge's sketch is the merge of its parents' sketches (fit at floor); the
 * prepared fold distance equals the one-off one, stops early only above its bound, and refuses
 * a fold with other blocks. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ckptdb/buf.h"
#include "ckptdb/hash.h"
#include "ckptdb/lineage.h"
#include "ckptdb/tensorset.h"

static char path[4096];

static const char *fixture(const char *name)
{
    const char *fx = getenv("CKPT_FIXTURES");
    assert_non_null(fx);
    snprintf(path, sizeof path, "%s/lineage/sd1/%s.safetensors", fx, name);
    return path;
}

static void upd(void *user, const uint8_t *p, uint64_t off, size_t len)
{
    ckpt_lineage_stream_update(user, p, off, len);
}

static void test_hasher_pass_equals_own_pass(void **state)
{
    (void)state;
    const char *p = fixture("ws1");
    struct ckpt_lineage_fp *a, *b;
    assert_int_equal(ckpt_lineage_fingerprint_file(p, NULL, &a, NULL), CKPT_OK);
    struct ckpt_tensorset *ts;
    assert_int_equal(ckpt_tensorset_open(&ts, p, NULL, NULL), CKPT_OK);
    struct ckpt_lineage_stream *s;
    assert_int_equal(ckpt_lineage_stream_new(ts, &s, NULL), CKPT_OK);
    struct ckpt_hash_consumer c = {upd, s};
    struct ckpt_hash_options o;
    ckpt_hash_options_default(&o);
    o.extra = &c;
    o.block_size = 65536; /* many blocks: tensors and elements straddle them */
    struct ckpt_hash_result hr;
    assert_int_equal(ckpt_hash_file(p, &o, &hr, NULL), CKPT_OK);
    assert_int_equal(ckpt_lineage_stream_finish(s, &b, NULL), CKPT_OK);
    struct ckpt_buf ba = {0}, bb = {0};
    ckpt_lineage_fp_save(a, &ba);
    ckpt_lineage_fp_save(b, &bb);
    assert_int_equal(ba.len, bb.len);
    assert_memory_equal(ba.data, bb.data, ba.len);
    /* round trip */
    struct ckpt_lineage_fp *c2;
    assert_int_equal(ckpt_lineage_fp_load(ba.data, ba.len, "x", &c2, NULL), CKPT_OK);
    struct ckpt_buf bc = {0};
    ckpt_lineage_fp_save(c2, &bc);
    assert_memory_equal(ba.data, bc.data, ba.len);
    /* damage: a truncated blob and a bad block index */
    struct ckpt_error e;
    struct ckpt_lineage_fp *d;
    assert_int_equal(ckpt_lineage_fp_load(ba.data, ba.len - 1, "x", &d, &e), CKPT_E_FORMAT);
    ba.data[ba.len - 4] = (char)0xfe;
    ba.data[ba.len - 3] = (char)0xfe;
    assert_int_equal(ckpt_lineage_fp_load(ba.data, ba.len, "x", &d, &e), CKPT_E_FORMAT);
    ckpt_buf_free(&ba);
    ckpt_buf_free(&bb);
    ckpt_buf_free(&bc);
    ckpt_lineage_fp_free(a);
    ckpt_lineage_fp_free(b);
    ckpt_lineage_fp_free(c2);
    ckpt_tensorset_close(ts);
}

extern int lin_kernel_portable_only; /* lib/lineage/kernel.c */

/* The vector kernel (AVX2/F16C where the CPU has them) and the portable loop give the same bits,
 * on fp16 (ws1) and on bf16/fp32 tensors (the mkfixture file of the fixtures). */
static void test_portable_equals_vector(void **state)
{
    (void)state;
    const char *files[] = {fixture("ws1"), NULL};
    char other[4096];
    const char *fx = getenv("CKPT_FIXTURES");
    snprintf(other, sizeof other, "%s/lineage/mixed.safetensors", fx);
    files[1] = other;
    for (int i = 0; i < 2; i++) {
        char p[4096];
        snprintf(p, sizeof p, "%s", files[i]);
        struct ckpt_lineage_fp *a, *b;
        lin_kernel_portable_only = 0;
        assert_int_equal(ckpt_lineage_fingerprint_file(p, NULL, &a, NULL), CKPT_OK);
        lin_kernel_portable_only = 1;
        assert_int_equal(ckpt_lineage_fingerprint_file(p, NULL, &b, NULL), CKPT_OK);
        lin_kernel_portable_only = 0;
        struct ckpt_buf ba = {0}, bb = {0};
        ckpt_lineage_fp_save(a, &ba);
        ckpt_lineage_fp_save(b, &bb);
        assert_int_equal(ba.len, bb.len);
        assert_memory_equal(ba.data, bb.data, ba.len);
        ckpt_buf_free(&ba);
        ckpt_buf_free(&bb);
        ckpt_lineage_fp_free(a);
        ckpt_lineage_fp_free(b);
    }
}

static void test_weighted_sum_fit(void **state)
{
    (void)state;
    const char *names[] = {"ws1", "ft1", "ft2", "ft3", "base"};
    struct ckpt_lineage_fp *fp[5];
    for (int i = 0; i < 5; i++)
        assert_int_equal(ckpt_lineage_fingerprint_file(fixture(names[i]), NULL, &fp[i], NULL),
                         CKPT_OK);
    struct ckpt_lineage_result r;
    assert_int_equal(ckpt_lineage_explain(fp[0], (const struct ckpt_lineage_fp *const *)fp + 1, 4,
                                          NULL, &r, NULL),
                     CKPT_OK);
    assert_int_equal(r.origin, CKPT_LINEAGE_MERGE);
    assert_true(r.linear);
    assert_int_equal(r.n_parents, 2);
    assert_int_equal(r.parents[0].index, 1); /* ft2, 0.7 */
    assert_true(r.parents[0].weight > 0.69 && r.parents[0].weight < 0.71);
    ckpt_lineage_result_release(&r);
    for (int i = 0; i < 5; i++)
        ckpt_lineage_fp_free(fp[i]);
}

static void test_fold_distance(void **state)
{
    (void)state;
    struct ckpt_lineage_fp *a, *b;
    assert_int_equal(ckpt_lineage_fingerprint_file(fixture("ft1"), NULL, &a, NULL), CKPT_OK);
    assert_int_equal(ckpt_lineage_fingerprint_file(fixture("ft2"), NULL, &b, NULL), CKPT_OK);
    struct ckpt_buf fb = {0};
    ckpt_lineage_fp_fold_save(b, &fb);
    double d = ckpt_lineage_fold_distance(a, fb.data, fb.len);
    assert_true(d > 0);
    struct ckpt_lineage_foldq *q = ckpt_lineage_foldq_new(a);
    assert_non_null(q);
    assert_true(ckpt_lineage_foldq_distance(q, fb.data, fb.len, INFINITY) == d); /* same bits */
    assert_true(ckpt_lineage_foldq_distance(q, fb.data, fb.len, d) == d);        /* not above */
    double early = ckpt_lineage_foldq_distance(q, fb.data, fb.len, d / 1e6);
    assert_true(early > d / 1e6 && early <= d);
    /* blocks out of order: found by name, same distance */
    size_t per = (fb.len - 8) / ckpt_lineage_fp_block_count(b);
    char *sw = malloc(fb.len);
    assert_non_null(sw);
    memcpy(sw, fb.data, fb.len);
    memcpy(sw + 8, fb.data + 8 + per, per);
    memcpy(sw + 8 + per, fb.data + 8, per);
    assert_true(ckpt_lineage_foldq_distance(q, sw, fb.len, INFINITY) == d);
    /* a block name no query block has: not comparable */
    sw[8] = 'Z';
    assert_true(ckpt_lineage_foldq_distance(q, sw, fb.len, INFINITY) < 0);
    assert_true(ckpt_lineage_foldq_distance(q, fb.data, fb.len - 1, INFINITY) < 0);
    free(sw);
    ckpt_lineage_foldq_free(q);
    ckpt_buf_free(&fb);
    ckpt_lineage_fp_free(a);
    ckpt_lineage_fp_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hasher_pass_equals_own_pass),
        cmocka_unit_test(test_weighted_sum_fit),
        cmocka_unit_test(test_portable_equals_vector),
        cmocka_unit_test(test_fold_distance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
