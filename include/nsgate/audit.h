/* Kernel audit events (spec/audit.md): the trail that anchors the session
 * store outside the host (integrity.md, property 5).
 *
 * MUST (kept by src/audit.c):
 * - every free-text value (acct, cmd, container, reason, what) is written
 *   with audit_encode_nv_string, and as hex whenever it holds a space, a
 *   quote (" or '), '=', a backslash, a control byte or a byte >= 0x7F, on
 *   every platform: a hostile value can never forge a field;
 * - values nsgate makes (uuid, hdr, head, seqno, epoch, exit, opid, fp,
 *   rule, nsgate_ns) are bare tokens, checked to be token-safe: a builder
 *   refuses (-EINVAL) rather than write an unsafe one;
 * - hostname and addr are always passed to libaudit, so it never resolves a
 *   name from the privileged process;
 * - any libaudit return <= 0 is a failure (negative errno to the caller).
 *
 * Builders (ng_audit_fmt_*) are pure: they write the message text that
 * precedes what libaudit appends (exe= hostname= addr= terminal= res=).
 * Senders (ng_audit_log_*) build, then send one record. Nothing here prints
 * or exits. */
#ifndef NSGATE_AUDIT_H
#define NSGATE_AUDIT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "nsgate/util.h"

/* Largest message a builder writes (libaudit's own buffer is 8970 bytes and
 * it appends exe=, hostname=, addr=, terminal= and res=). */
#define NG_AUDIT_MSG_MAX 4096
/* Free-text values are cut to these many bytes before encoding (hex doubles
 * them); a cut value ends in "..." (the store keeps the whole value). */
#define NG_AUDIT_ACCT_MAX      64
#define NG_AUDIT_CONTAINER_MAX 128
#define NG_AUDIT_CMD_MAX       1024
#define NG_AUDIT_REASON_MAX    512
#define NG_AUDIT_WHAT_MAX      512

/* An open audit connection and the values libaudit appends to each record. */
struct ng_audit {
    int fd;            /* netlink audit socket, -1 when closed */
    int open_errno;    /* errno of a failed audit_open, else 0 */
    char hostname[65]; /* uname nodename when token-safe, else "?" */
    char tty[32];      /* "pts/3" when fd 0, 1 or 2 is a /dev tty, else "?" */
};

/* Open the audit socket and fill hostname and tty. Returns 0 or a negative
 * errno; -EPROTONOSUPPORT when the kernel has no audit support. On failure
 * a->fd is -1 and ng_audit_check() reports why. */
int ng_audit_open(struct ng_audit *a) NG_MUST_CHECK;
void ng_audit_close(struct ng_audit *a);

/* The conditions of audit.md "Failure": the socket opened, nsgate in the
 * initial user namespace with CAP_AUDIT_WRITE, audit enabled (>= 1), an
 * audit daemon registered. Call it before the decision, before any setns.
 * required != 0 (audit = required): 0 when all hold, else a negative errno
 * and *why. required == 0 (best-effort): always 0; *why is NULL when all
 * hold, else the message to warn with. *why is a static string. */
int ng_audit_check(const struct ng_audit *a, int required, const char **why) NG_MUST_CHECK;

/* The recorder's re-check at every seal: audit still enabled and a daemon
 * still registered. 0, or -ENOLINK (trail lost: end the session with reason
 * "audit-lost", exit 75) or another negative errno; *why as above. */
int ng_audit_still_available(const struct ng_audit *a, const char **why) NG_MUST_CHECK;

/* The status the kernel reports: enabled (0, 1, 2 = locked) and the pid of
 * the registered daemon (0 when none). */
int ng_audit_status(int fd, int *enabled, uint32_t *daemon_pid) NG_MUST_CHECK;

/* Does this value need hex encoding? libaudit's test, extended to bytes
 * >= 0x7F on every platform, and to ' = and backslash. */
int ng_audit_needs_encoding(const char *s, size_t len);

/* ---- Events (the table of audit.md) ---- */

/* USER_ACCT, every policy decision: res success = allowed. */
struct ng_audit_authz {
    const char *acct; /* caller's user name */
    const char *rule; /* matching rule name; NULL -> "-" */
    pid_t opid;       /* target PID */
    const char *ns;   /* namespace list, "net,pid" (ng_nsset_format) */
    const char *uuid; /* session ID; written only when allowed */
    int allowed;
};

/* USER_START, session started (namespaces entered, recording live). */
struct ng_audit_start {
    const char *acct;
    pid_t opid;
    const char *container; /* container ID or NULL ("?") */
    char *const *argv;     /* command, joined with single spaces */
    const char *reason;    /* caller's --reason or NULL ("?") */
    const char *uuid;
    const char *hdr; /* header hash, lowercase hex */
    int ok;
};

