/* Verifying sessions (verify.h): the generic walk over a hash chain and its
 * seals, the session header and events, and the certificate chain. The
 * database is hostile: every value is checked for its storage class and size
 * before use, and a wrong one is a verdict (TAMPERED), never an error. */
#include "verify_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* More certificates than an honest key chain can have (fskey.h catch-up
 * bound): the rest are ignored, and seals using them fail. */
#define MAX_CERTS (1U << 20)

const char *ng_verify_word_str(enum ng_verify_word w)
{
    switch (w) {
    case NG_VERIFY_OK:
        return "OK";
    case NG_VERIFY_INCOMPLETE:
        return "INCOMPLETE";
    case NG_VERIFY_MISSING:
        return "MISSING";
    case NG_VERIFY_TAMPERED:
    default:
        return "TAMPERED";
    }
}

void ng_verify_fail(struct chain *c, int64_t seq, const char *fmt, ...)
{
    va_list ap;

    if (c->failed)
        return; /* the first failure is the one reported */
    c->failed = 1;
    c->res->word = NG_VERIFY_TAMPERED;
    c->res->seq = seq < 0 ? 0 : seq;
    va_start(ap, fmt);
    (void)vsnprintf(c->res->what, sizeof(c->res->what), fmt, ap);
    va_end(ap);
}

/* Read and verify rows until cur reaches target (or the chain fails). */
static int advance(struct chain *c, int64_t target)
{
    while (!c->failed && c->cur < target) {
        int r = c->next(c);
        if (r < 0)
            return r;
        if (r == 0)
            ng_verify_fail(c, c->cur + 1, "sealed entries are not in the store (seq %lld..%lld)",
                           (long long)c->cur + 1, (long long)target);
    }
    return 0;
}

struct seal_row {
    int64_t sealno;
    struct ng_seal_fields f;
    uint8_t sig[NG_SEAL_SIG_BYTES];
};

static int read_seal(const struct ng_store_rows *st, const uint8_t id[NG_STORE_ID_LEN],
                     struct seal_row *s)
{
    if (!ng_store_row_is_int(st, 0) || !ng_store_row_is_int(st, 1) ||
        !ng_store_row_is_blob(st, 2, NG_SEAL_HASH_BYTES) ||
        !ng_store_row_is_blob(st, 3, NG_SEAL_HASH_BYTES) || !ng_store_row_is_int(st, 4) ||
        !ng_store_row_is_int(st, 5) || !ng_store_row_is_int(st, 6) ||
        !ng_store_row_is_blob(st, 7, NG_SEAL_SIG_BYTES) || ng_store_row_int(st, 1) < 0)
        return -EBADMSG;
    s->sealno = ng_store_row_int(st, 0);
    memcpy(s->f.chain_id, id, NG_STORE_ID_LEN); /* signed: a moved seal fails */
    s->f.last_seq = (uint64_t)ng_store_row_int(st, 1);
    memcpy(s->f.head, ng_store_row_blob(st, 2), NG_SEAL_HASH_BYTES);
    memcpy(s->f.prev_seal, ng_store_row_blob(st, 3), NG_SEAL_HASH_BYTES);
    s->f.wall_ns = (uint64_t)ng_store_row_int(st, 4);
    s->f.boot_ns = (uint64_t)ng_store_row_int(st, 5);
    s->f.epoch = (uint64_t)ng_store_row_int(st, 6);
    memcpy(s->sig, ng_store_row_blob(st, 7), NG_SEAL_SIG_BYTES);
    return 0;
}

static void seal_failed(struct chain *c, int64_t proven, const struct seal_row *s,
                        enum ng_seal_status st)
{
    const struct ng_verifier *v = c->v;

    if (st == NG_SEAL_UNKNOWN_EPOCH && v->cert_status != NG_SEAL_OK && s->f.epoch >= v->nepochs)
        ng_verify_fail(c, proven + 1, "seal %lld: %s", (long long)s->sealno, v->cert_what);
    else
        ng_verify_fail(c, proven + 1, "seal %lld: %s", (long long)s->sealno,
                       ng_seal_status_str(st));
}

/* One seal, its predecessor prev (NULL for the first). proven: what the
 * previous good seal covered (c->base before the first). */
