/* Rule-level tests of lib/identify: tensorsets built in memory (names and shapes only), plus
 * one fixture to check that identification reads nothing but headers and position_ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ckptdb/identify.h"
#include "model/tensorset_impl.h"

static struct ckpt_tensorset *ts_begin(const char *name)
{
    struct ckpt_tensorset *ts = ckpt_ts_new(name, NULL);
    assert_non_null(ts);
    uint32_t idx;
    assert_int_equal(ckpt_ts_add_source(ts, NULL, NULL, 0, UINT64_C(1) << 50, 0, &idx, NULL),
                     CKPT_OK);
    return ts;
}

/* add("name", F16, ndim, d0, d1, ...) */
static void add(struct ckpt_tensorset *ts, const char *name, enum ckpt_dtype dt, int ndim, ...)
{
    struct ckpt_tensor t;
    memset(&t, 0, sizeof t);
    t.name = name;
    t.dtype = dt;
    t.ndim = (uint32_t)ndim;
    va_list ap;
    va_start(ap, ndim);
    for (int i = 0; i < ndim; i++)
        t.shape[i] = va_arg(ap, unsigned);
    va_end(ap);
    static uint64_t off;
    t.offset = off;
    off += 1u << 26;
    assert_int_equal(ckpt_ts_add_tensor(ts, &t, strlen(name), NULL), CKPT_OK);
}

static void identify(struct ckpt_tensorset *ts, struct ckpt_identify_result *r)
{
    struct ckpt_identify_options opt = {.no_data = 1};
    assert_int_equal(ckpt_identify(ts, &opt, r, NULL), CKPT_OK);
}

static void add_unet_bulk(struct ckpt_tensorset *ts, const char *prefix, int n)
{
    char name[256];
    for (int i = 0; i < n; i++) {
        snprintf(name, sizeof name, "%soutput_blocks.%d.0.in_layers.0.weight", prefix, i);
        add(ts, name, CKPT_DT_F16, 1, 320);
    }
}

/* Refiner and SD2.1-Turbo (SGM) share conditioner.embedders.0.model.*: the widths decide. */
static void test_refiner_vs_turbo(void **state)
{
    (void)state;
    struct ckpt_identify_result r;
    struct ckpt_tensorset *ts = ts_begin("refiner.safetensors");
    add_unet_bulk(ts, "model.diffusion_model.", 10);
    add(ts, "model.diffusion_model.input_blocks.4.1.transformer_blocks.0.attn2.to_k.weight",
        CKPT_DT_F16, 2, 768, 1280);
    add(ts, "conditioner.embedders.0.model.ln_final.weight", CKPT_DT_F16, 1, 1280);
    identify(ts, &r);
    assert_int_equal(r.kind, CKPT_KIND_CHECKPOINT);
    assert_int_equal(r.family, CKPT_FAM_SDXL_REFINER);
    assert_true(r.components & CKPT_COMP_TE2);
    assert_false(r.components & CKPT_COMP_TE);
    ckpt_identify_result_release(&r);
    ckpt_tensorset_close(ts);

    ts = ts_begin("turbo.safetensors");
    add_unet_bulk(ts, "model.diffusion_model.", 10);
    add(ts, "model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight",
        CKPT_DT_F16, 2, 320, 1024);
    add(ts, "conditioner.embedders.0.model.ln_final.weight", CKPT_DT_F16, 1, 1024);
    identify(ts, &r);
    assert_int_equal(r.family, CKPT_FAM_SD2);
    assert_true(r.components & CKPT_COMP_TE);
    assert_int_equal(r.prediction, CKPT_PRED_UNKNOWN); /* SD2 without evidence: no guess */
    ckpt_identify_result_release(&r);
    ckpt_tensorset_close(ts);
}

