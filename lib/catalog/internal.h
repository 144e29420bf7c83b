/* Private pieces shared by the lib/catalog files: the handle, SQL helpers, the analysis record
 * scan builds for each file, sidecars and suggestions. Not installed; front ends use catalog.h. */
#ifndef CKPT_CATALOG_INTERNAL_H
#define CKPT_CATALOG_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "ckptdb/catalog.h"
#include "ckptdb/hash.h"

struct ckpt_catalog {
    struct ckpt_db *db;
    char *path; /* as shown to the user: a PostgreSQL URL with its password masked */
    int readonly;
    /* statements reused by ckpt_catalog_model_get and, for batches of ids, by
       ckpt_catalog_models_each (read.c) */
    struct ckpt_st *st_model, *st_one[4];
    struct ckpt_st *st_batch[8]; /* read.c: records, with details, 4 extras, brief, brief
                                     suggestions */
    /* statements of ckpt_cat_cached, keyed by their (static) SQL text's address */
    const char *cache_sql[32];
    struct ckpt_st *cache_st[32];
    int last_db_rc; /* the CKPT_DB_* code of the last failure ckpt_cat_sqlerr reported */
    /* model ids reserved ahead (CKPT_SQL_NEW_IDS), largest first, used from the end */
    int64_t new_ids[64];
    size_t n_new_ids;
};

/* Run SQL without results; CKPT_E_IO naming the database on failure. */
int ckpt_cat_exec(struct ckpt_catalog *c, const char *sql, struct ckpt_error *err);
int ckpt_cat_prepare(struct ckpt_catalog *c, const char *sql, struct ckpt_st **st,
                     struct ckpt_error *err);
/* A statement prepared once per handle and reset on every call, for SQL run many times (sql
 * must be a string literal: it is keyed by address). Never finalize it. */
int ckpt_cat_cached(struct ckpt_catalog *c, const char *sql, struct ckpt_st **st,
                    struct ckpt_error *err);
/* Map a database failure (a CKPT_DB_E* code) to a one-line error (locked, read-only, full disk,
 * corrupt, connection lost). */
int ckpt_cat_sqlerr(struct ckpt_catalog *c, int rc, const char *what, struct ckpt_error *err);
int ckpt_cat_begin(struct ckpt_catalog *c, struct ckpt_error *err);
int ckpt_cat_commit(struct ckpt_catalog *c, struct ckpt_error *err);
void ckpt_cat_rollback(struct ckpt_catalog *c);
/* After a failed transaction: 1 when it failed only because it conflicted with another one
 * (serialization failure, deadlock) and may run again; then it is rolled back and a short,
 * growing, jittered pause taken. *attempt counts the tries (start at 0; gives up after 8). */
int ckpt_cat_again(struct ckpt_catalog *c, int rc, int *attempt);
/* Reserve ids for n new models ahead (PostgreSQL, up to 64 kept; nothing on SQLite), so that
 * inserting a model needs no answer and can go down the pipeline. An id reserved and not used
 * stays a gap. ckpt_cat_new_model_id takes one (the smallest), or 0 when none is reserved:
 * then insert with RETURNING id. */
int ckpt_cat_reserve_model_ids(struct ckpt_catalog *c, size_t n, struct ckpt_error *err);
int64_t ckpt_cat_new_model_id(struct ckpt_catalog *c);
/* Copy of a column's text, or NULL. */
char *ckpt_cat_coldup(struct ckpt_st *st, int col);
/* 1 when the catalog is on PostgreSQL. */
static inline int ckpt_cat_is_pg(const struct ckpt_catalog *c)
{
    return c->db->kind == CKPT_DB_PG;
}

/* The search row of every model, as the migrations and the rebuild fill it (group_concat is
   SQLite's and, on PostgreSQL, migration 1's); append " WHERE m.id = ?1" for one model. */
#define CKPT_FTS_FILL                                                                              \
    "INSERT INTO model_fts(rowid, name, note, tags, trigger_words, description, metadata)\n"       \
    "  SELECT m.id,\n"                                                                             \
    "    m.name || ' ' || coalesce((SELECT group_concat(path, ' ') FROM files f\n"                 \
    "                              WHERE f.model_id = m.id), ''),\n"                               \
    "    m.note, (SELECT group_concat(tag, ' ') FROM tags t WHERE t.model_id = m.id),\n"           \
    "    m.trigger_words, m.description,\n"                                                        \
    "    (SELECT group_concat(coalesce(metadata, '') || ' ' || coalesce(site_tags, ''), ' ')\n"    \
    "       FROM files f WHERE f.model_id = m.id)\n"                                               \
    "  FROM models m"

/* A model's kind and family (models.kind/family, migration 9) from its files: those of the file
   a record shows (present first, then oldest); the scan keeps them current (model.c) */
#define CKPT_MODEL_KIND_FILL                                                                       \
    "UPDATE models SET kind = (SELECT f.kind FROM files f WHERE f.model_id = models.id\n"          \
    "    ORDER BY f.missing, f.id LIMIT 1),\n"                                                     \
    "  family = (SELECT f.family FROM files f WHERE f.model_id = models.id\n"                      \
    "    ORDER BY f.missing, f.id LIMIT 1)"

/* Rebuild the full-text row of one model (after any change to it). */
int ckpt_cat_fts_refresh(struct ckpt_catalog *c, int64_t model_id, struct ckpt_error *err);
/* The same for a model created in this transaction (created = 1: no old row to delete). */
int ckpt_cat_fts_refresh_new(struct ckpt_catalog *c, int64_t model_id, int created,
                             struct ckpt_error *err);