static int check_seal(struct chain *c, const struct seal_row *s, const struct seal_row *prev,
                      int64_t proven, const struct ng_seal_timing *t)
{
    int64_t q = (int64_t)s->f.last_seq;
    uint64_t oldest = c->start_ns;
    int r;

    if (q > proven && proven + 1 > 0) { /* the oldest entry it newly covers */
        r = advance(c, proven + 1);
        if (r < 0 || c->failed)
            return r;
        oldest = c->cur_wall;
    }
    enum ng_seal_status st =
        ng_seal_check(c->v->epochs, c->v->nepochs, &s->f, s->sig, prev ? &prev->f : NULL,
                      prev ? prev->sig : NULL, q > proven ? &oldest : NULL, t);
    if (st != NG_SEAL_OK) {
        seal_failed(c, proven, s, st);
        return 0;
    }
    if (c->covered && q > proven) { /* the entries this seal is the first to cover */
        c->cover = &s->f;
        c->cover_sealno = s->sealno;
        c->cover_from = proven + 1;
        c->covered(c); /* the oldest, read above */
    }
    r = c->failed ? 0 : advance(c, q);
    c->cover = NULL;
    if (r < 0 || c->failed)
        return r;
    if (sodium_memcmp(c->head, s->f.head, NG_HASH_LEN) != 0)
        ng_verify_fail(c, proven + 1, "seal %lld: the sealed head differs from the entries",
                       (long long)s->sealno);
    return 0;
}

static int walk_seals(struct chain *c, struct ng_store_rows *st, const uint8_t id[NG_STORE_ID_LEN],
                      const struct ng_seal_timing *t, int64_t *proven)
{
    struct seal_row rows[2];
    int cur = 0, have_prev = 0, rc, r = 0;

    while (!c->failed && (rc = ng_store_rows_next(st)) == 1) {
        struct seal_row *s = &rows[cur];
        if (read_seal(st, id, s) < 0) {
            ng_verify_fail(c, *proven + 1, "seal %lld: malformed row",
                           (long long)(have_prev ? rows[!cur].sealno + 1 : 1));
            break;
        }
        if (s->sealno != (have_prev ? rows[!cur].sealno + 1 : 1)) {
            ng_verify_fail(c, *proven + 1, "seal numbers not contiguous (%lld)",
                           (long long)s->sealno);
            break;
        }
        /* The recorder never seals a session again after the seal over
         * its exit event: a later one was made by someone else (with a
         * later key, e.g. to pin a re-timed ledger end entry). */
        if (c->ended && have_prev && (int64_t)rows[!cur].f.last_seq == c->cur) {
            ng_verify_fail(c, *proven + 1, "seal %lld: a seal after the session's final seal",
                           (long long)s->sealno);
            break;
        }
        r = check_seal(c, s, have_prev ? &rows[!cur] : NULL, *proven, t);
        if (r < 0 || c->failed)
            break;
        if ((int64_t)s->f.last_seq > *proven)
            *proven = (int64_t)s->f.last_seq;
        have_prev = 1;
        cur = !cur;
    }
    if (r == 0 && !c->failed && rc < 0)
        r = rc;
    return r;
}

int ng_verify_walk(struct chain *c, const uint8_t chain_id[NG_STORE_ID_LEN],
                   const struct ng_seal_timing *t)
{
    struct ng_store_rows *st;
    struct ng_store_arg arg = NG_ARG_BLOB(chain_id, NG_STORE_ID_LEN);
    int64_t proven = c->base;
    int r = ng_store_rows_open(c->v->s, NG_Q_SEALS, &arg, 1, &st);

    if (r < 0)
        return r;
    r = walk_seals(c, st, chain_id, t, &proven);
    ng_store_rows_close(st);
    while (r == 0 && !c->failed && (r = c->next(c)) == 1)
        r = 0;
    if (r < 0)
        return r;
    c->res->events = c->cur;
    c->res->sealed = proven;
    if (!c->failed)
        c->res->word =
            proven < c->cur || (c->base < 0 && !c->ended) ? NG_VERIFY_INCOMPLETE : NG_VERIFY_OK;
    return 0;
}

int64_t ng_verify_epoch_at(const struct ng_verifier *v, uint64_t wall_ns)
{
    size_t lo = 0, hi = v->nepochs; /* starts strictly increase (certificate rules) */

    if (hi == 0 || wall_ns < v->epochs[0].start_ns)
        return -1;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (v->epochs[mid].start_ns <= wall_ns)
            lo = mid;
        else
            hi = mid;
    }
    return (int64_t)lo;
}

