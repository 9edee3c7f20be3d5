/* Internals of nsgate check shared by cmd_check.c (flow) and
 * cmd_check_out.c (text and JSON output). */
#ifndef NSGATE_CMD_CHECK_H
#define NSGATE_CMD_CHECK_H

#include "nsgate/attrs.h"
#include "nsgate/ns.h"
#include "nsgate/policy.h"

struct check_opts {
    const char *policy;
    int policy_given;
    const char *user;      /* --user NAME|#UID */
    struct ng_attrs attrs; /* --attr: a hypothetical target */
    int has_target;
    int real_target; /* -t / --container */
    pid_t target_pid;
    const char *container;
    ng_nsset ns;
    int all_ns;
    const char *reason;
    const char *program;
    int json;
    int help;
};

/* Print the decision (first line exactly "allow RULE", "deny RULE" or
 * "deny -"); untrusted text escaped. Returns 0 or -EIO. */
int ng_check_print_text(const struct ng_policy *p, const struct ng_policy_decision *dec);
/* {"decision":..., "rule":..., "rules":[...], "constraints":{...}} */
int ng_check_print_json(const struct ng_policy *p, const struct ng_policy_decision *dec);
/* Syntax check only. */
int ng_check_print_ok(const struct ng_policy *p, int json);

#endif
