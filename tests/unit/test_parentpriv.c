/* The recorder's privilege drop and system call filter (parentpriv.c),
 * installed for real in a forked child of this test: what the recorder
 * never needs again fails with EPERM and is counted as refused by the
 * filter (not merely by a missing capability); what the relay, the store
 * and the key code use still works; /proc/self/status shows the result.
 * The drop needs root (CAP_SETPCAP): skipped otherwise. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <pthread.h>
#include <pty.h>
#include <sched.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <linux/seccomp.h>
#include <sys/ptrace.h>
#include <sys/time.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nsgate/creds.h"
#include "nsgate/parentpriv.h"

#if defined(__x86_64__) || defined(__aarch64__)
#define COUNTED 1 /* refusals trap and are counted on these */
#endif

static void test_keep(void **state)
{
    struct ng_parentpriv_needs n = {0};
    const uint64_t kill = UINT64_C(1) << CAP_KILL;

    (void)state;
    assert_int_equal(ng_parentpriv_keep(&n), kill);
    n.audit_write = 1;
    assert_int_equal(ng_parentpriv_keep(&n), kill | UINT64_C(1) << CAP_AUDIT_WRITE);
    n.audit_status = 1;
    n.cgroup_override = 1;
    assert_int_equal(ng_parentpriv_keep(&n), kill | UINT64_C(1) << CAP_AUDIT_WRITE |
                                                 UINT64_C(1) << CAP_AUDIT_CONTROL |
                                                 UINT64_C(1) << CAP_DAC_OVERRIDE);
    struct ng_parentpriv_needs c = {.commands = 1};
    assert_int_equal(ng_parentpriv_keep(&c), kill | UINT64_C(1) << CAP_SYS_PTRACE);
}

static int dir_case(const char *tmp, const char *name, mode_t mode, uid_t uid)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/%s", tmp, name);
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(chmod(path, mode), 0);
    if (uid != (uid_t)-1)
        assert_int_equal(chown(path, uid, (gid_t)-1), 0);
    int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    assert_true(fd >= 0);
    int r = ng_parentpriv_dir_needs_override(fd);
    close(fd);
    assert_int_equal(rmdir(path), 0);
    return r;
}

static void test_dir_needs_override(void **state)
{
    char tmp[] = "/tmp/ng_pp_XXXXXX";

    (void)state;
    if (geteuid() != 0)
        skip();
    assert_non_null(mkdtemp(tmp));
    assert_int_equal(dir_case(tmp, "a", 0755, (uid_t)-1), 0); /* /nsgate */
    assert_int_equal(dir_case(tmp, "b", 0555, (uid_t)-1), 1); /* a cgroup2 root */
    assert_int_equal(dir_case(tmp, "c", 0755, 65534), 1);     /* a user's delegated group */
    assert_int_equal(rmdir(tmp), 0);
}

/* ---- the child ---- */

struct probe {
    int rep; /* where failures are written */
    int fails;
    unsigned long refused; /* the filter's count as last seen */
};

static void note(struct probe *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct probe *p, const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
    va_end(ap);
    if (n < 0 || n >= (int)sizeof(line) - 1)
        n = (int)sizeof(line) - 2;
    line[n++] = '\n';
    (void)!write(p->rep, line, (size_t)n);
    p->fails++;
}

static void refused(struct probe *p, const char *name, long ret, int err)
{
    char last[32];
    unsigned long n = ng_parentpriv_refused(last, sizeof(last));

    if (ret != -1 || err != EPERM)
        note(p, "%s: not refused (returned %ld, %s)", name, ret, strerror(err));
#ifdef COUNTED
    else if (n != p->refused + 1)
        note(p, "%s: EPERM, but not from the filter", name);
#endif
    p->refused = n;
}

static void works(struct probe *p, const char *name, long ret, int err)
{
    if (ret < 0)
        note(p, "%s: failed (%s)", name, strerror(err));
    if (ng_parentpriv_refused(NULL, 0) != p->refused)
        note(p, "%s: a call was refused", name);
}

