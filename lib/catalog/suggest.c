/* Suggestions: what the file and its sidecars hint about the user's fields (origin, output,
 * realism, subjects, ecosystem, trigger words, source), each with a confidence and the reasons.
 * The rules are one data table below (one row per signal; tests/unit/test_catalog_suggest.c has
 * a test per row); the code only evaluates the kinds of signal. Merge recipes also give parents.
 * A suggestion is never a chosen value: model.c stores them apart, `accept` copies them over.
 * One more source is not in this table: lineage from the weights (lineage.c, after a scan:
 * origin merge/fine-tune with parents, output/realism/ecosystem carried from close parents).
 * Not for measured facts (identify) or for storing anything. */
#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "catalog/internal.h"
#include "ckptdb/buf.h"

enum signal {
    SIG_META_KEY,     /* metadata key `key` is present (prefix match when key ends with '*') */
    SIG_NAME_WORD,    /* a word of the model/file/title names is one of `match` ('|' list);
                         words with a digit or '.' are found as substrings of the lower-case name */
    SIG_SITE_TYPE,    /* Civitai checkpointType (or type) equals one of `match` */
    SIG_SITE_BASE,    /* Civitai baseModel contains one of `match` */
    SIG_SITE_TAG,     /* a Civitai/modelspec tag is one of `match` */
    SIG_TAGFREQ,      /* kohya ss_tag_frequency leans to the word list named by `match` */
    SIG_SIDE_SOURCE,  /* a sidecar says where the file came from: value copied */
    SIG_SIDE_URL,     /* a sidecar gives the source URL: value copied */
    SIG_SIDE_TRIGGER, /* a sidecar lists trigger words: value copied */
    SIG_META_TRIGGER, /* modelspec.trigger_phrase: value copied */
};

struct rule {
    const char *id;
    enum signal sig;
    const char *match;
    const char *field;
    const char *value; /* NULL: copied from the signal */
    double confidence;
    const char *why;
};

