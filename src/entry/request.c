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

int ng_request_open_target(struct ng_request *rq, pid_t pid, const char *container,
                           struct ng_container_candidates *cands)
{
    if (container) {
        int r = ng_target_find_container(container, &pid, cands);
        if (r < 0)
            return r;
    }
    int r = ng_target_open(pid, &rq->t);
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
    rq->nuserns_owners = ng_isolate_userns_owners(rq->t.proc_fd, rq->userns_owners, &n) < 0
                             ? -1
                             : (ssize_t)n;
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

void ng_request_set_caller(struct ng_request *rq, uint32_t uid, uint32_t gid,
                           const gid_t *groups, size_t ngroups)
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
