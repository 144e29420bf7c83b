/* The words of the SQLite catalog's full-text index: an FTS5 tokenizer "ckpt_words" that splits
 * model names the way collectors write them. SQLite's unicode61 tokenizer cuts text at spaces
 * and punctuation and folds case; this one also cuts each of its ASCII tokens where a lower-case
 * letter meets a capital ("EpicRealism" -> epic, realism), a run of capitals meets a capitalised
 * word ("XLTurbo" -> xl, turbo) and letters meet digits ("v4" -> v, 4), and in the index (not in
 * a query) it keeps the whole token at the position of its first piece as well, marked with a
 * leading byte 0x01 ("\x01epicrealism"). A search word matches a piece as a prefix or a whole
 * token exactly (query.c asks for both), so "realism", "epic" and "epicrealism" all find
 * "epiCRealism_v5"; "epicreal" does not (a prefix of a whole token would expand to every
 * compound name that starts with it, the cost this tokenizer removes).
 *
 * Why: a search word is a prefix ("juggern" finds Juggernaut). With whole file names as tokens
 * every model brings its own tokens ("epicrealism_naturalsinv4"), and a prefix query had to merge
 * one list per token that starts with the word: three quarters of a search's time over 100,000
 * records. Pieces are a small vocabulary, so a prefix expands to a few tokens.
 *
 * SQLite-specific, so it lives with the SQLite backend (the cut rule itself is words.c's, which
 * PostgreSQL's search queries share; its index makes the same words: schema.c migration 11);
 * ckpt_db_sqlite_words_register is called for every connection db_sqlite.c opens. */
#include <string.h>

#include <sqlite3.h>

#include "catalog/db_sqlite_words.h"
#include "catalog/words.h"
#include "ckptdb/buf.h"

struct words_tok {
    fts5_tokenizer parent; /* unicode61's methods */
    Fts5Tokenizer *inner;  /* and its instance */
};

struct words_call {
    void *ctx;
    int (*token)(void *ctx, int tflags, const char *tok, int n, int start, int end);
    const char *text;
    int text_len, query;
    int whole_query;       /* a query word marked as a whole token: its tokens concatenated */
    struct ckpt_buf whole; /* into here */
};

/* the whole token as the index keeps it beside its pieces: WHOLE_MARK + the folded token, so
   that a prefix query on pieces never expands over whole tokens */
static int put_whole(struct words_call *w, int tflags, const char *tok, int n, int start, int end)
{
    char buf[256];
    if (n + 1 > (int)sizeof buf)
        return SQLITE_OK; /* a 255-byte word: its pieces are enough */
    buf[0] = CKPT_WORDS_WHOLE_MARK;
    memcpy(buf + 1, tok, (size_t)n);
    return w->token(w->ctx, tflags, buf, n + 1, start, end);
}

/* unicode61 gives each token folded (tok) with its place in the text; split it into pieces */
static int on_token(void *user, int tflags, const char *tok, int n, int start, int end)
{
    struct words_call *w = user;
    if (w->whole_query) /* the query's words are one whole token */
    {
        ckpt_buf_put(&w->whole, tok, (size_t)n);
        return w->whole.oom ? SQLITE_NOMEM : SQLITE_OK;
    }
    const char *s = w->text + start;
    int ascii = end - start == n && start >= 0 && end <= w->text_len;
    for (int i = 0; ascii && i < n; i++)
        ascii = (unsigned char)s[i] < 0x80;
    int cuts = 0;
    for (int i = 1; ascii && i < n; i++)
        cuts += ckpt_words_cut_before(s, n, i);
    if (!cuts)
        return w->token(w->ctx, tflags, tok, n, start, end);
    int from = 0, first = 1, rc = SQLITE_OK;
    for (int i = 1; i <= n && rc == SQLITE_OK; i++) {
        if (i < n && !ckpt_words_cut_before(s, n, i))
            continue;
        rc = w->token(w->ctx, first ? tflags : 0, tok + from, i - from, start + from, start + i);
        if (first && rc == SQLITE_OK && !w->query)
            rc = put_whole(w, FTS5_TOKEN_COLOCATED, tok, n, start, end);
        first = 0;
        from = i;
    }
    return rc;
}

static int words_tokenize(Fts5Tokenizer *t, void *ctx, int flags, const char *text, int len,
                          int (*token)(void *, int, const char *, int, int, int))
{
    struct words_tok *wt = (struct words_tok *)t;
    struct words_call w = {ctx, token, text, len, (flags & FTS5_TOKENIZE_QUERY) != 0, 0, {0}};
    if (w.query && len > 0 && text[0] == CKPT_WORDS_WHOLE_MARK) {
        /* "\x01EpicRealism": the whole-token form of a query word */
        w.whole_query = 1;
        int rc = wt->parent.xTokenize(wt->inner, &w, flags, text + 1, len - 1, on_token);
        if (rc == SQLITE_OK && w.whole.len)
            rc = put_whole(&w, 0, (const char *)w.whole.data, (int)w.whole.len, 0, len);
        ckpt_buf_free(&w.whole);
        return rc;
    }
    return wt->parent.xTokenize(wt->inner, &w, flags, text, len, on_token);
}

static int words_create(void *api_v, const char **args, int nargs, Fts5Tokenizer **out)
{
    fts5_api *api = api_v;
    struct words_tok *wt = sqlite3_malloc(sizeof *wt);
    *out = NULL;
    if (!wt)
        return SQLITE_NOMEM;
    void *pctx = NULL;
    int rc = api->xFindTokenizer(api, "unicode61", &pctx, &wt->parent);
    if (rc == SQLITE_OK)
        rc = wt->parent.xCreate(pctx, args, nargs, &wt->inner);
    if (rc != SQLITE_OK) {
        sqlite3_free(wt);
        return rc;
    }
    *out = (Fts5Tokenizer *)wt;
    return SQLITE_OK;
}

static void words_delete(Fts5Tokenizer *t)
{
    struct words_tok *wt = (struct words_tok *)t;
    if (wt) {
        wt->parent.xDelete(wt->inner);
        sqlite3_free(wt);
    }
}

int ckpt_db_sqlite_words_register(sqlite3 *db)
{
    fts5_api *api = NULL;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_pointer(st, 1, (void *)&api, "fts5_api_ptr", NULL);
    sqlite3_step(st);
    rc = sqlite3_finalize(st);
    if (rc != SQLITE_OK || !api)
        return rc != SQLITE_OK ? rc : SQLITE_ERROR;
    fts5_tokenizer tk = {words_create, words_delete, words_tokenize};
    return api->xCreateTokenizer(api, "ckpt_words", api, &tk, NULL);
}
