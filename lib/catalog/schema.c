/* The catalog's schema: numbered migrations applied in order, the version kept in
 * PRAGMA user_version. Migration N's SQL never changes once released; a new need is a new
 * migration. This file is for the schema only, not for queries (model.c, query.c). */
#include <stdio.h>
#include <string.h>

#include "catalog/internal.h"

static const char *const migrations[] = {
    /* 1: files (measured), models (chosen), tags, suggestions, merge parents */
    "CREATE TABLE models(\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  name TEXT NOT NULL,\n"
    "  origin TEXT, output TEXT, realism TEXT, subjects TEXT, ecosystem TEXT,\n"
    "  source TEXT, source_url TEXT, rating INTEGER, note TEXT, trigger_words TEXT,\n"
    "  settings TEXT NOT NULL DEFAULT '{}',\n"
    "  description TEXT, preview TEXT,\n"
    "  created_ns INTEGER NOT NULL, updated_ns INTEGER NOT NULL);\n"
    "CREATE TABLE files(\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,\n"
    "  host TEXT NOT NULL, path TEXT NOT NULL, is_dir INTEGER NOT NULL DEFAULT 0,\n"
    "  size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, dev INTEGER NOT NULL,\n"
    "  ino INTEGER NOT NULL,\n"
    "  format TEXT, kind TEXT, network TEXT, family TEXT, ecosystem TEXT, variant TEXT,\n"
    "  prediction TEXT, precision TEXT, components TEXT,\n"
    "  tensor_count INTEGER, parameter_count INTEGER,\n"
    "  fingerprint TEXT, sha256 TEXT, autov1 TEXT, autov2 TEXT, autov3 TEXT, crc32 TEXT,\n"
    "  blake3 TEXT,\n"
    "  safety TEXT, problems TEXT, evidence TEXT, metadata TEXT, error TEXT,\n"
    "  sidecars TEXT, site_tags TEXT, site_base_model TEXT,\n"
    "  missing INTEGER NOT NULL DEFAULT 0, scanned_ns INTEGER NOT NULL,\n"
    "  UNIQUE(host, path));\n"
    "CREATE INDEX files_model ON files(model_id);\n"
    "CREATE INDEX files_sha256 ON files(sha256);\n"
    "CREATE INDEX files_fingerprint ON files(fingerprint);\n"
    "CREATE TABLE tags(\n"
    "  model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,\n"
    "  tag TEXT NOT NULL, PRIMARY KEY(model_id, tag)) WITHOUT ROWID;\n"
    "CREATE TABLE suggestions(\n"
    "  model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,\n"
    "  field TEXT NOT NULL, value TEXT NOT NULL, confidence REAL NOT NULL, why TEXT NOT NULL,\n"
    "  PRIMARY KEY(model_id, field, value)) WITHOUT ROWID;\n"
    "CREATE TABLE parents(\n"
    "  model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,\n"
    "  seq INTEGER NOT NULL, sha256 TEXT, name TEXT, weight REAL,\n"
    "  PRIMARY KEY(model_id, seq)) WITHOUT ROWID;\n",

    /* 2: full-text search (FTS5) over names, paths, notes, tags, trigger words, descriptions
       and metadata, filled from what v1 databases hold; indexes for list's common filters */
    "CREATE VIRTUAL TABLE model_fts USING fts5(name, note, tags, trigger_words, description,\n"
    "  metadata, tokenize = \"unicode61 tokenchars '_'\");\n"
    "INSERT INTO model_fts(rowid, name, note, tags, trigger_words, description, metadata)\n"
    "  SELECT m.id,\n"
    "    m.name || ' ' || coalesce((SELECT group_concat(path, ' ') FROM files f\n"
    "                              WHERE f.model_id = m.id), ''),\n"
    "    m.note, (SELECT group_concat(tag, ' ') FROM tags t WHERE t.model_id = m.id),\n"
    "    m.trigger_words, m.description,\n"
    "    (SELECT group_concat(coalesce(metadata, '') || ' ' || coalesce(site_tags, ''), ' ')\n"
    "       FROM files f WHERE f.model_id = m.id)\n"
    "  FROM models m;\n"
    "CREATE INDEX files_kind_family ON files(kind, family, model_id, missing);\n"
    "CREATE INDEX models_output ON models(output);\n"
    "CREATE INDEX models_rating ON models(rating);\n",
    /* 3: the safety checker's findings beside its verdict, so `show` can say why */
    "ALTER TABLE files ADD COLUMN safety_findings TEXT;\n",
    /* 4: a model's file in the order records are read by (present first, then oldest), so a
       batch read finds each model's file with one index step instead of a sort per model */
    "CREATE INDEX files_model_missing ON files(model_id, missing, id);\n"
    "DROP INDEX files_model;\n",
    /* 5: lineage fingerprints (issue 9): per file its family and the folded sketches the
       pre-filter reads for every model (small rows, read together), and apart the full
       fingerprint blob read for the nearest few */
    "CREATE TABLE lineage(\n"
    "  file_id INTEGER PRIMARY KEY REFERENCES files(id) ON DELETE CASCADE,\n"
    "  family TEXT NOT NULL, fold BLOB NOT NULL);\n"
    "CREATE INDEX lineage_family ON lineage(family);\n"
    "CREATE TABLE lineage_fp(\n"
    "  file_id INTEGER PRIMARY KEY REFERENCES files(id) ON DELETE CASCADE,\n"
    "  fp BLOB NOT NULL);\n",
    /* 6: organize's journal: every step of a run is written here before any file is touched, so
       a killed run can be finished (--resume) or reverted (--undo) */
    "CREATE TABLE organize_runs(\n"
    "  id INTEGER PRIMARY KEY, host TEXT NOT NULL, started_ns INTEGER NOT NULL,\n"
    "  into_dir TEXT NOT NULL, layout TEXT NOT NULL, mode TEXT NOT NULL, state TEXT NOT NULL);\n"
    "CREATE TABLE organize_steps(\n"
    "  run_id INTEGER NOT NULL REFERENCES organize_runs(id) ON DELETE CASCADE,\n"
    "  seq INTEGER NOT NULL, file_id INTEGER, model_id INTEGER, role TEXT NOT NULL,\n"
    "  is_dir INTEGER NOT NULL DEFAULT 0, src TEXT NOT NULL, dst TEXT NOT NULL, sha256 TEXT,\n"
    "  state TEXT NOT NULL, note TEXT, PRIMARY KEY(run_id, seq)) WITHOUT ROWID;\n",
};

