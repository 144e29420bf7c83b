/* libFuzzer target: the safetensors header parser (through the tensorset's detection), from
 * memory, with limits tight enough that no input can allocate more than a few MiB. */
#include <stdint.h>
#include <stdlib.h>

#include "ckptdb/tensorset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ckpt_limits lim;
    ckpt_limits_default(&lim);
    lim.safetensors_header_max = 1 << 20;
    lim.max_tensors = 10000;
    lim.max_metadata = 10000;
    struct ckpt_reader *r;
    if (ckpt_reader_open_memory(&r, data, size, "fuzz.safetensors", NULL))
        return 0;
    struct ckpt_tensorset *ts;
    if (ckpt_tensorset_open_reader(&ts, r, &lim, NULL) == CKPT_OK) {
        /* touch everything a caller would */
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
