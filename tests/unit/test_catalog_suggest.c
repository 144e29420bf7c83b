/* Unit tests: the suggestion rules table (lib/catalog/suggest.c), one case per rule. A rule
 * without a case fails the coverage test, so every new rule comes with its test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/internal.h"

struct rule_case {
    const char *rule;
    const char *name;
    const char *meta_key, *meta_value;
    struct ckpt_sidecar_facts side;
    const char *field, *value; /* expected suggestion */
    const char *why;           /* a substring of its reasons */
};

#define BOORU "{\"d\":{\"1girl\":40,\"solo\":30,\"long_hair\":10,\"scenery\":2}}"
#define PHOTO "{\"d\":{\"raw photo\":40,\"dslr\":30,\"a man\":10}}"

static const struct rule_case cases[] = {
    {"meta-merge-recipe", "x", "sd_merge_recipe", "{}", {0}, "origin", "merge", "sd_merge_recipe"},
    {"meta-merge-models", "x", "sd_merge_models", "{}", {0}, "origin", "merge", "sd_merge_models"},
    {"meta-mecha", "x", "mecha_recipe", "merge(...)", {0}, "origin", "merge", "mecha"},
    {"meta-modelspec-merged-from",
     "x",
     "modelspec.merged_from",
     "a, b",
     {0},
     "origin",
     "merge",
     "merged_from"},
    {"meta-kohya-training",
     "x",
     "ss_training_started_at",
     "1",
     {0},
     "origin",
     "fine-tune",
     "ss_training_started_at"},
    {"meta-kohya-network",
     "x",
     "ss_network_module",
     "networks.lora",
     {0},
     "origin",
     "fine-tune",
     "ss_network_module"},
    {"site-merge",
     "x",
     NULL,
     NULL,
     {.checkpoint_type = "Merge"},
     "origin",
     "merge",
     "checkpointType Merge"},
    {"site-trained",
     "x",
     NULL,
     NULL,
     {.checkpoint_type = "Trained"},
     "origin",
     "fine-tune",
     "checkpointType Trained"},
    {"name-mix", "dreamyMix_v2", NULL, NULL, {0}, "origin", "merge", "Mix"},
    {"tagfreq-booru", "x", "ss_tag_frequency", BOORU, {0}, "output", "anime", "booru"},
    {"tagfreq-booru-2d", "x", "ss_tag_frequency", BOORU, {0}, "realism", "2D", "booru"},
    {"tagfreq-photo", "x", "ss_tag_frequency", PHOTO, {0}, "output", "photorealistic", "photo"},
    {"tagfreq-photo-realistic",
     "x",
     "ss_tag_frequency",
     PHOTO,
     {0},
     "realism",
     "realistic",
     "photo"},
    {"tag-anime", "x", NULL, NULL, {.tags = "Anime, girls"}, "output", "anime", "tag anime"},
    {"tag-cartoon", "x", NULL, NULL, {.tags = "cartoon"}, "output", "anime", "cartoon"},
    {"tag-photo",
     "x",
     NULL,
     NULL,
     {.tags = "photorealistic"},
     "output",
     "photorealistic",
     "tag photorealistic"},
    {"tag-photo-realism",
     "x",
     NULL,
     NULL,
     {.tags = "realistic"},
     "realism",
     "realistic",
     "tag realistic"},
    {"tag-semi", "x", NULL, NULL, {.tags = "semi-realistic"}, "realism", "semi-realistic", "semi"},
    {"tag-25d", "x", NULL, NULL, {.tags = "2.5D"}, "realism", "2.5D", "2.5D"},
    {"tag-2d", "x", NULL, NULL, {.tags = "2d, flat"}, "realism", "2D", "tag 2D"},
    {"tag-3d", "x", NULL, NULL, {.tags = "3D"}, "output", "render", "tag 3D"},
    {"tag-painting",
     "x",
     NULL,
     NULL,
     {.tags = "concept art"},
     "output",
     "digital-painting",
     "painting"},
    {"tag-illustration",
     "x",
     NULL,
     NULL,
     {.tags = "watercolor"},
     "output",
     "illustration",
     "illustration"},
    {"tag-general",
     "x",
     NULL,
     NULL,
     {.tags = "base model"},
     "output",
     "general-purpose",
     "general"},
    {"tag-portraits", "x", NULL, NULL, {.tags = "portrait"}, "subjects", "portraits", "portraits"},
    {"tag-environments",
     "x",
     NULL,
     NULL,
     {.tags = "landscape"},
     "subjects",
     "environments",
     "landscape"},
    {"tag-backgrounds",
     "x",
     NULL,
     NULL,
     {.tags = "wallpaper"},
     "subjects",
     "backgrounds",
     "background"},
    {"tag-icons", "x", NULL, NULL, {.tags = "icon"}, "subjects", "icons", "icon"},
    {"tag-logos", "x", NULL, NULL, {.tags = "logo"}, "subjects", "logos", "logo"},
    {"name-real", "RealVisXL_V4", NULL, NULL, {0}, "output", "photorealistic", "Realistic"},
    {"name-real-realism", "epicPhotoGasm", NULL, NULL, {0}, "realism", "realistic", "Photo"},
    {"name-semi", "semireal_v1", NULL, NULL, {0}, "realism", "semi-realistic", "semi-real"},
    {"name-anime", "AnythingAnime_v5", NULL, NULL, {0}, "output", "anime", "Anime"},
    {"name-2d", "cute2D_mix", NULL, NULL, {0}, "realism", "2D", "2D"},
    {"name-25d", "majicMix2.5D", NULL, NULL, {0}, "realism", "2.5D", "2.5D"},
    {"name-28d", "mix2.8D_v1", NULL, NULL, {0}, "realism", "2.8D", "2.8D"},
    {"name-3d", "disneyPixarCartoon", NULL, NULL, {0}, "output", "render", "Pixar"},
    {"name-3d-realism", "render3D_v2", NULL, NULL, {0}, "realism", "semi-realistic", "3D"},
    {"name-paint", "fantasyArtDiffusion", NULL, NULL, {0}, "output", "digital-painting", "Art"},
    {"name-illustration", "inkSketch_v1", NULL, NULL, {0}, "output", "illustration", "sketch"},
    {"name-portrait", "portraitPlus", NULL, NULL, {0}, "subjects", "portraits", "Portrait"},
    {"name-landscape", "landscapeMaster", NULL, NULL, {0}, "subjects", "environments", "Landscape"},
    {"name-icon", "gameIcon_v1", NULL, NULL, {0}, "subjects", "icons", "Icon"},
    {"name-logo", "logoRedmond", NULL, NULL, {0}, "subjects", "logos", "Logo"},
    {"site-base-pony", "x", NULL, NULL, {.base_model = "Pony"}, "ecosystem", "pony", "Pony"},
    {"site-base-illustrious",
     "x",
     NULL,
     NULL,
     {.base_model = "Illustrious"},
     "ecosystem",
     "illustrious",
     "Illustrious"},
    {"site-base-noobai",
     "x",
     NULL,
     NULL,
     {.base_model = "NoobAI"},
     "ecosystem",
     "noobai",
     "NoobAI"},
    {"name-pony", "autismmixPony", NULL, NULL, {0}, "ecosystem", "pony", "Pony"},
    {"name-illustrious",
     "waiIllustrious_v11",
     NULL,
     NULL,
     {0},
     "ecosystem",
     "illustrious",
     "Illustrious"},
    {"name-noobai", "noobaiXL_vpred", NULL, NULL, {0}, "ecosystem", "noobai", "NoobAI"},
    {"side-source", "x", NULL, NULL, {.source = "civitai"}, "source", "civitai", "sidecar"},
    {"side-source-url",
     "x",
     NULL,
     NULL,
     {.source_url = "https://civitai.com/models/1"},
     "source_url",
     "https://civitai.com/models/1",
     "sidecar"},
    {"side-trigger",
     "x",
     NULL,
     NULL,
     {.trigger_words = "ohwx man"},
     "trigger_words",
     "ohwx man",
     "trained words"},
    {"meta-trigger",
     "x",
     "modelspec.trigger_phrase",
     "sks style",
     {0},
     "trigger_words",
     "sks style",
     "trigger_phrase"},
};

