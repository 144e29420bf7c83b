/* Unit tests: the sidecar writers (lib/views/sidecar_write.c): merging keeps every field ckptdb
 * does not own, owned fields follow the catalog, filled fields never replace the file's, a plan
 * with nothing new writes nothing, a malformed sidecar is refused and left alone, a sidecar
 * changed between plan and apply is not overwritten, and the files read back through the
 * catalog's sidecar reader. Each test uses a fresh temporary folder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog/internal.h"
#include "ckptdb/sidecars.h"

struct fx {
    char dir[256], model[300];
    struct ckpt_model m;
};

static void put_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static char *get_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *d = calloc(1, 1 << 16);
    size_t n = fread(d, 1, (1 << 16) - 1, f);
    d[n] = 0;
    fclose(f);
    return d;
}

static int setup(void **state)
{
    struct fx *x = calloc(1, sizeof *x);
    snprintf(x->dir, sizeof x->dir, "/tmp/ckpt-sidecar-XXXXXX");
    assert_non_null(mkdtemp(x->dir));
    snprintf(x->model, sizeof x->model, "%s/detail.v2.safetensors", x->dir);
    put_file(x->model, "not read by the writer");
    struct ckpt_model *m = &x->m;
    m->id = 7;
    m->path = strdup(x->model);
    m->name = strdup("Detail Tweaker");
    m->format = strdup("safetensors");
    m->kind = strdup("lora");
    m->network = strdup("lora");
    m->family = strdup("sdxl");
    m->ecosystem = strdup("pony");
    m->size = 2048;
    m->sha256 = strdup("0d5bd87ee30ebb106a50d0b0b50ea12721b29170bf8ddedd48742d538c240812");
    m->autov2 = strdup("0d5bd87ee3");
    m->trigger_words = strdup("detail,  sharp ,");
    m->note = strdup("use at 0.5");
    m->source = strdup("civitai");
    m->source_url = strdup("https://civitai.com/models/58390/detail?modelVersionId=62833");
    m->settings = strdup("{\"weight\":0.6,\"negative\":\"blurry\",\"cfg\":7}");
    m->tags = strdup("favourite");
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    struct fx *x = *state;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", x->dir);
    assert_int_equal(system(cmd), 0);
    ckpt_model_release(&x->m);
    free(x);
    return 0;
}

static json_t *load(const char *path)
{
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    assert_non_null(j);
    return j;
}

static void plan_apply(enum ckpt_sidecar_format f, const struct ckpt_model *m, size_t *changes)
{
    struct ckpt_sidecar_plan p;
    struct ckpt_error err;
    assert_int_equal(ckpt_sidecar_plan_make(f, m, 1700000000, &p, &err), CKPT_OK);
    assert_null(p.skip);
    *changes = p.n_changes;
    assert_int_equal(ckpt_sidecar_plan_apply(&p, &err), CKPT_OK);
    ckpt_sidecar_plan_release(&p);
}

/* A1111: foreign fields stay, owned fields follow the catalog, a rerun changes nothing */
static void a1111_merge(void **state)
{
    struct fx *x = *state;
    char path[400];
    snprintf(path, sizeof path, "%s/detail.v2.json", x->dir);
    put_file(path, "{\"vae\": \"kl-f8.pt\", \"notes\": \"old note\", \"description\": \"kept\","
                   " \"activation text\": \"detail || sharp\"}");
    struct ckpt_sidecar_plan p;
    struct ckpt_error err;
    assert_int_equal(ckpt_sidecar_plan_make(CKPT_SIDECAR_A1111, &x->m, 0, &p, &err), CKPT_OK);
    assert_string_equal(p.path, path);
    assert_true(p.exists);
    /* sd version, preferred weight, negative text added; notes changed; the activation text
       says the same words with the other separator and stays */
    assert_int_equal(p.n_changes, 4);
    int saw_notes = 0;
    for (size_t i = 0; i < p.n_changes; i++) {
        if (strcmp(p.changes[i].field, "notes") == 0) {
            assert_string_equal(p.changes[i].before, "\"old note\"");
            assert_string_equal(p.changes[i].after, "\"use at 0.5\"");
            saw_notes = 1;
        }
        assert_true(strcmp(p.changes[i].field, "description") != 0);
        assert_true(strcmp(p.changes[i].field, "activation text") != 0);
    }
    assert_true(saw_notes);
    char *before = get_file(path);
    assert_int_equal(ckpt_sidecar_plan_apply(&p, &err), CKPT_OK);
    ckpt_sidecar_plan_release(&p);
    json_t *j = load(path);
    assert_string_equal(json_string_value(json_object_get(j, "vae")), "kl-f8.pt");
    assert_string_equal(json_string_value(json_object_get(j, "description")), "kept");
    assert_string_equal(json_string_value(json_object_get(j, "sd version")), "SDXL");
    assert_true(json_real_value(json_object_get(j, "preferred weight")) == 0.6);
    assert_string_equal(json_string_value(json_object_get(j, "negative text")), "blurry");
    assert_string_equal(json_string_value(json_object_get(j, "activation text")),
                        "detail || sharp");
    json_decref(j);
    free(before);
    /* nothing new: nothing to write, the file is not rewritten */
    struct stat st1, st2;
    assert_int_equal(stat(path, &st1), 0);
    size_t n;
    plan_apply(CKPT_SIDECAR_A1111, &x->m, &n);
    assert_int_equal(n, 0);
    assert_int_equal(stat(path, &st2), 0);
    assert_int_equal(st1.st_ino, st2.st_ino);
    /* a changed trigger word list replaces the activation text */
    free(x->m.trigger_words);
    x->m.trigger_words = strdup("detail, crisp");
    plan_apply(CKPT_SIDECAR_A1111, &x->m, &n);
    assert_int_equal(n, 1);
    j = load(path);
    assert_string_equal(json_string_value(json_object_get(j, "activation text")), "detail, crisp");
    json_decref(j);
}

