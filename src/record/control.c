/* Two-person control, the recorder's side (control.h). */
#include "nsgate/control.h"
#include "nsgate/audit.h"
#include "nsgate/store.h"
#include "nsgate/uuid.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A JSON string body: the text is plain (control_wire.c), so only the
 * quote and the backslash need escaping. */
static void json_text(const char *s, char *out, size_t size)
{
    size_t o = 0;

    for (; *s && o + 3 < size; s++) {
        if (*s == '"' || *s == '\\')
            out[o++] = '\\';
        out[o++] = *s;
    }
    out[o] = '\0';
}

/* The live note: state, since when, who watches (sessions --live). */
static void note(struct ng_control *c)
{
    char buf[NG_STORE_NOTE_MAX], name[2 * NG_CONTROL_NAME_MAX];
    const char *st = c->state == NG_CONTROL_WAITING ? "waiting-approval"
                     : c->cfg.moderation            ? "moderated"
                                                    : "running";
    int n = snprintf(buf, sizeof(buf), "{\"state\":\"%s\",\"since_ns\":%lld,\"watchers\":[", st,
                     (long long)c->state_since_ns);
    int first = 1;

    for (size_t i = 0; i < NG_CONTROL_PEERS && n > 0 && (size_t)n < sizeof(buf); i++) {
        const struct ng_control_peer *p = &c->peers[i];
        if (p->fd < 0)
            continue;
        json_text(p->user, name, sizeof(name));
        n += snprintf(buf + n, sizeof(buf) - (size_t)n,
                      "%s{\"user\":\"%s\",\"uid\":%u,\"moderator\":%s,\"since_ns\":%lld}",
                      first ? "" : ",", name, (unsigned)p->uid, p->moderator ? "true" : "false",
                      (long long)p->since_ns);
        first = 0;
    }
    if (n > 0 && (size_t)n + 3 < sizeof(buf)) {
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, "]}\n");
        if (ng_store_session_note(c->cfg.sess, buf, (size_t)n) < 0)
            c->note_err = 1; /* the listing only: the session goes on */
    }
}

/* An 'm' event "WHAT {json}" and its USER_ACCT record. */
static int record(struct ng_control *c, const char *what, const char *action,
                  const struct ng_control_request *q, int ok)
{
    char m[1400], user[2 * NG_CONTROL_NAME_MAX], text[2 * NG_CONTROL_TEXT_MAX + 2];

    json_text(q ? q->user : "", user, sizeof(user));
    json_text(q ? q->text : "", text, sizeof(text));
    int n = q ? snprintf(m, sizeof(m),
                         "%s {\"action\":\"%s\",\"user\":\"%s\",\"uid\":%u,\"time_ns\":%lld,"
                         "\"text\":\"%s\"}",
                         what, action, user, (unsigned)q->uid, (long long)wall_ns(), text)
              : snprintf(m, sizeof(m), "%s {\"action\":\"%s\",\"time_ns\":%lld}", what, action,
                         (long long)wall_ns());
    int r =
        n > 0 && (size_t)n < sizeof(m) ? ng_store_event(c->cfg.sess, 'm', m, (size_t)n) : -EINVAL;
    if (r == 0)
        r = ng_store_flush(c->cfg.sess); /* watchers and verify see it now */
    char act[32]; /* the audit trail's word: moderator-joined, moderator-left */
    snprintf(act, sizeof(act), "%s%s", strcmp(what, "moderator") == 0 ? "moderator-" : "", action);
    struct ng_audit_control e = {.action = act,
                                 .acct = q ? q->user : NULL,
                                 .uid = q ? (int64_t)q->uid : -1,
                                 .uuid = c->cfg.id_text,
                                 .text = q && q->text[0] ? q->text : NULL,
                                 .ok = ok};
    /* A trail lost under audit = required is caught at the next tick. */
    if (c->cfg.audit && ng_audit_log_control(c->cfg.audit, &e) < 0)
        c->audit_err = 1;
    if (r < 0 && !c->record_err)
        c->record_err = r;
    return r;
}

