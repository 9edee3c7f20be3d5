/* The target's confinement, applied to the program (policy.md confinement =
 * target; docs/security.md "The target's confinement").
 *
 * In the recorder, after the decision and before the entering child is
 * forked, ng_confine_capture copies the target's seccomp filters the way CRIU
 * does: a short-lived helper process, forked for this alone (root, initial
 * user namespace, CAP_SYS_ADMIN, under no filter of its own), attaches with
 * PTRACE_SEIZE, stops the target with PTRACE_INTERRUPT, reads each filter
 * with PTRACE_SECCOMP_GET_FILTER and its flags with
 * PTRACE_SECCOMP_GET_METADATA, and detaches at once. The hold (from
 * PTRACE_INTERRUPT to PTRACE_DETACH) is measured and bounded: a helper that
 * has not detached NG_CONFINE_HOLD_MAX_MS after stopping the target (which
 * never stopped: frozen, or in uninterruptible sleep; or the helper was not
 * scheduled) is killed, its death detaches it, and entry is refused. The target's LSM label is read
 * from /proc/PID/attr/apparmor/current or /proc/PID/attr/current.
 *
 * In the entering child, ng_confine_apply is the last step before execve:
 * the LSM label for exec, then the filters, oldest first, so the stack is
 * the target's. Everything that must not run under a filter the target
 * chose (credentials and their verification, the descriptor clean-up) comes
 * before it: a filter can make a call fail, and with SECCOMP_RET_ERRNO and
 * 0 it can make a call "succeed" without doing anything.
 *
 * Installing a filter needs no_new_privs or CAP_SYS_ADMIN. When the program
 * gets no_new_privs anyway, nothing more is needed. Otherwise the entering
 * child keeps CAP_SYS_ADMIN in its permitted and effective sets beyond the
 * planned ones (ng_confine_hold_caps) until the filters are on; execve then
 * drops it, because the kernel computes the program's permitted set from
 * the inheritable, ambient and bounding sets and the file, never from the
 * old permitted set (capabilities(7)). */
#ifndef NSGATE_CONFINE_H
#define NSGATE_CONFINE_H

#include "nsgate/creds.h"
#include "nsgate/target.h"

#include <linux/filter.h>
#include <stddef.h>
#include <stdint.h>

#define NG_CONFINE_MAX_FILTERS   64
#define NG_CONFINE_MAX_INSNS     32768 /* the kernel's MAX_INSNS_PER_PATH */
#define NG_CONFINE_HOLD_MAX_MS   100   /* longest the target may stay stopped */
#define NG_CONFINE_HELPER_MAX_MS 5000  /* longest wait for the helper to start */
#define NG_CONFINE_LABEL_MAX     1024
#define NG_CONFINE_HASH_LEN      32

enum ng_lsm { NG_LSM_NONE = 0, NG_LSM_APPARMOR, NG_LSM_SELINUX };

struct ng_confine_filter {
    uint32_t flags; /* SECCOMP_FILTER_FLAG_LOG as the target's had it */
    uint32_t len;   /* instructions */
    struct sock_filter *insns;
};

struct ng_confine {
    int active; /* confinement = target: apply what follows */
    size_t nfilters;
    struct ng_confine_filter f[NG_CONFINE_MAX_FILTERS]; /* oldest first */
    struct sock_filter *buf;                            /* every filter's instructions */
    uint8_t hash[NG_CONFINE_HASH_LEN];                  /* ng_confine_hash, when nfilters */
    enum ng_lsm lsm;
    char label[NG_CONFINE_LABEL_MAX]; /* the label to exec with; "" for none */
    int64_t hold_ns;                  /* how long the target was stopped; -1: not stopped */
};

/* What went wrong, for the message and the exit status. */
enum ng_confine_fail {
    NG_CONFINE_OK = 0,
    NG_CONFINE_GONE,    /* the target exited (69) */
    NG_CONFINE_REFUSED, /* the target's state forbids the copy: traced, strict mode,
                           did not stop in time, an LSM nsgate cannot apply (69) */
    NG_CONFINE_HOST,    /* nsgate cannot copy here: kernel, ptrace scope, its own
                           filter, memory (70) */
};

/* Copy the target's confinement into cf (see above). Returns 0, or a
 * negative errno with *fail and *why (a static text) saying what. */
int ng_confine_capture(const struct ng_target *t, struct ng_confine *cf, enum ng_confine_fail *fail,
                       const char **why);
void ng_confine_free(struct ng_confine *cf);

/* The target's LSM label as ng_confine_capture reads it (check shows it):
 * 0 with *lsm (NG_LSM_NONE and "" when none), or a negative errno with *why
 * (-ESRCH: the target is gone; -EOPNOTSUPP: a label of an LSM nsgate cannot
 * apply). */
int ng_confine_read_label(const struct ng_target *t, enum ng_lsm *lsm, char *label, size_t size,
                          const char **why);

/* BLAKE2b-256 of the filters, as recorded in the session header
 * (docs/store.md "Confinement"): the tag "nsgate-seccomp-v1", then for each
 * filter, oldest first, its flags and instruction count as u64 big-endian,
 * then each instruction as code (u16 BE), jt, jf (u8), k (u32 BE). */
void ng_confine_hash(const struct ng_confine_filter *f, size_t n, uint8_t out[NG_CONFINE_HASH_LEN]);

/* The label of a /proc/PID/attr file's text: for AppArmor the profile
 * without its " (mode)" suffix, "" for "unconfined"; for SELinux the context
 * without trailing NUL or newline. 0, or -EINVAL for text that is no label
 * (control bytes, too long, empty). Pure: for tests and fuzzing. */
int ng_confine_parse_label(enum ng_lsm lsm, const char *text, size_t n, char *out, size_t outsz);

/* The capabilities the entering child holds beyond the planned ones until
 * the filters are on: CAP_SYS_ADMIN when filters are to be installed, the
 * program gets no no_new_privs and would not hold CAP_SYS_ADMIN itself;
 * else 0. ng_creds_apply is given the plan with these added (and verifies
 * that); execve drops them. */
uint64_t ng_confine_hold_caps(const struct ng_confine *cf, const struct ng_creds *cr);

/* In the entering child, right before execve: the LSM label for exec
 * (written through host_proc_fd, the host's /proc), then every filter.
 * 0, or a negative errno with *why naming the step. */
int ng_confine_apply(const struct ng_confine *cf, int host_proc_fd, const char **why);

const char *ng_lsm_name(enum ng_lsm lsm);

#endif
