/* Build-time tool: runs the shipped migrations (store_schema.c) in an
 * in-memory database with the build's SQLite and writes the resulting
 * schema rows as C, store_schema_rows.c, the fast path of the store's schema
 * check (store.c check_schema). Usage: schema_rows OUT.c */
#include <stdio.h>
#include <stdlib.h>

#include "../store_int.h"

/* A C string literal of s, or NULL; every byte outside printable ASCII (and
 * the quote and backslash) as an octal escape, so any text round-trips. */
static void put_literal(FILE *f, const unsigned char *s)
{
    if (!s) {
        fputs("NULL", f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\' || *s < 0x20 || *s > 0x7e)
            fprintf(f, "\\%03o", *s);
        else
            fputc(*s, f);
    }
    fputc('"', f);
}

static int write_rows(sqlite3 *db, FILE *f, int version)
{
    sqlite3_stmt *st;
    int rc;

    if (sqlite3_prepare_v2(db, NG_STORE_SCHEMA_ROWS, -1, &st, NULL) != SQLITE_OK)
        return -1;
    fputs("/* Generated at build time by src/store/gen/schema_rows.c: do not edit. */\n"
          "#include \"store_int.h\"\n\n"
          "const struct ng_store_schema_row ng_store_schema_rows[] = {\n",
          f);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        fputs("    {", f);
        for (int i = 0; i < 4; i++) {
            if (i)
                fputs(", ", f);
            put_literal(f, sqlite3_column_text(st, i));
        }
        fputs("},\n", f);
    }
    sqlite3_finalize(st);
    fprintf(f,
            "};\n"
            "const size_t ng_store_nschema_rows =\n"
            "    sizeof(ng_store_schema_rows) / sizeof(ng_store_schema_rows[0]);\n"
            "const int ng_store_schema_rows_version = %d;\n",
            version);
    return rc == SQLITE_DONE ? 0 : -1;
}

int main(int argc, char **argv)
{
    sqlite3 *db = NULL;
    FILE *f;
    int r = 0;

    if (argc != 2) {
        fprintf(stderr, "usage: %s OUT.c\n", argv[0]);
        return 2;
    }
    if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        r = -1;
    for (size_t i = 0; r == 0 && i < ng_store_nmigrations; i++)
        if (sqlite3_exec(db, ng_store_migrations[i].sql, NULL, NULL, NULL) != SQLITE_OK)
            r = -1;
    f = r == 0 ? fopen(argv[1], "w") : NULL;
    if (f) {
        r = write_rows(db, f, ng_store_migrations[ng_store_nmigrations - 1].version);
        if (fclose(f) != 0)
            r = -1;
    } else {
        r = -1;
    }
    if (r < 0) {
        fprintf(stderr, "%s: %s\n", argv[0], db ? sqlite3_errmsg(db) : "out of memory");
        remove(argv[1]);
    }
    sqlite3_close(db);
    return r < 0 ? 1 : 0;
}
