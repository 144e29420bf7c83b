/* Internal: turning the values of a torch pickle (data.pkl, or the legacy object pickle) into
 * tensorset tensors and metadata. Shared by torchzip.c and torchlegacy.c; not a public header. */
#ifndef CKPTDB_TORCHPICKLE_H
#define CKPTDB_TORCHPICKLE_H

#include "../model/tensorset_impl.h"
#include "ckptdb/pickle.h"

/* A parsed persistent id ('storage', type, key, location, numel[, view_metadata]). */
struct torch_pid {
    enum ckpt_dtype dtype;
    const char *key;
    size_t key_len;
    uint64_t numel; /* elements of the (root) storage */
    int is_view;    /* legacy only: a view (view_key, offset, size) into the root storage */
    const char *view_key;
    size_t view_key_len;
    uint64_t view_offset, view_numel; /* elements */
    uint64_t offset;                  /* byte offset of the opcode, for messages */
};

/* Parse a PERSID value's id; CKPT_E_FORMAT (naming the byte offset) when it is not a storage
 * id, CKPT_E_UNSUPPORTED for storage types ckptdb does not map (quantized storages). */
int torch_parse_pid(struct ckpt_tensorset *ts, const struct ckpt_pv *persid, struct torch_pid *out,
                    struct ckpt_error *err);

/* The container's storage resolver: the source index holding the storage's bytes (checked
 * against pid->numel) and the byte size of the storage (or view) it exposes. */
typedef int (*torch_storage_fn)(void *user, struct ckpt_tensorset *ts, const struct torch_pid *pid,
                                uint32_t *source, struct ckpt_error *err);

/* Walk the unpickled object and add its tensors and scalar metadata to ts:
 *  - the root is a dict or collections.OrderedDict (else: no tensors, no error);
 *  - a top-level "state_dict" dict (the Lightning wrapper) is unwrapped: its tensors keep their
 *    own names; every other nested dict is walked with its key and "." as a prefix
 *    ("string_to_param.*" in a textual-inversion file);
 *  - values that are tensors (torch._utils._rebuild_tensor_v2, _rebuild_tensor,
 *    _rebuild_parameter, _rebuild_parameter_with_state) become tensors named by their key path;
 *  - int, float, bool and str values become metadata under the same key path;
 *  - lists, None and other objects are skipped. */
int torch_collect(struct ckpt_tensorset *ts, const struct ckpt_pv *root, torch_storage_fn fn,
                  void *user, struct ckpt_error *err);

#endif
