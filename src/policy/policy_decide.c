/* The decision (policy.md "Decision"): a pure function over the parsed,
 * resolved policy and one request. No I/O: every fact about the caller, the
 * target and the user database comes in through the request.
 *
 * MUST (each is a test in test_policy_decide.c):
 * - deny rules are evaluated before allow rules, each kind in file order;
 * - the first matching deny denies; else the first matching allow allows;
 *   else deny;
 * - an unresolved name never matches (a deny with one is refused at load);
 * - an allow rule does not match a session that would have host access
 *   unless it says host_access = yes;
 * - an allow rule does not match a session that could only run within reach
 *   of the caller's other processes unless it says caller_reach = allow. */
#include "policy_int.h"
#include "nsgate/program.h"
#include "nsgate/text.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int has_id(const uint32_t *v, size_t n, uint32_t id)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == id)
            return 1;
    return 0;
}

static int user_matches(const struct ng_policy_user *u, const struct ng_policy_request *req,
                        int deny)
{
    const struct ng_idset *c = req->caller;

    if (!u->resolved)
        return 0;
    switch (u->kind) {
    case NG_POLICY_USER_ANY:
        return 1;
    case NG_POLICY_USER_NAME:
    case NG_POLICY_USER_UID:
        return c->uid == u->id;
    case NG_POLICY_USER_GROUP: {
        int in_caller = c->gid == u->id || has_id(c->groups, c->ngroups, u->id);
        int in_db = has_id(req->db_groups, req->ndb_groups, u->id);
        /* Allow needs both (a group left in the process after removal from
         * the database no longer counts); deny takes either. */
        return deny ? (in_caller || in_db) : (in_caller && in_db);
    }
    default:
        return 0;
    }
}

static int users_match(const struct ng_policy_rule *r, const struct ng_policy_request *req,
                       char *why, size_t sz)
{
    for (size_t i = 0; i < r->nusers; i++)
        if (user_matches(&r->users[i], req, r->kind == NG_POLICY_DENY))
            return 1;
    snprintf(why, sz, "users: caller %u not listed", (unsigned)req->caller->uid);
    return 0;
}

static int targets_match(const struct ng_policy_rule *r, const struct ng_attrs *a, char *why,
                         size_t sz)
{
    for (size_t i = 0; i < r->ntargets; i++) {
        const struct ng_policy_target *t = &r->targets[i];
        if (t->any)
            return 1;
        const char *v = a->v[t->attr];
        if (v && fnmatch(t->glob, v, 0) == 0)
            return 1;
    }
    if (r->ntargets != 1) {
        snprintf(why, sz, "targets: none of %zu items matches", r->ntargets);
        return 0;
    }
    const struct ng_policy_target *t = &r->targets[0];
    const char *name = ng_attr_name(t->attr);
    const char *v = a->v[t->attr];
    if (v)
        snprintf(why, sz, "targets: %s:%s does not match (%s=%s)", name, t->glob, name, v);
    else if ((t->attr == NG_ATTR_CONTAINER || t->attr == NG_ATTR_NAME) && a->container_why)
        snprintf(why, sz, "targets: %s:%s: target has no %s attribute (%s)", name, t->glob, name,
                 a->container_why);
    else if (t->attr == NG_ATTR_POD && a->pod_why)
        snprintf(why, sz, "targets: %s:%s: target has no pod attribute (%s)", name, t->glob,
                 a->pod_why);
    else
        snprintf(why, sz, "targets: %s:%s: target has no %s attribute", name, t->glob, name);
    return 0;
}

static int namespaces_match(const struct ng_policy_rule *r, ng_nsset ns, char *why, size_t sz)
{
    char a[128], b[128];

    if (r->kind == NG_POLICY_DENY) {
        if (!r->has_namespaces || (ns & r->namespaces))
            return 1;
        ng_nsset_format(ns, a, sizeof(a));
        ng_nsset_format(r->namespaces, b, sizeof(b));
        snprintf(why, sz, "namespaces: request %s shares none with %s", a, b);
        return 0;
    }
    if ((ns & ~r->namespaces) == 0)
        return 1;
    ng_nsset_format(ns & ~r->namespaces, a, sizeof(a));
    snprintf(why, sz, "namespaces: %s not allowed", a);
    return 0;
}

static int commands_match(const struct ng_policy_rule *r, const char *program, char *why, size_t sz)
{
    if (!r->commands)
        return 1;
    for (size_t i = 0; i < r->ncommands; i++)
        if (strcmp(r->commands[i], program) == 0)
            return 1;
    snprintf(why, sz, "commands: %s not listed", program);
    return 0;
}

static int reason_match(const struct ng_policy_rule *r, const char *reason, char *why, size_t sz)
{
    if (r->require_reason && !reason) {
        snprintf(why, sz, "reason: required, none given (-r)");
        return 0;
    }
    if (r->reason_pattern && regexec(&r->reason_re, reason, 0, NULL, 0) != 0) {
        snprintf(why, sz, "reason: does not match reason_pattern %s", r->reason_pattern);
        return 0;
    }
    return 1;
}

