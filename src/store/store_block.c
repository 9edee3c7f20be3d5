/* Event data compressed in blocks (schema 8, docs/store.md "Compressed event
 * data"): the recorder's side packs a batch's output, input and standard
 * error into one zstd frame; the readers' side hands each event its bytes
 * back. Blocks are hostile input to readers: one frame exactly, its declared
 * size equal to raw_len, at most one batch, used by consecutive events to
 * the last byte; anything else is -EBADMSG (verify: TAMPERED). */
#include "nsgate/store_rows.h"
#include "store_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

/* ---- writing ----------------------------------------------------------------- */

struct ng_block_writer {
    ZSTD_CCtx *cctx;
    uint8_t *out;
    size_t cap;
    int level; /* the next block's */
};

int ng_block_writer_new(struct ng_block_writer **ret)
{
    struct ng_block_writer *w = calloc(1, sizeof(*w));

    if (!w)
        return -ENOMEM;
    w->cap = ZSTD_compressBound(NG_STORE_BATCH_BYTES);
    w->out = malloc(w->cap);
    w->cctx = ZSTD_createCCtx();
    /* The frame records its size, and carries no checksum (the chain's
     * hashes check the bytes). */
    w->level = NG_BLOCK_LEVEL;
    if (!w->out || !w->cctx ||
        ZSTD_isError(ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_checksumFlag, 0)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_contentSizeFlag, 1))) {
        ng_block_writer_free(w);
        return -ENOMEM;
    }
    *ret = w;
    return 0;
}

void ng_block_writer_free(struct ng_block_writer *w)
{
    if (!w)
        return;
    ZSTD_freeCCtx(w->cctx);
    free(w->out);
    free(w);
}

int ng_block_compress(struct ng_block_writer *w, const struct ng_block_piece *p, size_t n,
                      const uint8_t **ret, size_t *ret_len)
{
    ZSTD_outBuffer out = {w->out, w->cap, 0};
    size_t total = 0;

    for (size_t i = 0; i < n; i++)
        total += p[i].len;
    if (total > NG_STORE_BATCH_BYTES)
        return -E2BIG;
    ZSTD_CCtx_reset(w->cctx, ZSTD_reset_session_only);
    if (ZSTD_isError(ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, w->level)) ||
        ZSTD_isError(ZSTD_CCtx_setPledgedSrcSize(w->cctx, total)))
        return -EINVAL;
    for (size_t i = 0; i <= n; i++) {
        ZSTD_inBuffer in = {i < n ? p[i].data : NULL, i < n ? p[i].len : 0, 0};
        ZSTD_EndDirective end = i < n ? ZSTD_e_continue : ZSTD_e_end;
        size_t left;
        do {
            left = ZSTD_compressStream2(w->cctx, &out, &in, end);
            if (ZSTD_isError(left))
                return -EIO;
        } while (end == ZSTD_e_end ? left != 0 : in.pos < in.size);
    }
    /* The level follows the data: text that compressed well (terminal
     * output of ls, logs, compilers) is worth lazy matching at
     * NG_BLOCK_LEVEL_TEXT (about 10 % smaller, 130 MB/s and more); noise,
     * binary and escrowed data stay at the fast level, where a slower one
     * gains nothing. */
    w->level = out.pos * 100 < total * NG_BLOCK_TEXT_PERCENT ? NG_BLOCK_LEVEL_TEXT : NG_BLOCK_LEVEL;
    *ret = w->out;
    *ret_len = out.pos;
    return 0;
}

/* ---- reading ----------------------------------------------------------------- */

struct ng_store_blocks {
    struct ng_store *s;
    sqlite3_stmt *st; /* NULL: the store has no blocks (schema < 8) */
    ZSTD_DCtx *dctx;
    uint8_t *buf;
    int have;            /* a block is loaded */
    int64_t first, last; /* its seq range */
    int64_t taken;       /* the last seq given bytes of it */
    size_t raw_len, off; /* its size, and how much was given */
    int done;            /* no more rows */
    int64_t bad_seq;     /* the seq a failure concerns */
    char why[96];
};

int ng_store_blocks_open(struct ng_store *s, const uint8_t id[NG_STORE_ID_LEN],
                         struct ng_store_blocks **ret)
{
    struct ng_store_blocks *b = calloc(1, sizeof(*b));
    int r = b ? 0 : -ENOMEM;

    if (r == 0) {
        b->s = s;
        b->buf = malloc(NG_STORE_BATCH_BYTES);
        b->dctx = ZSTD_createDCtx();
        r = b->buf && b->dctx ? 0 : -ENOMEM;
    }
    if (r == 0 && s->version >= 8)
        r = ng_store_prepare(s,
                             "SELECT first_seq, last_seq, codec, raw_len, data FROM event_blocks "
                             "WHERE session = ? ORDER BY first_seq",
                             &b->st);
    if (r < 0) {
        ng_store_blocks_close(b);
        return r;
    }
    if (b->st)
        sqlite3_bind_blob(b->st, 1, id, NG_STORE_ID_LEN, SQLITE_TRANSIENT);
    *ret = b;
    return 0;
}

