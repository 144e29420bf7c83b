/* libFuzzer target for the GGUF reader: parses the input from memory with limits tight enough
 * that no input can make one run allocate more than a few tens of MiB. */
#include <stddef.h>
#include <stdint.h>

#include "ckptdb/tensorset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ckpt_limits lim;
    ckpt_limits_default(&lim);
    lim.max_tensors = 4096;
    lim.max_metadata = 4096;
    lim.gguf_max_kv = 4096;
    lim.gguf_max_array = 1u << 20;
    lim.max_name_len = 4096;
    lim.max_string_len = 1u << 20;
    struct ckpt_reader *r;
    struct ckpt_error err;
    if (ckpt_reader_open_memory(&r, data, size, "fuzz.gguf", &err))
        return 0;
    struct ckpt_tensorset *ts;
    if (ckpt_tensorset_open_reader(&ts, r, &lim, &err) == CKPT_OK) {
        /* touch what a caller would */
        for (size_t i = 0; i < ckpt_tensorset_count(ts); i++)
            (void)ckpt_tensorset_find(ts, ckpt_tensorset_tensor(ts, i)->name);
        for (size_t i = 0; i < ckpt_tensorset_meta_count(ts); i++)
            (void)ckpt_tensorset_meta_value(ts, i);
        ckpt_tensorset_close(ts);
    }
    ckpt_reader_close(r);
    return 0;
}