#define N_CASES (sizeof cases / sizeof cases[0])

static const struct ckpt_suggestion *find(const struct ckpt_suggest_out *o, const char *field,
                                          const char *value)
{
    for (size_t i = 0; i < o->n; i++)
        if (strcmp(o->s[i].field, field) == 0 && strcmp(o->s[i].value, value) == 0)
            return &o->s[i];
    return NULL;
}

/* Every rule in the table has a case below. */
static void every_rule_has_a_case(void **state)
{
    (void)state;
    for (size_t i = 0; i < ckpt_suggest_rule_count(); i++) {
        const char *id = ckpt_suggest_rule_id(i);
        int found = 0;
        for (size_t k = 0; k < N_CASES; k++)
            found |= strcmp(cases[k].rule, id) == 0;
        if (!found)
            fail_msg("rule '%s' has no test case", id);
    }
}

/* Each case fires its rule: the expected field/value is suggested, with the rule's reason. */
static void each_rule_fires(void **state)
{
    (void)state;
    for (size_t k = 0; k < N_CASES; k++) {
        const struct rule_case *c = &cases[k];
        struct ckpt_kv kv = {(char *)c->meta_key, (char *)c->meta_value};
        struct ckpt_suggest_input in = {.name = c->name,
                                        .filename = c->name,
                                        .meta = c->meta_key ? &kv : NULL,
                                        .n_meta = c->meta_key ? 1 : 0,
                                        .side = &c->side};
        struct ckpt_suggest_out o;
        ckpt_suggest(&in, &o);
        const struct ckpt_suggestion *s = find(&o, c->field, c->value);
        if (!s)
            fail_msg("rule %s: no suggestion %s=%s", c->rule, c->field, c->value);
        if (!strstr(s->why, c->why))
            fail_msg("rule %s: reason '%s' lacks '%s'", c->rule, s->why, c->why);
        assert_true(s->confidence > 0 && s->confidence < 1);
        ckpt_suggest_release(&o);
    }
}

