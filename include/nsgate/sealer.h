/* The recorder's side of sealing (integrity.md properties 3-5): seals a
 * session's hash chain at its start, at least every seal_interval while it
 * runs (a heartbeat seal when nothing new was written) and at its end, keeps
 * the host-wide ledger (start, checkpoint at each epoch change, end) sealed,
 * and copies the key chain's certificates into the store.
 *
 * MUST: the epoch secret is readable only between ng_fskey_lock_current and
 * ng_fskey_unlock inside one call here; between calls no secret is in memory
 * (fskey.h). ng_sealer_open reads only the public part of the key state;
 * the secret is first read by the session's first seal, which nsgate makes
 * after the entering child is forked, so the child never holds it.
 *
 * Every function returns 0 (or 1 where said) or a negative errno and never
 * prints; any failure means the session can no longer be sealed, and the
 * recorder ends it (exit 74). -ENOENT from ng_sealer_open: no key directory
 * or no keys in it (keygen was never run): no session without sealing. */
#ifndef NSGATE_SEALER_H
#define NSGATE_SEALER_H

#include <stdint.h>

#include "nsgate/fskey.h"
#include "nsgate/store.h"
#include "nsgate/util.h"

struct ng_sealer;

/* What ng_sealer_tick reports when the key epoch changed since this
 * session's previous seal: the caller sends the TRUSTED_APP checkpoint
 * (uuid, seqno=seq, head, epoch=new_epoch) and, for each epoch this process
 * certified (created_from+1 .. created_to, none when equal: the timer or
 * another recorder made them), CRYPTO_KEY_USER op=create epoch=E fp=PK, the
 * newest one's pk being cert_fp (others: ng_sealer_read_cert). */
struct ng_sealer_epoch_change {
    uint64_t old_epoch, new_epoch;
    int64_t seq;               /* this session's checkpoint: last seq sealed */
    uint8_t head[NG_HASH_LEN]; /* and its chain head */
    uint64_t cert_epoch;       /* = new_epoch */
    uint8_t cert_fp[NG_FSKEY_PK_BYTES];
    uint64_t created_from, created_to;
};

/* Open the key directory (nothing secret read) and copy the root and every
 * certificate into st. st must outlive the sealer. */
int ng_sealer_open(struct ng_store *st, const char *keys_dir, struct ng_sealer **ret) NG_MUST_CHECK;

/* Right after ng_store_session_begin: the ledger's start entry (value: the
 * header hash), a ledger seal, and the session's first seal (seq 0, the
 * header). */
int ng_sealer_session_start(struct ng_sealer *sl, struct ng_session *sess) NG_MUST_CHECK;

/* Begin a session and seal its start in one transaction: the header row,
 * the ledger start entry and the first seals of the session and the ledger
 * (the secret is read here: call it after the entering child is forked).
 * A recorder killed at any point leaves either all of it or none. */
int ng_sealer_session_open(struct ng_sealer *sl, const struct ng_session_header *h,
                           struct ng_session **ret) NG_MUST_CHECK;

/* At least every seal_interval, also when idle: flush, seal what is
 * committed. Returns 1 and fills *chg (may be NULL) when the epoch changed
 * since this session's previous seal (a ledger checkpoint was appended and
 * sealed), else 0. seal_interval_ms is checked for range only (the verifier
 * applies the policy's bound). */
int ng_sealer_tick(struct ng_sealer *sl, struct ng_session *sess, int64_t seal_interval_ms,
                   struct ng_sealer_epoch_change *chg) NG_MUST_CHECK;

/* ng_store_session_end (the 'x' event), the final seal over it, the ledger's
 * end entry (value: the final head) and a ledger seal. When the store could
 * not write the 'x' event, what was committed is still sealed and the
 * store's error returned. The session is forgotten by the sealer either way;
 * free it with ng_store_session_free afterwards. */
int ng_sealer_session_end(struct ng_sealer *sl, struct ng_session *sess, int exit_status,
                          const char *reason) NG_MUST_CHECK;

/* Epochs certified by this sealer that no ng_sealer_tick reported yet (at
 * session start or end): *from+1 .. *to; cleared. */
void ng_sealer_take_created(struct ng_sealer *sl, uint64_t *from, uint64_t *to);

/* A certificate of the key chain (public), e.g. for the audit fp. */
int ng_sealer_read_cert(const struct ng_sealer *sl, uint64_t epoch,
                        struct ng_fskey_cert *ret) NG_MUST_CHECK;

/* NULL is fine. Does not close the store. */
void ng_sealer_close(struct ng_sealer *sl);

#endif
