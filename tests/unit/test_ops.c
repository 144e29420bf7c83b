/* Unit tests: lib/ops. Every merge method against a float64 reference computed here on small
 * real-shape tensors (outputs must be the correctly rounded reference: 0 ulp from
 * round-to-nearest-even of the exact float64 formula), the fast f16/bf16 rounding against
 * lib/model/fp.c, block mapping, inpainting channels, position_ids, refusals, and LoRA, LoCon
 * (3x3 and Tucker mid), LoHa and LoKr bakes against reference deltas computed here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckptdb/fp.h"
#include "ckptdb/identify.h"
#include "ckptdb/ops.h"
#include "ckptdb/safetensors.h"
#include "ckptdb/tensorset.h"
#include "ops/ops_impl.h"

static char dir[256];
static uint64_t rs = 88172645463325252ull;

static double rnd(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (double)(rs >> 11) / 9007199254740992.0 * 2.0 - 1.0;
}

static int setup(void **s)
{
    (void)s;
    snprintf(dir, sizeof dir, "/tmp/ckpt-test-ops-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **s)
{
    (void)s;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

static const char *path(const char *name)
{
    static char p[4][300];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
    return p[k];
}

struct spec {
    const char *name;
    enum ckpt_dtype dt;
    uint32_t ndim;
    uint64_t shape[4];
};

static uint64_t numel(const struct spec *s)
{
    uint64_t n = 1;
    for (uint32_t d = 0; d < s->ndim; d++)
        n *= s->shape[d];
    return n;
}

/* Write tensors with values from vals (doubles, rounded to dt); vals NULL: random */
static void write_file(const char *file, const struct spec *sp, size_t n, double **vals)
{
    struct ckpt_st_writer *w;
    struct ckpt_error err;
    assert_int_equal(ckpt_st_writer_open(&w, file, 1, &err), CKPT_OK);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(
            ckpt_st_writer_declare(w, sp[i].name, sp[i].dt, sp[i].ndim, sp[i].shape, &err),
            CKPT_OK);
    for (size_t i = 0; i < n; i++) {
        uint64_t m = numel(&sp[i]);
        unsigned char *buf = malloc(m * 8 + 8);
        size_t es = sp[i].dt == CKPT_DT_F16 ? 2 : sp[i].dt == CKPT_DT_F32 ? 4 : 8;
        for (uint64_t e = 0; e < m; e++) {
            double v = vals && vals[i] ? vals[i][e] : rnd();
            if (sp[i].dt == CKPT_DT_F16) {
                uint16_t h = ckpt_f64_to_f16(v);
                memcpy(buf + e * 2, &h, 2);
            } else if (sp[i].dt == CKPT_DT_F32) {
                float f = (float)v;
                memcpy(buf + e * 4, &f, 4);
            } else {
                int64_t x = (int64_t)e;
                memcpy(buf + e * 8, &x, 8);
            }
        }
        assert_int_equal(ckpt_st_writer_data(w, buf, m * es, &err), CKPT_OK);
        free(buf);
    }
    assert_int_equal(ckpt_st_writer_finish(w, &err), CKPT_OK);
}

/* All values of a tensor as doubles (malloc'd). */
static double *values(struct ckpt_tensorset *ts, const char *name, const struct ckpt_tensor **tp)
{
    const struct ckpt_tensor *t = ckpt_tensorset_find(ts, name);
    assert_non_null(t);
    if (tp)
        *tp = t;
    unsigned char *b = malloc(t->nbytes + 1);
    struct ckpt_error err;
    assert_int_equal(ckpt_tensorset_read_tensor(ts, t, b, t->nbytes, &err), CKPT_OK);
    double *v = malloc(t->numel * 8 + 8);
    for (uint64_t i = 0; i < t->numel; i++) {
        if (t->dtype == CKPT_DT_F16) {
            uint16_t h;
            memcpy(&h, b + 2 * i, 2);
            v[i] = ckpt_f16_to_f32(h);
        } else if (t->dtype == CKPT_DT_BF16) {
            uint16_t h;
            memcpy(&h, b + 2 * i, 2);
            v[i] = ckpt_bf16_to_f32(h);
        } else if (t->dtype == CKPT_DT_F32) {
            float f;
            memcpy(&f, b + 4 * i, 4);
            v[i] = f;
        } else if (t->dtype == CKPT_DT_I64) {
            int64_t x;
            memcpy(&x, b + 8 * i, 8);
            v[i] = (double)x;
        } else {
            fail_msg("dtype");
        }
    }
    free(b);
    return v;
}