/* A plain name with no metadata suggests nothing; "Mix" inside another word does not count. */
static void no_signal_no_suggestion(void **state)
{
    (void)state;
    struct ckpt_suggest_input in = {.name = "model_v1", .filename = "model_v1.safetensors"};
    struct ckpt_suggest_out o;
    ckpt_suggest(&in, &o);
    assert_int_equal(o.n, 0);
    ckpt_suggest_release(&o);
    in.name = "Mixtral";
    ckpt_suggest(&in, &o);
    assert_null(find(&o, "origin", "merge"));
    ckpt_suggest_release(&o);
}

/* Independent signals raise confidence (noisy-OR) and keep every reason. */
static void signals_combine(void **state)
{
    (void)state;
    struct ckpt_kv kv = {"sd_merge_recipe", "{}"};
    struct ckpt_suggest_input in = {.name = "superMix", .meta = &kv, .n_meta = 1};
    struct ckpt_suggest_out o;
    ckpt_suggest(&in, &o);
    const struct ckpt_suggestion *s = find(&o, "origin", "merge");
    assert_non_null(s);
    assert_true(s->confidence > 0.9 + 1e-9);
    assert_non_null(strstr(s->why, "sd_merge_recipe"));
    assert_non_null(strstr(s->why, "Mix"));
    ckpt_suggest_release(&o);
}

/* Merge parents with weights from an A1111 recipe and names from sd_merge_models. */
static void merge_parents(void **state)
{
    (void)state;
    struct ckpt_kv kv[2] = {
        {"sd_merge_recipe", "{\"primary_model_hash\":\"AAAA\",\"secondary_model_hash\":\"bbbb\","
                            "\"interp_method\":\"Weighted sum\",\"multiplier\":0.25}"},
        {"sd_merge_models", "{\"AAAA\":{\"name\":\"alpha\"},\"bbbb\":{\"name\":\"beta\"}}"}};
    struct ckpt_suggest_input in = {.name = "m", .meta = kv, .n_meta = 2};
    struct ckpt_suggest_out o;
    ckpt_suggest(&in, &o);
    assert_int_equal(o.n_parents, 2);
    assert_string_equal(o.parents[0].sha256, "aaaa");
    assert_string_equal(o.parents[0].name, "alpha");
    assert_true(fabs(o.parents[0].weight - 0.75) < 1e-9);
    assert_string_equal(o.parents[1].name, "beta");
    assert_true(fabs(o.parents[1].weight - 0.25) < 1e-9);
    ckpt_suggest_release(&o);
    /* a malformed recipe gives no parents and no crash */
    kv[0].value = "{not json";
    kv[1].value = "[1,2]";
    ckpt_suggest(&in, &o);
    assert_int_equal(o.n_parents, 0);
    ckpt_suggest_release(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_rule_has_a_case),   cmocka_unit_test(each_rule_fires),
        cmocka_unit_test(no_signal_no_suggestion), cmocka_unit_test(signals_combine),
        cmocka_unit_test(merge_parents),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
