/* Recording of the relayed bytes (see recorder.h). */
#include "recorder_int.h"
#include "nsgate/escrow.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>

/* recording.md: sudo's passprompt_regex, case-insensitive. */
static const char prompt_re[] = "(password|passphrase|pin)[^\n]*:[ \t]*$";

int ng_recorder_init(struct ng_recorder *r, struct ng_session *sess, int record_input,
                     int pty_master)
{
    memset(r, 0, sizeof(*r));
    r->sess = sess;
    r->record_input = record_input;
    r->pty_master = pty_master;
    r->armed = 1;
    if (regcomp(&r->prompt, prompt_re, REG_EXTENDED | REG_ICASE | REG_NOSUB) != 0)
        return -EINVAL;
    r->prompt_ok = 1;
    return 0;
}

void ng_recorder_free(struct ng_recorder *r)
{
    if (r->prompt_ok)
        regfree(&r->prompt);
    r->prompt_ok = 0;
}

int ng_recorder_termios_masks(unsigned lflag)
{
    /* The kernel's own rule for password input in tty auditing. */
    return !(lflag & ECHO) && (lflag & ICANON);
}

int ng_recorder_is_prompt(const struct ng_recorder *r)
{
    return r->prompt_ok && regexec(&r->prompt, r->lastline, 0, NULL, 0) == 0;
}

/* Keep the last line of output (its last NG_LASTLINE_MAX bytes), NULs made
 * harmless for regexec. Only the chunk's tail after its last newline
 * matters, so the cost is bounded per chunk, not per byte. */
void ng_recorder_track_output(struct ng_recorder *r, const char *p, size_t len)
{
    const char *nl = memrchr(p, '\n', len);
    if (nl) {
        r->lastlen = 0;
        len -= (size_t)(nl + 1 - p);
        p = nl + 1;
    }
    if (len >= NG_LASTLINE_MAX) {
        p += len - NG_LASTLINE_MAX;
        len = NG_LASTLINE_MAX;
        r->lastlen = 0;
    } else if (r->lastlen + len > NG_LASTLINE_MAX) {
        size_t drop = r->lastlen + len - NG_LASTLINE_MAX;
        memmove(r->lastline, r->lastline + drop, r->lastlen - drop);
        r->lastlen -= drop;
    }
    for (size_t i = 0; i < len; i++)
        r->lastline[r->lastlen++] = p[i] ? p[i] : ' ';
    r->lastline[r->lastlen] = '\0';
}

static int end_mask(struct ng_recorder *r)
{
    char m[32];
    if (!r->masking)
        return 0;
    r->masking = 0;
    r->armed = 0; /* no new stretch before new output: typed-ahead commands are kept */
    int n = snprintf(m, sizeof(m), "masked %zu", r->masked);
    return ng_store_event(r->sess, 'm', m, (size_t)n);
}

static int should_mask(struct ng_recorder *r)
{
    struct termios t;
    if (r->pty_master < 0 || !r->armed || tcgetattr(r->pty_master, &t) < 0)
        return 0;
    return ng_recorder_termios_masks(t.c_lflag) && ng_recorder_is_prompt(r);
}

/* One masked chunk: its stars, then (with an escrow key) the sealed box of
 * the exact bytes in a 'k' event right behind them (docs/store.md "Escrowed
 * input"). Both are queued before the relay passes the bytes on, so nothing
 * masked reaches the program unless its box is on record with it. */
static int record_masked(struct ng_recorder *r, const char *p, size_t n)
{
    char stars[NG_MASK_MAX];
    uint8_t box[NG_MASK_MAX + NG_ESCROW_SEAL_BYTES];

    memset(stars, '*', n);
    int e = ng_store_event(r->sess, 'i', stars, n);
    if (e < 0 || !r->escrow_pk)
        return e;
    e = ng_escrow_seal(r->escrow_pk, p, n, box);
    if (e == 0)
        e = ng_store_event(r->sess, 'k', box, n + NG_ESCROW_SEAL_BYTES);
    return e;
}

static int record_input(struct ng_recorder *r, const char *p, size_t len)
{
    size_t i = 0;

    while (i < len) {
        if (!r->masking && should_mask(r)) {
            r->masking = 1;
            r->masked = 0;
        }
        if (!r->masking) {
            /* Unmasked up to the end of the chunk: a new stretch can only
             * start after output, which cannot arrive inside this chunk. */
            return ng_store_event(r->sess, 'i', p + i, len - i);
        }
        size_t n = 0;
        while (i + n < len && p[i + n] != '\r' && p[i + n] != '\n' && r->masked + n < NG_MASK_MAX)
            n++;
        int e = n ? record_masked(r, p + i, n) : 0;
        r->masked += n;
        i += n;
        if (e == 0 && (i < len || r->masked == NG_MASK_MAX))
            e = end_mask(r); /* CR/LF reached, or 256 bytes */
        if (e < 0)
            return e;
    }
    return 0;
}

int ng_recorder_record(void *ctx, char kind, const void *data, size_t len)
{
    struct ng_recorder *r = ctx;
    int e;

    switch (kind) {
    case 'i':
        if (!r->record_input)
            return 0;
        if (r->pty_master < 0) /* pipe input is never masked */
            return ng_store_event(r->sess, 'i', data, len);
        return record_input(r, data, len);
    case 'o':
    case 'e':
        if ((e = end_mask(r)) < 0)
            return e;
        r->armed = 1;
        if (r->pty_master >= 0) /* prompts matter only in terminal mode */
            ng_recorder_track_output(r, data, len);
        return ng_store_event(r->sess, kind, data, len);
    default:
        return ng_store_event(r->sess, kind, data, len);
    }
}

int ng_recorder_tick(void *ctx, enum ng_end_reason *reason)
{
    struct ng_recorder *r = ctx;
    const char *why = NULL;
    int e = ng_store_flush(r->sess);

    if (e == 0)
        e = ng_recorder_seal(r);
    if (e < 0) {
        *reason = NG_END_RECORD_FAIL;
        return e;
    }
    /* audit.md: the trail is re-checked at every seal; lost = end now. */
    if (r->audit && r->audit_required && ng_audit_still_available(r->audit, &why) < 0) {
        *reason = NG_END_AUDIT_LOST;
        return -ENOLINK;
    }
    return 0;
}
