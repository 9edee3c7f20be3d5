/* nsgate enter, after an allow and before the fork: what the program gets
 * (credentials, the caller's reach, argv and environment, the target's
 * confinement), the session's host side (cgroup, descriptors, the command
 * filter) and the store with the keys' public part. Nothing here has entered
 * anything; a failure refuses the session. */
#include "cmd_enter_int.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

static int plan_creds(struct enter_plan *p, const struct enter_decision *d)
{
    struct ng_credplan_in in = d->rq.pr.cred;

    in.c = d->c;
    int r = ng_credplan_compute(&in, &p->creds);
    if (r < 0) {
        ng_err("cannot compute the program's credentials: %s",
               r == -ERANGE ? "an id is not mapped in the target's user namespace" : strerror(-r));
        return NG_EXIT_INTERNAL;
    }
    return 0;
}

/* confinement = target: copy the target's seccomp filters and LSM label
 * now, before the child is forked (confine.h); a confinement that cannot be
 * copied refuses the session, never an unconfined one. */
static int capture_confinement(struct enter_plan *p, const struct enter_decision *d)
{
    enum ng_confine_fail fail;
    const char *why = NULL;

    if (d->c->confinement != NG_CONFINE_TARGET)
        return 0;
    int r = ng_confine_capture(&d->rq.t, &p->confine, &fail, &why);
    if (r == 0)
        return 0;
    if (fail == NG_CONFINE_GONE)
        return ng_err("target %d is gone", (int)d->rq.t.pid), NG_EXIT_TARGET;
    ng_err("cannot give the program the target's confinement: %s; nothing was entered", why);
    return fail == NG_CONFINE_HOST ? NG_EXIT_INTERNAL : NG_EXIT_TARGET;
}

/* docs/security.md "The caller cannot reach into the session": the
 * decision said how; an isolated session gets its host uid and maps here. A
 * uid that cannot be had leaves the session unprotected: refused, unless
 * the rule accepts that (caller_reach = allow). */
static int plan_reach(struct enter_plan *p, const struct enter_decision *d)
{
    const char *why = NULL;

    p->reach = d->dec.reach;
    if (p->reach != NG_REACH_USERNS)
        return 0;
    int r = ng_isolate_pick_uid(getpid(), &p->isolate_uid, &why);
    if (r == 0) {
        r = ng_reach_uid_map(&p->creds, p->isolate_uid, p->uid_map, sizeof(p->uid_map));
        if (r == 0)
            r = ng_reach_gid_map(&p->creds, p->gid_map, sizeof(p->gid_map));
        if (r < 0)
            why = "the caller's groups do not fit in a user namespace's gid map";
    }
    if (r == 0)
        return 0;
    if (!d->c->caller_reach_allow) {
        ng_err("the session cannot be kept out of the caller's reach: %s; refused "
               "(caller_reach = deny)",
               why);
        return NG_EXIT_DENIED;
    }
    ng_warn("the session cannot be kept out of the caller's reach: %s; it runs unprotected "
            "(caller_reach = allow)",
            why);
    p->reach = NG_REACH_ALLOWED;
    return 0;
}

static int prepare_program(struct enter_plan *p, const struct enter_decision *d,
                           const struct enter_args *a)
{
    extern char **environ;

    if (a->o.argv) {
        p->argv = a->o.argv;
    } else {
        p->shell_argv[0] = (char *)(uintptr_t)d->c->shell;
        p->shell_argv[1] = NULL;
        p->argv = p->shell_argv;
    }
    if (ng_env_build(&p->env, environ, p->creds.ids.uid, d->id_text, d->c->setenv, d->c->nsetenv) <
        0) {
        ng_err("cannot build the program's environment");
        return NG_EXIT_INTERNAL;
    }
    return 0;
}

int ng_cmd_enter_plan(struct enter_plan *p, const struct enter_decision *d,
                      const struct enter_args *a)
{
    int r;

    if ((r = plan_creds(p, d)) || (r = plan_reach(p, d)) || (r = prepare_program(p, d, a)) ||
        (r = capture_confinement(p, d)))
        return r;
    return 0;
}

