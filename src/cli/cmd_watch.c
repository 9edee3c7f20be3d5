/* nsgate watch: follow a running session's output as it is recorded
 * (cli.md). The store is read again every WATCH_POLL_MS for what the
 * recorder committed since (it commits at least every 200 ms while output
 * flows: relay.h), so what is shown is at most about 250 ms behind. Output
 * to a terminal goes through the terminal filter unless --raw, as with
 * replay; the reviewer's terminal is never read. A finished session is
 * replayed (verified first). */
#include "cmd_control_int.h"
#include "cmd_store_int.h"

#include <errno.h>
#include <jansson.h>
#include <libgen.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nsgate/termfilter.h"
#include "nsgate/text.h"
#include "nsgate/util.h"

#define WATCH_POLL_MS 50

static const char usage[] =
    "Usage: nsgate watch [--db FILE] [--keys DIR | --key FILE] [--from-now] [--raw]\n"
    "                    [--moderate] SESSION\n"
    "\n"
    "Shows a running session's output as it is recorded, from its start or, with\n"
    "--from-now, from now on; read-only. Ends when the session ends and says how it\n"
    "ended. A finished session is replayed as by nsgate replay. To a terminal,\n"
    "sequences that could act on it are removed unless --raw. Root, readers of the\n"
    "store and the approvers of the session's rule may watch; --moderate (an approver,\n"
    "not the requester) lets the input of a moderated session through while it runs.\n";

struct watch_opts {
    struct ng_cmd_source src;
    int from_now, raw, moderate;
    const char *session;
};

struct watch_sink {
    int fd, filter;
    struct ng_termfilter tf;
};

enum { OPT_FROM_NOW = 256, OPT_RAW, OPT_MODERATE };

static const struct ng_optdef watch_opts_def[] = {
    NG_SOURCE_OPTDEFS,      {OPT_FROM_NOW, 0, "from-now", 0},
    {OPT_RAW, 0, "raw", 0}, {OPT_MODERATE, 0, "moderate", 0},
    {'h', 'h', "help", 0},  {0, 0, NULL, 0},
};

const struct ng_cmdspec ng_spec_watch = {.name = "watch",
                                         .opts = watch_opts_def,
                                         .flags = NG_CMD_PERMUTE,
                                         .min_operands = 1,
                                         .max_operands = 1,
                                         .operand = "SESSION"};

static int watch_opt(const struct ng_optval *v, void *ctx)
{
    struct watch_opts *o = ctx;

    if (ng_cmd_source_opt(v, &o->src))
        return 0;
    if (v->id == OPT_FROM_NOW)
        o->from_now = 1;
    else if (v->id == OPT_RAW)
        o->raw = 1;
    else if (v->id == OPT_MODERATE)
        o->moderate = 1;
    return 0;
}

static int sink_write(struct watch_sink *k, const uint8_t *p, size_t len)
{
    uint8_t buf[4096 + NG_TERMFILTER_SEQ_MAX + 1];

    if (!k->filter)
        return ng_write_all(k->fd, p, len);
    while (len > 0) {
        size_t n = len < 4096 ? len : 4096;
        int r = ng_write_all(k->fd, buf, ng_termfilter_feed(&k->tf, p, n, buf));
        if (r < 0)
            return r;
        p += n;
        len -= n;
    }
    return 0;
}

struct follow {
    struct watch_sink out, err;
    int64_t last; /* the last seq seen */
    int show;     /* 0 while skipping what was recorded before --from-now */
    int ended;    /* the x event was seen */
    int exit_status;
    char reason[64];
};

/* The x event's {"end_ns":N,"exit":N,"reason":"..."}: what is said at the end. */
static void take_end(struct follow *f, const struct ng_event *ev)
{
    json_t *j = json_loadb((const char *)ev->data, ev->len, JSON_REJECT_DUPLICATES, NULL);
    json_t *ex = json_object_get(j, "exit"), *why = json_object_get(j, "reason");

    f->ended = 1;
    f->exit_status = json_is_integer(ex) ? (int)json_integer_value(ex) : -1;
    snprintf(f->reason, sizeof(f->reason), "%s",
             json_is_string(why) ? json_string_value(why) : "?");
    json_decref(j);
}

