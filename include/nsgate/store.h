/* The session store: one SQLite database (recording.md "What is stored",
 * schema/001-initial.sql). Recorders append; readers treat the file as
 * hostile (integrity.md 6). Every function returns 0 (or a count) or a
 * negative errno, never prints and never exits:
 *   -ENOSPC   disk full (SQLITE_FULL), the recorder ends the session, exit 74
 *   -EIO      other I/O error          -ENOMEM  out of memory
 *   -EBUSY    locked past the busy timeout
 *   -EBADMSG  not an nsgate store, corrupt, or a schema nsgate did not ship
 *   -EPROTONOSUPPORT  a newer schema version than this nsgate knows
 *   -ENOENT   no such database or session       -ENOTUNIQ  ambiguous prefix
 *   -ELOOP    a symlink at the database path
 *   -EPERM    the directory is not root-owned or is writable by group/other
 * What was committed before a failure stays readable. */
#ifndef NSGATE_STORE_H
#define NSGATE_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "nsgate/chain.h"
#include "nsgate/fskey.h"
#include "nsgate/ns.h"
#include "nsgate/seal.h"
#include "nsgate/util.h"
#include "nsgate/uuid.h"

#define NG_STORE_ID_LEN 16
/* Events are buffered and written in one transaction per batch, flushed when
 * the buffer passes this size (or on ng_store_flush): memory stays constant. */
#define NG_STORE_BATCH_BYTES (512 * 1024)
/* Largest single event; the relay reads in much smaller chunks. */
#define NG_STORE_EVENT_MAX (1024 * 1024)
/* Shortest session ID prefix accepted on the command line (cli.md). */
#define NG_STORE_PREFIX_MIN 6
/* Event kinds a recorder appends (schema 2: 'k' escrowed masked input, 'c' a
 * command; 'x' only through ng_store_session_end). */
#define NG_STORE_EVENT_KINDS   "oiermkc"
#define NG_STORE_ESCROW_PK_LEN 32

struct ng_store;
struct ng_session;

/* ---- opening ---------------------------------------------------------- */

/* Recorder: open or create the store at path. The directory holding it is
 * created root-owned 0700 when missing (its parent must exist), otherwise it
 * must be owned by root (or by the effective uid, for unprivileged tests)
 * and not writable by group or other. A symlink at path is refused (-ELOOP);
 * the file is opened O_NOFOLLOW and checked on the open descriptor. WAL mode,
 * persistent WAL (read-only reviewers can open it), a busy timeout for
 * concurrent recorders. An empty file gets the schema; an older version is
 * migrated; a newer one is refused. */
int ng_store_open(const char *path, struct ng_store **ret) NG_MUST_CHECK;

/* After -EBUSY: is a lock that stops writers held on the store at path (the
 * WAL write lock of "<path>-shm", the database file's lock bytes)? 1 with
 * the holder's pid (-1 when the lock is an open file description lock),
 * 0 when none is held now, or a negative errno. For the message only: the
 * holder may be gone, or be another recorder between two commits. */
int ng_store_lock_holder(const char *path, pid_t *ret_pid);

/* Reader: open read-only as hostile input: defensive mode, no trusted schema,
 * triggers and views off, no mmap, size limits, a progress handler that ends
 * any statement running longer than a few seconds; the schema must be one
 * nsgate shipped (extra objects only cache_* tables and indexes). A symlink
 * at path is refused. -ENOENT when the file does not exist. */
int ng_store_open_readonly(const char *path, struct ng_store **ret) NG_MUST_CHECK;

/* Free every session of s (ng_store_session_free) first. NULL is fine. */
void ng_store_close(struct ng_store *s);

/* The schema version of the open store (PRAGMA user_version). */
int ng_store_version(const struct ng_store *s);

/* The identity of the database file s opened (checked against the path
 * right after SQLite opened it): whether the path still names it tells a
 * follower the store was rotated. */
void ng_store_file_id(const struct ng_store *s, uint64_t *dev, uint64_t *ino);

/* ---- recording ---------------------------------------------------------- */

/* What the recorder knows when the session starts (the sessions row). Text
 * pointers may be NULL where the column allows NULL. */
