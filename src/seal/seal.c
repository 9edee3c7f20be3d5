/* Seals and certificate chains: encoding, signing, and the rules a verifier
 * applies (integrity.md "Late seals, precisely"). Pure except ng_seal_sign,
 * which borrows the key state's current secret. */
#include "nsgate/seal.h"
#include "nsgate/be.h"

#include <errno.h>
#include <sodium.h>
#include <string.h>

const uint8_t ng_seal_ledger_id[NG_SEAL_ID_BYTES] = {0};

_Static_assert(4 + sizeof(NG_SEAL_TAG) - 1 + NG_SEAL_ID_BYTES + 8 + 2 * NG_SEAL_HASH_BYTES +
                       3 * 8 ==
                   NG_SEAL_MSG_BYTES,
               "seal message size");

const char *ng_seal_status_str(enum ng_seal_status s)
{
    switch (s) {
    case NG_SEAL_OK:
        return "ok";
    case NG_SEAL_BAD_SIGNATURE:
        return "bad seal signature";
    case NG_SEAL_UNKNOWN_EPOCH:
        return "seal by a key without certificate";
    case NG_SEAL_BEFORE_EPOCH:
        return "seal time before its key's epoch";
    case NG_SEAL_AFTER_EPOCH:
        return "late seal: made after its key's epoch ended";
    case NG_SEAL_WALL_NOT_INCREASING:
        return "seal time not after the previous seal";
    case NG_SEAL_BOOT_NOT_INCREASING:
        return "seal boot time not after the previous seal";
    case NG_SEAL_LATE_EVENT:
        return "late seal: too long after the events it covers";
    case NG_SEAL_LATE_GAP:
        return "late seal: too long after the previous seal";
    case NG_SEAL_BAD_LINK:
        return "seal not linked to the previous seal";
    case NG_SEAL_SEQ_DECREASING:
        return "seal covers less than the previous seal";
    case NG_CERT_BAD_SIGNATURE:
        return "bad key certificate signature";
    case NG_CERT_BAD_ROOT:
        return "first key certificate is not the root key's";
    case NG_CERT_DUPLICATE:
        return "two key certificates for one epoch";
    case NG_CERT_GAP:
        return "key certificate missing";
    case NG_CERT_START_NOT_INCREASING:
        return "key certificate start times not increasing";
    case NG_CERT_START_TOO_SOON:
        return "key certificate starts less than one epoch after the previous";
    case NG_CERT_EPOCH_LEN:
        return "epoch length differs from the one the key certificates sign";
    default:
        return "unknown seal status";
    }
}

void ng_seal_encode(const struct ng_seal_fields *f, uint8_t out[NG_SEAL_MSG_BYTES])
{
    static const char tag[] = NG_SEAL_TAG;
    uint8_t *p = out;

    ng_be32_put(p, sizeof(tag) - 1), p += 4;
    memcpy(p, tag, sizeof(tag) - 1), p += sizeof(tag) - 1;
    memcpy(p, f->chain_id, NG_SEAL_ID_BYTES), p += NG_SEAL_ID_BYTES;
    ng_be64_put(p, f->last_seq), p += 8;
    memcpy(p, f->head, NG_SEAL_HASH_BYTES), p += NG_SEAL_HASH_BYTES;
    memcpy(p, f->prev_seal, NG_SEAL_HASH_BYTES), p += NG_SEAL_HASH_BYTES;
    ng_be64_put(p, f->wall_ns), p += 8;
    ng_be64_put(p, f->boot_ns), p += 8;
    ng_be64_put(p, f->epoch);
}

int ng_seal_sign(const struct ng_fskey *k, const struct ng_seal_fields *f,
                 uint8_t sig[NG_SEAL_SIG_BYTES])
{
    uint8_t msg[NG_SEAL_MSG_BYTES];
    struct ng_fskey_info ki;

    ng_fskey_info(k, &ki);
    if (f->epoch != ki.epoch || f->wall_ns < ki.start_ns ||
        f->wall_ns - ki.start_ns >= ki.epoch_len_ns)
        return -ESTALE;
    ng_seal_encode(f, msg);
    return ng_fskey_sign(k, msg, sizeof(msg), sig);
}

