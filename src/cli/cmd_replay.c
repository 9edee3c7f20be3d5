/* nsgate replay: play a session's recorded output with its timing (cli.md).
 * Output is byte-exact unless it goes to a terminal without --raw; then the
 * terminal filter removes what could act on the reviewer's terminal. The
 * terminal is never read. Events are streamed, never loaded whole. */
#include "cmd_store_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nsgate/escrow.h"
#include "nsgate/reveal.h"
#include "nsgate/termfilter.h"
#include "nsgate/text.h"
#include "nsgate/verify.h"
#include "nsgate/util.h"

static const char usage[] =
    "Usage: nsgate replay [--db FILE] [--keys DIR | --key FILE] [-s FACTOR] [-m SECONDS]\n"
    "                     [--no-timing] [--raw] [--force] [--reveal --escrow-key FILE]\n"
    "                     SESSION\n"
    "       nsgate replay --commands [--db FILE] [--keys DIR | --key FILE] [--force] SESSION\n"
    "\n"
    "Plays a recorded session with its original timing, FACTOR times faster, pauses\n"
    "capped at SECONDS. SESSION is a session ID or a unique prefix of at least 6\n"
    "characters. To a terminal, sequences that could act on it are removed unless --raw.\n"
    "--reveal --escrow-key FILE shows masked input (typed at password prompts) where it\n"
    "was typed, as [revealed: TEXT], opened with the escrow secret key in FILE (made by\n"
    "nsgate keygen --escrow; read with your own rights).\n"
    "--commands prints the session's command timeline instead: every program run\n"
    "inside it, one per line (offset, pid, uid, the command line shell-quoted).\n";

struct replay_opts {
    struct ng_cmd_source src;
    const char *escrow_key;
    int reveal;
    double speed;
    double max_pause; /* < 0: no cap */
    int no_timing, raw, force, commands;
    const char *session;
};

struct sink {
    int fd;
    int filter;
    struct ng_termfilter tf;
};

static int parse_double(const char *s, double min, double *ret)
{
    char *end;

    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < min || v > 1e9)
        return -EINVAL;
    *ret = v;
    return 0;
}

enum { OPT_NO_TIMING = 256, OPT_RAW, OPT_FORCE, OPT_REVEAL, OPT_ESCROW_KEY, OPT_COMMANDS };

static const struct ng_optdef replay_opts_def[] = {
    NG_SOURCE_OPTDEFS,
    {OPT_NO_TIMING, 0, "no-timing", 0},
    {OPT_RAW, 0, "raw", 0},
    {OPT_FORCE, 0, "force", 0},
    {OPT_REVEAL, 0, "reveal", 0},
    {OPT_ESCROW_KEY, 0, "escrow-key", NG_OPT_ARG},
    {OPT_COMMANDS, 0, "commands", 0},
    {'s', 's', NULL, NG_OPT_ARG},
    {'m', 'm', NULL, NG_OPT_ARG},
    {'h', 'h', "help", 0},
    {0, 0, NULL, 0},
};

const struct ng_cmdspec ng_spec_replay = {.name = "replay",
                                          .opts = replay_opts_def,
                                          .flags = NG_CMD_PERMUTE,
                                          .min_operands = 1,
                                          .max_operands = 1,
                                          .operand = "SESSION"};

static int replay_opt(const struct ng_optval *v, void *ctx)
{
    struct replay_opts *o = ctx;

    if (ng_cmd_source_opt(v, &o->src))
        return 0;
    switch (v->id) {
    case OPT_NO_TIMING:
        o->no_timing = 1;
        return 0;
    case OPT_RAW:
        o->raw = 1;
        return 0;
    case OPT_FORCE:
        o->force = 1;
        return 0;
    case OPT_REVEAL:
        o->reveal = 1;
        return 0;
    case OPT_ESCROW_KEY:
        o->escrow_key = v->arg;
        return 0;
    case OPT_COMMANDS:
        o->commands = 1;
        return 0;
    case 's':
        if (parse_double(v->arg, 1e-6, &o->speed) < 0 || o->speed <= 0)
            return ng_err("-s wants a positive factor, not '%s'", v->arg), -EINVAL;
        return 0;
    case 'm':
        if (parse_double(v->arg, 0, &o->max_pause) < 0)
            return ng_err("-m wants a number of seconds, not '%s'", v->arg), -EINVAL;
        return 0;
    default:
        return 0;
    }
}

