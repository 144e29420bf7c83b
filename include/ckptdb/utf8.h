/* UTF-8: validation (strict: no overlong forms, surrogates or code points past U+10FFFF) and
 * encoding of one code point. Shared by every parser and writer that handles text. */
#ifndef CKPTDB_UTF8_H
#define CKPTDB_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Length of the valid UTF-8 sequence at p (1 for ASCII), or 0 if the bytes there are not one. */
size_t ckpt_utf8_seq(const unsigned char *p, size_t n);

/* 1 if all n bytes are valid UTF-8; else 0 with *bad = offset of the first invalid byte. */
int ckpt_utf8_valid(const unsigned char *p, size_t n, size_t *bad);

/* Encode code point cp (< 0x110000) at o (room for 4 bytes); returns the bytes written. */
size_t ckpt_utf8_put(unsigned char *o, uint32_t cp);

#endif
