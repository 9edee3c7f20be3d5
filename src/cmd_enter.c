/* nsgate enter: the order of operations (docs/architecture.md):
 *   options -> root-only check -> policy -> target -> request -> decision
 *   -> recorder's own cgroup -> session cgroup, descriptors, pipes
 *   -> fork the entering child (enter.c) -> relay (relay.c) -> end. */
#include "nsgate/cgroup.h"
#include "nsgate/cmd.h"
#include "nsgate/constraints.h"
#include "nsgate/credplan.h"
#include "nsgate/creds.h"
#include "nsgate/enter.h"
#include "nsgate/opts.h"
#include "nsgate/progenv.h"
#include "nsgate/relay.h"
#include "nsgate/selfexe.h"
#include "nsgate/target.h"
#include "nsgate/tty.h"
#include "nsgate/util.h"
#include "nsgate/uuid.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct session {
    struct ng_enter_opts o;
    const struct ng_caller *caller;
    struct ng_constraints c;
    struct ng_target t;
    struct ng_ns_id self_ns[NG_NS_COUNT];
    ng_nsset ns;
    struct ng_idset caller_ids;
    struct ng_creds creds;
    int last_cap;
    char *shell_argv[2];
    char **argv;
    struct ng_env env;
    uint8_t id[16];
    char id_text[NG_UUID_STR];
    struct ng_cgroup_session cg;
    int host_proc_fd, root_fd, cwd_fd;
    int in[2], out[2], err[2], errp[2], statp[2];
    int sigfd;
    int use_pty;
    struct ng_tty tty;
    pid_t child;
};

static void close_pair(int p[2])
{
    ng_closep(&p[0]);
    ng_closep(&p[1]);
}

static void session_cleanup(struct session *s)
{
    close_pair(s->in);
    close_pair(s->out);
    close_pair(s->err);
    close_pair(s->errp);
    close_pair(s->statp);
    ng_closep(&s->sigfd);
    ng_closep(&s->host_proc_fd);
    ng_closep(&s->root_fd);
    ng_closep(&s->cwd_fd);
    ng_env_free(&s->env);
    ng_tty_close(&s->tty);
    ng_target_close(&s->t);
}

static int find_target(struct session *s)
{
    pid_t pid = s->o.target_pid;

    if (s->o.container) {
        struct ng_container_candidates cands;
        int r = ng_target_find_container(s->o.container, &pid, &cands);
        if (r == -EEXIST) {
            ng_err("container prefix %s is ambiguous; candidates:", s->o.container);
            for (size_t i = 0; i < cands.n; i++)
                fprintf(stderr, "  %s\n", cands.ids[i]);
            return NG_EXIT_USAGE;
        }
        if (r < 0) {
            ng_err("no running container matches %s", s->o.container);
            return NG_EXIT_TARGET;
        }
    }
    int r = ng_target_open(pid, &s->t);
    if (r < 0) {
        ng_err("target %d not found or gone: %s", (int)pid, strerror(-r));
        return NG_EXIT_TARGET;
    }
    return 0;
}

/* policy.md "The request": drop namespaces identical to ours; -a means every
 * namespace that differs. */
static int build_request(struct session *s)
{
    if (ng_ns_self(s->self_ns) < 0) {
        ng_err("cannot read nsgate's own namespaces");
        return NG_EXIT_INTERNAL;
    }
    ng_nsset want = s->o.all_ns ? NG_NSSET_ALL : s->o.ns;
    s->ns = 0;
    for (int i = 0; i < NG_NS_COUNT; i++) {
        unsigned bit = 1u << i;
        if (!(want & bit) || !s->t.ns[i].present)
            continue;
        if (s->t.ns[i].dev == s->self_ns[i].dev && s->t.ns[i].ino == s->self_ns[i].ino)
            continue;
        s->ns |= bit;
    }
    if (!s->ns) {
        ng_err("nothing to enter: the target shares every requested namespace with nsgate");
        return NG_EXIT_USAGE;
    }
    return 0;
}

static int plan_creds(struct session *s)
{
    int userns = !!(s->ns & (1u << NG_NS_USER));
    int shared_user = s->t.ns[NG_NS_USER].ino == s->self_ns[NG_NS_USER].ino &&
                      s->t.ns[NG_NS_USER].dev == s->self_ns[NG_NS_USER].dev;
    struct ng_credplan_in in = {
        .c = &s->c,
        .target = &s->t.status,
        .caller = &s->caller_ids,
        .enter_userns = userns,
        .uid_map = s->t.uid_map,
        .gid_map = s->t.gid_map,
        .in_target_userns = userns || shared_user,
        .all_caps = ng_caps_mask(s->last_cap),
    };
    int r = ng_credplan_compute(&in, &s->creds);
    if (r < 0) {
        ng_err("cannot compute the program's credentials: %s",
               r == -ERANGE ? "an id is not mapped in the target's user namespace"
                            : strerror(-r));
        return NG_EXIT_INTERNAL;
    }
    return 0;
}

