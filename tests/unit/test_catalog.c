/* Unit tests: the catalog store (lib/catalog): migrations from a v1 database, scan (new,
 * unchanged, changed, moved, missing, failures, sidecars), set/tag/accept validation and
 * atomicity, forget, list filters, search, export/import round trip. Each test uses a fresh
 * temporary folder and database: an SQLite file, or with CKPT_TEST_PG_URL (a PostgreSQL
 * cluster's base URL, postgresql://USER@HOST, as tests/cli/catalog_pg_tools.sh passes) a new
 * database of that cluster, dropped at the end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog/db.h"
#include "ckptdb/buf.h"
#include "ckptdb/catalog.h"
#include "ckptdb/safetensors.h"

struct fx {
    char dir[256], db[300], lib[300];
    char pgdb[2][64]; /* the PostgreSQL databases this test made */
    struct ckpt_catalog *c;
};

static const char *pg_base(void)
{
    const char *u = getenv("CKPT_TEST_PG_URL");
    return u && *u ? u : NULL;
}

/* A raw connection to the catalog's database (the layer under the catalog): for what a test
   writes past the catalog's API. */
static struct ckpt_db *raw_open(const char *where)
{
    struct ckpt_db *db = NULL;
    int rc = pg_base() ? ckpt_db_pg_open(where, 0, &db) : ckpt_db_sqlite_open(where, 0, &db);
    if (rc != CKPT_DB_OK)
        fail_msg("%s: %s", where, db ? db->ops->errmsg(db) : "out of memory");
    return db;
}

static void raw_exec(struct ckpt_db *db, const char *sql)
{
    if (ckpt_db_exec(db, sql) != CKPT_DB_OK)
        fail_msg("%s: %s", sql, db->ops->errmsg(db));
}

static void pg_admin(const char *sql)
{
    char url[400];
    snprintf(url, sizeof url, "%s/postgres", pg_base());
    struct ckpt_db *db = raw_open(url);
    raw_exec(db, sql);
    db->ops->close(db);
}

/* Point f->db at a new, empty catalog: a new database on PostgreSQL; no file on SQLite. */
static void fresh_db(struct fx *f)
{
    if (pg_base()) {
        static int seq;
        int k = f->pgdb[0][0] ? 1 : 0;
        assert_true(!f->pgdb[k][0]);
        snprintf(f->pgdb[k], sizeof f->pgdb[k], "ckpt_unit_%d_%d", (int)getpid(), ++seq);
        char sql[128];
        snprintf(sql, sizeof sql, "CREATE DATABASE %s", f->pgdb[k]);
        pg_admin(sql);
        snprintf(f->db, sizeof f->db, "%s/%s", pg_base(), f->pgdb[k]);
        return;
    }
    char x[400];
    unlink(f->db);
    snprintf(x, sizeof x, "%s-wal", f->db);
    unlink(x);
    snprintf(x, sizeof x, "%s-shm", f->db);
    unlink(x);
}

