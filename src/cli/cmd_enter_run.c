/* nsgate enter, the session itself: the entering child (enter.c), the
 * session's header, the relay (relay.c) with the recorder (recorder.c,
 * which seals), and the audit records of the session's start and end
 * (audit.md). What comes before the fork is in cmd_enter_plan.c. */
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
#include <termios.h>
#include <unistd.h>

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
static void header_confinement(const struct enter *e, struct ng_session_header *h)
{
    const struct ng_confine *cf = &e->p.confine;

    h->target_name = e->d.rq.t.attrs.v[NG_ATTR_NAME];
    h->target_pod = e->d.rq.t.attrs.v[NG_ATTR_POD];
    h->confinement = cf->active ? "target" : "none";
    h->seccomp_filters = cf->active ? (int64_t)cf->nfilters : -1;
    h->seccomp_hash = cf->active && cf->nfilters ? cf->hash : NULL;
    h->lsm = cf->active && cf->lsm != NG_LSM_NONE ? ng_lsm_name(cf->lsm) : NULL;
    h->lsm_label = h->lsm ? cf->label : NULL;
}

/* The sessions row: everything known before entry (recording.md). */
static int begin_session(struct enter *e)
{
    struct ng_session_header h;
    struct utsname un;
    char caps[160];
    const struct ng_creds *cr = &e->p.creds;
    uint32_t groups[NG_MAX_GROUPS];

    memset(&h, 0, sizeof(h));
    h.id = e->d.id;
    h.host = uname(&un) == 0 ? un.nodename : "?";
    h.user_name = e->d.acct;
    h.uid = e->a.caller->uid;
    h.gid = e->a.caller->gid;
    for (size_t i = 0; i < e->d.rq.caller.ngroups; i++)
        groups[i] = e->d.rq.caller.groups[i];
    h.groups = groups;
    h.ngroups = e->d.rq.caller.ngroups;
    read_self_id("/proc/self/loginuid", &h.login_uid);
    read_self_id("/proc/self/sessionid", &h.audit_session);
    h.tty = isatty(0) ? ttyname(0) : NULL;
    h.target_pid = e->d.rq.t.pid;
    h.container = e->d.rq.t.attrs.v[NG_ATTR_CONTAINER];
    h.cgroup = e->d.rq.t.attrs.v[NG_ATTR_CGROUP];
    h.exe = e->d.rq.t.attrs.v[NG_ATTR_EXE];
    h.comm = e->d.rq.t.attrs.v[NG_ATTR_COMM];
    h.target_uid = e->d.rq.t.attrs.v[NG_ATTR_UID];
    h.ns = e->d.rq.ns;
    for (int i = 0; i < NG_NS_COUNT; i++)
        h.ns_ino[i] = e->d.rq.t.ns[i].ino;
    h.program = e->p.argv[0];
    h.argv = e->p.argv;
    h.run_as_uid = cr->ids.uid;
    h.run_as_gid = cr->ids.gid;
    h.run_as_groups = cr->ids.groups;
    h.run_as_ngroups = cr->ids.ngroups;
    snprintf(caps, sizeof(caps), "inh=%#llx prm=%#llx eff=%#llx bnd=%#llx amb=%#llx",
             (unsigned long long)cr->inh, (unsigned long long)cr->prm, (unsigned long long)cr->eff,
             (unsigned long long)cr->bnd, (unsigned long long)cr->amb);
    h.run_as_caps = caps;
    h.reason = e->a.o.reason;
    h.rule = e->d.dec.rule_name;
    crypto_generichash(h.policy_hash, sizeof(h.policy_hash), (const unsigned char *)e->d.policy_buf,
                       strlen(e->d.policy_buf), NULL, 0);
    h.record_input = e->d.c->record_input;
    h.record_commands = e->d.c->record_commands;
    h.mask_escrow = e->d.c->mask_escrow; /* covered by the header hash */
    h.pty = e->a.use_pty;
    h.caller_reach = ng_reach_name(e->p.reach);
    header_confinement(e, &h);
    return ng_sealer_session_open(e->r.sealer, &h, &e->r.sess);
}

/* After the fork, before the child may enter anything: the header, the
 * ledger start and the first seals in one transaction, then the recorder.
 * The child waits on the go pipe, so a failure here means nothing was
 * entered. */
