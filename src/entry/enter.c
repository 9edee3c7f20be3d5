/* The entering child (see enter.h). Order, after util-linux nsenter and
 * security.md: new session and stdio; cgroups; setgroups(0) on the host;
 * setns in two passes (user namespace last on the first pass, first on the
 * second); namespace identities re-checked through the host's /proc; fork
 * for pid and time namespaces and for isolation (the child creates nsgate's
 * user namespace, the parent maps it); root; credentials; only then the
 * working directory, with the program's own rights; the program must not be
 * nsgate itself; the target's confinement (confine.h) as the very last
 * step; execve. */
#include "nsgate/enter.h"
#include "nsgate/exitcode.h"
#include "nsgate/isolate.h"
#include "nsgate/util.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

__attribute__((noreturn)) static void fail(const struct ng_entry_plan *p, int code, int err,
                                           const char *what)
{
    struct ng_enter_err e;
    memset(&e, 0, sizeof(e));
    e.exit_code = code;
    e.err = err;
    snprintf(e.what, sizeof(e.what), "%s", what);
    (void)!write(p->err_fd, &e, sizeof(e));
    _exit(code);
}

int ng_enter_needs_fork(ng_nsset ns, int isolate)
{
    return isolate || !!(ns & ((1u << NG_NS_PID) | (1u << NG_NS_TIME)));
}

static void setup_stdio(const struct ng_entry_plan *p)
{
    if (setsid() < 0)
        fail(p, NG_EXIT_INTERNAL, errno, "setsid");
    for (int fd = 0; fd < 3; fd++)
        if (p->stdio[fd] != fd && dup2(p->stdio[fd], fd) < 0)
            fail(p, NG_EXIT_INTERNAL, errno, "dup2 of standard streams");
    /* After a pid fork the program (inside the target's pid namespace) takes
     * the terminal itself; see fork_if_needed. */
    if (p->ctty && !ng_enter_needs_fork(p->ns, p->isolate) && ioctl(0, TIOCSCTTY, 0) < 0)
        fail(p, NG_EXIT_INTERNAL, errno, "TIOCSCTTY");
}

static void enter_namespaces(const struct ng_entry_plan *p)
{
    ng_nsset done = 0;

    for (int pass = 0; pass < 2; pass++) {
        for (int i = pass == 0 ? 1 : 0; i < NG_NS_COUNT; i++) {
            unsigned bit = 1u << i;
            if (!(p->ns & bit) || (done & bit))
                continue;
            if (setns(p->t->pidfd, ng_ns_table[i].clone_flag) == 0) {
                done |= bit;
                continue;
            }
            if (errno == ESRCH)
                fail(p, NG_EXIT_TARGET, errno, "the target exited before entry");
            if (pass == 1) {
                char what[64];
                snprintf(what, sizeof(what), "setns %s", ng_ns_table[i].name);
                fail(p, NG_EXIT_INTERNAL, errno, what);
            }
        }
    }
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
        fail(p, NG_EXIT_INTERNAL, errno, "PR_SET_DUMPABLE");
}

/* The target may have switched namespaces between the decision and setns:
 * compare what we now hold with what was decided on. */
static void recheck_identity(const struct ng_entry_plan *p)
{
    for (int i = 0; i < NG_NS_COUNT; i++) {
        if (!(p->ns & (1u << i)))
            continue;
        char path[64];
        struct stat st;
        /* setns of pid and time namespaces takes effect for children. */
        snprintf(path, sizeof(path), "thread-self/ns/%s%s", ng_ns_table[i].proc,
                 i == NG_NS_PID || i == NG_NS_TIME ? "_for_children" : "");
        if (fstatat(p->host_proc_fd, path, &st, 0) < 0)
            fail(p, NG_EXIT_INTERNAL, errno, "cannot read the entered namespaces");
        if ((uint64_t)st.st_dev != p->t->ns[i].dev || (uint64_t)st.st_ino != p->t->ns[i].ino)
            fail(p, NG_EXIT_TARGET, 0,
                 "the target changed its namespaces between decision and entry");
    }
}

/* Before the credentials change (chroot needs CAP_SYS_CHROOT): the
 * target's root, and the path of the target's cwd below it, into cwd ("" when
 * there is none to take). Only the path: the directory itself is reached
 * later, by a walk with the program's rights (a descriptor would let the
 * program into a directory whose parents it may not pass). */
static void set_root(const struct ng_entry_plan *p, char *cwd, size_t sz)
{
    cwd[0] = '\0';
    if (p->root_fd >= 0) {
        if (fchdir(p->root_fd) < 0 || chroot(".") < 0)
            fail(p, NG_EXIT_INTERNAL, errno, "cannot enter the target's root directory");
    }
    /* A cwd outside the root just set (the target chrooted without chdir)
     * would let the program walk out: getcwd does not start with '/'. */
    if (!p->wd && p->cwd_fd >= 0 && fchdir(p->cwd_fd) == 0 && (!getcwd(cwd, sz) || cwd[0] != '/'))
        cwd[0] = '\0';
    if (chdir("/") < 0)
        fail(p, NG_EXIT_INTERNAL, errno, "cannot change to /");
}

