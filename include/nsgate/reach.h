/* Keeping the caller out of its own session (docs/security.md "The caller
 * cannot reach into the session"). No process the caller runs outside the
 * session may trace, read or write the memory of, take descriptors from, or
 * open /proc/PID/{root,cwd,fd,mem,environ} of a process of the session. The
 * kernel refuses all of these (ptrace_may_access) to a process whose uid
 * differs from the program's and that holds no CAP_SYS_PTRACE over the
 * program's user namespace. This module decides, purely, how a session gets
 * there; isolate.h does the I/O. */
#ifndef NSGATE_REACH_H
#define NSGATE_REACH_H

#include "nsgate/credplan.h"

#include <stddef.h>
#include <stdint.h>

enum ng_reach {
    NG_REACH_REFUSED = 0, /* only unprotected, and the rule does not accept that */
    NG_REACH_USERNS,      /* the wanted uid realised in nsgate's own user namespace */
    NG_REACH_OTHER_UID,   /* the program's host uid is not the caller's anyway */
    NG_REACH_ROOT,        /* the caller is root: nothing to keep it from */
    NG_REACH_ALLOWED,     /* unprotected, accepted by caller_reach = allow */
};

/* The isolation range: host uid NG_REACH_UID_BASE + the recorder's PID. PIDs
 * are below 2^22 (PID_MAX_LIMIT), so the range is [0x78000000, 0x78400000),
 * inside the 0x70000000..0x7ffdffff block that systemd's UID ranges leave
 * unused, above the default /etc/subuid allocations and below 2^31. */
#define NG_REACH_UID_BASE UINT32_C(0x78000000)
#define NG_REACH_UID_SPAN UINT32_C(0x400000)

struct ng_reach_in {
    uint32_t caller_uid;       /* the caller's real uid */
    int in_entered_userns;     /* the program ends in the target's user namespace (-U) */
    int caller_owns_userns;    /* that namespace or an ancestor is owned by the caller */
    int userns_available;      /* nsgate can create a user namespace on this kernel */
    const struct ng_creds *cr; /* the planned credentials */
    int allow;                 /* the rule says caller_reach = allow */
};

/* 0 with *ret set (never NG_REACH_REFUSED), or -EPERM with *ret =
 * NG_REACH_REFUSED when the session could only run unprotected and the rule
 * does not allow it; -EINVAL on bad input. why (may be NULL) explains the
 * outcome in words, in every case. */
int ng_reach_decide(const struct ng_reach_in *in, enum ng_reach *ret, char *why, size_t sz);

/* The header value: "userns", "other-uid", "root", "allowed"; NULL for
 * NG_REACH_REFUSED. */
const char *ng_reach_name(enum ng_reach r);

/* The maps of nsgate's user namespace, as written to /proc/PID/{uid,gid}_map:
 * the program's uid to host_uid; its gid and groups to themselves (group
 * access stays the caller's; the uid alone keeps the caller out). At most
 * one line per id, merged into ranges. -ENOSPC when the text would not fit
 * (the kernel takes less than a page). */
int ng_reach_uid_map(const struct ng_creds *cr, uint32_t host_uid, char *buf, size_t sz);
int ng_reach_gid_map(const struct ng_creds *cr, char *buf, size_t sz);

/* Does one "name:start:count" line of /etc/subuid (without its newline)
 * cover id? Blank and '#' lines cover nothing; a line that cannot be parsed
 * counts as covering it (fail closed). */
int ng_reach_subid_line_covers(const char *line, uint32_t id);

#endif
