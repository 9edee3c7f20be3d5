/* The policy decision (policy.md "Decision", "Host access", "The request"). */
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
#include "../fake_userdb.h"

#define CID "abc0000000000000000000000000000000000000000000000000000000000def"
#define NET (1u << NG_NS_NET)
#define PID (1u << NG_NS_PID)
#define MNT (1u << NG_NS_MNT)

struct fx {
    struct ng_idset caller;
    uint32_t db[NG_MAX_GROUPS];
    struct ng_attrs attrs;
    struct ng_proc_status target;
    struct ng_policy_request req;
    struct ng_policy_decision dec;
    struct ng_policy *p;
};

/* alice (1000) with process groups {sre}; db membership {1000, sre, wheel};
 * a root target in a container, net requested, mnt entered, no user ns. */
static void fx_init(struct fx *f, uint32_t uid)
{
    memset(f, 0, sizeof(*f));
    f->caller.uid = f->caller.gid = uid;
    if (uid == 1000) {
        f->caller.ngroups = 1;
        f->caller.groups[0] = 2000;
    }
    size_t n = NG_MAX_GROUPS;
    if (fake_membership(NULL, uid, f->db, &n) < 0)
        n = 0;
    f->attrs.v[NG_ATTR_CONTAINER] = CID;
    f->attrs.v[NG_ATTR_CGROUP] = "/system.slice/docker-" CID ".scope";
    f->attrs.v[NG_ATTR_EXE] = "/usr/sbin/nginx";
    f->attrs.v[NG_ATTR_COMM] = "nginx";
    f->attrs.v[NG_ATTR_UID] = "0";
    f->attrs.v[NG_ATTR_PID] = "4242";
    f->target.cap_prm = f->target.cap_eff = f->target.cap_bnd = (1ULL << 41) - 1;
    f->req.caller = &f->caller;
    f->req.db_groups = f->db;
    f->req.ndb_groups = n;
    f->req.attrs = &f->attrs;
    f->req.ns = NET;
    f->req.cred.target = &f->target;
    f->req.cred.all_caps = (1ULL << 41) - 1;
    f->req.cred.in_target_userns = 1; /* the target shares nsgate's user ns */
    f->req.userns_available = 1;      /* caller reach: nsgate can isolate */
}

static void fx_policy(struct fx *f, const char *text)
{
    struct ng_policy_msgs e = {0}, w = {0};
    int r = ng_policy_parse(text, strlen(text), "t.ini", &f->p, &e);
    for (size_t i = 0; i < e.n; i++)
        fprintf(stderr, "%s\n", e.v[i]);
    assert_int_equal(r, 0);
    assert_int_equal(ng_policy_resolve(f->p, &fake_userdb, &e, &w), 0);
    ng_policy_msgs_free(&w);
}

/* Decide; returns the deciding rule name ("-" for the default deny), with
 * "allow "/"deny " in front, as check's first line. */
static const char *fx_decide(struct fx *f)
{
    static char line[128];
    ng_policy_decision_free(&f->dec);
    assert_int_equal(ng_policy_decide(f->p, &f->req, &f->dec), 0);
    snprintf(line, sizeof(line), "%s %s", f->dec.allow ? "allow" : "deny", f->dec.rule_name);
    return line;
}

/* The explanation of rule NAME in the last decision. */
static const char *fx_why(struct fx *f, const char *name)
{
    for (size_t i = 0; i < f->dec.nresults; i++)
        if (strcmp(f->dec.results[i].rule->name, name) == 0)
            return f->dec.results[i].why;
    fail_msg("rule %s not evaluated", name);
    return NULL;
}

static void fx_free(struct fx *f)
{
    ng_policy_decision_free(&f->dec);
    ng_policy_free(f->p);
}

#define ALLOW(name, extra) "[allow " name "]\nusers = *\ntargets = *\nnamespaces = net\n" extra

