/* Start-up hardening of a possibly setuid-root process. Each step checked;
 * see harden.h for the order and security.md for why. */
#include "nsgate/harden.h"
#include "nsgate/procfs.h"
#include "nsgate/util.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

int ng_harden_fds(void)
{
    if (syscall(SYS_close_range, 3U, ~0U, 0U) < 0) {
        /* Kernels before 5.9: close one by one up to the limit. */
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
            return -errno;
        for (rlim_t fd = 3; fd < rl.rlim_cur && fd < 65536; fd++)
            (void)close((int)fd);
    }
    /* 0, 1 and 2 valid, so nothing nsgate opens lands on a standard stream. */
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) >= 0)
            continue;
        int n = open("/dev/null", O_RDWR);
        if (n < 0)
            return -errno;
        if (n != fd)
            return -EBADF;
    }
    return 0;
}

static int env_allowed(const char *kv, int real_root)
{
    if (strncmp(kv, "TERM=", 5) == 0 || strncmp(kv, "LANG=", 5) == 0 || strncmp(kv, "LC_", 3) == 0)
        return 1;
#ifdef NSGATE_SANITIZE_BUILD
    if (strncmp(kv, "ASAN_OPTIONS=", 13) == 0 || strncmp(kv, "UBSAN_OPTIONS=", 14) == 0 ||
        strncmp(kv, "LSAN_OPTIONS=", 13) == 0)
        return 1;
#endif
    return real_root && strncmp(kv, "NSGATE_", 7) == 0;
}

int ng_harden_env(int real_root)
{
    extern char **environ;
    size_t n = 0, k = 0;

    while (environ && environ[n])
        n++;
    char **keep = calloc(n + 1, sizeof(char *));
    if (!keep)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (env_allowed(environ[i], real_root) && strchr(environ[i], '=') &&
            strlen(environ[i]) < 4096) {
            keep[k] = strdup(environ[i]);
            if (!keep[k++]) {
                for (size_t j = 0; j + 1 < k; j++)
                    free(keep[j]);
                free(keep);
                return -ENOMEM;
            }
        }
    }
    int r = clearenv() == 0 ? 0 : -ENOMEM;
    /* setenv copies: libc owns the strings (no leak for valgrind to see). */
    for (size_t i = 0; i < k; i++) {
        char *eq = strchr(keep[i], '=');
        *eq = '\0';
        if (r == 0 && setenv(keep[i], eq + 1, 1) != 0)
            r = -ENOMEM;
        free(keep[i]);
    }
    free(keep);
    return r;
}

static int in_initial_userns(void)
{
    char map[256];
    if (ng_read_file_at(AT_FDCWD, "/proc/self/uid_map", map, sizeof(map)) < 0)
        return 0;
    /* The initial user namespace maps every id onto itself. */
    char *f[3], *save = NULL;
    size_t n = 0;
    for (char *t = strtok_r(map, " \t\n", &save); t && n < 3; t = strtok_r(NULL, " \t\n", &save))
        f[n++] = t;
    return n == 3 && strcmp(f[0], "0") == 0 && strcmp(f[1], "0") == 0 &&
           strcmp(f[2], "4294967295") == 0 && strtok_r(NULL, " \t\n", &save) == NULL;
}

int ng_harden_binary_root_owned(void)
{
    struct stat st;
    return stat("/proc/self/exe", &st) == 0 && st.st_uid == 0;
}

static int become_root(void)
{
    uid_t r, e, s;
    gid_t rg, eg, sg;

    /* Groups first (needs privilege), gid before uid. */
    if (setgroups(0, NULL) < 0 || setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
        return -errno;
    if (getresuid(&r, &e, &s) < 0 || getresgid(&rg, &eg, &sg) < 0)
        return -errno;
    if (r || e || s || rg || eg || sg || getgroups(0, NULL) != 0)
        return -EPERM;
    return 0;
}

static int reset_signals(void)
{
    struct sigaction sa;
    sigset_t empty;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP)
            continue;
        (void)sigaction(sig, &sa, NULL); /* EINVAL for the reserved RT signals */
    }
    sigemptyset(&empty);
    return sigprocmask(SIG_SETMASK, &empty, NULL) < 0 ? -errno : 0;
}

