/* Layout templates: compile "{output|unsorted}/{realism}" (or a preset name) once, then expand it
 * for each model into a relative folder path whose every component is safe on every filesystem a
 * UI runs on. Used by organize (where files go) and views (how links are grouped). Not for moving
 * anything: that is plan.c / apply.c. The rules are described in include/ckptdb/layout.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ckptdb/buf.h"
#include "ckptdb/layout.h"
#include "ckptdb/utf8.h"

enum field {
    F_LITERAL = -1,
    F_KIND,
    F_FAMILY,
    F_ECOSYSTEM,
    F_ORIGIN,
    F_OUTPUT,
    F_REALISM,
    F_SUBJECT,
    F_SOURCE,
    F_NAME,
    F_A1111,
    F_COUNT
};

static const char *const field_names[F_COUNT] = {"kind",   "family",  "ecosystem", "origin",
                                                 "output", "realism", "subject",   "source",
                                                 "name",   "a1111"};
#define VALID_FIELDS                                                                               \
    "kind, family, ecosystem, origin, output, realism, subject, source, name, a1111"

/* Presets, decided from ../shared/research/catalog.md: collectors group checkpoints by what they
 * draw and how realistic (§2, A1111#6729 "tag 1.5/2.1, anime/photo", InvokeAI#5906), by base
 * (civbrowser's default save path starts with the base model); "a1111" puts each kind in the
 * folder A1111/Forge reads it from (§0) with the family as the sub-folder the Extra Networks tab
 * shows as a group, so --into can be the webui root. */
static const struct {
    const char *name, *tmpl;
} presets[] = {
    {"by-output", "{output|unsorted}"},
    {"by-output-realism", "{output|unsorted}/{realism}"},
    {"by-family-output", "{family|unknown}/{output|unsorted}"},
    {"a1111", "{a1111}/{family|unknown}"},
};
static const char *const preset_names[] = {"by-output", "by-output-realism", "by-family-output",
                                           "a1111", NULL};

/* kind -> the folder A1111/Forge reads it from, relative to the webui root */
static const struct {
    const char *kind, *dir;
} a1111_dirs[] = {
    {"checkpoint", "models/Stable-diffusion"},
    {"diffusion-model", "models/Stable-diffusion"},
    {"vae", "models/VAE"},
    {"text-encoder", "models/text_encoder"},
    {"lora", "models/Lora"},
    {"embedding", "embeddings"},
    {"hypernetwork", "models/hypernetworks"},
    {"controlnet", "models/ControlNet"},
    {"t2i-adapter", "models/ControlNet"},
    {"ip-adapter", "models/ControlNet"},
    {"clip-vision", "models/clip_vision"},
};
#define A1111_OTHER "models/Other"

struct piece {
    int field;  /* F_LITERAL or a field */
    char *text; /* the literal, or the fallback (NULL: none) */
};
struct comp {
    struct piece *p;
    size_t n;
};
struct ckpt_layout {
    char *tmpl;
    struct comp *c;
    size_t n;
};

const char *const *ckpt_layout_presets(void)
{
    return preset_names;
}

const char *ckpt_layout_preset_template(const char *name)
{
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
        if (strcmp(presets[i].name, name) == 0)
            return presets[i].tmpl;
    return NULL;
}

const char *ckpt_layout_template(const struct ckpt_layout *l)
{
    return l ? l->tmpl : NULL;
}

void ckpt_layout_free(struct ckpt_layout *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++) {
        for (size_t k = 0; k < l->c[i].n; k++)
            free(l->c[i].p[k].text);
        free(l->c[i].p);
    }
    free(l->c);
    free(l->tmpl);
    free(l);
}

static int bad_literal_char(unsigned char ch)
{
    return ch < 0x20 || ch == 0x7f || strchr("\\<>:\"|?*", ch) != NULL;
}

