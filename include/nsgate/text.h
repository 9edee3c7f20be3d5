/* Untrusted text in human-readable output (cli.md "Untrusted text"). */
#ifndef NSGATE_TEXT_H
#define NSGATE_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* Return a malloc'd copy of the len bytes at s in which C0 and C1 control
 * characters, DEL, invisible characters (ng_unicode_invisible: bidi
 * overrides, zero-width and other format characters, line separators) and
 * bytes that are not part of valid UTF-8 are written as \xNN, byte by byte
 * (and a backslash as \x5c, so the output is unambiguous). NULL when out of
 * memory. */
char *ng_escape(const char *s, size_t len);
/* Same for a NUL-terminated string; never NULL for a NULL input ("(null)"). */
char *ng_escape_str(const char *s);

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid/truncated. */
size_t ng_utf8_seq_len(const unsigned char *s, size_t avail);
/* The same, and the code point in *ret_cp (the first byte when invalid).
 * Overlong forms, surrogates and values past U+10FFFF are invalid. */
size_t ng_utf8_decode(const unsigned char *s, size_t avail, uint32_t *ret_cp);
/* Is cp a character that changes or hides how text around it reads: a
 * format character (Unicode category Cf: bidi controls, zero-width
 * characters, the byte order mark, ...), U+2028/U+2029, or a noncharacter? */
int ng_unicode_invisible(uint32_t cp);

#endif
