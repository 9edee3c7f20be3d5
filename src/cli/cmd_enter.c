/* nsgate enter, up to the decision (docs/architecture.md). Refusals in the
 * order of cli.md: usage (64), root-only option (77), policy file (78),
 * target (69), empty request (64), audit (75), decision (77). What follows
 * an allow is in cmd_enter_run.c. */
#include "cmd_enter_int.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void close_pair(int p[2])
{
    ng_closep(&p[0]);
    ng_closep(&p[1]);
}

static void session_cleanup(struct session *s)
{
    /* A session refused after its cgroup was made (store, keys, space):
     * nothing may be left in it, and the group goes. No-op after run(). */
    if (s->cg.dir_fd >= 0)
        (void)ng_cgroup_session_kill(&s->cg, 2000);
    close_pair(s->in);
    close_pair(s->out);
    close_pair(s->err);
    close_pair(s->errp);
    close_pair(s->statp);
    close_pair(s->gop);
    ng_cmd_enter_cmds_cleanup(s);
    ng_cmd_enter_control_close(s);
    ng_closep(&s->sigfd);
    ng_closep(&s->host_proc_fd);
    ng_closep(&s->root_fd);
    ng_closep(&s->cwd_fd);
    ng_closep(&s->out_priv);
    ng_closep(&s->err_priv);
    ng_env_free(&s->env);
    ng_confine_free(&s->confine);
    ng_tty_close(&s->tty);
    ng_request_close(&s->rq);
    ng_audit_close(&s->audit);
    if (s->rec_ok)
        ng_recorder_free(&s->rec);
    ng_store_session_free(s->sess);
    ng_sealer_close(s->sealer);
    ng_store_close(s->store);
    if (s->have_dec)
        ng_policy_decision_free(&s->dec);
    ng_policy_free(s->policy);
    free(s->policy_buf);
}

static void print_msgs(const struct ng_policy_msgs *m, int warning)
{
    for (size_t i = 0; i < m->n; i++) {
        if (warning)
            ng_warn("%s", m->v[i]);
        else
            fprintf(stderr, "%s\n", m->v[i]);
    }
}

/* Load, parse and resolve the policy: any problem denies everything (78). */
static int load_policy(struct session *s)
{
    struct ng_policy_msgs errs = {0}, warns = {0};
    const char *why = NULL;
    size_t len = 0;

    int r = ng_policy_load(s->policy_path, 0, &s->policy_buf, &len, &why);
    if (r < 0) {
        if (why)
            ng_err("policy %s %s; nothing is allowed until it is fixed", s->policy_path, why);
        else if (r == -ELOOP)
            ng_err("policy %s is a symbolic link; refused", s->policy_path);
        else
            ng_err("cannot read policy %s: %s", s->policy_path, strerror(-r));
        return NG_EXIT_POLICY;
    }
    r = ng_policy_parse(s->policy_buf, len, s->policy_path, &s->policy, &errs);
    if (r == 0)
        r = ng_policy_resolve(s->policy, &ng_policy_userdb_system, &errs, &warns);
    if (r == 0) /* the escrow key files are part of the policy: the same checks, 78 */
        r = ng_policy_load_escrow(s->policy, 0, &errs, &warns);
    print_msgs(&errs, 0);
    ng_policy_msgs_free(&errs);
    ng_policy_msgs_free(&warns); /* check shows these; enter stays quiet */
    if (r < 0) {
        ng_err("policy %s is invalid; nothing is allowed until it is fixed", s->policy_path);
        return NG_EXIT_POLICY;
    }
    return 0;
}

static int open_target(struct session *s)
{
    struct ng_target_query q = {.pid = s->o.target_pid,
                                .container = s->o.container,
                                .pod = s->o.pod,
                                .state_root = ng_cmd_state_root(s->caller)};
    int r = ng_cmd_open_target(&s->rq, &q);

    if (r)
        return r;
    if (ng_request_namespaces(&s->rq, s->o.ns, s->o.all_ns) < 0) {
        ng_err("nothing to enter: the target shares every requested namespace with nsgate");
        return NG_EXIT_USAGE;
    }
    return 0;
}

/* audit.md "Failure": under audit = required the trail must be writable
 * before anything is decided or entered (75); best-effort warns. */
