/* Copying the target's confinement in the recorder (confine.h): its seccomp
 * filters through a short-lived tracing helper, its LSM label through its
 * /proc directory. */
#include "nsgate/confine.h"
#include "nsgate/sysnr.h"
#include "nsgate/be.h"
#include "nsgate/util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef PTRACE_SECCOMP_GET_FILTER
#define PTRACE_SECCOMP_GET_FILTER 0x420c
#endif
#ifndef PTRACE_SECCOMP_GET_METADATA
#define PTRACE_SECCOMP_GET_METADATA 0x420d
#endif

struct seccomp_md {
    uint64_t filter_off; /* in: filter index; out: ... */
    uint64_t flags;
};

/* The helper writes here (MAP_SHARED, made before the fork), the recorder
 * reads after the helper is gone. Filters as the kernel numbers them for
 * PTRACE_SECCOMP_GET_FILTER: index 0 is the first installed, the oldest
 * (kernel/seccomp.c get_nth_filter walks back from the newest). */
struct shm {
    int32_t err;     /* positive errno, 0 on success */
    int32_t step;    /* enum step of the failure */
    int64_t stop_ns; /* CLOCK_MONOTONIC at PTRACE_INTERRUPT: the hold starts */
    int64_t hold_ns;
    uint32_t tracer; /* TracerPid seen when the attach failed */
    uint32_t nfilters;
    uint32_t flags[NG_CONFINE_MAX_FILTERS];
    uint32_t len[NG_CONFINE_MAX_FILTERS];
    struct sock_filter insns[NG_CONFINE_MAX_INSNS];
};

enum step { S_NONE, S_SEIZE, S_INTERRUPT, S_STOP, S_GONE, S_FILTER, S_LIMIT, S_DETACH };

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Wait for the target's PTRACE_INTERRUPT stop (the recorder bounds the
 * time). 0 stopped, -ESRCH it exited. */
