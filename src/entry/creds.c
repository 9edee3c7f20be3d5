/* Credential changes in the entering child. Order (security.md):
 * setgroups(0) on the host; setns; KEEPCAPS 1; bounding set; setgroups;
 * setresgid; setresuid; securebits; capset; ambient; KEEPCAPS 0; no_new_privs.
 * Securebits are set just before capset because PR_SET_SECUREBITS needs
 * CAP_SETPCAP, which capset may drop. Every credential change resets
 * dumpability (commit_creds), so PR_SET_DUMPABLE 0 follows each. */
#include "nsgate/creds.h"
#include "nsgate/util.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define FAIL(msg) (*why = (msg), -errno ? -errno : -EPERM)

int ng_caps_last_cap(int *ret)
{
    char buf[32];
    uint64_t v;
    ssize_t n = ng_read_file_at(AT_FDCWD, "/proc/sys/kernel/cap_last_cap", buf, sizeof(buf));
    if (n <= 0)
        return n < 0 ? (int)n : -EIO;
    if (buf[n - 1] == '\n')
        buf[n - 1] = '\0';
    if (ng_parse_u64(buf, 0, 63, &v) < 0)
        return -EIO;
    *ret = (int)v;
    return 0;
}

uint64_t ng_caps_mask(int last_cap)
{
    return last_cap >= 63 ? UINT64_MAX : (UINT64_C(1) << (last_cap + 1)) - 1;
}

static int undumpable(void)
{
    return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 ? -errno : 0;
}

int ng_creds_pre_setns(void)
{
    if (setgroups(0, NULL) < 0)
        return -errno;
    return undumpable();
}

int ng_caps_get(uint64_t *inh, uint64_t *prm, uint64_t *eff)
{
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    memset(d, 0, sizeof(d));
    if (syscall(SYS_capget, &h, d) < 0)
        return -errno;
    *inh = d[0].inheritable | (uint64_t)d[1].inheritable << 32;
    *prm = d[0].permitted | (uint64_t)d[1].permitted << 32;
    *eff = d[0].effective | (uint64_t)d[1].effective << 32;
    return 0;
}

static int cap_set(uint64_t inh, uint64_t prm, uint64_t eff)
{
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2] = {
        {(uint32_t)eff, (uint32_t)prm, (uint32_t)inh},
        {(uint32_t)(eff >> 32), (uint32_t)(prm >> 32), (uint32_t)(inh >> 32)},
    };
    return syscall(SYS_capset, &h, d) < 0 ? -errno : 0;
}

static int setgroups_denied(int host_proc_fd)
{
    char buf[16];
    if (ng_read_file_at(host_proc_fd, "thread-self/setgroups", buf, sizeof(buf)) < 0)
        return 0;
    return strncmp(buf, "deny", 4) == 0;
}

static int apply_ids(const struct ng_creds *cr, int host_proc_fd, const char **why)
{
    const struct ng_idset *id = &cr->ids;

    if (setgroups_denied(host_proc_fd)) {
        /* Emptied before the first setns; cannot be set here. */
        if (id->ngroups != 0) {
            *why = "supplementary groups wanted, but setgroups is denied in this user namespace";
            return -EPERM;
        }
    } else if (setgroups(id->ngroups, id->groups) < 0) {
        return FAIL("setgroups");
    }
    if (undumpable() < 0)
        return FAIL("PR_SET_DUMPABLE");
    if (setresgid(id->gid, id->gid, id->gid) < 0)
        return FAIL("setresgid");
    if (undumpable() < 0)
        return FAIL("PR_SET_DUMPABLE");
    if (setresuid(id->uid, id->uid, id->uid) < 0)
        return FAIL("setresuid");
    if (undumpable() < 0)
        return FAIL("PR_SET_DUMPABLE");
    return 0;
}