static const struct rule rules[] = {
    /* how it was made */
    {"meta-merge-recipe", SIG_META_KEY, "sd_merge_recipe", "origin", "merge", 0.9,
     "metadata sd_merge_recipe (A1111 checkpoint merger recipe)"},
    {"meta-merge-models", SIG_META_KEY, "sd_merge_models", "origin", "merge", 0.9,
     "metadata sd_merge_models (the merged models' hashes)"},
    {"meta-mecha", SIG_META_KEY, "mecha*", "origin", "merge", 0.85,
     "metadata mecha recipe (sd-mecha merger)"},
    {"meta-modelspec-merged-from", SIG_META_KEY, "modelspec.merged_from", "origin", "merge", 0.85,
     "metadata modelspec.merged_from"},
    {"meta-kohya-training", SIG_META_KEY, "ss_training_started_at", "origin", "fine-tune", 0.7,
     "kohya training metadata (ss_training_started_at): trained, not merged"},
    {"meta-kohya-network", SIG_META_KEY, "ss_network_module", "origin", "fine-tune", 0.6,
     "kohya training metadata (ss_network_module): a trained add-on network"},
    {"site-merge", SIG_SITE_TYPE, "merge", "origin", "merge", 0.8, "Civitai checkpointType Merge"},
    {"site-trained", SIG_SITE_TYPE, "trained", "origin", "fine-tune", 0.7,
     "Civitai checkpointType Trained"},
    {"name-mix", SIG_NAME_WORD, "mix|merge|merged|blend", "origin", "merge", 0.5,
     "name says Mix/Merge"},
    /* what it draws, from training captions */
    {"tagfreq-booru", SIG_TAGFREQ, "booru", "output", "anime", 0.6,
     "training captions are booru-style tags (ss_tag_frequency)"},
    {"tagfreq-booru-2d", SIG_TAGFREQ, "booru", "realism", "2D", 0.4,
     "training captions are booru-style tags (ss_tag_frequency)"},
    {"tagfreq-photo", SIG_TAGFREQ, "photo", "output", "photorealistic", 0.6,
     "training captions use photo words (ss_tag_frequency)"},
    {"tagfreq-photo-realistic", SIG_TAGFREQ, "photo", "realism", "realistic", 0.5,
     "training captions use photo words (ss_tag_frequency)"},
    /* what it draws, from site tags */
    {"tag-anime", SIG_SITE_TAG, "anime|manga|hentai|waifu", "output", "anime", 0.7,
     "site tag anime"},
    {"tag-cartoon", SIG_SITE_TAG, "cartoon|comics|toon", "output", "anime", 0.5,
     "site tag cartoon"},
    {"tag-photo", SIG_SITE_TAG, "photorealistic|photorealism|realistic|photography|photo", "output",
     "photorealistic", 0.7, "site tag photorealistic"},
    {"tag-photo-realism", SIG_SITE_TAG, "photorealistic|photorealism|realistic|photography",
     "realism", "realistic", 0.6, "site tag realistic"},
    {"tag-semi", SIG_SITE_TAG, "semi-realistic|semirealistic|semi realistic", "realism",
     "semi-realistic", 0.7, "site tag semi-realistic"},
    {"tag-25d", SIG_SITE_TAG, "2.5d", "realism", "2.5D", 0.7, "site tag 2.5D"},
    {"tag-2d", SIG_SITE_TAG, "2d", "realism", "2D", 0.6, "site tag 2D"},
    {"tag-3d", SIG_SITE_TAG, "3d|render|pixar|cgi", "output", "render", 0.6, "site tag 3D"},
    {"tag-painting", SIG_SITE_TAG, "digital painting|painting|concept art|fantasy art", "output",
     "digital-painting", 0.6, "site tag painting"},
    {"tag-illustration", SIG_SITE_TAG,
     "illustration|watercolor|sketch|line art|lineart|oil painting", "output", "illustration", 0.6,
     "site tag illustration"},
    {"tag-general", SIG_SITE_TAG, "base model|general purpose|versatile", "output",
     "general-purpose", 0.5, "site tag general purpose"},
    {"tag-portraits", SIG_SITE_TAG, "portrait|portraits|headshot", "subjects", "portraits", 0.6,
     "site tag portraits"},
    {"tag-environments", SIG_SITE_TAG, "landscape|landscapes|environment|scenery|architecture",
     "subjects", "environments", 0.6, "site tag landscape"},
    {"tag-backgrounds", SIG_SITE_TAG, "background|backgrounds|wallpaper", "subjects", "backgrounds",
     0.6, "site tag background"},
    {"tag-icons", SIG_SITE_TAG, "icon|icons", "subjects", "icons", 0.6, "site tag icon"},
    {"tag-logos", SIG_SITE_TAG, "logo|logos", "subjects", "logos", 0.6, "site tag logo"},
    /* what it draws, from names */
    {"name-real", SIG_NAME_WORD, "realistic|real|photo|photoreal|photorealistic|realism|reality",
     "output", "photorealistic", 0.5, "name says Realistic/Real/Photo"},
    {"name-real-realism", SIG_NAME_WORD, "realistic|real|photo|photoreal|photorealistic|realism",
     "realism", "realistic", 0.4, "name says Realistic/Real/Photo"},
    {"name-semi", SIG_NAME_WORD, "semireal|semi-real|semirealistic", "realism", "semi-realistic",
     0.5, "name says semi-real"},
    {"name-anime", SIG_NAME_WORD, "anime|toon|toons|manga|waifu|hentai|2d|2.5d", "output", "anime",
     0.5, "name says Anime/Toon/2D"},
    {"name-2d", SIG_NAME_WORD, "2d", "realism", "2D", 0.5, "name says 2D"},
    {"name-25d", SIG_NAME_WORD, "2.5d|25d", "realism", "2.5D", 0.6, "name says 2.5D"},
    {"name-28d", SIG_NAME_WORD, "2.8d", "realism", "2.8D", 0.6, "name says 2.8D"},
    {"name-3d", SIG_NAME_WORD, "pixar|3d|render|disney|cgi", "output", "render", 0.5,
     "name says Pixar/3D/Render"},
    {"name-3d-realism", SIG_NAME_WORD, "pixar|3d|render|disney|cgi", "realism", "semi-realistic",
     0.3, "name says Pixar/3D/Render"},
    {"name-paint", SIG_NAME_WORD, "paint|painting|art|artistic|painterly|fantasy|concept", "output",
     "digital-painting", 0.4, "name says Paint/Art"},
    {"name-illustration", SIG_NAME_WORD, "watercolor|watercolour|sketch|lineart|ink|oil", "output",
     "illustration", 0.5, "name says watercolor/sketch/ink"},
    {"name-portrait", SIG_NAME_WORD, "portrait|portraits|face|headshot", "subjects", "portraits",
     0.4, "name says Portrait"},
    {"name-landscape", SIG_NAME_WORD, "landscape|landscapes|scenery|environment|architecture",
     "subjects", "environments", 0.4, "name says Landscape"},
    {"name-icon", SIG_NAME_WORD, "icon|icons", "subjects", "icons", 0.4, "name says Icon"},
    {"name-logo", SIG_NAME_WORD, "logo|logos", "subjects", "logos", 0.4, "name says Logo"},
    /* lineage inside a family */
    {"site-base-pony", SIG_SITE_BASE, "pony", "ecosystem", "pony", 0.8, "Civitai baseModel Pony"},
    {"site-base-illustrious", SIG_SITE_BASE, "illustrious", "ecosystem", "illustrious", 0.8,
     "Civitai baseModel Illustrious"},
    {"site-base-noobai", SIG_SITE_BASE, "noobai", "ecosystem", "noobai", 0.8,
     "Civitai baseModel NoobAI"},
    {"name-pony", SIG_NAME_WORD, "pony|pdxl", "ecosystem", "pony", 0.5, "name says Pony"},
    {"name-illustrious", SIG_NAME_WORD, "illustrious|ilxl", "ecosystem", "illustrious", 0.5,
     "name says Illustrious"},
    {"name-noobai", SIG_NAME_WORD, "noob|noobai", "ecosystem", "noobai", 0.5, "name says NoobAI"},
    /* where it came from and how to use it */
    {"side-source", SIG_SIDE_SOURCE, NULL, "source", NULL, 0.95, "sidecar file names the site"},
    {"side-source-url", SIG_SIDE_URL, NULL, "source_url", NULL, 0.95,
     "sidecar file gives the page"},
    {"side-trigger", SIG_SIDE_TRIGGER, NULL, "trigger_words", NULL, 0.9,
     "sidecar file lists the trained words"},
    {"meta-trigger", SIG_META_TRIGGER, NULL, "trigger_words", NULL, 0.8,
     "metadata modelspec.trigger_phrase"},
};

