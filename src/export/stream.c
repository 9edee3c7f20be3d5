/* The evidence stream's follower (stream.h): each poll writes, from one
 * snapshot of the store, what was sealed since the last one. The position
 * is small (the ledger's seq and sealno, the certificates sent, and per
 * session not yet complete its seq and sealno), so a cursor can hold it. */
#include "export_int.h"
#include "nsgate/base64.h"
#include "nsgate/store_rows.h"
#include "nsgate/stream.h"

#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* More sessions open at once than a follower keeps (each is one row of
 * the cursor). */
#define MAX_OPEN 65536

struct open_session {
    uint8_t id[NG_STORE_ID_LEN];
    int64_t seq, sealno; /* written up to */
    int header;          /* its header is written */
};

struct ng_stream {
    uint8_t root[NG_FSKEY_PK_BYTES];
    char r16[17];
    char s16[17];      /* this stream's label of the store file (random) */
    uint64_t dev, ino; /* the store file it follows */
    int one;           /* following one session */
    uint8_t session[NG_STORE_ID_LEN];
    int root_sent;
    int64_t cert_epoch; /* the last certificate written, -1: none */
    int64_t ledger_seq, ledger_sealno;
    struct open_session *open;
    size_t nopen, cap;
    int done;
};

struct out {
    const struct ng_stream *st;
    ng_export_write_fn write;
    void *warg;
    size_t *wrote;
};

int ng_stream_new(const uint8_t root[NG_FSKEY_PK_BYTES], const uint8_t *session,
                  struct ng_stream **ret)
{
    struct ng_stream *st = calloc(1, sizeof(*st));

    if (!st)
        return -ENOMEM;
    memcpy(st->root, root, NG_FSKEY_PK_BYTES);
    uint8_t label[8];
    randombytes_buf(label, sizeof(label));
    sodium_bin2hex(st->r16, sizeof(st->r16), root, 8);
    sodium_bin2hex(st->s16, sizeof(st->s16), label, sizeof(label));
    st->cert_epoch = -1;
    if (session) {
        st->one = 1;
        memcpy(st->session, session, NG_STORE_ID_LEN);
        st->open = calloc(1, sizeof(*st->open));
        if (!st->open) {
            free(st);
            return -ENOMEM;
        }
        memcpy(st->open[0].id, session, NG_STORE_ID_LEN);
        st->nopen = st->cap = 1;
    }
    *ret = st;
    return 0;
}

void ng_stream_free(struct ng_stream *st)
{
    if (!st)
        return;
    free(st->open);
    free(st);
}

int ng_stream_done(const struct ng_stream *st)
{
    return st->one && st->done;
}

void ng_stream_set_origin(struct ng_stream *st, uint64_t dev, uint64_t ino)
{
    st->dev = dev;
    st->ino = ino;
}

int ng_stream_origin_is(const struct ng_stream *st, uint64_t dev, uint64_t ino)
{
    return st->dev == dev && st->ino == ino;
}

/* A new entry for id, not looked for first (a cursor's entries are
 * checked for duplicates all at once: unique_open). */
static int append_open(struct ng_stream *st, const uint8_t id[NG_STORE_ID_LEN],
                       struct open_session **ret)
{
    if (st->nopen == MAX_OPEN)
        return -E2BIG;
    if (st->nopen == st->cap) {
        size_t cap = st->cap ? 2 * st->cap : 16;
        struct open_session *n = realloc(st->open, cap * sizeof(*n));
        if (!n)
            return -ENOMEM;
        st->open = n;
        st->cap = cap;
    }
    *ret = &st->open[st->nopen++];
    memset(*ret, 0, sizeof(**ret));
    memcpy((*ret)->id, id, NG_STORE_ID_LEN);
    return 0;
}

static int add_open(struct ng_stream *st, const uint8_t id[NG_STORE_ID_LEN],
                    struct open_session **ret)
{
    for (size_t i = 0; i < st->nopen; i++)
        if (memcmp(st->open[i].id, id, NG_STORE_ID_LEN) == 0) {
            *ret = &st->open[i];
            return 0;
        }
    return append_open(st, id, ret);
}

