/* Framing check and opening of escrowed input for readers (see reveal.h). */
#include "nsgate/reveal.h"

#include <errno.h>
#include <string.h>

void ng_reveal_init(struct ng_reveal *r, const struct ng_escrow_secret *key)
{
    memset(r, 0, sizeof(*r));
    r->key = key;
}

int ng_reveal_all_stars(const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (p[i] != '*')
            return 0;
    return len > 0;
}

int ng_reveal_is_mask_marker(const struct ng_event *ev)
{
    return ev->kind == 'm' && ev->len > 7 && memcmp(ev->data, "masked ", 7) == 0;
}

static int end_stretch(struct ng_reveal *r)
{
    if (r->stretch_len == 0)
        return 0;
    memcpy(r->done, r->stretch, r->stretch_len);
    r->done_len = r->stretch_len;
    r->stretch_len = 0;
    return NG_REVEAL_STRETCH_END;
}

/* A 'k' event: right after the stars it stands for, one box per 'i'. */
static int open_box(struct ng_reveal *r, const struct ng_event *ev)
{
    size_t n = r->prev_stars;

    r->prev_stars = 0; /* a second 'k' for the same stars is out of frame */
    if (n == 0 || ev->len != n + NG_ESCROW_SEAL_BYTES || r->stretch_len + n > sizeof(r->stretch)) {
        r->bad_seq = ev->seq;
        return -EPROTO;
    }
    ssize_t got = ng_escrow_open(r->key, ev->data, ev->len, r->plain);
    if (got < 0) {
        r->bad_seq = ev->seq;
        return (int)got;
    }
    r->plain_len = (size_t)got;
    memcpy(r->stretch + r->stretch_len, r->plain, r->plain_len);
    r->stretch_len += r->plain_len;
    return NG_REVEAL_OPENED;
}

int ng_reveal_feed(struct ng_reveal *r, const struct ng_event *ev)
{
    int f = 0;

    r->done_len = 0;
    r->plain_len = 0;
    if (ev->kind == 'k')
        return open_box(r, ev);
    if (ev->kind != 'i')
        f = end_stretch(r);
    /* Masked chunks are at most NG_MASK_MAX bytes: a longer run of stars
     * was typed as such and has no box. */
    r->prev_stars = ev->kind == 'i' && ev->len <= NG_REVEAL_STRETCH_MAX &&
                            ng_reveal_all_stars(ev->data, ev->len)
                        ? ev->len
                        : 0;
    r->prev_seq = ev->seq;
    return f;
}

int ng_reveal_finish(struct ng_reveal *r)
{
    r->done_len = 0;
    return end_stretch(r);
}
