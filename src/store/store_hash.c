/* The chain's header hash (chain.h) over a sessions row as SQLite stores it:
 * every value hashed by its storage class, so a column added later is
 * covered without code changes. The row reading lives here, with the SQL;
 * the hash primitives are the seal layer's. */
#include "store_int.h"

#include <errno.h>
#include <string.h>

_Static_assert(NG_HC_INTEGER == SQLITE_INTEGER && NG_HC_REAL == SQLITE_FLOAT &&
                   NG_HC_TEXT == SQLITE_TEXT && NG_HC_BLOB == SQLITE_BLOB &&
                   NG_HC_NULL == SQLITE_NULL,
               "the chain's class bytes are SQLite's storage classes");

int ng_store_hash_column(struct ng_hash *h, sqlite3_stmt *st, int col)
{
    const void *p;

    switch (sqlite3_column_type(st, col)) {
    case SQLITE_INTEGER:
        ng_hash_add_int(h, sqlite3_column_int64(st, col));
        return 0;
    case SQLITE_FLOAT:
        ng_hash_add_real(h, sqlite3_column_double(st, col));
        return 0;
    case SQLITE_TEXT:
        /* Bytes as stored (the store is UTF-8): no conversion, no NUL stop. */
        p = sqlite3_column_text(st, col);
        if (!p)
            return -ENOMEM;
        ng_hash_add_text(h, p, (size_t)sqlite3_column_bytes(st, col));
        return 0;
    case SQLITE_BLOB:
        p = sqlite3_column_blob(st, col);
        if (!p && sqlite3_column_bytes(st, col) > 0)
            return -ENOMEM;
        ng_hash_add_blob(h, p, (size_t)sqlite3_column_bytes(st, col));
        return 0;
    case SQLITE_NULL:
        ng_hash_add_null(h);
        return 0;
    default:
        return -EBADMSG;
    }
}

int ng_store_header_hash(sqlite3_stmt *st, uint8_t out[NG_HASH_LEN])
{
    struct ng_hash h;
    int n = sqlite3_column_count(st);
    int seen = 0;

    ng_hash_init(&h, NG_DOMAIN_HEADER);
    for (int i = 0; i < n; i++) {
        const char *name = sqlite3_column_name(st, i);
        if (!name)
            return -ENOMEM;
        if (strcmp(name, "header_hash") == 0) {
            seen++;
            continue;
        }
        if (sqlite3_column_type(st, i) == SQLITE_NULL)
            continue; /* see chain.h: migrations add NULL columns */
        ng_hash_add_text(&h, name, strlen(name));
        int r = ng_store_hash_column(&h, st, i);
        if (r < 0)
            return r;
    }
    if (seen != 1)
        return -EBADMSG;
    ng_hash_final(&h, out);
    return 0;
}

void ng_chain_event_hash(const uint8_t id[16], int64_t seq, int64_t t_ns, char kind,
                         const void *data, size_t len, const uint8_t prev[NG_HASH_LEN],
                         uint8_t out[NG_HASH_LEN])
{
    struct ng_hash h;

    ng_hash_init(&h, NG_DOMAIN_EVENT);
    ng_hash_add_blob(&h, id, 16);
    ng_hash_add_int(&h, seq);
    ng_hash_add_int(&h, t_ns);
    ng_hash_add_text(&h, &kind, 1);
    ng_hash_add_blob(&h, data, len);
    ng_hash_add_blob(&h, prev, NG_HASH_LEN);
    ng_hash_final(&h, out);
}

void ng_chain_ledger_hash(int64_t seq, const uint8_t id[16], const char *kind, int64_t wall_ns,
                          int64_t event_seq, const uint8_t value[NG_HASH_LEN],
                          const uint8_t prev[NG_HASH_LEN], uint8_t out[NG_HASH_LEN])
{
    struct ng_hash h;

    ng_hash_init(&h, NG_DOMAIN_LEDGER);
    ng_hash_add_int(&h, seq);
    ng_hash_add_blob(&h, id, 16);
    ng_hash_add_text(&h, kind, strlen(kind));
    ng_hash_add_int(&h, wall_ns);
    ng_hash_add_int(&h, event_seq);
    ng_hash_add_blob(&h, value, NG_HASH_LEN);
    ng_hash_add_blob(&h, prev, NG_HASH_LEN);
    ng_hash_final(&h, out);
}
