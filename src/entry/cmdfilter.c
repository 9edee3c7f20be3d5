/* The command filter: built by the recorder, installed by the entering child
 * (see cmdfilter.h). */
#include "nsgate/cmdfilter.h"
#include "nsgate/util.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

/* Every ABI a process of this architecture can make system calls in: a
 * filter for the native one alone would let int $0x80 (i386) or the x32
 * calls through. */
static int add_arches(scmp_filter_ctx ctx)
{
#if defined(__x86_64__)
    static const uint32_t extra[] = {SCMP_ARCH_X86, SCMP_ARCH_X32};
#elif defined(__aarch64__)
    static const uint32_t extra[] = {SCMP_ARCH_ARM};
#else
    static const uint32_t extra[] = {0};
#endif
    for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
        int r = extra[i] ? seccomp_arch_add(ctx, extra[i]) : 0;
        if (r < 0 && r != -EEXIST)
            return r;
    }
    return 0;
}

/* libseccomp writes the program to a descriptor: a memfd, read back. */
static int export_bpf(scmp_filter_ctx ctx, struct ng_cmdfilter *f)
{
    int fd = memfd_create("nsgate-cmdfilter", MFD_CLOEXEC);
    int r = fd < 0 ? -errno : seccomp_export_bpf(ctx, fd);
    off_t size = r == 0 ? lseek(fd, 0, SEEK_END) : -1;

    if (r == 0 && (size <= 0 || size % (off_t)sizeof(struct sock_filter) ||
                   size / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS))
        r = -EINVAL;
    if (r == 0 && !(f->insns = malloc((size_t)size)))
        r = -ENOMEM;
    if (r == 0 && pread(fd, f->insns, (size_t)size, 0) != size)
        r = -EIO;
    if (r == 0)
        f->len = (unsigned short)(size / (off_t)sizeof(struct sock_filter));
    ng_closep(&fd);
    return r;
}

int ng_cmdfilter_build(struct ng_cmdfilter *f)
{
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    int r = ctx ? 0 : -ENOMEM;

    memset(f, 0, sizeof(*f));
    if (r == 0)
        r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
    if (r == 0)
        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
    if (r == 0)
        r = add_arches(ctx);
    if (r == 0)
        r = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(execve), 0);
    if (r == 0)
        r = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(execveat), 0);
    if (r == 0)
        r = export_bpf(ctx, f);
    if (ctx)
        seccomp_release(ctx);
    if (r < 0)
        ng_cmdfilter_free(f);
    return r;
}

void ng_cmdfilter_free(struct ng_cmdfilter *f)
{
    free(f->insns);
    f->insns = NULL;
    f->len = 0;
}

static int send_fd(int sock, int fd, char tag)
{
    char cbuf[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {.iov_base = &tag, .iov_len = 1};
    struct msghdr mh = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};

    memset(cbuf, 0, sizeof(cbuf));
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
    ssize_t n;
    do
        n = sendmsg(sock, &mh, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return n == 1 ? 0 : -errno;
}

int ng_cmdfilter_install(const struct ng_cmdfilter *f, int sock)
{
    struct sock_fprog prog = {.len = f->len, .filter = f->insns};
    unsigned long flags = SECCOMP_FILTER_FLAG_NEW_LISTENER;
    char tag = 'k';

    /* Not SECCOMP_FILTER_FLAG_TSYNC: the child is single-threaded. */
    long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
                      flags | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, &prog);
    if (fd < 0 && errno == EINVAL) { /* before Linux 5.19 */
        tag = 'i';
        fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
    }
    if (fd < 0)
        return -errno;
    int r = send_fd(sock, (int)fd, tag);
    close((int)fd);
    close(sock);
    return r;
}

int ng_cmdfilter_receive(int sock, int *ret_fd, int *ret_killable)
{
    char tag = 0, cbuf[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {.iov_base = &tag, .iov_len = 1};
    struct msghdr mh = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
    ssize_t n;

    do
        n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    if (n == 0 || !c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
        c->cmsg_len != CMSG_LEN(sizeof(int)) || (mh.msg_flags & MSG_CTRUNC))
        return -EPIPE;
    memcpy(ret_fd, CMSG_DATA(c), sizeof(int));
    *ret_killable = tag == 'k';
    return 0;
}