#define N_MIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

int ckpt_catalog_schema_current(void)
{
    return N_MIGRATIONS;
}

const char *ckpt_catalog_migration_sql(int n)
{
    return n >= 1 && n <= N_MIGRATIONS ? migrations[n - 1] : NULL;
}

int ckpt_catalog_schema_version(struct ckpt_catalog *c)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(c->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return -1;
    int v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    return v;
}

/* Bring the database to the current version, one transaction per migration (each leaves a
 * database some version of ckptdb can read). */
int ckpt_cat_migrate(struct ckpt_catalog *c, struct ckpt_error *err);
int ckpt_cat_migrate(struct ckpt_catalog *c, struct ckpt_error *err)
{
    int v = ckpt_catalog_schema_version(c);
    if (v < 0)
        return ckpt_error_setf(err, CKPT_E_FORMAT, c->path, "not an SQLite database (%s)",
                               sqlite3_errmsg(c->db));
    if (v > N_MIGRATIONS)
        return ckpt_error_setf(err, CKPT_E_UNSUPPORTED, c->path,
                               "catalog schema version %d is newer than this ckptdb's (%d); "
                               "use a newer ckptdb",
                               v, N_MIGRATIONS);
    if (v == N_MIGRATIONS)
        return CKPT_OK;
    if (c->readonly)
        return ckpt_error_setf(err, CKPT_E_ARG, c->path,
                               "catalog schema version %d needs upgrading to %d, which a "
                               "read-only open cannot do",
                               v, N_MIGRATIONS);
    for (int n = v + 1; n <= N_MIGRATIONS; n++) {
        int rc = ckpt_cat_begin(c, err);
        if (rc)
            return rc;
        rc = ckpt_cat_exec(c, migrations[n - 1], err);
        if (!rc) {
            char sql[64];
            snprintf(sql, sizeof sql, "PRAGMA user_version = %d", n);
            rc = ckpt_cat_exec(c, sql, err);
        }
        if (!rc)
            rc = ckpt_cat_commit(c, err);
        if (rc) {
            ckpt_cat_rollback(c);
            return rc;
        }
    }
    return CKPT_OK;
}