static int cmp_id(const void *a, const void *b)
{
    return memcmp(a, b, NG_STORE_ID_LEN);
}

/* A cursor names each open session once: sorted copies of the ids, so a
 * hostile cursor of MAX_OPEN entries costs n log n, not n squared. */
static int unique_open(const struct ng_stream *st)
{
    uint8_t(*ids)[NG_STORE_ID_LEN];
    int r = 0;

    if (st->nopen < 2)
        return 0;
    ids = malloc(st->nopen * sizeof(*ids));
    if (!ids)
        return -ENOMEM;
    for (size_t i = 0; i < st->nopen; i++)
        memcpy(ids[i], st->open[i].id, NG_STORE_ID_LEN);
    qsort(ids, st->nopen, sizeof(*ids), cmp_id);
    for (size_t i = 1; i < st->nopen && r == 0; i++)
        if (memcmp(ids[i - 1], ids[i], NG_STORE_ID_LEN) == 0)
            r = -EINVAL;
    free(ids);
    return r;
}

/* ---- records ------------------------------------------------------------- */

/* j: the record's fields (reference stolen), written after type and root. */
static int emit(struct out *o, const char *type, json_t *j)
{
    json_t *rec = json_pack("{s:s,s:s,s:s}", "type", type, "root", o->st->r16, "store", o->st->s16);
    int r = rec && j && json_object_update(rec, j) == 0 ? 0 : -ENOMEM;

    if (r == 0)
        r = ng_export_dump(rec, 0, o->write, o->warg);
    json_decref(rec);
    json_decref(j);
    if (r == 0)
        r = o->write(o->warg, "\n", 1);
    if (r == 0)
        (*o->wrote)++;
    return r;
}

/* A 64-bit integer as a decimal string: nanosecond times pass 2^53, past
 * which many JSON readers (a browser's, jq) round numbers. */
static json_t *i64s(int64_t v)
{
    char b[24];

    snprintf(b, sizeof(b), "%" PRId64, v);
    return json_string(b);
}

/* Column col of the current row: an integer, or null for another class. */
static json_t *jint(const struct ng_store_rows *rw, int col)
{
    return ng_store_row_is_int(rw, col) ? i64s(ng_store_row_int(rw, col)) : json_null();
}

static json_t *jhex(const struct ng_store_rows *rw, int col)
{
    return ng_store_row_is_blob(rw, col, -1)
               ? ng_export_hex(ng_store_row_blob(rw, col), ng_store_row_len(rw, col))
               : json_null();
}

static json_t *jid(const uint8_t id[NG_STORE_ID_LEN])
{
    char text[NG_UUID_STR];

    if (sodium_is_zero(id, NG_STORE_ID_LEN))
        return json_string("ledger");
    ng_uuid_format(id, text);
    return json_string(text);
}

static json_t *jtext(const struct ng_store_rows *rw, int col)
{
    const char *t = ng_store_row_is_text(rw, col) ? ng_store_row_text(rw, col) : NULL;

    return t ? ng_export_jstr(t, ng_store_row_len(rw, col)) : json_null();
}

/* A row of NG_Q_SEALS(_AFTER) as a seal record. */
static json_t *seal_json(const uint8_t chain[NG_STORE_ID_LEN], const struct ng_store_rows *rw)
{
    return json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "session", jid(chain), "sealno",
                     jint(rw, 0), "seq", jint(rw, 1), "head", jhex(rw, 2), "prev_seal", jhex(rw, 3),
                     "wall_ns", jint(rw, 4), "boot_ns", jint(rw, 5), "epoch", jint(rw, 6),
                     "signature", jhex(rw, 7));
}

