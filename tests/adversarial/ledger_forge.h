/* The ledger forger: what a later root holding the store and the key
 * directory (so only the current epoch's secret) does to remove a session
 * from the middle of the store, or to reorder, re-time or renumber ledger
 * entries sealed in earlier epochs, with nsgate's own hashing and sealing
 * code. Shared by tests/adversarial/x_ledger_forge.c (the attack against a
 * real store) and tests/unit/test_tamper.c (the same attack in process).
 *
 * The forger rewrites the ledger from the first entry the change touches:
 * entries renumbered and re-chained (new wall_ns values, unless told to keep
 * them), every ledger seal that covered a rewritten entry deleted (those
 * seals no longer match), the certificates up to the current epoch copied
 * in, and one new ledger seal made with the current epoch's key, chained
 * onto the last seal kept. Header-only: one executable per user. */
#ifndef NSGATE_TEST_LEDGER_FORGE_H
#define NSGATE_TEST_LEDGER_FORGE_H

#include <errno.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nsgate/chain.h"
#include "nsgate/fskey.h"
#include "nsgate/seal.h"

enum forge_what {
    FORGE_DELETE,  /* the victim session and its entries go, the rest is renumbered */
    FORGE_REORDER, /* the victim's last entry swaps places with the next one */
    FORGE_RETIME,  /* the victim's entries and all after them get new times */
    FORGE_RESEAL,  /* nothing changes: the tail is only re-sealed with the current key */
};

struct forge_opts {
    const char *db, *keys;
    enum forge_what what;
    int keep_times; /* renumbered entries keep their wall_ns */
    uint8_t victim[16];
    uint64_t now_ns; /* the attacker's clock: 0 for the real one */
};

struct forge_entry {
    uint8_t session[16], value[32];
    char kind[16];
    int64_t wall, event_seq;
};

struct forge {
    sqlite3 *db;
    struct forge_entry *e;
    size_t n;
    int64_t from; /* first ledger seq rewritten */
    char *err;
    size_t errlen;
};

__attribute__((format(printf, 2, 3))) static int forge_fail(struct forge *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->err, f->errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static int forge_exec(struct forge *f, const char *sql, const uint8_t *id)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(f->db, sql, -1, &st, NULL) != SQLITE_OK)
        return forge_fail(f, "%s: %s", sql, sqlite3_errmsg(f->db));
    if (id)
        sqlite3_bind_blob(st, 1, id, 16, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : forge_fail(f, "%s failed", sql);
}

