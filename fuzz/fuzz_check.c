/* libFuzzer target: the safety checker over memory (zip survey mode, every member sniffed,
 * every pickle judged with records kept past errors, the strict reader at the end), with limits
 * tight enough that no input can allocate more than a few tens of MiB. Asserts the result is
 * coherent: the verdict is the worst finding's severity, and no finding says "safe". */
#include <stdint.h>
#include <stdlib.h>

#include "ckptdb/safety.h"

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
    struct ckpt_check_result res = {0};
    if (ckpt_check_reader(r, &lim, &res, NULL) == CKPT_OK) {
        enum ckpt_verdict worst = CKPT_VERDICT_SAFE;
        for (size_t i = 0; i < res.n; i++) {
            if (res.findings[i].severity == CKPT_VERDICT_SAFE || !res.findings[i].what)
                abort();
            if (res.findings[i].severity > worst)
                worst = res.findings[i].severity;
        }
        if (worst != res.verdict && !res.dropped)
            abort();
        struct ckpt_buf b = {0};
        struct ckpt_json j;
        ckpt_json_init(&j, &b, 0);
        ckpt_check_json(&res, "fuzz.ckpt", &j);
        ckpt_buf_free(&b);
    }
    ckpt_check_result_release(&res);
    ckpt_reader_close(r);
    return 0;
}
