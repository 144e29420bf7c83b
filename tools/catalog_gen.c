/* catalog_gen: fill a catalog with N generated model records through the library's own record
 * writer (the path scan uses), for bench/catalog.sh's list and search timings over 100,000
 * records. Records get a kind, family, chosen output/realism/rating for about half, metadata
 * words and suggestions, like a scanned collection. Not a test fixture writer.
 * usage: catalog_gen DB N */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../lib/catalog/internal.h"

static unsigned long long rng = 88172645463325252ull;
static unsigned next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng >> 11);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: catalog_gen DB N\n");
        return 2;
    }
    long n = atol(argv[2]);
    struct ckpt_catalog *c;
    struct ckpt_error err;
    if (ckpt_catalog_open(&c, argv[1], 0, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    static const char *kinds[] = {"checkpoint", "lora", "lora", "lora", "vae", "embedding"};
    static const char *fams[] = {"sd1", "sdxl", "sdxl", "flux-dev", "sd2", "sd3-medium"};
    static const char *outs[] = {"photorealistic",   "anime",        "render",
                                 "digital-painting", "illustration", "general-purpose"};
    static const char *reals[] = {"realistic", "semi-realistic", "2.5D", "2D", "2.8D"};
    static const char *words[] = {"Real",  "Anime", "Mix",   "Dream", "Vision",     "Pixar", "Toon",
                                  "Photo", "Art",   "Ultra", "Epic",  "Juggernaut", "Pony"};
    struct ckpt_st *chosen;
    if (ckpt_cat_prepare(c,
                         "UPDATE models SET output = ?2, realism = ?3, rating = ?4 WHERE id = "
                         "(SELECT model_id FROM files WHERE host = ?1 AND path = ?5)",
                         &chosen, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    const char *host = ckpt_catalog_host();
    int rc = ckpt_cat_begin(c, &err);
    for (long i = 0; i < n && !rc; i++) {
        struct ckpt_analysis a;
        memset(&a, 0, sizeof a);
        a.ok = 1;
        a.format = "safetensors";
        a.kind = strdup(kinds[next() % 6]);
        a.family = strdup(fams[next() % 6]);
        a.tensor_count = 1000;
        char name[128], path[256], meta[256];
        snprintf(name, sizeof name, "%s%s%s_v%ld", words[next() % 13], words[next() % 13],
                 words[next() % 13], i % 10);
        snprintf(path, sizeof path, "/library/%s/%s-%ld.safetensors", a.kind, name, i);
        snprintf(meta, sizeof meta, "trained on %s %s images", words[next() % 13],
                 words[next() % 13]);
        struct ckpt_kv kv = {strdup("ss_training_comment"), strdup(meta)};
        a.meta = malloc(sizeof kv);
        a.meta[0] = kv;
        a.n_meta = 1;
        a.hashed = 1;
        snprintf(a.hash.sha256, sizeof a.hash.sha256, "%08x%08x%08x%08x%08x%08x%08x%08x", next(),
                 next(), next(), next(), next(), next(), next(), (unsigned)i);
        memcpy(a.hash.autov2, a.hash.sha256, 10);
        a.hash.computed = CKPT_HASH_SHA256 | CKPT_HASH_AUTOV2;
        struct stat st;
        memset(&st, 0, sizeof st);
        st.st_size = (off_t)(next() % 7000000000u);
        st.st_ino = (ino_t)i + 1;
        rc = ckpt_cat_record_file(c, 0, host, path, &st, 0, &a, &err);
        if (!rc && next() % 2) {
            ckpt_st_reset(chosen);
            ckpt_st_bind_text(chosen, 1, host);
            ckpt_st_bind_text(chosen, 2, outs[next() % 6]);
            ckpt_st_bind_text(chosen, 3, reals[next() % 5]);
            ckpt_st_bind_i64(chosen, 4, (int)(next() % 5) + 1);
            ckpt_st_bind_text(chosen, 5, path);
            ckpt_st_step(chosen);
        }
        ckpt_analysis_release(&a);
        if (!rc && i % 10000 == 9999) {
            rc = ckpt_cat_commit(c, &err);
            if (!rc)
                rc = ckpt_cat_begin(c, &err);
        }
    }
    if (!rc)
        rc = ckpt_cat_commit(c, &err);
    ckpt_st_finalize(chosen);
    /* what a scan that recorded this many files leaves (lib/catalog/scan.c compacts after
       writing a good part of the catalog) */
    if (!rc && n >= 1000)
        rc = ckpt_catalog_compact(c, &err);
    ckpt_catalog_close(c);
    if (rc) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    return 0;
}