static void test_deny_before_allow(void **state)
{
    struct fx f;
    fx_init(&f, 1000);
    fx_policy(&f, ALLOW("a", "") "[deny d]\nusers = alice\ntargets = container:abc*\n");
    assert_string_equal(fx_decide(&f), "deny d");
    assert_int_equal(f.dec.rule_index, 1);
    /* Evaluation order: deny rules first, then allow rules. */
    assert_int_equal(f.dec.nresults, 2);
    assert_string_equal(f.dec.results[0].rule->name, "d");
    assert_string_equal(f.dec.results[1].rule->name, "a");
    assert_true(f.dec.results[1].matched);
    fx_free(&f);
}

static void test_first_allow_wins_and_default_deny(void **state)
{
    struct fx f;
    fx_init(&f, 1000);
    fx_policy(&f, "[deny d]\nusers = bob\ntargets = *\n" ALLOW(
                      "first", "run_as = caller\ncapabilities = none\n")
                      ALLOW("second", "run_as = root\n"));
    assert_string_equal(fx_decide(&f), "allow first");
    assert_int_equal(f.dec.rule_index, 1);
    assert_int_equal(f.dec.c.run_as, NG_RUN_AS_CALLER);
    assert_string_equal(fx_why(&f, "d"), "users: caller 1000 not listed");
    assert_string_equal(fx_why(&f, "second"), "matched");
    fx_free(&f);

    fx_init(&f, 1002); /* carol: listed nowhere */
    fx_policy(&f, "[allow a]\nusers = alice\ntargets = *\nnamespaces = net\n");
    assert_string_equal(fx_decide(&f), "deny -");
    assert_int_equal(f.dec.rule_index, -1);
    assert_string_equal(fx_why(&f, "a"), "users: caller 1002 not listed");
    fx_free(&f);

    fx_init(&f, 1000); /* an empty policy denies */
    fx_policy(&f, "");
    assert_string_equal(fx_decide(&f), "deny -");
    fx_free(&f);
}

static void test_allow_namespaces_subset(void **state)
{
    struct fx f;
    fx_init(&f, 1000);
    fx_policy(&f, "[allow a]\nusers = *\ntargets = *\nnamespaces = net, pid\n");
    f.req.ns = NET;
    assert_string_equal(fx_decide(&f), "allow a");
    f.req.ns = NET | PID;
    assert_string_equal(fx_decide(&f), "allow a");
    f.req.ns = NET | MNT | PID;
    assert_string_equal(fx_decide(&f), "deny -");
    assert_string_equal(fx_why(&f, "a"), "namespaces: mnt not allowed");
    fx_free(&f);
}

static void test_deny_namespaces_overlap(void **state)
{
    struct fx f;
    fx_init(&f, 1000);
    fx_policy(&f, "[deny d]\nusers = *\ntargets = *\nnamespaces = pid, mnt\n" ALLOW(
                      "a", "") "[allow b]\nusers = *\ntargets = *\nnamespaces = all\n");
    f.req.ns = NET;
    assert_string_equal(fx_decide(&f), "allow a");
    assert_string_equal(fx_why(&f, "d"), "namespaces: request net shares none with pid,mnt");
    f.req.ns = NET | PID; /* any overlap denies */
    assert_string_equal(fx_decide(&f), "deny d");
    fx_free(&f);

    fx_init(&f, 1000); /* without namespaces a deny matches any request */
    fx_policy(&f, "[deny d]\nusers = *\ntargets = *\n" ALLOW("a", ""));
    assert_string_equal(fx_decide(&f), "deny d");
    fx_free(&f);
}

