/* Unit tests: the torch zip and legacy readers against files written by the real torch.save
 * (names, dtypes, shapes, strides, offsets and the SHA-256 of every tensor's bytes must equal
 * what torch reported in manifest.tsv), hand-made archives, and one corrupt file per failure
 * mode (expect.tsv: the status and a phrase the one-line message must contain). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckptdb/tensorset.h"

static char fx[512];

static int setup(void **state)
{
    (void)state;
    const char *f = getenv("CKPT_FIXTURES");
    snprintf(fx, sizeof fx, "%s/torch", f ? f : "fixtures");
    return 0;
}

static FILE *open_fx(const char *rel)
{
    char p[1200];
    snprintf(p, sizeof p, "%s/%s", fx, rel);
    return fopen(p, "r");
}

static struct ckpt_tensorset *open_ts(const char *rel, struct ckpt_error *err, int *rc)
{
    char p[1200];
    snprintf(p, sizeof p, "%s/%s", fx, rel);
    struct ckpt_tensorset *ts = NULL;
    *rc = ckpt_tensorset_open(&ts, p, NULL, err);
    return ts;
}

static void parse_list(const char *s, long long *v, unsigned *n)
{
    *n = 0;
    while (*s) {
        v[(*n)++] = strtoll(s, (char **)&s, 10);
        if (*s == ',')
            s++;
    }
}

static void real_files_match_torch(void **state)
{
    (void)state;
    FILE *m = open_fx("real/manifest.tsv");
    if (!m) {
        fprintf(stderr, "no real torch fixtures (python3-torch missing): skipped\n");
        skip();
    }
    char line[4096], cur[256] = "";
    struct ckpt_tensorset *ts = NULL;
    int rows = 0;
    while (fgets(line, sizeof line, m)) {
        line[strcspn(line, "\n")] = '\0';
        char *f[7] = {0};
        int k = 0;
        char *rest = line, *tok;
        while (k < 7 && (tok = strsep(&rest, "\t")))
            f[k++] = tok;
        assert_int_equal(k, 7);
        if (strcmp(cur, f[0]) != 0) {
            ckpt_tensorset_close(ts);
            struct ckpt_error err;
            int rc;
            char rel[300];
            snprintf(rel, sizeof rel, "real/%s", f[0]);
            ts = open_ts(rel, &err, &rc);
            if (rc)
                fail_msg("%s", err.msg);
            snprintf(cur, sizeof cur, "%s", f[0]);
        }
        const struct ckpt_tensor *t = ckpt_tensorset_find(ts, f[1]);
        if (!t)
            fail_msg("%s: tensor '%s' missing", f[0], f[1]);
        assert_string_equal(ckpt_dtype_name(t->dtype), f[2]);
        long long shape[8], stride[8];
        unsigned ns, nd;
        parse_list(f[3], shape, &ns);
        parse_list(f[4], stride, &nd);
        assert_int_equal(t->ndim, ns);
        for (unsigned d = 0; d < ns; d++) {
            assert_int_equal(t->shape[d], (uint64_t)shape[d]);
            if (shape[d] > 1)
                assert_int_equal(t->stride[d], stride[d]);
        }
        uint64_t es = ckpt_dtype_bits(t->dtype) / 8;
        assert_int_equal(t->offset, (uint64_t)strtoll(f[5], NULL, 10) * es);
        unsigned char *buf = malloc(t->nbytes ? t->nbytes : 1);
        struct ckpt_error err;
        if (ckpt_tensorset_read_tensor(ts, t, buf, t->nbytes, &err))
            fail_msg("%s", err.msg);
        unsigned char md[32];
        SHA256(buf, t->nbytes, md);
        char hex[65];
        for (int i = 0; i < 32; i++)
            snprintf(hex + 2 * i, 3, "%02x", md[i]);
        if (strcmp(hex, f[6]) != 0)
            fail_msg("%s: tensor '%s' bytes differ from torch's", f[0], f[1]);
        free(buf);
        rows++;
    }
    ckpt_tensorset_close(ts);
    fclose(m);
    assert_true(rows > 50);
}

static void lightning_metadata(void **state)
{
    (void)state;
    FILE *m = open_fx("real/manifest.tsv");
    if (!m)
        skip();
    fclose(m);
    const char *files[] = {"real/lightning.ckpt", "real/legacy_lightning.ckpt"};
    for (int i = 0; i < 2; i++) {
        struct ckpt_error err;
        int rc;
        struct ckpt_tensorset *ts = open_ts(files[i], &err, &rc);
        assert_int_equal(rc, CKPT_OK);
        assert_int_equal(ckpt_tensorset_format(ts),
                         i == 0 ? CKPT_FMT_TORCH_ZIP : CKPT_FMT_TORCH_LEGACY);
        assert_string_equal(ckpt_tensorset_meta_get(ts, "global_step"), "470000");
        assert_string_equal(ckpt_tensorset_meta_get(ts, "epoch"), "6");
        assert_string_equal(ckpt_tensorset_meta_get(ts, "pytorch-lightning_version"), "1.4.2");
        assert_string_equal(ckpt_tensorset_meta_get(ts, "ema"), "true");
        /* the state dict is unwrapped: names as in the state dict */
        assert_non_null(ckpt_tensorset_find(ts, "model.diffusion_model.input_blocks.0.0.weight"));
        assert_null(ckpt_tensorset_meta_get(ts, "state_dict"));
        ckpt_tensorset_close(ts);
    }
    struct ckpt_error err;
    int rc;
    struct ckpt_tensorset *ts = open_ts("real/embedding.pt", &err, &rc);
    assert_int_equal(rc, CKPT_OK);
    assert_non_null(ckpt_tensorset_find(ts, "string_to_param.*"));
    assert_string_equal(ckpt_tensorset_meta_get(ts, "string_to_token.*"), "265");
    assert_string_equal(ckpt_tensorset_meta_get(ts, "name"), "myemb");
    ckpt_tensorset_close(ts);
}

