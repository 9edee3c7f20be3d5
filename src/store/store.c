/* Opening the session store: the directory and file checks of security.md
 * ("database paths"), SQLite configuration for concurrent recorders and for
 * hostile reading, and the versioned schema (recording.md, integrity.md 1
 * and 6). */
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int ng_store_errno(sqlite3 *db, int rc)
{
    int sys = db ? sqlite3_system_errno(db) : 0;

    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
        return 0;
    case SQLITE_FULL:
        return -ENOSPC;
    case SQLITE_IOERR:
        return (sys == ENOSPC || sys == EDQUOT) ? -ENOSPC : -EIO;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_PROTOCOL: /* WAL locks that could not be taken, retried in vain */
        return -EBUSY;
    case SQLITE_NOMEM:
        return -ENOMEM;
    case SQLITE_READONLY:
        return -EROFS;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_FORMAT:
    case SQLITE_SCHEMA:
    case SQLITE_MISMATCH:
        return -EBADMSG;
    case SQLITE_CANTOPEN:
        return sys ? -sys : -ENOENT;
    case SQLITE_PERM:
    case SQLITE_AUTH:
        return -EPERM;
    case SQLITE_CONSTRAINT:
        return (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE) ? -EEXIST
                                                                                      : -EINVAL;
    case SQLITE_INTERRUPT:
        return -ETIMEDOUT;
    case SQLITE_TOOBIG:
        return -E2BIG;
    default:
        return -EIO;
    }
}