/* Civitai Helper: site facts in the file win over ours; our file entry gets missing hashes */
static void civitai_fill(void **state)
{
    struct fx *x = *state;
    char path[400];
    snprintf(path, sizeof path, "%s/detail.v2.civitai.info", x->dir);
    put_file(path, "{\"id\": 1, \"modelId\": 2, \"baseModel\": \"SDXL 1.0\", \"images\": [{\"url\":"
                   " \"u\"}], \"model\": {\"name\": \"Site name\", \"nsfw\": false}, \"files\":"
                   " [{\"name\": \"other.safetensors\"}, {\"name\": \"detail.v2.safetensors\","
                   " \"hashes\": {\"SHA256\": \"ABC\"}}]}");
    size_t n;
    plan_apply(CKPT_SIDECAR_CIVITAI_HELPER, &x->m, &n);
    json_t *j = load(path);
    assert_int_equal(json_integer_value(json_object_get(j, "id")), 1);
    assert_int_equal(json_integer_value(json_object_get(j, "modelId")), 2);
    assert_string_equal(json_string_value(json_object_get(j, "baseModel")), "SDXL 1.0");
    assert_int_equal(json_array_size(json_object_get(j, "images")), 1);
    json_t *model = json_object_get(j, "model");
    assert_string_equal(json_string_value(json_object_get(model, "name")), "Site name");
    assert_string_equal(json_string_value(json_object_get(model, "type")), "LORA");
    assert_true(json_is_false(json_object_get(model, "nsfw")));
    json_t *tw = json_object_get(j, "trainedWords");
    assert_int_equal(json_array_size(tw), 2);
    assert_string_equal(json_string_value(json_array_get(tw, 1)), "sharp");
    json_t *files = json_object_get(j, "files");
    assert_int_equal(json_array_size(files), 2);
    assert_null(json_object_get(json_array_get(files, 0), "hashes"));
    json_t *h = json_object_get(json_array_get(files, 1), "hashes");
    assert_string_equal(json_string_value(json_object_get(h, "SHA256")), "ABC");
    assert_string_equal(json_string_value(json_object_get(h, "AutoV2")), "0D5BD87EE3");
    json_decref(j);
    assert_int_equal(n, 3); /* model.type, trainedWords, files[1].hashes.AutoV2 */
    /* a model from elsewhere gets no Civitai Helper file */
    free(x->m.source);
    x->m.source = strdup("huggingface");
    free(x->m.source_url);
    x->m.source_url = NULL;
    unlink(path);
    struct ckpt_sidecar_plan p;
    struct ckpt_error err;
    assert_int_equal(ckpt_sidecar_plan_make(CKPT_SIDECAR_CIVITAI_HELPER, &x->m, 0, &p, &err),
                     CKPT_OK);
    assert_non_null(p.skip);
    assert_int_equal(p.n_changes, 0);
    ckpt_sidecar_plan_release(&p);
}

