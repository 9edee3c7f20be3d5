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

int ng_cmd_enter_cmds_prepare(struct session *s)
{
    int r;

    if (!s->c->record_commands)
        return 0;
    r = ng_cmdfilter_build(&s->cmdfilter);
    if (r < 0)
        return ng_err("cannot build the command filter: %s", strerror(-r)), NG_EXIT_INTERNAL;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, s->cmdsock) < 0)
        return ng_err("socketpair: %s", strerror(errno)), NG_EXIT_INTERNAL;
    return 0;
}

/* Where the target's pid namespace is in a task's NSpid line (the host's
 * first): the target's own line has one entry per level down to it. */
static int pidns_level(struct session *s)
{
    char text[4096];
    struct ng_proc_ids ids;

    if (!(s->rq.ns & (1u << NG_NS_PID)))
        return -1;
    if (ng_read_file_at(s->rq.t.proc_fd, "status", text, sizeof(text)) < 0 ||
        ng_parse_status_ids(text, &ids) < 0)
        return -2;
    return (int)ids.nnspid - 1;
}

int ng_cmd_enter_cmds_start(struct session *s)
{
    int level;

    ng_closep(&s->cmdsock[1]);
    if (!s->c->record_commands)
        return 0;
    level = pidns_level(s);
    if (level < -1)
        return ng_err("target %d is gone", (int)s->rq.t.pid), NG_EXIT_TARGET;
    if (ng_cmdrec_init(&s->cmdrec, s->sess, s->child, s->host_proc_fd, level) < 0)
        return ng_err("cannot set up the command recorder"), NG_EXIT_INTERNAL;
    s->cmdrec_ok = 1;
    return 0;
}

/* The listener arrived (or the child closed its end: it failed before the
 * filter, and the error pipe says why). */
static void take_listener(struct session *s)
{
    int fd, killable;

    if (ng_cmdfilter_receive(s->cmdsock[0], &fd, &killable) == 0 && s->cmdrec_ok)
        ng_cmdrec_set_listener(&s->cmdrec, fd, killable);
    ng_closep(&s->cmdsock[0]);
}

static int serve(struct session *s, int readable)
{
    int r = 0;

    if (!s->cmdrec_ok)
        return 0;
    if (readable)
        r = ng_cmdrec_notify(&s->cmdrec);
    if (r == 0)
        r = ng_cmdrec_reap(&s->cmdrec);
    if (r < 0)
        ng_err("a command could not be recorded (%s): it did not run, and the session ends",
               strerror(-r));
    return r < 0 ? NG_EXIT_STORAGE : 0;
}

int ng_cmd_enter_await(struct session *s, struct ng_enter_err *e)
{
    int hup = 0;

    for (;;) {
        struct pollfd p[3] = {{s->errp[0], POLLIN, 0}, {s->cmdsock[0], POLLIN, 0}, {-1, POLLIN, 0}};
        if (s->cmdrec_ok && !hup)
            p[2].fd = s->cmdrec.listener;
        /* An exec in flight stops without waking us (no SIGCHLD read
         * here): look again every few milliseconds. */
        int tmo = s->cmdrec_ok && ng_cmdrec_in_flight(&s->cmdrec) ? 5 : -1;
        if (poll(p, 3, tmo) < 0 && errno != EINTR)
            return NG_EXIT_INTERNAL;
        if (p[1].revents)
            take_listener(s);
        hup |= (p[2].revents & (POLLHUP | POLLERR | POLLNVAL)) && !(p[2].revents & POLLIN);
        int r = serve(s, (p[2].revents & POLLIN) != 0);
        if (r)
            return r;
        if (!p[0].revents)
            continue;
        ssize_t n = read(s->errp[0], e, sizeof(*e));
        if (n == (ssize_t)sizeof(*e))
            return 1;
        if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
            break;
    }
    /* The program runs. With record_commands its exec went through the
     * listener; a program that ran without the filter is no session. */
    if (s->c->record_commands && (!s->cmdrec_ok || s->cmdrec.listener < 0)) {
        ng_err("the program started without the command filter; ending the session");
        return NG_EXIT_INTERNAL;
    }
    return 0;
}

void ng_cmd_enter_cmds_drain(struct session *s)
{
    struct pollfd p = {.fd = s->cmdrec.listener, .events = POLLIN};

    /* Execs asked for while the session was ending are still recorded
     * (and then ended with the rest of the session's processes). Only when
     * one is there: taking a notification waits for one. */
    if (s->cmdrec_ok && s->cmdrec.listener >= 0)
        (void)serve(s, poll(&p, 1, 0) == 1 && (p.revents & POLLIN));
}

int ng_cmd_enter_cmds_finish(struct session *s)
{
    if (!s->cmdrec_ok)
        return 0;
    return ng_cmdrec_finish(&s->cmdrec, 2000);
}

void ng_cmd_enter_cmds_cleanup(struct session *s)
{
    if (s->cmdrec_ok)
        ng_cmdrec_free(&s->cmdrec);
    s->cmdrec_ok = 0;
    ng_cmdfilter_free(&s->cmdfilter);
    ng_closep(&s->cmdsock[0]);
    ng_closep(&s->cmdsock[1]);
}
