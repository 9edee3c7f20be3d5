/* Building one request from the target, the caller and the options. */
#include "nsgate/request.h"
#include "nsgate/progpath.h"
#include "nsgate/creds.h"
#include "nsgate/util.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

void ng_request_init(struct ng_request *rq)
{
    memset(rq, 0, sizeof(*rq));
    rq->t.proc_fd = rq->t.pidfd = -1;
}

void ng_request_close(struct ng_request *rq)
{
    ng_target_close(&rq->t);
}

static int locate_container(const struct ng_target_query *q, pid_t *pid,
                            struct ng_target_miss *miss)
{
    struct ng_engine_ids ids;
    size_t n = strlen(q->container);
    int hex = n >= 4 && n <= NG_CONTAINER_ID_LEN && ng_is_lower_hex(q->container, n);

    /* A name and an ID prefix that both match different containers is
     * ambiguous like any prefix: the scan sees both. */
    if (ng_engine_ids_by_name(q->state_root, q->container, &ids) < 0)
        ids.n = 0;
    struct ng_locate l = {.prefix = hex ? q->container : NULL,
                          .ids = (const char(*)[NG_CONTAINER_ID_LEN + 1]) ids.id,
                          .uids = NULL,
                          .nids = ids.n};
    if (!l.prefix && !l.nids)
        return -ENOENT;
    return ng_target_locate(&l, pid, &miss->cands);
}

static int locate_pod(const struct ng_target_query *q, pid_t *pid, struct ng_target_miss *miss)
{
    char ns[NG_POD_NS_MAX + 1], pod[NG_POD_NAME_MAX + 1], c[NG_POD_CONTAINER_MAX + 1];
    char ids[NG_POD_MAX_MATCHES][NG_CONTAINER_ID_LEN + 1],
        uids[NG_POD_MAX_MATCHES][NG_POD_UID_LEN + 1];

    if (ng_pod_parse_arg(q->pod, ns, pod, c) < 0)
        return -EINVAL;
    int r = ng_pod_find(q->state_root, ns, pod, c, &miss->pod);
    if (r < 0)
        return r == -ESRCH ? -ENXIO : r;
    for (size_t i = 0; i < miss->pod.n; i++) {
        memcpy(ids[i], miss->pod.m[i].id, sizeof(ids[i]));
        memcpy(uids[i], miss->pod.m[i].uid, sizeof(uids[i]));
    }
    struct ng_locate l = {.prefix = NULL,
                          .ids = (const char(*)[NG_CONTAINER_ID_LEN + 1]) ids,
                          .uids = (const char(*)[NG_POD_UID_LEN + 1]) uids,
                          .nids = miss->pod.n};
    r = ng_target_locate(&l, pid, &miss->cands);
    return r == -ENOENT ? -ENODATA : r;
}

int ng_request_open_target(struct ng_request *rq, const struct ng_target_query *q,
                           struct ng_target_miss *miss)
{
    pid_t pid = q->pid;
    const char *root = q->state_root ? q->state_root : "";
    struct ng_target_query qq = *q;
    int r = 0;

    memset(miss, 0, sizeof(*miss));
    qq.state_root = root;
    if (q->container)
        r = locate_container(&qq, &pid, miss);
    else if (q->pod)
        r = locate_pod(&qq, &pid, miss);
    if (r < 0)
        return r;
    r = ng_target_open(pid, root, &rq->t);
    if (r < 0)
        return r == -ENOENT ? -ESRCH : r;
    if (ng_ns_self(rq->self_ns) < 0 || ng_caps_last_cap(&rq->last_cap) < 0)
        return -EIO;
    char buf[8192];
    struct ng_proc_status self;
    if (ng_read_file_at(AT_FDCWD, "/proc/self/status", buf, sizeof(buf)) < 0 ||
        ng_parse_status(buf, &self) < 0)
        return -EIO;
    rq->self_prm = self.cap_prm;
    size_t n = 0;
    rq->nuserns_owners =
        ng_isolate_userns_owners(rq->t.proc_fd, rq->userns_owners, &n) < 0 ? -1 : (ssize_t)n;
    rq->userns_available = ng_isolate_userns_available();
    return 0;
}

