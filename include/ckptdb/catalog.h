/* The checkpoint catalog: the SQLite database a collector keeps of every model file, what it is
 * (measured), what the user says it is (chosen), and what ckptdb suggests it might be (with the
 * evidence). Everything a front end needs (the CLI, the later web UI) is reachable from here;
 * front ends parse arguments and print, nothing more.
 *
 * Store: SQLite in WAL mode with foreign keys and a busy timeout; the schema is versioned with
 * PRAGMA user_version and numbered migrations (lib/catalog/schema.c). Each call that changes the
 * catalog is one transaction, except a scan, which commits in small batches so that a scan that is
 * killed keeps what it had recorded.
 *
 * Records: a model record (the user's: name, taxonomy fields, tags, notes, rating, ...) belongs
 * to the file it was found as; when the file disappears the record stays, marked missing; when
 * the file moves it is matched by quick fingerprint then sha256 and keeps its record.
 *
 * Ownership: ckpt_catalog_open returns an owned handle freed by ckpt_catalog_close (NULL is a
 * no-op). struct ckpt_model is caller storage filled by ckpt_catalog_model_get and released by
 * ckpt_model_release (safe on a zeroed struct). Arrays of ids returned through int64_t ** are
 * malloc'd; free() them. */
#ifndef CKPTDB_CATALOG_H
#define CKPTDB_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "ckptdb/error.h"

struct ckpt_catalog;
struct ckpt_json;
struct ckpt_buf;

/* ---- opening ------------------------------------------------------------------------------- */

enum {
    CKPT_CATALOG_READONLY = 1 << 0, /* open for reading only; never creates or migrates */
};

/* The database path: explicit (if not NULL/empty), else $CKPTDB_DB, else
 * ${XDG_DATA_HOME:-$HOME/.local/share}/ckptdb/catalog.sqlite. CKPT_E_ARG when it does not fit. */
int ckpt_catalog_default_path(const char *explicit_path, char *out, size_t outlen,
                              struct ckpt_error *err);
/* The machine name files are recorded under: $CKPTDB_HOST, else the host name. Static storage. */
const char *ckpt_catalog_host(void);

/* Open (creating the file and its folder, and migrating to the current schema, unless READONLY).
 * A database from a newer ckptdb (user_version above ours) is refused with CKPT_E_UNSUPPORTED. */
int ckpt_catalog_open(struct ckpt_catalog **out, const char *path, unsigned flags,
                      struct ckpt_error *err);
void ckpt_catalog_close(struct ckpt_catalog *c);
/* The schema version the code writes, and the one of the open database. */
int ckpt_catalog_schema_current(void);
int ckpt_catalog_schema_version(struct ckpt_catalog *c);
/* The SQL of migration n (1-based) or NULL past the last: for the migration test. */
const char *ckpt_catalog_migration_sql(int n);
/* Rewrite the catalog file with each table's pages together (SQLite VACUUM), so that reading
 * many records touches few pages; scan does it itself after writing a good part of the catalog.
 * Needs room for a copy of the file; on failure the catalog stays as it was. */
int ckpt_catalog_compact(struct ckpt_catalog *c, struct ckpt_error *err);
/* PRAGMA integrity_check: CKPT_OK when it says "ok". */
int ckpt_catalog_integrity(struct ckpt_catalog *c, struct ckpt_error *err);

/* The catalog's name as shown to people: a PostgreSQL URL with its password replaced by "***",
 * else the path itself. malloc'd (NULL when out of memory). */
char *ckpt_catalog_display_name(const char *path);
/* 1 when path names a PostgreSQL catalog (postgresql://... or postgres://...). */
int ckpt_catalog_is_remote(const char *path);
/* A number that changes when anyone commits a change to the catalog (for caches). SQLite: from
 * the database file's and its WAL's size, mtime and inode; PostgreSQL: a sequence that every
 * statement changing models, files, tags or suggestions advances (statement time, so a reader
 * can see the new number a moment before the change: callers also expire what they cache). */
