/* Status codes and the error record every library call can fill.
 *
 * Every fallible function returns CKPT_OK (0) or a negative CKPT_E_* code, and takes an optional
 * struct ckpt_error * that receives a one-line message naming the file, what failed and where.
 * The struct is caller-owned; nothing inside it needs freeing. */
#ifndef CKPTDB_ERROR_H
#define CKPTDB_ERROR_H

#include <stddef.h>

enum ckpt_status {
    CKPT_OK = 0,
    CKPT_E_IO = -1,          /* the operating system refused a read/write/open */
    CKPT_E_FORMAT = -2,      /* the bytes do not follow the format */
    CKPT_E_LIMIT = -3,       /* a count, length or size is beyond a configured limit */
    CKPT_E_NOMEM = -4,       /* allocation failed */
    CKPT_E_UNSUPPORTED = -5, /* a well-formed file of a kind ckptdb does not read */
    CKPT_E_ARG = -6,         /* the caller passed something invalid */
    CKPT_E_NOTFOUND = -7,    /* a named thing is not there */
    CKPT_E_CANCELLED = -8,   /* a callback asked to stop */
    CKPT_E_CHANGED = -9,     /* a file changed while it was being read */
};

#define CKPT_ERROR_MSG_MAX 768

struct ckpt_error {
    int code;
    char msg[CKPT_ERROR_MSG_MAX];
};

/* Fill err (if not NULL) with code and a printf-style message; returns code. */
int ckpt_error_set(struct ckpt_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Same, prefixed with "NAME: ". */
int ckpt_error_setf(struct ckpt_error *err, int code, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Clear err (if not NULL). */
void ckpt_error_clear(struct ckpt_error *err);

/* A short, static description of a status code. */
const char *ckpt_status_str(int code);

#endif
