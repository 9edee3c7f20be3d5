/* Export writers: asciicast v2 and JSON lines (export_html.c builds the
 * page on top of the asciicast events). Everything recorded is untrusted:
 * it only ever reaches the output through jansson's encoder, with
 * JSON_ENSURE_ASCII so no control or odd character leaves raw. */
#include "nsgate/export.h"

#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "export_int.h"
#include "nsgate/base64.h"
#include "nsgate/cmdline.h"
#include "nsgate/fskey.h"
#include "nsgate/text.h"
#include "nsgate/timearg.h"
#include "nsgate/uuid.h"

#define DEFAULT_COLS 80
#define DEFAULT_ROWS 24

int ng_export_parse_format(const char *name, enum ng_export_format *ret)
{
    static const char *const names[] = {"asciicast", "jsonl", "html"};

    for (size_t i = 0; i < NG_ARRAY_SIZE(names); i++)
        if (strcmp(name, names[i]) == 0) {
            *ret = (enum ng_export_format)i;
            return 0;
        }
    return -EINVAL;
}

/* ---- UTF-8 ----------------------------------------------------------- */

/* Bytes a sequence starting with lead b takes (0: not a lead byte), and
 * the range its second byte must fall in (no overlongs, no surrogates,
 * nothing above U+10FFFF). */
static size_t utf8_lead(uint8_t b, uint8_t *lo, uint8_t *hi)
{
    *lo = 0x80, *hi = 0xbf;
    if (b < 0x80)
        return 1;
    if (b >= 0xc2 && b <= 0xdf)
        return 2;
    if (b >= 0xe0 && b <= 0xef) {
        if (b == 0xe0)
            *lo = 0xa0;
        else if (b == 0xed)
            *hi = 0x9f;
        return 3;
    }
    if (b >= 0xf0 && b <= 0xf4) {
        if (b == 0xf0)
            *lo = 0x90;
        else if (b == 0xf4)
            *hi = 0x8f;
        return 4;
    }
    return 0;
}

/* The valid bytes of a sequence at p (n of them available): returns need
 * when complete, a smaller count when the sequence is valid so far but cut
 * by the end of the buffer, 0 when invalid. */
static size_t utf8_check(const uint8_t *p, size_t avail, size_t *need)
{
    uint8_t lo, hi;
    size_t n = utf8_lead(p[0], &lo, &hi), i;

    *need = n;
    if (n <= 1)
        return n;
    for (i = 1; i < n && i < avail; i++) {
        if (p[i] < lo || p[i] > hi)
            return 0;
        lo = 0x80, hi = 0xbf;
    }
    return i;
}

size_t ng_export_utf8_clean(const uint8_t *in, size_t len, char *out, size_t *hold)
{
    size_t o = 0, i = 0, need;

    if (hold)
        *hold = 0;
    while (i < len) {
        size_t ok = utf8_check(in + i, len - i, &need);
        if (ok == need && ok > 0) {
            memcpy(out + o, in + i, ok);
            o += ok;
            i += ok;
        } else if (ok > 0 && i + ok == len && hold) {
            *hold = ok; /* cut by the end: the next event may complete it */
            break;
        } else {
            memcpy(out + o, "\xef\xbf\xbd", 3);
            o += 3;
            i += ok > 0 ? ok : 1; /* a valid but cut prefix is one bad character */
        }
    }
    return o;
}

json_t *ng_export_jstr(const void *p, size_t len)
{
    if (!p)
        return json_null();
    char *clean = malloc(len * 3 + 1);
    if (!clean)
        return NULL;
    size_t n = ng_export_utf8_clean(p, len, clean, NULL);
    json_t *j = json_stringn(clean, n);
    free(clean);
    return j;
}

static json_t *jstr0(const char *s)
{
    return ng_export_jstr(s, s ? strlen(s) : 0);
}

/* ---- output ------------------------------------------------------------ */

struct dump_ctx {
    ng_export_write_fn write;
    void *warg;
    int html; /* filter through ng_export_json_for_html */
    int err;
};

static int dump_cb(const char *buf, size_t size, void *data)
{
    struct dump_ctx *d = data;
    int r = d->html ? ng_export_json_for_html(buf, size, d->write, d->warg)
                    : d->write(d->warg, buf, size);
    if (r < 0) {
        d->err = r;
        return -1;
    }
    return 0;
}