static int start_recording(struct enter *e)
{
    char why[128];
    /* A policy that names an escrow key never records without it. */
    if (e->d.c->mask_escrow_file && !e->d.c->mask_escrow)
        return ng_err("the escrow key %s was not loaded; nothing was entered",
                      e->d.c->mask_escrow_file),
               NG_EXIT_INTERNAL;
    int r = begin_session(e);
    if (r == 0 && e->p.reach == NG_REACH_USERNS) {
        /* Files the program leaves on the host belong to this uid: say
         * which session it was. */
        char m[64];
        int n = snprintf(m, sizeof(m), "isolated as host uid %u", (unsigned)e->p.isolate_uid);
        r = ng_store_event(e->r.sess, 'm', m, (size_t)n);
    }
    if (r < 0)
        return ng_err("cannot record the session: %s; nothing was entered",
                      ng_cmd_enter_store_why(e->a.db_path, r, why, sizeof(why))),
               NG_EXIT_STORAGE;
    struct ng_recorder *rec = &e->r.rec;
    if (ng_recorder_init(rec, e->r.sess, e->d.c->record_input,
                         e->a.use_pty ? e->h.tty.master : -1) < 0)
        return ng_err("cannot set up the recorder"), NG_EXIT_INTERNAL;
    rec->escrow_pk = e->d.c->mask_escrow;
    rec->audit = e->d.audit_ok ? &e->d.audit : NULL;
    rec->audit_required = e->d.audit_required;
    rec->sealing = (struct ng_recorder_sealing){.sealer = e->r.sealer,
                                                .interval_ms = e->d.c->seal_interval_ms,
                                                .uuid = e->d.id_text,
                                                .refused = ng_parentpriv_refused};
    return 0;
}

/* From here on the recorder reads the container's output: it keeps only
 * what its remaining work needs (parentpriv.h, security.md "The recorder
 * after the fork"). The relay's reopenings of the caller's streams come
 * first: reopening a pipe or terminal the caller owns needs the privilege
 * of the start. The child is still waiting on the go pipe. */
static int confine_recorder(struct enter *e)
{
    const char *why = NULL;
    struct ng_parentpriv_needs n = {
        .audit_write = e->d.audit_ok,
        .audit_status = e->d.audit_ok && e->d.audit_required,
        .cgroup_override =
            e->h.cg.parent_fd >= 0 && ng_parentpriv_dir_needs_override(e->h.cg.parent_fd) > 0,
        .commands = ng_cmd_enter_cmds_on(&e->r),
    };

    e->h.out_priv = ng_relay_private_out(1);
    e->h.err_priv = ng_relay_private_out(2);
    int r = ng_parentpriv_restrict(ng_parentpriv_keep(&n), e->d.rq.last_cap, &why);
    if (r < 0) {
        ng_err("cannot restrict the recorder's privileges (%s: %s); nothing was entered",
               why ? why : "?", strerror(-r));
        return NG_EXIT_INTERNAL;
    }
    /* Only now: a thread started later inherits what was just dropped. */
    ng_store_session_async(e->r.sess);
    return 0;
}

__attribute__((noreturn)) static void child(struct enter *e)
{
    dev_t dev = 0;
    ino_t ino = 0;
    (void)ng_selfexe_identity(&dev, &ino);
    struct ng_entry_plan p = {
        .t = &e->d.rq.t,
        .ns = e->d.rq.ns,
        .host_proc_fd = e->h.host_proc_fd,
        .root_fd = e->h.root_fd,
        .cwd_fd = e->h.cwd_fd,
        .wd = e->a.o.wd,
        .creds = &e->p.creds,
        .last_cap = e->d.rq.last_cap,
        .argv = e->p.argv,
        .envp = e->p.env.v,
        .self_dev = dev,
        .self_ino = ino,
        .cg = &e->h.cg,
        .stdio = {e->h.in.r, e->h.out.w, e->h.err.w},
        .ctty = e->a.use_pty,
        .err_fd = e->h.errp.w,
        .status_fd = e->h.statp.w,
        .go_fd = e->h.gop.r,
        .recorder = e->ch.recorder,
        .cmdfilter = e->d.c->record_commands ? &e->h.cmdfilter : NULL,
        .cmd_sock = e->h.cmdsock.w,
        .isolate = e->p.reach == NG_REACH_USERNS,
        .isolate_uid = e->p.isolate_uid,
        .uid_map = e->p.uid_map,
        .gid_map = e->p.gid_map,
        .confine = e->p.confine.active ? &e->p.confine : NULL,
    };
    if (e->a.use_pty)
        p.stdio[0] = p.stdio[1] = p.stdio[2] = e->h.tty.slave;
    ng_enter_child(&p);
}

