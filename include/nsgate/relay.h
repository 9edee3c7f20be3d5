/* The relay loop between the caller's standard streams and the program, in
 * the recorder process that stays in the host namespaces. It never blocks on
 * the caller's descriptors for long (bounded buffers; the program is read
 * only while there is room), never interprets the bytes, and hands every
 * chunk to the recording callback before passing it on. */
#ifndef NSGATE_RELAY_H
#define NSGATE_RELAY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum ng_end_reason {
    NG_END_EXIT = 0,     /* the program ended */
    NG_END_MAX_SESSION,  /* 124 */
    NG_END_IDLE,         /* 124 */
    NG_END_SIGNAL,       /* nsgate got SIGTERM/SIGHUP: 128+N */
    NG_END_RECORD_FAIL,  /* 74 */
    NG_END_OUTPUT_LIMIT, /* 74 */
    NG_END_AUDIT_LOST,   /* 75 */
    NG_END_TERMINATED,   /* nsgate terminate (control.h): 124 */
};

/* What was recorded is committed at least this often while it flows, so a
 * watcher (nsgate watch) is at most about 250 ms behind. */
#define NG_RELAY_FLUSH_MS 150

struct ng_relay_ops {
    /* Record one chunk: kind 'o' output, 'e' stderr, 'i' input, 'm' marker.
     * A negative return ends the session (fail closed). */
    int (*record)(void *ctx, char kind, const void *data, size_t len);
    /* Called at least every tick_ms (sealing, audit checks); negative ends
     * the session with the reason it sets. */
    int (*tick)(void *ctx, enum ng_end_reason *reason);
    void *ctx;
    /* Command recording (cmdrec.h), when cmd_fd >= 0: the listener is
     * readable; SIGCHLD arrived; a wait status of the child that is a stop
     * (the child's own exec in flight). Negative ends the session (74). */
    int (*cmd_notify)(void *ctx);
    int (*cmd_reap)(void *ctx);
    int (*cmd_stopped)(void *ctx, pid_t pid, int status);
    void *cmd_ctx;
    /* Two-person control (control.h). flush: commit what was recorded
     * (called NG_RELAY_FLUSH_MS after a chunk, when no tick came first);
     * ctl: the control descriptor is readable; a negative return ends the
     * session with the reason it sets (terminate). */
    int (*flush)(void *ctx);
    void *flush_ctx;
    int (*ctl)(void *ctx, enum ng_end_reason *reason);
    void *ctl_ctx;
};

struct ng_relay_cfg {
    int caller_in, caller_out, caller_err; /* usually 0, 1, 2 */
    int prog_in;                           /* write end of the program's stdin, or -1 */
    int prog_out, prog_err;                /* read ends */
    pid_t child;                           /* the entering child */
    int status_fd;                         /* read end: program wait status after a pid fork */
    int sigfd;                             /* signalfd: CHLD INT QUIT TERM HUP (WINCH) */
    int pty;    /* terminal mode: prog_in == prog_out == the pty master */
    int tty_fd; /* the caller's terminal for window sizes, or -1 */
    /* ng_relay_private_out of caller_out and caller_err, or -1 (then the
     * caller's descriptors are used); owned by whoever fills the config. */
    int caller_out_private, caller_err_private;
    int64_t max_session_ms, idle_timeout_ms; /* < 0: none */
    uint64_t max_output;
    int tick_ms;
    int cmd_fd; /* the command filter's listener, or -1 */
    int ctl_fd; /* the control descriptor (control.h), or -1 */
    /* Moderation: when not NULL, the caller's input is read only while
     * *input_gate is non-zero (a moderator watches); it waits meanwhile. */
    const int *input_gate;
    struct ng_relay_ops ops;
};

struct ng_relay_result {
    enum ng_end_reason reason;
    int wait_status; /* the program's, when reason is NG_END_EXIT */
    int signal;      /* NG_END_SIGNAL: which */
    int record_err;  /* NG_END_RECORD_FAIL: the negative errno */
    uint64_t out_bytes, in_bytes;
};

/* Runs until the program has exited and its output is drained, or the
 * session is ended. Returns 0 or a negative errno for an internal error. */
int ng_relay_run(const struct ng_relay_cfg *cfg, struct ng_relay_result *res);

/* A private, non-blocking open file description of the caller's pipe or
 * terminal fd (through /proc/self/fd), or -1 when there cannot be one. Opened
 * before the recorder drops its capabilities: reopening a pipe or terminal
 * the caller owns needs the privilege of the start (parentpriv.h). */
int ng_relay_private_out(int fd);

/* Copy the caller's window size to the pty; records "COLSxROWS" into buf
 * (size >= 32) and returns its length, or 0 when there is none. */
size_t ng_relay_copy_winsize(int tty_fd, int master, char *buf, size_t size);

/* End the session's program: SIGHUP to its process group, then SIGKILL
 * after grace_ms; reaps the child. */
void ng_relay_terminate(pid_t child, int grace_ms);

/* Exit status for the caller from a result (cli.md). */
int ng_relay_exit_status(const struct ng_relay_result *res);

#endif
