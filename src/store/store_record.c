/* The recorder's side of the store: the session header (event 0 of the
 * chain), events chained and written in batches (recording.md "Cost": one
 * transaction per batch, constant memory), the final 'x' event. */
#include "store_int.h"

#include "nsgate/cmdline.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* At most this many events wait in one batch, whatever their size. */
#define NG_STORE_BATCH_EVENTS 4096

struct pending {
    int64_t seq, t_ns;
    const uint8_t *data; /* into sess->buf, or the caller's buffer (one big event) */
    size_t len;
    uint8_t hash[NG_HASH_LEN];
    char kind;
};

struct end_row {
    int64_t end_ns;
    int exit_status;
    const char *reason;
};

struct ng_session {
    struct ng_store *store;
    uint8_t id[NG_STORE_ID_LEN];
    int64_t start_boot;
    uint8_t header_hash[NG_HASH_LEN];
    int64_t seq; /* last assigned */
    uint8_t head[NG_HASH_LEN];
    int64_t cseq; /* last committed */
    uint8_t chead[NG_HASH_LEN];
    int err; /* sticky write failure */
    int ended;
    int live_fd;
    sqlite3_stmt *ins;
    sqlite3_stmt *cmd_ins; /* cache_commands, NULL when the store has none */
    uint8_t *buf;
    size_t used;
    struct pending ev[NG_STORE_BATCH_EVENTS];
    size_t nev;
};

/* ---- the header row ------------------------------------------------------ */

/* "1,2,3" (empty for none), malloc'd. */
static char *join_ids(const uint32_t *ids, size_t n)
{
    char *s = malloc(n * 11 + 1);
    size_t o = 0;

    if (!s)
        return NULL;
    s[0] = '\0';
    for (size_t i = 0; i < n; i++)
        o += (size_t)snprintf(s + o, 12, "%s%u", i ? "," : "", ids[i]);
    return s;
}

/* Each argument followed by a NUL: arguments cannot contain NUL (execve),
 * so this keeps every byte and every boundary. */
static uint8_t *join_argv(char *const *argv, size_t *ret_len)
{
    size_t len = 0;
    uint8_t *b;

    for (size_t i = 0; argv && argv[i]; i++)
        len += strlen(argv[i]) + 1;
    b = malloc(len ? len : 1);
    if (!b)
        return NULL;
    len = 0;
    for (size_t i = 0; argv && argv[i]; i++) {
        size_t n = strlen(argv[i]) + 1;
        memcpy(b + len, argv[i], n);
        len += n;
    }
    *ret_len = len;
    return b;
}

#define HEADER_COLS                                                                                \
    "id, start_ns, start_boot_ns, host, user_name, uid, gid, groups, login_uid, "                  \
    "audit_session, tty, target_pid, target_container, target_cgroup, target_exe, "                \
    "target_comm, target_uid, ns_user, ns_cgroup, ns_ipc, ns_uts, ns_net, ns_pid, ns_mnt, "        \
    "ns_time, program, argv, run_as_uid, run_as_gid, run_as_groups, run_as_caps, reason, "         \
    "rule, policy_hash, record_input, mode, hash_alg, nsgate_version, caller_reach, "              \
    "mask_escrow, target_name, target_pod, confinement, seccomp_filters, seccomp_hash, lsm, "      \
    "lsm_label, record_commands, header_hash"
#define HEADER_NCOLS 49

static void bind_text(sqlite3_stmt *st, int *i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, ++*i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, ++*i);
}

static void bind_opt_int(sqlite3_stmt *st, int *i, int64_t v)
{
    if (v >= 0)
        sqlite3_bind_int64(st, ++*i, v);
    else
        sqlite3_bind_null(st, ++*i);
}

