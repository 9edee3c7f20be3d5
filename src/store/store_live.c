/* Which sessions are open (recording.md: "open while a live recorder holds a
 * lock for it"). A recorder creates "<db>-live/<uuid>" and holds a write
 * lock on it (an open file description lock, and an flock for readers of
 * earlier versions) for the whole session; the kernel drops the locks
 * however the recorder ends (SIGKILL included), so a file left behind
 * unlocked means nothing. A reader asks which lock is held (F_OFD_GETLK): a
 * write lock means open. Reviewers may read the file (its group), and so
 * take a read lock or an flock on it, but never a write lock (that needs
 * write access): so no reviewer can make a session look open, and the
 * recorder locks the file before it is shared, so none can lock it first.
 * Files, not rows, because a row cannot tell a live recorder from a dead
 * one. */
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

int ng_store_live_open_dir(const char *db_path, const struct stat *create, int *ret_fd)
{
    char dir[4096];
    int fd, made = 0;

    if ((size_t)snprintf(dir, sizeof(dir), "%s-live", db_path) >= sizeof(dir))
        return -ENAMETOOLONG;
    /* Inside the checked database directory, so only root can plant it. */
    if (create) {
        if (mkdir(dir, 0700) == 0)
            made = 1;
        else if (errno != EEXIST)
            return -errno;
    }
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (made) {
        int r = ng_store_share_with_dir(fd, create, 0700);
        if (r < 0) {
            close(fd);
            return r;
        }
    }
    *ret_fd = fd;
    return 0;
}

int ng_store_live_acquire(struct ng_store *s, const uint8_t id[NG_STORE_ID_LEN], int *ret_fd)
{
    char name[NG_UUID_STR];
    int fd;

    if (s->live_dirfd < 0)
        return -EBADF;
    ng_uuid_format(id, name);
    fd = openat(s->live_dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    /* Locked while still 0600, then shared: reviewers test the lock, and
     * the file gets the directory's group. */
    struct flock l = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    struct stat dir;
    int r = fcntl(fd, F_OFD_SETLK, &l) < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0 ? -errno : 0;
    if (r == 0)
        r = fstat(s->live_dirfd, &dir) < 0 ? -errno : ng_store_share_with_dir(fd, &dir, 0600);
    if (r < 0) {
        (void)unlinkat(s->live_dirfd, name, 0);
        close(fd);
        return r;
    }
    *ret_fd = fd;
    return 0;
}

void ng_store_live_release(struct ng_store *s, const uint8_t id[NG_STORE_ID_LEN], int fd)
{
    char name[NG_UUID_STR];

    if (fd < 0)
        return;
    ng_uuid_format(id, name);
    /* Unlink while still locked, so no reader sees an unlocked live file of
     * a session that is still being written. */
    if (s->live_dirfd >= 0)
        (void)unlinkat(s->live_dirfd, name, 0);
    close(fd);
}

int ng_store_live_held(const struct ng_store *s, const uint8_t id[NG_STORE_ID_LEN])
{
    char name[NG_UUID_STR];
    int fd, held = 0;

    if (s->live_dirfd < 0)
        return 0;
    ng_uuid_format(id, name);
    fd = openat(s->live_dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return 0;
    struct flock l = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    held = fcntl(fd, F_OFD_GETLK, &l) == 0 && l.l_type == F_WRLCK;
    close(fd);
    return held;
}

int ng_store_lock_holder(const char *db_path, pid_t *ret_pid)
{
    char shm[4096];
    /* The -shm file's bytes 120..122 are SQLite's WAL write, checkpoint
     * and recovery locks (sqlite.org/walformat.html): a read lock there,
     * which read access is enough to take, stops every writer. Then the
     * database file's own lock bytes (PENDING, RESERVED, SHARED at 1 GiB). */
    static const struct {
        const char *suffix;
        off_t start, len;
    } spots[] = {{"-shm", 120, 3}, {"", 0x40000000, 512}};

    for (size_t i = 0; i < sizeof(spots) / sizeof(spots[0]); i++) {
        if ((size_t)snprintf(shm, sizeof(shm), "%s%s", db_path, spots[i].suffix) >= sizeof(shm))
            return -ENAMETOOLONG;
        int fd = open(shm, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0)
            continue;
        struct flock l = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
        l.l_start = spots[i].start;
        l.l_len = spots[i].len;
        int r = fcntl(fd, F_GETLK, &l);
        close(fd);
        if (r == 0 && l.l_type != F_UNLCK) {
            *ret_pid = l.l_pid; /* -1: an open file description lock, holder unknown */
            return 1;
        }
    }
    return 0;
}
