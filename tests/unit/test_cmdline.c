/* Command events: the escaping of recorded bytes in their JSON (exact round
 * trip for every byte string), reading an event back from hostile text, the
 * shell-quoted, terminal-safe command line, and the ABI decoding of the
 * notified system calls. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <linux/audit.h>
#include <stdlib.h>
#include <string.h>

#include "nsgate/cmdline.h"
#include "nsgate/cmdrec.h"

static void roundtrip(const char *bytes, size_t len, const char *want)
{
    char *e = ng_cmd_escape(bytes, len);
    uint8_t *back;
    size_t n;

    assert_non_null(e);
    if (want)
        assert_string_equal(e, want);
    assert_int_equal(ng_cmd_unescape(e, strlen(e), &back, &n), 0);
    assert_int_equal(n, len);
    assert_memory_equal(back, bytes, len);
    free(back);
    free(e);
}

static void test_escape(void **state)
{
    roundtrip("ls", 2, "ls");
    roundtrip("a\\b", 3, "a\\\\b");
    roundtrip("\xff\xfe", 2, "\\xff\\xfe");
    roundtrip("caf\xc3\xa9", 5, "caf\xc3\xa9");            /* valid UTF-8 kept */
    roundtrip("\xc3", 1, "\\xc3");                         /* truncated sequence */
    roundtrip("\xed\xa0\x80", 3, "\\xed\\xa0\\x80");       /* a surrogate is not UTF-8 */
    roundtrip("line1\nline2\x01", 12, "line1\nline2\x01"); /* controls: JSON escapes them */
    roundtrip("\\x41", 4, "\\\\x41"); /* a literal backslash-x stays apart from a byte */
    roundtrip("", 0, "");
    /* Every byte value, in every position. */
    char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (char)i;
    roundtrip(all, sizeof(all), NULL);
}

static void test_unescape_bad(void **state)
{
    uint8_t *b;
    size_t n;

    assert_int_equal(ng_cmd_unescape("a\\", 2, &b, &n), -EINVAL);
    assert_int_equal(ng_cmd_unescape("\\q", 2, &b, &n), -EINVAL);
    assert_int_equal(ng_cmd_unescape("\\x4", 3, &b, &n), -EINVAL);
    assert_int_equal(ng_cmd_unescape("\\xg0", 4, &b, &n), -EINVAL);
}

static void quote(const char *argv, size_t len, const char *want)
{
    char *q = ng_cmd_quote((const uint8_t *)argv, len);
    assert_non_null(q);
    assert_string_equal(q, want);
    free(q);
}

static void test_quote(void **state)
{
    quote("ls\0-la\0/tmp\0", 12, "ls -la /tmp");
    quote("echo\0a b\0", 9, "echo 'a b'");
    quote("echo\0\0", 6, "echo ''");
    quote("echo\0it's\0", 10, "echo $'it\\'s'");
    quote("printf\0a\nb\0", 11, "printf $'a\\x0ab'");
    quote("x\0\xff\0", 4, "x $'\\xff'");
    quote("x\0\x1b]0;t\x07\0", 9, "x $'\\x1b]0;t\\x07'"); /* no escape reaches a terminal */
    quote("x\0\xc2\x9b"
          "31m\0",
          8, "x $'\\xc2\\x9b31m'"); /* C1 CSI */
    quote("x\0a\xe2\x80\xae"
          "b\0",
          8, "x $'a\\xe2\\x80\\xaeb'"); /* RTL override */
    quote("grep\0a\\.b\0", 10, "grep 'a\\.b'");
    quote("echo\0caf\xc3\xa9\0", 11, "echo 'caf\xc3\xa9'");
    quote("echo\0$HOME\0*\0", 13, "echo '$HOME' '*'");
    quote("a=b\0", 4, "a=b");
}

static void test_parse(void **state)
{
    struct ng_cmd c;
    const char *ev = "{\"t_ns\":5,\"pid\":2,\"ppid\":0,\"host_pid\":99,\"host_ppid\":98,\"uid\":0,"
                     "\"gid\":0,\"cwd\":\"/\",\"path\":\"/bin/x\",\"exe\":\"/usr/bin/x\","
                     "\"argv\":[\"x\",\"\\\\xff\",\"\",\"a\\nb\"],\"result\":0,\"verified\":true}";

    assert_int_equal(ng_cmd_parse(ev, strlen(ev), &c), 0);
    assert_int_equal(c.t_ns, 5);
    assert_int_equal(c.pid, 2);
    assert_int_equal(c.host_pid, 99);
    assert_int_equal(c.result, 0);
    assert_int_equal(c.verified, 1);
    assert_int_equal(c.argc, 4);
    assert_int_equal(c.argv_len, 2 + 2 + 1 + 4);
    assert_memory_equal(c.argv, "x\0\xff\0\0a\nb\0", 9);
    assert_string_equal((char *)c.exe, "/usr/bin/x");
    ng_cmd_free(&c);

    /* A failed exec: no exe, an errno; unknown fields are ignored. */
    const char *f = "{\"path\":\"./x\",\"exe\":null,\"argv\":[\"./x\"],\"result\":13,\"new\":1}";
    assert_int_equal(ng_cmd_parse(f, strlen(f), &c), 0);
    assert_null(c.exe);
    assert_int_equal(c.result, 13);
    assert_int_equal(c.pid, -1);
    assert_string_equal(ng_cmd_errno_name(c.result), "EACCES");
    ng_cmd_free(&c);

    static const char *const bad[] = {
        "",
        "[]",
        "{\"argv\":[\"x\"]}",
        "{\"path\":1,\"argv\":[]}",
        "{\"path\":\"x\"}",
        "{\"path\":\"x\",\"argv\":[1]}",
        "{\"path\":\"x\",\"argv\":[\"\\\\x00\"]}",
        "{\"path\":\"\\\\q\",\"argv\":[]}",
        "{\"path\":\"x\",\"path\":\"y\",\"argv\":[]}",
        "{\"path\":\"x\",\"argv\":[\"a\\\\\"]}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(ng_cmd_parse(bad[i], strlen(bad[i]), &c), -EBADMSG);
}

static void test_decode(void **state)
{
    int ptr;

    assert_int_equal(ng_cmdrec_decode(AUDIT_ARCH_X86_64, 59, &ptr), 0);
    assert_int_equal(ptr, 8);
    assert_int_equal(ng_cmdrec_decode(AUDIT_ARCH_X86_64, 322, &ptr), 1);
    assert_int_equal(ng_cmdrec_decode(AUDIT_ARCH_X86_64, 0x40000000 + 520, &ptr), 0);
    assert_int_equal(ptr, 4);
    assert_int_equal(ng_cmdrec_decode(AUDIT_ARCH_I386, 11, &ptr), 0);
    assert_int_equal(ptr, 4);
    assert_int_equal(ng_cmdrec_decode(AUDIT_ARCH_I386, 358, &ptr), 1);
    assert_int_equal(ng_cmdrec_decode(AUDIT_ARCH_AARCH64, 221, &ptr), 0);
    assert_int_equal(ng_cmdrec_decode(AUDIT_ARCH_X86_64, 11, &ptr), -ENOSYS);
    assert_int_equal(ng_cmdrec_decode(AUDIT_ARCH_X86_64, 59 | 0x40000000, &ptr), -ENOSYS);
    assert_int_equal(ng_cmdrec_decode(0, 59, &ptr), -ENOSYS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape), cmocka_unit_test(test_unescape_bad),
        cmocka_unit_test(test_quote),  cmocka_unit_test(test_parse),
        cmocka_unit_test(test_decode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
