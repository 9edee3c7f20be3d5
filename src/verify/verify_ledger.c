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
    struct ng_store_rows *st = c->rows;
    int64_t want = c->cur + 1;
    int rc = ng_store_rows_next(st);

    if (rc <= 0)
        return rc;
    if (!ng_store_row_is_int(st, 0)) {
        ng_verify_fail(c, want, "entry seq is not an integer");
        return 0;
    }
    int64_t seq = ng_store_row_int(st, 0);
    if (seq != want) {
        ng_verify_fail(c, want,
                       seq < want ? "entry seq %lld again or out of order"
                                  : "entry missing (next stored seq is %lld)",
                       (long long)seq);
        return 0;
    }
    if (!ng_store_row_is_blob(st, 1, NG_STORE_ID_LEN) || !ng_store_row_is_text(st, 2) ||
        !ng_store_row_is_int(st, 3) || !ng_store_row_is_int(st, 4) ||
        !ng_store_row_is_blob(st, 5, NG_HASH_LEN) || !ng_store_row_is_blob(st, 6, NG_HASH_LEN)) {
        ng_verify_fail(c, want, "malformed ledger row (a value of the wrong type or size)");
        return 0;
    }
    const char *kind = ng_store_row_text(st, 2);
    if (!kind || strlen(kind) != ng_store_row_len(st, 2)) { /* hashed up to NUL */
        ng_verify_fail(c, want, "malformed ledger row (a NUL in its kind)");
        return 0;
    }
    uint8_t h[NG_HASH_LEN];
    int64_t wall = ng_store_row_int(st, 3);
    ng_chain_ledger_hash(seq, ng_store_row_blob(st, 1), kind, wall, ng_store_row_int(st, 4),
                         ng_store_row_blob(st, 5), c->head, h);
    if (sodium_memcmp(h, ng_store_row_blob(st, 6), NG_HASH_LEN) != 0) {
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
    struct ng_store_rows *st;
    struct ng_store_arg arg = NG_ARG_BLOB(id, NG_STORE_ID_LEN);
    int r = ng_store_rows_open(v->s, NG_Q_LAST_EVENT, &arg, 1, &st);

    if (r < 0)
        return r;
    *seq = 0;
    *is_end = 0;
    memset(hash, 0, NG_HASH_LEN);
    int rc = ng_store_rows_next(st);
    if (rc == 1 && ng_store_row_is_blob(st, 2, NG_HASH_LEN)) {
        const char *k = ng_store_row_text(st, 1);
        *seq = ng_store_row_int(st, 0);
        *is_end = k && strcmp(k, "x") == 0;
        memcpy(hash, ng_store_row_blob(st, 2), NG_HASH_LEN);
    } else if (rc < 0) {
        r = rc;
    }
    ng_store_rows_close(st);
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
    if (epoch < 0)
        return 0;
    struct ng_store_arg args[] = {
        NG_ARG_BLOB(e->id, NG_STORE_ID_LEN),
        NG_ARG_INT(e->event_seq),
        NG_ARG_BLOB(e->value, NG_HASH_LEN),
        NG_ARG_INT(epoch),
        NG_ARG_INT(lo),
        NG_ARG_INT(hi),
    };
    return ng_store_rows_exists(c->v->s, NG_Q_SEAL_MATCH, args, NG_ARRAY_SIZE(args));
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
static int match_session(struct chain *c, struct ng_store_rows *a, int *more, struct session *s,
                         struct finding *f)
{
    int64_t n = 0;
    int ended = 0, r = last_event(c->v, s->id, &s->last, s->head, &s->is_end);

    ng_uuid_format(s->id, s->text);
    for (; r == 0 && *more; *more = ng_store_rows_next(a) == 1, n++) {
        struct entry e = {.id = ng_store_row_blob(a, 0),
                          .kind = ng_store_row_text(a, 1),
                          .event_seq = ng_store_row_int(a, 2),
                          .value = ng_store_row_blob(a, 3),
                          .seq = ng_store_row_int(a, 4),
                          .wall = ng_store_row_int(a, 5)};
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
    struct ng_store_rows *a = NULL, *b = NULL;
    struct finding f = {0};
    int more = 0, rc = 0, r = ng_store_rows_open(c->v->s, NG_Q_LEDGER_BY_SESSION, NULL, 0, &a);

    if (r == 0)
        r = ng_store_rows_open(c->v->s, NG_Q_SESSION_HEADS, NULL, 0, &b);
    if (r == 0)
        more = ng_store_rows_next(a) == 1;
    while (r == 0 && (rc = ng_store_rows_next(b)) == 1) {
        if (!ng_store_row_is_blob(b, 0, NG_STORE_ID_LEN) ||
            !ng_store_row_is_blob(b, 1, NG_HASH_LEN) || !ng_store_row_is_int(b, 2))
            continue; /* its own verdict says so */
        struct session s = {.id = ng_store_row_blob(b, 0),
                            .hdr = ng_store_row_blob(b, 1),
                            .start_ns = ng_store_row_int(b, 2)};
        /* entries of sessions the store lacks: MISSING (ng_verify_missing) */
        while (more && memcmp(ng_store_row_blob(a, 0), s.id, NG_STORE_ID_LEN) < 0)
            more = ng_store_rows_next(a) == 1;
        r = match_session(c, a, &more, &s, &f);
    }
    if (r == 0 && rc < 0)
        r = rc;
    ng_store_rows_close(a);
    ng_store_rows_close(b);
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
    r = ng_store_rows_open(v->s, NG_Q_LEDGER, NULL, 0, &c.rows);
    if (r < 0)
        return r;
    r = ng_verify_walk(&c, ng_seal_ledger_id, &v->ledger_timing);
    ng_store_rows_close(c.rows);
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
    struct ng_store_rows *st;
    int rc = 0, r = ng_store_rows_open(v->s, NG_Q_SESSION_IDS, NULL, 0, &st);

    while (r == 0 && (rc = ng_store_rows_next(st)) == 1) {
        if (ng_store_row_is_blob(st, 0, NG_STORE_ID_LEN)) {
            r = ng_verify_session(v, ng_store_row_blob(st, 0), NULL, 0, &res);
        } else {
            memset(&res, 0, sizeof(res));
            res.word = NG_VERIFY_TAMPERED;
            snprintf(res.what, sizeof(res.what), "a session row with a malformed id");
        }
        if (r == 0)
            r = cb(arg, &res);
    }
    if (r == 0 && rc < 0)
        r = rc;
    ng_store_rows_close(st);
    return r;
}

static int exists(struct ng_verifier *v, enum ng_store_query q, const void *id)
{
    struct ng_store_arg arg = NG_ARG_BLOB(id, NG_STORE_ID_LEN);
    return ng_store_rows_exists(v->s, q, &arg, 1);
}

int ng_verify_has_session(struct ng_verifier *v, const uint8_t id[NG_STORE_ID_LEN])
{
    return exists(v, NG_Q_SESSION_EXISTS, id);
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
 * lookup per session, not one per row); those without a sessions row, and
 * (skip >= 0) not named by query skip either. */
static int missing_in(struct ng_verifier *v, enum ng_store_query next, int skip, const char *where,
                      ng_verify_cb cb, void *arg)
{
    uint8_t last[NG_STORE_ID_LEN] = {0};
    struct ng_store_arg a = NG_ARG_BLOB(last, NG_STORE_ID_LEN);
    struct ng_store_rows *st;
    int r = ng_store_rows_open(v->s, next, &a, 1, &st);

    while (r == 0) {
        int rc = ng_store_rows_next(st);
        if (rc <= 0) {
            r = rc;
            break;
        }
        memcpy(last, ng_store_row_blob(st, 0), NG_STORE_ID_LEN); /* the query's own check */
        r = skip >= 0 ? exists(v, (enum ng_store_query)skip, last) : 0;
        if (r == 0)
            r = report_missing(v, last, where, cb, arg);
        else if (r == 1)
            r = 0;
        if (r == 0)
            r = ng_store_rows_rebind(st, &a, 1);
    }
    ng_store_rows_close(st);
    return r;
}

int ng_verify_missing(struct ng_verifier *v, ng_verify_cb cb, void *arg)
{
    int r = missing_in(v, NG_Q_NEXT_IN_LEDGER, -1, "in the ledger", cb, arg);

    if (r == 0)
        r = missing_in(v, NG_Q_NEXT_IN_EVENTS, NG_Q_LEDGER_HAS, "events without a session header",
                       cb, arg);
    if (r == 0) /* the ledger's own seals are under the nil ID, which is not > itself */
        r = missing_in(v, NG_Q_NEXT_IN_SEALS, NG_Q_LEDGER_OR_EVENTS_HAS,
                       "seals without a session header", cb, arg);
    if (r == 0 && ng_store_version(v->s) >= 5)
        r = missing_in(v, NG_Q_NEXT_IN_BLOCKS, NG_Q_LEDGER_OR_EVENTS_HAS,
                       "event data blocks without a session header", cb, arg);
    return r;
}

int ng_verify_list(struct ng_verifier *v, ng_verify_id_cb cb, void *arg)
{
    struct ng_store_rows *st;
    int rc = 0, r = ng_store_rows_open(v->s, NG_Q_SESSION_IDS, NULL, 0, &st);

    while (r == 0 && (rc = ng_store_rows_next(st)) == 1)
        if (ng_store_row_is_blob(st, 0, NG_STORE_ID_LEN))
            r = cb(arg, ng_store_row_blob(st, 0));
    if (r == 0 && rc < 0)
        r = rc;
    ng_store_rows_close(st);
    return r;
}
