/* Unit tests: the restricted pickle machine. Hand-written pickles of protocols 0-5 covering every
 * opcode, memo tricks, frames, the records kept for the safety checker, malformed input and
 * every limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckptdb/pickle.h"

#define P(s) (s), sizeof(s) - 1

static const struct ckpt_pv *load(struct ckpt_pickle **pk, const char *data, size_t n,
                                  const struct ckpt_limits *lim, int *rc, struct ckpt_error *err)
{
    const struct ckpt_pv *v = NULL;
    assert_int_equal(ckpt_pickle_new(pk, lim, "t.pkl", err), CKPT_OK);
    *rc = ckpt_pickle_load(*pk, data, n, 0, 1, &v, NULL, err);
    return v;
}

static void expect_error(const char *data, size_t n, const struct ckpt_limits *lim, int code,
                         const char *word)
{
    struct ckpt_pickle *pk;
    struct ckpt_error err;
    int rc;
    const struct ckpt_pv *v = load(&pk, data, n, lim, &rc, &err);
    if (v)
        fail_msg("loaded, but should fail with '%s'", word);
    if (rc != code || !strstr(err.msg, word) || strncmp(err.msg, "t.pkl: pickle: ", 15) != 0 ||
        !strstr(err.msg, "(byte "))
        fail_msg("rc %d, message '%s' (want %d, '%s')", rc, err.msg, code, word);
    ckpt_pickle_free(pk);
}

static void protocol0_text(void **state)
{
    (void)state;
    static const char pkl[] = "(lp0\nI1\naI-5\naL123456789012345678901234567890L\naF1.5\n"
                              "aS'a\\nb\\x41'\np1\naVh\\u00e9\np2\nag2\na(dp3\nS\"k\"\nI00\nsa"
                              "I01\naNa(I7\nI8\ntp4\na.";
    struct ckpt_pickle *pk;
    struct ckpt_error err;
    int rc;
    const struct ckpt_pv *v = load(&pk, P(pkl), NULL, &rc, &err);
    if (rc)
        fail_msg("%s", err.msg);
    assert_int_equal(v->kind, CKPT_PV_LIST);
    assert_int_equal(v->n, 11);
    assert_int_equal(v->items[0]->i, 1);
    assert_int_equal(v->items[1]->i, -5);
    assert_int_equal(v->items[2]->kind, CKPT_PV_BIGINT);
    assert_true(v->items[2]->text);
    assert_true(v->items[3]->f == 1.5);
    assert_true(ckpt_pv_is_str(v->items[4], "a\nbA"));
    assert_true(ckpt_pv_is_str(v->items[5], "h\xc3\xa9"));
    assert_ptr_equal(v->items[5], v->items[6]); /* memo GET returns the same value */
    assert_int_equal(v->items[7]->kind, CKPT_PV_DICT);
    assert_int_equal(v->items[7]->nkv, 1);
    assert_int_equal(v->items[7]->kv[1]->kind, CKPT_PV_BOOL);
    assert_int_equal(v->items[7]->kv[1]->i, 0);
    assert_int_equal(v->items[8]->kind, CKPT_PV_BOOL);
    assert_int_equal(v->items[9]->kind, CKPT_PV_NONE);
    assert_int_equal(v->items[10]->kind, CKPT_PV_TUPLE);
    assert_int_equal(v->items[10]->items[1]->i, 8);
    struct ckpt_pickle_info info;
    ckpt_pickle_info(pk, &info);
    assert_int_equal(info.proto, -1);
    ckpt_pickle_free(pk);
}

