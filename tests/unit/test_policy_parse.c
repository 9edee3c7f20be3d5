/* The policy parser (policy.md "Syntax", "[defaults]", "Rules"): every key,
 * every value form, every error message; name resolution; the loader. */
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

#define RULE "[allow a]\nusers = *\ntargets = *\nnamespaces = net\n"

static struct ng_policy *parse_ok(const char *text)
{
    struct ng_policy *p = NULL;
    struct ng_policy_msgs e = {0};
    int r = ng_policy_parse(text, strlen(text), "t.ini", &p, &e);
    for (size_t i = 0; i < e.n; i++)
        fprintf(stderr, "unexpected: %s\n", e.v[i]);
    assert_int_equal(r, 0);
    assert_int_equal(e.n, 0);
    assert_non_null(p);
    ng_policy_msgs_free(&e);
    return p;
}

/* The text must be refused with exactly this message among its errors. */
static void expect_err_len(const char *text, size_t len, const char *want)
{
    struct ng_policy *p = NULL;
    struct ng_policy_msgs e = {0};
    int found = 0;

    assert_int_equal(ng_policy_parse(text, len, "t.ini", &p, &e), -EINVAL);
    assert_null(p); /* the whole file is refused */
    for (size_t i = 0; i < e.n; i++)
        found |= strcmp(e.v[i], want) == 0;
    if (!found)
        for (size_t i = 0; i < e.n; i++)
            fprintf(stderr, "got: %s (want %s)\n", e.v[i], want);
    assert_true(found);
    ng_policy_msgs_free(&e);
}

static void expect_err(const char *text, const char *want)
{
    expect_err_len(text, strlen(text), want);
}

static void test_defaults_every_key(void **state)
{
    struct ng_policy *p = parse_ok("[defaults]\naudit = best-effort\nrecord_input = no\n"
                                   "seal_interval = 250ms\nmax_session = 2h\n"
                                   "idle_timeout = none\nmax_output = 10M\nmin_free = 5G\n"
                                   "shell = /bin/bash\n" RULE);
    assert_int_equal(p->defaults.audit_required, 0);
    assert_int_equal(p->defaults.record_input, 0);
    assert_int_equal(p->defaults.seal_interval_ms, 250);
    assert_int_equal(p->defaults.max_session_ms, 2 * 3600 * 1000);
    assert_true(p->defaults.idle_timeout_ms == NG_DURATION_NONE);
    assert_true(p->defaults.max_output == 10ULL << 20);
    assert_true(p->defaults.min_free == 5ULL << 30);
    assert_string_equal(p->defaults.shell, "/bin/bash");
    /* Inherited by the allow rule. */
    assert_int_equal(p->rules[0].c.record_input, 0);
    assert_int_equal(p->rules[0].c.audit_required, 0);
    assert_true(p->rules[0].c.idle_timeout_ms == NG_DURATION_NONE);
    assert_string_equal(p->rules[0].c.shell, "/bin/bash");
    ng_policy_free(p);
}

static void test_defaults_when_absent(void **state)
{
    struct ng_policy *p = parse_ok(RULE);
    const struct ng_constraints *c = &p->rules[0].c;
    assert_int_equal(c->audit_required, 1);
    assert_int_equal(c->record_input, 1);
    assert_int_equal(c->seal_interval_ms, 1000);
    assert_int_equal(c->max_session_ms, 8 * 3600 * 1000);
    assert_int_equal(c->idle_timeout_ms, 3600 * 1000);
    assert_true(c->max_output == 1ULL << 30 && c->min_free == 1ULL << 30);
    assert_string_equal(c->shell, "/bin/sh");
    assert_int_equal(c->run_as, NG_RUN_AS_TARGET);
    assert_int_equal(c->caps, NG_CAPS_TARGET);
    assert_int_equal(c->host_access, 0);
    assert_int_equal(c->confinement, NG_CONFINE_TARGET);
    assert_int_equal(c->no_new_privs, 1);
    assert_int_equal(c->join_cgroup, 1);
    assert_int_equal(c->leave_processes, 0);
    assert_int_equal(c->caller_reach_allow, 0); /* caller_reach = deny */
    assert_int_equal(p->rules[0].require_reason, 0);
    assert_int_equal(p->nrules, 1);
    assert_string_equal(p->rules[0].name, "a");
    assert_int_equal(p->rules[0].kind, NG_POLICY_ALLOW);
    assert_int_equal(p->rules[0].line, 1);
    ng_policy_free(p);
}