static double round_to(enum ckpt_dtype dt, double x)
{
    if (dt == CKPT_DT_F16)
        return ckpt_f16_to_f32(ckpt_f64_to_f16(x));
    if (dt == CKPT_DT_BF16)
        return ckpt_bf16_to_f32(ckpt_f64_to_bf16(x));
    return (float)x;
}

static void rounding(void **s)
{
    (void)s;
    static double in[1 << 16];
    static uint16_t out[1 << 16];
    for (int round = 0; round < 16; round++) {
        for (int i = 0; i < (1 << 16); i++) {
            double x;
            switch (i & 3) {
            case 0: /* exact halfway points between f16 neighbours, and next to them */
                x = ((double)ckpt_f16_to_f32((uint16_t)(i >> 2)) +
                     (double)ckpt_f16_to_f32((uint16_t)((i >> 2) + 1))) /
                    2;
                if (round & 1)
                    x = nextafter(x, round & 2 ? INFINITY : -INFINITY);
                break;
            case 1:
                x = rnd() * ldexp(1.0, (int)(rnd() * 40));
                break;
            case 2:
                x = rnd() * 1e-6;
                break;
            default:
                x = rnd() * 70000;
            }
            in[i] = x;
        }
        ops_f64_to_f16_array(in, 1 << 16, out);
        for (int i = 0; i < (1 << 16); i++) {
            uint16_t ref = ckpt_f64_to_f16(in[i]);
            if (isnan(in[i]))
                continue;
            if (out[i] != ref || ops_f64_to_f16(in[i]) != ref)
                fail_msg("f16 of %.17g: %04x/%04x, want %04x", in[i], out[i], ops_f64_to_f16(in[i]),
                         ref);
            uint16_t rb = ckpt_f64_to_bf16(in[i] * 1e30), ob = ops_f64_to_bf16(in[i] * 1e30);
            if (rb != ob)
                fail_msg("bf16 of %.17g: %04x want %04x", in[i] * 1e30, ob, rb);
        }
    }
    assert_int_equal(ops_f64_to_f16(65520.0), 0x7c00);
    assert_int_equal(ops_f64_to_f16(65519.99), 0x7bff);
    assert_int_equal(ops_f64_to_f16(ldexp(1.0, -25)), 0);
    assert_int_equal(ops_f64_to_f16(-ldexp(1.0, -24)), 0x8001);
}

static void blocks(void **s)
{
    (void)s;
    assert_string_equal(
        ckpt_block_name(ckpt_block_of_key("model.diffusion_model.time_embed.0.weight", 0), 0),
        "IN00");
    assert_string_equal(
        ckpt_block_name(
            ckpt_block_of_key("model.diffusion_model.input_blocks.11.0.skip_connection.weight", 0),
            0),
        "IN11");
    assert_string_equal(
        ckpt_block_name(ckpt_block_of_key("model.diffusion_model.middle_block.1.norm.bias", 0), 0),
        "M00");
    assert_string_equal(
        ckpt_block_name(
            ckpt_block_of_key("model.diffusion_model.output_blocks.3.1.proj_in.weight", 0), 0),
        "OUT03");
    assert_string_equal(
        ckpt_block_name(ckpt_block_of_key("model.diffusion_model.out.2.weight", 0), 0), "OUT11");
    assert_string_equal(
        ckpt_block_name(ckpt_block_of_key("model.diffusion_model.out.2.weight", 1), 1), "OUT08");
    assert_string_equal(
        ckpt_block_name(ckpt_block_of_key("model.diffusion_model.label_emb.0.0.weight", 1), 1),
        "IN00");
    assert_string_equal(
        ckpt_block_name(ckpt_block_of_key("model.diffusion_model.input_blocks.8.1.norm.weight", 1),
                        1),
        "IN08");
    assert_string_equal(
        ckpt_block_name(ckpt_block_of_key("first_stage_model.decoder.conv_out.weight", 1), 1),
        "BASE");
    assert_string_equal(
        ckpt_block_name(
            ckpt_block_of_key("cond_stage_model.transformer.text_model.final_layer_norm.weight", 0),
            0),
        "BASE");
    double v[26];
    struct ckpt_error err;
    assert_int_equal(ckpt_blocks_preset("GRAD_V", v, &err), CKPT_OK);
    assert_true(v[1] == 1.0 && v[13] == 0.0 && v[25] == 1.0);
    assert_int_equal(ckpt_blocks_preset("nope", v, &err), CKPT_E_NOTFOUND);
}

