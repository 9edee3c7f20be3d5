/* Filter for replaying recorded output to the reviewer's own terminal
 * (cli.md "nsgate replay"): recorded output is attacker-chosen, so what
 * could act on the reviewer's terminal beyond drawing is removed:
 *   - OSC, DCS, SOS, PM and APC strings (titles, clipboard writes, DECRQSS,
 *     XTGETTCAP, sixel, tmux passthrough), up to their ST or BEL;
 *   - control sequences whose answer the terminal would type back: DA
 *     (CSI c, > c, = c), DSR/CPR (CSI n), window operations and reports
 *     (CSI t), DECREQTPARM (CSI x), DECRQM (CSI $ p), XTVERSION (CSI > q),
 *     XTQMODKEYS (CSI ? m), XTSMGRAPHICS (CSI ? S), kitty keyboard (CSI ? u
 *     and its > < = forms), DECRQCRA (CSI * y), DECRQLP and the locator
 *     (CSI ' | z { w), DECRQPSR (CSI $ w), DECRQTSR (CSI $ u), DECRQUPSS
 *     (CSI & u), DECRQDE (CSI " v), DECRQKT (CSI , w), XTREPORTSGR (CSI # |),
 *     XTREPORTCOLORS (CSI # R), DECSR (CSI + p), DECID (ESC Z), ENQ;
 *   - what acts outside the screen or outlives the replay: media copy (CSI
 *     i in every form: printer controller mode hides what follows), DECSCL
 *     (CSI " p), S7C1T/S8C1T and ANSI levels (ESC SP F G L M N), DECTID,
 *     DECINVM, status-line output (CSI $ } ~), XTMODKEYS (CSI > m), Linux
 *     console settings (CSI ]), and the modes KAM (2) and SRM (12) and the
 *     DEC mouse, focus, bracketed-paste, colour-scheme and resize reports
 *     (9, 1000-1006, 1015, 1016, 2004, 2031, 2048), taken out of an SM/RM
 *     or DECSET/DECRST whose other modes still pass.
 * Everything else (text, colours, cursor movement) passes unchanged. Both
 * 7-bit (ESC [) and 8-bit C1 forms, raw or UTF-8 encoded (U+009B), count.
 * Pure and streaming: a sequence split across two calls is handled. */
#ifndef NSGATE_TERMFILTER_H
#define NSGATE_TERMFILTER_H

#include <stddef.h>
#include <stdint.h>

/* The longest control sequence kept for a decision; longer ones are dropped
 * whole (no harmless sequence is that long). */
#define NG_TERMFILTER_SEQ_MAX 64

struct ng_termfilter {
    int state;
    int osc;         /* the string may also end with BEL */
    int utf8_cont;   /* continuation bytes still expected */
    int c2;          /* a held 0xC2 byte: U+0080..U+009F would follow */
    size_t n, intro; /* bytes held in seq; of which the introducer */
    uint8_t seq[NG_TERMFILTER_SEQ_MAX];
};

void ng_termfilter_init(struct ng_termfilter *f);
/* Filter len bytes of in into out and return the bytes written. out must
 * have room for len + NG_TERMFILTER_SEQ_MAX + 1 bytes (held bytes of an
 * earlier call may be written now). */
size_t ng_termfilter_feed(struct ng_termfilter *f, const uint8_t *in, size_t len, uint8_t *out);

#endif
