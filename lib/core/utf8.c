/* UTF-8 validation and encoding. The validator skips ASCII 16 bytes at a time: model headers
 * are almost all ASCII and are validated on every open. Not for transcoding. */
#include "ckptdb/utf8.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

size_t ckpt_utf8_seq(const unsigned char *p, size_t n)
{
    if (!n)
        return 0;
    unsigned char c = p[0];
    if (c < 0x80)
        return 1;
    size_t len;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4, cp = c & 0x07;
    else
        return 0;
    if (n < len)
        return 0;
    for (size_t k = 1; k < len; k++) {
        if ((p[k] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[k] & 0x3F);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    return len;
}

int ckpt_utf8_valid(const unsigned char *p, size_t n, size_t *bad)
{
    size_t i = 0;
    while (i < n) {
#ifdef __SSE2__
        while (n - i >= 16 && _mm_movemask_epi8(_mm_loadu_si128((const __m128i *)(p + i))) == 0)
            i += 16;
        if (i >= n)
            break;
#endif
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t l = ckpt_utf8_seq(p + i, n - i);
        if (!l) {
            if (bad)
                *bad = i;
            return 0;
        }
        i += l;
    }
    return 1;
}

size_t ckpt_utf8_put(unsigned char *o, uint32_t c)
{
    if (c < 0x80) {
        o[0] = (unsigned char)c;
        return 1;
    }
    if (c < 0x800) {
        o[0] = (unsigned char)(0xC0 | (c >> 6));
        o[1] = (unsigned char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        o[0] = (unsigned char)(0xE0 | (c >> 12));
        o[1] = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (c & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | (c >> 18));
    o[1] = (unsigned char)(0x80 | ((c >> 12) & 0x3F));
    o[2] = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
    o[3] = (unsigned char)(0x80 | (c & 0x3F));
    return 4;
}
