/* The policy lexer and grammar (policy.md "Syntax"). Re-entrant: all state
 * lives in struct pstate on the caller's stack. Every error is collected as
 * "FILE:LINE: message" ("FILE:LINE:COLUMN: message" for a character that is
 * not allowed, policy_bytes.c), then the whole file is refused (fail
 * closed). */
#include "policy_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { IN_DEFAULTS = 1, IN_ALLOW = 2, IN_DENY = 4 };

static const struct {
    const char *name;
    unsigned where;
} keys[K_COUNT] = {
    [K_AUDIT] = {"audit", IN_DEFAULTS},
    [K_RECORD_INPUT] = {"record_input", IN_DEFAULTS | IN_ALLOW},
    [K_RECORD_COMMANDS] = {"record_commands", IN_DEFAULTS | IN_ALLOW},
    [K_SEAL_INTERVAL] = {"seal_interval", IN_DEFAULTS},
    [K_MAX_SESSION] = {"max_session", IN_DEFAULTS | IN_ALLOW},
    [K_IDLE_TIMEOUT] = {"idle_timeout", IN_DEFAULTS | IN_ALLOW},
    [K_MAX_OUTPUT] = {"max_output", IN_DEFAULTS | IN_ALLOW},
    [K_MIN_FREE] = {"min_free", IN_DEFAULTS},
    [K_SHELL] = {"shell", IN_DEFAULTS},
    [K_USERS] = {"users", IN_ALLOW | IN_DENY},
    [K_TARGETS] = {"targets", IN_ALLOW | IN_DENY},
    [K_NAMESPACES] = {"namespaces", IN_ALLOW | IN_DENY},
    [K_COMMANDS] = {"commands", IN_ALLOW | IN_DENY},
    [K_RUN_AS] = {"run_as", IN_ALLOW},
    [K_CAPABILITIES] = {"capabilities", IN_ALLOW},
    [K_HOST_ACCESS] = {"host_access", IN_ALLOW},
    /* like host_access: only a rule can say none, never [defaults] */
    [K_CONFINEMENT] = {"confinement", IN_ALLOW},
    [K_NO_NEW_PRIVS] = {"no_new_privs", IN_ALLOW},
    [K_JOIN_CGROUP] = {"join_cgroup", IN_ALLOW},
    [K_LEAVE_PROCESSES] = {"leave_processes", IN_ALLOW},
    [K_REQUIRE_REASON] = {"require_reason", IN_ALLOW},
    [K_REASON_PATTERN] = {"reason_pattern", IN_ALLOW},
    [K_SETENV] = {"setenv", IN_ALLOW},
    [K_CALLER_REACH] = {"caller_reach", IN_DEFAULTS | IN_ALLOW},
    [K_MASK_ESCROW] = {"mask_escrow", IN_DEFAULTS | IN_ALLOW},
    [K_APPROVAL] = {"approval", IN_ALLOW},
    [K_APPROVERS] = {"approvers", IN_ALLOW},
    [K_APPROVAL_TIMEOUT] = {"approval_timeout", IN_ALLOW},
    [K_MODERATION] = {"moderation", IN_ALLOW},
    [K_REVIEW_AUDIT] = {"review_audit", IN_DEFAULTS},
    [K_REVIEWERS] = {"reviewers", IN_DEFAULTS},
};

/* rule_keys below holds one bit per key. */
_Static_assert(K_COUNT <= 64, "rule_keys is a uint64_t bit set");

enum section { SEC_NONE, SEC_BAD, SEC_DEFAULTS, SEC_ALLOW, SEC_DENY };

struct pstate {
    const char *file;
    struct ng_policy *p;
    struct ng_policy_msgs *errs;
    int nomem;
    size_t nerr;
    size_t line;
    enum section sec;
    size_t sec_line;
    int sec_skipped;  /* a line of this section was refused for its characters */
    int crlf_told;    /* CRLF line endings reported (once per file) */
    const char *lbuf; /* the current line, for columns */
    size_t defaults_line;
    size_t seen[K_COUNT]; /* line of each key in the current section, 0 = not given */
    uint64_t *rule_keys;  /* per rule: bit k = key k given (for merging defaults) */
};

