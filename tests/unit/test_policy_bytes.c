/* The characters a policy may hold (policy.md "Characters"): each class of
 * byte or character that a reader would not see, or would take for ASCII,
 * is refused with its line and column, so a deny rule can never stop
 * matching on something invisible. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nsgate/policy.h"
#include "nsgate/text.h"

/* The deny rule of the finding, then an allow rule that would decide when
 * the deny rule stops matching. X is put right after "secretd". */
#define DENY_HEAD  "[deny secret]\nusers = *\ntargets = comm:secretd"
#define ALLOW_TAIL "\n\n[allow all]\nusers = *\ntargets = *\nnamespaces = all\n"
#define COL_X      "t.ini:3:23: " /* "targets = comm:secretd" is 22 bytes */

static void refused(const char *text, size_t len, const char *want)
{
    struct ng_policy *p = NULL;
    struct ng_policy_msgs e = {0};
    int found = 0;

    assert_int_equal(ng_policy_parse(text, len, "t.ini", &p, &e), -EINVAL);
    assert_null(p);
    for (size_t i = 0; i < e.n; i++)
        found |= strcmp(e.v[i], want) == 0;
    if (!found)
        for (size_t i = 0; i < e.n; i++)
            fprintf(stderr, "got: %s\nwant: %s\n", e.v[i], want);
    assert_true(found);
    ng_policy_msgs_free(&e);
}

/* The deny rule with x after its glob: refused with this message at 3:23. */
static void deny_with(const char *x, size_t xlen, const char *why)
{
    char text[512], want[512];
    size_t n = 0;

    memcpy(text, DENY_HEAD, sizeof(DENY_HEAD) - 1);
    n += sizeof(DENY_HEAD) - 1;
    memcpy(text + n, x, xlen);
    n += xlen;
    memcpy(text + n, ALLOW_TAIL, sizeof(ALLOW_TAIL) - 1);
    n += sizeof(ALLOW_TAIL) - 1;
    snprintf(want, sizeof(want), COL_X "%s", why);
    refused(text, n, want);
}

#define DENY_WITH(x, why) deny_with(x, sizeof(x) - 1, why)
#define REFUSED(lit, why) refused(lit, sizeof(lit) - 1, why)

static size_t nerrs(const char *text, size_t len)
{
    struct ng_policy *p = NULL;
    struct ng_policy_msgs e = {0};

    assert_int_equal(ng_policy_parse(text, len, "t.ini", &p, &e), -EINVAL);
    size_t n = e.n;
    ng_policy_msgs_free(&e);
    return n;
}

static void parses(const char *text)
{
    struct ng_policy *p = NULL;
    struct ng_policy_msgs e = {0};
    int r = ng_policy_parse(text, strlen(text), "t.ini", &p, &e);

    for (size_t i = 0; i < e.n; i++)
        fprintf(stderr, "unexpected: %s\n", e.v[i]);
    assert_int_equal(r, 0);
    ng_policy_free(p);
    ng_policy_msgs_free(&e);
}

static void test_plain_ascii_parses(void **state)
{
    parses(DENY_HEAD ALLOW_TAIL);
    /* blanks, tabs included, around keys, values and list items */
    parses("[deny secret]\n\tusers\t=\t*\t\ntargets = comm:secretd ,\tcomm:other\t\n" ALLOW_TAIL);
}

static void test_crlf(void **state)
{
    static const char crlf[] = "[deny secret]\r\nusers = *\r\ntargets = comm:secretd\r\n";
    refused(crlf, sizeof(crlf) - 1,
            "t.ini:1:14: carriage return (CR) at the end of the line: the file has Windows "
            "(CRLF) line endings; convert it to Unix (LF) line endings, e.g. with dos2unix");
    /* said once for the file, not once per line */
    assert_int_equal(nerrs(crlf, sizeof(crlf) - 1), 1);
    /* the rest of a CRLF line is still checked and parsed */
    static const char more[] = "[deny secret]\r\nusers = *\r\nbogus = 1\r\ntargets = comm:x\r\n";
    refused(more, sizeof(more) - 1, "t.ini:3: unknown key 'bogus'");
    /* a CR that does not end the line is a control character */
    DENY_WITH("\rx", "control character 0x0d (carriage return, CR) is not allowed");
    DENY_WITH("\r", "carriage return (CR) at the end of the line: the file has Windows "
                    "(CRLF) line endings; convert it to Unix (LF) line endings, e.g. with "
                    "dos2unix");
}

static void test_c0_and_del(void **state)
{
    DENY_WITH("\v", "control character 0x0b (vertical tab, VT) is not allowed");
    DENY_WITH("\f", "control character 0x0c (form feed, FF) is not allowed");
    DENY_WITH("\0", "control character 0x00 (NUL) is not allowed");
    DENY_WITH("\x7f", "control character 0x7f (delete, DEL) is not allowed");
    DENY_WITH("\x1b[8m", "control character 0x1b (escape, ESC) is not allowed");
    DENY_WITH("\x01", "control character 0x01 is not allowed");
    DENY_WITH("\x1f", "control character 0x1f is not allowed");
    DENY_WITH("\b", "control character 0x08 (backspace, BS) is not allowed");
    /* a tab inside a value: a separator only around keys, values and items */
    DENY_WITH("\tx", "targets: a tab inside a value is not allowed (tabs may only surround "
                     "keys, values and list items)");
    REFUSED("[allow a]\nusers = *\ntargets = *\nnamespaces = net\nreason_pattern = a\tb\n",
            "t.ini:5:19: reason_pattern: a tab inside a value is not allowed (tabs may only "
            "surround keys, values and list items)");
}