static int64_t forge_int(struct forge *f, const char *sql, const uint8_t *id)
{
    sqlite3_stmt *st;
    int64_t v = -1;
    if (sqlite3_prepare_v2(f->db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (id)
        sqlite3_bind_blob(st, 1, id, 16, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_INTEGER)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* The ledger from seq `from` on, into memory. */
static int forge_load(struct forge *f)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(f->db,
                           "SELECT session, kind, wall_ns, event_seq, value FROM ledger "
                           "WHERE seq >= ? ORDER BY seq",
                           -1, &st, NULL) != SQLITE_OK)
        return forge_fail(f, "ledger: %s", sqlite3_errmsg(f->db));
    sqlite3_bind_int64(st, 1, f->from);
    while (sqlite3_step(st) == SQLITE_ROW) {
        struct forge_entry *ne = realloc(f->e, (f->n + 1) * sizeof(*ne)), *e;
        if (!ne) {
            sqlite3_finalize(st);
            return forge_fail(f, "out of memory");
        }
        f->e = ne;
        e = &f->e[f->n++];
        memset(e, 0, sizeof(*e));
        memcpy(e->session, sqlite3_column_blob(st, 0), 16);
        snprintf(e->kind, sizeof(e->kind), "%s", (const char *)sqlite3_column_text(st, 1));
        e->wall = sqlite3_column_int64(st, 2);
        e->event_seq = sqlite3_column_int64(st, 3);
        memcpy(e->value, sqlite3_column_blob(st, 4), 32);
    }
    sqlite3_finalize(st);
    return 0;
}

/* The change itself, on the entries in memory (and the victim's rows). */
static int forge_change(struct forge *f, const struct forge_opts *o)
{
    size_t k = 0;
    switch (o->what) {
    case FORGE_DELETE:
        for (size_t i = 0; i < f->n; i++)
            if (memcmp(f->e[i].session, o->victim, 16) != 0)
                f->e[k++] = f->e[i];
        f->n = k;
        return forge_exec(f, "DELETE FROM sessions WHERE id = ?1", o->victim) ||
                       forge_exec(f, "DELETE FROM events WHERE session = ?1", o->victim) ||
                       forge_exec(f, "DELETE FROM seals WHERE session = ?1", o->victim) ||
                       forge_exec(f, "DELETE FROM cache_session_end WHERE session = ?1", o->victim)
                   ? -1
                   : 0;
    case FORGE_REORDER: {
        if (f->n < 2)
            return forge_fail(f, "no entry after the victim's last one to swap with");
        struct forge_entry t = f->e[0];
        f->e[0] = f->e[1];
        f->e[1] = t;
        return 0;
    }
    default:
        return 0;
    }
}

/* New chain from `from` on, and the ledger rows replaced by it. */
static int forge_rewrite(struct forge *f, uint8_t head[32])
{
    sqlite3_stmt *st;
    memset(head, 0, 32);
    if (f->from > 1) {
        if (sqlite3_prepare_v2(f->db, "SELECT hash FROM ledger WHERE seq = ?", -1, &st, NULL) !=
            SQLITE_OK)
            return forge_fail(f, "ledger: %s", sqlite3_errmsg(f->db));
        sqlite3_bind_int64(st, 1, f->from - 1);
        if (sqlite3_step(st) == SQLITE_ROW)
            memcpy(head, sqlite3_column_blob(st, 0), 32);
        sqlite3_finalize(st);
    }
    sqlite3_stmt *del;
    if (sqlite3_prepare_v2(f->db, "DELETE FROM ledger WHERE seq >= ?", -1, &del, NULL) != SQLITE_OK)
        return forge_fail(f, "ledger: %s", sqlite3_errmsg(f->db));
    sqlite3_bind_int64(del, 1, f->from);
    int rc = sqlite3_step(del);
    sqlite3_finalize(del);
    if (rc != SQLITE_DONE ||
        sqlite3_prepare_v2(
            f->db,
            "INSERT INTO ledger (seq, session, kind, wall_ns, event_seq, value, hash) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            -1, &st, NULL) != SQLITE_OK)
        return forge_fail(f, "ledger: %s", sqlite3_errmsg(f->db));
    for (size_t i = 0; i < f->n && rc != -1; i++) {
        struct forge_entry *e = &f->e[i];
        int64_t seq = f->from + (int64_t)i;
        ng_chain_ledger_hash(seq, e->session, e->kind, e->wall, e->event_seq, e->value, head, head);
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, seq);
        sqlite3_bind_blob(st, 2, e->session, 16, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, e->kind, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, e->wall);
        sqlite3_bind_int64(st, 5, e->event_seq);
        sqlite3_bind_blob(st, 6, e->value, 32, SQLITE_STATIC);
        sqlite3_bind_blob(st, 7, head, 32, SQLITE_TRANSIENT);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = -1;
    }
    sqlite3_finalize(st);
    return rc == -1 ? forge_fail(f, "ledger insert: %s", sqlite3_errmsg(f->db)) : 0;
}

/* The last ledger seal kept, after those covering rewritten entries went. */
static int forge_last_seal(struct forge *f, struct ng_seal_fields *p, uint8_t sig[64],
                           int64_t *sealno)
{
    sqlite3_stmt *st;
    int found = 0;
    if (sqlite3_prepare_v2(f->db,
                           "SELECT sealno, seq, head, prev_seal_hash, wall_ns, boot_ns, epoch, "
                           "signature FROM seals WHERE session = zeroblob(16) "
                           "ORDER BY sealno DESC LIMIT 1",
                           -1, &st, NULL) != SQLITE_OK)
        return forge_fail(f, "seals: %s", sqlite3_errmsg(f->db));
    memset(p, 0, sizeof(*p));
    *sealno = 0;
    if (sqlite3_step(st) == SQLITE_ROW) {
        found = 1;
        *sealno = sqlite3_column_int64(st, 0);
        p->last_seq = (uint64_t)sqlite3_column_int64(st, 1);
        memcpy(p->head, sqlite3_column_blob(st, 2), 32);
        memcpy(p->prev_seal, sqlite3_column_blob(st, 3), 32);
        p->wall_ns = (uint64_t)sqlite3_column_int64(st, 4);
        p->boot_ns = (uint64_t)sqlite3_column_int64(st, 5);
        p->epoch = (uint64_t)sqlite3_column_int64(st, 6);
        memcpy(sig, sqlite3_column_blob(st, 7), 64);
    }
    sqlite3_finalize(st);
    return found;
}

/* Certificates up to the current epoch: public, the recorder copies them. */
static int forge_certs(struct forge *f, struct ng_fskey *k, const struct ng_fskey_info *ki)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(
            f->db,
            "INSERT OR IGNORE INTO certs (root_pk, epoch, start_ns, pubkey, signature) "
            "VALUES (?, ?, ?, ?, ?)",
            -1, &st, NULL) != SQLITE_OK)
        return forge_fail(f, "certs: %s", sqlite3_errmsg(f->db));
    for (uint64_t e = 0; e <= ki->epoch; e++) {
        struct ng_fskey_cert c;
        if (ng_fskey_read_cert(k, e, &c) < 0)
            break;
        sqlite3_reset(st);
        sqlite3_bind_blob(st, 1, ki->root_pk, 32, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (int64_t)c.epoch);
        sqlite3_bind_int64(st, 3, (int64_t)c.start_ns);
        sqlite3_bind_blob(st, 4, c.pk, 32, SQLITE_TRANSIENT);
        sqlite3_bind_blob(st, 5, c.sig, 64, SQLITE_TRANSIENT);
        (void)sqlite3_step(st);
    }
    sqlite3_finalize(st);
    return 0;
}

