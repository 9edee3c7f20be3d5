/* The recorder's sealing (recorder.h): on the policy's schedule at a tick,
 * and at the session's end; at an epoch change, the session's checkpoint
 * and the new keys go to the audit trail (integrity.md property 5,
 * audit.md). */
#include "recorder_int.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>

/* System calls the recorder's own filter refused since the last look: an
 * 'm' event, so that a review sees them; before the seal, which covers it. */
static int note_refusals(struct ng_recorder *r)
{
    char name[32], m[96];

    if (!r->sealing.refused)
        return 0;
    unsigned long n = r->sealing.refused(name, sizeof(name));
    if (n == r->refused_seen)
        return 0;
    r->refused_seen = n;
    int len =
        snprintf(m, sizeof(m), "recorder: seccomp refused %lu system calls, last %s", n, name);
    return ng_store_event(r->sess, 'm', m, (size_t)len);
}

/* CRYPTO_KEY_USER for every epoch key the sealer made (epochs from+1..to).
 * Best effort: the checkpoint, not the key record, is what verify needs;
 * a record not written is counted for the end's warning. */
static void audit_keys(struct ng_recorder *r, uint64_t from, uint64_t to)
{
    struct ng_fskey_cert c;
    char fp[65];

    for (uint64_t e = from + 1; r->audit && e <= to && e > from; e++) {
        if (ng_sealer_read_cert(r->sealing.sealer, e, &c) < 0)
            continue;
        sodium_bin2hex(fp, sizeof(fp), c.pk, sizeof(c.pk));
        struct ng_audit_key k = {.op = NG_AUDIT_KEY_CREATE, .fp = fp, .epoch = e};
        if (ng_audit_log_key(r->audit, &k) < 0)
            r->key_records_lost++;
    }
}

/* Called at every tick after the flush: a seal when one is due. */
int ng_recorder_seal(struct ng_recorder *r)
{
    struct ng_sealer_epoch_change chg;
    char head[65];

    int e = note_refusals(r);
    if (e < 0 || !r->sealing.sealer)
        return e;
    e = ng_sealer_tick(r->sealing.sealer, r->sess, r->sealing.interval_ms, &chg);
    if (e <= 0)
        return e;
    sodium_bin2hex(head, sizeof(head), chg.head, sizeof(chg.head));
    struct ng_audit_checkpoint cp = {
        .uuid = r->sealing.uuid, .seqno = (uint64_t)chg.seq, .head = head, .epoch = chg.new_epoch};
    if (r->audit && ng_audit_log_checkpoint(r->audit, &cp) < 0 && r->audit_required)
        return -ENOLINK;
    audit_keys(r, chg.created_from, chg.created_to);
    return 0;
}

int ng_recorder_end(struct ng_recorder *r, int exit_status, const char *reason)
{
    uint64_t from = 0, to = 0;
    int e = note_refusals(r);

    if (!r->sealing.sealer)
        return e;
    int end = ng_sealer_session_end(r->sealing.sealer, r->sess, exit_status, reason);

    ng_sealer_take_created(r->sealing.sealer, &from, &to);
    audit_keys(r, from, to);
    return e < 0 ? e : end;
}