static void test_duration_forms(void **state)
{
    int64_t ms;
    assert_int_equal(ng_policy_parse_duration("500ms", &ms), 0);
    assert_int_equal(ms, 500);
    assert_int_equal(ng_policy_parse_duration("90s", &ms), 0);
    assert_int_equal(ms, 90000);
    assert_int_equal(ng_policy_parse_duration("15m", &ms), 0);
    assert_int_equal(ms, 900000);
    assert_int_equal(ng_policy_parse_duration("8h", &ms), 0);
    assert_int_equal(ms, 28800000);
    assert_int_equal(ng_policy_parse_duration("2d", &ms), 0);
    assert_int_equal(ms, 172800000);
    assert_int_equal(ng_policy_parse_duration("10", &ms), -EINVAL); /* unit required */
    assert_int_equal(ng_policy_parse_duration("s", &ms), -EINVAL);
    assert_int_equal(ng_policy_parse_duration("1x", &ms), -EINVAL);
    assert_int_equal(ng_policy_parse_duration("1 s", &ms), -EINVAL);
    assert_int_equal(ng_policy_parse_duration("-1s", &ms), -EINVAL);
    assert_int_equal(ng_policy_parse_duration("1S", &ms), -EINVAL);
    assert_int_equal(ng_policy_parse_duration("9223372036854775807d", &ms), -ERANGE);
    assert_int_equal(ng_policy_parse_duration("99999999999999999999999s", &ms), -ERANGE);
    expect_err("[defaults]\nmax_session = 0s\n",
               "t.ini:2: bad value for max_session: '0s' is outside 1ms..");
    expect_err("[defaults]\nidle_timeout = 5\n",
               "t.ini:2: bad value for idle_timeout: want DURATION (500ms 90s 15m 8h 1d) or "
               "none, not '5'");
}

static void test_seal_interval_bounds(void **state)
{
    struct ng_policy *p = parse_ok("[defaults]\nseal_interval = 100ms\n");
    assert_int_equal(p->defaults.seal_interval_ms, 100);
    ng_policy_free(p);
    p = parse_ok("[defaults]\nseal_interval = 60s\n");
    assert_int_equal(p->defaults.seal_interval_ms, 60000);
    ng_policy_free(p);
    expect_err("[defaults]\nseal_interval = 99ms\n",
               "t.ini:2: bad value for seal_interval: '99ms' is outside 100ms..60s");
    expect_err("[defaults]\nseal_interval = 2m\n",
               "t.ini:2: bad value for seal_interval: '2m' is outside 100ms..60s");
    expect_err("[defaults]\nseal_interval = none\n",
               "t.ini:2: bad value for seal_interval: want DURATION (500ms 90s 15m 8h 1d), "
               "not 'none'");
}

static void test_size_forms(void **state)
{
    uint64_t n;
    assert_int_equal(ng_policy_parse_size("512K", &n), 0);
    assert_true(n == 512ULL << 10);
    assert_int_equal(ng_policy_parse_size("3M", &n), 0);
    assert_true(n == 3ULL << 20);
    assert_int_equal(ng_policy_parse_size("2G", &n), 0);
    assert_true(n == 2ULL << 30);
    assert_int_equal(ng_policy_parse_size("2", &n), -EINVAL);
    assert_int_equal(ng_policy_parse_size("2k", &n), -EINVAL);
    assert_int_equal(ng_policy_parse_size("2T", &n), -EINVAL);
    assert_int_equal(ng_policy_parse_size("17179869184G", &n), -ERANGE);
    expect_err("[defaults]\nmax_output = 0K\n",
               "t.ini:2: bad value for max_output: '0K' must be more than zero");
    expect_err("[defaults]\nmin_free = lots\n",
               "t.ini:2: bad value for min_free: want SIZE (512K 100M 1G), not 'lots'");
    struct ng_policy *p = parse_ok("[defaults]\nmin_free = 0M\n");
    assert_true(p->defaults.min_free == 0);
    ng_policy_free(p);
}

static void test_audit_shell_bool(void **state)
{
    expect_err("[defaults]\naudit = maybe\n",
               "t.ini:2: bad value for audit: want required or best-effort, not 'maybe'");
    expect_err("[defaults]\nshell = sh\n",
               "t.ini:2: bad value for shell: want an absolute, normalized path, not 'sh'");
    expect_err("[defaults]\nshell = /bin/../sh\n",
               "t.ini:2: bad value for shell: want an absolute, normalized path, not "
               "'/bin/../sh'");
    expect_err("[defaults]\nrecord_input = Yes\n",
               "t.ini:2: bad value for record_input: want yes or no, not 'Yes'");
    expect_err(RULE "host_access = 1\n",
               "t.ini:5: bad value for host_access: want yes or no, not '1'");
    expect_err(RULE "confinement = off\n",
               "t.ini:5: bad value for confinement: want target or none, not 'off'");
    expect_err(RULE "no_new_privs = true\n",
               "t.ini:5: bad value for no_new_privs: want yes or no, not 'true'");
    expect_err(RULE "join_cgroup = on\n",
               "t.ini:5: bad value for join_cgroup: want yes or no, not 'on'");
    expect_err(RULE "leave_processes = y\n",
               "t.ini:5: bad value for leave_processes: want yes or no, not 'y'");
    expect_err(RULE "require_reason = n\n",
               "t.ini:5: bad value for require_reason: want yes or no, not 'n'");
}

