/* The catalog's database layer (lib/catalog/db.h): passwords masked in every form a URL can
 * carry them, the two backends' migration lists the same length, and the SQLite backend's
 * bind/step/column and type reporting that db copy relies on, on SQLite and, given
 * CKPT_TEST_PG_URL (a cluster's base URL; tests/cli/catalog_pg_tools.sh passes it), on
 * PostgreSQL; libpq's messages about a malformed URL keep its password out (no server needed).
 * (The PostgreSQL backend is exercised end to end by tests/cli/catalog_pg*.sh.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/db.h"
#include "ckptdb/catalog.h"

static void check_mask(const char *in, const char *want)
{
    char *m = ckpt_db_mask_url(in);
    assert_non_null(m);
    assert_string_equal(m, want);
    free(m);
}

static void test_mask(void **state)
{
    (void)state;
    check_mask("postgresql://ckpt:secret@nas/db", "postgresql://ckpt:***@nas/db");
    check_mask("postgres://u:p@h:5432/db?sslmode=require",
               "postgres://u:***@h:5432/db?sslmode=require");
    check_mask("postgresql://ckpt@nas:5432/db", "postgresql://ckpt@nas:5432/db");
    check_mask("postgresql://nas:5432/db", "postgresql://nas:5432/db");
    check_mask("postgresql://u:p@ss@nas/db", "postgresql://u:***@nas/db");
    check_mask("postgresql://nas/db?password=hunter2&sslmode=require",
               "postgresql://nas/db?password=***&sslmode=require");
    check_mask("postgresql://nas/db?sslmode=require&password=hunter2",
               "postgresql://nas/db?sslmode=require&password=***");
    check_mask("postgresql:///db?host=%2Ftmp", "postgresql:///db?host=%2Ftmp");
    check_mask("postgresql://a:@h/d?password=&password=x",
               "postgresql://a:***@h/d?password=***&password=***");
    char *shown = ckpt_catalog_display_name("/home/me/catalog.sqlite");
    assert_string_equal(shown, "/home/me/catalog.sqlite");
    free(shown);
    assert_true(ckpt_catalog_is_remote("postgres://x/y"));
    assert_false(ckpt_catalog_is_remote("/tmp/postgresql://x"));
}

static void test_migrations_paired(void **state)
{
    (void)state;
    int n = ckpt_db_migration_count();
    assert_int_equal(n, ckpt_catalog_schema_current());
    for (int i = 1; i <= n; i++) {
        assert_non_null(ckpt_db_migration(CKPT_DB_SQLITE, i));
        assert_non_null(ckpt_db_migration(CKPT_DB_PG, i));
    }
    assert_null(ckpt_db_migration(CKPT_DB_PG, n + 1));
}

/* What db copy and the catalog rely on, the same on both backends: numbered and plain
   placeholders, types of the values read back, NULLs, blobs, errors mapped to the codes. */
