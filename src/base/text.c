/* Escaping of attacker-chosen text for terminals and logs. */
#include "nsgate/text.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t ng_utf8_seq_len(const unsigned char *s, size_t avail)
{
    uint32_t cp;

    return ng_utf8_decode(s, avail, &cp);
}

size_t ng_utf8_decode(const unsigned char *s, size_t avail, uint32_t *ret_cp)
{
    unsigned c = s[0];
    size_t n;
    unsigned min;
    unsigned cp;

    *ret_cp = c;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        min = 0x80;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        min = 0x800;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        min = 0x10000;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (avail < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    /* Overlong forms, surrogates and values past U+10FFFF are invalid. */
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    *ret_cp = cp;
    return n;
}

/* Unicode 15.1, General_Category Cf, Zl and Zp, and the noncharacters. */
static const struct {
    uint32_t lo, hi;
} invisible[] = {
    {0x00ad, 0x00ad},   {0x0600, 0x0605},   {0x061c, 0x061c},   {0x06dd, 0x06dd},
    {0x070f, 0x070f},   {0x0890, 0x0891},   {0x08e2, 0x08e2},   {0x180e, 0x180e},
    {0x200b, 0x200f},   {0x2028, 0x202e},   {0x2060, 0x2064},   {0x2066, 0x206f},
    {0xfdd0, 0xfdef},   {0xfeff, 0xfeff},   {0xfff9, 0xfffb},   {0x110bd, 0x110bd},
    {0x110cd, 0x110cd}, {0x13430, 0x1343f}, {0x1bca0, 0x1bca3}, {0x1d173, 0x1d17a},
    {0xe0001, 0xe0001}, {0xe0020, 0xe007f},
};

int ng_unicode_invisible(uint32_t cp)
{
    if ((cp & 0xfffe) == 0xfffe) /* U+xFFFE and U+xFFFF of every plane */
        return 1;
    for (size_t i = 0; i < sizeof(invisible) / sizeof(invisible[0]); i++)
        if (cp >= invisible[i].lo && cp <= invisible[i].hi)
            return 1;
    return 0;
}

/* A character that is not shown as itself: C1 controls (U+0080..U+009F),
 * and format characters that reorder or hide text (bidi overrides,
 * zero-width characters, line separators). */
static int hidden(uint32_t cp)
{
    return (cp >= 0x80 && cp <= 0x9f) || ng_unicode_invisible(cp);
}

char *ng_escape(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    /* Worst case: every byte becomes \xNN. */
    if (len > (SIZE_MAX - 1) / 4)
        return NULL;
    char *out = malloc(len * 4 + 1);
    size_t o = 0;

    if (!out)
        return NULL;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = ng_utf8_decode(u + i, len - i, &cp);
        if (n == 1 && u[i] >= 0x20 && u[i] != 0x7f && u[i] != '\\') {
            out[o++] = (char)u[i++];
        } else if (n > 1 && !hidden(cp)) {
            memcpy(out + o, u + i, n);
            o += n;
            i += n;
        } else {
            /* Invalid byte, control or hidden character: escape bytewise. */
            size_t m = n ? n : 1;
            for (size_t k = 0; k < m; k++) {
                snprintf(out + o, 5, "\\x%02x", u[i + k]);
                o += 4;
            }
            i += m;
        }
    }
    out[o] = '\0';
    return out;
}

char *ng_escape_str(const char *s)
{
    if (!s)
        return strdup("(null)");
    return ng_escape(s, strlen(s));
}
