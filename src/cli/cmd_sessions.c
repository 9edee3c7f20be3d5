/* nsgate sessions: list and search recorded sessions (cli.md). Every field
 * shown comes from covered data (the sessions row and the 'x' event), and
 * every untrusted one is escaped. */
#include "cmd_store_int.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nsgate/text.h"
#include "nsgate/timearg.h"

#define COMMAND_WIDTH 40

static const char usage[] =
    "Usage: nsgate sessions [--db FILE] [--user NAME] [--target TEXT] [--since TIME]\n"
    "                       [--until TIME] [--grep TEXT] [--command PATTERN] [--json]\n"
    "       nsgate sessions --views SESSION --audit-log FILE... [--json]\n"
    "       nsgate sessions --live [--db FILE] [--json]\n"
    "\n"
    "Lists recorded sessions, newest first. TIME is ISO 8601 (2026-11-29T08:10Z) or\n"
    "relative (2h, 3d). --target matches a pid or a container ID prefix; --grep finds\n"
    "sessions whose recorded output or input contains TEXT (ASCII case-insensitive);\n"
    "--command finds sessions that ran a command whose shell-quoted command line\n"
    "matches the glob PATTERN (as replay --commands shows it; '*' '?' '[...]').\n"
    "--views SESSION lists every look at the session (replay, export, watch: who, when)\n"
    "from the review records of the audit logs given (raw or enriched, rotated, .gz).\n"
    "--live lists the sessions running or waiting for approval now: state, for how\n"
    "long, who is watching.\n";

#define MAX_LOGS 64

struct sessions_opts {
    const char *db;
    const char *grep;
    int json;
    const char *views; /* --views SESSION */
    const char *logs[MAX_LOGS];
    size_t nlogs;
    int live;    /* --live: cmd_sessions_live.c */
    int64_t now; /* for relative --since and --until */
    struct ng_session_filter f;
};

enum {
    OPT_USER = 256,
    OPT_TARGET,
    OPT_SINCE,
    OPT_UNTIL,
    OPT_GREP,
    OPT_JSON,
    OPT_COMMAND,
    OPT_VIEWS,
    OPT_AUDIT_LOG
};
enum { OPT_LIVE = 300 };

static const struct ng_optdef sessions_opts_def[] = {
    {NG_OPT_DB, 0, "db", NG_OPT_ARG},
    {OPT_USER, 0, "user", NG_OPT_ARG},
    {OPT_TARGET, 0, "target", NG_OPT_ARG},
    {OPT_SINCE, 0, "since", NG_OPT_ARG},
    {OPT_UNTIL, 0, "until", NG_OPT_ARG},
    {OPT_GREP, 0, "grep", NG_OPT_ARG},
    {OPT_COMMAND, 0, "command", NG_OPT_ARG},
    {OPT_JSON, 0, "json", 0},
    {OPT_VIEWS, 0, "views", NG_OPT_ARG},
    {OPT_AUDIT_LOG, 0, "audit-log", NG_OPT_ARG},
    {OPT_LIVE, 0, "live", 0},
    {'h', 'h', "help", 0},
    {0, 0, NULL, 0},
};

const struct ng_cmdspec ng_spec_sessions = {
    .name = "sessions", .opts = sessions_opts_def, .flags = NG_CMD_PERMUTE};

static int sessions_opt(const struct ng_optval *v, void *ctx)
{
    struct sessions_opts *o = ctx;

    switch (v->id) {
    case NG_OPT_DB:
        o->db = v->arg;
        return 0;
    case OPT_USER:
        o->f.user = v->arg;
        return 0;
    case OPT_TARGET:
        o->f.target = v->arg;
        return 0;
    case OPT_GREP:
        o->grep = v->arg;
        return 0;
    case OPT_COMMAND:
        o->f.command = v->arg;
        return 0;
    case OPT_JSON:
        o->json = 1;
        return 0;
    case OPT_VIEWS:
        o->views = v->arg;
        return 0;
    case OPT_AUDIT_LOG:
        if (o->nlogs == MAX_LOGS) {
            ng_err("at most %d --audit-log files", MAX_LOGS);
            return -EINVAL;
        }
        o->logs[o->nlogs++] = v->arg;
        return 0;
    case OPT_LIVE:
        o->live = 1;
        return 0;
    case OPT_SINCE:
    case OPT_UNTIL:
        if (ng_parse_time(v->arg, o->now, v->id == OPT_SINCE ? &o->f.since_ns : &o->f.until_ns) <
            0) {
            ng_err("invalid time '%s' (ISO 8601 such as 2026-11-29T08:10Z, or 2h, 3d)", v->arg);
            return -EINVAL;
        }
        return 0;
    default:
        return 0;
    }
}