int ckpt_catalog_changes(struct ckpt_catalog *c, uint64_t *n, struct ckpt_error *err);

/* Read many records from one snapshot (a listing): begin, reads, end. Writes are not allowed
 * in between. */
int ckpt_catalog_read_begin(struct ckpt_catalog *c, struct ckpt_error *err);
void ckpt_catalog_read_end(struct ckpt_catalog *c);

/* ---- scanning ------------------------------------------------------------------------------ */

struct ckpt_scan_stats {
    uint64_t seen, added, changed, unchanged, moved, missing, failed;
    uint64_t files_total;  /* model files found by the walk */
    uint64_t files_done;   /* of those, handled so far */
    uint64_t bytes_total;  /* bytes to hash */
    uint64_t bytes_hashed; /* bytes hashed so far */
    double seconds;
};

/* Progress: called from the scanning thread (and, while hashing, with a lock held), at most a few
 * times per second plus once at the end (final = 1). Nonzero cancels the scan (CKPT_E_CANCELLED;
 * what was committed stays). */
typedef int (*ckpt_scan_progress_fn)(void *user, const struct ckpt_scan_stats *s, int final);
/* A line of log ("path: reason" for every failed file, moved/missing notes with verbose). */
typedef void (*ckpt_catalog_log_fn)(void *user, int level, const char *msg);

struct ckpt_scan_options {
    int no_hash;   /* skip hashing (moved files then match by fingerprint) */
    int verify;    /* hash every new file, even one whose hashes another machine recorded */
    unsigned jobs; /* files hashed at once; 0 = automatic */
    ckpt_scan_progress_fn progress; /* may be NULL */
    void *progress_user;
    ckpt_catalog_log_fn log; /* may be NULL; level 0 = failure, 1 = note, 2 = verbose */
    void *log_user;
    volatile int *cancel;
    int no_lineage; /* do not compute lineage fingerprints while hashing */
};

/* Walk the paths (files or folders), record every model file. CKPT_OK when every file could be
 * read; CKPT_E_FORMAT/CKPT_E_IO (with the first failure in err) when some could not (they are
 * recorded with their reason and the others still are); a path that cannot be walked at all gives
 * CKPT_E_NOTFOUND/CKPT_E_IO. */
int ckpt_catalog_scan(struct ckpt_catalog *c, const char *const *paths, size_t n,
                      const struct ckpt_scan_options *opts, struct ckpt_scan_stats *stats,
                      struct ckpt_error *err);

/* The sidecar files tools keep next to a model, named by the model's stem (its path without the
 * extension; a diffusers folder's whole name) plus suffix: Civitai Helper's .civitai.info,
 * Stability Matrix's .cm-info.json, A1111's .json, .yaml configs, .description.txt / .txt
 * notes, and previews (preview = 1). The one list scan reads, organize moves and views link.
 * Terminated by an entry whose suffix is NULL. Static storage. */
struct ckpt_sidecar_name {
    const char *suffix, *kind;
    int preview;
};
const struct ckpt_sidecar_name *ckpt_sidecar_names(void);
/* Record a file ckptdb made (merge, convert, ...): scan it in as `scan` records one file (hashed
 * unless no_hash), then set origin (a taxonomy value, or NULL to leave it) as a chosen value and
 * replace its parents with parents[0..n) (the operation's inputs and their weights; NaN weight:
 * unknown). *model_id (optional) receives its record. A rescan that finds the file unchanged keeps
 * these; a changed file gets the parents its recipe suggests again. */
struct ckpt_parent;
int ckpt_catalog_record_output(struct ckpt_catalog *c, const char *path, const char *origin,
                               const struct ckpt_parent *parents, size_t n, int no_hash,
                               int64_t *model_id, struct ckpt_error *err);

/* ---- models -------------------------------------------------------------------------------- */

struct ckpt_suggestion {
    char *field, *value; /* origin, output, realism, subjects, ecosystem, trigger_words, source,
                            source_url */
    double confidence;   /* 0..1 */
    char *why;           /* reasons, "; "-separated */
};

