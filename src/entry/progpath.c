/* Resolution of a bare PROGRAM inside a root (progpath.h). Runs as root in
 * the host's namespaces, reading the target's filesystem through its
 * /proc/PID/root: every lookup stays inside that root, so a target's link
 * cannot make nsgate name, or reveal, a host file. */
#include "nsgate/progpath.h"
#include "nsgate/program.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int open_in_root(int root_fd, const char *rel)
{
    struct open_how how = {
        .flags = O_PATH | O_CLOEXEC,
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    };
    int fd = (int)syscall(SYS_openat2, root_fd, rel, &how, sizeof(how));
    return fd < 0 ? -errno : fd;
}

/* A regular file someone may execute (the kernel decides for the program's
 * own credentials at execve; this only picks the PATH entry). */
static int executable_file(int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111);
}

int ng_progpath_resolve(int root_fd, const char *name, char *out, size_t outsz)
{
    const char *dir = NG_PROGRAM_PATH;

    if (!ng_program_bare(name))
        return -EINVAL;
    while (*dir) {
        size_t n = strcspn(dir, ":");
        char rel[4352];
        int len = snprintf(rel, sizeof(rel), "%.*s/%s", (int)n, dir, name);
        if (len < 0 || (size_t)len >= sizeof(rel))
            return -ENAMETOOLONG;
        int fd = open_in_root(root_fd, rel);
        if (fd >= 0) {
            int ok = executable_file(fd);
            close(fd);
            if (ok) {
                if ((size_t)len >= outsz)
                    return -ENAMETOOLONG;
                memcpy(out, rel, (size_t)len + 1);
                return 0;
            }
        }
        dir += n + (dir[n] == ':');
    }
    return -ENOENT;
}