static const struct spec base_spec[] = {
    {"model.diffusion_model.input_blocks.0.0.weight", CKPT_DT_F16, 4, {320, 4, 3, 3}},
    {"model.diffusion_model.time_embed.0.weight", CKPT_DT_F16, 2, {1280, 320}},
    {"model.diffusion_model.middle_block.1.proj_in.weight", CKPT_DT_F16, 2, {640, 640}},
    {"model.diffusion_model.out.2.bias", CKPT_DT_F16, 1, {4}},
    {"first_stage_model.decoder.conv_out.weight", CKPT_DT_F16, 4, {3, 128, 3, 3}},
    {"cond_stage_model.transformer.text_model.embeddings.position_ids", CKPT_DT_I64, 2, {1, 77}},
    {"cond_stage_model.transformer.text_model.final_layer_norm.weight", CKPT_DT_F32, 1, {768}},
};
#define NSPEC (sizeof base_spec / sizeof *base_spec)

static double ties_ref(double a, double b, double c, double ta, double tb, double al)
{
    double da = a - c, db = b - c;
    if (fabs(da) < ta)
        da = 0;
    if (fabs(db) < tb)
        db = 0;
    double s = da + db, m = 0;
    if (s > 0)
        m = (da > 0 && db > 0) ? (da + db) / 2 : (da > 0 ? da : db);
    else if (s < 0)
        m = (da < 0 && db < 0) ? (da + db) / 2 : (da < 0 ? da : db);
    return c + al * m;
}

static int cmpd(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? 1 : a > b ? -1 : 0;
}

/* k-th largest |x| */
static double kth(const double *x, const double *c, uint64_t n, double k)
{
    double *m = malloc(n * 8);
    for (uint64_t i = 0; i < n; i++)
        m[i] = fabs(x[i] - c[i]);
    qsort(m, n, 8, cmpd);
    uint64_t K = (uint64_t)ceil(k * (double)n);
    double t = m[(K ? K : 1) - 1];
    free(m);
    return t;
}

