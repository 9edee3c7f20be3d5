/* The command filter (docs/security.md "Command recording"): a seccomp
 * filter that hands every execve and execveat of the program and of every
 * process it starts to the recorder as a user notification. The recorder
 * (P0) builds the BPF program before the fork (libseccomp, every ABI the
 * kernel runs: on x86-64 also i386 and x32); the entering child installs it
 * after setns and before the credential drop, while it still holds
 * CAP_SYS_ADMIN in its user namespace (no no_new_privs needed), and hands the
 * listener to the recorder over a socket made before the fork.
 *
 * Any other filter the entering child installs (the target's, copied into
 * the program) must come after this one: a later filter cannot take the
 * notification away (a second listener is refused, EBUSY; a later
 * SECCOMP_RET_USER_NOTIF without a listener makes the call fail with
 * ENOSYS), while ERRNO/KILL/TRAP in any filter still win (the exec never
 * happens, so there is nothing to record). */
#ifndef NSGATE_CMDFILTER_H
#define NSGATE_CMDFILTER_H

#include <linux/filter.h>
#include <stddef.h>

struct ng_cmdfilter {
    struct sock_filter *insns; /* malloc'd */
    unsigned short len;
};

/* Build the filter: execve and execveat in every ABI -> USER_NOTIF, any
 * other call allowed, an ABI the filter does not know kills the process.
 * 0 or a negative errno. */
int ng_cmdfilter_build(struct ng_cmdfilter *f);
void ng_cmdfilter_free(struct ng_cmdfilter *f);

/* In the entering child: install f with a new listener (and, where the
 * kernel has it, SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: once the recorder
 * holds a notification, only a fatal signal interrupts the waiting exec),
 * send the listener over sock with one byte saying whether the wait is
 * killable ('k') or not ('i'), and close both. 0 or a negative errno. */
int ng_cmdfilter_install(const struct ng_cmdfilter *f, int sock);

/* In the recorder: receive the listener sent by ng_cmdfilter_install.
 * *ret_killable says whether its waits are killable. -EPIPE when the child
 * closed the socket without sending one. */
int ng_cmdfilter_receive(int sock, int *ret_fd, int *ret_killable);

#endif
