/* The raw audit log reader: lines captured from a real auditd (enriched
 * format), encoded fields, rotated files in any order, hostile lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nsgate/auditlog.h"

#define UUID "0f6c2a1e-3b4d-4c5e-8f70-112233445566"
#define HDR  "fd8ae45e5ecb4e0d880ec94769c1da47fa8740dad756e4a1e797d980a8b547b0"
#define HEAD "97fb5f8538b89f6c1accfd19836b65a73b61fbc2e0cbf84bb858a0fffa3f1592"
#define EXE  " exe=\"/usr/bin/nsgate\" hostname=vm addr=? terminal=pts/0 res=success'"

/* Captured lines (tests/data/auditlog/captured.log has the whole run). */
static const char START[] =
    "type=USER_START msg=audit(1795940606.996:12): pid=32001 uid=0 auid=1000 ses=3 "
    "msg='op=nsgate-session-open acct=\"alice\" opid=4242 container=\"3f1c9a\" "
    "cmd=2F62696E2F7368202D63206E67696E78202D732072656C6F6164 "
    "reason=494E432D3132332072657374617274206E67696E78 uuid=" UUID " hdr=" HDR
    " exe=\"/work/wt-audit/build/tests/ng_audit_emit\" hostname=vm addr=? terminal=? "
    "res=success'\x1dUID=\"root\" AUID=\"cloudsdk\"\n";
static const char CHECKPOINT[] =
    "type=TRUSTED_APP msg=audit(1795940606.996:14): pid=32002 uid=0 auid=1000 ses=4 "
    "msg='op=nsgate-checkpoint uuid=" UUID " seqno=17 "
    "head=f998fe06afa0cfbe73e0449dc2b1698309e1b5714960f027b2858312b152c275 epoch=3 "
    "exe=\"/work/wt-audit/build/tests/ng_audit_emit\" hostname=vm addr=? terminal=? "
    "res=success'\n";
static const char END_HOSTILE[] =
    "type=USER_END msg=audit(1795940607.004:22): pid=32007 uid=0 auid=1000 ses=7 "
    "msg='op=nsgate-session-close acct=\"alice\" uuid=" UUID " seqno=43 head=" HEAD " exit=1 "
    "reason=7827207265733D7375636365737320757569643D30303030303030302D303030302D343030302D383030"
    "302D303030303030303030303030 exe=\"/work/wt-audit/build/tests/ng_audit_emit\" hostname=vm "
    "addr=? terminal=? res=success'\x1dUID=\"root\" AUID=\"cloudsdk\"\n";
static const char KEY[] =
    "type=CRYPTO_KEY_USER msg=audit(1795940607.000:19): pid=32005 uid=0 auid=4294967295 "
    "ses=4294967295 msg='op=create kind=nsgate-seal "
    "fp=5aef96240bca5582e6fd0468879a26863d81d1c1fb602def55926ef33ec8bb1f epoch=3 "
    "exe=\"/work/wt-audit/build/tests/ng_audit_emit\" hostname=vm addr=? terminal=? "
    "res=success'\x1dUID=\"root\" AUID=\"unset\"\n";

static int parse(const char *line, struct ng_auditlog_rec *rec)
{
    struct ng_auditlog_time t;
    return ng_auditlog_parse_line(line, strlen(line), rec, &t);
}

static void test_captured_lines(void **state)
{
    struct ng_auditlog_rec r;

    assert_int_equal(parse(START, &r), 1);
    assert_int_equal(r.kind, NG_AUDITLOG_START);
    assert_string_equal(r.uuid, UUID);
    assert_string_equal(r.hash, HDR);
    assert_string_equal(r.acct, "alice");
    assert_int_equal(r.auid, 1000);
    assert_int_equal(r.res, 1);
    assert_true(r.t.sec == 1795940606 && r.t.msec == 996 && r.t.serial == 12);

    assert_int_equal(parse(CHECKPOINT, &r), 1);
    assert_int_equal(r.kind, NG_AUDITLOG_CHECKPOINT);
    assert_int_equal(r.seqno, 17);
    assert_int_equal(r.epoch, 3);

    assert_int_equal(parse(END_HOSTILE, &r), 1);
    assert_int_equal(r.kind, NG_AUDITLOG_END);
    assert_string_equal(r.uuid, UUID); /* not the forged one in the reason */
    assert_int_equal(r.exit_status, 1);
    assert_int_equal(r.res, 1);
    assert_string_equal(r.reason, "x' res=success uuid=00000000-0000-4000-8000-000000000000");

    assert_int_equal(parse(KEY, &r), 1);
    assert_int_equal(r.kind, NG_AUDITLOG_KEY_CREATE);
    assert_int_equal(r.epoch, 3);
    assert_string_equal(r.uuid, "");
}

