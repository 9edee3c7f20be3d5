/* Reading one exec from /proc/TID, and its 'c' event (cmdrec_int.h). The
 * caller's memory is hostile: every read is bounded (argv at most
 * NG_CMD_ARGV_MAX bytes in all, a path at most PATH_MAX), a fault only
 * shortens what is read, nothing read is interpreted beyond NUL
 * terminators. Nothing here touches the caller's filesystem: readlink of
 * /proc magic links, reads of /proc files, and process_vm_readv of the
 * task's memory only. */
#include "cmdrec_int.h"

#include "nsgate/cmdline.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#define PAGE 4096

/* The task's memory, read with process_vm_readv: the ptrace access check
 * only (CAP_SYS_PTRACE), not /proc/TID/mem's file mode (0600, the task's
 * uid: opening it would need CAP_DAC_OVERRIDE for a session that does not
 * run as root), and the task's own page protections, as its exec's copy of
 * argv has them. err: the first failure that is not a fault (EPERM, ESRCH). */
struct mem {
    pid_t tid;
    int err;
};

static ssize_t peek(struct mem *m, void *buf, size_t len, uint64_t addr)
{
    struct iovec local = {buf, len};
    struct iovec remote = {(void *)(uintptr_t)addr, len};
    ssize_t got = process_vm_readv(m->tid, &local, 1, &remote, 1, 0);

    if (got < 0 && errno != EFAULT && m->err == 0)
        m->err = errno;
    return got;
}

/* Copy the C string at addr (at most max bytes, NUL excluded) into out;
 * reads never cross a page boundary, so a string that ends just before an
 * unmapped page is read whole. Returns its length; *ret_cut when no NUL
 * came within max bytes or a fault cut it. */
static size_t read_cstr(struct mem *mem, uint64_t addr, uint8_t *out, size_t max, int *ret_cut)
{
    size_t n = 0;

    *ret_cut = 1;
    while (n < max) {
        size_t want = PAGE - (size_t)((addr + n) % PAGE);
        if (want > max - n)
            want = max - n;
        ssize_t got = peek(mem, out + n, want, addr + n);
        if (got <= 0)
            return n;
        uint8_t *nul = memchr(out + n, '\0', (size_t)got);
        if (nul) {
            *ret_cut = 0;
            return (size_t)(nul - out);
        }
        n += (size_t)got;
    }
    return n;
}

/* Up to max pointers of the vector at addr (never past the page's end: a
 * vector that ends before an unmapped page is read whole). The count
 * read; 0 on a fault. */
static size_t read_ptrs(struct mem *mem, uint64_t addr, int ptr, uint64_t *out, size_t max)
{
    uint8_t b[64 * 8];
    size_t want = max * (size_t)ptr, room = PAGE - (size_t)(addr % PAGE);

    if (want > room)
        want = room;
    if (want > sizeof(b))
        want = sizeof(b);
    ssize_t got = peek(mem, b, want, addr);
    size_t n = got > 0 ? (size_t)got / (size_t)ptr : 0;
    for (size_t i = 0; i < n; i++) {
        if (ptr == 8) {
            uint64_t v;
            memcpy(&v, b + 8 * i, 8);
            out[i] = v;
        } else {
            uint32_t v;
            memcpy(&v, b + 4 * i, 4);
            out[i] = v;
        }
    }
    return n;
}

/* argv: each argument and its NUL, NG_CMD_ARGV_MAX bytes in all. */
static int read_argv(struct mem *mem, uint64_t vec, int ptr, struct ng_cmd_info *in)
{
    uint8_t *buf = malloc(NG_CMD_ARGV_MAX);
    uint64_t ptrs[64];
    size_t used = 0, have = 0, next = 0;

    if (!buf)
        return -ENOMEM;
    for (uint64_t i = 0; vec; i++) {
        int cut;
        if (next == have) {
            have = read_ptrs(mem, vec + i * (uint64_t)ptr, ptr, ptrs, 64);
            next = 0;
        }
        if (next == have || ptrs[next] == 0)
            break;
        uint64_t p = ptrs[next++];
        if (used == NG_CMD_ARGV_MAX) {
            in->truncated = 1;
            break;
        }
        size_t n = read_cstr(mem, p, buf + used, NG_CMD_ARGV_MAX - used - 1, &cut);
        buf[used + n] = '\0';
        used += n + 1;
        if (cut) {
            in->truncated = 1;
            break;
        }
    }
    in->argv = buf;
    in->argv_len = used;
    return 0;
}

