/* nsgate sessions --live: the sessions that are running or waiting now
 * (their recorders hold their locks), with the state and watchers their
 * recorders note in their lock files (store_watch.c, control.h). The note
 * is written by root; it is still parsed as untrusted text and escaped. */
#include "cmd_store_int.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nsgate/text.h"
#include "nsgate/timearg.h"

struct live_ctx {
    struct ng_store *s;
    int json;
    int64_t now;
};

static void span(int64_t ns, char *buf, size_t size)
{
    int64_t s = ns / 1000000000LL;

    if (s < 0)
        s = 0;
    if (s < 3600)
        snprintf(buf, size, "%dm%02ds", (int)(s / 60), (int)(s % 60));
    else
        snprintf(buf, size, "%lldh%02dm", (long long)(s / 3600), (int)(s / 60 % 60));
}

/* "bob (moderating, 1m02s), carol (0m10s)" from the note's watchers. */
static char *watchers_text(json_t *w, int64_t now)
{
    size_t cap = 1024, o = 0;
    char *out = calloc(1, cap);
    json_t *e;
    size_t i;

    if (!out)
        return NULL;
    json_array_foreach(w, i, e)
    {
        json_t *u = json_object_get(e, "user"), *since = json_object_get(e, "since_ns");
        char d[32], *name = ng_escape_str(json_is_string(u) ? json_string_value(u) : "?");
        if (!name)
            break;
        span(now - (json_is_integer(since) ? json_integer_value(since) : now), d, sizeof(d));
        int n = snprintf(out + o, cap - o, "%s%s (%s%s)", o ? ", " : "", name,
                         json_is_true(json_object_get(e, "moderator")) ? "moderating, " : "", d);
        free(name);
        if (n < 0 || (size_t)n >= cap - o)
            break;
        o += (size_t)n;
    }
    if (o == 0)
        snprintf(out, cap, "-");
    return out;
}

static int print_live_row(const struct ng_session_info *in, json_t *note, int64_t now)
{
    char id[NG_UUID_STR], d[32], target[32];
    json_t *st = json_object_get(note, "state"), *since = json_object_get(note, "since_ns");
    const char *state = json_is_string(st) ? json_string_value(st) : "running";
    char *estate = ng_escape_str(state), *user = ng_escape_str(in->user_name ? in->user_name : "-");
    char *w = watchers_text(json_object_get(note, "watchers"), now);
    int r = -ENOMEM;

    ng_uuid_format(in->id, id);
    span(now - (json_is_integer(since) ? json_integer_value(since) : in->start_ns), d, sizeof(d));
    if (in->container)
        snprintf(target, sizeof(target), "%.12s", in->container);
    else
        snprintf(target, sizeof(target), "%lld", (long long)in->target_pid);
    char *etarget = ng_escape_str(target);
    if (estate && user && w && etarget)
        r = printf("%-36s  %-16s  %8s  %-12s  %-12s  %s\n", id, estate, d, user, etarget, w) < 0
                ? -EIO
                : 0;
    free(estate);
    free(user);
    free(w);
    free(etarget);
    return r;
}

/* Untrusted bytes as a JSON string: invalid UTF-8 and NUL as U+FFFD. */
static json_t *jbytes(const char *s, size_t len)
{
    char *clean = s ? malloc(len * 3 + 1) : NULL;
    size_t o = 0;

    if (!clean)
        return json_null();
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
    return j ? j : json_null();
}

static int print_live_json(const struct ng_session_info *in, json_t *note, int64_t now)
{
    char id[NG_UUID_STR], start[40];
    json_t *st = json_object_get(note, "state"), *since = json_object_get(note, "since_ns");
    json_t *w = json_object_get(note, "watchers"), *ws = json_array(), *e;
    int64_t from = json_is_integer(since) ? json_integer_value(since) : in->start_ns;
    size_t i;

    ng_uuid_format(in->id, id);
    ng_format_time_utc(in->start_ns, start, sizeof(start));
    json_array_foreach(w, i, e)
    {
        json_t *u = json_object_get(e, "user"), *uid = json_object_get(e, "uid");
        json_t *ws_since = json_object_get(e, "since_ns");
        json_array_append_new(
            ws,
            json_pack("{s:s,s:I,s:b,s:I}", "user", json_is_string(u) ? json_string_value(u) : "?",
                      "uid", (json_int_t)(json_is_integer(uid) ? json_integer_value(uid) : -1),
                      "moderator", json_is_true(json_object_get(e, "moderator")), "seconds",
                      (json_int_t)((now - (json_is_integer(ws_since) ? json_integer_value(ws_since)
                                                                     : now)) /
                                   1000000000LL)));
    }
    json_t *o =
        json_pack("{s:s,s:s,s:I,s:s,s:s?,s:I,s:I,s:s?,s:s?,s:o}", "id", id, "state",
                  json_is_string(st) ? json_string_value(st) : "running", "seconds",
                  (json_int_t)((now - from) / 1000000000LL), "start", start, "user", in->user_name,
                  "uid", (json_int_t)in->uid, "target_pid", (json_int_t)in->target_pid, "container",
                  in->container, "rule", in->rule, "watchers", ws);
    json_t *argv = json_array();
    for (size_t k = 0; argv && in->argv && k < in->argv_len;) {
        const char *nul = memchr(in->argv + k, '\0', in->argv_len - k);
        size_t n = nul ? (size_t)(nul - (in->argv + k)) : in->argv_len - k;
        json_array_append_new(argv, jbytes(in->argv + k, n));
        k += n + 1;
    }
    if (o) { /* what the approver is asked to let in */
        json_object_set_new(o, "argv", argv ? argv : json_null());
        json_object_set_new(o, "reason", jbytes(in->reason, in->reason ? strlen(in->reason) : 0));
    }
    char *text = o ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
    json_decref(o);
    if (!text)
        return -ENOMEM;
    int r = puts(text) < 0 ? -EIO : 0;
    free(text);
    return r;
}

static int one_live(void *ctx, const uint8_t id[NG_STORE_ID_LEN], const char *note_text)
{
    struct live_ctx *c = ctx;
    struct ng_session_filter f = {.id = id};
    struct ng_session_iter *it;
    const struct ng_session_info *in;
    int r = ng_store_sessions_begin(c->s, &f, &it);

    if (r < 0)
        return r;
    json_t *note = json_loads(note_text, JSON_REJECT_DUPLICATES, NULL);
    if ((r = ng_store_sessions_next(it, &in)) == 1) /* no row yet: not started */
        r = c->json ? print_live_json(in, note, c->now) : print_live_row(in, note, c->now);
    json_decref(note);
    ng_store_sessions_end(it);
    return r < 0 ? r : 0;
}

int ng_cmd_sessions_live(struct ng_store *s, int json)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct live_ctx c = {
        .s = s, .json = json, .now = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec};

    if (!json)
        printf("%-36s  %-16s  %8s  %-12s  %-12s  %s\n", "ID", "STATE", "FOR", "USER", "TARGET",
               "WATCHING");
    int r = ng_store_live_list(s, one_live, &c);
    if (fflush(stdout) != 0 && r == 0)
        r = -EIO;
    return r;
}