/* An event record, written without a JSON tree: it is most of the stream. */
static int emit_event(struct out *o, const uint8_t id[NG_STORE_ID_LEN], const struct ng_event *ev)
{
    char id_text[NG_UUID_STR], hash[2 * NG_HASH_LEN + 1] = "", kind[8], head[256];
    char *b64 = malloc(NG_BASE64_LEN(ev->len));
    int r;

    if (!b64)
        return -ENOMEM;
    ng_uuid_format(id, id_text);
    if (ev->hash_len == NG_HASH_LEN)
        sodium_bin2hex(hash, sizeof(hash), ev->hash, ev->hash_len);
    if ((ev->kind >= 'a' && ev->kind <= 'z'))
        snprintf(kind, sizeof(kind), "%c", ev->kind);
    else
        snprintf(kind, sizeof(kind), "\\u%04x", (unsigned)(unsigned char)ev->kind);
    ng_base64_encode(b64, ev->data, ev->len);
    int n = snprintf(head, sizeof(head),
                     "{\"type\":\"event\",\"root\":\"%s\",\"store\":\"%s\",\"session\":\"%s\","
                     "\"seq\":\"%" PRId64 "\",\"t_ns\":\"%" PRId64
                     "\",\"kind\":\"%s\",\"hash\":\"%s\",\"data\":\"",
                     o->st->r16, o->st->s16, id_text, ev->seq, ev->t_ns, kind, hash);
    r = n > 0 && (size_t)n < sizeof(head) ? o->write(o->warg, head, (size_t)n) : -EOVERFLOW;
    if (r == 0)
        r = o->write(o->warg, b64, NG_BASE64_LEN(ev->len) - 1);
    if (r == 0)
        r = o->write(o->warg, "\"}\n", 3);
    free(b64);
    if (r == 0)
        (*o->wrote)++;
    return r;
}

/* ---- the key chain ------------------------------------------------------------ */

static int send_keys(struct ng_stream *st, struct ng_store *s, struct out *o)
{
    struct ng_store_arg a[2] = {NG_ARG_BLOB(st->root, NG_FSKEY_PK_BYTES),
                                NG_ARG_INT(st->cert_epoch)};
    struct ng_store_rows *rw;
    int rc, r;

    if (!st->root_sent) {
        r = ng_store_rows_open(s, NG_Q_EPOCH_LEN, a, 1, &rw);
        if (r < 0)
            return r;
        rc = ng_store_rows_next(rw);
        json_t *j = rc == 1 ? json_pack("{s:o,s:o}", "key", ng_export_hex(st->root, 32),
                                        "epoch_len_ns", jint(rw, 0))
                            : NULL;
        ng_store_rows_close(rw);
        if (rc <= 0) /* no roots row yet: nothing is sealed under it */
            return rc;
        r = emit(o, "root", j);
        if (r < 0)
            return r;
        st->root_sent = 1;
    }
    r = ng_store_rows_open(s, NG_Q_CERTS_AFTER, a, 2, &rw);
    while (r == 0 && (rc = ng_store_rows_next(rw)) == 1) {
        json_t *j = json_pack("{s:o,s:o,s:o,s:o,s:o}", "root_pk", ng_export_hex(st->root, 32),
                              "epoch", jint(rw, 0), "start_ns", jint(rw, 1), "pubkey", jhex(rw, 2),
                              "signature", jhex(rw, 3));
        r = emit(o, "cert", j);
        if (r == 0 && ng_store_row_is_int(rw, 0))
            st->cert_epoch = ng_store_row_int(rw, 0);
    }
    if (r == 0 && rc < 0)
        r = rc;
    ng_store_rows_close(rw);
    return r;
}

/* ---- a session ---------------------------------------------------------------- */

/* The seals after sess->sealno, as records (not yet written), and the
 * highest seq they cover. */
static int new_seals(struct ng_store *s, const struct open_session *sess, json_t *seals,
                     int64_t *covers, int64_t *last_sealno)
{
    struct ng_store_arg a[2] = {NG_ARG_BLOB(sess->id, NG_STORE_ID_LEN), NG_ARG_INT(sess->sealno)};
    struct ng_store_rows *rw;
    int rc, r = ng_store_rows_open(s, NG_Q_SEALS_AFTER, a, 2, &rw);

    while (r == 0 && (rc = ng_store_rows_next(rw)) == 1) {
        if (!ng_store_row_is_int(rw, 0) || !ng_store_row_is_int(rw, 1)) {
            r = -EBADMSG;
            break;
        }
        if (ng_store_row_int(rw, 1) > *covers)
            *covers = ng_store_row_int(rw, 1);
        *last_sealno = ng_store_row_int(rw, 0);
        if (json_array_append_new(seals, seal_json(sess->id, rw)) < 0)
            r = -ENOMEM;
    }
    if (r == 0 && rc < 0)
        r = rc;
    ng_store_rows_close(rw);
    return r;
}