void ng_store_blocks_close(struct ng_store_blocks *b)
{
    if (!b)
        return;
    sqlite3_finalize(b->st);
    ZSTD_freeDCtx(b->dctx);
    free(b->buf);
    free(b);
}

const char *ng_store_blocks_why(const struct ng_store_blocks *b)
{
    return b->why[0] ? b->why : "malformed event data block";
}

int64_t ng_store_blocks_bad_seq(const struct ng_store_blocks *b)
{
    return b->bad_seq;
}

/* A failure about the event at seq (the first of the block it concerns). */
static int bad(struct ng_store_blocks *b, int64_t seq, const char *why)
{
    snprintf(b->why, sizeof(b->why), "%s", why);
    b->bad_seq = seq;
    return -EBADMSG;
}

/* The current block must have been given out to its last byte, to its
 * last seq: nothing in it is left that no event's hash covers. */
static int check_used(struct ng_store_blocks *b)
{
    if (b->have && (b->off != b->raw_len || b->taken != b->last))
        return bad(b, b->first, "event data block holds bytes no event takes");
    return 0;
}

/* Load the next block row: one zstd frame exactly, of its declared size. */
static int load(struct ng_store_blocks *b, int64_t seq)
{
    sqlite3_stmt *st = b->st;
    int rc = st ? ng_store_step(b->s, st) : SQLITE_DONE;

    b->have = 0;
    if (rc == SQLITE_DONE) {
        b->done = 1;
        return 0;
    }
    if (rc != SQLITE_ROW)
        return ng_store_errno(b->s->db, rc);
    const void *codec = sqlite3_column_type(st, 2) == SQLITE_TEXT ? sqlite3_column_text(st, 2) : 0;
    if (sqlite3_column_type(st, 0) != SQLITE_INTEGER ||
        sqlite3_column_type(st, 1) != SQLITE_INTEGER ||
        sqlite3_column_type(st, 3) != SQLITE_INTEGER || sqlite3_column_type(st, 4) != SQLITE_BLOB ||
        !codec || strcmp(codec, "zstd") != 0)
        return bad(b, seq, "malformed event data block row");
    int64_t raw = sqlite3_column_int64(st, 3);
    const void *z = sqlite3_column_blob(st, 4);
    size_t zlen = (size_t)sqlite3_column_bytes(st, 4);
    if (raw < 0 || raw > NG_STORE_BATCH_BYTES)
        return bad(b, seq, "event data block larger than a batch");
    /* Exactly one frame, no bytes after it (they would be uncovered), its
     * declared size the row's: then the decoder writes raw bytes or fails. */
    if (!z || ZSTD_findFrameCompressedSize(z, zlen) != zlen ||
        ZSTD_getFrameContentSize(z, zlen) != (unsigned long long)raw)
        return bad(b, seq, "event data block is not one zstd frame of its size");
    size_t n = ZSTD_decompressDCtx(b->dctx, b->buf, (size_t)raw, z, zlen);
    if (ZSTD_isError(n) || n != (size_t)raw)
        return bad(b, seq, "event data block does not decompress");
    b->first = sqlite3_column_int64(st, 0);
    b->last = sqlite3_column_int64(st, 1);
    b->raw_len = (size_t)raw;
    b->off = 0;
    b->taken = b->first - 1;
    b->have = 1;
    return 0;
}

int ng_store_blocks_take(struct ng_store_blocks *b, int64_t seq, size_t len, const uint8_t **ret)
{
    int r;

    if (!b->have || seq > b->last) {
        r = check_used(b);
        if (r == 0)
            r = load(b, seq);
        if (r < 0)
            return r;
        if (!b->have)
            return bad(b, seq, "event data is in no block");
        if (b->first != seq)
            return bad(b, seq,
                       b->first < seq ? "event data block starts before its first event"
                                      : "event data is in no block");
    }
    if (seq <= b->taken || len > b->raw_len - b->off)
        return bad(b, b->first, "event data lengths do not match their block");
    *ret = b->buf + b->off;
    b->off += len;
    b->taken = seq;
    return 0;
}

int ng_store_blocks_finish(struct ng_store_blocks *b, int64_t next_seq)
{
    int r = check_used(b);

    if (r == 0 && !b->done)
        r = load(b, next_seq);
    if (r == 0 && b->have)
        return bad(b, next_seq, "event data block beyond the session's events");
    return r;
}