/* ---- sessions ------------------------------------------------------------ */

static void check_points(struct chain *c)
{
    for (; c->ipt < c->npts && c->pts[c->ipt].seq <= c->cur; c->ipt++) {
        struct ng_verify_point *p = &c->pts[c->ipt];
        p->status = p->seq == c->cur && sodium_memcmp(p->head, c->head, NG_HASH_LEN) == 0 ? 0 : 1;
    }
}

static int next_event(struct chain *c)
{
    struct ng_store_rows *st = c->rows;
    int64_t want = c->cur + 1;
    int rc = ng_store_rows_next(st);

    if (rc <= 0)
        return rc;
    if (!ng_store_row_is_int(st, 0)) {
        ng_verify_fail(c, want, "event seq is not an integer");
        return 0;
    }
    int64_t seq = ng_store_row_int(st, 0);
    if (seq != want) {
        ng_verify_fail(c, want,
                       seq < want ? "event seq %lld again or out of order"
                                  : "event missing (next stored seq is %lld)",
                       (long long)seq);
        return 0;
    }
    if (c->ended) {
        ng_verify_fail(c, want, "event after the exit event");
        return 0;
    }
    if (!ng_store_row_is_int(st, 1) || !ng_store_row_is_text(st, 2) ||
        !ng_store_row_is_blob(st, 3, -1) || !ng_store_row_is_blob(st, 4, NG_HASH_LEN) ||
        ng_store_row_len(st, 2) != 1) {
        ng_verify_fail(c, want, "malformed event row (a value of the wrong type or size)");
        return 0;
    }
    const char *kind = ng_store_row_text(st, 2);
    int64_t t_ns = ng_store_row_int(st, 1);
    const void *data = ng_store_row_blob(st, 3);
    size_t len = (size_t)ng_store_row_len(st, 3);
    uint8_t h[NG_HASH_LEN];
    if (c->blocks && !ng_store_row_is_int(st, 5) && !ng_store_row_is_null(st, 5)) {
        ng_verify_fail(c, want, "malformed event row (a value of the wrong type or size)");
        return 0;
    }
    if (c->blocks && ng_store_row_is_int(st, 5)) { /* its data is in a block */
        int64_t blen = ng_store_row_int(st, 5);
        const uint8_t *bd;
        int r = blen < 0 || len != 0 ? -EBADMSG
                                     : ng_store_blocks_take(c->blocks, seq, (size_t)blen, &bd);
        if (r == -EBADMSG) {
            ng_verify_fail(c, blen < 0 || len != 0 ? want : ng_store_blocks_bad_seq(c->blocks),
                           "%s",
                           blen < 0 || len != 0 ? "malformed event row (data and block_len)"
                                                : ng_store_blocks_why(c->blocks));
            return 0;
        }
        if (r < 0)
            return r;
        data = bd;
        len = (size_t)blen;
    }
    ng_chain_event_hash(c->res->id, seq, t_ns, kind[0], data, len, c->head, h);
    if (sodium_memcmp(h, ng_store_row_blob(st, 4), NG_HASH_LEN) != 0) {
        ng_verify_fail(c, want, "event hash does not match its content or its predecessor");
        return 0;
    }
    memcpy(c->head, h, NG_HASH_LEN);
    c->cur = seq;
    c->cur_wall = (uint64_t)c->start_ns + (uint64_t)t_ns;
    c->ended = kind[0] == 'x';
    check_points(c);
    return 1;
}

/* The sessions row: header hash recomputed and compared. 1 found, 0 not. */
static int header(struct chain *c, const uint8_t id[NG_STORE_ID_LEN])
{
    struct ng_store_rows *st;
    struct ng_store_arg arg = NG_ARG_BLOB(id, NG_STORE_ID_LEN);
    int r = ng_store_rows_open(c->v->s, NG_Q_HEADER, &arg, 1, &st);

    if (r < 0)
        return r;
    int rc = ng_store_rows_next(st);
    if (rc <= 0) {
        ng_store_rows_close(st);
        return rc;
    }
    int hc = ng_store_row_col(st, "header_hash"), sc = ng_store_row_col(st, "start_ns");
    r = ng_store_row_header_hash(st, c->head);
    if (r == -EBADMSG || hc < 0 || sc < 0 || !ng_store_row_is_blob(st, hc, NG_HASH_LEN) ||
        !ng_store_row_is_int(st, sc))
        ng_verify_fail(c, 0, "malformed session header row");
    else if (r == 0 && sodium_memcmp(c->head, ng_store_row_blob(st, hc), NG_HASH_LEN) != 0)
        ng_verify_fail(c, 0, "the session header does not match its hash");
    else if (r == 0)
        c->start_ns = ng_store_row_int(st, sc);
    ng_store_rows_close(st);
    memcpy(c->res->header_hash, c->head, NG_HASH_LEN);
    c->res->start_ns = c->start_ns;
    return r < 0 && r != -EBADMSG ? r : 1;
}

