/* The I/O of keeping the caller out of its session (isolate.h). */
#include "nsgate/isolate.h"
#include "nsgate/procfs.h"
#include "nsgate/reach.h"
#include "nsgate/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

int ng_isolate_userns_owners(int proc_fd, uint32_t owners[NG_ISOLATE_MAX_OWNERS], size_t *n)
{
    struct stat self, st;
    int fd, r = 0;

    *n = 0;
    if (stat("/proc/self/ns/user", &self) < 0)
        return -errno;
    fd = openat(proc_fd, "ns/user", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    for (;;) {
        if (fstat(fd, &st) < 0) {
            r = -errno;
            break;
        }
        if (st.st_dev == self.st_dev && st.st_ino == self.st_ino)
            break; /* reached nsgate's own (the initial) user namespace */
        uid_t owner;
        if (*n == NG_ISOLATE_MAX_OWNERS) {
            r = -ELOOP;
            break;
        }
        if (ioctl(fd, NS_GET_OWNER_UID, &owner) < 0) {
            r = -errno;
            break;
        }
        owners[(*n)++] = (uint32_t)owner;
        int parent = ioctl(fd, NS_GET_PARENT);
        if (parent < 0) {
            r = -errno;
            break;
        }
        close(fd);
        fd = parent;
    }
    close(fd);
    return r;
}

int ng_isolate_userns_available(void)
{
    char buf[32];
    uint64_t v;

    if (access("/proc/self/ns/user", F_OK) < 0)
        return 0;
    if (ng_read_file_at(AT_FDCWD, "/proc/sys/user/max_user_namespaces", buf, sizeof(buf)) <= 0)
        return 0;
    buf[strcspn(buf, "\n")] = '\0';
    return ng_parse_u64(buf, 0, UINT64_MAX, &v) == 0 && v > 0;
}

static int in_subuid(uint32_t id)
{
    char line[512];
    FILE *f = fopen("/etc/subuid", "re");
    int hit = 0;

    if (!f)
        return 0; /* no file: nobody has subordinate ids */
    while (!hit && fgets(line, sizeof(line), f)) {
        size_t len = strcspn(line, "\n");
        if (line[len] != '\n' && !feof(f))
            hit = 1; /* an over-long line: fail closed */
        line[len] = '\0';
        hit = hit || ng_reach_subid_line_covers(line, id);
    }
    fclose(f);
    return hit;
}

static int uid_running(uint32_t id)
{
    char path[300], buf[8192];
    DIR *d = ng_opendir_at(AT_FDCWD, "/proc", 0);
    if (!d)
        return -errno;
    int found = 0;
    struct dirent *e;
    while (!found && (e = readdir(d))) {
        pid_t pid;
        if (ng_parse_pid(e->d_name, &pid) < 0)
            continue;
        snprintf(path, sizeof(path), "%s/status", e->d_name);
        if (ng_read_file_at(dirfd(d), path, buf, sizeof(buf)) < 0)
            continue; /* gone meanwhile */
        /* The Uid line only: a long group list must not hide a process. */
        const char *u = strstr(buf, "\nUid:");
        unsigned ids[4];
        if (!u || sscanf(u + 5, "%u %u %u %u", &ids[0], &ids[1], &ids[2], &ids[3]) != 4)
            continue;
        for (int i = 0; i < 4; i++)
            found |= ids[i] == id;
    }
    closedir(d);
    return found;
}

int ng_isolate_pick_uid(pid_t recorder, uint32_t *ret, const char **why)
{
    struct passwd pw, *res = NULL;
    char buf[4096];

    if (recorder <= 0 || (uint32_t)recorder >= NG_REACH_UID_SPAN) {
        *why = "the recorder's PID is outside the isolation range";
        return -ERANGE;
    }
    uint32_t uid = NG_REACH_UID_BASE + (uint32_t)recorder;
    if (in_subuid(uid)) {
        *why = "an /etc/subuid range covers nsgate's isolation uid range (0x78000000-0x783fffff)";
        return -EEXIST;
    }
    if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 && res) {
        *why = "an account has a uid in nsgate's isolation range (0x78000000-0x783fffff)";
        return -EEXIST;
    }
    int r = uid_running(uid);
    if (r != 0) {
        *why = r > 0 ? "processes left over from an earlier session still run as the isolation "
                       "uid this session would get"
                     : "cannot read /proc";
        return r > 0 ? -EBUSY : r;
    }
    *ret = uid;
    return 0;
}

static int write_map(int host_proc_fd, pid_t pid, const char *file, const char *text)
{
    char path[64];
    snprintf(path, sizeof(path), "%d/%s", (int)pid, file);
    int fd = openat(host_proc_fd, path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    /* A map is written once, in one write. */
    ssize_t n = write(fd, text, strlen(text));
    int e = errno;
    close(fd);
    if (n < 0)
        return -e;
    return (size_t)n == strlen(text) ? 0 : -EIO;
}

int ng_isolate_write_maps(int host_proc_fd, pid_t pid, const char *uid_map, const char *gid_map)
{
    int r = write_map(host_proc_fd, pid, "uid_map", uid_map);
    return r < 0 ? r : write_map(host_proc_fd, pid, "gid_map", gid_map);
}

int ng_isolate_check_map(int host_proc_fd, uint32_t inside, uint32_t host)
{
    char map[256];
    uint32_t out;

    if (ng_read_file_at(host_proc_fd, "thread-self/uid_map", map, sizeof(map)) < 0)
        return -EPERM;
    /* Read from inside the namespace, the second column is the parent's
     * (the initial namespace's) view: exactly one line, inside -> host. */
    if (ng_idmap_to_outside(map, inside, &out) < 0 || out != host ||
        strchr(map, '\n') != strrchr(map, '\n'))
        return -EPERM;
    return 0;
}
