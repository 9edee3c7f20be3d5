/* nsgate check (cli.md): evaluate the policy as enter would, for a real or a
 * hypothetical target, without entering anything. Privilege: a non-root
 * caller's rights are dropped before a --policy FILE is opened, and in every
 * case before the policy text is parsed, names are resolved or anything is
 * printed; the default policy file is the only thing read with privilege. */
#include "cmd_int.h"
#include "nsgate/program.h"
#include "nsgate/progpath.h"
#include "nsgate/harden.h"
#include "nsgate/opts.h"
#include "nsgate/policy.h"
#include "nsgate/request.h"
#include "nsgate/text.h"
#include "cmd_check_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char check_usage[] =
    "Usage: nsgate check [--policy FILE] [--user NAME|#UID] [TARGET] [NAMESPACES] [-r TEXT]\n"
    "                    [--json] [--] [PROGRAM]\n"
    "\n"
    "Evaluate the policy exactly as enter would, without entering anything.\n"
    "With no target: check the policy's syntax only.\n"
    "\n"
    "  --policy FILE           the policy (default " NSGATE_SYSCONFDIR "/policy.ini)\n"
    "  --user NAME|#UID        decide for this user (root only, unless it is you)\n"
    "Target:\n"
    "  --attr KEY=VALUE        a hypothetical target (container name pod cgroup exe comm\n"
    "                          uid pid); repeatable; it differs from nsgate in every\n"
    "                          namespace but user\n"
    "  -t, --target PID        a real target, read as enter would; or\n"
    "      --container ID|NAME, --pod NAMESPACE/POD[/CONTAINER]\n"
    "Namespaces:\n"
    "  -m, --mount  -u, --uts  -i, --ipc  -n, --net  -p, --pid\n"
    "  -U, --user   -C, --cgroup  -T, --time  -a, --all\n"
    "Other:\n"
    "  -r, --reason TEXT       the reason enter would be given\n"
    "      --json              one JSON object on standard output\n"
    "Exit status: 0 allow, 77 deny, 78 invalid or unsafe policy, 64 usage.\n";

enum { OPT_CONTAINER = 256, OPT_POLICY, OPT_USER, OPT_ATTR, OPT_JSON, OPT_POD };

/* --user is taken by the user namespace in enter's option set; check's
 * --user names a person, so the namespace keeps only -U here. */
static const struct ng_optdef check_opts_def[] = {
    {'t', 't', "target", NG_OPT_ARG},
    {OPT_CONTAINER, 0, "container", NG_OPT_ARG},
    {OPT_POD, 0, "pod", NG_OPT_ARG},
    {'m', 'm', "mount", 0},
    {'u', 'u', "uts", 0},
    {'i', 'i', "ipc", 0},
    {'n', 'n', "net", 0},
    {'p', 'p', "pid", 0},
    {'U', 'U', NULL, 0},
    {'C', 'C', "cgroup", 0},
    {'T', 'T', "time", 0},
    {'a', 'a', "all", 0},
    {'r', 'r', "reason", NG_OPT_ARG},
    {OPT_POLICY, 0, "policy", NG_OPT_ARG},
    {OPT_USER, 0, "user", NG_OPT_ARG},
    {OPT_ATTR, 0, "attr", NG_OPT_ARG},
    {OPT_JSON, 0, "json", 0},
    {'h', 'h', "help", 0},
    {0, 0, NULL, 0},
};

/* Options end at PROGRAM, as for enter. */
const struct ng_cmdspec ng_spec_check = {
    .name = "check", .opts = check_opts_def, .max_operands = 1, .operand = "PROGRAM"};

static int ns_letter(int c)
{
    static const char letters[] = "UCiunpmT"; /* enum ng_ns order, as opts.c */
    const char *p = c > 0 && c < 256 ? strchr(letters, c) : NULL;
    return p ? (int)(p - letters) : -1;
}

static int set_attr(struct check_opts *o, const char *kv)
{
    const char *eq = strchr(kv, '=');
    char key[16];
    size_t k = eq ? (size_t)(eq - kv) : 0;

    if (!eq || k == 0 || k >= sizeof(key)) {
        ng_err("--attr: want KEY=VALUE, not '%s'", kv);
        return -EINVAL;
    }
    memcpy(key, kv, k);
    key[k] = '\0';
    int a = ng_attr_from_name(key);
    if (a < 0) {
        ng_err("--attr: unknown key '%s' (container name pod cgroup exe comm uid pid)", key);
        return -EINVAL;
    }
    if (o->attrs.v[a]) {
        ng_err("--attr %s given twice", key);
        return -EINVAL;
    }
    o->attrs.v[a] = eq + 1;
    o->has_target = 1;
    return 0;
}

