/* The command timeline of a session (replay --commands): one line per 'c'
 * event, from the covered events only. Everything recorded is untrusted:
 * the command line is shell-quoted and terminal-safe (cmdline.h), numbers
 * are printed as numbers, nothing else of the event reaches the output. */
#include "cmd_store_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nsgate/cmdline.h"

static void offset(int64_t ns, char *buf, size_t size)
{
    int64_t ms = ns / 1000000, s = ms / 1000;

    if (s >= 3600)
        snprintf(buf, size, "%" PRId64 ":%02d:%02d.%03d", s / 3600, (int)(s / 60 % 60),
                 (int)(s % 60), (int)(ms % 1000));
    else
        snprintf(buf, size, "%d:%02d.%03d", (int)(s / 60), (int)(s % 60), (int)(ms % 1000));
}

/* What became of the exec, when it is not plain success. */
static void outcome(const struct ng_cmd *c, char *buf, size_t size)
{
    const char *name = ng_cmd_errno_name(c->result);

    buf[0] = '\0';
    if (c->result > 0)
        snprintf(buf, size, "  [failed: %s %s]", name ? name : "errno",
                 c->result < 4096 ? strerror((int)c->result) : "");
    else if (c->result < 0)
        snprintf(buf, size, "  [outcome not seen]");
    if (c->truncated)
        snprintf(buf + strlen(buf), size - strlen(buf), "  [argv cut at 64 KiB]");
}

static int print_one(const struct ng_event *ev, FILE *out)
{
    struct ng_cmd c;
    char off[32], tail[160], pid[24], uid[24];

    if (ng_cmd_parse(ev->data, ev->len, &c) < 0) {
        offset(ev->t_ns, off, sizeof(off));
        return fprintf(out, "%12s  %7s  %6s  (a command event nsgate cannot read)\n", off, "?",
                       "?") < 0
                   ? -EIO
                   : 0;
    }
    char *line = ng_cmd_quote(c.argv, c.argv_len);
    offset(c.t_ns >= 0 ? c.t_ns : ev->t_ns, off, sizeof(off));
    outcome(&c, tail, sizeof(tail));
    snprintf(pid, sizeof(pid), "%" PRId64, c.pid);
    snprintf(uid, sizeof(uid), "%" PRId64, c.uid);
    int r = line ? 0 : -ENOMEM;
    if (r == 0 && fprintf(out, "%12s  %7s  %6s  %s%s\n", off, c.pid >= 0 ? pid : "?",
                          c.uid >= 0 ? uid : "?", line, tail) < 0)
        r = -EIO;
    free(line);
    ng_cmd_free(&c);
    return r;
}

int ng_cmd_print_commands(struct ng_store *s, const uint8_t id[NG_STORE_ID_LEN], FILE *out)
{
    struct ng_event_iter *it;
    struct ng_event ev;
    int r = ng_store_commands_begin(s, id, &it);

    if (r < 0)
        return r;
    if (fprintf(out, "%12s  %7s  %6s  %s\n", "OFFSET", "PID", "UID", "COMMAND") < 0)
        r = -EIO;
    while (r == 0 && (r = ng_store_events_next(it, &ev)) == 1)
        r = print_one(&ev, out);
    ng_store_events_end(it);
    if (r == 0 && fflush(out) != 0)
        r = -EIO;
    return r;
}
