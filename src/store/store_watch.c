/* Live sessions for the readers that follow them (watch, sessions --live):
 * events past a seq, whether a session is open, which sessions are open and
 * what their recorders say about them. The note a recorder keeps in its
 * lock file (store_live.c) is the live state of the session: one line of
 * JSON written by root (waiting for approval, running, moderated; who
 * watches since when), not covered data: it only describes a session that
 * is still running, and the covered record says the same in its events. */
#include "store_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Where a reader resuming after seq `after` starts: at after + 1, or at
 * the first event of the block that holds after + 1 when that block began
 * earlier (a seal, and so a follower's stop, can fall inside a batch). */
static int resume_from(struct ng_store *s, const uint8_t id[NG_STORE_ID_LEN], int64_t after,
                       int64_t *from)
{
    sqlite3_stmt *st;
    int rc, r;

    *from = after + 1;
    if (s->version < 5)
        return 0;
    r = ng_store_prepare(s,
                         "SELECT first_seq FROM event_blocks WHERE session = ?1 AND "
                         "first_seq <= ?2 AND last_seq >= ?2 ORDER BY first_seq DESC LIMIT 1",
                         &st);
    if (r < 0)
        return r;
    sqlite3_bind_blob(st, 1, id, NG_STORE_ID_LEN, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, after + 1);
    rc = ng_store_step(s, st);
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_INTEGER &&
        sqlite3_column_int64(st, 0) >= 1 && sqlite3_column_int64(st, 0) < *from)
        *from = sqlite3_column_int64(st, 0);
    else if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        r = ng_store_errno(s->db, rc);
    sqlite3_finalize(st);
    return r;
}

int ng_store_events_after(struct ng_store *s, const uint8_t id[NG_STORE_ID_LEN], int64_t after,
                          struct ng_event_iter **ret)
{
    int64_t from;
    int r = ng_store_events_query(s, id, "WHERE session = ?1 AND seq >= ?2 ORDER BY seq", ret);

    if (r == 0 && (r = resume_from(s, id, after < 0 ? 0 : after, &from)) < 0) {
        ng_store_events_end(*ret);
        *ret = NULL;
    }
    if (r == 0)
        ng_store_events_resume(*ret, from, after);
    return r;
}

int ng_store_session_live(const struct ng_store *s, const uint8_t id[NG_STORE_ID_LEN])
{
    return ng_store_live_held(s, id);
}

int ng_store_session_note(struct ng_session *sess, const char *text, size_t len)
{
    int fd = ng_store_session_live_fd(sess);

    if (fd < 0)
        return -EBADF;
    if (len >= NG_STORE_NOTE_MAX)
        return -EMSGSIZE;
    /* One write of the whole note, then the length: a reader that reads
     * between the two sees a longer file with a valid line first. */
    if (pwrite(fd, text, len, 0) != (ssize_t)len)
        return -errno ? -errno : -EIO;
    return ftruncate(fd, (off_t)len) < 0 ? -errno : 0;
}

/* A lock file's name: the text form of a UUID, exactly (ng_uuid_format). */
static int name_to_id(const char *name, uint8_t id[NG_STORE_ID_LEN])
{
    char again[NG_UUID_STR];
    size_t n = 0;

    if (strlen(name) != NG_UUID_STR - 1)
        return -EINVAL;
    for (size_t i = 0; name[i] && n < 2 * NG_STORE_ID_LEN; i++) {
        const char *hex = "0123456789abcdef", *p = strchr(hex, name[i]);
        if (name[i] == '-' || !p || !name[i])
            continue;
        if (n % 2 == 0)
            id[n / 2] = (uint8_t)((p - hex) << 4);
        else
            id[n / 2] |= (uint8_t)(p - hex);
        n++;
    }
    if (n != 2 * NG_STORE_ID_LEN)
        return -EINVAL;
    ng_uuid_format(id, again);
    return strcmp(again, name) == 0 ? 0 : -EINVAL;
}

/* The note of a held lock file, or "" (a recorder that wrote none). */
static int read_note(int dirfd, const char *name, char *note, size_t size, int *held)
{
    int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);

    *held = 0;
    note[0] = '\0';
    if (fd < 0)
        return 0;
    struct flock l = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    *held = fcntl(fd, F_OFD_GETLK, &l) == 0 && l.l_type == F_WRLCK;
    ssize_t n = *held ? pread(fd, note, size - 1, 0) : 0;
    close(fd);
    note[n > 0 ? n : 0] = '\0';
    note[strcspn(note, "\n")] = '\0';
    return 0;
}

int ng_store_live_list(struct ng_store *s, ng_store_live_fn fn, void *ctx)
{
    char note[NG_STORE_NOTE_MAX];
    struct dirent *de;
    uint8_t id[NG_STORE_ID_LEN];
    int r = 0;

    if (s->live_dirfd < 0)
        return 0;
    int fd = openat(s->live_dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd < 0 ? NULL : fdopendir(fd);
    if (!d) {
        if (fd >= 0)
            close(fd);
        return -errno;
    }
    while (r == 0 && (de = readdir(d)) != NULL) {
        int held;
        if (name_to_id(de->d_name, id) < 0)
            continue;
        read_note(s->live_dirfd, de->d_name, note, sizeof(note), &held);
        if (held)
            r = fn(ctx, id, note);
    }
    closedir(d);
    return r;
}

/* The prefix's hex digits, lowercased (dashes only where the text form has
 * them), as ng_store_find_session takes it. */
static int live_prefix(const char *prefix, char digits[33])
{
    size_t len = strlen(prefix), n = 0;

    if (len < NG_STORE_PREFIX_MIN || len > NG_UUID_STR - 1)
        return -EINVAL;
    for (size_t i = 0; i < len; i++) {
        char ch = prefix[i];
        if (ch == '-' && (i == 8 || i == 13 || i == 18 || i == 23))
            continue;
        if (ch >= 'A' && ch <= 'F')
            ch = (char)(ch - 'A' + 'a');
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')) || n == 32)
            return -EINVAL;
        digits[n++] = ch;
    }
    digits[n] = '\0';
    return (int)n;
}

int ng_store_live_find(const char *db_path, const char *prefix, uint8_t ret_id[NG_STORE_ID_LEN])
{
    char want[33], have[33];
    struct dirent *de;
    uint8_t id[NG_STORE_ID_LEN];
    int n = live_prefix(prefix, want), found = 0, dirfd;

    if (n < 0)
        return n;
    int r = ng_store_live_open_dir(db_path, NULL, &dirfd);
    if (r < 0)
        return r == -ENOENT ? -ENOENT : r;
    DIR *d = fdopendir(dirfd);
    if (!d) {
        close(dirfd);
        return -errno;
    }
    while ((de = readdir(d)) != NULL && found < 2) {
        if (name_to_id(de->d_name, id) < 0)
            continue;
        size_t k = 0;
        for (const char *p = de->d_name; *p; p++)
            if (*p != '-')
                have[k++] = *p;
        if (strncmp(have, want, (size_t)n) != 0)
            continue;
        int held;
        char note[8];
        read_note(dirfd, de->d_name, note, sizeof(note), &held);
        if (!held)
            continue;
        if (found++ == 0)
            memcpy(ret_id, id, NG_STORE_ID_LEN);
    }
    closedir(d);
    return found == 0 ? -ENOENT : found > 1 ? -ENOTUNIQ : 0;
}
