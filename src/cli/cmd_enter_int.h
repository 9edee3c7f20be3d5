/* Private to the enter command: the session state shared by the decision
 * phases (cmd_enter.c) and the entry, relay and recording (cmd_enter_run.c). */
#ifndef NSGATE_CMD_ENTER_H
#define NSGATE_CMD_ENTER_H

#include "nsgate/audit.h"
#include "nsgate/cgroup.h"
#include "nsgate/cmdfilter.h"
#include "nsgate/cmdrec.h"
#include "nsgate/confine.h"
#include "nsgate/control.h"
#include "cmd_int.h"
#include "nsgate/credplan.h"
#include "nsgate/creds.h"
#include "nsgate/enter.h"
#include "nsgate/isolate.h"
#include "nsgate/opts.h"
#include "nsgate/parentpriv.h"
#include "nsgate/policy.h"
#include "nsgate/progenv.h"
#include "nsgate/program.h"
#include "nsgate/recorder.h"
#include "nsgate/relay.h"
#include "nsgate/request.h"
#include "nsgate/sealer.h"
#include "nsgate/selfexe.h"
#include "nsgate/store.h"
#include "nsgate/tty.h"
#include "nsgate/util.h"
#include "nsgate/uuid.h"

#include <stdint.h>
#include <sys/types.h>

struct session {
    struct ng_enter_opts o;
    const struct ng_caller *caller;
    const char *policy_path;
    char *policy_buf;
    struct ng_policy *policy;
    struct ng_policy_decision dec;
    int have_dec;
    const struct ng_constraints *c;
    struct ng_request rq;
    struct ng_creds creds;
    struct ng_confine confine;       /* what of the target's confinement the program gets */
    enum ng_reach reach;             /* how the caller is kept out (reach.h) */
    uint32_t isolate_uid;            /* NG_REACH_USERNS: the program's host uid */
    char uid_map[64], gid_map[4000]; /* NG_REACH_USERNS: nsgate's user namespace */
    char *shell_argv[2];
    char **argv;
    struct ng_env env;
    uint8_t id[16];
    char id_text[NG_UUID_STR];
    char program[4352]; /* a bare PROGRAM resolved (progpath.h) */
    struct ng_cgroup_session cg;
    int host_proc_fd, root_fd, cwd_fd;
    int in[2], out[2], err[2], errp[2], statp[2], gop[2], cmdsock[2];
    int sigfd;
    int use_pty;
    struct ng_tty tty;
    pid_t child;
    pid_t recorder_pid;
    struct ng_audit audit;
    int audit_required;
    int audit_ok;  /* records can be written */
    char acct[64]; /* the caller's user name, for the audit trail */
    char nslist[96];
    const char *db_path;
    const char *keys_dir;
    struct ng_store *store;
    struct ng_session *sess;
    struct ng_sealer *sealer;
    int sealing; /* session_start done: ticks seal */
    struct ng_recorder rec;
    int rec_ok;
    int started; /* USER_START sent */
    /* record_commands (cmd_enter_cmds.c) */
    struct ng_cmdfilter cmdfilter;
    struct ng_cmdrec cmdrec;
    int cmdrec_ok;
    int out_priv, err_priv;     /* the relay's reopenings of fds 1 and 2, or -1 */
    unsigned long refused_seen; /* seccomp refusals already recorded */
    /* two-person control (cmd_enter_control.c) */
    struct ng_control ctl;
    int ctl_ok;
    uint32_t ap_uids[64], ap_gids[64];
};

/* After an allow: credentials, program, cgroups, descriptors, the store and
 * the session header (cmd_enter_run.c). 0 or an exit status. */
int ng_cmd_enter_prepare(struct session *s);
/* Fork the entering child, relay and record until the end. Exit status. */
int ng_cmd_enter_run(struct session *s);

/* Command recording (cmd_enter_cmds.c). Before the fork: the filter and the
 * socket its listener comes back over (nothing when record_commands = no).
 * 0 or an exit status. */
int ng_cmd_enter_cmds_prepare(struct session *s);
/* After the fork, once the session is on record: the command recorder. */
int ng_cmd_enter_cmds_start(struct session *s);
/* Wait for the child's execve: 0 when the program runs, else the child's
 * failure (*e filled, 1 returned) or an exit status (74: a command could
 * not be recorded; 70). Notifications are served meanwhile: the program's
 * own exec is the first command. */
int ng_cmd_enter_await(struct session *s, struct ng_enter_err *e);
/* The session's end: serve what is queued, then (after the cgroup is
 * killed or released) record the execs still in flight. */
void ng_cmd_enter_cmds_drain(struct session *s);
int ng_cmd_enter_cmds_finish(struct session *s);
void ng_cmd_enter_cmds_cleanup(struct session *s);

/* Two-person control (cmd_enter_control.c). After the session is on
 * record, before the go: the control socket, and under approval = required
 * the wait. 0, or an exit status; *why is then the end reason to record
 * (the child must be stopped and the session ended), or NULL. */
int ng_cmd_enter_control_start(struct session *s, const char **why);
/* The relay's control descriptor, operation and moderation gate. */
void ng_cmd_enter_control_relay(struct session *s, struct ng_relay_cfg *cfg);
void ng_cmd_enter_control_close(struct session *s);

#endif
