/* A growable byte buffer and a JSON emitter that writes into it.
 *
 * The emitter tracks commas and nesting; strings are escaped per RFC 8259 (invalid UTF-8 bytes
 * are replaced by U+FFFD so the output is always valid JSON). Allocation failure is sticky:
 * it sets buf->oom and later writes are dropped; check it once at the end.
 * Ownership: the buffer owns data; ckpt_buf_free releases it. */
#ifndef CKPTDB_BUF_H
#define CKPTDB_BUF_H

#include <stddef.h>
#include <stdint.h>

struct ckpt_buf {
    char *data;
    size_t len, cap;
    int oom;
};

void ckpt_buf_put(struct ckpt_buf *b, const void *p, size_t n);
void ckpt_buf_puts(struct ckpt_buf *b, const char *s);
void ckpt_buf_putc(struct ckpt_buf *b, char c);
void ckpt_buf_printf(struct ckpt_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void ckpt_buf_reset(struct ckpt_buf *b); /* len = 0, keeps memory */
void ckpt_buf_free(struct ckpt_buf *b);
/* NUL-terminated view of the contents (adds a NUL after len without counting it). */
const char *ckpt_buf_cstr(struct ckpt_buf *b);

#define CKPT_JSON_MAX_DEPTH 64

struct ckpt_json {
    struct ckpt_buf *b;
    int depth;
    int pretty;
    unsigned char count[CKPT_JSON_MAX_DEPTH]; /* items written at each depth (saturating) */
    int after_key;
};

void ckpt_json_init(struct ckpt_json *j, struct ckpt_buf *b, int pretty);
void ckpt_json_obj_begin(struct ckpt_json *j);
void ckpt_json_obj_end(struct ckpt_json *j);
void ckpt_json_arr_begin(struct ckpt_json *j);
void ckpt_json_arr_end(struct ckpt_json *j);
void ckpt_json_key(struct ckpt_json *j, const char *k);
void ckpt_json_str(struct ckpt_json *j, const char *s); /* NULL writes null */
void ckpt_json_strn(struct ckpt_json *j, const char *s, size_t n);
void ckpt_json_u64(struct ckpt_json *j, uint64_t v);
void ckpt_json_i64(struct ckpt_json *j, int64_t v);
void ckpt_json_double(struct ckpt_json *j, double v); /* non-finite values write null */
void ckpt_json_bool(struct ckpt_json *j, int v);
void ckpt_json_null(struct ckpt_json *j);
/* Write pre-formatted JSON text as one value. */
void ckpt_json_raw(struct ckpt_json *j, const char *text, size_t n);

/* Append s (n bytes) escaped as a JSON string with quotes. */
void ckpt_json_escape(struct ckpt_buf *b, const char *s, size_t n);

#endif
