/* Attempts to run a command inside a session without it being recorded, or
 * recorded as something else (a_cmd_bypass.sh). Each mode execs a program
 * that leaves a file DIR/ran-MODE (touch) or prints its argument, through
 * one trick; the script then checks that whatever ran is on record, as it
 * ran. Usage: x_cmd_bypass MODE DIR. Prints what the kernel said. */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif

static char *dir;
static char target[4096];
extern char **environ;

static int touch(const char *mode)
{
    snprintf(target, sizeof(target), "%s/ran-%s", dir, mode);
    static char prog[] = "/usr/bin/touch";
    char *argv[] = {prog, target, NULL};
    execve(argv[0], argv, environ);
    printf("%s: execve: %s\n", mode, strerror(errno));
    return 1;
}

/* A filter returning `action` for every call (execve only when only_exec). */
static long filter(unsigned action, int only_exec, unsigned long flags)
{
    struct sock_filter all[] = {BPF_STMT(BPF_RET | BPF_K, action)};
    struct sock_filter exec[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_execve, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, action),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog p = {.len = only_exec ? 4 : 1, .filter = only_exec ? exec : all};
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &p);
}

/* A tracer turns the child's getppid() into execve(touch) at the
 * syscall-entry stop: seccomp runs after that stop and sees the execve. */
static int ptrace_swap(void)
{
    static char path[] = "/usr/bin/touch";
    static char *argv[3];
    snprintf(target, sizeof(target), "%s/ran-ptrace-swap", dir);
    argv[0] = path;
    argv[1] = target;
    pid_t c = fork();
    if (c == 0) {
        ptrace(PTRACE_TRACEME, 0, NULL, NULL);
        raise(SIGSTOP);
        for (;;)
            syscall(SYS_getppid);
    }
    int st;
    waitpid(c, &st, 0);
    ptrace(PTRACE_SETOPTIONS, c, NULL, (void *)(long)(PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL));
    for (int i = 0; i < 1000; i++) {
        ptrace(PTRACE_SYSCALL, c, NULL, NULL);
        if (waitpid(c, &st, 0) < 0 || !WIFSTOPPED(st))
            break;
#if defined(__x86_64__)
        struct user_regs_struct r;
        ptrace(PTRACE_GETREGS, c, NULL, &r);
        if (r.orig_rax == SYS_getppid) {
            r.orig_rax = SYS_execve;
            r.rdi = (unsigned long)path;
            r.rsi = (unsigned long)argv;
            r.rdx = (unsigned long)environ;
            ptrace(PTRACE_SETREGS, c, NULL, &r);
            ptrace(PTRACE_DETACH, c, NULL, NULL);
            waitpid(c, &st, 0);
            printf("ptrace-swap: child %s %d\n", WIFEXITED(st) ? "exit" : "signal",
                   WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
            return 0;
        }
#endif
    }
    kill(c, SIGKILL);
    printf("ptrace-swap: not done\n");
    return 1;
}

/* The child traces nothing: its parent traces it (PTRACE_TRACEME), so the
 * recorder cannot attach; the exec is still recorded (from before it). */
static int ptrace_self(void)
{
    pid_t c = fork();
    if (c == 0) {
        ptrace(PTRACE_TRACEME, 0, NULL, NULL);
        raise(SIGSTOP);
        return touch("ptrace-self");
    }
    int st;
    waitpid(c, &st, 0);
    ptrace(PTRACE_SETOPTIONS, c, NULL, (void *)(long)PTRACE_O_TRACEEXEC);
    while (ptrace(PTRACE_CONT, c, NULL, NULL) == 0 && waitpid(c, &st, 0) == c && WIFSTOPPED(st))
        ;
    printf("ptrace-self: child done\n");
    return 0;
}

static int memfd_exec(void)
{
    int src = open("/usr/bin/touch", O_RDONLY | O_CLOEXEC), fd = memfd_create("innocent", 0);
    char buf[65536];
    ssize_t n;
    while ((n = read(src, buf, sizeof(buf))) > 0)
        if (write(fd, buf, (size_t)n) != n)
            return 1;
    snprintf(target, sizeof(target), "%s/ran-memfd", dir);
    static char name[] = "innocent";
    char *argv[] = {name, target, NULL};
    syscall(SYS_execveat, fd, "", argv, environ, AT_EMPTY_PATH);
    printf("memfd: execveat: %s\n", strerror(errno));
    return 1;
}

/* One thread execs /bin/echo with an argument another thread keeps
 * rewriting: what the record says must be what echo printed. */
static char race_arg[64] = "AAAAAAAAAAAAAAAA";
static volatile int racing = 1;

static void *flipper(void *unused)
{
    (void)unused;
    while (racing)
        for (int k = 0; k < 16 && racing; k++)
            race_arg[k] = race_arg[k] == 'A' ? 'B' : 'A';
    return NULL;
}

/* The exec from a thread that is not the leader, argv rewritten meanwhile. */
static void *race_exec(void *unused)
{
    static char prog[] = "/bin/echo";
    char *argv[] = {prog, race_arg, NULL};
    (void)unused;
    usleep(1000);
    execve(argv[0], argv, environ);
    printf("race-thread: execve: %s\n", strerror(errno));
    return NULL;
}

static int thread_race2(void)
{
    pthread_t t, e;
    pthread_create(&t, NULL, flipper, NULL);
    pthread_create(&e, NULL, race_exec, NULL);
    pthread_join(e, NULL);
    return 1;
}

static int thread_race(void)
{
    pthread_t t;
    pthread_create(&t, NULL, flipper, NULL);
    usleep(1000);
    static char prog[] = "/bin/echo";
    char *argv[] = {prog, race_arg, NULL};
    execve(argv[0], argv, environ);
    printf("race: execve: %s\n", strerror(errno));
    return 1;
}

/* The exec comes from a thread that is not its process's leader. */
static void *exec_thread(void *unused)
{
    (void)unused;
    touch("thread");
    return NULL;
}

static int thread_exec(void)
{
    pthread_t t;
    pthread_create(&t, NULL, exec_thread, NULL);
    pthread_join(t, NULL);
    return 1;
}

#if defined(__x86_64__)
/* execve through the i386 system call entry (int $0x80), with 32-bit
 * pointers in memory below 4 GiB. */
static int int80(void)
{
    char *m =
        mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
    if (m == MAP_FAILED)
        return printf("int80: no low memory\n"), 0;
    pid_t c = fork();
    if (c == 0) { /* does the kernel run i386 calls at all? getpid is 20 */
        long r;
        __asm__ volatile("int $0x80" : "=a"(r) : "a"(20L) : "memory");
        _exit(r > 0 ? 0 : 1);
    }
    int st;
    waitpid(c, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st))
        return printf("int80: no i386 system calls here\n"), 0;
    char *path = m, *arg1 = m + 64;
    unsigned *argv = (unsigned *)(void *)(m + 4096), *envp = argv + 4;
    strcpy(path, "/usr/bin/touch");
    snprintf(arg1, 4000, "%s/ran-int80", dir);
    argv[0] = (unsigned)(unsigned long)path;
    argv[1] = (unsigned)(unsigned long)arg1;
    argv[2] = 0;
    envp[0] = 0;
    long r;
    __asm__ volatile("int $0x80"
                     : "=a"(r)
                     : "a"(11L), "b"((long)path), "c"((long)argv), "d"((long)envp)
                     : "memory");
    printf("int80: execve returned %ld\n", r);
    return 1;
}
#endif