__attribute__((format(printf, 3, 4))) static void perr(struct pstate *st, size_t line,
                                                       const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    st->nerr++;
    if (ng_policy_msg_add(st->errs, "%s:%zu: %s", st->file, line, msg) < 0)
        st->nomem = 1;
}

__attribute__((format(printf, 4, 5))) static void perr_col(struct pstate *st, size_t line,
                                                           size_t col, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    st->nerr++;
    if (ng_policy_msg_add(st->errs, "%s:%zu:%zu: %s", st->file, line, col, msg) < 0)
        st->nomem = 1;
}

static struct ng_policy_rule *cur_rule(struct pstate *st)
{
    return &st->p->rules[st->p->nrules - 1];
}

static void rule_free(struct ng_policy_rule *r)
{
    free(r->name);
    for (size_t i = 0; i < r->nusers; i++)
        free(r->users[i].name);
    free(r->users);
    for (size_t i = 0; i < r->napprovers; i++)
        free(r->approvers[i].name);
    free(r->approvers);
    for (size_t i = 0; i < r->ntargets; i++)
        free(r->targets[i].glob);
    free(r->targets);
    for (size_t i = 0; i < r->ncommands; i++)
        free(r->commands[i]);
    free(r->commands);
    if (r->reason_pattern)
        regfree(&r->reason_re);
    free(r->reason_pattern);
    for (size_t i = 0; i < r->nsetenv; i++)
        free(r->setenv[i]);
    free(r->setenv);
}

void ng_policy_free(struct ng_policy *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nrules; i++)
        rule_free(&p->rules[i]);
    free(p->rules);
    for (size_t i = 0; i < p->nescrows; i++) {
        free(p->escrows[i]->file);
        free(p->escrows[i]);
    }
    free(p->escrows);
    for (size_t i = 0; i < p->nreviewers; i++)
        free(p->reviewers[i]);
    free(p->reviewers);
    free(p->shell);
    free(p->file);
    free(p);
}

/* Grow an array of elem-sized items by one (zeroed); NULL when out of memory. */
static void *grow(void *arrp, size_t *n, size_t elem)
{
    void **arr = arrp;
    char *v = realloc(*arr, (*n + 1) * elem);
    if (!v)
        return NULL;
    *arr = v;
    memset(v + *n * elem, 0, elem);
    return v + (*n)++ * elem;
}

/* The required keys of the section just ended. */
static void end_section(struct pstate *st)
{
    if (st->sec != SEC_ALLOW && st->sec != SEC_DENY)
        return;
    struct ng_policy_rule *r = cur_rule(st);
    static const enum ng_policy_key req[] = {K_USERS, K_TARGETS, K_NAMESPACES};
    for (size_t i = 0; i < NG_ARRAY_SIZE(req) && !st->sec_skipped; i++) {
        if (req[i] == K_NAMESPACES && st->sec == SEC_DENY)
            continue;
        if (!st->seen[req[i]])
            perr(st, st->sec_line, "[%s %s]: missing required key '%s'",
                 st->sec == SEC_ALLOW ? "allow" : "deny", r->name, keys[req[i]].name);
    }
    /* Someone must be able to approve or moderate, and never only "*". */
    if ((r->c.approval_required || r->c.moderation_required) && r->napprovers == 0)
        perr(st, st->sec_line, "[allow %s]: %s = required needs approvers", r->name,
             r->c.approval_required ? "approval" : "moderation");
    uint64_t mask = 0;
    for (int k = 0; k < K_COUNT; k++)
        if (st->seen[k])
            mask |= UINT64_C(1) << k;
    st->rule_keys[st->p->nrules - 1] = mask;
}

