/* The evidence stream's reader (stream.h, verify --jsonl): each record is
 * decoded with bounds and put back into the table it came from, in a
 * scratch store per root key (store_import.h); the verifier then reads
 * those stores as it reads any store. A record that cannot be stored is a
 * finding for the session it names (the verdict's TAMPERED), never an
 * error: the lines are hostile input. */
#include "export_int.h"
#include "nsgate/base64.h"
#include "nsgate/store_import.h"
#include "nsgate/stream.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Bounds: groups (hosts) in one verification, findings kept per group,
 * columns of a header, the longest line (one event of NG_STORE_EVENT_MAX
 * in base64 and its fields). */
#define MAX_GROUPS   256
#define MAX_FINDINGS 4096
#define MAX_COLUMNS  64

struct group {
    struct ng_stream_group pub;
    struct ng_store *s;
    struct ng_store_import *im;
};

struct ng_stream_reader {
    char *dir;
    struct group *g;
    size_t n;
    struct ng_stream_group *out;
    struct ng_stream_finding orphans[64];
    size_t norphans;
    struct group *xg;    /* the export file being read (export_line) */
    json_t *xid, *xroot; /* its session ID and root key */
};

int ng_stream_reader_new(const char *dir, struct ng_stream_reader **ret)
{
    struct ng_stream_reader *rd = calloc(1, sizeof(*rd));

    if (!rd || !(rd->dir = strdup(dir)) || !(rd->g = calloc(MAX_GROUPS, sizeof(*rd->g)))) {
        ng_stream_reader_free(rd);
        return -ENOMEM;
    }
    *ret = rd;
    return 0;
}

static void remove_store(const char *db)
{
    static const char *const ext[] = {"", "-wal", "-shm", "-journal"};
    char p[4096];

    for (size_t i = 0; i < NG_ARRAY_SIZE(ext); i++)
        if (snprintf(p, sizeof(p), "%s%s", db, ext[i]) < (int)sizeof(p))
            (void)unlink(p);
    if (snprintf(p, sizeof(p), "%s-live", db) < (int)sizeof(p))
        (void)rmdir(p);
}

void ng_stream_reader_free(struct ng_stream_reader *rd)
{
    if (!rd)
        return;
    for (size_t i = 0; rd->g && i < rd->n; i++) {
        struct group *g = &rd->g[i];
        int e = ng_store_import_end(g->im, 0); /* a scratch store rolled back */
        (void)e;
        ng_store_close(g->s);
        if (g->pub.db)
            remove_store(g->pub.db);
        free(g->pub.db);
        free(g->pub.findings);
    }
    json_decref(rd->xid);
    json_decref(rd->xroot);
    free(rd->g);
    free(rd->out);
    free(rd->dir);
    free(rd);
}

/* ---- findings -------------------------------------------------------------- */

static void orphan(struct ng_stream_reader *rd, const char *where, const char *what)
{
    struct ng_stream_finding *f;

    if (rd->norphans == NG_ARRAY_SIZE(rd->orphans))
        return;
    f = &rd->orphans[rd->norphans++];
    memset(f, 0, sizeof(*f));
    snprintf(f->what, sizeof(f->what), "%s: %s", where, what);
}

/* Keep the first finding per session (smallest seq), a bounded number. */
static void finding(struct group *g, const uint8_t id[NG_STORE_ID_LEN], int64_t seq,
                    const char *where, const char *what)
{
    struct ng_stream_group *p = &g->pub;
    struct ng_stream_finding *f = NULL;

    for (size_t i = 0; i < p->nfindings; i++)
        if (memcmp(p->findings[i].id, id, NG_STORE_ID_LEN) == 0)
            f = &p->findings[i];
    if (f && f->seq <= seq)
        return;
    if (!f && p->nfindings < MAX_FINDINGS) {
        struct ng_stream_finding *n = realloc(p->findings, (p->nfindings + 1) * sizeof(*n));
        if (!n)
            return;
        p->findings = n;
        f = &n[p->nfindings++];
    }
    if (!f)
        return;
    memcpy(f->id, id, NG_STORE_ID_LEN);
    f->seq = seq;
    snprintf(f->what, sizeof(f->what), "%s (%s)", what, where);
}

/* ---- groups ------------------------------------------------------------------ */

static int hex16(const char *s)
{
    if (!s || strlen(s) != 16)
        return 0;
    for (int i = 0; i < 16; i++)
        if (!strchr("0123456789abcdef", s[i]))
            return 0;
    return 1;
}

