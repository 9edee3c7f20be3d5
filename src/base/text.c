/* Escaping of attacker-chosen text for terminals and logs. */
#include "nsgate/text.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t ng_utf8_seq_len(const unsigned char *s, size_t avail)
{
    unsigned c = s[0];
    size_t n;
    unsigned min;
    unsigned cp;

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
    return n;
}

static int is_c1(const unsigned char *s, size_t n)
{
    /* U+0080..U+009F encode as C2 80..C2 9F. */
    return n == 2 && s[0] == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f;
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
        size_t n = ng_utf8_seq_len(u + i, len - i);
        if (n == 1 && u[i] >= 0x20 && u[i] != 0x7f && u[i] != '\\') {
            out[o++] = (char)u[i++];
        } else if (n > 1 && !is_c1(u + i, n)) {
            memcpy(out + o, u + i, n);
            o += n;
            i += n;
        } else {
            /* Invalid byte, control character or C1 sequence: escape bytewise. */
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
