/* Check results: verdict names, releasing findings, and the JSON object the contract defines
 * for `check` ({path, verdict, findings: [{severity, what, where}]}).
 * Not for reaching a verdict (check.c). */
#include <stdlib.h>
#include <string.h>

#include "ckptdb/safety.h"

static const char *const names[] = {"safe", "invalid", "suspicious", "dangerous"};

const char *ckpt_verdict_name(enum ckpt_verdict v)
{
    return (unsigned)v < sizeof names / sizeof *names ? names[v] : "invalid";
}

int ckpt_verdict_parse(const char *s, enum ckpt_verdict *out)
{
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (enum ckpt_verdict)i;
            return CKPT_OK;
        }
    return CKPT_E_ARG;
}

void ckpt_check_result_release(struct ckpt_check_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        free(r->findings[i].what);
        free(r->findings[i].where);
    }
    free(r->findings);
    memset(r, 0, sizeof *r);
}

void ckpt_check_json(const struct ckpt_check_result *r, const char *path, struct ckpt_json *j)
{
    ckpt_json_obj_begin(j);
    ckpt_json_key(j, "path");
    ckpt_json_str(j, path);
    ckpt_json_key(j, "verdict");
    ckpt_json_str(j, ckpt_verdict_name(r->verdict));
    ckpt_json_key(j, "format");
    ckpt_json_str(j, r->format ? r->format : "unknown");
    ckpt_json_key(j, "findings");
    ckpt_json_arr_begin(j);
    for (size_t i = 0; i < r->n; i++) {
        const struct ckpt_finding *f = &r->findings[i];
        ckpt_json_obj_begin(j);
        ckpt_json_key(j, "severity");
        ckpt_json_str(j, ckpt_verdict_name(f->severity));
        ckpt_json_key(j, "what");
        ckpt_json_str(j, f->what);
        ckpt_json_key(j, "where");
        ckpt_json_str(j, f->where);
        ckpt_json_key(j, "count");
        ckpt_json_u64(j, f->count);
        ckpt_json_obj_end(j);
    }
    ckpt_json_arr_end(j);
    if (r->dropped) {
        ckpt_json_key(j, "findings_not_listed");
        ckpt_json_u64(j, r->dropped);
    }
    ckpt_json_obj_end(j);
}