void ng_cmd_enter_plan_free(struct enter_plan *p)
{
    ng_env_free(&p->env);
    ng_confine_free(&p->confine);
}

void ng_enter_pipe_close(struct enter_pipe *p)
{
    ng_closep(&p->r);
    ng_closep(&p->w);
}

static int open_pipe(struct enter_pipe *p)
{
    int fd[2];

    if (pipe2(fd, O_CLOEXEC) < 0)
        return -errno;
    p->r = fd[0];
    p->w = fd[1];
    return 0;
}

void ng_cmd_enter_host_init(struct enter_host *h)
{
    struct enter_pipe none = {-1, -1};

    h->cg.dir_fd = h->cg.parent_fd = h->cg.v2_root_fd = -1;
    h->host_proc_fd = h->root_fd = h->cwd_fd = h->sigfd = h->out_priv = h->err_priv = -1;
    h->tty.master = h->tty.slave = h->tty.caller_fd = -1;
    h->in = h->out = h->err = h->errp = h->statp = h->gop = h->cmdsock = none;
}

/* A session refused after its cgroup was made (store, keys, space): nothing
 * may be left in it, and the group goes. A no-op after the run, which
 * removes or releases the group itself. */
void ng_cmd_enter_host_close(struct enter_host *h)
{
    if (h->cg.dir_fd >= 0)
        (void)ng_cgroup_session_kill(&h->cg, NG_ENTER_CGROUP_KILL_MS);
    ng_enter_pipe_close(&h->in);
    ng_enter_pipe_close(&h->out);
    ng_enter_pipe_close(&h->err);
    ng_enter_pipe_close(&h->errp);
    ng_enter_pipe_close(&h->statp);
    ng_enter_pipe_close(&h->gop);
    ng_enter_pipe_close(&h->cmdsock);
    ng_cmdfilter_free(&h->cmdfilter);
    ng_closep(&h->sigfd);
    ng_closep(&h->host_proc_fd);
    ng_closep(&h->root_fd);
    ng_closep(&h->cwd_fd);
    ng_closep(&h->out_priv);
    ng_closep(&h->err_priv);
    ng_tty_close(&h->tty);
}

