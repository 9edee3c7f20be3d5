/* The command recorder: notifications, the exact path through a brief
 * PTRACE_SEIZE, the fallback, and the execs in flight (see cmdrec.h). */
#include "cmdrec_int.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef PTRACE_EVENT_STOP
#define PTRACE_EVENT_STOP 128
#endif
/* Linux 6.6: wake the supervisor and the caller synchronously (the
 * scheduler runs the woken side on the waker's CPU): the notification is a
 * ping-pong, and a loaded machine otherwise adds a scheduling delay to every
 * turn of it. */
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

int ng_cmdrec_decode(uint32_t arch, int nr, int *ret_ptr)
{
    static const struct {
        uint32_t arch;
        int execve, execveat, ptr;
    } abi[] = {
        {AUDIT_ARCH_X86_64, 59, 322, 8},
        {AUDIT_ARCH_X86_64, 0x40000000 + 520, 0x40000000 + 545, 4}, /* x32 */
        {AUDIT_ARCH_I386, 11, 358, 4},
        {AUDIT_ARCH_AARCH64, 221, 281, 8},
        {AUDIT_ARCH_ARM, 11, 387, 4},
    };
    for (size_t i = 0; i < sizeof(abi) / sizeof(abi[0]); i++) {
        if (abi[i].arch != arch || (nr != abi[i].execve && nr != abi[i].execveat))
            continue;
        *ret_ptr = abi[i].ptr;
        return nr == abi[i].execveat;
    }
    return -ENOSYS;
}

/* SIGALRM only interrupts the short wait for an exec's outcome (wait_outcome):
 * a handler without SA_RESTART, so that waitid returns EINTR. */
static void alarm_noop(int sig)
{
    (void)sig;
}

int ng_cmdrec_init(struct ng_cmdrec *c, struct ng_session *sess, pid_t child, int proc_fd,
                   int pidns_level)
{
    memset(c, 0, sizeof(*c));
    c->sess = sess;
    c->child = child;
    c->proc_fd = proc_fd;
    c->listener = -1;
    c->parent_dir = -1;
    c->pidns_level = pidns_level;
    c->flight = calloc(NG_CMDREC_IN_FLIGHT_MAX, sizeof(*c->flight));
    struct sigaction sa = {.sa_handler = alarm_noop};
    if (sigaction(SIGALRM, &sa, NULL) < 0) {
        ng_cmdrec_free(c);
        return -errno;
    }
    c->uid_map = calloc(1, NG_CMDREC_MAP_MAX);
    c->gid_map = calloc(1, NG_CMDREC_MAP_MAX);
    ssize_t n = readlinkat(proc_fd, "self/ns/user", c->host_userns, sizeof(c->host_userns) - 1);
    if (n > 0)
        c->host_userns[n] = '\0';
    if (!c->flight || !c->uid_map || !c->gid_map || n <= 0) {
        ng_cmdrec_free(c);
        return -ENOMEM;
    }
    return 0;
}

void ng_cmdrec_set_listener(struct ng_cmdrec *c, int fd, int killable)
{
    c->listener = fd;
    c->killable = killable;
    /* Only a speed-up: older kernels refuse it (EINVAL, ENOTTY). */
    (void)ioctl(fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);
}

size_t ng_cmdrec_in_flight(const struct ng_cmdrec *c)
{
    return c->nflight;
}

/* ---- responses ----------------------------------------------------------- */