static int audit_gate(struct session *s)
{
    const char *why = NULL;
    struct passwd pw, *res = NULL;
    char buf[4096];

    s->audit_required = s->policy->defaults.audit_required;
    int opened = ng_audit_open(&s->audit); /* a failure is reported by the check */
    (void)opened;
    int r = ng_audit_check(&s->audit, s->audit_required, &why);
    if (r < 0) {
        ng_err("the audit trail is unavailable (%s); audit = required refuses every session: "
               "retry once auditd runs",
               why ? why : strerror(-r));
        return NG_EXIT_AUDIT;
    }
    s->audit_ok = why == NULL;
    if (why)
        ng_warn("the audit trail is unavailable (%s); continuing (audit = best-effort)", why);
    /* The host's user database, in the host namespaces (no NSS inside). */
    if (getpwuid_r(s->caller->uid, &pw, buf, sizeof(buf), &res) == 0 && res)
        snprintf(s->acct, sizeof(s->acct), "%s", pw.pw_name);
    else
        snprintf(s->acct, sizeof(s->acct), "#%u", (unsigned)s->caller->uid);
    ng_nsset_format(s->rq.ns, s->nslist, sizeof(s->nslist));
    return 0;
}

/* USER_ACCT for every decision, before any setns. */
static int audit_decision(struct session *s)
{
    struct ng_audit_authz e = {
        .acct = s->acct,
        .rule = s->dec.rule_index < 0 ? NULL : s->dec.rule_name,
        .opid = s->rq.t.pid,
        .ns = s->nslist,
        .uuid = s->dec.allow ? s->id_text : NULL,
        .allowed = s->dec.allow,
    };
    int r = s->audit_ok ? ng_audit_log_authz(&s->audit, &e) : -ENOLINK;
    if (r < 0 && s->audit_required) {
        ng_err("cannot write the decision to the audit trail: %s", strerror(-r));
        return NG_EXIT_AUDIT;
    }
    if (r < 0 && s->audit_ok)
        ng_warn("cannot write the decision to the audit trail: %s", strerror(-r));
    return 0;
}

/* A bare PROGRAM becomes the absolute path the policy matches and execve
 * runs; argv[0] is that path too, so the record names what ran. */
static int resolve_program(struct session *s)
{
    if (!s->o.argv || !ng_program_bare(s->o.argv[0]))
        return 0;
    int r = ng_request_resolve_program(&s->rq, s->o.argv[0], s->program, sizeof(s->program));
    if (r == -ENOENT)
        return ng_err("%s: not found in PATH (%s) in the %s filesystem", s->o.argv[0],
                      NG_PROGRAM_PATH, (s->rq.ns & (1u << NG_NS_MNT)) ? "target's" : "host's"),
               NG_EXIT_NOT_FOUND;
    if (r == -ESRCH)
        return ng_err("target %d is gone", (int)s->rq.t.pid), NG_EXIT_TARGET;
    if (r < 0)
        return ng_err("cannot resolve %s in PATH: %s", s->o.argv[0], strerror(-r)),
               NG_EXIT_INTERNAL;
    s->o.argv[0] = s->program;
    return 0;
}

/* An allow rule that matched but for caller reach: say so, since the
 * remedy (caller_reach = allow, or another run_as) is not obvious. */
static void explain_reach(const struct session *s)
{
    for (size_t i = 0; i < s->dec.nresults; i++) {
        const struct ng_policy_rule_result *res = &s->dec.results[i];
        if (res->rule->kind == NG_POLICY_ALLOW && strncmp(res->why, "caller reach: ", 14) == 0) {
            ng_err("rule %s would allow it, but the session could not be kept out of the "
                   "reach of the caller's other processes: %s",
                   res->rule->name, res->why + 14);
            return;
        }
    }
}

static int decide(struct session *s)
{
    const struct ng_caller *cl = s->caller;
    int r;

    if ((r = resolve_program(s)) != 0)
        return r;
    ng_request_set_caller(&s->rq, cl->uid, cl->gid, cl->groups, cl->ngroups);
    ng_request_fill(&s->rq, s->o.argv ? s->o.argv[0] : NULL, s->o.reason);
    r = ng_policy_decide(s->policy, &s->rq.pr, &s->dec);
    s->have_dec = 1;
    if (r < 0)
        return ng_err("cannot evaluate the policy: %s", strerror(-r)), NG_EXIT_DENIED;
    if (ng_uuid_new(s->id) < 0)
        return ng_err("cannot initialise libsodium"), NG_EXIT_INTERNAL;
    ng_uuid_format(s->id, s->id_text);
    if ((r = audit_decision(s)) != 0)
        return r;
    if (!s->dec.allow) {
        if (s->dec.rule_index < 0)
            explain_reach(s);
        if (s->dec.rule_index < 0)
            ng_err("denied: no rule allows this request (default deny); "
                   "nsgate check explains the decision");
        else
            ng_err("denied by policy rule %s; nsgate check explains the decision",
                   s->dec.rule_name);
        return NG_EXIT_DENIED;
    }
    s->c = &s->dec.c;
    return 0;
}

