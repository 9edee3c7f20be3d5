/* nsgate: an audited nsenter. main hardens the process (harden.h), re-executes
 * enter from a sealed copy (selfexe.h), then hands over to one subcommand. */
#include "cmd_int.h"
#include "nsgate/harden.h"
#include "nsgate/selfexe.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
    "Usage: nsgate SUBCOMMAND [OPTIONS]\n"
    "\n"
    "  enter     enter namespaces of a process, gated by policy, recorded, audited\n"
    "  check     evaluate the policy for a request without entering anything\n"
    "  sessions  list and search recorded sessions\n"
    "  replay    watch a recorded session\n"
    "  verify    prove recorded sessions were not changed\n"
    "  export    write a session as asciicast, JSON lines or an HTML page\n"
    "  keygen    create or advance the sealing keys (root only), or an escrow key pair\n"
    "  watch     follow a running session's output live (--moderate: let its input in)\n"
    "  approve   release a session waiting for approval (an approver of its rule)\n"
    "  reject    refuse a session waiting for approval\n"
    "  terminate end a running session from outside (root or an approver)\n"
    "\n"
    "nsgate help SUBCOMMAND or nsgate SUBCOMMAND --help for details.\n";

static const struct {
    const char *name;
    int (*fn)(int, char **, const struct ng_caller *);
    unsigned flags;
} subcommands[] = {
    {"enter", ng_cmd_enter, NG_HARDEN_PRIVILEGED},
    {"check", ng_cmd_check, 0},
    {"sessions", ng_cmd_sessions, 0},
    {"replay", ng_cmd_replay, 0},
    {"verify", ng_cmd_verify, 0},
    {"export", ng_cmd_export, 0},
    {"keygen", ng_cmd_keygen, NG_HARDEN_PRIVILEGED},
    {"watch", ng_cmd_watch, 0},
    {"approve", ng_cmd_control, NG_HARDEN_PRIVILEGED},
    {"reject", ng_cmd_control, NG_HARDEN_PRIVILEGED},
    {"terminate", ng_cmd_control, NG_HARDEN_PRIVILEGED},
};

static int find_subcommand(const char *name)
{
    for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
        if (strcmp(subcommands[i].name, name) == 0)
            return (int)i;
    return -1;
}

int main(int argc, char **argv)
{
    extern char **environ;
    struct ng_caller caller;
    const char *why = NULL;

    /* A sealed copy runs only when nsgate itself started it: anything else
     * (a target's /bin/sh linked to /proc/self/exe) gets nothing done. */
    if (ng_selfexe_is_copy() && ng_selfexe_accept(&argc, &argv) < 0) {
        static const char msg[] = "nsgate: refusing to run: this is nsgate's sealed copy, "
                                  "started from inside a target\n";
        (void)!write(2, msg, sizeof(msg) - 1);
        return NG_EXIT_CANNOT_EXEC;
    }
    if (ng_harden_fds() < 0 || ng_harden_env(getuid() == 0) < 0) {
        fprintf(stderr, "nsgate: start-up failed: cannot sanitize descriptors or environment\n");
        return NG_EXIT_INTERNAL;
    }
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? NG_EXIT_USAGE : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("nsgate %s\n", NSGATE_VERSION);
        return 0;
    }
    int help = strcmp(argv[1], "help") == 0;
    char *name = help ? (argc > 2 ? argv[2] : NULL) : argv[1];
    if (!name) {
        fputs(usage, stdout);
        return 0;
    }
    int i = find_subcommand(name);
    if (i < 0) {
        ng_err("unknown subcommand '%s' (see nsgate --help)", name);
        return NG_EXIT_USAGE;
    }
    if (i == 0 && !help && !ng_selfexe_is_copy()) {
        /* Checked here: the sealed copy is always root-owned. */
        if (geteuid() == 0 && getuid() != 0 && !ng_harden_binary_root_owned()) {
            ng_err("refusing to run setuid: the binary is not owned by root");
            return NG_EXIT_INTERNAL;
        }
        int r = ng_selfexe_reexec(argv, environ);
        ng_err("cannot re-execute from a sealed copy of itself: %s", strerror(-r));
        return NG_EXIT_INTERNAL;
    }
    unsigned flags = help ? 0 : subcommands[i].flags;
    /* keygen --escrow makes a reviewer's key pair with the caller's own
     * rights, off the host as well: none of the privileged refusals apply. */
    if (strcmp(name, "keygen") == 0 && ng_cmd_keygen_wants_escrow(argc - 1, argv + 1))
        flags = 0;
    if (ng_harden_process(flags, &caller, &why) < 0) {
        ng_err("%s", why ? why : "start-up hardening failed");
        return NG_EXIT_INTERNAL;
    }
    if (help) {
        static char help_opt[] = "--help";
        char *hargv[] = {name, help_opt, NULL};
        return subcommands[i].fn(2, hargv, &caller);
    }
    return subcommands[i].fn(argc - 1, argv + 1, &caller);
}
