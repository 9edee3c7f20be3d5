/* How a session is kept out of its caller's reach (reach.h). Pure. */
#include "nsgate/reach.h"
#include "nsgate/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *ng_reach_name(enum ng_reach r)
{
    switch (r) {
    case NG_REACH_USERNS:
        return "userns";
    case NG_REACH_OTHER_UID:
        return "other-uid";
    case NG_REACH_ROOT:
        return "root";
    case NG_REACH_ALLOWED:
        return "allowed";
    default:
        return NULL;
    }
}

/* Why the session could only run within the caller's reach; NULL when it
 * can be kept out (*how says how). */
static const char *unprotected_why(const struct ng_reach_in *in, enum ng_reach *how, char *buf,
                                   size_t sz)
{
    const struct ng_creds *cr = in->cr;
    unsigned u = (unsigned)in->caller_uid;

    if (in->in_entered_userns) {
        /* Owning a user namespace gives every capability in it, whatever
         * uid the program has there. */
        if (in->caller_owns_userns)
            return snprintf(buf, sz,
                            "the target's user namespace is owned by the caller (uid %u), "
                            "who holds every capability in it",
                            u),
                   buf;
        if (cr->host.uid == in->caller_uid)
            return snprintf(buf, sz,
                            "the program's uid in the target's user namespace is the caller's "
                            "host uid %u, and no unused host uid is mapped there",
                            u),
                   buf;
        snprintf(buf, sz,
                 "the program runs as host uid %u in the target's user namespace, "
                 "not the caller's (%u)",
                 (unsigned)cr->host.uid, u);
        *how = NG_REACH_OTHER_UID;
        return NULL;
    }
    if (cr->host.uid != in->caller_uid) {
        snprintf(buf, sz, "the program runs as host uid %u, not the caller's (%u)",
                 (unsigned)cr->host.uid, u);
        *how = NG_REACH_OTHER_UID;
        return NULL;
    }
    if ((cr->prm | cr->eff | cr->amb) != 0)
        return snprintf(buf, sz,
                        "the program would hold capabilities (permitted %#llx) as the caller's "
                        "uid %u; in nsgate's own user namespace they would act on nothing of "
                        "the target",
                        (unsigned long long)cr->prm, u),
               buf;
    if (!in->userns_available)
        return snprintf(buf, sz,
                        "the program would run as the caller's uid %u and this kernel cannot "
                        "create a user namespace to keep the caller out",
                        u),
               buf;
    snprintf(buf, sz,
             "the program's uid %u is the caller's: it runs as %u inside a user namespace of "
             "nsgate's, as an unused host uid",
             u, u);
    *how = NG_REACH_USERNS;
    return NULL;
}

int ng_reach_decide(const struct ng_reach_in *in, enum ng_reach *ret, char *why, size_t sz)
{
    char tmp[320];
    const char *bad;
    enum ng_reach how = NG_REACH_REFUSED;

    *ret = NG_REACH_REFUSED;
    if (!in || !in->cr)
        return -EINVAL;
    if (!why || sz == 0) {
        why = tmp;
        sz = sizeof(tmp);
    }
    if (in->caller_uid == 0) {
        snprintf(why, sz, "the caller is root");
        *ret = NG_REACH_ROOT;
        return 0;
    }
    bad = unprotected_why(in, &how, why, sz);
    if (!bad) {
        *ret = how;
        return 0;
    }
    if (!in->allow)
        return -EPERM;
    size_t n = strlen(why);
    snprintf(why + n, sz - n, "; accepted unprotected by caller_reach = allow");
    *ret = NG_REACH_ALLOWED;
    return 0;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int append(char *buf, size_t sz, size_t *off, uint32_t in, uint32_t out, uint32_t n)
{
    int k = snprintf(buf + *off, sz - *off, "%u %u %u\n", (unsigned)in, (unsigned)out, (unsigned)n);
    if (k < 0 || (size_t)k >= sz - *off)
        return -ENOSPC;
    *off += (size_t)k;
    return 0;
}

int ng_reach_uid_map(const struct ng_creds *cr, uint32_t host_uid, char *buf, size_t sz)
{
    size_t off = 0;
    if (sz == 0)
        return -ENOSPC;
    return append(buf, sz, &off, cr->ids.uid, host_uid, 1);
}

int ng_reach_gid_map(const struct ng_creds *cr, char *buf, size_t sz)
{
    uint32_t g[NG_MAX_GROUPS + 1];
    size_t n = 0, off = 0;

    if (sz == 0)
        return -ENOSPC;
    buf[0] = '\0';
    g[n++] = cr->ids.gid;
    for (size_t i = 0; i < cr->ids.ngroups && i < NG_MAX_GROUPS; i++)
        g[n++] = cr->ids.groups[i];
    qsort(g, n, sizeof(g[0]), cmp_u32);
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        /* consecutive ids (duplicates skipped) become one range */
        while (j < n && (g[j] == g[j - 1] || g[j] == g[j - 1] + 1))
            j++;
        int r = append(buf, sz, &off, g[i], g[i], g[j - 1] - g[i] + 1);
        if (r < 0)
            return r;
        i = j;
    }
    return 0;
}

int ng_reach_subid_line_covers(const char *line, uint32_t id)
{
    char tmp[256];
    uint64_t start, count;
    size_t len = strlen(line);

    if (len == 0 || line[0] == '#')
        return 0;
    if (len >= sizeof(tmp))
        return 1;
    memcpy(tmp, line, len + 1);
    char *a = strchr(tmp, ':');
    char *b = a ? strchr(a + 1, ':') : NULL;
    if (!b)
        return 1;
    *b = '\0';
    if (ng_parse_u64(a + 1, 0, UINT32_MAX, &start) < 0 ||
        ng_parse_u64(b + 1, 0, UINT32_MAX, &count) < 0)
        return 1;
    return id >= start && id - start < count;
}
