/* Verifying the host-wide ledger (verify.h): its chain and seals, its
 * agreement with the sessions (a merge of two ordered scans, constant
 * memory), and the sessions it or other rows name that the store lacks. */
#include "verify_int.h"

#include <errno.h>
#include <stdarg.h>
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
    /* Entries are appended under one lock, each with the clock read then:
     * their times never go back along the ledger. */
    if (wall < 0 || (seq > 1 && (uint64_t)wall < c->cur_wall)) {
        ng_verify_fail(c, want, "entry dated before its predecessor");
        return 0;
    }
    memcpy(c->head, h, NG_HASH_LEN);
    c->cur = seq;
    c->cur_wall = (uint64_t)wall;
    if (c->cover)
        c->covered(c);
    return 1;
}

/* The seal that first covers an entry is the one made right after it was
 * appended, under the same key lock (sealer.c): it must be a seal of the
 * epoch that holds the entry's time, and not older than the entry. Together
 * with the cross-check below (each entry's time is pinned by its session's
 * own seals), this is what keeps a later key from re-sealing a rewritten
 * ledger: entries dated in an earlier epoch need that epoch's key, and
 * entries re-dated into the current epoch no longer match their sessions. */
static void entry_in_seal(struct chain *c)
{
    const struct ng_seal_fields *s = c->cover;
    const struct ng_verifier *v = c->v;
    int64_t e = ng_verify_epoch_at(v, c->cur_wall);

    if (e < 0 || (uint64_t)e != s->epoch)
        ng_verify_fail(c, c->cover_from,
                       "seal %lld: late seal: entry %lld is dated in epoch %lld, sealed with the "
                       "key of epoch %llu",
                       (long long)c->cover_sealno, (long long)c->cur, (long long)e,
                       (unsigned long long)s->epoch);
    else if (c->cur_wall > s->wall_ns)
        ng_verify_fail(c, c->cover_from, "seal %lld: entry %lld is dated after the seal",
                       (long long)c->cover_sealno, (long long)c->cur);
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

/* One ledger entry of a session (a row of the merge) and that session. */
struct entry {
    const void *id;
    const char *kind;
    int64_t seq, event_seq, wall;
    const void *value;
};
struct session {
    const void *id, *hdr;
    int64_t start_ns, last;
    uint8_t head[NG_HASH_LEN];
    int is_end;
    char text[NG_UUID_STR];
};

/* The entry's time against the session's own seals (signed in the epoch
 * they were made in): the recorder appends a start entry just before the
 * session's first seal (over seq 0, the header), and a checkpoint or end
 * entry just after the seal over event_seq with head value, all under one
 * key lock. So a seal of the session with exactly that seq and head must
 * exist, of the epoch that holds the entry's time, at most seal_interval +
 * 2 s from it on the right side. 1: found, 0: not, < 0: error. */
static int pinned(struct chain *c, const struct entry *e)
{
    uint64_t late = c->v->ledger_timing.seal_interval_ns + NG_SEAL_LATE_GRACE_NS;
    int64_t epoch = ng_verify_epoch_at(c->v, (uint64_t)e->wall);
    int before = strcmp(e->kind, "start") == 0; /* the entry comes before its seal */
    uint64_t w = (uint64_t)e->wall;             /* >= 0: the walk checked it */
    int64_t lo = before ? e->wall : w > late ? (int64_t)(w - late) : 0;
    int64_t hi = !before ? e->wall : w > INT64_MAX - late ? INT64_MAX : (int64_t)(w + late);
    sqlite3_stmt *st;

    if (epoch < 0)
        return 0;
    int r = ng_store_prepare(c->v->s,
                             "SELECT 1 FROM seals WHERE session = ?1 AND seq = ?2 AND head = ?3 "
                             "AND epoch = ?4 AND wall_ns BETWEEN ?5 AND ?6 LIMIT 1",
                             &st);
    if (r < 0)
        return r;
    sqlite3_bind_blob(st, 1, e->id, NG_STORE_ID_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, e->event_seq);
    sqlite3_bind_blob(st, 3, e->value, NG_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, epoch);
    sqlite3_bind_int64(st, 5, lo);
    sqlite3_bind_int64(st, 6, hi);
    int rc = ng_store_step(c->v->s, st);
    r = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : ng_store_errno(c->v->s->db, rc);
    sqlite3_finalize(st);
    return r;
}

/* What is wrong with entry e of session s (NULL: nothing); n: entries of s
 * before e, ended: one of them was the end. */
static const char *entry_problem(const struct entry *e, const struct session *s, int64_t n,
                                 int ended)
{
    int start = strcmp(e->kind, "start") == 0, end = strcmp(e->kind, "end") == 0;

    if (ended)
        return "has an entry after its end entry";
    if (start != (n == 0))
        return start ? "has a second start entry" : "does not begin with a start entry";
    if (start && (e->event_seq != 0 || memcmp(e->value, s->hdr, NG_HASH_LEN) != 0))
        return "has a start entry that differs from its header";
    if (start && e->wall < s->start_ns)
        return "has a start entry dated before the session started";
    if (end && (e->event_seq != s->last || memcmp(e->value, s->head, NG_HASH_LEN) != 0))
        return "has an end entry that differs from its last event";
    return NULL;
}

/* The merge reads the ledger in session order, not in seq order: it keeps
 * the finding with the smallest seq, the first one the ledger walk would
 * name. */
struct finding {
    int have;
    int64_t seq;
    char what[NG_VERIFY_WHAT_MAX];
};

__attribute__((format(printf, 3, 4))) static void note(struct finding *f, int64_t seq,
                                                       const char *fmt, ...)
{
    va_list ap;

    if (f->have && f->seq <= seq)
        return;
    f->have = 1;
    f->seq = seq;
    va_start(ap, fmt);
    (void)vsnprintf(f->what, sizeof(f->what), fmt, ap);
    va_end(ap);
}

/* One session against its ledger entries (rows of a, positioned on the
 * first entry of this session; *more: a has a current row). */
static int match_session(struct chain *c, sqlite3_stmt *a, int *more, struct session *s,
                         struct finding *f)
{
    int64_t n = 0;
    int ended = 0, r = last_event(c->v, s->id, &s->last, s->head, &s->is_end);

    ng_uuid_format(s->id, s->text);
    for (; r == 0 && *more; *more = ng_store_step(c->v->s, a) == SQLITE_ROW, n++) {
        struct entry e = {.id = sqlite3_column_blob(a, 0),
                          .kind = (const char *)sqlite3_column_text(a, 1),
                          .event_seq = sqlite3_column_int64(a, 2),
                          .value = sqlite3_column_blob(a, 3),
                          .seq = sqlite3_column_int64(a, 4),
                          .wall = sqlite3_column_int64(a, 5)};
        if (memcmp(e.id, s->id, NG_STORE_ID_LEN) != 0)
            break;
        const char *bad = entry_problem(&e, s, n, ended);
        if (!bad && (r = pinned(c, &e)) == 0)
            bad = strcmp(e.kind, "start") == 0
                      ? "has a start entry not dated just before the session's first seal"
                      : "has an entry not dated just after the session's seal it names";
        if (bad && r >= 0)
            note(f, e.seq, "session %s %s", s->text, bad);
        r = r < 0 ? r : 0;
        ended |= strcmp(e.kind, "end") == 0;
    }
    if (r == 0 && n == 0)
        note(f, 0, "session %s has no start entry", s->text);
    else if (r == 0 && s->is_end && !ended)
        note(f, 0, "session %s ended without an end entry", s->text);
    return r;
}

/* The merge of the ledger (by session, seq) with the sessions (by id). The
 * walk proved every ledger row well-formed. */
static int cross_check(struct chain *c)
{
    sqlite3_stmt *a = NULL, *b = NULL;
    struct finding f = {0};
    int more = 0, rc = SQLITE_DONE,
        r = ng_store_prepare(c->v->s,
                             "SELECT session, kind, event_seq, value, seq, wall_ns "
                             "FROM ledger ORDER BY session, seq",
                             &a);
    if (r == 0)
        r = ng_store_prepare(c->v->s, "SELECT id, header_hash, start_ns FROM sessions ORDER BY id",
                             &b);
    if (r == 0)
        more = ng_store_step(c->v->s, a) == SQLITE_ROW;
    while (r == 0 && (rc = ng_store_step(c->v->s, b)) == SQLITE_ROW) {
        if (!ng_verify_col_blob(b, 0, NG_STORE_ID_LEN) || !ng_verify_col_blob(b, 1, NG_HASH_LEN) ||
            !ng_verify_col_int(b, 2))
            continue; /* its own verdict says so */
        struct session s = {.id = sqlite3_column_blob(b, 0),
                            .hdr = sqlite3_column_blob(b, 1),
                            .start_ns = sqlite3_column_int64(b, 2)};
        /* entries of sessions the store lacks: MISSING (ng_verify_missing) */
        while (more && memcmp(sqlite3_column_blob(a, 0), s.id, NG_STORE_ID_LEN) < 0)
            more = ng_store_step(c->v->s, a) == SQLITE_ROW;
        r = match_session(c, a, &more, &s, &f);
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = ng_store_errno(c->v->s->db, rc);
    sqlite3_finalize(a);
    sqlite3_finalize(b);
    if (r == 0 && f.have)
        ng_verify_fail(c, f.seq, "%s", f.what);
    return r;
}

int ng_verify_ledger(struct ng_verifier *v, struct ng_verify_result *res)
{
    struct chain c = {.v = v, .res = res, .next = next_entry, .base = 0, .covered = entry_in_seal};
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
