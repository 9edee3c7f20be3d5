/* Time to program: how long from starting a command until the program it
 * runs executes its first instruction (docs/benchmarks.md "start-up").
 *
 *   t2p --stamp                    print CLOCK_MONOTONIC (ns) and exit: the
 *                                  program, linked statically so its main is
 *                                  its first instruction in all but name
 *   t2p N OUT -- CMD... --stamp    run CMD N times (its last arguments start
 *                                  this binary with --stamp); for each run,
 *                                  append to OUT the seconds from just before
 *                                  fork to the stamp, and the whole run's
 *
 * CMD's standard output must reach the stamp (nsgate --no-pty, nsenter). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--stamp") == 0) {
        printf("%lld\n", now_ns());
        return 0;
    }
    if (argc < 5 || strcmp(argv[3], "--") != 0) {
        fprintf(stderr, "usage: t2p --stamp | t2p N OUT -- CMD...\n");
        return 64;
    }
    int n = atoi(argv[1]);
    FILE *out = fopen(argv[2], "a");
    if (!out)
        return 1;
    for (int i = 0; i < n; i++) {
        int p[2];
        char buf[64] = "";
        if (pipe(p) < 0)
            return 1;
        long long t0 = now_ns();
        pid_t pid = fork();
        if (pid == 0) {
            dup2(p[1], 1);
            close(p[0]);
            close(p[1]);
            execvp(argv[4], argv + 4);
            _exit(127);
        }
        close(p[1]);
        ssize_t got = read(p[0], buf, sizeof(buf) - 1);
        int st;
        while (read(p[0], buf + (got > 0 ? got : 0), 0) > 0)
            ;
        close(p[0]);
        waitpid(pid, &st, 0);
        long long t1 = now_ns();
        if (got <= 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "t2p: run %d failed\n", i);
            return 1;
        }
        fprintf(out, "%.6f %.6f\n", (strtoll(buf, NULL, 10) - t0) / 1e9, (t1 - t0) / 1e9);
    }
    fclose(out);
    return 0;
}
