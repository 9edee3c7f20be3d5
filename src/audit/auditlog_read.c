/* Audit log files and descriptors cut into lines for the reader
 * (auditlog.h): every line bounded (NG_AUDITLOG_LINE_MAX, a longer one is
 * skipped to its end and counted), a last line without '\n' still read, and
 * a regular file that starts with gzip's magic (a rotated audit.log.N.gz)
 * decompressed with zlib, at most NG_AUDITLOG_GZ_MAX bytes. */
#include "auditlog_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

typedef ssize_t (*read_fn)(void *arg, char *buf, size_t len);

/* Lines are cut at '\n'; a line longer than NG_AUDITLOG_LINE_MAX is
 * skipped up to its end and counted. */
static int add_stream(struct ng_auditlog *log, read_fn rd, void *arg)
{
    enum { CHUNK = 65536 };
    char *chunk = malloc(CHUNK), *line = malloc(NG_AUDITLOG_LINE_MAX + 1);
    size_t llen = 0;
    int overflow = 0, r = 0;

    if (!chunk || !line) {
        r = -ENOMEM;
        goto out;
    }
    for (;;) {
        ssize_t got = rd(arg, chunk, CHUNK);
        if (got < 0) {
            r = (int)got;
            goto out;
        }
        if (got == 0)
            break;
        for (size_t i = 0; i < (size_t)got && r == 0; i++) {
            if (chunk[i] != '\n') {
                if (llen < NG_AUDITLOG_LINE_MAX)
                    line[llen++] = chunk[i];
                else
                    overflow = 1;
                continue;
            }
            if (overflow) {
                ng_auditlog_note_long_line(log);
            } else {
                r = ng_auditlog_add_line(log, line, llen);
            }
            llen = 0;
            overflow = 0;
        }
        if (r < 0)
            goto out;
    }
    /* A last line without '\n' (a log being written) is still read. */
    if (overflow) {
        ng_auditlog_note_long_line(log);
    } else if (llen > 0) {
        r = ng_auditlog_add_line(log, line, llen);
    }
out:
    free(chunk);
    free(line);
    return r;
}

static ssize_t read_fd(void *arg, char *buf, size_t len)
{
    for (;;) {
        ssize_t n = read(*(int *)arg, buf, len);
        if (n >= 0 || errno != EINTR)
            return n < 0 ? -errno : n;
    }
}

static int add_gz(struct ng_auditlog *log, int fd);

int ng_auditlog_add_fd(struct ng_auditlog *log, int fd)
{
    struct stat st;
    unsigned char magic[2];

    /* gzip's magic: a compressed rotated log (a plain one starts "type=" or
     * "node="); a pipe is read as plain text */
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && pread(fd, magic, 2, 0) == 2 &&
        magic[0] == 0x1f && magic[1] == 0x8b) {
        int gz = fcntl(fd, F_DUPFD_CLOEXEC, 0);
        return gz < 0 ? -errno : add_gz(log, gz);
    }
    return add_stream(log, read_fd, &fd);
}

struct gz {
    gzFile z;
    uint64_t total;
};

/* A gzip stream (a rotated, compressed log): at most NG_AUDITLOG_GZ_MAX
 * bytes decompressed, then an error (a bomb stops there); a damaged stream
 * is an error too. */
static ssize_t read_gz(void *arg, char *buf, size_t len)
{
    struct gz *g = arg;

    if (g->total >= NG_AUDITLOG_GZ_MAX)
        return -EFBIG;
    int n = gzread(g->z, buf, (unsigned)len), err = Z_OK;
    /* a cut stream ends with 0 and Z_BUF_ERROR: damaged, not a clean end */
    if (n < 0 || (n == 0 && (gzerror(g->z, &err), err != Z_OK)))
        return -EBADMSG;
    g->total += (uint64_t)n;
    return n;
}

/* Takes fd (closed here). */
static int add_gz(struct ng_auditlog *log, int fd)
{
    struct gz g = {gzdopen(fd, "rb"), 0};

    if (!g.z) {
        close(fd);
        return -ENOMEM;
    }
    int r = add_stream(log, read_gz, &g);
    gzclose(g.z);
    return r;
}

int ng_auditlog_add_file(struct ng_auditlog *log, const char *path)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
    int r;

    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode))) {
        close(fd);
        return -EINVAL;
    }
    r = ng_auditlog_add_fd(log, fd);
    close(fd);
    return r;
}
