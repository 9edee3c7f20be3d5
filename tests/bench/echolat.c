/* echolat: keystroke echo round-trip through a recorder's pty relay.
 *
 *   echolat N OUTFILE -- PROGRAM ARG...
 *
 * Makes a pseudo-terminal (the operator's terminal), starts PROGRAM on it as
 * a session leader with it as the controlling terminal (PROGRAM is a
 * recorder such as `script -q -c /bin/cat /dev/null` or `nsgate enter --pty
 * -- /bin/cat`), waits until a probe byte comes back (the recorder has put
 * this terminal in raw mode and the inner terminal echoes), then N times:
 * write one byte and time until that byte is read back. The inner `cat`
 * runs in canonical mode, so the echo comes from its terminal's line
 * discipline, relayed twice by the recorder (in and out). Every 100 bytes a
 * newline ends the line (cat prints it; not timed, drained). Writes one
 * latency in microseconds per line to OUTFILE. Exit 0 on success.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* Read until byte c is seen or timeout_ms passes; returns 0 when seen. */
static int wait_byte(int fd, char c, int timeout_ms)
{
    double end = now_us() + timeout_ms * 1000.0;
    char buf[4096];
    for (;;) {
        int left = (int)((end - now_us()) / 1000.0);
        if (left < 0)
            return -1;
        struct pollfd p = {fd, POLLIN, 0};
        int r = poll(&p, 1, left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            return -1;
        if (memchr(buf, c, (size_t)n))
            return 0;
    }
}

/* Discard whatever arrives within quiet_ms of silence. */
static void drain(int fd, int quiet_ms)
{
    char buf[4096];
    struct pollfd p = {fd, POLLIN, 0};
    while (poll(&p, 1, quiet_ms) > 0) {
        if (read(fd, buf, sizeof buf) <= 0)
            return;
    }
}

int main(int argc, char **argv)
{
    if (argc < 5 || strcmp(argv[3], "--") != 0) {
        fprintf(stderr, "usage: echolat N OUTFILE -- PROGRAM ARG...\n");
        return 2;
    }
    long n = atol(argv[1]);
    FILE *out = fopen(argv[2], "w");
    if (!out) {
        perror(argv[2]);
        return 2;
    }

    int m = posix_openpt(O_RDWR | O_NOCTTY);
    if (m < 0 || grantpt(m) || unlockpt(m)) {
        perror("pty");
        return 2;
    }
    struct winsize ws = {.ws_row = 40, .ws_col = 120};
    ioctl(m, TIOCSWINSZ, &ws);
    const char *sname = ptsname(m);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 2;
    }
    if (pid == 0) {
        setsid();
        int s = open(sname, O_RDWR);
        if (s < 0)
            _exit(127);
        ioctl(s, TIOCSCTTY, 0);
        dup2(s, 0);
        dup2(s, 1);
        dup2(s, 2);
        if (s > 2)
            close(s);
        close(m);
        execvp(argv[4], argv + 4);
        _exit(127);
    }

    /* Readiness: the recorder is up and the inner terminal echoes. */
    int ready = 0;
    for (int i = 0; i < 100 && !ready; i++) {
        if (write(m, "@", 1) != 1)
            break;
        ready = wait_byte(m, '@', 100) == 0;
    }
    if (!ready) {
        fprintf(stderr, "echolat: no echo from %s\n", argv[4]);
        kill(pid, SIGKILL);
        return 1;
    }
    if (write(m, "\n", 1) != 1)
        return 1;
    drain(m, 200);

    static const char alpha[] = "abcdefghijklmnopqrstuvwxyz";
    int fails = 0;
    for (long i = 0; i < n; i++) {
        char c = alpha[i % 26];
        double t0 = now_us();
        if (write(m, &c, 1) != 1) {
            fails++;
            break;
        }
        if (wait_byte(m, c, 2000) != 0) {
            fails++;
            break;
        }
        double t1 = now_us();
        fprintf(out, "%.1f\n", t1 - t0);
        if (i % 100 == 99) {
            if (write(m, "\n", 1) != 1) {
                fails++;
                break;
            }
            drain(m, 20);
        }
    }
    /* End: a newline, then end-of-file for cat. */
    if (write(m, "\n\x04", 2) != 2)
        fails++;
    int st = 0;
    for (int i = 0; i < 100 && pid; i++) {
        drain(m, 10);
        if (waitpid(pid, &st, WNOHANG) == pid)
            pid = 0;
    }
    /* Some recorders (script) wait for their own input to end: hang up. */
    close(m);
    for (int i = 0; i < 300 && pid; i++) {
        usleep(10000);
        if (waitpid(pid, &st, WNOHANG) == pid)
            pid = 0;
    }
    if (pid) {
        fprintf(stderr, "echolat: %s did not end\n", argv[4]);
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
        fails++;
    }
    fclose(out);
    return fails ? 1 : 0;
}