static void protocol2_binary(void **state)
{
    (void)state;
    static const char pkl[] = "\x80\x02"
                              "]q\x00(K\xff"
                              "M\x01\x02"
                              "J\xfe\xff\xff\xff"
                              "\x8a\x01\xff"                                 /* LONG1 -1 */
                              "\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x01" /* LONG1 2^64 */
                              "\x8b\x02\x00\x00\x00\x34\x12"                 /* LONG4 0x1234 */
                              "G\x3f\xf8\x00\x00\x00\x00\x00\x00"            /* BINFLOAT 1.5 */
                              "\x88\x89"
                              "N\x85"
                              "NN\x86"
                              "NNN\x87"
                              ")"
                              "T\x02\x00\x00\x00hi"
                              "U\x02yo"
                              "X\x02\x00\x00\x00\xc3\xa9"
                              "r\x05\x00\x00\x00"
                              "j\x05\x00\x00\x00"
                              "2"
                              "0"
                              "1" /* LONG_BINPUT/GET, DUP, POP, POP_MARK */
                              "a.";
    struct ckpt_pickle *pk;
    struct ckpt_error err;
    int rc;
    const struct ckpt_pv *v = load(&pk, P(pkl), NULL, &rc, &err);
    /* POP_MARK removed everything after '(' ; APPEND then has nothing to pop on the list */
    assert_int_equal(rc, CKPT_E_FORMAT);
    assert_non_null(strstr(err.msg, "stack underflow"));
    assert_null(v);
    ckpt_pickle_free(pk);

    static const char pkl2[] = "\x80\x02"
                               "]q\x00(K\xff"
                               "M\x01\x02"
                               "J\xfe\xff\xff\xff"
                               "\x8a\x01\xff"
                               "\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x01"
                               "\x8b\x02\x00\x00\x00\x34\x12"
                               "G\x3f\xf8\x00\x00\x00\x00\x00\x00"
                               "\x88\x89"
                               "N\x85"
                               "NN\x86"
                               "NNN\x87"
                               ")"
                               "T\x02\x00\x00\x00hi"
                               "U\x02yo"
                               "X\x02\x00\x00\x00\xc3\xa9"
                               "r\x05\x00\x00\x00"
                               "j\x05\x00\x00\x00"
                               "2"
                               "0"
                               "e.";
    v = load(&pk, P(pkl2), NULL, &rc, &err);
    if (rc)
        fail_msg("%s", err.msg);
    assert_int_equal(v->kind, CKPT_PV_LIST);
    assert_int_equal(v->n, 17);
    assert_int_equal(v->items[0]->i, 255);
    assert_int_equal(v->items[1]->i, 0x0201);
    assert_int_equal(v->items[2]->i, -2);
    assert_int_equal(v->items[3]->i, -1);
    assert_int_equal(v->items[4]->kind, CKPT_PV_BIGINT);
    assert_int_equal(v->items[4]->len, 9);
    assert_int_equal(v->items[5]->i, 0x1234);
    assert_true(v->items[6]->f == 1.5);
    assert_int_equal(v->items[7]->i, 1);
    assert_int_equal(v->items[8]->i, 0);
    assert_int_equal(v->items[9]->n, 1);
    assert_int_equal(v->items[10]->n, 2);
    assert_int_equal(v->items[11]->n, 3);
    assert_int_equal(v->items[12]->kind, CKPT_PV_TUPLE);
    assert_true(ckpt_pv_is_str(v->items[13], "hi"));
    assert_true(ckpt_pv_is_str(v->items[14], "yo"));
    assert_true(ckpt_pv_is_str(v->items[15], "\xc3\xa9"));
    assert_ptr_equal(v->items[15], v->items[16]);
    ckpt_pickle_free(pk);
}