static int sink_write(struct sink *k, const uint8_t *p, size_t len)
{
    uint8_t buf[4096 + NG_TERMFILTER_SEQ_MAX + 1];

    if (!k->filter)
        return ng_write_all(k->fd, p, len);
    while (len > 0) {
        size_t n = len < 4096 ? len : 4096;
        size_t m = ng_termfilter_feed(&k->tf, p, n, buf);
        int r = ng_write_all(k->fd, buf, m);
        if (r < 0)
            return r;
        p += n;
        len -= n;
    }
    return 0;
}

static void pause_for(const struct replay_opts *o, int64_t delta_ns)
{
    if (o->no_timing || delta_ns <= 0)
        return;
    double sec = (double)delta_ns / 1e9 / o->speed;
    if (o->max_pause >= 0 && sec > o->max_pause)
        sec = o->max_pause;
    struct timespec ts = {(time_t)sec, (long)((sec - (double)(time_t)sec) * 1e9)};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* "COLSxROWS" -> resize the reviewer's terminal (only when it is one). */
static int resize(const struct ng_event *ev)
{
    char text[32], out[48];
    uint64_t cols, rows;

    if (ev->len == 0 || ev->len >= sizeof(text))
        return 0;
    memcpy(text, ev->data, ev->len);
    text[ev->len] = '\0';
    char *x = strchr(text, 'x');
    if (!x)
        return 0;
    *x = '\0';
    if (ng_parse_u64(text, 1, 9999, &cols) < 0 || ng_parse_u64(x + 1, 1, 9999, &rows) < 0)
        return 0; /* not ours to interpret further: skip it */
    int n = snprintf(out, sizeof(out), "\x1b[8;%u;%ut", (unsigned)rows, (unsigned)cols);
    return ng_write_all(STDOUT_FILENO, out, (size_t)n);
}

/* A masked stretch, shown where it ended (where its echo would have been),
 * escaped (what was typed is attacker-chosen) and marked as revealed: in
 * reverse video to a terminal. */
static int show_revealed(struct sink *k, const struct ng_reveal *rv)
{
    char *text = ng_escape((const char *)rv->done, rv->done_len), *line = NULL;

    if (!text)
        return -ENOMEM;
    int n = asprintf(&line, "%s[revealed: %s]%s", k->filter ? "\x1b[7m" : "", text,
                     k->filter ? "\x1b[27m" : "");
    free(text);
    if (n < 0)
        return -ENOMEM;
    int r = sink_write(k, (const uint8_t *)line, (size_t)n);
    free(line);
    return r;
}

/* --reveal: every event goes through the framing check; a stretch that
 * ended before ev is shown first. */
static int reveal_before(struct ng_reveal *rv, const struct ng_event *ev, struct sink *out,
                         const struct replay_opts *o, int64_t *prev)
{
    int f = ng_reveal_feed(rv, ev);

    if (f <= 0 || !(f & NG_REVEAL_STRETCH_END))
        return f < 0 ? f : 0;
    pause_for(o, ev->t_ns - *prev);
    *prev = ev->t_ns;
    return show_revealed(out, rv);
}

static int play(struct ng_store *s, const uint8_t id[NG_STORE_ID_LEN], const struct replay_opts *o,
                struct ng_reveal *rv)
{
    struct sink out = {.fd = STDOUT_FILENO}, err = {.fd = STDERR_FILENO};
    struct ng_event_iter *it;
    struct ng_event ev;
    int64_t prev = 0;
    int tty = isatty(STDOUT_FILENO);
    int r = ng_store_events_begin(s, id, &it);

    if (r < 0)
        return r;
    out.filter = tty && !o->raw;
    err.filter = isatty(STDERR_FILENO) && !o->raw;
    ng_termfilter_init(&out.tf);
    ng_termfilter_init(&err.tf);
    while ((r = ng_store_events_next(it, &ev)) == 1) {
        if (rv && (r = reveal_before(rv, &ev, &out, o, &prev)) < 0)
            break;
        int shown = ev.kind == 'o' || ev.kind == 'e' || (ev.kind == 'r' && tty);
        if (!shown)
            continue;
        pause_for(o, ev.t_ns - prev);
        prev = ev.t_ns;
        if (ev.kind == 'r')
            r = resize(&ev);
        else /* standard error of a pipe-mode session goes to standard error */
            r = sink_write(ev.kind == 'o' ? &out : &err, ev.data, ev.len);
        if (r < 0)
            break;
    }
    if (r == 0 && rv && ng_reveal_finish(rv))
        r = show_revealed(&out, rv);
    ng_store_events_end(it);
    return r;
}

/* Verify the session first (cli.md): 0 OK, 2 INCOMPLETE (replayed with a
 * warning), 1 TAMPERED (refused unless --force, then replayed after a
 * warning, still 1); a negative errno when verification could not run. */
/* The session, verified, then played (revealing when asked and possible). */
static int replay_session(struct ng_store *s, const uint8_t id[NG_STORE_ID_LEN],
                          const uint8_t root[NG_FSKEY_PK_BYTES], const struct replay_opts *o,
                          const struct ng_escrow_secret *ek, const char *text)
{
    struct ng_reveal rv;
    int reveal = 0, st = ek ? ng_cmd_escrow_match(s, id, ek, o->escrow_key, text, &reveal) : 0;

    if (st)
        return st;
    int verdict = ng_cmd_verify_first(s, id, root, o->force, "replay", text, NULL);
    if (verdict < 0 || (verdict == 1 && !o->force)) {
        if (verdict < 0)
            ng_err("replay of %s failed: %s", text, strerror(-verdict));
        return verdict < 0 ? NG_EXIT_STORAGE : verdict;
    }
    if (o->commands) {
        int r = ng_cmd_print_commands(s, id, stdout);
        if (r < 0)
            return ng_err("replay of %s failed: %s", text, strerror(-r)), NG_EXIT_STORAGE;
        return verdict;
    }
    ng_reveal_init(&rv, ek);
    int r = play(s, id, o, reveal ? &rv : NULL);
    if (r < 0 && reveal && rv.bad_seq)
        return ng_cmd_reveal_error(r, rv.bad_seq, o->escrow_key, text);
    if (r < 0) {
        ng_err("replay of %s failed: %s", text, strerror(-r));
        return NG_EXIT_STORAGE;
    }
    return verdict;
}

int ng_cmd_replay_finished(struct ng_store *s, const uint8_t id[NG_STORE_ID_LEN],
                           const uint8_t root[NG_FSKEY_PK_BYTES], const char *text, int raw)
{
    struct replay_opts o = {.speed = 1.0, .max_pause = -1, .raw = raw};

    return replay_session(s, id, root, &o, NULL, text);
}

int ng_cmd_replay(int argc, char **argv, const struct ng_caller *caller)
{
    struct replay_opts o = {.src.db = ng_cmd_default_db(), .speed = 1.0, .max_pause = -1};
    char text[NG_UUID_STR];
    uint8_t id[NG_STORE_ID_LEN] = {0}, root[NG_FSKEY_PK_BYTES];
    struct ng_escrow_secret *ek = NULL;
    struct ng_store *s;
    char **operands;
    int n, st;

    st = ng_cmd_start(&ng_spec_replay, usage, argc, argv, caller, replay_opt, &o, &operands, &n);
    if (st)
        return st < 0 ? 0 : st;
    o.session = operands[0];
    if (o.reveal != (o.escrow_key != NULL)) {
        ng_err("--reveal and --escrow-key FILE go together");
        return NG_EXIT_USAGE;
    }
    if (o.commands && o.reveal) {
        ng_err("--commands shows no input: --reveal does not go with it");
        return NG_EXIT_USAGE;
    }
    /* Not a plain reader: the look is logged before privileges drop
     * (cmd_review.c); the store is opened and the session found first. */
    struct ng_review rv;
    ng_review_begin(&rv, caller);
    st = ng_review_open(&rv, o.src.db, o.session, &s, id);
    if (st) {
        ng_review_end(&rv);
        return ng_cmd_drop(caller) ? NG_EXIT_INTERNAL : st;
    }
    st = ng_review_log(&rv, "replay", id);
    /* After the drop: the keys are read with the caller's own rights. */
    if (st == 0)
        st = ng_cmd_root_key(o.src.keys, o.src.key, root);
    if (st == 0 && o.reveal)
        st = ng_cmd_escrow_key(o.escrow_key, &ek);
    ng_uuid_format(id, text);
    if (st == 0)
        st = replay_session(s, id, root, &o, ek, text);
    ng_store_close(s);
    ng_escrow_secret_free(ek);
    return st;
}
