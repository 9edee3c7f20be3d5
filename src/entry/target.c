/* Reading the target through one /proc/PID descriptor and a pidfd. */
#include "nsgate/target.h"
#include "nsgate/sysnr.h"
#include "nsgate/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int ng_target_alive(const struct ng_target *t)
{
    if (syscall(SYS_pidfd_send_signal, t->pidfd, 0, NULL, 0) < 0)
        return -ESRCH;
    return 0;
}

static int read_ns_ids(int dirfd, const char *prefix, struct ng_ns_id ids[NG_NS_COUNT])
{
    for (int i = 0; i < NG_NS_COUNT; i++) {
        char path[64];
        struct stat st;
        snprintf(path, sizeof(path), "%s%s", prefix, ng_ns_table[i].proc);
        memset(&ids[i], 0, sizeof(ids[i]));
        if (fstatat(dirfd, path, &st, 0) < 0) {
            if (errno == ENOENT)
                continue; /* the kernel lacks this namespace type */
            return errno == ESRCH ? -ESRCH : -errno;
        }
        ids[i].dev = st.st_dev;
        ids[i].ino = st.st_ino;
        ids[i].present = 1;
    }
    return 0;
}

int ng_ns_self(struct ng_ns_id ids[NG_NS_COUNT])
{
    return read_ns_ids(AT_FDCWD, "/proc/self/ns/", ids);
}

/* name and pod: the host's engine and kubelet state, keyed by what the
 * cgroup path says (policy.md "Target attributes"). */
static void read_host_attrs(struct ng_target *t, const char *state_root)
{
    if (t->attrs.v[NG_ATTR_CONTAINER] &&
        ng_engine_name_by_id(state_root, t->container, t->name, sizeof(t->name)) == 1)
        t->attrs.v[NG_ATTR_NAME] = t->name;
    if (ng_pod_uid_from_path(t->cgroup, t->pod_uid, &t->attrs.pod_why) == 1 &&
        ng_pod_name_by_uid(state_root, t->pod_uid, t->pod, sizeof(t->pod)) == 1)
        t->attrs.v[NG_ATTR_POD] = t->pod;
}

static int read_text_attrs(struct ng_target *t, const char *state_root)
{
    char buf[8192];
    ssize_t n;

    n = ng_read_file_at(t->proc_fd, "cgroup", buf, sizeof(buf));
    if (n < 0)
        return (int)n;
    if (ng_parse_cgroup_path(buf, t->cgroup, sizeof(t->cgroup)) == 0) {
        t->attrs.v[NG_ATTR_CGROUP] = t->cgroup;
        if (ng_container_id_from_path(t->cgroup, t->container, &t->attrs.container_why) == 1)
            t->attrs.v[NG_ATTR_CONTAINER] = t->container;
        read_host_attrs(t, state_root);
    }
    n = readlinkat(t->proc_fd, "exe", t->exe, sizeof(t->exe) - 1);
    if (n >= 0) {
        t->exe[n] = '\0';
        t->attrs.v[NG_ATTR_EXE] = t->exe;
    }
    n = ng_read_file_at(t->proc_fd, "comm", t->comm, sizeof(t->comm));
    if (n > 0) {
        if (t->comm[n - 1] == '\n')
            t->comm[n - 1] = '\0';
        t->attrs.v[NG_ATTR_COMM] = t->comm;
    }
    snprintf(t->uid_text, sizeof(t->uid_text), "%u", t->status.uid[0]);
    snprintf(t->pid_text, sizeof(t->pid_text), "%d", (int)t->pid);
    t->attrs.v[NG_ATTR_UID] = t->uid_text;
    t->attrs.v[NG_ATTR_PID] = t->pid_text;
    return 0;
}

static int read_all(struct ng_target *t, const char *state_root)
{
    char buf[8192];
    ssize_t n;
    int r;

    n = ng_read_file_at(t->proc_fd, "stat", buf, sizeof(buf));
    if (n < 0 || ng_parse_stat_starttime(buf, &t->starttime) < 0)
        return n < 0 ? (int)n : -EIO;
    n = ng_read_file_at(t->proc_fd, "status", buf, sizeof(buf));
    if (n < 0)
        return (int)n;
    r = ng_parse_status(buf, &t->status);
    if (r < 0)
        return r;
    n = ng_read_file_at(t->proc_fd, "uid_map", t->uid_map, sizeof(t->uid_map));
    if (n < 0)
        return (int)n;
    n = ng_read_file_at(t->proc_fd, "gid_map", t->gid_map, sizeof(t->gid_map));
    if (n < 0)
        return (int)n;
    r = read_ns_ids(t->proc_fd, "ns/", t->ns);
    if (r < 0)
        return r;
    /* A zombie has no namespaces left: it is gone. */
    if (!t->ns[NG_NS_MNT].present && !t->ns[NG_NS_NET].present)
        return -ESRCH;
    return read_text_attrs(t, state_root);
}

