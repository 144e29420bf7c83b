/* The catalog's schema: numbered migrations applied in order, the version kept in
 * PRAGMA user_version (SQLite) or the table ckpt_schema (PostgreSQL), each migration written
 * once per backend, side by side. Migration N's SQL never changes once released; a new need is a
 * new migration. This file is for the schema only, not for queries (model.c, query.c). */
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
    "  metadata, tokenize = \"unicode61 tokenchars '_'\");\n" CKPT_FTS_FILL ";\n"
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
    /* 7: the search index cuts names into words (EpicRealism -> epic, realism: the tokenizer
       ckpt_words of db_sqlite_words.c), so that a prefix word expands to a few index terms */
    "DROP TABLE model_fts;\n"
    "CREATE VIRTUAL TABLE model_fts USING fts5(name, note, tags, trigger_words, description,\n"
    "  metadata, tokenize = 'ckpt_words');\n" CKPT_FTS_FILL ";\n",
    /* 8: a model named on the command line (`show NAME`, `lineage NAME`) is found by an index
       step, not a scan of every model (50 M instructions at 100,000 models) */
    "CREATE INDEX models_name ON models(name);\n",
    /* 9: a model's kind and family beside its chosen fields (the values of its file shown
       first; every file of a model holds the same content), under one index with output and
       name: `list --kind K --family F --output O` is one range of that index, sorted by name
       from the index (at 1,000,000 models the join of files and models read 55,000 model
       rows for 4,537 results: 280 ms) */
    "ALTER TABLE models ADD COLUMN kind TEXT;\n"
    "ALTER TABLE models ADD COLUMN family TEXT;\n" CKPT_MODEL_KIND_FILL ";\n"
    "CREATE INDEX models_kind_family ON models(kind, family, output, name);\n",
    /* 10: prefix indexes for search words of 2 to 8 characters. FTS5 answers a prefix query
       ("epic"*) by merging the lists of every matching term into one buffer before the first
       row, so the cost followed how many models hold the word, not the 50 a table shows; with
       an index for the word's length it is one list read in order, stopped at the limit. At
       1,000,000 models `search epic dream` went from 44 to 19-30 ms of CPU, `search trained`
       from 85 to 40 (the index is 4.5 times larger: 87 -> 391 MB there, about 4 MB at 10,000
       models). Longer words (juggernaut) still merge, over the few terms that start so. */
    "DROP TABLE model_fts;\n"
    "CREATE VIRTUAL TABLE model_fts USING fts5(name, note, tags, trigger_words, description,\n"
    "  metadata, tokenize = 'ckpt_words', prefix = '2 3 4 5 6 7 8');\n" CKPT_FTS_FILL ";\n",
    /* 11: PostgreSQL's search index takes the words of SQLite's (its migration 11); SQLite's
       has them since 7: nothing to do */
    "SELECT 1;\n",
    /* 12: PostgreSQL's list index takes the lower-cased name the list sorts by; SQLite reads
       the 4,537 ids of `list --kind --family --output` from its covering index (9) and sorts
       them in a temporary b-tree in under a millisecond (given an index on lower(name) too,
       its planner keeps the covering one): nothing to do */
    "SELECT 1;\n",
};

/* The same migrations for PostgreSQL, number for number (a new SQLite migration needs its
   PostgreSQL twin here). Text columns use the "C" collation so that sorting is by bytes, as
   SQLite's BINARY; 64-bit integers are BIGINT; ids are identity columns. Migration 1 also
   defines the two SQLite functions the shared queries use (group_concat, instr). */