/* A new group labelled r16 and s16 (16 hex digits each; for an export
 * file "", the root's until its key chain line names it): its scratch
 * store is DIR/NAME.db. */
static int group_add(struct ng_stream_reader *rd, const char *name, const char *r16,
                     const char *s16, struct group **ret)
{
    char path[4096];
    struct group *g;
    int r;

    if (rd->n == MAX_GROUPS)
        return -E2BIG;
    g = &rd->g[rd->n];
    if (snprintf(path, sizeof(path), "%s/%s.db", rd->dir, name) >= (int)sizeof(path))
        return -ENAMETOOLONG;
    if (!(g->pub.db = strdup(path)))
        return -ENOMEM;
    snprintf(g->pub.root16, sizeof(g->pub.root16), "%s", r16);
    snprintf(g->pub.store16, sizeof(g->pub.store16), "%s", s16);
    rd->n++;
    r = ng_store_open(path, &g->s);
    if (r == 0)
        r = ng_store_import_begin(g->s, &g->im);
    *ret = g;
    return r;
}

/* The group of a stream's records: its root key and store labels. */
static int group_for(struct ng_stream_reader *rd, const char *r16, const char *s16,
                     struct group **ret)
{
    char name[40];

    for (size_t i = 0; i < rd->n; i++)
        if (strcmp(rd->g[i].pub.root16, r16) == 0 && strcmp(rd->g[i].pub.store16, s16) == 0) {
            *ret = &rd->g[i];
            return 0;
        }
    snprintf(name, sizeof(name), "%s-%s", r16, s16);
    return group_add(rd, name, r16, s16, ret);
}

/* ---- decoding ---------------------------------------------------------------- */

/* Every value has exactly one spelling, so that no byte of a record can
 * change without changing what is verified: integers in shortest decimal,
 * hex in lower case, base64 canonical (padded, no stray bits). */

/* "-12" -> 0 and *ret: a decimal 64-bit integer, nothing else. */
static int parse_i64(const char *t, int64_t *ret)
{
    uint64_t u;
    int neg = t[0] == '-';

    if (ng_parse_u64(t + neg, 0, neg ? (uint64_t)INT64_MAX + 1 : INT64_MAX, &u) < 0 ||
        (neg && u == 0) || (t[neg] == '0' && t[neg + 1] != '\0'))
        return -EINVAL;
    *ret = neg ? (int64_t)(0 - u) : (int64_t)u;
    return 0;
}

static int hex_to(uint8_t *buf, size_t cap, const char *t, size_t len, size_t *n)
{
    if (len % 2 || strspn(t, "0123456789abcdef") != len)
        return -EINVAL;
    return sodium_hex2bin(buf, cap, t, len, NULL, n, NULL) == 0 && *n * 2 == len ? 0 : -EINVAL;
}

static int b64_to(uint8_t *buf, size_t cap, const char *t, size_t len, size_t *n)
{
    const int v = sodium_base64_VARIANT_ORIGINAL;
    char *again;
    int r = -EINVAL;

    if (sodium_base642bin(buf, cap, t, len, NULL, n, NULL, v) < 0 ||
        sodium_base64_encoded_len(*n, v) != len + 1)
        return -EINVAL;
    again = malloc(len + 1);
    if (!again)
        return -ENOMEM;
    ng_base64_encode(again, buf, *n); /* len + 1 bytes, as checked above */
    if (memcmp(again, t, len) == 0)
        r = 0;
    free(again);
    return r;
}

/* A field as a cell: "int" (a decimal string), "hex", "b64", "text", "id"
 * (a UUID, or "ledger" for the ledger's 16 zero bytes). Null or absent
 * fields make a NULL cell (the schema refuses it); another JSON type
 * fails the record. buf holds decoded bytes (cap bytes). */
enum how { INT, HEX, B64, TEXT, ID };

static int cell_of(json_t *rec, const char *key, enum how how, const char *col, uint8_t *buf,
                   size_t cap, struct ng_store_cell *c)
{
    json_t *v = json_object_get(rec, key);
    const char *t = json_string_value(v);
    size_t len = t ? json_string_length(v) : 0;

    memset(c, 0, sizeof(*c));
    c->name = col;
    c->cls = NG_HC_NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!t)
        return -EINVAL;
    if (how == INT) {
        c->cls = NG_HC_INTEGER;
        return parse_i64(t, &c->i);
    }
    if (how == TEXT) {
        if (memchr(t, '\0', len))
            return -EINVAL;
        c->cls = NG_HC_TEXT;
        c->p = t;
        c->len = len;
        return 0;
    }
    c->cls = NG_HC_BLOB;
    c->p = buf;
    if (how == ID) {
        c->len = NG_STORE_ID_LEN;
        if (strcmp(t, "ledger") == 0) {
            memset(buf, 0, NG_STORE_ID_LEN);
            return 0;
        }
        return ng_uuid_parse(t, buf);
    }
    if (how == HEX)
        return hex_to(buf, cap, t, len, &c->len);
    return b64_to(buf, cap, t, len, &c->len);
}

