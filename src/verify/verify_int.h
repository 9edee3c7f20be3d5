/* Internals shared by verify.c (the chain and seal walk, sessions) and
 * verify_ledger.c (the ledger, its agreement with the sessions, missing
 * sessions). Not a public header. */
#ifndef NSGATE_VERIFY_INT_H
#define NSGATE_VERIFY_INT_H

#include "nsgate/seal.h"
#include "nsgate/verify.h"
#include "nsgate/store_rows.h"

struct ng_verifier {
    struct ng_store *s;
    uint8_t root_pk[NG_FSKEY_PK_BYTES];
    struct ng_seal_timing session_timing, ledger_timing;
    struct ng_seal_epoch *epochs;
    size_t nepochs;
    /* Why the chain stops at nepochs (NG_SEAL_OK: it does not). */
    enum ng_seal_status cert_status;
    char cert_what[NG_VERIFY_WHAT_MAX];
};

/* One hash chain being walked in seq order: a session's events (cur 0 is
 * the header) or the ledger's entries (cur 0 is the empty ledger). */
struct chain {
    struct ng_verifier *v;
    struct ng_verify_result *res;
    struct ng_store_rows *rows;
    struct ng_store_blocks *blocks; /* sessions, schema 5: their event data blocks */
    int (*next)(struct chain *c);   /* 1: a row verified, 0: no more, < 0 */
    int64_t cur;                    /* last seq verified */
    uint8_t head[NG_HASH_LEN];      /* its recomputed hash */
    uint64_t cur_wall;              /* its wall time */
    int ended;                      /* sessions: cur is the 'x' event */
    int failed;
    int64_t start_ns, base; /* sessions: header time; -1 sessions, 0 ledger */
    struct ng_verify_point *pts;
    size_t npts, ipt;
    /* The ledger: covered() checks the entry just read (cur, cur_wall)
     * against the seal that first covers it (cover, number cover_sealno,
     * covering from cover_from on); cover is NULL for the unsealed tail. */
    void (*covered)(struct chain *c);
    const struct ng_seal_fields *cover;
    int64_t cover_sealno, cover_from;
};

void ng_verify_fail(struct chain *c, int64_t seq, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Walk the chain's seals and entries to the end; sets res. */
int ng_verify_walk(struct chain *c, const uint8_t chain_id[NG_STORE_ID_LEN],
                   const struct ng_seal_timing *t) NG_MUST_CHECK;
/* The certified epoch whose window [start(e), start(e+1)) holds wall_ns (the
 * newest has no end), -1 when before epoch 0 or no epoch is known. */
int64_t ng_verify_epoch_at(const struct ng_verifier *v, uint64_t wall_ns);

#endif