static int same_ns(const struct ng_request *rq, int i)
{
    return rq->t.ns[i].dev == rq->self_ns[i].dev && rq->t.ns[i].ino == rq->self_ns[i].ino;
}

int ng_request_shares_userns(const struct ng_request *rq)
{
    return same_ns(rq, NG_NS_USER);
}

int ng_request_namespaces(struct ng_request *rq, ng_nsset want, int all)
{
    rq->ns = 0;
    if (all)
        want = NG_NSSET_ALL;
    for (int i = 0; i < NG_NS_COUNT; i++) {
        unsigned bit = 1u << i;
        if ((want & bit) && rq->t.ns[i].present && !same_ns(rq, i))
            rq->ns |= bit;
    }
    return rq->ns ? 0 : -ENODATA;
}

void ng_request_set_caller(struct ng_request *rq, uint32_t uid, uint32_t gid, const gid_t *groups,
                           size_t ngroups)
{
    size_t n = NG_MAX_GROUPS;

    memset(&rq->caller, 0, sizeof(rq->caller));
    rq->caller.uid = uid;
    rq->caller.gid = gid;
    rq->caller.ngroups = ngroups < NG_MAX_GROUPS ? ngroups : NG_MAX_GROUPS;
    for (size_t i = 0; i < rq->caller.ngroups; i++)
        rq->caller.groups[i] = groups[i];
    /* The host's user database, before any setns (no NSS inside targets). */
    if (ng_policy_userdb_system.membership(NULL, uid, rq->db_groups, &n) < 0)
        n = 0;
    rq->ndb_groups = n;
}

/* Does the caller own the target's user namespace or one of its ancestors
 * (and so hold every capability in it)? Unknown owners count as the caller's. */
static int caller_owns_userns(const struct ng_request *rq)
{
    if (rq->nuserns_owners < 0)
        return 1;
    for (ssize_t i = 0; i < rq->nuserns_owners; i++)
        if (rq->userns_owners[i] == rq->caller.uid)
            return 1;
    return 0;
}

int ng_request_fill(struct ng_request *rq, const char *program, const char *reason)
{
    struct ng_policy_request *pr = &rq->pr;
    int userns = !!(rq->ns & (1u << NG_NS_USER));

    memset(pr, 0, sizeof(*pr));
    pr->caller = &rq->caller;
    pr->db_groups = rq->db_groups;
    pr->ndb_groups = rq->ndb_groups;
    pr->attrs = &rq->t.attrs;
    pr->ns = rq->ns;
    pr->program = program;
    pr->reason = reason;
    /* Shared namespaces are already dropped: mnt absent means the program
     * stays in nsgate's mount namespace. */
    pr->mnt_stays_host = !(rq->ns & (1u << NG_NS_MNT));
    pr->target_own_userns = !same_ns(rq, NG_NS_USER);
    pr->userns_entered = userns;
    pr->caller_owns_userns = caller_owns_userns(rq);
    pr->userns_available = rq->userns_available;
    pr->cred.target = &rq->t.status;
    pr->cred.caller = &rq->caller;
    pr->cred.enter_userns = userns;
    pr->cred.uid_map = rq->t.uid_map;
    pr->cred.gid_map = rq->t.gid_map;
    pr->cred.in_target_userns = userns || same_ns(rq, NG_NS_USER);
    /* "keep" and capability lists can only give what nsgate holds in the
     * user namespace the program ends in: all of a user namespace it
     * entered, its own permitted set in its own. */
    pr->cred.all_caps = ng_caps_mask(rq->last_cap) & (userns ? UINT64_MAX : rq->self_prm);
    return 0;
}

int ng_request_resolve_program(const struct ng_request *rq, const char *name, char *out,
                               size_t outsz)
{
    int in_target = (rq->ns & (1u << NG_NS_MNT)) != 0;
    int root = in_target ? openat(rq->t.proc_fd, "root", O_PATH | O_DIRECTORY | O_CLOEXEC)
                         : open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);

    if (root < 0)
        return errno == ENOENT ? -ESRCH : -errno;
    int r = ng_progpath_resolve(root, name, out, outsz);
    close(root);
    return r;
}
