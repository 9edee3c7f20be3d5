/* Reading one exec from /proc/TID, and its 'c' event (cmdrec_int.h). The
 * caller's memory is hostile: every read is bounded (argv at most
 * NG_CMD_ARGV_MAX bytes in all, a path at most PATH_MAX), a fault only
 * shortens what is read, nothing read is interpreted beyond NUL
 * terminators. Nothing here touches the caller's filesystem: readlink of
 * /proc magic links and reads of /proc files only. */
#include "cmdrec_int.h"

#include "nsgate/cmdline.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PAGE 4096

/* Copy the C string at addr (at most max bytes, NUL excluded) into out;
 * reads never cross a page boundary, so a string that ends just before an
 * unmapped page is read whole. Returns its length; *ret_cut when no NUL
 * came within max bytes or a fault cut it. */
static size_t read_cstr(int mem, uint64_t addr, uint8_t *out, size_t max, int *ret_cut)
{
    size_t n = 0;

    *ret_cut = 1;
    while (n < max) {
        size_t want = PAGE - (size_t)((addr + n) % PAGE);
        if (want > max - n)
            want = max - n;
        ssize_t got = pread(mem, out + n, want, (off_t)(addr + n));
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

static int read_ptr(int mem, uint64_t addr, int ptr, uint64_t *ret)
{
    uint8_t b[8];

    if (pread(mem, b, (size_t)ptr, (off_t)addr) != ptr)
        return -EFAULT;
    if (ptr == 8) {
        uint64_t v;
        memcpy(&v, b, 8);
        *ret = v;
    } else {
        uint32_t v;
        memcpy(&v, b, 4);
        *ret = v;
    }
    return 0;
}

/* argv: each argument and its NUL, NG_CMD_ARGV_MAX bytes in all. */
static int read_argv(int mem, uint64_t vec, int ptr, struct ng_cmd_info *in)
{
    uint8_t *buf = malloc(NG_CMD_ARGV_MAX);
    size_t used = 0;

    if (!buf)
        return -ENOMEM;
    for (uint64_t i = 0; vec; i++) {
        uint64_t p;
        int cut;
        if (read_ptr(mem, vec + i * (uint64_t)ptr, ptr, &p) < 0 || p == 0)
            break;
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

/* readlink of a /proc/TID magic link, as the task sees it: a path under the
 * task's own root (chroot) loses that prefix. malloc'd, or NULL. */
static char *read_link(const struct ng_cmdrec *c, pid_t tid, const char *what)
{
    char path[64], buf[PATH_MAX + 1], root[PATH_MAX + 1];

    snprintf(path, sizeof(path), "%d/%s", (int)tid, what);
    ssize_t n = readlinkat(c->proc_fd, path, buf, sizeof(buf) - 1);
    if (n < 0)
        return NULL;
    buf[n] = '\0';
    snprintf(path, sizeof(path), "%d/root", (int)tid);
    ssize_t m = readlinkat(c->proc_fd, path, root, sizeof(root) - 1);
    if (m > 1 && buf[0] == '/') {
        root[m] = '\0';
        size_t rl = (size_t)m;
        if (strncmp(buf, root, rl) == 0 && (buf[rl] == '/' || buf[rl] == '\0'))
            return strdup(buf[rl] ? buf + rl : "/");
    }
    return strdup(buf);
}

static int read_ids(const struct ng_cmdrec *c, pid_t pid, struct ng_proc_ids *ret)
{
    char path[64], text[4096];

    snprintf(path, sizeof(path), "%d/status", (int)pid);
    ssize_t n = ng_read_file_at(c->proc_fd, path, text, sizeof(text));
    if (n < 0)
        return n == -EFBIG ? -EIO : -ESRCH;
    return ng_parse_status_ids(text, ret) < 0 ? -EIO : 0;
}

/* The effective ids as the task's own user namespace sees them, when that
 * is not the host's: its maps (read from the host, so "inside outside")
 * are kept for the next task of the same namespace. */
static void ns_ids(struct ng_cmdrec *c, struct ng_cmd_info *in)
{
    char path[64], ns[64];

    snprintf(path, sizeof(path), "%d/ns/user", (int)in->tid);
    ssize_t n = readlinkat(c->proc_fd, path, ns, sizeof(ns) - 1);
    if (n <= 0)
        return;
    ns[n] = '\0';
    if (strcmp(ns, c->host_userns) == 0)
        return;
    if (strcmp(ns, c->userns) != 0) {
        c->userns[0] = '\0';
        snprintf(path, sizeof(path), "%d/uid_map", (int)in->tid);
        if (ng_read_file_at(c->proc_fd, path, c->uid_map, NG_CMDREC_MAP_MAX) < 0)
            return;
        snprintf(path, sizeof(path), "%d/gid_map", (int)in->tid);
        if (ng_read_file_at(c->proc_fd, path, c->gid_map, NG_CMDREC_MAP_MAX) < 0)
            return;
        snprintf(c->userns, sizeof(c->userns), "%s", ns);
    }
    uint32_t v;
    in->own_userns = 1;
    in->ns_uid = ng_idmap_to_inside(c->uid_map, in->ids.uid[1], &v) == 0 ? v : 65534;
    in->ns_gid = ng_idmap_to_inside(c->gid_map, in->ids.gid[1], &v) == 0 ? v : 65534;
}

/* The pids as the target's pid namespace sees them (0: not in it). */
static void target_pids(const struct ng_cmdrec *c, struct ng_cmd_info *in)
{
    struct ng_proc_ids parent;
    size_t lv = (size_t)c->pidns_level;

    in->pid_ns = in->ids.nnstgid > lv ? in->ids.nstgid[lv] : 0; /* the process, not the thread */
    in->ppid_ns = 0;
    if (in->ids.ppid > 0 && read_ids(c, (pid_t)in->ids.ppid, &parent) == 0 && parent.nnspid > lv)
        in->ppid_ns = parent.nspid[lv];
}

static int read_mem(const struct ng_cmdrec *c, struct ng_cmd_info *in, int ptr, uint64_t path,
                    uint64_t argv)
{
    char p[64];
    int cut, r;

    snprintf(p, sizeof(p), "%d/mem", (int)in->tid);
    int mem = openat(c->proc_fd, p, O_RDONLY | O_CLOEXEC);
    if (mem < 0)
        return errno == ENOENT ? -ESRCH : -errno;
    in->path = malloc(PATH_MAX + 1);
    r = in->path ? 0 : -ENOMEM;
    if (r == 0) {
        in->path_len = read_cstr(mem, path, in->path, PATH_MAX, &cut);
        in->path[in->path_len] = '\0';
        r = read_argv(mem, argv, ptr, in);
    }
    close(mem);
    return r;
}

int ng_cmdread_before(struct ng_cmdrec *c, pid_t tid, int execveat, int ptr, const uint64_t args[6],
                      struct ng_cmd_info *ret)
{
    struct ng_cmd_info *in = ret;
    int r;

    memset(in, 0, sizeof(*in));
    in->tid = tid;
    in->t_ns = ng_store_session_now_ns(c->sess);
    in->execveat = execveat;
    r = read_ids(c, tid, &in->ids);
    if (r == 0 && c->pidns_level >= 0)
        target_pids(c, in);
    if (r == 0)
        ns_ids(c, in);
    if (r == 0)
        in->cwd = read_link(c, tid, "cwd");
    if (r == 0 && execveat) {
        in->dirfd = (int32_t)args[0];
        in->flags = args[4];
        if (in->dirfd != AT_FDCWD) {
            char fd[32];
            snprintf(fd, sizeof(fd), "fd/%d", (int)in->dirfd);
            in->at = read_link(c, tid, fd);
        }
    }
    if (r == 0)
        r = read_mem(c, in, ptr, args[execveat ? 1 : 0], args[execveat ? 2 : 1]);
    if (r < 0)
        ng_cmdread_free(in);
    return r;
}

int ng_cmdread_after(const struct ng_cmdrec *c, struct ng_cmd_info *in, char **ret_exe)
{
    char p[64];
    uint8_t *buf = malloc(NG_CMD_ARGV_MAX + 1);

    *ret_exe = read_link(c, in->tid, "exe");
    if (!buf)
        return -ENOMEM;
    snprintf(p, sizeof(p), "%d/cmdline", (int)in->tid);
    int fd = openat(c->proc_fd, p, O_RDONLY | O_CLOEXEC);
    ssize_t n = 0, got;
    while (fd >= 0 && (size_t)n < NG_CMD_ARGV_MAX + 1 &&
           (got = read(fd, buf + n, NG_CMD_ARGV_MAX + 1 - (size_t)n)) > 0)
        n += got;
    if (fd >= 0)
        close(fd);
    if (n <= 0) { /* nothing to read: keep what was read before */
        free(buf);
        return 0;
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
