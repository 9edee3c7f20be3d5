/* Internals shared by the policy modules (policy_*.c); not a public API. */
#ifndef NSGATE_POLICY_INT_H
#define NSGATE_POLICY_INT_H

#include "nsgate/policy.h"

#include <locale.h>
#include <stddef.h>

/* Append a formatted message; -ENOMEM on failure. Past NG_POLICY_MAX_ERRORS
 * messages are counted in m->dropped instead of stored, so a hostile file
 * cannot make the error list grow without bound. */
int ng_policy_msg_add(struct ng_policy_msgs *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The keys of policy.md, in one order for the parser's table. */
enum ng_policy_key {
    K_AUDIT,
    K_RECORD_INPUT,
    K_RECORD_COMMANDS,
    K_SEAL_INTERVAL,
    K_MAX_SESSION,
    K_IDLE_TIMEOUT,
    K_MAX_OUTPUT,
    K_MIN_FREE,
    K_SHELL,
    K_USERS,
    K_TARGETS,
    K_NAMESPACES,
    K_COMMANDS,
    K_RUN_AS,
    K_CAPABILITIES,
    K_HOST_ACCESS,
    K_CONFINEMENT,
    K_NO_NEW_PRIVS,
    K_JOIN_CGROUP,
    K_LEAVE_PROCESSES,
    K_REQUIRE_REASON,
    K_REASON_PATTERN,
    K_SETENV,
    K_CALLER_REACH,
    K_MASK_ESCROW,
    /* two-person control (policy.md "Approval and moderation") */
    K_APPROVAL,
    K_APPROVERS,
    K_APPROVAL_TIMEOUT,
    K_MODERATION,
    /* review accounting (policy.md "Reviews") */
    K_REVIEW_AUDIT,
    K_REVIEWERS,
    K_COUNT
};

/* Store one key's value: into p's defaults when r is NULL, else into rule r.
 * v is trimmed, non-empty and may be modified. 0, -EINVAL with err filled,
 * or -ENOMEM. */
int ng_policy_set_key(struct ng_policy *p, struct ng_policy_rule *r, enum ng_policy_key key,
                      char *v, char *err, size_t errsz);
/* A rule NAME: 1 to 64 of A-Za-z0-9_.- */
int ng_policy_valid_rule_name(const char *s);

/* Value parsers used by the lexer: 0, or -EINVAL with err filled. */
int ng_policy_val_bool(const char *v, int *ret, char *err, size_t errsz);
int ng_policy_val_user(const char *v, struct ng_policy_user *ret, char *err, size_t errsz);
int ng_policy_val_target(const char *v, struct ng_policy_target *ret, char *err, size_t errsz);
int ng_policy_val_run_as(const char *v, struct ng_constraints *c, char *err, size_t errsz);
int ng_policy_val_setenv_item(const char *v, char *err, size_t errsz);
int ng_policy_valid_name(const char *s, size_t max);

/* Split value at commas in place, trimming items; -EINVAL (empty item) or
 * the callback's error stops the walk. */
int ng_policy_list_each(char *v, int (*fn)(void *ctx, char *item, char *err, size_t errsz),
                        void *ctx, char *err, size_t errsz);

/* Switch this thread to the C locale (policy.md: byte-wise, whatever the
 * caller's locale) around regcomp, regexec and fnmatch. */
locale_t ng_policy_c_locale_enter(void);
void ng_policy_c_locale_leave(locale_t old);

/* The characters of one line (policy_bytes.c): 0, or -EINVAL with the
 * 1-based byte column of the first bad one in *ret_col and why in msg.
 * comment: the line is a comment (any printable UTF-8 but invisible
 * characters); else only printable ASCII and TAB. first_line: a byte order
 * mark at column 1 gets its own message. */
int ng_policy_check_chars(const char *line, size_t n, int comment, int first_line, size_t *ret_col,
                          char *msg, size_t msgsz);
/* The offset of a TAB inside value v (trimmed) that is not a blank around a
 * list's comma (list != 0) or any TAB (list == 0); (size_t)-1 when none. */
size_t ng_policy_inner_tab(const char *v, int list);

/* Strip blanks (space, tab) on both sides, in place. */
char *ng_policy_trim(char *s);

#endif
