/* The target process: opened race-free (security.md "Policy and target"):
 * /proc/PID directory descriptor first, then pidfd_open, then a liveness
 * check through the pidfd; every attribute and namespace identity is read
 * through that directory descriptor, and every later step uses the pidfd. */
#ifndef NSGATE_TARGET_H
#define NSGATE_TARGET_H

#include "nsgate/attrs.h"
#include "nsgate/ns.h"
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
    struct ng_attrs attrs; /* points into the strings above */
};

/* Open the target. -ESRCH when it does not exist or is gone (exit 69). */
int ng_target_open(pid_t pid, struct ng_target *t);
void ng_target_close(struct ng_target *t);
/* Is the process behind the pidfd still alive? 0 yes, -ESRCH no. */
int ng_target_alive(const struct ng_target *t);

/* nsgate's own namespace identities. */
int ng_ns_self(struct ng_ns_id ids[NG_NS_COUNT]);

/* Find a container by ID prefix by scanning /proc/PID/cgroup of every
 * process: its oldest process (lowest start time). Returns the PID, -ENOENT
 * when no container matches, -EEXIST when the prefix is ambiguous (then
 * cands holds up to ncands full IDs, *nfound the number of distinct IDs). */
struct ng_container_candidates {
    char ids[8][NG_CONTAINER_ID_LEN + 1];
    size_t n;
};
int ng_target_find_container(const char *prefix, pid_t *ret,
                             struct ng_container_candidates *cands);

#endif
