/* nsgate enter, two-person control (control.h): the session's control
 * socket, opened once the session is on record and before the entering
 * child may go; under approval = required the wait for an approver, with
 * nothing entered yet (the child waits on the go pipe, before any setns). */
#include "cmd_enter_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void approvers(struct session *s, struct ng_control_cfg *cfg)
{
    size_t nu = 0, ng = 0;

    for (size_t i = 0; i < s->c->napprovers; i++) {
        const struct ng_policy_user *u = &s->c->approvers[i];
        if (!u->resolved || u->kind == NG_POLICY_USER_ANY)
            continue;
        if (u->kind == NG_POLICY_USER_GROUP && ng < NG_ARRAY_SIZE(s->ap_gids))
            s->ap_gids[ng++] = u->id;
        else if (u->kind != NG_POLICY_USER_GROUP && nu < NG_ARRAY_SIZE(s->ap_uids))
            s->ap_uids[nu++] = u->id;
    }
    cfg->ap_uids = s->ap_uids;
    cfg->n_ap_uids = nu;
    cfg->ap_gids = s->ap_gids;
    cfg->n_ap_gids = ng;
}

static int approval(struct session *s, const char **why)
{
    char t[64];
    int64_t ms = s->c->approval_timeout_ms;

    if (ms % 60000 == 0)
        snprintf(t, sizeof(t), "%lldm", (long long)(ms / 60000));
    else
        snprintf(t, sizeof(t), "%llds", (long long)(ms / 1000));
    fprintf(stderr, "nsgate: waiting for approval of session %s (nsgate approve %s); at most %s\n",
            s->id_text, s->id_text, t);
    int v = ng_control_await(&s->ctl, ms, s->sigfd);
    switch (v) {
    case NG_CONTROL_APPROVED:
        fprintf(stderr, "nsgate: session %s approved by %s (uid %u)\n", s->id_text, s->ctl.by,
                (unsigned)s->ctl.by_uid);
        return 0;
    case NG_CONTROL_REJECTED:
        *why = "rejected";
        return ng_err("session %s rejected by %s (uid %u); nothing was entered", s->id_text,
                      s->ctl.by, (unsigned)s->ctl.by_uid),
               NG_EXIT_DENIED;
    case NG_CONTROL_TIMEOUT:
        *why = "approval-timeout";
        return ng_err("no approval of session %s within %s; nothing was entered", s->id_text, t),
               NG_EXIT_DENIED;
    case NG_CONTROL_TERMINATED:
        *why = "terminated";
        return ng_err("session %s terminated by %s while it waited; nothing was entered",
                      s->id_text, s->ctl.by),
               NG_EXIT_TIMEOUT;
    case NG_CONTROL_CANCELLED:
        *why = "cancelled";
        return ng_err("session %s: the wait for approval was cancelled; nothing was entered",
                      s->id_text),
               NG_EXIT_DENIED;
    default:
        *why = "record-failure";
        return ng_err("cannot record the approval of session %s: %s", s->id_text, strerror(-v)),
               NG_EXIT_STORAGE;
    }
}

int ng_cmd_enter_control_start(struct session *s, const char **why)
{
    struct ng_control_cfg cfg = {
        .db_path = s->db_path,
        .id = s->id,
        .id_text = s->id_text,
        .requester_uid = s->caller->uid,
        .moderation = s->c->moderation_required,
        .sess = s->sess,
        .audit = s->audit_ok ? &s->audit : NULL,
    };

    *why = NULL;
    approvers(s, &cfg);
    int r = ng_control_open(&s->ctl, &cfg);
    if (r < 0)
        return ng_err("cannot open the session's control socket: %s; nothing was entered",
                      strerror(-r)),
               NG_EXIT_INTERNAL;
    s->ctl_ok = 1;
    if (s->c->approval_required && (r = approval(s, why)) != 0)
        return r;
    ng_control_running(&s->ctl);
    if (s->c->moderation_required && !s->o.quiet)
        fprintf(stderr,
                "nsgate: session %s is moderated: input passes only while an approver "
                "watches (nsgate watch --moderate)\n",
                s->id_text);
    return 0;
}

void ng_cmd_enter_control_relay(struct session *s, struct ng_relay_cfg *cfg)
{
    if (!s->ctl_ok)
        return;
    cfg->ctl_fd = ng_control_fd(&s->ctl);
    cfg->ops.ctl = ng_control_relay;
    cfg->ops.ctl_ctx = &s->ctl;
    cfg->input_gate = s->c->moderation_required ? &s->ctl.input_gate : NULL;
}

void ng_cmd_enter_control_close(struct session *s)
{
    if (s->ctl_ok)
        ng_control_close(&s->ctl);
    s->ctl_ok = 0;
}
