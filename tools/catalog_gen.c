/* catalog_gen: fill a catalog with N generated model records for the benchmarks' list and
 * search timings (bench/scale.sh: 1,000,000 records; bench/catalog.sh, serve.sh, views.sh,
 * lineage.sh: 10,000-100,000). Records look like a scanned collection: a kind, family, file
 * path, sha256, metadata words and the suggestions scan would make from them (ckpt_suggest),
 * with chosen output/realism/rating for about half. Written in bulk, not through scan's
 * per-file writer: one transaction, the same few prepared statements for every record (sent
 * down the pipeline on PostgreSQL), the search index filled by one statement at the end, the
 * tables and indexes as the migrations made them; then compacted as a scan that wrote a good
 * part of the catalog leaves it. Not a test fixture writer.
 * usage: catalog_gen DB N */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../lib/catalog/internal.h"

static unsigned long long rng = 88172645463325252ull;
static unsigned next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng >> 11);
}

static const char *const model_sql =
    "INSERT INTO models(id, name, output, realism, rating, created_ns, updated_ns, kind, family)"
    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?8)";
static const char *const file_sql =
    "INSERT INTO files(id, model_id, host, path, is_dir, size, mtime_ns, dev, ino, format, kind,"
    " family, tensor_count, sha256, autov2, metadata, missing, scanned_ns)"
    " VALUES(?1, ?1, ?2, ?3, 0, ?4, ?5, 0, ?1, 'safetensors', ?6, ?7, 1000, ?8, ?9, ?10, 0, ?5)";
static const char *const sugg_sql =
    "INSERT INTO suggestions(model_id, field, value, confidence, why) VALUES(?, ?, ?, ?, ?)";

static int fail_db(struct ckpt_catalog *c, int s, struct ckpt_error *err)
{
    return ckpt_cat_sqlerr(c, s, "generating records", err);
}