static void test_c1(void **state)
{
    DENY_WITH("\xc2\x85", "C1 control character U+0085 is not allowed");
    DENY_WITH("\xc2\x9b"
              "31m",
              "C1 control character U+009B is not allowed");
    DENY_WITH("\xc2\x80", "C1 control character U+0080 is not allowed");
    DENY_WITH("\xc2\x9f", "C1 control character U+009F is not allowed");
}

static void test_invalid_utf8(void **state)
{
    DENY_WITH("\xc0\xa0", "invalid UTF-8 (byte 0xc0: an overlong encoding)");
    DENY_WITH("\xc1\xbf", "invalid UTF-8 (byte 0xc1: an overlong encoding)");
    DENY_WITH("\xe0\x80\xa0", "invalid UTF-8 (byte 0xe0: an overlong encoding)");
    DENY_WITH("\xf0\x80\x80\xa0", "invalid UTF-8 (byte 0xf0: an overlong encoding)");
    DENY_WITH("\xed\xa0\x80", "invalid UTF-8 (byte 0xed: an encoded surrogate)");
    DENY_WITH("\x80", "invalid UTF-8 (byte 0x80: a continuation byte with no character to "
                      "continue)");
    DENY_WITH("\xe2\x80", "invalid UTF-8 (byte 0xe2: a cut or malformed multi-byte character)");
    DENY_WITH("\xf5\x80\x80\x80", "invalid UTF-8 (byte 0xf5: a byte UTF-8 never uses)");
    DENY_WITH("\xff", "invalid UTF-8 (byte 0xff: a byte UTF-8 never uses)");
    /* invalid UTF-8 is refused in comments too */
    REFUSED("# caf\xe9\n", "t.ini:1:6: invalid UTF-8 (byte 0xe9: a cut or malformed multi-byte "
                           "character)");
}

#define OUTSIDE ": names, paths, patterns and values must be printable ASCII"

static void test_invisible_and_non_ascii(void **state)
{
    DENY_WITH("\xc2\xa0", "U+00A0 (no-break space) outside a comment" OUTSIDE);
    DENY_WITH("\xe2\x80\x8b", "U+200B (zero-width space) outside a comment" OUTSIDE);
    DENY_WITH("\xe2\x80\x8c", "U+200C (zero-width non-joiner) outside a comment" OUTSIDE);
    DENY_WITH("\xe2\x80\x8d", "U+200D (zero-width joiner) outside a comment" OUTSIDE);
    DENY_WITH("\xe2\x81\xa0", "U+2060 (word joiner) outside a comment" OUTSIDE);
    DENY_WITH("\xef\xbb\xbf", "U+FEFF (zero-width no-break space, or a byte order mark) outside "
                              "a comment" OUTSIDE);
    DENY_WITH("\xe2\x80\xae", "U+202E (a bidi embedding or override) outside a comment" OUTSIDE);
    DENY_WITH("\xe2\x80\xaa", "U+202A (a bidi embedding or override) outside a comment" OUTSIDE);
    DENY_WITH("\xe2\x81\xa6", "U+2066 (a bidi isolate) outside a comment" OUTSIDE);
    DENY_WITH("\xe2\x81\xa9", "U+2069 (a bidi isolate) outside a comment" OUTSIDE);
    DENY_WITH("\xe2\x80\x8f", "U+200F (a bidi mark) outside a comment" OUTSIDE);
    DENY_WITH("\xe2\x80\x83", "U+2003 (a Unicode space) outside a comment" OUTSIDE);
    DENY_WITH("\xe3\x80\x80", "U+3000 (ideographic space) outside a comment" OUTSIDE);
    DENY_WITH("\xe2\x80\xa8", "U+2028 (a line or paragraph separator) outside a comment" OUTSIDE);
    DENY_WITH("\xc2\xad", "U+00AD (soft hyphen) outside a comment" OUTSIDE);
    /* a letter that only looks like ASCII: Cyrillic e, the glob never matches */
    REFUSED("[deny secret]\nusers = *\ntargets = comm:s\xd0\xb5"
            "cretd\n",
            "t.ini:3:17: U+0435 (a non-ASCII character) outside a comment" OUTSIDE);
    DENY_WITH("\xc3\xa9", "U+00E9 (a non-ASCII character) outside a comment" OUTSIDE);
}

static void test_byte_order_mark(void **state)
{
    static const char bom[] = "\xef\xbb\xbf" DENY_HEAD ALLOW_TAIL;
    refused(bom, sizeof(bom) - 1,
            "t.ini:1:1: the file starts with a byte order mark (U+FEFF): save it as UTF-8 "
            "without BOM");
}

