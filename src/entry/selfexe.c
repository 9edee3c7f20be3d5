/* Sealed self-copy (see selfexe.h for why). */
#include "nsgate/selfexe.h"
#include "nsgate/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MARK_LEN 32
/* The original carries ORIG; the copy's bytes are patched to COPY. volatile:
 * the compiler must read the bytes at run time, not fold the constant. */
static volatile const char self_mark[MARK_LEN] __attribute__((used)) =
    "\x7fNSGATE-SELF-MARK:ORIGINAL:9c1e";
/* The comparison values are kept inverted, so the file holds exactly one
 * copy of the marker bytes: the one to patch. */
#define MARK_ORIG_INV                                                                              \
    "\x80\xb1\xac\xb8\xbe\xab\xba\xd2\xac\xba\xb3\xb9\xd2\xb2\xbe\xad\xb4\xc5\xb0\xad\xb6\xb8\xb6" \
    "\xb1\xbe\xb3\xc5\xc6\x9c\xce\x9a\xff"
#define MARK_COPY_INV                                                                              \
    "\x80\xb1\xac\xb8\xbe\xab\xba\xd2\xac\xba\xb3\xb9\xd2\xb2\xbe\xad\xb4\xc5\xac\xba\xbe\xb3\xba" \
    "\xbb\xbc\xaf\xc5\xc6\x9c\xce\x9a\xff"

static void mark_decode(const char *inv, char out[MARK_LEN])
{
    for (size_t i = 0; i < MARK_LEN; i++)
        out[i] = (char)~(unsigned char)inv[i];
}

#define ALL_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

int ng_selfexe_is_copy(void)
{
    char buf[MARK_LEN], copy[MARK_LEN];
    for (size_t i = 0; i < MARK_LEN; i++)
        buf[i] = self_mark[i];
    mark_decode(MARK_COPY_INV, copy);
    return memcmp(buf, copy, MARK_LEN) == 0;
}

int ng_selfexe_identity(dev_t *dev, ino_t *ino)
{
    struct stat st;
    if (stat("/proc/self/exe", &st) < 0)
        return -errno;
    *dev = st.st_dev;
    *ino = st.st_ino;
    return 0;
}

int ng_selfexe_accept(int *argc, char ***argv)
{
    struct stat fd_st, exe_st;

    if (*argc < 2 || strcmp((*argv)[1], NG_SELFEXE_ARG) != 0)
        return -EPERM;
    int seals = fcntl(NG_SELFEXE_FD, F_GET_SEALS);
    if (seals < 0 || (seals & ALL_SEALS) != ALL_SEALS)
        return -EPERM;
    if (fstat(NG_SELFEXE_FD, &fd_st) < 0 || stat("/proc/self/exe", &exe_st) < 0)
        return -EPERM;
    if (fd_st.st_dev != exe_st.st_dev || fd_st.st_ino != exe_st.st_ino)
        return -EPERM;
    (void)close(NG_SELFEXE_FD);
    (*argv)[1] = (*argv)[0];
    (*argv)++;
    (*argc)--;
    return 0;
}

/* Copy the image to the memfd with the one marker occurrence patched. */
static int copy_patched(int src, int dst)
{
    struct stat st;
    if (fstat(src, &st) < 0)
        return -errno;
    if (st.st_size <= 0 || st.st_size > (off_t)512 * 1024 * 1024)
        return -EFBIG;
    size_t size = (size_t)st.st_size;
    char *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, src, 0);
    if (map == MAP_FAILED)
        return -errno;
    char mark_orig[MARK_LEN], mark_copy[MARK_LEN];
    mark_decode(MARK_ORIG_INV, mark_orig);
    mark_decode(MARK_COPY_INV, mark_copy);
    char *hit = memmem(map, size, mark_orig, MARK_LEN);
    int r = -ENOEXEC;
    /* Exactly one occurrence (the one in .rodata), else refuse. */
    if (hit && !memmem(hit + 1, size - (size_t)(hit + 1 - map), mark_orig, MARK_LEN)) {
        size_t off = (size_t)(hit - map);
        r = ng_write_all(dst, map, off);
        if (r == 0)
            r = ng_write_all(dst, mark_copy, MARK_LEN);
        if (r == 0)
            r = ng_write_all(dst, hit + MARK_LEN, size - off - MARK_LEN);
    }
    munmap(map, size);
    return r;
}

int ng_selfexe_reexec(char **argv, char **envp)
{
    /* The copy is a file write: a caller's small RLIMIT_FSIZE must not kill
     * us with SIGXFSZ (soft up to hard is always allowed; a write past a
     * lowered hard limit fails with EFBIG instead). */
    struct rlimit fs;
    if (getrlimit(RLIMIT_FSIZE, &fs) == 0) {
        fs.rlim_cur = fs.rlim_max;
        (void)setrlimit(RLIMIT_FSIZE, &fs);
    }
    signal(SIGXFSZ, SIG_IGN);
    int src = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (src < 0)
        return -errno;
    int mfd = (int)syscall(SYS_memfd_create, "nsgate-sealed", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (mfd < 0) {
        int e = errno;
        close(src);
        return -e;
    }
    int r = copy_patched(src, mfd);
    close(src);
    if (r == 0 && fcntl(mfd, F_ADD_SEALS, ALL_SEALS) < 0)
        r = -errno;
    /* The hand-shake descriptor: fd 3, not close-on-exec. */
    if (r == 0 && mfd != NG_SELFEXE_FD && dup2(mfd, NG_SELFEXE_FD) < 0)
        r = -errno;
    if (r == 0 && mfd == NG_SELFEXE_FD && fcntl(mfd, F_SETFD, 0) < 0)
        r = -errno;
    if (r < 0) {
        close(mfd);
        return r;
    }
    size_t n = 0;
    while (argv[n])
        n++;
    char **nargv = calloc(n + 2, sizeof(char *));
    if (!nargv)
        return -ENOMEM;
    nargv[0] = argv[0];
    static char marker[] = NG_SELFEXE_ARG;
    nargv[1] = marker;
    for (size_t i = 1; i < n; i++)
        nargv[i + 1] = argv[i];
    /* Through its /proc path rather than execveat(AT_EMPTY_PATH): the same
     * file, and tools that wrap exec (valgrind --trace-children) follow it. */
    char path[32];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", NG_SELFEXE_FD);
    signal(SIGXFSZ, SIG_DFL); /* ignored dispositions survive execve */
    execve(path, nargv, envp);
    r = -errno;
    free(nargv);
    close(mfd);
    (void)close(NG_SELFEXE_FD);
    return r;
}