static void write_st(const char *path, uint64_t n, unsigned seed, const char *mk, const char *mv)
{
    struct ckpt_st_writer *w;
    struct ckpt_error err;
    assert_int_equal(ckpt_st_writer_open(&w, path, 1, &err), CKPT_OK);
    if (mk)
        assert_int_equal(ckpt_st_writer_meta(w, mk, mv, &err), CKPT_OK);
    uint64_t shape[1] = {n};
    assert_int_equal(ckpt_st_writer_declare(w, "w", CKPT_DT_F32, 1, shape, &err), CKPT_OK);
    assert_int_equal(ckpt_st_writer_begin_data(w, &err), CKPT_OK);
    for (uint64_t i = 0; i < n; i++) {
        float f = (float)(i * 31 + seed);
        assert_int_equal(ckpt_st_writer_data(w, &f, 4, &err), CKPT_OK);
    }
    assert_int_equal(ckpt_st_writer_finish(w, &err), CKPT_OK);
}

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/ckpt-cat-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->db, sizeof f->db, "%s/db/catalog.sqlite", f->dir);
    snprintf(f->lib, sizeof f->lib, "%s/lib", f->dir);
    mkdir(f->lib, 0777);
    setenv("CKPTDB_HOST", "testhost", 1);
    if (pg_base())
        fresh_db(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    ckpt_catalog_close(f->c);
    for (int k = 0; k < 2; k++) {
        if (!f->pgdb[k][0])
            continue;
        char sql[128];
        snprintf(sql, sizeof sql, "DROP DATABASE %s WITH (FORCE)", f->pgdb[k]);
        pg_admin(sql);
    }
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static void open_db(struct fx *f)
{
    struct ckpt_error err;
    if (ckpt_catalog_open(&f->c, f->db, 0, &err))
        fail_msg("%s", err.msg);
}

static void scan(struct fx *f, int no_hash, struct ckpt_scan_stats *s, int expect)
{
    const char *paths[] = {f->lib};
    struct ckpt_scan_options o = {.no_hash = no_hash};
    struct ckpt_error err;
    int rc = ckpt_catalog_scan(f->c, paths, 1, &o, s, &err);
    if (rc != expect)
        fail_msg("scan returned %d: %s", rc, err.msg);
}

static int64_t model(struct fx *f, const char *ref)
{
    int64_t id = 0;
    struct ckpt_error err;
    if (ckpt_catalog_find_model(f->c, ref, &id, &err))
        fail_msg("%s", err.msg);
    return id;
}

/* A database created by migration 1 alone (v1, with a record) opens with the current code (a
 * read-only open first), is upgraded to the current version, keeps its record and finds it by
 * full-text search. */
static void migrates_v1(void **state)
{
    struct fx *f = *state;
    char dbdir[320];
    snprintf(dbdir, sizeof dbdir, "%s/db", f->dir);
    mkdir(dbdir, 0777);
    enum ckpt_db_kind kind = pg_base() ? CKPT_DB_PG : CKPT_DB_SQLITE;
    struct ckpt_db *db = raw_open(f->db);
    raw_exec(db, ckpt_db_migration(kind, 1));
    assert_int_equal(db->ops->set_schema_version(db, 1), CKPT_DB_OK);
    raw_exec(db, "INSERT INTO models(id, name, note, created_ns, updated_ns) VALUES(7,"
                 " 'oldModel', 'kept from version one', 1, 1);"
                 "INSERT INTO files(model_id, host, path, size, mtime_ns, dev, ino,"
                 " sha256, kind, family, scanned_ns) VALUES(7, 'testhost',"
                 " '/x/oldModel.safetensors', 10, 1, 1, 1, 'ab12cd34ef', 'lora', 'sdxl', 1);");
    db->ops->close(db);
    assert_true(ckpt_catalog_schema_current() >= 2);
    /* a reading command is first to meet it (a list right after an upgrade): it is upgraded
       through a read-write connection of its own, then read */
    struct ckpt_error rerr;
    if (ckpt_catalog_open(&f->c, f->db, CKPT_CATALOG_READONLY, &rerr))
        fail_msg("%s", rerr.msg);
    assert_int_equal(ckpt_catalog_schema_version(f->c), ckpt_catalog_schema_current());
    ckpt_catalog_close(f->c);
    f->c = NULL;
    open_db(f);
    assert_int_equal(ckpt_catalog_schema_version(f->c), ckpt_catalog_schema_current());
    assert_int_equal(ckpt_catalog_integrity(f->c, NULL), CKPT_OK);
    assert_int_equal(model(f, "oldModel"), 7);
    assert_int_equal(model(f, "ab12cd"), 7);
    int64_t *ids;
    size_t n;
    assert_int_equal(ckpt_catalog_search(f->c, "version one", &ids, &n, NULL), CKPT_OK);
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], 7);
    free(ids);
    /* the model's kind and family (filters of `list`) come from its file (migration 9) */
    struct ckpt_query lq = {.include_missing = 1, .kind = "lora", .family = "sdxl"};
    assert_int_equal(ckpt_catalog_list(f->c, &lq, &ids, &n, NULL), CKPT_OK);
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], 7);
    free(ids);
    lq.family = "sd1";
    assert_int_equal(ckpt_catalog_list(f->c, &lq, &ids, &n, NULL), CKPT_OK);
    assert_int_equal(n, 0);
    free(ids);
    /* a database from the future is refused, not damaged */
    ckpt_catalog_close(f->c);
    f->c = NULL;
    db = raw_open(f->db);
    assert_int_equal(db->ops->set_schema_version(db, 999), CKPT_DB_OK);
    db->ops->close(db);
    struct ckpt_error err;
    assert_int_equal(ckpt_catalog_open(&f->c, f->db, 0, &err), CKPT_E_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "newer"));
}

/* search cuts names into words (ckpt_words): a word inside a compound name is found, the
 * whole compound as typed too; models whose name holds every word come first; a limit keeps the
 * best. (Search words longer than mkdtemp's 6 random characters, so the folder name cannot
 * match by chance.) */
