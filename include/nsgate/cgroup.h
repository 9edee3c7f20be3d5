/* cgroups of a session (recording.md "The program never outlives its
 * recording", security.md "own cgroup"). The recorder moves itself into a
 * root-owned group before the first setns, so a caller who controls its own
 * cgroup cannot freeze, kill or starve it. The program gets a group of its
 * own: beneath the target's v2 group with join_cgroup (so the target's
 * limits apply), and on a hybrid host it also joins the target's group of
 * each v1 hierarchy where that differs from nsgate's. At the end the group
 * is killed (cgroup.kill) and removed. */
#ifndef NSGATE_CGROUP_H
#define NSGATE_CGROUP_H

#include <stddef.h>
#include <sys/types.h>

#define NG_CGROUP_MAX_V1 16

struct ng_cgroup_session {
    int v2_root_fd;  /* the cgroup2 mount */
    int parent_fd;   /* directory the session group is in */
    int dir_fd;      /* the session group */
    char name[64];   /* its name inside parent */
    char path[4096]; /* its path from the cgroup2 root, for the record */
    /* descriptors of cgroup.procs files the child writes "0" into, in order */
    int procs_fd[1 + NG_CGROUP_MAX_V1];
    size_t nprocs;
};

/* Move the calling process into the root-owned group "nsgate" (created if
 * missing) of the cgroup2 hierarchy. */
int ng_cgroup_move_self(void);

/* Prepare the program's group. target_cgroup_text is the target's
 * /proc/PID/cgroup text; name is unique (session ID). */
int ng_cgroup_session_create(struct ng_cgroup_session *s, const char *target_cgroup_text,
                             int join_target, const char *name);
/* In the child: join every prepared group. */
int ng_cgroup_session_join(const struct ng_cgroup_session *s);
/* Close the child's descriptors in the parent. */
void ng_cgroup_session_close_procs(struct ng_cgroup_session *s);
/* Kill every process left in the group, wait for it to empty (up to
 * timeout_ms), remove it. Returns the number of processes that were left, or
 * a negative errno. */
int ng_cgroup_session_kill(struct ng_cgroup_session *s, int timeout_ms);
/* Send sig to every process in the group (ending a session gently). */
void ng_cgroup_session_signal(const struct ng_cgroup_session *s, int sig);
/* Remove the group without killing (leave_processes = yes). */
void ng_cgroup_session_release(struct ng_cgroup_session *s);

#endif
