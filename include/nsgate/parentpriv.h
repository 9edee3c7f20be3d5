/* The recorder's (P0's) least privilege once the entering child runs
 * (security.md "The recorder after the fork"). P0 stays uid 0 in the host
 * namespaces for the whole session and reads the container's output; from
 * the moment the child is forked and the session is on record it keeps only
 * the capabilities its remaining work needs, locks them, and runs under a
 * seccomp allow-list, in this order:
 *   securebits (NOROOT, NO_CAP_AMBIENT_RAISE; NO_SETUID_FIXUP and KEEP_CAPS
 *   locked off) -> bounding set -> ambient cleared -> capset (inheritable 0,
 *   permitted = effective = keep) -> no_new_privs -> non-dumpable ->
 *   SIGSYS handler -> the filter -> everything read back and compared. */
#ifndef NSGATE_PARENTPRIV_H
#define NSGATE_PARENTPRIV_H

#include <stddef.h>
#include <stdint.h>

/* What is left for P0 to do that needs a capability. */
struct ng_parentpriv_needs {
    int audit_write;     /* audit records will be sent: CAP_AUDIT_WRITE */
    int audit_status;    /* audit = required: AUDIT_GET at every seal, CAP_AUDIT_CONTROL */
    int cgroup_override; /* the session group's parent is not root's to write: rmdir
                            needs CAP_DAC_OVERRIDE */
    int commands;        /* record_commands: the command recorder (cmdrec.h) reads the
                            session's processes' /proc/PID/{mem,exe,cwd,...} and attaches
                            to them with ptrace, whatever their uid: CAP_SYS_PTRACE, and
                            the filter allows its ptrace requests, the listener's ioctls
                            and setitimer */
};

/* The capability mask kept: CAP_KILL always (signals to the session's
 * processes, which may run under any uid), plus what needs says. Pure. */
uint64_t ng_parentpriv_keep(const struct ng_parentpriv_needs *needs);

/* Does removing an entry of the directory need CAP_DAC_OVERRIDE for a uid-0
 * process without capabilities (not owned by 0 with owner write and search)?
 * 1, 0, or a negative errno. */
int ng_parentpriv_dir_needs_override(int dirfd);

/* Drop to keep (intersected with what the process has), lock, filter and
 * verify; keep holding CAP_SYS_PTRACE (needs.commands) also opens the filter
 * for the command recorder's calls. last_cap: /proc/sys/kernel/cap_last_cap. Returns 0 or a
 * negative errno with *why naming the step; after a failure the process may be partly restricted,
 * and the caller must end the session. */
int ng_parentpriv_restrict(uint64_t keep, int last_cap, const char **why);

/* Read everything back: effective = permitted = bounding = keep,
 * inheritable and ambient empty, the securebits, no_new_privs, not
 * dumpable, seccomp mode 2. 0 or -EPERM with *why set. */
int ng_parentpriv_verify(uint64_t keep, int last_cap, const char **why);

/* System calls the filter refused so far (each one got EPERM): the count,
 * and the name of the last one in name (size >= 32). */
unsigned long ng_parentpriv_refused(char *name, size_t size);

#endif
