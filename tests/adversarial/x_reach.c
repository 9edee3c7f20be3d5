/* The caller reaching into its own session (issue finding 2): run by the
 * caller outside the session, against processes of the session. For each
 * PID it tries what an injector needs: PTRACE_ATTACH and PTRACE_SEIZE,
 * /proc/PID/mem for reading and for writing, process_vm_readv/writev,
 * pidfd_getfd of descriptor 0, and opening /proc/PID/{root,cwd,fd,environ}.
 * One line per attempt: "PID WHAT blocked (errno)" or "PID WHAT REACHED".
 * Exit status: the number of attempts that reached (0: all blocked).
 *
 * process_vm_* aim at page 0, never mapped: a process allowed in gets
 * EFAULT (reached, nothing written), one kept out gets EPERM. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

static int reached;

static void report(pid_t pid, const char *what, int ok, int err)
{
    if (ok) {
        reached++;
        printf("%d %s REACHED\n", (int)pid, what);
    } else {
        printf("%d %s blocked (%s)\n", (int)pid, what, strerrorname_np(err));
    }
}

static void try_ptrace(pid_t pid, int seize)
{
    long r = seize ? ptrace(PTRACE_SEIZE, pid, 0, 0) : ptrace(PTRACE_ATTACH, pid, 0, 0);
    int e = errno;
    if (r == 0) {
        if (!seize)
            (void)waitpid(pid, NULL, __WALL);
        (void)ptrace(PTRACE_DETACH, pid, 0, 0);
    }
    report(pid, seize ? "ptrace-seize" : "ptrace-attach", r == 0, e);
}

static void try_mem(pid_t pid, int flags, const char *what)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
    int fd = open(path, flags | O_CLOEXEC);
    int e = errno;
    report(pid, what, fd >= 0, e);
    if (fd >= 0)
        close(fd);
}

static void try_vm(pid_t pid, int write)
{
    char buf[8] = {0};
    struct iovec local = {buf, sizeof(buf)}, remote = {(void *)8, sizeof(buf)};
    ssize_t n = write ? process_vm_writev(pid, &local, 1, &remote, 1, 0)
                      : process_vm_readv(pid, &local, 1, &remote, 1, 0);
    int e = errno;
    /* EFAULT: the permission check passed, only the address was bad. */
    report(pid, write ? "process_vm_writev" : "process_vm_readv", n >= 0 || e == EFAULT, e);
}

static void try_getfd(pid_t pid)
{
    int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pfd < 0) {
        report(pid, "pidfd_getfd", 0, errno);
        return;
    }
    int fd = (int)syscall(SYS_pidfd_getfd, pfd, 0, 0);
    int e = errno;
    report(pid, "pidfd_getfd", fd >= 0, e);
    if (fd >= 0)
        close(fd);
    close(pfd);
}

static void try_proc(pid_t pid, const char *entry)
{
    char path[64], what[32], buf[64];
    int ok = 0, e = 0;
    snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, entry);
    snprintf(what, sizeof(what), "open-%s", entry);
    if (strcmp(entry, "environ") == 0) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        e = errno;
        if (fd >= 0) {
            ssize_t n = read(fd, buf, sizeof(buf));
            e = errno;
            ok = n >= 0;
            close(fd);
        }
    } else {
        /* root and cwd: a directory reached through the link; fd: the list. */
        DIR *d = opendir(path);
        e = errno;
        if (d) {
            errno = 0;
            ok = readdir(d) != NULL || errno == 0;
            e = errno;
            closedir(d);
        }
    }
    report(pid, what, ok, e);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: x_reach PID...\n");
        return 127;
    }
    for (int i = 1; i < argc; i++) {
        pid_t pid = (pid_t)atoi(argv[i]);
        try_ptrace(pid, 0);
        try_ptrace(pid, 1);
        try_mem(pid, O_RDONLY, "open-mem-read");
        try_mem(pid, O_RDWR, "open-mem-write");
        try_vm(pid, 0);
        try_vm(pid, 1);
        try_getfd(pid);
        try_proc(pid, "root");
        try_proc(pid, "cwd");
        try_proc(pid, "fd");
        try_proc(pid, "environ");
    }
    fflush(stdout);
    return reached > 100 ? 100 : reached;
}