#define T " TEXT COLLATE \"C\""
static const char *const pg_migrations[] = {
    "CREATE FUNCTION ckpt_concat_step(acc text, v text, sep text) RETURNS text\n"
    "  LANGUAGE sql IMMUTABLE AS $$SELECT CASE WHEN v IS NULL THEN acc WHEN acc IS NULL\n"
    "  THEN v ELSE acc || sep || v END$$;\n"
    "CREATE FUNCTION ckpt_concat_step(acc text, v text) RETURNS text\n"
    "  LANGUAGE sql IMMUTABLE AS $$SELECT ckpt_concat_step(acc, v, ',')$$;\n"
    "CREATE AGGREGATE group_concat(text, text) (SFUNC = ckpt_concat_step, STYPE = text);\n"
    "CREATE AGGREGATE group_concat(text) (SFUNC = ckpt_concat_step, STYPE = text);\n"
    "CREATE FUNCTION instr(text, text) RETURNS integer\n"
    "  LANGUAGE sql IMMUTABLE AS $$SELECT strpos($1, $2)$$;\n"
    "CREATE TABLE models(\n"
    "  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,\n"
    "  name" T " NOT NULL,\n"
    "  origin" T ", output" T ", realism" T ", subjects" T ", ecosystem" T ",\n"
    "  source" T ", source_url" T ", rating INTEGER, note" T ", trigger_words" T ",\n"
    "  settings" T " NOT NULL DEFAULT '{}',\n"
    "  description" T ", preview" T ",\n"
    "  created_ns BIGINT NOT NULL, updated_ns BIGINT NOT NULL);\n"
    "CREATE TABLE files(\n"
    "  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,\n"
    "  model_id BIGINT NOT NULL REFERENCES models(id) ON DELETE CASCADE,\n"
    "  host" T " NOT NULL, path" T " NOT NULL, is_dir INTEGER NOT NULL DEFAULT 0,\n"
    "  size BIGINT NOT NULL, mtime_ns BIGINT NOT NULL, dev BIGINT NOT NULL,\n"
    "  ino BIGINT NOT NULL,\n"
    "  format" T ", kind" T ", network" T ", family" T ", ecosystem" T ", variant" T ",\n"
    "  prediction" T ", precision" T ", components" T ",\n"
    "  tensor_count BIGINT, parameter_count BIGINT,\n"
    "  fingerprint" T ", sha256" T ", autov1" T ", autov2" T ", autov3" T ", crc32" T ",\n"
    "  blake3" T ",\n"
    "  safety" T ", problems" T ", evidence" T ", metadata" T ", error" T ",\n"
    "  sidecars" T ", site_tags" T ", site_base_model" T ",\n"
    "  missing INTEGER NOT NULL DEFAULT 0, scanned_ns BIGINT NOT NULL,\n"
    "  UNIQUE(host, path));\n"
    "CREATE INDEX files_model ON files(model_id);\n"
    "CREATE INDEX files_sha256 ON files(sha256);\n"
    "CREATE INDEX files_fingerprint ON files(fingerprint);\n"
    "CREATE TABLE tags(\n"
    "  model_id BIGINT NOT NULL REFERENCES models(id) ON DELETE CASCADE,\n"
    "  tag" T " NOT NULL, PRIMARY KEY(model_id, tag));\n"
    "CREATE TABLE suggestions(\n"
    "  model_id BIGINT NOT NULL REFERENCES models(id) ON DELETE CASCADE,\n"
    "  field" T " NOT NULL, value" T " NOT NULL, confidence DOUBLE PRECISION NOT NULL,\n"
    "  why" T " NOT NULL, PRIMARY KEY(model_id, field, value));\n"
    "CREATE TABLE parents(\n"
    "  model_id BIGINT NOT NULL REFERENCES models(id) ON DELETE CASCADE,\n"
    "  seq INTEGER NOT NULL, sha256" T ", name" T ", weight DOUBLE PRECISION,\n"
    "  PRIMARY KEY(model_id, seq));\n"
    /* the change counter readers cache by (ckpt_catalog_changes): a sequence, which takes no
       lock, advanced once per statement that changes what a listing shows */
    "CREATE SEQUENCE ckpt_changes;\n"
    "CREATE FUNCTION ckpt_changed() RETURNS trigger LANGUAGE plpgsql AS\n"
    "  $$BEGIN PERFORM nextval('ckpt_changes'); RETURN NULL; END$$;\n"
    "CREATE TRIGGER models_changed AFTER INSERT OR UPDATE OR DELETE ON models\n"
    "  FOR EACH STATEMENT EXECUTE FUNCTION ckpt_changed();\n"
    "CREATE TRIGGER files_changed AFTER INSERT OR UPDATE OR DELETE ON files\n"
    "  FOR EACH STATEMENT EXECUTE FUNCTION ckpt_changed();\n"
    "CREATE TRIGGER tags_changed AFTER INSERT OR UPDATE OR DELETE ON tags\n"
    "  FOR EACH STATEMENT EXECUTE FUNCTION ckpt_changed();\n"
    "CREATE TRIGGER suggestions_changed AFTER INSERT OR UPDATE OR DELETE ON suggestions\n"
    "  FOR EACH STATEMENT EXECUTE FUNCTION ckpt_changed();\n",

    /* 2: the search table (the same columns as SQLite's FTS5 table, keyed by rowid) with one
       lower-cased document per model under a trigram index: search matches each word at the
       start of a word of the document with a regular expression the index serves */
    "CREATE EXTENSION IF NOT EXISTS pg_trgm;\n"
    "CREATE TABLE model_fts(\n"
    "  rowid BIGINT PRIMARY KEY REFERENCES models(id) ON DELETE CASCADE,\n"
    "  name" T ", note" T ", tags" T ", trigger_words" T ", description" T ", metadata" T ",\n"
    "  doc" T " GENERATED ALWAYS AS (lower(coalesce(name, '') || ' ' || coalesce(note, '')\n"
    "    || ' ' || coalesce(tags, '') || ' ' || coalesce(trigger_words, '') || ' '\n"
    "    || coalesce(description, '') || ' ' || coalesce(metadata, ''))) STORED);\n"
    "CREATE INDEX model_fts_doc ON model_fts USING gin (doc gin_trgm_ops);\n"
    /* filled from what a v1 database holds, as SQLite's (group_concat: migration 1) */
    CKPT_FTS_FILL ";\n"
    "CREATE INDEX files_kind_family ON files(kind, family, model_id, missing);\n"
    "CREATE INDEX models_output ON models(output);\n"
    "CREATE INDEX models_rating ON models(rating);\n",
    /* 3 */
    "ALTER TABLE files ADD COLUMN safety_findings" T ";\n",
    /* 4 */
    "CREATE INDEX files_model_missing ON files(model_id, missing, id);\n"
    "DROP INDEX files_model;\n",
    /* 5: blobs are bytea */
    "CREATE TABLE lineage(\n"
    "  file_id BIGINT PRIMARY KEY REFERENCES files(id) ON DELETE CASCADE,\n"
    "  family" T " NOT NULL, fold BYTEA NOT NULL);\n"
    "CREATE INDEX lineage_family ON lineage(family);\n"
    "CREATE TABLE lineage_fp(\n"
    "  file_id BIGINT PRIMARY KEY REFERENCES files(id) ON DELETE CASCADE,\n"
    "  fp BYTEA NOT NULL);\n",
    /* 6 */
    "CREATE TABLE organize_runs(\n"
    "  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, host" T " NOT NULL,\n"
    "  started_ns BIGINT NOT NULL, into_dir" T " NOT NULL, layout" T " NOT NULL,\n"
    "  mode" T " NOT NULL, state" T " NOT NULL);\n"
    "CREATE TABLE organize_steps(\n"
    "  run_id BIGINT NOT NULL REFERENCES organize_runs(id) ON DELETE CASCADE,\n"
    "  seq INTEGER NOT NULL, file_id BIGINT, model_id BIGINT, role" T " NOT NULL,\n"
    "  is_dir INTEGER NOT NULL DEFAULT 0, src" T " NOT NULL, dst" T " NOT NULL, sha256" T ",\n"
    "  state" T " NOT NULL, note" T ", PRIMARY KEY(run_id, seq));\n",
    /* 7: SQLite's search tokenizer; PostgreSQL's trigram search is unchanged */
    "SELECT 1;\n",
    /* 8 */
    "CREATE INDEX models_name ON models(name);\n",
    /* 9: the id too (SQLite's indexes hold the row id), so that the list is an index-only
       scan: 4 ms for 4,537 rows at 1,000,000 models, against 228 ms through the table */
    "ALTER TABLE models ADD COLUMN kind" T ";\n"
    "ALTER TABLE models ADD COLUMN family" T ";\n" CKPT_MODEL_KIND_FILL ";\n"
    "CREATE INDEX models_kind_family ON models(kind, family, output, name) INCLUDE (id);\n",
    /* 10: SQLite's search prefix indexes; nothing here */
    "SELECT 1;\n",
    /* 11: the search index holds the words SQLite's FTS5 tokenizer makes (db_sqlite_words.c:
       text cut at ASCII punctuation, spaces and controls; an ASCII word also where letters meet
       digits and at capitals, EpicRealism -> epic, realism, each piece at its position; the
       whole lower-cased word of a cut one marked with 0x01, without position) as tsvectors
       under GIN indexes, one of the name column (the name tier) and one of every column. A
       prefix query is answered from the index with no recheck, and the planner can walk rowid
       order and stop at the limit when matches are dense (the statistics of the two columns
       tell it: ANALYZE; with the default target of 100 a word the statistics do not hold was
       guessed at half the rarest one's frequency, 2.5% of the rows, and the walk went through
       the whole table for a word that matches nothing: 0.4 s at 100,000; with 1000 the guess
       is ~0.02% and such a word is looked up in the index). The trigram document and its regexes
       rechecked every candidate: 0.5-1 s at 100,000 records, 1.2-3.7 s at 1,000,000.
       ckpt_search_text: separators become one space, cut points 0x02 (lookarounds on ASCII
       letters and digits; a text with non-ASCII characters takes the slower form that also
       requires the whole word to be ASCII, as SQLite's tokenizer does), lower-cased with the
       database's collation; the first 150,000 characters (keeps a tsvector under its 1 MB).
       ckpt_words: its pieces with positions and its cut words marked; no piece can hold a
       quote or backslash (separators), so the tsvector text needs no escapes; pieces of 2047
       bytes or more (over tsvector's limit) are left out. ckpt_word_query: one search word the
       same way: its pieces in a row, the last a prefix, or its whole form exactly; NULL
       (matches nothing, as an FTS5 phrase without tokens) when it has no piece, and when it has
       more than 256 (CKPT_WORDS_MAX_PIECES: a longer phrase nests deeper than the server's
       stack allows). PL/pgSQL, not SQL: a SQL function is parsed and planned again in
       every statement that calls it (a scan's insert of a model's search row per model: 0.37
       ms a call against 0.11 ms; 500 new files scanned in 0.85 s instead of 0.55 s before this
       migration), PL/pgSQL keeps its plans for the session. */
    "CREATE FUNCTION ckpt_search_text(doc text) RETURNS text\n"
    "  LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $f$\n"
    "DECLARE\n"
    "  s text := btrim(regexp_replace(left(doc, 150000),\n"
    "    '[\\x01-\\x2f\\x3a-\\x40\\x5b-\\x60\\x7b-\\x7f]+', ' ', 'g'));\n"
    "BEGIN\n"
    "  RETURN lower(regexp_replace(s, CASE WHEN s ~ '[^\\x01-\\x7f]' THEN\n"
    "      '(?<=(?:^| )[0-9A-Za-z]*)(?:(?<=[0-9])(?=[A-Za-z])|(?<=[A-Za-z])(?=[0-9])|'\n"
    "      '(?<=[A-Za-z])(?=[A-Z][a-z])|(?<=[a-z])(?=[A-Z]{2,}(?:[0-9]| |$)))'\n"
    "      '(?=[0-9A-Za-z]*(?: |$))'\n"
    "    ELSE '(?<=[0-9])(?=[A-Za-z])|(?<=[A-Za-z])(?=[0-9])|(?<=[A-Za-z])(?=[A-Z][a-z])|'\n"
    "      '(?<=[a-z])(?=[A-Z]{2,}(?:[0-9]| |$))' END, E'\\x02', 'g') COLLATE \"default\");\n"
    "END\n"
    "$f$;\n"
    "CREATE FUNCTION ckpt_words(doc text) RETURNS tsvector\n"
    "  LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $f$\n"
    "DECLARE\n"
    "  c text := ckpt_search_text(doc);\n"
    "BEGIN\n"
    "  RETURN (coalesce((SELECT string_agg('''' || p || ''':' || i, ' ')\n"
    "      FROM unnest(string_to_array(replace(c, E'\\x02', ' '), ' '))\n"
    "        WITH ORDINALITY AS u(p, i)\n"
    "      WHERE octet_length(p) < 2047), '')\n"
    "    || ' ' || coalesce((SELECT string_agg('''' || E'\\x01' || w || '''', ' ')\n"
    "      FROM (SELECT replace(e, E'\\x02', '') AS w FROM unnest(string_to_array(c, ' ')) AS e\n"
    "            WHERE strpos(e, E'\\x02') > 0) x WHERE octet_length(w) < 256), ''))::tsvector;\n"
    "END\n"
    "$f$;\n"
    "CREATE FUNCTION ckpt_word_query(word text) RETURNS tsquery\n"
    "  LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $f$\n"
    "DECLARE\n"
    "  c text := ckpt_search_text(word);\n"
    "  ps text[] := string_to_array(replace(c, E'\\x02', ' '), ' ');\n"
    "  w text := replace(replace(c, ' ', ''), E'\\x02', '');\n"
    "BEGIN\n"
    "  IF cardinality(ps) NOT BETWEEN 1 AND 256\n"
    "     OR (SELECT max(octet_length(p)) FROM unnest(ps) p) >= 2047 THEN\n"
    "    RETURN NULL;\n"
    "  END IF;\n"
    "  RETURN ('(' || (SELECT string_agg('''' || replace(replace(p, '\\', '\\\\'), '''', '''''')\n"
    "       || '''', ' <-> ' ORDER BY i) FROM unnest(ps) WITH ORDINALITY AS u(p, i)) || ':*)'\n"
    "     || CASE WHEN octet_length(w) < 256 THEN ' | ''' || E'\\x01'\n"
    "       || replace(replace(w, '\\', '\\\\'), '''', '''''') || '''' ELSE '' END)::tsquery;\n"
    "END\n"
    "$f$;\n"
    "SET LOCAL maintenance_work_mem = '256MB';\n"
    "DROP INDEX model_fts_doc;\n"
    "ALTER TABLE model_fts DROP COLUMN doc,\n"
    "  ADD COLUMN name_words tsvector GENERATED ALWAYS AS (ckpt_words(name)) STORED,\n"
    "  ADD COLUMN words tsvector GENERATED ALWAYS AS (ckpt_words(coalesce(name, '') || ' '\n"
    "    || coalesce(note, '') || ' ' || coalesce(tags, '') || ' ' || coalesce(trigger_words, '')\n"
    "    || ' ' || coalesce(description, '') || ' ' || coalesce(metadata, ''))) STORED;\n"
    "CREATE INDEX model_fts_name_words ON model_fts USING gin (name_words);\n"
    "CREATE INDEX model_fts_words ON model_fts USING gin (words);\n"
    "ALTER TABLE model_fts ALTER COLUMN name_words SET STATISTICS 1000,\n"
    "  ALTER COLUMN words SET STATISTICS 1000;\n"
    "ANALYZE model_fts;\n",
    /* 12: the list's order is lower(name), which 9's index did not hold: at 1,000,000 models
       `list --kind checkpoint --family sdxl --output anime` read 3,923 table pages for the 4,537
       names and sorted them (11-15 ms of the server's time); with lower(name) in the key and
       the name itself included (the planner takes an index-only scan of an expression index
       only when the columns the expression reads are in the index too) it is one index range
       already in order, 58 pages, 1-2 ms. Built again from the table: 3 s at 1,000,000. */
    "DROP INDEX models_kind_family;\n"
    "CREATE INDEX models_kind_family ON models(kind, family, output, lower(name), id)\n"
    "  INCLUDE (name);\n",
};
#undef T

