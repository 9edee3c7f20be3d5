/* The recorder's least privilege (see parentpriv.h for the order and
 * security.md "The recorder after the fork" for why each piece is there).
 *
 * MUST (checked by ng_parentpriv_verify before the child may enter):
 * - effective = permitted = bounding set = the kept capabilities; inheritable
 *   and ambient empty; no capability can come back (NOROOT, no ambient raise,
 *   no_new_privs, execve refused);
 * - seccomp mode 2 with the allow-list below: whatever is not on it fails
 *   with EPERM, is counted and named in the recording.
 *
 * EPERM rather than killing the process: the recorder's promise is that the
 * session is recorded and sealed to its end; a library that takes an
 * unforeseen path (a rare error branch, a newer libc) must get an error it
 * can handle, so the session still ends with its seal and end event, and the
 * refusal is recorded. A refused call is never carried out either way. */
#include "nsgate/parentpriv.h"
#include "nsgate/creds.h"

#include <errno.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <ucontext.h>
#include <unistd.h>

#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1
#endif

/* x86-64 and arm64: refused calls trap, so they can be counted and named;
 * the handler makes the call return -EPERM. Elsewhere plain EPERM. */
#if defined(__x86_64__) || defined(__aarch64__)
#define NG_SECCOMP_TRAP 1
#endif

/* SECBIT_NO_SETUID_FIXUP and SECBIT_KEEP_CAPS stay off and are locked off:
 * the kernel's fixup keeps dropping capabilities on any uid change. */
#define NG_SECUREBITS                                                                              \
    (SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP_LOCKED |                        \
     SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED)

/* Linux 6.6 (cmdrec.c asks for synchronous wake-ups on the listener). */
#define NG_SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)

static volatile sig_atomic_t refused_count;
static volatile sig_atomic_t refused_nr = -1;

uint64_t ng_parentpriv_keep(const struct ng_parentpriv_needs *needs)
{
    uint64_t keep = UINT64_C(1) << CAP_KILL;

    if (needs->audit_write)
        keep |= UINT64_C(1) << CAP_AUDIT_WRITE;
    if (needs->audit_status)
        keep |= UINT64_C(1) << CAP_AUDIT_CONTROL;
    if (needs->cgroup_override)
        keep |= UINT64_C(1) << CAP_DAC_OVERRIDE;
    if (needs->commands)
        keep |= UINT64_C(1) << CAP_SYS_PTRACE;
    return keep;
}

int ng_parentpriv_dir_needs_override(int dirfd)
{
    struct stat st;

    if (fstat(dirfd, &st) < 0)
        return -errno;
    return !(st.st_uid == 0 && (st.st_mode & S_IWUSR) && (st.st_mode & S_IXUSR));
}

/* ---- the allow-list ---- */

/* Allowed with any arguments. After the drop P0 works on descriptors it
 * already holds (pipes or the pty master, the caller's streams, the store,
 * the key state, the audit socket, the session group); it opens only files
 * relative to those, SQLite's temporary files, /dev/urandom (jansson's hash
 * seed) and /proc/self. */
/* clang-format off */
static const char *const allowed[] = {
    /* the relay, the store, the key state */
    "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev", "preadv2",
    "pwritev2", "lseek", "close", "dup", "dup3", "fcntl", "poll", "ppoll", "select", "pselect6",
    "fsync", "fdatasync", "ftruncate", "fallocate", "flock",
    /* files: SQLite's own, the live-session lock file, cgroup.kill/procs */
    "openat", "open", "fstat", "stat", "lstat", "newfstatat", "statx", "fstatfs", "statfs",
    "readlink", "readlinkat", "access", "faccessat", "faccessat2", "getdents", "getdents64",
    "getcwd", "unlink", "unlinkat", "rmdir", "fchmod", "fchown",
    /* the audit socket (libaudit: sendto, then recvfrom for the ack) */
    "sendto", "recvfrom", "sendmsg", "recvmsg", "getsockname",
    /* two-person control (control.h): its socket, bound and listening
     * before the drop; a peer's credentials; the epoll set of it and its
     * watchers */
    "accept4", "getsockopt", "epoll_wait", "epoll_pwait", "epoll_ctl",
    /* memory: libc, SQLite, libsodium's guarded and locked pages */
    "brk", "munmap", "mremap", "madvise", "mlock", "mlock2", "munlock",
    /* time and waiting */
    "clock_gettime", "clock_getres", "gettimeofday", "time", "nanosleep", "clock_nanosleep",
    /* signals, the session's end, the process's own state */
    "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack", "rt_sigpending",
    "restart_syscall", "kill", "wait4", "waitid", "exit", "exit_group", "getpid", "gettid",
    "getppid", "getuid", "geteuid", "getgid", "getegid", "getresuid", "getresgid", "getgroups",
    "capget", "uname", "sysinfo", "sched_getaffinity", "sched_yield", "getrandom", "futex",
    "getrlimit",
    /* a thread's own start (glibc): its robust futex list, its rseq area */
    "set_robust_list", "rseq",
};
/* clang-format on */

