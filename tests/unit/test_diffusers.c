/* Tests of the diffusers-folder reader: SD 1.5-shaped pipelines (plain, fp16 variant, sharded),
 * a single component folder, reading a tensor through the folder's tensorset, and every broken
 * folder of diffusers_folders.py (refused with the expected status, naming the folder). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckptdb/tensorset.h"

static char path_buf[4096];

static const char *fx(const char *rel)
{
    const char *dir = getenv("CKPT_FIXTURES");
    snprintf(path_buf, sizeof path_buf, "%s/diffusers/%s", dir ? dir : "fixtures", rel);
    return path_buf;
}

static struct ckpt_tensorset *open_ok(const char *rel)
{
    struct ckpt_tensorset *ts = NULL;
    struct ckpt_error err = {0};
    if (ckpt_tensorset_open(&ts, fx(rel), NULL, &err))
        fail_msg("%s: %s", rel, err.msg);
    assert_int_equal(ckpt_tensorset_format(ts), CKPT_FMT_DIFFUSERS);
    return ts;
}

static const struct ckpt_tensor *tensor(struct ckpt_tensorset *ts, const char *name,
                                        enum ckpt_dtype dt, uint64_t d0)
{
    const struct ckpt_tensor *t = ckpt_tensorset_find(ts, name);
    if (!t)
        fail_msg("no tensor %s", name);
    assert_int_equal(t->dtype, dt);
    assert_int_equal(t->shape[0], d0);
    return t;
}

static void meta_is(struct ckpt_tensorset *ts, const char *k, const char *v)
{
    const char *got = ckpt_tensorset_meta_get(ts, k);
    if (!got)
        fail_msg("no metadata %s", k);
    assert_string_equal(got, v);
}

static void check_pipeline(const char *rel, enum ckpt_dtype dt, const char *unet_w,
                           const char *te_w)
{
    struct ckpt_tensorset *ts = open_ok(rel);
    assert_int_equal(ckpt_tensorset_count(ts), 1131);
    tensor(ts, "unet/conv_in.weight", dt, 320);
    tensor(ts, "unet/down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight", dt, 320);
    tensor(ts, "vae/decoder.conv_out.weight", dt, 3);
    const struct ckpt_tensor *pos =
        tensor(ts, "text_encoder/text_model.embeddings.position_ids", CKPT_DT_I64, 1);
    meta_is(ts, "model_index._class_name", "StableDiffusionPipeline");
    meta_is(ts, "model_index._diffusers_version", "0.27.2");
    meta_is(ts, "unet.class", "UNet2DConditionModel");
    meta_is(ts, "unet.config.in_channels", "4");
    meta_is(ts, "unet.config.cross_attention_dim", "768");
    meta_is(ts, "vae.config.scaling_factor", "0.18215");
    meta_is(ts, "scheduler.config.prediction_type", "epsilon");
    meta_is(ts, "unet.weights", unet_w);
    meta_is(ts, "text_encoder.weights", te_w);
    meta_is(ts, "tokenizer.weights", "(none)");
    assert_null(ckpt_tensorset_meta_get(ts, "safety_checker.class")); /* [null, null] */
    /* sizes are the sum of the component files; sources are those files */
    uint64_t sum = 0;
    for (size_t i = 0; i < ckpt_tensorset_source_count(ts); i++) {
        const struct ckpt_source *s = ckpt_tensorset_source(ts, (uint32_t)i);
        assert_non_null(strstr(s->path, rel));
        sum += s->file_offset + s->size;
    }
    assert_int_equal(ckpt_tensorset_file_size(ts), sum);
    assert_true(ckpt_tensorset_bytes_read(ts) > ckpt_tensorset_header_bytes(ts));
    assert_true(ckpt_tensorset_bytes_read(ts) < 4 * 1024 * 1024);
    /* reading goes to the component file */
    int64_t ids[77];
    struct ckpt_error err;
    if (ckpt_tensorset_read_tensor(ts, pos, ids, sizeof ids, &err))
        fail_msg("%s", err.msg);
    for (int i = 0; i < 77; i++)
        assert_int_equal(ids[i], i);
    ckpt_tensorset_close(ts);
}

static void test_pipelines(void **state)
{
    check_pipeline("sd15", CKPT_DT_F32, "diffusion_pytorch_model.safetensors", "model.safetensors");
    check_pipeline("sd15-fp16/", CKPT_DT_F16, "diffusion_pytorch_model.fp16.safetensors",
                   "model.fp16.safetensors");
    check_pipeline("sd15-sharded", CKPT_DT_F32, "diffusion_pytorch_model.safetensors.index.json",
                   "model.safetensors.index.json");
}

static void test_single_component(void **state)
{
    struct ckpt_tensorset *ts = open_ok("sd15/vae/");
    meta_is(ts, "diffusers.component", "vae");
    meta_is(ts, "vae.config._class_name", "AutoencoderKL");
    tensor(ts, "vae/quant_conv.weight", CKPT_DT_F32, 8);
    assert_null(ckpt_tensorset_find(ts, "unet/conv_in.weight"));
    ckpt_tensorset_close(ts);
}

static void test_bad(void **state)
{
    char manifest[4096];
    snprintf(manifest, sizeof manifest, "%s", fx("bad/EXPECT.tsv"));
    FILE *f = fopen(manifest, "r");
    assert_non_null(f);
    char line[1024];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        char *name = line, *code = strchr(name, '\t');
        assert_non_null(code);
        *code++ = 0;
        char *msg = strchr(code, '\t');
        assert_non_null(msg);
        *msg++ = 0;
        char rel[1100];
        snprintf(rel, sizeof rel, "bad/%s", name);
        const char *path = fx(rel);
        int want = !strcmp(code, "OK")              ? CKPT_OK
                   : !strcmp(code, "CKPT_E_FORMAT") ? CKPT_E_FORMAT
                   : !strcmp(code, "CKPT_E_LIMIT")  ? CKPT_E_LIMIT
                                                    : 1;
        struct ckpt_tensorset *ts = NULL;
        struct ckpt_error err = {0};
        int rc = ckpt_tensorset_open(&ts, path, NULL, &err);
        if (rc != want)
            fail_msg("%s: expected %s, got %d (%s)", name, code, rc, rc ? err.msg : "accepted");
        if (rc) {
            assert_null(ts);
            if (strncmp(err.msg, path, strlen(path)))
                fail_msg("%s: message does not name the folder: %s", name, err.msg);
            if (!strstr(err.msg, msg))
                fail_msg("%s: message lacks '%s': %s", name, msg, err.msg);
            assert_null(strchr(err.msg, '\n'));
        }
        ckpt_tensorset_close(ts);
        n++;
    }
    fclose(f);
    assert_true(n >= 15);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pipelines),
        cmocka_unit_test(test_single_component),
        cmocka_unit_test(test_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
