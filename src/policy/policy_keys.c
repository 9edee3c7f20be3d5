/* One key's value into the parsed policy (policy.md tables). Called by the
 * lexer with a trimmed, non-empty value it may modify. */
#include "policy_int.h"
#include "nsgate/program.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ng_policy_valid_rule_name(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > NG_POLICY_NAME_MAX)
        return 0;
    return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

static int bad(char *err, size_t errsz, const char *what, const char *v)
{
    snprintf(err, errsz, "want %s, not '%s'", what, v);
    return -EINVAL;
}

static int duration_key(const char *v, int none_ok, int64_t min, int64_t max, int64_t *ret,
                        char *err, size_t errsz)
{
    int64_t ms;

    if (none_ok && strcmp(v, "none") == 0) {
        *ret = NG_DURATION_NONE;
        return 0;
    }
    if (ng_policy_parse_duration(v, &ms) < 0)
        return bad(err, errsz,
                   none_ok ? "DURATION (500ms 90s 15m 8h 1d) or none"
                           : "DURATION (500ms 90s 15m 8h 1d)",
                   v);
    if (ms < min || ms > max) {
        snprintf(err, errsz, "'%s' is outside %s", v,
                 max == INT64_MAX           ? "1ms.."
                 : max == INT64_C(86400000) ? "1s..1d"
                                            : "100ms..60s");
        return -EINVAL;
    }
    *ret = ms;
    return 0;
}

static int size_key(const char *v, uint64_t min, uint64_t *ret, char *err, size_t errsz)
{
    uint64_t n;

    if (ng_policy_parse_size(v, &n) < 0)
        return bad(err, errsz, "SIZE (512K 100M 1G)", v);
    if (n < min) {
        snprintf(err, errsz, "'%s' must be more than zero", v);
        return -EINVAL;
    }
    *ret = n;
    return 0;
}

static int path_item(void *ctx, char *item, char *err, size_t errsz)
{
    struct ng_policy_rule *r = ctx;

    if (!ng_program_valid(item)) {
        snprintf(err, errsz, "'%s' is not an absolute, normalized path", item);
        return -EINVAL;
    }
    for (size_t i = 0; i < r->ncommands; i++)
        if (strcmp(r->commands[i], item) == 0) {
            snprintf(err, errsz, "'%s' listed twice", item);
            return -EINVAL;
        }
    char **v = realloc(r->commands, (r->ncommands + 1) * sizeof(*v));
    if (!v)
        return -ENOMEM;
    r->commands = v;
    if (!(v[r->ncommands] = strdup(item)))
        return -ENOMEM;
    r->ncommands++;
    return 0;
}

static int user_item(void *ctx, char *item, char *err, size_t errsz)
{
    struct ng_policy_rule *r = ctx;
    struct ng_policy_user u;
    int ret = ng_policy_val_user(item, &u, err, errsz);

    if (ret < 0)
        return ret;
    struct ng_policy_user *v = realloc(r->users, (r->nusers + 1) * sizeof(*v));
    if (!v) {
        free(u.name);
        return -ENOMEM;
    }
    r->users = v;
    v[r->nusers++] = u;
    return 0;
}

/* approvers = user:NAME, group:NAME (or NAME, %GROUP, #UID as in users);
 * "*" is refused: an approver is someone in particular. */
static int approver_item(void *ctx, char *item, char *err, size_t errsz)
{
    struct ng_policy_rule *r = ctx;
    struct ng_policy_user u;
    char buf[300];

    if (strncmp(item, "user:", 5) == 0)
        snprintf(buf, sizeof(buf), "%s", item + 5);
    else if (strncmp(item, "group:", 6) == 0)
        snprintf(buf, sizeof(buf), "%%%s", item + 6);
    else
        snprintf(buf, sizeof(buf), "%s", item);
    if (strcmp(buf, "*") == 0)
        return bad(err, errsz, "user:NAME or group:NAME (not *)", item);
    int ret = ng_policy_val_user(buf, &u, err, errsz);
    if (ret < 0)
        return ret;
    struct ng_policy_user *v = realloc(r->approvers, (r->napprovers + 1) * sizeof(*v));
    if (!v) {
        free(u.name);
        return -ENOMEM;
    }
    r->approvers = v;
    v[r->napprovers++] = u;
    return 0;
}

