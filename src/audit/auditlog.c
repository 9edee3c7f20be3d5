/* Audit log reader for the cross-check and the review listing. Each line is
 * read by the audit project's own parser, libauparse (auparse.h: raw and
 * enriched lines, node= prefixes, the user message's inner fields), one
 * line at a time, so a line's form is auparse's and a damaged line cannot
 * spill into its neighbours. What nsgate adds is the hostility: lines are
 * bounded before auparse sees them, a field name twice (a forged field)
 * or anything after libaudit's res= makes an nsgate record bad, every value
 * is checked for its form, and a malformed line is only counted. Files
 * (plain or gzip-compressed) are cut into lines by auditlog_read.c. No
 * logging, no exit. */
#include "auditlog_int.h"

#include <auparse.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_FIELDS 40

struct field {
    const char *name;
    size_t nlen;
    const char *val;
    size_t vlen;
};

struct fields {
    struct field f[MAX_FIELDS];
    size_t n;
};

/* ---- Small checks ---- */

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_lower_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f');
}

static int is_upper_hex(char c)
{
    return is_digit(c) || (c >= 'A' && c <= 'F');
}

static int hex_val(char c)
{
    return is_digit(c) ? c - '0' : c - 'A' + 10;
}

/* A decimal of at most maxdigits digits at s (not NUL-terminated). */
static int parse_dec(const char *s, size_t len, size_t maxdigits, uint64_t max, uint64_t *ret)
{
    char tmp[24];

    if (len == 0 || len > maxdigits || len >= sizeof(tmp))
        return -EINVAL;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    return ng_parse_u64(tmp, 0, max, ret);
}

static int field_is(const struct field *f, const char *name)
{
    return f->nlen == strlen(name) && memcmp(f->name, name, f->nlen) == 0;
}

static int val_is(const struct field *f, const char *v)
{
    return f && f->vlen == strlen(v) && memcmp(f->val, v, f->vlen) == 0;
}

static const struct field *get(const struct fields *fs, const char *name)
{
    for (size_t i = 0; i < fs->n; i++)
        if (field_is(&fs->f[i], name))
            return &fs->f[i];
    return NULL;
}

/* ---- Field values ---- */

static int get_uuid(const struct fields *fs, char out[37])
{
    const struct field *f = get(fs, "uuid");

    if (!f || f->vlen != 36)
        return -EBADMSG;
    for (size_t i = 0; i < 36; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? f->val[i] != '-' : !is_lower_hex(f->val[i]))
            return -EBADMSG;
    }
    memcpy(out, f->val, 36);
    out[36] = '\0';
    return 0;
}

static int get_hash(const struct fields *fs, const char *name, char *out)
{
    const struct field *f = get(fs, name);

    if (!f || f->vlen < 2 || f->vlen > NG_AUDITLOG_HEX_MAX || f->vlen % 2)
        return -EBADMSG;
    for (size_t i = 0; i < f->vlen; i++)
        if (!is_lower_hex(f->val[i]))
            return -EBADMSG;
    memcpy(out, f->val, f->vlen);
    out[f->vlen] = '\0';
    return 0;
}

static int get_u64(const struct fields *fs, const char *name, uint64_t max, uint64_t *ret)
{
    const struct field *f = get(fs, name);

    if (!f)
        return -EBADMSG;
    return parse_dec(f->val, f->vlen, 20, max, ret) < 0 ? -EBADMSG : 0;
}

/* A libaudit-written text value: "quoted", HEX, or ? (unknown, ""). The
 * decoded bytes are cut at NG_AUDITLOG_TEXT_MAX and at a NUL. */
