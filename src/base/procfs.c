/* Parsers for /proc text. Inputs are NUL-terminated; every copy is bounded. */
#include "nsgate/procfs.h"
#include "nsgate/util.h"

#include <errno.h>
#include <string.h>

/* Copy the line starting at p (up to '\n' or NUL) into buf; return the start
 * of the next line or NULL at the end. Over-long lines are cut and flagged. */
static const char *next_line(const char *p, char *buf, size_t size, int *too_long)
{
    size_t n = 0;

    *too_long = 0;
    if (!p || !*p)
        return NULL;
    while (p[n] && p[n] != '\n')
        n++;
    if (n >= size) {
        *too_long = 1;
        buf[0] = '\0';
    } else {
        memcpy(buf, p, n);
        buf[n] = '\0';
    }
    return p[n] ? p + n + 1 : p + n;
}

static int parse_hex64(const char *s, uint64_t *ret)
{
    uint64_t v = 0;
    size_t n = 0;

    for (; *s; s++, n++) {
        unsigned d;
        if (*s >= '0' && *s <= '9')
            d = (unsigned)(*s - '0');
        else if (*s >= 'a' && *s <= 'f')
            d = (unsigned)(*s - 'a' + 10);
        else
            return -EINVAL;
        if (n >= 16)
            return -ERANGE;
        v = (v << 4) | d;
    }
    if (n == 0)
        return -EINVAL;
    *ret = v;
    return 0;
}

