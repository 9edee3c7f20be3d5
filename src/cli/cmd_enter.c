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
static int load_policy(struct enter_decision *d, const struct enter_args *a)
{
    struct ng_policy_msgs errs = {0}, warns = {0};
    const char *why = NULL;
    size_t len = 0;

    int r = ng_policy_load(a->policy_path, 0, &d->policy_buf, &len, &why);
    if (r < 0) {
        if (why)
            ng_err("policy %s %s; nothing is allowed until it is fixed", a->policy_path, why);
        else if (r == -ELOOP)
            ng_err("policy %s is a symbolic link; refused", a->policy_path);
        else
            ng_err("cannot read policy %s: %s", a->policy_path, strerror(-r));
        return NG_EXIT_POLICY;
    }
    r = ng_policy_parse(d->policy_buf, len, a->policy_path, &d->policy, &errs);
    if (r == 0)
        r = ng_policy_resolve(d->policy, &ng_policy_userdb_system, &errs, &warns);
    if (r == 0) /* the escrow key files are part of the policy: the same checks, 78 */
        r = ng_policy_load_escrow(d->policy, 0, &errs, &warns);
    print_msgs(&errs, 0);
    ng_policy_msgs_free(&errs);
    ng_policy_msgs_free(&warns); /* check shows these; enter stays quiet */
    if (r < 0) {
        ng_err("policy %s is invalid; nothing is allowed until it is fixed", a->policy_path);
        return NG_EXIT_POLICY;
    }
    return 0;
}

static int open_target(struct enter_decision *d, const struct enter_args *a)
{
    struct ng_target_query q = {.pid = a->o.target_pid,
                                .container = a->o.container,
                                .pod = a->o.pod,
                                .state_root = ng_cmd_state_root(a->caller)};
    int r = ng_cmd_open_target(&d->rq, &q);

    if (r)
        return r;
    if (ng_request_namespaces(&d->rq, a->o.ns, a->o.all_ns) < 0) {
        ng_err("nothing to enter: the target shares every requested namespace with nsgate");
        return NG_EXIT_USAGE;
    }
    return 0;
}

/* audit.md "Failure": under audit = required the trail must be writable
 * before anything is decided or entered (75); best-effort warns. */
static int audit_gate(struct enter_decision *d, const struct enter_args *a)
{
    const char *why = NULL;
    struct passwd pw, *res = NULL;
    char buf[4096];

    d->audit_required = d->policy->defaults.audit_required;
    int opened = ng_audit_open(&d->audit); /* a failure is reported by the check */
    (void)opened;
    int r = ng_audit_check(&d->audit, d->audit_required, &why);
    if (r < 0) {
        ng_err("the audit trail is unavailable (%s); audit = required refuses every session: "
               "retry once auditd runs",
               why ? why : strerror(-r));
        return NG_EXIT_AUDIT;
    }
    d->audit_ok = why == NULL;
    if (why)
        ng_warn("the audit trail is unavailable (%s); continuing (audit = best-effort)", why);
    /* The host's user database, in the host namespaces (no NSS inside). */
    if (getpwuid_r(a->caller->uid, &pw, buf, sizeof(buf), &res) == 0 && res)
        snprintf(d->acct, sizeof(d->acct), "%s", pw.pw_name);
    else
        snprintf(d->acct, sizeof(d->acct), "#%u", (unsigned)a->caller->uid);
    ng_nsset_format(d->rq.ns, d->nslist, sizeof(d->nslist));
    return 0;
}

/* USER_ACCT for every decision, before any setns. */
static int audit_decision(struct enter_decision *d)
{
    struct ng_audit_authz e = {
        .acct = d->acct,
        .rule = d->dec.rule_index < 0 ? NULL : d->dec.rule_name,
        .opid = d->rq.t.pid,
        .ns = d->nslist,
        .uuid = d->dec.allow ? d->id_text : NULL,
        .allowed = d->dec.allow,
    };
    int r = d->audit_ok ? ng_audit_log_authz(&d->audit, &e) : -ENOLINK;
    if (r < 0 && d->audit_required) {
        ng_err("cannot write the decision to the audit trail: %s", strerror(-r));
        return NG_EXIT_AUDIT;
    }
    if (r < 0 && d->audit_ok)
        ng_warn("cannot write the decision to the audit trail: %s", strerror(-r));
    return 0;
}