/* The events up to seq covers; *ended: the last one written is the 'x'. */
static int send_events(struct ng_store *s, struct open_session *sess, int64_t covers, struct out *o,
                       int *ended)
{
    struct ng_event_iter *it;
    struct ng_event ev;
    int rc, r = ng_store_events_after(s, sess->id, sess->seq, &it);

    while (r == 0 && (rc = ng_store_events_next(it, &ev)) == 1 && ev.seq <= covers) {
        r = emit_event(o, sess->id, &ev);
        if (r == 0) {
            sess->seq = ev.seq;
            *ended = ev.kind == 'x';
        }
    }
    if (r == 0 && rc < 0)
        r = rc;
    ng_store_events_end(it);
    return r;
}

/* What was sealed of one session since the last poll. 1 when it is
 * complete (its 'x' event written and sealed), 0, or a negative errno. */
static int send_session(struct ng_store *s, struct open_session *sess, struct out *o)
{
    json_t *seals = json_array(), *j;
    int64_t covers = sess->seq, sealno = sess->sealno;
    int ended = 0, r = seals ? new_seals(s, sess, seals, &covers, &sealno) : -ENOMEM;
    size_t i;

    if (r == 0 && json_array_size(seals) == 0) {
        json_decref(seals);
        return 0; /* nothing new is sealed */
    }
    if (r == 0 && !sess->header) {
        json_t *h = NULL;
        r = ng_export_header_json(s, sess->id, &h);
        if (r == 0)
            r = emit(o, "session", json_pack("{s:o,s:o}", "session", jid(sess->id), "header", h));
        sess->header = r == 0;
    }
    if (r == 0 && covers > sess->seq)
        r = send_events(s, sess, covers, o, &ended);
    json_array_foreach(seals, i, j)
    {
        if (r < 0)
            break;
        r = emit(o, "seal", json_incref(j));
    }
    json_decref(seals);
    if (r < 0)
        return r;
    sess->sealno = sealno;
    return ended && sess->seq <= covers ? 1 : 0;
}

static void drop_open(struct ng_stream *st, size_t i)
{
    st->open[i] = st->open[--st->nopen];
}

/* Every session not yet complete; a damaged one is left (*bad). */
static int send_open(struct ng_stream *st, struct ng_store *s, struct out *o, size_t *bad)
{
    for (size_t i = 0; i < st->nopen;) {
        int r = send_session(s, &st->open[i], o);
        if (r == -EBADMSG || r == -ENOENT) {
            (*bad)++;
            r = 1;
        }
        if (r < 0)
            return r;
        if (r == 1 && st->one)
            st->done = 1;
        if (r == 1)
            drop_open(st, i);
        else
            i++;
    }
    return 0;
}

/* ---- the ledger ------------------------------------------------------------------ */

/* The ledger's entries up to its newest seal: each session a start entry
 * names is written first (its header and what is sealed of it), then the
 * entries, then the ledger's seals. */