struct ckpt_parent {
    char *sha256;  /* may be NULL (recipes naming a hash ckptdb cannot widen) */
    char *name;    /* may be NULL */
    double weight; /* NaN when unknown */
};

/* Where a model's file is: one per machine that has it (and per path on that machine). */
struct ckpt_location {
    char *host, *path;
    int missing;
};

struct ckpt_model {
    int64_t id;
    char *name, *path;
    uint64_t size;
    int64_t mtime_ns;
    char *format, *kind, *network, *family, *ecosystem, *variant, *prediction, *precision;
    char *components; /* comma list */
    char *sha256, *autov1, *autov2, *autov3, *crc32, *blake3, *fingerprint;
    char *safety;
    char *origin, *output, *realism, *subjects, *tags; /* chosen; realism/subjects/tags: comma */
    char *source, *source_url, *note, *trigger_words;
    int rating;            /* 0 = none */
    char *settings;        /* JSON object text */
    char *metadata;        /* JSON object text (the file's metadata) */
    char *problems;        /* JSON array text of {code, message} */
    char *evidence;        /* JSON array text */
    char *description;     /* from sidecars */
    char *preview;         /* path of a preview image, from sidecars */
    char *sidecars;        /* JSON object: sidecar kind -> path */
    char *error;           /* why the file could not be read, or NULL */
    char *safety_findings; /* JSON array text of {severity, what, where} from `check` */
    int missing;
    struct ckpt_parent *parents;
    size_t n_parents;
    struct ckpt_suggestion *suggested;
    size_t n_suggested;
    /* every file record of the model, this machine's first; path/size/hashes above are those of
       the first present one (this machine's when it has the file) */
    struct ckpt_location *locations;
    size_t n_locations;
};

void ckpt_model_release(struct ckpt_model *m);

/* Resolve a MODEL argument: a catalog id, a name, a path, or a hex prefix (>= 6) of sha256 or
 * autov2. CKPT_E_NOTFOUND when nothing matches, CKPT_E_ARG when several do (err lists them). */
int ckpt_catalog_find_model(struct ckpt_catalog *c, const char *ref, int64_t *id,
                            struct ckpt_error *err);
int ckpt_catalog_model_get(struct ckpt_catalog *c, int64_t id, struct ckpt_model *m,
                           struct ckpt_error *err);
/* Reading many models at once (a listing, a page, an export): the parts of a record beyond its
 * listing columns (id, name, path, size, mtime, format, kind, network, family, ecosystem,
 * variant, prediction, precision, components, hashes, fingerprint, safety, origin, output,
 * realism, subjects, tags, source, source_url, note, trigger_words, rating, problems, preview,
 * error, missing), which are always filled. */
enum {
    CKPT_MODEL_SUGGESTED = 1 << 0, /* suggested[]: the best suggestion of each field */
    CKPT_MODEL_PARENTS = 1 << 1,   /* parents[] */
    CKPT_MODEL_DETAIL = 1 << 2,    /* settings, metadata, evidence, description, sidecars,
                                      safety_findings, locations[] */
    CKPT_MODEL_ALL = 7,            /* everything ckpt_catalog_model_get fills */
    /* instead of the listing columns, only what a table row shows: id, name, kind, family,
       output, realism, rating, error, missing; with CKPT_MODEL_SUGGESTED, the suggestions of
       output and realism only. Alone, not with the other parts. */
    CKPT_MODEL_BRIEF = 1 << 3,
};
/* Called for each model, in the order asked; m is valid during the call only (the reader
   releases it). Nonzero stops the read (ckpt_catalog_models_each then returns CKPT_OK). */
typedef int (*ckpt_model_fn)(void *user, const struct ckpt_model *m);
/* Call fn for the models ids[0..n) in that order (every model in id order when ids is NULL),
 * with the listing columns and the asked parts filled (the others NULL/0), reading them in
 * batches from one snapshot. An id with no model (forgotten meanwhile) is skipped. */
int ckpt_catalog_models_each(struct ckpt_catalog *c, const int64_t *ids, size_t n, unsigned parts,
                             ckpt_model_fn fn, void *user, struct ckpt_error *err);