/* A bare PROGRAM becomes the absolute path the policy matches and execve
 * runs; argv[0] is that path too, so the record names what ran. */
static int resolve_program(struct enter_decision *d, struct ng_enter_opts *o)
{
    if (!o->argv || !ng_program_bare(o->argv[0]))
        return 0;
    int r = ng_request_resolve_program(&d->rq, o->argv[0], d->program, sizeof(d->program));
    if (r == -ENOENT)
        return ng_err("%s: not found in PATH (%s) in the %s filesystem", o->argv[0],
                      NG_PROGRAM_PATH, (d->rq.ns & (1u << NG_NS_MNT)) ? "target's" : "host's"),
               NG_EXIT_NOT_FOUND;
    if (r == -ESRCH)
        return ng_err("target %d is gone", (int)d->rq.t.pid), NG_EXIT_TARGET;
    if (r < 0)
        return ng_err("cannot resolve %s in PATH: %s", o->argv[0], strerror(-r)), NG_EXIT_INTERNAL;
    o->argv[0] = d->program;
    return 0;
}

/* An allow rule that matched but for caller reach: say so, since the
 * remedy (caller_reach = allow, or another run_as) is not obvious. */
static void explain_reach(const struct enter_decision *d)
{
    for (size_t i = 0; i < d->dec.nresults; i++) {
        const struct ng_policy_rule_result *res = &d->dec.results[i];
        if (res->rule->kind == NG_POLICY_ALLOW && strncmp(res->why, "caller reach: ", 14) == 0) {
            ng_err("rule %s would allow it, but the session could not be kept out of the "
                   "reach of the caller's other processes: %s",
                   res->rule->name, res->why + 14);
            return;
        }
    }
}

