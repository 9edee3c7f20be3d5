/* One request as enter and check see it (policy.md "The request"): the
 * target opened race-free, the requested namespaces with the ones nsgate
 * shares dropped, the caller, and the policy input built from all of it. */
#ifndef NSGATE_REQUEST_H
#define NSGATE_REQUEST_H

#include "nsgate/isolate.h"
#include "nsgate/policy.h"
#include "nsgate/target.h"

/* How the caller named the target (cli.md): exactly one of pid, container,
 * pod. */
struct ng_target_query {
    pid_t pid;              /* -t */
    const char *container;  /* --container: an ID prefix (4+ hex digits) and/or a name */
    const char *pod;        /* --pod NAMESPACE/POD[/CONTAINER] */
    const char *state_root; /* where the engines' and kubelet's state is: "" on a host */
};

/* Why no single target was found, for the message. */
struct ng_target_miss {
    struct ng_container_candidates cands; /* -EEXIST: the containers that matched */
    struct ng_pod_matches pod;            /* --pod: the pod's containers, the one chosen */
};

struct ng_request {
    struct ng_target t;
    struct ng_ns_id self_ns[NG_NS_COUNT];
    ng_nsset ns;
    struct ng_idset caller;
    uint32_t db_groups[NG_MAX_GROUPS];
    size_t ndb_groups;
    int last_cap;
    uint64_t self_prm; /* nsgate's own permitted set: all a program can get in its user ns */
    /* Owners of the target's user namespace and its ancestors (isolate.h);
     * -1 when they could not be read (then every caller counts as owner). */
    uint32_t userns_owners[NG_ISOLATE_MAX_OWNERS];
    ssize_t nuserns_owners;
    int userns_available;
    struct ng_policy_request pr;
};

void ng_request_init(struct ng_request *rq);
void ng_request_close(struct ng_request *rq);

/* Open the target named by q. -ESRCH: the PID is not found or gone;
 * -ENOENT: no running container has that ID prefix or name, or no such pod
 * is on this node; -EEXIST: more than one container matches (miss->cands);
 * --pod only: -ENXIO the pod has no such container, -ENOTUNIQ no
 * container named and the pod has several (miss->pod.names lists them),
 * -ENODATA no running process of that container, -EPERM the kubelet's
 * directories are unsafe (pods.h). */
int ng_request_open_target(struct ng_request *rq, const struct ng_target_query *q,
                           struct ng_target_miss *miss);

/* The namespaces to enter: want (or every one with all), less those the
 * target shares with nsgate. -ENODATA when nothing is left. */
int ng_request_namespaces(struct ng_request *rq, ng_nsset want, int all);

/* The caller from its real ids and groups, with the database membership. */
void ng_request_set_caller(struct ng_request *rq, uint32_t uid, uint32_t gid, const gid_t *groups,
                           size_t ngroups);

/* Fill rq->pr for ng_policy_decide. Strings are borrowed. */
int ng_request_fill(struct ng_request *rq, const char *program, const char *reason);

/* Resolve a bare PROGRAM (progpath.h) in the filesystem the program will
 * run in: the target's root (its /proc/PID/root, through the directory
 * descriptor) when mnt is entered, else the host's. Call after
 * ng_request_namespaces. 0, or as ng_progpath_resolve. */
int ng_request_resolve_program(const struct ng_request *rq, const char *name, char *out,
                               size_t outsz);

/* Does the target share nsgate's user namespace? */
int ng_request_shares_userns(const struct ng_request *rq);

#endif
