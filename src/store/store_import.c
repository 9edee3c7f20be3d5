/* Rows of an evidence stream put back into a scratch store (store_import.h):
 * verify --jsonl rebuilds the tables the stream's records came from and then
 * verifies them with the verifier that reads stores, so a stream and a store
 * get the same checks and the same words. The records are hostile input:
 * only the covered tables, only their columns (by name, quoted), and the
 * schema's STRICT types and CHECKs decide what is stored. */
#include "nsgate/store_import.h"
#include "store_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SQL_MAX   4096
#define CACHE_LEN 16

static const char *const tables[] = {"sessions", "events", "seals", "ledger", "roots", "certs"};

struct ng_store_import {
    struct ng_store *s;
    struct {
        char *sql;
        sqlite3_stmt *st;
    } cache[CACHE_LEN];
    size_t next; /* the slot replaced next */
};

int ng_store_import_begin(struct ng_store *s, struct ng_store_import **ret)
{
    struct ng_store_import *im = calloc(1, sizeof(*im));
    int r = im ? 0 : -ENOMEM;

    /* a scratch copy: losing it to a crash loses nothing */
    if (r == 0)
        r = ng_store_exec(s, "PRAGMA synchronous = OFF");
    if (r == 0)
        r = ng_store_exec(s, "BEGIN IMMEDIATE");
    if (r < 0) {
        free(im);
        return r;
    }
    im->s = s;
    *ret = im;
    return 0;
}

int ng_store_import_end(struct ng_store_import *im, int commit)
{
    int r = 0;

    if (!im)
        return 0;
    for (size_t i = 0; i < CACHE_LEN; i++) {
        sqlite3_finalize(im->cache[i].st);
        free(im->cache[i].sql);
    }
    if (commit)
        r = ng_store_exec(im->s, "COMMIT");
    if (!commit || r < 0)
        ng_store_rollback(im->s);
    free(im);
    return r;
}

static int known_table(const char *t)
{
    for (size_t i = 0; i < NG_ARRAY_SIZE(tables); i++)
        if (strcmp(t, tables[i]) == 0)
            return 1;
    return 0;
}

/* A column name as the schema writes them: lower case, digits, '_'. */
static int plain_name(const char *n)
{
    size_t len = strlen(n);

    if (len == 0 || len > 64)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!((n[i] >= 'a' && n[i] <= 'z') || (n[i] >= '0' && n[i] <= '9') || n[i] == '_'))
            return 0;
    return 1;
}

static int is_column(struct ng_store *s, const char *table, const char *name)
{
    sqlite3_stmt *st;
    int r = ng_store_prepare(s, "SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2", &st);

    if (r < 0)
        return r;
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    r = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : ng_store_errno(s->db, rc);
    sqlite3_finalize(st);
    return r;
}

/* -EINVAL unless every cell names a distinct column of table. */
static int check_cells(struct ng_store *s, const char *table, const struct ng_store_cell *c,
                       size_t n)
{
    if (!known_table(table) || n == 0 || n > 64)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (!c[i].name || !plain_name(c[i].name))
            return -EINVAL;
        for (size_t j = 0; j < i; j++)
            if (strcmp(c[i].name, c[j].name) == 0)
                return -EINVAL;
        int r = is_column(s, table, c[i].name);
        if (r <= 0)
            return r < 0 ? r : -EINVAL;
    }
    return 0;
}