/* New times: consecutive microseconds ending now, inside the current epoch. */
static void forge_times(struct forge *f, const struct ng_fskey_info *ki, uint64_t now)
{
    uint64_t base = now - (f->n + 1) * 1000;
    if (base < ki->start_ns)
        base = ki->start_ns;
    for (size_t i = 0; i < f->n; i++)
        f->e[i].wall = (int64_t)(base + i * 1000);
}

/* Sign one ledger seal over the new tail with the current key, and store it. */
static int forge_seal(struct forge *f, struct ng_fskey *k, const struct ng_fskey_info *ki,
                      const uint8_t head[32], uint64_t now)
{
    struct ng_seal_fields prev, s = {0};
    uint8_t psig[64], sig[64];
    int64_t sealno = 0;
    int have = forge_last_seal(f, &prev, psig, &sealno);
    if (have < 0)
        return -1;
    s.last_seq = (uint64_t)(f->from + (int64_t)f->n - 1);
    memcpy(s.head, head, 32);
    if (have)
        ng_seal_hash(&prev, psig, s.prev_seal);
    s.wall_ns = now;
    if (f->n && s.wall_ns <= (uint64_t)f->e[f->n - 1].wall)
        s.wall_ns = (uint64_t)f->e[f->n - 1].wall + 1;
    if (have && s.wall_ns <= prev.wall_ns)
        s.wall_ns = prev.wall_ns + 1;
    s.boot_ns = have ? prev.boot_ns + 1 : 1;
    s.epoch = ki->epoch;
    if (ng_seal_sign(k, &s, sig) < 0)
        return forge_fail(f, "the current key refused to sign");
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(
            f->db,
            "INSERT INTO seals (session, sealno, seq, head, prev_seal_hash, wall_ns, "
            "boot_ns, epoch, signature) VALUES (zeroblob(16), ?, ?, ?, ?, ?, ?, ?, ?)",
            -1, &st, NULL) != SQLITE_OK)
        return forge_fail(f, "seals: %s", sqlite3_errmsg(f->db));
    sqlite3_bind_int64(st, 1, sealno + 1);
    sqlite3_bind_int64(st, 2, (int64_t)s.last_seq);
    sqlite3_bind_blob(st, 3, s.head, 32, SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, s.prev_seal, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, (int64_t)s.wall_ns);
    sqlite3_bind_int64(st, 6, (int64_t)s.boot_ns);
    sqlite3_bind_int64(st, 7, (int64_t)s.epoch);
    sqlite3_bind_blob(st, 8, sig, 64, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : forge_fail(f, "seal insert: %s", sqlite3_errmsg(f->db));
}

