/* A static helper the integration tests run inside targets. It reports what
 * a program inside sees (descriptors, environment, credentials, /dev/tty)
 * and provokes what a hostile target would (switching namespaces). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_dir(const char *path, int skip_self)
{
    DIR *d = opendir(path);
    char *names[4096];
    size_t n = 0;
    struct dirent *e;
    if (!d)
        return perror(path), 1;
    while ((e = readdir(d)) && n < 4096) {
        if (e->d_name[0] == '.')
            continue;
        if (skip_self && atoi(e->d_name) == dirfd(d))
            continue;
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof(names[0]), cmp);
    for (size_t i = 0; i < n; i++)
        printf("%s\n", names[i]);
    return 0;
}

static int status(void)
{
    char line[512];
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return perror("status"), 1;
    while (fgets(line, sizeof(line), f))
        if (!strncmp(line, "Uid:", 4) || !strncmp(line, "Gid:", 4) ||
            !strncmp(line, "Groups:", 7) || !strncmp(line, "Cap", 3) ||
            !strncmp(line, "NoNewPrivs:", 11))
            fputs(line, stdout);
    fclose(f);
    return 0;
}

static int nsflip(void)
{
    /* A hostile target: switch the UTS namespace all the time. */
    struct timespec ts = {0, 20000};
    for (;;) {
        if (unshare(CLONE_NEWUTS) < 0)
            return perror("unshare"), 1;
        nanosleep(&ts, NULL);
    }
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return fprintf(
                   stderr,
                   "usage: ng_probe fds|env|tty|status|ls DIR|sleep N|nsflip|exit N|kill SIG\n"),
               2;
    const char *m = argv[1];
    if (!strcmp(m, "fds"))
        return list_dir("/proc/self/fd", 1);
    if (!strcmp(m, "env")) {
        for (char **e = environ; *e; e++)
            printf("%s\n", *e);
        return 0;
    }
    if (!strcmp(m, "tty")) {
        int fd = open("/dev/tty", O_RDWR | O_NOCTTY);
        if (fd < 0)
            return printf("tty-fail %s\n", strerror(errno)), 0;
        return printf("tty-ok\n"), 1;
    }
    if (!strcmp(m, "status"))
        return status();
    if (!strcmp(m, "ls") && argc > 2)
        return list_dir(argv[2], 0);
    if (!strcmp(m, "sleep") && argc > 2)
        return sleep((unsigned)atoi(argv[2])), 0;
    if (!strcmp(m, "nsflip"))
        return nsflip();
    if (!strcmp(m, "exit") && argc > 2)
        return atoi(argv[2]);
    if (!strcmp(m, "kill") && argc > 2)
        return kill(getpid(), atoi(argv[2])), 99;
    if (!strcmp(m, "slack") && argc > 3) {
        /* a caller handing a huge timer slack to what it executes */
        if (prctl(PR_SET_TIMERSLACK, strtoul(argv[2], NULL, 10), 0, 0, 0) < 0)
            return perror("prctl"), 1;
        execv(argv[3], argv + 3);
        return perror("execv"), 127;
    }
    if (!strcmp(m, "cwd")) {
        char buf[4096];
        return printf("%s\n", getcwd(buf, sizeof(buf)) ? buf : "(unreachable)"), 0;
    }
    return 2;
}