static int add_piece(struct comp *c, int field, const char *text, size_t len)
{
    struct piece *np = realloc(c->p, (c->n + 1) * sizeof *np);
    if (!np)
        return CKPT_E_NOMEM;
    c->p = np;
    c->p[c->n].field = field;
    c->p[c->n].text = NULL;
    if (text) {
        c->p[c->n].text = strndup(text, len);
        if (!c->p[c->n].text)
            return CKPT_E_NOMEM;
    }
    c->n++;
    return CKPT_OK;
}

static int new_comp(struct ckpt_layout *l)
{
    struct comp *nc = realloc(l->c, (l->n + 1) * sizeof *nc);
    if (!nc)
        return CKPT_E_NOMEM;
    l->c = nc;
    l->c[l->n].p = NULL;
    l->c[l->n].n = 0;
    l->n++;
    return CKPT_OK;
}

static int check_literal(const char *tmpl, const char *s, size_t n, struct ckpt_error *err)
{
    for (size_t i = 0; i < n; i++)
        if (bad_literal_char((unsigned char)s[i]))
            return ckpt_error_set(err, CKPT_E_ARG,
                                  "layout '%s': the character '%c' cannot be part of a folder "
                                  "name on every filesystem",
                                  tmpl, s[i] >= 0x20 ? s[i] : '?');
    return CKPT_OK;
}

/* the component being closed: refuse "." / ".." literals and a1111 mixed with anything */
static int close_comp(const char *tmpl, const struct comp *c, struct ckpt_error *err)
{
    int has_a = 0;
    for (size_t i = 0; i < c->n; i++)
        has_a |= c->p[i].field == F_A1111;
    if (has_a && c->n != 1)
        return ckpt_error_set(err, CKPT_E_ARG,
                              "layout '%s': {a1111} must be a folder on its own (\"{a1111}/...\")",
                              tmpl);
    if (c->n == 1 && c->p[0].field == F_LITERAL &&
        (strcmp(c->p[0].text, ".") == 0 || strcmp(c->p[0].text, "..") == 0))
        return ckpt_error_set(err, CKPT_E_ARG, "layout '%s': '.' and '..' are not allowed", tmpl);
    return CKPT_OK;
}

static int compile(struct ckpt_layout *l, struct ckpt_error *err)
{
    const char *t = l->tmpl;
    if (t[0] == '/')
        return ckpt_error_set(err, CKPT_E_ARG,
                              "layout '%s': the template is a folder under --into, not an "
                              "absolute path",
                              t);
    if (strlen(t) > 1024)
        return ckpt_error_set(err, CKPT_E_ARG, "layout: the template is longer than 1024 bytes");
    const char *p = t;
    while (*p) {
        if (*p == '/') { /* empty components ("a//b", a trailing '/') add nothing */
            p++;
            continue;
        }
        int rc = new_comp(l);
        if (rc != CKPT_OK)
            return ckpt_error_set(err, rc, "layout: out of memory");
        struct comp *c = &l->c[l->n - 1];
        while (*p && *p != '/') {
            if (*p == '{') {
                const char *end = strchr(p, '}');
                const char *slash = strchr(p, '/');
                if (!end || (slash && slash < end))
                    return ckpt_error_set(err, CKPT_E_ARG, "layout '%s': '{' is not closed", t);
                const char *bar = memchr(p, '|', (size_t)(end - p));
                size_t nlen = (size_t)((bar ? bar : end) - (p + 1));
                int f = -1;
                for (int k = 0; k < F_COUNT; k++)
                    if (strlen(field_names[k]) == nlen && strncmp(field_names[k], p + 1, nlen) == 0)
                        f = k;
                if (f < 0)
                    return ckpt_error_set(err, CKPT_E_ARG,
                                          "layout '%s': unknown field '{%.*s}'; the fields are %s",
                                          t, (int)(nlen > 64 ? 64 : nlen), p + 1, VALID_FIELDS);
                if (memchr(p + 1, '{', (size_t)(end - p - 1)))
                    return ckpt_error_set(err, CKPT_E_ARG, "layout '%s': '{' inside a field", t);
                const char *fb = bar ? bar + 1 : NULL;
                size_t fblen = bar ? (size_t)(end - fb) : 0;
                if (fb && f == F_A1111)
                    return ckpt_error_set(err, CKPT_E_ARG,
                                          "layout '%s': {a1111} always has a value; it takes no "
                                          "fallback",
                                          t);
                if (fb && (rc = check_literal(t, fb, fblen, err)) != CKPT_OK)
                    return rc;
                if (fb && fblen > 0 && strspn(fb, ".") == fblen)
                    return ckpt_error_set(
                        err, CKPT_E_ARG, "layout '%s': a fallback of dots is not a folder name", t);
                if (add_piece(c, f, fb, fblen) != CKPT_OK)
                    return ckpt_error_set(err, CKPT_E_NOMEM, "layout: out of memory");
                p = end + 1;
            } else if (*p == '}') {
                return ckpt_error_set(err, CKPT_E_ARG, "layout '%s': '}' without '{'", t);
            } else {
                size_t n = strcspn(p, "{}/");
                if ((rc = check_literal(t, p, n, err)) != CKPT_OK)
                    return rc;
                if (add_piece(c, F_LITERAL, p, n) != CKPT_OK)
                    return ckpt_error_set(err, CKPT_E_NOMEM, "layout: out of memory");
                p += n;
            }
        }
        if ((rc = close_comp(t, c, err)) != CKPT_OK)
            return rc;
    }
    return CKPT_OK;
}

