/* Value forms of the policy (policy.md): booleans, durations, sizes, user and
 * target items, run_as, capability names, setenv items. Pure and bounded:
 * every number goes through ng_parse_u64/ng_parse_id, never strtoul. */
#include "policy_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ng_policy_msg_add(struct ng_policy_msgs *m, const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;

    if (m->n >= NG_POLICY_MAX_ERRORS) {
        m->dropped++;
        return 0;
    }
    char **v = realloc(m->v, (m->n + 1) * sizeof(*v));
    if (!v)
        return -ENOMEM;
    m->v = v;
    va_start(ap, fmt);
    int r = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (r < 0)
        return -ENOMEM;
    m->v[m->n++] = s;
    return 0;
}

void ng_policy_msgs_free(struct ng_policy_msgs *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++)
        free(m->v[i]);
    free(m->v);
    m->v = NULL;
    m->n = 0;
    m->dropped = 0;
}

char *ng_policy_trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

int ng_policy_list_each(char *v, int (*fn)(void *ctx, char *item, char *err, size_t errsz),
                        void *ctx, char *err, size_t errsz)
{
    for (char *p = v;;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        char *item = ng_policy_trim(p);
        if (*item == '\0') {
            snprintf(err, errsz, "empty item in list");
            return -EINVAL;
        }
        int r = fn(ctx, item, err, errsz);
        if (r < 0)
            return r;
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

int ng_policy_val_bool(const char *v, int *ret, char *err, size_t errsz)
{
    if (strcmp(v, "yes") == 0 || strcmp(v, "no") == 0) {
        *ret = v[0] == 'y';
        return 0;
    }
    snprintf(err, errsz, "want yes or no, not '%s'", v);
    return -EINVAL;
}

/* Split "123unit" into the number and the unit; the number must be digits. */
static int num_unit(const char *s, uint64_t *n, const char **unit)
{
    char digits[24];
    size_t k = strspn(s, "0123456789");

    if (k == 0 || k >= sizeof(digits))
        return k == 0 ? -EINVAL : -ERANGE;
    memcpy(digits, s, k);
    digits[k] = '\0';
    *unit = s + k;
    return ng_parse_u64(digits, 0, UINT64_MAX, n);
}

int ng_policy_parse_duration(const char *s, int64_t *ret_ms)
{
    static const struct {
        const char *unit;
        uint64_t ms;
    } units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}};
    const char *unit;
    uint64_t n;
    int r = num_unit(s, &n, &unit);

    if (r < 0)
        return r;
    for (size_t i = 0; i < NG_ARRAY_SIZE(units); i++) {
        if (strcmp(unit, units[i].unit) != 0)
            continue;
        if (n > (uint64_t)INT64_MAX / units[i].ms)
            return -ERANGE;
        *ret_ms = (int64_t)(n * units[i].ms);
        return 0;
    }
    return -EINVAL;
}

int ng_policy_parse_size(const char *s, uint64_t *ret)
{
    const char *unit;
    uint64_t n;
    unsigned shift;
    int r = num_unit(s, &n, &unit);

    if (r < 0)
        return r;
    if (strcmp(unit, "K") == 0)
        shift = 10;
    else if (strcmp(unit, "M") == 0)
        shift = 20;
    else if (strcmp(unit, "G") == 0)
        shift = 30;
    else
        return -EINVAL;
    if (n > (UINT64_MAX >> shift))
        return -ERANGE;
    *ret = n << shift;
    return 0;
}

/* linux/capability.h, 0 .. CAP_CHECKPOINT_RESTORE (40). */
static const char *const cap_names[NG_POLICY_CAP_LAST + 1] = {
    "chown",
    "dac_override",
    "dac_read_search",
    "fowner",
    "fsetid",
    "kill",
    "setgid",
    "setuid",
    "setpcap",
    "linux_immutable",
    "net_bind_service",
    "net_broadcast",
    "net_admin",
    "net_raw",
    "ipc_lock",
    "ipc_owner",
    "sys_module",
    "sys_rawio",
    "sys_chroot",
    "sys_ptrace",
    "sys_pacct",
    "sys_admin",
    "sys_boot",
    "sys_nice",
    "sys_resource",
    "sys_time",
    "sys_tty_config",
    "mknod",
    "lease",
    "audit_write",
    "audit_control",
    "setfcap",
    "mac_override",
    "mac_admin",
    "syslog",
    "wake_alarm",
    "block_suspend",
    "audit_read",
    "perfmon",
    "bpf",
    "checkpoint_restore",
};

int ng_policy_cap_from_name(const char *name)
{
    if (strncmp(name, "cap_", 4) == 0)
        name += 4;
    for (unsigned i = 0; i <= NG_POLICY_CAP_LAST; i++)
        if (strcmp(cap_names[i], name) == 0)
            return (int)i;
    return -1;
}

const char *ng_policy_cap_name(unsigned cap)
{
    return cap <= NG_POLICY_CAP_LAST ? cap_names[cap] : "?";
}

/* A user or group name: portable characters plus '@' (directory services)
 * and a trailing '$' (machine accounts); never starting with '-'. */
