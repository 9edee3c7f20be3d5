/* x_store_lock FILE OFFSET LENGTH posix|ofd|flock|flockex|txn: what a
 * member of the reviewers' group can do to the session store with read
 * access only. It opens FILE read-only and takes a shared lock on the byte
 * range (a POSIX or open-file-description read lock), an flock (LOCK_SH or
 * LOCK_EX, which read access allows too), or, for txn, opens FILE as an
 * SQLite database and keeps a read transaction open; prints "locked PID"
 * and holds it until killed. A read lock on byte 120 of the -shm file is
 * SQLite's WAL write lock: every writer then waits. */
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

static int read_txn(const char *path)
{
    sqlite3 *db = NULL;

    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_exec(db, "BEGIN; SELECT count(*) FROM events;", NULL, NULL, NULL) != SQLITE_OK)
        return fprintf(stderr, "txn: %s\n", db ? sqlite3_errmsg(db) : "no memory"), -1;
    return 0; /* the transaction stays open: db is never closed */
}

int main(int argc, char **argv)
{
    if (argc != 5)
        return fprintf(stderr,
                       "usage: x_store_lock FILE OFFSET LENGTH posix|ofd|flock|flockex|txn\n"),
               2;
    const char *how = argv[4];
    if (!strcmp(how, "txn")) {
        if (read_txn(argv[1]) < 0)
            return 1;
    } else {
        int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return perror(argv[1]), 1;
        struct flock l = {.l_type = F_RDLCK, .l_whence = SEEK_SET};
        l.l_start = strtoll(argv[2], NULL, 10);
        l.l_len = strtoll(argv[3], NULL, 10);
        int r = !strcmp(how, "posix")     ? fcntl(fd, F_SETLK, &l)
                : !strcmp(how, "ofd")     ? fcntl(fd, F_OFD_SETLK, &l)
                : !strcmp(how, "flockex") ? flock(fd, LOCK_EX | LOCK_NB)
                                          : flock(fd, LOCK_SH | LOCK_NB);
        if (r < 0)
            return perror("lock"), 1;
    }
    printf("locked %d\n", (int)getpid());
    fflush(stdout);
    for (;;)
        pause();
}
