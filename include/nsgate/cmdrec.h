/* The command recorder (docs/security.md "Command recording"): in the
 * recorder process (P0), it takes every execve/execveat notification of the
 * command filter (cmdfilter.h), records a 'c' event (cmdline.h) and lets
 * the exec go on; no exec is let through unrecorded: if the event cannot be
 * recorded, the exec is refused (or the new program killed before its first
 * instruction) and the session ends as a recording failure (74).
 *
 * Per notification: the caller's ids, cwd, path and argv are read from
 * /proc/PID (status, cwd, mem), the notification is checked to be still
 * valid, then
 *  - exact path: when the waits are killable, the recorder attaches with
 *    PTRACE_SEIZE (PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL) and
 *    PTRACE_INTERRUPT, and lets the exec continue. A successful exec stops
 *    at PTRACE_EVENT_EXEC before the new program runs (a thread that is not
 *    its group's leader stops under the leader's pid, which it takes): argv
 *    is read from the new image (/proc/PID/cmdline, what the kernel copied)
 *    and exe from /proc/PID/exe, the event recorded ("verified": true,
 *    "result": 0), then the recorder detaches. A failed exec stops when the
 *    call returns: its errno is the result, argv the one read before.
 *  - otherwise (the caller is traced by someone else, too many execs in
 *    flight, older kernel): the event is recorded from what was read before
 *    the exec ("verified": false, "result" and "exe" null), then the exec
 *    continues.
 * No function prints or exits; the relay ends the session on an error. */
#ifndef NSGATE_CMDREC_H
#define NSGATE_CMDREC_H

#include "nsgate/store.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define NG_CMDREC_MAP_MAX 4096
/* Execs waiting for their outcome at once; beyond, the fallback path. */
#define NG_CMDREC_IN_FLIGHT_MAX 32

struct ng_cmdrec_flight;

struct ng_cmdrec {
    struct ng_session *sess;
    pid_t child;     /* the relay's child: its exit is the relay's to reap */
    int proc_fd;     /* the host's /proc (not owned) */
    int listener;    /* the filter's listener (owned), -1 until received */
    int killable;    /* its waits are killable: the exact path may be used */
    int pidns_level; /* NSpid index of the target's pid namespace; -1: not entered */
    /* The ids of a process are recorded as its own user namespace sees
     * them (with the host's beside them when that is not the host's): the
     * maps of the last such namespace seen, by its readlink name */
    char host_userns[64], userns[64];
    char *uid_map, *gid_map; /* NG_CMDREC_MAP_MAX bytes each */
    /* the last parent seen, its pid in the target's pid namespace, and its
     * /proc directory, which answers only while that process lives */
    pid_t parent;
    int64_t parent_ns;
    int parent_dir;
    struct ng_cmdrec_flight *flight; /* NG_CMDREC_IN_FLIGHT_MAX slots */
    size_t nflight;
    uint64_t recorded, unverified;
};

/* pidns_level as described above. */
int ng_cmdrec_init(struct ng_cmdrec *c, struct ng_session *sess, pid_t child, int proc_fd,
                   int pidns_level) NG_MUST_CHECK;
/* Take the listener (cmdfilter.h ng_cmdfilter_receive). */
void ng_cmdrec_set_listener(struct ng_cmdrec *c, int fd, int killable);

/* The listener is readable (call it only then: the first notification is
 * taken without looking, and taking one waits for one): handle every queued
 * notification. ctx is the ng_cmdrec. 0, or a negative errno when an event
 * could not be recorded (the exec in question was refused). */
int ng_cmdrec_notify(void *ctx);
/* SIGCHLD: collect the stops of the execs in flight (never blocks). */
int ng_cmdrec_reap(void *ctx);
/* A wait status someone else's waitpid got for pid (the relay's reap of its
 * own child, which may be in flight): 1 when it was an exec in flight's
 * (handled), 0 when not. */
int ng_cmdrec_stopped(void *ctx, pid_t pid, int status);
/* Execs waiting for their outcome. */
size_t ng_cmdrec_in_flight(const struct ng_cmdrec *c);
/* Session end: wait up to wait_ms for the outcome of the execs in flight,
 * record every one (those not seen end as "result": null), detach. */
int ng_cmdrec_finish(struct ng_cmdrec *c, int wait_ms);
/* Close the listener (the session's remaining processes then fail every
 * exec with ENOSYS) and free everything. */
void ng_cmdrec_free(struct ng_cmdrec *c);

/* Pure, for tests: is (audit arch, nr) execve (0) or execveat (1)?
 * *ret_ptr is the size of a pointer in that ABI. -ENOSYS otherwise. */
int ng_cmdrec_decode(uint32_t arch, int nr, int *ret_ptr);

#endif
