/* The recorder's sealer (sealer.h). One key lock per call: catch up the key
 * state, copy new certificates, sign, store, wipe. Holding the key lock
 * across the ledger append and its seal serializes every ledger writer on
 * the host (all of them seal), so ledger seals always chain onto the newest
 * ledger seal and never go back in seq. */
#include "nsgate/sealer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nsgate/seal.h"

/* The last seal of one open session, to chain the next onto. */
struct sealed_session {
    uint8_t id[NG_STORE_ID_LEN];
    struct ng_seal_fields last;
    uint8_t sig[NG_SEAL_SIG_BYTES];
    uint64_t epoch; /* key epoch of the last seal */
    struct sealed_session *next;
};

struct ng_sealer {
    struct ng_store *st;
    struct ng_fskey *key;
    struct ng_fskey_info info; /* as of the last lock */
    uint64_t ncopied;          /* certificates 0 .. ncopied-1 are in the store */
    uint64_t created_from, created_to;
    struct sealed_session *sessions;
};

static uint64_t boot_now(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_BOOTTIME, &ts);
    return (uint64_t)ts.tv_sec * NG_FSKEY_SEC_NS + (uint64_t)ts.tv_nsec;
}

/* Copy certificates up to the key state's epoch (ng_store_add_cert accepts
 * a copy already there). */
static int copy_certs(struct ng_sealer *sl)
{
    struct ng_fskey_cert c;

    while (sl->ncopied <= sl->info.epoch) {
        int r = ng_fskey_read_cert(sl->key, sl->ncopied, &c);
        if (r == 0)
            r = ng_store_add_cert(sl->st, sl->info.root_pk, sl->info.epoch_len_ns, &c);
        if (r < 0)
            return r;
        sl->ncopied++;
    }
    return 0;
}

/* Lock the key at its current epoch, such that "now" lies inside that
 * epoch (an epoch may end between the catch-up and the signature: then
 * catch up again). On success the caller must call unlock(). */
static int lock_key(struct ng_sealer *sl)
{
    struct ng_fskey_advanced adv;

    for (int tries = 0; tries < 3; tries++) {
        int r = ng_fskey_lock_current(sl->key, ng_fskey_now_ns(), &adv);
        if (r < 0)
            return r;
        ng_fskey_info(sl->key, &sl->info);
        if (adv.to_epoch > adv.from_epoch) {
            if (sl->created_to == sl->created_from)
                sl->created_from = adv.from_epoch;
            sl->created_to = adv.to_epoch;
        }
        r = copy_certs(sl);
        if (r < 0) {
            ng_fskey_unlock(sl->key);
            return r;
        }
        if (ng_fskey_now_ns() - sl->info.start_ns < sl->info.epoch_len_ns)
            return 0;
        ng_fskey_unlock(sl->key);
    }
    return -ETIME;
}

/* Sign f (chain id, last_seq and head set) after prev (NULL: first seal of
 * the chain) and store it; both clocks strictly after prev's. */
static int seal_chain(struct ng_sealer *sl, struct ng_seal_fields *f,
                      const struct ng_seal_fields *prev, const uint8_t *prev_sig,
                      uint8_t sig[NG_SEAL_SIG_BYTES])
{
    f->wall_ns = ng_fskey_now_ns();
    f->boot_ns = boot_now();
    memset(f->prev_seal, 0, sizeof(f->prev_seal));
    if (prev) {
        ng_seal_hash(prev, prev_sig, f->prev_seal);
        if (f->wall_ns <= prev->wall_ns)
            f->wall_ns = prev->wall_ns + 1;
        if (f->boot_ns <= prev->boot_ns)
            f->boot_ns = prev->boot_ns + 1;
    }
    f->epoch = sl->info.epoch;
    int r = ng_seal_sign(sl->key, f, sig);
    return r < 0 ? r : ng_store_add_seal(sl->st, f, sig);
}

/* Append a ledger entry and seal the ledger up to it. Key lock held. */
static int ledger_add(struct ng_sealer *sl, const uint8_t id[NG_STORE_ID_LEN],
                      enum ng_ledger_kind kind, int64_t event_seq, const uint8_t value[NG_HASH_LEN])
{
    struct ng_seal_fields prev, f = {0};
    uint8_t prev_sig[NG_SEAL_SIG_BYTES], sig[NG_SEAL_SIG_BYTES];
    int64_t seq;
    int own = 0;
    int r = ng_store_txn_begin(sl->st, &own);