static void search_words(void **state)
{
    struct fx *f = *state;
    const char *names[] = {"Aplain", "DreamShaper8", "JuggernautXL_v9", "epiCRealism_naturalSin",
                           "realismBoost"};
    char p[400];
    for (size_t i = 0; i < 5; i++) {
        snprintf(p, sizeof p, "%s/%s.safetensors", f->lib, names[i]);
        write_st(p, 16, (unsigned)i + 10, i == 0 ? "description" : NULL,
                 i == 0 ? "a realism study" : NULL);
    }
    open_db(f);
    struct ckpt_scan_stats s;
    scan(f, 1, &s, CKPT_OK);
    int64_t plain = model(f, "Aplain"), dream = model(f, "DreamShaper8");
    int64_t jugg = model(f, "JuggernautXL_v9"), epic = model(f, "epiCRealism_naturalSin");
    int64_t boost = model(f, "realismBoost");
    assert_true(plain < epic && epic < boost);
    /* names cut at capitals and digits, on both stores (SQLite's ckpt_words tokenizer;
       PostgreSQL's index holds the same words: docs/search.md) */
    struct {
        const char *text;
        size_t n;
    } cases[] = {
        {"realism", 3},     /* names first (epiCRealism, realismBoost), then the metadata match */
        {"epicrealism", 1}, /* the whole compound as typed */
        {"EPICREALISM", 1}, /* case folded */
        {"natural realism", 1}, /* two pieces of one name */
        {"juggernautxl", 1},    {"JuggernautXL", 1},  {"juggern", 1},  {"dream shaper", 1},
        {"dreamshaper8", 1},    {"shaper8", 1},       {"epicreal", 0}, /* a prefix of a whole
                                                                          compound: not matched
                                                                          (docs/search.md) */
        {"Juggernaut-XL", 1},                         /* pieces in a row across punctuation */
        {"xl juggernaut", 1},   {"xl-juggernaut", 0}, /* in that order only */
    };
    int64_t want[] = {epic,  epic,  epic,  epic, jugg, jugg, jugg,
                      dream, dream, dream, 0,    jugg, jugg, 0};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t *ids;
        size_t n;
        assert_int_equal(ckpt_catalog_search(f->c, cases[i].text, &ids, &n, NULL), CKPT_OK);
        if (n != cases[i].n || (n && ids[0] != want[i]))
            fail_msg("search '%s': %zu models, first %lld", cases[i].text, n,
                     n ? (long long)ids[0] : 0LL);
        if (i == 0)
            assert_true(ids[1] == boost && ids[2] == plain);
        free(ids);
    }
    /* the best ones only: names before the older metadata match */
    int64_t *ids;
    size_t n;
    assert_int_equal(ckpt_catalog_search_top(f->c, "realism", 2, &ids, &n, NULL), CKPT_OK);
    assert_int_equal(n, 2);
    assert_int_equal(ids[0], epic);
    assert_int_equal(ids[1], boost);
    free(ids);
    /* a hostile text is words, never query syntax: no error, and it does not match every
       model (each of these would, read as syntax, or match nothing and fail) */
    char longw[5000], longp[5000];
    memset(longw, 'a', sizeof longw - 1);
    longw[sizeof longw - 1] = 0;
    for (size_t i = 0; i + 1 < sizeof longp; i++)
        longp[i] = i % 2 ? '-' : 'x'; /* 2,500 one-letter pieces in a row */
    longp[sizeof longp - 1] = 0;
    char longu[3001] = ""; /* 1,000 non-ASCII pieces in a row (PostgreSQL: the server's query) */
    for (size_t i = 0; i < 1000; i++)
        strcat(longu, "\xc3\xa9-");
    const char *hostile[] = {"'",
                             "\\",
                             "x' | 'a",
                             "a:* | s:*",
                             "'':*",
                             "! realism",
                             "(realism",
                             "realism)",
                             "a & b | c",
                             "\x01plain",
                             "\\1 \\ '",
                             "\"realism",
                             "realism\\",
                             "*",
                             "\x01",
                             "realism:*B",
                             "realism <-> boost",
                             longw,
                             longp,
                             longu};
    for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
        assert_int_equal(ckpt_catalog_search(f->c, hostile[i], &ids, &n, NULL), CKPT_OK);
        if (n >= 5)
            fail_msg("search '%.40s' matched every model", hostile[i]);
        free(ids);
    }
    char ctl[] = {'\x01', 'p', 'l', 'a', 'i', 'n', ' ', '\x01', 0};
    assert_int_equal(ckpt_catalog_search(f->c, ctl, &ids, &n, NULL), CKPT_OK);
    assert_true(n < 5);
    free(ids);
}

