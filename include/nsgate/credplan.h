/* The credentials a session's program will get: a pure function of the
 * allowed rule's constraints, the target's and the caller's ids, and where
 * the program ends up. Used by the policy decision (host access) and by the
 * entry child (what to set, what to verify). */
#ifndef NSGATE_CREDPLAN_H
#define NSGATE_CREDPLAN_H

#include "nsgate/constraints.h"
#include "nsgate/procfs.h"

#include <stddef.h>
#include <stdint.h>

struct ng_idset {
    uint32_t uid, gid;
    size_t ngroups;
    uint32_t groups[NG_MAX_GROUPS];
};

struct ng_creds {
    struct ng_idset ids;  /* as seen from the program's final user namespace */
    struct ng_idset host; /* the same, as seen from the initial user namespace */
    uint64_t inh, prm, eff, bnd, amb;
    int noroot; /* set SECBIT_NOROOT|SECBIT_NOROOT_LOCKED (uid 0, no capabilities) */
    int no_new_privs;
};

struct ng_credplan_in {
    const struct ng_constraints *c;
    const struct ng_proc_status *target; /* host view of the target */
    const struct ng_idset *caller;       /* host view of the caller (real ids) */
    /* The program ends in the target's user namespace, entered with -U: ids
     * are translated through these maps (text of /proc/PID/{uid,gid}_map). */
    int enter_userns;
    const char *uid_map, *gid_map;
    /* The program ends in the target's own user namespace (entered, or
     * shared with nsgate): only then does capabilities = target apply. */
    int in_target_userns;
    uint64_t all_caps; /* mask of every capability the kernel knows */
};

/* -ERANGE: an id is not mapped in the target's user namespace;
 * -EINVAL: inconsistent input. */
int ng_credplan_compute(const struct ng_credplan_in *in, struct ng_creds *ret);

/* policy.md "Host access", the "with what" half: more than the caller has
 * (another uid or gid, a group the caller lacks, any permitted, effective or
 * ambient capability). */
int ng_creds_exceed_caller(const struct ng_creds *cr, const struct ng_idset *caller);

#endif
