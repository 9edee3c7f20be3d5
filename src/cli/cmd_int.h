/* The command layer: one function per subcommand, called by main after the
 * start-up hardening. Each returns the process exit status (cli.md); these
 * and main are the only places that print. */
#ifndef NSGATE_CLI_CMD_INT_H
#define NSGATE_CLI_CMD_INT_H

#include "nsgate/caller.h"
#include "nsgate/exitcode.h"

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

/* Print "nsgate: MESSAGE\n" to standard error with untrusted bytes escaped. */
void ng_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ng_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