struct field {
    const char *key;
    enum how how;
    const char *col;
    size_t cap;
};

static const struct field event_f[] = {{"session", ID, "session", 16},
                                       {"seq", INT, "seq", 0},
                                       {"t_ns", INT, "t_ns", 0},
                                       {"kind", TEXT, "kind", 0},
                                       {"data", B64, "data", 0},
                                       {"hash", HEX, "hash", 64},
                                       {NULL, 0, NULL, 0}};
static const struct field seal_f[] = {{"session", ID, "session", 16},
                                      {"sealno", INT, "sealno", 0},
                                      {"seq", INT, "seq", 0},
                                      {"head", HEX, "head", 64},
                                      {"prev_seal", HEX, "prev_seal_hash", 64},
                                      {"wall_ns", INT, "wall_ns", 0},
                                      {"boot_ns", INT, "boot_ns", 0},
                                      {"epoch", INT, "epoch", 0},
                                      {"signature", HEX, "signature", 128},
                                      {NULL, 0, NULL, 0}};
static const struct field ledger_f[] = {{"seq", INT, "seq", 0},
                                        {"session", ID, "session", 16},
                                        {"kind", TEXT, "kind", 0},
                                        {"wall_ns", INT, "wall_ns", 0},
                                        {"event_seq", INT, "event_seq", 0},
                                        {"value", HEX, "value", 64},
                                        {"hash", HEX, "hash", 64},
                                        {NULL, 0, NULL, 0}};
static const struct field root_f[] = {
    {"key", HEX, "root_pk", 64}, {"epoch_len_ns", INT, "epoch_len_ns", 0}, {NULL, 0, NULL, 0}};
static const struct field cert_f[] = {
    {"root_pk", HEX, "root_pk", 64},      {"epoch", INT, "epoch", 0},
    {"start_ns", INT, "start_ns", 0},     {"pubkey", HEX, "pubkey", 64},
    {"signature", HEX, "signature", 128}, {NULL, 0, NULL, 0}};

/* A record of fixed fields into table. */
static int fixed_record(struct group *g, json_t *rec, const struct field *f, const char *table)
{
    struct ng_store_cell c[10];
    uint8_t *bufs[10] = {0};
    size_t n = 0;
    int r = 0;

    for (; r == 0 && f[n].key; n++) {
        size_t cap = f[n].cap;
        if (f[n].how == B64) {
            const char *t = json_string_value(json_object_get(rec, f[n].key));
            cap = t ? json_string_length(json_object_get(rec, f[n].key)) / 4 * 3 + 3 : 1;
            if (cap > NG_STORE_EVENT_MAX + 3)
                r = -EINVAL;
        }
        if (r == 0 && cap && !(bufs[n] = malloc(cap ? cap : 1)))
            r = -ENOMEM;
        if (r == 0)
            r = cell_of(rec, f[n].key, f[n].how, f[n].col, bufs[n], cap, &c[n]);
    }
    if (r == 0)
        r = ng_store_import_row(g->im, table, c, n);
    for (size_t i = 0; i < NG_ARRAY_SIZE(bufs); i++)
        free(bufs[i]);
    return r;
}