int ng_export_dump(json_t *j, int html, ng_export_write_fn write, void *warg)
{
    struct dump_ctx d = {write, warg, html, 0};

    if (!j)
        return -ENOMEM;
    if (json_dump_callback(j, dump_cb, &d, NG_EXPORT_JSON_FLAGS) < 0)
        return d.err ? d.err : -ENOMEM;
    return 0;
}

/* Dump j (reference stolen) and a newline. */
static int dump_line(json_t *j, ng_export_write_fn write, void *warg)
{
    int r = ng_export_dump(j, 0, write, warg);

    json_decref(j);
    return r < 0 ? r : write(warg, "\n", 1);
}

/* Seconds as a JSON number, rounded to microseconds (players need no more;
 * jsonl also carries the exact t_ns). */
json_t *ng_export_seconds(int64_t ns)
{
    int64_t us = ns >= 0 ? (ns + 500) / 1000 : (ns - 500) / 1000;

    return json_real((double)us / 1e6);
}

/* ---- metadata ---------------------------------------------------------- */

static json_t *json_argv(const char *argv, size_t len)
{
    json_t *a = json_array();

    for (size_t i = 0; a && argv && i < len;) {
        const char *nul = memchr(argv + i, '\0', len - i);
        size_t n = nul ? (size_t)(nul - (argv + i)) : len - i;
        json_array_append_new(a, ng_export_jstr(argv + i, n));
        i += n + 1;
    }
    return a;
}

static json_t *json_verdict(const struct ng_export_in *in)
{
    const struct ng_verify_result *v = in->verdict;
    char hex[2 * NG_FSKEY_PK_BYTES + 1];

    if (!v)
        return json_null();
    json_t *o = json_pack("{s:s,s:I,s:I}", "result", ng_verify_word_str(v->word), "events",
                          (json_int_t)v->events, "sealed", (json_int_t)v->sealed);
    if (o && (v->word == NG_VERIFY_TAMPERED || v->word == NG_VERIFY_MISSING)) {
        json_object_set_new(o, "seq", json_integer(v->seq));
        json_object_set_new(o, "what", jstr0(v->what));
    }
    if (o && in->root_pk) {
        sodium_bin2hex(hex, sizeof(hex), in->root_pk, NG_FSKEY_PK_BYTES);
        json_object_set_new(o, "root", json_string(hex));
    }
    return o;
}

static json_t *json_namespaces(ng_nsset ns)
{
    json_t *a = json_array();

    for (int i = 0; a && i < NG_NS_COUNT; i++)
        if (ns & (1u << i))
            json_array_append_new(a, json_string(ng_ns_table[i].name));
    return a;
}

json_t *ng_export_meta_json(const struct ng_export_in *in)
{
    const struct ng_session_info *s = in->info;
    char id[NG_UUID_STR], start[40], end[40], hh[2 * NG_HASH_LEN + 1];

    ng_uuid_format(s->id, id);
    ng_format_time_utc(s->start_ns, start, sizeof(start));
    ng_format_time_utc(s->end_ns, end, sizeof(end));
    json_t *o = json_pack(
        "{s:s,s:s,s:o,s:o,s:o,s:I,s:I,s:o,s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:s,s:b,s:b,s:I}",
        "id", id, "start", start, "end", s->has_end ? json_string(end) : json_null(), "host",
        jstr0(s->host), "user", jstr0(s->user_name), "uid", (json_int_t)s->uid, "gid",
        (json_int_t)s->gid, "tty", jstr0(s->tty), "target_pid", (json_int_t)s->target_pid,
        "container", jstr0(s->container), "namespaces", json_namespaces(s->ns), "program",
        jstr0(s->program), "argv", json_argv(s->argv, s->argv_len), "reason", jstr0(s->reason),
        "rule", jstr0(s->rule), "exit", s->has_end ? json_integer(s->exit_status) : json_null(),
        "end_reason", s->has_end ? jstr0(s->end_reason) : json_null(), "state",
        ng_store_state_name(s->state), "record_input", s->record_input != 0, "pty", s->pty != 0,
        "events", (json_int_t)s->last_seq);
    if (!o)
        return NULL;
    json_object_set_new(o, "commands", json_integer(s->commands));
    json_object_set_new(o, "record_commands",
                        s->record_commands < 0 ? json_null() : json_boolean(s->record_commands));
    json_object_set_new(o, "verification", json_verdict(in));
    json_object_set_new(o, "hash_alg", json_string(NG_HASH_ALG));
    if (in->mask_escrow) {
        sodium_bin2hex(hh, sizeof(hh), in->mask_escrow, NG_STORE_ESCROW_PK_LEN);
        json_object_set_new(o, "mask_escrow", json_string(hh));
    } else {
        json_object_set_new(o, "mask_escrow", json_null());
    }
    json_object_set_new(o, "revealed", json_boolean(in->reveal != NULL));
    /* The chain's start (seq 1 chains onto it), as verify recomputed it:
     * absent when verification could not establish even the header. */
    if (in->verdict && in->verdict->events >= 0 &&
        !(in->verdict->word == NG_VERIFY_TAMPERED && in->verdict->seq == 0)) {
        sodium_bin2hex(hh, sizeof(hh), in->verdict->header_hash, NG_HASH_LEN);
        json_object_set_new(o, "header_hash", json_string(hh));
    }
    return o;
}