static void test_comments(void **state)
{
    /* printable UTF-8 is fine in a comment, a no-break space included */
    parses("# Zugang f\xc3\xbcr das Team \xe2\x80\x94 r\xc3\xa8gle\xc2\xa0: ok\n" DENY_HEAD
               ALLOW_TAIL);
    parses("\t; \xe6\xb3\xa8\xe9\x87\x8a\n" DENY_HEAD ALLOW_TAIL);
    /* but nothing invisible, and no control character */
    REFUSED("# a \xe2\x80\xae"
            "comment\n",
            "t.ini:1:5: U+202E (a bidi embedding or override) in a comment: invisible "
            "characters are not allowed");
    REFUSED("# \xe2\x80\x8b\n",
            "t.ini:1:3: U+200B (zero-width space) in a comment: invisible characters are not "
            "allowed");
    REFUSED("# \x1b[2J\n", "t.ini:1:3: control character 0x1b (escape, ESC) is not allowed");
    REFUSED("# \xc2\x9b\n", "t.ini:1:3: C1 control character U+009B is not allowed");
    /* a "comment" behind a no-break space is not a comment */
    REFUSED("\xc2\xa0# x\n", "t.ini:1:1: U+00A0 (no-break space) outside a comment" OUTSIDE);
}

static void test_every_place(void **state)
{
    /* section header, key, user, command, pattern, setenv, [defaults] */
    REFUSED("[deny sec\xe2\x80\x8bret]\nusers = *\ntargets = *\n",
            "t.ini:1:10: U+200B (zero-width space) outside a comment" OUTSIDE);
    REFUSED("[allow a]\nus\xc2\xa0"
            "ers = *\n",
            "t.ini:2:3: U+00A0 (no-break space) outside a comment" OUTSIDE);
    REFUSED("[deny a]\nusers = mallory\x0b\ntargets = *\n",
            "t.ini:2:16: control character 0x0b (vertical tab, VT) is not allowed");
    REFUSED("[deny a]\nusers = *\ntargets = *\ncommands = /bin/sh\xe2\x80\x8d\n",
            "t.ini:4:19: U+200D (zero-width joiner) outside a comment" OUTSIDE);
    REFUSED("[allow a]\nusers = *\ntargets = *\nnamespaces = net\nreason_pattern = ^INC\x7f\n",
            "t.ini:5:22: control character 0x7f (delete, DEL) is not allowed");
    REFUSED("[allow a]\nusers = *\ntargets = *\nnamespaces = net\nsetenv = A=b\xc2\x85\n",
            "t.ini:5:13: C1 control character U+0085 is not allowed");
    REFUSED("[defaults]\nshell = /bin/sh\r\n",
            "t.ini:2:16: carriage return (CR) at the end of the line: the file has Windows "
            "(CRLF) line endings; convert it to Unix (LF) line endings, e.g. with dos2unix");
}

static void test_refused_line_is_not_parsed(void **state)
{
    /* The header with a bad character opens no section: its keys are not
     * reported as given twice or outside a section, and a rule whose line
     * was refused is not also reported as missing that key. */
    static const char text[] = "[deny a]\nusers = *\ntargets = comm:x\v\n"
                               "[deny b\xc2\xa0]\nusers = *\ntargets = *\n";
    assert_int_equal(nerrs(text, sizeof(text) - 1), 2);
}

static void test_escape_hides_nothing(void **state)
{
    /* What reaches a terminal: bidi overrides and zero-width characters are
     * escaped like controls; printable non-ASCII stays. */
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"a\xe2\x80\xae"
         "b",
         "a\\xe2\\x80\\xaeb"},
        {"\xe2\x80\x8b", "\\xe2\\x80\\x8b"},
        {"\xef\xbb\xbf"
         "x",
         "\\xef\\xbb\\xbfx"},
        {"\xe2\x81\xa6", "\\xe2\\x81\\xa6"},
        {"\xe2\x80\xa8", "\\xe2\\x80\\xa8"},
        {"\xf3\xa0\x80\x81", "\\xf3\\xa0\\x80\\x81"}, /* U+E0001 language tag */
        {"\xef\xbf\xbf", "\\xef\\xbf\\xbf"},          /* noncharacter */
        {"caf\xc3\xa9 \xc2\xa0", "caf\xc3\xa9 \xc2\xa0"},
        {"\xe6\xb3\xa8", "\xe6\xb3\xa8"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *e = ng_escape_str(cases[i].in);
        assert_non_null(e);
        assert_string_equal(e, cases[i].want);
        free(e);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_ascii_parses),
        cmocka_unit_test(test_crlf),
        cmocka_unit_test(test_c0_and_del),
        cmocka_unit_test(test_c1),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_invisible_and_non_ascii),
        cmocka_unit_test(test_byte_order_mark),
        cmocka_unit_test(test_comments),
        cmocka_unit_test(test_every_place),
        cmocka_unit_test(test_refused_line_is_not_parsed),
        cmocka_unit_test(test_escape_hides_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