static void test_rule_bools(void **state)
{
    struct ng_policy *p = parse_ok(RULE "host_access = yes\nno_new_privs = no\n"
                                        "join_cgroup = no\nleave_processes = yes\n"
                                        "require_reason = yes\nconfinement = none\n");
    const struct ng_policy_rule *r = &p->rules[0];
    assert_int_equal(r->c.host_access, 1);
    assert_int_equal(r->c.confinement, NG_CONFINE_NONE);
    assert_int_equal(r->c.no_new_privs, 0);
    assert_int_equal(r->c.join_cgroup, 0);
    assert_int_equal(r->c.leave_processes, 1);
    assert_int_equal(r->require_reason, 1);
    ng_policy_free(p);
}

static void test_caller_reach_key(void **state)
{
    struct ng_policy *p = parse_ok("[defaults]\ncaller_reach = allow\n" RULE
                                   "[allow b]\nusers = *\ntargets = *\nnamespaces = net\n"
                                   "caller_reach = deny\n");
    assert_int_equal(p->defaults.caller_reach_allow, 1);
    assert_int_equal(p->rules[0].c.caller_reach_allow, 1); /* from [defaults] */
    assert_int_equal(p->rules[1].c.caller_reach_allow, 0); /* the rule's own */
    ng_policy_free(p);
    expect_err(RULE "caller_reach = yes\n",
               "t.ini:5: bad value for caller_reach: want allow or deny, not 'yes'");
    expect_err("[defaults]\ncaller_reach = Allow\n",
               "t.ini:2: bad value for caller_reach: want allow or deny, not 'Allow'");
}

static void test_review_keys(void **state)
{
    struct ng_policy *p = parse_ok(RULE);
    assert_int_equal(p->review_audit_required, 0); /* best-effort by default */
    assert_int_equal(p->nreviewers, 0);
    ng_policy_free(p);
    p = parse_ok(
        "[defaults]\nreview_audit = required\nreviewers = group:audit, group:sec-ops\n" RULE);
    assert_int_equal(p->review_audit_required, 1);
    assert_int_equal(p->nreviewers, 2);
    assert_string_equal(p->reviewers[0], "audit");
    assert_string_equal(p->reviewers[1], "sec-ops");
    ng_policy_free(p);
    expect_err("[defaults]\nreview_audit = yes\n",
               "t.ini:2: bad value for review_audit: want required or best-effort, not 'yes'");
    expect_err("[defaults]\nreviewers = %audit\n",
               "t.ini:2: bad value for reviewers: want group:NAME, not '%audit'");
    expect_err(RULE "reviewers = group:audit\n",
               "t.ini:5: key 'reviewers' is not allowed in allow rules (only in [defaults])");
}

static void test_users_forms(void **state)
{
    struct ng_policy *p = parse_ok("[allow a]\nusers = alice , #1001,%sre, *, svc$, "
                                   "j.doe@corp\ntargets = *\nnamespaces = net\n");
    const struct ng_policy_rule *r = &p->rules[0];
    assert_int_equal(r->nusers, 6);
    assert_int_equal(r->users[0].kind, NG_POLICY_USER_NAME);
    assert_string_equal(r->users[0].name, "alice");
    assert_int_equal(r->users[0].resolved, 0);
    assert_int_equal(r->users[1].kind, NG_POLICY_USER_UID);
    assert_int_equal(r->users[1].id, 1001);
    assert_int_equal(r->users[1].resolved, 1);
    assert_int_equal(r->users[2].kind, NG_POLICY_USER_GROUP);
    assert_string_equal(r->users[2].name, "sre");
    assert_int_equal(r->users[3].kind, NG_POLICY_USER_ANY);
    assert_string_equal(r->users[4].name, "svc$");
    assert_string_equal(r->users[5].name, "j.doe@corp");
    ng_policy_free(p);
    expect_err("[allow a]\nusers = #4294967295\n",
               "t.ini:2: bad value for users: '#4294967295' is not a valid #UID");
    expect_err("[allow a]\nusers = #-1\n",
               "t.ini:2: bad value for users: '#-1' is not a valid #UID");
    expect_err("[allow a]\nusers = %\n",
               "t.ini:2: bad value for users: '%' is not a valid user, #UID, %GROUP or *");
    expect_err("[allow a]\nusers = -rf\n",
               "t.ini:2: bad value for users: '-rf' is not a valid user, #UID, %GROUP or *");
    expect_err("[allow a]\nusers = a b\n",
               "t.ini:2: bad value for users: 'a b' is not a valid user, #UID, %GROUP or *");
    expect_err("[allow a]\nusers = alice,,bob\n",
               "t.ini:2: bad value for users: empty item in list");
    expect_err("[allow a]\nusers = alice,\n", "t.ini:2: bad value for users: empty item in list");
}