#define N_RULES (sizeof rules / sizeof rules[0])

size_t ckpt_suggest_rule_count(void)
{
    return N_RULES;
}

const char *ckpt_suggest_rule_id(size_t i)
{
    return i < N_RULES ? rules[i].id : NULL;
}

/* words typical of booru captions, and of photographic captions (substrings of a caption tag) */
static const char *const booru_words[] = {"1girl",
                                          "1boy",
                                          "2girls",
                                          "solo",
                                          "long hair",
                                          "short hair",
                                          "looking at viewer",
                                          "blush",
                                          "smile",
                                          "open mouth",
                                          "bangs",
                                          "twintails",
                                          "school uniform",
                                          "thighhighs",
                                          "absurdres",
                                          "highres",
                                          "simple background",
                                          "white background",
                                          "anime coloring",
                                          "multiple girls",
                                          "animal ears",
                                          "hair ornament",
                                          NULL};
static const char *const photo_words[] = {
    "photo",      "photograph", "realistic", "raw",  "dslr",           "film grain", "bokeh",
    "skin pores", "canon",      "nikon",     "35mm", "depth of field", "8k uhd",     NULL};

static void add(struct ckpt_suggest_out *o, const char *field, const char *value, double conf,
                const char *why)
{
    for (size_t i = 0; i < o->n; i++) {
        struct ckpt_suggestion *s = &o->s[i];
        if (strcmp(s->field, field) || strcmp(s->value, value))
            continue;
        if (strstr(s->why, why))
            return; /* the same reason twice is one signal */
        /* independent signals add up: noisy-OR of the confidences */
        s->confidence = 1 - (1 - s->confidence) * (1 - conf);
        if (s->confidence > 0.99)
            s->confidence = 0.99;
        size_t a = strlen(s->why), b = strlen(why);
        char *w = realloc(s->why, a + b + 3);
        if (w) {
            memcpy(w + a, "; ", 2);
            memcpy(w + a + 2, why, b + 1);
            s->why = w;
        }
        return;
    }
    if (o->n == o->cap) {
        size_t nc = o->cap ? o->cap * 2 : 16;
        struct ckpt_suggestion *ns = realloc(o->s, nc * sizeof *ns);
        if (!ns)
            return;
        o->s = ns;
        o->cap = nc;
    }
    struct ckpt_suggestion *s = &o->s[o->n];
    s->field = strdup(field);
    s->value = strdup(value);
    s->why = strdup(why);
    s->confidence = conf;
    if (!s->field || !s->value || !s->why) {
        free(s->field);
        free(s->value);
        free(s->why);
        return;
    }
    o->n++;
}

