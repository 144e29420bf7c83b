/* The error record: formatting messages into struct ckpt_error.
 * Not for logging: the library never prints; callers decide what to do with a message. */
#include "ckptdb/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int ckpt_error_set(struct ckpt_error *err, int code, const char *fmt, ...)
{
    if (!err)
        return code;
    va_list ap;
    va_start(ap, fmt);
    err->code = code;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return code;
}

int ckpt_error_setf(struct ckpt_error *err, int code, const char *name, const char *fmt, ...)
{
    if (!err)
        return code;
    va_list ap;
    va_start(ap, fmt);
    err->code = code;
    int n = snprintf(err->msg, sizeof err->msg, "%s: ", name ? name : "(input)");
    if (n < 0)
        n = 0;
    if ((size_t)n < sizeof err->msg)
        vsnprintf(err->msg + n, sizeof err->msg - (size_t)n, fmt, ap);
    va_end(ap);
    return code;
}

void ckpt_error_clear(struct ckpt_error *err)
{
    if (err) {
        err->code = CKPT_OK;
        err->msg[0] = '\0';
    }
}

const char *ckpt_status_str(int code)
{
    switch (code) {
    case CKPT_OK:
        return "ok";
    case CKPT_E_IO:
        return "input/output error";
    case CKPT_E_FORMAT:
        return "malformed file";
    case CKPT_E_LIMIT:
        return "limit exceeded";
    case CKPT_E_NOMEM:
        return "out of memory";
    case CKPT_E_UNSUPPORTED:
        return "unsupported";
    case CKPT_E_ARG:
        return "invalid argument";
    case CKPT_E_NOTFOUND:
        return "not found";
    case CKPT_E_CANCELLED:
        return "cancelled";
    case CKPT_E_CHANGED:
        return "file changed while reading";
    }
    return "unknown error";
}