static int wait_stop(pid_t pid)
{
    siginfo_t si;

    for (;;) {
        memset(&si, 0, sizeof(si));
        if (waitid(P_PID, (id_t)pid, &si, WSTOPPED | WEXITED | __WALL) < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (si.si_code == CLD_TRAPPED || si.si_code == CLD_STOPPED)
            return 0;
        if (si.si_code == CLD_EXITED || si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED)
            return -ESRCH;
    }
}

static int read_filters(pid_t pid, struct shm *m)
{
    size_t used = 0;

    for (unsigned i = 0;; i++) {
        long n = ptrace(PTRACE_SECCOMP_GET_FILTER, pid, (void *)(uintptr_t)i, NULL);
        if (n < 0 && errno == ENOENT)
            return 0; /* past the oldest */
        if (n < 0)
            return m->step = S_FILTER, -errno;
        if (i >= NG_CONFINE_MAX_FILTERS || n == 0 || (size_t)n > NG_CONFINE_MAX_INSNS - used)
            return m->step = S_LIMIT, -E2BIG;
        if (ptrace(PTRACE_SECCOMP_GET_FILTER, pid, (void *)(uintptr_t)i, m->insns + used) != n)
            return m->step = S_FILTER, errno ? -errno : -EIO;
        struct seccomp_md md = {.filter_off = i, .flags = 0};
        if (ptrace(PTRACE_SECCOMP_GET_METADATA, pid, (void *)sizeof(md), &md) < 0)
            return m->step = S_FILTER, -errno;
        m->flags[i] = (uint32_t)md.flags & SECCOMP_FILTER_FLAG_LOG;
        m->len[i] = (uint32_t)n;
        m->nfilters = i + 1;
        used += (size_t)n;
    }
}

static uint32_t tracer_of(int proc_fd)
{
    char buf[8192];
    ssize_t n = ng_read_file_at(proc_fd, "status", buf, sizeof(buf));
    const char *p = n > 0 ? strstr(buf, "\nTracerPid:") : NULL;
    uint64_t v = 0;

    if (!p)
        return 0;
    p += 11;
    while (*p == '\t' || *p == ' ')
        p++;
    char num[16];
    size_t k = strspn(p, "0123456789");
    if (k == 0 || k >= sizeof(num))
        return 0;
    memcpy(num, p, k);
    num[k] = '\0';
    return ng_parse_u64(num, 0, UINT32_MAX, &v) == 0 ? (uint32_t)v : 0;
}

/* The helper: attach, stop, copy, detach; its exit ends any ptrace link. */
__attribute__((noreturn)) static void helper(const struct ng_target *t, struct shm *m)
{
    pid_t pid = t->pid;
    int lo = t->proc_fd < t->pidfd ? t->proc_fd : t->pidfd;
    int hi = t->proc_fd < t->pidfd ? t->pidfd : t->proc_fd;
    int r;

    (void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    /* Real-time for its few microseconds of work, so a loaded host does not
     * deschedule it while the target is held (best effort: the bound holds
     * either way; docs/benchmarks.md has the figures). */
    struct sched_param sp = {.sched_priority = 1};
    (void)sched_setscheduler(0, SCHED_FIFO, &sp);
    /* Nothing of the recorder's but the target's two descriptors. */
    if (lo > 3)
        (void)syscall(SYS_close_range, 3U, (unsigned)lo - 1, 0U);
    if (hi > lo + 1)
        (void)syscall(SYS_close_range, (unsigned)lo + 1, (unsigned)hi - 1, 0U);
    (void)syscall(SYS_close_range, (unsigned)hi + 1, ~0U, 0U);
    if (ptrace(PTRACE_SEIZE, pid, NULL, NULL) < 0) {
        m->err = errno;
        m->step = S_SEIZE;
        m->tracer = tracer_of(t->proc_fd);
        _exit(1);
    }
    /* The pidfd still names a live process: then the PID just seized is that
     * process (a PID is not reused while its process lives). */
    if (syscall(SYS_pidfd_send_signal, t->pidfd, 0, NULL, 0) < 0) {
        m->err = ESRCH;
        m->step = S_GONE;
        _exit(1);
    }
    int64_t t0 = now_ns();
    __atomic_store_n(&m->stop_ns, t0, __ATOMIC_SEQ_CST);
    if (ptrace(PTRACE_INTERRUPT, pid, NULL, NULL) < 0) {
        m->err = errno;
        m->step = S_INTERRUPT;
        _exit(1);
    }
    r = wait_stop(pid);
    if (r < 0) {
        m->err = -r;
        m->step = r == -ESRCH ? S_GONE : S_STOP;
        _exit(1);
    }
    r = read_filters(pid, m);
    int d = ptrace(PTRACE_DETACH, pid, NULL, NULL) < 0 ? errno : 0;
    m->hold_ns = now_ns() - t0;
    if (r < 0)
        m->err = -r;
    else if (d)
        m->err = d, m->step = S_DETACH;
    _exit(m->err ? 1 : 0);
}

/* Wait for the helper. The hold is bounded: once the helper has stopped
 * the target, it has NG_CONFINE_HOLD_MAX_MS to detach, else it is killed,
 * and its death detaches it (the kernel's exit_ptrace). Getting the helper
 * running at all may take longer on a loaded host; that does not hold the
 * target and has its own, larger limit. 0 or -ETIMEDOUT. */
static int await_helper(pid_t pid, struct shm *m)
{
    int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
    int64_t start = now_ns();

    if (pfd < 0)
        return -ETIMEDOUT; /* without a pidfd the wait cannot be bounded */
    struct pollfd p = {.fd = pfd, .events = POLLIN};
    for (;;) {
        if (poll(&p, 1, 5) > 0)
            break;
        int64_t t = now_ns(), t0 = __atomic_load_n(&m->stop_ns, __ATOMIC_SEQ_CST);
        if ((t0 && t - t0 > (int64_t)NG_CONFINE_HOLD_MAX_MS * 1000000) ||
            (!t0 && t - start > (int64_t)NG_CONFINE_HELPER_MAX_MS * 1000000)) {
            close(pfd);
            return -ETIMEDOUT;
        }
    }
    close(pfd);
    return 0;
}

static int run_helper(const struct ng_target *t, struct shm *m)
{
    pid_t pid = fork();
    if (pid < 0)
        return -errno;
    if (pid == 0)
        helper(t, m);
    int timed_out = await_helper(pid, m) < 0;
    if (timed_out)
        (void)kill(pid, SIGKILL);
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -errno;
    if (timed_out) {
        int64_t t0 = m->stop_ns;
        m->err = ETIMEDOUT;
        m->step = S_STOP;
        m->hold_ns = t0 ? now_ns() - t0 : -1;
    } else if (!WIFEXITED(st) && !m->err) {
        m->err = EIO;
    }
    return m->err ? -m->err : 0;
}

void ng_confine_hash(const struct ng_confine_filter *f, size_t n, uint8_t out[NG_CONFINE_HASH_LEN])
{
    static const char tag[] = "nsgate-seccomp-v1";
    crypto_generichash_state h;
    uint8_t b[16];

    crypto_generichash_init(&h, NULL, 0, NG_CONFINE_HASH_LEN);
    crypto_generichash_update(&h, (const uint8_t *)tag, sizeof(tag) - 1);
    for (size_t i = 0; i < n; i++) {
        ng_be64_put(b, f[i].flags);
        ng_be64_put(b + 8, f[i].len);
        crypto_generichash_update(&h, b, 16);
        for (uint32_t k = 0; k < f[i].len; k++) {
            const struct sock_filter *x = &f[i].insns[k];
            b[0] = (uint8_t)(x->code >> 8);
            b[1] = (uint8_t)x->code;
            b[2] = x->jt;
            b[3] = x->jf;
            ng_be32_put(b + 4, x->k);
            crypto_generichash_update(&h, b, 8);
        }
    }
    crypto_generichash_final(&h, out, NG_CONFINE_HASH_LEN);
}

int ng_confine_parse_label(enum ng_lsm lsm, const char *text, size_t n, char *out, size_t outsz)
{
    /* Trailing NUL bytes (SELinux) and one newline (AppArmor) end the text. */
    while (n > 0 && text[n - 1] == '\0')
        n--;
    if (n > 0 && text[n - 1] == '\n')
        n--;
    if (lsm == NG_LSM_APPARMOR && n > 3 && text[n - 1] == ')') {
        /* "PROFILE (enforce)": the mode is not part of the name. */
        const char *open = NULL;
        for (size_t i = n; i-- > 0;)
            if (text[i] == '(') {
                open = text + i;
                break;
            }
        if (open && open > text && open[-1] == ' ')
            n = (size_t)(open - 1 - text);
    }
    if (n == 0 || n >= outsz)
        return -EINVAL;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)text[i] < 0x21 && !(lsm == NG_LSM_APPARMOR && text[i] == ' '))
            return -EINVAL;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)text[i] == 0x7f)
            return -EINVAL;
    memcpy(out, text, n);
    out[n] = '\0';
    if (lsm == NG_LSM_APPARMOR && strcmp(out, "unconfined") == 0)
        out[0] = '\0';
    return 0;
}

