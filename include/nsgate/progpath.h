/* A bare PROGRAM ("ip") resolved as a shell would, against NG_PROGRAM_PATH,
 * in the filesystem the program will run in (the target's root when mnt is
 * entered), before the policy decides: the policy matches the absolute path
 * found (policy.md "The request"). */
#ifndef NSGATE_PROGPATH_H
#define NSGATE_PROGPATH_H

#include <stddef.h>

/* Look name up in each directory of NG_PROGRAM_PATH under root_fd, with
 * openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS): a symbolic link, absolute
 * or full of "..", never leads out of that root. The first regular file with
 * an execute bit wins; out gets "DIR/name". 0; -EINVAL for a name that is not
 * bare; -ENOENT when no directory has it; -ENAMETOOLONG. */
int ng_progpath_resolve(int root_fd, const char *name, char *out, size_t outsz);

#endif
