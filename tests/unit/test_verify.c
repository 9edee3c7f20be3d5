/* verify.h against real stores made by the mini recorder (recorder.h) with a
 * real key directory: OK, INCOMPLETE (recorder killed), tampering, forward
 * security (a later key cannot re-seal older data), the audit-log anchor. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <sqlite3.h>
#include <time.h>

#include "nsgate/auditlog.h"
#include "nsgate/seal.h"
#include "minirec.h"
#include "tmpdir.h"

#define INTERVAL_NS (500 * 1000000ULL) /* what verify assumes in these tests */

static char db[160];

static void open_rec(struct fx *x, uint64_t back, struct ng_store **s, struct ng_sealer **sl)
{
    snprintf(db, sizeof(db), "%s/db/sessions.db", x->tmp);
    assert_int_equal(rec_keys(x->dir, back), 0);
    assert_int_equal(ng_store_open(db, s), 0);
    assert_int_equal(ng_sealer_open(*s, x->dir, sl), 0);
}

static void root_of(struct fx *x, uint8_t root[32])
{
    struct ng_fskey_cert *c;
    uint64_t len;
    size_t n;
    assert_int_equal(ng_fskey_read_public(x->dir, root, &len, &c, &n), 0);
    free(c);
}

static void sql(const char *path, const char *q)
{
    sqlite3 *d;
    char *err = NULL;
    assert_int_equal(sqlite3_open(path, &d), SQLITE_OK);
    int rc = sqlite3_exec(d, q, NULL, NULL, &err);
    if (rc != SQLITE_OK)
        fail_msg("%s: %s", q, err);
    sqlite3_close(d);
}

static void expect_line(const struct rec_out *o, const char *prefix)
{
    if (!strstr(o->buf, prefix))
        fail_msg("expected '%s' in:\n%s", prefix, o->buf);
}

static void test_ok_and_incomplete(void **state)
{
    struct fx *x = *state;
    struct ng_store *s;
    struct ng_sealer *sl;
    struct ng_session *k;
    struct rec_out o;
    uint8_t root[32];

    open_rec(x, 25 * NG_FSKEY_SEC_NS, &s, &sl);
    assert_int_equal(rec_session(s, sl, "alice", 10), 0);
    assert_int_equal(rec_session(s, sl, "bob", 3), 0);
    /* killed: two events sealed by a tick, two more written, no end */
    assert_int_equal(rec_begin(s, sl, "carol", &k), 0);
    assert_int_equal(rec_events(sl, k, 2, 2), 0);
    assert_int_equal(rec_events(sl, k, 2, 0), 0);
    assert_int_equal(ng_store_flush(k), 0);
    ng_store_session_free(k);
    ng_sealer_close(sl);
    ng_store_close(s);
    root_of(x, root);
    assert_int_equal(rec_verify(db, root, INTERVAL_NS, &o), 0);
    assert_false(o.tampered);
    assert_true(o.incomplete);
    expect_line(&o, " events=11\n");
    expect_line(&o, " events=4\n");
    expect_line(&o, " events=4 sealed=2\n");
    expect_line(&o, "OK " REC_LEDGER " events=5\n"); /* 3 starts, 2 ends */
    free(o.buf);

    /* a wrong root key: nothing verifies */
    root[0] ^= 1;
    assert_int_equal(rec_verify(db, root, INTERVAL_NS, &o), 0);
    assert_true(o.tampered);
    assert_null(strstr(o.buf, "OK "));
    free(o.buf);
}

/* The attacker's first step on a schema 5 store: every event's data back
 * into its row and the compressed blocks gone (verify must then judge the
 * rows alone). */
