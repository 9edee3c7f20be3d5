/* The I/O of keeping the caller out of its session (reach.h decides):
 * who owns the target's user namespaces, whether nsgate can create one, an
 * unused host uid for the session, and the maps of nsgate's user namespace.
 * Functions return 0 or a negative errno and never print. */
#ifndef NSGATE_ISOLATE_H
#define NSGATE_ISOLATE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define NG_ISOLATE_MAX_OWNERS 33 /* user namespaces nest 32 deep */

/* The owners (host uids) of the user namespace of /proc/PID (proc_fd) and
 * of each of its ancestors below nsgate's own; *n is 0 when the process
 * shares nsgate's user namespace. */
int ng_isolate_userns_owners(int proc_fd, uint32_t owners[NG_ISOLATE_MAX_OWNERS], size_t *n);

/* Can nsgate create a user namespace here (user.max_user_namespaces > 0)? */
int ng_isolate_userns_available(void);

/* The session's host uid: NG_REACH_UID_BASE + the recorder's PID, after
 * checking that no /etc/subuid range covers it (an ordinary user could map
 * it with newuidmap), that no account has it, and that no process runs as
 * it (one left over from an earlier session whose recorder had this PID).
 * -EBUSY, -EEXIST or -ERANGE with *why set. */
int ng_isolate_pick_uid(pid_t recorder, uint32_t *ret, const char **why);

/* Write the uid_map, then the gid_map, of process pid (a child that has just
 * created its user namespace) through the host's /proc. */
int ng_isolate_write_maps(int host_proc_fd, pid_t pid, const char *uid_map, const char *gid_map);

/* In the child, after the maps were written: does its own uid map send
 * inside to host? -EPERM when not. */
int ng_isolate_check_map(int host_proc_fd, uint32_t inside, uint32_t host);

#endif
