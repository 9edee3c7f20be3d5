/* Bounded parsing and small I/O helpers. No logging, no exit. */
#include "nsgate/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

int ng_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
    uint64_t v = 0;

    if (!s || !*s)
        return -EINVAL;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -EINVAL;
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -ERANGE;
        v = v * 10 + d;
    }
    if (v < min || v > max)
        return -ERANGE;
    *ret = v;
    return 0;
}

int ng_parse_id(const char *s, uint32_t *ret)
{
    uint64_t v;
    /* (uid_t)-1 means "unchanged" to setresuid: never a valid id. */
    int r = ng_parse_u64(s, 0, (uint64_t)UINT32_MAX - 1, &v);
    if (r < 0)
        return r;
    *ret = (uint32_t)v;
    return 0;
}

int ng_parse_pid(const char *s, pid_t *ret)
{
    uint64_t v;
    int r = ng_parse_u64(s, 1, 4194304, &v);
    if (r < 0)
        return r;
    *ret = (pid_t)v;
    return 0;
}

void ng_closep(int *fd)
{
    if (fd && *fd >= 0) {
        int saved = errno;
        (void)close(*fd);
        errno = saved;
        *fd = -1;
    }
}

void ng_freep(void *p)
{
    free(*(void **)p);
}

ssize_t ng_read_file_at(int dirfd, const char *path, char *buf, size_t size)
{
    size_t len = 0;
    int fd;

    if (size == 0)
        return -EINVAL;
    fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return -errno;
    for (;;) {
        if (len == size - 1) {
            char c;
            ssize_t n = read(fd, &c, 1);
            int e = errno;
            close(fd);
            if (n < 0)
                return -e;
            if (n > 0)
                return -EFBIG;
            break;
        }
        ssize_t n = read(fd, buf + len, size - 1 - len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            close(fd);
            return -e;
        }
        if (n == 0) {
            close(fd);
            break;
        }
        len += (size_t)n;
    }
    buf[len] = '\0';
    return (ssize_t)len;
}

int ng_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int ng_is_lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return 0;
    }
    return 1;
}

DIR *ng_opendir_at(int dirfd, const char *path, int flags)
{
    int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | flags);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

    if (!d)
        ng_closep(&fd); /* keeps errno */
    return d;
}
