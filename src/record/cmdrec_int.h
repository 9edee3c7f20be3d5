/* Private to the command recorder: what is read about one exec (cmdread.c)
 * and how it becomes a 'c' event; cmdrec.c drives the notifications. */
#ifndef NSGATE_CMDREC_INT_H
#define NSGATE_CMDREC_INT_H

#include "nsgate/cmdrec.h"
#include "nsgate/procfs.h"

#include <stddef.h>
#include <stdint.h>

/* One exec as read from the caller before it happens (and, after it, from
 * the new image). Byte strings are malloc'd; NULL when absent. */
struct ng_cmd_info {
    pid_t tid;
    int dir;    /* /proc/TID (O_PATH), -1 when closed */
    char *root; /* readlink of its root: paths under it are shown without it */
    int64_t t_ns;
    struct ng_proc_ids ids;
    int64_t pid_ns, ppid_ns; /* in the target's pid namespace (0: outside it) */
    int own_userns;          /* its user namespace is not the host's: */
    uint32_t ns_uid, ns_gid; /* the effective ids as that namespace sees them */
    char *cwd;
    uint8_t *path;
    size_t path_len;
    uint8_t *argv; /* each argument followed by a NUL */
    size_t argv_len;
    int truncated;
    int execveat;
    int64_t dirfd;
    uint64_t flags;
    char *at; /* what dirfd names, execveat with a dirfd only */
};

struct ng_cmdrec_flight {
    struct ng_cmd_info info;
};

/* Read everything about the exec the notification describes from
 * /proc/TID. -ESRCH when the task is gone, -ENOMEM; a memory fault only
 * shortens what is read. */
int ng_cmdread_before(struct ng_cmdrec *c, pid_t tid, int execveat, int ptr, const uint64_t args[6],
                      struct ng_cmd_info *ret);
/* (Re)open /proc/TID for info (the exec of a thread that is not the leader
 * moves the task to the leader's pid). -ESRCH when gone. */
int ng_cmdread_open(const struct ng_cmdrec *c, struct ng_cmd_info *info, pid_t tid);
/* After a successful exec (the task stopped at PTRACE_EVENT_EXEC): its
 * executable (*ret_exe, malloc'd) and argv from /proc/TID/cmdline
 * (replacing info's). 0 when read; 1 when the new image's argv could not
 * be read (the task died meanwhile): info keeps what was read before the
 * exec, which is then not verified. */
int ng_cmdread_after(struct ng_cmd_info *info, char **ret_exe);
void ng_cmdread_free(struct ng_cmd_info *info);

/* Append the 'c' event: result 0, an errno, or -1 (not observed); exe NULL
 * when not known; verified when argv and exe come from the new image. */
int ng_cmdrec_record(struct ng_cmdrec *c, const struct ng_cmd_info *info, int64_t result,
                     const char *exe, int verified) NG_MUST_CHECK;

#endif