int ng_harden_process(unsigned flags, struct ng_caller *caller, const char **why)
{
    uid_t ruid, euid, suid;
    gid_t rgid, egid, sgid;

    *why = NULL;
    umask(077);
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
        return *why = "cannot make the process non-dumpable", -errno;
    if (getresuid(&ruid, &euid, &suid) < 0 || getresgid(&rgid, &egid, &sgid) < 0)
        return -errno;
    memset(caller, 0, sizeof(*caller));
    caller->uid = ruid;
    caller->gid = rgid;
    int ng = getgroups((int)NG_ARRAY_SIZE(caller->groups), caller->groups);
    if (ng < 0)
        return *why = "the caller is in too many groups", -E2BIG;
    caller->ngroups = (size_t)ng;
    caller->setuid_start = ruid != 0 && euid == 0;

    if (euid == 0 && ruid != 0 && !ng_harden_binary_root_owned())
        return *why = "refusing to run setuid: the binary is not owned by root", -EPERM;
    if ((flags & NG_HARDEN_PRIVILEGED) && euid != 0) {
        char st_text[8192];
        struct ng_proc_status st;
        int nnp = ng_read_file_at(AT_FDCWD, "/proc/self/status", st_text, sizeof(st_text)) > 0 &&
                  ng_parse_status(st_text, &st) == 0 && st.no_new_privs == 1;
        return *why = nnp ? "refusing to run: no_new_privs is set, so the kernel did not grant "
                            "nsgate's setuid privilege"
                          : "not running as root: run it as root or install it setuid-root",
               -EPERM;
    }
    if (flags & NG_HARDEN_PRIVILEGED) {
        if (!in_initial_userns())
            return *why = "refusing to run outside the initial user namespace", -EPERM;
        if (caller->setuid_start) {
            char st_text[8192];
            struct ng_proc_status st;
            if (ng_read_file_at(AT_FDCWD, "/proc/self/status", st_text, sizeof(st_text)) < 0 ||
                ng_parse_status(st_text, &st) < 0)
                return *why = "cannot read /proc/self/status", -EIO;
            if (st.no_new_privs != 0)
                return *why = "refusing a setuid start with no_new_privs set", -EPERM;
            if (st.seccomp != 0)
                return *why = "refusing a setuid start under a seccomp filter", -EPERM;
        }
    }
    if (caller->setuid_start) {
        /* The caller can no longer signal, ptrace or stop us. */
        int r = become_root();
        if (r < 0)
            return *why = "cannot set the user and group ids to 0", r;
        /* Credential changes reset dumpability. */
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
            return -errno;
        r = ng_harden_reset_state(why);
        if (r < 0)
            return r;
    }
    if (reset_signals() < 0)
        return *why = "cannot reset signal dispositions", -errno;
    return 0;
}

static const struct {
    int res;
    rlim_t soft, hard;
} rlimit_defaults[] = {
    {RLIMIT_CORE, 0, 0},
    {RLIMIT_CPU, RLIM_INFINITY, RLIM_INFINITY},
    {RLIMIT_DATA, RLIM_INFINITY, RLIM_INFINITY},
    {RLIMIT_FSIZE, RLIM_INFINITY, RLIM_INFINITY},
    {RLIMIT_LOCKS, RLIM_INFINITY, RLIM_INFINITY},
    {RLIMIT_MEMLOCK, 8 << 20, 8 << 20},
    {RLIMIT_MSGQUEUE, 819200, 819200},
    {RLIMIT_NICE, 0, 0},
    {RLIMIT_NOFILE, 1024, 524288},
    {RLIMIT_NPROC, RLIM_INFINITY, RLIM_INFINITY},
    {RLIMIT_AS, RLIM_INFINITY, RLIM_INFINITY},
    {RLIMIT_RSS, RLIM_INFINITY, RLIM_INFINITY},
    {RLIMIT_RTPRIO, 0, 0},
    {RLIMIT_RTTIME, RLIM_INFINITY, RLIM_INFINITY},
    {RLIMIT_SIGPENDING, 65536, 65536},
    {RLIMIT_STACK, 8 << 20, RLIM_INFINITY},
};

