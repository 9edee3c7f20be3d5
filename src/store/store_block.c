/* Event data compressed in blocks (schema 5, docs/store.md "Compressed event
 * data"): the recorder's side packs a batch's output, input and standard
 * error into one zstd frame; the readers' side hands each event its bytes
 * back. Blocks are hostile input to readers: one frame exactly, its declared
 * size equal to raw_len, at most one batch, used by consecutive events to
 * the last byte; anything else is -EBADMSG (verify: TAMPERED). */
#include "nsgate/store_rows.h"
#include "store_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

/* ---- writing ----------------------------------------------------------------- */

struct ng_block_writer {
    ZSTD_CCtx *cctx;
    /* Two output buffers used in turn: the recorder writes one block to
     * the store while the next is compressed into the other. */
    uint8_t *out[2];
    size_t cap;
    int turn;
    int level; /* the next block's */
};

int ng_block_writer_new(struct ng_block_writer **ret)
{
    struct ng_block_writer *w = calloc(1, sizeof(*w));

    if (!w)
        return -ENOMEM;
    w->cap = ZSTD_compressBound(NG_STORE_BATCH_BYTES);
    w->out[0] = malloc(w->cap);
    w->out[1] = malloc(w->cap);
    w->cctx = ZSTD_createCCtx();
    /* The frame records its size, and carries no checksum (the chain's
     * hashes check the bytes). */
    w->level = NG_BLOCK_LEVEL;
    if (!w->out[0] || !w->out[1] || !w->cctx ||
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
    free(w->out[0]);
    free(w->out[1]);
    free(w);
}

int ng_block_compress(struct ng_block_writer *w, const struct ng_block_piece *p, size_t n,
                      const uint8_t **ret, size_t *ret_len)
{
    ZSTD_outBuffer out = {w->out[w->turn], w->cap, 0};
    size_t total = 0;

    w->turn ^= 1;
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
    *ret = out.dst;
    *ret_len = out.pos;
    return 0;
}

/* ---- reading ----------------------------------------------------------------- */

/* One block row, checked and copied out of SQLite's memory, and (once done)
 * its decompression. While the caller takes the bytes of one block, the next
 * one is decompressed on a second thread (verify then runs at about the
 * speed of hashing alone on two cores). */
struct blk {
    int64_t first, last;
    size_t raw_len, zlen, zcap;
    uint8_t *z, *raw;
    ZSTD_DCtx *dctx;
    int state;        /* 0 none, 1 a row (to decompress), 2 no more rows, -1 bad row */
    const char *why;  /* state -1, or a failed decompression */
    pthread_t thread; /* running while started */
    int started;
};

struct ng_store_blocks {
    struct ng_store *s;
    sqlite3_stmt *st; /* NULL: the store has no blocks (schema < 8) */
    struct blk cur, next;
    int have;        /* cur is loaded */
    int64_t taken;   /* the last seq given bytes of cur */
    size_t off;      /* how much of cur was given */
    int done;        /* no more rows */
    int64_t bad_seq; /* the seq a failure concerns */
    char why[96];
};

static int blk_init(struct blk *k)
{
    k->raw = malloc(NG_STORE_BATCH_BYTES);
    k->dctx = ZSTD_createDCtx();
    return k->raw && k->dctx ? 0 : -ENOMEM;
}

static void blk_join(struct blk *k)
{
    if (k->started)
        (void)pthread_join(k->thread, NULL);
    k->started = 0;
}

static void blk_free(struct blk *k)
{
    blk_join(k);
    ZSTD_freeDCtx(k->dctx);
    free(k->raw);
    free(k->z);
}

/* Decompress k->z into k->raw: exactly raw_len bytes, or why says not. */
static void *blk_decompress(void *arg)
{
    struct blk *k = arg;
    size_t n = ZSTD_decompressDCtx(k->dctx, k->raw, k->raw_len, k->z, k->zlen);

    if (ZSTD_isError(n) || n != k->raw_len)
        k->why = "event data block does not decompress";
    return NULL;
}

/* Step to the next block row and check it: one zstd frame exactly, no bytes
 * after it (they would be uncovered), its declared size the row's, at most
 * one batch. The compressed bytes are copied (SQLite's are valid only until
 * the next step). 0, or a negative errno from SQLite. */
static int blk_fetch(struct ng_store_blocks *b, struct blk *k)
{
    sqlite3_stmt *st = b->st;
    int rc = st ? ng_store_step(b->s, st) : SQLITE_DONE;

    k->why = NULL;
    k->state = 2;
    if (rc == SQLITE_DONE)
        return 0;
    if (rc != SQLITE_ROW)
        return ng_store_errno(b->s->db, rc);
    k->state = -1;
    const void *codec = sqlite3_column_type(st, 2) == SQLITE_TEXT ? sqlite3_column_text(st, 2) : 0;
    if (sqlite3_column_type(st, 0) != SQLITE_INTEGER ||
        sqlite3_column_type(st, 1) != SQLITE_INTEGER ||
        sqlite3_column_type(st, 3) != SQLITE_INTEGER || sqlite3_column_type(st, 4) != SQLITE_BLOB ||
        !codec || strcmp(codec, "zstd") != 0) {
        k->why = "malformed event data block row";
        return 0;
    }
    int64_t raw = sqlite3_column_int64(st, 3);
    const void *z = sqlite3_column_blob(st, 4);
    size_t zlen = (size_t)sqlite3_column_bytes(st, 4);
    if (raw < 0 || raw > NG_STORE_BATCH_BYTES) {
        k->why = "event data block larger than a batch";
        return 0;
    }
    if (!z || ZSTD_findFrameCompressedSize(z, zlen) != zlen ||
        ZSTD_getFrameContentSize(z, zlen) != (unsigned long long)raw) {
        k->why = "event data block is not one zstd frame of its size";
        return 0;
    }
    if (zlen > k->zcap) {
        uint8_t *nz = realloc(k->z, zlen);
        if (!nz)
            return -ENOMEM;
        k->z = nz;
        k->zcap = zlen;
    }
    memcpy(k->z, z, zlen);
    k->zlen = zlen;
    k->first = sqlite3_column_int64(st, 0);
    k->last = sqlite3_column_int64(st, 1);
    k->raw_len = (size_t)raw;
    k->state = 1;
    return 0;
}

int ng_store_blocks_open(struct ng_store *s, const uint8_t id[NG_STORE_ID_LEN],
                         struct ng_store_blocks **ret)
{
    return ng_store_blocks_open_from(s, id, 0, ret);
}

int ng_store_blocks_open_from(struct ng_store *s, const uint8_t id[NG_STORE_ID_LEN], int64_t from,
                              struct ng_store_blocks **ret)
{
    struct ng_store_blocks *b = calloc(1, sizeof(*b));
    int r = b ? 0 : -ENOMEM;

    if (r == 0) {
        b->s = s;
        r = blk_init(&b->cur);
    }
    if (r == 0)
        r = blk_init(&b->next);
    if (r == 0 && s->version >= 5)
        r = ng_store_prepare(s,
                             "SELECT first_seq, last_seq, codec, raw_len, data FROM event_blocks "
                             "WHERE session = ?1 AND first_seq >= ?2 ORDER BY first_seq",
                             &b->st);
    if (r < 0) {
        ng_store_blocks_close(b);
        return r;
    }
    if (b->st) {
        sqlite3_bind_blob(b->st, 1, id, NG_STORE_ID_LEN, SQLITE_TRANSIENT);
        sqlite3_bind_int64(b->st, 2, from);
    }
    *ret = b;
    return 0;
}

void ng_store_blocks_close(struct ng_store_blocks *b)
{
    if (!b)
        return;
    blk_free(&b->cur);
    blk_free(&b->next);
    sqlite3_finalize(b->st);
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
    if (b->have && (b->off != b->cur.raw_len || b->taken != b->cur.last))
        return bad(b, b->cur.first, "event data block holds bytes no event takes");
    return 0;
}

/* Make the next block row current (seq: the event that needs it), then
 * fetch the one after it and start decompressing that on a thread. */
static int load(struct ng_store_blocks *b, int64_t seq)
{
    int r = 0;

    b->have = 0;
    if (b->done)
        return 0;
    if (b->next.state == 0) { /* the first block: fetched and decompressed here */
        r = blk_fetch(b, &b->next);
        if (r == 0 && b->next.state == 1)
            (void)blk_decompress(&b->next);
    }
    blk_join(&b->next);
    if (r < 0)
        return r;
    struct blk t = b->cur; /* swap: next becomes current */
    b->cur = b->next;
    b->next = t;
    b->next.state = 0;
    if (b->cur.state == 2) {
        b->done = 1;
        return 0;
    }
    if (b->cur.state < 0 || b->cur.why)
        return bad(b, seq, b->cur.why);
    b->off = 0;
    b->taken = b->cur.first - 1;
    b->have = 1;
    /* prefetch */
    r = blk_fetch(b, &b->next);
    if (r == 0 && b->next.state == 1)
        b->next.started = pthread_create(&b->next.thread, NULL, blk_decompress, &b->next) == 0;
    if (r == 0 && b->next.state == 1 && !b->next.started)
        (void)blk_decompress(&b->next);
    return r;
}

int ng_store_blocks_take(struct ng_store_blocks *b, int64_t seq, size_t len, const uint8_t **ret)
{
    int r;

    if (!b->have || seq > b->cur.last) {
        r = check_used(b);
        if (r == 0)
            r = load(b, seq);
        if (r < 0)
            return r;
        if (!b->have)
            return bad(b, seq, "event data is in no block");
        if (b->cur.first != seq)
            return bad(b, seq,
                       b->cur.first < seq ? "event data block starts before its first event"
                                          : "event data is in no block");
    }
    if (seq <= b->taken || len > b->cur.raw_len - b->off)
        return bad(b, b->cur.first, "event data lengths do not match their block");
    *ret = b->cur.raw + b->off;
    b->off += len;
    b->taken = seq;
    return 0;
}

int ng_store_blocks_finish(struct ng_store_blocks *b, int64_t next_seq, int ended)
{
    int r = check_used(b);

    if (r < 0 || !ended || b->done)
        return r;
    r = load(b, next_seq);
    if (r == 0 && b->have)
        return bad(b, next_seq, "event data block beyond the session's events");
    return r;
}
