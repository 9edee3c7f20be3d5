/* nsgate export -f jsonl --follow [SESSION] (cli.md, stream.h): the store's
 * evidence as it is sealed, for a shipper. A plain reader: privileges are
 * dropped first (a shipping service runs as root or as a member of the
 * reviewers' group). With --cursor FILE the position survives restarts:
 * after each poll the output is flushed (and, for -o FILE, synced) before
 * the cursor is replaced, and a restarted follower cuts -o FILE back to the
 * length the cursor names, so every record is written once. */
#include "cmd_store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "nsgate/stream.h"

/* How often the store is looked at: well under the shortest seal_interval
 * a policy allows (100 ms .. 60 s), so the stream is never more than one
 * seal interval and one poll behind. */
#define POLL_NS    (50 * 1000 * 1000L)
#define CURSOR_MAX (16 * 1024 * 1024)
/* A store file just created by a recorder is empty until its schema is
 * committed (a moment; seconds on a loaded machine): polls before an empty
 * or partial file is said to be no store (10 s). */
#define NEW_STORE_POLLS 200

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

struct sink {
    FILE *f;
    uint64_t len;
};

static int sink_write(void *arg, const void *buf, size_t len)
{
    struct sink *k = arg;

    if (fwrite(buf, 1, len, k->f) != len)
        return -EIO;
    k->len += len;
    return 0;
}

static int read_cursor(const char *path, char **ret, size_t *len)
{
    /* O_NONBLOCK: a FIFO planted as the cursor is refused, not waited on */
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    char *buf;

    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > CURSOR_MAX) {
        close(fd);
        return -EINVAL;
    }
    buf = malloc((size_t)st.st_size + 1);
    ssize_t n = buf ? read(fd, buf, (size_t)st.st_size) : -1;
    close(fd);
    if (n != st.st_size) {
        free(buf);
        return buf ? -EIO : -ENOMEM;
    }
    *ret = buf;
    *len = (size_t)n;
    return 0;
}

/* The cursor replaced atomically: a new file beside it, synced, renamed. */
static int write_cursor(const char *path, const struct ng_stream *st, uint64_t out_len)
{
    char tmp[4096], *text = NULL;
    size_t len = 0;
    int r = ng_stream_save(st, out_len, &text, &len), fd = -1;

    if (r == 0 && snprintf(tmp, sizeof(tmp), "%s.new", path) >= (int)sizeof(tmp))
        r = -ENAMETOOLONG;
    if (r == 0) {
        (void)unlink(tmp);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
            r = -errno;
    }
    if (r == 0 && (write(fd, text, len) != (ssize_t)len || fsync(fd) < 0))
        r = -EIO;
    if (fd >= 0 && close(fd) < 0 && r == 0)
        r = -errno;
    if (r == 0 && rename(tmp, path) < 0)
        r = -errno;
    free(text);
    return r;
}

/* -o FILE resumed: the file the cursor was written with, cut back to the
 * length it names (records written after the last cursor are written
 * again). */