static void protocol4_5_frames_memoize(void **state)
{
    (void)state;
    static const char pkl[] =
        "\x80\x05\x95\x34\x00\x00\x00\x00\x00\x00\x00"
        "\x8c\x03mod\x94\x8c\x04name\x94\x93\x94" /* STACK_GLOBAL mod.name, memo 0..2 */
        "h\x02"
        "h\x00"                                     /* BINGET 2, BINGET 0 */
        "\x8f(K\x01K\x02\x90"                       /* EMPTY_SET, ADDITEMS */
        "(K\x03\x91"                                /* FROZENSET */
        "\x8e\x01\x00\x00\x00\x00\x00\x00\x00z"     /* BINBYTES8 */
        "\x96\x01\x00\x00\x00\x00\x00\x00\x00w\x98" /* BYTEARRAY8, READONLY_BUFFER */
        "\x87"                                      /* TUPLE3 of set, frozenset... */
        ".";
    struct ckpt_pickle *pk;
    struct ckpt_error err;
    int rc;
    const struct ckpt_pv *v = load(&pk, P(pkl), NULL, &rc, &err);
    if (rc)
        fail_msg("%s", err.msg);
    assert_int_equal(v->kind, CKPT_PV_TUPLE);
    assert_int_equal(v->items[0]->kind, CKPT_PV_FROZENSET);
    assert_int_equal(v->items[1]->kind, CKPT_PV_BYTES);
    assert_int_equal(v->items[2]->kind, CKPT_PV_BYTEARRAY);
    assert_int_equal(ckpt_pickle_global_count(pk), 1);
    assert_true(ckpt_pv_is_global(ckpt_pickle_global(pk, 0), "mod", "name"));
    struct ckpt_pickle_info info;
    ckpt_pickle_info(pk, &info);
    assert_int_equal(info.proto, 5);
    assert_int_equal(info.stack_left, 4); /* global, global, "mod", set stay under the result */
    ckpt_pickle_free(pk);
}

static void calls_and_globals_recorded(void **state)
{
    (void)state;
    static const char pkl[] = "\x80\x02"
                              "cos\nsystem\n"
                              "X\x02\x00\x00\x00ls\x85R"         /* REDUCE */
                              "(ibuiltins\nlist\n"               /* INST */
                              "(cbuiltins\ndict\no"              /* OBJ */
                              "ccollections\nOrderedDict\n)\x81" /* NEWOBJ */
                              "}b"                               /* BUILD */
                              "ccls\nC\n)}\x92"                  /* NEWOBJ_EX */
                              "\x82\x01"
                              "\x83\x01\x02"
                              "\x84\x01\x00\x00\x00" /* EXT1/2/4 */
                              "K\x01K\x02\x93"       /* STACK_GLOBAL of ints: unresolvable */
                              "Pkey\n"
                              "N\x85Q" /* PERSID, BINPERSID */
                              "(t"
                              "(l"
                              "(d"
                              "\x87"
                              "\x87"
                              "\x87"
                              "\x87"
                              ".";
    struct ckpt_pickle *pk;
    struct ckpt_error err;
    int rc;
    const struct ckpt_pv *v = load(&pk, P(pkl), NULL, &rc, &err);
    if (rc)
        fail_msg("%s", err.msg);
    assert_non_null(v);
    /* globals: os.system, builtins.list, builtins.dict, OrderedDict, cls.C, 3 EXT, 1 STACK */
    assert_int_equal(ckpt_pickle_global_count(pk), 9);
    assert_true(ckpt_pv_is_global(ckpt_pickle_global(pk, 0), "os", "system"));
    assert_int_equal(ckpt_pickle_global(pk, 5)->i, 1);
    assert_int_equal(ckpt_pickle_global(pk, 6)->i, 0x0201);
    assert_null(ckpt_pickle_global(pk, 8)->s);
    /* calls: REDUCE, INST, OBJ, NEWOBJ, BUILD, NEWOBJ_EX */
    assert_int_equal(ckpt_pickle_call_count(pk), 6);
    const char ops[] = {'R', 'i', 'o', (char)0x81, 'b', (char)0x92};
    for (int i = 0; i < 6; i++)
        assert_int_equal(ckpt_pickle_call(pk, (size_t)i)->opcode, (unsigned char)ops[i]);
    assert_string_equal(ckpt_pickle_opname(ckpt_pickle_call(pk, 0)->opcode), "REDUCE");
    assert_int_equal(ckpt_pickle_call(pk, 0)->offset, 2 + 11 + 7 + 1);
    assert_int_equal(ckpt_pickle_persid_count(pk), 2);
    assert_true(ckpt_pv_is_str(ckpt_pickle_persid(pk, 0)->args, "key"));
    ckpt_pickle_free(pk);
}