static int send_ledger(struct ng_stream *st, struct ng_store *s, struct out *o, size_t *bad)
{
    static const uint8_t ledger[NG_STORE_ID_LEN];
    struct open_session lsess = {.sealno = st->ledger_sealno};
    json_t *seals = json_array(), *j;
    int64_t covers = st->ledger_seq, sealno = st->ledger_sealno;
    struct ng_store_rows *rw = NULL;
    struct ng_store_arg a = NG_ARG_INT(st->ledger_seq);
    int rc = 0, r = seals ? new_seals(s, &lsess, seals, &covers, &sealno) : -ENOMEM;
    size_t i;

    memcpy(lsess.id, ledger, sizeof(ledger));
    if (r == 0 && covers > st->ledger_seq)
        r = ng_store_rows_open(s, NG_Q_LEDGER_AFTER, &a, 1, &rw);
    while (rw && r == 0 && (rc = ng_store_rows_next(rw)) == 1) {
        if (!ng_store_row_is_int(rw, 0) || !ng_store_row_is_blob(rw, 1, NG_STORE_ID_LEN)) {
            r = -EBADMSG;
            break;
        }
        int64_t seq = ng_store_row_int(rw, 0);
        if (seq > covers)
            break;
        const char *kind = ng_store_row_is_text(rw, 2) ? ng_store_row_text(rw, 2) : "";
        struct open_session *sess = NULL;
        if (strcmp(kind, "start") == 0 &&
            (r = add_open(st, ng_store_row_blob(rw, 1), &sess)) == 0) {
            r = send_session(s, sess, o);
            if (r == -EBADMSG || r == -ENOENT)
                (*bad)++, r = 1;
            if (r == 1) /* complete already: not kept */
                drop_open(st, (size_t)(sess - st->open));
            r = r < 0 ? r : 0;
        }
        json_t *e =
            json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "seq", jint(rw, 0), "session",
                      jid(ng_store_row_blob(rw, 1)), "kind", jtext(rw, 2), "wall_ns", jint(rw, 3),
                      "event_seq", jint(rw, 4), "value", jhex(rw, 5), "hash", jhex(rw, 6));
        if (r == 0)
            r = emit(o, "ledger", e);
        else
            json_decref(e);
        if (r == 0)
            st->ledger_seq = seq;
    }
    if (r == 0 && rc < 0)
        r = rc;
    ng_store_rows_close(rw);
    json_array_foreach(seals, i, j)
    {
        if (r < 0)
            break;
        r = emit(o, "seal", json_incref(j));
    }
    json_decref(seals);
    if (r == 0)
        st->ledger_sealno = sealno;
    return r;
}

int ng_stream_poll(struct ng_stream *st, struct ng_store *s, ng_export_write_fn write, void *warg,
                   size_t *wrote, size_t *bad)
{
    struct out o = {st, write, warg, wrote};
    int r;

    *wrote = 0;
    *bad = 0;
    if (st->done)
        return 0;
    r = ng_store_snapshot_begin(s);
    if (r < 0)
        return r;
    r = send_keys(st, s, &o);
    if (r == 0 && st->root_sent)
        r = send_open(st, s, &o, bad);
    if (r == 0 && st->root_sent && !st->one)
        r = send_ledger(st, s, &o, bad);
    ng_store_snapshot_end(s);
    return r;
}

/* ---- the cursor ------------------------------------------------------------------- */

#define CURSOR_MAGIC "nsgate-stream-cursor 1"

int ng_stream_save(const struct ng_stream *st, uint64_t out_len, char **ret, size_t *ret_len)
{
    char root[2 * NG_FSKEY_PK_BYTES + 1], id[NG_UUID_STR];
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (!f)
        return -ENOMEM;
    sodium_bin2hex(root, sizeof(root), st->root, NG_FSKEY_PK_BYTES);
    ng_uuid_format(st->session, id);
    fprintf(f,
            "%s\nroot %s %d %" PRId64 "\nfollow %s\nledger %" PRId64 " %" PRId64 "\noutput %" PRIu64
            "\ndone %d\nstore %s %" PRIu64 " %" PRIu64 "\n",
            CURSOR_MAGIC, root, st->root_sent, st->cert_epoch, st->one ? id : "all", st->ledger_seq,
            st->ledger_sealno, out_len, st->done, st->s16, st->dev, st->ino);
    for (size_t i = 0; i < st->nopen; i++) {
        ng_uuid_format(st->open[i].id, id);
        fprintf(f, "open %s %" PRId64 " %" PRId64 " %d\n", id, st->open[i].seq, st->open[i].sealno,
                st->open[i].header);
    }
    if (fclose(f) != 0) {
        free(buf);
        return -ENOMEM;
    }
    *ret = buf;
    *ret_len = len;
    return 0;
}

/* One cursor line: its word and up to four fields after it. */
static int cursor_line(char *line, char **word, char *f[4])
{
    int n = 0;
    char *save = NULL, *t = strtok_r(line, " ", &save);

    *word = t;
    while (t && (t = strtok_r(NULL, " ", &save)) != NULL) {
        if (n == 4)
            return -EINVAL;
        f[n++] = t;
    }
    return *word ? n : -EINVAL;
}