static void methods(void **s)
{
    (void)s;
    write_file(path("a.safetensors"), base_spec, NSPEC, NULL);
    write_file(path("b.safetensors"), base_spec, NSPEC, NULL);
    write_file(path("c.safetensors"), base_spec, NSPEC, NULL);
    enum ckpt_dtype outs[] = {CKPT_DT_INVALID, CKPT_DT_BF16, CKPT_DT_F32};
    for (int m = CKPT_MERGE_WEIGHTED_SUM; m <= CKPT_MERGE_DARE; m++)
        for (int od = 0; od < 3; od++) {
            struct ckpt_merge_options o;
            memset(&o, 0, sizeof o);
            o.method = (enum ckpt_merge_method)m;
            o.inputs[0] = path("a.safetensors");
            o.inputs[1] = path("b.safetensors");
            o.inputs[2] = path("c.safetensors");
            o.n_inputs = (size_t)ckpt_merge_method_inputs(o.method);
            o.alpha = 0.3;
            o.beta = 0.25;
            o.ties_k = 0.3;
            o.dare_p = 0.4;
            o.seed = 7;
            o.c.output = path("out.safetensors");
            o.c.force = 1;
            o.c.no_hash = 1;
            o.c.dtype = outs[od];
            struct ckpt_error err;
            struct ckpt_op_report rep;
            int rc = ckpt_merge(&o, &rep, &err);
            if (rc)
                fail_msg("%s: %s", ckpt_merge_method_name(o.method), err.msg);
            assert_int_equal(rep.merged, NSPEC - 1);
            ckpt_op_report_release(&rep);
            struct ckpt_tensorset *A, *B, *C, *O;
            assert_int_equal(ckpt_tensorset_open(&A, o.inputs[0], NULL, &err), CKPT_OK);
            assert_int_equal(ckpt_tensorset_open(&B, o.inputs[1], NULL, &err), CKPT_OK);
            assert_int_equal(ckpt_tensorset_open(&C, o.inputs[2], NULL, &err), CKPT_OK);
            assert_int_equal(ckpt_tensorset_open(&O, o.c.output, NULL, &err), CKPT_OK);
            assert_non_null(ckpt_tensorset_meta_get(O, "sd_merge_recipe"));
            assert_non_null(ckpt_tensorset_meta_get(O, "ckptdb.recipe"));
            uint64_t dropped = 0, total = 0;
            for (size_t i = 0; i < NSPEC; i++) {
                const struct ckpt_tensor *to;
                double *a = values(A, base_spec[i].name, NULL);
                double *b = values(B, base_spec[i].name, NULL);
                double *c = values(C, base_spec[i].name, NULL);
                double *out = values(O, base_spec[i].name, &to);
                uint64_t n = numel(&base_spec[i]);
                if (base_spec[i].dt == CKPT_DT_I64) {
                    assert_int_equal(to->dtype, CKPT_DT_I64);
                    for (uint64_t e = 0; e < n; e++)
                        assert_true(out[e] == (double)e);
                    goto next;
                }
                assert_int_equal(to->dtype, outs[od] ? outs[od] : base_spec[i].dt);
                double ta = 0, tb = 0;
                if (m == CKPT_MERGE_TIES) {
                    ta = kth(a, c, n, o.ties_k);
                    tb = kth(b, c, n, o.ties_k);
                }
                for (uint64_t e = 0; e < n; e++) {
                    double ref = 0, al = o.alpha, be = o.beta;
                    switch (m) {
                    case CKPT_MERGE_WEIGHTED_SUM:
                        ref = (1 - al) * a[e] + al * b[e];
                        break;
                    case CKPT_MERGE_ADD_DIFFERENCE:
                        ref = a[e] + al * (b[e] - c[e]);
                        break;
                    case CKPT_MERGE_TRIPLE_SUM:
                        ref = (1 - al - be) * a[e] + al * b[e] + be * c[e];
                        break;
                    case CKPT_MERGE_TIES:
                        ref = ties_ref(a[e], b[e], c[e], ta, tb, al);
                        break;
                    case CKPT_MERGE_DARE: {
                        /* one of the four keep/drop combinations */
                        double k = 1 / (1 - o.dare_p), best = NAN;
                        for (int q = 0; q < 4; q++) {
                            double r = c[e] + al * (((q & 1) ? (a[e] - c[e]) * k : 0) +
                                                    ((q & 2) ? (b[e] - c[e]) * k : 0));
                            if (round_to(to->dtype, r) == out[e]) {
                                best = r;
                                if (!(q & 1))
                                    dropped++;
                                if (!(q & 2))
                                    dropped++;
                                break;
                            }
                        }
                        total += 2;
                        if (isnan(best))
                            fail_msg("dare %s[%llu]: %.9g matches no keep/drop case",
                                     base_spec[i].name, (unsigned long long)e, out[e]);
                        ref = best;
                        break;
                    }
                    }
                    double want = round_to(to->dtype, ref);
                    if (want != out[e])
                        fail_msg("%s -> %s %s[%llu]: %.9g, correctly rounded %.9g (exact %.17g)",
                                 ckpt_merge_method_name(o.method), ckpt_dtype_name(to->dtype),
                                 base_spec[i].name, (unsigned long long)e, out[e], want, ref);
                }
            next:
                free(a);
                free(b);
                free(c);
                free(out);
            }
            if (m == CKPT_MERGE_DARE) {
                double frac = (double)dropped / (double)total;
                assert_true(frac > 0.35 && frac < 0.45); /* p = 0.4 over ~2.4M draws */
            }
            ckpt_tensorset_close(A);
            ckpt_tensorset_close(B);
            ckpt_tensorset_close(C);
            ckpt_tensorset_close(O);
        }
}

