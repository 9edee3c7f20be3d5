/* nsgate enter, after the decision: the session's cgroup, descriptors and
 * store, the entering child (enter.c), the relay (relay.c) with the
 * recorder (recorder.c) and the sealer (sealer.c), and the audit records of
 * the session's start, checkpoints and end (audit.md). */
#include "cmd_enter_int.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

static int plan_creds(struct session *s)
{
    struct ng_credplan_in in = s->rq.pr.cred;

    in.c = s->c;
    int r = ng_credplan_compute(&in, &s->creds);
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
static int capture_confinement(struct session *s)
{
    enum ng_confine_fail fail;
    const char *why = NULL;

    if (s->c->confinement != NG_CONFINE_TARGET)
        return 0;
    int r = ng_confine_capture(&s->rq.t, &s->confine, &fail, &why);
    if (r == 0)
        return 0;
    if (fail == NG_CONFINE_GONE)
        return ng_err("target %d is gone", (int)s->rq.t.pid), NG_EXIT_TARGET;
    ng_err("cannot give the program the target's confinement: %s; nothing was entered", why);
    return fail == NG_CONFINE_HOST ? NG_EXIT_INTERNAL : NG_EXIT_TARGET;
}

/* docs/security.md "The caller cannot reach into the session": the
 * decision said how; an isolated session gets its host uid and maps here. A
 * uid that cannot be had leaves the session unprotected: refused, unless
 * the rule accepts that (caller_reach = allow). */
static int plan_reach(struct session *s)
{
    const char *why = NULL;

    s->reach = s->dec.reach;
    if (s->reach != NG_REACH_USERNS)
        return 0;
    int r = ng_isolate_pick_uid(getpid(), &s->isolate_uid, &why);
    if (r == 0) {
        r = ng_reach_uid_map(&s->creds, s->isolate_uid, s->uid_map, sizeof(s->uid_map));
        if (r == 0)
            r = ng_reach_gid_map(&s->creds, s->gid_map, sizeof(s->gid_map));
        if (r < 0)
            why = "the caller's groups do not fit in a user namespace's gid map";
    }
    if (r == 0)
        return 0;
    if (!s->c->caller_reach_allow) {
        ng_err("the session cannot be kept out of the caller's reach: %s; refused "
               "(caller_reach = deny)",
               why);
        return NG_EXIT_DENIED;
    }
    ng_warn("the session cannot be kept out of the caller's reach: %s; it runs unprotected "
            "(caller_reach = allow)",
            why);
    s->reach = NG_REACH_ALLOWED;
    return 0;
}

static int prepare_program(struct session *s)
{
    extern char **environ;

    if (s->o.argv) {
        s->argv = s->o.argv;
    } else {
        s->shell_argv[0] = (char *)(uintptr_t)s->c->shell;
        s->shell_argv[1] = NULL;
        s->argv = s->shell_argv;
    }
    if (ng_env_build(&s->env, environ, s->creds.ids.uid, s->id_text, s->c->setenv, s->c->nsetenv) <
        0) {
        ng_err("cannot build the program's environment");
        return NG_EXIT_INTERNAL;
    }
    return 0;
}

static int block_signals(struct session *s)
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
    s->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    return s->sigfd < 0 ? -errno : 0;
}