enum ng_seal_status ng_seal_verify(const uint8_t epoch_pk[NG_FSKEY_PK_BYTES],
                                   const struct ng_seal_fields *f,
                                   const uint8_t sig[NG_SEAL_SIG_BYTES])
{
    uint8_t msg[NG_SEAL_MSG_BYTES];
    ng_seal_encode(f, msg);
    return crypto_sign_verify_detached(sig, msg, sizeof(msg), epoch_pk) == 0
               ? NG_SEAL_OK
               : NG_SEAL_BAD_SIGNATURE;
}

void ng_seal_hash(const struct ng_seal_fields *f, const uint8_t sig[NG_SEAL_SIG_BYTES],
                  uint8_t out[NG_SEAL_HASH_BYTES])
{
    uint8_t msg[NG_SEAL_MSG_BYTES];
    crypto_generichash_state st;

    ng_seal_encode(f, msg);
    (void)crypto_generichash_init(&st, NULL, 0, NG_SEAL_HASH_BYTES);
    (void)crypto_generichash_update(&st, msg, sizeof(msg));
    (void)crypto_generichash_update(&st, sig, NG_SEAL_SIG_BYTES);
    (void)crypto_generichash_final(&st, out, NG_SEAL_HASH_BYTES);
}

/* Does c verify under signer in the current form (the epoch length
 * signed), or -- legacy_ok -- in the form of earlier releases? 2: current,
 * 1: legacy, 0: neither. */
static int cert_form(const uint8_t root_pk[NG_FSKEY_PK_BYTES], const struct ng_fskey_cert *c,
                     const uint8_t *signer, uint64_t epoch_len_ns, int legacy_ok)
{
    uint8_t msg[NG_FSKEY_CERT_MSG_BYTES];
    size_t n = ng_fskey_cert_message(root_pk, c, epoch_len_ns, msg);

    if (crypto_sign_verify_detached(c->sig, msg, n, signer) == 0)
        return 2;
    if (!legacy_ok)
        return 0;
    n = ng_fskey_cert_message(root_pk, c, 0, msg);
    return crypto_sign_verify_detached(c->sig, msg, n, signer) == 0 ? 1 : 0;
}

/* A signature that fails only because the epoch length differs from the one
 * the grid of start times shows (next: the following certificate, if any):
 * say so rather than "bad signature". */
static enum ng_seal_status bad_cert(const uint8_t root_pk[NG_FSKEY_PK_BYTES],
                                    const struct ng_fskey_cert *c, const uint8_t *signer,
                                    const struct ng_seal_epoch *prev,
                                    const struct ng_fskey_cert *next, uint64_t epoch_len_ns)
{
    uint64_t grid = prev                                   ? c->start_ns - prev->start_ns
                    : next && next->start_ns > c->start_ns ? next->start_ns - c->start_ns
                                                           : 0;
    if (grid && grid != epoch_len_ns && cert_form(root_pk, c, signer, grid, 0) == 2)
        return NG_CERT_EPOCH_LEN;
    return NG_CERT_BAD_SIGNATURE;
}

/* Certificate i against its predecessor: index, signer, form, start times.
 * Once a certificate signs the epoch length, every later one must too: an
 * earlier release's form after it would be a downgrade. */
static enum ng_seal_status cert_check(const uint8_t root_pk[NG_FSKEY_PK_BYTES],
                                      const struct ng_fskey_cert *c, uint64_t i,
                                      const struct ng_seal_epoch *prev,
                                      const struct ng_fskey_cert *next, uint64_t epoch_len_ns,
                                      struct ng_seal_epoch *out)
{
    const uint8_t *signer = i == 0 ? root_pk : prev->pk;

    if (c->epoch != i)
        return c->epoch < i ? NG_CERT_DUPLICATE : NG_CERT_GAP;
    if (i == 0 && sodium_memcmp(c->pk, root_pk, NG_FSKEY_PK_BYTES) != 0)
        return NG_CERT_BAD_ROOT;
    int form = cert_form(root_pk, c, signer, epoch_len_ns, !prev || !prev->len_signed);
    if (form == 0)
        return bad_cert(root_pk, c, signer, prev, next, epoch_len_ns);
    memcpy(out->pk, c->pk, NG_FSKEY_PK_BYTES);
    out->start_ns = c->start_ns;
    out->len_signed = form == 2;
    if (i == 0)
        return NG_SEAL_OK;
    if (c->start_ns <= prev->start_ns)
        return NG_CERT_START_NOT_INCREASING;
    /* epoch_len_ns >= NG_FSKEY_MIN_EPOCH_NS > 5 s is checked by the caller */
    if (c->start_ns - prev->start_ns < epoch_len_ns - NG_SEAL_EPOCH_GRACE_NS)
        return NG_CERT_START_TOO_SOON;
    return NG_SEAL_OK;
}