/* ---- size -------------------------------------------------------------- */

int ng_export_parse_size(const uint8_t *p, size_t len, unsigned *cols, unsigned *rows)
{
    char text[32];
    uint64_t c, r;

    if (len == 0 || len >= sizeof(text))
        return -EINVAL;
    memcpy(text, p, len);
    text[len] = '\0';
    char *x = strchr(text, 'x');
    if (!x)
        return -EINVAL;
    *x = '\0';
    if (ng_parse_u64(text, 1, 9999, &c) < 0 || ng_parse_u64(x + 1, 1, 9999, &r) < 0)
        return -EINVAL;
    *cols = (unsigned)c;
    *rows = (unsigned)r;
    return 0;
}

int ng_export_first_size(ng_export_next_fn next, void *arg, unsigned *cols, unsigned *rows)
{
    struct ng_event ev;
    int r;

    *cols = DEFAULT_COLS;
    *rows = DEFAULT_ROWS;
    while ((r = next(arg, &ev)) == 1)
        if (ev.kind == 'r' && ng_export_parse_size(ev.data, ev.len, cols, rows) == 0)
            return 0;
    return r;
}

/* ---- asciicast ------------------------------------------------------------ */

static json_t *cast_header(const struct ng_export_in *in)
{
    const struct ng_session_info *s = in->info;
    const struct ng_verify_result *v = in->verdict;
    char id[NG_UUID_STR];
    const char *prefix = "";

    ng_uuid_format(s->id, id);
    if (v && (v->word == NG_VERIFY_TAMPERED || v->word == NG_VERIFY_MISSING))
        prefix = "TAMPERED: ";
    else if (v && v->word == NG_VERIFY_INCOMPLETE)
        prefix = "INCOMPLETE: ";
    json_t *title = json_sprintf("%snsgate session %s", prefix, id);
    return json_pack("{s:i,s:i,s:i,s:I,s:o}", "version", 2, "width", (int)in->width, "height",
                     (int)in->height, "timestamp", (json_int_t)(s->start_ns / 1000000000LL),
                     "title", title);
}

/* The marker put first when the verdict is not OK, so every player shows
 * it at the start. NULL when OK. */
json_t *ng_export_verdict_marker(const struct ng_export_in *in)
{
    const struct ng_verify_result *v = in->verdict;

    if (!v || v->word == NG_VERIFY_OK)
        return NULL;
    if (v->word == NG_VERIFY_INCOMPLETE)
        return json_sprintf("INCOMPLETE: %lld events, sealed up to %lld", (long long)v->events,
                            (long long)(v->sealed < 0 ? 0 : v->sealed));
    json_t *what = jstr0(v->what);
    json_t *m = json_sprintf("TAMPERED at seq=%lld: %s", (long long)v->seq,
                             what ? json_string_value(what) : "?");
    json_decref(what);
    return m;
}

struct cast_writer {
    ng_export_write_fn write;
    void *warg;
    int html; /* events become elements of a JSON array in the page */
    int nout; /* events written (for the separators of html) */
    int64_t last_ns;
    int crlf; /* pipe mode: output LF shown as CR LF */
    struct {
        uint8_t b[4];
        size_t n;
        int cr; /* the last byte written was CR */
    } carry[3]; /* o, e, i: a character cut between two events */
    /* --reveal: masked stars held until the next event says whether a box
     * stands for them */
    struct ng_reveal *rv;
    int held;
    int64_t held_ns;
    size_t held_len;
};