static void test_host_access(void **state)
{
    struct fx f;
    fx_init(&f, 1000);
    fx_policy(&f, ALLOW("root-no", "run_as = root\n")
                      ALLOW("root-yes", "run_as = root\nhost_access = yes\n"));
    /* mnt entered, no user ns of its own: no host access, the first rule. */
    assert_string_equal(fx_decide(&f), "allow root-no");
    assert_int_equal(f.dec.host_access, 0);
    /* The program stays in the host mount namespace as uid 0. */
    f.req.mnt_stays_host = 1;
    assert_string_equal(fx_decide(&f), "allow root-yes");
    assert_string_equal(fx_why(&f, "root-no"),
                        "host access: program stays in the host mount namespace with uid 0 "
                        "(caller 1000); rule lacks host_access = yes");
    assert_int_equal(f.dec.host_access, 1);
    assert_string_equal(f.dec.host_access_why,
                        "program stays in the host mount namespace with uid 0 (caller 1000)");
    assert_string_equal(fx_why(&f, "root-yes"), "matched; host access: program stays in the "
                                                "host mount namespace with uid 0 (caller 1000)");
    /* The "where" by user namespace: the target has its own, not entered. */
    f.req.mnt_stays_host = 0;
    f.req.target_own_userns = 1;
    f.req.cred.in_target_userns = 0;
    assert_string_equal(fx_decide(&f), "allow root-yes");
    assert_non_null(strstr(f.dec.host_access_why, "host user namespace"));
    /* Entered: the program no longer stays in nsgate's user namespace. */
    f.req.userns_entered = 1;
    f.req.ns |= 1u << NG_NS_USER;
    fx_free(&f);

    fx_init(&f, 1000);
    fx_policy(&f, "[allow a]\nusers = *\ntargets = *\nnamespaces = net, user\nrun_as = root\n");
    f.req.ns = NET | (1u << NG_NS_USER);
    f.req.target_own_userns = 1;
    f.req.userns_entered = 1;
    f.req.cred.enter_userns = 1;
    f.req.cred.uid_map = f.req.cred.gid_map = "0 100000 65536\n";
    assert_string_equal(fx_decide(&f), "allow a");
    assert_int_equal(f.dec.host_access, 0);
    fx_free(&f);
}

static void test_host_access_with_what(void **state)
{
    struct fx f;
    fx_init(&f, 1000);
    fx_policy(
        &f,
        ALLOW("same",
              "run_as = caller\ncapabilities = none\n") "[allow netcaps]\nusers = *\ntargets = "
                                                        "*\nnamespaces = pid\nrun_as = caller\n"
                                                        "capabilities = net_admin, net_raw\n"
                                                        "[allow other-uid]\nusers = *\ntargets = "
                                                        "*\nnamespaces = mnt\nrun_as = 1000:3000\n"
                                                        "capabilities = none\n");
    f.req.mnt_stays_host = 1;
    /* The caller's own ids and no capability: no host access, no need to say yes. */
    assert_string_equal(fx_decide(&f), "allow same");
    assert_int_equal(f.dec.host_access, 0);
    /* The caller's ids with capabilities (ambient): host access. */
    f.req.ns = PID;
    assert_string_equal(fx_decide(&f), "deny -");
    assert_string_equal(fx_why(&f, "netcaps"),
                        "host access: program stays in the host mount namespace with "
                        "capabilities (permitted 0x3000, ambient 0x3000); rule lacks "
                        "host_access = yes");
    /* Another gid. */
    f.req.ns = MNT;
    f.req.mnt_stays_host = 0;
    f.req.target_own_userns = 1;
    f.req.cred.in_target_userns = 0;
    assert_string_equal(fx_decide(&f), "deny -");
    assert_non_null(strstr(fx_why(&f, "other-uid"), "with gid 3000 (caller gid 1000)"));
    fx_free(&f);
}

static void test_caps_target_outside_userns(void **state)
{
    struct fx f;
    fx_init(&f, 1000);
    fx_policy(&f, ALLOW("a", "run_as = caller\ncapabilities = target\n"));
    f.req.mnt_stays_host = 1;
    /* The target holds every capability, but the program does not end in its
     * user namespace: capabilities = target acts as none, no host access. */
    f.req.cred.in_target_userns = 0;
    assert_string_equal(fx_decide(&f), "allow a");
    assert_int_equal(f.dec.host_access, 0);
    /* In the target's own user namespace the target's capabilities apply. */
    f.req.cred.in_target_userns = 1;
    assert_string_equal(fx_decide(&f), "deny -");
    assert_non_null(strstr(fx_why(&f, "a"), "with capabilities"));
    fx_free(&f);
}

