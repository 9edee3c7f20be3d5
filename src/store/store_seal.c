/* The store's side of sealing: seal rows, copies of the key chain's
 * certificates, and the host-wide ledger (integrity.md 3-5, docs/integrity.md).
 * The signing itself is seal.c's; this file only stores and chains. */
#include "store_int.h"

#include <errno.h>
#include <string.h>

static const char *const ledger_kinds[] = {
    [NG_LEDGER_START] = "start",
    [NG_LEDGER_CHECKPOINT] = "checkpoint",
    [NG_LEDGER_END] = "end",
};

/* Run st once (it must return no row) and finalize it. */
static int step_once(struct ng_store *s, sqlite3_stmt *st)
{
    int r = ng_store_errno(s->db, sqlite3_step(st));
    sqlite3_finalize(st);
    return r;
}

/* SELECT count(*) ... must say exactly one: the row stored is the one given. */
static int expect_one(struct ng_store *s, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    int r = rc == SQLITE_ROW ? (sqlite3_column_int(st, 0) == 1 ? 0 : -EEXIST)
                             : ng_store_errno(s->db, rc);
    sqlite3_finalize(st);
    return r;
}

int ng_store_add_seal(struct ng_store *s, const struct ng_seal_fields *f,
                      const uint8_t sig[NG_SEAL_SIG_BYTES])
{
    sqlite3_stmt *st;
    int r;

    if (s->readonly)
        return -EROFS;
    if (f->last_seq > INT64_MAX || f->wall_ns > INT64_MAX || f->boot_ns > INT64_MAX ||
        f->epoch > INT64_MAX)
        return -ERANGE;
    /* One statement: numbering and insert are atomic without a transaction. */
    r = ng_store_prepare(s,
                         "INSERT INTO seals (session, sealno, seq, head, prev_seal_hash, "
                         "wall_ns, boot_ns, epoch, signature) VALUES (?1, (SELECT "
                         "coalesce(max(sealno), 0) + 1 FROM seals WHERE session = ?1), "
                         "?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                         &st);
    if (r < 0)
        return r;
    sqlite3_bind_blob(st, 1, f->chain_id, NG_SEAL_ID_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (int64_t)f->last_seq);
    sqlite3_bind_blob(st, 3, f->head, NG_SEAL_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, f->prev_seal, NG_SEAL_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, (int64_t)f->wall_ns);
    sqlite3_bind_int64(st, 6, (int64_t)f->boot_ns);
    sqlite3_bind_int64(st, 7, (int64_t)f->epoch);
    sqlite3_bind_blob(st, 8, sig, NG_SEAL_SIG_BYTES, SQLITE_STATIC);
    return step_once(s, st);
}

/* Insert a row unless it is there (sql[0]: INSERT ... ON CONFLICT DO
 * NOTHING), then check that the row there is this one (sql[1]: a count of
 * the rows equal to it): a conflicting row is -EEXIST. bind() binds the same
 * parameters to both statements. */
static int insert_same(struct ng_store *s, const char *const sql[2],
                       void (*bind)(sqlite3_stmt *st, const void *arg), const void *arg)
{
    sqlite3_stmt *st;
    int r = 0;

    for (int i = 0; i < 2 && r == 0; i++) {
        r = ng_store_prepare(s, sql[i], &st);
        if (r < 0)
            break;
        bind(st, arg);
        r = i == 0 ? step_once(s, st) : expect_one(s, st);
    }
    return r;
}

struct root_row {
    const uint8_t *pk;
    uint64_t epoch_len_ns;
};

static void bind_root(sqlite3_stmt *st, const void *arg)
{
    const struct root_row *w = arg;

    sqlite3_bind_blob(st, 1, w->pk, NG_FSKEY_PK_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (int64_t)w->epoch_len_ns);
}

static int add_root(struct ng_store *s, const uint8_t root_pk[NG_FSKEY_PK_BYTES],
                    uint64_t epoch_len_ns)
{
    static const char *const sql[2] = {
        "INSERT INTO roots (root_pk, epoch_len_ns) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
        "SELECT count(*) FROM roots WHERE root_pk = ?1 AND epoch_len_ns = ?2",
    };
    struct root_row w = {root_pk, epoch_len_ns};

    return insert_same(s, sql, bind_root, &w);
}

struct cert_row {
    const uint8_t *root_pk;
    const struct ng_fskey_cert *c;
};

static void bind_cert(sqlite3_stmt *st, const void *arg)
{
    const struct cert_row *w = arg;

    sqlite3_bind_blob(st, 1, w->root_pk, NG_FSKEY_PK_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (int64_t)w->c->epoch);
    sqlite3_bind_int64(st, 3, (int64_t)w->c->start_ns);
    sqlite3_bind_blob(st, 4, w->c->pk, NG_FSKEY_PK_BYTES, SQLITE_STATIC);
    sqlite3_bind_blob(st, 5, w->c->sig, NG_FSKEY_SIG_BYTES, SQLITE_STATIC);
}

static int add_cert_row(struct ng_store *s, const uint8_t root_pk[NG_FSKEY_PK_BYTES],
                        const struct ng_fskey_cert *c)
{
    static const char *const sql[2] = {
        "INSERT INTO certs (root_pk, epoch, start_ns, pubkey, signature) "
        "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
        "SELECT count(*) FROM certs WHERE root_pk = ?1 AND epoch = ?2 AND start_ns = ?3 "
        "AND pubkey = ?4 AND signature = ?5",
    };
    struct cert_row w = {root_pk, c};

    return insert_same(s, sql, bind_cert, &w);
}

int ng_store_add_cert(struct ng_store *s, const uint8_t root_pk[NG_FSKEY_PK_BYTES],
                      uint64_t epoch_len_ns, const struct ng_fskey_cert *c)
{
    int r;

    if (s->readonly)
        return -EROFS;
    if (epoch_len_ns == 0 || epoch_len_ns > INT64_MAX || c->epoch > INT64_MAX ||
        c->start_ns > INT64_MAX)
        return -ERANGE;
    r = ng_store_exec(s, "BEGIN IMMEDIATE");
    if (r < 0)
        return r;
    r = add_root(s, root_pk, epoch_len_ns);
    if (r == 0)
        r = add_cert_row(s, root_pk, c);
    if (r == 0)
        r = ng_store_exec(s, "COMMIT");
    if (r < 0)
        ng_store_rollback(s);
    return r;
}

/* The newest entry's seq and hash (0 and zeros for an empty ledger). */
static int ledger_tail(struct ng_store *s, int64_t *seq, uint8_t hash[NG_HASH_LEN])
{
    sqlite3_stmt *st;
    int r = ng_store_prepare(s, "SELECT seq, hash FROM ledger ORDER BY seq DESC LIMIT 1", &st);

    if (r < 0)
        return r;
    *seq = 0;
    memset(hash, 0, NG_HASH_LEN);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        if (sqlite3_column_type(st, 1) != SQLITE_BLOB || sqlite3_column_bytes(st, 1) != NG_HASH_LEN)
            r = -EBADMSG;
        else {
            *seq = sqlite3_column_int64(st, 0);
            memcpy(hash, sqlite3_column_blob(st, 1), NG_HASH_LEN);
        }
    } else if (rc != SQLITE_DONE) {
        r = ng_store_errno(s->db, rc);
    }
    sqlite3_finalize(st);
    return r;
}

