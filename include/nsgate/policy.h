/* The policy (policy.md): a re-entrant parser, name resolution through an
 * injectable user database, a loader that checks ownership and mode on the
 * descriptor it reads, and a pure decision function.
 *
 * How enter uses it (before any setns, security.md):
 *   ng_policy_load(path, 0, &buf, &len, &why)            unsafe -> exit 78
 *   ng_policy_parse(buf, len, path, &p, &errs)            any error -> exit 78
 *   ng_policy_resolve(p, &ng_policy_userdb_system, &errs, &warns)  error -> 78
 *   ng_policy_decide(p, &req, &dec)                       dec.allow ? go : 77
 *   ng_policy_decision_free(&dec); ng_policy_free(p); free(buf);
 *
 * Every string in messages and explanations may hold bytes from the policy
 * file or the target: print them through ng_escape. */
#ifndef NSGATE_POLICY_H
#define NSGATE_POLICY_H

#include "nsgate/attrs.h"
#include "nsgate/constraints.h"
#include "nsgate/credplan.h"
#include "nsgate/ns.h"
#include "nsgate/reach.h"
#include "nsgate/util.h"

#include <regex.h>
#include <stddef.h>
#include <stdint.h>

#define NG_POLICY_NAME_MAX   64
#define NG_POLICY_LINE_MAX   4096
#define NG_POLICY_FILE_MAX   (1024 * 1024)
#define NG_POLICY_MAX_ERRORS 1000
#define NG_POLICY_REASON_MAX 512
#define NG_POLICY_CAP_LAST   40 /* CAP_CHECKPOINT_RESTORE, linux/capability.h */

/* A list of malloc'd messages ("FILE:LINE: message"). */
struct ng_policy_msgs {
    char **v;
    size_t n;
    size_t dropped; /* not stored past NG_POLICY_MAX_ERRORS */
};
void ng_policy_msgs_free(struct ng_policy_msgs *m);

enum ng_policy_kind { NG_POLICY_ALLOW = 0, NG_POLICY_DENY };

enum ng_policy_user_kind {
    NG_POLICY_USER_ANY = 0, /* "*" */
    NG_POLICY_USER_NAME,    /* NAME, resolved to a uid */
    NG_POLICY_USER_UID,     /* #UID */
    NG_POLICY_USER_GROUP,   /* %GROUP, resolved to a gid */
};

struct ng_policy_user {
    enum ng_policy_user_kind kind;
    char *name;   /* NAME or GROUP; NULL for "*" and #UID */
    uint32_t id;  /* uid or gid, valid when resolved */
    int resolved; /* "*" and #UID are always resolved */
};

struct ng_policy_target {
    int any; /* "*" */
    enum ng_attr attr;
    char *glob; /* fnmatch(3) pattern, flags 0 */
};

struct ng_policy_rule {
    char *name;
    enum ng_policy_kind kind;
    size_t line; /* of the section header */
    struct ng_policy_user *users;
    size_t nusers;
    struct ng_policy_user *approvers; /* approvers = (c.approvers points here) */
    size_t napprovers;
    struct ng_policy_target *targets;
    size_t ntargets;
    int has_namespaces; /* deny: absent means any request */
    ng_nsset namespaces;
    char **commands; /* NULL when the key is absent */
    size_t ncommands;
    /* Allow rules: [defaults] merged with this rule's overrides. */
    struct ng_constraints c;
    int require_reason; /* also set by reason_pattern */
    char *reason_pattern;
    regex_t reason_re; /* compiled REG_EXTENDED|REG_NOSUB when reason_pattern */
    char **setenv;     /* NAME=VALUE items, c.setenv points here */
    size_t nsetenv;
};

/* An escrow public key file named by mask_escrow (policy.md), once per
 * file however many sections name it. */
struct ng_policy_escrow {
    char *file;
    size_t line; /* where it is first named */
    uint8_t pk[32];
    int loaded;
};

struct ng_policy {
    char *file; /* name for messages */
    struct ng_constraints defaults;
    char *shell; /* defaults.shell and every rule's c.shell point here */
    struct ng_policy_rule *rules;
    size_t nrules;
    struct ng_policy_escrow **escrows;
    size_t nescrows;
    /* Reviews ([defaults], policy.md "Reviews"): review_audit = required
     * (1) or best-effort (0, the default); reviewers = group:NAME,... (the
     * group names, resolved by the reader that uses them) */
    int review_audit_required;
    char **reviewers;
    size_t nreviewers;
};

/* Parse the policy text. buf need not be NUL-terminated; file names it in
 * messages. Returns 0 with *ret set, -EINVAL when the file has errors (every
 * one of them appended to errs as "FILE:LINE: message"; *ret untouched), or
 * -ENOMEM. No globals, no I/O: safe to call from many threads. */
int ng_policy_parse(const char *buf, size_t len, const char *file, struct ng_policy **ret,
                    struct ng_policy_msgs *errs) NG_MUST_CHECK;
void ng_policy_free(struct ng_policy *p);

/* The value forms, for the parser and tests. 0 or -EINVAL / -ERANGE. */
int ng_policy_parse_duration(const char *s, int64_t *ret_ms) NG_MUST_CHECK;
int ng_policy_parse_size(const char *s, uint64_t *ret) NG_MUST_CHECK;
/* "net_admin" or "cap_net_admin" (lowercase): the capability number, or -1. */
int ng_policy_cap_from_name(const char *name);
const char *ng_policy_cap_name(unsigned cap);

/* The user database, injectable so tests use a fake one. Each lookup returns
 * 0, -ENOENT for an unknown name, or another negative errno (a failing
 * database is an error, never "unknown"). membership fills the groups the
 * database gives the user with this uid (getgrouplist, base gid included);
 * *n is the capacity on entry and the count on return. */