static void test_groups_allow_vs_deny(void **state)
{
    struct fx f;
    fx_init(&f, 1000); /* process groups {sre}; database {1000, sre, wheel} */
    fx_policy(&f, "[allow sre]\nusers = %sre\ntargets = *\nnamespaces = pid\n"
                  "[allow wheel]\nusers = %wheel\ntargets = *\nnamespaces = net\n"
                  "[allow ops]\nusers = %ops\ntargets = *\nnamespaces = mnt\n");
    f.req.ns = PID; /* in both */
    assert_string_equal(fx_decide(&f), "allow sre");
    f.req.ns = NET; /* wheel only in the database: not enough to allow */
    assert_string_equal(fx_decide(&f), "deny -");
    f.caller.groups[f.caller.ngroups++] = 2001; /* ops only in the process */
    f.req.ns = MNT;
    assert_string_equal(fx_decide(&f), "deny -");
    fx_free(&f);

    fx_init(&f, 1000);
    fx_policy(&f, "[deny wheel]\nusers = %wheel\ntargets = *\nnamespaces = net\n"
                  "[deny ops]\nusers = %ops\ntargets = *\nnamespaces = mnt\n"
                  "[allow a]\nusers = *\ntargets = *\nnamespaces = all\n");
    f.req.ns = NET; /* database only: a deny matches */
    assert_string_equal(fx_decide(&f), "deny wheel");
    f.req.ns = MNT; /* not in either yet */
    assert_string_equal(fx_decide(&f), "allow a");
    f.caller.groups[f.caller.ngroups++] = 2001; /* process only: a deny matches */
    assert_string_equal(fx_decide(&f), "deny ops");
    fx_free(&f);

    /* The real gid counts as a process group. */
    fx_init(&f, 1000);
    f.caller.ngroups = 0;
    f.caller.gid = 2000;
    fx_policy(&f, "[allow sre]\nusers = %sre\ntargets = *\nnamespaces = net\n");
    assert_string_equal(fx_decide(&f), "allow sre");
    fx_free(&f);
}

static void test_uid_name_star_unknown(void **state)
{
    struct fx f;
    fx_init(&f, 1000);
    fx_policy(&f, "[allow ghost]\nusers = ghost, %nogroup\ntargets = *\nnamespaces = net\n"
                  "[allow bob]\nusers = bob, #1001\ntargets = *\nnamespaces = net\n"
                  "[allow uid]\nusers = #1000\ntargets = *\nnamespaces = net\n");
    assert_string_equal(fx_decide(&f), "allow uid");
    assert_string_equal(fx_why(&f, "ghost"), "users: caller 1000 not listed");
    fx_free(&f);

    fx_init(&f, 1000);
    fx_policy(&f, "[allow name]\nusers = alice\ntargets = *\nnamespaces = net\n");
    assert_string_equal(fx_decide(&f), "allow name");
    fx_free(&f);

    fx_init(&f, 0); /* an unknown name holds no id: not even root matches it */
    fx_policy(&f, "[allow ghost]\nusers = ghost, %nogroup\ntargets = *\nnamespaces = net\n");
    f.caller.groups[f.caller.ngroups++] = 0;
    assert_string_equal(fx_decide(&f), "deny -");
    fx_free(&f);

    fx_init(&f, 0); /* "*" includes root */
    fx_policy(&f, "[deny d]\nusers = *\ntargets = pid:1\n" ALLOW("a", ""));
    assert_string_equal(fx_decide(&f), "allow a");
    f.attrs.v[NG_ATTR_PID] = "1";
    assert_string_equal(fx_decide(&f), "deny d");
    fx_free(&f);
}