/* Where the rewrite starts: the victim's first entry (its last for a
 * reorder). */
static int64_t forge_from(struct forge *f, const struct forge_opts *o)
{
    return forge_int(f,
                     o->what == FORGE_REORDER ? "SELECT max(seq) FROM ledger WHERE session = ?1"
                                              : "SELECT min(seq) FROM ledger WHERE session = ?1",
                     o->victim);
}

static int forge_steps(struct forge *f, const struct forge_opts *o, struct ng_fskey *k)
{
    struct ng_fskey_info ki;
    uint8_t head[32];
    uint64_t now = o->now_ns ? o->now_ns : ng_fskey_now_ns();

    if (ng_fskey_lock_current(k, now, NULL) < 0)
        return forge_fail(f, "cannot take the key (as root would)");
    ng_fskey_info(k, &ki);
    int r = forge_exec(f, "BEGIN IMMEDIATE", NULL);
    if (r == 0 && (f->from = forge_from(f, o)) < 1)
        r = forge_fail(f, "the victim has no ledger entry");
    if (r == 0)
        r = forge_load(f);
    if (r == 0)
        r = forge_change(f, o);
    if (r == 0 && !o->keep_times)
        forge_times(f, &ki, now);
    if (r == 0)
        r = forge_rewrite(f, head);
    if (r == 0) {
        sqlite3_stmt *st;
        r = sqlite3_prepare_v2(f->db, "DELETE FROM seals WHERE session = zeroblob(16) AND seq >= ?",
                               -1, &st, NULL) == SQLITE_OK
                ? 0
                : forge_fail(f, "seals: %s", sqlite3_errmsg(f->db));
        if (r == 0) {
            sqlite3_bind_int64(st, 1, f->from);
            (void)sqlite3_step(st);
            sqlite3_finalize(st);
        }
    }
    if (r == 0)
        r = forge_certs(f, k, &ki);
    if (r == 0)
        r = forge_seal(f, k, &ki, head, now);
    if (r == 0)
        r = forge_exec(f, "COMMIT", NULL);
    ng_fskey_unlock(k);
    return r;
}

/* The whole attack. 0, or -1 with err filled. */
__attribute__((unused)) static int forge_ledger(const struct forge_opts *o, char *err,
                                                size_t errlen)
{
    struct forge f = {.err = err, .errlen = errlen};
    struct ng_fskey *k = NULL;
    int r = -1;

    if (sqlite3_open(o->db, &f.db) != SQLITE_OK)
        forge_fail(&f, "cannot open %s", o->db);
    else if (ng_fskey_open(o->keys, &k, NULL) < 0)
        forge_fail(&f, "cannot open the key directory %s", o->keys);
    else
        r = forge_steps(&f, o, k);
    if (r < 0 && f.db)
        (void)sqlite3_exec(f.db, "ROLLBACK", NULL, NULL, NULL);
    ng_fskey_close(k);
    sqlite3_close(f.db);
    free(f.e);
    return r;
}

#endif