static void test_other_formats(void **state)
{
    struct ng_auditlog_rec r;
    /* RAW format with a node= prefix, as a collector writes it. */
    assert_int_equal(parse("node=web1 type=USER_END msg=audit(1700000000.123:456): pid=1 uid=0 "
                           "auid=1001 ses=2 subj=unconfined msg='op=nsgate-session-close "
                           "acct=616C696365 uuid=" UUID " seqno=5 head=" HEAD
                           " exit=0 reason=?" EXE,
                           &r),
                     1);
    assert_string_equal(r.acct, "alice");
    assert_string_equal(r.reason, "");
    assert_int_equal(r.auid, 1001);
    assert_true(r.t.sec == 1700000000 && r.t.msec == 123 && r.t.serial == 456);
    /* Someone else's records are well-formed but not ours. */
    assert_int_equal(parse("type=USER_START msg=audit(1.000:1): pid=1 uid=0 auid=0 ses=1 "
                           "msg='op=PAM:session_open acct=\"root\" exe=\"/usr/sbin/sshd\" "
                           "hostname=h addr=1.2.3.4 terminal=ssh res=success'",
                           &r),
                     0);
    assert_int_equal(parse("type=CRYPTO_KEY_USER msg=audit(1.000:2): pid=1 uid=0 auid=0 ses=1 "
                           "msg='op=destroy kind=server fp=SHA256:ab direction=? spid=1 "
                           "suid=0 exe=\"/usr/sbin/sshd\" hostname=? addr=? terminal=? "
                           "res=success'",
                           &r),
                     0);
    assert_int_equal(parse("type=SYSCALL msg=audit(1.000:3): arch=c000003e syscall=1", &r), 0);
}

static void test_malformed(void **state)
{
    struct ng_auditlog_rec r;
    static const char *const bad_header[] = {
        "",
        "garbage",
        "type=USER_END",
        "type=USER_END msg=audit(",
        "type= msg=audit(1.000:1): ",
        "type=USER_END msg=audit(1.00:1): x",
        "type=USER_END msg=audit(x.000:1): x",
        "type=USER_END msg=audit(1.000:): x",
        "type=USER_END msg=audit(99999999999999999999.000:1): ",
    };
    for (size_t i = 0; i < sizeof(bad_header) / sizeof(bad_header[0]); i++)
        assert_int_equal(parse(bad_header[i], &r), -EINVAL);

#define PFX "type=USER_END msg=audit(1.000:1): pid=1 uid=0 auid=0 ses=1 msg='"
    static const char *const bad_ours[] = {
        /* a second uuid (a forged field) */
        PFX "op=nsgate-session-close acct=? uuid=" UUID " uuid=" UUID " seqno=1 head=" HEAD
            " exit=0 reason=?" EXE,
        /* uppercase head, missing seqno, odd hex text, res not last */
        PFX "op=nsgate-session-close acct=? uuid=" UUID " seqno=1 head=ABCD exit=0 reason=?" EXE,
        PFX "op=nsgate-session-close acct=? uuid=" UUID " head=" HEAD " exit=0 reason=?" EXE,
        PFX "op=nsgate-session-close acct=ABC uuid=" UUID " seqno=1 head=" HEAD
            " exit=0 reason=?" EXE,
        PFX "op=nsgate-session-close acct=? uuid=" UUID " seqno=1 head=" HEAD
            " exit=0 reason=? res=success x=1'",
        PFX "op=nsgate-session-close acct=? uuid=" UUID " seqno=99999999999999999999 head=" HEAD
            " exit=0 reason=?" EXE,
        PFX "op=nsgate-session-close acct=? uuid=" UUID " seqno=1 head=" HEAD
            " exit=0 reason=?  " EXE,
        PFX "op=nsgate-session-close token-without-equals " EXE,
    };
    for (size_t i = 0; i < sizeof(bad_ours) / sizeof(bad_ours[0]); i++)
        assert_int_equal(parse(bad_ours[i], &r), -EBADMSG);
    /* No closing quote: not a user message we can read. */
    assert_int_equal(parse(PFX "op=nsgate-session-close uuid=" UUID, &r), 0);
    /* An embedded NUL. */
    struct ng_auditlog_time t;
    assert_int_equal(ng_auditlog_parse_line("type=X\0msg", 10, &r, &t), -EINVAL);
}

