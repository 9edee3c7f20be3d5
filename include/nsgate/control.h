/* Two-person control of a live session (docs/security.md "Two-person
 * control"). The recorder listens on a socket beside its lock file,
 * "<db>-live/UUID.sock": created under umask 077 in the root-owned lock
 * directory, so only root can connect. The privileged nsgate of an
 * approver, a watcher or root connects, says who its caller is (the ids it
 * saved at its setuid start) and asks once: approve, reject, terminate,
 * watch or moderate. The recorder accepts only peers whose SO_PEERCRED uid
 * is 0 (nsgate itself, or root), one request per connection (a watcher's
 * connection then only says, by closing, that it left; anything more it
 * sends ends it), and decides by the session's rule: approve, reject and
 * moderate only by an approver that is not the requester (by uid),
 * terminate by root or such an approver, watch by those or a reader of the
 * store. Every accepted approval, rejection, termination and moderator is
 * an 'm' event of the session (covered by its chain and seals) and a
 * USER_ACCT record. The live note (store.h) says the state and who
 * watches, for sessions --live. */
#ifndef NSGATE_CONTROL_H
#define NSGATE_CONTROL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "nsgate/relay.h"
#include "nsgate/util.h"

struct ng_session;
struct ng_audit;

#define NG_CONTROL_PEERS    16 /* watchers at once */
#define NG_CONTROL_MSG_MAX  2048
#define NG_CONTROL_TEXT_MAX 512
#define NG_CONTROL_NAME_MAX 64
#define NG_CONTROL_GROUPS   64

/* One request, as the client's nsgate sends it (ng_control_request_*). */
struct ng_control_request {
    char verb[16]; /* approve reject terminate watch moderate */
    uint32_t uid, gid;
    uint32_t groups[NG_CONTROL_GROUPS];
    size_t ngroups;
    int reader; /* the caller may read the store (checked by the client) */
    char user[NG_CONTROL_NAME_MAX];
    char text[NG_CONTROL_TEXT_MAX + 1];
};

/* The wire form: "nsgate-control-1\nVERB\nUID\nGID\nG1,G2\nREADER\nUSER\nTEXT".
 * 0 or -EINVAL (a field too long or holding a newline, text not printable). */
int ng_control_request_format(const struct ng_control_request *q, char *buf, size_t size,
                              size_t *len) NG_MUST_CHECK;
int ng_control_request_parse(const char *buf, size_t len,
                             struct ng_control_request *q) NG_MUST_CHECK;

struct ng_control_cfg {
    const char *db_path;
    const uint8_t *id;
    const char *id_text;
    uint32_t requester_uid;
    const uint32_t *ap_uids, *ap_gids; /* the rule's approvers, resolved */
    size_t n_ap_uids, n_ap_gids;
    int moderation; /* input only while a moderator watches */
    struct ng_session *sess;
    struct ng_audit *audit; /* NULL: not audited */
};

enum ng_control_state { NG_CONTROL_WAITING = 0, NG_CONTROL_RUNNING };
enum ng_control_verdict {
    NG_CONTROL_APPROVED = 0,
    NG_CONTROL_REJECTED,
    NG_CONTROL_TIMEOUT,
    NG_CONTROL_CANCELLED, /* the requester's nsgate was told to stop */
    NG_CONTROL_TERMINATED,
};

struct ng_control_peer {
    int fd;
    uint32_t uid;
    int moderator;
    int64_t since_ns; /* CLOCK_REALTIME */
    char user[NG_CONTROL_NAME_MAX];
};

struct ng_control {
    struct ng_control_cfg cfg;
    int listen_fd, epfd;
    char path[4200];
    enum ng_control_state state;
    int64_t state_since_ns;
    struct ng_control_peer peers[NG_CONTROL_PEERS];
    int input_gate;  /* 1 unless moderated without a moderator watching */
    int terminate;   /* asked for */
    int verdict_set; /* approve or reject came */
    int approved;
    char by[NG_CONTROL_NAME_MAX]; /* who approved, rejected or terminated */
    uint32_t by_uid;
    int record_err; /* a control event that could not be recorded */
    int note_err, audit_err;
};

/* Listen (before the recorder drops its privileges). 0 or a negative errno. */
int ng_control_open(struct ng_control *c, const struct ng_control_cfg *cfg) NG_MUST_CHECK;
/* The descriptor to poll (an epoll set of the socket and its peers). */
int ng_control_fd(const struct ng_control *c);
/* Serve what is readable. 0, or a negative errno when a control event
 * could not be recorded (the session ends: record-failure). */
int ng_control_serve(struct ng_control *c) NG_MUST_CHECK;
/* Wait for approve or reject, at most timeout_ms, polling sigfd too (INT,
 * TERM, HUP: cancelled). The decision is recorded and audited (a timeout
 * too). The verdict, or a negative errno. */
int ng_control_await(struct ng_control *c, int64_t timeout_ms, int sigfd) NG_MUST_CHECK;
/* Approved (or none needed): the session runs; the note says so. */
void ng_control_running(struct ng_control *c);
/* relay ops.ctl: serve; a termination ends the session (NG_END_TERMINATED). */
int ng_control_relay(void *ctx, enum ng_end_reason *reason);
/* The socket removed, every peer let go. */
void ng_control_close(struct ng_control *c);

/* ops.flush for the relay: ng_store_flush of the session (struct ng_session). */
int ng_control_flush(void *sess);

#endif