/* What the program would hold beyond the caller, in words. */
static void describe_excess(const struct ng_creds *cr, const struct ng_idset *c, char *buf,
                            size_t sz)
{
    if (cr->host.uid != c->uid) {
        snprintf(buf, sz, "with uid %u (caller %u)", (unsigned)cr->host.uid, (unsigned)c->uid);
        return;
    }
    if (cr->host.gid != c->gid) {
        snprintf(buf, sz, "with gid %u (caller gid %u)", (unsigned)cr->host.gid, (unsigned)c->gid);
        return;
    }
    for (size_t i = 0; i < cr->host.ngroups; i++) {
        uint32_t g = cr->host.groups[i];
        if (g != c->gid && !has_id(c->groups, c->ngroups, g)) {
            snprintf(buf, sz, "with group %u the caller lacks", (unsigned)g);
            return;
        }
    }
    snprintf(buf, sz, "with capabilities (permitted 0x%llx, ambient 0x%llx)",
             (unsigned long long)cr->prm, (unsigned long long)cr->amb);
}

/* policy.md "Host access", for the credentials cr this rule would give.
 * Returns 1 when the session has host access (why filled), 0 when not. */
static int session_host_access(const struct ng_creds *cr, const struct ng_policy_request *req,
                               char *why, size_t sz)
{
    const char *where;
    char what[128];

    if (req->mnt_stays_host)
        where = "program stays in the host mount namespace";
    else if (req->target_own_userns && !req->userns_entered)
        where = "program stays in the host user namespace (the target has its own)";
    else
        return 0;
    if (!ng_creds_exceed_caller(cr, req->caller))
        return 0;
    describe_excess(cr, req->caller, what, sizeof(what));
    snprintf(why, sz, "%s %s", where, what);
    return 1;
}

/* How the session this rule would create is kept out of the caller's
 * reach (reach.h): 0 with *reach set, or -EPERM (why says why). */
static int session_reach(const struct ng_policy_rule *r, const struct ng_creds *cr,
                         const struct ng_policy_request *req, enum ng_reach *reach, char *why,
                         size_t sz)
{
    struct ng_reach_in in = {
        .caller_uid = req->caller->uid,
        .in_entered_userns = req->userns_entered,
        .caller_owns_userns = req->caller_owns_userns,
        .userns_available = req->userns_available,
        .cr = cr,
        .allow = r->c.caller_reach_allow,
    };
    return ng_reach_decide(&in, reach, why, sz);
}

#define HA_WHY_MAX 240

/* What an allow rule would give the session, beyond matching. */
struct allow_eval {
    int host;
    char ha[HA_WHY_MAX];
    enum ng_reach reach;
    char reach_why[320];
};

/* The allow-only conditions: reason, credentials, host access, caller
 * reach. 1 when they hold, 0 when not (why says which). */
static int eval_allow(const struct ng_policy_rule *r, const struct ng_policy_request *req,
                      struct allow_eval *ae, char *why, size_t sz)
{
    struct ng_credplan_in in = req->cred;
    struct ng_creds cr;

    if (!reason_match(r, req->reason, why, sz))
        return 0;
    in.c = &r->c;
    in.caller = req->caller;
    if (ng_credplan_compute(&in, &cr) < 0) {
        snprintf(why, sz, "credentials: run_as ids are not mapped in the target's user namespace");
        return 0;
    }
    ae->host = session_host_access(&cr, req, ae->ha, sizeof(ae->ha));
    if (ae->host && !r->c.host_access) {
        snprintf(why, sz, "host access: %s; rule lacks host_access = yes", ae->ha);
        return 0;
    }
    if (session_reach(r, &cr, req, &ae->reach, ae->reach_why, sizeof(ae->reach_why)) < 0) {
        snprintf(why, sz, "caller reach: %.200s; rule lacks caller_reach = allow", ae->reach_why);
        return 0;
    }
    if (ae->host)
        snprintf(why, sz, "matched; host access: %s", ae->ha);
    else
        snprintf(why, sz, "matched");
    return 1;
}

/* One rule against the request: 1 matched, 0 not (res->why says why). */
static int eval_rule(const struct ng_policy_rule *r, const struct ng_policy_request *req,
                     const char *program, struct ng_policy_rule_result *res, struct allow_eval *ae)
{
    char *why = res->why;
    size_t sz = sizeof(res->why);

    res->rule = r;
    memset(ae, 0, sizeof(*ae));
    if (!users_match(r, req, why, sz) || !targets_match(r, req->attrs, why, sz) ||
        !namespaces_match(r, req->ns, why, sz))
        return 0;
    if (!commands_match(r, program, why, sz))
        return 0;
    if (r->kind == NG_POLICY_ALLOW && !eval_allow(r, req, ae, why, sz))
        return 0;
    if (r->kind == NG_POLICY_DENY)
        snprintf(why, sz, "matched");
    res->matched = 1;
    return 1;
}

