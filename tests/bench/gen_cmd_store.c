/* Build a session store for the command search benchmark (tests/bench/run.sh
 * "cmdsearch"): SESSIONS sessions of COMMANDS command events each, written
 * through the recorder's own store code (so the command index is the one a
 * recorder builds), plus a little output per session. Commands are drawn
 * from a fixed vocabulary with random arguments; "cat /etc/shadow" is
 * planted in every 1000th session, so `sessions --command '*etc/shadow*'`
 * has a known answer (SESSIONS / 1000 sessions).
 * Usage: gen_cmd_store DB SESSIONS COMMANDS */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nsgate/store.h"

static const char *const words[][4] = {
    {"ls", "-la", "/var/log", NULL},
    {"ps", "aux", NULL, NULL},
    {"grep", "-r", "error", "/var/log"},
    {"apt-get", "install", "-y", "curl"},
    {"git", "status", NULL, NULL},
    {"cat", "/proc/meminfo", NULL, NULL},
    {"python3", "-c", "print(1)", NULL},
    {"make", "-j4", NULL, NULL},
    {"curl", "-s", "https://example.com/", NULL},
    {"tail", "-n", "100", "/var/log/syslog"},
    {"systemctl", "status", "nginx", NULL},
    {"df", "-h", NULL, NULL},
    {"ip", "addr", NULL, NULL},
    {"find", "/", "-name", "*.conf"},
};

static char arg0[] = "/bin/sh";
static char *const sh_argv[] = {arg0, NULL};

static int command(struct ng_session *s, unsigned *seed, int shadow, int i)
{
    char buf[512];
    const char *const *w = words[rand_r(seed) % (sizeof(words) / sizeof(words[0]))];
    int n = snprintf(buf, sizeof(buf),
                     "{\"t_ns\":%d,\"pid\":%d,\"ppid\":1,\"uid\":0,\"gid\":0,\"cwd\":\"/root\","
                     "\"path\":\"/usr/bin/%s\",\"exe\":\"/usr/bin/%s\",\"argv\":[",
                     i * 1000, 100 + i, shadow ? "cat" : w[0], shadow ? "cat" : w[0]);
    if (shadow) {
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, "\"cat\",\"/etc/shadow\"");
    } else {
        for (int k = 0; k < 4 && w[k]; k++)
            n += snprintf(buf + n, sizeof(buf) - (size_t)n, "%s\"%s\"", k ? "," : "", w[k]);
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, ",\"x%u\"", (unsigned)rand_r(seed));
    }
    n += snprintf(buf + n, sizeof(buf) - (size_t)n, "],\"result\":0,\"verified\":true}");
    return ng_store_event(s, 'c', buf, (size_t)n);
}

static int one_session(struct ng_store *st, int k, int ncmd, unsigned *seed)
{
    struct ng_session_header h;
    struct ng_session *s;
    static const uint32_t groups[] = {0};

    memset(&h, 0, sizeof(h));
    h.host = "bench";
    h.user_name = k % 3 ? "alice" : "bob";
    h.groups = groups;
    h.ngroups = 1;
    h.login_uid = -1;
    h.audit_session = -1;
    h.target_pid = 1000 + k;
    h.ns = 1u << NG_NS_NET;
    h.program = "/bin/sh";
    h.argv = sh_argv;
    h.run_as_groups = groups;
    h.run_as_ngroups = 1;
    h.rule = "bench";
    h.record_input = 1;
    h.record_commands = 1;
    int r = ng_store_session_begin(st, &h, &s);
    for (int i = 0; r == 0 && i < ncmd; i++) {
        r = command(s, seed, k % 1000 == 999 && i == ncmd / 2, i);
        if (r == 0 && i % 10 == 0)
            r = ng_store_event(s, 'o', "some output\r\n", 13);
    }
    if (r == 0)
        r = ng_store_session_end(s, 0, "exit");
    ng_store_session_free(s);
    return r;
}

int main(int argc, char **argv)
{
    struct ng_store *st;
    unsigned seed = 42;

    if (argc != 4)
        return fprintf(stderr, "usage: gen_cmd_store DB SESSIONS COMMANDS\n"), 2;
    int nses = atoi(argv[2]), ncmd = atoi(argv[3]);
    int r = ng_store_open(argv[1], &st);
    for (int k = 0; r == 0 && k < nses; k++)
        r = one_session(st, k, ncmd, &seed);
    ng_store_close(st);
    if (r < 0)
        return fprintf(stderr, "gen_cmd_store: %s\n", strerror(-r)), 1;
    return 0;
}