/* Flux dev needs only one of the two guidance_in layers (stripped files). */
static void test_flux_dev_schnell(void **state)
{
    (void)state;
    for (int dev = 0; dev < 2; dev++) {
        struct ckpt_identify_result r;
        struct ckpt_tensorset *ts = ts_begin("flux.safetensors");
        char name[128];
        for (int i = 0; i < 10; i++) {
            snprintf(name, sizeof name, "double_blocks.%d.img_attn.norm.key_norm.scale", i);
            add(ts, name, CKPT_DT_BF16, 1, 128);
        }
        add(ts, "img_in.weight", CKPT_DT_BF16, 2, 3072, 64);
        if (dev)
            add(ts, "guidance_in.out_layer.weight", CKPT_DT_BF16, 2, 3072, 3072);
        identify(ts, &r);
        assert_int_equal(r.kind, CKPT_KIND_DIFFUSION_MODEL);
        assert_int_equal(r.family, dev ? CKPT_FAM_FLUX_DEV : CKPT_FAM_FLUX_SCHNELL);
        assert_int_equal(r.variant, CKPT_VAR_NORMAL);
        assert_int_equal(r.precision, CKPT_PREC_BF16);
        ckpt_identify_result_release(&r);
        ckpt_tensorset_close(ts);
    }
}

/* LoKr's layer width is w1 in x w2 in; 32 x 32 = 1024 -> SD2. */
static void test_lokr_width(void **state)
{
    (void)state;
    struct ckpt_identify_result r;
    struct ckpt_tensorset *ts = ts_begin("x.safetensors");
    const char *m = "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k";
    char name[256];
    snprintf(name, sizeof name, "%s.lokr_w1", m);
    add(ts, name, CKPT_DT_F16, 2, 8, 32);
    snprintf(name, sizeof name, "%s.lokr_w2", m);
    add(ts, name, CKPT_DT_F16, 2, 40, 32);
    identify(ts, &r);
    assert_int_equal(r.kind, CKPT_KIND_LORA);
    assert_int_equal(r.network, CKPT_NET_LOKR);
    assert_int_equal(r.family, CKPT_FAM_SD2);
    ckpt_identify_result_release(&r);
    ckpt_tensorset_close(ts);
}

/* A checkpoint with merged-in LoRA keys stays a checkpoint; the LoRA keys are junk. */
static void test_checkpoint_with_lora_keys(void **state)
{
    (void)state;
    struct ckpt_identify_result r;
    struct ckpt_tensorset *ts = ts_begin("merged.safetensors");
    add_unet_bulk(ts, "model.diffusion_model.", 12);
    add(ts, "model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight",
        CKPT_DT_F16, 2, 320, 768);
    add(ts, "first_stage_model.decoder.conv_in.weight", CKPT_DT_F16, 4, 512, 4, 3, 3);
    add(ts, "lora_unet_x.lora_down.weight", CKPT_DT_F16, 2, 4, 320);
    add(ts, "lora_unet_x.lora_up.weight", CKPT_DT_F16, 2, 320, 4);
    identify(ts, &r);
    assert_int_equal(r.kind, CKPT_KIND_CHECKPOINT);
    assert_int_equal(r.family, CKPT_FAM_SD1);
    int junk = 0, missing = 0;
    for (size_t i = 0; i < r.n_problems; i++) {
        junk |= !strcmp(r.problems[i].code, "junk-keys");
        missing |= !strcmp(r.problems[i].code, "missing-component");
    }
    assert_true(junk);
    assert_true(missing); /* no text encoder */
    ckpt_identify_result_release(&r);
    ckpt_tensorset_close(ts);
}

/* "ponytail" in a name is not Pony; "autismmixPony" is. */
static void test_ecosystem_names(void **state)
{
    (void)state;
    const char *names[] = {"ponytail_style.safetensors", "autismmixSDXL_autismmixPony.safetensors"};
    for (int k = 0; k < 2; k++) {
        struct ckpt_identify_result r;
        struct ckpt_tensorset *ts = ts_begin(names[k]);
        add(ts, "lora_te1_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight",
            CKPT_DT_F16, 2, 4, 768);
        add(ts, "lora_te2_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight",
            CKPT_DT_F16, 2, 4, 1280);
        identify(ts, &r);
        assert_int_equal(r.family, CKPT_FAM_SDXL);
        assert_int_equal(r.ecosystem, k ? CKPT_ECO_PONY : CKPT_ECO_NONE);
        ckpt_identify_result_release(&r);
        ckpt_tensorset_close(ts);
    }
}

