/* Terminal-safe replay filter (termfilter.h). A small state machine after
 * the DEC/ECMA-48 parser model (vt100.net "A parser for DEC's ANSI-compatible
 * video terminals"), reduced to what is needed to find string controls and
 * control sequences and decide on each one. */
#include "nsgate/termfilter.h"

#include <string.h>

enum { GROUND = 0, ESC, CSI, CSI_DROP, STR, STR_ESC };

void ng_termfilter_init(struct ng_termfilter *f)
{
    memset(f, 0, sizeof(*f));
}

static int has(const uint8_t *p, size_t n, uint8_t c)
{
    return memchr(p, c, n) != NULL;
}

/* Would the terminal answer this sequence (or act outside the screen)? p..n
 * are the bytes after the introducer, the final byte last. */
static int csi_is_query(const uint8_t *p, size_t n)
{
    uint8_t fin = p[n - 1];
    uint8_t priv = n > 1 && p[0] >= '<' && p[0] <= '?' ? p[0] : 0;
    size_t body = n - 1;

    switch (fin) {
    case 'c': /* DA1, DA2 (>), DA3 (=) */
    case 'n': /* DSR, CPR, DECDSR */
    case 't': /* window manipulation and reports */
    case 'x': /* DECREQTPARM */
        return 1;
    case 'p':
        return has(p, body, '$'); /* DECRQM */
    case 'q':
        return priv == '>'; /* XTVERSION */
    case 'm':
    case 'S':
    case 'u':
        return priv == '?'; /* XTQMODKEYS, XTSMGRAPHICS, kitty keyboard query */
    case 'y':
        return has(p, body, '*'); /* DECRQCRA */
    case '|':
        return has(p, body, '\''); /* DECRQLP */
    default:
        return 0;
    }
}

static size_t emit(uint8_t *out, size_t o, const uint8_t *p, size_t n)
{
    memcpy(out + o, p, n);
    return o + n;
}

static void start_seq(struct ng_termfilter *f, int state, const uint8_t *intro, size_t n)
{
    f->state = state;
    memcpy(f->seq, intro, n);
    f->n = f->intro = n;
}

/* An 8-bit control, raw or UTF-8 encoded (intro holds its bytes). */
static size_t c1(struct ng_termfilter *f, uint8_t c, const uint8_t *intro, size_t n, uint8_t *out,
                 size_t o)
{
    switch (c) {
    case 0x9b:
        start_seq(f, CSI, intro, n);
        return o;
    case 0x9d:
        f->state = STR;
        f->osc = 1;
        return o;
    case 0x90:
    case 0x98:
    case 0x9e:
    case 0x9f:
        f->state = STR;
        f->osc = 0;
        return o;
    case 0x9a: /* DECID */
    case 0x9c: /* a stray ST */
        return o;
    default:
        return emit(out, o, intro, n);
    }
}

static size_t ground(struct ng_termfilter *f, uint8_t b, uint8_t *out, size_t o)
{
    if (f->c2) {
        uint8_t pair[2] = {0xc2, b};
        f->c2 = 0;
        if (b >= 0x80 && b <= 0x9f)
            return c1(f, b, pair, 2, out, o);
        if (b >= 0xa0 && b <= 0xbf)
            return emit(out, o, pair, 2);
        out[o++] = 0xc2; /* invalid: pass it, then b on its own */
    }
    if (f->utf8_cont > 0 && b >= 0x80 && b <= 0xbf) {
        f->utf8_cont--;
        out[o++] = b;
        return o;
    }
    f->utf8_cont = 0;
    if (b == 0xc2) {
        f->c2 = 1;
        return o;
    }
    if (b >= 0x80 && b <= 0x9f)
        return c1(f, b, &b, 1, out, o);
    if (b >= 0xc3 && b <= 0xf4)
        f->utf8_cont = b < 0xe0 ? 1 : b < 0xf0 ? 2 : 3;
    if (b == 0x1b) {
        f->state = ESC;
        return o;
    }
    if (b == 0x05) /* ENQ: the answerback message */
        return o;
    out[o++] = b;
    return o;
}

static size_t esc(struct ng_termfilter *f, uint8_t b, uint8_t *out, size_t o)
{
    static const uint8_t csi[2] = {0x1b, '['};

    f->state = GROUND;
    switch (b) {
    case '[':
        start_seq(f, CSI, csi, 2);
        return o;
    case ']':
    case 'P':
    case 'X':
    case '^':
    case '_':
        f->state = STR;
        f->osc = b == ']';
        return o;
    case 'Z':  /* DECID */
    case '\\': /* a stray ST */
        return o;
    case 0x1b:
        f->state = ESC;
        return o;
    default:
        break;
    }
    if (b < 0x20 && b != 0x18 && b != 0x1a) {
        f->state = ESC; /* C0 inside a sequence is executed, the sequence goes on */
        out[o++] = b;
        return o;
    }
    if (b != 0x18 && b != 0x1a) /* CAN and SUB cancel the sequence */
        out[o++] = 0x1b;
    out[o++] = b;
    return o;
}

/* Returns 1 when b must be processed again in the new state. */
static int csi(struct ng_termfilter *f, uint8_t b, uint8_t *out, size_t *o)
{
    if (b >= 0x20 && b <= 0x3f) {
        if (f->state == CSI && f->n < sizeof(f->seq))
            f->seq[f->n++] = b;
        else
            f->state = CSI_DROP; /* too long to be anything harmless */
        return 0;
    }
    if (b >= 0x40 && b <= 0x7e) {
        if (f->state == CSI && f->n < sizeof(f->seq)) {
            f->seq[f->n++] = b;
            if (!csi_is_query(f->seq + f->intro, f->n - f->intro))
                *o = emit(out, *o, f->seq, f->n);
        }
        f->state = GROUND;
        return 0;
    }
    if (b == 0x1b || b >= 0x80) { /* the sequence is abandoned */
        f->state = GROUND;
        return 1;
    }
    if (b == 0x18 || b == 0x1a) {
        f->state = GROUND;
        out[(*o)++] = b;
    } else if (b != 0x7f) {
        out[(*o)++] = b;
    }
    return 0;
}

static void string(struct ng_termfilter *f, uint8_t b)
{
    if (f->state == STR_ESC) {
        f->state = b == '\\' ? GROUND : ESC; /* ESC other than ST ends the string too */
        return;
    }
    if (b == 0x1b)
        f->state = STR_ESC;
    else if (b == 0x9c || b == 0x18 || b == 0x1a || (f->osc && b == 0x07))
        f->state = GROUND;
}

size_t ng_termfilter_feed(struct ng_termfilter *f, const uint8_t *in, size_t len, uint8_t *out)
{
    size_t o = 0;

    for (size_t i = 0; i < len; i++) {
        uint8_t b = in[i];
        switch (f->state) {
        case GROUND:
            o = ground(f, b, out, o);
            break;
        case ESC:
            o = esc(f, b, out, o);
            break;
        case CSI:
        case CSI_DROP:
            if (csi(f, b, out, &o))
                i--; /* again, in the new state */
            break;
        case STR:
            string(f, b);
            break;
        case STR_ESC: {
            string(f, b);
            if (f->state == ESC)
                i--; /* the ESC starts a new sequence with b */
            break;
        }
        default:
            f->state = GROUND;
            break;
        }
    }
    return o;
}