static int apply_caps(const struct ng_creds *cr, int last_cap, const char **why)
{
    if (cr->noroot && prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED, 0, 0, 0) < 0)
        return FAIL("PR_SET_SECUREBITS");
    if (cap_set(cr->inh, cr->prm, cr->eff) < 0)
        return FAIL("capset");
    if (undumpable() < 0)
        return FAIL("PR_SET_DUMPABLE");
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
        return FAIL("PR_CAP_AMBIENT_CLEAR_ALL");
    for (int c = 0; c <= last_cap; c++) {
        if ((cr->amb >> c) & 1) {
            if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
                return FAIL("PR_CAP_AMBIENT_RAISE");
        }
    }
    return 0;
}

int ng_creds_apply(const struct ng_creds *cr, int last_cap, int host_proc_fd, const char **why)
{
    int r;

    errno = 0;
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
        return FAIL("PR_SET_KEEPCAPS");
    for (int c = 0; c <= last_cap; c++) {
        if (!((cr->bnd >> c) & 1) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
            return FAIL("PR_CAPBSET_DROP");
    }
    r = apply_ids(cr, host_proc_fd, why);
    if (r < 0)
        return r;
    r = apply_caps(cr, last_cap, why);
    if (r < 0)
        return r;
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
        return FAIL("PR_SET_KEEPCAPS 0");
    if (cr->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return FAIL("PR_SET_NO_NEW_PRIVS");
    if (undumpable() < 0)
        return FAIL("PR_SET_DUMPABLE");
    return ng_creds_verify(cr, last_cap, why);
}

static int same_groups(const struct ng_idset *want, const gid_t *have, size_t n)
{
    if (n != want->ngroups)
        return 0;
    for (size_t i = 0; i < n; i++) {
        size_t j;
        for (j = 0; j < n && want->groups[j] != have[i]; j++)
            ;
        if (j == n)
            return 0;
    }
    return 1;
}

static int verify_ids(const struct ng_creds *cr, const char **why)
{
    uid_t r, e, s;
    gid_t rg, eg, sg;
    gid_t groups[NG_MAX_GROUPS];

    if (getresuid(&r, &e, &s) < 0 || getresgid(&rg, &eg, &sg) < 0)
        return FAIL("getresuid");
    if (r != cr->ids.uid || e != r || s != r || rg != cr->ids.gid || eg != rg || sg != rg) {
        *why = "user or group ids differ from the policy's";
        return -EPERM;
    }
    int n = getgroups(NG_MAX_GROUPS, groups);
    if (n < 0 || !same_groups(&cr->ids, groups, (size_t)n)) {
        *why = "supplementary groups differ from the policy's";
        return -EPERM;
    }
    return 0;
}

int ng_creds_verify(const struct ng_creds *cr, int last_cap, const char **why)
{
    uint64_t inh = 0, prm = 0, eff = 0, bnd = 0, amb = 0;
    int r = verify_ids(cr, why);

    if (r < 0)
        return r;
    if (ng_caps_get(&inh, &prm, &eff) < 0)
        return FAIL("capget");
    for (int c = 0; c <= last_cap; c++) {
        int b = prctl(PR_CAPBSET_READ, c, 0, 0, 0);
        int a = prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, c, 0, 0);
        if (b < 0 || a < 0)
            return FAIL("PR_CAPBSET_READ");
        bnd |= (uint64_t)(b == 1) << c;
        amb |= (uint64_t)(a == 1) << c;
    }
    if (inh != cr->inh || prm != cr->prm || eff != cr->eff || bnd != cr->bnd || amb != cr->amb) {
        *why = "capability sets differ from the policy's";
        return -EPERM;
    }
    int sb = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
    if (cr->noroot && (sb < 0 || !(sb & SECBIT_NOROOT) || !(sb & SECBIT_NOROOT_LOCKED))) {
        *why = "securebits were not set";
        return -EPERM;
    }
    if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != (cr->no_new_privs ? 1 : 0)) {
        *why = "no_new_privs differs from the policy's";
        return -EPERM;
    }
    return 0;
}
