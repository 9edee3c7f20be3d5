/* Seals: Ed25519 signatures by the current epoch key over the head of a hash
 * chain (a session's events, or the host-wide ledger), and their verification
 * (integrity.md "Late seals, precisely", docs/integrity.md).
 *
 * Everything here but ng_seal_sign is pure: no I/O, no clock, no printing.
 * A chain is named by a 16-byte id: the session's UUID, or NG_SEAL_LEDGER_ID
 * (all zero, which no session may use) for the ledger. */
#ifndef NSGATE_SEAL_H
#define NSGATE_SEAL_H

#include "nsgate/fskey.h"
#include "nsgate/util.h"

#include <stddef.h>
#include <stdint.h>

#define NG_SEAL_ID_BYTES   16
#define NG_SEAL_HASH_BYTES 32
#define NG_SEAL_SIG_BYTES  NG_FSKEY_SIG_BYTES
#define NG_SEAL_MSG_BYTES  130 /* the encoded message, see ng_seal_encode */
#define NG_SEAL_TAG        "nsgate-seal-v1"
/* Slack for clocks and scheduling (integrity.md): a seal may be made up to
 * this long after its epoch's successor started ... */
#define NG_SEAL_EPOCH_GRACE_NS (5 * NG_FSKEY_SEC_NS)
/* ... and this long beyond seal_interval after what it covers. */
#define NG_SEAL_LATE_GRACE_NS (2 * NG_FSKEY_SEC_NS)

extern const uint8_t ng_seal_ledger_id[NG_SEAL_ID_BYTES];

/* What a seal signs. */
struct ng_seal_fields {
    uint8_t chain_id[NG_SEAL_ID_BYTES];
    uint64_t last_seq;                /* last sequence number covered */
    uint8_t head[NG_SEAL_HASH_BYTES]; /* chain hash of that entry */
    uint8_t
        prev_seal[NG_SEAL_HASH_BYTES]; /* ng_seal_hash of the previous seal, zero for the first */
    uint64_t wall_ns;                  /* CLOCK_REALTIME when sealed */
    uint64_t boot_ns;                  /* CLOCK_BOOTTIME when sealed */
    uint64_t epoch;                    /* epoch of the signing key */
};

/* One epoch as established by the certificate chain. */
struct ng_seal_epoch {
    uint8_t pk[NG_FSKEY_PK_BYTES];
    uint64_t start_ns;
    /* its certificate signs the epoch length (the current form); 0: made by
     * an earlier release, which signed no length */
    int len_signed;
};

/* Verdicts. Each failure is distinct so verify can say exactly what is wrong
 * (ng_seal_status_str gives the words after "TAMPERED seq=N: "). */
enum ng_seal_status {
    NG_SEAL_OK = 0,
    NG_SEAL_BAD_SIGNATURE,       /* the seal does not verify under its epoch's key */
    NG_SEAL_UNKNOWN_EPOCH,       /* no certificate for the seal's epoch */
    NG_SEAL_BEFORE_EPOCH,        /* seal time before its epoch started */
    NG_SEAL_AFTER_EPOCH,         /* seal time at or past the next epoch's start + 5 s */
    NG_SEAL_WALL_NOT_INCREASING, /* wall clock not after the previous seal's */
    NG_SEAL_BOOT_NOT_INCREASING, /* CLOCK_BOOTTIME not after the previous seal's */
    NG_SEAL_LATE_EVENT,          /* more than seal_interval + 2 s after the oldest new event */
    NG_SEAL_LATE_GAP,            /* more than seal_interval + 2 s after the previous seal */
    NG_SEAL_BAD_LINK,            /* prev_seal is not the hash of the previous seal */
    NG_SEAL_SEQ_DECREASING,      /* covers less of the chain than the previous seal */
    NG_CERT_BAD_SIGNATURE,       /* a certificate does not verify (forged, or not from this root) */
    NG_CERT_BAD_ROOT,            /* epoch 0's certificate does not name the root key */
    NG_CERT_DUPLICATE,           /* two certificates for one epoch */
    NG_CERT_GAP,                 /* an epoch without a certificate */
    NG_CERT_START_NOT_INCREASING, /* an epoch starts no later than its predecessor */
    NG_CERT_START_TOO_SOON,       /* an epoch starts sooner than one epoch length (- 5 s) after the
                                     previous */
    NG_CERT_EPOCH_LEN,            /* the epoch length given is not the one the certificates sign */
};

const char *ng_seal_status_str(enum ng_seal_status s);