/* "INSERT ..." (same 0) or "SELECT 1 ... WHERE every cell IS its value". */
static int build_sql(const char *table, const struct ng_store_cell *c, size_t n, int same,
                     char *sql, size_t size)
{
    size_t off = 0;
    int w =
        snprintf(sql, size, same ? "SELECT 1 FROM \"%s\" WHERE " : "INSERT INTO \"%s\" (", table);

    for (size_t i = 0; w >= 0 && (off += (size_t)w) < size && i < n; i++)
        w = snprintf(sql + off, size - off, same ? "%s\"%s\" IS ?%zu" : "%s\"%s\"",
                     i ? (same ? " AND " : ", ") : "", c[i].name, i + 1);
    for (size_t i = 0; !same && w >= 0 && off < size && i <= n; i++) {
        w = snprintf(sql + off, size - off, "%s", i == 0 ? ") VALUES (" : "");
        off += (size_t)w;
        if (w >= 0 && off < size && i < n)
            w = snprintf(sql + off, size - off, "%s?%zu", i ? ", " : "", i + 1);
        else if (w >= 0 && off < size)
            w = snprintf(sql + off, size - off, ") ON CONFLICT DO NOTHING");
        if (w >= 0)
            off += (size_t)w;
    }
    return w < 0 || off >= size ? -E2BIG : 0;
}

static int prepare(struct ng_store_import *im, const char *sql, sqlite3_stmt **ret)
{
    for (size_t i = 0; i < CACHE_LEN; i++)
        if (im->cache[i].sql && strcmp(im->cache[i].sql, sql) == 0) {
            sqlite3_reset(im->cache[i].st);
            sqlite3_clear_bindings(im->cache[i].st);
            *ret = im->cache[i].st;
            return 0;
        }
    size_t k = im->next++ % CACHE_LEN;
    char *copy = strdup(sql);
    if (!copy)
        return -ENOMEM;
    sqlite3_finalize(im->cache[k].st);
    free(im->cache[k].sql);
    im->cache[k].sql = copy;
    im->cache[k].st = NULL;
    int r = ng_store_prepare(im->s, sql, &im->cache[k].st);
    *ret = im->cache[k].st;
    return r;
}

static int bind_cells(sqlite3_stmt *st, const struct ng_store_cell *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int k = (int)i + 1, rc;
        switch (c[i].cls) {
        case NG_HC_INTEGER:
            rc = sqlite3_bind_int64(st, k, c[i].i);
            break;
        case NG_HC_REAL:
            rc = sqlite3_bind_double(st, k, c[i].d);
            break;
        case NG_HC_TEXT:
            rc = sqlite3_bind_text(st, k, c[i].p ? c[i].p : "", (int)c[i].len, SQLITE_STATIC);
            break;
        case NG_HC_BLOB:
            rc = sqlite3_bind_blob(st, k, c[i].p ? c[i].p : "", (int)c[i].len, SQLITE_STATIC);
            break;
        case NG_HC_NULL:
            rc = sqlite3_bind_null(st, k);
            break;
        default:
            return -EINVAL;
        }
        if (rc != SQLITE_OK)
            return -EINVAL;
    }
    return 0;
}

int ng_store_import_row(struct ng_store_import *im, const char *table,
                        const struct ng_store_cell *c, size_t n)
{
    char sql[SQL_MAX];
    sqlite3_stmt *st;
    int r = check_cells(im->s, table, c, n);

    for (size_t i = 0; r == 0 && i < n; i++)
        if (c[i].len > NG_STORE_EVENT_MAX + 64)
            r = -EINVAL;
    if (r == 0)
        r = build_sql(table, c, n, 0, sql, sizeof(sql));
    if (r == 0)
        r = prepare(im, sql, &st);
    if (r == 0)
        r = bind_cells(st, c, n);
    if (r < 0)
        return r;
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        return (rc & 0xff) == SQLITE_CONSTRAINT ? -EINVAL : ng_store_errno(im->s->db, rc);
    if (sqlite3_changes(im->s->db) == 1)
        return 0;
    /* the key is taken: the same record again (a re-sent line) is fine */
    r = build_sql(table, c, n, 1, sql, sizeof(sql));
    if (r == 0)
        r = prepare(im, sql, &st);
    if (r == 0)
        r = bind_cells(st, c, n);
    if (r < 0)
        return r;
    rc = sqlite3_step(st);
    return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -EEXIST : ng_store_errno(im->s->db, rc);
}
