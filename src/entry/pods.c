/* Kubernetes pods from the kubelet's layout on the node (pods.h). */
#include "nsgate/pods.h"
#include "nsgate/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PODS       "/var/log/pods"
#define CONTAINERS "/var/log/containers"

static int is_alnum_lower(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* A DNS label ([a-z0-9-], alphanumeric at both ends) or, with dots, a DNS
 * subdomain, as Kubernetes validates names. */
static int dns_name(const char *s, size_t n, size_t max, int dots)
{
    if (n == 0 || n > max || !is_alnum_lower(s[0]) || !is_alnum_lower(s[n - 1]))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!is_alnum_lower(s[i]) && s[i] != '-' && !(dots && s[i] == '.'))
            return 0;
    return 1;
}

static int valid_uid(const char *s, size_t n)
{
    if (n == 32)
        return ng_is_lower_hex(s, 32);
    if (n != NG_POD_UID_LEN)
        return 0;
    for (size_t i = 0; i < n; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !ng_is_lower_hex(s + i, 1))
            return 0;
    }
    return 1;
}

static void copy(char *dst, const char *src, size_t n)
{
    memcpy(dst, src, n);
    dst[n] = '\0';
}

int ng_pod_parse_arg(const char *arg, char ns[NG_POD_NS_MAX + 1], char pod[NG_POD_NAME_MAX + 1],
                     char container[NG_POD_CONTAINER_MAX + 1])
{
    const char *s1 = strchr(arg, '/');
    const char *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
    size_t nn = s1 ? (size_t)(s1 - arg) : 0;
    size_t pn = s1 ? (s2 ? (size_t)(s2 - s1 - 1) : strlen(s1 + 1)) : 0;
    size_t cn = s2 ? strlen(s2 + 1) : 0;

    if (!s1 || !dns_name(arg, nn, NG_POD_NS_MAX, 0) || !dns_name(s1 + 1, pn, NG_POD_NAME_MAX, 1) ||
        (s2 && !dns_name(s2 + 1, cn, NG_POD_CONTAINER_MAX, 0)))
        return -EINVAL;
    copy(ns, arg, nn);
    copy(pod, s1 + 1, pn);
    copy(container, s2 ? s2 + 1 : "", cn);
    return 0;
}

int ng_pod_parse_dir(const char *name, char ns[NG_POD_NS_MAX + 1], char pod[NG_POD_NAME_MAX + 1],
                     char uid[NG_POD_UID_LEN + 1])
{
    const char *a = strchr(name, '_'), *b = strrchr(name, '_');
    size_t n = strlen(name);

    if (!a || a == b)
        return -EINVAL;
    size_t nn = (size_t)(a - name), pn = (size_t)(b - a - 1), un = n - (size_t)(b - name) - 1;
    if (!dns_name(name, nn, NG_POD_NS_MAX, 0) || !dns_name(a + 1, pn, NG_POD_NAME_MAX, 1) ||
        !valid_uid(b + 1, un))
        return -EINVAL;
    copy(ns, name, nn);
    copy(pod, a + 1, pn);
    copy(uid, b + 1, un);
    return 0;
}

/* One of the kubelet's directories, if root owns it and only root may
 * write it (the effective uid is accepted for unprivileged unit tests, as
 * in engines.c). A root process given /var/log read-write can still write
 * there: docs/security.md says what pod: is then worth. */
static DIR *open_safe(const char *root, const char *dir)
{
    char path[4096];
    struct stat st;

    snprintf(path, sizeof(path), "%s%s", root, dir);
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    if (fstat(fd, &st) < 0 || (st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & 022)) {
        close(fd);
        errno = EPERM;
        return NULL;
    }
    DIR *d = fdopendir(fd);
    if (!d)
        close(fd);
    return d;
}

struct pod_uids {
    char uid[NG_POD_MAX_MATCHES][NG_POD_UID_LEN + 1];
    size_t n;
};

static int find_uids(DIR *d, const char *ns, const char *pod, struct pod_uids *u)
{
    char n2[NG_POD_NS_MAX + 1], p2[NG_POD_NAME_MAX + 1], uid[NG_POD_UID_LEN + 1];
    struct dirent *e;

    u->n = 0;
    while ((e = readdir(d)))
        if (ng_pod_parse_dir(e->d_name, n2, p2, uid) == 0 && strcmp(n2, ns) == 0 &&
            strcmp(p2, pod) == 0 && u->n < NG_POD_MAX_MATCHES)
            memcpy(u->uid[u->n++], uid, sizeof(uid));
    return u->n ? 0 : -ENOENT;
}

/* The distinct container names of a pod, for the choice and the messages. */
struct names {
    char v[NG_POD_MAX_MATCHES][NG_POD_CONTAINER_MAX + 1];
    size_t n;
};

static void add_name(struct names *nm, struct ng_pod_matches *r, const char *name)
{
    for (size_t i = 0; i < nm->n; i++)
        if (strcmp(nm->v[i], name) == 0)
            return;
    if (nm->n == NG_POD_MAX_MATCHES)
        return;
    snprintf(nm->v[nm->n++], sizeof(nm->v[0]), "%s", name);
    size_t used = strlen(r->names);
    snprintf(r->names + used, sizeof(r->names) - used, "%s%s", used ? ", " : "", name);
}

