/* Audit messages: the exact text of each event, and hostile values that
 * must arrive encoded, never as fields of their own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "nsgate/audit.h"

#define UUID "0f6c2a1e-3b4d-4c5e-8f70-112233445566"
#define H64  "fd8ae45e5ecb4e0d880ec94769c1da47fa8740dad756e4a1e797d980a8b547b0"

static char buf[NG_AUDIT_MSG_MAX + 1];

static void test_authz(void **state)
{
    struct ng_audit_authz e = {"alice", "ops-net", 4242, "net,pid", UUID, 1};
    assert_true(ng_audit_fmt_authz(&e, buf, sizeof(buf)) > 0);
    assert_string_equal(buf, "op=nsgate-authz acct=\"alice\" rule=ops-net opid=4242 "
                             "nsgate_ns=net,pid uuid=" UUID);
    /* Denied: no rule matched, no session ID. */
    struct ng_audit_authz d = {"alice", NULL, 4242, "mnt", UUID, 0};
    assert_true(ng_audit_fmt_authz(&d, buf, sizeof(buf)) > 0);
    assert_string_equal(buf, "op=nsgate-authz acct=\"alice\" rule=- opid=4242 nsgate_ns=mnt");
}

static void test_start(void **state)
{
    char a0[] = "/bin/sh", a1[] = "-c", a2[] = "nginx -s reload";
    char *argv[] = {a0, a1, a2, NULL};
    struct ng_audit_start e = {"alice", 4242, "3f1c9a", argv, "INC-123", UUID, H64, 1};
    assert_true(ng_audit_fmt_start(&e, buf, sizeof(buf)) > 0);
    assert_string_equal(buf, "op=nsgate-session-open acct=\"alice\" opid=4242 container=\"3f1c9a\" "
                             "cmd=2F62696E2F7368202D63206E67696E78202D732072656C6F6164 "
                             "reason=\"INC-123\" uuid=" UUID " hdr=" H64);
    struct ng_audit_start n = {"alice", 4242, NULL, NULL, NULL, UUID, H64, 0};
    assert_true(ng_audit_fmt_start(&n, buf, sizeof(buf)) > 0);
    assert_string_equal(buf, "op=nsgate-session-open acct=\"alice\" opid=4242 container=? "
                             "cmd=? reason=? uuid=" UUID " hdr=" H64);
}

static void test_checkpoint_end_error_key(void **state)
{
    struct ng_audit_checkpoint c = {UUID, 17, H64, 3};
    assert_true(ng_audit_fmt_checkpoint(&c, buf, sizeof(buf)) > 0);
    assert_string_equal(buf, "op=nsgate-checkpoint uuid=" UUID " seqno=17 head=" H64 " epoch=3");

    struct ng_audit_end e = {"alice", UUID, 18446744073709551615ULL, H64, 0, "exit"};
    assert_true(ng_audit_fmt_end(&e, buf, sizeof(buf)) > 0);
    assert_string_equal(buf, "op=nsgate-session-close acct=\"alice\" uuid=" UUID
                             " seqno=18446744073709551615 head=" H64 " exit=0 reason=\"exit\"");

    struct ng_audit_error r = {UUID, "disk full"};
    assert_true(ng_audit_fmt_error(&r, buf, sizeof(buf)) > 0);
    assert_string_equal(buf, "op=nsgate-error uuid=" UUID " what=6469736B2066756C6C");
    struct ng_audit_error r2 = {NULL, "x"};
    assert_true(ng_audit_fmt_error(&r2, buf, sizeof(buf)) > 0);
    assert_string_equal(buf, "op=nsgate-error uuid=? what=\"x\"");

    struct ng_audit_key k = {NG_AUDIT_KEY_CREATE, H64, 0};
    assert_true(ng_audit_fmt_key(&k, buf, sizeof(buf)) > 0);
    assert_string_equal(buf, "op=create kind=nsgate-seal fp=" H64 " epoch=0");
    k.op = NG_AUDIT_KEY_DESTROY;
    k.epoch = 12;
    assert_true(ng_audit_fmt_key(&k, buf, sizeof(buf)) > 0);
    assert_string_equal(buf, "op=destroy kind=nsgate-seal fp=" H64 " epoch=12");
}

static void check_reason(const char *reason, const char *want)
{
    struct ng_audit_end e = {"alice", UUID, 1, H64, 0, reason};
    assert_true(ng_audit_fmt_end(&e, buf, sizeof(buf)) > 0);
    const char *p = strstr(buf, " reason=");
    assert_non_null(p);
    assert_string_equal(p + 8, want);
}

