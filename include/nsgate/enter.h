/* The entering child: everything between fork and execve. It holds no key
 * material (forked before any key is read), stays non-dumpable up to execve,
 * and reports failures over a close-on-exec pipe so the recorder knows the
 * exact reason and exit status. */
#ifndef NSGATE_ENTER_H
#define NSGATE_ENTER_H

#include "nsgate/cgroup.h"
#include "nsgate/cmdfilter.h"
#include "nsgate/confine.h"
#include "nsgate/creds.h"
#include "nsgate/target.h"

#include <stdint.h>
#include <sys/types.h>

struct ng_entry_plan {
    const struct ng_target *t;
    ng_nsset ns;         /* namespaces to enter (shared ones already dropped) */
    int host_proc_fd;    /* the host's /proc, opened before the first setns */
    int root_fd, cwd_fd; /* the target's root and cwd (O_PATH), -1 if mnt not entered */
    const char *wd;      /* -w, or NULL */
    const struct ng_creds *creds;
    int last_cap;
    char *const *argv;
    char *const *envp;
    dev_t self_dev; /* the image nsgate runs from: never executed inside */
    ino_t self_ino;
    const struct ng_cgroup_session *cg;
    int stdio[3];   /* duplicated onto 0, 1, 2 */
    int ctty;       /* stdio[0] is a pty slave to make the controlling terminal */
    int err_fd;     /* write end of the error pipe (close-on-exec) */
    int status_fd;  /* write end: the program's wait status after a pid fork */
    int go_fd;      /* read end: one byte once the session is recorded, else EOF */
    pid_t recorder; /* the recorder's pid: the child's parent */
    const struct ng_confine *confine; /* the target's confinement, or NULL (none) */
    /* Caller reach (reach.h, NG_REACH_USERNS): the program gets its planned
     * ids inside a user namespace the entering child creates as root, whose
     * maps (written from the host by the waiting child) send its uid to
     * isolate_uid on the host. */
    int isolate;
    uint32_t isolate_uid;
    const char *uid_map, *gid_map;
    /* record_commands: the filter to install and the socket its listener
     * goes to the recorder over; NULL and -1 when commands are not recorded */
    const struct ng_cmdfilter *cmdfilter;
    int cmd_sock;
};

/* What the child sends when it fails before execve. */
struct ng_enter_err {
    int32_t exit_code; /* cli.md status: 69, 70, 126, 127 */
    int32_t err;       /* errno */
    char what[240];
};

__attribute__((noreturn)) void ng_enter_child(const struct ng_entry_plan *p);

/* Does the entry need a fork after setns (pid and time namespaces take
 * effect for children; isolation needs a process left outside to write the
 * new user namespace's maps)? */
int ng_enter_needs_fork(ng_nsset ns, int isolate);

#endif