static int get_text(const struct fields *fs, const char *name, char *out)
{
    const struct field *f = get(fs, name);
    size_t n = 0;

    out[0] = '\0';
    if (!f)
        return -EBADMSG;
    if (val_is(f, "?"))
        return 0;
    if (f->vlen >= 2 && f->val[0] == '"' && f->val[f->vlen - 1] == '"') {
        if (memchr(f->val + 1, '"', f->vlen - 2))
            return -EBADMSG;
        n = f->vlen - 2 < NG_AUDITLOG_TEXT_MAX ? f->vlen - 2 : NG_AUDITLOG_TEXT_MAX;
        memcpy(out, f->val + 1, n);
        out[n] = '\0';
        return 0;
    }
    if (f->vlen == 0 || f->vlen % 2)
        return -EBADMSG;
    for (size_t i = 0; i < f->vlen; i++)
        if (!is_upper_hex(f->val[i]))
            return -EBADMSG;
    for (size_t i = 0; i < f->vlen && n < NG_AUDITLOG_TEXT_MAX; i += 2) {
        char c = (char)(hex_val(f->val[i]) * 16 + hex_val(f->val[i + 1]));
        if (c == '\0')
            break;
        out[n++] = c;
    }
    out[n] = '\0';
    return 0;
}

static int get_res(const struct fields *fs, int *res)
{
    const struct field *last = fs->n ? &fs->f[fs->n - 1] : NULL;

    /* libaudit writes res= last; anything after it was not written by it. */
    if (!last || !field_is(last, "res"))
        return -EBADMSG;
    if (val_is(last, "success"))
        *res = 1;
    else if (val_is(last, "failed"))
        *res = 0;
    else
        return -EBADMSG;
    return 0;
}

/* ---- Line structure ---- */

static const struct {
    const char *type;
    const char *op;
    enum ng_auditlog_kind kind;
} ops[] = {
    {"USER_START", "nsgate-session-open", NG_AUDITLOG_START},
    {"TRUSTED_APP", "nsgate-checkpoint", NG_AUDITLOG_CHECKPOINT},
    {"USER_END", "nsgate-session-close", NG_AUDITLOG_END},
    {"USER_ACCT", "nsgate-authz", NG_AUDITLOG_AUTHZ},
    {"USER_ERR", "nsgate-error", NG_AUDITLOG_ERROR},
    {"CRYPTO_KEY_USER", "create", NG_AUDITLOG_KEY_CREATE},
    {"CRYPTO_KEY_USER", "destroy", NG_AUDITLOG_KEY_DESTROY},
    {"TRUSTED_APP", "nsgate-review", NG_AUDITLOG_REVIEW},
};

/* Which nsgate record this is, from the type and the message's first field
 * op= (and kind=nsgate-seal, the second, for keys); NONE for everyone
 * else's records. */
static enum ng_auditlog_kind classify(const char *type, const struct fields *inner)
{
    if (inner->n == 0 || !field_is(&inner->f[0], "op"))
        return NG_AUDITLOG_NONE;
    for (size_t i = 0; i < NG_ARRAY_SIZE(ops); i++) {
        if (strcmp(type, ops[i].type) != 0 || !val_is(&inner->f[0], ops[i].op))
            continue;
        if ((ops[i].kind == NG_AUDITLOG_KEY_CREATE || ops[i].kind == NG_AUDITLOG_KEY_DESTROY) &&
            (inner->n < 2 || !field_is(&inner->f[1], "kind") ||
             !val_is(&inner->f[1], "nsgate-seal")))
            continue;
        return ops[i].kind;
    }
    return NG_AUDITLOG_NONE;
}

/* act= of a review: nsgate's own word, one of three. */
static int get_act(const struct fields *fs, char out[8])
{
    const struct field *f = get(fs, "act");

    if (!val_is(f, "replay") && !val_is(f, "export") && !val_is(f, "watch"))
        return -EBADMSG;
    memcpy(out, f->val, f->vlen);
    out[f->vlen] = '\0';
    return 0;
}

static int fill_kind(enum ng_auditlog_kind kind, const struct fields *fs,
                     struct ng_auditlog_rec *rec)
{
    uint64_t v = 0, w = 0;
    int r = 0;

