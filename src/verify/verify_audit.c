/* The audit-log anchor (audit.md "Cross-check", integrity.md property 5):
 * the kernel audit trail, shipped off the host, says which sessions started
 * (with their header hash), where their chains stood at each epoch change,
 * and how they ended. The store must agree. */
#include "verify_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nsgate/auditlog.h"

static int uuid_parse(const char *text, uint8_t id[NG_STORE_ID_LEN])
{
    char hex[33];
    size_t n = 0, bin;

    for (const char *p = text; *p && n < 32; p++)
        if (*p != '-')
            hex[n++] = *p;
    hex[n] = '\0';
    return n == 32 && sodium_hex2bin(id, NG_STORE_ID_LEN, hex, 32, NULL, &bin, NULL) == 0 &&
                   bin == NG_STORE_ID_LEN
               ? 0
               : -EINVAL;
}

static int hash_parse(const char *hex, uint8_t out[NG_HASH_LEN])
{
    size_t bin;
    return strlen(hex) == 2 * NG_HASH_LEN &&
                   sodium_hex2bin(out, NG_HASH_LEN, hex, 2 * NG_HASH_LEN, NULL, &bin, NULL) == 0 &&
                   bin == NG_HASH_LEN
               ? 0
               : -EINVAL;
}

int ng_verify_audit_points(const struct ng_auditlog *log, const uint8_t id[NG_STORE_ID_LEN],
                           struct ng_verify_point **ret, size_t *n)
{
    char text[NG_UUID_STR];
    const struct ng_auditlog_session *ls;
    struct ng_verify_point *pts;

    *ret = NULL;
    *n = 0;
    ng_uuid_format(id, text);
    ls = ng_auditlog_find(log, text);
    if (!ls || ls->ncheckpoints + ls->nends == 0)
        return 0;
    pts = calloc(ls->ncheckpoints + ls->nends, sizeof(*pts));
    if (!pts)
        return -ENOMEM;
    for (size_t i = 0; i < ls->ncheckpoints + ls->nends; i++) {
        const struct ng_auditlog_rec *rec =
            i < ls->ncheckpoints ? &ls->checkpoints[i] : &ls->ends[i - ls->ncheckpoints];
        if (rec->seqno > INT64_MAX || hash_parse(rec->hash, pts[*n].head) < 0)
            continue; /* not a head nsgate logged: nothing to compare */
        pts[(*n)++].seq = (int64_t)rec->seqno;
    }
    /* sorted by seq, as ng_verify_session walks */
    for (size_t i = 1; i < *n; i++)
        for (size_t j = i; j > 0 && pts[j - 1].seq > pts[j].seq; j--) {
            struct ng_verify_point t = pts[j];
            pts[j] = pts[j - 1];
            pts[j - 1] = t;
        }
    *ret = pts;
    return 0;
}

static void lower(struct ng_verify_result *res, int64_t seq, const char *what)
{
    if (res->word == NG_VERIFY_TAMPERED && res->seq <= seq)
        return;
    res->word = NG_VERIFY_TAMPERED;
    res->seq = seq;
    snprintf(res->what, sizeof(res->what), "%s", what);
}

void ng_verify_audit_session(const struct ng_auditlog *log, const struct ng_verify_point *pts,
                             size_t n, struct ng_verify_result *res)
{
    char text[NG_UUID_STR], what[NG_VERIFY_WHAT_MAX];
    struct ng_auditlog_stats stats;
    const struct ng_auditlog_session *ls;
    uint8_t hdr[NG_HASH_LEN];

    if (res->word == NG_VERIFY_MISSING)
        return;
    ng_uuid_format(res->id, text);
    ls = ng_auditlog_find(log, text);
    ng_auditlog_get_stats(log, &stats);
    if (!ls || ls->nstarts == 0) {
        int64_t sec = res->start_ns / 1000000000;
        if (!stats.empty && sec >= stats.first.sec && sec <= stats.last.sec)
            lower(res, 0, "unknown to audit log");
    } else {
        for (size_t i = 0; i < ls->nstarts; i++)
            if (hash_parse(ls->starts[i].hash, hdr) < 0 ||
                sodium_memcmp(hdr, res->header_hash, NG_HASH_LEN) != 0)
                lower(res, 0, "header differs from the audit log");
    }
    for (size_t i = 0; i < n; i++) {
        if (pts[i].status == 1) {
            snprintf(what, sizeof(what), "head at seq %lld differs from the audit log",
                     (long long)pts[i].seq);
            lower(res, pts[i].seq, what);
        } else if (pts[i].status == 2) {
            snprintf(what, sizeof(what), "cut below a checkpoint in the audit log (seq %lld)",
                     (long long)pts[i].seq);
            lower(res, res->events + 1, what);
        }
    }
}

