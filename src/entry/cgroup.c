/* cgroup handling for the recorder and the session (see cgroup.h). */
#include "nsgate/cgroup.h"
#include "nsgate/procfs.h"
#include "nsgate/util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int read_mountinfo(char *buf, size_t size)
{
    ssize_t n = ng_read_file_at(AT_FDCWD, "/proc/self/mountinfo", buf, size);
    return n < 0 ? (int)n : 0;
}

static int open_v2_root(void)
{
    static char mi[65536];
    char mnt[4096];
    int r = read_mountinfo(mi, sizeof(mi));
    if (r < 0)
        return r;
    r = ng_parse_cgroup2_mount(mi, mnt, sizeof(mnt));
    if (r < 0)
        return r;
    int fd = open(mnt, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    return fd < 0 ? -errno : fd;
}

/* Open (creating if needed) a root-owned group directory under dirfd. */
static int open_group(int dirfd, const char *name, int create)
{
    struct stat st;
    if (create && mkdirat(dirfd, name, 0755) < 0 && errno != EEXIST)
        return -errno;
    int fd = openat(dirfd, name, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0 || st.st_uid != 0) {
        close(fd);
        return -EPERM;
    }
    return fd;
}

static int write_at(int dirfd, const char *file, const char *text)
{
    int fd = openat(dirfd, file, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int r = ng_write_all(fd, text, strlen(text));
    close(fd);
    return r;
}

int ng_cgroup_move_self(void)
{
    int root = open_v2_root();
    if (root < 0)
        return root;
    int g = open_group(root, "nsgate", 1);
    close(root);
    if (g < 0)
        return g;
    int r = write_at(g, "cgroup.procs", "0");
    close(g);
    return r;
}

/* Open the directory of a cgroup path relative to a hierarchy root. The path
 * comes from /proc (names below a container's own group are the container's
 * choice): no "..", no symlinks on cgroupfs, opened with O_NOFOLLOW. */
static int open_path(int rootfd, const char *path)
{
    const char *rel = path;
    while (*rel == '/')
        rel++;
    if (*rel == '\0') {
        int fd = fcntl(rootfd, F_DUPFD_CLOEXEC, 0);
        return fd < 0 ? -errno : fd;
    }
    if (strstr(path, "/../") || strncmp(rel, "../", 3) == 0 || strcmp(rel, "..") == 0)
        return -EINVAL;
    int fd = openat(rootfd, rel, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    return fd < 0 ? -errno : fd;
}

static int add_procs(struct ng_cgroup_session *s, int dirfd)
{
    if (s->nprocs >= NG_ARRAY_SIZE(s->procs_fd))
        return -E2BIG;
    int fd = openat(dirfd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    s->procs_fd[s->nprocs++] = fd;
    return 0;
}

/* v1 hierarchies: join the target's group where it differs from ours. */
static int prepare_v1(struct ng_cgroup_session *s, const char *target_text)
{
    static char mi[65536];
    char self[8192], line[4096 + 64];
    int r = read_mountinfo(mi, sizeof(mi));
    if (r < 0)
        return r;
    if (ng_read_file_at(AT_FDCWD, "/proc/self/cgroup", self, sizeof(self)) < 0)
        return -EIO;
    for (const char *p = target_text; *p;) {
        size_t n = strcspn(p, "\n");
        if (n < sizeof(line)) {
            memcpy(line, p, n);
            line[n] = '\0';
            char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
            if (c1 && c2 && c2 > c1 + 1) {
                *c2 = '\0';
                char key[256], opt[256], mnt[4096], mine[4096];
                snprintf(key, sizeof(key), "%s", c1 + 1);
                snprintf(opt, sizeof(opt), "%.*s", (int)strcspn(key, ","), key);
                const char *tpath = c2 + 1;
                if (ng_parse_cgroup_v1_path(self, key, mine, sizeof(mine)) == 0 &&
                    strcmp(mine, tpath) != 0 &&
                    ng_parse_cgroup_v1_mount(mi, opt, mnt, sizeof(mnt)) == 0) {
                    int root = open(mnt, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                    int d = root < 0 ? -errno : open_path(root, tpath);
                    ng_closep(&root);
                    if (d < 0)
                        return d;
                    r = add_procs(s, d);
                    close(d);
                    if (r < 0)
                        return r;
                }
            }
        }
        p += n;
        if (*p)
            p++;
    }
    return 0;
}

int ng_cgroup_session_create(struct ng_cgroup_session *s, const char *target_cgroup_text,
                             int join_target, const char *name)
{
    char tpath[4096];
    int r;

    memset(s, 0, sizeof(*s));
    s->v2_root_fd = s->parent_fd = s->dir_fd = -1;
    snprintf(s->name, sizeof(s->name), "nsgate-%s", name);
    s->v2_root_fd = open_v2_root();
    if (s->v2_root_fd < 0)
        return s->v2_root_fd;
    if (join_target) {
        r = ng_parse_cgroup_v1_path(target_cgroup_text, "", tpath, sizeof(tpath));
        if (r < 0)
            return r;
        s->parent_fd = open_path(s->v2_root_fd, tpath);
    } else {
        snprintf(tpath, sizeof(tpath), "/nsgate");
        s->parent_fd = open_group(s->v2_root_fd, "nsgate", 1);
    }
    if (s->parent_fd < 0)
        return s->parent_fd;
    size_t tl = strlen(tpath), nl = strlen(s->name);
    int root = strcmp(tpath, "/") == 0;
    if (tl + nl + 2 > sizeof(s->path))
        return -ENAMETOOLONG;
    memcpy(s->path, tpath, tl);
    if (!root)
        s->path[tl++] = '/';
    memcpy(s->path + tl, s->name, nl + 1);
    s->dir_fd = open_group(s->parent_fd, s->name, 1);
    if (s->dir_fd < 0)
        return s->dir_fd;
    r = add_procs(s, s->dir_fd);
    if (r == 0 && join_target)
        r = prepare_v1(s, target_cgroup_text);
    return r;
}

int ng_cgroup_session_join(const struct ng_cgroup_session *s)
{
    for (size_t i = 0; i < s->nprocs; i++) {
        if (ng_write_all(s->procs_fd[i], "0", 1) < 0)
            return -errno;
    }
    return 0;
}

void ng_cgroup_session_close_procs(struct ng_cgroup_session *s)
{
    for (size_t i = 0; i < s->nprocs; i++)
        ng_closep(&s->procs_fd[i]);
    s->nprocs = 0;
}

static int count_procs(int dirfd)
{
    char buf[65536];
    ssize_t n = ng_read_file_at(dirfd, "cgroup.procs", buf, sizeof(buf));
    if (n < 0)
        return n == -EFBIG ? 4096 : (int)n;
    int c = 0;
    for (ssize_t i = 0; i < n; i++)
        c += buf[i] == '\n';
    return c;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int ng_cgroup_session_kill(struct ng_cgroup_session *s, int timeout_ms)
{
    if (s->dir_fd < 0)
        return 0;
    int left = count_procs(s->dir_fd);
    if (left > 0 && write_at(s->dir_fd, "cgroup.kill", "1") < 0) {
        /* Kernels before 5.14: no cgroup.kill; SIGKILL each member. */
        char buf[65536];
        if (ng_read_file_at(s->dir_fd, "cgroup.procs", buf, sizeof(buf)) >= 0) {
            char *save = NULL;
            for (char *t = strtok_r(buf, "\n", &save); t; t = strtok_r(NULL, "\n", &save)) {
                pid_t pid;
                if (ng_parse_pid(t, &pid) == 0)
                    (void)kill(pid, SIGKILL);
            }
        }
    }
    for (long long end = now_ms() + timeout_ms; count_procs(s->dir_fd) > 0 && now_ms() < end;)
        (void)poll(NULL, 0, 5);
    ng_cgroup_session_release(s);
    return left < 0 ? 0 : left;
}

void ng_cgroup_session_signal(const struct ng_cgroup_session *s, int sig)
{
    char buf[65536];
    char *save = NULL;

    if (s->dir_fd < 0 || ng_read_file_at(s->dir_fd, "cgroup.procs", buf, sizeof(buf)) < 0)
        return;
    for (char *t = strtok_r(buf, "\n", &save); t; t = strtok_r(NULL, "\n", &save)) {
        pid_t pid;
        if (ng_parse_pid(t, &pid) == 0)
            (void)kill(pid, sig);
    }
}

void ng_cgroup_session_release(struct ng_cgroup_session *s)
{
    ng_cgroup_session_close_procs(s);
    ng_closep(&s->dir_fd);
    if (s->parent_fd >= 0)
        (void)unlinkat(s->parent_fd, s->name, AT_REMOVEDIR);
    ng_closep(&s->parent_fd);
    ng_closep(&s->v2_root_fd);
}