#define REFUSED(p, call)                                                                           \
    do {                                                                                           \
        errno = 0;                                                                                 \
        long r_ = (long)(call);                                                                    \
        refused(p, #call, r_, errno);                                                              \
    } while (0)
#define WORKS(p, call)                                                                             \
    do {                                                                                           \
        errno = 0;                                                                                 \
        long r_ = (long)(call);                                                                    \
        works(p, #call, r_, errno);                                                                \
    } while (0)

/* Everything a later attacker in the recorder would reach for. Arguments
 * are chosen so that a call that got through could do no harm here (paths
 * that do not exist, invalid flags, a child that exits at once). */
static void probe_escapes(struct probe *p, int nsfd)
{
    char prog[] = "/bin/true";
    char *argv[] = {prog, NULL}, *envp[] = {NULL};

    REFUSED(p, syscall(SYS_execve, "/bin/true", argv, envp));
    REFUSED(p, syscall(SYS_execveat, AT_FDCWD, "/bin/true", argv, envp, 0));
    REFUSED(p, syscall(SYS_setns, nsfd, 0));
    REFUSED(p, syscall(SYS_unshare, CLONE_NEWNS));
    REFUSED(p, syscall(SYS_unshare, CLONE_NEWUSER));
    REFUSED(p, syscall(SYS_mount, "none", "/nonexistent-ng", "tmpfs", 0, NULL));
    REFUSED(p, syscall(SYS_umount2, "/nonexistent-ng", MNT_DETACH));
    REFUSED(p, syscall(SYS_pivot_root, "/nonexistent-ng", "/nonexistent-ng"));
    REFUSED(p, syscall(SYS_chroot, "/nonexistent-ng"));
    REFUSED(p, syscall(SYS_bpf, 0, NULL, 0));
    REFUSED(p, syscall(SYS_keyctl, 0, -3, 0));
    REFUSED(p, syscall(SYS_add_key, "user", "ng", "x", 1, -2));
    REFUSED(p, syscall(SYS_request_key, "user", "ng-none", NULL, 0));
    REFUSED(p, syscall(SYS_init_module, NULL, 0, ""));
    REFUSED(p, syscall(SYS_finit_module, -1, "", 0));
    REFUSED(p, syscall(SYS_delete_module, "ng_none", O_NONBLOCK));
    REFUSED(p, syscall(SYS_kexec_load, 0, 0, NULL, 0xdead0000UL));
    REFUSED(p, syscall(SYS_kexec_file_load, -1, -1, 0, "", 0xdead0000UL));
    REFUSED(p, syscall(SYS_process_vm_readv, getppid(), NULL, 0, NULL, 0, 0));
    REFUSED(p, syscall(SYS_process_vm_writev, getppid(), NULL, 0, NULL, 0, 0));
    REFUSED(p, syscall(SYS_pidfd_open, getppid(), 0));
    REFUSED(p, syscall(SYS_pidfd_getfd, -1, 0, 0));
    REFUSED(p, syscall(SYS_personality, 0xffffffffUL));
    REFUSED(p, syscall(SYS_open_by_handle_at, AT_FDCWD, NULL, 0));
    REFUSED(p, syscall(SYS_memfd_create, "ng", 0));
    REFUSED(p, syscall(SYS_userfaultfd, 0));
    REFUSED(p, syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));
    REFUSED(p, syscall(SYS_io_uring_setup, 1, NULL));
    REFUSED(p, syscall(SYS_mkdir, "/nonexistent-ng/x", 0700));
}

static void probe_ids_and_procs(struct probe *p)
{
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2] = {{0}};
    struct rlimit rl;

    REFUSED(p, syscall(SYS_setuid, 0));
    REFUSED(p, syscall(SYS_setresuid, 0, 0, 0));
    REFUSED(p, syscall(SYS_setreuid, 0, 0));
    REFUSED(p, syscall(SYS_setgid, 0));
    REFUSED(p, syscall(SYS_setresgid, 0, 0, 0));
    REFUSED(p, syscall(SYS_setgroups, 0, NULL));
    REFUSED(p, syscall(SYS_setfsuid, 0));
    REFUSED(p, syscall(SYS_capset, &h, d));
    REFUSED(p, syscall(SYS_prlimit64, 1, RLIMIT_NOFILE, NULL, &rl));
    REFUSED(p, syscall(SYS_tgkill, 1, 1, 0));
    /* clone3 says ENOSYS (glibc then uses clone, whose flags the filter
     * reads); a clone that is not exactly a thread is refused (below: its
     * flags would be EINVAL from the kernel, a thread without CLONE_SIGHAND). */
    errno = 0;
    long c3 = syscall(SYS_clone3, NULL, 0);
    if (c3 != -1 || errno != ENOSYS)
        note(p, "clone3: returned %ld (%s), not ENOSYS", c3, strerror(errno));
    /* A child that got through exits at once. */
    long c = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
    if (c == 0)
        _exit(0);
    refused(p, "clone(CLONE_NEWUSER)", c, errno);
#ifndef NSGATE_SANITIZE_BUILD /* allowed there for LeakSanitizer */
    REFUSED(p, syscall(SYS_clone, CLONE_THREAD | CLONE_VM, 0, 0, 0, 0));
    c = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
    if (c == 0)
        _exit(0);
    refused(p, "clone (fork)", c, errno);
    REFUSED(p, syscall(SYS_ptrace, PTRACE_GETREGS, getppid(), 0, 0)); /* else ESRCH */
    REFUSED(p, prctl(PR_SET_DUMPABLE, 1, 0, 0, 0));
#endif
    REFUSED(p, socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    REFUSED(p, socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0));
    REFUSED(p, socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
}

static void probe_memory(struct probe *p, int master)
{
    char c = 'x';
    void *m = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    refused(p, "mmap(PROT_EXEC)", m == MAP_FAILED ? -1 : 0, errno);
    m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    works(p, "mmap(PROT_READ|PROT_WRITE)", m == MAP_FAILED ? -1 : 0, errno);
    if (m != MAP_FAILED) {
        REFUSED(p, mprotect(m, 4096, PROT_READ | PROT_EXEC));
        WORKS(p, mprotect(m, 4096, PROT_READ));
        WORKS(p, mlock(m, 4096));
        WORKS(p, munlock(m, 4096));
        WORKS(p, munmap(m, 4096));
    }
    /* A hijacked recorder cannot type into the operator's terminal. */
    REFUSED(p, ioctl(master, TIOCSTI, &c));
}

static int last_cap_of_probe;

/* The store's batch thread starts under the filter and has what its
 * creator has: the dropped capabilities, the filter, no_new_privs. */
static void *thread_probe(void *arg)
{
    struct probe *p = arg;
    const char *why = NULL;

    WORKS(p, ng_parentpriv_verify(UINT64_C(1) << CAP_KILL, last_cap_of_probe, &why));
    REFUSED(p, syscall(SYS_setresuid, 0, 0, 0));
    return NULL;
}

static void probe_thread(struct probe *p)
{
    pthread_t t;
    int e = pthread_create(&t, NULL, thread_probe, p);

    works(p, "pthread_create", e ? -1 : 0, e);
    if (e == 0)
        (void)pthread_join(t, NULL);
}

/* What the relay, the store, the sealer and libaudit do. */
static void probe_works(struct probe *p, int file, int sock, int master)
{
    char buf[64] = "hello";
    struct timespec ts = {0, 1000000}, now;
    struct winsize ws;
    struct termios tio;
    struct stat st;
    struct rlimit rl;
    struct flock lk = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};

    WORKS(p, pwrite(file, buf, 5, 0));
    WORKS(p, pread(file, buf, 5, 0));
    WORKS(p, fsync(file));
    WORKS(p, fdatasync(file));
    WORKS(p, ftruncate(file, 8192));
    WORKS(p, fcntl(file, F_SETLK, &lk));
    WORKS(p, flock(file, LOCK_EX));
    WORKS(p, fstat(file, &st));
    void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, file, 0);
    works(p, "mmap(MAP_SHARED) of the file", m == MAP_FAILED ? -1 : 0, errno);
    if (m != MAP_FAILED)
        munmap(m, 4096);
    WORKS(p, getrandom(buf, sizeof(buf), 0));
    WORKS(p, send(sock, "a", 1, 0));
    WORKS(p, syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &now));
    WORKS(p, nanosleep(&ts, NULL));
    WORKS(p, poll(NULL, 0, 1));
    WORKS(p, kill(getpid(), 0));
    WORKS(p, syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), 0));
    WORKS(p, getrlimit(RLIMIT_NOFILE, &rl));
    WORKS(p, tcgetattr(master, &tio));
    WORKS(p, tcsetattr(master, TCSADRAIN, &tio));
    WORKS(p, ioctl(master, TIOCGWINSZ, &ws));
    WORKS(p, ioctl(master, TIOCSWINSZ, &ws));
    int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    works(p, "open(/dev/null)", fd, errno);
    if (fd >= 0)
        close(fd);
    WORKS(p, waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD ? 0 : -1);
    WORKS(p, prctl(PR_SET_DUMPABLE, 0, 0, 0, 0));
    unsigned char *s = sodium_malloc(64);
    works(p, "sodium_malloc", s ? 0 : -1, errno);
    if (s) {
        WORKS(p, sodium_mprotect_noaccess(s));
        WORKS(p, sodium_mprotect_readwrite(s));
        sodium_free(s);
    }
}