/* The signed message: u32 length of the tag, the tag, chain id, last_seq,
 * head, prev_seal, wall_ns, boot_ns, epoch; integers u64 big-endian. Every
 * field has a fixed width, so the encoding is unambiguous. */
void ng_seal_encode(const struct ng_seal_fields *f, uint8_t out[NG_SEAL_MSG_BYTES]);

/* Sign with the key state's current epoch: k must be between
 * ng_fskey_lock_current and ng_fskey_unlock. Refuses (-ESTALE) when f->epoch is
 * not the key's epoch or f->wall_ns is outside [start, start + epoch length) of
 * it: a recorder never seals with a key whose epoch has passed. */
int ng_seal_sign(const struct ng_fskey *k, const struct ng_seal_fields *f,
                 uint8_t sig[NG_SEAL_SIG_BYTES]) NG_MUST_CHECK;

/* Signature check only: NG_SEAL_OK or NG_SEAL_BAD_SIGNATURE. */
enum ng_seal_status ng_seal_verify(const uint8_t epoch_pk[NG_FSKEY_PK_BYTES],
                                   const struct ng_seal_fields *f,
                                   const uint8_t sig[NG_SEAL_SIG_BYTES]) NG_MUST_CHECK;

/* BLAKE2b-256 of the encoded message followed by the signature: what the next
 * seal's prev_seal holds. */
void ng_seal_hash(const struct ng_seal_fields *f, const uint8_t sig[NG_SEAL_SIG_BYTES],
                  uint8_t out[NG_SEAL_HASH_BYTES]);

/* Walk root -> epoch n-1. certs[i] must be epoch i's certificate (certs[0]
 * self-signed by the root), each signed by its predecessor's key over the
 * current form, which includes epoch_len_ns, with strictly increasing starts
 * at least epoch_len_ns - 5 s apart. Certificates made by earlier releases
 * (the v1 form, no length) are accepted up to the first one of the current
 * form, never after it. On NG_SEAL_OK epochs[0..n-1] (caller-provided, n
 * entries) hold each epoch's key, start and form; on failure *bad (may be
 * NULL) is the index of the first bad certificate and epochs[0..*bad-1] are
 * filled. */
enum ng_seal_status ng_seal_cert_chain_verify(const uint8_t root_pk[NG_FSKEY_PK_BYTES],
                                              const struct ng_fskey_cert *certs, size_t n,
                                              uint64_t epoch_len_ns, struct ng_seal_epoch *epochs,
                                              size_t *bad) NG_MUST_CHECK;

/* Which timing rules apply. A session is sealed at least every seal_interval
 * within one boot, so all apply. The ledger is sealed only when an entry is
 * appended and lives across reboots: it uses neither the gap rule nor the
 * boot clock rule. */
enum {
    NG_SEAL_RULE_GAP = 1,  /* at most interval + 2 s after the previous seal */
    NG_SEAL_RULE_BOOT = 2, /* CLOCK_BOOTTIME strictly increasing */
    NG_SEAL_RULES_SESSION = NG_SEAL_RULE_GAP | NG_SEAL_RULE_BOOT,
    NG_SEAL_RULES_LEDGER = 0,
};

struct ng_seal_timing {
    uint64_t seal_interval_ns;
    unsigned rules; /* NG_SEAL_RULE_* */
};

/* The late-seal rules for seal s of a chain whose previous seal is prev (NULL
 * for the first). oldest_new_ns is the wall time of the oldest entry s covers
 * that prev did not (NULL when it covers nothing new, a heartbeat). epochs[0..n-1]
 * from ng_seal_cert_chain_verify; the last known epoch has no end. */
enum ng_seal_status ng_seal_check_time(const struct ng_seal_epoch *epochs, size_t n,
                                       const struct ng_seal_fields *s,
                                       const struct ng_seal_fields *prev,
                                       const uint64_t *oldest_new_ns,
                                       const struct ng_seal_timing *t) NG_MUST_CHECK;

/* Everything about seal s, given its predecessor (prev and prev_sig, both
 * NULL for the first seal): signature with the seal's epoch key, the link to
 * the previous seal, sequence numbers not going back, then the timing rules. */
enum ng_seal_status ng_seal_check(const struct ng_seal_epoch *epochs, size_t n,
                                  const struct ng_seal_fields *s,
                                  const uint8_t sig[NG_SEAL_SIG_BYTES],
                                  const struct ng_seal_fields *prev, const uint8_t *prev_sig,
                                  const uint64_t *oldest_new_ns,
                                  const struct ng_seal_timing *t) NG_MUST_CHECK;

#endif