static void expect_target(const char *glob, const char *want)
{
    struct fx f;
    char text[512];
    fx_init(&f, 1000);
    snprintf(text, sizeof(text), "[allow a]\nusers = *\ntargets = %s\nnamespaces = net\n", glob);
    fx_policy(&f, text);
    assert_string_equal(fx_decide(&f), want);
    fx_free(&f);
}

static void test_target_globs(void **state)
{
    expect_target("container:abc*", "allow a");
    expect_target("container:abd*", "deny -");
    expect_target("container:" CID, "allow a");
    expect_target("cgroup:/system.slice/*", "allow a"); /* '*' also matches '/' */
    expect_target("cgroup:/system.slice", "deny -");
    expect_target("cgroup:*docker-abc*.scope", "allow a");
    expect_target("exe:/usr/sbin/*", "allow a");
    expect_target("exe:/usr/bin/*", "deny -");
    expect_target("comm:ngin?", "allow a");
    expect_target("comm:[a-m]ginx", "deny -");
    expect_target("comm:[m-o]ginx", "allow a");
    expect_target("uid:0", "allow a");
    expect_target("uid:1000", "deny -");
    expect_target("pid:42*", "allow a");
    expect_target("pid:4", "deny -");
    expect_target("comm:nope, pid:4242", "allow a"); /* any item */

    struct fx f;
    fx_init(&f, 1000);
    f.attrs.v[NG_ATTR_CONTAINER] = NULL;
    f.attrs.container_why = "a deeper cgroup names another container";
    fx_policy(&f, "[allow a]\nusers = *\ntargets = container:*\nnamespaces = net\n"
                  "[allow b]\nusers = *\ntargets = comm:x, uid:5\nnamespaces = net\n"
                  "[allow c]\nusers = *\ntargets = comm:x\nnamespaces = net\n");
    /* An absent attribute never matches, not even '*'. */
    assert_string_equal(fx_decide(&f), "deny -");
    assert_string_equal(fx_why(&f, "a"), "targets: container:*: target has no container "
                                         "attribute (a deeper cgroup names another container)");
    assert_string_equal(fx_why(&f, "b"), "targets: none of 2 items matches");
    assert_string_equal(fx_why(&f, "c"), "targets: comm:x does not match (comm=nginx)");
    f.attrs.v[NG_ATTR_COMM] = NULL;
    assert_string_equal(fx_decide(&f), "deny -");
    assert_string_equal(fx_why(&f, "c"), "targets: comm:x: target has no comm attribute");
    fx_free(&f);
}

static void test_commands_exact(void **state)
{
    struct fx f;
    fx_init(&f, 1000);
    fx_policy(
        &f,
        "[defaults]\nshell = /bin/bash\n" ALLOW(
            "ip", "commands = /usr/sbin/ip, /usr/sbin/ss\n") "[allow shell]\nusers = *\ntargets = "
                                                             "*\nnamespaces = pid\n"
                                                             "commands = /bin/bash\n");
    f.req.program = "/usr/sbin/ip";
    assert_string_equal(fx_decide(&f), "allow ip");
    f.req.program = "/usr/sbin/ip6";
    assert_string_equal(fx_decide(&f), "deny -");
    assert_string_equal(fx_why(&f, "ip"), "commands: /usr/sbin/ip6 not listed");
    f.req.program = "/sbin/ip";
    assert_string_equal(fx_decide(&f), "deny -");
    /* No PROGRAM: the policy's shell is compared. */
    f.req.program = NULL;
    f.req.ns = PID;
    assert_string_equal(fx_decide(&f), "allow shell");
    assert_string_equal(f.dec.c.shell, "/bin/bash");
    fx_free(&f);
}

