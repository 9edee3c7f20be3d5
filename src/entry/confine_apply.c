/* Applying the target's confinement in the entering child (confine.h): the
 * last step before execve. */
#include "nsgate/confine.h"
#include "nsgate/util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

uint64_t ng_confine_hold_caps(const struct ng_confine *cf, const struct ng_creds *cr)
{
    uint64_t sys_admin = UINT64_C(1) << CAP_SYS_ADMIN;

    if (!cf || !cf->active || cf->nfilters == 0 || cr->no_new_privs || (cr->eff & sys_admin))
        return 0;
    return sys_admin;
}

/* Write text to one of our own /proc attr files through the host's /proc
 * (the target's /proc, if mounted at all, is the target's). */
static int write_attr(int host_proc_fd, const char *file, const char *text)
{
    char path[64];
    snprintf(path, sizeof(path), "thread-self/attr/%s", file);
    int fd = openat(host_proc_fd, path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -errno;
    size_t n = strlen(text);
    ssize_t w = write(fd, text, n);
    int e = errno;
    close(fd);
    if (w < 0)
        return -e;
    return (size_t)w == n ? 0 : -EIO;
}

/* AppArmor: "exec PROFILE" (change_onexec), in its own file when the kernel
 * has one; SELinux: the context itself. Either takes effect at execve. */
static int apply_label(const struct ng_confine *cf, int host_proc_fd, const char **why)
{
    char cmd[NG_CONFINE_LABEL_MAX + 8];
    int r;

    if (cf->lsm == NG_LSM_NONE || !cf->label[0])
        return 0;
    if (cf->lsm == NG_LSM_APPARMOR) {
        snprintf(cmd, sizeof(cmd), "exec %s", cf->label);
        r = write_attr(host_proc_fd, "apparmor/exec", cmd);
        if (r == -ENOENT)
            r = write_attr(host_proc_fd, "exec", cmd);
        if (r < 0)
            *why = "cannot set the target's AppArmor profile for exec";
        return r;
    }
    r = write_attr(host_proc_fd, "exec", cf->label);
    if (r < 0)
        *why = "cannot set the target's SELinux context for exec";
    return r;
}

int ng_confine_apply(const struct ng_confine *cf, int host_proc_fd, const char **why)
{
    if (!cf || !cf->active)
        return 0;
    int r = apply_label(cf, host_proc_fd, why);
    if (r < 0)
        return r;
    /* Oldest first: the kernel runs the stack newest first, as in the target.
     * From the first one on, only seccomp(2) for the next and execve follow. */
    for (size_t i = 0; i < cf->nfilters; i++) {
        struct sock_fprog prog = {.len = (unsigned short)cf->f[i].len, .filter = cf->f[i].insns};
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, cf->f[i].flags, &prog) < 0) {
            *why = i == 0 ? "cannot install the target's seccomp filter"
                          : "cannot install the target's seccomp filter (the target's own "
                            "earlier filter refuses seccomp(2))";
            return -errno;
        }
    }
    return 0;
}