static int open_descriptors(struct session *s)
{
    s->host_proc_fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (s->host_proc_fd < 0)
        return -errno;
    if (s->rq.ns & (1u << NG_NS_MNT)) {
        s->root_fd = openat(s->rq.t.proc_fd, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (s->root_fd < 0)
            return -ESRCH;
        s->cwd_fd = openat(s->rq.t.proc_fd, "cwd", O_PATH | O_DIRECTORY | O_CLOEXEC);
    }
    if (s->use_pty) {
        int r = ng_tty_open(&s->tty, 0);
        if (r < 0)
            return r;
    } else if (pipe2(s->in, O_CLOEXEC) < 0 || pipe2(s->out, O_CLOEXEC) < 0 ||
               pipe2(s->err, O_CLOEXEC) < 0) {
        return -errno;
    }
    if (pipe2(s->errp, O_CLOEXEC) < 0 || pipe2(s->statp, O_CLOEXEC) < 0 ||
        pipe2(s->gop, O_CLOEXEC) < 0)
        return -errno;
    return block_signals(s);
}

static void read_self_id(const char *file, int64_t *ret)
{
    char buf[32];
    uint64_t v;
    *ret = -1;
    if (ng_read_file_at(AT_FDCWD, file, buf, sizeof(buf)) > 0) {
        buf[strcspn(buf, "\n")] = '\0';
        if (ng_parse_u64(buf, 0, UINT32_MAX - 1, &v) == 0)
            *ret = (int64_t)v;
    }
}

/* Schema 3: the name and pod attributes, and what confinement applied. */
static void header_confinement(const struct session *s, struct ng_session_header *h)
{
    const struct ng_confine *cf = &s->confine;

    h->target_name = s->rq.t.attrs.v[NG_ATTR_NAME];
    h->target_pod = s->rq.t.attrs.v[NG_ATTR_POD];
    h->confinement = cf->active ? "target" : "none";
    h->seccomp_filters = cf->active ? (int64_t)cf->nfilters : -1;
    h->seccomp_hash = cf->active && cf->nfilters ? cf->hash : NULL;
    h->lsm = cf->active && cf->lsm != NG_LSM_NONE ? ng_lsm_name(cf->lsm) : NULL;
    h->lsm_label = h->lsm ? cf->label : NULL;
}

/* The sessions row: everything known before entry (recording.md). */
static int begin_session(struct session *s)
{
    struct ng_session_header h;
    struct utsname un;
    char caps[160];
    const struct ng_creds *cr = &s->creds;
    uint32_t groups[NG_MAX_GROUPS];

    memset(&h, 0, sizeof(h));
    h.id = s->id;
    h.host = uname(&un) == 0 ? un.nodename : "?";
    h.user_name = s->acct;
    h.uid = s->caller->uid;
    h.gid = s->caller->gid;
    for (size_t i = 0; i < s->rq.caller.ngroups; i++)
        groups[i] = s->rq.caller.groups[i];
    h.groups = groups;
    h.ngroups = s->rq.caller.ngroups;
    read_self_id("/proc/self/loginuid", &h.login_uid);
    read_self_id("/proc/self/sessionid", &h.audit_session);
    h.tty = isatty(0) ? ttyname(0) : NULL;
    h.target_pid = s->rq.t.pid;
    h.container = s->rq.t.attrs.v[NG_ATTR_CONTAINER];
    h.cgroup = s->rq.t.attrs.v[NG_ATTR_CGROUP];
    h.exe = s->rq.t.attrs.v[NG_ATTR_EXE];
    h.comm = s->rq.t.attrs.v[NG_ATTR_COMM];
    h.target_uid = s->rq.t.attrs.v[NG_ATTR_UID];
    h.ns = s->rq.ns;
    for (int i = 0; i < NG_NS_COUNT; i++)
        h.ns_ino[i] = s->rq.t.ns[i].ino;
    h.program = s->argv[0];
    h.argv = s->argv;
    h.run_as_uid = cr->ids.uid;
    h.run_as_gid = cr->ids.gid;
    h.run_as_groups = cr->ids.groups;
    h.run_as_ngroups = cr->ids.ngroups;
    snprintf(caps, sizeof(caps), "inh=%#llx prm=%#llx eff=%#llx bnd=%#llx amb=%#llx",
             (unsigned long long)cr->inh, (unsigned long long)cr->prm, (unsigned long long)cr->eff,
             (unsigned long long)cr->bnd, (unsigned long long)cr->amb);
    h.run_as_caps = caps;
    h.reason = s->o.reason;
    h.rule = s->dec.rule_name;
    crypto_generichash(h.policy_hash, sizeof(h.policy_hash), (const unsigned char *)s->policy_buf,
                       strlen(s->policy_buf), NULL, 0);
    h.record_input = s->c->record_input;
    h.record_commands = s->c->record_commands;
    h.mask_escrow = s->c->mask_escrow; /* covered by the header hash */
    h.pty = s->use_pty;
    h.caller_reach = ng_reach_name(s->reach);
    header_confinement(s, &h);
    return ng_sealer_session_open(s->sealer, &h, &s->sess);
}

static int seal_tick(void *ctx);

/* What an error of the store means, for a message. -EBUSY is a lock held on
 * its files past the busy timeout: a reviewer can take one with read access
 * alone (security.md), so say who holds it, as far as the kernel tells. */
static const char *store_why(const struct session *s, int r, char *buf, size_t size)
{
    pid_t pid = 0;
    struct stat st;
    char proc[32];

    if (r != -EBUSY)
        return strerror(-r);
    if (ng_store_lock_holder(s->db_path, &pid) == 1 && pid > 0) {
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

/* After the fork, before the child may enter anything: the header, the
 * ledger start and the first seals in one transaction, then the recorder.
 * The child waits on the go pipe, so a failure here means nothing was
 * entered. */
static int start_recording(struct session *s)
{
    char why[128];
    /* A policy that names an escrow key never records without it. */
    if (s->c->mask_escrow_file && !s->c->mask_escrow)
        return ng_err("the escrow key %s was not loaded; nothing was entered",
                      s->c->mask_escrow_file),
               NG_EXIT_INTERNAL;
    int r = begin_session(s);
    if (r == 0 && s->reach == NG_REACH_USERNS) {
        /* Files the program leaves on the host belong to this uid: say
         * which session it was. */
        char m[64];
        int n = snprintf(m, sizeof(m), "isolated as host uid %u", (unsigned)s->isolate_uid);
        r = ng_store_event(s->sess, 'm', m, (size_t)n);
    }
    if (r < 0)
        return ng_err("cannot record the session: %s; nothing was entered",
                      store_why(s, r, why, sizeof(why))),
               NG_EXIT_STORAGE;
    if (ng_recorder_init(&s->rec, s->sess, s->c->record_input, s->use_pty ? s->tty.master : -1) < 0)
        return ng_err("cannot set up the recorder"), NG_EXIT_INTERNAL;
    s->rec.escrow_pk = s->c->mask_escrow;
    s->rec_ok = 1;
    s->rec.audit = s->audit_ok ? &s->audit : NULL;
    s->rec.audit_required = s->audit_required;
    s->sealing = 1;
    s->rec.seal = seal_tick;
    s->rec.seal_ctx = s;
    return 0;
}

/* From here on the recorder reads the container's output: it keeps only
 * what its remaining work needs (parentpriv.h, security.md "The recorder
 * after the fork"). The relay's reopenings of the caller's streams come
 * first: reopening a pipe or terminal the caller owns needs the privilege
 * of the start. The child is still waiting on the go pipe. */
static int confine_recorder(struct session *s)
{
    const char *why = NULL;
    struct ng_parentpriv_needs n = {
        .audit_write = s->audit_ok,
        .audit_status = s->audit_ok && s->audit_required,
        .cgroup_override =
            s->cg.parent_fd >= 0 && ng_parentpriv_dir_needs_override(s->cg.parent_fd) > 0,
        .commands = s->cmdrec_ok,
    };

    s->out_priv = ng_relay_private_out(1);
    s->err_priv = ng_relay_private_out(2);
    int r = ng_parentpriv_restrict(ng_parentpriv_keep(&n), s->rq.last_cap, &why);
    if (r < 0) {
        ng_err("cannot restrict the recorder's privileges (%s: %s); nothing was entered",
               why ? why : "?", strerror(-r));
        return NG_EXIT_INTERNAL;
    }
    return 0;
}

/* System calls the recorder's filter refused since the last look: an 'm'
 * event in the recording, so a review sees them. */
static int note_refusals(struct session *s)
{
    char name[32], m[96];
    unsigned long n = ng_parentpriv_refused(name, sizeof(name));

    if (n == s->refused_seen)
        return 0;
    s->refused_seen = n;
    int len =
        snprintf(m, sizeof(m), "recorder: seccomp refused %lu system calls, last %s", n, name);
    return ng_store_event(s->sess, 'm', m, (size_t)len);
}

/* recording.md: no session starts unless it can be recorded. */
static int open_store(struct session *s)
{
    char dir[4096], why[128];
    struct statvfs vfs;
    int r = ng_store_open(s->db_path, &s->store);

    if (r == -EPROTONOSUPPORT)
        return ng_err("the session store %s was written by a newer nsgate (schema version "
                      "unknown here); no session starts",
                      s->db_path),
               NG_EXIT_STORAGE;
    if (r < 0)
        return ng_err("cannot open the session store %s: %s; no session starts", s->db_path,
                      store_why(s, r, why, sizeof(why))),
               NG_EXIT_STORAGE;
    snprintf(dir, sizeof(dir), "%s", s->db_path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    if (statvfs(slash ? dir : ".", &vfs) == 0 &&
        (uint64_t)vfs.f_bavail * vfs.f_frsize < s->c->min_free)
        return ng_err("the session store's filesystem has less free space than min_free; "
                      "no session starts"),
               NG_EXIT_STORAGE;
    /* Only the public part of the key state is read here: the secret is read
     * at the first seal, after the entering child is forked. */
    r = ng_sealer_open(s->store, s->keys_dir, &s->sealer);
    if (r == -ENOENT)
        return ng_err("no sealing keys in %s: run nsgate keygen first; no session is "
                      "recorded without sealing",
                      s->keys_dir),
               NG_EXIT_STORAGE;
    if (r < 0)
        return ng_err("cannot open the sealing keys in %s: %s", s->keys_dir, strerror(-r)),
               NG_EXIT_STORAGE;
    return 0;
}

int ng_cmd_enter_prepare(struct session *s)
{
    char cgtext[8192];
    int r;

    if ((r = plan_creds(s)) || (r = plan_reach(s)) || (r = prepare_program(s)) ||
        (r = capture_confinement(s)))
        return r;
    if (ng_read_file_at(s->rq.t.proc_fd, "cgroup", cgtext, sizeof(cgtext)) < 0)
        return ng_err("target %d is gone", (int)s->rq.t.pid), NG_EXIT_TARGET;
    r = ng_cgroup_session_create(&s->cg, cgtext, s->c->join_cgroup, s->id_text);
    if (r < 0)
        return ng_err("cannot create the session's cgroup: %s", strerror(-r)), NG_EXIT_INTERNAL;
    if ((r = open_descriptors(s)) < 0) {
        if (r == -ESRCH)
            return ng_err("target %d is gone", (int)s->rq.t.pid), NG_EXIT_TARGET;
        return ng_err("cannot set up the session: %s", strerror(-r)), NG_EXIT_INTERNAL;
    }
    if ((r = ng_cmd_enter_cmds_prepare(s)) != 0)
        return r;
    return open_store(s);
}

__attribute__((noreturn)) static void child(struct session *s)
{
    dev_t dev = 0;
    ino_t ino = 0;
    (void)ng_selfexe_identity(&dev, &ino);
    struct ng_entry_plan p = {
        .t = &s->rq.t,
        .ns = s->rq.ns,
        .host_proc_fd = s->host_proc_fd,
        .root_fd = s->root_fd,
        .cwd_fd = s->cwd_fd,
        .wd = s->o.wd,
        .creds = &s->creds,
        .last_cap = s->rq.last_cap,
        .argv = s->argv,
        .envp = s->env.v,
        .self_dev = dev,
        .self_ino = ino,
        .cg = &s->cg,
        .stdio = {s->in[0], s->out[1], s->err[1]},
        .ctty = s->use_pty,
        .err_fd = s->errp[1],
        .status_fd = s->statp[1],
        .go_fd = s->gop[0],
        .recorder = s->recorder_pid,
        .cmdfilter = s->c->record_commands ? &s->cmdfilter : NULL,
        .cmd_sock = s->cmdsock[1],
        .isolate = s->reach == NG_REACH_USERNS,
        .isolate_uid = s->isolate_uid,
        .uid_map = s->uid_map,
        .gid_map = s->gid_map,
        .confine = s->confine.active ? &s->confine : NULL,
    };
    if (s->use_pty)
        p.stdio[0] = p.stdio[1] = p.stdio[2] = s->tty.slave;
    ng_enter_child(&p);
}

/* The child reports a failure before execve, or the pipe closes on exec
 * (with record_commands, the exec is recorded meanwhile: cmd_enter_cmds.c). */
static int await_exec(struct session *s)
{
    struct ng_enter_err e;

    ng_closep(&s->errp[1]);
    ng_closep(&s->statp[1]);
    ng_closep(&s->in[0]);
    ng_closep(&s->out[1]);
    ng_closep(&s->err[1]);
    ng_closep(&s->tty.slave);
    ng_cgroup_session_close_procs(&s->cg);
    int r = ng_cmd_enter_await(s, &e);
    if (r == 0)
        return 0;
    if (r == 1) {
        e.what[sizeof(e.what) - 1] = '\0';
        if (e.err)
            ng_err("%s: %s", e.what, strerror(e.err));
        else
            ng_err("%s", e.what);
        r = e.exit_code ? e.exit_code : NG_EXIT_INTERNAL;
    } else {
        (void)kill(s->child, SIGKILL);
    }
    int st;
    while (waitpid(s->child, &st, 0) < 0 && errno == EINTR)
        ;
    (void)ng_cgroup_session_kill(&s->cg, 2000);
    (void)ng_cmd_enter_cmds_finish(s);
    return r;
}

static void relay_config(struct session *s, struct ng_relay_cfg *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->caller_in = 0;
    cfg->caller_out = 1;
    cfg->caller_err = 2;
    cfg->prog_in = s->use_pty ? s->tty.master : s->in[1];
    cfg->prog_out = s->use_pty ? s->tty.master : s->out[0];
    cfg->prog_err = s->use_pty ? -1 : s->err[0];
    cfg->pty = s->use_pty;
    cfg->tty_fd = s->tty.caller_fd;
    cfg->caller_out_private = s->out_priv;
    cfg->caller_err_private = s->err_priv;
    cfg->child = s->child;
    cfg->status_fd = ng_enter_needs_fork(s->rq.ns, s->reach == NG_REACH_USERNS) ? s->statp[0] : -1;
    cfg->sigfd = s->sigfd;
    cfg->max_session_ms = s->c->max_session_ms;
    cfg->idle_timeout_ms = s->c->idle_timeout_ms;
    cfg->max_output = s->c->max_output;
    cfg->tick_ms = (int)s->c->seal_interval_ms;
    cfg->ops.record = ng_recorder_record;
    cfg->ops.tick = ng_recorder_tick;
    cfg->ops.ctx = &s->rec;
    cfg->cmd_fd = s->cmdrec_ok ? s->cmdrec.listener : -1;
    cfg->ctl_fd = -1;
    cfg->ops.flush = ng_control_flush; /* watchers: at most ~250 ms behind */
    cfg->ops.flush_ctx = s->sess;
    ng_cmd_enter_control_relay(s, cfg);
    if (s->cmdrec_ok) {
        cfg->ops.cmd_notify = ng_cmdrec_notify;
        cfg->ops.cmd_reap = ng_cmdrec_reap;
        cfg->ops.cmd_stopped = ng_cmdrec_stopped;
        cfg->ops.cmd_ctx = &s->cmdrec;
    }
    s->in[1] = -1; /* the relay closes it at end of input */
}

static const char *end_text(const struct ng_relay_result *res)
{
    static const char *const t[] = {
        [NG_END_EXIT] = "",
        [NG_END_MAX_SESSION] = " (max_session reached)",
        [NG_END_IDLE] = " (idle_timeout reached)",
        [NG_END_SIGNAL] = " (nsgate was told to stop)",
        [NG_END_RECORD_FAIL] = " (recording failed)",
        [NG_END_OUTPUT_LIMIT] = " (output limit reached)",
        [NG_END_AUDIT_LOST] = " (audit trail lost)",
        [NG_END_TERMINATED] = " (terminated from outside: nsgate terminate)",
    };
    return (unsigned)res->reason < NG_ARRAY_SIZE(t) ? t[res->reason] : "";
}

static const char *end_word(const struct ng_relay_result *res)
{
    static const char *const w[] = {
        [NG_END_EXIT] = "exit",
        [NG_END_MAX_SESSION] = "max-session",
        [NG_END_IDLE] = "idle-timeout",
        [NG_END_SIGNAL] = "signal",
        [NG_END_RECORD_FAIL] = "record-failure",
        [NG_END_OUTPUT_LIMIT] = "output-limit",
        [NG_END_AUDIT_LOST] = "audit-lost",
        [NG_END_TERMINATED] = "terminated",
    };
    return (unsigned)res->reason < NG_ARRAY_SIZE(w) ? w[res->reason] : "error";
}

static void hex32(const uint8_t *b, char out[65])
{
    sodium_bin2hex(out, 65, b, 32);
}

/* CRYPTO_KEY_USER for every epoch key the sealer made (epochs from+1..to). */
static void audit_keys(struct session *s, uint64_t from, uint64_t to)
{
    struct ng_fskey_cert c;
    char fp[65];
    for (uint64_t e = from + 1; s->audit_ok && e <= to && e > from; e++) {
        if (ng_sealer_read_cert(s->sealer, e, &c) < 0)
            continue;
        sodium_bin2hex(fp, sizeof(fp), c.pk, sizeof(c.pk));
        struct ng_audit_key k = {.op = NG_AUDIT_KEY_CREATE, .fp = fp, .epoch = e};
        if (ng_audit_log_key(&s->audit, &k) < 0)
            ng_warn("cannot write an epoch change to the audit trail");
    }
}

/* USER_START: namespaces entered, recording live. */
static int audit_started(struct session *s)
{
    char hdr[65];
    hex32(ng_store_session_header_hash(s->sess), hdr);
    struct ng_audit_start e = {
        .acct = s->acct,
        .opid = s->rq.t.pid,
        .container = s->rq.t.attrs.v[NG_ATTR_CONTAINER],
        .argv = s->argv,
        .reason = s->o.reason,
        .uuid = s->id_text,
        .hdr = hdr,
        .ok = 1,
    };
    int r = s->audit_ok ? ng_audit_log_start(&s->audit, &e) : 0;
    if (r < 0 && s->audit_required)
        return r;
    s->started = 1;
    return 0;
}

static void audit_error(struct session *s, const char *what)
{
    struct ng_audit_error e = {.uuid = s->id_text, .what = what};
    if (s->audit_ok && ng_audit_log_error(&s->audit, &e) < 0)
        ng_warn("cannot write to the audit trail");
}

/* The x event, then USER_END with the final sequence number and head. */
static int finish_session(struct session *s, int status, const char *reason, int left)
{
    char m[64], head[65];
    uint8_t h[32];
    int r = 0;

    if (left > 0) {
        int n = snprintf(m, sizeof(m), "left-over processes killed: %d", left);
        r = ng_store_event(s->sess, 'm', m, (size_t)n);
    }
    if (r == 0)
        r = note_refusals(s);
    int e = ng_sealer_session_end(s->sealer, s->sess, status, reason);
    if (r == 0)
        r = e;
    uint64_t from = 0, to = 0;
    ng_sealer_take_created(s->sealer, &from, &to);
    audit_keys(s, from, to);
    int64_t seq = ng_store_session_committed(s->sess, h);
    hex32(h, head);
    struct ng_audit_end ev = {.acct = s->acct,
                              .uuid = s->id_text,
                              .seqno = (uint64_t)seq,
                              .head = head,
                              .exit_status = status,
                              .reason = reason};
    if (s->audit_ok && s->started && ng_audit_log_end(&s->audit, &ev) < 0)
        ng_warn("cannot write the end of the session to the audit trail");
    return r;
}

/* The recorder's seal hook: seal, and at an epoch change checkpoint the
 * session in the audit trail (integrity.md property 5). */
static int seal_tick(void *ctx)
{
    struct session *s = ctx;
    struct ng_sealer_epoch_change chg;
    char head[65];

    if (!s->sealing)
        return 0;
    int r = note_refusals(s); /* before the seal, which covers it */
    if (r < 0)
        return r;
    r = ng_sealer_tick(s->sealer, s->sess, s->c->seal_interval_ms, &chg);
    if (r <= 0)
        return r;
    hex32(chg.head, head);
    struct ng_audit_checkpoint cp = {
        .uuid = s->id_text, .seqno = (uint64_t)chg.seq, .head = head, .epoch = chg.new_epoch};
    if (s->audit_ok && ng_audit_log_checkpoint(&s->audit, &cp) < 0 && s->audit_required)
        return -ENOLINK;
    audit_keys(s, chg.created_from, chg.created_to);
    return 0;
}

/* The child is still waiting on the go pipe: nothing was entered. */
static void stop_child(struct session *s)
{
    (void)kill(s->child, SIGKILL);
    while (waitpid(s->child, NULL, 0) < 0 && errno == EINTR)
        ;
    (void)ng_cgroup_session_kill(&s->cg, 2000);
}

int ng_cmd_enter_run(struct session *s)
{
    struct ng_relay_result res;
    struct ng_relay_cfg cfg;
    int r;

    if (ng_target_alive(&s->rq.t) < 0)
        return ng_err("target %d is gone", (int)s->rq.t.pid), NG_EXIT_TARGET;
    if (!s->o.quiet)
        fprintf(stderr, "nsgate: session %s started (target %d, rule %s); recorded%s\n", s->id_text,
                (int)s->rq.t.pid, s->dec.rule_name,
                s->audit_ok ? " and audited" : ", NOT audited (audit trail unavailable)");
    s->recorder_pid = getpid();
    s->child = fork();
    if (s->child < 0)
        return ng_err("fork: %s", strerror(errno)), NG_EXIT_INTERNAL;
    if (s->child == 0)
        child(s);
    ng_closep(&s->gop[0]);
    const char *unapproved = NULL;
    if ((r = start_recording(s)) == 0 && (r = ng_cmd_enter_cmds_start(s)) == 0 &&
        (r = ng_cmd_enter_control_start(s, &unapproved)) != 0 && unapproved) {
        stop_child(s); /* not approved: nothing was entered */
        (void)finish_session(s, r, unapproved, 0);
        return r;
    }
    if (r == 0 && (r = confine_recorder(s)) != 0) {
        stop_child(s);
        audit_error(s, "cannot restrict the recorder's privileges");
        (void)finish_session(s, r, "confine-failed", 0);
        return r;
    }
    if (r != 0 || ng_write_all(s->gop[1], "g", 1) < 0) {
        stop_child(s);
        return r ? r : NG_EXIT_INTERNAL;
    }
    ng_closep(&s->gop[1]);
    if ((r = await_exec(s)) != 0) {
        audit_error(s, "entry failed before the program started");
        (void)finish_session(s, r, "entry-failed", 0);
        return r;
    }
    if (audit_started(s) < 0) {
        ng_err("cannot write the session start to the audit trail; ending it");
        ng_relay_terminate(s->child, 0);
        (void)ng_cgroup_session_kill(&s->cg, 2000);
        (void)finish_session(s, NG_EXIT_AUDIT, "audit-lost", 0);
        return NG_EXIT_AUDIT;
    }
    relay_config(s, &cfg);
    if (s->use_pty && ng_tty_raw(&s->tty) < 0)
        ng_warn("cannot put the terminal in raw mode");
    ng_relay_run(&cfg, &res);
    ng_tty_restore(&s->tty);
    if (res.reason == NG_END_EXIT)
        ng_cmd_enter_cmds_drain(s);
    if (res.reason != NG_END_EXIT) {
        /* SIGHUP to every process of the session, SIGKILL after a grace. */
        ng_cgroup_session_signal(&s->cg, SIGHUP);
        ng_relay_terminate(s->child, 2000);
    }
    int left = 0;
    if (s->c->leave_processes)
        ng_cgroup_session_release(&s->cg);
    else
        left = ng_cgroup_session_kill(&s->cg, 2000);
    if (ng_cmd_enter_cmds_finish(s) < 0 && res.reason == NG_END_EXIT) {
        res.reason = NG_END_RECORD_FAIL;
        res.record_err = -EIO;
    }
    int status = ng_relay_exit_status(&res);
    if (res.reason == NG_END_RECORD_FAIL || res.reason == NG_END_AUDIT_LOST)
        audit_error(s, res.reason == NG_END_RECORD_FAIL ? "recording failed" : "audit trail lost");
    if (finish_session(s, status, end_word(&res), left) < 0 && res.reason == NG_END_EXIT) {
        ng_err("the end of session %s could not be recorded", s->id_text);
        status = NG_EXIT_STORAGE;
    }
    char why[128];
    if (res.reason == NG_END_RECORD_FAIL)
        ng_err("recording failed (%s): the session was stopped; what was recorded is kept",
               store_why(s, res.record_err, why, sizeof(why)));
    if (s->refused_seen)
        ng_warn("the recorder's system call filter refused %lu calls (recorded in the session)",
                s->refused_seen);
    if (!s->o.quiet)
        fprintf(stderr, "nsgate: session %s ended, exit %d%s%s\n", s->id_text, status,
                end_text(&res), left > 0 ? "; left-over processes killed" : "");
    else if (res.reason != NG_END_EXIT) /* why it was ended is shown even with -q */
        fprintf(stderr, "nsgate: session %s ended%s\n", s->id_text, end_text(&res));
    return status;
}