    switch (kind) {
    case NG_AUDITLOG_START:
        r = get_uuid(fs, rec->uuid) ?: get_hash(fs, "hdr", rec->hash) ?: get_text(fs, "acct", rec->acct);
        break;
    case NG_AUDITLOG_CHECKPOINT:
        r = get_uuid(fs, rec->uuid) ?: get_hash(fs, "head", rec->hash)
                ?: get_u64(fs, "seqno", UINT64_MAX, &rec->seqno)
                ?: get_u64(fs, "epoch", UINT64_MAX, &rec->epoch);
        break;
    case NG_AUDITLOG_END:
        r = get_uuid(fs, rec->uuid) ?: get_hash(fs, "head", rec->hash)
                ?: get_u64(fs, "seqno", UINT64_MAX, &rec->seqno)
                ?: get_u64(fs, "exit", INT_MAX, &v) ?: get_text(fs, "acct", rec->acct)
                ?: get_text(fs, "reason", rec->reason);
        rec->exit_status = (int)v;
        break;
    case NG_AUDITLOG_AUTHZ:
        /* A denied decision carries no uuid; an allowed one must. */
        r = get_text(fs, "acct", rec->acct) ?: (rec->res ? get_uuid(fs, rec->uuid) : 0);
        break;
    case NG_AUDITLOG_ERROR:
        r = val_is(get(fs, "uuid"), "?") ? 0 : get_uuid(fs, rec->uuid);
        break;
    case NG_AUDITLOG_KEY_CREATE:
    case NG_AUDITLOG_KEY_DESTROY:
        r = get_hash(fs, "fp", rec->hash) ?: get_u64(fs, "epoch", UINT64_MAX, &rec->epoch);
        break;
    case NG_AUDITLOG_REVIEW:
        r = get_act(fs, rec->act) ?: get_uuid(fs, rec->uuid) ?: get_text(fs, "acct", rec->acct)
                ?: get_u64(fs, "viewer_uid", UINT32_MAX, &v)
                ?: get_u64(fs, "viewer_auid", UINT32_MAX, &w);
        rec->viewer_uid = (uint32_t)v;
        rec->viewer_auid = (uint32_t)w;
        break;
    case NG_AUDITLOG_NONE:
    default:
        r = -EBADMSG;
        break;
    }
    return r;
}

/* The record's fields as auparse gives them: the kernel's before op=, the
 * message's from op= on. -EBADMSG when the message has more than
 * MAX_FIELDS (the kernel's are only read for auid). */
static int collect(auparse_state_t *au, struct fields *outer, struct fields *inner)
{
    struct fields *cur = outer;
    int r = 0;

    outer->n = inner->n = 0;
    if (auparse_first_field(au) != 1)
        return 0;
    do {
        const char *name = auparse_get_field_name(au), *val = auparse_get_field_str(au);
        if (!name || !val)
            return -EBADMSG;
        if (cur == outer && strcmp(name, "op") == 0)
            cur = inner;
        if (cur->n == MAX_FIELDS) {
            r = cur == inner ? -EBADMSG : r;
            continue;
        }
        cur->f[cur->n++] = (struct field){name, strlen(name), val, strlen(val)};
    } while (auparse_next_field(au) == 1);
    return r;
}

/* One line, one record: its stamp, type and fields. -EINVAL when auparse
 * finds no audit record in it. */
static int read_record(auparse_state_t *au, struct ng_auditlog_time *t, const char **type,
                       struct fields *outer, struct fields *inner)
{
    const au_event_t *e;

    if (auparse_next_event(au) != 1 || !(e = auparse_get_timestamp(au)) ||
        auparse_get_num_records(au) != 1 || !(*type = auparse_get_type_name(au)) || !**type ||
        e->sec < 0 || e->milli > 999)
        return -EINVAL;
    t->sec = (int64_t)e->sec;
    t->msec = e->milli;
    t->serial = e->serial;
    return collect(au, outer, inner);
}

/* A field name twice is how a forged field would show: refused rather than
 * one copy believed. */
