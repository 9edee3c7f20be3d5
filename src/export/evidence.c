/* The session's evidence as exports carry it (export.h "evidence"): the
 * sessions row as stored (every column with its storage class, so the header
 * hash can be recomputed without nsgate), the session's seals and the key
 * chain from the root up to the newest epoch a seal uses. Read through the
 * store's raw rows (store_rows.h), as verify reads them: a value of the
 * wrong class is carried as it is, and the verifier that reads the export
 * decides what it means. */
#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export_int.h"
#include "nsgate/base64.h"
#include "nsgate/be.h"
#include "nsgate/fskey.h"
#include "nsgate/store_rows.h"

/* More seals or certificates than an export carries (a session sealed every
 * second for a year; a key chain of 15-minute epochs for thirty years). */
#define MAX_ROWS (1U << 25)

struct ng_export_evidence {
    json_t *header; /* [[name, class, value], ...] */
    json_t *tail;   /* the keychain, cert and seal lines, in that order */
};

static json_t *hexj(const void *p, size_t len)
{
    char *h = malloc(2 * len + 1);
    json_t *j = h ? json_string(sodium_bin2hex(h, 2 * len + 1, p, len)) : NULL;

    free(h);
    return j;
}

static json_t *b64j(const void *p, size_t len)
{
    char *b = malloc(NG_BASE64_LEN(len));
    json_t *j = b ? json_string(ng_base64_encode(b, p, len)) : NULL;

    free(b);
    return j;
}

json_t *ng_export_b64(const void *p, size_t len)
{
    return b64j(p, len);
}

json_t *ng_export_hex(const void *p, size_t len)
{
    return hexj(p, len);
}

/* 64-bit integers as decimal strings: a JSON number loses precision past
 * 2^53 in most readers (a browser's among them). */
static json_t *i64j(int64_t v)
{
    char b[24];

    snprintf(b, sizeof(b), "%" PRId64, v);
    return json_string(b);
}

/* One column: [name, class, value]; value: INTEGER decimal, REAL the
 * binary64 bits as 16 hex digits (big-endian), TEXT and BLOB base64 of the
 * exact bytes, NULL null. */
static json_t *column(const struct ng_store_rows *st, int col)
{
    const char *name = ng_store_row_name(st, col);
    uint8_t be[8];
    double d;
    uint64_t bits;
    json_t *v;

    if (!name)
        return NULL;
    switch (ng_store_row_class(st, col)) {
    case NG_HC_INTEGER:
        return json_pack("[s,s,o]", name, "integer", i64j(ng_store_row_int(st, col)));
    case NG_HC_REAL:
        d = ng_store_row_real(st, col);
        memcpy(&bits, &d, sizeof(bits));
        ng_be64_put(be, bits);
        return json_pack("[s,s,o]", name, "real", hexj(be, sizeof(be)));
    case NG_HC_TEXT:
        v = b64j(ng_store_row_text(st, col), ng_store_row_len(st, col));
        return json_pack("[s,s,o]", name, "text", v);
    case NG_HC_BLOB:
        v = b64j(ng_store_row_blob(st, col), ng_store_row_len(st, col));
        return json_pack("[s,s,o]", name, "blob", v);
    default:
        return json_pack("[s,s,n]", name, "null");
    }
}

static int load_header(struct ng_store *s, const uint8_t id[NG_STORE_ID_LEN], json_t **ret)
{
    struct ng_store_rows *st;
    struct ng_store_arg arg = NG_ARG_BLOB(id, NG_STORE_ID_LEN);
    int r = ng_store_rows_open(s, NG_Q_HEADER, &arg, 1, &st);

    if (r < 0)
        return r;
    r = ng_store_rows_next(st);
    json_t *a = r == 1 ? json_array() : NULL;
    for (int i = 0; a && i < ng_store_row_count(st); i++)
        if (json_array_append_new(a, column(st, i)) < 0)
            r = -ENOMEM;
    if (r == 1 && !a)
        r = -ENOMEM;
    ng_store_rows_close(st);
    if (r < 0 || r == 0) {
        json_decref(a);
        return r == 0 ? -ENOENT : r;
    }
    *ret = a;
    return 0;
}

/* A value as the line carries it: integers as decimal strings, blobs as
 * hex; another class than expected as null (the verifier's "malformed"). */
static json_t *cell(const struct ng_store_rows *st, int col, int blob)
{
    if (blob && ng_store_row_class(st, col) == NG_HC_BLOB)
        return hexj(ng_store_row_blob(st, col), ng_store_row_len(st, col));
    if (!blob && ng_store_row_is_int(st, col))
        return i64j(ng_store_row_int(st, col));
    return json_null();
}

/* Rows of query q as lines {key: {names[i]: cell}}; blobs: which columns
 * are BLOBs (bit i). *max: the largest value of column maxcol (-1: none). */
