/* Raw audit log reader for the cross-check. Lines are hostile: everything
 * is bounded, checked for form, and a malformed line is only counted.
 * No logging, no exit. */
#include "nsgate/auditlog.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* Split "a=1 b=2 ..." at single spaces. Every token must be NAME=VALUE
 * and no name may repeat: a repeated name is how a forged field would
 * show, so the line is refused rather than one copy believed. */
static int split_fields(const char *s, size_t len, struct fields *out)
{
    size_t i = 0;

    out->n = 0;
    while (i < len) {
        size_t start = i, eq = 0;
        while (i < len && s[i] != ' ') {
            if (s[i] == '=' && !eq)
                eq = i;
            i++;
        }
        if (!eq || eq == start || out->n == MAX_FIELDS)
            return -EBADMSG;
        struct field *f = &out->f[out->n];
        *f = (struct field){s + start, eq - start, s + eq + 1, i - eq - 1};
        for (size_t k = 0; k < out->n; k++)
            if (out->f[k].nlen == f->nlen && !memcmp(out->f[k].name, f->name, f->nlen))
                return -EBADMSG;
        out->n++;
        if (i < len)
            i++; /* the space */
        if (i == len && s[len - 1] == ' ')
            return -EBADMSG;
    }
    return 0;
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

/* "[node=N ]type=T msg=audit(S.MMM:SERIAL): " → type name and body. */
static int parse_header(const char *s, const char **type, size_t *tlen, const char **body,
                        struct ng_auditlog_time *t)
{
    uint64_t v;
    const char *p = s, *q;

    if (!strncmp(p, "node=", 5)) {
        q = strchr(p, ' ');
        if (!q || q == p + 5)
            return -EINVAL;
        p = q + 1;
    }
    if (strncmp(p, "type=", 5))
        return -EINVAL;
    p += 5;
    q = strchr(p, ' ');
    if (!q || q == p || (size_t)(q - p) > 40)
        return -EINVAL;
    *type = p;
    *tlen = (size_t)(q - p);
    p = q + 1;
    if (strncmp(p, "msg=audit(", 10))
        return -EINVAL;
    p += 10;
    for (q = p; is_digit(*q); q++)
        ;
    if (*q != '.' || parse_dec(p, (size_t)(q - p), 18, INT64_MAX, &v) < 0)
        return -EINVAL;
    t->sec = (int64_t)v;
    p = q + 1;
    if (!is_digit(p[0]) || !is_digit(p[1]) || !is_digit(p[2]) || p[3] != ':')
        return -EINVAL;
    t->msec = (uint32_t)((p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0'));
    p += 4;
    for (q = p; is_digit(*q); q++)
        ;
    if (strncmp(q, "): ", 3) || parse_dec(p, (size_t)(q - p), 20, UINT64_MAX, &t->serial) < 0)
        return -EINVAL;
    *body = q + 3;
    return 0;
}

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
};

/* Which nsgate record this is, from the type and the leading op= (and
 * kind=nsgate-seal for keys); NONE for everyone else's records. */
static enum ng_auditlog_kind classify(const char *type, size_t tlen, const char *inner, size_t ilen)
{
    for (size_t i = 0; i < NG_ARRAY_SIZE(ops); i++) {
        size_t ol = strlen(ops[i].op);
        if (strlen(ops[i].type) != tlen || memcmp(type, ops[i].type, tlen))
            continue;
        if (ilen < 3 + ol + 1 || memcmp(inner, "op=", 3) || memcmp(inner + 3, ops[i].op, ol) ||
            inner[3 + ol] != ' ')
            continue;
        if (ops[i].kind == NG_AUDITLOG_KEY_CREATE || ops[i].kind == NG_AUDITLOG_KEY_DESTROY) {
            const char *k = " kind=nsgate-seal ";
            size_t kl = strlen(k);
            if (ilen < 3 + ol + kl || memcmp(inner + 3 + ol, k, kl))
                continue;
        }
        return ops[i].kind;
    }
    return NG_AUDITLOG_NONE;
}

/* The kernel's auid= among the fields before msg='. */
static uint32_t prefix_auid(const char *body, size_t len)
{
    uint64_t v;

    for (size_t i = 0; i + 5 < len; i++) {
        if ((i == 0 || body[i - 1] == ' ') && !memcmp(body + i, "auid=", 5)) {
            size_t k = i + 5, e = k;
            while (e < len && body[e] != ' ')
                e++;
            if (parse_dec(body + k, e - k, 10, UINT32_MAX, &v) == 0)
                return (uint32_t)v;
            break;
        }
    }
    return UINT32_MAX;
}

static int fill_kind(enum ng_auditlog_kind kind, const struct fields *fs,
                     struct ng_auditlog_rec *rec)
{
    uint64_t v = 0;
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
    case NG_AUDITLOG_NONE:
    default:
        r = -EBADMSG;
        break;
    }
    return r;
}

int ng_auditlog_parse_line(const char *line, size_t len, struct ng_auditlog_rec *rec,
                           struct ng_auditlog_time *t)
{
    char buf[NG_AUDITLOG_LINE_MAX + 1];
    const char *type, *body, *inner, *gs;
    struct fields fs;
    size_t tlen, blen, ilen;
    enum ng_auditlog_kind kind;

    memset(t, 0, sizeof(*t));
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    if (len > NG_AUDITLOG_LINE_MAX || memchr(line, '\0', len))
        return -EINVAL;
    memcpy(buf, line, len);
    buf[len] = '\0';
    /* The enriched format appends interpreted values after a 0x1d byte,
     * which libaudit and the kernel never write unencoded. */
    gs = memchr(buf, 0x1d, len);
    if (gs)
        buf[gs - buf] = '\0';
    if (parse_header(buf, &type, &tlen, &body, t) < 0)
        return -EINVAL;
    blen = strlen(body);
    inner = strstr(body, "msg='");
    if (!inner || (inner != body && inner[-1] != ' ') || blen < 1 || body[blen - 1] != '\'' ||
        inner + 5 > body + blen - 1)
        return 0;
    ilen = (size_t)(body + blen - 1 - (inner + 5));
    inner += 5;
    kind = classify(type, tlen, inner, ilen);
    if (kind == NG_AUDITLOG_NONE)
        return 0;
    memset(rec, 0, sizeof(*rec));
    rec->kind = kind;
    rec->t = *t;
    rec->auid = prefix_auid(body, (size_t)(inner - 5 - body));
    if (split_fields(inner, ilen, &fs) < 0 || get_res(&fs, &rec->res) < 0 ||
        fill_kind(kind, &fs, rec) < 0) {
        memset(rec, 0, sizeof(*rec));
        return -EBADMSG;
    }
    return 1;
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

/* Lines are cut at '\n'; a line longer than NG_AUDITLOG_LINE_MAX is
 * skipped up to its end and counted. */
int ng_auditlog_add_fd(struct ng_auditlog *log, int fd)
{
    enum { CHUNK = 65536 };
    char *chunk = malloc(CHUNK), *line = malloc(NG_AUDITLOG_LINE_MAX + 1);
    size_t llen = 0;
    int overflow = 0, r = 0;

    if (!chunk || !line) {
        r = -ENOMEM;
        goto out;
    }
    for (;;) {
        ssize_t got = read(fd, chunk, CHUNK);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            r = -errno;
            goto out;
        }
        if (got == 0)
            break;
        for (size_t i = 0; i < (size_t)got && r == 0; i++) {
            if (chunk[i] != '\n') {
                if (llen < NG_AUDITLOG_LINE_MAX)
                    line[llen++] = chunk[i];
                else
                    overflow = 1;
                continue;
            }
            if (overflow) {
                log->st.lines++;
                log->st.long_lines++;
            } else {
                r = ng_auditlog_add_line(log, line, llen);
            }
            llen = 0;
            overflow = 0;
        }
        if (r < 0)
            goto out;
    }
    /* A last line without '\n' (a log being written) is still read. */
    if (overflow) {
        log->st.lines++;
        log->st.long_lines++;
    } else if (llen > 0) {
        r = ng_auditlog_add_line(log, line, llen);
    }
out:
    free(chunk);
    free(line);
    return r;
}

int ng_auditlog_add_file(struct ng_auditlog *log, const char *path)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
    int r;

    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode))) {
        close(fd);
        return -EINVAL;
    }
    r = ng_auditlog_add_fd(log, fd);
    close(fd);
    return r;
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