static int cast_emit(struct cast_writer *w, int64_t ns, const char *code, json_t *data)
{
    json_t *e = data ? json_pack("[o,s,o]", ng_export_seconds(ns), code, data) : NULL;
    int r;

    if (!e)
        return -ENOMEM;
    if (w->html) {
        r = w->write(w->warg, w->nout ? ",\n" : "\n", w->nout ? 2 : 1);
        if (r == 0)
            r = ng_export_dump(e, 1, w->write, w->warg);
    } else {
        r = dump_line(json_incref(e), w->write, w->warg);
    }
    json_decref(e);
    w->nout++;
    return r;
}

/* A pipe-mode session's output went to pipes, where LF is not turned into
 * CR LF as a terminal's line discipline does (onlcr): add the CR, so that
 * players show lines, not a staircase. In place: buf has room for 3 bytes
 * per byte of the original event and clean text takes at most that. */
static size_t crlf(char *buf, size_t n, int *cr)
{
    size_t add = 0;
    int c = *cr;

    for (size_t i = 0; i < n; i++) {
        add += buf[i] == '\n' && !c;
        c = buf[i] == '\r';
    }
    size_t o = n + add;
    for (size_t i = n; i-- > 0;) {
        buf[--o] = buf[i];
        if (buf[i] == '\n' && !(i > 0 ? buf[i - 1] == '\r' : *cr))
            buf[--o] = '\r';
    }
    *cr = n ? buf[n + add - 1] == '\r' : *cr;
    return n + add;
}

/* Output or input text: joined with the bytes held back from this stream's
 * previous event, cleaned, the tail of a cut character held again. */
static int cast_text(struct cast_writer *w, int slot, int64_t ns, const char *code,
                     const uint8_t *p, size_t len)
{
    size_t held = w->carry[slot].n, hold;
    uint8_t *joined = malloc(held + len + 1);
    char *clean = malloc((held + len) * 6 + 1); /* U+FFFD each, then CR LF */
    int r = -ENOMEM;

    if (joined && clean) {
        memcpy(joined, w->carry[slot].b, held);
        memcpy(joined + held, p, len);
        size_t n = ng_export_utf8_clean(joined, held + len, clean, &hold);
        memcpy(w->carry[slot].b, joined + held + len - hold, hold);
        w->carry[slot].n = hold;
        if (w->crlf && slot < 2)
            n = crlf(clean, n, &w->carry[slot].cr);
        r = n ? cast_emit(w, ns, code, json_stringn(clean, n)) : 0;
    }
    free(joined);
    free(clean);
    return r;
}

static int cast_exit(struct cast_writer *w, const struct ng_event *ev)
{
    json_error_t err;
    json_t *o = json_loadb((const char *)ev->data, ev->len, JSON_REJECT_DUPLICATES, &err);
    json_t *x = json_object_get(o, "exit");
    json_t *label = json_is_integer(x) ? json_sprintf("exit %lld", (long long)json_integer_value(x))
                                       : json_string("exit ?");

    json_decref(o);
    return cast_emit(w, ev->t_ns, "m", label);
}

json_t *ng_export_command(const struct ng_event *ev)
{
    struct ng_cmd c;

    if (ev->kind != 'c' || ng_cmd_parse(ev->data, ev->len, &c) < 0)
        return NULL;
    char *line = ng_cmd_quote(c.argv, c.argv_len);
    const char *err = ng_cmd_errno_name(c.result);
    json_t *o = line ? json_pack("{s:o,s:I,s:I,s:s,s:b}", "t", ng_export_seconds(ev->t_ns), "pid",
                                 (json_int_t)c.pid, "uid", (json_int_t)c.uid, "line", line,
                                 "verified", c.verified)
                     : NULL;
    if (o && c.result > 0)
        json_object_set_new(o, "error", json_string(err ? err : "failed"));
    if (o && c.truncated)
        json_object_set_new(o, "truncated", json_true());
    free(line);
    ng_cmd_free(&c);
    return o;
}

/* A command as a marker: "$ " and its command line. */
static int cast_command(struct cast_writer *w, const struct ng_event *ev)
{
    json_t *c = ng_export_command(ev);
    json_t *line = json_object_get(c, "line");
    int r = 0;

    if (json_is_string(line))
        r = cast_emit(w, ev->t_ns, "m", json_sprintf("$ %s", json_string_value(line)));
    json_decref(c);
    return r;
}

