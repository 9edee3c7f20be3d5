/* Two-person control of a live session (docs/security.md "Two-person
 * control"): its recorder listens on a socket beside its lock file,
 * "<db>-live/UUID.sock", root's alone (0600 in a root directory); the
 * privileged nsgate of an approver, a watcher or root connects, says who
 * its caller is, and asks once: approve, reject, terminate, watch or
 * moderate. The recorder checks the peer is root (SO_PEERCRED) and decides
 * by the session's rule (approvers, never the requester). */
#ifndef NSGATE_CONTROL_H
#define NSGATE_CONTROL_H

/* ops.flush for the relay: ng_store_flush of the session (struct ng_session). */
int ng_control_flush(void *sess);

#endif