static void open_reads_only_headers(void **state)
{
    (void)state;
    struct ckpt_error err;
    int rc;
    struct ckpt_tensorset *ts = open_ts("real/big.ckpt", &err, &rc);
    if (!ts && rc == CKPT_E_IO)
        skip();
    assert_int_equal(rc, CKPT_OK);
    uint64_t size = ckpt_tensorset_file_size(ts), got = ckpt_tensorset_bytes_read(ts);
    assert_true(size > 4000000);
    /* the end-record search window (64 KiB + 22) + directory + local headers + data.pkl */
    assert_true(got < 66000 + 4 * ckpt_tensorset_header_bytes(ts));
    ckpt_tensorset_close(ts);
}

static void handmade_and_deflated(void **state)
{
    (void)state;
    const char *files[] = {"bad/good/handmade.ckpt", "bad/good/deflated.ckpt",
                           "bad/good/legacy_handmade.pt"};
    for (int i = 0; i < 3; i++) {
        struct ckpt_error err;
        int rc;
        struct ckpt_tensorset *ts = open_ts(files[i], &err, &rc);
        if (rc)
            fail_msg("%s", err.msg);
        assert_int_equal(ckpt_tensorset_count(ts), 2);
        const struct ckpt_tensor *w = ckpt_tensorset_find(ts, "w");
        const struct ckpt_tensor *b = ckpt_tensorset_find(ts, "b");
        assert_non_null(w);
        assert_non_null(b);
        float fw[6], fb[2];
        assert_int_equal(ckpt_tensorset_read_tensor(ts, w, fw, sizeof fw, &err), CKPT_OK);
        assert_int_equal(ckpt_tensorset_read_tensor(ts, b, fb, sizeof fb, &err), CKPT_OK);
        for (int k = 0; k < 6; k++)
            assert_true(fw[k] == (float)k);
        assert_true(fb[0] == 7.0f && fb[1] == 8.0f);
        const struct ckpt_source *s = ckpt_tensorset_source(ts, w->source);
        assert_int_equal(s->compressed, i == 1);
        if (i < 2)
            assert_string_equal(s->member, "archive/data/0");
        ckpt_tensorset_close(ts);
    }
}

static int code_of(const char *name)
{
    static const struct {
        const char *n;
        int c;
    } t[] = {{"CKPT_E_FORMAT", CKPT_E_FORMAT},
             {"CKPT_E_LIMIT", CKPT_E_LIMIT},
             {"CKPT_E_UNSUPPORTED", CKPT_E_UNSUPPORTED}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (strcmp(t[i].n, name) == 0)
            return t[i].c;
    return 1;
}

static void corrupt_files_fail_clearly(void **state)
{
    (void)state;
    FILE *m = open_fx("bad/expect.tsv");
    assert_non_null(m);
    char line[1024];
    int n = 0;
    while (fgets(line, sizeof line, m)) {
        line[strcspn(line, "\n")] = '\0';
        char *file = strtok(line, "\t"), *code = strtok(NULL, "\t"), *word = strtok(NULL, "\t");
        assert_non_null(word);
        char rel[300], path[1400];
        snprintf(rel, sizeof rel, "bad/%s", file);
        snprintf(path, sizeof path, "%s/%s", fx, rel);
        struct ckpt_error err;
        int rc;
        struct ckpt_tensorset *ts = open_ts(rel, &err, &rc);
        if (ts)
            fail_msg("%s: opened, but should fail with %s", file, code);
        if (rc != code_of(code))
            fail_msg("%s: status %d (%s), want %s", file, rc, err.msg, code);
        if (strncmp(err.msg, path, strlen(path)) != 0 || err.msg[strlen(path)] != ':')
            fail_msg("%s: message does not name the file: %s", file, err.msg);
        if (!strstr(err.msg, word))
            fail_msg("%s: message lacks '%s': %s", file, word, err.msg);
        if (strchr(err.msg, '\n'))
            fail_msg("%s: message is not one line", file);
        n++;
    }
    fclose(m);
    assert_true(n >= 40);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(real_files_match_torch),     cmocka_unit_test(lightning_metadata),
        cmocka_unit_test(open_reads_only_headers),    cmocka_unit_test(handmade_and_deflated),
        cmocka_unit_test(corrupt_files_fail_clearly),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