static int respond(struct ng_cmdrec *c, uint64_t id, int error)
{
    struct seccomp_notif_resp resp = {.id = id};

    if (error)
        resp.error = -error;
    else
        resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    return ioctl(c->listener, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0 ? -errno : 0;
}

static int still_valid(struct ng_cmdrec *c, uint64_t id)
{
    return ioctl(c->listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

/* ---- the exact path ------------------------------------------------------ */

/* The return value of the system call the stopped tracee just left. */
static int64_t syscall_result(pid_t tid)
{
#if defined(__x86_64__)
    errno = 0;
    long v = ptrace(PTRACE_PEEKUSER, tid, offsetof(struct user_regs_struct, rax), NULL);
    if (errno)
        return -1;
#elif defined(__aarch64__)
    struct user_regs_struct regs;
    struct iovec iov = {.iov_base = &regs, .iov_len = sizeof(regs)};
    if (ptrace(PTRACE_GETREGSET, tid, (void *)1 /* NT_PRSTATUS */, &iov) < 0 ||
        iov.iov_len != sizeof(regs))
        return -1;
    long v = (long)regs.regs[0];
#else
    long v = 0;
    (void)tid;
    return -1;
#endif
    /* A failed exec returns -errno; the kernel's restart codes (512..516)
     * never reach the caller as such. */
    return v < 0 && v >= -4095 ? -v : -1;
}

static void drop_flight(struct ng_cmdrec *c, size_t i)
{
    ng_cmdread_free(&c->flight[i].info);
    c->flight[i] = c->flight[--c->nflight];
    memset(&c->flight[c->nflight], 0, sizeof(c->flight[0]));
}

/* The outcome of flight i, from a wait status. */
static int outcome(struct ng_cmdrec *c, size_t i, int st)
{
    struct ng_cmd_info *in = &c->flight[i].info;
    pid_t tid = in->tid;
    int r = 0;

    if (WIFSTOPPED(st) && st >> 8 == (SIGTRAP | (PTRACE_EVENT_EXEC << 8))) {
        /* The new image, before its first instruction: recorded, or killed. */
        char *exe = NULL;
        r = ng_cmdread_after(in, &exe);
        if (r >= 0)
            r = ng_cmdrec_record(c, in, 0, exe, r == 0);
        free(exe);
        if (r < 0)
            (void)kill(tid, SIGKILL);
        (void)ptrace(PTRACE_DETACH, tid, NULL, NULL);
    } else if (WIFSTOPPED(st)) {
        /* The call returned (failed): our interrupt, or a signal on the
         * way, which goes on to the task when we detach. */
        int sig = st >> 16 == PTRACE_EVENT_STOP ? 0 : WSTOPSIG(st);
        r = ng_cmdrec_record(c, in, syscall_result(tid), NULL, 0);
        (void)ptrace(PTRACE_DETACH, tid, NULL, (void *)(long)sig);
    } else {
        /* Killed while the exec ran: nothing of the new program ran. */
        r = ng_cmdrec_record(c, in, -1, NULL, 0);
    }
    drop_flight(c, i);
    return r;
}

int ng_cmdrec_stopped(void *ctx, pid_t pid, int status)
{
    struct ng_cmdrec *c = ctx;

    for (size_t i = 0; i < c->nflight; i++)
        if (c->flight[i].info.tid == pid) {
            int r = outcome(c, i, status);
            return r < 0 ? r : 1;
        }
    return 0;
}

/* What has become of flight i, without taking a status that is not ours:
 * the relay's own child (the entering child, which may exec itself) is
 * reaped by the relay, so its exit is only looked at. 1 when the outcome
 * was recorded, 0 when there is none yet. */
static int look(struct ng_cmdrec *c, size_t i)
{
    struct ng_cmd_info *in = &c->flight[i].info;
    pid_t tid = in->tid;
    siginfo_t si;
    int st;

    memset(&si, 0, sizeof(si));
    int w = waitid(P_PID, (id_t)tid, &si, WEXITED | WSTOPPED | WNOHANG | WNOWAIT | __WALL);
    if (w < 0 && errno == ECHILD && in->ids.tgid != tid) {
        /* A thread that is not its group's leader took the leader's pid
         * when its exec succeeded: the exec stop is reported under it. */
        memset(&si, 0, sizeof(si));
        w = waitid(P_PID, (id_t)in->ids.tgid, &si, WEXITED | WSTOPPED | WNOHANG | WNOWAIT | __WALL);
        if (w == 0 && si.si_pid == in->ids.tgid) {
            tid = (pid_t)in->ids.tgid;
            (void)ng_cmdread_open(c, in, tid); /* its /proc directory is the leader's now */
        }
    }
    if (w < 0) {
        if (errno != ECHILD)
            return 0;
        /* No longer ours to wait for (reaped elsewhere): what was read. */
        int r = ng_cmdrec_record(c, in, -1, NULL, 0);
        drop_flight(c, i);
        return r < 0 ? r : 1;
    }
    if (si.si_pid != tid)
        return 0;
    int exited = si.si_code == CLD_EXITED || si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED;
    if (!exited) {
        if (waitpid(tid, &st, __WALL | WNOHANG) != tid)
            return 0;
    } else {
        /* A tracee that is not our child goes on to its parent once we
         * have waited for it; our own child is the relay's to reap. */
        if (tid != c->child)
            (void)waitpid(tid, &st, __WALL | WNOHANG);
        st = 0; /* not a stop: outcome() records it as not observed */
    }
    int r = outcome(c, i, st);
    return r < 0 ? r : 1;
}

int ng_cmdrec_reap(void *ctx)
{
    struct ng_cmdrec *c = ctx;

    for (size_t i = 0; i < c->nflight;) {
        int r = look(c, i);
        if (r < 0)
            return r;
        if (r == 0)
            i++; /* else slot i now holds another flight */
    }
    return 0;
}

/* Attach so the outcome can be seen; 0 when attached. */
static int attach(pid_t tid)
{
    if (ptrace(PTRACE_SEIZE, tid, NULL, (void *)(long)(PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL)) < 0)
        return -errno;
    if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) < 0) {
        int e = -errno;
        (void)ptrace(PTRACE_DETACH, tid, NULL, NULL);
        return e;
    }
    return 0;
}

/* ---- one notification ---------------------------------------------------- */

/* Wait a little (20 ms at most) for the outcome of the exec just let go:
 * the stop wakes a waiter in waitid synchronously (on the CPU of the task
 * that stops), where a wake-up through the relay's poll costs a scheduling
 * round on a loaded machine (measured: 1,000 execs 1.39 s async, 1.08 s
 * with this wait, 1.13 s unrecorded). An exec that takes longer stays in
 * flight and is collected at its SIGCHLD as before. */
static int wait_outcome(struct ng_cmdrec *c, pid_t tid)
{
    struct itimerval t = {.it_value = {0, 20000}}, off = {0};
    siginfo_t si;

    memset(&si, 0, sizeof(si));
    setitimer(ITIMER_REAL, &t, NULL);
    int r = waitid(P_PID, (id_t)tid, &si, WEXITED | WSTOPPED | __WALL | WNOWAIT);
    setitimer(ITIMER_REAL, &off, NULL);
    if (r < 0)
        return 0;
    for (size_t i = 0; i < c->nflight; i++) {
        int st;
        if (c->flight[i].info.tid != tid)
            continue;
        /* A stop is ours to take at once; anything else goes the long way. */
        if (si.si_pid == tid && si.si_code == CLD_TRAPPED &&
            waitpid(tid, &st, __WALL | WNOHANG) == tid)
            return outcome(c, i, st);
        r = look(c, i);
        return r < 0 ? r : 0;
    }
    return 0;
}

/* Let go of a task attached to for nothing (its notification is gone: it
 * was killed, and another process may have its pid by now). Detaching
 * needs it stopped: wait a moment for the interrupt's stop, passing a
 * signal it stopped for on. */
static void release(const struct ng_cmdrec *c, pid_t tid)
{
    struct timespec ts = {0, 1000 * 1000};

    for (int i = 0; i < 100 && ptrace(PTRACE_DETACH, tid, NULL, NULL) < 0 && errno == ESRCH; i++) {
        siginfo_t si;
        int st;
        memset(&si, 0, sizeof(si));
        if (waitid(P_PID, (id_t)tid, &si, WEXITED | WSTOPPED | WNOHANG | WNOWAIT | __WALL) < 0)
            return; /* gone */
        if (si.si_pid != tid) {
            nanosleep(&ts, NULL);
            continue;
        }
        if (si.si_code != CLD_TRAPPED && si.si_code != CLD_STOPPED) {
            /* dead: a tracee that is not our child goes on to its parent
             * once waited for; our own child is the relay's to reap */
            if (tid != c->child)
                (void)waitpid(tid, &st, __WALL | WNOHANG);
            return;
        }
        if (waitpid(tid, &st, __WALL | WNOHANG) == tid && WIFSTOPPED(st)) {
            int sig = st >> 16 == PTRACE_EVENT_STOP ? 0 : WSTOPSIG(st);
            (void)ptrace(PTRACE_DETACH, tid, NULL, (void *)(long)sig);
        }
        return;
    }
}

static int exact(struct ng_cmdrec *c, const struct seccomp_notif *n, struct ng_cmd_info *in)
{
    /* Valid after the attach: the task attached to is the one waiting in
     * its exec (it holds its pid while it waits). */
    if (!still_valid(c, n->id) || respond(c, n->id, 0) < 0) {
        /* The task was killed meanwhile: nothing ran. */
        release(c, in->tid);
        ng_cmdread_free(in);
        return 0;
    }
    c->flight[c->nflight++].info = *in;
    return wait_outcome(c, in->tid);
}

static int fallback(struct ng_cmdrec *c, const struct seccomp_notif *n, struct ng_cmd_info *in)
{
    int r = 0;

    if (still_valid(c, n->id)) {
        r = ng_cmdrec_record(c, in, -1, NULL, 0);
        /* Not recorded: the exec does not happen. */
        (void)respond(c, n->id, r < 0 ? EPERM : 0);
    }
    ng_cmdread_free(in);
    return r;
}

static int handle(struct ng_cmdrec *c, const struct seccomp_notif *n)
{
    struct ng_cmd_info in;
    int ptr, which = ng_cmdrec_decode(n->data.arch, n->data.nr, &ptr);
    pid_t tid = (pid_t)n->pid;

    if (which < 0) { /* not a call the filter hands over: refuse it */
        (void)respond(c, n->id, ENOSYS);
        return 0;
    }
    uint64_t args[6];
    for (int i = 0; i < 6; i++)
        args[i] = n->data.args[i];
    int r = ng_cmdread_before(c, tid, which, ptr, args, &in);
    if (r == -ESRCH)
        return 0; /* gone: the notification died with it */
    if (r < 0) {
        (void)respond(c, n->id, EPERM);
        return r;
    }
    if (c->killable && c->nflight < NG_CMDREC_IN_FLIGHT_MAX && attach(tid) == 0)
        return exact(c, n, &in);
    return fallback(c, n, &in);
}

int ng_cmdrec_notify(void *ctx)
{
    struct ng_cmdrec *c = ctx;
    struct pollfd p = {.fd = c->listener, .events = POLLIN};
    int r = 0, first = 1;

    /* The caller saw the listener readable: the first one is taken at once.
     * (Had it been withdrawn meanwhile, RECV says ENOENT, it does not block.) */
    while (r == 0 && c->listener >= 0 && (first || (poll(&p, 1, 0) == 1 && (p.revents & POLLIN)))) {
        first = 0;
        struct seccomp_notif n;
        memset(&n, 0, sizeof(n));
        if (ioctl(c->listener, SECCOMP_IOCTL_NOTIF_RECV, &n) < 0) {
            if (errno == EINTR || errno == ENOENT)
                continue; /* the caller was killed before we took it */
            return -errno;
        }
        r = handle(c, &n);
    }
    return r;
}

/* ---- the end ------------------------------------------------------------- */

int ng_cmdrec_finish(struct ng_cmdrec *c, int wait_ms)
{
    struct timespec ts = {0, 2 * 1000 * 1000};
    int r = 0;

    for (int waited = 0; c->nflight > 0 && waited < wait_ms && r == 0; waited += 2) {
        r = ng_cmdrec_reap(c);
        if (c->nflight > 0)
            nanosleep(&ts, NULL);
    }
    while (c->nflight > 0) {
        /* Still inside its exec: recorded as not observed, left to go on. */
        int e = ng_cmdrec_record(c, &c->flight[0].info, -1, NULL, 0);
        (void)ptrace(PTRACE_DETACH, c->flight[0].info.tid, NULL, NULL);
        drop_flight(c, 0);
        if (r == 0)
            r = e;
    }
    return r;
}

void ng_cmdrec_free(struct ng_cmdrec *c)
{
    for (size_t i = 0; c->flight && i < c->nflight; i++)
        ng_cmdread_free(&c->flight[i].info);
    free(c->flight);
    free(c->uid_map);
    free(c->gid_map);
    ng_closep(&c->listener);
    ng_closep(&c->parent_dir);
    memset(c, 0, sizeof(*c));
    c->listener = c->parent_dir = -1;
}
