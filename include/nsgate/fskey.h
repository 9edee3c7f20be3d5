/* The forward-secure sealing key (integrity.md property 3, docs/integrity.md).
 *
 * A key directory holds:
 *   state   one fixed-size record (NG_FSKEY_STATE_BYTES): the current epoch's
 *           number, start time and Ed25519 key pair, the root public key and
 *           the epoch length. Rewritten in place (pwrite + fsync) at every
 *           epoch change, so the old secret is overwritten where it lay.
 *   certs   append-only, public: a header naming the root public key, then
 *           one certificate per epoch, epoch 0 first (self-signed by the root).
 *   lock    flock()ed by whoever reads or evolves the state.
 *   retired/ what keygen --force kept of replaced keys.
 *
 * MUST, for every function here:
 * - secrets live only in sodium_malloc memory marked MADV_WIPEONFORK and
 *   MADV_DONTDUMP, no access while idle, and only the current epoch's secret;
 * - the key directory is owned by the user we run as (root for keygen and
 *   enter, the only callers) and not writable by group or other; every file is
 *   opened O_NOFOLLOW|O_CLOEXEC relative to it, created O_EXCL mode 0600;
 * - an epoch's secret is wiped from memory and disk before its successor is
 *   used, and the successor's certificate is on disk (fsync) before that.
 * Functions return 0 or a negative errno and never print. Times are
 * CLOCK_REALTIME nanoseconds, passed in so callers and tests choose "now". */
#ifndef NSGATE_FSKEY_H
#define NSGATE_FSKEY_H

#include "nsgate/util.h"

#include <stddef.h>
#include <stdint.h>

#define NG_FSKEY_PK_BYTES           32
#define NG_FSKEY_SIG_BYTES          64
#define NG_FSKEY_STATE_BYTES        200
#define NG_FSKEY_CERTS_HEADER_BYTES 56
#define NG_FSKEY_CERT_BYTES         112 /* one encoded certificate */
/* What a certificate's signature covers: the current form (v2) signs the
 * epoch length too; v1, made by releases before it, does not. */
#define NG_FSKEY_CERT_MSG_BYTES    106
#define NG_FSKEY_CERT_MSG_V1_BYTES 98
#define NG_FSKEY_CERT_TAG          "nsgate-cert-v2"
#define NG_FSKEY_CERT_TAG_V1       "nsgate-cert-v1"

#define NG_FSKEY_SEC_NS           UINT64_C(1000000000)
#define NG_FSKEY_DEFAULT_EPOCH_NS (15 * 60 * NG_FSKEY_SEC_NS)
#define NG_FSKEY_MIN_EPOCH_NS     (10 * NG_FSKEY_SEC_NS)
#define NG_FSKEY_MAX_EPOCH_NS     (7 * 24 * 3600 * NG_FSKEY_SEC_NS)
/* Catching up further than this is refused (a clock set decades ahead would
 * otherwise burn through the key for good, writing gigabytes of certs). */
#define NG_FSKEY_MAX_CATCHUP UINT64_C(1000000)
#define NG_FSKEY_DEFAULT_DIR NSGATE_STATEDIR "/keys"

/* Epoch E's public key and start, signed by epoch E-1's secret (epoch 0: by
 * itself, i.e. the root). */
struct ng_fskey_cert {
    uint64_t epoch;
    uint64_t start_ns;
    uint8_t pk[NG_FSKEY_PK_BYTES];
    uint8_t sig[NG_FSKEY_SIG_BYTES];
};

/* The public part of the key state. */
struct ng_fskey_info {
    uint64_t epoch;
    uint64_t start_ns;
    uint64_t epoch_len_ns;
    uint8_t root_pk[NG_FSKEY_PK_BYTES];
    uint8_t pk[NG_FSKEY_PK_BYTES];
};

/* Warning flags for the caller to print. */
enum {
    /* The directory is on a copy-on-write, snapshotting or log-structured
     * filesystem (btrfs, zfs, overlay, bcachefs, nilfs2, f2fs): overwriting
     * the state in place may leave old secrets in old blocks. */
    NG_FSKEY_WARN_COW_FS = 1,
};

/* What keygen did, for its output and the audit module (CRYPTO_KEY_USER
 * op=create epoch=0 fp=root_pk; with retired_valid also op=destroy for the
 * replaced key: fp=retired.root_pk, epoch=retired.epoch). */
struct ng_fskey_created {
    uint8_t root_pk[NG_FSKEY_PK_BYTES];
    uint64_t start_ns;
    unsigned warnings;
    int retired_valid;
    struct ng_fskey_info retired; /* the replaced state's public part */
};