/* [name, class, value] -> cell (value decoded into *buf, malloc'd). */
static int header_cell(json_t *col, struct ng_store_cell *c, uint8_t **buf)
{
    const char *name = json_string_value(json_array_get(col, 0));
    const char *cls = json_string_value(json_array_get(col, 1));
    json_t *v = json_array_get(col, 2);
    const char *t = json_string_value(v);
    size_t len = t ? json_string_length(v) : 0, n = 0;
    uint8_t be[8];

    memset(c, 0, sizeof(*c));
    c->name = name;
    if (!json_is_array(col) || json_array_size(col) != 3 || !name || !cls)
        return -EINVAL;
    if (strcmp(cls, "null") == 0 && json_is_null(v)) {
        c->cls = NG_HC_NULL;
        return 0;
    }
    if (!t)
        return -EINVAL;
    if (strcmp(cls, "integer") == 0) {
        c->cls = NG_HC_INTEGER;
        return parse_i64(t, &c->i);
    }
    if (strcmp(cls, "real") == 0) {
        uint64_t bits = 0;
        if (hex_to(be, sizeof(be), t, len, &n) < 0 || n != 8)
            return -EINVAL;
        for (int i = 0; i < 8; i++)
            bits = bits << 8 | be[i];
        c->cls = NG_HC_REAL;
        memcpy(&c->d, &bits, sizeof(c->d));
        return 0;
    }
    if (strcmp(cls, "text") != 0 && strcmp(cls, "blob") != 0)
        return -EINVAL;
    if (!(*buf = malloc(len / 4 * 3 + 3)))
        return -ENOMEM;
    int r = b64_to(*buf, len / 4 * 3 + 3, t, len, &n);
    if (r < 0)
        return r;
    c->cls = strcmp(cls, "text") == 0 ? NG_HC_TEXT : NG_HC_BLOB;
    if (c->cls == NG_HC_TEXT && memchr(*buf, '\0', n))
        return -EINVAL;
    c->p = *buf;
    c->len = n;
    return 0;
}

static int session_record(struct group *g, json_t *rec)
{
    json_t *h = json_object_get(rec, "header");
    struct ng_store_cell c[MAX_COLUMNS];
    uint8_t *bufs[MAX_COLUMNS] = {0};
    size_t n = json_array_size(h);
    int r = json_is_array(h) && n > 0 && n <= MAX_COLUMNS ? 0 : -EINVAL;

    uint8_t id[NG_STORE_ID_LEN];
    const char *named = json_string_value(json_object_get(rec, "session"));
    int id_ok = 0;

    for (size_t i = 0; r == 0 && i < n; i++) {
        r = header_cell(json_array_get(h, i), &c[i], &bufs[i]);
        if (r == 0 && strcmp(c[i].name, "id") == 0)
            id_ok = c[i].cls == NG_HC_BLOB && c[i].len == NG_STORE_ID_LEN && named &&
                    ng_uuid_parse(named, id) == 0 && memcmp(id, c[i].p, NG_STORE_ID_LEN) == 0;
    }
    if (r == 0 && !id_ok) /* the record names the session its header is */
        r = -EINVAL;
    if (r == 0)
        r = ng_store_import_row(g->im, "sessions", c, n);
    for (size_t i = 0; i < n && i < MAX_COLUMNS; i++)
        free(bufs[i]);
    return r;
}

/* The session a record names (zero: the ledger, or none) and its seq, for
 * a finding; headers and the key chain concern the start (seq 0). */
static void record_key(json_t *rec, const char *type, uint8_t id[NG_STORE_ID_LEN], int64_t *seq)
{
    const char *s = json_string_value(json_object_get(rec, "session"));
    const char *q = json_string_value(json_object_get(rec, "seq"));
    int keyed =
        strcmp(type, "event") == 0 || strcmp(type, "seal") == 0 || strcmp(type, "ledger") == 0;

    memset(id, 0, NG_STORE_ID_LEN);
    if (strcmp(type, "ledger") != 0 && (!s || ng_uuid_parse(s, id) < 0))
        memset(id, 0, NG_STORE_ID_LEN);
    if (!keyed || !q || parse_i64(q, seq) < 0 || *seq < 0)
        *seq = 0;
}

/* A record of type into g's scratch store; what cannot be stored is a
 * finding. */
static const struct field session_f[] = {
    {"session", ID, NULL, 0}, {"header", TEXT, NULL, 0}, {NULL, 0, NULL, 0}};

/* Each record type: its members, and the table its fields fill (NULL: a
 * session record, session_record). */
static const struct rtype {
    const char *type;
    const struct field *fields;
    const char *table;
} rtypes[] = {
    {"event", event_f, "events"}, {"seal", seal_f, "seals"}, {"ledger", ledger_f, "ledger"},
    {"cert", cert_f, "certs"},    {"root", root_f, "roots"}, {"session", session_f, NULL},
};

static const struct rtype *rtype_of(const char *type)
{
    for (size_t i = 0; i < sizeof(rtypes) / sizeof(rtypes[0]); i++)
        if (strcmp(type, rtypes[i].type) == 0)
            return &rtypes[i];
    return NULL;
}

