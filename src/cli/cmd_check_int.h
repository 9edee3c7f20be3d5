/* Internals of nsgate check shared by cmd_check.c (flow) and
 * cmd_check_out.c (text and JSON output). */
#ifndef NSGATE_CMD_CHECK_H
#define NSGATE_CMD_CHECK_H

#include "nsgate/attrs.h"
#include "nsgate/confine.h"
#include "nsgate/ns.h"
#include "nsgate/policy.h"

/* What a real target's confinement is, as check reads it without stopping
 * the target: from its status and its LSM label. */
struct check_confine {
    int real;             /* a real target was read */
    int seccomp, filters; /* Seccomp mode and Seccomp_filters; -1 unknown */
    int nnp;              /* NoNewPrivs; -1 unknown */
    uint64_t bnd;         /* CapBnd */
    enum ng_lsm lsm;
    char label[NG_CONFINE_LABEL_MAX];
    const char *why; /* why entry would be refused, or NULL */
};

struct check_opts {
    const char *policy;
    int policy_given;
    const char *user;      /* --user NAME|#UID */
    struct ng_attrs attrs; /* --attr: a hypothetical target */
    int has_target;
    int real_target; /* -t / --container */
    pid_t target_pid;
    const char *container;
    const char *pod;
    ng_nsset ns;
    int all_ns;
    const char *reason;
    const char *program;
    int json;
    int help;
    struct check_confine tc;
};

/* Print the decision (first line exactly "allow RULE", "deny RULE" or
 * "deny -"); untrusted text escaped. Returns 0 or -EIO. */
int ng_check_print_text(const struct ng_policy *p, const struct ng_policy_decision *dec,
                        const struct check_confine *tc);
/* {"decision":..., "rule":..., "rules":[...], "constraints":{...}} */
int ng_check_print_json(const struct ng_policy *p, const struct ng_policy_decision *dec,
                        const struct check_confine *tc);
/* Syntax check only. */
int ng_check_print_ok(const struct ng_policy *p, int json);

#endif