static int required_key(const char *v, int *ret, char *err, size_t errsz)
{
    if (strcmp(v, "required") != 0 && strcmp(v, "none") != 0)
        return bad(err, errsz, "required or none", v);
    *ret = v[0] == 'r';
    return 0;
}

static int target_item(void *ctx, char *item, char *err, size_t errsz)
{
    struct ng_policy_rule *r = ctx;
    struct ng_policy_target t;
    int ret = ng_policy_val_target(item, &t, err, errsz);

    if (ret < 0)
        return ret;
    struct ng_policy_target *v = realloc(r->targets, (r->ntargets + 1) * sizeof(*v));
    if (!v) {
        free(t.glob);
        return -ENOMEM;
    }
    r->targets = v;
    v[r->ntargets++] = t;
    return 0;
}

static int ns_item(void *ctx, char *item, char *err, size_t errsz)
{
    struct ng_policy_rule *r = ctx;
    int ns = ng_ns_from_name(item);

    if (strcmp(item, "all") == 0) {
        snprintf(err, errsz, "'all' must stand alone");
        return -EINVAL;
    }
    if (ns < 0) {
        snprintf(err, errsz, "unknown namespace '%s' (mnt uts ipc net pid user cgroup time)", item);
        return -EINVAL;
    }
    if (r->namespaces & (1u << ns)) {
        snprintf(err, errsz, "namespace '%s' listed twice", item);
        return -EINVAL;
    }
    r->namespaces |= 1u << ns;
    return 0;
}

static int cap_item(void *ctx, char *item, char *err, size_t errsz)
{
    struct ng_policy_rule *r = ctx;
    int cap = ng_policy_cap_from_name(item);

    if (cap < 0) {
        snprintf(err, errsz,
                 "unknown capability '%s' (target, none, keep, or names like net_admin)", item);
        return -EINVAL;
    }
    if (r->c.cap_list & (UINT64_C(1) << cap)) {
        snprintf(err, errsz, "capability '%s' listed twice", item);
        return -EINVAL;
    }
    r->c.cap_list |= UINT64_C(1) << cap;
    return 0;
}

static int setenv_item(void *ctx, char *item, char *err, size_t errsz)
{
    struct ng_policy_rule *r = ctx;
    size_t k = strcspn(item, "=");
    int ret = ng_policy_val_setenv_item(item, err, errsz);

    if (ret < 0)
        return ret;
    for (size_t i = 0; i < r->nsetenv; i++)
        if (strncmp(r->setenv[i], item, k + 1) == 0) {
            snprintf(err, errsz, "variable '%.*s' set twice", (int)k, item);
            return -EINVAL;
        }
    char **v = realloc(r->setenv, (r->nsetenv + 1) * sizeof(*v));
    if (!v)
        return -ENOMEM;
    r->setenv = v;
    if (!(v[r->nsetenv] = strdup(item)))
        return -ENOMEM;
    r->nsetenv++;
    return 0;
}

static int reason_pattern(struct ng_policy_rule *r, const char *v, char *err, size_t errsz)
{
    char msg[256];
    locale_t old = ng_policy_c_locale_enter();
    int rc = regcomp(&r->reason_re, v, REG_EXTENDED | REG_NOSUB);

    if (rc != 0) {
        regerror(rc, &r->reason_re, msg, sizeof(msg));
        regfree(&r->reason_re);
        ng_policy_c_locale_leave(old);
        snprintf(err, errsz, "not a POSIX extended regex: %s", msg);
        return -EINVAL;
    }
    ng_policy_c_locale_leave(old);
    r->reason_pattern = strdup(v);
    if (!r->reason_pattern) {
        regfree(&r->reason_re);
        return -ENOMEM;
    }
    r->require_reason = 1; /* policy.md: a pattern implies require_reason */
    return 0;
}