static void test_deny_by_command_warns(void **state)
{
    struct fx f;
    fx_init(&f, 1000);
    fx_policy(&f, "[deny sh]\nusers = *\ntargets = *\ncommands = /bin/sh\n" ALLOW("a", ""));
    f.req.program = "/bin/sh";
    assert_string_equal(fx_decide(&f), "deny sh");
    assert_int_equal(f.dec.warns.n, 0);
    f.req.program = "/bin/dash";
    assert_string_equal(fx_decide(&f), "allow a");
    assert_int_equal(f.dec.warns.n, 1);
    assert_non_null(strstr(f.dec.warns.v[0], "[deny sh] did not match only because of its "
                                             "commands"));
    fx_free(&f);
}

static void test_reason(void **state)
{
    struct fx f;
    fx_init(&f, 1000);
    fx_policy(&f,
              "[allow pat]\nusers = *\ntargets = *\nnamespaces = pid\n"
              "reason_pattern = ^(INC|CHG)-[0-9]+$\n"
              "[allow any]\nusers = *\ntargets = *\nnamespaces = mnt\nreason_pattern = INC\n" ALLOW(
                  "req", "require_reason = yes\n"));
    assert_string_equal(fx_decide(&f), "deny -");
    assert_string_equal(fx_why(&f, "req"), "reason: required, none given (-r)");
    f.req.reason = "anything at all";
    assert_string_equal(fx_decide(&f), "allow req");
    f.req.ns = PID;
    f.req.reason = "INC-42";
    assert_string_equal(fx_decide(&f), "allow pat");
    f.req.reason = "see INC-42";
    assert_string_equal(fx_decide(&f), "deny -");
    assert_string_equal(fx_why(&f, "pat"), "reason: does not match reason_pattern "
                                           "^(INC|CHG)-[0-9]+$");
    f.req.reason = NULL;
    assert_string_equal(fx_decide(&f), "deny -");
    assert_string_equal(fx_why(&f, "pat"), "reason: required, none given (-r)");
    f.req.ns = MNT; /* unanchored: anywhere */
    f.req.reason = "see INC-42";
    assert_string_equal(fx_decide(&f), "allow any");
    /* An invalid reason is an error, and never an allow. */
    f.req.reason = "bad\ttab";
    ng_policy_decision_free(&f.dec);
    assert_int_equal(ng_policy_decide(f.p, &f.req, &f.dec), -EINVAL);
    assert_int_equal(f.dec.allow, 0);
    fx_free(&f);
}

static void test_valid_reason(void **state)
{
    char buf[600];
    assert_true(ng_policy_valid_reason("INC-1234: packet loss"));
    assert_true(ng_policy_valid_reason("caf\xc3\xa9 \xe2\x82\xac"));
    assert_false(ng_policy_valid_reason(""));
    assert_false(ng_policy_valid_reason(NULL));
    assert_false(ng_policy_valid_reason("a\nb"));
    assert_false(ng_policy_valid_reason("\x1b[31m"));
    assert_false(ng_policy_valid_reason("del\x7f"));
    assert_false(ng_policy_valid_reason("c1\xc2\x9b"));
    assert_false(ng_policy_valid_reason("bad\xff"));
    assert_false(ng_policy_valid_reason("\xc0\xaf"));
    /* invisible characters are not printable: a reason reads as it is */
    assert_false(ng_policy_valid_reason("INC-1\xe2\x80\xae"
                                        "234"));
    assert_false(ng_policy_valid_reason("INC\xe2\x80\x8b-1234"));
    assert_false(ng_policy_valid_reason("\xef\xbb\xbfINC-1234"));
    assert_true(ng_policy_valid_reason("r\xc3\xa8gle\xc2\xa0: ok"));
    memset(buf, 'a', 512);
    buf[512] = '\0';
    assert_true(ng_policy_valid_reason(buf));
    buf[512] = 'a';
    buf[513] = '\0';
    assert_false(ng_policy_valid_reason(buf));
}