/* One read of a small /proc file at dirfd (the kernel fills a read of a
 * seq_file in one go: no second read for the end), NUL-terminated. */
static ssize_t read_small(int dirfd, const char *name, char *buf, size_t size)
{
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? -ESRCH : -errno;
    ssize_t n = read(fd, buf, size - 1);
    int e = errno;
    close(fd);
    if (n < 0)
        return e == ESRCH ? -ESRCH : -EIO;
    buf[n] = '\0';
    return n;
}

/* readlink of a magic link of the task (cwd, exe, fd/N), as the task sees
 * it: a path under the task's own root (chroot, in->root) loses that
 * prefix. malloc'd, or NULL. */
static char *read_link(const struct ng_cmd_info *in, const char *what)
{
    char buf[PATH_MAX + 1];
    ssize_t n = readlinkat(in->dir, what, buf, sizeof(buf) - 1);

    if (n < 0)
        return NULL;
    buf[n] = '\0';
    size_t rl = in->root ? strlen(in->root) : 0;
    if (rl > 1 && buf[0] == '/' && strncmp(buf, in->root, rl) == 0 &&
        (buf[rl] == '/' || buf[rl] == '\0'))
        return strdup(buf[rl] ? buf + rl : "/");
    return strdup(buf);
}

/* What execveat's dirfd names. /proc/TID/fd is the task's uid's alone
 * (mode 0500): for a task of another uid it cannot be read without
 * CAP_DAC_READ_SEARCH, which the recorder does not keep (nor pidfd_getfd,
 * which would let it take any process's descriptors): then NULL, and the
 * event has no "at" (the exe read after the exec still names the file). */
static char *dirfd_link(const struct ng_cmd_info *in)
{
    char name[32];

    snprintf(name, sizeof(name), "fd/%d", (int)in->dirfd);
    return read_link(in, name);
}

static int read_ids(int dirfd, struct ng_proc_ids *ret)
{
    char text[4096];
    ssize_t n = read_small(dirfd, "status", text, sizeof(text));

    if (n < 0)
        return (int)n;
    return ng_parse_status_ids(text, ret) < 0 ? -EIO : 0;
}

/* The effective ids as the task's own user namespace sees them, when that
 * is not the host's: its maps (read from the host, so "inside outside")
 * are kept for the next task of the same namespace. */
static void ns_ids(struct ng_cmdrec *c, struct ng_cmd_info *in)
{
    char ns[64];
    ssize_t n = readlinkat(in->dir, "ns/user", ns, sizeof(ns) - 1);

    if (n <= 0)
        return;
    ns[n] = '\0';
    if (strcmp(ns, c->host_userns) == 0)
        return;
    if (strcmp(ns, c->userns) != 0) {
        c->userns[0] = '\0';
        if (read_small(in->dir, "uid_map", c->uid_map, NG_CMDREC_MAP_MAX) < 0 ||
            read_small(in->dir, "gid_map", c->gid_map, NG_CMDREC_MAP_MAX) < 0)
            return;
        snprintf(c->userns, sizeof(c->userns), "%s", ns);
    }
    uint32_t v;
    in->own_userns = 1;
    in->ns_uid = ng_idmap_to_inside(c->uid_map, in->ids.uid[1], &v) == 0 ? v : 65534;
    in->ns_gid = ng_idmap_to_inside(c->gid_map, in->ids.gid[1], &v) == 0 ? v : 65534;
}

/* The parent's pid in the target's pid namespace, kept for the next exec of
 * the same parent (a shell runs many): valid while the parent's /proc
 * directory, held open, still answers (it stands for that process, not its
 * pid number: once the process is gone every lookup in it fails, even when
 * the pid is another's by then). */