int ng_policy_valid_name(const char *s, size_t max)
{
    size_t n = strlen(s);

    if (n == 0 || n > max || s[0] == '-')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            ch == '.' || ch == '_' || ch == '-' || ch == '@' || (ch == '$' && i == n - 1))
            continue;
        return 0;
    }
    return 1;
}

int ng_policy_val_user(const char *v, struct ng_policy_user *ret, char *err, size_t errsz)
{
    memset(ret, 0, sizeof(*ret));
    if (strcmp(v, "*") == 0) {
        ret->kind = NG_POLICY_USER_ANY;
        ret->resolved = 1;
        return 0;
    }
    if (v[0] == '#') {
        if (ng_parse_id(v + 1, &ret->id) < 0) {
            snprintf(err, errsz, "'%s' is not a valid #UID", v);
            return -EINVAL;
        }
        ret->kind = NG_POLICY_USER_UID;
        ret->resolved = 1;
        return 0;
    }
    ret->kind = v[0] == '%' ? NG_POLICY_USER_GROUP : NG_POLICY_USER_NAME;
    const char *name = v + (v[0] == '%');
    if (!ng_policy_valid_name(name, 256)) {
        snprintf(err, errsz, "'%s' is not a valid user, #UID, %%GROUP or *", v);
        return -EINVAL;
    }
    ret->name = strdup(name);
    return ret->name ? 0 : -ENOMEM;
}

int ng_policy_val_target(const char *v, struct ng_policy_target *ret, char *err, size_t errsz)
{
    memset(ret, 0, sizeof(*ret));
    if (strcmp(v, "*") == 0) {
        ret->any = 1;
        return 0;
    }
    const char *colon = strchr(v, ':');
    char attr[16];
    size_t k = colon ? (size_t)(colon - v) : 0;
    if (!colon || k == 0 || k >= sizeof(attr)) {
        snprintf(err, errsz, "'%s' is not ATTR:GLOB or *", v);
        return -EINVAL;
    }
    memcpy(attr, v, k);
    attr[k] = '\0';
    int a = ng_attr_from_name(attr);
    if (a < 0) {
        snprintf(err, errsz, "unknown attribute '%s' (container name pod cgroup uid pid exe comm)",
                 attr);
        return -EINVAL;
    }
    if (colon[1] == '\0') {
        snprintf(err, errsz, "empty glob in '%s'", v);
        return -EINVAL;
    }
    ret->attr = (enum ng_attr)a;
    ret->glob = strdup(colon + 1);
    return ret->glob ? 0 : -ENOMEM;
}

int ng_policy_val_run_as(const char *v, struct ng_constraints *c, char *err, size_t errsz)
{
    char uid[16];
    const char *colon = strchr(v, ':');
    size_t k = colon ? (size_t)(colon - v) : strlen(v);

    c->has_gid = 0;
    if (strcmp(v, "target") == 0 || strcmp(v, "root") == 0 || strcmp(v, "caller") == 0) {
        c->run_as = v[0] == 't'   ? NG_RUN_AS_TARGET
                    : v[0] == 'r' ? NG_RUN_AS_ROOT
                                  : NG_RUN_AS_CALLER;
        return 0;
    }
    if (k >= sizeof(uid))
        goto bad;
    memcpy(uid, v, k);
    uid[k] = '\0';
    if (ng_parse_id(uid, &c->uid) < 0)
        goto bad;
    if (colon) {
        if (ng_parse_id(colon + 1, &c->gid) < 0)
            goto bad;
        c->has_gid = 1;
    }
    c->run_as = NG_RUN_AS_IDS;
    return 0;
bad:
    snprintf(err, errsz, "want target, root, caller or UID[:GID], not '%s'", v);
    return -EINVAL;
}

int ng_policy_val_setenv_item(const char *v, char *err, size_t errsz)
{
    const char *eq = strchr(v, '=');
    size_t k = eq ? (size_t)(eq - v) : 0;

    if (!eq || k == 0 || (v[0] >= '0' && v[0] <= '9')) {
        snprintf(err, errsz, "'%s' is not NAME=VALUE", v);
        return -EINVAL;
    }
    for (size_t i = 0; i < k; i++) {
        char ch = v[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_')) {
            snprintf(err, errsz, "'%.*s' is not a valid variable name", (int)k, v);
            return -EINVAL;
        }
    }
    /* The dynamic loader and nsgate itself trust these: never settable. */
    if (strncmp(v, "LD_", 3) == 0 || strncmp(v, "NSGATE_", 7) == 0) {
        snprintf(err, errsz, "variable '%.*s' may not be set (LD_* and NSGATE_* are refused)",
                 (int)k, v);
        return -EINVAL;
    }
    return 0;
}

locale_t ng_policy_c_locale_enter(void)
{
    /* glibc returns its static C locale object here: no allocation to fail. */
    locale_t c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    return c ? uselocale(c) : (locale_t)0;
}

void ng_policy_c_locale_leave(locale_t old)
{
    if (!old)
        return;
    locale_t c = uselocale(old);
    if (c != (locale_t)0 && c != LC_GLOBAL_LOCALE)
        freelocale(c);
}
