/* Output of nsgate check: text (first line exactly "allow RULE", "deny RULE"
 * or "deny -", everything untrusted escaped) or one JSON object. */
#include "cmd_int.h"
#include "nsgate/text.h"
#include "cmd_check_int.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One line to standard output, untrusted bytes written as \xNN. */
__attribute__((format(printf, 1, 2))) static int out(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;

    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -ENOMEM;
    char *e = ng_escape(s, (size_t)n);
    free(s);
    if (!e)
        return -ENOMEM;
    int r = printf("%s\n", e) < 0 ? -EIO : 0;
    free(e);
    return r;
}

static void fmt_duration(int64_t ms, char *buf, size_t sz)
{
    static const struct {
        const char *unit;
        int64_t ms;
    } units[] = {{"d", 86400000}, {"h", 3600000}, {"m", 60000}, {"s", 1000}};

    if (ms == NG_DURATION_NONE) {
        snprintf(buf, sz, "none");
        return;
    }
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (ms > 0 && ms % units[i].ms == 0) {
            snprintf(buf, sz, "%" PRId64 "%s", ms / units[i].ms, units[i].unit);
            return;
        }
    snprintf(buf, sz, "%" PRId64 "ms", ms);
}

static void fmt_size(uint64_t n, char *buf, size_t sz)
{
    if (n != 0 && n % (1ULL << 30) == 0)
        snprintf(buf, sz, "%" PRIu64 "G", n >> 30);
    else if (n != 0 && n % (1ULL << 20) == 0)
        snprintf(buf, sz, "%" PRIu64 "M", n >> 20);
    else if (n % 1024 == 0)
        snprintf(buf, sz, "%" PRIu64 "K", n >> 10);
    else
        snprintf(buf, sz, "%" PRIu64, n);
}

static void fmt_run_as(const struct ng_constraints *c, char *buf, size_t sz)
{
    switch (c->run_as) {
    case NG_RUN_AS_TARGET:
        snprintf(buf, sz, "target");
        break;
    case NG_RUN_AS_ROOT:
        snprintf(buf, sz, "root");
        break;
    case NG_RUN_AS_CALLER:
        snprintf(buf, sz, "caller");
        break;
    case NG_RUN_AS_IDS:
        if (c->has_gid)
            snprintf(buf, sz, "%u:%u", (unsigned)c->uid, (unsigned)c->gid);
        else
            snprintf(buf, sz, "%u", (unsigned)c->uid);
        break;
    default:
        snprintf(buf, sz, "?");
        break;
    }
}

static void fmt_caps(const struct ng_constraints *c, char *buf, size_t sz)
{
    size_t o = 0;

    if (c->caps != NG_CAPS_LIST) {
        snprintf(buf, sz, "%s",
                 c->caps == NG_CAPS_TARGET ? "target"
                 : c->caps == NG_CAPS_NONE ? "none"
                                           : "keep");
        return;
    }
    buf[0] = '\0';
    for (unsigned i = 0; i <= NG_POLICY_CAP_LAST && o < sz; i++) {
        if (!(c->cap_list & (UINT64_C(1) << i)))
            continue;
        int n = snprintf(buf + o, sz - o, "%s%s", o ? "," : "", ng_policy_cap_name(i));
        if (n < 0)
            return;
        o += (size_t)n;
    }
}

static const char *yes_no(int v)
{
    return v ? "yes" : "no";
}

/* "mask_escrow: FILE key HEX", or what its absence means. */
static int print_escrow(const char *file, const uint8_t *pk)
{
    char hex[2 * 32 + 1];

    if (!file)
        return out("mask_escrow: none (masked input is stored as stars only: unrecoverable)");
    if (!pk)
        return out("mask_escrow: %s (not read)", file);
    sodium_bin2hex(hex, sizeof(hex), pk, 32);
    return out("mask_escrow: %s key %s", file, hex);
}

