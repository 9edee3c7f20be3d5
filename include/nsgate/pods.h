/* Kubernetes pods on a node from the kubelet's layout, without the API
 * server (cli.md --pod, policy.md attribute pod):
 *   ROOT/var/log/pods/NAMESPACE_POD_UID/CONTAINER/N.log    (one directory
 *       per pod instance, one per container)
 *   ROOT/var/log/containers/POD_NAMESPACE_CONTAINER-ID.log -> a link to
 *       /var/log/pods/NAMESPACE_POD_UID/CONTAINER/N.log    (the runtime's
 *       container ID for each container instance)
 * and the pod UID in the processes' cgroup paths (procfs.h). Both
 * directories must be owned by root and not writable by group or other.
 * ROOT is "" on a real node; tests name a directory holding a captured
 * tree. */
#ifndef NSGATE_PODS_H
#define NSGATE_PODS_H

#include "nsgate/procfs.h"

#include <stddef.h>

#define NG_POD_NS_MAX        63  /* a DNS label */
#define NG_POD_NAME_MAX      253 /* a DNS subdomain */
#define NG_POD_CONTAINER_MAX 63
#define NG_POD_MAX_MATCHES   16

/* "NAMESPACE/POD[/CONTAINER]" split and checked (DNS label, subdomain,
 * label). 0 or -EINVAL. container is "" when not given. */
int ng_pod_parse_arg(const char *arg, char ns[NG_POD_NS_MAX + 1], char pod[NG_POD_NAME_MAX + 1],
                     char container[NG_POD_CONTAINER_MAX + 1]);

/* A /var/log/pods entry "NAMESPACE_POD_UID" split and checked. 0 or
 * -EINVAL. Pure. */
int ng_pod_parse_dir(const char *name, char ns[NG_POD_NS_MAX + 1], char pod[NG_POD_NAME_MAX + 1],
                     char uid[NG_POD_UID_LEN + 1]);

/* The container instances of NAMESPACE/POD/CONTAINER on this node: each
 * runtime container ID with the UID of its pod instance. With container ""
 * the pod must have exactly one container. Returns 0 with at least one
 * match; -ENOENT no such pod here; -ESRCH the pod has no such container
 * (names lists the pod's containers); -ENOTUNIQ no container named and
 * the pod has several (names lists them); -ENODATA the pod and container
 * exist, but the kubelet lists no container ID for it (no
 * /var/log/containers link); -EPERM an unsafe directory. */
struct ng_pod_matches {
    struct {
        char id[NG_CONTAINER_ID_LEN + 1];
        char uid[NG_POD_UID_LEN + 1];
    } m[NG_POD_MAX_MATCHES];
    size_t n;
    char container[NG_POD_CONTAINER_MAX + 1]; /* the container chosen */
    char names[512];                          /* "a, b, c" for the messages */
};
int ng_pod_find(const char *root, const char *ns, const char *pod, const char *container,
                struct ng_pod_matches *ret);

/* The pod attribute: "NAMESPACE/POD" of the pod whose UID is uid. 1 and
 * out filled; 0 when no single pod directory has that UID. */
int ng_pod_name_by_uid(const char *root, const char *uid, char *out, size_t outsz);

#endif