/* new -> unchanged -> changed -> moved -> missing, with records and user fields kept */
static void scan_lifecycle(void **state)
{
    struct fx *f = *state;
    char a[400], b[400], sub[400], junk[400], bad[400];
    snprintf(a, sizeof a, "%s/alphaMix.safetensors", f->lib);
    snprintf(b, sizeof b, "%s/betaReal.safetensors", f->lib);
    snprintf(sub, sizeof sub, "%s/sub", f->lib);
    snprintf(junk, sizeof junk, "%s/notes.txt", f->lib);
    snprintf(bad, sizeof bad, "%s/bad.ckpt", f->lib);
    write_st(a, 64, 1, "sd_merge_recipe", "{}");
    write_st(b, 64, 2, NULL, NULL);
    put(junk, "not a model");
    put(bad, "garbage that is not a checkpoint");
    mkdir(sub, 0777);
    open_db(f);
    struct ckpt_scan_stats s;
    scan(f, 0, &s, CKPT_E_FORMAT); /* bad.ckpt fails, the others are recorded */
    assert_int_equal(s.added, 3);
    assert_int_equal(s.failed, 1);
    assert_true(s.bytes_hashed > 0);
    int64_t ida = model(f, "alphaMix");
    const char *fld[] = {"note", "rating"}, *val[] = {"keep me", "4"};
    assert_int_equal(ckpt_catalog_set(f->c, ida, fld, val, 2, NULL), CKPT_OK);
    unlink(bad);

    scan(f, 0, &s, CKPT_OK);
    assert_int_equal(s.unchanged, 2);
    assert_int_equal(s.added, 0);
    assert_int_equal(s.bytes_hashed, 0);
    assert_int_equal(s.missing, 1); /* bad.ckpt */

    /* changed: new content at the same path; re-read and re-hashed */
    struct ckpt_model m;
    assert_int_equal(ckpt_catalog_model_get(f->c, model(f, "betaReal"), &m, NULL), CKPT_OK);
    char old_sha[65];
    snprintf(old_sha, sizeof old_sha, "%s", m.sha256);
    ckpt_model_release(&m);
    write_st(b, 80, 3, NULL, NULL);
    scan(f, 0, &s, CKPT_OK);
    assert_int_equal(s.changed, 1);
    assert_int_equal(ckpt_catalog_model_get(f->c, model(f, "betaReal"), &m, NULL), CKPT_OK);
    assert_string_not_equal(m.sha256, old_sha);
    ckpt_model_release(&m);

    /* moved and renamed: keeps its id, note and rating */
    char a2[400];
    snprintf(a2, sizeof a2, "%s/sub/renamed.safetensors", f->lib);
    assert_int_equal(rename(a, a2), 0);
    scan(f, 0, &s, CKPT_OK);
    assert_int_equal(s.moved, 1);
    assert_int_equal(s.added, 0);
    assert_int_equal(s.missing, 0);
    assert_int_equal(ckpt_catalog_model_get(f->c, ida, &m, NULL), CKPT_OK);
    assert_string_equal(m.path, a2);
    assert_string_equal(m.note, "keep me");
    assert_int_equal(m.rating, 4);
    assert_false(m.missing);
    ckpt_model_release(&m);

    /* gone: the record stays, marked missing; moved back later with --no-hash: found again */
    char away[400];
    snprintf(away, sizeof away, "%s/away.safetensors", f->dir);
    assert_int_equal(rename(a2, away), 0);
    scan(f, 0, &s, CKPT_OK);
    assert_int_equal(s.missing, 1);
    assert_int_equal(ckpt_catalog_model_get(f->c, ida, &m, NULL), CKPT_OK);
    assert_true(m.missing);
    assert_string_equal(m.note, "keep me");
    ckpt_model_release(&m);
    assert_int_equal(rename(away, a), 0);
    scan(f, 1, &s, CKPT_OK);
    assert_int_equal(s.moved, 1);
    assert_int_equal(ckpt_catalog_model_get(f->c, ida, &m, NULL), CKPT_OK);
    assert_false(m.missing);
    assert_non_null(m.sha256); /* hashes kept from the record */
    ckpt_model_release(&m);
    assert_int_equal(ckpt_catalog_integrity(f->c, NULL), CKPT_OK);
}

