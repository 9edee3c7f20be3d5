/* Option parsing for enter (cli.md): the table below through optparse.c;
 * options end at PROGRAM, so the program's own options are left alone. */
#include "nsgate/opts.h"
#include "nsgate/engines.h"
#include "nsgate/pods.h"
#include "nsgate/program.h"
#include "nsgate/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char ng_enter_usage[] =
    "Usage: nsgate enter [OPTIONS] [--] [PROGRAM [ARG...]]\n"
    "\n"
    "Enter namespaces of a running process, as the policy allows, recorded and audited.\n"
    "\n"
    "Target (exactly one):\n"
    "  -t, --target PID        a process ID as seen from the host\n"
    "      --container ID|NAME a container ID or unique prefix (4+ hex digits), or a\n"
    "                          podman or Docker container name\n"
    "      --pod NAMESPACE/POD[/CONTAINER]\n"
    "                          a Kubernetes pod's container on this node\n"
    "Namespaces (at least one):\n"
    "  -m, --mount  -u, --uts  -i, --ipc  -n, --net  -p, --pid\n"
    "  -U, --user   -C, --cgroup  -T, --time\n"
    "  -a, --all               every namespace of the target that differs from nsgate's\n"
    "Other:\n"
    "  -r, --reason TEXT       why (ticket, incident); recorded, audited, matched by policy\n"
    "  -w, --wd DIR            working directory inside (default: the target's, else /)\n"
    "      --pty / --no-pty    force or forbid a pseudo-terminal\n"
    "  -q, --quiet             no banner on standard error\n"
    "Root only: --policy FILE, --db FILE, --keys DIR\n";

enum { OPT_CONTAINER = 256, OPT_PTY, OPT_NO_PTY, OPT_POLICY, OPT_DB, OPT_KEYS, OPT_POD };

static const struct ng_optdef enter_opts[] = {
    {'t', 't', "target", NG_OPT_ARG},
    {OPT_CONTAINER, 0, "container", NG_OPT_ARG},
    {OPT_POD, 0, "pod", NG_OPT_ARG},
    {'m', 'm', "mount", 0},
    {'u', 'u', "uts", 0},
    {'i', 'i', "ipc", 0},
    {'n', 'n', "net", 0},
    {'p', 'p', "pid", 0},
    {'U', 'U', "user", 0},
    {'C', 'C', "cgroup", 0},
    {'T', 'T', "time", 0},
    {'a', 'a', "all", 0},
    {'r', 'r', "reason", NG_OPT_ARG},
    {'w', 'w', "wd", NG_OPT_ARG},
    {OPT_PTY, 0, "pty", 0},
    {OPT_NO_PTY, 0, "no-pty", 0},
    {'q', 'q', "quiet", 0},
    {OPT_POLICY, 0, "policy", NG_OPT_ARG},
    {OPT_DB, 0, "db", NG_OPT_ARG},
    {OPT_KEYS, 0, "keys", NG_OPT_ARG},
    {'h', 'h', "help", 0},
    {0, 0, NULL, 0},
};

/* Options end at PROGRAM: everything after it is the program's. */
const struct ng_cmdspec ng_spec_enter = {
    .name = "enter", .opts = enter_opts, .max_operands = -1, .operand = "PROGRAM"};

