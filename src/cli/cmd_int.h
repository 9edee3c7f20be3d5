/* The command layer: one function per subcommand, called by main after the
 * start-up hardening. Each returns the process exit status (cli.md); these
 * and main are the only places that print. */
#ifndef NSGATE_CLI_CMD_INT_H
#define NSGATE_CLI_CMD_INT_H

#include "nsgate/caller.h"
#include "nsgate/exitcode.h"
#include "nsgate/optparse.h"
#include "nsgate/request.h"

int ng_cmd_enter(int argc, char **argv, const struct ng_caller *caller);
int ng_cmd_check(int argc, char **argv, const struct ng_caller *caller);
int ng_cmd_sessions(int argc, char **argv, const struct ng_caller *caller);
int ng_cmd_replay(int argc, char **argv, const struct ng_caller *caller);
int ng_cmd_verify(int argc, char **argv, const struct ng_caller *caller);
int ng_cmd_export(int argc, char **argv, const struct ng_caller *caller);
int ng_cmd_keygen(int argc, char **argv, const struct ng_caller *caller);
/* Two-person control (issue: watch, approve, reject, terminate). */
int ng_cmd_watch(int argc, char **argv, const struct ng_caller *caller);
/* approve, reject and terminate: argv[0] says which (cmd_control.c). */
int ng_cmd_control(int argc, char **argv, const struct ng_caller *caller);
/* Does this keygen command line ask for --escrow (which needs no privilege,
 * so main does not harden it as privileged)? Prints nothing. */
int ng_cmd_keygen_wants_escrow(int argc, char **argv);

/* Each subcommand's option table (optparse.h), for the fuzzer too. */
extern const struct ng_cmdspec ng_spec_check, ng_spec_sessions, ng_spec_replay, ng_spec_verify,
    ng_spec_export, ng_spec_keygen;
extern const struct ng_cmdspec ng_spec_watch, ng_spec_control;

/* The start every subcommand but enter and check shares: a reader
 * (NG_CMD_READER) drops privileges for good first (cli.md "Privileges of the
 * subcommands"), then its table parses argv; a usage error prints the message
 * and usage (64), --help (option id 'h') prints usage to standard output.
 * 0: go on with l; NG_CMD_DONE: return 0; else the exit status. */
#define NG_CMD_DONE (-1)
int ng_cmd_start(const struct ng_cmdspec *spec, const char *usage, int argc, char **argv,
                 const struct ng_caller *caller, int (*opt)(const struct ng_optval *, void *),
                 void *ctx, char ***operands, int *noperands);

/* Open the target of enter and check (cmd_target.c); messages printed.
 * 0, or the exit status: 64 ambiguous, 69 not found or gone. */
int ng_cmd_open_target(struct ng_request *rq, const struct ng_target_query *q);
/* NSGATE_STATE_ROOT for a real-root caller (tests), else "". */
const char *ng_cmd_state_root(const struct ng_caller *caller);

/* Print "nsgate: MESSAGE\n" to standard error with untrusted bytes escaped. */
void ng_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ng_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