/* Sidecars become facts and suggestions; suggestions are not chosen until accepted. */
static void sidecars_and_accept(void **state)
{
    struct fx *f = *state;
    char p[400];
    snprintf(p, sizeof p, "%s/ponyRealism.safetensors", f->lib);
    write_st(p, 16, 5, NULL, NULL);
    snprintf(p, sizeof p, "%s/ponyRealism.civitai.info", f->lib);
    put(p, "{\"id\": 5, \"modelId\": 9, \"baseModel\": \"Pony\", \"trainedWords\": [\"ohwx\"],"
           " \"model\": {\"name\": \"Pony Realism\", \"type\": \"Checkpoint\","
           " \"tags\": [\"photorealistic\"]}, \"description\": \"realistic pony\"}");
    snprintf(p, sizeof p, "%s/ponyRealism.preview.png", f->lib);
    put(p, "png");
    snprintf(p, sizeof p, "%s/plain.safetensors", f->lib);
    write_st(p, 16, 6, NULL, NULL);
    snprintf(p, sizeof p, "%s/plain.civitai.info", f->lib);
    put(p, "{not json"); /* a broken sidecar is ignored */
    open_db(f);
    struct ckpt_scan_stats s;
    scan(f, 1, &s, CKPT_OK);
    assert_int_equal(s.added, 2);
    int64_t id = model(f, "ponyRealism");
    struct ckpt_model m;
    assert_int_equal(ckpt_catalog_model_get(f->c, id, &m, NULL), CKPT_OK);
    assert_string_equal(m.source, "civitai");
    assert_string_equal(m.source_url, "https://civitai.com/models/9?modelVersionId=5");
    assert_string_equal(m.trigger_words, "ohwx");
    assert_string_equal(m.description, "realistic pony");
    assert_non_null(strstr(m.preview, "ponyRealism.preview.png"));
    assert_null(m.output); /* suggested, not chosen */
    int found = 0;
    for (size_t i = 0; i < m.n_suggested; i++)
        found |= strcmp(m.suggested[i].field, "output") == 0 &&
                 strcmp(m.suggested[i].value, "photorealistic") == 0;
    assert_true(found);
    ckpt_model_release(&m);
    size_t n;
    assert_int_equal(ckpt_catalog_accept(f->c, id, NULL, 0, &n, NULL), CKPT_OK);
    assert_true(n >= 2);
    assert_int_equal(ckpt_catalog_model_get(f->c, id, &m, NULL), CKPT_OK);
    assert_string_equal(m.output, "photorealistic");
    assert_string_equal(m.ecosystem, "pony");
    ckpt_model_release(&m);
    const char *bad[] = {"colour"};
    struct ckpt_error err;
    assert_int_equal(ckpt_catalog_accept(f->c, id, bad, 1, &n, &err), CKPT_E_ARG);
    /* the plain model with a broken sidecar: recorded, no sidecar facts */
    assert_int_equal(ckpt_catalog_model_get(f->c, model(f, "plain"), &m, NULL), CKPT_OK);
    assert_null(m.source);
    assert_null(m.error);
    ckpt_model_release(&m);
}

/* The batch reader gives what ckpt_catalog_model_get gives, in the order asked, skipping ids
 * with no model, filling only the parts asked for, across more than one batch of 256 ids. */
struct each_ctx {
    struct ckpt_catalog *c;
    int64_t seen[700];
    size_t n;
    unsigned parts;
    size_t stop_after;
};

static int each_check(void *user, const struct ckpt_model *m)
{
    struct each_ctx *e = user;
    struct ckpt_model g;
    assert_int_equal(ckpt_catalog_model_get(e->c, m->id, &g, NULL), CKPT_OK);
    assert_string_equal(m->name, g.name);
    assert_string_equal(m->path, g.path);
    assert_int_equal(m->size, g.size);
    assert_int_equal(m->rating, g.rating);
    if (g.tags)
        assert_string_equal(m->tags, g.tags);
    else
        assert_null(m->tags);
    if (e->parts & CKPT_MODEL_SUGGESTED) {
        assert_int_equal(m->n_suggested, g.n_suggested);
        for (size_t i = 0; i < g.n_suggested; i++) {
            assert_string_equal(m->suggested[i].field, g.suggested[i].field);
            assert_string_equal(m->suggested[i].value, g.suggested[i].value);
        }
    } else {
        assert_int_equal(m->n_suggested, 0);
    }
    if (e->parts & CKPT_MODEL_DETAIL)
        assert_string_equal(m->metadata, g.metadata);
    else
        assert_null(m->metadata);
    ckpt_model_release(&g);
    e->seen[e->n++] = m->id;
    return e->stop_after && e->n == e->stop_after;
}