static void probe_status(struct probe *p)
{
    char st[8192];
    int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, st, sizeof(st) - 1) : -1;
    if (fd >= 0)
        close(fd);
    if (n <= 0) {
        note(p, "cannot read /proc/self/status");
        return;
    }
    st[n] = '\0';
    const char *want[] = {"CapInh:\t0000000000000000",
                          "CapPrm:\t0000000000000020",
                          "CapEff:\t0000000000000020",
                          "CapBnd:\t0000000000000020",
                          "CapAmb:\t0000000000000000",
                          "NoNewPrivs:\t1",
                          "Seccomp:\t2",
                          "Seccomp_filters:\t1"};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        if (!strstr(st, want[i]))
            note(p, "/proc/self/status lacks \"%s\"", want[i]);
}

__attribute__((noreturn)) static void child(int rep, const char *file_path)
{
    struct probe p = {.rep = rep};
    const char *why = NULL;
    int last_cap = 0, sv[2], master, slave;
    /* Opened before the drop, as the recorder opens its descriptors. */
    int file = open(file_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    int nsfd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);

    if (file < 0 || nsfd < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 ||
        openpty(&master, &slave, NULL, NULL, NULL) < 0 || ng_caps_last_cap(&last_cap) < 0 ||
        sodium_init() < 0)
        _exit(100);
    last_cap_of_probe = last_cap;
    int r = ng_parentpriv_restrict(UINT64_C(1) << CAP_KILL, last_cap, &why);
    if (r < 0) {
        note(&p, "restrict: %s: %s", why ? why : "?", strerror(-r));
        _exit(101);
    }
    probe_status(&p);
    probe_works(&p, file, sv[0], master);
    probe_escapes(&p, nsfd);
    probe_ids_and_procs(&p);
    probe_memory(&p, master);
    probe_thread(&p);
    WORKS(&p, ng_parentpriv_verify(UINT64_C(1) << CAP_KILL, last_cap, &why));
    _exit(p.fails > 99 ? 99 : p.fails); /* no LeakSanitizer run in the child */
}

