/* Where the catalog's search cuts a word into pieces (words.c): the one rule SQLite's FTS5
 * tokenizer (db_sqlite_words.c) and PostgreSQL's search queries (query.c) share. */
#ifndef CKPT_CATALOG_WORDS_H
#define CKPT_CATALOG_WORDS_H

/* the first byte of an indexed whole token, and of a query word asking for one */
#define CKPT_WORDS_WHOLE_MARK '\x01'

/* PostgreSQL: a search word of more pieces matches nothing (schema.c migration 11's
   ckpt_word_query has the same number) */
#define CKPT_WORDS_MAX_PIECES 256

/* 1 when a piece starts at i (0 < i < n) of the ASCII letters and digits s[0..n) */
int ckpt_words_cut_before(const char *s, int n, int i);

#endif
