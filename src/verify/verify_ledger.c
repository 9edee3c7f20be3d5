/* Verifying the host-wide ledger (verify.h): its chain and seals, its
 * agreement with the sessions (a merge of two ordered scans, constant
 * memory), and the sessions it or other rows name that the store lacks. */
#include "verify_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int next_entry(struct chain *c)
{
    sqlite3_stmt *st = c->rows;
    int64_t want = c->cur + 1;
    int rc = ng_store_step(c->v->s, st);

    if (rc == SQLITE_DONE)
        return 0;
    if (rc != SQLITE_ROW)
        return ng_store_errno(c->v->s->db, rc);
    if (!ng_verify_col_int(st, 0)) {
        ng_verify_fail(c, want, "entry seq is not an integer");
        return 0;
    }
    int64_t seq = sqlite3_column_int64(st, 0);
    if (seq != want) {
        ng_verify_fail(c, want,
                       seq < want ? "entry seq %lld again or out of order"
                                  : "entry missing (next stored seq is %lld)",
                       (long long)seq);
        return 0;
    }
    if (!ng_verify_col_blob(st, 1, NG_STORE_ID_LEN) || sqlite3_column_type(st, 2) != SQLITE_TEXT ||
        !ng_verify_col_int(st, 3) || !ng_verify_col_int(st, 4) ||
        !ng_verify_col_blob(st, 5, NG_HASH_LEN) || !ng_verify_col_blob(st, 6, NG_HASH_LEN)) {
        ng_verify_fail(c, want, "malformed ledger row (a value of the wrong type or size)");
        return 0;
    }
    const char *kind = (const char *)sqlite3_column_text(st, 2);
    if (!kind || strlen(kind) != (size_t)sqlite3_column_bytes(st, 2)) { /* hashed up to NUL */
        ng_verify_fail(c, want, "malformed ledger row (a NUL in its kind)");
        return 0;
    }
    uint8_t h[NG_HASH_LEN];
    int64_t wall = sqlite3_column_int64(st, 3);
    ng_chain_ledger_hash(seq, sqlite3_column_blob(st, 1), kind, wall, sqlite3_column_int64(st, 4),
                         sqlite3_column_blob(st, 5), c->head, h);
    if (sodium_memcmp(h, sqlite3_column_blob(st, 6), NG_HASH_LEN) != 0) {
        ng_verify_fail(c, want, "entry hash does not match its content or its predecessor");
        return 0;
    }
    memcpy(c->head, h, NG_HASH_LEN);
    c->cur = seq;
    c->cur_wall = (uint64_t)wall;
    return 1;
}

/* The session's last event: seq and stored hash (0 / no hash: none). */
static int last_event(struct ng_verifier *v, const void *id, int64_t *seq, uint8_t hash[32],
                      int *is_end)
{
    sqlite3_stmt *st;
    int r = ng_store_prepare(v->s,
                             "SELECT seq, kind, hash FROM events WHERE session = ? "
                             "ORDER BY seq DESC LIMIT 1",
                             &st);
    if (r < 0)
        return r;
    sqlite3_bind_blob(st, 1, id, NG_STORE_ID_LEN, SQLITE_STATIC);
    *seq = 0;
    *is_end = 0;
    memset(hash, 0, NG_HASH_LEN);
    int rc = ng_store_step(v->s, st);
    if (rc == SQLITE_ROW && ng_verify_col_blob(st, 2, NG_HASH_LEN)) {
        const char *k = (const char *)sqlite3_column_text(st, 1);
        *seq = sqlite3_column_int64(st, 0);
        *is_end = k && strcmp(k, "x") == 0;
        memcpy(hash, sqlite3_column_blob(st, 2), NG_HASH_LEN);
    } else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        r = ng_store_errno(v->s->db, rc);
    }
    sqlite3_finalize(st);
    return r;
}

/* One session against its ledger entries (rows of a, positioned on the
 * first entry of this session; *more: a has a current row). */