static int decide(struct enter_decision *d, struct enter_args *a)
{
    const struct ng_caller *cl = a->caller;
    int r;

    if ((r = resolve_program(d, &a->o)) != 0)
        return r;
    ng_request_set_caller(&d->rq, cl->uid, cl->gid, cl->groups, cl->ngroups);
    ng_request_fill(&d->rq, a->o.argv ? a->o.argv[0] : NULL, a->o.reason);
    r = ng_policy_decide(d->policy, &d->rq.pr, &d->dec);
    if (r < 0)
        return ng_err("cannot evaluate the policy: %s", strerror(-r)), NG_EXIT_DENIED;
    if (ng_uuid_new(d->id) < 0)
        return ng_err("cannot initialise libsodium"), NG_EXIT_INTERNAL;
    ng_uuid_format(d->id, d->id_text);
    if ((r = audit_decision(d)) != 0)
        return r;
    if (!d->dec.allow) {
        if (d->dec.rule_index < 0)
            explain_reach(d);
        if (d->dec.rule_index < 0)
            ng_err("denied: no rule allows this request (default deny); "
                   "nsgate check explains the decision");
        else
            ng_err("denied by policy rule %s; nsgate check explains the decision",
                   d->dec.rule_name);
        return NG_EXIT_DENIED;
    }
    d->c = &d->dec.c;
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

static int setup(struct enter_args *a, int argc, char **argv)
{
    char err[512];
    const char *env_policy = getenv("NSGATE_POLICY"); /* kept for real root only */

    if (ng_opts_parse_enter(argc, argv, &a->o, err, sizeof(err)) < 0)
        return ng_err("%s", err), NG_EXIT_USAGE;
    if (a->o.help)
        return fputs(ng_enter_usage, stdout), -1;
    /* cli.md: a malformed request is a usage error before anything is read. */
    if (a->o.reason && !ng_policy_valid_reason(a->o.reason))
        return ng_err("-r: the reason must be 1 to 512 bytes of printable UTF-8"), NG_EXIT_USAGE;
    /* A session whose header cannot be stored whole is never started
     * (nothing is cut from the recorded argv). */
    size_t cmd = argv_bytes(a->o.argv);
    if (cmd > NG_STORE_EVENT_MAX)
        return ng_err("the command line is %zu bytes (with a NUL after each argument); at most "
                      "%d are recorded",
                      cmd, NG_STORE_EVENT_MAX),
               NG_EXIT_USAGE;
    if (a->caller->uid != 0 && (a->o.policy_path || a->o.db_path || a->o.keys_dir))
        return ng_err("--policy, --db and --keys are for root only"), NG_EXIT_DENIED;
    int root = a->caller->uid == 0; /* NSGATE_* are kept for real root only anyway */
    const char *env_db = getenv("NSGATE_DB"), *env_keys = getenv("NSGATE_KEYS");
    a->policy_path = a->o.policy_path     ? a->o.policy_path
                     : env_policy && root ? env_policy
                                          : NSGATE_SYSCONFDIR "/policy.ini";
    a->db_path = a->o.db_path     ? a->o.db_path
                 : env_db && root ? env_db
                                  : NSGATE_STATEDIR "/sessions.db";
    a->keys_dir = a->o.keys_dir      ? a->o.keys_dir
                  : env_keys && root ? env_keys
                                     : NSGATE_STATEDIR "/keys";
    a->use_pty = a->o.pty == NG_PTY_FORCE || (a->o.pty == NG_PTY_AUTO && isatty(0) && isatty(1));
    /* As early as possible, and before the first setns: out of the caller's
     * cgroup (which the caller may freeze or limit) into our own. */
    int r = ng_cgroup_move_self();
    if (r < 0)
        return ng_err("cannot move into nsgate's own cgroup: %s", strerror(-r)), NG_EXIT_INTERNAL;
    return 0;
}

static void enter_init(struct enter *e, const struct ng_caller *caller)
{
    memset(e, 0, sizeof(*e));
    e->a.caller = caller;
    ng_request_init(&e->d.rq);
    e->d.audit.fd = -1;
    ng_cmd_enter_host_init(&e->h);
    ng_cmd_enter_record_init(&e->r);
    ng_cmd_enter_control_init(&e->ctl);
}

/* In the reverse order of the phases; each part is safe whatever the phase
 * reached. */
static void enter_free(struct enter *e)
{
    ng_cmd_enter_control_close(&e->ctl);
    ng_cmd_enter_record_close(&e->r);
    ng_cmd_enter_host_close(&e->h);
    ng_cmd_enter_plan_free(&e->p);
    ng_request_close(&e->d.rq);
    ng_audit_close(&e->d.audit);
    ng_policy_decision_free(&e->d.dec);
    ng_policy_free(e->d.policy);
    free(e->d.policy_buf);
}

int ng_cmd_enter(int argc, char **argv, const struct ng_caller *caller)
{
    struct enter *e = malloc(sizeof(*e)); /* 20 KiB of buffers: not on the stack */
    int r;

    if (!e)
        return ng_err("out of memory"), NG_EXIT_INTERNAL;
    enter_init(e, caller);
    if (!(r = setup(&e->a, argc, argv)) && !(r = load_policy(&e->d, &e->a)) &&
        !(r = open_target(&e->d, &e->a)) && !(r = audit_gate(&e->d, &e->a)) &&
        !(r = decide(&e->d, &e->a)) && !(r = ng_cmd_enter_plan(&e->p, &e->d, &e->a)) &&
        !(r = ng_cmd_enter_host(&e->h, &e->d, &e->a)) &&
        !(r = ng_cmd_enter_open_store(&e->r, &e->d, &e->a)))
        r = ng_cmd_enter_run(e);
    enter_free(e);
    free(e);
    return r < 0 ? 0 : r;
}