static int ledger_insert(struct ng_store *s, int64_t seq, const uint8_t session[NG_STORE_ID_LEN],
                         const char *kind, int64_t wall_ns, int64_t event_seq,
                         const uint8_t value[NG_HASH_LEN], const uint8_t hash[NG_HASH_LEN])
{
    sqlite3_stmt *st;
    int r = ng_store_prepare(s,
                             "INSERT INTO ledger (seq, session, kind, wall_ns, event_seq, "
                             "value, hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
                             &st);
    if (r < 0)
        return r;
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_blob(st, 2, session, NG_STORE_ID_LEN, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, wall_ns);
    sqlite3_bind_int64(st, 5, event_seq);
    sqlite3_bind_blob(st, 6, value, NG_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_blob(st, 7, hash, NG_HASH_LEN, SQLITE_STATIC);
    return step_once(s, st);
}

int ng_store_ledger_append(struct ng_store *s, const uint8_t session[NG_STORE_ID_LEN],
                           enum ng_ledger_kind kind, int64_t event_seq,
                           const uint8_t value[NG_HASH_LEN], int64_t *ret_seq,
                           uint8_t ret_hash[NG_HASH_LEN])
{
    uint8_t prev[NG_HASH_LEN], hash[NG_HASH_LEN];
    int64_t seq = 0, wall = ng_store_clock_ns(CLOCK_REALTIME);
    int r;

    if (s->readonly)
        return -EROFS;
    if ((unsigned)kind >= NG_ARRAY_SIZE(ledger_kinds) || event_seq < 0)
        return -EINVAL;
    /* Under the write lock from the read of the tail to the insert, so two
     * recorders never chain onto the same entry. */
    int own = 0;
    r = ng_store_txn_begin(s, &own);
    if (r < 0)
        return r;
    r = ledger_tail(s, &seq, prev);
    if (r == 0) {
        seq++;
        ng_chain_ledger_hash(seq, session, ledger_kinds[kind], wall, event_seq, value, prev, hash);
        r = ledger_insert(s, seq, session, ledger_kinds[kind], wall, event_seq, value, hash);
    }
    r = ng_store_txn_end(s, own, r);
    if (r < 0)
        return r;
    *ret_seq = seq;
    memcpy(ret_hash, hash, NG_HASH_LEN);
    return 0;
}

static int blob_ok(sqlite3_stmt *st, int col, int len)
{
    return sqlite3_column_type(st, col) == SQLITE_BLOB && sqlite3_column_bytes(st, col) == len;
}

static int int_ok(sqlite3_stmt *st, int col)
{
    return sqlite3_column_type(st, col) == SQLITE_INTEGER && sqlite3_column_int64(st, col) >= 0;
}

int ng_store_last_seal(struct ng_store *s, const uint8_t chain_id[NG_SEAL_ID_BYTES],
                       struct ng_seal_fields *ret, uint8_t ret_sig[NG_SEAL_SIG_BYTES])
{
    sqlite3_stmt *st;
    int r = ng_store_prepare(s,
                             "SELECT seq, head, prev_seal_hash, wall_ns, boot_ns, epoch, "
                             "signature FROM seals WHERE session = ? ORDER BY sealno DESC LIMIT 1",
                             &st);
    if (r < 0)
        return r;
    sqlite3_bind_blob(st, 1, chain_id, NG_SEAL_ID_BYTES, SQLITE_STATIC);
    int rc = ng_store_step(s, st);
    if (rc == SQLITE_DONE)
        r = -ENOENT;
    else if (rc != SQLITE_ROW)
        r = ng_store_errno(s->db, rc);
    else if (!int_ok(st, 0) || !blob_ok(st, 1, NG_SEAL_HASH_BYTES) ||
             !blob_ok(st, 2, NG_SEAL_HASH_BYTES) || !int_ok(st, 3) || !int_ok(st, 4) ||
             !int_ok(st, 5) || !blob_ok(st, 6, NG_SEAL_SIG_BYTES))
        r = -EBADMSG;
    else {
        memcpy(ret->chain_id, chain_id, NG_SEAL_ID_BYTES);
        ret->last_seq = (uint64_t)sqlite3_column_int64(st, 0);
        memcpy(ret->head, sqlite3_column_blob(st, 1), NG_SEAL_HASH_BYTES);
        memcpy(ret->prev_seal, sqlite3_column_blob(st, 2), NG_SEAL_HASH_BYTES);
        ret->wall_ns = (uint64_t)sqlite3_column_int64(st, 3);
        ret->boot_ns = (uint64_t)sqlite3_column_int64(st, 4);
        ret->epoch = (uint64_t)sqlite3_column_int64(st, 5);
        memcpy(ret_sig, sqlite3_column_blob(st, 6), NG_SEAL_SIG_BYTES);
    }
    sqlite3_finalize(st);
    return r;
}

int ng_store_txn_begin(struct ng_store *s, int *owned)
{
    *owned = 0;
    if (s->readonly)
        return -EROFS;
    if (!sqlite3_get_autocommit(s->db))
        return 0; /* inside the caller's transaction */
    int r = ng_store_exec(s, "BEGIN IMMEDIATE");
    *owned = r == 0;
    return r;
}

int ng_store_txn_end(struct ng_store *s, int owned, int result)
{
    if (!owned)
        return result;
    if (result == 0) {
        result = ng_store_exec(s, "COMMIT");
        if (result == 0)
            return 0;
    }
    ng_store_rollback(s);
    return result;
}
