/* Raw rows for verification (integrity.md 6) and for the evidence stream. verify reads every
 * covered value as it is stored, storage class by storage class, and decides itself what a wrong
 * one means (a verdict, never an error); the SQL that fetches the rows stays here, in the store, as
 * a fixed set of named queries. The store must be open read-only (ng_store_open_readonly): each
 * step runs under the reader's time budget. */
#ifndef NSGATE_STORE_ROWS_H
#define NSGATE_STORE_ROWS_H

#include "nsgate/chain.h"
#include "nsgate/store.h"

#include <stddef.h>
#include <stdint.h>

enum ng_store_query {
    /* ?1 chain id: sealno, seq, head, prev_seal_hash, wall_ns, boot_ns, epoch,
     * signature, by sealno */
    NG_Q_SEALS,
    /* ?1 chain id, ?2 seq, ?3 head, ?4 epoch, ?5..?6 wall_ns range: 1 */
    NG_Q_SEAL_MATCH,
    NG_Q_HEADER, /* ?1 id: every column of the sessions row */
    NG_Q_EVENTS, /* ?1 id: seq, t_ns, kind, data, hash, by seq */
    /* schema 5: ?1 id: seq, t_ns, kind, data, hash, block_len, by seq */
    NG_Q_EVENTS_BLOCKS,
    NG_Q_LAST_EVENT, /* ?1 id: seq, kind, hash of the highest seq */
    NG_Q_CERTS,      /* ?1 root: epoch, start_ns, pubkey, signature, by epoch */
    NG_Q_EPOCH_LEN,  /* ?1 root: epoch_len_ns */
    NG_Q_LEDGER,     /* seq, session, kind, wall_ns, event_seq, value, hash, by seq */
    /* session, kind, event_seq, value, seq, wall_ns, by session and seq */
    NG_Q_LEDGER_BY_SESSION,
    NG_Q_SESSION_HEADS,        /* id, header_hash, start_ns, by id */
    NG_Q_SESSION_IDS,          /* id, by start_ns and id */
    NG_Q_SESSION_EXISTS,       /* ?1 id: 1 */
    NG_Q_LEDGER_HAS,           /* ?1 id: 1 when the ledger names it */
    NG_Q_LEDGER_OR_EVENTS_HAS, /* ?1 id: 1 when the ledger or events name it */
    /* ?1 id: the next well-formed (16-byte BLOB) session ID after it in the
     * table, by its index (one lookup per session, not one per row) */
    NG_Q_NEXT_IN_LEDGER,
    NG_Q_NEXT_IN_EVENTS,
    NG_Q_NEXT_IN_SEALS,
    NG_Q_NEXT_IN_BLOCKS, /* schema 5 */
    /* The evidence stream's follower (export --follow): what came after a
     * position. ?1 chain id, ?2 sealno: the columns of NG_Q_SEALS */
    NG_Q_SEALS_AFTER,
    NG_Q_LEDGER_AFTER, /* ?1 seq: the columns of NG_Q_LEDGER */
    NG_Q_ROOTS,        /* root_pk, epoch_len_ns, by root_pk */
    /* ?1 root, ?2 epoch: the columns of NG_Q_CERTS */
    NG_Q_CERTS_AFTER,
    NG_Q_COUNT
};

/* A query parameter: an integer, or a BLOB (borrowed until the rows are
 * closed or rebound). */
struct ng_store_arg {
    int is_int;
    int64_t i;
    const void *p;
    size_t len;
};
#define NG_ARG_BLOB(ptr, n) ((struct ng_store_arg){0, 0, (ptr), (n)})
#define NG_ARG_INT(v)       ((struct ng_store_arg){1, (v), NULL, 0})

struct ng_store_rows;

/* Prepare query q with its parameters (nargs must be what q takes). 0 or a
 * negative errno. */
int ng_store_rows_open(struct ng_store *s, enum ng_store_query q, const struct ng_store_arg *args,
                       size_t nargs, struct ng_store_rows **ret) NG_MUST_CHECK;
/* Run it again from the start with new parameters. */
int ng_store_rows_rebind(struct ng_store_rows *r, const struct ng_store_arg *args,
                         size_t nargs) NG_MUST_CHECK;