struct ng_policy_userdb {
    int (*user_uid)(void *ctx, const char *name, uint32_t *uid);
    int (*group_gid)(void *ctx, const char *name, uint32_t *gid);
    int (*membership)(void *ctx, uint32_t uid, uint32_t *groups, size_t *n);
    void *ctx;
};
/* getpwnam_r, getgrnam_r, getpwuid_r + getgrouplist (policy_load.c). */
extern const struct ng_policy_userdb ng_policy_userdb_system;

/* Resolve NAME and %GROUP items. An unknown name in an allow rule never
 * matches and is reported in warns; in a deny rule it is an error (errs),
 * because a deny that silently stops matching fails open. Returns 0 or
 * -EINVAL (errors recorded) or -ENOMEM. */
int ng_policy_resolve(struct ng_policy *p, const struct ng_policy_userdb *db,
                      struct ng_policy_msgs *errs, struct ng_policy_msgs *warns) NG_MUST_CHECK;

/* Static warnings for check: allow rules relying only on weak or medium
 * target attributes, deny rules by command (advisory). */
int ng_policy_lint(const struct ng_policy *p, struct ng_policy_msgs *warns) NG_MUST_CHECK;

/* Read every mask_escrow key file: each is checked as the policy file is
 * (ng_policy_load with flags: root-owned, not writable by group or other,
 * O_NOFOLLOW, in such a directory) and must hold one X25519 public key as 64
 * hex digits (escrow.h). Then each section's constraints point at their key.
 * Problems go to errs ("FILE:LINE: mask_escrow KEYFILE ..."), -EINVAL; with
 * NG_POLICY_LOAD_UNSAFE_OK an unsafe owner or mode is a warning instead.
 * enter calls this after ng_policy_parse, before deciding. */
int ng_policy_load_escrow(struct ng_policy *p, unsigned flags, struct ng_policy_msgs *errs,
                          struct ng_policy_msgs *warns) NG_MUST_CHECK;

/* check without a request: a warning for each allow rule that records
 * input with no mask_escrow (masked input is then unrecoverable), one
 * warning when no section names one at all. */
int ng_policy_lint_escrow(const struct ng_policy *p, struct ng_policy_msgs *warns) NG_MUST_CHECK;

/* Loading. Opens path O_RDONLY|O_NOFOLLOW|O_CLOEXEC relative to its directory
 * descriptor and checks both with fstat. Errors:
 *   -ELOOP   FILE is a symbolic link      -ENOENT, -EACCES  from open
 *   -EINVAL  FILE is not a regular file   -EFBIG   FILE is larger than 1 MiB
 *   -EPERM   ownership or mode unsafe (*why says which)
 * With NG_POLICY_LOAD_UNSAFE_OK (check), an unsafe owner or mode is read
 * anyway and returned as 0 with *why set to the warning. *why is a static
 * string naming the problem without the file name ("is writable by group or
 * other"), NULL when nothing is wrong. *ret_buf is malloc'd, NUL-terminated. */
enum {
    NG_POLICY_LOAD_UNSAFE_OK = 1,
    /* ng_policy_load_escrow only (check run by a non-root caller): a key
     * file the caller may not read is a warning, enter reads it as root */
    NG_POLICY_LOAD_UNREADABLE_OK = 2,
};
int ng_policy_load(const char *path, unsigned flags, char **ret_buf, size_t *ret_len,
                   const char **why) NG_MUST_CHECK;

/* One request (policy.md "The request"). */
struct ng_policy_request {
    const struct ng_idset *caller; /* real uid, real gid, getgroups */
    const uint32_t *db_groups;     /* the database's membership (getgrouplist) */
    size_t ndb_groups;
    const struct ng_attrs *attrs;
    ng_nsset ns;         /* shared namespaces already dropped */
    const char *program; /* absolute normalized; NULL: the policy's shell */
    const char *reason;  /* NULL: none given */
    /* Host access, "where": */
    int mnt_stays_host;    /* mnt not requested, or shared with the target */
    int target_own_userns; /* the target's user ns differs from nsgate's */
    int userns_entered;    /* user is in the request */
    /* Caller reach (reach.h): */
    int caller_owns_userns; /* the target's user ns, or an ancestor, is the caller's */
    int userns_available;   /* nsgate can create a user namespace */
    /* Credentials base: .c is set to each candidate rule's constraints. */
    struct ng_credplan_in cred;
};

struct ng_policy_rule_result {
    const struct ng_policy_rule *rule;
    int matched;
    char why[320]; /* "matched", or the first condition that failed */
};

struct ng_policy_decision {
    int allow;
    int rule_index;          /* into p->rules; -1 for the default deny */
    const char *rule_name;   /* "-" for the default deny */
    struct ng_constraints c; /* for an allow: the deciding rule's merged constraints */
    int host_access;         /* the allowed session has host access */
    char host_access_why[320];
    enum ng_reach reach; /* for an allow: how the caller is kept out (reach.h) */
    char reach_why[320];
    struct ng_policy_rule_result *results; /* one per rule, in evaluation order */
    size_t nresults;
    struct ng_policy_msgs warns;
};

/* The decision of policy.md: deny rules first, then allow rules, both in file
 * order; else deny. Pure: no I/O. Returns 0 (see dec->allow), -EINVAL or
 * -ENOMEM (treat both as deny). Free with ng_policy_decision_free. */
int ng_policy_decide(const struct ng_policy *p, const struct ng_policy_request *req,
                     struct ng_policy_decision *dec) NG_MUST_CHECK;
void ng_policy_decision_free(struct ng_policy_decision *dec);

/* A reason: 1..512 bytes of printable UTF-8 (no control characters). */
int ng_policy_valid_reason(const char *reason);

#endif