int ckpt_layout_compile(const char *template_or_preset, struct ckpt_layout **out,
                        struct ckpt_error *err)
{
    *out = NULL;
    if (!template_or_preset)
        return ckpt_error_set(err, CKPT_E_ARG, "layout: no template given");
    const char *t = ckpt_layout_preset_template(template_or_preset);
    if (!t)
        t = template_or_preset;
    struct ckpt_layout *l = calloc(1, sizeof *l);
    if (!l || !(l->tmpl = strdup(t))) {
        free(l);
        return ckpt_error_set(err, CKPT_E_NOMEM, "layout: out of memory");
    }
    int rc = compile(l, err);
    if (rc != CKPT_OK) {
        ckpt_layout_free(l);
        return rc;
    }
    *out = l;
    return CKPT_OK;
}

/* first item of a comma list, trimmed of spaces */
static void first_item(const char *v, const char **s, size_t *n)
{
    while (*v == ' ')
        v++;
    size_t k = strcspn(v, ",");
    while (k > 0 && v[k - 1] == ' ')
        k--;
    *s = v;
    *n = k;
}

static void field_value(const struct ckpt_model *m, int f, const char **s, size_t *n)
{
    const char *v = NULL;
    switch (f) {
    case F_KIND:
        v = m->kind;
        break;
    case F_FAMILY:
        v = m->family;
        break;
    case F_ECOSYSTEM:
        v = m->ecosystem;
        break;
    case F_ORIGIN:
        v = m->origin;
        break;
    case F_OUTPUT:
        v = m->output;
        break;
    case F_REALISM:
        v = m->realism;
        break;
    case F_SUBJECT:
        v = m->subjects;
        break;
    case F_SOURCE:
        v = m->source;
        break;
    case F_NAME:
        v = m->name;
        break;
    default:
        break;
    }
    if (!v) {
        *s = "";
        *n = 0;
        return;
    }
    if (f == F_REALISM || f == F_SUBJECT) {
        first_item(v, s, n);
        return;
    }
    *s = v;
    *n = strlen(v);
}

static int windows_device(const char *s, size_t n)
{
    static const char *const dev[] = {"CON", "PRN", "AUX", "NUL", NULL};
    size_t base = 0;
    while (base < n && s[base] != '.')
        base++;
    for (size_t i = 0; dev[i]; i++)
        if (base == 3 && strncasecmp(s, dev[i], 3) == 0)
            return 1;
    if (base == 4 && (strncasecmp(s, "COM", 3) == 0 || strncasecmp(s, "LPT", 3) == 0) &&
        s[3] >= '1' && s[3] <= '9')
        return 1;
    return 0;
}