const char *ng_lsm_name(enum ng_lsm lsm)
{
    return lsm == NG_LSM_APPARMOR ? "apparmor" : lsm == NG_LSM_SELINUX ? "selinux" : "none";
}

static int exists(const char *path)
{
    return access(path, F_OK) == 0;
}

/* What /proc/PID/attr files answer when the LSM is not active. */
static int no_label(ssize_t err)
{
    return err == -EINVAL || err == -ENOENT || err == -EOPNOTSUPP;
}

/* The target's label and which LSM gives it. AppArmor has its own file
 * since 5.1 (LSM stacking); attr/current belongs to the first major LSM.
 * An LSM that answers with a label nsgate cannot apply refuses entry. */
int ng_confine_read_label(const struct ng_target *t, enum ng_lsm *lsm, char *label, size_t size,
                          const char **why)
{
    char buf[NG_CONFINE_LABEL_MAX + 64];
    ssize_t n = ng_read_file_at(t->proc_fd, "attr/apparmor/current", buf, sizeof(buf));

    *lsm = NG_LSM_NONE;
    label[0] = '\0';
    if (n > 0) {
        *lsm = NG_LSM_APPARMOR;
    } else {
        if (n < 0 && !no_label(n))
            return n == -ESRCH ? n : (*why = "cannot read the target's AppArmor label", n);
        n = ng_read_file_at(t->proc_fd, "attr/current", buf, sizeof(buf));
        if (n < 0 && !no_label(n))
            return n == -ESRCH ? n : (*why = "cannot read the target's LSM label", n);
        if (n <= 0)
            return 0; /* no major LSM answers: nothing to apply */
        if (exists("/sys/fs/selinux/enforce"))
            *lsm = NG_LSM_SELINUX;
        else if (exists("/sys/module/apparmor/parameters/enabled"))
            *lsm = NG_LSM_APPARMOR;
        else
            return *why = "the target carries a label of an LSM that nsgate cannot apply (not "
                          "AppArmor, not SELinux)",
                   -EOPNOTSUPP;
    }
    if (ng_confine_parse_label(*lsm, buf, (size_t)n, label, size) < 0)
        return *why = "the target's LSM label cannot be read as one", -EINVAL;
    if (!label[0])
        *lsm = NG_LSM_NONE; /* AppArmor "unconfined" */
    return 0;
}