    if (r < 0)
        return r;
    r = ng_store_ledger_append(sl->st, id, kind, event_seq, value, &seq, f.head);
    if (r == 0) {
        r = ng_store_last_seal(sl->st, ng_seal_ledger_id, &prev, prev_sig);
        int have_prev = r == 0;
        if (r == -ENOENT)
            r = 0;
        memcpy(f.chain_id, ng_seal_ledger_id, NG_SEAL_ID_BYTES);
        f.last_seq = (uint64_t)seq;
        if (r == 0)
            r = seal_chain(sl, &f, have_prev ? &prev : NULL, have_prev ? prev_sig : NULL, sig);
    }
    return ng_store_txn_end(sl->st, own, r);
}

/* Seal what the store has committed of the session. Key lock held. */
static int seal_session(struct ng_sealer *sl, struct sealed_session *ss, struct ng_session *sess)
{
    struct ng_seal_fields f = {0};
    uint8_t sig[NG_SEAL_SIG_BYTES];
    int first = ss->last.last_seq == 0 && ss->last.wall_ns == 0;

    memcpy(f.chain_id, ss->id, NG_STORE_ID_LEN);
    f.last_seq = (uint64_t)ng_store_session_committed(sess, f.head);
    int r = seal_chain(sl, &f, first ? NULL : &ss->last, first ? NULL : ss->sig, sig);
    if (r < 0)
        return r;
    ss->last = f;
    memcpy(ss->sig, sig, sizeof(sig));
    ss->epoch = f.epoch;
    return 0;
}

static struct sealed_session *find(struct ng_sealer *sl, const uint8_t id[NG_STORE_ID_LEN],
                                   struct sealed_session ***link)
{
    struct sealed_session **p = &sl->sessions;

    for (; *p; p = &(*p)->next)
        if (memcmp((*p)->id, id, NG_STORE_ID_LEN) == 0)
            break;
    if (link)
        *link = p;
    return *p;
}

int ng_sealer_open(struct ng_store *st, const char *keys_dir, struct ng_sealer **ret)
{
    struct ng_sealer *sl = calloc(1, sizeof(*sl));
    struct ng_fskey_cert *certs = NULL;
    size_t n = 0;
    int r = sl ? 0 : -ENOMEM;

    if (r == 0) {
        sl->st = st;
        r = ng_fskey_open(keys_dir, &sl->key, NULL);
    }
    /* The public part only: the certs file names root and epoch length. */
    if (r == 0)
        r = ng_fskey_read_public(keys_dir, sl->info.root_pk, &sl->info.epoch_len_ns, &certs, &n);
    for (size_t i = 0; r == 0 && i < n; i++)
        r = ng_store_add_cert(st, sl->info.root_pk, sl->info.epoch_len_ns, &certs[i]);
    free(certs);
    if (r < 0) {
        ng_sealer_close(sl);
        return r;
    }
    sl->ncopied = n;
    *ret = sl;
    return 0;
}

int ng_sealer_session_start(struct ng_sealer *sl, struct ng_session *sess)
{
    const uint8_t *id = ng_store_session_id(sess);
    struct sealed_session *ss;
    int r;

    if (find(sl, id, NULL))
        return -EEXIST;
    ss = calloc(1, sizeof(*ss));
    if (!ss)
        return -ENOMEM;
    memcpy(ss->id, id, NG_STORE_ID_LEN);
    r = lock_key(sl);
    if (r == 0) {
        r = ledger_add(sl, id, NG_LEDGER_START, 0, ng_store_session_header_hash(sess));
        if (r == 0)
            r = seal_session(sl, ss, sess);
        ng_fskey_unlock(sl->key);
    }
    if (r < 0) {
        free(ss);
        return r;
    }
    ss->next = sl->sessions;
    sl->sessions = ss;
    return 0;
}

int ng_sealer_session_open(struct ng_sealer *sl, const struct ng_session_header *h,
                           struct ng_session **ret)
{
    struct sealed_session *ss = calloc(1, sizeof(*ss));
    struct ng_session *sess = NULL;
    int own = 0, r;