/* Stability Matrix: a new file, then what the catalog's reader gets back from all three */
static void round_trip(void **state)
{
    struct fx *x = *state;
    size_t n;
    plan_apply(CKPT_SIDECAR_STABILITY_MATRIX, &x->m, &n);
    assert_true(n > 5);
    char path[400];
    snprintf(path, sizeof path, "%s/detail.v2.cm-info.json", x->dir);
    json_t *j = load(path);
    assert_int_equal(json_integer_value(json_object_get(j, "ModelId")), 58390);
    assert_int_equal(json_integer_value(json_object_get(j, "VersionId")), 62833);
    assert_string_equal(json_string_value(json_object_get(j, "BaseModel")), "Pony");
    assert_string_equal(json_string_value(json_object_get(j, "ModelType")), "LORA");
    assert_string_equal(json_string_value(json_object_get(j, "UserTitle")), "Detail Tweaker");
    assert_string_equal(json_string_value(json_object_get(j, "Source")), "Civitai");
    assert_string_equal(json_string_value(json_object_get(j, "ImportedAt")),
                        "2023-11-14T22:13:20+00:00");
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "Hashes"), "SHA256")),
                        "0D5BD87EE30EBB106A50D0B0B50EA12721B29170BF8DDEDD48742D538C240812");
    json_decref(j);
    plan_apply(CKPT_SIDECAR_A1111, &x->m, &n);
    struct ckpt_sidecar_facts f;
    ckpt_sidecar_read(x->model, 0, &f);
    assert_string_equal(f.trigger_words, "detail, sharp");
    assert_string_equal(f.source, "civitai");
    assert_string_equal(f.source_url, "https://civitai.com/models/58390?modelVersionId=62833");
    assert_string_equal(f.base_model, "Pony");
    assert_string_equal(f.type, "LORA");
    assert_string_equal(f.name, "Detail Tweaker");
    assert_string_equal(f.tags, "favourite");
    ckpt_sidecar_release(&f);
}

/* malformed sidecars are refused and left byte for byte; a change after planning is caught */
static void refusals(void **state)
{
    struct fx *x = *state;
    char path[400];
    snprintf(path, sizeof path, "%s/detail.v2.json", x->dir);
    const char *bad[] = {"{\"notes\": ", "[1, 2]"};
    for (int i = 0; i < 2; i++) {
        put_file(path, bad[i]);
        struct ckpt_sidecar_plan p;
        struct ckpt_error err;
        assert_int_equal(ckpt_sidecar_plan_make(CKPT_SIDECAR_A1111, &x->m, 0, &p, &err),
                         CKPT_E_FORMAT);
        assert_non_null(strstr(err.msg, "left alone"));
        ckpt_sidecar_plan_release(&p);
        char *now = get_file(path);
        assert_string_equal(now, bad[i]);
        free(now);
    }
    put_file(path, "{}");
    struct ckpt_sidecar_plan p;
    struct ckpt_error err;
    assert_int_equal(ckpt_sidecar_plan_make(CKPT_SIDECAR_A1111, &x->m, 0, &p, &err), CKPT_OK);
    assert_true(p.n_changes > 0);
    put_file(path, "{\"notes\": \"typed in A1111 meanwhile\"}");
    assert_int_equal(ckpt_sidecar_plan_apply(&p, &err), CKPT_E_CHANGED);
    ckpt_sidecar_plan_release(&p);
    char *now = get_file(path);
    assert_string_equal(now, "{\"notes\": \"typed in A1111 meanwhile\"}");
    free(now);
    enum ckpt_sidecar_format f;
    assert_int_equal(ckpt_sidecar_format_parse("comfyui", &f, &err), CKPT_E_ARG);
    assert_int_equal(ckpt_sidecar_format_parse("stability-matrix", &f, &err), CKPT_OK);
    assert_int_equal(f, CKPT_SIDECAR_STABILITY_MATRIX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a1111_merge, setup, teardown),
        cmocka_unit_test_setup_teardown(civitai_fill, setup, teardown),
        cmocka_unit_test_setup_teardown(round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(refusals, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