static int check_opt(int c, const char *arg, struct check_opts *o)
{
    int ns = ns_letter(c);

    if (ns >= 0) {
        o->ns |= 1u << ns;
        return 0;
    }
    switch (c) {
    case 't':
        if (o->real_target || ng_parse_pid(arg, &o->target_pid) < 0) {
            ng_err("-t: give one process ID");
            return -EINVAL;
        }
        o->real_target = 1;
        return 0;
    case OPT_CONTAINER:
        if (o->real_target || !ng_opts_valid_container(arg)) {
            ng_err("--container: give one ID prefix (4 to 64 lowercase hex digits) or "
                   "container name, and no other target");
            return -EINVAL;
        }
        o->container = arg;
        o->real_target = 1;
        return 0;
    case OPT_POD:
        if (o->real_target || !ng_opts_valid_pod(arg)) {
            ng_err("--pod: give one NAMESPACE/POD[/CONTAINER], and no other target");
            return -EINVAL;
        }
        o->pod = arg;
        o->real_target = 1;
        return 0;
    case 'a':
        o->all_ns = 1;
        return 0;
    case 'r':
        if (o->reason) {
            ng_err("-r given twice");
            return -EINVAL;
        }
        o->reason = arg;
        return 0;
    case OPT_POLICY:
        o->policy = arg;
        o->policy_given = 1;
        return 0;
    case OPT_USER:
        o->user = arg;
        return 0;
    case OPT_ATTR:
        return set_attr(o, arg);
    case OPT_JSON:
        o->json = 1;
        return 0;
    case 'h':
        o->help = 1;
        return 0;
    default:
        ng_err("unknown option or missing argument (see nsgate check --help)");
        return -EINVAL;
    }
}

static int parse_check_opts(int argc, char **argv, struct check_opts *o)
{
    memset(o, 0, sizeof(*o));
    /* NSGATE_POLICY stays in the environment for real root only (harden.c). */
    const char *env = getenv("NSGATE_POLICY");
    o->policy = env && *env && getuid() == 0 ? env : NSGATE_SYSCONFDIR "/policy.ini";
    struct ng_optlist l;
    char err[512];
    if (ng_optparse(&ng_spec_check, argc, argv, &l, err, sizeof(err)) < 0) {
        ng_err("%s", err);
        return -EINVAL;
    }
    for (size_t i = 0; i < l.n; i++)
        if (check_opt(l.v[i].id, l.v[i].arg, o) < 0)
            return -EINVAL;
    if (o->help)
        return 0;
    if (l.noperands > 0) {
        o->program = l.operands[0];
        if (!ng_program_valid(o->program) && !ng_program_bare(o->program)) {
            ng_err("PROGRAM must be a bare name found in PATH or an absolute, normalized "
                   "path (no ., .. or empty components): %s",
                   o->program);
            return -EINVAL;
        }
    }
    if (o->reason && !ng_policy_valid_reason(o->reason)) {
        ng_err("-r: the reason must be 1 to 512 bytes of printable UTF-8");
        return -EINVAL;
    }
    if (o->has_target && o->real_target) {
        ng_err("give one target: -t, --container or --attr");
        return -EINVAL;
    }
    o->has_target |= o->real_target;
    return 0;
}

/* Warnings and errors from the policy modules: one per line, escaped. */
static void print_msgs(const struct ng_policy_msgs *m, int warning)
{
    for (size_t i = 0; i < m->n; i++) {
        if (warning)
            ng_warn("%s", m->v[i]);
        else
            ng_err("%s", m->v[i]);
    }
    if (m->dropped)
        ng_err("... and %zu more", m->dropped);
}

/* --user NAME|#UID to a uid; the caller's own uid when not given. */
static int who(const struct check_opts *o, const struct ng_caller *caller, uint32_t *uid)
{
    if (!o->user) {
        *uid = caller->uid;
        return 0;
    }
    if (o->user[0] == '#') {
        if (ng_parse_id(o->user + 1, uid) < 0) {
            ng_err("--user: not a uid: %s", o->user);
            return NG_EXIT_USAGE;
        }
    } else if (ng_policy_userdb_system.user_uid(NULL, o->user, uid) < 0) {
        ng_err("--user: no such user: %s", o->user);
        return NG_EXIT_USAGE;
    }
    if (caller->uid != 0 && *uid != caller->uid) {
        ng_err("--user for another user is root only");
        return NG_EXIT_DENIED;
    }
    return 0;
}