/* The bytes the store keeps of the command line: each argument and a NUL. */
static size_t argv_bytes(char *const *argv)
{
    size_t n = 0;

    for (size_t i = 0; argv && argv[i]; i++)
        n += strlen(argv[i]) + 1;
    return n;
}

static int setup(struct session *s, int argc, char **argv)
{
    char err[512];
    const char *env_policy = getenv("NSGATE_POLICY"); /* kept for real root only */

    if (ng_opts_parse_enter(argc, argv, &s->o, err, sizeof(err)) < 0)
        return ng_err("%s", err), NG_EXIT_USAGE;
    if (s->o.help)
        return fputs(ng_enter_usage, stdout), -1;
    /* cli.md: a malformed request is a usage error before anything is read. */
    if (s->o.reason && !ng_policy_valid_reason(s->o.reason))
        return ng_err("-r: the reason must be 1 to 512 bytes of printable UTF-8"), NG_EXIT_USAGE;
    /* A session whose header cannot be stored whole is never started
     * (nothing is cut from the recorded argv). */
    size_t cmd = argv_bytes(s->o.argv);
    if (cmd > NG_STORE_EVENT_MAX)
        return ng_err("the command line is %zu bytes (with a NUL after each argument); at most "
                      "%d are recorded",
                      cmd, NG_STORE_EVENT_MAX),
               NG_EXIT_USAGE;
    if (s->caller->uid != 0 && (s->o.policy_path || s->o.db_path || s->o.keys_dir))
        return ng_err("--policy, --db and --keys are for root only"), NG_EXIT_DENIED;
    int root = s->caller->uid == 0; /* NSGATE_* are kept for real root only anyway */
    const char *env_db = getenv("NSGATE_DB"), *env_keys = getenv("NSGATE_KEYS");
    s->policy_path = s->o.policy_path     ? s->o.policy_path
                     : env_policy && root ? env_policy
                                          : NSGATE_SYSCONFDIR "/policy.ini";
    s->db_path = s->o.db_path     ? s->o.db_path
                 : env_db && root ? env_db
                                  : NSGATE_STATEDIR "/sessions.db";
    s->keys_dir = s->o.keys_dir      ? s->o.keys_dir
                  : env_keys && root ? env_keys
                                     : NSGATE_STATEDIR "/keys";
    s->use_pty = s->o.pty == NG_PTY_FORCE || (s->o.pty == NG_PTY_AUTO && isatty(0) && isatty(1));
    /* As early as possible, and before the first setns: out of the caller's
     * cgroup (which the caller may freeze or limit) into our own. */
    int r = ng_cgroup_move_self();
    if (r < 0)
        return ng_err("cannot move into nsgate's own cgroup: %s", strerror(-r)), NG_EXIT_INTERNAL;
    return 0;
}

int ng_cmd_enter(int argc, char **argv, const struct ng_caller *caller)
{
    static struct session s;
    int r;

    memset(&s, 0, sizeof(s));
    s.host_proc_fd = s.root_fd = s.cwd_fd = s.sigfd = s.out_priv = s.err_priv = -1;
    s.cg.dir_fd = s.cg.parent_fd = s.cg.v2_root_fd = -1;
    s.tty.master = s.tty.slave = s.tty.caller_fd = -1;
    for (int *p = &s.in[0]; p <= &s.cmdsock[1]; p++)
        *p = -1;
    ng_request_init(&s.rq);
    s.caller = caller;
    r = setup(&s, argc, argv);
    s.audit.fd = -1;
    if (r == 0 && !(r = load_policy(&s)) && !(r = open_target(&s)) && !(r = audit_gate(&s)) &&
        !(r = decide(&s)) && !(r = ng_cmd_enter_prepare(&s)))
        r = ng_cmd_enter_run(&s);
    session_cleanup(&s);
    return r < 0 ? 0 : r;
}
