/* The recorder's side of the store: the session header (event 0 of the
 * chain), events chained and written in batches (recording.md "Cost": one
 * transaction per batch, constant memory), the final 'x' event. */
#include "store_int.h"

#include "nsgate/cmdline.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* At most this many events wait in one batch, whatever their size. */
#define NG_STORE_BATCH_EVENTS 4096
/* A batch's output, input and standard error smaller than this stay in
 * their rows: a frame and a block row would cost more than they save. */
#define NG_BLOCK_MIN 64
/* Output (or standard error) read within NG_STORE_COALESCE_NS of an
 * event's first byte joins that event, up to NG_COALESCE_MAX bytes: a burst that the
 * terminal hands over in 4 KiB reads becomes a few events, not thousands
 * (one row, one hash, one slot each), and no replay can show the
 * difference. */
#define NG_COALESCE_MAX (64 * 1024)

struct pending {
    int64_t seq, t_ns;
    const uint8_t *data; /* into the batch's buf, or the caller's buffer (one big event) */
    size_t len;
    uint8_t hash[NG_HASH_LEN];
    char kind;
    int in_block; /* its data goes into the batch's block (schema 5) */
};

struct end_row {
    int64_t end_ns;
    int exit_status;
    const char *reason;
};

/* Events waiting to be written, and what preparing them made: their
 * hashes, the chain's head after them and their block. */
struct batch {
    uint8_t *buf;
    size_t used, nev;
    int err; /* prepare's failure */
    uint8_t head[NG_HASH_LEN];
    const uint8_t *z; /* the block (NULL: none), in the block writer's buffers */
    size_t zlen, total, first, last;
    struct pending ev[NG_STORE_BATCH_EVENTS];
    struct ng_block_piece piece[NG_STORE_BATCH_EVENTS];
};

/* The batch writer's thread (ng_store_session_async): it prepares one
 * batch (hashes, compression) while the recorder relays and fills the
 * next; SQLite is used on the recorder's own thread only. */
struct worker {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct batch *job; /* handed over, not yet prepared */
    int state;         /* 0 none, 1 allowed (not started), 2 running, -1 could not start */
    int stop;
    int ckpt;     /* a checkpoint is wanted (1) or running (2) */
    sqlite3 *cdb; /* the thread's own connection, for checkpoints; NULL: none */
};