/* After the credentials are final: the program's user reaches its working
 * directory with its own rights, so -w can show nothing that user could not
 * see (the error is the one that user would get from cd). The target's cwd
 * when the user may not enter it: "/". */
static void set_cwd(const struct ng_entry_plan *p, const char *cwd)
{
    if (p->wd) {
        if (chdir(p->wd) < 0) {
            char what[240];
            snprintf(what, sizeof(what), "cannot change to the working directory %.160s%s (-w)",
                     p->wd, strlen(p->wd) > 160 ? "..." : "");
            fail(p, NG_EXIT_INTERNAL, errno, what);
        }
        return;
    }
    if (cwd[0] == '/' && chdir(cwd) == 0)
        return;
    if (chdir("/") < 0)
        fail(p, NG_EXIT_INTERNAL, errno, "cannot change to /");
}

/* The grandchild, isolating: a user namespace of its own, created while it
 * is still root on the host (so root owns it and the caller holds no
 * capability in it); the parent writes its maps; then it checks them. */
static void own_userns(const struct ng_entry_plan *p, int ready_w, int mapped_r)
{
    char c;

    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
        fail(p, NG_EXIT_INTERNAL, errno, "PR_SET_PDEATHSIG");
    if (unshare(CLONE_NEWUSER) < 0)
        fail(p, NG_EXIT_INTERNAL, errno,
             "cannot create the user namespace that keeps the caller out of the session");
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
        fail(p, NG_EXIT_INTERNAL, errno, "PR_SET_DUMPABLE");
    if (write(ready_w, "u", 1) != 1 || read(mapped_r, &c, 1) != 1)
        _exit(NG_EXIT_INTERNAL); /* the parent failed and said why */
    (void)close(ready_w);
    (void)close(mapped_r);
    if (ng_isolate_check_map(p->host_proc_fd, p->creds->ids.uid, p->isolate_uid) < 0)
        fail(p, NG_EXIT_INTERNAL, EPERM, "nsgate's user namespace is not mapped as planned");
}

/* The parent, isolating: map the grandchild's new user namespace. A
 * grandchild that failed first has reported why: just wait for it. */
static void map_userns(const struct ng_entry_plan *p, pid_t pid, int ready_r, int mapped_w)
{
    char c;

    if (read(ready_r, &c, 1) != 1)
        return;
    int r = ng_isolate_write_maps(p->host_proc_fd, pid, p->uid_map, p->gid_map);
    if (r < 0) {
        (void)kill(pid, SIGKILL);
        fail(p, NG_EXIT_INTERNAL, -r, "cannot write the maps of nsgate's user namespace");
    }
    if (write(mapped_w, "m", 1) != 1) {
        (void)kill(pid, SIGKILL);
        fail(p, NG_EXIT_INTERNAL, errno, "cannot hand over nsgate's user namespace");
    }
}

/* Fork for pid/time namespaces and for isolation: the parent waits and
 * passes the program's wait status back; only the grandchild continues. */
