/* Which sessions are open (recording.md: "open while a live recorder holds a
 * lock for it"). A recorder creates "<db>-live/<uuid>" and holds an flock on
 * it for the whole session; the kernel drops the lock however the recorder
 * ends (SIGKILL included), so a file left behind unlocked means nothing. A
 * reader asks for a shared lock without waiting: refused means open. Files,
 * not rows, because a row cannot tell a live recorder from a dead one. */
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
    /* Reviewers test the lock: the file gets the directory's group. */
    struct stat dir;
    int r = fstat(s->live_dirfd, &dir) < 0 ? -errno : ng_store_share_with_dir(fd, &dir, 0600);
    if (r == 0 && flock(fd, LOCK_EX | LOCK_NB) < 0)
        r = -errno;
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
    if (flock(fd, LOCK_SH | LOCK_NB) < 0)
        held = errno == EWOULDBLOCK;
    close(fd); /* drops our shared lock, if we got it */
    return held;
}