/* The helper's failure in words. */
static int helper_failure(const struct shm *m, enum ng_confine_fail *fail, const char **why)
{
    int e = m->err;

    *fail = NG_CONFINE_REFUSED;
    if (e == ESRCH || m->step == S_GONE)
        return *fail = NG_CONFINE_GONE, *why = "the target exited", -ESRCH;
    switch (m->step) {
    case S_SEIZE:
        if (m->tracer)
            return *why = "the target is being traced by another process (its TracerPid is set), "
                          "so its "
                          "seccomp filter cannot be copied",
                   -EBUSY;
        *fail = NG_CONFINE_HOST;
        return *why = "nsgate may not trace the target (ptrace refused: Yama ptrace_scope 3, or an "
                      "LSM), so its seccomp filter cannot be copied",
               -e;
    case S_STOP:
        return *why = "the target did not stop within the copy's time limit (frozen, or in "
                      "uninterruptible sleep), so its seccomp filter cannot be copied",
               -ETIMEDOUT;
    case S_LIMIT:
        return *why = "the target's seccomp filters exceed what nsgate copies (64 filters, 32768 "
                      "instructions)",
               -E2BIG;
    case S_FILTER:
        if (e == EMEDIUMTYPE)
            return *why = "the target's seccomp filter is not a classic BPF program", -e;
        *fail = NG_CONFINE_HOST;
        if (e == EACCES)
            return *why = "the kernel refused to hand over the target's seccomp filter (nsgate "
                          "itself runs under a seccomp filter, or lacks CAP_SYS_ADMIN)",
                   -e;
        return *why = "the kernel cannot hand over seccomp filters (PTRACE_SECCOMP_GET_FILTER: "
                      "CONFIG_CHECKPOINT_RESTORE is needed)",
               -e;
    default:
        *fail = NG_CONFINE_HOST;
        return *why = "the target could not be stopped to copy its seccomp filter", -(e ? e : EIO);
    }
}

/* Take the helper's copy (already oldest first) into one allocation. */
static int take_filters(const struct shm *m, struct ng_confine *cf)
{
    size_t total = 0;

    for (uint32_t i = 0; i < m->nfilters; i++)
        total += m->len[i];
    cf->buf = calloc(total ? total : 1, sizeof(*cf->buf));
    if (!cf->buf)
        return -ENOMEM;
    memcpy(cf->buf, m->insns, total * sizeof(*cf->buf));
    size_t off = 0;
    cf->nfilters = m->nfilters;
    for (uint32_t i = 0; i < m->nfilters; i++) {
        struct ng_confine_filter *f = &cf->f[i];
        f->flags = m->flags[i];
        f->len = m->len[i];
        f->insns = cf->buf + off;
        off += m->len[i];
    }
    ng_confine_hash(cf->f, cf->nfilters, cf->hash);
    return 0;
}

static int copy_filters(const struct ng_target *t, struct ng_confine *cf,
                        enum ng_confine_fail *fail, const char **why)
{
    struct shm *m =
        mmap(NULL, sizeof(*m), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return *fail = NG_CONFINE_HOST, *why = "out of memory", -errno;
    int r = run_helper(t, m);
    cf->hold_ns = m->hold_ns;
    if (r < 0) {
        r = helper_failure(m, fail, why);
    } else if (m->nfilters == 0) {
        /* Seccomp: 2 was read, yet no filter is attached: not a state
         * nsgate knows how to reproduce. */
        *fail = NG_CONFINE_REFUSED;
        *why = "the target reports seccomp filter mode but no filter";
        r = -EPROTO;
    } else if ((r = take_filters(m, cf)) < 0) {
        *fail = NG_CONFINE_HOST;
        *why = "out of memory";
    }
    munmap(m, sizeof(*m));
    return r;
}

int ng_confine_capture(const struct ng_target *t, struct ng_confine *cf, enum ng_confine_fail *fail,
                       const char **why)
{
    char buf[8192];
    struct ng_proc_status st;
    int r;

    memset(cf, 0, sizeof(*cf));
    cf->active = 1;
    cf->hold_ns = -1;
    *fail = NG_CONFINE_OK;
    *why = NULL;
    /* Read now, not at the decision: the mode only ever tightens. */
    ssize_t n = ng_read_file_at(t->proc_fd, "status", buf, sizeof(buf));
    if (n < 0 || ng_parse_status(buf, &st) < 0)
        return *fail = NG_CONFINE_GONE, *why = "the target exited", -ESRCH;
    if (st.seccomp == 1)
        return *fail = NG_CONFINE_REFUSED,
               *why = "the target runs in seccomp strict mode: nothing can run in its confinement",
               -EPERM;
    if (st.seccomp == 2 && (r = copy_filters(t, cf, fail, why)) < 0) {
        ng_confine_free(cf);
        return r;
    }
    r = ng_confine_read_label(t, &cf->lsm, cf->label, sizeof(cf->label), why);
    if (r < 0) {
        *fail = r == -ESRCH ? NG_CONFINE_GONE : NG_CONFINE_REFUSED;
        if (r == -ESRCH)
            *why = "the target exited";
        ng_confine_free(cf);
        return r;
    }
    return 0;
}

void ng_confine_free(struct ng_confine *cf)
{
    if (!cf)
        return;
    free(cf->buf);
    cf->buf = NULL;
    cf->nfilters = 0;
}
