/* Unit tests: layout templates (lib/organize/layout.c): fields, fallbacks, presets, refusals and
 * the per-component sanitising. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "ckptdb/layout.h"

static char *expand(const char *tmpl, const struct ckpt_model *m)
{
    struct ckpt_layout *l = NULL;
    struct ckpt_error err = {0};
    assert_int_equal(ckpt_layout_compile(tmpl, &l, &err), CKPT_OK);
    char *out = NULL;
    assert_int_equal(ckpt_layout_expand(l, m, &out, &err), CKPT_OK);
    ckpt_layout_free(l);
    return out;
}

static void expect(const char *tmpl, const struct ckpt_model *m, const char *want)
{
    char *got = expand(tmpl, m);
    assert_string_equal(got, want);
    free(got);
}

static void fields_and_fallbacks(void **state)
{
    (void)state;
    struct ckpt_model m = {0};
    m.kind = "checkpoint";
    m.family = "sdxl";
    m.ecosystem = "pony";
    m.origin = "merge";
    m.output = "anime";
    m.realism = "2.5D,2D";
    m.subjects = "portraits, backgrounds";
    m.source = "civitai";
    m.name = "Pony Mix v3";
    expect("{kind}/{family}/{ecosystem}/{origin}/{output}/{realism}/{subject}/{source}/{name}", &m,
           "checkpoint/sdxl/pony/merge/anime/2.5D/portraits/civitai/Pony Mix v3");
    expect("{family}-{kind}", &m, "sdxl-checkpoint");
    expect("fixed/{output|unsorted}", &m, "fixed/anime");
    expect("", &m, "");
    expect("a//b/", &m, "a/b");

    struct ckpt_model e = {0};
    e.kind = "lora";
    /* empty fields take the fallback; a component that is empty without one is dropped */
    expect("{output|unsorted}/{realism}", &e, "unsorted");
    expect("{output}/{realism}", &e, "");
    expect("x{output}y", &e, "xy");
    expect("{family|unknown}/{ecosystem|}", &e, "unknown");
    /* suggestions never count: only chosen (and measured) values do */
    struct ckpt_suggestion sg = {.field = "output", .value = "anime", .confidence = 0.9};
    e.suggested = &sg;
    e.n_suggested = 1;
    expect("{output|unsorted}", &e, "unsorted");
}

static void presets(void **state)
{
    (void)state;
    const char *const *p = ckpt_layout_presets();
    size_t n = 0;
    for (; p[n]; n++)
        assert_non_null(ckpt_layout_preset_template(p[n]));
    assert_int_equal(n, 4);
    assert_null(ckpt_layout_preset_template("nope"));

    struct ckpt_model m = {0};
    m.kind = "checkpoint";
    m.family = "sd1";
    m.output = "photorealistic";
    m.realism = "realistic";
    expect("by-output", &m, "photorealistic");
    expect("by-output-realism", &m, "photorealistic/realistic");
    expect("by-family-output", &m, "sd1/photorealistic");
    expect("a1111", &m, "models/Stable-diffusion/sd1");
    m.kind = "lora";
    expect("a1111", &m, "models/Lora/sd1");
    m.kind = "embedding";
    expect("a1111", &m, "embeddings/sd1");
    m.kind = NULL;
    m.family = NULL;
    expect("a1111", &m, "models/Other/unknown");

    struct ckpt_layout *l = NULL;
    assert_int_equal(ckpt_layout_compile("by-output", &l, NULL), CKPT_OK);
    assert_string_equal(ckpt_layout_template(l), "{output|unsorted}");
    ckpt_layout_free(l);
}

static void refusals(void **state)
{
    (void)state;
    const char *bad[] = {"{colour}",     "/abs/{output}", "{output",   "out}put",
                         "{output|a/b}", "a:b",           "..",        "x/./y",
                         "{out{put}",    "{a1111}x",      "{a1111|x}", "{output|..}",
                         "tab\there",    "back\\sl",      NULL};
    for (size_t i = 0; bad[i]; i++) {
        struct ckpt_layout *l = (struct ckpt_layout *)1;
        struct ckpt_error err = {0};
        assert_int_equal(ckpt_layout_compile(bad[i], &l, &err), CKPT_E_ARG);
        assert_null(l);
        assert_true(strlen(err.msg) > 0);
    }
    struct ckpt_error err = {0};
    struct ckpt_layout *l = NULL;
    assert_int_equal(ckpt_layout_compile("{colour}", &l, &err), CKPT_E_ARG);
    assert_non_null(strstr(err.msg, "kind, family, ecosystem, origin, output, realism, subject"));
    assert_int_equal(ckpt_layout_compile(NULL, &l, &err), CKPT_E_ARG);
}

static void sanitising(void **state)
{
    (void)state;
    struct ckpt_model m = {0};
    m.name = "a/b\\c:d*e?f\"g<h>i|j";
    expect("{name}", &m, "a_b_c_d_e_f_g_h_i_j");
    m.name = "  spaced out. . ";
    expect("{name}", &m, "spaced out");
    m.name = "..";
    expect("{name|fb}", &m, "fb");
    m.name = ".";
    expect("x/{name}", &m, "x");
    m.name = ".hidden";
    expect("{name}", &m, "_hidden");
    m.name = "con";
    expect("{name}", &m, "con_");
    m.name = "LPT1.txt";
    expect("{name}", &m, "LPT1_.txt");
    m.name = "COM10";
    expect("{name}", &m, "COM10");
    m.name = "nul.tar.gz";
    expect("{name}", &m, "nul_.tar.gz");
    m.name = "ctl\x01\x7f"
             "x";
    expect("{name}", &m, "ctl__x");
    m.name = "bad\xff\xfeutf8 \xc3\xa9t\xc3\xa9";
    expect("{name}", &m, "bad__utf8 \xc3\xa9t\xc3\xa9");

    /* length bound, cut at a character boundary (é is 2 bytes) */
    char longname[400];
    memset(longname, 0, sizeof longname);
    for (size_t i = 0; i + 2 < 300; i += 2)
        memcpy(longname + i, "\xc3\xa9", 2);
    longname[0] = 'x'; /* shift by one so the bound falls inside a character */
    m.name = longname;
    char *got = expand("{name}", &m);
    assert_true(strlen(got) <= CKPT_LAYOUT_COMPONENT_MAX);
    assert_true(strlen(got) >= CKPT_LAYOUT_COMPONENT_MAX - 3);
    assert_int_equal((unsigned char)got[strlen(got) - 1], 0xa9);
    free(got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fields_and_fallbacks),
        cmocka_unit_test(presets),
        cmocka_unit_test(refusals),
        cmocka_unit_test(sanitising),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