static void batched_reads(void **state)
{
    struct fx *f = *state;
    char p[400];
    for (int i = 0; i < 260; i++) { /* more than one batch */
        snprintf(p, sizeof p, "%s/%s%03d.safetensors", f->lib, i % 2 ? "AnimeMix" : "RealPhoto", i);
        write_st(p, 4, (unsigned)i + 100, i % 3 ? "ss_output_name" : NULL, "x");
    }
    open_db(f);
    struct ckpt_scan_stats s;
    scan(f, 1, &s, CKPT_OK);
    assert_int_equal(s.added, 260);
    int64_t first = model(f, "RealPhoto000");
    const char *add[] = {"b-tag", "a-tag"};
    assert_int_equal(ckpt_catalog_tag(f->c, first, add, 2, NULL, 0, NULL), CKPT_OK);
    /* every model, in id order */
    struct each_ctx e = {.c = f->c, .parts = CKPT_MODEL_ALL};
    assert_int_equal(ckpt_catalog_models_each(f->c, NULL, 0, CKPT_MODEL_ALL, each_check, &e, NULL),
                     CKPT_OK);
    assert_int_equal(e.n, 260);
    for (size_t i = 1; i < e.n; i++)
        assert_true(e.seen[i - 1] < e.seen[i]);
    /* an order of our own, with unknown ids and a repeat, listing columns only */
    int64_t ids[263];
    size_t n = 0;
    for (size_t i = 260; i > 0; i--)
        ids[n++] = e.seen[i - 1];
    ids[n++] = 999999;
    ids[n++] = e.seen[5];
    ids[n++] = -3;
    struct each_ctx r = {.c = f->c, .parts = 0};
    assert_int_equal(ckpt_catalog_models_each(f->c, ids, n, 0, each_check, &r, NULL), CKPT_OK);
    assert_int_equal(r.n, 261);
    for (size_t i = 0; i < 260; i++)
        assert_int_equal(r.seen[i], e.seen[259 - i]);
    assert_int_equal(r.seen[260], e.seen[5]);
    /* tags joined in order; a callback that stops */
    struct ckpt_model m;
    assert_int_equal(ckpt_catalog_model_get(f->c, first, &m, NULL), CKPT_OK);
    assert_string_equal(m.tags, "a-tag,b-tag");
    ckpt_model_release(&m);
    struct each_ctx st = {.c = f->c, .parts = CKPT_MODEL_SUGGESTED, .stop_after = 7};
    assert_int_equal(
        ckpt_catalog_models_each(f->c, NULL, 0, CKPT_MODEL_SUGGESTED, each_check, &st, NULL),
        CKPT_OK);
    assert_int_equal(st.n, 7);
}

/* set validates every assignment first: one bad value changes nothing, and says what is valid */
static void set_validates(void **state)
{
    struct fx *f = *state;
    char p[400];
    snprintf(p, sizeof p, "%s/m.safetensors", f->lib);
    write_st(p, 8, 7, NULL, NULL);
    open_db(f);
    struct ckpt_scan_stats s;
    scan(f, 1, &s, CKPT_OK);
    int64_t id = model(f, "m");
    const char *fld[] = {"output", "realism", "note"};
    const char *val[] = {"anime", "2D,cubist", "x"};
    struct ckpt_error err;
    assert_int_equal(ckpt_catalog_set(f->c, id, fld, val, 3, &err), CKPT_E_ARG);
    assert_non_null(strstr(err.msg, "cubist"));
    assert_non_null(strstr(err.msg, "semi-realistic"));
    struct ckpt_model m;
    assert_int_equal(ckpt_catalog_model_get(f->c, id, &m, NULL), CKPT_OK);
    assert_null(m.output);
    assert_null(m.note);
    ckpt_model_release(&m);
    const char *f2[] = {"rating"}, *v2[] = {"6"};
    assert_int_equal(ckpt_catalog_set(f->c, id, f2, v2, 1, &err), CKPT_E_ARG);
    const char *f3[] = {"colour"}, *v3[] = {"red"};
    assert_int_equal(ckpt_catalog_set(f->c, id, f3, v3, 1, &err), CKPT_E_ARG);
    const char *f4[] = {"output", "realism", "settings.cfg", "settings.sampler", "subjects"};
    const char *v4[] = {"anime", "2.5D,2D", "7", "euler a", "portraits"};
    assert_int_equal(ckpt_catalog_set(f->c, id, f4, v4, 5, &err), CKPT_OK);
    const char *add[] = {"favourite", "nsfw"}, *del[] = {"nsfw"};
    assert_int_equal(ckpt_catalog_tag(f->c, id, add, 2, del, 1, NULL), CKPT_OK);
    assert_int_equal(ckpt_catalog_model_get(f->c, id, &m, NULL), CKPT_OK);
    assert_string_equal(m.realism, "2.5D,2D");
    assert_string_equal(m.settings, "{\"cfg\":7,\"sampler\":\"euler a\"}");
    assert_string_equal(m.tags, "favourite");
    ckpt_model_release(&m);
    /* list filters and choose */
    struct ckpt_query q = {
        .output = "anime", .realism = "2D", .tag = "favourite", .include_missing = 1};
    int64_t *ids;
    size_t n;
    assert_int_equal(ckpt_catalog_list(f->c, &q, &ids, &n, NULL), CKPT_OK);
    assert_int_equal(n, 1);
    free(ids);
    q.realism = "realistic";
    assert_int_equal(ckpt_catalog_list(f->c, &q, &ids, &n, NULL), CKPT_OK);
    assert_int_equal(n, 0);
    free(ids);
    q.realism = "flat";
    assert_int_equal(ckpt_catalog_list(f->c, &q, &ids, &n, &err), CKPT_E_ARG);
    struct ckpt_wish w = {.output = "anime"};
    struct ckpt_choice *ch;
    assert_int_equal(ckpt_catalog_choose(f->c, &w, &ch, &n, NULL), CKPT_OK);
    assert_int_equal(n, 1);
    assert_non_null(strstr(ch[0].why, "output anime (chosen)"));
    ckpt_choices_free(ch, n);
    /* forget drops the record, never the file */
    assert_int_equal(ckpt_catalog_forget(f->c, id, NULL), CKPT_OK);
    assert_int_equal(ckpt_catalog_find_model(f->c, "m", &id, &err), CKPT_E_NOTFOUND);
    assert_int_equal(access(p, F_OK), 0);
}