/* 1: a row is current; 0: no more rows; a negative errno. */
int ng_store_rows_next(struct ng_store_rows *r) NG_MUST_CHECK;
void ng_store_rows_close(struct ng_store_rows *r);
/* One read transaction around several queries, so they see one snapshot of
 * the store (WAL readers are not blocked by recorders, nor block them). */
int ng_store_snapshot_begin(struct ng_store *s) NG_MUST_CHECK;
void ng_store_snapshot_end(struct ng_store *s);
/* Whether query q returns a row: 1, 0, or a negative errno. */
int ng_store_rows_exists(struct ng_store *s, enum ng_store_query q, const struct ng_store_arg *args,
                         size_t nargs) NG_MUST_CHECK;

/* The current row, column col. The type tests never convert a value; the
 * getters return 0 / NULL for a value of another storage class. */
int ng_store_row_is_null(const struct ng_store_rows *r, int col);
int ng_store_row_is_int(const struct ng_store_rows *r, int col);
int ng_store_row_is_blob(const struct ng_store_rows *r, int col, int len); /* len < 0: any */
int ng_store_row_is_text(const struct ng_store_rows *r, int col);
int64_t ng_store_row_int(const struct ng_store_rows *r, int col);
const void *ng_store_row_blob(const struct ng_store_rows *r, int col);
const char *ng_store_row_text(const struct ng_store_rows *r, int col);
size_t ng_store_row_len(const struct ng_store_rows *r, int col);
/* The index of the column named name, or -1. */
int ng_store_row_col(const struct ng_store_rows *r, const char *name);
/* The current row as the export's evidence carries it (export.h): its
 * column count, each column's name (NULL when out of memory) and storage
 * class (NG_HC_*), and a REAL's value (0 for another class). */
int ng_store_row_count(const struct ng_store_rows *r);
const char *ng_store_row_name(const struct ng_store_rows *r, int col);
int ng_store_row_class(const struct ng_store_rows *r, int col);
double ng_store_row_real(const struct ng_store_rows *r, int col);

/* NG_Q_HEADER: the header hash recomputed over the current row (chain.h). */
int ng_store_row_header_hash(const struct ng_store_rows *r, uint8_t out[NG_HASH_LEN]) NG_MUST_CHECK;

/* Event data held in blocks (schema 5, docs/store.md): a session's blocks
 * in seq order, decompressed one at a time (one batch, at most
 * NG_STORE_BATCH_BYTES). For each event row whose block_len is not NULL, in
 * seq order, take gives its block_len bytes (valid until the next take).
 * -EBADMSG when the blocks do not hold exactly those bytes (why says what):
 * a block that is not one zstd frame of its raw_len, an event in no block, a
 * block starting before its first event, bytes or seqs of a block no event
 * takes (checked when the next block is needed, and by finish after the
 * last event), a block after the last one used. A store without blocks
 * (schema < 8) has none: any take fails. */
struct ng_store_blocks;
int ng_store_blocks_open(struct ng_store *s, const uint8_t id[NG_STORE_ID_LEN],
                         struct ng_store_blocks **ret) NG_MUST_CHECK;
/* The same from the block whose first event is from on (a reader resuming
 * a session at a block's start). */
int ng_store_blocks_open_from(struct ng_store *s, const uint8_t id[NG_STORE_ID_LEN], int64_t from,
                              struct ng_store_blocks **ret) NG_MUST_CHECK;
int ng_store_blocks_take(struct ng_store_blocks *b, int64_t seq, size_t len,
                         const uint8_t **ret) NG_MUST_CHECK;
/* next_seq: the seq after the session's last event. Blocks after the last
 * one used are looked for only when the session has ended (ended != 0): a
 * session still recording commits batches while it is read, and the blocks
 * query may see a batch the events query began too early to see. */
int ng_store_blocks_finish(struct ng_store_blocks *b, int64_t next_seq, int ended) NG_MUST_CHECK;
const char *ng_store_blocks_why(const struct ng_store_blocks *b);
/* The seq a failure concerns: the event asked for, or the first seq of the
 * block that does not match its events. */
int64_t ng_store_blocks_bad_seq(const struct ng_store_blocks *b);
void ng_store_blocks_close(struct ng_store_blocks *b);

#endif
