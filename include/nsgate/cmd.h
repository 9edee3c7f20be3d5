/* The command layer: one function per subcommand, called by main after the
 * start-up hardening. Each returns the process exit status (cli.md); these
 * and main are the only places that print. */
#ifndef NSGATE_CMD_H
#define NSGATE_CMD_H

#include <sys/types.h>

/* What main learned at start-up and hands to the subcommand. */
struct ng_caller {
    uid_t uid; /* real ids of the human who ran nsgate */
    gid_t gid;
    size_t ngroups;
    gid_t groups[256];
    int setuid_start; /* started setuid-root by a non-root caller */
};

int ng_cmd_enter(int argc, char **argv, const struct ng_caller *caller);
int ng_cmd_check(int argc, char **argv, const struct ng_caller *caller);
int ng_cmd_sessions(int argc, char **argv, const struct ng_caller *caller);
int ng_cmd_replay(int argc, char **argv, const struct ng_caller *caller);
int ng_cmd_verify(int argc, char **argv, const struct ng_caller *caller);
int ng_cmd_export(int argc, char **argv, const struct ng_caller *caller);
int ng_cmd_keygen(int argc, char **argv, const struct ng_caller *caller);
/* Does this keygen command line ask for --escrow (which needs no privilege,
 * so main does not harden it as privileged)? Prints nothing. */
int ng_cmd_keygen_wants_escrow(int argc, char **argv);

/* Exit statuses of cli.md. */
enum {
    NG_EXIT_USAGE = 64,
    NG_EXIT_NOINPUT = 66,
    NG_EXIT_TARGET = 69,
    NG_EXIT_INTERNAL = 70,
    NG_EXIT_STORAGE = 74,
    NG_EXIT_AUDIT = 75,
    NG_EXIT_DENIED = 77,
    NG_EXIT_POLICY = 78,
    NG_EXIT_TIMEOUT = 124,
    NG_EXIT_CANNOT_EXEC = 126,
    NG_EXIT_NOT_FOUND = 127,
};

/* Print "nsgate: MESSAGE\n" to standard error with untrusted bytes escaped. */
void ng_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ng_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
