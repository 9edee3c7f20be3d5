/* Who ran nsgate: saved at start-up (harden.c) before the ids become 0,
 * handed to the subcommand, the policy request and the session header. */
#ifndef NSGATE_CALLER_H
#define NSGATE_CALLER_H

#include <stddef.h>
#include <sys/types.h>

/* What main learned at start-up and hands to the subcommand. */
struct ng_caller {
    uid_t uid; /* real ids of the human who ran nsgate */
    gid_t gid;
    size_t ngroups;
    gid_t groups[256];
    int setuid_start; /* started setuid-root by a non-root caller */
};

#endif
