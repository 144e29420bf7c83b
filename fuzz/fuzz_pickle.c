/* libFuzzer target: the restricted pickle machine over arbitrary bytes, as a stream of pickles
 * (the legacy layout), walking the records it keeps. Limits keep a run under ~64 MiB. */
#include <stdint.h>
#include <stdlib.h>

#include "ckptdb/pickle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ckpt_limits lim;
    ckpt_limits_default(&lim);
    lim.pickle_max_alloc = 64 << 20;
    lim.pickle_max_ops = 1000000;
    lim.pickle_max_stack = 10000;
    lim.pickle_max_memo = 100000;
    lim.max_string_len = 1 << 20;
    struct ckpt_pickle *p;
    if (ckpt_pickle_new(&p, &lim, "fuzz.pkl", NULL))
        return 0;
    size_t pos = 0;
    for (int i = 0; i < 5 && pos < size; i++) {
        const struct ckpt_pv *v;
        size_t used;
        if (ckpt_pickle_load(p, data + pos, size - pos, pos, 0, &v, &used, NULL) != CKPT_OK)
            break;
        if (!v || used == 0 || used > size - pos)
            abort();
        pos += used;
    }
    for (size_t i = 0; i < ckpt_pickle_global_count(p); i++)
        if (ckpt_pickle_global(p, i)->kind != CKPT_PV_GLOBAL)
            abort();
    for (size_t i = 0; i < ckpt_pickle_call_count(p); i++)
        if (!ckpt_pickle_call(p, i)->callable)
            abort();
    ckpt_pickle_free(p);
    return 0;
}