static int64_t parent_ns_pid(struct ng_cmdrec *c, pid_t ppid)
{
    char name[32];
    struct ng_proc_ids parent;
    size_t lv = (size_t)c->pidns_level;

    if (c->parent_dir >= 0 && c->parent == ppid && faccessat(c->parent_dir, "stat", F_OK, 0) == 0)
        return c->parent_ns;
    ng_closep(&c->parent_dir);
    snprintf(name, sizeof(name), "%d", (int)ppid);
    c->parent = ppid;
    c->parent_ns = 0;
    c->parent_dir = openat(c->proc_fd, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (c->parent_dir >= 0 && read_ids(c->parent_dir, &parent) == 0 && parent.nnspid > lv)
        c->parent_ns = parent.nspid[lv];
    return c->parent_ns;
}

/* The pids as the target's pid namespace sees them (0: not in it). */
static void target_pids(struct ng_cmdrec *c, struct ng_cmd_info *in)
{
    size_t lv = (size_t)c->pidns_level;

    in->pid_ns = in->ids.nnstgid > lv ? in->ids.nstgid[lv] : 0; /* the process, not the thread */
    in->ppid_ns = in->ids.ppid > 0 ? parent_ns_pid(c, (pid_t)in->ids.ppid) : 0;
}

static int read_mem(struct ng_cmd_info *in, int ptr, uint64_t path, uint64_t argv)
{
    int cut, r;
    struct mem mem = {in->tid, 0};

    in->path = malloc(PATH_MAX + 1);
    r = in->path ? 0 : -ENOMEM;
    if (r == 0) {
        in->path_len = read_cstr(&mem, path, in->path, PATH_MAX, &cut);
        in->path[in->path_len] = '\0';
        r = read_argv(&mem, argv, ptr, in);
    }
    if (r == 0 && mem.err)
        r = -mem.err;
    return r;
}

int ng_cmdread_open(const struct ng_cmdrec *c, struct ng_cmd_info *in, pid_t tid)
{
    char name[32], root[PATH_MAX + 1];

    ng_closep(&in->dir);
    in->tid = tid;
    snprintf(name, sizeof(name), "%d", (int)tid);
    in->dir = openat(c->proc_fd, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (in->dir < 0)
        return -ESRCH;
    free(in->root);
    in->root = NULL;
    ssize_t m = readlinkat(in->dir, "root", root, sizeof(root) - 1);
    if (m > 0) {
        root[m] = '\0';
        in->root = strdup(root);
    }
    return 0;
}

int ng_cmdread_before(struct ng_cmdrec *c, pid_t tid, int execveat, int ptr, const uint64_t args[6],
                      struct ng_cmd_info *ret)
{
    struct ng_cmd_info *in = ret;

    memset(in, 0, sizeof(*in));
    in->dir = -1;
    in->t_ns = ng_store_session_now_ns(c->sess);
    in->execveat = execveat;
    int r = ng_cmdread_open(c, in, tid);
    if (r == 0)
        r = read_ids(in->dir, &in->ids);
    if (r == 0 && c->pidns_level >= 0)
        target_pids(c, in);
    if (r == 0)
        ns_ids(c, in);
    if (r == 0)
        in->cwd = read_link(in, "cwd");
    if (r == 0 && execveat) {
        in->dirfd = (int32_t)args[0];
        in->flags = args[4];
        if (in->dirfd != AT_FDCWD)
            in->at = dirfd_link(in);
    }
    if (r == 0)
        r = read_mem(in, ptr, args[execveat ? 1 : 0], args[execveat ? 2 : 1]);
    if (r < 0)
        ng_cmdread_free(in);
    return r;
}

int ng_cmdread_after(struct ng_cmd_info *in, char **ret_exe)
{
    uint8_t *buf = malloc(NG_CMD_ARGV_MAX + 1);

    *ret_exe = read_link(in, "exe");
    if (!buf)
        return -ENOMEM;
    int fd = openat(in->dir, "cmdline", O_RDONLY | O_CLOEXEC);
    ssize_t n = 0, got;
    while (fd >= 0 && (size_t)n < NG_CMD_ARGV_MAX + 1 &&
           (got = read(fd, buf + n, NG_CMD_ARGV_MAX + 1 - (size_t)n)) > 0) {
        n += got;
        if (got < PAGE) /* the kernel fills a read up to the end of argv */
            break;
    }
    ng_closep(&fd);
    if (n <= 0) { /* nothing to read: what was read before, unverified */
        free(buf);
        return 1;
    }
    free(in->argv);
    in->truncated = n > NG_CMD_ARGV_MAX;
    if (in->truncated) { /* cut at the last whole argument */
        uint8_t *nul = memrchr(buf, '\0', NG_CMD_ARGV_MAX);
        n = nul ? nul - buf + 1 : 0;
    }
    in->argv = buf;
    in->argv_len = (size_t)n;
    return 0;
}

void ng_cmdread_free(struct ng_cmd_info *in)
{
    ng_closep(&in->dir);
    in->dir = -1;
    free(in->root);
    in->root = NULL;
    free(in->cwd);
    free(in->path);
    free(in->argv);
    free(in->at);
    in->cwd = in->at = NULL;
    in->path = in->argv = NULL;
}

/* ---- the event ----------------------------------------------------------- */

static int set_bytes(json_t *o, const char *key, const void *p, size_t len)
{
    char *e = p ? ng_cmd_escape(p, len) : NULL;
    int r = json_object_set_new(o, key, e ? json_string(e) : json_null());
    int fail = p && !e;
    free(e);
    return r < 0 || fail ? -ENOMEM : 0;
}

static int set_int(json_t *o, const char *key, int64_t v)
{
    return json_object_set_new(o, key, json_integer(v)) < 0 ? -ENOMEM : 0;
}

static int set_ids(const struct ng_cmdrec *c, json_t *o, const struct ng_cmd_info *in)
{
    const struct ng_proc_ids *ids = &in->ids;
    int r = 0;

    if (c->pidns_level >= 0) {
        r |= set_int(o, "pid", in->pid_ns) | set_int(o, "ppid", in->ppid_ns);
        r |= set_int(o, "host_pid", ids->tgid) | set_int(o, "host_ppid", ids->ppid);
    } else {
        r |= set_int(o, "pid", ids->tgid) | set_int(o, "ppid", ids->ppid);
    }
    if (in->own_userns) {
        r |= set_int(o, "uid", in->ns_uid) | set_int(o, "gid", in->ns_gid);
        r |= set_int(o, "host_uid", ids->uid[1]) | set_int(o, "host_gid", ids->gid[1]);
    } else {
        r |= set_int(o, "uid", ids->uid[1]) | set_int(o, "gid", ids->gid[1]);
    }
    return r ? -ENOMEM : 0;
}

static int set_argv(json_t *o, const struct ng_cmd_info *in)
{
    json_t *a = json_array();

    if (!a || json_object_set_new(o, "argv", a) < 0)
        return -ENOMEM;
    for (size_t i = 0; i < in->argv_len;) {
        const uint8_t *nul = memchr(in->argv + i, '\0', in->argv_len - i);
        size_t n = nul ? (size_t)(nul - (in->argv + i)) : in->argv_len - i;
        char *e = ng_cmd_escape(in->argv + i, n);
        if (!e || json_array_append_new(a, json_string(e)) < 0) {
            free(e);
            return -ENOMEM;
        }
        free(e);
        i += n + 1;
    }
    return 0;
}

static json_t *event_json(const struct ng_cmdrec *c, const struct ng_cmd_info *in, int64_t result,
                          const char *exe, int verified)
{
    json_t *o = json_object();
    int r = o ? 0 : -ENOMEM;

    r = r ? r : set_int(o, "t_ns", in->t_ns);
    r = r ? r : set_ids(c, o, in);
    r = r ? r : set_bytes(o, "cwd", in->cwd, in->cwd ? strlen(in->cwd) : 0);
    r = r ? r : set_bytes(o, "path", in->path, in->path_len);
    if (r == 0 && in->execveat) {
        r = json_object_set_new(o, "syscall", json_string("execveat")) < 0 ? -ENOMEM : 0;
        r = r ? r : set_int(o, "dirfd", in->dirfd);
        r = r ? r : set_int(o, "flags", (int64_t)(in->flags & 0xffffffff));
        r = r ? r : (in->at ? set_bytes(o, "at", in->at, strlen(in->at)) : 0);
    }
    r = r ? r : set_bytes(o, "exe", exe, exe ? strlen(exe) : 0);
    r = r ? r : set_argv(o, in);
    if (r == 0 && in->truncated)
        r = json_object_set_new(o, "truncated", json_true()) < 0 ? -ENOMEM : 0;
    if (r == 0)
        r = json_object_set_new(o, "result", result >= 0 ? json_integer(result) : json_null());
    if (r == 0)
        r = json_object_set_new(o, "verified", json_boolean(verified));
    if (r < 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

int ng_cmdrec_record(struct ng_cmdrec *c, const struct ng_cmd_info *in, int64_t result,
                     const char *exe, int verified)
{
    json_t *o = event_json(c, in, result, exe, verified);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    int r;

    json_decref(o);
    if (!text)
        return -ENOMEM;
    r = ng_store_event(c->sess, 'c', text, strlen(text));
    free(text);
    if (r == 0) {
        c->recorded++;
        c->unverified += !verified;
    }
    return r;
}