struct ng_session_header {
    const uint8_t *id; /* the session ID to use, or NULL for a new random one */
    const char *host;
    const char *user_name;
    uint32_t uid, gid;
    const uint32_t *groups;
    size_t ngroups;
    int64_t login_uid;     /* -1: unset */
    int64_t audit_session; /* -1: unset */
    const char *tty;
    pid_t target_pid;
    const char *container, *cgroup, *exe, *comm, *target_uid; /* attributes */
    ng_nsset ns;                                              /* namespaces entered */
    uint64_t ns_ino[NG_NS_COUNT];                             /* their inodes, by enum ng_ns */
    const char *program;
    char *const *argv; /* NULL-terminated */
    uint32_t run_as_uid, run_as_gid;
    const uint32_t *run_as_groups;
    size_t run_as_ngroups;
    const char *run_as_caps;
    const char *reason;
    const char *rule;
    uint8_t policy_hash[NG_HASH_LEN];
    int record_input;
    int pty; /* 1: terminal mode, 0: pipe mode */
    /* schema 2: NULL leaves the column NULL (and out of the header hash) */
    const char *caller_reach;   /* "userns", "other-uid", "root", "allowed" */
    const uint8_t *mask_escrow; /* NG_STORE_ESCROW_PK_LEN bytes: the escrow key */
    /* schema 3, the same rule */
    const char *target_name, *target_pod; /* attributes name and pod */
    const char *confinement;              /* "target" or "none" */
    int64_t seccomp_filters;              /* filters copied; -1: NULL */
    const uint8_t *seccomp_hash;          /* NG_HASH_LEN bytes, or NULL */
    const char *lsm, *lsm_label;          /* "apparmor" or "selinux" and the label */
    /* schema 4: 1 every exec recorded as a 'c' event, 0 not; -1 leaves it NULL */
    int record_commands;
};

/* Start a session: h->id or a new random UUID v4, start time now (CLOCK_REALTIME and
 * CLOCK_BOOTTIME), the header row inserted with its header hash in one
 * transaction, and the session marked open (a lock held until
 * ng_store_session_free: see store_live.c). */
int ng_store_session_begin(struct ng_store *s, const struct ng_session_header *h,
                           struct ng_session **ret) NG_MUST_CHECK;

/* Append one event: kind one of NG_STORE_EVENT_KINDS (x is written by session_end).
 * Assigns the next seq, t_ns = CLOCK_BOOTTIME - start, chains the hash, and
 * buffers it; a full buffer is written in one transaction. -EMSGSIZE above
 * NG_STORE_EVENT_MAX, -EINVAL for a bad kind. After a write failure every
 * further event returns that error (the batch is lost, earlier ones stay). */
int ng_store_event(struct ng_session *sess, char kind, const void *data, size_t len) NG_MUST_CHECK;

/* Output and standard error ('o', 'e') arriving within this long of the
 * first byte of the session's last event, of the same kind, join that event
 * (up to 64 KiB; its time is its first byte's): a burst read from a
 * terminal 4 KiB at a time is stored as a few events. 0 turns it off (the
 * unit tests count events one call each). */
#define NG_STORE_COALESCE_NS (2 * 1000 * 1000)
void ng_store_session_coalesce(struct ng_session *sess, int64_t ns);

/* Let the session prepare full batches (the chain's hashes, compression)
 * on a thread of its own, started at the first full batch, while the
 * caller goes on filling the next; the caller's thread keeps every use of
 * SQLite, commits in order and one batch behind at most (what
 * ng_store_session_committed reports; ng_store_flush waits for all). The
 * thread has what the caller's thread has when it starts: the recorder
 * allows it only after its drop (docs/security.md "The recorder after the
 * fork"), so it runs with the dropped capabilities under the same filter.
 * When it cannot start, batches are written on the caller's thread. */
void ng_store_session_async(struct ng_session *sess);

/* Write the buffered events now (one transaction). */
int ng_store_flush(struct ng_session *sess) NG_MUST_CHECK;

/* Append the final 'x' event, data {"end_ns":N,"exit":N,"reason":"..."}
 * (end time wall clock UTC ns), write everything, and fill the
 * cache_session_end copy. Tried even after a write failure (chained onto
 * what was committed), so the exit is on record whenever space allows. */
int ng_store_session_end(struct ng_session *sess, int exit_status,
                         const char *end_reason) NG_MUST_CHECK;

/* Release the session (and its open-lock). Unwritten events are dropped:
 * call ng_store_flush or ng_store_session_end first. NULL is fine. */
void ng_store_session_free(struct ng_session *sess);

const uint8_t *ng_store_session_id(const struct ng_session *sess);
const uint8_t *ng_store_session_header_hash(const struct ng_session *sess);
/* The last seq written to the database and the chain head there: what a
 * seal may cover (0 and the header hash before the first event). */
int64_t ng_store_session_committed(const struct ng_session *sess, uint8_t head[NG_HASH_LEN]);
/* Now, as an event's t_ns: CLOCK_BOOTTIME since the session's start. */
int64_t ng_store_session_now_ns(const struct ng_session *sess);
/* The last seq assigned (including buffered events) and its head. */
int64_t ng_store_session_seq(struct ng_session *sess, uint8_t head[NG_HASH_LEN]);

