/* Password-prompt detection of the recorder (recording.md "Input masking"):
 * the last output line, followed across chunks, against sudo's pattern. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>

#include "nsgate/recorder.h"
#include "nsgate/store.h"

static struct ng_recorder r;

static int setup(void **state)
{
    return ng_recorder_init(&r, NULL, 1, 0);
}

static int teardown(void **state)
{
    ng_recorder_free(&r);
    return 0;
}

static void out(const char *s)
{
    ng_recorder_track_output(&r, s, strlen(s));
}

static void test_prompt_across_chunks(void **state)
{
    out("Welcome\r\n[sudo] pass");
    assert_false(ng_recorder_is_prompt(&r));
    out("word for alice: ");
    assert_true(ng_recorder_is_prompt(&r));
    out("\r\n");
    assert_false(ng_recorder_is_prompt(&r));
    out("Enter PIN:");
    assert_true(ng_recorder_is_prompt(&r));
    out(" (typed nothing) ok");
    assert_false(ng_recorder_is_prompt(&r)); /* more output on the line: no prompt at its end */
    out("\nEnter passphrase for key '/root/.ssh/id': ");
    assert_true(ng_recorder_is_prompt(&r));
    out("\n$ echo password: x");
    assert_false(ng_recorder_is_prompt(&r));
}

static void test_long_lines_and_nul(void **state)
{
    char big[1000];
    memset(big, 'x', sizeof(big));
    memcpy(big + sizeof(big) - 10, "Password: ", 10);
    out("\n");
    ng_recorder_track_output(&r, big, sizeof(big)); /* one chunk past the bound */
    assert_true(ng_recorder_is_prompt(&r));
    out("\n");
    for (int i = 0; i < 300; i++)
        out("y"); /* many small chunks past the bound */
    out("password:");
    assert_true(ng_recorder_is_prompt(&r));
    assert_int_equal(strlen(r.lastline), NG_LASTLINE_MAX);
    ng_recorder_track_output(&r, "\nPass\0word:", 11); /* a NUL cannot cut the line */
    assert_false(ng_recorder_is_prompt(&r));
}

static void test_termios_rule(void **state)
{
    assert_true(ng_recorder_termios_masks(ICANON));         /* echo off, canonical */
    assert_false(ng_recorder_termios_masks(ICANON | ECHO)); /* echo on */
    assert_false(ng_recorder_termios_masks(0));             /* raw, echo off: readline */
}

static unsigned long refused_now;

static unsigned long fake_refused(char *name, size_t size)
{
    snprintf(name, size, "openat");
    return refused_now;
}

static int count_notes(struct ng_store *st, const uint8_t *id)
{
    struct ng_event_iter *it;
    struct ng_event ev;
    int n = 0, more;

    assert_int_equal(ng_store_events_begin(st, id, &it), 0);
    while ((more = ng_store_events_next(it, &ev)) == 1)
        n += ev.kind == 'm' && ev.len > 9 && memcmp(ev.data, "recorder:", 9) == 0;
    ng_store_events_end(it);
    assert_int_equal(more, 0);
    return n;
}

/* The recorder's own refused system calls are noted once per change, at a
 * tick (before the seal that covers the note) and at the end. */
static void test_refusals_noted(void **state)
{
    char dir[] = "/tmp/ng-rec-XXXXXX", db[64], cmd[64];
    static char a0[] = "/bin/true";
    static char *const argv[] = {a0, NULL};
    struct ng_session_header h = {.host = "h",
                                  .user_name = "u",
                                  .program = a0,
                                  .argv = argv,
                                  .login_uid = -1,
                                  .audit_session = -1};
    struct ng_store *st;
    struct ng_session *sess;
    struct ng_recorder rec;
    enum ng_end_reason why;
    uint8_t id[16] = {1, 2, 3};

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(db, sizeof(db), "%s/s.db", dir);
    h.id = id;
    assert_int_equal(ng_store_open(db, &st), 0);
    assert_int_equal(ng_store_session_begin(st, &h, &sess), 0);
    assert_int_equal(ng_recorder_init(&rec, sess, 1, -1), 0);
    rec.sealing.refused = fake_refused;
    refused_now = 0;
    assert_int_equal(ng_recorder_tick(&rec, &why), 0);
    assert_int_equal(count_notes(st, id), 0);
    refused_now = 3;
    assert_int_equal(ng_recorder_tick(&rec, &why), 0);
    assert_int_equal(ng_store_flush(sess), 0); /* the sealer's flush, without one */
    assert_int_equal(count_notes(st, id), 1);
    assert_int_equal(rec.refused_seen, 3);
    assert_int_equal(ng_recorder_tick(&rec, &why), 0); /* no change: no new note */
    assert_int_equal(ng_store_flush(sess), 0);
    assert_int_equal(count_notes(st, id), 1);
    refused_now = 4;
    assert_int_equal(ng_recorder_end(&rec, 0, "exit"), 0);
    assert_int_equal(ng_store_flush(sess), 0);
    assert_int_equal(count_notes(st, id), 2);
    ng_recorder_free(&rec);
    ng_store_session_free(sess);
    ng_store_close(st);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_prompt_across_chunks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_lines_and_nul, setup, teardown),
        cmocka_unit_test(test_termios_rule),
        cmocka_unit_test(test_refusals_noted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