/* The containers of the pod's instances: choose or check CONTAINER. */
static int pick_container(DIR *pods, const char *ns, const char *pod, const struct pod_uids *u,
                          const char *want, struct ng_pod_matches *r)
{
    struct names nm = {.n = 0};
    int have = 0;

    for (size_t i = 0; i < u->n; i++) {
        char sub[NG_POD_NS_MAX + NG_POD_NAME_MAX + NG_POD_UID_LEN + 4];
        snprintf(sub, sizeof(sub), "%s_%s_%s", ns, pod, u->uid[i]);
        DIR *d = ng_opendir_at(dirfd(pods), sub, O_NOFOLLOW);
        struct dirent *e;
        if (!d)
            continue;
        while ((e = readdir(d))) {
            if (!dns_name(e->d_name, strlen(e->d_name), NG_POD_CONTAINER_MAX, 0))
                continue;
            add_name(&nm, r, e->d_name);
            have |= strcmp(e->d_name, want) == 0;
        }
        closedir(d);
    }
    snprintf(r->container, sizeof(r->container), "%s", want[0] ? want : nm.n ? nm.v[0] : "");
    if (want[0])
        return have ? 0 : -ESRCH;
    return nm.n == 1 ? 0 : nm.n == 0 ? -ESRCH : -ENOTUNIQ;
}

/* The link's target names one of the pod's instances and the container. */
static const char *link_uid(const char *target, const char *ns, const char *pod,
                            const char *container, const struct pod_uids *u)
{
    char want[4096];
    for (size_t i = 0; i < u->n; i++) {
        int n = snprintf(want, sizeof(want), PODS "/%s_%s_%s/%s/", ns, pod, u->uid[i], container);
        if (n > 0 && (size_t)n < sizeof(want) && strncmp(target, want, (size_t)n) == 0)
            return u->uid[i];
    }
    return NULL;
}

static int find_ids(const char *root, const char *ns, const char *pod, const struct pod_uids *u,
                    struct ng_pod_matches *r)
{
    char prefix[NG_POD_NAME_MAX + NG_POD_NS_MAX + NG_POD_CONTAINER_MAX + 4], target[4096];
    DIR *d = open_safe(root, CONTAINERS);
    struct dirent *e;

    if (!d)
        return errno == EPERM ? -EPERM : -ENODATA;
    int pl = snprintf(prefix, sizeof(prefix), "%s_%s_%s-", pod, ns, r->container);
    while ((e = readdir(d))) {
        const char *id = e->d_name + pl;
        if (strncmp(e->d_name, prefix, (size_t)pl) != 0 || strlen(id) != NG_CONTAINER_ID_LEN + 4 ||
            strcmp(id + NG_CONTAINER_ID_LEN, ".log") != 0 ||
            !ng_is_lower_hex(id, NG_CONTAINER_ID_LEN))
            continue;
        ssize_t n = readlinkat(dirfd(d), e->d_name, target, sizeof(target) - 1);
        if (n <= 0)
            continue;
        target[n] = '\0';
        const char *uid = link_uid(target, ns, pod, r->container, u);
        if (!uid || r->n >= NG_POD_MAX_MATCHES)
            continue;
        copy(r->m[r->n].id, id, NG_CONTAINER_ID_LEN);
        snprintf(r->m[r->n].uid, sizeof(r->m[r->n].uid), "%s", uid);
        r->n++;
    }
    closedir(d);
    return r->n ? 0 : -ENODATA;
}

int ng_pod_find(const char *root, const char *ns, const char *pod, const char *container,
                struct ng_pod_matches *ret)
{
    struct pod_uids u;
    DIR *d = open_safe(root, PODS);

    memset(ret, 0, sizeof(*ret));
    if (!d)
        return errno == EPERM ? -EPERM : -ENOENT;
    int r = find_uids(d, ns, pod, &u);
    if (r == 0) {
        rewinddir(d);
        r = pick_container(d, ns, pod, &u, container, ret);
    }
    closedir(d);
    return r < 0 ? r : find_ids(root, ns, pod, &u, ret);
}

int ng_pod_name_by_uid(const char *root, const char *uid, char *out, size_t outsz)
{
    char ns[NG_POD_NS_MAX + 1], pod[NG_POD_NAME_MAX + 1], u[NG_POD_UID_LEN + 1];
    DIR *d = open_safe(root, PODS);
    struct dirent *e;
    int found = 0;

    if (!d)
        return 0;
    while ((e = readdir(d))) {
        if (ng_pod_parse_dir(e->d_name, ns, pod, u) < 0 || strcmp(u, uid) != 0)
            continue;
        /* Two directories claiming one UID: trust neither. */
        if (found++ || snprintf(out, outsz, "%s/%s", ns, pod) >= (int)outsz) {
            found = 2;
            break;
        }
    }
    closedir(d);
    if (found != 1 && outsz)
        out[0] = '\0';
    return found == 1;
}