/* export -> fresh catalog of the same files -> import -> export: the same chosen fields */
static void export_import_round_trip(void **state)
{
    struct fx *f = *state;
    char p[400];
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/model%d.safetensors", f->lib, i);
        write_st(p, 8, (unsigned)(10 + i), NULL, NULL);
    }
    open_db(f);
    struct ckpt_scan_stats s;
    scan(f, 0, &s, CKPT_OK);
    const char *fld[] = {"name",     "origin",     "output",         "realism",
                         "subjects", "rating",     "note",           "trigger_words",
                         "source",   "source_url", "settings.steps", "ecosystem"};
    const char *val[] = {"My \"Model\", one",
                         "merge",
                         "render",
                         "semi-realistic,2.8D",
                         "portraits,icons",
                         "5",
                         "line1\nline2",
                         "ohwx, sks",
                         "huggingface",
                         "https://hf.co/x",
                         "30",
                         "illustrious"};
    assert_int_equal(ckpt_catalog_set(f->c, model(f, "model1"), fld, val, 12, NULL), CKPT_OK);
    const char *add[] = {"a tag", "b"};
    assert_int_equal(ckpt_catalog_tag(f->c, model(f, "model2"), add, 2, NULL, 0, NULL), CKPT_OK);
    struct ckpt_buf e1 = {0}, e2 = {0};
    assert_int_equal(ckpt_catalog_export(f->c, CKPT_EXPORT_JSON, &e1, NULL), CKPT_OK);
    ckpt_catalog_close(f->c);
    f->c = NULL;
    fresh_db(f);
    open_db(f);
    scan(f, 0, &s, CKPT_OK);
    struct ckpt_import_stats st;
    const char *t1 = ckpt_buf_cstr(&e1);
    assert_int_equal(ckpt_catalog_import(f->c, t1, strlen(t1), &st, NULL), CKPT_OK);
    assert_int_equal(st.matched, 3);
    assert_int_equal(ckpt_catalog_export(f->c, CKPT_EXPORT_JSON, &e2, NULL), CKPT_OK);
    assert_string_equal(ckpt_buf_cstr(&e1), ckpt_buf_cstr(&e2));
    /* a malformed import changes nothing */
    const char *badimp = "[{\"sha256\":\"00\",\"output\":\"cubism\"}]";
    struct ckpt_error err;
    assert_int_equal(ckpt_catalog_import(f->c, badimp, strlen(badimp), &st, &err), CKPT_E_FORMAT);
    assert_int_equal(ckpt_catalog_import(f->c, "{", 1, &st, &err), CKPT_E_FORMAT);
    struct ckpt_buf csv = {0}, md = {0};
    assert_int_equal(ckpt_catalog_export(f->c, CKPT_EXPORT_CSV, &csv, NULL), CKPT_OK);
    assert_non_null(strstr(ckpt_buf_cstr(&csv), "\"My \"\"Model\"\", one\""));
    assert_int_equal(ckpt_catalog_export(f->c, CKPT_EXPORT_MD, &md, NULL), CKPT_OK);
    assert_non_null(strstr(ckpt_buf_cstr(&md), "| [My \"Model\", one](https://hf.co/x) |"));
    ckpt_buf_free(&e1);
    ckpt_buf_free(&e2);
    ckpt_buf_free(&csv);
    ckpt_buf_free(&md);
}