static int match_session(struct chain *c, sqlite3_stmt *a, int *more, const void *id,
                         const void *hdr)
{
    int64_t last, starts = 0, ends = 0;
    uint8_t head[NG_HASH_LEN];
    int is_end;
    int r = last_event(c->v, id, &last, head, &is_end);
    char text[NG_UUID_STR];

    ng_uuid_format(id, text);
    for (; r == 0 && *more; *more = ng_store_step(c->v->s, a) == SQLITE_ROW) {
        if (memcmp(sqlite3_column_blob(a, 0), id, NG_STORE_ID_LEN) != 0)
            break;
        const char *kind = (const char *)sqlite3_column_text(a, 1);
        int64_t seq = sqlite3_column_int64(a, 4), eseq = sqlite3_column_int64(a, 2);
        const void *value = sqlite3_column_blob(a, 3);
        if (strcmp(kind, "start") == 0 && (starts++ || memcmp(value, hdr, NG_HASH_LEN) != 0))
            ng_verify_fail(c, seq, "start entry of %s differs from its header", text);
        else if (strcmp(kind, "end") == 0 &&
                 (ends++ || eseq != last || memcmp(value, head, NG_HASH_LEN) != 0))
            ng_verify_fail(c, seq, "end entry of %s differs from its last event", text);
    }
    if (starts == 0)
        ng_verify_fail(c, 0, "session %s has no start entry", text);
    else if (is_end && ends == 0)
        ng_verify_fail(c, 0, "session %s ended without an end entry", text);
    return r;
}

static int cross_check(struct chain *c)
{
    sqlite3_stmt *a = NULL, *b = NULL;
    int more = 0, r = ng_store_prepare(c->v->s,
                                       "SELECT session, kind, event_seq, value, seq FROM "
                                       "ledger ORDER BY session, seq",
                                       &a);
    if (r == 0)
        r = ng_store_prepare(c->v->s, "SELECT id, header_hash FROM sessions ORDER BY id", &b);
    if (r == 0)
        more = ng_store_step(c->v->s, a) == SQLITE_ROW;
    while (r == 0 && !c->failed && ng_store_step(c->v->s, b) == SQLITE_ROW) {
        if (!ng_verify_col_blob(b, 0, NG_STORE_ID_LEN) || !ng_verify_col_blob(b, 1, NG_HASH_LEN))
            continue; /* its own verdict says so */
        const void *id = sqlite3_column_blob(b, 0);
        /* entries of sessions the store lacks: MISSING (ng_verify_missing) */
        while (more && memcmp(sqlite3_column_blob(a, 0), id, NG_STORE_ID_LEN) < 0)
            more = ng_store_step(c->v->s, a) == SQLITE_ROW;
        r = match_session(c, a, &more, id, sqlite3_column_blob(b, 1));
    }
    sqlite3_finalize(a);
    sqlite3_finalize(b);
    return r;
}

int ng_verify_ledger(struct ng_verifier *v, struct ng_verify_result *res)
{
    struct chain c = {.v = v, .res = res, .next = next_entry, .base = 0};
    int r;

    memset(res, 0, sizeof(*res));
    res->sealed = -1;
    r = ng_store_prepare(v->s,
                         "SELECT seq, session, kind, wall_ns, event_seq, value, hash FROM "
                         "ledger ORDER BY seq",
                         &c.rows);
    if (r < 0)
        return r;
    r = ng_verify_walk(&c, ng_seal_ledger_id, &v->ledger_timing);
    sqlite3_finalize(c.rows);
    if (r == 0 && !c.failed) /* the walk proved every row well-formed */
        r = cross_check(&c);
    if (r == 0 && !c.failed && v->cert_status != NG_SEAL_OK)
        ng_verify_fail(&c, 0, "%s", v->cert_what);
    if (c.failed)
        res->events = c.cur;
    return r;
}

/* ---- all sessions, missing sessions --------------------------------------- */