static int load_lines(struct ng_store *s, enum ng_store_query q, const void *arg, size_t alen,
                      const char *key, const char *const *names, unsigned blobs, int64_t limit,
                      json_t *out, int64_t *max)
{
    struct ng_store_rows *st;
    struct ng_store_arg a = NG_ARG_BLOB(arg, alen);
    int rc, r = ng_store_rows_open(s, q, &a, 1, &st);
    size_t n = 0;

    if (r < 0)
        return r;
    while (r == 0 && n++ < MAX_ROWS && (rc = ng_store_rows_next(st)) == 1) {
        if (limit >= 0 && ng_store_row_is_int(st, 0) && ng_store_row_int(st, 0) > limit)
            break; /* past the newest epoch a seal uses and the one after it (its end) */
        json_t *o = json_object();
        for (int i = 0; o && names[i]; i++)
            if (json_object_set_new(o, names[i], cell(st, i, (blobs >> i) & 1)) < 0)
                r = -ENOMEM;
        if (max && ng_store_row_is_int(st, 6) && ng_store_row_int(st, 6) > *max)
            *max = ng_store_row_int(st, 6);
        if (!o || json_array_append_new(out, json_pack("{s:o}", key, o)) < 0)
            r = -ENOMEM;
    }
    if (r == 0 && rc < 0)
        r = rc;
    ng_store_rows_close(st);
    return r;
}

static int load_tail(struct ng_store *s, const uint8_t id[NG_STORE_ID_LEN],
                     const uint8_t root[NG_FSKEY_PK_BYTES], json_t *tail)
{
    static const char *const seal_cols[] = {"sealno",  "seq",   "head", "prev_seal", "wall_ns",
                                            "boot_ns", "epoch", "sig",  NULL};
    static const char *const cert_cols[] = {"epoch", "start_ns", "pk", "sig", NULL};
    json_t *seals = json_array();
    struct ng_store_rows *st;
    struct ng_store_arg arg = NG_ARG_BLOB(root, NG_FSKEY_PK_BYTES);
    int64_t max = -1;
    int r = seals ? ng_store_rows_open(s, NG_Q_EPOCH_LEN, &arg, 1, &st) : -ENOMEM;

    if (r == 0) {
        int rc = ng_store_rows_next(st);
        json_t *k = json_pack("{s:{s:o,s:o}}", "keychain", "root", hexj(root, NG_FSKEY_PK_BYTES),
                              "epoch_len_ns", rc == 1 ? cell(st, 0, 0) : json_null());
        r = rc < 0 ? rc : json_array_append_new(tail, k) < 0 ? -ENOMEM : 0;
        ng_store_rows_close(st);
    }
    if (r == 0)
        r = load_lines(s, NG_Q_SEALS, id, NG_STORE_ID_LEN, "seal", seal_cols, 0x8c, -1, seals,
                       &max);
    if (r == 0)
        r = load_lines(s, NG_Q_CERTS, root, NG_FSKEY_PK_BYTES, "cert", cert_cols, 0xc, max + 1,
                       tail, NULL);
    if (r == 0 && json_array_extend(tail, seals) < 0)
        r = -ENOMEM;
    json_decref(seals);
    return r;
}

int ng_export_header_json(struct ng_store *s, const uint8_t id[NG_STORE_ID_LEN], json_t **ret)
{
    return load_header(s, id, ret);
}

int ng_export_evidence_load(struct ng_store *s, const uint8_t id[NG_STORE_ID_LEN],
                            const uint8_t root[NG_FSKEY_PK_BYTES], struct ng_export_evidence **ret)
{
    struct ng_export_evidence *e = calloc(1, sizeof(*e));
    int r = e ? 0 : -ENOMEM;

    if (r == 0)
        r = load_header(s, id, &e->header);
    if (r == 0)
        r = (e->tail = json_array()) ? load_tail(s, id, root, e->tail) : -ENOMEM;
    if (r < 0) {
        ng_export_evidence_free(e);
        return r;
    }
    *ret = e;
    return 0;
}

void ng_export_evidence_free(struct ng_export_evidence *e)
{
    if (!e)
        return;
    json_decref(e->header);
    json_decref(e->tail);
    free(e);
}

json_t *ng_export_evidence_header(const struct ng_export_evidence *e)
{
    return e ? json_incref(e->header) : NULL;
}

int ng_export_evidence_tail(const struct ng_export_evidence *e, int html, ng_export_write_fn write,
                            void *warg)
{
    size_t i;
    json_t *line;
    int r = 0;

    if (!e)
        return 0;
    json_array_foreach(e->tail, i, line)
    {
        r = ng_export_dump(line, html, write, warg);
        if (r == 0)
            r = write(warg, "\n", 1);
        if (r < 0)
            break;
    }
    return r;
}