static int cast_event(struct cast_writer *w, const struct ng_event *ev)
{
    w->last_ns = ev->t_ns;
    switch (ev->kind) {
    case 'o':
        return cast_text(w, 0, ev->t_ns, "o", ev->data, ev->len);
    case 'e': /* asciicast has one output stream */
        return cast_text(w, 1, ev->t_ns, "o", ev->data, ev->len);
    case 'i':
        return cast_text(w, 2, ev->t_ns, "i", ev->data, ev->len);
    case 'r':
        return cast_emit(w, ev->t_ns, "r", ng_export_jstr(ev->data, ev->len));
    case 'm':
        return cast_emit(w, ev->t_ns, "m", ng_export_jstr(ev->data, ev->len));
    case 'x':
        return cast_exit(w, ev);
    case 'c':
        return cast_command(w, ev);
    default:
        return 0; /* a kind this version does not know: not for a player */
    }
}

/* "[masked N, ]revealed: TEXT": the marker of a revealed stretch. */
static int cast_revealed_marker(struct cast_writer *w, const struct ng_event *ev, int merge)
{
    char *text = ng_escape((const char *)w->rv->done, w->rv->done_len);
    char *mark = merge ? ng_escape((const char *)ev->data, ev->len) : NULL;
    json_t *label = NULL;

    if (text && (mark || !merge))
        label = merge ? json_sprintf("%s, revealed: %s", mark, text)
                      : json_sprintf("revealed: %s", text);
    free(text);
    free(mark);
    return label ? cast_emit(w, ev->t_ns, "m", label) : -ENOMEM;
}

static int cast_release_held(struct cast_writer *w)
{
    static const uint8_t stars[NG_REVEAL_STRETCH_MAX] = {[0 ... NG_REVEAL_STRETCH_MAX - 1] = '*'};

    if (!w->held)
        return 0;
    w->held = 0; /* no box for these stars: they stay stars */
    return cast_text(w, 2, w->held_ns, "i", stars, w->held_len);
}

/* --reveal: a 'k' event puts its bytes in place of the stars held before
 * it; the stretch's marker says what was revealed. */
static int cast_event_revealed(struct cast_writer *w, const struct ng_event *ev)
{
    int f = ng_reveal_feed(w->rv, ev), r = 0;

    if (f < 0)
        return f;
    if (f & NG_REVEAL_OPENED) {
        w->held = 0;
        w->last_ns = ev->t_ns;
        return cast_text(w, 2, w->held_ns, "i", w->rv->plain, w->rv->plain_len);
    }
    r = cast_release_held(w);
    if (r == 0 && (f & NG_REVEAL_STRETCH_END)) {
        if (ng_reveal_is_mask_marker(ev)) {
            w->last_ns = ev->t_ns;
            return cast_revealed_marker(w, ev, 1);
        }
        r = cast_revealed_marker(w, ev, 0);
    }
    if (r == 0 && ev->kind == 'i' && w->rv->prev_stars) {
        w->held = 1;
        w->held_ns = w->last_ns = ev->t_ns;
        w->held_len = ev->len;
        return 0;
    }
    return r < 0 ? r : cast_event(w, ev);
}

/* The asciicast events of in (after its header): shared by asciicast and
 * html. */
int ng_export_cast_events(const struct ng_export_in *in, int html, ng_export_write_fn write,
                          void *warg)
{
    static const char *const codes[] = {"o", "o", "i"};
    struct cast_writer w = {
        .write = write, .warg = warg, .html = html, .crlf = !in->info->pty, .rv = in->reveal};
    struct ng_event ev;
    json_t *m = ng_export_verdict_marker(in);
    int r = m ? cast_emit(&w, 0, "m", m) : 0;

    while (r == 0 && (r = in->next(in->next_arg, &ev)) == 1)
        r = w.rv ? cast_event_revealed(&w, &ev) : cast_event(&w, &ev);
    if (r == 0 && w.rv) {
        r = cast_release_held(&w);
        ev = (struct ng_event){.t_ns = w.last_ns, .kind = 'm'};
        if (r == 0 && ng_reveal_finish(w.rv))
            r = cast_revealed_marker(&w, &ev, 0);
    }
    /* Bytes still held at the end were a cut character: U+FFFD each. */
    for (int i = 0; r == 0 && i < 3; i++)
        if (w.carry[i].n)
            r = cast_emit(&w, w.last_ns, codes[i], ng_export_jstr(w.carry[i].b, w.carry[i].n));
    return r;
}

