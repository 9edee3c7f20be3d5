/* A static helper for the confinement tests, run as targets and as the
 * program inside them:
 *   ng_sysc call NAME...            make each syscall, print "NAME: ok" or
 *                                   "NAME: ERRNONAME" (the answer a seccomp
 *                                   filter gives)
 *   ng_sysc filter [-n] NAME ERRNO... -- CMD [ARG...]
 *                                   install one filter answering each NAME
 *                                   with ERRNO (0: a faked success) and
 *                                   allowing the rest, then exec CMD; -n
 *                                   sets no_new_privs first (else it needs
 *                                   CAP_SYS_ADMIN); repeat "filter" in CMD
 *                                   to stack filters
 *   ng_sysc drop UID GID -- CMD...   setgroups(0), setresgid, setresuid to the
 *                                   ids (checking only the return values, as
 *                                   most programs do), then exec CMD
 *   ng_sysc strict                  enter seccomp strict mode and block
 *   ng_sysc trace PID               attach to PID with PTRACE_SEIZE, print
 *                                   "tracing", and wait to be killed */
#include <errno.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/keyctl.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

static const struct {
    const char *name;
    long nr;
} calls[] = {
    {"keyctl", SYS_keyctl},
    {"getcpu", SYS_getcpu},
    {"setresuid", SYS_setresuid},
    {"setresgid", SYS_setresgid},
    {"setgroups", SYS_setgroups},
    {"capset", SYS_capset},
    {"prctl", SYS_prctl},
    {"uname", SYS_uname},
    {"sethostname", SYS_sethostname},
    {"personality", SYS_personality},
    {"userfaultfd", SYS_userfaultfd},
    {"io_uring_setup", SYS_io_uring_setup},
    {"syslog", SYS_syslog},
};

static long nr_of(const char *name)
{
    for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
        if (strcmp(calls[i].name, name) == 0)
            return calls[i].nr;
    fprintf(stderr, "ng_sysc: unknown syscall %s\n", name);
    exit(2);
}

/* Harmless arguments for each: a read-only question where there is one. */
static long make(long nr)
{
    unsigned cpu, node;
    char buf[512];
    if (nr == SYS_keyctl)
        return syscall(nr, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
    if (nr == SYS_getcpu)
        return syscall(nr, &cpu, &node, NULL);
    if (nr == SYS_uname)
        return syscall(nr, buf);
    if (nr == SYS_personality)
        return syscall(nr, 0xffffffffUL);
    if (nr == SYS_userfaultfd) { /* user-mode only: needs no privilege */
        long fd = syscall(nr, 1 /* UFFD_USER_MODE_ONLY */);
        if (fd >= 0)
            close((int)fd);
        return fd;
    }
    if (nr == SYS_io_uring_setup) { /* a bad argument: EFAULT, unless filtered */
        return syscall(nr, 1, NULL);
    }
    if (nr == SYS_syslog)
        return syscall(nr, 10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
    if (nr == SYS_sethostname) {
        gethostname(buf, sizeof(buf));
        return syscall(nr, buf, strlen(buf));
    }
    errno = EINVAL;
    return -1;
}

static int call(int argc, char **argv)
{
    for (int i = 2; i < argc; i++) {
        errno = 0;
        long r = make(nr_of(argv[i]));
        if (r < 0)
            printf("%s: %s\n", argv[i], strerrorname_np(errno));
        else
            printf("%s: ok\n", argv[i]);
    }
    return 0;
}

static int filter(int argc, char **argv)
{
    struct sock_filter f[64];
    int n = 0, i = 2, nnp = 0;

    if (i < argc && strcmp(argv[i], "-n") == 0)
        nnp = 1, i++;
    f[n++] =
        (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
    f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
    f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    f[n++] =
        (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
    for (; i + 1 < argc && strcmp(argv[i], "--") != 0 && n < 60; i += 2) {
        f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr_of(argv[i]), 0, 1);
        f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
                                              SECCOMP_RET_ERRNO | (atoi(argv[i + 1]) & 0xffff));
    }
    f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    if (i >= argc || strcmp(argv[i], "--") != 0 || i + 1 >= argc) {
        fprintf(stderr, "usage: ng_sysc filter [-n] NAME ERRNO... -- CMD...\n");
        return 2;
    }
    struct sock_fprog prog = {.len = (unsigned short)n, .filter = f};
    if (nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return perror("PR_SET_NO_NEW_PRIVS"), 1;
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
        return perror("seccomp"), 1;
    execvp(argv[i + 1], argv + i + 1);
    perror(argv[i + 1]);
    return 127;
}

static int drop(int argc, char **argv)
{
    uid_t uid = (uid_t)atoi(argv[2]);
    gid_t gid = (gid_t)atoi(argv[3]);

    if (argc < 6 || strcmp(argv[4], "--") != 0)
        return 2;
    if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
        return perror("drop"), 1;
    execvp(argv[5], argv + 5);
    perror(argv[5]);
    return 127;
}

static int strict(void)
{
    int p[2];
    char c;
    if (pipe(p) < 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0) < 0)
        return 1;
    (void)!read(p[0], &c, 1); /* nobody writes: blocks until killed */
    syscall(SYS_exit, 0);
    return 0;
}

static int trace(const char *pid)
{
    if (ptrace(PTRACE_SEIZE, atoi(pid), NULL, NULL) < 0)
        return perror("PTRACE_SEIZE"), 1;
    printf("tracing\n");
    fflush(stdout);
    for (;;)
        pause();
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "call") == 0)
        return call(argc, argv);
    if (argc >= 3 && strcmp(argv[1], "filter") == 0)
        return filter(argc, argv);
    if (argc >= 6 && strcmp(argv[1], "drop") == 0)
        return drop(argc, argv);
    if (argc == 2 && strcmp(argv[1], "strict") == 0)
        return strict();
    if (argc == 3 && strcmp(argv[1], "trace") == 0)
        return trace(argv[2]);
    fprintf(stderr, "usage: ng_sysc call NAME... | filter [-n] NAME ERRNO... -- CMD... | drop UID "
                    "GID -- CMD... | strict | trace PID\n");
    return 2;
}