/* Terminal requests: the caller's terminal mode and window size, the pty's
 * mode (masking) and size, discarding the input a moderated session held
 * back (TCFLSH). Not TIOCSTI, TIOCLINUX, TIOCSETD, ...: a recorder taken
 * over by hostile output cannot type into the operator's shell. */
static const unsigned long ioctls[] = {
    TCGETS, TCSETS, TCSETSW, TCSETSF, TIOCGWINSZ, TIOCSWINSZ, FIONREAD, TCFLSH,
};

#ifndef NSGATE_SANITIZE_BUILD
/* prctl: only what ng_parentpriv_verify reads, and setting non-dumpable. */
static const int prctl_reads[] = {
    PR_GET_DUMPABLE, PR_GET_SECCOMP, PR_GET_NO_NEW_PRIVS, PR_GET_SECUREBITS, PR_CAPBSET_READ,
};
#endif

#define NS_FLAGS                                                                                   \
    (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID |  \
     CLONE_NEWNET)

static int allow(scmp_filter_ctx ctx, const char *name, unsigned n, const struct scmp_arg_cmp *a)
{
    int nr = seccomp_syscall_resolve_name(name);

    if (nr == __NR_SCMP_ERROR)
        return 0; /* not a system call on this architecture */
    return seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, n, a);
}

/* The store's batch thread (ng_store_session_async), started after the
 * drop, so it inherits the dropped capabilities and this filter: clone with
 * exactly glibc's flags for a thread, a thread of this process and nothing
 * else (no fork, no namespace); clone3, whose flags lie in memory a filter
 * cannot read, says ENOSYS, and glibc falls back to clone. */
#define THREAD_FLAGS                                                                               \
    (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SYSVSEM | CLONE_SIGHAND | CLONE_THREAD |            \
     CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID)

static int add_thread(scmp_filter_ctx ctx)
{
    struct scmp_arg_cmp thread = SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffUL, THREAD_FLAGS);
    int r = allow(ctx, "clone", 1, &thread);
    int nr = seccomp_syscall_resolve_name("clone3");

    if (r == 0 && nr != __NR_SCMP_ERROR)
        r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0);
    return r;
}

/* Calls allowed only with some arguments. */
static int add_conditional(scmp_filter_ctx ctx)
{
    int r = 0;
    /* No executable memory: no code can be added to the process. */
    struct scmp_arg_cmp noexec = SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0);
    const char *mm[] = {"mmap", "mprotect"};

    for (size_t i = 0; r == 0 && i < sizeof(mm) / sizeof(mm[0]); i++)
        r = allow(ctx, mm[i], 1, &noexec);
    for (size_t i = 0; r == 0 && i < sizeof(ioctls) / sizeof(ioctls[0]); i++) {
        struct scmp_arg_cmp c = SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffUL, ioctls[i]);
        r = allow(ctx, "ioctl", 1, &c);
    }
#ifndef NSGATE_SANITIZE_BUILD
    for (size_t i = 0; r == 0 && i < sizeof(prctl_reads) / sizeof(prctl_reads[0]); i++) {
        struct scmp_arg_cmp c = SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)prctl_reads[i]);
        r = allow(ctx, "prctl", 1, &c);
    }
    struct scmp_arg_cmp dump[2] = {SCMP_A0(SCMP_CMP_EQ, PR_SET_DUMPABLE), SCMP_A1(SCMP_CMP_EQ, 0)};
    struct scmp_arg_cmp amb[2] = {SCMP_A0(SCMP_CMP_EQ, PR_CAP_AMBIENT),
                                  SCMP_A1(SCMP_CMP_EQ, PR_CAP_AMBIENT_IS_SET)};
    if (r == 0)
        r = allow(ctx, "prctl", 2, dump);
    if (r == 0)
        r = allow(ctx, "prctl", 2, amb);
