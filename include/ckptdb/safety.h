/* Safety verdicts for model files: what a Python tool would import, call or be tricked into
 * reading if it loaded the file, judged without executing anything.
 *
 * ckpt_check_file reads only what decides the verdict: a zip's directory and local headers,
 * the first bytes of each member, every pickle (data.pkl, any other member that is a pickle,
 * the five pickles of a legacy torch file, a raw pickle file), the headers of safetensors and
 * GGUF files. Tensor data is never read.
 *
 * Verdicts, from best to worst: safe, invalid (the file cannot be parsed), suspicious
 * (something is not provably safe: an import that is not on the allow-list, trailing data,
 * ...), dangerous (a call of something not on the allow-list, a known-dangerous global, an
 * import that cannot be resolved statically, a container trick that hides a pickle). The
 * verdict is the worst finding's severity; a file with no finding is safe.
 *
 * Ownership: a struct ckpt_check_result is caller-owned; ckpt_check_file fills it (after
 * releasing what it held) and ckpt_check_result_release frees its findings. Strings in it are
 * owned by it. */
#ifndef CKPTDB_SAFETY_H
#define CKPTDB_SAFETY_H

#include <stddef.h>

#include "ckptdb/buf.h"
#include "ckptdb/error.h"
#include "ckptdb/limits.h"
#include "ckptdb/reader.h"

enum ckpt_verdict {
    CKPT_VERDICT_SAFE = 0,
    CKPT_VERDICT_INVALID,
    CKPT_VERDICT_SUSPICIOUS,
    CKPT_VERDICT_DANGEROUS,
};

struct ckpt_finding {
    enum ckpt_verdict severity; /* invalid, suspicious or dangerous */
    char *what;                 /* "calls posix.system (known dangerous)" */
    char *where;                /* "archive/data.pkl, byte 57" or "byte 57" or "" */
    unsigned count;             /* how many times the same finding occurred */
};

struct ckpt_check_result {
    enum ckpt_verdict verdict;
    const char *format; /* static: "torch-zip", "torch-legacy", "pickle", "safetensors", ... */
    struct ckpt_finding *findings; /* worst first (stable within a severity) */
    size_t n, cap;
    size_t dropped; /* findings beyond the cap (counted, not kept) */
};

/* Judge the file at path. Returns CKPT_OK whenever a verdict was reached (also `invalid`);
 * CKPT_E_IO when the file cannot be opened or read, CKPT_E_NOMEM: then out->verdict is
 * invalid with the reason as its finding, and err says the same. */
int ckpt_check_file(const char *path, const struct ckpt_limits *limits,
                    struct ckpt_check_result *out, struct ckpt_error *err);
/* The same over any reader (a memory buffer in tests and fuzzing). */
int ckpt_check_reader(struct ckpt_reader *r, const struct ckpt_limits *limits,
                      struct ckpt_check_result *out, struct ckpt_error *err);

void ckpt_check_result_release(struct ckpt_check_result *r);

/* "safe", "invalid", "suspicious", "dangerous"; parse returns CKPT_E_ARG for other text. */
const char *ckpt_verdict_name(enum ckpt_verdict v);
int ckpt_verdict_parse(const char *s, enum ckpt_verdict *out);

/* The contract's object: {"path", "verdict", "findings": [{"severity", "what", "where"}]}. */
void ckpt_check_json(const struct ckpt_check_result *r, const char *path, struct ckpt_json *j);

/* The tables (lib/safety/globals.c). A (module, name) pair as a pickle imports it. */
enum ckpt_global_class {
    CKPT_GLOBAL_ALLOWED = 0, /* on the allow-list: what real checkpoints use */
    CKPT_GLOBAL_UNKNOWN,     /* neither: suspicious when imported, dangerous when called */
    CKPT_GLOBAL_DANGEROUS,   /* known to run code, touch files, the network or the interpreter */
};
enum ckpt_global_class ckpt_safety_classify(const char *module, const char *name);
/* Python 2 and private spellings mapped to the module Python 3 imports ("__builtin__" ->
 * "builtins", "copy_reg" -> "copyreg", "_pickle" -> "pickle", ...); else module itself. */
const char *ckpt_safety_module_alias(const char *module);

#endif