int ng_verify_session(struct ng_verifier *v, const uint8_t id[NG_STORE_ID_LEN],
                      struct ng_verify_point *pts, size_t npts, struct ng_verify_result *res)
{
    struct chain c = {.v = v, .res = res, .next = next_event, .base = -1, .pts = pts, .npts = npts};
    int r;

    memset(res, 0, sizeof(*res));
    memcpy(res->id, id, NG_STORE_ID_LEN);
    res->sealed = -1;
    for (size_t i = 0; i < npts; i++)
        pts[i].status = 2;
    r = header(&c, id);
    if (r <= 0) {
        if (r == 0) {
            res->word = NG_VERIFY_MISSING;
            snprintf(res->what, sizeof(res->what), "not in the store");
        }
        return r;
    }
    check_points(&c);
    struct ng_store_arg arg = NG_ARG_BLOB(id, NG_STORE_ID_LEN);
    int blocks = ng_store_version(v->s) >= 5;
    r = ng_store_rows_open(v->s, blocks ? NG_Q_EVENTS_BLOCKS : NG_Q_EVENTS, &arg, 1, &c.rows);
    if (r == 0 && blocks)
        r = ng_store_blocks_open(v->s, id, &c.blocks);
    if (r == 0 && !c.failed)
        r = ng_verify_walk(&c, id, &v->session_timing);
    if (r == 0 && c.blocks && !c.failed &&
        ng_store_blocks_finish(c.blocks, c.cur + 1, c.ended) == -EBADMSG)
        ng_verify_fail(&c, ng_store_blocks_bad_seq(c.blocks), "%s", ng_store_blocks_why(c.blocks));
    ng_store_blocks_close(c.blocks);
    ng_store_rows_close(c.rows);
    if (r < 0)
        return r;
    res->has_end = c.ended;
    memcpy(res->head, c.head, NG_HASH_LEN);
    if (c.failed)
        res->events = c.cur;
    return r;
}

/* ---- the certificate chain ------------------------------------------------ */

static int load_certs(struct ng_verifier *v, uint64_t len, struct ng_fskey_cert **ret, size_t *n)
{
    struct ng_store_rows *st;
    struct ng_fskey_cert *certs = NULL;
    struct ng_store_arg arg = NG_ARG_BLOB(v->root_pk, NG_FSKEY_PK_BYTES);
    size_t cap = 0;
    int rc, r = ng_store_rows_open(v->s, NG_Q_CERTS, &arg, 1, &st);

    if (r < 0)
        return r;
    *n = 0;
    while (*n < MAX_CERTS && (rc = ng_store_rows_next(st)) == 1) {
        if (!ng_store_row_is_int(st, 0) || !ng_store_row_is_int(st, 1) ||
            !ng_store_row_is_blob(st, 2, NG_FSKEY_PK_BYTES) ||
            !ng_store_row_is_blob(st, 3, NG_FSKEY_SIG_BYTES) || ng_store_row_int(st, 0) < 0 ||
            ng_store_row_int(st, 1) < 0) {
            snprintf(v->cert_what, sizeof(v->cert_what), "certificate %zu: malformed row", *n);
            v->cert_status = NG_CERT_BAD_SIGNATURE;
            break;
        }
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            struct ng_fskey_cert *nc = realloc(certs, cap * sizeof(*certs));
            if (!nc) {
                r = -ENOMEM;
                break;
            }
            certs = nc;
        }
        struct ng_fskey_cert *c = &certs[(*n)++];
        c->epoch = (uint64_t)ng_store_row_int(st, 0);
        c->start_ns = (uint64_t)ng_store_row_int(st, 1);
        memcpy(c->pk, ng_store_row_blob(st, 2), NG_FSKEY_PK_BYTES);
        memcpy(c->sig, ng_store_row_blob(st, 3), NG_FSKEY_SIG_BYTES);
    }
    if (r == 0 && rc < 0)
        r = rc;
    ng_store_rows_close(st);
    (void)len;
    *ret = certs;
    return r;
}