static const char *meta_get(const struct ckpt_suggest_input *in, const char *key)
{
    for (size_t i = 0; i < in->n_meta; i++)
        if (strcmp(in->meta[i].key, key) == 0)
            return in->meta[i].value;
    return NULL;
}

static int meta_has(const struct ckpt_suggest_input *in, const char *key)
{
    size_t n = strlen(key);
    int prefix = n && key[n - 1] == '*';
    for (size_t i = 0; i < in->n_meta; i++)
        if (prefix ? strncmp(in->meta[i].key, key, n - 1) == 0 : strcmp(in->meta[i].key, key) == 0)
            return 1;
    return 0;
}

/* Does `words` (lower-case tokens separated by spaces, with a leading and trailing space) or the
   lower-case text contain one of the '|' alternatives? */
static int match_alt(const char *alts, const char *tokens, const char *lower)
{
    const char *p = alts;
    while (*p) {
        size_t n = strcspn(p, "|");
        char w[64];
        if (n < sizeof w - 2) {
            int substr = 0;
            for (size_t i = 0; i < n; i++)
                if (isdigit((unsigned char)p[i]) || p[i] == '.' || p[i] == '-' || p[i] == ' ')
                    substr = 1;
            if (substr) {
                memcpy(w, p, n);
                w[n] = 0;
                if (strstr(lower, w))
                    return 1;
            } else {
                w[0] = ' ';
                memcpy(w + 1, p, n);
                w[n + 1] = ' ';
                w[n + 2] = 0;
                if (strstr(tokens, w))
                    return 1;
            }
        }
        p += n;
        if (*p == '|')
            p++;
    }
    return 0;
}

/* Split names into lower-case words at separators, camelCase humps and letter/digit changes. */
static void tokenize(const char *s, struct ckpt_buf *tok, struct ckpt_buf *lower)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i], prev = i ? (unsigned char)s[i - 1] : 0;
        unsigned char next = i + 1 < n ? (unsigned char)s[i + 1] : 0;
        ckpt_buf_putc(lower, (char)tolower(c));
        if (!isalnum(c)) {
            ckpt_buf_putc(tok, ' ');
            continue;
        }
        int boundary = (isupper(c) && islower(prev)) ||
                       (isupper(c) && isupper(prev) && islower(next)) ||
                       (isdigit(c) && isalpha(prev)) || (isalpha(c) && isdigit(prev));
        if (boundary)
            ckpt_buf_putc(tok, ' ');
        ckpt_buf_putc(tok, (char)tolower(c));
    }
    ckpt_buf_putc(tok, ' ');
    ckpt_buf_putc(lower, ' ');
}

static int word_in(const char *tag, const char *const *list)
{
    char t[256];
    size_t n = strlen(tag);
    if (n >= sizeof t)
        n = sizeof t - 1;
    for (size_t i = 0; i < n; i++)
        t[i] = tag[i] == '_' ? ' ' : (char)tolower((unsigned char)tag[i]);
    t[n] = 0;
    for (; *list; list++)
        if (strstr(t, *list))
            return 1;
    return 0;
}

/* "booru" or "photo" or NULL: which word list the caption tags lean to */
static const char *tagfreq_lean(const char *json)
{
    json_t *root = json ? json_loads(json, 0, NULL) : NULL;
    if (!json_is_object(root)) {
        json_decref(root);
        return NULL;
    }
    double booru = 0, photo = 0, total = 0;
    const char *dir, *tag;
    json_t *tags, *cnt;
    json_object_foreach(root, dir, tags)
    {
        if (!json_is_object(tags))
            continue;
        json_object_foreach(tags, tag, cnt)
        {
            double c = json_is_number(cnt) ? json_number_value(cnt) : 1;
            if (c < 0)
                c = 0;
            total += c;
            if (word_in(tag, booru_words))
                booru += c;
            if (word_in(tag, photo_words))
                photo += c;
        }
    }
    json_decref(root);
    if (total <= 0)
        return NULL;
    if (booru > photo && booru >= 3 && booru / total >= 0.05)
        return "booru";
    if (photo > booru && photo >= 3 && photo / total >= 0.05)
        return "photo";
    return NULL;
}