int64_t ng_store_clock_ns(clockid_t clk)
{
    struct timespec ts;

    if (clock_gettime(clk, &ts) < 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int ng_store_exec(struct ng_store *s, const char *sql)
{
    return ng_store_errno(s->db, sqlite3_exec(s->db, sql, NULL, NULL, NULL));
}

void ng_store_rollback(struct ng_store *s)
{
    /* Fails only when no transaction is open, which is then what we want. */
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

int ng_store_prepare(struct ng_store *s, const char *sql, sqlite3_stmt **ret)
{
    int rc = sqlite3_prepare_v2(s->db, sql, -1, ret, NULL);
    return rc == SQLITE_OK ? 0 : ng_store_errno(s->db, rc);
}

int ng_store_step(struct ng_store *s, sqlite3_stmt *st)
{
    s->step_deadline = ng_store_clock_ns(CLOCK_MONOTONIC) + NG_STORE_STEP_NS;
    return sqlite3_step(st);
}

/* Readers: a hostile file must not keep a statement running for ever. */
static int progress(void *arg)
{
    const struct ng_store *s = arg;
    return ng_store_clock_ns(CLOCK_MONOTONIC) > s->step_deadline;
}

static int pragma_int(struct ng_store *s, const char *sql, int *ret)
{
    sqlite3_stmt *st;
    int r = ng_store_prepare(s, sql, &st);

    if (r < 0)
        return r;
    int rc = ng_store_step(s, st);
    if (rc == SQLITE_ROW)
        *ret = sqlite3_column_int(st, 0);
    else
        r = rc == SQLITE_DONE ? -EBADMSG : ng_store_errno(s->db, rc);
    sqlite3_finalize(st);
    return r;
}

/* ---- schema ------------------------------------------------------------- */

static int latest_version(void)
{
    return ng_store_migrations[ng_store_nmigrations - 1].version;
}

static int is_cache(const char *name)
{
    return name && strncmp(name, "cache_", 6) == 0;
}

/* The reference side of the schema comparison: the rows of an in-memory
 * database the migrations were run in (st), or the build's compiled rows. */
struct ref_rows {
    sqlite3_stmt *st; /* NULL: ng_store_schema_rows */
    size_t next;      /* the compiled rows: the one after the current */
    int rc;           /* SQLITE_ROW, SQLITE_DONE or an error */
};

static void ref_step(struct ref_rows *b)
{
    if (b->st)
        b->rc = sqlite3_step(b->st);
    else if (b->next < ng_store_nschema_rows)
        b->next++, b->rc = SQLITE_ROW;
    else
        b->rc = SQLITE_DONE;
}

/* Column col of the current reference row: NULL for an SQL NULL. */
static const char *ref_text(const struct ref_rows *b, int col, int *len)
{
    const char *t;

    if (b->st) {
        t = (const char *)sqlite3_column_text(b->st, col);
        *len = sqlite3_column_bytes(b->st, col);
        return t;
    }
    const struct ng_store_schema_row *row = &ng_store_schema_rows[b->next - 1];
    t = col == 0 ? row->type : col == 1 ? row->name : col == 2 ? row->tbl_name : row->sql;
    *len = t ? (int)strlen(t) : 0;
    return t;
}

/* The file's column is the reference's text exactly (a BLOB of the same
 * bytes is not: every reference value is TEXT or NULL). */
static int same_text(sqlite3_stmt *a, const struct ref_rows *b, int col)
{
    int lb, type = sqlite3_column_type(a, col);
    const char *pb = ref_text(b, col, &lb);

    if (!pb)
        return type == SQLITE_NULL;
    if (type != SQLITE_TEXT)
        return 0;
    const void *pa = sqlite3_column_blob(a, col);
    int la = sqlite3_column_bytes(a, col);
    return la == lb && (la == 0 || memcmp(pa, pb, (size_t)la) == 0);
}

/* The command search index (schema 4) is an FTS5 table whose shadow tables
 * SQLite itself defines, and their text may differ between SQLite versions:
 * such a difference (or a part missing or extra) is no reason to refuse the
 * store, only to leave the index unused (a store copied to an auditor's
 * machine still opens). Nothing ever reads a cache_commands object whose
 * text is not exactly the shipped one. Sets *bad; 1 for such a name. */
static int cmd_index_part(const char *name, int *bad)
{
    if (!name || strncmp(name, "cache_commands", 14) != 0)
        return 0;
    *bad = 1;
    return 1;
}

/* Merge the two name-ordered lists: every object must be the shipped one,
 * except cache_* tables and indexes, which may be extra or missing. No view
 * or trigger is accepted anywhere (integrity.md 6). */
static int compare_schema(struct ng_store *s, struct ref_rows *b)
{
    sqlite3_stmt *a = NULL;
    int r = ng_store_prepare(s, NG_STORE_SCHEMA_ROWS, &a);
    int ra, bad_index = 0, lb;

    if (r < 0)
        return r;
    ra = ng_store_step(s, a);
    ref_step(b);
    while (r == 0 && (ra == SQLITE_ROW || b->rc == SQLITE_ROW)) {
        const char *na = ra == SQLITE_ROW ? (const char *)sqlite3_column_text(a, 1) : NULL;
        const char *nb = b->rc == SQLITE_ROW ? ref_text(b, 1, &lb) : NULL;
        int c = !na ? 1 : !nb ? -1 : strcmp(na, nb);
        if (c == 0) {
            for (int i = 0; i < 4; i++)
                if (!same_text(a, b, i) && !cmd_index_part(na, &bad_index))
                    r = -EBADMSG;
            ra = ng_store_step(s, a);
            ref_step(b);
        } else if (c < 0) { /* only in the file: a cache table or index */
            const char *type = (const char *)sqlite3_column_text(a, 0);
            if (!is_cache(na) || !type || (strcmp(type, "table") && strcmp(type, "index")))
                r = -EBADMSG;
            (void)cmd_index_part(na, &bad_index);
            ra = ng_store_step(s, a);
        } else { /* only shipped: a missing cache table is rebuilt data */
            if (!is_cache(nb))
                r = -EBADMSG;
            (void)cmd_index_part(nb, &bad_index);
            ref_step(b);
        }
    }
    if (r == 0 && (ra != SQLITE_DONE || b->rc != SQLITE_DONE))
        r = ra != SQLITE_DONE ? ng_store_errno(s->db, ra) : -ENOMEM;
    s->cmd_index = !bad_index;
    sqlite3_finalize(a);
    return r;
}

/* Build the shipped schema of this version in memory and compare. */
static int check_schema_built(struct ng_store *s, int version)
{
    sqlite3 *ref = NULL;
    struct ref_rows b = {0};
    int r = 0;

    if (sqlite3_open_v2(":memory:", &ref, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        sqlite3_close(ref);
        return -ENOMEM;
    }
    for (size_t i = 0; i < ng_store_nmigrations && r == 0; i++)
        if (ng_store_migrations[i].version <= version &&
            sqlite3_exec(ref, ng_store_migrations[i].sql, NULL, NULL, NULL) != SQLITE_OK)
            r = -ENOMEM;
    if (r == 0 && sqlite3_prepare_v2(ref, NG_STORE_SCHEMA_ROWS, -1, &b.st, NULL) != SQLITE_OK)
        r = -ENOMEM;
    if (r == 0)
        r = compare_schema(s, &b);
    if (version < 4) /* the command index came with schema 4 */
        s->cmd_index = 0;
    sqlite3_finalize(b.st);
    sqlite3_close(ref);
    return r;
}

/* The newest version is first compared with the rows this build's SQLite
 * made of it (compiled in): running every migration in memory was most of
 * the check's cost and about a tenth of a session's start. That path only
 * ever accepts; anything it does not accept whole (a store another SQLite
 * wrote, whose text may differ; a command index in another form; an older
 * version; a hostile file) gets the full check, which decides. */
static int check_schema(struct ng_store *s, int version)
{
    struct ref_rows b = {0};

    s->schema_fast =
        version == ng_store_schema_rows_version && compare_schema(s, &b) == 0 && s->cmd_index;
    if (s->schema_fast)
        return 0;
    return check_schema_built(s, version);
}

static int read_version(struct ng_store *s, int *ret_version)
{
    int appid = 0, version = 0;
    int r = pragma_int(s, "PRAGMA application_id", &appid);

    if (r == 0)
        r = pragma_int(s, "PRAGMA user_version", &version);
    if (r < 0)
        return r;
    if (appid != NG_STORE_APPLICATION_ID && !(appid == 0 && version == 0))
        return -EBADMSG;
    if (version > latest_version())
        return -EPROTONOSUPPORT;
    if (version < 0)
        return -EBADMSG;
    *ret_version = version;
    return 0;
}

/* Apply every shipped migration above the file's version, in one write
 * transaction; the version is read again under the lock, since several
 * recorders may open a new store at once. Migrations only add objects. */
static int migrate(struct ng_store *s)
{
    int version, objects = 0;
    int r = ng_store_exec(s, "BEGIN IMMEDIATE");

    if (r < 0)
        return r;
    r = read_version(s, &version);
    if (r == 0 && version == 0) {
        r = pragma_int(s, "SELECT count(*) FROM sqlite_schema", &objects);
        if (r == 0 && objects != 0)
            r = -EBADMSG; /* some other application's database */
    }
    /* Only a store that is exactly a shipped schema is changed. */
    if (r == 0 && version > 0)
        r = check_schema(s, version);
    /* Version 2 widens a CHECK constraint through sqlite_schema (the
     * documented way: schema/002-*.sql), which defensive mode forbids; it is
     * off only while our own migration text runs on our own store. */
    if (r == 0 && sqlite3_db_config(s->db, SQLITE_DBCONFIG_DEFENSIVE, 0, NULL) != SQLITE_OK)
        r = -EIO;
    for (size_t i = 0; r == 0 && i < ng_store_nmigrations; i++)
        if (ng_store_migrations[i].version > version)
            r = ng_store_exec(s, ng_store_migrations[i].sql);
    if (sqlite3_db_config(s->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL) != SQLITE_OK && r == 0)
        r = -EIO;
    if (r == 0)
        r = ng_store_exec(s, "COMMIT");
    if (r < 0)
        ng_store_rollback(s);
    return r;
}

static int ensure_schema(struct ng_store *s)
{
    int version;
    int r = read_version(s, &version);

    if (r == 0 && version < latest_version())
        r = migrate(s);
    if (r == 0)
        r = read_version(s, &version);
    if (r == 0)
        r = check_schema(s, version);
    if (r == 0)
        s->version = version;
    return r;
}

/* ---- opening ------------------------------------------------------------ */

/* Owned by root (or by us: unprivileged tests) and not writable by group or
 * other: nobody else can swap the file underneath. */
static int check_owner_mode(const struct stat *st)
{
    if (st->st_uid != 0 && st->st_uid != geteuid())
        return -EPERM;
    if (st->st_mode & (S_IWGRP | S_IWOTH))
        return -EPERM;
    return 0;
}

static int open_dir(const char *path, int create, int *ret_fd, struct stat *ret_st)
{
    char *copy = strdup(path);
    int fd, r = 0;
    struct stat st;

    if (!copy)
        return -ENOMEM;
    const char *dir = dirname(copy);
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create) {
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
            r = -errno;
        else
            fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (r == 0 && fd < 0)
        r = errno == ENOTDIR ? -ELOOP : -errno;
    free(copy);
    if (r == 0 && fstat(fd, &st) < 0)
        r = -errno;
    if (r == 0)
        r = check_owner_mode(&st);
    if (r < 0) {
        ng_closep(&fd);
        return r;
    }
    *ret_fd = fd;
    *ret_st = st;
    return 0;
}

/* A reviewers' group is configured by giving the directory that group and
 * mode 0750 (recording.md): files created in it get the group, readable by
 * it. SQLite gives the -wal and -shm files the database file's owner and
 * mode. */
int ng_store_share_with_dir(int fd, const struct stat *dir, mode_t private_mode)
{
    mode_t mode = private_mode;

    if (dir->st_mode & S_IRGRP)
        mode |= S_IRGRP | ((mode & S_IXUSR) ? S_IXGRP : 0);

    if (geteuid() == 0 && fchown(fd, (uid_t)-1, dir->st_gid) < 0)
        return -errno;
    return fchmod(fd, mode) < 0 ? -errno : 0;
}

/* Create the file ourselves with O_NOFOLLOW and check it on the descriptor;
 * SQLite then opens the same path with SQLITE_OPEN_NOFOLLOW. Our descriptor
 * is closed before SQLite opens the file: closing a second descriptor later
 * would drop SQLite's POSIX locks. The directory check above is what keeps
 * the path from changing in between. */
static int check_db_file(int dirfd, const struct stat *dir, const char *path, struct stat *ret)
{
    char *copy = strdup(path);
    int r = 0, fd, created = 1;

    if (!copy)
        return -ENOMEM;
    const char *base = basename(copy);
    int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK;
    fd = openat(dirfd, base, flags | O_CREAT | O_EXCL, 0600);
    if (fd < 0 && errno == EEXIST) {
        created = 0;
        fd = openat(dirfd, base, flags);
    }
    free(copy);
    if (fd < 0)
        return -errno;
    if (created)
        r = ng_store_share_with_dir(fd, dir, 0600);
    if (r == 0 && fstat(fd, ret) < 0)
        r = -errno;
    else if (r == 0 && !S_ISREG(ret->st_mode))
        r = -EINVAL;
    else if (r == 0)
        r = check_owner_mode(ret);
    close(fd);
    return r;
}

static void set_reader_limits(sqlite3 *db)
{
    sqlite3_limit(db, SQLITE_LIMIT_LENGTH, 16 * 1024 * 1024);
    sqlite3_limit(db, SQLITE_LIMIT_SQL_LENGTH, 100000);
    sqlite3_limit(db, SQLITE_LIMIT_COLUMN, 200);
    sqlite3_limit(db, SQLITE_LIMIT_EXPR_DEPTH, 100);
    sqlite3_limit(db, SQLITE_LIMIT_COMPOUND_SELECT, 4);
    sqlite3_limit(db, SQLITE_LIMIT_VDBE_OP, 100000);
    sqlite3_limit(db, SQLITE_LIMIT_FUNCTION_ARG, 8);
    sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 0);
    sqlite3_limit(db, SQLITE_LIMIT_LIKE_PATTERN_LENGTH, 1000);
    sqlite3_limit(db, SQLITE_LIMIT_VARIABLE_NUMBER, 32);
    sqlite3_limit(db, SQLITE_LIMIT_TRIGGER_DEPTH, 1);
}

/* Settings both kinds of connection get: nothing in the file may run code or
 * corrupt it through the SQL we issue. */
static int harden_connection(struct ng_store *s)
{
    sqlite3 *db = s->db;

    if (sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL) != SQLITE_OK ||
        sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL) != SQLITE_OK ||
        sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, NULL) != SQLITE_OK ||
        sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_VIEW, 0, NULL) != SQLITE_OK ||
        sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, NULL) != SQLITE_OK)
        return -EIO;
    sqlite3_extended_result_codes(db, 1);
    return ng_store_exec(s, "PRAGMA mmap_size=0; PRAGMA cell_size_check=ON");
}