struct ng_session {
    struct ng_store *store;
    uint8_t id[NG_STORE_ID_LEN];
    int64_t start_boot;
    uint8_t header_hash[NG_HASH_LEN];
    int64_t seq;                /* last assigned */
    uint8_t whead[NG_HASH_LEN]; /* the chain's head after the last prepared batch */
    int64_t cseq;               /* last committed */
    uint8_t chead[NG_HASH_LEN];
    int err; /* sticky write failure */
    int ended;
    int live_fd;
    sqlite3_stmt *ins;
    sqlite3_stmt *cmd_ins; /* cache_commands, NULL when the store has none */
    int open;              /* cur's last event may still grow */
    int64_t coalesce_ns;
    /* schema 5: a batch's o/i/e data as one compressed block */
    struct ng_block_writer *bw; /* NULL: a store without blocks */
    sqlite3_stmt *blk_ins;
    struct batch *cur; /* being filled */
    struct batch *fly; /* handed to the worker (prepared or not), not committed */
    struct batch bat[2];
    struct worker wk;
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
    sess->coalesce_ns = NG_STORE_COALESCE_NS;
    sess->bat[0].buf = malloc(NG_STORE_BATCH_BYTES);
    sess->bat[1].buf = malloc(NG_STORE_BATCH_BYTES);
    sess->cur = &sess->bat[0];
    sess->start_boot = ng_store_clock_ns(CLOCK_BOOTTIME);
    r = sess->bat[0].buf && sess->bat[1].buf ? 0 : -ENOMEM;
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
    if (r == 0 && s->version >= 5)
        r = ng_block_writer_new(&sess->bw);
    if (r == 0 && sess->bw)
        r = ng_store_prepare(s,
                             "INSERT INTO event_blocks (session, first_seq, last_seq, codec, "
                             "raw_len, data) VALUES (?, ?, ?, 'zstd', ?, ?)",
                             &sess->blk_ins);
    if (r == 0)
        r = ng_store_prepare(s,
                             sess->bw ? "INSERT INTO events (session, seq, t_ns, kind, data, hash, "
                                        "block_len) VALUES (?, ?, ?, ?, ?, ?, ?)"
                                      : "INSERT INTO events (session, seq, t_ns, kind, data, hash) "
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
    memcpy(sess->whead, sess->header_hash, NG_HASH_LEN);
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
    if (p->len && !p->in_block)
        sqlite3_bind_blob(st, 5, p->data, (int)p->len, SQLITE_STATIC);
    else
        sqlite3_bind_zeroblob(st, 5, 0);
    sqlite3_bind_blob(st, 6, p->hash, NG_HASH_LEN, SQLITE_STATIC);
    if (sess->bw && p->in_block)
        sqlite3_bind_int64(st, 7, (int64_t)p->len);
    else if (sess->bw)
        sqlite3_bind_null(st, 7);
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

/* ---- preparing a batch (the worker's thread, or the recorder's) ---------- */

static void batch_reset(struct batch *b)
{
    b->nev = 0;
    b->used = 0;
    b->err = 0;
    b->z = NULL;
}

/* Schema 5: the data of the batch's o/i/e events (those in its buffer)
 * compressed into one block, the events marked in_block. */
static int pack_block(struct ng_session *sess, struct batch *b)
{
    size_t n = 0;
    uintptr_t lo = (uintptr_t)b->buf, hi = lo + NG_STORE_BATCH_BYTES;

    b->z = NULL;
    b->total = 0;
    for (size_t i = 0; i < b->nev; i++) {
        struct pending *p = &b->ev[i];
        uintptr_t a = (uintptr_t)p->data;
        /* an event bigger than the buffer is a batch of its own, kept inline */
        p->in_block = sess->bw && strchr("oie", p->kind) && (!p->len || (a >= lo && a < hi));
        if (!p->in_block)
            continue;
        if (n == 0)
            b->first = i;
        b->last = i;
        b->piece[n++] = (struct ng_block_piece){p->data, p->len};
        b->total += p->len;
    }
    if (n == 0 || b->total < NG_BLOCK_MIN) {
        for (size_t i = 0; i < b->nev; i++)
            b->ev[i].in_block = 0;
        return 0;
    }
    return ng_block_compress(sess->bw, b->piece, n, &b->z, &b->zlen);
}

/* Chain the batch's events onto the head left by the batch before, pack
 * its block. Batches are prepared one at a time, in their order. */
static void prepare(struct ng_session *sess, struct batch *b)
{
    for (size_t i = 0; i < b->nev; i++) {
        struct pending *p = &b->ev[i];
        ng_chain_event_hash(sess->id, p->seq, p->t_ns, p->kind, p->data, p->len, sess->whead,
                            p->hash);
        memcpy(sess->whead, p->hash, NG_HASH_LEN);
    }
    memcpy(b->head, sess->whead, NG_HASH_LEN);
    b->err = pack_block(sess, b);
}

/* ---- the worker ------------------------------------------------------------ */

static void *worker_main(void *arg)
{
    struct ng_session *sess = arg;
    struct worker *w = &sess->wk;

    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->job && w->ckpt != 1 && !w->stop)
            pthread_cond_wait(&w->cv, &w->mu);
        struct batch *b = w->job;
        if (b) { /* first: the relay may be waiting for it */
            pthread_mutex_unlock(&w->mu);
            prepare(sess, b);
            pthread_mutex_lock(&w->mu);
            w->job = NULL;
            pthread_cond_broadcast(&w->cv);
        } else if (w->ckpt == 1) {
            w->ckpt = 2;
            pthread_mutex_unlock(&w->mu);
            /* SQLite's automatic checkpoint (the WAL copied into the
             * database, with its fdatasyncs): PASSIVE never waits for the
             * relay's connection, which goes on appending. */
            (void)sqlite3_wal_checkpoint_v2(w->cdb, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
            pthread_mutex_lock(&w->mu);
            w->ckpt = 0;
        } else {
            break; /* stopped, nothing left */
        }
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* The store's WAL hook, on the relay's thread after a commit. While one
 * runs, none is asked for: the WAL restarts after it, and a commit made
 * meanwhile asks again if it has not. */
static int ckpt_handoff(void *ctx)
{
    struct worker *w = ctx;

    pthread_mutex_lock(&w->mu);
    if (!w->ckpt) {
        w->ckpt = 1;
        pthread_cond_signal(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
    return 1;
}

/* Started at the first full batch of a session allowed one, so a session
 * that never fills a batch never has a second thread. With every signal
 * but SIGSYS blocked: the recorder takes its signals through its signalfd. 0 when
 * running; else batches are written on the caller's thread. */
static int worker_start(struct ng_session *sess)
{
    struct worker *w = &sess->wk;
    sigset_t all, old;

    if (w->state != 1)
        return w->state == 2 ? 0 : -ENOSYS;
    w->state = -1;
    if (pthread_mutex_init(&w->mu, NULL) != 0)
        return -ENOMEM;
    if (pthread_cond_init(&w->cv, NULL) != 0) {
        pthread_mutex_destroy(&w->mu);
        return -ENOMEM;
    }
    sigfillset(&all);
    /* but not SIGSYS: a call the recorder's filter refuses traps, and its
     * handler makes it fail with EPERM; blocked, the kernel would kill the
     * process instead (docs/security.md "A refused call fails") */
    sigdelset(&all, SIGSYS);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int e = pthread_create(&w->thread, NULL, worker_main, sess);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (e != 0) {
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->mu);
        return -e;
    }
    w->state = 2;
    /* Its checkpoints, when the store is a file no other session of this
     * process checkpoints through; without a connection the relay's own
     * connection checkpoints as before. */
    if (!sess->store->ckpt_handoff && ng_store_open_peer(sess->store, &w->cdb) == 0) {
        sess->store->ckpt_ctx = w;
        sess->store->ckpt_handoff = ckpt_handoff;
    }
    return 0;
}

/* Until the worker holds no batch. */
static void worker_wait(struct ng_session *sess)
{
    struct worker *w = &sess->wk;

    if (w->state != 2)
        return;
    pthread_mutex_lock(&w->mu);
    while (w->job)
        pthread_cond_wait(&w->cv, &w->mu);
    pthread_mutex_unlock(&w->mu);
}

static void worker_submit(struct ng_session *sess, struct batch *b)
{
    struct worker *w = &sess->wk;

    pthread_mutex_lock(&w->mu);
    w->job = b;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static void worker_stop(struct ng_session *sess)
{
    struct worker *w = &sess->wk;

    if (w->state == 2) {
        if (sess->store->ckpt_ctx == w) {
            sess->store->ckpt_handoff = NULL;
            sess->store->ckpt_ctx = NULL;
        }
        pthread_mutex_lock(&w->mu);
        w->stop = 1;
        pthread_cond_broadcast(&w->cv);
        pthread_mutex_unlock(&w->mu);
        (void)pthread_join(w->thread, NULL);
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->mu);
        sqlite3_close_v2(w->cdb);
        w->cdb = NULL;
    }
    w->state = 0;
}

/* ---- committing (the recorder's thread, the only one using SQLite) ------- */

static int insert_block(struct ng_session *sess, const struct batch *b)
{
    sqlite3_stmt *st = sess->blk_ins;

    if (!b->z)
        return 0;
    sqlite3_reset(st);
    sqlite3_bind_blob(st, 1, sess->id, NG_STORE_ID_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, b->ev[b->first].seq);
    sqlite3_bind_int64(st, 3, b->ev[b->last].seq);
    sqlite3_bind_int64(st, 4, (int64_t)b->total);
    sqlite3_bind_blob(st, 5, b->z, (int)b->zlen, SQLITE_STATIC);
    int r = ng_store_errno(sess->store->db, sqlite3_step(st));
    sqlite3_reset(st);
    return r;
}

/* A prepared batch (and the end row) in one transaction; on success what
 * a seal may cover moves on. */
static int commit(struct ng_session *sess, const struct batch *b, const struct end_row *end)
{
    struct ng_store *s = sess->store;
    int r = b->err;

    if (r < 0 || (b->nev == 0 && !end))
        return r;
    r = ng_store_exec(s, "BEGIN IMMEDIATE");
    if (r == 0)
        r = insert_block(sess, b);
    for (size_t i = 0; r == 0 && i < b->nev; i++) {
        r = insert_event(sess, &b->ev[i]);
        if (r == 0 && b->ev[i].kind == 'c')
            r = index_command(sess, &b->ev[i]);
    }
    if (r == 0 && end)
        r = insert_end(sess, end);
    if (r == 0)
        r = ng_store_exec(s, "COMMIT");
    if (r < 0) {
        ng_store_rollback(s);
        return r;
    }
    if (b->nev) {
        sess->cseq = b->ev[b->nev - 1].seq;
        memcpy(sess->chead, b->head, NG_HASH_LEN);
    }
    return 0;
}

/* A batch failed: nothing of it, nor of what was queued after it, is kept;
 * the session falls back to what was committed and the error sticks. */
static int fail(struct ng_session *sess, int r)
{
    worker_wait(sess);
    sess->fly = NULL;
    batch_reset(&sess->bat[0]);
    batch_reset(&sess->bat[1]);
    sess->open = 0;
    sess->err = r;
    sess->seq = sess->cseq;
    memcpy(sess->whead, sess->chead, NG_HASH_LEN);
    return r;
}

/* Commit the batch handed to the worker, once it is prepared. */
static int land(struct ng_session *sess)
{
    struct batch *b = sess->fly;

    if (!b)
        return 0;
    worker_wait(sess);
    sess->fly = NULL;
    int r = commit(sess, b, NULL);
    batch_reset(b);
    return r < 0 ? fail(sess, r) : 0;
}

/* Everything queued written before this returns: a flush, the end, one
 * event bigger than a batch. */
static int write_now(struct ng_session *sess, const struct end_row *end)
{
    struct batch *b = sess->cur;
    int r = land(sess);

    if (r < 0 && !end)
        return r;
    sess->open = 0;
    if (b->nev == 0 && !end)
        return 0;
    prepare(sess, b);
    r = commit(sess, b, end);
    batch_reset(b);
    return r < 0 ? fail(sess, r) : 0;
}

/* The current batch is full. With a worker, it is handed over and the
 * batch before it committed meanwhile; without, written here. */
static int rotate(struct ng_session *sess)
{
    struct batch *b = sess->cur, *prev;

    sess->open = 0;
    if (b->nev == 0)
        return 0;
    if (worker_start(sess) < 0)
        return write_now(sess, NULL);
    worker_wait(sess);
    prev = sess->fly;
    sess->fly = b;
    sess->cur = b == &sess->bat[0] ? &sess->bat[1] : &sess->bat[0];
    worker_submit(sess, b);
    if (!prev)
        return 0;
    int r = commit(sess, prev, NULL);
    batch_reset(prev); /* prev is sess->cur now */
    return r < 0 ? fail(sess, r) : 0;
}

/* Assign seq and time, queue; the hash is chained when the batch is
 * prepared (output may still grow, see NG_COALESCE_NS). data must stay
 * valid until the next write when it does not point into the batch. */
static void queue(struct ng_session *sess, char kind, const uint8_t *data, size_t len, int64_t t)
{
    struct pending *p = &sess->cur->ev[sess->cur->nev++];

    p->seq = ++sess->seq;
    p->t_ns = t > 0 ? t : 0;
    p->kind = kind;
    p->data = data;
    p->len = len;
    sess->open = 1;
}

/* Does this output join the open event (same kind, within its time and
 * size, its bytes the last ones in the buffer)? */
static int joins(const struct ng_session *sess, char kind, size_t len, int64_t t)
{
    const struct batch *b = sess->cur;

    if (!sess->open || b->nev == 0)
        return 0;
    const struct pending *p = &b->ev[b->nev - 1];

    return (kind == 'o' || kind == 'e') && p->kind == kind && t - p->t_ns <= sess->coalesce_ns &&
           p->len + len <= NG_COALESCE_MAX && b->used + len <= NG_STORE_BATCH_BYTES &&
           p->data + p->len == b->buf + b->used;
}

int ng_store_event(struct ng_session *sess, char kind, const void *data, size_t len)
{
    int64_t t = ng_store_clock_ns(CLOCK_BOOTTIME) - sess->start_boot;
    struct batch *b = sess->cur;
    int r;

    if (sess->err)
        return sess->err;
    if (sess->ended || !kind || !strchr(NG_STORE_EVENT_KINDS, kind) || (len && !data))
        return -EINVAL;
    if (len > NG_STORE_EVENT_MAX)
        return -EMSGSIZE;
    if (joins(sess, kind, len, t)) {
        memcpy(b->buf + b->used, data, len);
        b->ev[b->nev - 1].len += len;
        b->used += len;
        return 0;
    }
    sess->open = 0;
    if (b->used + len > NG_STORE_BATCH_BYTES || b->nev == NG_STORE_BATCH_EVENTS) {
        if ((r = rotate(sess)) < 0)
            return r;
        b = sess->cur;
    }
    if (len > NG_STORE_BATCH_BYTES) {
        /* Bigger than the buffer: a batch of its own, straight from the
         * caller's memory, so memory stays bounded. */
        queue(sess, kind, data, len, t);
        return write_now(sess, NULL);
    }
    if (len)
        memcpy(b->buf + b->used, data, len);
    queue(sess, kind, b->buf + b->used, len, t);
    b->used += len;
    if (kind != 'o' && kind != 'e')
        sess->open = 0; /* only output grows */
    return 0;
}

int ng_store_flush(struct ng_session *sess)
{
    if (sess->err)
        return sess->err;
    return write_now(sess, NULL);
}

int ng_store_session_end(struct ng_session *sess, int exit_status, const char *end_reason)
{
    struct end_row end = {ng_store_clock_ns(CLOCK_REALTIME), exit_status,
                          end_reason ? end_reason : ""};
    int r;

    if (sess->ended)
        return -EINVAL;
    if (!sess->err)
        (void)write_now(sess, NULL); /* on failure: err set, state rolled back */
    json_t *o = json_pack("{s:I,s:i,s:s}", "end_ns", (json_int_t)end.end_ns, "exit", exit_status,
                          "reason", end.reason);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!text)
        return -EINVAL; /* end_reason not UTF-8, or out of memory */
    /* The exit goes on record even after a failed batch, chained onto what
     * was committed: the tail lost to the failure is simply absent. */
    batch_reset(sess->cur);
    sess->open = 0;
    queue(sess, 'x', (const uint8_t *)text, strlen(text),
          ng_store_clock_ns(CLOCK_BOOTTIME) - sess->start_boot);
    r = write_now(sess, &end);
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
    sqlite3_finalize(sess->blk_ins);
    worker_stop(sess);
    ng_block_writer_free(sess->bw);
    ng_store_live_release(sess->store, sess->id, sess->live_fd);
    free(sess->bat[0].buf);
    free(sess->bat[1].buf);
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

void ng_store_session_coalesce(struct ng_session *sess, int64_t ns)
{
    sess->open = 0;
    sess->coalesce_ns = ns;
}

void ng_store_session_async(struct ng_session *sess)
{
    if (sess->wk.state == 0)
        sess->wk.state = 1;
}

int64_t ng_store_session_seq(struct ng_session *sess, uint8_t head[NG_HASH_LEN])
{
    sess->open = 0;
    if (!head)
        return sess->seq;
    /* The head after the prepared batches, then the queued events chained
     * onto it here, without preparing them. */
    worker_wait(sess);
    memcpy(head, sess->whead, NG_HASH_LEN);
    for (size_t i = 0; i < sess->cur->nev; i++) {
        const struct pending *p = &sess->cur->ev[i];
        ng_chain_event_hash(sess->id, p->seq, p->t_ns, p->kind, p->data, p->len, head, head);
    }
    return sess->seq;
}