/* The caller's ids: the real ones, or for --user the database's for both
 * the process view and the membership (policy.md "The request"). */
static void caller_ids(const struct check_opts *o, const struct ng_caller *caller, uint32_t uid,
                       struct ng_idset *ids, uint32_t *db, size_t *ndb)
{
    size_t n = NG_MAX_GROUPS;

    memset(ids, 0, sizeof(*ids));
    if (ng_policy_userdb_system.membership(NULL, uid, db, &n) < 0)
        n = 0; /* not in the database: no %GROUP matches by membership */
    *ndb = n;
    ids->uid = uid;
    if (o->user) {
        /* getgrouplist puts the user's primary group first. */
        ids->gid = n ? db[0] : uid;
        ids->ngroups = n;
        memcpy(ids->groups, db, n * sizeof(*db));
        return;
    }
    ids->gid = caller->gid;
    ids->ngroups = caller->ngroups < NG_MAX_GROUPS ? caller->ngroups : NG_MAX_GROUPS;
    for (size_t i = 0; i < ids->ngroups; i++)
        ids->groups[i] = caller->groups[i];
}

static uint64_t kernel_all_caps(void)
{
    char buf[32];
    uint64_t last = NG_POLICY_CAP_LAST;

    if (ng_read_file_at(AT_FDCWD, "/proc/sys/kernel/cap_last_cap", buf, sizeof(buf)) > 0) {
        buf[strcspn(buf, "\n")] = '\0';
        if (ng_parse_u64(buf, 0, 63, &last) < 0)
            last = NG_POLICY_CAP_LAST;
    }
    return last >= 63 ? UINT64_MAX : (UINT64_C(1) << (last + 1)) - 1;
}

/* The hypothetical target of cli.md: differs from nsgate in every namespace
 * except user, runs as uid= (0 when absent), all capabilities as uid 0. */
static int hypothetical(const struct check_opts *o, struct ng_proc_status *st, ng_nsset *ns)
{
    uint32_t uid = 0;

    if (o->attrs.v[NG_ATTR_UID] && ng_parse_id(o->attrs.v[NG_ATTR_UID], &uid) < 0) {
        ng_err("--attr uid=: not a uid: %s", o->attrs.v[NG_ATTR_UID]);
        return -EINVAL;
    }
    if (o->attrs.v[NG_ATTR_PID]) {
        pid_t pid;
        if (ng_parse_pid(o->attrs.v[NG_ATTR_PID], &pid) < 0) {
            ng_err("--attr pid=: not a process ID: %s", o->attrs.v[NG_ATTR_PID]);
            return -EINVAL;
        }
    }
    memset(st, 0, sizeof(*st));
    for (int i = 0; i < 4; i++)
        st->uid[i] = st->gid[i] = uid; /* the gid is taken to equal the uid */
    st->cap_bnd = UINT64_MAX;
    if (uid == 0)
        st->cap_inh = 0, st->cap_prm = st->cap_eff = UINT64_MAX;
    *ns = (o->all_ns ? NG_NSSET_ALL : o->ns) & ~(1u << NG_NS_USER);
    if (*ns == 0) {
        ng_err("empty request: a hypothetical target shares nsgate's user namespace, so -U "
               "is dropped; give another namespace or -a");
        return -EINVAL;
    }
    return 0;
}

/* The real target's request, read before privileges were dropped. */
static struct ng_request real_rq;

static int decide_real(const struct check_opts *o, const struct ng_policy *p,
                       const struct ng_caller *caller, uint32_t uid);
static int print_decision(const struct check_opts *o, const struct ng_policy *p,
                          const struct ng_policy_request *req);

static int decide_print(const struct check_opts *o, const struct ng_policy *p,
                        const struct ng_caller *caller, uint32_t uid)
{
    struct ng_idset ids;
    uint32_t db[NG_MAX_GROUPS];
    struct ng_proc_status target;
    struct ng_policy_request req;

    if (o->real_target)
        return decide_real(o, p, caller, uid);
    memset(&req, 0, sizeof(req));
    if (hypothetical(o, &target, &req.ns) < 0)
        return NG_EXIT_USAGE;

    caller_ids(o, caller, uid, &ids, db, &req.ndb_groups);
    req.caller = &ids;
    req.db_groups = db;
    req.attrs = &o->attrs;
    req.program = o->program;
    req.reason = o->reason;
    req.mnt_stays_host = !(req.ns & (1u << NG_NS_MNT));
    req.target_own_userns = 0;
    req.userns_entered = 0;
    req.caller_owns_userns = 0; /* the hypothetical target shares nsgate's user ns */
    req.userns_available = ng_isolate_userns_available();
    req.cred.target = &target;
    req.cred.in_target_userns = 1; /* shared with nsgate */
    req.cred.all_caps = kernel_all_caps();
    target.cap_prm &= req.cred.all_caps;
    target.cap_eff &= req.cred.all_caps;
    return print_decision(o, p, &req);
}