static void blocks_and_components(void **s)
{
    (void)s;
    double bl[26];
    for (int i = 0; i < 26; i++)
        bl[i] = i / 25.0;
    struct ckpt_merge_options o;
    memset(&o, 0, sizeof o);
    o.method = CKPT_MERGE_WEIGHTED_SUM;
    o.inputs[0] = path("a.safetensors");
    o.inputs[1] = path("b.safetensors");
    o.n_inputs = 2;
    o.blocks = bl;
    o.n_blocks = 26;
    o.components = CKPT_COMP_UNET;
    o.exclude = "middle_block";
    o.c.output = path("blk.safetensors");
    o.c.force = 1;
    o.c.no_hash = 1;
    struct ckpt_error err;
    assert_int_equal(ckpt_merge(&o, NULL, &err), CKPT_OK);
    struct ckpt_tensorset *A, *B, *O;
    assert_int_equal(ckpt_tensorset_open(&A, o.inputs[0], NULL, &err), CKPT_OK);
    assert_int_equal(ckpt_tensorset_open(&B, o.inputs[1], NULL, &err), CKPT_OK);
    assert_int_equal(ckpt_tensorset_open(&O, o.c.output, NULL, &err), CKPT_OK);
    for (size_t i = 0; i < NSPEC; i++) {
        if (base_spec[i].dt == CKPT_DT_I64)
            continue;
        const char *nm = base_spec[i].name;
        double *a = values(A, nm, NULL), *b = values(B, nm, NULL), *out = values(O, nm, NULL);
        int unet = !strncmp(nm, "model.diffusion_model.", 22) && !strstr(nm, "middle_block");
        double al = unet ? bl[ckpt_block_of_key(nm, 0)] : 0;
        for (uint64_t e = 0; e < numel(&base_spec[i]); e++) {
            double want = unet ? round_to(base_spec[i].dt, (1 - al) * a[e] + al * b[e]) : a[e];
            assert_true(want == out[e]);
        }
        free(a);
        free(b);
        free(out);
    }
    ckpt_tensorset_close(A);
    ckpt_tensorset_close(B);
    ckpt_tensorset_close(O);
    o.n_blocks = 20; /* SDXL count for an SD1-shaped (unknown family) model */
    assert_int_equal(ckpt_merge(&o, NULL, &err), CKPT_E_ARG);
}