static void add_parent(struct ckpt_suggest_out *o, const char *sha, const char *name, double w)
{
    for (size_t i = 0; i < o->n_parents; i++) {
        struct ckpt_parent *p = &o->parents[i];
        if (sha && p->sha256 && strcasecmp(p->sha256, sha) == 0) {
            if (!p->name && name)
                p->name = strdup(name);
            if (isnan(p->weight))
                p->weight = w;
            return;
        }
    }
    if (o->n_parents == o->cap_parents) {
        size_t nc = o->cap_parents ? o->cap_parents * 2 : 4;
        struct ckpt_parent *np = realloc(o->parents, nc * sizeof *np);
        if (!np)
            return;
        o->parents = np;
        o->cap_parents = nc;
    }
    struct ckpt_parent *p = &o->parents[o->n_parents++];
    p->sha256 = sha ? strdup(sha) : NULL;
    if (p->sha256)
        for (char *q = p->sha256; *q; q++)
            *q = (char)tolower((unsigned char)*q);
    p->name = name ? strdup(name) : NULL;
    p->weight = w;
}

/* Parents from A1111's sd_merge_recipe / sd_merge_models and modelspec.merged_from. */
static void parents(const struct ckpt_suggest_input *in, struct ckpt_suggest_out *o)
{
    json_t *recipe = NULL, *models = NULL;
    const char *r = meta_get(in, "sd_merge_recipe"), *m = meta_get(in, "sd_merge_models");
    if (r)
        recipe = json_loads(r, 0, NULL);
    if (m)
        models = json_loads(m, 0, NULL);
    if (json_is_object(recipe)) {
        json_t *mul = json_object_get(recipe, "multiplier");
        const char *method = json_string_value(json_object_get(recipe, "interp_method"));
        double k = json_is_number(mul) ? json_number_value(mul) : NAN;
        int weighted = method && strcasecmp(method, "Weighted sum") == 0;
        static const char *const keys[] = {"primary_model_hash", "secondary_model_hash",
                                           "tertiary_model_hash"};
        for (int i = 0; i < 3; i++) {
            const char *h = json_string_value(json_object_get(recipe, keys[i]));
            if (!h || !*h)
                continue;
            double w = NAN;
            if (weighted && !isnan(k))
                w = i == 0 ? 1 - k : i == 1 ? k : NAN;
            const char *name = NULL;
            if (json_is_object(models)) {
                json_t *e = json_object_get(models, h);
                name = json_string_value(json_object_get(e, "name"));
            }
            add_parent(o, h, name, w);
        }
    }
    if (json_is_object(models)) {
        const char *h;
        json_t *e;
        json_object_foreach(models, h, e)
        {
            add_parent(o, h, json_string_value(json_object_get(e, "name")), NAN);
        }
    }
    json_decref(recipe);
    json_decref(models);
    const char *mf = meta_get(in, "modelspec.merged_from");
    if (mf && o->n_parents == 0) {
        for (const char *p = mf; *p;) {
            while (*p == ' ' || *p == ',')
                p++;
            size_t n = strcspn(p, ",");
            size_t e = n;
            while (e && p[e - 1] == ' ')
                e--;
            if (e) {
                char *nm = strndup(p, e);
                if (nm)
                    add_parent(o, NULL, nm, NAN);
                free(nm);
            }
            p += n;
        }
    }
}