/* ---- JSON ---------------------------------------------------------------- */

/* A JSON string of untrusted bytes: invalid UTF-8 becomes U+FFFD (JSON
 * cannot carry it); control characters are escaped by jansson. */
static json_t *jstr(const char *s, size_t len)
{
    if (!s)
        return json_null();
    char *clean = malloc(len * 3 + 1);
    size_t o = 0;
    if (!clean)
        return NULL;
    for (size_t i = 0; i < len;) {
        size_t n = ng_utf8_seq_len((const unsigned char *)s + i, len - i);
        if (n == 0 || (n == 1 && s[i] == '\0')) {
            memcpy(clean + o, "\xef\xbf\xbd", 3);
            o += 3;
            i++;
        } else {
            memcpy(clean + o, s + i, n);
            o += n;
            i += n;
        }
    }
    json_t *j = json_stringn(clean, o);
    free(clean);
    return j;
}

static json_t *jstr0(const char *s)
{
    return jstr(s, s ? strlen(s) : 0);
}

static json_t *json_argv(const char *argv, size_t len)
{
    json_t *a = json_array();

    for (size_t i = 0; a && argv && i < len;) {
        const char *nul = memchr(argv + i, '\0', len - i);
        size_t n = nul ? (size_t)(nul - (argv + i)) : len - i;
        json_array_append_new(a, jstr(argv + i, n));
        i += n + 1;
    }
    return a;
}

static int print_json(const struct ng_session_info *in)
{
    char id[NG_UUID_STR], start[40], end[40];
    json_t *ns = json_array();

    ng_uuid_format(in->id, id);
    ng_format_time_utc(in->start_ns, start, sizeof(start));
    ng_format_time_utc(in->end_ns, end, sizeof(end));
    for (int i = 0; ns && i < NG_NS_COUNT; i++)
        if (in->ns & (1u << i))
            json_array_append_new(ns, json_string(ng_ns_table[i].name));
    json_t *o = json_pack(
        "{s:s,s:s,s:o,s:o,s:I,s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:s,s:o,s:o,s:I}", "id", id, "start",
        start, "end", in->has_end ? json_string(end) : json_null(), "user", jstr0(in->user_name),
        "uid", (json_int_t)in->uid, "target_pid", (json_int_t)in->target_pid, "container",
        jstr0(in->container), "namespaces", ns, "argv", json_argv(in->argv, in->argv_len), "reason",
        jstr0(in->reason), "rule", jstr0(in->rule), "exit",
        in->has_end ? json_integer(in->exit_status) : json_null(), "end_reason",
        in->has_end ? jstr0(in->end_reason) : json_null(), "state", ng_store_state_name(in->state),
        "host", jstr0(in->host), "program", jstr0(in->program), "events", (json_int_t)in->last_seq);
    if (o) {
        json_object_set_new(o, "commands", json_integer(in->commands));
        json_object_set_new(o, "record_commands",
                            in->record_commands < 0 ? json_null()
                                                    : json_boolean(in->record_commands));
    }
    /* ASCII only: no C1 control or odd character reaches a terminal raw. */
    char *text = o ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
    json_decref(o);
    if (!text)
        return -ENOMEM;
    int r = puts(text) < 0 ? -EIO : 0;
    free(text);
    return r;
}

/* ---- table --------------------------------------------------------------- */

/* The escaped command line, cut to width bytes on a character boundary. */
static char *command_text(const struct ng_session_info *in, size_t width)
{
    size_t cap = in->argv_len * 4 + 8, o = 0;
    char *out = malloc(cap);

    if (!out)
        return NULL;
    for (size_t i = 0; in->argv && i < in->argv_len;) {
        const char *nul = memchr(in->argv + i, '\0', in->argv_len - i);
        size_t n = nul ? (size_t)(nul - (in->argv + i)) : in->argv_len - i;
        char *e = ng_escape(in->argv + i, n);
        if (!e) {
            free(out);
            return NULL;
        }
        o += (size_t)snprintf(out + o, cap - o, "%s%s", o ? " " : "", e);
        free(e);
        i += n + 1;
    }
    out[o] = '\0';
    if (o > width) {
        size_t cut = width - 3;
        while (cut > 0 && ((unsigned char)out[cut] & 0xc0) == 0x80)
            cut--;
        /* nor inside a \xNN escape (every backslash starts one), so a cut
         * command cannot be read as holding other bytes */
        for (size_t k = cut >= 3 ? cut - 3 : 0; k < cut; k++)
            if (out[k] == '\\') {
                cut = k;
                break;
            }
        memcpy(out + cut, "...", 4);
    }
    return out;
}

