/* Name resolution (policy.md "The request") and check's static warnings.
 * The user database is injected, so tests and the fuzzer use a fake one. */
#include "policy_int.h"

#include <errno.h>
#include <string.h>

static int resolve_user(const struct ng_policy *p, const struct ng_policy_rule *r,
                        struct ng_policy_user *u, const struct ng_policy_userdb *db,
                        struct ng_policy_msgs *errs, struct ng_policy_msgs *warns, int *failed)
{
    int group = u->kind == NG_POLICY_USER_GROUP;
    int ret;

    if (u->kind != NG_POLICY_USER_NAME && !group)
        return 0;
    ret = group ? db->group_gid(db->ctx, u->name, &u->id) : db->user_uid(db->ctx, u->name, &u->id);
    u->resolved = ret == 0;
    if (ret == 0)
        return 0;
    if (ret == -ENOMEM)
        return ret;
    const char *what = group ? "group" : "user";
    const char *pfx = group ? "%" : "";
    if (ret != -ENOENT) {
        /* A database that fails is never taken as "unknown": fail closed. */
        *failed = 1;
        return ng_policy_msg_add(errs, "%s:%zu: [%s %s]: cannot look up %s '%s%s': %s", p->file,
                                 r->line, r->kind == NG_POLICY_ALLOW ? "allow" : "deny", r->name,
                                 what, pfx, u->name, strerror(-ret));
    }
    if (r->kind == NG_POLICY_DENY) {
        *failed = 1;
        return ng_policy_msg_add(errs,
                                 "%s:%zu: [deny %s]: unknown %s '%s%s' (a deny rule that "
                                 "cannot match would fail open)",
                                 p->file, r->line, r->name, what, pfx, u->name);
    }
    return ng_policy_msg_add(warns, "%s:%zu: [allow %s]: unknown %s '%s%s' never matches", p->file,
                             r->line, r->name, what, pfx, u->name);
}

int ng_policy_resolve(struct ng_policy *p, const struct ng_policy_userdb *db,
                      struct ng_policy_msgs *errs, struct ng_policy_msgs *warns)
{
    int failed = 0;

    if (!p || !db || !db->user_uid || !db->group_gid || !errs || !warns)
        return -EINVAL;
    for (size_t i = 0; i < p->nrules; i++) {
        struct ng_policy_rule *r = &p->rules[i];
        for (size_t k = 0; k < r->nusers; k++) {
            int ret = resolve_user(p, r, &r->users[k], db, errs, warns, &failed);
            if (ret < 0)
                return ret;
        }
        for (size_t k = 0; k < r->napprovers; k++) {
            int ret = resolve_user(p, r, &r->approvers[k], db, errs, warns, &failed);
            if (ret < 0)
                return ret;
        }
    }
    return failed ? -EINVAL : 0;
}

/* exe and comm are chosen by the target, uid by a target holding CAP_SETUID
 * (policy.md "Target attributes"); name and pod come from the host's engine
 * and kubelet state, keyed by the container ID and pod UID of the cgroup
 * path. */
static int strong_attr(enum ng_attr a)
{
    return a == NG_ATTR_CONTAINER || a == NG_ATTR_CGROUP || a == NG_ATTR_PID || a == NG_ATTR_NAME ||
           a == NG_ATTR_POD;
}

static int relies_on_weak(const struct ng_policy_rule *r)
{
    for (size_t i = 0; i < r->ntargets; i++) {
        if (r->targets[i].any)
            return 0; /* "*" relies on nothing the target says */
        if (strong_attr(r->targets[i].attr))
            return 0;
    }
    return r->ntargets > 0;
}

int ng_policy_lint(const struct ng_policy *p, struct ng_policy_msgs *warns)
{
    int ret = 0;

    for (size_t i = 0; i < p->nrules && ret == 0; i++) {
        const struct ng_policy_rule *r = &p->rules[i];
        if (r->kind == NG_POLICY_ALLOW && relies_on_weak(r))
            ret = ng_policy_msg_add(warns,
                                    "%s:%zu: [allow %s]: targets rely only on weak or medium "
                                    "attributes (exe, comm: the target sets them; uid: a "
                                    "target with CAP_SETUID picks it)",
                                    p->file, r->line, r->name);
        if (ret == 0 && r->kind == NG_POLICY_DENY && r->commands)
            ret = ng_policy_msg_add(warns,
                                    "%s:%zu: [deny %s]: a deny by command is advisory: it "
                                    "matches the path asked for, and a shell or another "
                                    "allowed program can still run it",
                                    p->file, r->line, r->name);
    }
    return ret;
}
