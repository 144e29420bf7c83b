/* The `identify --json` object (CONTRACT.md): one identification result as JSON.
 * Not for deciding anything: it prints what ckpt_identify found. */
#include "ckptdb/buf.h"
#include "ckptdb/identify.h"

void ckpt_identify_json(const struct ckpt_identify_result *r, const char *path, struct ckpt_json *j)
{
    ckpt_json_obj_begin(j);
    ckpt_json_key(j, "path");
    ckpt_json_str(j, path);
    ckpt_json_key(j, "format");
    ckpt_json_str(j, r->format);
    ckpt_json_key(j, "kind");
    ckpt_json_str(j, ckpt_kind_name(r->kind));
    ckpt_json_key(j, "network");
    ckpt_json_str(j, ckpt_network_name(r->network));
    ckpt_json_key(j, "family");
    ckpt_json_str(j, ckpt_family_name(r->family));
    ckpt_json_key(j, "ecosystem");
    ckpt_json_str(j, ckpt_ecosystem_name(r->ecosystem));
    ckpt_json_key(j, "variant");
    ckpt_json_str(j, ckpt_variant_name(r->variant));
    ckpt_json_key(j, "prediction");
    ckpt_json_str(j, ckpt_prediction_name(r->prediction));
    ckpt_json_key(j, "ztsnr");
    ckpt_json_bool(j, r->ztsnr);
    ckpt_json_key(j, "precision");
    ckpt_json_str(j, ckpt_precision_name(r->precision));
    ckpt_json_key(j, "components");
    ckpt_json_arr_begin(j);
    for (unsigned b = 1; b <= CKPT_COMP_EMA; b <<= 1)
        if (r->components & b)
            ckpt_json_str(j, ckpt_component_name(b));
    ckpt_json_arr_end(j);
    ckpt_json_key(j, "problems");
    ckpt_json_arr_begin(j);
    for (size_t i = 0; i < r->n_problems; i++) {
        ckpt_json_obj_begin(j);
        ckpt_json_key(j, "code");
        ckpt_json_str(j, r->problems[i].code);
        ckpt_json_key(j, "message");
        ckpt_json_str(j, r->problems[i].message);
        ckpt_json_obj_end(j);
    }
    ckpt_json_arr_end(j);
    ckpt_json_key(j, "evidence");
    ckpt_json_arr_begin(j);
    for (size_t i = 0; i < r->n_evidence; i++)
        ckpt_json_str(j, r->evidence[i]);
    ckpt_json_arr_end(j);
    ckpt_json_obj_end(j);
}
