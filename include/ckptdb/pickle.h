/* A restricted pickle machine: reads Python pickles (protocols 0-5, every opcode) into inert
 * values, and NEVER imports or calls anything.
 *
 * Where Python would import a global or call something, the machine records what would have
 * happened instead: a GLOBAL value (module, name, byte offset) for GLOBAL/STACK_GLOBAL/INST/
 * EXT*, a CALL value (callable, args, opcode, offset) for REDUCE/NEWOBJ/NEWOBJ_EX/INST/OBJ,
 * a PERSID value for persistent ids. BUILD attaches its state to the object it builds (and is
 * recorded as a call too). SETITEM(S)/APPEND(S)/ADDITEMS on a CALL value are kept on that value
 * (e.g. the items of a collections.OrderedDict). Interpreting the records (rebuilding tensors)
 * is the caller's business (lib/format/torchpickle.c); judging them is the safety checker's.
 *
 * Every list of globals and calls is kept in opcode order for the safety checker; a
 * STACK_GLOBAL whose operands are not two strings, and EXT1/2/4 codes, are recorded as
 * unresolvable globals.
 *
 * Ownership: ckpt_pickle_new returns an owned machine freed by ckpt_pickle_free (NULL is a
 * no-op). Every value, string and record pointer it returns is borrowed and valid until the
 * machine is freed. The bytes given to ckpt_pickle_load are not retained. */
#ifndef CKPTDB_PICKLE_H
#define CKPTDB_PICKLE_H

#include <stddef.h>
#include <stdint.h>

#include "ckptdb/error.h"
#include "ckptdb/limits.h"

enum ckpt_pv_kind {
    CKPT_PV_NONE = 0,
    CKPT_PV_BOOL,      /* i: 0 or 1 */
    CKPT_PV_INT,       /* i */
    CKPT_PV_BIGINT,    /* s/len: little-endian two's complement bytes (LONG1/LONG4), or the
                          decimal text when text = 1 (INT/LONG beyond 64 bits) */
    CKPT_PV_FLOAT,     /* f */
    CKPT_PV_STR,       /* s/len: UTF-8 */
    CKPT_PV_BYTES,     /* s/len */
    CKPT_PV_BYTEARRAY, /* s/len */
    CKPT_PV_TUPLE,     /* items/n */
    CKPT_PV_LIST,      /* items/n */
    CKPT_PV_SET,       /* items/n */
    CKPT_PV_FROZENSET, /* items/n */
    CKPT_PV_DICT,      /* kv/nkv: keys and values alternating, in insertion order */
    CKPT_PV_GLOBAL,    /* s = module, s2 = name (NULL when unresolvable), i = EXT code or -1 */
    CKPT_PV_CALL,      /* callable, args (, kwargs for NEWOBJ_EX); opcode; items/kv appended */
    CKPT_PV_PERSID,    /* args = the persistent id value */
};

struct ckpt_pv {
    enum ckpt_pv_kind kind;
    unsigned char opcode; /* CALL: the opcode that made it ('R', 0x81, 0x92, 'i', 'o') */
    unsigned char text;   /* BIGINT: s is decimal text */
    uint64_t offset;      /* byte offset of the opcode that made the value */
    int64_t i;
    double f;
    const char *s, *s2;
    size_t len, len2;
    struct ckpt_pv **items; /* TUPLE/LIST/SET/FROZENSET elements; CALL: APPENDed items */
    size_t n, cap;
    struct ckpt_pv **kv; /* DICT pairs; CALL: SETITEM pairs */
    size_t nkv, capkv;   /* nkv counts pairs; kv holds 2 * nkv pointers */
    struct ckpt_pv *callable, *args, *kwargs;
    struct ckpt_pv *state; /* the last BUILD state applied to this value, or NULL */
};

/* A call-like event: REDUCE, NEWOBJ, NEWOBJ_EX, INST, OBJ or BUILD. For BUILD, callable is the
 * object built and args the state. */
struct ckpt_pickle_call {
    unsigned char opcode;
    uint64_t offset;
    const struct ckpt_pv *callable;
    const struct ckpt_pv *args;
    const struct ckpt_pv *result; /* the CALL value (BUILD: the object built) */
};

struct ckpt_pickle;

int ckpt_pickle_new(struct ckpt_pickle **out, const struct ckpt_limits *limits, const char *name,
                    struct ckpt_error *err);
void ckpt_pickle_free(struct ckpt_pickle *p);

/* Run one pickle from data[0] (reported offsets are base + position). On success *result is the
 * value STOP returned and *consumed the bytes up to and including STOP. With exact = 1, bytes
 * after STOP are an error. May be called again for the next pickle of a stream: the memo and
 * stack start empty, values from earlier pickles stay valid, and records accumulate.
 * When the error is only that the input ended early, ckpt_pickle_truncated() is 1. A failed
 * load adds no records (its values stay allocated until the machine is freed). */
int ckpt_pickle_load(struct ckpt_pickle *p, const void *data, size_t size, uint64_t base, int exact,
                     const struct ckpt_pv **result, size_t *consumed, struct ckpt_error *err);
int ckpt_pickle_truncated(const struct ckpt_pickle *p);
/* With on = 1, a failed load keeps the records it made before the error (and *consumed is the
 * offset of the opcode that failed): Python would have executed those opcodes before failing,
 * so the safety checker judges them. Off by default. */
void ckpt_pickle_keep_failed(struct ckpt_pickle *p, int on);

/* Every GLOBAL value made (GLOBAL, STACK_GLOBAL, INST's class, EXT1/2/4), in order. */
size_t ckpt_pickle_global_count(const struct ckpt_pickle *p);
const struct ckpt_pv *ckpt_pickle_global(const struct ckpt_pickle *p, size_t i);
/* Every call-like event, in order. */
size_t ckpt_pickle_call_count(const struct ckpt_pickle *p);
const struct ckpt_pickle_call *ckpt_pickle_call(const struct ckpt_pickle *p, size_t i);
/* Every PERSID value made (PERSID, BINPERSID), in order. */
size_t ckpt_pickle_persid_count(const struct ckpt_pickle *p);
const struct ckpt_pv *ckpt_pickle_persid(const struct ckpt_pickle *p, size_t i);

/* Facts for the safety checker about the last pickle loaded: the PROTO version (-1 if none),
 * how many PROTO opcodes there were, and whether the first opcode was not PROTO when one was. */
struct ckpt_pickle_info {
    int proto;
    unsigned proto_count;
    int proto_misplaced;
    uint64_t ops;       /* opcodes executed */
    size_t stack_left;  /* values left on the stack under the result at STOP */
    int frame_straddle; /* the load failed because an argument or STOP crossed a FRAME's end
                           (Python reads across frames: a parser differential) */
};
void ckpt_pickle_info(const struct ckpt_pickle *p, struct ckpt_pickle_info *out);

/* Helpers for interpreting values. */
int ckpt_pv_is_str(const struct ckpt_pv *v, const char *s);
int ckpt_pv_is_global(const struct ckpt_pv *v, const char *module, const char *name);
/* Name of an opcode byte ("REDUCE"), or "?" */
const char *ckpt_pickle_opname(unsigned char op);

#endif