#define N_MIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

int ckpt_catalog_schema_current(void)
{
    return N_MIGRATIONS;
}

const char *ckpt_catalog_migration_sql(int n)
{
    return n >= 1 && n <= N_MIGRATIONS ? migrations[n - 1] : NULL;
}

_Static_assert(sizeof pg_migrations / sizeof pg_migrations[0] == N_MIGRATIONS,
               "every SQLite migration needs its PostgreSQL twin");

const char *ckpt_db_migration(enum ckpt_db_kind kind, int n)
{
    if (n < 1 || n > N_MIGRATIONS)
        return NULL;
    return kind == CKPT_DB_PG ? pg_migrations[n - 1] : migrations[n - 1];
}

int ckpt_db_migration_count(void)
{
    return N_MIGRATIONS;
}

int ckpt_catalog_schema_version(struct ckpt_catalog *c)
{
    return c->db->ops->schema_version(c->db);
}

/* Bring the database from version v (as the caller has just read it: on PostgreSQL each
 * question is a round trip) to the current one, one transaction per migration (each leaves a
 * database some version of ckptdb can read). */
int ckpt_cat_migrate(struct ckpt_catalog *c, int v, struct ckpt_error *err);
int ckpt_cat_migrate(struct ckpt_catalog *c, int v, struct ckpt_error *err)
{
    if (v < 0)
        return ckpt_error_setf(err, CKPT_E_FORMAT, c->path,
                               ckpt_cat_is_pg(c) ? "not a catalog database (%s)"
                                                 : "not an SQLite database (%s)",
                               c->db->ops->errmsg(c->db));
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
        if (ckpt_cat_is_pg(c)) {
            /* two machines opening a new catalog at once: one migrates, the other waits for
               it and then finds the work done */
            rc = ckpt_cat_exec(c, "SELECT pg_advisory_xact_lock(7262840)", err);
            int now = rc ? -1 : ckpt_catalog_schema_version(c);
            if (!rc && now >= n) {
                ckpt_cat_rollback(c);
                n = now;
                continue;
            }
        }
        if (!rc)
            rc = ckpt_cat_exec(c, ckpt_db_migration(c->db->kind, n), err);
        if (!rc) {
            int s = c->db->ops->set_schema_version(c->db, n);
            if (s)
                rc = ckpt_cat_sqlerr(c, s, "upgrading the catalog", err);
        }
        if (!rc)
            rc = ckpt_cat_commit(c, err);
        if (rc) {
            ckpt_cat_rollback(c);
            return rc;
        }
    }
    /* a migration can write a lot (7 rebuilds the search index): move it from the WAL into the
       file now, or every reading command after it (they cannot checkpoint) pays for reading
       the WAL at open. Best effort: a reader holding a snapshot only delays it. */
    if (!ckpt_cat_is_pg(c)) {
        struct ckpt_error ignored;
        ckpt_cat_exec(c, "PRAGMA wal_checkpoint(TRUNCATE)", &ignored);
    }
    return CKPT_OK;
}