static int open_sqlite(struct ng_store *s, const char *path, int flags, const struct stat *want)
{
    struct stat st;
    int rc = sqlite3_open_v2(path, &s->db, flags | SQLITE_OPEN_NOFOLLOW, NULL);

    if (rc != SQLITE_OK)
        return s->db ? ng_store_errno(s->db, rc) : -ENOMEM;
    /* The file SQLite opened is the one checked (path unchanged meanwhile). */
    if (lstat(path, &st) < 0)
        return -errno;
    if (st.st_dev != want->st_dev || st.st_ino != want->st_ino)
        return -ESTALE;
    s->dev = st.st_dev; /* the file opened: peers, and followers' rotation check */
    s->ino = st.st_ino;
    return harden_connection(s);
}

static int store_new(struct ng_store **ret)
{
    struct ng_store *s = calloc(1, sizeof(*s));

    if (!s)
        return -ENOMEM;
    s->live_dirfd = -1;
    s->step_deadline = INT64_MAX;
    int r = ng_chain_init();
    if (r < 0) {
        free(s);
        return r;
    }
    *ret = s;
    return 0;
}

/* SQLite's own automatic checkpoint (at 1000 pages, passive), counting the
 * pages this connection wrote for ng_store_close. A session's batch thread
 * may take it (store_record.c), but the WAL restarts from its beginning
 * only when a writer finds it wholly copied, which a checkpoint running
 * beside a fast writer never leaves: from three times that size on this
 * connection checkpoints itself between its transactions (the thread has
 * copied most of it by then), so the WAL stays bounded. */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
    struct ng_store *s = arg;

    /* what this connection wrote: the WAL grew by it, or restarted with it */
    s->wal_written += pages >= s->wal_pages ? pages - s->wal_pages : pages;
    s->wal_pages = pages;
    if (pages < NG_STORE_WAL_PAGES)
        return SQLITE_OK;
    if (pages < 3 * NG_STORE_WAL_PAGES && s->ckpt_handoff && s->ckpt_handoff(s->ckpt_ctx))
        return SQLITE_OK;
    (void)sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    return SQLITE_OK;
}

