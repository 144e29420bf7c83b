/* The tensorset as the JSON object `inspect --json` prints (and the web API will serve).
 * Not for human tables (the CLI draws those). */
#include <string.h>

#include "ckptdb/buf.h"
#include "tensorset_impl.h"

void ckpt_tensorset_json(const struct ckpt_tensorset *ts, struct ckpt_json *j)
{
    ckpt_json_obj_begin(j);
    ckpt_json_key(j, "path");
    ckpt_json_str(j, ts->path);
    ckpt_json_key(j, "format");
    ckpt_json_str(j, ckpt_format_name(ts->format));
    ckpt_json_key(j, "size");
    ckpt_json_u64(j, ts->file_size);
    ckpt_json_key(j, "header_bytes");
    ckpt_json_u64(j, ts->header_bytes);
    ckpt_json_key(j, "tensor_count");
    ckpt_json_u64(j, ts->n_tensors);
    ckpt_json_key(j, "parameter_count");
    ckpt_json_u64(j, ckpt_tensorset_parameter_count(ts));

    uint64_t counts[CKPT_DT_COUNT] = {0};
    for (size_t i = 0; i < ts->n_tensors; i++)
        counts[ts->tensors[i].dtype]++;
    ckpt_json_key(j, "dtypes");
    ckpt_json_obj_begin(j);
    for (int t = 0; t < CKPT_DT_COUNT; t++)
        if (counts[t]) {
            ckpt_json_key(j, ckpt_dtype_name((enum ckpt_dtype)t));
            ckpt_json_u64(j, counts[t]);
        }
    ckpt_json_obj_end(j);

    ckpt_json_key(j, "metadata");
    ckpt_json_obj_begin(j);
    for (size_t i = 0; i < ts->n_meta; i++) {
        ckpt_json_key(j, ts->meta[i].key);
        ckpt_json_str(j, ts->meta[i].value);
    }
    ckpt_json_obj_end(j);

    ckpt_json_key(j, "tensors");
    ckpt_json_arr_begin(j);
    for (size_t i = 0; i < ts->n_tensors; i++) {
        const struct ckpt_tensor *t = &ts->tensors[i];
        const struct ckpt_source *src = &ts->sources[t->source].pub;
        ckpt_json_obj_begin(j);
        ckpt_json_key(j, "name");
        ckpt_json_str(j, t->name);
        ckpt_json_key(j, "dtype");
        ckpt_json_str(j, ckpt_dtype_name(t->dtype));
        ckpt_json_key(j, "shape");
        ckpt_json_arr_begin(j);
        for (uint32_t d = 0; d < t->ndim; d++)
            ckpt_json_u64(j, t->shape[d]);
        ckpt_json_arr_end(j);
        ckpt_json_key(j, "offset");
        ckpt_json_u64(j, src->compressed ? t->offset : src->file_offset + t->offset);
        ckpt_json_key(j, "nbytes");
        ckpt_json_u64(j, t->nbytes);
        if (!t->contiguous) {
            ckpt_json_key(j, "stride");
            ckpt_json_arr_begin(j);
            for (uint32_t d = 0; d < t->ndim; d++)
                ckpt_json_i64(j, t->stride[d]);
            ckpt_json_arr_end(j);
        }
        if (src->member) {
            ckpt_json_key(j, "member");
            ckpt_json_str(j, src->member);
            if (src->compressed) {
                ckpt_json_key(j, "compressed");
                ckpt_json_bool(j, 1);
            }
        }
        if (src->path != ts->path && strcmp(src->path, ts->path) != 0) {
            ckpt_json_key(j, "file");
            ckpt_json_str(j, src->path);
        }
        ckpt_json_obj_end(j);
    }
    ckpt_json_arr_end(j);
    ckpt_json_obj_end(j);
}