static void test_targets_forms(void **state)
{
    struct ng_policy *p = parse_ok("[allow a]\nusers = *\ntargets = container:ab*, cgroup:/k/*,"
                                   " exe:/usr/bin/x, comm:ngin?, uid:0, pid:1, name:web-*,"
                                   " pod:payments/*, *\n"
                                   "namespaces = net\n");
    const struct ng_policy_rule *r = &p->rules[0];
    assert_int_equal(r->ntargets, 9);
    static const enum ng_attr want[] = {NG_ATTR_CONTAINER, NG_ATTR_CGROUP, NG_ATTR_EXE,
                                        NG_ATTR_COMM,      NG_ATTR_UID,    NG_ATTR_PID,
                                        NG_ATTR_NAME,      NG_ATTR_POD};
    for (size_t i = 0; i < 8; i++) {
        assert_int_equal(r->targets[i].attr, want[i]);
        assert_int_equal(r->targets[i].any, 0);
    }
    assert_string_equal(r->targets[1].glob, "/k/*");
    assert_string_equal(r->targets[7].glob, "payments/*");
    assert_int_equal(r->targets[8].any, 1);
    ng_policy_free(p);
    expect_err("[allow a]\ntargets = image:x\n",
               "t.ini:2: bad value for targets: unknown attribute 'image' (container name pod "
               "cgroup uid pid exe comm)");
    expect_err("[allow a]\ntargets = container:\n",
               "t.ini:2: bad value for targets: empty glob in 'container:'");
    expect_err("[allow a]\ntargets = abc\n",
               "t.ini:2: bad value for targets: 'abc' is not ATTR:GLOB or *");
    expect_err("[allow a]\ntargets = :x\n",
               "t.ini:2: bad value for targets: ':x' is not ATTR:GLOB or *");
}

static void test_namespaces_forms(void **state)
{
    struct ng_policy *p = parse_ok("[allow a]\nusers = *\ntargets = *\n"
                                   "namespaces = mnt, uts, ipc, net, pid, user, cgroup, time\n"
                                   "[allow b]\nusers = *\ntargets = *\nnamespaces = all\n"
                                   "[deny c]\nusers = *\ntargets = *\n");
    assert_int_equal(p->rules[0].namespaces, NG_NSSET_ALL);
    assert_int_equal(p->rules[1].namespaces, NG_NSSET_ALL);
    assert_int_equal(p->rules[1].has_namespaces, 1);
    assert_int_equal(p->rules[2].has_namespaces, 0);
    assert_int_equal(p->rules[2].kind, NG_POLICY_DENY);
    ng_policy_free(p);
    expect_err("[allow a]\nnamespaces = network\n",
               "t.ini:2: bad value for namespaces: unknown namespace 'network' (mnt uts ipc net "
               "pid user cgroup time)");
    expect_err("[allow a]\nnamespaces = net, all\n",
               "t.ini:2: bad value for namespaces: 'all' must stand alone");
    expect_err("[allow a]\nnamespaces = net, net\n",
               "t.ini:2: bad value for namespaces: namespace 'net' listed twice");
}

static void test_commands_forms(void **state)
{
    struct ng_policy *p = parse_ok(RULE "commands = /usr/sbin/ip, /bin/ss\n");
    assert_int_equal(p->rules[0].ncommands, 2);
    assert_string_equal(p->rules[0].commands[1], "/bin/ss");
    ng_policy_free(p);
    expect_err(RULE "commands = ip\n",
               "t.ini:5: bad value for commands: 'ip' is not an absolute, normalized path");
    expect_err(RULE "commands = /usr/./ip\n",
               "t.ini:5: bad value for commands: '/usr/./ip' is not an absolute, normalized path");
    expect_err(RULE "commands = /usr//ip\n",
               "t.ini:5: bad value for commands: '/usr//ip' is not an absolute, normalized path");
    expect_err(RULE "commands = /a, /a\n", "t.ini:5: bad value for commands: '/a' listed twice");
}

static void test_run_as_forms(void **state)
{
    static const struct {
        const char *v;
        enum ng_run_as kind;
        uint32_t uid, gid;
        int has_gid;
    } cases[] = {
        {"target", NG_RUN_AS_TARGET, 0, 0, 0},           {"root", NG_RUN_AS_ROOT, 0, 0, 0},
        {"caller", NG_RUN_AS_CALLER, 0, 0, 0},           {"1000", NG_RUN_AS_IDS, 1000, 0, 0},
        {"65534:65533", NG_RUN_AS_IDS, 65534, 65533, 1}, {"0:0", NG_RUN_AS_IDS, 0, 0, 1}};
    char text[256];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(text, sizeof(text), RULE "run_as = %s\n", cases[i].v);
        struct ng_policy *p = parse_ok(text);
        const struct ng_constraints *c = &p->rules[0].c;
        assert_int_equal(c->run_as, cases[i].kind);
        if (cases[i].kind == NG_RUN_AS_IDS) {
            assert_int_equal(c->uid, cases[i].uid);
            assert_int_equal(c->has_gid, cases[i].has_gid);
            if (c->has_gid)
                assert_int_equal(c->gid, cases[i].gid);
        }
        ng_policy_free(p);
    }
    expect_err(RULE "run_as = 4294967295\n",
               "t.ini:5: bad value for run_as: want target, root, caller or UID[:GID], not "
               "'4294967295'");
    expect_err(RULE "run_as = 1:\n",
               "t.ini:5: bad value for run_as: want target, root, caller or UID[:GID], not '1:'");
    expect_err(RULE "run_as = :1\n",
               "t.ini:5: bad value for run_as: want target, root, caller or UID[:GID], not ':1'");
    expect_err(RULE "run_as = nobody\n",
               "t.ini:5: bad value for run_as: want target, root, caller or UID[:GID], not "
               "'nobody'");
}