/* "confinement: ...": which applies, and for a real target what it holds. */
static int print_confinement(const struct ng_constraints *c, const struct check_confine *tc)
{
    char what[NG_CONFINE_LABEL_MAX + 128];

    if (tc && tc->real)
        snprintf(what, sizeof(what),
                 "the target has %d seccomp filter%s, LSM label %s%s%s%s, bounding set %#llx, "
                 "no_new_privs %s",
                 tc->filters < 0 ? 0 : tc->filters, tc->filters == 1 ? "" : "s",
                 tc->lsm == NG_LSM_NONE ? "none" : tc->label, tc->lsm == NG_LSM_NONE ? "" : " (",
                 tc->lsm == NG_LSM_NONE ? "" : ng_lsm_name(tc->lsm),
                 tc->lsm == NG_LSM_NONE ? "" : ")", (unsigned long long)tc->bnd,
                 tc->nnp == 1 ? "yes" : "no");
    else
        snprintf(what, sizeof(what), "a hypothetical target's are not known");
    if (c->confinement == NG_CONFINE_NONE)
        return out("confinement: none (the program gets neither the target's seccomp filters nor "
                   "its LSM label; %s)",
                   what);
    if (tc && tc->real && tc->why)
        return out("confinement: target; entry would be refused: %s", tc->why);
    return out("confinement: target (seccomp filters, LSM label, bounding set and no_new_privs "
               "of the target; %s)",
               what);
}

/* "user:alice, group:ops" (approvers = of the rule). */
static void fmt_approvers(const struct ng_constraints *c, char *buf, size_t sz)
{
    size_t o = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < c->napprovers && o < sz; i++) {
        const struct ng_policy_user *u = &c->approvers[i];
        int n = u->kind == NG_POLICY_USER_UID
                    ? snprintf(buf + o, sz - o, "%suid:%u", o ? ", " : "", (unsigned)u->id)
                    : snprintf(buf + o, sz - o, "%s%s:%s%s", o ? ", " : "",
                               u->kind == NG_POLICY_USER_GROUP ? "group" : "user", u->name,
                               u->resolved ? "" : " (unknown)");
        if (n < 0)
            return;
        o += (size_t)n;
    }
}

/* Two-person control: who must approve, and who may approve, moderate or
 * terminate (never the requester itself). */
static int print_approval(const struct ng_constraints *c)
{
    char who[1024], t[64];

    fmt_approvers(c, who, sizeof(who));
    fmt_duration(c->approval_timeout_ms, t, sizeof(t));
    if (c->approval_required)
        return out("approval: required, by one of %s (never the requester), within %s; "
                   "moderation: %s",
                   who, t, c->moderation_required ? "required" : "none");
    if (c->moderation_required)
        return out("approval: none; moderation: required (input only while one of %s watches "
                   "with --moderate)",
                   who);
    if (c->napprovers)
        return out("approval: none; approvers (may watch and terminate): %s", who);
    return out("approval: none");
}

static int print_constraints(const struct ng_constraints *c, const struct check_confine *tc)
{
    char a[64], b[64], d[64], caps[1024];
    int r = 0;

    fmt_run_as(c, a, sizeof(a));
    fmt_caps(c, caps, sizeof(caps));
    r |= out("run_as: %s", a);
    r |= out("capabilities: %s", caps);
    r |= out("host_access: %s  no_new_privs: %s  join_cgroup: %s  leave_processes: %s",
             yes_no(c->host_access), yes_no(c->no_new_privs), yes_no(c->join_cgroup),
             yes_no(c->leave_processes));
    r |= out("caller_reach: %s", c->caller_reach_allow ? "allow" : "deny");
    r |= print_confinement(c, tc);
    fmt_duration(c->max_session_ms, a, sizeof(a));
    fmt_duration(c->idle_timeout_ms, b, sizeof(b));
    fmt_size(c->max_output, d, sizeof(d));
    r |= out("limits: max_session=%s idle_timeout=%s max_output=%s record_input=%s "
             "record_commands=%s",
             a, b, d, yes_no(c->record_input), yes_no(c->record_commands));
    fmt_duration(c->seal_interval_ms, a, sizeof(a));
    fmt_size(c->min_free, b, sizeof(b));
    r |= out("audit: %s  seal_interval: %s  min_free: %s  shell: %s",
             c->audit_required ? "required" : "best-effort", a, b, c->shell);
    for (size_t i = 0; i < c->nsetenv; i++)
        r |= out("setenv: %s", c->setenv[i]);
    r |= print_escrow(c->mask_escrow_file, c->mask_escrow);
    r |= print_approval(c);
    return r ? -EIO : 0;
}