/* The epoch length from the roots row (not signed: see docs/integrity.md). */
static int epoch_len(struct ng_verifier *v, uint64_t *ret)
{
    struct ng_store_rows *st;
    struct ng_store_arg arg = NG_ARG_BLOB(v->root_pk, NG_FSKEY_PK_BYTES);
    int r = ng_store_rows_open(v->s, NG_Q_EPOCH_LEN, &arg, 1, &st);

    if (r < 0)
        return r;
    int rc = ng_store_rows_next(st);
    *ret = 0;
    if (rc == 1 && ng_store_row_is_int(st, 0) && ng_store_row_int(st, 0) > 0)
        *ret = (uint64_t)ng_store_row_int(st, 0);
    else if (rc < 0)
        r = rc;
    ng_store_rows_close(st);
    return r;
}

static int walk_certs(struct ng_verifier *v)
{
    struct ng_fskey_cert *certs = NULL;
    size_t n = 0, bad = 0;
    uint64_t len;
    int r = epoch_len(v, &len);

    if (r == 0 && len == 0) {
        v->cert_status = NG_CERT_GAP;
        snprintf(v->cert_what, sizeof(v->cert_what),
                 "the store holds no valid key chain for this root key (roots row)");
        return 0;
    }
    if (r == 0)
        r = load_certs(v, len, &certs, &n);
    if (r == 0 && n > 0)
        v->epochs = calloc(n, sizeof(*v->epochs));
    if (r == 0 && n > 0 && !v->epochs)
        r = -ENOMEM;
    if (r == 0 && n > 0) {
        enum ng_seal_status s =
            ng_seal_cert_chain_verify(v->root_pk, certs, n, len, v->epochs, &bad);
        /* Epochs start on a fixed grid (fskey.c): an epoch length changed
         * in the roots row moves it, even where the start rules allow. */
        for (size_t i = 1; s == NG_SEAL_OK && i < n; i++)
            if (certs[i].start_ns - certs[0].start_ns != i * len)
                s = NG_CERT_START_TOO_SOON, bad = i;
        v->nepochs = s == NG_SEAL_OK ? n : bad;
        if (s != NG_SEAL_OK && v->cert_status == NG_SEAL_OK) {
            v->cert_status = s;
            snprintf(v->cert_what, sizeof(v->cert_what), "certificate of epoch %zu: %s", bad,
                     ng_seal_status_str(s));
        }
    }
    if (r == 0 && n == 0 && v->cert_status == NG_SEAL_OK) {
        v->cert_status = NG_CERT_GAP;
        snprintf(v->cert_what, sizeof(v->cert_what), "no certificate of epoch 0 in the store");
    }
    free(certs);
    return r;
}

int ng_verify_new(struct ng_store *s, const uint8_t root_pk[NG_FSKEY_PK_BYTES],
                  const struct ng_verify_opts *o, struct ng_verifier **ret)
{
    struct ng_verifier *v = calloc(1, sizeof(*v));
    uint64_t interval = o && o->seal_interval_ns ? o->seal_interval_ns : NG_VERIFY_SEAL_INTERVAL_NS;
    int r;

    if (!v)
        return -ENOMEM;
    r = ng_chain_init();
    v->s = s;
    memcpy(v->root_pk, root_pk, NG_FSKEY_PK_BYTES);
    v->session_timing = (struct ng_seal_timing){interval, NG_SEAL_RULES_SESSION};
    v->ledger_timing = (struct ng_seal_timing){interval, NG_SEAL_RULES_LEDGER};
    if (r == 0)
        r = walk_certs(v);
    if (r < 0) {
        ng_verify_free(v);
        return r;
    }
    *ret = v;
    return 0;
}

void ng_verify_free(struct ng_verifier *v)
{
    if (!v)
        return;
    free(v->epochs);
    free(v);
}

size_t ng_verify_epochs(const struct ng_verifier *v, const struct ng_seal_epoch **ret)
{
    *ret = v->epochs;
    return v->nepochs;
}