static int capabilities(struct ng_policy_rule *r, char *v, char *err, size_t errsz)
{
    static const struct {
        const char *name;
        enum ng_caps caps;
    } words[] = {{"target", NG_CAPS_TARGET}, {"none", NG_CAPS_NONE}, {"keep", NG_CAPS_KEEP}};

    for (size_t i = 0; i < NG_ARRAY_SIZE(words); i++)
        if (strcmp(v, words[i].name) == 0) {
            r->c.caps = words[i].caps;
            return 0;
        }
    r->c.caps = NG_CAPS_LIST;
    return ng_policy_list_each(v, cap_item, r, err, errsz);
}

/* mask_escrow = FILE: the path only (parsing does no I/O); the key is read
 * by ng_policy_load_escrow. One entry per file. */
static int mask_escrow(struct ng_policy *p, struct ng_constraints *c, const char *v, char *err,
                       size_t errsz)
{
    struct ng_policy_escrow *e = NULL;

    if (!ng_program_valid(v))
        return bad(err, errsz, "an absolute, normalized path to an escrow public key file", v);
    for (size_t i = 0; i < p->nescrows && !e; i++)
        if (strcmp(p->escrows[i]->file, v) == 0)
            e = p->escrows[i];
    if (!e) {
        struct ng_policy_escrow **a = realloc(p->escrows, (p->nescrows + 1) * sizeof(*a));
        if (!a)
            return -ENOMEM;
        p->escrows = a;
        if (!(e = calloc(1, sizeof(*e))) || !(e->file = strdup(v))) {
            free(e);
            return -ENOMEM;
        }
        a[p->nescrows++] = e;
    }
    c->mask_escrow_file = e->file;
    return 0;
}

/* reviewers = group:NAME, ... */
static int reviewer_item(void *ctx, char *item, char *err, size_t errsz)
{
    struct ng_policy *p = ctx;

    if (strncmp(item, "group:", 6) != 0 || !ng_policy_valid_name(item + 6, NG_POLICY_NAME_MAX))
        return bad(err, errsz, "group:NAME", item);
    char **a = realloc(p->reviewers, (p->nreviewers + 1) * sizeof(*a));
    if (!a)
        return -ENOMEM;
    p->reviewers = a;
    if (!(a[p->nreviewers] = strdup(item + 6)))
        return -ENOMEM;
    p->nreviewers++;
    return 0;
}

static int defaults_key(struct ng_policy *p, enum ng_policy_key key, char *v, char *err,
                        size_t errsz)
{
    struct ng_constraints *c = &p->defaults;

    switch (key) {
    case K_AUDIT:
        if (strcmp(v, "required") != 0 && strcmp(v, "best-effort") != 0)
            return bad(err, errsz, "required or best-effort", v);
        c->audit_required = v[0] == 'r';
        return 0;
    case K_REVIEW_AUDIT:
        if (strcmp(v, "required") != 0 && strcmp(v, "best-effort") != 0)
            return bad(err, errsz, "required or best-effort", v);
        p->review_audit_required = v[0] == 'r';
        return 0;
    case K_REVIEWERS:
        return ng_policy_list_each(v, reviewer_item, p, err, errsz);
    case K_SEAL_INTERVAL:
        return duration_key(v, 0, 100, 60000, &c->seal_interval_ms, err, errsz);
    case K_MIN_FREE:
        return size_key(v, 0, &c->min_free, err, errsz);
    case K_SHELL: {
        if (!ng_program_valid(v))
            return bad(err, errsz, "an absolute, normalized path", v);
        char *s = strdup(v);
        if (!s)
            return -ENOMEM;
        free(p->shell);
        p->shell = s;
        return 0;
    }
    default:
        return -EINVAL;
    }
}