int ng_harden_reset_state(const char **why)
{
    for (size_t i = 0; i < NG_ARRAY_SIZE(rlimit_defaults); i++) {
        struct rlimit rl = {rlimit_defaults[i].soft, rlimit_defaults[i].hard}, cur;
        if (setrlimit(rlimit_defaults[i].res, &rl) == 0)
            continue;
        /* Without CAP_SYS_RESOURCE (a container, a restricted bounding set)
         * a lowered hard limit cannot be raised again: take the soft limit
         * up to it, the most that can be undone. */
        if (errno != EPERM || getrlimit(rlimit_defaults[i].res, &cur) < 0)
            return *why = "cannot reset resource limits", -errno;
        rl.rlim_max = cur.rlim_max;
        if (rl.rlim_cur > cur.rlim_max)
            rl.rlim_cur = cur.rlim_max;
        if (setrlimit(rlimit_defaults[i].res, &rl) < 0)
            return *why = "cannot reset resource limits", -errno;
    }
    int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (fd < 0 || ng_write_all(fd, "0\n", 2) < 0) {
        ng_closep(&fd);
        return *why = "cannot reset oom_score_adj", -EIO;
    }
    close(fd);
    /* 0 restores the default timer slack. */
    if (prctl(PR_SET_TIMERSLACK, 0, 0, 0, 0) < 0)
        return *why = "cannot reset the timer slack", -errno;
    if (setpriority(PRIO_PROCESS, 0, 0) < 0)
        return *why = "cannot reset the nice value", -errno;
    struct sched_param sp = {.sched_priority = 0};
    if (sched_setscheduler(0, SCHED_OTHER, &sp) < 0)
        return *why = "cannot reset the scheduling policy", -errno;
    /* IOPRIO_WHO_PROCESS = 1; class NONE, data 0: follow the CPU nice value. */
    if (syscall(SYS_ioprio_set, 1, 0, 0) < 0)
        return *why = "cannot reset the I/O priority", -errno;
    cpu_set_t set;
    CPU_ZERO(&set);
    long ncpu = sysconf(_SC_NPROCESSORS_CONF);
    for (long c = 0; c < ncpu && c < CPU_SETSIZE; c++)
        CPU_SET((int)c, &set);
    if (sched_setaffinity(0, sizeof(set), &set) < 0)
        return *why = "cannot reset the CPU affinity", -errno;
    if (personality(PER_LINUX) < 0)
        return *why = "cannot reset the personality", -errno;
    return 0;
}

int ng_harden_drop_to_caller(const struct ng_caller *caller)
{
    uid_t r, e, s;
    gid_t rg, eg, sg;

    if (getuid() == 0 && !caller->setuid_start)
        return 0; /* real root keeps its rights */
    if (setgroups(caller->ngroups, caller->groups) < 0 ||
        setresgid(caller->gid, caller->gid, caller->gid) < 0 ||
        setresuid(caller->uid, caller->uid, caller->uid) < 0)
        return -errno;
    if (getresuid(&r, &e, &s) < 0 || getresgid(&rg, &eg, &sg) < 0)
        return -errno;
    if (r != caller->uid || e != caller->uid || s != caller->uid || rg != caller->gid ||
        eg != caller->gid || sg != caller->gid)
        return -EPERM;
    /* Regaining root must be impossible. */
    if (caller->uid != 0 && setresuid(0, 0, 0) == 0)
        return -EPERM;
    return 0;
}

int ng_harden_act_as_caller(const struct ng_caller *caller, int on)
{
    uid_t r, e, s;
    gid_t rg, eg, sg;

    if (!caller->setuid_start)
        return 0;
    if (on && (setgroups(caller->ngroups, caller->groups) < 0 ||
               setresgid((gid_t)-1, caller->gid, (gid_t)-1) < 0 ||
               setresuid((uid_t)-1, caller->uid, (uid_t)-1) < 0))
        return -errno;
    /* the saved uid 0 lets the effective one back */
    if (!on && (setresuid((uid_t)-1, 0, (uid_t)-1) < 0 || setresgid((gid_t)-1, 0, (gid_t)-1) < 0 ||
                setgroups(0, NULL) < 0))
        return -errno;
    if (getresuid(&r, &e, &s) < 0 || getresgid(&rg, &eg, &sg) < 0)
        return -errno;
    if (s != 0 || e != (on ? caller->uid : 0) || eg != (on ? caller->gid : 0))
        return -EPERM;
    return 0;
}
