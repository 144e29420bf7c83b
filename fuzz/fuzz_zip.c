/* libFuzzer target: the zip directory reader and member listing/reading from memory, then the
 * whole torch reader (tensorset detection -> torch zip / legacy) over the same bytes, with
 * limits tight enough that no input can allocate more than a few tens of MiB. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ckptdb/tensorset.h"
#include "ckptdb/zip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ckpt_limits lim;
    ckpt_limits_default(&lim);
    lim.zip_max_entries = 10000;
    lim.zip_max_inflate = 16 << 20;
    lim.pickle_max_bytes = 4 << 20;
    lim.pickle_max_alloc = 64 << 20;
    lim.pickle_max_ops = 1000000;
    lim.pickle_max_stack = 10000;
    lim.pickle_max_memo = 100000;
    lim.max_string_len = 1 << 20;
    lim.max_tensors = 10000;
    lim.max_metadata = 10000;
    struct ckpt_reader *r;
    if (ckpt_reader_open_memory(&r, data, size, "fuzz.ckpt", NULL))
        return 0;
    struct ckpt_zip *z;
    if (ckpt_zip_open(&z, r, &lim, NULL) == CKPT_OK) {
        for (size_t i = 0; i < ckpt_zip_count(z); i++) {
            const struct ckpt_zip_member *m = ckpt_zip_member(z, i);
            if (ckpt_zip_find(z, m->name) != m)
                abort();
            void *buf;
            size_t len;
            if (ckpt_zip_read(z, m, 1 << 20, &buf, &len, NULL) == CKPT_OK)
                free(buf);
            struct ckpt_reader *mr;
            if (ckpt_zip_open_member(z, m, &mr, NULL) == CKPT_OK)
                ckpt_reader_close(mr);
        }
        ckpt_zip_close(z);
    }
    struct ckpt_tensorset *ts;
    if (ckpt_tensorset_open_reader(&ts, r, &lim, NULL) == CKPT_OK) {
        size_t n = ckpt_tensorset_count(ts);
        for (size_t i = 0; i < n; i++) {
            const struct ckpt_tensor *t = ckpt_tensorset_tensor(ts, i);
            if (ckpt_tensorset_find(ts, t->name) != t)
                abort();
            if (t->nbytes <= 4096) {
                unsigned char buf[4096];
                ckpt_tensorset_read_tensor(ts, t, buf, sizeof buf, NULL);
            }
        }
        ckpt_tensorset_close(ts);
    }
    ckpt_reader_close(r);
    return 0;
}
