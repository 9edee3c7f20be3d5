/* nsgate enter, two-person control (control.h): the session's control
 * socket, opened once the session is on record and before the entering
 * child may go; under approval = required the wait for an approver, with
 * nothing entered yet (the child waits on the go pipe, before any setns). */
#include "cmd_enter_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void approvers(struct enter_control *ctl, const struct ng_constraints *c,
                      struct ng_control_cfg *cfg)
{
    size_t nu = 0, ng = 0;

    for (size_t i = 0; i < c->napprovers; i++) {
        const struct ng_policy_user *u = &c->approvers[i];
        if (!u->resolved || u->kind == NG_POLICY_USER_ANY)
            continue;
        if (u->kind == NG_POLICY_USER_GROUP && ng < NG_ARRAY_SIZE(ctl->ap_gids))
            ctl->ap_gids[ng++] = u->id;
        else if (u->kind != NG_POLICY_USER_GROUP && nu < NG_ARRAY_SIZE(ctl->ap_uids))
            ctl->ap_uids[nu++] = u->id;
    }
    cfg->ap_uids = ctl->ap_uids;
    cfg->n_ap_uids = nu;
    cfg->ap_gids = ctl->ap_gids;
    cfg->n_ap_gids = ng;
}

static int approval(struct enter *e, const char **why)
{
    char t[64];
    int64_t ms = e->d.c->approval_timeout_ms;

    if (ms % 60000 == 0)
        snprintf(t, sizeof(t), "%lldm", (long long)(ms / 60000));
    else
        snprintf(t, sizeof(t), "%llds", (long long)(ms / 1000));
    fprintf(stderr, "nsgate: waiting for approval of session %s (nsgate approve %s); at most %s\n",
            e->d.id_text, e->d.id_text, t);
    int v = ng_control_await(&e->ctl.c, ms, e->h.sigfd);
    switch (v) {
    case NG_CONTROL_APPROVED:
        fprintf(stderr, "nsgate: session %s approved by %s (uid %u)\n", e->d.id_text, e->ctl.c.by,
                (unsigned)e->ctl.c.by_uid);
        ng_cmd_enter_banner(e);
        return 0;
    case NG_CONTROL_REJECTED:
        *why = "rejected";
        return ng_err("session %s rejected by %s (uid %u); nothing was entered", e->d.id_text,
                      e->ctl.c.by, (unsigned)e->ctl.c.by_uid),
               NG_EXIT_DENIED;
    case NG_CONTROL_TIMEOUT:
        *why = "approval-timeout";
        return ng_err("no approval of session %s within %s; nothing was entered", e->d.id_text, t),
               NG_EXIT_DENIED;
    case NG_CONTROL_TERMINATED:
        *why = "terminated";
        return ng_err("session %s terminated by %s while it waited; nothing was entered",
                      e->d.id_text, e->ctl.c.by),
               NG_EXIT_TIMEOUT;
    case NG_CONTROL_CANCELLED:
        *why = "cancelled";
        return ng_err("session %s: the wait for approval was cancelled; nothing was entered",
                      e->d.id_text),
               NG_EXIT_DENIED;
    default:
        *why = "record-failure";
        return ng_err("cannot record the approval of session %s: %s", e->d.id_text, strerror(-v)),
               NG_EXIT_STORAGE;
    }
}

int ng_cmd_enter_control_start(struct enter *e, const char **why)
{
    const struct ng_constraints *c = e->d.c;
    struct ng_control_cfg cfg = {
        .db_path = e->a.db_path,
        .id = e->d.id,
        .id_text = e->d.id_text,
        .requester_uid = e->a.caller->uid,
        .moderation = c->moderation_required,
        .sess = e->r.sess,
        .audit = e->d.audit_ok ? &e->d.audit : NULL,
    };

    *why = NULL;
    approvers(&e->ctl, c, &cfg);
    int r = ng_control_open(&e->ctl.c, &cfg);
    /* Without the socket nobody can approve, moderate or terminate: a rule
     * that needs them refuses the session; any other runs, said so. */
    if (r < 0 && (c->approval_required || c->moderation_required))
        return ng_err("cannot open the session's control socket: %s; nothing was entered",
                      strerror(-r)),
               NG_EXIT_INTERNAL;
    if (r < 0) {
        ng_warn("cannot open the session's control socket (%s): it cannot be watched as a "
                "listed watcher or terminated from outside",
                strerror(-r));
        return 0;
    }
    e->ctl.on = 1;
    if (c->approval_required && (r = approval(e, why)) != 0)
        return r;
    ng_control_running(&e->ctl.c);
    if (c->moderation_required && !e->a.o.quiet)
        fprintf(stderr,
                "nsgate: session %s is moderated: input passes only while an approver "
                "watches (nsgate watch --moderate)\n",
                e->d.id_text);
    return 0;
}

void ng_cmd_enter_control_relay(struct enter *e, struct ng_relay_cfg *cfg)
{
    if (!e->ctl.on)
        return;
    cfg->ctl_fd = ng_control_fd(&e->ctl.c);
    cfg->ops.ctl = ng_control_relay;
    cfg->ops.ctl_ctx = &e->ctl.c;
    cfg->input_gate = e->d.c->moderation_required ? &e->ctl.c.input_gate : NULL;
}

void ng_cmd_enter_control_init(struct enter_control *ctl)
{
    memset(ctl, 0, sizeof(*ctl));
}

void ng_cmd_enter_control_close(struct enter_control *ctl)
{
    if (ctl->on)
        ng_control_close(&ctl->c);
    ctl->on = 0;
}
