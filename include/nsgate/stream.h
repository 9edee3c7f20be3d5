/* The evidence stream (docs/integrity.md "The evidence stream", cli.md
 * "export --follow", "verify --jsonl"): a store's covered rows as JSON lines,
 * written as they are sealed, so that a collector off the host holds the
 * evidence and can verify it without the store.
 *
 * Every line is one record, an object with "type", "root" (the first 16
 * hex digits of the root key the evidence is sealed under: which host's
 * stream the line belongs to when collectors merge many) and "store" (16
 * hex digits the follower picked at random for the store file it reads: a
 * store rotated under the same keys starts a new ledger, which is verified
 * apart from the old one's). Integers are
 * decimal strings (nanosecond times pass 2^53, where many JSON readers round
 * numbers); hashes, keys and signatures hex; event data base64:
 *   root    {"key": HEX, "epoch_len_ns": N}          the roots row
 *   cert    {"root_pk": HEX, "epoch", "start_ns", "pubkey", "signature"}
 *   session {"session": UUID, "header": [[column, class, value], ...]}
 *           the sessions row as stored (export.h "evidence")
 *   event   {"session", "seq", "t_ns", "kind", "data", "hash"}
 *   seal    {"session": UUID or "ledger", "sealno", "seq", "head",
 *            "prev_seal", "wall_ns", "boot_ns", "epoch", "signature"}
 *   ledger  {"seq", "session", "kind", "wall_ns", "event_seq", "value", "hash"}
 * A value the store holds with another storage class than its schema says
 * is written as null (the verifier's "malformed").
 *
 * Order: a certificate before any seal of its epoch; a session's header,
 * then its events, each batch followed by the seals that cover it; the
 * ledger's entries after the sessions they name, then the ledger's seals.
 * Only sealed rows are written, never an unsealed tail, so every cut
 * between two polls verifies on its own. */
#ifndef NSGATE_STREAM_H
#define NSGATE_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "nsgate/export.h"
#include "nsgate/fskey.h"
#include "nsgate/store.h"
#include "nsgate/util.h"

/* ---- the follower (export --follow) ------------------------------------ */

struct ng_stream;

/* A follower of the store's evidence under root: of one session (session
 * not NULL), until it has ended and its last seal is written; or of every
 * session, the ledger with them, for as long as it is polled. */
int ng_stream_new(const uint8_t root[NG_FSKEY_PK_BYTES], const uint8_t *session,
                  struct ng_stream **ret) NG_MUST_CHECK;
void ng_stream_free(struct ng_stream *st);

/* Write what was sealed since the last poll, from one snapshot of s (a
 * store opened read-only). *wrote: records written. A session whose rows
 * cannot be read (-EBADMSG: a damaged store) is left, and *bad counts it:
 * the rest goes on, and the verifier reports what the stream lacks. */
int ng_stream_poll(struct ng_stream *st, struct ng_store *s, ng_export_write_fn write, void *warg,
                   size_t *wrote, size_t *bad) NG_MUST_CHECK;
/* 1 when following one session and it is complete. */
int ng_stream_done(const struct ng_stream *st);
/* The store file followed (device, inode), kept in the cursor: a cursor of
 * another file (the store was rotated while no follower ran) is not
 * applied to this one. */
void ng_stream_set_origin(struct ng_stream *st, uint64_t dev, uint64_t ino);
int ng_stream_origin_is(const struct ng_stream *st, uint64_t dev, uint64_t ino);

/* The position as a cursor (text, malloc'd), with the output's length
 * after the poll: a follower restarted with it writes each record once. */
int ng_stream_save(const struct ng_stream *st, uint64_t out_len, char **ret,
                   size_t *ret_len) NG_MUST_CHECK;
/* Take the position from a cursor: -EINVAL when malformed, -ESRCH when it
 * belongs to another root key or another session (or mode). */
int ng_stream_load(struct ng_stream *st, const char *text, size_t len,
                   uint64_t *out_len) NG_MUST_CHECK;

/* ---- the reader (verify --jsonl) ---------------------------------------- */

/* What a record says that cannot be stored, for the session it names (zero
 * ID: the ledger, or a line naming nothing). */
struct ng_stream_finding {
    uint8_t id[NG_STORE_ID_LEN];
    int64_t seq;
    char what[160];
};

/* One group per root key seen: its records rebuilt into a scratch store. */
struct ng_stream_group {
    char root16[17];
    char store16[17];                /* "" for an export file's group */
    uint8_t root[NG_FSKEY_PK_BYTES]; /* from its root record (untrusted) */
    int have_root;
    char *db; /* the scratch store's path */
    int has_ledger, records;
    int key_records; /* root and certificate records stored */
    struct ng_stream_finding *findings;
    size_t nfindings;
};

struct ng_stream_reader;

/* Scratch stores go into dir (private to the caller). */
int ng_stream_reader_new(const char *dir, struct ng_stream_reader **ret) NG_MUST_CHECK;
/* One line (without its newline); where: "FILE:LINE" for findings. A line
 * that is not a record is a finding, never an error; errors are I/O. */
int ng_stream_reader_line(struct ng_stream_reader *rd, const char *line, size_t len,
                          const char *where) NG_MUST_CHECK;
/* Finish the imports: the groups (owned by rd), and the findings of lines
 * that named no root. */
int ng_stream_reader_finish(struct ng_stream_reader *rd, struct ng_stream_group **ret,
                            size_t *n) NG_MUST_CHECK;
const struct ng_stream_finding *ng_stream_reader_orphans(const struct ng_stream_reader *rd,
                                                         size_t *n);
/* Remove the scratch stores and free. */
void ng_stream_reader_free(struct ng_stream_reader *rd);

#endif