int ng_control_open(struct ng_control *c, const struct ng_control_cfg *cfg)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};

    memset(c, 0, sizeof(*c));
    c->cfg = *cfg;
    c->listen_fd = c->epfd = -1;
    for (size_t i = 0; i < NG_CONTROL_PEERS; i++)
        c->peers[i].fd = -1;
    c->input_gate = !cfg->moderation;
    c->state = NG_CONTROL_WAITING;
    c->state_since_ns = wall_ns();
    int n = snprintf(c->path, sizeof(c->path), "%s-live/%s.sock", cfg->db_path, cfg->id_text);
    if (n < 0 || (size_t)n >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    memcpy(sa.sun_path, c->path, (size_t)n + 1);
    c->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (c->listen_fd < 0)
        return -errno;
    /* Only root may connect: 0600 whatever the umask, in root's directory. */
    mode_t old = umask(077);
    int r = bind(c->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
    umask(old);
    if (r == 0 && (chmod(c->path, 0600) < 0 || listen(c->listen_fd, 8) < 0))
        r = -errno;
    if (r == 0 && (c->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
        r = -errno;
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = c->listen_fd};
    if (r == 0 && epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->listen_fd, &ev) < 0)
        r = -errno;
    if (r < 0) {
        ng_control_close(c);
        return r;
    }
    note(c);
    return 0;
}

int ng_control_fd(const struct ng_control *c)
{
    return c->epfd;
}

static int is_approver(const struct ng_control *c, const struct ng_control_request *q)
{
    for (size_t i = 0; i < c->cfg.n_ap_uids; i++)
        if (c->cfg.ap_uids[i] == q->uid)
            return 1;
    for (size_t i = 0; i < c->cfg.n_ap_gids; i++) {
        if (c->cfg.ap_gids[i] == q->gid)
            return 1;
        for (size_t k = 0; k < q->ngroups; k++)
            if (c->cfg.ap_gids[i] == q->groups[k])
                return 1;
    }
    return 0;
}

/* NULL when allowed, else why not (said to the client). The requester is
 * never its own approver or moderator, even when the rule lists it. */
static const char *refusal(const struct ng_control *c, const struct ng_control_request *q)
{
    int self = q->uid == c->cfg.requester_uid, ap = is_approver(c, q) && !self;
    const char *v = q->verb;

    if (strcmp(v, "approve") == 0 || strcmp(v, "reject") == 0) {
        if (self)
            return "the requester cannot approve or reject its own session";
        if (!ap)
            return "not an approver of this session's rule";
        return c->state == NG_CONTROL_WAITING ? NULL : "the session is not waiting for approval";
    }
    if (strcmp(v, "moderate") == 0)
        return ap ? NULL : "only an approver of this session's rule (not the requester) moderates";
    if (strcmp(v, "terminate") == 0)
        return ap || q->uid == 0 ? NULL
                                 : "only root or an approver of this session's rule "
                                   "(not the requester) may terminate it";
    return ap || q->reader || q->uid == 0 ? NULL : "not allowed to watch this session";
}

static void drop_peer(struct ng_control *c, struct ng_control_peer *p)
{
    struct ng_control_request q = {.uid = p->uid};
    int was_mod = p->moderator;

    (void)epoll_ctl(c->epfd, EPOLL_CTL_DEL, p->fd, NULL);
    close(p->fd);
    p->fd = -1;
    if (was_mod) {
        snprintf(q.user, sizeof(q.user), "%s", p->user);
        (void)record(c, "moderator", "left", &q, 1);
        c->input_gate = 0;
        for (size_t i = 0; i < NG_CONTROL_PEERS; i++)
            c->input_gate |= c->peers[i].fd >= 0 && c->peers[i].moderator;
    }
    note(c);
}

/* watch and moderate: the connection stays, as the watcher's presence. */
static int keep_peer(struct ng_control *c, int fd, const struct ng_control_request *q)
{
    for (size_t i = 0; i < NG_CONTROL_PEERS; i++) {
        struct ng_control_peer *p = &c->peers[i];
        if (p->fd >= 0)
            continue;
        struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = fd};
        if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
            return -errno;
        *p = (struct ng_control_peer){.fd = fd, .uid = q->uid, .since_ns = wall_ns()};
        p->moderator = strcmp(q->verb, "moderate") == 0;
        snprintf(p->user, sizeof(p->user), "%s", q->user);
        if (p->moderator) {
            c->input_gate = 1;
            (void)record(c, "moderator", "joined", q, 1);
        }
        note(c);
        return 0;
    }
    return -EUSERS;
}

static void act(struct ng_control *c, const struct ng_control_request *q)
{
    int approve = strcmp(q->verb, "approve") == 0;

    snprintf(c->by, sizeof(c->by), "%s", q->user);
    c->by_uid = q->uid;
    if (strcmp(q->verb, "terminate") == 0) {
        c->terminate = 1;
        (void)record(c, "terminate", "terminate", q, 1);
        return;
    }
    c->verdict_set = 1;
    c->approved = approve;
    (void)record(c, "approval", approve ? "approve" : "reject", q, approve);
}

