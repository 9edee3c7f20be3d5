/* Terminal mode (recording.md "Relay"): a fresh pty allocated on the host,
 * the caller's terminal settings and window size copied to it, the caller's
 * terminal in raw mode for the session and restored on every exit path. */
#ifndef NSGATE_TTY_H
#define NSGATE_TTY_H

#include <termios.h>

struct ng_tty {
    int master, slave; /* -1 when not allocated */
    int caller_fd;     /* the caller's terminal (0), or -1 */
    int raw;           /* caller's terminal is in raw mode now */
    struct termios saved;
};

/* Allocate the pty; copy termios and window size from caller_fd when it is
 * a terminal. All descriptors close-on-exec. */
int ng_tty_open(struct ng_tty *t, int caller_fd);
/* Put the caller's terminal in raw mode (no-op when it is not a terminal). */
int ng_tty_raw(struct ng_tty *t);
/* Restore the caller's terminal; safe to call more than once. */
void ng_tty_restore(struct ng_tty *t);
void ng_tty_close(struct ng_tty *t);

#endif