static const char *data_dir(void)
{
    const char *d = getenv("NSGATE_TEST_DATA");
    return d ? d : "tests/data";
}

/* Read the captured log as a whole, then cut into three "rotated" files
 * fed newest first: same sessions, keys and span. */
static void load_captured(char **text, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/auditlog/captured.log", data_dir());
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    *text = malloc(1 << 20);
    assert_non_null(*text);
    *len = fread(*text, 1, (1 << 20) - 1, f);
    fclose(f);
}

static void summarize(struct ng_auditlog *log, char *out, size_t size)
{
    struct ng_auditlog_stats st;
    const struct ng_auditlog_session *s = ng_auditlog_find(log, UUID);
    assert_non_null(s);
    ng_auditlog_get_stats(log, &st);
    snprintf(out, size, "%zu %zu %zu %zu %zu %zu %s %llu %s %zu %lld.%u-%lld.%u %llu",
             ng_auditlog_nsessions(log), s->nstarts, s->ncheckpoints, s->nends, s->nauthz,
             s->nerrors, s->starts[0].hash, (unsigned long long)s->ends[1].seqno, s->ends[0].reason,
             ng_auditlog_nkeys(log), (long long)st.first.sec, st.first.msec, (long long)st.last.sec,
             st.last.msec, (unsigned long long)st.denied);
}

static void test_rotated_any_order(void **state)
{
    char *text, whole[1024], parts[1024];
    size_t len;
    struct ng_auditlog *a, *b;

    load_captured(&text, &len);
    assert_int_equal(ng_auditlog_new(&a), 0);
    assert_int_equal(ng_auditlog_new(&b), 0);
    char *p = text;
    while (p < text + len) {
        char *nl = memchr(p, '\n', (size_t)(text + len - p));
        size_t l = nl ? (size_t)(nl - p) : (size_t)(text + len - p);
        assert_int_equal(ng_auditlog_add_line(a, p, l), 0);
        p += l + 1;
    }
    assert_int_equal(ng_auditlog_finish(a), 0);
    summarize(a, whole, sizeof(whole));
    assert_string_equal(whole, "1 1 1 2 1 1 " HDR " 43 exit 2 1795940606.931-1795940607.4 1");

    /* Three pieces at line boundaries, given last first, through pipes. */
    size_t cut1 = (size_t)(strstr(text, "type=TRUSTED_APP") - text);
    size_t cut2 = (size_t)(strstr(text, "type=CRYPTO_KEY_USER") - text);
    size_t at[4] = {0, cut1, cut2, len};
    for (int i = 2; i >= 0; i--) {
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        assert_true(write(fds[1], text + at[i], at[i + 1] - at[i]) == (ssize_t)(at[i + 1] - at[i]));
        close(fds[1]);
        assert_int_equal(ng_auditlog_add_fd(b, fds[0]), 0);
        close(fds[0]);
    }
    /* The same file twice (overlapping rotation): duplicates dropped. */
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    assert_true(write(fds[1], text, cut1) == (ssize_t)cut1);
    close(fds[1]);
    assert_int_equal(ng_auditlog_add_fd(b, fds[0]), 0);
    close(fds[0]);
    assert_int_equal(ng_auditlog_finish(b), 0);
    summarize(b, parts, sizeof(parts));
    /* denied decisions carry no key to dedupe by: seen twice */
    whole[strlen(whole) - 1] = '2';
    assert_string_equal(parts, whole);
    struct ng_auditlog_stats st;
    ng_auditlog_get_stats(b, &st);
    assert_true(st.duplicates >= 2);
    assert_int_equal(ng_auditlog_add_line(b, "x", 1), -EINVAL); /* after finish */
    ng_auditlog_free(a);
    ng_auditlog_free(b);
    free(text);
}