static int print_decision(const struct check_opts *o, const struct ng_policy *p,
                          const struct ng_policy_request *req)
{
    struct ng_policy_decision dec;
    int r = ng_policy_decide(p, req, &dec);
    if (r < 0) {
        ng_policy_decision_free(&dec);
        ng_err("cannot evaluate the policy: %s", strerror(-r));
        return NG_EXIT_INTERNAL;
    }
    r = o->json ? ng_check_print_json(p, &dec, &o->tc) : ng_check_print_text(p, &dec, &o->tc);
    print_msgs(&dec.warns, 1);
    int allow = dec.allow;
    ng_policy_decision_free(&dec);
    if (r < 0) {
        ng_err("cannot write the result");
        return NG_EXIT_INTERNAL;
    }
    return allow ? 0 : NG_EXIT_DENIED;
}

static int decide_real(const struct check_opts *o, const struct ng_policy *p,
                       const struct ng_caller *caller, uint32_t uid)
{
    struct ng_idset ids;
    uint32_t db[NG_MAX_GROUPS];
    size_t ndb = 0;

    caller_ids(o, caller, uid, &ids, db, &ndb);
    real_rq.caller = ids;
    memcpy(real_rq.db_groups, db, ndb * sizeof(db[0]));
    real_rq.ndb_groups = ndb;
    ng_request_fill(&real_rq, o->program, o->reason);
    return print_decision(o, p, &real_rq.pr);
}

/* A bare PROGRAM is resolved as enter resolves it, and the path shown: with
 * a real target in its filesystem (mnt entered) or the host's; without one
 * only when the program stays in the host's filesystem. */
static char resolved[4352];

static int resolve_bare(struct check_opts *o, const struct ng_request *rq)
{
    int in_target = rq ? (rq->ns & (1u << NG_NS_MNT)) != 0 : 0;
    int r;

    if (!o->program || !ng_program_bare(o->program))
        return 0;
    if (rq) {
        r = ng_request_resolve_program(rq, o->program, resolved, sizeof(resolved));
    } else {
        int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        r = root < 0 ? -errno : ng_progpath_resolve(root, o->program, resolved, sizeof(resolved));
        ng_closep(&root);
    }
    if (r == -ENOENT)
        return ng_err("%s: not found in PATH (%s) in the %s filesystem", o->program,
                      NG_PROGRAM_PATH, in_target ? "target's" : "host's"),
               NG_EXIT_NOT_FOUND;
    if (r < 0)
        return ng_err("cannot resolve %s in PATH: %s", o->program, strerror(-r)), NG_EXIT_INTERNAL;
    ng_warn("PROGRAM %s resolves to %s in the %s filesystem; the policy matches that path",
            o->program, resolved, in_target ? "target's" : "host's");
    o->program = resolved;
    return 0;
}

/* What enter would copy, read without stopping the target: the filter
 * count from its status, its LSM label. */
static void read_confinement(const struct ng_target *t, struct check_confine *tc)
{
    char buf[8192];
    struct ng_proc_status st = t->status;

    if (ng_read_file_at(t->proc_fd, "status", buf, sizeof(buf)) > 0)
        (void)ng_parse_status(buf, &st);
    tc->real = 1;
    tc->seccomp = st.seccomp;
    tc->filters = st.seccomp_filters;
    tc->nnp = st.no_new_privs;
    tc->bnd = st.cap_bnd;
    if (ng_confine_read_label(t, &tc->lsm, tc->label, sizeof(tc->label), &tc->why) < 0 && !tc->why)
        tc->why = "the target is gone";
    if (!tc->why && st.seccomp == 1)
        tc->why = "the target runs in seccomp strict mode";
}

