/* Unit tests: the safety tables (allow-list, dangerous list, aliases, attribute paths), the
 * verdict rules on small pickles judged from memory, the zip survey's anomaly kinds, and that
 * checking a 4 MB checkpoint reads only its directory and pickle. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckptdb/safety.h"
#include "ckptdb/zip.h"

static void tables(void **state)
{
    (void)state;
    assert_int_equal(ckpt_safety_classify("torch._utils", "_rebuild_tensor_v2"),
                     CKPT_GLOBAL_ALLOWED);
    assert_int_equal(ckpt_safety_classify("collections", "OrderedDict"), CKPT_GLOBAL_ALLOWED);
    assert_int_equal(ckpt_safety_classify("torch", "BFloat16Storage"), CKPT_GLOBAL_ALLOWED);
    assert_int_equal(ckpt_safety_classify("numpy.core.multiarray", "scalar"), CKPT_GLOBAL_ALLOWED);
    assert_int_equal(ckpt_safety_classify("__builtin__", "set"), CKPT_GLOBAL_ALLOWED);
    assert_int_equal(
        ckpt_safety_classify("pytorch_lightning.callbacks.model_checkpoint", "ModelCheckpoint"),
        CKPT_GLOBAL_ALLOWED);
    /* exact pairs only */
    assert_int_equal(ckpt_safety_classify("collections", "OrderedDict.fromkeys"),
                     CKPT_GLOBAL_UNKNOWN);
    assert_int_equal(ckpt_safety_classify("torch", "FloatStorage2"), CKPT_GLOBAL_UNKNOWN);
    assert_int_equal(ckpt_safety_classify("argparse", "Namespace"), CKPT_GLOBAL_UNKNOWN);
    assert_int_equal(ckpt_safety_classify("builtins", "print"), CKPT_GLOBAL_UNKNOWN);
    /* dangerous: names, whole modules and their submodules, Python 2 spellings */
    assert_int_equal(ckpt_safety_classify("__builtin__", "eval"), CKPT_GLOBAL_DANGEROUS);
    assert_int_equal(ckpt_safety_classify("builtins", "getattr"), CKPT_GLOBAL_DANGEROUS);
    assert_int_equal(ckpt_safety_classify("posix", "system"), CKPT_GLOBAL_DANGEROUS);
    assert_int_equal(ckpt_safety_classify("asyncio.unix_events", "x"), CKPT_GLOBAL_DANGEROUS);
    assert_int_equal(ckpt_safety_classify("httplib", "HTTPSConnection"), CKPT_GLOBAL_DANGEROUS);
    assert_int_equal(ckpt_safety_classify("_pickle", "loads"), CKPT_GLOBAL_DANGEROUS);
    assert_int_equal(ckpt_safety_classify("pkgutil", "resolve_name"), CKPT_GLOBAL_DANGEROUS);
    assert_int_equal(ckpt_safety_classify("torch.serialization", "load"), CKPT_GLOBAL_DANGEROUS);
    assert_int_equal(ckpt_safety_classify("bdb", "Bdb.run"), CKPT_GLOBAL_DANGEROUS);
    /* "ossify" is not "os"; a module named like a dangerous one's prefix is not it */
    assert_int_equal(ckpt_safety_classify("ossify", "x"), CKPT_GLOBAL_UNKNOWN);
    /* attribute paths and dunders */
    assert_int_equal(ckpt_safety_classify("pathlib", "os.system"), CKPT_GLOBAL_DANGEROUS);
    assert_int_equal(ckpt_safety_classify("numpy", "__builtins__"), CKPT_GLOBAL_DANGEROUS);
    assert_int_equal(ckpt_safety_classify("numpy.__builtins__", "eval"), CKPT_GLOBAL_DANGEROUS);
    assert_int_equal(ckpt_safety_classify("mypkg", "A.__init__.__globals__"),
                     CKPT_GLOBAL_DANGEROUS);
    assert_int_equal(ckpt_safety_classify(NULL, "x"), CKPT_GLOBAL_DANGEROUS);
    assert_string_equal(ckpt_safety_module_alias("__builtin__"), "builtins");
    assert_string_equal(ckpt_safety_module_alias("numpy"), "numpy");
}

static void verdict_names(void **state)
{
    (void)state;
    enum ckpt_verdict v;
    for (int i = CKPT_VERDICT_SAFE; i <= CKPT_VERDICT_DANGEROUS; i++) {
        assert_int_equal(ckpt_verdict_parse(ckpt_verdict_name((enum ckpt_verdict)i), &v), CKPT_OK);
        assert_int_equal((int)v, i);
    }
    assert_int_equal(ckpt_verdict_parse("unsafe", &v), CKPT_E_ARG);
}

