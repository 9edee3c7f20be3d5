/* Untrusted text in human-readable output (cli.md "Untrusted text"). */
#ifndef NSGATE_TEXT_H
#define NSGATE_TEXT_H

#include <stddef.h>

/* Return a malloc'd copy of the len bytes at s in which C0 and C1 control
 * characters, DEL and bytes that are not part of valid UTF-8 are written as
 * \xNN (and a backslash as \x5c, so the output is unambiguous). NULL when out
 * of memory. */
char *ng_escape(const char *s, size_t len);
/* Same for a NUL-terminated string; never NULL for a NULL input ("(null)"). */
char *ng_escape_str(const char *s);

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid/truncated. */
size_t ng_utf8_seq_len(const unsigned char *s, size_t avail);

#endif