static int new_rule(struct pstate *st, enum ng_policy_kind kind, const char *name)
{
    for (size_t i = 0; i < st->p->nrules; i++) {
        if (strcmp(st->p->rules[i].name, name) == 0) {
            perr(st, st->line, "duplicate rule name '%s' (first at line %zu)", name,
                 st->p->rules[i].line);
            return -EINVAL;
        }
    }
    size_t n = st->p->nrules;
    uint64_t *rk = realloc(st->rule_keys, (n + 1) * sizeof(*rk));
    if (!rk)
        return -ENOMEM;
    st->rule_keys = rk;
    struct ng_policy_rule *r = grow(&st->p->rules, &st->p->nrules, sizeof(*r));
    if (!r)
        return -ENOMEM;
    r->kind = kind;
    r->line = st->line;
    ng_constraints_default(&r->c);
    r->name = strdup(name);
    return r->name ? 0 : -ENOMEM;
}

static int section_header(struct pstate *st, char *s)
{
    size_t n = strlen(s);

    end_section(st);
    memset(st->seen, 0, sizeof(st->seen));
    st->sec = SEC_BAD; /* until proven good: keys below a bad header are not reported */
    st->sec_line = st->line;
    st->sec_skipped = 0;
    if (n < 2 || s[n - 1] != ']') {
        perr(st, st->line, "section header must end with ']'");
        return 0;
    }
    s[n - 1] = '\0';
    char *kind = ng_policy_trim(s + 1);
    char *name = kind + strcspn(kind, " \t");
    if (*name)
        *name++ = '\0';
    name = ng_policy_trim(name);
    if (strcmp(kind, "defaults") == 0 && *name == '\0') {
        if (st->defaults_line) {
            perr(st, st->line, "[defaults] given twice (first at line %zu)", st->defaults_line);
            return 0;
        }
        st->defaults_line = st->line;
        st->sec = SEC_DEFAULTS;
        return 0;
    }
    if (strcmp(kind, "allow") != 0 && strcmp(kind, "deny") != 0) {
        perr(st, st->line, "unknown section kind '%s' (want [defaults], [allow NAME], [deny NAME])",
             kind);
        return 0;
    }
    if (!ng_policy_valid_rule_name(name)) {
        perr(st, st->line, "bad rule name '%s' (1 to 64 of A-Z a-z 0-9 _ . -)", name);
        return 0;
    }
    int r = new_rule(st, kind[0] == 'a' ? NG_POLICY_ALLOW : NG_POLICY_DENY, name);
    if (r == -ENOMEM)
        return r;
    if (r == 0)
        st->sec = kind[0] == 'a' ? SEC_ALLOW : SEC_DENY;
    return 0;
}

static int is_list(int key)
{
    return key == K_USERS || key == K_TARGETS || key == K_NAMESPACES || key == K_COMMANDS ||
           key == K_CAPABILITIES || key == K_SETENV;
}