static void bind_header(sqlite3_stmt *st, const struct ng_session *sess, int64_t start_ns,
                        const struct ng_session_header *h, const char *groups,
                        const char *run_groups, const uint8_t *argv, size_t argv_len)
{
    int i = 0;

    sqlite3_bind_blob(st, ++i, sess->id, NG_STORE_ID_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(st, ++i, start_ns);
    sqlite3_bind_int64(st, ++i, sess->start_boot);
    bind_text(st, &i, h->host ? h->host : "");
    bind_text(st, &i, h->user_name ? h->user_name : "");
    sqlite3_bind_int64(st, ++i, h->uid);
    sqlite3_bind_int64(st, ++i, h->gid);
    bind_text(st, &i, groups);
    bind_opt_int(st, &i, h->login_uid);
    bind_opt_int(st, &i, h->audit_session);
    bind_text(st, &i, h->tty);
    sqlite3_bind_int64(st, ++i, h->target_pid);
    bind_text(st, &i, h->container);
    bind_text(st, &i, h->cgroup);
    bind_text(st, &i, h->exe);
    bind_text(st, &i, h->comm);
    bind_text(st, &i, h->target_uid);
    for (int n = 0; n < NG_NS_COUNT; n++) /* columns ns_* are in enum ng_ns order */
        bind_opt_int(st, &i, (h->ns & (1u << n)) ? (int64_t)h->ns_ino[n] : -1);
    bind_text(st, &i, h->program ? h->program : "");
    sqlite3_bind_blob(st, ++i, argv, (int)argv_len, SQLITE_STATIC);
    sqlite3_bind_int64(st, ++i, h->run_as_uid);
    sqlite3_bind_int64(st, ++i, h->run_as_gid);
    bind_text(st, &i, run_groups);
    bind_text(st, &i, h->run_as_caps);
    bind_text(st, &i, h->reason);
    bind_text(st, &i, h->rule ? h->rule : "");
    sqlite3_bind_blob(st, ++i, h->policy_hash, NG_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_int(st, ++i, h->record_input ? 1 : 0);
    bind_text(st, &i, h->pty ? "pty" : "pipe");
    bind_text(st, &i, NG_HASH_ALG);
    bind_text(st, &i, NSGATE_VERSION);
    bind_text(st, &i, h->caller_reach);
    if (h->mask_escrow)
        sqlite3_bind_blob(st, ++i, h->mask_escrow, NG_STORE_ESCROW_PK_LEN, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, ++i);
    bind_text(st, &i, h->target_name);
    bind_text(st, &i, h->target_pod);
    bind_text(st, &i, h->confinement);
    bind_opt_int(st, &i, h->confinement ? h->seccomp_filters : -1);
    if (h->seccomp_hash)
        sqlite3_bind_blob(st, ++i, h->seccomp_hash, NG_HASH_LEN, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, ++i);
    bind_text(st, &i, h->lsm);
    bind_text(st, &i, h->lsm_label);
    bind_opt_int(st, &i, h->record_commands);
    sqlite3_bind_zeroblob(st, ++i, NG_HASH_LEN); /* filled in below */
}

/* Read the row back as SQLite stored it and hash it generically (the same
 * code verify runs), then store the hash: one transaction with the insert. */
static int hash_header(struct ng_session *sess)
{
    struct ng_store *s = sess->store;
    sqlite3_stmt *sel = NULL, *upd = NULL;
    int r = ng_store_prepare(s, "SELECT * FROM sessions WHERE id = ?", &sel);

    if (r == 0)
        r = ng_store_prepare(s, "UPDATE sessions SET header_hash = ? WHERE id = ?", &upd);
    if (r == 0) {
        sqlite3_bind_blob(sel, 1, sess->id, NG_STORE_ID_LEN, SQLITE_STATIC);
        int rc = sqlite3_step(sel);
        r = rc == SQLITE_ROW    ? ng_store_header_hash(sel, sess->header_hash)
            : rc == SQLITE_DONE ? -EIO
                                : ng_store_errno(s->db, rc);
    }
    if (r == 0) {
        sqlite3_bind_blob(upd, 1, sess->header_hash, NG_HASH_LEN, SQLITE_STATIC);
        sqlite3_bind_blob(upd, 2, sess->id, NG_STORE_ID_LEN, SQLITE_STATIC);
        r = ng_store_errno(s->db, sqlite3_step(upd));
    }
    sqlite3_finalize(sel);
    sqlite3_finalize(upd);
    return r;
}

static int insert_header(struct ng_session *sess, const struct ng_session_header *h)
{
    struct ng_store *s = sess->store;
    char *groups = join_ids(h->groups, h->ngroups);
    char *run_groups = join_ids(h->run_as_groups, h->run_as_ngroups);
    size_t argv_len = 0;
    uint8_t *argv = join_argv(h->argv, &argv_len);
    sqlite3_stmt *ins = NULL;
    int r = (groups && run_groups && argv) ? 0 : -ENOMEM;

    if (r == 0 && argv_len > NG_STORE_EVENT_MAX)
        r = -E2BIG;
    if (r == 0)
        r = ng_store_prepare(
            s,
            "INSERT INTO sessions (" HEADER_COLS ") VALUES (?,?,?,?,?,?,?,?,"
            "?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            &ins);
    if (r == 0 && sqlite3_bind_parameter_count(ins) != HEADER_NCOLS)
        r = -EINVAL;
    int own = 0;
    if (r == 0)
        r = ng_store_txn_begin(s, &own); /* or inside the sealer's transaction */
    if (r == 0) {
        bind_header(ins, sess, ng_store_clock_ns(CLOCK_REALTIME), h, groups, run_groups, argv,
                    argv_len);
        r = ng_store_errno(s->db, sqlite3_step(ins));
        if (r == 0)
            r = hash_header(sess);
        r = ng_store_txn_end(s, own, r);
    }
    sqlite3_finalize(ins);
    free(groups);
    free(run_groups);
    free(argv);
    return r;
}

int ng_store_session_begin(struct ng_store *s, const struct ng_session_header *h,
                           struct ng_session **ret)
{
    struct ng_session *sess;
    int r;

    if (s->readonly)
        return -EROFS;
    sess = calloc(1, sizeof(*sess));
    if (!sess)
        return -ENOMEM;
    sess->store = s;
    sess->live_fd = -1;
    sess->buf = malloc(NG_STORE_BATCH_BYTES);
    sess->start_boot = ng_store_clock_ns(CLOCK_BOOTTIME);
    r = sess->buf ? 0 : -ENOMEM;
    if (r == 0 && h->id) /* chosen at decision time, already in the audit trail */
        memcpy(sess->id, h->id, NG_STORE_ID_LEN);
    else if (r == 0)
        r = ng_uuid_new(sess->id);
    /* Locked before the row exists, so no reader ever sees it unlocked
     * while it is being recorded. */
    if (r == 0)
        r = ng_store_live_acquire(s, sess->id, &sess->live_fd);
    if (r == 0)
        r = insert_header(sess, h);
    if (r == 0)
        r = ng_store_prepare(s,
                             "INSERT INTO events (session, seq, t_ns, kind, data, hash) "
                             "VALUES (?, ?, ?, ?, ?, ?)",
                             &sess->ins);
    /* The command index is derived data: a store whose cache was dropped
     * still records (sessions --command then falls back to covered data). */
    if (r == 0 &&
        (!s->cmd_index || ng_store_prepare(s,
                                           "INSERT INTO cache_commands (line, session, seq) "
                                           "VALUES (?, ?, ?)",
                                           &sess->cmd_ins) < 0))
        sess->cmd_ins = NULL;
    if (r < 0) {
        ng_store_session_free(sess);
        return r;
    }
    memcpy(sess->head, sess->header_hash, NG_HASH_LEN);
    memcpy(sess->chead, sess->header_hash, NG_HASH_LEN);
    *ret = sess;
    return 0;
}

/* ---- events -------------------------------------------------------------- */

static int insert_event(struct ng_session *sess, const struct pending *p)
{
    sqlite3_stmt *st = sess->ins;
    char kind = p->kind;

    sqlite3_reset(st);
    sqlite3_bind_blob(st, 1, sess->id, NG_STORE_ID_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, p->seq);
    sqlite3_bind_int64(st, 3, p->t_ns);
    sqlite3_bind_text(st, 4, &kind, 1, SQLITE_TRANSIENT);
    /* A zero-length blob must still be a BLOB, not NULL. */
    if (p->len)
        sqlite3_bind_blob(st, 5, p->data, (int)p->len, SQLITE_STATIC);
    else
        sqlite3_bind_zeroblob(st, 5, 0);
    sqlite3_bind_blob(st, 6, p->hash, NG_HASH_LEN, SQLITE_STATIC);
    int r = ng_store_errno(sess->store->db, sqlite3_step(st));
    sqlite3_reset(st);
    return r;
}

/* The search index row of a 'c' event: its shell-quoted command line (the
 * same text readers derive from the covered event when they re-check). An
 * event that is not a well-formed command event gets no row. */
static int index_command(struct ng_session *sess, const struct pending *p)
{
    struct ng_cmd c;
    sqlite3_stmt *st = sess->cmd_ins;

    if (!st || ng_cmd_parse(p->data, p->len, &c) < 0)
        return 0;
    char *line = ng_cmd_quote(c.argv, c.argv_len);
    ng_cmd_free(&c);
    if (!line)
        return -ENOMEM;
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, line, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, sess->id, NG_STORE_ID_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, p->seq);
    int r = ng_store_errno(sess->store->db, sqlite3_step(st));
    sqlite3_reset(st);
    free(line);
    return r;
}

static int insert_end(struct ng_session *sess, const struct end_row *end)
{
    struct ng_store *s = sess->store;
    sqlite3_stmt *st;
    int r = ng_store_prepare(s,
                             "INSERT OR REPLACE INTO cache_session_end (session, end_ns, "
                             "exit_status, end_reason, last_seq) VALUES (?, ?, ?, ?, ?)",
                             &st);
    if (r < 0)
        return r;
    sqlite3_bind_blob(st, 1, sess->id, NG_STORE_ID_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, end->end_ns);
    sqlite3_bind_int(st, 3, end->exit_status);
    sqlite3_bind_text(st, 4, end->reason, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, sess->seq);
    r = ng_store_errno(s->db, sqlite3_step(st));
    sqlite3_finalize(st);
    return r;
}

/* Write the batch in one transaction. On failure nothing of it is kept:
 * the session falls back to what was committed and the error sticks. */
static int write_batch(struct ng_session *sess, const struct end_row *end)
{
    struct ng_store *s = sess->store;
    int r = 0;

    if (sess->nev == 0 && !end)
        return 0;
    r = ng_store_exec(s, "BEGIN IMMEDIATE");
    for (size_t i = 0; r == 0 && i < sess->nev; i++) {
        r = insert_event(sess, &sess->ev[i]);
        if (r == 0 && sess->ev[i].kind == 'c')
            r = index_command(sess, &sess->ev[i]);
    }
    if (r == 0 && end)
        r = insert_end(sess, end);
    if (r == 0)
        r = ng_store_exec(s, "COMMIT");
    if (r < 0) {
        ng_store_rollback(s);
        sess->err = r;
        sess->seq = sess->cseq;
        memcpy(sess->head, sess->chead, NG_HASH_LEN);
    } else {
        sess->cseq = sess->seq;
        memcpy(sess->chead, sess->head, NG_HASH_LEN);
    }
    sess->nev = 0;
    sess->used = 0;
    return r;
}

/* Assign seq and time, chain the hash, queue. data must stay valid until
 * the next write when it does not point into sess->buf. */
static void queue(struct ng_session *sess, char kind, const uint8_t *data, size_t len)
{
    struct pending *p = &sess->ev[sess->nev++];
    int64_t t = ng_store_clock_ns(CLOCK_BOOTTIME) - sess->start_boot;

    p->seq = ++sess->seq;
    p->t_ns = t > 0 ? t : 0;
    p->kind = kind;
    p->data = data;
    p->len = len;
    ng_chain_event_hash(sess->id, p->seq, p->t_ns, kind, data, len, sess->head, p->hash);
    memcpy(sess->head, p->hash, NG_HASH_LEN);
}

int ng_store_event(struct ng_session *sess, char kind, const void *data, size_t len)
{
    int r;

    if (sess->err)
        return sess->err;
    if (sess->ended || !kind || !strchr(NG_STORE_EVENT_KINDS, kind) || (len && !data))
        return -EINVAL;
    if (len > NG_STORE_EVENT_MAX)
        return -EMSGSIZE;
    if (sess->used + len > NG_STORE_BATCH_BYTES || sess->nev == NG_STORE_BATCH_EVENTS) {
        r = write_batch(sess, NULL);
        if (r < 0)
            return r;
    }
    if (len > NG_STORE_BATCH_BYTES) {
        /* Bigger than the buffer: a batch of its own, straight from the
         * caller's memory, so memory stays bounded. */
        queue(sess, kind, data, len);
        return write_batch(sess, NULL);
    }
    if (len)
        memcpy(sess->buf + sess->used, data, len);
    queue(sess, kind, sess->buf + sess->used, len);
    sess->used += len;
    return 0;
}

int ng_store_flush(struct ng_session *sess)
{
    if (sess->err)
        return sess->err;
    return write_batch(sess, NULL);
}

int ng_store_session_end(struct ng_session *sess, int exit_status, const char *end_reason)
{
    struct end_row end = {ng_store_clock_ns(CLOCK_REALTIME), exit_status,
                          end_reason ? end_reason : ""};
    int r;

    if (sess->ended)
        return -EINVAL;
    if (!sess->err && sess->nev > 0)
        (void)write_batch(sess, NULL); /* on failure: err set, state rolled back */
    json_t *o = json_pack("{s:I,s:i,s:s}", "end_ns", (json_int_t)end.end_ns, "exit", exit_status,
                          "reason", end.reason);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!text)
        return -EINVAL; /* end_reason not UTF-8, or out of memory */
    /* The exit goes on record even after a failed batch, chained onto what
     * was committed: the tail lost to the failure is simply absent. */
    sess->nev = 0;
    sess->used = 0;
    queue(sess, 'x', (const uint8_t *)text, strlen(text));
    r = write_batch(sess, &end);
    free(text);
    if (r == 0)
        sess->ended = 1;
    return r;
}

void ng_store_session_free(struct ng_session *sess)
{
    if (!sess)
        return;
    sqlite3_finalize(sess->ins);
    sqlite3_finalize(sess->cmd_ins);
    ng_store_live_release(sess->store, sess->id, sess->live_fd);
    free(sess->buf);
    free(sess);
}

int ng_store_session_live_fd(const struct ng_session *sess)
{
    return sess->live_fd;
}

const uint8_t *ng_store_session_id(const struct ng_session *sess)
{
    return sess->id;
}

const uint8_t *ng_store_session_header_hash(const struct ng_session *sess)
{
    return sess->header_hash;
}

int64_t ng_store_session_committed(const struct ng_session *sess, uint8_t head[NG_HASH_LEN])
{
    if (head)
        memcpy(head, sess->chead, NG_HASH_LEN);
    return sess->cseq;
}

int64_t ng_store_session_now_ns(const struct ng_session *sess)
{
    int64_t t = ng_store_clock_ns(CLOCK_BOOTTIME) - sess->start_boot;
    return t > 0 ? t : 0;
}

int64_t ng_store_session_seq(const struct ng_session *sess, uint8_t head[NG_HASH_LEN])
{
    if (head)
        memcpy(head, sess->head, NG_HASH_LEN);
    return sess->seq;
}
