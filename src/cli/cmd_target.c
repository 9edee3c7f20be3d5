/* Finding the target for enter and check (cli.md): -t PID, --container ID
 * or NAME, --pod NAMESPACE/POD[/CONTAINER]; one message and one exit status
 * for each way it can fail. */
#include "cmd_int.h"
#include "nsgate/engines.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

const char *ng_cmd_state_root(const struct ng_caller *caller)
{
    /* Tests read captured engine and kubelet trees; NSGATE_* is kept in the
     * environment for real root only (harden.c), checked again here. */
    const char *e = getenv("NSGATE_STATE_ROOT");
    return e && *e == '/' && caller->uid == 0 ? e : "";
}

static void candidates(const struct ng_target_query *q, const struct ng_target_miss *m)
{
    char name[NG_ENGINE_NAME_MAX + 1];

    for (size_t i = 0; i < m->cands.n; i++) {
        if (ng_engine_name_by_id(q->state_root, m->cands.ids[i], name, sizeof(name)) == 1)
            fprintf(stderr, "  %s  %s\n", m->cands.ids[i], name);
        else
            fprintf(stderr, "  %s\n", m->cands.ids[i]);
    }
}

static int pod_miss(const struct ng_target_query *q, const struct ng_target_miss *m, int r)
{
    switch (r) {
    case -ENOENT:
        ng_err("no pod %s on this node (no kubelet directory /var/log/pods/NAMESPACE_POD_UID)",
               q->pod);
        return NG_EXIT_TARGET;
    case -ENXIO:
        ng_err("pod %s has no container %s here (its containers: %s)", q->pod, m->pod.container,
               m->pod.names[0] ? m->pod.names : "none");
        return NG_EXIT_TARGET;
    case -ENOTUNIQ:
        ng_err("pod %s has several containers (%s): name one, --pod NAMESPACE/POD/CONTAINER",
               q->pod, m->pod.names);
        return NG_EXIT_USAGE;
    case -ENODATA:
        ng_err("no running process of container %s of pod %s on this node", m->pod.container,
               q->pod);
        return NG_EXIT_TARGET;
    case -EPERM:
        ng_err("the kubelet's /var/log/pods or /var/log/containers is not owned by root or is "
               "writable by group or other: pods are not read from it");
        return NG_EXIT_TARGET;
    default:
        return 0;
    }
}

int ng_cmd_open_target(struct ng_request *rq, const struct ng_target_query *q)
{
    static struct ng_target_miss miss;
    int r = ng_request_open_target(rq, q, &miss);

    if (r == 0)
        return 0;
    if (r == -EEXIST) {
        ng_err("%s %s is ambiguous (a name and an ID prefix, or an ID prefix of several "
               "containers); candidates:",
               q->pod ? "--pod" : "--container", q->pod ? q->pod : q->container);
        candidates(q, &miss);
        return NG_EXIT_USAGE;
    }
    if (q->pod && (r = pod_miss(q, &miss, r)) != 0)
        return r;
    if (q->container && r == -ENOENT) {
        ng_err("no running container has the ID prefix or name %s", q->container);
        return NG_EXIT_TARGET;
    }
    if (q->pod || q->container)
        ng_err("the target is gone");
    else
        ng_err("target %d not found or gone", (int)q->pid);
    return NG_EXIT_TARGET;
}
