/* nsgate enter: command recording (record_commands, docs/security.md
 * "Command recording"). The filter is built before the fork and installed
 * by the entering child (cmdfilter.c); its listener comes back over a
 * socket pair; the command recorder (cmdrec.c) serves it while the child
 * execs the program and then inside the relay's loop. */
#include "cmd_enter_int.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int ng_cmd_enter_cmds_prepare(struct enter_host *h, const struct ng_constraints *c)
{
    int r, sv[2];

    if (!c->record_commands)
        return 0;
    r = ng_cmdfilter_build(&h->cmdfilter);
    if (r < 0)
        return ng_err("cannot build the command filter: %s", strerror(-r)), NG_EXIT_INTERNAL;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return ng_err("socketpair: %s", strerror(errno)), NG_EXIT_INTERNAL;
    h->cmdsock.r = sv[0]; /* the recorder's end */
    h->cmdsock.w = sv[1]; /* the child's */
    return 0;
}

int ng_cmd_enter_cmds_on(const struct enter_record *r)
{
    return r->cmdrec.sess != NULL;
}

/* Where the target's pid namespace is in a task's NSpid line (the host's
 * first): the target's own line has one entry per level down to it. */
static int pidns_level(const struct enter_decision *d)
{
    char text[4096];
    struct ng_proc_ids ids;

    if (!(d->rq.ns & (1u << NG_NS_PID)))
        return -1;
    if (ng_read_file_at(d->rq.t.proc_fd, "status", text, sizeof(text)) < 0 ||
        ng_parse_status_ids(text, &ids) < 0)
        return -2;
    return (int)ids.nnspid - 1;
}

int ng_cmd_enter_cmds_start(struct enter *e)
{
    int level;

    ng_closep(&e->h.cmdsock.w);
    if (!e->d.c->record_commands)
        return 0;
    level = pidns_level(&e->d);
    if (level < -1)
        return ng_err("target %d is gone", (int)e->d.rq.t.pid), NG_EXIT_TARGET;
    if (ng_cmdrec_init(&e->r.cmdrec, e->r.sess, e->ch.pid, e->h.host_proc_fd, level) < 0)
        return ng_err("cannot set up the command recorder"), NG_EXIT_INTERNAL;
    return 0;
}

/* The listener arrived (or the child closed its end: it failed before the
 * filter, and the error pipe says why). */
static void take_listener(struct enter *e)
{
    int fd, killable;

    if (ng_cmdfilter_receive(e->h.cmdsock.r, &fd, &killable) == 0 && ng_cmd_enter_cmds_on(&e->r))
        ng_cmdrec_set_listener(&e->r.cmdrec, fd, killable);
    ng_closep(&e->h.cmdsock.r);
}

static int serve(struct enter_record *rec, int readable)
{
    int r = 0;

    if (!ng_cmd_enter_cmds_on(rec))
        return 0;
    if (readable)
        r = ng_cmdrec_notify(&rec->cmdrec);
    if (r == 0)
        r = ng_cmdrec_reap(&rec->cmdrec);
    if (r < 0)
        ng_err("a command could not be recorded (%s): it did not run, and the session ends",
               strerror(-r));
    return r < 0 ? NG_EXIT_STORAGE : 0;
}

int ng_cmd_enter_await(struct enter *e, struct ng_enter_err *err)
{
    int hup = 0;

    for (;;) {
        struct pollfd p[3] = {
            {e->h.errp.r, POLLIN, 0}, {e->h.cmdsock.r, POLLIN, 0}, {-1, POLLIN, 0}};
        if (ng_cmd_enter_cmds_on(&e->r) && !hup)
            p[2].fd = e->r.cmdrec.listener;
        /* An exec in flight stops without waking us (no SIGCHLD read
         * here): look again every few milliseconds. */
        int tmo = ng_cmd_enter_cmds_on(&e->r) && ng_cmdrec_in_flight(&e->r.cmdrec) ? 5 : -1;
        if (poll(p, 3, tmo) < 0 && errno != EINTR)
            return NG_EXIT_INTERNAL;
        if (p[1].revents)
            take_listener(e);
        hup |= (p[2].revents & (POLLHUP | POLLERR | POLLNVAL)) && !(p[2].revents & POLLIN);
        int r = serve(&e->r, (p[2].revents & POLLIN) != 0);
        if (r)
            return r;
        if (!p[0].revents)
            continue;
        ssize_t n = read(e->h.errp.r, err, sizeof(*err));
        if (n == (ssize_t)sizeof(*err))
            return 1;
        if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
            break;
    }
    /* The program runs. With record_commands its exec went through the
     * listener; a program that ran without the filter is no session. */
    if (e->d.c->record_commands && (!ng_cmd_enter_cmds_on(&e->r) || e->r.cmdrec.listener < 0)) {
        ng_err("the program started without the command filter; ending the session");
        return NG_EXIT_INTERNAL;
    }
    return 0;
}

void ng_cmd_enter_cmds_drain(struct enter_record *r)
{
    struct pollfd p = {.fd = r->cmdrec.listener, .events = POLLIN};

    /* Execs asked for while the session was ending are still recorded
     * (and then ended with the rest of the session's processes). Only when
     * one is there: taking a notification waits for one. */
    if (ng_cmd_enter_cmds_on(r) && r->cmdrec.listener >= 0)
        (void)serve(r, poll(&p, 1, 0) == 1 && (p.revents & POLLIN));
}

int ng_cmd_enter_cmds_finish(struct enter_record *r)
{
    if (!ng_cmd_enter_cmds_on(r))
        return 0;
    return ng_cmdrec_finish(&r->cmdrec, NG_ENTER_CMDS_FINISH_MS);
}
