/* Showing escrowed masked input (replay --reveal, export --reveal). Pure and
 * streaming: every event of a session is fed in seq order; the framing of
 * docs/store.md "Escrowed input" is checked as it goes, each 'k' event is
 * opened with the escrow secret, and the bytes of one masked stretch are
 * gathered so a reader can show them where the stretch ended.
 *
 * Framing (what the recorder writes): a 'k' event comes right after the 'i'
 * event whose stars it stands for; its data is the sealed box of exactly
 * those bytes, so it is NG_ESCROW_SEAL_BYTES longer than the stars; a
 * stretch holds at most NG_REVEAL_STRETCH_MAX bytes and ends with a
 * "masked N" marker (or, when the session ended inside it, with any event
 * other than 'i' and 'k', or the end). */
#ifndef NSGATE_REVEAL_H
#define NSGATE_REVEAL_H

#include <stddef.h>
#include <stdint.h>

#include "nsgate/escrow.h"
#include "nsgate/store.h"

/* recording.md: a masked stretch ends after 256 bytes (NG_MASK_MAX). */
#define NG_REVEAL_STRETCH_MAX 256

enum {
    NG_REVEAL_OPENED = 1,     /* the event was a 'k' event, opened into plain[] */
    NG_REVEAL_STRETCH_END = 2 /* a stretch ended before this event: done[] */
};

struct ng_reveal {
    const struct ng_escrow_secret *key;
    size_t prev_stars; /* the event before was 'i' of this many stars (0: not) */
    int64_t prev_seq;
    uint8_t plain[NG_REVEAL_STRETCH_MAX]; /* the box just opened */
    size_t plain_len;
    uint8_t stretch[NG_REVEAL_STRETCH_MAX]; /* the stretch so far */
    size_t stretch_len;
    uint8_t done[NG_REVEAL_STRETCH_MAX]; /* the stretch that just ended */
    size_t done_len;
    int64_t bad_seq; /* the event an error is about (0: no error) */
};

void ng_reveal_init(struct ng_reveal *r, const struct ng_escrow_secret *key);

/* Feed the next event. Returns a mask of NG_REVEAL_OPENED and
 * NG_REVEAL_STRETCH_END (0: nothing to show), or
 *   -EPROTO   a 'k' event where the framing does not allow one
 *   -EBADMSG  a box that does not open: another key, or damaged
 * with r->bad_seq set. Nothing is revealed from a box that does not open. */
int ng_reveal_feed(struct ng_reveal *r, const struct ng_event *ev) NG_MUST_CHECK;

/* At the end of the events: NG_REVEAL_STRETCH_END when a stretch was still
 * open (done[] holds it), else 0. */
int ng_reveal_finish(struct ng_reveal *r);

/* Is ev the recorder's "masked N" marker? */
int ng_reveal_is_mask_marker(const struct ng_event *ev);

/* Is p (len > 0) all '*'? */
int ng_reveal_all_stars(const uint8_t *p, size_t len);

#endif