/* ---- seals, certificates, ledger (store_seal.c) -------------------------- */

/* Store a seal made by the sealer (seal.h): the signed fields and the
 * signature, numbered 1, 2, ... per chain in the order stored. f->chain_id is
 * a session ID or ng_seal_ledger_id. Its own transaction. */
int ng_store_add_seal(struct ng_store *s, const struct ng_seal_fields *f,
                      const uint8_t sig[NG_SEAL_SIG_BYTES]) NG_MUST_CHECK;

/* Copy a certificate of the key chain under root_pk (fskey.h) into the
 * store, with the chain's epoch length. Copying one already there is fine;
 * a different certificate for the same root and epoch, or another epoch
 * length for the root, is -EEXIST. */
int ng_store_add_cert(struct ng_store *s, const uint8_t root_pk[NG_FSKEY_PK_BYTES],
                      uint64_t epoch_len_ns, const struct ng_fskey_cert *c) NG_MUST_CHECK;

/* The newest seal of a chain (the highest sealno), for a sealer that chains
 * onto a seal another process made (the ledger's). -ENOENT when the chain has
 * no seal yet, -EBADMSG when the row is malformed. */
int ng_store_last_seal(struct ng_store *s, const uint8_t chain_id[NG_SEAL_ID_BYTES],
                       struct ng_seal_fields *ret,
                       uint8_t ret_sig[NG_SEAL_SIG_BYTES]) NG_MUST_CHECK;

enum ng_ledger_kind { NG_LEDGER_START = 0, NG_LEDGER_CHECKPOINT, NG_LEDGER_END };

/* Append to the host-wide ledger (integrity.md 5): value is the session's
 * header hash (start) or its chain head at event_seq (checkpoint, end).
 * Chained onto the last entry under the write lock, so concurrent recorders
 * append in turn; returns the entry's seq and hash, which the sealer seals
 * under ng_seal_ledger_id. */
/* One write transaction around several calls, so a recorder killed in
 * between leaves nothing half-done (the sealer writes a session's header,
 * its ledger start entry and both first seals at once; a ledger entry and
 * its seal). Nested use joins the outer transaction: *owned says whether
 * this call began it. txn_end commits (result 0) or rolls back, only when
 * owned, and returns the result. Take the key lock before, never after. */
int ng_store_txn_begin(struct ng_store *s, int *owned) NG_MUST_CHECK;
int ng_store_txn_end(struct ng_store *s, int owned, int result) NG_MUST_CHECK;

int ng_store_ledger_append(struct ng_store *s, const uint8_t session[NG_STORE_ID_LEN],
                           enum ng_ledger_kind kind, int64_t event_seq,
                           const uint8_t value[NG_HASH_LEN], int64_t *ret_seq,
                           uint8_t ret_hash[NG_HASH_LEN]) NG_MUST_CHECK;

/* ---- IDs ------------------------------------------------------------------ */

/* The text form of IDs is ng_uuid_format (uuid.h). */

/* Find the one session whose ID starts with prefix (text form, dashes
 * optional, case-insensitive, at least NG_STORE_PREFIX_MIN characters).
 * -EINVAL for a malformed or short prefix, -ENOENT, -ENOTUNIQ. */
int ng_store_find_session(struct ng_store *s, const char *prefix,
                          uint8_t ret_id[NG_STORE_ID_LEN]) NG_MUST_CHECK;

/* ---- reading ---------------------------------------------------------- */

enum ng_session_state {
    NG_STATE_SEALED = 0, /* exit event present and the last seal covers it */
    NG_STATE_OPEN,       /* a live recorder holds it */
    NG_STATE_INCOMPLETE, /* no recorder, and no exit event or an unsealed tail */
};
const char *ng_store_state_name(enum ng_session_state st);

struct ng_session_filter {
    const uint8_t *id;  /* exactly this session, or NULL */
    const char *user;   /* user_name equals, or NULL */
    const char *target; /* pid equals, or container ID starts with, or NULL */
    int64_t since_ns;   /* start_ns >= since_ns, 0 for none */
    int64_t until_ns;   /* start_ns <= until_ns, 0 for none */
    /* ran a command whose shell-quoted line (cmdline.h) matches this GLOB
     * (SQLite's GLOB), or NULL; answered from the command index and
     * re-checked against the covered 'c' events */
    const char *command;
};

/* One session as listed; pointers valid until the next _next or _end call.
 * Text is as stored (untrusted: escape before showing). */
