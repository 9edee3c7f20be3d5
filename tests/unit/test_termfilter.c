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
    check("a\x1b[>4;1mb", "ab"); /* XTMODKEYS: changes what keys send after the replay */
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

static void test_media_copy(void **state)
{
    /* MC: printer controller mode sends what follows to the printer (or
     * xterm's printerCommand) instead of the screen: hidden from the
     * reviewer. Every form is dropped, the text stays on screen. */
    check("a\x1b[5ihidden\x1b[4ib", "ahiddenb");
    check("a\x1b[ib\x1b[0ic\x1b[?5id\x1b[?4ie\x1b[?1i\x1b[?10i\x1b[?11i", "abcde");
    check("a\x9b"
          "5ib",
          "ab");
    check("a\xc2\x9b"
          "5ib",
          "ab");
}

static void test_conformance_and_resets(void **state)
{
    /* DECSCL (conformance level, 7/8-bit answers), DECSR (secure reset,
     * answered), S7C1T/S8C1T and ANSI levels (ESC SP F..N): dropped. */
    check("a\x1b[61\"pb\x1b[62;1\"pc\x1b[65;0\"pd", "abcd");
    check("a\x1b[1+pb", "ab");
    check("a\x1b Fb\x1b Gc\x1b Ld\x1b Me\x1b Nf", "abcdef");
    check("a\x1b G\x1b G", "a"); /* split or not */
    /* what draws stays: soft reset, character sets, DECALN, cursor style */
    check("a\x1b[!pb\x1b(0c\x1b)Bd\x1b#8e\x1b%Gf\x1b[2 q",
          "a\x1b[!pb\x1b(0c\x1b)Bd\x1b#8e\x1b%Gf\x1b[2 q");
    /* C0 inside is executed; CAN cancels; ESC restarts */
    check("a\x1b \nGb", "a\nb");
    check("a\x1b \x18"
          "b",
          "a\x18"
          "b");
    check("a\x1b \x1b[1mb", "a\x1b[1mb");
}

static void test_reporting_modes(void **state)
{
    /* Mouse, focus, bracketed paste, colour-scheme and resize reports would
     * type into the reviewer's shell after the replay; KAM locks the
     * keyboard, SRM echoes what the reviewer types. Dropped one by one, the
     * rest of the sequence kept. */
    check("a\x1b[?1000hb\x1b[?1006;1003hc\x1b[?1004ld\x1b[?2004he", "abcde");
    check("a\x1b[?9h\x1b[?1001h\x1b[?1005h\x1b[?1015h\x1b[?1016h\x1b[?2031h\x1b[?2048hb", "ab");
    check("a\x1b[?1049;1000hb", "a\x1b[?1049hb");
    check("a\x1b[?1000;25;2004lb", "a\x1b[?25lb");
    check("a\x1b[2hb\x1b[12lc\x1b[4;12hd", "abc\x1b[4hd");
    check("a\x1b[?1049h\x1b[4l\x1b[20h", "a\x1b[?1049h\x1b[4l\x1b[20h");
    check("a\x1b[?hb\x1b[hc", "a\x1b[?hb\x1b[hc");
    /* odd forms are dropped whole */
    check("a\x1b[>1hb\x1b[?1:2hc\x1b[1$hd", "abcd");
}

static void test_more_reports(void **state)
{
    check("a\x1b[1$wb\x1b[1$uc\x1b[&ud\x1b[\"ve\x1b[1,wf", "abcdef"); /* DECRQPSR ... */
    check("a\x1b[#|b\x1b[#Rc", "abc");               /* XTREPORTSGR, XTREPORTCOLORS */
    check("a\x1b[1;1'zb\x1b[1'{c\x1b[1'wd", "abcd"); /* locator reports */
    check("a\x1b[1*zb", "ab");                       /* DECINVM */
    check("a\x1b[1$}b\x1b[2$~c", "abc");             /* status line */
    check("a\x1b[>1ub\x1b[<uc\x1b[=1;1ud", "abcd");  /* kitty keyboard */
    check("a\x1b[9;0]b", "ab");                      /* Linux console blanking */
    check("a\x1b[1,qb", "ab");                       /* DECTID */
    check("a\x1b[ub\x1b[sc", "a\x1b[ub\x1b[sc");     /* SCORC, SCOSC draw */
    /* strings of every kind: clipboard, tmux passthrough, termcap query */
    check("a\x1b]52;c;cm0gLXJmIH4=\x07"
          "b\x1b]52;p;?\x1b\\c",
          "abc");
    check("a\x1bPtmux;\x1b\x1b]52;c;eA==\x07\x1b\\b", "ab");
    check("a\x1bP+q544e\x1b\\b\x90$q m\x9c"
          "c",
          "abc");
    check("a\x1b]4;1;?\x07"
          "b\x1b]10;?\x1b\\c",
          "abc"); /* colour queries */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_passes_drawing),  cmocka_unit_test(test_strips_strings),
        cmocka_unit_test(test_strips_queries),  cmocka_unit_test(test_overlong_and_cancel),
        cmocka_unit_test(test_media_copy),      cmocka_unit_test(test_conformance_and_resets),
        cmocka_unit_test(test_reporting_modes), cmocka_unit_test(test_more_reports),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