static void test_hostile_values(void **state)
{
    check_reason("a\"b", "612262");
    check_reason("a'b", "612762");
    check_reason("a b", "612062");
    check_reason("a=b", "613D62");
    check_reason("a\nb", "610A62");
    check_reason("a\\b", "615C62");
    check_reason("\x7f", "7F");
    check_reason("caf\xc3\xa9", "636166C3A9"); /* >= 0x80 on every platform */
    check_reason("\xff", "FF");
    check_reason("", "\"\"");
    check_reason("plain-text_1.2", "\"plain-text_1.2\"");
}

/* A reason trying to add res= and uuid= fields stays one hex value: the
 * message has exactly one uuid= and no res= (libaudit appends the only
 * one). */
static void test_no_forged_fields(void **state)
{
    struct ng_audit_end e = {
        "alice", UUID, 1, H64, 1, "x res=success uuid=00000000-0000-4000-8000-000000000000"};
    assert_true(ng_audit_fmt_end(&e, buf, sizeof(buf)) > 0);
    assert_null(strstr(buf, "res="));
    const char *u = strstr(buf, "uuid=");
    assert_non_null(u);
    assert_null(strstr(u + 1, "uuid="));
    assert_null(strchr(buf, '\''));

    char a0[] = "sh", a1[] = "-c", a2[] = "' res=success";
    char *argv[] = {a0, a1, a2, NULL};
    struct ng_audit_start s = {"bob\" res=success", 1, "c=1", argv, "r", UUID, H64, 0};
    assert_true(ng_audit_fmt_start(&s, buf, sizeof(buf)) > 0);
    assert_null(strstr(buf, "res="));
    assert_null(strchr(buf, '\''));
    assert_non_null(strstr(buf, "acct=626F6222207265733D73756363657373 "));
    assert_non_null(strstr(buf, " container=633D31 "));
}

static void test_review(void **state)
{
    struct ng_audit_review r = {"replay", UUID, "eve\" act=export", 1000, 4242};
    assert_true(ng_audit_fmt_review(&r, buf, sizeof(buf)) > 0);
    char want[256];
    snprintf(want, sizeof(want),
             "op=nsgate-review act=replay uuid=%s acct=65766522206163743D6578706F7274 "
             "viewer_uid=1000 viewer_auid=4242",
             UUID);
    assert_string_equal(buf, want);
    r.act = "export";
    r.acct = "alice";
    r.auid = UINT32_MAX;
    assert_true(ng_audit_fmt_review(&r, buf, sizeof(buf)) > 0);
    assert_non_null(strstr(buf, "act=export uuid="));
    assert_non_null(strstr(buf, "acct=\"alice\" viewer_uid=1000 viewer_auid=4294967295"));
    r.act = "watch";
    assert_true(ng_audit_fmt_review(&r, buf, sizeof(buf)) > 0);
    r.act = "replay act=export"; /* act is nsgate's own word only */
    assert_int_equal(ng_audit_fmt_review(&r, buf, sizeof(buf)), -EINVAL);
    r.act = "replay";
    r.uuid = "not-a-uuid";
    assert_int_equal(ng_audit_fmt_review(&r, buf, sizeof(buf)), -EINVAL);
}

static void test_bad_tokens(void **state)
{
    struct ng_audit_checkpoint c = {UUID, 1, "ABCDEF", 1}; /* uppercase: not ours */
    assert_int_equal(ng_audit_fmt_checkpoint(&c, buf, sizeof(buf)), -EINVAL);
    c.head = "abc"; /* odd */
    assert_int_equal(ng_audit_fmt_checkpoint(&c, buf, sizeof(buf)), -EINVAL);
    c.head = H64;
    c.uuid = "0F6C2A1E-3B4D-4C5E-8F70-112233445566";
    assert_int_equal(ng_audit_fmt_checkpoint(&c, buf, sizeof(buf)), -EINVAL);
    c.uuid = NULL;
    assert_int_equal(ng_audit_fmt_checkpoint(&c, buf, sizeof(buf)), -EINVAL);
    struct ng_audit_authz a = {"alice", "bad rule", 1, "net", UUID, 1};
    assert_int_equal(ng_audit_fmt_authz(&a, buf, sizeof(buf)), -EINVAL);
    a.rule = "r=1";
    assert_int_equal(ng_audit_fmt_authz(&a, buf, sizeof(buf)), -EINVAL);
    a.rule = "ok";
    a.opid = 0;
    assert_int_equal(ng_audit_fmt_authz(&a, buf, sizeof(buf)), -EINVAL);
    a.opid = 1;
    a.uuid = NULL; /* allowed needs a session ID */
    assert_int_equal(ng_audit_fmt_authz(&a, buf, sizeof(buf)), -EINVAL);
    struct ng_audit_end e = {"alice", UUID, 1, H64, -1, "exit"};
    assert_int_equal(ng_audit_fmt_end(&e, buf, sizeof(buf)), -EINVAL);
    struct ng_audit_key k = {(enum ng_audit_key_op)7, H64, 0};
    assert_int_equal(ng_audit_fmt_key(&k, buf, sizeof(buf)), -EINVAL);
}