struct ng_session_info {
    uint8_t id[NG_STORE_ID_LEN];
    int64_t start_ns;
    const char *host, *user_name, *tty, *container, *program, *reason, *rule;
    int64_t uid, gid, target_pid;
    ng_nsset ns;
    const char *argv; /* NUL-separated, argv_len bytes */
    size_t argv_len;
    int record_input, pty;
    int64_t last_seq;    /* 0: no events */
    int64_t commands;    /* 'c' events */
    int record_commands; /* the header's record_commands: 1, 0, -1 NULL (older schema) */
    int has_end;         /* the last event is a well-formed 'x' */
    int64_t end_ns;
    int exit_status;
    const char *end_reason;
    enum ng_session_state state;
};

struct ng_session_iter;
/* Sessions matching filter, newest first, streamed. */
int ng_store_sessions_begin(struct ng_store *s, const struct ng_session_filter *f,
                            struct ng_session_iter **ret) NG_MUST_CHECK;
/* 1 and *ret filled, 0 at the end, or a negative errno. */
int ng_store_sessions_next(struct ng_session_iter *it,
                           const struct ng_session_info **ret) NG_MUST_CHECK;
void ng_store_sessions_end(struct ng_session_iter *it);

struct ng_event {
    int64_t seq, t_ns;
    char kind;
    const uint8_t *data; /* valid until the next _next or _end call */
    size_t len;
    const uint8_t *hash;
    size_t hash_len;
};

struct ng_event_iter;
/* A session's events in seq order, streamed with one prepared statement. */
int ng_store_events_begin(struct ng_store *s, const uint8_t id[NG_STORE_ID_LEN],
                          struct ng_event_iter **ret) NG_MUST_CHECK;
int ng_store_events_next(struct ng_event_iter *it, struct ng_event *ret) NG_MUST_CHECK;
void ng_store_events_end(struct ng_event_iter *it);

/* The escrow key the session's masked input was sealed to (its header's
 * mask_escrow, covered by the header hash): 1 and ret filled, 0 when none
 * (or a version 1 store), -ENOENT, -EBADMSG for a malformed value. */
int ng_store_session_escrow(struct ng_store *s, const uint8_t id[NG_STORE_ID_LEN],
                            uint8_t ret[NG_STORE_ESCROW_PK_LEN]) NG_MUST_CHECK;
/* A session's 'c' events in seq order (the command timeline), through the
 * events_commands index. */
int ng_store_commands_begin(struct ng_store *s, const uint8_t id[NG_STORE_ID_LEN],
                            struct ng_event_iter **ret) NG_MUST_CHECK;
/* How many 'c' events the session has. */
int ng_store_command_count(struct ng_store *s, const uint8_t id[NG_STORE_ID_LEN],
                           int64_t *ret) NG_MUST_CHECK;

/* Does the session's recorded output or input (o, e, i) contain needle,
 * ASCII case-insensitively, also across event boundaries? 1, 0 or < 0. */
int ng_store_session_grep(struct ng_store *s, const uint8_t id[NG_STORE_ID_LEN], const char *needle,
                          size_t len) NG_MUST_CHECK;

/* ---- live sessions (store_watch.c): watch, sessions --live ------------- */

/* The longest note a recorder keeps about its live session. */
#define NG_STORE_NOTE_MAX 4096

/* A session's events with seq > after, in seq order (a new snapshot each
 * call: a follower calls it again for what was committed since). */
int ng_store_events_after(struct ng_store *s, const uint8_t id[NG_STORE_ID_LEN], int64_t after,
                          struct ng_event_iter **ret) NG_MUST_CHECK;
/* 1 while a live recorder holds the session open, else 0. */
int ng_store_session_live(const struct ng_store *s, const uint8_t id[NG_STORE_ID_LEN]);
/* Recorder: replace the session's live note (one line of text, shorter
 * than NG_STORE_NOTE_MAX), which readers of the live list see. */
int ng_store_session_note(struct ng_session *sess, const char *text, size_t len) NG_MUST_CHECK;
/* Every open session (its lock held): fn with its ID and note ("" when its
 * recorder wrote none), in no order; a negative return of fn stops. */
typedef int (*ng_store_live_fn)(void *ctx, const uint8_t id[NG_STORE_ID_LEN], const char *note);
int ng_store_live_list(struct ng_store *s, ng_store_live_fn fn, void *ctx) NG_MUST_CHECK;
/* The one open session of the store at db_path whose ID starts with prefix
 * (as ng_store_find_session), from the lock directory alone: for the
 * control commands, which never open the store. -EINVAL, -ENOENT (none
 * open), -ENOTUNIQ. */
int ng_store_live_find(const char *db_path, const char *prefix,
                       uint8_t ret_id[NG_STORE_ID_LEN]) NG_MUST_CHECK;

#endif
