/* Verification of the session store (integrity.md, cli.md "verify"):
 * streaming, read-only, against a root public key held by the caller.
 *
 * For one session: the header hash recomputed generically over the sessions
 * row (chain.h), every event's hash recomputed in seq order (1..N with no
 * gap, the stored hash equal to the recomputation), every seal checked in
 * sealno order (1..K with no gap; ng_seal_check: signature under its epoch's
 * certified key, link to the previous seal, late-seal rules; the sealed head
 * equal to the recomputed head at its seq), the 'x' event last and sealed.
 * For the ledger: the same over its entries, and a merge against the
 * sessions (start entry = header hash, end entry = final head, no entry
 * naming a session the store lacks).
 *
 * The verdict names the FIRST sequence number whose integrity is not
 * established: a bad event at its own seq; a bad seal at one past what the
 * last good seal covered (0 when no seal is good: not even the header is
 * proven). Memory is constant per session (the certificate chain aside).
 * Functions return 0 or a negative errno (only for I/O and memory; what the
 * store says is a verdict, never an error) and never print. */
#ifndef NSGATE_VERIFY_H
#define NSGATE_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "nsgate/fskey.h"
#include "nsgate/store.h"
#include "nsgate/util.h"

/* seal_interval is not recorded in the store; the verifier applies the
 * largest the policy allows (policy.md: 100ms .. 60s). */
#define NG_VERIFY_SEAL_INTERVAL_NS (60 * NG_FSKEY_SEC_NS)
#define NG_VERIFY_WHAT_MAX         160

enum ng_verify_word {
    NG_VERIFY_OK = 0,
    NG_VERIFY_INCOMPLETE,
    NG_VERIFY_TAMPERED,
    NG_VERIFY_MISSING,
};
const char *ng_verify_word_str(enum ng_verify_word w);

struct ng_verify_result {
    enum ng_verify_word word;
    uint8_t id[NG_STORE_ID_LEN];   /* the session (zero for the ledger) */
    int64_t events;                /* last seq present (ledger: entries) */
    int64_t sealed;                /* last seq covered by a good seal, -1: none */
    int64_t seq;                   /* TAMPERED: the first bad sequence number */
    char what[NG_VERIFY_WHAT_MAX]; /* TAMPERED: what; MISSING: where */
    /* Sessions, for the audit cross-check: as recomputed (valid up to the
     * first bad seq). */
    int has_end;
    int64_t start_ns;
    uint8_t header_hash[NG_HASH_LEN];
    uint8_t head[NG_HASH_LEN]; /* at seq `events` */
};

/* A (seq, head) a session's chain must pass through: an audit checkpoint.
 * status out: 0 matched, 1 the head differs, 2 the session ends before seq. */
struct ng_verify_point {
    int64_t seq;
    uint8_t head[NG_HASH_LEN];
    int status;
};

struct ng_verify_opts {
    uint64_t seal_interval_ns; /* 0: NG_VERIFY_SEAL_INTERVAL_NS */
};

struct ng_verifier;

/* Walk the store's certificate chain under root_pk (epoch length from its
 * roots row). A broken chain is no error: seals of epochs past the break
 * fail, and the ledger verdict names it. */
int ng_verify_new(struct ng_store *s, const uint8_t root_pk[NG_FSKEY_PK_BYTES],
                  const struct ng_verify_opts *o, struct ng_verifier **ret) NG_MUST_CHECK;
void ng_verify_free(struct ng_verifier *v);

/* One session. pts (may be NULL) sorted by seq. -ENOENT never: a session
 * without its sessions row is MISSING. */
int ng_verify_session(struct ng_verifier *v, const uint8_t id[NG_STORE_ID_LEN],
                      struct ng_verify_point *pts, size_t npts,
                      struct ng_verify_result *res) NG_MUST_CHECK;

/* The ledger, its seals, and its agreement with the sessions. */
int ng_verify_ledger(struct ng_verifier *v, struct ng_verify_result *res) NG_MUST_CHECK;

typedef int (*ng_verify_cb)(void *arg, const struct ng_verify_result *res);

/* Every session of the store in start order, verified, one callback each
 * (a callback's negative return stops the walk and is returned). */
int ng_verify_all(struct ng_verifier *v, ng_verify_cb cb, void *arg) NG_MUST_CHECK;

/* MISSING: sessions named by the ledger, or owning events or seals, without
 * a sessions row; one callback each, in ID order. */
int ng_verify_missing(struct ng_verifier *v, ng_verify_cb cb, void *arg) NG_MUST_CHECK;

/* Does the store hold a session with this ID (a sessions row)? 1, 0, < 0. */
int ng_verify_has_session(struct ng_verifier *v, const uint8_t id[NG_STORE_ID_LEN]) NG_MUST_CHECK;

/* The verified certificate chain: epochs established (0 .. n-1). */
size_t ng_verify_epochs(const struct ng_verifier *v, const struct ng_seal_epoch **ret);

/* Every session ID of the store in start order (rows with a malformed id
 * are skipped: their events show as MISSING). */
typedef int (*ng_verify_id_cb)(void *arg, const uint8_t id[NG_STORE_ID_LEN]);
int ng_verify_list(struct ng_verifier *v, ng_verify_id_cb cb, void *arg) NG_MUST_CHECK;

/* ---- the audit-log anchor (verify_audit.c, audit.md "Cross-check") ---- */
struct ng_auditlog;

/* The (seq, head) points the log holds for session id: checkpoints and
 * ends. *ret malloc'd (NULL when none). */
int ng_verify_audit_points(const struct ng_auditlog *log, const uint8_t id[NG_STORE_ID_LEN],
                           struct ng_verify_point **ret, size_t *n) NG_MUST_CHECK;
/* After ng_verify_session with those points: header hash and heads against
 * the log, a session cut below a logged point, a session inside the log's
 * time span the log never saw start. Lowers res to TAMPERED (keeping the
 * first bad seq). */
void ng_verify_audit_session(const struct ng_auditlog *log, const struct ng_verify_point *pts,
                             size_t n, struct ng_verify_result *res);
/* Sessions the log knows and the store lacks (MISSING ... in the audit log). */
int ng_verify_audit_missing(struct ng_verifier *v, const struct ng_auditlog *log, ng_verify_cb cb,
                            void *arg) NG_MUST_CHECK;
/* Certificates against CRYPTO_KEY_USER op=create records, both ways, in
 * the log's time span; lowers the ledger result. */
void ng_verify_audit_keys(struct ng_verifier *v, const struct ng_auditlog *log,
                          struct ng_verify_result *ledger);

#endif