/* A deny rule that failed only on commands: the deny is advisory (policy.md). */
static int deny_missed_by_command(const struct ng_policy_rule *r,
                                  const struct ng_policy_request *req)
{
    char why[8];
    return r->kind == NG_POLICY_DENY && r->commands && users_match(r, req, why, sizeof(why)) &&
           targets_match(r, req->attrs, why, sizeof(why)) &&
           namespaces_match(r, req->ns, why, sizeof(why));
}

static int evaluate(const struct ng_policy *p, const struct ng_policy_request *req,
                    const char *program, struct ng_policy_decision *dec)
{
    int ret = 0;

    /* Two passes over the file: deny rules, then allow rules. Every rule is
     * evaluated so check can explain each; only the first match decides. */
    for (int pass = 0; pass < 2; pass++) {
        enum ng_policy_kind kind = pass == 0 ? NG_POLICY_DENY : NG_POLICY_ALLOW;
        for (size_t i = 0; i < p->nrules; i++) {
            const struct ng_policy_rule *r = &p->rules[i];
            struct ng_policy_rule_result *res = &dec->results[dec->nresults];
            struct allow_eval ae;
            if (r->kind != kind)
                continue;
            dec->nresults++;
            int m = eval_rule(r, req, program, res, &ae);
            if (m && dec->rule_index < 0) {
                dec->rule_index = (int)i;
                dec->rule_name = r->name;
                dec->allow = kind == NG_POLICY_ALLOW;
                dec->host_access = ae.host;
                if (ae.host)
                    snprintf(dec->host_access_why, sizeof(dec->host_access_why), "%s", ae.ha);
                dec->reach = ae.reach;
                snprintf(dec->reach_why, sizeof(dec->reach_why), "%s", ae.reach_why);
            }
            if (!m && ret == 0 && deny_missed_by_command(r, req))
                ret = ng_policy_msg_add(&dec->warns,
                                        "[deny %s] did not match only because of its "
                                        "commands; a deny by command is advisory",
                                        r->name);
        }
    }
    return ret;
}

int ng_policy_decide(const struct ng_policy *p, const struct ng_policy_request *req,
                     struct ng_policy_decision *dec)
{
    memset(dec, 0, sizeof(*dec));
    dec->rule_index = -1;
    dec->rule_name = "-";
    if (!p || !req || !req->caller || !req->attrs || !req->cred.target)
        return -EINVAL;
    /* What enter refuses before deciding is refused here too, so no caller
     * can get an allow for a request policy.md says is malformed: an empty
     * request would be a subset of every allow rule's namespaces. */
    if (req->ns == 0 || (req->ns & ~NG_NSSET_ALL))
        return -EINVAL;
    if (req->program && !ng_program_valid(req->program))
        return -EINVAL;
    if (req->reason && !ng_policy_valid_reason(req->reason))
        return -EINVAL;
    const char *program = req->program ? req->program : p->shell;
    dec->results = calloc(p->nrules ? p->nrules : 1, sizeof(*dec->results));
    if (!dec->results)
        return -ENOMEM;
    locale_t old = ng_policy_c_locale_enter();
    int ret = evaluate(p, req, program, dec);
    ng_policy_c_locale_leave(old);
    if (ret < 0 || !dec->allow) {
        /* Nothing of an allow survives an error: fail closed. */
        dec->allow = 0;
        if (ret < 0) {
            dec->rule_index = -1;
            dec->rule_name = "-";
        }
        dec->host_access = 0;
        dec->reach = NG_REACH_REFUSED;
        return ret;
    }
    dec->c = p->rules[dec->rule_index].c;
    return 0;
}

void ng_policy_decision_free(struct ng_policy_decision *dec)
{
    if (!dec)
        return;
    free(dec->results);
    dec->results = NULL;
    dec->nresults = 0;
    ng_policy_msgs_free(&dec->warns);
}

int ng_policy_valid_reason(const char *reason)
{
    const unsigned char *s = (const unsigned char *)reason;
    size_t len = reason ? strlen(reason) : 0;

    if (len == 0 || len > NG_POLICY_REASON_MAX)
        return 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = ng_utf8_decode(s + i, len - i, &cp);
        if (n == 0)
            return 0;
        if (n == 1 && (s[i] < 0x20 || s[i] == 0x7f))
            return 0;
        if (cp >= 0x80 && cp <= 0x9f)
            return 0; /* C1 controls U+0080..U+009F */
        if (ng_unicode_invisible(cp))
            return 0; /* bidi overrides, zero-width characters: not printable */
        i += n;
    }
    return 1;
}