/* Read-only opens: a missing catalog is a clear error; a read-only one cannot be scanned into. */
static void readonly_and_errors(void **state)
{
    struct fx *f = *state;
    struct ckpt_error err;
    assert_int_equal(ckpt_catalog_open(&f->c, f->db, CKPT_CATALOG_READONLY, &err), CKPT_E_NOTFOUND);
    assert_non_null(strstr(err.msg, "no catalog"));
    open_db(f);
    ckpt_catalog_close(f->c);
    f->c = NULL;
    assert_int_equal(ckpt_catalog_open(&f->c, f->db, CKPT_CATALOG_READONLY, &err), CKPT_OK);
    const char *paths[] = {f->lib};
    struct ckpt_scan_stats s;
    assert_int_equal(ckpt_catalog_scan(f->c, paths, 1, NULL, &s, &err), CKPT_E_ARG);
    ckpt_catalog_close(f->c);
    f->c = NULL;
    open_db(f);
    const char *nope[] = {"/nonexistent/models"};
    assert_int_equal(ckpt_catalog_scan(f->c, nope, 1, NULL, &s, &err), CKPT_E_NOTFOUND);
    assert_non_null(strstr(err.msg, "/nonexistent/models"));
    /* (a file that is not an SQLite database has no PostgreSQL counterpart) */
    if (pg_base())
        return;
    char notdb[400];
    snprintf(notdb, sizeof notdb, "%s/notdb.sqlite", f->dir);
    put(notdb, "this is definitely not an SQLite database file, just some text......");
    struct ckpt_catalog *c2;
    assert_int_not_equal(ckpt_catalog_open(&c2, notdb, 0, &err), CKPT_OK);
    assert_non_null(strstr(err.msg, "notdb.sqlite"));
}

/* A file ckptdb made is recorded with a chosen origin and exactly the given parents (its recipe
 * would only suggest them), hashed; an invalid origin changes nothing; a rescan keeps them. */
static void record_output(void **state)
{
    struct fx *f = *state;
    open_db(f);
    char out[400];
    snprintf(out, sizeof out, "%s/mix.safetensors", f->lib);
    write_st(out, 64, 9, "sd_merge_recipe",
             "{\"type\":\"webui\",\"primary_model_hash\":\"aa\",\"secondary_model_hash\":"
             "\"bb\",\"interp_method\":\"Weighted sum\",\"multiplier\":0.5}");
    struct ckpt_parent ps[3] = {
        {"1111", "first", 0.25}, {NULL, "second", 0.75}, {NULL, "third", NAN}};
    struct ckpt_error err;
    int64_t id = 0;
    assert_int_equal(ckpt_catalog_record_output(f->c, out, "nonsense", ps, 3, 0, &id, &err),
                     CKPT_E_ARG);
    assert_int_equal(ckpt_catalog_record_output(f->c, out, "merge", ps, 3, 0, &id, &err), CKPT_OK);
    for (int pass = 0; pass < 2; pass++) {
        assert_int_equal(model(f, out), id);
        struct ckpt_model m = {0};
        assert_int_equal(ckpt_catalog_model_get(f->c, id, &m, &err), CKPT_OK);
        assert_string_equal(m.origin, "merge");
        assert_non_null(m.sha256);
        assert_int_equal(m.n_parents, 3);
        assert_string_equal(m.parents[0].sha256, "1111");
        assert_string_equal(m.parents[0].name, "first");
        assert_true(m.parents[0].weight == 0.25);
        assert_null(m.parents[1].sha256);
        assert_true(m.parents[1].weight == 0.75);
        assert_string_equal(m.parents[2].name, "third");
        assert_true(isnan(m.parents[2].weight));
        ckpt_model_release(&m);
        struct ckpt_scan_stats st;
        scan(f, 0, &st, CKPT_OK); /* unchanged: kept */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(migrates_v1, setup, teardown),
        cmocka_unit_test_setup_teardown(search_words, setup, teardown),
        cmocka_unit_test_setup_teardown(scan_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(sidecars_and_accept, setup, teardown),
        cmocka_unit_test_setup_teardown(set_validates, setup, teardown),
        cmocka_unit_test_setup_teardown(batched_reads, setup, teardown),
        cmocka_unit_test_setup_teardown(export_import_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(readonly_and_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(record_output, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