static void inpainting_and_refusals(void **s)
{
    (void)s;
    struct spec wide[] = {
        {"model.diffusion_model.input_blocks.0.0.weight", CKPT_DT_F16, 4, {320, 9, 3, 3}},
        {"cond_stage_model.transformer.text_model.embeddings.position_ids",
         CKPT_DT_F32,
         2,
         {1, 77}},
        {"only_in_a", CKPT_DT_F16, 1, {3}}};
    struct spec narrow[] = {
        {"model.diffusion_model.input_blocks.0.0.weight", CKPT_DT_F16, 4, {320, 4, 3, 3}},
        {"cond_stage_model.transformer.text_model.embeddings.position_ids",
         CKPT_DT_F32,
         2,
         {1, 77}},
        {"only_in_b", CKPT_DT_F16, 1, {3}}};
    double pos[77];
    for (int i = 0; i < 77; i++)
        pos[i] = i + (i == 76 ? -0.0025 : 0.0); /* the AnythingV3 breakage: 75.9975 */
    double *pv[3] = {NULL, pos, NULL};
    write_file(path("w.safetensors"), wide, 3, pv);
    write_file(path("n.safetensors"), narrow, 3, pv);
    struct ckpt_merge_options o;
    memset(&o, 0, sizeof o);
    o.method = CKPT_MERGE_WEIGHTED_SUM;
    o.alpha = 0.5;
    o.inputs[0] = path("w.safetensors");
    o.inputs[1] = path("n.safetensors");
    o.n_inputs = 2;
    o.c.output = path("inp.safetensors");
    o.c.force = 1;
    o.c.no_hash = 1;
    struct ckpt_error err;
    struct ckpt_op_report rep;
    assert_int_equal(ckpt_merge(&o, &rep, &err), CKPT_OK);
    assert_int_equal(rep.only_b, 1);
    assert_string_equal(rep.only_b_names[0], "only_in_b");
    assert_int_equal(rep.position_ids_fixed, 1);
    ckpt_op_report_release(&rep);
    struct ckpt_tensorset *W, *N, *O;
    assert_int_equal(ckpt_tensorset_open(&W, o.inputs[0], NULL, &err), CKPT_OK);
    assert_int_equal(ckpt_tensorset_open(&N, o.inputs[1], NULL, &err), CKPT_OK);
    assert_int_equal(ckpt_tensorset_open(&O, o.c.output, NULL, &err), CKPT_OK);
    assert_null(ckpt_tensorset_find(O, "only_in_b"));
    assert_non_null(ckpt_tensorset_find(O, "only_in_a"));
    const char *nm = wide[0].name;
    double *a = values(W, nm, NULL), *b = values(N, nm, NULL), *out = values(O, nm, NULL);
    for (uint64_t oo = 0; oo < 320; oo++)
        for (uint64_t ch = 0; ch < 9; ch++)
            for (uint64_t k = 0; k < 9; k++) {
                uint64_t ia = (oo * 9 + ch) * 9 + k, ib = (oo * 4 + ch) * 9 + k;
                double want = ch < 4 ? round_to(CKPT_DT_F16, 0.5 * a[ia] + 0.5 * b[ib]) : a[ia];
                assert_true(want == out[ia]);
            }
    const struct ckpt_tensor *tp;
    double *ids = values(O, wide[1].name, &tp);
    assert_int_equal(tp->dtype, CKPT_DT_I64);
    for (int i = 0; i < 77; i++)
        assert_true(ids[i] == i);
    free(ids);
    free(a);
    free(b);
    free(out);
    ckpt_tensorset_close(W);
    ckpt_tensorset_close(N);
    ckpt_tensorset_close(O);
    /* the 4-channel model first is refused, nothing written */
    o.inputs[0] = path("n.safetensors");
    o.inputs[1] = path("w.safetensors");
    o.c.output = path("refused.safetensors");
    assert_int_equal(ckpt_merge(&o, NULL, &err), CKPT_E_FORMAT);
    assert_non_null(strstr(err.msg, "first"));
    assert_int_not_equal(access(o.c.output, F_OK), 0);
    /* an input is never the output */
    o.c.output = o.inputs[0];
    assert_int_equal(ckpt_merge(&o, NULL, &err), CKPT_E_ARG);
}

/* ---- bake ------------------------------------------------------------------------------- */