/* The model object of ../shared/CONTRACT.md. */
void ckpt_model_json(const struct ckpt_model *m, struct ckpt_json *j);

/* Fields `set` accepts: name origin output realism subjects source source_url rating note
 * trigger_words settings.KEY; an empty value clears the field. All assignments are validated
 * first (against the taxonomy) and applied in one transaction, or none is (CKPT_E_ARG, with the
 * valid values in err). */
int ckpt_catalog_set(struct ckpt_catalog *c, int64_t id, const char *const *fields,
                     const char *const *values, size_t n, struct ckpt_error *err);
/* Add and remove free-word tags in one transaction. */
int ckpt_catalog_tag(struct ckpt_catalog *c, int64_t id, const char *const *add, size_t nadd,
                     const char *const *del, size_t ndel, struct ckpt_error *err);
/* Turn the best suggestion of each named field (all fields when n == 0) into the chosen value.
 * *accepted receives how many fields changed. */
int ckpt_catalog_accept(struct ckpt_catalog *c, int64_t id, const char *const *fields, size_t n,
                        size_t *accepted, struct ckpt_error *err);
/* Drop the model's record and its file records. The file itself is never touched. */
int ckpt_catalog_forget(struct ckpt_catalog *c, int64_t id, struct ckpt_error *err);

/* ---- queries ------------------------------------------------------------------------------- */

struct ckpt_query {
    const char *kind, *family, *ecosystem, *origin, *output, *realism, *subject, *tag, *source;
    const char *safety;
    int min_rating;   /* 0 = no filter */
    const char *sort; /* a model-object field name; a leading '-' sorts descending; NULL = name */
    int include_missing; /* 1: list missing models too (default for list: yes) */
    const char *host;    /* only models with a file recorded on this machine; NULL = any */
};

/* The ids of the models matching q, in order. Filter values are validated against the taxonomy
 * (CKPT_E_ARG listing the valid ones). */
int ckpt_catalog_list(struct ckpt_catalog *c, const struct ckpt_query *q, int64_t **ids, size_t *n,
                      struct ckpt_error *err);
/* Full-text search over names, paths, notes, tags, trigger words, descriptions and metadata
 * (SQLite: FTS5 with the ckpt_words tokenizer, which also cuts names into their words,
 * "EpicRealism" -> epic, realism; PostgreSQL: GIN-indexed tsvectors of the same words). Every
 * word required, each matched as the start of a word. Best matches first: the models whose name
 * or path holds every word, then the others, each group in catalogue (id) order. */
int ckpt_catalog_search(struct ckpt_catalog *c, const char *text, int64_t **ids, size_t *n,
                        struct ckpt_error *err);
/* The same, the first limit matches only (0: all); the cost follows the limit. */
int ckpt_catalog_search_top(struct ckpt_catalog *c, const char *text, size_t limit, int64_t **ids,
                            size_t *n, struct ckpt_error *err);

struct ckpt_wish {
    const char *output, *realism, *family, *ecosystem, *subject, *kind;
    size_t top; /* 0 = 10 */
};
struct ckpt_choice {
    int64_t id;
    double score;
    char *why; /* "; "-separated reasons */
};
/* Rank models for a wish: chosen values first, suggestions at lower weight, then rating. family,
 * ecosystem and kind are measured and act as filters. Free with ckpt_choices_free. */
int ckpt_catalog_choose(struct ckpt_catalog *c, const struct ckpt_wish *w, struct ckpt_choice **out,
                        size_t *n, struct ckpt_error *err);
void ckpt_choices_free(struct ckpt_choice *ch, size_t n);

/* Groups of files with the same sha256 (confirmed = 1) and of files with the same quick
 * fingerprint whose sha256 is not known yet (confirmed = 0). The callback gets each group's model
 * ids; nonzero stops. */
typedef int (*ckpt_dupes_fn)(void *user, const char *key, int confirmed, const int64_t *ids,
                             size_t n);
