/* Two-person control: the one request a client sends (control_wire.c) and
 * its USER_ACCT record (audit.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "nsgate/audit.h"
#include "nsgate/control.h"

static struct ng_control_request sample(void)
{
    struct ng_control_request q = {.uid = 1001, .gid = 1001, .ngroups = 2, .reader = 1};

    snprintf(q.verb, sizeof(q.verb), "approve");
    q.groups[0] = 27;
    q.groups[1] = 1001;
    snprintf(q.user, sizeof(q.user), "alice");
    snprintf(q.text, sizeof(q.text), "INC-42: ok \"quoted\" \\ é");
    return q;
}

static void test_round_trip(void **state)
{
    struct ng_control_request q = sample(), back;
    char buf[NG_CONTROL_MSG_MAX + 1];
    size_t len;

    assert_int_equal(ng_control_request_format(&q, buf, sizeof(buf), &len), 0);
    assert_int_equal(ng_control_request_parse(buf, len, &back), 0);
    assert_string_equal(back.verb, "approve");
    assert_int_equal(back.uid, 1001);
    assert_int_equal(back.ngroups, 2);
    assert_int_equal(back.groups[0], 27);
    assert_int_equal(back.reader, 1);
    assert_string_equal(back.user, "alice");
    assert_string_equal(back.text, q.text);
    q.text[0] = '\0'; /* no text */
    q.ngroups = 0;
    assert_int_equal(ng_control_request_format(&q, buf, sizeof(buf), &len), 0);
    assert_int_equal(ng_control_request_parse(buf, len, &back), 0);
    assert_string_equal(back.text, "");
    assert_int_equal(back.ngroups, 0);
}

static void test_format_refuses(void **state)
{
    struct ng_control_request q = sample();
    char buf[NG_CONTROL_MSG_MAX + 1];
    size_t len;

    snprintf(q.verb, sizeof(q.verb), "own");
    assert_int_equal(ng_control_request_format(&q, buf, sizeof(buf), &len), -EINVAL);
    q = sample();
    snprintf(q.text, sizeof(q.text), "two\nlines");
    assert_int_equal(ng_control_request_format(&q, buf, sizeof(buf), &len), -EINVAL);
    q = sample();
    q.user[0] = '\0';
    assert_int_equal(ng_control_request_format(&q, buf, sizeof(buf), &len), -EINVAL);
}

static void test_parse_refuses(void **state)
{
    struct ng_control_request q;
    static const char *const bad[] = {
        "",
        "nsgate-control-2\napprove\n1\n1\n\n0\nalice\n",
        "nsgate-control-1\nown\n1\n1\n\n0\nalice\n",
        "nsgate-control-1\napprove\n-1\n1\n\n0\nalice\n",
        "nsgate-control-1\napprove\n4294967296\n1\n\n0\nalice\n",
        "nsgate-control-1\napprove\n1\n1\n1,x\n0\nalice\n",
        "nsgate-control-1\napprove\n1\n1\n\n2\nalice\n",
        "nsgate-control-1\napprove\n1\n1\n\n0\n\n",
        "nsgate-control-1\napprove\n1\n1\n\n0\nalice\ntext\nmore",
        "nsgate-control-1\napprove\n1\n1\n\n0\nal\x1bice\n",
        "nsgate-control-1\napprove\n1\n1\n\n0\nalice",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (ng_control_request_parse(bad[i], strlen(bad[i]), &q) != -EINVAL)
            fail_msg("bad request %zu was taken", i);
    assert_int_equal(ng_control_request_parse("nsgate-control-1\nwatch\n0\n0\n\n1\nroot\n", 36, &q),
                     -EINVAL); /* an embedded NUL: the length says more than the text */
    char big[NG_CONTROL_MSG_MAX + 2];
    memset(big, 'a', sizeof(big));
    assert_int_equal(ng_control_request_parse(big, sizeof(big), &q), -EINVAL);
}

static void test_audit_record(void **state)
{
    char buf[NG_AUDIT_MSG_MAX + 1];
    struct ng_audit_control e = {.action = "approve",
                                 .acct = "alice",
                                 .uid = 1001,
                                 .uuid = "0f6c2a1e-3b4d-4c5e-8f70-112233445566",
                                 .text = "x' res=success",
                                 .ok = 1};

    assert_true(ng_audit_fmt_control(&e, buf, sizeof(buf)) > 0);
    assert_string_equal(buf, "op=nsgate-control action=approve acct=\"alice\" nsgate_uid=1001 "
                             "uuid=0f6c2a1e-3b4d-4c5e-8f70-112233445566 "
                             "reason=7827207265733D73756363657373");
    e.acct = NULL;
    e.uid = -1;
    e.text = NULL;
    e.action = "approval-timeout";
    assert_true(ng_audit_fmt_control(&e, buf, sizeof(buf)) > 0);
    assert_string_equal(buf, "op=nsgate-control action=approval-timeout acct=? nsgate_uid=? "
                             "uuid=0f6c2a1e-3b4d-4c5e-8f70-112233445566 reason=?");
    e.action = "app rove";
    assert_int_equal(ng_audit_fmt_control(&e, buf, sizeof(buf)), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_format_refuses),
        cmocka_unit_test(test_parse_refuses),
        cmocka_unit_test(test_audit_record),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