static void test_filter_in_child(void **state)
{
    char tmp[] = "/tmp/ng_pp_XXXXXX", file[64], out[8192];
    int rep[2], st;
    size_t len = 0;
    ssize_t n;

    (void)state;
    if (geteuid() != 0)
        skip();
    assert_non_null(mkdtemp(tmp));
    snprintf(file, sizeof(file), "%s/f", tmp);
    assert_int_equal(pipe2(rep, O_CLOEXEC), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(rep[0]);
        child(rep[1], file);
    }
    close(rep[1]);
    /* A child stuck on something that got through is killed after 30 s. */
    struct pollfd pf = {.fd = rep[0], .events = POLLIN};
    while (len < sizeof(out) - 1 && poll(&pf, 1, 30000) == 1 &&
           (n = read(rep[0], out + len, sizeof(out) - 1 - len)) > 0)
        len += (size_t)n;
    (void)kill(pid, SIGKILL); /* gone already, unless stuck */
    out[len] = '\0';
    close(rep[0]);
    assert_int_equal(waitpid(pid, &st, 0), pid);
    unlink(file);
    rmdir(tmp);
    if (len)
        print_message("%s", out);
    if (WIFSIGNALED(st)) /* e.g. an execve that got through */
        print_message("the probing child was killed by signal %d\n", WTERMSIG(st));
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

/* Not refused by the filter (it may fail for another reason). */
static void let_through(struct probe *p, const char *name)
{
    if (ng_parentpriv_refused(NULL, 0) != p->refused)
        note(p, "%s: refused by the filter", name);
}

/* With CAP_SYS_PTRACE kept (record_commands), the command recorder's own
 * calls get through the filter, and only those: its ptrace requests, the
 * listener's ioctls, process_vm_readv, setitimer; ptrace that writes or
 * attaches stays out. */
__attribute__((noreturn)) static void commands_child(int rep)
{
    struct probe p = {.rep = rep};
    const char *why = NULL;
    int last_cap = 0;
    uint64_t keep = UINT64_C(1) << CAP_KILL | UINT64_C(1) << CAP_SYS_PTRACE;
    struct itimerval off = {0};
    uint64_t id = 0;

    if (ng_caps_last_cap(&last_cap) < 0 || sodium_init() < 0)
        _exit(100);
    if (ng_parentpriv_restrict(keep, last_cap, &why) < 0)
        _exit(101);
    /* A pid nothing has: the calls fail (ESRCH), but not by the filter. */
    (void)ptrace(PTRACE_SEIZE, 4194303, NULL, NULL);
    let_through(&p, "ptrace(PTRACE_SEIZE)");
    (void)ptrace(PTRACE_INTERRUPT, 4194303, NULL, NULL);
    let_through(&p, "ptrace(PTRACE_INTERRUPT)");
    (void)ptrace(PTRACE_DETACH, 4194303, NULL, NULL);
    let_through(&p, "ptrace(PTRACE_DETACH)");
    (void)ioctl(0, SECCOMP_IOCTL_NOTIF_ID_VALID, &id);
    let_through(&p, "ioctl(SECCOMP_IOCTL_NOTIF_ID_VALID)");
    WORKS(&p, setitimer(ITIMER_REAL, &off, NULL));
    (void)syscall(SYS_process_vm_readv, 4194303, NULL, 0, NULL, 0, 0);
    let_through(&p, "process_vm_readv");
#ifndef NSGATE_SANITIZE_BUILD /* ptrace is open there for LeakSanitizer */
    REFUSED(&p, ptrace(PTRACE_ATTACH, 4194303, NULL, NULL));
    REFUSED(&p, ptrace(PTRACE_POKEDATA, 4194303, NULL, NULL));
    REFUSED(&p, ptrace(PTRACE_SETREGS, 4194303, NULL, NULL));
#endif
    REFUSED(&p, syscall(SYS_process_vm_writev, 1, NULL, 0, NULL, 0, 0));
    WORKS(&p, ng_parentpriv_verify(keep, last_cap, &why));
    _exit(p.fails > 99 ? 99 : p.fails);
}

static void test_commands_filter(void **state)
{
    char out[4096];
    int rep[2], st;
    ssize_t n;

    (void)state;
    if (geteuid() != 0)
        skip();
    assert_int_equal(pipe2(rep, O_CLOEXEC), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(rep[0]);
        commands_child(rep[1]);
    }
    close(rep[1]);
    n = read(rep[0], out, sizeof(out) - 1);
    close(rep[0]);
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (n > 0) {
        out[n] = '\0';
        print_message("%s", out);
    }
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keep),
        cmocka_unit_test(test_dir_needs_override),
        cmocka_unit_test(test_filter_in_child),
        cmocka_unit_test(test_commands_filter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