static void test_defaults_inheritance(void **state)
{
    struct fx f;
    fx_init(&f, 1000);
    fx_policy(
        &f,
        ALLOW("a",
              "max_output = 1M\ncapabilities = net_raw\nsetenv = A=1\n") "[defaults]\nmax_session "
                                                                         "= 2h\nrecord_input = "
                                                                         "no\naudit = best-effort\n"
                                                                         "shell = "
                                                                         "/bin/zsh\nmax_output = "
                                                                         "5G\n");
    assert_string_equal(fx_decide(&f), "allow a");
    assert_int_equal(f.dec.c.max_session_ms, 2 * 3600000);
    assert_int_equal(f.dec.c.record_input, 0);
    assert_int_equal(f.dec.c.audit_required, 0);
    assert_true(f.dec.c.max_output == 1ULL << 20);
    assert_string_equal(f.dec.c.shell, "/bin/zsh");
    assert_int_equal(f.dec.c.caps, NG_CAPS_LIST);
    assert_true(f.dec.c.cap_list == 1ULL << 13);
    assert_int_equal(f.dec.c.nsetenv, 1);
    assert_string_equal(f.dec.c.setenv[0], "A=1");
    assert_int_equal(f.dec.c.idle_timeout_ms, 3600000); /* built-in default */
    fx_free(&f);
}

static void test_unmapped_credentials(void **state)
{
    struct fx f;
    fx_init(&f, 1000);
    fx_policy(&f, "[allow a]\nusers = *\ntargets = *\nnamespaces = mnt, user\n"
                  "run_as = caller\nhost_access = yes\n");
    f.req.ns = MNT | (1u << NG_NS_USER);
    f.req.mnt_stays_host = 1; /* "where" holds, so credentials are computed */
    f.req.userns_entered = 1;
    f.req.target_own_userns = 1;
    f.req.cred.enter_userns = 1;
    f.req.cred.uid_map = f.req.cred.gid_map = "0 100000 65536\n";
    assert_string_equal(fx_decide(&f), "deny -");
    assert_string_equal(fx_why(&f, "a"), "credentials: run_as ids are not mapped in the "
                                         "target's user namespace");
    fx_free(&f);
}

/* Caller reach (reach.h): an allow rule does not match a session the
 * caller could reach into unless it says caller_reach = allow; the decision
 * says how the session is kept out. */
static void test_caller_reach(void **state)
{
    struct fx f;
    fx_init(&f, 1000);
    fx_policy(&f, ALLOW("caps", "run_as = caller\ncapabilities = net_admin\n")
                      ALLOW("plain", "run_as = caller\ncapabilities = none\n"));
    /* Capabilities as the caller's uid cannot be isolated: the first rule
     * does not match, and says why; the second isolates. */
    assert_string_equal(fx_decide(&f), "allow plain");
    assert_non_null(strstr(fx_why(&f, "caps"), "caller reach: the program would hold "
                                               "capabilities (permitted 0x1000)"));
    assert_non_null(strstr(fx_why(&f, "caps"), "rule lacks caller_reach = allow"));
    assert_int_equal(f.dec.reach, NG_REACH_USERNS);
    assert_non_null(strstr(f.dec.reach_why, "inside a user namespace of nsgate's"));
    /* Without user namespaces, nothing protects the plain rule either. */
    f.req.userns_available = 0;
    assert_string_equal(fx_decide(&f), "deny -");
    assert_int_equal(f.dec.reach, NG_REACH_REFUSED);
    fx_free(&f);

    /* [defaults] caller_reach = allow is inherited; a rule may say deny. */
    fx_init(&f, 1000);
    fx_policy(&f, "[defaults]\ncaller_reach = allow\n" ALLOW(
                      "strict", "run_as = caller\ncapabilities = net_admin\ncaller_reach = deny\n")
                      ALLOW("loose", "run_as = caller\ncapabilities = net_admin\n"));
    assert_string_equal(fx_decide(&f), "allow loose");
    assert_int_equal(f.dec.c.caller_reach_allow, 1);
    assert_int_equal(f.dec.reach, NG_REACH_ALLOWED);
    assert_non_null(strstr(fx_why(&f, "strict"), "rule lacks caller_reach = allow"));
    fx_free(&f);

    /* Another uid is out of reach already; root is root. */
    fx_init(&f, 1000);
    fx_policy(&f, ALLOW("a", "run_as = root\n"));
    assert_string_equal(fx_decide(&f), "allow a");
    assert_int_equal(f.dec.reach, NG_REACH_OTHER_UID);
    fx_free(&f);
    fx_init(&f, 0);
    fx_policy(&f, ALLOW("a", "run_as = caller\ncapabilities = keep\n"));
    assert_string_equal(fx_decide(&f), "allow a");
    assert_int_equal(f.dec.reach, NG_REACH_ROOT);
    fx_free(&f);

    /* The caller's own user namespace, entered: refused, unless allowed. */
    fx_init(&f, 1000);
    fx_policy(&f, "[allow a]\nusers = *\ntargets = *\nnamespaces = net, user\nrun_as = root\n"
                  "[allow b]\nusers = *\ntargets = *\nnamespaces = net, user\nrun_as = root\n"
                  "caller_reach = allow\n");
    f.req.ns = NET | (1u << NG_NS_USER);
    f.req.target_own_userns = 1;
    f.req.userns_entered = 1;
    f.req.caller_owns_userns = 1;
    f.req.cred.enter_userns = 1;
    f.req.cred.uid_map = f.req.cred.gid_map = "0 1000 1\n";
    assert_string_equal(fx_decide(&f), "allow b");
    assert_non_null(strstr(fx_why(&f, "a"), "owned by the caller (uid 1000)"));
    assert_int_equal(f.dec.reach, NG_REACH_ALLOWED);
    fx_free(&f);
}