void ckpt_suggest(const struct ckpt_suggest_input *in, struct ckpt_suggest_out *o)
{
    memset(o, 0, sizeof *o);
    const struct ckpt_sidecar_facts *side = in->side;
    /* the names the file goes by: its own, the site's, modelspec's title, kohya's output name */
    struct ckpt_buf tok = {0}, low = {0}, tags = {0}, tagslow = {0};
    ckpt_buf_putc(&tok, ' ');
    const char *names[] = {in->name, in->filename, side ? side->name : NULL,
                           meta_get(in, "modelspec.title"), meta_get(in, "ss_output_name")};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i])
            tokenize(names[i], &tok, &low);
    /* tags: site tags and modelspec.tags, each ", "-separated, kept as " tag " items */
    ckpt_buf_putc(&tags, ' ');
    const char *tag_lists[] = {side ? side->tags : NULL, meta_get(in, "modelspec.tags")};
    for (size_t i = 0; i < 2; i++) {
        const char *t = tag_lists[i];
        if (!t)
            continue;
        for (const char *p = t; *p;) {
            while (*p == ',' || *p == ' ')
                p++;
            size_t n = strcspn(p, ",");
            size_t e = n;
            while (e && p[e - 1] == ' ')
                e--;
            for (size_t k = 0; k < e; k++) {
                char c = (char)tolower((unsigned char)p[k]);
                ckpt_buf_putc(&tags, c);
                ckpt_buf_putc(&tagslow, c);
            }
            if (e) {
                /* multi-word tags stay whole: mark item ends */
                ckpt_buf_putc(&tags, ' ');
                ckpt_buf_putc(&tagslow, '|');
            }
            p += n;
        }
    }
    const char *toks = ckpt_buf_cstr(&tok), *lows = ckpt_buf_cstr(&low);
    const char *tagtok = ckpt_buf_cstr(&tags), *taglow = ckpt_buf_cstr(&tagslow);
    const char *lean = tagfreq_lean(meta_get(in, "ss_tag_frequency"));
    const char *ctype = side ? (side->checkpoint_type ? side->checkpoint_type : NULL) : NULL;
    char why[512];
    for (size_t i = 0; i < N_RULES; i++) {
        const struct rule *r = &rules[i];
        const char *value = r->value;
        int hit = 0;
        switch (r->sig) {
        case SIG_META_KEY:
            hit = meta_has(in, r->match);
            break;
        case SIG_NAME_WORD:
            hit = match_alt(r->match, toks, lows);
            break;
        case SIG_SITE_TYPE:
            hit = ctype && strcasecmp(ctype, r->match) == 0;
            break;
        case SIG_SITE_BASE:
            if (side && side->base_model) {
                char b[128];
                size_t n = strlen(side->base_model);
                if (n >= sizeof b)
                    n = sizeof b - 1;
                for (size_t k = 0; k < n; k++)
                    b[k] = (char)tolower((unsigned char)side->base_model[k]);
                b[n] = 0;
                hit = strstr(b, r->match) != NULL;
            }
            break;
        case SIG_SITE_TAG: {
            /* each alternative must equal a whole tag */
            for (const char *p = r->match; *p && !hit;) {
                size_t n = strcspn(p, "|");
                char w[80];
                if (n < sizeof w - 2) {
                    w[0] = '|';
                    memcpy(w + 1, p, n);
                    w[n + 1] = '|';
                    w[n + 2] = 0;
                    char *all = NULL;
                    if (asprintf(&all, "|%s", taglow) >= 0 && all) {
                        hit = strstr(all, w) != NULL;
                        free(all);
                    }
                }
                p += n;
                if (*p == '|')
                    p++;
            }
            (void)tagtok;
            break;
        }
        case SIG_TAGFREQ:
            hit = lean && strcmp(lean, r->match) == 0;
            break;
        case SIG_SIDE_SOURCE:
            value = side ? side->source : NULL;
            hit = value != NULL;
            break;
        case SIG_SIDE_URL:
            value = side ? side->source_url : NULL;
            hit = value != NULL;
            break;
        case SIG_SIDE_TRIGGER:
            value = side ? side->trigger_words : NULL;
            hit = value && *value;
            break;
        case SIG_META_TRIGGER:
            value = meta_get(in, "modelspec.trigger_phrase");
            hit = value && *value;
            break;
        }
        if (!hit || !value)
            continue;
        snprintf(why, sizeof why, "%s", r->why);
        add(o, r->field, value, r->confidence, why);
    }
    parents(in, o);
    ckpt_buf_free(&tok);
    ckpt_buf_free(&low);
    ckpt_buf_free(&tags);
    ckpt_buf_free(&tagslow);
}

void ckpt_suggest_release(struct ckpt_suggest_out *o)
{
    for (size_t i = 0; i < o->n; i++) {
        free(o->s[i].field);
        free(o->s[i].value);
        free(o->s[i].why);
    }
    free(o->s);
    for (size_t i = 0; i < o->n_parents; i++) {
        free(o->parents[i].sha256);
        free(o->parents[i].name);
    }
    free(o->parents);
    memset(o, 0, sizeof *o);
}