static int key_line(struct pstate *st, char *s)
{
    char *eq = strchr(s, '=');
    char err[768];

    if (st->sec == SEC_BAD)
        return 0;
    if (!eq) {
        perr(st, st->line, "expected 'key = value', a [section] or a comment");
        return 0;
    }
    *eq = '\0';
    char *k = ng_policy_trim(s), *v = ng_policy_trim(eq + 1);
    if (st->sec == SEC_NONE) {
        perr(st, st->line, "key '%s' outside a section", k);
        return 0;
    }
    int key = -1;
    for (int i = 0; i < K_COUNT; i++)
        if (strcmp(keys[i].name, k) == 0)
            key = i;
    unsigned where = st->sec == SEC_DEFAULTS ? IN_DEFAULTS
                     : st->sec == SEC_ALLOW  ? IN_ALLOW
                                             : IN_DENY;
    const char *secname = st->sec == SEC_DEFAULTS ? "[defaults]"
                          : st->sec == SEC_ALLOW  ? "allow rules"
                                                  : "deny rules";
    if (key < 0) {
        perr(st, st->line, "unknown key '%s'", k);
        return 0;
    }
    if (!(keys[key].where & where)) {
        const char *only = keys[key].where == IN_DEFAULTS  ? "only in [defaults]"
                           : keys[key].where & IN_DEFAULTS ? "only in [defaults] and allow rules"
                                                           : "only in allow rules";
        perr(st, st->line, "key '%s' is not allowed in %s (%s)", k, secname, only);
        return 0;
    }
    if (st->seen[key]) {
        perr(st, st->line, "key '%s' given twice in this section (first at line %zu)", k,
             st->seen[key]);
        return 0;
    }
    st->seen[key] = st->line;
    if (*v == '\0') {
        perr(st, st->line, "%s: empty value", k);
        return 0;
    }
    size_t tab = ng_policy_inner_tab(v, is_list(key));
    if (tab != (size_t)-1) {
        perr_col(st, st->line, (size_t)(v - st->lbuf) + tab + 1,
                 "%s: a tab inside a value is not allowed (tabs may only surround keys, values "
                 "and list items)",
                 k);
        return 0;
    }
    err[0] = '\0';
    struct ng_policy_rule *rule = st->sec == SEC_DEFAULTS ? NULL : cur_rule(st);
    int r = ng_policy_set_key(st->p, rule, (enum ng_policy_key)key, v, err, sizeof(err));
    if (r == -ENOMEM)
        return r;
    for (size_t i = 0; r == 0 && i < st->p->nescrows; i++)
        if (st->p->escrows[i]->line == 0)
            st->p->escrows[i]->line = st->line; /* for the loader's messages */
    if (r < 0)
        perr(st, st->line, "bad value for %s: %s", k, err);
    return 0;
}

/* The offset of the first non-blank byte of the line (n when none). */
static size_t lead_blanks(const char *l, size_t n)
{
    size_t i = 0;

    while (i < n && (l[i] == ' ' || l[i] == '\t'))
        i++;
    return i;
}

static int is_comment(const char *l, size_t n)
{
    size_t i = lead_blanks(l, n);
    return i < n && (l[i] == '#' || l[i] == ';');
}

/* A line refused for its characters is not parsed (nothing of it reaches a
 * message); what it would have opened or filled is not reported as missing. */
static void skip_line(struct pstate *st, const char *l, size_t n)
{
    size_t i = lead_blanks(l, n);

    if (i < n && l[i] == '[') {
        end_section(st);
        memset(st->seen, 0, sizeof(st->seen));
        st->sec = SEC_BAD;
        st->sec_line = st->line;
    }
    st->sec_skipped = 1;
}

/* The characters of the line (policy_bytes.c); a CR ending it is reported
 * once per file as CRLF line endings, then dropped so the rest is checked. */
static int line_chars(struct pstate *st, const char *l, size_t *n)
{
    char msg[512];
    size_t col;

    for (;;) {
        if (ng_policy_check_chars(l, *n, is_comment(l, *n), st->line == 1, &col, msg,
                                  sizeof(msg)) == 0)
            return 0;
        if (col != *n || l[col - 1] != '\r')
            break;
        if (!st->crlf_told)
            perr_col(st, st->line, col, "%s", msg);
        st->crlf_told = 1;
        (*n)--;
    }
    perr_col(st, st->line, col, "%s", msg);
    skip_line(st, l, *n);
    return -EINVAL;
}

static int one_line(struct pstate *st, const char *l, size_t n)
{
    char buf[NG_POLICY_LINE_MAX + 1];

    if (n > NG_POLICY_LINE_MAX) {
        perr(st, st->line, "line longer than %d bytes", NG_POLICY_LINE_MAX);
        return 0;
    }
    if (line_chars(st, l, &n) < 0)
        return 0;
    memcpy(buf, l, n);
    buf[n] = '\0';
    st->lbuf = buf;
    char *s = ng_policy_trim(buf);
    if (*s == '\0' || *s == '#' || *s == ';')
        return 0;
    if (*s == '[')
        return section_header(st, s);
    return key_line(st, s);
}