static int record_in(struct group *g, json_t *rec, const char *type, const char *where)
{
    const struct rtype *t = rtype_of(type);
    uint8_t id[NG_STORE_ID_LEN];
    int64_t seq;
    int r;

    g->pub.records++;
    r = !t         ? -EINVAL
        : t->table ? fixed_record(g, rec, t->fields, t->table)
                   : session_record(g, rec);
    if (strcmp(type, "ledger") == 0 ||
        (strcmp(type, "seal") == 0 &&
         strcmp(json_string_value(json_object_get(rec, "session")) ?: "", "ledger") == 0))
        g->pub.has_ledger = 1;
    if (r == 0 && (strcmp(type, "root") == 0 || strcmp(type, "cert") == 0))
        g->pub.key_records++;
    if (r == 0 && strcmp(type, "root") == 0 && !g->pub.have_root) {
        const char *k = json_string_value(json_object_get(rec, "key"));
        g->pub.have_root = k && sodium_hex2bin(g->pub.root, sizeof(g->pub.root), k, strlen(k), NULL,
                                               NULL, NULL) == 0;
    }
    if (r != -EINVAL && r != -EEXIST)
        return r;
    record_key(rec, type, id, &seq);
    finding(g, id, seq, where,
            r == -EEXIST ? "a different record for the same row" : "malformed record");
    return 0;
}

/* A stream record has exactly its type's members (a member nothing
 * verifies must not ride along to a reader), and a key it names is the
 * one its label says. */
static int shape_ok(json_t *rec, const char *type, const char *r16)
{
    const struct rtype *t = rtype_of(type);
    const struct field *f = t ? t->fields : NULL;
    const char *k, *key = NULL;
    json_t *v;

    if (!f)
        return 0;
    json_object_foreach(rec, k, v)
    {
        size_t i = 0;
        if (strcmp(k, "type") == 0 || strcmp(k, "root") == 0 || strcmp(k, "store") == 0)
            continue;
        while (f[i].key && strcmp(f[i].key, k) != 0)
            i++;
        if (!f[i].key)
            return 0;
    }
    if (strcmp(type, "root") == 0)
        key = json_string_value(json_object_get(rec, "key"));
    else if (strcmp(type, "cert") == 0)
        key = json_string_value(json_object_get(rec, "root_pk"));
    return !key || strncmp(key, r16, 16) == 0;
}

static int record(struct ng_stream_reader *rd, json_t *rec, const char *where)
{
    const char *type = json_string_value(json_object_get(rec, "type"));
    const char *r16 = json_string_value(json_object_get(rec, "root"));
    const char *s16 = json_string_value(json_object_get(rec, "store"));
    struct group *g = NULL;
    int r;

    if (!type || !hex16(r16) || !hex16(s16)) {
        orphan(rd, where, "not an evidence record");
        return 0;
    }
    r = group_for(rd, r16, s16, &g);
    if (r < 0)
        return r;
    if (!shape_ok(rec, type, r16)) {
        uint8_t id[NG_STORE_ID_LEN];
        int64_t seq;
        g->pub.records++;
        record_key(rec, type, id, &seq);
        finding(g, id, seq, where, "malformed record");
        return 0;
    }
    return record_in(g, rec, type, where);
}

/* ---- one session's export file (export -f jsonl, export.h) ------------------ */

/* An export file holds one session's evidence in the shape a reviewer
 * reads: the metadata line (with "header"), the events, then the key chain,
 * certificate and seal lines, whose session and root key are implied. Each
 * line is rewritten as the stream record it stands for and goes into the
 * file's own group, named by the key chain line once it comes. Fields
 * derived for reading ("t", "command", "verification", the metadata's
 * other members) are not evidence and are not checked here. */

/* Copy the members of from named in map (source, destination pairs) into
 * a new stream record of type. An event's seq and t_ns are JSON integers
 * here (read exactly: jansson keeps 64 bits) and become the stream's
 * decimal strings. */
static json_t *rewrite(json_t *from, const char *type, const char *const *map)
{
    json_t *to = json_pack("{s:s}", "type", type);

    for (size_t i = 0; to && map[i]; i += 2) {
        json_t *v = json_object_get(from, map[i]);
        if (json_is_integer(v))
            v = json_sprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
        else
            json_incref(v);
        if (v && json_object_set_new(to, map[i + 1], v) < 0) {
            json_decref(to);
            return NULL;
        }
    }
    return to;
}

