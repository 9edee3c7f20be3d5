/* Command events ('c', docs/store.md "Command events"): the escaping of
 * recorded bytes inside their JSON, reading an event back, and the
 * shell-quoted command line that readers show and search. Pure: no I/O.
 *
 * The JSON of a command event is one object; byte strings in it (cwd, path,
 * exe, each argument) are JSON strings holding the bytes with two escapes
 * only: a backslash is written as two backslashes, and a byte that is not
 * part of valid UTF-8 (or a NUL, which recorded strings never hold) as
 * backslash, 'x', two lowercase hex digits. So every
 * byte is kept exactly and the text stays valid UTF-8 (JSON's own escaping
 * then applies on top, e.g. a control character as \u0001). */
#ifndef NSGATE_CMDLINE_H
#define NSGATE_CMDLINE_H

#include <stddef.h>
#include <stdint.h>

/* At most this many bytes of argv are recorded (each argument counted with
 * its terminating NUL); beyond, the event says "truncated": true. */
#define NG_CMD_ARGV_MAX 65536

/* The escaped form of len bytes (see above), malloc'd and NUL-terminated;
 * NULL when out of memory. */
char *ng_cmd_escape(const void *p, size_t len);

/* Decode an escaped string of n bytes into malloc'd bytes (*ret, *ret_len;
 * a NUL is appended but not counted). -EINVAL when s is not a valid escaped
 * form (a lone backslash, a bad hex digit, "\x" of a byte that would have
 * been valid UTF-8 is accepted), -ENOMEM. */
int ng_cmd_unescape(const char *s, size_t n, uint8_t **ret, size_t *ret_len);

/* A command event as read back. Byte strings are malloc'd (NUL appended, not
 * counted); absent ones are NULL with length 0. argv holds each argument
 * followed by one NUL (argc of them). Numbers absent from the event are -1. */
struct ng_cmd {
    int64_t t_ns;
    int64_t pid, ppid, host_pid, host_ppid;
    int64_t uid, gid;
    int64_t result; /* 0, an errno of a failed exec, or -1: not observed */
    int truncated;  /* argv was cut at NG_CMD_ARGV_MAX */
    int verified;   /* argv and exe were read from the new program image */
    uint8_t *cwd, *path, *exe, *argv;
    size_t cwd_len, path_len, exe_len, argv_len, argc;
};

/* Parse the data of a 'c' event (untrusted: bounded, every type checked).
 * 0, -EBADMSG when it is not a well-formed command event, -ENOMEM. On
 * failure *ret holds nothing to free. */
int ng_cmd_parse(const void *json, size_t len, struct ng_cmd *ret);
void ng_cmd_free(struct ng_cmd *c);

/* The command line of argv (each argument followed by a NUL, len bytes),
 * shell-quoted so that pasting it into a POSIX shell with $'...' support
 * (bash, zsh, ksh, busybox sh) gives the same arguments back, and safe to
 * print to a terminal: a word of only [A-Za-z0-9_@%+=:,./-] as it is;
 * otherwise '...' when the word is printable UTF-8 without a quote; else
 * $'...' with \\, \' and \xNN for control characters (C0, DEL, C1),
 * bidirectional-text controls and bytes that are not valid UTF-8. Words are
 * separated by one space. malloc'd; NULL when out of memory. */
char *ng_cmd_quote(const uint8_t *argv, size_t len);

/* The symbolic name of an errno value ("ENOENT"), or NULL. */
const char *ng_cmd_errno_name(int64_t e);

#endif