/* Does this process hold any descriptor of the recorder's (the listener)? */
static int fds(void)
{
    char p[64], l[256];
    for (int fd = 0; fd < 1024; fd++) {
        snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
        ssize_t n = readlink(p, l, sizeof(l) - 1);
        if (n < 0)
            continue;
        l[n] = '\0';
        printf("fd %d %s\n", fd, l);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return fprintf(stderr, "usage: x_cmd_bypass MODE DIR\n"), 2;
    const char *m = argv[1];
    dir = argv[2];
    setvbuf(stdout, NULL, _IONBF, 0);
    if (strcmp(m, "seccomp-allow") == 0) {
        printf("seccomp-allow: install %ld\n", filter(SECCOMP_RET_ALLOW, 0, 0));
        return touch(m);
    }
    if (strcmp(m, "seccomp-trace") == 0) {
        printf("seccomp-trace: install %ld\n", filter(SECCOMP_RET_TRACE, 1, 0));
        return touch(m);
    }
    if (strcmp(m, "seccomp-listener") == 0) {
        long fd = filter(SECCOMP_RET_USER_NOTIF, 1, SECCOMP_FILTER_FLAG_NEW_LISTENER);
        printf("seccomp-listener: install %ld (%s)\n", fd, fd < 0 ? strerror(errno) : "ok");
        return touch(m);
    }
    if (strcmp(m, "seccomp-notif") == 0) {
        printf("seccomp-notif: install %ld\n", filter(SECCOMP_RET_USER_NOTIF, 1, 0));
        return touch(m);
    }
    if (strcmp(m, "prctl") == 0) {
        int a = prctl(PR_SET_SECCOMP, 0, 0, 0, 0), ea = errno;
        int b = prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        printf("prctl: PR_SET_SECCOMP 0 -> %d (%s), NO_NEW_PRIVS -> %d, Seccomp mode %d\n", a,
               strerror(ea), b, prctl(PR_GET_SECCOMP, 0, 0, 0, 0));
        return touch(m);
    }
    if (strcmp(m, "ptrace-self") == 0)
        return ptrace_self();
    if (strcmp(m, "ptrace-swap") == 0)
        return ptrace_swap();
    if (strcmp(m, "memfd") == 0)
        return memfd_exec();
    if (strcmp(m, "race") == 0)
        return thread_race();
    if (strcmp(m, "thread") == 0)
        return thread_exec();
    if (strcmp(m, "race-thread") == 0)
        return thread_race2();
#if defined(__x86_64__)
    if (strcmp(m, "int80") == 0)
        return int80();
#endif
    if (strcmp(m, "fds") == 0)
        return fds();
    return fprintf(stderr, "unknown mode %s\n", m), 2;
}