/* The child reports a failure before execve, or the pipe closes on exec
 * (with record_commands, the exec is recorded meanwhile: cmd_enter_cmds.c). */
static int await_exec(struct enter *e)
{
    struct ng_enter_err err;

    ng_closep(&e->h.errp.w);
    ng_closep(&e->h.statp.w);
    ng_closep(&e->h.in.r);
    ng_closep(&e->h.out.w);
    ng_closep(&e->h.err.w);
    ng_closep(&e->h.tty.slave);
    ng_cgroup_session_close_procs(&e->h.cg);
    int r = ng_cmd_enter_await(e, &err);
    if (r == 0)
        return 0;
    if (r == 1) {
        err.what[sizeof(err.what) - 1] = '\0';
        if (err.err)
            ng_err("%s: %s", err.what, strerror(err.err));
        else
            ng_err("%s", err.what);
        r = err.exit_code ? err.exit_code : NG_EXIT_INTERNAL;
    } else {
        (void)kill(e->ch.pid, SIGKILL);
    }
    int st;
    while (waitpid(e->ch.pid, &st, 0) < 0 && errno == EINTR)
        ;
    (void)ng_cgroup_session_kill(&e->h.cg, NG_ENTER_CGROUP_KILL_MS);
    (void)ng_cmd_enter_cmds_finish(&e->r);
    return r;
}