    if (!ss)
        return -ENOMEM;
    /* Key lock first, then the database's write lock: the order every
     * sealer takes them in, so no two recorders wait on each other. */
    r = lock_key(sl);
    if (r < 0) {
        free(ss);
        return r;
    }
    r = ng_store_txn_begin(sl->st, &own);
    if (r == 0)
        r = ng_store_session_begin(sl->st, h, &sess);
    if (r == 0) {
        memcpy(ss->id, ng_store_session_id(sess), NG_STORE_ID_LEN);
        r = ledger_add(sl, ss->id, NG_LEDGER_START, 0, ng_store_session_header_hash(sess));
    }
    if (r == 0)
        r = seal_session(sl, ss, sess);
    r = ng_store_txn_end(sl->st, own, r);
    ng_fskey_unlock(sl->key);
    if (r < 0) {
        ng_store_session_free(sess);
        free(ss);
        return r;
    }
    ss->next = sl->sessions;
    sl->sessions = ss;
    *ret = sess;
    return 0;
}

int ng_sealer_tick(struct ng_sealer *sl, struct ng_session *sess, int64_t seal_interval_ms,
                   struct ng_sealer_epoch_change *chg)
{
    struct sealed_session *ss = find(sl, ng_store_session_id(sess), NULL);
    uint64_t old;
    int r;

    if (!ss)
        return -ENOENT;
    if (seal_interval_ms <= 0)
        return -EINVAL;
    r = ng_store_flush(sess);
    if (r < 0)
        return r;
    r = lock_key(sl);
    if (r < 0)
        return r;
    old = ss->epoch;
    r = seal_session(sl, ss, sess);
    if (r == 0 && ss->epoch != old)
        r = ledger_add(sl, ss->id, NG_LEDGER_CHECKPOINT, (int64_t)ss->last.last_seq, ss->last.head);
    ng_fskey_unlock(sl->key);
    if (r < 0 || ss->epoch == old)
        return r;
    if (chg) {
        memset(chg, 0, sizeof(*chg));
        chg->old_epoch = old;
        chg->new_epoch = ss->epoch;
        chg->seq = (int64_t)ss->last.last_seq;
        memcpy(chg->head, ss->last.head, NG_HASH_LEN);
        chg->cert_epoch = ss->epoch;
        memcpy(chg->cert_fp, sl->info.pk, NG_FSKEY_PK_BYTES);
        ng_sealer_take_created(sl, &chg->created_from, &chg->created_to);
    }
    return 1;
}

int ng_sealer_session_end(struct ng_sealer *sl, struct ng_session *sess, int exit_status,
                          const char *reason)
{
    struct sealed_session **link, *ss = find(sl, ng_store_session_id(sess), &link);
    int own = 0, r, rend;

    if (!ss)
        return -ENOENT;
    *link = ss->next;
    rend = ng_store_session_end(sess, exit_status, reason);
    r = lock_key(sl);
    if (r == 0) {
        /* The final seal and the ledger's end entry in one transaction: a
         * full disk leaves neither (the session then verifies INCOMPLETE),
         * never a sealed end the ledger does not know. */
        r = ng_store_txn_begin(sl->st, &own);
        if (r == 0)
            r = seal_session(sl, ss, sess);
        if (r == 0)
            r = ledger_add(sl, ss->id, NG_LEDGER_END, (int64_t)ss->last.last_seq, ss->last.head);
        r = ng_store_txn_end(sl->st, own, r);
        ng_fskey_unlock(sl->key);
    }
    free(ss);
    return rend < 0 ? rend : r;
}

void ng_sealer_take_created(struct ng_sealer *sl, uint64_t *from, uint64_t *to)
{
    *from = sl->created_from;
    *to = sl->created_to;
    sl->created_from = sl->created_to = 0;
}

int ng_sealer_read_cert(const struct ng_sealer *sl, uint64_t epoch, struct ng_fskey_cert *ret)
{
    return ng_fskey_read_cert(sl->key, epoch, ret);
}

void ng_sealer_close(struct ng_sealer *sl)
{
    if (!sl)
        return;
    while (sl->sessions) {
        struct sealed_session *n = sl->sessions->next;
        free(sl->sessions);
        sl->sessions = n;
    }
    ng_fskey_close(sl->key);
    free(sl);
}