static int configure_recorder(struct ng_store *s)
{
    int one = 1;
    sqlite3_stmt *st;

    sqlite3_busy_timeout(s->db, NG_STORE_BUSY_MS);
    /* Readers open read-only: the -wal and -shm files must stay. Set
     * first, so that a recorder that gives up here (a lock held by someone
     * else) does not delete them as it closes, locking readers out. */
    if (sqlite3_file_control(s->db, "main", SQLITE_FCNTL_PERSIST_WAL, &one) != SQLITE_OK)
        return -EIO;
    /* A new store's pages are 8 KiB (an existing one keeps its own, and
     * this is a no-op there): a recorder writes its blocks page by page,
     * three system calls a page into the WAL and one back out into the
     * database, and at 8 KiB pipe-mode recording took about 10 % less time
     * and the file was no larger (docs/benchmarks.md). */
    int r = ng_store_exec(s, "PRAGMA page_size=" NG_STORE_PAGE_SIZE);
    if (r < 0)
        return r;
    /* journal_mode answers with the mode in force: it must be wal. */
    r = ng_store_prepare(s, "PRAGMA journal_mode=WAL", &st);
    if (r < 0)
        return r;
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW || !sqlite3_column_text(st, 0) ||
        strcmp((const char *)sqlite3_column_text(st, 0), "wal") != 0)
        r = rc == SQLITE_ROW ? -EIO : ng_store_errno(s->db, rc);
    sqlite3_finalize(st);
    if (r < 0)
        return r;
    /* NORMAL in WAL mode: a commit survives the recorder being killed (the
     * failure that matters: the session tail), and recording does not wait
     * for an fsync per batch; a power loss may lose the last batches, which
     * the unsealed tail and the audit trail's checkpoints then show. */
    /* A recorder appends; a small fixed page cache keeps its memory flat
     * however long the session runs (benchmarks.md: 1 GB vs 1 MB). */
    r = ng_store_exec(s, "PRAGMA synchronous=NORMAL; PRAGMA cache_size=-256");
    if (r == 0)
        sqlite3_wal_hook(s->db, wal_hook, s);
    return r;
}