enum ng_seal_status ng_seal_cert_chain_verify(const uint8_t root_pk[NG_FSKEY_PK_BYTES],
                                              const struct ng_fskey_cert *certs, size_t n,
                                              uint64_t epoch_len_ns, struct ng_seal_epoch *epochs,
                                              size_t *bad)
{
    if (n == 0 || epoch_len_ns < NG_FSKEY_MIN_EPOCH_NS) {
        if (bad)
            *bad = 0;
        return n == 0 ? NG_CERT_GAP : NG_CERT_START_TOO_SOON;
    }
    for (size_t i = 0; i < n; i++) {
        enum ng_seal_status s =
            cert_check(root_pk, &certs[i], i, i ? &epochs[i - 1] : NULL,
                       i + 1 < n ? &certs[i + 1] : NULL, epoch_len_ns, &epochs[i]);
        if (s != NG_SEAL_OK) {
            if (bad)
                *bad = i;
            return s;
        }
    }
    return NG_SEAL_OK;
}

/* Is a later than b by more than limit? (a < b counts as no.) */
static int later_than(uint64_t a, uint64_t b, uint64_t limit)
{
    return a > b && a - b > limit;
}

enum ng_seal_status ng_seal_check_time(const struct ng_seal_epoch *epochs, size_t n,
                                       const struct ng_seal_fields *s,
                                       const struct ng_seal_fields *prev,
                                       const uint64_t *oldest_new_ns,
                                       const struct ng_seal_timing *t)
{
    uint64_t late = t->seal_interval_ns + NG_SEAL_LATE_GRACE_NS;

    if (s->epoch >= n)
        return NG_SEAL_UNKNOWN_EPOCH;
    if (s->wall_ns < epochs[s->epoch].start_ns)
        return NG_SEAL_BEFORE_EPOCH;
    /* [start(E), start(E+1) + 5 s); the newest known epoch has no end yet */
    if (s->epoch + 1 < n) {
        uint64_t next = epochs[s->epoch + 1].start_ns;
        if (s->wall_ns >= next && s->wall_ns - next >= NG_SEAL_EPOCH_GRACE_NS)
            return NG_SEAL_AFTER_EPOCH;
    }
    if (prev && s->wall_ns <= prev->wall_ns)
        return NG_SEAL_WALL_NOT_INCREASING;
    if (prev && (t->rules & NG_SEAL_RULE_BOOT) && s->boot_ns <= prev->boot_ns)
        return NG_SEAL_BOOT_NOT_INCREASING;
    if (oldest_new_ns && later_than(s->wall_ns, *oldest_new_ns, late))
        return NG_SEAL_LATE_EVENT;
    if (prev && (t->rules & NG_SEAL_RULE_GAP) && later_than(s->wall_ns, prev->wall_ns, late))
        return NG_SEAL_LATE_GAP;
    return NG_SEAL_OK;
}

enum ng_seal_status ng_seal_check(const struct ng_seal_epoch *epochs, size_t n,
                                  const struct ng_seal_fields *s,
                                  const uint8_t sig[NG_SEAL_SIG_BYTES],
                                  const struct ng_seal_fields *prev, const uint8_t *prev_sig,
                                  const uint64_t *oldest_new_ns, const struct ng_seal_timing *t)
{
    static const uint8_t zero[NG_SEAL_HASH_BYTES];
    uint8_t link[NG_SEAL_HASH_BYTES];

    if (s->epoch >= n)
        return NG_SEAL_UNKNOWN_EPOCH;
    if (ng_seal_verify(epochs[s->epoch].pk, s, sig) != NG_SEAL_OK)
        return NG_SEAL_BAD_SIGNATURE;
    if (prev && prev_sig)
        ng_seal_hash(prev, prev_sig, link);
    else
        memcpy(link, zero, sizeof(link));
    if (sodium_memcmp(link, s->prev_seal, sizeof(link)) != 0)
        return NG_SEAL_BAD_LINK;
    if (prev && s->last_seq < prev->last_seq)
        return NG_SEAL_SEQ_DECREASING;
    return ng_seal_check_time(epochs, n, s, prev, oldest_new_ns, t);
}