static int resume_output(const char *path, uint64_t *len)
{
    int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    struct stat st;

    if (fd < 0 && errno == ENOENT) {
        /* moved away (rotated) since: the stream goes on in a new file */
        *len = 0;
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0640);
        if (fd < 0)
            ng_err("cannot create %s: %s", path, strerror(errno));
        return fd;
    }
    if (fd < 0) {
        ng_err("cannot open %s to resume: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
        (uint64_t)st.st_size < *len) {
        ng_err("cannot resume %s: %s", path,
               !S_ISREG(st.st_mode)     ? "not a regular file"
               : st.st_uid != geteuid() ? "owned by someone else"
                                        : "shorter than the cursor says (changed or replaced)");
        close(fd);
        return -1;
    }
    if (ftruncate(fd, (off_t)*len) < 0 || lseek(fd, 0, SEEK_END) < 0 || fcntl(fd, F_SETFL, 0) < 0) {
        ng_err("cannot resume %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* An existing -o FILE without a cursor is taken only when it is empty, a
 * regular file of ours: a follower killed after creating it and before its
 * first cursor left it so (there is nothing in it to overwrite). */
static int adopt_empty(const char *path)
{
    int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    struct stat st;

    if (fd < 0)
        return -1;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() || st.st_size != 0 ||
        fcntl(fd, F_SETFL, 0) < 0) {
        close(fd);
        errno = EEXIST;
        return -1;
    }
    return fd;
}

static int open_out(const struct ng_follow_opts *o, int resumed, uint64_t *len)
{
    int fd;

    if (!o->out)
        return dup(STDOUT_FILENO);
    if (resumed)
        return resume_output(o->out, len);
    fd = open(o->out, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0640);
    if (fd < 0 && errno == EEXIST && o->cursor)
        fd = adopt_empty(o->out);
    if (fd < 0)
        ng_err("cannot create %s: %s%s", o->out, strerror(errno),
               errno == EEXIST ? " (give --cursor FILE to resume a stream)" : "");
    return fd;
}

/* The position from --cursor FILE, if it exists: 0 (*resumed set) or an
 * exit status. */
static int load_cursor(const struct ng_follow_opts *o, struct ng_stream *st, int *resumed,
                       uint64_t *len)
{
    char *text = NULL;
    size_t n = 0;
    int r;

    *resumed = 0;
    if (!o->cursor)
        return 0;
    r = read_cursor(o->cursor, &text, &n);
    if (r == -ENOENT)
        return 0;
    if (r == 0)
        r = ng_stream_load(st, text, n, len);
    free(text);
    if (r == -ESRCH) {
        ng_err("cursor %s belongs to another root key or another session", o->cursor);
        return NG_EXIT_USAGE;
    }
    if (r < 0) {
        ng_err("cannot use cursor %s: %s", o->cursor,
               r == -EINVAL ? "not an nsgate stream cursor" : strerror(-r));
        return NG_EXIT_USAGE;
    }
    *resumed = 1;
    return 0;
}

static void nap(void)
{
    struct timespec ts = {0, POLL_NS};

    if (!stop)
        (void)nanosleep(&ts, NULL);
}

/* A follower: what it reads and where it writes. */
struct follower {
    const struct ng_follow_opts *o;
    uint8_t root[NG_FSKEY_PK_BYTES];
    struct ng_store *s;
    struct ng_stream *st;
    uint64_t dev, ino; /* the store file s is */
    struct sink k;
    size_t warned;
};

/* The file at the store's path now: 0 and its identity, or -errno. */
static int path_id(const char *path, uint64_t *dev, uint64_t *ino)
{
    struct stat sb;

    if (stat(path, &sb) < 0)
        return -errno;
    *dev = sb.st_dev;
    *ino = sb.st_ino;
    return 0;
}

/* One poll: write, flush, sync, move the cursor. 0 or an exit status. */
static int poll_once(struct follower *f)
{
    size_t wrote, bad;
    int r = ng_stream_poll(f->st, f->s, sink_write, &f->k, &wrote, &bad);

    if (r == 0 && wrote && (fflush(f->k.f) != 0 || (f->o->out && fdatasync(fileno(f->k.f)) < 0)))
        r = -EIO;
    if (r == 0 && wrote && f->o->cursor && (r = write_cursor(f->o->cursor, f->st, f->k.len)) < 0) {
        ng_err("cannot write cursor %s: %s", f->o->cursor, strerror(-r));
        return NG_EXIT_STORAGE;
    }
    if (r < 0 && r != -EBUSY) {
        ng_err("export --follow stopped: %s", strerror(-r));
        return NG_EXIT_STORAGE;
    }
    if (bad > f->warned)
        ng_warn("%zu session(s) could not be read (a damaged store?): left out", bad);
    f->warned = bad > f->warned ? bad : f->warned;
    return 0;
}

/* Following every session, a host that has not recorded yet has no store:
 * wait for it (a follower unit may start before the first session, or
 * during a rotation). One session is named, so its store must exist now.
 * The identity is the file the store opened (not the path's later), and
 * the path must still name it: replaced meanwhile, open again. */
static int open_store(struct follower *f)
{
    const char *db = f->o->src.db;
    uint64_t dev = 0, ino = 0;
    int r;

    if (f->o->session) {
        r = ng_cmd_store_open(db, &f->s);
        if (r == 0)
            ng_store_file_id(f->s, &f->dev, &f->ino);
        return r;
    }
    for (int young = 0;;) {
        while ((r = ng_store_open_readonly(db, &f->s)) == -ENOENT && !stop)
            nap();
        if (r == -ENOENT) /* stopped while waiting */
            return 0;
        if (r == -EBADMSG && young++ < NEW_STORE_POLLS && !stop) {
            nap(); /* just created: its schema comes with its first commit */
            continue;
        }
        if (r < 0)
            return ng_cmd_store_open(db, &f->s); /* says why, in the usual words */
        ng_store_file_id(f->s, &f->dev, &f->ino);
        if (path_id(db, &dev, &ino) == 0 && dev == f->dev && ino == f->ino)
            return 0;
        ng_store_close(f->s); /* replaced since it was opened: again */
        f->s = NULL;
    }
}

/* A new stream of the store just opened: a new label, position zero. */
static int restart_stream(struct follower *f)
{
    ng_stream_free(f->st);
    f->st = NULL;
    if (ng_stream_new(f->root, NULL, &f->st) < 0)
        return NG_EXIT_INTERNAL;
    ng_stream_set_origin(f->st, f->dev, f->ino);
    return 0;
}

/* The store's path names another file (rotated: moved aside, a new store
 * made there): what is sealed in the old one is written with a last poll,
 * then the new store is followed from its start, as a new stream (its
 * ledger begins again, so it gets a store label of its own). */
static int rotate(struct follower *f)
{
    uint64_t dev = 0, ino = 0;
    int rc;

    if (path_id(f->o->src.db, &dev, &ino) == 0 && dev == f->dev && ino == f->ino)
        return 0;
    if ((rc = poll_once(f)) != 0)
        return rc;
    ng_warn("%s was replaced (the store rotated): following the new store", f->o->src.db);
    ng_store_close(f->s);
    f->s = NULL;
    if ((rc = open_store(f)) != 0 || !f->s || (rc = restart_stream(f)) != 0)
        return rc;
    if (f->o->cursor && (rc = write_cursor(f->o->cursor, f->st, f->k.len)) < 0) {
        ng_err("cannot write cursor %s: %s", f->o->cursor, strerror(-rc));
        return NG_EXIT_STORAGE;
    }
    return 0;
}

/* Poll until the session is complete or a signal says stop (a stop request
 * still gets one last poll). */
static int follow_loop(struct follower *f)
{
    for (;;) {
        int last = stop;
        int rc = poll_once(f);
        if (rc != 0 || ng_stream_done(f->st) || last)
            return rc;
        if (!f->o->session && (rc = rotate(f)) != 0)
            return rc;
        if (!f->s)
            return 0; /* stopped while waiting for the new store */
        nap();
    }
}

/* A cursor of another store file: the store was rotated while no follower
 * ran. Its position means nothing here; the output goes on. */
static int check_origin(struct follower *f, int resumed)
{
    if (!resumed || f->o->session || ng_stream_origin_is(f->st, f->dev, f->ino)) {
        ng_stream_set_origin(f->st, f->dev, f->ino);
        return 0;
    }
    ng_warn("cursor %s was written for another file at %s (rotated while no follower ran): "
            "following this store from its start",
            f->o->cursor, f->o->src.db);
    return restart_stream(f);
}

int ng_cmd_follow(const struct ng_follow_opts *o, const struct ng_caller *caller)
{
    uint8_t id[NG_STORE_ID_LEN];
    struct follower f = {.o = o};
    int resumed = 0, fd = -1;
    int rc = ng_cmd_drop(caller);
    struct sigaction sa = {.sa_handler = on_signal};

    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    if (rc == 0)
        rc = ng_cmd_root_key(o->src.keys, o->src.key, f.root);
    if (rc == 0)
        rc = open_store(&f);
    if (rc == 0 && !f.s)
        return 0; /* stopped before the store appeared */
    if (rc == 0 && o->session)
        rc = ng_cmd_store_find(f.s, o->session, id);
    if (rc == 0 && ng_stream_new(f.root, o->session ? id : NULL, &f.st) < 0)
        rc = NG_EXIT_INTERNAL;
    if (rc == 0)
        rc = load_cursor(o, f.st, &resumed, &f.k.len);
    if (rc == 0)
        rc = check_origin(&f, resumed);
    if (rc == 0 && (fd = open_out(o, resumed, &f.k.len)) < 0)
        rc = NG_EXIT_STORAGE;
    /* A new output has its cursor at once: killed before its first poll
     * ends, the follower resumes this file instead of refusing it. */
    if (rc == 0 && o->out && o->cursor && !resumed && (rc = write_cursor(o->cursor, f.st, 0)) < 0) {
        ng_err("cannot write cursor %s: %s", o->cursor, strerror(-rc));
        close(fd);
        fd = -1;
        rc = NG_EXIT_STORAGE;
    }
    if (rc == 0 && !(f.k.f = fdopen(fd, "w"))) {
        close(fd);
        rc = NG_EXIT_INTERNAL;
    }
    if (rc == 0) {
        signal(SIGPIPE, SIG_IGN); /* a gone reader is a write error */
        rc = follow_loop(&f);
    }
    if (f.k.f && fclose(f.k.f) != 0 && rc == 0) {
        ng_err("cannot write the stream: %s", strerror(errno));
        rc = NG_EXIT_STORAGE;
    }
    ng_stream_free(f.st);
    ng_store_close(f.s);
    return rc;
}