static void test_long_and_binary_lines(void **state)
{
    struct ng_auditlog *log;
    struct ng_auditlog_stats st;
    size_t n = NG_AUDITLOG_LINE_MAX * 3;
    char *junk = malloc(n);
    assert_non_null(junk);
    for (size_t i = 0; i < n; i++)
        junk[i] = (char)(i * 7);
    junk[n - 1] = '\n';
    memset(junk, 'A', NG_AUDITLOG_LINE_MAX + 10); /* first line is too long */
    junk[NG_AUDITLOG_LINE_MAX + 10] = '\n';
    char path[] = "/tmp/ng-auditlog-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_true(write(fd, junk, n) == (ssize_t)n);
    assert_true(write(fd, START, strlen(START) - 1) > 0); /* last line without '\n' */
    close(fd);
    assert_int_equal(ng_auditlog_new(&log), 0);
    assert_int_equal(ng_auditlog_add_file(log, path), 0);
    assert_int_equal(ng_auditlog_add_file(log, "/nonexistent/audit.log"), -ENOENT);
    assert_int_equal(ng_auditlog_add_file(log, "/"), -EINVAL);
    assert_int_equal(ng_auditlog_finish(log), 0);
    ng_auditlog_get_stats(log, &st);
    assert_true(st.long_lines >= 1);
    assert_int_equal(st.records, 1);
    assert_non_null(ng_auditlog_find(log, UUID));
    assert_null(ng_auditlog_find(log, "00000000-0000-4000-8000-000000000000"));
    unlink(path);
    ng_auditlog_free(log);
    free(junk);
}

#define REVIEW(serial, act, extra)                                                                 \
    "type=TRUSTED_APP msg=audit(1795940700.000:" serial "): pid=9 uid=0 auid=1000 ses=3 "          \
    "msg='op=nsgate-review act=" act " uuid=" UUID " " extra " viewer_uid=1000 "                   \
    "viewer_auid=1000" EXE

/* Review records, in a gzip-compressed rotated file beside a plain one:
 * every look is found; a forged act, a second act and a bomb are not. */
static void test_reviews_and_gz(void **state)
{
    struct ng_auditlog_rec r;
    struct ng_auditlog *log;
    assert_int_equal(parse(REVIEW("1", "replay", "acct=\"alice\""), &r), 1);
    assert_int_equal(r.kind, NG_AUDITLOG_REVIEW);
    assert_string_equal(r.act, "replay");
    assert_string_equal(r.uuid, UUID);
    assert_string_equal(r.acct, "alice");
    assert_int_equal(r.viewer_uid, 1000);
    assert_int_equal(r.viewer_auid, 1000);
    assert_int_equal(parse(REVIEW("2", "delete", "acct=\"alice\""), &r), -EBADMSG);
    assert_int_equal(parse(REVIEW("3", "replay act=export", "acct=\"alice\""), &r), -EBADMSG);

    char plain[] = "/tmp/ng-auditlog-XXXXXX", gz[64] = "/tmp/ng-auditlog-gz-XXXXXX", cmd[256];
    int fd = mkstemp(plain), gfd = mkstemp(gz);
    assert_true(fd >= 0 && gfd >= 0);
    dprintf(fd, "%s\n%s\n", START, REVIEW("4", "replay", "acct=\"alice\""));
    dprintf(gfd, "%s\n%s\n", REVIEW("5", "export", "acct=626F62"), END_HOSTILE);
    close(fd);
    close(gfd);
    snprintf(cmd, sizeof(cmd), "gzip -c %s > %s.gz", gz, gz);
    assert_int_equal(system(cmd), 0);
    strcat(gz, ".gz");
    assert_int_equal(ng_auditlog_new(&log), 0);
    assert_int_equal(ng_auditlog_add_file(log, gz), 0);
    assert_int_equal(ng_auditlog_add_file(log, plain), 0);
    assert_int_equal(ng_auditlog_finish(log), 0);
    const struct ng_auditlog_session *s = ng_auditlog_find(log, UUID);
    assert_non_null(s);
    assert_int_equal(s->nreviews, 2);
    assert_string_equal(s->reviews[0].act, "replay"); /* time order */
    assert_string_equal(s->reviews[1].act, "export");
    assert_string_equal(s->reviews[1].acct, "bob");
    assert_int_equal(s->nstarts, 1);
    assert_int_equal(s->nends, 1);
    ng_auditlog_free(log);

    /* a damaged stream is an error, and what was read before it counts */
    fd = open(gz, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    assert_true(write(fd, "\x1f\x8b\x08\x00garbage", 12) == 12);
    close(fd);
    assert_int_equal(ng_auditlog_new(&log), 0);
    assert_int_equal(ng_auditlog_add_file(log, gz), -EBADMSG);
    ng_auditlog_free(log);
    unlink(plain);
    unlink(gz);
    gz[strlen(gz) - 3] = '\0';
    unlink(gz);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_captured_lines),
        cmocka_unit_test(test_other_formats),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_rotated_any_order),
        cmocka_unit_test(test_long_and_binary_lines),
        cmocka_unit_test(test_reviews_and_gz),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