static void test_bad_input(void **state)
{
    struct fx f;
    fx_init(&f, 1000);
    fx_policy(&f, ALLOW("a", ""));
    f.req.cred.target = NULL;
    assert_int_equal(ng_policy_decide(f.p, &f.req, &f.dec), -EINVAL);
    assert_int_equal(f.dec.allow, 0);
    assert_string_equal(f.dec.rule_name, "-");
    assert_int_equal(ng_policy_decide(NULL, &f.req, &f.dec), -EINVAL);
    f.req.cred.target = &f.target;
    f.req.ns = 0; /* empty: a subset of everything, so refused outright */
    assert_int_equal(ng_policy_decide(f.p, &f.req, &f.dec), -EINVAL);
    assert_int_equal(f.dec.allow, 0);
    f.req.ns = 1u << NG_NS_COUNT;
    assert_int_equal(ng_policy_decide(f.p, &f.req, &f.dec), -EINVAL);
    f.req.ns = NET;
    f.req.program = "/usr/../bin/sh";
    assert_int_equal(ng_policy_decide(f.p, &f.req, &f.dec), -EINVAL);
    f.req.program = "sh";
    assert_int_equal(ng_policy_decide(f.p, &f.req, &f.dec), -EINVAL);
    f.req.program = "/bin/sh";
    assert_int_equal(ng_policy_decide(f.p, &f.req, &f.dec), 0);
    assert_int_equal(f.dec.allow, 1);
    fx_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deny_before_allow),
        cmocka_unit_test(test_first_allow_wins_and_default_deny),
        cmocka_unit_test(test_allow_namespaces_subset),
        cmocka_unit_test(test_deny_namespaces_overlap),
        cmocka_unit_test(test_host_access),
        cmocka_unit_test(test_host_access_with_what),
        cmocka_unit_test(test_caps_target_outside_userns),
        cmocka_unit_test(test_groups_allow_vs_deny),
        cmocka_unit_test(test_uid_name_star_unknown),
        cmocka_unit_test(test_target_globs),
        cmocka_unit_test(test_commands_exact),
        cmocka_unit_test(test_deny_by_command_warns),
        cmocka_unit_test(test_reason),
        cmocka_unit_test(test_valid_reason),
        cmocka_unit_test(test_defaults_inheritance),
        cmocka_unit_test(test_unmapped_credentials),
        cmocka_unit_test(test_caller_reach),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