__attribute__((format(printf, 3, 4))) static int usage_err(char *err, size_t errsz, const char *fmt,
                                                           ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

int ng_opts_valid_container_prefix(const char *s)
{
    size_t n = strlen(s);
    return n >= 4 && n <= 64 && ng_is_lower_hex(s, n);
}

int ng_opts_valid_container(const char *s)
{
    return ng_opts_valid_container_prefix(s) || ng_engine_valid_name(s);
}

int ng_opts_valid_pod(const char *s)
{
    char ns[NG_POD_NS_MAX + 1], pod[NG_POD_NAME_MAX + 1], c[NG_POD_CONTAINER_MAX + 1];
    return ng_pod_parse_arg(s, ns, pod, c) == 0;
}

static int ns_flag(int c)
{
    static const char letters[] = "UCiunpmT"; /* in enum ng_ns order */
    const char *p = strchr(letters, c);
    return p ? (int)(p - letters) : -1;
}

static int set_once(const char **slot, const char *val, const char *name, char *err, size_t errsz)
{
    if (*slot)
        return usage_err(err, errsz, "%s given twice", name);
    *slot = val;
    return 0;
}

static int enter_opt(int c, const char *arg, struct ng_enter_opts *o, char *err, size_t errsz)
{
    int i = c < 256 ? ns_flag(c) : -1;

    if (i >= 0 && c != 0) {
        o->ns |= 1u << i;
        return 0;
    }
    switch (c) {
    case 't':
        if (o->target_pid)
            return usage_err(err, errsz, "-t given twice");
        if (ng_parse_pid(arg, &o->target_pid) < 0)
            return usage_err(err, errsz, "-t: not a process ID: %s", arg);
        return 0;
    case OPT_CONTAINER:
        if (!ng_opts_valid_container(arg))
            return usage_err(err, errsz,
                             "--container: want an ID prefix (4 to 64 lowercase hex digits) "
                             "or a container name ([A-Za-z0-9][A-Za-z0-9_.-]*)");
        return set_once(&o->container, arg, "--container", err, errsz);
    case OPT_POD:
        if (!ng_opts_valid_pod(arg))
            return usage_err(err, errsz,
                             "--pod: want NAMESPACE/POD or NAMESPACE/POD/CONTAINER "
                             "(Kubernetes names: lowercase letters, digits, '-', '.' in POD)");
        return set_once(&o->pod, arg, "--pod", err, errsz);
    case 'a':
        o->all_ns = 1;
        return 0;
    case 'r':
        return set_once(&o->reason, arg, "-r", err, errsz);
    case 'w':
        if (arg[0] != '/')
            return usage_err(err, errsz, "-w: the directory must be an absolute path");
        return set_once(&o->wd, arg, "-w", err, errsz);
    case OPT_PTY:
    case OPT_NO_PTY:
        if (o->pty != NG_PTY_AUTO)
            return usage_err(err, errsz, "--pty and --no-pty: give one, once");
        o->pty = c == OPT_PTY ? NG_PTY_FORCE : NG_PTY_NEVER;
        return 0;
    case 'q':
        o->quiet = 1;
        return 0;
    case OPT_POLICY:
        return set_once(&o->policy_path, arg, "--policy", err, errsz);
    case OPT_DB:
        return set_once(&o->db_path, arg, "--db", err, errsz);
    case OPT_KEYS:
        return set_once(&o->keys_dir, arg, "--keys", err, errsz);
    case 'h':
        o->help = 1;
        return 0;
    default:
        return usage_err(err, errsz, "unknown option (see nsgate enter --help)");
    }
}

int ng_opts_parse_enter(int argc, char **argv, struct ng_enter_opts *ret, char *err, size_t errsz)
{
    struct ng_enter_opts o;
    struct ng_optlist l;
    int r = ng_optparse(&ng_spec_enter, argc, argv, &l, err, errsz);

    if (r < 0)
        return r;
    memset(&o, 0, sizeof(o));
    for (size_t i = 0; i < l.n; i++)
        if ((r = enter_opt(l.v[i].id, l.v[i].arg, &o, err, errsz)) < 0)
            return r;
    if (o.help) {
        *ret = o;
        return 0;
    }
    if (!!o.target_pid + !!o.container + !!o.pod != 1)
        return usage_err(err, errsz,
                         "give exactly one target: -t PID, --container ID|NAME or --pod "
                         "NAMESPACE/POD[/CONTAINER]");
    if (!o.ns && !o.all_ns)
        return usage_err(err, errsz, "give at least one namespace option, or -a");
    if (l.noperands > 0) {
        o.argv = l.operands;
        o.argc = l.noperands;
        if (!ng_program_valid(o.argv[0]) && !ng_program_bare(o.argv[0]))
            return usage_err(err, errsz,
                             "PROGRAM must be a bare name found in PATH or an absolute, "
                             "normalized path (no ., .. or empty components): %s",
                             o.argv[0]);
    }
    *ret = o;
    return 0;
}