/* TRUSTED_APP, checkpoint of an open session at each epoch change. */
struct ng_audit_checkpoint {
    const char *uuid;
    uint64_t seqno;
    const char *head; /* chain head, lowercase hex */
    uint64_t epoch;
};

/* USER_END, session ended. */
struct ng_audit_end {
    const char *acct;
    const char *uuid;
    uint64_t seqno; /* last sequence number */
    const char *head;
    int exit_status;    /* nsgate's exit status, >= 0 */
    const char *reason; /* end reason ("exit", "audit-lost", ...) */
};

/* USER_ERR, recording, audit or entry failure after the decision. */
struct ng_audit_error {
    const char *uuid; /* NULL -> "?" */
    const char *what;
};

/* CRYPTO_KEY_USER, sealing key created, destroyed, epoch advanced
 * (an advance is a create of the new epoch's key). */
enum ng_audit_key_op { NG_AUDIT_KEY_CREATE, NG_AUDIT_KEY_DESTROY };
struct ng_audit_key {
    enum ng_audit_key_op op;
    const char *fp; /* public key, lowercase hex */
    uint64_t epoch;
};

/* USER_ACCT, two-person control (control.h): an approval, a rejection, an
 * approval timed out, a termination, a moderator joining, by whom. */
struct ng_audit_control {
    const char *action; /* "approve", "reject", "approval-timeout", "terminate", "moderate" */
    const char *acct;   /* who acted (NULL: nobody, as for a timeout) */
    int64_t uid;        /* their uid, -1 for none */
    const char *uuid;   /* the session */
    const char *text;   /* their -r text, or NULL */
    int ok;             /* res: success for approve, terminate, moderate */
};
int ng_audit_fmt_control(const struct ng_audit_control *e, char *buf, size_t size) NG_MUST_CHECK;
int ng_audit_log_control(const struct ng_audit *a, const struct ng_audit_control *e) NG_MUST_CHECK;
/* TRUSTED_APP, every look at a recorded session: replay, export, watch
 * (op=nsgate-review). */
struct ng_audit_review {
    const char *act;  /* "replay", "export" or "watch" (anything else: -EINVAL) */
    const char *uuid; /* the session viewed */
    const char *acct; /* the viewer's user name (encoded as free text) */
    uid_t uid;        /* the viewer's real uid */
    uint32_t auid;    /* the viewer's login uid (4294967295 when unset) */
};

/* Builders: write the NUL-terminated message into buf. Return its length,
 * -EINVAL for a missing or unsafe nsgate-made value, -ENOBUFS when it does
 * not fit, -ENOMEM. */
int ng_audit_fmt_authz(const struct ng_audit_authz *e, char *buf, size_t size) NG_MUST_CHECK;
int ng_audit_fmt_start(const struct ng_audit_start *e, char *buf, size_t size) NG_MUST_CHECK;
int ng_audit_fmt_checkpoint(const struct ng_audit_checkpoint *e, char *buf,
                            size_t size) NG_MUST_CHECK;
int ng_audit_fmt_end(const struct ng_audit_end *e, char *buf, size_t size) NG_MUST_CHECK;
int ng_audit_fmt_error(const struct ng_audit_error *e, char *buf, size_t size) NG_MUST_CHECK;
int ng_audit_fmt_key(const struct ng_audit_key *e, char *buf, size_t size) NG_MUST_CHECK;
int ng_audit_fmt_review(const struct ng_audit_review *e, char *buf, size_t size) NG_MUST_CHECK;

/* Senders: build and send one record. 0, or a negative errno (a builder's,
 * -EBADF when not open, or libaudit's; a return of 0 counts as -EIO). */
int ng_audit_log_authz(const struct ng_audit *a, const struct ng_audit_authz *e) NG_MUST_CHECK;
int ng_audit_log_start(const struct ng_audit *a, const struct ng_audit_start *e) NG_MUST_CHECK;
int ng_audit_log_checkpoint(const struct ng_audit *a,
                            const struct ng_audit_checkpoint *e) NG_MUST_CHECK;
int ng_audit_log_end(const struct ng_audit *a, const struct ng_audit_end *e) NG_MUST_CHECK;
int ng_audit_log_error(const struct ng_audit *a, const struct ng_audit_error *e) NG_MUST_CHECK;
int ng_audit_log_key(const struct ng_audit *a, const struct ng_audit_key *e) NG_MUST_CHECK;
int ng_audit_log_review(const struct ng_audit *a, const struct ng_audit_review *e) NG_MUST_CHECK;

#endif
