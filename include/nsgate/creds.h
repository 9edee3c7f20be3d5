/* Applying and verifying the program's credentials in the entering child
 * (security.md "credentials, in this order"). The plan comes from credplan.h. */
#ifndef NSGATE_CREDS_H
#define NSGATE_CREDS_H

#include "nsgate/credplan.h"
#include "nsgate/util.h"

/* Highest capability number the kernel knows (/proc/sys/kernel/cap_last_cap,
 * read on the host at start-up). */
int ng_caps_last_cap(int *ret);
uint64_t ng_caps_mask(int last_cap);
/* This thread's inheritable, permitted and effective sets (capget). */
int ng_caps_get(uint64_t *inh, uint64_t *prm, uint64_t *eff) NG_MUST_CHECK;

/* Before the first setns: drop supplementary groups in the host user ns. */
int ng_creds_pre_setns(void);

/* After setns (and the pid fork): everything from PR_SET_KEEPCAPS to
 * no_new_privs, each step checked; host_proc_fd is a descriptor of the host's
 * /proc opened before the first setns (to read /proc/self/setgroups).
 * Returns 0 or a negative errno with *why naming the failed step. */
int ng_creds_apply(const struct ng_creds *cr, int last_cap, int host_proc_fd, const char **why);

/* Read the credentials back and compare with the plan. */
int ng_creds_verify(const struct ng_creds *cr, int last_cap, const char **why);

#endif