static void test_capabilities_forms(void **state)
{
    static const struct {
        const char *v;
        enum ng_caps kind;
    } words[] = {{"target", NG_CAPS_TARGET}, {"none", NG_CAPS_NONE}, {"keep", NG_CAPS_KEEP}};
    char text[256];
    for (size_t i = 0; i < 3; i++) {
        snprintf(text, sizeof(text), RULE "capabilities = %s\n", words[i].v);
        struct ng_policy *p = parse_ok(text);
        assert_int_equal(p->rules[0].c.caps, words[i].kind);
        ng_policy_free(p);
    }
    struct ng_policy *p = parse_ok(RULE "capabilities = net_admin, cap_net_raw, chown, "
                                        "checkpoint_restore\n");
    assert_int_equal(p->rules[0].c.caps, NG_CAPS_LIST);
    assert_true(p->rules[0].c.cap_list ==
                ((1ULL << 12) | (1ULL << 13) | (1ULL << 0) | (1ULL << 40)));
    ng_policy_free(p);
    assert_int_equal(ng_policy_cap_from_name("sys_admin"), 21);
    assert_int_equal(ng_policy_cap_from_name("cap_bpf"), 39);
    assert_int_equal(ng_policy_cap_from_name("CAP_BPF"), -1);
    assert_string_equal(ng_policy_cap_name(13), "net_raw");
    expect_err(RULE "capabilities = net_admin, sys_everything\n",
               "t.ini:5: bad value for capabilities: unknown capability 'sys_everything' "
               "(target, none, keep, or names like net_admin)");
    expect_err(RULE "capabilities = net_admin, cap_net_admin\n",
               "t.ini:5: bad value for capabilities: capability 'cap_net_admin' listed twice");
    expect_err(RULE "capabilities = none, net_raw\n",
               "t.ini:5: bad value for capabilities: unknown capability 'none' (target, none, "
               "keep, or names like net_admin)");
}

static void test_reason_pattern(void **state)
{
    struct ng_policy *p = parse_ok(RULE "reason_pattern = ^INC-[0-9]+$\nrequire_reason = no\n");
    assert_string_equal(p->rules[0].reason_pattern, "^INC-[0-9]+$");
    assert_int_equal(p->rules[0].require_reason, 1); /* implied, "no" does not undo it */
    ng_policy_free(p);
    expect_err(RULE "reason_pattern = ([a-\n",
               "t.ini:5: bad value for reason_pattern: not a POSIX extended regex: Unmatched "
               "[, [^, [:, [., or [=");
}

static void test_setenv(void **state)
{
    struct ng_policy *p = parse_ok(RULE "setenv = A=1, B_2=x=y, EMPTY=\n");
    const struct ng_policy_rule *r = &p->rules[0];
    assert_int_equal(r->nsetenv, 3);
    assert_string_equal(r->setenv[1], "B_2=x=y");
    assert_int_equal(r->c.nsetenv, 3);
    assert_ptr_equal(r->c.setenv[2], r->setenv[2]);
    ng_policy_free(p);
    expect_err(RULE "setenv = LD_PRELOAD=/x.so\n",
               "t.ini:5: bad value for setenv: variable 'LD_PRELOAD' may not be set (LD_* and "
               "NSGATE_* are refused)");
    expect_err(RULE "setenv = NSGATE_DB=/x\n",
               "t.ini:5: bad value for setenv: variable 'NSGATE_DB' may not be set (LD_* and "
               "NSGATE_* are refused)");
    expect_err(RULE "setenv = A\n", "t.ini:5: bad value for setenv: 'A' is not NAME=VALUE");
    expect_err(RULE "setenv = =1\n", "t.ini:5: bad value for setenv: '=1' is not NAME=VALUE");
    expect_err(RULE "setenv = 1A=1\n", "t.ini:5: bad value for setenv: '1A=1' is not NAME=VALUE");
    expect_err(RULE "setenv = A-B=1\n",
               "t.ini:5: bad value for setenv: 'A-B' is not a valid variable name");
    expect_err(RULE "setenv = A=1, A=2\n", "t.ini:5: bad value for setenv: variable 'A' set twice");
}

static void test_rule_overrides(void **state)
{
    /* [defaults] after the rules still applies to them. */
    struct ng_policy *p = parse_ok(RULE "record_input = no\nmax_session = 30m\n"
                                        "idle_timeout = none\nmax_output = 1M\n"
                                        "[allow b]\nusers = *\ntargets = *\nnamespaces = pid\n"
                                        "[defaults]\nmax_session = 4h\nmax_output = 2G\n"
                                        "record_input = yes\nidle_timeout = 10m\n");
    const struct ng_constraints *a = &p->rules[0].c, *b = &p->rules[1].c;
    assert_int_equal(a->record_input, 0);
    assert_int_equal(a->max_session_ms, 30 * 60000);
    assert_true(a->idle_timeout_ms == NG_DURATION_NONE);
    assert_true(a->max_output == 1ULL << 20);
    assert_int_equal(b->record_input, 1);
    assert_int_equal(b->max_session_ms, 4 * 3600000);
    assert_int_equal(b->idle_timeout_ms, 10 * 60000);
    assert_true(b->max_output == 2ULL << 30);
    ng_policy_free(p);
}

