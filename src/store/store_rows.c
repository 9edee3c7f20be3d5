/* Raw rows for verification (store_rows.h): the only SQL verify runs. */
#include "nsgate/store_rows.h"
#include "store_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NEXT_ID(table)                                                                             \
    "SELECT session FROM " table " WHERE session > ?1 AND typeof(session) = 'blob' AND "           \
    "length(session) = 16 ORDER BY session LIMIT 1"

static const struct {
    const char *sql;
    size_t nargs;
} queries[NG_Q_COUNT] = {
    [NG_Q_SEALS] = {"SELECT sealno, seq, head, prev_seal_hash, wall_ns, boot_ns, epoch, "
                    "signature FROM seals WHERE session = ?1 ORDER BY sealno",
                    1},
    [NG_Q_SEAL_MATCH] = {"SELECT 1 FROM seals WHERE session = ?1 AND seq = ?2 AND head = ?3 "
                         "AND epoch = ?4 AND wall_ns BETWEEN ?5 AND ?6 LIMIT 1",
                         6},
    [NG_Q_HEADER] = {"SELECT * FROM sessions WHERE id = ?1", 1},
    [NG_Q_EVENTS] = {"SELECT seq, t_ns, kind, data, hash FROM events WHERE session = ?1 "
                     "ORDER BY seq",
                     1},
    [NG_Q_EVENTS_BLOCKS] = {"SELECT seq, t_ns, kind, data, hash, block_len FROM events "
                            "WHERE session = ?1 ORDER BY seq",
                            1},
    [NG_Q_LAST_EVENT] = {"SELECT seq, kind, hash FROM events WHERE session = ?1 "
                         "ORDER BY seq DESC LIMIT 1",
                         1},
    [NG_Q_CERTS] = {"SELECT epoch, start_ns, pubkey, signature FROM certs WHERE root_pk = ?1 "
                    "ORDER BY epoch",
                    1},
    [NG_Q_EPOCH_LEN] = {"SELECT epoch_len_ns FROM roots WHERE root_pk = ?1", 1},
    [NG_Q_LEDGER] = {"SELECT seq, session, kind, wall_ns, event_seq, value, hash FROM ledger "
                     "ORDER BY seq",
                     0},
    [NG_Q_LEDGER_BY_SESSION] = {"SELECT session, kind, event_seq, value, seq, wall_ns FROM "
                                "ledger ORDER BY session, seq",
                                0},
    [NG_Q_SESSION_HEADS] = {"SELECT id, header_hash, start_ns FROM sessions ORDER BY id", 0},
    [NG_Q_SESSION_IDS] = {"SELECT id FROM sessions ORDER BY start_ns, id", 0},
    [NG_Q_SESSION_EXISTS] = {"SELECT 1 FROM sessions WHERE id = ?1", 1},
    [NG_Q_LEDGER_HAS] = {"SELECT 1 FROM ledger WHERE session = ?1 LIMIT 1", 1},
    [NG_Q_LEDGER_OR_EVENTS_HAS] = {"SELECT 1 WHERE EXISTS (SELECT 1 FROM ledger WHERE session "
                                   "= ?1) OR EXISTS (SELECT 1 FROM events WHERE session = ?1)",
                                   1},
    [NG_Q_NEXT_IN_LEDGER] = {NEXT_ID("ledger"), 1},
    [NG_Q_NEXT_IN_EVENTS] = {NEXT_ID("events"), 1},
    [NG_Q_NEXT_IN_SEALS] = {NEXT_ID("seals"), 1},
    [NG_Q_NEXT_IN_BLOCKS] = {NEXT_ID("event_blocks"), 1},
    [NG_Q_SEALS_AFTER] = {"SELECT sealno, seq, head, prev_seal_hash, wall_ns, boot_ns, epoch, "
                          "signature FROM seals WHERE session = ?1 AND sealno > ?2 ORDER BY sealno",
                          2},
    [NG_Q_LEDGER_AFTER] = {"SELECT seq, session, kind, wall_ns, event_seq, value, hash FROM ledger "
                           "WHERE seq > ?1 ORDER BY seq",
                           1},
    [NG_Q_ROOTS] = {"SELECT root_pk, epoch_len_ns FROM roots ORDER BY root_pk", 0},
    [NG_Q_CERTS_AFTER] = {"SELECT epoch, start_ns, pubkey, signature FROM certs WHERE root_pk = ?1 "
                          "AND epoch > ?2 ORDER BY epoch",
                          2},
};

int ng_store_snapshot_begin(struct ng_store *s)
{
    /* BEGIN alone takes no snapshot until the first read: read now */
    int r = ng_store_exec(s, "BEGIN");

    if (r == 0 && (r = ng_store_exec(s, "SELECT count(*) FROM roots")) < 0)
        ng_store_snapshot_end(s);
    return r;
}

void ng_store_snapshot_end(struct ng_store *s)
{
    /* a read transaction: ending it cannot lose anything */
    if (!sqlite3_get_autocommit(s->db) && ng_store_exec(s, "COMMIT") < 0)
        ng_store_rollback(s);
}

