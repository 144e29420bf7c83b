/* The catalog's database layer (lib/catalog/db.h): passwords masked in every form a URL can
 * carry them, the two backends' migration lists the same length, and the SQLite backend's
 * bind/step/column and type reporting that db copy relies on. (The PostgreSQL backend is
 * exercised end to end by tests/cli/catalog_pg.sh against a real server.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
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

static void test_sqlite_layer(void **state)
{
    (void)state;
    struct ckpt_db *db;
    assert_int_equal(ckpt_db_sqlite_open(":memory:", 0, &db), CKPT_DB_OK);
    assert_int_equal(ckpt_db_exec(db, "CREATE TABLE t(a INTEGER, b REAL, c TEXT)"), CKPT_DB_OK);
    struct ckpt_st *st;
    /* numbered and plain placeholders mixed ("?" is the largest number so far + 1: ?3 here, as
       db_pg.c's rewrite numbers it too) */
    assert_int_equal(ckpt_db_prepare(db, "INSERT INTO t(c, a, b) VALUES(?2, ?1, ?)", &st),
                     CKPT_DB_OK);
    ckpt_st_bind_i64(st, 1, INT64_C(-9000000000));
    ckpt_st_bind_double(st, 3, 0.1);
    ckpt_st_bind_text(st, 2, "x'y\"z");
    assert_int_equal(ckpt_st_step(st), CKPT_DB_DONE);
    ckpt_st_reset(st);
    ckpt_st_bind_null(st, 1);
    ckpt_st_bind_text(st, 2, NULL);
    assert_int_equal(ckpt_st_step(st), CKPT_DB_DONE);
    ckpt_st_finalize(st);
    assert_int_equal(ckpt_db_prepare(db, "SELECT a, b, c FROM t ORDER BY rowid", &st), CKPT_DB_OK);
    assert_int_equal(ckpt_st_step(st), CKPT_DB_ROW);
    assert_int_equal(db->ops->col_count(st), 3);
    assert_string_equal(db->ops->col_name(st, 1), "b");
    assert_int_equal(db->ops->col_type(st, 0), CKPT_DB_T_INT);
    assert_int_equal(db->ops->col_type(st, 1), CKPT_DB_T_REAL);
    assert_int_equal(db->ops->col_type(st, 2), CKPT_DB_T_TEXT);
    assert_true(ckpt_st_i64(st, 0) == INT64_C(-9000000000));
    assert_true(ckpt_st_double(st, 1) == 0.1);
    assert_string_equal(ckpt_st_text(st, 2), "x'y\"z");
    assert_int_equal(ckpt_st_step(st), CKPT_DB_ROW);
    assert_true(ckpt_st_null(st, 0));
    assert_int_equal(db->ops->col_type(st, 2), CKPT_DB_T_NULL);
    assert_int_equal(ckpt_st_step(st), CKPT_DB_DONE);
    ckpt_st_finalize(st);
    /* errors map to the layer's codes */
    assert_int_equal(ckpt_db_exec(db, "CREATE TABLE u(k TEXT PRIMARY KEY)"), CKPT_DB_OK);
    assert_int_equal(ckpt_db_exec(db, "INSERT INTO u VALUES('a')"), CKPT_DB_OK);
    assert_int_equal(ckpt_db_exec(db, "INSERT INTO u VALUES('a')"), CKPT_DB_ECONSTRAINT);
    assert_non_null(db->ops->errmsg(db));
    db->ops->close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mask),
        cmocka_unit_test(test_migrations_paired),
        cmocka_unit_test(test_sqlite_layer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