#endif
    /* Signals to a thread only within this process (abort); resource limits
     * only of this process. */
    struct scmp_arg_cmp self = SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid(), 0);
    struct scmp_arg_cmp pid0 = SCMP_A0(SCMP_CMP_EQ, 0, 0);
    if (r == 0)
        r = allow(ctx, "tgkill", 1, &self);
    if (r == 0)
        r = allow(ctx, "prlimit64", 1, &pid0);
    if (r == 0)
        r = add_thread(ctx);
    return r;
}

/* The command recorder (record_commands, cmdrec.c): its ptrace requests on
 * the task of an exec notification (attach, interrupt, detach, the return
 * value of a failed exec), process_vm_readv of its argv, the listener's
 * ioctls, and the timer that bounds its wait for an exec's outcome. Only
 * with CAP_SYS_PTRACE kept. */
static int add_commands(scmp_filter_ctx ctx)
{
    static const long requests[] = {PTRACE_SEIZE, PTRACE_INTERRUPT, PTRACE_DETACH, PTRACE_PEEKUSER,
                                    PTRACE_GETREGSET};
    static const unsigned long notif[] = {SECCOMP_IOCTL_NOTIF_RECV, SECCOMP_IOCTL_NOTIF_SEND,
                                          SECCOMP_IOCTL_NOTIF_ID_VALID,
                                          NG_SECCOMP_IOCTL_NOTIF_SET_FLAGS};
    int r = allow(ctx, "setitimer", 0, NULL);

    if (r == 0)
        r = allow(ctx, "process_vm_readv", 0, NULL);

    for (size_t i = 0; r == 0 && i < sizeof(requests) / sizeof(requests[0]); i++) {
        struct scmp_arg_cmp c = SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)requests[i], 0);
        r = allow(ctx, "ptrace", 1, &c);
    }
    for (size_t i = 0; r == 0 && i < sizeof(notif) / sizeof(notif[0]); i++) {
        struct scmp_arg_cmp c = SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffUL, notif[i]);
        r = allow(ctx, "ioctl", 1, &c);
    }
    return r;
}

/* A sanitizer build only (never production): LeakSanitizer's check at exit
 * clones a tracer thread (no namespace flags), makes the process dumpable
 * and ptraces it; prctl is open for that. */
static int add_sanitizer(scmp_filter_ctx ctx)
{
#ifdef NSGATE_SANITIZE_BUILD
    struct scmp_arg_cmp nons = SCMP_A0(SCMP_CMP_MASKED_EQ, NS_FLAGS, 0);
    int r = allow(ctx, "clone", 1, &nons);
    if (r == 0)
        r = allow(ctx, "ptrace", 0, NULL);
    if (r == 0)
        r = allow(ctx, "prctl", 0, NULL);
    return r;
#else
    (void)ctx;
    return 0;
#endif
}

static int build_filter(scmp_filter_ctx *ret, int commands)
{
#ifdef NG_SECCOMP_TRAP
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
#else
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
#endif
    int r = ctx ? 0 : -ENOMEM;

    /* Another ABI's system calls (i386 int 0x80, x32) are never ours. */
    if (r == 0)
        r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
    /* The kernel audit trail records each refusal too (when auditing). */
    if (r == 0)
        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1);
    /* A binary tree instead of a linear list: read and write are cheap. */
    if (r == 0)
        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
    for (size_t i = 0; r == 0 && i < sizeof(allowed) / sizeof(allowed[0]); i++)
        r = allow(ctx, allowed[i], 0, NULL);
    if (r == 0)
        r = add_conditional(ctx);
    if (r == 0)
        r = add_sanitizer(ctx);
    if (r == 0 && commands)
        r = add_commands(ctx);
    if (r < 0) {
        seccomp_release(ctx);
        return r;
    }
    *ret = ctx;
    return 0;
}

#ifdef NG_SECCOMP_TRAP
static void on_sigsys(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;

    (void)sig;
    if (si->si_code != SYS_SECCOMP)
        return; /* sent by kill(): nothing to answer */
    refused_nr = si->si_syscall;
    refused_count++;
#if defined(__x86_64__)
    uc->uc_mcontext.gregs[REG_RAX] = -EPERM;
#else
    uc->uc_mcontext.regs[0] = (unsigned long long)-EPERM;
#endif
}
#endif