static int open_once(const char *path, struct ng_store **ret)
{
    struct ng_store *s;
    struct stat st, dir;
    int dirfd = -1;
    int r = store_new(&s);

    if (r < 0)
        return r;
    r = open_dir(path, 1, &dirfd, &dir);
    if (r == 0)
        r = check_db_file(dirfd, &dir, path, &st);
    ng_closep(&dirfd);
    if (r == 0)
        r = open_sqlite(s, path, SQLITE_OPEN_READWRITE, &st);
    if (r == 0)
        r = configure_recorder(s);
    if (r == 0)
        r = ensure_schema(s);
    if (r == 0)
        r = ng_store_live_open_dir(path, &dir, &s->live_dirfd);
    if (r < 0) {
        ng_store_close(s);
        return r;
    }
    *ret = s;
    return 0;
}

int ng_store_open_peer(struct ng_store *s, sqlite3 **ret)
{
    struct ng_store peer = {.db = NULL};
    struct stat want = {.st_dev = s->dev, .st_ino = s->ino};
    const char *path = sqlite3_db_filename(s->db, "main");
    int one = 1;
    int r = path && *path && !s->readonly ? 0 : -EINVAL;

    if (r == 0)
        r = open_sqlite(&peer, path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, &want);
    /* never the one to delete the WAL and -shm, whatever closes last */
    if (r == 0 &&
        sqlite3_file_control(peer.db, "main", SQLITE_FCNTL_PERSIST_WAL, &one) != SQLITE_OK)
        r = -EIO;
    if (r == 0)
        r = ng_store_exec(&peer, "PRAGMA synchronous=NORMAL");
    if (r < 0) {
        sqlite3_close_v2(peer.db);
        return r;
    }
    *ret = peer.db;
    return 0;
}