/* What was committed since the last look. */
static int follow_step(struct ng_store *s, const uint8_t id[NG_STORE_ID_LEN], struct follow *f)
{
    struct ng_event_iter *it;
    struct ng_event ev;
    int r = ng_store_events_after(s, id, f->last, &it);

    if (r < 0)
        return r;
    while ((r = ng_store_events_next(it, &ev)) == 1) {
        f->last = ev.seq;
        if (ev.kind == 'x')
            take_end(f, &ev);
        if (!f->show || (ev.kind != 'o' && ev.kind != 'e'))
            continue;
        r = sink_write(ev.kind == 'o' ? &f->out : &f->err, ev.data, ev.len);
        if (r < 0)
            break;
    }
    ng_store_events_end(it);
    return r;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* Until the session ends: its x event, or its recorder gone (then what was
 * committed is all there is). */
/* Is the session still running? A registered watcher asks its control
 * connection, which the recorder closes as it ends (without the store's
 * group it cannot look at the lock files); anyone else the lock. */
static int still_live(struct ng_store *s, const uint8_t id[NG_STORE_ID_LEN], int ctl)
{
    struct pollfd p = {ctl, POLLIN, 0};

    if (ctl < 0)
        return ng_store_session_live(s, id);
    return poll(&p, 1, 0) == 0;
}

static int follow_live(struct ng_store *s, const uint8_t id[NG_STORE_ID_LEN], const char *text,
                       const struct watch_opts *o, int ctl)
{
    struct follow f = {.out = {.fd = STDOUT_FILENO}, .err = {.fd = STDERR_FILENO}};
    int r = 0;

    f.out.filter = isatty(STDOUT_FILENO) && !o->raw;
    f.err.filter = isatty(STDERR_FILENO) && !o->raw;
    ng_termfilter_init(&f.out.tf);
    ng_termfilter_init(&f.err.tf);
    f.show = !o->from_now;
    if (o->from_now && (r = follow_step(s, id, &f)) < 0)
        return r;
    f.show = 1;
    fprintf(stderr, "nsgate: watching session %s (live; read-only)\n", text);
    for (;;) {
        int live = still_live(s, id, ctl);
        if ((r = follow_step(s, id, &f)) < 0 || f.ended || !live)
            break;
        sleep_ms(WATCH_POLL_MS);
    }
    if (r < 0)
        return r;
    if (f.ended)
        fprintf(stderr, "nsgate: session %s ended, exit %d (%s)\n", text, f.exit_status, f.reason);
    else
        fprintf(stderr, "nsgate: session %s ended without an end record (its recorder is gone)\n",
                text);
    return 0;
}

/* May the caller read path with its own rights (the reviewers' group)? The
 * kernel's test for one class of owner, group or other. */
static int may_read(const char *path, const struct ng_caller *cl, mode_t need)
{
    struct stat st;

    if (stat(path, &st) < 0)
        return 0;
    int in_group = st.st_gid == cl->gid;
    for (size_t i = 0; i < cl->ngroups; i++)
        in_group |= st.st_gid == cl->groups[i];
    if (st.st_uid == cl->uid)
        return (st.st_mode & (need << 6)) == (need << 6);
    if (in_group)
        return (st.st_mode & (need << 3)) == (need << 3);
    return (st.st_mode & need) == need;
}

static int caller_reads_store(const char *db, const struct ng_caller *cl)
{
    char dir[4096];

    if (cl->uid == 0)
        return 1;
    snprintf(dir, sizeof(dir), "%s", db);
    return may_read(dirname(dir), cl, 05) && may_read(db, cl, 04);
}

/* For good, and not dumpable: the caller cannot trace this process for the
 * store or the control connection it opened with privilege. */
static int drop(const struct ng_caller *caller)
{
    int st = ng_cmd_drop(caller);

    if (st == 0 && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
        return ng_err("cannot make the watch non-dumpable"), NG_EXIT_INTERNAL;
    return st;
}

/* A live session: registered with its recorder as a watcher (or a
 * moderator) while still privileged; an approver who cannot read the store
 * gets it opened here, then the privileges go. */
static int watch_live(const struct watch_opts *o, const struct ng_caller *caller,
                      struct ng_review *rv, const uint8_t id[NG_STORE_ID_LEN], const char *text)
{
    char reply[256];
    int ctl = -1, reader = caller_reads_store(o->src.db, caller);
    struct ng_store *s = NULL;
    int r = ng_cmd_control_ask(o->src.db, id, caller, o->moderate ? "moderate" : "watch", reader,
                               NULL, &ctl, reply, sizeof(reply));

    if (r == -EPERM) {
        (void)drop(caller);
        return ng_err("watching %s refused: %s", text, reply + 3), NG_EXIT_DENIED;
    }
    if (r < 0 && (o->moderate || !reader)) {
        (void)drop(caller);
        return ng_err("cannot reach session %s: %s", text, strerror(-r)), NG_EXIT_TARGET;
    }
    /* the look is logged while still privileged (cmd_review.c) */
    rv->host_store = strcmp(o->src.db, ng_cmd_default_db()) == 0;
    int st = ng_review_note(rv, "watch", id);
    ng_review_end(rv);
    if (st) {
        (void)drop(caller);
        ng_closep(&ctl);
        return st;
    }
    st = reader ? drop(caller) : 0;
    if (st == 0)
        st = ng_cmd_store_open(o->src.db, &s);
    if (st == 0 && !reader)
        st = drop(caller);
    if (st == 0 && o->moderate)
        fprintf(stderr, "nsgate: moderating session %s: its input passes while you watch\n", text);
    if (st == 0 && (r = follow_live(s, id, text, o, ctl)) < 0) {
        ng_err("watching %s failed: %s", text, strerror(-r));
        st = NG_EXIT_STORAGE;
    }
    ng_closep(&ctl);
    ng_store_close(s);
    return st;
}

/* Over (or not live): the store opened and the session found with the
 * caller's rights (root's for a reviewer in mediated mode), the look
 * logged, the privileges dropped (cmd_review.c); replayed. */
static int watch_over(const struct watch_opts *o, const struct ng_caller *caller,
                      struct ng_review *rv)
{
    uint8_t id[NG_STORE_ID_LEN] = {0}, root[NG_FSKEY_PK_BYTES];
    char text[NG_UUID_STR];
    struct ng_store *s;
    int st = ng_review_open(rv, o->src.db, o->session, &s, id);

    if (st) {
        ng_review_end(rv);
        return drop(caller) ? NG_EXIT_INTERNAL : st;
    }
    st = ng_review_log(rv, "watch", id);
    ng_uuid_format(id, text);
    if (st == 0 && ng_store_session_live(s, id)) { /* started since: followed, not registered */
        int r = follow_live(s, id, text, o, -1);
        if (r < 0) {
            ng_err("watching %s failed: %s", text, strerror(-r));
            st = NG_EXIT_STORAGE;
        }
    } else if (st == 0) {
        st = ng_cmd_root_key(o->src.keys, o->src.key, root);
        if (st == 0)
            st = ng_cmd_replay_finished(s, id, root, text, o->raw);
    }
    ng_store_close(s);
    return st;
}

int ng_cmd_watch(int argc, char **argv, const struct ng_caller *caller)
{
    struct watch_opts o = {.src.db = ng_cmd_default_db()};
    uint8_t id[NG_STORE_ID_LEN];
    char text[NG_UUID_STR];
    char **operands;
    int n;

    int st = ng_cmd_start(&ng_spec_watch, usage, argc, argv, caller, watch_opt, &o, &operands, &n);
    if (st)
        return st < 0 ? 0 : st;
    o.session = operands[0];
    struct ng_review rv; /* every look is logged (cmd_review.c) */
    ng_review_begin(&rv, caller);
    /* --db of another user's choosing is read with that user's rights only */
    if (caller->uid != 0 && o.src.db != ng_cmd_default_db()) {
        if (o.moderate)
            return ng_err("--db is for root only with --moderate"), NG_EXIT_DENIED;
        return watch_over(&o, caller, &rv);
    }
    if (ng_store_live_find(o.src.db, o.session, id) == 0) {
        ng_uuid_format(id, text);
        return watch_live(&o, caller, &rv, id, text);
    }
    if (o.moderate) {
        (void)drop(caller);
        return ng_err("no live session %s to moderate", o.session), NG_EXIT_NOINPUT;
    }
    return watch_over(&o, caller, &rv);
}