static int has_duplicate(const struct fields *fs)
{
    for (size_t i = 0; i < fs->n; i++)
        for (size_t k = 0; k < i; k++)
            if (fs->f[k].nlen == fs->f[i].nlen &&
                !memcmp(fs->f[k].name, fs->f[i].name, fs->f[i].nlen))
                return 1;
    return 0;
}

static uint32_t kernel_auid(const struct fields *outer)
{
    const struct field *f = get(outer, "auid");
    uint64_t v;

    return f && parse_dec(f->val, f->vlen, 10, UINT32_MAX, &v) == 0 ? (uint32_t)v : UINT32_MAX;
}

/* An nsgate record from a line auparse read. quoted: the user message was
 * closed as libaudit closes it; spaced: two spaces in it (libaudit writes
 * one). */
static int our_record(enum ng_auditlog_kind kind, int collected, int quoted, int spaced,
                      const struct fields *outer, const struct fields *inner,
                      struct ng_auditlog_rec *rec)
{
    if (!quoted)
        return 0; /* cut or not a user message: not one we can read */
    memset(rec, 0, sizeof(*rec));
    rec->kind = kind;
    rec->auid = kernel_auid(outer);
    if (collected < 0 || spaced || has_duplicate(inner) || get_res(inner, &rec->res) < 0 ||
        fill_kind(kind, inner, rec) < 0) {
        memset(rec, 0, sizeof(*rec));
        return -EBADMSG;
    }
    return 1;
}

int ng_auditlog_parse_line(const char *line, size_t len, struct ng_auditlog_rec *rec,
                           struct ng_auditlog_time *t)
{
    char buf[NG_AUDITLOG_LINE_MAX + 2];
    struct fields outer, inner;
    const char *type = NULL;

    memset(t, 0, sizeof(*t));
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    if (len > NG_AUDITLOG_LINE_MAX || memchr(line, '\0', len))
        return -EINVAL;
    memcpy(buf, line, len);
    buf[len] = '\0';
    /* The enriched format appends interpreted values after a 0x1d byte,
     * which libaudit and the kernel never write unencoded: what nsgate
     * checks is the raw part. */
    char *gs = memchr(buf, 0x1d, len);
    if (gs) {
        *gs = '\0';
        len = (size_t)(gs - buf);
    }
    /* libauparse 3.0.9 leaks a record with an empty type and no field
     * (about 1 KiB a line: a hostile log would grow verify without bound);
     * no audit record has an empty type, so such a line never reaches it */
    const char *ty = strstr(buf, "type=");
    if (!ty || ty[5] == ' ' || ty[5] == '\0')
        return -EINVAL;
    const char *msg = strstr(buf, " msg='");
    int quoted = msg && len > 0 && buf[len - 1] == '\'';
    int spaced = msg && strstr(msg + 6, "  ") != NULL;
    buf[len] = '\n';
    buf[len + 1] = '\0';
    auparse_state_t *au = auparse_init(AUSOURCE_BUFFER, buf);
    if (!au)
        return -ENOMEM;
    int r = read_record(au, t, &type, &outer, &inner);
    if (r != -EINVAL) {
        enum ng_auditlog_kind kind = classify(type, &inner);
        r = kind == NG_AUDITLOG_NONE ? 0 : our_record(kind, r, quoted, spaced, &outer, &inner, rec);
        if (r == 1)
            rec->t = *t;
    }
    auparse_destroy(au);
    return r;
}

int ng_auditlog_time_cmp(const struct ng_auditlog_time *a, const struct ng_auditlog_time *b)
{
    if (a->sec != b->sec)
        return a->sec < b->sec ? -1 : 1;
    if (a->msec != b->msec)
        return a->msec < b->msec ? -1 : 1;
    if (a->serial != b->serial)
        return a->serial < b->serial ? -1 : 1;
    return 0;
}

/* ---- The collection ---- */

struct ng_auditlog {
    struct ng_auditlog_rec *recs; /* session records, then keys (after finish) */
    size_t n, cap;
    size_t nkeys, keys_at;
    struct ng_auditlog_session *sessions;
    size_t nsessions;
    struct ng_auditlog_stats st;
    int finished;
};

