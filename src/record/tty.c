/* Host-side pty and the caller's terminal mode (see tty.h). */
#include "nsgate/tty.h"
#include "nsgate/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int ng_tty_open(struct ng_tty *t, int caller_fd)
{
    char name[128];

    memset(t, 0, sizeof(t->saved));
    t->master = t->slave = -1;
    t->raw = 0;
    t->caller_fd = isatty(caller_fd) ? caller_fd : -1;
    t->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (t->master < 0)
        return -errno;
    if (grantpt(t->master) < 0 || unlockpt(t->master) < 0 ||
        ptsname_r(t->master, name, sizeof(name)) != 0)
        return -errno ? -errno : -EIO;
    t->slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (t->slave < 0)
        return -errno;
    if (t->caller_fd >= 0) {
        struct termios tio;
        struct winsize ws;
        if (tcgetattr(t->caller_fd, &tio) == 0)
            (void)tcsetattr(t->slave, TCSANOW, &tio);
        if (ioctl(t->caller_fd, TIOCGWINSZ, &ws) == 0)
            (void)ioctl(t->slave, TIOCSWINSZ, &ws);
    }
    return 0;
}

int ng_tty_raw(struct ng_tty *t)
{
    struct termios raw;

    if (t->caller_fd < 0)
        return 0;
    if (tcgetattr(t->caller_fd, &t->saved) < 0)
        return -errno;
    raw = t->saved;
    cfmakeraw(&raw);
    if (tcsetattr(t->caller_fd, TCSADRAIN, &raw) < 0)
        return -errno;
    t->raw = 1;
    return 0;
}

void ng_tty_restore(struct ng_tty *t)
{
    if (t->raw && t->caller_fd >= 0) {
        (void)tcsetattr(t->caller_fd, TCSADRAIN, &t->saved);
        t->raw = 0;
    }
}

void ng_tty_close(struct ng_tty *t)
{
    ng_tty_restore(t);
    ng_closep(&t->master);
    ng_closep(&t->slave);
}