/* Split s in place on tabs/spaces into at most max fields. */
static size_t split_ws(char *s, char **fields, size_t max)
{
    size_t n = 0;
    char *save = NULL;

    for (char *t = strtok_r(s, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
        if (n == max)
            return max + 1;
        fields[n++] = t;
    }
    return n;
}

static int parse_ids4(char *v, uint32_t out[4])
{
    char *f[5];
    if (split_ws(v, f, 4) != 4)
        return -EINVAL;
    for (int i = 0; i < 4; i++) {
        uint64_t x;
        /* The kernel prints overflow ids as 65534 and never (uid_t)-1. */
        if (ng_parse_u64(f[i], 0, UINT32_MAX - 1, &x) < 0)
            return -EINVAL;
        out[i] = (uint32_t)x;
    }
    return 0;
}

static int parse_groups(char *v, struct ng_proc_status *st)
{
    char *save = NULL;
    st->ngroups = 0;
    for (char *t = strtok_r(v, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
        uint32_t g;
        if (st->ngroups == NG_MAX_GROUPS)
            return -E2BIG;
        if (ng_parse_id(t, &g) < 0)
            return -EINVAL;
        st->groups[st->ngroups++] = g;
    }
    return 0;
}

enum { F_UID = 1, F_GID = 2, F_GROUPS = 4, F_INH = 8, F_PRM = 16, F_EFF = 32, F_BND = 64 };

static int status_field(char *key, char *v, struct ng_proc_status *st, unsigned *seen)
{
    static const struct {
        const char *key;
        unsigned flag;
        size_t off;
    } caps[] = {
        {"CapInh", F_INH, offsetof(struct ng_proc_status, cap_inh)},
        {"CapPrm", F_PRM, offsetof(struct ng_proc_status, cap_prm)},
        {"CapEff", F_EFF, offsetof(struct ng_proc_status, cap_eff)},
        {"CapBnd", F_BND, offsetof(struct ng_proc_status, cap_bnd)},
        {"CapAmb", 0, offsetof(struct ng_proc_status, cap_amb)},
    };
    uint64_t x;

    if (strcmp(key, "Uid") == 0) {
        *seen |= F_UID;
        return parse_ids4(v, st->uid);
    }
    if (strcmp(key, "Gid") == 0) {
        *seen |= F_GID;
        return parse_ids4(v, st->gid);
    }
    if (strcmp(key, "Groups") == 0) {
        *seen |= F_GROUPS;
        return parse_groups(v, st);
    }
    for (size_t i = 0; i < NG_ARRAY_SIZE(caps); i++) {
        if (strcmp(key, caps[i].key) != 0)
            continue;
        while (*v == ' ' || *v == '\t')
            v++;
        if (parse_hex64(v, (uint64_t *)(void *)((char *)st + caps[i].off)) < 0)
            return -EINVAL;
        *seen |= caps[i].flag;
        return 0;
    }
    if (strcmp(key, "NoNewPrivs") == 0 || strcmp(key, "Seccomp") == 0) {
        while (*v == ' ' || *v == '\t')
            v++;
        if (ng_parse_u64(v, 0, 2, &x) < 0)
            return -EINVAL;
        if (key[0] == 'N')
            st->no_new_privs = (int)x;
        else
            st->seccomp = (int)x;
    }
    if (strcmp(key, "Seccomp_filters") == 0) {
        while (*v == ' ' || *v == '\t')
            v++;
        /* The kernel caps a chain at 32768 instructions, 1 or more each. */
        if (ng_parse_u64(v, 0, 32768, &x) < 0)
            return -EINVAL;
        st->seccomp_filters = (int)x;
    }
    return 0;
}

int ng_parse_status(const char *text, struct ng_proc_status *ret)
{
    struct ng_proc_status st;
    char line[4096];
    unsigned seen = 0;
    int too_long;

    memset(&st, 0, sizeof(st));
    st.no_new_privs = -1;
    st.seccomp = -1;
    st.seccomp_filters = -1;
    for (const char *p = text; (p = next_line(p, line, sizeof(line), &too_long));) {
        if (too_long)
            continue; /* only long fields we do not use (e.g. Cpus_allowed_list) */
        char *colon = strchr(line, ':');
        if (!colon)
            continue;
        *colon = '\0';
        int r = status_field(line, colon + 1, &st, &seen);
        if (r < 0)
            return r;
    }
    if ((seen & (F_UID | F_GID | F_GROUPS | F_INH | F_PRM | F_EFF | F_BND)) !=
        (F_UID | F_GID | F_GROUPS | F_INH | F_PRM | F_EFF | F_BND))
        return -EINVAL;
    *ret = st;
    return 0;
}

/* One pid-like number of a status field. */
static int parse_pid_value(char *v, int64_t *ret)
{
    uint64_t x;

    while (*v == ' ' || *v == '\t')
        v++;
    if (ng_parse_u64(v, 0, 1u << 22, &x) < 0)
        return -EINVAL;
    *ret = (int64_t)x;
    return 0;
}

/* NSpid or NStgid: one pid per pid namespace level, the reader's first. */
static int parse_nslist(char *v, int64_t out[NG_MAX_PIDNS_LEVELS], size_t *n)
{
    char *save = NULL;

    *n = 0;
    for (char *t = strtok_r(v, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
        uint64_t x;
        if (*n == NG_MAX_PIDNS_LEVELS || ng_parse_u64(t, 1, 1u << 22, &x) < 0)
            return -EINVAL;
        out[(*n)++] = (int64_t)x;
    }
    return 0;
}

int ng_parse_status_ids(const char *text, struct ng_proc_ids *ret)
{
    struct ng_proc_ids ids;
    char line[512];
    unsigned seen = 0;
    int too_long, r = 0;

    memset(&ids, 0, sizeof(ids));
    for (const char *p = text; r == 0 && (p = next_line(p, line, sizeof(line), &too_long));) {
        char *colon = too_long ? NULL : strchr(line, ':');
        if (!colon)
            continue;
        *colon = '\0';
        char *v = colon + 1;
        if (strcmp(line, "Tgid") == 0)
            r = parse_pid_value(v, &ids.tgid), seen |= 1;
        else if (strcmp(line, "PPid") == 0)
            r = parse_pid_value(v, &ids.ppid), seen |= 2;
        else if (strcmp(line, "Uid") == 0)
            r = parse_ids4(v, ids.uid), seen |= 4;
        else if (strcmp(line, "Gid") == 0)
            r = parse_ids4(v, ids.gid), seen |= 8;
        else if (strcmp(line, "NSpid") == 0)
            r = parse_nslist(v, ids.nspid, &ids.nnspid), seen |= 16;
        else if (strcmp(line, "NStgid") == 0)
            r = parse_nslist(v, ids.nstgid, &ids.nnstgid);
    }
    if (r < 0 || seen != 31 || ids.nnspid == 0)
        return -EINVAL;
    if (ids.nnstgid != ids.nnspid) { /* absent (before Linux 4.1) or odd: the thread's */
        memcpy(ids.nstgid, ids.nspid, sizeof(ids.nstgid));
        ids.nnstgid = ids.nnspid;
    }
    *ret = ids;
    return 0;
}

int ng_parse_stat_starttime(const char *text, uint64_t *ret)
{
    const char *p = strrchr(text, ')');
    char field[32];

    if (!p)
        return -EINVAL;
    p++;
    /* After ")" come fields 3.. ; start time is field 22. */
    for (int i = 3; i <= 22; i++) {
        size_t n = 0;
        while (*p == ' ')
            p++;
        while (p[n] && p[n] != ' ' && p[n] != '\n')
            n++;
        if (n == 0 || n >= sizeof(field))
            return -EINVAL;
        if (i == 22) {
            memcpy(field, p, n);
            field[n] = '\0';
            return ng_parse_u64(field, 0, UINT64_MAX, ret) < 0 ? -EINVAL : 0;
        }
        p += n;
    }
    return -EINVAL;
}

/* "N:CONTROLLERS:PATH" → pointer to PATH if CONTROLLERS equals want and N
 * matches the v2 rule (want == "" means the v2 line "0::"). */
static int cgroup_line_match(char *line, const char *want, char **path)
{
    char *c1 = strchr(line, ':');
    if (!c1)
        return 0;
    char *c2 = strchr(c1 + 1, ':');
    if (!c2)
        return 0;
    *c1 = '\0';
    *c2 = '\0';
    if (*want == '\0' && strcmp(line, "0") != 0)
        return 0;
    if (strcmp(c1 + 1, want) != 0)
        return 0;
    *path = c2 + 1;
    return **path == '/';
}

static int copy_out(const char *s, char *out, size_t size)
{
    size_t n = strlen(s);
    if (n >= size)
        return -ENAMETOOLONG;
    memcpy(out, s, n + 1);
    return 0;
}

int ng_parse_cgroup_v1_path(const char *text, const char *hier, char *out, size_t size)
{
    char line[4096 + 64];
    int too_long;

    for (const char *p = text; (p = next_line(p, line, sizeof(line), &too_long));) {
        char *path;
        if (too_long)
            return -ENAMETOOLONG;
        if (cgroup_line_match(line, hier, &path))
            return copy_out(path, out, size);
    }
    return -ENOENT;
}

int ng_parse_cgroup_path(const char *text, char *out, size_t size)
{
    int r = ng_parse_cgroup_v1_path(text, "", out, size);
    if (r != -ENOENT)
        return r;
    return ng_parse_cgroup_v1_path(text, "name=systemd", out, size);
}

/* A Kubernetes pod UID: 32 lowercase hex digits (static pods) or a UUID
 * 8-4-4-4-12, with sep ('-', or '_' in systemd unit names) between groups.
 * Copied out with '-'. */
static int pod_uid(const char *s, size_t n, char sep, char out[NG_POD_UID_LEN + 1])
{
    if (n == 32 && ng_is_lower_hex(s, 32)) {
        memcpy(out, s, 32);
        out[32] = '\0';
        return 1;
    }
    if (n != NG_POD_UID_LEN)
        return 0;
    for (size_t i = 0; i < n; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != sep : !ng_is_lower_hex(s + i, 1))
            return 0;
        out[i] = dash ? '-' : s[i];
    }
    out[n] = '\0';
    return 1;
}

/* The pod UID one component carries: "pod<UID>" (the kubelet's cgroupfs
 * driver) or "kubepods[-QOS]-pod<UID>.slice" (its systemd driver, '-' in
 * the UID written '_'). */
static int component_pod(const char *c, size_t n, char out[NG_POD_UID_LEN + 1])
{
    static const char *const prefixes[] = {"kubepods-pod", "kubepods-besteffort-pod",
                                           "kubepods-burstable-pod"};
    if (n > 3 && strncmp(c, "pod", 3) == 0)
        return pod_uid(c + 3, n - 3, '-', out);
    if (n < 6 || strncmp(c + n - 6, ".slice", 6) != 0)
        return 0;
    for (size_t i = 0; i < NG_ARRAY_SIZE(prefixes); i++) {
        size_t pl = strlen(prefixes[i]);
        if (n > pl + 6 && strncmp(c, prefixes[i], pl) == 0)
            return pod_uid(c + pl, n - pl - 6, '_', out);
    }
    return 0;
}

/* The next component of a '/'-separated path: *comp and *n name it, *cur
 * moves past it; 0 when there is none left. */
static int next_component(const char **cur, const char **comp, size_t *n)
{
    const char *p = *cur;
    size_t len = 0;

    while (*p == '/')
        p++;
    while (p[len] && p[len] != '/')
        len++;
    *comp = p;
    *n = len;
    *cur = p + len;
    return len > 0;
}

/* The 64-hex ID carried by one path component, if any (policy.md list). */
static int component_id(const char *c, size_t n, const char *parent, size_t pn, const char **id)
{
    static const struct {
        const char *prefix;
        const char *suffix;
    } forms[] = {
        {"docker-", ".scope"}, {"cri-containerd-", ".scope"}, {"crio-", ".scope"},
        {"crio-", ""},         {"libpod-", ".scope"},         {"libpod-", ""},
    };
    const size_t L = NG_CONTAINER_ID_LEN;

    for (size_t i = 0; i < NG_ARRAY_SIZE(forms); i++) {
        size_t pl = strlen(forms[i].prefix), sl = strlen(forms[i].suffix);
        if (n != pl + L + sl || strncmp(c, forms[i].prefix, pl) != 0 ||
            strncmp(c + pl + L, forms[i].suffix, sl) != 0 || !ng_is_lower_hex(c + pl, L))
            continue;
        *id = c + pl;
        return 1;
    }
    /* A component exactly ID right under a "docker" component, or under a
     * pod's own (Kubernetes with the cgroupfs driver: containerd, Docker). */
    char uid[NG_POD_UID_LEN + 1];
    if (n == L && ng_is_lower_hex(c, L) && parent &&
        ((pn == 6 && strncmp(parent, "docker", 6) == 0) ||
         (strncmp(parent, "pod", 3) == 0 && component_pod(parent, pn, uid)))) {
        *id = c;
        return 1;
    }
    /* systemd cgroup driver notation "SLICE:cri-containerd:ID". */
    static const char cri[] = ":cri-containerd:";
    size_t cl = sizeof(cri) - 1;
    if (n >= cl + L && strncmp(c + n - L - cl, cri, cl) == 0 && ng_is_lower_hex(c + n - L, L)) {
        *id = c + n - L;
        return 1;
    }
    return 0;
}

int ng_container_id_from_path(const char *path, char out[NG_CONTAINER_ID_LEN + 1], const char **why)
{
    const char *found = NULL;
    const char *parent = NULL;
    size_t pn = 0;

    if (why)
        *why = NULL;
    const char *p;
    size_t n;
    for (const char *cur = path; next_component(&cur, &p, &n);) {
        const char *id;
        if (component_id(p, n, parent, pn, &id)) {
            if (!found) {
                found = id;
            } else if (memcmp(found, id, NG_CONTAINER_ID_LEN) != 0) {
                /* A container may create cgroups beneath its own: an inner ID
                 * that differs means the path cannot be trusted to name one. */
                if (why)
                    *why = "a deeper cgroup component names a different container ID";
                return 0;
            }
        }
        parent = p;
        pn = n;
    }
    if (!found)
        return 0;
    memcpy(out, found, NG_CONTAINER_ID_LEN);
    out[NG_CONTAINER_ID_LEN] = '\0';
    return 1;
}

int ng_pod_uid_from_path(const char *path, char out[NG_POD_UID_LEN + 1], const char **why)
{
    char found[NG_POD_UID_LEN + 1] = "", uid[NG_POD_UID_LEN + 1];

    if (why)
        *why = NULL;
    const char *p;
    size_t n;
    for (const char *cur = path; next_component(&cur, &p, &n);) {
        if (component_pod(p, n, uid)) {
            if (!found[0]) {
                memcpy(found, uid, sizeof(uid));
            } else if (strcmp(found, uid) != 0) {
                /* As for container IDs: a pod cannot name another beneath it. */
                if (why)
                    *why = "a deeper cgroup component names a different pod UID";
                return 0;
            }
        }
    }
    if (!found[0])
        return 0;
    memcpy(out, found, sizeof(found));
    return 1;
}

/* Walk "inside outside count" lines; dir 0 maps outside->inside, 1 inside->outside. */
static int idmap_walk(const char *map, uint32_t id, int dir, uint32_t *ret)
{
    char line[256];
    int too_long;

    for (const char *p = map; (p = next_line(p, line, sizeof(line), &too_long));) {
        char *f[4];
        uint64_t in, out, cnt;
        if (too_long)
            return -EINVAL;
        size_t nf = split_ws(line, f, 3);
        if (nf == 0)
            continue;
        if (nf != 3 || ng_parse_u64(f[0], 0, UINT32_MAX, &in) < 0 ||
            ng_parse_u64(f[1], 0, UINT32_MAX, &out) < 0 ||
            ng_parse_u64(f[2], 1, (uint64_t)UINT32_MAX + 1, &cnt) < 0)
            return -EINVAL;
        uint64_t from = dir == 0 ? out : in, to = dir == 0 ? in : out;
        if (id >= from && (uint64_t)id - from < cnt) {
            uint64_t v = to + ((uint64_t)id - from);
            if (v >= UINT32_MAX)
                return -ENOENT;
            *ret = (uint32_t)v;
            return 0;
        }
    }
    return -ENOENT;
}

int ng_idmap_to_inside(const char *map, uint32_t host_id, uint32_t *ret)
{
    return idmap_walk(map, host_id, 0, ret);
}

int ng_idmap_to_outside(const char *map, uint32_t inside_id, uint32_t *ret)
{
    return idmap_walk(map, inside_id, 1, ret);
}

/* Decode mountinfo's octal escapes (\040 space, \011 tab, \012, \134) in place. */
static void unescape_octal(char *s)
{
    char *o = s;
    for (char *p = s; *p;) {
        if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' &&
            p[3] >= '0' && p[3] <= '7') {
            *o++ = (char)(((p[1] - '0') << 6) | ((p[2] - '0') << 3) | (p[3] - '0'));
            p += 4;
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
}

/* For each mountinfo line: mount point (field 5), fstype and super options
 * (after the " - " separator). Calls match(); copies the mount point out on
 * the first match. */
static int find_mount(const char *mountinfo, const char *fstype, const char *opt, char *out,
                      size_t size)
{
    char line[8192];
    int too_long;

    for (const char *p = mountinfo; (p = next_line(p, line, sizeof(line), &too_long));) {
        if (too_long)
            continue;
        char *sep = strstr(line, " - ");
        if (!sep)
            continue;
        *sep = '\0';
        char *f[12];
        size_t nf = split_ws(line, f, 11);
        char *g[4];
        size_t ng = split_ws(sep + 3, g, 3);
        if (nf < 5 || nf > 11 || ng != 3 || strcmp(g[0], fstype) != 0)
            continue;
        if (opt) {
            int hit = 0;
            char *save = NULL;
            for (char *t = strtok_r(g[2], ",", &save); t; t = strtok_r(NULL, ",", &save))
                hit |= strcmp(t, opt) == 0;
            if (!hit)
                continue;
        }
        unescape_octal(f[4]);
        return copy_out(f[4], out, size);
    }
    return -ENOENT;
}

int ng_parse_cgroup2_mount(const char *mountinfo, char *out, size_t size)
{
    return find_mount(mountinfo, "cgroup2", NULL, out, size);
}

int ng_parse_cgroup_v1_mount(const char *mountinfo, const char *opt, char *out, size_t size)
{
    return find_mount(mountinfo, "cgroup", opt, out, size);
}