int ckpt_catalog_dupes(struct ckpt_catalog *c, ckpt_dupes_fn fn, void *user,
                       struct ckpt_error *err);

/* ---- export / import ----------------------------------------------------------------------- */

enum ckpt_export_format { CKPT_EXPORT_JSON, CKPT_EXPORT_CSV, CKPT_EXPORT_MD };
int ckpt_catalog_export(struct ckpt_catalog *c, enum ckpt_export_format f, struct ckpt_buf *out,
                        struct ckpt_error *err);

struct ckpt_import_stats {
    uint64_t records, matched, unmatched, updated;
};
/* Restore every chosen field (name, origin, output, realism, subjects, tags, source, source_url,
 * rating, note, trigger_words, settings) from what ckpt_catalog_export wrote as JSON, matching
 * models by sha256. One transaction; a malformed document changes nothing. */
int ckpt_catalog_import(struct ckpt_catalog *c, const char *text, size_t len,
                        struct ckpt_import_stats *st, struct ckpt_error *err);

/* ---- copying a whole catalog --------------------------------------------------------------- */

struct ckpt_copy_stats {
    uint64_t tables, rows, models;
};
/* Copy every row of every catalog table from one catalog to another (SQLite to PostgreSQL or
 * back, or the same kind), ids and every field as they are, then rebuild the search index. The
 * destination must hold no model yet and both must be at the same schema version. One
 * transaction on the destination: a failure leaves it as it was. */
int ckpt_catalog_copy(struct ckpt_catalog *from, struct ckpt_catalog *to,
                      struct ckpt_copy_stats *st, struct ckpt_error *err);

/* ---- taxonomy ------------------------------------------------------------------------------ */

/* The valid values of a taxonomy field ("kind", "family", "origin", "output", "realism",
 * "subjects", "source", "ecosystem", "format", "safety", ...), NULL-terminated; NULL for a
 * free-text field. */
const char *const *ckpt_taxonomy_values(const char *field);
/* CKPT_OK when value is valid for field; else CKPT_E_ARG with "FIELD: 'VALUE' is not one of
 * a, b, c". Comma lists are checked item by item for realism and subjects. */
int ckpt_taxonomy_check(const char *field, const char *value, struct ckpt_error *err);

/* ---- lineage (lib/catalog/lineage.c) ------------------------------------------------------ */

struct ckpt_lineage_fp;
/* The lineage fingerprint of model `id` (of its first file that has one), labelled with the
 * model's name; CKPT_E_NOTFOUND when none was computed (not a checkpoint or diffusion model, or
 * scanned with --no-hash). */
int ckpt_catalog_lineage_fp(struct ckpt_catalog *c, int64_t id, struct ckpt_lineage_fp **out,
                            struct ckpt_error *err);

struct ckpt_lineage_cands {
    struct ckpt_lineage_fp **fps; /* labelled with the model names */
    char **names, **shas;         /* sha256 may be NULL */
    int64_t *ids;                 /* model ids */
    size_t n;
};
/* The `keep` models of q's family nearest to q by their folded sketches (one linear pass over
 * the catalog's folds), model `self` left out, their full fingerprints loaded. */
int ckpt_catalog_lineage_nearest(struct ckpt_catalog *c, const struct ckpt_lineage_fp *q,
                                 int64_t self, size_t keep, struct ckpt_lineage_cands *out,
                                 struct ckpt_error *err);
void ckpt_lineage_cands_release(struct ckpt_lineage_cands *r);
/* Model `id`'s lineage and its `top` (1..64) most similar models in one JSON object:
 * {"id", "lineage": <`ckptdb lineage --json`>, "similar": <`ckptdb similar --json --top TOP`>,
 * "parent_ids": [model ids of lineage.parents], "base_id": id or null, "similar_ids": [...]}
 * (the same candidate sets and calls as the CLI over the catalog). CKPT_E_NOTFOUND when the
 * model has no fingerprint. */
int ckpt_catalog_lineage_report(struct ckpt_catalog *c, int64_t id, size_t top, struct ckpt_json *j,
                                struct ckpt_error *err);

#endif
