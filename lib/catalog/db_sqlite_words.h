/* The SQLite catalog's FTS5 tokenizer "ckpt_words" (db_sqlite_words.c): model names cut into
 * words. Registered on every SQLite connection before the catalog's schema is used. */
#ifndef CKPT_CATALOG_DB_SQLITE_WORDS_H
#define CKPT_CATALOG_DB_SQLITE_WORDS_H

#include <sqlite3.h>

/* an SQLite result code */
int ckpt_db_sqlite_words_register(sqlite3 *db);

#endif