static void malformed(void **state)
{
    (void)state;
    expect_error(P("\x80\x02h\x01."), NULL, CKPT_E_FORMAT, "never PUT");
    expect_error(P("\x80\x02"
                   "0."),
                 NULL, CKPT_E_FORMAT, "stack underflow");
    expect_error(P("\x80\x02"
                   "(K\x01"
                   "0"
                   "0."),
                 NULL, CKPT_E_FORMAT, "stack underflow");
    expect_error(P("\x80\x02"
                   "K\x01"
                   "(R."),
                 NULL, CKPT_E_FORMAT, "stack underflow");
    expect_error(P("\x80\x02"
                   "Nu."),
                 NULL, CKPT_E_FORMAT, "no MARK");
    expect_error(P("\x80\x02"
                   "N"),
                 NULL, CKPT_E_FORMAT, "no STOP");
    expect_error(P("\x80\x02"
                   "N.N."),
                 NULL, CKPT_E_FORMAT, "after the STOP");
    expect_error(P("\x80\x02"
                   "X\x05\x00\x00\x00"
                   "ab"),
                 NULL, CKPT_E_FORMAT, "ends inside");
    expect_error(P("\x80\x06"
                   "N."),
                 NULL, CKPT_E_UNSUPPORTED, "protocol 6");
    expect_error(P("\x80\x02"
                   "\xfe."),
                 NULL, CKPT_E_FORMAT, "unknown opcode 0xfe");
    expect_error(P("\x80\x05\x97."), NULL, CKPT_E_FORMAT, "NEXT_BUFFER");
    expect_error(P("\x80\x04\x95\x02\x00\x00\x00\x00\x00\x00\x00"
                   "M\x01"
                   "\x02."),
                 NULL, CKPT_E_FORMAT, "straddles");
    expect_error(P("\x80\x04\x95\x03\x00\x00\x00\x00\x00\x00\x00"
                   "N\x95\x01\x00\x00\x00\x00"
                   "\x00\x00\x00"
                   "N."),
                 NULL, CKPT_E_FORMAT, "straddles");
    expect_error(P("\x80\x04\x95\x01\x00\x00\x00\x00\x00\x00\x00"
                   "N"
                   "\x95\x05"),
                 NULL, CKPT_E_FORMAT, "ends inside");
    expect_error(P("\x80\x02"
                   "}]N"
                   "s."),
                 NULL, CKPT_E_FORMAT, "unhashable");
    expect_error(P("\x80\x02"
                   "(N"
                   "d."),
                 NULL, CKPT_E_FORMAT, "odd number");
    expect_error(P("\x80\x02"
                   "p-1\n."),
                 NULL, CKPT_E_FORMAT, "negative");
    expect_error(P("\x80\x02"
                   "Nb."),
                 NULL, CKPT_E_FORMAT, "stack underflow");
    expect_error(P("\x80\x02"
                   "K"),
                 NULL, CKPT_E_FORMAT, "ends inside BININT1");
    expect_error(P("\x80\x02"
                   "NK\x01"
                   "a."),
                 NULL, CKPT_E_FORMAT, "not a list");
    expect_error(P("\x80\x02"
                   "\x82\x00."),
                 NULL, CKPT_E_FORMAT, "not positive");
    expect_error(P("\x80\x02"
                   "T\xff\xff\xff\xff."),
                 NULL, CKPT_E_FORMAT, "negative length");
    expect_error(P("Sno quotes\n."), NULL, CKPT_E_FORMAT, "quoted");
    expect_error(P("Iabc\n."), NULL, CKPT_E_FORMAT, "not a number");
    expect_error(P("cmod\n\xf8\n"), NULL, CKPT_E_FORMAT, "no STOP");
    {
        /* INST with arguments: the module name must not take the argument count's length
         * (found by fuzz_pickle) */
        struct ckpt_pickle *pk;
        struct ckpt_error err;
        int rc;
        const struct ckpt_pv *v = load(&pk, P("(K\x01K\x02ilongmodulename\nC\n."), NULL, &rc, &err);
        if (rc)
            fail_msg("%s", err.msg);
        assert_true(ckpt_pv_is_global(v->callable, "longmodulename", "C"));
        assert_int_equal(v->args->n, 2);
        ckpt_pickle_free(pk);
    }
}

