/* Reading the policy file safely (policy.md: regular, root-owned, not
 * writable by group or other, in such a directory; checked with fstat on the
 * descriptors actually read) and the system user database. */
#include "policy_int.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The first unsafe property of a file or its directory, or NULL. */
static const char *unsafe_why(const struct stat *st, int is_dir)
{
    if (st->st_uid != 0)
        return is_dir ? "is in a directory not owned by root" : "is not owned by root";
    if (st->st_mode & (S_IWGRP | S_IWOTH))
        return is_dir ? "is in a directory writable by group or other"
                      : "is writable by group or other";
    return NULL;
}

/* Split path into its directory and last component (copied into dir). */
static int split_path(const char *path, char *dir, size_t dirsz, const char **base)
{
    const char *slash = strrchr(path, '/');
    size_t n = strlen(path);

    if (n == 0 || n >= dirsz)
        return n == 0 ? -ENOENT : -ENAMETOOLONG;
    if (!slash) {
        strcpy(dir, ".");
        *base = path;
    } else {
        size_t k = (size_t)(slash - path);
        memcpy(dir, path, k ? k : 1); /* "/policy.ini" lives in "/" */
        dir[k ? k : 1] = '\0';
        *base = slash + 1;
    }
    return **base ? 0 : -EISDIR;
}

static int read_bounded(int fd, char **ret_buf, size_t *ret_len)
{
    char *buf = malloc(NG_POLICY_FILE_MAX + 1);
    size_t got = 0;

    if (!buf)
        return -ENOMEM;
    for (;;) {
        ssize_t n = read(fd, buf + got, NG_POLICY_FILE_MAX + 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            free(buf);
            return -e;
        }
        if (n == 0)
            break;
        got += (size_t)n;
        if (got > NG_POLICY_FILE_MAX) {
            free(buf); /* grew after fstat: still bounded */
            return -EFBIG;
        }
    }
    buf[got] = '\0';
    *ret_buf = buf;
    *ret_len = got;
    return 0;
}

/* Check an fstat result; an unsafe one is fatal unless flags allow it, in
 * which case the first reason is kept as the warning. */
static int judge(const struct stat *st, int is_dir, unsigned flags, const char **why)
{
    const char *w = unsafe_why(st, is_dir);

    if (!w)
        return 0;
    if (!*why)
        *why = w;
    return (flags & NG_POLICY_LOAD_UNSAFE_OK) ? 0 : -EPERM;
}

int ng_policy_load(const char *path, unsigned flags, char **ret_buf, size_t *ret_len,
                   const char **why)
{
    char dir[PATH_MAX];
    const char *base;
    struct stat st;
    ng_autoclose int dfd = -1;
    ng_autoclose int fd = -1;
    int r;

    *why = NULL;
    if ((r = split_path(path, dir, sizeof(dir), &base)) < 0)
        return r;
    /* The file is opened relative to the directory descriptor checked here,
     * so the directory that is judged is the one the file is read from. */
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -errno;
    /* O_NONBLOCK: a FIFO planted in place of the file must not hang us. */
    fd = openat(dfd, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        r = -errno;
        if (r == -ELOOP)
            *why = "is a symbolic link";
        return r;
    }
    if (fstat(fd, &st) < 0)
        return -errno;
    if (!S_ISREG(st.st_mode)) {
        *why = "is not a regular file";
        return -EINVAL;
    }
    if (st.st_size > NG_POLICY_FILE_MAX) {
        *why = "is larger than 1 MiB";
        return -EFBIG;
    }
    if ((r = judge(&st, 0, flags, why)) < 0)
        return r;
    if (fstat(dfd, &st) < 0)
        return -errno;
    if ((r = judge(&st, 1, flags, why)) < 0)
        return r;
    r = read_bounded(fd, ret_buf, ret_len);
    if (r == -EFBIG)
        *why = "is larger than 1 MiB";
    return r;
}

/* --- the system user database --- */

/* getpw*_r and getgr*_r need a buffer of unknown size: grow on ERANGE. */
#define DB_BUF_START 4096
#define DB_BUF_MAX   (1024 * 1024)

static int lookup_rc(int rc, const void *result)
{
    if (rc == 0)
        return result ? 0 : -ENOENT;
    /* getpwnam(3): these mean "not found" on some implementations. */
    if (rc == ENOENT || rc == ESRCH)
        return -ENOENT;
    return -rc;
}

static int sys_user_uid(void *ctx, const char *name, uint32_t *uid)
{
    for (size_t sz = DB_BUF_START; sz <= DB_BUF_MAX; sz *= 2) {
        struct passwd pw, *res = NULL;
        char *buf = malloc(sz);
        if (!buf)
            return -ENOMEM;
        int rc = getpwnam_r(name, &pw, buf, sz, &res);
        free(buf);
        if (rc == ERANGE)
            continue;
        int r = lookup_rc(rc, res);
        if (r == 0)
            *uid = pw.pw_uid;
        return r;
    }
    return -ERANGE;
}

static int sys_group_gid(void *ctx, const char *name, uint32_t *gid)
{
    for (size_t sz = DB_BUF_START; sz <= DB_BUF_MAX; sz *= 2) {
        struct group gr, *res = NULL;
        char *buf = malloc(sz);
        if (!buf)
            return -ENOMEM;
        int rc = getgrnam_r(name, &gr, buf, sz, &res);
        free(buf);
        if (rc == ERANGE)
            continue;
        int r = lookup_rc(rc, res);
        if (r == 0)
            *gid = gr.gr_gid;
        return r;
    }
    return -ERANGE;
}

static int grouplist_of(const char *name, gid_t base, uint32_t *groups, size_t *n)
{
    gid_t g[NG_MAX_GROUPS];
    int cnt = NG_MAX_GROUPS;

    if (getgrouplist(name, base, g, &cnt) < 0)
        return -E2BIG;
    if ((size_t)cnt > *n)
        return -E2BIG;
    for (int i = 0; i < cnt; i++)
        groups[i] = g[i];
    *n = (size_t)cnt;
    return 0;
}

static int sys_membership(void *ctx, uint32_t uid, uint32_t *groups, size_t *n)
{
    for (size_t sz = DB_BUF_START; sz <= DB_BUF_MAX; sz *= 2) {
        struct passwd pw, *res = NULL;
        char *buf = malloc(sz);
        if (!buf)
            return -ENOMEM;
        int rc = getpwuid_r(uid, &pw, buf, sz, &res);
        if (rc == ERANGE) {
            free(buf);
            continue;
        }
        int r = lookup_rc(rc, res);
        if (r == 0)
            r = grouplist_of(pw.pw_name, pw.pw_gid, groups, n);
        free(buf);
        return r;
    }
    return -ERANGE;
}

const struct ng_policy_userdb ng_policy_userdb_system = {
    .user_uid = sys_user_uid,
    .group_gid = sys_group_gid,
    .membership = sys_membership,
    .ctx = NULL,
};