static int block_signals(struct enter_host *h)
{
    sigset_t set;
    int sigs[] = {SIGCHLD, SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGWINCH};

    sigemptyset(&set);
    for (size_t i = 0; i < NG_ARRAY_SIZE(sigs); i++)
        sigaddset(&set, sigs[i]);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
        return -errno;
    signal(SIGTSTP, SIG_IGN);
    signal(SIGTTIN, SIG_IGN);
    signal(SIGTTOU, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    h->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    return h->sigfd < 0 ? -errno : 0;
}

static int open_descriptors(struct enter_host *h, const struct enter_decision *d,
                            const struct enter_args *a)
{
    h->host_proc_fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (h->host_proc_fd < 0)
        return -errno;
    if (d->rq.ns & (1u << NG_NS_MNT)) {
        h->root_fd = openat(d->rq.t.proc_fd, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (h->root_fd < 0)
            return -ESRCH;
        h->cwd_fd = openat(d->rq.t.proc_fd, "cwd", O_PATH | O_DIRECTORY | O_CLOEXEC);
    }
    if (a->use_pty) {
        int r = ng_tty_open(&h->tty, 0);
        if (r < 0)
            return r;
    } else if (open_pipe(&h->in) < 0 || open_pipe(&h->out) < 0 || open_pipe(&h->err) < 0) {
        return -errno;
    }
    if (open_pipe(&h->errp) < 0 || open_pipe(&h->statp) < 0 || open_pipe(&h->gop) < 0)
        return -errno;
    return block_signals(h);
}

int ng_cmd_enter_host(struct enter_host *h, const struct enter_decision *d,
                      const struct enter_args *a)
{
    char cgtext[8192];
    int r;

    if (ng_read_file_at(d->rq.t.proc_fd, "cgroup", cgtext, sizeof(cgtext)) < 0)
        return ng_err("target %d is gone", (int)d->rq.t.pid), NG_EXIT_TARGET;
    r = ng_cgroup_session_create(&h->cg, cgtext, d->c->join_cgroup, d->id_text);
    if (r < 0)
        return ng_err("cannot create the session's cgroup: %s", strerror(-r)), NG_EXIT_INTERNAL;
    if ((r = open_descriptors(h, d, a)) < 0) {
        if (r == -ESRCH)
            return ng_err("target %d is gone", (int)d->rq.t.pid), NG_EXIT_TARGET;
        return ng_err("cannot set up the session: %s", strerror(-r)), NG_EXIT_INTERNAL;
    }
    return ng_cmd_enter_cmds_prepare(h, d->c);
}

void ng_cmd_enter_record_init(struct enter_record *r)
{
    memset(r, 0, sizeof(*r));
    r->cmdrec.listener = r->cmdrec.parent_dir = -1; /* as ng_cmdrec_free leaves it */
}

void ng_cmd_enter_record_close(struct enter_record *r)
{
    ng_cmdrec_free(&r->cmdrec);
    ng_recorder_free(&r->rec);
    ng_store_session_free(r->sess);
    r->sess = NULL;
    ng_sealer_close(r->sealer);
    r->sealer = NULL;
    ng_store_close(r->store);
    r->store = NULL;
}

/* What an error of the store means, for a message. -EBUSY is a lock held on
 * its files past the busy timeout: a reviewer can take one with read access
 * alone (security.md), so say who holds it, as far as the kernel tells. */
const char *ng_cmd_enter_store_why(const char *db_path, int r, char *buf, size_t size)
{
    pid_t pid = 0;
    struct stat st;
    char proc[32];

    if (r != -EBUSY)
        return strerror(-r);
    if (ng_store_lock_holder(db_path, &pid) == 1 && pid > 0) {
        snprintf(proc, sizeof(proc), "/proc/%d", (int)pid);
        if (stat(proc, &st) == 0)
            snprintf(buf, size, "the session store is locked by process %d (uid %u)", (int)pid,
                     (unsigned)st.st_uid);
        else
            snprintf(buf, size, "the session store is locked by process %d", (int)pid);
    } else {
        snprintf(buf, size, "the session store is locked by another process");
    }
    return buf;
}

/* recording.md: no session starts unless it can be recorded. */
int ng_cmd_enter_open_store(struct enter_record *r, const struct enter_decision *d,
                            const struct enter_args *a)
{
    char dir[4096], why[128];
    struct statvfs vfs;
    int e = ng_store_open(a->db_path, &r->store);

    if (e == -EPROTONOSUPPORT)
        return ng_err("the session store %s was written by a newer nsgate (schema version "
                      "unknown here); no session starts",
                      a->db_path),
               NG_EXIT_STORAGE;
    if (e < 0)
        return ng_err("cannot open the session store %s: %s; no session starts", a->db_path,
                      ng_cmd_enter_store_why(a->db_path, e, why, sizeof(why))),
               NG_EXIT_STORAGE;
    snprintf(dir, sizeof(dir), "%s", a->db_path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    if (statvfs(slash ? dir : ".", &vfs) == 0 &&
        (uint64_t)vfs.f_bavail * vfs.f_frsize < d->c->min_free)
        return ng_err("the session store's filesystem has less free space than min_free; "
                      "no session starts"),
               NG_EXIT_STORAGE;
    /* Only the public part of the key state is read here: the secret is read
     * at the first seal, after the entering child is forked. */
    e = ng_sealer_open(r->store, a->keys_dir, &r->sealer);
    if (e == -ENOENT)
        return ng_err("no sealing keys in %s: run nsgate keygen first; no session is "
                      "recorded without sealing",
                      a->keys_dir),
               NG_EXIT_STORAGE;
    if (e < 0)
        return ng_err("cannot open the sealing keys in %s: %s", a->keys_dir, strerror(-e)),
               NG_EXIT_STORAGE;
    return 0;
}