static void duration(const struct ng_session_info *in, char *buf, size_t size)
{
    int64_t s = (in->end_ns - in->start_ns) / 1000000000LL;

    if (!in->has_end || s < 0)
        snprintf(buf, size, "-");
    else if (s < 3600)
        snprintf(buf, size, "%dm%02ds", (int)(s / 60), (int)(s % 60));
    else
        snprintf(buf, size, "%lldh%02dm", (long long)(s / 3600), (int)(s / 60 % 60));
}

static int print_row(const struct ng_session_info *in)
{
    char id[NG_UUID_STR], start[32], dur[32], target[32], ns[64], ex[16];
    char *user = ng_escape_str(in->user_name ? in->user_name : "-");
    char *cmd = command_text(in, COMMAND_WIDTH);
    int r = 0;

    ng_uuid_format(in->id, id);
    id[8] = '\0';
    ng_format_time_local(in->start_ns, start, sizeof(start));
    duration(in, dur, sizeof(dur));
    if (in->container)
        snprintf(target, sizeof(target), "%.12s", in->container);
    else
        snprintf(target, sizeof(target), "%lld", (long long)in->target_pid);
    char *etarget = ng_escape_str(target);
    ng_nsset_format(in->ns, ns, sizeof(ns));
    if (in->has_end)
        snprintf(ex, sizeof(ex), "%d", in->exit_status);
    else
        snprintf(ex, sizeof(ex), "-");
    if (user && cmd && etarget)
        r = printf("%-8s  %-19s  %8s  %-12s  %-12s  %-20s  %-*s  %4s  %s\n", id, start, dur, user,
                   etarget, ns, COMMAND_WIDTH, cmd, ex, ng_store_state_name(in->state)) < 0
                ? -EIO
                : 0;
    else
        r = -ENOMEM;
    free(user);
    free(cmd);
    free(etarget);
    return r;
}

static int list(struct ng_store *s, const struct sessions_opts *o)
{
    struct ng_session_iter *it;
    const struct ng_session_info *in;
    int r = ng_store_sessions_begin(s, &o->f, &it);

    if (r < 0)
        return r;
    if (!o->json)
        printf("%-8s  %-19s  %8s  %-12s  %-12s  %-20s  %-*s  %4s  %s\n", "ID", "START", "DURATION",
               "USER", "TARGET", "NAMESPACES", COMMAND_WIDTH, "COMMAND", "EXIT", "STATE");
    while ((r = ng_store_sessions_next(it, &in)) == 1) {
        if (o->grep) {
            r = ng_store_session_grep(s, in->id, o->grep, strlen(o->grep));
            if (r < 0)
                break;
            if (r == 0)
                continue;
        }
        r = o->json ? print_json(in) : print_row(in);
        if (r < 0)
            break;
    }
    ng_store_sessions_end(it);
    if (fflush(stdout) != 0 && r == 0)
        r = -EIO;
    return r;
}

int ng_cmd_sessions(int argc, char **argv, const struct ng_caller *caller)
{
    struct sessions_opts o = {.db = ng_cmd_default_db()};
    struct ng_store *s;
    struct timespec ts;
    char **operands;
    int n;

    clock_gettime(CLOCK_REALTIME, &ts);
    o.now = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
    int st =
        ng_cmd_start(&ng_spec_sessions, usage, argc, argv, caller, sessions_opt, &o, &operands, &n);

    if (st)
        return st < 0 ? 0 : st;
    if (!o.views != !o.nlogs) {
        ng_err("--views SESSION and --audit-log FILE go together");
        fputs(usage, stderr);
        return NG_EXIT_USAGE;
    }
    if (o.live && (o.grep || o.f.user || o.f.target || o.f.since_ns || o.f.until_ns || o.f.command))
        return ng_err("--live lists every running or waiting session: it takes no filter"),
               NG_EXIT_USAGE;
    /* Privileges drop before anything is opened, except the host's store
     * for a reviewer in mediated mode (cmd_review.c). */
    if (o.views)
        return (st = ng_cmd_drop(caller)) ? st : ng_cmd_views(o.views, o.logs, o.nlogs, o.json);
    struct ng_review rv;
    ng_review_begin(&rv, caller);
    st = ng_review_list_store(&rv, o.db, o.grep || o.f.command, &s);
    if (st)
        return st;
    int r = o.live ? ng_cmd_sessions_live(s, o.json) : list(s, &o);
    ng_store_close(s);
    if (r < 0) {
        ng_err("listing sessions failed: %s", strerror(-r));
        return NG_EXIT_STORAGE;
    }
    return 0;
}