/* What an advance did: epochs from_epoch+1 .. to_epoch were created (none
 * when equal). The audit module reports each with ng_fskey_read_cert
 * (CRYPTO_KEY_USER op=create epoch=E fp=cert.pk). */
struct ng_fskey_advanced {
    uint64_t from_epoch;
    uint64_t to_epoch;
};

struct ng_fskey;

/* CLOCK_REALTIME in ns. */
uint64_t ng_fskey_now_ns(void);

/* Create key pair 0 in dir (made root-owned 0700 if missing). -EEXIST when
 * keys exist and !force; with force the old certs file moves to
 * retired/ROOTHEX-NOW.certs (it holds the old root key and every cert) and the
 * old state is overwritten with zeros, fsynced and removed. */
int ng_fskey_create(const char *dir, uint64_t epoch_len_ns, int force, uint64_t now_ns,
                    struct ng_fskey_created *ret) NG_MUST_CHECK;

/* Open an existing key directory for a recorder or keygen --advance. Checks
 * the directory and files; reads nothing secret yet. *warnings gets
 * NG_FSKEY_WARN_* flags (may be NULL). */
int ng_fskey_open(const char *dir, struct ng_fskey **ret, unsigned *warnings) NG_MUST_CHECK;
/* Wipe and free. Not to be called in a child forked after ng_fskey_open: the
 * wiped-on-fork pages no longer hold sodium's canary there. */
void ng_fskey_close(struct ng_fskey *k);

/* Take the lock, re-read the state and bring it to the epoch containing
 * now_ns (certifying and wiping every epoch passed). On success the lock stays
 * held and the current secret readable until ng_fskey_unlock; adv (may be
 * NULL) says which epochs were created. -EBADMSG: state or certs corrupt or
 * inconsistent; -ERANGE: now_ns more than NG_FSKEY_MAX_CATCHUP epochs ahead. */
int ng_fskey_lock_current(struct ng_fskey *k, uint64_t now_ns,
                          struct ng_fskey_advanced *adv) NG_MUST_CHECK;
/* Make the secret inaccessible and release the lock. */
void ng_fskey_unlock(struct ng_fskey *k);

/* ng_fskey_lock_current + ng_fskey_unlock: keygen --advance, the timer. */
int ng_fskey_advance(struct ng_fskey *k, uint64_t now_ns,
                     struct ng_fskey_advanced *adv) NG_MUST_CHECK;

/* Sign with the current epoch's secret. Only between ng_fskey_lock_current
 * and ng_fskey_unlock (-EBADFD otherwise). Seals go through ng_seal_sign,
 * which also checks the epoch and time. */
int ng_fskey_sign(const struct ng_fskey *k, const uint8_t *msg, size_t len,
                  uint8_t sig[NG_FSKEY_SIG_BYTES]) NG_MUST_CHECK;

/* The public state as of the last successful ng_fskey_lock_current. */
void ng_fskey_info(const struct ng_fskey *k, struct ng_fskey_info *ret);
/* Read epoch's certificate from the certs file (-ENOENT past the end). */
int ng_fskey_read_cert(const struct ng_fskey *k, uint64_t epoch,
                       struct ng_fskey_cert *ret) NG_MUST_CHECK;

/* For verifiers: the root key, epoch length and all certificates of a key
 * directory, public data only (no ownership checks: auditors verify copies;
 * O_NOFOLLOW still). *certs is malloc'd, free() it. */
int ng_fskey_read_public(const char *dir, uint8_t root_pk[NG_FSKEY_PK_BYTES],
                         uint64_t *epoch_len_ns, struct ng_fskey_cert **certs,
                         size_t *ncerts) NG_MUST_CHECK;

/* Canonical encodings (pure). The signed message is: u32 length of the tag,
 * tag, root public key, epoch u64, public key, start u64, and (v2) the epoch
 * length u64 (all big-endian). epoch_len_ns 0 gives the v1 form, which only
 * verifiers use (for keys made by earlier releases); everything signed now
 * is v2. Returns the message's length. */
size_t ng_fskey_cert_message(const uint8_t root_pk[NG_FSKEY_PK_BYTES],
                             const struct ng_fskey_cert *c, uint64_t epoch_len_ns,
                             uint8_t out[NG_FSKEY_CERT_MSG_BYTES]);
/* A certificate as stored: epoch u64, start u64, pk, sig. */
void ng_fskey_cert_encode(const struct ng_fskey_cert *c, uint8_t out[NG_FSKEY_CERT_BYTES]);
void ng_fskey_cert_decode(const uint8_t in[NG_FSKEY_CERT_BYTES], struct ng_fskey_cert *c);

#endif