int ng_check_print_text(const struct ng_policy *p, const struct ng_policy_decision *dec,
                        const struct check_confine *tc)
{
    int r = 0;

    r |= out("%s %s", dec->allow ? "allow" : "deny", dec->rule_name);
    for (size_t i = 0; i < dec->nresults; i++) {
        const struct ng_policy_rule_result *res = &dec->results[i];
        int decisive = dec->rule_index >= 0 && res->rule == &p->rules[dec->rule_index];
        r |= out("rule [%s %s]: %s%s", res->rule->kind == NG_POLICY_ALLOW ? "allow" : "deny",
                 res->rule->name, res->why,
                 decisive       ? " (decides)"
                 : res->matched ? " (not reached)"
                                : "");
    }
    if (dec->allow)
        r |= print_constraints(&dec->c, tc);
    if (dec->allow && dec->host_access)
        r |= out("host-access: %s", dec->host_access_why);
    if (dec->allow)
        r |= out("caller-reach: %s (%s): %s", ng_reach_name(dec->reach),
                 dec->reach == NG_REACH_ALLOWED ? "NOT protected" : "protected", dec->reach_why);
    return r || fflush(stdout) != 0 ? -EIO : 0;
}

static json_t *json_escrow(const char *file, const uint8_t *pk);

int ng_check_print_ok(const struct ng_policy *p, int json)
{
    int r = 0;

    if (json) {
        json_t *a = json_array();
        for (size_t i = 0; a && i < p->nescrows; i++)
            json_array_append_new(a, json_escrow(p->escrows[i]->file,
                                                 p->escrows[i]->loaded ? p->escrows[i]->pk : NULL));
        json_t *o = json_pack("{s:s, s:I, s:o*}", "policy", "ok", "rules", (json_int_t)p->nrules,
                              "mask_escrow", a);
        if (!o)
            return -ENOMEM;
        r = json_dumpf(o, stdout, JSON_COMPACT);
        json_decref(o);
        return r < 0 || putchar('\n') == EOF || fflush(stdout) != 0 ? -EIO : 0;
    }
    if (printf("policy OK: %zu rules\n", p->nrules) < 0)
        return -EIO;
    for (size_t i = 0; i < p->nescrows; i++)
        r |= print_escrow(p->escrows[i]->file, p->escrows[i]->loaded ? p->escrows[i]->pk : NULL);
    return r || fflush(stdout) != 0 ? -EIO : 0;
}

/* A JSON string; bytes that are not UTF-8 (jansson refuses them) as \xNN. */
static json_t *jstr(const char *s)
{
    json_t *j = json_string(s);
    if (j)
        return j;
    char *e = ng_escape_str(s);
    j = e ? json_string(e) : NULL;
    free(e);
    return j ? j : json_null();
}

static json_t *jint(uint64_t v)
{
    return json_integer(v > INT64_MAX ? INT64_MAX : (json_int_t)v);
}

static json_t *jms(int64_t ms)
{
    return ms == NG_DURATION_NONE ? json_null() : json_integer(ms);
}

static json_t *json_caps(const struct ng_constraints *c)
{
    if (c->caps != NG_CAPS_LIST)
        return json_string(c->caps == NG_CAPS_TARGET ? "target"
                           : c->caps == NG_CAPS_NONE ? "none"
                                                     : "keep");
    json_t *a = json_array();
    for (unsigned i = 0; a && i <= NG_POLICY_CAP_LAST; i++)
        if (c->cap_list & (UINT64_C(1) << i))
            json_array_append_new(a, json_string(ng_policy_cap_name(i)));
    return a;
}

/* {"file": FILE, "key": HEX or null}, or null when no escrow. */
static json_t *json_escrow(const char *file, const uint8_t *pk)
{
    char hex[2 * 32 + 1];

    if (!file)
        return json_null();
    if (pk)
        sodium_bin2hex(hex, sizeof(hex), pk, 32);
    return json_pack("{s:o, s:o}", "file", jstr(file), "key", pk ? json_string(hex) : json_null());
}

static json_t *json_approval(const struct ng_constraints *c)
{
    json_t *a = json_array();

    for (size_t i = 0; a && i < c->napprovers; i++) {
        const struct ng_policy_user *u = &c->approvers[i];
        json_array_append_new(a, json_pack("{s:s, s:o, s:o}", "kind",
                                           u->kind == NG_POLICY_USER_GROUP ? "group" : "user",
                                           "name", u->name ? jstr(u->name) : json_null(), "id",
                                           u->resolved ? json_integer(u->id) : json_null()));
    }
    return json_pack("{s:b, s:b, s:o, s:o}", "required", c->approval_required, "moderation",
                     c->moderation_required, "timeout_ms", jms(c->approval_timeout_ms), "approvers",
                     a);
}