static void limits(void **state)
{
    (void)state;
    struct ckpt_limits lim;
    ckpt_limits_default(&lim);
    lim.pickle_max_ops = 5;
    expect_error(P("\x80\x02NNNNNN."), &lim, CKPT_E_LIMIT, "opcodes");
    ckpt_limits_default(&lim);
    lim.pickle_max_stack = 3;
    expect_error(P("\x80\x02NNNN."), &lim, CKPT_E_LIMIT, "stack deeper");
    expect_error(P("\x80\x02(((("), &lim, CKPT_E_LIMIT, "MARKs nested");
    ckpt_limits_default(&lim);
    lim.pickle_max_memo = 2;
    expect_error(P("\x80\x04N\x94\x94\x94\x94\x94\x94."), &lim, CKPT_E_LIMIT, "memo");
    ckpt_limits_default(&lim);
    lim.max_string_len = 4;
    expect_error(P("\x80\x02X\x05\x00\x00\x00"
                   "abcde."),
                 &lim, CKPT_E_LIMIT, "limit");
    expect_error(P("Vabcdefgh\n."), &lim, CKPT_E_LIMIT, "longer than");
    ckpt_limits_default(&lim);
    lim.pickle_max_bytes = 3;
    {
        struct ckpt_pickle *pk;
        struct ckpt_error err;
        int rc;
        assert_null(load(&pk, P("\x80\x02N."), &lim, &rc, &err));
        assert_int_equal(rc, CKPT_E_LIMIT);
        ckpt_pickle_free(pk);
    }
    /* billion laughs: a list appended to itself through the memo many times */
    ckpt_limits_default(&lim);
    lim.pickle_max_alloc = 64 * 1024;
    size_t n = 2 + 3 + 20000 * 3 + 2;
    char *b = malloc(n);
    memcpy(b, "\x80\x02]q\x00", 5);
    size_t k = 5;
    for (int i = 0; i < 20000; i++) {
        memcpy(b + k,
               "h\x00"
               "a",
               3);
        k += 3;
    }
    memcpy(b + k, ".", 1);
    expect_error(b, k + 1, &lim, CKPT_E_LIMIT, "exceed");
    free(b);
}

static void stream_of_pickles(void **state)
{
    (void)state;
    static const char s[] = "\x80\x02K\x01.\x80\x02"
                            "cm\nn\n.";
    struct ckpt_pickle *pk;
    struct ckpt_error err;
    assert_int_equal(ckpt_pickle_new(&pk, NULL, "s", &err), CKPT_OK);
    const struct ckpt_pv *v;
    size_t used;
    assert_int_equal(ckpt_pickle_load(pk, s, sizeof s - 1, 100, 0, &v, &used, &err), CKPT_OK);
    assert_int_equal(used, 5);
    assert_int_equal(v->i, 1);
    /* a truncated second pickle: error, truncated flag, and no records left behind */
    assert_int_equal(ckpt_pickle_load(pk, s + 5, 6, 105, 0, &v, &used, &err), CKPT_E_FORMAT);
    assert_true(ckpt_pickle_truncated(pk));
    assert_int_equal(ckpt_pickle_global_count(pk), 0);
    assert_int_equal(ckpt_pickle_load(pk, s + 5, sizeof s - 1 - 5, 105, 0, &v, &used, &err),
                     CKPT_OK);
    assert_int_equal(ckpt_pickle_global_count(pk), 1);
    assert_int_equal(v->offset, 107);
    ckpt_pickle_free(pk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(protocol0_text),
        cmocka_unit_test(protocol2_binary),
        cmocka_unit_test(protocol4_5_frames_memoize),
        cmocka_unit_test(calls_and_globals_recorded),
        cmocka_unit_test(malformed),
        cmocka_unit_test(limits),
        cmocka_unit_test(stream_of_pickles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
