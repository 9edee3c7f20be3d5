/* The recorder: what the relay hands every chunk to. It masks password input
 * (recording.md "Input masking"), appends events to the store, and at every
 * tick flushes, seals on the policy's schedule (its sealer: checkpoints and
 * key records at an epoch change, integrity.md property 5) and re-checks the
 * audit trail. One way down: relay -> recorder -> store and sealer; nothing
 * calls back into the command layer. Fail closed: any error ends the session
 * (the relay turns it into exit 74 or 75). */
#ifndef NSGATE_RECORDER_H
#define NSGATE_RECORDER_H

#include "nsgate/audit.h"
#include "nsgate/relay.h"
#include "nsgate/sealer.h"
#include "nsgate/store.h"

#include <regex.h>
#include <stddef.h>

#define NG_MASK_MAX     256
#define NG_LASTLINE_MAX 256

/* How the recorder seals (the session's sealer, opened by its caller and
 * outliving the recorder): every interval_ms at a tick, and at the end. */
struct ng_recorder_sealing {
    struct ng_sealer *sealer; /* NULL: no sealing (unit tests) */
    int64_t interval_ms;
    const char *uuid; /* the session, for the audit trail's checkpoints */
    /* The recorder process's own refused system calls so far (parentpriv.h's
     * ng_parentpriv_refused), read before every seal so that the seal
     * covers the note of them; NULL: none are counted. */
    unsigned long (*refused)(char *name, size_t size);
};

struct ng_recorder {
    struct ng_session *sess;
    const struct ng_audit *audit; /* NULL: no re-check (best-effort, trail unavailable) */
    int audit_required;
    int record_input;
    int pty_master; /* terminal mode: read the slave's termios here; -1 in pipe mode */
    /* The policy's mask_escrow key (32 bytes), or NULL: masked input is then
     * also stored sealed to it ('k' events), else only as stars. */
    const uint8_t *escrow_pk;
    /* masking state */
    regex_t prompt;
    int prompt_ok;
    char lastline[NG_LASTLINE_MAX + 1];
    size_t lastlen;
    int armed; /* output arrived since the last masked stretch */
    int masking;
    size_t masked;
    struct ng_recorder_sealing sealing;
    unsigned long refused_seen;     /* refusals already recorded */
    unsigned long key_records_lost; /* CRYPTO_KEY_USER records not written */
};

int ng_recorder_init(struct ng_recorder *r, struct ng_session *sess, int record_input,
                     int pty_master);
/* The session's last seal (ng_sealer_session_end, with the end event) and
 * the key records of epochs made meanwhile. */
int ng_recorder_end(struct ng_recorder *r, int exit_status, const char *reason) NG_MUST_CHECK;
void ng_recorder_free(struct ng_recorder *r);

/* struct ng_relay_ops callbacks; ctx is the recorder. */
int ng_recorder_record(void *ctx, char kind, const void *data, size_t len);
int ng_recorder_tick(void *ctx, enum ng_end_reason *reason);

/* Pure parts, for unit tests: does the last output line look like a
 * password prompt? Does the terminal state call for masking? */
int ng_recorder_is_prompt(const struct ng_recorder *r);
int ng_recorder_termios_masks(unsigned lflag);
/* Follow the last line of output (what ng_recorder_is_prompt looks at). */
void ng_recorder_track_output(struct ng_recorder *r, const char *p, size_t len);

#endif
