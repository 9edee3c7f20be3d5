/* Private to the enter command. One struct per phase, each with one owner
 * and one lifetime (docs/architecture.md "Order of operations"):
 *
 *   enter_args      what was asked (setup; read-only after it)
 *   enter_decision  policy, target, audit trail and the decision (cmd_enter.c)
 *   enter_plan      what the program gets: credentials, reach, argv,
 *                   environment, confinement (cmd_enter_plan.c)
 *   enter_host      the session's host side before the fork: cgroup,
 *                   descriptors, the command filter (cmd_enter_plan.c)
 *   enter_record    store, sealer, the session and its recorders
 *                   (cmd_enter_run.c, cmd_enter_cmds.c)
 *   enter_child     the entering child, from fork to reap (cmd_enter_run.c)
 *   enter_control   two-person control: the session's control socket, the
 *                   wait for approval (cmd_enter_control.c)
 *
 * Every struct is valid zeroed-and-initialised (enter_*_init) and freed by
 * its own function whatever the phase reached: no phase flags. */
#ifndef NSGATE_CMD_ENTER_INT_H
#define NSGATE_CMD_ENTER_INT_H

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

/* How long the end of a session waits: for the session's processes after
 * SIGHUP before SIGKILL, for its cgroup to empty after SIGKILL, and for an
 * exec in flight to be recorded (cmdrec.h). */
#define NG_ENTER_GRACE_MS       2000
#define NG_ENTER_CGROUP_KILL_MS 2000
#define NG_ENTER_CMDS_FINISH_MS 2000

struct enter_args {
    struct ng_enter_opts o;
    const struct ng_caller *caller;
    const char *policy_path, *db_path, *keys_dir;
    int use_pty;
};

struct enter_decision {
    char *policy_buf;
    struct ng_policy *policy;
    struct ng_request rq; /* the target and the request as the policy sees it */
    struct ng_audit audit;
    int audit_required;
    int audit_ok;  /* records can be written */
    char acct[64]; /* the caller's user name, for the audit trail */
    char nslist[96];
    char program[4352]; /* a bare PROGRAM resolved (progpath.h): argv[0] then */
    struct ng_policy_decision dec;
    const struct ng_constraints *c; /* &dec.c, once allowed */
    uint8_t id[16];
    char id_text[NG_UUID_STR];
};

struct enter_plan {
    struct ng_creds creds;
    enum ng_reach reach;             /* how the caller is kept out (reach.h) */
    uint32_t isolate_uid;            /* NG_REACH_USERNS: the program's host uid */
    char uid_map[64], gid_map[4000]; /* NG_REACH_USERNS: nsgate's user namespace */
    struct ng_confine confine;       /* what of the target's confinement applies */
    char *shell_argv[2];
    char **argv;
    struct ng_env env;
};

/* A pair of pipe ends; -1 when closed. */
struct enter_pipe {
    int r, w;
};

struct enter_host {
    struct ng_cgroup_session cg;
    int host_proc_fd, root_fd, cwd_fd;
    struct ng_tty tty;                  /* terminal mode */
    struct enter_pipe in, out, err;     /* pipe mode: the program's stdio */
    struct enter_pipe errp, statp, gop; /* child: error, status; parent: go */
    int sigfd;
    int out_priv, err_priv; /* the relay's reopenings of fds 1 and 2, or -1 */
    /* record_commands: the filter the child installs, and the socket its
     * listener comes back over */
    struct ng_cmdfilter cmdfilter;
    struct enter_pipe cmdsock;
};

struct enter_record {
    struct ng_store *store;
    struct ng_sealer *sealer;
    struct ng_session *sess; /* NULL until the header is stored */
    struct ng_recorder rec;  /* drives the sealer (recorder.h) */
    struct ng_cmdrec cmdrec; /* record_commands, once the session is stored */
};

struct enter_child {
    pid_t pid;
    pid_t recorder;
};

struct enter_control {
    struct ng_control c;
    int on;                            /* the socket is open */
    uint32_t ap_uids[64], ap_gids[64]; /* the rule's approvers, resolved */
};

struct enter {
    struct enter_args a;
    struct enter_decision d;
    struct enter_plan p;
    struct enter_host h;
    struct enter_record r;
    struct enter_child ch;
    struct enter_control ctl;
};

void ng_enter_pipe_close(struct enter_pipe *p);

/* After an allow (cmd_enter_plan.c). 0 or an exit status. */
int ng_cmd_enter_plan(struct enter_plan *p, const struct enter_decision *d,
                      const struct enter_args *a);
void ng_cmd_enter_plan_free(struct enter_plan *p);
int ng_cmd_enter_host(struct enter_host *h, const struct enter_decision *d,
                      const struct enter_args *a);
void ng_cmd_enter_host_init(struct enter_host *h);
void ng_cmd_enter_host_close(struct enter_host *h);
/* The store and the keys' public part (recording.md: no session starts
 * unless it can be recorded). */
int ng_cmd_enter_open_store(struct enter_record *r, const struct enter_decision *d,
                            const struct enter_args *a);
void ng_cmd_enter_record_init(struct enter_record *r);
void ng_cmd_enter_record_close(struct enter_record *r);
/* What a store error means, for a message (cmd_enter_plan.c). */
const char *ng_cmd_enter_store_why(const char *db_path, int r, char *buf, size_t size);

/* Fork the entering child, relay and record until the end (cmd_enter_run.c).
 * Exit status. */
int ng_cmd_enter_run(struct enter *e);
/* "session ... started" on standard error (unless -q). */
void ng_cmd_enter_banner(const struct enter *e);

/* Command recording (cmd_enter_cmds.c). Before the fork: the filter and the
 * socket its listener comes back over (nothing when record_commands = no).
 * 0 or an exit status. */
int ng_cmd_enter_cmds_prepare(struct enter_host *h, const struct ng_constraints *c);
/* After the fork, once the session is on record: the command recorder. */
int ng_cmd_enter_cmds_start(struct enter *e);
/* Is the command recorder running? */
int ng_cmd_enter_cmds_on(const struct enter_record *r);
/* Wait for the child's execve: 0 when the program runs, else the child's
 * failure (*err filled, 1 returned) or an exit status (74: a command could
 * not be recorded; 70). Notifications are served meanwhile: the program's
 * own exec is the first command. */
int ng_cmd_enter_await(struct enter *e, struct ng_enter_err *err);
/* The session's end: serve what is queued, then (after the cgroup is
 * killed or released) record the execs still in flight. */
void ng_cmd_enter_cmds_drain(struct enter_record *r);
int ng_cmd_enter_cmds_finish(struct enter_record *r);

/* Two-person control (cmd_enter_control.c). After the session is on
 * record, before the go: the control socket, and under approval = required
 * the wait. 0, or an exit status; *why is then the end reason to record
 * (the child must be stopped and the session ended), or NULL. */
int ng_cmd_enter_control_start(struct enter *e, const char **why);
/* The relay's control descriptor, operation and moderation gate. */
void ng_cmd_enter_control_relay(struct enter *e, struct ng_relay_cfg *cfg);
void ng_cmd_enter_control_init(struct enter_control *ctl);
void ng_cmd_enter_control_close(struct enter_control *ctl);

#endif