static int num(const char *s, int64_t min, int64_t *ret)
{
    uint64_t v;

    if (min < 0 && strcmp(s, "-1") == 0) {
        *ret = -1;
        return 0;
    }
    if (ng_parse_u64(s, 0, INT64_MAX, &v) < 0)
        return -EINVAL;
    *ret = (int64_t)v;
    return 0;
}

static int cursor_apply(struct ng_stream *st, char *word, char **f, int n, uint64_t *out_len)
{
    uint8_t id[NG_STORE_ID_LEN], root[NG_FSKEY_PK_BYTES];
    int64_t a, b, c;
    struct open_session *sess;

    if (strcmp(word, "root") == 0 && n == 3) {
        if (sodium_hex2bin(root, sizeof(root), f[0], strlen(f[0]), NULL, NULL, NULL) < 0 ||
            strlen(f[0]) != 2 * NG_FSKEY_PK_BYTES || num(f[1], 0, &a) < 0 || a > 1 ||
            num(f[2], -1, &b) < 0)
            return -EINVAL;
        if (memcmp(root, st->root, sizeof(root)) != 0)
            return -ESRCH;
        st->root_sent = (int)a;
        st->cert_epoch = b;
        return 0;
    }
    if (strcmp(word, "follow") == 0 && n == 1) {
        int one = strcmp(f[0], "all") != 0;
        if (one && ng_uuid_parse(f[0], id) < 0)
            return -EINVAL;
        return one != st->one || (one && memcmp(id, st->session, sizeof(id)) != 0) ? -ESRCH : 0;
    }
    if (strcmp(word, "ledger") == 0 && n == 2)
        return num(f[0], 0, &st->ledger_seq) < 0 || num(f[1], 0, &st->ledger_sealno) < 0 ? -EINVAL
                                                                                         : 0;
    if (strcmp(word, "output") == 0 && n == 1)
        return num(f[0], 0, &a) < 0 ? -EINVAL : (*out_len = (uint64_t)a, 0);
    if (strcmp(word, "store") == 0 && n == 3) {
        if (strlen(f[0]) != 16 || strspn(f[0], "0123456789abcdef") != 16 || num(f[1], 0, &a) < 0 ||
            num(f[2], 0, &b) < 0)
            return -EINVAL;
        memcpy(st->s16, f[0], sizeof(st->s16));
        st->dev = (uint64_t)a;
        st->ino = (uint64_t)b;
        return 0;
    }
    if (strcmp(word, "done") == 0 && n == 1)
        return num(f[0], 0, &a) < 0 || a > 1 ? -EINVAL : (st->done = (int)a, 0);
    if (strcmp(word, "open") == 0 && n == 4) {
        if (ng_uuid_parse(f[0], id) < 0 || num(f[1], 0, &a) < 0 || num(f[2], 0, &b) < 0 ||
            num(f[3], 0, &c) < 0 || c > 1)
            return -EINVAL;
        int r = append_open(st, id, &sess);
        if (r == 0) {
            sess->seq = a;
            sess->sealno = b;
            sess->header = (int)c;
        }
        return r;
    }
    return -EINVAL;
}

int ng_stream_load(struct ng_stream *st, const char *text, size_t len, uint64_t *out_len)
{
    char *copy = strndup(text, len), *save = NULL, *line, *word, *f[4];
    int r = copy ? 0 : -ENOMEM, n;

    if (r == 0 && (memchr(text, '\0', len) || len == 0 || text[len - 1] != '\n'))
        r = -EINVAL;
    line = r == 0 ? strtok_r(copy, "\n", &save) : NULL;
    if (r == 0 && (!line || strcmp(line, CURSOR_MAGIC) != 0))
        r = -EINVAL;
    if (r == 0 && st->one)
        st->nopen = 0; /* the cursor says whether it is still open */
    while (r == 0 && (line = strtok_r(NULL, "\n", &save)) != NULL) {
        n = cursor_line(line, &word, f);
        r = n < 0 ? n : cursor_apply(st, word, f, n, out_len);
    }
    if (r == 0)
        r = unique_open(st);
    free(copy);
    return r;
}