static void check_layer(struct ckpt_db *db)
{
    /* a temporary table and types both stores take (SQLite reads DOUBLE PRECISION as REAL and
       keeps a blob as it is in a BYTEA column) */
    assert_int_equal(ckpt_db_exec(db, "CREATE TEMP TABLE t(a BIGINT, b DOUBLE PRECISION,"
                                      " c TEXT, d BYTEA)"),
                     CKPT_DB_OK);
    struct ckpt_st *st;
    /* numbered and plain placeholders mixed ("?" is the largest number so far + 1: ?3 here, as
       db_pg.c's rewrite numbers it too) */
    assert_int_equal(ckpt_db_prepare(db, "INSERT INTO t(c, a, b, d) VALUES(?2, ?1, ?, ?)", &st),
                     CKPT_DB_OK);
    static const unsigned char bytes[] = {0, 1, 0x5c, 0x27, 0xff, 0x78};
    ckpt_st_bind_i64(st, 1, INT64_C(-9000000000));
    ckpt_st_bind_double(st, 3, 0.1);
    ckpt_st_bind_text(st, 2, "x'y\"z?");
    ckpt_st_bind_blob(st, 4, bytes, sizeof bytes);
    assert_int_equal(ckpt_st_step(st), CKPT_DB_DONE);
    ckpt_st_reset(st);
    ckpt_st_bind_null(st, 1);
    ckpt_st_bind_text(st, 2, NULL);
    ckpt_st_bind_null(st, 4);
    assert_int_equal(ckpt_st_step(st), CKPT_DB_DONE);
    ckpt_st_finalize(st);
    assert_int_equal(ckpt_db_prepare(db, "SELECT a, b, c, d FROM t ORDER BY a IS NULL", &st),
                     CKPT_DB_OK);
    assert_int_equal(ckpt_st_step(st), CKPT_DB_ROW);
    assert_int_equal(db->ops->col_count(st), 4);
    assert_string_equal(db->ops->col_name(st, 1), "b");
    assert_int_equal(db->ops->col_type(st, 0), CKPT_DB_T_INT);
    assert_int_equal(db->ops->col_type(st, 1), CKPT_DB_T_REAL);
    assert_int_equal(db->ops->col_type(st, 2), CKPT_DB_T_TEXT);
    assert_int_equal(db->ops->col_type(st, 3), CKPT_DB_T_BLOB);
    assert_true(ckpt_st_i64(st, 0) == INT64_C(-9000000000));
    assert_true(ckpt_st_double(st, 1) == 0.1);
    assert_string_equal(ckpt_st_text(st, 2), "x'y\"z?");
    size_t n = 0;
    const void *p = ckpt_st_blob(st, 3, &n);
    assert_int_equal(n, sizeof bytes);
    assert_memory_equal(p, bytes, sizeof bytes);
    assert_int_equal(ckpt_st_step(st), CKPT_DB_ROW);
    assert_true(ckpt_st_null(st, 0));
    assert_int_equal(db->ops->col_type(st, 2), CKPT_DB_T_NULL);
    assert_null(ckpt_st_blob(st, 3, &n));
    assert_int_equal(n, 0);
    assert_int_equal(ckpt_st_step(st), CKPT_DB_DONE);
    ckpt_st_finalize(st);
    /* errors map to the layer's codes */
    assert_int_equal(ckpt_db_exec(db, "CREATE TEMP TABLE u(k TEXT PRIMARY KEY)"), CKPT_DB_OK);
    assert_int_equal(ckpt_db_exec(db, "INSERT INTO u VALUES('a')"), CKPT_DB_OK);
    assert_int_equal(ckpt_db_exec(db, "INSERT INTO u VALUES('a')"), CKPT_DB_ECONSTRAINT);
    assert_non_null(db->ops->errmsg(db));
}

static void test_sqlite_layer(void **state)
{
    (void)state;
    struct ckpt_db *db;
    assert_int_equal(ckpt_db_sqlite_open(":memory:", 0, &db), CKPT_DB_OK);
    check_layer(db);
    db->ops->close(db);
}

static void test_pg_layer(void **state)
{
    (void)state;
    const char *base = getenv("CKPT_TEST_PG_URL");
    if (!base || !*base)
        skip();
    char url[400];
    snprintf(url, sizeof url, "%s/postgres", base);
    struct ckpt_db *db = NULL;
    if (ckpt_db_pg_open(url, 0, &db) != CKPT_DB_OK)
        fail_msg("%s: %s", url, db ? db->ops->errmsg(db) : "out of memory");
    check_layer(db);
    db->ops->close(db);
}

/* libpq quotes a malformed token, or the whole URL, in its message: the password never shows
   (as written or percent-decoded), whatever else the message says */
static void check_scrubbed(const char *url, const char *secret, const char *secret2)
{
    struct ckpt_db *db = NULL;
    assert_int_equal(ckpt_db_pg_open(url, 0, &db), CKPT_DB_ECANTOPEN);
    assert_non_null(db);
    const char *m = db->ops->errmsg(db);
    if (strstr(m, secret) || (secret2 && strstr(m, secret2)) || !strstr(m, "***"))
        fail_msg("%s: %s", url, m);
    db->ops->close(db);
}

static void test_pg_messages_scrubbed(void **state)
{
    (void)state;
    check_scrubbed("postgresql://ckpt:s3%zzcr3t@localhost/db", "s3%zzcr3t", NULL);
    check_scrubbed("postgresql://ckpt@localhost/db?password=s3%zzcr3t", "s3%zzcr3t", NULL);
    check_scrubbed("postgresql://ckpt:s3cr3t@[::1/db", "s3cr3t", NULL);
    check_scrubbed("postgresql://ckpt:s3%41cr3t@[::1/db", "s3%41cr3t", "s3Acr3t");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mask),
        cmocka_unit_test(test_migrations_paired),
        cmocka_unit_test(test_sqlite_layer),
        cmocka_unit_test(test_pg_layer),
        cmocka_unit_test(test_pg_messages_scrubbed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