/* Judge bytes from memory; returns the verdict, and the worst finding's text in *top. */
static enum ckpt_verdict judge(const char *bytes, size_t n, char *top, size_t cap)
{
    struct ckpt_reader *r;
    assert_int_equal(ckpt_reader_open_memory(&r, bytes, n, "mem.pkl", NULL), CKPT_OK);
    struct ckpt_check_result res = {0};
    assert_int_equal(ckpt_check_reader(r, NULL, &res, NULL), CKPT_OK);
    snprintf(top, cap, "%s", res.n ? res.findings[0].what : "");
    enum ckpt_verdict v = res.verdict;
    for (size_t i = 1; i < res.n; i++) /* worst first */
        assert_true(res.findings[i].severity <= res.findings[i - 1].severity);
    ckpt_check_result_release(&res);
    ckpt_reader_close(r);
    return v;
}

#define JUDGE(lit, top) judge(lit, sizeof lit - 1, top, sizeof top)

static void rules(void **state)
{
    (void)state;
    char top[600];
    /* plain data */
    assert_int_equal(JUDGE("\x80\x02]q\x00(K\x01K\x02e.", top), CKPT_VERDICT_SAFE);
    /* an unknown class imported but never called: suspicious; called: dangerous */
    assert_int_equal(JUDGE("\x80\x02"
                           "cargparse\nNamespace\n.",
                           top),
                     CKPT_VERDICT_SUSPICIOUS);
    assert_non_null(strstr(top, "imports argparse.Namespace"));
    assert_int_equal(JUDGE("\x80\x02"
                           "cargparse\nNamespace\n)R.",
                           top),
                     CKPT_VERDICT_DANGEROUS);
    assert_non_null(strstr(top, "calls argparse.Namespace"));
    /* a known-dangerous global is dangerous even when only imported */
    assert_int_equal(JUDGE("\x80\x02"
                           "cos\nsystem\n.",
                           top),
                     CKPT_VERDICT_DANGEROUS);
    /* allow-listed call */
    assert_int_equal(JUDGE("\x80\x02"
                           "ccollections\nOrderedDict\n)R.",
                           top),
                     CKPT_VERDICT_SAFE);
    /* BUILD on a class itself */
    assert_int_equal(JUDGE("\x80\x02"
                           "ctorch\n_utils\n}b.",
                           top),
                     CKPT_VERDICT_DANGEROUS);
    assert_non_null(strstr(top, "BUILD sets the state of torch._utils"));
    /* unresolvable STACK_GLOBAL: an int as module */
    assert_int_equal(JUDGE("\x80\x04K\x2a\x8c\x02os\x93.", top), CKPT_VERDICT_DANGEROUS);
    assert_non_null(strstr(top, "cannot be resolved statically"));
    /* the call happens before the parse error: judged, not "invalid" */
    assert_int_equal(JUDGE("\x80\x02"
                           "cposix\nsystem\nX\x02\x00\x00\x00id\x85R\xff",
                           top),
                     CKPT_VERDICT_DANGEROUS);
    /* a malformed pickle with nothing dangerous before the error is invalid */
    assert_int_equal(JUDGE("\x80\x02R.", top), CKPT_VERDICT_INVALID);
    assert_non_null(strstr(top, "stack underflow"));
    /* trailing data, and a second pickle with a payload */
    assert_int_equal(JUDGE("\x80\x02N.\xde\xad", top), CKPT_VERDICT_SUSPICIOUS);
    assert_non_null(strstr(top, "trailing data"));
    assert_int_equal(JUDGE("\x80\x02N.\x80\x02"
                           "cos\nsystem\n)R.",
                           top),
                     CKPT_VERDICT_DANGEROUS);
    /* frame straddle */
    assert_int_equal(JUDGE("\x80\x04\x95\x03\x00\x00\x00\x00\x00\x00\x00\x8c\x05"
                           "abcde.",
                           top),
                     CKPT_VERDICT_DANGEROUS);
    assert_non_null(strstr(top, "frame trick"));
    /* EXT opcodes */
    assert_int_equal(JUDGE("\x80\x02\x82\x01.", top), CKPT_VERDICT_DANGEROUS);
    /* not a pickle, not a model */
    assert_int_equal(JUDGE("\x89PNG\r\n\x1a\n", top), CKPT_VERDICT_INVALID);
    /* 7z under a model name (mem.pkl) */
    assert_int_equal(JUDGE("7z\xbc\xaf\x27\x1c\x00\x04", top), CKPT_VERDICT_DANGEROUS);
}

