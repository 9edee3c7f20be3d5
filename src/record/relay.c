/* The relay (see relay.h): pipe mode (three pipes) and terminal mode (one
 * pty master). One poll loop, bounded buffers. */
#include "nsgate/relay.h"
#include "nsgate/exitcode.h"
#include "nsgate/util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BUF_CAP 65536
/* On the caller's own (shared) descriptor a write after POLLOUT is kept to
 * one pipe page, so it never blocks; on a private non-blocking one (see
 * ng_relay_private_out) the whole buffer is offered. */
#define WRITE_CHUNK 4096

struct buf {
    char data[BUF_CAP];
    size_t off, len;
};

struct relay {
    const struct ng_relay_cfg *cfg;
    struct ng_relay_result *res;
    struct buf in, out, err;
    int caller_in_open, prog_in_open, prog_out_open, prog_err_open;
    int caller_out_ok, caller_err_ok;
    int exited, done;
    int cmd_hup;        /* no process is left under the command filter */
    int out_fd, err_fd; /* where output goes (a private reopening or the caller's) */
    int out_private, err_private;
    int64_t start_ms, last_activity_ms, last_tick_ms;
    int64_t dirty_ms; /* when the oldest chunk not yet flushed came, or 0 */
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void end(struct relay *r, enum ng_end_reason why)
{
    if (!r->done) {
        r->res->reason = why;
        r->done = 1;
    }
}

static void record(struct relay *r, char kind, const void *data, size_t len)
{
    if (!r->cfg->ops.record)
        return;
    int e = r->cfg->ops.record(r->cfg->ops.ctx, kind, data, len);
    if (!r->dirty_ms)
        r->dirty_ms = now_ms();
    if (e < 0) {
        r->res->record_err = e;
        end(r, NG_END_RECORD_FAIL);
    }
}

/* Read from the program into b; record before passing on. */
static void pump_from_prog(struct relay *r, int fd, struct buf *b, int *open, char kind)
{
    if (b->off > 0 && b->len == 0)
        b->off = 0;
    if (b->off + b->len == BUF_CAP && b->off > 0) {
        memmove(b->data, b->data + b->off, b->len);
        b->off = 0;
    }
    if (b->off + b->len == BUF_CAP)
        return; /* full: the caller has not read yet */
    ssize_t n = read(fd, b->data + b->off + b->len, BUF_CAP - b->off - b->len);
    if (n > 0) {
        record(r, kind, b->data + b->off + b->len, (size_t)n);
        b->len += (size_t)n;
        r->res->out_bytes += (uint64_t)n;
        r->last_activity_ms = now_ms();
        if (r->cfg->max_output && r->res->out_bytes > r->cfg->max_output)
            end(r, NG_END_OUTPUT_LIMIT);
    } else if (n == 0 || (errno != EAGAIN && errno != EINTR) || r->exited) {
        /* EOF, error, or nothing left after the program ended (a background
         * process may hold the pipe: it is not waited for). */
        *open = 0;
    }
}

/* A private, non-blocking open file description of the caller's pipe or
 * terminal (through /proc/self/fd), so the relay never blocks on a caller
 * that stops reading and never changes the flags of a description it
 * shares with the caller's shell. -1 when not possible (regular files never
 * block; sockets cannot be reopened): the caller's descriptor is used. */
int ng_relay_private_out(int fd)
{
    struct stat st;
    char path[32];

    if (fd < 0 || fstat(fd, &st) < 0 || !(S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)))
        return -1;
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    return open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
}

static void flush_to(struct relay *r, int fd, struct buf *b, int *ok, int nonblocking)
{
    if (!*ok) { /* the caller's stream is gone: drop, still recorded */
        b->off = b->len = 0;
        return;
    }
    size_t n = nonblocking || b->len < WRITE_CHUNK ? b->len : WRITE_CHUNK;
    ssize_t w = write(fd, b->data + b->off, n);
    if (w > 0) {
        b->off += (size_t)w;
        b->len -= (size_t)w;
        if (b->len == 0)
            b->off = 0; /* drained: the whole buffer is free again */
        else if (b->off >= BUF_CAP / 2) {
            /* Keep room to read into while the caller is slow. */
            memmove(b->data, b->data + b->off, b->len);
            b->off = 0;
        }
    } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
        *ok = 0;
        b->off = b->len = 0;
    }
}

