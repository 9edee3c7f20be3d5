/* What an allow rule grants (policy.md "Rules"): the policy engine fills this
 * in, enter applies it. Until a policy file is read, ng_constraints_default()
 * gives the documented defaults. */
#ifndef NSGATE_CONSTRAINTS_H
#define NSGATE_CONSTRAINTS_H

#include <stddef.h>
#include <stdint.h>

enum ng_run_as {
    NG_RUN_AS_TARGET = 0, /* the target's ids and groups, as seen from the final user ns */
    NG_RUN_AS_ROOT,       /* 0:0, no groups */
    NG_RUN_AS_CALLER,     /* the caller's real ids and groups */
    NG_RUN_AS_IDS,        /* UID alone (no groups) or UID:GID (groups exactly [GID]) */
};

enum ng_caps {
    NG_CAPS_TARGET = 0, /* the target's five sets, only inside its own user ns; else none */
    NG_CAPS_NONE,
    NG_CAPS_KEEP, /* every capability */
    NG_CAPS_LIST, /* exactly cap_list */
};

/* confinement (policy.md): the target's seccomp filters, LSM label,
 * bounding set and no_new_privs applied to the program, or none of them. */
enum ng_confinement {
    NG_CONFINE_TARGET = 0,
    NG_CONFINE_NONE, /* only when an allow rule says so */
};

#define NG_DURATION_NONE INT64_C(-1)

struct ng_policy_user;

struct ng_constraints {
    enum ng_run_as run_as;
    uint32_t uid, gid; /* NG_RUN_AS_IDS */
    int has_gid;       /* NG_RUN_AS_IDS: UID:GID form */
    enum ng_caps caps;
    uint64_t cap_list; /* bit n = capability n */
    int host_access;
    enum ng_confinement confinement;
    int caller_reach_allow; /* caller_reach = allow: an unprotected session is accepted */
    int no_new_privs;
    int join_cgroup;
    int leave_processes;
    int record_input;
    int record_commands; /* every exec in the session recorded as a 'c' event */
    int audit_required;
    int64_t seal_interval_ms;
    int64_t max_session_ms; /* NG_DURATION_NONE for none */
    int64_t idle_timeout_ms;
    uint64_t max_output;
    uint64_t min_free;
    const char *shell;         /* absolute path */
    const char *const *setenv; /* NAME=VALUE items, owned by the policy */
    size_t nsetenv;
    /* mask_escrow: the key file named, and its key once loaded
     * (ng_policy_load_escrow), both owned by the policy; NULL: none. */
    const char *mask_escrow_file;
    const uint8_t *mask_escrow; /* 32 bytes */
    /* Two-person control (policy.md "Approval and moderation"): approval =
     * required, approval_timeout, moderation = required, and the rule's
     * approvers (user names and %groups, owned by the policy). */
    int approval_required;
    int64_t approval_timeout_ms;
    int moderation_required;
    const struct ng_policy_user *approvers;
    size_t napprovers;
};

/* The defaults of policy.md ([defaults] table and allow-rule defaults). */
void ng_constraints_default(struct ng_constraints *c);

#endif