static void relay_config(struct enter *e, struct ng_relay_cfg *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->caller_in = 0;
    cfg->caller_out = 1;
    cfg->caller_err = 2;
    cfg->prog_in = e->a.use_pty ? e->h.tty.master : e->h.in.w;
    cfg->prog_out = e->a.use_pty ? e->h.tty.master : e->h.out.r;
    cfg->prog_err = e->a.use_pty ? -1 : e->h.err.r;
    cfg->pty = e->a.use_pty;
    cfg->tty_fd = e->h.tty.caller_fd;
    cfg->caller_out_private = e->h.out_priv;
    cfg->caller_err_private = e->h.err_priv;
    cfg->child = e->ch.pid;
    cfg->status_fd =
        ng_enter_needs_fork(e->d.rq.ns, e->p.reach == NG_REACH_USERNS) ? e->h.statp.r : -1;
    cfg->sigfd = e->h.sigfd;
    cfg->max_session_ms = e->d.c->max_session_ms;
    cfg->idle_timeout_ms = e->d.c->idle_timeout_ms;
    cfg->max_output = e->d.c->max_output;
    cfg->tick_ms = (int)e->d.c->seal_interval_ms;
    cfg->ops.record = ng_recorder_record;
    cfg->ops.tick = ng_recorder_tick;
    cfg->ops.ctx = &e->r.rec;
    cfg->cmd_fd = ng_cmd_enter_cmds_on(&e->r) ? e->r.cmdrec.listener : -1;
    if (ng_cmd_enter_cmds_on(&e->r)) {
        cfg->ops.cmd_notify = ng_cmdrec_notify;
        cfg->ops.cmd_reap = ng_cmdrec_reap;
        cfg->ops.cmd_stopped = ng_cmdrec_stopped;
        cfg->ops.cmd_ctx = &e->r.cmdrec;
    }
    cfg->ctl_fd = -1;
    cfg->ops.flush = ng_control_flush; /* watchers: at most ~250 ms behind */
    cfg->ops.flush_ctx = e->r.sess;
    ng_cmd_enter_control_relay(e, cfg);
    e->h.in.w = -1; /* the relay closes it at end of input */
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

/* USER_START: namespaces entered, recording live. */
static int audit_started(struct enter *e)
{
    char hdr[65];
    hex32(ng_store_session_header_hash(e->r.sess), hdr);
    struct ng_audit_start ev = {
        .acct = e->d.acct,
        .opid = e->d.rq.t.pid,
        .container = e->d.rq.t.attrs.v[NG_ATTR_CONTAINER],
        .argv = e->p.argv,
        .reason = e->a.o.reason,
        .uuid = e->d.id_text,
        .hdr = hdr,
        .ok = 1,
    };
    int r = e->d.audit_ok ? ng_audit_log_start(&e->d.audit, &ev) : 0;
    return r < 0 && e->d.audit_required ? r : 0;
}

static void audit_error(struct enter *e, const char *what)
{
    struct ng_audit_error ev = {.uuid = e->d.id_text, .what = what};
    if (e->d.audit_ok && ng_audit_log_error(&e->d.audit, &ev) < 0)
        ng_warn("cannot write to the audit trail");
}

/* The x event (the recorder's last seal), then USER_END with the final
 * sequence number and head when the session's USER_START was sent. */
static int finish_session(struct enter *e, int status, const char *reason, int left, int started)
{
    char m[64], head[65];
    uint8_t h[32];
    int r = 0;

    if (left > 0) {
        int n = snprintf(m, sizeof(m), "left-over processes killed: %d", left);
        r = ng_store_event(e->r.sess, 'm', m, (size_t)n);
    }
    int end = ng_recorder_end(&e->r.rec, status, reason);
    if (r == 0)
        r = end;
    if (e->r.rec.key_records_lost)
        ng_warn("cannot write %lu epoch changes to the audit trail", e->r.rec.key_records_lost);
    int64_t seq = ng_store_session_committed(e->r.sess, h);
    hex32(h, head);
    struct ng_audit_end ev = {.acct = e->d.acct,
                              .uuid = e->d.id_text,
                              .seqno = (uint64_t)seq,
                              .head = head,
                              .exit_status = status,
                              .reason = reason};
    if (e->d.audit_ok && started && ng_audit_log_end(&e->d.audit, &ev) < 0)
        ng_warn("cannot write the end of the session to the audit trail");
    return r;
}

/* The child is still waiting on the go pipe: nothing was entered. */
static void stop_child(struct enter *e)
{
    (void)kill(e->ch.pid, SIGKILL);
    while (waitpid(e->ch.pid, NULL, 0) < 0 && errno == EINTR)
        ;
    (void)ng_cgroup_session_kill(&e->h.cg, NG_ENTER_CGROUP_KILL_MS);
}

/* Fork the child, record the header, restrict the recorder, let the child
 * enter and wait for its exec; USER_START. 0 when the program runs, else
 * the exit status (the session's record ended as far as it got). */
static int start_session(struct enter *e)
{
    int r;

    e->ch.recorder = getpid();
    e->ch.pid = fork();
    if (e->ch.pid < 0)
        return ng_err("fork: %s", strerror(errno)), NG_EXIT_INTERNAL;
    if (e->ch.pid == 0)
        child(e);
    ng_closep(&e->h.gop.r);
    const char *unapproved = NULL;
    if ((r = start_recording(e)) == 0 && (r = ng_cmd_enter_cmds_start(e)) == 0 &&
        (r = ng_cmd_enter_control_start(e, &unapproved)) != 0 && unapproved) {
        stop_child(e); /* not approved: nothing was entered */
        (void)finish_session(e, r, unapproved, 0, 0);
        return r;
    }
    if (r == 0 && (r = confine_recorder(e)) != 0) {
        stop_child(e);
        audit_error(e, "cannot restrict the recorder's privileges");
        (void)finish_session(e, r, "confine-failed", 0, 0);
        return r;
    }
    if (r != 0 || ng_write_all(e->h.gop.w, "g", 1) < 0) {
        stop_child(e);
        return r ? r : NG_EXIT_INTERNAL;
    }
    ng_closep(&e->h.gop.w);
    if ((r = await_exec(e)) != 0) {
        audit_error(e, "entry failed before the program started");
        (void)finish_session(e, r, "entry-failed", 0, 0);
        return r;
    }
    if (audit_started(e) < 0) {
        ng_err("cannot write the session start to the audit trail; ending it");
        ng_relay_terminate(e->ch.pid, 0);
        (void)ng_cgroup_session_kill(&e->h.cg, NG_ENTER_CGROUP_KILL_MS);
        (void)finish_session(e, NG_EXIT_AUDIT, "audit-lost", 0, 0);
        return NG_EXIT_AUDIT;
    }
    return 0;
}

/* After the relay: the session's processes ended (or released), the last
 * commands and the end recorded. The exit status. */
static int end_session(struct enter *e, struct ng_relay_result *res, int *left)
{
    if (res->reason == NG_END_EXIT)
        ng_cmd_enter_cmds_drain(&e->r);
    if (res->reason != NG_END_EXIT) {
        /* SIGHUP to every process of the session, SIGKILL after a grace. */
        ng_cgroup_session_signal(&e->h.cg, SIGHUP);
        ng_relay_terminate(e->ch.pid, NG_ENTER_GRACE_MS);
    }
    *left = 0;
    if (e->d.c->leave_processes)
        ng_cgroup_session_release(&e->h.cg);
    else
        *left = ng_cgroup_session_kill(&e->h.cg, NG_ENTER_CGROUP_KILL_MS);
    if (ng_cmd_enter_cmds_finish(&e->r) < 0 && res->reason == NG_END_EXIT) {
        res->reason = NG_END_RECORD_FAIL;
        res->record_err = -EIO;
    }
    int status = ng_relay_exit_status(res);
    if (res->reason == NG_END_RECORD_FAIL || res->reason == NG_END_AUDIT_LOST)
        audit_error(e, res->reason == NG_END_RECORD_FAIL ? "recording failed" : "audit trail lost");
    if (finish_session(e, status, end_word(res), *left, 1) < 0 && res->reason == NG_END_EXIT) {
        ng_err("the end of session %s could not be recorded", e->d.id_text);
        status = NG_EXIT_STORAGE;
    }
    return status;
}

void ng_cmd_enter_banner(const struct enter *e)
{
    if (!e->a.o.quiet)
        fprintf(stderr, "nsgate: session %s started (target %d, rule %s); recorded%s\n",
                e->d.id_text, (int)e->d.rq.t.pid, e->d.dec.rule_name,
                e->d.audit_ok ? " and audited" : ", NOT audited (audit trail unavailable)");
}

int ng_cmd_enter_run(struct enter *e)
{
    struct ng_relay_result res;
    struct ng_relay_cfg cfg;
    char why[128];
    int r, left;

    if (ng_target_alive(&e->d.rq.t) < 0)
        return ng_err("target %d is gone", (int)e->d.rq.t.pid), NG_EXIT_TARGET;
    /* Under approval = required the session starts once approved: the
     * banner follows the approval (cmd_enter_control.c). */
    if (!e->d.c->approval_required)
        ng_cmd_enter_banner(e);
    if ((r = start_session(e)) != 0)
        return r;
    relay_config(e, &cfg);
    if (e->a.use_pty && ng_tty_raw(&e->h.tty) < 0)
        ng_warn("cannot put the terminal in raw mode");
    ng_relay_run(&cfg, &res);
    ng_tty_restore(&e->h.tty);
    /* Input typed for a moderated session that no moderator let through is
     * still in the caller's terminal: discard it, or the caller's own shell
     * on the host would run what was meant for the container. */
    if (e->d.c->moderation_required && e->a.use_pty && isatty(0))
        (void)tcflush(0, TCIFLUSH);
    int status = end_session(e, &res, &left);
    if (res.reason == NG_END_RECORD_FAIL)
        ng_err("recording failed (%s): the session was stopped; what was recorded is kept",
               ng_cmd_enter_store_why(e->a.db_path, res.record_err, why, sizeof(why)));
    if (e->r.rec.refused_seen)
        ng_warn("the recorder's system call filter refused %lu calls (recorded in the session)",
                e->r.rec.refused_seen);
    if (!e->a.o.quiet)
        fprintf(stderr, "nsgate: session %s ended, exit %d%s%s\n", e->d.id_text, status,
                end_text(&res), left > 0 ? "; left-over processes killed" : "");
    else if (res.reason != NG_END_EXIT) /* why it was ended is shown even with -q */
        fprintf(stderr, "nsgate: session %s ended%s\n", e->d.id_text, end_text(&res));
    return status;
}