static int install_sigsys(void)
{
#ifdef NG_SECCOMP_TRAP
    struct sigaction sa;
    sigset_t set;

    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_sigsys;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigemptyset(&set);
    sigaddset(&set, SIGSYS);
    if (sigaction(SIGSYS, &sa, NULL) < 0 || sigprocmask(SIG_UNBLOCK, &set, NULL) < 0)
        return -errno;
#endif
    return 0;
}

unsigned long ng_parentpriv_refused(char *name, size_t size)
{
    unsigned long n = (unsigned long)refused_count;
    int nr = refused_nr;

    if (size == 0)
        return n;
    name[0] = '\0';
    if (n == 0)
        return 0;
    char *s = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
    if (s)
        snprintf(name, size, "%s", s);
    else
        snprintf(name, size, "#%d", nr);
    free(s);
    return n;
}

/* ---- capabilities ---- */

static int cap_set(uint64_t keep)
{
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2] = {
        {(uint32_t)keep, (uint32_t)keep, 0},
        {(uint32_t)(keep >> 32), (uint32_t)(keep >> 32), 0},
    };
    return syscall(SYS_capset, &h, d) < 0 ? -errno : 0;
}

#define FAIL(msg) (*why = (msg), errno ? -errno : -EPERM)

/* Everything before the filter. CAP_SETPCAP is needed for the securebits
 * and the bounding set, so those come before capset drops it. */
static int drop_caps(uint64_t keep, int last_cap, const char **why)
{
    if (prctl(PR_SET_SECUREBITS, NG_SECUREBITS, 0, 0, 0) < 0)
        return FAIL("PR_SET_SECUREBITS");
    for (int c = 0; c <= last_cap && c < 64; c++) {
        if ((keep >> c) & 1)
            continue;
        if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
            return FAIL("PR_CAPBSET_DROP");
    }
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
        return FAIL("PR_CAP_AMBIENT_CLEAR_ALL");
    if (cap_set(keep) < 0)
        return FAIL("capset");
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return FAIL("PR_SET_NO_NEW_PRIVS");
    /* A credential change may reset it; it must stay 0 (security.md). */
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
        return FAIL("PR_SET_DUMPABLE");
    return 0;
}

int ng_parentpriv_restrict(uint64_t keep, int last_cap, const char **why)
{
    scmp_filter_ctx ctx;
    uint64_t inh, prm, eff;
    int r;

    *why = NULL;
    if (last_cap < 0 || last_cap > 63)
        return *why = "cap_last_cap", -EINVAL;
    /* Built first: nothing has changed if this fails. */
    if ((r = build_filter(&ctx, !!(keep & (UINT64_C(1) << CAP_SYS_PTRACE)))) < 0)
        return *why = "building the seccomp filter", r;
    if ((r = ng_caps_get(&inh, &prm, &eff)) < 0) {
        seccomp_release(ctx);
        return *why = "capget", r;
    }
    keep &= prm; /* a capability the process lacks cannot be kept */
    errno = 0;
    r = drop_caps(keep, last_cap, why);
    if (r == 0 && (r = install_sigsys()) < 0)
        *why = "SIGSYS handler";
    if (r == 0 && (r = seccomp_load(ctx)) < 0)
        *why = "loading the seccomp filter";
    seccomp_release(ctx);
    if (r < 0)
        return r;
    return ng_parentpriv_verify(keep, last_cap, why);
}

/* ---- verification ---- */

static int verify_caps(uint64_t keep, int last_cap, const char **why)
{
    uint64_t inh, prm, eff;

    if (ng_caps_get(&inh, &prm, &eff) < 0 || inh != 0 || prm != keep || eff != keep)
        return *why = "capabilities not as dropped", -EPERM;
    for (int c = 0; c <= last_cap && c < 64; c++) {
        int in = prctl(PR_CAPBSET_READ, c, 0, 0, 0);
        if (in < 0 || in != (int)((keep >> c) & 1))
            return *why = "bounding set not as dropped", -EPERM;
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, c, 0, 0) != 0)
            return *why = "ambient set not empty", -EPERM;
    }
    return 0;
}

int ng_parentpriv_verify(uint64_t keep, int last_cap, const char **why)
{
    int r = verify_caps(keep, last_cap, why);

    if (r < 0)
        return r;
    if (prctl(PR_GET_SECUREBITS, 0, 0, 0, 0) != NG_SECUREBITS)
        return *why = "securebits not as set", -EPERM;
    if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
        return *why = "no_new_privs not set", -EPERM;
    if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
        return *why = "dumpable", -EPERM;
    if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) != 2)
        return *why = "seccomp filter not in force", -EPERM;
    return 0;
}