static void fork_if_needed(const struct ng_entry_plan *p)
{
    int ready[2] = {-1, -1}, mapped[2] = {-1, -1};

    if (!ng_enter_needs_fork(p->ns, p->isolate))
        return;
    if (p->isolate && (pipe2(ready, O_CLOEXEC) < 0 || pipe2(mapped, O_CLOEXEC) < 0))
        fail(p, NG_EXIT_INTERNAL, errno, "pipe");
    pid_t pid = fork();
    if (pid < 0)
        fail(p, NG_EXIT_INTERNAL, errno, "fork after entering the namespaces");
    if (pid == 0) {
        (void)close(p->status_fd);
        /* Terminal mode: the program leads a session of its own inside the
         * target's pid namespace, so its shell's job control never refers to
         * a process it cannot see (the entering child stays outside). */
        if (p->ctty && (setsid() < 0 || ioctl(0, TIOCSCTTY, 0) < 0))
            fail(p, NG_EXIT_INTERNAL, errno, "setsid/TIOCSCTTY after the fork");
        if (p->isolate) {
            (void)close(ready[0]);
            (void)close(mapped[1]);
            own_userns(p, ready[1], mapped[0]);
        }
        return;
    }
    if (p->isolate) {
        (void)close(ready[1]);
        (void)close(mapped[0]);
        map_userns(p, pid, ready[0], mapped[1]);
    }
    /* Keep nothing of the host but the status pipe while waiting. */
    if (p->status_fd > 0)
        (void)syscall(SYS_close_range, 0U, (unsigned)p->status_fd - 1, 0U);
    (void)syscall(SYS_close_range, (unsigned)p->status_fd + 1, ~0U, 0U);
    signal(SIGINT, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    signal(SIGTSTP, SIG_IGN);
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            _exit(NG_EXIT_INTERNAL);
    (void)!write(p->status_fd, &st, sizeof(st));
    _exit(0);
}

static void check_not_self(const struct ng_entry_plan *p)
{
    struct stat st;
    /* CVE-2019-5736: a target's program that resolves to our own image
     * (e.g. a link to /proc/self/exe) is never executed. */
    if (stat(p->argv[0], &st) == 0 && st.st_dev == p->self_dev && st.st_ino == p->self_ino)
        fail(p, NG_EXIT_CANNOT_EXEC, EPERM,
             "the program inside the target is nsgate itself; refusing");
}

static int cmp_int(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

/* Keep only the descriptors the plan names: the recorder's store, key
 * state, audit socket and signalfd never reach the entering child. */
static void close_unneeded(const struct ng_entry_plan *p)
{
    int keep[16 + NG_CGROUP_MAX_V1], n = 0;
    int fixed[] = {p->t->pidfd, p->t->proc_fd, p->host_proc_fd, p->root_fd,
                   p->cwd_fd,   p->stdio[0],   p->stdio[1],     p->stdio[2],
                   p->err_fd,   p->status_fd,  p->go_fd,        p->cmd_sock};

    for (size_t i = 0; i < NG_ARRAY_SIZE(fixed); i++)
        if (fixed[i] > 2)
            keep[n++] = fixed[i];
    for (size_t i = 0; p->cg && i < p->cg->nprocs; i++)
        keep[n++] = p->cg->procs_fd[i];
    qsort(keep, (size_t)n, sizeof(keep[0]), cmp_int);
    unsigned from = 3;
    for (int i = 0; i < n; i++) {
        if ((unsigned)keep[i] > from)
            (void)syscall(SYS_close_range, from, (unsigned)keep[i] - 1, 0U);
        if ((unsigned)keep[i] >= from)
            from = (unsigned)keep[i] + 1;
    }
    (void)syscall(SYS_close_range, from, ~0U, 0U);
}

void ng_enter_child(const struct ng_entry_plan *p)
{
    const char *why = NULL;
    sigset_t empty;
    char cwd[4096];

    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
        fail(p, NG_EXIT_INTERNAL, errno, "PR_SET_PDEATHSIG");
    /* The recorder may have died before the parent-death signal was armed. */
    if (getppid() != p->recorder)
        _exit(NG_EXIT_INTERNAL);
    /* Nothing is entered before the recorder says the session is on record;
     * its death closes the pipe (our copy of the write end goes first). */
    char go;
    close_unneeded(p); /* the go pipe's write end too */
    if (p->go_fd >= 0 && read(p->go_fd, &go, 1) != 1)
        _exit(NG_EXIT_INTERNAL);
    setup_stdio(p);
    if (p->cg && ng_cgroup_session_join(p->cg) < 0)
        fail(p, NG_EXIT_INTERNAL, errno, "cannot join the session's cgroup");
    if (ng_creds_pre_setns() < 0)
        fail(p, NG_EXIT_INTERNAL, errno, "setgroups before setns");
    enter_namespaces(p);
    recheck_identity(p);
    fork_if_needed(p);
    set_root(p, cwd, sizeof(cwd));
    /* The command filter, in the process that will execve the program
     * (after the fork: the child that only waits is not under it) and
     * before the credential drop, while this process still holds
     * CAP_SYS_ADMIN in its user namespace (the target's, or nsgate's own
     * when isolating), so no no_new_privs is needed. The target's filters
     * go on after it (cmdfilter.h, confine.h). */
    if (p->cmdfilter) {
        int e = ng_cmdfilter_install(p->cmdfilter, p->cmd_sock);
        if (e < 0)
            fail(p, NG_EXIT_INTERNAL, -e, "cannot install the command filter");
    }
    /* The target's filters go on last, after the credentials are set and
     * verified; without no_new_privs they need CAP_SYS_ADMIN, held until
     * then beyond the plan (and dropped by execve: confine.h). */
    struct ng_creds cr = *p->creds;
    uint64_t hold = ng_confine_hold_caps(p->confine, &cr);
    cr.prm |= hold;
    cr.eff |= hold;
    if (ng_creds_apply(&cr, p->last_cap, p->host_proc_fd, &why) < 0)
        fail(p, NG_EXIT_INTERNAL, errno, why ? why : "credentials");
    /* Credential changes cleared the parent-death signal. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
        fail(p, NG_EXIT_INTERNAL, errno, "PR_SET_PDEATHSIG");
    set_cwd(p, cwd);
    check_not_self(p);
    sigemptyset(&empty);
    for (int sig = 1; sig < NSIG; sig++)
        signal(sig, SIG_DFL);
    sigprocmask(SIG_SETMASK, &empty, NULL);
    /* Only 0, 1, 2 survive execve; the error pipe closes on success. */
    if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
        fail(p, NG_EXIT_INTERNAL, errno, "close_range");
    if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
        fail(p, NG_EXIT_INTERNAL, 0, "process became dumpable before execve");
    int e = ng_confine_apply(p->confine, p->host_proc_fd, &why);
    if (e < 0)
        fail(p, NG_EXIT_INTERNAL, -e, why);
    execve(p->argv[0], p->argv, p->envp);
    e = errno;
    fail(p, e == ENOENT || e == ENOTDIR ? NG_EXIT_NOT_FOUND : NG_EXIT_CANNOT_EXEC, e,
         "cannot execute the program");
}