static void test_comments_and_blanks(void **state)
{
    struct ng_policy *p = parse_ok("# c\n; c\n   # indented\n\t; tab\n\n   \n"
                                   "  [allow  x.y-z_1 ]  \n\tusers\t=\t*\t\n targets=* \n"
                                   "namespaces =net\n");
    assert_string_equal(p->rules[0].name, "x.y-z_1");
    assert_int_equal(p->rules[0].line, 7);
    ng_policy_free(p);
    /* No inline comments: the comment becomes part of the value. */
    expect_err(RULE "host_access = yes # why\n",
               "t.ini:5: bad value for host_access: want yes or no, not 'yes # why'");
    /* A file without a final newline. */
    p = parse_ok("[allow a]\nusers = *\ntargets = *\nnamespaces = net");
    ng_policy_free(p);
    p = parse_ok("");
    assert_int_equal(p->nrules, 0);
    ng_policy_free(p);
}

static void test_structure_errors(void **state)
{
    expect_err("users = *\n", "t.ini:1: key 'users' outside a section");
    expect_err(
        "[permit a]\n",
        "t.ini:1: unknown section kind 'permit' (want [defaults], [allow NAME], [deny NAME])");
    expect_err(
        "[defaults x]\n",
        "t.ini:1: unknown section kind 'defaults' (want [defaults], [allow NAME], [deny NAME])");
    expect_err("[allow a\n", "t.ini:1: section header must end with ']'");
    expect_err("[allow]\n", "t.ini:1: bad rule name '' (1 to 64 of A-Z a-z 0-9 _ . -)");
    expect_err("[allow a/b]\n", "t.ini:1: bad rule name 'a/b' (1 to 64 of A-Z a-z 0-9 _ . -)");
    expect_err("[allow a b]\n", "t.ini:1: bad rule name 'a b' (1 to 64 of A-Z a-z 0-9 _ . -)");
    expect_err("[allow "
               "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]\n",
               "t.ini:1: bad rule name "
               "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' (1 to 64 of "
               "A-Z a-z 0-9 _ . -)");
    struct ng_policy *p =
        parse_ok("[allow "
                 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]\n"
                 "users = *\ntargets = *\nnamespaces = net\n");
    ng_policy_free(p);
    expect_err(RULE "[deny a]\nusers = *\ntargets = *\n",
               "t.ini:5: duplicate rule name 'a' (first at line 1)");
    expect_err("[defaults]\n[defaults]\n", "t.ini:2: [defaults] given twice (first at line 1)");
    expect_err(RULE "colour = red\n", "t.ini:5: unknown key 'colour'");
    expect_err(RULE "users = *\n", "t.ini:5: key 'users' given twice in this section (first at "
                                   "line 2)");
    expect_err(RULE "just words\n", "t.ini:5: expected 'key = value', a [section] or a comment");
    expect_err(RULE "= x\n", "t.ini:5: unknown key ''");
    expect_err(RULE "commands =\n", "t.ini:5: commands: empty value");
}

static void test_missing_required(void **state)
{
    expect_err("[allow a]\ntargets = *\nnamespaces = net\n",
               "t.ini:1: [allow a]: missing required key 'users'");
    expect_err("[allow a]\nusers = *\nnamespaces = net\n",
               "t.ini:1: [allow a]: missing required key 'targets'");
    expect_err("[allow a]\nusers = *\ntargets = *\n[deny b]\nusers = *\n",
               "t.ini:1: [allow a]: missing required key 'namespaces'");
    expect_err("[allow a]\nusers = *\ntargets = *\n[deny b]\nusers = *\n",
               "t.ini:4: [deny b]: missing required key 'targets'");
    /* A deny rule needs no namespaces. */
    struct ng_policy *p = parse_ok("[deny b]\nusers = *\ntargets = *\n");
    ng_policy_free(p);
}