int ng_target_open(pid_t pid, const char *state_root, struct ng_target *t)
{
    char path[32];
    int r;

    memset(t, 0, sizeof(*t));
    t->pid = pid;
    t->pidfd = -1;
    snprintf(path, sizeof(path), "/proc/%d", (int)pid);
    t->proc_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (t->proc_fd < 0)
        return errno == ENOENT ? -ESRCH : -errno;
    t->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (t->pidfd < 0) {
        r = errno == ESRCH ? -ESRCH : -errno;
        ng_target_close(t);
        return r;
    }
    /* The pidfd was opened after the directory: if the PID was reused in
     * between, the directory now refers to a dead process and reads fail;
     * the start time read below, compared after, catches the rest. */
    r = read_all(t, state_root ? state_root : "");
    if (r == 0)
        r = ng_target_alive(t);
    if (r == 0) {
        char buf[8192];
        uint64_t st2;
        if (ng_read_file_at(t->proc_fd, "stat", buf, sizeof(buf)) < 0 ||
            ng_parse_stat_starttime(buf, &st2) < 0 || st2 != t->starttime)
            r = -ESRCH;
    }
    if (r < 0) {
        ng_target_close(t);
        return r == -ENOENT ? -ESRCH : r;
    }
    return 0;
}

void ng_target_close(struct ng_target *t)
{
    ng_closep(&t->proc_fd);
    ng_closep(&t->pidfd);
}

struct scan_best {
    pid_t pid;
    uint64_t start;
};

static int wanted(const struct ng_locate *q, const char *cg, const char *id)
{
    char uid[NG_POD_UID_LEN + 1];

    if (q->prefix && strncmp(id, q->prefix, strlen(q->prefix)) == 0)
        return 1;
    for (size_t i = 0; i < q->nids; i++) {
        if (strcmp(id, q->ids[i]) != 0)
            continue;
        /* A pod's container: its process must be in that pod's cgroup. */
        if (!q->uids || !q->uids[i][0] ||
            (ng_pod_uid_from_path(cg, uid, NULL) == 1 && strcmp(uid, q->uids[i]) == 0))
            return 1;
    }
    return 0;
}

static void scan_one(int procfd, const char *name, const struct ng_locate *q,
                     struct ng_container_candidates *c, struct scan_best *best)
{
    char path[64], buf[8192], cg[4096], id[NG_CONTAINER_ID_LEN + 1];
    pid_t pid;
    uint64_t start;

    if (ng_parse_pid(name, &pid) < 0)
        return;
    snprintf(path, sizeof(path), "%s/cgroup", name);
    if (ng_read_file_at(procfd, path, buf, sizeof(buf)) < 0 ||
        ng_parse_cgroup_path(buf, cg, sizeof(cg)) < 0 ||
        ng_container_id_from_path(cg, id, NULL) != 1 || !wanted(q, cg, id))
        return;
    size_t i;
    for (i = 0; i < c->n; i++)
        if (strcmp(c->ids[i], id) == 0)
            break;
    if (i == c->n && c->n < NG_ARRAY_SIZE(c->ids))
        memcpy(c->ids[c->n++], id, sizeof(id));
    snprintf(path, sizeof(path), "%s/stat", name);
    if (ng_read_file_at(procfd, path, buf, sizeof(buf)) < 0 ||
        ng_parse_stat_starttime(buf, &start) < 0)
        return;
    if (!best->pid || start < best->start || (start == best->start && pid < best->pid)) {
        best->pid = pid;
        best->start = start;
    }
}

int ng_target_locate(const struct ng_locate *q, pid_t *ret, struct ng_container_candidates *cands)
{
    struct scan_best best = {0, 0};
    DIR *d = ng_opendir_at(AT_FDCWD, "/proc", 0);
    if (!d)
        return -errno;
    memset(cands, 0, sizeof(*cands));
    struct dirent *e;
    while ((e = readdir(d)))
        scan_one(dirfd(d), e->d_name, q, cands, &best);
    closedir(d);
    if (cands->n == 0 || !best.pid)
        return -ENOENT;
    if (cands->n > 1)
        return -EEXIST;
    *ret = best.pid;
    return 0;
}
