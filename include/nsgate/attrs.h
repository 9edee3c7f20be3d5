/* Target attributes as the policy sees them (policy.md "Target attributes"):
 * text values, NULL when the target lacks the attribute. */
#ifndef NSGATE_ATTRS_H
#define NSGATE_ATTRS_H

enum ng_attr {
    NG_ATTR_CONTAINER = 0,
    NG_ATTR_CGROUP,
    NG_ATTR_EXE,
    NG_ATTR_COMM,
    NG_ATTR_UID,
    NG_ATTR_PID,
    NG_ATTR_NAME, /* the container's name in its engine's state (podman, Docker) */
    NG_ATTR_POD,  /* NAMESPACE/POD of the Kubernetes pod it runs in */
    NG_ATTR_COUNT
};

struct ng_attrs {
    const char *v[NG_ATTR_COUNT];
    /* Why the container attribute is absent although the cgroup path carries
     * an ID (a deeper component names another), for check's explanation. */
    const char *container_why;
    /* The same for pod: a deeper cgroup component names another pod UID. */
    const char *pod_why;
};

/* "container", "cgroup", "exe", "comm", "uid", "pid", "name", "pod"; -1
 * when unknown. */
int ng_attr_from_name(const char *name);
const char *ng_attr_name(enum ng_attr a);

#endif