int ng_auditlog_new(struct ng_auditlog **ret)
{
    struct ng_auditlog *log = calloc(1, sizeof(*log));

    if (!log)
        return -ENOMEM;
    log->st.empty = 1;
    *ret = log;
    return 0;
}

void ng_auditlog_free(struct ng_auditlog *log)
{
    if (!log)
        return;
    free(log->recs);
    free(log->sessions);
    free(log);
}

static void widen_span(struct ng_auditlog_stats *st, const struct ng_auditlog_time *t)
{
    if (st->empty || ng_auditlog_time_cmp(t, &st->first) < 0)
        st->first = *t;
    if (st->empty || ng_auditlog_time_cmp(t, &st->last) > 0)
        st->last = *t;
    st->empty = 0;
}

static int push(struct ng_auditlog *log, const struct ng_auditlog_rec *rec)
{
    if (log->n == log->cap) {
        size_t cap = log->cap ? log->cap * 2 : 256;
        if (cap > NG_AUDITLOG_MAX_RECORDS)
            cap = NG_AUDITLOG_MAX_RECORDS;
        if (log->n >= cap)
            return -E2BIG;
        struct ng_auditlog_rec *p = reallocarray(log->recs, cap, sizeof(*p));
        if (!p)
            return -ENOMEM;
        log->recs = p;
        log->cap = cap;
    }
    memcpy(&log->recs[log->n++], rec, sizeof(*rec));
    return 0;
}

int ng_auditlog_add_line(struct ng_auditlog *log, const char *line, size_t len)
{
    struct ng_auditlog_rec rec;
    struct ng_auditlog_time t;
    int r;

    if (log->finished)
        return -EINVAL;
    log->st.lines++;
    r = ng_auditlog_parse_line(line, len, &rec, &t);
    if (r == -EINVAL) {
        log->st.malformed++;
        return 0;
    }
    widen_span(&log->st, &t);
    if (r == -EBADMSG)
        log->st.bad++;
    if (r <= 0)
        return 0;
    /* Only records that name a session or a key are kept. */
    if (rec.kind == NG_AUDITLOG_AUTHZ && !rec.res) {
        log->st.denied++;
        return 0;
    }
    if (!rec.uuid[0] && rec.kind != NG_AUDITLOG_KEY_CREATE && rec.kind != NG_AUDITLOG_KEY_DESTROY)
        return 0;
    return push(log, &rec);
}

void ng_auditlog_note_long_line(struct ng_auditlog *log)
{
    log->st.lines++;
    log->st.long_lines++;
}

static int is_key(const struct ng_auditlog_rec *r)
{
    return r->kind == NG_AUDITLOG_KEY_CREATE || r->kind == NG_AUDITLOG_KEY_DESTROY;
}

/* Session records by (uuid, kind, time), then keys by (epoch, time): each
 * session's starts, checkpoints and ends become contiguous runs. */
static int rec_cmp(const void *pa, const void *pb)
{
    const struct ng_auditlog_rec *a = pa, *b = pb;
    int c;

    if (is_key(a) != is_key(b))
        return is_key(a) ? 1 : -1;
    if (is_key(a)) {
        if (a->epoch != b->epoch)
            return a->epoch < b->epoch ? -1 : 1;
    } else {
        c = strcmp(a->uuid, b->uuid);
        if (c)
            return c;
        if (a->kind != b->kind)
            return a->kind < b->kind ? -1 : 1;
    }
    c = ng_auditlog_time_cmp(&a->t, &b->t);
    return c ? c : memcmp(a, b, sizeof(*a));
}

static void dedupe(struct ng_auditlog *log)
{
    size_t w = 0;

    for (size_t i = 0; i < log->n; i++) {
        if (w > 0 && memcmp(&log->recs[w - 1], &log->recs[i], sizeof(log->recs[i])) == 0) {
            log->st.duplicates++;
            continue;
        }
        if (w != i)
            memcpy(&log->recs[w], &log->recs[i], sizeof(log->recs[i]));
        w++;
    }
    log->n = w;
}