static int generate(struct ckpt_catalog *c, long n, struct ckpt_error *err)
{
    static const char *kinds[] = {"checkpoint", "lora", "lora", "lora", "vae", "embedding"};
    static const char *fams[] = {"sd1", "sdxl", "sdxl", "flux-dev", "sd2", "sd3-medium"};
    static const char *outs[] = {"photorealistic",   "anime",        "render",
                                 "digital-painting", "illustration", "general-purpose"};
    static const char *reals[] = {"realistic", "semi-realistic", "2.5D", "2D", "2.8D"};
    static const char *words[] = {"Real",  "Anime", "Mix",   "Dream", "Vision",     "Pixar", "Toon",
                                  "Photo", "Art",   "Ultra", "Epic",  "Juggernaut", "Pony"};
    struct ckpt_st *qm = NULL, *qf = NULL, *qs = NULL;
    int rc = ckpt_cat_prepare(c, model_sql, &qm, err);
    if (!rc)
        rc = ckpt_cat_prepare(c, file_sql, &qf, err);
    if (!rc)
        rc = ckpt_cat_prepare(c, sugg_sql, &qs, err);
    /* after any records already there */
    int64_t base = 0;
    struct ckpt_st *q;
    if (!rc && !(rc = ckpt_cat_prepare(c,
                                       "SELECT coalesce(max(id), 0) FROM (SELECT max(id) AS id"
                                       " FROM models UNION ALL SELECT max(id) FROM files) AS t",
                                       &q, err))) {
        int s = ckpt_st_step(q);
        if (s == CKPT_DB_ROW)
            base = ckpt_st_i64(q, 0);
        else
            rc = fail_db(c, s, err);
        ckpt_st_finalize(q);
    }
    const char *host = ckpt_catalog_host();
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t t = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    for (long i = 0; i < n && !rc; i++) {
        int64_t id = base + i + 1;
        const char *kind = kinds[next() % 6], *fam = fams[next() % 6];
        char name[128], path[256], comment[128], meta[200], sha[80], autov2[16];
        snprintf(name, sizeof name, "%s%s%s_v%ld", words[next() % 13], words[next() % 13],
                 words[next() % 13], i % 10);
        snprintf(path, sizeof path, "/library/%s/%s-%ld.safetensors", kind, name, i);
        snprintf(comment, sizeof comment, "trained on %s %s images", words[next() % 13],
                 words[next() % 13]);
        snprintf(meta, sizeof meta, "{\"ss_training_comment\":\"%s\"}", comment);
        snprintf(sha, sizeof sha, "%08x%08x%08x%08x%08x%08x%08x%08x", next(), next(), next(),
                 next(), next(), next(), next(), (unsigned)i);
        memcpy(autov2, sha, 10);
        autov2[10] = 0;
        ckpt_st_reset(qm);
        ckpt_st_bind_i64(qm, 1, id);
        ckpt_st_bind_text(qm, 2, name);
        if (next() % 2) {
            ckpt_st_bind_text(qm, 3, outs[next() % 6]);
            ckpt_st_bind_text(qm, 4, reals[next() % 5]);
            ckpt_st_bind_i64(qm, 5, (int)(next() % 5) + 1);
        } else {
            ckpt_st_bind_null(qm, 3);
            ckpt_st_bind_null(qm, 4);
            ckpt_st_bind_null(qm, 5);
        }
        ckpt_st_bind_i64(qm, 6, t + i);
        ckpt_st_bind_text(qm, 7, kind); /* a model's kind and family are its file's */
        ckpt_st_bind_text(qm, 8, fam);
        int s = ckpt_st_run(qm);
        if (s != CKPT_DB_DONE) {
            rc = fail_db(c, s, err);
            break;
        }
        ckpt_st_reset(qf);
        ckpt_st_bind_i64(qf, 1, id);
        ckpt_st_bind_text(qf, 2, host);
        ckpt_st_bind_text(qf, 3, path);
        ckpt_st_bind_i64(qf, 4, (int64_t)(next() % 7000000000u));
        ckpt_st_bind_i64(qf, 5, t + i);
        ckpt_st_bind_text(qf, 6, kind);
        ckpt_st_bind_text(qf, 7, fam);
        ckpt_st_bind_text(qf, 8, sha);
        ckpt_st_bind_text(qf, 9, autov2);
        ckpt_st_bind_text(qf, 10, meta);
        if ((s = ckpt_st_run(qf)) != CKPT_DB_DONE) {
            rc = fail_db(c, s, err);
            break;
        }
        /* what scan would suggest from the name and the metadata */
        struct ckpt_kv kv = {(char *)"ss_training_comment", comment};
        const char *fname = strrchr(path, '/') + 1;
        struct ckpt_suggest_input in = {
            .name = name, .filename = fname, .meta = &kv, .n_meta = 1, .side = NULL};
        struct ckpt_suggest_out so;
        ckpt_suggest(&in, &so);
        for (size_t k = 0; k < so.n && !rc; k++) {
            ckpt_st_reset(qs);
            ckpt_st_bind_i64(qs, 1, id);
            ckpt_st_bind_text(qs, 2, so.s[k].field);
            ckpt_st_bind_text(qs, 3, so.s[k].value);
            ckpt_st_bind_double(qs, 4, so.s[k].confidence);
            ckpt_st_bind_text(qs, 5, so.s[k].why);
            if ((s = ckpt_st_run(qs)) != CKPT_DB_DONE)
                rc = fail_db(c, s, err);
        }
        ckpt_suggest_release(&so);
    }
    ckpt_st_finalize(qm);
    ckpt_st_finalize(qf);
    ckpt_st_finalize(qs);
    /* ids given explicitly leave PostgreSQL's identity sequences behind */
    const char *reset = ckpt_db_sql(c->db, CKPT_SQL_RESET_ID);
    for (int k = 0; k < 2 && !rc && reset; k++) {
        char sql[200];
        const char *table = k ? "files" : "models";
        snprintf(sql, sizeof sql, reset, table, table);
        rc = ckpt_cat_exec(c, sql, err);
    }
    if (!rc)
        rc = ckpt_cat_fts_rebuild(c, err);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: catalog_gen DB N\n");
        return 2;
    }
    long n = atol(argv[2]);
    struct ckpt_catalog *c;
    struct ckpt_error err;
    if (ckpt_catalog_open(&c, argv[1], 0, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    /* SQLite: a page cache that holds the indexes being filled (the default is 32 MiB) */
    int rc = ckpt_cat_is_pg(c) ? CKPT_OK : ckpt_cat_exec(c, "PRAGMA cache_size = -524288", &err);
    if (!rc)
        rc = ckpt_cat_begin(c, &err);
    if (!rc)
        rc = generate(c, n, &err);
    if (!rc)
        rc = ckpt_cat_commit(c, &err);
    else
        ckpt_cat_rollback(c);
    if (!rc && n >= 1000 && !ckpt_cat_is_pg(c))
        rc = ckpt_catalog_compact(c, &err);
    ckpt_catalog_close(c);
    if (rc) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    return 0;
}
