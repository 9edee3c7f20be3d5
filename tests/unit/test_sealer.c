/* sealer.h: no keys is -ENOENT; heartbeat seals while idle; an epoch change
 * seen by a tick gives a ledger checkpoint and the caller's audit data; the
 * result verifies OK. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <sodium.h>
#include <sqlite3.h>
#include <time.h>

#include "minirec.h"
#include "tmpdir.h"

static void test_no_keys(void **state)
{
    struct fx *x = *state;
    struct ng_store *s;
    struct ng_sealer *sl;
    char db[160];

    snprintf(db, sizeof(db), "%s/db/sessions.db", x->tmp);
    assert_int_equal(ng_store_open(db, &s), 0);
    assert_int_equal(ng_sealer_open(s, x->dir, &sl), -ENOENT);
    ng_store_close(s);
}

static int64_t count(const char *db, const char *q)
{
    sqlite3 *d;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(db, &d), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(d, q, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(d);
    return n;
}

static void test_heartbeat_and_epoch_change(void **state)
{
    struct fx *x = *state;
    struct ng_store *s;
    struct ng_sealer *sl;
    struct ng_session *sess;
    struct ng_sealer_epoch_change chg;
    struct ng_fskey_created c;
    struct ng_fskey_cert cert;
    struct rec_out o;
    char db[160];
    uint64_t t0 = ng_fskey_now_ns() - (REC_EPOCH_NS - 2 * NG_FSKEY_SEC_NS);

    snprintf(db, sizeof(db), "%s/db/sessions.db", x->tmp);
    assert_int_equal(ng_fskey_create(x->dir, REC_EPOCH_NS, 0, t0, &c), 0);
    assert_int_equal(ng_store_open(db, &s), 0);
    assert_int_equal(ng_sealer_open(s, x->dir, &sl), 0);
    assert_int_equal(rec_begin(s, sl, "alice", &sess), 0);
    assert_int_equal(rec_events(sl, sess, 3, 0), 0);
    assert_int_equal(ng_sealer_tick(sl, sess, 1000, &chg), 0);
    assert_int_equal(ng_sealer_tick(sl, sess, 1000, &chg), 0); /* idle: a heartbeat */
    assert_int_equal(count(db, "SELECT count(*) FROM seals WHERE seq = 3"), 2);
    while (ng_fskey_now_ns() < t0 + REC_EPOCH_NS + 50000000ULL) {
        struct timespec ts = {0, 50000000};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(rec_events(sl, sess, 2, 0), 0);
    assert_int_equal(ng_sealer_tick(sl, sess, 1000, &chg), 1);
    assert_int_equal(chg.old_epoch, 0);
    assert_int_equal(chg.new_epoch, 1);
    assert_int_equal(chg.seq, 5);
    assert_int_equal(chg.created_from, 0);
    assert_int_equal(chg.created_to, 1);
    assert_int_equal(ng_sealer_read_cert(sl, 1, &cert), 0);
    assert_memory_equal(cert.pk, chg.cert_fp, 32);
    assert_int_equal(count(db, "SELECT count(*) FROM ledger WHERE kind = 'checkpoint' AND "
                               "event_seq = 5"),
                     1);
    assert_int_equal(count(db, "SELECT count(*) FROM certs"), 2);
    assert_int_equal(ng_sealer_tick(sl, sess, 1000, &chg), 0);
    assert_int_equal(ng_sealer_session_end(sl, sess, 3, "exit"), 0);
    ng_store_session_free(sess);
    ng_sealer_close(sl);
    ng_store_close(s);
    assert_int_equal(rec_verify(db, c.root_pk, 500000000ULL, &o), 0);
    if (o.tampered || o.incomplete)
        fail_msg("%s", o.buf);
    assert_non_null(strstr(o.buf, " events=6\n"));
    assert_non_null(strstr(o.buf, "OK " REC_LEDGER " events=3\n"));
    free(o.buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_no_keys, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_heartbeat_and_epoch_change, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