static void group_session(struct ng_auditlog_session *s, const struct ng_auditlog_rec *r, size_t n)
{
    memset(s, 0, sizeof(*s));
    memcpy(s->uuid, r->uuid, sizeof(s->uuid));
    for (size_t i = 0; i < n; i++) {
        const struct ng_auditlog_rec *x = &r[i];
        switch (x->kind) {
        case NG_AUDITLOG_START:
            s->starts = s->starts ? s->starts : x;
            s->nstarts++;
            break;
        case NG_AUDITLOG_CHECKPOINT:
            s->checkpoints = s->checkpoints ? s->checkpoints : x;
            s->ncheckpoints++;
            break;
        case NG_AUDITLOG_END:
            s->ends = s->ends ? s->ends : x;
            s->nends++;
            break;
        case NG_AUDITLOG_AUTHZ:
            s->authz = s->authz ? s->authz : x;
            s->nauthz++;
            break;
        case NG_AUDITLOG_ERROR:
            s->nerrors++;
            break;
        case NG_AUDITLOG_REVIEW:
            s->reviews = s->reviews ? s->reviews : x;
            s->nreviews++;
            break;
        case NG_AUDITLOG_NONE:
        case NG_AUDITLOG_KEY_CREATE:
        case NG_AUDITLOG_KEY_DESTROY:
        default:
            break;
        }
    }
}

int ng_auditlog_finish(struct ng_auditlog *log)
{
    size_t i, j, count = 0;

    if (log->finished)
        return 0;
    if (log->n > 1)
        qsort(log->recs, log->n, sizeof(log->recs[0]), rec_cmp);
    dedupe(log);
    for (i = 0; i < log->n && !is_key(&log->recs[i]); i = j, count++)
        for (j = i + 1;
             j < log->n && !is_key(&log->recs[j]) && !strcmp(log->recs[j].uuid, log->recs[i].uuid);
             j++)
            ;
    log->keys_at = i;
    log->nkeys = log->n - i;
    log->sessions = count ? calloc(count, sizeof(*log->sessions)) : NULL;
    if (count && !log->sessions)
        return -ENOMEM;
    for (i = 0; i < log->keys_at; i = j) {
        for (j = i + 1; j < log->keys_at && !strcmp(log->recs[j].uuid, log->recs[i].uuid); j++)
            ;
        group_session(&log->sessions[log->nsessions++], &log->recs[i], j - i);
    }
    log->st.records = log->n;
    log->finished = 1;
    return 0;
}

size_t ng_auditlog_nsessions(const struct ng_auditlog *log)
{
    return log->finished ? log->nsessions : 0;
}

const struct ng_auditlog_session *ng_auditlog_session_at(const struct ng_auditlog *log, size_t i)
{
    return log->finished && i < log->nsessions ? &log->sessions[i] : NULL;
}

static int session_cmp(const void *key, const void *elem)
{
    return strcmp(key, ((const struct ng_auditlog_session *)elem)->uuid);
}

const struct ng_auditlog_session *ng_auditlog_find(const struct ng_auditlog *log, const char *uuid)
{
    if (!log->finished || !log->nsessions)
        return NULL;
    return bsearch(uuid, log->sessions, log->nsessions, sizeof(log->sessions[0]), session_cmp);
}

size_t ng_auditlog_nkeys(const struct ng_auditlog *log)
{
    return log->finished ? log->nkeys : 0;
}

const struct ng_auditlog_rec *ng_auditlog_key_at(const struct ng_auditlog *log, size_t i)
{
    return log->finished && i < log->nkeys ? &log->recs[log->keys_at + i] : NULL;
}

void ng_auditlog_get_stats(const struct ng_auditlog *log, struct ng_auditlog_stats *out)
{
    *out = log->st;
}