static json_t *json_constraints(const struct ng_constraints *c)
{
    char run_as[64];
    json_t *env = json_array();

    fmt_run_as(c, run_as, sizeof(run_as));
    for (size_t i = 0; env && i < c->nsetenv; i++)
        json_array_append_new(env, jstr(c->setenv[i]));
    json_t *o =
        json_pack("{s:s, s:o, s:b, s:s, s:b, s:b, s:b, s:b, s:o, s:o, s:o, s:s, s:o, s:o, s:o, "
                  "s:o*}",
                  "run_as", run_as, "capabilities", json_caps(c), "host_access", c->host_access,
                  "caller_reach", c->caller_reach_allow ? "allow" : "deny", "no_new_privs",
                  c->no_new_privs, "join_cgroup", c->join_cgroup, "leave_processes",
                  c->leave_processes, "record_input", c->record_input, "max_session_ms",
                  jms(c->max_session_ms), "idle_timeout_ms", jms(c->idle_timeout_ms), "max_output",
                  jint(c->max_output), "audit", c->audit_required ? "required" : "best-effort",
                  "seal_interval_ms", jms(c->seal_interval_ms), "min_free", jint(c->min_free),
                  "shell", jstr(c->shell), "setenv", env);
    if (o) {
        json_object_set_new(o, "record_commands", json_boolean(c->record_commands));
        json_object_set_new(o, "mask_escrow", json_escrow(c->mask_escrow_file, c->mask_escrow));
        json_object_set_new(o, "confinement",
                            json_string(c->confinement == NG_CONFINE_NONE ? "none" : "target"));
        json_object_set_new(o, "approval", json_approval(c));
    }
    return o;
}

static json_t *json_rules(const struct ng_policy *p, const struct ng_policy_decision *dec)
{
    json_t *a = json_array();

    for (size_t i = 0; a && i < dec->nresults; i++) {
        const struct ng_policy_rule_result *res = &dec->results[i];
        int decisive = dec->rule_index >= 0 && res->rule == &p->rules[dec->rule_index];
        json_array_append_new(a, json_pack("{s:s, s:o, s:b, s:b, s:o}", "kind",
                                           res->rule->kind == NG_POLICY_ALLOW ? "allow" : "deny",
                                           "name", jstr(res->rule->name), "matched", res->matched,
                                           "decides", decisive, "why", jstr(res->why)));
    }
    return a;
}

/* A real target's confinement, null for a hypothetical one. */
static json_t *json_target_confinement(const struct check_confine *tc)
{
    if (!tc || !tc->real)
        return json_null();
    return json_pack("{s:i, s:i, s:o, s:o, s:I, s:b, s:o}", "seccomp", tc->seccomp,
                     "seccomp_filters", tc->filters, "lsm",
                     tc->lsm == NG_LSM_NONE ? json_null() : json_string(ng_lsm_name(tc->lsm)),
                     "lsm_label", tc->lsm == NG_LSM_NONE ? json_null() : jstr(tc->label),
                     "bounding", (json_int_t)(tc->bnd & INT64_MAX), "no_new_privs", tc->nnp == 1,
                     "refused", tc->why ? jstr(tc->why) : json_null());
}

int ng_check_print_json(const struct ng_policy *p, const struct ng_policy_decision *dec,
                        const struct check_confine *tc)
{
    json_t *warns = json_array();

    for (size_t i = 0; warns && i < dec->warns.n; i++)
        json_array_append_new(warns, jstr(dec->warns.v[i]));
    json_t *reach =
        dec->allow ? json_pack("{s:s, s:b, s:o}", "how", ng_reach_name(dec->reach), "protected",
                               dec->reach != NG_REACH_ALLOWED, "why", jstr(dec->reach_why))
                   : json_null();
    json_t *o = json_pack(
        "{s:s, s:o, s:o, s:o, s:b, s:o, s:o, s:o*}", "decision", dec->allow ? "allow" : "deny",
        "rule", dec->rule_index >= 0 ? jstr(dec->rule_name) : json_null(), "rules",
        json_rules(p, dec), "constraints", dec->allow ? json_constraints(&dec->c) : json_null(),
        "host_access", dec->allow && dec->host_access, "host_access_reason",
        dec->allow && dec->host_access ? jstr(dec->host_access_why) : json_null(), "caller_reach",
        reach, "warnings", warns);
    if (!o)
        return -ENOMEM;
    json_object_set_new(o, "target_confinement", json_target_confinement(tc));
    /* ASCII only: no C1 control, bidi override or other invisible character
     * of a target's attribute reaches a terminal raw. */
    int r = json_dumpf(o, stdout, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(o);
    if (r < 0 || putchar('\n') == EOF || fflush(stdout) != 0)
        return -EIO;
    return 0;
}