static struct ckpt_reader *open_fx(const char *rel)
{
    const char *f = getenv("CKPT_FIXTURES");
    char p[1200];
    snprintf(p, sizeof p, "%s/%s", f ? f : "fixtures", rel);
    struct ckpt_reader *r = NULL;
    assert_int_equal(ckpt_reader_open_file(&r, p, NULL), CKPT_OK);
    return r;
}

static void survey_kinds(void **state)
{
    (void)state;
    struct {
        const char *file;
        enum ckpt_zip_anomaly_kind kind;
    } cases[] = {
        {"torch/bad/c06_central_name.ckpt", CKPT_ZIP_NAME_MISMATCH},
        {"torch/bad/c07_flags_0809.ckpt", CKPT_ZIP_FLAGS},
        {"torch/bad/c07_local_flags.ckpt", CKPT_ZIP_LOCAL_MISMATCH},
        {"torch/bad/c13_overlap.ckpt", CKPT_ZIP_OVERLAP},
        {"torch/bad/c14_duplicate.ckpt", CKPT_ZIP_DUPLICATE_NAME},
        {"torch/bad/c14_name_dotdot.ckpt", CKPT_ZIP_BAD_NAME},
        {"torch/bad/c15_prepended.ckpt", CKPT_ZIP_PREPENDED},
        {"safety/zip_method_bzip2.ckpt", CKPT_ZIP_METHOD},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct ckpt_reader *r = open_fx(cases[i].file);
        struct ckpt_zip *z;
        struct ckpt_error err;
        /* strict mode refuses, survey mode lists */
        assert_int_not_equal(ckpt_zip_open(&z, r, NULL, &err), CKPT_OK);
        assert_int_equal(ckpt_zip_open_survey(&z, r, NULL, &err), CKPT_OK);
        int found = 0;
        for (size_t k = 0; k < ckpt_zip_anomaly_count(z); k++)
            found |= ckpt_zip_anomaly(z, k)->kind == cases[i].kind;
        if (!found)
            fail_msg("%s: anomaly kind %d not reported", cases[i].file, cases[i].kind);
        ckpt_zip_close(z);
        ckpt_reader_close(r);
    }
    /* CRC: found when the member is read, and the bytes are still returned */
    struct ckpt_reader *r = open_fx("torch/bad/c08_crc.ckpt");
    struct ckpt_zip *z;
    assert_int_equal(ckpt_zip_open_survey(&z, r, NULL, NULL), CKPT_OK);
    assert_int_equal(ckpt_zip_anomaly_count(z), 0);
    void *data;
    size_t len;
    assert_int_equal(ckpt_zip_read(z, ckpt_zip_member(z, 0), 1 << 20, &data, &len, NULL), CKPT_OK);
    free(data);
    assert_int_equal(ckpt_zip_anomaly_count(z), 1);
    assert_int_equal(ckpt_zip_anomaly(z, 0)->kind, CKPT_ZIP_CRC);
    ckpt_zip_close(z);
    ckpt_reader_close(r);
}

static void reads_only_structure(void **state)
{
    (void)state;
    struct ckpt_reader *r = open_fx("torch/real/big.ckpt");
    struct ckpt_check_result res = {0};
    assert_int_equal(ckpt_check_reader(r, NULL, &res, NULL), CKPT_OK);
    assert_int_equal(res.verdict, CKPT_VERDICT_SAFE);
    assert_true(ckpt_reader_size(r) > (4u << 20));
    /* the end-record search (64 KiB, twice: survey and strict reader), directory, data.pkl,
       small records and 16-byte member heads: a constant, far below the 4 MiB of data */
    if (ckpt_reader_bytes_read(r) > 160 * 1024)
        fail_msg("check read %llu bytes of a %llu-byte checkpoint",
                 (unsigned long long)ckpt_reader_bytes_read(r),
                 (unsigned long long)ckpt_reader_size(r));
    ckpt_check_result_release(&res);
    ckpt_reader_close(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tables),
        cmocka_unit_test(verdict_names),
        cmocka_unit_test(rules),
        cmocka_unit_test(survey_kinds),
        cmocka_unit_test(reads_only_structure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