static int write_asciicast(const struct ng_export_in *in, ng_export_write_fn write, void *warg)
{
    int r = dump_line(cast_header(in), write, warg);

    return r < 0 ? r : ng_export_cast_events(in, 0, write, warg);
}

json_t *ng_export_cast_header(const struct ng_export_in *in)
{
    return cast_header(in);
}

/* ---- jsonl ------------------------------------------------------------- */

static json_t *base64(const uint8_t *p, size_t len)
{
    size_t blen = sodium_base64_encoded_len(len, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = malloc(blen);

    if (!b64)
        return NULL;
    sodium_bin2base64(b64, blen, p, len, sodium_base64_VARIANT_ORIGINAL);
    json_t *j = json_string(b64);
    free(b64);
    return j;
}

/* Dump j (reference stolen) and a newline; html: escaped for the page. */
static int dump_line_html(json_t *j, int html, ng_export_write_fn write, void *warg)
{
    int r = ng_export_dump(j, html, write, warg);

    json_decref(j);
    return r < 0 ? r : write(warg, "\n", 1);
}

/* revealed: the bytes of a 'k' event's box (--reveal), or NULL. */
static int jsonl_event(const struct ng_event *ev, const struct ng_reveal *revealed, int html,
                       ng_export_write_fn write, void *warg)
{
    char *b64 = malloc(NG_BASE64_LEN(ev->len)), hex[2 * NG_HASH_LEN + 1] = "";
    char kind[2] = {ev->kind, '\0'};

    if (!b64)
        return -ENOMEM;
    ng_base64_encode(b64, ev->data, ev->len);
    if (ev->hash_len == NG_HASH_LEN)
        sodium_bin2hex(hex, sizeof(hex), ev->hash, ev->hash_len);
    json_t *o = json_pack("{s:I,s:o,s:I,s:o,s:s,s:s}", "seq", (json_int_t)ev->seq, "t",
                          ng_export_seconds(ev->t_ns), "t_ns", (json_int_t)ev->t_ns, "kind",
                          ng_export_jstr(kind, 1), "data", b64, "hash", hex);
    free(b64);
    if (o && ev->kind == 'c') {
        /* The event's own JSON, parsed, so a SIEM need not decode base64;
         * data stays the exact bytes the hash covers. */
        json_t *cmd = json_loadb((const char *)ev->data, ev->len, JSON_REJECT_DUPLICATES, NULL);
        if (json_is_object(cmd))
            json_object_set_new(o, "command", cmd);
        else
            json_decref(cmd);
    }
    if (o && revealed)
        json_object_set_new(o, "revealed", base64(revealed->plain, revealed->plain_len));
    return o ? dump_line_html(o, html, write, warg) : -ENOMEM;
}

int ng_export_jsonl_lines(const struct ng_export_in *in, int html, ng_export_write_fn write,
                          void *warg)
{
    struct ng_event ev;
    json_t *meta = ng_export_meta_json(in), *header = ng_export_evidence_header(in->evidence);
    int r;

    if (meta && header)
        json_object_set_new(meta, "header", header);
    else
        json_decref(header);
    r = dump_line_html(meta, html, write, warg);
    while (r == 0 && (r = in->next(in->next_arg, &ev)) == 1) {
        int f = in->reveal ? ng_reveal_feed(in->reveal, &ev) : 0;
        r = f < 0 ? f
                  : jsonl_event(&ev, (f & NG_REVEAL_OPENED) ? in->reveal : NULL, html, write, warg);
    }
    return r < 0 ? r : ng_export_evidence_tail(in->evidence, html, write, warg);
}

static int write_jsonl(const struct ng_export_in *in, ng_export_write_fn write, void *warg)
{
    return ng_export_jsonl_lines(in, 0, write, warg);
}

int ng_export_write(enum ng_export_format fmt, const struct ng_export_in *in,
                    ng_export_write_fn write, void *warg)
{
    switch (fmt) {
    case NG_EXPORT_ASCIICAST:
        return write_asciicast(in, write, warg);
    case NG_EXPORT_JSONL:
        return write_jsonl(in, write, warg);
    case NG_EXPORT_HTML:
        return ng_export_html(in, write, warg);
    default:
        return -EINVAL;
    }
}