static void bake(void **s)
{
    (void)s;
    const char *lin = "model.diffusion_model.input_blocks.1.1.proj_in.weight";
    const char *conv = "model.diffusion_model.input_blocks.1.0.in_layers.2.weight";
    const char *ff = "model.diffusion_model.output_blocks.3.1.transformer_blocks.0.ff.net.2.weight";
    const char *q = "model.diffusion_model.middle_block.1.transformer_blocks.0.attn1.to_q.weight";
    const char *te = "cond_stage_model.model.transformer.resblocks.0.attn.in_proj_weight";
    struct spec ck[] = {{lin, CKPT_DT_F16, 2, {32, 24}},
                        {conv, CKPT_DT_F32, 4, {16, 8, 3, 3}},
                        {ff, CKPT_DT_F16, 2, {12, 20}},
                        {q, CKPT_DT_F16, 2, {24, 12}},
                        {te, CKPT_DT_F32, 2, {30, 10}}};
    write_file(path("ck.safetensors"), ck, 5, NULL);
    /* LoRA: diffusers name for proj_in (down_blocks.0.attentions.0), LoCon 3x3 with Tucker mid
       on the conv (down_blocks.0.resnets.0.conv1), LoHa on ff, LoKr on to_q (mid_block),
       LoRA on the OpenCLIP v_proj slice of in_proj */
    struct spec lo[] = {
        {"lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight", CKPT_DT_F32, 2, {4, 24}},
        {"lora_unet_down_blocks_0_attentions_0_proj_in.lora_up.weight", CKPT_DT_F32, 2, {32, 4}},
        {"lora_unet_down_blocks_0_attentions_0_proj_in.alpha", CKPT_DT_F32, 0, {0}},
        {"lora_unet_down_blocks_0_resnets_0_conv1.lora_down.weight", CKPT_DT_F32, 4, {3, 8, 1, 1}},
        {"lora_unet_down_blocks_0_resnets_0_conv1.lora_mid.weight", CKPT_DT_F32, 4, {3, 3, 3, 3}},
        {"lora_unet_down_blocks_0_resnets_0_conv1.lora_up.weight", CKPT_DT_F32, 4, {16, 3, 1, 1}},
        {"lora_unet_down_blocks_0_resnets_0_conv1.alpha", CKPT_DT_F32, 0, {0}},
        {"lora_unet_up_blocks_1_attentions_0_transformer_blocks_0_ff_net_2.hada_w1_a",
         CKPT_DT_F32,
         2,
         {12, 2}},
        {"lora_unet_up_blocks_1_attentions_0_transformer_blocks_0_ff_net_2.hada_w1_b",
         CKPT_DT_F32,
         2,
         {2, 20}},
        {"lora_unet_up_blocks_1_attentions_0_transformer_blocks_0_ff_net_2.hada_w2_a",
         CKPT_DT_F32,
         2,
         {12, 2}},
        {"lora_unet_up_blocks_1_attentions_0_transformer_blocks_0_ff_net_2.hada_w2_b",
         CKPT_DT_F32,
         2,
         {2, 20}},
        {"lora_unet_up_blocks_1_attentions_0_transformer_blocks_0_ff_net_2.alpha",
         CKPT_DT_F32,
         0,
         {0}},
        {"lora_unet_mid_block_attentions_0_transformer_blocks_0_attn1_to_q.lokr_w1",
         CKPT_DT_F32,
         2,
         {4, 3}},
        {"lora_unet_mid_block_attentions_0_transformer_blocks_0_attn1_to_q.lokr_w2_a",
         CKPT_DT_F32,
         2,
         {6, 2}},
        {"lora_unet_mid_block_attentions_0_transformer_blocks_0_attn1_to_q.lokr_w2_b",
         CKPT_DT_F32,
         2,
         {2, 4}},
        {"lora_unet_mid_block_attentions_0_transformer_blocks_0_attn1_to_q.alpha",
         CKPT_DT_F32,
         0,
         {0}},
        {"lora_te_text_model_encoder_layers_0_self_attn_v_proj.lora_down.weight",
         CKPT_DT_F32,
         2,
         {2, 10}},
        {"lora_te_text_model_encoder_layers_0_self_attn_v_proj.lora_up.weight",
         CKPT_DT_F32,
         2,
         {10, 2}},
        {"lora_te_text_model_encoder_layers_0_self_attn_v_proj.alpha", CKPT_DT_F32, 0, {0}},
        {"lora_unet_nowhere.lora_down.weight", CKPT_DT_F32, 2, {2, 2}},
        {"lora_unet_nowhere.lora_up.weight", CKPT_DT_F32, 2, {2, 2}},
    };
    size_t nl = sizeof lo / sizeof *lo;
    double **lv = calloc(nl, sizeof *lv);
    for (size_t i = 0; i < nl; i++) {
        uint64_t m = numel(&lo[i]);
        lv[i] = malloc((m ? m : 1) * 8);
        for (uint64_t e = 0; e < m; e++)
            lv[i][e] = (double)(float)rnd();
        if (strstr(lo[i].name, ".alpha"))
            lv[i][0] = 2.0; /* alpha 2 */
    }
    write_file(path("lora.safetensors"), lo, nl, lv);
    struct ckpt_bake_lora bl = {path("lora.safetensors"), 0.7};
    struct ckpt_bake_options o;
    memset(&o, 0, sizeof o);
    o.input = path("ck.safetensors");
    o.loras = &bl;
    o.n_loras = 1;
    o.c.output = path("baked.safetensors");
    o.c.force = 1;
    o.c.no_hash = 1;
    struct ckpt_error err;
    struct ckpt_op_report rep;
    int rc = ckpt_bake(&o, &rep, &err);
    if (rc)
        fail_msg("%s", err.msg);
    assert_int_equal(rep.lora_modules, 5);
    assert_int_equal(rep.lora_unmatched, 1);
    ckpt_op_report_release(&rep);
    struct ckpt_tensorset *C, *O;
    assert_int_equal(ckpt_tensorset_open(&C, o.input, NULL, &err), CKPT_OK);
    assert_int_equal(ckpt_tensorset_open(&O, o.c.output, NULL, &err), CKPT_OK);
    double w = 0.7;
    /* linear: W + w * up @ down * 2/4 */
    {
        double *W = values(C, lin, NULL), *out = values(O, lin, NULL);
        for (int r = 0; r < 32; r++)
            for (int c = 0; c < 24; c++) {
                double d = 0;
                for (int k = 0; k < 4; k++)
                    d += lv[1][r * 4 + k] * lv[0][k * 24 + c];
                double want = round_to(CKPT_DT_F16, W[r * 24 + c] + w * d * 2.0 / 4.0);
                assert_true(want == out[r * 24 + c]);
            }
        free(W);
        free(out);
    }
    /* conv with Tucker mid: delta[o,i,s] = sum_a,b up[o,a] mid[a,b,s] down[b,i]; rank 3 */
    {
        double *W = values(C, conv, NULL), *out = values(O, conv, NULL);
        for (int oo = 0; oo < 16; oo++)
            for (int i = 0; i < 8; i++)
                for (int s9 = 0; s9 < 9; s9++) {
                    double d = 0;
                    for (int a = 0; a < 3; a++)
                        for (int b = 0; b < 3; b++)
                            d += lv[5][oo * 3 + a] * lv[4][(a * 3 + b) * 9 + s9] * lv[3][b * 8 + i];
                    double want =
                        round_to(CKPT_DT_F32, W[(oo * 8 + i) * 9 + s9] + w * d * 2.0 / 3.0);
                    assert_true(fabs(want - out[(oo * 8 + i) * 9 + s9]) <= 0);
                }
        free(W);
        free(out);
    }
    /* LoHa: (w1a@w1b) * (w2a@w2b) * alpha/rank(2) */
    {
        double *W = values(C, ff, NULL), *out = values(O, ff, NULL);
        for (int r = 0; r < 12; r++)
            for (int c = 0; c < 20; c++) {
                double p1 = 0, p2 = 0;
                for (int k = 0; k < 2; k++) {
                    p1 += lv[7][r * 2 + k] * lv[8][k * 20 + c];
                    p2 += lv[9][r * 2 + k] * lv[10][k * 20 + c];
                }
                double want = round_to(CKPT_DT_F16, W[r * 20 + c] + w * p1 * p2 * 2.0 / 2.0);
                assert_true(want == out[r * 20 + c]);
            }
        free(W);
        free(out);
    }
    /* LoKr: kron(w1 [4,3], w2a@w2b [6,4]) -> [24,12], alpha/rank(w2_b rows = 2) */
    {
        double *W = values(C, q, NULL), *out = values(O, q, NULL);
        for (int a = 0; a < 4; a++)
            for (int b = 0; b < 3; b++)
                for (int c = 0; c < 6; c++)
                    for (int d = 0; d < 4; d++) {
                        double w2 = 0;
                        for (int k = 0; k < 2; k++)
                            w2 += lv[13][c * 2 + k] * lv[14][k * 4 + d];
                        int idx = (a * 6 + c) * 12 + (b * 4 + d);
                        double want =
                            round_to(CKPT_DT_F16, W[idx] + w * lv[12][a * 3 + b] * w2 * 2.0 / 2.0);
                        assert_true(want == out[idx]);
                    }
        free(W);
        free(out);
    }
    /* OpenCLIP in_proj: v_proj is rows 20..29 */
    {
        double *W = values(C, te, NULL), *out = values(O, te, NULL);
        for (int r = 0; r < 30; r++)
            for (int c = 0; c < 10; c++) {
                double d = 0;
                if (r >= 20)
                    for (int k = 0; k < 2; k++)
                        d += lv[17][(r - 20) * 2 + k] * lv[16][k * 10 + c];
                double want = round_to(CKPT_DT_F32, W[r * 10 + c] + w * d * 2.0 / 2.0);
                assert_true(want == out[r * 10 + c]);
            }
        free(W);
        free(out);
    }
    ckpt_tensorset_close(C);
    ckpt_tensorset_close(O);
    for (size_t i = 0; i < nl; i++)
        free(lv[i]);
    free(lv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rounding),
        cmocka_unit_test(blocks),
        cmocka_unit_test(methods),
        cmocka_unit_test(blocks_and_components),
        cmocka_unit_test(inpainting_and_refusals),
        cmocka_unit_test(bake),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