/* [defaults] applies to every allow rule, wherever it appears in the file. */
static void merge_defaults(struct pstate *st)
{
    struct ng_policy *p = st->p;

    p->defaults.shell = p->shell;
    for (size_t i = 0; i < p->nrules; i++) {
        struct ng_policy_rule *r = &p->rules[i];
        struct ng_constraints m = p->defaults;
        uint64_t set = st->rule_keys[i];

        m.run_as = r->c.run_as;
        m.uid = r->c.uid;
        m.gid = r->c.gid;
        m.has_gid = r->c.has_gid;
        m.caps = r->c.caps;
        m.cap_list = r->c.cap_list;
        m.host_access = r->c.host_access;
        m.confinement = r->c.confinement;
        m.no_new_privs = r->c.no_new_privs;
        m.join_cgroup = r->c.join_cgroup;
        m.leave_processes = r->c.leave_processes;
        if (set & (UINT64_C(1) << K_RECORD_INPUT))
            m.record_input = r->c.record_input;
        if (set & (UINT64_C(1) << K_RECORD_COMMANDS))
            m.record_commands = r->c.record_commands;
        if (set & (UINT64_C(1) << K_MAX_SESSION))
            m.max_session_ms = r->c.max_session_ms;
        if (set & (UINT64_C(1) << K_IDLE_TIMEOUT))
            m.idle_timeout_ms = r->c.idle_timeout_ms;
        if (set & (UINT64_C(1) << K_MAX_OUTPUT))
            m.max_output = r->c.max_output;
        if (set & (UINT64_C(1) << K_CALLER_REACH))
            m.caller_reach_allow = r->c.caller_reach_allow;
        if (set & (UINT64_C(1) << K_MASK_ESCROW))
            m.mask_escrow_file = r->c.mask_escrow_file;
        m.mask_escrow = NULL; /* set only by ng_policy_load_escrow */
        m.approval_required = r->c.approval_required;
        m.approval_timeout_ms = r->c.approval_timeout_ms;
        m.moderation_required = r->c.moderation_required;
        m.approvers = r->approvers;
        m.napprovers = r->napprovers;
        m.setenv = (const char *const *)r->setenv;
        m.nsetenv = r->nsetenv;
        r->c = m;
    }
}

static int parse_lines(struct pstate *st, const char *buf, size_t len)
{
    size_t off = 0;

    while (off < len) {
        const char *nl = memchr(buf + off, '\n', len - off);
        size_t n = nl ? (size_t)(nl - (buf + off)) : len - off;
        st->line++;
        if (one_line(st, buf + off, n) < 0 || st->nomem)
            return -ENOMEM;
        off += n + (nl != NULL);
    }
    end_section(st);
    return st->nomem ? -ENOMEM : 0;
}

int ng_policy_parse(const char *buf, size_t len, const char *file, struct ng_policy **ret,
                    struct ng_policy_msgs *errs)
{
    struct pstate st;
    int r;

    if (!buf || !file || !ret || !errs)
        return -EINVAL;
    memset(&st, 0, sizeof(st));
    st.file = file;
    st.errs = errs;
    st.p = calloc(1, sizeof(*st.p));
    if (!st.p)
        return -ENOMEM;
    ng_constraints_default(&st.p->defaults);
    st.p->file = strdup(file);
    st.p->shell = strdup("/bin/sh");
    if (!st.p->file || !st.p->shell)
        r = -ENOMEM;
    else if (len > NG_POLICY_FILE_MAX)
        r = -EFBIG;
    else
        r = parse_lines(&st, buf, len);
    if (r == -EFBIG) {
        perr(&st, 0, "file larger than %d bytes", NG_POLICY_FILE_MAX);
        r = st.nomem ? -ENOMEM : -EINVAL;
    }
    if (r == 0 && st.nerr > 0)
        r = -EINVAL;
    if (r == 0) {
        merge_defaults(&st);
        *ret = st.p;
    } else {
        ng_policy_free(st.p);
    }
    free(st.rule_keys);
    return r;
}
