/* Password-prompt detection of the recorder (recording.md "Input masking"):
 * the last output line, followed across chunks, against sudo's pattern. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <termios.h>

#include "nsgate/recorder.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_prompt_across_chunks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_lines_and_nul, setup, teardown),
        cmocka_unit_test(test_termios_rule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