int ng_policy_set_key(struct ng_policy *p, struct ng_policy_rule *r, enum ng_policy_key key,
                      char *v, char *err, size_t errsz)
{
    struct ng_constraints *c = r ? &r->c : &p->defaults;

    switch (key) {
    case K_RECORD_INPUT:
        return ng_policy_val_bool(v, &c->record_input, err, errsz);
    case K_RECORD_COMMANDS:
        return ng_policy_val_bool(v, &c->record_commands, err, errsz);
    case K_MAX_SESSION:
        return duration_key(v, 1, 1, INT64_MAX, &c->max_session_ms, err, errsz);
    case K_IDLE_TIMEOUT:
        return duration_key(v, 1, 1, INT64_MAX, &c->idle_timeout_ms, err, errsz);
    case K_MAX_OUTPUT:
        return size_key(v, 1, &c->max_output, err, errsz);
    case K_USERS:
        return ng_policy_list_each(v, user_item, r, err, errsz);
    case K_TARGETS:
        return ng_policy_list_each(v, target_item, r, err, errsz);
    case K_NAMESPACES:
        r->has_namespaces = 1;
        if (strcmp(v, "all") == 0) {
            r->namespaces = NG_NSSET_ALL;
            return 0;
        }
        return ng_policy_list_each(v, ns_item, r, err, errsz);
    case K_COMMANDS:
        return ng_policy_list_each(v, path_item, r, err, errsz);
    case K_RUN_AS:
        return ng_policy_val_run_as(v, c, err, errsz);
    case K_CAPABILITIES:
        return capabilities(r, v, err, errsz);
    case K_HOST_ACCESS:
        return ng_policy_val_bool(v, &c->host_access, err, errsz);
    case K_CONFINEMENT:
        if (strcmp(v, "target") != 0 && strcmp(v, "none") != 0)
            return bad(err, errsz, "target or none", v);
        c->confinement = v[0] == 't' ? NG_CONFINE_TARGET : NG_CONFINE_NONE;
        return 0;
    case K_NO_NEW_PRIVS:
        return ng_policy_val_bool(v, &c->no_new_privs, err, errsz);
    case K_JOIN_CGROUP:
        return ng_policy_val_bool(v, &c->join_cgroup, err, errsz);
    case K_LEAVE_PROCESSES:
        return ng_policy_val_bool(v, &c->leave_processes, err, errsz);
    case K_REQUIRE_REASON: {
        int yes, ret = ng_policy_val_bool(v, &yes, err, errsz);
        if (ret == 0)
            r->require_reason |= yes; /* reason_pattern wins over "no", in any order */
        return ret;
    }
    case K_REASON_PATTERN:
        return reason_pattern(r, v, err, errsz);
    case K_SETENV:
        return ng_policy_list_each(v, setenv_item, r, err, errsz);
    case K_CALLER_REACH:
        if (strcmp(v, "allow") != 0 && strcmp(v, "deny") != 0)
            return bad(err, errsz, "allow or deny", v);
        c->caller_reach_allow = v[0] == 'a';
        return 0;
    case K_MASK_ESCROW:
        return mask_escrow(p, c, v, err, errsz);
    case K_APPROVAL:
        return required_key(v, &c->approval_required, err, errsz);
    case K_MODERATION:
        return required_key(v, &c->moderation_required, err, errsz);
    case K_APPROVERS:
        return ng_policy_list_each(v, approver_item, r, err, errsz);
    case K_APPROVAL_TIMEOUT:
        return duration_key(v, 0, 1000, INT64_C(86400000), &c->approval_timeout_ms, err, errsz);
    default:
        return defaults_key(p, key, v, err, errsz);
    }
}
