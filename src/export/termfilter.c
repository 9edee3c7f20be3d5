/* Terminal-safe replay filter (termfilter.h). A small state machine after
 * the DEC/ECMA-48 parser model (vt100.net "A parser for DEC's ANSI-compatible
 * video terminals"), reduced to what is needed to find string controls and
 * control sequences and decide on each one. */
#include "nsgate/termfilter.h"

#include <string.h>

enum { GROUND = 0, ESC, ESC_INT, CSI, CSI_DROP, STR, STR_ESC };

void ng_termfilter_init(struct ng_termfilter *f)
{
    memset(f, 0, sizeof(*f));
}

static size_t emit(uint8_t *out, size_t o, const uint8_t *p, size_t n)
{
    memcpy(out + o, p, n);
    return o + n;
}

/* A control sequence split into its parts: the private marker (< = > ?),
 * the parameter bytes after it, the intermediates (the last one kept: no
 * sequence that matters has two) and the final byte. */
struct csi_parts {
    uint8_t priv, inter, fin;
    const uint8_t *par;
    size_t npar;
};

static void csi_split(const uint8_t *p, size_t n, struct csi_parts *c)
{
    size_t i = 0;

    memset(c, 0, sizeof(*c));
    c->fin = p[n - 1];
    if (n > 1 && p[0] >= '<' && p[0] <= '?')
        c->priv = p[i++];
    c->par = p + i;
    while (i < n - 1 && p[i] >= 0x30 && p[i] <= 0x3f)
        i++;
    c->npar = (size_t)(p + i - c->par);
    for (; i < n - 1; i++)
        c->inter = p[i];
}

/* Would the terminal answer this sequence, act outside the screen, or keep
 * a state that outlives the replay and changes what the reviewer's own
 * keyboard or terminal does next? */
static int csi_drop(const struct csi_parts *c)
{
    switch (c->fin) {
    case 'c': /* DA1, DA2 (>), DA3 (=) */
    case 'n': /* DSR, CPR, DECDSR */
    case 't': /* window manipulation and reports */
    case 'x': /* DECREQTPARM */
    case 'i': /* MC media copy: printer controller mode hides what follows */
    case ']': /* Linux console settings (blanking, bell, power saving) */
        return 1;
    case 'p': /* DECRQM ($), DECSCL ("), DECSR (+); DECSTR (!) is a soft reset */
        return c->inter && c->inter != '!';
    case 'q':
        return c->priv == '>' || c->inter == ','; /* XTVERSION, DECTID */
    case 'm':
        return c->priv != 0; /* XTMODKEYS, XTQMODKEYS */
    case 'S':
        return c->priv == '?'; /* XTSMGRAPHICS */
    case 'u':                  /* kitty keyboard (? > < =), DECRQTSR ($), DECRQUPSS (&); SCORC */
        return c->priv || c->inter;
    case 'v':
        return c->inter == '"'; /* DECRQDE */
    case 'w':
        return c->inter == '$' || c->inter == ',' || c->inter == '\''; /* DECRQPSR, DECRQKT,
                                                                         DECEFR */
    case 'y':
        return c->inter == '*'; /* DECRQCRA */
    case 'z':
        return c->inter == '*' || c->inter == '\''; /* DECINVM, DECELR */
    case '{':
        return c->inter == '\''; /* DECSLE */
    case '|':
        return c->inter == '\'' || c->inter == '#'; /* DECRQLP, XTREPORTSGR */
    case 'R':
        return c->inter == '#'; /* XTREPORTCOLORS */
    case '}':
    case '~':
        return c->inter == '$'; /* DECSASD, DECSSDT: output to the status line */
    default:
        return 0;
    }
}

/* Modes whose setting outlives the replay and acts on the reviewer:
 * ANSI KAM (2, locks the keyboard) and SRM (12, local echo); DEC mouse and
 * focus reporting, bracketed paste, colour-scheme and resize reports. */
static int mode_refused(int dec, unsigned long m)
{
    if (!dec)
        return m == 2 || m == 12;
    return m == 9 || (m >= 1000 && m <= 1006) || m == 1015 || m == 1016 || m == 2004 || m == 2031 ||
           m == 2048;
}

/* SM/RM and DECSET/DECRST: written again without the refused modes (the
 * rest, such as the alternate screen, still draws as recorded). */
static size_t csi_modes(const struct ng_termfilter *f, const struct csi_parts *c, uint8_t *out,
                        size_t o)
{
    uint8_t keep[NG_TERMFILTER_SEQ_MAX];
    size_t k = 0, kept = 0;

    if (c->inter || (c->priv && c->priv != '?'))
        return o;
    for (size_t i = 0; i <= c->npar;) {
        size_t j = i;
        unsigned long m = 0;
        while (j < c->npar && c->par[j] >= '0' && c->par[j] <= '9' && m < 100000)
            m = m * 10 + (unsigned long)(c->par[j++] - '0');
        if (j < c->npar && c->par[j] != ';')
            return o; /* not a plain list of numbers */
        if (!mode_refused(c->priv == '?', m) && j > i) {
            if (kept++)
                keep[k++] = ';';
            memcpy(keep + k, c->par + i, j - i);
            k += j - i;
        }
        i = j + 1;
    }
    if (kept == 0 && c->npar > 0)
        return o;
    o = emit(out, o, f->seq, f->intro);
    if (c->priv)
        out[o++] = c->priv;
    o = emit(out, o, keep, k);
    out[o++] = c->fin;
    return o;
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
    if (b >= 0x20 && b <= 0x2f) { /* an intermediate: decided at the final byte */
        uint8_t intro[2] = {0x1b, b};
        start_seq(f, ESC_INT, intro, 2);
        return o;
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

/* ESC, intermediates, final (nF escape sequences). S7C1T, S8C1T and the
 * ANSI conformance levels (ESC SP F, G, L, M, N) change how the terminal
 * answers from then on: dropped. Character sets and DECALN draw: kept.
 * Returns 1 when b must be processed again in the new state. */
static int esc_int(struct ng_termfilter *f, uint8_t b, uint8_t *out, size_t *o)
{
    if (b >= 0x20 && b <= 0x2f) {
        if (f->n < sizeof(f->seq))
            f->seq[f->n++] = b;
        else
            f->state = GROUND; /* nothing harmless is that long: dropped */
        return 0;
    }
    if (b >= 0x30 && b <= 0x7e) {
        f->state = GROUND;
        if (!(f->n == 2 && f->seq[1] == ' ' && memchr("FGLMN", b, 5))) {
            *o = emit(out, *o, f->seq, f->n);
            out[(*o)++] = b;
        }
        return 0;
    }
    if (b == 0x1b || b >= 0x80) { /* abandoned */
        f->state = GROUND;
        return 1;
    }
    if (b == 0x18 || b == 0x1a)
        f->state = GROUND;
    if (b != 0x7f)
        out[(*o)++] = b; /* C0 inside a sequence is executed; CAN, SUB cancel */
    return 0;
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
            struct csi_parts c;
            f->seq[f->n++] = b;
            csi_split(f->seq + f->intro, f->n - f->intro, &c);
            if (c.fin == 'h' || c.fin == 'l')
                *o = csi_modes(f, &c, out, *o);
            else if (!csi_drop(&c))
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
        case ESC_INT:
            if (esc_int(f, b, out, &o))
                i--;
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