static void test_bounds(void **state)
{
    char small[40];
    struct ng_audit_checkpoint c = {UUID, 1, H64, 1};
    assert_int_equal(ng_audit_fmt_checkpoint(&c, small, sizeof(small)), -ENOBUFS);
    assert_string_equal(small, "");

    /* A huge command and reason are cut (ending in "...") and still fit. */
    static char big[20000];
    memset(big, 'x', sizeof(big) - 1);
    char *argv[] = {big, big, NULL};
    struct ng_audit_start s = {big, 1, big, argv, big, UUID, H64, 1};
    int n = ng_audit_fmt_start(&s, buf, sizeof(buf));
    assert_true(n > 0 && n <= NG_AUDIT_MSG_MAX);
    assert_non_null(strstr(buf, "xxx...\" "));
    /* The cut value is exactly cap bytes: cap - 3 of the value, then "...". */
    char want[NG_AUDIT_CONTAINER_MAX + 64];
    strcpy(want, " container=\"");
    memset(want + 12, 'x', NG_AUDIT_CONTAINER_MAX - 3);
    strcpy(want + 12 + NG_AUDIT_CONTAINER_MAX - 3, "...\" container_len=19999 cmd=");
    assert_non_null(strstr(buf, want));
    assert_non_null(strstr(buf, " hdr=" H64));
    /* every cut value says how long it was: "..." may be the value's own */
    assert_non_null(strstr(buf, "...\" acct_len=19999 opid=1 "));
    assert_non_null(strstr(buf, "...\" cmd_len=39999 reason="));
    assert_non_null(strstr(buf, "...\" reason_len=19999 uuid="));

    /* A hostile command that needs hex, cut: whole bytes (an even number of
     * hex digits, the cut before encoding), then its length; nothing else
     * of it reaches the record. */
    static char hostile[5000];
    memset(hostile, 'y', sizeof(hostile) - 1);
    memcpy(hostile + 1000, "\" uuid=forged hdr=00 \n", 22);
    char *hargv[] = {hostile, NULL};
    struct ng_audit_start h = {"alice", 1, NULL, hargv, "ok", UUID, H64, 1};
    n = ng_audit_fmt_start(&h, buf, sizeof(buf));
    assert_true(n > 0 && n <= NG_AUDIT_MSG_MAX);
    const char *cmd = strstr(buf, " cmd=");
    assert_non_null(cmd);
    size_t hex = strspn(cmd + 5, "0123456789ABCDEF");
    assert_int_equal(hex, 2 * NG_AUDIT_CMD_MAX);
    assert_true(strncmp(cmd + 5 + hex, " cmd_len=4999 reason=\"ok\" uuid=",
                        strlen(" cmd_len=4999 reason=\"ok\" uuid=")) == 0);
    assert_null(strstr(buf, "forged"));
    /* not cut: no length field */
    static char bin_true[] = "/bin/true";
    char *sargv[] = {bin_true, NULL};
    h.argv = sargv;
    assert_true(ng_audit_fmt_start(&h, buf, sizeof(buf)) > 0);
    assert_null(strstr(buf, "_len="));
}

static void test_needs_encoding(void **state)
{
    assert_false(ng_audit_needs_encoding("abc-_./:", 8));
    assert_true(ng_audit_needs_encoding("a b", 3));
    assert_true(ng_audit_needs_encoding("\x80", 1));
    assert_true(ng_audit_needs_encoding("=", 1));
    assert_true(ng_audit_needs_encoding("'", 1));
    assert_false(ng_audit_needs_encoding("", 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_authz),
        cmocka_unit_test(test_start),
        cmocka_unit_test(test_checkpoint_end_error_key),
        cmocka_unit_test(test_hostile_values),
        cmocka_unit_test(test_no_forged_fields),
        cmocka_unit_test(test_review),
        cmocka_unit_test(test_bad_tokens),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_needs_encoding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