/* Make one component safe; out has room for CKPT_LAYOUT_COMPONENT_MAX + 2 bytes. Returns the
 * length (0: the component is dropped). */
static size_t sanitize(const char *in, size_t n, char *out)
{
    size_t o = 0, i = 0;
    while (i < n) {
        unsigned char ch = (unsigned char)in[i];
        size_t seq = ch < 0x80 ? 1 : ckpt_utf8_seq((const unsigned char *)in + i, n - i);
        if (seq == 0 || (ch < 0x80 && (bad_literal_char(ch) || ch == '/'))) {
            if (o + 1 > CKPT_LAYOUT_COMPONENT_MAX)
                break;
            out[o++] = '_';
            i += seq ? seq : 1;
            continue;
        }
        if (o + seq > CKPT_LAYOUT_COMPONENT_MAX)
            break;
        memcpy(out + o, in + i, seq);
        o += seq;
        i += seq;
    }
    size_t start = 0;
    while (start < o && out[start] == ' ')
        start++;
    while (o > start && (out[o - 1] == ' ' || out[o - 1] == '.'))
        o--;
    memmove(out, out + start, o - start);
    o -= start;
    if (o > 0 && out[0] == '.') /* no hidden folders */
        out[0] = '_';
    if (o > 0 && windows_device(out, o)) {
        size_t base = 0;
        while (base < o && out[base] != '.')
            base++;
        memmove(out + base + 1, out + base, o - base);
        out[base] = '_';
        o++;
    }
    out[o] = 0;
    return o;
}

static const char *a1111_dir(const char *kind)
{
    for (size_t i = 0; kind && i < sizeof a1111_dirs / sizeof a1111_dirs[0]; i++)
        if (strcmp(a1111_dirs[i].kind, kind) == 0)
            return a1111_dirs[i].dir;
    return A1111_OTHER;
}

int ckpt_layout_expand(const struct ckpt_layout *l, const struct ckpt_model *m, char **out,
                       struct ckpt_error *err)
{
    *out = NULL;
    struct ckpt_buf path = {0}, comp = {0};
    char safe[CKPT_LAYOUT_COMPONENT_MAX + 2];
    for (size_t i = 0; i < l->n; i++) {
        const struct comp *c = &l->c[i];
        if (c->n == 1 && c->p[0].field == F_A1111) {
            if (path.len)
                ckpt_buf_putc(&path, '/');
            ckpt_buf_puts(&path, a1111_dir(m->kind));
            continue;
        }
        ckpt_buf_reset(&comp);
        for (size_t k = 0; k < c->n; k++) {
            const struct piece *pc = &c->p[k];
            if (pc->field == F_LITERAL) {
                ckpt_buf_puts(&comp, pc->text);
                continue;
            }
            const char *s;
            size_t n;
            field_value(m, pc->field, &s, &n);
            if (n > 0 && sanitize(s, n, safe) == 0) /* nothing usable: take the fallback */
                n = 0;
            if (n == 0 && pc->text) {
                s = pc->text;
                n = strlen(s);
            }
            ckpt_buf_put(&comp, s, n);
        }
        size_t sl = sanitize(comp.len ? comp.data : "", comp.len, safe);
        if (sl == 0)
            continue;
        if (path.len)
            ckpt_buf_putc(&path, '/');
        ckpt_buf_put(&path, safe, sl);
    }
    ckpt_buf_cstr(&path);
    int oom = path.oom || comp.oom;
    ckpt_buf_free(&comp);
    if (oom || !path.data) {
        ckpt_buf_free(&path);
        path.data = strdup("");
        if (oom || !path.data) {
            free(path.data);
            return ckpt_error_set(err, CKPT_E_NOMEM, "layout: out of memory");
        }
    }
    *out = path.data;
    return CKPT_OK;
}
