/* The characters a policy line may hold (policy.md "Characters"). A rule
 * must mean what its reader sees: a byte that does not show (CR from a
 * Windows editor, VT, a no-break or zero-width space, a bidi override) or a
 * letter that only looks like ASCII would make a deny rule silently stop
 * matching, and a deny that does not match fails open. So:
 *   - everywhere: valid UTF-8, no control character but TAB (C0, DEL, C1),
 *     no invisible character (format characters, line separators);
 *   - outside comments (headers, keys, values): printable ASCII and TAB.
 * Pure: the parser reports what this finds with the line and column. */
#include "policy_int.h"
#include "nsgate/text.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *c0_name(unsigned char c)
{
    static const char *const names[0x20] = {
        [0x00] = "NUL",           [0x07] = "bell, BEL",
        [0x08] = "backspace, BS", [0x0b] = "vertical tab, VT",
        [0x0c] = "form feed, FF", [0x0d] = "carriage return, CR",
        [0x1b] = "escape, ESC",
    };
    if (c == 0x7f)
        return "delete, DEL";
    return c < 0x20 && names[c] ? names[c] : NULL;
}

/* What a reader would not see, or would take for something else. */
static const char *cp_name(uint32_t cp)
{
    static const struct {
        uint32_t lo, hi;
        const char *name;
    } names[] = {
        {0x00a0, 0x00a0, "no-break space"},
        {0x00ad, 0x00ad, "soft hyphen"},
        {0x2000, 0x200a, "a Unicode space"},
        {0x200b, 0x200b, "zero-width space"},
        {0x200c, 0x200c, "zero-width non-joiner"},
        {0x200d, 0x200d, "zero-width joiner"},
        {0x200e, 0x200f, "a bidi mark"},
        {0x2028, 0x2029, "a line or paragraph separator"},
        {0x202a, 0x202e, "a bidi embedding or override"},
        {0x202f, 0x202f, "narrow no-break space"},
        {0x205f, 0x205f, "a Unicode space"},
        {0x2060, 0x2060, "word joiner"},
        {0x2066, 0x2069, "a bidi isolate"},
        {0x3000, 0x3000, "ideographic space"},
        {0xfeff, 0xfeff, "zero-width no-break space, or a byte order mark"},
    };
    for (size_t i = 0; i < NG_ARRAY_SIZE(names); i++)
        if (cp >= names[i].lo && cp <= names[i].hi)
            return names[i].name;
    return ng_unicode_invisible(cp) ? "an invisible format character" : NULL;
}

/* Why the invalid sequence at s is invalid (s[0] >= 0x80). */
static void bad_utf8(const unsigned char *s, size_t avail, char *msg, size_t msgsz)
{
    const char *why = "a byte that cannot start a character";

    if (s[0] >= 0x80 && s[0] <= 0xbf)
        why = "a continuation byte with no character to continue";
    else if (s[0] == 0xc0 || s[0] == 0xc1 || (s[0] == 0xe0 && avail > 1 && s[1] < 0xa0) ||
             (s[0] == 0xf0 && avail > 1 && s[1] < 0x90))
        why = "an overlong encoding";
    else if (s[0] == 0xed && avail > 1 && s[1] >= 0xa0)
        why = "an encoded surrogate";
    else if (s[0] >= 0xc2 && s[0] <= 0xf4)
        why = "a cut or malformed multi-byte character";
    else if (s[0] > 0xf4)
        why = "a byte UTF-8 never uses";
    snprintf(msg, msgsz, "invalid UTF-8 (byte 0x%02x: %s)", s[0], why);
}

static void control(unsigned char c, size_t col, size_t n, char *msg, size_t msgsz)
{
    const char *name = c0_name(c);

    if (c == '\r' && col == n)
        snprintf(msg, msgsz,
                 "carriage return (CR) at the end of the line: the file has Windows (CRLF) "
                 "line endings; convert it to Unix (LF) line endings, e.g. with dos2unix");
    else if (name)
        snprintf(msg, msgsz, "control character 0x%02x (%s) is not allowed", c, name);
    else
        snprintf(msg, msgsz, "control character 0x%02x is not allowed", c);
}

int ng_policy_check_chars(const char *line, size_t n, int comment, int first_line, size_t *ret_col,
                          char *msg, size_t msgsz)
{
    const unsigned char *s = (const unsigned char *)line;

    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = ng_utf8_decode(s + i, n - i, &cp);
        const char *name = k ? cp_name(cp) : NULL;

        *ret_col = i + 1;
        if (k == 1 && s[i] != '\t' && (s[i] < 0x20 || s[i] == 0x7f)) {
            control(s[i], i + 1, n, msg, msgsz);
        } else if (k == 0) {
            bad_utf8(s + i, n - i, msg, msgsz);
        } else if (cp >= 0x80 && cp <= 0x9f) {
            snprintf(msg, msgsz, "C1 control character U+%04X is not allowed", (unsigned)cp);
        } else if (cp == 0xfeff && i == 0 && first_line) {
            snprintf(msg, msgsz,
                     "the file starts with a byte order mark (U+FEFF): save it as "
                     "UTF-8 without BOM");
        } else if (k > 1 && !comment) {
            snprintf(msg, msgsz,
                     "U+%04X (%s) outside a comment: names, paths, patterns and values must be "
                     "printable ASCII",
                     (unsigned)cp, name ? name : "a non-ASCII character");
        } else if (k > 1 && ng_unicode_invisible(cp)) {
            snprintf(msg, msgsz, "U+%04X (%s) in a comment: invisible characters are not allowed",
                     (unsigned)cp, name);
        } else {
            i += k;
            continue;
        }
        return -EINVAL;
    }
    return 0;
}

size_t ng_policy_inner_tab(const char *v, int list)
{
    for (size_t i = 0; v[i]; i++) {
        if (v[i] != '\t')
            continue;
        if (!list)
            return i;
        /* In a list, blanks around a comma separate items: they are trimmed. */
        size_t l = i, r = i;
        while (l > 0 && (v[l - 1] == ' ' || v[l - 1] == '\t'))
            l--;
        while (v[r] == ' ' || v[r] == '\t')
            r++;
        if (!((l > 0 && v[l - 1] == ',') || v[r] == ','))
            return i;
    }
    return (size_t)-1;
}