static int export_meta(struct ng_stream_reader *rd, json_t *rec, const char *where)
{
    static const char *const map[] = {"id", "session", "header", "header", NULL};
    char name[32];
    json_t *to;
    int r;

    snprintf(name, sizeof(name), "x%zu", rd->n);
    r = group_add(rd, name, "", "", &rd->xg);
    if (r < 0)
        return r;
    json_decref(rd->xid);
    rd->xid = json_incref(json_object_get(rec, "id"));
    if (!(to = rewrite(rec, "session", map)))
        return -ENOMEM;
    r = record_in(rd->xg, to, "session", where);
    json_decref(to);
    return r;
}

static int export_line(struct ng_stream_reader *rd, json_t *rec, const char *where)
{
    static const char *const ev[] = {"seq",  "seq",  "t_ns", "t_ns", "kind", "kind",
                                     "data", "data", "hash", "hash", NULL};
    static const char *const kc[] = {"root", "key", "epoch_len_ns", "epoch_len_ns", NULL};
    static const char *const ce[] = {"epoch",  "epoch", "start_ns",  "start_ns", "pk",
                                     "pubkey", "sig",   "signature", NULL};
    static const char *const se[] = {"sealno",    "sealno",    "seq",       "seq",     "head",
                                     "head",      "prev_seal", "prev_seal", "wall_ns", "wall_ns",
                                     "boot_ns",   "boot_ns",   "epoch",     "epoch",   "sig",
                                     "signature", NULL};
    json_t *kv = json_object_get(rec, "keychain"), *c = json_object_get(rec, "cert");
    json_t *sl = json_object_get(rec, "seal"), *to;
    const char *type;
    int r;

    if (json_object_get(rec, "header") && json_object_get(rec, "id"))
        return export_meta(rd, rec, where);
    if (!rd->xg) {
        orphan(rd, where, "not an evidence record");
        return 0;
    }
    if (json_is_object(kv)) {
        const char *k = json_string_value(json_object_get(kv, "root"));
        if (k && strlen(k) >= 16 && !rd->xg->pub.root16[0])
            snprintf(rd->xg->pub.root16, sizeof(rd->xg->pub.root16), "%.16s", k);
        json_decref(rd->xroot);
        rd->xroot = json_incref(json_object_get(kv, "root"));
        to = rewrite(kv, type = "root", kc);
    } else if (json_is_object(c)) {
        to = rewrite(c, type = "cert", ce);
        if (to && rd->xroot && json_object_set(to, "root_pk", rd->xroot) < 0)
            to = (json_decref(to), NULL);
    } else if (json_is_object(sl)) {
        to = rewrite(sl, type = "seal", se);
    } else {
        to = rewrite(rec, type = "event", ev);
    }
    if (!to || json_object_set(to, "session", rd->xid) < 0) {
        json_decref(to);
        return -ENOMEM;
    }
    r = record_in(rd->xg, to, type, where);
    json_decref(to);
    return r;
}

int ng_stream_reader_line(struct ng_stream_reader *rd, const char *line, size_t len,
                          const char *where)
{
    json_error_t err;
    json_t *rec;
    int r;

    if (len == 0)
        return 0;
    if (len > 2 * NG_STORE_EVENT_MAX) {
        orphan(rd, where, "line too long");
        return 0;
    }
    rec = json_loadb(line, len, JSON_REJECT_DUPLICATES, &err);
    if (!json_is_object(rec)) {
        json_decref(rec);
        orphan(rd, where, "not a JSON object");
        return 0;
    }
    r = json_object_get(rec, "type") ? record(rd, rec, where) : export_line(rd, rec, where);
    json_decref(rec);
    return r;
}

int ng_stream_reader_finish(struct ng_stream_reader *rd, struct ng_stream_group **ret, size_t *n)
{
    int r = 0;

    free(rd->out);
    rd->out = calloc(rd->n ? rd->n : 1, sizeof(*rd->out));
    if (!rd->out)
        return -ENOMEM;
    for (size_t i = 0; i < rd->n; i++) {
        struct group *g = &rd->g[i];
        int e = ng_store_import_end(g->im, 1);
        g->im = NULL;
        ng_store_close(g->s);
        g->s = NULL;
        if (e < 0 && r == 0)
            r = e;
        rd->out[i] = g->pub;
    }
    *ret = rd->out;
    *n = rd->n;
    return r;
}

const struct ng_stream_finding *ng_stream_reader_orphans(const struct ng_stream_reader *rd,
                                                         size_t *n)
{
    *n = rd->norphans;
    return rd->orphans;
}
