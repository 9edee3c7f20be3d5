/* Start-up hardening (security.md "Start-up, before anything else"). The
 * steps run in main in this order:
 *   1. ng_harden_fds       close everything above 2, make 0..2 valid
 *   2. ng_harden_env       rebuild the environment from an allow-list
 *   3. (enter only) sealed self re-exec, see selfexe.h
 *   4. ng_harden_process   umask, non-dumpable, setuid checks, ids to 0,
 *                          every caller-controlled process attribute reset */
#ifndef NSGATE_HARDEN_H
#define NSGATE_HARDEN_H

#include "nsgate/caller.h"

int ng_harden_fds(void);
/* Is the file this process was executed from owned by root? */
int ng_harden_binary_root_owned(void);
/* Keep only TERM, LANG, LC_* and, for a real uid of 0, NSGATE_*. */
int ng_harden_env(int real_root);

enum ng_harden_flags {
    NG_HARDEN_PRIVILEGED = 1, /* enter, keygen: refuse outside the initial user ns etc. */
};

/* Fills caller. Returns 0, or a negative errno with *why set to a message
 * for the operator. */
int ng_harden_process(unsigned flags, struct ng_caller *caller, const char **why);

/* Reset every attribute a caller can hand a setuid process (rlimits, oom
 * score, timer slack, nice, scheduler, I/O priority, affinity, personality). */
int ng_harden_reset_state(const char **why);

/* Drop privileges for good to the caller's real ids (cli.md "Privileges of
 * the subcommands"), verified. */
int ng_harden_drop_to_caller(const struct ng_caller *caller);

/* A setuid start's reader opening the store as the caller could (review
 * accounting, cli.md "Reviews"): on, the effective ids and groups become the
 * caller's while the saved uid stays 0; off, back to root's. Both verified.
 * A no-op for real root and for a start without privilege. */
int ng_harden_act_as_caller(const struct ng_caller *caller, int on);

#endif