/* One connection's one request: peer root, well-formed, allowed. */
static void take(struct ng_control *c, int fd)
{
    struct ucred cr;
    socklen_t len = sizeof(cr);
    char buf[NG_CONTROL_MSG_MAX + 1], reply[256];
    struct ng_control_request q;
    struct pollfd p = {fd, POLLIN, 0};
    const char *why = NULL;

    /* The client sends at once (a silent one does not hold the recorder);
     * read before answering even a refused peer, which would otherwise
     * lose the answer to a reset. */
    ssize_t n = poll(&p, 1, 1000) != 1 ? -1 : recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 || cr.uid != 0)
        why = "refused: only nsgate (root) talks to a session";
    else if (n <= 0 || ng_control_request_parse(buf, (size_t)n, &q) < 0)
        why = "malformed request";
    if (!why)
        why = refusal(c, &q);
    if (!why && (strcmp(q.verb, "watch") == 0 || strcmp(q.verb, "moderate") == 0) &&
        keep_peer(c, fd, &q) < 0)
        why = "too many watchers";
    int m = snprintf(reply, sizeof(reply), "%s%s", why ? "no " : "ok", why ? why : "");
    (void)send(fd, reply, (size_t)m, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (!why && strcmp(q.verb, "watch") != 0 && strcmp(q.verb, "moderate") != 0)
        act(c, &q);
    if (why || (strcmp(q.verb, "watch") != 0 && strcmp(q.verb, "moderate") != 0))
        close(fd);
}

int ng_control_serve(struct ng_control *c)
{
    struct epoll_event evs[8];
    int n = epoll_wait(c->epfd, evs, 8, 0);

    for (int i = 0; i < n; i++) {
        int fd = evs[i].data.fd;
        if (fd == c->listen_fd) {
            int cfd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC);
            if (cfd >= 0)
                take(c, cfd);
            continue;
        }
        /* a watcher's connection: closed, or more than its one request */
        for (size_t k = 0; k < NG_CONTROL_PEERS; k++)
            if (c->peers[k].fd == fd)
                drop_peer(c, &c->peers[k]);
    }
    return c->record_err;
}

/* INT, TERM or HUP while waiting: the requester gave up. */
static int cancelled(int sigfd)
{
    struct signalfd_siginfo si;
    int stop = 0;

    while (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
        stop |= si.ssi_signo != SIGCHLD && si.ssi_signo != SIGWINCH;
    return stop;
}

int ng_control_await(struct ng_control *c, int64_t timeout_ms, int sigfd)
{
    int64_t end = mono_ms() + timeout_ms;

    for (;;) {
        struct pollfd p[2] = {{c->epfd, POLLIN, 0}, {sigfd, POLLIN, 0}};
        int64_t left = end - mono_ms();
        if (left <= 0) {
            (void)record(c, "approval", "approval-timeout", NULL, 0);
            return c->record_err ? c->record_err : NG_CONTROL_TIMEOUT;
        }
        if (poll(p, 2, (int)(left > 1000 ? 1000 : left)) < 0 && errno != EINTR)
            return -errno;
        if (p[1].revents && cancelled(sigfd)) {
            (void)record(c, "approval", "cancelled", NULL, 0);
            return NG_CONTROL_CANCELLED;
        }
        if (p[0].revents && ng_control_serve(c) < 0)
            return c->record_err;
        if (c->terminate)
            return NG_CONTROL_TERMINATED;
        if (c->verdict_set)
            return c->approved ? NG_CONTROL_APPROVED : NG_CONTROL_REJECTED;
    }
}

void ng_control_running(struct ng_control *c)
{
    c->state = NG_CONTROL_RUNNING;
    c->state_since_ns = wall_ns();
    note(c);
}

int ng_control_relay(void *ctx, enum ng_end_reason *reason)
{
    struct ng_control *c = ctx;
    int r = ng_control_serve(c);

    if (r < 0) {
        *reason = NG_END_RECORD_FAIL;
        return r;
    }
    if (c->terminate) {
        *reason = NG_END_TERMINATED;
        return -ECANCELED;
    }
    return 0;
}

void ng_control_close(struct ng_control *c)
{
    for (size_t i = 0; i < NG_CONTROL_PEERS; i++)
        if (c->peers[i].fd >= 0) {
            close(c->peers[i].fd);
            c->peers[i].fd = -1;
        }
    if (c->listen_fd >= 0) {
        (void)unlink(c->path);
        close(c->listen_fd);
    }
    if (c->epfd >= 0)
        close(c->epfd);
    c->listen_fd = c->epfd = -1;
}

int ng_control_flush(void *sess)
{
    return ng_store_flush(sess);
}
