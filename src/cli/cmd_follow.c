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
#define POLL_NS    (100 * 1000 * 1000L)
#define CURSOR_MAX (16 * 1024 * 1024)

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

static int open_out(const struct ng_follow_opts *o, int resumed, uint64_t *len)
{
    int fd;

    if (!o->out)
        return dup(STDOUT_FILENO);
    if (resumed)
        return resume_output(o->out, len);
    fd = open(o->out, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0640);
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

/* Poll, flush, sync, move the cursor; until the session is complete or a
 * signal says stop. */
static int follow_loop(const struct ng_follow_opts *o, struct ng_store *s, struct ng_stream *st,
                       struct sink *k)
{
    size_t wrote, bad, warned = 0;

    for (;;) {
        int last = stop; /* a stop request still gets one last poll */
        int r = ng_stream_poll(st, s, sink_write, k, &wrote, &bad);
        if (r == 0 && wrote && (fflush(k->f) != 0 || (o->out && fdatasync(fileno(k->f)) < 0)))
            r = -EIO;
        if (r == 0 && wrote && o->cursor && (r = write_cursor(o->cursor, st, k->len)) < 0) {
            ng_err("cannot write cursor %s: %s", o->cursor, strerror(-r));
            return NG_EXIT_STORAGE;
        }
        if (r < 0 && r != -EBUSY) {
            ng_err("export --follow stopped: %s", strerror(-r));
            return NG_EXIT_STORAGE;
        }
        if (bad > warned)
            ng_warn("%zu session(s) could not be read (a damaged store?): left out", bad);
        warned = bad > warned ? bad : warned;
        if (ng_stream_done(st) || last)
            return 0;
        nap();
    }
}

/* Following every session, a host that has not recorded yet has no store:
 * wait for it (a follower unit may start before the first session). One
 * session is named, so its store must exist now. */
static int open_store(const struct ng_follow_opts *o, uint8_t root[NG_FSKEY_PK_BYTES],
                      struct ng_store **s)
{
    int rc = ng_cmd_root_key(o->src.keys, o->src.key, root);
    int r;

    if (rc || o->session)
        return rc ? rc : ng_cmd_store_open(o->src.db, s);
    while ((r = ng_store_open_readonly(o->src.db, s)) == -ENOENT && !stop)
        nap();
    if (r == 0 || r == -ENOENT) /* open, or stopped while waiting */
        return 0;
    return ng_cmd_store_open(o->src.db, s); /* says why, in the usual words */
}

int ng_cmd_follow(const struct ng_follow_opts *o, const struct ng_caller *caller)
{
    uint8_t root[NG_FSKEY_PK_BYTES], id[NG_STORE_ID_LEN];
    struct ng_store *s = NULL;
    struct ng_stream *st = NULL;
    struct sink k = {0};
    int resumed = 0, fd = -1, r;
    int rc = ng_cmd_drop(caller);
    struct sigaction sa = {.sa_handler = on_signal};

    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    if (rc == 0)
        rc = open_store(o, root, &s);
    if (rc == 0 && !s)
        return 0; /* stopped before the store appeared */
    if (rc == 0 && o->session)
        rc = ng_cmd_store_find(s, o->session, id);
    if (rc == 0 && (r = ng_stream_new(root, o->session ? id : NULL, &st)) < 0)
        rc = NG_EXIT_INTERNAL;
    if (rc == 0)
        rc = load_cursor(o, st, &resumed, &k.len);
    if (rc == 0 && (fd = open_out(o, resumed, &k.len)) < 0)
        rc = NG_EXIT_STORAGE;
    if (rc == 0 && !(k.f = fdopen(fd, "w"))) {
        close(fd);
        rc = NG_EXIT_INTERNAL;
    }
    if (rc == 0) {
        signal(SIGPIPE, SIG_IGN); /* a gone reader is a write error */
        rc = follow_loop(o, s, st, &k);
    }
    if (k.f && fclose(k.f) != 0 && rc == 0) {
        ng_err("cannot write the stream: %s", strerror(errno));
        rc = NG_EXIT_STORAGE;
    }
    ng_stream_free(st);
    ng_store_close(s);
    return rc;
}