static void pump_input(struct relay *r)
{
    ssize_t n = read(r->cfg->caller_in, r->in.data, BUF_CAP);
    if (n > 0) {
        record(r, 'i', r->in.data, (size_t)n);
        r->in.off = 0;
        r->in.len = (size_t)n;
        r->res->in_bytes += (uint64_t)n;
        r->last_activity_ms = now_ms();
    } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        r->caller_in_open = 0;
    }
}

static void push_input(struct relay *r)
{
    ssize_t w = write(r->cfg->prog_in, r->in.data + r->in.off, r->in.len);
    if (w > 0) {
        r->in.off += (size_t)w;
        r->in.len -= (size_t)w;
    } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
        r->prog_in_open = 0; /* the program closed its stdin */
        r->in.len = 0;
    }
}

static void cmd_result(struct relay *r, int e)
{
    if (e < 0) {
        r->res->record_err = e;
        end(r, NG_END_RECORD_FAIL);
    }
}

static void reap(struct relay *r)
{
    int st;
    pid_t p = waitpid(r->cfg->child, &st, WNOHANG);
    if (p != r->cfg->child)
        return;
    if (WIFSTOPPED(st)) { /* a stop of the child's own exec in flight */
        if (r->cfg->ops.cmd_stopped)
            cmd_result(r, r->cfg->ops.cmd_stopped(r->cfg->ops.cmd_ctx, p, st));
        return;
    }
    r->exited = 1;
    r->res->wait_status = st;
    if (r->cfg->status_fd >= 0) {
        int pst;
        /* After a pid fork the child passes the program's status. */
        if (read(r->cfg->status_fd, &pst, sizeof(pst)) == (ssize_t)sizeof(pst))
            r->res->wait_status = pst;
    }
}