static int prepare_program(struct session *s)
{
    extern char **environ;

    if (s->o.argv) {
        s->argv = s->o.argv;
    } else {
        s->shell_argv[0] = (char *)(uintptr_t)s->c.shell;
        s->shell_argv[1] = NULL;
        s->argv = s->shell_argv;
    }
    if (ng_env_build(&s->env, environ, s->creds.ids.uid, s->id_text, s->c.setenv,
                     s->c.nsetenv) < 0) {
        ng_err("cannot build the program's environment");
        return NG_EXIT_INTERNAL;
    }
    return 0;
}

static int open_descriptors(struct session *s)
{
    s->host_proc_fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (s->host_proc_fd < 0)
        return -errno;
    if (s->ns & (1u << NG_NS_MNT)) {
        s->root_fd = openat(s->t.proc_fd, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (s->root_fd < 0)
            return -ESRCH;
        s->cwd_fd = openat(s->t.proc_fd, "cwd", O_PATH | O_DIRECTORY | O_CLOEXEC);
    }
    if (s->use_pty) {
        int r = ng_tty_open(&s->tty, 0);
        if (r < 0)
            return r;
    } else if (pipe2(s->in, O_CLOEXEC) < 0 || pipe2(s->out, O_CLOEXEC) < 0 ||
               pipe2(s->err, O_CLOEXEC) < 0) {
        return -errno;
    }
    if (pipe2(s->errp, O_CLOEXEC) < 0 || pipe2(s->statp, O_CLOEXEC) < 0)
        return -errno;
    sigset_t set;
    sigemptyset(&set);
    int sigs[] = {SIGCHLD, SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGWINCH};
    for (size_t i = 0; i < NG_ARRAY_SIZE(sigs); i++)
        sigaddset(&set, sigs[i]);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
        return -errno;
    signal(SIGTSTP, SIG_IGN);
    signal(SIGTTIN, SIG_IGN);
    signal(SIGTTOU, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    s->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    return s->sigfd < 0 ? -errno : 0;
}

static int prepare(struct session *s)
{
    char cgtext[8192];
    int r;

    if (ng_uuid_new(s->id) < 0)
        return ng_err("cannot initialise libsodium"), NG_EXIT_INTERNAL;
    ng_uuid_format(s->id, s->id_text);
    if ((r = plan_creds(s)) || (r = prepare_program(s)))
        return r;
    /* Before the first setns: out of the caller's cgroup into our own. */
    if ((r = ng_cgroup_move_self()) < 0)
        return ng_err("cannot move into nsgate's own cgroup: %s", strerror(-r)), NG_EXIT_INTERNAL;
    if (ng_read_file_at(s->t.proc_fd, "cgroup", cgtext, sizeof(cgtext)) < 0)
        return ng_err("target %d is gone", (int)s->t.pid), NG_EXIT_TARGET;
    r = ng_cgroup_session_create(&s->cg, cgtext, s->c.join_cgroup, s->id_text);
    if (r < 0)
        return ng_err("cannot create the session's cgroup: %s", strerror(-r)), NG_EXIT_INTERNAL;
    if ((r = open_descriptors(s)) < 0) {
        if (r == -ESRCH)
            return ng_err("target %d is gone", (int)s->t.pid), NG_EXIT_TARGET;
        return ng_err("cannot set up the session: %s", strerror(-r)), NG_EXIT_INTERNAL;
    }
    return 0;
}

static void child(struct session *s)
{
    dev_t dev = 0;
    ino_t ino = 0;
    (void)ng_selfexe_identity(&dev, &ino);
    struct ng_entry_plan p = {
        .t = &s->t,
        .ns = s->ns,
        .host_proc_fd = s->host_proc_fd,
        .root_fd = s->root_fd,
        .cwd_fd = s->cwd_fd,
        .wd = s->o.wd,
        .creds = &s->creds,
        .last_cap = s->last_cap,
        .argv = s->argv,
        .envp = s->env.v,
        .self_dev = dev,
        .self_ino = ino,
        .cg = &s->cg,
        .stdio = {s->in[0], s->out[1], s->err[1]},
        .ctty = s->use_pty,
        .err_fd = s->errp[1],
        .status_fd = s->statp[1],
    };
    if (s->use_pty)
        p.stdio[0] = p.stdio[1] = p.stdio[2] = s->tty.slave;
    ng_enter_child(&p);
}

/* The child reports a failure before execve, or the pipe closes on exec. */
static int await_exec(struct session *s)
{
    struct ng_enter_err e;
    ssize_t n;

    ng_closep(&s->errp[1]);
    ng_closep(&s->statp[1]);
    ng_closep(&s->in[0]);
    ng_closep(&s->out[1]);
    ng_closep(&s->err[1]);
    ng_closep(&s->tty.slave);
    ng_cgroup_session_close_procs(&s->cg);
    do
        n = read(s->errp[0], &e, sizeof(e));
    while (n < 0 && errno == EINTR);
    if (n != (ssize_t)sizeof(e))
        return 0;
    e.what[sizeof(e.what) - 1] = '\0';
    if (e.err)
        ng_err("%s: %s", e.what, strerror(e.err));
    else
        ng_err("%s", e.what);
    int st;
    while (waitpid(s->child, &st, 0) < 0 && errno == EINTR)
        ;
    return e.exit_code ? e.exit_code : NG_EXIT_INTERNAL;
}

static int run(struct session *s)
{
    struct ng_relay_result res;
    int r;

    if (ng_target_alive(&s->t) < 0)
        return ng_err("target %d is gone", (int)s->t.pid), NG_EXIT_TARGET;
    if (!s->o.quiet)
        fprintf(stderr, "nsgate: session %s started (target %d)\n", s->id_text, (int)s->t.pid);
    s->child = fork();
    if (s->child < 0)
        return ng_err("fork: %s", strerror(errno)), NG_EXIT_INTERNAL;
    if (s->child == 0)
        child(s);
    if ((r = await_exec(s)) != 0)
        return r;
    struct ng_relay_cfg cfg = {
        .caller_in = 0, .caller_out = 1, .caller_err = 2,
        .prog_in = s->use_pty ? s->tty.master : s->in[1],
        .prog_out = s->use_pty ? s->tty.master : s->out[0],
        .prog_err = s->use_pty ? -1 : s->err[0],
        .pty = s->use_pty, .tty_fd = s->tty.caller_fd,
        .child = s->child,
        .status_fd = ng_enter_needs_fork(s->ns) ? s->statp[0] : -1,
        .sigfd = s->sigfd,
        .max_session_ms = s->c.max_session_ms, .idle_timeout_ms = s->c.idle_timeout_ms,
        .max_output = s->c.max_output, .tick_ms = (int)s->c.seal_interval_ms,
    };
    s->in[1] = -1; /* the relay closes it at end of input */
    if (s->use_pty && ng_tty_raw(&s->tty) < 0)
        ng_warn("cannot put the terminal in raw mode");
    ng_relay_run(&cfg, &res);
    ng_tty_restore(&s->tty);
    if (res.reason != NG_END_EXIT)
        ng_relay_terminate(s->child, 2000);
    int left = s->c.leave_processes ? 0 : ng_cgroup_session_kill(&s->cg, 2000);
    if (s->c.leave_processes)
        ng_cgroup_session_release(&s->cg);
    int status = ng_relay_exit_status(&res);
    if (!s->o.quiet)
        fprintf(stderr, "nsgate: session %s ended, exit %d%s\n", s->id_text, status,
                left > 0 ? " (left-over processes killed)" : "");
    return status;
}

int ng_cmd_enter(int argc, char **argv, const struct ng_caller *caller)
{
    static struct session s;
    char err[512];
    int r;

    memset(&s, 0, sizeof(s));
    s.host_proc_fd = s.root_fd = s.cwd_fd = s.sigfd = -1;
    s.t.proc_fd = s.t.pidfd = -1;
    for (int *p = &s.in[0]; p <= &s.statp[1]; p++)
        *p = -1;
    s.caller = caller;
    s.tty.master = s.tty.slave = s.tty.caller_fd = -1;
    if (ng_opts_parse_enter(argc, argv, &s.o, err, sizeof(err)) < 0)
        return ng_err("%s", err), NG_EXIT_USAGE;
    s.use_pty = s.o.pty == NG_PTY_FORCE || (s.o.pty == NG_PTY_AUTO && isatty(0) && isatty(1));
    if (s.o.help)
        return fputs(ng_enter_usage, stdout), 0;
    if (caller->uid != 0 && (s.o.policy_path || s.o.db_path || s.o.keys_dir))
        return ng_err("--policy, --db and --keys are for root only"), NG_EXIT_DENIED;
    if (caller->uid != 0)
        return ng_err("enter is limited to root until the policy engine is configured"),
               NG_EXIT_DENIED;
    ng_constraints_default(&s.c);
    s.caller_ids.uid = caller->uid;
    s.caller_ids.gid = caller->gid;
    s.caller_ids.ngroups = caller->ngroups < NG_MAX_GROUPS ? caller->ngroups : NG_MAX_GROUPS;
    for (size_t i = 0; i < s.caller_ids.ngroups; i++)
        s.caller_ids.groups[i] = caller->groups[i];
    if (ng_caps_last_cap(&s.last_cap) < 0)
        return ng_err("cannot read /proc/sys/kernel/cap_last_cap"), NG_EXIT_INTERNAL;
    if ((r = find_target(&s)) || (r = build_request(&s)) || (r = prepare(&s)))
        goto out;
    r = run(&s);
out:
    session_cleanup(&s);
    return r;
}