struct ng_store_rows {
    struct ng_store *s;
    sqlite3_stmt *st;
    enum ng_store_query q;
};

static int bind(struct ng_store_rows *r, const struct ng_store_arg *args, size_t nargs)
{
    if (nargs != queries[r->q].nargs)
        return -EINVAL;
    sqlite3_reset(r->st);
    for (size_t i = 0; i < nargs; i++) {
        int rc = args[i].is_int ? sqlite3_bind_int64(r->st, (int)i + 1, args[i].i)
                                : sqlite3_bind_blob(r->st, (int)i + 1, args[i].p, (int)args[i].len,
                                                    SQLITE_STATIC);
        if (rc != SQLITE_OK)
            return ng_store_errno(r->s->db, rc);
    }
    return 0;
}

int ng_store_rows_open(struct ng_store *s, enum ng_store_query q, const struct ng_store_arg *args,
                       size_t nargs, struct ng_store_rows **ret)
{
    struct ng_store_rows *r;
    int e;

    if ((unsigned)q >= NG_Q_COUNT)
        return -EINVAL;
    r = calloc(1, sizeof(*r));
    if (!r)
        return -ENOMEM;
    r->s = s;
    r->q = q;
    e = ng_store_prepare(s, queries[q].sql, &r->st);
    if (e == 0)
        e = bind(r, args, nargs);
    if (e < 0) {
        ng_store_rows_close(r);
        return e;
    }
    *ret = r;
    return 0;
}

int ng_store_rows_rebind(struct ng_store_rows *r, const struct ng_store_arg *args, size_t nargs)
{
    return bind(r, args, nargs);
}

int ng_store_rows_next(struct ng_store_rows *r)
{
    int rc = ng_store_step(r->s, r->st);

    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    int e = ng_store_errno(r->s->db, rc);
    return e < 0 ? e : -EIO;
}

void ng_store_rows_close(struct ng_store_rows *r)
{
    if (!r)
        return;
    sqlite3_finalize(r->st);
    free(r);
}

int ng_store_rows_exists(struct ng_store *s, enum ng_store_query q, const struct ng_store_arg *args,
                         size_t nargs)
{
    struct ng_store_rows *r;
    int e = ng_store_rows_open(s, q, args, nargs, &r);

    if (e < 0)
        return e;
    e = ng_store_rows_next(r);
    ng_store_rows_close(r);
    return e;
}

int ng_store_row_is_null(const struct ng_store_rows *r, int col)
{
    return sqlite3_column_type(r->st, col) == SQLITE_NULL;
}

int ng_store_row_is_int(const struct ng_store_rows *r, int col)
{
    return sqlite3_column_type(r->st, col) == SQLITE_INTEGER;
}

int ng_store_row_is_blob(const struct ng_store_rows *r, int col, int len)
{
    return sqlite3_column_type(r->st, col) == SQLITE_BLOB &&
           (len < 0 || sqlite3_column_bytes(r->st, col) == len);
}

int ng_store_row_is_text(const struct ng_store_rows *r, int col)
{
    return sqlite3_column_type(r->st, col) == SQLITE_TEXT;
}

int64_t ng_store_row_int(const struct ng_store_rows *r, int col)
{
    return ng_store_row_is_int(r, col) ? sqlite3_column_int64(r->st, col) : 0;
}

/* Type tested first: sqlite3_column_blob and _text would convert a value of
 * another class in place. */
const void *ng_store_row_blob(const struct ng_store_rows *r, int col)
{
    return ng_store_row_is_blob(r, col, -1) ? sqlite3_column_blob(r->st, col) : NULL;
}

const char *ng_store_row_text(const struct ng_store_rows *r, int col)
{
    return ng_store_row_is_text(r, col) ? (const char *)sqlite3_column_text(r->st, col) : NULL;
}

size_t ng_store_row_len(const struct ng_store_rows *r, int col)
{
    int t = sqlite3_column_type(r->st, col);
    return t == SQLITE_BLOB || t == SQLITE_TEXT ? (size_t)sqlite3_column_bytes(r->st, col) : 0;
}

int ng_store_row_col(const struct ng_store_rows *r, const char *name)
{
    for (int i = 0; i < sqlite3_column_count(r->st); i++)
        if (strcmp(sqlite3_column_name(r->st, i), name) == 0)
            return i;
    return -1;
}

int ng_store_row_header_hash(const struct ng_store_rows *r, uint8_t out[NG_HASH_LEN])
{
    return r->q == NG_Q_HEADER ? ng_store_header_hash(r->st, out) : -EINVAL;
}

int ng_store_row_count(const struct ng_store_rows *r)
{
    return sqlite3_column_count(r->st);
}

const char *ng_store_row_name(const struct ng_store_rows *r, int col)
{
    return sqlite3_column_name(r->st, col);
}

int ng_store_row_class(const struct ng_store_rows *r, int col)
{
    return sqlite3_column_type(r->st, col); /* = NG_HC_* (store_hash.c) */
}

double ng_store_row_real(const struct ng_store_rows *r, int col)
{
    return sqlite3_column_type(r->st, col) == SQLITE_FLOAT ? sqlite3_column_double(r->st, col) : 0;
}