static void test_sidecar(void **state)
{
    (void)state;
    struct ckpt_identify_result r;
    struct ckpt_tensorset *ts = ts_begin("model.safetensors");
    add_unet_bulk(ts, "", 12);
    add(ts, "label_emb.0.0.weight", CKPT_DT_F16, 2, 1280, 2816);
    const char *side = "{\"baseModel\": \"NoobAI\"}";
    struct ckpt_identify_options opt = {
        .sidecar_json = side, .sidecar_len = strlen(side), .no_data = 1};
    assert_int_equal(ckpt_identify(ts, &opt, &r, NULL), CKPT_OK);
    assert_int_equal(r.family, CKPT_FAM_SDXL);
    assert_int_equal(r.ecosystem, CKPT_ECO_NOOBAI);
    ckpt_identify_result_release(&r);
    /* a broken sidecar is ignored, not an error */
    opt.sidecar_json = "{\"baseModel\": ";
    opt.sidecar_len = strlen(opt.sidecar_json);
    assert_int_equal(ckpt_identify(ts, &opt, &r, NULL), CKPT_OK);
    assert_int_equal(r.ecosystem, CKPT_ECO_NONE);
    ckpt_identify_result_release(&r);
    ckpt_tensorset_close(ts);
}

static void test_empty_and_release(void **state)
{
    (void)state;
    struct ckpt_identify_result r;
    struct ckpt_tensorset *ts = ts_begin("empty.safetensors");
    identify(ts, &r);
    assert_int_equal(r.kind, CKPT_KIND_UNKNOWN);
    assert_null(ckpt_network_name(r.network));
    ckpt_identify_result_release(&r);
    ckpt_identify_result_release(&r); /* twice is safe */
    ckpt_tensorset_close(ts);
}

/* On a real file: only the header and the 77 x int64 position_ids are read. */
static void test_reads_only_header(void **state)
{
    (void)state;
    const char *fx = getenv("CKPT_FIXTURES");
    if (!fx)
        skip();
    char path[4096];
    snprintf(path, sizeof path, "%s/identify/sd15-broken-position-ids.safetensors", fx);
    struct ckpt_tensorset *ts;
    struct ckpt_error err;
    assert_int_equal(ckpt_tensorset_open(&ts, path, NULL, &err), CKPT_OK);
    uint64_t before = ckpt_tensorset_bytes_read(ts);
    struct ckpt_identify_result r;
    assert_int_equal(ckpt_identify(ts, NULL, &r, &err), CKPT_OK);
    assert_int_equal(r.data_bytes_read, 77 * 8);
    assert_true(ckpt_tensorset_bytes_read(ts) - before <= 77 * 8);
    assert_true(ckpt_tensorset_bytes_read(ts) <= ckpt_tensorset_header_bytes(ts) + 77 * 8 + 64);
    int found = 0;
    for (size_t i = 0; i < r.n_problems; i++)
        if (!strcmp(r.problems[i].code, "broken-clip-position-ids")) {
            found = 1;
            assert_non_null(strstr(r.problems[i].message, "60..76 hold 59..75"));
        }
    assert_true(found);
    ckpt_identify_result_release(&r);
    ckpt_tensorset_close(ts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refiner_vs_turbo),  cmocka_unit_test(test_flux_dev_schnell),
        cmocka_unit_test(test_lokr_width),        cmocka_unit_test(test_checkpoint_with_lora_keys),
        cmocka_unit_test(test_ecosystem_names),   cmocka_unit_test(test_sidecar),
        cmocka_unit_test(test_empty_and_release), cmocka_unit_test(test_reads_only_header),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
