/* The rule that cuts a catalog search word into pieces, shared by SQLite's FTS5 tokenizer
 * (db_sqlite_words.c, which indexes the pieces) and by PostgreSQL's search queries (query.c,
 * which asks for the same pieces; PostgreSQL's index is built by the same rule written as
 * regular expressions in schema.c's migration 11). Only the rule: no database here. */
#include "catalog/words.h"

static int is_lo(char c)
{
    return c >= 'a' && c <= 'z';
}
static int is_up(char c)
{
    return c >= 'A' && c <= 'Z';
}
static int is_dig(char c)
{
    return c >= '0' && c <= '9';
}

/* where letters meet digits; before a capital that starts a capitalised word ("DreamShaper",
   "epiCRealism" -> epic, realism); before a run of capitals that ends the letters
   ("JuggernautXL") */
int ckpt_words_cut_before(const char *s, int n, int i)
{
    char a = s[i - 1], b = s[i];
    if (is_dig(a) != is_dig(b))
        return 1;
    if (!is_up(b) || !(is_lo(a) || is_up(a)))
        return 0;
    if (i + 1 < n && is_lo(s[i + 1]))
        return 1; /* b starts a capitalised word */
    if (!is_lo(a))
        return 0;
    int j = i;
    while (j < n && is_up(s[j]))
        j++;
    return j - i >= 2 && (j == n || !is_lo(s[j])); /* an all-capitals word */
}