static void inline_all(const char *path)
{
    struct ng_store *r;
    struct ng_event_iter *it;
    struct ng_event ev;
    sqlite3 *d;
    sqlite3_stmt *ids, *u;

    assert_int_equal(sqlite3_open(path, &d), SQLITE_OK);
    assert_int_equal(ng_store_open_readonly(path, &r), 0);
    assert_int_equal(sqlite3_prepare_v2(d, "SELECT id FROM sessions", -1, &ids, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(d,
                                        "UPDATE events SET data = ?, block_len = NULL WHERE "
                                        "session = ? AND seq = ?",
                                        -1, &u, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_exec(d, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    while (sqlite3_step(ids) == SQLITE_ROW) {
        const void *id = sqlite3_column_blob(ids, 0);
        assert_int_equal(ng_store_events_begin(r, id, &it), 0);
        while (ng_store_events_next(it, &ev) == 1) {
            sqlite3_reset(u);
            sqlite3_bind_blob(u, 1, ev.len ? (const void *)ev.data : "", (int)ev.len,
                              SQLITE_TRANSIENT);
            sqlite3_bind_blob(u, 2, id, 16, SQLITE_TRANSIENT);
            sqlite3_bind_int64(u, 3, ev.seq);
            assert_int_equal(sqlite3_step(u), SQLITE_DONE);
        }
        ng_store_events_end(it);
    }
    assert_int_equal(sqlite3_exec(d, "DELETE FROM event_blocks; COMMIT", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_finalize(ids);
    sqlite3_finalize(u);
    ng_store_close(r);
    sqlite3_close(d);
}

static void test_tamper_event(void **state)
{
    struct fx *x = *state;
    struct ng_store *s;
    struct ng_sealer *sl;
    struct rec_out o;
    uint8_t root[32];

    open_rec(x, 25 * NG_FSKEY_SEC_NS, &s, &sl);
    assert_int_equal(rec_session(s, sl, "alice", 10), 0);
    ng_sealer_close(sl);
    ng_store_close(s);
    root_of(x, root);
    inline_all(db);
    assert_int_equal(rec_verify(db, root, INTERVAL_NS, &o), 0); /* the same bytes: still OK */
    expect_line(&o, "OK ");
    free(o.buf);
    sql(db, "UPDATE events SET data = x'41' WHERE seq = 5");
    assert_int_equal(rec_verify(db, root, INTERVAL_NS, &o), 0);
    expect_line(&o, "seq=5: event hash");
    free(o.buf);
    /* a late tail: events appended after the end, re-chained, re-sealed
     * by nobody: the exit event is no longer last */
    sql(db, "INSERT INTO events (session, seq, t_ns, kind, data, hash, block_len) SELECT session, "
            "12, t_ns, 'o', data, hash, block_len FROM events "
            "WHERE seq = 11");
    assert_int_equal(rec_verify(db, root, INTERVAL_NS, &o), 0);
    expect_line(&o, "seq=5: ");
    free(o.buf);
}

/* The attacker's tool: recompute a session's event hashes after a change. */
static void rechain(const char *path, const uint8_t id[16])
{
    sqlite3 *d;
    sqlite3_stmt *q, *u;
    uint8_t head[32];
    assert_int_equal(sqlite3_open(path, &d), SQLITE_OK);
    assert_int_equal(
        sqlite3_prepare_v2(d, "SELECT header_hash FROM sessions WHERE id = ?", -1, &q, NULL),
        SQLITE_OK);
    sqlite3_bind_blob(q, 1, id, 16, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    memcpy(head, sqlite3_column_blob(q, 0), 32);
    sqlite3_finalize(q);
    assert_int_equal(sqlite3_prepare_v2(
                         d,
                         "SELECT seq, t_ns, kind, data FROM events WHERE session = ? ORDER BY seq",
                         -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(d,
                                        "UPDATE events SET hash = ? WHERE session = ? AND seq = ?",
                                        -1, &u, NULL),
                     SQLITE_OK);
    sqlite3_bind_blob(q, 1, id, 16, SQLITE_STATIC);
    while (sqlite3_step(q) == SQLITE_ROW) {
        ng_chain_event_hash(id, sqlite3_column_int64(q, 0), sqlite3_column_int64(q, 1),
                            ((const char *)sqlite3_column_text(q, 2))[0], sqlite3_column_blob(q, 3),
                            (size_t)sqlite3_column_bytes(q, 3), head, head);
        sqlite3_reset(u);
        sqlite3_bind_blob(u, 1, head, 32, SQLITE_TRANSIENT);
        sqlite3_bind_blob(u, 2, id, 16, SQLITE_STATIC);
        sqlite3_bind_int64(u, 3, sqlite3_column_int64(q, 0));
        assert_int_equal(sqlite3_step(u), SQLITE_DONE);
    }
    sqlite3_finalize(q);
    sqlite3_finalize(u);
    sqlite3_close(d);
}

static void first_id(const char *path, uint8_t id[16])
{
    sqlite3 *d;
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_open(path, &d), SQLITE_OK);
    assert_int_equal(
        sqlite3_prepare_v2(d, "SELECT id FROM sessions ORDER BY start_ns LIMIT 1", -1, &q, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    memcpy(id, sqlite3_column_blob(q, 0), 16);
    sqlite3_finalize(q);
    sqlite3_close(d);
}

/* Key state copied at epoch 1 (the epoch-0 secret already wiped): changing
 * an event sealed in epoch 0 and re-sealing with the epoch-1 key is a late
 * seal; an epoch-0 seal cannot be made at all. */
static void test_forward_security(void **state)
{
    struct fx *x = *state;
    struct ng_store *s;
    struct ng_sealer *sl;
    struct ng_fskey *k;
    struct rec_out o;
    uint8_t root[32], id[16], sig[64], psig[64];
    struct ng_seal_fields f, prev;
    char cmd[512], copy[160];
    uint64_t t0 = ng_fskey_now_ns() - (REC_EPOCH_NS - 4 * NG_FSKEY_SEC_NS);

    snprintf(db, sizeof(db), "%s/db/sessions.db", x->tmp);
    struct ng_fskey_created c;
    assert_int_equal(ng_fskey_create(x->dir, REC_EPOCH_NS, 0, t0, &c), 0);
    assert_int_equal(ng_store_open(db, &s), 0);
    assert_int_equal(ng_sealer_open(s, x->dir, &sl), 0);
    assert_int_equal(rec_session(s, sl, "alice", 10), 0); /* sealed in epoch 0 */
    while (ng_fskey_now_ns() < t0 + REC_EPOCH_NS + 100000000ULL) {
        struct timespec ts = {0, 100000000};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(ng_fskey_open(x->dir, &k, NULL), 0);
    assert_int_equal(ng_fskey_advance(k, ng_fskey_now_ns(), NULL), 0); /* the timer */
    ng_fskey_close(k);
    snprintf(copy, sizeof(copy), "%s/stolen", x->tmp);
    snprintf(cmd, sizeof(cmd), "cp -a '%s' '%s'", x->dir, copy);
    assert_int_equal(system(cmd), 0);

    /* the attacker */
    first_id(db, id);
    inline_all(db);
    sql(db, "UPDATE events SET data = x'6e6f7468696e6720746f20736565' WHERE seq = 5");
    rechain(db, id);
    assert_int_equal(ng_fskey_open(copy, &k, NULL), 0);
    assert_int_equal(ng_fskey_lock_current(k, ng_fskey_now_ns(), NULL), 0);
    memset(&f, 0, sizeof(f));
    memcpy(f.chain_id, id, 16);
    f.epoch = 0; /* an epoch-0 seal: its secret is gone */
    f.wall_ns = t0 + 1;
    assert_true(ng_seal_sign(k, &f, sig) < 0);
    assert_int_equal(ng_store_last_seal(s, id, &prev, psig), 0);
    sql(db, "DELETE FROM seals WHERE sealno > 1 AND session <> zeroblob(16)");
    /* chain onto seal 1 (epoch 0, covers the header) with the epoch-1 key */
    struct ng_store *rw;
    assert_int_equal(ng_store_open(db, &rw), 0);
    {
        struct ng_seal_fields s1;
        uint8_t s1sig[64];
        sqlite3 *d;
        sqlite3_stmt *q;
        assert_int_equal(sqlite3_open(db, &d), SQLITE_OK);
        assert_int_equal(
            sqlite3_prepare_v2(
                d, "SELECT seq, hash FROM events WHERE session = ? ORDER BY seq DESC LIMIT 1", -1,
                &q, NULL),
            SQLITE_OK);
        sqlite3_bind_blob(q, 1, id, 16, SQLITE_STATIC);
        assert_int_equal(sqlite3_step(q), SQLITE_ROW);
        f.last_seq = (uint64_t)sqlite3_column_int64(q, 0);
        memcpy(f.head, sqlite3_column_blob(q, 1), 32);
        sqlite3_finalize(q);
        sqlite3_close(d);
        assert_int_equal(ng_store_last_seal(rw, id, &s1, s1sig), 0);
        struct ng_fskey_cert c1; /* certificates are public: copied in */
        assert_int_equal(ng_fskey_read_cert(k, 1, &c1), 0);
        assert_int_equal(ng_store_add_cert(rw, c.root_pk, REC_EPOCH_NS, &c1), 0);
        ng_seal_hash(&s1, s1sig, f.prev_seal);
        f.epoch = 1;
        f.wall_ns = ng_fskey_now_ns();
        f.boot_ns = s1.boot_ns + (f.wall_ns - s1.wall_ns); /* a consistent boot clock */
        assert_int_equal(ng_seal_sign(k, &f, sig), 0);
        assert_int_equal(ng_store_add_seal(rw, &f, sig), 0);
    }
    ng_fskey_unlock(k);
    ng_fskey_close(k);
    ng_store_close(rw);
    ng_sealer_close(sl);
    ng_store_close(s);
    root_of(x, root);
    assert_int_equal(rec_verify(db, root, INTERVAL_NS, &o), 0);
    expect_line(&o, "seq=1: seal 2: late seal");
    assert_null(strstr(o.buf, "\nOK "));
    assert_int_equal(strncmp(o.buf, "OK ", 3) == 0, 0);
    free(o.buf);
}

static int count_missing(void *arg, const struct ng_verify_result *res)
{
    (*(int *)arg)++;
    assert_int_equal(res->word, NG_VERIFY_MISSING);
    return 0;
}

static void audit_start(FILE *f, const uint8_t id[16], const uint8_t hdr[32], int serial)
{
    char u[NG_UUID_STR], h[65];
    ng_uuid_format(id, u);
    sodium_bin2hex(h, sizeof(h), hdr, 32);
    fprintf(f,
            "type=USER_START msg=audit(%lld.000:%d): pid=1 uid=0 auid=1000 ses=3 "
            "msg='op=nsgate-session-open acct=\"alice\" opid=4242 container=\"x\" cmd=2F "
            "reason=41 uuid=%s hdr=%s exe=\"/x\" hostname=vm addr=? terminal=? res=success'\n",
            (long long)time(NULL), serial, u, h);
}

/* Deleting the newest session (a rollback of the file) leaves a valid
 * prefix; the audit log's USER_START catches it. */
static void test_rollback_and_audit_log(void **state)
{
    struct fx *x = *state;
    struct ng_store *s, *r;
    struct ng_sealer *sl;
    struct ng_session *b;
    struct ng_verifier *v;
    struct ng_auditlog *log;
    struct rec_out o;
    uint8_t root[32], ida[16], hdra[32], idb[16], hdrb[32];
    char cmd[512], snap[160], logp[160];
    int n = 0;

    open_rec(x, 25 * NG_FSKEY_SEC_NS, &s, &sl);
    assert_int_equal(rec_session(s, sl, "alice", 3), 0);
    ng_sealer_close(sl);
    ng_store_close(s);
    snprintf(snap, sizeof(snap), "%s/snap", x->tmp);
    snprintf(cmd, sizeof(cmd), "cp -a '%s/db' '%s'", x->tmp, snap);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(ng_store_open(db, &s), 0);
    assert_int_equal(ng_sealer_open(s, x->dir, &sl), 0);
    assert_int_equal(rec_begin(s, sl, "bob", &b), 0);
    memcpy(idb, ng_store_session_id(b), 16);
    memcpy(hdrb, ng_store_session_header_hash(b), 32);
    assert_int_equal(ng_sealer_session_end(sl, b, 0, "exit"), 0);
    ng_store_session_free(b);
    ng_sealer_close(sl);
    ng_store_close(s);
    first_id(db, ida);

    /* the rolled-back file verifies: only an anchor can tell */
    snprintf(cmd, sizeof(cmd), "rm -rf '%s/db' && mv '%s' '%s/db'", x->tmp, snap, x->tmp);
    assert_int_equal(system(cmd), 0);
    root_of(x, root);
    assert_int_equal(rec_verify(db, root, INTERVAL_NS, &o), 0);
    assert_false(o.tampered);
    assert_false(o.incomplete);
    free(o.buf);

    assert_int_equal(ng_store_open_readonly(db, &r), 0);
    assert_int_equal(ng_verify_new(r, root, NULL, &v), 0);
    struct ng_verify_result res;
    assert_int_equal(ng_verify_session(v, ida, NULL, 0, &res), 0);
    memcpy(hdra, res.header_hash, 32);
    snprintf(logp, sizeof(logp), "%s/audit.log", x->tmp);
    FILE *f = fopen(logp, "w");
    assert_non_null(f);
    audit_start(f, ida, hdra, 1);
    audit_start(f, idb, hdrb, 2);
    fclose(f);
    assert_int_equal(ng_auditlog_new(&log), 0);
    assert_int_equal(ng_auditlog_add_file(log, logp), 0);
    assert_int_equal(ng_auditlog_finish(log), 0);
    assert_int_equal(ng_verify_audit_missing(v, log, count_missing, &n), 0);
    assert_int_equal(n, 1);
    /* A's header matches the log; a changed one would not */
    ng_verify_audit_session(log, NULL, 0, &res);
    assert_int_equal(res.word, NG_VERIFY_OK);
    res.header_hash[0] ^= 1;
    ng_verify_audit_session(log, NULL, 0, &res);
    assert_int_equal(res.word, NG_VERIFY_TAMPERED);
    ng_auditlog_free(log);
    ng_verify_free(v);
    ng_store_close(r);
}

/* Keys of the previous release: certificate 0 of the old form (no epoch
 * length) in a version-1 certs file, sessions recorded with them: the store
 * verifies, and the chain says the length is unsigned (verify warns). */
static void test_previous_release_keys(void **state)
{
    struct fx *x = *state;
    struct ng_fskey_created c;
    struct ng_fskey_cert c0;
    struct ng_store *s, *r;
    struct ng_sealer *sl;
    struct ng_verifier *v;
    const struct ng_seal_epoch *ep;
    struct rec_out o;
    uint8_t root[32], msg[NG_FSKEY_CERT_MSG_BYTES], raw[NG_FSKEY_CERT_BYTES], v1[4] = {0, 0, 0, 1};
    size_t len;
    char path[256];

    snprintf(db, sizeof(db), "%s/db/sessions.db", x->tmp);
    assert_int_equal(ng_fskey_create(x->dir, 3600 * NG_FSKEY_SEC_NS, 0, ng_fskey_now_ns(), &c), 0);
    uint8_t *st = fx_slurp(x->dir, "state", &len), *cf = fx_slurp(x->dir, "certs", &len);
    ng_fskey_cert_decode(cf + NG_FSKEY_CERTS_HEADER_BYTES, &c0);
    size_t n = ng_fskey_cert_message(c.root_pk, &c0, 0, msg);
    assert_int_equal(crypto_sign_detached(c0.sig, NULL, msg, n, st + 104), 0); /* the root secret */
    ng_fskey_cert_encode(&c0, raw);
    memcpy(cf + NG_FSKEY_CERTS_HEADER_BYTES, raw, sizeof(raw));
    memcpy(cf + 8, v1, 4);
    snprintf(path, sizeof(path), "%s/certs", x->dir);
    FILE *f = fopen(path, "r+");
    assert_non_null(f);
    assert_int_equal(fwrite(cf, 1, len, f), len);
    fclose(f);
    free(st);
    free(cf);

    assert_int_equal(ng_store_open(db, &s), 0);
    assert_int_equal(ng_sealer_open(s, x->dir, &sl), 0);
    assert_int_equal(rec_session(s, sl, "alice", 6), 0);
    ng_sealer_close(sl);
    ng_store_close(s);
    root_of(x, root);
    assert_int_equal(rec_verify(db, root, INTERVAL_NS, &o), 0);
    assert_false(o.tampered);
    expect_line(&o, "OK " REC_LEDGER " events=2\n");
    free(o.buf);
    assert_int_equal(ng_store_open_readonly(db, &r), 0);
    assert_int_equal(ng_verify_new(r, root, NULL, &v), 0);
    assert_int_equal(ng_verify_epochs(v, &ep), 1);
    assert_false(ep[0].len_signed);
    ng_verify_free(v);
    ng_store_close(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ok_and_incomplete, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_tamper_event, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_forward_security, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_rollback_and_audit_log, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_previous_release_keys, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