static void handle_signals(struct relay *r)
{
    struct signalfd_siginfo si;
    while (read(r->cfg->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        int sig = (int)si.ssi_signo;
        if (sig == SIGCHLD) {
            if (r->cfg->ops.cmd_reap)
                cmd_result(r, r->cfg->ops.cmd_reap(r->cfg->ops.cmd_ctx));
            reap(r);
        } else if (sig == SIGWINCH && r->cfg->pty) {
            char sz[32];
            size_t n = ng_relay_copy_winsize(r->cfg->tty_fd, r->cfg->prog_in, sz, sizeof(sz));
            if (n)
                record(r, 'r', sz, n);
        } else if ((sig == SIGINT || sig == SIGQUIT) && !r->cfg->pty) {
            (void)kill(-r->cfg->child, sig); /* the program's process group */
            record(r, 'm', sig == SIGINT ? "signal INT" : "signal QUIT", sig == SIGINT ? 10 : 11);
        } else if (sig == SIGTERM || sig == SIGHUP) {
            r->res->signal = sig;
            end(r, NG_END_SIGNAL);
        }
    }
}

static int timeout_for(struct relay *r)
{
    int64_t now = now_ms(), t = r->cfg->tick_ms > 0 ? r->cfg->tick_ms : 1000;
    if (r->cfg->max_session_ms >= 0) {
        int64_t left = r->start_ms + r->cfg->max_session_ms - now;
        if (left <= 0)
            end(r, NG_END_MAX_SESSION);
        t = left < t ? left : t;
    }
    if (r->cfg->idle_timeout_ms >= 0) {
        int64_t left = r->last_activity_ms + r->cfg->idle_timeout_ms - now;
        if (left <= 0)
            end(r, NG_END_IDLE);
        t = left < t ? left : t;
    }
    if (r->dirty_ms && r->cfg->ops.flush) {
        int64_t left = r->dirty_ms + NG_RELAY_FLUSH_MS - now;
        t = left < t ? left : t;
    }
    return t < 0 ? 0 : (int)t;
}

/* Watchers follow the store: what was recorded is committed soon, not only
 * at the next tick (which may be seconds away). */
static void flush_soon(struct relay *r)
{
    if (!r->dirty_ms || !r->cfg->ops.flush || now_ms() - r->dirty_ms < NG_RELAY_FLUSH_MS)
        return;
    r->dirty_ms = 0;
    int e = r->cfg->ops.flush(r->cfg->ops.flush_ctx);
    if (e < 0) {
        if (!r->res->record_err)
            r->res->record_err = e;
        end(r, NG_END_RECORD_FAIL);
    }
}

/* The control descriptor is readable (control.h). */
static void control(struct relay *r)
{
    enum ng_end_reason why = NG_END_TERMINATED;

    if (r->cfg->ops.ctl(r->cfg->ops.ctl_ctx, &why) < 0)
        end(r, why);
}

static void tick(struct relay *r)
{
    int64_t now = now_ms();
    flush_soon(r);
    if (!r->cfg->ops.tick || now - r->last_tick_ms < r->cfg->tick_ms)
        return;
    r->last_tick_ms = now;
    r->dirty_ms = 0; /* the tick flushes */
    enum ng_end_reason why = NG_END_RECORD_FAIL;
    int e = r->cfg->ops.tick(r->cfg->ops.ctx, &why);
    if (e < 0) {
        if (why == NG_END_RECORD_FAIL && !r->res->record_err)
            r->res->record_err = e; /* said in the message: why recording failed */
        end(r, why);
    }
}

enum { P_SIG, P_CMD, P_CIN, P_PIN, P_POUT, P_PERR, P_COUT, P_CERR, P_CTL, P_N };

static void step(struct relay *r)
{
    const struct ng_relay_cfg *c = r->cfg;
    struct pollfd p[P_N];
    for (int i = 0; i < P_N; i++)
        p[i] = (struct pollfd){.fd = -1};
    p[P_SIG] = (struct pollfd){c->sigfd, POLLIN, 0};
    if (c->cmd_fd >= 0 && c->ops.cmd_notify && !r->cmd_hup)
        p[P_CMD] = (struct pollfd){c->cmd_fd, POLLIN, 0};
    if (r->caller_in_open && r->prog_in_open && r->in.len == 0 &&
        (!c->input_gate || *c->input_gate))
        p[P_CIN] = (struct pollfd){c->caller_in, POLLIN, 0};
    if (c->ctl_fd >= 0 && c->ops.ctl)
        p[P_CTL] = (struct pollfd){c->ctl_fd, POLLIN, 0};
    if (r->prog_in_open && r->in.len > 0)
        p[P_PIN] = (struct pollfd){c->prog_in, POLLOUT, 0};
    if (r->prog_out_open && r->out.off + r->out.len < BUF_CAP)
        p[P_POUT] = (struct pollfd){c->prog_out, POLLIN, 0};
    if (r->prog_err_open && r->err.off + r->err.len < BUF_CAP)
        p[P_PERR] = (struct pollfd){c->prog_err, POLLIN, 0};
    if (r->out.len)
        p[P_COUT] = (struct pollfd){r->out_fd, POLLOUT, 0};
    if (r->err.len)
        p[P_CERR] = (struct pollfd){r->err_fd, POLLOUT, 0};
    int tmo = timeout_for(r);
    if (r->exited && (r->prog_out_open || r->prog_err_open))
        tmo = 0; /* draining what the program left in its pipes */
    if (r->done || poll(p, P_N, tmo) < 0)
        return;
    if (p[P_SIG].revents)
        handle_signals(r);
    if (p[P_CTL].revents)
        control(r);
    if (p[P_CMD].revents & POLLIN)
        cmd_result(r, c->ops.cmd_notify(c->ops.cmd_ctx));
    else if (p[P_CMD].revents)
        r->cmd_hup = 1;
    if (p[P_CIN].revents)
        pump_input(r);
    if (p[P_PIN].revents)
        push_input(r);
    if (p[P_POUT].revents || (r->exited && r->prog_out_open))
        pump_from_prog(r, c->prog_out, &r->out, &r->prog_out_open, 'o');
    if (p[P_PERR].revents || (r->exited && r->prog_err_open))
        pump_from_prog(r, c->prog_err, &r->err, &r->prog_err_open, 'e');
    if (p[P_COUT].revents)
        flush_to(r, r->out_fd, &r->out, &r->caller_out_ok, r->out_private);
    if (p[P_CERR].revents)
        flush_to(r, r->err_fd, &r->err, &r->caller_err_ok, r->err_private);
}

size_t ng_relay_copy_winsize(int tty_fd, int master, char *buf, size_t size)
{
    struct winsize ws;
    if (tty_fd < 0 || ioctl(tty_fd, TIOCGWINSZ, &ws) < 0 || ws.ws_col == 0)
        return 0;
    if (ioctl(master, TIOCSWINSZ, &ws) < 0)
        return 0;
    int n = snprintf(buf, size, "%ux%u", (unsigned)ws.ws_col, (unsigned)ws.ws_row);
    return n > 0 && (size_t)n < size ? (size_t)n : 0;
}

int ng_relay_run(const struct ng_relay_cfg *cfg, struct ng_relay_result *res)
{
    static struct relay r; /* 200 KiB of buffers: not on the stack */

    memset(&r, 0, sizeof(r));
    memset(res, 0, sizeof(*res));
    r.cfg = cfg;
    r.res = res;
    r.caller_in_open = cfg->caller_in >= 0;
    r.prog_in_open = cfg->prog_in >= 0;
    r.prog_out_open = cfg->prog_out >= 0;
    r.prog_err_open = cfg->prog_err >= 0;
    r.caller_out_ok = r.caller_err_ok = 1;
    r.start_ms = r.last_activity_ms = r.last_tick_ms = now_ms();
    int po = cfg->caller_out_private, pe = cfg->caller_err_private;
    r.out_fd = po >= 0 ? po : cfg->caller_out;
    r.err_fd = pe >= 0 ? pe : cfg->caller_err;
    r.out_private = po >= 0;
    r.err_private = pe >= 0;
    for (int i = 0; i < 3; i++) {
        int fd = i == 0 ? cfg->prog_in : i == 1 ? cfg->prog_out : cfg->prog_err;
        if (fd >= 0)
            (void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    }
    while (!r.done) {
        if (r.exited && !r.prog_out_open && !r.prog_err_open && !r.out.len && !r.err.len) {
            end(&r, NG_END_EXIT);
            break;
        }
        /* Input ended and all of it delivered: pass EOF on (pipe mode; the
         * pty master also carries the output). */
        if (!cfg->pty && !r.caller_in_open && r.in.len == 0 && r.prog_in_open) {
            (void)close(cfg->prog_in);
            r.prog_in_open = 0;
        }
        step(&r);
        tick(&r);
    }
    if (r.prog_in_open && !cfg->pty)
        (void)close(cfg->prog_in);
    return 0;
}

void ng_relay_terminate(pid_t child, int grace_ms)
{
    int st;
    (void)kill(-child, SIGHUP);
    (void)kill(child, SIGHUP);
    for (int64_t end_at = now_ms() + grace_ms; now_ms() < end_at;) {
        if (waitpid(child, &st, WNOHANG) == child)
            return;
        (void)poll(NULL, 0, 10);
    }
    (void)kill(-child, SIGKILL);
    (void)kill(child, SIGKILL);
    while (waitpid(child, &st, 0) < 0 && errno == EINTR)
        ;
}

int ng_relay_exit_status(const struct ng_relay_result *res)
{
    switch (res->reason) {
    case NG_END_EXIT:
        if (WIFEXITED(res->wait_status))
            return WEXITSTATUS(res->wait_status);
        if (WIFSIGNALED(res->wait_status))
            return 128 + WTERMSIG(res->wait_status);
        return NG_EXIT_INTERNAL;
    case NG_END_MAX_SESSION:
    case NG_END_IDLE:
    case NG_END_TERMINATED:
        return NG_EXIT_TIMEOUT;
    case NG_END_SIGNAL:
        return 128 + res->signal;
    case NG_END_RECORD_FAIL:
    case NG_END_OUTPUT_LIMIT:
        return NG_EXIT_STORAGE;
    case NG_END_AUDIT_LOST:
        return NG_EXIT_AUDIT;
    default:
        return NG_EXIT_INTERNAL;
    }
}
