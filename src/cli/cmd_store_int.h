/* Helpers shared by the commands that read the session store (sessions,
 * replay; later verify and export). They print the error and return the
 * exit status, 0 on success. */
#ifndef NSGATE_CMD_STORE_H
#define NSGATE_CMD_STORE_H

#include "cmd_int.h"
#include "nsgate/store.h"
#include "nsgate/verify.h"

#include <stdio.h>

#define NG_DEFAULT_DB NSGATE_STATEDIR "/sessions.db"

/* Where a reader reads: --db FILE, and the root key from --keys DIR or
 * --key FILE (cli.md verify). Every reader's table starts with these. */
struct ng_cmd_source {
    const char *db, *keys, *key;
};
enum { NG_OPT_DB = 200, NG_OPT_KEYS, NG_OPT_KEY };
#define NG_SOURCE_OPTDEFS                                                                          \
    {NG_OPT_DB, 0, "db", NG_OPT_ARG}, {NG_OPT_KEYS, 0, "keys", NG_OPT_ARG},                        \
    {                                                                                              \
        NG_OPT_KEY, 0, "key", NG_OPT_ARG                                                           \
    }

/* 1 when v was one of the source options (taken into src), else 0. */
int ng_cmd_source_opt(const struct ng_optval *v, struct ng_cmd_source *src);
/* The root key, then the store opened read-only; 0 or the exit status. */
int ng_cmd_source_open(const struct ng_cmd_source *src, uint8_t root[NG_FSKEY_PK_BYTES],
                       struct ng_store **ret);

/* export -f jsonl --follow [SESSION] (cmd_follow.c): the evidence stream
 * (stream.h) to -o FILE or standard output, resumable with --cursor FILE.
 * Drops privileges first. The exit status. */
struct ng_follow_opts {
    struct ng_cmd_source src;
    const char *out, *cursor, *session;
};
int ng_cmd_follow(const struct ng_follow_opts *o, const struct ng_caller *caller);

/* replay and export verify the session first (cli.md): 0 OK, 2 INCOMPLETE
 * (warned), 1 TAMPERED or MISSING (refused unless force: said which), or a
 * negative errno when verification could not run. verb is "replay" or
 * "export"; res may be NULL. */
int ng_cmd_verify_first(struct ng_store *s, const uint8_t id[NG_STORE_ID_LEN],
                        const uint8_t root[NG_FSKEY_PK_BYTES], int force, const char *verb,
                        const char *text, struct ng_verify_result *res);

/* NSGATE_DB (kept in the environment for real root only), else the default. */
const char *ng_cmd_default_db(void);
/* NSGATE_KEYS (real root only), else the default key directory. */
const char *ng_cmd_default_keys(void);

/* Drop privileges for good (cli.md "Privileges of the subcommands"). */
int ng_cmd_drop(const struct ng_caller *caller);
int ng_cmd_store_open(const char *path, struct ng_store **ret);
int ng_cmd_store_find(struct ng_store *s, const char *prefix, uint8_t id[NG_STORE_ID_LEN]);

/* The root public key for verification (cli.md verify): from --key FILE
 * (64 hex digits, one line), --keys DIR, or the default key directory with
 * a warning that a key read from this host proves nothing against root on
 * it. keys and key may be NULL. */
int ng_cmd_root_key(const char *keys, const char *key, uint8_t root[NG_FSKEY_PK_BYTES]);

/* --reveal --escrow-key FILE (replay, export): the escrow secret, read with
 * the caller's own rights (privileges are already dropped). */
struct ng_escrow_secret;
int ng_cmd_escrow_key(const char *path, struct ng_escrow_secret **ret);
/* Is key the one the session's masked input was sealed to? 0 and *reveal
 * set (0 with a warning when the session has no escrowed input), or an
 * exit status (64 for another key). */
int ng_cmd_escrow_match(struct ng_store *s, const uint8_t id[NG_STORE_ID_LEN],
                        const struct ng_escrow_secret *key, const char *path, const char *text,
                        int *reveal);
/* A reveal failure at seq (reveal.h errors), said plainly: exit 1. */
int ng_cmd_reveal_error(int err, int64_t seq, const char *path, const char *text);
/* The command timeline of a session (replay --commands, cmd_commands.c):
 * a header line, then one line per command. 0 or a negative errno. */
int ng_cmd_print_commands(struct ng_store *s, const uint8_t id[NG_STORE_ID_LEN], FILE *out);

/* watch of a session that is over: replay it (verified first), with its
 * timing; the exit status of replay. */
int ng_cmd_replay_finished(struct ng_store *s, const uint8_t id[NG_STORE_ID_LEN],
                           const uint8_t root[NG_FSKEY_PK_BYTES], const char *text, int raw);

/* sessions --live (cmd_sessions_live.c): the running and waiting sessions,
 * a table or JSON lines. 0 or a negative errno. */
int ng_cmd_sessions_live(struct ng_store *s, int json);
/* ---- reviews (cmd_review.c, cli.md "Reviews") ---- */
#include "nsgate/audit.h"

/* One look at a session by replay, export or watch: begin (as started,
 * before anything is opened), open the store, find the session, log (which
 * drops privileges for good), then read. */
struct ng_review {
    const struct ng_caller *caller;
    struct ng_audit audit; /* opened while privileged */
    int open_err;          /* ng_audit_open's, or -EPERM without privilege */
    int host;              /* a policy file is there: an nsgate host, looks are logged */
    int required;          /* review_audit = required */
    int mediated;          /* the caller is in reviewers: the store is opened as root */
    int host_store;        /* the store read is the host's (ng_cmd_default_db) */
};
void ng_review_begin(struct ng_review *rv, const struct ng_caller *caller);
/* The store as the look may open it, and the session in it: with root's
 * rights in mediated mode (the host's store only), else with the caller's.
 * 0 or an exit status (said why). */
int ng_review_open(struct ng_review *rv, const char *db, const char *session, struct ng_store **ret,
                   uint8_t id[NG_STORE_ID_LEN]);
/* TRUSTED_APP op=nsgate-review act=ACT (replay, export, watch) for session
 * id, sent while privileged (ng_review_begin opened the socket; a command
 * with its own privilege steps, such as watch, calls this before its
 * drop). 0, or an exit status: 75 when the record cannot be sent under
 * review_audit = required for the host's store (best-effort: a warning).
 * host_store is set by ng_review_open, or by the caller. */
int ng_review_note(struct ng_review *rv, const char *act, const uint8_t id[NG_STORE_ID_LEN]);
/* sessions (the listing): the store opened with root's rights for a
 * reviewer (mediated mode, the host's store by name), else with the
 * caller's; privileges dropped either way before it returns. A listing is
 * not a look and sends no record; searches (--grep, --command) read what
 * sessions recorded and are refused to a mediated reviewer (77). */
int ng_review_list_store(struct ng_review *rv, const char *db, int searches, struct ng_store **ret);
/* ng_review_note, then the final drop (ng_cmd_drop). */
int ng_review_log(struct ng_review *rv, const char *act, const uint8_t id[NG_STORE_ID_LEN]);
void ng_review_end(struct ng_review *rv);
/* sessions --views SESSION --audit-log FILE... (cmd_views.c): the review
 * records of the session in the logs. 0 or an exit status. */
int ng_cmd_views(const char *session, const char *const *logs, size_t nlogs, int json);

#endif