/* Rebuild the full-text rows of every model (after a copy). */
int ckpt_cat_fts_rebuild(struct ckpt_catalog *c, struct ckpt_error *err);

/* ---- what scan learns about one file (lib/catalog/analyze.c) -------------------------------- */

struct ckpt_kv {
    char *key, *value;
};

/* Facts read from the sidecar files next to a model (lib/catalog/sidecar.c). */
struct ckpt_sidecar_facts {
    char *civitai_json;    /* raw text of .civitai.info or .cm-info.json (for identify) */
    char *name;            /* model name as the site knows it */
    char *type;            /* Civitai type: Checkpoint, LORA, ... */
    char *checkpoint_type; /* Civitai checkpointType: Merge / Trained */
    char *base_model;      /* Civitai baseModel: "SD 1.5", "Pony", "Illustrious", ... */
    char *source;          /* civitai, huggingface, ... */
    char *source_url;
    char *trigger_words; /* comma list */
    char *tags;          /* comma list of site tags */
    char *description;
    char *preview; /* path */
    char *paths;   /* JSON object: kind -> path */
};
void ckpt_sidecar_read(const char *model_path, int is_dir, struct ckpt_sidecar_facts *f);
void ckpt_sidecar_release(struct ckpt_sidecar_facts *f);

struct ckpt_analysis {
    /* measured */
    int ok;             /* 1 when the file could be read as a model */
    char *error;        /* why not */
    const char *format; /* static */
    char *kind, *network, *family, *ecosystem, *variant, *prediction, *precision, *components;
    char *problems, *evidence; /* JSON arrays */
    char *safety;              /* safe / suspicious / dangerous / invalid, or NULL (not checked) */
    char *safety_findings;     /* JSON array of {severity, what, where}, or NULL */
    uint64_t tensor_count, parameter_count;
    struct ckpt_kv *meta;
    size_t n_meta;
    /* hashes */
    int hashed;
    struct ckpt_hash_result hash;
    char fingerprint[96]; /* "SIZE-BLAKE3HEX", or "" when not computed */
    /* sidecars */
    struct ckpt_sidecar_facts side;
};

/* Read a model file's header (tensorset facts, identify, safety) and its sidecars. Never hashes:
 * scan hashes files in parallel batches and fills a->hash itself. */
void ckpt_analyze(const char *path, int is_dir, struct ckpt_analysis *a);
void ckpt_analysis_release(struct ckpt_analysis *a);
/* The metadata as a JSON object text (malloc'd). */
char *ckpt_analysis_meta_json(const struct ckpt_analysis *a);

/* ---- suggestions (lib/catalog/suggest.c) ----------------------------------------------------- */

struct ckpt_suggest_input {
    const char *name;     /* model name (file stem or site name) */
    const char *filename; /* base name of the file */
    const struct ckpt_kv *meta;
    size_t n_meta;
    const struct ckpt_sidecar_facts *side; /* may be NULL */
};

struct ckpt_suggest_out {
    struct ckpt_suggestion *s;
    size_t n, cap;
    struct ckpt_parent *parents;
    size_t n_parents, cap_parents;
};

/* Apply every rule; results merged per (field, value) with the highest confidence and every
 * reason. */
void ckpt_suggest(const struct ckpt_suggest_input *in, struct ckpt_suggest_out *out);
void ckpt_suggest_release(struct ckpt_suggest_out *out);
/* Number of rules and the id of rule i (for the per-rule tests). */
size_t ckpt_suggest_rule_count(void);
const char *ckpt_suggest_rule_id(size_t i);

/* What the caller looked up for a new file inside the transaction (scan does it for a whole
 * batch in one round trip, scan.c): the record at (host, path) recorded meanwhile and its
 * model (0 if none), and the model of the same file on another machine to join (0 if none),
 * with the file's fingerprint lock already held. */
struct ckpt_record_hint {
    int64_t file_id, model_id, join;
};
/* Record a scanned file: insert or update files/models rows, suggestions, parents. file_id of
 * an existing record (0: new; then hint, when not NULL, says what record_file would look up
 * itself). Inside the caller's transaction. */
int ckpt_cat_record_file(struct ckpt_catalog *c, int64_t file_id, const char *host,
                         const char *path, const void *st /* struct stat */, int is_dir,
                         const struct ckpt_analysis *a, const struct ckpt_record_hint *hint,
                         struct ckpt_error *err);

/* ---- lineage fingerprints (lib/catalog/lineage.c) ------------------------------------------ */

struct ckpt_cat_fp;
struct ckpt_lineage_fp;
/* A fingerprint stream for a checkpoint or diffusion model about to be hashed (1), or nothing to
 * do (0: another kind, or the header cannot be read again). */
int ckpt_cat_fp_start(const char *path, const struct ckpt_analysis *a, struct ckpt_cat_fp **out);
/* The hasher's extra consumer: user is the struct ckpt_cat_fp. */
void ckpt_cat_fp_update(void *user, const uint8_t *p, uint64_t off, size_t len);
/* The fingerprint when the hashing pass succeeded (ok), else NULL; frees f. */
struct ckpt_lineage_fp *ckpt_cat_fp_finish(struct ckpt_cat_fp *f, int ok);
/* Store it for the file recorded at host:path. */
int ckpt_cat_fp_store(struct ckpt_catalog *c, const char *host, const char *path,
                      const struct ckpt_lineage_fp *fp, struct ckpt_error *err);
/* Explain every model fingerprinted by a scan that started at since_ns (CLOCK_REALTIME, as
 * files.scanned_ns) from the catalog, and record the findings as suggestions (and parents). */
int ckpt_cat_lineage_suggest(struct ckpt_catalog *c, int64_t since_ns, struct ckpt_error *err);

#endif
