/* Unit tests: the UI layouts table (lib/views/ui_layout.c): the folder each kind goes to in each
 * UI, kinds a UI cannot load, diffusers folders, link names for files without a model
 * extension, preview names per UI, the ComfyUI extra_model_paths.yaml section and UI names. The
 * sync itself is tested end to end by tests/cli/views.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "ckptdb/views.h"

static struct ckpt_model model(const char *path, const char *format, const char *kind)
{
    struct ckpt_model m;
    memset(&m, 0, sizeof m);
    m.path = (char *)path;
    m.format = (char *)format;
    m.kind = (char *)kind;
    return m;
}

static void folders(void **state)
{
    struct ckpt_model m = model("/l/a.safetensors", "safetensors", "checkpoint");
    assert_string_equal(ckpt_ui_folder(CKPT_UI_A1111, &m), "models/Stable-diffusion");
    assert_string_equal(ckpt_ui_folder(CKPT_UI_COMFYUI, &m), "models/checkpoints");
    assert_string_equal(ckpt_ui_folder(CKPT_UI_INVOKEAI, &m), "main");
    m.kind = "lora";
    assert_string_equal(ckpt_ui_folder(CKPT_UI_FORGE, &m), "models/Lora");
    assert_string_equal(ckpt_ui_folder(CKPT_UI_COMFYUI, &m), "models/loras");
    m.kind = "embedding";
    assert_string_equal(ckpt_ui_folder(CKPT_UI_A1111, &m), "embeddings");
    assert_string_equal(ckpt_ui_folder(CKPT_UI_COMFYUI, &m), "models/embeddings");
    m.kind = "diffusion-model"; /* Forge loads UNet-only files, A1111 does not */
    assert_null(ckpt_ui_folder(CKPT_UI_A1111, &m));
    assert_string_equal(ckpt_ui_folder(CKPT_UI_FORGE, &m), "models/Stable-diffusion");
    assert_string_equal(ckpt_ui_folder(CKPT_UI_COMFYUI, &m), "models/diffusion_models");
    m.kind = "text-encoder";
    assert_string_equal(ckpt_ui_folder(CKPT_UI_COMFYUI, &m), "models/text_encoders");
    m.kind = "unknown";
    assert_null(ckpt_ui_folder(CKPT_UI_COMFYUI, &m));
    m.kind = NULL;
    assert_null(ckpt_ui_folder(CKPT_UI_COMFYUI, &m));
    struct ckpt_model d = model("/l/sd15", "diffusers", "checkpoint");
    assert_null(ckpt_ui_folder(CKPT_UI_A1111, &d));
    assert_string_equal(ckpt_ui_folder(CKPT_UI_COMFYUI, &d), "models/diffusers");
    assert_string_equal(ckpt_ui_folder(CKPT_UI_INVOKEAI, &d), "main");
    /* every folder a model can go to is part of the UI's tree */
    const char *kinds[] = {"checkpoint",  "diffusion-model", "vae",          "text-encoder",
                           "lora",        "embedding",       "hypernetwork", "controlnet",
                           "t2i-adapter", "ip-adapter",      "clip-vision"};
    for (int ui = 0; ui < 4; ui++) {
        const char *const *all = ckpt_ui_folders((enum ckpt_ui)ui);
        for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
            m.kind = (char *)kinds[k];
            const char *f = ckpt_ui_folder((enum ckpt_ui)ui, &m);
            if (!f)
                continue;
            int found = 0;
            for (size_t i = 0; all[i]; i++)
                found |= strcmp(all[i], f) == 0;
            assert_true(found);
        }
    }
}

static void names(void **state)
{
    struct ckpt_model m = model("/l/misc/watercolor", "safetensors", "checkpoint");
    char *n = ckpt_ui_link_name(&m);
    assert_string_equal(n, "watercolor.safetensors");
    free(n);
    m = model("/l/x/old.CKPT", "torch-zip", "checkpoint");
    n = ckpt_ui_link_name(&m);
    assert_string_equal(n, "old.CKPT");
    free(n);
    m = model("/l/x/net", "torch-legacy", "lora");
    n = ckpt_ui_link_name(&m);
    assert_string_equal(n, "net.pt");
    free(n);
    m = model("/l/x/v1.5.model", "gguf", "diffusion-model");
    n = ckpt_ui_link_name(&m);
    assert_string_equal(n, "v1.5.model.gguf");
    free(n);
    m = model("/l/diffusers/sd15/", "diffusers", "checkpoint");
    n = ckpt_ui_link_name(&m);
    assert_string_equal(n, "sd15");
    free(n);
    char *p = ckpt_ui_preview_name(CKPT_UI_A1111, "a.b.safetensors", "/l/a.b.preview.png");
    assert_string_equal(p, "a.b.preview.png");
    free(p);
    p = ckpt_ui_preview_name(CKPT_UI_COMFYUI, "a.b.safetensors", "/l/a.b.JPG");
    assert_string_equal(p, "a.b.JPG");
    free(p);
    assert_null(ckpt_ui_preview_name(CKPT_UI_INVOKEAI, "a.safetensors", "/l/a.png"));
    assert_null(ckpt_ui_preview_name(CKPT_UI_A1111, "a.safetensors", "/l/noext"));
}

static void yaml_and_parse(void **state)
{
    struct ckpt_buf b = {0};
    ckpt_ui_comfyui_yaml("/v/my \"view\"", &b);
    const char *y = ckpt_buf_cstr(&b);
    assert_non_null(strstr(y, "\nckptdb:\n    base_path: \"/v/my \\\"view\\\"\"\n"));
    assert_non_null(strstr(y, "    checkpoints: models/checkpoints\n"));
    assert_non_null(strstr(y, "    loras: models/loras\n"));
    ckpt_buf_free(&b);
    enum ckpt_ui ui;
    struct ckpt_error err;
    assert_int_equal(ckpt_ui_parse("forge", &ui, &err), CKPT_OK);
    assert_int_equal(ui, CKPT_UI_FORGE);
    assert_int_equal(ckpt_ui_parse("sdnext", &ui, &err), CKPT_E_ARG);
    assert_non_null(strstr(err.msg, "a1111, forge, comfyui, invokeai"));
    assert_string_equal(ckpt_ui_name(CKPT_UI_INVOKEAI), "invokeai");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(folders),
        cmocka_unit_test(names),
        cmocka_unit_test(yaml_and_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