int ng_verify_audit_missing(struct ng_verifier *v, const struct ng_auditlog *log, ng_verify_cb cb,
                            void *arg)
{
    for (size_t i = 0; i < ng_auditlog_nsessions(log); i++) {
        const struct ng_auditlog_session *ls = ng_auditlog_session_at(log, i);
        struct ng_verify_result res = {.word = NG_VERIFY_MISSING, .sealed = -1};
        if (uuid_parse(ls->uuid, res.id) < 0 || ls->nstarts + ls->ncheckpoints + ls->nends == 0)
            continue; /* a denied or failed attempt names no recorded session */
        int r = ng_verify_has_session(v, res.id);
        if (r == 0) {
            snprintf(res.what, sizeof(res.what), "in the audit log");
            r = cb(arg, &res);
        }
        if (r < 0)
            return r;
    }
    return 0;
}

void ng_verify_audit_keys(struct ng_verifier *v, const struct ng_auditlog *log,
                          struct ng_verify_result *ledger)
{
    char what[NG_VERIFY_WHAT_MAX], hex[2 * NG_FSKEY_PK_BYTES + 1];
    struct ng_auditlog_stats stats;
    int64_t root_sec = v->nepochs ? (int64_t)(v->epochs[0].start_ns / NG_FSKEY_SEC_NS) : 0;

    ng_auditlog_get_stats(log, &stats);
    if (stats.empty)
        return;
    for (size_t e = 0; e < v->nepochs; e++) { /* store -> log */
        int64_t sec = (int64_t)(v->epochs[e].start_ns / NG_FSKEY_SEC_NS);
        int found = 0;
        sodium_bin2hex(hex, sizeof(hex), v->epochs[e].pk, NG_FSKEY_PK_BYTES);
        for (size_t i = 0; i < ng_auditlog_nkeys(log) && !found; i++) {
            const struct ng_auditlog_rec *k = ng_auditlog_key_at(log, i);
            found = k->kind == NG_AUDITLOG_KEY_CREATE && k->epoch == e && strcmp(k->hash, hex) == 0;
        }
        /* a record may be a second late when the epoch was made on catch-up;
         * and the log's first second is not whole (an epoch made in it may
         * come before the log's first record: keys made just before the
         * audit daemon started) */
        if (!found && sec > stats.first.sec && sec + 1 < stats.last.sec) {
            snprintf(what, sizeof(what),
                     "certificate of epoch %zu has no key record in the audit log", e);
            lower(ledger, 0, what);
        }
    }
    for (size_t i = 0; i < ng_auditlog_nkeys(log); i++) { /* log -> store */
        const struct ng_auditlog_rec *k = ng_auditlog_key_at(log, i);
        /* keys of a root replaced before this one, and epochs made by the
         * timer that no seal used yet (not copied into the store) */
        if (k->kind != NG_AUDITLOG_KEY_CREATE || k->t.sec < root_sec || k->epoch >= v->nepochs)
            continue;
        sodium_bin2hex(hex, sizeof(hex), v->epochs[k->epoch].pk, NG_FSKEY_PK_BYTES);
        if (strcmp(k->hash, hex) != 0) {
            snprintf(what, sizeof(what),
                     "key of epoch %llu in the audit log has no certificate in the store",
                     (unsigned long long)k->epoch);
            lower(ledger, 0, what);
        }
    }
}
