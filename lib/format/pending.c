/* TEMPORARY during the foundation work: readers being written in parallel. Removed before the
 * foundation issue is closed. */
#include "../model/tensorset_impl.h"

int ckpt_torchzip_parse(struct ckpt_tensorset *ts, struct ckpt_reader *r, struct ckpt_error *err)
{
    (void)r;
    return ckpt_error_setf(err, CKPT_E_UNSUPPORTED, ckpt_ts_name(ts), "torch zip reader pending");
}
int ckpt_torchlegacy_parse(struct ckpt_tensorset *ts, struct ckpt_reader *r,
                           struct ckpt_error *err)
{
    (void)r;
    return ckpt_error_setf(err, CKPT_E_UNSUPPORTED, ckpt_ts_name(ts), "legacy reader pending");
}