static void test_keys_in_wrong_section(void **state)
{
    static const char *const allow_only[] = {
        "run_as = root",     "capabilities = none",  "host_access = yes",    "no_new_privs = yes",
        "join_cgroup = yes", "leave_processes = no", "require_reason = yes", "reason_pattern = x",
        "setenv = A=1",      "confinement = none"};
    expect_err("[deny d]\nusers = *\ntargets = *\ncaller_reach = allow\n",
               "t.ini:4: key 'caller_reach' is not allowed in deny rules (only in [defaults] and "
               "allow rules)");
    char text[256], want[256];
    for (size_t i = 0; i < sizeof(allow_only) / sizeof(allow_only[0]); i++) {
        snprintf(text, sizeof(text), "[deny d]\nusers = *\ntargets = *\n%s\n", allow_only[i]);
        snprintf(want, sizeof(want),
                 "t.ini:4: key '%.*s' is not allowed in deny rules (only in allow rules)",
                 (int)strcspn(allow_only[i], " "), allow_only[i]);
        expect_err(text, want);
    }
    expect_err("[deny d]\nusers = *\ntargets = *\nmax_session = 1h\n",
               "t.ini:4: key 'max_session' is not allowed in deny rules (only in [defaults] and "
               "allow rules)");
    expect_err("[deny d]\nusers = *\ntargets = *\nrecord_input = no\n",
               "t.ini:4: key 'record_input' is not allowed in deny rules (only in [defaults] "
               "and allow rules)");
    /* like host_access, only a rule can say none: never [defaults] */
    expect_err("[defaults]\nconfinement = none\n",
               "t.ini:2: key 'confinement' is not allowed in [defaults] (only in allow rules)");
    expect_err(RULE "shell = /bin/sh\n",
               "t.ini:5: key 'shell' is not allowed in allow rules (only in [defaults])");
    expect_err(RULE "seal_interval = 1s\n",
               "t.ini:5: key 'seal_interval' is not allowed in allow rules (only in [defaults])");
    expect_err(RULE "audit = required\n",
               "t.ini:5: key 'audit' is not allowed in allow rules (only in [defaults])");
    expect_err(RULE "min_free = 1G\n",
               "t.ini:5: key 'min_free' is not allowed in allow rules (only in [defaults])");
    expect_err("[defaults]\nusers = *\n",
               "t.ini:2: key 'users' is not allowed in [defaults] (only in allow rules)");
    expect_err("[defaults]\nrun_as = root\n",
               "t.ini:2: key 'run_as' is not allowed in [defaults] (only in allow rules)");
}

static void test_nul_and_long_lines(void **state)
{
    static const char nul[] = "[allow a]\nusers = *\0\ntargets = *\nnamespaces = net\n";
    expect_err_len(nul, sizeof(nul) - 1, "t.ini:2:10: control character 0x00 (NUL) is not allowed");

    /* Exactly 4096 bytes is fine; 4097 is an error (the newline not counted). */
    char *buf = malloc(8192);
    assert_non_null(buf);
    int head = snprintf(buf, 8192, "[allow a]\nusers = *\nnamespaces = net\ntargets = comm:");
    memset(buf + head, 'x', 4096 - (sizeof("targets = comm:") - 1));
    size_t len = (size_t)head + 4096 - (sizeof("targets = comm:") - 1);
    buf[len++] = '\n';
    struct ng_policy *p = NULL;
    struct ng_policy_msgs e = {0};
    assert_int_equal(ng_policy_parse(buf, len, "t.ini", &p, &e), 0);
    ng_policy_free(p);
    buf[len - 1] = 'x';
    buf[len++] = '\n';
    expect_err_len(buf, len, "t.ini:4: line longer than 4096 bytes");
    free(buf);
}

static void test_all_errors_collected(void **state)
{
    static const char text[] = "x = 1\n[allow a]\nusers = #x\ntargets = bad\nnamespaces = "
                               "nope\n[allow a]\n[bogus]\nafter = bogus is not reported\n";
    struct ng_policy *p = NULL;
    struct ng_policy_msgs e = {0};
    assert_int_equal(ng_policy_parse(text, strlen(text), "t.ini", &p, &e), -EINVAL);
    assert_null(p);
    assert_int_equal(e.n, 6);
    assert_string_equal(e.v[0], "t.ini:1: key 'x' outside a section");
    assert_string_equal(e.v[1], "t.ini:3: bad value for users: '#x' is not a valid #UID");
    assert_string_equal(e.v[5], "t.ini:7: unknown section kind 'bogus' (want [defaults], "
                                "[allow NAME], [deny NAME])");
    ng_policy_msgs_free(&e);

    /* Bounded: a hostile file cannot grow the list without bound. */
    size_t n = 1100 * 6;
    char *many = malloc(n);
    assert_non_null(many);
    for (size_t i = 0; i < 1100; i++)
        memcpy(many + i * 6, "x = 1\n", 6);
    assert_int_equal(ng_policy_parse(many, n, "t.ini", &p, &e), -EINVAL);
    assert_int_equal(e.n, NG_POLICY_MAX_ERRORS);
    assert_int_equal(e.dropped, 100);
    ng_policy_msgs_free(&e);
    free(many);
}

