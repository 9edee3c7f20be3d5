/* Documented defaults of every constraint (policy.md). */
#include "nsgate/constraints.h"

#include <string.h>

void ng_constraints_default(struct ng_constraints *c)
{
    memset(c, 0, sizeof(*c));
    c->run_as = NG_RUN_AS_TARGET;
    c->caps = NG_CAPS_TARGET;
    c->host_access = 0;
    c->confinement = NG_CONFINE_TARGET;
    c->no_new_privs = 1;
    c->join_cgroup = 1;
    c->leave_processes = 0;
    c->record_input = 1;
    c->record_commands = 1;
    c->audit_required = 1;
    c->seal_interval_ms = 1000;
    c->approval_timeout_ms = 600000; /* 10m */
    c->max_session_ms = 8LL * 3600 * 1000;
    c->idle_timeout_ms = 3600LL * 1000;
    c->max_output = 1ULL << 30;
    c->min_free = 1ULL << 30;
    c->shell = "/bin/sh";
}
