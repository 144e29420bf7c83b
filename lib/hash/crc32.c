/* CRC-32 exactly as zlib's crc32_z computes it (the IEEE/gzip reflected polynomial), through
 * isa-l's carry-less-multiply folding code when the build found isa-l (about 10 GB/s against
 * zlib's 2.5 GB/s on the benchmark machine, see bench/hash.sh), else through zlib. Not for other
 * CRC variants. */
#include <limits.h>
#include <zlib.h>

#include "ckptdb/hash.h"

#ifdef CKPT_HAVE_ISAL
#include <isa-l/crc.h>
#endif

uint32_t ckpt_crc32_update(uint32_t crc, const void *data, size_t len)
{
#ifdef CKPT_HAVE_ISAL
    const unsigned char *p = data;
    while (len) {
        uint64_t n = len > UINT32_MAX / 2 ? UINT32_MAX / 2 : len;
        crc = crc32_gzip_refl(crc, p, n);
        p += n;
        len -= (size_t)n;
    }
    return crc;
#else
    return (uint32_t)crc32_z(crc, data, len);
#endif
}

const char *ckpt_crc32_impl(void)
{
#ifdef CKPT_HAVE_ISAL
    return "isa-l";
#else
    return "zlib";
#endif
}