static void test_resolve(void **state)
{
    struct ng_policy *p = parse_ok("[allow a]\nusers = alice, ghost, %sre, %nogroup, #7, *\n"
                                   "targets = *\nnamespaces = net\n"
                                   "[deny d]\nusers = bob, %ops, root\ntargets = *\n");
    struct ng_policy_msgs e = {0}, w = {0};
    assert_int_equal(ng_policy_resolve(p, &fake_userdb, &e, &w), 0);
    assert_int_equal(e.n, 0);
    assert_int_equal(w.n, 2);
    assert_string_equal(w.v[0], "t.ini:1: [allow a]: unknown user 'ghost' never matches");
    assert_string_equal(w.v[1], "t.ini:1: [allow a]: unknown group '%nogroup' never matches");
    const struct ng_policy_rule *a = &p->rules[0];
    assert_true(a->users[0].resolved && a->users[0].id == 1000);
    assert_false(a->users[1].resolved);
    assert_true(a->users[2].resolved && a->users[2].id == 2000);
    assert_false(a->users[3].resolved);
    assert_true(p->rules[1].users[1].id == 2001 && p->rules[1].users[2].id == 0);
    ng_policy_msgs_free(&w);
    ng_policy_free(p);

    p = parse_ok("[deny d]\nusers = ghost, %nogroup\ntargets = *\n");
    assert_int_equal(ng_policy_resolve(p, &fake_userdb, &e, &w), -EINVAL);
    assert_int_equal(e.n, 2);
    assert_string_equal(e.v[0], "t.ini:1: [deny d]: unknown user 'ghost' (a deny rule that "
                                "cannot match would fail open)");
    assert_string_equal(e.v[1], "t.ini:1: [deny d]: unknown group '%nogroup' (a deny rule "
                                "that cannot match would fail open)");
    ng_policy_msgs_free(&e);
    ng_policy_free(p);

    /* A failing database is an error even in an allow rule. */
    p = parse_ok("[allow a]\nusers = dbfail\ntargets = *\nnamespaces = net\n");
    assert_int_equal(ng_policy_resolve(p, &fake_userdb, &e, &w), -EINVAL);
    assert_int_equal(e.n, 1);
    assert_string_equal(e.v[0], "t.ini:1: [allow a]: cannot look up user 'dbfail': "
                                "Input/output error");
    ng_policy_msgs_free(&e);
    ng_policy_msgs_free(&w);
    ng_policy_free(p);
}

static void test_lint(void **state)
{
    struct ng_policy *p = parse_ok("[allow weak]\nusers = *\ntargets = comm:x, exe:/y, uid:0\n"
                                   "namespaces = net\n"
                                   "[allow strong]\nusers = *\ntargets = comm:x, pid:1\n"
                                   "namespaces = net\n"
                                   "[deny cmd]\nusers = *\ntargets = *\ncommands = /bin/sh\n");
    struct ng_policy_msgs w = {0};
    assert_int_equal(ng_policy_lint(p, &w), 0);
    assert_int_equal(w.n, 2);
    assert_non_null(strstr(w.v[0], "t.ini:1: [allow weak]: targets rely only on weak"));
    assert_non_null(strstr(w.v[1], "t.ini:9: [deny cmd]: a deny by command is advisory"));
    ng_policy_msgs_free(&w);
    ng_policy_free(p);
}

static void test_policy_example_parses(void **state)
{
    /* CI parses the shipped example (policy.md). */
    char path[4096], *buf = NULL;
    const char *slash = strrchr(__FILE__, '/'); /* CMake compiles with absolute paths */
    assert_non_null(slash);
    snprintf(path, sizeof(path), "%.*s/../../policy.example", (int)(slash - __FILE__), __FILE__);
    FILE *f = fopen(path, "re");
    assert_non_null(f);
    buf = malloc(NG_POLICY_FILE_MAX);
    assert_non_null(buf);
    size_t n = fread(buf, 1, NG_POLICY_FILE_MAX, f);
    fclose(f);
    struct ng_policy *p = NULL;
    struct ng_policy_msgs e = {0}, w = {0};
    int r = ng_policy_parse(buf, n, "policy.example", &p, &e);
    for (size_t i = 0; i < e.n; i++)
        fprintf(stderr, "%s\n", e.v[i]);
    assert_int_equal(r, 0);
    /* Deny rules use only names that exist everywhere; allow rules may name
     * groups this host lacks (a warning). */
    assert_int_equal(ng_policy_resolve(p, &fake_userdb, &e, &w), 0);
    assert_int_equal(ng_policy_resolve(p, &ng_policy_userdb_system, &e, &w), 0);
    assert_int_equal(e.n, 0);
    assert_true(p->nrules >= 6);
    ng_policy_msgs_free(&w);
    ng_policy_free(p);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_every_key),
        cmocka_unit_test(test_defaults_when_absent),
        cmocka_unit_test(test_duration_forms),
        cmocka_unit_test(test_seal_interval_bounds),
        cmocka_unit_test(test_size_forms),
        cmocka_unit_test(test_audit_shell_bool),
        cmocka_unit_test(test_rule_bools),
        cmocka_unit_test(test_users_forms),
        cmocka_unit_test(test_targets_forms),
        cmocka_unit_test(test_namespaces_forms),
        cmocka_unit_test(test_commands_forms),
        cmocka_unit_test(test_run_as_forms),
        cmocka_unit_test(test_capabilities_forms),
        cmocka_unit_test(test_reason_pattern),
        cmocka_unit_test(test_setenv),
        cmocka_unit_test(test_rule_overrides),
        cmocka_unit_test(test_comments_and_blanks),
        cmocka_unit_test(test_structure_errors),
        cmocka_unit_test(test_missing_required),
        cmocka_unit_test(test_keys_in_wrong_section),
        cmocka_unit_test(test_caller_reach_key),
        cmocka_unit_test(test_review_keys),
        cmocka_unit_test(test_nul_and_long_lines),
        cmocka_unit_test(test_all_errors_collected),
        cmocka_unit_test(test_resolve),
        cmocka_unit_test(test_lint),
        cmocka_unit_test(test_policy_example_parses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
