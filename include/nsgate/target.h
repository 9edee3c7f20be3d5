/* The target process: opened race-free (security.md "Policy and target"):
 * /proc/PID directory descriptor first, then pidfd_open, then a liveness
 * check through the pidfd; every attribute and namespace identity is read
 * through that directory descriptor, and every later step uses the pidfd. */
#ifndef NSGATE_TARGET_H
#define NSGATE_TARGET_H

#include "nsgate/attrs.h"
#include "nsgate/engines.h"
#include "nsgate/ns.h"
#include "nsgate/pods.h"
#include "nsgate/procfs.h"

#include <sys/types.h>

#define NG_MAP_MAX 4096

struct ng_target {
    pid_t pid;
    int proc_fd; /* O_PATH|O_DIRECTORY of /proc/PID */
    int pidfd;
    uint64_t starttime;
    struct ng_proc_status status;
    struct ng_ns_id ns[NG_NS_COUNT];
    char uid_map[NG_MAP_MAX], gid_map[NG_MAP_MAX];
    char cgroup[4096];
    char container[NG_CONTAINER_ID_LEN + 1];
    char exe[4096];
    char comm[64];
    char uid_text[16], pid_text[16];
    char name[NG_ENGINE_NAME_MAX + 1];                 /* engines.h */
    char pod_uid[NG_POD_UID_LEN + 1];                  /* from the cgroup path */
    char pod[NG_POD_NS_MAX + 1 + NG_POD_NAME_MAX + 1]; /* NAMESPACE/POD, pods.h */
    struct ng_attrs attrs;                             /* points into the strings above */
};

/* Open the target. state_root is where the engines' and the kubelet's state
 * is read for the name and pod attributes ("" on a host: engines.h,
 * pods.h). -ESRCH when it does not exist or is gone (exit 69). */
int ng_target_open(pid_t pid, const char *state_root, struct ng_target *t);
void ng_target_close(struct ng_target *t);
/* Is the process behind the pidfd still alive? 0 yes, -ESRCH no. */
int ng_target_alive(const struct ng_target *t);

/* nsgate's own namespace identities. */
int ng_ns_self(struct ng_ns_id ids[NG_NS_COUNT]);

/* Find a container's oldest process (lowest start time) by scanning
 * /proc/PID/cgroup of every process for its container ID (procfs.h). A
 * process matches when its container ID starts with prefix (NULL: none),
 * or equals one of ids[i] while its cgroup path carries the pod UID
 * uids[i] (when uids[i] is not ""). Returns 0 with the PID, -ENOENT when
 * nothing matches, -EEXIST when processes of more than one container match
 * (cands holds up to 8 of their IDs). */
struct ng_container_candidates {
    char ids[8][NG_CONTAINER_ID_LEN + 1];
    size_t n;
};
struct ng_locate {
    const char *prefix;
    const char (*ids)[NG_CONTAINER_ID_LEN + 1];
    const char (*uids)[NG_POD_UID_LEN + 1];
    size_t nids;
};
int ng_target_locate(const struct ng_locate *q, pid_t *ret, struct ng_container_candidates *cands);

#endif