/* Recorders creating a store at the same moment: SQLite may answer one of
 * them SQLITE_BUSY at once (while the new file turns to WAL, where waiting
 * could deadlock) rather than after its busy timeout; that recorder lost
 * its session (t_follow, two sessions started together on a new store:
 * about one in three on an idle machine). A quick refusal is tried again;
 * a lock held past the busy timeout (a reviewer's) is not. */
int ng_store_open(const char *path, struct ng_store **ret)
{
    for (int i = 1;; i++) {
        int64_t t0 = ng_store_clock_ns(CLOCK_MONOTONIC);
        int r = open_once(path, ret);
        if (r != -EBUSY || i == NG_STORE_OPEN_TRIES ||
            ng_store_clock_ns(CLOCK_MONOTONIC) - t0 > NG_STORE_QUICK_BUSY_NS)
            return r;
        struct timespec ts = {0, 20L * 1000 * 1000 * i};
        nanosleep(&ts, NULL);
    }
}

int ng_store_open_readonly(const char *path, struct ng_store **ret)
{
    struct ng_store *s;
    struct stat st;
    int version = 0;
    int r = store_new(&s);

    if (r < 0)
        return r;
    s->readonly = 1;
    if (lstat(path, &st) < 0)
        r = -errno;
    else if (S_ISLNK(st.st_mode))
        r = -ELOOP;
    else if (!S_ISREG(st.st_mode))
        r = -EINVAL;
    if (r == 0)
        r = open_sqlite(s, path, SQLITE_OPEN_READONLY, &st);
    if (r == 0) {
        set_reader_limits(s->db);
        /* Recorders commit all the time: a reader waits for a moment of
         * WAL-index change rather than fail with "database is locked". */
        sqlite3_busy_timeout(s->db, NG_STORE_BUSY_MS);
        sqlite3_progress_handler(s->db, 10000, progress, s);
        r = ng_store_exec(s, "PRAGMA query_only=ON");
    }
    if (r == 0)
        r = read_version(s, &version);
    if (r == 0 && version == 0)
        r = -EBADMSG; /* empty: not a store */
    if (r == 0)
        r = check_schema(s, version);
    if (r == 0) {
        s->version = version;
        /* Without the lock directory no session is open. */
        if (ng_store_live_open_dir(path, NULL, &s->live_dirfd) < 0)
            s->live_dirfd = -1;
    }
    if (r < 0) {
        ng_store_close(s);
        return r;
    }
    *ret = s;
    return 0;
}

/* A recorder that wrote a lot (a quarter of the WAL's usual size or more;
 * short sessions do not pay for it) leaves no WAL of megabytes behind: its
 * frames go into the database and the file is cut to nothing, unless
 * another process uses the store at this moment (no waiting). Otherwise
 * SQLite's own checkpoint as the last connection closes copies the WAL into
 * the database as before (so a copy of the database file alone holds every
 * ended session). */
static void close_wal(struct ng_store *s)
{
    if (s->wal_written < NG_STORE_WAL_PAGES / 4)
        return;
    sqlite3_busy_timeout(s->db, 0);
    (void)sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
}

void ng_store_close(struct ng_store *s)
{
    if (!s)
        return;
    if (!s->readonly && s->db && s->wal_written > 0)
        close_wal(s);
    sqlite3_close_v2(s->db);
    ng_closep(&s->live_dirfd);
    free(s);
}

int ng_store_version(const struct ng_store *s)
{
    return s->version;
}

void ng_store_file_id(const struct ng_store *s, uint64_t *dev, uint64_t *ino)
{
    *dev = s->dev;
    *ino = s->ino;
}