/* -t / --container / --pod: read the target as enter would, with privilege. */
static int open_real_target(struct check_opts *o, const struct ng_caller *caller)
{
    struct ng_target_query q = {.pid = o->target_pid,
                                .container = o->container,
                                .pod = o->pod,
                                .state_root = ng_cmd_state_root(caller)};

    ng_request_init(&real_rq);
    int r = ng_cmd_open_target(&real_rq, &q);
    if (r)
        return r;
    if (ng_request_namespaces(&real_rq, o->ns, o->all_ns) < 0) {
        ng_err("nothing to enter: the target shares every requested namespace with nsgate");
        return NG_EXIT_USAGE;
    }
    if ((r = resolve_bare(o, &real_rq)) != 0)
        return r;
    read_confinement(&real_rq.t, &o->tc);
    /* Nothing later needs the target's descriptors. */
    ng_request_close(&real_rq);
    return 0;
}

static int evaluate(const struct check_opts *o, const struct ng_caller *caller, uint32_t uid,
                    const char *buf, size_t len)
{
    struct ng_policy *p = NULL;
    struct ng_policy_msgs errs = {0}, warns = {0};
    int rc;

    int r = ng_policy_parse(buf, len, o->policy, &p, &errs);
    if (r == 0)
        r = ng_policy_resolve(p, &ng_policy_userdb_system, &errs, &warns);
    if (r == 0)
        r = ng_policy_load_escrow(p, NG_POLICY_LOAD_UNSAFE_OK | NG_POLICY_LOAD_UNREADABLE_OK, &errs,
                                  &warns);
    if (r == 0)
        r = ng_policy_lint(p, &warns);
    if (r == 0 && !o->has_target) /* checking the policy itself */
        r = ng_policy_lint_escrow(p, &warns);
    print_msgs(&errs, 0);
    print_msgs(&warns, 1);
    if (r == -EINVAL) {
        ng_err("policy %s is invalid: nothing is allowed until it is fixed", o->policy);
        rc = NG_EXIT_POLICY;
    } else if (r < 0) {
        ng_err("cannot evaluate the policy: %s", strerror(-r));
        rc = NG_EXIT_INTERNAL;
    } else if (!o->has_target) {
        rc = ng_check_print_ok(p, o->json) < 0 ? NG_EXIT_INTERNAL : 0;
    } else {
        rc = decide_print(o, p, caller, uid);
    }
    ng_policy_msgs_free(&errs);
    ng_policy_msgs_free(&warns);
    ng_policy_free(p);
    return rc;
}

static int drop(const struct ng_caller *caller)
{
    /* Started by a non-root caller without the setuid bit: nothing to drop
     * (and setgroups would fail). */
    if (!caller->setuid_start && geteuid() != 0)
        return 0;
    int r = ng_harden_drop_to_caller(caller);
    if (r < 0)
        ng_err("cannot drop privileges: %s", strerror(-r));
    return r;
}

int ng_cmd_check(int argc, char **argv, const struct ng_caller *caller)
{
    struct check_opts o;
    char *buf = NULL;
    size_t len = 0;
    const char *why = NULL;
    uint32_t uid;
    int dropped = 0;

    if (parse_check_opts(argc, argv, &o) < 0)
        return NG_EXIT_USAGE;
    if (o.help) {
        fputs(check_usage, stdout);
        return 0;
    }
    if (o.real_target) {
        int rc = open_real_target(&o, caller);
        if (rc)
            return rc;
    } else if (o.has_target && o.program && ng_program_bare(o.program)) {
        if (o.all_ns || (o.ns & (1u << NG_NS_MNT)))
            return ng_err("a bare PROGRAM is resolved in the target's filesystem: give a "
                          "real target (-t or --container) or an absolute path"),
                   NG_EXIT_USAGE;
        int rc = resolve_bare(&o, NULL);
        if (rc)
            return rc;
    }
    /* A file a non-root caller names is opened with the caller's rights. */
    if (caller->uid != 0 && o.policy_given) {
        if (drop(caller) < 0)
            return NG_EXIT_INTERNAL;
        dropped = 1;
    }
    int lr = ng_policy_load(o.policy, NG_POLICY_LOAD_UNSAFE_OK, &buf, &len, &why);
    /* Parsing, name lookups and output need no privilege. */
    if (caller->uid != 0 && !dropped && drop(caller) < 0) {
        free(buf);
        return NG_EXIT_INTERNAL;
    }
    int rc = who(&o, caller, &uid);
    if (rc == 0 && lr < 0) {
        if (why)
            ng_err("policy %s %s", o.policy, why);
        else
            ng_err("cannot read policy %s: %s", o.policy, strerror(-lr));
        rc = NG_EXIT_POLICY;
    }
    if (rc == 0) {
        if (why)
            ng_warn("policy %s %s: enter would refuse it", o.policy, why);
        rc = evaluate(&o, caller, uid, buf, len);
    }
    free(buf);
    return rc;
}
