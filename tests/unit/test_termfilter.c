/* Replay filter: what reaches the reviewer's terminal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "nsgate/termfilter.h"

/* Filter in one call and byte by byte (sequences split across calls); both
 * must give want. */
static void check_n(const char *in, size_t len, const char *want, size_t wlen)
{
    struct ng_termfilter f;
    uint8_t out[512];
    size_t o;

    ng_termfilter_init(&f);
    o = ng_termfilter_feed(&f, (const uint8_t *)in, len, out);
    assert_int_equal(o, wlen);
    assert_memory_equal(out, want, wlen);

    ng_termfilter_init(&f);
    o = 0;
    for (size_t i = 0; i < len; i++)
        o += ng_termfilter_feed(&f, (const uint8_t *)in + i, 1, out + o);
    assert_int_equal(o, wlen);
    assert_memory_equal(out, want, wlen);
}
#define check(in, want) check_n(in, sizeof(in) - 1, want, sizeof(want) - 1)

static void test_passes_drawing(void **state)
{
    check("plain text\r\n", "plain text\r\n");
    check("\x1b[1;31mred\x1b[0m \x1b[2J\x1b[H\x1b[?25l",
          "\x1b[1;31mred\x1b[0m \x1b[2J\x1b[H\x1b[?25l");
    check("\x1b(B\x1b"
          "7\x1b"
          "8\x1b=",
          "\x1b(B\x1b"
          "7\x1b"
          "8\x1b=");
    check("h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    check("\xc2\xa0nbsp", "\xc2\xa0nbsp");
    check("bad \xff\xfe utf8", "bad \xff\xfe utf8");
    check("\x1b[?1049h\x1b[38;5;208m", "\x1b[?1049h\x1b[38;5;208m");
    check("a\x1b[2\nB", "a\n\x1b[2B"); /* C0 inside a sequence is executed */
}

static void test_strips_strings(void **state)
{
    check("a\x1b]0;title\x07"
          "b",
          "ab");
    check("a\x1b]52;c;ZXZpbA==\x1b\\b", "ab"); /* clipboard write */
    check("a\x1bP$q\"p\x1b\\b", "ab");         /* DECRQSS */
    check("a\x1b_apc\x1b\\b\x1b^pm\x1b\\c\x1bXsos\x1b\\d", "abcd");
    check("a\x9d"
          "0;t\x9c"
          "b",
          "ab"); /* 8-bit OSC ... ST */
    check("a\xc2\x9d"
          "0;t\x07"
          "b",
          "ab");                                   /* UTF-8 encoded C1 */
    check("a\x1bPq#0;2;0;0;0#0~~@@\x1b\\b", "ab"); /* sixel */
    /* ESC inside a string ends it and starts a new sequence. */
    check("a\x1b]0;t\x1b[1mb", "a\x1b[1mb");
    /* BEL does not end a DCS. */
    check("a\x1bPx\x07y\x1b\\b", "ab");
}

static void test_strips_queries(void **state)
{
    check("a\x1b[c\x1b[0c\x1b[>c\x1b[=cb", "ab");    /* DA1, DA2, DA3 */
    check("a\x1b[6n\x1b[5n\x1b[?6nb", "ab");         /* DSR, CPR */
    check("a\x1b[18t\x1b[21t\x1b[8;50;100tb", "ab"); /* window reports and ops */
    check("a\x1b[?2026$p\x1b[4$pb", "ab");           /* DECRQM */
    check("a\x1b[>qb", "ab");                        /* XTVERSION */
    check("a\x1b[?ub\x1b[?4m", "ab");                /* kitty query, XTQMODKEYS */
    check("a\x1b[1;1;1;1;1;1*yb", "ab");             /* DECRQCRA */
    check("a\x1bZ\x9a"
          "b",
          "ab"); /* DECID */
    check("a\x05"
          "b",
          "ab"); /* ENQ */
    check("a\x9b"
          "6nb",
          "ab"); /* 8-bit CSI */
    check("a\xc2\x9b"
          "6nb",
          "ab");
    check("a\x1b[>4;1mb", "a\x1b[>4;1mb"); /* a setting, not a query */
}

static void test_overlong_and_cancel(void **state)
{
    char in[200], want[] = "ab";
    memset(in, '1', sizeof(in));
    memcpy(in, "a\x1b[", 3);
    in[sizeof(in) - 2] = 'm';
    in[sizeof(in) - 1] = 'b';
    check_n(in, sizeof(in), want, 2);
    check("a\x1b[12\x18"
          "b",
          "a\x18"
          "b");                             /* CAN cancels */
    check("a\x1b[12\x1b[1mb", "a\x1b[1mb"); /* ESC restarts */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_passes_drawing),
        cmocka_unit_test(test_strips_strings),
        cmocka_unit_test(test_strips_queries),
        cmocka_unit_test(test_overlong_and_cancel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