int ng_verify_all(struct ng_verifier *v, ng_verify_cb cb, void *arg)
{
    struct ng_verify_result res;
    sqlite3_stmt *st;
    int rc, r = ng_store_prepare(v->s, "SELECT id FROM sessions ORDER BY start_ns, id", &st);

    while (r == 0 && (rc = ng_store_step(v->s, st)) == SQLITE_ROW) {
        if (ng_verify_col_blob(st, 0, NG_STORE_ID_LEN)) {
            r = ng_verify_session(v, sqlite3_column_blob(st, 0), NULL, 0, &res);
        } else {
            memset(&res, 0, sizeof(res));
            res.word = NG_VERIFY_TAMPERED;
            snprintf(res.what, sizeof(res.what), "a session row with a malformed id");
        }
        if (r == 0)
            r = cb(arg, &res);
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = ng_store_errno(v->s->db, rc);
    sqlite3_finalize(st);
    return r;
}

static int exists(struct ng_verifier *v, const char *sql, const void *id)
{
    sqlite3_stmt *st;
    int r = ng_store_prepare(v->s, sql, &st);

    if (r < 0)
        return r;
    sqlite3_bind_blob(st, 1, id, NG_STORE_ID_LEN, SQLITE_STATIC);
    int rc = ng_store_step(v->s, st);
    r = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : ng_store_errno(v->s->db, rc);
    sqlite3_finalize(st);
    return r;
}

int ng_verify_has_session(struct ng_verifier *v, const uint8_t id[NG_STORE_ID_LEN])
{
    return exists(v, "SELECT 1 FROM sessions WHERE id = ?", id);
}

static int report_missing(struct ng_verifier *v, const void *id, const char *where, ng_verify_cb cb,
                          void *arg)
{
    struct ng_verify_result res = {.word = NG_VERIFY_MISSING, .sealed = -1};
    int r = ng_verify_has_session(v, id);

    if (r != 0)
        return r < 0 ? r : 0;
    memcpy(res.id, id, NG_STORE_ID_LEN);
    snprintf(res.what, sizeof(res.what), "%s", where);
    return cb(arg, &res);
}

/* The distinct session IDs of a table, by skip-scan over its index (one
 * lookup per session, not one per row); those without a sessions row. */
static int missing_in(struct ng_verifier *v, const char *sql, const char *skip_sql,
                      const char *where, ng_verify_cb cb, void *arg)
{
    uint8_t last[NG_STORE_ID_LEN] = {0};
    sqlite3_stmt *st;
    int r = ng_store_prepare(v->s, sql, &st);

    while (r == 0) {
        sqlite3_reset(st);
        sqlite3_bind_blob(st, 1, last, NG_STORE_ID_LEN, SQLITE_STATIC);
        int rc = ng_store_step(v->s, st);
        if (rc != SQLITE_ROW) {
            r = rc == SQLITE_DONE ? 0 : ng_store_errno(v->s->db, rc);
            break;
        }
        memcpy(last, sqlite3_column_blob(st, 0), NG_STORE_ID_LEN);
        r = skip_sql ? exists(v, skip_sql, last) : 0;
        if (r == 0)
            r = report_missing(v, last, where, cb, arg);
        else if (r == 1)
            r = 0;
    }
    sqlite3_finalize(st);
    return r;
}

int ng_verify_missing(struct ng_verifier *v, ng_verify_cb cb, void *arg)
{
    static const char ledger[] = "SELECT 1 FROM ledger WHERE session = ? LIMIT 1";
    static const char either[] = "SELECT 1 WHERE EXISTS (SELECT 1 FROM ledger WHERE session = ?1) "
                                 "OR EXISTS (SELECT 1 FROM events WHERE session = ?1)";
    int r = missing_in(v,
                       "SELECT session FROM ledger WHERE session > ? AND typeof(session) = "
                       "'blob' AND length(session) = 16 ORDER BY session LIMIT 1",
                       NULL, "in the ledger", cb, arg);
    if (r == 0)
        r = missing_in(v,
                       "SELECT session FROM events WHERE session > ? AND typeof(session) = "
                       "'blob' AND length(session) = 16 ORDER BY session LIMIT 1",
                       ledger, "events without a session header", cb, arg);
    if (r == 0) /* the ledger's own seals are under the nil ID, which is not > itself */
        r = missing_in(v,
                       "SELECT session FROM seals WHERE session > ? AND typeof(session) = "
                       "'blob' AND length(session) = 16 ORDER BY session LIMIT 1",
                       either, "seals without a session header", cb, arg);
    return r;
}

int ng_verify_list(struct ng_verifier *v, ng_verify_id_cb cb, void *arg)
{
    sqlite3_stmt *st;
    int rc = SQLITE_DONE,
        r = ng_store_prepare(v->s, "SELECT id FROM sessions ORDER BY start_ns, id", &st);

    while (r == 0 && (rc = ng_store_step(v->s, st)) == SQLITE_ROW)
        if (ng_verify_col_blob(st, 0, NG_STORE_ID_LEN))
            r = cb(arg, sqlite3_column_blob(st, 0));
    if (r == 0 && rc != SQLITE_DONE)
        r = ng_store_errno(v->s->db, rc);
    sqlite3_finalize(st);
    return r;
}
